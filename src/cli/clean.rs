//! `parkcrawl clean [PATH…]`: saved pages and WARCs → records, cleaned on
//! every core, written in input order. Every input gives a record or one line
//! on stderr naming it; the run goes on either way.
//!
//! With several pages (several paths, a directory, a WARC) the run has two
//! passes, for cross-page boilerplate (`crate::repeated`):
//!
//! 1. every page is cleaned as with one input, its record line goes to a
//!    spill file (`crate::spill`) and its blocks to the per-host statistics;
//!    errors are reported as they come;
//! 2. the spill file is read back in order: a record of a host with enough
//!    pages that holds a repeated block is rewritten without it; every other
//!    line is copied byte for byte. Only now is anything written.
//!
//! One input (a file, stdin) has no host statistics to speak of: it is
//! written at once, as is every record with `--keep-repeated`.

use std::io::Read;
use std::path::{Path, PathBuf};

use url::Url;

use super::log::Verbosity;
use super::units::Size;
use super::{FormatArgs, RuleArgs, report};
use crate::bulk::{self, Flow};
use crate::clean::decode::FetchMeta;
use crate::clean::{self, decode};
use crate::document::{Document, Origin};
use crate::exit;
use crate::format::RecordWriter;
use crate::isolate;
use crate::output::{is_broken_pipe, line_of};
use crate::repeated::{self, Removed, RepeatedConfig, Stats};
use crate::rules::RuleSet;
use crate::spill::{self, SpillWriter, Spilled};
use crate::warc::{self, WarcError, WarcReader};

/// Pages larger than this are refused unless `--max-size` says otherwise:
/// the crawler's body limit, so both commands accept the same pages.
pub const DEFAULT_MAX_SIZE: u64 = 10 * 1024 * 1024;

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct CleanArgs {
    /// Files, directories (searched for *.html, *.htm, *.shtml), or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The URL the single input was served at (for links, ids and rule matching).
    #[arg(long, value_name = "URL", conflicts_with = "base_url")]
    pub url: Option<String>,
    /// The site a directory of saved pages mirrors: DIR/news/a.html is
    /// URL/news/a.html (a file named alone: URL/its-name), so records get
    /// the ids a crawl of the site gives, and a site rule by host.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The Content-Type header the single input was served with (its charset wins).
    #[arg(long, value_name = "VALUE")]
    pub content_type: Option<String>,
    /// Write records to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Pages cleaned at once (default: one per core). Output stays in input order.
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Largest page accepted: bytes, or 512k, 10MiB.
    #[arg(long, value_name = "SIZE", default_value = "10MiB")]
    pub max_size: Size,
    /// Keep blocks that recur on most pages of a host (`repeated-block`),
    /// and write records as pages finish, in one pass.
    #[arg(long)]
    pub keep_repeated: bool,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// One input to read: a file, stdin, or a WARC of many pages.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Stdin,
    File(PathBuf),
    Warc(PathBuf),
}

/// One unit of work for the cleaning threads: a page, or an input that could
/// not be read (reported in its place in the output order).
// A page is most jobs, and at most `4 × jobs` are in flight: boxing it
// would cost an allocation per page to shrink the rare failure.
#[allow(clippy::large_enum_variant)]
pub enum Job {
    /// A page, and where it was read from (the record's `input`).
    Page(decode::Input, Origin),
    Failed {
        name: String,
        error: String,
    },
}

/// Turns sources into jobs, lazily: a WARC is read record by record as the
/// workers ask for more.
struct Reader<'a> {
    url: Option<Url>,
    content_type: Option<String>,
    max_size: u64,
    skipped: &'a std::sync::atomic::AtomicU64,
}

