//! The crawl's settings from its flags and job file: checked and
//! defaulted once (`Checked`), then split into the fetcher's and the
//! crawler's configs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use url::Url;

use super::{CrawlArgs, Emit, Refused, parse_resolve};
use crate::cli::job;
use crate::cli::units::Seconds;
use crate::crawl::CrawlConfig;
use crate::crawl::scope::Patterns;
use crate::fetch::{DEFAULT_USER_AGENT, FetchConfig};
use crate::rules::{CrawlRule, RuleSet};

/// The settings checked and defaulted: what the flags and the job file
/// left unset gets its default here, once.
pub(super) struct Checked {
    pub(super) concurrency: usize,
    pub(super) max_body: u64,
    pub(super) user_agent: String,
    pub(super) timeout: Duration,
    pub(super) connect_timeout: Duration,
    pub(super) resolve: Vec<(String, SocketAddr)>,
    pub(super) recrawl_after: Duration,
    pub(super) patterns: Patterns,
}

impl Checked {
    pub(super) fn of(args: &CrawlArgs) -> Result<Checked, Refused> {
        let bad = |flag: &str, msg: &str| Refused::new(flag, msg);
        if let Some(r) = args.rate
            && !(r >= 0.0 && r.is_finite())
        {
            return Err(bad("--rate", "must be a number ≥ 0 (0: no limit)"));
        }
        let concurrency = args.concurrency.unwrap_or(8);
        if concurrency == 0 {
            return Err(bad("--concurrency", "must be at least 1"));
        }
        if args.per_host == Some(0) {
            return Err(bad("--per-host", "must be at least 1"));
        }
        let max_body = args
            .max_body
            .map_or(crate::cli::clean::DEFAULT_MAX_SIZE, |s| s.0);
        if max_body == 0 {
            return Err(bad("--max-body", "must be at least 1"));
        }
        let user_agent = args
            .user_agent
            .clone()
            .unwrap_or_else(|| DEFAULT_USER_AGENT.to_string());
        if user_agent.trim().is_empty() {
            return Err(bad("--user-agent", "must not be empty"));
        }
        let resolve: Vec<(String, SocketAddr)> = args
            .resolve
            .iter()
            .map(|r| parse_resolve(r).map_err(|m| Refused::new("--resolve", m)))
            .collect::<Result<_, _>>()?;
        let recrawl_after = match &args.recrawl_after {
            Some(d) => job::parse_duration(d).map_err(|m| bad("--recrawl-after", &m))?,
            None => Duration::from_secs(86_400),
        };
        // Without a state every page is new, so `--emit` makes no difference;
        // a recrawl period without one is a mistake worth saying.
        if args.state.is_none() && args.recrawl_after.is_some() {
            return Err(bad("--recrawl-after", "needs --state FILE"));
        }
        let timeout =
            (args.timeout.unwrap_or(Seconds(30.0)).positive()).map_err(|m| bad("--timeout", &m))?;
        let connect_timeout = (args.connect_timeout.unwrap_or(Seconds(10.0)).positive())
            .map_err(|m| bad("--connect-timeout", &m))?;
        let patterns = Patterns {
            follow: regexes("--follow", &args.follow)?,
            avoid: regexes("--avoid", &args.avoid)?,
        };
        Ok(Checked {
            patterns,
            concurrency,
            max_body,
            user_agent,
            timeout,
            connect_timeout,
            resolve,
            recrawl_after,
        })
    }
}

/// A flag's patterns, compiled; a bad one names the flag and the pattern.
pub(super) fn regexes(flag: &str, given: &[String]) -> Result<Vec<Regex>, Refused> {
    given
        .iter()
        .map(|p| {
            Regex::new(p).map_err(|e| {
                let why = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                Refused::new(format!("{flag} {p:?}"), why)
            })
        })
        .collect()
}

/// A per-host setting: the flag's value, else the matching site rule's,
/// else the generic rule's, else `default`.
fn per_host_setting<T: Copy + Send + Sync + 'static>(
    flag: Option<T>,
    rules: &Arc<RuleSet>,
    field: fn(&CrawlRule) -> Option<T>,
    default: T,
) -> Arc<dyn Fn(&str) -> T + Send + Sync> {
    let rules = rules.clone();
    Arc::new(move |host: &str| {
        flag.or_else(|| rules.crawl_setting(host, field))
            .unwrap_or(default)
    })
}

/// The fetcher's settings; the rate per host is the flag's, else the
/// matching site rule's, else the generic rule's, else 1 per second.
pub(super) fn fetch_config(
    args: &CrawlArgs,
    c: &Checked,
    rules: &Arc<RuleSet>,
    seeds: &[Url],
    sitemaps: &[Url],
) -> FetchConfig {
    let mut fetch = FetchConfig::new(&c.user_agent);
    fetch.rate = per_host_setting(args.rate, rules, |c| c.rate, 1.0);
    fetch.connections = per_host_setting(args.per_host, rules, |c| c.per_host, 1);
    fetch.timeout = c.timeout;
    fetch.connect_timeout = c.connect_timeout;
    fetch.max_body = c.max_body;
    fetch.max_in_flight = c.concurrency;
    fetch.max_redirects = args.max_redirects.unwrap_or(10);
    fetch.retries = args.retries.unwrap_or(3);
    fetch.policy.allow_private = args.allow_private;
    fetch.policy.resolve = c.resolve.iter().cloned().collect();
    fetch.policy.trusted = seeds
        .iter()
        .chain(sitemaps)
        .filter_map(crate::fetch::origin::Origin::of)
        .collect();
    fetch
}

pub(super) fn crawl_config(
    args: &CrawlArgs,
    c: &Checked,
    seeds: Vec<Url>,
    sitemaps: Vec<Url>,
) -> CrawlConfig {
    CrawlConfig {
        seeds,
        sitemaps,
        max_pages: args.max_pages,
        max_depth: args.max_depth,
        // Waiting tasks are cheap; this bounds pages being cleaned and the
        // hosts served at once.
        max_tasks: (c.concurrency * 4).max(16),
        robots_sitemaps: !args.no_robots_sitemaps,
        max_sitemaps: args
            .max_sitemaps
            .unwrap_or(crate::crawl::sitemap::DEFAULT_MAX_PER_HOST),
        emit_all: args.emit == Some(Emit::All),
        patterns: c.patterns.clone(),
        ..CrawlConfig::default()
    }
}
