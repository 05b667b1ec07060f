//! The cleaning pipeline, synchronous and pure (no I/O, no async). Each
//! stage is a function from one named type to the next; [`clean`] calls
//! them in this order:
//!
//! 1. **decode** (`decode.rs`, before [`clean`]): bytes → [`Decoded`] text
//!    by the charset cascade;
//! 2. **parse** ([`prefiltered`], [`parse`]): the pre-parse scan
//!    (`prefilter.rs`) → [`Prefiltered`], then html5ever via `scraper` →
//!    [`Parsed`], between two guards against absurd nesting (the scan's
//!    estimate, then the tree's real depth);
//! 3. **select** (`select.rs`): the page's URLs and the site rule (by host,
//!    canonical, saved-from, signature) → [`Selected`];
//! 4. **regions** (`regions.rs`): drop chrome by the rule's selectors; find
//!    title, content, fields and listing items → [`Regions`];
//! 5. **lines** (`lines.rs`, `linear.rs`): the body → lines, images, lists,
//!    tables; the header line before the content → [`Lines`];
//! 6. **blocks** ([`build_blocks`], `blocks.rs`): boilerplate out (counted),
//!    captions, headings, paragraphs → [`Blocks`];
//! 7. **metadata** (`metadata.rs`, reading with `crate::extract`): header
//!    line, dates, byline, source, views, park, district, kind, lang →
//!    [`Metadata`];
//! 8. **assemble** ([`assemble`]): the [`Document`], its text, id and
//!    content hash.
//!
//! `scraper::Html` is not `Send`: it lives and dies inside [`clean`]; the
//! crawler calls this on its cleaner threads.

pub mod blocks;
pub mod content;
pub mod decode;
pub mod empty;
pub mod linear;
pub mod lines;
pub mod metadata;
pub mod prefilter;
pub mod promo;
pub mod regions;
pub mod select;

use std::collections::BTreeMap;

use scraper::Html;

use crate::document::{self, Block, Document, Fetch, LineType, Site};
use crate::extract::header::Header;
use crate::rules::{Kind, RuleSet};
pub use decode::Decoded;
pub use lines::Lines;
pub use metadata::Metadata;
pub use prefilter::Prefiltered;
pub use regions::Regions;
pub use select::Selected;

/// Deepest element nesting a page may have. Browsers stop nesting at 512;
/// deeper markup is broken or hostile, and selector matching on it is
/// quadratic.
pub const MAX_DEPTH: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CleanError {
    #[error("markup nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
}

/// Cleans one decoded page with the rule that matches it: the stages of the
/// module header, in order.
pub fn clean(d: &Decoded, rules: &RuleSet) -> Result<Document, CleanError> {
    let parsed = parse(prefiltered(d, rules)?)?;
    Ok(clean_parsed(d, rules, &parsed))
}

/// Stages 3–8 on a page parsed already (stage 2): for a caller that reads
/// the tree too (the crawler takes its links from it), so that a page is
/// scanned and parsed once.
pub fn clean_parsed(d: &Decoded, rules: &RuleSet, parsed: &Parsed) -> Document {
    // Tests make a page's cleaning panic here (see `crate::isolate`).
    fail::fail_point!("clean");
    let html = &parsed.html;
    let page = select::select(html, d, rules);
    let regions = regions::find(html, &page);
    let lines = lines::of(html, &page, &regions);
    let blocks = build_blocks(html, &page, &regions, lines);
    let meta = metadata::read(html, &page, regions, &blocks);
    let mut doc = assemble(d, &page, blocks, meta);
    if doc.text.is_empty() {
        let why = empty::reason(&empty::shape(html), doc.items.len(), &doc.removed);
        doc.provenance.insert("body".into(), why);
    }
    doc
}

/// Stage 2a: the page's markup with what no stage reads cut out (comments,
/// scripts, attributes no selector names), refused when it nests too deep.
pub fn prefiltered(d: &Decoded, rules: &RuleSet) -> Result<Prefiltered, CleanError> {
    let cut = prefilter::filter(&d.html, &rules.selector_attrs, MAX_DEPTH);
    if cut.too_deep {
        return Err(CleanError::TooDeep);
    }
    Ok(cut)
}

/// The parsed tree.
pub struct Parsed {
    pub html: Html,
}

/// Stage 2b: html5ever's tree, refused when it nests too deep (what
/// selector matching and every walk pay for).
pub fn parse(cut: Prefiltered) -> Result<Parsed, CleanError> {
    let html = parse_sized(&cut.html, cut.elements);
    drop(cut);
    if crate::dom::nests_deeper_than(&html, MAX_DEPTH) {
        return Err(CleanError::TooDeep);
    }
    Ok(Parsed { html })
}

