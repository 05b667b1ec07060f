//! The record every cleaned page becomes (`SCHEMA.md`, schema_version 1), and
//! the tombstone a recrawl writes for a page that is gone. Field order here is
//! the order of the keys in the JSON output. Records read back as they were
//! written (`Deserialize`): `clean`'s second pass rewrites some of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::extract::items::Item;
use crate::rules::Kind;

pub const SCHEMA_VERSION: u32 = 1;

/// The `type` key first on every line of the stream: records and
/// tombstones share it, and a reader should not have to tell them apart by
/// which keys are present. An added key (schema_version stays 1); a line
/// read back without it is a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineType {
    #[default]
    Record,
    Tombstone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Always [`LineType::Record`].
    #[serde(rename = "type", default)]
    pub line_type: LineType,
    pub schema_version: u32,
    pub id: String,
    pub url: String,
    pub canonical_url: Option<String>,
    pub kind: Kind,
    pub rule: String,
    pub site: Site,
    pub lang: Option<String>,
    pub title: Option<String>,
    pub published_at: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
    pub views: Option<u64>,
    pub district: Option<String>,
    pub park: Option<Park>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub blocks: Vec<Block>,
    pub items: Vec<Item>,
    pub text: String,
    pub removed: BTreeMap<String, u64>,
    /// Which source each metadata field came from (`title`: `json-ld`, …):
    /// the cascade's winner, for a person checking a record.
    #[serde(default)]
    pub provenance: BTreeMap<String, String>,
    /// Where the page's bytes were read from: a saved file or a WARC record;
    /// `None` for a page fetched over HTTP (then `fetch` says how).
    #[serde(default)]
    pub input: Option<Origin>,
    pub fetch: Option<Fetch>,
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub host: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Park {
    pub name: Option<String>,
    pub id: Option<String>,
    pub url: Option<String>,
}

/// The input a record was read from (`input` in the record). A canonical
/// link replaces the record's `url`, so without this a record of a saved
/// file or of a WARC could not be traced back to its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Origin {
    /// A WARC record: the WARC's path as given, and the record's offset as
    /// warcio and CDX indexes give it (its gzip member's in a `.warc.gz`).
    Warc { warc: String, offset: u64 },
    /// A saved file: its path as given (or found under a directory given);
    /// `-` for standard input.
    File { file: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fetch {
    pub status: Option<u16>,
    pub fetched_at: Option<String>,
    pub content_type: Option<String>,
    pub charset: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Block {
    Heading {
        text: String,
    },
    Paragraph {
        text: String,
    },
    Image {
        src: Option<String>,
        alt: Option<String>,
        caption: Option<String>,
    },
    List {
        items: Vec<String>,
    },
    Table {
        rows: Vec<Vec<String>>,
    },
    Quote {
        text: String,
    },
}

/// A page that a recrawl found gone (404 / 410).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    /// Always [`LineType::Tombstone`].
    #[serde(rename = "type")]
    pub line_type: LineType,
    pub schema_version: u32,
    pub id: String,
    pub url: String,
    pub deleted: bool,
    pub deleted_at: String,
    pub status: u16,
}

/// Stable id of a page: the first 16 hex digits of SHA-256 of its canonical
/// URL, else its URL.
pub fn page_id(url: &str) -> String {
    let d = Sha256::digest(url.as_bytes());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

pub fn content_hash(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The blocks as plain text: one block per paragraph, blank line between.
pub fn text_of_blocks(blocks: &[Block]) -> String {
    let parts: Vec<String> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { text } | Block::Paragraph { text } | Block::Quote { text } => {
                Some(text.clone())
            }
            Block::Image { caption, .. } => caption.clone(),
            Block::List { items } => Some(items.join("\n")),
            Block::Table { rows } => Some(
                rows.iter()
                    .map(|r| r.join(" | "))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        })
        .filter(|t| !t.trim().is_empty())
        .collect();
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `clean`'s second pass reads back the records it rewrites: every
    /// expected record of the fixtures survives the round trip unchanged,
    /// key order included.
    #[test]
    fn records_read_back_as_they_were_written() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut seen = 0;
        for entry in walkdir::WalkDir::new(root) {
            let path = entry.unwrap().into_path();
            if !path.to_string_lossy().ends_with(".expected.json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let doc: Document =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                serde_json::to_string(&doc).unwrap(),
                serde_json::to_string(&value).unwrap(),
                "{}",
                path.display()
            );
            seen += 1;
        }
        assert!(seen >= 20, "{seen} expected records");
    }
}
