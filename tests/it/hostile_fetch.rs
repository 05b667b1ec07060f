//! The fetch layer against hostile servers (issue 11, items 4, 5 and 7):
//! each test runs the `parkcrawl` binary as a child under a watchdog against
//! a loopback server that misbehaves on some URLs (raw bytes where axum
//! cannot send them, `support::raw`) and asserts that the run ends by
//! itself, without a panic, with one error line per bad URL naming its
//! truthful kind, every good page still a record, and the child's peak RSS
//! under 100 MiB.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::support::raw::{self, Act, RawHit, RawServer};
use crate::support::server::{self, Hit, Reply, Server};
use crate::support::{self, records};

/// Longer than any of these runs should take by far: past it the run is
/// killed and the test fails (a hang is the bug).
const WATCHDOG: Duration = Duration::from_secs(60);
/// The memory bound of issue 11.
const MAX_RSS_KB: u64 = 100 * 1024;

struct Run {
    code: i32,
    stderr: String,
    records: Vec<Value>,
    /// The `--errors` file's lines.
    errors: Vec<Value>,
    peak_kb: u64,
}

impl Run {
    fn record_urls(&self) -> Vec<&str> {
        let mut u: Vec<&str> = self
            .records
            .iter()
            .map(|r| r["url"].as_str().unwrap())
            .collect();
        u.sort();
        u
    }

    /// The errors-file entry of `url`; there must be exactly one.
    fn error(&self, url: &str) -> &Value {
        let found: Vec<&Value> = self.errors.iter().filter(|e| e["url"] == url).collect();
        assert_eq!(
            found.len(),
            1,
            "errors of {url}: {:?}\n{}",
            self.errors,
            self.stderr
        );
        found[0]
    }

    /// The one stderr line naming `url`.
    fn line(&self, url: &str) -> &str {
        let prefix = format!("parkcrawl: {url}: ");
        let found: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .collect();
        assert_eq!(found.len(), 1, "stderr lines of {url}:\n{}", self.stderr);
        found[0]
    }

    /// `url` failed once, as `kind`, on stderr and in the errors file.
    fn assert_failed(&self, url: &str, kind: &str) {
        assert_eq!(self.error(url)["error_kind"], kind, "{}", self.stderr);
        let line = self.line(url);
        assert!(
            line.contains(&format!("failed ({kind}): ")),
            "{url}: want kind {kind}: {line}"
        );
    }

    /// Ended by itself with exit 1 (some pages failed), no panic, memory
    /// bounded.
    fn assert_ended_well(&self) {
        assert_eq!(self.code, 1, "exit code; stderr:\n{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(
            self.peak_kb < MAX_RSS_KB,
            "peak RSS {} KiB; stderr:\n{}",
            self.peak_kb,
            self.stderr
        );
        let summary = self.stderr.lines().last().unwrap_or("");
        assert!(summary.starts_with("parkcrawl: done: "), "{summary}");
    }
}

/// `parkcrawl crawl URLS… --errors FILE EXTRA…` under the watchdog.
fn crawl(resolve: Vec<String>, urls: &[&str], extra: &[&str]) -> Run {
    crawl_env(resolve, urls, extra, &[])
}

/// [`crawl`] with environment variables (`FAILPOINTS`).
fn crawl_env(resolve: Vec<String>, urls: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let mut cmd = support::bin();
    cmd.envs(env.iter().copied());
    cmd.arg("crawl")
        .args(urls)
        .args(["--rate", "0", "--errors", errors.to_str().unwrap()])
        .args(extra)
        .args(resolve);
    let (out, peak_kb, _) = server::run_measured_within(cmd, WATCHDOG);
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        records: records(&out.stdout),
        errors: records(&std::fs::read(&errors).unwrap_or_default()),
        peak_kb,
    };
    eprintln!(
        "peak RSS {} KiB; stderr:\n{}",
        run.peak_kb,
        run.stderr.trim_end()
    );
    run
}

