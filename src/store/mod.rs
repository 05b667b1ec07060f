//! Crawl state in one SQLite file (`--state FILE`). [`StateStore`] owns every
//! SQLite statement of the project; the crawler sees it through the
//! `Frontier` trait and the writer through `Ledger` ([`SharedStore`]), as
//! it sees the PostgreSQL store shared by many workers ([`postgres`]):
//! the crawl loop does not know which it has.
//!
//! What it holds: every URL ever queued (the frontier and the seen-set are
//! one table), each page's state, depth, validators (ETag, Last-Modified),
//! content hash, last fetch and failures; `meta`: the crawl cycle, the
//! output file and how much of it is committed, the last run; and the
//! per-host block statistics of `repeated-block` (`repeated.rs`).
//!
//! # Exactly once across `kill -9`
//!
//! The single writer thread (`crawl::sink`) keeps one order for every record:
//!
//! 1. the record's line is appended to the output file and flushed (one
//!    `write`: once it returns, the bytes are the kernel's and survive the
//!    death of this process);
//! 2. then one transaction marks the page done, stores its record id, and
//!    stores the output file's new length (`output_offset`).
//!
//! A kill at any moment leaves one of three states, each repaired by
//! [`StateStore::reconcile`] on the next start, before anything is written:
//!
//! - during 1: a partial last line. It is cut off; its page is not done, so
//!   it is fetched and written once more — once.
//! - between 1 and 2: whole lines past `output_offset` whose pages are not
//!   marked done. Reconcile reads them and marks their pages done (by their
//!   `url`), with their ids, so they are not written again. When the page was
//!   queued under another URL (a redirect), that entry is fetched again, but
//!   the writer asks [`StateStore::seen_id`] before writing: the id is already
//!   there for this cycle, so the record is not written twice.
//! - after 2: nothing to repair.
//!
//! Pages are never marked done before their line is written, so no record
//! is lost; and every line written is either committed or found by
//! reconcile, so none is written twice. The output is opened for appending,
//! never truncated. Lines are not fsynced: that protects against the death of
//! the process, not of the machine. A power cut can lose the unsynced tail of
//! the output while the state says it was written; reconcile then warns that
//! the file is shorter than the state says.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use url::Url;

use crate::crawl::frontier::{Entry, EntryKind, FrontierError};
pub use crate::crawl::frontier::{Known, Visit};
use crate::fetch::{ErrorKind, host_key, now_rfc3339};

mod dust;
mod output;
/// `store::postgres::status` once `postgres/mod.rs` declares it (asked of
/// its owner); until then declared here, reading through a client of its own.
#[path = "postgres/status.rs"]
pub mod pg_status;
pub mod postgres;
mod repeated;
mod shared;
mod status;

pub use output::cut_partial_line;
pub use shared::SharedStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state file {path}: {source}")]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    #[error("state file {path} is in use by another parkcrawl run (lock {lock})")]
    Locked { path: String, lock: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path}: no such file")]
    Missing { path: String },
}

impl From<StoreError> for FrontierError {
    fn from(e: StoreError) -> Self {
        FrontierError(e.to_string())
    }
}

/// A page's state (the `state` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    Queued = 0,
    Fetching = 1,
    Done = 2,
    Failed = 3,
    /// Skipped by policy (robots.txt, not HTML, out of scope, duplicate).
    Skipped = 4,
}

impl PageState {
    pub const ALL: [PageState; 5] = [
        PageState::Queued,
        PageState::Fetching,
        PageState::Done,
        PageState::Failed,
        PageState::Skipped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PageState::Queued => "queued",
            PageState::Fetching => "fetching",
            PageState::Done => "done",
            PageState::Failed => "failed",
            PageState::Skipped => "skipped",
        }
    }
}

/// How a run began, decided by [`StateStore::begin_run`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunStart {
    /// The crawl of this state was in progress: it goes on where it stopped.
    pub resumed: bool,
    /// Crawl cycles: one more each time a completed crawl is revisited.
    pub cycle: i64,
    /// Known pages queued again for an incremental recrawl.
    pub requeued: usize,
}

