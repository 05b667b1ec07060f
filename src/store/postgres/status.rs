//! `parkcrawl status --state postgres://…`: what a fleet's database holds,
//! read in one snapshot (a read-only REPEATABLE READ transaction, so the
//! counts agree with each other): pages by state, workers and their
//! heartbeats, leases live and expired, failures per host, export cursors
//! and how far each is behind, and the pace over the last minute.
//!
//! Every time is the database's (`now()`), never the reader's clock: the
//! workers stamp their heartbeats and leases with it.
//!
//! The store is opened (so migrated to this parkcrawl's schema) before its
//! status is read. A worker's lease TTL is not in the schema: it is read
//! through `to_jsonb(row)`, so that a later step storing it is used, with
//! `--lease`'s default until then.

use tokio_postgres::Client;

/// A worker's lease TTL when the schema does not store it: `--lease`'s
/// default.
const DEFAULT_LEASE_MS: i64 = 30_000;

/// The pace is counted over this window.
pub const PACE_WINDOW_S: i64 = 60;

/// Everything `status` shows of a PostgreSQL store.
#[derive(Debug, Clone, PartialEq)]
pub struct PgStatus {
    pub schema_version: i32,
    /// The job's crawl cycle and when it started (`None`: no worker has
    /// started the job yet).
    pub cycle: Option<(i64, String)>,
    /// The database's clock when the snapshot was taken (RFC 3339, UTC).
    pub now: String,
    /// Every page state with its count (zeros included), in the order a
    /// page goes through them.
    pub pages: Vec<(String, i64)>,
    /// No page queued or in flight (an in-flight page of an expired lease
    /// goes back to the queue, so it is work still to do).
    pub complete: bool,
    pub workers: Vec<WorkerStatus>,
    /// Hosts with a holder, live or expired (not yet swept).
    pub leases: Vec<LeaseStatus>,
    pub failures_by_host: Vec<PgHostFailures>,
    pub cursors: Vec<CursorStatus>,
    /// Records in the store, and how many of them are tombstones.
    pub records: i64,
    pub tombstones: i64,
    /// Pages finished (done or failed) within the last [`PACE_WINDOW_S`].
    pub pages_last_minute: i64,
    /// Records committed within the last [`PACE_WINDOW_S`].
    pub records_last_minute: i64,
}

impl PgStatus {
    /// Pages per second over the last minute.
    pub fn pages_per_second(&self) -> f64 {
        self.pages_last_minute as f64 / PACE_WINDOW_S as f64
    }

    /// Any worker whose heartbeat is within its lease TTL.
    pub fn running(&self) -> bool {
        self.workers.iter().any(|w| w.live)
    }

