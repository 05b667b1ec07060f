//! Bulk cleaning benchmark:
//!
//! 1. 2,000 pages (the fixture pages, repeated under distinct URLs) cleaned
//!    through the ordered parallel engine with 1 thread and with every core,
//!    side by side in one run: pages/s and the speed-up.
//! 2. `parkcrawl clean` of a ~1 GB WARC as a child process: wall time, pages
//!    and the child's peak RSS (VmHWM from /proc), to show memory stays
//!    bounded however large the input. A WARC is cleaned in two passes
//!    (repeated-block, through a spill file); when the binary knows
//!    `--keep-repeated`, the WARC is cleaned again in one pass with it, and
//!    the ratio of the two is the cost of the second pass. Every page here
//!    is one of a few fixture pages per host, so nearly every record holds
//!    blocks on most pages of its host: the second pass reads back nearly
//!    every record, its worst case.
//!
//! Run: `cargo bench --bench bulk` (`-- --warc-mb N` to change the WARC size,
//! `-- --skip-warc` to run part 1 only, `-- --bin PATH` (repeatable) to
//! time other builds of parkcrawl on the same WARC; by default
//! `release/parkcrawl` of the target directory, `$CARGO_TARGET_DIR` or
//! `target/`).

use std::path::Path;
use std::time::Instant;

use parkcrawl::bulk::{self, Flow};
use parkcrawl::clean::{self, decode};
use parkcrawl::rules::RuleSet;
use parkcrawl::warc::{Exchange, WarcWriter};

struct Page {
    url: String,
    content_type: String,
    body: Vec<u8>,
}

fn fixture_pages() -> Vec<Page> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let m: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("manifest.toml")).unwrap()).unwrap();
    m["page"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            Some(Page {
                url: p.get("url")?.as_str()?.to_string(),
                content_type: p
                    .get("content_type")
                    .and_then(|c| c.as_str())
                    .unwrap_or("text/html")
                    .to_string(),
                body: std::fs::read(root.join(p["file"].as_str().unwrap())).unwrap(),
            })
        })
        .collect()
}

/// The i-th page of an endless corpus: fixture pages under distinct URLs.
fn page(pages: &[Page], i: usize) -> (String, &Page) {
    let p = &pages[i % pages.len()];
    let sep = if p.url.contains('?') { '&' } else { '?' };
    (format!("{}{sep}copy={i}", p.url), p)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let pages = fixture_pages();
    let rules = RuleSet::builtin().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    // Part 1: the engine, 1 thread vs all cores, same inputs, same run.
    let n = 2000;
    let inputs: Vec<decode::Input> = (0..n)
        .map(|i| {
            let (url, p) = page(&pages, i);
            decode::Input {
                name: url.clone(),
                bytes: p.body.clone(),
                url: url::Url::parse(&url).ok(),
                content_type: Some(p.content_type.clone()),
                fetch: None,
            }
        })
        .collect();
    let mb = inputs.iter().map(|i| i.bytes.len()).sum::<usize>() as f64 / 1e6;
    let run = |jobs: usize| {
        let start = Instant::now();
        let mut out = 0usize;
        bulk::ordered(
            inputs.iter().cloned(),
            jobs,
            jobs * 4,
            |input| {
                let d = decode::decode(input).unwrap();
                serde_json::to_vec(&clean::clean(&d, &rules).unwrap()).unwrap()
            },
            |line| {
                out += line.expect("bench pages clean").len();
                Flow::Continue
            },
        );
        std::hint::black_box(out);
        start.elapsed().as_secs_f64()
    };
    run(cores); // warm up
    let t1 = run(1);
    let tn = run(cores);
    println!("bulk clean of {n} pages ({mb:.1} MB):");
    println!("  1 thread   {:>8.0} pages/s  {t1:.2} s", n as f64 / t1);
    println!(
        "  {cores} threads  {:>8.0} pages/s  {tn:.2} s",
        n as f64 / tn
    );
    println!("  speed-up   {:.2}× on {cores} cores", t1 / tn);

    if args.iter().any(|a| a == "--skip-warc") {
        return;
    }
    // Part 2: a large WARC through the real binary; peak RSS of the child.
    let target_mb = arg("--warc-mb").unwrap_or(1024);
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("big.warc");
    let start = Instant::now();
    let mut w = WarcWriter::new(
        std::io::BufWriter::new(std::fs::File::create(&warc).unwrap()),
        false,
        "big.warc",
        "2026-11-25T08:00:00Z",
    )
    .unwrap();
    let mut written = 0u64;
    let mut count = 0usize;
    while written < target_mb * 1024 * 1024 {
        let (url, p) = page(&pages, count);
        w.write_exchange(&Exchange {
            url: &url,
            date: "2026-11-25T08:00:00Z",
            ip: Some("127.0.0.1"),
            method: "GET",
            request_headers: &[],
            status: 200,
            reason: "OK",
            response_headers: &[("Content-Type".into(), p.content_type.clone())],
            body: &p.body,
        })
        .unwrap();
        written += p.body.len() as u64 + 700;
        count += 1;
    }
    drop(w.into_inner());
    let size = std::fs::metadata(&warc).unwrap().len();
    println!(
        "\nWARC of {count} responses, {:.0} MB, written in {:.1} s",
        size as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );

    let mut bins: Vec<std::path::PathBuf> = args
        .windows(2)
        .filter(|w| w[0] == "--bin")
        .map(|w| std::path::PathBuf::from(&w[1]))
        .collect();
    if bins.is_empty() {
        bins.push(
            std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
                .join("release/parkcrawl"),
        );
    }
    for bin in bins {
        if !bin.exists() {
            println!("(build the binary first: cargo build --release)");
            return;
        }
        println!("\nbinary: {}", bin.display());
        let two_pass = clean_warc(&bin, &warc, &[], count, size);
        let help = std::process::Command::new(&bin)
            .args(["clean", "--help"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&help.stdout).contains("--keep-repeated") {
            let one_pass = clean_warc(&bin, &warc, &["--keep-repeated"], count, size);
            println!(
                "two passes (repeated-block) / one pass (--keep-repeated): {:.3}× the time",
                two_pass / one_pass
            );
        }
    }
}

/// `parkcrawl clean WARC -o /dev/null` and its wall time, pages/s and peak
/// RSS. Returns the wall time in seconds.
fn clean_warc(bin: &Path, warc: &Path, extra: &[&str], count: usize, size: u64) -> f64 {
    let start = Instant::now();
    let mut child = std::process::Command::new(bin)
        .arg("clean")
        .arg(warc)
        .args(["-o", "/dev/null"])
        .args(extra)
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "clean of the WARC{}: {status}, {secs:.1} s, {:.0} pages/s, {:.0} MB/s, peak RSS {:.0} MB",
        if extra.is_empty() {
            String::new()
        } else {
            format!(" ({})", extra.join(" "))
        },
        count as f64 / secs,
        size as f64 / 1e6 / secs,
        peak_kb as f64 / 1024.0
    );
    secs
}
