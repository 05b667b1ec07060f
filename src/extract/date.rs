//! Dates as printed on Chinese portals (`2022年10月18日 10:39:26`,
//! `2023-03-05 09:12`, `2021/7/9`, `2019.06.12 15:30`, ISO 8601) → RFC 3339
//! with an offset. A date without an offset takes the rule's time zone; a
//! date without a time is midnight of that day.
//!
//! Digits are ASCII or full-width (`２０１９年３月５日`, common in typeset
//! Chinese); no other script's digits are read as a date. Every value this
//! module returns is valid RFC 3339 with an offset within ±14:00: an offset
//! outside that range (`2007-08-20-23:59:59` once read as a date at
//! `-23:59`) is not an offset, and the date takes the rule's zone instead.

use std::sync::LazyLock;

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use regex::Regex;

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    // `D` stands for a digit, ASCII or full-width (`\d` would take every
    // script's digits, which `number` cannot read).
    let re = r"(?x)
        (?P<y>(?:19|20|１９|２０)D{2}) \s* (?:年|[-/.]) \s* (?P<mo>D{1,2}) \s* (?:月|[-/.]) \s* (?P<d>D{1,2}) (?:\s*日)?
        (?: (?:\s+|T|-|\s*(?:日)?) (?P<h>D{1,2}) \s* [:时：] \s* (?P<mi>D{1,2})
            (?: \s* [:分：] \s* (?P<s>D{1,2}) (?:\.D+)? )? \s* (?:秒|分)? )?
        (?: \s* (?P<tz>Z|[+-]D{2}[:：]?D{2}) )?";
    Regex::new(&re.replace('D', "[0-9０-９]")).expect("date regex")
});

/// A number in ASCII or full-width digits.
fn number(s: &str) -> Option<i64> {
    s.chars().try_fold(0i64, |n, c| {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            '０'..='９' => c as u32 - '０' as u32,
            _ => return None,
        };
        n.checked_mul(10)?.checked_add(i64::from(d))
    })
}

const EN_DATE_PATTERN: &str = r"(?ix)
    \b(?:(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?
       | (?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon2>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?)
    \s+(?P<y>(?:19|20)\d{2})\b";

static EN_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(EN_DATE_PATTERN).expect("English date regex"));

/// [`EN_DATE`] without its word boundaries: it matches wherever `EN_DATE`
/// does (and more), and runs on the fast engine. A Unicode `\b` stops
/// regex's DFA at the first non-ASCII byte, so on Chinese text `EN_DATE`
/// alone ran the backtracker over every line that holds no numeric date.
static EN_DATE_LOOSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&EN_DATE_PATTERN.replace(r"\b", "")).expect("English date regex"));

/// A date found in text: its RFC 3339 form and where it stood.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub rfc3339: String,
    pub start: usize,
    pub end: usize,
}

/// The first plausible date in `text`: numeric forms, else English ones
/// (`March 3, 2024`, `3 Mar 2024`).
pub fn find(text: &str, tz: &TimeZone) -> Option<Found> {
    find_numeric(text, tz).or_else(|| find_english(text, tz))
}

fn find_english(text: &str, tz: &TimeZone) -> Option<Found> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if !EN_DATE_LOOSE.is_match(text) {
        return None;
    }
    for c in EN_DATE.captures_iter(text) {
        let m = c.get(0).expect("whole match");
        let mon = c
            .name("mon")
            .or(c.name("mon2"))?
            .as_str()
            .to_ascii_lowercase();
        let mo = MONTHS.iter().position(|x| mon.starts_with(x))? as i64 + 1;
        let d = c.name("d").or(c.name("d2"))?.as_str().parse().ok()?;
        let y = c["y"].parse().ok()?;
        if let Some(rfc) = to_rfc3339(y, mo, d, 0, 0, 0, None, tz) {
            return Some(Found {
                rfc3339: rfc,
                start: m.start(),
                end: m.end(),
            });
        }
    }
    None
}

