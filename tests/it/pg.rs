//! The PostgreSQL store (`store::postgres`) against a real server that the
//! test starts (`support::pg`), and `parkcrawl export` as a child process.
//! Records are real: the `clean` output of bundled fixture pages, and a
//! tombstone; exports are compared with them byte for byte.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use parkcrawl::store::postgres::{
    Lease, PageCommit, PageEnd, PgStore, SCHEMA_VERSION, StoredRecord,
};

use crate::support::{self, pg::Postgres};

/// Real records: `clean` of the fixture pages with a URL, in manifest order.
fn fixture_records(n: usize) -> Vec<StoredRecord> {
    support::manifest()
        .iter()
        .filter(|p| p.url.is_some())
        .take(n)
        .map(|p| {
            let out = support::run(&p.clean_args());
            assert!(out.status.success(), "clean {}", p.file);
            let line = String::from_utf8(out.stdout)
                .unwrap()
                .trim_end()
                .to_string();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            StoredRecord {
                id: v["id"].as_str().unwrap().to_string(),
                deleted: false,
                line,
            }
        })
        .collect()
}

/// A tombstone as a recrawl writes it (SCHEMA).
fn tombstone(url: &str) -> StoredRecord {
    let t = parkcrawl::document::Tombstone {
        line_type: parkcrawl::document::LineType::Tombstone,
        schema_version: parkcrawl::document::SCHEMA_VERSION,
        id: parkcrawl::document::page_id(url),
        url: url.to_string(),
        deleted: true,
        deleted_at: "2026-03-01T08:00:00Z".to_string(),
        status: 404,
    };
    StoredRecord {
        id: t.id.clone(),
        deleted: true,
        line: serde_json::to_string(&t).unwrap(),
    }
}

fn url_of(r: &StoredRecord) -> String {
    let v: serde_json::Value = serde_json::from_str(&r.line).unwrap();
    v["url"].as_str().unwrap().to_string()
}

/// Commits each record, in order, as a worker would: queue its page, lease
/// its host, take the page in flight, commit, hand the host back.
async fn commit_all(store: &PgStore, records: &[StoredRecord]) {
    for r in records {
        let url = url_of(r);
        // A known page (a tombstone's) comes back as in a recrawl.
        if store.add_pages(&[(url.clone(), 0)]).await.unwrap() == 0 {
            assert_eq!(
                store
                    .requeue_urls(std::slice::from_ref(&url))
                    .await
                    .unwrap(),
                1
            );
        }
        let lease = store
            .claim_host("seeder", Duration::from_secs(60))
            .await
            .unwrap()
            .expect("the page's host has work");
        let pages = store.claim_pages(&lease, 10).await.unwrap();
        let page = pages.iter().find(|p| p.url == url).expect("page claimed");
        let commit = done(page.id, Some(r.clone()));
        assert!(store.commit_page(&lease, &commit).await.unwrap());
        assert!(store.release_lease(&lease).await.unwrap());
    }
}

fn done(page_id: i64, record: Option<StoredRecord>) -> PageCommit {
    PageCommit {
        page_id,
        end: PageEnd::Done,
        etag: Some("\"v1\"".into()),
        last_modified: None,
        content_hash: Some("abc".into()),
        record,
    }
}

fn expected_output(records: &[StoredRecord]) -> String {
    records.iter().map(|r| format!("{}\n", r.line)).collect()
}

fn export(url: &str, out: &Path, cursor: &str) -> std::process::Output {
    support::bin()
        .args(["export", "--state", url, "--cursor", cursor, "-o"])
        .arg(out)
        .output()
        .unwrap()
}

