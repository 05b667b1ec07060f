//! Hostile pages: every known class of markup that once panicked, hung or
//! blew up the cleaner, mixed with ordinary pages, through each way pages
//! come in (a directory, a WARC, a crawl with `--state`). Each gives its
//! record or one error line naming it; nothing panics; the other pages
//! come out whole. And a real panic, injected at the `clean` fail point,
//! costs its page only.
//!
//! The reproducers are generated (some are megabytes); their expected
//! records are whole JSON files under `fixtures/hostile/`
//! (`PARKCRAWL_BLESS=1` rewrites them: review the diff).

use std::path::{Path, PathBuf};

use parkcrawl::warc::{Exchange, WarcWriter};
use serde_json::Value;

use crate::crawl::{SpawnPiped, crawl, errors_file, finish};
use crate::state::status_json;
use crate::support::server::{Hit, Reply, Server};
use crate::support::{self, records};

const HOST: &str = "hostile.test";

/// A reproducer: its file name, its bytes, and whether it must clean to a
/// record (else: one error line whose message holds this text).
struct Case {
    name: &'static str,
    html: Vec<u8>,
    refused: Option<&'static str>,
}

/// An article page of its own words (no block shared with another case, so
/// cross-page boilerplate removal leaves every record as it is).
fn article(name: &str, head: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <link rel=\"canonical\" href=\"http://{HOST}/{name}.html\">{head}\
         <title>{name}</title></head><body><h1>{name}：园区动态</h1>\
         <div class=\"content\"><p>{body}</p><p>本页编号 {name}，用于验证清洗在恶意标记下仍然完整。</p></div></body></html>"
    )
}

fn cases() -> Vec<Case> {
    let ok = |name, html: String| Case {
        name,
        html: html.into_bytes(),
        refused: None,
    };
    let deep = |name, html: String| Case {
        name,
        html: html.into_bytes(),
        refused: Some("markup nested deeper than 1024 elements"),
    };
    let many_attrs: String = (0..220_000).map(|i| format!(" a{i}=\"\"")).collect();
    let mut binary: Vec<u8> = (0u32..20_000)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    binary.extend_from_slice(
        format!("<link rel=canonical href=\"http://{HOST}/binary.html\">").as_bytes(),
    );
    vec![
        ok(
            "plain",
            article(
                "plain",
                "",
                "闵行区今年新增三家产业园区，招商工作稳步推进。",
            ),
        ),
        ok(
            "broken-quote",
            article(
                "broken-quote",
                r#"<meta name="description" content="…龙湖集团" 暗伤"曝露？"="">"#,
                "龙湖集团项目公告，引号错乱的属性名里有中文。",
            ),
        ),
        ok(
            "german-junk",
            article(
                "german-junk",
                "",
                "Die Stadt <span kündigt=\"\" ö=1>kündigt</span> neue Parks an, 松江区跟进。",
            ),
        ),
        ok(
            "many-attributes",
            article(
                "many-attributes",
                "",
                &format!("<span{many_attrs}>二十二万个属性</span>"),
            ),
        ),
        ok(
            "megabyte-attribute",
            article(
                "megabyte-attribute",
                "",
                &format!(
                    "<span title=\"{}\">一兆字节的属性值</span>",
                    "长".repeat(350_000)
                ),
            ),
        ),
        ok(
            "quote-run",
            article(
                "quote-run",
                "",
                &format!(
                    "<span class=\"a\"{}>引号连串</span>",
                    "\"".repeat(2_000_000)
                ),
            ),
        ),
        ok(
            "fullwidth-offset",
            article(
                "fullwidth-offset",
                r#"<meta property="article:published_time" content="２０１９-０３-０５T10:30:00+０８：００">"#,
                "全角数字的时区。",
            ),
        ),
        ok(
            "dash-time",
            article(
                "dash-time",
                r#"<meta name="publishdate" content="2007-08-20-23:59:59">"#,
                "日期与时间之间用短横线连接。",
            ),
        ),
        Case {
            name: "binary",
            html: binary,
            refused: Some("binary content (NUL bytes), not an HTML page"),
        },
        deep(
            "self-closing-flood",
            article("self-closing-flood", "", &"<div/>".repeat(30_000)),
        ),
        // The pre-parse scan counts one level per table; html5ever builds
        // four (table, tbody, tr, td): only the tree's depth tells.
        deep(
            "table-soup",
            article("table-soup", "", &"<table><tr><td>".repeat(400)),
        ),
        deep(
            "list-soup",
            article("list-soup", "", &"<ul><li>".repeat(600)),
        ),
    ]
}

fn write_cases(dir: &Path) -> Vec<Case> {
    let cases = cases();
    for c in &cases {
        std::fs::write(dir.join(format!("{}.html", c.name)), &c.html).unwrap();
    }
    cases
}

fn expected_path(name: &str) -> PathBuf {
    support::fixtures()
        .join("hostile")
        .join(format!("{name}.expected.json"))
}

/// The case a record is of, by its URL.
fn case_of(rec: &Value) -> String {
    let url = rec["url"].as_str().unwrap();
    url.strip_prefix(&format!("http://{HOST}/"))
        .and_then(|p| p.strip_suffix(".html"))
        .unwrap_or_else(|| panic!("record of an unknown page: {url}"))
        .to_string()
}

