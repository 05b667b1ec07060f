//! Stage 1, decode: raw bytes → text. The charset cascade, first that speaks
//! wins: BOM → HTTP `Content-Type` charset → `<meta charset>` / http-equiv →
//! valid UTF-8 → detector (chardetng). Labels resolve per WHATWG, so gb2312
//! and gbk decode as GBK. The step that won is kept as provenance. A `<meta>`
//! label over bytes that are valid UTF-8 and that the label would break up
//! (a page re-saved as UTF-8 by a tool that kept its `gb2312` tag) loses to
//! UTF-8: see [`meta_or_utf8`]. The header's label is not second-guessed.

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;
use std::sync::LazyLock;
use url::Url;

/// How the bytes were obtained over HTTP (absent for a saved file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchMeta {
    pub status: Option<u16>,
    /// RFC 3339, UTC.
    pub fetched_at: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One page as it arrives: bytes plus what is known of where they came from.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// What to call the input in messages: a path, `-`, or a URL.
    pub name: String,
    pub bytes: Vec<u8>,
    /// The URL the bytes came from (after redirects), if known.
    pub url: Option<Url>,
    /// The `Content-Type` header value, if known.
    pub content_type: Option<String>,
    /// Present when the bytes were fetched over HTTP.
    pub fetch: Option<FetchMeta>,
}

/// Which step of the cascade chose the charset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    Bom,
    Header,
    Meta,
    /// The `<meta>` label named another charset, but the bytes are UTF-8
    /// and the label would have garbled them.
    Utf8OverMeta,
    Utf8,
    Detector,
}

impl CharsetSource {
    /// Its name in the record's `provenance` (only the override is recorded
    /// there: the other steps are the documented cascade).
    pub fn provenance(self, declared: Option<&str>) -> Option<String> {
        match self {
            CharsetSource::Utf8OverMeta => Some(format!(
                "utf-8, not the meta tag's {}: the bytes are UTF-8",
                declared.unwrap_or("charset")
            )),
            _ => None,
        }
    }
}

/// A page as text.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub input: Input,
    pub html: String,
    /// WHATWG name, lower case (`utf-8`, `gbk`).
    pub charset: String,
    pub charset_source: CharsetSource,
    /// The bytes held sequences invalid in that charset (replaced by U+FFFD).
    pub malformed: bool,
    /// The charset the page declared and that was overruled (`gbk`), if any.
    pub overruled: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("empty input")]
    Empty,
    #[error("binary content ({0}), not an HTML page")]
    Binary(&'static str),
}

/// How far into the page a `<meta charset>` is looked for. Browsers stop at
/// 1024 bytes; Chinese CMSs often put long comments and scripts first.
const META_SCAN: usize = 8192;

pub fn decode(input: Input) -> Result<Decoded, DecodeError> {
    if input.bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DecodeError::Empty);
    }
    let bom = Encoding::for_bom(&input.bytes);
    if bom.is_none()
        && let Some(what) = sniff_binary(&input.bytes)
    {
        return Err(DecodeError::Binary(what));
    }

    let (encoding, source) = if let Some((enc, _)) = bom {
        (enc, CharsetSource::Bom)
    } else if let Some(enc) = input.content_type.as_deref().and_then(header_charset) {
        (enc, CharsetSource::Header)
    } else if let Some(enc) = meta_charset(&input.bytes) {
        meta_or_utf8(enc, &input.bytes)
    } else if std::str::from_utf8(&input.bytes).is_ok() {
        (UTF_8, CharsetSource::Utf8)
    } else {
        let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        det.feed(&input.bytes, true);
        let tld = input
            .url
            .as_ref()
            .and_then(|u| u.host_str())
            .and_then(|h| h.rsplit('.').next())
            .map(|t| t.as_bytes().to_vec());
        (
            prefer_gbk(
                det.guess(tld.as_deref(), chardetng::Utf8Detection::Allow),
                &input.bytes,
            ),
            CharsetSource::Detector,
        )
    };
    // decode() strips a BOM of any encoding and lets it win, as browsers do.
    let (text, used, malformed) = encoding.decode(&input.bytes);
    let overruled = (source == CharsetSource::Utf8OverMeta)
        .then(|| meta_charset(&input.bytes).map(|e| e.name().to_ascii_lowercase()))
        .flatten();
    Ok(Decoded {
        html: text.into_owned(),
        charset: used.name().to_ascii_lowercase(),
        charset_source: source,
        malformed,
        overruled,
        input,
    })
}

