//! `parkcrawl crawl [URL…]`: a polite crawl that streams records. Builds the
//! fetch and crawl configs from the flags, the job file and the site rules
//! (precedence: defaults < job file < site rule < flag; `crawl/settings.rs`),
//! opens the crawl state when there is one, runs the crawl, maps the outcome
//! to an exit code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;
use url::Url;

use super::log::Verbosity;
use super::units::{Seconds, Size};
use super::{FormatArgs, job, report};
use crate::crawl::canon::shown;
use crate::crawl::frontier::{Frontier, FrontierError, MemoryFrontier};
use crate::crawl::report::{Progress, Summary};
use crate::crawl::sink::{Ledger, Written};
use crate::crawl::{CrawlConfig, Crawler, Stop, shutdown, sink};
use crate::exit;
use crate::fetch::{FetchConfig, Fetcher, MAX_URL_LEN, now_rfc3339};
use crate::format::{Options, RecordWriter};
use crate::output::JsonlWriter;
use crate::repeated::{RepeatedConfig, Stats};
use crate::rules::RuleSet;
use crate::store::{LastRun, RunStart, SharedStore, StateStore, StoreError, cut_partial_line};
use crate::warc::WarcWriter;

mod fleet;
mod outputs;
mod settings;
use fleet::{Fleet, FleetRun};
use outputs::{Outputs, begin, open_state, repeated_stats};
use settings::{Checked, crawl_config, fetch_config};

/// What `--emit` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emit {
    /// Records of new and changed pages only (and tombstones of pages gone).
    Changed,
    /// A record of every page fetched, changed or not; no conditional requests.
    All,
}

