//! The long fuzz run, by hand (the CI test is `tests/it/fuzz.rs`):
//!
//! ```sh
//! cargo run --release --example fuzz -- --seconds 600 [--inputs N] [--seed S] [--jobs J]
//!     [--target page|robots] [--no-shared] [--no-minimise] [--out DIR] [--ci-scale] [--hang SECS]
//! cargo run --release --example fuzz -- --replay FILE…   (verdict and time of each)
//! ```
//!
//! Reads the corpus once (the fixtures and `../shared/bench`), measures what
//! an unmutated page costs per byte, then mutates and checks inputs until the
//! time or count is up. Each new kind of failure is minimised and written
//! under `fixtures/fuzz/<target>/` (`--out` to choose), where the regression
//! test runs it from then on. An input still running after `--hang` seconds
//! (default 120) is saved as is and ends the run. Exit 1 when anything failed.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use parkcrawl::fuzz::corpus::{self, Corpus, Sources};
use parkcrawl::fuzz::mutate::Scale;
use parkcrawl::fuzz::run::{self, Config, Report, TimeModel};
use parkcrawl::fuzz::{Harness, Target, Verdict};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let flag = |name: &str| args.iter().any(|a| a == name);
    let num = |name: &str| {
        opt(name).map(|v| {
            v.parse::<f64>().unwrap_or_else(|_| {
                eprintln!("fuzz: {name} {v}: not a number");
                std::process::exit(2)
            })
        })
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let targets = match opt("--target").as_deref() {
        None => vec![Target::Page, Target::Robots],
        Some("page") => vec![Target::Page],
        Some("robots") => vec![Target::Robots],
        Some(t) => {
            eprintln!("fuzz: --target {t}: expected page or robots");
            std::process::exit(2)
        }
    };
    let h = Harness::new().expect("built-in rules compile");
    let corpus = Corpus::load(&Sources {
        root: root.clone(),
        shared: !flag("--no-shared"),
        max_seed_len: Scale::LONG.max_len,
    });
    eprintln!(
        "fuzz: corpus of {} pages ({:.1} MB) and {} robots.txt files",
        corpus.pages.len(),
        corpus.pages.iter().map(Vec::len).sum::<usize>() as f64 / 1e6,
        corpus.robots.len()
    );
    let timing = TimeModel::calibrate(&h, &corpus);
    if let Some(i) = args.iter().position(|a| a == "--replay") {
        replay(&h, &timing, &args[i + 1..]);
        return;
    }
    let known = known_signatures(&h, &root);
    eprintln!(
        "fuzz: seeds take {:.0} ns/byte (p90), {:.2} ms fixed (p10): a 100 KB page may take {:.0} ms",
        timing.ns_per_byte,
        timing.floor.as_secs_f64() * 1e3,
        timing.limit(100_000).as_secs_f64() * 1e3
    );
    let seconds = num("--seconds");
    let inputs = num("--inputs").map(|n| n as u64);
    let cfg = Config {
        seed: num("--seed").map_or(1, |s| s as u64),
        inputs,
        seconds: seconds.or(if inputs.is_none() { Some(60.0) } else { None }),
        jobs: num("--jobs").map_or(1, |j| j as usize),
        scale: if flag("--ci-scale") {
            Scale::CI
        } else {
            Scale::LONG
        },
        targets,
        timing: Some(timing),
        save: Some(opt("--out").map_or_else(|| root.join("fixtures/fuzz"), PathBuf::from)),
        minimise: (!flag("--no-minimise")).then_some(Duration::from_secs(60)),
        known,
        progress: Some(Duration::from_secs(10)),
        hang: Some(Duration::from_secs(num("--hang").unwrap_or(120.0) as u64)),
    };
    let report = run::run(&h, &corpus, &cfg);
    print(&report, cfg.seed);
    std::process::exit(if report.failed > 0 { 1 } else { 0 });
}

/// `--replay FILE…`: each file as a page (`.txt`: as a robots.txt), with
/// its `.meta` if any; its verdict, time and the time its size allows.
fn replay(h: &Harness, timing: &TimeModel, files: &[String]) {
    for f in files {
        let path = std::path::Path::new(f);
        let target = if f.ends_with(".txt") {
            Target::Robots
        } else {
            Target::Page
        };
        let Some(case) = corpus::reproducer(path, target) else {
            eprintln!("fuzz: {f}: cannot read");
            continue;
        };
        let best = (0..3)
            .map(|_| h.run(&case))
            .min_by_key(|o| o.elapsed)
            .expect("three runs");
        println!(
            "{f}: {} bytes, {:.2} ms (limit {:.2} ms): {:?}",
            case.bytes.len(),
            best.elapsed.as_secs_f64() * 1e3,
            timing.limit(case.bytes.len()).as_secs_f64() * 1e3,
            best.verdict
        );
    }
}

/// The signatures of the failures the reproducers still show: not new.
fn known_signatures(h: &Harness, root: &std::path::Path) -> HashSet<String> {
    let mut known = HashSet::new();
    for (path, case) in corpus::reproducers(root) {
        if let Verdict::Failed(f) = h.run(&case).verdict {
            eprintln!("fuzz: still failing: {}: {}", path.display(), f.message);
            known.insert(f.signature());
        }
    }
    known
}

fn print(r: &Report, seed: u64) {
    let secs = r.elapsed.as_secs_f64();
    println!(
        "fuzz: {} inputs in {:.1} s ({:.1} inputs/s), seed {seed}: {} rejected (one-line errors), {} failed",
        r.inputs,
        secs,
        r.inputs as f64 / secs,
        r.rejected,
        r.failed
    );
    for f in &r.found {
        println!(
            "  {:?} ×{} (first: input {}){}: {}",
            f.failure.kind,
            f.count,
            f.index,
            f.saved
                .as_ref()
                .map(|p| format!(" → {}", p.display()))
                .unwrap_or_default(),
            f.failure.message
        );
    }
    for (t, len, index) in &r.slowest {
        println!(
            "  slow: input {index}: {len} bytes in {:.1} ms",
            t.as_secs_f64() * 1e3
        );
    }
}
