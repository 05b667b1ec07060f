//! The headline: rule selector → JSON-LD headline → og:title → the heading
//! that agrees with `<title>` → `<title>` without its site suffix. Never the
//! site name or a logo `<h1>`.

use crate::dom::NodeSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;

use super::meta::PageMeta;
use crate::dom::element;
use crate::dom::{text_of, within};
use crate::rules::index::{Hits, List};

/// Which step of the cascade gave the title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleSource {
    Rule,
    JsonLd,
    OpenGraph,
    Heading,
    TitleTag,
}

impl TitleSource {
    /// Its name in the record's `provenance`.
    pub fn name(self) -> &'static str {
        match self {
            TitleSource::Rule => "rule",
            TitleSource::JsonLd => "json-ld",
            TitleSource::OpenGraph => "meta",
            TitleSource::Heading => "heading",
            TitleSource::TitleTag => "title-tag",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Title {
    pub text: String,
    pub source: TitleSource,
    /// The element it was read from, when it was read from the body.
    pub node: Option<NodeId>,
}

/// The cascade, first that speaks wins: [`by_rule`] → JSON-LD headline →
/// og:title / ArticleTitle ([`by_meta`]) → [`heading_agreeing`] with the
/// `<title>` → the `<title>` without its site part.
pub fn find(
    html: &Html,
    hits: &Hits,
    meta: &PageMeta,
    site_names: &[&str],
    dropped: &NodeSet,
) -> Option<Title> {
    let plausible = |t: &str| plausible(t, site_names);
    if let Some(mut t) = by_rule(html, hits, dropped, &plausible) {
        t.text = without_run_on(t.text, &strip_site(&meta.title, site_names));
        return Some(t);
    }
    if let Some(t) = by_meta(html, meta, site_names, dropped, &plausible) {
        return Some(t);
    }
    let stripped = strip_site(&meta.title, site_names);
    if stripped.is_empty() {
        return None;
    }
    heading_agreeing(html, &stripped, dropped, &plausible).or_else(|| {
        let text = strip_section(&stripped, html);
        plausible(&text).then_some(Title {
            text,
            source: TitleSource::TitleTag,
            node: None,
        })
    })
}

/// `标题-纪检`: a `<title>` that glues the section's name to the headline
/// with a bare hyphen loses it when the page links that section by the same
/// name (its breadcrumb or menu), the page's own evidence that it is one.
fn strip_section(title: &str, html: &Html) -> String {
    let Some((head, section)) = title.rsplit_once(['-', '－', '_']) else {
        return title.to_string();
    };
    let section = section.trim();
    let n = section.chars().count();
    let word = section.chars().all(char::is_alphabetic);
    if !(2..=8).contains(&n) || !word || head.trim().chars().count() < 6 {
        return title.to_string();
    }
    static A: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a").unwrap());
    let linked = html
        .select(&A)
        .any(|a| a.text().collect::<String>().trim() == section);
    if linked {
        head.trim().to_string()
    } else {
        title.to_string()
    }
}

/// A title element that also holds the line under the headline (`标题
/// 2019-05-17 · 来源 分享至好友`, `Headline By Jane Li Updated 1:39 am, Nov. 20,
/// 2019`) is cut back to the headline the `<title>` names, when it begins
/// with it and what follows carries a date or a share widget: a subtitle
/// after a dash is the headline's own.
fn without_run_on(text: String, declared: &str) -> String {
    let n = declared.chars().count();
    if n < 6 || text.chars().count() <= n + 8 || !text.starts_with(declared) {
        return text;
    }
    let rest = &text[declared.len()..];
    let widget = ["分享", "Share", "扫描二维码", "跟贴"]
        .iter()
        .any(|w| rest.contains(w));
    let dated = super::date::find(rest, &jiff::tz::TimeZone::UTC).is_some();
    if rest.starts_with(char::is_whitespace) && (widget || dated) {
        declared.to_string()
    } else {
        text
    }
}

/// A headline is 2 to 200 characters and not a name of the site.
fn plausible(t: &str, site_names: &[&str]) -> bool {
    let n = t.chars().count();
    (2..=200).contains(&n) && !site_names.contains(&t)
}

/// The first plausible match of the rule's title selectors, in their order.
fn by_rule(
    html: &Html,
    hits: &Hits,
    dropped: &NodeSet,
    plausible: &dyn Fn(&str) -> bool,
) -> Option<Title> {
    for i in 0..hits.len(List::Title) {
        for el in hits
            .of(List::Title, i)
            .iter()
            .filter_map(|&id| element(html, id))
        {
            if within(html, el.id(), dropped) {
                continue;
            }
            let t = heading_text(el, dropped);
            if plausible(&t) {
                return Some(Title {
                    text: t,
                    source: TitleSource::Rule,
                    node: Some(el.id()),
                });
            }
        }
    }
    None
}

/// What the page declares as its headline: JSON-LD, else og:title or the
/// government meta set's ArticleTitle (without a site suffix).
fn by_meta(
    html: &Html,
    meta: &PageMeta,
    site_names: &[&str],
    dropped: &NodeSet,
    plausible: &dyn Fn(&str) -> bool,
) -> Option<Title> {
    let stripped = strip_site(&meta.title, site_names);
    // The headline, or the object's name when only the name is what the
    // page prints (as a heading or its `<title>`).
    let declared: Vec<&str> = [&meta.jsonld.headline, &meta.jsonld.name]
        .into_iter()
        .filter_map(|h| h.as_deref())
        .filter(|h| plausible(h))
        .collect();
    let printed = |h: &str| {
        let node = heading_matching(html, h, dropped);
        (node.is_some() || stripped.contains(h)).then_some(node)
    };
    let chosen = declared
        .iter()
        .find_map(|h| printed(h).map(|node| (*h, node)))
        // Neither printed: the headline, with no heading to point at.
        .or_else(|| declared.first().map(|h| (*h, None)));
    if let Some((h, node)) = chosen {
        return Some(Title {
            text: h.to_string(),
            source: TitleSource::JsonLd,
            node,
        });
    }
    let og = meta.og_title.as_deref().or(meta.article_title.as_deref())?;
    let t = strip_site(og, site_names);
    if !plausible(&t) {
        return None;
    }
    if let Some(longer) = heading_extending(html, &t, &stripped, dropped) {
        return Some(longer);
    }
    Some(Title {
        node: heading_matching(html, &t, dropped),
        text: t,
        source: TitleSource::OpenGraph,
    })
}

/// A declared title cut short (an unescaped `"` inside the attribute ends
/// `og:title` early: `拿到"技改贷"` → `拿到`) is the start of the printed
/// headline: the heading that begins with it, is longer, and is what the
/// `<title>` says, is the whole headline.
fn heading_extending(
    html: &Html,
    declared: &str,
    stripped: &str,
    dropped: &NodeSet,
) -> Option<Title> {
    if stripped.chars().count() <= declared.chars().count() || !stripped.starts_with(declared) {
        return None;
    }
    static H: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("h1, h2, h3, [class*=title]").unwrap());
    html.select(&H)
        .filter(|el| !within(html, el.id(), dropped))
        .find_map(|el| {
            let t = heading_text(el, dropped);
            (t == stripped).then(|| Title {
                text: t,
                source: TitleSource::Heading,
                node: Some(el.id()),
            })
        })
}

/// Marks glued onto headlines in an element of their own (`<span>原创</span>`).
const BADGES: &[&str] = &[
    "原创", "独家", "置顶", "推荐", "热门", "精华", "转载", "首发", "头条", "热", "荐", "精", "顶",
    "新", "图", "视频", "组图", "图文",
];

/// A heading's text without a badge child at its start or end: a short
/// element of its own whose whole text is a badge word.
pub fn heading_text(el: ElementRef, dropped: &NodeSet) -> String {
    let text = text_of(el, dropped);
    let children: Vec<ElementRef> = el.children().filter_map(ElementRef::wrap).collect();
    let (Some(first), Some(last)) = (children.first(), children.last()) else {
        return text;
    };
    let badge = |c: &ElementRef| {
        let t = text_of(*c, dropped);
        let word = t.trim().trim_matches(['【', '】', '[', ']']);
        BADGES.contains(&word).then_some(t)
    };
    let rest = badge(first)
        .and_then(|b| text.strip_prefix(b.as_str()).map(str::to_string))
        .or_else(|| badge(last).and_then(|b| text.strip_suffix(b.as_str()).map(str::to_string)))
        .map(|r| r.trim().to_string());
    match rest {
        Some(r) if r.chars().count() >= 4 => r,
        _ => text,
    }
}

/// A heading whose text the `<title>` contains (or that contains it) is the
/// headline as the page prints it: often longer than a truncated `<title>`,
/// or exact. The exact one wins, else the longest overlap.
fn heading_agreeing(
    html: &Html,
    stripped: &str,
    dropped: &NodeSet,
    plausible: &dyn Fn(&str) -> bool,
) -> Option<Title> {
    static H: LazyLock<Selector> = LazyLock::new(|| {
        Selector::parse("h1, h2, h3, [class*=title], [class*=Title], [id*=title]").unwrap()
    });
    let mut best: Option<(usize, ElementRef)> = None;
    for el in html.select(&H) {
        if within(html, el.id(), dropped) {
            continue;
        }
        let t = heading_text(el, dropped);
        if !plausible(&t) || t.chars().count() < 4 {
            continue;
        }
        let score = if t == stripped {
            10_000
        } else if stripped.contains(t.as_str()) || t.contains(stripped) {
            t.chars().count().min(stripped.chars().count())
        } else {
            0
        };
        if score > 0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, el));
        }
    }
    best.map(|(_, el)| Title {
        text: heading_text(el, dropped),
        source: TitleSource::Heading,
        node: Some(el.id()),
    })
}

