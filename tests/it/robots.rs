//! robots.txt conformance: Google's parser tests (`tests/data/robots/`) fed
//! through the steps the crawler takes for a URL it is about to fetch.

use parkcrawl::crawl::canon::{MAX_URL_LEN, canonicalize};
use parkcrawl::fetch::product_token;
use parkcrawl::fetch::robots::Robots;
use parkcrawl::rules::path_and_query;
use serde::Deserialize;
use url::Url;

use crate::support::server::{Hit, Reply, Server, run_measured_within};
use crate::support::{self, root};

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    robots: String,
    agent: String,
    url: String,
    allowed: bool,
    line: u32,
    google_only: bool,
}

fn cases() -> Vec<Case> {
    let path = root().join("tests/data/robots/google_cases.json");
    let text = std::fs::read_to_string(&path).expect("google_cases.json");
    serde_json::from_str(&text).expect("google_cases.json parses")
}

/// The crawler's answer for one case: parse and canonicalise the URL as the
/// frontier does, take the product token from the user agent as the fetcher
/// does, and ask the parser about the path and query that would be requested.
/// `None`: the crawler would never request this URL (it does not parse).
fn crawler_verdict(c: &Case) -> Option<bool> {
    let url = canonicalize(&Url::parse(&c.url).ok()?, &[])?;
    let robots = Robots::parse(&c.robots, &product_token(&c.agent));
    Some(robots.is_allowed(&path_and_query(&url)))
}

