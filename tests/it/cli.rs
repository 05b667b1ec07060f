//! The command line as a script or a cron job sees it: one exit code per
//! outcome (finished, with failures, cannot start, locked, stopped), plain
//! stderr with one line per failure, the summary's buckets, `--stats`,
//! flags with units and negative numbers, parent directories made.
//! The locked state's code 3 is tested in `state.rs`
//! (`a_second_run_on_a_locked_state_exits_3_and_touches_nothing`).

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::crawl::{SpawnPiped, crawl, finish};
use crate::support::{self, server::Hit, server::Reply, server::Server};

/// A site of `n` article pages linked from its home page, with a link of
/// each kind the summary counts apart: a 404 (`http`, a failure), a path
/// robots.txt disallows and a PDF (`disallowed`, `not_html`: skips).
fn site(n: usize, bad_links: bool) -> impl Fn(&Hit) -> Reply + Send + Sync + 'static {
    move |hit: &Hit| {
        let mut links: Vec<String> = (1..=n).map(|i| format!("/p{i}")).collect();
        if bad_links {
            links.extend(["/gone", "/private/x", "/doc.pdf"].map(String::from));
        }
        let links: Vec<&str> = links.iter().map(String::as_str).collect();
        match hit.path.as_str() {
            "/robots.txt" => Reply::text("User-agent: *\nDisallow: /private\n"),
            "/" => Reply::page("home", &links),
            "/doc.pdf" => Reply::new(200, "application/pdf", b"%PDF-1.4".to_vec()),
            p if p.starts_with("/p") => Reply::page(&format!("page {p}"), &[]),
            _ => Reply::status(404),
        }
    }
}

/// The last stderr line, the summary, up to its timing part.
fn summary(stderr: &str) -> &str {
    let last = stderr.lines().last().unwrap_or("");
    last.split(';').next().unwrap_or(last)
}

