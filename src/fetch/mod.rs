//! Stage 0, fetch: URL → [`Fetched`] bytes, politely. One reqwest `Client`
//! for the run; per host ([`host`]) a rate limiter, its connections (one
//! by default, `--per-host N`: the rate and pauses bind them together),
//! pauses and backoff; robots.txt ([`robots`]) read and cached before any other
//! request to the host; [`safety`] checks on every address.
//!
//! One fetch, in order, for every hop of a redirect chain:
//!
//! 1. the host is not given up; its address is allowed (safety);
//! 2. robots.txt allows the path (fetched first if not yet known);
//! 3. the host's turn: connection permit, pause, rate-limiter cell; the
//!    pause checked again right before the send;
//! 4. the request; a transient failure (connect, timeout, truncated reply,
//!    408, 429, 5xx; [`error`] classifies) pauses the host (backoff with
//!    jitter, or `Retry-After`) and goes back to 3, up to `retries` times;
//!    a `Retry-After` past the longest pause, or too many failures in a
//!    row, gives the host up instead ([`host`]);
//! 5. a redirect: loop and limit checks, the caller's scope check, next hop;
//! 6. the Content-Type is checked before the body is read; the body is
//!    streamed and abandoned past `max_body` bytes (after decompression);
//!    a robots.txt or sitemap is cut there instead, and read as far as it
//!    goes.

pub mod error;
pub mod host;
pub mod origin;
pub mod pace;
mod response;
pub mod robots;
pub mod safety;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

pub use error::{ErrorKind, FetchError};
use host::{Backoff, Host, Hosts, RobotsEntry};
use response::{Head, redirect};
use robots::Robots;
use safety::{CheckedResolver, Policy};

/// Requests per second for a host name (the site rule's rate, a flag, …).
pub type RateFn = Arc<dyn Fn(&str) -> f64 + Send + Sync>;

/// A count for a host name (connections per host, from a flag or a rule).
pub type CountFn = Arc<dyn Fn(&str) -> usize + Send + Sync>;

/// The caller's check of each redirect target (scope, already fetched).
pub type HopCheck<'a> = &'a (dyn Fn(&Url) -> Result<(), FetchError> + Sync);

/// The default User-Agent: the tool and where to read about it.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "parkcrawl/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/parkcrawl/parkcrawl)"
);

/// The longest URL fetched or followed, in bytes. RFC 9110 (4.1) asks
/// senders and recipients to support at least 8,000 octets; common servers
/// refuse longer request lines (Apache at 8,190 bytes, nginx past its 8 KiB
/// buffers) and the HTTP stack cannot build a request for a URI of 64 KiB.
/// A longer URL is a permanent error of that URL alone, never of its host.
pub const MAX_URL_LEN: usize = 8_000;

/// How long robots.txt answers are kept.
const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);
/// Redirects followed for robots.txt (RFC 9309 asks for at least five).
const ROBOTS_REDIRECTS: usize = 5;

pub struct FetchConfig {
    pub user_agent: String,
    /// The product token robots.txt groups are matched against.
    pub robots_token: String,
    /// Requests per second per host (0: no limit).
    pub rate: RateFn,
    /// Connections (and so requests in flight) per host name; the rate
    /// binds the host as a whole however many there are.
    pub connections: CountFn,
    /// Requests in flight at once, over all hosts.
    pub max_in_flight: usize,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
    pub max_redirects: usize,
    /// Further attempts after a transient failure.
    pub retries: u32,
    pub backoff: Backoff,
    /// How long a robots.txt that could not be read disallows its host
    /// before it is tried again.
    pub robots_retry: Duration,
    pub policy: Policy,
    /// A pace shared with other workers ([`pace`]); `None`: this process only.
    pub pace: Option<Arc<dyn pace::SharedPace>>,
}

