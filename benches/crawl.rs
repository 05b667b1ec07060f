//! Crawl benchmark (not a test): a loopback web crawled by the release
//! `parkcrawl` binary and by Scrapy, each a child process, measured from the
//! server's own request log (and /proc for CPU and peak RSS, Linux).
//!
//!     cargo bench --bench crawl                 # the side-by-side table
//!     cargo bench --bench crawl -- quick        # 5 hosts × 100 pages
//!     cargo bench --bench crawl -- --no-peers   # parkcrawl alone
//!     cargo bench --bench crawl -- unthrottled  # without the polite table
//!     cargo bench --bench crawl -- links        # links per page (below)
//!     cargo bench --bench crawl -- --no-peers unthrottled --per-host 64 --repeat 5
//!     cargo bench --bench crawl -- --no-peers unthrottled --per-host 64 --repeat 4 --compare OTHER
//!
//! The web: H hosts × M pages (20 × 500) behind 20 ms of latency per
//! response. Page k links to its children 10k+1 … 10k+10 by their canonical
//! URL; every page declares its canonical link; every 4th page links to its
//! own tracking-parameter variant (`?src=share`), and every 4th (offset 2)
//! to the trailing-slash variant of the page before it (`/news/{k-1}/`),
//! both served as the same article. The home page links a calendar trap
//! (`/cal/N` → `/cal/N+1`, each with a `?view=week` variant), three old URLs
//! that redirect (301) to articles, and a path robots.txt disallows. Hosts
//! 1, 6, 11, 16 answer some pages' first request with 429 + Retry-After 1;
//! hosts 2, 7, 12, 17 some with 503; pages k ≡ 11 (mod 53) take 400 ms more;
//! hosts 3 and 13 ask for a Crawl-delay of 0.02 s. Both crawlers go 4 links
//! deep (the articles are 3 deep): the trap costs each 4 pages a host.
//!
//! Unthrottled, parkcrawl (`--rate 0 --per-host 1 | 8 | 64`) and Scrapy (8
//! and 64 per domain, ROBOTSTXT_OBEY, DEPTH_LIMIT 4, Crawl-delay given to it
//! as per-host slot delays since Scrapy does not read it): pages/s (distinct
//! pages answered 200, over wall time), CPU per page, peak RSS, requests by
//! kind of duplicate, requests to a host while its Retry-After ran (after
//! 10 ms in transit), Crawl-delay violations (any 21 requests of such a host
//! within 19 delays: a whole delay short), and articles fetched. Polite (1 request/s per host,
//! Crawl-delay 2 s on hosts 3 and 13, no 429/503), 20 hosts × 20 pages: each
//! host's achieved request rate from its first to its last request against
//! its budget. Scrapy comes from PyPI into `target/crawl-venv`
//! (`bench/crawl/setup.sh`, pinned in `bench/crawl/requirements.txt`).
//!
//! Requests during Retry-After count requests the server logged from 10 ms
//! after the 429 left it (a request sent before the crawler could read the
//! 429 may still be on its way) to the end of the Retry-After. The server's
//! log is the measuring instrument, and it stands in for remote machines
//! with CPUs of their own; so both crawlers run at nice 10 (`nice -n 10`),
//! and a crawler taking both cores cannot delay the server's reading of
//! requests sent before the 429 was readable into the window. (Unniced,
//! the crawler's own log showed parkcrawl --per-host 64 sending all 47 of
//! the requests counted before it had read the 429: the server logged
//! them up to 37 ms after the crawler sent them.) Pages/s and CPU are of
//! the niced crawlers, the same for both; CPU time does not depend on it.
//!
//! `BENCH_DUMP=DIR` writes each run's server log (`NAME.tsv`: host, path,
//! n, arrival and reply in ms from the server's start, whose Unix time heads
//! the file) and parkcrawl's stderr at `parkcrawl::fetch=trace` (`NAME.log`:
//! when it sent each request, and when a 429 paused the host) for
//! diagnosis; the trace costs CPU, so the table of such a run is not one to
//! quote.
//!
//! `BENCH_STAT=FILE` appends each crawler run's `perf stat` software
//! counters (user and system time, context switches, page faults) to FILE.
//!
//! `links` crawls a 200-page site whose every page carries L distinct links
//! (L = 10,000, 20,000, 40,000), all in scope, with `--max-pages 200`:
//! the time per link should stay flat as L grows.

