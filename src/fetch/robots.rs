//! robots.txt per RFC 9309: groups by product token, longest-match
//! allow/disallow with `*` and `$`, plus the non-standard `Crawl-delay` and
//! the `Sitemap` lines. Pure: the fetcher decides what a missing or broken
//! file means (4xx → allow all; 5xx or unreachable → disallow all for now).
//!
//! Stages: bytes ([`Robots::parse_bytes`]: the 500 KiB limit, a whole or
//! partial BOM) → lines ([`parse_line`]: key, value) → groups (a run of
//! user-agent lines opens a group; only an allow/disallow line ends the run,
//! so `Crawl-delay` or an unknown key between user-agent lines does not
//! split the group) → the groups that name us, else `*`, merged.
//!
//! Checked against Google's parser tests (`tests/it/robots.rs`); where this
//! parser differs from Google's, it is a Google extension listed there.

use std::time::Duration;

/// The most of a robots.txt that is read and parsed: RFC 9309 §2.5 asks
/// crawlers to parse at least 500 KiB, and a limit is what keeps a 10 MB file
/// from costing 10 MB.
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

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

    /// Parses a robots.txt body as fetched: a UTF-8 byte order mark, whole or
    /// cut short (`EF BB`, `EF`, as some editors write it), is dropped rather
    /// than left to spoil the first line; past [`MAX_ROBOTS_BYTES`] the body
    /// is cut at the last line break before the limit (RFC 9309 §2.5: the
    /// rest is ignored, and a half line could be a broader rule than the
    /// whole one).
    pub fn parse_bytes(body: &[u8], product: &str) -> Robots {
        let body = if body.len() > MAX_ROBOTS_BYTES {
            let head = &body[..MAX_ROBOTS_BYTES];
            let end = head
                .iter()
                .rposition(|&b| b == b'\n' || b == b'\r')
                .map_or(0, |i| i + 1);
            &head[..end]
        } else {
            body
        };
        let body = strip_bom(body);
        Robots::parse(&String::from_utf8_lossy(body), product)
    }

    /// Parses `text` for the crawler whose product token is `product`
    /// (`parkcrawl`). The groups naming the token are merged; without one,
    /// the `*` groups are; without either, everything is allowed.
    pub fn parse(text: &str, product: &str) -> Robots {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let product = product.to_ascii_lowercase();
        let mut groups: Vec<Group> = Vec::new();
        let mut sitemaps = Vec::new();
        // True while consecutive user-agent lines open the same group: only
        // a rule line (allow, disallow) ends the run (RFC 9309 §2.1).
        let mut in_agents = false;

        for line in text.split(['\n', '\r']).filter_map(parse_line) {
            match line {
                Line::UserAgent(token) => {
                    if !in_agents || groups.is_empty() {
                        groups.push(Group::default());
                    }
                    in_agents = true;
                    let g = groups.last_mut().expect("pushed above");
                    if token == "*" {
                        g.star = true;
                    } else if !token.is_empty() && token == product {
                        g.ours = true;
                    }
                }
                Line::Rule { allow, pattern } => {
                    in_agents = false;
                    // Rules before any user-agent line belong to no group;
                    // `Disallow:` with no path disallows nothing.
                    if let Some(g) = groups.last_mut()
                        && !pattern.is_empty()
                    {
                        g.rules.push(Rule {
                            allow,
                            pattern: normalise(&pattern),
                        });
                    }
                }
                // Not a rule: it neither ends a run of user-agent lines nor
                // opens a group.
                Line::CrawlDelay(d) => {
                    if let Some(g) = groups.last_mut() {
                        g.delay = Some(d);
                    }
                }
                Line::Sitemap(url) => sitemaps.push(url),
                Line::Other => {}
            }
        }
        Robots::choose(&groups, sitemaps)
    }

    /// The groups naming us, else the `*` groups, merged.
    fn choose(groups: &[Group], sitemaps: Vec<String>) -> Robots {
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

/// One group: does it name us, does it name `*`, its rules and delay.
#[derive(Default)]
struct Group {
    ours: bool,
    star: bool,
    rules: Vec<Rule>,
    delay: Option<Duration>,
}

/// A line of robots.txt that means something to us.
#[derive(Debug, PartialEq)]
enum Line {
    /// The product token named, lower case (`*` for all).
    UserAgent(String),
    Rule {
        allow: bool,
        pattern: String,
    },
    CrawlDelay(Duration),
    Sitemap(String),
    /// Any other key (Host, Clean-param, …): ignored.
    Other,
}

/// One line, comment and surrounding space removed; `None` for a blank line
/// or one that is not `key: value`.
fn parse_line(line: &str) -> Option<Line> {
    let line = line.split('#').next().unwrap_or("").trim();
    let (key, value) = split_key(line)?;
    let key = key.trim().to_ascii_lowercase();
    let value = value.trim();
    Some(match key.as_str() {
        "user-agent" | "useragent" | "user agent" => Line::UserAgent(
            value
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*'))
                .collect::<String>()
                .to_ascii_lowercase(),
        ),
        "allow" | "disallow" => Line::Rule {
            allow: key == "allow",
            pattern: value.to_string(),
        },
        "crawl-delay" => match value.parse::<f64>() {
            Ok(secs) if secs.is_finite() && secs > 0.0 => {
                // Capped before the conversion, which panics past u64 seconds.
                Line::CrawlDelay(Duration::from_secs_f64(
                    secs.min(MAX_CRAWL_DELAY.as_secs_f64()),
                ))
            }
            _ => Line::Other,
        },
        "sitemap" | "site-map" if !value.is_empty() => Line::Sitemap(value.to_string()),
        _ => Line::Other,
    })
}

/// `key: value`; or, as Google's parser and its conformance tests accept,
/// `key value` when the line is exactly two words (a forgotten colon).
fn split_key(line: &str) -> Option<(&str, &str)> {
    if let Some(kv) = line.split_once(':') {
        return Some(kv);
    }
    let (key, value) = line.split_once([' ', '\t'])?;
    let value = value.trim_start();
    (!value.is_empty() && !value.contains([' ', '\t'])).then_some((key, value))
}

/// Drops a UTF-8 byte order mark, also one cut short to its first one or two
/// bytes.
fn strip_bom(body: &[u8]) -> &[u8] {
    for bom in [&[0xEF, 0xBB, 0xBF][..], &[0xEF, 0xBB], &[0xEF]] {
        if let Some(rest) = body.strip_prefix(bom) {
            return rest;
        }
    }
    body
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

    #[test]
    fn only_a_rule_ends_a_run_of_user_agent_lines() {
        for between in [
            "Crawl-delay: 3",
            "Invalid-Unknown-Line: x",
            "Sitemap: /s.xml",
        ] {
            let text = format!("User-agent: parkcrawl\n{between}\nUser-agent: *\nDisallow: /\n");
            let r = Robots::parse(&text, UA);
            assert!(!r.is_allowed("/a"), "{between}: one group, ours");
        }
        // A rule does end it: the second group is `*` only.
        let r = Robots::parse(
            "User-agent: parkcrawl\nAllow: /\nUser-agent: *\nDisallow: /\n",
            UA,
        );
        assert!(r.is_allowed("/a"));
        // A delay before the run's first rule belongs to the whole group.
        let r = Robots::parse("User-agent: x\nCrawl-delay: 3\nUser-agent: parkcrawl\n", UA);
        assert_eq!(r.crawl_delay, Some(Duration::from_secs(3)));
    }

    #[test]
    fn byte_order_marks_whole_partial_and_corrupt() {
        let rules = b"User-agent: *\nDisallow: /x\n";
        for bom in [&b"\xEF\xBB\xBF"[..], b"\xEF\xBB", b"\xEF", b""] {
            let body = [bom, &rules[..]].concat();
            assert!(!Robots::parse_bytes(&body, UA).is_allowed("/x"), "{bom:?}");
        }
        // A corrupt mark spoils its line only, as in Google's parser.
        let body = b"\xEF\x11\xBFUser-agent: *\nDisallow: /x\nUser-agent: *\nDisallow: /y\n";
        let r = Robots::parse_bytes(body, UA);
        assert!(r.is_allowed("/x") && !r.is_allowed("/y"));
    }

    #[test]
    fn a_forgotten_colon_between_two_words() {
        let r = Robots::parse("user-agent parkcrawl\ndisallow /x\n", UA);
        assert!(!r.is_allowed("/x/y"));
        // More than two words is not a line.
        let r = Robots::parse("user-agent parkcrawl\ndisallow /x /y\n", UA);
        assert!(r.is_allowed("/x/y"));
        assert_eq!(parse_line("disallow"), None);
    }

    #[test]
    fn absurd_crawl_delays_do_not_panic() {
        for v in ["1e300", "inf", "NaN", "-5", "0", "18446744073709551616"] {
            let r = Robots::parse(&format!("User-agent: *\nCrawl-delay: {v}\n"), UA);
            assert!(r.crawl_delay.is_none_or(|d| d == MAX_CRAWL_DELAY), "{v}");
        }
    }

    #[test]
    fn the_body_is_parsed_to_500_kib_and_the_cut_line_dropped() {
        assert_eq!(MAX_ROBOTS_BYTES, 500 * 1024);
        let mut body = b"User-agent: *\nDisallow: /early\n".to_vec();
        let filler = b"# filler to push the next lines past the limit\n";
        while body.len() + filler.len() <= MAX_ROBOTS_BYTES - 20 {
            body.extend_from_slice(filler);
        }
        // A line cut by the limit: `Disallow: /` of `Disallow: /late-but-long`.
        let pad = MAX_ROBOTS_BYTES - body.len() - "Disallow: /".len();
        body.extend(std::iter::repeat_n(b' ', pad));
        body.extend_from_slice(b"Disallow: /late-but-long\nDisallow: /late\n");
        assert!(body.len() > MAX_ROBOTS_BYTES);
        let r = Robots::parse_bytes(&body, UA);
        assert!(!r.is_allowed("/early"));
        assert!(r.is_allowed("/late"), "past the limit");
        assert!(r.is_allowed("/other"), "the cut line is not `Disallow: /`");
        // A file of exactly the limit is whole: its last line stays, even
        // without a line break.
        let mut exact = b"User-agent: *\nDisallow: /end".to_vec();
        exact.resize(MAX_ROBOTS_BYTES, b'x');
        let path =
            String::from_utf8_lossy(&exact["User-agent: *\nDisallow: ".len()..]).into_owned();
        assert!(!Robots::parse_bytes(&exact, UA).is_allowed(&path));
        exact.push(b'x');
        assert!(
            Robots::parse_bytes(&exact, UA).is_allowed("/end"),
            "one byte more"
        );
    }

    #[test]
    fn hostile_bytes_cut_anywhere() {
        let body = "\u{feff}User-agent: *\r\nDisallow: /园区*é$\nAllow: /%e5%9b\n\
                    Crawl-delay: ９\nUser-agent:\u{0}x\nDisallow: ****\n#注释\nDisallow: /$$\n"
            .as_bytes()
            .iter()
            .copied()
            .chain([0xff, 0xfe, b'\n', 0xe5, 0x9b])
            .collect::<Vec<u8>>();
        for n in 0..=body.len() {
            let r = Robots::parse_bytes(&body[..n], UA);
            for path in ["/", "/园区/é", "/%E5%9B%AD", "/$", "/\u{0}", "/a*b"] {
                r.is_allowed(path);
            }
        }
        let r = Robots::parse_bytes(&body, UA);
        assert!(!r.is_allowed("/%E5%9B%AD%E5%8C%BA/x%C3%A9"));
        // `****` is in the group of an agent with no usable token.
        assert!(r.is_allowed("/anything"));
        assert!(!Robots::parse("User-agent: *\nDisallow: ****\n", UA).is_allowed("/x"));
    }
}
