//! Crawl state in one SQLite file (`--state FILE`). [`StateStore`] owns every
//! SQL statement of the project; the crawler sees it through the
//! [`Frontier`] trait and the writer through [`Ledger`], so a server-backed
//! store shared by several machines could replace it without touching the
//! crawl loop.
//!
//! What it holds: every URL ever queued (the frontier and the seen-set are
//! one table), each page's state, depth, validators (ETag, Last-Modified),
//! content hash, last fetch and failures; and `meta`: the crawl cycle, the
//! output file and how much of it is committed, the last run.
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
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use url::Url;

use crate::crawl::frontier::{Entry, EntryKind, Frontier, FrontierError};
pub use crate::crawl::frontier::{Known, Visit};
use crate::crawl::sink::Ledger;
use crate::fetch::{ErrorKind, host_key, now_rfc3339};

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
             {SCHEMA}
             UPDATE pages SET state = 0 WHERE state = 1;"
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
        |source| StoreError::Sql {
            path: self.path.clone(),
            source,
        }
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

    /// Restart repair of the output (see the module header), before the run
    /// writes anything. `output` is this run's `-o` file, `None` for stdout.
    ///
    /// The state remembers which file its committed offset belongs to. The
    /// tail of that file past the offset is read: whole lines mark their
    /// pages done, a partial last line is cut. When this run writes to
    /// another file (a dated file per day), that file's existing content is
    /// left as it is, but for a partial last line, which would corrupt the
    /// first record appended after it.
    pub fn reconcile(&mut self, output: Option<&Path>) -> Result<Reconciled, StoreError> {
        let here = output.map(absolute);
        let mut found = Reconciled::default();
        if let Some(prev) = self.meta("output_path")?.map(PathBuf::from) {
            let committed = self.meta_i64("output_offset")?.unwrap_or(0).max(0) as u64;
            if prev.is_file() {
                found = self.scan_tail(&prev, committed)?;
                found.file = Some(prev);
            }
        }
        match &here {
            Some(p) => {
                let len = if self.meta("output_path")?.as_deref() == Some(&p.to_string_lossy()) {
                    file_len(p)?
                } else {
                    let (len, cut) = cut_partial_line(p)?;
                    found.cut_here = cut;
                    len
                };
                self.set_meta("output_path", &p.to_string_lossy())?;
                self.set_meta("output_offset", &len.to_string())?;
            }
            None => {
                self.conn
                    .execute(
                        "DELETE FROM meta WHERE key IN ('output_path', 'output_offset')",
                        [],
                    )
                    .map_err(self.sql())?;
            }
        }
        self.reload()?;
        Ok(found)
    }

    /// Reads `path` from `committed` on: whole lines are records written but
    /// not committed (marked done now); a partial last line is cut.
    fn scan_tail(&mut self, path: &Path, committed: u64) -> Result<Reconciled, StoreError> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut found = Reconciled::default();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < committed {
            found.short = Some((len, committed));
        }
        let mut pos = committed.min(len);
        file.seek(SeekFrom::Start(pos)).map_err(io)?;
        let mut reader = std::io::BufReader::new((&mut file).take(len - pos));
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io)?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                // The kill came mid-write: this page is not done, and will
                // be written again whole.
                drop(reader);
                file.set_len(pos).map_err(io)?;
                found.cut = n as u64;
                break;
            }
            pos += n as u64;
            if let Some((url, visit)) = visit_of_line(&line) {
                self.commit_page(&url, &visit, None)?;
                found.records += 1;
            }
        }
        Ok(found)
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

impl Frontier for StateStore {
    fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        Ok(self.push_entry(entry)?)
    }

    fn pop(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Result<Option<Entry>, FrontierError> {
        Ok(self.pop_entry(ready)?)
    }

    fn waiting_hosts(&self) -> Vec<String> {
        self.turn.iter().cloned().collect()
    }

    fn done(&mut self, url: &Url, visit: Option<&Visit>) -> Result<(), FrontierError> {
        Ok(self.mark_done(url, visit)?)
    }

    fn failed(
        &mut self,
        url: &Url,
        kind: ErrorKind,
        status: Option<u16>,
    ) -> Result<(), FrontierError> {
        Ok(self.mark_failed(url, kind, status)?)
    }

    fn queued(&self) -> usize {
        self.queued
    }

    fn known(&self, url: &Url) -> Result<Option<Known>, FrontierError> {
        Ok(StateStore::known(self, url)?)
    }
}

