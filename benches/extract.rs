//! Extraction benchmark on `../shared/bench/aeb` (181 pages with their true
//! article bodies): parkcrawl and trafilatura on the same pages, scored by one
//! scorer (`parkcrawl::eval`, the benchmark's shingle metric), timed both
//! in-process per page (after warm-up) and as a whole run (process start to
//! exit). Prints one table. parkcrawl's text is the record's blocks without
//! image captions (see `body_text`).
//!
//! Run: `cargo bench --bench extract` — the first run creates the Python
//! environment (`bench/extract/setup.sh`, needs PyPI).
//! Options: `--aeb DIR`, `--rounds N` (timing rounds for parkcrawl, default 5),
//! `--no-trafilatura`, `--dump DIR` (each page's texts and scores, for study).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use parkcrawl::clean::{self, decode};
use parkcrawl::eval::{self, PageScore, Tokens};
use parkcrawl::rules::RuleSet;

struct Page {
    id: String,
    url: Option<url::Url>,
    bytes: Vec<u8>,
    truth: String,
}

struct Run {
    name: String,
    texts: BTreeMap<String, String>,
    /// In-process seconds per page, summed over pages, for one pass.
    per_page_secs: f64,
    /// Wall time of the whole run, process start to exit, if measured.
    whole_secs: Option<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let aeb = opt("--aeb")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/bench/aeb"));
    let rounds: u32 = opt("--rounds").and_then(|r| r.parse().ok()).unwrap_or(5);
    let pages = load(&aeb);
    let bytes: usize = pages.iter().map(|p| p.bytes.len()).sum();
    println!(
        "aeb: {} pages, {:.1} MB of HTML ({:.0} KB/page)",
        pages.len(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e3 / pages.len() as f64
    );

    let mut runs = vec![parkcrawl_run(&pages, rounds, root)];
    if !args.iter().any(|a| a == "--no-trafilatura") {
        let python = setup_python(root);
        for fast in [false, true] {
            runs.push(trafilatura_run(&python, root, &aeb, fast));
        }
    }

    println!();
    println!(
        "{:<26} {:>6} {:>9} {:>7} {:>10} {:>10} {:>7}",
        "extractor", "F1", "precision", "recall", "ms/page", "whole run", "F1 zh*"
    );
    let base = runs[0].per_page_secs;
    for run in &runs {
        let scores = score_all(&pages, run, Tokens::Words);
        let s = eval::summarize(&scores);
        let cjk = eval::summarize(&score_all(&pages, run, Tokens::Cjk));
        println!(
            "{:<26} {:>6.4} {:>9.4} {:>7.4} {:>10.3} {:>9.2}s {:>7.4}   ({:.1}× parkcrawl's time)",
            run.name,
            s.f1,
            s.precision,
            s.recall,
            run.per_page_secs * 1e3 / pages.len() as f64,
            run.whole_secs.unwrap_or(f64::NAN),
            cjk.f1,
            run.per_page_secs / base,
        );
    }
    println!("* F1 with each CJK character one token (the README's fair variant).");

    if let Some(dir) = opt("--dump") {
        dump(Path::new(&dir), &pages, &runs);
    }
}

fn load(aeb: &Path) -> Vec<Page> {
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(aeb.join("ground-truth.json"))
            .unwrap_or_else(|e| panic!("{}: {e}", aeb.join("ground-truth.json").display())),
    )
    .expect("ground-truth.json is JSON");
    let mut pages: Vec<Page> = truth
        .as_object()
        .expect("ground truth is an object")
        .iter()
        .map(|(id, t)| {
            let path = aeb.join("html").join(format!("{id}.html.gz"));
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(
                std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            )
            .read_to_end(&mut bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Page {
                id: id.clone(),
                url: t["url"].as_str().and_then(|u| url::Url::parse(u).ok()),
                bytes,
                truth: t["articleBody"].as_str().unwrap_or_default().to_string(),
            }
        })
        .collect();
    pages.sort_by(|a, b| a.id.cmp(&b.id));
    pages
}

fn parkcrawl_run(pages: &[Page], rounds: u32, root: &Path) -> Run {
    let rules = RuleSet::builtin().expect("built-in rules compile");
    let extract = |p: &Page| -> String {
        let input = decode::Input {
            name: p.id.clone(),
            bytes: p.bytes.clone(),
            url: p.url.clone(),
            content_type: None,
            fetch: None,
        };
        match decode::decode(input).map(|d| clean::clean(&d, &rules)) {
            Ok(Ok(doc)) => body_text(&doc.blocks),
            _ => String::new(),
        }
    };
    // Warm-up pass, which also gives the texts.
    let texts: BTreeMap<String, String> =
        pages.iter().map(|p| (p.id.clone(), extract(p))).collect();
    let start = Instant::now();
    for _ in 0..rounds {
        for p in pages {
            std::hint::black_box(extract(p));
        }
    }
    let per_page_secs = start.elapsed().as_secs_f64() / f64::from(rounds);
    // The floor: decoding and parsing alone (after the pre-parse cut).
    let start = Instant::now();
    for p in pages {
        let text = String::from_utf8_lossy(&p.bytes);
        let cut = clean::prefilter::strip(&text);
        std::hint::black_box(scraper::Html::parse_document(&cut));
    }
    println!(
        "parkcrawl: {:.3} ms/page in all, of which parsing (cut + html5ever) {:.3} ms/page",
        per_page_secs * 1e3 / pages.len() as f64,
        start.elapsed().as_secs_f64() * 1e3 / pages.len() as f64
    );

    // Whole run: the real binary over a directory of the same pages.
    let dir = std::env::temp_dir().join(format!("parkcrawl-aeb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for p in pages {
        std::fs::write(dir.join(format!("{}.html", p.id)), &p.bytes).expect("write page");
    }
    let exe = root.join("target/release/parkcrawl");
    let whole_secs = exe.exists().then(|| {
        let t = Instant::now();
        let out = Command::new(&exe)
            .args(["clean", "--jobs", "1", "-o"])
            .arg(dir.join("out.jsonl"))
            .arg(&dir)
            .output()
            .expect("run parkcrawl");
        assert!(out.status.code().is_some(), "parkcrawl clean crashed");
        t.elapsed().as_secs_f64()
    });
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        name: format!("parkcrawl {}", env!("CARGO_PKG_VERSION")),
        texts,
        per_page_secs,
        whole_secs,
    }
}

/// The article body as the benchmark means it: the record's blocks without
/// the image captions (the record keeps them on their image blocks; the
/// benchmark's true bodies leave them out).
fn body_text(blocks: &[parkcrawl::document::Block]) -> String {
    use parkcrawl::document::Block;
    let kept: Vec<Block> = blocks
        .iter()
        .filter(|b| !matches!(b, Block::Image { .. }))
        .cloned()
        .collect();
    parkcrawl::document::text_of_blocks(&kept)
}

fn setup_python(root: &Path) -> PathBuf {
    let out = Command::new("bash")
        .arg(root.join("bench/extract/setup.sh"))
        .output()
        .expect("run bench/extract/setup.sh");
    assert!(
        out.status.success(),
        "bench/extract/setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python = String::from_utf8_lossy(&out.stdout).trim().to_string();
    root.join(python)
}

fn trafilatura_run(python: &Path, root: &Path, aeb: &Path, fast: bool) -> Run {
    let out_file = std::env::temp_dir().join(format!("trafilatura-{}.json", std::process::id()));
    let mut cmd = Command::new(python);
    cmd.arg(root.join("bench/extract/trafilatura_run.py"))
        .arg(aeb)
        .arg(&out_file);
    if fast {
        cmd.arg("--fast");
    }
    let t = Instant::now();
    let status = cmd.status().expect("run trafilatura");
    let whole = t.elapsed().as_secs_f64();
    assert!(status.success(), "trafilatura_run.py failed");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).expect("trafilatura output")).unwrap();
    let _ = std::fs::remove_file(&out_file);
    let mut texts = BTreeMap::new();
    let mut secs = 0.0;
    for (id, p) in v["pages"].as_object().unwrap() {
        texts.insert(
            id.clone(),
            p["text"].as_str().unwrap_or_default().to_string(),
        );
        secs += p["secs"].as_f64().unwrap_or_default();
    }
    Run {
        name: format!(
            "trafilatura {}{}",
            v["version"].as_str().unwrap_or("?"),
            if fast { " fast" } else { "" }
        ),
        texts,
        per_page_secs: secs,
        whole_secs: Some(whole),
    }
}

