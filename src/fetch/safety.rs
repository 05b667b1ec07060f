//! Safety: a public page must not lead the crawler into a private network.
//! Addresses are checked after resolution (the `--resolve` map or DNS), both
//! before a request and inside reqwest's resolver, so that a host which
//! resolves differently the second time gains nothing. A URL naming an
//! address (`http://0x7f.1/`, `http://2130706433/`, `http://[::127.0.0.2]/`)
//! reaches the check as the `url` crate normalised it (`127.0.0.1`,
//! `[::7f00:2]`), before every hop: reqwest does not ask a resolver about
//! an address, so the check before the request is the one that counts.
//!
//! Not public ([`not_public`]): the special-use ranges of RFC 6890 and its
//! updates, and for IPv6 anything outside 2000::/3 (unassigned). IPv6 forms
//! that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64
//! 64:ff9b::/96, 6to4 2002::/16) are judged by that address. Teredo
//! (2001::/32, inside 2001::/23) is refused, not decoded.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::origin::{Origin, normal_host};

/// The IPv4 special-use ranges of RFC 6890 (and its updates) that are not
/// on the public internet, with the name the registry gives them.
#[rustfmt::skip]
const SPECIAL_V4: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0),      8, "this network"),
    (Ipv4Addr::new(10, 0, 0, 0),     8, "private"),
    (Ipv4Addr::new(100, 64, 0, 0),  10, "shared address space (CGNAT)"),
    (Ipv4Addr::new(127, 0, 0, 0),    8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0),  12, "private"),
    (Ipv4Addr::new(192, 0, 0, 0),   24, "IETF protocol assignments"),
    (Ipv4Addr::new(192, 0, 2, 0),   24, "documentation (TEST-NET-1)"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay anycast (deprecated)"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private"),
    (Ipv4Addr::new(198, 18, 0, 0),  15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation (TEST-NET-2)"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation (TEST-NET-3)"),
    (Ipv4Addr::new(224, 0, 0, 0),    4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0),    4, "reserved (and broadcast)"),
];

/// What an IPv6 special-use range means to the guard.
#[derive(Debug, Clone, Copy)]
enum V6Class {
    NotPublic,
    /// The range carries an IPv4 address, and that address's class decides:
    /// `::ffff:127.0.0.1` is loopback, `64:ff9b::808:808` is 8.8.8.8.
    Embeds(fn(Ipv6Addr) -> Ipv4Addr),
}

/// The IPv6 special-use ranges, most specific first (`::1` before `::/96`).
/// An address in none of them is public only inside 2000::/3, the global
/// unicast space: the rest of the address space is unassigned.
#[rustfmt::skip]
const SPECIAL_V6: &[(Ipv6Addr, u8, &str, V6Class)] = &[
    (Ipv6Addr::UNSPECIFIED,                    128, "unspecified", V6Class::NotPublic),
    (Ipv6Addr::LOCALHOST,                      128, "loopback", V6Class::NotPublic),
    (v6(0, 0, 0, 0, 0, 0xffff, 0, 0),           96, "IPv4-mapped", V6Class::Embeds(low32)),
    // Deprecated (RFC 4291), but a URL can still name `[::127.0.0.2]`.
    (v6(0, 0, 0, 0, 0, 0, 0, 0),                96, "IPv4-compatible", V6Class::Embeds(low32)),
    (v6(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),        96, "NAT64 well-known prefix", V6Class::Embeds(low32)),
    (v6(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),        48, "NAT64 local use", V6Class::NotPublic),
    (v6(0x100, 0, 0, 0, 0, 0, 0, 0),            64, "discard-only", V6Class::NotPublic),
    // Teredo (2001::/32) is in here: its client address is obfuscated and
    // it is a tunnel, not a site; it is refused rather than decoded.
    (v6(0x2001, 0, 0, 0, 0, 0, 0, 0),           23, "IETF protocol assignments (incl. Teredo)", V6Class::NotPublic),
    (v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),       32, "documentation", V6Class::NotPublic),
    (v6(0x2002, 0, 0, 0, 0, 0, 0, 0),           16, "6to4", V6Class::Embeds(six_to_four)),
    (v6(0x3fff, 0, 0, 0, 0, 0, 0, 0),           20, "documentation", V6Class::NotPublic),
    (v6(0x5f00, 0, 0, 0, 0, 0, 0, 0),           16, "segment routing (SRv6)", V6Class::NotPublic),
    (v6(0xfc00, 0, 0, 0, 0, 0, 0, 0),            7, "unique local", V6Class::NotPublic),
    (v6(0xfe80, 0, 0, 0, 0, 0, 0, 0),           10, "link-local", V6Class::NotPublic),
    (v6(0xfec0, 0, 0, 0, 0, 0, 0, 0),           10, "site-local (deprecated)", V6Class::NotPublic),
    (v6(0xff00, 0, 0, 0, 0, 0, 0, 0),            8, "multicast", V6Class::NotPublic),
];

