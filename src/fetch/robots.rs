//! robots.txt per RFC 9309: groups by product token, longest-match
//! allow/disallow with `*` and `$`, plus the non-standard `Crawl-delay` and
//! the `Sitemap` lines. Pure: the fetcher decides what a missing or broken
//! file means (4xx → allow all; 5xx or unreachable → disallow all for now).

use std::time::Duration;

/// The most of a robots.txt that is parsed; RFC 9309 asks for at least 500 KiB.
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// A `Crawl-delay` longer than this is taken as this: a site that asks for one
/// request an hour is better served by a human than by a crawl that never ends.
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    allow: bool,
    /// Normalised pattern, `*` and a final `$` special.
    pattern: String,
}

/// What one robots.txt says to one crawler.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Robots {
    rules: Vec<Rule>,
    pub crawl_delay: Option<Duration>,
    /// `Sitemap:` lines, as written (absolute URLs per the protocol).
    pub sitemaps: Vec<String>,
}

impl Robots {
    /// No rules: everything allowed (a 4xx robots.txt, or none at all).
    pub fn allow_all() -> Robots {
        Robots::default()
    }

    /// Everything disallowed (robots.txt unreachable or failing with 5xx).
    pub fn disallow_all() -> Robots {
        Robots {
            rules: vec![Rule {
                allow: false,
                pattern: "/".into(),
            }],
            ..Default::default()
        }
    }

    /// Parses `text` for the crawler whose product token is `product`
    /// (`parkcrawl`). The groups naming the token are merged; without one,
    /// the `*` groups are; without either, everything is allowed.
    pub fn parse(text: &str, product: &str) -> Robots {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let product = product.to_ascii_lowercase();

        // Per group: does it name us, does it name `*`, its rules and delay.
        #[derive(Default)]
        struct Group {
            ours: bool,
            star: bool,
            rules: Vec<Rule>,
            delay: Option<Duration>,
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut sitemaps = Vec::new();
        // True while consecutive user-agent lines open the same group.
        let mut in_agents = false;

        for line in text.split(['\n', '\r']) {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" | "useragent" | "user agent" => {
                    if !in_agents || groups.is_empty() {
                        groups.push(Group::default());
                    }
                    in_agents = true;
                    let g = groups.last_mut().expect("pushed above");
                    let token: String = value
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*'))
                        .collect::<String>()
                        .to_ascii_lowercase();
                    if token == "*" {
                        g.star = true;
                    } else if !token.is_empty() && token == product {
                        g.ours = true;
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    // Rules before any user-agent line belong to no group.
                    let Some(g) = groups.last_mut() else { continue };
                    if value.is_empty() {
                        continue; // `Disallow:` with no path disallows nothing.
                    }
                    g.rules.push(Rule {
                        allow: key == "allow",
                        pattern: normalise(value),
                    });
                }
                "crawl-delay" => {
                    in_agents = false;
                    if let Some(g) = groups.last_mut()
                        && let Ok(secs) = value.parse::<f64>()
                        && secs.is_finite()
                        && secs > 0.0
                    {
                        g.delay = Some(Duration::from_secs_f64(secs).min(MAX_CRAWL_DELAY));
                    }
                }
                "sitemap" | "site-map" => {
                    // A global line: it does not end a run of user-agent lines.
                    if !value.is_empty() {
                        sitemaps.push(value.to_string());
                    }
                }
                _ => {
                    // Unknown keys (Host, Clean-param, …) are ignored but end
                    // a run of user-agent lines like any other rule would.
                    in_agents = false;
                }
            }
        }

        let pick = |f: fn(&Group) -> bool| groups.iter().filter(|g| f(g)).collect::<Vec<_>>();
        let mut chosen = pick(|g| g.ours);
        if chosen.is_empty() {
            chosen = pick(|g| g.star);
        }
        Robots {
            rules: chosen.iter().flat_map(|g| g.rules.clone()).collect(),
            crawl_delay: chosen.iter().filter_map(|g| g.delay).max(),
            sitemaps,
        }
    }

