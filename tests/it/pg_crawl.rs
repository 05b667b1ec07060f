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

/// The epoch guard through the frontier and the ledger, as a worker that
/// stalled past its lease meets it: the host taken over, its record and its
/// failure are refused (nothing written, both counted), its buffer dropped,
/// and the pages are the new holder's.
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_whose_lease_was_taken_over_commits_nothing() {
    use parkcrawl::crawl::frontier::{Entry, Frontier, Visit};
    use parkcrawl::crawl::sink::{Landed, Ledger, Line};
    use parkcrawl::fetch::ErrorKind;
    use parkcrawl::store::postgres::{PgStore, PgWorker};
    let Some(pg) = Postgres::start_or_skip("a_worker_whose_lease_was_taken_over_commits_nothing")
    else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    store
        .begin_job("w1", Duration::from_secs(3600))
        .await
        .unwrap();
    let lease = Duration::from_millis(300);
    // No heartbeat: this worker stalls.
    let w1 = PgWorker::new(store.clone(), "w1", lease);
    let mut frontier = w1.frontier();
    let u = |p: &str| url::Url::parse(&format!("http://s.test/{p}")).unwrap();
    let pushed = frontier
        .push_all(vec![
            Entry::page(u("1"), 0),
            Entry::page(u("2"), 0),
            Entry::page(u("3"), 0),
        ])
        .await
        .unwrap();
    assert_eq!(pushed, 3);
    frontier.poll(8).await.unwrap();
    assert_eq!(
        frontier.queued(),
        3,
        "the host is leased, its pages buffered"
    );
    let first = frontier.pop(&mut |_| true).await.unwrap().unwrap();
    let second = frontier.pop(&mut |_| true).await.unwrap().unwrap();
    // Past the lease (by the database's clock), another worker takes over.
    tokio::time::sleep(lease * 2).await;
    let taken = store
        .claim_host("w2", Duration::from_secs(60))
        .await
        .unwrap()
        .expect("the expired lease is taken over");
    assert_eq!(taken.host, "s.test:80");
    let json = r#"{"id":"x1","url":"http://s.test/1"}"#;
    let visit = Visit {
        record_id: Some("x1".into()),
        content_hash: Some("sha256:0".into()),
        emitted: true,
        ..Visit::default()
    };
    let line = Line {
        id: "x1",
        deleted: false,
        json,
    };
    let mut ledger = w1.ledger();
    let landed = ledger
        .written(&first.url, &visit, None, Some(line))
        .await
        .unwrap();
    assert_eq!(landed, Landed::Refused);
    assert!(
        store.records_after(0, 10).await.unwrap().is_empty(),
        "no record under a stale epoch"
    );
    assert_eq!(frontier.queued(), 0, "the lost host's buffer is dropped");
    frontier
        .failed(&second.url, ErrorKind::Http, Some(500))
        .await
        .unwrap();
    assert_eq!(w1.refused(), 2);
    assert!(frontier.pop(&mut |_| true).await.unwrap().is_none());
    // Every page is queued again, for the new holder.
    let pages = store.claim_pages(&taken, 10).await.unwrap();
    let urls: Vec<&str> = pages.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(
        urls,
        ["http://s.test/1", "http://s.test/2", "http://s.test/3"]
    );
}