/// A raw server that answers robots.txt with 404, `hostile` for the paths
/// it knows, and a good page for every other path.
fn raw_site(hostile: impl Fn(&RawHit) -> Option<Vec<Act>> + Send + Sync + 'static) -> RawServer {
    RawServer::start(move |hit: &RawHit| {
        if hit.path == "/robots.txt" {
            return raw::reply(404, "text/plain", b"none");
        }
        hostile(hit).unwrap_or_else(|| raw::page(&format!("{} {}", hit.host, hit.path)))
    })
}

/// 1 GiB of zeros as one gzip member (about 1 MB), made once, streaming:
/// the 1 GiB never exists in memory.
fn gzip_bomb() -> bytes::Bytes {
    static BOMB: OnceLock<bytes::Bytes> = OnceLock::new();
    BOMB.get_or_init(|| {
        use std::io::Write;
        let zeros = vec![0u8; 1 << 20];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(b"<!DOCTYPE html><html><body><p>").unwrap();
        for _ in 0..1024 {
            gz.write_all(&zeros).unwrap();
        }
        bytes::Bytes::from(gz.finish().unwrap())
    })
    .clone()
}

#[test]
fn a_gzip_bomb_stops_at_max_body_with_and_without_content_length() {
    let bomb = gzip_bomb();
    eprintln!("gzip bomb: 1 GiB in {} bytes", bomb.len());
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let sent = Arc::new(AtomicU64::new(0));
    let s2 = sent.clone();
    let server = Server::start(move |hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/bomb-length" => Reply::encoded("gzip", gzip_bomb(), true, s2.clone()),
        "/bomb-chunked" => Reply::encoded("gzip", gzip_bomb(), false, s2.clone()),
        p => Reply::page(&format!("good {p}"), &[]),
    });
    let run = crawl(
        server.resolve(&["bomb.test"]),
        &[
            "http://bomb.test/bomb-length",
            "http://bomb.test/bomb-chunked",
            "http://bomb.test/ok",
        ],
        &["--max-body", "10485760"],
    );
    run.assert_ended_well();
    run.assert_failed("http://bomb.test/bomb-length", "too_large");
    run.assert_failed("http://bomb.test/bomb-chunked", "too_large");
    assert_eq!(run.record_urls(), ["http://bomb.test/ok"]);
    eprintln!(
        "gzip bombs: server sent {} of 2 × {} bytes",
        sent.load(Ordering::Relaxed),
        bomb.len()
    );
    // Not retried: the same bomb would come again.
    assert_eq!(
        server
            .hits()
            .iter()
            .filter(|h| h.path.starts_with("/bomb"))
            .count(),
        2
    );
}

#[test]
fn a_dripping_body_and_a_stalled_body_end_at_the_request_timeout() {
    let server = raw_site(|hit| match hit.path.as_str() {
        "/drip" => Some(vec![
            Act::Send(raw::head(
                "HTTP/1.1 200 OK",
                &["Content-Type: text/html", "Content-Length: 1000"],
            )),
            Act::Drip(vec![b'x'; 1000], Duration::from_secs(1)),
        ]),
        "/stall" => Some(vec![
            Act::Send(raw::head(
                "HTTP/1.1 200 OK",
                &["Content-Type: text/html", "Content-Length: 1000"],
            )),
            Act::Send(b"<!DOCTYPE html><html><body><p>half a page".to_vec()),
            Act::Stall,
        ]),
        // Accepts, reads the request, and never says a word.
        "/silent" => Some(vec![Act::Stall]),
        _ => None,
    });
    let run = crawl(
        server.resolve(&["drip.test", "stall.test", "silent.test"]),
        &[
            "http://drip.test/drip",
            "http://stall.test/stall",
            "http://silent.test/silent",
            "http://drip.test/ok",
            "http://stall.test/ok",
        ],
        &["--timeout", "2", "--retries", "1"],
    );
    run.assert_ended_well();
    run.assert_failed("http://drip.test/drip", "timeout");
    run.assert_failed("http://stall.test/stall", "timeout");
    run.assert_failed("http://silent.test/silent", "timeout");
    assert!(
        run.line("http://drip.test/drip")
            .contains("body not complete within 2.0 s (see --timeout)")
    );
    assert!(
        run.line("http://silent.test/silent")
            .contains("no reply within 2.0 s (see --timeout)")
    );
    assert_eq!(
        run.record_urls(),
        ["http://drip.test/ok", "http://stall.test/ok"]
    );
    // A timeout is transient: tried once more (--retries 1).
    assert_eq!(server.count("/drip"), 2);
    assert_eq!(server.count("/stall"), 2);
    assert_eq!(server.count("/silent"), 2);
}