#[path = "../tests/it/support/server.rs"]
mod server;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use server::{Hit, Reply, Server};

/// Links per page: page k links to pages FANOUT·k+1 … FANOUT·k+FANOUT.
const FANOUT: usize = 10;
/// How deep both crawlers go (the articles of 500 are 3 deep).
const DEPTH: usize = 4;
const LATENCY: Duration = Duration::from_millis(20);
/// A request this soon after a 429 left the server was sent before the
/// crawler could have read it.
const IN_TRANSIT: Duration = Duration::from_millis(10);

/// What the web is made of, per run.
#[derive(Clone, Copy)]
struct Web {
    hosts: usize,
    pages: usize,
    /// 429 and 503 on some hosts.
    failures: bool,
    /// Crawl-delay of hosts 3 and 13.
    crawl_delay: f64,
}

impl Web {
    fn names(&self) -> Vec<String> {
        (0..self.hosts).map(|i| format!("h{i}.bench")).collect()
    }

    fn delay_of(&self, host: &str) -> Option<f64> {
        let i: usize = host.strip_prefix('h')?.split('.').next()?.parse().ok()?;
        (i % 10 == 3).then_some(self.crawl_delay)
    }
}

/// What a request path asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Asked {
    Robots,
    /// Article k (0: the home page), in its canonical form.
    Page(usize),
    SlashVariant(usize),
    ParamVariant(usize),
    Trap(usize, bool),
    Old(usize),
    Private,
    Missing,
}

fn asked(path: &str, pages: usize) -> Asked {
    if path == "/robots.txt" {
        return Asked::Robots;
    }
    if path == "/" {
        return Asked::Page(0);
    }
    if path.starts_with("/private/") {
        return Asked::Private;
    }
    let num = |s: &str| s.parse::<usize>().ok();
    if let Some(rest) = path.strip_prefix("/cal/") {
        let (n, view) = match rest.split_once('?') {
            Some((n, q)) => (n, q == "view=week"),
            None => (rest, false),
        };
        return num(n).map_or(Asked::Missing, |n| Asked::Trap(n, view));
    }
    if let Some(k) = path.strip_prefix("/old/").and_then(num) {
        return Asked::Old(k);
    }
    let Some(rest) = path.strip_prefix("/news/") else {
        return Asked::Missing;
    };
    let k = match rest.split_once('?') {
        Some((k, "src=share")) => return num(k).map_or(Asked::Missing, Asked::ParamVariant),
        Some(_) => return Asked::Missing,
        None => rest,
    };
    match k.strip_suffix('/') {
        Some(k) => num(k)
            .filter(|k| *k < pages)
            .map_or(Asked::Missing, Asked::SlashVariant),
        None => num(k)
            .filter(|k| (1..pages).contains(k))
            .map_or(Asked::Missing, Asked::Page),
    }
}

fn article_body(template: &str, host: &str, k: usize, pages: usize) -> String {
    let mut links: String = (FANOUT * k + 1..=FANOUT * k + FANOUT)
        .filter(|c| *c < pages)
        .map(|c| format!("<a href=\"/news/{c}\">第{c}篇</a>"))
        .collect();
    if k.is_multiple_of(4) && k > 0 {
        links.push_str(&format!("<a href=\"/news/{k}?src=share\">分享</a>"));
    }
    if k % 4 == 2 && k > 1 {
        links.push_str(&format!("<a href=\"/news/{}/\">上一篇</a>", k - 1));
    }
    if k == 0 {
        links.push_str("<a href=\"/cal/0\">日历</a><a href=\"/private/x\">内部</a>");
        for o in 1..=3 {
            links.push_str(&format!("<a href=\"/old/{o}\">旧址</a>"));
        }
    }
    let canonical = if k == 0 {
        format!("http://{host}/")
    } else {
        format!("http://{host}/news/{k}")
    };
    template
        .replacen(
            "</head>",
            &format!("<link rel=\"canonical\" href=\"{canonical}\"></head>"),
            1,
        )
        .replacen(
            "</body>",
            &format!("<div class=\"tree\">{links}</div></body>"),
            1,
        )
}