/// The flags of `crawl`. Every one may also be a key of a `--config` job
/// file (see `job.rs`), so none has a clap default: the defaults are
/// applied after the flags and the file are merged, in [`prepare`].
#[derive(Debug, Default, clap::Args, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
// `--rate -1` reaches the check that says what is wrong with it, instead of
// clap's tip to pass `-- -1` (which would make it a URL).
#[command(allow_negative_numbers = true)]
pub struct CrawlArgs {
    /// Pages to start from. Without any (and without --sitemap): the seeds of
    /// every site rule.
    #[arg(value_name = "URL")]
    #[serde(rename = "seeds")]
    pub urls: Vec<String>,
    /// A sitemap or sitemap index to read for pages (repeatable).
    #[arg(long = "sitemap", value_name = "URL")]
    pub sitemaps: Vec<String>,
    /// Requests per second per host [default: the site rule's rate, else 1].
    /// 0 means no limit: only for servers you own.
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// Requests in flight at once, over all hosts [default: 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Connections and requests in flight per host [default: the site
    /// rule's per_host, else 1]. The rate, Crawl-delay and Retry-After
    /// still bind the host as a whole.
    #[arg(long, value_name = "N")]
    pub per_host: Option<usize>,
    /// Stop after this many page fetches.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,
    /// Follow links at most N steps from a seed (0: the seeds only).
    #[arg(long, value_name = "N")]
    pub max_depth: Option<u32>,
    /// The User-Agent header; its first word is the robots.txt product token
    /// [default: parkcrawl/VERSION (+URL)].
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// Write records to FILE instead of stdout (with --state: appended to).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write failed and skipped pages to FILE as JSON Lines (url,
    /// error_kind, status, message, at; the kinds are listed in the README).
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// Archive every fetched page as WARC/1.1 request + response records
    /// (gzip per record when FILE ends in .gz).
    #[arg(long, value_name = "FILE")]
    pub warc: Option<PathBuf>,
    /// Whole-request timeout: seconds, or 500ms, 30s, 2m [default: 30s].
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub timeout: Option<Seconds>,
    /// Connect timeout: seconds, or 500ms, 30s, 2m [default: 10s].
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub connect_timeout: Option<Seconds>,
    /// Largest page body accepted after decompression: bytes, or 512k,
    /// 10MiB [default: 10MiB].
    #[arg(long, value_name = "SIZE")]
    pub max_body: Option<Size>,
    /// Redirects followed per page [default: 10].
    #[arg(long, value_name = "N")]
    pub max_redirects: Option<usize>,
    /// Further attempts after a transient failure (connect, timeout,
    /// truncated, 408, 429, 5xx) [default: 3].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Follow links into private, loopback and link-local addresses too.
    #[arg(long)]
    pub allow_private: bool,
    /// Connect to HOST at IP:PORT instead of resolving it (repeatable).
    #[arg(long, value_name = "HOST:IP:PORT")]
    pub resolve: Vec<String>,
    /// Do not read the sitemaps named in robots.txt.
    #[arg(long)]
    pub no_robots_sitemaps: bool,
    /// Fetch at most N sitemaps per host in this run; sitemap indexes are
    /// followed 3 levels deep [default: 100].
    #[arg(long, value_name = "N")]
    pub max_sitemaps: Option<usize>,
    /// Directory of extra site rules (`*.toml`); a rule with a built-in id replaces it.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Keep the crawl's state in this SQLite file: a killed run resumes
    /// where it stopped; a rerun of a complete crawl revisits pages
    /// incrementally (see --recrawl-after). Or postgres://USER@HOST:PORT/DB:
    /// a crawl job shared by any number of workers, its records in the
    /// database (`parkcrawl export` writes them out).
    #[arg(long, value_name = "FILE|URL")]
    pub state: Option<PathBuf>,
    /// With a PostgreSQL state: this worker's name in logs and status
    /// [default: HOSTNAME:PID].
    #[arg(long, value_name = "NAME")]
    pub worker: Option<String>,
    /// With a PostgreSQL state: how long a host stays leased to this worker
    /// without a heartbeat (renewed every third of it); a killed worker's
    /// hosts go to the others after it [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub lease: Option<Seconds>,
    /// With --state: on a rerun of a complete crawl, fetch again (with
    /// conditional requests) the pages last fetched this long ago or more:
    /// 0s, 30m, 12h, 1d… [default: 1d].
    #[arg(long, value_name = "DURATION")]
    pub recrawl_after: Option<String>,
    /// With --state: `changed` writes records of new and changed pages only,
    /// and tombstones of pages gone; `all` writes every page fetched
    /// [default: changed].
    #[arg(long, value_name = "WHAT")]
    pub emit: Option<Emit>,
    /// Keep blocks that recur on most pages of a host (`repeated-block`),
    /// and write every record as its page finishes (none held back).
    #[arg(long)]
    pub keep_repeated: bool,
    /// Follow only links whose whole URL matches REGEX, on top of the site
    /// rules' patterns (repeatable: any one may match).
    #[arg(long, value_name = "REGEX")]
    pub follow: Vec<String>,
    /// Never follow a link or redirect whose whole URL matches REGEX
    /// (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub avoid: Vec<String>,
    /// Write the run's statistics to FILE as one JSON object at the end.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// A job file (TOML) holding any of these flags; flags given here win.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// `--format`, `--index`, `--deletes` (a job file's lines of these keys
    /// are read apart: `job::load`).
    #[command(flatten)]
    #[serde(skip)]
    pub format: FormatArgs,
}

fn parse_resolve(s: &str) -> Result<(String, SocketAddr), String> {
    let (host, addr) = s
        .split_once(':')
        .ok_or_else(|| "expected HOST:IP:PORT".to_string())?;
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("expected HOST:IP:PORT, {addr:?} is not IP:PORT"))?;
    if host.is_empty() {
        return Err("expected HOST:IP:PORT, the host is empty".into());
    }
    Ok((crate::fetch::origin::normal_host(host), addr))
}

pub fn run(args: CrawlArgs, verbosity: Verbosity) -> i32 {
    match prepare(args) {
        Ok(p) => execute(p, verbosity),
        Err(e) => {
            eprintln!("parkcrawl: {}", e.message);
            e.code
        }
    }
}

/// Why the crawl did not start: one line, and the exit code.
struct Refused {
    message: String,
    code: i32,
}

impl Refused {
    fn new(what: impl std::fmt::Display, msg: impl std::fmt::Display) -> Refused {
        Refused {
            message: format!("{what}: {msg}"),
            code: exit::CANNOT_START,
        }
    }
}

/// The crawl state of this run: the store (frontier and writer's ledger)
/// and how the run began.
struct StateRun {
    store: SharedStore,
    start: RunStart,
}

/// A run ready to start: the fetcher's settings and the rest.
struct Prepared {
    fetch: FetchConfig,
    run: Run,
    stats: Option<StatsFile>,
}

