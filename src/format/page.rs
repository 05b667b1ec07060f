//! The publishing formats: one record as one Markdown or HTML document, for
//! a CMS or a static site. Both say the same, in the same order: headline;
//! dateline (date, author, source); the labelled facts (`fields`); the
//! blocks (headings, paragraphs, lists, tables, images with their captions,
//! quotes); a listing's entries (`items`). Markdown opens with YAML front
//! matter (title, date, id, url, …) for static site generators.
//!
//! Everything a page said is text here, never markup: Markdown's special
//! characters are escaped, HTML's too, and only `http(s)` URLs become links
//! or image sources (a `javascript:` link stays text).

use std::fmt::Write as _;

use crate::document::{Block, Document};
use crate::extract::items::Item;
use crate::rules::Kind;

/// `2022-10-18T10:39:26+08:00` → `2022-10-18 10:39`, the date alone at
/// midnight (a date printed without a time is written as midnight).
pub fn shown_date(rfc3339: &str) -> String {
    let date = rfc3339.get(..10).unwrap_or(rfc3339);
    match rfc3339.get(11..16) {
        Some(t) if rfc3339.get(11..19) != Some("00:00:00") => format!("{date} {t}"),
        _ => date.to_string(),
    }
}

/// The dateline's parts: date, author, source (labelled as the page's
/// language labels it).
fn dateline(doc: &Document) -> Vec<(&'static str, String)> {
    let mut parts = Vec::new();
    if let Some(d) = &doc.published_at {
        parts.push(("date", shown_date(d)));
    }
    if let Some(a) = &doc.author {
        parts.push(("author", a.clone()));
    }
    if let Some(s) = &doc.source {
        let label = if doc.lang.as_deref() == Some("zh") {
            "来源:"
        } else {
            "Source: "
        };
        parts.push(("source", format!("{label}{s}")));
    }
    parts
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Article => "article",
        Kind::Park => "park",
        Kind::District => "district",
        Kind::Page => "page",
    }
}

fn web_url(u: &str) -> Option<&str> {
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then_some(u)
}

/// Markdown: escapes what would be read as markup, anywhere in a line, and
/// what would open a block at a line's start (`#`, `>`, `-`, `1.`).
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            // A hard line break: the record's line stays a line.
            out.push_str("  \n");
        }
        let body = line.trim_start();
        let after_digits = body.trim_start_matches(|c: char| c.is_ascii_digit());
        // In bytes, as `char_indices` counts below.
        let digits = body.len() - after_digits.len();
        let opens_block = body.starts_with(['#', '>', '-', '+', '=', '~'])
            || (digits > 0 && after_digits.starts_with(['.', ')']));
        for (j, c) in body.char_indices() {
            let lead = opens_block && j == if digits > 0 { digits } else { 0 };
            if lead || matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// YAML front matter value: a JSON string is a YAML double-quoted scalar.
fn yaml(v: &str) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn front_matter(doc: &Document) -> String {
    let mut s = String::from("---\n");
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            let _ = writeln!(s, "{k}: {}", yaml(v));
        }
    };
    put("title", doc.title.as_deref());
    put("date", doc.published_at.as_deref());
    put("id", Some(&doc.id));
    put("url", Some(&doc.url));
    put("canonical_url", doc.canonical_url.as_deref());
    put("kind", Some(kind_name(doc.kind)));
    put("site", doc.site.host.as_deref());
    put("site_name", doc.site.name.as_deref());
    put("lang", doc.lang.as_deref());
    put("author", doc.author.as_deref());
    put("source", doc.source.as_deref());
    put("district", doc.district.as_deref());
    put("park", doc.park.as_ref().and_then(|p| p.name.as_deref()));
    s.push_str("---\n");
    s
}

/// One record as a Markdown document.
pub fn markdown(doc: &Document) -> String {
    let mut s = front_matter(doc);
    if let Some(t) = &doc.title {
        let _ = write!(s, "\n# {}\n", md(t));
    }
    let line = dateline(doc);
    if !line.is_empty() {
        let parts: Vec<String> = line.iter().map(|(_, v)| md(v)).collect();
        let _ = write!(s, "\n*{}*\n", parts.join(" · "));
    }
    if !doc.fields.is_empty() {
        s.push('\n');
        for (k, v) in &doc.fields {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            let _ = writeln!(s, "- **{}**: {}", md(k), md(&v));
        }
    }
    for b in &doc.blocks {
        s.push('\n');
        md_block(b, &mut s);
    }
    if !doc.items.is_empty() {
        s.push('\n');
        doc.items.iter().for_each(|i| md_item(i, &mut s));
    }
    s
}