    /// Leases not yet expired.
    pub fn live_leases(&self) -> impl Iterator<Item = &LeaseStatus> {
        self.leases.iter().filter(|l| l.live)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkerStatus {
    pub name: String,
    pub heartbeat: String,
    /// Since the heartbeat, by the database's clock.
    pub age_ms: i64,
    /// When the worker ended by itself (`None`: it has not, or was killed).
    pub stopped_at: Option<String>,
    /// Not stopped, and its heartbeat within its lease TTL.
    pub live: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeaseStatus {
    pub host: String,
    pub holder: String,
    pub expires: String,
    /// Until expiry; negative once expired.
    pub remaining_ms: i64,
    pub epoch: i64,
    pub live: bool,
    /// Until the host's next request slot (negative: free now), and the
    /// gap between its slots (the larger of its interval and Crawl-delay).
    pub next_slot_ms: i64,
    pub gap_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PgHostFailures {
    pub host: String,
    pub failed: i64,
    /// By kind (`http 404`, `timeout`, …; `unknown` when none was kept).
    pub kinds: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CursorStatus {
    pub name: String,
    /// The last record number it exported.
    pub seq: i64,
    /// Records committed after it: what its next export writes.
    pub behind: i64,
    pub output: Option<String>,
    pub updated_at: String,
}

/// RFC 3339 in UTC, to the millisecond, of a `timestamptz` expression.
macro_rules! utc {
    ($e:literal) => {
        concat!(
            "to_char(",
            $e,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        )
    };
}

/// The page states in the order a page goes through them.
const PAGE_STATES: [&str; 5] = ["queued", "in_flight", "done", "failed", "skipped"];

/// Reads the whole status in one read-only snapshot.
pub async fn read(client: &Client) -> Result<PgStatus, tokio_postgres::Error> {
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let status = read_in_snapshot(client).await;
    // A read-only transaction: ending it cannot lose anything.
    let _ = client.batch_execute("ROLLBACK").await;
    status
}

async fn read_in_snapshot(client: &Client) -> Result<PgStatus, tokio_postgres::Error> {
    let head = client
        .query_one(
            concat!(
                "SELECT (SELECT version FROM parkcrawl_schema), ",
                utc!("now()"),
                ", (SELECT count(*) FROM records), \
                 (SELECT count(*) FROM records WHERE deleted), \
                 (SELECT count(*) FROM pages WHERE fetched_at > now() - $1::float8 * interval '1 second'), \
                 (SELECT count(*) FROM records WHERE committed_at > now() - $1::float8 * interval '1 second')"
            ),
            &[&(PACE_WINDOW_S as f64)],
        )
        .await?;
    let counts: Vec<(String, i64)> = client
        .query("SELECT state, count(*) FROM pages GROUP BY state", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let pages: Vec<(String, i64)> = PAGE_STATES
        .iter()
        .map(|s| {
            let n = counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            (s.to_string(), n)
        })
        .collect();
    let to_do = pages
        .iter()
        .filter(|(k, _)| k == "queued" || k == "in_flight")
        .map(|(_, n)| n)
        .sum::<i64>();
    Ok(PgStatus {
        schema_version: head.get(0),
        cycle: cycle(client).await?,
        now: head.get(1),
        pages,
        complete: to_do == 0,
        workers: workers(client).await?,
        leases: leases(client).await?,
        failures_by_host: failures(client).await?,
        cursors: cursors(client).await?,
        records: head.get(2),
        tombstones: head.get(3),
        pages_last_minute: head.get(4),
        records_last_minute: head.get(5),
    })
}

/// The job's cycle (none before a worker started the job).
async fn cycle(client: &Client) -> Result<Option<(i64, String)>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            concat!("SELECT cycle, ", utc!("cycle_started"), " FROM job"),
            &[],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

async fn workers(client: &Client) -> Result<Vec<WorkerStatus>, tokio_postgres::Error> {
    let rows = client
        .query(
            concat!(
                "SELECT name, ",
                utc!("heartbeat"),
                ", (extract(epoch FROM now() - heartbeat) * 1000)::bigint, \
                 coalesce((to_jsonb(w) ->> 'lease_ms')::bigint, $1), ",
                utc!("stopped_at"),
                " FROM workers w ORDER BY name"
            ),
            &[&DEFAULT_LEASE_MS],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let age_ms: i64 = r.get(2);
            let stopped_at: Option<String> = r.get(4);
            WorkerStatus {
                name: r.get(0),
                heartbeat: r.get(1),
                age_ms,
                live: stopped_at.is_none() && age_ms <= r.get::<_, i64>(3),
                stopped_at,
            }
        })
        .collect())
}

async fn leases(client: &Client) -> Result<Vec<LeaseStatus>, tokio_postgres::Error> {
    let rows = client
        .query(
            concat!(
                "SELECT host, lease_holder, ",
                utc!("lease_expires"),
                ", (extract(epoch FROM lease_expires - now()) * 1000)::bigint, lease_epoch, \
                 (extract(epoch FROM greatest(next_at, coalesce(retry_after_until, next_at)) \
                                     - now()) * 1000)::bigint, \
                 greatest(interval_ms, coalesce(crawl_delay_ms, 0)) \
                 FROM hosts WHERE lease_holder IS NOT NULL AND lease_expires IS NOT NULL \
                 ORDER BY host"
            ),
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let remaining_ms: i64 = r.get(3);
            LeaseStatus {
                host: r.get(0),
                holder: r.get(1),
                expires: r.get(2),
                remaining_ms,
                epoch: r.get(4),
                live: remaining_ms > 0,
                next_slot_ms: r.get(5),
                gap_ms: r.get(6),
            }
        })
        .collect())
}

async fn failures(client: &Client) -> Result<Vec<PgHostFailures>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT host, coalesce(error, 'unknown') AS why, count(*) AS n
             FROM pages WHERE state = 'failed'
             GROUP BY host, why ORDER BY host, n DESC, why",
            &[],
        )
        .await?;
    let mut out: Vec<PgHostFailures> = Vec::new();
    for r in &rows {
        let (host, kind, n): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
        match out.last_mut() {
            Some(h) if h.host == host => {
                h.failed += n;
                h.kinds.push((kind, n));
            }
            _ => out.push(PgHostFailures {
                host,
                failed: n,
                kinds: vec![(kind, n)],
            }),
        }
    }
    // The worst host first, as SQLite's status lists them.
    out.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.host.cmp(&b.host)));
    Ok(out)
}

async fn cursors(client: &Client) -> Result<Vec<CursorStatus>, tokio_postgres::Error> {
    let rows = client
        .query(
            concat!(
                "SELECT c.name, c.seq, (SELECT count(*) FROM records r WHERE r.seq > c.seq), \
                 c.output, ",
                utc!("c.updated_at"),
                " FROM export_cursors c ORDER BY c.name"
            ),
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| CursorStatus {
            name: r.get(0),
            seq: r.get(1),
            behind: r.get(2),
            output: r.get(3),
            updated_at: r.get(4),
        })
        .collect())
}
