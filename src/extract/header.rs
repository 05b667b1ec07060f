//! The header line that fuses date, byline, source and view count
//! (`2022年10月18日 10:39:26闵行招商浏览量:1次`,
//! `发布时间:2021/7/9 来源:松江经委 点击:356`). The line is cut at its date
//! and its labels; each label's value runs to the next cut. Unlabelled text
//! beside the date is the byline. 责任编辑 and its kin are read and dropped:
//! an editor is never the author.

use jiff::tz::TimeZone;

use super::date;
use crate::rules::Labels;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Header {
    pub published_at: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
    pub views: Option<u64>,
    /// A date printed without its year (`04-16 10:30`); the cascade gives it
    /// a year from the page's own evidence, or drops it.
    pub month_day: Option<date::MonthDay>,
}

impl Header {
    /// How many facts the line gave.
    pub fn facts(&self) -> usize {
        self.published_at.is_some() as usize
            + self.author.is_some() as usize
            + self.source.is_some() as usize
            + self.views.is_some() as usize
            + self.month_day.is_some() as usize
    }

    /// Fills what `self` lacks from `other`.
    pub fn merge(&mut self, other: Header) {
        self.published_at = self.published_at.take().or(other.published_at);
        self.author = self.author.take().or(other.author);
        self.source = self.source.take().or(other.source);
        self.views = self.views.take().or(other.views);
        self.month_day = self.month_day.take().or(other.month_day);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cut {
    Date,
    Label(Role),
    Views(u64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Date,
    Source,
    Author,
    Views,
    Editor,
}

/// A place in the line where a value starts: the date, a label, a counter.
type Cuts = Vec<(usize, usize, Cut)>;

/// Reads a header line. None when the line is a clock bar (今天是…), holds
/// neither a date nor a label, or is a sentence (`2019年2月27日下午，…`: the
/// body's opening, whose date is the event's, not the page's). The line is
/// cut ([`cuts`]), each cut's value read ([`read_values`]); a line without a
/// labelled author gets an English `By …` byline, else the unlabelled text
/// beside the date ([`unlabelled`]).
pub fn parse(line: &str, labels: &Labels, tz: &TimeZone) -> Option<Header> {
    if labels.clock.iter().any(|re| re.is_match(line)) {
        return None;
    }
    let text = denoise(line, labels);
    let found = date::find(&text, tz);
    let month_day = match found {
        None => date::find_month_day(&text),
        Some(_) => None,
    };
    let mut cuts = cuts(&text, found.as_ref(), labels);
    if let Some((_, start, end)) = month_day {
        cuts.push((start, end, Cut::Date));
        cuts.sort_by_key(|c| c.0);
        cuts.dedup_by(|b, a| b.0 < a.1);
    }
    if cuts.is_empty() {
        return None;
    }
    let (mut h, byline) = read_values(&text, &cuts, labels);
    if byline.iter().any(|b| is_prose(b)) {
        return None;
    }
    h.published_at = found.map(|f| f.rfc3339);
    h.month_day = month_day.map(|m| m.0);
    if h.author.is_none() {
        h.author = english_byline(&text);
    }
    if h.author.is_none() {
        h.author = unlabelled(&byline, labels);
    }
    Some(h)
}

/// The line without its widget debris (字号 大中小, 打印, 分享到).
fn denoise(line: &str, labels: &Labels) -> String {
    let mut text = line.to_string();
    for re in &labels.noise {
        text = re.replace_all(&text, " ").into_owned();
    }
    text
}

/// Where values start, in order: the date, then view counters and labels
/// that do not overlap what is already cut.
fn cuts(text: &str, found: Option<&date::Found>, labels: &Labels) -> Cuts {
    let mut cuts: Cuts = Vec::new();
    if let Some(f) = found {
        cuts.push((f.start, f.end, Cut::Date));
    }
    let overlaps = |cuts: &Cuts, s: usize, e: usize| cuts.iter().any(|(a, b, _)| s < *b && *a < e);
    for c in labels.views_count.captures_iter(text) {
        let m = c.get(0).expect("match");
        let n: u64 = c["n"].replace(',', "").parse().unwrap_or(0);
        if !overlaps(&cuts, m.start(), m.end()) {
            cuts.push((m.start(), m.end(), Cut::Views(n)));
        }
    }
    for c in labels.marker.captures_iter(text) {
        let m = c.get(0).expect("match");
        let role = role_of(&c["label"], labels);
        if !overlaps(&cuts, m.start(), m.end()) {
            cuts.push((m.start(), m.end(), Cut::Label(role)));
        }
    }
    cuts.sort_by_key(|c| c.0);
    cuts
}

/// What a label introduces. Editor first: 责任编辑 must never read as a
/// byline, whatever other list also holds it.
fn role_of(label: &str, labels: &Labels) -> Role {
    let is = |list: &[String]| list.iter().any(|l| l == label);
    if is(&labels.editor) {
        Role::Editor
    } else if is(&labels.source) {
        Role::Source
    } else if is(&labels.author) {
        Role::Author
    } else if is(&labels.views) {
        Role::Views
    } else {
        Role::Date
    }
}

/// Each cut's value runs to the next cut. Labelled values fill the header;
/// unlabelled text (before the first cut, after the date or a counter) is
/// kept as byline candidates.
fn read_values(text: &str, cuts: &Cuts, labels: &Labels) -> (Header, Vec<String>) {
    let mut h = Header::default();
    let mut byline: Vec<String> = Vec::new();
    let lead = tidy(&text[..cuts[0].0]);
    if !lead.is_empty() {
        byline.push(lead);
    }
    for (i, &(_, end, cut)) in cuts.iter().enumerate() {
        let next = cuts.get(i + 1).map_or(text.len(), |c| c.0);
        let value = tidy(&text[end..next]);
        if value.is_empty() {
            if let Cut::Views(n) = cut {
                h.views = h.views.or(Some(n));
            }
            continue;
        }
        match cut {
            Cut::Views(n) => {
                h.views = h.views.or(Some(n));
                byline.push(value);
            }
            Cut::Date => byline.push(value),
            Cut::Label(Role::Source) => {
                let value = strip_trailing_ui(&strip_trailing_label(&value, &labels.views));
                h.source = h.source.take().or(Some(value).filter(|v| !v.is_empty()));
            }
            Cut::Label(Role::Author) => {
                let value = byline_name(&strip_trailing_label(&value, &labels.views));
                h.author = h.author.take().or(super::byline::valid(&value, &[]));
            }
            // A views label with no number after it: the counter is filled
            // in by script and not printed. Editors and date labels give
            // nothing here.
            Cut::Label(_) => {}
        }
    }
    (h, byline)
}

/// `By Jane Li` in an English header line.
fn english_byline(text: &str) -> Option<String> {
    static BY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?:^|[|｜•·,]\s*|\s)[Bb]y\s+(?P<n>\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){0,3})",
        )
        .unwrap()
    });
    // The regex's Unicode classes make a search costly; most lines have no
    // `by` at all.
    if !text.contains("by") && !text.contains("By") {
        return None;
    }
    BY.captures(text).map(|c| c["n"].to_string())
}