fn md_block(b: &Block, s: &mut String) {
    match b {
        Block::Heading { text } => {
            let _ = writeln!(s, "## {}", md(text));
        }
        Block::Paragraph { text } => {
            let _ = writeln!(s, "{}", md(text));
        }
        Block::Quote { text } => {
            let _ = writeln!(s, "> {}", md(text).replace("  \n", "  \n> "));
        }
        Block::List { items } => items.iter().for_each(|i| {
            let _ = writeln!(s, "- {}", md(i));
        }),
        Block::Table { rows } => md_table(rows, s),
        Block::Image { src, alt, caption } => {
            let alt = md(alt.as_deref().or(caption.as_deref()).unwrap_or(""));
            match src.as_deref().and_then(web_url) {
                Some(u) => {
                    let _ = writeln!(s, "![{alt}](<{}>)", u.replace(['<', '>', '\n'], ""));
                }
                None => {
                    let _ = writeln!(s, "{alt}");
                }
            }
            if let Some(c) = caption {
                let _ = writeln!(s, "\n*{}*", md(c));
            }
        }
    }
}

/// A GFM table: the first row is the header (GFM has no table without
/// one); short rows are padded.
fn md_table(rows: &[Vec<String>], s: &mut String) {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let cell = |c: &str| md(c).replace("  \n", "<br>");
    for (i, row) in rows.iter().enumerate() {
        let mut cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        cells.resize(width, String::new());
        let _ = writeln!(s, "| {} |", cells.join(" | "));
        if i == 0 {
            let _ = writeln!(s, "|{}", "---|".repeat(width));
        }
    }
}

fn md_item(i: &Item, s: &mut String) {
    let title = md(&i.title);
    match i.url.as_deref().and_then(web_url) {
        Some(u) => {
            let _ = write!(s, "- [{title}](<{}>)", u.replace(['<', '>', '\n'], ""));
        }
        None => {
            let _ = write!(s, "- {title}");
        }
    }
    if let Some(d) = &i.date {
        let _ = write!(s, " ({})", shown_date(d));
    }
    if let Some(sum) = &i.summary {
        let _ = write!(s, ": {}", md(sum));
    }
    s.push('\n');
}

/// HTML text: `&`, `<`, `>` and quotes escaped (safe in attributes too).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text with its line breaks as `<br>`.
fn esc_lines(text: &str) -> String {
    esc(text).replace('\n', "<br>\n")
}

/// One record as a standalone HTML document.
pub fn html(doc: &Document) -> String {
    let mut s = String::from("<!DOCTYPE html>\n");
    let lang = doc
        .lang
        .as_deref()
        .map_or(String::new(), |l| format!(" lang=\"{}\"", esc(l)));
    let _ = write!(s, "<html{lang}>\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        s,
        "<title>{}</title>",
        esc(doc.title.as_deref().unwrap_or(&doc.url))
    );
    let canonical = doc.canonical_url.as_deref().unwrap_or(&doc.url);
    if let Some(u) = web_url(canonical) {
        let _ = writeln!(s, "<link rel=\"canonical\" href=\"{}\">", esc(u));
    }
    let _ = writeln!(
        s,
        "<meta name=\"parkcrawl-id\" content=\"{}\">",
        esc(&doc.id)
    );
    s.push_str("</head>\n<body>\n<article>\n");
    if let Some(t) = &doc.title {
        let _ = writeln!(s, "<h1>{}</h1>", esc(t));
    }
    html_dateline(doc, &mut s);
    if !doc.fields.is_empty() {
        s.push_str("<dl class=\"fields\">\n");
        for (k, v) in &doc.fields {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            let _ = writeln!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), esc_lines(&v));
        }
        s.push_str("</dl>\n");
    }
    doc.blocks.iter().for_each(|b| html_block(b, &mut s));
    if !doc.items.is_empty() {
        s.push_str("<ul class=\"items\">\n");
        doc.items.iter().for_each(|i| html_item(i, &mut s));
        s.push_str("</ul>\n");
    }
    s.push_str("</article>\n</body>\n</html>\n");
    s
}

fn html_dateline(doc: &Document, s: &mut String) {
    let parts: Vec<String> = dateline(doc)
        .into_iter()
        .map(|(class, v)| match (class, &doc.published_at) {
            ("date", Some(d)) => format!("<time datetime=\"{}\">{}</time>", esc(d), esc(&v)),
            _ => format!("<span class=\"{class}\">{}</span>", esc(&v)),
        })
        .collect();
    if !parts.is_empty() {
        let _ = writeln!(s, "<p class=\"dateline\">{}</p>", parts.join(" · "));
    }
}

