//! URL canonicalisation, so that each page is fetched once per run: the
//! fragment goes, host case and default ports are normalised (by `url`),
//! query parameters are sorted by name, tracking parameters (`utm_*` always,
//! plus the site rule's `strip_params`) and an empty query are dropped.
//! A URL longer than [`MAX_URL_LEN`] has no canonical form: it is not
//! crawled.

use std::borrow::Cow;

use url::Url;

pub use crate::fetch::MAX_URL_LEN;

/// How much of a URL a message shows.
const SHOWN: usize = 200;

/// The canonical form of `url`, or `None` when it is not an http(s) URL with
/// a host (mailto:, javascript:, data:, …) or is longer than [`MAX_URL_LEN`].
pub fn canonicalize(url: &Url, strip_params: &[String]) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    let mut u = url.clone();
    u.set_fragment(None);
    // `url` already lower-cases the host and drops a default port; a
    // trailing dot names the same host.
    if let Some(h) = u.host_str()
        && h.ends_with('.')
        && h.len() > 1
    {
        let h = h.trim_end_matches('.').to_string();
        u.set_host(Some(&h)).ok()?;
    }
    let _ = u.set_username("");
    let _ = u.set_password(None);

    let query = u.query().map(|q| {
        let mut params: Vec<&str> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| !is_tracking(param_name(p), strip_params))
            .collect();
        // Stable: repeated names keep their relative order, which can matter.
        params.sort_by(|a, b| param_name(a).cmp(param_name(b)));
        params.join("&")
    });
    match query {
        Some(q) if !q.is_empty() => u.set_query(Some(&q)),
        _ => u.set_query(None),
    }
    (u.as_str().len() <= MAX_URL_LEN).then_some(u)
}

/// `url` as a message shows it: whole when short, else its first 200 bytes
/// (cut on a character boundary) and its length, so that a 100 KB URL is
/// not a 100 KB error line.
pub fn shown(url: &str) -> Cow<'_, str> {
    if url.len() <= SHOWN {
        return Cow::Borrowed(url);
    }
    // The longest whole-character prefix within SHOWN bytes.
    let head: String = url
        .char_indices()
        .take_while(|(i, c)| i + c.len_utf8() <= SHOWN)
        .map(|(_, c)| c)
        .collect();
    Cow::Owned(format!("{head}… ({} bytes)", url.len()))
}

fn param_name(p: &str) -> &str {
    p.split_once('=').map_or(p, |(k, _)| k)
}

fn is_tracking(name: &str, strip: &[String]) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || strip.iter().any(|s| s.eq_ignore_ascii_case(&name))
}

/// `url` without user name and password, for messages and the errors file.
pub fn redact(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonicalize(&Url::parse(s).unwrap(), &["spm".to_string()])
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn variants_of_one_page_agree() {
        let want = "http://sh.taxs.vip/news/view.html?a=1&id=5101";
        for v in [
            "http://sh.taxs.vip/news/view.html?id=5101&a=1",
            "HTTP://SH.TAXS.VIP:80/news/view.html?a=1&id=5101#top",
            "http://sh.taxs.vip./news/view.html?utm_source=wx&a=1&id=5101",
            "http://sh.taxs.vip/news/view.html?a=1&&id=5101&SPM=3.1",
            "http://user:pw@sh.taxs.vip/news/view.html?a=1&id=5101&UTM_Medium=x",
        ] {
            assert_eq!(c(v), want, "{v}");
        }
        assert_eq!(c("http://a.cn/p?utm_source=x"), "http://a.cn/p");
        assert_eq!(c("http://a.cn/p?"), "http://a.cn/p");
        assert_eq!(c("https://a.cn:443"), "https://a.cn/");
        assert_eq!(c("http://a.cn:8080/"), "http://a.cn:8080/");
        // Repeated names keep their order; paths keep their case.
        assert_eq!(c("http://a.cn/P?b=2&a=2&a=1"), "http://a.cn/P?a=2&a=1&b=2");
        assert_eq!(c("mailto:x@a.cn"), "");
        assert_eq!(c("javascript:void(0)"), "");
        let long = format!("http://a.cn/{}", "x".repeat(MAX_URL_LEN));
        assert_eq!(c(&long), "");
        // Tracking parameters go before the length is judged.
        let tracked = format!("http://a.cn/p?utm_x={}", "x".repeat(MAX_URL_LEN));
        assert_eq!(c(&tracked), "http://a.cn/p");
    }

    #[test]
    fn long_urls_are_shown_short() {
        assert_eq!(shown("http://a.cn/"), "http://a.cn/");
        let long = format!("http://a.cn/{}", "数".repeat(100));
        let s = shown(&long);
        assert!(s.ends_with(&format!("… ({} bytes)", long.len())), "{s}");
        assert!(s.len() < 230);
    }

    #[test]
    fn redaction() {
        let u = Url::parse("https://u:p@a.cn/x").unwrap();
        assert_eq!(redact(&u), "https://a.cn/x");
    }
}
