//! The seed corpus, read once per run: the repo's fixture pages always, the
//! shared benchmark pages (`../shared/bench/{aeb,readability,zh-news}`) when
//! they exist, gzipped or not; robots.txt seeds written here plus the bodies
//! of Google's robots cases when present. Reproducers under `fixtures/fuzz/`
//! are seeds too, so that a long run starts from what broke before.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Case, Target};

/// The seeds of one run, each target's inputs in a stable order.
#[derive(Debug, Default, Clone)]
pub struct Corpus {
    pub pages: Vec<Vec<u8>>,
    pub robots: Vec<Vec<u8>>,
}

/// What to read.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The repository root (`CARGO_MANIFEST_DIR`).
    pub root: PathBuf,
    /// Also read `root/../shared/bench` when it exists.
    pub shared: bool,
    /// Seeds longer than this are cut (at a byte: the mutators cut anyway),
    /// to keep debug runs short.
    pub max_seed_len: usize,
}

impl Corpus {
    pub fn load(src: &Sources) -> Corpus {
        let mut dirs = vec![src.root.join("fixtures")];
        let bench = shared_bench(&src.root);
        if src.shared && bench.is_dir() {
            for d in ["aeb/html", "readability/pages", "zh-news/html"] {
                dirs.push(bench.join(d));
            }
        }
        let mut pages = Vec::new();
        let mut robots = synthetic_robots();
        for d in &dirs {
            for path in files(d) {
                let name = path.to_string_lossy();
                let is_page = [".html", ".htm", ".shtml", ".html.gz"]
                    .iter()
                    .any(|e| name.ends_with(e));
                let is_robots = name.contains("/fuzz/robots/") && name.ends_with(".txt");
                if !(is_page || is_robots) {
                    continue;
                }
                let Some(mut bytes) = read(&path) else {
                    continue;
                };
                bytes.truncate(src.max_seed_len);
                if is_robots { &mut robots } else { &mut pages }.push(bytes);
            }
        }
        if src.shared {
            robots.extend(google_robots(&bench.join("robots/google_cases.json")));
        }
        Corpus { pages, robots }
    }

    pub fn seeds(&self, target: Target) -> &[Vec<u8>] {
        match target {
            Target::Page => &self.pages,
            Target::Robots => &self.robots,
        }
    }
}

/// `../shared/bench` beside the repository, as the benchmarks find it; from a
/// worktree under `wt/`, the one a level further up.
pub fn shared_bench(root: &Path) -> PathBuf {
    let near = root.join("../shared/bench");
    let far = root.join("../../shared/bench");
    if !near.is_dir() && far.is_dir() {
        far
    } else {
        near
    }
}

/// Files under `dir`, recursively, sorted (a missing dir gives none).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

/// A file's bytes, gunzipped if its name ends in `.gz`; `None` if unreadable.
pub fn read(path: &Path) -> Option<Vec<u8>> {
    let raw = std::fs::read(path).ok()?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .ok()?;
        return Some(out);
    }
    Some(raw)
}

/// The reproducers under `fixtures/fuzz/<target>/`, each with the content
/// type and URL of its `.meta` file (`content-type: …`, `url: …` lines).
pub fn reproducers(root: &Path) -> Vec<(PathBuf, Case)> {
    let mut out = Vec::new();
    for target in [Target::Page, Target::Robots] {
        for path in files(&root.join("fixtures/fuzz").join(target.dir())) {
            if path.extension().is_none_or(|e| e != target.ext()) {
                continue;
            }
            if let Some(case) = reproducer(&path, target) {
                out.push((path, case));
            }
        }
    }
    out
}

/// One reproducer file as a case, with its `.meta` beside it if any.
pub fn reproducer(path: &Path, target: Target) -> Option<Case> {
    let bytes = read(path)?;
    let meta = std::fs::read_to_string(path.with_extension("meta")).unwrap_or_default();
    let field = |key: &str| {
        meta.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    Some(Case {
        target,
        bytes,
        content_type: field("content-type:"),
        url: field("url:"),
        how: vec!["reproducer"],
    })
}

fn synthetic_robots() -> Vec<Vec<u8>> {
    [
        "User-agent: *\nDisallow: /news/\nAllow: /news/view.html\nDisallow: /a\nAllow: /a\n",
        "user-agent: *\ndisallow: /*.pdf$\ndisallow: /search*q=\ndisallow: /fish$\n",
        "User-agent: *\nDisallow: /\n\nUser-agent: googlebot\nUser-agent: ParkCrawl/0.1\n\
         Disallow: /private\nCrawl-delay: 2\n\nUser-agent: parkcrawl\nDisallow: /tmp\n\
         Sitemap: http://example.cn/sitemap.xml\n",
        "\u{feff}User-agent: * # all\r\nDisallow:\r\n",
        "<html>oops</html>\nUser-agent: *\nDisallow: /x\n",
        "User-agent: *\nCrawl-delay: 99999\nDisallow: /园区\nDisallow: /a%2fb\n",
        "User-agent: parkcrawl\nDisallow: /*/*/*/*/*/*/*/*$\nAllow: /$\n",
        "Sitemap: http://r.test/sitemap.xml\nUser-agent: *\nHost: r.test\nDisallow: /cgi-bin/\n\
         Clean-param: ref /a/\n",
        "http://r.test/a?utm_source=x&b=2&a=1#frag\nhttps://user:pw@R.TEST.:443/%7Efoo/./bar/../baz\n\
         //sh.taxs.vip/news/view.html?id=5101&sessionid=9\nhttp://[::1]:80/\nhttp://0x7f.1/\n\
         http://2130706433/\nhttp://xn--fiq228c.cn/园区?名=值\nmailto:a@b.c\njavascript:void(0)\n\
         http://a..b/\nhttp://a./\nhttp://./\n?&&&=&\n#only\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// The robots.txt bodies of Google's parser tests (`google_cases.json`),
/// each once.
fn google_robots(path: &Path) -> Vec<Vec<u8>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Array(cases)) = serde_json::from_str(&text) else {
        return Vec::new();
    };
    let mut out: Vec<Vec<u8>> = Vec::new();
    for c in &cases {
        let mut body = c["robots"].as_str().unwrap_or("").to_string();
        if let Some(u) = c["url"].as_str() {
            body.push('\n');
            body.push_str(u);
        }
        let body = body.into_bytes();
        if !out.contains(&body) {
            out.push(body);
        }
    }
    out
}
