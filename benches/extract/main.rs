//! Extraction benchmark over every dev set of `../shared/bench` (see each
//! README): parkcrawl and its peers on the same pages, scored by one scorer
//! (`parkcrawl::eval`), timed in process per page (after warm-up) and as a
//! whole run (process start to exit). Prints one table per set:
//!
//! - **aeb** (181 English news pages, true bodies): body F1/precision/recall
//!   by the benchmark's shingle metric; parkcrawl vs trafilatura (default
//!   and fast). parkcrawl's text is the record's blocks without image
//!   captions (aeb's bodies leave them out).
//! - **readability** (130 pages, Mozilla Readability's expected content and
//!   metadata): body F1 of the record's text against the visible text of
//!   `expected.html`; title, byline and date where the page gives them.
//! - **zh-news** (31 Chinese pages, hand-checked truth): title, date (day,
//!   minute), author, source, first/last sentence found, not-body leaks;
//!   parkcrawl vs trafilatura vs GNE.
//!
//! Each table is preceded by how its columns are compared (`tables::legend`)
//! and followed by parkcrawl's time per page over trafilatura's.
//!
//! Run: `cargo bench --bench extract` — the first run creates the Python
//! environment (`bench/extract/setup.sh`, needs PyPI).
//! Options: `--set NAME` (aeb, readability, zh-news: one set only),
//! `--sets DIR` (where the sets are, default `../shared/bench`, or
//! `../../shared/bench` from a worktree), `--aeb DIR`,
//! `--rounds N` (timing rounds for parkcrawl, default 5), `--no-peers`
//! (parkcrawl only; `--no-trafilatura` is the old name), `--dump DIR` (per
//! set, each page's texts, fields and scores, for study).

mod runs;
mod sets;
mod tables;

use std::path::{Path, PathBuf};

use runs::Peer;
use sets::Kind;

struct Options {
    sets_dir: PathBuf,
    aeb_dir: Option<PathBuf>,
    only: Option<Kind>,
    rounds: u32,
    peers: bool,
    dump: Option<PathBuf>,
}

fn options(root: &Path) -> Options {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let flag = |name: &str| args.iter().any(|a| a == name);
    let only = opt("--set").map(|name| {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .unwrap_or_else(|| panic!("--set {name}: not a set (aeb, readability, zh-news)"))
    });
    Options {
        sets_dir: opt("--sets")
            .map(PathBuf::from)
            .unwrap_or_else(|| default_sets(root)),
        aeb_dir: opt("--aeb").map(PathBuf::from),
        only,
        rounds: opt("--rounds").and_then(|r| r.parse().ok()).unwrap_or(5),
        peers: !flag("--no-peers") && !flag("--no-trafilatura"),
        dump: opt("--dump").map(PathBuf::from),
    }
}

/// `../shared/bench` beside the checkout; from a worktree under `wt/`, the
/// one beside the main checkout.
fn default_sets(root: &Path) -> PathBuf {
    let candidates = [
        root.join("../shared/bench"),
        root.join("../../shared/bench"),
    ];
    let found = candidates.iter().find(|d| d.is_dir());
    found.unwrap_or(&candidates[0]).clone()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let opts = options(root);
    let python = opts.peers.then(|| runs::setup_python(root));
    for kind in Kind::ALL {
        if opts.only.is_some_and(|k| k != kind) {
            continue;
        }
        let dir = match (kind, &opts.aeb_dir) {
            (Kind::Aeb, Some(d)) => d.clone(),
            _ => opts.sets_dir.join(kind.name()),
        };
        let set = sets::load(kind, &dir);
        let bytes = set.bytes() as f64;
        println!(
            "\n{}: {} pages, {:.1} MB of HTML ({:.0} KB/page)",
            kind.name(),
            set.pages.len(),
            bytes / 1e6,
            bytes / 1e3 / set.pages.len().max(1) as f64
        );
        let mut all = vec![runs::parkcrawl(&set, opts.rounds)];
        if let Some(python) = &python {
            for &peer in Peer::for_set(kind) {
                all.push(runs::peer(python, root, &set, peer));
            }
        }
        tables::print(&set, &all);
        if let Some(dir) = &opts.dump {
            tables::dump(dir, &set, &all);
        }
    }
}
