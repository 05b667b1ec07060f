//! Running the extractors on a set: parkcrawl in this process (and its binary
//! for the whole-run time), trafilatura and GNE through their Python runners
//! in `bench/extract/`. Every extractor's result is one [`Output`] per page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use parkcrawl::clean::{self, decode};
use parkcrawl::rules::RuleSet;

use crate::sets::{Kind, Page, Set};

/// What an extractor gave for one page.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Output {
    pub text: String,
    pub title: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub source: Option<String>,
}

pub struct Run {
    /// As printed in the tables (name and version).
    pub name: String,
    /// Short name, for dump file names.
    pub short: &'static str,
    pub pages: BTreeMap<String, Output>,
    /// In-process seconds per page, summed over pages, for one pass.
    pub per_page_secs: f64,
    /// Wall time of the whole run, process start to exit, if measured.
    pub whole_secs: Option<f64>,
    /// Whether the extractor has a `source` field at all (GNE has none).
    pub has_source: bool,
}

impl Run {
    pub fn ms_per_page(&self) -> f64 {
        self.per_page_secs * 1e3 / self.pages.len().max(1) as f64
    }
}

fn parkcrawl_page(p: &Page, kind: Kind, rules: &RuleSet) -> Output {
    let input = decode::Input {
        name: p.id.clone(),
        bytes: p.bytes.clone(),
        url: p.url.clone(),
        content_type: None,
        fetch: None,
    };
    match decode::decode(input).map(|d| clean::clean(&d, rules)) {
        Ok(Ok(doc)) => Output {
            text: match kind {
                Kind::Aeb => body_text(&doc.blocks),
                Kind::Readability | Kind::ZhNews => doc.text,
            },
            title: doc.title,
            author: doc.author,
            date: doc.published_at,
            source: doc.source,
        },
        _ => Output::default(),
    }
}

/// parkcrawl on every page: a warm-up pass that gives the outputs, then
/// `rounds` timed passes, the parse-only floor, and the binary over a
/// directory of the same pages.
pub fn parkcrawl(set: &Set, rounds: u32) -> Run {
    let rules = RuleSet::builtin().expect("built-in rules compile");
    let pages: BTreeMap<String, Output> = set
        .pages
        .iter()
        .map(|p| (p.id.clone(), parkcrawl_page(p, set.kind, &rules)))
        .collect();
    let start = Instant::now();
    for _ in 0..rounds {
        for p in &set.pages {
            std::hint::black_box(parkcrawl_page(p, set.kind, &rules));
        }
    }
    let per_page_secs = start.elapsed().as_secs_f64() / f64::from(rounds.max(1));
    // The floor: decoding and parsing alone (after the pre-parse cut).
    let start = Instant::now();
    for p in &set.pages {
        let text = String::from_utf8_lossy(&p.bytes);
        let cut = clean::prefilter::strip(&text);
        std::hint::black_box(scraper::Html::parse_document(&cut));
    }
    let n = set.pages.len().max(1) as f64;
    println!(
        "parkcrawl: {:.3} ms/page in all, of which parsing (cut + html5ever) {:.3} ms/page",
        per_page_secs * 1e3 / n,
        start.elapsed().as_secs_f64() * 1e3 / n
    );
    Run {
        name: format!("parkcrawl {}", env!("CARGO_PKG_VERSION")),
        short: "parkcrawl",
        pages,
        per_page_secs,
        whole_secs: Some(whole_run(set)),
        has_source: true,
    }
}