/// What a run did, for [`StateStore::finish_run`] and `parkcrawl status`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LastRun {
    pub started: Option<String>,
    pub finished: Option<String>,
    /// `complete`, `stopped` (signal, --max-pages: the next run resumes), or
    /// `killed` (started, never finished).
    pub outcome: Option<String>,
    pub records: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub failed: u64,
}

/// Failed pages of one host, by kind of failure.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostFailures {
    pub host: String,
    pub failed: u64,
    pub kinds: Vec<(String, u64)>,
}

/// Everything `parkcrawl status` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub path: String,
    /// A crawl holds the state's lock now.
    pub running: bool,
    /// Nothing queued or being fetched.
    pub complete: bool,
    pub cycle: i64,
    pub cycle_started: Option<String>,
    /// Every page state with its count (zeros included).
    pub pages: Vec<(&'static str, u64)>,
    pub failures_by_host: Vec<HostFailures>,
    pub last_run: LastRun,
    pub output: Option<String>,
}

/// What reconcile found in an output file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reconciled {
    /// The file read: the output of the run before.
    pub file: Option<PathBuf>,
    /// Whole lines written after the last commit, now marked done.
    pub records: usize,
    /// Bytes of a partial last line, cut off.
    pub cut: u64,
    /// The file is shorter than the committed offset (truncated or replaced
    /// since, or a power cut lost its tail): `(length, committed)`.
    pub short: Option<(u64, u64)>,
    /// Bytes of a partial last line cut off this run's output, when it is
    /// another file than the run before's.
    pub cut_here: u64,
}