#[test]
fn a_postgresql_state_refuses_an_output_file() {
    let out = support::run(&[
        "crawl".into(),
        "http://a.test/".into(),
        "--state".into(),
        "postgres://crawl@127.0.0.1:1/parks".into(),
        "-o".into(),
        "out.jsonl".into(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "parkcrawl: -o: a PostgreSQL state keeps the records in the database: write them out with `parkcrawl export --state URL -o FILE`\n"
    );
}

/// The next cycle on PostgreSQL, as on SQLite: with nothing changed, every
/// page is fetched again (conditionally, with its ETag) and gives no record;
/// with a page changed and one gone, one record and one tombstone.
#[test]
fn the_next_cycle_emits_only_changes_and_tombstones() {
    use std::sync::{Arc, Mutex};
    let Some(pg) = Postgres::start_or_skip("the_next_cycle_emits_only_changes_and_tombstones")
    else {
        return;
    };
    // (version of /a, /b still there)
    let site = Arc::new(Mutex::new((1, true)));
    let s = site.clone();
    let server = Server::start(move |hit: &Hit| {
        let (version, b) = *s.lock().unwrap();
        let tag = format!("\"{}-{version}\"", hit.path);
        let page = |title: &str, links: &[&str]| {
            if hit.if_none_match.as_deref() == Some(tag.as_str()) {
                return Reply::status(304).header("etag", &tag);
            }
            Reply::page(title, links).header("etag", &tag)
        };
        match hit.path.as_str() {
            "/robots.txt" => Reply::status(404),
            "/" => page("home", &["/a", "/b", "/c"]),
            "/a" => page(&format!("a version {version}"), &["/"]),
            "/b" if b => page("b", &["/"]),
            "/c" => page("c", &["/"]),
            _ => Reply::status(404),
        }
    });
    let url = pg.url();
    let crawl = || {
        let args = [
            "http://c.test/",
            "--rate",
            "0",
            "--state",
            &url,
            "--recrawl-after",
            "0s",
        ];
        run(crawl_cmd(&server, &["c.test"], &args))
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let first = crawl();
    assert_eq!(first.code, 0, "{}", first.stderr);
    export(&url, &out);
    assert_eq!(output(&out).len(), 4);
    let before = server.hits().len();
    let second = crawl();
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("cycle 2 starts, revisiting 4 page(s)"),
        "{}",
        second.stderr
    );
    let revisits: Vec<Hit> = server.hits()[before..]
        .iter()
        .filter(|h| h.path != "/robots.txt")
        .cloned()
        .collect();
    assert_eq!(revisits.len(), 4, "{revisits:?}");
    assert!(revisits.iter().all(Hit::conditional), "{revisits:?}");
    export(&url, &out);
    assert_eq!(output(&out).len(), 4, "nothing changed: no record");
    *site.lock().unwrap() = (2, false);
    let third = crawl();
    assert_eq!(third.code, 0, "{}", third.stderr);
    export(&url, &out);
    let all = output(&out);
    let news: Vec<(String, bool)> = all[4..]
        .iter()
        .map(|r| (r["url"].as_str().unwrap().to_string(), r["deleted"] == true))
        .collect();
    let mut news = news;
    news.sort();
    assert_eq!(
        news,
        [
            ("http://c.test/a".to_string(), false),
            ("http://c.test/b".to_string(), true)
        ]
    );
}

/// The fetcher's shared pace on the hosts table: the host's own interval
/// written when first met, robots.txt's Crawl-delay and a Retry-After
/// written so that every worker's next slot keeps them (read back through
/// the slots the store hands out, on the database's clock).
#[tokio::test(flavor = "multi_thread")]
async fn the_shared_pace_writes_the_interval_crawl_delay_and_retry_after() {
    use parkcrawl::fetch::pace::SharedPace;
    use parkcrawl::store::postgres::{PgPace, PgStore};
    let Some(pg) =
        Postgres::start_or_skip("the_shared_pace_writes_the_interval_crawl_delay_and_retry_after")
    else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    let key = "p.test:80";
    // 0.5 requests per second for p.test: one every 2 s.
    let pace = PgPace::new(
        store.clone(),
        std::sync::Arc::new(|host: &str| if host == "p.test" { 0.5 } else { 9.0 }),
    );
    // A first request of a host never met goes at once.
    tokio::time::timeout(Duration::from_secs(60), pace.before_request(key))
        .await
        .expect("the first slot is now");
    let slot = store.reserve_slot(key).await.unwrap();
    assert_eq!(slot.interval_ms, 2000);
    assert!(
        slot.wait_micros > 0,
        "the second slot is one interval later"
    );
    pace.crawl_delay(key, Some(Duration::from_secs(3))).await;
    assert_eq!(store.reserve_slot(key).await.unwrap().interval_ms, 3000);
    pace.crawl_delay(key, None).await;
    assert_eq!(store.reserve_slot(key).await.unwrap().interval_ms, 2000);
    pace.retry_after(key, Duration::from_secs(600)).await;
    let slot = store.reserve_slot(key).await.unwrap();
    assert!(
        slot.wait_micros > 590_000_000,
        "no slot during the Retry-After: {slot:?}"
    );
}

/// Fair shares: a worker alone leases every host with work; when a second
/// worker comes alive, the first yields the hosts past its share, ceil(4 /
/// 2) = 2, and the newcomer gets exactly those.
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_yields_the_hosts_past_its_fair_share_to_a_newcomer() {
    use parkcrawl::crawl::frontier::{Entry, Frontier};
    use parkcrawl::store::postgres::{PgStore, PgWorker};
    let Some(pg) =
        Postgres::start_or_skip("a_worker_yields_the_hosts_past_its_fair_share_to_a_newcomer")
    else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    store
        .begin_job("w1", Duration::from_secs(3600))
        .await
        .unwrap();
    let ttl = Duration::from_secs(60);
    let w1 = PgWorker::new(store.clone(), "w1", ttl);
    let mut frontier = w1.frontier();
    let seeds: Vec<Entry> = (1..=4)
        .map(|i| Entry::page(url::Url::parse(&format!("http://f{i}.test/")).unwrap(), 0))
        .collect();
    assert_eq!(frontier.push_all(seeds).await.unwrap(), 4);
    frontier.poll(32).await.unwrap();
    assert_eq!(frontier.queued(), 4, "alone, w1 leases all four hosts");
    assert!(store.claim_host("w2", ttl).await.unwrap().is_none());
    // w2 comes alive; at w1's next periodic look, its share is 2.
    store.heartbeat("w2").await.unwrap();
    tokio::time::sleep(parkcrawl::store::postgres::frontier::POLL_EVERY * 2).await;
    frontier.poll(32).await.unwrap();
    frontier.poll(32).await.unwrap();
    assert_eq!(
        frontier.queued(),
        2,
        "two hosts yielded, their pages with them"
    );
    let mut got = Vec::new();
    while let Some(lease) = store.claim_host("w2", ttl).await.unwrap() {
        got.push(lease.host);
    }
    assert_eq!(got.len(), 2, "{got:?}");
    let mut mine: Vec<String> = Vec::new();
    while let Some(e) = frontier.pop(&mut |_| true).await.unwrap() {
        mine.push(parkcrawl::fetch::host_key(&e.url));
    }
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|h| !got.contains(h)), "{mine:?} {got:?}");
}