#[test]
fn endless_headers_and_a_1_mb_header_line_are_protocol_errors() {
    let server = raw_site(|hit| match hit.path.as_str() {
        "/endless" => Some(vec![
            Act::Send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n".to_vec()),
            Act::Repeat(b"X-Again: and again\r\n".repeat(100)),
        ]),
        "/long-line" => {
            let mut h = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
            h.extend(std::iter::repeat_n(b'a', 1 << 20));
            h.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
            Some(vec![Act::Send(h)])
        }
        "/many" => {
            let mut lines: Vec<String> = (0..10_000).map(|i| format!("X-H{i}: {i}")).collect();
            lines.push("Content-Length: 0".into());
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            Some(vec![Act::Send(raw::head("HTTP/1.1 200 OK", &lines))])
        }
        _ => None,
    });
    let run = crawl(
        server.resolve(&["h.test"]),
        &[
            "http://h.test/endless",
            "http://h.test/long-line",
            "http://h.test/many",
            "http://h.test/ok",
        ],
        &[],
    );
    run.assert_ended_well();
    for p in ["/endless", "/long-line", "/many"] {
        run.assert_failed(&format!("http://h.test{p}"), "protocol");
        // A server that sends this will send it again: not retried.
        assert_eq!(server.count(p), 1, "{p}");
    }
    assert!(run.line("http://h.test/many").contains("too large"));
    assert_eq!(run.record_urls(), ["http://h.test/ok"]);
}

#[test]
fn broken_chunking_is_a_protocol_error_and_a_cut_chunk_is_truncated() {
    let chunked = || {
        raw::head(
            "HTTP/1.1 200 OK",
            &["Content-Type: text/html", "Transfer-Encoding: chunked"],
        )
    };
    let server = raw_site(move |hit| match hit.path.as_str() {
        "/bad-size" => Some(vec![
            Act::Send(chunked()),
            Act::Send(b"zz\r\n<p>not hex</p>\r\n0\r\n\r\n".to_vec()),
        ]),
        "/cut" => Some(vec![
            Act::Send(chunked()),
            Act::Send(b"100\r\n<!DOCTYPE html><p>cut short".to_vec()),
        ]),
        _ => None,
    });
    let run = crawl(
        server.resolve(&["c.test"]),
        &[
            "http://c.test/bad-size",
            "http://c.test/cut",
            "http://c.test/ok",
        ],
        &["--retries", "2"],
    );
    run.assert_ended_well();
    run.assert_failed("http://c.test/bad-size", "protocol");
    run.assert_failed("http://c.test/cut", "truncated");
    assert_eq!(server.count("/bad-size"), 1);
    // Truncation is transient: retried (--retries 2).
    assert_eq!(server.count("/cut"), 3);
    assert_eq!(run.record_urls(), ["http://c.test/ok"]);
}