/// The first unlabelled candidate that reads as a byline and is not itself
/// a label (`来源:` left without its value).
fn unlabelled(byline: &[String], labels: &Labels) -> Option<String> {
    let is_label = |b: &str| {
        let b = b.trim_end_matches([':', '：']).trim();
        [
            &labels.date,
            &labels.source,
            &labels.author,
            &labels.views,
            &labels.editor,
        ]
        .iter()
        .any(|l| l.iter().any(|x| x == b))
    };
    byline
        .iter()
        .map(|b| byline_name(&strip_trailing_label(b, &labels.views)))
        .filter(|b| looks_like_byline(b) && !is_label(b))
        .find_map(|b| super::byline::valid(&b, &[]))
}

/// Text beside the date that is a sentence, not a byline: a header line
/// never holds one.
fn is_prose(s: &str) -> bool {
    let n = s.chars().count();
    (n >= 12 && s.contains(['，', '。', '；', '！', '？'])) || n > 60
}

/// A value followed by the line's widgets (`新京报 举报`, `青山日报 纠错`)
/// loses them: they are links beside the header, not part of the name.
fn strip_trailing_ui(value: &str) -> String {
    const UI: &[&str] = &["举报", "纠错", "收藏", "分享", "打印", "关注", "评论"];
    let mut v = value.trim().to_string();
    while let Some(rest) = UI.iter().find_map(|u| v.strip_suffix(u)) {
        if rest.trim().is_empty() {
            break;
        }
        v = tidy(rest);
    }
    v
}

