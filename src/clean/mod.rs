//! The cleaning pipeline, synchronous and pure (no I/O, no async):
//!
//! 1. **decode** (`decode.rs`): bytes → text by the charset cascade;
//! 2. **parse**: html5ever via `scraper`, between two guards against absurd
//!    nesting (the pre-parse scan's estimate, then the tree's real depth);
//! 3. **select**: the site rule (by host, canonical, saved-from, signature);
//! 4. **regions**: drop chrome by the rule's selectors; find title, content,
//!    fields and listing items;
//! 5. **linearize** (`linear.rs`): the body → lines, images, lists, tables;
//! 6. **blocks** (`blocks.rs`): boilerplate out (counted), captions,
//!    headings, paragraphs;
//! 7. **extract** (`crate::extract`): header line, dates, byline, source,
//!    views, park, district, kind, lang;
//! 8. **assemble**: the [`Document`], its text, id and content hash.
//!
//! `scraper::Html` is not `Send`: it lives and dies inside [`clean`]; the
//! crawler calls this on a blocking pool.

pub mod blocks;
pub mod content;
pub mod decode;
pub mod dom;
pub mod linear;
pub mod prefilter;

use crate::clean::dom::NodeSet;
use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use crate::rules::index::{Hits, List};
use ego_tree::NodeId;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::document::{self, Document, Fetch, LineType, Park, Site};
use crate::extract::{self, header::Header, items, meta, title};
use crate::rules::{Kind, PageSignals, Rule, RuleSet};
use decode::Decoded;
use dom::{is_within, text_of, within};
use linear::Unit;

/// Deepest element nesting a page may have. Browsers stop nesting at 512;
/// deeper markup is broken or hostile, and selector matching on it is
/// quadratic.
pub const MAX_DEPTH: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CleanError {
    #[error("markup nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
}

