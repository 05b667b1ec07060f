//! DOM helpers shared by the clean and extract stages and the rules'
//! selector index. A low module: it imports nothing of the crate, so every
//! stage can use it without an import circle. Every walk here is
//! iterative (ego-tree's `traverse`, parent links): pages nested thousands
//! deep must not overflow the stack.

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

/// A set of nodes. Node ids are small integers, so the default SipHash
/// (built against hash flooding, which ids cannot do) is replaced by Fx:
/// membership tests run for every line and ancestor of a page.
pub type NodeSet = rustc_hash::FxHashSet<NodeId>;

/// The element `id` names.
pub fn element(html: &Html, id: NodeId) -> Option<ElementRef<'_>> {
    html.tree.get(id).and_then(ElementRef::wrap)
}

/// The rows of a table (through thead/tbody/tfoot), not of nested tables.
pub fn rows_of(table: ElementRef) -> Vec<ElementRef> {
    let mut rows = Vec::new();
    for c in table.child_elements() {
        match c.value().name() {
            "tr" => rows.push(c),
            "thead" | "tbody" | "tfoot" => {
                rows.extend(c.child_elements().filter(|r| r.value().name() == "tr"))
            }
            _ => {}
        }
    }
    rows
}

/// Whether elements in `html` nest deeper than `limit`: the depth of the
/// tree html5ever built, which is what selector matching and every walk
/// pay for (the pre-parse scan only estimates it).
pub fn nests_deeper_than(html: &Html, limit: usize) -> bool {
    let mut depth = 0usize;
    for edge in html.tree.root().traverse() {
        match edge {
            Edge::Open(n) if n.value().is_element() => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            Edge::Close(n) if n.value().is_element() => depth -= 1,
            _ => {}
        }
    }
    false
}

/// Elements that start a new line of text.
pub fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "aside"
            | "main"
            | "nav"
            | "blockquote"
            | "pre"
            | "figure"
            | "figcaption"
            | "address"
            | "center"
            | "hr"
            | "br"
            | "form"
            | "fieldset"
            | "hgroup"
            | "details"
            | "summary"
            | "body"
            | "html"
    )
}

/// Elements whose content is never text of the page.
pub fn is_never_text(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "iframe"
            | "object"
            | "embed"
            | "svg"
            | "canvas"
            | "select"
            | "option"
            | "textarea"
            | "button"
            | "input"
            | "map"
            | "audio"
            | "video"
    )
}

/// An element hidden from readers by markup (`hidden`, inline `display:none`).
pub fn is_hidden(el: &scraper::node::Element) -> bool {
    el.attr("hidden").is_some() || el.attr("style").is_some_and(style_hides)
}

/// An inline style that hides its element.
pub fn style_hides(s: &str) -> bool {
    // Most styles hide nothing: skip the copy unless one could.
    let has = |w: &[u8]| {
        s.as_bytes()
            .windows(w.len())
            .any(|x| x.eq_ignore_ascii_case(w))
    };
    if !has(b"none") && !has(b"hidden") {
        return false;
    }
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    s.contains("display:none") || s.contains("visibility:hidden")
}

