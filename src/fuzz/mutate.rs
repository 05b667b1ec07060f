//! Mutators: how a seed becomes a hostile input. Each is a small function of
//! the bytes and the [`Rng`]; [`page`] and [`robots`] stack one to three of
//! them on a seed. Byte-level on purpose: the point is to make text that no
//! well-behaved writer would, down to split characters.

use super::corpus::Corpus;
use super::{Case, Rng, Target};

/// How big the floods get: small in the CI run (debug build), large by hand.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Most repetitions of one flood (attributes, `<div/>`, entities, `"`).
    pub flood: usize,
    /// Inputs longer than this are cut back to it.
    pub max_len: usize,
}

impl Scale {
    pub const CI: Scale = Scale {
        flood: 200,
        max_len: 128 * 1024,
    };
    pub const LONG: Scale = Scale {
        flood: 250_000,
        max_len: 4 * 1024 * 1024,
    };
}

const URLS: [&str; 5] = [
    "http://sh.taxs.vip/news/view.html?id=5101",
    "http://sh.taxs.vip/park/view.html?id=2428",
    "http://www.example.cn/a/b.html",
    "https://news.example.com/2022/10/18/story.html",
    "http://xn--fiq228c.cn/园区/1.shtml",
];

const CONTENT_TYPES: [&str; 10] = [
    "text/html",
    "text/html; charset=utf-8",
    "text/html; charset=gbk",
    "text/html; charset=utf-16",
    "text/html; charset=utf-16be",
    "text/html; charset=x-user-defined",
    "text/html; charset=replacement",
    "text/html; charset=\"iso-2022-jp\"",
    "text/html;charset=bogus;charset=big5",
    "application/xhtml+xml; charset=gb18030",
];

/// A page input: a seed (or two, spliced), one to three mutations, a URL and
/// content type, or neither.
pub fn page(corpus: &Corpus, rng: &mut Rng, scale: Scale) -> Case {
    let seeds = corpus.seeds(Target::Page);
    let mut bytes = if seeds.is_empty() {
        b"<html><body><p>x</p></body></html>".to_vec()
    } else {
        rng.pick(seeds).clone()
    };
    let mut how = Vec::new();
    for _ in 0..1 + rng.below(3) {
        how.push(mutate_page(&mut bytes, seeds, rng, scale));
    }
    bytes.truncate(scale.max_len);
    Case {
        target: Target::Page,
        bytes,
        content_type: rng
            .chance(1, 3)
            .then(|| rng.pick(&CONTENT_TYPES).to_string()),
        url: rng.chance(2, 3).then(|| rng.pick(&URLS).to_string()),
        how,
    }
}

/// The mutators that repeat a piece many times: what a slow input is named by.
pub const FLOODS: [&str; 8] = [
    "entity-storm",
    "nest",
    "self-closing-flood",
    "many-attributes",
    "huge-attribute",
    "quote-run",
    "soup",
    "robots",
];

/// A page mutator: the bytes, the other seeds (for splices), the generator.
type PageMutator = fn(&mut Vec<u8>, &[Vec<u8>], &mut Rng, Scale);

/// The page mutators by name; the name goes into [`Case::how`].
const PAGE_MUTATORS: [(&str, PageMutator); 16] = [
    ("flip", |b, _, rng, _| flip(b, rng)),
    ("truncate", |b, _, rng, _| truncate(b, rng)),
    ("splice", |b, seeds, rng, _| {
        if !seeds.is_empty() {
            let other = rng.pick(seeds).clone();
            splice(b, &other, rng);
        }
    }),
    ("multibyte-attribute", |b, _, rng, _| {
        multibyte_attribute(b, rng)
    }),
    ("unclosed", |b, _, rng, _| {
        let s = unclosed(rng);
        insert(b, rng, s);
    }),
    ("nul", |b, _, rng, _| nuls(b, rng)),
    ("entity-storm", |b, _, rng, scale| {
        let s = entity_storm(rng, scale);
        insert(b, rng, &s);
    }),
    ("nest", |b, _, rng, _| nest(b, rng)),
    ("self-closing-flood", |b, _, rng, scale| {
        let n = reps(rng, scale, 10, 6);
        insert(b, rng, "<div/>".repeat(n));
    }),
    ("charset-lie", |b, _, rng, _| charset_lie(b, rng)),
    ("many-attributes", |b, _, rng, scale| {
        let s = many_attributes(rng, scale);
        insert(b, rng, &s);
    }),
    ("huge-attribute", |b, _, rng, scale| {
        let n = reps(rng, scale, 300, 3);
        let s = format!("<img alt=\"{}\" src=\"{}.jpg\">", "伤".repeat(n), n);
        insert(b, rng, &s);
    }),
    ("quote-run", |b, _, rng, scale| quote_run(b, rng, scale)),
    ("date", |b, _, rng, _| {
        let s = rng_date(rng);
        insert(b, rng, s);
    }),
    ("soup", |b, _, rng, scale| soup(b, rng, scale)),
    ("bom", |b, _, rng, _| {
        let s = *rng.pick(&BOMS);
        insert(b, rng, s);
    }),
];

