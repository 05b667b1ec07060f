//! The crawl on PostgreSQL: one worker's side of the shared frontier
//! ([`PgWorker`]), seen by the crawl loop as its `Frontier`
//! ([`PgFrontier`]) and by the writer as its `Ledger` ([`PgLedger`]), so
//! the loop does not know it is one of many. All SQL is in the sibling
//! modules; this one decides what to ask for and when.
//!
//! - Hosts, fairly: a worker holds at most its fair share of the hosts with
//!   work, ceil(hosts with work / live workers) (live: a heartbeat within
//!   the lease TTL), and claims more only when it has free task slots.
//! - Pages: those of its leased hosts are claimed into a small local buffer
//!   ([`CLAIM_BATCH`] per host), with what earlier cycles learned of them;
//!   links are queued in one statement per page ([`PgStore::add_new_pages`]).
//! - A host with nothing left queued, buffered or unfinished here is handed
//!   back ([`PgStore::release_lease`]).
//! - Leases are renewed by a heartbeat task every third of the TTL; when a
//!   renewal says a lease is lost, the host's buffer is dropped at once,
//!   and what is still in flight for it is refused by the epoch guard when
//!   it ends: counted, logged, its record never written.
//! - Every poll ([`POLL_EVERY`]) sends the pages of expired leases back to
//!   the queue ([`PgStore::requeue_expired`]): a killed worker's hosts are
//!   taken over by the others.
//! - A page's end — its state and its record or tombstone, a failure or a
//!   skip — is one transaction guarded by the epoch
//!   ([`PgStore::finish_page`]), record ids kept once per cycle.
//! - Per-host connections (`--per-host`) hold across the fleet: a host is
//!   leased to one worker at a time, and only that worker's connections
//!   reach it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::Url;

use super::{
    Claimed, Finished, Lease, NewPage, PageEnd, PageVisit, PgError, PgStore, StoredRecord,
};
use crate::crawl::dust::Learned;
use crate::crawl::frontier::{Entry, EntryKind, Frontier, FrontierError, Known, Visit};
use crate::crawl::sink::{Landed, Ledger, Line};
use crate::fetch::{ErrorKind, host_key};
use crate::repeated::HostStats;

/// Pages of a leased host claimed into the local buffer at once: enough
/// for its connections, few enough that a takeover finds most of the
/// host's pages still queued.
pub const CLAIM_BATCH: i64 = 32;

/// How often a worker looks for hosts to take (and expired leases).
pub const POLL_EVERY: Duration = Duration::from_millis(250);

impl From<PgError> for FrontierError {
    fn from(e: PgError) -> Self {
        FrontierError(e.to_string())
    }
}

/// What this worker holds. One lock, taken for short in-memory steps only,
/// never across an await.
#[derive(Default)]
struct Held {
    /// Leased hosts.
    hosts: HashMap<String, HostHeld>,
    /// Hosts with buffered pages, in turn.
    turn: VecDeque<String>,
    /// Buffered pages, over all hosts.
    queued: usize,
    /// Pages taken from the buffer and not yet ended, by URL.
    open: HashMap<String, Open>,
    /// Claimed pages whose URL does not parse (a row edited by hand): ended
    /// as failed at the next poll.
    bad: Vec<(Lease, i64)>,
    /// Learned rules of hosts leased since the loop last took them.
    learned: Vec<Learned>,
}

struct HostHeld {
    lease: Lease,
    /// Claimed pages not yet taken by the loop.
    buffer: VecDeque<Claimed>,
    /// Pages of the host taken and not yet ended (fetching, cleaning, or
    /// waiting in the writer).
    open: usize,
    /// The last claim found nothing queued: no claim again until links are
    /// queued for the host or the next periodic look.
    drained: bool,
    /// A renewal found the lease taken over or ended.
    lost: bool,
    /// Held past this worker's fair share (workers joined since): no page
    /// is taken from it any more, and it is handed back, its buffer with
    /// it, once nothing of it is open.
    yielding: bool,
}

/// A page taken from the buffer.
struct Open {
    host: String,
    page_id: i64,
    known: Known,
    /// The lease it was claimed under: its end carries that epoch, even if
    /// this worker has leased the host again since (after a stall).
    lease: Lease,
}

