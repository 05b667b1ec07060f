//! Crawl state in one SQLite file (`--state FILE`). [`StateStore`] owns every
//! SQL statement of the project; the crawler sees it through the
//! [`Frontier`] trait and a few record-keeping methods, so a server-backed
//! store shared by several machines could replace it without touching the
//! crawl loop.
//!
//! Exactly-once output across crashes rests on one ordering, kept by the
//! single writer task:
//!
//! 1. the record's line is appended to the output file (one `write`);
//! 2. then one transaction marks the page done *and* stores the output
//!    file's new length (`output_offset`).
//!
//! A kill between 1 and 2 leaves a whole line past `output_offset` whose page
//! is not marked done: on restart [`StateStore::reconcile`] reads the lines
//! past the offset and marks their pages done, so they are not fetched and
//! written again. A kill during 1 leaves a partial last line: it is cut off
//! (the page is not done, so it is fetched and written once more). Lines are
//! not fsynced: a killed process loses nothing the kernel has; a power cut
//! may lose the unsynced tail, and then those pages are simply crawled again.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use url::Url;

use crate::crawl::frontier::{Entry, EntryKind, Frontier};
use crate::fetch::{ErrorKind, host_key};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state file {path}: {source}")]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    #[error("state file {path} is in use by another parkcrawl run (lock {lock})")]
    Locked { path: String, lock: String },
    #[error("state file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// A page's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    Queued = 0,
    Fetching = 1,
    Done = 2,
    Failed = 3,
}

/// What is known of a page from earlier runs: for conditional requests and
/// change detection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    pub record_id: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_hash: Option<String>,
    pub emitted: bool,
}

/// Counts for `parkcrawl status`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Status {
    pub by_state: Vec<(String, u64)>,
    pub failures_by_host: Vec<(String, u64)>,
    pub last_run_started: Option<String>,
    pub last_run_finished: Option<String>,
}

pub struct StateStore {
    conn: Connection,
    path: String,
    /// Held for the life of the store: a second run on the same state
    /// cannot take it.
    _lock: std::fs::File,
    /// Hosts with queued pages, in round-robin order (a cache of the table).
    turn: std::collections::VecDeque<String>,
    queued: usize,
    /// Queue order of the next push (kept here: MAX(seq) per insert would
    /// make a large frontier quadratic).
    next_seq: i64,
}

