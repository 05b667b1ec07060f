//! Field-level scoring for the extract benchmark's readability and zh-news
//! tables: titles, bylines and dates against hand-checked truth, sentences and
//! leaks against a text, and the visible text of an expected-content page.
//!
//! Comparisons read text after NFKC (full-width digits and colons, compatibility
//! forms) so that an extractor is not marked wrong for a character variant the
//! reader cannot see. NFKC comes from `icu_normalizer`, already built into
//! parkcrawl under `url` (IDNA), so no crate is added for it.

use std::sync::LazyLock;

use icu_normalizer::ComposingNormalizerBorrowed;
use jiff::SignedDuration;
use jiff::civil::{Date, DateTime, Time};
use regex::Regex;

/// NFKC, then every whitespace character removed: the zh-news comparison form
/// (its README: "exact after NFKC and whitespace removal").
pub fn nfkc_compact(s: &str) -> String {
    let n = ComposingNormalizerBorrowed::new_nfkc().normalize(s);
    n.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Runs of whitespace as one space, trimmed.
pub fn squash_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Titles equal after NFKC and whitespace removal; an empty title never matches.
pub fn title_matches(truth: &str, predicted: &str) -> bool {
    let t = nfkc_compact(truth);
    !t.is_empty() && t == nfkc_compact(predicted)
}

/// Titles equal after whitespace squashing, or equal but for a trailing part
/// after a separator (`Headline | Site`, `Headline - Section`) on either
/// side: Readability's `title` often keeps the site's suffix where a record's
/// title is the headline alone, and the suffix is not what is being judged.
pub fn title_matches_but_suffix(truth: &str, predicted: &str) -> bool {
    let (t, p) = (squash_ws(truth), squash_ws(predicted));
    if t.is_empty() || p.is_empty() {
        return false;
    }
    let suffixed = |long: &str, short: &str| {
        long.strip_prefix(short).is_some_and(|rest| {
            let rest = rest.trim_start();
            rest.starts_with(['|', '-', '–', '—', '_', '·', ':', '«', '»'])
        })
    };
    t == p || suffixed(&t, &p) || suffixed(&p, &t)
}

/// Names (author, byline, source) equal or one containing the other, after
/// NFKC, whitespace removal and lower-casing; both must be non-empty.
pub fn name_matches(truth: &str, predicted: &str) -> bool {
    let t = nfkc_compact(truth).to_lowercase();
    let p = nfkc_compact(predicted).to_lowercase();
    !t.is_empty() && !p.is_empty() && (t.contains(&p) || p.contains(&t))
}

/// `needle` occurs in `text`, both read in the NFKC compact form (so line
/// breaks and spacing inside a sentence do not matter). Empty never occurs.
pub fn found_in(text_compact: &str, needle: &str) -> bool {
    let n = nfkc_compact(needle);
    !n.is_empty() && text_compact.contains(&n)
}

/// A date as an extractor or a truth file writes it: the calendar day, the
/// time to the minute if given, and the UTC offset in seconds if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub date: Date,
    pub time: Option<Time>,
    pub offset: Option<i32>,
}

static STAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?
          (?:\s*T?\s*(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2}))?(?:\.\d+)?
             \s*(Z|[+-]\d{2}:?\d{2})?)?",
    )
    .expect("stamp pattern compiles")
});

/// Reads the first date in `s`: `2019-09-07`, `2019/9/7 13:43`,
/// `2019年09月07日 13:43:45`, RFC 3339 with `Z` or `±hh:mm` / `±hhmm`.
/// Full-width digits read as digits (NFKC first). `None` when there is none
/// or it is not a real day.
pub fn parse_stamp(s: &str) -> Option<Stamp> {
    let s = ComposingNormalizerBorrowed::new_nfkc().normalize(s);
    let c = STAMP.captures(&s)?;
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<i16>().ok());
    let date = Date::new(
        num(1)?,
        i8::try_from(num(2)?).ok()?,
        i8::try_from(num(3)?).ok()?,
    )
    .ok()?;
    let time = match (num(4), num(5)) {
        (Some(h), Some(m)) => {
            let sec = num(6).unwrap_or(0);
            Some(
                Time::new(
                    h.try_into().ok()?,
                    m.try_into().ok()?,
                    sec.try_into().ok()?,
                    0,
                )
                .ok()?,
            )
        }
        _ => None,
    };
    let offset = c.get(7).and_then(|m| parse_offset(m.as_str()));
    Some(Stamp { date, time, offset })
}

fn parse_offset(s: &str) -> Option<i32> {
    if s == "Z" {
        return Some(0);
    }
    let sign = if s.starts_with('-') { -1 } else { 1 };
    // The sign is dropped with the other non-digits.
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4)?.parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// How a predicted date compares with the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateVerdict {
    /// The same calendar day.
    pub day: bool,
    /// The same minute; `None` when the truth gives no time.
    pub minute: Option<bool>,
}

/// Compares dates on the truth's clock: when the prediction has a time and
/// an offset, and the truth has an offset (its own, or `truth_offset`, e.g.
/// Beijing time for zh-news), the prediction is moved to the truth's offset
/// first; otherwise both are read as written.
pub fn compare_dates(truth: &Stamp, predicted: &Stamp, truth_offset: Option<i32>) -> DateVerdict {
    let to = truth.offset.or(truth_offset);
    let (date, time) = match (predicted.time, predicted.offset, to) {
        (Some(t), Some(from), Some(to)) => {
            let moved = DateTime::from_parts(predicted.date, t)
                .checked_add(SignedDuration::from_secs(i64::from(to - from)))
                .unwrap_or(DateTime::from_parts(predicted.date, t));
            (moved.date(), Some(moved.time()))
        }
        _ => (predicted.date, predicted.time),
    };
    let minute = truth.time.map(|tt| {
        time.is_some_and(|pt| {
            date == truth.date && pt.hour() == tt.hour() && pt.minute() == tt.minute()
        })
    });
    DateVerdict {
        day: date == truth.date,
        minute,
    }
}

