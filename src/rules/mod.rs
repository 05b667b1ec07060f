//! Site rules: TOML data (`rules/*.toml`) compiled once at start-up into
//! [`RuleSet`]. Every CSS selector and regex is compiled here, so a bad rule
//! fails before any page is read, naming its file and key.
//!
//! Raw options (`raw.rs`, all optional, unknown keys rejected) resolve into a
//! compiled [`Rule`]; a site rule extends the generic defaults (`generic.toml`).

mod compile;
pub mod gate;
pub mod index;
mod raw;

use std::path::Path;

use jiff::tz::TimeZone;
use regex::Regex;
use scraper::Selector;
use url::Url;

pub use compile::RuleError;

/// The rule files built into the binary, so that it works from any folder.
/// `tests::every_rule_file_is_embedded` keeps this list in step with `rules/`.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("generic.toml", include_str!("../../rules/generic.toml")),
    (
        "sh.taxs.vip.toml",
        include_str!("../../rules/sh.taxs.vip.toml"),
    ),
];

/// Id of the rule every site rule extends.
pub const GENERIC_ID: &str = "generic";

/// A page kind, as in the record's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Article,
    Park,
    District,
    Page,
}

/// A compiled boilerplate pattern: a matching text line is removed and counted
/// under `name`; its named groups feed the record.
#[derive(Debug)]
pub struct Boilerplate {
    pub name: String,
    pub regex: Regex,
}

/// Label vocabularies for header lines and labelled facts.
#[derive(Debug)]
pub struct Labels {
    pub date: Vec<String>,
    pub source: Vec<String>,
    pub author: Vec<String>,
    pub views: Vec<String>,
    pub editor: Vec<String>,
    pub field: Vec<String>,
    pub district_field: Vec<String>,
    /// Header debris (字号 大中小 …), removed before the line is read.
    pub noise: Vec<Regex>,
    /// Clock bars (今天是…): a line with one of these never gives a date.
    pub clock: Vec<Regex>,
    /// Any header label followed by a colon; group `label`.
    pub marker: Regex,
    /// A view counter, colon optional (`浏览量:1次`, `阅读 88`); groups `label`, `n`.
    pub views_count: Regex,
    /// Every character of the header labels, sorted: a line with any other
    /// letter cannot be labels alone.
    pub label_chars: Vec<char>,
}

#[derive(Debug, Clone)]
pub struct District {
    pub name: String,
    pub aliases: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Selectors {
    pub content: Vec<Selector>,
    /// How many of `content` (the first ones) the site rule wrote itself:
    /// those decide; the generic ones after them are only scoring hints.
    pub own_content: usize,
    /// All the lists above, indexed for one walk of the page.
    pub index: index::SelectorIndex,
    pub title: Vec<Selector>,
    pub header: Vec<Selector>,
    pub drop: Vec<Selector>,
    pub fields: Vec<Selector>,
    pub items: Vec<Selector>,
}

/// What a rule says about crawling its site.
#[derive(Debug, Default, Clone)]
pub struct CrawlRule {
    pub seeds: Vec<Url>,
    /// Path-and-query patterns a link must match to be followed (none: all).
    pub follow: Vec<Regex>,
    /// Path-and-query patterns never followed.
    pub avoid: Vec<Regex>,
    /// Requests per second per host, when the rule sets one.
    pub rate: Option<f64>,
    /// Connections and requests in flight per host, when the rule sets it.
    pub per_host: Option<usize>,
    /// Query parameters dropped when URLs are canonicalised.
    pub strip_params: Vec<String>,
}

/// One compiled site rule, merged with the generic defaults.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    /// The file it came from, for messages.
    pub file: String,
    pub name: Option<String>,
    pub timezone: TimeZone,
    pub hosts: Vec<String>,
    pub signatures: Vec<String>,
    pub kinds: Vec<(Kind, Regex)>,
    pub selectors: Selectors,
    pub boilerplate: Vec<Boilerplate>,
    /// Which of `boilerplate` a line may match, by their literals: one scan
    /// of the line instead of a regex per pattern ([`gate`]).
    pub boilerplate_gates: gate::Gates,
    pub labels: Labels,
    pub park_url: Option<Regex>,
    pub districts: Vec<District>,
    /// All district names and aliases, for counting them in a text.
    pub district_finder: DistrictFinder,
    pub crawl: CrawlRule,
}

/// Counts mentions of districts in one pass over a text (a search per name
/// and alias was a scan of the text per needle).
#[derive(Debug, Default)]
pub struct DistrictFinder {
    finder: Option<aho_corasick::AhoCorasick>,
    /// Distinct district names, in rule order.
    names: Vec<String>,
    /// For each pattern, its district in `names`.
    owner: Vec<usize>,
}