/// Cleans one decoded page with the rule that matches it.
pub fn clean(d: &Decoded, rules: &RuleSet) -> Result<Document, CleanError> {
    // Tests make a page's cleaning panic here (see `crate::isolate`).
    fail::fail_point!("clean");
    let cut = prefilter::filter(&d.html, &rules.selector_attrs, MAX_DEPTH);
    if cut.too_deep {
        return Err(CleanError::TooDeep);
    }
    let html = Html::parse_document(&cut.html);
    drop(cut);
    if dom::nests_deeper_than(&html, MAX_DEPTH) {
        return Err(CleanError::TooDeep);
    }
    let meta = meta::read(&html);
    let input_url = d.input.url.as_ref();

    // The URL the record is about: given, else canonical, else file://.
    let abs = |s: &Option<String>| {
        s.as_deref()
            .and_then(|h| meta::resolve(input_url, h))
            .filter(|u| u.scheme() != "file")
    };
    let canonical = abs(&meta.canonical).or_else(|| abs(&meta.og_url));
    let saved_from = meta.saved_from.as_deref().and_then(|u| Url::parse(u).ok());
    let url: Url = match input_url {
        Some(u) if u.scheme() != "file" => u.clone(),
        _ => canonical
            .clone()
            .or_else(|| input_url.cloned())
            .unwrap_or_else(|| Url::parse("file:///dev/stdin").expect("static URL")),
    };
    let base = meta
        .base_href
        .as_deref()
        .and_then(|b| url.join(b).ok())
        .unwrap_or_else(|| url.clone());

    let tail = tail_text(&html);
    let rule = rules.select(&PageSignals {
        url: Some(&url),
        canonical: canonical.as_ref(),
        saved_from: saved_from.as_ref(),
        title: &meta.title,
        tail_text: &tail,
    });

    let suffix = title::site_suffix(&meta.title);
    let site_name = rule
        .name
        .clone()
        .or_else(|| meta.og_site_name.clone())
        .or_else(|| meta.jsonld.publisher.clone())
        .or_else(|| suffix.clone());
    let site_names: Vec<&str> = [
        rule.name.as_deref(),
        meta.og_site_name.as_deref(),
        suffix.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();

    // Regions: every rule selector's matches, found in one walk.
    let hits = rule.selectors.index.walk(&html);
    let dropped = hits.any(List::Drop, 0);
    let body = html
        .select(sel_body())
        .next()
        .unwrap_or_else(|| html.root_element());
    let found = find_content(&html, body, rule, &hits, &dropped);
    let content = found
        .top
        .and_then(|id| html.tree.get(id))
        .and_then(ElementRef::wrap);
    let title = title::find(&html, &hits, &meta, &site_names, &dropped);
    let title_text = title.as_ref().map(|t| t.text.clone());
    let url_kind = rule.kind_of(&url);

    let mut fields = serde_json::Map::new();
    let mut skip = dropped.clone();
    if matches!(url_kind, None | Some(Kind::Park)) {
        for i in 0..hits.len(List::Fields) {
            for el in hits
                .of(List::Fields, i)
                .iter()
                .filter_map(|&id| element(&html, id))
            {
                if within(&html, el.id(), &dropped) {
                    continue;
                }
                let pairs = extract::fields::from_element(el, &dropped);
                if !pairs.is_empty() {
                    skip.insert(el.id());
                    extract::fields::insert_all(&mut fields, pairs);
                }
            }
        }
    }

    if fields.is_empty()
        && matches!(url_kind, None | Some(Kind::Park))
        && let Some(c) = content
    {
        for el in c.descendants().filter_map(ElementRef::wrap) {
            if !extract::fields::is_label_structure(el, &dropped) || within(&html, el.id(), &skip) {
                continue;
            }
            let pairs = extract::fields::from_element(el, &dropped);
            if pairs.len() >= 3 {
                skip.insert(el.id());
                extract::fields::insert_all(&mut fields, pairs);
            }
        }
    }

    // A page that declares itself an article is one, lists and all: no
    // listing is looked for without the URL's word for it.
    let look_for_items = match url_kind {
        Some(Kind::District) => true,
        None => !meta.declares_article() || !rule.selectors.items.is_empty(),
        _ => false,
    };
    let (mut found_items, item_nodes) = if look_for_items {
        let tz = &rule.timezone;
        let (i, n) = items::by_selectors(&html, &hits, &dropped, Some(&base), tz);
        if i.is_empty() {
            // Without a rule: a listing is a run of at least 5 link entries
            // (4 when the URL already says it is a listing).
            let min = if url_kind == Some(Kind::District) {
                4
            } else {
                5
            };
            let scope = content.unwrap_or_else(|| html.root_element());
            let (i, n) = items::detect(&html, scope, &dropped, Some(&base), tz, min);
            // Without the URL's word for it, a list is the page only when it
            // is most of the content; a list inside an article stays content.
            let listed: usize = i
                .iter()
                .map(|i| {
                    i.title.chars().count() + i.summary.as_deref().map_or(0, |s| s.chars().count())
                })
                .sum();
            // Entries are a title and a line or two of summary: a list of
            // long sections is an article written as a list.
            let short = !i.is_empty() && listed / i.len() <= 250;
            if url_kind.is_some()
                || (short && listed * 3 >= text_of(scope, &dropped).chars().count() * 2)
            {
                (i, n)
            } else {
                (Vec::new(), Vec::new())
            }
        } else {
            (i, n)
        }
    } else {
        (Vec::new(), Vec::new())
    };
    skip.extend(item_nodes);

    // Linearize the whole body once; content is the part `found` holds.
    let units = linear::linearize(body, &skip, found.roots.last().copied());
    let in_content = found.holds_each(&html, units.iter().map(|u| u.node()));

    // The header line: among the lines after the headline and before the
    // content (or its first lines), those that read as a header.
    // The rule's header elements, found once: they mark header lines both
    // before the content and inside it.
    let header_nodes = header_elements(&html, &hits, &dropped);
    let mut head = header_near_title(
        &html,
        rule,
        &units,
        &in_content,
        title.as_ref(),
        &header_nodes,
    );

    let provisional_kind = url_kind.or_else(|| {
        if fields.len() >= 3 {
            Some(Kind::Park)
        } else {
            None
        }
    });
    let content_units: Vec<Unit> = units
        .iter()
        .zip(&in_content)
        .filter(|(_, c)| **c)
        .map(|(u, _)| u.clone())
        .collect();
    let header_units: HashSet<usize> = content_units
        .iter()
        .enumerate()
        .filter(|(_, u)| within(&html, u.node(), &header_nodes))
        .map(|(i, _)| i)
        .collect();
    let built = blocks::build(
        &content_units,
        &blocks::Context {
            rule,
            title: title_text.as_deref(),
            site_names: &site_names,
            base: Some(&base),
            kind: provisional_kind,
            header_units: &header_units,
        },
    );
    head.merge(built.header.clone());
    extract::fields::insert_all(&mut fields, built.fields.clone());
    let text = document::text_of_blocks(&built.blocks);

    // Metadata cascades.
    let tz = &rule.timezone;
    // Each step of a cascade names itself, so that the record can say
    // which source won (`provenance`).
    let machine_date = meta
        .jsonld
        .date_published
        .as_deref()
        .and_then(|d| extract::date::parse(d, tz))
        .map(|d| (d, "json-ld"))
        .or_else(|| {
            meta.published
                .iter()
                .find_map(|d| extract::date::parse(d, tz))
                .map(|d| (d, "meta"))
        })
        // `<time datetime>` by the content is machine-readable too: it gives
        // a visible date its time and offset.
        .or_else(|| time_element(&html, content, &dropped, tz).map(|d| (d, "time-element")));
    let published_at = head
        .published_at
        .clone()
        .map(|visible| {
            let machine = machine_date.as_ref().map(|(d, _)| d.as_str());
            (extract::date::refine(visible, machine), "text")
        })
        .or_else(|| machine_date.clone())
        .or_else(|| date_in_url(&url, tz).map(|d| (d, "url")));
    let not_site = |a: &(String, &str)| !site_names.contains(&a.0.as_str());
    let author = head
        .author
        .clone()
        .or_else(|| built.captures.author.clone())
        .map(|a| (a, "text"))
        .or_else(|| meta.jsonld.author.clone().map(|a| (a, "json-ld")))
        .or_else(|| meta.author.clone().map(|a| (a, "meta")))
        .filter(not_site);
    let source = head
        .source
        .clone()
        .or_else(|| built.captures.source.clone())
        .map(|s| (s, "text"))
        .or_else(|| meta.content_source.clone().map(|s| (s, "meta")));

    let items_chars: usize = found_items
        .iter()
        .map(|i| i.title.chars().count() + i.summary.as_deref().map_or(0, |s| s.chars().count()))
        .sum();
    let kind = url_kind.unwrap_or_else(|| {
        let park_like = title_text
            .as_deref()
            .is_some_and(extract::looks_like_park_name)
            || url.path().to_ascii_lowercase().contains("park");
        if fields.len() >= 3 && park_like && head.published_at.is_none() {
            Kind::Park
        } else if found_items.len() >= 5 && items_chars * 2 >= text.chars().count() {
            Kind::District
        } else if published_at.is_some() && text.chars().count() >= 100 {
            Kind::Article
        } else {
            Kind::Page
        }
    });
    // A listing's visible dates are its entries' dates, not its own.
    let published_at = if kind == Kind::District {
        machine_date.clone()
    } else {
        published_at
    };
    let mut provenance = BTreeMap::new();
    let mut record = |field: &str, source: Option<&str>| {
        if let Some(s) = source {
            provenance.insert(field.to_string(), s.to_string());
        }
    };
    record("title", title.as_ref().map(|t| t.source.name()));
    record("published_at", published_at.as_ref().map(|p| p.1));
    record("author", author.as_ref().map(|a| a.1));
    record("source", source.as_ref().map(|s| s.1));
    if kind != Kind::District {
        found_items.clear();
    }

    let record_url = canonical.as_ref().unwrap_or(&url).to_string();
    let park = match kind {
        Kind::Park => Some(Park {
            name: title_text.clone(),
            id: extract::park_id(rule, &record_url)
                .or_else(|| extract::park_id(rule, url.as_str())),
            url: Some(record_url.clone()),
        }),
        _ => built.captures.park_name.as_ref().map(|name| Park {
            name: Some(name.clone()),
            id: built
                .captures
                .park_url
                .as_deref()
                .and_then(|u| extract::park_id(rule, u)),
            url: built.captures.park_url.clone(),
        }),
    };

    // A listing's words are in its items; a page's in its text.
    let lang_text = if text.chars().count() < 200 && !found_items.is_empty() {
        let mut t = text.clone();
        for i in &found_items {
            t.push('\n');
            t.push_str(&i.title);
            t.push('\n');
            t.push_str(i.summary.as_deref().unwrap_or(""));
        }
        t
    } else {
        text.clone()
    };
    let district = rule
        .labels
        .district_field
        .iter()
        .find_map(|l| fields.get(l).and_then(|v| v.as_str()))
        .and_then(|v| extract::district_in_name(&rule.districts, v))
        .or_else(|| {
            park.as_ref()
                .and_then(|p| p.name.as_deref())
                .and_then(|n| extract::district_in_name(&rule.districts, n))
        })
        .or_else(|| {
            title_text
                .as_deref()
                .and_then(|t| extract::district_in_name(&rule.districts, t))
        })
        .or_else(|| extract::district_in_text(&rule.district_finder, &lang_text))
        // A district government's own site (上海市金山区人民政府).
        .or_else(|| {
            site_name
                .as_deref()
                .and_then(|n| extract::district_in_name(&rule.districts, n))
        });

    let lang = extract::lang(&lang_text, meta.lang.as_deref());
    record("lang", lang.as_ref().map(|l| l.1));
    let fetch = fetch_of(d);
    Ok(Document {
        line_type: LineType::Record,
        schema_version: document::SCHEMA_VERSION,
        id: document::page_id(&record_url),
        url: url.to_string(),
        canonical_url: canonical.map(|c| c.to_string()),
        kind,
        rule: rule.id.clone(),
        site: Site {
            host: url.host_str().map(str::to_string),
            name: site_name,
        },
        lang: lang.map(|l| l.0),
        title: title_text,
        published_at: published_at.map(|p| p.0),
        author: author.map(|a| a.0),
        source: source.map(|s| s.0),
        views: head.views,
        district,
        park,
        fields,
        blocks: built.blocks,
        items: found_items,
        content_hash: document::content_hash(&text),
        text,
        removed: built.removed,
        provenance,
        fetch,
    })
}

fn sel_body() -> &'static Selector {
    static S: LazyLock<Selector> = LazyLock::new(|| Selector::parse("body").unwrap());
    &S
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

/// The element `id` names.
pub fn element(html: &Html, id: NodeId) -> Option<ElementRef<'_>> {
    html.tree.get(id).and_then(ElementRef::wrap)
}

