//! The frontier: URLs waiting to be fetched, each at most once per run.
//! Behind a small trait so that the next issue's SQLite frontier (resumable
//! crawls) can replace the in-memory one without touching the crawl loop.

use std::collections::{HashMap, HashSet, VecDeque};

use url::Url;

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
    /// Links followed from a seed (seeds and sitemap entries: 0).
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
        Entry {
            url,
            depth: 0,
            kind: EntryKind::Sitemap,
        }
    }
}

pub trait Frontier: Send {
    /// Queues `entry` unless its URL was queued before; returns whether it was new.
    fn push(&mut self, entry: Entry) -> bool;
    /// The next entry of a host for which `ready(host_key)` holds, taking the
    /// hosts in turn so that one big site does not starve the others.
    fn pop(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Option<Entry>;
    /// Host keys with queued entries.
    fn waiting_hosts(&self) -> Vec<String>;
    /// `url` was fetched and its record emitted (or skipped as a duplicate).
    fn done(&mut self, url: &Url);
    /// `url` failed or was skipped for `kind`.
    fn failed(&mut self, url: &Url, kind: ErrorKind);
    /// Entries queued and not yet popped.
    fn queued(&self) -> usize;
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
    done: u64,
    failed: u64,
}

impl MemoryFrontier {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Frontier for MemoryFrontier {
    fn push(&mut self, entry: Entry) -> bool {
        if !self.seen.insert(entry.url.as_str().to_string()) {
            return false;
        }
        let key = host_key(&entry.url);
        let q = self.queues.entry(key.clone()).or_default();
        if q.is_empty() {
            self.turn.push_back(key);
        }
        q.push_back(entry);
        self.queued += 1;
        true
    }

    fn pop(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Option<Entry> {
        for _ in 0..self.turn.len() {
            let key = self.turn.pop_front()?;
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
            return entry;
        }
        None
    }

    fn waiting_hosts(&self) -> Vec<String> {
        self.turn.iter().cloned().collect()
    }

    fn done(&mut self, _url: &Url) {
        self.done += 1;
    }

    fn failed(&mut self, _url: &Url, _kind: ErrorKind) {
        self.failed += 1;
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
    fn once_per_url_and_hosts_in_turn() {
        let mut f = MemoryFrontier::new();
        for u in [
            "http://a.cn/1",
            "http://a.cn/2",
            "http://a.cn/3",
            "http://b.cn/1",
        ] {
            assert!(f.push(e(u)));
        }
        assert!(!f.push(e("http://a.cn/2")));
        assert_eq!(f.queued(), 4);
        let mut all = |_: &str| true;
        let order: Vec<String> = std::iter::from_fn(|| f.pop(&mut all))
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
        assert!(!f.push(e("http://a.cn/1")));
    }

    #[test]
    fn busy_hosts_are_passed_over() {
        let mut f = MemoryFrontier::new();
        f.push(e("http://a.cn/1"));
        f.push(e("http://b.cn/1"));
        let got = f.pop(&mut |k| k != "a.cn:80").unwrap();
        assert_eq!(got.url.as_str(), "http://b.cn/1");
        assert!(f.pop(&mut |k| k != "a.cn:80").is_none());
        assert_eq!(f.waiting_hosts(), ["a.cn:80"]);
    }
}