struct Shared {
    store: PgStore,
    name: String,
    ttl: Duration,
    held: Mutex<Held>,
    /// Ends of pages the store refused (lease lost): nothing written.
    refused: AtomicU64,
    /// Stops the heartbeat.
    stop: CancellationToken,
    /// The heartbeat task, awaited when the worker ends: a renewal late
    /// after the end must not make the worker live again.
    beat: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// One worker of the fleet: its leases, its buffer, its heartbeat.
#[derive(Clone)]
pub struct PgWorker(Arc<Shared>);

impl PgWorker {
    pub fn new(store: PgStore, name: &str, ttl: Duration) -> PgWorker {
        PgWorker(Arc::new(Shared {
            store,
            name: name.to_string(),
            ttl,
            held: Mutex::new(Held::default()),
            refused: AtomicU64::new(0),
            stop: CancellationToken::new(),
            beat: Mutex::new(None),
        }))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    pub fn store(&self) -> &PgStore {
        &self.0.store
    }

    /// The crawl loop's side.
    pub fn frontier(&self) -> PgFrontier {
        PgFrontier {
            w: self.clone(),
            next_poll: Instant::now(),
        }
    }

    /// The writer's side.
    pub fn ledger(&self) -> PgLedger {
        PgLedger { w: self.clone() }
    }

    /// Page ends the store refused because a lease was lost.
    pub fn refused(&self) -> u64 {
        self.0.refused.load(Ordering::Relaxed)
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        // Only in-memory steps run under the lock: a panic cannot leave it
        // half-changed in a way the store does not repair (leases expire).
        self.0.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the heartbeat: every third of the TTL, the worker's row and
    /// each lease it holds are renewed, until [`PgWorker::finish`].
    pub fn start_heartbeat(&self) {
        let w = self.clone();
        let every = (self.0.ttl / 3).max(Duration::from_millis(10));
        let task = tokio::spawn(
            async move {
                loop {
                    tokio::select! {
                        _ = w.0.stop.cancelled() => return,
                        _ = tokio::time::sleep(every) => {}
                    }
                    if let Err(e) = w.renew().await {
                        tracing::warn!(worker = %w.0.name, "heartbeat failed: {e}");
                    }
                }
            }
            .in_current_span(),
        );
        *self.0.beat.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }

    async fn renew(&self) -> Result<(), PgError> {
        let leases: Vec<Lease> = {
            let h = self.held();
            h.hosts
                .values()
                .filter(|x| !x.lost)
                .map(|x| x.lease.clone())
                .collect()
        };
        if leases.is_empty() {
            return self.0.store.heartbeat(&self.0.name).await;
        }
        for lease in leases {
            if !self.0.store.renew_lease(&lease, self.0.ttl).await? {
                self.lost(&lease);
            }
        }
        Ok(())
    }

    /// The lease on a host is gone: its buffer is dropped at once.
    fn lost(&self, lease: &Lease) {
        let mut h = self.held();
        let Some(x) = h.hosts.get_mut(&lease.host) else {
            return;
        };
        if x.lease.epoch != lease.epoch || x.lost {
            return;
        }
        x.lost = true;
        let dropped = x.buffer.len();
        let open = x.open;
        x.buffer.clear();
        h.queued = h.queued.saturating_sub(dropped);
        h.turn.retain(|k| *k != lease.host);
        tracing::warn!(
            worker = %self.0.name,
            host = %lease.host,
            "lease lost (taken over or expired): {dropped} buffered page(s) dropped; {open} in flight will not be committed"
        );
    }

    /// Hands back every lease (stopping or done): pages still in flight
    /// under them go back to the queue. Stops the heartbeat.
    pub async fn finish(&self) -> Result<(), PgError> {
        self.0.stop.cancel();
        let beat = self.0.beat.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = beat {
            let _ = task.await;
        }
        let leases: Vec<Lease> = {
            let mut h = self.held();
            h.turn.clear();
            h.queued = 0;
            h.hosts
                .drain()
                .filter(|(_, x)| !x.lost)
                .map(|(_, x)| x.lease)
                .collect()
        };
        for lease in leases {
            self.0.store.release_lease(&lease).await?;
        }
        self.0.store.worker_stopped(&self.0.name).await
    }

    /// Ends the visit of `url`, one of this worker's open pages, in the
    /// store. A refusal is counted and logged. The page stays open (its
    /// host unreleasable) until the store has answered: a host handed back
    /// meanwhile would send the page back to the queue under the commit.
    async fn end(
        &self,
        url: &Url,
        end: PageEnd,
        visit: impl FnOnce(&Known) -> PageVisit,
    ) -> Result<Finished, FrontierError> {
        let Some((lease, page_id, visit)) = self.open_lease(url, visit) else {
            tracing::debug!(worker = %self.0.name, url = %url, "not a page of this worker");
            return Ok(Finished::Refused);
        };
        let done = self.0.store.finish_page(&lease, page_id, end, &visit).await;
        self.close_page(url);
        let done = done?;
        if done == Finished::Refused {
            // No need to wait for the heartbeat to say so.
            self.lost(&lease);
            return Ok(self.refuse(url));
        }
        Ok(done)
    }

    /// The lease and id of an open page, and its visit made of what was
    /// known of it.
    fn open_lease<V>(&self, url: &Url, visit: impl FnOnce(&Known) -> V) -> Option<(Lease, i64, V)> {
        let h = self.held();
        let open = h.open.get(url.as_str())?;
        Some((open.lease.clone(), open.page_id, visit(&open.known)))
    }

    /// The page's end is settled: it is no longer open.
    fn close_page(&self, url: &Url) {
        let mut h = self.held();
        if let Some(open) = h.open.remove(url.as_str())
            && let Some(x) = h.hosts.get_mut(&open.host)
            && x.lease.epoch == open.lease.epoch
        {
            x.open = x.open.saturating_sub(1);
        }
    }

    fn refuse(&self, url: &Url) -> Finished {
        self.0.refused.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            worker = %self.0.name,
            url = %crate::crawl::canon::redact(url),
            "not committed: the lease on its host was lost (another worker fetches it)"
        );
        Finished::Refused
    }

    /// Claimed pages into the host's buffer; none: the host is drained.
    fn fill(&self, lease: &Lease, pages: Vec<Claimed>) {
        let mut h = self.held();
        let h = &mut *h;
        let Some(x) = h.hosts.get_mut(&lease.host) else {
            return;
        };
        if x.lease.epoch != lease.epoch || x.lost {
            return;
        }
        if pages.is_empty() {
            x.drained = true;
            return;
        }
        h.queued += pages.len();
        x.buffer.extend(pages);
        if !x.yielding && !h.turn.contains(&lease.host) {
            h.turn.push_back(lease.host.clone());
        }
    }

    /// Claims pages for each leased host whose buffer ran dry, ends the
    /// pages that cannot be read, hands back hosts with nothing left.
    async fn refill_and_release(&self) -> Result<(), FrontierError> {
        let (refill, release, bad) = {
            let mut h = self.held();
            let refill: Vec<Lease> = h
                .hosts
                .values()
                .filter(|x| x.buffer.is_empty() && !x.drained && !x.lost)
                .map(|x| x.lease.clone())
                .collect();
            let done: Vec<String> = h
                .hosts
                .iter()
                .filter(|(_, x)| {
                    x.open == 0 && (x.yielding || (x.buffer.is_empty() && (x.drained || x.lost)))
                })
                .map(|(k, _)| k.clone())
                .collect();
            for k in &done {
                let n = h.hosts.get(k).map_or(0, |x| x.buffer.len());
                h.queued = h.queued.saturating_sub(n);
                h.turn.retain(|t| t != k);
            }
            let release: Vec<Lease> = done
                .iter()
                .filter_map(|k| h.hosts.remove(k))
                .filter(|x| !x.lost)
                .map(|x| x.lease)
                .collect();
            (refill, release, std::mem::take(&mut h.bad))
        };
        for lease in refill {
            let pages = self.0.store.claim_pages(&lease, CLAIM_BATCH).await?;
            self.fill(&lease, pages);
        }
        for lease in release {
            self.0.store.release_lease(&lease).await?;
            tracing::debug!(worker = %self.0.name, host = %lease.host, "host handed back");
        }
        for (lease, id) in bad {
            let visit = PageVisit {
                error: Some("bad_url".into()),
                ..PageVisit::default()
            };
            self.0
                .store
                .finish_page(&lease, id, PageEnd::Failed, &visit)
                .await?;
        }
        Ok(())
    }

    /// Holds this worker to its fair share of the hosts with work: hosts
    /// past it are yielded (to workers that joined since), and more are
    /// leased up to it while the hosts with pages buffered are fewer than
    /// `room`, the loop's free task slots (a worker never hoards hosts it
    /// has no tasks for).
    async fn balance(&self, room: usize) -> Result<(), FrontierError> {
        let load = self.0.store.load(self.0.ttl).await?;
        let share = load.fair_share();
        {
            let mut h = self.held();
            let h = &mut *h;
            let mut kept: Vec<&mut HostHeld> = h
                .hosts
                .values_mut()
                .filter(|x| !x.lost && !x.yielding)
                .collect();
            if kept.len() > share {
                // The hosts with the most left buffered stay: least to hand over.
                kept.sort_by_key(|x| std::cmp::Reverse(x.buffer.len()));
                // Only a host with nothing open is yielded: a record of it
                // may wait in the writer's repeated-block gate, which lets
                // it go when the loop says the host ran out — and a yielded
                // host never runs out, so gate and host would wait for each
                // other. A host skipped now is yielded at a later poll.
                let over = kept.into_iter().skip(share.max(1));
                for x in over.filter(|x| x.open == 0) {
                    x.yielding = true;
                    h.turn.retain(|k| *k != x.lease.host);
                    tracing::debug!(worker = %self.0.name, host = %x.lease.host, "host yielded: past the fair share");
                }
            }
        }
        loop {
            let (held, serving) = {
                let h = self.held();
                let kept = h.hosts.values().filter(|x| !x.lost && !x.yielding);
                let serving = kept.clone().filter(|x| !x.buffer.is_empty()).count();
                (kept.count(), serving)
            };
            if held >= share || serving >= room {
                return Ok(());
            }
            let Some(lease) = self.0.store.claim_host(&self.0.name, self.0.ttl).await? else {
                return Ok(());
            };
            tracing::debug!(worker = %self.0.name, host = %lease.host, epoch = lease.epoch, "host leased");
            {
                let mut h = self.held();
                // A host this worker held before a stall and leased again: the
                // old lease's buffer is void (its pages were requeued).
                if let Some(old) = h.hosts.get(&lease.host) {
                    let n = old.buffer.len();
                    h.queued = h.queued.saturating_sub(n);
                }
                h.hosts.insert(
                    lease.host.clone(),
                    HostHeld {
                        lease: lease.clone(),
                        buffer: VecDeque::new(),
                        open: 0,
                        drained: false,
                        lost: false,
                        yielding: false,
                    },
                );
            }
            // What the host's earlier holders learned of its URLs.
            let name = lease.host.rsplit_once(':').map_or(&*lease.host, |(h, _)| h);
            let rules = self.0.store.load_dust_of(name).await?;
            self.held().learned.extend(rules);
            let pages = self.0.store.claim_pages(&lease, CLAIM_BATCH).await?;
            self.fill(&lease, pages);
        }
    }
}

/// The crawl loop's side of a [`PgWorker`].
pub struct PgFrontier {
    w: PgWorker,
    /// When the next periodic look (expired leases, hosts to take) is due.
    next_poll: Instant,
}

fn new_page(e: &Entry) -> NewPage {
    NewPage {
        url: e.url.to_string(),
        depth: i32::try_from(e.depth).unwrap_or(i32::MAX),
        sitemap: e.kind == EntryKind::Sitemap,
    }
}

fn known_of(c: &Claimed) -> Known {
    Known {
        record_id: c.record_id.clone(),
        etag: c.etag.clone(),
        last_modified: c.last_modified.clone(),
        content_hash: c.content_hash.clone(),
        status: c.status.and_then(|s| u16::try_from(s).ok()),
        emitted: c.emitted,
    }
}

/// A visit as the store's columns, with its record (if any).
fn page_visit(v: &Visit, record: Option<StoredRecord>) -> PageVisit {
    PageVisit {
        record_id: v.record_id.clone(),
        etag: v.etag.clone(),
        last_modified: v.last_modified.clone(),
        content_hash: v.content_hash.clone(),
        status: v.status.map(i32::from),
        emitted: v.emitted,
        error: None,
        record,
    }
}

impl PgFrontier {
    /// The next buffered page of a host for which `ready` holds.
    fn take(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Option<Entry> {
        let mut h = self.w.held();
        let h = &mut *h;
        for _ in 0..h.turn.len() {
            let key = h.turn.pop_front()?;
            if !ready(&key) {
                h.turn.push_back(key);
                continue;
            }
            let Some(x) = h.hosts.get_mut(&key).filter(|x| !x.yielding) else {
                continue;
            };
            let Some(c) = x.buffer.pop_front() else {
                continue;
            };
            x.open += 1;
            if !x.buffer.is_empty() {
                h.turn.push_back(key.clone());
            }
            h.queued = h.queued.saturating_sub(1);
            let Ok(url) = Url::parse(&c.url) else {
                x.open -= 1;
                h.bad.push((x.lease.clone(), c.id));
                continue;
            };
            let open = Open {
                host: key,
                page_id: c.id,
                known: known_of(&c),
                lease: x.lease.clone(),
            };
            h.open.insert(c.url.clone(), open);
            let depth = u32::try_from(c.depth).unwrap_or(0);
            return Some(if c.sitemap {
                Entry::sitemap_at(url, depth)
            } else {
                Entry::page(url, depth)
            });
        }
        None
    }
}

#[async_trait]
impl Frontier for PgFrontier {
    async fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        Ok(self.push_all(vec![entry]).await? == 1)
    }

