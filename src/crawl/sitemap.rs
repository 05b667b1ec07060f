//! Sitemaps (sitemaps.org): a `<urlset>` lists pages, a `<sitemapindex>`
//! lists further sitemaps; a plain-text sitemap is one URL per line.

use quick_xml::events::Event;
use url::Url;

/// The protocol's limit of entries per file.
pub const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Default, PartialEq)]
pub struct Sitemap {
    pub pages: Vec<Url>,
    /// Child sitemaps of an index.
    pub sitemaps: Vec<Url>,
}

/// Parses a sitemap body fetched from `at` (relative `<loc>`s, which the
/// protocol forbids but sites write, are resolved against it).
pub fn parse(body: &[u8], at: &Url) -> Result<Sitemap, String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if !text.starts_with('<') {
        let pages = text
            .lines()
            .filter_map(|l| Url::parse(l.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .take(MAX_ENTRIES)
            .collect();
        return Ok(Sitemap {
            pages,
            sitemaps: Vec::new(),
        });
    }
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
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => l.push(c),
                        _ => l.push_str(match r.into_inner().as_ref() {
                            "amp" => "&",
                            "lt" => "<",
                            "gt" => ">",
                            "quot" => "\"",
                            "apos" => "'",
                            _ => "",
                        }),
                    }
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == "loc" => {
                if let Some(l) = loc.take()
                    && let Ok(u) = at.join(l.trim())
                    && matches!(u.scheme(), "http" | "https")
                {
                    let list = if in_sitemap {
                        &mut out.sitemaps
                    } else {
                        &mut out.pages
                    };
                    if list.len() < MAX_ENTRIES {
                        list.push(u);
                    }
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
}
