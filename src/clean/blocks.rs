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

use std::collections::{BTreeMap, HashMap, HashSet};

use url::Url;

use super::linear::{Line, Unit};
use super::promo;
use crate::document::Block;
use crate::extract::header::{self, Header};
use crate::extract::meta::resolve;
use crate::rules::{Kind, Rule};

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
}

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

/// A caption is short and not a sentence.
const CAPTION_MAX: usize = 40;
/// A heading is short.
const HEADING_MAX: usize = 40;

pub fn build(units: &[Unit], cx: &Context) -> Built {
    let mut out = Built::default();
    let count =
        |out: &mut Built, name: &str| *out.removed.entry(name.to_string()).or_default() += 1;
    // Index of the last image block while its caption may still follow, and
    // whether its placeholder name was already counted.
    let mut awaiting: Option<(usize, bool)> = None;
    // Lines that may be headings by position alone (checked at the end).
    let mut plain_short: Vec<usize> = Vec::new();
    let mut seen_text = 0usize;
    // Blocks made of one link and nothing else (teasers of other pages).
    let mut link_lines: Vec<usize> = Vec::new();
    let site = SiteStyle::of(units, cx);

    for (index, unit) in units.iter().enumerate() {
        if let Some(name) = site.sections.get(&index) {
            if index == 0 || site.sections.get(&(index - 1)) != Some(name) {
                count(&mut out, name);
            }
            continue;
        }
        let line = match unit {
            Unit::Line(l) => l,
            Unit::Image {
                src, alt, title, ..
            } => {
                let is_ph =
                    |v: &Option<String>| v.as_deref().is_some_and(|v| placeholder(cx.rule, v));
                let had = is_ph(alt) || is_ph(title);
                if had {
                    count(&mut out, PLACEHOLDER);
                }
                let alt = alt.clone().filter(|_| !is_ph(alt));
                let src = src
                    .as_deref()
                    .and_then(|s| resolve(cx.base, s))
                    .map(|u| u.to_string());
                out.blocks.push(Block::Image {
                    src,
                    alt,
                    caption: None,
                });
                awaiting = Some((out.blocks.len() - 1, had));
                continue;
            }
            Unit::List { items, .. } => {
                let items: Vec<String> = items
                    .iter()
                    .filter(|i| removal(cx, i).is_none())
                    .cloned()
                    .collect();
                if !items.is_empty() {
                    out.blocks.push(Block::List { items });
                }
                awaiting = None;
                continue;
            }
            Unit::Table { rows, .. } => {
                out.blocks.push(Block::Table { rows: rows.clone() });
                awaiting = None;
                continue;
            }
            Unit::Quote { text, .. } => {
                out.blocks.push(Block::Quote { text: text.clone() });
                awaiting = None;
                continue;
            }
        };
        let text = line.text.as_str();

        if cx.title.is_some_and(|t| t == text) {
            count(&mut out, "title");
            continue;
        }
        // A line of the rule's header element is the header, whatever it says.
        if cx.header_units.contains(&index) {
            if let Some(h) = header::parse(text, &cx.rule.labels, &cx.rule.timezone) {
                out.header.merge(h);
            }
            count(&mut out, "header-line");
            continue;
        }
        // Several links and nothing else: a tab bar, a tag list, navigation.
        let link_chars: usize = line.links.iter().map(|(t, _)| t.chars().count()).sum();
        let own_chars = text.chars().filter(|c| !c.is_whitespace()).count();
        if line.links.len() >= 3 && link_chars * 10 >= own_chars * 9 {
            count(&mut out, "link-list");
            continue;
        }
        if header::only_labels(text, &cx.rule.labels) {
            count(&mut out, "header-line");
            continue;
        }
        // A header line inside the content: only before the text begins.
        if seen_text < 3
            && text.chars().count() <= 160
            && let Some(h) = header::parse(text, &cx.rule.labels, &cx.rule.timezone)
            && (h.published_at.is_some() || h.facts() >= 2)
        {
            out.header.merge(h);
            count(&mut out, "header-line");
            continue;
        }
        if placeholder(cx.rule, text) {
            // The name under an image that already showed it is one name.
            match &mut awaiting {
                Some((_, true)) => {}
                Some((_, had)) => {
                    *had = true;
                    count(&mut out, PLACEHOLDER);
                }
                None => count(&mut out, PLACEHOLDER),
            }
            continue;
        }
        if let Some((name, caps)) = removal(cx, text) {
            count(&mut out, &name);
            absorb(&mut out.captures, caps, line, cx.base);
            continue;
        }
        let after_image =
            awaiting.is_some() || matches!(out.blocks.last(), Some(Block::Image { .. }));
        if let Some((park, name)) =
            promo::promo_park(cx.rule, line, cx.base, after_image, &site.repeated)
        {
            count(&mut out, PROMO);
            keep_park(&mut out.captures, park, name);
            continue;
        }
        if cx.kind == Some(Kind::Park)
            && let Some((label, value)) = crate::extract::fields::split_pair(text, 12)
            && cx.rule.labels.field.contains(&label)
        {
            out.fields.push((label, value));
            continue;
        }
        seen_text += 1;

        if let Some((img, _)) = awaiting.take()
            && is_caption(line)
            && let Some(Block::Image { caption, .. }) = out.blocks.get_mut(img)
        {
            *caption = Some(text.to_string());
            continue;
        }
        // A caption by markup whose picture was not kept (a gallery slide, a
        // video, a second credit line): it stays a figure's caption, never
        // body text.
        if line.figcaption && line.heading.is_none() {
            match out.blocks.last_mut() {
                Some(Block::Image {
                    caption: Some(c), ..
                }) => {
                    c.push(' ');
                    c.push_str(text);
                }
                _ => out.blocks.push(Block::Image {
                    src: None,
                    alt: None,
                    caption: Some(text.to_string()),
                }),
            }
            continue;
        }
        let linked: usize = line.links.iter().map(|(t, _)| t.chars().count()).sum();
        if linked * 10 >= text.chars().count() * 9 {
            link_lines.push(out.blocks.len());
        }
        if line.heading.is_some() || (line.strong && is_short_title(text)) {
            out.blocks.push(Block::Heading {
                text: text.to_string(),
            });
        } else {
            if is_short_title(text) && !line.centered {
                plain_short.push(out.blocks.len());
            }
            out.blocks.push(Block::Paragraph {
                text: text.to_string(),
            });
        }
    }

    promote_headings(&mut out.blocks, &plain_short);
    // Two or more link lines in a row: a list of other pages ("You may
    // also like"), however it is marked up. One link line is a reference.
    let mut drop: Vec<usize> = Vec::new();
    for run in link_lines.chunk_by(|a, b| a + 1 == *b) {
        if run.len() >= 2 {
            drop.extend_from_slice(run);
        }
    }
    for &i in drop.iter().rev() {
        out.blocks.remove(i);
        count(&mut out, "link-list");
    }
    // A heading with nothing after it introduced what was removed (a
    // 联系方式 whose lines became fields).
    while matches!(out.blocks.last(), Some(Block::Heading { .. })) {
        out.blocks.pop();
        count(&mut out, "empty-heading");
    }
    out
}

