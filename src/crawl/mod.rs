//! The crawl: seeds → frontier → fetch → clean → records, until the frontier
//! is empty, a limit is reached or a stop signal comes. The frontier and the
//! writer's ledger are async traits ([`frontier::Frontier`],
//! [`sink::Ledger`]): in memory, a SQLite file, or a PostgreSQL job shared
//! by many workers (`crate::store::postgres`), which the loop does not tell
//! apart; for a shared one, "empty" means the whole job's pages, and an
//! idle worker waits while others still have pages in flight.
//!
//! 1. seeds (command line, else the site rules' seeds) and sitemaps are
//!    canonicalised ([`canon`]) and queued in the [`frontier`];
//! 2. the loop lets the frontier take work (a shared one: hosts leased,
//!    their pages claimed, [`frontier::Frontier::poll`]), then takes
//!    entries of hosts that are neither busy nor waiting
//!    (hosts in turn), at most `max_tasks` at once, each a task (the
//!    fetcher caps the requests actually in flight: a task waiting for its
//!    host's turn, robots.txt or a backoff holds no request slot), with
//!    what the frontier knows of the page from earlier runs; a page that
//!    a learned duplicate rule ([`dust`]) names a variant of a URL already
//!    met is skipped, and one that would only probe a rule not yet
//!    confirmed waits while its host's probe is out (`variants.rs`);
//! 3. a task (`task.rs`) fetches (`crate::fetch`: robots, politeness, retries,
//!    redirects vetted by [`scope`] and the claimed set; conditionally when
//!    the page's validators are known), then decodes, cleans and finds links
//!    on one of the crawl's cleaner threads, one per core (`cleaners.rs`)
//!    — or parses a [`sitemap`]. Links come from the
//!    tree the cleaner parsed (`clean::parse`, after its pre-parse scan):
//!    one scan and one parse per page, read by `clean::clean_parsed` and
//!    [`links::of_tree`];
//! 4. the loop, by kind of outcome (`outcome.rs`), learns from the page's canonical link ([`dust`]), dedups
//!    records by canonical URL, queues in-scope links one
//!    level deeper (counting those [`links`] dropped), queues a sitemap's
//!    pages and child sitemaps within the [`sitemap`] limits (`bounds.rs`),
//!    and decides what to emit: a record for a new or changed page (sent to
//!    the writer, [`sink`], which marks the page done after writing it),
//!    nothing for a page not modified or unchanged, a tombstone for a page
//!    emitted before and now gone (404 / 410); it counts and
//!    reports failures ([`report`]); when a host has nothing left queued or
//!    in flight (or the loop is idle, waiting for other workers), it tells
//!    the writer, which may hold the host's first records back for
//!    `repeated-block` statistics;
//! 5. on a stop signal ([`shutdown`]) no new entries are taken; tasks in
//!    flight get a grace period, then are abandoned; the writer is flushed.

pub mod canon;
pub mod dust;
pub mod frontier;
pub mod links;
pub mod report;
pub mod scope;
pub mod shutdown;
pub mod sink;
pub mod sitemap;

mod bounds;
mod cleaners;
mod outcome;
mod task;
mod variants;

pub use task::page;
use task::work;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::Url;

use crate::clean::{self, decode};
use crate::document::{Document, LineType, SCHEMA_VERSION, Tombstone};
use crate::fetch::{
    ErrorKind, FetchError, Fetched, Fetcher, Validators, Want, host_key, now_rfc3339,
};
use crate::isolate;
use crate::rules::RuleSet;
use crate::warc::OwnedExchange;
use frontier::{Entry, EntryKind, Frontier, FrontierError, Known, Visit};
use report::{Progress, Summary};
use scope::Scope;
use sink::{Commit, Failure, Output};