/// A line of labels with no values (`浏览次数: 次` whose counter is filled
/// in by script): header debris.
pub fn only_labels(line: &str, labels: &Labels) -> bool {
    // Most lines are prose: one character that no label has settles it
    // before any regex runs.
    let debris = |c: char| {
        c.is_whitespace()
            || c.is_ascii_punctuation()
            || c.is_ascii_digit()
            || matches!(c, '次' | '人' | '：' | '【' | '】' | '\u{3000}')
            || labels.label_chars.binary_search(&c).is_ok()
    };
    if !line.chars().all(debris) {
        return false;
    }
    let rest = labels.marker.replace_all(line, "");
    let rest = labels.views_count.replace_all(&rest, "");
    let mut rest = rest.into_owned();
    for l in &labels.views {
        rest = rest.replace(l.as_str(), "");
    }
    let left = rest
        .chars()
        .filter(|c| {
            !(c.is_whitespace()
                || c.is_ascii_punctuation()
                || matches!(c, '次' | '人' | '：' | '【' | '】' | '\u{3000}'))
        })
        .count();
    left == 0 && line.chars().any(|c| !c.is_whitespace())
}

/// Trims separators and brackets around a header value.
fn tidy(s: &str) -> String {
    let t = crate::dom::normalize_ws(s);
    t.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '|' | '｜'
                    | '丨'
                    | '/'
                    | '·'
                    | '•'
                    | '-'
                    | '—'
                    | '【'
                    | '】'
                    | '['
                    | ']'
                    | '('
                    | ')'
                    | '（'
                    | '）'
                    | ','
                    | '，'
                    | ';'
                    | '；'
                    | '：'
                    | ':'
            )
    })
    .to_string()
}

/// A value that ends in a counter label whose number is filled in by script
/// (`临港新片区管委会 阅读`) loses the label.
fn strip_trailing_label(value: &str, labels: &[String]) -> String {
    let v = value.trim();
    for l in labels {
        if let Some(rest) = v.strip_suffix(l.as_str()) {
            return tidy(rest);
        }
    }
    v.to_string()
}

/// `文/周敏`, `记者 | 张三`, `作者 魏星` → the name (the one-character 文
/// only with its separator: 文 is also a surname).
fn byline_name(s: &str) -> String {
    static PREFIX: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^(?:(?:文|By|by)\s*[/／|｜:：]|(?:作者|记者|撰文|通讯员)\s*[/／|｜:：]?)\s*",
        )
        .unwrap()
    });
    PREFIX.replace(s.trim(), "").trim().to_string()
}