impl StateStore {
    /// Opens (creating if needed) the state file and takes its lock. Pages
    /// left `Fetching` by a killed run go back to the queue.
    pub fn open(path: &Path) -> Result<StateStore, StoreError> {
        let p = path.display().to_string();
        let lock_path = format!("{p}.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::Io {
                path: lock_path.clone(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: p,
                    lock: lock_path,
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    path: lock_path,
                    source,
                });
            }
        }
        let sql = |source| StoreError::Sql {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
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
                 error TEXT
             );
             CREATE INDEX IF NOT EXISTS pages_queue ON pages(state, host, seq);
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             UPDATE pages SET state = 0 WHERE state = 1;",
        )
        .map_err(sql)?;
        let mut s = StateStore {
            conn,
            path: p,
            _lock: lock,
            turn: Default::default(),
            queued: 0,
            next_seq: 0,
        };
        s.reload()?;
        Ok(s)
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

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2", [key, value])
            .map(|_| ())
            .map_err(self.sql())
    }

    /// What earlier runs learned of `url`.
    pub fn known(&self, url: &Url) -> Result<Option<Known>, StoreError> {
        self.conn
            .query_row(
                "SELECT record_id, etag, last_modified, content_hash, emitted FROM pages WHERE url = ?1",
                [url.as_str()],
                |r| {
                    Ok(Known {
                        record_id: r.get(0)?,
                        etag: r.get(1)?,
                        last_modified: r.get(2)?,
                        content_hash: r.get(3)?,
                        emitted: r.get::<_, i64>(4)? != 0,
                    })
                },
            )
            .optional()
            .map_err(self.sql())
    }

    /// Step 2 of the output protocol: the page is done, its record (if one
    /// was written) ends at `output_offset`. One transaction.
    pub fn commit_page(
        &mut self,
        url: &Url,
        fetched: &Fetched,
        output_offset: Option<u64>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(|source| StoreError::Sql {
            path: self.path.clone(),
            source,
        })?;
        tx.execute(
            "UPDATE pages SET state = 2, record_id = COALESCE(?2, record_id), etag = ?3, last_modified = ?4,
                 content_hash = COALESCE(?5, content_hash), emitted = MAX(emitted, ?6), last_fetch = ?7,
                 status = ?8, failures = 0, error = NULL
             WHERE url = ?1",
            params![
                url.as_str(),
                fetched.record_id,
                fetched.etag,
                fetched.last_modified,
                fetched.content_hash,
                fetched.emitted as i64,
                fetched.at,
                fetched.status,
            ],
        )
        .map_err(|source| StoreError::Sql { path: self.path.clone(), source })?;
        if let Some(off) = output_offset {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('output_offset', ?1) ON CONFLICT(key) DO UPDATE SET value = ?1",
                [off.to_string()],
            )
            .map_err(|source| StoreError::Sql { path: self.path.clone(), source })?;
        }
        tx.commit().map_err(|source| StoreError::Sql {
            path: self.path.clone(),
            source,
        })
    }

    /// Restart repair of the output file (see the module header): cuts a
    /// partial last line, and marks done the pages whose records lie past the
    /// committed offset. Returns how many such records it found.
    pub fn reconcile(&mut self, output: &Path) -> Result<usize, StoreError> {
        let io = |source| StoreError::Io {
            path: output.display().to_string(),
            source,
        };
        let Ok(bytes) = std::fs::read(output) else {
            return Ok(0);
        };
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        if whole < bytes.len() {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(output)
                .map_err(io)?;
            f.set_len(whole as u64).map_err(io)?;
        }
        let committed: usize = self
            .meta("output_offset")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut n = 0;
        for line in bytes[committed.min(whole)..whole].split(|&b| b == b'\n') {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            let Some(url) = v["url"].as_str().and_then(|u| Url::parse(u).ok()) else {
                continue;
            };
            let fetched = Fetched {
                record_id: v["id"].as_str().map(str::to_string),
                content_hash: v["content_hash"].as_str().map(str::to_string),
                etag: v["fetch"]["etag"].as_str().map(str::to_string),
                last_modified: v["fetch"]["last_modified"].as_str().map(str::to_string),
                at: v["fetch"]["fetched_at"].as_str().map(str::to_string),
                status: v["fetch"]["status"].as_u64().map(|s| s as u16),
                emitted: true,
            };
            self.commit_page(&url, &fetched, None)?;
            n += 1;
        }
        self.set_meta("output_offset", &whole.to_string())?;
        self.reload()?;
        Ok(n)
    }

    /// Queues again the done pages last fetched before `before` (RFC 3339),
    /// for an incremental recrawl. Returns how many.
    pub fn requeue_older_than(&mut self, before: &str) -> Result<usize, StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE pages SET state = 0, seq = (SELECT COALESCE(MAX(seq), 0) FROM pages) + rowid
                 WHERE state IN (2, 3) AND (last_fetch IS NULL OR last_fetch < ?1)",
                [before],
            )
            .map_err(self.sql())?;
        self.reload()?;
        Ok(n)
    }

    /// Whether any page is queued or being fetched.
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
        let mut s = Status::default();
        let mut stmt = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM pages GROUP BY state ORDER BY state")
            .map_err(self.sql())?;
        s.by_state = stmt
            .query_map([], |r| {
                let name = match r.get::<_, i64>(0)? {
                    0 => "queued",
                    1 => "fetching",
                    2 => "done",
                    _ => "failed",
                };
                Ok((name.to_string(), r.get::<_, i64>(1)? as u64))
            })
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        let mut stmt = self
            .conn
            .prepare("SELECT host, COUNT(*) FROM pages WHERE state = 3 GROUP BY host ORDER BY COUNT(*) DESC, host")
            .map_err(self.sql())?;
        s.failures_by_host = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        s.last_run_started = self.meta("last_run_started")?;
        s.last_run_finished = self.meta("last_run_finished")?;
        Ok(s)
    }
}

/// What one fetch of a page produced, for [`StateStore::commit_page`].
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub record_id: Option<String>,
    pub content_hash: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// RFC 3339, UTC.
    pub at: Option<String>,
    pub status: Option<u16>,
    /// A record (or tombstone) for this page was written to the output.
    pub emitted: bool,
}