/// One store shared by the crawl loop (as its [`Frontier`]) and the writer
/// thread (as its [`Ledger`]). Each call holds the lock for one short
/// statement or transaction.
#[derive(Clone)]
pub struct SharedStore(Arc<Mutex<StateStore>>);

impl SharedStore {
    pub fn new(store: StateStore) -> SharedStore {
        SharedStore(Arc::new(Mutex::new(store)))
    }

    /// The store; a panic elsewhere while holding it cannot leave a
    /// half-done SQL transaction (SQLite rolls it back), so a poisoned lock
    /// is still safe to use.
    pub fn lock(&self) -> MutexGuard<'_, StateStore> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Frontier for SharedStore {
    fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        self.lock().push(entry)
    }

    fn pop(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Result<Option<Entry>, FrontierError> {
        self.lock().pop(ready)
    }

    fn waiting_hosts(&self) -> Vec<String> {
        self.lock().waiting_hosts()
    }

    fn done(&mut self, url: &Url, visit: Option<&Visit>) -> Result<(), FrontierError> {
        self.lock().mark_done(url, visit).map_err(Into::into)
    }

    fn failed(
        &mut self,
        url: &Url,
        kind: ErrorKind,
        status: Option<u16>,
    ) -> Result<(), FrontierError> {
        self.lock()
            .mark_failed(url, kind, status)
            .map_err(Into::into)
    }

    fn queued(&self) -> usize {
        self.lock().queued
    }

    fn known(&self, url: &Url) -> Result<Option<Known>, FrontierError> {
        Ok(self.lock().known(url)?)
    }
}

impl Ledger for SharedStore {
    fn seen_id(&mut self, id: &str, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.lock().seen_id(id, url)?)
    }

    fn written(
        &mut self,
        url: &Url,
        visit: &Visit,
        output_offset: Option<u64>,
    ) -> Result<(), FrontierError> {
        Ok(self.lock().commit_page(url, visit, output_offset)?)
    }
}

/// `state.db` → `state.db.lock`.
fn lock_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// The path as the state remembers it: absolute, so that a run from another
/// directory still recognises its file.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn file_len(p: &Path) -> Result<u64, StoreError> {
    match std::fs::metadata(p) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(source) => Err(StoreError::Io {
            path: p.display().to_string(),
            source,
        }),
    }
}

/// Cuts a partial last line off `path` (if it exists). Returns the length
/// left and the bytes cut. Reads only the tail, backwards.
pub fn cut_partial_line(path: &Path) -> Result<(u64, u64), StoreError> {
    let io = |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(io(e)),
    };
    let len = file.metadata().map_err(io)?.len();
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    let whole = loop {
        if end == 0 {
            break 0;
        }
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.read_exact(chunk).map_err(io)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            break start + i as u64 + 1;
        }
        end = start;
    };
    if whole < len {
        file.set_len(whole).map_err(io)?;
    }
    Ok((whole, len - whole))
}