/// The meta tag's charset, unless the bytes are valid UTF-8 holding
/// multi-byte characters that the declared charset would garble: read with
/// it they turn into U+FFFD, or each UTF-8 character falls apart into more
/// characters than it is (three bytes as one and a half GBK characters or
/// three windows-1252 ones). Text in a legacy charset is almost never
/// valid UTF-8 by chance, so such bytes were re-saved as UTF-8 by a tool
/// that kept the old tag.
fn meta_or_utf8(enc: &'static Encoding, bytes: &[u8]) -> (&'static Encoding, CharsetSource) {
    if enc == UTF_8 {
        return (enc, CharsetSource::Meta);
    }
    let Ok(utf8) = std::str::from_utf8(bytes) else {
        return (enc, CharsetSource::Meta);
    };
    let multibyte = utf8.chars().filter(|c| !c.is_ascii()).count();
    if multibyte == 0 {
        return (enc, CharsetSource::Meta);
    }
    let (declared, malformed) = enc.decode_without_bom_handling(bytes);
    let pieces = declared.chars().filter(|c| !c.is_ascii()).count();
    if malformed || pieces > multibyte {
        (UTF_8, CharsetSource::Utf8OverMeta)
    } else {
        (enc, CharsetSource::Meta)
    }
}

/// The encoding named by a `Content-Type` header's charset parameter.
pub fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type
        .split(';')
        .skip(1)
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            if !k.trim().eq_ignore_ascii_case("charset") {
                return None;
            }
            Encoding::for_label(v.trim().trim_matches(['"', '\'']).as_bytes())
        })
        .and_then(believable)
        // Without a BOM, bytes with NULs were refused as binary already, so
        // a UTF-16 label here names ASCII-compatible bytes: a lie.
        .filter(|e| *e != encoding_rs::UTF_16LE && *e != encoding_rs::UTF_16BE)
}

/// A declared encoding worth decoding with. The `replacement` encoding
/// (labels such as `iso-2022-kr`, `hz-gb-2312`) turns a whole page into
/// one U+FFFD, which browsers do to defuse old attacks and which leaves a
/// cleaner nothing: the declaration is ignored and the cascade goes on.
/// `x-user-defined` is read as windows-1252, as the HTML prescan does.
fn believable(enc: &'static Encoding) -> Option<&'static Encoding> {
    if enc == encoding_rs::REPLACEMENT {
        None
    } else if enc == encoding_rs::X_USER_DEFINED {
        Some(encoding_rs::WINDOWS_1252)
    } else {
        Some(enc)
    }
}

fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    static META: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:\-]+)"#).unwrap()
    });
    let head = &bytes[..bytes.len().min(META_SCAN)];
    let label = META.captures(head)?.get(1)?.as_bytes();
    let enc = believable(Encoding::for_label(label)?)?;
    // A meta tag is read from bytes already known to be ASCII-compatible, so
    // a UTF-16 label there is a lie; WHATWG treats it as UTF-8.
    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        return Some(UTF_8);
    }
    Some(enc)
}

