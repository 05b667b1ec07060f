//! The one writer: a thread that owns the records output (stdout or `-o`)
//! and the errors file, fed through a bounded channel so that a slow disk or
//! pipe slows the crawl instead of filling memory.
//!
//! With a [`Ledger`] (`--state`), the writer is also the one that marks a
//! page with a record done, and only after its line is written and flushed:
//! the order `crate::store` explains, which makes the output exactly-once
//! across kills.

use std::io;
use std::thread::JoinHandle;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use url::Url;

use crate::crawl::frontier::{FrontierError, Visit};
use crate::document::{Document, Tombstone};
use crate::fetch::ErrorKind;
use crate::output::{JsonlWriter, is_broken_pipe};
use crate::warc::{OwnedExchange, WarcWriter};

/// Records waiting for the writer, at most.
pub const CHANNEL: usize = 64;

/// A line of the errors file.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Without credentials.
    pub url: String,
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

/// The writer's side of the crawl state: whether a record may be written,
/// and that it was.
pub trait Ledger: Send {
    /// Whether a record with `id` was already written (or found unchanged)
    /// in this crawl cycle for another URL than `url`.
    fn seen_id(&mut self, id: &str, url: &Url) -> Result<bool, FrontierError>;
    /// The record of `url` is written and flushed; the output now ends at
    /// `output_offset` (`None` for stdout).
    fn written(
        &mut self,
        url: &Url,
        visit: &Visit,
        output_offset: Option<u64>,
    ) -> Result<(), FrontierError>;
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
}

/// The `--warc` file: each record written whole and flushed as it arrives.
pub type Archive = WarcWriter<std::io::BufWriter<std::fs::File>>;

/// How the writer ended.
#[derive(Debug, Default)]
pub struct Written {
    pub records: u64,
    pub tombstones: u64,
    /// Records not written: their id was written for another URL in this
    /// crawl cycle (a redirect or canonical alias met again after a restart).
    pub duplicates: u64,
    pub failures: u64,
    /// stdout was closed by its reader (`| head`): a quiet end.
    pub closed: bool,
}

/// Starts the writer. When the records output breaks, `stop` is cancelled so
/// that the crawl ends; the thread returns the error (or `closed`).
pub fn spawn(
    mut records: JsonlWriter,
    mut errors: Option<JsonlWriter>,
    mut archive: Option<Archive>,
    mut ledger: Option<Box<dyn Ledger>>,
    stop: CancellationToken,
) -> (mpsc::Sender<Output>, JoinHandle<io::Result<Written>>) {
    let (tx, mut rx) = mpsc::channel::<Output>(CHANNEL);
    let handle = std::thread::spawn(move || {
        let mut w = Written::default();
        let state = |e: FrontierError| io::Error::other(e.0);
        let result = (|| {
            while let Some(out) = rx.blocking_recv() {
                match out {
                    Output::Record(doc, commit) => match (&mut ledger, commit) {
                        (Some(ledger), Some(c)) => {
                            if ledger.seen_id(&doc.id, &c.url).map_err(state)? {
                                let visit = Visit {
                                    record_id: None,
                                    emitted: false,
                                    ..c.visit
                                };
                                ledger.written(&c.url, &visit, None).map_err(state)?;
                                w.duplicates += 1;
                                continue;
                            }
                            // The order that makes the output exactly-once:
                            // the line is whole in the file before the state
                            // says the page is done.
                            records.write(&doc)?;
                            records.flush()?;
                            ledger
                                .written(&c.url, &c.visit, records.offset())
                                .map_err(state)?;
                            w.records += 1;
                        }
                        _ => {
                            records.write(&doc)?;
                            w.records += 1;
                            // Flushed when the channel is drained, so that a
                            // reader sees records as pages finish.
                            if rx.is_empty() {
                                records.flush()?;
                            }
                        }
                    },
                    Output::Tombstone(t, c) => {
                        records.write(&t)?;
                        records.flush()?;
                        if let Some(ledger) = &mut ledger {
                            ledger
                                .written(&c.url, &c.visit, records.offset())
                                .map_err(state)?;
                        }
                        w.tombstones += 1;
                    }
                    Output::Archive(x) => {
                        if let Some(a) = &mut archive {
                            a.write_exchange(&x.as_exchange())
                                .map_err(|e| io::Error::new(e.kind(), format!("--warc: {e}")))?;
                        }
                    }
                    Output::Failure(f) => {
                        if let Some(e) = &mut errors {
                            e.write(&f)
                                .map_err(|e| io::Error::new(e.kind(), format!("--errors: {e}")))?;
                            if rx.is_empty() {
                                e.flush()?;
                            }
                        }
                        w.failures += 1;
                    }
                }
            }
            records.flush()?;
            if let Some(e) = &mut errors {
                e.flush()?;
            }
            Ok(())
        })();
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