#[allow(clippy::too_many_arguments)]
const fn v6(a: u16, b: u16, c: u16, d: u16, e: u16, f: u16, g: u16, h: u16) -> Ipv6Addr {
    Ipv6Addr::new(a, b, c, d, e, f, g, h)
}

/// The last 32 bits (mapped, compatible, NAT64 /96).
fn low32(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from(u128::from(ip) as u32)
}

/// 6to4: `2002:AABB:CCDD::/48` carries AA.BB.CC.DD.
fn six_to_four(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) >> 80) as u32)
}

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// The special-use range `ip` is in, by name (`None`: an ordinary address).
fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => SPECIAL_V4
            .iter()
            .find(|(net, len, _)| in_v4(v4, *net, *len))
            .map(|r| r.2),
        IpAddr::V6(v6) => special_v6(v6).map(|r| r.2),
    }
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static (Ipv6Addr, u8, &'static str, V6Class)> {
    SPECIAL_V6
        .iter()
        .find(|(net, len, _, _)| in_v6(ip, *net, *len))
}

/// Why an address is not on the public internet (`None`: it is). It is not
/// when it is in one of the special-use ranges of RFC 6890 (private,
/// loopback, link-local, shared, documentation, benchmarking, multicast,
/// reserved, …). An IPv6 address that embeds an IPv4 address (mapped,
/// compatible, NAT64, 6to4) is judged by that IPv4 address, since that is
/// where a connection would end up.
pub fn not_public(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(_) => special_range(ip).map(str::to_string),
        IpAddr::V6(v6) => match special_v6(v6) {
            Some((_, _, name, V6Class::Embeds(f))) => {
                let v4 = f(v6);
                not_public(IpAddr::V4(v4)).map(|why| format!("{name} {v4}, {why}"))
            }
            Some((_, _, name, V6Class::NotPublic)) => Some(name.to_string()),
            None if in_v6(v6, v6_global(), 3) => None,
            None => Some("unassigned (outside 2000::/3)".to_string()),
        },
    }
}

pub fn is_public(ip: IpAddr) -> bool {
    not_public(ip).is_none()
}

/// 2000::/3, global unicast.
const fn v6_global() -> Ipv6Addr {
    v6(0x2000, 0, 0, 0, 0, 0, 0, 0)
}

/// A host resolved to an address the crawl may not visit.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} resolves to {ip}, a non-public address ({why}; see --allow-private)")]
pub struct UnsafeAddress {
    pub host: String,
    pub ip: IpAddr,
    /// The special-use range, e.g. `loopback`.
    pub why: String,
}

/// Who may be reached where.
#[derive(Debug, Default)]
pub struct Policy {
    /// `--resolve HOST:IP:PORT`: host (lower case) → address.
    pub resolve: HashMap<String, SocketAddr>,
    /// The seeds' origins: they may be anywhere. Another port of a seed's
    /// host is another server, and is not trusted.
    pub trusted: HashSet<Origin>,
    /// `--allow-private`: no checks at all.
    pub allow_private: bool,
}

impl Policy {
    /// Resolves `host`: the map first, then an address literal, then DNS.
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        if let Some(a) = self.resolve.get(host) {
            return Ok(vec![*a]);
        }
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }

    /// Resolves `host` and checks every address, trusted or not: the caller
    /// has decided the origin is not exempt.
    pub async fn resolve_checked(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let host = normal_host(host);
        let addrs = self.resolve(&host, port).await?;
        self.check(&host, &addrs)?;
        Ok(addrs)
    }

    /// Whether `url`'s origin may be at any address: a seed's site
    /// ([`Origin::same_site`]: its origin, or its host on the other web
    /// scheme's default port), or every origin with `--allow-private`.
    pub fn exempt(&self, url: &Url) -> bool {
        self.allow_private
            || Origin::of(url).is_some_and(|o| self.trusted.iter().any(|t| t.same_site(&o)))
    }

    /// Whether some trusted origin has this host (any port). Only for the
    /// resolver, which sees a name without its port: the request was
    /// admitted by origin before it got there.
    fn trusted_host(&self, host: &str) -> bool {
        self.allow_private || self.trusted.iter().any(|o| o.host == host)
    }

    /// Every address public (or `--allow-private`).
    pub fn check(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), UnsafeAddress> {
        if self.allow_private {
            return Ok(());
        }
        match addrs
            .iter()
            .find_map(|a| not_public(a.ip()).map(|why| (a.ip(), why)))
        {
            Some((ip, why)) => Err(UnsafeAddress {
                host: host.to_string(),
                ip,
                why,
            }),
            None => Ok(()),
        }
    }
}