fn heading_matching(html: &Html, text: &str, dropped: &NodeSet) -> Option<NodeId> {
    static H: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("h1, h2, h3, h4, [class*=title]").unwrap());
    html.select(&H)
        .find(|el| !within(html, el.id(), dropped) && text_of(*el, dropped) == text)
        .map(|el| el.id())
}

/// `<title>` minus its site part: split on the usual separators, drop parts
/// that are a known site name or look like one, keep the first rest.
pub fn strip_site(title: &str, site_names: &[&str]) -> String {
    let parts = split_title(title);
    if parts.len() < 2 {
        return title.trim().to_string();
    }
    let kept: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|p| !site_names.contains(p) && !looks_like_site(p))
        .collect();
    // Headlines come first on nearly every portal ("标题_栏目_站名").
    kept.first().copied().unwrap_or(parts[0]).to_string()
}

/// The trailing part of a `<title>` when it names a site.
pub fn site_suffix(title: &str) -> Option<String> {
    let parts = split_title(title);
    (parts.len() >= 2)
        .then(|| parts.last().copied())
        .flatten()
        .filter(|p| p.chars().count() <= 20)
        .map(str::to_string)
}

fn split_title(title: &str) -> Vec<&str> {
    static SEP: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"\s*(?:_|\||｜|\s-\s|\s–\s|\s—\s|——|--|::)\s*").unwrap()
    });
    SEP.split(title.trim())
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn looks_like_site(part: &str) -> bool {
    let n = part.chars().count();
    n <= 16
        && [
            "网",
            "门户",
            "政府",
            "官网",
            "管委会",
            "首页",
            "Home",
            "网站",
        ]
        .iter()
        .any(|s| part.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_site_suffix() {
        assert_eq!(
            strip_site("园区新闻标题_上海园区招商网", &["上海园区招商网"]),
            "园区新闻标题"
        );
        assert_eq!(strip_site("政策解读 - 嘉定工业区", &[]), "政策解读");
        assert_eq!(strip_site("2022-2023年度报告", &[]), "2022-2023年度报告");
        assert_eq!(
            site_suffix("标题 - 嘉定工业区").as_deref(),
            Some("嘉定工业区")
        );
    }

    fn page(html: &str) -> Html {
        Html::parse_document(html)
    }

    #[test]
    fn pieces_of_the_cascade() {
        assert!(plausible("园区新闻", &[]));
        assert!(!plausible("上海园区招商网", &["上海园区招商网"]));
        assert!(!plausible("a", &[]));
        let ok = |t: &str| plausible(t, &[]);
        let none = NodeSet::default();
        // The heading the <title> contains wins over one it does not.
        let html = page(
            "<h1>站点标志</h1><h2>临江区召开制造业推进大会</h2><div class=title>无关栏目名</div>",
        );
        let t = heading_agreeing(&html, "临江区召开制造业推进大会", &none, &ok).unwrap();
        assert_eq!(
            (t.text.as_str(), t.source),
            ("临江区召开制造业推进大会", TitleSource::Heading)
        );
        assert!(heading_agreeing(&html, "完全不同的标题文字", &none, &ok).is_none());
        // og:title loses its site suffix; JSON-LD comes first.
        let mut meta = PageMeta {
            og_title: Some("园区签约十个项目_滨湖网".into()),
            ..Default::default()
        };
        let t = by_meta(&html, &meta, &["滨湖网"], &none, &ok).unwrap();
        assert_eq!(
            (t.text.as_str(), t.source),
            ("园区签约十个项目", TitleSource::OpenGraph)
        );
        meta.jsonld.headline = Some("JSON-LD 的标题".into());
        let t = by_meta(&html, &meta, &[], &none, &ok).unwrap();
        assert_eq!(t.source, TitleSource::JsonLd);
    }

    #[test]
    fn json_ld_name_wins_when_only_it_is_printed() {
        let html = page("<h1>Hermitian matrix</h1><p>In mathematics …</p>");
        let (none, ok) = (NodeSet::default(), |_: &str| true);
        let mut meta = PageMeta {
            title: "Hermitian matrix - Wikipedia".into(),
            ..Default::default()
        };
        meta.jsonld.headline = Some("matrix equal to its conjugate-transpose".into());
        meta.jsonld.name = Some("Hermitian matrix".into());
        let t = by_meta(&html, &meta, &["Wikipedia"], &none, &ok).unwrap();
        assert_eq!(t.text, "Hermitian matrix");
        assert!(t.node.is_some());
        // A headline the page prints keeps its place before the name.
        meta.jsonld.name = Some("Matrices".into());
        meta.jsonld.headline = Some("Hermitian matrix".into());
        let t = by_meta(&html, &meta, &["Wikipedia"], &none, &ok).unwrap();
        assert_eq!(t.text, "Hermitian matrix");
        // Neither printed: the headline, as declared.
        meta.jsonld.headline = Some("A declared headline".into());
        let t = by_meta(&html, &meta, &["Wikipedia"], &none, &ok).unwrap();
        assert_eq!((t.text.as_str(), t.node), ("A declared headline", None));
    }

    #[test]
    fn badges_sections_and_run_ons() {
        let html = page(
            "<h1><span class=tag>原创</span>园区数字孪生平台上线三个月</h1><h2><span>新</span></h2>\
             <div class=crumb><a href=/>首页</a><a href=/jjjc/>纪检</a></div>",
        );
        let h1 = html.select(&Selector::parse("h1").unwrap()).next().unwrap();
        assert_eq!(
            heading_text(h1, &NodeSet::default()),
            "园区数字孪生平台上线三个月"
        );
        assert_eq!(
            strip_section("河西区召开安全生产会议-纪检", &html),
            "河西区召开安全生产会议"
        );
        // Not a section the page links to, or not a word: kept.
        assert_eq!(
            strip_section("河西区召开安全生产会议-党建", &html),
            "河西区召开安全生产会议-党建"
        );
        assert_eq!(
            strip_section("draft-dejong-remotestorage-04", &html),
            "draft-dejong-remotestorage-04"
        );
        let d = "5月20日至31日，京沪高速封闭！";
        assert_eq!(
            without_run_on(
                format!("{d} 2019-05-17 · 苏皖城市报道 x 用微信扫描二维码"),
                d
            ),
            d
        );
        let sub = "Star Wars Jedi: Fallen Order review – shoots for the moon";
        assert_eq!(
            without_run_on(sub.into(), "Star Wars Jedi: Fallen Order review"),
            sub
        );
        // A headline cut short in og:title is the whole <h1>.
        let html = page("<h1>拿到\"技改贷\" 最高贴息</h1>");
        let t = heading_extending(
            &html,
            "拿到",
            "拿到\"技改贷\" 最高贴息",
            &NodeSet::default(),
        )
        .unwrap();
        assert_eq!(t.text, "拿到\"技改贷\" 最高贴息");
    }
}
