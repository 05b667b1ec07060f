//! The one writer: a thread that owns the records output (stdout or `-o`)
//! and the errors file, fed through a bounded channel so that a slow disk or
//! pipe slows the crawl instead of filling memory.
//!
//! With a [`Ledger`] (`--state`), the writer is also the one that marks a
//! page with a record done, and only after its line is written and flushed:
//! the order `crate::store` explains, which makes the output exactly-once
//! across kills.
//!
//! Unless `--keep-repeated`, records pass a [`Gate`] on their way out: each
//! page feeds its host's block statistics, and a record is written without
//! the blocks that recur on most of its host's pages (`crate::repeated`).
//! A host's first records wait in the gate until the host has pages enough
//! to judge, its pages run out ([`Output::HostDone`]) or the crawl ends.
//! Waiting, they are neither written nor committed: a kill then loses
//! nothing, since their pages are fetched again on resume. With a ledger,
//! the statistics of hosts holding nothing back are saved every
//! [`SAVE_EVERY`] and at the end, for the next run.

use std::io;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use url::Url;

use crate::crawl::frontier::{FrontierError, Visit};
use crate::document::{Document, Tombstone};
use crate::fetch::ErrorKind;
use crate::format::RecordWriter;
use crate::output::{JsonlWriter, is_broken_pipe};
use crate::repeated::{Gate, HostStats, Removed, Stats};
use crate::warc::{OwnedExchange, WarcWriter};

/// Records waiting for the writer, at most.
pub const CHANNEL: usize = 64;

/// How often the writer saves the block statistics to the state.
pub const SAVE_EVERY: Duration = Duration::from_secs(30);

/// A line of the errors file.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Without credentials.
    pub url: String,
    /// `error_kind`, not `kind`: in a record `kind` is the page's kind.
    #[serde(rename = "error_kind")]
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub message: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The URL as queued, when a redirect chain ended elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
}

/// Where a record came from: the frontier entry it finishes, and what its
/// visit leaves in the state.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The URL as queued (before redirects).
    pub url: Url,
    pub visit: Visit,
}

/// A record or tombstone as its JSON line (the bytes a JSON Lines output
/// holds, without the newline), for a store that keeps the records itself.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub id: &'a str,
    pub deleted: bool,
    pub json: &'a str,
}

/// What became of a record handed to a store that keeps records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landed {
    /// Committed with its page.
    Written,
    /// Its id was committed for another URL in this cycle already: the
    /// page is done, the record not kept again.
    Duplicate,
    /// The store refused the commit (the lease on the page's host was
    /// taken over): nothing was written; another worker fetches the page.
    Refused,
}

/// The writer's side of the crawl state: whether a record may be written,
/// and that it was. Async like the frontier (`Frontier`): the writer thread
/// waits for it on the crawl's runtime.
#[async_trait]
pub trait Ledger: Send {
    /// The store keeps the records (PostgreSQL, in the same transaction as
    /// the page): nothing goes to the records output, `written` gets each
    /// line. `false`: the line goes to the output first (SQLite).
    fn keeps_records(&self) -> bool {
        false
    }
    /// Whether a record with `id` was already written (or found unchanged)
    /// in this crawl cycle for another URL than `url`.
    async fn seen_id(&mut self, id: &str, url: &Url) -> Result<bool, FrontierError>;
    /// The page `url` is done as `visit` says. Its record (if any) is
    /// written and flushed to the output, which now ends at
    /// `output_offset` (`None` for stdout) — or, when the store keeps the
    /// records, is `line`, committed with the page.
    async fn written(
        &mut self,
        url: &Url,
        visit: &Visit,
        output_offset: Option<u64>,
        line: Option<Line<'_>>,
    ) -> Result<Landed, FrontierError>;
    /// Keeps these hosts' block statistics for the next run.
    async fn save_repeated(&mut self, hosts: &[(&str, &HostStats)]) -> Result<(), FrontierError>;
}

#[derive(Debug)]
pub enum Output {
    /// A record, and with `--state` the page it finishes.
    Record(Box<Document>, Option<Box<Commit>>),
    /// A page that is gone (`SCHEMA.md`, "Tombstones").
    Tombstone(Tombstone, Box<Commit>),
    Failure(Failure),
    /// A fetched response for the WARC (sent before its record).
    Archive(Box<OwnedExchange>),
    /// The crawl has no more pages of this host (`site.host`) queued or in
    /// flight: records held for it need wait no longer.
    HostDone(String),
}

