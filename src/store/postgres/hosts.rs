//! Hosts: leases (who crawls a host now, fenced by an epoch) and the
//! request slots that keep every worker within the host's rate.

use std::time::Duration;

use super::{PgError, PgStore};

/// A host leased to a worker. `epoch` fences every write the holder makes
/// for the host: once another worker takes the host over, it is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub host: String,
    pub worker: String,
    pub epoch: i64,
}

/// A reserved request slot: the request may go at `at` (microseconds since
/// the Unix epoch, by the database's clock); the next one no sooner than
/// `at + interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub at_micros: i64,
    pub interval_ms: i64,
    /// How long from now until `at`, by the database's clock (0 when the
    /// slot is now): the wait that keeps the rate whatever the worker's
    /// clock says.
    pub wait_micros: i64,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Takes a host that has queued work and no live lease: the one whose next
/// slot comes first. `SKIP LOCKED`: two workers claiming at once get two
/// hosts, neither waits. Taking over an expired lease sends the pages the
/// old holder had in flight back to the queue, in the same statement.
const CLAIM_HOST: &str = "
WITH pick AS (
    SELECT h.host FROM hosts h
    WHERE (h.lease_holder IS NULL OR h.lease_expires < now())
      AND EXISTS (SELECT 1 FROM pages p
                  WHERE p.host = h.host AND p.state IN ('queued', 'in_flight'))
    ORDER BY h.next_at, h.host
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), granted AS (
    UPDATE hosts h SET lease_holder = $1,
                       lease_expires = now() + $2::bigint * interval '1 millisecond',
                       lease_epoch = h.lease_epoch + 1
    FROM pick WHERE h.host = pick.host
    RETURNING h.host, h.lease_epoch
), requeued AS (
    UPDATE pages p SET state = 'queued', claimed_by = NULL, claimed_epoch = NULL
    FROM granted WHERE p.host = granted.host AND p.state = 'in_flight'
)
SELECT host, lease_epoch FROM granted";

