//! Pages: the frontier and the seen-set in one table, and the commit that
//! marks a page done together with its record.

use super::records::StoredRecord;
use super::{Lease, PgError, PgStore};

/// A page taken in flight by a lease holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub url: String,
    pub depth: i32,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_hash: Option<String>,
    /// A sitemap, not a page.
    pub sitemap: bool,
    /// The id of the page's last record (or of the one it was found
    /// unchanged against).
    pub record_id: Option<String>,
    /// The last HTTP status seen.
    pub status: Option<i32>,
    /// A record of the page was committed in some cycle.
    pub emitted: bool,
}

/// How a fetch of a page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEnd {
    Done,
    Failed,
    /// Skipped by policy (robots.txt, not HTML, out of scope, duplicate).
    Skipped,
}

impl PageEnd {
    fn state(self) -> &'static str {
        match self {
            PageEnd::Done => "done",
            PageEnd::Failed => "failed",
            PageEnd::Skipped => "skipped",
        }
    }
}

/// A page to queue: its URL (canonical), depth, and whether it is a sitemap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPage {
    pub url: String,
    pub depth: i32,
    pub sitemap: bool,
}

/// What one visit of a page leaves, for [`PgStore::finish_page`]: the
/// crawl's `Visit` (or failure) as columns.
#[derive(Debug, Clone, Default)]
pub struct PageVisit {
    pub record_id: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_hash: Option<String>,
    pub status: Option<i32>,
    /// A record or tombstone of the page is committed in this visit.
    pub emitted: bool,
    /// The kind of failure or skip (`ErrorKind`'s name).
    pub error: Option<String>,
    /// The record (or tombstone) to commit with the page.
    pub record: Option<StoredRecord>,
}

/// What [`PgStore::finish_page`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The page's state (and its record, if any) is committed.
    Written,
    /// The page is done, but its record's id was committed for another
    /// page in this cycle already (a redirect or canonical alias met
    /// twice): the record is not kept again.
    Duplicate,
    /// The lease is no longer the holder's (or the page was requeued):
    /// nothing was written.
    Refused,
}

/// Queues the pages of `$1` (urls) with hosts `$2`, depths `$3`, kinds `$4`
/// in one statement: their hosts are added first (a CTE: the foreign key is
/// checked at the statement's end), known URLs are left alone.
const ADD_PAGES: &str = "
WITH new_hosts AS (
    INSERT INTO hosts (host) SELECT DISTINCT unnest($2::text[]) ON CONFLICT DO NOTHING
)
INSERT INTO pages (url, host, depth, kind)
SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[])
ON CONFLICT (url) DO NOTHING";

/// The page's new state, guarded by the epoch; `$2`: the lease's host,
/// `$3`: its epoch. Sets `cycle` to the job's.
const FINISH: &str = "
UPDATE pages SET state = $4, etag = $5, last_modified = $6, content_hash = $7,
                 record_id = $8, status = $9, emitted = emitted OR $10,
                 error = $11, failures = CASE WHEN $4 = 'failed' THEN failures + 1 ELSE 0 END,
                 fetched_at = now(), claimed_by = NULL, claimed_epoch = NULL,
                 cycle = coalesce((SELECT cycle FROM job), 0)
WHERE id = $1 AND host = $2 AND state = 'in_flight' AND claimed_epoch = $3";

/// What [`PgStore::commit_page`] writes for one page.
#[derive(Debug, Clone)]
pub struct PageCommit {
    pub page_id: i64,
    pub end: PageEnd,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_hash: Option<String>,
    /// The record (or tombstone) to emit; `None`: nothing to emit (the page
    /// is unchanged, or failed).
    pub record: Option<StoredRecord>,
}

/// Key of the advisory lock that orders record numbers (any constant; "pkrs").
const RECORD_ORDER_LOCK: i64 = 0x706b_7273;

impl PgStore {
    /// Queues `urls` (with their depth) not seen before; returns how many
    /// were new. Their hosts are added with the default interval.
    pub async fn add_pages(&self, urls: &[(String, i32)]) -> Result<u64, PgError> {
        let mut client = self.client().await?;
        let sql = self.sql();
        let tx = client.transaction().await.map_err(&sql)?;
        let mut added = 0;
        for (u, depth) in urls {
            let Some(host) = url::Url::parse(u).ok().map(|p| crate::fetch::host_key(&p)) else {
                continue;
            };
            tx.execute(
                "INSERT INTO hosts (host) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&host],
            )
            .await
            .map_err(&sql)?;
            added += tx
                .execute(
                    "INSERT INTO pages (url, host, depth) VALUES ($1, $2, $3)
                     ON CONFLICT (url) DO NOTHING",
                    &[u, &host, depth],
                )
                .await
                .map_err(&sql)?;
        }
        tx.commit().await.map_err(&sql)?;
        Ok(added)
    }