/// The `--warc` file: each record written whole and flushed as it arrives.
pub type Archive = WarcWriter<std::io::BufWriter<std::fs::File>>;

/// How the writer ended.
#[derive(Debug, Default)]
pub struct Written {
    pub records: u64,
    pub tombstones: u64,
    /// Records not written: their id was written for another URL in this
    /// crawl cycle (a redirect or canonical alias met again after a restart,
    /// or, with a shared store, by another worker).
    pub duplicates: u64,
    /// Records and tombstones a shared store refused: their host's lease
    /// was taken over (see [`Landed::Refused`]).
    pub refused: u64,
    pub failures: u64,
    /// stdout was closed by its reader (`| head`): a quiet end.
    pub closed: bool,
    /// Blocks dropped as `repeated-block`.
    pub removed: Removed,
}

/// Starts the writer. When the records output breaks, `stop` is cancelled so
/// that the crawl ends; the thread returns the error (or `closed`).
/// `repeated`: the block statistics to start from, `None` to keep repeated
/// blocks (`--keep-repeated`). Called on the crawl's runtime: the ledger's
/// calls run on it.
pub fn spawn(
    records: RecordWriter,
    errors: Option<JsonlWriter>,
    archive: Option<Archive>,
    ledger: Option<Box<dyn Ledger>>,
    repeated: Option<Stats>,
    stop: CancellationToken,
) -> (mpsc::Sender<Output>, JoinHandle<io::Result<Written>>) {
    let (tx, mut rx) = mpsc::channel::<Output>(CHANNEL);
    let rt = Handle::current();
    let handle = std::thread::spawn(move || {
        let mut writer = Writer {
            rt,
            records,
            errors,
            archive,
            ledger,
            gate: repeated.map(Gate::new),
            saved: Instant::now(),
            w: Written::default(),
        };
        let result = (|| {
            while let Some(out) = rx.blocking_recv() {
                writer.take(out, rx.is_empty())?;
            }
            writer.finish()
        })();
        let mut w = writer.w;
        if let Some(g) = writer.gate {
            w.removed = g.removed;
        }
        match result {
            Ok(()) => Ok(w),
            Err(e) if is_broken_pipe(&e) => {
                stop.cancel();
                w.closed = true;
                Ok(w)
            }
            Err(e) => {
                stop.cancel();
                Err(e)
            }
        }
    });
    (tx, handle)
}

/// The writer thread's state.
struct Writer {
    /// The crawl's runtime, which the ledger's futures run on (a SQLite
    /// ledger's are ready at once).
    rt: Handle,
    records: RecordWriter,
    errors: Option<JsonlWriter>,
    archive: Option<Archive>,
    ledger: Option<Box<dyn Ledger>>,
    /// `None` with `--keep-repeated`.
    gate: Option<Gate<Option<Box<Commit>>>>,
    /// When the block statistics were last saved.
    saved: Instant,
    w: Written,
}

fn state(e: FrontierError) -> io::Error {
    io::Error::other(e.0)
}

impl Writer {
    /// One message. `drained`: no other message is waiting (a moment to
    /// flush, so that a reader sees records as pages finish).
    fn take(&mut self, out: Output, drained: bool) -> io::Result<()> {
        match out {
            Output::Record(doc, commit) => {
                // A store that keeps the records dedups ids in the commit.
                if let (Some(ledger), Some(c)) = (&mut self.ledger, &commit)
                    && !ledger.keeps_records()
                    && self
                        .rt
                        .block_on(ledger.seen_id(&doc.id, &c.url))
                        .map_err(state)?
                {
                    let visit = Visit {
                        record_id: None,
                        emitted: false,
                        ..c.visit.clone()
                    };
                    let w = ledger.written(&c.url, &visit, None, None);
                    self.rt.block_on(w).map_err(state)?;
                    self.w.duplicates += 1;
                    return Ok(());
                }
                let ready = match &mut self.gate {
                    Some(g) => g.admit(*doc, commit),
                    None => vec![(*doc, commit)],
                };
                self.write_all(ready, drained)?;
                if self.saved.elapsed() >= SAVE_EVERY {
                    self.save_repeated()?;
                }
            }
            Output::HostDone(host) => {
                if let Some(g) = &mut self.gate {
                    let ready = g.host_done(&host);
                    self.write_all(ready, drained)?;
                }
            }
            Output::Tombstone(t, c) => {
                if self.ledger.as_ref().is_some_and(|l| l.keeps_records()) {
                    let json = serde_json::to_string(&t).map_err(io::Error::other)?;
                    let line = Line {
                        id: &t.id,
                        deleted: true,
                        json: &json,
                    };
                    if self.keep(&c, line)? {
                        self.w.tombstones += 1;
                    }
                    return Ok(());
                }
                self.records.write(&t)?;
                self.records.flush()?;
                if let Some(ledger) = &mut self.ledger {
                    let w = ledger.written(&c.url, &c.visit, self.records.offset(), None);
                    self.rt.block_on(w).map_err(state)?;
                }
                self.w.tombstones += 1;
            }
            Output::Archive(x) => {
                if let Some(a) = &mut self.archive {
                    a.write_exchange(&x.as_exchange())
                        .map_err(|e| io::Error::new(e.kind(), format!("--warc: {e}")))?;
                }
            }
            Output::Failure(f) => {
                if let Some(e) = &mut self.errors {
                    e.write(&f)
                        .map_err(|e| io::Error::new(e.kind(), format!("--errors: {e}")))?;
                    if drained {
                        e.flush()?;
                    }
                }
                self.w.failures += 1;
            }
        }
        Ok(())
    }