fn find_numeric(text: &str, tz: &TimeZone) -> Option<Found> {
    for c in DATE.captures_iter(text) {
        let m = c.get(0).expect("whole match");
        // A digit right before the year means we matched inside a number.
        if text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|ch| ch.is_ascii_digit())
        {
            continue;
        }
        let num = |k: &str| c.name(k).map(|v| number(v.as_str()).unwrap_or(-1));
        let (y, mo, d) = (num("y")?, num("mo")?, num("d")?);
        let (h, mi, s) = (
            num("h").unwrap_or(0),
            num("mi").unwrap_or(0),
            num("s").unwrap_or(0),
        );
        let Some(rfc) = to_rfc3339(y, mo, d, h, mi, s, c.name("tz").map(|t| t.as_str()), tz) else {
            continue;
        };
        return Some(Found {
            rfc3339: rfc,
            start: m.start(),
            end: m.end(),
        });
    }
    None
}

/// A date printed without its year (`04-16 10:30`, `4月16日 10:30`): the
/// year comes only from the page's own evidence, see [`with_year`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthDay {
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

/// A year-less date with its time (`04-16 10:30`), or written with 月 and 日
/// (`4月16日`): a bare `04-16` is too often something else.
pub fn find_month_day(text: &str) -> Option<(MonthDay, usize, usize)> {
    static MD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?x)(?:^|[^0-9/.\-])
            (?P<all> (?P<mo>[0-9]{1,2}) \s* (?P<sep>月|[-/]) \s* (?P<d>[0-9]{1,2}) \s* (?P<ri>日)?
              (?: \s* (?P<h>[0-9]{1,2}) \s* [:：] \s* (?P<mi>[0-9]{2}) (?: \s* [:：] \s* (?P<s>[0-9]{2}) )? )? )
            (?:$|[^0-9])",
        )
        .expect("month-day regex")
    });
    for c in MD.captures_iter(text) {
        let written = &c["sep"] == "月" && c.name("ri").is_some();
        if c.name("h").is_none() && !written {
            continue;
        }
        let n = |k: &str| c.name(k).and_then(|m| number(m.as_str()));
        let md = MonthDay {
            month: n("mo")?,
            day: n("d")?,
            hour: n("h").unwrap_or(0),
            minute: n("mi").unwrap_or(0),
            second: n("s").unwrap_or(0),
        };
        let all = c.name("all").expect("group");
        if (1..=12).contains(&md.month) && (1..=31).contains(&md.day) && md.hour < 24 {
            return Some((md, all.start(), all.end()));
        }
    }
    None
}

/// The year of a year-less date from the page's own evidence, never the
/// clock: the machine date (meta, JSON-LD) when it is of the same month and
/// day (then its precision wins too), else a year in the URL path
/// (`/2024/04/`). Returns the date and which evidence gave the year.
pub fn with_year(
    md: MonthDay,
    machine: Option<&str>,
    url_path: &str,
    tz: &TimeZone,
) -> Option<(String, &'static str)> {
    if let Some(m) = machine
        && let (Some(y), Some(mo), Some(d)) = (
            m.get(..4).and_then(number),
            m.get(5..7).and_then(number),
            m.get(8..10).and_then(number),
        )
        && (mo, d) == (md.month, md.day)
    {
        let own = to_rfc3339(y, mo, d, md.hour, md.minute, md.second, None, tz)?;
        return Some((refine(own, Some(m)), "text+meta"));
    }
    static YEAR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"/((?:19|20)[0-9]{2})(?:/|[-_]|(?:0[1-9]|1[0-2])(?:/|[-_.]|[0-3][0-9]))")
            .expect("URL year regex")
    });
    let y = number(&YEAR.captures(url_path)?[1])?;
    let rfc = to_rfc3339(y, md.month, md.day, md.hour, md.minute, md.second, None, tz)?;
    Some((rfc, "text+url"))
}