/// What the crawl and its writer start from.
struct Run {
    crawl: CrawlConfig,
    rules: Arc<RuleSet>,
    records: RecordWriter,
    errors: Option<JsonlWriter>,
    archive: Option<sink::Archive>,
    state: Option<StateRun>,
    /// A PostgreSQL state: opened once the runtime runs (`fleet.rs`).
    fleet: Option<Fleet>,
    /// The block statistics to start from (with `--state`, those of earlier
    /// runs); `None` with `--keep-repeated`.
    repeated: Option<Stats>,
}

/// Everything that can refuse to start, before any request: the flags
/// (over the job file) → checked settings → the fetch and crawl configs →
/// the state and the opened outputs (ripgrep's `LowArgs` → `HiArgs`).
fn prepare(args: CrawlArgs) -> Result<Prepared, Refused> {
    let args = with_job(args)?;
    let fleet = Fleet::of(&args)?;
    let rules =
        Arc::new(RuleSet::load(args.rules.as_deref()).map_err(|e| Refused::new("rules", e))?);
    let (seeds, sitemaps) = starts(&args, &rules)?;
    let checked = Checked::of(&args)?;
    let fetch = fetch_config(&args, &checked, &rules, &seeds, &sitemaps);
    let mut crawl = crawl_config(&args, &checked, seeds, sitemaps);
    // The state comes before any output file is touched: a second run on a
    // locked state must leave the first run's files alone.
    let opts = args.format.options();
    opts.check(args.output.as_deref(), args.state.is_some())
        .map_err(|m| Refused::new("--format", m))?;
    // A directory of pages has no tail to repair: its files are whole.
    let stream = args.output.as_deref().filter(|_| !opts.format.is_dir());
    let store = match &args.state {
        Some(path) if fleet.is_none() => Some(open_state(path, stream)?),
        _ => None,
    };
    let outputs = Outputs::open(&args, opts, store.is_some() || fleet.is_some())?;
    let stats = args.stats.as_deref().map(StatsFile::create).transpose()?;
    crawl.archive = outputs.archive.is_some();
    // Last, so that a run refused above is not recorded as one that started.
    let state = match (store, &args.state) {
        (Some(store), Some(path)) => Some(begin(store, path, checked.recrawl_after)?),
        _ => None,
    };
    let repeated = repeated_stats(args.keep_repeated, state.as_ref())?;
    let run = Run {
        crawl,
        rules,
        records: outputs.records,
        errors: outputs.errors,
        archive: outputs.archive,
        state,
        fleet: fleet.map(|f| f.with(checked.recrawl_after)),
        repeated,
    };
    Ok(Prepared { fetch, run, stats })
}

/// The flags over the `--config` job file, when there is one.
fn with_job(args: CrawlArgs) -> Result<CrawlArgs, Refused> {
    match &args.config {
        Some(path) => {
            let file = job::load(path).map_err(|m| Refused {
                message: m,
                code: exit::CANNOT_START,
            })?;
            Ok(job::merge(args, file))
        }
        None => Ok(args),
    }
}

/// A seed or sitemap URL given by the user: http(s), with a host, not
/// longer than the crawler fetches.
fn start_url(s: &String) -> Result<Url, Refused> {
    if s.len() > MAX_URL_LEN {
        let msg = format!("URL of {} bytes, longer than {MAX_URL_LEN}", s.len());
        return Err(Refused::new(shown(s), msg));
    }
    let u = Url::parse(s).map_err(|e| Refused::new(s, e))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(Refused::new(s, "not an http(s) URL"));
    }
    Ok(u)
}

/// Where the crawl starts: the URLs and sitemaps given, else the seeds of
/// every site rule; none at all refuses the run.
fn starts(args: &CrawlArgs, rules: &RuleSet) -> Result<(Vec<Url>, Vec<Url>), Refused> {
    let mut seeds: Vec<Url> = args.urls.iter().map(start_url).collect::<Result<_, _>>()?;
    let sitemaps: Vec<Url> = args
        .sitemaps
        .iter()
        .map(start_url)
        .collect::<Result<_, _>>()?;
    if seeds.is_empty() && sitemaps.is_empty() {
        seeds = rules
            .sites
            .iter()
            .flat_map(|r| r.crawl.seeds.iter().cloned())
            .collect();
    }
    if seeds.is_empty() && sitemaps.is_empty() {
        return Err(Refused::new(
            "crawl",
            "no seeds: give URLs, --sitemap, or rules with crawl.seeds",
        ));
    }
    Ok((seeds, sitemaps))
}

