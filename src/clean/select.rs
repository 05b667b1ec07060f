//! Stage 3 of cleaning, **select**: what the page is about (its URL, its
//! canonical, the base its links resolve against) and the site rule that
//! matches it (by host, canonical, saved-from, signature).

use scraper::{Html, Node};
use url::Url;

use crate::clean::decode::Decoded;
use crate::extract::meta::{self, PageMeta};
use crate::extract::title;
use crate::rules::{Kind, PageSignals, Rule, RuleSet};

/// The page's identity and its rule: what every later stage reads.
pub struct Selected<'r> {
    pub rule: &'r Rule,
    pub meta: PageMeta,
    /// The URL the record is about: given, else canonical, else the
    /// saved-from comment's, else file://.
    pub url: Url,
    pub canonical: Option<Url>,
    /// What relative links resolve against (`<base href>`, else `url`).
    pub base: Url,
    /// The site's name for the record: rule, og:site_name, JSON-LD
    /// publisher, title suffix.
    pub site_name: Option<String>,
    /// Every name the site goes by (rule, og:site_name, title suffix): such
    /// a name is never a title or a byline.
    pub site_names: Vec<String>,
    /// What the rule's URL patterns say the page is.
    pub url_kind: Option<Kind>,
}

impl Selected<'_> {
    /// [`Selected::site_names`] as the `&str` list the finders take.
    pub fn site_names(&self) -> Vec<&str> {
        self.site_names.iter().map(String::as_str).collect()
    }

    /// The URL the record's id is made from: the canonical, else the URL.
    pub fn record_url(&self) -> String {
        self.canonical.as_ref().unwrap_or(&self.url).to_string()
    }
}

/// Reads the page's metadata, settles its URLs and picks its rule.
pub fn select<'r>(html: &Html, d: &Decoded, rules: &'r RuleSet) -> Selected<'r> {
    let meta = meta::read(html);
    let input_url = d.input.url.as_ref();
    let abs = |s: &Option<String>| {
        s.as_deref()
            .and_then(|h| meta::resolve(input_url, h))
            .filter(|u| u.scheme() != "file")
    };
    let canonical = abs(&meta.canonical).or_else(|| abs(&meta.og_url));
    let saved_from = meta.saved_from.as_deref().and_then(|u| Url::parse(u).ok());
    // A saved page's own URL, as the browser wrote it when saving: better
    // than where the file happens to sit (the same id as the live page).
    let saved_at = saved_from
        .clone()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    let url: Url = match input_url {
        Some(u) if u.scheme() != "file" => u.clone(),
        _ => canonical
            .clone()
            .or(saved_at)
            .or_else(|| input_url.cloned())
            .unwrap_or_else(|| Url::parse("file:///dev/stdin").expect("static URL")),
    };
    let base = meta
        .base_href
        .as_deref()
        .and_then(|b| url.join(b).ok())
        .unwrap_or_else(|| url.clone());

    let tail = tail_text(html);
    let rule = rules.select(&PageSignals {
        url: Some(&url),
        canonical: canonical.as_ref(),
        saved_from: saved_from.as_ref(),
        title: &meta.title,
        tail_text: &tail,
    });
    let (site_name, site_names) = site_names(rule, &meta);
    Selected {
        rule,
        url_kind: rule.kind_of(&url),
        meta,
        url,
        canonical,
        base,
        site_name,
        site_names,
    }
}

/// The site's name for the record, and every name it goes by.
fn site_names(rule: &Rule, meta: &PageMeta) -> (Option<String>, Vec<String>) {
    let suffix = title::site_suffix(&meta.title);
    let site_name = rule
        .name
        .clone()
        .or_else(|| meta.og_site_name.clone())
        .or_else(|| meta.jsonld.publisher.clone())
        .or_else(|| suffix.clone());
    let names = [
        rule.name.as_deref(),
        meta.og_site_name.as_deref(),
        suffix.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::to_string)
    .collect();
    (site_name, names)
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
    let skip = text.chars().count().saturating_sub(600);
    text.chars().skip(skip).collect()
}