/// The main content: the first of the site rule's own content selectors
/// with a match that holds text decides; else the generic finder scores the
/// page (`content.rs`), the generic selectors' matches getting a bonus.
fn find_content(
    html: &Html,
    body: ElementRef,
    rule: &Rule,
    hits: &Hits,
    dropped: &NodeSet,
) -> content::Content {
    for i in 0..rule.selectors.own_content {
        let best = hits
            .of(List::Content, i)
            .iter()
            .filter_map(|&id| element(html, id))
            .filter(|e| !within(html, e.id(), dropped))
            .map(|e| (text_of(e, dropped).chars().count(), e))
            .max_by_key(|(n, _)| *n);
        if let Some((n, el)) = best
            && n >= 20
        {
            return content::Content::single(el, NodeSet::default());
        }
    }
    let hints = hits.any(List::Content, rule.selectors.own_content);
    content::find(html, body, dropped, &hints)
}

/// Header lines: in the rule's header elements, or among the few lines after
/// the headline and before the content.
fn header_near_title(
    html: &Html,
    rule: &Rule,
    units: &[Unit],
    in_content: &[bool],
    title: Option<&title::Title>,
    header_nodes: &NodeSet,
) -> Header {
    let mut head = Header::default();
    // Where the headline stands among the lines: by its element, else by its
    // text. Without it there is no header region: dates elsewhere belong to
    // sidebars and lists.
    let start = title
        .and_then(|t| t.node)
        .and_then(|t| units.iter().position(|u| is_within(html, u.node(), t)))
        .or_else(|| {
            let text = &title?.text;
            units
                .iter()
                .position(|u| matches!(u, Unit::Line(l) if &l.text == text))
        })
        .map(|i| i + 1);
    let content_start = in_content.iter().position(|c| *c).unwrap_or(units.len());
    let window: Vec<usize> = match start {
        Some(s) if s <= content_start => (s..content_start.min(s + 8)).collect(),
        Some(_) => Vec::new(),
        None => Vec::new(),
    };
    for i in window {
        if in_content[i] {
            continue;
        }
        let Unit::Line(l) = &units[i] else { continue };
        if l.text.chars().count() > 200 {
            continue;
        }
        let Some(h) = extract::header::parse(&l.text, &rule.labels, &rule.timezone) else {
            continue;
        };
        let marked = within(html, l.node, header_nodes);
        if h.published_at.is_some() || h.facts() >= 2 || (marked && h.facts() >= 1) {
            head.merge(h);
        }
    }
    head
}

