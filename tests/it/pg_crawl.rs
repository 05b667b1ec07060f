//! `crawl --state postgres://…`: the crawl on a real PostgreSQL server
//! (`support::pg`) against real loopback sites (`support::server`), with
//! the real binary as child processes; and the frontier's epoch guard
//! through the library. The 3-worker kill test lives with the fleet tests.

use std::collections::{BTreeMap, HashSet};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::state::{crawl_cmd, output, path_str, run};
use crate::support::pg::Postgres;
use crate::support::server::{Hit, Reply, Server};
use crate::support::{self, records};

/// Two hosts that link to each other: a redirect within the first, a page
/// naming another as canonical on the second (its record shares that
/// page's id), a 404, and robots.txt that disallows a path.
fn two_hosts(hit: &Hit) -> Reply {
    let a = hit.host == "a.test";
    match (a, hit.path.as_str()) {
        (_, "/robots.txt") => Reply::text("User-agent: *\nDisallow: /private\n"),
        (true, "/") => Reply::page(
            "a home",
            &["/n1", "/n2", "/old", "/private/x", "http://b.test/"],
        ),
        (true, "/old") => Reply::redirect(301, "/n3"),
        (true, p @ ("/n1" | "/n2" | "/n3")) => Reply::page(&format!("a {p}"), &["/", "/gone"]),
        (false, "/") => Reply::page("b home", &["/s1", "/s2", "/copy", "http://a.test/n1"]),
        (false, "/copy") => Reply::html(
            "<html><head><link rel=\"canonical\" href=\"http://b.test/s1\"><title>b /s1</title></head>\
             <body><h1>b /s1</h1><p>b /s1: 园区新闻与招商政策的正文段落, 足够长以便被当作正文。</p></body></html>",
        ),
        (false, p @ ("/s1" | "/s2")) => Reply::page(&format!("b {p}"), &["/"]),
        _ => Reply::status(404),
    }
}

/// A record without what differs between two fetches of one page.
fn comparable(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("fetch");
        o.remove("crawled_at");
        o.remove("fetched_at");
    }
    v
}

/// The records by id, each once (a second one with an id fails).
fn by_id(recs: Vec<Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for r in recs {
        let id = r["id"].as_str().expect("a record has an id").to_string();
        let url = r["url"].clone();
        assert!(
            out.insert(id.clone(), comparable(r)).is_none(),
            "record {id} ({url}) exported twice"
        );
    }
    out
}

fn export(url: &str, out: &std::path::Path) {
    let got = support::bin()
        .args(["export", "--state", url, "-o"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        got.status.success(),
        "export: {}",
        String::from_utf8_lossy(&got.stderr)
    );
}

#[test]
fn one_worker_on_postgres_gives_the_records_of_a_sqlite_crawl() {
    let Some(pg) =
        Postgres::start_or_skip("one_worker_on_postgres_gives_the_records_of_a_sqlite_crawl")
    else {
        return;
    };
    let server = Server::start(two_hosts);
    let dir = tempfile::tempdir().unwrap();
    let sqlite_out = dir.path().join("sqlite.jsonl");
    let state = dir.path().join("state.db");
    let hosts = ["a.test", "b.test"];
    let common = ["http://a.test/", "http://b.test/", "--rate", "0"];
    let mut args = common.to_vec();
    args.extend(["--state", path_str(&state), "-o", path_str(&sqlite_out)]);
    let lite = run(crawl_cmd(&server, &hosts, &args));
    assert_eq!(lite.code, 1, "a 404 is a failure: {}", lite.stderr);
    let url = pg.url();
    let mut args = common.to_vec();
    args.extend(["--state", &url, "--worker", "solo"]);
    let on_pg = run(crawl_cmd(&server, &hosts, &args));
    assert_eq!(on_pg.code, 1, "{}", on_pg.stderr);
    assert!(
        on_pg.stdout.is_empty(),
        "records go to the database, not stdout"
    );
    assert!(
        on_pg.stderr.contains("parkcrawl [solo]: "),
        "lines name the worker: {}",
        on_pg.stderr
    );
    let pg_out = dir.path().join("pg.jsonl");
    export(&url, &pg_out);
    let expected = by_id(output(&sqlite_out));
    assert_eq!(
        expected.len(),
        7,
        "a: /, n1, n2, n3; b: /, s1 (once), s2: {expected:#?}"
    );
    assert_eq!(by_id(output(&pg_out)), expected);
}

#[test]
fn two_workers_share_one_job_and_every_page_is_exported_once() {
    let Some(pg) =
        Postgres::start_or_skip("two_workers_share_one_job_and_every_page_is_exported_once")
    else {
        return;
    };
    // Four hosts of 25 pages each, linked in a chain and back to the home
    // page; each answer takes a little while, so both workers are at work.
    let server = Server::start_with(2, |hit: &Hit| {
        if hit.path == "/robots.txt" {
            return Reply::status(404);
        }
        let n: usize = match hit.path.as_str() {
            "/" => 0,
            p => match p.strip_prefix("/p").and_then(|n| n.parse().ok()) {
                Some(n) if n < 25 => n,
                _ => return Reply::status(404),
            },
        };
        let next = format!("/p{}", n + 1);
        let links: Vec<&str> = if n + 1 < 25 {
            vec![&next, "/"]
        } else {
            vec!["/"]
        };
        Reply::page(&format!("{} {n}", hit.host), &links).delayed(Duration::from_millis(10))
    });
    let hosts = ["h1.test", "h2.test", "h3.test", "h4.test"];
    let seeds: Vec<String> = hosts.iter().map(|h| format!("http://{h}/")).collect();
    let url = pg.url();
    let worker = |name: &str| -> Command {
        let mut args: Vec<&str> = seeds.iter().map(String::as_str).collect();
        args.extend([
            "--rate", "0", "--state", &url, "--worker", name, "--lease", "2s",
        ]);
        crawl_cmd(&server, &hosts, &args)
    };
    let (one, two) = std::thread::scope(|s| {
        let a = s.spawn(|| run(worker("w1")));
        let b = s.spawn(|| run(worker("w2")));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(one.code, 0, "w1: {}", one.stderr);
    assert_eq!(two.code, 0, "w2: {}", two.stderr);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.jsonl");
    export(&url, &out);
    let got = by_id(output(&out));
    let urls: HashSet<String> = got
        .values()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    let mut want = HashSet::new();
    for h in hosts {
        want.insert(format!("http://{h}/"));
        for n in 1..25 {
            want.insert(format!("http://{h}/p{n}"));
        }
    }
    assert_eq!(urls, want);
    // Every page was fetched once: no worker fetched another's page.
    let pages: Vec<Hit> = server
        .hits()
        .into_iter()
        .filter(|h| h.path != "/robots.txt")
        .collect();
    assert_eq!(
        pages.len(),
        100,
        "{:?}",
        pages
            .iter()
            .map(|h| format!("{}{}", h.host, h.path))
            .collect::<Vec<_>>()
    );
    // A third run finds the job complete: the next cycle (nothing is old
    // enough to revisit) ends at once with no record.
    let mut args: Vec<&str> = seeds.iter().map(String::as_str).collect();
    args.extend(["--rate", "0", "--state", &url, "--worker", "w3"]);
    let three = run(crawl_cmd(&server, &hosts, &args));
    assert_eq!(three.code, 0, "{}", three.stderr);
    assert!(three.stderr.contains("cycle 2 starts"), "{}", three.stderr);
    let again = dir.path().join("again.jsonl");
    export(&url, &again);
    assert_eq!(records(&std::fs::read(&again).unwrap()).len(), 0);
}
