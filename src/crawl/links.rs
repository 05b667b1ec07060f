//! Link discovery: the `<a href>` / `<area href>` of a fetched page, resolved
//! against `<base href>` and the page URL. Runs on the blocking pool next to
//! cleaning (`scraper::Html` is not `Send`).

use std::sync::LazyLock;

use scraper::{Html, Selector};
use url::Url;

static LINK: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href], area[href]").expect("static selector"));
static BASE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("base[href]").expect("static selector"));
static META_ROBOTS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("meta[name][content]").expect("static selector"));

/// The http(s) links of a page, in document order, without duplicates.
/// `rel=nofollow` links are skipped, and all links when the page says
/// `<meta name="robots" content="nofollow">`.
pub fn links(html: &str, page: &Url) -> Vec<Url> {
    let doc = Html::parse_document(html);
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
        return Vec::new();
    }
    let base = doc
        .select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h.trim()).ok())
        .unwrap_or_else(|| page.clone());
    let mut out: Vec<Url> = Vec::new();
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
        if !out.contains(&u) {
            out.push(u);
        }
    }
    out
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
        let got: Vec<String> = links(html, &page).iter().map(Url::to_string).collect();
        assert_eq!(
            got,
            [
                "http://sh.taxs.vip/park/view.html?id=2428",
                "http://sh.taxs.vip/news/view.html?id=2",
                "http://sh.taxs.vip/district/minhang",
            ]
        );
        let none = r#"<meta name="robots" content="noindex, nofollow"><a href="/x">x</a>"#;
        assert!(links(none, &page).is_empty());
    }
}
