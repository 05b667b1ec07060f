//! Fleet benchmark (not a test, issue 15): 1, 2 and 4 `parkcrawl crawl
//! --state postgres://…` workers (the release binary, child processes) on
//! this machine against a loopback web of 20 hosts, each run on a fresh
//! PostgreSQL cluster started as the tests start theirs (`support/pg.rs`:
//! `initdb` + `pg_ctl` in a temp dir; Debian's `postgresql` package).
//!
//!     CARGO_TARGET_DIR=/work/reltarget cargo bench --bench fleet
//!     CARGO_TARGET_DIR=/work/reltarget cargo bench --bench fleet -- quick
//!
//! The web is `tests/it/support/fleet.rs`'s (each host a server of its own,
//! its pages a tree of three links a page, ETag and Last-Modified on every
//! page), every reply 20 ms late.
//!
//! - Unthrottled (`--rate 0 --per-host 4`), 20 hosts × 100 pages: pages/s
//!   (records exported over the wall time from the first worker's start to
//!   the last one's exit), CPU per page (the workers' utime + stime from
//!   /proc, summed), the largest peak RSS of a worker (VmHWM), and the
//!   database server's CPU (the postmaster's own and its children's, reaped
//!   and live, from /proc, less what it had used before the run).
//! - Polite (`--rate 1`), 20 hosts × 20 pages: the share of the budget of
//!   20 requests/s (1 per host) achieved, from the servers' logs: requests
//!   (less one per host: S seconds hold S + 1 requests at 1/s) over the
//!   span from the first request to any host to the last, over 20 (target
//!   ≥ 95 %); and how many pairs of requests to a host came closer than
//!   1 s less 50 ms (must be 0).
//!
//! `quick`: 5 hosts × 40 pages unthrottled, 5 × 10 polite.

#[path = "../tests/it/support/fleet.rs"]
mod fleet;
// The bench starts servers, it does not skip: `start_or_skip` is the tests'.
#[allow(dead_code)]
#[path = "../tests/it/support/pg.rs"]
mod pg;
#[path = "../tests/it/support/server.rs"]
mod server;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fleet::{FleetWeb, Kind};
use pg::Postgres;

const LATENCY: Duration = Duration::from_millis(20);
const WATCHDOG: Duration = Duration::from_secs(300);

/// One run's figures.
struct Run {
    workers: usize,
    polite: bool,
    pages: usize,
    wall: f64,
    /// Workers' CPU seconds, summed.
    cpu: f64,
    /// The largest peak RSS of a worker, KiB.
    peak_kb: u64,
    db_cpu: f64,
    /// Polite: requests per second over the span of all requests, and the
    /// pairs closer than the interval.
    request_rate: f64,
    too_close: usize,
}

/// (VmHWM KiB, utime + stime seconds) of a live process.
fn sample(pid: u32) -> Option<(u64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((kb, ticks as f64 / 100.0))
}

fn worker(web: &FleetWeb, url: &str, name: &str, polite: bool) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parkcrawl"));
    cmd.arg("crawl")
        .args(web.seeds())
        .args(["--state", url, "--worker", name, "--max-depth", "10", "-q"])
        .args(web.resolve());
    if polite {
        cmd.args(["--rate", "1"]);
    } else {
        cmd.args(["--rate", "0", "--per-host", "4"]);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn parkcrawl crawl")
}

