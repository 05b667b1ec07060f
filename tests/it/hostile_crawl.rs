//! The crawl against hostile servers (issue 11, items 4, 5 and 7, crawl
//! part): sitemaps that never end, URLs too long to fetch, pages with more
//! links than anyone needs. Each test runs the binary as a child under a
//! watchdog (it must end by itself), checks that every page is accounted
//! for, and that peak RSS stayed under [`MAX_RSS_KB`].

use std::time::Duration;

use crate::support::server::{Hit, Reply, Server, Watched, run_watched};
use crate::support::{self, records};

/// Peak resident memory allowed to a crawl of a hostile server.
const MAX_RSS_KB: u64 = 100 * 1024;
/// Generous: each of these crawls takes seconds; a hang is what fails.
const WATCHDOG: Duration = Duration::from_secs(90);

fn crawl(server: &Server, hosts: &[&str], args: &[&str]) -> Watched {
    crawl_until(server, hosts, args, None)
}

fn crawl_until(
    server: &Server,
    hosts: &[&str],
    args: &[&str],
    term_when: Option<&dyn Fn() -> bool>,
) -> Watched {
    let mut cmd = support::bin();
    cmd.arg("crawl")
        .args(["--rate", "0"])
        .args(args)
        .args(server.resolve(hosts));
    let w = run_watched(cmd, WATCHDOG, term_when);
    let stderr = String::from_utf8_lossy(&w.output.stderr);
    eprintln!(
        "{args:?}: peak RSS {} KiB, after SIGTERM {:?}; {}",
        w.peak_kb,
        w.after_term,
        stderr.lines().last().unwrap_or("")
    );
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    assert!(
        w.peak_kb < MAX_RSS_KB,
        "peak RSS {} KiB over {MAX_RSS_KB} KiB",
        w.peak_kb
    );
    w
}

fn stderr(w: &Watched) -> String {
    String::from_utf8_lossy(&w.output.stderr).into_owned()
}

fn summary(w: &Watched) -> String {
    stderr(w).lines().last().unwrap_or("").to_string()
}