/// Collapses whitespace the way a browser renders it, and also the
/// full-width space (U+3000) and no-break space that Chinese CMSs use for
/// indentation and spacing. A line break between two CJK characters is
/// dropped (CSS Text 3 segment-break rule): it is source formatting, and a
/// space there would split a word. Invisible characters (see
/// [`is_invisible`]) are dropped, not turned into spaces. The result is
/// trimmed already: a space is only ever written between two characters
/// that are not whitespace (callers need no `trim()` and no second copy).
pub fn normalize_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending: Option<bool> = None; // Some(had_newline_only)
    let mut last: Option<char> = None;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // A run of plain characters (see `plain_run_end`) is copied whole:
        // only its first character can end a pending space.
        // `get` rather than indexing: the run ends on a char boundary by
        // construction, and a run that did not would take the by-character
        // path below instead of a panic.
        let run = plain_run_end(b, i);
        if let Some(piece) = s.get(i..run).filter(|p| !p.is_empty()) {
            if let Some(only_nl) = pending.take()
                && let Some(prev) = last
            {
                let first = piece.chars().next().unwrap_or(' ');
                if !(only_nl && is_cjk(prev) && is_cjk(first)) {
                    out.push(' ');
                }
            }
            out.push_str(piece);
            last = piece.chars().next_back();
            i = run;
            continue;
        }
        // `i` is at a char boundary: runs end before a lead byte.
        let Some(c) = s.get(i..).and_then(|t| t.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        if is_invisible(c) {
            continue;
        }
        let ws =
            c.is_whitespace() || matches!(c, '\u{00a0}' | '\u{3000}' | '\u{2028}' | '\u{2029}');
        if ws {
            let newline = c == '\n' || c == '\r';
            pending = Some(match pending {
                None => newline,
                Some(only_nl) => only_nl && (newline || c == ' ' || c == '\t'),
            });
            continue;
        }
        if let Some(only_nl) = pending.take()
            && let Some(prev) = last
        {
            let drop = only_nl && is_cjk(prev) && is_cjk(c);
            if !drop {
                out.push(' ');
            }
        }
        out.push(c);
        last = Some(c);
    }
    out
}

/// Where the run of plain characters that starts at `start` (a char boundary)
/// ends: printable ASCII but the space, and every non-ASCII character that
/// is neither whitespace nor invisible (see [`is_invisible`]). Decided by
/// the lead byte, so that CJK text (three bytes a character) is copied, not
/// decoded character by character: the Unicode whitespace and the invisible
/// characters all lead with `C2` (U+0085, U+00A0, U+00AD), `E1` (U+1680),
/// `E2` (U+2000–U+206F), `E3 80 80` (U+3000) or `EF BB BF` (U+FEFF); every
/// other lead byte starts a plain character. The end is a char boundary:
/// it stops only before a lead byte or an ASCII byte.
///
/// One ASCII space between a plain character and printable ASCII belongs
/// to the run too: the whitespace rules keep it as it is, and English text
/// would otherwise leave the run at every word.
fn plain_run_end(b: &[u8], start: usize) -> usize {
    let mut i = start;
    while let Some(&c) = b.get(i) {
        let plain = match c {
            b'!'..=b'~' | 0x80..=0xBF | 0xC3..=0xE0 | 0xE4..=0xEE | 0xF0..=0xF4 => true,
            b' ' => i > start && matches!(b.get(i + 1), Some(b'!'..=b'~')),
            0xE3 => b.get(i + 1..i + 3) != Some(&[0x80, 0x80]),
            0xEF => b.get(i + 1..i + 3) != Some(&[0xBB, 0xBF]),
            _ => false,
        };
        if !plain {
            break;
        }
        i += 1;
    }
    i
}

/// Where a run of characters U+5000–U+9FFF that starts at `i` ends (`i`
/// when there is none). They are CJK ideographs (`is_cjk`), neither
/// whitespace nor punctuation, three bytes each that lead with `E5`–`E9`:
/// counting passes step over them instead of decoding each.
pub fn han_run_end(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(0xE5..=0xE9)) && i + 3 <= b.len() {
        i += 3;
    }
    i
}

/// Characters a reader never sees and that split words for search: the
/// soft hyphen (U+00AD, a hyphenation hint inside `Gemeinde&shy;rat`), the
/// zero-width space, non-joiner and joiner (U+200B–U+200D), the word joiner
/// (U+2060) and the BOM / zero-width no-break space (U+FEFF) that editors
/// leave at the start of pasted text. They are dropped from the text: a
/// space in their place would break the word they sit in.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
    )
}

/// Chinese, Japanese and Korean characters and their full-width punctuation.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3000..=0x303F | 0x3040..=0x30FF | 0x3100..=0x312F |
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF |
        0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x2FFFF)
}

/// Is `node` inside (or equal to) any node of `set`? Walks parent links.
pub fn within(html: &Html, node: NodeId, set: &NodeSet) -> bool {
    if set.is_empty() {
        return false;
    }
    let mut cur = html.tree.get(node);
    while let Some(n) = cur {
        if set.contains(&n.id()) {
            return true;
        }
        cur = n.parent();
    }
    false
}

