//! Learned duplicate rules (`crawl::dust`) in a real crawl: a loopback host
//! whose articles are reached through trailing-slash variants, told apart
//! from the server's own request log, the errors file and the state file.

use std::path::Path;

use serde_json::{Value, json};

use crate::crawl::{crawl, errors_file};
use crate::support::server::{Hit, Reply, Server};
use crate::support::{self, records};

/// An article page; with `canonical`, it declares it.
fn article(title: &str, canonical: Option<&str>, links: &[&str]) -> Reply {
    let head = canonical
        .map(|c| format!("<link rel=\"canonical\" href=\"http://a.test{c}\">"))
        .unwrap_or_default();
    let a: String = links
        .iter()
        .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>"))
        .collect();
    Reply::html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>{head}</head>\
         <body><h1>{title}</h1><p>{title}: 园区新闻与招商政策的正文段落, 足够长以便被当作正文。</p>\
         <ul>{a}</ul></body></html>"
    ))
}

/// `/` links to `home`. `/a/N` and `/a/N/` are one article (its canonical:
/// `/a/N`); `/b/` is a section that names itself canonical. With
/// `canonicals` off, no page declares one.
fn site(
    home: &'static [&'static str],
    canonicals: bool,
) -> impl Fn(&Hit) -> Reply + Send + Sync + 'static {
    move |hit: &Hit| {
        let c = |p: &str| canonicals.then(|| p.to_string());
        let p = hit.path.as_str();
        match p {
            "/robots.txt" => Reply::status(404),
            "/" => article("首页", c("/").as_deref(), home),
            "/b/" => article("栏目", c("/b/").as_deref(), &[]),
            _ => match p.strip_prefix("/a/") {
                Some(n) if !n.trim_end_matches('/').is_empty() => {
                    let n = n.trim_end_matches('/');
                    let title = format!("文章{n}");
                    article(&title, c(&format!("/a/{n}")).as_deref(), &[])
                }
                _ => Reply::status(404),
            },
        }
    }
}

fn paths(server: &Server) -> Vec<String> {
    server.hits().into_iter().map(|h| h.path).collect()
}

/// An errors-file line without its time.
fn timeless(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("at");
    v
}