    async fn push_all(&mut self, entries: Vec<Entry>) -> Result<usize, FrontierError> {
        let new: Vec<NewPage> = entries.iter().map(new_page).collect();
        let added = self.w.0.store.add_new_pages(&new).await?;
        if added == 0 {
            return Ok(0);
        }
        // Hosts held here are worth a claim again; one whose buffer ran dry
        // gets its new pages now, so that the loop sees the host still has
        // work (as a local frontier would) before the page's end is told
        // to the writer (`HostDone` releases the host's held records).
        let dry: Vec<Lease> = {
            let mut h = self.w.held();
            let mut dry = Vec::new();
            for e in &entries {
                if let Some(x) = h.hosts.get_mut(&host_key(&e.url)) {
                    x.drained = false;
                    if x.buffer.is_empty() && !x.lost && !dry.contains(&x.lease) {
                        dry.push(x.lease.clone());
                    }
                }
            }
            dry
        };
        for lease in dry {
            let pages = self.w.0.store.claim_pages(&lease, CLAIM_BATCH).await?;
            self.w.fill(&lease, pages);
        }
        Ok(usize::try_from(added).unwrap_or(usize::MAX))
    }

    async fn pop(
        &mut self,
        ready: &mut (dyn for<'k> FnMut(&'k str) -> bool + Send),
    ) -> Result<Option<Entry>, FrontierError> {
        Ok(self.take(ready))
    }

