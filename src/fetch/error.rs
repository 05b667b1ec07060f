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
    /// The reply ended before it was complete: a body shorter than its
    /// Content-Length, a chunked body cut off, a connection closed or reset
    /// mid-reply. Transient: the next try usually gets it whole.
    Truncated,
    /// The reply is not HTTP as the server must speak it: a non-HTTP
    /// greeting or garbage, a head too large (too many headers, a huge
    /// line), invalid chunk framing. Permanent for the URL: a server that
    /// sends this sends it again.
    Protocol,
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
    /// so that it costs this page only; so is a panic while fetching it
    /// (caught where the crawl joins the page's task). Not retried: it would
    /// panic again.
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
            ErrorKind::Truncated => "truncated",
            ErrorKind::Protocol => "protocol",
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

    /// Worth another try after a pause: connect errors, timeouts, truncated
    /// replies, 408, 429 and 5xx (but 501 and 505, which will not change).
    pub fn is_transient(&self) -> bool {
        match self.kind {
            ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Truncated => true,
            ErrorKind::Http => matches!(
                self.status,
                Some(408 | 429 | 500 | 502 | 503 | 504 | 507 | 509 | 520..=599)
            ),
            _ => false,
        }
    }

    /// Classifies a reqwest error from sending the request or reading the
    /// response head.
    pub fn from_reqwest(url: &Url, e: &reqwest::Error) -> FetchError {
        let (kind, message) = classify(e);
        FetchError::new(kind, url, message)
    }

    /// Classifies a reqwest error from reading the body: a connection that
    /// breaks now has cut the reply short.
    pub fn from_body(url: &Url, e: &reqwest::Error) -> FetchError {
        let (kind, message) = classify(e);
        let kind = if kind == ErrorKind::Connect {
            ErrorKind::Truncated
        } else {
            kind
        };
        FetchError::new(kind, url, message)
    }
}

/// The kind and a one-line message of a reqwest error, from the most
/// telling cause in its source chain. reqwest's own flags are too coarse:
/// it calls every failure to read a response head "error sending request"
/// (`is_connect` or nothing), and every body error "error decoding response
/// body" (`is_decode`), whether the server sent garbage, cut the body short
/// or the gzip stream was corrupt.
fn classify(e: &reqwest::Error) -> (ErrorKind, String) {
    let detail = error_chain(e);
    if e.is_builder() {
        // No request could be made of this URL (too long, invalid for
        // HTTP): the URL's fault, not the host's, and not worth a retry.
        return (ErrorKind::BadUrl, detail);
    }
    let said = |lead: &str| -> String {
        if detail.is_empty() || detail.to_ascii_lowercase().starts_with(lead) {
            detail.clone()
        } else {
            format!("{lead}: {detail}")
        }
    };
    // A hyper error above an io error: the io error is hyper's reading of
    // the wire (chunk framing), not a decompressor's.
    let mut seen_hyper = false;
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(u) = s.downcast_ref::<super::safety::UnsafeAddress>() {
            return (ErrorKind::Unsafe, u.to_string());
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            seen_hyper = true;
            if h.is_timeout() {
                return (ErrorKind::Timeout, said("timed out"));
            }
            if h.is_parse() || h.is_parse_status() {
                return (ErrorKind::Protocol, said("malformed reply"));
            }
            if h.is_incomplete_message() {
                return (ErrorKind::Truncated, said("reply cut short"));
            }
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            match io.kind() {
                Io::TimedOut => return (ErrorKind::Timeout, said("timed out")),
                Io::UnexpectedEof => return (ErrorKind::Truncated, said("reply cut short")),
                Io::InvalidData | Io::InvalidInput if seen_hyper => {
                    return (ErrorKind::Protocol, said("malformed reply"));
                }
                Io::ConnectionRefused => return (ErrorKind::Connect, said("connection refused")),
                Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe => {
                    return (ErrorKind::Connect, said("connection reset"));
                }
                _ => {}
            }
        }
        src = s.source();
    }
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_decode() {
        ErrorKind::Encoding
    } else if e.is_body() {
        ErrorKind::Truncated
    } else {
        ErrorKind::Connect
    };
    (kind, detail)
}

/// An error and its causes on one line, without the URL and without the
/// wrappers that say nothing (reqwest's "error sending request for url
/// (…)", hyper-util's "client error (Connect)"); reqwest's own message when
/// nothing else is left.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let m = s.to_string();
        let wrapper = s.is::<reqwest::Error>() || m.starts_with("client error (");
        if !wrapper && !m.is_empty() && !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        src = s.source();
    }
    if parts.is_empty() {
        // reqwest puts the URL in its message; the URL is reported apart.
        let m = e.to_string();
        return m
            .split(" for url (")
            .next()
            .unwrap_or(&m)
            .trim()
            .to_string();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client() -> reqwest::Client {
        // reqwest is built without a default TLS provider (see Fetcher::new).
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    /// The error of one GET (head and body read) against a loopback server
    /// that answers with `reply` and closes.
    async fn error_of(reply: &'static [u8]) -> FetchError {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(reply).await;
        });
        let url = Url::parse(&format!("http://{addr}/")).unwrap();
        let client = client();
        let mut resp = match client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => return FetchError::from_reqwest(&url, &e),
        };
        loop {
            match resp.chunk().await {
                Ok(Some(_)) => {}
                Ok(None) => panic!("{reply:?} read whole"),
                Err(e) => return FetchError::from_body(&url, &e),
            }
        }
    }

    #[tokio::test]
    async fn kinds_come_from_the_source_chain() {
        let cases: [(&[u8], ErrorKind, &str); 6] = [
            (
                b"SSH-2.0-OpenSSH_9.6\r\n",
                ErrorKind::Protocol,
                "malformed reply",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
                ErrorKind::Truncated,
                "reply cut short",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                ErrorKind::Protocol,
                "chunk size",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab",
                ErrorKind::Truncated,
                "reply cut short",
            ),
            (b"", ErrorKind::Truncated, "reply cut short"),
            // Whole by HTTP's framing, but not gzip: the server's bug, and
            // permanent.
            (
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzip at all",
                ErrorKind::Encoding,
                "",
            ),
        ];
        for (reply, kind, says) in cases {
            let e = error_of(reply).await;
            assert_eq!(e.kind, kind, "{reply:?}: {e}");
            assert!(e.message.contains(says), "{reply:?}: {e}");
            assert_eq!(e.is_transient(), kind == ErrorKind::Truncated);
            assert!(!e.message.contains("127.0.0.1"), "no URL: {e}");
        }
    }

    #[tokio::test]
    async fn a_refused_connection_says_so() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let url = Url::parse(&format!("http://{addr}/")).unwrap();
        let e = client().get(url.clone()).send().await.unwrap_err();
        let e = FetchError::from_reqwest(&url, &e);
        assert_eq!(e.kind, ErrorKind::Connect);
        assert!(e.message.starts_with("connection refused"), "{e}");
        assert!(e.is_transient());
    }

    #[test]
    fn a_request_that_cannot_be_built_is_a_permanent_bad_url() {
        let url = Url::parse("http://a.test/").unwrap();
        // An invalid header name fails in the request builder, as a URI the
        // HTTP stack refuses does.
        let e = client()
            .get(url.clone())
            .header("bad\nname", "x")
            .build()
            .unwrap_err();
        assert!(e.is_builder());
        let f = FetchError::from_reqwest(&url, &e);
        assert_eq!(f.kind, ErrorKind::BadUrl);
        assert!(!f.is_transient());
    }
}