/// `Html::parse_document`, into a tree sized beforehand: grown by doubling,
/// the tree's one vector of nodes (a hundred bytes each, thousands on a
/// page) was copied a dozen times per page. Elements and the text between
/// them: about two nodes per start tag. The tree is the same either way.
fn parse_sized(text: &str, elements: usize) -> Html {
    use html5ever::tendril::TendrilSink;
    let mut doc = Html::new_document();
    doc.tree = ego_tree::Tree::with_capacity(scraper::Node::Document, 2 * elements + 16);
    html5ever::parse_document(scraper::HtmlTreeSink::new(doc), Default::default()).one(text)
}

/// The content as blocks, and what building them learnt.
pub struct Blocks {
    pub blocks: Vec<Block>,
    /// Boilerplate removed, counted by pattern.
    pub removed: BTreeMap<String, u64>,
    /// What the removed lines said (byline, source, park).
    pub captures: blocks::Captures,
    /// Label–value pairs found among the lines.
    pub fields: Vec<(String, String)>,
    /// Header facts: before the content, then inside it.
    pub head: Header,
    /// The blocks' text.
    pub text: String,
}

/// Stage 6: the content's lines → blocks (`blocks::build`).
pub fn build_blocks(html: &Html, page: &Selected, regions: &Regions, lines: Lines) -> Blocks {
    // Fields before the blocks are built: three of them make a park page
    // unless the URL says otherwise.
    let provisional_kind = page.url_kind.or_else(|| {
        if regions.fields.len() >= 3 {
            Some(Kind::Park)
        } else {
            None
        }
    });
    let site_names = page.site_names();
    let built = blocks::build(
        &lines.content,
        &blocks::Context {
            rule: page.rule,
            title: regions.title.as_ref().map(|t| t.text.as_str()),
            site_names: &site_names,
            base: Some(&page.base),
            kind: provisional_kind,
            header_units: &lines.header_units,
            html: Some(html),
            removals: Default::default(),
        },
    );
    let mut head = lines.head;
    head.merge(built.header);
    let text = document::text_of_blocks(&built.blocks);
    Blocks {
        blocks: built.blocks,
        removed: built.removed,
        captures: built.captures,
        fields: built.fields,
        head,
        text,
    }
}

/// Stage 8: the record.
pub fn assemble(d: &Decoded, page: &Selected, blocks: Blocks, meta: Metadata) -> Document {
    let record_url = page.record_url();
    Document {
        line_type: LineType::Record,
        schema_version: document::SCHEMA_VERSION,
        id: document::page_id(&record_url),
        url: page.url.to_string(),
        canonical_url: page.canonical.as_ref().map(|c| c.to_string()),
        kind: meta.kind,
        rule: page.rule.id.clone(),
        site: Site {
            host: page.url.host_str().map(str::to_string),
            name: page.site_name.clone(),
        },
        lang: meta.lang,
        title: meta.title,
        published_at: meta.published_at,
        author: meta.author,
        source: meta.source,
        views: meta.views,
        district: meta.district,
        park: meta.park,
        fields: meta.fields,
        blocks: blocks.blocks,
        items: meta.items,
        content_hash: document::content_hash(&blocks.text),
        text: blocks.text,
        removed: blocks.removed,
        provenance: with_charset(meta.provenance, d),
        // Where the bytes came from is the reader's to say (`cli::clean`).
        input: None,
        fetch: fetch_of(d),
    }
}

/// The charset's step joins the provenance when it overruled the page's
/// own declaration (UTF-8 bytes under a `gb2312` meta tag).
fn with_charset(mut provenance: BTreeMap<String, String>, d: &Decoded) -> BTreeMap<String, String> {
    if let Some(why) = d.charset_source.provenance(d.overruled.as_deref()) {
        provenance.insert("charset".to_string(), why);
    }
    provenance
}

fn fetch_of(d: &Decoded) -> Option<Fetch> {
    let f = d.input.fetch.as_ref();
    if f.is_none() && d.input.content_type.is_none() {
        return None;
    }
    Some(Fetch {
        status: f.and_then(|f| f.status),
        fetched_at: f.and_then(|f| f.fetched_at.clone()),
        content_type: d.input.content_type.clone(),
        charset: Some(d.charset.clone()),
        etag: f.and_then(|f| f.etag.clone()),
        last_modified: f.and_then(|f| f.last_modified.clone()),
    })
}
