//! Stage 3b, blocks: the content's units → record blocks. In one pass over
//! the units, in order:
//!
//! 1. whitespace-only lines vanish;
//! 2. a repeat of the headline, a header line near the top, the site's name,
//!    a placeholder image name, or any named boilerplate pattern of the rule
//!    is removed and counted under its name; its named groups are captured;
//! 3. on profile pages, `label:value` lines with a known label become fields;
//! 4. a short line right after an image (removed lines in between do not
//!    count) is that image's caption;
//! 5. `<h1>`…`<h6>` and wholly bold short lines are headings; the rest are
//!    paragraphs. A last pass promotes short stand-alone lines between
//!    paragraphs (and `一、` numbered lines) to headings.
//!
//! What a line's shape makes it (caption, heading) is `blocks/shape.rs`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use url::Url;

use super::linear::{Line, Unit};
use super::promo;
use crate::document::Block;
use crate::extract::header::{self, Header};
use crate::extract::meta::resolve;
use crate::rules::{Kind, Rule};
use shape::{
    attach_orphan_caption, drop_trailing_headings, is_caption, is_marked_heading,
    is_orphan_caption, may_be_heading_by_position, promote_headings,
};

mod shape;

pub const PLACEHOLDER: &str = "placeholder-image-name";
/// The name promo lines are counted under, by pattern or by what they link.
pub const PROMO: &str = "promo-link";

pub struct Context<'a> {
    pub rule: &'a Rule,
    pub title: Option<&'a str>,
    pub site_names: &'a [&'a str],
    pub base: Option<&'a Url>,
    pub kind: Option<Kind>,
    /// Indices of units inside the rule's header elements.
    pub header_units: &'a std::collections::HashSet<usize>,
    /// The page, for policies that look at how units nest (promo boxes).
    pub html: Option<&'a scraper::Html>,
    /// What [`removal`] found for each line text seen on this page: pages
    /// repeat their boilerplate (a promo line after every picture), and a
    /// pattern's captures cost tens of times its match.
    pub removals: RefCell<HashMap<String, Removal>>,
}

/// A boilerplate pattern's name and what it captured, when a line matched.
type Removal = Option<(String, Vec<(String, String)>)>;

/// What the lines removed as boilerplate said.
#[derive(Debug, Default)]
pub struct Captures {
    pub park_name: Option<String>,
    pub park_url: Option<String>,
    pub source: Option<String>,
    pub author: Option<String>,
}

#[derive(Debug, Default)]
pub struct Built {
    pub blocks: Vec<Block>,
    pub removed: BTreeMap<String, u64>,
    pub captures: Captures,
    pub fields: Vec<(String, String)>,
    /// Header lines found inside the content.
    pub header: Header,
}