/// What the crawl and the writer gave back, once both have ended.
struct Ended {
    result: Result<Summary, FrontierError>,
    written: Option<std::io::Result<Written>>,
}

fn execute(mut p: Prepared, verbosity: Verbosity) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            report("tokio runtime", &e);
            return exit::CANNOT_START;
        }
    };
    let fleet = match p.run.fleet.take() {
        Some(f) => match runtime.block_on(f.open(&mut p.run.repeated)) {
            Ok(run) => Some(run),
            Err(e) => {
                report("crawl", &e);
                return exit::CANNOT_START;
            }
        },
        None => None,
    };
    if let Some(f) = &fleet {
        f.pace(&mut p.fetch);
    }
    let fetcher = match Fetcher::new(p.fetch) {
        Ok(f) => Arc::new(f),
        Err(e) => {
            report("HTTP client", &e);
            return exit::CANNOT_START;
        }
    };
    let mut progress = if verbosity.quiet() {
        Progress::quiet()
    } else {
        Progress::new(true)
    };
    if let Some(f) = &fleet {
        progress = progress.for_worker(f.worker.name());
    }
    let progress = Arc::new(progress);
    let state = p.run.state.as_ref().map(|s| s.store.clone());
    let ended = runtime.block_on(crawl_and_write(
        p.run,
        fetcher,
        progress.clone(),
        fleet.as_ref(),
    ));
    if let Some(f) = &fleet
        && let Err(e) = runtime.block_on(f.worker.finish())
    {
        report("crawl", &e);
    }
    // Tasks still blocked (a clean in progress) are not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    progress.finish();
    let code = conclude(ended, state.as_ref(), p.stats, progress.prefix());
    match &fleet {
        Some(f) => f.conclude(code, &progress),
        None => code,
    }
}

/// The crawl and its writer, run to their end.
async fn crawl_and_write(
    p: Run,
    fetcher: Arc<Fetcher>,
    progress: Arc<Progress>,
    fleet: Option<&FleetRun>,
) -> Ended {
    let stop = Stop::default();
    let (frontier, ledger): (Box<dyn Frontier>, Option<Box<dyn Ledger>>) = match (&p.state, fleet) {
        (Some(s), _) => (Box::new(s.store.clone()), Some(Box::new(s.store.clone()))),
        (None, Some(f)) => {
            f.worker.start_heartbeat();
            (
                Box::new(f.worker.frontier()),
                Some(Box::new(f.worker.ledger())),
            )
        }
        (None, None) => (Box::new(MemoryFrontier::new()), None),
    };
    tracing::debug!(state = ?p.state.as_ref().map(|s| &s.start), "run starts");
    let say = progress.clone();
    shutdown::listen(stop.clone(), move |m| say.line(m));
    let (tx, writer) = sink::spawn(
        p.records,
        p.errors,
        p.archive,
        ledger,
        p.repeated,
        stop.graceful.clone(),
    );
    let crawler = Crawler::new(p.crawl, fetcher, p.rules, frontier, stop.graceful.clone());
    // A fleet's worker names its log lines (`worker{name=…}`).
    let span = match fleet {
        Some(f) => tracing::info_span!("worker", name = %f.worker.name()),
        None => tracing::Span::none(),
    };
    let result = crawler.run(tx, &stop, &progress).instrument(span).await;
    // The sender is gone with the crawler: the writer drains and ends.
    let written = tokio::task::spawn_blocking(move || writer.join())
        .await
        .ok()
        .and_then(Result::ok);
    Ended { result, written }
}

/// The summary and the exit code of a run that ended; with `--state`, the
/// run is recorded as finished; with `--stats`, its statistics are written.
fn conclude(
    ended: Ended,
    state: Option<&SharedStore>,
    stats: Option<StatsFile>,
    prefix: &str,
) -> i32 {
    let (summary, written, mut code) = settle(ended);
    if let Some(store) = state {
        code = code.or(record_run(store, &summary, written.as_ref()));
    }
    // The reader of stdout went away (`| head`): a quiet end, but the
    // statistics are still written.
    let closed = written.as_ref().is_some_and(|w| w.closed);
    let code = match code {
        Some(c) => c,
        None if closed => exit::OK,
        None => outcome(&summary),
    };
    if let Some(file) = stats {
        let name = file.path.display().to_string();
        if let Err(e) = file.write(&summary, written.as_ref(), code) {
            report(&name, &e);
            return exit::CANNOT_START;
        }
    }
    if closed {
        return code;
    }
    if let Some(line) = written.as_ref().and_then(|w| w.removed.summary()) {
        let line = line.strip_prefix("parkcrawl: ").unwrap_or(&line);
        eprintln!("{prefix}: {line}");
    }
    eprintln!("{prefix}: {summary}");
    code
}

