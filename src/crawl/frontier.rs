//! The frontier: URLs waiting to be fetched, each at most once per run.
//! Behind a small trait so that the crawl loop does not know where it lives:
//! [`MemoryFrontier`] for a one-off crawl, the SQLite `StateStore`
//! (`--state FILE`, `crate::store`) for resumable, incremental ones, and
//! the PostgreSQL frontier (`--state postgres://…`,
//! `crate::store::postgres`) shared by any number of workers.

use std::collections::{HashMap, HashSet, VecDeque};

use async_trait::async_trait;
use tokio::time::Instant;
use url::Url;

use super::dust::Learned;
use crate::fetch::{ErrorKind, host_key};

/// What a URL is fetched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Page,
    Sitemap,
}

/// One URL to fetch, already canonical.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub url: Url,
    /// Pages: links followed from a seed (seeds and sitemap entries: 0).
    /// Sitemaps: the level of index nesting (a sitemap given: 0).
    pub depth: u32,
    pub kind: EntryKind,
}

impl Entry {
    pub fn page(url: Url, depth: u32) -> Entry {
        Entry {
            url,
            depth,
            kind: EntryKind::Page,
        }
    }

    pub fn sitemap(url: Url) -> Entry {
        Entry::sitemap_at(url, 0)
    }

    /// A sitemap listed by an index at `level - 1`.
    pub fn sitemap_at(url: Url, level: u32) -> Entry {
        Entry {
            url,
            depth: level,
            kind: EntryKind::Sitemap,
        }
    }
}

/// A frontier that could not do its work (a state file that cannot be
/// written, …): the crawl stops, since going on would lose track of pages.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct FrontierError(pub String);

/// What earlier runs learned of a URL: validators for a conditional request,
/// and what was last emitted, for change detection and tombstones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    /// The `id` of the page's last record (or of the record it was found
    /// unchanged against).
    pub record_id: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_hash: Option<String>,
    /// The last HTTP status seen (404 / 410 once a tombstone was written).
    pub status: Option<u16>,
    /// A record of this page was written in some run: a 404 now deletes it.
    pub emitted: bool,
}

impl Known {
    /// The page is gone and its tombstone was written already.
    pub fn tombstoned(&self) -> bool {
        matches!(self.status, Some(404 | 410))
    }
}

/// What one visit of a page leaves behind: the page's new [`Known`], field by
/// field (a 304 carries the old values forward).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Visit {
    pub record_id: Option<String>,
    pub content_hash: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub status: Option<u16>,
    /// RFC 3339, UTC.
    pub at: Option<String>,
    /// A record or tombstone of this page was written in this visit.
    pub emitted: bool,
}

/// The crawl's storage, as the crawl loop sees it: claim work ([`pop`]),
/// queue links, mark pages done or failed, and — for a store shared by
/// many workers — take work from the others' queue ([`poll`]) and say when
/// the whole job, not just this worker's share, is done ([`complete`]).
/// Async, so that a store behind a network (PostgreSQL) waits without
/// holding a thread; the memory and SQLite frontiers answer at once, their
/// futures ready on the first poll. Asked from the loop only, never from
/// a task: the loop owns it. Records reach the store through the writer's
/// [`Ledger`](super::sink::Ledger).
///
/// [`pop`]: Frontier::pop
/// [`poll`]: Frontier::poll
/// [`complete`]: Frontier::complete
#[async_trait]
pub trait Frontier: Send + Sync {
    /// Queues `entry` unless its URL was queued before; returns whether it was new.
    async fn push(&mut self, entry: Entry) -> Result<bool, FrontierError>;
    /// Queues the new ones of `entries` (one page's links), in one step for
    /// a store behind a network; returns how many were new.
    async fn push_all(&mut self, entries: Vec<Entry>) -> Result<usize, FrontierError> {
        let mut added = 0;
        for e in entries {
            added += self.push(e).await? as usize;
        }
        Ok(added)
    }
    /// The next entry of a host for which `ready(host_key)` holds, taking the
    /// hosts in turn so that one big site does not starve the others.
    async fn pop(
        &mut self,
        ready: &mut (dyn for<'k> FnMut(&'k str) -> bool + Send),
    ) -> Result<Option<Entry>, FrontierError>;
    /// Host keys with queued entries.
    fn waiting_hosts(&self) -> Vec<String>;
    /// `url` was processed and gave nothing for the writer to write: a
    /// sitemap, a duplicate, a page not modified or unchanged. A page whose
    /// record goes to the writer is marked done by the writer, after the
    /// record is written (see `crate::store` for why that order matters).
    async fn done(&mut self, url: &Url, visit: Option<&Visit>) -> Result<(), FrontierError>;
    /// `url` failed or was skipped for `kind` (with the HTTP status, if any).
    async fn failed(
        &mut self,
        url: &Url,
        kind: ErrorKind,
        status: Option<u16>,
    ) -> Result<(), FrontierError>;
    /// Entries queued here and not yet popped.
    fn queued(&self) -> usize;
    /// Whether `url` was ever pushed (queued, fetched, failed or skipped).
    async fn seen(&self, url: &Url) -> Result<bool, FrontierError>;
    /// Whether `host_key` has entries queued here.
    fn has_queued(&self, host_key: &str) -> bool {
        self.waiting_hosts().iter().any(|h| h == host_key)
    }
    /// What earlier runs learned of `url`; a frontier without memory knows
    /// nothing.
    async fn known(&self, _url: &Url) -> Result<Option<Known>, FrontierError> {
        Ok(None)
    }
    /// The learned duplicate rules earlier runs kept (`crate::crawl::dust`).
    async fn dust_rules(&self) -> Result<Vec<Learned>, FrontierError> {
        Ok(Vec::new())
    }
    /// Keeps these rules (confirmed or retracted now) for later runs.
    async fn save_dust(&mut self, _rules: &[Learned]) -> Result<(), FrontierError> {
        Ok(())
    }
    /// A shared store: takes more work when due (`room`: the loop's free
    /// task slots), gives back what it no longer needs. A frontier of one
    /// process has nothing to do.
    async fn poll(&mut self, _room: usize) -> Result<(), FrontierError> {
        Ok(())
    }
    /// Learned duplicate rules of hosts this worker took over since the
    /// last call (a shared store: saved by the workers that held them).
    fn take_learned(&mut self) -> Vec<Learned> {
        Vec::new()
    }
    /// When [`Frontier::poll`] wants to run next (`None`: never).
    fn next_poll(&self) -> Option<Instant> {
        None
    }
    /// Asked when nothing is queued here and no task is in flight: whether
    /// the crawl is over. A shared store says no while other workers still
    /// have pages queued or in flight (they may queue more, or die and leave
    /// theirs to be taken over).
    async fn complete(&mut self) -> Result<bool, FrontierError> {
        Ok(true)
    }
}