fn mutate_page(b: &mut Vec<u8>, seeds: &[Vec<u8>], rng: &mut Rng, scale: Scale) -> &'static str {
    let (name, f) = *rng.pick(&PAGE_MUTATORS);
    f(b, seeds, rng, scale);
    name
}

/// How many times to repeat a piece of `len` bytes: up to `mult` floods, and
/// never past the input size cap.
fn reps(rng: &mut Rng, scale: Scale, mult: usize, len: usize) -> usize {
    1 + rng.below((scale.flood * mult).min(scale.max_len / len.max(1)))
}

/// Where in `b` to act: anywhere, or just after a byte of interest.
fn spot(b: &[u8], rng: &mut Rng, after: &[u8]) -> usize {
    if !after.is_empty() && !b.is_empty() && rng.chance(3, 4) {
        let start = rng.below(b.len());
        if let Some(i) = b[start..].iter().position(|c| after.contains(c)) {
            return start + i + 1;
        }
    }
    rng.below(b.len() + 1)
}

fn insert(b: &mut Vec<u8>, rng: &mut Rng, what: impl AsRef<[u8]>) {
    let at = spot(b, rng, b"<> \"=");
    b.splice(at..at, what.as_ref().iter().copied());
}

fn flip(b: &mut [u8], rng: &mut Rng) {
    if b.is_empty() {
        return;
    }
    for _ in 0..1 + rng.below(16) {
        let i = rng.below(b.len());
        b[i] = match rng.below(3) {
            0 => b[i] ^ (1 << rng.below(8)),
            1 => rng.next_u64() as u8,
            _ => *rng.pick(b"<>\"'=&/\x80\xff\xe4\x81"),
        };
    }
}

/// Cuts the page at a boundary of some kind: inside a UTF-8 sequence, after
/// a GBK lead byte, inside a tag, an attribute value or an entity.
fn truncate(b: &mut Vec<u8>, rng: &mut Rng) {
    let at = match rng.below(5) {
        // A UTF-8 continuation byte: the cut leaves a partial character.
        0 => spot_where(b, rng, |c| c & 0xC0 == 0x80),
        // A byte that leads a GBK pair (0x81..=0xFE).
        1 => spot_where(b, rng, |c| (0x81..=0xFE).contains(&c)).map(|i| i + 1),
        2 => Some(spot(b, rng, b"<")),
        3 => Some(spot(b, rng, b"\"=")),
        _ => Some(spot(b, rng, b"&")),
    };
    b.truncate(at.unwrap_or_else(|| rng.below(b.len() + 1)));
}

fn spot_where(b: &[u8], rng: &mut Rng, f: impl Fn(u8) -> bool) -> Option<usize> {
    let start = rng.below(b.len());
    b.get(start..)?
        .iter()
        .position(|&c| f(c))
        .map(|i| start + i)
}

fn splice(b: &mut Vec<u8>, other: &[u8], rng: &mut Rng) {
    let cut = rng.below(b.len() + 1);
    let from = rng.below(other.len() + 1);
    b.truncate(cut);
    b.extend_from_slice(&other[from..]);
}

const JUNK_ATTRS: [&str; 6] = [
    " 暗伤\"曝露？\"=\"\"",
    " kündigt=\"\"",
    " 名=值",
    " data-标题='…' ",
    " \u{3000}=\"\u{3000}\"",
    " é\"=\"ü",
];

