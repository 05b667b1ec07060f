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

pub fn find(
    html: &Html,
    hits: &Hits,
    meta: &PageMeta,
    site_names: &[&str],
    dropped: &NodeSet,
) -> Option<Title> {
    let plausible = |t: &str| {
        let n = t.chars().count();
        (2..=200).contains(&n) && !site_names.contains(&t)
    };
    for i in 0..hits.len(List::Title) {
        for el in hits
            .of(List::Title, i)
            .iter()
            .filter_map(|&id| element(html, id))
        {
            if within(html, el.id(), dropped) {
                continue;
            }
            let t = text_of(el, dropped);
            if plausible(&t) {
                return Some(Title {
                    text: t,
                    source: TitleSource::Rule,
                    node: Some(el.id()),
                });
            }
        }
    }
    let stripped = strip_site(&meta.title, site_names);
    if let Some(h) = meta.jsonld.headline.as_deref().filter(|h| plausible(h)) {
        return Some(Title {
            text: h.to_string(),
            source: TitleSource::JsonLd,
            node: heading_matching(html, h, dropped),
        });
    }
    if let Some(og) = meta.og_title.as_deref().or(meta.article_title.as_deref()) {
        let t = strip_site(og, site_names);
        if plausible(&t) {
            let node = heading_matching(html, &t, dropped);
            return Some(Title {
                text: t,
                source: TitleSource::OpenGraph,
                node,
            });
        }
    }
    if !stripped.is_empty() {
        // A heading whose text the <title> contains is the headline as the
        // page prints it (often longer than a truncated <title>, or exact).
        static H: LazyLock<Selector> = LazyLock::new(|| {
            Selector::parse("h1, h2, h3, [class*=title], [class*=Title], [id*=title]").unwrap()
        });
        let mut best: Option<(usize, ElementRef)> = None;
        for el in html.select(&H) {
            if within(html, el.id(), dropped) {
                continue;
            }
            let t = text_of(el, dropped);
            if !plausible(&t) || t.chars().count() < 4 {
                continue;
            }
            let score = if t == stripped {
                10_000
            } else if stripped.contains(t.as_str()) || t.contains(stripped.as_str()) {
                t.chars().count().min(stripped.chars().count())
            } else {
                0
            };
            if score > 0 && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, el));
            }
        }
        if let Some((_, el)) = best {
            return Some(Title {
                text: text_of(el, dropped),
                source: TitleSource::Heading,
                node: Some(el.id()),
            });
        }
        if plausible(&stripped) {
            return Some(Title {
                text: stripped,
                source: TitleSource::TitleTag,
                node: None,
            });
        }
    }
    None
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
}
