//! `parkcrawl crawl [URL…]`: a polite crawl that streams records. Builds the
//! fetch and crawl configs from the flags and the site rules (precedence:
//! defaults < site rule < flag), runs the crawl, maps the outcome to an exit
//! code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use url::Url;

use super::{RuleArgs, report};
use crate::crawl::frontier::MemoryFrontier;
use crate::crawl::report::Progress;
use crate::crawl::{CrawlConfig, Crawler, Stop, shutdown, sink};
use crate::exit;
use crate::fetch::{DEFAULT_USER_AGENT, FetchConfig, Fetcher, now_rfc3339};
use crate::output::JsonlWriter;
use crate::rules::RuleSet;
use crate::warc::WarcWriter;

#[derive(Debug, clap::Args)]
pub struct CrawlArgs {
    /// Pages to start from. Without any (and without --sitemap): the seeds of
    /// every site rule.
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,
    /// A sitemap or sitemap index to read for pages (repeatable).
    #[arg(long = "sitemap", value_name = "URL")]
    pub sitemaps: Vec<String>,
    /// Requests per second per host [default: the site rule's rate, else 1].
    /// 0 means no limit: only for servers you own.
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// Requests in flight at once, over all hosts (each host gets one connection).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Stop after this many page fetches.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,
    /// Follow links at most N steps from a seed (0: the seeds only).
    #[arg(long, value_name = "N")]
    pub max_depth: Option<u32>,
    /// The User-Agent header; its first word is the robots.txt product token.
    #[arg(long, value_name = "UA", default_value = DEFAULT_USER_AGENT)]
    pub user_agent: String,
    /// Write records to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write failed and skipped pages to FILE as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// Archive every fetched page as WARC/1.1 request + response records
    /// (gzip per record when FILE ends in .gz).
    #[arg(long, value_name = "FILE")]
    pub warc: Option<PathBuf>,
    /// Whole-request timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Connect timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// Largest page body accepted, in bytes after decompression.
    #[arg(long, value_name = "BYTES", default_value_t = super::clean::DEFAULT_MAX_SIZE)]
    pub max_body: u64,
    /// Redirects followed per page.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_redirects: usize,
    /// Further attempts after a transient failure (connect, timeout, 429, 5xx).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Follow links into private, loopback and link-local addresses too.
    #[arg(long)]
    pub allow_private: bool,
    /// Connect to HOST at IP:PORT instead of resolving it (repeatable).
    #[arg(long, value_name = "HOST:IP:PORT", value_parser = parse_resolve)]
    pub resolve: Vec<(String, SocketAddr)>,
    /// Do not read the sitemaps named in robots.txt.
    #[arg(long)]
    pub no_robots_sitemaps: bool,
    #[command(flatten)]
    pub rules: RuleArgs,
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
    Ok((host.to_ascii_lowercase(), addr))
}

fn seconds(flag: &str, v: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{flag} must be a positive number of seconds"))
}

pub fn run(args: CrawlArgs) -> i32 {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    match prepare(args) {
        Ok(p) => execute(p),
        Err((what, msg)) => {
            report(&what, &msg);
            exit::CANNOT_START
        }
    }
}

struct Prepared {
    crawl: CrawlConfig,
    fetch: FetchConfig,
    rules: Arc<RuleSet>,
    records: JsonlWriter,
    errors: Option<JsonlWriter>,
    archive: Option<sink::Archive>,
}

