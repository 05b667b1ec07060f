//! Export benchmark: 100,000 records through `format::RecordWriter` in each
//! `--format`, each format in a child process of this binary, to show that
//! writing streams: the child's peak RSS (`VmHWM`, Linux) after writing
//! every record, beside its peak before the first one (the cleaned page and
//! the rules loaded). One record in a hundred is a tombstone, so deletes
//! (a `delete` action, the deletes file, a file removed) are written too.
//!
//! The records are the park fixture's record under 100,000 ids and URLs.
//! Streams go to `/dev/null`; `markdown` and `html` write their 100,000
//! files into a temporary directory, removed afterwards.
//!
//! Run: `cargo bench --bench export` (`--profile dev` works: memory, not
//! speed, is the point; `-- --records N` for another count).

use std::path::Path;
use std::time::Instant;

use parkcrawl::clean::{self, decode};
use parkcrawl::document::{Document, LineType, Tombstone};
use parkcrawl::format::{Format, Options, RecordWriter};
use parkcrawl::rules::RuleSet;

const FORMATS: [&str; 6] = ["jsonl", "es-bulk", "typesense", "meili", "markdown", "html"];

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn park_record() -> Document {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let bytes = std::fs::read(root.join("sh.taxs.vip/park-2428.html")).unwrap();
    let rules = RuleSet::load(None).unwrap();
    let input = decode::Input {
        name: "park-2428.html".into(),
        bytes,
        url: Some("http://sh.taxs.vip/park/view.html?id=2428".parse().unwrap()),
        content_type: Some("text/html; charset=utf-8".into()),
        fetch: None,
    };
    clean::clean(&decode::decode(input).unwrap(), &rules).unwrap()
}

/// The child: writes `n` records in `format` under `dir`, prints its peak
/// RSS before and after, in KiB.
fn child(format: &str, n: u64, dir: &Path) {
    let format: Format = clap::ValueEnum::from_str(format, false).unwrap();
    let base = park_record();
    let opts = Options {
        format,
        index: (format == Format::EsBulk).then(|| "parkcrawl".to_string()),
        deletes: format.has_deletes_file().then(|| dir.join("deletes")),
    };
    let out = if format.is_dir() {
        dir.join("site")
    } else {
        "/dev/null".into()
    };
    let mut w = RecordWriter::create(opts, Some(&out)).unwrap();
    let before = peak_rss_kib();
    let start = Instant::now();
    let mut doc = base.clone();
    for i in 0..n {
        doc.id = format!("{i:016x}");
        doc.url = format!("http://sh.taxs.vip/park/view.html?id={i}");
        if i % 100 == 99 {
            // A page of the run before, gone now.
            let t = Tombstone {
                line_type: LineType::Tombstone,
                schema_version: 1,
                id: format!("{:016x}", i - 50),
                url: doc.url.clone(),
                deleted: true,
                deleted_at: "2026-11-26T08:00:00Z".into(),
                status: 404,
            };
            w.write(&t).unwrap();
        } else {
            w.write(&doc).unwrap();
        }
    }
    w.flush().unwrap();
    println!(
        "{before} {} {:.2} {}",
        peak_rss_kib(),
        start.elapsed().as_secs_f64(),
        w.written()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let n: u64 = arg("--records").map_or(100_000, |v| v.parse().unwrap());
    if let Some(format) = arg("--child") {
        child(&format, n, Path::new(&arg("--dir").unwrap()));
        return;
    }
    println!("export of {n} records (the park fixture's, 1% tombstones), one child per format:");
    let me = std::env::current_exe().unwrap();
    for format in FORMATS {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(&me)
            .args(["--child", format, "--records", &n.to_string(), "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = line.split_whitespace().collect();
        let (before, after): (f64, f64) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        println!(
            "  {format:<10} {} written in {} s; peak RSS {:.1} MiB before the first record, {:.1} MiB after the last (+{:.1} MiB)",
            f[3],
            f[2],
            before / 1024.0,
            after / 1024.0,
            (after - before) / 1024.0
        );
    }
}
