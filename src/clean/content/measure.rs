//! Step 1 of the content finder (see `content`): one pass over the tree
//! that measures every element — visible text, link text, its own
//! paragraph text, class/id hints — and prunes what no reader reads.

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Node};

use super::names::{Attrs, Chrome, NameCache, chrome, class_weight};
use crate::dom::{NodeSet, is_block, is_cjk};

/// Measures of one element.
#[derive(Debug, Clone)]
pub(super) struct Info {
    pub(super) id: NodeId,
    pub(super) parent: Option<usize>,
    pub(super) tag: Tag,
    /// Class/id hint: positive for article-like names, negative for chrome.
    pub(super) weight: f64,
    /// Chrome by tag or name (judged once the page is measured).
    pub(super) soft: bool,
    /// Left out: soft chrome with a minor share of the text, or inside one.
    pub(super) excluded: bool,
    /// Text directly in this element, and the part of it inside links.
    pub(super) self_text: f64,
    pub(super) self_links: f64,
    /// The longest paragraph of prose (own text, few links) in the subtree.
    pub(super) prose: f64,
    /// Visible text length (CJK doubled) of the subtree, pruned parts out.
    pub(super) text: f64,
    /// The part of `text` inside links.
    pub(super) links: f64,
    /// Inline text directly in this block (not in block children).
    pub(super) own: f64,
    pub(super) own_links: f64,
    pub(super) own_commas: u32,
    /// The own text ends a sentence.
    pub(super) own_ends_sentence: bool,
    pub(super) score: Option<f64>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    #[default]
    Other,
    Div,
    P,
    Pre,
    Td,
    Blockquote,
    ListLike,
    Heading,
    List,
    Table,
    Article,
    Body,
}

impl Tag {
    pub(super) fn of(name: &str) -> Tag {
        match name {
            "div" | "section" | "center" | "main" => Tag::Div,
            "p" => Tag::P,
            "pre" => Tag::Pre,
            "td" => Tag::Td,
            "blockquote" => Tag::Blockquote,
            "address" | "dl" | "dd" | "dt" | "li" | "form" => Tag::ListLike,
            "ul" | "ol" => Tag::List,
            "table" => Tag::Table,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => Tag::Heading,
            "article" => Tag::Article,
            "body" => Tag::Body,
            _ => Tag::Other,
        }
    }

    /// Readability's starting score of a candidate by its tag.
    pub(super) fn base(self) -> f64 {
        match self {
            Tag::Div | Tag::Article => 5.0,
            Tag::Pre | Tag::Td | Tag::Blockquote => 3.0,
            Tag::ListLike | Tag::List => -3.0,
            Tag::Heading => -5.0,
            _ => 0.0,
        }
    }
}

