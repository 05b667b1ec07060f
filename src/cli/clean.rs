//! `parkcrawl clean [PATH…]`: saved pages → records. Every input gives a
//! record or one line on stderr naming it; the run goes on either way.

use std::io::Read;
use std::path::{Path, PathBuf};

use url::Url;

use super::{RuleArgs, report};
use crate::clean::{self, decode};
use crate::exit;
use crate::output::{JsonlWriter, is_broken_pipe};
use crate::rules::RuleSet;

/// Pages larger than this are refused unless `--max-size` says otherwise:
/// the crawler's body limit, so both commands accept the same pages.
pub const DEFAULT_MAX_SIZE: u64 = 10 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// Files, directories (searched for *.html, *.htm, *.shtml), or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The URL the single input was served at (for links, ids and rule matching).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The Content-Type header the single input was served with (its charset wins).
    #[arg(long, value_name = "VALUE")]
    pub content_type: Option<String>,
    /// Write records to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Largest page accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_SIZE)]
    pub max_size: u64,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// One input to read: a file or stdin.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Stdin => "-".into(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

pub fn run(args: CleanArgs) -> i32 {
    let rules = match RuleSet::load(args.rules.rules.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            report("rules", &e);
            return exit::CANNOT_START;
        }
    };
    let url = match args.url.as_deref().map(Url::parse).transpose() {
        Ok(u) => u,
        Err(e) => {
            report(&format!("--url {}", args.url.as_deref().unwrap_or("")), &e);
            return exit::CANNOT_START;
        }
    };

    let mut failed = 0usize;
    let mut sources = Vec::new();
    for p in &args.paths {
        match expand(p) {
            Ok(found) => sources.extend(found),
            Err(e) => {
                report(&p.display().to_string(), &e);
                failed += 1;
            }
        }
    }
    if (url.is_some() || args.content_type.is_some()) && sources.len() + failed > 1 {
        report(
            "--url/--content-type",
            &"describe a single input; give exactly one PATH",
        );
        return exit::CANNOT_START;
    }

    let mut out = match JsonlWriter::create(args.output.as_deref()) {
        Ok(w) => w,
        Err(e) => {
            report(
                &args
                    .output
                    .as_deref()
                    .unwrap_or(Path::new("-"))
                    .display()
                    .to_string(),
                &e,
            );
            return exit::CANNOT_START;
        }
    };

    for src in sources {
        let name = src.name();
        let result = read(&src, args.max_size).and_then(|bytes| {
            let file_url = match &src {
                Source::File(p) => std::path::absolute(p)
                    .ok()
                    .and_then(|a| Url::from_file_path(a).ok()),
                Source::Stdin => None,
            };
            let input = decode::Input {
                name: name.clone(),
                bytes,
                url: url.clone().or(file_url),
                content_type: args.content_type.clone(),
                fetch: None,
            };
            let decoded = decode::decode(input).map_err(|e| e.to_string())?;
            clean::clean(&decoded, &rules).map_err(|e| e.to_string())
        });
        match result {
            Ok(doc) => {
                if let Err(e) = out.write(&doc) {
                    if is_broken_pipe(&e) {
                        return exit::OK;
                    }
                    report("output", &e);
                    return exit::CANNOT_START;
                }
            }
            Err(e) => {
                report(&name, &e);
                failed += 1;
            }
        }
    }
    if let Err(e) = out.flush()
        && !is_broken_pipe(&e)
    {
        report("output", &e);
        return exit::CANNOT_START;
    }
    if failed > 0 {
        eprintln!(
            "parkcrawl: {} record(s) written, {failed} input(s) failed",
            out.written()
        );
        exit::SOME_FAILED
    } else {
        exit::OK
    }
}

/// A path → the inputs it names: itself, or the HTML files under a directory
/// (sorted, so output order is stable).
pub fn expand(path: &Path) -> Result<Vec<Source>, String> {
    if path.as_os_str() == "-" {
        return Ok(vec![Source::Stdin]);
    }
    let meta = std::fs::metadata(path).map_err(|e| io_msg(&e))?;
    if !meta.is_dir() {
        return Ok(vec![Source::File(path.to_path_buf())]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = entry.map_err(|e| e.to_string())?;
        let is_html = entry.file_type().is_file()
            && entry
                .path()
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| {
                    matches!(x.to_ascii_lowercase().as_str(), "html" | "htm" | "shtml")
                });
        if is_html {
            files.push(Source::File(entry.into_path()));
        }
    }
    if files.is_empty() {
        return Err("no HTML files (*.html, *.htm, *.shtml) in this directory".into());
    }
    Ok(files)
}

/// Reads a whole input, refusing more than `max` bytes without reading them.
fn read(src: &Source, max: u64) -> Result<Vec<u8>, String> {
    let too_large = |n: u64| format!("too large ({n} bytes; the limit is {max}, see --max-size)");
    let mut buf = Vec::new();
    match src {
        Source::Stdin => {
            std::io::stdin()
                .lock()
                .take(max + 1)
                .read_to_end(&mut buf)
                .map_err(|e| io_msg(&e))?;
        }
        Source::File(p) => {
            let f = std::fs::File::open(p).map_err(|e| io_msg(&e))?;
            let len = f.metadata().map_err(|e| io_msg(&e))?.len();
            if len > max {
                return Err(too_large(len));
            }
            f.take(max + 1)
                .read_to_end(&mut buf)
                .map_err(|e| io_msg(&e))?;
        }
    }
    if buf.len() as u64 > max {
        return Err(too_large(buf.len() as u64));
    }
    Ok(buf)
}

/// An I/O error without Rust's "(os error 2)" suffix.
fn io_msg(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