/// A host whose next turn is this close counts as ready: its task waits the
/// rest inside the host gate.
const READY_SLACK: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Pages to start from (depth 0).
    pub seeds: Vec<Url>,
    /// Sitemaps to read; their pages count as seeds for `max_depth`.
    pub sitemaps: Vec<Url>,
    /// At most this many page fetches.
    pub max_pages: Option<u64>,
    /// Follow links at most this many steps from a seed.
    pub max_depth: Option<u32>,
    /// Tasks at once, over all hosts: fetching, waiting for a host's turn,
    /// or cleaning. Requests in flight are capped by the fetcher.
    pub max_tasks: usize,
    /// Read the `Sitemap:` lines of robots.txt of hosts in scope.
    pub robots_sitemaps: bool,
    /// Sitemaps fetched per host in this run (`--max-sitemaps`).
    pub max_sitemaps: usize,
    /// After a stop signal, how long tasks in flight may take.
    pub grace: Duration,
    /// Archive every fetched page response (`--warc`).
    pub archive: bool,
    /// Emit a record for every page fetched, changed or not, and fetch
    /// unconditionally (`--emit all`); otherwise only new and changed pages
    /// give records.
    pub emit_all: bool,
    /// `--follow` / `--avoid`: the command line's patterns on links.
    pub patterns: scope::Patterns,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            seeds: Vec::new(),
            sitemaps: Vec::new(),
            max_pages: None,
            max_depth: None,
            max_tasks: 32,
            robots_sitemaps: true,
            max_sitemaps: sitemap::DEFAULT_MAX_PER_HOST,
            grace: Duration::from_secs(5),
            archive: false,
            emit_all: false,
            patterns: scope::Patterns::default(),
        }
    }
}

/// Stop (first signal: finish in-flight work) and abort (second: now).
#[derive(Debug, Clone, Default)]
pub struct Stop {
    pub graceful: CancellationToken,
    pub now: CancellationToken,
}

/// State shared by the tasks.
struct Ctx {
    fetcher: Arc<Fetcher>,
    rules: Arc<RuleSet>,
    scope: Scope,
    /// Canonical URLs a task has fetched or is fetching (redirect targets
    /// included), so that two chains ending on one page fetch it once.
    claimed: Mutex<HashSet<String>>,
    stop: CancellationToken,
    /// Fetched pages go to the WARC too.
    archive: bool,
    /// The threads pages are cleaned on, one per core ([`cleaners`]).
    cleaners: cleaners::Cleaners,
}

impl Ctx {
    fn canon(&self, url: &Url) -> Option<Url> {
        canon::canonicalize(url, &self.scope.rule(url).crawl.strip_params)
    }

    /// Claims `url` for this task; `false` if another already has it.
    fn claim(&self, url: &Url) -> bool {
        let key = self.canon(url).unwrap_or_else(|| url.clone());
        self.claimed.lock().expect("claimed").insert(key.into())
    }
}

enum Done {
    Page(Box<Document>, links::Found, Option<Box<OwnedExchange>>),
    /// 304 to a conditional request: the validators the answer carried.
    NotModified(Validators),
    Sitemap(sitemap::Sitemap),
    Failed(FetchError),
}

/// One task's entry, with what earlier runs learned of it.
struct Job {
    entry: Entry,
    known: Option<Known>,
}

pub struct Crawler {
    cfg: CrawlConfig,
    ctx: Arc<Ctx>,
    frontier: Box<dyn Frontier>,
    /// Sitemaps queued per host, against the caps.
    sitemaps: sitemap::Budget,
    /// Page entries taken from the frontier (`--max-pages` counts these).
    pages_started: u64,
    /// Limits already reported this run (each is said once, not per URL).
    noted: HashSet<&'static str>,
    /// Host key → tasks in flight.
    busy: HashMap<String, usize>,
    /// Canonical URLs of records written (and of their canonical links).
    emitted: HashSet<String>,
    /// Learned duplicate rules, per host.
    dust: dust::Dust,
    /// Pages held back while a probe of an unconfirmed rule is in flight
    /// (`variants.rs`), in the order they were popped.
    held: std::collections::VecDeque<Entry>,
    /// URLs fetched as probes, in flight → their host keys.
    probes: HashMap<String, String>,
    /// `dust.changes()` when the held pages were last looked at.
    held_at: u64,
    /// Hosts (`site.host`) of pages started since the writer was last told
    /// that the host has nothing left ([`Output::HostDone`]).
    undone: HashSet<String>,
}