fn index(locs: impl IntoIterator<Item = String>) -> String {
    let items: String = locs
        .into_iter()
        .map(|l| format!("<sitemap><loc>{l}</loc></sitemap>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{items}</sitemapindex>"
    )
}

fn urlset(locs: impl IntoIterator<Item = String>) -> String {
    let items: String = locs
        .into_iter()
        .map(|l| format!("<url><loc>{l}</loc></url>"))
        .collect();
    format!("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{items}</urlset>")
}

fn xml(body: String) -> Reply {
    Reply::new(200, "application/xml", body)
}

/// Pages `/p/…` are small articles; robots.txt is absent; the rest 404.
fn page_or_404(hit: &Hit) -> Reply {
    if let Some(n) = hit.path.strip_prefix("/p/") {
        Reply::page(&format!("第{n}页"), &[])
    } else {
        Reply::status(404)
    }
}

fn sitemap_hits(server: &Server) -> usize {
    server
        .hits()
        .iter()
        .filter(|h| h.path.ends_with(".xml"))
        .count()
}

#[test]
fn sitemap_index_pointing_to_itself_is_read_once() {
    let server = Server::start(|hit| match hit.path.as_str() {
        "/sitemap.xml" => xml(index([
            "http://self.test/sitemap.xml".to_string(),
            "/sitemap.xml".to_string(),
            "http://self.test/pages.xml".to_string(),
        ])),
        "/pages.xml" => xml(urlset((0..3).map(|i| format!("http://self.test/p/{i}")))),
        _ => page_or_404(hit),
    });
    let w = crawl(
        &server,
        &["self.test"],
        &["--sitemap", "http://self.test/sitemap.xml"],
    );
    assert_eq!(w.output.status.code(), Some(0), "{}", stderr(&w));
    assert_eq!(records(&w.output.stdout).len(), 3);
    let index_hits = server
        .hits()
        .iter()
        .filter(|h| h.path == "/sitemap.xml")
        .count();
    assert_eq!(index_hits, 1);
    assert_eq!(sitemap_hits(&server), 2);
}

#[test]
fn sitemap_index_chain_ends_at_the_nesting_limit() {
    // /s/N.xml lists /s/(N+1).xml and one page, for ever.
    let server = Server::start(|hit| {
        if let Some(n) = hit
            .path
            .strip_prefix("/s/")
            .and_then(|p| p.strip_suffix(".xml"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            return xml(index([format!("http://chain.test/s/{}.xml", n + 1)]));
        }
        page_or_404(hit)
    });
    let w = crawl(
        &server,
        &["chain.test"],
        &[
            "http://chain.test/p/seed",
            "--sitemap",
            "http://chain.test/s/0.xml",
        ],
    );
    let err = stderr(&w);
    assert_eq!(w.output.status.code(), Some(0), "{err}");
    // Levels 0, 1 and 2 are read; level 3 is refused, once, and said once.
    assert_eq!(sitemap_hits(&server), 3, "{err}");
    assert_eq!(err.matches("nested more than 3 deep").count(), 1, "{err}");
    assert!(summary(&w).contains(", 1 sitemaps not read"), "{err}");
    assert_eq!(records(&w.output.stdout).len(), 1);
}

/// An index listing 50,000 indexes, each listing 50,000 more (made as
/// they are sent).
fn wide_indexes(hit: &Hit) -> Reply {
    let children = |prefix: String| {
        let head = "<?xml version=\"1.0\"?><sitemapindex>".to_string();
        Reply::chunks("application/xml", 52, move |i| match i {
            0 => head.clone().into_bytes(),
            51 => b"</sitemapindex>".to_vec(),
            k => (0..1000)
                .map(|j| {
                    format!(
                        "<sitemap><loc>http://wide.test{prefix}/{}.xml</loc></sitemap>",
                        (k - 1) * 1000 + j
                    )
                })
                .collect::<String>()
                .into_bytes(),
        })
    };
    match hit.path.as_str() {
        "/sitemap.xml" => children("/c".into()),
        p if p.starts_with("/c/") && p.ends_with(".xml") => {
            children(p.trim_end_matches(".xml").to_string())
        }
        _ => page_or_404(hit),
    }
}

#[test]
fn wide_sitemap_indexes_stop_at_the_per_host_cap() {
    let server = Server::start_with(2, wide_indexes);
    let w = crawl(
        &server,
        &["wide.test"],
        &[
            "--sitemap",
            "http://wide.test/sitemap.xml",
            "--max-sitemaps",
            "5",
        ],
    );
    let err = stderr(&w);
    assert_eq!(w.output.status.code(), Some(0), "{err}");
    assert_eq!(sitemap_hits(&server), 5, "{err}");
    assert_eq!(err.matches("--max-sitemaps").count(), 1, "{err}");
    // The root's 49,996 other children, then each child's 50,000.
    let refused = 49_996 + 4 * 50_000;
    assert!(
        summary(&w).contains(&format!(", {refused} sitemaps not read")),
        "{err}"
    );
}

#[test]
fn wide_sitemap_indexes_obey_sigterm() {
    let server = std::sync::Arc::new(Server::start_with(2, wide_indexes));
    let seen = server.clone();
    // Signalled once a few children are read: mid-way, at the default cap.
    let when = move || sitemap_hits(&seen) >= 4;
    let w = crawl_until(
        &server,
        &["wide.test"],
        &["--sitemap", "http://wide.test/sitemap.xml"],
        Some(&when),
    );
    let after = w.after_term.expect("SIGTERM was sent");
    assert!(
        after < Duration::from_secs(10),
        "exited {after:?} after SIGTERM"
    );
    let err = stderr(&w);
    assert!(summary(&w).contains("stopped:"), "{err}");
    assert!(sitemap_hits(&server) <= 1 + 100, "{err}");
}

#[test]
fn streamed_sitemap_of_a_million_urls_with_max_pages() {
    // 1,000,000 URLs, about 40 MB, made as they are sent.
    let server = Server::start_with(2, |hit| {
        if hit.path == "/big.xml" {
            return Reply::chunks("application/xml", 1002, |i| match i {
                0 => b"<?xml version=\"1.0\"?><urlset>".to_vec(),
                1001 => b"</urlset>".to_vec(),
                k => (0..1000)
                    .map(|j| {
                        format!(
                            "<url><loc>http://big.test/p/{}</loc></url>",
                            (k - 1) * 1000 + j
                        )
                    })
                    .collect::<String>()
                    .into_bytes(),
            });
        }
        page_or_404(hit)
    });
    let w = crawl(
        &server,
        &["big.test"],
        &["--sitemap", "http://big.test/big.xml", "--max-pages", "20"],
    );
    let err = stderr(&w);
    assert_eq!(w.output.status.code(), Some(4), "{err}");
    assert_eq!(records(&w.output.stdout).len(), 20);
    let pages = server
        .hits()
        .iter()
        .filter(|h| h.path.starts_with("/p/"))
        .count();
    assert_eq!(pages, 20);
    assert_eq!(sitemap_hits(&server), 1);
    // The first 50,000 URLs are read: 20 queued, the rest counted.
    assert!(err.contains("more than 50000 URLs"), "{err}");
    assert!(summary(&w).contains(", 49980 not fetched"), "{err}");
}

#[test]
fn hundred_kb_urls_beside_good_pages() {
    let long = |i: usize| format!("/x/{i}/{}", "a".repeat(100 * 1024));
    let server = Server::start(move |hit| {
        let p = hit.path.as_str();
        if p == "/" {
            let mut links: Vec<String> = (0..48).map(|i| format!("/p/{i}")).collect();
            links.extend((0..20).map(long));
            links.extend((0..10).map(|i| format!("/r/{i}")));
            let refs: Vec<&str> = links.iter().map(String::as_str).collect();
            return Reply::page("首页", &refs);
        }
        if let Some(i) = p.strip_prefix("/r/").and_then(|i| i.parse::<usize>().ok()) {
            return Reply::redirect(302, &long(100 + i));
        }
        page_or_404(hit)
    });
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let w = crawl(
        &server,
        &["long.test"],
        &["http://long.test/", "--errors", errors.to_str().unwrap()],
    );
    let err = stderr(&w);
    // The redirects to over-long URLs are failures: exit 1.
    assert_eq!(w.output.status.code(), Some(1), "{err}");
    assert_eq!(records(&w.output.stdout).len(), 49, "{err}");
    assert!(!err.contains("given up"), "{err}");
    assert!(
        server.hits().iter().all(|h| h.path.len() <= 8000),
        "an over-long URL was requested"
    );
    let kinds: Vec<String> = std::fs::read_to_string(&errors)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["error_kind"].to_string())
        .collect();
    assert_eq!(kinds, vec!["\"bad_url\"".to_string(); 10]);
    // Dropped links are said once; no line repeats a 100 KB URL.
    assert_eq!(err.matches("longer than 8000 bytes are not").count(), 1);
    assert!(err.lines().all(|l| l.len() < 1000), "{err}");
    assert!(
        summary(&w).contains("20 links dropped (20 too long"),
        "{err}"
    );
}

#[test]
fn hundred_thousand_links_on_one_page() {
    // 2.7 MB of bare links, as a pager or archive page writes them. (A
    // `<li>` per link makes 4.3 MB, which cleaning alone takes ~98 MiB to
    // read: a cleaning bound, not the crawl's, and not tested here.)
    let server = Server::start(|hit| {
        if hit.path == "/" {
            let list: Vec<String> = (0..100_000)
                .map(|i| format!("<a href=/p/{i}>{i}</a>"))
                .collect();
            return Reply::html(format!(
                "<html><head><title>归档</title></head><body><h1>归档</h1>\
                 <p>园区新闻与招商政策的正文段落, 足够长以便被当作正文。</p><div>{}</div></body></html>",
                list.join(" ")
            ));
        }
        page_or_404(hit)
    });
    let w = crawl(
        &server,
        &["many.test"],
        &["http://many.test/", "--max-pages", "30"],
    );
    let err = stderr(&w);
    assert_eq!(w.output.status.code(), Some(4), "{err}");
    assert_eq!(records(&w.output.stdout).len(), 30);
    // 50,000 links taken (29 fetched, the rest queued), 50,000 dropped.
    let s = summary(&w);
    assert!(s.contains(", 49971 not fetched"), "{s}");
    assert!(
        s.contains("50000 links dropped (0 too long, 50000 past"),
        "{s}"
    );
    assert_eq!(err.matches("at most 50000 links of a page").count(), 1);
}

#[test]
fn an_over_long_seed_is_refused_in_one_short_line() {
    let seed = format!("http://seed.test/{}", "a".repeat(100 * 1024));
    let mut cmd = support::bin();
    cmd.args(["crawl", &seed]);
    let w = run_watched(cmd, WATCHDOG, None);
    let err = stderr(&w);
    assert_eq!(w.output.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("longer than 8000"), "{err}");
    assert!(err.len() < 400, "{err}");
}