#[test]
fn a_finished_crawl_exits_0() {
    let server = Server::start(site(3, false));
    let run = crawl(&server, &["ok.test"], &["http://ok.test/", "--rate", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        summary(&run.stderr),
        "parkcrawl: done: 4 pages ok, 0 failed, 0 skipped"
    );
}

#[test]
fn failures_and_skips_are_separate_buckets_and_stats_is_one_json_object() {
    let server = Server::start(site(2, true));
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("not/yet/stats.json");
    let run = crawl(
        &server,
        &["f.test"],
        &[
            "http://f.test/",
            "--rate",
            "0",
            "--retries",
            "0",
            "--stats",
            stats.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        summary(&run.stderr),
        "parkcrawl: done: 3 pages ok, 1 failed (http 1), 2 skipped (disallowed 1, not_html 1)"
    );
    let text = std::fs::read_to_string(&stats).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    // What depends on the clock: present, of the right type, then fixed.
    for key in ["started_at", "finished_at"] {
        assert!(v[key].as_str().unwrap().ends_with('Z'), "{v}");
        v[key] = json!("T");
    }
    assert!(v["elapsed_seconds"].as_f64().unwrap() >= 0.0, "{v}");
    v["elapsed_seconds"] = json!(0);
    assert_eq!(
        v,
        json!({
            "outcome": "finished_with_failures",
            "exit_code": 1,
            "started_at": "T",
            "finished_at": "T",
            "pages_ok": 3,
            "failed": 1,
            "failed_by_kind": {"http": 1},
            "skipped": 2,
            "skipped_by_kind": {"disallowed": 1, "not_html": 1},
            "unchanged": 0,
            "deleted": 0,
            "not_fetched": 0,
            "links_dropped_too_long": 0,
            "links_dropped_past_cap": 0,
            "sitemaps_not_read": 0,
            "requests": 6,
            "elapsed_seconds": 0,
            "interrupted": false,
            "records_written": 3,
            "tombstones_written": 0,
            "repeated_blocks_removed": 0
        })
    );
}

#[test]
fn a_crawl_cut_by_max_pages_exits_4() {
    let server = Server::start(site(10, false));
    let run = crawl(
        &server,
        &["mp.test"],
        &["http://mp.test/", "--rate", "0", "--max-pages", "3"],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.records.len(), 3);
    assert_eq!(
        summary(&run.stderr),
        "parkcrawl: stopped: 3 pages ok, 0 failed, 0 skipped, 8 not fetched"
    );
}

#[test]
fn a_crawl_stopped_by_sigterm_exits_4() {
    let server = Server::start(site(200, false));
    let mut cmd = support::bin();
    cmd.args(["crawl", "http://t.test/", "--rate", "20"])
        .args(server.resolve(&["t.test"]));
    let child = cmd.spawn_piped();
    // Stopped mid-crawl: once a few pages are in, long before 200.
    while server.hits_of("t.test").len() < 4 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let run = finish(child, Duration::from_secs(30));
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        summary(&run.stderr).starts_with("parkcrawl: stopped: "),
        "{}",
        run.stderr
    );
    assert!(run.records.len() < 100, "{}", run.records.len());
}

#[test]
fn an_unreachable_host_is_one_plain_line_naming_the_cause() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let err_path = dir.path().join("stderr.log");
    let err_file = std::fs::File::create(&err_path).unwrap();
    let status = support::bin()
        .args(["crawl", "--retries", "0"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .arg(format!("http://127.0.0.1:{port}/b"))
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(err_file)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let text = std::fs::read_to_string(&err_path).unwrap();
    assert!(!text.contains('\x1b'), "escape codes: {text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (line, path) in lines.iter().zip(["/", "/b"]) {
        let head =
            format!("parkcrawl: http://127.0.0.1:{port}{path}: failed (robots_unavailable): ");
        assert!(line.starts_with(&head), "{line}");
        assert!(line.contains("connection refused"), "{line}");
    }
    assert!(
        lines[2].starts_with(
            "parkcrawl: done: 0 pages ok, 2 failed (robots_unavailable 2), 0 skipped;"
        ),
        "{}",
        lines[2]
    );
}

/// `-q`: no per-page lines, the summary still.
#[test]
fn quiet_keeps_only_the_summary() {
    let server = Server::start(site(1, true));
    let run = crawl(
        &server,
        &["q.test"],
        &["-q", "http://q.test/", "--rate", "0", "--retries", "0"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("parkcrawl: done: 2 pages ok, 1 failed (http 1)")
    );
}

fn refused(args: &[&str]) -> String {
    let out = support::bin().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn bad_values_name_their_flag_once_and_negative_numbers_reach_the_checks() {
    let u = "http://a.test/";
    assert_eq!(
        refused(&["crawl", u, "--rate", "-1"]),
        "parkcrawl: --rate: must be a number ≥ 0 (0: no limit)\n"
    );
    assert_eq!(
        refused(&["crawl", u, "--timeout", "0"]),
        "parkcrawl: --timeout: must be a positive duration, not 0\n"
    );
    assert_eq!(
        refused(&["crawl", u, "--connect-timeout", "-2s"]),
        "parkcrawl: --connect-timeout: must be a positive duration, not -2\n"
    );
    assert_eq!(
        refused(&["crawl", u, "--follow", "news/("]),
        "parkcrawl: --follow \"news/(\": error: unclosed group\n"
    );
    let e = refused(&["crawl", u, "--max-body", "ten"]);
    assert!(e.contains("'--max-body <SIZE>'"), "{e}");
    assert!(e.contains("expected a size like"), "{e}");
    assert_eq!(e.matches("--max-body").count(), 1, "{e}");
    let e = refused(&["clean", "--max-size", "-5", "x.html"]);
    assert!(e.contains("'--max-size <SIZE>'"), "{e}");
}

#[test]
fn sizes_and_durations_take_units_and_outputs_get_their_directories() {
    let server = Server::start(site(1, false));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a/records.jsonl");
    let errors = dir.path().join("b/errors.jsonl");
    let warc = dir.path().join("c/pages.warc.gz");
    let state = dir.path().join("d/state.db");
    let p = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let run = crawl(
        &server,
        &["u.test"],
        &[
            "http://u.test/",
            "--rate",
            "0",
            "--max-body",
            "64k",
            "--timeout",
            "30s",
            "--connect-timeout",
            "500ms",
            "-o",
            &p(&out),
            "--errors",
            &p(&errors),
            "--warc",
            &p(&warc),
            "--state",
            &p(&state),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
    assert!(errors.is_file() && warc.is_file() && state.is_file());

    // A directory that cannot be made: the error names the user's path.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let bad = blocker.join("x/state.db");
    let e = refused(&["crawl", "http://u.test/", "--state", &p(&bad)]);
    assert!(
        e.starts_with(&format!("parkcrawl: {}: ", bad.display())),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
}

/// A small mirror: the saved files, by path, as a site serves them (no
/// canonical links: their URL is only where they sit).
fn mirror_pages() -> Vec<(&'static str, String)> {
    let page = |title: &str, links: &[&str]| {
        let a: String = links
            .iter()
            .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>"))
            .collect();
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><div class=\"nav\"><a href=\"/index.html\">首页</a> | 园区导航</div>\
             <h1>{title}</h1><p>{title}:园区招商政策与产业扶持的正文段落,足够长以便被当作正文。</p>\
             <ul>{a}</ul></body></html>"
        )
    };
    vec![
        (
            "index.html",
            page(
                "园区首页",
                &["news/a.html", "news/b.html", "news/2024/c.html"],
            ),
        ),
        ("news/a.html", page("新闻甲", &["b.html"])),
        ("news/b.html", page("新闻乙", &["a.html"])),
        ("news/2024/c.html", page("新闻丙", &["../a.html"])),
    ]
}

#[test]
fn clean_dir_with_base_url_gives_the_ids_of_a_crawl_of_that_site() {
    let pages = mirror_pages();
    let dir = tempfile::tempdir().unwrap();
    for (path, html) in &pages {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, html).unwrap();
    }
    let served = pages.clone();
    let server = Server::start(move |hit: &Hit| {
        let path = hit.path.trim_start_matches('/');
        match served.iter().find(|(p, _)| *p == path) {
            Some((_, html)) => Reply::html(html.clone()),
            // robots.txt too: allow all.
            None => Reply::status(404),
        }
    });
    let crawled = crawl(
        &server,
        &["mirror.test"],
        &["http://mirror.test/index.html", "--rate", "0"],
    );
    assert_eq!(crawled.code, 0, "{}", crawled.stderr);
    let out = support::bin()
        .args(["clean", dir.path().to_str().unwrap()])
        .args(["--base-url", "http://mirror.test"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = |recs: &[Value]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = recs
            .iter()
            .map(|r| {
                (
                    r["url"].as_str().unwrap().into(),
                    r["id"].as_str().unwrap().into(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let cleaned = support::records(&out.stdout);
    let want: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = [
            "http://mirror.test/index.html",
            "http://mirror.test/news/2024/c.html",
            "http://mirror.test/news/a.html",
            "http://mirror.test/news/b.html",
        ]
        .iter()
        .map(|u| (u.to_string(), parkcrawl::document::page_id(u)))
        .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&cleaned), want);
    assert_eq!(ids(&crawled.records), want);
    // Links resolve against the mapped URL, as on the site.
    let c = cleaned
        .iter()
        .find(|r| r["url"] == "http://mirror.test/news/2024/c.html")
        .unwrap();
    assert_eq!(c["site"]["host"], "mirror.test", "{c}");

    // A bad base URL names the flag.
    let e = refused(&[
        "clean",
        dir.path().to_str().unwrap(),
        "--base-url",
        "ftp://x/",
    ]);
    assert_eq!(e, "parkcrawl: --base-url: ftp://x/: not an http(s) URL\n");
}

/// The README's command lines (in its `sh` blocks), each joined with its
/// indented continuation lines, by subcommand (`crawl`, `rules list`, …).
fn readme_commands() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(rest) = line.strip_prefix("parkcrawl ") {
            let mut words = rest.split_whitespace();
            let first = words.next().unwrap_or("");
            let sub = if first == "rules" {
                format!("rules {}", words.next().unwrap_or(""))
            } else {
                first.to_string()
            };
            out.push((sub, rest.to_string()));
        } else if line.starts_with("   ")
            && line.trim_start().starts_with('[')
            && let Some(last) = out.last_mut()
        {
            last.1.push(' ');
            last.1.push_str(line.trim());
        }
    }
    out
}

/// The long flags a text names (`--max-body`), and the short ones (`-o`)
/// as `help` maps them to long names.
fn flags_in(text: &str, short: &std::collections::BTreeMap<char, String>) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || "[]|…=".contains(c)) {
        if let Some(long) = word.strip_prefix("--") {
            let name: String = long
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        } else if let Some(s) = word.strip_prefix('-')
            && s.len() == 1
            && let Some(long) = s.chars().next().and_then(|c| short.get(&c))
        {
            found.push(long.clone());
        }
    }
    found
}

/// A subcommand's `--help`: its long flags (short ones mapped), and its
/// positional arguments as the usage line writes them (`<PATH>...`).
fn help_of(
    sub: &str,
) -> (
    std::collections::BTreeMap<char, String>,
    Vec<String>,
    Vec<String>,
) {
    let out = support::bin()
        .args(sub.split(' '))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut short = std::collections::BTreeMap::new();
    let mut longs = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let (s, rest) = match t.strip_prefix('-').and_then(|r| r.split_once(", --")) {
            Some((s, rest)) if s.len() == 1 => (s.chars().next(), rest),
            _ => match t.strip_prefix("--") {
                Some(rest) => (None, rest),
                None => continue,
            },
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        if let Some(c) = s {
            short.insert(c, name.clone());
        }
        longs.push(name);
    }
    let usage = text
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .unwrap()
        .to_string();
    let positional = usage
        .split_whitespace()
        .filter(|w| w.starts_with('<') || (w.starts_with('[') && *w != "[OPTIONS]"))
        .map(String::from)
        .collect();
    (short, longs, positional)
}

#[test]
fn the_readme_usage_lines_match_help() {
    // Flags every subcommand has; the README says so once, in prose.
    let global = ["help", "quiet", "verbose", "version"];
    let commands = readme_commands();
    for sub in ["crawl", "clean", "status", "rules check", "rules list"] {
        let (short, help, positional) = help_of(sub);
        let help: std::collections::BTreeSet<String> = help
            .into_iter()
            .filter(|f| !global.contains(&f.as_str()))
            .collect();
        let lines: Vec<&String> = commands
            .iter()
            .filter(|(s, _)| s == sub)
            .map(|(_, l)| l)
            .collect();
        assert!(!lines.is_empty(), "no README line for {sub}");
        // Every flag the README uses exists.
        let mut in_synopsis = std::collections::BTreeSet::new();
        for line in &lines {
            for f in flags_in(line, &short) {
                assert!(
                    help.contains(&f),
                    "README: `{sub} --{f}` is not in --help: {line}"
                );
                if line.contains(" [") {
                    in_synopsis.insert(f);
                }
            }
        }
        // Every flag of --help is in a synopsis line.
        let missing: Vec<&String> = help.difference(&in_synopsis).collect();
        assert!(
            missing.is_empty(),
            "README usage of {sub} lacks {missing:?}"
        );
        // Positional arguments: required as `PATH…`, optional as `[URL…]`.
        let synopsis: Vec<&&String> = lines.iter().filter(|l| l.contains(" [")).collect();
        for p in positional {
            let name = p.trim_matches(|c| "<>[].".contains(c));
            let many = p.ends_with("...");
            let want = match (p.starts_with('['), many) {
                (true, true) => format!("[{name}…]"),
                (true, false) => format!("[{name}]"),
                (false, true) => format!("{name}…"),
                (false, false) => name.to_string(),
            };
            let ok = synopsis.iter().any(|l| {
                l.split_whitespace().any(|w| w == want)
                    && (p.starts_with('[') || !l.contains(&format!("[{want}")))
            });
            assert!(
                ok,
                "README usage of {sub} should write {p} as {want}: {synopsis:?}"
            );
        }
    }
}

#[test]
fn follow_and_avoid_patterns_narrow_the_links_followed() {
    let server = Server::start(|hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/" => Reply::page(
            "home",
            &["/news/1", "/news/2", "/about", "/news/draft-3", "/jump"],
        ),
        // A followed link that redirects into what --avoid names.
        "/news/2" => Reply::redirect(302, "/news/draft-4"),
        p => Reply::page(&format!("page {p}"), &[]),
    });
    let run = crawl(
        &server,
        &["fa.test"],
        &[
            "http://fa.test/",
            "--rate",
            "0",
            "--follow",
            "/news/",
            "--follow",
            "/jump$",
            "--avoid",
            "draft",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.urls(),
        [
            "http://fa.test/",
            "http://fa.test/jump",
            "http://fa.test/news/1"
        ]
    );
    let mut asked: Vec<String> = server
        .hits_of("fa.test")
        .iter()
        .map(|h| h.path.clone())
        .collect();
    asked.sort();
    assert_eq!(asked, ["/", "/jump", "/news/1", "/news/2", "/robots.txt"]);
    assert!(
        run.stderr
            .contains("parkcrawl: http://fa.test/news/draft-4: skipped: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("avoided by --avoid draft"),
        "{}",
        run.stderr
    );
}