fn template() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sh.taxs.vip/news-5101.html"),
    )
    .expect("fixture page")
    // Only the links the web adds are followed: the fixture's own links
    // point at pages this server does not have.
    .replace(" href=\"", " data-href=\"")
    .replace("<link rel=\"canonical\"", "<link data-rel=\"canonical\"")
}

fn host_index(host: &str) -> usize {
    host.trim_start_matches('h')
        .split('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The web's server: one handler for every host.
fn web(w: Web) -> impl Fn(&Hit) -> Reply + Send + Sync + 'static {
    let template = Arc::new(template());
    move |hit: &Hit| {
        let i = host_index(&hit.host);
        let first = hit.n == 0;
        match asked(&hit.path, w.pages) {
            Asked::Robots => {
                let mut r = String::from("User-agent: *\nDisallow: /private/\n");
                if let Some(d) = w.delay_of(&hit.host) {
                    r.push_str(&format!("Crawl-delay: {d}\n"));
                }
                Reply::text(&r).delayed(LATENCY)
            }
            Asked::Page(k) | Asked::SlashVariant(k) | Asked::ParamVariant(k) => {
                if w.failures && first && k % 37 == 5 && i % 5 == 1 {
                    return Reply::status(429)
                        .header("retry-after", "1")
                        .delayed(LATENCY);
                }
                if w.failures && first && k % 41 == 9 && i % 5 == 2 {
                    return Reply::status(503).delayed(LATENCY);
                }
                let slow = if k % 53 == 11 {
                    Duration::from_millis(400)
                } else {
                    Duration::ZERO
                };
                Reply::html(article_body(&template, &hit.host, k, w.pages)).delayed(LATENCY + slow)
            }
            Asked::Trap(n, _) => {
                let body = format!(
                    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>日历 {n}</title>\
                     <link rel=\"canonical\" href=\"http://{}{}\"></head><body><h1>日历 {n}</h1>\
                     <p>活动日历, 第{n}页。</p><a href=\"/cal/{}\">下一页</a>\
                     <a href=\"/cal/{n}?view=week\">周视图</a></body></html>",
                    hit.host,
                    hit.path,
                    n + 1
                );
                Reply::html(body).delayed(LATENCY)
            }
            Asked::Old(k) => Reply::redirect(301, &format!("/news/{k}")).delayed(LATENCY),
            Asked::Private | Asked::Missing => Reply::status(404).delayed(LATENCY),
        }
    }
}

/// One crawler's run, measured.
struct Outcome {
    name: String,
    wall: Duration,
    peak_kb: u64,
    cpu: f64,
    hits: Vec<Hit>,
    /// When each reply left the server.
    replied: Vec<Option<Duration>>,
}

/// A crawler's command, run at nice 10 (see the header: the server is the
/// measuring instrument and stands in for machines of its own).
fn niced(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new("nice");
    cmd.args(["-n", "10"]);
    // BENCH_PERF=FILE profiles the crawler (the last run measured writes it).
    if let Some(file) = std::env::var_os("BENCH_PERF") {
        cmd.args(["perf", "record", "-F", "1999", "-g", "-o"])
            .arg(file)
            .arg("--");
    }
    // BENCH_STAT=FILE appends `perf stat`'s software counters of each run
    // (user and system time, context switches, page faults) to FILE.
    if let Some(file) = std::env::var_os("BENCH_STAT") {
        cmd.args([
            "perf",
            "stat",
            "-e",
            "task-clock,user_time,system_time,context-switches,cpu-migrations,page-faults",
            "--append",
            "-o",
        ])
        .arg(file)
        .arg("--");
    }
    cmd.arg(program);
    cmd
}

fn parkcrawl_cmd(w: Web, server: &Server, per_host: Option<usize>) -> Command {
    parkcrawl_cmd_of(
        Path::new(env!("CARGO_BIN_EXE_parkcrawl")),
        w,
        server,
        per_host,
    )
}

/// The crawl command of a given parkcrawl binary (`--compare` runs another
/// build beside this one).
fn parkcrawl_cmd_of(bin: &Path, w: Web, server: &Server, per_host: Option<usize>) -> Command {
    let names = w.names();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut cmd = niced(bin);
    cmd.arg("crawl")
        .args(names.iter().map(|h| format!("http://{h}/")))
        .args(["--max-depth", &DEPTH.to_string(), "-o", "/dev/null"])
        .args(server.resolve(&refs));
    if let Some(n) = per_host {
        let c = (n * w.hosts).clamp(8, 1280);
        cmd.args(["--rate", "0", "--per-host", &n.to_string()])
            .args(["--concurrency", &c.to_string()]);
    } else {
        cmd.args(["--concurrency", &w.hosts.max(8).to_string()]);
    }
    cmd
}

fn scrapy_cmd(w: Web, server: &Server, python: &Path, per_domain: usize, polite: bool) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/crawl/scrapy_run.py");
    let out = std::env::temp_dir().join(format!("crawl-bench-scrapy-{}.jsonl", std::process::id()));
    let mut cmd = niced(python);
    cmd.arg(script)
        .args(["--per-domain", &per_domain.to_string()])
        .args(["--depth", &DEPTH.to_string()])
        .args(["--delay", if polite { "1" } else { "0" }])
        .arg("--out")
        .arg(out)
        .args(["--proxy", &format!("http://{}", server.addr)]);
    for h in w.names() {
        if let Some(d) = w.delay_of(&h) {
            cmd.args(["--slot-delay", &format!("{h}={d}")]);
        }
    }
    cmd.args(w.names().iter().map(|h| format!("http://{h}/")));
    cmd
}