/// Why a line of text is not body text (what [`strip`] decided).
#[derive(Debug, PartialEq)]
enum Strip {
    /// Removed and counted under this name.
    Counted(&'static str),
    /// A header line, counted as `header-line`; its facts (if it parsed) go
    /// to the record's header.
    Header(Option<Header>),
    /// A placeholder image name: counted once per image.
    Placeholder,
    /// A named boilerplate pattern of the rule (or the site's name), with
    /// its named groups.
    Pattern(String, Vec<(String, String)>),
    /// A `label:value` line of a profile page: a field.
    Field(String, String),
    /// A promo line by what it links (`promo.rs`): the park and its name.
    Promo(promo::ParkLink, Option<String>),
}

/// The image block awaiting its caption, and whether its placeholder name
/// was already counted.
#[derive(Debug, Clone, Copy)]
struct Awaiting {
    block: usize,
    placeholder_counted: bool,
}

pub fn build(units: &[Unit], cx: &Context) -> Built {
    let mut out = Built::default();
    // The last image block while its caption may still follow.
    let mut awaiting: Option<Awaiting> = None;
    // Lines that may be headings by position alone (checked at the end).
    let mut plain_short: Vec<usize> = Vec::new();
    let mut seen_text = 0usize;
    // Blocks made of one link and nothing else (teasers of other pages).
    let mut link_lines: Vec<usize> = Vec::new();
    let site = SiteStyle::of(units, cx);

    for (index, unit) in units.iter().enumerate() {
        if site.skips(index, &mut out.removed) {
            continue;
        }
        let line = match unit {
            Unit::Line(l) => l,
            Unit::Image {
                src, alt, title, ..
            } => {
                awaiting = Some(push_image(&mut out, cx, src, alt, title));
                continue;
            }
            other => {
                out.blocks.extend(structured_block(cx, other));
                awaiting = None;
                continue;
            }
        };
        let after_image =
            awaiting.is_some() || matches!(out.blocks.last(), Some(Block::Image { .. }));
        if let Some(strip) = site.strip(cx, (index, line), seen_text, after_image) {
            apply_strip(&mut out, strip, &mut awaiting, line, cx.base);
            continue;
        }
        seen_text += 1;
        let text = line.text.as_str();

        if let Some(Awaiting { block, .. }) = awaiting.take()
            && is_caption(line)
            && let Some(Block::Image { caption, .. }) = out.blocks.get_mut(block)
        {
            *caption = Some(text.to_string());
            continue;
        }
        if is_orphan_caption(line) {
            attach_orphan_caption(&mut out.blocks, text);
            continue;
        }
        if is_link_line(line) {
            link_lines.push(out.blocks.len());
        }
        if is_marked_heading(line) {
            out.blocks.push(Block::Heading {
                text: text.to_string(),
            });
        } else {
            if may_be_heading_by_position(line) {
                plain_short.push(out.blocks.len());
            }
            out.blocks.push(Block::Paragraph {
                text: text.to_string(),
            });
        }
    }

    promote_headings(&mut out.blocks, &plain_short);
    for i in link_runs(&link_lines).into_iter().rev() {
        out.blocks.remove(i);
        count(&mut out.removed, "link-list");
    }
    let dropped = drop_trailing_headings(&mut out.blocks);
    for _ in 0..dropped {
        count(&mut out.removed, "empty-heading");
    }
    out
}

/// Pushes an image unit's block (its placeholder name counted) and returns
/// it as the block awaiting its caption.
fn push_image(
    out: &mut Built,
    cx: &Context,
    src: &Option<String>,
    alt: &Option<String>,
    title: &Option<String>,
) -> Awaiting {
    let (block, had) = image_block(cx, src, alt, title);
    if had {
        count(&mut out.removed, PLACEHOLDER);
    }
    out.blocks.push(block);
    Awaiting {
        block: out.blocks.len() - 1,
        placeholder_counted: had,
    }
}

fn count(removed: &mut BTreeMap<String, u64>, name: &str) {
    *removed.entry(name.to_string()).or_default() += 1;
}

/// An image unit's block, and whether its `alt` or `title` was a placeholder
/// name (dropped from `alt`: a file name says nothing to a reader).
fn image_block(
    cx: &Context,
    src: &Option<String>,
    alt: &Option<String>,
    title: &Option<String>,
) -> (Block, bool) {
    let is_ph = |v: &Option<String>| v.as_deref().is_some_and(|v| placeholder(cx.rule, v));
    let had = is_ph(alt) || is_ph(title);
    let alt = alt.clone().filter(|_| !is_ph(alt));
    let src = src
        .as_deref()
        .and_then(|s| resolve(cx.base, s))
        .map(|u| u.to_string());
    let block = Block::Image {
        src,
        alt,
        caption: None,
    };
    (block, had)
}

/// A list, table or quote unit's block; a list loses its boilerplate items
/// and is no block once none is left.
fn structured_block(cx: &Context, unit: &Unit) -> Option<Block> {
    match unit {
        Unit::List { items, .. } => {
            let items: Vec<String> = items
                .iter()
                .filter(|i| removal(cx, i).is_none())
                .cloned()
                .collect();
            (!items.is_empty()).then_some(Block::List { items })
        }
        Unit::Table { rows, .. } => Some(Block::Table { rows: rows.clone() }),
        Unit::Quote { text, .. } => Some(Block::Quote { text: text.clone() }),
        Unit::Line(_) | Unit::Image { .. } => None,
    }
}

/// Boilerplate policy: whether a line is something other than body text,
/// and what. The order matters (first match wins): a repeat of the headline;
/// a line of the rule's header element, whatever it says; a run of several
/// links and nothing else (tab bar, tag list, navigation); a line of header
/// labels only; a header line near the top (before the third line of text,
/// at most 160 characters, with a date or two facts: a dateline, never a
/// sentence that happens to hold a date); a placeholder image name; a named
/// pattern of the rule; on profile pages, a `label:value` line with a known
/// label.
fn strip(cx: &Context, index: usize, line: &Line, seen_text: usize) -> Option<Strip> {
    let text = line.text.as_str();
    if cx.title.is_some_and(|t| t == text) {
        return Some(Strip::Counted("title"));
    }
    if cx.header_units.contains(&index) {
        let h = header::parse(text, &cx.rule.labels, &cx.rule.timezone);
        return Some(Strip::Header(h));
    }
    if is_link_list(line) {
        return Some(Strip::Counted("link-list"));
    }
    if header::only_labels(text, &cx.rule.labels) {
        return Some(Strip::Header(None));
    }
    if let Some(h) = dateline(cx.rule, text, seen_text) {
        return Some(Strip::Header(Some(h)));
    }
    if placeholder(cx.rule, text) {
        return Some(Strip::Placeholder);
    }
    if let Some((name, caps)) = removal(cx, text) {
        return Some(Strip::Pattern(name, caps));
    }
    if cx.kind == Some(Kind::Park)
        && let Some((label, value)) = crate::extract::fields::split_pair(text, 12)
        && cx.rule.labels.field.contains(&label)
    {
        return Some(Strip::Field(label, value));
    }
    None
}

/// Records what [`strip`] decided: counts, header facts, captures, fields.
fn apply_strip(
    out: &mut Built,
    strip: Strip,
    awaiting: &mut Option<Awaiting>,
    line: &Line,
    base: Option<&Url>,
) {
    match strip {
        Strip::Counted(name) => count(&mut out.removed, name),
        Strip::Header(h) => {
            if let Some(h) = h {
                out.header.merge(h);
            }
            count(&mut out.removed, "header-line");
        }
        // The name under an image that already showed it is one name.
        Strip::Placeholder => match awaiting {
            Some(Awaiting {
                placeholder_counted: true,
                ..
            }) => {}
            Some(a) => {
                a.placeholder_counted = true;
                count(&mut out.removed, PLACEHOLDER);
            }
            None => count(&mut out.removed, PLACEHOLDER),
        },
        Strip::Pattern(name, caps) => {
            count(&mut out.removed, &name);
            absorb(&mut out.captures, caps, line, base);
        }
        Strip::Field(label, value) => out.fields.push((label, value)),
        Strip::Promo(park, name) => {
            count(&mut out.removed, PROMO);
            keep_park(&mut out.captures, park, name);
        }
    }
}

/// What the site-style policies (`promo.rs`) found on the whole content
/// before the pass: parks that promo lines repeat, and the units of promo
/// boxes and of park pages' chrome sections, with their names.
struct SiteStyle {
    repeated: HashSet<String>,
    sections: HashMap<usize, &'static str>,
}

impl SiteStyle {
    fn of(units: &[Unit], cx: &Context) -> SiteStyle {
        let mut sections = promo::promo_boxes(units, cx.html);
        if cx.kind == Some(Kind::Park) {
            sections.extend(promo::park_page_sections(cx.rule, units, cx.base));
        }
        SiteStyle {
            repeated: promo::repeated_parks(cx.rule, units, cx.base),
            sections,
        }
    }