/// The visible text of an HTML page or fragment: its text nodes, with a line
/// break around every block-level element (so words of adjacent paragraphs do
/// not run together) and nothing from `script`, `style`, `template` or
/// `noscript`.
pub fn visible_text(html: &str) -> String {
    use ego_tree::iter::Edge;
    use scraper::Node;
    let doc = scraper::Html::parse_document(html);
    let mut out = String::new();
    let mut hidden = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) if is_hidden(e.name()) => hidden += 1,
                Node::Element(e) if hidden == 0 && is_block(e.name()) => out.push('\n'),
                Node::Text(t) if hidden == 0 => out.push_str(t),
                _ => {}
            },
            Edge::Close(node) => match node.value() {
                Node::Element(e) if is_hidden(e.name()) => hidden -= 1,
                Node::Element(e) if hidden == 0 && is_block(e.name()) => out.push('\n'),
                _ => {}
            },
        }
    }
    out
}

fn is_hidden(name: &str) -> bool {
    matches!(name, "script" | "style" | "template" | "noscript" | "head")
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "br"
            | "dd"
            | "details"
            | "div"
            | "dl"
            | "dt"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "td"
            | "th"
            | "tr"
            | "ul"
            | "caption"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(s: &str) -> Stamp {
        parse_stamp(s).unwrap_or_else(|| panic!("{s} parses"))
    }

    #[test]
    fn titles_match_after_nfkc_and_whitespace_removal() {
        // Full-width letters, digits and punctuation; an ideographic space.
        assert!(title_matches(
            "奖金711万元！\"中国诺贝尔奖\"",
            "奖金７１１万元!　＂中国诺贝尔奖＂"
        ));
        assert!(!title_matches(
            "姚明对周琦说了啥",
            "姚明对周琦说了啥_网易体育"
        ));
        assert!(!title_matches("", ""));
    }

    #[test]
    fn titles_match_but_for_a_site_suffix_after_a_separator() {
        assert!(title_matches_but_suffix(
            "How to Build a Terrarium | eHow",
            "How to  Build a Terrarium"
        ));
        assert!(title_matches_but_suffix(
            "On Events",
            "On Events - Bradley M. Kuhn"
        ));
        assert!(title_matches_but_suffix("A title", "A title"));
        // A longer headline is not a suffix: no separator.
        assert!(!title_matches_but_suffix(
            "How we designed ATF",
            "How we designed"
        ));
        assert!(!title_matches_but_suffix("", ""));
    }

    #[test]
    fn names_match_by_containment_either_way() {
        assert!(name_matches("人民网-文化频道", "人民网"));
        assert!(name_matches("Nicolas Perriault", "By nicolas perriault"));
        assert!(!name_matches("新京报", ""));
        assert!(!name_matches("新京报", "网易"));
    }

    #[test]
    fn stamps_read_chinese_iso_and_full_width_forms() {
        let s = stamp("发布时间：2019年09月07日 13:43:45 来源");
        assert_eq!(s.date, jiff::civil::date(2019, 9, 7));
        assert_eq!(s.time.map(|t| (t.hour(), t.minute())), Some((13, 43)));
        assert_eq!(s.offset, None);
        let s = stamp("２０１９－０９－０７　０９：５９");
        assert_eq!(s.time.map(|t| t.minute()), Some(59));
        assert_eq!(stamp("2021-11-01T10:52:50+0100").offset, Some(3600));
        assert_eq!(stamp("2019-01-03T07:00:02.000Z").offset, Some(0));
        assert_eq!(stamp("2016/11/22").time, None);
        assert_eq!(parse_stamp("2019-02-30"), None);
        assert_eq!(parse_stamp("昨天"), None);
    }

    #[test]
    fn dates_compare_on_the_truths_clock() {
        let beijing = Some(8 * 3600);
        let truth = stamp("2019-09-08 00:20:15");
        // Written in UTC: the previous day there, the same minute in Beijing.
        let v = compare_dates(&truth, &stamp("2019-09-07T16:20:00Z"), beijing);
        assert_eq!(
            v,
            DateVerdict {
                day: true,
                minute: Some(true)
            }
        );
        // Read as written without a truth offset: another day.
        let v = compare_dates(&truth, &stamp("2019-09-07T16:20:00Z"), None);
        assert_eq!(
            v,
            DateVerdict {
                day: false,
                minute: Some(false)
            }
        );
        // The right day without a time: day only.
        let v = compare_dates(&truth, &stamp("2019-09-08"), beijing);
        assert_eq!(
            v,
            DateVerdict {
                day: true,
                minute: Some(false)
            }
        );
        // A truth without a time asks for the day only.
        let v = compare_dates(
            &stamp("2016-11-22"),
            &stamp("2016-11-22T09:53:00+08:00"),
            beijing,
        );
        assert_eq!(
            v,
            DateVerdict {
                day: true,
                minute: None
            }
        );
    }

    #[test]
    fn visible_text_separates_blocks_and_skips_scripts() {
        let t = visible_text("<div><p>One <b>bold</b>word</p><p>Two</p><script>x()</script></div>");
        assert_eq!(squash_ws(&t), "One boldword Two");
        assert!(found_in(&nfkc_compact(&t), "boldword Two"));
    }
}