/// Length with CJK characters doubled, whitespace not counted; and commas.
pub(super) fn measure(t: &str) -> (f64, u32, Option<char>) {
    let (mut n, mut commas, mut last) = (0.0, 0, None);
    let mut rest = t;
    loop {
        // ASCII bytes counted as bytes (most text of most pages), the rest
        // decoded: the same sums, in the same order.
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        for b in rest[..ascii].bytes() {
            if matches!(b, b'\t'..=b'\r' | b' ') {
                continue;
            }
            n += 1.0;
            commas += u32::from(b == b',');
            last = Some(char::from(b));
        }
        rest = &rest[ascii..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
        if c.is_whitespace() || c == '\u{3000}' {
            continue;
        }
        n += if is_cjk(c) { 2.0 } else { 1.0 };
        if matches!(c, ',' | '，' | '、' | '。' | '；') {
            commas += 1;
        }
        last = Some(c);
    }
    (n, commas, last)
}

/// One pass: every element's measures, in document order. Hard chrome is
/// skipped (and returned as pruned); soft chrome is measured, then left out
/// unless it holds most of the page's text.
pub(super) fn measure_tree(
    root: ElementRef,
    dropped: &NodeSet,
    hints: &NodeSet,
) -> (Vec<Info>, NodeSet) {
    let mut infos: Vec<Info> = Vec::new();
    let mut pruned = NodeSet::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut skipping: Option<NodeId> = None;
    let mut in_link = 0usize;
    let mut names = NameCache::default();
    for edge in root.traverse() {
        match edge {
            Edge::Open(n) => {
                if skipping.is_some() {
                    continue;
                }
                match n.value() {
                    Node::Element(e) => {
                        let attrs = Attrs::of(e);
                        let words = names.flags_of(&attrs, n);
                        let kind = if n.id() == root.id() {
                            Chrome::No
                        } else if dropped.contains(&n.id()) {
                            Chrome::Hard
                        } else {
                            chrome(e.name(), &attrs, words)
                        };
                        if kind == Chrome::Hard {
                            skipping = Some(n.id());
                            pruned.insert(n.id());
                            continue;
                        }
                        let name = e.name();
                        let parent = stack.last().map(|s| s.info);
                        let weight = class_weight(words, hints.contains(&n.id()));
                        let soft = kind == Chrome::Soft;
                        infos.push(Info::new(n.id(), parent, Tag::of(name), weight, soft));
                        let link = name == "a" && is_link(n);
                        if link {
                            in_link += 1;
                        }
                        stack.push(Open {
                            info: infos.len() - 1,
                            block: is_block(name),
                            link,
                        });
                    }
                    Node::Text(t) => add_text(&mut infos, &stack, in_link > 0, t),
                    _ => {}
                }
            }
            Edge::Close(n) => {
                if skipping == Some(n.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() || !matches!(n.value(), Node::Element(_)) {
                    continue;
                }
                if let Some(Open { link: true, .. }) = stack.pop() {
                    in_link -= 1;
                }
            }
        }
    }
    if infos.is_empty() {
        return (infos, pruned);
    }
    exclude_soft_chrome(root, &mut infos, &mut pruned);
    (infos, pruned)
}

/// An element open during the measuring walk.
pub(super) struct Open {
    /// Its index among the infos.
    info: usize,
    /// A block element: inline text inside it is its own text.
    block: bool,
    /// A link: text inside it is link text.
    link: bool,
}

impl Info {
    /// An element's info before any text is measured.
    pub(super) fn new(
        id: NodeId,
        parent: Option<usize>,
        tag: Tag,
        weight: f64,
        soft: bool,
    ) -> Info {
        Info {
            id,
            parent,
            tag,
            weight,
            soft,
            excluded: false,
            self_text: 0.0,
            self_links: 0.0,
            text: 0.0,
            links: 0.0,
            own: 0.0,
            own_links: 0.0,
            own_commas: 0,
            own_ends_sentence: false,
            prose: 0.0,
            score: None,
        }
    }
}

/// Characters that end a sentence (a closing quote after one included).
pub(super) const SENTENCE_END: &[char] = &['.', '。', '!', '?', '！', '？', '"', '”'];

/// Counts a text node: as own text of the nearest open block, and as text
/// of the innermost open element (`linked`: inside a link).
pub(super) fn add_text(infos: &mut [Info], stack: &[Open], linked: bool, t: &str) {
    let (len, commas, last) = measure(t);
    if len == 0.0 {
        return;
    }
    if let Some(open) = stack.iter().rev().find(|s| s.block) {
        let info = &mut infos[open.info];
        info.own += len;
        info.own_commas += commas;
        if linked {
            info.own_links += len;
        }
        if let Some(c) = last {
            info.own_ends_sentence = SENTENCE_END.contains(&c);
        }
    }
    if let Some(open) = stack.last() {
        infos[open.info].self_text += len;
        if linked {
            infos[open.info].self_links += len;
        }
    }
}

/// Soft-chrome policy: chrome by tag or name (nav, aside, a "sidebar"
/// class …) is left out, with everything inside it, unless it holds half
/// the page's text or more — then it is the page. A form holding prose is
/// never left out: ASP.NET pages wrap the whole page, article included, in
/// a form. Totals are taken with everything first, then again without
/// what was left out.
pub(super) fn exclude_soft_chrome(root: ElementRef, infos: &mut [Info], pruned: &mut NodeSet) {
    totals(infos);
    let page = infos[0].text;
    for i in 0..infos.len() {
        let parent_out = infos[i].parent.is_some_and(|p| infos[p].excluded);
        let form_with_prose = infos[i].tag == Tag::ListLike
            && infos[i].prose >= 160.0
            && html_name(root, infos[i].id) == Some("form");
        let own_out = infos[i].soft && infos[i].text < page * 0.5 && !form_with_prose;
        infos[i].excluded = parent_out || own_out;
        if own_out && !parent_out {
            pruned.insert(infos[i].id);
        }
    }
    totals(infos);
}

/// Subtree text and link text, bottom-up (children follow their parent in
/// document order), excluded subtrees counting nothing.
pub(super) fn totals(infos: &mut [Info]) {
    for info in infos.iter_mut() {
        (info.text, info.links) = if info.excluded {
            (0.0, 0.0)
        } else {
            (info.self_text, info.self_links)
        };
        info.prose = if !info.excluded && info.own_links < info.own * 0.3 {
            info.own
        } else {
            0.0
        };
    }
    for i in (1..infos.len()).rev() {
        if let Some(p) = infos[i].parent {
            let (t, l, m) = (infos[i].text, infos[i].links, infos[i].prose);
            infos[p].text += t;
            infos[p].links += l;
            infos[p].prose = infos[p].prose.max(m);
        }
    }
}

/// Is this `<a>` a link to another page? One without an address, or with a
/// `javascript:` one, that wraps blocks (paragraphs, divs) is a script's
/// click target around the text, not a link: counted as links, its
/// paragraphs would read as a menu.
pub(super) fn is_link(a: ego_tree::NodeRef<Node>) -> bool {
    let href = a.value().as_element().and_then(|e| e.attr("href"));
    let scripted = href.is_none_or(|h| {
        h.trim_start()
            .get(..11)
            .is_some_and(|s| s.eq_ignore_ascii_case("javascript:"))
    });
    !scripted
        || !a.descendants().skip(1).any(|d| {
            d.value()
                .as_element()
                .is_some_and(|e| matches!(e.name(), "p" | "div" | "li" | "table" | "section"))
        })
}

pub(super) fn html_name<'a>(root: ElementRef<'a>, id: NodeId) -> Option<&'a str> {
    root.tree()
        .get(id)
        .and_then(ElementRef::wrap)
        .map(|e| e.value().name())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`measure`] one character at a time: what its ASCII fast path must give.
    fn measure_by_chars(t: &str) -> (f64, u32, Option<char>) {
        let (mut n, mut commas, mut last) = (0.0, 0, None);
        for c in t.chars().filter(|&c| !c.is_whitespace() && c != '\u{3000}') {
            n += if is_cjk(c) { 2.0 } else { 1.0 };
            commas += u32::from(matches!(c, ',' | '，' | '、' | '。' | '；'));
            last = Some(c);
        }
        (n, commas, last)
    }

    #[test]
    fn ascii_bytes_count_as_characters_do() {
        for t in [
            "",
            " \t\n\u{b}\u{c}\r ",
            "a, b,c",
            "园区，a、b。",
            "x\u{3000}y\u{a0}z\u{85}",
            "Ünïcode, end.",
            "中文 ab",
        ] {
            assert_eq!(measure(t), measure_by_chars(t), "{t:?}");
        }
    }
}
