//! `crawl --state`: resumable and incremental crawls, against a real HTTP
//! server on 127.0.0.1, with the real binary as a child process and a real
//! SQLite file. Kill points and expectations come from the server's request
//! log, never from wall time.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

use crate::support::server::{Hit, Reply, Server};
use crate::support::{self, records};
use parkcrawl::document::page_id;

pub(crate) struct Run {
    pub code: i32,
    pub stderr: String,
    pub stdout: Vec<u8>,
}

/// Runs a child to its end; a hang past a minute is a bug, not a slow test.
pub(crate) fn run(mut cmd: Command) -> Run {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn parkcrawl");
    let start = Instant::now();
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        while start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(50));
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                return false;
            }
        }
        true
    });
    let out = child.wait_with_output().expect("wait for parkcrawl");
    assert!(!watchdog.join().unwrap(), "parkcrawl ran for over a minute");
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: out.stdout,
    }
}

pub(crate) fn crawl_cmd(server: &Server, hosts: &[&str], args: &[&str]) -> Command {
    let mut cmd = support::bin();
    cmd.arg("crawl").args(args).args(server.resolve(hosts));
    cmd
}

pub(crate) fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The lines of an output file, each checked to be a whole JSON record.
pub(crate) fn output(path: &Path) -> Vec<Value> {
    let bytes = std::fs::read(path).unwrap_or_default();
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "{} ends with a partial line",
        path.display()
    );
    records(&bytes)
}

