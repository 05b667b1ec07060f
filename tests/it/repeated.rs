//! Cross-page boilerplate (`repeated-block`): `clean` of many pages of one
//! host (a directory, files, a WARC) and a crawl of them drop the blocks
//! that recur on most of them and keep what is the page's own. Pages are
//! built here (files, a WARC, a loopback server); records are compared
//! whole.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use parkcrawl::document::content_hash;
use parkcrawl::warc::{Exchange, WarcWriter};
use serde_json::{Value, json};

use crate::state::{crawl_cmd, output, page_hits, path_str, run, status_json};
use crate::support::server::{Hit, Reply, Server};
use crate::support::{self, records};

/// The big host: 8 pages.
pub const A: &str = "www.lgyq.example.cn";
/// The small host: 2 pages, with the same footer.
pub const B: &str = "www.small.example.cn";

/// On every page of both hosts: lines no named boilerplate pattern knows.
pub const FOOTER: &str =
    "主办单位:临港园区管理委员会 地址:上海市浦东新区临港大道88号 联系电话:021-12345678";
pub const FOLLOW: &str = "欢迎扫一扫关注临港园区官方微信公众号";

pub fn body(i: usize) -> String {
    format!("第{i}篇正文:园区今年新增企业{i}十家,工业产值同比增长百分之十二。")
}

pub fn intro(i: usize) -> String {
    format!("第{i}个园区位于临港新片区,规划面积{i}0平方公里,主导产业为智能制造。")
}

/// Page `i` of `host`: an own body (twice on page 3), the heading 园区简介
/// shared by all with an own text beneath, then the footer and the follow
/// line. `links` go in a nav bar outside the content.
pub fn page(host: &str, i: usize, links: &[String]) -> String {
    let twice = if i == 3 {
        format!("<p>{}</p>", body(i))
    } else {
        String::new()
    };
    let nav: String = links
        .iter()
        .map(|l| format!("<a href=\"{l}\">{l}</a>"))
        .collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>园区新闻{i}</title>\
         <link rel=\"canonical\" href=\"http://{host}/news/{i}.html\"></head><body>\
         <nav>{nav}</nav>\
         <div class=\"article\"><h1>园区新闻第{i}篇</h1><p>{}</p>{twice}\
         <h3>园区简介</h3><p>{}</p><p>{FOOTER}</p><p>{FOLLOW}</p></div></body></html>",
        body(i),
        intro(i)
    )
}

/// The blocks page `i` gives, with or without the lines every page shares.
pub fn blocks(i: usize, shared: bool) -> Value {
    let p = |t: String| json!({"type": "paragraph", "text": t});
    let mut b = vec![
        json!({"type": "heading", "text": format!("园区新闻第{i}篇")}),
        p(body(i)),
    ];
    if i == 3 {
        b.push(p(body(i)));
    }
    b.push(json!({"type": "heading", "text": "园区简介"}));
    b.push(p(intro(i)));
    if shared {
        b.push(p(FOOTER.into()));
        b.push(p(FOLLOW.into()));
    }
    Value::Array(b)
}

pub fn text_of(blocks: &Value) -> String {
    blocks
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Page `i`'s record apart from its blocks and what follows from them.
fn with_blocks(mut rec: Value, blocks: Value, removed: Value) -> Value {
    let text = text_of(&blocks);
    rec["content_hash"] = content_hash(&text).into();
    rec["text"] = text.into();
    rec["blocks"] = blocks;
    rec["removed"] = removed;
    rec
}

/// The whole record of page `i` of `host`, without the shared lines when
/// `filtered`. `fetch`: `null` for a saved file.
pub fn expected(host: &str, i: usize, filtered: bool, fetch: Value) -> Value {
    let blocks = blocks(i, !filtered);
    let text = text_of(&blocks);
    let url = format!("http://{host}/news/{i}.html");
    json!({
        "type": "record",
        "schema_version": 1,
        "id": parkcrawl::document::page_id(&url),
        "url": url,
        "canonical_url": url,
        "kind": "page",
        "rule": "generic",
        "site": {"host": host, "name": null},
        "lang": "zh",
        "title": format!("园区新闻{i}"),
        "published_at": null,
        "author": null,
        "source": null,
        "views": null,
        // From the footer's address: metadata is read before repeated
        // blocks are known.
        "district": "浦东新区",
        "park": null,
        "fields": {},
        "blocks": blocks,
        "items": [],
        "content_hash": content_hash(&text),
        "text": text,
        "removed": if filtered { json!({"repeated-block": 2}) } else { json!({}) },
        "provenance": {"lang": "text", "title": "title-tag"},
        "input": null,
        "fetch": fetch,
    })
}

/// A record as `clean` gives it of the saved file `path`.
fn from_file(mut rec: Value, path: &str) -> Value {
    rec["input"] = json!({ "file": path });
    rec
}

/// Pages of host A (`a-0.html` … `a-7.html`), then B (`b-0.html`, `b-1.html`).
fn site_dir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for (host, prefix, n) in [(A, "a", 8), (B, "b", 2)] {
        for i in 0..n {
            let f = dir.join(format!("{prefix}-{i}.html"));
            std::fs::write(&f, page(host, i, &[])).unwrap();
            files.push(f);
        }
    }
    files
}

