//! The search document: a record flattened for search engines, and the
//! three search formats built on it (`es-bulk`, `typesense`, `meili`).
//!
//! The flattening is a contract (README, "Search documents"): the keys, in
//! this order, are always present (Typesense: but those that are `null`),
//! and their meaning does not change without saying so there.
//!
//! | key | from the record |
//! |---|---|
//! | `id`, `url`, `canonical_url`, `kind`, `lang`, `title`, `author`, `source`, `views`, `district`, `text`, `content_hash` | the same keys |
//! | `site` | `site.host` |
//! | `site_name` | `site.name` |
//! | `published_at`, `published_at_epoch` | `published_at`, and the same instant as Unix seconds |
//! | `park`, `park_id`, `park_url` | `park.name`, `park.id`, `park.url` |
//! | `facts` | `fields` as `"label: value"` strings, in the record's order |
//! | `headings` | the `heading` blocks' text |
//! | `fetched_at`, `fetched_at_epoch` | `fetch.fetched_at`, and as Unix seconds |
//!
//! Nested objects become flat keys, because every engine handles those the
//! same way, and `fields` becomes strings rather than an object: its labels
//! are the pages' own (园区面积, 联系电话 …), and as keys they would grow an
//! engine's schema (Elasticsearch's mapping, Typesense's fields) without end.

use serde_json::{Map, Value, json};

use crate::document::{Block, Document, Tombstone};

/// A record as a search document (see the module header).
pub fn flatten(doc: &Document) -> Map<String, Value> {
    let park = doc.park.as_ref();
    let fetched_at = doc.fetch.as_ref().and_then(|f| f.fetched_at.clone());
    let facts: Vec<String> = doc
        .fields
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect();
    let headings: Vec<&str> = doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let value = json!({
        "id": doc.id,
        "url": doc.url,
        "canonical_url": doc.canonical_url,
        "kind": doc.kind,
        "site": doc.site.host,
        "site_name": doc.site.name,
        "lang": doc.lang,
        "title": doc.title,
        "published_at": doc.published_at,
        "published_at_epoch": doc.published_at.as_deref().and_then(epoch),
        "author": doc.author,
        "source": doc.source,
        "views": doc.views,
        "district": doc.district,
        "park": park.and_then(|p| p.name.clone()),
        "park_id": park.and_then(|p| p.id.clone()),
        "park_url": park.and_then(|p| p.url.clone()),
        "facts": facts,
        "headings": headings,
        "text": doc.text,
        "fetched_at": fetched_at,
        "fetched_at_epoch": fetched_at.as_deref().and_then(epoch),
        "content_hash": doc.content_hash,
    });
    match value {
        Value::Object(m) => m,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// Unix seconds of an RFC 3339 instant (`published_at`, `fetched_at`);
/// `None` for anything else.
pub fn epoch(rfc3339: &str) -> Option<i64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second())
}

/// Elasticsearch / OpenSearch `_bulk`: an `index` action naming the
/// document by id, then the document, each on its own line. `index` names
/// the target index in the action (`_index`); without it the bulk request's
/// URL must name it (`POST /NAME/_bulk`).
pub fn es_index(doc: &Document, index: Option<&str>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    action("index", &doc.id, index, out)?;
    serde_json::to_writer(&mut *out, &flatten(doc))?;
    out.push(b'\n');
    Ok(())
}

/// A tombstone as a `_bulk` `delete` action: one line, no source line.
pub fn es_delete(t: &Tombstone, index: Option<&str>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    action("delete", &t.id, index, out)
}

fn action(verb: &str, id: &str, index: Option<&str>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let mut target = Map::new();
    if let Some(i) = index {
        target.insert("_index".into(), i.into());
    }
    target.insert("_id".into(), id.into());
    serde_json::to_writer(&mut *out, &json!({ verb: target }))?;
    out.push(b'\n');
    Ok(())
}

/// Typesense `documents/import?action=upsert`: the search document without
/// its `null` keys (an optional Typesense field is absent, not null).
pub fn typesense(doc: &Document, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let mut m = flatten(doc);
    m.retain(|_, v| !v.is_null());
    serde_json::to_writer(&mut *out, &m)?;
    out.push(b'\n');
    Ok(())
}

/// Meilisearch NDJSON (`POST /indexes/NAME/documents?primaryKey=id`, as
/// `application/x-ndjson`): the search document as it is.
pub fn meili(doc: &Document, out: &mut Vec<u8>) -> serde_json::Result<()> {
    serde_json::to_writer(&mut *out, &flatten(doc))?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_of_rfc3339_with_any_offset_and_nothing_else() {
        assert_eq!(epoch("2022-10-18T10:39:26+08:00"), Some(1666060766));
        assert_eq!(epoch("2022-10-18T02:39:26Z"), Some(1666060766));
        assert_eq!(epoch("1969-12-31T23:59:59Z"), Some(-1));
        assert_eq!(epoch("2022-10-18"), None);
        assert_eq!(epoch("昨天"), None);
    }

    #[test]
    fn actions_name_the_index_only_when_given() {
        let mut out = Vec::new();
        action("delete", "ab12", None, &mut out).unwrap();
        action("delete", "ab12", Some("园区"), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"delete\":{\"_id\":\"ab12\"}}\n{\"delete\":{\"_index\":\"园区\",\"_id\":\"ab12\"}}\n"
        );
    }
}
