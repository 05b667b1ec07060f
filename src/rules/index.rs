//! A rule's selectors, indexed the way browsers index style rules, so that
//! one walk of a page finds every element each selector matches.
//!
//! Matching ~100 rule selectors against every element (one union per list)
//! cost more than parsing the page. Almost all rule selectors name a tag, a
//! class or an id in their subject (rightmost) compound: an element can only
//! match those whose key it carries. So each selector sits in one bucket,
//! keyed by the id, else a class, else the tag its subject requires, and an
//! element is tested only against the buckets of its own id, classes and
//! tag (plus the few selectors with no key, like `[hidden]`). The real match
//! is still the `selectors` crate's, so results are the same as
//! `Html::select`; the key is only a necessary condition.

use ego_tree::NodeId;
use rustc_hash::FxHashMap;
use scraper::selector::ToCss;
use scraper::{ElementRef, Html, Selector};

use crate::dom::NodeSet;

/// The selector lists of a rule, in the order `Hits` keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Content = 0,
    Title,
    Header,
    Drop,
    Fields,
    Items,
}

const LISTS: usize = 6;

/// What an element must carry to be able to match a selector.
#[derive(Debug, PartialEq, Eq)]
enum Key {
    Id(String),
    Class(String),
    Tag(String),
    Attr(String),
    Any,
}

#[derive(Debug)]
struct Entry {
    sel: Selector,
    /// Which list and position the selector came from.
    slot: u32,
}

#[derive(Debug, Default)]
pub struct SelectorIndex {
    entries: Vec<Entry>,
    by_id: FxHashMap<String, Vec<u32>>,
    by_class: FxHashMap<String, Vec<u32>>,
    by_tag: FxHashMap<String, Vec<u32>>,
    by_attr: FxHashMap<String, Vec<u32>>,
    any: Vec<u32>,
    /// Where each list's slots start; the last is the number of slots.
    starts: [usize; LISTS + 1],
}

/// The elements each selector of a rule matched on one page, in the order
/// `Html::select` gives them.
#[derive(Debug)]
pub struct Hits {
    slots: Vec<Vec<NodeId>>,
    starts: [usize; LISTS + 1],
}

impl SelectorIndex {
    /// Indexes `lists` (in `List` order). A selector group (`h1, h2`) is
    /// split so that each part gets its own bucket.
    pub fn new(lists: [&[Selector]; LISTS]) -> SelectorIndex {
        let mut ix = SelectorIndex::default();
        let mut slot = 0usize;
        for (l, list) in lists.iter().enumerate() {
            ix.starts[l] = slot;
            for sel in list.iter() {
                let css = sel.to_css_string();
                let parts = split_top_level(&css, b',');
                // Each part parsed alone, for its own key; if one does not
                // parse alone, the whole group goes unkeyed.
                let parsed: Option<Vec<(Selector, Key)>> = parts
                    .iter()
                    .map(|p| Selector::parse(p).ok().map(|s| (s, subject_key(p))))
                    .collect();
                let entries = parsed.unwrap_or_else(|| vec![(sel.clone(), Key::Any)]);
                for (sel, key) in entries {
                    let i = ix.entries.len() as u32;
                    ix.entries.push(Entry {
                        sel,
                        slot: slot as u32,
                    });
                    match key {
                        Key::Id(k) => ix.by_id.entry(k).or_default().push(i),
                        Key::Class(k) => ix.by_class.entry(k).or_default().push(i),
                        Key::Tag(k) => ix.by_tag.entry(k).or_default().push(i),
                        Key::Attr(k) => ix.by_attr.entry(k).or_default().push(i),
                        Key::Any => ix.any.push(i),
                    }
                }
                slot += 1;
            }
        }
        ix.starts[LISTS] = slot;
        ix
    }

    /// One pass over the page's elements, in the arena order `Html::select`
    /// uses.
    pub fn walk(&self, html: &Html) -> Hits {
        let mut slots: Vec<Vec<NodeId>> = vec![Vec::new(); self.starts[LISTS]];
        if self.entries.is_empty() {
            return Hits {
                slots,
                starts: self.starts,
            };
        }
        let mut candidates: Vec<u32> = Vec::new();
        for node in html.tree.nodes() {
            let Some(el) = ElementRef::wrap(node) else {
                continue;
            };
            let e = el.value();
            candidates.clear();
            candidates.extend_from_slice(&self.any);
            if let Some(v) = self.by_tag.get(e.name()) {
                candidates.extend_from_slice(v);
            }
            // One pass over the attributes (each `attr()` is a search):
            // the id, each class, and any attribute a selector tests.
            for (name, value) in e.attrs() {
                match name {
                    "id" if !self.by_id.is_empty() => {
                        if let Some(v) = self.by_id.get(value) {
                            candidates.extend_from_slice(v);
                        }
                    }
                    // The raw attribute, not `classes()`: that interns every
                    // class of every element, which costs more than the
                    // lookups.
                    "class" if !self.by_class.is_empty() => {
                        for c in value.split_ascii_whitespace() {
                            if let Some(v) = self.by_class.get(c) {
                                candidates.extend_from_slice(v);
                            }
                        }
                    }
                    _ => {}
                }
                if let Some(v) = self.by_attr.get(name) {
                    candidates.extend_from_slice(v);
                }
            }
            for &i in &candidates {
                let entry = &self.entries[i as usize];
                let hits = &mut slots[entry.slot as usize];
                // A group's parts share a slot: record the element once.
                if hits.last() != Some(&el.id()) && entry.sel.matches(&el) {
                    hits.push(el.id());
                }
            }
        }
        Hits {
            slots,
            starts: self.starts,
        }
    }
}

