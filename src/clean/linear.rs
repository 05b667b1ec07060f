//! Stage 3a, linearize: a DOM subtree → a flat list of [`Unit`]s in reading
//! order (text lines, images, lists, tables, quotes). Every later decision
//! (boilerplate, captions, headings) is made on this list, not on the DOM, so
//! that the same rules hold whatever markup a CMS wraps its lines in.

use crate::dom::NodeSet;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Node};

use crate::dom::{
    is_block, is_never_text, is_permalink, normalize_ws, rows_of, style_hides, text_of,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    Line(Line),
    Image {
        src: Option<String>,
        alt: Option<String>,
        title: Option<String>,
        node: NodeId,
    },
    List {
        items: Vec<String>,
        node: NodeId,
    },
    Table {
        rows: Vec<Vec<String>>,
        node: NodeId,
    },
    Quote {
        text: String,
        node: NodeId,
    },
}

impl Unit {
    pub fn node(&self) -> NodeId {
        match self {
            Unit::Line(l) => l.node,
            Unit::Image { node, .. }
            | Unit::List { node, .. }
            | Unit::Table { node, .. }
            | Unit::Quote { node, .. } => *node,
        }
    }
}

/// One line of text, with what its markup says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    /// Every character is bold (`<strong>`, `<b>`): a heading candidate.
    pub strong: bool,
    /// Inside `<h1>`…`<h6>`.
    pub heading: Option<u8>,
    /// Centered (`text-align:center`, `align=center`, `<center>`): often a caption.
    pub centered: bool,
    /// Inside `<figcaption>`: a caption by markup.
    pub figcaption: bool,
    /// Links on the line: (text, href as written).
    pub links: Vec<(String, String)>,
    /// The block element the line started in.
    pub node: NodeId,
}

/// Context of the element being walked, pushed on open and popped on close.
#[derive(Clone, Copy, Default)]
struct Ctx {
    strong: bool,
    heading: Option<u8>,
    centered: bool,
    figcaption: bool,
}

struct Builder<'a> {
    skip: &'a NodeSet,
    units: Vec<Unit>,
    buf: String,
    strong_chars: usize,
    chars: usize,
    links: Vec<(String, String)>,
    line_ctx: Ctx,
    line_node: Option<NodeId>,
    /// Where, in a line that began in a caption, the text outside the
    /// caption begins (a byte offset in `buf`).
    after_caption: Option<usize>,
}

/// Text after an inline caption that is at least this long (characters,
/// whitespace not counted) is the paragraph's, not part of the caption.
const PARAGRAPH_AFTER_CAPTION: usize = 60;

impl Builder<'_> {
    fn flush(&mut self) {
        if let Some(at) = self.after_caption.take()
            && let Some(node) = self.line_node
            && let Some(tail) = self.buf.get(at..)
        {
            // `<p><span class=caption>Photo: …</span> The story begins …`:
            // the caption is a line, the paragraph another; read as one,
            // the paragraph would go as a caption (or, opening with ©, as a
            // footer). A short tail is the caption's credit.
            let tail = normalize_ws(tail);
            if tail.chars().filter(|c| !c.is_whitespace()).count() >= PARAGRAPH_AFTER_CAPTION {
                self.buf.truncate(at);
                let links = std::mem::take(&mut self.links);
                self.flush();
                self.units.push(Unit::Line(Line {
                    strong: false,
                    heading: None,
                    centered: false,
                    figcaption: false,
                    links,
                    node,
                    text: tail,
                }));
                return;
            }
        }
        let text = normalize_ws(&self.buf);
        if !text.is_empty()
            && let Some(node) = self.line_node
        {
            self.units.push(Unit::Line(Line {
                strong: self.chars > 0 && self.strong_chars == self.chars,
                heading: self.line_ctx.heading,
                centered: self.line_ctx.centered,
                figcaption: self.line_ctx.figcaption,
                links: std::mem::take(&mut self.links),
                node,
                text,
            }));
        }
        self.buf.clear();
        self.links.clear();
        self.strong_chars = 0;
        self.chars = 0;
        self.line_node = None;
    }

    fn text(&mut self, t: &str, ctx: Ctx, block: NodeId) {
        let n = visible_chars(t);
        if self.line_node.is_none() {
            if n == 0 {
                // Whitespace before any text does not start a line.
                self.buf.push(' ');
                return;
            }
            self.line_node = Some(block);
            self.line_ctx = ctx;
        } else if self.line_ctx.figcaption
            && !ctx.figcaption
            && self.after_caption.is_none()
            && n > 0
        {
            self.after_caption = Some(self.buf.len());
        }
        self.chars += n;
        if ctx.strong || ctx.heading.is_some() {
            self.strong_chars += n;
        }
        self.buf.push_str(t);
    }
}

