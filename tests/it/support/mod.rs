//! Shared test support: the binary under test, the fixture manifest, and
//! comparison of whole records.

#![allow(dead_code)]

pub mod fleet;
pub mod pg;
pub mod raw;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;

/// The `parkcrawl` binary cargo built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parkcrawl"))
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// One page of `fixtures/manifest.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Page {
    pub file: String,
    pub url: Option<String>,
    pub content_type: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    page: Vec<Page>,
}

pub fn manifest() -> Vec<Page> {
    let text =
        std::fs::read_to_string(fixtures().join("manifest.toml")).expect("fixtures/manifest.toml");
    toml::from_str::<Manifest>(&text)
        .expect("manifest parses")
        .page
}

impl Page {
    pub fn path(&self) -> PathBuf {
        fixtures().join(&self.file)
    }

    /// `x.html` → `x.expected.json` beside it.
    pub fn expected_path(&self) -> PathBuf {
        let p = self.path();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        p.with_file_name(format!("{stem}.expected.json"))
    }

    /// The `clean` command line for this page, as its server would describe it.
    pub fn clean_args(&self) -> Vec<String> {
        let mut a = vec!["clean".to_string(), self.path().display().to_string()];
        if let Some(u) = &self.url {
            a.extend(["--url".into(), u.clone()]);
        }
        if let Some(ct) = &self.content_type {
            a.extend(["--content-type".into(), ct.clone()]);
        }
        a
    }
}

pub fn run(args: &[String]) -> Output {
    bin().args(args).output().expect("run parkcrawl")
}

/// Parses JSON Lines output.
pub fn records(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(stdout.to_vec())
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Replaces the machine-specific fixtures path in `file://` URLs (and the id
/// hashed from such a URL), so that expected records hold on any checkout.
pub fn portable(mut v: serde_json::Value) -> serde_json::Value {
    let prefix = url::Url::from_file_path(fixtures()).unwrap().to_string();
    // A saved file's id hashes its file:// URL, so it depends on where the
    // checkout lives: check it here, then mask it.
    if let Some(url) = v["url"].as_str().filter(|u| u.starts_with(&prefix))
        && v["canonical_url"].is_null()
    {
        assert_eq!(
            v["id"].as_str().unwrap(),
            parkcrawl::document::page_id(url),
            "id of {url}"
        );
        v["id"] = serde_json::Value::String("<id of the file:// URL>".into());
    }
    // A saved file's `input` names it by the path it was given as.
    let path = fixtures().display().to_string();
    fn walk(v: &mut serde_json::Value, prefixes: &[(&str, &str)]) {
        match v {
            serde_json::Value::String(s) => {
                if let Some((from, to)) = prefixes.iter().find(|(p, _)| s.starts_with(p)) {
                    *s = s.replacen(from, to, 1);
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, prefixes)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, prefixes)),
            _ => {}
        }
    }
    walk(
        &mut v,
        &[(&prefix, "file:///FIXTURES"), (&path, "FIXTURES")],
    );
    v
}

/// Compares a record with its expected JSON file, whole. With
/// `PARKCRAWL_BLESS=1` the file is (re)written instead: review its diff.
pub fn assert_matches_expected(actual: &serde_json::Value, expected: &Path) {
    let pretty = serde_json::to_string_pretty(actual).unwrap() + "\n";
    assert_matches_text(&pretty, expected);
}

/// Compares a whole output with its expected file (a snapshot). With
/// `PARKCRAWL_BLESS=1` the file is (re)written instead: review its diff.
pub fn assert_matches_text(pretty: &str, expected: &Path) {
    if std::env::var_os("PARKCRAWL_BLESS").is_some() {
        if let Some(dir) = expected.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(expected, pretty).unwrap();
        return;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with PARKCRAWL_BLESS=1 and review it",
            expected.display()
        )
    });
    if want != pretty {
        let diff: Vec<String> = want
            .lines()
            .zip(pretty.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(12)
            .map(|(i, (a, b))| format!("line {}:\n  expected: {a}\n  actual:   {b}", i + 1))
            .collect();
        panic!(
            "record differs from {} ({} vs {} lines):\n{}",
            expected.display(),
            want.lines().count(),
            pretty.lines().count(),
            diff.join("\n")
        );
    }
}