fn measure(name: &str, w: Web, make: impl FnOnce(&Server) -> Command) -> Outcome {
    let server = Server::start_with(2, web(w));
    let wall0 = std::time::SystemTime::now();
    let mut cmd = make(&server);
    if std::env::var_os("BENCH_DUMP").is_some() {
        cmd.env("RUST_LOG", "parkcrawl::fetch=trace");
    }
    let t0 = Instant::now();
    let (out, peak_kb, cpu) = server::run_measured(cmd);
    let wall = t0.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name} failed: {stderr}");
    if let Some(dir) = std::env::var_os("BENCH_DUMP") {
        dump(Path::new(&dir), name, wall0, &server, &out.stderr);
    }
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        eprintln!("{name}: {}", stderr.lines().last().unwrap_or(""));
    }
    Outcome {
        name: name.to_string(),
        wall,
        peak_kb,
        cpu,
        hits: server.hits(),
        replied: server.replied_at(),
    }
}

/// `BENCH_DUMP`: the server's log of a run and the crawler's stderr.
fn dump(dir: &Path, name: &str, wall0: std::time::SystemTime, server: &Server, stderr: &[u8]) {
    let _ = std::fs::create_dir_all(dir);
    let base = wall0
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let hits = server.hits();
    let rep = server.replied_at();
    let mut t = format!("# start {base:.6}\n");
    for (i, h) in hits.iter().enumerate() {
        let r = rep
            .get(i)
            .copied()
            .flatten()
            .map_or(-1.0, |d| d.as_secs_f64() * 1000.0);
        t.push_str(&format!(
            "{}\t{}\t{}\t{:.3}\t{:.3}\n",
            h.host,
            h.path,
            h.n,
            h.at.as_secs_f64() * 1000.0,
            r
        ));
    }
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    // A repeated run gets the next free number rather than overwriting.
    let slug = (1..)
        .map(|i| format!("{slug}_{i}"))
        .find(|s| !dir.join(format!("{s}.tsv")).exists())
        .unwrap();
    std::fs::write(dir.join(format!("{slug}.tsv")), t).unwrap();
    std::fs::write(dir.join(format!("{slug}.log")), stderr).unwrap();
}