#[test]
fn a_content_length_longer_than_the_body_is_truncated_and_a_shorter_one_is_obeyed() {
    let short_page = raw::page_html("short");
    let n = short_page.len();
    let server = raw_site(move |hit| match hit.path.as_str() {
        "/longer" => Some(vec![
            Act::Send(raw::head(
                "HTTP/1.1 200 OK",
                &["Content-Type: text/html", "Content-Length: 5000"],
            )),
            Act::Send(raw::page_html("longer").into_bytes()),
        ]),
        // The body goes on past its Content-Length: what is past it is not
        // part of the response.
        "/shorter" => Some(vec![
            Act::Send(raw::head(
                "HTTP/1.1 200 OK",
                &[
                    "Content-Type: text/html; charset=utf-8",
                    &format!("Content-Length: {n}"),
                    "Connection: close",
                ],
            )),
            Act::Send(format!("{}<p>BEYOND THE LENGTH</p>", raw::page_html("short")).into_bytes()),
        ]),
        _ => None,
    });
    let run = crawl(
        server.resolve(&["l.test"]),
        &[
            "http://l.test/longer",
            "http://l.test/shorter",
            "http://l.test/ok",
        ],
        &["--retries", "2"],
    );
    run.assert_ended_well();
    run.assert_failed("http://l.test/longer", "truncated");
    assert_eq!(server.count("/longer"), 3);
    assert_eq!(
        run.record_urls(),
        ["http://l.test/ok", "http://l.test/shorter"]
    );
    let shorter = run
        .records
        .iter()
        .find(|r| r["url"] == "http://l.test/shorter")
        .unwrap();
    assert!(shorter["text"].as_str().unwrap().contains("short"));
    assert!(!shorter.to_string().contains("BEYOND"), "{shorter}");
}

#[test]
fn a_non_http_reply_garbage_and_a_refused_connection_say_what_they_are() {
    let server = raw_site(|hit| match hit.path.as_str() {
        "/ssh" => Some(vec![Act::Send(
            b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3\r\n".to_vec(),
        )]),
        "/garbage" => Some(vec![Act::Send(
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        )]),
        _ => None,
    });
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut resolve = server.resolve(&["n.test"]);
    resolve.extend(["--resolve".into(), format!("refused.test:{closed}")]);
    let run = crawl(
        resolve,
        &[
            "http://n.test/ssh",
            "http://n.test/garbage",
            "http://refused.test/",
            "http://n.test/ok",
        ],
        &["--retries", "1"],
    );
    run.assert_ended_well();
    run.assert_failed("http://n.test/ssh", "protocol");
    run.assert_failed("http://n.test/garbage", "protocol");
    assert_eq!(server.count("/ssh"), 1);
    assert_eq!(server.count("/garbage"), 1);
    // robots.txt is the first request to the refusing host: the page is
    // refused as robots_unavailable, and says why.
    run.assert_failed("http://refused.test/", "robots_unavailable");
    let refused = run.line("http://refused.test/");
    assert!(
        refused.to_ascii_lowercase().contains("connection refused"),
        "{refused}"
    );
    assert_eq!(run.record_urls(), ["http://n.test/ok"]);
}

/// Hosts each answering `/slow` with a 503 and one kind of Retry-After too
/// long to wait for, and a good host; the queued URLs of each bad host.
const FOREVER: [(&str, &str); 3] = [
    ("years.test", "315360000"),
    ("max.test", "18446744073709551615"),
    ("date.test", "Fri, 31 Dec 9999 23:59:59 GMT"),
];

fn forever_site() -> RawServer {
    raw_site(|hit| {
        let (_, after) = FOREVER.iter().find(|(h, _)| *h == hit.host)?;
        (hit.path == "/slow").then(|| {
            vec![
                Act::Send(raw::head(
                    "HTTP/1.1 503 Service Unavailable",
                    &[
                        "Content-Type: text/plain",
                        &format!("Retry-After: {after}"),
                        "Content-Length: 4",
                        "Connection: close",
                    ],
                )),
                Act::Send(b"busy".to_vec()),
            ]
        })
    })
}