    /// Whether unit `index` is part of a section that goes; a section is
    /// counted once, at its first unit.
    fn skips(&self, index: usize, removed: &mut BTreeMap<String, u64>) -> bool {
        let Some(name) = self.sections.get(&index) else {
            return false;
        };
        if index == 0 || self.sections.get(&(index - 1)) != Some(name) {
            count(removed, name);
        }
        true
    }

    /// [`strip`], then the promo policy: a line that advertises one of the
    /// site's parks by what it links (see `promo::promo_park`).
    fn strip(
        &self,
        cx: &Context,
        (index, line): (usize, &Line),
        seen_text: usize,
        after_image: bool,
    ) -> Option<Strip> {
        strip(cx, index, line, seen_text).or_else(|| {
            promo::promo_park(cx.rule, line, cx.base, after_image, &self.repeated)
                .map(|(park, name)| Strip::Promo(park, name))
        })
    }
}

/// The first promo line's park is the page's park (as with `absorb`); a
/// later line to the same page may give its name.
fn keep_park(c: &mut Captures, park: promo::ParkLink, name: Option<String>) {
    match &c.park_url {
        None if c.park_name.is_none() => {
            c.park_url = Some(park.url);
            c.park_name = name;
        }
        None => c.park_url = Some(park.url),
        Some(u) if *u == park.url && c.park_name.is_none() => c.park_name = name,
        Some(_) => {}
    }
}

/// Link-list policy: three or more links and (almost) nothing else — at
/// least 90% of the line's visible characters are link text — is a tab bar,
/// a tag list or navigation, not content.
fn is_link_list(line: &Line) -> bool {
    let link_chars: usize = line.links.iter().map(|(t, _)| t.chars().count()).sum();
    let own_chars = line.text.chars().filter(|c| !c.is_whitespace()).count();
    line.links.len() >= 3 && link_chars * 10 >= own_chars * 9
}

/// Dateline policy: a header line inside the content (date, byline, views)
/// counts only before the text begins (fewer than three lines of text seen),
/// only if short (≤ 160 characters: a sentence mentioning a date is body),
/// and only if it gives a date or at least two facts.
fn dateline(rule: &Rule, text: &str, seen_text: usize) -> Option<Header> {
    if seen_text >= 3 || text.chars().count() > 160 {
        return None;
    }
    header::parse(text, &rule.labels, &rule.timezone)
        .filter(|h| h.published_at.is_some() || h.facts() >= 2)
}

/// Link-line policy: a line that is (at least 90%) one link's text. Alone
/// it is a reference; in a run, see [`link_runs`].
fn is_link_line(line: &Line) -> bool {
    let linked: usize = line.links.iter().map(|(t, _)| t.chars().count()).sum();
    linked * 10 >= line.text.chars().count() * 9
}

/// Two or more link lines in a row (block indices `a`, `a + 1`, …) are a list
/// of other pages ("You may also like"), however it is marked up: these
/// indices, ascending.
fn link_runs(link_lines: &[usize]) -> Vec<usize> {
    let mut drop: Vec<usize> = Vec::new();
    for run in link_lines.chunk_by(|a, b| a + 1 == *b) {
        if run.len() >= 2 {
            drop.extend_from_slice(run);
        }
    }
    drop
}

/// The named boilerplate pattern `text` matches, with its captures
/// (remembered per page, see [`Context::removals`]).
fn removal(cx: &Context, text: &str) -> Removal {
    if let Some(known) = cx.removals.borrow().get(text) {
        return known.clone();
    }
    let found = first_removal(cx, text);
    cx.removals
        .borrow_mut()
        .insert(text.to_string(), found.clone());
    found
}

fn first_removal(cx: &Context, text: &str) -> Removal {
    if cx.site_names.contains(&text) {
        return Some(("site-name".to_string(), Vec::new()));
    }
    let admitted = cx.rule.boilerplate_gates.admitted(text);
    cx.rule.boilerplate.iter().enumerate().find_map(|(i, b)| {
        // Most lines match no pattern: the gate or `is_match` says so
        // without the captures' allocation and slot search.
        if !admitted.has(i) || !b.regex.is_match(text) {
            return None;
        }
        // Captures cost tens of times a match: only a pattern that names
        // what it captures needs them.
        if b.regex.capture_names().flatten().next().is_none() {
            return Some((b.name.clone(), Vec::new()));
        }
        let c = b.regex.captures(text)?;
        let caps = b
            .regex
            .capture_names()
            .flatten()
            .filter_map(|n| {
                c.name(n)
                    .map(|m| (n.to_string(), m.as_str().trim().to_string()))
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Some((b.name.clone(), caps))
    })
}

fn placeholder(rule: &Rule, text: &str) -> bool {
    rule.boilerplate
        .iter()
        .any(|b| b.name == PLACEHOLDER && b.regex.is_match(text.trim()))
}

/// Keeps what a removed line said; the first line to say a thing wins.
fn absorb(c: &mut Captures, caps: Vec<(String, String)>, line: &Line, base: Option<&Url>) {
    let mut named_park = false;
    for (k, v) in caps {
        match k.as_str() {
            "park_name" if c.park_name.is_none() => {
                c.park_name = Some(v);
                named_park = true;
            }
            "park_url" if c.park_url.is_none() => {
                let v = if v.starts_with("http") {
                    v
                } else {
                    format!("http://{v}")
                };
                c.park_url = resolve(base, &v).map(|u| u.to_string());
            }
            "source" if c.source.is_none() => c.source = Some(v),
            "author" if c.author.is_none() => c.author = Some(v),
            _ => {}
        }
    }
    // A promo whose link text hides the URL: the link says where it goes.
    if named_park
        && c.park_url.is_none()
        && let Some((_, href)) = line.links.first()
    {
        c.park_url = resolve(base, href).map(|u| u.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::shape::*;
    use super::*;
    use crate::rules::RuleSet;
    use std::collections::HashSet;

    fn line(text: &str) -> Line {
        Line {
            text: text.to_string(),
            strong: false,
            heading: None,
            centered: false,
            figcaption: false,
            links: Vec::new(),
            node: ego_tree::Tree::new(()).root().id(),
        }
    }

    fn para(text: &str) -> Block {
        Block::Paragraph {
            text: text.to_string(),
        }
    }

    fn heading(text: &str) -> Block {
        Block::Heading {
            text: text.to_string(),
        }
    }

    fn linked(text: &str, links: &[&str]) -> Line {
        Line {
            links: links
                .iter()
                .map(|t| (t.to_string(), "/x".to_string()))
                .collect(),
            ..line(text)
        }
    }

    #[test]
    fn a_caption_is_short_plain_and_not_a_sentence() {
        assert!(is_caption(&line("园区鸟瞰图")));
        assert!(!is_caption(&line("园区鸟瞰图。")));
        assert!(!is_caption(&line(&"长".repeat(CAPTION_MAX + 1))));
        let bold = Line {
            strong: true,
            ..line("园区鸟瞰图")
        };
        assert!(!is_caption(&bold));
        assert!(is_caption(&Line {
            centered: true,
            ..bold
        }));
        let h = Line {
            heading: Some(2),
            ..line("园区鸟瞰图")
        };
        assert!(!is_caption(&h));
        let fig = Line {
            figcaption: true,
            ..line(&"长句子，".repeat(20))
        };
        assert!(is_caption(&fig));
    }

    #[test]
    fn an_orphan_caption_extends_the_last_caption_or_stands_as_a_figure() {
        assert!(is_orphan_caption(&Line {
            figcaption: true,
            ..line("图二")
        }));
        assert!(!is_orphan_caption(&Line {
            figcaption: true,
            heading: Some(3),
            ..line("图二")
        }));
        let mut blocks = vec![para("正文")];
        attach_orphan_caption(&mut blocks, "图一");
        attach_orphan_caption(&mut blocks, "摄影：张三");
        assert_eq!(
            blocks,
            vec![
                para("正文"),
                Block::Image {
                    src: None,
                    alt: None,
                    caption: Some("图一 摄影：张三".to_string()),
                }
            ]
        );
    }

    #[test]
    fn headings_by_markup_and_by_position() {
        assert!(is_marked_heading(&Line {
            heading: Some(1),
            ..line("很长的一句话，写在标题标签里。")
        }));
        assert!(is_marked_heading(&Line {
            strong: true,
            ..line("政策解读")
        }));
        assert!(!is_marked_heading(&Line {
            strong: true,
            ..line("加粗的一句话。")
        }));
        assert!(may_be_heading_by_position(&line("政策解读")));
        assert!(!may_be_heading_by_position(&line("一")));
        assert!(!may_be_heading_by_position(&Line {
            centered: true,
            ..line("政策解读")
        }));
    }

    #[test]
    fn a_short_line_between_paragraphs_or_a_numbered_title_is_promoted() {
        let body = "这是一段足够长的正文，它说明了本节的具体内容和要求，共三十个字以上。";
        let mut blocks = vec![
            para(body),
            para("总体要求"),
            para(body),
            para("一、工作目标"),
            para("上海市某某局"),
            para("2024年1月2日"),
            para(body),
        ];
        promote_headings(&mut blocks, &[1, 3, 4, 5]);
        assert_eq!(
            blocks,
            vec![
                para(body),
                heading("总体要求"),
                para(body),
                heading("一、工作目标"),
                para("上海市某某局"),
                para("2024年1月2日"),
                para(body),
            ]
        );
        assert!(numbered_heading("（二）保障措施"));
        assert!(numbered_heading("第三章 附则"));
        assert!(!numbered_heading("二〇二四年"));
    }

    #[test]
    fn link_lists_and_runs_of_link_lines() {
        assert!(is_link_list(&linked(
            "首页 新闻 政策",
            &["首页", "新闻", "政策"]
        )));
        assert!(!is_link_list(&linked("首页 新闻", &["首页", "新闻"])));
        assert!(!is_link_list(&linked(
            "首页 新闻 政策 以及一段不是链接的文字",
            &["首页", "新闻", "政策"]
        )));
        assert!(is_link_line(&linked(
            "相关阅读：某园区",
            &["相关阅读：某园区"]
        )));
        assert!(!is_link_line(&linked("详见某园区的公告", &["公告"])));
        assert_eq!(link_runs(&[1, 3, 4, 5, 8, 10, 11]), vec![3, 4, 5, 10, 11]);
        assert_eq!(link_runs(&[2]), Vec::<usize>::new());
    }

    #[test]
    fn trailing_headings_go_and_are_counted() {
        let mut blocks = vec![
            heading("概况"),
            para("正文"),
            heading("联系方式"),
            heading("地址"),
        ];
        assert_eq!(drop_trailing_headings(&mut blocks), 2);
        assert_eq!(blocks, vec![heading("概况"), para("正文")]);
    }

    #[test]
    fn boilerplate_policy_in_order() {
        let rules = RuleSet::builtin().unwrap();
        let rule = rules.get("generic").unwrap();
        let header_units: HashSet<usize> = [5].into_iter().collect();
        let cx = Context {
            rule,
            title: Some("园区简介"),
            site_names: &["某某园区网"],
            base: None,
            kind: None,
            header_units: &header_units,
            html: None,
            removals: Default::default(),
        };
        let strip_of = |text: &str, index, seen| strip(&cx, index, &line(text), seen);
        assert_eq!(strip_of("园区简介", 0, 0), Some(Strip::Counted("title")));
        assert!(matches!(strip_of("任何文字", 5, 9), Some(Strip::Header(_))));
        assert_eq!(
            strip_of("某某园区网", 0, 0),
            Some(Strip::Pattern("site-name".to_string(), Vec::new()))
        );
        assert_eq!(
            strip_of("微信图片_20220101.jpg", 0, 0),
            Some(Strip::Placeholder)
        );
        assert_eq!(strip_of("园区位于城市东部，交通便利。", 0, 0), None);
        // A dateline counts only before the text begins.
        let date = "发布时间：2024-01-02";
        assert!(matches!(strip_of(date, 0, 0), Some(Strip::Header(Some(_)))));
        assert!(dateline(rule, date, 2).is_some());
        assert!(dateline(rule, date, 3).is_none());
    }
}