impl Frontier for StateStore {
    fn push(&mut self, entry: Entry) -> bool {
        let host = host_key(&entry.url);
        let kind = matches!(entry.kind, EntryKind::Sitemap) as i64;
        let added = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO pages (url, host, depth, kind, state, seq)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)",
                params![entry.url.as_str(), host, entry.depth, kind, self.next_seq],
            )
            .unwrap_or_else(|e| panic!("state file {}: {e}", self.path));
        if added == 1 {
            self.next_seq += 1;
            if !self.turn.contains(&host) {
                self.turn.push_back(host);
            }
            self.queued += 1;
        }
        added == 1
    }

    fn pop(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Option<Entry> {
        for _ in 0..self.turn.len() {
            let host = self.turn.pop_front()?;
            if !ready(&host) {
                self.turn.push_back(host);
                continue;
            }
            let row: Option<(String, u32, i64)> = self
                .conn
                .query_row(
                    "SELECT url, depth, kind FROM pages WHERE state = 0 AND host = ?1 ORDER BY seq LIMIT 1",
                    [&host],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .unwrap_or_else(|e| panic!("state file {}: {e}", self.path));
            let Some((url, depth, kind)) = row else {
                continue;
            };
            self.conn
                .execute("UPDATE pages SET state = 1 WHERE url = ?1", [&url])
                .unwrap_or_else(|e| panic!("state file {}: {e}", self.path));
            self.queued = self.queued.saturating_sub(1);
            let more: bool = self
                .conn
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM pages WHERE state = 0 AND host = ?1)",
                    [&host],
                    |r| r.get(0),
                )
                .unwrap_or(false);
            if more {
                self.turn.push_back(host);
            }
            let url = Url::parse(&url).expect("stored URLs are valid");
            return Some(Entry {
                url,
                depth,
                kind: if kind == 1 {
                    EntryKind::Sitemap
                } else {
                    EntryKind::Page
                },
            });
        }
        None
    }

    fn waiting_hosts(&self) -> Vec<String> {
        self.turn.iter().cloned().collect()
    }

    fn done(&mut self, url: &Url) {
        let _ = self.conn.execute(
            "UPDATE pages SET state = 2 WHERE url = ?1 AND state != 2",
            [url.as_str()],
        );
    }

    fn failed(&mut self, url: &Url, kind: ErrorKind) {
        let _ = self.conn.execute(
            "UPDATE pages SET state = 3, failures = failures + 1, error = ?2 WHERE url = ?1",
            params![url.as_str(), format!("{kind:?}")],
        );
    }

    fn queued(&self) -> usize {
        self.queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Entry {
        Entry::page(Url::parse(s).unwrap(), 0)
    }

    #[test]
    fn frontier_survives_reopen_and_lock_excludes_a_second_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let mut s = StateStore::open(&path).unwrap();
            assert!(matches!(
                StateStore::open(&path),
                Err(StoreError::Locked { .. })
            ));
            for u in ["http://a.cn/1", "http://a.cn/2", "http://b.cn/1"] {
                assert!(s.push(e(u)));
            }
            assert!(!s.push(e("http://a.cn/1")));
            let first = s.pop(&mut |_| true).unwrap();
            assert_eq!(first.url.as_str(), "http://a.cn/1");
            // Killed here: a.cn/1 is left Fetching.
        }
        let mut s = StateStore::open(&path).unwrap();
        assert_eq!(s.queued(), 3);
        let order: Vec<String> = std::iter::from_fn(|| s.pop(&mut |_| true))
            .map(|e| e.url.to_string())
            .collect();
        assert_eq!(order, ["http://a.cn/1", "http://b.cn/1", "http://a.cn/2"]);
        assert!(!s.complete().unwrap());
        for u in &order {
            s.commit_page(
                &Url::parse(u).unwrap(),
                &Fetched {
                    emitted: true,
                    ..Default::default()
                },
                None,
            )
            .unwrap();
        }
        assert!(s.complete().unwrap());
    }

    #[test]
    fn reconcile_marks_written_records_and_cuts_a_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateStore::open(&dir.path().join("s.db")).unwrap();
        s.push(e("http://a.cn/1"));
        s.push(e("http://a.cn/2"));
        let out = dir.path().join("out.jsonl");
        std::fs::write(
            &out,
            "{\"url\":\"http://a.cn/1\",\"id\":\"x\",\"fetch\":{}}\n{\"url\":\"http://a.c",
        )
        .unwrap();
        assert_eq!(s.reconcile(&out).unwrap(), 1);
        assert!(std::fs::read_to_string(&out).unwrap().ends_with("}\n"));
        assert_eq!(s.queued(), 1);
        assert_eq!(
            s.known(&Url::parse("http://a.cn/1").unwrap())
                .unwrap()
                .unwrap()
                .record_id
                .as_deref(),
            Some("x")
        );
    }
}