impl<'a> Reader<'a> {
    /// `at`: the URL `--base-url` maps this input to.
    fn jobs(&self, src: Source, at: Option<Url>) -> Box<dyn Iterator<Item = Job> + Send + 'a> {
        let name = src.name();
        if let Source::Warc(path) = &src {
            return match std::fs::File::open(path).and_then(|f| WarcReader::new(f, self.max_size)) {
                Ok(r) => Box::new(warc_jobs(name, r, self.skipped)),
                Err(e) => Box::new(std::iter::once(Job::Failed {
                    name,
                    error: io_msg(&e),
                })),
            };
        }
        let job = match read(&src, self.max_size) {
            Ok(bytes) => {
                let file_url = match &src {
                    Source::File(p) => std::path::absolute(p)
                        .ok()
                        .and_then(|a| Url::from_file_path(a).ok()),
                    _ => None,
                };
                Job::Page(
                    decode::Input {
                        name: name.clone(),
                        bytes,
                        url: at.or_else(|| self.url.clone()).or(file_url),
                        content_type: self.content_type.clone(),
                        fetch: None,
                    },
                    Origin::File { file: name },
                )
            }
            Err(error) => Job::Failed { name, error },
        };
        Box::new(std::iter::once(job))
    }
}

/// The HTML responses of a WARC as jobs. A record over the size limit is
/// reported and skipped; a broken or truncated record ends the file (what
/// follows cannot be found).
fn warc_jobs<'a>(
    file: String,
    mut reader: WarcReader,
    skipped: &'a std::sync::atomic::AtomicU64,
) -> impl Iterator<Item = Job> + Send + 'a {
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            let rec = match reader.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => return None,
                Err(e @ WarcError::TooLarge { .. }) => {
                    return Some(Job::Failed {
                        name: file.clone(),
                        error: e.to_string(),
                    });
                }
                Err(e) => {
                    done = true;
                    return Some(Job::Failed {
                        name: file.clone(),
                        error: e.to_string(),
                    });
                }
            };
            if rec.warc_type != "response" {
                continue;
            }
            let uri = rec.target_uri.clone().unwrap_or_default();
            let name = format!("{file} at offset {} {uri}", rec.offset);
            let http = match warc::parse_http(&rec.block) {
                Ok(h) => h,
                Err(error) => return Some(Job::Failed { name, error }),
            };
            let content_type = http.header("Content-Type").map(str::to_string);
            let html = match &content_type {
                Some(ct) => ct.to_ascii_lowercase().contains("html"),
                None => {
                    let head = String::from_utf8_lossy(&http.body[..http.body.len().min(512)])
                        .to_ascii_lowercase();
                    head.contains("<html") || head.contains("<!doctype html")
                }
            };
            if !html || !(200..300).contains(&http.status) {
                skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            let url = match Url::parse(&uri) {
                Ok(u) => u,
                Err(e) => {
                    return Some(Job::Failed {
                        name,
                        error: format!("bad WARC-Target-URI: {e}"),
                    });
                }
            };
            let fetch = FetchMeta {
                status: Some(http.status),
                fetched_at: rec.header("WARC-Date").map(str::to_string),
                etag: http.header("ETag").map(str::to_string),
                last_modified: http.header("Last-Modified").map(str::to_string),
            };
            let origin = Origin::Warc {
                warc: file.clone(),
                offset: rec.offset,
            };
            return Some(Job::Page(
                decode::Input {
                    name,
                    bytes: http.body,
                    url: Some(url),
                    content_type,
                    fetch: Some(fetch),
                },
                origin,
            ));
        }
        None
    })
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Stdin => "-".into(),
            Source::File(p) | Source::Warc(p) => p.display().to_string(),
        }
    }
}

/// stderr while pages are cleaned: a progress bar on a terminal (lines
/// print above it), nothing per page with `-q`.
struct Say {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Say {
    fn new(v: Verbosity, inputs: usize) -> Say {
        use std::io::IsTerminal;
        let bar = (!v.quiet() && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(inputs as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {pos} pages, {msg} {per_sec}",
                )
                .expect("static template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Say {
            bar,
            quiet: v.quiet(),
        }
    }

    /// One input's error line.
    fn error(&self, name: &str, e: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(b) => b.suspend(|| report(name, &e)),
            None => report(name, &e),
        }
    }