    /// Queues the pages of `new` not seen before, in one statement; returns
    /// how many were new.
    pub async fn add_new_pages(&self, new: &[NewPage]) -> Result<u64, PgError> {
        if new.is_empty() {
            return Ok(0);
        }
        let mut urls = Vec::with_capacity(new.len());
        let mut hosts = Vec::with_capacity(new.len());
        let mut depths = Vec::with_capacity(new.len());
        let mut kinds = Vec::with_capacity(new.len());
        for p in new {
            let Ok(u) = url::Url::parse(&p.url) else {
                continue;
            };
            hosts.push(crate::fetch::host_key(&u));
            urls.push(p.url.as_str());
            depths.push(p.depth);
            kinds.push(if p.sitemap { "sitemap" } else { "page" });
        }
        let client = self.client().await?;
        client
            .execute(ADD_PAGES, &[&urls, &hosts, &depths, &kinds])
            .await
            .map_err(self.sql())
    }

    /// Whether `url` was ever queued (in any state).
    pub async fn has_page(&self, url: &str) -> Result<bool, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT EXISTS(SELECT 1 FROM pages WHERE url = $1)", &[&url])
            .await
            .map_err(self.sql())?;
        Ok(row.get(0))
    }

    /// Sends one page in flight under `lease` back to the queue (the crawl
    /// stopped before it was done); `false` when it was no longer the
    /// lease's.
    pub async fn unclaim_page(&self, lease: &Lease, page_id: i64) -> Result<bool, PgError> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE pages SET state = 'queued', claimed_by = NULL, claimed_epoch = NULL
                 WHERE id = $1 AND host = $2 AND state = 'in_flight' AND claimed_epoch = $3",
                &[&page_id, &lease.host, &lease.epoch],
            )
            .await
            .map_err(self.sql())?;
        Ok(n == 1)
    }

    /// The end of one visit of a page in flight under `lease`: its state
    /// and its record (or tombstone), in one transaction, only while the
    /// lease holds the host at its epoch. The record's id is kept once per
    /// cycle: one committed (or a page found unchanged with it) for another
    /// page of this cycle makes this one a [`Finished::Duplicate`], in the
    /// same transaction, under the lock that orders records.
    pub async fn finish_page(
        &self,
        lease: &Lease,
        page_id: i64,
        end: PageEnd,
        visit: &PageVisit,
    ) -> Result<Finished, PgError> {
        let mut client = self.client().await?;
        let sql = self.sql();
        let tx = client.transaction().await.map_err(&sql)?;
        // FOR SHARE: a takeover (an UPDATE of this row) waits for this
        // commit, so the epoch checked here is the epoch at commit.
        let held = tx
            .query_opt(
                "SELECT 1 FROM hosts WHERE host = $1 AND lease_holder = $2 AND lease_epoch = $3
                 FOR SHARE",
                &[&lease.host, &lease.worker, &lease.epoch],
            )
            .await
            .map_err(&sql)?;
        if held.is_none() {
            return Ok(Finished::Refused);
        }
        let mut visit = std::borrow::Cow::Borrowed(visit);
        let mut outcome = Finished::Written;
        if let Some(r) = &visit.record
            && id_kept(&tx, &r.id, page_id).await.map_err(&sql)?
        {
            let v = visit.to_mut();
            v.record = None;
            v.record_id = None;
            v.emitted = false;
            outcome = Finished::Duplicate;
        }
        let n = tx
            .execute(
                FINISH,
                &[
                    &page_id,
                    &lease.host,
                    &lease.epoch,
                    &end.state(),
                    &visit.etag,
                    &visit.last_modified,
                    &visit.content_hash,
                    &visit.record_id,
                    &visit.status,
                    &visit.emitted,
                    &visit.error,
                ],
            )
            .await
            .map_err(&sql)?;
        if n != 1 {
            return Ok(Finished::Refused);
        }
        if let Some(r) = &visit.record {
            tx.execute(
                "INSERT INTO records (page_id, record_id, deleted, line, cycle)
                 VALUES ($1, $2, $3, $4, coalesce((SELECT cycle FROM job), 0))",
                &[&page_id, &r.id, &r.deleted, &r.line],
            )
            .await
            .map_err(&sql)?;
        }
        tx.commit().await.map_err(&sql)?;
        Ok(outcome)
    }

    /// Sends finished pages (done or failed) of `urls` back to the queue,
    /// keeping their validators, as a recrawl does; returns how many.
    pub async fn requeue_urls(&self, urls: &[String]) -> Result<u64, PgError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE pages SET state = 'queued'
                 WHERE url = ANY($1) AND state IN ('done', 'failed')",
                &[&urls],
            )
            .await
            .map_err(self.sql())
    }

    /// Takes up to `limit` queued pages of the leased host in flight
    /// (shallowest first); none when the lease is no longer the holder's.
    pub async fn claim_pages(&self, lease: &Lease, limit: i64) -> Result<Vec<Claimed>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "UPDATE pages SET state = 'in_flight', claimed_by = $2, claimed_epoch = $3
                 WHERE id IN (SELECT id FROM pages WHERE host = $1 AND state = 'queued'
                              ORDER BY depth, id LIMIT $4 FOR UPDATE SKIP LOCKED)
                   AND EXISTS (SELECT 1 FROM hosts WHERE host = $1
                               AND lease_holder = $2 AND lease_epoch = $3)
                 RETURNING id, url, depth, etag, last_modified, content_hash,
                           kind = 'sitemap', record_id, status, emitted",
                &[&lease.host, &lease.worker, &lease.epoch, &limit],
            )
            .await
            .map_err(self.sql())?;
        let mut pages: Vec<Claimed> = rows
            .iter()
            .map(|r| Claimed {
                id: r.get(0),
                url: r.get(1),
                depth: r.get(2),
                etag: r.get(3),
                last_modified: r.get(4),
                content_hash: r.get(5),
                sitemap: r.get(6),
                record_id: r.get(7),
                status: r.get(8),
                emitted: r.get(9),
            })
            .collect();
        pages.sort_by_key(|p| (p.depth, p.id));
        Ok(pages)
    }

    /// Marks the page done (or failed) and inserts its record, in one
    /// transaction, only while `lease` still holds the host at its epoch
    /// and the page is in flight under it. `Ok(false)`: the lease was
    /// taken over (or the page requeued); nothing was written.
    pub async fn commit_page(&self, lease: &Lease, page: &PageCommit) -> Result<bool, PgError> {
        let mut client = self.client().await?;
        let sql = self.sql();
        let tx = client.transaction().await.map_err(&sql)?;
        // FOR SHARE: a takeover (an UPDATE of this row) waits for this
        // commit, so the epoch checked here is the epoch at commit.
        let held = tx
            .query_opt(
                "SELECT 1 FROM hosts WHERE host = $1 AND lease_holder = $2 AND lease_epoch = $3
                 FOR SHARE",
                &[&lease.host, &lease.worker, &lease.epoch],
            )
            .await
            .map_err(&sql)?;
        if held.is_none() {
            return Ok(false);
        }
        let state = page.end.state();
        let record_id = page.record.as_ref().map(|r| r.id.clone());
        let n = tx
            .execute(
                "UPDATE pages SET state = $4, etag = $5, last_modified = $6, content_hash = $7,
                                  record_id = coalesce($8, record_id), fetched_at = now(),
                                  claimed_by = NULL, claimed_epoch = NULL
                 WHERE id = $1 AND host = $2 AND state = 'in_flight' AND claimed_epoch = $3",
                &[
                    &page.page_id,
                    &lease.host,
                    &lease.epoch,
                    &state,
                    &page.etag,
                    &page.last_modified,
                    &page.content_hash,
                    &record_id,
                ],
            )
            .await
            .map_err(&sql)?;
        if n != 1 {
            return Ok(false);
        }
        if let Some(r) = &page.record {
            // Held from drawing the number to the commit: a record with a
            // lower number is never committed after one with a higher, so
            // an export past a number misses nothing.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&RECORD_ORDER_LOCK])
                .await
                .map_err(&sql)?;
            tx.execute(
                "INSERT INTO records (page_id, record_id, deleted, line) VALUES ($1, $2, $3, $4)",
                &[&page.page_id, &r.id, &r.deleted, &r.line],
            )
            .await
            .map_err(&sql)?;
        }
        tx.commit().await.map_err(&sql)?;
        Ok(true)
    }

    /// Pages by state, for status and tests.
    pub async fn page_counts(&self) -> Result<Vec<(String, i64)>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT state, count(*) FROM pages GROUP BY state ORDER BY state",
                &[],
            )
            .await
            .map_err(self.sql())?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

/// Whether a record with `id` was committed in this cycle (or another page
/// was found unchanged with it). Takes the lock that orders records, held
/// to the transaction's end: two workers committing one id at once are
/// taken in turn, and record numbers become visible in their order.
async fn id_kept(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    page_id: i64,
) -> Result<bool, tokio_postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&RECORD_ORDER_LOCK])
        .await?;
    let row = tx
        .query_one(
            "SELECT EXISTS(SELECT 1 FROM records
                           WHERE record_id = $1 AND cycle = (SELECT cycle FROM job))
                OR EXISTS(SELECT 1 FROM pages WHERE record_id = $1 AND id <> $2
                          AND state = 'done' AND cycle = (SELECT cycle FROM job))",
            &[&id, &page_id],
        )
        .await?;
    Ok(row.get(0))
}