    fn waiting_hosts(&self) -> Vec<String> {
        self.w.held().turn.iter().cloned().collect()
    }

    fn has_queued(&self, host_key: &str) -> bool {
        self.w
            .held()
            .hosts
            .get(host_key)
            .is_some_and(|x| !x.yielding && !x.buffer.is_empty())
    }

    async fn done(&mut self, url: &Url, visit: Option<&Visit>) -> Result<(), FrontierError> {
        self.w
            .end(url, PageEnd::Done, |k| match visit {
                Some(v) => page_visit(v, None),
                // A sitemap read: what was known stays.
                None => PageVisit {
                    record_id: k.record_id.clone(),
                    status: k.status.map(i32::from),
                    ..PageVisit::default()
                },
            })
            .await?;
        Ok(())
    }

    async fn failed(
        &mut self,
        url: &Url,
        kind: ErrorKind,
        status: Option<u16>,
    ) -> Result<(), FrontierError> {
        if kind == ErrorKind::Cancelled {
            // Stopped before it was done: back to the queue, for any worker.
            let Some((lease, id, ())) = self.w.open_lease(url, |_| ()) else {
                return Ok(());
            };
            let back = self.w.0.store.unclaim_page(&lease, id).await;
            self.w.close_page(url);
            back?;
            return Ok(());
        }
        let end = if kind.is_skip() {
            PageEnd::Skipped
        } else {
            PageEnd::Failed
        };
        // What earlier cycles learned stays: a page failing now keeps its
        // validators and its record id (a later 404 still tombstones it).
        self.w
            .end(url, end, |k| PageVisit {
                record_id: k.record_id.clone(),
                etag: k.etag.clone(),
                last_modified: k.last_modified.clone(),
                content_hash: k.content_hash.clone(),
                status: status.map(i32::from),
                error: Some(kind.as_str().to_string()),
                ..PageVisit::default()
            })
            .await?;
        Ok(())
    }