/// Everything that can refuse to start, before any request.
fn prepare(args: CrawlArgs) -> Result<Prepared, (String, String)> {
    let rules = Arc::new(
        RuleSet::load(args.rules.rules.as_deref())
            .map_err(|e| ("rules".to_string(), e.to_string()))?,
    );
    let url = |s: &String| -> Result<Url, (String, String)> {
        let u = Url::parse(s).map_err(|e| (s.clone(), e.to_string()))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err((s.clone(), "not an http(s) URL".into()));
        }
        Ok(u)
    };
    let mut seeds: Vec<Url> = args.urls.iter().map(url).collect::<Result<_, _>>()?;
    let sitemaps: Vec<Url> = args.sitemaps.iter().map(url).collect::<Result<_, _>>()?;
    if seeds.is_empty() && sitemaps.is_empty() {
        seeds = rules
            .sites
            .iter()
            .flat_map(|r| r.crawl.seeds.iter().cloned())
            .collect();
    }
    if seeds.is_empty() && sitemaps.is_empty() {
        return Err((
            "crawl".into(),
            "no seeds: give URLs, --sitemap, or rules with crawl.seeds".into(),
        ));
    }
    let bad = |flag: &str, msg: &str| (flag.to_string(), msg.to_string());
    if let Some(r) = args.rate
        && !(r >= 0.0 && r.is_finite())
    {
        return Err(bad("--rate", "must be a number ≥ 0 (0: no limit)"));
    }
    if args.concurrency == 0 {
        return Err(bad("--concurrency", "must be at least 1"));
    }
    if args.max_body == 0 {
        return Err(bad("--max-body", "must be at least 1"));
    }
    if args.user_agent.trim().is_empty() {
        return Err(bad("--user-agent", "must not be empty"));
    }

    let mut fetch = FetchConfig::new(&args.user_agent);
    let flag_rate = args.rate;
    let rate_rules = rules.clone();
    fetch.rate = Arc::new(move |host: &str| {
        flag_rate
            .or_else(|| {
                rate_rules
                    .sites
                    .iter()
                    .find(|r| r.matches_host(host))
                    .and_then(|r| r.crawl.rate)
            })
            .or(rate_rules.generic.crawl.rate)
            .unwrap_or(1.0)
    });
    fetch.timeout = seconds("--timeout", args.timeout).map_err(|m| bad("--timeout", &m))?;
    fetch.connect_timeout = seconds("--connect-timeout", args.connect_timeout)
        .map_err(|m| bad("--connect-timeout", &m))?;
    fetch.max_body = args.max_body;
    fetch.max_in_flight = args.concurrency;
    fetch.max_redirects = args.max_redirects;
    fetch.retries = args.retries;
    fetch.policy.allow_private = args.allow_private;
    fetch.policy.resolve = args.resolve.into_iter().collect();
    fetch.policy.trusted = seeds
        .iter()
        .chain(&sitemaps)
        .filter_map(|u| u.host_str())
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .collect();

    let mut crawl = CrawlConfig {
        seeds,
        sitemaps,
        max_pages: args.max_pages,
        max_depth: args.max_depth,
        // Waiting tasks are cheap; this bounds pages being cleaned and the
        // hosts served at once.
        max_tasks: (args.concurrency * 4).max(16),
        per_host: fetch.connections_per_host,
        robots_sitemaps: !args.no_robots_sitemaps,
        ..CrawlConfig::default()
    };
    let open = |p: Option<&std::path::Path>, what: &str| {
        JsonlWriter::create(p).map_err(|e| {
            (
                p.map_or_else(|| what.to_string(), |p| p.display().to_string()),
                e.to_string(),
            )
        })
    };
    let records = open(args.output.as_deref(), "stdout")?;
    let errors = match args.errors.as_deref() {
        Some(p) => Some(open(Some(p), "--errors")?),
        None => None,
    };
    let archive = match args.warc.as_deref() {
        Some(p) => {
            let name = p
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let gzip = name.to_ascii_lowercase().ends_with(".gz");
            let file = std::fs::File::create(p)
                .and_then(|f| {
                    WarcWriter::new(std::io::BufWriter::new(f), gzip, &name, &now_rfc3339())
                })
                .map_err(|e| (p.display().to_string(), e.to_string()))?;
            Some(file)
        }
        None => None,
    };
    crawl.archive = archive.is_some();
    Ok(Prepared {
        crawl,
        fetch,
        rules,
        records,
        errors,
        archive,
    })
}

fn execute(p: Prepared) -> i32 {
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
    let fetcher = match Fetcher::new(p.fetch) {
        Ok(f) => Arc::new(f),
        Err(e) => {
            report("HTTP client", &e);
            return exit::CANNOT_START;
        }
    };
    let progress = Arc::new(Progress::new(true));
    let stop = Stop::default();
    let (summary, written) = runtime.block_on(async {
        let say = progress.clone();
        shutdown::listen(stop.clone(), move |m| say.line(m));
        let (tx, writer) = sink::spawn(p.records, p.errors, p.archive, stop.graceful.clone());
        let crawler = Crawler::new(
            p.crawl,
            fetcher,
            p.rules,
            Box::new(MemoryFrontier::new()),
            stop.graceful.clone(),
        );
        let summary = crawler.run(tx, &stop, &progress).await;
        // The sender is gone with the crawler: the writer drains and ends.
        let written = tokio::task::spawn_blocking(move || writer.join())
            .await
            .ok()
            .and_then(Result::ok);
        (summary, written)
    });
    // Tasks still blocked (a clean in progress) are not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    progress.finish();
    let code = match written {
        Some(Ok(w)) if w.closed => return exit::OK,
        Some(Ok(_)) => None,
        Some(Err(e)) => {
            report("output", &e);
            Some(exit::CANNOT_START)
        }
        None => {
            report("output", &"the writer stopped unexpectedly");
            Some(exit::CANNOT_START)
        }
    };
    eprintln!("parkcrawl: {summary}");
    code.unwrap_or(if summary.failed > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    })
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