/// Multi-byte characters where a scanner expects ASCII: after an attribute
/// value, in a tag name, in an attribute name.
fn multibyte_attribute(b: &mut Vec<u8>, rng: &mut Rng) {
    let junk = *rng.pick(&JUNK_ATTRS);
    let at = match rng.below(3) {
        0 => spot(b, rng, b"\""),
        1 => spot(b, rng, b"<"),
        _ => spot(b, rng, b" "),
    };
    let what = if rng.chance(1, 3) { "伤" } else { junk };
    b.splice(at..at, what.bytes());
}

fn unclosed(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(&[
        "<!--",
        "<!-- x -- y",
        "<script>",
        "<script><!--",
        "<![CDATA[",
        "<style>",
        "<textarea>",
        "<title>",
        "<noscript>",
        "<plaintext>",
        "<xmp>",
        "<iframe>",
        "<svg><![CDATA[",
        "<math><mi><![CDATA[",
        "<a href=\"",
        "<!DOCTYPE",
        "</",
        "<",
        "&",
    ])
}

fn nuls(b: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..1 + rng.below(8) {
        let n = 1 + rng.below(64);
        let at = spot(b, rng, b"<=\" ");
        b.splice(at..at, std::iter::repeat_n(0u8, n));
    }
}

const ENTITIES: [&str; 14] = [
    "&amp;",
    "&#x4e2d;",
    "&#0;",
    "&#xD800;",
    "&nbsp;",
    "&#99999999999;",
    "&",
    "&am",
    "&#x;",
    "&NotNestedGreaterGreater;",
    "&#128;",
    "&ampamp;",
    "&#x10FFFF;",
    "&lt",
];

fn entity_storm(rng: &mut Rng, scale: Scale) -> String {
    let n = reps(rng, scale, 4, 8);
    let e = *rng.pick(&ENTITIES);
    if rng.chance(1, 2) {
        e.repeat(n)
    } else {
        (0..n).map(|_| *rng.pick(&ENTITIES)).collect()
    }
}

/// Nesting around the 1,024 limit: closed, unclosed, or in tags html5ever
/// treats specially.
fn nest(b: &mut Vec<u8>, rng: &mut Rng) {
    let depth = match rng.below(3) {
        0 => 1000 + rng.below(50),
        1 => 500 + rng.below(30),
        _ => rng.below(3000),
    };
    let tag = *rng.pick(&["div", "span", "b", "table", "p", "li", "font", "a"]);
    let mut s = format!("<{tag}>").repeat(depth);
    if rng.chance(1, 2) {
        s.push('深');
        s.push_str(&format!("</{tag}>").repeat(depth));
    }
    insert(b, rng, s);
}

/// Unmatched start and end tags, the soups that make html5ever's tree deeper
/// than a pre-scan counts.
fn soup(b: &mut Vec<u8>, rng: &mut Rng, scale: Scale) {
    let n = reps(rng, scale, 1, 16);
    let piece = *rng.pick(&[
        "<b><i></b></i>",
        "</div><div>",
        "<table><tr><td>",
        "<p><div></p>",
        "<a><a>",
        "<font><center></font>",
        "<li><ul>",
        "<select><option>",
    ]);
    insert(b, rng, piece.repeat(n));
}

const CHARSETS: [&str; 9] = [
    "utf-16",
    "utf-16le",
    "x-user-defined",
    "replacement",
    "iso-2022-kr",
    "gbk",
    "big5",
    "shift_jis",
    "bogus-charset",
];

/// A `<meta>` that lies about the charset, or a GBK page declaring UTF-8.
fn charset_lie(b: &mut Vec<u8>, rng: &mut Rng) {
    if rng.chance(1, 4) {
        let text = String::from_utf8_lossy(b).into_owned();
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        *b = gbk.into_owned();
        b.splice(0..0, b"<meta charset=\"utf-8\">".iter().copied());
        return;
    }
    let cs = *rng.pick(&CHARSETS);
    let meta = if rng.chance(1, 2) {
        format!("<meta charset={cs}>")
    } else {
        format!("<meta http-equiv=\"Content-Type\" content=\"text/html; charset={cs}\">")
    };
    let at = if rng.chance(1, 2) {
        0
    } else {
        rng.below(b.len() + 1)
    };
    b.splice(at..at, meta.bytes());
}

