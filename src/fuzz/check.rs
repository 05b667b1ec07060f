//! The invariants each fuzz input is checked against, beyond "no panic":
//! a record is one valid JSON line with every SCHEMA key in its documented
//! form; `text` has no U+FFFD the input did not force; robots.txt and URL
//! canonicalisation keep their laws.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;
use url::Url;

use super::{Failure, FailureKind};
use crate::clean::decode::Decoded;
use crate::crawl::canon;
use crate::crawl::scope::Scope;
use crate::fetch::robots::{MAX_CRAWL_DELAY, Robots};
use crate::rules::path_and_query;

/// Every key of a record (`docs/schema.md`, "Fields").
pub const SCHEMA_KEYS: [&str; 24] = [
    "type",
    "schema_version",
    "id",
    "url",
    "canonical_url",
    "kind",
    "rule",
    "site",
    "lang",
    "title",
    "published_at",
    "author",
    "source",
    "views",
    "district",
    "park",
    "fields",
    "blocks",
    "items",
    "text",
    "removed",
    "provenance",
    "fetch",
    "content_hash",
];

const BLOCK_TYPES: [&str; 6] = ["heading", "paragraph", "image", "list", "table", "quote"];

fn bad(msg: impl Into<String>) -> Failure {
    Failure::new(FailureKind::BadRecord, msg)
}

/// Whether the decoded page itself asks for U+FFFD somewhere: bytes invalid
/// in its charset, a U+FFFD or NUL in the text (the HTML parser turns NUL
/// into U+FFFD in attribute values and raw text), or a numeric character
/// reference that HTML maps to U+FFFD (U+FFFD itself, zero, a surrogate,
/// above U+10FFFF).
/// Conservative on purpose: a false "forced" only hides a finding, a false
/// "not forced" would be a false alarm.
pub fn forces_replacement(d: &Decoded) -> bool {
    d.malformed
        || d.html.contains(['\u{FFFD}', '\0'])
        || has_replacement_reference(d.html.as_bytes())
}

fn has_replacement_reference(html: &[u8]) -> bool {
    memchr::memmem::find_iter(html, b"&#").any(|at| {
        let rest = &html[at + 2..];
        let (hex, digits) = match rest.first() {
            Some(b'x' | b'X') => (true, &rest[1..]),
            _ => (false, rest),
        };
        let mut value: u64 = 0;
        let mut any = false;
        for &b in digits {
            let d = match (hex, b) {
                (_, b'0'..=b'9') => u64::from(b - b'0'),
                (true, b'a'..=b'f') => u64::from(b - b'a' + 10),
                (true, b'A'..=b'F') => u64::from(b - b'A' + 10),
                _ => break,
            };
            any = true;
            value = value
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(d);
        }
        any && (matches!(value, 0 | 0xFFFD)
            || (0xD800..=0xDFFF).contains(&value)
            || value > 0x10FFFF)
    })
}

/// One record line: JSON Lines, every key, each in its documented form.
pub fn record(line: &[u8], forced: bool) -> Result<(), Failure> {
    if line.last() != Some(&b'\n') || memchr::memchr(b'\n', line) != Some(line.len() - 1) {
        return Err(bad("record is not exactly one line"));
    }
    let v: Value = serde_json::from_slice(line).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("record is not an object"))?;
    if let Some(k) = SCHEMA_KEYS.iter().find(|k| !obj.contains_key(**k)) {
        return Err(bad(format!("missing key {k}")));
    }
    if v["schema_version"] != 1 {
        return Err(bad("schema_version is not 1"));
    }
    if v["type"] != "record" {
        return Err(bad("type is not \"record\""));
    }
    for k in ["id", "url", "kind", "rule", "text", "content_hash"] {
        if !v[k].is_string() {
            return Err(bad(format!("{k} is not a string")));
        }
    }
    if !v["content_hash"]
        .as_str()
        .unwrap_or("")
        .starts_with("sha256:")
    {
        return Err(bad("content_hash lacks sha256:"));
    }
    if let Some(p) = v["published_at"].as_str() {
        rfc3339(p)?;
    } else if !v["published_at"].is_null() {
        return Err(bad("published_at is neither a string nor null"));
    }
    blocks(&v["blocks"])?;
    let text = v["text"].as_str().unwrap_or("");
    if !forced && text.contains('\u{FFFD}') {
        return Err(Failure::new(
            FailureKind::Replacement,
            "text has U+FFFD that the input did not force",
        ));
    }
    Ok(())
}