/// Is `node` a descendant of (or equal to) `ancestor`?
pub fn is_within(html: &Html, node: NodeId, ancestor: NodeId) -> bool {
    let mut cur = html.tree.get(node);
    while let Some(n) = cur {
        if n.id() == ancestor {
            return true;
        }
        cur = n.parent();
    }
    false
}

/// A heading's permalink: `<a href="#sharing-over-http">¶</a>`, the glyph
/// documentation generators and blogs put after a heading so it can be
/// linked. It is a control, not text: "Sharing over HTTP¶" is no heading.
pub fn is_permalink(n: ego_tree::NodeRef<Node>) -> bool {
    let Node::Element(e) = n.value() else {
        return false;
    };
    if e.name() != "a" || !e.attr("href").is_some_and(|h| h.starts_with('#')) {
        return false;
    }
    let mut glyphs = 0;
    for d in n.descendants() {
        if let Node::Text(t) = d.value() {
            for c in t.chars().filter(|c| !c.is_whitespace()) {
                glyphs += 1;
                if glyphs > 2 || !matches!(c, '¶' | '§' | '#' | '🔗' | '⚓' | '∞' | '¤') {
                    return false;
                }
            }
        }
    }
    glyphs > 0
}

/// Visible text of an element, whitespace-normalised, skipping `skip`
/// subtrees, hidden elements and non-text elements. Block boundaries become
/// spaces (so "a</p><p>b" does not fuse into "ab").
pub fn text_of(el: ElementRef, skip: &NodeSet) -> String {
    let mut raw = String::new();
    let mut skipping: Option<NodeId> = None;
    for edge in el.traverse() {
        match edge {
            Edge::Open(n) => {
                if skipping.is_some() {
                    continue;
                }
                match n.value() {
                    Node::Text(t) => raw.push_str(t),
                    Node::Element(e) => {
                        let name = e.name();
                        if n.id() != el.id()
                            && (skip.contains(&n.id())
                                || is_never_text(name)
                                || is_hidden(e)
                                || is_permalink(n))
                        {
                            skipping = Some(n.id());
                        } else if is_block(name) || name == "img" {
                            raw.push(' ');
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(n) => {
                if skipping == Some(n.id()) {
                    skipping = None;
                } else if skipping.is_none()
                    && let Node::Element(e) = n.value()
                    && is_block(e.name())
                {
                    raw.push(' ');
                }
            }
        }
    }
    normalize_ws(&raw)
}

/// Length of link text inside `el` (for link density), in characters.
pub fn link_text_len(el: ElementRef, skip: &NodeSet) -> usize {
    static A: std::sync::LazyLock<Selector> =
        std::sync::LazyLock::new(|| Selector::parse("a").unwrap());
    el.select(&A)
        .filter(|a| !skip.contains(&a.id()))
        .map(|a| text_of(a, skip).chars().count())
        .sum()
}

/// Deepest element nesting of a document, counted without recursion.
pub fn max_depth(html: &Html) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for edge in html.tree.root().traverse() {
        match edge {
            Edge::Open(_) => {
                depth += 1;
                max = max.max(depth);
            }
            Edge::Close(_) => depth -= 1,
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn han_runs_hold_only_ideographs() {
        for c in (0..=0x10_FFFFu32).filter_map(char::from_u32) {
            let s = c.to_string();
            let in_run = han_run_end(s.as_bytes(), 0) == s.len();
            assert_eq!(in_run, ('\u{5000}'..='\u{9FFF}').contains(&c), "{c:?}");
            if in_run {
                assert!(is_cjk(c) && !c.is_whitespace(), "{c:?}");
            }
        }
        assert_eq!(han_run_end("园区a".as_bytes(), 0), 6);
    }

    #[test]
    fn whitespace_rules() {
        assert_eq!(
            normalize_ws("　　闵行\n区 位于\u{a0}\u{a0}上海"),
            "闵行区 位于 上海"
        );
        assert_eq!(normalize_ws("Hello\nworld"), "Hello world");
        assert_eq!(normalize_ws("园区 \n 面积"), "园区 面积");
    }

    /// The whitespace rules read one character at a time: what the ASCII
    /// runs of [`normalize_ws`] must give.
    fn normalize_ws_by_chars(s: &str) -> String {
        let mut out = String::new();
        let mut pending: Option<bool> = None;
        let mut last: Option<char> = None;
        for c in s.chars().filter(|&c| !is_invisible(c)) {
            if c.is_whitespace() || matches!(c, '\u{00a0}' | '\u{3000}' | '\u{2028}' | '\u{2029}') {
                let newline = c == '\n' || c == '\r';
                pending = Some(
                    pending.map_or(newline, |only| only && (newline || c == ' ' || c == '\t')),
                );
                continue;
            }
            if let Some(only_nl) = pending.take()
                && let Some(prev) = last
                && !(only_nl && is_cjk(prev) && is_cjk(c))
            {
                out.push(' ');
            }
            out.push(c);
            last = Some(c);
        }
        out
    }

    #[test]
    fn ascii_runs_read_as_characters_do() {
        for s in [
            "",
            "  a  ",
            "ab\ncd",
            "中\n文\nab\n中",
            "ab\n\n中文",
            "中文\nab",
            "x\u{3000}\u{3000}y\t\u{b}z",
            "a\u{1}b \u{7f}c~!",
            "\u{ad}a\u{200b} \u{feff}\nb",
            "Ünïcode  words,\r\nand 中文。 \u{a0}end\n",
            "one two  three \tfour\n five 中 six 七 eight. Nine",
            " a b ",
        ] {
            assert_eq!(normalize_ws(s), normalize_ws_by_chars(s), "{s:?}");
            assert_eq!(normalize_ws(s), normalize_ws(s).trim(), "{s:?}");
        }
    }

    /// Every character, beside itself across a line break and between
    /// ASCII and CJK neighbours: the lead-byte runs decide plainness for
    /// each of them as the character-wise rules do.
    #[test]
    fn every_character_reads_as_characters_do() {
        for c in (0..=0x10_FFFFu32).filter_map(char::from_u32) {
            let s = format!("a{c}\n{c}中 {c}\u{3000}{c}b");
            assert_eq!(normalize_ws(&s), normalize_ws_by_chars(&s), "{:?}", c);
        }
    }

    #[test]
    fn invisible_characters_are_dropped_not_spaced() {
        assert_eq!(
            normalize_ws("\u{feff}Gemeinde\u{ad}zusammen\u{ad}legung am\u{200b} Dienstag"),
            "Gemeindezusammenlegung am Dienstag"
        );
        assert_eq!(
            normalize_ws("Amts\u{2060}leitung Bürger\u{200c}meister halten.\u{200d}"),
            "Amtsleitung Bürgermeister halten."
        );
        // Between CJK characters nothing is left, not even a space.
        assert_eq!(normalize_ws("园\u{200b}区"), "园区");
        assert_eq!(normalize_ws("\u{ad}\u{200b}"), "");
    }

    #[test]
    fn permalink_glyphs_are_not_text() {
        let html = Html::parse_fragment(
            "<h2>Sharing over HTTP<a class=headerlink href='#sharing-over-http'>¶</a></h2>\
             <p>See <a href='#notes'>#</a> and <a href='#notes'>the notes</a> or <a href='/x'>¶</a></p>",
        );
        let texts: Vec<String> = html
            .root_element()
            .child_elements()
            .map(|e| text_of(e, &NodeSet::default()))
            .collect();
        assert_eq!(texts, ["Sharing over HTTP", "See and the notes or ¶"]);
    }

    #[test]
    fn measures_the_tree_html5ever_built() {
        let deep = |s: &str| nests_deeper_than(&Html::parse_document(s), 1024);
        // Tables nest four elements per level (table, tbody, tr, td) where
        // the markup names three, two of them without end tags.
        assert!(deep(&"<table><tr><td>".repeat(300)));
        assert!(!deep(&"<table><tr><td>x</td></tr></table>".repeat(3000)));
        assert!(deep(&"<b><i>".repeat(600)));
        assert!(!deep(&"<p>x".repeat(5000)));
    }
}