/// chardetng rules out an encoding on its first invalid sequence, so a GBK
/// page with a few corrupt bytes is guessed as windows-1252 and turns into
/// mojibake. The pages this tool reads are mostly Chinese: when a GBK reading
/// is nearly clean and mostly Han, it wins over a single-byte guess.
fn prefer_gbk(guess: &'static Encoding, bytes: &[u8]) -> &'static Encoding {
    if !guess.is_single_byte() {
        return guess;
    }
    let (text, _, _) = encoding_rs::GBK.decode(bytes);
    let (mut han, mut bad, mut other) = (0usize, 0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        match c {
            '\u{FFFD}' => bad += 1,
            c if crate::dom::is_cjk(c) => han += 1,
            _ => other += 1,
        }
    }
    let non_ascii = han + bad + other;
    if non_ascii > 0 && han * 10 >= non_ascii * 8 && bad * 50 <= non_ascii.max(50) {
        encoding_rs::GBK
    } else {
        guess
    }
}

/// Recognises content that is certainly not a page: known binary signatures,
/// or NUL bytes (which no HTML page in an ASCII-compatible charset holds).
fn sniff_binary(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG", "PNG image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"%PDF", "PDF"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"\x1F\x8B", "gzip data"),
        (b"\x7FELF", "executable"),
        (b"Rar!", "RAR archive"),
        (b"\xD0\xCF\x11\xE0", "MS Office document"),
    ];
    if let Some((_, what)) = MAGIC.iter().find(|(m, _)| bytes.starts_with(m)) {
        return Some(what);
    }
    let head = &bytes[..bytes.len().min(8192)];
    head.contains(&0).then_some("NUL bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: &[u8], ct: Option<&str>) -> Input {
        Input {
            name: "t".into(),
            bytes: bytes.to_vec(),
            content_type: ct.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn charset_lies_are_not_believed() {
        let page = "<meta charset=\"iso-2022-kr\"><p>园区招商</p>";
        let d = decode(input(page.as_bytes(), None)).unwrap();
        assert_eq!((d.charset.as_str(), d.malformed), ("utf-8", false));
        assert!(d.html.contains("园区招商"));
        let d = decode(input(page.as_bytes(), Some("text/html; charset=utf-16"))).unwrap();
        assert_eq!(d.charset, "utf-8");
        let d = decode(input(
            page.as_bytes(),
            Some("text/html; charset=replacement"),
        ))
        .unwrap();
        assert!(d.html.contains("园区招商"));
        let d = decode(input(b"<meta charset=x-user-defined><p>caf\xe9</p>", None)).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.html.contains("café")),
            ("windows-1252", true)
        );
    }

    #[test]
    fn cascade_order() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<p>园区</p>");
        let gbk = gbk.into_owned();
        // Header beats a contradicting meta tag.
        let mut b = b"<meta charset=\"utf-8\">".to_vec();
        b.extend_from_slice(&gbk);
        let d = decode(input(&b, Some("text/html; charset=gb2312"))).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.charset_source),
            ("gbk", CharsetSource::Header)
        );
        assert!(d.html.contains("园区"));
        // Meta when no header charset.
        let mut b =
            b"<meta http-equiv=Content-Type content=\"text/html; charset=gb2312\">".to_vec();
        b.extend_from_slice(&gbk);
        let d = decode(input(&b, Some("text/html"))).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.charset_source),
            ("gbk", CharsetSource::Meta)
        );
        // BOM beats everything.
        let mut b = b"\xEF\xBB\xBF".to_vec();
        b.extend_from_slice("<p>园区</p>".as_bytes());
        let d = decode(input(&b, Some("text/html; charset=gbk"))).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.charset_source),
            ("utf-8", CharsetSource::Bom)
        );
        // Valid UTF-8, then the detector.
        let d = decode(input("<p>园区</p>".as_bytes(), None)).unwrap();
        assert_eq!(d.charset_source, CharsetSource::Utf8);
        let long = "<p>上海闵行经济技术开发区是国家级开发区,园区面积三点五平方公里。</p>".repeat(5);
        let (g, _, _) = encoding_rs::GBK.encode(&long);
        let d = decode(input(&g, None)).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.charset_source),
            ("gbk", CharsetSource::Detector)
        );
        assert_eq!(d.html, long);
    }

    #[test]
    fn rejects_empty_and_binary() {
        assert_eq!(
            decode(input(b"  \n", None)).unwrap_err(),
            DecodeError::Empty
        );
        assert_eq!(
            decode(input(b"%PDF-1.4 ...", None)).unwrap_err(),
            DecodeError::Binary("PDF")
        );
        assert!(decode(input(b"<p>a\0b</p>", None)).is_err());
    }

    #[test]
    fn utf8_bytes_under_a_legacy_meta_label_are_utf8() {
        let page = "<meta http-equiv=Content-Type content=\"text/html; charset=gb2312\"><h1>女儿出嫁，郑板桥画了几笔兰花</h1>";
        let d = decode(input(page.as_bytes(), Some("text/html"))).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.charset_source, d.overruled.as_deref()),
            ("utf-8", CharsetSource::Utf8OverMeta, Some("gbk"))
        );
        assert!(d.html.contains("郑板桥"));
        let d = decode(input(
            "<meta charset=windows-1252><p>café</p>".as_bytes(),
            None,
        ))
        .unwrap();
        assert_eq!(
            (d.charset.as_str(), d.html.contains("café")),
            ("utf-8", true)
        );
        // Real GBK bytes under the same tag stay GBK.
        let (gbk, _, _) = encoding_rs::GBK.encode(page);
        let d = decode(input(&gbk, None)).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.charset_source),
            ("gbk", CharsetSource::Meta)
        );
        // An ASCII page keeps its declared label.
        let d = decode(input(b"<meta charset=gbk><p>park</p>", None)).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.charset_source),
            ("gbk", CharsetSource::Meta)
        );
        // The header's label is not second-guessed.
        let d = decode(input(page.as_bytes(), Some("text/html; charset=gbk"))).unwrap();
        assert_eq!(
            (d.charset.as_str(), d.charset_source),
            ("gbk", CharsetSource::Header)
        );
    }
}
