//! Origins: the unit of scope and of trust. An origin is a scheme, a host
//! and a port (RFC 6454): `http://seed.test:8081` is another origin than
//! `http://seed.test`, as it is another server, so a link or a redirect
//! there is neither in the seeds' scope nor trusted as a seed.
//!
//! The host is compared in lower case and without a trailing dot:
//! `seed.test.` names the same DNS host as `seed.test` (the dot only says
//! the name is fully qualified), so `http://seed.test./` is the seed's
//! origin, but `http://seed.test.:8081/` is not. The port is the URL's, or
//! the scheme's default (80, 443), so `http://seed.test:80/` is the seed's.

use std::fmt;

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub scheme: String,
    /// Lower case, no trailing dot; an IPv6 address in brackets.
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// The origin of an http(s) URL; `None` for other schemes or no host.
    pub fn of(url: &Url) -> Option<Origin> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        let host = normal_host(url.host_str()?);
        if host.is_empty() {
            return None;
        }
        Some(Origin {
            scheme: url.scheme().to_string(),
            host,
            port: url.port_or_known_default()?,
        })
    }

    /// Whether `self` is `other`, or the same host with the other web
    /// scheme on its default port (`http://a.cn` and `https://a.cn`).
    /// Portals link both ways between the two (an https page with http
    /// links in old articles, or the reverse), and they are one site: the
    /// same name on the two ports every web host answers. Another port is
    /// another server, and never the same site.
    pub fn same_site(&self, other: &Origin) -> bool {
        self == other || (self.default_port() && other.default_port() && self.host == other.host)
    }

    /// On its scheme's default port (80 for http, 443 for https).
    pub fn default_port(&self) -> bool {
        matches!(
            (self.scheme.as_str(), self.port),
            ("http", 80) | ("https", 443)
        )
    }
}

/// A host name as compared: lower case, trailing dots removed.
pub fn normal_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if !self.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(s: &str) -> Origin {
        Origin::of(&Url::parse(s).unwrap()).unwrap()
    }

    #[test]
    fn scheme_host_and_port() {
        assert_eq!(o("http://Seed.Test/a"), o("http://seed.test:80/b?c"));
        assert_eq!(o("http://seed.test./"), o("http://seed.test/"));
        assert_ne!(o("http://seed.test:8081/"), o("http://seed.test/"));
        assert_ne!(o("http://seed.test.:8081/"), o("http://seed.test/"));
        assert_ne!(o("https://seed.test/"), o("http://seed.test/"));
        assert!(o("https://seed.test/").same_site(&o("http://seed.test/")));
        assert!(!o("https://seed.test:8443/").same_site(&o("http://seed.test/")));
        assert!(!o("http://seed.test:8080/").same_site(&o("http://seed.test/")));
        assert!(!o("http://www.seed.test/").same_site(&o("http://seed.test/")));
        assert_ne!(o("http://seed.test:443/"), o("https://seed.test/"));
        assert_eq!(
            o("http://seed.test:8081/").to_string(),
            "http://seed.test:8081"
        );
        assert_eq!(o("https://[::1]/").to_string(), "https://[::1]");
        assert_eq!(o("http://0x7f.1/").host, "127.0.0.1");
        for bad in ["mailto:a@b.cn", "file:///etc/passwd", "data:text/html,x"] {
            assert_eq!(Origin::of(&Url::parse(bad).unwrap()), None, "{bad}");
        }
    }
}
