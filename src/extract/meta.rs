//! What a page says about itself outside its visible text: `<title>`,
//! `<meta>` (OpenGraph, article:*, the TRS/government PubDate family),
//! `<link rel=canonical>`, `<base href>`, `<html lang>`, JSON-LD, and the
//! `<!-- saved from url=… -->` comment browsers write into saved pages.

use scraper::{ElementRef, Html, Node};
use serde_json::Value;
use url::Url;

use crate::dom::{is_cjk, normalize_ws};

#[derive(Debug, Default, Clone)]
pub struct PageMeta {
    pub title: String,
    pub canonical: Option<String>,
    pub og_url: Option<String>,
    pub og_title: Option<String>,
    pub og_site_name: Option<String>,
    /// `og:type` (`article`, `website`), lower case.
    pub og_type: Option<String>,
    pub description: Option<String>,
    /// article:published_time, PubDate, publishdate … in order of trust.
    pub published: Vec<String>,
    /// article:modified_time, og:updated_time, dateModified: when the page
    /// was last changed (a visible date equal to it is the update's).
    pub modified: Vec<String>,
    pub author: Option<String>,
    /// `ContentSource`, the source field of the government-site meta set.
    pub content_source: Option<String>,
    /// `ArticleTitle`, the headline field of the government-site meta set.
    pub article_title: Option<String>,
    pub base_href: Option<String>,
    pub lang: Option<String>,
    pub saved_from: Option<String>,
    pub jsonld: JsonLd,
}

/// The article facts of the page's JSON-LD (first Article-like object).
#[derive(Debug, Default, Clone)]
pub struct JsonLd {
    pub headline: Option<String>,
    /// `name`, when the object gives a headline as well (Wikipedia's
    /// headline is the article's one-line description, its name the title).
    pub name: Option<String>,
    pub date_published: Option<String>,
    pub date_modified: Option<String>,
    pub author: Option<String>,
    pub publisher: Option<String>,
    pub url: Option<String>,
}

impl PageMeta {
    /// The page declares itself one article (OpenGraph or JSON-LD).
    pub fn declares_article(&self) -> bool {
        self.og_type.as_deref() == Some("article") || self.jsonld.headline.is_some()
    }
}

/// What one `<meta content>` tag says.
fn meta_tag(e: &scraper::node::Element, m: &mut PageMeta, published: &mut Vec<(u8, String)>) {
    // (Parse.ly's `parsely-pub-date` is its publication date; its
    // `sailthru.date` is not read: CMSs fill it with the last update.)
    let Some(content) = e.attr("content") else {
        return;
    };
    let key = e
        .attr("property")
        .or_else(|| e.attr("name"))
        .or_else(|| e.attr("itemprop"))
        .unwrap_or("")
        .to_ascii_lowercase();
    let content = normalize_ws(content);
    if content.is_empty() {
        return;
    }
    match key.as_str() {
        "og:title" => m.og_title = Some(content),
        "og:url" => m.og_url = Some(content),
        "og:type" => m.og_type = Some(content.to_ascii_lowercase()),
        "og:site_name" | "sitename" | "site_name" => m.og_site_name = Some(content),
        "description" | "og:description" => {
            m.description.get_or_insert(content);
        }
        "contentsource" => m.content_source = Some(content),
        "articletitle" => m.article_title = Some(content),
        // An author given as a URL (article:author) names nobody.
        // The byline vocabularies publishers' CMSs write (`byl` is "By …").
        "author"
        | "article:author"
        | "article:author_name"
        | "byl"
        | "parsely-author"
        | "dc.creator"
        | "dcterms.creator"
        | "sailthru.author"
            if !content.starts_with("http") =>
        {
            m.author.get_or_insert(content);
        }
        "article:published_time" | "datepublished" => published.push((0, content)),
        "pubdate" | "publishdate" | "publish_date" | "firstpublishedtime" | "dc.date.issued"
        | "parsely-pub-date" | "dc.date" | "date" => published.push((1, content)),
        "article:modified_time" | "og:updated_time" | "datemodified" => m.modified.push(content),
        _ => {}
    }
}