/// Why the crawler's answer differs from Google's, for the cases where it
/// does: every other case must agree.
enum Differs {
    /// A Google extension beyond RFC 9309 (`google_only` in the data).
    GoogleOnly(&'static str),
    /// Not a robots.txt matter: the crawler never requests the URL as
    /// written. The `url` crate percent-encodes it, and canonicalisation
    /// sorts query parameters, so the crawler asks about, and would fetch,
    /// another URL than the case names. The parser itself agrees with Google
    /// on the URL as written when that URL is ASCII (checked below).
    UrlRewritten(&'static str),
    /// Not a robots.txt matter: the URL is longer than the crawler fetches
    /// (`MAX_URL_LEN`), so robots.txt is never asked about it. The parser
    /// agrees with Google on the URL as written (checked below).
    TooLong(&'static str),
}

impl Differs {
    fn reason(&self) -> &'static str {
        match self {
            Differs::GoogleOnly(r) | Differs::UrlRewritten(r) | Differs::TooLong(r) => r,
        }
    }
}

const EXCEPTIONS: &[(&str, Differs)] = &[
    (
        "GoogleOnly_SystemTest#1",
        Differs::GoogleOnly("an empty URL: the crawler never requests one (it does not parse)"),
    ),
    (
        "GoogleOnly_SystemTest#2",
        Differs::GoogleOnly("an empty URL: the crawler never requests one (it does not parse)"),
    ),
    (
        "GoogleOnly_SystemTest#3",
        Differs::GoogleOnly("an empty URL: the crawler never requests one (it does not parse)"),
    ),
    (
        "GoogleOnly_SystemTest#4",
        Differs::GoogleOnly("an empty URL: the crawler never requests one (it does not parse)"),
    ),
    (
        "GoogleOnly_AcceptUserAgentUpToFirstSpace#2",
        Differs::GoogleOnly(
            "Google's API takes \"Foo Bar\" as an invalid product token and falls back to `*`; \
             the crawler takes its token from the User-Agent header up to the first \
             non-token character, as RFC 9309 §2.2.1 describes, so \"Foo Bar\" is `foo`",
        ),
    ),
    (
        "GoogleOnly_IndexHTMLisDirectory#1",
        Differs::GoogleOnly(
            "Google reads `Allow: /dir/index.html` as allowing `/dir/`; \
             RFC 9309 matches paths only",
        ),
    ),
    (
        "GoogleOnly_LineTooLong#2",
        Differs::GoogleOnly(
            "Google cuts each line at 16,664 bytes; RFC 9309 has no line limit (only the \
             500 KiB file limit), so the long rule is kept whole and does not match",
        ),
    ),
    (
        "GoogleOnly_LineTooLong#4",
        Differs::TooLong(
            "a URL of 16,673 bytes: the crawler fetches none over 8,000 (RFC 9110 4.1), \
             so it never asks; the parser allows it as Google does",
        ),
    ),
    (
        "GoogleOnly_LineTooLong#5",
        Differs::GoogleOnly(
            "Google cuts each line at 16,664 bytes, so the cut allow rule matches a longer \
             path; the crawler keeps the rule whole, and the whole rule does not match",
        ),
    ),
    (
        "ID_Encoding#1",
        Differs::UrlRewritten(
            "canonicalisation sorts the query (`baz=…&par&qux=taz`): the crawler would \
             request that URL, which the allow rule does not name",
        ),
    ),
    (
        "ID_Encoding#3",
        Differs::UrlRewritten(
            "the URL holds a raw `ツ`; the `url` crate sends it as `%E3%83%84`, which the \
             rule (encoded the same way) allows; Google expects callers to encode first",
        ),
    ),
    (
        "ID_Encoding#5",
        Differs::UrlRewritten(
            "the URL holds a raw `ツ`; the `url` crate sends it as `%E3%83%84`, which the \
             rule `/foo/bar/%E3%83%84` allows; Google expects callers to encode first",
        ),
    ),
];

/// The parser's answer for the URL exactly as the case writes it (path and
/// query of an ASCII URL, no canonicalisation).
fn parser_verdict_as_written(c: &Case) -> Option<bool> {
    let rest = c.url.split_once("://")?.1;
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    let robots = Robots::parse(&c.robots, &product_token(&c.agent));
    Some(robots.is_allowed(path))
}

#[test]
fn google_robotstxt_cases() {
    let cases = cases();
    assert_eq!(cases.len(), 145, "the whole suite");
    let mut wrong = Vec::new();
    for c in &cases {
        let got = crawler_verdict(c);
        let exception = EXCEPTIONS.iter().find(|(n, _)| *n == c.name);
        match exception {
            None if got == Some(c.allowed) => {}
            None => wrong.push(format!(
                "{} (robots_test.cc line {}): expected allowed={}, got {got:?} \
                 (agent {:?}, url {:?})",
                c.name,
                c.line,
                c.allowed,
                c.agent,
                c.url.chars().take(80).collect::<String>()
            )),
            // The list is exact: a listed case must still differ, and for
            // the reason given.
            Some((name, why)) if got == Some(c.allowed) => wrong.push(format!(
                "{name} is listed as differing ({}) but agrees: unlist it",
                why.reason()
            )),
            Some((name, Differs::GoogleOnly(_))) => {
                assert!(c.google_only, "{name} is not a Google-only case");
            }
            Some((name, Differs::TooLong(_))) => {
                assert!(c.url.len() > MAX_URL_LEN && got.is_none(), "{name}");
                assert_eq!(parser_verdict_as_written(c), Some(c.allowed), "{name}");
            }
            Some((name, Differs::UrlRewritten(_))) => {
                assert!(!c.google_only, "{name}");
                if c.url.is_ascii() {
                    assert_eq!(
                        parser_verdict_as_written(c),
                        Some(c.allowed),
                        "{name}: the parser must agree on the URL as written"
                    );
                }
            }
        }
    }
    for (name, _) in EXCEPTIONS {
        assert!(
            cases.iter().any(|c| c.name == *name),
            "{name}: no such case"
        );
    }
    assert!(
        wrong.is_empty(),
        "{} cases:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// A 10 MB robots.txt: read and parsed to 500 KiB, no further. Rules before
/// the limit apply (one at the top, one ending at the limit); rules after
/// it (the next line, at 1 MB, at 9 MB) do not; memory stays bounded.
#[test]
fn a_10_mb_robots_txt_is_parsed_to_500_kib() {
    let body = big_robots();
    assert!(body.len() >= 10_000_000);
    let server = Server::start(move |hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::new(200, "text/plain", body.clone()),
        "/" => Reply::page(
            "home",
            &[
                "/early/a",
                "/edge/a",
                "/beyond/a",
                "/late/a",
                "/later/a",
                "/free",
            ],
        ),
        _ => Reply::page("page", &[]),
    });
    let mut cmd = support::bin();
    cmd.args(["crawl", "http://big.test/", "--rate", "0"])
        .args(server.resolve(&["big.test"]));
    let (out, peak_kb, _) = run_measured_within(cmd, std::time::Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut asked: Vec<String> = server.hits().into_iter().map(|h| h.path).collect();
    asked.sort();
    assert_eq!(
        asked,
        [
            "/",
            "/beyond/a",
            "/free",
            "/late/a",
            "/later/a",
            "/robots.txt"
        ],
        "{stderr}"
    );
    for p in ["/early/a", "/edge/a"] {
        assert!(
            stderr.contains(&format!(
                "http://big.test{p}: skipped: disallowed by robots.txt"
            )),
            "{p}: {stderr}"
        );
    }
    eprintln!("10 MB robots.txt: peak RSS {} KiB", peak_kb);
    assert!(peak_kb < 100 * 1024, "peak RSS {peak_kb} KiB");
}

/// `Disallow: /early` first, `Disallow: /edge` ending at 500 KiB,
/// `Disallow: /beyond` right after it, `Disallow: /late` at 1 MB and
/// `Disallow: /later` at 9 MB, comment lines between, 10 MB in all.
fn big_robots() -> Vec<u8> {
    const KIB500: usize = 500 * 1024;
    let filler = b"# a robots.txt that goes on and on, as some CMSs write it\n";
    let mut body = b"User-agent: *\nDisallow: /early\n".to_vec();
    let fill_to = |body: &mut Vec<u8>, n: usize| {
        while body.len() + filler.len() <= n {
            body.extend_from_slice(filler);
        }
        body.resize(n, b'#');
        body.push(b'\n');
    };
    let edge = b"Disallow: /edge\n";
    fill_to(&mut body, KIB500 - edge.len() - 1);
    body.extend_from_slice(edge);
    assert_eq!(body.len(), KIB500, "the edge rule ends at the limit");
    body.extend_from_slice(b"Disallow: /beyond\n");
    fill_to(&mut body, 1_000_000);
    body.extend_from_slice(b"Disallow: /late\n");
    fill_to(&mut body, 9_000_000);
    body.extend_from_slice(b"Disallow: /later\n");
    fill_to(&mut body, 10_000_000);
    body
}