pub(crate) fn status_json(state: &Path) -> Value {
    let out = support::run(&[
        "status".into(),
        "--state".into(),
        state.display().to_string(),
        "--json".into(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status --json is one JSON object")
}

/// Page requests the server saw (robots.txt aside).
pub(crate) fn page_hits(server: &Server) -> Vec<Hit> {
    server
        .hits()
        .into_iter()
        .filter(|h| h.path != "/robots.txt")
        .collect()
}

/// A binary tree of 200 pages (`/`, `/p1` … `/p199`), each answered after
/// a short delay so that kills land mid-crawl. Two more URLs lead to pages
/// already in the tree: `/moved` redirects to `/p150`, and `/alias-20` names
/// `/p20` as its canonical URL, so their records share those pages' ids.
fn tree_site(hit: &Hit) -> Reply {
    let delay = Duration::from_millis(5);
    let node: usize = match hit.path.as_str() {
        "/robots.txt" => return Reply::status(404),
        "/" => 0,
        "/moved" => return Reply::redirect(301, "/p150").delayed(delay),
        "/alias-20" => {
            return Reply::html(
                "<html><head><link rel=\"canonical\" href=\"/p20\"><title>p20</title></head>\
                 <body><p>第二十页的另一个地址, 正文与第二十页相同。</p></body></html>",
            )
            .delayed(delay);
        }
        p => match p.strip_prefix("/p").and_then(|n| n.parse().ok()) {
            Some(n) if (1..200).contains(&n) => n,
            _ => return Reply::status(404),
        },
    };
    let mut links: Vec<String> = [2 * node + 1, 2 * node + 2]
        .into_iter()
        .filter(|c| *c < 200)
        .map(|c| format!("/p{c}"))
        .collect();
    if node == 3 {
        links.push("/alias-20".into());
    }
    if node == 7 {
        links.push("/moved".into());
    }
    let links: Vec<&str> = links.iter().map(String::as_str).collect();
    Reply::page(&format!("page {node}"), &links).delayed(delay)
}

/// The first "done when": SIGKILL at 5 random moments, the same
/// command restarted each time, then run to its end: every page is in the
/// output exactly once by id, no line is partial, and the state is complete.
#[test]
fn kill_9_five_times_then_every_page_is_written_exactly_once() {
    let seed: u64 = std::env::var("PARKCRAWL_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("kill test: seed {seed} (PARKCRAWL_KILL_SEED={seed} repeats these kill points)");
    let mut rng = StdRng::seed_from_u64(seed);
    let server = Server::start_with(2, tree_site);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let state = dir.path().join("state.db");
    let args = [
        "http://k.test/",
        "--state",
        path_str(&state),
        "-o",
        path_str(&out),
        "--rate",
        "0",
    ];
    let started = Instant::now();
    let mut partial_at_kill = 0;
    for kill in 1..=5 {
        // Two kinds of kill point, chosen at random:
        // - once the server has seen a few more page requests, and then a
        //   few milliseconds more: anywhere in fetching or cleaning;
        // - the moment the output has grown by some bytes (watched without
        //   sleeping): right after a record's write, when the writer is
        //   committing it, or still writing it.
        let on_growth = rng.random_bool(0.5);
        let requests = rng.random_range(4..=36);
        let extra = Duration::from_millis(rng.random_range(0..=8));
        let bytes = rng.random_range(1..=40_000u64);
        let before = page_hits(&server).len();
        let size = std::fs::metadata(&out).map_or(0, |m| m.len());
        let log = std::fs::File::create(dir.path().join(format!("run{kill}.stderr"))).unwrap();
        let mut child = crawl_cmd(&server, &["k.test"], &args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        loop {
            if on_growth {
                if std::fs::metadata(&out).map_or(0, |m| m.len()) >= size + bytes {
                    break;
                }
            } else if page_hits(&server).len() >= before + requests {
                std::thread::sleep(extra);
                break;
            }
            if let Some(s) = child.try_wait().unwrap() {
                panic!("run {kill} ended ({s}) before its kill point; seed {seed}");
            }
            if started.elapsed() > Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("run {kill} hangs: no kill point after a minute; seed {seed}");
            }
            if !on_growth {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let bytes_now = std::fs::read(&out).unwrap_or_default();
        let partial = !bytes_now.is_empty() && !bytes_now.ends_with(b"\n");
        partial_at_kill += partial as usize;
        let lines = bytes_now.iter().filter(|&&b| b == b'\n').count();
        let point = if on_growth {
            format!("once the output grew by {bytes} bytes")
        } else {
            format!("after {requests} more page requests + {extra:?}")
        };
        eprintln!(
            "kill {kill}: {point}: {lines} whole lines{}",
            if partial { " and a partial one" } else { "" }
        );
    }
    let last = run(crawl_cmd(&server, &["k.test"], &args));
    let wall = started.elapsed();
    assert_eq!(last.code, 0, "seed {seed}: {}", last.stderr);
    for kill in 2..=5 {
        let log = std::fs::read_to_string(dir.path().join(format!("run{kill}.stderr"))).unwrap();
        assert!(log.contains("resuming the crawl"), "run {kill}: {log}");
    }

    let recs = output(&out);
    let mut ids = HashSet::new();
    for r in &recs {
        assert!(
            ids.insert(r["id"].as_str().unwrap().to_string()),
            "seed {seed}: id {} ({}) written twice",
            r["id"],
            r["url"]
        );
    }
    let want: BTreeMap<String, String> = std::iter::once("http://k.test/".to_string())
        .chain((1..200).map(|i| format!("http://k.test/p{i}")))
        .map(|u| (page_id(&u), u))
        .collect();
    let missing: Vec<&String> = want
        .iter()
        .filter(|(id, _)| !ids.contains(*id))
        .map(|(_, u)| u)
        .collect();
    assert!(
        missing.is_empty(),
        "seed {seed}: {} pages missing: {missing:?}\nlast run: {}",
        missing.len(),
        last.stderr
    );
    assert_eq!(recs.len(), 200, "seed {seed}");

    let st = status_json(&state);
    assert_eq!(st["complete"], true, "{st}");
    assert_eq!(st["running"], false, "{st}");
    assert_eq!(st["pages"]["queued"], 0, "{st}");
    assert_eq!(st["pages"]["fetching"], 0, "{st}");
    assert_eq!(st["pages"]["failed"], 0, "{st}");
    assert_eq!(st["last_run"]["outcome"], "complete", "{st}");
    // What the restarts found: records written but not committed when the
    // kill came, and partial lines cut (`store` explains both).
    let (mut kept, mut cut) = (0, 0);
    let logs = (2..=5)
        .map(|n| std::fs::read_to_string(dir.path().join(format!("run{n}.stderr"))).unwrap())
        .chain([last.stderr.clone()]);
    for log in logs {
        if let Some(l) = log
            .lines()
            .find(|l| l.contains(" record(s) written before"))
        {
            let num = |after: &str| -> usize {
                let rest = &l[l.find(after).unwrap() + after.len()..];
                rest.split(' ').next().unwrap().parse().unwrap()
            };
            kept += num("kept ");
            cut += (num("last line of ") > 0) as usize;
        }
    }
    let requests = page_hits(&server).len();
    eprintln!(
        "kill test: {} records, {requests} page requests for 202 URLs ({} fetched again after a kill); \
         {partial_at_kill} kills left a partial line ({cut} cut on restart), {kept} records were \
         written but not committed (kept on restart); 6 runs in {:.1} s",
        recs.len(),
        requests - 202,
        wall.as_secs_f64()
    );
}

/// The kill that cuts a record mid-write, made exact: a crawl stopped by
/// `--max-pages`, then half of a queued page's record appended as a killed
/// writer would leave it. The next run cuts the half line, writes that page
/// whole, and finishes: every page once, no partial line.
#[test]
fn a_half_written_last_line_is_cut_and_its_page_written_whole() {
    let server = Server::start(tree_site);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let state = dir.path().join("state.db");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "http://k.test/",
            "--state",
            path_str(&state),
            "-o",
            path_str(&out),
            "--rate",
            "0",
            "--max-depth",
            "2",
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let cmd = |a: Vec<String>| {
        crawl_cmd(
            &server,
            &["k.test"],
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let r = run(cmd(args(&["--max-pages", "3"])));
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(output(&out).len(), 3);
    let st = status_json(&state);
    assert_eq!(st["complete"], false, "{st}");
    assert_eq!(st["last_run"]["outcome"], "stopped", "{st}");

    // The record /p3 would get (from a crawl of its own), half written.
    let other = dir.path().join("p3.jsonl");
    let r = run(crawl_cmd(
        &server,
        &["k.test"],
        &[
            "http://k.test/p3",
            "--max-depth",
            "0",
            "--rate",
            "0",
            "-o",
            path_str(&other),
        ],
    ));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = std::fs::read(&other).unwrap();
    let mut bytes = std::fs::read(&out).unwrap();
    bytes.extend_from_slice(&line[..line.len() / 2]);
    std::fs::write(&out, &bytes).unwrap();

    let r = run(cmd(args(&[])));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "kept 0 record(s) written before the last run ended; cut a partial last line of {} bytes",
            line.len() / 2
        )),
        "{}",
        r.stderr
    );
    let recs = output(&out);
    let ids: HashSet<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    // Depth ≤ 2: /, p1, p2, p3–p6.
    assert_eq!(
        recs.len(),
        7,
        "{:?}",
        recs.iter().map(|r| &r["url"]).collect::<Vec<_>>()
    );
    assert_eq!(ids.len(), 7);
    assert!(ids.contains(page_id("http://k.test/p3").as_str()));
    assert_eq!(status_json(&state)["complete"], true);
}

/// SIGTERM stops a state crawl cleanly (pages in flight finish or go back
/// to the queue); the next run picks up the rest.
#[test]
fn sigterm_stops_a_state_crawl_and_the_next_run_finishes_it() {
    let server = Server::start(tree_site);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let state = dir.path().join("state.db");
    let args = [
        "http://k.test/",
        "--state",
        path_str(&state),
        "-o",
        path_str(&out),
        "--rate",
        "0",
    ];
    let mut cmd = crawl_cmd(&server, &["k.test"], &args);
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while page_hits(&server).len() < 20 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let first = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("stopped: "), "{stderr}");
    let st = status_json(&state);
    assert_eq!(st["complete"], false, "{st}");
    assert_eq!(st["last_run"]["outcome"], "stopped", "{st}");
    let written = output(&out).len();
    assert!((19..200).contains(&written), "{written}");

    let r = run(crawl_cmd(&server, &["k.test"], &args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("resuming the crawl"), "{}", r.stderr);
    let recs = output(&out);
    let ids: HashSet<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!((recs.len(), ids.len()), (200, 200));
    assert_eq!(status_json(&state)["complete"], true);
}

/// One page of the incremental site, as the server holds it now.
#[derive(Clone)]
struct Spec {
    version: u32,
    gone: bool,
    etag: bool,
    last_modified: bool,
    /// Answers 304 to a matching validator (else always 200).
    honours: bool,
    links: Vec<String>,
}

type Site = Arc<Mutex<BTreeMap<String, Spec>>>;

/// `/` and `/p1` … `/p11`: ETag only (p1–p4), Last-Modified only (p5–p8),
/// both (p9, p10, `/`), and p11 with both but never answering 304.
fn incremental_site() -> Site {
    let mut pages = BTreeMap::new();
    let spec = |etag, last_modified| Spec {
        version: 1,
        gone: false,
        etag,
        last_modified,
        honours: true,
        links: vec![],
    };
    let mut home = spec(true, true);
    home.links = (1..=11).map(|i| format!("/p{i}")).collect();
    pages.insert("/".to_string(), home);
    for i in 1..=11 {
        let mut s = spec(i <= 4 || i >= 9, i >= 5);
        s.honours = i != 11;
        pages.insert(format!("/p{i}"), s);
    }
    Arc::new(Mutex::new(pages))
}

fn serve(site: &Site, hit: &Hit) -> Reply {
    if hit.path == "/robots.txt" {
        return Reply::status(404);
    }
    let Some(s) = site.lock().unwrap().get(&hit.path).cloned() else {
        return Reply::status(404);
    };
    if s.gone {
        return Reply::status(404);
    }
    let etag = format!("\"{}-v{}\"", hit.path.replace('/', "_"), s.version);
    let modified =
        std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 86_400 * s.version as u64);
    let last_modified = httpdate::fmt_http_date(modified);
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    let not_modified = s.honours
        && match &hit.if_none_match {
            Some(v) => s.etag && *v == etag,
            None => s.last_modified && hit.if_modified_since.as_deref() == Some(&last_modified),
        };
    let mut reply = if not_modified {
        Reply::new(304, "text/html; charset=utf-8", "")
    } else {
        let links: Vec<&str> = s.links.iter().map(String::as_str).collect();
        Reply::page(&format!("{} version {}", hit.path, s.version), &links)
    };
    if s.etag {
        reply = reply.header("etag", &etag);
    }
    if s.last_modified {
        reply = reply.header("last-modified", &last_modified);
    }
    reply
}

fn edit(site: &Site, path: &str, f: impl FnOnce(&mut Spec)) {
    let mut pages = site.lock().unwrap();
    f(pages.entry(path.to_string()).or_insert(Spec {
        version: 1,
        gone: false,
        etag: true,
        last_modified: false,
        honours: true,
        links: vec![],
    }));
}

/// The second "done when", and what follows from it: a rerun with
/// nothing changed emits nothing and asks conditionally for every page; 3
/// pages changed and 1 deleted give exactly 3 records and 1 tombstone; a new
/// link is crawled; `--emit all` gives every page; a rerun before
/// `--recrawl-after` has passed fetches nothing.
#[test]
fn reruns_ask_conditionally_and_emit_only_what_changed() {
    let site = incremental_site();
    let s2 = site.clone();
    let server = Server::start(move |hit: &Hit| serve(&s2, hit));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let rerun = |n: usize, extra: &[&str]| -> (Run, Vec<Value>, Vec<Hit>) {
        let seen = page_hits(&server).len();
        let out = dir.path().join(format!("out{n}.jsonl"));
        let mut args = vec![
            "http://r.test/",
            "--state",
            path_str(&state),
            "-o",
            path_str(&out),
            "--rate",
            "0",
        ];
        args.extend_from_slice(extra);
        let r = run(crawl_cmd(&server, &["r.test"], &args));
        assert_eq!(r.code, 0, "run {n}: {}", r.stderr);
        assert!(r.stdout.is_empty());
        let hits = page_hits(&server)[seen..].to_vec();
        (r, output(&out), hits)
    };
    let urls = |recs: &[Value]| -> Vec<String> {
        let mut u: Vec<String> = recs
            .iter()
            .filter(|r| r.get("deleted").is_none())
            .map(|r| r["url"].as_str().unwrap().to_string())
            .collect();
        u.sort();
        u
    };

    let (_, recs, hits) = rerun(1, &[]);
    assert_eq!(recs.len(), 12);
    assert!(hits.iter().all(|h| !h.conditional()));

    // Nothing changed.
    let (r, recs, hits) = rerun(2, &["--recrawl-after", "0s"]);
    assert_eq!(recs.len(), 0, "{recs:?}");
    assert_eq!(hits.len(), 12, "every known page is revisited once");
    for h in &hits {
        assert!(h.conditional(), "{} was not conditional", h.path);
    }
    assert!(
        hits.iter()
            .filter(|h| h.path == "/p1")
            .all(|h| h.if_none_match.as_deref() == Some("\"_p1-v1\"")),
        "the stored ETag is sent back"
    );
    assert!(hits.iter().any(|h| {
        h.path == "/p5"
            && h.if_modified_since.as_deref()
                == Some(httpdate::fmt_http_date(
                    std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 86_400),
                ))
                .as_deref()
    }));
    assert!(r.stderr.contains("0 pages ok"), "{}", r.stderr);
    assert!(r.stderr.contains("12 unchanged, 0 deleted"), "{}", r.stderr);

    // 3 changed (an ETag page, a Last-Modified page, one with both), 1 gone.
    for p in ["/p2", "/p6", "/p10"] {
        edit(&site, p, |s| s.version += 1);
    }
    edit(&site, "/p4", |s| s.gone = true);
    let (r, recs, hits) = rerun(3, &["--recrawl-after", "0s"]);
    assert_eq!(recs.len(), 4, "{recs:?}");
    assert_eq!(
        urls(&recs),
        ["http://r.test/p10", "http://r.test/p2", "http://r.test/p6"]
    );
    assert!(hits.iter().all(Hit::conditional));
    let tomb: Vec<&Value> = recs.iter().filter(|r| r.get("deleted").is_some()).collect();
    assert_eq!(tomb.len(), 1);
    let at = tomb[0]["deleted_at"].as_str().unwrap();
    assert!(
        at.len() == 20 && at.ends_with('Z') && at.parse::<jiff::Timestamp>().is_ok(),
        "{at}"
    );
    let mut masked = tomb[0].clone();
    masked["deleted_at"] = Value::String("<time>".into());
    assert_eq!(
        serde_json::to_string(&masked).unwrap(),
        format!(
            "{{\"type\":\"tombstone\",\"schema_version\":1,\"id\":\"{}\",\"url\":\"http://r.test/p4\",\"deleted\":true,\
             \"deleted_at\":\"<time>\",\"status\":404}}",
            page_id("http://r.test/p4")
        )
    );
    let p2 = recs
        .iter()
        .find(|r| r["url"] == "http://r.test/p2")
        .unwrap();
    assert_eq!(p2["fetch"]["etag"], "\"_p2-v2\"");
    assert!(p2["text"].as_str().unwrap().contains("version 2"));
    assert!(
        r.stderr
            .contains("http://r.test/p4: gone (HTTP 404 Not Found): tombstone written")
    );
    assert!(r.stderr.contains("3 pages ok, 0 failed"), "{}", r.stderr);
    assert!(r.stderr.contains("8 unchanged, 1 deleted"), "{}", r.stderr);
    let st = status_json(&state);
    assert_eq!(st["last_run"]["records"], 3, "{st}");
    assert_eq!(st["last_run"]["deleted"], 1, "{st}");
    assert_eq!(st["complete"], true);

    // A changed page links to a new one: both are written; the page still
    // gone gives no second tombstone.
    edit(&site, "/new", |_| {});
    edit(&site, "/p3", |s| {
        s.version += 1;
        s.links.push("/new".into());
    });
    let (_, recs, hits) = rerun(4, &["--recrawl-after", "0s"]);
    assert_eq!(urls(&recs), ["http://r.test/new", "http://r.test/p3"]);
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(hits.iter().filter(|h| h.path == "/p4").count(), 1);

    // --emit all: every page, fetched without validators.
    let (_, recs, hits) = rerun(5, &["--recrawl-after", "0s", "--emit", "all"]);
    assert_eq!(recs.len(), 12, "{:?}", urls(&recs));
    assert!(!urls(&recs).contains(&"http://r.test/p4".to_string()));
    assert!(hits.iter().all(|h| !h.conditional()));

    // Within the default day: nothing is due, nothing is asked for.
    let (r, recs, hits) = rerun(6, &[]);
    assert!(recs.is_empty() && hits.is_empty(), "{hits:?}");
    assert!(r.stderr.contains("revisiting 0 page(s)"), "{}", r.stderr);
    let st = status_json(&state);
    assert_eq!(st["cycle"], 6, "{st}");
    assert_eq!(
        st["pages"],
        serde_json::json!({"queued": 0, "fetching": 0, "done": 13, "failed": 0, "skipped": 0})
    );
}

/// A second run on a state in use exits at once with its own code and one
/// line naming the state, and touches nothing.
#[test]
fn a_second_run_on_a_locked_state_exits_3_and_touches_nothing() {
    let server = Server::start(|_: &Hit| Reply::page("never", &[]));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, "{\"kept\":true}\n{\"partial").unwrap();
    let held = parkcrawl::store::StateStore::open(&state).unwrap();
    let r = run(crawl_cmd(
        &server,
        &["l.test"],
        &[
            "http://l.test/",
            "--state",
            path_str(&state),
            "-o",
            path_str(&out),
        ],
    ));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "parkcrawl: state file {0} is in use by another parkcrawl run (lock {0}.lock)\n",
            state.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "{\"kept\":true}\n{\"partial"
    );
    assert!(server.hits().is_empty());
    // status reads a state in use.
    assert_eq!(status_json(&state)["running"], true);
    drop(held);
    assert_eq!(status_json(&state)["running"], false);
}

/// A job file holds the flags (paths relative to it); flags given override
/// it; an unknown key stops the run naming the file and the key.
#[test]
fn a_job_file_holds_the_flags_and_flags_override_it() {
    let server = Server::start(|hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/" => Reply::page("home", &["/a", "/b", "/forbidden"]),
        "/forbidden" => Reply::status(403),
        p => Reply::page(p, &[]),
    });
    let jobs = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let job = jobs.path().join("daily.toml");
    std::fs::write(
        &job,
        format!(
            "# the daily job\nseeds = [\"http://c.test/\"]\nrate = 0\nresolve = [\"c.test:{}\"]\n\
             state = \"state/c.db\"\noutput = \"out.jsonl\"\nerrors = \"errors.jsonl\"\n\
             max-depth = 0\nrecrawl-after = \"12h\"\n",
            server.addr
        ),
    )
    .unwrap();
    std::fs::create_dir(jobs.path().join("state")).unwrap();
    let crawl = |args: &[&str]| {
        let mut cmd = support::bin();
        cmd.current_dir(elsewhere.path()).arg("crawl").args(args);
        run(cmd)
    };
    let r = crawl(&["--config", path_str(&job)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let recs = output(&jobs.path().join("out.jsonl"));
    assert_eq!(recs.len(), 1, "max-depth 0 from the file");
    assert!(jobs.path().join("state/c.db").is_file());

    // Flags win: another output (relative to the working directory), a
    // deeper crawl, an earlier revisit.
    let r = crawl(&[
        "--config",
        path_str(&job),
        "-o",
        "mine.jsonl",
        "--max-depth",
        "1",
        "--recrawl-after",
        "0s",
    ]);
    assert_eq!(r.code, 1, "the 403 is a failure: {}", r.stderr);
    let mut got: Vec<String> = output(&elsewhere.path().join("mine.jsonl"))
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(
        got,
        ["http://c.test/a", "http://c.test/b"],
        "/ is unchanged"
    );
    assert_eq!(output(&jobs.path().join("out.jsonl")).len(), 1);

    let status = support::run(&[
        "status".into(),
        "--config".into(),
        job.display().to_string(),
    ]);
    let text = String::from_utf8(status.stdout).unwrap();
    assert!(text.contains("crawl:     complete"), "{text}");
    assert!(
        text.contains("pages:     0 queued, 0 fetching, 3 done, 1 failed, 0 skipped"),
        "{text}"
    );
    assert!(text.contains("failures:  c.test:80 1 (http 1)"), "{text}");
    assert!(
        text.contains(": 2 records, 0 deleted, 1 unchanged, 1 failed"),
        "{text}"
    );

    std::fs::write(&job, "seeds = [\"http://c.test/\"]\n\nratee = 3\n").unwrap();
    let r = crawl(&["--config", path_str(&job)]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!(
            "parkcrawl: {}: line 3: unknown field `ratee`",
            job.display()
        )),
        "{}",
        r.stderr
    );
}