    fn queued(&self) -> usize {
        self.w.held().queued
    }

    async fn seen(&self, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.w.0.store.has_page(url.as_str()).await?)
    }

    async fn known(&self, url: &Url) -> Result<Option<Known>, FrontierError> {
        Ok(self
            .w
            .held()
            .open
            .get(url.as_str())
            .map(|o| o.known.clone()))
    }

    async fn dust_rules(&self) -> Result<Vec<Learned>, FrontierError> {
        Ok(self.w.0.store.load_dust().await?)
    }

    async fn save_dust(&mut self, rules: &[Learned]) -> Result<(), FrontierError> {
        Ok(self.w.0.store.save_dust(rules).await?)
    }

    async fn poll(&mut self, room: usize) -> Result<(), FrontierError> {
        self.w.refill_and_release().await?;
        let now = Instant::now();
        if now < self.next_poll {
            return Ok(());
        }
        self.next_poll = now + POLL_EVERY;
        let back = self.w.0.store.requeue_expired().await?;
        if back > 0 {
            tracing::info!(worker = %self.w.0.name, pages = back, "expired leases ended: their pages are queued again");
        }
        // Other workers may have queued links for hosts held here.
        for x in self.w.held().hosts.values_mut() {
            x.drained = false;
        }
        self.w.balance(room).await?;
        Ok(())
    }

