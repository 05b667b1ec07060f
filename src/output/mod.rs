//! Stage 5, emit: records as JSON Lines. One [`JsonlWriter`] owns the output
//! (stdout or a file); nothing else writes there.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

pub struct JsonlWriter {
    out: BufWriter<Box<dyn Write + Send>>,
    written: u64,
    /// For a file: its length once everything written is flushed.
    offset: Option<u64>,
}

impl JsonlWriter {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        JsonlWriter {
            out: BufWriter::new(out),
            written: 0,
            offset: None,
        }
    }

    /// Stdout, or `path` (created or truncated).
    pub fn create(path: Option<&std::path::Path>) -> io::Result<Self> {
        Ok(match path {
            Some(p) => {
                let mut w = Self::new(Box::new(create_file(p)?));
                w.offset = Some(0);
                w
            }
            None => Self::new(Box::new(io::stdout())),
        })
    }

    /// Stdout, or `path` opened for appending (created if missing): a
    /// resumed crawl adds to the records of the runs before it.
    pub fn append(path: Option<&std::path::Path>) -> io::Result<Self> {
        Ok(match path {
            Some(p) => {
                let f = append_file(p)?;
                let len = f.metadata()?.len();
                let mut w = Self::new(Box::new(f));
                w.offset = Some(len);
                w
            }
            None => Self::new(Box::new(io::stdout())),
        })
    }

    /// Where the file ends after the next flush (`None` for stdout).
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// Writes one record as one line. The line is built first and written
    /// whole, so a record is never split by an error midway.
    pub fn write<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        self.write_line(&line_of(record)?)
    }

    /// Writes one record already serialized by [`line_of`] (newline
    /// included), byte for byte.
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        debug_assert_eq!(line.last(), Some(&b'\n'));
        self.out.write_all(line)?;
        self.written += 1;
        if let Some(o) = &mut self.offset {
            *o += line.len() as u64;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn written(&self) -> u64 {
        self.written
    }
}

/// A record's JSON line, newline included.
pub fn line_of<T: Serialize>(record: &T) -> io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

/// Creates the directories `path` needs, as `mkdir -p` would, so that
/// `-o data/records.jsonl` or a job file's `../state/s.db` works in a fresh
/// checkout. The error names the directory that could not be made.
pub fn make_parent(path: &std::path::Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => std::fs::create_dir_all(dir)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot create directory {}: {e}", dir.display()),
                )
            }),
        _ => Ok(()),
    }
}

/// `path` created or truncated, its directories made first.
pub fn create_file(path: &std::path::Path) -> io::Result<std::fs::File> {
    make_parent(path)?;
    std::fs::File::create(path)
}

/// `path` opened for appending (created if missing), its directories made
/// first.
pub fn append_file(path: &std::path::Path) -> io::Result<std::fs::File> {
    make_parent(path)?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// A closed pipe (`parkcrawl clean … | head`) ends the run quietly.
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}