/// The record without what the transport adds (a WARC's or a crawl's
/// `fetch`, the file's or WARC record's `input`), so that every way in
/// compares with one expected record.
fn without_fetch(mut v: Value) -> Value {
    v["fetch"] = Value::Null;
    v["input"] = Value::Null;
    v
}

/// Every good case gave exactly its expected record, in input order.
fn assert_records(recs: &[Value], cases: &[Case], order: &[&str]) {
    let names: Vec<String> = recs.iter().map(case_of).collect();
    let want: Vec<&str> = order
        .iter()
        .copied()
        .filter(|n| cases.iter().any(|c| c.name == *n && c.refused.is_none()))
        .collect();
    assert_eq!(names, want);
    for rec in recs {
        support::assert_matches_expected(
            &without_fetch(rec.clone()),
            &expected_path(&case_of(rec)),
        );
    }
}

/// Input order of a directory run: sorted file names.
fn sorted(cases: &[Case]) -> Vec<&'static str> {
    let mut n: Vec<&str> = cases.iter().map(|c| c.name).collect();
    n.sort();
    n
}

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_directory_of_hostile_pages_gives_each_good_page_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_cases(dir.path());
    for jobs in ["1", "2"] {
        let out = support::bin()
            .args(["clean", dir.path().to_str().unwrap(), "-j", jobs])
            .output()
            .unwrap();
        let err = stderr_lines(&out);
        assert_eq!(out.status.code(), Some(1), "-j {jobs}: {err:?}");
        assert_records(&records(&out.stdout), &cases, &sorted(&cases));
        // One line per refused page, naming it, then the summary.
        let refused: Vec<&Case> = cases.iter().filter(|c| c.refused.is_some()).collect();
        assert_eq!(err.len(), refused.len() + 1, "{err:?}");
        for c in &refused {
            let path = dir.path().join(format!("{}.html", c.name));
            let line = format!("parkcrawl: {}: {}", path.display(), c.refused.unwrap());
            assert!(err.contains(&line), "missing {line:?} in {err:?}");
        }
        let good = cases.len() - refused.len();
        assert_eq!(
            err.last().unwrap(),
            &format!(
                "parkcrawl: done: {good} record(s) written, {} input(s) failed",
                refused.len()
            )
        );
    }
}

#[test]
fn a_warc_of_hostile_pages_gives_each_good_page_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    let warc = dir.path().join("hostile.warc.gz");
    let mut w = WarcWriter::new(
        std::fs::File::create(&warc).unwrap(),
        true,
        "hostile.warc.gz",
        "2026-12-01T08:00:00Z",
    )
    .unwrap();
    for c in &cases {
        w.write_exchange(&Exchange {
            url: &format!("http://{HOST}/{}.html", c.name),
            date: "2026-12-01T08:00:00Z",
            ip: Some("127.0.0.1"),
            method: "GET",
            request_headers: &[],
            status: 200,
            reason: "OK",
            response_headers: &[("Content-Type".into(), "text/html".into())],
            body: &c.html,
        })
        .unwrap();
    }
    drop(w);
    let out = support::run(&["clean".into(), warc.display().to_string()]);
    let err = stderr_lines(&out);
    assert_eq!(out.status.code(), Some(1), "{err:?}");
    let order: Vec<&str> = cases.iter().map(|c| c.name).collect();
    assert_records(&records(&out.stdout), &cases, &order);
    for c in cases.iter().filter(|c| c.refused.is_some()) {
        let uri = format!("http://{HOST}/{}.html", c.name);
        assert!(
            err.iter().any(
                |l| l.starts_with(&format!("parkcrawl: {} at offset ", warc.display()))
                    && l.contains(&format!(" {uri}: "))
                    && l.ends_with(c.refused.unwrap())
            ),
            "no error line for {uri}: {err:?}"
        );
    }
}

/// The crawl of the hostile site: its index and the pages it links, with
/// a state and an errors file.
fn crawl_args(state: &Path, errors: &Path) -> Vec<String> {
    let path = |p: &Path| p.display().to_string();
    vec![
        format!("http://{HOST}/"),
        "--rate".into(),
        "100".into(),
        "--max-depth".into(),
        "1".into(),
        "--state".into(),
        path(state),
        "--errors".into(),
        path(errors),
    ]
}

fn hostile_site(cases: &[Case]) -> Server {
    let pages: Vec<(String, Vec<u8>)> = cases
        .iter()
        .map(|c| (format!("/{}.html", c.name), c.html.clone()))
        .collect();
    Server::start(move |hit: &Hit| {
        if hit.path == "/" {
            let links: Vec<&str> = pages.iter().map(|(p, _)| p.as_str()).collect();
            return Reply::page("hostile index", &links);
        }
        match pages.iter().find(|(p, _)| *p == hit.path) {
            Some((_, body)) => Reply::html(body.clone()),
            None => Reply::status(404),
        }
    })
}