impl Crawler {
    /// The scope is the seeds' and sitemaps' hosts.
    pub fn new(
        cfg: CrawlConfig,
        fetcher: Arc<Fetcher>,
        rules: Arc<RuleSet>,
        frontier: Box<dyn Frontier>,
        stop: CancellationToken,
    ) -> Crawler {
        let scope = Scope::new(cfg.seeds.iter().chain(&cfg.sitemaps), rules.clone())
            .with_patterns(cfg.patterns.clone());
        let archive = cfg.archive;
        let sitemaps = sitemap::Budget::new(cfg.max_sitemaps);
        Crawler {
            cfg,
            sitemaps,
            pages_started: 0,
            noted: HashSet::new(),
            busy: HashMap::new(),
            emitted: HashSet::new(),
            dust: dust::Dust::default(),
            held: Default::default(),
            probes: HashMap::new(),
            held_at: 0,
            undone: HashSet::new(),
            ctx: Arc::new(Ctx {
                fetcher,
                rules,
                scope,
                claimed: Mutex::new(HashSet::new()),
                stop,
                archive,
                cleaners: cleaners::Cleaners::per_core(),
            }),
            frontier,
        }
    }

    /// Runs the crawl to its end; records and failures go to `out`. An
    /// `Err` is a frontier that failed (a state file that cannot be
    /// written): the crawl stops at once, since it could no longer tell what
    /// it has done.
    pub async fn run(
        mut self,
        out: mpsc::Sender<Output>,
        stop: &Stop,
        progress: &Progress,
    ) -> Result<Summary, FrontierError> {
        let started = Instant::now();
        let mut summary = Summary::default();
        self.dust = dust::Dust::from_saved(self.frontier.dust_rules().await?);
        self.queue_seeds(&mut summary, progress).await?;
        tracing::info!(
            seeds = self.cfg.seeds.len(),
            sitemaps = self.cfg.sitemaps.len(),
            queued = self.frontier.queued(),
            "crawl starts"
        );
        let mut tasks = Tasks::default();
        let mut grace_until: Option<Instant> = None;
        let mut out_closed = false;
        loop {
            self.queue_robots_sitemaps(&mut summary, progress).await?;
            let stopping = stop.graceful.is_cancelled() || out_closed;
            if !stopping && !self.take_work(&mut tasks, &mut summary, &out).await? {
                out_closed = true;
                stop.graceful.cancel();
            }
            let budget_left = self.budget_left();
            progress.update(&summary, self.frontier.queued(), tasks.set.len());
            let empty = self.frontier.queued() == 0 && self.held.is_empty();
            if tasks.set.is_empty() && (stopping || !budget_left) {
                break;
            }
            if tasks.set.is_empty() && empty {
                if self.frontier.complete().await? {
                    break;
                }
                // Idle while other workers of a shared store finish: the
                // hosts met here have nothing left here.
                if !self.hosts_done(&out).await {
                    out_closed = true;
                    stop.graceful.cancel();
                }
            }
            let wake = self.wake_at(stopping, budget_left, &tasks);
            // Sleep until a task ends, a waiting host is ready, or a signal.
            tokio::select! {
                Some(ended) = tasks.set.join_next_with_id() => {
                    let Some((job, done)) = joined(&mut tasks.running, ended) else {
                        continue;
                    };
                    if !self.ended(job, done, &mut summary, &out, progress).await? {
                        out_closed = true;
                        stop.graceful.cancel();
                    }
                }
                _ = sleep_until_opt(wake), if wake.is_some() => {}
                _ = stop.graceful.cancelled(), if grace_until.is_none() => {
                    grace_until = Some(Instant::now() + self.cfg.grace);
                }
                _ = sleep_until_opt(grace_until), if grace_until.is_some() => {
                    summary.abandoned += tasks.set.len() as u64;
                    tasks.set.shutdown().await;
                }
                _ = stop.now.cancelled() => {
                    summary.abandoned += tasks.set.len() as u64;
                    tasks.set.shutdown().await;
                    stop.graceful.cancel();
                }
                else => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        tasks.set.shutdown().await;
        summary.unfetched += (self.frontier.queued() + self.held.len()) as u64;
        summary.interrupted = stop.graceful.is_cancelled() && !out_closed;
        summary.requests = self.ctx.fetcher.requests();
        summary.elapsed = started.elapsed();
        Ok(summary)
    }

    /// Step 2 for one turn of the loop: the frontier takes work (a shared
    /// one: from the others' queue), then tasks start; the skipped pages go
    /// to the writer. `false` when the writer is gone.
    async fn take_work(
        &mut self,
        tasks: &mut Tasks,
        summary: &mut Summary,
        out: &mpsc::Sender<Output>,
    ) -> Result<bool, FrontierError> {
        let room = match self.budget_left() {
            true => self.cfg.max_tasks.saturating_sub(tasks.set.len()),
            false => 0,
        };
        self.frontier.poll(room).await?;
        let learned = self.frontier.take_learned();
        if !learned.is_empty() {
            self.dust.adopt(learned);
        }
        for skip in self.dispatch(tasks, summary).await? {
            if out.send(Output::Failure(skip)).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// When the loop wakes without a task ending: a waiting host is ready,
    /// or a shared store's next look for work (or at the job's end) is due.
    fn wake_at(&self, stopping: bool, budget_left: bool, tasks: &Tasks) -> Option<Instant> {
        if stopping {
            return None;
        }
        let ready = (budget_left && tasks.set.len() < self.cfg.max_tasks)
            .then(|| self.next_ready())
            .flatten();
        match (ready, self.frontier.next_poll()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// `--max-pages` leaves room for another page fetch.
    fn budget_left(&self) -> bool {
        self.cfg.max_pages.is_none_or(|m| self.pages_started < m)
    }

    /// Tasks in flight for the host `key`.
    fn busy(&self, key: &str) -> usize {
        self.busy.get(key).copied().unwrap_or(0)
    }

    /// Queues the `Sitemap:` lines of the robots.txt files read since the
    /// last turn of the loop (those in scope).
    async fn queue_robots_sitemaps(
        &mut self,
        summary: &mut Summary,
        progress: &Progress,
    ) -> Result<(), FrontierError> {
        if !self.cfg.robots_sitemaps {
            return Ok(());
        }
        for u in self.ctx.fetcher.take_robots_sitemaps() {
            if self.ctx.scope.origin_in_scope(&u)
                && let Some(c) = self.ctx.canon(&u)
            {
                self.queue_sitemap(Entry::sitemap(c), summary, progress)
                    .await?;
            }
        }
        Ok(())
    }

    /// Step 2: starts a task for every entry that is ready, as long as task
    /// slots and the page budget last: entries held back as probes first
    /// (`variants.rs`), then the frontier's. The budget is checked before
    /// each pop: an entry taken from the frontier is either fetched, held
    /// back or handed back, never dropped (a resumable frontier would lose
    /// it). A page a learned rule names a variant of is skipped instead:
    /// returned, for the errors file.
    async fn dispatch(
        &mut self,
        tasks: &mut Tasks,
        summary: &mut Summary,
    ) -> Result<Vec<Failure>, FrontierError> {
        let mut skipped = self.release_held(tasks, summary).await?;
        while self.budget_left() && tasks.set.len() < self.cfg.max_tasks {
            let now = Instant::now();
            let (busy, fetcher) = (&self.busy, &self.ctx.fetcher);
            let entry = self
                .frontier
                .pop(&mut |key| host_ready(busy, fetcher, key, now))
                .await?;
            let Some(entry) = entry else { break };
            if entry.kind == EntryKind::Page {
                if let Some(skip) = self.variant(&entry, summary).await? {
                    skipped.push(skip);
                    continue;
                }
                if self.hold_as_probe(&entry).await? {
                    continue;
                }
            }
            self.start(tasks, entry).await?;
        }
        Ok(skipped)
    }

    /// The host `key` has room for a task and its turn is (nearly) due.
    fn host_ready(&self, key: &str, now: Instant) -> bool {
        host_ready(&self.busy, &self.ctx.fetcher, key, now)
    }

    /// Starts the task of `entry`, with what the frontier knows of it.
    async fn start(&mut self, tasks: &mut Tasks, entry: Entry) -> Result<(), FrontierError> {
        if entry.kind == EntryKind::Page {
            self.pages_started += 1;
        }
        let known = self.frontier.known(&entry.url).await?;
        *self.busy.entry(host_key(&entry.url)).or_default() += 1;
        if let Some(h) = entry.url.host_str()
            && !self.undone.contains(h)
        {
            self.undone.insert(h.to_string());
        }
        let validators = match (&known, entry.kind) {
            (Some(k), EntryKind::Page) if !self.cfg.emit_all && !k.tombstoned() => Validators {
                etag: k.etag.clone(),
                last_modified: k.last_modified.clone(),
            },
            _ => Validators::default(),
        };
        let job = Job {
            entry: entry.clone(),
            known,
        };
        // In the loop's span: a fleet's worker names every line of its tasks.
        let task = tasks
            .set
            .spawn(work(self.ctx.clone(), job, validators).in_current_span());
        tasks.running.insert(task.id(), entry);
        Ok(())
    }

    /// Tells the writer that every host met has nothing left (records it
    /// holds back for them wait no longer); `false` when it is gone.
    async fn hosts_done(&mut self, out: &mpsc::Sender<Output>) -> bool {
        for h in std::mem::take(&mut self.undone) {
            if out.send(Output::HostDone(h)).await.is_err() {
                return false;
            }
        }
        true
    }

    /// When the first waiting host with room for a task is ready.
    fn next_ready(&self) -> Option<Instant> {
        let held = self.held.iter().map(|e| host_key(&e.url));
        self.frontier
            .waiting_hosts()
            .into_iter()
            .chain(held)
            .filter(|k| self.busy(k) < self.ctx.fetcher.connections(k))
            .filter_map(|k| self.ctx.fetcher.ready_at(&k))
            .min()
            .map(|t| t.max(Instant::now() + Duration::from_millis(1)))
    }
}

/// The tasks in flight.
#[derive(Default)]
struct Tasks {
    set: JoinSet<(Job, Done)>,
    /// Task → its entry, for a task that panics (see [`joined`]).
    running: HashMap<tokio::task::Id, Entry>,
}

/// A task's end as its job and outcome. A task that panicked outside the
/// cleaning (which catches its own panics) is its page's `internal` error,
/// not a page that vanishes; `None` for a task aborted at the end of the
/// grace period: its entry stays "fetching" in a resumable frontier, and
/// goes back to the queue when the state is opened again.
fn joined(
    running: &mut HashMap<tokio::task::Id, Entry>,
    ended: Result<(tokio::task::Id, (Job, Done)), tokio::task::JoinError>,
) -> Option<(Job, Done)> {
    match ended {
        Ok((id, r)) => {
            running.remove(&id);
            Some(r)
        }
        Err(e) => {
            let entry = running.remove(&e.id())?;
            if !e.is_panic() {
                return None;
            }
            let payload = e.into_panic();
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            let msg = msg.split_whitespace().collect::<Vec<_>>().join(" ");
            let err = FetchError::new(
                ErrorKind::Internal,
                &entry.url,
                format!("internal error: {msg}"),
            );
            Some((Job { entry, known: None }, Done::Failed(err)))
        }
    }
}

/// The host `key` has room for a task (`busy`: tasks in flight per host)
/// and its turn is (nearly) due.
fn host_ready(busy: &HashMap<String, usize>, fetcher: &Fetcher, key: &str, now: Instant) -> bool {
    busy.get(key).copied().unwrap_or(0) < fetcher.connections(key)
        && fetcher.ready_at(key).is_none_or(|t| t <= now + READY_SLACK)
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
