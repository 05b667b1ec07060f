//! Benchmark of hostile pages against ordinary pages of the same size: the
//! time to clean each (decode → prefilter → parse → clean → JSON) and the
//! peak memory of a process that cleans it once. Quadratic paths show as a
//! time ratio far above 1; a blow-up as a peak far above the input.
//!
//! Run: `cargo bench --bench hostile` (add `-- --seconds N` per measurement,
//! `-- --only TEXT` for the pages whose name holds TEXT).
//! The memory columns come from a child process per page (this binary again,
//! with `--rss FILE`), which reports how far cleaning the page raised its
//! peak RSS (`VmHWM`, Linux) above what it held with the page read.

use std::time::{Duration, Instant};

use parkcrawl::clean::{self, decode};
use parkcrawl::rules::RuleSet;

/// The hostile pages, generated at full size, and the ordinary pages each
/// is compared with (same size).
fn cases() -> Vec<(&'static str, String)> {
    let wrap = |body: String| {
        format!(
            "<!DOCTYPE html><html><head><meta charset=utf-8><title>t</title></head>\
             <body><h1>标题</h1><div class=content><p>正文。</p>{body}</div></body></html>"
        )
    };
    let attrs: String = (0..220_000).map(|i| format!(" a{i}=\"\"")).collect();
    vec![
        ("220,000 attributes", wrap(format!("<span{attrs}>x</span>"))),
        (
            "1 MB attribute value",
            wrap(format!("<span title=\"{}\">x</span>", "v".repeat(1 << 20))),
        ),
        (
            "10 MB attribute value",
            wrap(format!("<span title=\"{}\">x</span>", "v".repeat(10 << 20))),
        ),
        (
            "10 MB of \" after a value",
            wrap(format!(
                "<span class=\"a\"{}>x</span>",
                "\"".repeat(10 << 20)
            )),
        ),
        ("<div/> x30,000", wrap("<div/>".repeat(30_000))),
        ("<table><tr><td> x400", wrap("<table><tr><td>".repeat(400))),
        ("</div> x1,000,000", wrap("</div>".repeat(1_000_000))),
        (
            "1 MB unclosed comment",
            wrap(format!("<!-- {}", "x".repeat(1 << 20))),
        ),
        ("<div> x1,000 with text", wrap("<div>段落文字，".repeat(1_000))),
        (
            "5 MB line of text",
            wrap(format!("<p>{}</p>", "园区招商2019年3月5日".repeat(200_000))),
        ),
        ("5 MB <title>", format!("<title>{}</title><p>x</p>", "标题".repeat(800_000))),
        (
            "50,000 links in a list",
            wrap(
                (0..50_000)
                    .map(|i| format!("<li><a href=\"/n/{i}.html\">新闻{i}</a></li>"))
                    .collect(),
            ),
        ),
        ("100,000 <br>", wrap("文字<br>".repeat(100_000))),
        ("20,000 headings", wrap("<h2>标题</h2><p>文</p>".repeat(20_000))),
        (
            "10,000 images",
            wrap("<img src=\"2.jpg\" alt=\"微信图片_2022.jpg\"><p>更多资讯请关注网址:http://x.cn</p>".repeat(10_000)),
        ),
        (
            "1 MB JSON-LD",
            format!(
                "<script type=\"application/ld+json\">{{\"@type\":\"NewsArticle\",\"headline\":\"{}\"}}</script><p>x</p>",
                "标".repeat(350_000)
            ),
        ),
        (
            "100,000 entities",
            wrap(format!("<p>{}</p>", "&amp;&#x56ed;&lt;".repeat(100_000))),
        ),
    ]
}

/// An ordinary article of about `size` bytes: distinct paragraphs of
/// Chinese prose with a link now and then.
fn ordinary(size: usize) -> String {
    let mut body = String::new();
    let mut i = 0;
    while body.len() < size {
        body.push_str(&format!(
            "<p>第{i}段：闵行区今年新增三家产业园区，<a href=\"/news/{i}.html\">招商</a>工作稳步推进，园区面积达到{i}亩。</p>\n"
        ));
        i += 1;
    }
    format!(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>t</title></head>\
         <body><h1>标题</h1><div class=content>{body}</div></body></html>"
    )
}

fn clean_once(rules: &RuleSet, html: &str) -> usize {
    let input = decode::Input {
        name: String::new(),
        bytes: html.as_bytes().to_vec(),
        url: url::Url::parse("http://bench.test/a.html").ok(),
        content_type: None,
        fetch: None,
    };
    let d = decode::decode(input).expect("decodes");
    match clean::clean(&d, rules) {
        Ok(doc) => serde_json::to_vec(&doc).expect("serialises").len(),
        Err(_) => 0,
    }
}

/// Seconds per clean of `html`, over about `seconds`.
fn per_page(seconds: f64, rules: &RuleSet, html: &str) -> f64 {
    clean_once(rules, html);
    let start = Instant::now();
    let mut n = 0u32;
    while n < 3 || start.elapsed() < Duration::from_secs_f64(seconds) {
        std::hint::black_box(clean_once(rules, html));
        n += 1;
    }
    start.elapsed().as_secs_f64() / f64::from(n)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs this binary on one page and reads back its peak RSS.
/// Runs this binary on one page (handed over in a file, so that the child
/// holds nothing but that page) and reads back its peak RSS growth.
fn child_rss(html: &str) -> u64 {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), html).expect("write page");
    let out = std::process::Command::new(std::env::current_exe().expect("own path"))
        .arg("--rss")
        .arg(file.path())
        .output()
        .expect("run self");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rules = RuleSet::builtin().expect("built-in rules");
    if let Some(i) = args.iter().position(|a| a == "--rss") {
        let html = std::fs::read_to_string(&args[i + 1]).expect("page file");
        let base = peak_rss_kib();
        clean_once(&rules, &html);
        println!("{}", peak_rss_kib().saturating_sub(base));
        return;
    }
    let seconds: f64 = args
        .iter()
        .skip_while(|a| *a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    println!(
        "{:<26} {:>9} {:>10} {:>10} {:>7} {:>10} {:>10}",
        "page", "size", "hostile", "ordinary", "time×", "+peak MiB", "ordinary"
    );
    let only = args.iter().skip_while(|a| *a != "--only").nth(1);
    let cases = cases();
    for (name, html) in &cases {
        if only.is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let normal = ordinary(html.len());
        let t = per_page(seconds, &rules, html);
        let o = per_page(seconds, &rules, &normal);
        let rss = child_rss(html) as f64 / 1024.0;
        let orss = child_rss(&normal) as f64 / 1024.0;
        println!(
            "{name:<26} {:>7.1}MB {:>8.2}ms {:>8.2}ms {:>6.2}× {rss:>10.1} {orss:>10.1}",
            html.len() as f64 / 1e6,
            t * 1e3,
            o * 1e3,
            t / o
        );
    }
}