    fn done(&self, failed: usize) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(format!("{failed} failed"));
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

pub fn run(args: CleanArgs, verbosity: Verbosity) -> i32 {
    let plan = match Plan::of(&args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let opts = args.format.options();
    if let Err(e) = opts.check(args.output.as_deref(), false) {
        report("--format", &e);
        return exit::CANNOT_START;
    }
    let mut out = match RecordWriter::create(opts, args.output.as_deref()) {
        Ok(w) => w,
        Err(e) => {
            let path = args.output.as_deref().unwrap_or(Path::new("-"));
            report(&path.display().to_string(), &e);
            return exit::CANNOT_START;
        }
    };
    // Pass 1 goes to a spill file when there are pages enough to compare.
    let spill = if plan.several() && !args.keep_repeated {
        match SpillWriter::create(args.output.as_deref()) {
            Ok(s) => Some(s),
            Err(e) => {
                report("spill file", &e);
                return exit::CANNOT_START;
            }
        }
    } else {
        None
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let skipped = std::sync::atomic::AtomicU64::new(0);
    let reader = Reader {
        url: plan.url.clone(),
        content_type: args.content_type.clone(),
        max_size: args.max_size.0,
        skipped: &skipped,
    };
    let say = Say::new(verbosity, plan.sources.len());
    let pass1 = first_pass(&plan, &reader, jobs, spill, &mut out, &say);
    say.finish();
    conclude(pass1, plan.failed, skipped.into_inner(), out)
}

/// The inputs of a run, checked before anything is written.
struct Plan {
    rules: RuleSet,
    url: Option<Url>,
    sources: Vec<Source>,
    /// With `--base-url`: the URL of each source (`None` for stdin and
    /// WARCs, which name their own).
    urls: Vec<Option<Url>>,
    /// Paths that named nothing readable (each already reported).
    failed: usize,
}

impl Plan {
    /// The rules, `--url` and the inputs the paths name; `Err` is the exit
    /// code of a run refused (the reason already on stderr).
    fn of(args: &CleanArgs) -> Result<Plan, i32> {
        let rules = RuleSet::load(args.rules.rules.as_deref()).map_err(|e| {
            report("rules", &e);
            exit::CANNOT_START
        })?;
        let url = args
            .url
            .as_deref()
            .map(Url::parse)
            .transpose()
            .map_err(|e| {
                report(&format!("--url {}", args.url.as_deref().unwrap_or("")), &e);
                exit::CANNOT_START
            })?;
        let base = args
            .base_url
            .as_deref()
            .map(base_url)
            .transpose()
            .map_err(|e| {
                report("--base-url", &e);
                exit::CANNOT_START
            })?;
        let mut failed = 0usize;
        let mut sources = Vec::new();
        let mut urls = Vec::new();
        for p in &args.paths {
            match expand(p) {
                Ok(found) => {
                    urls.extend(
                        found
                            .iter()
                            .map(|s| base.as_ref().and_then(|b| mapped(b, p, s))),
                    );
                    sources.extend(found);
                }
                Err(e) => {
                    report(&p.display().to_string(), &e);
                    failed += 1;
                }
            }
        }
        let described = url.is_some() || args.content_type.is_some();
        if described && sources.len() + failed > 1 {
            report(
                "--url/--content-type",
                &"describe a single input; give exactly one PATH",
            );
            return Err(exit::CANNOT_START);
        }
        if described && sources.iter().any(|s| matches!(s, Source::Warc(_))) {
            report(
                "--url/--content-type",
                &"a WARC names its own URLs and headers",
            );
            return Err(exit::CANNOT_START);
        }
        Ok(Plan {
            rules,
            url,
            sources,
            urls,
            failed,
        })
    }

    /// Several pages: enough to compare for repeated blocks.
    fn several(&self) -> bool {
        self.sources.len() > 1 || self.sources.iter().any(|s| matches!(s, Source::Warc(_)))
    }
}

/// What pass 1 leaves: the pages that failed, the spill file (with the
/// block statistics) for pass 2, and why it stopped early, if it did.
struct Pass1 {
    failed: usize,
    spill: Option<SpillWriter>,
    stats: Stats,
    /// The output failed: its reader went away (`| head`), or a write error.
    out_error: Option<std::io::Error>,
    spill_error: Option<std::io::Error>,
}

/// Pass 1: every page cleaned on `jobs` threads, in input order, to the
/// spill file (observing its blocks) or straight to the output.
fn first_pass(
    plan: &Plan,
    reader: &Reader,
    jobs: usize,
    mut spill: Option<SpillWriter>,
    out: &mut RecordWriter,
    say: &Say,
) -> Pass1 {
    let keyed = spill.is_some();
    let rules = &plan.rules;
    let mut stats = Stats::new(RepeatedConfig::default());
    let mut failed = 0usize;
    let mut out_error = None;
    let mut spill_error = None;
    bulk::ordered(
        plan.sources
            .iter()
            .zip(&plan.urls)
            .flat_map(|(s, u)| reader.jobs(s.clone(), u.clone())),
        jobs,
        jobs * 4,
        |job| clean_job(job, rules, keyed),
        |done| match (named(done), &mut spill) {
            (Ok(c), Some(spill)) => {
                say.done(failed);
                if let Some(host) = &c.host {
                    stats.observe(host, &repeated::distinct(&c.blocks));
                }
                match spill.push(&c) {
                    Ok(()) => Flow::Continue,
                    Err(e) => {
                        spill_error = Some(e);
                        Flow::Stop
                    }
                }
            }
            (Ok(c), None) => match out.write_line(&c.line) {
                Ok(()) => {
                    say.done(failed);
                    Flow::Continue
                }
                Err(e) => {
                    out_error = Some(e);
                    Flow::Stop
                }
            },
            (Err((name, e)), _) => {
                say.error(&name, &e);
                failed += 1;
                say.done(failed);
                Flow::Continue
            }
        },
    );
    Pass1 {
        failed,
        spill,
        stats,
        out_error,
        spill_error,
    }
}

/// One job on a cleaning thread: decode, clean, serialise. A page's panic
/// is its own error line; the run goes on.
fn clean_job(job: Job, rules: &RuleSet, keyed: bool) -> (String, Result<Spilled, String>) {
    match job {
        Job::Page(input, origin) => {
            let name = input.name.clone();
            let result = isolate::page(|| {
                decode::decode(input)
                    .map_err(|e| e.to_string())
                    .and_then(|d| clean::clean(&d, rules).map_err(|e| e.to_string()))
                    .map(|doc| Document {
                        input: Some(origin),
                        ..doc
                    })
                    .and_then(|doc| spilled(&doc, keyed).map_err(|e| e.to_string()))
            })
            .unwrap_or_else(|p| Err(p.to_string()));
            (name, result)
        }
        Job::Failed { name, error } => (name, Err(error)),
    }
}

/// Pass 2 when there is one, then the summary lines and the exit code.
fn conclude(pass1: Pass1, failed_paths: usize, skipped: u64, mut out: RecordWriter) -> i32 {
    if let Some(e) = pass1.spill_error {
        report("spill file", &e);
        return exit::CANNOT_START;
    }
    let mut out_error = pass1.out_error;
    let mut removed = Removed::default();
    if let Some(spill) = pass1.spill {
        match second_pass(spill, &pass1.stats, &mut removed, &mut out) {
            Ok(()) => {}
            Err(Pass2Error::Output(e)) => out_error = Some(e),
            Err(Pass2Error::Spill(e)) => {
                report("spill file", &e);
                return exit::CANNOT_START;
            }
        }
    }
    if let Some(e) = out_error {
        if is_broken_pipe(&e) {
            // The reader of our output went away (`| head`): a quiet end.
            return exit::OK;
        }
        report("output", &e);
        return exit::CANNOT_START;
    }
    if let Some(line) = removed.summary() {
        eprintln!("{line}");
    }
    if let Err(e) = out.flush()
        && !is_broken_pipe(&e)
    {
        report("output", &e);
        return exit::CANNOT_START;
    }
    let failed = failed_paths + pass1.failed;
    // The summary, always (a script reads the last stderr line).
    let mut line = format!(
        "parkcrawl: done: {} record(s) written, {failed} input(s) failed",
        out.written()
    );
    if skipped > 0 {
        line.push_str(&format!(
            ", {skipped} WARC record(s) skipped (not HTML responses)"
        ));
    }
    eprintln!("{line}");
    if failed > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    }
}

/// `--base-url`: an http(s) URL with a host, as a directory (a trailing `/`
/// added), so that joining a relative path keeps its last segment.
fn base_url(s: &str) -> Result<Url, String> {
    let mut u = Url::parse(s).map_err(|e| format!("{s}: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(format!("{s}: not an http(s) URL"));
    }
    if !u.path().ends_with('/') {
        u.set_path(&format!("{}/", u.path()));
    }
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

/// Where `--base-url` puts a saved file: its path under the directory
/// given (`DIR/news/a.html` → `BASE/news/a.html`), or its name when the file
/// was given itself. Stdin and WARCs have no place (`None`).
fn mapped(base: &Url, given: &Path, src: &Source) -> Option<Url> {
    let Source::File(file) = src else {
        return None;
    };
    let rel = match file.strip_prefix(given) {
        Ok(r) if !r.as_os_str().is_empty() => r,
        _ => Path::new(file.file_name()?),
    };
    let segments: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut url = base.clone();
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(&segments);
    Some(url)
}

/// A page's outcome with its input's name on the error side. The work
/// itself catches a page's panic (naming the page); a panic outside it is
/// named by the input's place.
fn named(
    done: Result<(String, Result<Spilled, String>), bulk::Lost>,
) -> Result<Spilled, (String, String)> {
    match done {
        Ok((_, Ok(c))) => Ok(c),
        Ok((name, Err(e))) => Err((name, e)),
        Err(lost) => Err((format!("input #{}", lost.seq + 1), lost.panic.to_string())),
    }
}

/// A page's record as the cleaning threads hand it to the writer: its line,
/// and for pass 1 (`keyed`) what the spill frame says of it, its block keys
/// hashed here, on every core.
fn spilled(doc: &crate::document::Document, keyed: bool) -> std::io::Result<Spilled> {
    Ok(Spilled {
        host: doc.site.host.clone(),
        blocks: if keyed {
            repeated::block_keys(&doc.blocks)
        } else {
            Vec::new()
        },
        more_content: !doc.items.is_empty() || !doc.fields.is_empty(),
        line: line_of(doc)?,
    })
}

enum Pass2Error {
    /// Writing the output failed (or its reader went away).
    Output(std::io::Error),
    /// Reading the spill file back failed.
    Spill(std::io::Error),
}

/// Pass 2: the spilled records, in order, to the output; those with
/// repeated blocks rewritten ([`spill::rewrite`]), the others byte for byte.
fn second_pass(
    spill: SpillWriter,
    stats: &Stats,
    removed: &mut Removed,
    out: &mut RecordWriter,
) -> Result<(), Pass2Error> {
    let mut input = spill.into_reader().map_err(Pass2Error::Spill)?;
    let mut rec = Spilled::default();
    while input.next_into(&mut rec).map_err(Pass2Error::Spill)? {
        let line = spill::rewrite(&rec, stats, removed).map_err(Pass2Error::Spill)?;
        out.write_line(line.as_deref().unwrap_or(&rec.line))
            .map_err(Pass2Error::Output)?;
    }
    Ok(())
}

/// A path → the inputs it names: itself, or the HTML files under a directory
/// (sorted, so output order is stable).
pub fn expand(path: &Path) -> Result<Vec<Source>, String> {
    if path.as_os_str() == "-" {
        return Ok(vec![Source::Stdin]);
    }
    let meta = std::fs::metadata(path).map_err(|e| io_msg(&e))?;
    if !meta.is_dir() {
        let lower = path.to_string_lossy().to_ascii_lowercase();
        if lower.ends_with(".warc") || lower.ends_with(".warc.gz") {
            return Ok(vec![Source::Warc(path.to_path_buf())]);
        }
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
        Source::File(p) | Source::Warc(p) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_maps_a_directory_onto_the_site() {
        let base = base_url("http://a.test/mirror?x=1").unwrap();
        assert_eq!(base.as_str(), "http://a.test/mirror/");
        let dir = Path::new("/saved/site");
        let at = |file: &str, given: &Path| {
            mapped(&base, given, &Source::File(PathBuf::from(file))).map(|u| u.to_string())
        };
        assert_eq!(
            at("/saved/site/news/a.html", dir).as_deref(),
            Some("http://a.test/mirror/news/a.html")
        );
        // A file given alone: its name under the base; odd names encoded.
        let one = Path::new("/saved/site/园区 新闻.html");
        assert_eq!(
            at("/saved/site/园区 新闻.html", one).as_deref(),
            Some("http://a.test/mirror/%E5%9B%AD%E5%8C%BA%20%E6%96%B0%E9%97%BB.html")
        );
        assert_eq!(mapped(&base, dir, &Source::Stdin), None);
        assert!(base_url("ftp://a.test/").is_err());
        assert!(base_url("not a url").is_err());
    }
}
