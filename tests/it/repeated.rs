//! Cross-page boilerplate (`repeated-block`): `clean` of many pages of one
//! host (a directory, files, a WARC) drops the blocks that recur on most of
//! them and keeps what is the page's own. Pages are built here; records are
//! compared whole.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use parkcrawl::document::content_hash;
use parkcrawl::warc::{Exchange, WarcWriter};
use serde_json::{Value, json};

use crate::support::{self, records, run};

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
    let out = run(&a);
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SUMMARY: &str = "parkcrawl: 16 repeated block(s) removed from 8 record(s) of 1 host(s) (`repeated-block`; --keep-repeated keeps them)\n";

#[test]
fn clean_of_a_directory_drops_what_recurs_on_most_pages_of_a_host() {
    let dir = tempfile::tempdir().unwrap();
    site_dir(dir.path());
    let d = dir.path().to_str().unwrap();

    let (code, kept_out, stderr) = clean(&[d, "--keep-repeated"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let kept = records(&kept_out);
    assert_eq!(kept.len(), 10);

    let (code, out, stderr) = clean(&[d]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, SUMMARY);
    let recs = records(&out);
    assert_eq!(recs.len(), 10);

    // One record whole, nothing masked: page 3 keeps its shared heading
    // (its text beneath is its own) and its paragraph repeated within
    // itself; the footer and the follow line are gone and counted.
    let text3 = format!(
        "园区新闻第3篇\n\n{}\n\n{}\n\n园区简介\n\n{}",
        body(3),
        body(3),
        intro(3)
    );
    assert_eq!(
        recs[3],
        json!({
            "schema_version": 1,
            "id": parkcrawl::document::page_id(&format!("http://{A}/news/3.html")),
            "url": format!("http://{A}/news/3.html"),
            "canonical_url": format!("http://{A}/news/3.html"),
            "kind": "page",
            "rule": "generic",
            "site": {"host": A, "name": null},
            "lang": "zh",
            "title": "园区新闻3",
            "published_at": null,
            "author": null,
            "source": null,
            "views": null,
            "district": "浦东新区",
            "park": null,
            "fields": {},
            "blocks": blocks(3, false),
            "items": [],
            "text": text3,
            "removed": {"repeated-block": 2},
            "fetch": null,
            "content_hash": content_hash(&text3),
        })
    );

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
    // Host B has two pages: too few to judge, untouched.
    for i in 8..10 {
        assert_eq!(recs[i], kept[i]);
        assert_eq!(recs[i]["blocks"], blocks(i - 8, true));
        assert_eq!(recs[i]["site"]["host"], B);
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
    assert_eq!((code, stderr.as_str()), (0, SUMMARY));
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
    assert_eq!((code, stderr.as_str()), (0, SUMMARY));
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
    assert_eq!((code, stderr.as_str()), (0, ""));
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
    assert!(first.starts_with(b"{\"schema_version\":1,"));
}