pub fn read(html: &Html) -> PageMeta {
    let mut m = PageMeta::default();
    let mut published: Vec<(u8, String)> = Vec::new();
    let (mut title, mut base, mut lang, mut jsonld) = (false, false, false, false);
    // One pass over the elements, in the order `Html::select` gives them
    // (six selects were six walks of the page).
    for node in html.tree.nodes() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let e = el.value();
        match e.name() {
            "title" if !title => {
                title = true;
                m.title = normalize_ws(&el.text().collect::<String>());
            }
            "link" => {
                let rel = e.attr("rel").unwrap_or("").to_ascii_lowercase();
                if rel.split_whitespace().any(|r| r == "canonical") && m.canonical.is_none() {
                    m.canonical = e.attr("href").map(|h| h.trim().to_string());
                }
            }
            "base" if !base && e.attr("href").is_some() => {
                base = true;
                m.base_href = e.attr("href").map(|h| h.trim().to_string());
            }
            "html" if !lang && e.attr("lang").is_some() => {
                lang = true;
                m.lang = e.attr("lang").map(str::to_string);
            }
            "meta" => meta_tag(e, &mut m, &mut published),
            "script" if !jsonld => {
                let ty = e.attr("type").unwrap_or("").to_ascii_lowercase();
                if !ty.contains("ld+json") {
                    continue;
                }
                let text: String = el.text().collect();
                if let Ok(v) = serde_json::from_str::<Value>(unwrap_script(&text))
                    && let Some(a) = find_article(&v, 0)
                {
                    m.jsonld = jsonld_of(a);
                    jsonld = true;
                }
            }
            _ => {}
        }
    }
    published.sort_by_key(|p| p.0);
    m.published = published.into_iter().map(|p| p.1).collect();

    // The saved-from comment sits before or just after the doctype.
    for n in html.tree.root().descendants().take(64) {
        if let Node::Comment(c) = n.value()
            && let Some(rest) = c.trim().strip_prefix("saved from url=")
        {
            let url = rest.split_once(')').map_or(rest, |(_, u)| u).trim();
            m.saved_from = Some(url.to_string());
            break;
        }
    }
    m
}

/// A script's JSON without the wrappers pages put around it for old
/// parsers: `<![CDATA[ … ]]>` (often behind `//`) and `<!-- … -->`.
fn unwrap_script(text: &str) -> &str {
    let mut t = text.trim();
    loop {
        let before = t;
        for open in ["//", "<![CDATA[", "<!--"] {
            t = t.strip_prefix(open).unwrap_or(t).trim_start();
        }
        for close in ["]]>", "-->", "//"] {
            t = t.strip_suffix(close).unwrap_or(t).trim_end();
        }
        if t.len() == before.len() {
            return t;
        }
    }
}

/// schema.org's Article and its subtypes (news, blog and social postings,
/// reports, scholarly and technical articles), and the government permit.
const ARTICLE_TYPES: &[&str] = &[
    "Article",
    "NewsArticle",
    "AnalysisNewsArticle",
    "AskPublicNewsArticle",
    "BackgroundNewsArticle",
    "OpinionNewsArticle",
    "ReportageNewsArticle",
    "ReviewNewsArticle",
    "AdvertiserContentArticle",
    "SatiricalArticle",
    "ScholarlyArticle",
    "MedicalScholarlyArticle",
    "SocialMediaPosting",
    "BlogPosting",
    "LiveBlogPosting",
    "DiscussionForumPosting",
    "Report",
    "TechArticle",
    "APIReference",
    "GovernmentPermit",
];

fn find_article(v: &Value, depth: usize) -> Option<&Value> {
    if depth > 6 {
        return None;
    }
    match v {
        Value::Array(a) => a.iter().find_map(|x| find_article(x, depth + 1)),
        Value::Object(o) => {
            let is_article = match o.get("@type") {
                Some(Value::String(t)) => ARTICLE_TYPES.contains(&t.as_str()),
                Some(Value::Array(ts)) => ts
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| ARTICLE_TYPES.contains(&t))),
                _ => false,
            };
            if is_article {
                return Some(v);
            }
            o.get("@graph").and_then(|g| find_article(g, depth + 1))
        }
        _ => None,
    }
}

fn name_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").and_then(name_of),
        Value::Array(a) => {
            let names: Vec<String> = a.iter().filter_map(name_of).collect();
            // Chinese names are listed with 、, others with a comma.
            let sep = if names.iter().any(|n| n.chars().any(is_cjk)) {
                "、"
            } else {
                ", "
            };
            (!names.is_empty()).then(|| names.join(sep))
        }
        _ => None,
    }
    .map(|s| normalize_ws(&s))
    .filter(|s| !s.is_empty())
}

