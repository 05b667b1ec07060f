//! Crawl benchmark (not a test): H hosts × M pages on a loopback server with
//! some latency, crawled by the release `parkcrawl` binary as a child
//! process. Reports achieved pages/s against the politeness budget H × R,
//! then an unthrottled crawl of 20 hosts × 500 pages with its CPU seconds
//! and peak RSS (sampled from /proc, Linux).
//!
//!     cargo bench --bench crawl            # both runs
//!     cargo bench --bench crawl -- quick   # smaller, for a smoke test
//!
//! `BENCH_HM=20x40` runs only the throttled crawl with H × M of your choice;
//! `BENCH_GAPS=1` prints the request intervals of the first hosts.
//!
//!     cargo bench --bench crawl -- links   # links per page: time must grow linearly
//!
//! `links` crawls a 200-page site whose every page carries L distinct links
//! (L = 10,000, 20,000, 40,000), all in scope, with `--max-pages 200`:
//! the time per link should stay flat as L grows.

#[path = "../tests/it/support/server.rs"]
mod server;

use std::process::Command;
use std::time::{Duration, Instant};

use server::{Hit, Reply, Server};

/// Links per page: page k links to pages FANOUT·k+1 … FANOUT·k+FANOUT.
const FANOUT: usize = 10;

/// A site of `pages` pages per host, each a real article page (the seed
/// fixture) with its tree links appended.
fn site(pages: usize, latency: Duration) -> impl Fn(&Hit) -> Reply + Send + Sync + 'static {
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/sh.taxs.vip/news-5101.html"),
    )
    .expect("fixture page")
    // Only the tree links below are followed: the fixture's own links point
    // at pages this server does not have.
    .replace(" href=\"", " data-href=\"");
    move |hit: &Hit| {
        if hit.path == "/robots.txt" {
            return Reply::status(404).delayed(latency);
        }
        let k: usize = match hit.path.as_str() {
            "/" => 0,
            p => match p
                .strip_prefix("/news/view.html?id=")
                .and_then(|n| n.parse().ok())
            {
                Some(k) if k < pages => k,
                _ => return Reply::status(404).delayed(latency),
            },
        };
        let links: String = (FANOUT * k + 1..=FANOUT * k + FANOUT)
            .filter(|c| *c < pages)
            .map(|c| format!("<a href=\"/news/view.html?id={c}\">第{c}篇</a>"))
            .collect();
        let body = template.replacen(
            "</body>",
            &format!("<div class=\"tree\">{links}</div></body>"),
            1,
        );
        Reply::html(body).delayed(latency)
    }
}

struct Outcome {
    records: usize,
    /// The shortest interval between two requests to one host.
    min_gap: Duration,
    wall: Duration,
    /// First to last request the server saw.
    window: Duration,
    requests: usize,
    peak_kb: u64,
    cpu: f64,
    summary: String,
}

fn crawl(hosts: usize, pages: usize, rate: &str, concurrency: usize, latency: Duration) -> Outcome {
    let server = Server::start_with(2, site(pages, latency));
    let names: Vec<String> = (0..hosts).map(|i| format!("h{i}.bench")).collect();
    let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parkcrawl"));
    cmd.arg("crawl")
        .args(names.iter().map(|h| format!("http://{h}/")))
        .args(["--rate", rate, "--concurrency", &concurrency.to_string()])
        .args(["-o", "/dev/null"])
        .args(server.resolve(&names_ref));
    let t0 = Instant::now();
    let (out, peak_kb, cpu) = server::run_measured(cmd);
    let wall = t0.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "crawl failed: {stderr}");
    let summary = stderr.lines().last().unwrap_or("").to_string();
    // "done: N pages ok, …"
    let records = summary
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let hits = server.hits();
    if std::env::var_os("BENCH_GAPS").is_some() {
        for h in names.iter().take(3) {
            let at: Vec<f64> = hits
                .iter()
                .filter(|x| &x.host == h)
                .map(|x| x.at.as_secs_f64() * 1000.0)
                .collect();
            let gaps: Vec<String> = at
                .windows(2)
                .map(|w| format!("{:.0}", w[1] - w[0]))
                .collect();
            eprintln!("{h}: {}", gaps.join(" "));
        }
    }
    let min_gap = names
        .iter()
        .flat_map(|h| {
            let at: Vec<Duration> = hits.iter().filter(|x| &x.host == h).map(|x| x.at).collect();
            at.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
        })
        .min()
        .unwrap_or_default();
    let window = match (hits.first(), hits.last()) {
        (Some(a), Some(b)) => b.at - a.at,
        _ => Duration::ZERO,
    };
    Outcome {
        records,
        min_gap,
        wall,
        window,
        requests: hits.len(),
        peak_kb,
        cpu,
        summary,
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
    if std::env::args().any(|a| a == "links") {
        return links_scaling();
    }
    let quick = std::env::args().any(|a| a == "quick");
    let latency = Duration::from_millis(20);

    // 1. Throttled: the politeness budget is H × R pages/s.
    let (h, m, r) = if quick { (5, 20, 4.0) } else { (20, 40, 4.0) };
    let (h, m) = match std::env::var("BENCH_HM") {
        Ok(v) => {
            let (a, b) = v.split_once('x').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        }
        Err(_) => (h, m),
    };
    let o = crawl(h, m, &r.to_string(), 8, latency);
    let budget = h as f64 * r;
    // Each host spends its first request on robots.txt: M pages take M
    // intervals of 1/R after it, so the ideal wall time is M / R.
    let ideal = m as f64 / r;
    println!(
        "throttled: {h} hosts × {m} pages at {r}/s per host, {latency:?} latency, --concurrency 8"
    );
    println!(
        "  {} records in {:.2} s wall ({:.2} s server window, ideal {:.2} s)",
        o.records,
        o.wall.as_secs_f64(),
        o.window.as_secs_f64(),
        ideal
    );
    let achieved = o.records as f64 / o.wall.as_secs_f64();
    println!(
        "  achieved {achieved:.1} pages/s of a budget of {budget:.0} pages/s: {:.1} % (server window: {:.1} %)",
        100.0 * achieved / budget,
        100.0 * (o.records as f64 / o.window.as_secs_f64().max(ideal)) / budget,
    );
    println!(
        "  {} requests, never two to one host closer than {:.1} ms; {}",
        o.requests,
        o.min_gap.as_secs_f64() * 1000.0,
        o.summary
    );

    if std::env::var_os("BENCH_HM").is_some() {
        return;
    }
    // 2. Unthrottled: how fast can the crawler itself go.
    let (h, m) = if quick { (5, 100) } else { (20, 500) };
    let latency = Duration::from_millis(5);
    let o = crawl(h, m, "0", 32, latency);
    println!(
        "unthrottled: {h} hosts × {m} pages, --rate 0, {latency:?} latency, --concurrency 32 (1 connection per host)"
    );
    println!(
        "  {} records in {:.2} s: {:.0} pages/s; CPU {:.1} s ({:.2} ms/page); peak RSS {:.1} MiB",
        o.records,
        o.wall.as_secs_f64(),
        o.records as f64 / o.wall.as_secs_f64(),
        o.cpu,
        1000.0 * o.cpu / o.records.max(1) as f64,
        o.peak_kb as f64 / 1024.0
    );
    println!("  {} requests; {}", o.requests, o.summary);
}