    /// The channel is closed (the crawl ended): what the gate still holds
    /// is written, everything flushed, the statistics saved.
    fn finish(&mut self) -> io::Result<()> {
        if let Some(g) = &mut self.gate {
            let ready = g.finish();
            self.write_all(ready, true)?;
        }
        self.records.flush()?;
        if let Some(e) = &mut self.errors {
            e.flush()?;
        }
        self.save_repeated()
    }

    fn write_all(
        &mut self,
        ready: Vec<(Document, Option<Box<Commit>>)>,
        drained: bool,
    ) -> io::Result<()> {
        let n = ready.len();
        for (i, (doc, commit)) in ready.into_iter().enumerate() {
            self.write_record(&doc, commit, drained && i + 1 == n)?;
        }
        Ok(())
    }

    fn write_record(
        &mut self,
        doc: &Document,
        commit: Option<Box<Commit>>,
        drained: bool,
    ) -> io::Result<()> {
        match (&mut self.ledger, commit) {
            (Some(ledger), Some(c)) if ledger.keeps_records() => {
                let json = serde_json::to_string(doc).map_err(io::Error::other)?;
                let line = Line {
                    id: &doc.id,
                    deleted: false,
                    json: &json,
                };
                if !self.keep(&c, line)? {
                    return Ok(());
                }
            }
            (Some(ledger), Some(c)) => {
                // The order that makes the output exactly-once: the line
                // is whole in the file before the state says the page is
                // done.
                self.records.write(doc)?;
                self.records.flush()?;
                let w = ledger.written(&c.url, &c.visit, self.records.offset(), None);
                self.rt.block_on(w).map_err(state)?;
            }
            _ => {
                self.records.write(doc)?;
                if drained {
                    self.records.flush()?;
                }
            }
        }
        self.w.records += 1;
        Ok(())
    }

    /// A record handed to a store that keeps records, committed with its
    /// page; `true` when it was kept (the rest is counted here).
    fn keep(&mut self, c: &Commit, line: Line<'_>) -> io::Result<bool> {
        let Some(ledger) = &mut self.ledger else {
            return Ok(false);
        };
        let landed = self
            .rt
            .block_on(ledger.written(&c.url, &c.visit, None, Some(line)))
            .map_err(state)?;
        match landed {
            Landed::Written => return Ok(true),
            Landed::Duplicate => self.w.duplicates += 1,
            Landed::Refused => self.w.refused += 1,
        }
        Ok(false)
    }

    /// Saves the statistics of the hosts that changed and hold nothing back
    /// (`Gate::take_settled` says why only those).
    fn save_repeated(&mut self) -> io::Result<()> {
        self.saved = Instant::now();
        let (Some(g), Some(ledger)) = (&mut self.gate, &mut self.ledger) else {
            return Ok(());
        };
        let hosts = g.take_settled();
        let stats: Vec<(&str, &HostStats)> = hosts
            .iter()
            .filter_map(|h| Some((h.as_str(), g.stats.host(h)?)))
            .collect();
        if stats.is_empty() {
            return Ok(());
        }
        self.rt
            .block_on(ledger.save_repeated(&stats))
            .map_err(state)
    }
}