fn jsonld_of(a: &Value) -> JsonLd {
    let s = |k: &str| a.get(k).and_then(name_of);
    JsonLd {
        headline: s("headline").or_else(|| s("name")),
        name: s("headline").and(s("name")),
        date_published: s("datePublished").or_else(|| s("dateCreated")),
        date_modified: s("dateModified"),
        author: a.get("author").and_then(name_of),
        publisher: a.get("publisher").and_then(name_of),
        url: s("url").or_else(|| {
            a.get("mainEntityOfPage")
                .and_then(|m| m.get("@id").or(Some(m)))
                .and_then(|v| v.as_str().map(str::to_string))
        }),
    }
}

/// Resolves `href` against `base`, keeping only http(s) results.
pub fn resolve(base: Option<&Url>, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let lower = href.to_ascii_lowercase();
    if lower.starts_with("javascript:") || lower.starts_with("mailto:") || lower.starts_with("tel:")
    {
        return None;
    }
    let u = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    matches!(u.scheme(), "http" | "https" | "file").then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_of(head: &str) -> PageMeta {
        read(&Html::parse_document(&format!(
            "<html><head>{head}</head><body><p>x</p></body></html>"
        )))
    }

    #[test]
    fn json_ld_behind_cdata_and_comment_wrappers_is_read() {
        for wrapped in [
            "//<![CDATA[\n{J}\n//]]>",
            "<![CDATA[ {J} ]]>",
            "<!-- {J} -->",
            "\n  {J}  \n",
        ] {
            let j = r#"{"@type":"NewsArticle","headline":"H","datePublished":"2023-06-12"}"#;
            let m = meta_of(&format!(
                r#"<script type="application/ld+json">{}</script>"#,
                wrapped.replace("{J}", j)
            ));
            assert_eq!(m.jsonld.headline.as_deref(), Some("H"), "{wrapped}");
            assert_eq!(m.jsonld.date_published.as_deref(), Some("2023-06-12"));
        }
    }

    #[test]
    fn article_subtypes_count_and_other_types_do_not() {
        let of = |ty: &str| {
            meta_of(&format!(
                r#"<script type="application/ld+json">{{"@type":"{ty}","headline":"H"}}</script>"#
            ))
            .jsonld
            .headline
        };
        for ty in [
            "SocialMediaPosting",
            "LiveBlogPosting",
            "ScholarlyArticle",
            "OpinionNewsArticle",
        ] {
            assert_eq!(of(ty).as_deref(), Some("H"), "{ty}");
        }
        for ty in ["BreadcrumbList", "Organization", "WebSite"] {
            assert_eq!(of(ty), None, "{ty}");
        }
    }

    #[test]
    fn modified_dates_and_parsely_publication_date() {
        let m = meta_of(concat!(
            r#"<meta property="article:modified_time" content="2025-09-30T16:02:11+00:00">"#,
            r#"<meta name="parsely-pub-date" content="2024-04-20T04:20:00.000Z">"#,
            r#"<meta name="sailthru.date" content="2025-09-30">"#,
            r#"<script type="application/ld+json">{"@type":"Article","headline":"H","name":"N","dateModified":"2025-10-01"}</script>"#,
        ));
        assert_eq!(m.modified, ["2025-09-30T16:02:11+00:00"]);
        assert_eq!(m.published, ["2024-04-20T04:20:00.000Z"]);
        assert_eq!(m.jsonld.date_modified.as_deref(), Some("2025-10-01"));
        assert_eq!(m.jsonld.name.as_deref(), Some("N"));
    }

    #[test]
    fn authors_are_joined_by_their_script() {
        let of = |names: &str| {
            meta_of(&format!(
                r#"<script type="application/ld+json">{{"@type":"Article","headline":"H","author":[{names}]}}</script>"#
            ))
            .jsonld
            .author
        };
        assert_eq!(
            of(r#"{"name":"Stella Kim"},{"name":"Jennifer Jett"}"#).as_deref(),
            Some("Stella Kim, Jennifer Jett")
        );
        assert_eq!(of(r#""张伟","李娜""#).as_deref(), Some("张伟、李娜"));
    }
}
