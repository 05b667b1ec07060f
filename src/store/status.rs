//! `parkcrawl status`: what the state holds, counted in one read.

use std::path::Path;

use super::{HostFailures, LastRun, PageState, StateStore, Status, StoreError};

impl StateStore {
    pub fn status(&self) -> Result<Status, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM pages GROUP BY state")
            .map_err(self.sql())?;
        let counts: Vec<(i64, u64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        let pages = PageState::ALL
            .iter()
            .map(|s| {
                let n = counts
                    .iter()
                    .find(|(k, _)| *k == *s as i64)
                    .map_or(0, |(_, n)| *n);
                (s.name(), n)
            })
            .collect();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT host, COALESCE(error, 'unknown'), COUNT(*) FROM pages WHERE state = 3
                 GROUP BY host, error ORDER BY host, COUNT(*) DESC",
            )
            .map_err(self.sql())?;
        let rows: Vec<(String, String, u64)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
            })
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        let mut failures_by_host: Vec<HostFailures> = Vec::new();
        for (host, kind, n) in rows {
            match failures_by_host.last_mut() {
                Some(h) if h.host == host => {
                    h.failed += n;
                    h.kinds.push((kind, n));
                }
                _ => failures_by_host.push(HostFailures {
                    host,
                    failed: n,
                    kinds: vec![(kind, n)],
                }),
            }
        }
        failures_by_host.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.host.cmp(&b.host)));
        let count = |k: &str| -> Result<u64, StoreError> {
            Ok(self.meta(k)?.and_then(|v| v.parse().ok()).unwrap_or(0))
        };
        let started = self.meta("last_run_started")?;
        let finished = self.meta("last_run_finished")?;
        let running = Path::new(&self.path).is_file() && Self::is_locked(Path::new(&self.path));
        let outcome = match (&started, &finished) {
            (Some(_), None) if running => Some("running".to_string()),
            (Some(_), None) => Some("killed".to_string()),
            _ => self.meta("last_run_outcome")?,
        };
        Ok(Status {
            path: self.path.clone(),
            running,
            complete: self.complete()?,
            cycle: self.cycle,
            cycle_started: self.meta("cycle_started")?,
            pages,
            failures_by_host,
            last_run: LastRun {
                started,
                finished,
                outcome,
                records: count("last_run_records")?,
                deleted: count("last_run_deleted")?,
                unchanged: count("last_run_unchanged")?,
                failed: count("last_run_failed")?,
            },
            output: self.meta("output_path")?,
        })
    }
}