/// A line of the output as the visit that wrote it: a record or a tombstone.
fn visit_of_line(line: &[u8]) -> Option<(Url, Visit)> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    let url = Url::parse(v["url"].as_str()?).ok()?;
    let s = |x: &serde_json::Value| x.as_str().map(str::to_string);
    let visit = if v["deleted"] == serde_json::Value::Bool(true) {
        Visit {
            record_id: s(&v["id"]),
            status: v["status"].as_u64().map(|s| s as u16),
            at: s(&v["deleted_at"]),
            emitted: true,
            ..Visit::default()
        }
    } else {
        Visit {
            record_id: s(&v["id"]),
            content_hash: s(&v["content_hash"]),
            etag: s(&v["fetch"]["etag"]),
            last_modified: s(&v["fetch"]["last_modified"]),
            at: s(&v["fetch"]["fetched_at"]),
            status: v["fetch"]["status"].as_u64().map(|s| s as u16),
            emitted: true,
        }
    };
    Some((url, visit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Entry {
        Entry::page(Url::parse(s).unwrap(), 0)
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn emitted(id: &str) -> Visit {
        Visit {
            record_id: Some(id.into()),
            emitted: true,
            ..Default::default()
        }
    }

    #[test]
    fn frontier_survives_reopen_and_lock_excludes_a_second_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let mut s = StateStore::open(&path).unwrap();
            assert!(StateStore::is_locked(&path));
            assert!(matches!(
                StateStore::open(&path),
                Err(StoreError::Locked { .. })
            ));
            for u in ["http://a.cn/1", "http://a.cn/2", "http://b.cn/1"] {
                assert!(s.push(e(u)).unwrap());
            }
            assert!(!s.push(e("http://a.cn/1")).unwrap());
            let first = s.pop(&mut |_| true).unwrap().unwrap();
            assert_eq!(first.url.as_str(), "http://a.cn/1");
            // Killed here: a.cn/1 is left Fetching.
        }
        assert!(!StateStore::is_locked(&path));
        let mut s = StateStore::open(&path).unwrap();
        assert_eq!(s.queued(), 3);
        let order: Vec<String> = std::iter::from_fn(|| s.pop(&mut |_| true).unwrap())
            .map(|e| e.url.to_string())
            .collect();
        assert_eq!(order, ["http://a.cn/1", "http://b.cn/1", "http://a.cn/2"]);
        assert!(!s.complete().unwrap());
        for (i, url) in order.iter().enumerate() {
            s.commit_page(&u(url), &emitted(&i.to_string()), None)
                .unwrap();
        }
        assert!(s.complete().unwrap());
    }

    #[test]
    fn reconcile_marks_written_records_and_cuts_a_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let mut s = StateStore::open(&dir.path().join("s.db")).unwrap();
        s.reconcile(Some(&out)).unwrap();
        s.begin_run("1970-01-01T00:00:00Z").unwrap();
        s.push(e("http://a.cn/1")).unwrap();
        s.push(e("http://a.cn/2")).unwrap();
        s.push(e("http://a.cn/3")).unwrap();
        // a.cn/1 written and committed; a.cn/2 written, killed before its
        // commit; a.cn/3 cut mid-line.
        let line1 = "{\"url\":\"http://a.cn/1\",\"id\":\"one\",\"fetch\":{}}\n";
        std::fs::write(&out, line1).unwrap();
        s.commit_page(
            &u("http://a.cn/1"),
            &emitted("one"),
            Some(line1.len() as u64),
        )
        .unwrap();
        let all = format!(
            "{line1}{{\"url\":\"http://a.cn/2\",\"id\":\"two\",\"content_hash\":\"sha256:2\",\
             \"fetch\":{{\"status\":200,\"etag\":\"\\\"e2\\\"\"}}}}\n{{\"url\":\"http://a.c"
        );
        std::fs::write(&out, &all).unwrap();
        drop(s);

        let mut s = StateStore::open(&dir.path().join("s.db")).unwrap();
        let found = s.reconcile(Some(&out)).unwrap();
        assert_eq!(found.records, 1);
        assert_eq!(found.cut, "{\"url\":\"http://a.c".len() as u64);
        assert_eq!(found.short, None);
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with("}\n"));
        assert_eq!(s.queued(), 1, "only the cut page is fetched again");
        let k = s.known(&u("http://a.cn/2")).unwrap().unwrap();
        assert_eq!(k.record_id.as_deref(), Some("two"));
        assert_eq!(k.etag.as_deref(), Some("\"e2\""));
        assert_eq!(k.content_hash.as_deref(), Some("sha256:2"));
        assert!(k.emitted);
        let start = s.begin_run("1970-01-01T00:00:00Z").unwrap();
        assert!(start.resumed);
        assert_eq!(start.cycle, 1);
        // The same page under another URL (a redirect) is not written again.
        assert!(s.seen_id("two", &u("http://a.cn/two-old")).unwrap());
        assert!(!s.seen_id("two", &u("http://a.cn/2")).unwrap());
        assert!(!s.seen_id("three", &u("http://a.cn/3")).unwrap());
    }

    #[test]
    fn a_new_output_file_keeps_the_old_ones_tail_reconciled() {
        let dir = tempfile::tempdir().unwrap();
        let day1 = dir.path().join("day1.jsonl");
        let day2 = dir.path().join("day2.jsonl");
        let db = dir.path().join("s.db");
        let mut s = StateStore::open(&db).unwrap();
        s.reconcile(Some(&day1)).unwrap();
        s.begin_run("1970-01-01T00:00:00Z").unwrap();
        s.push(e("http://a.cn/1")).unwrap();
        std::fs::write(
            &day1,
            "{\"url\":\"http://a.cn/1\",\"id\":\"one\",\"fetch\":{}}\n",
        )
        .unwrap();
        drop(s); // killed before the commit
        std::fs::write(&day2, "{\"foreign\":true}\n{\"partial").unwrap();
        let mut s = StateStore::open(&db).unwrap();
        let found = s.reconcile(Some(&day2)).unwrap();
        assert_eq!(found.records, 1);
        assert_eq!(found.file, Some(absolute(&day1)));
        assert_eq!(found.cut, 0);
        assert_eq!(found.cut_here, "{\"partial".len() as u64);
        assert_eq!(
            std::fs::read_to_string(&day2).unwrap(),
            "{\"foreign\":true}\n"
        );
        assert!(s.complete().unwrap());
        assert_eq!(
            s.meta("output_offset").unwrap().as_deref(),
            Some("17"),
            "the new file's content counts as committed"
        );
    }

    #[test]
    fn a_completed_crawl_is_revisited_after_recrawl_after() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let mut s = StateStore::open(&db).unwrap();
        assert_eq!(s.begin_run("2000-01-01T00:00:00Z").unwrap().cycle, 1);
        s.push(e("http://a.cn/old")).unwrap();
        s.push(e("http://a.cn/new")).unwrap();
        s.push(e("http://a.cn/gone")).unwrap();
        for url in ["http://a.cn/old", "http://a.cn/new"] {
            s.pop(&mut |_| true).unwrap();
            let at = if url.ends_with("old") {
                "2001-01-01T00:00:00Z"
            } else {
                "2030-01-01T00:00:00Z"
            };
            let v = Visit {
                at: Some(at.into()),
                ..emitted(url)
            };
            s.commit_page(&u(url), &v, None).unwrap();
        }
        s.pop(&mut |_| true).unwrap();
        s.failed(&u("http://a.cn/gone"), ErrorKind::Http, Some(404))
            .unwrap();
        s.finish_run(&LastRun::default()).unwrap();
        let st = s.status().unwrap();
        assert!(st.complete);
        assert_eq!(st.last_run.outcome.as_deref(), Some("complete"));
        assert_eq!(st.failures_by_host[0].host, "a.cn:80");
        assert_eq!(st.failures_by_host[0].kinds, [("http".to_string(), 1)]);
        drop(s);

        let mut s = StateStore::open(&db).unwrap();
        let start = s.begin_run("2020-01-01T00:00:00Z").unwrap();
        assert!(!start.resumed);
        assert_eq!(start.cycle, 2);
        // The page fetched in 2001 is due; the one of 2030 is not; the
        // failure of today is not either.
        assert_eq!(start.requeued, 1);
        assert_eq!(
            s.pop(&mut |_| true).unwrap().unwrap().url.as_str(),
            "http://a.cn/old"
        );
        // Cancelled by a stop signal: back in the queue.
        s.failed(&u("http://a.cn/old"), ErrorKind::Cancelled, None)
            .unwrap();
        assert_eq!(s.queued(), 1);
        drop(s);
        let st = StateStore::open_read_only(&db).unwrap().status().unwrap();
        assert!(!st.complete);
        assert_eq!(st.last_run.outcome.as_deref(), Some("killed"));
        assert_eq!(
            st.pages,
            [
                ("queued", 1),
                ("fetching", 0),
                ("done", 1),
                ("failed", 1),
                ("skipped", 0)
            ]
        );
    }
}
