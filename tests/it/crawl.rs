//! `parkcrawl crawl` against a real HTTP server on 127.0.0.1: several hosts
//! by Host header (`--resolve`), checked from the server's own request log.
//! Each crawl takes a few seconds of real time at most; exact timing of the
//! politeness core is tested in-process with paused time (`fetch::host`).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::server::{self, Hit, Reply, Server};
use crate::support::{self, records};

/// Arrival jitter allowed on request spacing (the crawler's clock is not the
/// server's; loopback adds well under this).
const TOLERANCE: Duration = Duration::from_millis(25);

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stderr: String,
    pub(crate) records: Vec<Value>,
}

impl Run {
    pub(crate) fn urls(&self) -> Vec<String> {
        let mut u: Vec<String> = self
            .records
            .iter()
            .map(|r| r["url"].as_str().unwrap().to_string())
            .collect();
        u.sort();
        u
    }
}

pub(crate) fn crawl(server: &Server, hosts: &[&str], args: &[&str]) -> Run {
    let mut cmd = support::bin();
    cmd.arg("crawl").args(args).args(server.resolve(hosts));
    finish(cmd.spawn_piped(), Duration::from_secs(60))
}

pub(crate) trait SpawnPiped {
    fn spawn_piped(&mut self) -> std::process::Child;
}

impl SpawnPiped for Command {
    fn spawn_piped(&mut self) -> std::process::Child {
        self.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn parkcrawl")
    }
}

/// Waits for the child, killing it (and failing) past `deadline`: a hang is
/// a bug, not a slow test.
pub(crate) fn finish(mut child: std::process::Child, deadline: Duration) -> Run {
    use std::io::Read;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > deadline {
            child.kill().unwrap();
            panic!("crawl still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = t_out.join().unwrap();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    Run {
        code: status.code().unwrap_or(-1),
        records: records(&stdout),
        stderr,
    }
}

/// No two requests in `hits` closer than `min`.
fn assert_spacing(hits: &[Hit], min: Duration) {
    assert!(hits.len() >= 2, "too few requests: {hits:?}");
    for w in hits.windows(2) {
        let gap = w[1].at - w[0].at;
        assert!(
            gap + TOLERANCE >= min,
            "{} then {} on {} only {gap:?} apart (want ≥ {min:?})",
            w[0].path,
            w[1].path,
            w[0].host
        );
    }
}

fn paths(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.path.as_str()).collect()
}

pub(crate) fn errors_file(path: &std::path::Path) -> Vec<Value> {
    records(&std::fs::read(path).unwrap_or_default())
}

/// A site of `n` pages under `/`, robots.txt absent.
fn small_site(n: usize) -> impl Fn(&Hit) -> Reply + Send + Sync + 'static {
    move |hit: &Hit| {
        let links: Vec<String> = (1..=n).map(|i| format!("/p{i}")).collect();
        let links: Vec<&str> = links.iter().map(String::as_str).collect();
        match hit.path.as_str() {
            "/robots.txt" => Reply::status(404),
            "/" => Reply::page(&format!("{} home", hit.host), &links),
            p if p.starts_with("/p") => Reply::page(&format!("{} {p}", hit.host), &[]),
            _ => Reply::status(404),
        }
    }
}

#[test]
fn three_hosts_at_rate_2_are_polite_and_parallel() {
    let server = Server::start(small_site(4));
    let hosts = ["a.test", "b.test", "c.test"];
    let run = crawl(
        &server,
        &hosts,
        &[
            "http://a.test/",
            "http://b.test/",
            "http://c.test/",
            "--rate",
            "2",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), 15);
    let per_host: Vec<Vec<Hit>> = hosts.iter().map(|h| server.hits_of(h)).collect();
    for hits in &per_host {
        assert_eq!(hits.len(), 6, "{:?}", paths(hits));
        assert_eq!(hits[0].path, "/robots.txt", "robots.txt comes first");
        assert_spacing(hits, Duration::from_millis(500));
    }
    // In parallel: every host's requests overlap every other host's.
    for a in &per_host {
        for b in &per_host {
            assert!(a[0].at < b[b.len() - 1].at);
        }
    }
}

