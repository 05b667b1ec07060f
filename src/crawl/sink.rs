//! The one writer: a thread that owns the records output (stdout or `-o`)
//! and the errors file, fed through a bounded channel so that a slow disk or
//! pipe slows the crawl instead of filling memory.

use std::io;
use std::thread::JoinHandle;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::document::Document;
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

#[derive(Debug)]
pub enum Output {
    Record(Box<Document>),
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
    stop: CancellationToken,
) -> (mpsc::Sender<Output>, JoinHandle<io::Result<Written>>) {
    let (tx, mut rx) = mpsc::channel::<Output>(CHANNEL);
    let handle = std::thread::spawn(move || {
        let mut w = Written::default();
        let result = (|| {
            while let Some(out) = rx.blocking_recv() {
                match out {
                    Output::Record(doc) => {
                        records.write(&doc)?;
                        w.records += 1;
                        // Flushed when the channel is drained, so that a
                        // reader sees records as pages finish.
                        if rx.is_empty() {
                            records.flush()?;
                        }
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