/// What the request log says of one run.
#[derive(Default)]
struct Figures {
    pages: usize,
    requests: usize,
    slash: usize,
    param: usize,
    /// The same path again after it was answered 200.
    repeat: usize,
    trap: usize,
    during_retry_after: usize,
    crawl_delay_violations: usize,
    articles: usize,
}

fn figures(o: &Outcome, w: Web) -> Figures {
    let mut f = Figures {
        requests: o.hits.len(),
        ..Figures::default()
    };
    let mut answered: HashSet<(String, String)> = HashSet::new();
    let mut pages: HashSet<(String, Asked)> = HashSet::new();
    let mut articles: HashSet<(String, usize)> = HashSet::new();
    // Host → (from, until) of each Retry-After sent.
    let mut pauses: HashMap<String, Vec<(Duration, Duration)>> = HashMap::new();
    for (n, h) in o.hits.iter().enumerate() {
        let a = asked(&h.path, w.pages);
        let i = host_index(&h.host);
        let first = h.n == 0;
        let failed = w.failures
            && first
            && matches!(a, Asked::Page(k) | Asked::SlashVariant(k) | Asked::ParamVariant(k)
                if (k % 37 == 5 && i % 5 == 1) || (k % 41 == 9 && i % 5 == 2));
        let is_429 = failed && i % 5 == 1;
        if is_429 {
            let sent = o
                .replied
                .get(n)
                .copied()
                .flatten()
                .unwrap_or(h.at + LATENCY);
            pauses
                .entry(h.host.clone())
                .or_default()
                .push((sent + IN_TRANSIT, sent + Duration::from_secs(1)));
        }
        match a {
            Asked::SlashVariant(_) => f.slash += 1,
            Asked::ParamVariant(_) => f.param += 1,
            Asked::Trap(_, true) => f.trap += 1,
            _ => {}
        }
        if !failed && !answered.insert((h.host.clone(), h.path.clone())) {
            f.repeat += 1;
        }
        if !failed {
            if let Asked::Page(k) | Asked::SlashVariant(k) | Asked::ParamVariant(k) = a {
                articles.insert((h.host.clone(), k));
                pages.insert((h.host.clone(), Asked::Page(k)));
            } else if let Asked::Trap(n, v) = a {
                pages.insert((h.host.clone(), Asked::Trap(n, v)));
            }
        }
    }
    for h in &o.hits {
        if let Some(ps) = pauses.get(&h.host) {
            f.during_retry_after += ps.iter().filter(|(a, b)| h.at > *a && h.at < *b).count();
        }
    }
    for host in w.names() {
        let Some(d) = w.delay_of(&host) else { continue };
        let at: Vec<Duration> = o
            .hits
            .iter()
            .filter(|h| h.host == host)
            .map(|h| h.at)
            .collect();
        // 21 requests within 19 delays: a whole delay short, beyond any
        // arrival jitter.
        let window = Duration::from_secs_f64(19.0 * d);
        f.crawl_delay_violations += at.windows(21).filter(|x| x[20] - x[0] < window).count();
    }
    f.pages = pages.len();
    f.articles = articles.len();
    f
}

/// Creates (once) the venv with Scrapy; returns its python.
fn setup_python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("bench/crawl/setup.sh"))
        .output()
        .expect("run bench/crawl/setup.sh");
    assert!(
        out.status.success(),
        "bench/crawl/setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    root.join(String::from_utf8_lossy(&out.stdout).trim())
}

