//! `parkcrawl export --state postgres://…`: the records of a PostgreSQL
//! store, in commit order, tombstones included, through the format layer
//! (`crate::format`), exactly as `crawl` writes them.
//!
//! A cursor (`--cursor NAME`) remembers what it has exported. Each batch is
//! written and flushed first; only then does the cursor move, in the
//! database, with the output file's length. So a kill loses nothing: the
//! next export with that cursor and file cuts the tail the killed one wrote
//! past its last saved length and writes those records again, once.

use std::path::{Path, PathBuf};

use super::units::Seconds;
use super::{FormatArgs, report};
use crate::exit;
use crate::format::RecordWriter;
use crate::output::JsonlWriter;
use crate::store::postgres::{self, Cursor, PgStore};

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The PostgreSQL store: postgres://USER@HOST:PORT/DB (any libpq-style URL).
    #[arg(long, value_name = "URL")]
    pub state: String,
    /// Append the records to FILE (created if missing) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The name under which export remembers what it has written.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub cursor: String,
    /// Keep running: write records as they are committed.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: how often to look for new records.
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub poll: Seconds,
    /// Records per batch (a batch is flushed, then the cursor saved).
    #[arg(long, value_name = "N", default_value_t = 500, hide = true)]
    pub batch: i64,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// The one-line answer to `export --state FILE` for a SQLite state.
const SQLITE: &str = "export reads a PostgreSQL store (--state postgres://USER@HOST:PORT/DB); a SQLite state's records are in its crawl's -o file already";

pub fn run(args: ExportArgs) -> i32 {
    if !postgres::is_url(&args.state) {
        report(&args.state, &SQLITE);
        return exit::CANNOT_START;
    }
    if args.poll.positive().is_err() {
        report("--poll", &"must be a positive duration");
        return exit::CANNOT_START;
    }
    let opts = args.format.options();
    if let Err(e) = opts.check(args.output.as_deref(), true) {
        report("export", &e);
        return exit::CANNOT_START;
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report("export", &e);
            return exit::CANNOT_START;
        }
    };
    match rt.block_on(export(&args)) {
        Ok(n) => {
            eprintln!(
                "parkcrawl: done: {n} record(s) exported (cursor {})",
                args.cursor
            );
            exit::OK
        }
        Err(Failed::Quiet) => exit::OK,
        Err(Failed::Start(e)) => {
            eprintln!("parkcrawl: {e}");
            exit::CANNOT_START
        }
    }
}

enum Failed {
    /// stdout closed (`| head`): end quietly.
    Quiet,
    Start(String),
}

async fn export(args: &ExportArgs) -> Result<u64, Failed> {
    let start = |e: &dyn std::fmt::Display| Failed::Start(e.to_string());
    let store = PgStore::open(&args.state).await.map_err(|e| start(&e))?;
    let mut cursor = store.cursor(&args.cursor).await.map_err(|e| start(&e))?;
    let output = args
        .output
        .as_deref()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    let mut writer = open_writer(args, output.as_deref(), &cursor).map_err(Failed::Start)?;
    let mut written = 0;
    loop {
        let batch = store
            .records_after(cursor.seq, args.batch.max(1))
            .await
            .map_err(|e| start(&e))?;
        let Some(&(last, _)) = batch.last() else {
            if !args.follow {
                return Ok(written);
            }
            tokio::time::sleep(args.poll.positive().unwrap_or_default()).await;
            continue;
        };
        let mut buf = Vec::new();
        for (_, line) in &batch {
            buf.clear();
            buf.extend_from_slice(line.as_bytes());
            buf.push(b'\n');
            writer.write_line(&buf).map_err(|e| io_failed(args, &e))?;
        }
        writer.flush().map_err(|e| io_failed(args, &e))?;
        written += batch.len() as u64;
        // The records are the output's now; a kill from here to the save
        // leaves a tail the next export with this cursor cuts off.
        fail::fail_point!("export-flushed");
        cursor = Cursor {
            seq: last,
            output: output.as_ref().map(|p| p.display().to_string()),
            offset: writer.offset().map(|o| o as i64),
        };
        store
            .save_cursor(&args.cursor, &cursor)
            .await
            .map_err(|e| start(&e))?;
    }
}

fn io_failed(args: &ExportArgs, e: &std::io::Error) -> Failed {
    if args.output.is_none() && crate::output::is_broken_pipe(e) {
        return Failed::Quiet;
    }
    let what = args
        .output
        .as_ref()
        .map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    Failed::Start(format!("{what}: {e}"))
}

/// The output: a directory format's directory, or the file appended to,
/// cut first to the length the cursor saved when the cursor's last export
/// wrote this same file (what lies past it is not counted as exported).
fn open_writer(
    args: &ExportArgs,
    output: Option<&Path>,
    cursor: &Cursor,
) -> Result<RecordWriter, String> {
    let opts = args.format.options();
    let named = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    if let (Some(dir), true) = (output, opts.format.is_dir()) {
        return RecordWriter::dir(opts, dir).map_err(|e| named(dir, e));
    }
    if let Some(path) = output {
        let same = cursor.output.as_deref() == Some(&*path.display().to_string());
        if let (true, Some(offset)) = (same, cursor.offset) {
            cut_to(path, offset as u64).map_err(|e| named(path, e))?;
        }
    }
    let out = JsonlWriter::append(output).map_err(|e| match output {
        Some(p) => named(p, e),
        None => e.to_string(),
    })?;
    RecordWriter::stream(opts, out, output).map_err(|e| e.to_string())
}

/// Cuts `path` to `len` bytes when it is longer (a missing file is fine).
fn cut_to(path: &Path, len: u64) -> std::io::Result<()> {
    let file = match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if file.metadata()?.len() > len {
        eprintln!(
            "parkcrawl: note: {}: cutting {} byte(s) a stopped export wrote past its cursor; they are written again",
            path.display(),
            file.metadata()?.len() - len
        );
        file.set_len(len)?;
    }
    Ok(())
}
