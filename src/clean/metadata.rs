//! Stage 7 of cleaning, **metadata** (`crate::extract` does the reading):
//! the date, byline and source cascades, the page's kind, its park,
//! district and language. Each step of a cascade names itself, so that the
//! record can say which source won (`provenance`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::Blocks;
use super::blocks::Captures;
use super::linear::{self, Unit};
use super::regions::{self, Regions};
use super::select::Selected;
use crate::document::Park;
use crate::dom::{NodeSet, within};
use crate::extract::header::Header;
use crate::extract::items::Item;
use crate::extract::meta::PageMeta;
use crate::extract::{self};
use crate::rules::Kind;

/// A value and the name of the cascade step that gave it.
type Sourced = (String, &'static str);

/// What the record says about the page besides its text.
pub struct Metadata {
    pub kind: Kind,
    pub title: Option<String>,
    pub published_at: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
    pub views: Option<u64>,
    pub district: Option<String>,
    pub park: Option<Park>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// A listing's entries (empty unless the page is a listing).
    pub items: Vec<Item>,
    pub lang: Option<String>,
    pub provenance: BTreeMap<String, String>,
}

/// Runs the cascades over what the earlier stages found.
pub fn read(html: &Html, page: &Selected, regions: Regions, blocks: &Blocks) -> Metadata {
    let Regions {
        content,
        dropped,
        title,
        mut fields,
        mut items,
        found,
        skip,
        ..
    } = regions;
    extract::fields::insert_all(&mut fields, blocks.fields.clone());
    let tz = &page.rule.timezone;
    let machine_date = machine_date(html, &page.meta, content, &dropped, tz);
    let below = || date_below_content(html, found.roots.last().copied(), &skip, page.rule);
    let published_at = visible_date(blocks, &machine_date, &page.meta, &page.url, tz, below);
    let zone = extract::marked::Zone {
        headline: title.as_ref().and_then(|t| t.node),
        content: content.map(|c| c.id()),
    };
    let (author, source) = byline(blocks, page, || {
        extract::marked::author(html, &zone, &page.rule.labels, tz)
    });
    let title_text = title.as_ref().map(|t| t.text.clone());
    let kind = page.url_kind.unwrap_or_else(|| {
        let counts = Counts::of(fields.len(), &items, blocks);
        let dated = published_at.is_some();
        kind_of(page, title_text.as_deref(), &counts, &blocks.head, dated)
    });
    // A listing's visible dates are its entries' dates, not its own.
    let published_at = if kind == Kind::District {
        machine_date
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
        items.clear();
    }
    let park = park_of(page, kind, title_text.as_deref(), &blocks.captures);
    let lang_text = lang_text(&blocks.text, &items);
    let district = district_of(
        page,
        &fields,
        park.as_ref(),
        title_text.as_deref(),
        &lang_text,
    );
    let lang = extract::lang(&lang_text, page.meta.lang.as_deref());
    record("lang", lang.as_ref().map(|l| l.1));
    Metadata {
        kind,
        title: title_text,
        published_at: published_at.map(|p| p.0),
        author: author.map(|a| a.0),
        source: source.map(|s| s.0),
        views: blocks.head.views,
        district,
        park,
        fields,
        items,
        lang: lang.map(|l| l.0),
        provenance,
    }
}

/// The machine-readable date: JSON-LD, else `<meta>`, else a `<time
/// datetime>` by the content (which gives a visible date its time and
/// offset).
fn machine_date(
    html: &Html,
    meta: &PageMeta,
    content: Option<ElementRef>,
    dropped: &NodeSet,
    tz: &jiff::tz::TimeZone,
) -> Option<Sourced> {
    meta.jsonld
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
        .or_else(|| time_element(html, content, dropped, tz).map(|d| (d, "time-element")))
}

/// The days (`YYYY-MM-DD`, as written) the page says it was last changed
/// on: `article:modified_time`, `og:updated_time`, JSON-LD `dateModified`.
fn updated_days(meta: &PageMeta, tz: &jiff::tz::TimeZone) -> Vec<String> {
    meta.modified
        .iter()
        .chain(&meta.jsonld.date_modified)
        .filter_map(|d| extract::date::parse(d, tz))
        .filter_map(|d| d.get(..10).map(str::to_string))
        .collect()
}

/// The date a reader sees: the header's (refined by the machine date), or
/// its year-less date given a year by the page's own evidence; else the
/// machine date; else a dateline opening the body, a date printed right
/// below it (`below`, read only when asked), a date in the URL. A header
/// date on a day the page says it was updated on (`meta`), when the machine date
/// is earlier, is the update's ("Updated Sep 30"): the machine date is the
/// publication.
fn visible_date(
    blocks: &Blocks,
    machine_date: &Option<Sourced>,
    meta: &PageMeta,
    url: &Url,
    tz: &jiff::tz::TimeZone,
    below: impl FnOnce() -> Option<String>,
) -> Option<Sourced> {
    let head = &blocks.head;
    let machine = machine_date.as_ref().map(|(d, _)| d.as_str());
    let day = |d: &str| d.get(..10).map(str::to_string);
    let is_update = |visible: &str| match (day(visible), machine.and_then(day)) {
        (Some(v), Some(m)) => m < v && updated_days(meta, tz).contains(&v),
        _ => false,
    };
    head.published_at
        .clone()
        .filter(|visible| !is_update(visible))
        .map(|visible| (extract::date::refine(visible, machine), "text"))
        .or_else(|| extract::date::with_year(head.month_day?, machine, url.path(), tz))
        .or_else(|| machine_date.clone())
        .or_else(|| {
            let first = lead_lines(&blocks.blocks);
            extract::date::dateline(&first, tz).map(|d| (d, "text-dateline"))
        })
        .or_else(|| below().map(|d| (d, "text-below-body")))
        .or_else(|| date_in_url(url, tz).map(|d| (d, "url")))
}

/// A date printed right below the body (`2024-05-08 11:42:03 举报` in an
/// action bar): one of the first three lines after the content that is a
/// date and little else (labels, widgets), never a related entry's `title +
/// date`; and not when more such bare dates follow (a column of dates).
/// The lines are those of the elements after the content's last root (its
/// next siblings, or its parent's).
fn date_below_content(
    html: &Html,
    last_root: Option<ego_tree::NodeId>,
    skip: &NodeSet,
    rule: &crate::rules::Rule,
) -> Option<String> {
    let mut at = html.tree.get(last_root?)?;
    let mut lines: Vec<Unit> = Vec::new();
    for _ in 0..3 {
        for sib in at.next_siblings().filter_map(ElementRef::wrap).take(3) {
            lines.extend(linear::linearize(sib, skip, None).into_iter().take(12));
            if lines.len() >= 12 {
                break;
            }
        }
        if !lines.is_empty() {
            break;
        }
        at = at.parent()?;
    }
    let bare = |u: &Unit| match u {
        Unit::Line(l) if l.text.chars().count() <= 40 => {
            let f = extract::date::find(&l.text, &rule.timezone)?;
            let rest = l.text.chars().count() - l.text[f.start..f.end].chars().count();
            let h = extract::header::parse(&l.text, &rule.labels, &rule.timezone)?;
            (rest <= 12).then_some(h.published_at).flatten()
        }
        _ => None,
    };
    let (at, date) = lines
        .iter()
        .take(3)
        .enumerate()
        .find_map(|(i, u)| bare(u).map(|d| (i, d)))?;
    let column = lines[at + 1..].iter().filter_map(bare).count() > 0;
    (!column).then_some(date)
}

/// Author and source: the header line, else what boilerplate lines said,
/// else a byline opening the body, else the page's metadata, else the
/// byline its markup marks (`marked`, read only when all else is silent);
/// each candidate validated (`extract::byline`): a step that names the
/// site, an id or a UI word gives way to the next.
fn byline(
    blocks: &Blocks,
    page: &Selected,
    marked: impl FnOnce() -> Option<String>,
) -> (Option<Sourced>, Option<Sourced>) {
    let (meta, site_names) = (&page.meta, &page.site_names);
    let (head, captures) = (&blocks.head, &blocks.captures);
    let lead = extract::byline::in_lead(&lead_lines(&blocks.blocks));
    let names: Vec<&str> = site_names.iter().map(String::as_str).collect();
    let author = extract::byline::choose(
        &[
            (head.author.as_deref(), "text"),
            (captures.author.as_deref(), "text"),
            (lead.as_deref(), "text"),
            (meta.jsonld.author.as_deref(), "json-ld"),
            (meta.author.as_deref(), "meta"),
        ],
        &names,
    )
    .or_else(|| extract::byline::choose(&[(marked().as_deref(), "markup")], &names));
    let source = head
        .source
        .clone()
        .or_else(|| captures.source.clone())
        .map(|s| (s, "text"))
        .or_else(|| meta.content_source.clone().map(|s| (s, "meta")));
    (author, source)
}

/// Sizes the kind of a page is judged by.
struct Counts {
    fields: usize,
    items: usize,
    items_chars: usize,
    text_chars: usize,
}

impl Counts {
    fn of(fields: usize, items: &[Item], blocks: &Blocks) -> Counts {
        Counts {
            fields,
            items: items.len(),
            items_chars: regions::items_chars(items),
            text_chars: blocks.text.chars().count(),
        }
    }
}

/// The kind of a page the URL does not name: a park page has fields, a
/// park-like name and no date; a listing is mostly its entries; an article
/// is dated and has some text (a headline, a date and a body); anything
/// else is a page.
fn kind_of(page: &Selected, title: Option<&str>, n: &Counts, head: &Header, dated: bool) -> Kind {
    let park_like = title.is_some_and(extract::looks_like_park_name)
        || page.url.path().to_ascii_lowercase().contains("park");
    if n.fields >= 3 && park_like && head.published_at.is_none() {
        Kind::Park
    } else if n.items >= 5 && n.items_chars * 2 >= n.text_chars {
        Kind::District
    } else if dated && (n.text_chars >= 100 || (title.is_some() && n.text_chars >= 40)) {
        // A headline, a date and a body, even a short one (a gallery's
        // caption text, a brief notice), make an article.
        Kind::Article
    } else {
        Kind::Page
    }
}

/// The park a page is (a park page) or names (a line the rule captured).
fn park_of(page: &Selected, kind: Kind, title: Option<&str>, captures: &Captures) -> Option<Park> {
    let rule = page.rule;
    let record_url = page.record_url();
    match kind {
        Kind::Park => Some(Park {
            name: title.map(str::to_string),
            id: extract::park_id(rule, &record_url)
                .or_else(|| extract::park_id(rule, page.url.as_str())),
            url: Some(record_url),
        }),
        // A promo line names its park, or only links it (`请点击这里`).
        _ => (captures.park_name.is_some() || captures.park_url.is_some()).then(|| Park {
            name: captures.park_name.clone(),
            id: captures
                .park_url
                .as_deref()
                .and_then(|u| extract::park_id(rule, u)),
            url: captures.park_url.clone(),
        }),
    }
}

/// The text the language and district are read from: a listing's words are
/// in its items, a page's in its text.
fn lang_text(text: &str, items: &[Item]) -> String {
    if text.chars().count() < 200 && !items.is_empty() {
        let mut t = text.to_string();
        for i in items {
            t.push('\n');
            t.push_str(&i.title);
            t.push('\n');
            t.push_str(i.summary.as_deref().unwrap_or(""));
        }
        t
    } else {
        text.to_string()
    }
}

/// The district: the rule's district field, else the park's name, the
/// title, the text, and last the site's own name (a district government's
/// site, 上海市金山区人民政府).
fn district_of(
    page: &Selected,
    fields: &serde_json::Map<String, serde_json::Value>,
    park: Option<&Park>,
    title: Option<&str>,
    lang_text: &str,
) -> Option<String> {
    let rule = page.rule;
    let in_name = |n: &str| extract::district_in_name(&rule.districts, n);
    rule.labels
        .district_field
        .iter()
        .find_map(|l| fields.get(l).and_then(|v| v.as_str()))
        .and_then(in_name)
        .or_else(|| park.and_then(|p| p.name.as_deref()).and_then(in_name))
        .or_else(|| title.and_then(in_name))
        .or_else(|| extract::district_in_text(&rule.district_finder, lang_text))
        .or_else(|| page.site_name.as_deref().and_then(in_name))
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

/// The first two text blocks of the body, where an opening byline stands.
fn lead_lines(blocks: &[crate::document::Block]) -> Vec<&str> {
    use crate::document::Block;
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Paragraph { text } | Block::Heading { text } => Some(text.as_str()),
            _ => None,
        })
        .take(2)
        .collect()
}
