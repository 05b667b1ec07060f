//! The fuzz loop both drivers share: input `i` of seed `s` is always the same
//! case (whatever the number of jobs), each run through [`judge`]; each new
//! kind of failure is kept once (optionally minimised and saved), the slowest
//! inputs are kept for the report.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::corpus::Corpus;
use super::mutate::{self, Scale};
use super::{Case, Failure, FailureKind, Harness, Outcome, Rng, Target, Verdict, shrink};

/// Time a page of a given size may take: ten times what the seeds take per
/// byte (their 90th percentile), plus ten times a small page's fixed cost.
#[derive(Debug, Clone, Copy)]
pub struct TimeModel {
    pub ns_per_byte: f64,
    pub floor: Duration,
}

impl TimeModel {
    /// Measures the unmutated seeds of both targets.
    pub fn calibrate(h: &Harness, corpus: &Corpus) -> TimeModel {
        let mut rates = Vec::new();
        let mut times = Vec::new();
        for target in [Target::Page, Target::Robots] {
            for seed in corpus.seeds(target) {
                let case = Case {
                    target,
                    bytes: seed.clone(),
                    content_type: None,
                    url: None,
                    how: vec!["seed"],
                };
                let t = h.run(&case).elapsed;
                times.push(t);
                rates.push(t.as_nanos() as f64 / seed.len().max(1) as f64);
            }
        }
        rates.sort_by(f64::total_cmp);
        times.sort();
        TimeModel {
            ns_per_byte: rates.get(rates.len() * 9 / 10).copied().unwrap_or(1000.0),
            floor: times
                .get(times.len() / 10)
                .copied()
                .unwrap_or(Duration::from_millis(1))
                .max(Duration::from_millis(2)),
        }
    }

    pub fn limit(&self, len: usize) -> Duration {
        Duration::from_nanos((self.ns_per_byte * len as f64) as u64) * 10 + self.floor * 10
    }
}

/// Runs `case` and judges it: its verdict's failure, or (with a time model)
/// `Slow` when it takes over its limit three times running.
pub fn judge(h: &Harness, case: &Case, timing: Option<&TimeModel>) -> (Outcome, Option<Failure>) {
    let out = h.run(case);
    if let Verdict::Failed(f) = &out.verdict {
        return (out.clone(), Some(f.clone()));
    }
    let Some(model) = timing else {
        return (out, None);
    };
    let limit = model.limit(case.bytes.len());
    if out.elapsed <= limit {
        return (out, None);
    }
    // Another process may have had the core: slow three times, or not slow.
    let best = (0..2)
        .map(|_| h.run(case).elapsed)
        .min()
        .unwrap_or(out.elapsed)
        .min(out.elapsed);
    if best <= limit {
        return (out, None);
    }
    // The floods that made it go into the message, so that each kind of
    // slow input is kept once.
    let mut how: Vec<&str> = case
        .how
        .iter()
        .copied()
        .filter(|m| mutate::FLOODS.contains(m))
        .collect();
    how.sort_unstable();
    how.dedup();
    let f = Failure::new(
        FailureKind::Slow,
        format!(
            "slow after {}: {} bytes took {:.1} ms, over the {:.1} ms a page of that size may take",
            how.join("+"),
            case.bytes.len(),
            best.as_secs_f64() * 1e3,
            limit.as_secs_f64() * 1e3
        ),
    );
    (out, Some(f))
}

#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    /// Stop after this many inputs …
    pub inputs: Option<u64>,
    /// … or after this long, whichever comes first.
    pub seconds: Option<f64>,
    pub jobs: usize,
    pub scale: Scale,
    pub targets: Vec<Target>,
    pub timing: Option<TimeModel>,
    /// Where new failures go: `fixtures/fuzz` (minimised) by hand, a scratch
    /// directory (as found) in CI.
    pub save: Option<PathBuf>,
    pub minimise: Option<Duration>,
    /// Signatures already known (the reproducers'): not saved again.
    pub known: HashSet<String>,
    /// Print a progress line this often.
    pub progress: Option<Duration>,
    /// An input still running after this long is a hang: it is saved (as
    /// input `i` of the seed, regenerated) and the process exits 1, since a
    /// thread cannot be stopped.
    pub hang: Option<Duration>,
}