/// The frontier of one run, in memory.
#[derive(Debug, Default)]
pub struct MemoryFrontier {
    /// Every URL ever pushed (canonical form), so each is fetched once.
    seen: HashSet<String>,
    /// Per host key, its queue (FIFO: breadth first within a host).
    queues: HashMap<String, VecDeque<Entry>>,
    /// Host keys with a non-empty queue, in round-robin order.
    turn: VecDeque<String>,
    queued: usize,
}

impl MemoryFrontier {
    pub fn new() -> Self {
        Self::default()
    }
}

impl MemoryFrontier {
    pub fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        if !self.seen.insert(entry.url.as_str().to_string()) {
            return Ok(false);
        }
        let key = host_key(&entry.url);
        let q = self.queues.entry(key.clone()).or_default();
        if q.is_empty() {
            self.turn.push_back(key);
        }
        q.push_back(entry);
        self.queued += 1;
        Ok(true)
    }

    pub fn pop(
        &mut self,
        ready: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<Entry>, FrontierError> {
        for _ in 0..self.turn.len() {
            let Some(key) = self.turn.pop_front() else {
                break;
            };
            if !ready(&key) {
                self.turn.push_back(key);
                continue;
            }
            let q = self.queues.get_mut(&key).expect("queued host has a queue");
            let entry = q.pop_front();
            if q.is_empty() {
                self.queues.remove(&key);
            } else {
                self.turn.push_back(key);
            }
            self.queued -= 1;
            return Ok(entry);
        }
        Ok(None)
    }

    pub fn waiting_hosts(&self) -> Vec<String> {
        self.turn.iter().cloned().collect()
    }

    pub fn queued(&self) -> usize {
        self.queued
    }
}

#[async_trait]
impl Frontier for MemoryFrontier {
    async fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        MemoryFrontier::push(self, entry)
    }

    async fn pop(
        &mut self,
        ready: &mut (dyn for<'k> FnMut(&'k str) -> bool + Send),
    ) -> Result<Option<Entry>, FrontierError> {
        MemoryFrontier::pop(self, ready)
    }

    fn waiting_hosts(&self) -> Vec<String> {
        MemoryFrontier::waiting_hosts(self)
    }

    fn has_queued(&self, host_key: &str) -> bool {
        self.queues.contains_key(host_key)
    }

    // A one-off crawl keeps no record of what became of a page.
    async fn done(&mut self, _url: &Url, _visit: Option<&Visit>) -> Result<(), FrontierError> {
        Ok(())
    }

    async fn failed(
        &mut self,
        _url: &Url,
        _kind: ErrorKind,
        _status: Option<u16>,
    ) -> Result<(), FrontierError> {
        Ok(())
    }

    fn queued(&self) -> usize {
        self.queued
    }

    async fn seen(&self, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.seen.contains(url.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Entry {
        Entry::page(Url::parse(s).unwrap(), 0)
    }

    #[test]
    fn once_per_url_and_hosts_in_turn() {
        let mut f = MemoryFrontier::new();
        for u in [
            "http://a.cn/1",
            "http://a.cn/2",
            "http://a.cn/3",
            "http://b.cn/1",
        ] {
            assert!(f.push(e(u)).unwrap());
        }
        assert!(!f.push(e("http://a.cn/2")).unwrap());
        assert_eq!(f.queued(), 4);
        let mut all = |_: &str| true;
        let order: Vec<String> = std::iter::from_fn(|| f.pop(&mut all).unwrap())
            .map(|e| e.url.to_string())
            .collect();
        assert_eq!(
            order,
            [
                "http://a.cn/1",
                "http://b.cn/1",
                "http://a.cn/2",
                "http://a.cn/3"
            ]
        );
        assert_eq!(f.queued(), 0);
        assert!(!f.push(e("http://a.cn/1")).unwrap());
    }

    #[test]
    fn busy_hosts_are_passed_over() {
        let mut f = MemoryFrontier::new();
        f.push(e("http://a.cn/1")).unwrap();
        f.push(e("http://b.cn/1")).unwrap();
        let got = f.pop(&mut |k| k != "a.cn:80").unwrap().unwrap();
        assert_eq!(got.url.as_str(), "http://b.cn/1");
        assert!(f.pop(&mut |k| k != "a.cn:80").unwrap().is_none());
        assert_eq!(f.waiting_hosts(), ["a.cn:80"]);
    }
}