/// A dateline opening the body (`Feb. 23, 2015 -- Life-threatening…`,
/// `2019年2月27日下午，…`): the date that starts one of the first lines. Only
/// a fallback: when the header prints a date, the opening's date is the
/// event's, and the line is body either way.
pub fn dateline(first_lines: &[&str], tz: &TimeZone) -> Option<String> {
    first_lines.iter().find_map(|line| {
        let f = find(line, tz)?;
        line[..f.start]
            .chars()
            .all(|c| c.is_whitespace() || "(（【[".contains(c))
            .then_some(f.rfc3339)
    })
}

/// Parses a whole machine-readable date (JSON-LD, meta, `<time datetime>`).
pub fn parse(text: &str, tz: &TimeZone) -> Option<String> {
    find(text.trim(), tz).map(|f| f.rfc3339)
}

/// A printed date without a time (midnight) takes the time of a machine
/// date (meta, JSON-LD) of the same day: same fact, more precise.
pub fn refine(visible: String, machine: Option<&str>) -> String {
    match machine {
        Some(m) if visible.get(10..19) == Some("T00:00:00") && m.get(..10) == visible.get(..10) => {
            m.to_string()
        }
        _ => visible,
    }
}

#[allow(clippy::too_many_arguments)]
fn to_rfc3339(
    y: i64,
    mo: i64,
    d: i64,
    h: i64,
    mi: i64,
    s: i64,
    offset: Option<&str>,
    tz: &TimeZone,
) -> Option<String> {
    if !(1990..=2100).contains(&y) {
        return None;
    }
    let dt = DateTime::new(
        y as i16,
        i8::try_from(mo).ok()?,
        i8::try_from(d).ok()?,
        i8::try_from(h).ok()?,
        i8::try_from(mi).ok()?,
        i8::try_from(s).ok()?,
        0,
    )
    .ok()?;
    let zone = match offset {
        Some("Z") => TimeZone::UTC,
        Some(o) => match offset_seconds(o) {
            Some(secs) => TimeZone::fixed(Offset::from_seconds(secs).ok()?),
            None => tz.clone(),
        },
        None => tz.clone(),
    };
    let z = dt.to_zoned_datetime(zone).ok()?;
    Some(z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// `+08:00`, `-0500`, `＋０８：００` → seconds east of UTC; `None` for what
/// no zone uses (beyond ±14:00, minutes past 59).
fn offset_seconds(o: &str) -> Option<i32> {
    // The regex admits exactly four digits (`hhmm`), ASCII or full-width.
    let digits: Vec<i32> = o
        .chars()
        .filter_map(|c| number(c.encode_utf8(&mut [0; 4])))
        .filter_map(|d| i32::try_from(d).ok())
        .collect();
    let [h1, h2, m1, m2] = digits[..] else {
        return None;
    };
    let (hh, mm) = (h1 * 10 + h2, m1 * 10 + m2);
    if mm > 59 || hh * 60 + mm > 14 * 60 {
        return None;
    }
    let sign = if o.starts_with('-') { -1 } else { 1 };
    Some(sign * (hh * 3600 + mm * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let sh = TimeZone::get("Asia/Shanghai").unwrap();
        let f = |s: &str| find(s, &sh).map(|f| f.rfc3339);
        assert_eq!(
            f("2022年10月18日 10:39:26闵行招商").as_deref(),
            Some("2022-10-18T10:39:26+08:00")
        );
        assert_eq!(
            f("发布时间:2021/7/9").as_deref(),
            Some("2021-07-09T00:00:00+08:00")
        );
        assert_eq!(
            f("2023-03-05 09:12 来源").as_deref(),
            Some("2023-03-05T09:12:00+08:00")
        );
        assert_eq!(
            f("2019.06.12 15:30 作者").as_deref(),
            Some("2019-06-12T15:30:00+08:00")
        );
        assert_eq!(
            f("2024-05-20T14:30:00+08:00").as_deref(),
            Some("2024-05-20T14:30:00+08:00")
        );
        assert_eq!(
            f("2024-05-20T06:30:00Z").as_deref(),
            Some("2024-05-20T06:30:00+00:00")
        );
        assert_eq!(
            f("2022年10月18日10时39分").as_deref(),
            Some("2022-10-18T10:39:00+08:00")
        );
        assert_eq!(f("电话 12022-10-18"), None);
        // Full-width digits, in the date and in its offset.
        assert_eq!(
            f("２０１９年３月５日 １０：３０").as_deref(),
            Some("2019-03-05T10:30:00+08:00")
        );
        assert_eq!(
            f("2019-03-05T10:30:00+０５：３０").as_deref(),
            Some("2019-03-05T10:30:00+05:30")
        );
        // A time after a dash, not an offset of -23:59.
        assert_eq!(
            f("2007-08-20-23:59:59").as_deref(),
            Some("2007-08-20T23:59:59+08:00")
        );
        // An offset no zone has is not one.
        assert_eq!(
            f("2007-08-20 10:00 -2359").as_deref(),
            Some("2007-08-20T10:00:00+08:00")
        );
        assert_eq!(
            f("2007-08-20T10:00:00+14:00").as_deref(),
            Some("2007-08-20T10:00:00+14:00")
        );
        // Other scripts' digits are not read as dates.
        assert_eq!(f("٢٠١٩-٠٣-٠٥"), None);
        assert_eq!(f("2022-13-45"), None);
        assert_eq!(
            f("Published March 3, 2024 |").as_deref(),
            Some("2024-03-03T00:00:00+08:00")
        );
        assert_eq!(
            f("on 3 Sept. 2024").as_deref(),
            Some("2024-09-03T00:00:00+08:00")
        );
    }
}
#[cfg(test)]
mod month_day_tests {
    use super::*;
    #[test]
    fn year_from_the_page_only() {
        let sh = TimeZone::get("Asia/Shanghai").unwrap();
        let (md, s, e) = find_month_day("发布时间：04-16 10:30 来源").unwrap();
        assert_eq!((md.month, md.day, md.hour, md.minute), (4, 16, 10, 30));
        assert_eq!(&"发布时间：04-16 10:30 来源"[s..e], "04-16 10:30");
        assert!(find_month_day("4月16日").is_some());
        // A bare `04-16`, a phone number, a full date are not year-less dates.
        assert_eq!(find_month_day("编号 04-16"), None);
        assert_eq!(find_month_day("2024-04-16 10:30").map(|m| m.0.month), None);
        assert_eq!(
            with_year(md, None, "/xwzx/2024/04/t0416_1.html", &sh),
            Some(("2024-04-16T10:30:00+08:00".into(), "text+url"))
        );
        assert_eq!(
            with_year(md, Some("2023-04-16T10:30:12+08:00"), "/a/1.html", &sh),
            Some(("2023-04-16T10:30:00+08:00".into(), "text+meta"))
        );
        assert_eq!(
            dateline(&["Feb. 23, 2015 -- Life-threatening peanut allergies"], &sh).as_deref(),
            Some("2015-02-23T00:00:00+08:00")
        );
        assert_eq!(dateline(&["据报道，2015年2月23日发生"], &sh), None);
        // No evidence: no year, no date.
        assert_eq!(
            with_year(md, Some("2023-05-01T00:00:00+08:00"), "/a/1.html", &sh),
            None
        );
    }
}

#[cfg(test)]
mod refine_tests {
    use super::*;
    #[test]
    fn refine_takes_time_of_same_day() {
        let sh = TimeZone::get("Asia/Shanghai").unwrap();
        let m = parse("2023-03-05 16:02", &sh);
        assert_eq!(m.as_deref(), Some("2023-03-05T16:02:00+08:00"));
        assert_eq!(
            refine("2023-03-05T00:00:00+08:00".into(), m.as_deref()),
            "2023-03-05T16:02:00+08:00"
        );
    }
}
