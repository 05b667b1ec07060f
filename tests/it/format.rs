//! `--format`: whole expected outputs of every format for the seed article
//! and a park page (`fixtures/formats/`), tombstones in every format after
//! a recrawl that finds a page gone, and the `es-bulk` output read against
//! the `_bulk` API's grammar.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::crawl::{Run, crawl};
use crate::support::server::{Hit, Reply, Server};
use crate::support::{self, assert_matches_text, portable, records, run};

const SEED: &str = "sh.taxs.vip/news-5101.html";
const PARK: &str = "sh.taxs.vip/park-2428.html";
/// The seed article's id (a hash of its URL).
const SEED_ID: &str = "e20126328932a8c3";

fn snapshot(name: &str) -> PathBuf {
    support::fixtures().join("formats").join(name)
}

fn page(file: &str) -> support::Page {
    support::manifest()
        .into_iter()
        .find(|p| p.file == file)
        .unwrap_or_else(|| panic!("{file} is not in the manifest"))
}

fn stem(file: &str) -> &str {
    let name = file.rsplit('/').next().unwrap();
    name.strip_suffix(".html").unwrap()
}

/// `clean` of one fixture in `format`, with more arguments: its stdout.
fn clean(p: &support::Page, format: &str, more: &[&str]) -> String {
    let mut args = p.clean_args();
    args.extend(["--format".into(), format.into()]);
    args.extend(more.iter().map(|s| s.to_string()));
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{format}: {stderr}");
    // Nothing but the summary line.
    assert_eq!(
        stderr, "parkcrawl: done: 1 record(s) written, 0 input(s) failed\n",
        "{format}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_format_of_the_seed_article_and_a_park_page() {
    for file in [SEED, PARK] {
        let p = page(file);
        let stem = stem(file);
        // JSON Lines is the record itself, as its expected file has it.
        let jsonl = clean(&p, "jsonl", &[]);
        let rec = records(jsonl.as_bytes()).remove(0);
        support::assert_matches_expected(&portable(rec.clone()), &p.expected_path());
        let id = rec["id"].as_str().unwrap();

        for (format, ext, more) in [
            ("es-bulk", "ndjson", &["--index", "parkcrawl"][..]),
            ("typesense", "jsonl", &[][..]),
            ("meili", "ndjson", &[][..]),
        ] {
            let out = clean(&p, format, more);
            assert_matches_text(&out, &snapshot(&format!("{stem}.{format}.{ext}")));
        }
        for (format, ext) in [("markdown", "md"), ("html", "html")] {
            let dir = tempfile::tempdir().unwrap();
            let out_dir = dir.path().join("site");
            let out = clean(&p, format, &["-o", out_dir.to_str().unwrap()]);
            assert_eq!(out, "", "{format}: nothing on stdout");
            // One file, named by the record's id.
            assert_eq!(files(&out_dir), [format!("{id}.{ext}")], "{format}");
            let text = std::fs::read_to_string(out_dir.join(format!("{id}.{ext}"))).unwrap();
            assert_matches_text(&text, &snapshot(&format!("{stem}.{ext}")));
        }
    }
}

/// The names of the files in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The fixture site's sh.taxs.vip pages at their URLs; a path in `gone`
/// answers 404.
pub(crate) fn fixture_site(gone: Arc<Mutex<HashSet<String>>>) -> Server {
    let pages: Vec<support::Page> = support::manifest()
        .into_iter()
        .filter(|p| {
            p.url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://sh.taxs.vip/"))
        })
        .collect();
    Server::start(move |hit: &Hit| {
        if gone.lock().unwrap().contains(&hit.path) {
            return Reply::status(404);
        }
        let url = format!("http://sh.taxs.vip{}", hit.path);
        match pages.iter().find(|p| p.url.as_deref() == Some(&url)) {
            Some(p) => Reply::new(
                200,
                p.content_type.as_deref().unwrap_or("text/html"),
                std::fs::read(p.path()).unwrap(),
            ),
            None => Reply::status(404),
        }
    })
}

/// A crawl of the fixture site with a state, in `format` to `out`, then
/// (after `gone` is filled) a recrawl of every page.
pub(crate) struct Recrawl {
    pub server: Server,
    pub gone: Arc<Mutex<HashSet<String>>>,
    pub dir: tempfile::TempDir,
}

impl Recrawl {
    pub fn new() -> Recrawl {
        let gone = Arc::new(Mutex::new(HashSet::new()));
        Recrawl {
            server: fixture_site(gone.clone()),
            gone,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// One run of the crawl (the first, or a recrawl of every page).
    pub fn run(&self, format: &str, out: &Path, more: &[&str]) -> Run {
        let state = self.path("state.db");
        let mut args = vec![
            "http://sh.taxs.vip/",
            "--max-depth",
            "1",
            "--rate",
            "0",
            "--recrawl-after",
            "0s",
            "--state",
            state.to_str().unwrap(),
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(more);
        let run = crawl(&self.server, &["sh.taxs.vip"], &args);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        run
    }

    /// The seed article answers 404 from now on.
    pub fn delete_seed(&self) {
        let path = "/news/view.html?id=5101".to_string();
        self.gone.lock().unwrap().insert(path);
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every search format writes the seed's tombstone where its README recipe
/// applies deletes; the publishing formats remove the seed's file.
#[test]
fn a_recrawl_that_finds_a_page_gone_writes_its_delete_in_every_format() {
    for (format, more) in [
        ("jsonl", &[][..]),
        ("es-bulk", &["--index", "parkcrawl"][..]),
        ("typesense", &[][..]),
        ("meili", &[][..]),
    ] {
        let c = Recrawl::new();
        let first = c.path("first.out");
        c.run(format, &first, more);
        assert!(
            read(&first).contains(SEED_ID),
            "{format}: the seed is written"
        );
        c.delete_seed();
        let second = c.path("second.out");
        let r = c.run(format, &second, more);
        assert!(r.stderr.contains("1 deleted"), "{format}: {}", r.stderr);
        let out = read(&second);
        let deletes = c.path("second.out.deletes");
        if matches!(format, "typesense" | "meili") {
            // Nothing changed: the output has no document, the deletes file
            // the seed's id.
            assert_eq!(out, "", "{format}");
            let d = read(&deletes);
            assert_matches_text(&d, &snapshot(&format!("tombstone.{format}.deletes")));
            assert_eq!(d, format!("{SEED_ID}\n"), "{format}");
        } else {
            assert!(!deletes.exists(), "{format}: no deletes file");
            let out = if format == "jsonl" {
                mask_deleted_at(&out)
            } else {
                out
            };
            assert_matches_text(&out, &snapshot(&format!("tombstone.{format}")));
        }
    }
    for (format, ext) in [("markdown", "md"), ("html", "html")] {
        let c = Recrawl::new();
        let site = c.path("site");
        c.run(format, &site, &[]);
        let before = files(&site);
        assert!(before.contains(&format!("{SEED_ID}.{ext}")), "{before:?}");
        c.delete_seed();
        c.run(format, &site, &[]);
        let after = files(&site);
        let want: Vec<String> = before
            .into_iter()
            .filter(|f| *f != format!("{SEED_ID}.{ext}"))
            .collect();
        assert_eq!(after, want, "{format}: the seed's file alone is gone");
    }
}

fn mask_deleted_at(jsonl: &str) -> String {
    records(jsonl.as_bytes())
        .into_iter()
        .map(|mut r| {
            assert!(r["deleted_at"].as_str().unwrap().ends_with('Z'), "{r}");
            r["deleted_at"] = "<deleted_at>".into();
            serde_json::to_string(&r).unwrap() + "\n"
        })
        .collect()
}

/// What the `_bulk` API accepts (its documented NDJSON grammar): each
/// action line is an object of one key, `index`, `create`, `update` or
/// `delete`, naming `_id` (and `_index`, when given); `index`, `create` and
/// `update` are followed by their source line (an object); `delete` is not;
/// every line ends in a newline, the last one too; no line is empty.
/// Returns the (action, id) pairs.
fn bulk_actions(ndjson: &str, index: &str) -> Vec<(String, String)> {
    assert!(
        ndjson.is_empty() || ndjson.ends_with('\n'),
        "a trailing newline"
    );
    let mut lines = ndjson.split_terminator('\n').enumerate();
    let mut actions = Vec::new();
    while let Some((n, line)) = lines.next() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {n}: {e}"));
        let obj = v
            .as_object()
            .unwrap_or_else(|| panic!("line {n}: not an object"));
        assert_eq!(obj.len(), 1, "line {n}: one action: {line}");
        let (verb, meta) = obj.iter().next().unwrap();
        assert!(
            ["index", "create", "update", "delete"].contains(&verb.as_str()),
            "line {n}: {verb} is no bulk action"
        );
        assert_eq!(meta["_index"], index, "line {n}");
        let id = meta["_id"]
            .as_str()
            .unwrap_or_else(|| panic!("line {n}: _id"));
        if verb != "delete" {
            let (m, source) = lines
                .next()
                .unwrap_or_else(|| panic!("line {n}: no source"));
            let doc: Value =
                serde_json::from_str(source).unwrap_or_else(|e| panic!("line {m}: {e}"));
            assert!(doc.is_object(), "line {m}: the source is an object");
            let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
            assert!(
                !["index", "create", "update", "delete"].contains(&keys[0].as_str())
                    || keys.len() > 1,
                "line {m}: an action where the source should be"
            );
            assert_eq!(
                doc["id"], id,
                "line {m}: the source is the action's document"
            );
        }
        actions.push((verb.clone(), id.to_string()));
    }
    actions
}

#[test]
fn es_bulk_output_follows_the_bulk_grammar() {
    let c = Recrawl::new();
    let first = c.path("first.ndjson");
    let run = c.run("es-bulk", &first, &["--index", "parks"]);
    let actions = bulk_actions(&read(&first), "parks");
    let mut ids: Vec<String> = actions.iter().map(|(_, id)| id.clone()).collect();
    ids.sort();
    // One index action per page the crawl wrote.
    assert!(actions.iter().all(|(v, _)| v == "index"), "{actions:?}");
    assert!(ids.contains(&SEED_ID.to_string()), "{ids:?}");
    assert!(ids.len() >= 5, "{ids:?}: {}", run.stderr);
    ids.dedup();
    assert_eq!(ids.len(), actions.len(), "each page once");

    c.delete_seed();
    let second = c.path("second.ndjson");
    c.run("es-bulk", &second, &["--index", "parks"]);
    assert_eq!(
        bulk_actions(&read(&second), "parks"),
        [("delete".to_string(), SEED_ID.to_string())]
    );
}

/// A directory run goes through the spill file and its second pass
/// (`repeated-block`): every format gets the records that pass writes.
#[test]
fn a_directory_run_writes_its_second_pass_records_in_any_format() {
    let dir = support::fixtures().join("sh.taxs.vip");
    let dir = dir.to_str().unwrap();
    let jsonl = run(&["clean".into(), dir.into()]);
    assert!(jsonl.status.success());
    let recs = records(&jsonl.stdout);
    assert!(recs.len() >= 5);
    let ids: Vec<(String, String)> = recs
        .iter()
        .map(|r| ("index".to_string(), r["id"].as_str().unwrap().to_string()))
        .collect();

    let bulk = run(&[
        "clean".into(),
        dir.into(),
        "--format".into(),
        "es-bulk".into(),
        "--index".into(),
        "parks".into(),
    ]);
    assert!(bulk.status.success());
    let bulk = String::from_utf8(bulk.stdout).unwrap();
    assert_eq!(bulk_actions(&bulk, "parks"), ids);
    let sources: Vec<Value> = bulk
        .lines()
        .skip(1)
        .step_by(2)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (rec, doc) in recs.iter().zip(&sources) {
        assert_eq!(doc["text"], rec["text"], "{}", rec["url"]);
        assert_eq!(doc["content_hash"], rec["content_hash"], "{}", rec["url"]);
    }

    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let html = run(&[
        "clean".into(),
        dir.into(),
        "--format".into(),
        "html".into(),
        "-o".into(),
        site.display().to_string(),
    ]);
    assert!(html.status.success());
    let mut want: Vec<String> = ids.iter().map(|(_, id)| format!("{id}.html")).collect();
    want.sort();
    assert_eq!(files(&site), want);
}

/// `input` names each record's file as the run found it (under the
/// directory given, as given), and standard input as `-`.
#[test]
fn records_name_the_file_they_came_from() {
    let tmp = tempfile::tempdir().unwrap();
    let saved = tmp.path().join("存档");
    std::fs::create_dir(&saved).unwrap();
    // Two saved copies of one page: the same canonical URL, so the same
    // `url` and `id`; only `input` tells them apart.
    let html = std::fs::read_to_string(page(SEED).path()).unwrap();
    let link = r#"<head><link rel="canonical" href="http://sh.taxs.vip/news/view.html?id=5101">"#;
    let html = html.replacen("<head>", link, 1);
    for name in ["a.html", "b.htm"] {
        std::fs::write(saved.join(name), &html).unwrap();
    }
    let arg = saved.display().to_string();
    let out = run(&["clean".into(), arg.clone(), "--keep-repeated".into()]);
    assert!(out.status.success());
    let recs = records(&out.stdout);
    let inputs: Vec<&Value> = recs.iter().map(|r| &r["input"]).collect();
    assert_eq!(
        inputs,
        [
            &serde_json::json!({"file": format!("{arg}/a.html")}),
            &serde_json::json!({"file": format!("{arg}/b.htm")}),
        ]
    );
    assert_eq!(recs[0]["id"], SEED_ID);
    assert_eq!(recs[1]["id"], SEED_ID);

    let mut child = support::bin()
        .args([
            "clean",
            "-",
            "--url",
            "http://sh.taxs.vip/news/view.html?id=5101",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(page(SEED).path()).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        records(&out.stdout)[0]["input"],
        serde_json::json!({"file": "-"})
    );
}

#[test]
fn formats_refuse_what_cannot_work_before_reading_anything() {
    let p = page(SEED);
    for (more, want) in [
        (
            &["--format", "markdown"][..],
            "parkcrawl: --format: markdown writes a directory, one file per record: give -o DIR\n",
        ),
        (
            &["--format", "meili", "--index", "x"][..],
            "parkcrawl: --format: --index names the index of es-bulk actions, not of meili\n",
        ),
        (
            &["--format", "es-bulk", "--index", "Parks"][..],
            "parkcrawl: --format: --index Parks: must be lower case\n",
        ),
    ] {
        let mut args = p.clean_args();
        args.extend(more.iter().map(|s| s.to_string()));
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(String::from_utf8_lossy(&out.stderr), want);
        assert!(out.stdout.is_empty());
    }
}
