//! Stage 4 of cleaning, **regions**: every rule selector's matches found in
//! one walk; chrome dropped by the rule's selectors; the title, the main
//! content, the labelled fields and a listing's items found.

use std::sync::LazyLock;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};

use super::content;
use super::select::Selected;
use crate::dom::{NodeSet, element, is_within, text_of, within};
use crate::extract::items::{self, Item};
use crate::extract::title::{self, Title};
use crate::extract::{self};
use crate::rules::index::{Hits, List};
use crate::rules::{Kind, Rule};

/// The page's parts, as nodes of its tree and what was read from them.
pub struct Regions<'h> {
    /// Every rule selector's matches.
    pub hits: Hits,
    /// Nodes the rule drops, with their subtrees.
    pub dropped: NodeSet,
    pub body: ElementRef<'h>,
    pub found: content::Content,
    /// The content's top element, when there is one.
    pub content: Option<ElementRef<'h>>,
    pub title: Option<Title>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// What linearizing skips: the dropped nodes, the elements fields were
    /// read from and a listing's entries.
    pub skip: NodeSet,
    /// A listing's entries (kept only if the page turns out to be one).
    pub items: Vec<Item>,
}

/// Finds the page's regions.
pub fn find<'h>(html: &'h Html, page: &Selected) -> Regions<'h> {
    let rule = page.rule;
    let hits = rule.selectors.index.walk(html);
    let dropped = hits.any(List::Drop, 0);
    let body = html
        .select(sel_body())
        .next()
        .unwrap_or_else(|| html.root_element());
    let found = find_content(html, body, rule, &hits, &dropped);
    let content = found
        .top
        .and_then(|id| html.tree.get(id))
        .and_then(ElementRef::wrap);
    let title = title::find(html, &hits, &page.meta, &page.site_names(), &dropped);
    let head = title.as_ref().and_then(|t| t.node);
    let (fields, mut skip) = fields_of(html, page, &hits, &dropped, (content, head));
    let (items, item_nodes) = listing(html, page, &hits, &dropped, content);
    skip.extend(item_nodes);
    Regions {
        hits,
        dropped,
        body,
        found,
        content,
        title,
        fields,
        skip,
        items,
    }
}

fn sel_body() -> &'static Selector {
    static S: LazyLock<Selector> = LazyLock::new(|| Selector::parse("body").unwrap());
    &S
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

/// Labelled fields of a park (or unknown) page: in the rule's field
/// elements, else in label structures of the content (three pairs at
/// least: fewer is a byline or a caption). On a park page (by its URL) the
/// fact sheet may stand beside the body, under the headline: the search
/// then covers the element holding both, and structures that label by
/// position alone count there (see `fields::is_label_structure`). Returns
/// them with `dropped` plus the elements they were read from.
fn fields_of(
    html: &Html,
    page: &Selected,
    hits: &Hits,
    dropped: &NodeSet,
    (content, head): (Option<ElementRef>, Option<NodeId>),
) -> (serde_json::Map<String, serde_json::Value>, NodeSet) {
    let url_kind = page.url_kind;
    let mut fields = serde_json::Map::new();
    let mut skip = dropped.clone();
    if !matches!(url_kind, None | Some(Kind::Park)) {
        return (fields, skip);
    }
    for i in 0..hits.len(List::Fields) {
        for el in hits
            .of(List::Fields, i)
            .iter()
            .filter_map(|&id| element(html, id))
        {
            if within(html, el.id(), dropped) {
                continue;
            }
            let pairs = extract::fields::from_element(el, dropped);
            if !pairs.is_empty() {
                skip.insert(el.id());
                extract::fields::insert_all(&mut fields, pairs);
            }
        }
    }
    if fields.is_empty()
        && let Some(c) = content
    {
        let (scope, known): (ElementRef, &[String]) = if url_kind == Some(Kind::Park) {
            (common_ancestor(html, c, head), &page.rule.labels.field)
        } else {
            (c, &[])
        };
        for el in scope.descendants().filter_map(ElementRef::wrap) {
            if !extract::fields::is_label_structure(el, dropped, known)
                || within(html, el.id(), &skip)
                || within(html, el.id(), dropped)
            {
                continue;
            }
            let pairs = extract::fields::from_element(el, dropped);
            if pairs.len() >= 3 {
                skip.insert(el.id());
                extract::fields::insert_all(&mut fields, pairs);
            }
        }
    }
    (fields, skip)
}

/// The nearest element holding both the content and the headline (the
/// content itself without a headline node).
fn common_ancestor<'a>(
    html: &'a Html,
    content: ElementRef<'a>,
    head: Option<NodeId>,
) -> ElementRef<'a> {
    let Some(head) = head else { return content };
    content
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| is_within(html, head, a.id()))
        .filter(|a| a.value().name() != "html")
        .unwrap_or(content)
}

/// A listing's entries and their nodes: by the rule's item selectors, else
/// detected. A page that declares itself an article is one, lists and all:
/// no listing is looked for without the URL's word for it.
fn listing(
    html: &Html,
    page: &Selected,
    hits: &Hits,
    dropped: &NodeSet,
    content: Option<ElementRef>,
) -> (Vec<Item>, Vec<NodeId>) {
    let look_for_items = match page.url_kind {
        Some(Kind::District) => true,
        None => !page.meta.declares_article() || !page.rule.selectors.items.is_empty(),
        _ => false,
    };
    if !look_for_items {
        return (Vec::new(), Vec::new());
    }
    let tz = &page.rule.timezone;
    let (i, n) = items::by_selectors(html, hits, dropped, Some(&page.base), tz);
    if !i.is_empty() {
        return (i, n);
    }
    // Without a rule: a listing is a run of at least 5 link entries (4 when
    // the URL already says it is a listing).
    let min = if page.url_kind == Some(Kind::District) {
        4
    } else {
        5
    };
    let scope = content.unwrap_or_else(|| html.root_element());
    let (i, n) = items::detect(html, scope, dropped, Some(&page.base), tz, min);
    if page.url_kind.is_some() || is_the_page(&i, scope, dropped) {
        (i, n)
    } else {
        (Vec::new(), Vec::new())
    }
}

/// Without the URL's word for it, a detected list is the page only when it
/// is most of the content (two thirds of its characters): a list inside an
/// article stays content. And entries are a title and a line or two of
/// summary (250 characters on average at most): a list of long sections is
/// an article written as a list.
fn is_the_page(items: &[Item], scope: ElementRef, dropped: &NodeSet) -> bool {
    let listed = items_chars(items);
    let short = !items.is_empty() && listed / items.len() <= 250;
    short && listed * 3 >= text_of(scope, dropped).chars().count() * 2
}

/// The characters of a listing's titles and summaries.
pub fn items_chars(items: &[Item]) -> usize {
    items
        .iter()
        .map(|i| i.title.chars().count() + i.summary.as_deref().map_or(0, |s| s.chars().count()))
        .sum()
}
