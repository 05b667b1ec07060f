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
}

impl Header {
    /// How many facts the line gave.
    pub fn facts(&self) -> usize {
        self.published_at.is_some() as usize
            + self.author.is_some() as usize
            + self.source.is_some() as usize
            + self.views.is_some() as usize
    }

    /// Fills what `self` lacks from `other`.
    pub fn merge(&mut self, other: Header) {
        self.published_at = self.published_at.take().or(other.published_at);
        self.author = self.author.take().or(other.author);
        self.source = self.source.take().or(other.source);
        self.views = self.views.take().or(other.views);
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

/// Reads a header line. None when the line is a clock bar (今天是…) or holds
/// neither a date nor a label.
pub fn parse(line: &str, labels: &Labels, tz: &TimeZone) -> Option<Header> {
    if labels.clock.iter().any(|re| re.is_match(line)) {
        return None;
    }
    let mut text = line.to_string();
    for re in &labels.noise {
        text = re.replace_all(&text, " ").into_owned();
    }

    let mut cuts: Vec<(usize, usize, Cut)> = Vec::new();
    let found = date::find(&text, tz);
    if let Some(f) = &found {
        cuts.push((f.start, f.end, Cut::Date));
    }
    let overlaps = |cuts: &[(usize, usize, Cut)], s: usize, e: usize| {
        cuts.iter().any(|(a, b, _)| s < *b && *a < e)
    };
    for c in labels.views_count.captures_iter(&text) {
        let m = c.get(0).expect("match");
        let n: u64 = c["n"].replace(',', "").parse().unwrap_or(0);
        if !overlaps(&cuts, m.start(), m.end()) {
            cuts.push((m.start(), m.end(), Cut::Views(n)));
        }
    }
    for c in labels.marker.captures_iter(&text) {
        let m = c.get(0).expect("match");
        let label = &c["label"];
        let role = if labels.editor.iter().any(|l| l == label) {
            Role::Editor
        } else if labels.source.iter().any(|l| l == label) {
            Role::Source
        } else if labels.author.iter().any(|l| l == label) {
            Role::Author
        } else if labels.views.iter().any(|l| l == label) {
            Role::Views
        } else {
            Role::Date
        };
        if !overlaps(&cuts, m.start(), m.end()) {
            cuts.push((m.start(), m.end(), Cut::Label(role)));
        }
    }
    if cuts.is_empty() {
        return None;
    }
    cuts.sort_by_key(|c| c.0);

    let mut h = Header {
        published_at: found.map(|f| f.rfc3339),
        ..Default::default()
    };
    let mut byline: Vec<String> = Vec::new();
    let lead = tidy(&text[..cuts[0].0]);
    if !lead.is_empty() {
        byline.push(lead);
    }
    for (i, &(_, end, cut)) in cuts.iter().enumerate() {
        let next = cuts.get(i + 1).map_or(text.len(), |c| c.0);
        let value = tidy(&text[end..next]);
        match cut {
            Cut::Views(n) => {
                h.views = h.views.or(Some(n));
                if !value.is_empty() {
                    byline.push(value);
                }
            }
            Cut::Date => {
                if !value.is_empty() {
                    byline.push(value);
                }
            }
            Cut::Label(Role::Source) if !value.is_empty() => {
                let value = strip_trailing_label(&value, &labels.views);
                h.source = h.source.take().or(Some(value).filter(|v| !v.is_empty()));
            }
            Cut::Label(Role::Author) if !value.is_empty() => {
                let value = strip_trailing_label(&value, &labels.views);
                h.author = h
                    .author
                    .take()
                    .or(Some(byline_name(&value)).filter(|v| !v.is_empty()));
            }
            // A views label with no number after it: the counter is filled
            // in by script and not printed.
            Cut::Label(Role::Views) | Cut::Label(Role::Editor) | Cut::Label(Role::Date) => {}
            Cut::Label(_) => {}
        }
    }
    if h.author.is_none() {
        static BY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"(?:^|[|｜•·,]\s*|\s)[Bb]y\s+(?P<n>\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){0,3})").unwrap()
        });
        h.author = BY.captures(&text).map(|c| c["n"].to_string());
    }
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
    if h.author.is_none() {
        h.author = byline
            .iter()
            .map(|b| byline_name(&strip_trailing_label(b, &labels.views)))
            .find(|b| looks_like_byline(b) && !is_label(b));
    }
    Some(h)
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

/// `文/周敏`, `记者 | 张三` → the name.
fn byline_name(s: &str) -> String {
    static PREFIX: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(?:文|作者|记者|撰文|通讯员|By|by)\s*[/／|｜:：]\s*").unwrap()
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
                views: Some(1)
            }
        );
        assert_eq!(
            p("2023-03-05 09:12 来源:上海市浦东新区人民政府 作者:张伟 浏览:235").unwrap(),
            Header {
                published_at: Some("2023-03-05T09:12:00+08:00".into()),
                author: Some("张伟".into()),
                source: Some("上海市浦东新区人民政府".into()),
                views: Some(235)
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
}