#[test]
fn default_rate_is_one_per_second_with_honest_headers() {
    let server = Server::start(small_site(2));
    let run = crawl(
        &server,
        &["a.test", "b.test"],
        &["http://a.test/", "http://b.test/"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), 6);
    for host in ["a.test", "b.test"] {
        let hits = server.hits_of(host);
        assert_eq!(paths(&hits), ["/robots.txt", "/", "/p1", "/p2"]);
        assert_spacing(&hits, Duration::from_secs(1));
        for h in &hits {
            assert!(h.user_agent.starts_with("parkcrawl/"), "{}", h.user_agent);
            assert!(h.user_agent.contains("+https://"), "{}", h.user_agent);
        }
        assert_eq!(
            hits[1].accept,
            "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
        );
    }
    assert!(server.hits_of("a.test")[0].at < server.hits_of("b.test")[3].at);
    // The summary line.
    assert!(
        run.stderr.contains("done: 6 pages ok, 0 failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn robots_disallow_and_crawl_delay_are_obeyed() {
    let server = Server::start(|hit: &Hit| match hit.path.as_str() {
        // Our group wins over `*`; its Crawl-delay is slower than --rate.
        "/robots.txt" => Reply::text(
            "User-agent: *\nDisallow: /\n\nUser-agent: parkcrawl\nDisallow: /private\nCrawl-delay: 2\n",
        ),
        "/" => Reply::page("home", &["/private/a", "/ok"]),
        _ => Reply::page("ok", &[]),
    });
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let run = crawl(
        &server,
        &["r.test"],
        &[
            "http://r.test/",
            "--rate",
            "10",
            "--errors",
            errors.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "skips are not failures: {}", run.stderr);
    let hits = server.hits_of("r.test");
    assert_eq!(paths(&hits), ["/robots.txt", "/", "/ok"]);
    assert_spacing(&hits, Duration::from_secs(2));
    let errs = errors_file(&errors);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["error_kind"], "disallowed");
    assert_eq!(errs[0]["url"], "http://r.test/private/a");
    assert!(errs[0]["at"].as_str().unwrap().ends_with('Z'));
    assert!(
        run.stderr
            .contains("http://r.test/private/a: skipped: disallowed by robots.txt")
    );
}

#[test]
fn retry_after_pauses_the_whole_host() {
    let server = Server::start(|hit: &Hit| match (hit.path.as_str(), hit.n) {
        ("/robots.txt", _) => Reply::status(404),
        ("/", _) => Reply::page("home", &["/a", "/b", "/c"]),
        ("/a", 0) => Reply::status(429).header("retry-after", "2"),
        _ => Reply::page("page", &[]),
    });
    let run = crawl(&server, &["t.test"], &["http://t.test/", "--rate", "10"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), 4);
    let hits = server.hits_of("t.test");
    let i = hits.iter().position(|h| h.path == "/a").unwrap();
    let next = &hits[i + 1];
    assert!(
        next.at - hits[i].at + TOLERANCE >= Duration::from_secs(2),
        "{} came {:?} after the 429",
        next.path,
        next.at - hits[i].at
    );
    assert_eq!(hits.iter().filter(|h| h.path == "/a").count(), 2);
}

#[test]
fn transient_503s_are_retried_until_the_page_comes() {
    let server = Server::start(|hit: &Hit| match (hit.path.as_str(), hit.n) {
        ("/robots.txt", _) => Reply::status(404),
        ("/flaky", 0 | 1) => Reply::status(503),
        _ => Reply::page("finally", &[]),
    });
    let run = crawl(
        &server,
        &["f.test"],
        &["http://f.test/flaky", "--rate", "10"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.urls(), ["http://f.test/flaky"]);
    assert_eq!(run.records[0]["fetch"]["status"], 200);
    let hits = server.hits_of("f.test");
    assert_eq!(paths(&hits), ["/robots.txt", "/flaky", "/flaky", "/flaky"]);
}

#[test]
fn redirect_loops_and_chains_end_in_one_error_each() {
    let server = Server::start(|hit: &Hit| {
        let p = hit.path.as_str();
        match p {
            "/robots.txt" => Reply::status(404),
            "/loop-a" => Reply::redirect(302, "/loop-b"),
            "/loop-b" => Reply::redirect(301, "http://l.test/loop-a#again"),
            _ if p.starts_with("/chain/") => {
                let n: u32 = p[7..].parse().unwrap();
                Reply::redirect(307, &format!("/chain/{}", n + 1))
            }
            _ => Reply::status(404),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let run = crawl(
        &server,
        &["l.test"],
        &[
            "http://l.test/loop-a",
            "http://l.test/chain/0",
            "--rate",
            "20",
            "--max-redirects",
            "3",
            "--errors",
            errors.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.records.is_empty());
    let mut kinds: Vec<String> = errors_file(&errors)
        .iter()
        .map(|e| e["error_kind"].as_str().unwrap().to_string())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["redirect_loop", "too_many_redirects"]);
    let hits = server.hits_of("l.test");
    assert_eq!(
        hits.iter().filter(|h| h.path.starts_with("/loop")).count(),
        2
    );
    assert_eq!(
        hits.iter().filter(|h| h.path.starts_with("/chain")).count(),
        4
    );
    assert!(
        run.stderr.contains("done: 0 pages ok, 2 failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_seed_redirecting_to_www_brings_that_host_into_scope() {
    let server = Server::start(|hit: &Hit| match (hit.host.as_str(), hit.path.as_str()) {
        (_, "/robots.txt") => Reply::status(404),
        ("apex.test", _) => Reply::redirect(301, &format!("http://www.apex.test{}", hit.path)),
        (_, "/") => Reply::page("home", &["/p1", "http://apex.test/p2"]),
        _ => Reply::page("page", &[]),
    });
    let run = crawl(
        &server,
        &["apex.test", "www.apex.test"],
        &["http://apex.test/", "--rate", "20", "--allow-private"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // p2 is reached through the apex host's redirect, like any other link.
    assert_eq!(
        run.urls(),
        [
            "http://www.apex.test/",
            "http://www.apex.test/p1",
            "http://www.apex.test/p2"
        ]
    );
}

#[test]
fn an_endless_calendar_stops_at_max_depth() {
    let server = Server::start(|hit: &Hit| {
        let p = hit.path.as_str();
        if p == "/robots.txt" {
            return Reply::status(404);
        }
        let m: u32 = p
            .strip_prefix("/cal?month=")
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        Reply::page(
            &format!("month {m}"),
            &[
                &format!("/cal?month={}", m + 1),
                &format!("/cal?month={}#next", m + 1),
            ],
        )
    });
    let run = crawl(
        &server,
        &["cal.test"],
        &[
            "http://cal.test/cal?month=0",
            "--max-depth",
            "3",
            "--rate",
            "20",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hits = server.hits_of("cal.test");
    assert_eq!(
        paths(&hits),
        [
            "/robots.txt",
            "/cal?month=0",
            "/cal?month=1",
            "/cal?month=2",
            "/cal?month=3"
        ]
    );
    assert_eq!(run.records.len(), 4);
}

#[test]
fn a_50_mb_body_is_one_error_and_memory_stays_low() {
    let sent = Arc::new(AtomicU64::new(0));
    let s2 = sent.clone();
    let server = Server::start(move |hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/huge" => Reply::stream(50 * 1024 * 1024, s2.clone()),
        _ => Reply::page("small", &[]),
    });
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let mut cmd = support::bin();
    cmd.args([
        "crawl",
        "http://big.test/huge",
        "http://big.test/small",
        "--rate",
        "20",
        "--errors",
        errors.to_str().unwrap(),
    ])
    .args(server.resolve(&["big.test"]));
    let (out, peak_kb, _) = server::run_measured(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(records(&out.stdout).len(), 1);
    let errs = errors_file(&errors);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["error_kind"], "too_large");
    // Reading stopped at the 10 MiB limit: the server produced far less than
    // 50 MB, and the crawler never held it.
    let produced = sent.load(Ordering::Relaxed);
    eprintln!("50 MB body: server produced {produced} bytes; crawler peak RSS {peak_kb} KiB");
    assert!(
        produced < 20 * 1024 * 1024,
        "server produced {produced} bytes"
    );
    assert!(peak_kb < 48 * 1024, "peak RSS {peak_kb} KiB");
}

#[test]
fn max_pages_bounds_the_fetches() {
    let server = Server::start(small_site(10));
    let run = crawl(
        &server,
        &["mp.test"],
        &["http://mp.test/", "--max-pages", "3", "--rate", "20"],
    );
    // Cut short with pages still queued: exit code 4 (`exit::STOPPED`).
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.records.len(), 3);
    assert_eq!(
        paths(&server.hits_of("mp.test")),
        ["/robots.txt", "/", "/p1", "/p2"]
    );
    assert!(run.stderr.contains("8 not fetched"), "{}", run.stderr);
}

#[test]
fn non_html_is_skipped_by_its_header_without_reading_the_body() {
    let sent = Arc::new(AtomicU64::new(0));
    let s2 = sent.clone();
    let server = Server::start(move |hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/" => Reply::page("home", &["/report.pdf"]),
        _ => Reply::stream(50 * 1024 * 1024, s2.clone()).header("content-type", "application/pdf"),
    });
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let run = crawl(
        &server,
        &["pdf.test"],
        &[
            "http://pdf.test/",
            "--rate",
            "20",
            "--errors",
            errors.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), 1);
    let errs = errors_file(&errors);
    assert_eq!(errs[0]["error_kind"], "not_html");
    assert_eq!(errs[0]["message"], "not HTML (application/pdf)");
    assert!(sent.load(Ordering::Relaxed) < 30 * 1024 * 1024);
}

#[test]
fn url_variants_of_one_page_are_fetched_once() {
    let server = Server::start(|hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/" => Reply::page(
            "home",
            &[
                "/page?b=2&a=1",
                "/page?a=1&b=2#section",
                "http://V.TEST:80/page?a=1&b=2",
                "/page?utm_source=wx&a=1&b=2&utm_medium=x",
                "/page?a=1&&b=2",
                "/alt",
            ],
        ),
        // Another URL, same page: its canonical link says so.
        "/alt" => Reply::html(
            "<html><head><link rel=\"canonical\" href=\"/page?a=1&amp;b=2\"><title>p</title></head>\
             <body><p>同一页面的另一个地址, 正文内容相同。</p></body></html>",
        ),
        _ => Reply::page("the page", &[]),
    });
    let run = crawl(&server, &["v.test"], &["http://v.test/", "--rate", "20"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hits = server.hits_of("v.test");
    assert_eq!(
        hits.iter().filter(|h| h.path.starts_with("/page")).count(),
        1,
        "{:?}",
        paths(&hits)
    );
    // /alt is fetched (nothing tells before) but not written twice.
    assert_eq!(run.urls(), ["http://v.test/", "http://v.test/page?a=1&b=2"]);
    assert!(run.stderr.contains("duplicate 1"), "{}", run.stderr);
}

/// The fixture site's sh.taxs.vip pages, served at their URLs.
fn fixture_site() -> (Vec<support::Page>, Server) {
    let pages: Vec<support::Page> = support::manifest()
        .into_iter()
        .filter(|p| {
            p.url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://sh.taxs.vip/"))
        })
        .collect();
    assert!(pages.len() >= 5);
    let served = pages.clone();
    let server = Server::start(move |hit: &Hit| {
        match served
            .iter()
            .find(|p| p.url.as_deref() == Some(&format!("http://sh.taxs.vip{}", hit.path)))
        {
            Some(p) => Reply::new(
                200,
                p.content_type.as_deref().unwrap_or("text/html"),
                std::fs::read(p.path()).unwrap(),
            ),
            None => Reply::status(404),
        }
    });
    (pages, server)
}

#[test]
fn the_fixture_site_crawls_to_the_records_clean_makes() {
    let (pages, server) = fixture_site();
    // The rule says 1 request/s; the flag overrides it to keep the test short.
    let run = crawl(
        &server,
        &["sh.taxs.vip"],
        &["http://sh.taxs.vip/", "--max-depth", "1", "--rate", "20"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut want: Vec<String> = pages.iter().map(|p| p.url.clone().unwrap()).collect();
    want.sort();
    assert_eq!(
        run.urls(),
        want,
        "every sh.taxs.vip page of the manifest must be linked from fixtures/sh.taxs.vip/index.html"
    );
    for rec in &run.records {
        let url = rec["url"].as_str().unwrap();
        let page = pages
            .iter()
            .find(|p| p.url.as_deref() == Some(url))
            .unwrap();
        let clean = support::run(&page.clean_args());
        let mut expected = records(&clean.stdout).remove(0);
        let mut got = rec.clone();
        assert_eq!(got["fetch"]["status"], 200);
        assert!(got["fetch"]["fetched_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            got["fetch"]["content_type"],
            expected["fetch"]["content_type"]
        );
        got.as_object_mut().unwrap().remove("fetch");
        expected.as_object_mut().unwrap().remove("fetch");
        // A fetched page has no input file: `fetch` says where it came from.
        assert_eq!(got["input"], Value::Null, "{url}");
        assert!(expected["input"]["file"].is_string(), "{expected}");
        got.as_object_mut().unwrap().remove("input");
        expected.as_object_mut().unwrap().remove("input");
        assert_eq!(got, expected, "{url}");
    }
    // Nothing outside the fixture set was asked for but robots.txt.
    for h in server.hits() {
        assert!(
            h.path == "/robots.txt"
                || pages
                    .iter()
                    .any(|p| p.url.as_deref().unwrap().ends_with(&h.path)),
            "{}",
            h.path
        );
    }
}

/// `crawl --warc`, then `clean` of that WARC: the same records as the crawl
/// wrote, `fetch` included (the WARC keeps status, headers and date), but
/// `input`, which names the WARC record.
#[test]
fn a_crawl_archived_as_warc_cleans_to_the_same_records() {
    let (pages, server) = fixture_site();
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("crawl.warc.gz");
    let run = crawl(
        &server,
        &["sh.taxs.vip"],
        &[
            "http://sh.taxs.vip/",
            "--max-depth",
            "1",
            "--rate",
            "20",
            "--warc",
            warc.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), pages.len());
    let out = support::run(&["clean".into(), warc.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_url = |mut v: Vec<serde_json::Value>| {
        v.sort_by_key(|r| r["url"].as_str().unwrap().to_string());
        v
    };
    let crawled = by_url(run.records.clone());
    let cleaned = by_url(records(&out.stdout));
    assert_eq!(cleaned.len(), crawled.len());
    for (c, w) in crawled.iter().zip(&cleaned) {
        let mut w = w.clone();
        assert_eq!(w["input"]["warc"], warc.display().to_string(), "{w}");
        assert!(w["input"]["offset"].is_u64(), "{w}");
        w["input"] = serde_json::Value::Null;
        assert_eq!(c, &w, "{}", c["url"]);
    }
}

#[test]
fn public_links_do_not_lead_into_private_addresses() {
    // www.taxs.vip is in scope (the sh.taxs.vip rule names both hosts) but is
    // not a seed host, and it resolves to loopback.
    let handler = |hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/" => Reply::page("home", &["http://www.taxs.vip/park/view.html?id=1"]),
        _ => Reply::page("park", &[]),
    };
    let server = Server::start(handler);
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let hosts = ["sh.taxs.vip", "www.taxs.vip"];
    let args = [
        "http://sh.taxs.vip/",
        "--rate",
        "20",
        "--errors",
        errors.to_str().unwrap(),
    ];
    let run = crawl(&server, &hosts, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(server.hits_of("www.taxs.vip").is_empty());
    let errs = errors_file(&errors);
    assert_eq!(errs[0]["error_kind"], "unsafe", "{errs:?}");
    assert!(errs[0]["message"].as_str().unwrap().contains("127.0.0.1"));

    let server = Server::start(handler);
    let mut args = args.to_vec();
    args.push("--allow-private");
    let run = crawl(&server, &hosts, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), 2);
    assert_eq!(server.hits_of("www.taxs.vip").len(), 2); // robots.txt, the page
}

#[test]
fn unreadable_robots_txt_disallows_the_host() {
    let server = Server::start(|hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(500),
        _ => Reply::page("never", &[]),
    });
    let run = crawl(
        &server,
        &["down.test"],
        &["http://down.test/", "--retries", "1"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        paths(&server.hits_of("down.test")),
        ["/robots.txt", "/robots.txt"]
    );
    assert!(
        run.stderr.contains("robots.txt unavailable"),
        "{}",
        run.stderr
    );
}

#[test]
fn sitemaps_from_the_flag_and_from_robots_txt() {
    let server = Server::start(|hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::text("User-agent: *\nAllow: /\nSitemap: http://m.test/extra.txt\n"),
        "/index.xml" => Reply::new(
            200,
            "application/xml",
            "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <sitemap><loc>http://m.test/s1.xml</loc></sitemap></sitemapindex>",
        ),
        "/s1.xml" => Reply::new(
            200,
            "text/xml",
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <url><loc>http://m.test/a</loc></url><url><loc>http://m.test/b?x=1&amp;y=2</loc></url>\
             <url><loc>http://elsewhere.test/c</loc></url></urlset>",
        ),
        "/extra.txt" => Reply::text("http://m.test/c\n"),
        _ => Reply::page("page", &[]),
    });
    let run = crawl(
        &server,
        &["m.test"],
        &[
            "--sitemap",
            "http://m.test/index.xml",
            "--rate",
            "20",
            "--max-depth",
            "0",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.urls(),
        [
            "http://m.test/a",
            "http://m.test/b?x=1&y=2",
            "http://m.test/c"
        ]
    );
}

#[test]
fn sigterm_stops_the_crawl_and_flushes_what_it_has() {
    let server = Server::start(small_site(30));
    let mut cmd = support::bin();
    cmd.args(["crawl", "http://s.test/", "--rate", "4"])
        .args(server.resolve(&["s.test"]));
    let child = cmd.spawn_piped();
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped_at = Instant::now();
    let run = finish(child, Duration::from_secs(20));
    assert!(stopped_at.elapsed() < Duration::from_secs(7));
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.records.len() >= 2 && run.records.len() < 31);
    assert!(run.stderr.contains("stopping"), "{}", run.stderr);
    assert!(run.stderr.contains("stopped: "), "{}", run.stderr);
    let n = server.hits_of("s.test").len();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(server.hits_of("s.test").len(), n, "requests after exit");
}

#[test]
fn bad_starts_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // Missing directories of -o are made; under a plain file they cannot be.
    std::fs::write(dir.path().join("no"), "").unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec!["crawl".into(), "ftp://a.test/".into()],
        vec!["crawl".into(), "not a url".into()],
        vec!["crawl".into(), "http://a.test/".into(), "--rate=-1".into()],
        vec![
            "crawl".into(),
            "http://a.test/".into(),
            "--resolve".into(),
            "a.test".into(),
        ],
        vec![
            "crawl".into(),
            "http://a.test/".into(),
            "-o".into(),
            dir.path()
                .join("no/such/dir/out.jsonl")
                .display()
                .to_string(),
        ],
    ];
    for args in cases {
        let out = support::run(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

/// A host of 12 pages under `/`, each answered after `delay`.
fn slow_site(delay: Duration) -> impl Fn(&Hit) -> Reply + Send + Sync + 'static {
    let inner = small_site(12);
    move |hit: &Hit| {
        let reply = inner(hit);
        if hit.path == "/robots.txt" {
            reply
        } else {
            reply.delayed(delay)
        }
    }
}

/// `--per-host N` (flag or site rule): up to N requests of a host at once,
/// never more, by the server's own count of requests it was answering; and
/// with a rate, request starts still at least 1/rate apart over the whole
/// host, whichever connection each took.
#[test]
fn per_host_n_caps_requests_in_flight_and_keeps_the_hosts_rate() {
    // Rate 5/s allows five 1-second replies at once: the cap of 4 binds.
    let server = Server::start_with(2, slow_site(Duration::from_secs(1)));
    let run = crawl(
        &server,
        &["a.test"],
        &["http://a.test/", "--per-host", "4", "--rate", "5"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), 13);
    assert_eq!(server.peak_in_flight("a.test"), 4);
    assert_spacing(&server.hits_of("a.test"), Duration::from_millis(200));

    // The default stays one at a time.
    let server = Server::start_with(2, slow_site(Duration::from_millis(300)));
    let run = crawl(&server, &["a.test"], &["http://a.test/", "--rate", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.peak_in_flight("a.test"), 1);

    // A site rule's per_host, unlimited rate: 3 at once, on its host only.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.test.toml"),
        "id = \"r.test\"\n[match]\nhosts = [\"r.test\"]\n[crawl]\nper_host = 3\n",
    )
    .unwrap();
    let server = Server::start_with(2, slow_site(Duration::from_millis(300)));
    let rules = dir.path().display().to_string();
    let run = crawl(
        &server,
        &["r.test", "b.test"],
        &[
            "http://r.test/",
            "http://b.test/",
            "--rate",
            "0",
            "--rules",
            &rules,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), 26);
    assert_eq!(server.peak_in_flight("r.test"), 3);
    assert_eq!(server.peak_in_flight("b.test"), 1);

    // Zero is refused in one line naming the flag.
    let run = crawl(&server, &[], &["http://a.test/", "--per-host", "0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--per-host"), "{}", run.stderr);
}

/// `--per-host 64`, unthrottled: a host answers one page's first request
/// 429 + Retry-After: 3 in the middle of a stream of 64 requests at once
/// (every page 20 ms). No request of the host may reach the server from
/// `ALLOWANCE` after the 429 left it until its Retry-After ended: requests
/// whose turn came before the crawler read the 429 go back to waiting.
/// The allowance covers requests sent before the 429 could be read but
/// logged late by a busy server; a crawler that ignored the pause would
/// send hundreds inside the window (the stream runs at 64 per 20 ms).
#[test]
fn retry_after_holds_every_connection_of_a_busy_host() {
    const ALLOWANCE: Duration = Duration::from_millis(300);
    let server = Server::start_with(2, |hit: &Hit| match (hit.path.as_str(), hit.n) {
        ("/robots.txt", _) => Reply::status(404),
        ("/", _) => {
            let links: Vec<String> = (1..=400).map(|i| format!("/p{i}")).collect();
            let links: Vec<&str> = links.iter().map(String::as_str).collect();
            Reply::page("home", &links)
        }
        ("/p150", 0) => Reply::status(429).header("retry-after", "3"),
        (p, _) => Reply::page(p, &[]).delayed(Duration::from_millis(20)),
    });
    let run = crawl(
        &server,
        &["r.test"],
        &[
            "http://r.test/",
            "--per-host",
            "64",
            "--rate",
            "0",
            "--concurrency",
            "64",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.len(), 401, "{}", run.stderr);
    assert!(server.peak_in_flight("r.test") > 16);
    let hits = server.hits_of("r.test");
    let i = hits
        .iter()
        .position(|h| h.path == "/p150" && h.n == 0)
        .unwrap();
    let answered = server.replied_at()[server
        .hits()
        .iter()
        .position(|h| h.host == "r.test" && h.path == "/p150" && h.n == 0)
        .unwrap()]
    .expect("the 429 was answered");
    let window = answered + ALLOWANCE..answered + Duration::from_secs(3) - TOLERANCE;
    let inside: Vec<(&str, Duration)> = hits
        .iter()
        .filter(|h| window.contains(&h.at))
        .map(|h| (h.path.as_str(), h.at - answered))
        .collect();
    assert!(inside.is_empty(), "sent during the Retry-After: {inside:?}");
    // The stream was going when the 429 came, and went on after the pause.
    assert!(hits[..i].len() > 64, "{}", hits[..i].len());
    assert!(hits.iter().filter(|h| h.at >= window.end).count() > 64);
    assert_eq!(hits.iter().filter(|h| h.path == "/p150").count(), 2);
}