/// Waits (bounded, as a guard against a hang, not a measurement) until
/// `path` holds `lines` whole lines.
fn wait_for_lines(path: &Path, lines: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.ends_with('\n') && text.lines().count() >= lines {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never reached {lines} lines: {text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn pg_schema_is_created_then_reopened_with_its_version() {
    let Some(pg) = Postgres::start_or_skip("pg_schema_is_created_then_reopened_with_its_version")
    else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    let added = store
        .add_pages(&[
            ("http://a.example/1".into(), 0),
            ("http://a.example/2".into(), 1),
        ])
        .await
        .unwrap();
    assert_eq!(added, 2);
    drop(store);
    // A second open migrates nothing and keeps the data.
    let store = PgStore::open(&pg.url()).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(
        store.page_counts().await.unwrap(),
        vec![("queued".to_string(), 2)]
    );
    let again = store
        .add_pages(&[("http://a.example/1".into(), 0)])
        .await
        .unwrap();
    assert_eq!(again, 0, "a seen URL is not queued twice");
    // A schema newer than this parkcrawl is refused, naming the versions.
    let (client, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .execute("UPDATE parkcrawl_schema SET version = 99", &[])
        .await
        .unwrap();
    let err = PgStore::open(&pg.url())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: schema version 99 is newer than this parkcrawl knows ({SCHEMA_VERSION}): upgrade parkcrawl",
            pg.url()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_two_clients_reserving_slots_keep_the_interval() {
    let Some(pg) = Postgres::start_or_skip("pg_two_clients_reserving_slots_keep_the_interval")
    else {
        return;
    };
    let a = PgStore::open(&pg.url()).await.unwrap();
    let b = PgStore::open(&pg.url()).await.unwrap();
    let host = "slots.example";
    a.set_interval(host, Duration::from_millis(50))
        .await
        .unwrap();
    let take = |s: PgStore| {
        tokio::spawn(async move {
            let mut at = Vec::new();
            for _ in 0..15 {
                at.push(s.reserve_slot(host).await.unwrap());
            }
            at
        })
    };
    let (ta, tb) = (take(a.clone()), take(b.clone()));
    let mut slots = ta.await.unwrap();
    slots.extend(tb.await.unwrap());
    assert_eq!(slots.len(), 30);
    slots.sort_by_key(|s| s.at_micros);
    for w in slots.windows(2) {
        assert!(
            w[1].at_micros - w[0].at_micros >= 50_000,
            "two slots {} µs apart: {w:?}",
            w[1].at_micros - w[0].at_micros
        );
    }
    // Crawl-delay widens the gap for every client.
    b.set_crawl_delay(host, Some(Duration::from_millis(300)))
        .await
        .unwrap();
    let s1 = a.reserve_slot(host).await.unwrap();
    let s2 = b.reserve_slot(host).await.unwrap();
    assert_eq!(s2.interval_ms, 300);
    assert!(s2.at_micros - s1.at_micros >= 300_000, "{s1:?} {s2:?}");
    // Retry-After: no slot before it ends, and a shorter one later does
    // not cut it short.
    let (client, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let before: i64 = client
        .query_one("SELECT (extract(epoch FROM now()) * 1000000)::bigint", &[])
        .await
        .unwrap()
        .get(0);
    a.set_retry_after(host, Duration::from_secs(30))
        .await
        .unwrap();
    b.set_retry_after(host, Duration::from_secs(1))
        .await
        .unwrap();
    let s3 = b.reserve_slot(host).await.unwrap();
    assert!(s3.at_micros - before >= 30_000_000, "{before} {s3:?}");
}

#[tokio::test]
async fn pg_a_lease_taken_over_fences_its_old_holder() {
    let Some(pg) = Postgres::start_or_skip("pg_a_lease_taken_over_fences_its_old_holder") else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    let rec = fixture_records(1).remove(0);
    let url = url_of(&rec);
    store.add_pages(&[(url.clone(), 0)]).await.unwrap();
    let minute = Duration::from_secs(60);
    let a = store
        .claim_host("a", minute)
        .await
        .unwrap()
        .expect("a gets the host");
    assert_eq!(a.epoch, 1);
    let a_pages = store.claim_pages(&a, 10).await.unwrap();
    assert_eq!(a_pages.len(), 1);
    // A live lease is not taken.
    assert_eq!(store.claim_host("b", minute).await.unwrap(), None);
    // a stalls past its lease (renewed to expire now, as a missed heartbeat
    // would leave it); b takes the host over, epoch bumped, page requeued.
    assert!(store.renew_lease(&a, Duration::ZERO).await.unwrap());
    let b = store
        .claim_host("b", minute)
        .await
        .unwrap()
        .expect("expired lease taken");
    assert_eq!(
        b,
        Lease {
            host: a.host.clone(),
            worker: "b".into(),
            epoch: 2
        }
    );
    assert_eq!(
        store.page_counts().await.unwrap(),
        vec![("queued".to_string(), 1)]
    );
    // a resumes: its commit writes nothing, its renewal says it lost.
    assert!(
        !store
            .commit_page(&a, &done(a_pages[0].id, Some(rec.clone())))
            .await
            .unwrap()
    );
    assert!(store.records_after(0, 10).await.unwrap().is_empty());
    assert!(!store.renew_lease(&a, minute).await.unwrap());
    // b fetches the page again and commits it: one record.
    let b_pages = store.claim_pages(&b, 10).await.unwrap();
    assert_eq!(
        b_pages.iter().map(|p| &p.url).collect::<Vec<_>>(),
        vec![&url]
    );
    assert!(
        store
            .commit_page(&b, &done(b_pages[0].id, Some(rec.clone())))
            .await
            .unwrap()
    );
    let records = store.records_after(0, 10).await.unwrap();
    assert_eq!(
        records.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        vec![rec.line.clone()]
    );
}

#[tokio::test]
async fn pg_requeue_expired_ends_leases_and_sends_pages_back() {
    let Some(pg) = Postgres::start_or_skip("pg_requeue_expired_ends_leases_and_sends_pages_back")
    else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    let urls = [
        "http://r.example/a",
        "http://r.example/b",
        "http://s.example/a",
    ];
    let pages: Vec<(String, i32)> = urls.iter().map(|u| (u.to_string(), 0)).collect();
    store.add_pages(&pages).await.unwrap();
    let minute = Duration::from_secs(60);
    let stalled = store.claim_host("w1", minute).await.unwrap().unwrap();
    let live = store.claim_host("w2", minute).await.unwrap().unwrap();
    assert_ne!(stalled.host, live.host);
    let in_flight = store.claim_pages(&stalled, 10).await.unwrap();
    assert_eq!(store.claim_pages(&live, 10).await.unwrap().len(), 1);
    // w1 misses its heartbeat; the sweep ends its lease only.
    assert!(store.renew_lease(&stalled, Duration::ZERO).await.unwrap());
    assert_eq!(
        store.requeue_expired().await.unwrap(),
        in_flight.len() as u64
    );
    assert!(
        !store
            .commit_page(&stalled, &done(in_flight[0].id, None))
            .await
            .unwrap()
    );
    assert!(!store.renew_lease(&stalled, minute).await.unwrap());
    assert!(store.renew_lease(&live, minute).await.unwrap());
    // The host is free again; its next grant carries a higher epoch than
    // the sweep's (grant, end, grant).
    let next = store.claim_host("w3", minute).await.unwrap().unwrap();
    assert_eq!(
        (next.host.as_str(), next.epoch),
        (stalled.host.as_str(), stalled.epoch + 2)
    );
    let again = store.claim_pages(&next, 10).await.unwrap();
    assert_eq!(
        again.iter().map(|p| &p.url).collect::<Vec<_>>(),
        in_flight.iter().map(|p| &p.url).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn pg_export_writes_each_record_once_across_runs_and_a_kill() {
    let Some(pg) =
        Postgres::start_or_skip("pg_export_writes_each_record_once_across_runs_and_a_kill")
    else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    let mut all = fixture_records(6);
    assert_eq!(all.len(), 6);
    all.push(tombstone(&url_of(&all[0])));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exports/records.jsonl");
    // Run 1: the first three.
    commit_all(&store, &all[..3]).await;
    let o = export(&pg.url(), &out, "daily");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected_output(&all[..3])
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "parkcrawl: done: 3 record(s) exported (cursor daily)\n"
    );
    // Run 2 is killed after its second batch reached the file, before the
    // cursor moved past it.
    commit_all(&store, &all[3..]).await;
    let mut child = support::bin()
        .args([
            "export",
            "--state",
            &pg.url(),
            "--cursor",
            "daily",
            "--batch",
            "2",
            "-o",
        ])
        .arg(&out)
        .env("FAILPOINTS", "export-flushed=1*off->sleep(600000)")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lines(&out, 7);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Run 3 cuts what run 2 wrote past its cursor and writes it again.
    let o = export(&pg.url(), &out, "daily");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected_output(&all)
    );
    let note = String::from_utf8_lossy(&o.stderr);
    assert!(
        note.contains("cutting")
            && note.ends_with("parkcrawl: done: 2 record(s) exported (cursor daily)\n"),
        "{note}"
    );
    // Run 4: nothing new.
    let o = export(&pg.url(), &out, "daily");
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected_output(&all)
    );
    // Another cursor starts from the beginning, to stdout.
    let o = support::bin()
        .args(["export", "--state", &pg.url(), "--cursor", "other"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(String::from_utf8(o.stdout).unwrap(), expected_output(&all));
}

#[tokio::test]
async fn pg_export_follow_picks_up_a_later_record() {
    let Some(pg) = Postgres::start_or_skip("pg_export_follow_picks_up_a_later_record") else {
        return;
    };
    let store = PgStore::open(&pg.url()).await.unwrap();
    let all = fixture_records(3);
    commit_all(&store, &all[..2]).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("follow.jsonl");
    let mut child = support::bin()
        .args([
            "export",
            "--state",
            &pg.url(),
            "--follow",
            "--poll",
            "50ms",
            "-o",
        ])
        .arg(&out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lines(&out, 2);
    commit_all(&store, &all[2..]).await;
    wait_for_lines(&out, 3);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected_output(&all)
    );
}

#[test]
fn export_of_a_sqlite_state_says_what_to_use() {
    let o = support::bin()
        .args(["export", "--state", "state/crawl.db"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "parkcrawl: state/crawl.db: export reads a PostgreSQL store (--state postgres://USER@HOST:PORT/DB); a SQLite state's records are in its crawl's -o file already\n"
    );
}

#[test]
fn export_names_an_unreachable_server_without_its_password() {
    // A port nothing listens on once the listener is gone.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = support::bin()
        .args(["export", "--state"])
        .arg(format!("postgres://crawl:s3cret@127.0.0.1:{port}/parks"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "parkcrawl: postgres://crawl@127.0.0.1:{port}/parks: "
        )) && err.contains("Connection refused")
            && !err.contains("s3cret"),
        "{err}"
    );
}