fn html_block(b: &Block, s: &mut String) {
    match b {
        Block::Heading { text } => {
            let _ = writeln!(s, "<h2>{}</h2>", esc(text));
        }
        Block::Paragraph { text } => {
            let _ = writeln!(s, "<p>{}</p>", esc_lines(text));
        }
        Block::Quote { text } => {
            let _ = writeln!(s, "<blockquote><p>{}</p></blockquote>", esc_lines(text));
        }
        Block::List { items } => {
            s.push_str("<ul>\n");
            for i in items {
                let _ = writeln!(s, "<li>{}</li>", esc_lines(i));
            }
            s.push_str("</ul>\n");
        }
        Block::Table { rows } => {
            s.push_str("<table>\n");
            for row in rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| format!("<td>{}</td>", esc_lines(c)))
                    .collect();
                let _ = writeln!(s, "<tr>{}</tr>", cells.concat());
            }
            s.push_str("</table>\n");
        }
        Block::Image { src, alt, caption } => html_image(src, alt, caption, s),
    }
}

fn html_image(
    src: &Option<String>,
    alt: &Option<String>,
    caption: &Option<String>,
    s: &mut String,
) {
    s.push_str("<figure>");
    if let Some(u) = src.as_deref().and_then(web_url) {
        let alt = alt.as_deref().unwrap_or("");
        let _ = write!(s, "<img src=\"{}\" alt=\"{}\">", esc(u), esc(alt));
    }
    if let Some(c) = caption {
        let _ = write!(s, "<figcaption>{}</figcaption>", esc_lines(c));
    }
    s.push_str("</figure>\n");
}

fn html_item(i: &Item, s: &mut String) {
    s.push_str("<li>");
    match i.url.as_deref().and_then(web_url) {
        Some(u) => {
            let _ = write!(s, "<a href=\"{}\">{}</a>", esc(u), esc(&i.title));
        }
        None => s.push_str(&esc(&i.title)),
    }
    if let Some(d) = &i.date {
        let _ = write!(
            s,
            " <time datetime=\"{}\">{}</time>",
            esc(d),
            esc(&shown_date(d))
        );
    }
    if let Some(sum) = &i.summary {
        let _ = write!(s, "<p>{}</p>", esc_lines(sum));
    }
    s.push_str("</li>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_show_their_time_unless_midnight() {
        assert_eq!(shown_date("2022-10-18T10:39:26+08:00"), "2022-10-18 10:39");
        assert_eq!(shown_date("2022-09-30T00:00:00+08:00"), "2022-09-30");
        assert_eq!(shown_date("昨天"), "昨天");
    }

    #[test]
    fn markdown_escapes_markup_and_block_openers() {
        assert_eq!(md("a*b_c [x](y) <i>"), "a\\*b\\_c \\[x\\](y) \\<i\\>");
        assert_eq!(md("# 不是标题"), "\\# 不是标题");
        assert_eq!(md("1. 第一"), "1\\. 第一");
        assert_eq!(md("- 项\n> 引"), "\\- 项  \n\\> 引");
        assert_eq!(md("２０２２年"), "２０２２年");
    }

    fn doc(blocks: Vec<Block>) -> Document {
        let rec = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sh.taxs.vip/news-5101.expected.json"
        ))
        .unwrap();
        let mut d: Document = serde_json::from_str(&rec).unwrap();
        d.blocks = blocks;
        d.title = Some(r#"<script>x</script> *标题* "引号""#.into());
        d
    }

    #[test]
    fn hostile_text_stays_text_in_both_formats() {
        let d = doc(vec![
            Block::Table {
                rows: vec![vec!["名称".into(), "a|b".into()], vec!["只有一格".into()]],
            },
            Block::Image {
                src: Some("javascript:alert(1)".into()),
                alt: Some("<b>".into()),
                caption: Some("图一".into()),
            },
        ]);
        let md = markdown(&d);
        let front = r#"title: "<script>x</script> *标题* \"引号\"""#;
        assert!(md.starts_with(&format!("---\n{front}\n")), "{md}");
        let head = r#"# \<script\>x\</script\> \*标题\* "引号""#;
        assert!(md.contains(&format!("\n{head}\n")), "{md}");
        assert!(
            md.contains("| 名称 | a\\|b |\n|---|---|\n| 只有一格 |  |\n"),
            "{md}"
        );
        assert!(!md.contains("javascript"), "{md}");
        let html = html(&d);
        let h1 = "<h1>&lt;script&gt;x&lt;/script&gt; *标题* &quot;引号&quot;</h1>";
        assert!(html.contains(h1), "{html}");
        assert!(
            html.contains("<figure><figcaption>图一</figcaption></figure>"),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
    }

    #[test]
    fn only_web_urls_become_links() {
        assert_eq!(web_url("HTTPS://a.cn/"), Some("HTTPS://a.cn/"));
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("园"), None);
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