fn forever_urls() -> Vec<String> {
    let mut urls = Vec::new();
    for (host, _) in FOREVER.iter() {
        for p in ["/slow", "/a", "/b"] {
            urls.push(format!("http://{host}{p}"));
        }
    }
    urls.extend(["http://good.test/1".into(), "http://good.test/2".into()]);
    urls
}

fn assert_given_up_at_once(run: &Run, server: &RawServer) {
    run.assert_ended_well();
    for (host, _) in FOREVER.iter() {
        let slow = format!("http://{host}/slow");
        run.assert_failed(&slow, "http");
        assert_eq!(run.error(&slow)["status"], 503);
        assert!(
            run.line(&slow).contains("host given up"),
            "{}",
            run.line(&slow)
        );
        for p in ["/a", "/b"] {
            run.assert_failed(&format!("http://{host}{p}"), "host_unavailable");
        }
    }
    // The given-up hosts' other pages were never asked for.
    assert_eq!(server.count("/a"), 0);
    assert_eq!(server.count("/b"), 0);
    assert_eq!(server.count("/slow"), FOREVER.len());
    assert_eq!(
        run.record_urls(),
        ["http://good.test/1", "http://good.test/2"]
    );
}

#[test]
fn a_retry_after_of_years_or_u64_max_or_9999_gives_the_host_up_at_once() {
    let server = forever_site();
    let mut hosts: Vec<&str> = FOREVER.iter().map(|(h, _)| *h).collect();
    hosts.push("good.test");
    let urls = forever_urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let run = crawl(server.resolve(&hosts), &urls, &[]);
    assert_given_up_at_once(&run, &server);
}

#[test]
fn a_retry_after_of_years_with_state_ends_with_every_page_failed() {
    let server = forever_site();
    let mut hosts: Vec<&str> = FOREVER.iter().map(|(h, _)| *h).collect();
    hosts.push("good.test");
    let urls = forever_urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let run = crawl(
        server.resolve(&hosts),
        &urls,
        &["--state", state.to_str().unwrap()],
    );
    assert_given_up_at_once(&run, &server);
    let status = crate::state::status_json(&state);
    eprintln!("{status:#}");
    assert_eq!(status["pages"]["failed"], 9, "{status:#}");
    assert_eq!(status["pages"]["queued"], 0, "{status:#}");
    assert_eq!(status["pages"]["fetching"], 0, "{status:#}");
}