/// Learned duplicate rules are shared: the rules a worker saves for a host
/// reach the worker that leases the host next.
#[tokio::test(flavor = "multi_thread")]
async fn learned_rules_reach_the_next_holder_of_a_host() {
    use parkcrawl::crawl::dust::{Learned, Rewrite, Standing};
    use parkcrawl::crawl::frontier::{Entry, Frontier};
    use parkcrawl::store::postgres::{PgStore, PgWorker};
    let Some(pg) = Postgres::start_or_skip("learned_rules_reach_the_next_holder_of_a_host") else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    store
        .begin_job("w1", Duration::from_secs(3600))
        .await
        .unwrap();
    let ttl = Duration::from_secs(60);
    let rule = Learned {
        host: "d.test".into(),
        rewrite: Rewrite::StripSlash,
        confirmations: 3,
        standing: Standing::Confirmed,
    };
    let mut one = PgWorker::new(store.clone(), "w1", ttl).frontier();
    one.save_dust(std::slice::from_ref(&rule)).await.unwrap();
    let other = Learned {
        host: "e.test".into(),
        ..rule.clone()
    };
    one.save_dust(std::slice::from_ref(&other)).await.unwrap();
    assert_eq!(one.dust_rules().await.unwrap(), [rule.clone(), other]);
    let page = Entry::page(url::Url::parse("http://d.test/a/").unwrap(), 0);
    assert!(one.push(page).await.unwrap());
    let mut two = PgWorker::new(store.clone(), "w2", ttl).frontier();
    assert!(two.take_learned().is_empty());
    two.poll(8).await.unwrap();
    assert_eq!(two.queued(), 1, "w2 leased d.test");
    assert_eq!(two.take_learned(), [rule], "only the leased host's rules");
    assert!(two.take_learned().is_empty(), "taken once");
}
