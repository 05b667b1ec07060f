//! Sitemaps (sitemaps.org): a `<urlset>` lists pages, a `<sitemapindex>`
//! lists further sitemaps; a plain-text sitemap is one URL per line.
//!
//! Sitemap work is bounded, since a server can make an index as deep, wide
//! or long as it likes: a body is read to `--max-body` and no further
//! (`crate::fetch`), a file gives at most [`MAX_ENTRIES`] URLs (parsing
//! stops there), indexes are followed [`MAX_LEVELS`] deep, and a host gets
//! at most `--max-sitemaps` sitemap fetches a run ([`Budget`]).

use std::collections::HashMap;

use quick_xml::events::Event;
use url::Url;

/// The protocol's limit of entries per file.
pub const MAX_ENTRIES: usize = 50_000;

/// Levels of sitemaps read: a sitemap given (or named by robots.txt) is
/// level 0, a sitemap an index lists is one level below it. The protocol
/// allows no nesting and search engines follow little; three levels (index
/// of indexes of sitemaps) is generous, and an index chain ends there.
pub const MAX_LEVELS: u32 = 3;

/// Sitemaps fetched per host and run (`--max-sitemaps`). With
/// [`MAX_ENTRIES`] each that is 5,000,000 pages, more than any portal has;
/// an index listing 50,000 indexes stops here rather than filling memory.
pub const DEFAULT_MAX_PER_HOST: usize = 100;

#[derive(Debug, Default, PartialEq)]
pub struct Sitemap {
    pub pages: Vec<Url>,
    /// Child sitemaps of an index.
    pub sitemaps: Vec<Url>,
    /// Parsing stopped at [`MAX_ENTRIES`]: the file lists more.
    pub truncated: bool,
}

/// Why a sitemap was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nested more than [`MAX_LEVELS`] deep.
    TooDeep,
    /// Its host had its `--max-sitemaps`.
    OverCap,
}

impl Refusal {
    /// A tag to say it once a run by, and the line that says it.
    pub fn explain(self, host_key: &str, max_per_host: usize) -> (&'static str, String) {
        match self {
            Refusal::TooDeep => (
                "sitemap-depth",
                format!("sitemap indexes nested more than {MAX_LEVELS} deep are not read"),
            ),
            Refusal::OverCap => (
                "sitemap-cap",
                format!(
                    "{host_key} has had its {max_per_host} sitemaps for this run \
                     (--max-sitemaps); no more are read"
                ),
            ),
        }
    }
}

/// The sitemaps each host had queued in this run, against the caps.
#[derive(Debug)]
pub struct Budget {
    max_per_host: usize,
    /// Host key → sitemaps queued this run.
    queued: HashMap<String, usize>,
}

impl Budget {
    pub fn new(max_per_host: usize) -> Budget {
        Budget {
            max_per_host,
            queued: HashMap::new(),
        }
    }

    /// Whether a sitemap of `host_key` at `level` may be queued.
    pub fn allows(&self, host_key: &str, level: u32) -> Result<(), Refusal> {
        if level >= MAX_LEVELS {
            return Err(Refusal::TooDeep);
        }
        if self.queued.get(host_key).copied().unwrap_or(0) >= self.max_per_host {
            return Err(Refusal::OverCap);
        }
        Ok(())
    }

    /// A sitemap of `host_key` was queued.
    pub fn count(&mut self, host_key: &str) {
        *self.queued.entry(host_key.to_string()).or_default() += 1;
    }
}

/// Parses a sitemap body fetched from `at` (relative `<loc>`s, which the
/// protocol forbids but sites write, are resolved against it).
pub fn parse(body: &[u8], at: &Url) -> Result<Sitemap, String> {
    let text = text_of(body);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if !text.starts_with('<') {
        return Ok(parse_text(text));
    }
    parse_xml(text, at)
}

