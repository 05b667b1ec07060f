//! `parkcrawl clean` as a user runs it: a child process on real files.

use std::io::Write;

use serde_json::{Value, json};

use crate::support::{self, assert_matches_expected, portable, records, run};

/// Every fixture page gives one record equal, whole, to its expected JSON.
#[test]
fn every_fixture_matches_its_expected_record() {
    let pages = support::manifest();
    assert!(pages.len() >= 9, "manifest lists {} pages", pages.len());
    for page in pages {
        let out = run(&page.clean_args());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{}: exit {:?}: {stderr}",
            page.file,
            out.status.code()
        );
        let recs = records(&out.stdout);
        assert_eq!(recs.len(), 1, "{}: one record", page.file);
        assert_matches_expected(&portable(recs[0].clone()), &page.expected_path());
    }
}

/// The "done when" for the seed article, stated field by field on top
/// of the whole-record comparison, so that a re-blessed snapshot cannot
/// quietly lose them.
#[test]
fn seed_article_meets_the_contract() {
    let page = support::manifest()
        .into_iter()
        .find(|p| p.file == "sh.taxs.vip/news-5101.html")
        .expect("seed fixture in manifest");
    let r = &records(&run(&page.clean_args()).stdout)[0];
    assert_eq!(r["title"], "上海闵行:厚植城市软实力根基,为高质量发展添动力");
    assert_eq!(r["published_at"], "2022-10-18T10:39:26+08:00");
    assert_eq!(r["author"], "闵行招商");
    assert_eq!(r["views"], 1);
    assert_eq!(r["source"], "上海市闵行区人民政府官网");
    assert_eq!(r["district"], "闵行区");
    assert_eq!(
        r["park"],
        json!({"name": "上海闵行经济技术开发区", "id": "2428", "url": "http://sh.taxs.vip/park/view.html?id=2428"})
    );
    let blocks = r["blocks"].as_array().unwrap();
    let of = |t: &str| blocks.iter().filter(|b| b["type"] == t).collect::<Vec<_>>();
    let headings: Vec<&str> = of("heading")
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        headings,
        ["世界级“科创湾区”引才聚才", "善用“绣花针”织就“锦绣图”"]
    );
    assert_eq!(of("image").len(), 9);
    let captions: Vec<&str> = of("image")
        .iter()
        .filter_map(|b| b["caption"].as_str())
        .collect();
    assert_eq!(
        captions,
        [
            "大零号湾横泾港科创水街",
            "虹桥国际中央商务区(闵行部分)",
            "虹桥国际中央商务区核心区",
            "虹桥国际开放枢纽(前湾彩虹湖)",
            "闵行区政务服务中心服务大厅"
        ]
    );
    let text = r["text"].as_str().unwrap();
    for bad in [
        "更多资讯请关注",
        "本文摘自",
        "展开",
        "上海园区招商网",
        ".jpg",
    ] {
        assert!(!text.contains(bad), "text contains {bad}");
    }
    assert!(
        text.lines().all(|l| l.is_empty() || !l.trim().is_empty()),
        "whitespace-only line in text"
    );
    assert_eq!(r["removed"]["promo-link"], 11);
    assert_eq!(r["removed"]["placeholder-image-name"], 9);
}

/// A saved copy with no URL is matched to its site by its content and cleans
/// to the same text as the served page; its saved-from comment gives it the
/// served page's URL, and so its id.
#[test]
fn saved_file_without_url_matches_its_site() {
    let pages = support::manifest();
    let get = |f: &str| {
        let p = pages.iter().find(|p| p.file == f).unwrap();
        records(&run(&p.clean_args()).stdout).remove(0)
    };
    let served = get("sh.taxs.vip/news-5101.html");
    let saved = get("sh.taxs.vip/saved-news-5101.html");
    assert_eq!(saved["rule"], "sh.taxs.vip");
    assert_eq!(saved["url"], "http://sh.taxs.vip/news/view.html?id=5101");
    assert_eq!(saved["id"], served["id"]);
    assert_eq!(saved["fetch"], Value::Null);
    assert_eq!(saved["text"], served["text"]);
    assert_eq!(saved["content_hash"], served["content_hash"]);
}

