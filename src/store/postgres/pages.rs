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
}

/// How a fetch of a page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEnd {
    Done,
    Failed,
}

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
                 RETURNING id, url, depth, etag, last_modified, content_hash",
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
        let state = match page.end {
            PageEnd::Done => "done",
            PageEnd::Failed => "failed",
        };
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
