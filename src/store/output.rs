//! The output file's side of exactly-once (see the module header of
//! `store`): on start, the tail past the committed offset is read back and
//! a half-written last line is cut.

use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use url::Url;

use super::{Reconciled, StateStore, StoreError, Visit};

impl StateStore {
    /// Restart repair of the output (see the module header), before the run
    /// writes anything. `output` is this run's `-o` file, `None` for stdout.
    ///
    /// The state remembers which file its committed offset belongs to. The
    /// tail of that file past the offset is read: whole lines mark their
    /// pages done, a partial last line is cut. When this run writes to
    /// another file (a dated file per day), that file's existing content is
    /// left as it is, but for a partial last line, which would corrupt the
    /// first record appended after it.
    pub fn reconcile(&mut self, output: Option<&Path>) -> Result<Reconciled, StoreError> {
        let here = output.map(absolute);
        let mut found = Reconciled::default();
        if let Some(prev) = self.meta("output_path")?.map(PathBuf::from) {
            let committed = self.meta_i64("output_offset")?.unwrap_or(0).max(0) as u64;
            if prev.is_file() {
                found = self.scan_tail(&prev, committed)?;
                found.file = Some(prev);
            }
        }
        match &here {
            Some(p) => {
                let len = if self.meta("output_path")?.as_deref() == Some(&p.to_string_lossy()) {
                    file_len(p)?
                } else {
                    let (len, cut) = cut_partial_line(p)?;
                    found.cut_here = cut;
                    len
                };
                self.set_meta("output_path", &p.to_string_lossy())?;
                self.set_meta("output_offset", &len.to_string())?;
            }
            None => {
                self.conn
                    .execute(
                        "DELETE FROM meta WHERE key IN ('output_path', 'output_offset')",
                        [],
                    )
                    .map_err(self.sql())?;
            }
        }
        self.reload()?;
        Ok(found)
    }

    /// Reads `path` from `committed` on: whole lines are records written but
    /// not committed (marked done now); a partial last line is cut.
    fn scan_tail(&mut self, path: &Path, committed: u64) -> Result<Reconciled, StoreError> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut found = Reconciled::default();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < committed {
            found.short = Some((len, committed));
        }
        let mut pos = committed.min(len);
        file.seek(SeekFrom::Start(pos)).map_err(io)?;
        let mut reader = std::io::BufReader::new((&mut file).take(len - pos));
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io)?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                // The kill came mid-write: this page is not done, and will
                // be written again whole.
                drop(reader);
                file.set_len(pos).map_err(io)?;
                found.cut = n as u64;
                break;
            }
            pos += n as u64;
            if let Some((url, visit)) = visit_of_line(&line) {
                self.commit_page(&url, &visit, None)?;
                found.records += 1;
            }
        }
        Ok(found)
    }
}

/// The path as the state remembers it: absolute, so that a run from another
/// directory still recognises its file.
pub(super) fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn file_len(p: &Path) -> Result<u64, StoreError> {
    match std::fs::metadata(p) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(source) => Err(StoreError::Io {
            path: p.display().to_string(),
            source,
        }),
    }
}

/// Cuts a partial last line off `path` (if it exists). Returns the length
/// left and the bytes cut. Reads only the tail, backwards.
pub fn cut_partial_line(path: &Path) -> Result<(u64, u64), StoreError> {
    let io = |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(io(e)),
    };
    let len = file.metadata().map_err(io)?.len();
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    let whole = loop {
        if end == 0 {
            break 0;
        }
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.read_exact(chunk).map_err(io)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            break start + i as u64 + 1;
        }
        end = start;
    };
    if whole < len {
        file.set_len(whole).map_err(io)?;
    }
    Ok((whole, len - whole))
}

/// A line of the output as the visit that wrote it: a record or a tombstone.
fn visit_of_line(line: &[u8]) -> Option<(Url, Visit)> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    let url = Url::parse(v["url"].as_str()?).ok()?;
    let s = |x: &serde_json::Value| x.as_str().map(str::to_string);
    let visit = if v["deleted"] == serde_json::Value::Bool(true) {
        Visit {
            record_id: s(&v["id"]),
            status: v["status"].as_u64().map(|s| s as u16),
            at: s(&v["deleted_at"]),
            emitted: true,
            ..Visit::default()
        }
    } else {
        Visit {
            record_id: s(&v["id"]),
            // The record's hash: with repeated blocks dropped, not the
            // hash of the page as cleaned that a commit stores, so the next
            // recrawl takes this one page for changed and writes it again
            // (once; the line does not say what was dropped).
            content_hash: s(&v["content_hash"]),
            etag: s(&v["fetch"]["etag"]),
            last_modified: s(&v["fetch"]["last_modified"]),
            at: s(&v["fetch"]["fetched_at"]),
            status: v["fetch"]["status"].as_u64().map(|s| s as u16),
            emitted: true,
        }
    };
    Some((url, visit))
}
