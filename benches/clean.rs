//! Benchmark of `clean` over the fixture pages: pages/s and MB/s of the whole
//! pipeline (decode → parse → clean → extract → JSON), beside html5ever
//! parsing alone on the same bytes (via scraper's tree builder, the parser
//! the pipeline uses), so the cleaner's overhead over bare parsing shows.
//!
//! Run: `cargo bench --bench clean` (add `-- --seconds N` to run longer).

use std::time::{Duration, Instant};

use parkcrawl::clean::{self, decode};
use parkcrawl::rules::RuleSet;

struct Page {
    bytes: Vec<u8>,
    url: Option<url::Url>,
    content_type: Option<String>,
}

fn main() {
    let seconds: f64 = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("manifest.toml")).unwrap()).unwrap();
    let pages: Vec<Page> = manifest["page"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Page {
            bytes: std::fs::read(root.join(p["file"].as_str().unwrap())).unwrap(),
            url: p.get("url").and_then(|u| url::Url::parse(u.as_str()?).ok()),
            content_type: p
                .get("content_type")
                .and_then(|c| c.as_str())
                .map(str::to_string),
        })
        .collect();
    let bytes: usize = pages.iter().map(|p| p.bytes.len()).sum();
    let rules = RuleSet::builtin().unwrap();
    println!(
        "{} fixture pages, {:.1} KiB in all; {seconds} s per measurement",
        pages.len(),
        bytes as f64 / 1024.0
    );

    // Both measurements start from text, so decode is timed in the pipeline
    // only (it is part of what `clean` does, and html5ever needs text).
    let texts: Vec<String> = pages
        .iter()
        .map(|p| String::from_utf8_lossy(&p.bytes).into_owned())
        .collect();
    let parse = measure(seconds, || {
        for t in &texts {
            std::hint::black_box(scraper::Html::parse_document(t));
        }
    });
    let full = measure(seconds, || {
        for p in &pages {
            let input = decode::Input {
                name: String::new(),
                bytes: p.bytes.clone(),
                url: p.url.clone(),
                content_type: p.content_type.clone(),
                fetch: None,
            };
            let d = decode::decode(input).unwrap();
            let doc = clean::clean(&d, &rules).unwrap();
            std::hint::black_box(serde_json::to_vec(&doc).unwrap());
        }
    });

    let report = |name: &str, (rounds, time): (u64, Duration)| {
        let per_page = time.as_secs_f64() / (rounds as f64 * pages.len() as f64);
        let mbs = (rounds as f64 * bytes as f64) / time.as_secs_f64() / 1e6;
        println!(
            "{name:<34} {:>9.0} pages/s {:>8.1} MB/s {:>9.1} µs/page",
            1.0 / per_page,
            mbs,
            per_page * 1e6
        );
        per_page
    };
    let p = report("html5ever parse only", parse);
    let f = report("clean (decode→parse→clean→JSON)", full);
    println!(
        "clean / parse time ratio: {:.2}× (cleaning adds {:.0} % over bare parsing)",
        f / p,
        (f / p - 1.0) * 100.0
    );
}

/// Runs `f` repeatedly for about `seconds`; returns (rounds, elapsed).
fn measure(seconds: f64, mut f: impl FnMut()) -> (u64, Duration) {
    f(); // warm up: lazy statics, allocator
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed().as_secs_f64() < seconds {
        f();
        rounds += 1;
    }
    (rounds, start.elapsed())
}