impl PgStore {
    /// Registers `worker` (or refreshes its heartbeat).
    pub async fn heartbeat(&self, worker: &str) -> Result<(), PgError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO workers (name) VALUES ($1)
                 ON CONFLICT (name) DO UPDATE SET heartbeat = now(), stopped_at = NULL",
                &[&worker],
            )
            .await
            .map_err(self.sql())?;
        Ok(())
    }

    /// Leases a host with work to `worker` for `ttl`; `None` when every
    /// host with work is leased (or there is no work).
    pub async fn claim_host(&self, worker: &str, ttl: Duration) -> Result<Option<Lease>, PgError> {
        let client = self.client().await?;
        let row = client
            .query_opt(CLAIM_HOST, &[&worker, &millis(ttl)])
            .await
            .map_err(self.sql())?;
        Ok(row.map(|r| Lease {
            host: r.get(0),
            worker: worker.to_string(),
            epoch: r.get(1),
        }))
    }

    /// Extends the lease by `ttl` from now (and the worker's heartbeat);
    /// `false`: the lease is no longer the holder's (taken over, or ended
    /// by [`PgStore::requeue_expired`]).
    pub async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<bool, PgError> {
        self.heartbeat(&lease.worker).await?;
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE hosts SET lease_expires = now() + $4::bigint * interval '1 millisecond'
                 WHERE host = $1 AND lease_holder = $2 AND lease_epoch = $3",
                &[&lease.host, &lease.worker, &lease.epoch, &millis(ttl)],
            )
            .await
            .map_err(self.sql())?;
        Ok(n == 1)
    }

    /// Hands the host back (the holder is done with it, or stops): its
    /// pages still in flight under this lease go back to the queue. `false`:
    /// the lease was no longer the holder's; nothing changed.
    pub async fn release_lease(&self, lease: &Lease) -> Result<bool, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "WITH freed AS (
                     UPDATE hosts SET lease_holder = NULL, lease_expires = NULL
                     WHERE host = $1 AND lease_holder = $2 AND lease_epoch = $3
                     RETURNING host
                 ), back AS (
                     UPDATE pages p SET state = 'queued', claimed_by = NULL, claimed_epoch = NULL
                     FROM freed WHERE p.host = freed.host AND p.state = 'in_flight'
                       AND p.claimed_epoch = $3
                 )
                 SELECT count(*) FROM freed",
                &[&lease.host, &lease.worker, &lease.epoch],
            )
            .await
            .map_err(self.sql())?;
        Ok(row.get::<_, i64>(0) == 1)
    }

    /// Reserves the host's next request slot, atomically in its row: the
    /// slot is the later of `next_at`, now and the end of Retry-After, and
    /// `next_at` moves one interval (the larger of the rate's and the
    /// Crawl-delay) past it. The row is locked only for this statement.
    /// Needs no lease: a worker whose lease was just taken over still gets
    /// a slot of its own, so even that race keeps the host's rate.
    pub async fn reserve_slot(&self, host: &str) -> Result<Slot, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "WITH h AS (
                     SELECT host, greatest(next_at, now(), coalesce(retry_after_until, now())) AS slot,
                            greatest(interval_ms, coalesce(crawl_delay_ms, 0)) AS gap
                     FROM hosts WHERE host = $1 FOR UPDATE
                 )
                 UPDATE hosts SET next_at = h.slot + h.gap * interval '1 millisecond'
                 FROM h WHERE hosts.host = h.host
                 RETURNING (extract(epoch FROM h.slot) * 1000000)::bigint, h.gap,
                           greatest(0, (extract(epoch FROM h.slot - now()) * 1000000)::bigint)",
                &[&host],
            )
            .await
            .map_err(self.sql())?;
        Ok(Slot {
            at_micros: row.get(0),
            interval_ms: row.get(1),
            wait_micros: row.get(2),
        })
    }

    /// The host's own interval (`--rate`), adding the host if it is new.
    pub async fn set_interval(&self, host: &str, interval: Duration) -> Result<(), PgError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO hosts (host, interval_ms) VALUES ($1, $2)
                 ON CONFLICT (host) DO UPDATE SET interval_ms = excluded.interval_ms",
                &[&host, &millis(interval)],
            )
            .await
            .map_err(self.sql())?;
        Ok(())
    }

    /// robots.txt's Crawl-delay, binding every worker (`None`: none given).
    /// The request just made (robots.txt itself) counts as the last one:
    /// the next slot is a whole delay from now, as the fetcher's own turn
    /// has it (`fetch::host`).
    pub async fn set_crawl_delay(
        &self,
        host: &str,
        delay: Option<Duration>,
    ) -> Result<(), PgError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE hosts SET crawl_delay_ms = $2::bigint,
                     next_at = CASE WHEN $2::bigint IS NULL THEN next_at
                                    ELSE greatest(next_at, now() + $2::bigint * interval '1 millisecond')
                               END
                 WHERE host = $1",
                &[&host, &delay.map(millis)],
            )
            .await
            .map_err(self.sql())?;
        Ok(())
    }

    /// A Retry-After of `wait` from now: no slot of the host starts before
    /// it ends. A shorter one never cuts an earlier, longer one short.
    pub async fn set_retry_after(&self, host: &str, wait: Duration) -> Result<(), PgError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE hosts SET retry_after_until = greatest(retry_after_until,
                                                 now() + $2::bigint * interval '1 millisecond')
                 WHERE host = $1",
                &[&host, &millis(wait)],
            )
            .await
            .map_err(self.sql())?;
        Ok(())
    }

    /// Ends every expired lease (bumping its epoch, so its holder is fenced
    /// even before anyone takes the host) and sends its in-flight pages
    /// back to the queue; returns how many pages went back.
    pub async fn requeue_expired(&self) -> Result<u64, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "WITH ended AS (
                     UPDATE hosts SET lease_holder = NULL, lease_expires = NULL,
                                      lease_epoch = lease_epoch + 1
                     WHERE lease_holder IS NOT NULL AND lease_expires < now()
                     RETURNING host
                 ), back AS (
                     UPDATE pages p SET state = 'queued', claimed_by = NULL, claimed_epoch = NULL
                     FROM ended WHERE p.host = ended.host AND p.state = 'in_flight'
                     RETURNING p.id
                 )
                 SELECT count(*) FROM back",
                &[],
            )
            .await
            .map_err(self.sql())?;
        Ok(row.get::<_, i64>(0) as u64)
    }
}