#[test]
fn a_crawl_of_hostile_pages_fails_the_bad_ones_in_its_state() {
    let cases = cases();
    let server = hostile_site(&cases);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let errors = dir.path().join("errors.jsonl");
    let args = crawl_args(&state, &errors);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = crawl(&server, &[HOST], &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    // The index page is a hub with no record of its own kind to check here.
    let recs: Vec<Value> = run
        .records
        .iter()
        .filter(|r| r["url"] != format!("http://{HOST}/"))
        .cloned()
        .collect();
    let mut names: Vec<String> = recs.iter().map(case_of).collect();
    names.sort();
    let mut good: Vec<&str> = cases
        .iter()
        .filter(|c| c.refused.is_none())
        .map(|c| c.name)
        .collect();
    good.sort();
    assert_eq!(names, good);
    for rec in &recs {
        support::assert_matches_expected(
            &without_fetch(rec.clone()),
            &expected_path(&case_of(rec)),
        );
    }
    let errs = errors_file(&errors);
    let refused: Vec<&Case> = cases.iter().filter(|c| c.refused.is_some()).collect();
    assert_eq!(errs.len(), refused.len(), "{errs:?}");
    for c in &refused {
        let url = format!("http://{HOST}/{}.html", c.name);
        let e = errs.iter().find(|e| e["url"] == url).expect(&url);
        assert_eq!(e["error_kind"], "content", "{e}");
        assert_eq!(e["message"], c.refused.unwrap(), "{e}");
    }
    let st = status_json(&state);
    assert_eq!(st["pages"]["failed"], refused.len(), "{st}");
    assert_eq!(st["pages"]["fetching"], 0, "{st}");
    assert_eq!(st["pages"]["queued"], 0, "{st}");
}

/// The `clean` fail point panics on the third page cleaned: that page is one
/// `internal error` line, the others come out unchanged and in order, and
/// the run ends (with two workers it once hung for good).
#[test]
fn an_injected_panic_costs_one_page_of_a_directory_run() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = write_cases(dir.path())
        .into_iter()
        .filter(|c| c.refused.is_none())
        .collect();
    for c in cases_refused(&dir) {
        std::fs::remove_file(c).unwrap();
    }
    for jobs in ["1", "2"] {
        let child = support::bin()
            .args(["clean", dir.path().to_str().unwrap(), "-j", jobs])
            .env("FAILPOINTS", "clean=2*off->1*panic(injected fault)->off")
            .spawn_piped();
        let run = finish(child, std::time::Duration::from_secs(120));
        assert_eq!(run.code, 1, "-j {jobs}: {}", run.stderr);
        let err: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(err.len(), 2, "{err:?}");
        let lost = cases
            .iter()
            .find(|c| {
                let path = dir.path().join(format!("{}.html", c.name));
                err[0].starts_with(&format!(
                    "parkcrawl: {}: internal error: injected fault (at ",
                    path.display()
                ))
            })
            .unwrap_or_else(|| panic!("the error line names no page: {err:?}"));
        let order: Vec<&str> = sorted(&cases)
            .into_iter()
            .filter(|n| *n != lost.name)
            .collect();
        assert_records(&run.records, &cases, &order);
        assert_eq!(
            err[1],
            format!(
                "parkcrawl: done: {} record(s) written, 1 input(s) failed",
                cases.len() - 1
            )
        );
    }
}

fn cases_refused(dir: &tempfile::TempDir) -> Vec<PathBuf> {
    cases()
        .iter()
        .filter(|c| c.refused.is_some())
        .map(|c| dir.path().join(format!("{}.html", c.name)))
        .collect()
}

/// In a crawl with `--state`, the panicking page is failed (kind
/// `internal`), not left `fetching`; the others give their records.
#[test]
fn an_injected_panic_in_a_crawl_fails_that_page_only() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.refused.is_none())
        .collect();
    let server = hostile_site(&cases);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let errors = dir.path().join("errors.jsonl");
    let mut cmd = support::bin();
    cmd.arg("crawl")
        .args(crawl_args(&state, &errors))
        .args(server.resolve(&[HOST]))
        .env("FAILPOINTS", "clean=3*off->1*panic(injected fault)->off");
    let run = finish(cmd.spawn_piped(), std::time::Duration::from_secs(120));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errs = errors_file(&errors);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["error_kind"], "internal");
    let message = errs[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("internal error: injected fault (at "),
        "{message}"
    );
    let lost = errs[0]["url"].as_str().unwrap();
    assert!(
        run.stderr
            .lines()
            .any(|l| l == format!("parkcrawl: {lost}: failed (internal): {message}")),
        "{}",
        run.stderr
    );
    // Every other page (the index included) gave its record.
    let mut urls = run.urls();
    urls.push(lost.to_string());
    urls.sort();
    let mut want: Vec<String> = cases
        .iter()
        .map(|c| format!("http://{HOST}/{}.html", c.name))
        .chain([format!("http://{HOST}/")])
        .collect();
    want.sort();
    assert_eq!(urls, want);
    let st = status_json(&state);
    assert_eq!(st["pages"]["failed"], 1, "{st}");
    assert_eq!(st["pages"]["fetching"], 0, "{st}");
}