/// An unlabelled byline: a short name, not a number, not a sentence, not a
/// widget (`+收藏`, `分享`).
fn looks_like_byline(s: &str) -> bool {
    const UI: &[&str] = &[
        "收藏", "分享", "打印", "关注", "返回", "关闭", "字号", "评论", "点赞", "举报", "纠错",
    ];
    let n = s.chars().count();
    (2..=24).contains(&n)
        && s.chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '·' || c == '、' || c == '.')
        && !UI.iter().any(|u| s.contains(u))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn p(line: &str) -> Option<Header> {
        let rules = RuleSet::builtin().unwrap();
        parse(line, &rules.generic.labels, &rules.generic.timezone)
    }

    #[test]
    fn common_formats() {
        assert_eq!(
            p("2022年10月18日 10:39:26闵行招商浏览量:1次").unwrap(),
            Header {
                published_at: Some("2022-10-18T10:39:26+08:00".into()),
                author: Some("闵行招商".into()),
                source: None,
                views: Some(1),
                month_day: None,
            }
        );
        assert_eq!(
            p("2023-03-05 09:12 来源:上海市浦东新区人民政府 作者:张伟 浏览:235").unwrap(),
            Header {
                published_at: Some("2023-03-05T09:12:00+08:00".into()),
                author: Some("张伟".into()),
                source: Some("上海市浦东新区人民政府".into()),
                views: Some(235),
                month_day: None,
            }
        );
        let h = p("发布时间:2021/7/9 来源:松江经济技术开发区管委会 点击:356").unwrap();
        assert_eq!(h.source.as_deref(), Some("松江经济技术开发区管委会"));
        assert_eq!((h.views, h.author), (Some(356), None));
        let h = p("2019.06.12 15:30 作者:王强 阅读:88 责任编辑:李四").unwrap();
        assert_eq!((h.author.as_deref(), h.views), (Some("王强"), Some(88)));
        let h = p("发布日期:2023-03-05 信息来源:奉贤区经济委员会 字号:[大 中 小]").unwrap();
        assert_eq!(h.source.as_deref(), Some("奉贤区经济委员会"));
        assert_eq!(h.author, None);
        let h = p("时间:2020-01-02 责任编辑:李四 浏览量:").unwrap();
        assert_eq!((h.author, h.views), (None, None));
        assert_eq!(p("今天是2022年10月18日 星期二"), None);
        let h = p("By Jane Li | Published March 3, 2024 | Views: 1,203").unwrap();
        assert_eq!(
            (h.author.as_deref(), h.views),
            (Some("Jane Li"), Some(1203))
        );
        assert_eq!(h.published_at.as_deref(), Some("2024-03-03T00:00:00+08:00"));
        let rules = RuleSet::builtin().unwrap();
        assert!(only_labels("浏览次数： 次", &rules.generic.labels));
        assert!(!only_labels("浏览次数：12 次 园区", &rules.generic.labels));
    }

    #[test]
    fn pieces_cut_read_and_judge() {
        let rules = RuleSet::builtin().unwrap();
        let labels = &rules.generic.labels;
        let sh = &rules.generic.timezone;
        assert_eq!(role_of("责任编辑", labels), Role::Editor);
        assert_eq!(role_of("信息来源", labels), Role::Source);
        assert_eq!(role_of("作者", labels), Role::Author);
        assert_eq!(role_of("浏览量", labels), Role::Views);
        assert_eq!(role_of("发布时间", labels), Role::Date);
        assert_eq!(denoise("来源:某局 【打印】", labels).trim(), "来源:某局");

        let text = "2023-03-05 09:12 来源:某局 浏览:7";
        let found = date::find(text, sh);
        let c = cuts(text, found.as_ref(), labels);
        let kinds: Vec<Cut> = c.iter().map(|c| c.2).collect();
        assert_eq!(
            kinds,
            vec![Cut::Date, Cut::Label(Role::Source), Cut::Views(7)]
        );
        let (h, byline) = read_values(text, &c, labels);
        assert_eq!((h.source.as_deref(), h.views), (Some("某局"), Some(7)));
        assert!(byline.is_empty());

        assert_eq!(
            english_byline("By Jane Li | 2024").as_deref(),
            Some("Jane Li")
        );
        assert_eq!(english_byline("stand by me"), None);
        let cands = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            unlabelled(&cands(&["来源", "闵行招商"]), labels).as_deref(),
            Some("闵行招商")
        );
        assert_eq!(unlabelled(&cands(&["分享", "12345"]), labels), None);
    }

    #[test]
    fn sentences_ui_words_and_year_less_dates() {
        // The body's opening sentence is not a header line.
        assert_eq!(
            p("2024年4月15日下午，青山区召开制造业技术改造专项贷款签约会，首批12家企业现场签约。"),
            None
        );
        let h = p("2019-11-25 11:01:53　来源: 新京报 举报").unwrap();
        assert_eq!((h.source.as_deref(), h.author), (Some("新京报"), None));
        // Info-line verbs and labels are not the author; the name beside them is.
        let h = p("最后更新: 2019-09-07 09:27:48").unwrap();
        assert_eq!(h.author, None);
        let h =
            p("周岚 发表于 2024-03-02 14:05 最后更新: 2024-03-03 08:12:40 阅读数 1532").unwrap();
        assert_eq!(
            (h.author.as_deref(), h.published_at.as_deref(), h.views),
            (Some("周岚"), Some("2024-03-02T14:05:00+08:00"), Some(1532))
        );
        assert_eq!(
            p("作者：未知 责任编辑：棒棒不是糖").map(|h| h.author),
            Some(None)
        );
        let h =
            p("发布时间：04-16 10:30 来源：河西区纪委监委 通讯员：王芳 责任编辑：赵六").unwrap();
        assert_eq!(h.published_at, None);
        let md = h.month_day.unwrap();
        assert_eq!((md.month, md.day, md.hour, md.minute), (4, 16, 10, 30));
        assert_eq!(
            (h.source.as_deref(), h.author.as_deref()),
            (Some("河西区纪委监委"), Some("王芳"))
        );
    }
}
