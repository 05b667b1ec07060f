//! WARC in and out: `clean FILE.warc.gz` gives the records `clean` gives for
//! the same pages as files; an independent reader (warcio) accepts what we
//! write.

use std::path::Path;
use std::process::Command;

use parkcrawl::warc::{Exchange, WarcWriter};
use serde_json::Value;

use crate::support::{self, records, run};

/// Writes every fixture page that has a URL into a WARC, as the crawler
/// archives a response.
fn fixture_warc(path: &Path) -> Vec<support::Page> {
    let pages: Vec<support::Page> = support::manifest()
        .into_iter()
        .filter(|p| p.url.is_some())
        .collect();
    let file = std::fs::File::create(path).unwrap();
    let mut w = WarcWriter::new(file, true, "fixtures.warc.gz", "2026-11-25T08:00:00Z").unwrap();
    for p in &pages {
        let body = std::fs::read(p.path()).unwrap();
        let mut headers = vec![(
            "Date".to_string(),
            "Wed, 25 Nov 2026 08:00:00 GMT".to_string(),
        )];
        if let Some(ct) = &p.content_type {
            headers.push(("Content-Type".into(), ct.clone()));
        } else {
            headers.push(("Content-Type".into(), "text/html".into()));
        }
        w.write_exchange(&Exchange {
            url: p.url.as_deref().unwrap(),
            date: "2026-11-25T08:00:00Z",
            ip: Some("127.0.0.1"),
            method: "GET",
            request_headers: &[("User-Agent".into(), "parkcrawl-test".into())],
            status: 200,
            reason: "OK",
            response_headers: &headers,
            body: &body,
        })
        .unwrap();
    }
    pages
}

/// The record without what says how its bytes came (`fetch`, `input`).
fn without_fetch(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("fetch");
    v.as_object_mut().unwrap().remove("input");
    v
}

#[test]
fn clean_of_a_warc_equals_clean_of_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("site.warc.gz");
    let pages = fixture_warc(&warc);
    let out = run(&[
        "clean".into(),
        warc.display().to_string(),
        "--jobs".into(),
        "2".into(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_warc = records(&out.stdout);
    assert_eq!(from_warc.len(), pages.len());
    for (p, rec) in pages.iter().zip(&from_warc) {
        let mut args = p.clean_args();
        if p.content_type.is_none() {
            args.extend(["--content-type".into(), "text/html".into()]);
        }
        let file_rec = records(&run(&args).stdout).remove(0);
        assert_eq!(
            without_fetch(rec.clone()),
            without_fetch(file_rec),
            "{}",
            p.file
        );
        assert_eq!(rec["fetch"]["status"], 200);
        assert_eq!(rec["fetch"]["fetched_at"], "2026-11-25T08:00:00Z");
    }
}

#[test]
fn a_truncated_warc_gives_every_whole_record_and_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("site.warc.gz");
    let pages = fixture_warc(&warc);
    let bytes = std::fs::read(&warc).unwrap();
    let cut = dir.path().join("cut.warc.gz");
    // Cut inside the last request record (the last gzip member).
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    let out = run(&["clean".into(), cut.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(records(&out.stdout).len(), pages.len());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().next().unwrap().contains("cut.warc.gz"), "{err}");
}

/// warcio, installed by this test into its own virtual environment, reads
/// every record and checks every digest. Needs python3 with venv and PyPI (a
/// package registry): without them the test is skipped, saying why, unless
/// `PARKCRAWL_REQUIRE_WARCIO=1` (CI sets it), which makes that a failure.
#[test]
fn warcio_accepts_our_warc() {
    let venv = match warcio_venv() {
        Ok(v) => v,
        Err(why) if std::env::var_os("PARKCRAWL_REQUIRE_WARCIO").is_none() => {
            eprintln!("warcio test skipped: {why} (PARKCRAWL_REQUIRE_WARCIO=1 makes it fail)");
            return;
        }
        Err(why) => panic!("warcio is required here: {why}"),
    };
    let python = venv.join("bin/python");
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("site.warc.gz");
    let pages = fixture_warc(&warc);
    let out = Command::new(venv.join("bin/warcio"))
        .args(["check", "-v"])
        .arg(&warc)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "warcio check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = r#"
import sys
from warcio.archiveiterator import ArchiveIterator
n = {}
with open(sys.argv[1], 'rb') as f:
    for rec in ArchiveIterator(f):
        n[rec.rec_type] = n.get(rec.rec_type, 0) + 1
        rec.content_stream().read()
print(n.get('warcinfo', 0), n.get('response', 0), n.get('request', 0))
"#;
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&warc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = pages.len();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("1 {n} {n}")
    );

    // Record offsets, as warcio gives them, for the gzip file and for the
    // same records uncompressed: ours name a page's record in error lines.
    let plain = dir.path().join("site.warc");
    let mut gz = flate2::read::MultiGzDecoder::new(std::fs::File::open(&warc).unwrap());
    std::io::copy(&mut gz, &mut std::fs::File::create(&plain).unwrap()).unwrap();
    let offsets = r#"
import sys
from warcio.archiveiterator import ArchiveIterator
with open(sys.argv[1], 'rb') as f:
    it = ArchiveIterator(f)
    for rec in it:
        rec.content_stream().read()
        print(it.get_record_offset())
"#;
    for file in [&warc, &plain] {
        let out = Command::new(&python)
            .arg("-c")
            .arg(offsets)
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Vec<u64> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect();
        let mut reader =
            parkcrawl::warc::WarcReader::new(std::fs::File::open(file).unwrap(), 1 << 30).unwrap();
        let mut ours = Vec::new();
        let mut responses = Vec::new();
        while let Some(rec) = reader.next_record().unwrap() {
            ours.push(rec.offset);
            if rec.warc_type == "response" {
                responses.push(rec.offset);
            }
        }
        assert_eq!(ours.len(), 1 + 2 * n);
        assert_eq!(ours, theirs, "{}", file.display());

        assert_inputs_are(file, &responses);
    }
}

/// Each record of `clean WARC` names the WARC and its response record's
/// offset, in order: `offsets`, as warcio gives them.
fn assert_inputs_are(warc: &Path, offsets: &[u64]) {
    let name = warc.display().to_string();
    let out = run(&["clean".into(), name.clone(), "--keep-repeated".into()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inputs: Vec<Value> = records(&out.stdout)
        .into_iter()
        .map(|r| r["input"].clone())
        .collect();
    let want: Vec<Value> = offsets
        .iter()
        .map(|o| serde_json::json!({"warc": name, "offset": o}))
        .collect();
    assert_eq!(inputs, want, "{name}");
}

/// `target/warcio-venv` with warcio in it, made on first use.
fn warcio_venv() -> Result<std::path::PathBuf, String> {
    let venv = support::root().join("target/warcio-venv");
    let python = venv.join("bin/python");
    let succeeds = |c: &mut Command| c.status().map(|s| s.success()).unwrap_or(false);
    if !python.exists() && !succeeds(Command::new("python3").args(["-m", "venv"]).arg(&venv)) {
        return Err("python3 -m venv failed (is python3 with venv installed?)".into());
    }
    let has = |python: &std::path::Path| {
        succeeds(
            Command::new(python)
                .args(["-c", "import warcio"])
                .stderr(std::process::Stdio::null()),
        )
    };
    if !has(&python)
        && !succeeds(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "warcio==1.8.1",
        ]))
    {
        return Err("pip install warcio==1.8.1 failed (no access to PyPI?)".into());
    }
    Ok(venv)
}
