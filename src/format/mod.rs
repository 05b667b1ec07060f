//! Stage 5, emit, in the shape a downstream takes (`--format`): records in,
//! bytes out, one record at a time, so that any number of records streams
//! in bounded memory. `clean` and `crawl` hand every record to one
//! [`RecordWriter`]; so will any other command that writes records.
//!
//! | format | output | a tombstone becomes |
//! |---|---|---|
//! | `jsonl` | the records of SCHEMA, one a line | itself |
//! | `es-bulk` | Elasticsearch / OpenSearch `_bulk` NDJSON: `index` action + search document | a `delete` action, in the same stream |
//! | `typesense` | search documents for `documents/import?action=upsert` | its id, in the deletes file |
//! | `meili` | search documents as NDJSON, primary key `id` | its id, in the deletes file |
//! | `markdown`, `html` | a directory, one file per record: `ID.md`, `ID.html` | the file removed |
//!
//! The search document, the same for the three search formats, is
//! [`search::flatten`]. The deletes file holds one id a line: it is `--deletes
//! FILE`, by default the output's path with `.deletes` added. A file of
//! the directory output is written whole beside its place and renamed there,
//! so a reader never sees half a page.

pub mod page;
pub mod search;

use std::io;
use std::path::{Path, PathBuf};

use crate::document::{Document, Tombstone};
use crate::output::JsonlWriter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// The records of SCHEMA as JSON Lines.
    #[default]
    Jsonl,
    /// Elasticsearch / OpenSearch `_bulk` NDJSON.
    EsBulk,
    /// Typesense `documents/import` JSONL.
    Typesense,
    /// Meilisearch NDJSON.
    Meili,
    /// A directory of Markdown files, one per record.
    Markdown,
    /// A directory of HTML files, one per record.
    Html,
}

impl Format {
    /// Written as a directory of files rather than one stream.
    pub fn is_dir(self) -> bool {
        matches!(self, Format::Markdown | Format::Html)
    }

    /// Writes deletes to a file of their own.
    pub fn has_deletes_file(self) -> bool {
        matches!(self, Format::Typesense | Format::Meili)
    }
}

/// How records are to be written (`--format`, `--index`, `--deletes`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub format: Format,
    /// `es-bulk`: the `_index` of every action.
    pub index: Option<String>,
    /// `typesense`, `meili`: where deletes go.
    pub deletes: Option<PathBuf>,
}

impl Options {
    /// Refuses what cannot work, before anything is written. `output` is
    /// `-o`; `tombstones`: the run can write tombstones (a recrawl).
    pub fn check(&self, output: Option<&Path>, tombstones: bool) -> Result<(), String> {
        let name = self.format_name();
        if let Some(i) = &self.index {
            if self.format != Format::EsBulk {
                return Err(format!(
                    "--index names the index of es-bulk actions, not of {name}"
                ));
            }
            check_index(i)?;
        }
        if self.deletes.is_some() && !self.format.has_deletes_file() {
            return Err(format!("--deletes is for typesense and meili, not {name}"));
        }
        if self.format.is_dir() && output.is_none() {
            return Err(format!(
                "{name} writes a directory, one file per record: give -o DIR"
            ));
        }
        if self.format.has_deletes_file() && tombstones && self.deletes_path(output).is_none() {
            return Err(format!(
                "{name} writes deletes to a file of their own: give -o FILE or --deletes FILE"
            ));
        }
        Ok(())
    }

    fn format_name(&self) -> String {
        clap::ValueEnum::to_possible_value(&self.format).map_or_else(
            || format!("{:?}", self.format),
            |v| v.get_name().to_string(),
        )
    }

    /// `--deletes`, else `OUTPUT.deletes`.
    pub fn deletes_path(&self, output: Option<&Path>) -> Option<PathBuf> {
        self.deletes.clone().or_else(|| {
            output.map(|o| {
                let mut s = o.as_os_str().to_owned();
                s.push(".deletes");
                PathBuf::from(s)
            })
        })
    }
}

/// Elasticsearch's rules for an index name, so that a bad one is refused
/// at the start rather than by every action of the import.
fn check_index(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--index {name}: {why}"));
    if name.is_empty() || name == "." || name == ".." {
        return bad("not an index name");
    }
    if name.len() > 255 {
        return bad("longer than 255 bytes");
    }
    if name.starts_with(['-', '_', '+']) {
        return bad("must not start with -, _ or +");
    }
    if name.chars().any(|c| c.is_uppercase()) {
        return bad("must be lower case");
    }
    if let Some(c) = name.chars().find(|c| r#"\/*?"<>| ,#:"#.contains(*c)) {
        return bad(&format!("must not contain {c:?}"));
    }
    Ok(())
}