/// Runs `n` workers to their end, sampling each one's peak RSS and CPU.
fn run_workers(web: &FleetWeb, url: &str, n: usize, polite: bool) -> (f64, f64, u64) {
    let t0 = Instant::now();
    let mut children: Vec<Child> = (1..=n)
        .map(|i| worker(web, url, &format!("w{i}"), polite))
        .collect();
    let mut seen = vec![(0u64, 0f64); n];
    let mut done = vec![false; n];
    while done.iter().any(|d| !d) {
        // A hang is a bug to report, not a figure.
        if t0.elapsed() > WATCHDOG {
            for c in children.iter_mut() {
                let _ = c.kill();
            }
            panic!("{n} worker(s) still running after {WATCHDOG:?}");
        }
        for (i, c) in children.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            if let Some((kb, cpu)) = sample(c.id()) {
                seen[i] = (seen[i].0.max(kb), seen[i].1.max(cpu));
            }
            if let Some(st) = c.try_wait().unwrap() {
                done[i] = true;
                let mut err = String::new();
                if let Some(mut e) = c.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                assert!(st.success(), "worker w{} failed ({st}): {err}", i + 1);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = seen.iter().map(|s| s.1).sum();
    let peak = seen.iter().map(|s| s.0).max().unwrap_or(0);
    (wall, cpu, peak)
}

fn records(url: &str) -> usize {
    let o = Command::new(env!("CARGO_BIN_EXE_parkcrawl"))
        .args(["export", "--state", url, "--cursor", "bench"])
        .output()
        .expect("run parkcrawl export");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout.iter().filter(|b| **b == b'\n').count()
}

fn measure(hosts: usize, pages: usize, workers: usize, polite: bool) -> Run {
    let kinds = vec![(Kind::Slow(LATENCY), pages); hosts];
    let web = FleetWeb::start(&kinds);
    let pg = Postgres::start().unwrap_or_else(|why| panic!("the fleet bench needs {why}"));
    let url = pg.url();
    let db_before = pg.cpu_seconds().unwrap_or(0.0);
    let (wall, cpu, peak_kb) = run_workers(&web, &url, workers, polite);
    // Backends of closed connections exit into the postmaster's children's
    // time once reaped.
    std::thread::sleep(Duration::from_millis(300));
    let db_cpu = pg.cpu_seconds().unwrap_or(0.0) - db_before;
    let exported = records(&url);
    let logs = web.logs(if polite { 1.0 } else { 0.0 });
    let mut at: Vec<Duration> = logs
        .iter()
        .flat_map(|l| l.requests.iter().map(|r| r.at))
        .collect();
    at.sort();
    let span = match (at.first(), at.last()) {
        (Some(a), Some(b)) if b > a => (*b - *a).as_secs_f64(),
        _ => f64::NAN,
    };
    // Within a span of S seconds a host at 1 request/s makes at most S + 1
    // requests: one per host is not counted.
    let counted = logs
        .iter()
        .map(|l| l.requests.len().saturating_sub(1))
        .sum::<usize>();
    let too_close = logs
        .iter()
        .filter_map(|l| l.check_intervals().err())
        .map(|e| e.lines().count() - 1)
        .sum();
    Run {
        workers,
        polite,
        pages: exported,
        wall,
        cpu,
        peak_kb,
        db_cpu,
        request_rate: counted as f64 / span,
        too_close,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let (hosts, fast_pages, polite_pages) = if quick { (5, 40, 10) } else { (20, 100, 20) };
    println!(
        "fleet: {hosts} hosts, {LATENCY:?} latency; unthrottled {hosts} × {fast_pages} pages \
         (--rate 0 --per-host 4), polite {hosts} × {polite_pages} pages (--rate 1)"
    );
    println!(
        "| workers | mode | pages | wall s | pages/s | worker CPU ms/page | peak RSS MiB/worker | DB CPU s | DB CPU ms/page | budget share | too close |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for polite in [false, true] {
        for n in [1, 2, 4] {
            let pages = if polite { polite_pages } else { fast_pages };
            let r = measure(hosts, pages, n, polite);
            let share = if r.polite {
                format!("{:.1} %", 100.0 * r.request_rate / hosts as f64)
            } else {
                "–".to_string()
            };
            println!(
                "| {} | {} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {:.2} | {:.2} | {share} | {} |",
                r.workers,
                if r.polite {
                    "1 req/s/host"
                } else {
                    "unthrottled"
                },
                r.pages,
                r.wall,
                r.pages as f64 / r.wall,
                1000.0 * r.cpu / r.pages.max(1) as f64,
                r.peak_kb as f64 / 1024.0,
                r.db_cpu,
                1000.0 * r.db_cpu / r.pages.max(1) as f64,
                r.too_close,
            );
        }
    }
}
