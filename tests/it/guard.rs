//! The private-address guard and scope by origin, in real crawls of a
//! loopback server: a trusted seed that redirects into private space, a
//! link to the seed's host on another port.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::support::server::{Hit, Reply, Server, run_measured_within};
use crate::support::{self, records};

/// Runs `parkcrawl crawl ARGS` against `server` (for `hosts`), with a
/// watchdog: (exit code, stderr, the errors file's lines).
fn crawl(server: &Server, hosts: &[String], args: &[String]) -> (i32, String, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let mut cmd = support::bin();
    cmd.arg("crawl")
        .args(args)
        .args(["--rate", "0", "--errors", errors.to_str().unwrap()])
        .args(server.resolve(&hosts));
    let (out, _, _) = run_measured_within(cmd, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let errs = records(&std::fs::read(&errors).unwrap_or_default());
    (out.status.code().unwrap_or(-1), stderr, errs)
}

/// Addresses in other forms; those marked `true` are 127.0.0.1, this very
/// server, so a connection would show in its log.
const FORMS: &[(&str, bool)] = &[
    ("0x7f.1", true),
    ("2130706433", true),
    ("0177.0.0.1", true),
    ("127.1", true),
    ("[::ffff:127.0.0.1]", true),
    ("[::127.0.0.2]", false),
    ("[64:ff9b::7f00:2]", false),
    ("[64:ff9b:1::7f00:1]", false),
    ("[2002:7f00:2::]", false),
    ("[::1]", false),
    ("[fe80::1]", false),
    ("198.18.0.1", false),
];

/// A seed (trusted: it may be anywhere) redirects to an address written in
/// another form: the redirect is refused before any connection, with an
/// error naming the URL as normalised. For the forms of 127.0.0.1 the
/// server's log proves it; for the others, the error kind (`unsafe` is
/// raised before a request is made). One crawl per form: four forms are one
/// URL once normalised, and a second would only be a duplicate.
#[test]
fn a_trusted_seed_cannot_redirect_into_private_space() {
    let port: Arc<OnceLock<u16>> = Arc::default();
    let p = port.clone();
    let server = Server::start_with(2, move |hit: &Hit| {
        let i: Option<usize> = hit
            .host
            .strip_prefix('f')
            .and_then(|h| h.strip_suffix(".test"))
            .and_then(|n| n.parse().ok());
        match (hit.path.as_str(), i.and_then(|i| FORMS.get(i))) {
            ("/robots.txt", _) => Reply::status(404),
            ("/", Some((host, _))) => {
                Reply::redirect(302, &format!("http://{host}:{}/", p.get().unwrap()))
            }
            _ => Reply::page("must not be reached", &[]),
        }
    });
    port.set(server.addr.port()).unwrap();
    for (i, (host, _)) in FORMS.iter().enumerate() {
        let seed = format!("f{i}.test");
        let (code, stderr, errs) = crawl(
            &server,
            std::slice::from_ref(&seed),
            &[format!("http://{seed}/")],
        );
        assert_eq!(code, 0, "a refusal is a skip: {stderr}");
        let target = Url::parse(&format!("http://{host}:{}/", server.addr.port())).unwrap();
        let line = format!("parkcrawl: {target}: skipped: ");
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("no error line for {host} ({target}):\n{stderr}"));
        assert!(line.contains("a non-public address ("), "{host}: {line}");
        assert_eq!(errs.len(), 1, "{host}: {errs:?}");
        assert_eq!(errs[0]["error_kind"], "unsafe", "{host}: {}", errs[0]);
        assert_eq!(errs[0]["url"], target.as_str(), "{host}");
    }
    let hits = server.hits();
    for h in &hits {
        let seed = h.host.starts_with('f') && h.host.ends_with(".test");
        assert!(seed, "a request reached {}: {h:?}", h.host);
        assert!(matches!(h.path.as_str(), "/" | "/robots.txt"), "{h:?}");
    }
    assert_eq!(hits.len(), 2 * FORMS.len(), "robots.txt and / of each seed");
    // The loopback forms do normalise to this server's own address, so the
    // log would have shown a connection.
    for (host, ours) in FORMS {
        let u = Url::parse(&format!("http://{host}/")).unwrap();
        let ip: std::net::IpAddr = u
            .host_str()
            .unwrap()
            .trim_matches(['[', ']'])
            .parse()
            .unwrap();
        let v4 = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        assert_eq!(v4 == server.addr.ip(), *ours, "{host} → {ip}");
    }
}

/// Another port of a seed's host is another origin. A link there is not
/// followed (with or without a trailing dot), a redirect there is out of
/// scope, and a seed that redirects there brings it into scope but not into
/// trust: it is checked like any host (here: loopback, refused). A trailing
/// dot on the seed's own port is the seed's origin. The second server, on
/// the other port, sees no request at all.
#[test]
fn another_port_is_another_origin() {
    let other = Server::start(|_: &Hit| Reply::page("other port", &[]));
    let port_b = other.addr.port();
    let server = Server::start(
        move |hit: &Hit| match (hit.host.as_str(), hit.path.as_str()) {
            (_, "/robots.txt") => Reply::status(404),
            ("seed.test", "/") => {
                let a = format!("http://seed.test:{port_b}/other");
                let b = format!("http://seed.test.:{port_b}/dotted");
                Reply::page("home", &[&a, &b, "http://seed.test./same", "/hop"])
            }
            ("seed.test", "/hop") => {
                Reply::redirect(302, &format!("http://seed.test:{port_b}/hopped"))
            }
            ("s2.test", "/") => Reply::redirect(302, &format!("http://s2.test:{port_b}/")),
            _ => Reply::page("page", &[]),
        },
    );
    let hosts = ["seed.test".to_string(), "s2.test".to_string()];
    let seeds = [
        "http://seed.test/".to_string(),
        "http://s2.test/".to_string(),
    ];
    let (code, stderr, errs) = crawl(&server, &hosts, &seeds);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        other.hits().is_empty(),
        "the other port was reached: {:?}",
        other.hits()
    );
    let mut asked: Vec<String> = server
        .hits()
        .iter()
        .map(|h| format!("{}{}", h.host, h.path))
        .collect();
    asked.sort();
    assert_eq!(
        asked,
        [
            "s2.test/",
            "s2.test/robots.txt",
            "seed.test/",
            "seed.test/hop",
            "seed.test/robots.txt",
            "seed.test/same",
        ]
    );
    let hopped = format!("http://seed.test:{port_b}/hopped");
    let e = errs
        .iter()
        .find(|e| e["url"] == hopped.as_str())
        .expect(&stderr);
    assert_eq!(e["error_kind"], "out_of_scope", "{e}");
    let why = format!("http://seed.test:{port_b} is not one of the seeds' origins");
    assert!(e["message"].as_str().unwrap().contains(&why), "{e}");
    let redirected = format!("http://s2.test:{port_b}/");
    let e = errs
        .iter()
        .find(|e| e["url"] == redirected.as_str())
        .expect(&stderr);
    assert_eq!(e["error_kind"], "unsafe", "not trusted: {e}");
    assert_eq!(errs.len(), 2, "{errs:?}");
}