pub struct StateStore {
    conn: Connection,
    path: String,
    /// Held for the life of the store: a second run on the same state
    /// cannot take it. `None` for a read-only view (`status`).
    _lock: Option<std::fs::File>,
    /// Hosts with queued pages, in round-robin order (a cache of the table).
    turn: VecDeque<String>,
    queued: usize,
    /// Queue order of the next push (kept here: MAX(seq) per insert would
    /// make a large frontier quadratic).
    next_seq: i64,
    /// The crawl cycle that pages processed now belong to.
    cycle: i64,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS pages (
        url TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        depth INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        state INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        record_id TEXT,
        etag TEXT,
        last_modified TEXT,
        content_hash TEXT,
        emitted INTEGER NOT NULL DEFAULT 0,
        last_fetch TEXT,
        status INTEGER,
        failures INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        cycle INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS pages_queue ON pages(state, host, seq);
    CREATE INDEX IF NOT EXISTS pages_record ON pages(record_id) WHERE record_id IS NOT NULL;
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

impl StateStore {
    /// Opens (creating if needed) the state file and takes its lock. Pages
    /// left `Fetching` by a killed run go back to the queue.
    pub fn open(path: &Path) -> Result<StateStore, StoreError> {
        let p = path.display().to_string();
        let lock_path = lock_path(path);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::Io {
                path: lock_path.display().to_string(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: p,
                    lock: lock_path.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    path: lock_path.display().to_string(),
                    source,
                });
            }
        }
        let sql = |source| StoreError::Sql {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             {SCHEMA}{}{}
             UPDATE pages SET state = 0 WHERE state = 1;",
            repeated::SCHEMA,
            dust::SCHEMA
        ))
        .map_err(sql)?;
        let mut s = StateStore {
            conn,
            path: p,
            _lock: Some(lock),
            turn: Default::default(),
            queued: 0,
            next_seq: 0,
            cycle: 0,
        };
        s.cycle = s.meta_i64("cycle")?.unwrap_or(0);
        s.reload()?;
        Ok(s)
    }

    /// A read-only view that takes no lock, for `parkcrawl status` while a
    /// crawl may be running.
    pub fn open_read_only(path: &Path) -> Result<StateStore, StoreError> {
        let p = path.display().to_string();
        if !path.is_file() {
            return Err(StoreError::Missing { path: p });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Sql {
            path: p.clone(),
            source,
        })?;
        let mut s = StateStore {
            conn,
            path: p,
            _lock: None,
            turn: Default::default(),
            queued: 0,
            next_seq: 0,
            cycle: 0,
        };
        s.cycle = s.meta_i64("cycle")?.unwrap_or(0);
        Ok(s)
    }

    /// Whether a run holds the lock of the state at `path` now.
    pub fn is_locked(path: &Path) -> bool {
        let Ok(f) = std::fs::File::open(lock_path(path)) else {
            return false;
        };
        matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock))
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        sql_at(&self.path)
    }

    /// Rebuilds the in-memory host rotation from the table.
    fn reload(&mut self) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT host, COUNT(*) FROM pages WHERE state = 0 GROUP BY host ORDER BY MIN(seq)",
            )
            .map_err(self.sql())?;
        let rows: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        drop(stmt);
        self.next_seq = self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM pages", [], |r| {
                r.get(0)
            })
            .map_err(self.sql())?;
        self.queued = rows.iter().map(|(_, n)| *n as usize).sum();
        self.turn = rows.into_iter().map(|(h, _)| h).collect();
        Ok(())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.sql())
    }

    fn meta_i64(&self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.meta(key)?.and_then(|v| v.parse().ok()))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = ?2",
                [key, value],
            )
            .map(|_| ())
            .map_err(self.sql())
    }

    /// Whether `url` has a row: queued, fetched, failed or skipped, in this
    /// run or an earlier one.
    pub fn has_url(&self, url: &Url) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT 1 FROM pages WHERE url = ?1", [url.as_str()], |_| {
                Ok(())
            })
            .optional()
            .map(|r| r.is_some())
            .map_err(self.sql())
    }

    /// What earlier runs learned of `url`.
    pub fn known(&self, url: &Url) -> Result<Option<Known>, StoreError> {
        self.conn
            .query_row(
                "SELECT record_id, etag, last_modified, content_hash, status, emitted
                 FROM pages WHERE url = ?1",
                [url.as_str()],
                |r| {
                    Ok(Known {
                        record_id: r.get(0)?,
                        etag: r.get(1)?,
                        last_modified: r.get(2)?,
                        content_hash: r.get(3)?,
                        status: r.get(4)?,
                        emitted: r.get::<_, i64>(5)? != 0,
                    })
                },
            )
            .optional()
            .map_err(self.sql())
    }

    /// Whether another URL than `url` was already processed with record id
    /// `id` in this cycle (written, or found unchanged): a record with this
    /// id must not be written again.
    pub fn seen_id(&self, id: &str, url: &Url) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM pages
                   WHERE record_id = ?1 AND url != ?2 AND cycle = ?3 AND state = 2)",
                params![id, url.as_str(), self.cycle],
                |r| r.get(0),
            )
            .map_err(self.sql())
    }

    /// Step 2 of the output protocol: `url` is done as `visit` says; its
    /// record (if one was written) ends at `output_offset`. One transaction.
    /// A URL not in the table (a redirect's target, found by reconcile) is
    /// added, done.
    pub fn commit_page(
        &mut self,
        url: &Url,
        visit: &Visit,
        output_offset: Option<u64>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute(
            "INSERT INTO pages (url, host, depth, kind, state, seq, record_id, etag, last_modified,
                                content_hash, emitted, last_fetch, status, cycle)
             VALUES (?1, ?2, 0, 0, 2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT(url) DO UPDATE SET state = 2, record_id = ?4, etag = ?5,
                 last_modified = ?6, content_hash = ?7, emitted = MAX(emitted, ?8),
                 last_fetch = ?9, status = ?10, cycle = ?11, failures = 0, error = NULL",
            params![
                url.as_str(),
                host_key(url),
                self.next_seq,
                visit.record_id,
                visit.etag,
                visit.last_modified,
                visit.content_hash,
                visit.emitted as i64,
                visit.at.clone().unwrap_or_else(now_rfc3339),
                visit.status,
                self.cycle,
            ],
        )
        .map_err(sql)?;
        if let Some(off) = output_offset {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('output_offset', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = ?1",
                [off.to_string()],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// Decides how this run begins, after [`reconcile`](Self::reconcile):
    /// a fresh state starts cycle 1; a crawl in progress resumes; a complete
    /// one starts the next cycle, queueing again the pages last fetched at
    /// or before `recrawl_before` (RFC 3339, UTC).
    pub fn begin_run(&mut self, recrawl_before: &str) -> Result<RunStart, StoreError> {
        let now = now_rfc3339();
        let mut start = RunStart {
            resumed: false,
            cycle: self.cycle,
            requeued: 0,
        };
        if self.cycle == 0 {
            start.cycle = 1;
        } else if self.complete()? {
            start.cycle = self.cycle + 1;
            start.requeued = self.requeue_older_than(recrawl_before)?;
        } else {
            start.resumed = true;
        }
        if start.cycle != self.cycle {
            self.cycle = start.cycle;
            self.set_meta("cycle", &start.cycle.to_string())?;
            self.set_meta("cycle_started", &now)?;
        }
        self.conn
            .execute("DELETE FROM meta WHERE key LIKE 'last_run_%'", [])
            .map_err(self.sql())?;
        self.set_meta("last_run_started", &now)?;
        Ok(start)
    }

    /// Records the end of this run for `parkcrawl status`.
    pub fn finish_run(&mut self, run: &LastRun) -> Result<(), StoreError> {
        let outcome = if self.complete()? {
            "complete"
        } else {
            "stopped"
        };
        for (k, v) in [
            ("last_run_finished", now_rfc3339()),
            ("last_run_outcome", outcome.to_string()),
            ("last_run_records", run.records.to_string()),
            ("last_run_deleted", run.deleted.to_string()),
            ("last_run_unchanged", run.unchanged.to_string()),
            ("last_run_failed", run.failed.to_string()),
        ] {
            self.set_meta(k, &v)?;
        }
        Ok(())
    }

    /// Queues again the processed pages last fetched at or before `before`
    /// (RFC 3339, UTC, to the second: `<=` so that `--recrawl-after 0s`
    /// takes pages fetched in this very second too). Returns how many.
    pub fn requeue_older_than(&mut self, before: &str) -> Result<usize, StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE pages SET state = 0, seq = (SELECT COALESCE(MAX(seq), 0) FROM pages) + rowid
                 WHERE state IN (2, 3, 4) AND (last_fetch IS NULL OR last_fetch <= ?1)",
                [before],
            )
            .map_err(self.sql())?;
        self.reload()?;
        Ok(n)
    }

    /// Whether no page is queued or being fetched.
    pub fn complete(&self) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM pages WHERE state IN (0, 1)",
                [],
                |r| r.get(0),
            )
            .map_err(self.sql())?;
        Ok(n == 0)
    }

    fn push_entry(&mut self, entry: Entry) -> Result<bool, StoreError> {
        let host = host_key(&entry.url);
        let kind = matches!(entry.kind, EntryKind::Sitemap) as i64;
        let added = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO pages (url, host, depth, kind, state, seq)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)",
                params![entry.url.as_str(), host, entry.depth, kind, self.next_seq],
            )
            .map_err(self.sql())?;
        if added == 1 {
            self.next_seq += 1;
            self.queue_host(host);
        }
        Ok(added == 1)
    }

    fn queue_host(&mut self, host: String) {
        if !self.turn.contains(&host) {
            self.turn.push_back(host);
        }
        self.queued += 1;
    }

    fn pop_entry(
        &mut self,
        ready: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<Entry>, StoreError> {
        for _ in 0..self.turn.len() {
            let Some(host) = self.turn.pop_front() else {
                break;
            };
            if !ready(&host) {
                self.turn.push_back(host);
                continue;
            }
            let row: Option<(String, u32, i64)> = self
                .conn
                .query_row(
                    "SELECT url, depth, kind FROM pages WHERE state = 0 AND host = ?1
                     ORDER BY seq LIMIT 1",
                    [&host],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(self.sql())?;
            let Some((url, depth, kind)) = row else {
                continue;
            };
            self.conn
                .execute("UPDATE pages SET state = 1 WHERE url = ?1", [&url])
                .map_err(self.sql())?;
            self.queued = self.queued.saturating_sub(1);
            let more: bool = self
                .conn
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM pages WHERE state = 0 AND host = ?1)",
                    [&host],
                    |r| r.get(0),
                )
                .map_err(self.sql())?;
            if more {
                self.turn.push_back(host);
            }
            let Ok(url) = Url::parse(&url) else {
                // Only canonical URLs are stored; a row edited by hand that
                // does not parse is set aside rather than stopping the crawl.
                self.conn
                    .execute(
                        "UPDATE pages SET state = 3, error = 'bad_url' WHERE url = ?1",
                        [&url],
                    )
                    .map_err(self.sql())?;
                continue;
            };
            return Ok(Some(Entry {
                url,
                depth,
                kind: if kind == 1 {
                    EntryKind::Sitemap
                } else {
                    EntryKind::Page
                },
            }));
        }
        Ok(None)
    }

    fn mark_done(&mut self, url: &Url, visit: Option<&Visit>) -> Result<(), StoreError> {
        match visit {
            Some(v) => self.commit_page(url, v, None),
            None => self
                .conn
                .execute(
                    "UPDATE pages SET state = 2, last_fetch = ?2, cycle = ?3, failures = 0,
                         error = NULL WHERE url = ?1",
                    params![url.as_str(), now_rfc3339(), self.cycle],
                )
                .map(|_| ())
                .map_err(self.sql()),
        }
    }

    fn mark_failed(
        &mut self,
        url: &Url,
        kind: ErrorKind,
        status: Option<u16>,
    ) -> Result<(), StoreError> {
        if kind == ErrorKind::Cancelled {
            // The run stopped before this page was done: it stays in the
            // queue for the next run.
            let n = self
                .conn
                .execute(
                    "UPDATE pages SET state = 0 WHERE url = ?1 AND state = 1",
                    [url.as_str()],
                )
                .map_err(self.sql())?;
            if n == 1 {
                self.queue_host(host_key(url));
            }
            return Ok(());
        }
        let state = if kind.is_skip() {
            PageState::Skipped
        } else {
            PageState::Failed
        };
        self.conn
            .execute(
                "UPDATE pages SET state = ?2, failures = failures + ?3, error = ?4, status = ?5,
                     last_fetch = ?6, cycle = ?7 WHERE url = ?1",
                params![
                    url.as_str(),
                    state as i64,
                    (state == PageState::Failed) as i64,
                    kind.as_str(),
                    status,
                    now_rfc3339(),
                    self.cycle
                ],
            )
            .map(|_| ())
            .map_err(self.sql())
    }
}

/// The frontier's operations, synchronous: the crawl reaches them through
/// [`SharedStore`] (the async [`crate::crawl::frontier::Frontier`]).
impl StateStore {
    pub fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        Ok(self.push_entry(entry)?)
    }

    pub fn pop(
        &mut self,
        ready: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<Entry>, FrontierError> {
        Ok(self.pop_entry(ready)?)
    }

    pub fn waiting_hosts(&self) -> Vec<String> {
        self.turn.iter().cloned().collect()
    }

    pub fn done(&mut self, url: &Url, visit: Option<&Visit>) -> Result<(), FrontierError> {
        Ok(self.mark_done(url, visit)?)
    }

    pub fn failed(
        &mut self,
        url: &Url,
        kind: ErrorKind,
        status: Option<u16>,
    ) -> Result<(), FrontierError> {
        Ok(self.mark_failed(url, kind, status)?)
    }

    pub fn queued(&self) -> usize {
        self.queued
    }
}

/// `state.db` → `state.db.lock`.
fn lock_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests;

/// The error of a statement on the state at `path`; a free function for
/// where a transaction holds the connection (and so `self`) borrowed.
fn sql_at(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |source| StoreError::Sql {
        path: path.to_string(),
        source,
    }
}
