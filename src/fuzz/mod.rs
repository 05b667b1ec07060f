//! Fuzzing on stable Rust (no cargo-fuzz, no nightly): seeded mutation of a
//! corpus of real pages and robots.txt files, each input run through the
//! library under `catch_unwind` and checked against the invariants every
//! record must keep. Shared by the bounded CI test (`tests/it/fuzz.rs`) and
//! the long run by hand (`examples/fuzz.rs`).
//!
//! ```text
//! corpus ─mutate→ Case ─Harness::run→ Outcome ─(failure)→ minimise → fixtures/fuzz/
//! ```
//!
//! - [`corpus`]: the seed pages (fixtures, and `../shared/bench` when present);
//! - [`mutate`]: the mutators, driven by [`Rng`] (SplitMix64, the same
//!   sequence on every platform);
//! - [`check`]: the invariants (valid record, no unforced U+FFFD, robots and
//!   URL canonicalisation laws);
//! - [`run`]: the loop both drivers share; [`shrink`]: minimised reproducers.

pub mod check;
pub mod corpus;
pub mod mutate;
pub mod run;
pub mod shrink;

use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::clean::{self, decode};
use crate::crawl::scope::Scope;
use crate::fetch::robots::Robots;
use crate::rules::{RuleError, RuleSet};

/// SplitMix64: tiny, fast, and the same numbers everywhere for a seed, so a
/// failure is reproduced from its seed and index alone.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator for input `index` of a run seeded with `seed`.
    pub fn for_input(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0xA24B_AED4_963E_E407));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True `num` times in `den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// What an input is fed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// bytes + content type → decode → clean → record → JSON.
    Page,
    /// robots.txt parsing, and every URL-like token of the text through
    /// canonicalisation, robots matching and scope.
    Robots,
}

impl Target {
    /// Directory under `fixtures/fuzz/`.
    pub fn dir(self) -> &'static str {
        match self {
            Target::Page => "page",
            Target::Robots => "robots",
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Target::Page => "html",
            Target::Robots => "txt",
        }
    }
}

/// One fuzz input.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub target: Target,
    pub bytes: Vec<u8>,
    /// The `Content-Type` the page is served with (page target only).
    pub content_type: Option<String>,
    /// The URL the page is served at (page target only).
    pub url: Option<String>,
    /// The mutators that made it, for reports.
    pub how: Vec<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    Panic,
    /// The record is not valid JSON Lines, lacks a SCHEMA key, or a value
    /// breaks its documented form.
    BadRecord,
    /// `text` has a U+FFFD that the input did not force.
    Replacement,
    /// A robots.txt or URL canonicalisation law is broken.
    Url,
    /// Far slower than a page of its size (long run only).
    Slow,
    /// Still running after the watchdog's limit (long run only).
    Hang,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// What makes two failures the same bug: the kind and the message's
    /// first line with numbers blanked; a panic, by its location alone.
    pub fn signature(&self) -> String {
        let first = self.message.lines().next().unwrap_or("");
        // A panic is known by where it happened (`… (at file:line)`); its
        // message quotes the page.
        let (place, rest) = match self.kind {
            FailureKind::Panic => (first.rsplit_once(" (at ").map_or(first, |(_, p)| p), ""),
            _ => ("", first),
        };
        let rest: String = rest
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .take(80)
            .collect();
        format!("{:?} {place} {rest}", self.kind)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ok,
    /// A one-line error for the input, as the CLI would print: fine.
    Rejected(String),
    Failed(Failure),
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub elapsed: Duration,
}

/// The library under test, built once: the compiled rules and a scope, reused
/// for every input.
pub struct Harness {
    rules: Arc<RuleSet>,
    scope: Scope,
}

/// The seeds the robots target's scope is built from.
const SCOPE_SEEDS: [&str; 2] = ["http://r.test/", "http://sh.taxs.vip/"];

impl Harness {
    pub fn new() -> Result<Harness, RuleError> {
        let rules = Arc::new(RuleSet::builtin()?);
        let seeds: Vec<Url> = SCOPE_SEEDS
            .iter()
            .map(|s| Url::parse(s).expect("static URL"))
            .collect();
        let scope = Scope::new(&seeds, rules.clone());
        Ok(Harness { rules, scope })
    }

    /// Runs one input isolated as the CLI isolates a page
    /// ([`crate::isolate::page`]): a panic is a failure of this input, with
    /// the panic's message and location.
    pub fn run(&self, case: &Case) -> Outcome {
        let start = Instant::now();
        let result = crate::isolate::page(|| match case.target {
            Target::Page => self.page(case),
            Target::Robots => self.robots(case),
        });
        let verdict = result.unwrap_or_else(|p| {
            let msg: String = p.message.chars().take(300).collect();
            Verdict::Failed(Failure::new(FailureKind::Panic, msg))
        });
        Outcome {
            verdict,
            elapsed: start.elapsed(),
        }
    }

    fn page(&self, case: &Case) -> Verdict {
        let input = decode::Input {
            name: "fuzz".into(),
            bytes: case.bytes.clone(),
            url: case.url.as_deref().and_then(|u| Url::parse(u).ok()),
            content_type: case.content_type.clone(),
            fetch: case.content_type.as_ref().map(|_| decode::FetchMeta {
                status: Some(200),
                fetched_at: Some("2026-12-01T00:00:00Z".into()),
                etag: None,
                last_modified: None,
            }),
        };
        let d = match decode::decode(input) {
            Ok(d) => d,
            Err(e) => return Verdict::Rejected(e.to_string()),
        };
        let forced = check::forces_replacement(&d);
        let doc = match clean::clean(&d, &self.rules) {
            Ok(doc) => doc,
            Err(e) => return Verdict::Rejected(e.to_string()),
        };
        let line = match crate::output::line_of(&doc) {
            Ok(l) => l,
            Err(e) => return Verdict::Failed(Failure::new(FailureKind::BadRecord, e.to_string())),
        };
        if let Err(f) = check::record(&line, forced).and_then(|()| check::formats(&doc)) {
            return Verdict::Failed(f);
        }
        Verdict::Ok
    }

    fn robots(&self, case: &Case) -> Verdict {
        // As the fetcher reads a robots.txt body.
        let text = String::from_utf8_lossy(&case.bytes);
        let robots = Robots::parse(&text, "parkcrawl");
        if let Err(f) = check::robots(&text, &robots) {
            return Verdict::Failed(f);
        }
        for token in check::url_tokens(&text) {
            if let Err(f) = check::url(token, &robots, &self.scope) {
                return Verdict::Failed(f);
            }
        }
        Verdict::Ok
    }
}
