//! `parkcrawl status --state postgres://…` (a child process) against a real
//! server (`support::pg`) whose rows are made through the store's own API:
//! two workers, a live and an expired lease, done and failed pages, records
//! and a tombstone, an export cursor. The whole JSON object is compared,
//! with the database's clock readings masked (they are checked for form).

use std::time::Duration;

use parkcrawl::store::postgres::{PageCommit, PageEnd, PgStore, SCHEMA_VERSION, StoredRecord};
use serde_json::{Value, json};

use crate::support::{self, pg::Postgres};

fn status(url: &str, json: bool) -> std::process::Output {
    let mut cmd = support::bin();
    cmd.args(["status", "--state", url]);
    if json {
        cmd.arg("--json");
    }
    cmd.output().unwrap()
}

fn status_json(url: &str) -> Value {
    let o = status(url, true);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Masks the clock readings (after checking their form): `now`, heartbeats,
/// expiries, cursor updates, ages.
fn masked(mut v: Value) -> Value {
    let rfc3339 = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$").unwrap();
    let mask = |x: &mut Value, key: &str| {
        let s = x[key].as_str().unwrap_or_else(|| panic!("{key}: {x}"));
        assert!(rfc3339.is_match(s), "{key}: {s}");
        x[key] = json!("<time>");
    };
    mask(&mut v, "now");
    for w in v["workers"].as_array_mut().unwrap() {
        mask(w, "heartbeat");
        assert!(w["age_ms"].is_i64());
        w["age_ms"] = json!("<ms>");
    }
    for l in v["leases"].as_array_mut().unwrap() {
        mask(l, "expires");
        let ms = l["remaining_ms"].as_i64().unwrap();
        assert_eq!(ms > 0, l["live"].as_bool().unwrap(), "{l}");
        l["remaining_ms"] = json!("<ms>");
        assert!(l["next_slot_ms"].as_i64().unwrap() <= 0, "{l}");
        l["next_slot_ms"] = json!("<ms>");
    }
    for c in v["cursors"].as_array_mut().unwrap() {
        mask(c, "updated_at");
    }
    v
}

fn record(url: &str, deleted: bool) -> StoredRecord {
    let id = parkcrawl::document::page_id(url);
    StoredRecord {
        id: id.clone(),
        deleted,
        line: json!({"id": id, "url": url, "deleted": deleted}).to_string(),
    }
}

fn commit(page_id: i64, end: PageEnd, record: Option<StoredRecord>) -> PageCommit {
    PageCommit {
        page_id,
        end,
        etag: None,
        last_modified: None,
        content_hash: None,
        record,
    }
}

#[tokio::test]
async fn pg_status_shows_workers_leases_failures_cursors_and_completion() {
    let test = "pg_status_shows_workers_leases_failures_cursors_and_completion";
    let Some(pg) = Postgres::start_or_skip(test) else {
        return;
    };
    let url = pg.url();
    let store = PgStore::open(&url).await.unwrap();
    let pages: Vec<(String, i32)> = ["a.test/1", "a.test/2", "a.test/3", "b.test/1", "b.test/2"]
        .iter()
        .map(|p| (format!("http://{p}"), 0))
        .collect();
    store.add_pages(&pages).await.unwrap();
    let minute = Duration::from_secs(60);
    // w1 takes a host, finishes two pages (one failed) and keeps one in flight.
    store.heartbeat("w1").await.unwrap();
    let l1 = store.claim_host("w1", minute).await.unwrap().unwrap();
    let p1 = store.claim_pages(&l1, 10).await.unwrap();
    // Both hosts' first slot is the same instant: the name decides.
    let h1 = l1.host.clone();
    assert_eq!((h1.as_str(), p1.len()), ("a.test:80", 3));
    let done_url = p1[0].url.clone();
    assert!(
        store
            .commit_page(
                &l1,
                &commit(p1[0].id, PageEnd::Done, Some(record(&done_url, false)))
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .commit_page(&l1, &commit(p1[1].id, PageEnd::Failed, None))
            .await
            .unwrap()
    );
    // w2 takes the other host, commits a tombstone, then stalls: its lease
    // is left to expire (renewed for no time, as a missed heartbeat leaves it).
    let l2 = store.claim_host("w2", minute).await.unwrap().unwrap();
    let p2 = store.claim_pages(&l2, 1).await.unwrap();
    let gone_url = p2[0].url.clone();
    assert!(
        store
            .commit_page(
                &l2,
                &commit(p2[0].id, PageEnd::Done, Some(record(&gone_url, true)))
            )
            .await
            .unwrap()
    );
    assert!(store.renew_lease(&l2, Duration::ZERO).await.unwrap());
    let h2 = l2.host.clone();
    assert_eq!(h2, "b.test:80");
    // w2's heartbeat is 5 minutes old: gone. (The one write not made through
    // the store: a clock cannot be moved from outside.)
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .execute(
            "UPDATE workers SET heartbeat = now() - interval '5 minutes' WHERE name = 'w2'",
            &[],
        )
        .await
        .unwrap();
    // An export cursor that has read the first record.
    let first = store.records_after(0, 1).await.unwrap();
    store
        .save_cursor(
            "daily",
            &parkcrawl::store::postgres::Cursor {
                seq: first[0].0,
                output: Some("/srv/out/records.jsonl".into()),
                offset: Some(100),
            },
        )
        .await
        .unwrap();
    let v = masked(status_json(&url));
    let (in_flight_h1, queued_h2) = (1, 1);
    let expected = json!({
        "state": url,
        "store": "postgres",
        "schema_version": SCHEMA_VERSION,
        "now": "<time>",
        "cycle": null,
        "cycle_started": null,
        "running": true,
        "complete": false,
        "pages": {"queued": queued_h2, "in_flight": in_flight_h1, "done": 2, "failed": 1, "skipped": 0},
        "records": 2,
        "tombstones": 1,
        "pages_last_minute": 3,
        "records_last_minute": 2,
        "pages_per_second": 0.05,
        "workers": [
            {"name": "w1", "heartbeat": "<time>", "age_ms": "<ms>", "stopped_at": null, "live": true},
            {"name": "w2", "heartbeat": "<time>", "age_ms": "<ms>", "stopped_at": null, "live": false},
        ],
        "leases": [
            {"host": h1, "holder": "w1", "expires": "<time>", "remaining_ms": "<ms>", "epoch": 1, "live": true, "next_slot_ms": "<ms>", "gap_ms": 1000},
            {"host": h2, "holder": "w2", "expires": "<time>", "remaining_ms": "<ms>", "epoch": 1, "live": false, "next_slot_ms": "<ms>", "gap_ms": 1000},
        ],
        "live_leases": 1,
        "failures_by_host": [{"host": h1, "failed": 1, "kinds": {"unknown": 1}}],
        "cursors": [{"name": "daily", "seq": first[0].0, "behind": 1,
                     "output": "/srv/out/records.jsonl", "updated_at": "<time>"}],
    });
    assert_eq!(v, expected);
    // The text form says the same for people.
    let o = status(&url, false);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let shape = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").unwrap();
    let secs = regex::Regex::new(r"\d+\.\d s").unwrap();
    let text = secs
        .replace_all(&shape.replace_all(&text, "<time>"), "<s>")
        .into_owned();
    let mut want = vec![
        format!("state:     {url} (PostgreSQL, schema {SCHEMA_VERSION}, at <time>)"),
        format!(
            "crawl:     in progress, {} pages to go, 1 live worker(s)",
            queued_h2 + in_flight_h1
        ),
        format!(
            "pages:     {queued_h2} queued, {in_flight_h1} in_flight, 2 done, 1 failed, 0 skipped"
        ),
        "pace:      0.05 pages/s over the last minute (3 pages, 2 records)".into(),
        "records:   2 (1 tombstones)".into(),
        "workers:   w1  heartbeat <time> (<s> ago, live)".into(),
        "           w2  heartbeat <time> (<s> ago, gone)".into(),
    ];
    want.push(format!(
        "leases:    {h1}  w1  epoch 1  expires <time> (in <s>); next request free, every <s>"
    ));
    want.push(format!(
        "           {h2}  w2  epoch 1  expired <time> (<s> ago); next request free, every <s>"
    ));
    want.push(format!(
        "cursors:   daily  at record {}, 1 behind, last to /srv/out/records.jsonl at <time>",
        first[0].0
    ));
    want.push(format!("failures:  {h1} 1 (unknown 1)"));
    assert_eq!(text, want.join("\n") + "\n");

    // w1 finishes its page and hands its host back; the sweep ends w2's
    // lease and w3 takes that host over: complete, no lease left.
    let c = commit(p1[2].id, PageEnd::Done, Some(record(&p1[2].url, false)));
    assert!(store.commit_page(&l1, &c).await.unwrap());
    assert!(store.release_lease(&l1).await.unwrap());
    store.requeue_expired().await.unwrap();
    let l3 = store.claim_host("w3", minute).await.unwrap().unwrap();
    assert_eq!((l3.host.as_str(), l3.epoch), ("b.test:80", 3));
    for p in store.claim_pages(&l3, 10).await.unwrap() {
        let c = commit(p.id, PageEnd::Done, Some(record(&p.url, false)));
        assert!(store.commit_page(&l3, &c).await.unwrap());
    }
    assert!(store.release_lease(&l3).await.unwrap());
    // w1 ends by itself: stopped, not live, whatever its heartbeat's age.
    store.worker_stopped("w1").await.unwrap();
    let v = status_json(&url);
    let w1 = &v["workers"][0];
    assert_eq!(
        (&w1["name"], &w1["live"]),
        (&json!("w1"), &json!(false)),
        "{v}"
    );
    assert!(w1["stopped_at"].is_string(), "{v}");
    assert_eq!(v["running"], json!(false), "{v}");
    assert_eq!(v["complete"], json!(true), "{v}");
    assert_eq!(v["live_leases"], json!(0), "{v}");
    assert_eq!(v["leases"], json!([]), "{v}");
    assert_eq!(
        v["pages"],
        json!({"queued": 0, "in_flight": 0, "done": 4, "failed": 1, "skipped": 0})
    );
    assert_eq!(v["cursors"][0]["behind"], json!(3), "{v}");
}

#[test]
fn status_names_an_unreachable_store_without_its_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://crawl:s3cret@127.0.0.1:{port}/parks");
    // Given as --state, or as a job file's `state`.
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        format!("seeds = [\"http://a.test/\"]\nstate = \"{url}\"\n"),
    )
    .unwrap();
    for how in [
        ["--state", url.as_str()],
        ["--config", job.to_str().unwrap()],
    ] {
        let o = support::bin()
            .args(["status", "--json"])
            .args(how)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{how:?}");
        assert!(o.stdout.is_empty());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "parkcrawl: postgres://crawl@127.0.0.1:{port}/parks: "
            )) && err.contains("Connection refused")
                && !err.contains("s3cret"),
            "{how:?}: {err}"
        );
    }
}