fn many_attributes(rng: &mut Rng, scale: Scale) -> String {
    let n = reps(rng, scale, 20, 10);
    let same = rng.chance(1, 3);
    let mut s = String::from("<div");
    for i in 0..n {
        if same {
            s.push_str(" a=\"\"");
        } else {
            s.push_str(&format!(" a{i}=\"v{i}\""));
        }
    }
    s.push_str(">x</div>");
    s
}

/// A run of `"` right after an attribute value.
fn quote_run(b: &mut Vec<u8>, rng: &mut Rng, scale: Scale) {
    let n = reps(rng, scale, 100, 1);
    let at = spot(b, rng, b"\"");
    b.splice(at..at, std::iter::repeat_n(b'"', n));
}

fn rng_date(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(&[
        "<meta name=\"pubdate\" content=\"2007-08-20-23:59:59\">",
        "<meta property=\"article:published_time\" content=\"2022-10-18T10:39:26+０８:００\">",
        "<time datetime=\"２０２２-１０-１８\">２０２２年１０月１８日</time>",
        "<p>2022年10月18日 10:39:26闵行招商浏览量:1次</p>",
        "<meta name=\"date\" content=\"9999-99-99T99:99:99+99:99\">",
        "<meta name=\"publishdate\" content=\"2022-02-30 25:61:61\">",
        "<p>发布时间：2022-10-18 10:39 +14:01</p>",
        "<meta itemprop=\"datePublished\" content=\"-2022-10-18\">",
        "<p>2022年13月45日</p>",
        "<script type=\"application/ld+json\">{\"datePublished\":\"2022-10-18T10:39:26-23:59\"}</script>",
    ])
}

const BOMS: [&str; 3] = ["\u{feff}", "\u{feff}\u{feff}", "\u{200b}"];

/// A robots.txt input: a seed with one to three line- or byte-level changes.
pub fn robots(corpus: &Corpus, rng: &mut Rng, scale: Scale) -> Case {
    let seeds = corpus.seeds(Target::Robots);
    let mut b = rng.pick(seeds).clone();
    for _ in 0..1 + rng.below(3) {
        match rng.below(7) {
            0 => flip(&mut b, rng),
            1 => truncate(&mut b, rng),
            2 => {
                let other = rng.pick(seeds).clone();
                splice(&mut b, &other, rng);
            }
            3 => nuls(&mut b, rng),
            4 => {
                let n = 1 + rng.below(scale.flood / 10 + 1);
                let line = robots_line(rng).repeat(n);
                insert(&mut b, rng, line);
            }
            5 => {
                let bom: &[u8] = rng.pick::<&[u8]>(&[&b"\xef\xbb"[..], b"\xef", b"\xfe\xff"]);
                b.splice(0..0, bom.iter().copied());
            }
            _ => {
                let line = robots_line(rng);
                insert(&mut b, rng, line);
            }
        }
    }
    b.truncate(crate::fetch::robots::MAX_ROBOTS_BYTES);
    Case {
        target: Target::Robots,
        bytes: b,
        content_type: None,
        url: None,
        how: vec!["robots"],
    }
}

fn robots_line(rng: &mut Rng) -> String {
    let key = *rng.pick(&[
        "User-agent",
        "user-agent",
        "Disallow",
        "Allow",
        "Crawl-delay",
        "Sitemap",
        "Host",
        "",
        "dis allow",
        "ＤＩＳＡＬＬＯＷ",
    ]);
    let value = *rng.pick(&[
        "*",
        "parkcrawl",
        "/",
        "/*$",
        "/**********a",
        "$",
        "/$$",
        "%",
        "%zz",
        "/%E5%9B%AD",
        "/园区",
        "1e309",
        "-1",
        "NaN",
        "0.0000001",
        "http://r.test/sitemap.xml",
        "  ",
        "/a*b*c*d*e*f$",
        "http://user:pw@R.TEST.:80/a?utm_x=1&b=&a#f",
        "//sh.taxs.vip./?",
        "http://[::ffff:127.0.0.1]/",
    ]);
    let end = *rng.pick(&["\n", "\r\n", "\r", " # c\n", ""]);
    format!("{key}: {value}{end}")
}