#[test]
fn a_negative_or_unparsable_retry_after_is_the_default_backoff() {
    let server = raw_site(|hit| {
        let after = match hit.path.as_str() {
            "/negative" => "-5",
            "/nonsense" => "soon, maybe",
            _ => return None,
        };
        (hit.n == 0).then(|| {
            vec![Act::Send(raw::head(
                "HTTP/1.1 503 Service Unavailable",
                &[
                    &format!("Retry-After: {after}"),
                    "Content-Length: 0",
                    "Connection: close",
                ],
            ))]
        })
    });
    let run = crawl(
        server.resolve(&["neg.test"]),
        &["http://neg.test/negative", "http://neg.test/nonsense"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(
        run.record_urls(),
        ["http://neg.test/negative", "http://neg.test/nonsense"]
    );
    assert_eq!(server.count("/negative"), 2);
    assert_eq!(server.count("/nonsense"), 2);
}

#[test]
fn a_single_url_with_retry_after_u64_max_is_one_error_not_a_vanished_page() {
    let server = forever_site();
    let run = crawl(
        server.resolve(&["max.test"]),
        &["http://max.test/slow"],
        &[],
    );
    run.assert_ended_well();
    run.assert_failed("http://max.test/slow", "http");
    assert!(run.records.is_empty());
    assert_eq!(server.count("/slow"), 1);
}

#[test]
fn binary_bytes_served_as_html_cost_that_page_at_most() {
    // Deterministic noise, every byte value, NULs and broken UTF-8 included.
    let mut x: u32 = 0x2545_f491;
    let noise: Vec<u8> = (0..256 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    let server = Server::start(move |hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/binary" => Reply::new(200, "text/html", noise.clone()),
        "/binary-utf8" => Reply::new(200, "text/html; charset=utf-8", noise.clone()),
        // Without NULs it is not refused as binary: the cleaner gets it.
        "/binary-no-nul" => Reply::new(
            200,
            "text/html",
            noise.iter().map(|&b| b.max(1)).collect::<Vec<u8>>(),
        ),
        p => Reply::page(&format!("good {p}"), &[]),
    });
    let run = crawl(
        server.resolve(&["bin.test"]),
        &[
            "http://bin.test/binary",
            "http://bin.test/binary-utf8",
            "http://bin.test/binary-no-nul",
            "http://bin.test/ok",
        ],
        &[],
    );
    assert!(
        matches!(run.code, 0 | 1),
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.peak_kb < MAX_RSS_KB, "peak RSS {} KiB", run.peak_kb);
    assert!(run.record_urls().contains(&"http://bin.test/ok"));
    // Each binary page is accounted for: a record or one error, never an
    // internal one.
    for url in [
        "http://bin.test/binary",
        "http://bin.test/binary-utf8",
        "http://bin.test/binary-no-nul",
    ] {
        let recorded = run.record_urls().contains(&url);
        let errors: Vec<&Value> = run.errors.iter().filter(|e| e["url"] == url).collect();
        assert!(
            recorded != (errors.len() == 1),
            "{url}: record {recorded}, errors {errors:?}"
        );
        assert!(
            errors.iter().all(|e| e["error_kind"] != "internal"),
            "{errors:?}"
        );
    }
}

#[test]
fn a_panic_while_fetching_is_that_pages_error_and_the_crawl_goes_on() {
    let server = raw_site(|_| None);
    // The first request of the run (the host's robots.txt, fetched inside
    // the first page's task) panics; the next task fetches it again.
    let run = crawl_env(
        server.resolve(&["p.test"]),
        &["http://p.test/1", "http://p.test/2", "http://p.test/3"],
        &[],
        &[("FAILPOINTS", "fetch=1*panic")],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let internal: Vec<&Value> = run
        .errors
        .iter()
        .filter(|e| e["error_kind"] == "internal")
        .collect();
    assert_eq!(internal.len(), 1, "{:?}\n{}", run.errors, run.stderr);
    let url = internal[0]["url"].as_str().unwrap();
    assert!(run.line(url).contains("failed (internal): internal error"));
    assert_eq!(run.records.len(), 2, "{}", run.stderr);
    assert!(!run.record_urls().contains(&url));
}

#[test]
fn a_robots_txt_asking_for_ten_years_gives_the_host_up_at_once() {
    let server = RawServer::start(
        |hit: &RawHit| match (hit.host.as_str(), hit.path.as_str()) {
            ("r.test", "/robots.txt") => vec![Act::Send(raw::head(
                "HTTP/1.1 503 Service Unavailable",
                &[
                    "Retry-After: 315360000",
                    "Content-Length: 0",
                    "Connection: close",
                ],
            ))],
            (_, "/robots.txt") => raw::reply(404, "text/plain", b"none"),
            (host, path) => raw::page(&format!("{host} {path}")),
        },
    );
    let run = crawl(
        server.resolve(&["r.test", "good.test"]),
        &["http://r.test/1", "http://r.test/2", "http://good.test/1"],
        &[],
    );
    run.assert_ended_well();
    run.assert_failed("http://r.test/1", "robots_unavailable");
    assert!(run.line("http://r.test/1").contains("host given up"));
    run.assert_failed("http://r.test/2", "host_unavailable");
    assert_eq!(server.count("/robots.txt"), 2);
    assert_eq!(run.record_urls(), ["http://good.test/1"]);
}
