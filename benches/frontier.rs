//! Frontier benchmark: 1,000,000 URLs over 100 hosts through the SQLite
//! state store: enqueue and dequeue throughput, peak RSS of this process
//! (VmHWM) and the state file's size. Memory must stay bounded: the seen-set
//! and the queues live in the file, not in RAM.
//!
//! Run: `cargo bench --bench frontier` (`-- --urls N` to change the count).

use std::time::Instant;

use parkcrawl::crawl::frontier::Entry;
use parkcrawl::store::{StateStore, Visit};

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--urls")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut store = StateStore::open(&path).unwrap();
    let rss_start = peak_rss_mb();

    let t = Instant::now();
    for i in 0..n {
        let url = url::Url::parse(&format!(
            "http://h{}.example.cn/news/view.html?id={i}",
            i % 100
        ))
        .unwrap();
        store.push(Entry::page(url, 1)).unwrap();
    }
    let enqueue = t.elapsed().as_secs_f64();
    // A second push of a known URL is a no-op (the seen-set is the table).
    let t = Instant::now();
    let dup = (0..10_000)
        .filter(|i| {
            let url = url::Url::parse(&format!(
                "http://h{}.example.cn/news/view.html?id={i}",
                i % 100
            ))
            .unwrap();
            store.push(Entry::page(url, 1)).unwrap()
        })
        .count();
    let dedup = t.elapsed().as_secs_f64();
    assert_eq!(dup, 0);

    let t = Instant::now();
    let mut popped = 0usize;
    while let Some(e) = store.pop(&mut |_| true).unwrap() {
        store
            .commit_page(
                &e.url,
                &Visit {
                    emitted: true,
                    ..Default::default()
                },
                None,
            )
            .unwrap();
        popped += 1;
    }
    let dequeue = t.elapsed().as_secs_f64();
    assert_eq!(popped, n);
    drop(store);
    let size: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!("frontier of {n} URLs over 100 hosts (SQLite state file):");
    println!(
        "  enqueue   {:>9.0} URLs/s  ({enqueue:.1} s)",
        n as f64 / enqueue
    );
    println!("  known URL {:>9.0} pushes/s (no-op)", 10_000.0 / dedup);
    println!(
        "  dequeue   {:>9.0} URLs/s  ({dequeue:.1} s, pop + mark done)",
        n as f64 / dequeue
    );
    println!(
        "  peak RSS  {:.0} MB (at start {rss_start:.0} MB)",
        peak_rss_mb()
    );
    println!("  state file {:.0} MB", size as f64 / 1e6);
}
