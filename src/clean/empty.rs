//! Why a record has no body: a page that cleans to no text says so in its
//! `provenance` (`"body": "link hub: 42 links, no prose"`), so that a
//! person reading an empty record knows whether the page had nothing to
//! give (a hub, a listing, an empty shell) or lost it to boilerplate
//! removal. Read only for pages whose text came out empty.

use std::collections::BTreeMap;

use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// A hub has at least this many links…
const HUB_LINKS: usize = 10;
/// …and fewer characters than this outside them.
const HUB_PROSE: usize = 200;

/// What the page held, outside `<head>`: its links, and the characters of
/// text outside any link (whitespace not counted).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub links: usize,
    pub prose_chars: usize,
}

/// One pass over the tree, however deep (a count of open `<a>` elements,
/// not a walk up from each text node).
pub fn shape(html: &Html) -> Shape {
    let mut s = Shape::default();
    let mut in_link = 0usize;
    let mut in_head = 0usize;
    for edge in html.tree.root().traverse() {
        match edge {
            Edge::Open(n) => match n.value() {
                Node::Element(e) if e.name() == "a" => {
                    in_link += 1;
                    if e.attr("href").is_some() && in_head == 0 {
                        s.links += 1;
                    }
                }
                Node::Element(e) if matches!(e.name(), "head" | "script" | "style") => in_head += 1,
                Node::Text(t) if in_link == 0 && in_head == 0 => {
                    s.prose_chars += t.chars().filter(|c| !c.is_whitespace()).count();
                }
                _ => {}
            },
            Edge::Close(n) => match n.value() {
                Node::Element(e) if e.name() == "a" => in_link -= 1,
                Node::Element(e) if matches!(e.name(), "head" | "script" | "style") => in_head -= 1,
                _ => {}
            },
        }
    }
    s
}

/// The reason, short: a listing (its items carry the content), a link hub,
/// a page whose text all went as boilerplate, or a page with no text.
pub fn reason(s: &Shape, items: usize, removed: &BTreeMap<String, u64>) -> String {
    if items > 0 {
        return format!("listing: {items} items, no prose");
    }
    if s.links >= HUB_LINKS && s.prose_chars < HUB_PROSE {
        return format!("link hub: {} links, no prose", s.links);
    }
    let gone: u64 = removed.values().sum();
    if gone > 0 {
        let kinds: Vec<&str> = removed.keys().map(String::as_str).collect();
        return format!(
            "all text removed as boilerplate: {gone} ({})",
            kinds.join(", ")
        );
    }
    if s.prose_chars == 0 {
        return format!("no text on the page ({} links)", s.links);
    }
    format!(
        "no main text found: {} characters outside {} links, none in a content region",
        s.prose_chars, s.links
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(body: &str) -> Shape {
        shape(&Html::parse_document(&format!(
            "<html><head><title>标题</title><style>p{{}}</style></head><body>{body}</body></html>"
        )))
    }

    #[test]
    fn links_and_prose_are_counted_apart() {
        assert_eq!(
            of(
                "<p>正文 两字</p><a href=/a>链接<b>加粗</b></a><a name=x>锚</a><script>var x</script>"
            ),
            Shape {
                links: 1,
                prose_chars: 4
            }
        );
        // Deep nesting costs one pass.
        let deep = "<div>".repeat(900) + "<a href=/x>x</a>";
        assert_eq!(of(&deep).links, 1);
    }

    #[test]
    fn reasons() {
        let none = BTreeMap::new();
        let hub = Shape {
            links: 42,
            prose_chars: 30,
        };
        assert_eq!(reason(&hub, 0, &none), "link hub: 42 links, no prose");
        assert_eq!(reason(&hub, 7, &none), "listing: 7 items, no prose");
        let gone = BTreeMap::from([("ui-text".to_string(), 3), ("promo-link".to_string(), 2)]);
        let few = Shape {
            links: 2,
            prose_chars: 300,
        };
        assert_eq!(
            reason(&few, 0, &gone),
            "all text removed as boilerplate: 5 (promo-link, ui-text)"
        );
        assert_eq!(
            reason(&Shape::default(), 0, &none),
            "no text on the page (0 links)"
        );
        assert_eq!(
            reason(&few, 0, &none),
            "no main text found: 300 characters outside 2 links, none in a content region"
        );
    }
}