/// One record for a [`RecordWriter`].
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    Doc(&'a Document),
    Gone(&'a Tombstone),
}

impl<'a> From<&'a Document> for Record<'a> {
    fn from(d: &'a Document) -> Self {
        Record::Doc(d)
    }
}

impl<'a> From<&'a Tombstone> for Record<'a> {
    fn from(t: &'a Tombstone) -> Self {
        Record::Gone(t)
    }
}

/// Where records go: one stream (stdout or `-o FILE`), or a directory.
enum Out {
    Stream(JsonlWriter),
    Dir(PathBuf),
}

/// The one writer of records, in any [`Format`]. Invariant (kept by its
/// constructors): `out` is a directory exactly when the format is one.
pub struct RecordWriter {
    opts: Options,
    out: Out,
    /// The deletes file's path (typesense, meili), opened at the first delete.
    deletes_path: Option<PathBuf>,
    deletes: Option<JsonlWriter>,
    written: u64,
    buf: Vec<u8>,
}

impl RecordWriter {
    /// A stream format writing to `out` (opened by the caller: created, or
    /// appended to by a resumed crawl); `output` is its path, if a file.
    pub fn stream(
        opts: Options,
        out: JsonlWriter,
        output: Option<&Path>,
    ) -> io::Result<RecordWriter> {
        if opts.format.is_dir() {
            return Err(io::Error::other(format!(
                "{} writes a directory, not a stream",
                opts.format_name()
            )));
        }
        let deletes_path = opts
            .format
            .has_deletes_file()
            .then(|| opts.deletes_path(output))
            .flatten();
        Ok(RecordWriter {
            opts,
            out: Out::Stream(out),
            deletes_path,
            deletes: None,
            written: 0,
            buf: Vec::new(),
        })
    }

    /// A directory format writing under `dir` (created if missing).
    pub fn dir(opts: Options, dir: &Path) -> io::Result<RecordWriter> {
        if !opts.format.is_dir() {
            return Err(io::Error::other(format!(
                "{} writes a stream, not a directory",
                opts.format_name()
            )));
        }
        std::fs::create_dir_all(dir)?;
        Ok(RecordWriter {
            opts,
            out: Out::Dir(dir.to_path_buf()),
            deletes_path: None,
            deletes: None,
            written: 0,
            buf: Vec::new(),
        })
    }

    /// Opens `output` for `opts.format`: a directory for the publishing
    /// formats, else a file (created or truncated) or stdout.
    pub fn create(opts: Options, output: Option<&Path>) -> io::Result<RecordWriter> {
        match output {
            Some(dir) if opts.format.is_dir() => Self::dir(opts, dir),
            _ => Self::stream(opts, JsonlWriter::create(output)?, output),
        }
    }

    pub fn format(&self) -> Format {
        self.opts.format
    }

