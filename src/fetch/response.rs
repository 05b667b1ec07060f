//! A response as received: its head (status, headers, the peer's address)
//! before the body is read, the [`Fetched`] it becomes with its body, and
//! where a redirect leads.

use reqwest::header::{self, HeaderMap};
use url::Url;

use super::{ErrorKind, FetchError, Fetched, now_rfc3339};

/// A response head as received, before the body is read.
pub(super) struct Head {
    pub(super) status: u16,
    pub(super) reason: String,
    pub(super) ip: Option<String>,
    pub(super) headers: HeaderMap,
    pub(super) request_headers: Vec<(String, String)>,
}

impl Head {
    pub(super) fn of(resp: &reqwest::Response, request_headers: Vec<(String, String)>) -> Head {
        Head {
            status: resp.status().as_u16(),
            reason: resp.status().canonical_reason().unwrap_or("").to_string(),
            ip: resp.remote_addr().map(|a| a.ip().to_string()),
            headers: resp.headers().clone(),
            request_headers,
        }
    }

    /// A header's value, when it is text.
    pub(super) fn text(&self, name: header::HeaderName) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The response as [`Fetched`], with `body`.
    pub(super) fn fetched(self, url: &Url, body: Vec<u8>) -> Fetched {
        let response_headers = self
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Fetched {
            url: url.clone(),
            status: self.status,
            content_type: self.text(header::CONTENT_TYPE),
            etag: self.text(header::ETAG),
            last_modified: self.text(header::LAST_MODIFIED),
            fetched_at: now_rfc3339(),
            body,
            request_headers: self.request_headers,
            response_headers,
            reason: self.reason,
            ip: self.ip,
        }
    }
}

/// Step 5: where a redirect leads (http or https only).
pub(super) fn redirect(url: &Url, head: &Head) -> Result<Url, FetchError> {
    let loc = head
        .text(header::LOCATION)
        .ok_or_else(|| FetchError::new(ErrorKind::BadUrl, url, "redirect without Location"))?;
    let next = url.join(loc.trim()).map_err(|e| {
        FetchError::new(ErrorKind::BadUrl, url, format!("bad Location {loc:?}: {e}"))
    })?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(FetchError::new(
            ErrorKind::BadUrl,
            url,
            format!("redirect to {}", next.scheme()),
        ));
    }
    Ok(next)
}
