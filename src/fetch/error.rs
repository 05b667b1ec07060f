//! Why a fetch failed, classified: transient failures are retried (with the
//! host backed off), permanent ones are reported once, and some outcomes are
//! not failures at all but a page deliberately skipped.

use std::time::Duration;

use url::Url;

/// The kind of a failure, as written to the errors file (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// An HTTP status ≥ 400 (after retries when it was transient).
    Http,
    Connect,
    Timeout,
    /// The connection broke while the body was read.
    Body,
    /// The body could not be decompressed.
    Encoding,
    TooLarge,
    /// A redirect without a usable `Location`, or an unparsable URL.
    BadUrl,
    RedirectLoop,
    TooManyRedirects,
    /// robots.txt could not be read (5xx, unreachable): disallow for now.
    RobotsUnavailable,
    /// The host failed too often or asked for too long a pause.
    HostUnavailable,
    /// decode or clean refused the page.
    Content,
    /// Cleaning the page panicked: a bug of ours, caught (`crate::isolate`)
    /// so that it costs this page only. Not retried: it would panic again.
    Internal,
    // Skips: deliberate, not failures of the site or the crawler.
    Disallowed,
    NotHtml,
    OutOfScope,
    /// A private, loopback or link-local address reached from a public page.
    Unsafe,
    Duplicate,
    Cancelled,
}

impl ErrorKind {
    /// Whether this outcome is a policy decision rather than a failure: it is
    /// counted as skipped and does not make the exit code 1.
    pub fn is_skip(self) -> bool {
        matches!(
            self,
            ErrorKind::Disallowed
                | ErrorKind::NotHtml
                | ErrorKind::OutOfScope
                | ErrorKind::Unsafe
                | ErrorKind::Duplicate
                | ErrorKind::Cancelled
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Http => "http",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Body => "body",
            ErrorKind::Encoding => "encoding",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::BadUrl => "bad_url",
            ErrorKind::RedirectLoop => "redirect_loop",
            ErrorKind::TooManyRedirects => "too_many_redirects",
            ErrorKind::RobotsUnavailable => "robots_unavailable",
            ErrorKind::HostUnavailable => "host_unavailable",
            ErrorKind::Content => "content",
            ErrorKind::Internal => "internal",
            ErrorKind::Disallowed => "disallowed",
            ErrorKind::NotHtml => "not_html",
            ErrorKind::OutOfScope => "out_of_scope",
            ErrorKind::Unsafe => "unsafe",
            ErrorKind::Duplicate => "duplicate",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct FetchError {
    pub kind: ErrorKind,
    /// The URL that failed (the last hop of a redirect chain); boxed to keep
    /// `Result`s small.
    pub url: Box<Url>,
    pub status: Option<u16>,
    pub message: String,
    /// What the server asked for with `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl FetchError {
    pub fn new(kind: ErrorKind, url: &Url, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            url: Box::new(url.clone()),
            status: None,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn http(url: &Url, status: u16, retry_after: Option<Duration>) -> FetchError {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        FetchError {
            kind: ErrorKind::Http,
            url: Box::new(url.clone()),
            status: Some(status),
            message: format!("HTTP {status} {reason}").trim_end().to_string(),
            retry_after,
        }
    }

    /// Worth another try after a pause: connect errors, timeouts, broken
    /// bodies, 408, 429 and 5xx (but 501 and 505, which will not change).
    pub fn is_transient(&self) -> bool {
        match self.kind {
            ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Body => true,
            ErrorKind::Http => matches!(
                self.status,
                Some(408 | 429 | 500 | 502 | 503 | 504 | 507 | 509 | 520..=599)
            ),
            _ => false,
        }
    }

    /// Classifies a reqwest error; `Unsafe` when our resolver refused the
    /// address (found in the error's source chain).
    pub fn from_reqwest(url: &Url, e: &reqwest::Error) -> FetchError {
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = src {
            if let Some(u) = s.downcast_ref::<super::safety::UnsafeAddress>() {
                return FetchError::new(ErrorKind::Unsafe, url, u.to_string());
            }
            src = s.source();
        }
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.is_connect() {
            ErrorKind::Connect
        } else if e.is_decode() {
            ErrorKind::Encoding
        } else if e.is_body() {
            ErrorKind::Body
        } else {
            ErrorKind::Connect
        };
        FetchError::new(kind, url, error_chain(e))
    }
}

/// An error and its causes on one line, without repeating the URL.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let m = s.to_string();
        if !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        src = s.source();
    }
    // reqwest puts the URL in its message; the URL is reported separately.
    parts
        .join(": ")
        .replace(" for url (", " (")
        .split(" (http")
        .next()
        .unwrap_or("")
        .to_string()
}