/// RFC 3339 with an offset within ±14:00, as SCHEMA promises `published_at`.
/// Every `--format` renders the record (a panic there is caught as one),
/// and what a page said never becomes markup: the HTML page has no
/// `<script` and no `javascript:` link, as its template has neither.
pub fn formats(doc: &crate::document::Document) -> Result<(), Failure> {
    use crate::format::{page, search};
    let mut buf = Vec::new();
    search::es_index(doc, Some("fuzz"), &mut buf)
        .and_then(|()| search::typesense(doc, &mut buf))
        .and_then(|()| search::meili(doc, &mut buf))
        .map_err(|e| bad(format!("search document: {e}")))?;
    let _ = page::markdown(doc);
    let html = page::html(doc).to_ascii_lowercase();
    for markup in ["<script", "href=\"javascript:", "src=\"javascript:"] {
        if html.contains(markup) {
            return Err(bad(format!(
                "--format html: page text became markup ({markup})"
            )));
        }
    }
    Ok(())
}

pub fn rfc3339(s: &str) -> Result<(), Failure> {
    static FORM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$")
            .expect("static regex")
    });
    let c = FORM
        .captures(s)
        .ok_or_else(|| bad(format!("published_at {s:?} is not RFC 3339")))?;
    let hours: u32 = c.get(1).map_or(0, |m| m.as_str().parse().unwrap_or(99));
    let minutes: u32 = c.get(2).map_or(0, |m| m.as_str().parse().unwrap_or(99));
    if hours * 60 + minutes > 14 * 60 || minutes > 59 {
        return Err(bad(format!(
            "published_at {s:?} has an offset beyond ±14:00"
        )));
    }
    s.parse::<jiff::Timestamp>()
        .map_err(|e| bad(format!("published_at {s:?} is no valid time: {e}")))?;
    Ok(())
}

fn blocks(v: &Value) -> Result<(), Failure> {
    let list = v.as_array().ok_or_else(|| bad("blocks is not an array"))?;
    for b in list {
        let t = b["type"].as_str().unwrap_or("");
        if !BLOCK_TYPES.contains(&t) {
            return Err(bad(format!("block type {t:?}")));
        }
    }
    Ok(())
}

/// robots.txt laws: `/robots.txt` always allowed, the delay capped, a file
/// with no `disallow` in it (any case) disallows nothing, and parsing is a
/// function of the text.
pub fn robots(text: &str, r: &Robots) -> Result<(), Failure> {
    let fail = |m: &str| Err(Failure::new(FailureKind::Url, m));
    if !r.is_allowed("/robots.txt") {
        return fail("/robots.txt disallowed");
    }
    if r.crawl_delay.is_some_and(|d| d > MAX_CRAWL_DELAY) {
        return fail("crawl delay above the cap");
    }
    if !text.to_ascii_lowercase().contains("disallow") && r.rule_count() > 0 {
        for p in ["/", "/a", "/index.html?x=1"] {
            if !r.is_allowed(p) {
                return fail("a file without disallow lines disallows a path");
            }
        }
    }
    if Robots::parse(text, "parkcrawl") != *r {
        return fail("parsing the same text twice differs");
    }
    Ok(())
}

/// At most this many tokens of one input go through the URL checks.
const MAX_TOKENS: usize = 200;

/// The URL-like tokens of a text: the value of each `key: value` line and
/// each whitespace-separated word, capped.
pub fn url_tokens(text: &str) -> impl Iterator<Item = &str> {
    let values = text
        .lines()
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()));
    values
        .chain(text.split_whitespace())
        .filter(|t| !t.is_empty())
        .take(MAX_TOKENS)
}

/// The base a relative token is resolved against.
static BASE: LazyLock<Url> = LazyLock::new(|| Url::parse("http://r.test/dir/page.html").unwrap());

