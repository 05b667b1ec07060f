//! Link discovery: the `<a href>` / `<area href>` of a fetched page, resolved
//! against `<base href>` and the page URL, read from the tree the cleaner
//! parsed ([`of_tree`]). Runs on a cleaner thread next to cleaning
//! (`scraper::Html` is not `Send`).
//!
//! Linear in the links of a page (duplicates are found with a hash set: a
//! list search made 100,000 links cost minutes) and bounded: at most
//! [`MAX_LINKS`] links of a page are taken, and links longer than
//! [`MAX_URL_LEN`] are dropped here; both are counted, for the crawl to say
//! so once.

use std::collections::HashSet;
use std::sync::LazyLock;

use scraper::{Html, Selector};
use url::Url;

pub use crate::fetch::MAX_URL_LEN;

/// Links taken from one page, the protocol's limit of URLs in one sitemap
/// (sitemaps.org): a real archive page lists a few thousand; past this a
/// page is a link farm or a trap, and its surplus would only fill memory.
pub const MAX_LINKS: usize = 50_000;

/// What a page links to.
#[derive(Debug, Default, PartialEq)]
pub struct Found {
    /// The http(s) links taken, in document order, without duplicates.
    pub urls: Vec<Url>,
    /// Links longer than [`MAX_URL_LEN`], dropped.
    pub too_long: usize,
    /// Distinct links past [`MAX_LINKS`], dropped.
    pub over_cap: usize,
}

static LINK: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href], area[href]").expect("static selector"));
static BASE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("base[href]").expect("static selector"));
static META_ROBOTS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("meta[name][content]").expect("static selector"));

/// The http(s) links of a page, in document order, without duplicates.
/// `rel=nofollow` links are skipped, and all links when the page says
/// `<meta name="robots" content="nofollow">`.
pub fn links(html: &str, page: &Url) -> Found {
    of_tree(&Html::parse_document(html), page)
}

/// [`links`] of a page parsed already (the crawler's: the tree the cleaner
/// parsed, so that a page is parsed once).
pub fn of_tree(doc: &Html, page: &Url) -> Found {
    let nofollow_page = doc.select(&META_ROBOTS).any(|m| {
        let name = m.value().attr("name").unwrap_or("");
        (name.eq_ignore_ascii_case("robots") || name.eq_ignore_ascii_case("parkcrawl"))
            && m.value()
                .attr("content")
                .unwrap_or("")
                .split(',')
                .any(|t| matches!(t.trim().to_ascii_lowercase().as_str(), "nofollow" | "none"))
    });
    if nofollow_page {
        return Found::default();
    }
    let base = doc
        .select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h.trim()).ok())
        .unwrap_or_else(|| page.clone());
    let mut found = Found::default();
    let mut seen: HashSet<String> = HashSet::new();
    for a in doc.select(&LINK) {
        let rel = a.value().attr("rel").unwrap_or("");
        if rel
            .split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("nofollow"))
        {
            continue;
        }
        let href = a.value().attr("href").unwrap_or("").trim();
        if href.is_empty() || href.starts_with('#') {
            continue;
        }
        let Ok(mut u) = base.join(href) else { continue };
        if !matches!(u.scheme(), "http" | "https") {
            continue; // javascript:, mailto:, tel:, data:, …
        }
        u.set_fragment(None);
        if u.as_str().len() > MAX_URL_LEN {
            found.too_long += 1;
        } else if seen.contains(u.as_str()) {
            // a duplicate
        } else if found.urls.len() >= MAX_LINKS {
            found.over_cap += 1;
            seen.insert(u.into());
        } else {
            seen.insert(u.as_str().to_string());
            found.urls.push(u);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_resolves_and_filters() {
        let page = Url::parse("http://sh.taxs.vip/news/view.html?id=1").unwrap();
        let html = r##"<html><head><base href="/park/"></head><body>
            <a href="view.html?id=2428">park</a>
            <a href=" http://sh.taxs.vip/news/view.html?id=2#c ">next</a>
            <a href="http://sh.taxs.vip/news/view.html?id=2">dup</a>
            <a href="javascript:void(0)">js</a> <a href="mailto:a@b.cn">mail</a>
            <a href="#top">top</a> <a href="">empty</a>
            <a href="/login" rel="nofollow">login</a>
            <map><area href="/district/minhang"></map>
        </body></html>"##;
        let got: Vec<String> = links(html, &page).urls.iter().map(Url::to_string).collect();
        assert_eq!(
            got,
            [
                "http://sh.taxs.vip/park/view.html?id=2428",
                "http://sh.taxs.vip/news/view.html?id=2",
                "http://sh.taxs.vip/district/minhang",
            ]
        );
        let none = r#"<meta name="robots" content="noindex, nofollow"><a href="/x">x</a>"#;
        assert_eq!(links(none, &page), Found::default());
    }

    #[test]
    fn long_links_and_the_cap_are_counted() {
        let page = Url::parse("http://a.cn/").unwrap();
        let long = format!("/{}", "x".repeat(MAX_URL_LEN));
        let mut html = format!("<a href=\"{long}\">long</a><a href=\"{long}\">again</a>");
        for i in 0..MAX_LINKS + 10 {
            html.push_str(&format!(
                "<a href=\"/p{i}\">{i}</a><a href=\"/p{i}#f\">dup</a>"
            ));
        }
        let f = links(&html, &page);
        assert_eq!(f.too_long, 2);
        assert_eq!(f.urls.len(), MAX_LINKS);
        assert_eq!(f.over_cap, 10);
        assert_eq!(
            f.urls[MAX_LINKS - 1].as_str(),
            format!("http://a.cn/p{}", MAX_LINKS - 1)
        );
    }
}