/// One failure kept: the first input that showed it, and how often it came.
#[derive(Debug, Clone)]
pub struct Found {
    pub index: u64,
    pub failure: Failure,
    pub case: Case,
    pub count: u64,
    pub saved: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub inputs: u64,
    pub rejected: u64,
    pub failed: u64,
    pub found: Vec<Found>,
    /// The slowest inputs: time, length, index.
    pub slowest: Vec<(Duration, usize, u64)>,
    pub elapsed: Duration,
}

/// Input `index` of the run seeded `seed`.
pub fn case(corpus: &Corpus, cfg: &Config, index: u64) -> Case {
    let mut rng = Rng::for_input(cfg.seed, index);
    // One input in four is a robots.txt: it is cheap, so it gets fewer.
    let target = match cfg.targets.as_slice() {
        [one] => *one,
        _ if index % 4 == 3 => Target::Robots,
        _ => Target::Page,
    };
    match target {
        Target::Page => mutate::page(corpus, &mut rng, cfg.scale),
        Target::Robots => mutate::robots(corpus, &mut rng, cfg.scale),
    }
}

/// An input slower than this is named on stderr as it finishes.
const SAY_SLOW: Duration = Duration::from_secs(5);

struct Shared<'a> {
    h: &'a Harness,
    corpus: &'a Corpus,
    cfg: &'a Config,
    next: AtomicU64,
    start: Instant,
    /// Per worker: the input it runs and since when.
    busy: Vec<Mutex<Option<(u64, Instant)>>>,
    report: Mutex<Report>,
}

pub fn run(h: &Harness, corpus: &Corpus, cfg: &Config) -> Report {
    let shared = Shared {
        h,
        corpus,
        cfg,
        next: AtomicU64::new(0),
        start: Instant::now(),
        busy: (0..cfg.jobs.max(1)).map(|_| Mutex::new(None)).collect(),
        report: Mutex::new(Report::default()),
    };
    std::thread::scope(|s| {
        let shared = &shared;
        for slot in &shared.busy {
            s.spawn(move || worker(shared, slot));
        }
        if cfg.progress.is_some() || cfg.hang.is_some() {
            s.spawn(move || watch(shared));
        }
    });
    let mut report = shared.report.into_inner().expect("report lock");
    report.elapsed = shared.start.elapsed();
    report.found.sort_by_key(|f| f.index);
    report
}

fn done(sh: &Shared, index: u64) -> bool {
    sh.cfg.inputs.is_some_and(|n| index >= n)
        || sh
            .cfg
            .seconds
            .is_some_and(|s| sh.start.elapsed().as_secs_f64() >= s)
}

fn worker(sh: &Shared, busy: &Mutex<Option<(u64, Instant)>>) {
    loop {
        let index = sh.next.fetch_add(1, Ordering::Relaxed);
        if done(sh, index) {
            return;
        }
        let c = case(sh.corpus, sh.cfg, index);
        *busy.lock().expect("busy lock") = Some((index, Instant::now()));
        let (out, failure) = judge(sh.h, &c, sh.cfg.timing.as_ref());
        *busy.lock().expect("busy lock") = None;
        if out.elapsed > SAY_SLOW {
            eprintln!(
                "fuzz: input {index} ({}, {} bytes) took {:.1} s",
                c.how.join("+"),
                c.bytes.len(),
                out.elapsed.as_secs_f64()
            );
        }
        let fresh = {
            let mut r = sh.report.lock().expect("report lock");
            r.inputs += 1;
            record_slow(&mut r, out.elapsed, c.bytes.len(), index);
            if matches!(out.verdict, Verdict::Rejected(_)) {
                r.rejected += 1;
            }
            failure.and_then(|f| note(&mut r, sh.cfg, f, &c, index))
        };
        if let Some(f) = fresh {
            let saved = keep(sh, &c, &f);
            let mut r = sh.report.lock().expect("report lock");
            if let Some(found) = r.found.iter_mut().find(|x| x.index == index) {
                found.saved = saved;
            }
        }
    }
}