    fn take_learned(&mut self) -> Vec<Learned> {
        std::mem::take(&mut self.w.held().learned)
    }

    fn next_poll(&self) -> Option<Instant> {
        Some(self.next_poll)
    }

    async fn complete(&mut self) -> Result<bool, FrontierError> {
        self.next_poll = Instant::now();
        // Idle: every task slot is free.
        self.poll(usize::MAX).await?;
        self.w.refill_and_release().await?;
        {
            let h = self.w.held();
            if h.queued > 0 || h.hosts.values().any(|x| x.open > 0 || !x.drained) {
                return Ok(false);
            }
        }
        Ok(!self.w.0.store.load(self.w.0.ttl).await?.work_left)
    }
}

/// The writer's side of a [`PgWorker`]: records go into the store with
/// their page, in one transaction guarded by the lease's epoch.
pub struct PgLedger {
    w: PgWorker,
}

#[async_trait]
impl Ledger for PgLedger {
    fn keeps_records(&self) -> bool {
        true
    }

    /// Ids are checked in the commit itself ([`PgStore::finish_page`]).
    async fn seen_id(&mut self, _id: &str, _url: &Url) -> Result<bool, FrontierError> {
        Ok(false)
    }

    async fn written(
        &mut self,
        url: &Url,
        visit: &Visit,
        _output_offset: Option<u64>,
        line: Option<Line<'_>>,
    ) -> Result<Landed, FrontierError> {
        let record = line.map(|l| StoredRecord {
            id: l.id.to_string(),
            deleted: l.deleted,
            line: l.json.to_string(),
        });
        let done = self
            .w
            .end(url, PageEnd::Done, |_| page_visit(visit, record))
            .await?;
        Ok(match done {
            Finished::Written => Landed::Written,
            Finished::Duplicate => Landed::Duplicate,
            Finished::Refused => Landed::Refused,
        })
    }

    async fn save_repeated(&mut self, hosts: &[(&str, &HostStats)]) -> Result<(), FrontierError> {
        Ok(self.w.0.store.save_repeated(hosts).await?)
    }
}