impl FetchConfig {
    /// The polite defaults: 1 request/s and 1 connection per host.
    pub fn new(user_agent: &str) -> FetchConfig {
        FetchConfig {
            user_agent: user_agent.to_string(),
            robots_token: product_token(user_agent),
            rate: Arc::new(|_| 1.0),
            connections: Arc::new(|_| 1),
            max_in_flight: 8,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body: 10 * 1024 * 1024,
            max_redirects: 10,
            retries: 3,
            backoff: Backoff::default(),
            robots_retry: Duration::from_secs(60),
            policy: Policy::default(),
            pace: None,
        }
    }
}

/// `parkcrawl/0.1 (+https://…)` → `parkcrawl`.
pub fn product_token(user_agent: &str) -> String {
    user_agent
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `host:port`: the unit of politeness (one rate, one connection, one
/// robots.txt). `seed.cn.` is `seed.cn`: one server, one budget.
pub fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        origin::normal_host(url.host_str().unwrap_or("")),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// What is being fetched: decides the Accept header and which types pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Page,
    Sitemap,
    Robots,
}

impl Want {
    fn accept(self) -> &'static str {
        match self {
            Want::Page => "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            Want::Sitemap => "application/xml,text/xml;q=0.9,text/plain;q=0.5,*/*;q=0.1",
            Want::Robots => "text/plain,*/*;q=0.1",
        }
    }
}

/// Validators of an earlier response, for a conditional request
/// (`If-None-Match`, `If-Modified-Since`): an incremental recrawl.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// One fetched response: the bytes and what the headers said. A `304 Not
/// Modified` answer to a conditional request is one too, without a body.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The final URL, after redirects.
    pub url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// RFC 3339, UTC, whole seconds.
    pub fetched_at: String,
    pub body: Vec<u8>,
    /// The exchange as it went over the wire, for a WARC: request headers
    /// sent, response headers and reason, the server's address.
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    pub reason: String,
    pub ip: Option<String>,
}

enum Step {
    Done(Box<Fetched>),
    Redirect(Url),
}

pub struct Fetcher {
    client: reqwest::Client,
    cfg: FetchConfig,
    policy: Arc<Policy>,
    hosts: Hosts,
    /// Permits = requests that may be in flight at once (`max_in_flight`).
    in_flight: Arc<tokio::sync::Semaphore>,
    /// `Sitemap:` lines of robots.txt files read so far, not yet taken.
    robots_sitemaps: Mutex<Vec<Url>>,
    requests: AtomicU64,
}