/// The crawl's summary and the writer's counts, and the exit code when
/// either failed.
fn settle(ended: Ended) -> (Summary, Option<Written>, Option<i32>) {
    let mut code = None;
    let mut summary = match ended.result {
        Ok(s) => s,
        Err(e) => {
            report("crawl stopped", &e);
            code = Some(exit::CANNOT_START);
            Summary::default()
        }
    };
    let written = match ended.written {
        Some(Ok(w)) => Some(w),
        Some(Err(e)) => {
            report("output", &e);
            code = Some(exit::CANNOT_START);
            None
        }
        None => {
            report("output", &"the writer stopped unexpectedly");
            code = Some(exit::CANNOT_START);
            None
        }
    };
    if let Some(w) = &written {
        // Records the writer found already written under another URL.
        summary.ok = summary.ok.saturating_sub(w.duplicates);
        // Records a shared store refused (a lost lease) are not this run's.
        summary.ok = summary.ok.saturating_sub(w.refused);
        summary.skip("duplicate", w.duplicates);
    }
    (summary, written, code)
}

/// Records the run as finished in the state; the exit code if that failed.
fn record_run(store: &SharedStore, summary: &Summary, written: Option<&Written>) -> Option<i32> {
    let run = LastRun {
        records: written.map_or(0, |w| w.records),
        deleted: written.map_or(0, |w| w.tombstones),
        unchanged: summary.unchanged,
        failed: summary.failed,
        ..LastRun::default()
    };
    match store.lock().finish_run(&run) {
        Ok(()) => None,
        Err(e) => {
            report("crawl", &e);
            Some(exit::CANNOT_START)
        }
    }
}

/// `--stats FILE`, created when the run starts (so that a bad path refuses
/// the run, not its end) and written when it ends.
struct StatsFile {
    path: PathBuf,
    file: std::fs::File,
    started_at: String,
}

impl StatsFile {
    fn create(path: &Path) -> Result<StatsFile, Refused> {
        let file = crate::output::create_file(path).map_err(|e| Refused::new(path.display(), e))?;
        Ok(StatsFile {
            path: path.to_path_buf(),
            file,
            started_at: now_rfc3339(),
        })
    }

    /// One JSON object: the summary's counts, what the writer wrote, the
    /// outcome and its exit code, when the run started and finished.
    fn write(mut self, s: &Summary, w: Option<&Written>, code: i32) -> std::io::Result<()> {
        use std::io::Write;
        let outcome = match code {
            exit::OK => "finished",
            exit::SOME_FAILED => "finished_with_failures",
            exit::STOPPED if s.interrupted => "stopped",
            exit::STOPPED => "max_pages",
            _ => "error",
        };
        let mut v = serde_json::json!({
            "outcome": outcome,
            "exit_code": code,
            "started_at": self.started_at,
            "finished_at": now_rfc3339(),
        });
        let counts = s.to_json();
        let obj = v.as_object_mut().expect("an object");
        obj.extend(
            counts
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        obj.insert("records_written".into(), w.map_or(0, |w| w.records).into());
        obj.insert(
            "tombstones_written".into(),
            w.map_or(0, |w| w.tombstones).into(),
        );
        obj.insert(
            "repeated_blocks_removed".into(),
            w.map_or(0, |w| w.removed.blocks).into(),
        );
        let mut line = serde_json::to_vec(&v).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_all()
    }
}

/// The exit code of a crawl that ran: stopped before the frontier ran dry
/// (a signal, `--max-pages`) wins over failures, since the run is not
/// complete whatever failed in it.
fn outcome(s: &Summary) -> i32 {
    if s.stopped() {
        exit::STOPPED
    } else if s.failed > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_flag() {
        assert_eq!(
            parse_resolve("A.test:127.0.0.1:8080").unwrap(),
            ("a.test".to_string(), "127.0.0.1:8080".parse().unwrap())
        );
        assert!(parse_resolve("a.test:[::1]:80").is_ok());
        assert!(parse_resolve("a.test:80:127.0.0.1").is_err());
        assert!(parse_resolve("a.test").is_err());
    }
}
