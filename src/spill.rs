//! The spill file between `clean`'s two passes (`crate::cli::clean`): pass 1
//! writes each record's line there, in output order, with what pass 2 needs
//! to judge it without reading it (its host, its blocks' keys, whether it
//! has items or fields); pass 2 reads them back in the same order, and
//! parses only the records that lose blocks. Memory stays bounded however
//! many records a run gives: they wait on disk, not in memory.
//!
//! A frame per record, integers little-endian:
//!
//! ```text
//! u32 host length (u32::MAX: no host) | host | u8 more content (items, fields)
//! | u32 block count | per block: u8 flags (1: heading, 2: has a key), u64 key
//! | u64 line length | line
//! ```

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::document::Document;
use crate::output::line_of;
use crate::repeated::{self, BlockKey, Removed, Stats};

/// One record as pass 1 left it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spilled {
    pub host: Option<String>,
    /// Its blocks, in order (`repeated::block_keys`).
    pub blocks: Vec<BlockKey>,
    /// It has `items` or `fields`.
    pub more_content: bool,
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

    pub fn push(&mut self, rec: &Spilled) -> io::Result<()> {
        let w = &mut self.out;
        match rec.host.as_deref() {
            Some(h) => {
                let len = u32::try_from(h.len()).map_err(io::Error::other)?;
                w.write_all(&len.to_le_bytes())?;
                w.write_all(h.as_bytes())?;
            }
            None => w.write_all(&u32::MAX.to_le_bytes())?,
        }
        w.write_all(&[rec.more_content as u8])?;
        let n = u32::try_from(rec.blocks.len()).map_err(io::Error::other)?;
        w.write_all(&n.to_le_bytes())?;
        for b in &rec.blocks {
            let flags = b.heading as u8 | (b.key.is_some() as u8) << 1;
            w.write_all(&[flags])?;
            w.write_all(&b.key.unwrap_or(0).to_le_bytes())?;
        }
        w.write_all(&(rec.line.len() as u64).to_le_bytes())?;
        w.write_all(&rec.line)
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
        let mut byte = [0u8; 1];
        self.input.read_exact(&mut byte)?;
        rec.more_content = byte[0] != 0;
        self.input.read_exact(&mut u32b)?;
        let n = u32::from_le_bytes(u32b) as usize;
        rec.blocks.clear();
        let mut u64b = [0u8; 8];
        for _ in 0..n {
            self.input.read_exact(&mut byte)?;
            self.input.read_exact(&mut u64b)?;
            rec.blocks.push(BlockKey {
                key: (byte[0] & 2 != 0).then(|| u64::from_le_bytes(u64b)),
                heading: byte[0] & 1 != 0,
            });
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
/// `None` when it stays as it was (written byte for byte). The decision
/// comes from the frame alone (`Stats::drops`); only a record that loses
/// blocks is parsed and serialized again.
pub fn rewrite(rec: &Spilled, stats: &Stats, removed: &mut Removed) -> io::Result<Option<Vec<u8>>> {
    let Some(drop) = stats.drops(rec.host.as_deref(), &rec.blocks, rec.more_content) else {
        return Ok(None);
    };
    let mut doc: Document = serde_json::from_slice(&rec.line).map_err(io::Error::other)?;
    if doc.blocks.len() != drop.len() {
        return Err(io::Error::other(format!(
            "spill file: {} blocks in the record of {}, {} in its frame",
            doc.blocks.len(),
            doc.url,
            drop.len()
        )));
    }
    let n = repeated::apply(&mut doc, &drop);
    removed.add(&doc, n);
    line_of(&doc).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repeated::block_keys;
    // The pages and statistics `repeated`'s own tests judge.
    use crate::repeated::tests::{FOOTER, doc, p, site, stats_of};

    #[test]
    fn frames_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "").unwrap();
        let mut w = SpillWriter::create(Some(&out)).unwrap();
        let b = |key, heading| BlockKey { key, heading };
        let recs = [
            Spilled {
                host: Some("www.园区.cn".into()),
                blocks: vec![b(Some(1), true), b(None, false), b(Some(u64::MAX), false)],
                more_content: true,
                line: b"{\"a\":1}\n".to_vec(),
            },
            Spilled {
                host: None,
                blocks: vec![],
                more_content: false,
                line: b"{}\n".to_vec(),
            },
            Spilled {
                host: Some(String::new()),
                blocks: vec![b(Some(0), false)],
                more_content: false,
                line: vec![b'x'; 3 << 20],
            },
        ];
        for r in &recs {
            w.push(r).unwrap();
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

    /// `clean`'s second pass: a record that loses blocks is rewritten; one that
    /// keeps them all is not parsed (its line may be anything).
    #[test]
    fn the_second_pass_rewrites_only_records_that_lose_blocks() {
        let pages = site("www.park-a.example.cn");
        let s = stats_of(&pages);
        let frame = |d: &Document| Spilled {
            host: d.site.host.clone(),
            blocks: block_keys(&d.blocks),
            more_content: false,
            line: line_of(d).unwrap(),
        };
        let mut removed = Removed::default();
        let line = rewrite(&frame(&pages[3]), &s, &mut removed)
            .unwrap()
            .unwrap();
        let mut want = pages[3].clone();
        s.filter(&mut want);
        assert_eq!(line, line_of(&want).unwrap());
        assert_eq!(removed.blocks, 2);

        let lone = doc("www.park-a.example.cn", vec![p("独有的一段"), p(FOOTER)]);
        let mut f = frame(&lone);
        f.blocks.truncate(1);
        f.line = b"not even JSON\n".to_vec();
        assert_eq!(rewrite(&f, &s, &mut removed).unwrap(), None);
        // A frame that disagrees with its line is an error, not a guess.
        let mut f = frame(&lone);
        f.blocks.insert(0, f.blocks[1]);
        assert!(rewrite(&f, &s, &mut removed).is_err());
    }
}