impl Fetcher {
    pub fn new(mut cfg: FetchConfig) -> Result<Fetcher, reqwest::Error> {
        // Already installed (by a second Fetcher, or a test) is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Arc::new(std::mem::take(&mut cfg.policy));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            header::HeaderValue::from_static(Want::Page.accept()),
        );
        let client = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            // No cap on idle connections per host: the pool never holds
            // more than a host's permits (`connections`) let open at once.
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .dns_resolver(CheckedResolver(policy.clone()))
            .build()?;
        let hosts = Hosts::new(cfg.rate.clone(), cfg.connections.clone(), cfg.backoff);
        Ok(Fetcher {
            client,
            in_flight: Arc::new(tokio::sync::Semaphore::new(cfg.max_in_flight.max(1))),
            cfg,
            policy,
            hosts,
            robots_sitemaps: Mutex::new(Vec::new()),
            requests: AtomicU64::new(0),
        })
    }

    /// Requests sent so far (robots.txt, retries and redirects included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// When the host `key` (see [`host_key`]) can next take a request;
    /// `None` for a host not met yet.
    pub fn ready_at(&self, key: &str) -> Option<Instant> {
        self.hosts.ready_at(key)
    }

    /// Connections (requests in flight) allowed to the host `key`.
    pub fn connections(&self, key: &str) -> usize {
        self.hosts.connections(key)
    }

    /// The `Sitemap:` URLs of robots.txt files read since the last call.
    pub fn take_robots_sitemaps(&self) -> Vec<Url> {
        std::mem::take(&mut *self.robots_sitemaps.lock().expect("sitemaps"))
    }

    /// Fetches `url`, following redirects; `hop` vets every redirect target.
    pub async fn fetch(
        &self,
        url: &Url,
        want: Want,
        hop: HopCheck<'_>,
        cancel: &CancellationToken,
    ) -> Result<Fetched, FetchError> {
        self.fetch_if_changed(url, want, &Validators::default(), hop, cancel)
            .await
    }

    /// [`fetch`](Self::fetch) with a conditional request: `Ok` with status
    /// 304 and no body when the server says the page is unchanged. The
    /// validators go with every hop: a redirect ignores them, and the page
    /// at the end of the chain is the one they were stored from.
    pub async fn fetch_if_changed(
        &self,
        url: &Url,
        want: Want,
        validators: &Validators,
        hop: HopCheck<'_>,
        cancel: &CancellationToken,
    ) -> Result<Fetched, FetchError> {
        let limit = match want {
            Want::Robots => ROBOTS_REDIRECTS,
            _ => self.cfg.max_redirects,
        };
        let mut url = without_fragment(url);
        let mut chain = vec![url.clone()];
        loop {
            if url.as_str().len() > MAX_URL_LEN {
                return Err(FetchError::new(
                    ErrorKind::BadUrl,
                    &url,
                    format!(
                        "URL of {} bytes, longer than {MAX_URL_LEN}",
                        url.as_str().len()
                    ),
                ));
            }
            let host = self.hosts.get(&url);
            self.admit(&host, &url, want, cancel).await?;
            match self.get(&host, &url, want, validators, cancel).await? {
                Step::Done(f) => return Ok(*f),
                Step::Redirect(next) => {
                    let next = without_fragment(&next);
                    if chain.contains(&next) {
                        let path: Vec<String> =
                            chain.iter().map(|u| u.path().to_string()).collect();
                        return Err(FetchError::new(
                            ErrorKind::RedirectLoop,
                            &url,
                            format!("redirect loop: {} → {}", path.join(" → "), next.path()),
                        ));
                    }
                    if chain.len() > limit {
                        return Err(FetchError::new(
                            ErrorKind::TooManyRedirects,
                            &url,
                            format!("more than {limit} redirects (see --max-redirects)"),
                        ));
                    }
                    hop(&next)?;
                    chain.push(next.clone());
                    url = next;
                }
            }
        }
    }

    /// Steps 1–2: the host is usable, the address safe, robots.txt agrees.
    async fn admit(
        &self,
        host: &Host,
        url: &Url,
        want: Want,
        cancel: &CancellationToken,
    ) -> Result<(), FetchError> {
        if let Some(why) = host.given_up() {
            return Err(FetchError::new(
                ErrorKind::HostUnavailable,
                url,
                format!("host given up: {why}"),
            ));
        }
        let name = url.host_str().unwrap_or("");
        let port = url.port_or_known_default().unwrap_or(0);
        // Checked here for a clear error; the resolver checks again on connect.
        if !self.policy.exempt(url)
            && let Err(e) = self.policy.resolve_checked(name, port).await
        {
            let kind = if e.is::<safety::UnsafeAddress>() {
                ErrorKind::Unsafe
            } else {
                ErrorKind::Connect
            };
            return Err(FetchError::new(kind, url, e.to_string()));
        }
        if want == Want::Robots {
            return Ok(());
        }
        let robots = self.robots(host, url, cancel).await?;
        if !robots.is_allowed(&crate::rules::path_and_query(url)) {
            return Err(FetchError::new(
                ErrorKind::Disallowed,
                url,
                "disallowed by robots.txt",
            ));
        }
        Ok(())
    }

    /// The host's robots.txt, read once (and again after a failure once
    /// `robots_retry` has passed). Other requests to the host wait for it.
    async fn robots(
        &self,
        host: &Host,
        url: &Url,
        cancel: &CancellationToken,
    ) -> Result<Arc<Robots>, FetchError> {
        let mut slot = tokio::select! {
            s = host.robots.lock() => s,
            _ = cancel.cancelled() => return Err(cancelled(url)),
        };
        let unavailable = |msg: &str| {
            FetchError::new(
                ErrorKind::RobotsUnavailable,
                url,
                format!("robots.txt {msg}"),
            )
        };
        if let Some(e) = &*slot
            && e.expires > Instant::now()
        {
            return e.verdict.clone().map_err(|m| unavailable(&m));
        }
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        let any_hop = |_: &Url| Ok(());
        let fetched = Box::pin(self.fetch(&robots_url, Want::Robots, &any_hop, cancel)).await;
        let (verdict, ttl) = match fetched {
            Ok(f) => {
                let r = Robots::parse_bytes(&f.body, &self.cfg.robots_token);
                if let Some(d) = r.crawl_delay {
                    host.slow_down_to(d);
                }
                if let Some(p) = &self.cfg.pace {
                    p.crawl_delay(&host.key, r.crawl_delay).await;
                }
                let base = f.url.clone();
                let mut maps = self.robots_sitemaps.lock().expect("sitemaps");
                maps.extend(r.sitemaps.iter().filter_map(|s| base.join(s).ok()));
                (Ok(Arc::new(r)), ROBOTS_TTL)
            }
            // 4xx: there are no rules for us (RFC 9309 2.3.1.3).
            Err(e)
                if e.kind == ErrorKind::Http && e.status.is_some_and(|s| s < 500 && s != 429) =>
            {
                (Ok(Arc::new(Robots::allow_all())), ROBOTS_TTL)
            }
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(cancelled(url)),
            // 5xx, unreachable, refused: disallow all for now (2.3.1.4).
            Err(e) => (
                Err(format!("unavailable: {}", e.message)),
                self.cfg.robots_retry,
            ),
        };
        match &verdict {
            Ok(r) => {
                tracing::info!(host = %host.key, rules = r.rule_count(), crawl_delay = ?r.crawl_delay, "robots.txt read")
            }
            // Not a warning: the page it holds up fails with this message,
            // one line on stderr, and a second line would say it again.
            Err(m) => {
                tracing::info!(host = %host.key, "robots.txt {m}; host disallowed for {:?}", ttl)
            }
        }
        *slot = Some(RobotsEntry {
            verdict: verdict.clone(),
            expires: Instant::now() + ttl,
        });
        verdict.map_err(|m| unavailable(&m))
    }

    /// Steps 3–4: one request with retries of transient failures.
    async fn get(
        &self,
        host: &Host,
        url: &Url,
        want: Want,
        validators: &Validators,
        cancel: &CancellationToken,
    ) -> Result<Step, FetchError> {
        let mut attempt = 0;
        loop {
            let Some(permits) = host.turn(&self.in_flight, cancel).await else {
                return Err(cancelled(url));
            };
            // Right before the send. Whatever is awaited between the turn
            // and here (a shared pacing hook) comes before this check: a
            // pause set meanwhile (another connection's 429 read) sends the
            // request back to wait, unsent and without spending an attempt.
            if host.paused() {
                drop(permits);
                continue;
            }
            if let Some(why) = host.given_up() {
                return Err(FetchError::new(
                    ErrorKind::HostUnavailable,
                    url,
                    format!("host given up: {why}"),
                ));
            }
            if let Some(p) = &self.cfg.pace {
                tokio::select! {
                    _ = p.before_request(&host.key) => {}
                    _ = cancel.cancelled() => return Err(cancelled(url)),
                }
            }
            let result = self.once(url, want, validators).await;
            // A transient failure pauses the host before this request's
            // permits go: a request waiting for them then finds the pause.
            let gave_up = match &result {
                Err(e) if e.is_transient() => host.failure(e.retry_after),
                _ => false,
            };
            drop(permits);
            match result {
                Err(mut e) if e.is_transient() => {
                    if let (Some(p), Some(wait)) = (&self.cfg.pace, e.retry_after) {
                        p.retry_after(&host.key, wait).await;
                    }
                    if gave_up {
                        let why = host.given_up().unwrap_or_default();
                        e.message = format!("{}; host given up: {why}", e.message);
                        return Err(e);
                    }
                    if attempt >= self.cfg.retries {
                        return Err(e);
                    }
                    attempt += 1;
                    tracing::debug!(url = %url, error = %e, attempt, "retrying");
                }
                // A URL no request could be made of says nothing of its
                // host: neither a failure nor a success of it.
                Err(e) if e.kind == ErrorKind::BadUrl => return Err(e),
                other => {
                    host.success();
                    return other;
                }
            }
        }
    }

    /// One request; steps 5–6 for its response.
    async fn once(
        &self,
        url: &Url,
        want: Want,
        validators: &Validators,
    ) -> Result<Step, FetchError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(url = %url, "GET");
        // Tests make a request panic here: the crawl's task isolation.
        fail::fail_point!("fetch");
        let (req, request_headers) = self.request(url, want, validators);
        let mut resp = req.send().await.map_err(|e| self.send_error(url, &e))?;
        let head = Head::of(&resp, request_headers);
        if matches!(head.status, 301 | 302 | 303 | 307 | 308) {
            return redirect(url, &head).map(Step::Redirect);
        }
        if head.status == 304 && !validators.is_empty() {
            return Ok(Step::Done(Box::new(head.fetched(url, Vec::new()))));
        }
        if !(200..300).contains(&head.status) {
            let retry_after = head
                .text(header::RETRY_AFTER)
                .and_then(|v| parse_retry_after(&v));
            return Err(FetchError::http(url, head.status, retry_after));
        }
        if want == Want::Page
            && let Some(ct) = head.text(header::CONTENT_TYPE)
            && !is_html(&ct)
        {
            return Err(FetchError::new(
                ErrorKind::NotHtml,
                url,
                format!("not HTML ({ct})"),
            ));
        }
        let body = self.body(url, want, &mut resp).await?;
        Ok(Step::Done(Box::new(head.fetched(url, body))))
    }

    /// The request for `url`, conditional on `validators`, with the headers
    /// it sends as the WARC records them.
    fn request(
        &self,
        url: &Url,
        want: Want,
        validators: &Validators,
    ) -> (reqwest::RequestBuilder, Vec<(String, String)>) {
        let mut request_headers = vec![
            ("Host".into(), url.host_str().unwrap_or("").to_string()),
            ("User-Agent".into(), self.cfg.user_agent.clone()),
            ("Accept".into(), want.accept().to_string()),
            ("Accept-Encoding".into(), "gzip, br, deflate".into()),
        ];
        let mut req = self
            .client
            .get(url.clone())
            .header(header::ACCEPT, want.accept());
        // A stored value that is not a valid header value (it came from a
        // server, and the state file can be edited) is not sent.
        for (name, title, value) in [
            (header::IF_NONE_MATCH, "If-None-Match", &validators.etag),
            (
                header::IF_MODIFIED_SINCE,
                "If-Modified-Since",
                &validators.last_modified,
            ),
        ] {
            if let Some(v) = value
                && let Ok(hv) = header::HeaderValue::from_str(v)
            {
                req = req.header(name, hv);
                request_headers.push((title.to_string(), v.clone()));
            }
        }
        (req, request_headers)
    }

    /// Step 6: the body, streamed and bounded by `max_body` (a robots.txt
    /// or sitemap is cut at the limit instead of refused).
    async fn body(
        &self,
        url: &Url,
        want: Want,
        resp: &mut reqwest::Response,
    ) -> Result<Vec<u8>, FetchError> {
        // robots.txt: one byte past the limit tells the parser the file went
        // on, so that it drops the cut last line.
        let max = match want {
            Want::Robots => robots::MAX_ROBOTS_BYTES as u64 + 1,
            _ => self.cfg.max_body,
        };
        let too_large = |n: &str| {
            FetchError::new(
                ErrorKind::TooLarge,
                url,
                format!("body larger than {max} bytes ({n}; see --max-body)"),
            )
        };
        // Robots.txt (RFC 9309) and sitemaps are read up to the limit and
        // parsed as far as they go: a list cut short still lists pages.
        let truncate = matches!(want, Want::Robots | Want::Sitemap);
        // Content-Length is the compressed size when there is an encoding; it
        // still refuses honest giants without reading a byte.
        if !truncate
            && let Some(n) = resp.content_length()
            && n > max
        {
            return Err(too_large(&format!("Content-Length {n}")));
        }
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.body_error(url, &e))? {
            if (body.len() + chunk.len()) as u64 > max {
                if truncate {
                    body.extend_from_slice(&chunk[..max as usize - body.len()]);
                    tracing::debug!(url = %url, max, "body cut at the limit");
                    break;
                }
                return Err(too_large("stopped reading"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl Fetcher {
    /// A request that got no response head; a timeout says which limit.
    fn send_error(&self, url: &Url, e: &reqwest::Error) -> FetchError {
        let mut err = FetchError::from_reqwest(url, e);
        if err.kind == ErrorKind::Timeout {
            let (what, limit, flag) = if e.is_connect() {
                (
                    "no connection",
                    self.cfg.connect_timeout,
                    "--connect-timeout",
                )
            } else {
                ("no reply", self.cfg.timeout, "--timeout")
            };
            err.message = format!(
                "{what} within {:.1} s (see {flag}): {}",
                limit.as_secs_f64(),
                err.message
            );
        }
        err
    }

    /// A body that could not be read whole; a timeout here is a body that
    /// drips or stalls past the request's time limit.
    fn body_error(&self, url: &Url, e: &reqwest::Error) -> FetchError {
        let mut err = FetchError::from_body(url, e);
        if err.kind == ErrorKind::Timeout {
            err.message = format!(
                "body not complete within {:.1} s (see --timeout): {}",
                self.cfg.timeout.as_secs_f64(),
                err.message
            );
        }
        err
    }
}

fn cancelled(url: &Url) -> FetchError {
    FetchError::new(ErrorKind::Cancelled, url, "crawl stopped")
}

fn without_fragment(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    u
}

/// `text/html; charset=gbk` → HTML; so is XHTML.
pub fn is_html(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(essence.as_str(), "text/html" | "application/xhtml+xml" | "")
}

/// `Retry-After`: delay-seconds or an HTTP-date. Anything else (a negative
/// number, a fraction, junk) is `None`: as if absent, so the host gets the
/// default backoff. Any length parses; the host decides what is too long.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than a u64 holds is still a (very) long wait.
        return Some(v.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// Now, RFC 3339 in UTC to the second.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(d <= Duration::from_secs(30) && d >= Duration::from_secs(28));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(
            parse_retry_after("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999"),
            Some(Duration::MAX)
        );
        assert_eq!(parse_retry_after("+5"), None);
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
        assert!(far > Duration::from_secs(7000 * 365 * 86_400), "{far:?}");
        assert!(is_html("text/html; charset=GBK"));
        assert!(is_html("Application/XHTML+XML"));
        assert!(!is_html("application/pdf"));
        assert_eq!(product_token(DEFAULT_USER_AGENT), "parkcrawl");
        assert_eq!(host_key(&Url::parse("https://A.cn/x").unwrap()), "a.cn:443");
        assert_eq!(
            host_key(&Url::parse("http://a.cn.:80/").unwrap()),
            "a.cn:80"
        );
    }
}
