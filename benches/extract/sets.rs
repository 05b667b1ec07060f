//! The three dev sets of `../shared/bench` (each described by its README),
//! read into one page type: the raw bytes an extractor gets, and the truth
//! the set gives for the page.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use parkcrawl::eval::fields;

/// Which set: its tables differ by what its truth holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// True article bodies (`ground-truth.json`).
    Aeb,
    /// Mozilla Readability's expected content and metadata per page.
    Readability,
    /// Hand-checked Chinese metadata, first/last sentences and not-body strings.
    ZhNews,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Aeb, Kind::Readability, Kind::ZhNews];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Aeb => "aeb",
            Kind::Readability => "readability",
            Kind::ZhNews => "zh-news",
        }
    }
}

pub struct Page {
    pub id: String,
    /// The page file (gzip-compressed), for the Python peers to read.
    pub path: PathBuf,
    pub url: Option<url::Url>,
    /// The page's bytes, decompressed, encoding untouched.
    pub bytes: Vec<u8>,
    pub truth: Truth,
}

pub enum Truth {
    /// aeb: the article body.
    Body(String),
    /// readability: the visible text of `expected.html` and its metadata.
    Readability {
        body: String,
        title: Option<String>,
        byline: Option<String>,
        published: Option<String>,
    },
    ZhNews(ZhTruth),
}

/// One page of zh-news `truth.json` (see its README).
pub struct ZhTruth {
    pub title: String,
    pub date: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
    pub first: String,
    pub last: String,
    pub not_body: Vec<String>,
    /// Other values that are also right, by field name.
    pub accept: BTreeMap<String, Vec<String>>,
}

pub struct Set {
    pub kind: Kind,
    pub pages: Vec<Page>,
}

impl Set {
    pub fn bytes(&self) -> usize {
        self.pages.iter().map(|p| p.bytes.len()).sum()
    }
}

/// Loads a set from its directory; a missing or malformed file stops the
/// bench with its path (the data is fixed, so this is a setup error).
pub fn load(kind: Kind, dir: &Path) -> Set {
    let mut pages = match kind {
        Kind::Aeb => load_aeb(dir),
        Kind::Readability => load_readability(dir),
        Kind::ZhNews => load_zh_news(dir),
    };
    pages.sort_by(|a, b| a.id.cmp(&b.id));
    Set { kind, pages }
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .read_to_end(&mut bytes)
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
}

fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn string(v: &serde_json::Value) -> Option<String> {
    v.as_str()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

fn load_aeb(dir: &Path) -> Vec<Page> {
    let truth = json(&dir.join("ground-truth.json"));
    let truth = truth.as_object().expect("aeb ground truth is an object");
    truth
        .iter()
        .map(|(id, t)| {
            let path = dir.join("html").join(format!("{id}.html.gz"));
            Page {
                id: id.clone(),
                bytes: gunzip(&path),
                path,
                url: t["url"].as_str().and_then(|u| url::Url::parse(u).ok()),
                truth: Truth::Body(string(&t["articleBody"]).unwrap_or_default()),
            }
        })
        .collect()
}

/// The URL Readability's own test harness gives every test page.
const READABILITY_URL: &str = "http://fakehost/test/page.html";

fn load_readability(dir: &Path) -> Vec<Page> {
    let pages = dir.join("pages");
    let entries = std::fs::read_dir(&pages).unwrap_or_else(|e| panic!("{}: {e}", pages.display()));
    entries
        .map(|e| e.expect("readability page dir").path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let expected =
                String::from_utf8_lossy(&gunzip(&p.join("expected.html.gz"))).into_owned();
            let meta = json(&p.join("expected-metadata.json"));
            let source = p.join("source.html.gz");
            Page {
                id: p.file_name().unwrap().to_string_lossy().into_owned(),
                bytes: gunzip(&source),
                path: source,
                url: url::Url::parse(READABILITY_URL).ok(),
                truth: Truth::Readability {
                    body: fields::visible_text(&expected),
                    title: string(&meta["title"]),
                    byline: string(&meta["byline"]),
                    published: string(&meta["publishedTime"]),
                },
            }
        })
        .collect()
}

fn load_zh_news(dir: &Path) -> Vec<Page> {
    let truth = json(&dir.join("truth.json"));
    let truth = truth.as_object().expect("zh-news truth is an object");
    truth
        .iter()
        .map(|(id, t)| {
            let path = dir.join("html").join(format!("{id}.html.gz"));
            let accept = t["accept"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let vs = v.as_array().map(|a| a.iter().filter_map(string).collect());
                            (k.clone(), vs.unwrap_or_default())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let not_body = t["not_body"]
                .as_array()
                .map(|a| a.iter().filter_map(string).collect());
            Page {
                id: id.clone(),
                bytes: gunzip(&path),
                path,
                url: None,
                truth: Truth::ZhNews(ZhTruth {
                    title: string(&t["title"]).unwrap_or_default(),
                    date: string(&t["date"]),
                    author: string(&t["author"]),
                    source: string(&t["source"]),
                    first: string(&t["first"]).unwrap_or_default(),
                    last: string(&t["last"]).unwrap_or_default(),
                    not_body: not_body.unwrap_or_default(),
                    accept,
                }),
            }
        })
        .collect()
}