fn clean(args: &[&str]) -> (i32, Vec<u8>, String) {
    let mut a = vec!["clean".to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    let out = support::run(&a);
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SUMMARY: &str = "parkcrawl: 16 repeated block(s) removed from 8 record(s) of 1 host(s) (`repeated-block`; --keep-repeated keeps them)\n";
/// `clean`'s last line, after any other.
const DONE_10: &str = "parkcrawl: done: 10 record(s) written, 0 input(s) failed\n";

/// What `clean` of the ten pages says: the blocks removed, then its summary.
fn said_10() -> String {
    format!("{SUMMARY}{DONE_10}")
}

#[test]
fn clean_of_a_directory_drops_what_recurs_on_most_pages_of_a_host() {
    let dir = tempfile::tempdir().unwrap();
    site_dir(dir.path());
    let d = dir.path().to_str().unwrap();

    let (code, kept_out, stderr) = clean(&[d, "--keep-repeated"]);
    assert_eq!((code, stderr.as_str()), (0, DONE_10));
    let kept = records(&kept_out);
    assert_eq!(kept.len(), 10);

    let (code, out, stderr) = clean(&[d]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, said_10());
    let recs = records(&out);
    assert_eq!(recs.len(), 10);

    // Every record whole, nothing masked: page 3 keeps its shared heading
    // (its text beneath is its own) and its paragraph repeated within
    // itself; the footer and the follow line are gone and counted.
    for (i, r) in recs[..8].iter().enumerate() {
        let want = from_file(
            expected(A, i, true, Value::Null),
            &format!("{d}/a-{i}.html"),
        );
        assert_eq!(*r, want, "page {i}");
    }
    assert_eq!(
        recs[3]["text"],
        format!(
            "园区新闻第3篇\n\n{}\n\n{}\n\n园区简介\n\n{}",
            body(3),
            body(3),
            intro(3)
        )
    );
    // Host B has two pages: too few to judge, untouched.
    for (i, r) in recs[8..].iter().enumerate() {
        let want = from_file(
            expected(B, i, false, Value::Null),
            &format!("{d}/b-{i}.html"),
        );
        assert_eq!(*r, want, "page {i} of B");
    }

    for i in 0..8 {
        // Unfiltered, the record holds every block; filtered, everything
        // but the blocks, text, hash and count is as it was.
        assert_eq!(
            kept[i],
            with_blocks(kept[i].clone(), blocks(i, true), json!({})),
            "page {i} unfiltered"
        );
        assert_eq!(
            recs[i],
            with_blocks(
                kept[i].clone(),
                blocks(i, false),
                json!({"repeated-block": 2})
            ),
            "page {i} filtered"
        );
    }
    for i in 8..10 {
        assert_eq!(recs[i], kept[i]);
    }
    // Records that do not change are the very bytes of pass 1.
    let lines = |b: &[u8]| {
        String::from_utf8(b.to_vec())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&out)[8..], lines(&kept_out)[8..]);
}

#[test]
fn files_a_warc_and_an_output_file_filter_alike_and_one_input_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let files = site_dir(dir.path());
    let (_, by_dir, _) = clean(&[dir.path().to_str().unwrap()]);

    // The same pages named one by one, written to a file: the same bytes,
    // and the spill file leaves nothing behind.
    let outdir = tempfile::tempdir().unwrap();
    let out_file = outdir.path().join("records.jsonl");
    let mut args: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    args.extend(["-o", out_file.to_str().unwrap(), "-j", "2"]);
    let (code, stdout, stderr) = clean(&args);
    assert_eq!((code, stderr), (0, said_10()));
    assert!(stdout.is_empty());
    assert_eq!(std::fs::read(&out_file).unwrap(), by_dir);
    assert_eq!(std::fs::read_dir(outdir.path()).unwrap().count(), 1);

    // The same pages as the responses of a WARC: the same content.
    let warc = outdir.path().join("site.warc.gz");
    let mut w = WarcWriter::new(
        std::fs::File::create(&warc).unwrap(),
        true,
        "site.warc.gz",
        "2026-11-25T08:00:00Z",
    )
    .unwrap();
    for (host, n) in [(A, 8), (B, 2)] {
        for i in 0..n {
            w.write_exchange(&Exchange {
                url: &format!("http://{host}/news/{i}.html"),
                date: "2026-11-25T08:00:00Z",
                ip: Some("127.0.0.1"),
                method: "GET",
                request_headers: &[],
                status: 200,
                reason: "OK",
                response_headers: &[("Content-Type".into(), "text/html; charset=utf-8".into())],
                body: page(host, i, &[]).as_bytes(),
            })
            .unwrap();
        }
    }
    drop(w);
    let (code, stdout, stderr) = clean(&[warc.to_str().unwrap()]);
    assert_eq!((code, stderr), (0, said_10()));
    let content = |recs: Vec<Value>| -> Vec<Value> {
        recs.into_iter()
            .map(|r| {
                json!([
                    r["url"],
                    r["blocks"],
                    r["text"],
                    r["removed"],
                    r["content_hash"]
                ])
            })
            .collect()
    };
    assert_eq!(content(records(&stdout)), content(records(&by_dir)));

    // One page alone: nothing to compare it with, nothing removed.
    let (code, stdout, stderr) = clean(&[files[3].to_str().unwrap()]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            0,
            "parkcrawl: done: 1 record(s) written, 0 input(s) failed\n"
        )
    );
    assert_eq!(records(&stdout)[0]["blocks"], blocks(3, true));
}

