//! The crawl job: one per database, any number of workers. Its cycle
//! starts (or the next one does) in one transaction under an advisory lock,
//! so that workers starting together start one cycle; a worker started
//! while a cycle runs joins it.

use std::time::Duration;

use super::{PgError, PgStore};

/// The advisory lock key of a job's start (any constant; "pkjb").
const JOB_LOCK: i64 = 0x706b_6a62;

/// How this worker's run began ([`PgStore::begin_job`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobStart {
    /// The cycle the worker is in now.
    pub cycle: i64,
    /// This worker started the cycle (a fresh job, or the one before was
    /// complete); `false`: it joined a cycle in progress.
    pub started: bool,
    /// Pages queued again for the recrawl of a cycle this worker started.
    pub requeued: u64,
}

/// What is left of the job, for a worker deciding whether to claim more
/// hosts or to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Hosts with pages queued or in flight.
    pub hosts_with_work: i64,
    /// Workers whose heartbeat is within the lease TTL (this one included).
    pub live_workers: i64,
    /// Some page is queued or in flight, on any host.
    pub work_left: bool,
}

impl Load {
    /// A worker's fair share of hosts: ceil(hosts with work / live workers).
    pub fn fair_share(&self) -> usize {
        let workers = self.live_workers.max(1);
        usize::try_from((self.hosts_with_work + workers - 1) / workers).unwrap_or(0)
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl PgStore {
    /// Starts or joins the job's cycle, as the SQLite state begins a run: a
    /// fresh job starts cycle 1; a cycle with pages queued or in flight is
    /// joined; a complete one (pages, none left) starts the next, queueing
    /// again every page last fetched `recrawl_after` ago or more (by the
    /// database's clock). A job with no pages yet is joined: the worker
    /// that created it is about to queue its seeds.
    pub async fn begin_job(
        &self,
        worker: &str,
        recrawl_after: Duration,
    ) -> Result<JobStart, PgError> {
        let mut client = self.client().await?;
        let sql = self.sql();
        let tx = client.transaction().await.map_err(&sql)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&JOB_LOCK])
            .await
            .map_err(&sql)?;
        tx.execute(
            "INSERT INTO workers (name) VALUES ($1)
             ON CONFLICT (name) DO UPDATE SET heartbeat = now(), stopped_at = NULL",
            &[&worker],
        )
        .await
        .map_err(&sql)?;
        let row = tx
            .query_one(
                "SELECT (SELECT cycle FROM job),
                        EXISTS(SELECT 1 FROM pages),
                        EXISTS(SELECT 1 FROM pages WHERE state IN ('queued', 'in_flight'))",
                &[],
            )
            .await
            .map_err(&sql)?;
        let (cycle, any, left): (Option<i64>, bool, bool) = (row.get(0), row.get(1), row.get(2));
        let mut start = JobStart {
            cycle: cycle.unwrap_or(1),
            started: false,
            requeued: 0,
        };
        match cycle {
            None => {
                tx.execute("INSERT INTO job (id, cycle) VALUES (1, 1)", &[])
                    .await
                    .map_err(&sql)?;
                start.started = true;
            }
            Some(c) if any && !left => {
                start.cycle = c + 1;
                start.started = true;
                tx.execute(
                    "UPDATE job SET cycle = $1, cycle_started = now()",
                    &[&start.cycle],
                )
                .await
                .map_err(&sql)?;
                start.requeued = tx
                    .execute(
                        "UPDATE pages SET state = 'queued', claimed_by = NULL, claimed_epoch = NULL
                         WHERE state IN ('done', 'failed', 'skipped')
                           AND (fetched_at IS NULL
                                OR fetched_at <= now() - $1::bigint * interval '1 millisecond')",
                        &[&millis(recrawl_after)],
                    )
                    .await
                    .map_err(&sql)?;
            }
            Some(_) => {}
        }
        tx.commit().await.map_err(&sql)?;
        Ok(start)
    }

    /// `worker` has ended: no longer counted live.
    pub async fn worker_stopped(&self, worker: &str) -> Result<(), PgError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE workers SET stopped_at = now() WHERE name = $1",
                &[&worker],
            )
            .await
            .map_err(self.sql())?;
        Ok(())
    }

    /// The job's cycle now (0 before any worker began it).
    pub async fn cycle(&self) -> Result<i64, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT coalesce((SELECT cycle FROM job), 0)", &[])
            .await
            .map_err(self.sql())?;
        Ok(row.get(0))
    }

    /// What is left of the job; a worker is live when its heartbeat is
    /// within `ttl`. Asked by every worker several times a second, so it
    /// counts hosts (one index probe each, `pages_active`), never pages.
    pub async fn load(&self, ttl: Duration) -> Result<Load, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM hosts h
                         WHERE EXISTS (SELECT 1 FROM pages p WHERE p.host = h.host
                                       AND p.state IN ('queued', 'in_flight'))),
                        (SELECT count(*) FROM workers
                         WHERE heartbeat > now() - $1::bigint * interval '1 millisecond'
                           AND stopped_at IS NULL)",
                &[&millis(ttl)],
            )
            .await
            .map_err(self.sql())?;
        let hosts_with_work: i64 = row.get(0);
        Ok(Load {
            hosts_with_work,
            live_workers: row.get(1),
            work_left: hosts_with_work > 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fair_share_rounds_up_and_never_divides_by_zero() {
        let load = |hosts, workers| Load {
            hosts_with_work: hosts,
            live_workers: workers,
            work_left: hosts > 0,
        };
        assert_eq!(load(10, 3).fair_share(), 4);
        assert_eq!(load(9, 3).fair_share(), 3);
        assert_eq!(load(1, 4).fair_share(), 1);
        assert_eq!(load(0, 2).fair_share(), 0);
        assert_eq!(load(5, 0).fair_share(), 5);
    }
}
