//! A loopback web for fleet tests (issue 15) and the fleet bench: each host
//! a server of its own (`server.rs`, its own port, its own request log), of
//! one of four kinds — plain, a robots.txt `Crawl-delay`, one answering
//! some pages' first request with 429 + `Retry-After`, a slow one — with
//! pages linked as a tree the crawl must discover. Pages carry an ETag and a
//! Last-Modified and answer a matching validator with 304; between cycles a
//! page can be changed (new version) or deleted (404).
//!
//! The politeness checks read the servers' own logs, nothing the crawler
//! says: per host, no two requests closer than its interval; none while a
//! Retry-After it sent runs; robots.txt first.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::server::{Hit, Reply, Server};

/// Links per page: page k links to `FANOUT·k+1 … FANOUT·k+FANOUT`
/// (the home page is page 0), so a page is at most three links deep.
const FANOUT: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Plain,
    /// robots.txt asks for this Crawl-delay.
    CrawlDelay(Duration),
    /// Pages k ≡ 1 (mod 4) answer their first request 429 with this
    /// Retry-After (whole seconds).
    RetryAfter(Duration),
    /// Every page is answered this late.
    Slow(Duration),
}

/// One page as its server holds it now.
#[derive(Debug, Clone, Copy)]
struct Version {
    version: u32,
    gone: bool,
}

/// One host of the web: its server and its pages (`/` and `/n/1` … ).
pub struct WebHost {
    pub name: String,
    pub kind: Kind,
    pub pages: usize,
    pub server: Server,
    site: Arc<Mutex<BTreeMap<usize, Version>>>,
}

pub struct FleetWeb {
    pub hosts: Vec<WebHost>,
}

impl FleetWeb {
    /// Hosts `f0.test` … of these kinds, each with `pages` pages.
    pub fn start(kinds: &[(Kind, usize)]) -> FleetWeb {
        let hosts = kinds
            .iter()
            .enumerate()
            .map(|(i, &(kind, pages))| WebHost::start(format!("f{i}.test"), kind, pages))
            .collect();
        FleetWeb { hosts }
    }

    /// The web: ten hosts of 12 pages — one with Crawl-delay 2 s
    /// (10 pages, so that it does not make the run long), one answering
    /// 429 + Retry-After 1, one 300 ms slow, seven plain.
    pub fn standard() -> FleetWeb {
        let mut kinds = vec![
            (Kind::CrawlDelay(Duration::from_secs(2)), 10),
            (Kind::RetryAfter(Duration::from_secs(1)), 12),
            (Kind::Slow(Duration::from_millis(300)), 12),
        ];
        kinds.extend(std::iter::repeat_n((Kind::Plain, 12), 7));
        FleetWeb::start(&kinds)
    }

    pub fn seeds(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| format!("http://{}/", h.name))
            .collect()
    }

    /// `--resolve` flags sending each host to its server.
    pub fn resolve(&self) -> Vec<String> {
        self.hosts
            .iter()
            .flat_map(|h| h.server.resolve(&[h.name.as_str()]))
            .collect()
    }

    pub fn host(&self, name: &str) -> &WebHost {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("no host {name}"))
    }

    /// Every page URL the web serves now (deleted ones left out).
    pub fn urls(&self) -> Vec<String> {
        let mut all: Vec<String> = self.hosts.iter().flat_map(WebHost::urls).collect();
        all.sort();
        all
    }

    /// Every host's log, for the checks below.
    pub fn logs(&self, rate: f64) -> Vec<HostLog> {
        self.hosts.iter().map(|h| h.log(rate)).collect()
    }
}

impl WebHost {
    fn start(name: String, kind: Kind, pages: usize) -> WebHost {
        let site: BTreeMap<usize, Version> = (0..pages)
            .map(|k| {
                (
                    k,
                    Version {
                        version: 1,
                        gone: false,
                    },
                )
            })
            .collect();
        let site = Arc::new(Mutex::new(site));
        let served = site.clone();
        let host = name.clone();
        let server =
            Server::start_with(1, move |hit: &Hit| serve(&host, kind, pages, &served, hit));
        WebHost {
            name,
            kind,
            pages,
            server,
            site,
        }
    }

