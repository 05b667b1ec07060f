//! Entries of a listing page (`district` kind): `{title, url, summary, date}`.

use crate::dom::NodeSet;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use jiff::tz::TimeZone;
use scraper::{ElementRef, Html, Selector};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use url::Url;

use crate::dom::element;
use crate::rules::index::{Hits, List};

use super::{date, meta::resolve};
use crate::dom::{text_of, within};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub title: String,
    pub url: Option<String>,
    pub summary: Option<String>,
    pub date: Option<String>,
}

static A: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a[href]").unwrap());

/// Items chosen by the rule's selectors (first selector that matches wins).
pub fn by_selectors(
    html: &Html,
    hits: &Hits,
    dropped: &NodeSet,
    base: Option<&Url>,
    tz: &TimeZone,
) -> (Vec<Item>, Vec<NodeId>) {
    for i in 0..hits.len(List::Items) {
        let els: Vec<ElementRef> = hits
            .of(List::Items, i)
            .iter()
            .filter_map(|&id| element(html, id))
            .filter(|e| !within(html, e.id(), dropped))
            .collect();
        let items: Vec<Item> = els
            .iter()
            .filter_map(|e| item(*e, dropped, base, tz))
            .collect();
        if !items.is_empty() {
            return (items, els.iter().map(|e| e.id()).collect());
        }
    }
    (Vec::new(), Vec::new())
}

/// Without a selector: the container (inside `scope`) whose children are the
/// most link entries; at least `min` of them.
pub fn detect(
    html: &Html,
    scope: ElementRef,
    dropped: &NodeSet,
    base: Option<&Url>,
    tz: &TimeZone,
    min: usize,
) -> (Vec<Item>, Vec<NodeId>) {
    let mut best: Option<(usize, ElementRef)> = None;
    // Dropped subtrees are told by the walk itself (how many are open),
    // not by climbing from every element: that was depth × size.
    let mut in_dropped = usize::from(within(html, scope.id(), dropped));
    for edge in scope.traverse() {
        let el = match edge {
            Edge::Open(n) => match ElementRef::wrap(n) {
                Some(el) => el,
                None => continue,
            },
            Edge::Close(n) => {
                if dropped.contains(&n.id()) && n.id() != scope.id() {
                    in_dropped -= 1;
                }
                continue;
            }
        };
        if dropped.contains(&el.id()) && el.id() != scope.id() {
            in_dropped += 1;
        }
        if in_dropped > 0
            || !matches!(
                el.value().name(),
                "ul" | "ol" | "div" | "tbody" | "table" | "dl"
            )
        {
            continue;
        }
        let entries = el
            .child_elements()
            .filter(|c| is_entry(*c, dropped))
            .count();
        if entries >= min && best.is_none_or(|(n, _)| entries > n) {
            best = Some((entries, el));
        }
    }
    let Some((_, list)) = best else {
        return (Vec::new(), Vec::new());
    };
    let els: Vec<ElementRef> = list.child_elements().collect();
    let items = els
        .iter()
        .filter_map(|e| item(*e, dropped, base, tz))
        .collect();
    (items, els.iter().map(|e| e.id()).collect())
}

/// A listing entry leads with its link, and the link is its title: it
/// stands as a line of its own (a summary follows in another block) or is a
/// good part of the entry's text. A paragraph with a link inside is no entry.
fn is_entry(el: ElementRef, dropped: &NodeSet) -> bool {
    if !small(el) {
        return false;
    }
    // A thumbnail's link has no words: the entry's link is its first with text.
    let Some(a) = el
        .select(&A)
        .find(|a| !dropped.contains(&a.id()) && text_of(*a, dropped).chars().count() >= 2)
    else {
        return false;
    };
    let whole = text_of(el, dropped);
    let total = whole.chars().count();
    let link = text_of(a, dropped);
    let n = link.chars().count();
    if total < 6 || n < 2 {
        return false;
    }
    // What precedes the link: a date, a bullet, a category tag at most.
    let lead = whole
        .find(link.as_str())
        .map_or(usize::MAX, |i| whole[..i].chars().count());
    if lead > 12 {
        return false;
    }
    if n * 3 >= total {
        return true;
    }
    // The link's own block (inside the entry) holds nothing else.
    let mut cur = a.parent().and_then(ElementRef::wrap);
    while let Some(b) = cur {
        if b.id() == el.id() || crate::dom::is_block(b.value().name()) {
            return text_of(b, dropped).chars().count() <= n + 12 && b.id() != el.id();
        }
        cur = b.parent().and_then(ElementRef::wrap);
    }
    false
}