impl Hits {
    /// What the `i`th selector of `list` matched.
    pub fn of(&self, list: List, i: usize) -> &[NodeId] {
        let l = list as usize;
        let slot = self.starts[l] + i;
        assert!(slot < self.starts[l + 1], "selector {i} of {list:?}");
        &self.slots[slot]
    }

    /// What any selector of `list` from the `from`th on matched.
    pub fn any(&self, list: List, from: usize) -> NodeSet {
        let l = list as usize;
        self.slots[self.starts[l] + from..self.starts[l + 1]]
            .iter()
            .flatten()
            .copied()
            .collect()
    }

    /// How many selectors `list` has.
    pub fn len(&self, list: List) -> usize {
        let l = list as usize;
        self.starts[l + 1] - self.starts[l]
    }
}

/// Splits `s` at `sep` where it is not inside brackets, parentheses or
/// quotes. A byte scanner: it cuts only at `sep`, an ASCII byte, which no
/// multi-byte character contains, so every piece lies on char boundaries
/// (an escape's skip may land inside a character, but cuts never do).
fn split_top_level(s: &str, sep: u8) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<u8>, 0usize);
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\\' => i += 1,
                b'"' | b'\'' => quote = Some(c),
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                _ if c == sep && depth == 0 => {
                    parts.push(s[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    parts.push(s[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// The key of a single complex selector's subject compound (the part after
/// its last combinator): its id, else its first class, else its tag.
/// Anything unusual (escapes, namespaces) gives `Any`, which is always
/// tested: a wrong key would lose matches, a missing one only costs time.
fn subject_key(css: &str) -> Key {
    if css.contains(['\\', '|']) {
        return Key::Any;
    }
    let compound = &css[subject_start(css)..];
    let (mut id, mut class, mut tag, mut attr) = (None, None, None, None);
    let n = ident_len(compound);
    if n > 0 {
        tag = Some(compound[..n].to_ascii_lowercase());
    }
    let mut rest = &compound[n..];
    while let Some(c) = rest.chars().next() {
        match c {
            '#' | '.' => {
                let n = ident_len(&rest[1..]);
                let name = rest[1..1 + n].to_string();
                if n == 0 {
                    return Key::Any;
                }
                if c == '#' {
                    id.get_or_insert(name);
                } else {
                    class.get_or_insert(name);
                }
                rest = &rest[1 + n..];
            }
            '[' | ':' | '*' => {
                let skip = keyless_len(rest, c, &mut attr);
                if skip == 0 {
                    return Key::Any;
                }
                rest = &rest[skip..];
            }
            _ => return Key::Any,
        }
    }
    // The rarest first: an attribute test beats a tag every div carries.
    match (id, class, attr, tag) {
        (Some(i), ..) => Key::Id(i),
        (None, Some(c), ..) => Key::Class(c),
        (None, None, Some(a), _) => Key::Attr(a),
        (None, None, None, Some(t)) => Key::Tag(t),
        _ => Key::Any,
    }
}

/// Where the subject compound of a complex selector starts: after its last
/// top-level combinator (quotes and brackets respected).
fn subject_start(css: &str) -> usize {
    let (mut depth, mut quote, mut start) = (0i32, None::<u8>, 0usize);
    for (i, &c) in css.as_bytes().iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'"' | b'\'' => quote = Some(c),
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b' ' | b'\t' | b'\n' | b'>' | b'+' | b'~' if depth == 0 => start = i + 1,
                _ => {}
            },
        }
    }
    start
}

/// The length of an identifier at the start of `s` (CSS ident characters;
/// any non-ASCII character counts).
fn ident_len(s: &str) -> usize {
    s.char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '-' || *c == '_' || !c.is_ascii()))
        .map_or(s.len(), |(i, _)| i)
}

/// The length of a part of a compound that gives no key — an attribute
/// test (whose name is kept in `attr`), a pseudo-class with its argument,
/// or the universal selector — at the start of `rest`, which starts with
/// `c`; 0 when it is not closed.
fn keyless_len(rest: &str, c: char, attr: &mut Option<String>) -> usize {
    match c {
        '[' => {
            let inner = rest[1..].trim_start();
            let n = ident_len(inner);
            if n > 0 {
                attr.get_or_insert(inner[..n].to_ascii_lowercase());
            }
            close_of(rest, b'[', b']')
        }
        ':' => {
            let n = 1 + rest[1..].find(|ch: char| ch != ':').unwrap_or(0);
            let n = n + ident_len(&rest[n..]);
            if rest[n..].starts_with('(') {
                n + close_of(&rest[n..], b'(', b')')
            } else {
                n
            }
        }
        _ => 1,
    }
}