    fn path(k: usize) -> String {
        if k == 0 {
            "/".to_string()
        } else {
            format!("/n/{k}")
        }
    }

    pub fn url(&self, k: usize) -> String {
        format!("http://{}{}", self.name, Self::path(k))
    }

    pub fn urls(&self) -> Vec<String> {
        let site = self.site.lock().unwrap();
        site.iter()
            .filter(|(_, v)| !v.gone)
            .map(|(k, _)| self.url(*k))
            .collect()
    }

    /// Page k gets a new version (new text, new validators).
    pub fn change(&self, k: usize) {
        self.site.lock().unwrap().get_mut(&k).unwrap().version += 1;
    }

    /// Page k answers 404 from now on (its parent still links it).
    pub fn delete(&self, k: usize) {
        self.site.lock().unwrap().get_mut(&k).unwrap().gone = true;
    }

    /// The host's log; `rate` is the crawl's `--rate` (0: none).
    pub fn log(&self, rate: f64) -> HostLog {
        let hits = self.server.hits();
        let replied = self.server.replied_at();
        let answers = self.server.answers();
        let requests = hits
            .into_iter()
            .enumerate()
            .map(|(i, h)| {
                let answer = answers.get(i).cloned().flatten();
                Request {
                    conditional: h.conditional(),
                    path: h.path,
                    at: h.at,
                    replied: replied.get(i).copied().flatten(),
                    status: answer.as_ref().map(|a| a.status),
                    retry_after: answer.and_then(|a| a.retry_after),
                }
            })
            .collect();
        let rate_gap = if rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        let delay = match self.kind {
            Kind::CrawlDelay(d) => d,
            _ => Duration::ZERO,
        };
        HostLog {
            host: self.name.clone(),
            rate_gap,
            crawl_delay: delay,
            requests,
        }
    }
}

/// The host's reply: robots.txt, the tree's pages with validators, 304 to a
/// matching one, 404 past the tree or for a deleted page, and the kind's
/// own behaviour.
fn serve(
    host: &str,
    kind: Kind,
    pages: usize,
    site: &Mutex<BTreeMap<usize, Version>>,
    hit: &Hit,
) -> Reply {
    if hit.path == "/robots.txt" {
        let mut r = String::from("User-agent: *\nDisallow: /private/\n");
        if let Kind::CrawlDelay(d) = kind {
            r.push_str(&format!("Crawl-delay: {}\n", d.as_secs_f64()));
        }
        return Reply::text(&r);
    }
    let k = match hit.path.as_str() {
        "/" => Some(0),
        p => p.strip_prefix("/n/").and_then(|n| n.parse::<usize>().ok()),
    };
    let Some((k, v)) = k.and_then(|k| Some((k, *site.lock().unwrap().get(&k)?))) else {
        return Reply::status(404);
    };
    if v.gone {
        return Reply::status(404);
    }
    if let Kind::RetryAfter(wait) = kind
        && k % 4 == 1
        && hit.n == 0
    {
        return Reply::status(429).header("retry-after", &wait.as_secs().to_string());
    }
    let etag = format!("\"{k}-v{}\"", v.version);
    let modified = std::time::UNIX_EPOCH
        + Duration::from_secs(1_700_000_000 + 86_400 * (k as u64 * 100 + v.version as u64));
    let last_modified = httpdate::fmt_http_date(modified);
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    let not_modified = match &hit.if_none_match {
        Some(tag) => *tag == etag,
        None => hit.if_modified_since.as_deref() == Some(&last_modified),
    };
    let mut reply = if not_modified {
        Reply::new(304, "text/html; charset=utf-8", "")
    } else {
        let links: Vec<String> = (FANOUT * k + 1..=FANOUT * k + FANOUT)
            .filter(|c| *c < pages)
            .map(WebHost::path)
            .collect();
        let links: Vec<&str> = links.iter().map(String::as_str).collect();
        // The host in the text: no two hosts serve the same page.
        Reply::page(&format!("{host} 第{k}篇 第{}版", v.version), &links)
    };
    reply = reply
        .header("etag", &etag)
        .header("last-modified", &last_modified);
    if let Kind::Slow(d) = kind {
        reply = reply.delayed(d);
    }
    reply
}