/// What the unthrottled table runs: parkcrawl at these `per_host`
/// settings, each `repeat` times, and, if `compare` names another parkcrawl
/// binary, that one right after each run (A, B, A, B: an A/B comparison in
/// one sitting, whose spread the repeats show).
struct Plan<'a> {
    per_host: Vec<usize>,
    repeat: usize,
    compare: Option<&'a Path>,
}

fn side_by_side(w: Web, python: Option<&Path>, plan: &Plan) {
    println!(
        "unthrottled: {} hosts × {} pages, {LATENCY:?} latency, 429/503/slow pages, variants, a trap; depth {DEPTH}",
        w.hosts, w.pages
    );
    let mut runs = Vec::new();
    for &n in &plan.per_host {
        for _ in 0..plan.repeat {
            let name = format!("parkcrawl --per-host {n}");
            runs.push(measure(&name, w, |s| parkcrawl_cmd(w, s, Some(n))));
            if let Some(bin) = plan.compare {
                let name = format!("{} --per-host {n}", bin.display());
                runs.push(measure(&name, w, |s| parkcrawl_cmd_of(bin, w, s, Some(n))));
            }
        }
    }
    if let Some(py) = python {
        for n in [8, 64] {
            let name = format!("Scrapy {n}/domain");
            runs.push(measure(&name, w, |s| scrapy_cmd(w, s, py, n, false)));
        }
    }
    println!(
        "| crawler | pages | pages/s | CPU ms/page | peak RSS MiB | requests | slash variants | param variants | repeats | trap variants | during Retry-After | Crawl-delay violations | articles |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in &runs {
        let f = figures(o, w);
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {}/{} |",
            o.name,
            f.pages,
            f.pages as f64 / o.wall.as_secs_f64(),
            1000.0 * o.cpu / f.pages.max(1) as f64,
            o.peak_kb as f64 / 1024.0,
            f.requests,
            f.slash,
            f.param,
            f.repeat,
            f.trap,
            f.during_retry_after,
            f.crawl_delay_violations,
            f.articles,
            w.hosts * w.pages,
        );
    }
}

/// Per host, requests per second from its first request to its last,
/// over its budget (1/s, or its Crawl-delay when slower).
fn shares(o: &Outcome, w: Web) -> Vec<f64> {
    w.names()
        .iter()
        .filter_map(|host| {
            let at: Vec<Duration> = o
                .hits
                .iter()
                .filter(|h| &h.host == host)
                .map(|h| h.at)
                .collect();
            let span = (*at.last()? - *at.first()?).as_secs_f64();
            let period = w.delay_of(host).unwrap_or(1.0).max(1.0);
            (at.len() > 1).then(|| (at.len() - 1) as f64 / span * period)
        })
        .collect()
}

fn polite(python: Option<&Path>, quick: bool) {
    let w = Web {
        hosts: if quick { 5 } else { 20 },
        pages: if quick { 10 } else { 20 },
        failures: false,
        crawl_delay: 2.0,
    };
    println!(
        "polite: {} hosts × {} pages at 1 request/s per host (Crawl-delay 2 s on hosts 3, 13)",
        w.hosts, w.pages
    );
    let mut runs = vec![measure("parkcrawl (defaults)", w, |s| {
        parkcrawl_cmd(w, s, None)
    })];
    if let Some(py) = python {
        runs.push(measure("Scrapy (1/domain, DOWNLOAD_DELAY 1)", w, |s| {
            scrapy_cmd(w, s, py, 1, true)
        }));
    }
    println!(
        "| crawler | pages | wall s | budget share per host: min | median | Crawl-delay violations |"
    );
    println!("|---|---|---|---|---|---|");
    for o in &runs {
        let f = figures(o, w);
        let mut s = shares(o, w);
        s.sort_by(f64::total_cmp);
        let min_gap = w
            .names()
            .iter()
            .filter(|h| w.delay_of(h).is_some())
            .flat_map(|h| {
                let at: Vec<Duration> = o
                    .hits
                    .iter()
                    .filter(|x| &x.host == h)
                    .map(|x| x.at)
                    .collect();
                at.windows(2).map(|x| x[1] - x[0]).collect::<Vec<_>>()
            })
            .filter(|g| *g + Duration::from_millis(25) < Duration::from_secs(2))
            .count();
        println!(
            "| {} | {} | {:.1} | {:.1} % | {:.1} % | {} |",
            o.name,
            f.pages,
            o.wall.as_secs_f64(),
            100.0 * s.first().copied().unwrap_or(0.0),
            100.0 * s.get(s.len() / 2).copied().unwrap_or(0.0),
            min_gap,
        );
    }
}