/// Elements an entry may hold at most. Real entries (a date, a link, a
/// summary, a thumbnail) hold a few dozen; the bound keeps the test of
/// every child of every container proportional to the page, where a test
/// of whole subtrees would be depth × size on deeply nested markup.
const MAX_ENTRY_NODES: usize = 256;

fn small(el: ElementRef) -> bool {
    el.descendants().nth(MAX_ENTRY_NODES).is_none()
}

/// A link beside the entry's title link that only says "go there"
/// (查看详情, [详情], 了解更多, 更多>>, 点击查看, Read more): it points where
/// the title points, or is a few words with no content of their own. It
/// is no part of the summary.
fn is_call_to_action(link: ElementRef, title: ElementRef, skip: &NodeSet) -> bool {
    let text = text_of(link, skip);
    let words = text
        .chars()
        .filter(|c| c.is_alphanumeric() || ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    let href = link.value().attr("href");
    let same = href.is_some() && href == title.value().attr("href");
    words <= 4 || (same && words <= 12)
}

fn item(el: ElementRef, skip: &NodeSet, base: Option<&Url>, tz: &TimeZone) -> Option<Item> {
    let link = el
        .select(&A)
        .filter(|a| !skip.contains(&a.id()))
        .map(|a| (text_of(a, skip), a))
        .filter(|(t, _)| t.chars().count() >= 2)
        .max_by_key(|(t, _)| t.chars().count())?;
    let (mut title, a) = link;
    // Listings truncate long titles ("…"); the title attribute has it whole.
    if (title.ends_with("...") || title.ends_with('…'))
        && let Some(full) = a
            .value()
            .attr("title")
            .map(str::trim)
            .filter(|t| t.len() > 2)
    {
        title = full.to_string();
    }
    let whole = text_of(el, skip);
    let found = date::find(&whole, tz);
    let mut rest = whole.clone();
    if let Some(f) = &found {
        rest.replace_range(f.start..f.end, " ");
    }
    let mut rest = rest.replacen(&text_of(a, skip), " ", 1);
    for cta in el
        .select(&A)
        .filter(|l| l.id() != a.id() && is_call_to_action(*l, a, skip))
    {
        rest = rest.replacen(&text_of(cta, skip), " ", 1);
    }
    let summary = crate::dom::normalize_ws(&rest);
    Some(Item {
        url: a
            .value()
            .attr("href")
            .and_then(|h| resolve(base, h))
            .map(|u| u.to_string()),
        title,
        summary: (summary.chars().count() >= 4).then_some(summary),
        date: found.map(|f| f.rfc3339),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_to_action_leave_the_summary_and_thumbnails_lead_no_entry() {
        let html = Html::parse_document(
            "<div id=l><div><a href=/p?id=1><img src=a.jpg></a><h4><a href=/p?id=1>奉贤经济开发区</a></h4>\
             <p>国家级开发区，以美丽健康为主导产业。 <a href=/p?id=1>查看详情</a></p></div>\
             <div><a href=/p?id=2><img src=b.jpg></a><h4><a href=/p?id=2>东方美谷产业园</a></h4>\
             <p>聚焦化妆品和健康食品。 <a href=/x>更多&gt;&gt;</a></p></div></div>",
        );
        let list = html.select(&Selector::parse("#l").unwrap()).next().unwrap();
        let skip = NodeSet::default();
        let tz = TimeZone::UTC;
        let (items, _) = detect(&html, list, &skip, None, &tz, 2);
        let got: Vec<(&str, Option<&str>)> = items
            .iter()
            .map(|i| (i.title.as_str(), i.summary.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "奉贤经济开发区",
                    Some("国家级开发区，以美丽健康为主导产业。")
                ),
                ("东方美谷产业园", Some("聚焦化妆品和健康食品。")),
            ]
        );
    }
}