    /// How many allow/disallow rules apply to us.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Whether `path_and_query` (`/a/b?c`) may be fetched: the longest matching
    /// pattern decides, `allow` winning a tie; `/robots.txt` is always allowed.
    pub fn is_allowed(&self, path_and_query: &str) -> bool {
        if path_and_query == "/robots.txt" {
            return true;
        }
        let path = normalise(path_and_query);
        let mut best: Option<(usize, bool)> = None;
        for r in &self.rules {
            if matches(&r.pattern, &path) {
                let len = r.pattern.len();
                best = match best {
                    Some((l, a)) if l > len || (l == len && a) => Some((l, a)),
                    _ => Some((len, r.allow)),
                };
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Percent-encodes what is not printable ASCII and upper-cases existing
/// escapes, so that a pattern written with `é` or `%e9` matches a URL path
/// that the `url` crate wrote as `%C3%A9`.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            out.push('%');
            out.push(bytes[i + 1].to_ascii_uppercase() as char);
            out.push(bytes[i + 2].to_ascii_uppercase() as char);
            i += 3;
            continue;
        }
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

/// Matches a robots pattern against the start of `path`: `*` is any run of
/// characters, a final `$` anchors the end.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some(rest) = path.strip_prefix(parts[0]) else {
        return false;
    };
    if parts.len() == 1 {
        return !anchored || rest.is_empty();
    }
    let mut pos = path.len() - rest.len();
    let last = parts.len() - 1;
    for part in &parts[1..last] {
        match path[pos..].find(part) {
            Some(i) => pos += i + part.len(),
            None => return false,
        }
    }
    let tail = parts[last];
    if anchored {
        path.len() - pos >= tail.len() && path.ends_with(tail)
    } else {
        path[pos..].contains(tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str = "parkcrawl";

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let r = Robots::parse(
            "User-agent: *\nDisallow: /news/\nAllow: /news/view.html\nDisallow: /a\nAllow: /a\n",
            UA,
        );
        assert!(!r.is_allowed("/news/list.html"));
        assert!(r.is_allowed("/news/view.html?id=1"));
        assert!(r.is_allowed("/a/b"));
        assert!(r.is_allowed("/park/"));
        assert!(r.is_allowed("/robots.txt"));
    }

    #[test]
    fn wildcards_and_end_anchor() {
        let r = Robots::parse(
            "user-agent: *\ndisallow: /*.pdf$\ndisallow: /search*q=\ndisallow: /fish$\n",
            UA,
        );
        assert!(!r.is_allowed("/files/a.pdf"));
        assert!(r.is_allowed("/files/a.pdf?x=1"));
        assert!(!r.is_allowed("/search?x=1&q=2"));
        assert!(r.is_allowed("/search?x=1"));
        assert!(!r.is_allowed("/fish"));
        assert!(r.is_allowed("/fish/"));
        assert!(matches("/*/b*c$", "/a/bxyc"));
        assert!(!matches("/*/b*c$", "/a/bxycd"));
        assert!(matches("/*c$", "/cc"));
        assert!(matches("*", "/anything"));
    }

    #[test]
    fn our_group_beats_star_and_groups_merge() {
        let text = "\
User-agent: *
Disallow: /

User-agent: googlebot
User-agent: ParkCrawl/0.1
Disallow: /private
Crawl-delay: 2

User-agent: parkcrawl
Disallow: /tmp
Sitemap: http://example.cn/sitemap.xml
";
        let r = Robots::parse(text, UA);
        assert!(r.is_allowed("/news"));
        assert!(!r.is_allowed("/private/x"));
        assert!(!r.is_allowed("/tmp/x"));
        assert_eq!(r.crawl_delay, Some(Duration::from_secs(2)));
        assert_eq!(r.sitemaps, vec!["http://example.cn/sitemap.xml"]);
        // Another crawler gets the `*` group.
        let other = Robots::parse(text, "otherbot");
        assert!(!other.is_allowed("/news"));
        assert_eq!(other.crawl_delay, None);
    }

    #[test]
    fn odd_files() {
        // No group for us and no `*`: everything allowed.
        assert!(Robots::parse("User-agent: x\nDisallow: /\n", UA).is_allowed("/a"));
        // Empty Disallow allows all; comments, CRLF and a BOM are fine.
        let r = Robots::parse("\u{feff}User-agent: * # all\r\nDisallow:\r\n", UA);
        assert!(r.is_allowed("/a"));
        // Garbage is ignored rather than fatal.
        let r = Robots::parse("<html>oops</html>\nUser-agent: *\nDisallow: /x\n", UA);
        assert!(!r.is_allowed("/x"));
        // Crawl-delay is capped and bad values ignored.
        let r = Robots::parse("User-agent: *\nCrawl-delay: 99999\n", UA);
        assert_eq!(r.crawl_delay, Some(MAX_CRAWL_DELAY));
        let r = Robots::parse("User-agent: *\nCrawl-delay: soon\n", UA);
        assert_eq!(r.crawl_delay, None);
        assert!(!Robots::disallow_all().is_allowed("/"));
        assert!(Robots::disallow_all().is_allowed("/robots.txt"));
    }

    #[test]
    fn percent_encoding_is_normalised() {
        let r = Robots::parse("User-agent: *\nDisallow: /园区\nDisallow: /a%2fb\n", UA);
        assert!(!r.is_allowed("/%E5%9B%AD%E5%8C%BA/1"));
        assert!(!r.is_allowed("/a%2Fb"));
    }
}