fn record_slow(r: &mut Report, t: Duration, len: usize, index: u64) {
    r.slowest.push((t, len, index));
    r.slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    r.slowest.truncate(5);
}

/// Counts a failure; returns it when its signature is new to this run.
fn note(r: &mut Report, cfg: &Config, f: Failure, c: &Case, index: u64) -> Option<Failure> {
    r.failed += 1;
    let sig = f.signature();
    if let Some(found) = r.found.iter_mut().find(|x| x.failure.signature() == sig) {
        found.count += 1;
        return None;
    }
    r.found.push(Found {
        index,
        failure: f.clone(),
        case: c.clone(),
        count: 1,
        saved: None,
    });
    (!cfg.known.contains(&sig)).then_some(f)
}

/// Minimises (when asked) and saves a new failure; a line on stderr says so.
fn keep(sh: &Shared, c: &Case, f: &Failure) -> Option<PathBuf> {
    let dir = sh.cfg.save.as_ref()?;
    let sig = f.signature();
    // A slow input is slow to shrink, and is found again and again.
    let budget = match f.kind {
        FailureKind::Slow => sh.cfg.minimise.map(|b| b / 3),
        _ => sh.cfg.minimise,
    };
    let small = match budget {
        Some(budget) => shrink::minimise(c, budget, &|x| {
            judge(sh.h, x, sh.cfg.timing.as_ref())
                .1
                .is_some_and(|g| g.signature() == sig)
        }),
        None => c.clone(),
    };
    match shrink::save(&small, f, dir) {
        Ok(p) => {
            eprintln!(
                "fuzz: new failure ({} bytes → {} bytes): {}: {}",
                c.bytes.len(),
                small.bytes.len(),
                p.display(),
                f.message
            );
            Some(p)
        }
        Err(e) => {
            eprintln!("fuzz: cannot save a reproducer in {}: {e}", dir.display());
            None
        }
    }
}

/// Prints progress and catches hangs, until the run is done.
fn watch(sh: &Shared) {
    let mut last = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        if done(sh, sh.next.load(Ordering::Relaxed)) {
            return;
        }
        if let Some(limit) = sh.cfg.hang {
            catch_hang(sh, limit);
        }
        if let Some(every) = sh.cfg.progress
            && last.elapsed() >= every
        {
            last = Instant::now();
            let r = sh.report.lock().expect("report lock");
            let secs = sh.start.elapsed().as_secs_f64();
            eprintln!(
                "fuzz: {} inputs in {:.0} s ({:.1}/s), {} failed ({} kinds)",
                r.inputs,
                secs,
                r.inputs as f64 / secs,
                r.failed,
                r.found.len()
            );
        }
    }
}

fn catch_hang(sh: &Shared, limit: Duration) {
    let hung = sh.busy.iter().find_map(|b| {
        let b = b.lock().expect("busy lock");
        b.filter(|(_, since)| since.elapsed() > limit)
            .map(|(i, _)| i)
    });
    let Some(index) = hung else { return };
    let c = case(sh.corpus, sh.cfg, index);
    let f = Failure::new(
        FailureKind::Hang,
        format!(
            "input {index} of seed {} ({}, {} bytes) still running after {limit:?}",
            sh.cfg.seed,
            c.how.join("+"),
            c.bytes.len()
        ),
    );
    eprintln!("fuzz: {}", f.message);
    if let Some(dir) = &sh.cfg.save {
        match shrink::save(&c, &f, dir) {
            Ok(p) => eprintln!("fuzz: saved as {}", p.display()),
            Err(e) => eprintln!("fuzz: cannot save it in {}: {e}", dir.display()),
        }
    }
    std::process::exit(1);
}