/// Canonicalisation laws for one token: the canonical form is an http(s) URL
/// with a host, without fragment, credentials or `utm_*` parameters, its
/// query sorted, and canonicalising it again changes nothing. Robots matching,
/// scope and redaction take it without panicking.
pub fn url(token: &str, r: &Robots, scope: &Scope) -> Result<(), Failure> {
    let Ok(u) = BASE.join(token) else {
        return Ok(());
    };
    let _ = canon::redact(&u);
    let strip = ["sessionid".to_string()];
    let Some(c) = canon::canonicalize(&u, &strip) else {
        return Ok(());
    };
    let fail = |m: String| Err(Failure::new(FailureKind::Url, m));
    if !matches!(c.scheme(), "http" | "https") || c.host_str().is_none_or(str::is_empty) {
        return fail(format!("canonical form of {u} is {c}"));
    }
    if c.fragment().is_some() || !c.username().is_empty() || c.password().is_some() {
        return fail(format!(
            "canonical form of {u} keeps a fragment or credentials"
        ));
    }
    let names = c.query().unwrap_or("").split('&');
    if names.map(|p| p.split('=').next().unwrap_or("")).any(|k| {
        k.get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case("utm_"))
    }) {
        return fail(format!("canonical form of {u} keeps a utm_ parameter"));
    }
    match canon::canonicalize(&c, &strip) {
        Some(again) if again == c => {}
        again => {
            return fail(format!(
                "canonicalisation is not idempotent: {u} → {c} → {again:?}"
            ));
        }
    }
    let _ = r.is_allowed(&path_and_query(&c));
    let _ = scope.link(&c);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_at_must_be_rfc3339_within_fourteen_hours() {
        assert!(rfc3339("2022-10-18T10:39:26+08:00").is_ok());
        assert!(rfc3339("2022-10-18T02:39:26.5Z").is_ok());
        assert!(rfc3339("2007-08-20T00:00:00-23:59").is_err());
        assert!(rfc3339("2022-10-18T10:39:26+14:01").is_err());
        assert!(rfc3339("2022-10-18T10:39:26+０８:００").is_err());
        assert!(rfc3339("2022-13-01T00:00:00+08:00").is_err());
        assert!(rfc3339("2022-10-18 10:39:26+08:00").is_err());
    }

    #[test]
    fn only_references_html_maps_to_fffd_force_it() {
        for forced in [
            "&#0;",
            "a&#xD800;b",
            "&#x110000;",
            "&#99999999999999999999;",
        ] {
            assert!(has_replacement_reference(forced.as_bytes()), "{forced}");
        }
        for fine in ["&#x4e2d;", "&#128;", "&#;", "&#x;", "&amp;#0", "&#10FFFF"] {
            assert!(!has_replacement_reference(fine.as_bytes()), "{fine}");
        }
    }

    fn line(text: &str, drop: Option<&str>) -> Vec<u8> {
        let mut m = serde_json::Map::new();
        for k in SCHEMA_KEYS {
            m.insert(k.into(), Value::Null);
        }
        for k in ["id", "url", "kind", "rule"] {
            m.insert(k.into(), "x".into());
        }
        m.insert("schema_version".into(), 1.into());
        m.insert("type".into(), "record".into());
        m.insert("text".into(), text.into());
        m.insert("content_hash".into(), "sha256:00".into());
        m.insert("blocks".into(), serde_json::json!([{"type": "paragraph"}]));
        if let Some(k) = drop {
            m.remove(k);
        }
        let mut l = serde_json::to_vec(&m).unwrap();
        l.push(b'\n');
        l
    }

    #[test]
    fn a_record_needs_every_key_and_no_unforced_fffd() {
        assert_eq!(record(&line("ok", None), false), Ok(()));
        let missing = record(&line("ok", Some("provenance")), false).unwrap_err();
        assert_eq!(missing.kind, FailureKind::BadRecord);
        assert!(missing.message.contains("provenance"));
        let fffd = record(&line("a\u{FFFD}b", None), false).unwrap_err();
        assert_eq!(fffd.kind, FailureKind::Replacement);
        assert_eq!(record(&line("a\u{FFFD}b", None), true), Ok(()));
        let two_lines = [&line("ok", None)[..], b"\n"].concat();
        assert!(record(&two_lines, false).is_err());
    }

    #[test]
    fn panics_at_one_place_are_one_failure() {
        let a = Failure::new(FailureKind::Panic, "index 5 inside '伤' (at src/x.rs:3)");
        let b = Failure::new(FailureKind::Panic, "index 9 inside 'é' (at src/x.rs:3)");
        let c = Failure::new(FailureKind::Panic, "index 5 inside '伤' (at src/x.rs:4)");
        assert_eq!(a.signature(), b.signature());
        assert_ne!(a.signature(), c.signature());
    }

    #[test]
    fn canonicalisation_laws_hold_for_ordinary_urls() {
        let rules = std::sync::Arc::new(crate::rules::RuleSet::builtin().unwrap());
        let seed = Url::parse("http://r.test/").unwrap();
        let scope = Scope::new([&seed], rules);
        let r = Robots::parse("User-agent: *\nDisallow: /a\n", "parkcrawl");
        assert_eq!(robots("User-agent: *\nDisallow: /a\n", &r), Ok(()));
        for t in [
            "/a?utm_source=1&b=2#f",
            "https://u:p@R.test.:443/x",
            "mailto:a@b",
        ] {
            assert_eq!(url(t, &r, &scope), Ok(()), "{t}");
        }
    }
}