/// Elements chosen by the rule's header selectors (short ones only: a
/// generic `.info` that wraps half the page is no header).
fn header_elements(html: &Html, hits: &Hits, dropped: &NodeSet) -> NodeSet {
    hits.any(List::Header, 0)
        .into_iter()
        .filter_map(|id| element(html, id))
        .filter(|e| !within(html, e.id(), dropped) && text_of(*e, dropped).chars().count() <= 200)
        .map(|e| e.id())
        .collect()
}

/// `<time datetime>` inside the content, or just before it.
fn time_element(
    html: &Html,
    content: Option<ElementRef>,
    dropped: &NodeSet,
    tz: &jiff::tz::TimeZone,
) -> Option<String> {
    static T: LazyLock<Selector> = LazyLock::new(|| Selector::parse("time[datetime]").unwrap());
    let scope = content
        .and_then(|c| c.parent())
        .and_then(ElementRef::wrap)?;
    scope
        .select(&T)
        .filter(|t| !within(html, t.id(), dropped))
        .find_map(|t| extract::date::parse(t.value().attr("datetime").unwrap_or(""), tz))
}

/// A date in the URL path (`/2023/0305/`, `/20230305/`, `/2024/05/20/`).
fn date_in_url(url: &Url, tz: &jiff::tz::TimeZone) -> Option<String> {
    static RE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"/((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:/|[^\d])",
        )
        .unwrap()
    });
    let c = RE.captures(url.path())?;
    extract::date::parse(&format!("{}-{}-{}", &c[1], &c[2], &c[3]), tz)
}

/// The last few hundred characters of the page's text (its footer), for
/// matching a saved file to its site.
fn tail_text(html: &Html) -> String {
    // Text nodes from the end of the arena (nodes are created in document
    // order) until enough is gathered: never the whole page's text.
    let mut parts: Vec<&str> = Vec::new();
    let mut n = 0;
    for node in html.tree.nodes().rev() {
        if let Node::Text(t) = node.value() {
            parts.push(t);
            n += t.chars().count();
            if n >= 600 {
                break;
            }
        }
    }
    let text: String = parts.into_iter().rev().collect();
    let start = text.char_indices().rev().nth(599).map_or(0, |(i, _)| i);
    text[start..].to_string()
}