/// Bad inputs among good ones: each bad one gives one line on stderr naming
/// it; the good ones still give their records; the exit code says 1.
#[test]
fn bad_inputs_are_reported_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::create_dir(p("empty-dir")).unwrap();
    std::fs::write(p("empty-dir/notes.txt"), "not html").unwrap();
    std::fs::write(p("binary.html"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    std::fs::write(p("empty.html"), b"").unwrap();
    // Bytes invalid in UTF-8 and no charset anywhere: the detector decides.
    let (gbk, _, _) = encoding_rs::GBK.encode(
        "<html><body><p>上海园区招商网发布闵行区园区最新资讯,欢迎企业入驻经济技术开发区。</p>",
    );
    std::fs::write(
        p("undeclared.html"),
        [&gbk[..], &[0xff, 0xfe, 0x80], b"</body></html>"].concat(),
    )
    .unwrap();
    let mut big = std::fs::File::create(p("huge.html")).unwrap();
    let chunk = "<p>园区新闻园区新闻园区新闻园区新闻</p>\n".repeat(1000);
    while big.metadata().unwrap().len() < 50 * 1024 * 1024 {
        big.write_all(chunk.as_bytes()).unwrap();
    }
    drop(big);
    std::fs::write(
        p("deep.html"),
        format!(
            "<html><body>{}深处{}</body></html>",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        ),
    )
    .unwrap();
    let good = support::fixtures().join("sh.taxs.vip/news-5101.html");

    let inputs = [
        p("missing.html"),
        p("empty-dir"),
        p("binary.html"),
        good.clone(),
        p("empty.html"),
        p("undeclared.html"),
        p("huge.html"),
        p("deep.html"),
    ];
    let mut args = vec!["clean".to_string()];
    args.extend(inputs.iter().map(|i| i.display().to_string()));
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");

    let recs = records(&out.stdout);
    let urls: Vec<&str> = recs.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(recs.len(), 2, "records for: {urls:?}");
    assert!(urls[0].ends_with("news-5101.html"));
    assert!(urls[1].ends_with("undeclared.html"));
    assert!(
        recs[1]["text"].as_str().unwrap().contains("上海园区"),
        "GBK guessed: {}",
        recs[1]["text"]
    );

    let lines: Vec<&str> = stderr.lines().collect();
    let expect = [
        ("missing.html", "No such file or directory"),
        ("empty-dir", "no HTML files"),
        ("binary.html", "binary content (PNG image)"),
        ("empty.html", "empty input"),
        ("huge.html", "too large"),
        ("deep.html", "nested deeper than"),
    ];
    for (name, msg) in expect {
        assert!(
            lines.iter().any(|l| l.contains(name) && l.contains(msg)),
            "no line naming {name} with `{msg}` in:\n{stderr}"
        );
    }
    assert_eq!(
        lines.len(),
        expect.len() + 1,
        "one line per bad input and a summary:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

/// A directory is searched recursively for pages, in a stable order.
#[test]
fn directory_input_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.jsonl");
    let out = run(&[
        "clean".into(),
        support::fixtures()
            .join("www.jdpark.example.cn")
            .display()
            .to_string(),
        support::fixtures()
            .join("sh.taxs.vip")
            .display()
            .to_string(),
        "-o".into(),
        out_file.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let recs = records(&std::fs::read(&out_file).unwrap());
    let html_files = walk_count(&support::fixtures().join("www.jdpark.example.cn"))
        + walk_count(&support::fixtures().join("sh.taxs.vip"));
    assert_eq!(recs.len(), html_files);
    assert!(recs[0]["url"].as_str().unwrap().contains("jdpark"));
}

fn walk_count(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += walk_count(&p);
        } else if p.extension().is_some_and(|x| x == "html") {
            n += 1;
        }
    }
    n
}

/// `-` reads stdin; the header charset beats the page's meta tag.
#[test]
fn stdin_with_header_charset() {
    let (gbk, _, _) = encoding_rs::GBK.encode(
        "<title>测试</title><p>松江经济技术开发区位于上海西南,园区面积广阔,产业基础雄厚。</p>",
    );
    let mut page = b"<meta charset=\"utf-8\">".to_vec();
    page.extend_from_slice(&gbk);
    let mut child = support::bin()
        .args([
            "clean",
            "-",
            "--url",
            "http://www.example.cn/a.html",
            "--content-type",
            "text/html; charset=gb2312",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&page).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let r = &records(&out.stdout)[0];
    assert_eq!(r["fetch"]["charset"], "gbk");
    assert!(r["text"].as_str().unwrap().contains("松江经济技术开发区"));
    assert_eq!(r["url"], "http://www.example.cn/a.html");
}

/// `rules check` fails at start naming file and key; `clean --rules` with a
/// bad rule refuses to start.
#[test]
fn bad_rules_fail_at_start_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "id = \"bad.example.cn\"\n[match]\nhosts = [\"bad.example.cn\"]\n[selectors]\ncontent = [\"div[[\"]\n",
    )
    .unwrap();
    let out = run(&[
        "rules".into(),
        "check".into(),
        dir.path().display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("selectors.content[0]"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let page = support::fixtures().join("sh.taxs.vip/news-5101.html");
    let out = run(&[
        "clean".into(),
        page.display().to_string(),
        "--rules".into(),
        dir.path().display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());

    let ok = run(&["rules".into(), "check".into()]);
    assert!(ok.status.success());
}

/// A rule in --rules overrides the built-in one with the same id.
#[test]
fn rules_dir_overrides_a_builtin_rule() {
    let dir = tempfile::tempdir().unwrap();
    let builtin = std::fs::read_to_string(support::root().join("rules/sh.taxs.vip.toml")).unwrap();
    let changed = builtin.replace("name = \"上海园区招商网\"", "name = \"园区网(测试)\"");
    std::fs::write(dir.path().join("sh.taxs.vip.toml"), changed).unwrap();
    let page = support::manifest()
        .into_iter()
        .find(|p| p.file == "sh.taxs.vip/news-5101.html")
        .unwrap();
    let mut args = page.clean_args();
    args.extend(["--rules".into(), dir.path().display().to_string()]);
    let r = &records(&run(&args).stdout)[0];
    assert_eq!(r["site"]["name"], "园区网(测试)");
}

/// Rule-less pages (issue 5) against what their author meant, field by field
/// on top of the whole-record snapshots: headline (never the site name or a
/// title suffix), publication date (never a related-list, "today is" or
/// footer date), author (never the 责任编辑), source, language, where the body
/// starts and ends, its subheadings, and none of the page's chrome, hidden
/// text or adverts in the text. Fields listed under `gaps` are known misses.
#[test]
fn generic_pages_meet_their_authors_intent() {
    let intent: toml::Value = toml::from_str(
        &std::fs::read_to_string(support::fixtures().join("generic/INTENT.toml")).unwrap(),
    )
    .unwrap();
    let pages = intent["page"].as_array().unwrap();
    assert!(pages.len() >= 8);
    let mut checked = 0;
    for p in pages {
        let s = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let file = s("file").unwrap();
        let gaps: Vec<&str> = p
            .get("gaps")
            .and_then(|g| g.as_array())
            .map(|g| g.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let page = support::Page {
            file: format!("generic/{file}"),
            url: s("url"),
            content_type: s("content_type"),
            note: String::new(),
        };
        let out = run(&page.clean_args());
        assert!(out.status.success(), "{file}: {:?}", out.status);
        let r = &records(&out.stdout)[0];
        for key in ["title", "published_at", "author", "source", "lang"] {
            if let Some(want) = s(key)
                && !gaps.contains(&key)
            {
                assert_eq!(r[key], want.as_str(), "{file}: {key}");
                checked += 1;
            }
        }
        let text = r["text"].as_str().unwrap();
        if !gaps.contains(&"body_first") {
            let first = s("body_first").unwrap();
            let head: String = first.chars().take(15).collect();
            assert!(
                text.starts_with(&head),
                "{file}: text starts {:?}",
                &text[..60.min(text.len())]
            );
        }
        let last = s("body_last").unwrap();
        let tail: String = last
            .chars()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        // Lines the author joined with a space are separate blocks here.
        let squeeze = |t: &str| t.split_whitespace().collect::<String>();
        assert!(
            squeeze(text).contains(&squeeze(&tail)),
            "{file}: body end {tail:?} missing"
        );
        for m in p["must_not_contain"].as_array().unwrap() {
            let m = m.as_str().unwrap();
            assert!(!text.contains(m), "{file}: text holds {m:?}");
        }
        let headings: Vec<&str> = r["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "heading")
            .filter_map(|b| b["text"].as_str())
            .collect();
        for h in p
            .get("headings")
            .and_then(|h| h.as_array())
            .into_iter()
            .flatten()
        {
            let h = h.as_str().unwrap();
            assert!(
                headings.contains(&h),
                "{file}: heading {h:?} not in {headings:?}"
            );
        }
    }
    assert!(checked >= 25, "only {checked} metadata fields checked");
}