/// Characters of `t` that are not whitespace (U+3000 is whitespace too),
/// ASCII counted by bytes.
fn visible_chars(t: &str) -> usize {
    if t.is_ascii() {
        return t
            .bytes()
            .filter(|b| !b.is_ascii_whitespace() && *b != 0x0b)
            .count();
    }
    t.chars().filter(|c| !c.is_whitespace()).count()
}

/// Linearizes `root`, skipping the subtrees in `skip` (dropped boilerplate,
/// fields and items already taken), and stopping once `end` has closed:
/// lines after the content are never used, and footers and sidebars are
/// much of a page.
pub fn linearize(root: ElementRef, skip: &NodeSet, end: Option<NodeId>) -> Vec<Unit> {
    let mut b = Builder {
        skip,
        units: Vec::new(),
        buf: String::new(),
        strong_chars: 0,
        chars: 0,
        links: Vec::new(),
        line_ctx: Ctx::default(),
        line_node: None,
        after_caption: None,
    };
    let mut stack: Vec<(Ctx, NodeId)> = vec![(Ctx::default(), root.id())];
    let mut skipping: Option<NodeId> = None;

    for edge in root.traverse() {
        match edge {
            Edge::Open(n) => {
                if skipping.is_some() {
                    continue;
                }
                let (ctx, block) = *stack.last().expect("stack holds the root");
                match n.value() {
                    Node::Text(t) => b.text(t, ctx, block),
                    Node::Element(_) => {
                        let el = ElementRef::wrap(n).expect("element node");
                        match b.open(el, n.id() == root.id(), ctx, block) {
                            Opened::Skip => skipping = Some(n.id()),
                            Opened::Void => {}
                            Opened::Walk(inner) => stack.push(inner),
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
                    && e.name() != "img"
                {
                    if is_block(e.name()) {
                        b.flush();
                    }
                    stack.pop();
                }
                if end == Some(n.id()) {
                    break;
                }
            }
        }
    }
    b.flush();
    b.units
}

/// What opening an element means for the walk.
enum Opened {
    /// Its subtree is skipped (hidden, never text, or taken whole as a unit).
    Skip,
    /// A void element already handled (`<img>`): its Close follows at once.
    Void,
    /// Walk inside it with this context and block.
    Walk((Ctx, NodeId)),
}

impl Builder<'_> {
    /// Opens an element inside context `ctx` and block `block`.
    fn open(&mut self, el: ElementRef, is_root: bool, ctx: Ctx, block: NodeId) -> Opened {
        let name = el.value().name();
        let a = Attrs::of(el.value());
        let permalink = a.href.is_some() && is_permalink(*el);
        if !is_root
            && (self.skip.contains(&el.id()) || is_never_text(name) || a.hides() || permalink)
        {
            return Opened::Skip;
        }
        if name == "img" {
            self.flush();
            if let Some(u) = image(el) {
                self.units.push(u);
            }
            return Opened::Void;
        }
        let block_el = is_block(name);
        if block_el {
            self.flush();
        }
        if !is_root && let Some(unit) = structured(el, name, self.skip) {
            self.units.push(unit);
            return Opened::Skip;
        }
        if name == "a"
            && let Some(href) = a.href
        {
            self.links.push((text_of(el, self.skip), href.to_string()));
        }
        let inner = inner_ctx(ctx, name, &a, block_el);
        Opened::Walk((inner, if block_el { el.id() } else { block }))
    }
}

/// The attributes the walk looks at, read in one pass: each `attr()` is a
/// search of its own, and this runs for every element.
#[derive(Debug, Default, Clone, Copy)]
struct Attrs<'a> {
    style: Option<&'a str>,
    align: Option<&'a str>,
    class: Option<&'a str>,
    href: Option<&'a str>,
    hidden: bool,
}

impl<'a> Attrs<'a> {
    fn of(e: &'a scraper::node::Element) -> Self {
        let mut a = Attrs::default();
        for (k, v) in e.attrs() {
            match k {
                "style" => a.style = Some(v),
                "align" => a.align = Some(v),
                "class" => a.class = Some(v),
                "href" => a.href = Some(v),
                "hidden" => a.hidden = true,
                _ => {}
            }
        }
        a
    }

    /// `hidden`, or a style that hides the element: no reader sees it.
    fn hides(&self) -> bool {
        self.hidden || self.style.is_some_and(style_hides)
    }
}

/// Inline styles that make text bold.
const BOLD_STYLES: &[&str] = &["font-weight:bold", "font-weight: bold", "font-weight:700"];

/// What an element's markup says about the lines inside it, given the
/// context `ctx` it opens in: bold, heading level, centered, caption.
fn inner_ctx(ctx: Ctx, name: &str, a: &Attrs, block_el: bool) -> Ctx {
    let mut c = ctx;
    c.strong |= is_bold(name, a.style);
    if let Some(level) = heading_level(name) {
        c.heading = Some(level);
    }
    if block_el {
        // Centering is inherited by blocks inside a centered block, but a
        // new paragraph, div or cell says for itself.
        c.centered = centers(name, a) || (ctx.centered && !matches!(name, "p" | "div" | "td"));
    } else if name == "center" {
        c.centered = true;
    }
    c.figcaption |= marks_caption(name, a.class);
    c
}

/// `<strong>`, `<b>`, or a bold inline style.
fn is_bold(name: &str, style: Option<&str>) -> bool {
    matches!(name, "strong" | "b")
        || style.is_some_and(|s| BOLD_STYLES.iter().any(|b| s.contains(b)))
}

/// The level of `<h1>`…`<h6>`.
fn heading_level(name: &str) -> Option<u8> {
    name.strip_prefix('h')
        .and_then(|d| d.parse::<u8>().ok())
        .filter(|l| (1..=6).contains(l))
}

/// `<center>`, `align=center`, or `text-align:center` in the style.
fn centers(name: &str, a: &Attrs) -> bool {
    name == "center"
        || a.align.is_some_and(|v| v.eq_ignore_ascii_case("center"))
        || a.style.is_some_and(|s| {
            s.replace(' ', "")
                .to_ascii_lowercase()
                .contains("text-align:center")
        })
}

/// A caption by markup: `<figcaption>`, any text inside a `<figure>`, or an
/// element named for captions/credits (not the page's outer elements, whose
/// classes are themes and feature flags).
fn marks_caption(name: &str, class: Option<&str>) -> bool {
    matches!(name, "figcaption" | "figure")
        || (!matches!(name, "body" | "html" | "main" | "article")
            && class.is_some_and(names_caption))
}

/// Class name endings that say caption or credit.
const CAPTION_CLASS_ENDS: &[&str] = &[
    "caption",
    "caption-text",
    "caption_text",
    "credit",
    "credits",
];

/// A class that says caption or credit (`wp-caption-text`, `newsCaption`,
/// `photo-credit`).
fn names_caption(class: &str) -> bool {
    // The name must end in it: `f_caption_muted_videos_on` on <body> is a
    // feature flag, not a caption.
    class.split_whitespace().any(|c| {
        let c = c.to_ascii_lowercase();
        CAPTION_CLASS_ENDS.iter().any(|end| c.ends_with(end))
    })
}

/// The `data-*` attributes where lazy-loading CMSs keep an image's real
/// address, in order of preference. The pre-parse scan keeps them.
pub const LAZY_SRC: &[&str] = &["data-original", "data-src", "data-lazy-src", "data-url"];

/// An image unit; None for spacers, icons and tracking pixels.
fn image(el: ElementRef) -> Option<Unit> {
    let e = el.value();
    let attr = |k: &str| e.attr(k).map(str::trim).filter(|v| !v.is_empty());
    // Lazy-loading CMSs put a spinner in src and the picture in data-*.
    let lazy = LAZY_SRC.iter().find_map(|k| attr(k));
    // The data-* attribute is the picture; src holds it too or a spinner.
    let src = lazy.or_else(|| attr("src"));
    if src.is_some_and(|s| is_spacer(s) || s.starts_with("data:")) {
        return None;
    }
    let tiny = |k: &str| {
        attr(k)
            .and_then(|v| v.trim_end_matches("px").parse::<u32>().ok())
            .is_some_and(|v| v <= 16)
    };
    if tiny("width") || tiny("height") {
        return None;
    }
    Some(Unit::Image {
        src: src.map(str::to_string),
        alt: attr("alt").map(normalize_ws),
        title: attr("title").map(normalize_ws),
        node: el.id(),
    })
}

fn is_spacer(src: &str) -> bool {
    let file = src.rsplit('/').next().unwrap_or(src).to_ascii_lowercase();
    [
        "spacer",
        "blank.",
        "pixel",
        "loading",
        "lazy.",
        "grey.gif",
        "transparent",
        "1x1",
        "placeholder",
    ]
    .iter()
    .any(|p| file.contains(p))
}

/// Lists, data tables and quotes that become one unit. Lists and tables used
/// for layout (holding images, paragraphs, nested tables) return None and are
/// walked as containers.
fn structured(el: ElementRef, name: &str, skip: &NodeSet) -> Option<Unit> {
    match name {
        "ul" | "ol" => {
            let mut items = Vec::new();
            for li in el.child_elements().filter(|c| c.value().name() == "li") {
                if has_layout_content(li) {
                    return None;
                }
                let t = text_of(li, skip);
                if !t.is_empty() {
                    items.push(t);
                }
            }
            (!items.is_empty()).then_some(Unit::List {
                items,
                node: el.id(),
            })
        }
        "table" => {
            if has_layout_content(el) {
                return None;
            }
            let rows: Vec<Vec<String>> = rows_of(el)
                .into_iter()
                .map(|tr| {
                    tr.child_elements()
                        .filter(|c| matches!(c.value().name(), "td" | "th"))
                        .map(|c| text_of(c, skip))
                        .collect::<Vec<_>>()
                })
                .filter(|r: &Vec<String>| r.iter().any(|c| !c.is_empty()))
                .collect();
            let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
            // A one-column or one-row "table" is layout, not data.
            if rows.len() < 2 || cols < 2 {
                return None;
            }
            Some(Unit::Table {
                rows,
                node: el.id(),
            })
        }
        "blockquote" => {
            // Paragraphs inside a quote are the quote's; pictures and tables
            // make it a container.
            let layout = el.descendants().skip(1).any(|n| {
                matches!(n.value(), Node::Element(e) if matches!(e.name(), "img" | "table" | "figure" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol"))
            });
            if layout {
                return None;
            }
            let text = text_of(el, skip);
            (!text.is_empty()).then_some(Unit::Quote {
                text,
                node: el.id(),
            })
        }
        _ => None,
    }
}

/// Content that makes a list, table or quote a layout container: images,
/// nested tables, paragraphs, headings, or long runs of text.
fn has_layout_content(el: ElementRef) -> bool {
    el.descendants().skip(1).any(|n| match n.value() {
        Node::Element(e) => matches!(
            e.name(),
            "img"
                | "table"
                | "p"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "figure"
                | "video"
                | "iframe"
        ),
        Node::Text(t) => t.len() > 600,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    #[test]
    fn visible_chars_count_as_characters_do() {
        for t in [
            "",
            " \t\n\u{b}\u{c}\r",
            "a b\u{1c}",
            "园\u{3000}区 x",
            "\u{a0}é\u{85}",
        ] {
            let by_chars = t
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
                .count();
            assert_eq!(visible_chars(t), by_chars, "{t:?}");
        }
    }

    fn lines(html: &str) -> Vec<Unit> {
        let doc = Html::parse_document(html);
        linearize(doc.root_element(), &NodeSet::default(), None)
    }

    #[test]
    fn lines_images_and_marks() {
        let u = lines(
            "<div><p>　　第一段<b>加粗</b>。</p><p><strong>小标题</strong></p>\
             <p style=\"text-align: center\"><img src=\"/a/2.jpg\" alt=\"2.jpg\"></p>\
             <p align=center>图注</p>第二<br>行<img src=spacer.gif></div>",
        );
        let texts: Vec<_> = u
            .iter()
            .map(|u| match u {
                Unit::Line(l) => format!("{}|{}|{}", l.text, l.strong, l.centered),
                Unit::Image { src, .. } => format!("img:{}", src.as_deref().unwrap()),
                _ => "?".into(),
            })
            .collect();
        assert_eq!(
            texts,
            [
                "第一段加粗。|false|false",
                "小标题|true|false",
                "img:/a/2.jpg",
                "图注|false|true",
                "第二|false|false",
                "行|false|false"
            ]
        );
    }

    #[test]
    fn data_tables_and_lists_are_units_layout_tables_are_not() {
        let u = lines(
            "<table><tr><td><p>布局表格里的正文段落。</p></td></tr></table>\
             <table><tr><th>项目</th><th>金额</th></tr><tr><td>补贴</td><td>100万</td></tr></table>\
             <ul><li>一</li><li>二</li></ul>",
        );
        assert!(matches!(&u[0], Unit::Line(l) if l.text == "布局表格里的正文段落。"));
        assert!(
            matches!(&u[1], Unit::Table { rows, .. } if rows == &vec![vec!["项目".to_string(), "金额".into()], vec!["补贴".into(), "100万".into()]])
        );
        assert!(
            matches!(&u[2], Unit::List { items, .. } if items == &vec!["一".to_string(), "二".into()])
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!(
            "{}深处{}",
            "<span>".repeat(50_000),
            "</span>".repeat(50_000)
        );
        let u = lines(&html);
        assert!(matches!(&u[0], Unit::Line(l) if l.text == "深处"));
    }

    #[test]
    fn markup_says_bold_heading_centered_caption() {
        assert!(is_bold("b", None) && is_bold("span", Some("color:red;font-weight:700")));
        assert!(!is_bold("span", Some("font-weight:400")));
        assert_eq!(heading_level("h3"), Some(3));
        assert_eq!(heading_level("h7"), None);
        assert_eq!(heading_level("hr"), None);
        let centered = Attrs {
            style: Some("TEXT-ALIGN: center"),
            ..Attrs::default()
        };
        assert!(centers("p", &centered));
        assert!(centers("center", &Attrs::default()));
        assert!(centers(
            "div",
            &Attrs {
                align: Some("CENTER"),
                ..Attrs::default()
            }
        ));
        assert!(!centers("div", &Attrs::default()));
        assert!(marks_caption("figure", None));
        assert!(marks_caption("p", Some("wp-caption-text")));
        assert!(!marks_caption("body", Some("page-caption")));
        assert!(!names_caption("f_caption_muted_videos_on"));
        let hidden = Attrs {
            style: Some("display:none"),
            ..Attrs::default()
        };
        assert!(hidden.hides());
        assert!(!Attrs::default().hides());
    }

    #[test]
    fn a_new_paragraph_says_for_itself_whether_it_is_centered() {
        let outer = inner_ctx(Ctx::default(), "center", &Attrs::default(), true);
        assert!(outer.centered);
        assert!(inner_ctx(outer, "section", &Attrs::default(), true).centered);
        assert!(!inner_ctx(outer, "p", &Attrs::default(), true).centered);
        assert!(inner_ctx(outer, "span", &Attrs::default(), false).centered);
        let h = inner_ctx(Ctx::default(), "h2", &Attrs::default(), true);
        assert_eq!(h.heading, Some(2));
        assert!(!h.strong);
    }
}