/// A text sitemap: one absolute http(s) URL a line.
fn parse_text(text: &str) -> Sitemap {
    let pages = text
        .lines()
        .filter_map(|l| Url::parse(l.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .take(MAX_ENTRIES + 1)
        .collect::<Vec<_>>();
    let truncated = pages.len() > MAX_ENTRIES;
    Sitemap {
        pages: pages.into_iter().take(MAX_ENTRIES).collect(),
        sitemaps: Vec::new(),
        truncated,
    }
}

/// An XML urlset or sitemap index: every `<loc>`, as far as the XML is
/// readable.
fn parse_xml(text: &str, at: &Url) -> Result<Sitemap, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut out = Sitemap::default();
    // Inside <sitemap> (of an index) rather than <url>; inside <loc>.
    let mut in_sitemap = false;
    let mut loc: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                "sitemap" => in_sitemap = true,
                "url" => in_sitemap = false,
                "loc" => loc = Some(String::new()),
                _ => {}
            },
            Ok(Event::Text(t)) => {
                if let Some(l) = &mut loc {
                    l.push_str(&t.xml10_content());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(l) = &mut loc {
                    l.push_str(&t);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(l) = &mut loc {
                    push_reference(l, &r);
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == "loc" => {
                if let Some(l) = loc.take()
                    && !take_loc(&mut out, in_sitemap, &l, at)
                {
                    break;
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                if out.pages.is_empty() && out.sitemaps.is_empty() {
                    return Err(format!("not a sitemap: {e}"));
                }
                break; // keep what was read before the damage
            }
        }
    }
    Ok(out)
}

/// A character or entity reference inside `<loc>`: the character it names
/// (an unknown entity is dropped).
fn push_reference(loc: &mut String, r: &quick_xml::events::BytesRef<'_>) {
    match r.resolve_char_ref() {
        Ok(Some(c)) => loc.push(c),
        _ => loc.push_str(match r.as_ref() {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" => "'",
            _ => "",
        }),
    }
}

/// Adds one `<loc>` to its list; `false` once the list is full, when the
/// rest of the file is not read (a file is a urlset or an index: this list
/// is the file's).
fn take_loc(out: &mut Sitemap, in_sitemap: bool, loc: &str, at: &Url) -> bool {
    let Ok(u) = at.join(loc.trim()) else {
        return true;
    };
    if !matches!(u.scheme(), "http" | "https") {
        return true;
    }
    let list = if in_sitemap {
        &mut out.sitemaps
    } else {
        &mut out.pages
    };
    if list.len() >= MAX_ENTRIES {
        out.truncated = true;
        return false;
    }
    list.push(u);
    true
}

/// The body as text, borrowed when it is UTF-8 but for a character cut at
/// its end (a body cut at `--max-body`): no copy of a 10 MiB sitemap.
fn text_of(body: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(body) {
        Ok(t) => t.into(),
        Err(e) if e.error_len().is_none() => {
            let whole = body.get(..e.valid_up_to()).unwrap_or_default();
            String::from_utf8_lossy(whole)
        }
        Err(_) => String::from_utf8_lossy(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlset_index_and_text() {
        let at = Url::parse("http://a.cn/sitemap.xml").unwrap();
        let set = br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://a.cn/news/view.html?id=1&amp;x=2</loc><lastmod>2024-01-01</lastmod></url>
  <url><loc> /park/ </loc></url>
  <url><loc><![CDATA[http://a.cn/c]]></loc></url>
</urlset>"#;
        let s = parse(set, &at).unwrap();
        let pages: Vec<&str> = s.pages.iter().map(Url::as_str).collect();
        assert_eq!(
            pages,
            [
                "http://a.cn/news/view.html?id=1&x=2",
                "http://a.cn/park/",
                "http://a.cn/c"
            ]
        );
        let index = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://a.cn/s1.xml</loc></sitemap></sitemapindex>"#;
        let s = parse(index, &at).unwrap();
        assert_eq!(s.sitemaps[0].as_str(), "http://a.cn/s1.xml");
        assert!(s.pages.is_empty());
        let s = parse(b"http://a.cn/1\nnonsense\nhttp://a.cn/2\n", &at).unwrap();
        assert_eq!(s.pages.len(), 2);
        assert!(parse(b"<html><p>oops</html>", &at).is_err());
    }

    #[test]
    fn a_long_file_stops_at_the_entry_limit() {
        let at = Url::parse("http://a.cn/sitemap.xml").unwrap();
        let mut xml = String::from("<urlset>");
        for i in 0..MAX_ENTRIES + 5 {
            xml.push_str(&format!("<url><loc>/p/{i}</loc></url>"));
        }
        // Cut mid-entry, as a body cut at --max-body is.
        xml.push_str("<url><lo");
        let s = parse(xml.as_bytes(), &at).unwrap();
        assert_eq!(s.pages.len(), MAX_ENTRIES);
        assert!(s.truncated);
        let short = parse(b"<urlset><url><loc>/a</loc></url><url><lo", &at).unwrap();
        assert_eq!((short.pages.len(), short.truncated), (1, false));
        // Cut inside a character: the text up to it is read.
        let cut = "<urlset><url><loc>/园区</loc></url><url><loc>/园".as_bytes();
        let s = parse(&cut[..cut.len() - 1], &at).unwrap();
        assert_eq!(s.pages[0].as_str(), "http://a.cn/%E5%9B%AD%E5%8C%BA");
    }

    #[test]
    fn budget_caps_levels_and_hosts() {
        let mut b = Budget::new(2);
        assert_eq!(b.allows("a.cn:80", MAX_LEVELS), Err(Refusal::TooDeep));
        assert_eq!(b.allows("a.cn:80", MAX_LEVELS - 1), Ok(()));
        b.count("a.cn:80");
        b.count("a.cn:80");
        assert_eq!(b.allows("a.cn:80", 0), Err(Refusal::OverCap));
        assert_eq!(b.allows("b.cn:80", 0), Ok(()));
    }
}
