//! The bounded, deterministic fuzz run (issue 11): a fixed seed, a few
//! thousand mutated pages and robots.txt files through the library, each
//! under `catch_unwind` and the invariants of `parkcrawl::fuzz::check`; and
//! every reproducer under `fixtures/fuzz/` through the same invariants.
//! Timing is only reported here (the slowest inputs); the long run
//! (`examples/fuzz.rs`) is where a slow input is a failure.

use std::collections::HashSet;
use std::time::Duration;

use parkcrawl::fuzz::corpus::{self, Corpus, Sources};
use parkcrawl::fuzz::mutate::Scale;
use parkcrawl::fuzz::run::{self, Config};
use parkcrawl::fuzz::{Harness, Target, Verdict};

use crate::support;

/// Inputs of the CI run: tuned to stay well under a minute in debug
/// (`PARKCRAWL_FUZZ_INPUTS` overrides, to try a longer run).
fn inputs() -> u64 {
    std::env::var("PARKCRAWL_FUZZ_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3_000)
}
const SEED: u64 = 0x11_5eed;

fn ci_config() -> Config {
    Config {
        seed: SEED,
        inputs: Some(inputs()),
        seconds: None,
        jobs: 2,
        scale: Scale::CI,
        targets: vec![Target::Page, Target::Robots],
        timing: None,
        save: Some(support::root().join("target/fuzz-failures")),
        minimise: None,
        known: HashSet::new(),
        progress: None,
        hang: None,
    }
}

#[test]
fn fuzz_ci_run_keeps_every_invariant() {
    let h = Harness::new().expect("built-in rules compile");
    let corpus = Corpus::load(&Sources {
        root: support::root(),
        shared: true,
        max_seed_len: 64 * 1024,
    });
    assert!(
        corpus.pages.len() >= 20,
        "{} seed pages",
        corpus.pages.len()
    );
    let cfg = ci_config();
    let report = run::run(&h, &corpus, &cfg);
    eprintln!(
        "fuzz: {} inputs ({} pages seeded) in {:.1} s, {} rejected, {} failed",
        report.inputs,
        corpus.pages.len(),
        report.elapsed.as_secs_f64(),
        report.rejected,
        report.failed
    );
    for (t, len, index) in &report.slowest {
        eprintln!("fuzz: slow: input {index}: {len} bytes in {t:?}");
    }
    assert_eq!(report.inputs, inputs());
    // Most inputs get through to a record: the run is not vacuous.
    assert!(
        report.rejected * 2 < report.inputs,
        "{} of {} inputs rejected",
        report.rejected,
        report.inputs
    );
    let failures: Vec<String> = report
        .found
        .iter()
        .map(|f| {
            format!(
                "seed {SEED:#x} input {} (×{}): {:?}: {} [bytes: {}]",
                f.index,
                f.count,
                f.failure.kind,
                f.failure.message,
                f.saved
                    .as_ref()
                    .map_or("not saved".into(), |p| p.display().to_string())
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Input `i` of a seed is the same case every time, whatever else ran.
#[test]
fn fuzz_inputs_are_reproducible_from_seed_and_index() {
    let corpus = Corpus::load(&Sources {
        root: support::root(),
        shared: false,
        max_seed_len: 64 * 1024,
    });
    let cfg = ci_config();
    let a: Vec<_> = (0..40).map(|i| run::case(&corpus, &cfg, i)).collect();
    let b: Vec<_> = (0..40).rev().map(|i| run::case(&corpus, &cfg, i)).collect();
    assert!(a.iter().eq(b.iter().rev()));
    let distinct: HashSet<&[u8]> = a.iter().map(|c| &c.bytes[..]).collect();
    assert!(
        distinct.len() > 30,
        "{} distinct inputs of 40",
        distinct.len()
    );
}

/// Every reproducer the fuzzer saved passes the invariants (no time check:
/// a debug build is too slow to judge speed).
#[test]
fn fuzz_reproducers_stay_fixed() {
    let h = Harness::new().expect("built-in rules compile");
    let cases = corpus::reproducers(&support::root());
    assert!(!cases.is_empty(), "no reproducers under fixtures/fuzz");
    let mut failed = Vec::new();
    for (path, case) in &cases {
        let out = h.run(case);
        if let Verdict::Failed(f) = out.verdict {
            failed.push(format!("{}: {:?}: {}", path.display(), f.kind, f.message));
        }
        if out.elapsed > Duration::from_secs(20) {
            eprintln!("fuzz: {} took {:?}", path.display(), out.elapsed);
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
