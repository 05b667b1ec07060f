//! Safety: a public page must not lead the crawler into a private network.
//! Addresses are checked after resolution (the `--resolve` map or DNS), both
//! before a request and inside reqwest's resolver, so that a host which
//! resolves differently the second time gains nothing.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether an address is on the public internet: not private, loopback,
/// link-local, unspecified, shared (CGNAT), documentation, multicast or
/// unique-local.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

/// A host resolved to an address the crawl may not visit.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} resolves to {ip}, a non-public address (see --allow-private)")]
pub struct UnsafeAddress {
    pub host: String,
    pub ip: IpAddr,
}

/// Who may be reached where.
#[derive(Debug, Default)]
pub struct Policy {
    /// `--resolve HOST:IP:PORT`: host (lower case) → address.
    pub resolve: HashMap<String, SocketAddr>,
    /// Hosts named by the seeds: they may be anywhere.
    pub trusted: HashSet<String>,
    /// `--allow-private`: no checks at all.
    pub allow_private: bool,
}

impl Policy {
    /// Resolves `host` (the map first, then DNS) and checks every address.
    pub async fn resolve_checked(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let addrs: Vec<SocketAddr> = if let Some(a) = self.resolve.get(&host) {
            vec![*a]
        } else if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            vec![SocketAddr::new(ip, port)]
        } else {
            tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect()
        };
        self.check(&host, &addrs)?;
        Ok(addrs)
    }

    /// Whether `host` (lower case) may be at any address.
    pub fn exempt(&self, host: &str) -> bool {
        self.allow_private || self.trusted.contains(host)
    }

    pub fn check(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), UnsafeAddress> {
        if self.exempt(host) {
            return Ok(());
        }
        match addrs.iter().find(|a| !is_public(a.ip())) {
            Some(a) => Err(UnsafeAddress {
                host: host.to_string(),
                ip: a.ip(),
            }),
            None => Ok(()),
        }
    }
}

/// reqwest's resolver: the same map and the same check.
#[derive(Debug, Clone)]
pub struct CheckedResolver(pub Arc<Policy>);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            // Port 0: reqwest puts in the URL's port (or the scheme's).
            let addrs = policy.resolve_checked(name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "120.55.1.1", "2400:3200::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn trusted_hosts_and_the_map() {
        let mut p = Policy::default();
        p.resolve
            .insert("a.test".into(), "127.0.0.1:8080".parse().unwrap());
        p.resolve
            .insert("b.test".into(), "127.0.0.1:8080".parse().unwrap());
        p.trusted.insert("a.test".into());
        assert!(p.resolve_checked("A.test", 80).await.is_ok());
        let e = p.resolve_checked("b.test", 80).await.unwrap_err();
        assert!(e.to_string().contains("non-public"), "{e}");
        assert!(p.resolve_checked("10.0.0.1", 80).await.is_err());
        p.allow_private = true;
        assert!(p.resolve_checked("b.test", 80).await.is_ok());
    }
}