/// `clean DIR | head -1`: the reader goes away mid-output; the run ends
/// quietly with 0, as in one pass.
#[test]
fn a_closed_pipe_in_the_second_pass_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // Enough output to fill a pipe (64 KiB) many times over.
    let long = "园区招商政策与产业扶持的详细说明。".repeat(40);
    for i in 0..120 {
        let html = page(A, i, &[]).replace("<h3>", &format!("<p>{long}{i}</p><h3>"));
        std::fs::write(dir.path().join(format!("p{i:03}.html")), html).unwrap();
    }
    let mut child = support::bin()
        .args(["clean", dir.path().to_str().unwrap(), "-j", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 4096];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    assert!(first.starts_with(b"{\"type\":\"record\",\"schema_version\":1,"));
}

// ---- crawl ----------------------------------------------------------------

/// Pages of host A (`/news/0.html` … up to `a_pages`) and of host B (two),
/// each answered after a short delay so that kills land mid-crawl.
fn site(a_pages: usize) -> impl Fn(&Hit) -> Reply + Send + Sync + 'static {
    move |hit: &Hit| {
        let n = match hit.host.as_str() {
            A => a_pages,
            B => 2,
            _ => 0,
        };
        let i: Option<usize> = hit
            .path
            .strip_prefix("/news/")
            .and_then(|p| p.strip_suffix(".html"))
            .and_then(|i| i.parse().ok());
        match i {
            Some(i) if i < n => {
                Reply::html(page(&hit.host, i, &[])).delayed(Duration::from_millis(5))
            }
            _ => Reply::status(404),
        }
    }
}

fn seeds(host: &str, n: std::ops::Range<usize>) -> Vec<String> {
    n.map(|i| format!("http://{host}/news/{i}.html")).collect()
}

/// `crawl URLS --rate 0 --state STATE -o OUT`, less the command.
fn state_crawl<'a>(urls: &'a [String], state: &'a Path, out: &'a Path) -> Vec<&'a str> {
    let mut args: Vec<&str> = urls.iter().map(String::as_str).collect();
    args.extend([
        "--rate",
        "0",
        "--state",
        path_str(state),
        "-o",
        path_str(out),
    ]);
    args
}

/// A crawl record with its fetch time masked (the only volatile field).
fn masked(mut r: Value) -> Value {
    assert!(r["fetch"]["fetched_at"].is_string(), "{r}");
    r["fetch"]["fetched_at"] = "<fetched_at>".into();
    r
}

fn fetch() -> Value {
    json!({
        "status": 200,
        "fetched_at": "<fetched_at>",
        "content_type": "text/html; charset=utf-8",
        "charset": "utf-8",
        "etag": null,
        "last_modified": null,
    })
}