/// A 200-page site: page k (`/p?k`) carries `links` distinct in-scope links
/// `/p?0` … `/p?{links-1}` (the first 200 exist), in a list like a portal's
/// archive page.
fn wide_site(links: usize) -> impl Fn(&Hit) -> Reply + Send + Sync + 'static {
    let list: String = (0..links)
        .map(|i| format!("<li><a href=\"/p?{i}\">第{i}篇</a></li>"))
        .collect();
    let body = std::sync::Arc::new(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>归档</title></head>\
         <body><h1>归档</h1><p>园区新闻与招商政策的正文段落, 足够长以便被当作正文。</p>\
         <ul>{list}</ul></body></html>"
    ));
    move |hit: &Hit| {
        if hit.path == "/robots.txt" {
            return Reply::status(404);
        }
        Reply::html(body.as_bytes().to_vec())
    }
}

/// Item 4 of issue 11: crawl time against links per page.
fn links_scaling() {
    println!("links per page: 200 pages, --rate 0, --max-pages 200");
    for links in [10_000, 20_000, 40_000] {
        let server = Server::start_with(2, wide_site(links));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_parkcrawl"));
        cmd.args(["crawl", "http://wide.bench/p?0", "--rate", "0"])
            .args(["--max-pages", "200", "-o", "/dev/null"])
            .args(server.resolve(&["wide.bench"]));
        let t0 = Instant::now();
        let (out, peak_kb, cpu) = server::run_measured(cmd);
        let wall = t0.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "crawl failed: {stderr}");
        let total = (200 * links) as f64;
        println!(
            "  {links:>6} links/page: {wall:.2} s wall, CPU {cpu:.1} s ({:.2} µs/link), peak RSS {:.1} MiB; {}",
            1e6 * cpu / total,
            peak_kb as f64 / 1024.0,
            stderr.lines().last().unwrap_or("")
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "links") {
        return links_scaling();
    }
    let quick = args.iter().any(|a| a == "quick");
    let python = (!args.iter().any(|a| a == "--no-peers")).then(setup_python);
    let w = Web {
        hosts: if quick { 5 } else { 20 },
        pages: if quick { 100 } else { 500 },
        failures: true,
        crawl_delay: 0.02,
    };
    // `--per-host N` (repeatable) measures only those parkcrawl runs;
    // `--repeat K` runs each K times (the spread of one machine's runs).
    let flag = |name: &str| -> Vec<usize> {
        args.windows(2)
            .filter(|p| p[0] == name)
            .filter_map(|p| p[1].parse().ok())
            .collect()
    };
    let mut per_host = flag("--per-host");
    if per_host.is_empty() {
        per_host = vec![1, 8, 64];
    }
    let compare = args
        .windows(2)
        .find(|p| p[0] == "--compare")
        .map(|p| Path::new(&p[1]));
    let plan = Plan {
        per_host,
        repeat: flag("--repeat").last().copied().unwrap_or(1).max(1),
        compare,
    };
    side_by_side(w, python.as_deref(), &plan);
    if !args.iter().any(|a| a == "unthrottled") {
        polite(python.as_deref(), quick);
    }
}
