//! The spill file between `clean`'s two passes (`crate::cli::clean`): pass 1
//! writes each record's line there, in output order, with what pass 2 needs
//! to judge it without reading it (its host and its block keys); pass 2 reads
//! them back in the same order. Memory stays bounded however many records
//! a run gives: they wait on disk, not in memory.
//!
//! A frame per record, integers little-endian:
//!
//! ```text
//! u32 host length (u32::MAX: no host) | host | u32 key count | u64 keys… | u64 line length | line
//! ```

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::document::Document;
use crate::output::line_of;
use crate::repeated::{Removed, Stats};

/// One record as pass 1 left it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spilled {
    pub host: Option<String>,
    /// The distinct keys of its blocks (`repeated::page_keys`).
    pub keys: Vec<u64>,
    /// The record's JSON line, newline included.
    pub line: Vec<u8>,
}

pub struct SpillWriter {
    out: BufWriter<File>,
}

impl SpillWriter {
    /// An anonymous temporary file, deleted when closed (even by a kill):
    /// beside `near` (the output file) when that is a regular file, so that
    /// it lands on the disk that is to hold the output anyway, not on a
    /// small `/tmp` (often memory); else (stdout, `-o /dev/null`, a pipe) in
    /// the temporary directory (`TMPDIR`).
    pub fn create(near: Option<&Path>) -> io::Result<SpillWriter> {
        let dir = near
            .filter(|p| p.is_file())
            .and_then(|p| std::path::absolute(p).ok())
            .and_then(|p| p.parent().map(Path::to_path_buf));
        let file = match dir {
            Some(d) => tempfile::tempfile_in(d)?,
            None => tempfile::tempfile()?,
        };
        Ok(SpillWriter {
            out: BufWriter::with_capacity(1 << 20, file),
        })
    }

    pub fn push(&mut self, host: Option<&str>, keys: &[u64], line: &[u8]) -> io::Result<()> {
        let w = &mut self.out;
        match host {
            Some(h) => {
                let len = u32::try_from(h.len()).map_err(io::Error::other)?;
                w.write_all(&len.to_le_bytes())?;
                w.write_all(h.as_bytes())?;
            }
            None => w.write_all(&u32::MAX.to_le_bytes())?,
        }
        let n = u32::try_from(keys.len()).map_err(io::Error::other)?;
        w.write_all(&n.to_le_bytes())?;
        for k in keys {
            w.write_all(&k.to_le_bytes())?;
        }
        w.write_all(&(line.len() as u64).to_le_bytes())?;
        w.write_all(line)
    }

    /// Pass 1 is over: the same file, from its start.
    pub fn into_reader(self) -> io::Result<SpillReader> {
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        Ok(SpillReader {
            input: BufReader::with_capacity(1 << 20, file),
        })
    }
}

pub struct SpillReader {
    input: BufReader<File>,
}

impl SpillReader {
    /// The next record into `rec` (its buffers reused); `false` at the end.
    pub fn next_into(&mut self, rec: &mut Spilled) -> io::Result<bool> {
        let mut u32b = [0u8; 4];
        match self.input.read_exact(&mut u32b) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
        let host_len = u32::from_le_bytes(u32b);
        rec.host = if host_len == u32::MAX {
            None
        } else {
            let mut h = vec![0u8; host_len as usize];
            self.input.read_exact(&mut h)?;
            Some(String::from_utf8(h).map_err(io::Error::other)?)
        };
        self.input.read_exact(&mut u32b)?;
        let n = u32::from_le_bytes(u32b) as usize;
        rec.keys.clear();
        let mut u64b = [0u8; 8];
        for _ in 0..n {
            self.input.read_exact(&mut u64b)?;
            rec.keys.push(u64::from_le_bytes(u64b));
        }
        self.input.read_exact(&mut u64b)?;
        let len = u64::from_le_bytes(u64b) as usize;
        rec.line.clear();
        rec.line.resize(len, 0);
        self.input.read_exact(&mut rec.line)?;
        Ok(true)
    }
}

/// Pass 2 for one record: its line with the repeated blocks dropped, or
/// `None` when it stays as it was (written byte for byte). Only a record of
/// a host that qualifies and holding a repeated key is read back; it is
/// rewritten only when a block actually goes (the heading and never-empty
/// guards may keep them all).
pub fn rewrite(rec: &Spilled, stats: &Stats, removed: &mut Removed) -> io::Result<Option<Vec<u8>>> {
    let Some(host) = rec.host.as_deref() else {
        return Ok(None);
    };
    if !stats.qualifies(host) || !rec.keys.iter().any(|&k| stats.is_repeated(host, k)) {
        return Ok(None);
    }
    let mut doc: Document = serde_json::from_slice(&rec.line).map_err(io::Error::other)?;
    let n = stats.filter(&mut doc);
    if n == 0 {
        return Ok(None);
    }
    removed.add(&doc, n);
    line_of(&doc).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "").unwrap();
        let mut w = SpillWriter::create(Some(&out)).unwrap();
        let recs = [
            Spilled {
                host: Some("www.园区.cn".into()),
                keys: vec![1, u64::MAX, 7],
                line: b"{\"a\":1}\n".to_vec(),
            },
            Spilled {
                host: None,
                keys: vec![],
                line: b"{}\n".to_vec(),
            },
            Spilled {
                host: Some(String::new()),
                keys: vec![0],
                line: vec![b'x'; 3 << 20],
            },
        ];
        for r in &recs {
            w.push(r.host.as_deref(), &r.keys, &r.line).unwrap();
        }
        // Anonymous: nothing but the output is in its directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let mut r = w.into_reader().unwrap();
        let mut got = Spilled::default();
        for want in &recs {
            assert!(r.next_into(&mut got).unwrap());
            assert_eq!(&got, want);
        }
        assert!(!r.next_into(&mut got).unwrap());
    }
}