/// The rules the state keeps, as `host rule confirmations standing`.
fn kept(state: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(state).unwrap();
    let mut s = c
        .prepare("SELECT host, rule, confirmations, standing FROM dust_rules ORDER BY rule")
        .unwrap();
    s.query_map([], |r| {
        Ok(format!(
            "{} {} {} {}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Three variants confirm "drop the trailing slash"; the fourth is not
/// fetched (its canonical form is queued already); the section `/b/`, which
/// names itself canonical, retracts the rule; the variant after it is
/// fetched again. The state keeps the rule as retracted.
#[test]
fn a_learned_rule_is_applied_then_retracted_by_a_contradicting_canonical() {
    static HOME: &[&str] = &["/a/1/", "/a/2/", "/a/3/", "/a/4/", "/a/4", "/b/", "/a/5/"];
    let server = Server::start(site(HOME, true));
    let dir = tempfile::tempdir().unwrap();
    let (errors, state) = (dir.path().join("errors.jsonl"), dir.path().join("s.db"));
    let run = crawl(
        &server,
        &["a.test"],
        &[
            "http://a.test/",
            "--rate",
            "0",
            "--errors",
            errors.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        paths(&server),
        [
            "/robots.txt",
            "/",
            "/a/1/",
            "/a/2/",
            "/a/3/",
            "/a/4",
            "/b/",
            "/a/5/"
        ]
    );
    assert_eq!(
        errors_file(&errors)
            .into_iter()
            .map(timeless)
            .collect::<Vec<_>>(),
        [json!({
            "url": "http://a.test/a/4/",
            "error_kind": "duplicate",
            "status": null,
            "message": "a variant of http://a.test/a/4 (learned rule: trailing slash dropped), already fetched or queued",
        })]
    );
    let summary = run.stderr.lines().last().unwrap();
    assert!(summary.contains("duplicate 1"), "{summary}");
    assert_eq!(run.urls().len(), 7, "{:?}", run.urls());
    assert_eq!(kept(&state), ["a.test strip-slash 3 retracted"]);
}

/// Pages that declare no canonical prove nothing: every variant is fetched.
#[test]
fn no_learning_on_a_host_without_canonicals() {
    static HOME: &[&str] = &["/a/1/", "/a/2/", "/a/3/", "/a/4/", "/a/4", "/a/5/", "/a/5"];
    let server = Server::start(site(HOME, false));
    let dir = tempfile::tempdir().unwrap();
    let (errors, state) = (dir.path().join("errors.jsonl"), dir.path().join("s.db"));
    let run = crawl(
        &server,
        &["a.test"],
        &[
            "http://a.test/",
            "--rate",
            "0",
            "--errors",
            errors.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut want = vec!["/robots.txt", "/"];
    want.extend_from_slice(HOME);
    assert_eq!(paths(&server), want);
    assert!(errors_file(&errors).is_empty());
    assert_eq!(run.urls().len(), 8);
    assert!(kept(&state).is_empty());
}

/// A rule confirmed in one run is applied from the next run's first page:
/// variants of pages queued are never requested.
#[test]
fn learned_rules_survive_a_restart_through_the_state() {
    static FIRST: &[&str] = &["/a/1/", "/a/2/", "/a/3/"];
    let server = Server::start(site(FIRST, true));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.db");
    let out = dir.path().join("out.jsonl");
    let args = |seed: &'static str| {
        vec![
            seed.to_string(),
            "--rate".into(),
            "0".into(),
            "--state".into(),
            state.display().to_string(),
            "-o".into(),
            out.display().to_string(),
        ]
    };
    let run = crawl_args(&server, &args("http://a.test/"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(kept(&state), ["a.test strip-slash 3 confirmed"]);

    // The second run starts at a variant, which links to more variants.
    let second = Server::start(move |hit: &Hit| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/a/9/" => article("文章9", Some("/a/9"), &["/a/8", "/a/8/", "/a/7/", "/a/7"]),
        p => site(FIRST, true)(&Hit {
            path: p.to_string(),
            ..hit.clone()
        }),
    });
    let run = crawl_args(&second, &args("http://a.test/a/9/"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The seed's own canonical form was never met: the seed is fetched.
    assert_eq!(paths(&second), ["/robots.txt", "/a/9/", "/a/8", "/a/7"]);
    let written = records(&std::fs::read(&out).unwrap());
    let urls: Vec<&str> = written.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            "http://a.test/",
            "http://a.test/a/1/",
            "http://a.test/a/2/",
            "http://a.test/a/3/",
            "http://a.test/a/9/",
            "http://a.test/a/8",
            "http://a.test/a/7",
        ]
    );
}

fn crawl_args(server: &Server, args: &[String]) -> crate::crawl::Run {
    let mut cmd = support::bin();
    cmd.arg("crawl")
        .args(args)
        .args(server.resolve(&["a.test"]));
    crate::crawl::finish(
        crate::crawl::SpawnPiped::spawn_piped(&mut cmd),
        std::time::Duration::from_secs(60),
    )
}

/// With 8 requests in flight per host, the variants found while a rule is
/// being learned go one at a time, each confirming it further, until it is
/// confirmed: three variants are fetched, the other ten are not, however
/// many requests the host could have in flight.
#[test]
fn variants_found_while_learning_go_one_at_a_time() {
    static LINKS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let mut l: Vec<String> = (2..=13).map(|n| format!("/a/{n}")).collect();
        l.extend((2..=13).map(|n| format!("/a/{n}/")));
        l
    });
    let server = Server::start_with(2, |hit: &Hit| {
        let links: Vec<&str> = LINKS.iter().map(String::as_str).collect();
        match hit.path.as_str() {
            "/robots.txt" => Reply::status(404),
            "/" => article("首页", Some("/"), &["/a/1/"]),
            "/a/1/" => article("文章1", Some("/a/1"), &links),
            p => match p.strip_prefix("/a/") {
                Some(n) => {
                    let n = n.trim_end_matches('/');
                    let title = format!("文章{n}");
                    // Variants answer slowly: without holding them back,
                    // all would be asked for before the first answered.
                    let slow = if p.ends_with('/') { 300 } else { 0 };
                    article(&title, Some(&format!("/a/{n}")), &[])
                        .delayed(std::time::Duration::from_millis(slow))
                }
                None => Reply::status(404),
            },
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let run = crawl(
        &server,
        &["a.test"],
        &[
            "http://a.test/",
            "--rate",
            "0",
            "--per-host",
            "8",
            "--errors",
            errors.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut variants: Vec<String> = paths(&server)
        .into_iter()
        .filter(|p| p.starts_with("/a/") && p.ends_with('/'))
        .collect();
    variants.sort();
    assert_eq!(variants, ["/a/1/", "/a/2/", "/a/3/"]);
    let skipped = errors_file(&errors);
    assert_eq!(skipped.len(), 10, "{skipped:?}");
    assert!(skipped.iter().all(|e| e["error_kind"] == "duplicate"));
    // Every article is written once.
    assert_eq!(run.urls().len(), 14, "{:?}", run.urls());
}