impl DistrictFinder {
    pub fn new(districts: &[District]) -> DistrictFinder {
        let (mut names, mut owner, mut patterns) = (Vec::<String>::new(), Vec::new(), Vec::new());
        for d in districts {
            let at = match names.iter().position(|n| *n == d.name) {
                Some(i) => i,
                None => {
                    names.push(d.name.clone());
                    names.len() - 1
                }
            };
            for p in std::iter::once(&d.name).chain(&d.aliases) {
                if !p.is_empty() {
                    patterns.push(p.as_str());
                    owner.push(at);
                }
            }
        }
        // Standard semantics, overlapping: every occurrence of every name and
        // alias counts, as if each were searched for on its own.
        let finder = (!patterns.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&patterns).expect("district names build"));
        DistrictFinder {
            finder,
            names,
            owner,
        }
    }

    /// Mentions per district name (names and aliases together), in rule
    /// order.
    pub fn count(&self, text: &str) -> Vec<(&str, usize)> {
        let mut counts = vec![0usize; self.names.len()];
        if let Some(f) = &self.finder {
            for m in f.find_overlapping_iter(text) {
                counts[self.owner[m.pattern().as_usize()]] += 1;
            }
        }
        self.names.iter().map(String::as_str).zip(counts).collect()
    }
}

impl Rule {
    /// Whether `host` is one of this rule's hosts (`*.example.cn` matches
    /// subdomains).
    pub fn matches_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|h| match h.strip_prefix("*.") {
            Some(base) => host == base || host.ends_with(&format!(".{base}")),
            None => host == *h,
        })
    }

    /// The page kind that this rule's URL patterns give `url`, if any.
    pub fn kind_of(&self, url: &Url) -> Option<Kind> {
        let path = path_and_query(url);
        self.kinds
            .iter()
            .find(|(_, re)| re.is_match(&path))
            .map(|(k, _)| *k)
    }
}

/// `/path?query` of a URL: what rule URL patterns are matched against.
pub fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_string(),
    }
}

/// All site rules plus the generic defaults.
#[derive(Debug)]
pub struct RuleSet {
    pub sites: Vec<Rule>,
    pub generic: Rule,
    /// Attribute names (lower case) that some rule's selectors test: the
    /// pre-parse filter must keep them.
    pub selector_attrs: Vec<String>,
}

/// What a page shows of its own origin, for matching saved files to a rule.
#[derive(Debug, Default)]
pub struct PageSignals<'a> {
    pub url: Option<&'a Url>,
    pub canonical: Option<&'a Url>,
    pub saved_from: Option<&'a Url>,
    pub title: &'a str,
    /// The last few hundred characters of the page's text (its footer).
    pub tail_text: &'a str,
}

impl RuleSet {
    /// The built-in rules only.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        Self::load(None)
    }

    /// Built-in rules, then every `*.toml` in `extra` (a rule with the id of a
    /// built-in one replaces it; `generic.toml` there replaces the defaults).
    pub fn load(extra: Option<&Path>) -> Result<RuleSet, RuleError> {
        let mut files: Vec<(String, String)> = EMBEDDED
            .iter()
            .map(|(name, text)| (format!("<built-in>/{name}"), text.to_string()))
            .collect();
        if let Some(dir) = extra {
            files.extend(compile::read_dir(dir)?);
        }
        compile::compile_all(files)
    }

    /// The rule for a page: by the host of its URL, then by its canonical or
    /// saved-from URL, then by a content signature; else the generic rule.
    pub fn select(&self, signals: &PageSignals) -> &Rule {
        let by_url = |u: Option<&Url>| {
            u.and_then(|u| u.host_str())
                .and_then(|h| self.sites.iter().find(|r| r.matches_host(h)))
        };
        by_url(signals.url)
            .or_else(|| by_url(signals.canonical))
            .or_else(|| by_url(signals.saved_from))
            .or_else(|| {
                // A page fetched from a known URL of another host is not this
                // site's, whatever it says about itself.
                if signals.url.is_some_and(|u| u.scheme() != "file") {
                    return None;
                }
                self.sites.iter().find(|r| {
                    r.signatures.iter().any(|s| {
                        signals.title.contains(s.as_str()) || signals.tail_text.contains(s.as_str())
                    })
                })
            })
            .unwrap_or(&self.generic)
    }

    /// A crawl setting for `host`: the matching site rule's, else the
    /// generic rule's (`None` when neither sets it).
    pub fn crawl_setting<T>(&self, host: &str, get: impl Fn(&CrawlRule) -> Option<T>) -> Option<T> {
        self.sites
            .iter()
            .find(|r| r.matches_host(host))
            .and_then(|r| get(&r.crawl))
            .or_else(|| get(&self.generic.crawl))
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        if id == self.generic.id {
            return Some(&self.generic);
        }
        self.sites.iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn builtin_rules_compile_and_select_by_host_and_signature() {
        let rules = RuleSet::builtin().unwrap();
        let url = Url::parse("http://sh.taxs.vip/news/view.html?id=1").unwrap();
        let s = PageSignals {
            url: Some(&url),
            ..Default::default()
        };
        assert_eq!(rules.select(&s).id, "sh.taxs.vip");
        assert_eq!(rules.select(&s).kind_of(&url), Some(Kind::Article));
        let s = PageSignals {
            title: "某文章_上海园区招商网",
            ..Default::default()
        };
        assert_eq!(rules.select(&s).id, "sh.taxs.vip");
        let other = Url::parse("http://example.cn/a").unwrap();
        let s = PageSignals {
            url: Some(&other),
            title: "某文章_上海园区招商网",
            ..Default::default()
        };
        assert_eq!(rules.select(&s).id, "generic");
    }
}