fn score_all(pages: &[Page], run: &Run, how: Tokens) -> Vec<PageScore> {
    pages
        .iter()
        .map(|p| {
            let predicted = run.texts.get(&p.id).map(String::as_str).unwrap_or("");
            eval::score(&p.truth, predicted, how)
        })
        .collect()
}

/// Writes `<dir>/<id>.<extractor>.txt`, `<id>.truth.txt` and `scores.tsv`
/// (id, then precision and recall per extractor), for reading the misses.
fn dump(dir: &Path, pages: &[Page], runs: &[Run]) {
    std::fs::create_dir_all(dir).expect("dump dir");
    let mut tsv = String::from("id");
    for run in runs {
        tsv += &format!("\t{0} P\t{0} R", run.name);
    }
    tsv.push('\n');
    for p in pages {
        std::fs::write(dir.join(format!("{}.truth.txt", p.id)), &p.truth).unwrap();
        tsv += &p.id;
        for (i, run) in runs.iter().enumerate() {
            let text = run.texts.get(&p.id).map(String::as_str).unwrap_or("");
            std::fs::write(dir.join(format!("{}.{i}.txt", p.id)), text).unwrap();
            let s = eval::score(&p.truth, text, Tokens::Words);
            tsv += &format!("\t{:.3}\t{:.3}", s.precision(), s.recall());
        }
        tsv.push('\n');
    }
    std::fs::write(dir.join("scores.tsv"), tsv).unwrap();
}