/// The length of `s` up to and including the bracket that closes the one
/// it starts with (quotes respected); 0 if it is not closed.
fn close_of(s: &str, open: u8, close: u8) -> usize {
    let (mut depth, mut quote) = (0i32, None::<u8>);
    for (i, &c) in s.as_bytes().iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == open => depth += 1,
            None if c == close => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            None => {}
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        subject_key(s)
    }

    #[test]
    fn subject_keys() {
        assert_eq!(key("div"), Key::Tag("div".into()));
        assert_eq!(key("DIV"), Key::Tag("div".into()));
        assert_eq!(key(".share"), Key::Class("share".into()));
        assert_eq!(key("td.content"), Key::Class("content".into()));
        assert_eq!(key("#zoom"), Key::Id("zoom".into()));
        assert_eq!(key("div.a#b"), Key::Id("b".into()));
        assert_eq!(key(".title h1"), Key::Tag("h1".into()));
        assert_eq!(key("article > h1.x"), Key::Class("x".into()));
        assert_eq!(key("ul li + li"), Key::Tag("li".into()));
        assert_eq!(key("[hidden]"), Key::Attr("hidden".into()));
        assert_eq!(
            key("[aria-hidden=\"true\"]"),
            Key::Attr("aria-hidden".into())
        );
        assert_eq!(key("a[href*=\"x y\"]"), Key::Attr("href".into()));
        assert_eq!(key("[ Class*=title]"), Key::Attr("class".into()));
        assert_eq!(key("div:not(.x)"), Key::Tag("div".into()));
        assert_eq!(key(":is(.a, .b)"), Key::Any);
        assert_eq!(key("li:nth-child(2n+1)"), Key::Tag("li".into()));
        assert_eq!(key("*"), Key::Any);
        assert_eq!(key("*.x"), Key::Class("x".into()));
        assert_eq!(key(".a\\:b"), Key::Any);
        assert_eq!(key(".正文"), Key::Class("正文".into()));
        assert_eq!(key("div [data-x=\"a>b\"]"), Key::Attr("data-x".into()));
    }

    #[test]
    fn splits_groups_at_top_level_commas() {
        assert_eq!(
            split_top_level("h1, :is(.a, .b), [x=\"1,2\"]", b','),
            vec!["h1", ":is(.a, .b)", "[x=\"1,2\"]"]
        );
    }

    /// The index finds exactly what `Html::select` finds, selector by
    /// selector, in the same order.
    #[test]
    fn same_matches_as_select() {
        let page = r#"<html><body>
            <div id="zoom" class="TRS_Editor content"><p class="a b">x</p><h1>t</h1></div>
            <div class="title"><h1 class="t">y</h1></div>
            <nav hidden><a href="/">home</a></nav>
            <ul><li>1</li><li>2</li><li class="x">3</li></ul>
            <span aria-hidden="true">z</span><p class="A">case</p>
            <article><h1>a</h1><section><h1>b</h1></section></article>
        </body></html>"#;
        let html = Html::parse_document(page);
        let sels = |v: &[&str]| -> Vec<Selector> {
            v.iter().map(|s| Selector::parse(s).unwrap()).collect()
        };
        let content = sels(&["#zoom", ".TRS_Editor", "div.content", "article"]);
        let title = sels(&[".title h1", "article h1", "h1, h2", "[class*=t]"]);
        let header = sels(&["li + li", "li:not(.x)", "ul > li:nth-child(2n+1)"]);
        let drop = sels(&[
            "nav",
            "[hidden]",
            "[aria-hidden=true]",
            ".a",
            ".a.b",
            "p.A",
            "a[href]",
            "[ARIA-HIDDEN]",
        ]);
        let fields = sels(&["div:not(.title)", "*"]);
        let items: Vec<Selector> = Vec::new();
        let ix = SelectorIndex::new([&content, &title, &header, &drop, &fields, &items]);
        let hits = ix.walk(&html);
        let lists = [
            (List::Content, &content),
            (List::Title, &title),
            (List::Header, &header),
            (List::Drop, &drop),
            (List::Fields, &fields),
        ];
        for (list, sels) in lists {
            assert_eq!(hits.len(list), sels.len());
            for (i, s) in sels.iter().enumerate() {
                let want: Vec<NodeId> = html.select(s).map(|e| e.id()).collect();
                assert_eq!(hits.of(list, i), want.as_slice(), "{list:?} {i}");
            }
        }
        let any: NodeSet = drop
            .iter()
            .flat_map(|s| html.select(s))
            .map(|e| e.id())
            .collect();
        assert_eq!(hits.any(List::Drop, 0), any);
        assert_eq!(hits.len(List::Items), 0);
    }
}