/// What the site-style policies (`promo.rs`) found on the whole content
/// before the pass: parks that promo lines repeat, and chrome sections of
/// park pages.
struct SiteStyle {
    repeated: HashSet<String>,
    sections: HashMap<usize, &'static str>,
}

impl SiteStyle {
    fn of(units: &[Unit], cx: &Context) -> SiteStyle {
        SiteStyle {
            repeated: promo::repeated_parks(cx.rule, units, cx.base),
            sections: {
                let mut s = promo::promo_boxes(units, cx.html);
                if cx.kind == Some(Kind::Park) {
                    s.extend(promo::park_page_sections(cx.rule, units, cx.base));
                }
                s
            },
        }
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

/// The named boilerplate pattern `text` matches, with its captures.
fn removal(cx: &Context, text: &str) -> Option<(String, Vec<(String, String)>)> {
    if cx.site_names.contains(&text) {
        return Some(("site-name".to_string(), Vec::new()));
    }
    cx.rule.boilerplate.iter().find_map(|b| {
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

fn ends_sentence(text: &str) -> bool {
    text.ends_with([
        '。', '！', '？', '!', '?', '；', ';', '…', '：', ':', '，', ',', '、',
    ])
}

fn is_caption(line: &Line) -> bool {
    if line.figcaption {
        return true;
    }
    let n = line.text.chars().count();
    n <= CAPTION_MAX
        && !ends_sentence(&line.text)
        && (!line.strong || line.centered)
        && line.heading.is_none()
}

fn is_short_title(text: &str) -> bool {
    let n = text.chars().count();
    (2..=HEADING_MAX).contains(&n) && !ends_sentence(text)
}

/// Numbered section titles of Chinese documents: `一、总体要求`, `（二）…`,
/// `第三章 …`.
fn numbered_heading(text: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[)）]|第[一二三四五六七八九十百]{1,4}[章节条部分])").unwrap()
    });
    RE.is_match(text)
}

/// A short line that stands between paragraphs (text before and after it)
/// is a section heading; so is a numbered section title.
fn promote_headings(blocks: &mut [Block], candidates: &[usize]) {
    for &i in candidates {
        let Block::Paragraph { text } = &blocks[i] else {
            continue;
        };
        // What follows must be body text, not another short line (a
        // signature block: department, then date).
        let next_is_text = matches!(blocks.get(i + 1), Some(Block::Paragraph { text: t })
            if t.chars().count() >= 30 || (ends_sentence(t) && t.chars().count() > text.chars().count()));
        let prev_ok = i == 0 || !matches!(blocks[i - 1], Block::Heading { .. });
        // A date or signature line (落款) is not a heading.
        let datelike =
            text.chars().filter(|c| c.is_ascii_digit()).count() * 3 > text.chars().count();
        if (numbered_heading(text) || (next_is_text && prev_ok && i > 0)) && !datelike {
            let text = text.clone();
            blocks[i] = Block::Heading { text };
        }
    }
}
