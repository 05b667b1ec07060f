//! `parkcrawl status --state postgres://…`: a fleet's store
//! (`store::pg_status`), for people or as one JSON object with `--json`,
//! with the keys SQLite's status has where they mean the same (`state`,
//! `running`, `complete`, `pages`, `failures_by_host`) and the fleet's own
//! beside them. Reads only; works while workers run.

use serde_json::json;

use crate::store::pg_status::{self, LeaseStatus, PgStatus, WorkerStatus};
use crate::store::postgres::{PgError, PgStore, chain};

/// Opens the store (creating or migrating its schema, as every command
/// does) and reads its status in one snapshot.
pub async fn read(url: &str) -> Result<(String, PgStatus), PgError> {
    let store = PgStore::open(url).await?;
    let shown = store.url().to_string();
    let sql = |e: tokio_postgres::Error| PgError::Sql {
        url: shown.clone(),
        message: chain(&e),
    };
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| PgError::Connect {
            url: shown.clone(),
            message: chain(&e),
        })?;
    let driver = tokio::spawn(conn);
    let status = pg_status::read(&client).await.map_err(sql)?;
    drop(client);
    let _ = driver.await;
    Ok((shown, status))
}

pub fn to_json(url: &str, s: &PgStatus) -> serde_json::Value {
    let pages: serde_json::Map<String, serde_json::Value> =
        s.pages.iter().map(|(k, n)| (k.clone(), json!(n))).collect();
    let workers: Vec<_> = s
        .workers
        .iter()
        .map(|w| {
            json!({"name": w.name, "heartbeat": w.heartbeat, "age_ms": w.age_ms,
                   "stopped_at": w.stopped_at, "live": w.live})
        })
        .collect();
    let leases: Vec<_> = s
        .leases
        .iter()
        .map(|l| {
            json!({"host": l.host, "holder": l.holder, "expires": l.expires,
                   "remaining_ms": l.remaining_ms, "epoch": l.epoch, "live": l.live,
                   "next_slot_ms": l.next_slot_ms, "gap_ms": l.gap_ms})
        })
        .collect();
    let failures: Vec<_> = s
        .failures_by_host
        .iter()
        .map(|h| {
            let kinds: serde_json::Map<String, serde_json::Value> =
                h.kinds.iter().map(|(k, n)| (k.clone(), json!(n))).collect();
            json!({ "host": h.host, "failed": h.failed, "kinds": kinds })
        })
        .collect();
    let cursors: Vec<_> = s
        .cursors
        .iter()
        .map(|c| {
            json!({"name": c.name, "seq": c.seq, "behind": c.behind,
                   "output": c.output, "updated_at": c.updated_at})
        })
        .collect();
    json!({
        "state": url,
        "store": "postgres",
        "schema_version": s.schema_version,
        "now": s.now,
        "cycle": s.cycle.as_ref().map(|c| c.0),
        "cycle_started": s.cycle.as_ref().map(|c| c.1.clone()),
        "running": s.running(),
        "complete": s.complete,
        "pages": pages,
        "records": s.records,
        "tombstones": s.tombstones,
        "pages_last_minute": s.pages_last_minute,
        "records_last_minute": s.records_last_minute,
        "pages_per_second": (s.pages_per_second() * 100.0).round() / 100.0,
        "workers": workers,
        "leases": leases,
        "live_leases": s.live_leases().count(),
        "failures_by_host": failures,
        "cursors": cursors,
    })
}

/// `1.2 s`, from milliseconds.
fn secs(ms: i64) -> String {
    format!("{:.1} s", ms.unsigned_abs() as f64 / 1000.0)
}

pub fn to_text(url: &str, s: &PgStatus) -> String {
    let cycle = s
        .cycle
        .as_ref()
        .map_or(String::new(), |(n, t)| format!(", cycle {n} since {t}"));
    let mut out = vec![format!(
        "state:     {url} (PostgreSQL, schema {}{cycle}, at {})",
        s.schema_version, s.now
    )];
    let to_do: i64 = s
        .pages
        .iter()
        .filter(|(k, _)| k == "queued" || k == "in_flight")
        .map(|(_, n)| n)
        .sum();
    let live = s.workers.iter().filter(|w| w.live).count();
    out.push(format!(
        "crawl:     {}, {live} live worker(s)",
        if s.complete {
            "complete".to_string()
        } else {
            format!("in progress, {to_do} pages to go")
        }
    ));
    let pages: Vec<String> = s.pages.iter().map(|(k, n)| format!("{n} {k}")).collect();
    out.push(format!("pages:     {}", pages.join(", ")));
    out.push(format!(
        "pace:      {:.2} pages/s over the last minute ({} pages, {} records)",
        s.pages_per_second(),
        s.pages_last_minute,
        s.records_last_minute
    ));
    out.push(format!(
        "records:   {} ({} tombstones)",
        s.records, s.tombstones
    ));
    let workers = s.workers.iter().map(worker_line);
    list(&mut out, "workers:", workers);
    let leases = s.leases.iter().map(lease_line);
    list(&mut out, "leases:", leases);
    let cursors = s.cursors.iter().map(|c| {
        let to = c.output.as_deref().unwrap_or("stdout");
        format!(
            "{}  at record {}, {} behind, last to {to} at {}",
            c.name, c.seq, c.behind, c.updated_at
        )
    });
    list(&mut out, "cursors:", cursors);
    let failures = s.failures_by_host.iter().map(|h| {
        let kinds: Vec<String> = h.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        format!("{} {} ({})", h.host, h.failed, kinds.join(", "))
    });
    list(&mut out, "failures:", failures);
    out.join("\n")
}

fn worker_line(w: &WorkerStatus) -> String {
    let state = match (&w.stopped_at, w.live) {
        (Some(t), _) => format!("stopped at {t}"),
        (None, true) => "live".to_string(),
        (None, false) => "gone".to_string(),
    };
    format!(
        "{}  heartbeat {} ({} ago, {state})",
        w.name,
        w.heartbeat,
        secs(w.age_ms)
    )
}

fn lease_line(l: &LeaseStatus) -> String {
    let when = if l.live {
        format!("expires {} (in {})", l.expires, secs(l.remaining_ms))
    } else {
        format!("expired {} ({} ago)", l.expires, secs(l.remaining_ms))
    };
    let next = if l.next_slot_ms > 0 {
        format!("next request in {}", secs(l.next_slot_ms))
    } else {
        "next request free".to_string()
    };
    format!(
        "{}  {}  epoch {}  {when}; {next}, every {}",
        l.host,
        l.holder,
        l.epoch,
        secs(l.gap_ms)
    )
}

/// A labelled list: the first item beside the label, the rest under it;
/// `none` when empty.
fn list(out: &mut Vec<String>, label: &str, items: impl Iterator<Item = String>) {
    let mut any = false;
    for (i, item) in items.enumerate() {
        let head = if i == 0 { label } else { "" };
        out.push(format!("{head:<11}{item}"));
        any = true;
    }
    if !any {
        out.push(format!("{label:<11}none"));
    }
}