/// One request as a host's server logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub path: String,
    /// Arrival, on the host's server's clock.
    pub at: Duration,
    /// When the reply left (`None`: never, the client went away).
    pub replied: Option<Duration>,
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    pub conditional: bool,
}

/// One host's requests and what binds it.
#[derive(Debug, Clone, PartialEq)]
pub struct HostLog {
    pub host: String,
    /// 1 / `--rate`.
    pub rate_gap: Duration,
    /// robots.txt's Crawl-delay (zero: none).
    pub crawl_delay: Duration,
    pub requests: Vec<Request>,
}

/// Arrival jitter allowed between two requests (a loaded machine sends a
/// request a little late, the next one on time).
pub const TOLERANCE: Duration = Duration::from_millis(50);
/// A request arriving this soon after a 429 left the server was on its way
/// before the crawler could have read it.
pub const IN_TRANSIT: Duration = Duration::from_millis(100);

impl HostLog {
    /// No two requests closer than the host's interval, less [`TOLERANCE`]:
    /// 1 / `--rate`, and the Crawl-delay once robots.txt (which states it)
    /// was answered — the gap from robots.txt to the next request is held
    /// to the rate only, as the crawler cannot know the delay before.
    pub fn check_intervals(&self) -> Result<(), String> {
        let mut sorted: Vec<&Request> = self.requests.iter().collect();
        sorted.sort_by_key(|r| r.at);
        let mut bad = Vec::new();
        for w in sorted.windows(2) {
            let delay_known = w[0].path != "/robots.txt";
            let gap = if delay_known {
                self.rate_gap.max(self.crawl_delay)
            } else {
                self.rate_gap
            };
            let got = w[1].at - w[0].at;
            if got + TOLERANCE < gap {
                bad.push(format!(
                    "{} at {:?} then {} at {:?}: {got:?} apart, interval {gap:?}",
                    w[0].path, w[0].at, w[1].path, w[1].at
                ));
            }
        }
        verdict(&self.host, "requests closer than the interval", bad)
    }

    /// No request arrived while a Retry-After the host sent ran: from the
    /// reply leaving (plus [`IN_TRANSIT`]) to its end.
    pub fn check_retry_after(&self) -> Result<(), String> {
        let pauses: Vec<(Duration, Duration)> = self
            .requests
            .iter()
            .filter_map(|r| {
                let wait = r.retry_after?;
                let sent = r.replied.unwrap_or(r.at);
                Some((sent + IN_TRANSIT, sent + wait))
            })
            .collect();
        let bad: Vec<String> = self
            .requests
            .iter()
            .filter(|r| pauses.iter().any(|(a, b)| r.at > *a && r.at < *b))
            .map(|r| format!("{} at {:?} during a Retry-After {pauses:?}", r.path, r.at))
            .collect();
        verdict(&self.host, "requests during Retry-After", bad)
    }

    /// The host's first request was for robots.txt.
    pub fn check_robots_first(&self) -> Result<(), String> {
        let first = self.requests.iter().min_by_key(|r| r.at);
        match first {
            Some(r) if r.path != "/robots.txt" => Err(format!(
                "{}: the first request was {} at {:?}, not /robots.txt",
                self.host, r.path, r.at
            )),
            _ => Ok(()),
        }
    }

    /// All three checks.
    pub fn check_politeness(&self) -> Result<(), String> {
        self.check_robots_first()?;
        self.check_intervals()?;
        self.check_retry_after()
    }

    /// Requests for pages (not robots.txt).
    pub fn page_requests(&self) -> impl Iterator<Item = &Request> {
        self.requests.iter().filter(|r| r.path != "/robots.txt")
    }
}

fn verdict(host: &str, what: &str, bad: Vec<String>) -> Result<(), String> {
    if bad.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{host}: {} {what}:\n  {}",
        bad.len(),
        bad.join("\n  ")
    ))
}