/// The real binary (`clean -j 1`) over a directory of the set's pages,
/// process start to exit.
fn whole_run(set: &Set) -> f64 {
    let dir = std::env::temp_dir().join(format!(
        "parkcrawl-bench-{}-{}",
        set.kind.name(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for p in &set.pages {
        std::fs::write(dir.join(format!("{}.html", p.id)), &p.bytes).expect("write page");
    }
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_parkcrawl"))
        .args(["clean", "--jobs", "1", "-o"])
        .arg(dir.join("out.jsonl"))
        .arg(&dir)
        .output()
        .expect("run parkcrawl");
    let secs = t.elapsed().as_secs_f64();
    assert!(out.status.code().is_some(), "parkcrawl clean crashed");
    let _ = std::fs::remove_dir_all(&dir);
    secs
}

/// The article body as the aeb benchmark means it: the record's blocks
/// without the image captions (the record keeps them on their image blocks;
/// aeb's true bodies leave them out).
fn body_text(blocks: &[parkcrawl::document::Block]) -> String {
    use parkcrawl::document::Block;
    let kept: Vec<Block> = blocks
        .iter()
        .filter(|b| !matches!(b, Block::Image { .. }))
        .cloned()
        .collect();
    parkcrawl::document::text_of_blocks(&kept)
}

/// Creates (once) the venv with the pinned peers; returns its python.
pub fn setup_python(root: &Path) -> PathBuf {
    let out = Command::new("bash")
        .arg(root.join("bench/extract/setup.sh"))
        .output()
        .expect("run bench/extract/setup.sh");
    assert!(
        out.status.success(),
        "bench/extract/setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    root.join(String::from_utf8_lossy(&out.stdout).trim())
}

/// A Python peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Trafilatura,
    TrafilaturaFast,
    Gne,
}

impl Peer {
    /// The peers each set is scored against.
    pub fn for_set(kind: Kind) -> &'static [Peer] {
        match kind {
            Kind::Aeb | Kind::Readability => &[Peer::Trafilatura, Peer::TrafilaturaFast],
            Kind::ZhNews => &[Peer::Trafilatura, Peer::TrafilaturaFast, Peer::Gne],
        }
    }
}

/// Runs a peer's script over the set (the pages listed in a manifest) and
/// reads its per-page outputs and times.
pub fn peer(python: &Path, root: &Path, set: &Set, peer: Peer) -> Run {
    let tmp = std::env::temp_dir();
    let pid = std::process::id();
    let manifest = tmp.join(format!("extract-manifest-{pid}.json"));
    let out_file = tmp.join(format!("extract-peer-{pid}.json"));
    let list: Vec<serde_json::Value> = set
        .pages
        .iter()
        .map(|p| serde_json::json!({"id": p.id, "path": p.path, "url": p.url.as_ref().map(|u| u.as_str())}))
        .collect();
    std::fs::write(&manifest, serde_json::to_vec(&list).unwrap()).expect("write manifest");
    let script = match peer {
        Peer::Gne => "bench/extract/gne_run.py",
        _ => "bench/extract/trafilatura_run.py",
    };
    let mut cmd = Command::new(python);
    cmd.arg(root.join(script)).arg(&manifest).arg(&out_file);
    if peer == Peer::TrafilaturaFast {
        cmd.arg("--fast");
    }
    if peer != Peer::Gne && set.kind != Kind::Aeb {
        cmd.arg("--metadata");
    }
    let t = Instant::now();
    let status = cmd.status().unwrap_or_else(|e| panic!("run {script}: {e}"));
    let whole = t.elapsed().as_secs_f64();
    assert!(status.success(), "{script} failed on {}", set.kind.name());
    let bytes = std::fs::read(&out_file).unwrap_or_else(|e| panic!("{script} output: {e}"));
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("peer output is JSON");
    let _ = std::fs::remove_file(&out_file);
    let _ = std::fs::remove_file(&manifest);
    read_peer(peer, &v, whole)
}

fn read_peer(peer: Peer, v: &serde_json::Value, whole: f64) -> Run {
    let s = |p: &serde_json::Value, k: &str| p[k].as_str().map(str::to_string);
    let mut pages = BTreeMap::new();
    let mut secs = 0.0;
    for (id, p) in v["pages"].as_object().expect("peer output has pages") {
        let out = Output {
            text: s(p, "text").unwrap_or_default(),
            title: s(p, "title"),
            author: s(p, "author"),
            date: s(p, "date"),
            source: s(p, "source"),
        };
        pages.insert(id.clone(), out);
        secs += p["secs"].as_f64().unwrap_or_default();
    }
    let version = v["version"].as_str().unwrap_or("?");
    let (name, short) = match peer {
        Peer::Trafilatura => (format!("trafilatura {version}"), "trafilatura"),
        Peer::TrafilaturaFast => (format!("trafilatura {version} fast"), "trafilatura-fast"),
        Peer::Gne => (format!("GNE {version}"), "gne"),
    };
    Run {
        name,
        short,
        pages,
        per_page_secs: secs,
        whole_secs: Some(whole),
        has_source: peer != Peer::Gne,
    }
}