/// reqwest's resolver: the same map and the same check, for every
/// connection (a host that resolved to a public address when admitted and
/// to a private one now gains nothing). A seed's host is exempt here on any
/// port, as the resolver is not told the port; [`Policy::exempt`] decided
/// by origin before the request.
#[derive(Debug, Clone)]
pub struct CheckedResolver(pub Arc<Policy>);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = normal_host(name.as_str());
            // Port 0: reqwest puts in the URL's port (or the scheme's).
            let addrs = policy.resolve(&host, 0).await?;
            if !policy.trusted_host(&host) {
                policy.check(&host, &addrs)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Each range with addresses at its edges inside, and just outside.
    const RANGES: &[(&str, &[&str], &[&str])] = &[
        ("this network", &["0.0.0.0", "0.255.255.255"], &["1.0.0.0"]),
        (
            "private",
            &["10.0.0.0", "10.255.255.255"],
            &["9.255.255.255", "11.0.0.0"],
        ),
        (
            "shared address space (CGNAT)",
            &["100.64.0.0", "100.127.255.255"],
            &["100.63.255.255", "100.128.0.0"],
        ),
        (
            "loopback",
            &["127.0.0.0", "127.255.255.255"],
            &["126.255.255.255", "128.0.0.0"],
        ),
        (
            "link-local",
            &["169.254.0.0", "169.254.255.255"],
            &["169.253.255.255", "169.255.0.0"],
        ),
        (
            "private",
            &["172.16.0.0", "172.31.255.255"],
            &["172.15.255.255", "172.32.0.0"],
        ),
        (
            "IETF protocol assignments",
            &["192.0.0.0", "192.0.0.255"],
            &["191.255.255.255", "192.0.1.0"],
        ),
        (
            "documentation (TEST-NET-1)",
            &["192.0.2.0", "192.0.2.255"],
            &["192.0.1.255", "192.0.3.0"],
        ),
        (
            "6to4 relay anycast (deprecated)",
            &["192.88.99.0", "192.88.99.255"],
            &["192.88.98.255", "192.88.100.0"],
        ),
        (
            "private",
            &["192.168.0.0", "192.168.255.255"],
            &["192.167.255.255", "192.169.0.0"],
        ),
        (
            "benchmarking",
            &["198.18.0.0", "198.19.255.255"],
            &["198.17.255.255", "198.20.0.0"],
        ),
        (
            "documentation (TEST-NET-2)",
            &["198.51.100.0", "198.51.100.255"],
            &["198.51.99.255", "198.51.101.0"],
        ),
        (
            "documentation (TEST-NET-3)",
            &["203.0.113.0", "203.0.113.255"],
            &["203.0.112.255", "203.0.114.0"],
        ),
        (
            "multicast",
            &["224.0.0.0", "239.255.255.255"],
            &["223.255.255.255"],
        ),
        (
            "reserved (and broadcast)",
            &["240.0.0.0", "255.255.255.255"],
            &["239.255.255.255"],
        ),
        ("unspecified", &["::"], &["::2"]),
        ("loopback", &["::1"], &["::2"]),
        (
            "IPv4-mapped",
            &["::ffff:0.0.0.0", "::ffff:255.255.255.255"],
            &["::1:0:0:0", "::fffe:ffff:ffff"],
        ),
        (
            "IPv4-compatible",
            &["::2", "::255.255.255.255"],
            &["::1:0:0", "::ffff:0:0"],
        ),
        (
            "NAT64 well-known prefix",
            &["64:ff9b::", "64:ff9b::ffff:ffff"],
            &["64:ff9b::1:0:0", "64:ff9a:ffff::"],
        ),
        (
            "NAT64 local use",
            &["64:ff9b:1::", "64:ff9b:1:ffff::1"],
            &["64:ff9b:2::", "64:ff9b:0:ffff::"],
        ),
        (
            "discard-only",
            &["100::", "100::ffff:ffff:ffff:ffff"],
            &["100:0:0:1::", "ff:ffff::"],
        ),
        (
            "IETF protocol assignments (incl. Teredo)",
            &[
                "2001::",
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                "2001:1ff:ffff::",
            ],
            &["2001:200::", "2000:ffff::"],
        ),
        (
            "documentation",
            &["2001:db8::", "2001:db8:ffff::1"],
            &["2001:db9::", "2001:db7:ffff::"],
        ),
        (
            "6to4",
            &["2002::", "2002:ffff:ffff::1"],
            &["2003::", "2001:ffff::"],
        ),
        (
            "documentation",
            &["3fff::", "3fff:fff:ffff::1"],
            &["3fff:1000::", "3ffe:ffff::"],
        ),
        (
            "segment routing (SRv6)",
            &["5f00::", "5f00:ffff::1"],
            &["5f01::", "5eff:ffff::"],
        ),
        (
            "unique local",
            &["fc00::", "fdff:ffff::1"],
            &["fe00::", "fbff:ffff::"],
        ),
        (
            "link-local",
            &["fe80::", "febf:ffff::1"],
            &["fec0::", "fe7f:ffff::"],
        ),
        (
            "site-local (deprecated)",
            &["fec0::", "feff:ffff::1"],
            &["ff00::", "febf:ffff::"],
        ),
        ("multicast", &["ff00::", "ff02::1"], &["feff:ffff::"]),
    ];

    #[test]
    fn each_special_range_has_the_edges_it_says() {
        for (name, inside, outside) in RANGES {
            for a in *inside {
                assert_eq!(special_range(ip(a)), Some(*name), "{a} is in {name}");
            }
            for a in *outside {
                assert_ne!(special_range(ip(a)), Some(*name), "{a} is outside {name}");
            }
        }
    }

    #[test]
    fn classifies_addresses() {
        // Every inside address of a range that does not embed IPv4.
        for (name, inside, _) in RANGES {
            if !matches!(
                *name,
                "IPv4-mapped" | "IPv4-compatible" | "NAT64 well-known prefix" | "6to4"
            ) {
                for a in *inside {
                    assert!(!is_public(ip(a)), "{a} ({name})");
                }
            }
        }
        for a in [
            // Embedded IPv4 judged by its own class.
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::127.0.0.2",
            "::0.0.0.2",
            "64:ff9b::7f00:2",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:2::",
            "2002:c0a8:101::1",
            "2002:a00:1::",
            // Outside 2000::/3: unassigned.
            "1fff:ffff::1",
            "4000::1",
            "64:ff9b::1:0:0",
        ] {
            assert!(!is_public(ip(a)), "{a}");
        }
        for a in [
            "1.1.1.1",
            "120.55.1.1",
            "9.255.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2400:3200::1",
            "2000::",
            "3ffe:ffff::",
            "2001:200::",
            "2001:db9::",
            "2003::",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(is_public(ip(a)), "{a}");
        }
    }

    #[test]
    fn the_reason_names_the_range_and_the_embedded_address() {
        assert_eq!(not_public(ip("198.18.0.1")).unwrap(), "benchmarking");
        assert_eq!(
            not_public(ip("64:ff9b::7f00:2")).unwrap(),
            "NAT64 well-known prefix 127.0.0.2, loopback"
        );
        assert_eq!(
            not_public(ip("2002:7f00:2::")).unwrap(),
            "6to4 127.0.0.2, loopback"
        );
        assert_eq!(not_public(ip("::8.8.8.8")), None);
    }

    #[tokio::test]
    async fn trusted_origins_and_the_map() {
        let mut p = Policy::default();
        p.resolve
            .insert("a.test".into(), "127.0.0.1:8080".parse().unwrap());
        p.resolve
            .insert("b.test".into(), "127.0.0.1:8080".parse().unwrap());
        p.trusted
            .insert(Origin::of(&Url::parse("http://a.test/").unwrap()).unwrap());
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(p.exempt(&u("http://A.test/x")));
        assert!(
            p.exempt(&u("http://a.test.:80/x")),
            "a trailing dot, the same host"
        );
        assert!(!p.exempt(&u("http://a.test:8081/")), "another port");
        assert!(p.exempt(&u("https://a.test/")), "the other web scheme");
        assert!(!p.exempt(&u("https://a.test:8443/")), "another port");
        assert!(!p.exempt(&u("http://b.test/")));
        // Not exempt: the map's address is checked like any other.
        let e = p.resolve_checked("A.test.", 8081).await.unwrap_err();
        assert!(
            e.to_string().contains("non-public address (loopback"),
            "{e}"
        );
        let e = p.resolve_checked("b.test", 80).await.unwrap_err();
        assert!(e.to_string().contains("non-public"), "{e}");
        assert!(p.resolve_checked("10.0.0.1", 80).await.is_err());
        assert!(p.resolve_checked("[::ffff:10.0.0.1]", 80).await.is_err());
        assert!(p.trusted_host("a.test") && !p.trusted_host("b.test"));
        p.allow_private = true;
        assert!(p.exempt(&u("http://b.test:9/")));
        assert!(p.resolve_checked("b.test", 80).await.is_ok());
    }
}