fn by_url(mut recs: Vec<Value>) -> Vec<Value> {
    recs.sort_by_key(|r| r["url"].as_str().unwrap().to_string());
    recs
}

/// The crawl filters as `clean` does: host A's 8 pages without the shared
/// lines (the first ones held back until A had 5 pages), host B's 2 pages
/// whole, released when B's pages ran out. `--keep-repeated` gives every
/// record whole. With `--state`, the statistics outlive the run: a page
/// new in the rerun is filtered from the start, and the pages seen before
/// are unchanged (their stored hash is of the page, not of the filtered
/// record), so they are not written again.
#[test]
fn a_crawl_drops_what_recurs_and_a_rerun_starts_with_the_statistics() {
    let server = Server::start(site(9));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let state = dir.path().join("state.db");
    let mut urls = seeds(A, 0..8);
    urls.extend(seeds(B, 0..2));
    let args = state_crawl(&urls, &state, &out);

    let r = run(crawl_cmd(&server, &[A, B], &args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines[lines.len() - 2],
        SUMMARY.trim_end(),
        "the count, before the summary: {}",
        r.stderr
    );
    let recs = by_url(output(&out));
    let mut want: Vec<Value> = (0..8).map(|i| expected(A, i, true, fetch())).collect();
    want.extend((0..2).map(|i| expected(B, i, false, fetch())));
    assert_eq!(
        recs.into_iter().map(masked).collect::<Vec<_>>(),
        by_url(want)
    );

    // The same crawl keeping repeated blocks: every record whole.
    let kept = run(crawl_cmd(
        &server,
        &[A, B],
        &urls
            .iter()
            .map(String::as_str)
            .chain(["--rate", "0", "--keep-repeated"])
            .collect::<Vec<_>>(),
    ));
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert!(!kept.stderr.contains("repeated block"), "{}", kept.stderr);
    let mut want: Vec<Value> = (0..8).map(|i| expected(A, i, false, fetch())).collect();
    want.extend((0..2).map(|i| expected(B, i, false, fetch())));
    assert_eq!(
        by_url(records(&kept.stdout))
            .into_iter()
            .map(masked)
            .collect::<Vec<_>>(),
        by_url(want)
    );

    // A daily rerun: every page due again, and one page new. Alone in this
    // run, it is filtered at once with the statistics of the last run.
    let mut rerun = args.clone();
    let new = format!("http://{A}/news/8.html");
    rerun.extend([new.as_str(), "--recrawl-after", "0s"]);
    let before = output(&out).len();
    let r = run(crawl_cmd(&server, &[A, B], &rerun));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let recs = output(&out);
    assert_eq!(recs.len(), before + 1, "only the new page: {}", r.stderr);
    assert_eq!(
        masked(recs[before].clone()),
        expected(A, 8, true, fetch()),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("10 unchanged"), "{}", r.stderr);
}

/// SIGKILL while host A's first records are held back (not yet written),
/// then later in the crawl, then a run to the end: every page is in the
/// output exactly once, each filtered.
#[test]
fn kills_while_records_are_held_back_lose_and_repeat_nothing() {
    const N: usize = 40;
    let server = Server::start(site(N));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let state = dir.path().join("state.db");
    let urls = seeds(A, 0..N);
    let args = state_crawl(&urls, &state, &out);
    // Kill after this many more page requests: within the first run's
    // warm-up (nothing written yet), then well past it, twice.
    for (n, more) in [3, 12, 9].into_iter().enumerate() {
        let before = page_hits(&server).len();
        let lines_before = output(&out).len();
        let mut child = crawl_cmd(&server, &[A], &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while page_hits(&server).len() < before + more {
            assert!(
                child.try_wait().unwrap().is_none(),
                "run {n} ended before its kill point"
            );
            assert!(start.elapsed() < Duration::from_secs(60), "run {n} hangs");
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        if n == 0 {
            assert_eq!(output(&out).len(), lines_before, "held, not written");
        }
    }
    let last = run(crawl_cmd(&server, &[A], &args));
    assert_eq!(last.code, 0, "{}", last.stderr);
    let recs = output(&out);
    let mut ids = std::collections::HashSet::new();
    for r in &recs {
        assert!(ids.insert(r["id"].clone()), "{} written twice", r["url"]);
        assert_eq!(r["removed"], json!({"repeated-block": 2}), "{}", r["url"]);
    }
    assert_eq!(recs.len(), N, "{}", last.stderr);
    let st = status_json(&state);
    assert_eq!(st["complete"], true, "{st}");
    assert_eq!(st["pages"]["done"], N, "{st}");
}