    /// Writes one record (a document or a tombstone). Its bytes are built
    /// first and written whole.
    pub fn write<'a>(&mut self, record: impl Into<Record<'a>>) -> io::Result<()> {
        let record = record.into();
        if let Out::Dir(dir) = &self.out {
            let dir = dir.clone();
            return self.write_file(&dir, record);
        }
        self.buf.clear();
        let index = self.opts.index.as_deref();
        let buf = &mut self.buf;
        let is_delete = match (self.opts.format, record) {
            (Format::Jsonl, Record::Doc(d)) => json_line(d, buf).map(|_| false),
            (Format::Jsonl, Record::Gone(t)) => json_line(t, buf).map(|_| false),
            (Format::EsBulk, Record::Doc(d)) => search::es_index(d, index, buf).map(|_| false),
            (Format::EsBulk, Record::Gone(t)) => search::es_delete(t, index, buf).map(|_| false),
            (Format::Typesense, Record::Doc(d)) => search::typesense(d, buf).map(|_| false),
            (Format::Meili, Record::Doc(d)) => search::meili(d, buf).map(|_| false),
            (_, Record::Gone(_)) => Ok(true),
            (_, Record::Doc(_)) => unreachable!("directory formats are written above"),
        }
        .map_err(io::Error::other)?;
        match (is_delete, record) {
            (true, Record::Gone(t)) => self.write_delete(&t.id)?,
            _ => match &mut self.out {
                Out::Stream(w) => w.write_line(&self.buf)?,
                Out::Dir(_) => unreachable!("directory formats are written above"),
            },
        }
        self.written += 1;
        Ok(())
    }

    /// Writes one record given as its JSON line (SCHEMA), as `clean`'s
    /// second pass has it: copied byte for byte as JSON Lines, else read
    /// and written in the format.
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        if self.opts.format == Format::Jsonl {
            self.written += 1;
            return self.stream_out().write_line(line);
        }
        let value: serde_json::Value = serde_json::from_slice(line).map_err(io::Error::other)?;
        if value["deleted"] == serde_json::Value::Bool(true) {
            let t: Tombstone = serde_json::from_value(value).map_err(io::Error::other)?;
            self.write(&t)
        } else {
            let d: Document = serde_json::from_value(value).map_err(io::Error::other)?;
            self.write(&d)
        }
    }

    fn stream_out(&mut self) -> &mut JsonlWriter {
        match &mut self.out {
            Out::Stream(w) => w,
            Out::Dir(_) => unreachable!("only stream formats write lines"),
        }
    }

    fn write_delete(&mut self, id: &str) -> io::Result<()> {
        if self.deletes.is_none() {
            let path = self.deletes_path.as_deref().ok_or_else(|| {
                io::Error::other("a delete, and no deletes file (-o FILE or --deletes FILE)")
            })?;
            let w = JsonlWriter::append(Some(path))
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            self.deletes = Some(w);
        }
        let w = self.deletes.as_mut().expect("opened above");
        w.write_line(format!("{id}\n").as_bytes())?;
        // A delete is rare and must not wait for the end of the run.
        w.flush()
    }

    /// A publishing format: the record's file, or its removal.
    fn write_file(&mut self, dir: &Path, record: Record<'_>) -> io::Result<()> {
        let ext = if self.opts.format == Format::Html {
            "html"
        } else {
            "md"
        };
        let id = match record {
            Record::Doc(d) => &d.id,
            Record::Gone(t) => &t.id,
        };
        // Ids are hex; anything else must not name a path.
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(io::Error::other(format!(
                "record id {id:?} cannot name a file"
            )));
        }
        let path = dir.join(format!("{id}.{ext}"));
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        match record {
            Record::Doc(d) => {
                let text = match self.opts.format {
                    Format::Html => page::html(d),
                    _ => page::markdown(d),
                };
                let tmp = dir.join(format!(".{id}.{ext}.part"));
                std::fs::write(&tmp, text).map_err(named)?;
                std::fs::rename(&tmp, &path).map_err(named)?;
            }
            Record::Gone(_) => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(named(e)),
            },
        }
        self.written += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(d) = &mut self.deletes {
            d.flush()?;
        }
        match &mut self.out {
            Out::Stream(w) => w.flush(),
            Out::Dir(_) => Ok(()),
        }
    }

    /// Where the output file ends after the next flush (`None` for stdout
    /// and directories).
    pub fn offset(&self) -> Option<u64> {
        match &self.out {
            Out::Stream(w) => w.offset(),
            Out::Dir(_) => None,
        }
    }

    /// Records written (deletes included).
    pub fn written(&self) -> u64 {
        self.written
    }
}

fn json_line<T: serde::Serialize>(record: &T, out: &mut Vec<u8>) -> serde_json::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_refuse_what_cannot_work() {
        let o = |format, index: Option<&str>, deletes: Option<&str>| Options {
            format,
            index: index.map(str::to_string),
            deletes: deletes.map(PathBuf::from),
        };
        let out = Some(Path::new("out.ndjson"));
        assert_eq!(
            o(Format::EsBulk, Some("parks"), None).check(None, true),
            Ok(())
        );
        let e = o(Format::Meili, Some("parks"), None)
            .check(out, false)
            .unwrap_err();
        assert_eq!(
            e,
            "--index names the index of es-bulk actions, not of meili"
        );
        let e = o(Format::EsBulk, Some("Parks"), None)
            .check(out, false)
            .unwrap_err();
        assert_eq!(e, "--index Parks: must be lower case");
        let e = o(Format::EsBulk, Some("a/b"), None)
            .check(out, false)
            .unwrap_err();
        assert_eq!(e, "--index a/b: must not contain '/'");
        let e = o(Format::Markdown, None, None)
            .check(None, false)
            .unwrap_err();
        assert_eq!(
            e,
            "markdown writes a directory, one file per record: give -o DIR"
        );
        let e = o(Format::Jsonl, None, Some("d"))
            .check(out, false)
            .unwrap_err();
        assert_eq!(e, "--deletes is for typesense and meili, not jsonl");
        // Deletes need a file only when there can be deletes.
        assert_eq!(o(Format::Typesense, None, None).check(None, false), Ok(()));
        assert!(o(Format::Typesense, None, None).check(None, true).is_err());
        assert_eq!(o(Format::Typesense, None, None).check(out, true), Ok(()));
        assert_eq!(
            o(Format::Meili, None, None).deletes_path(out),
            Some(PathBuf::from("out.ndjson.deletes"))
        );
    }
}
