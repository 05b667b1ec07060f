//! WARC/1.1 (ISO 28500) in and out.
//!
//! - [`WarcWriter`] writes a `warcinfo` record, then `request` + `response`
//!   pairs, each record its own gzip member and flushed whole, so a crash
//!   leaves a file readable up to the last complete record.
//! - [`WarcReader`] streams records from `.warc` or `.warc.gz` (one member
//!   per record or one for all), holding one record in memory at a time,
//!   and says where each starts (`Record::offset`).
//!
//! Bodies are stored as the crawler received them after decompression
//! (reqwest decodes gzip/brotli), so the stored `Content-Encoding` header is
//! renamed `X-Parkcrawl-Original-Content-Encoding`: a reader must not decode
//! the payload twice. The payload digest is over the stored body.

use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::path::Path;

use sha1::{Digest, Sha1};

mod position;
use position::{Counted, Mark, Members};

/// `sha1:` + RFC 4648 base32 of the SHA-1 of `data`: the usual WARC digest.
pub fn sha1_digest(data: &[u8]) -> String {
    let d = Sha1::digest(data);
    format!("sha1:{}", base32(&d))
}

fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u64, 0u32);
    for &b in data {
        buf = (buf << 8) | b as u64;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    while !out.len().is_multiple_of(8) {
        out.push('=');
    }
    out
}

fn uuid() -> String {
    let v: u128 = rand::random();
    // RFC 4122 version 4, variant 1.
    let v = (v & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{v:032x}");
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// One exchange to archive.
pub struct Exchange<'a> {
    pub url: &'a str,
    /// RFC 3339 UTC, to the second.
    pub date: &'a str,
    pub ip: Option<&'a str>,
    pub method: &'a str,
    pub request_headers: &'a [(String, String)],
    pub status: u16,
    pub reason: &'a str,
    pub response_headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// An [`Exchange`] that owns its parts, to travel between threads.
#[derive(Debug, Clone, Default)]
pub struct OwnedExchange {
    pub url: String,
    pub date: String,
    pub ip: Option<String>,
    pub request_headers: Vec<(String, String)>,
    pub status: u16,
    pub reason: String,
    pub response_headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OwnedExchange {
    pub fn as_exchange(&self) -> Exchange<'_> {
        Exchange {
            url: &self.url,
            date: &self.date,
            ip: self.ip.as_deref(),
            method: "GET",
            request_headers: &self.request_headers,
            status: self.status,
            reason: &self.reason,
            response_headers: &self.response_headers,
            body: &self.body,
        }
    }
}

pub struct WarcWriter<W: Write> {
    out: W,
    gzip: bool,
    warcinfo_id: String,
}

impl<W: Write> WarcWriter<W> {
    /// Starts a WARC with its `warcinfo` record.
    pub fn new(out: W, gzip: bool, filename: &str, date: &str) -> io::Result<Self> {
        let mut w = WarcWriter {
            out,
            gzip,
            warcinfo_id: uuid(),
        };
        let info = format!(
            "software: parkcrawl/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let id = w.warcinfo_id.clone();
        let headers = vec![
            ("WARC-Type", "warcinfo".to_string()),
            ("WARC-Record-ID", id),
            ("WARC-Date", date.to_string()),
            ("WARC-Filename", filename.to_string()),
            ("Content-Type", "application/warc-fields".to_string()),
        ];
        w.record(&headers, info.as_bytes())?;
        Ok(w)
    }

    /// Writes the request and response records of one exchange.
    pub fn write_exchange(&mut self, x: &Exchange) -> io::Result<()> {
        let url = uri(x.url);
        let mut req = format!("{} {} HTTP/1.1\r\n", x.method, request_target(x.url));
        for (k, v) in x.request_headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");

        let mut head = format!("HTTP/1.1 {} {}\r\n", x.status, x.reason);
        for (k, v) in x.response_headers {
            // The body is stored decoded and whole: say so in the headers.
            let k = match k.to_ascii_lowercase().as_str() {
                "content-encoding" => "X-Parkcrawl-Original-Content-Encoding".to_string(),
                "transfer-encoding" => "X-Parkcrawl-Original-Transfer-Encoding".to_string(),
                "content-length" => continue,
                _ => k.clone(),
            };
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", x.body.len()));
        let mut block = head.into_bytes();
        block.extend_from_slice(x.body);

        let response_id = uuid();
        let mut headers = vec![
            ("WARC-Type", "response".to_string()),
            ("WARC-Record-ID", response_id.clone()),
            ("WARC-Warcinfo-ID", self.warcinfo_id.clone()),
            ("WARC-Date", x.date.to_string()),
            ("WARC-Target-URI", url.clone()),
        ];
        if let Some(ip) = x.ip {
            headers.push(("WARC-IP-Address", ip.to_string()));
        }
        headers.push(("WARC-Payload-Digest", sha1_digest(x.body)));
        headers.push(("WARC-Block-Digest", sha1_digest(&block)));
        headers.push((
            "Content-Type",
            "application/http; msgtype=response".to_string(),
        ));
        self.record(&headers, &block)?;

        let mut headers = vec![
            ("WARC-Type", "request".to_string()),
            ("WARC-Record-ID", uuid()),
            ("WARC-Warcinfo-ID", self.warcinfo_id.clone()),
            ("WARC-Concurrent-To", response_id),
            ("WARC-Date", x.date.to_string()),
            ("WARC-Target-URI", url),
        ];
        if let Some(ip) = x.ip {
            headers.push(("WARC-IP-Address", ip.to_string()));
        }
        headers.push(("WARC-Block-Digest", sha1_digest(req.as_bytes())));
        headers.push((
            "Content-Type",
            "application/http; msgtype=request".to_string(),
        ));
        self.record(&headers, req.as_bytes())?;
        Ok(())
    }

    /// One record, written whole and flushed: a crash never splits it.
    fn record(&mut self, headers: &[(&str, String)], block: &[u8]) -> io::Result<()> {
        let mut rec = b"WARC/1.1\r\n".to_vec();
        for (k, v) in headers {
            rec.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        rec.extend_from_slice(format!("Content-Length: {}\r\n\r\n", block.len()).as_bytes());
        rec.extend_from_slice(block);
        rec.extend_from_slice(b"\r\n\r\n");
        if self.gzip {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&rec)?;
            rec = gz.finish()?;
        }
        self.out.write_all(&rec)?;
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Cuts off a last record that a kill left half-written, so that a resumed
/// crawl can append to the WARC (`crawl --state … --warc FILE`). Works on
/// what [`WarcWriter`] writes: one gzip member per record, or plain records.
/// Returns the bytes cut; a missing file is fine (0).
pub fn cut_partial_record(path: &Path) -> io::Result<u64> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let mut r = BufReader::with_capacity(64 * 1024, &file);
    let gz = r.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let mut good = 0u64;
    while good < len {
        let next = if gz {
            // A bufread decoder takes exactly its member from the reader, so
            // the position after it is the member's end. A truncated member
            // fails (its deflate data or its CRC trailer is short).
            let mut d = flate2::bufread::GzDecoder::new(&mut r);
            match io::copy(&mut d, &mut io::sink()) {
                Ok(_) => r.stream_position()?,
                Err(_) => break,
            }
        } else {
            match plain_record_len(&mut r)? {
                Some(n) => good + n,
                None => break,
            }
        };
        if next <= good {
            break;
        }
        good = next;
    }
    drop(r);
    if good < len {
        file.set_len(good)?;
    }
    Ok(len - good)
}

/// The length of one whole uncompressed record (headers, block and the
/// closing CRLF CRLF), or `None` when the file ends inside it.
fn plain_record_len(r: &mut impl BufRead) -> io::Result<Option<u64>> {
    let mut line = Vec::new();
    let mut n = r.read_until(b'\n', &mut line)? as u64;
    if !line.starts_with(b"WARC/") || line.last() != Some(&b'\n') {
        return Ok(None);
    }
    let mut block = None;
    loop {
        line.clear();
        let k = r.read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            return Ok(None);
        }
        n += k as u64;
        let l = String::from_utf8_lossy(&line);
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.trim().eq_ignore_ascii_case("Content-Length")
        {
            block = v.trim().parse::<u64>().ok();
        }
    }
    let Some(block) = block else {
        return Ok(None);
    };
    let want = block + 4;
    if io::copy(&mut r.take(want), &mut io::sink())? < want {
        return Ok(None);
    }
    Ok(Some(n + want))
}

/// WARC-Target-URI: no fragment.
fn uri(url: &str) -> String {
    url.split('#').next().unwrap_or(url).to_string()
}

fn request_target(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => crate::rules::path_and_query(&u),
        Err(_) => "/".into(),
    }
}

/// A record read back.
#[derive(Debug, Clone)]
pub struct Record {
    /// Where the record starts in the file ([`position`]: of its gzip
    /// member in a `.warc.gz`), as warcio reports it.
    pub offset: u64,
    pub warc_type: String,
    pub target_uri: Option<String>,
    pub headers: Vec<(String, String)>,
    pub block: Vec<u8>,
}

impl Record {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP response parsed out of a `response` record's block.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WarcError {
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    #[error("record {index}: {message}")]
    Format { index: u64, message: String },
    #[error("record {index}: block of {len} bytes is over the limit of {max}")]
    TooLarge { index: u64, len: u64, max: u64 },
}

/// Streams records; gzip is detected from the first bytes.
pub struct WarcReader {
    input: Box<dyn BufRead + Send>,
    /// Plain: bytes consumed so far; gzip: where the member being read starts.
    mark: Mark,
    gzip: bool,
    index: u64,
    max_block: u64,
}

impl WarcReader {
    pub fn new(input: impl Read + Send + 'static, max_block: u64) -> io::Result<Self> {
        let mut buf = BufReader::with_capacity(64 * 1024, input);
        let gzip = buf.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let (input, mark): (Box<dyn BufRead + Send>, Mark) = if gzip {
            let (members, mark) = Members::new(buf);
            (Box::new(BufReader::with_capacity(64 * 1024, members)), mark)
        } else {
            let (counted, mark) = Counted::new(buf);
            (Box::new(counted), mark)
        };
        Ok(WarcReader {
            input,
            mark,
            gzip,
            index: 0,
            max_block: max_block.max(1),
        })
    }

    /// The next record; `Ok(None)` at a clean end of file. A record whose
    /// block is over the limit is skipped (read and discarded) with an error,
    /// and reading can go on.
    pub fn next_record(&mut self) -> Result<Option<Record>, WarcError> {
        let mut line = String::new();
        // Skip blank lines between records.
        let offset = loop {
            line.clear();
            let before = self.mark.get();
            if self.input.read_line(&mut line)? == 0 {
                return Ok(None);
            }
            if !line.trim().is_empty() {
                // A member's start is known once its first bytes are read.
                break if self.gzip { self.mark.get() } else { before };
            }
        };
        self.index += 1;
        let index = self.index;
        let err = |m: &str| WarcError::Format {
            index,
            message: m.to_string(),
        };
        if !line.starts_with("WARC/") {
            return Err(err("does not start with a WARC/ version line"));
        }
        let mut headers = Vec::new();
        loop {
            line.clear();
            if self.input.read_line(&mut line)? == 0 {
                return Err(err("truncated in its headers"));
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: u64 = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| err("has no Content-Length"))?;
        if len > self.max_block {
            let skipped = io::copy(&mut (&mut self.input).take(len), &mut io::sink())?;
            if skipped < len {
                return Err(err("truncated in its block"));
            }
            return Err(WarcError::TooLarge {
                index,
                len,
                max: self.max_block,
            });
        }
        let mut block = Vec::with_capacity(len as usize);
        (&mut self.input).take(len).read_to_end(&mut block)?;
        if (block.len() as u64) < len {
            return Err(err("truncated in its block (the file ends early)"));
        }
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        Ok(Some(Record {
            offset,
            warc_type: get("WARC-Type").unwrap_or_default(),
            target_uri: get("WARC-Target-URI").map(|u| u.trim_matches(['<', '>']).to_string()),
            headers,
            block,
        }))
    }
}

/// Parses a response record's block as HTTP; undoes chunked transfer coding
/// and gzip/deflate content coding when the stored headers still say so.
pub fn parse_http(block: &[u8]) -> Result<HttpResponse, String> {
    let end = block
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, p + 4))
        .or_else(|| {
            block
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| (p, p + 2))
        })
        .ok_or("HTTP headers never end")?;
    let head = String::from_utf8_lossy(&block[..end.0]);
    let mut lines = head.lines();
    let status_line = lines.next().ok_or("no status line")?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line `{status_line}`"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut r = HttpResponse {
        status,
        headers,
        body: block[end.1..].to_vec(),
    };
    if r.header("Transfer-Encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        r.body = dechunk(&r.body)?;
    }
    match r
        .header("Content-Encoding")
        .map(|e| e.trim().to_ascii_lowercase())
    {
        Some(e) if e == "gzip" || e == "x-gzip" => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&r.body[..])
                .read_to_end(&mut out)
                .map_err(|e| format!("gzip body: {e}"))?;
            r.body = out;
        }
        Some(e) if e == "deflate" => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(&r.body[..])
                .read_to_end(&mut out)
                .map_err(|e| format!("deflate body: {e}"))?;
            r.body = out;
        }
        Some(e) if e != "identity" && !e.is_empty() => {
            return Err(format!("unsupported Content-Encoding `{e}`"));
        }
        _ => {}
    }
    Ok(r)
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let nl = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk")?;
        let size_str = String::from_utf8_lossy(&data[..nl]);
        let size = usize::from_str_radix(size_str.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size".to_string())?;
        data = &data[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
        assert_eq!(base32(b""), "");
    }

    #[test]
    fn round_trip_and_truncation() {
        let mut w = WarcWriter::new(Vec::new(), true, "t.warc.gz", "2026-11-25T08:00:00Z").unwrap();
        let hdrs = vec![(
            "Content-Type".to_string(),
            "text/html; charset=utf-8".to_string(),
        )];
        for i in 0..3 {
            w.write_exchange(&Exchange {
                url: &format!("http://a.example.cn/p{i}.html#x"),
                date: "2026-11-25T08:00:00Z",
                ip: Some("127.0.0.1"),
                method: "GET",
                request_headers: &[("Host".into(), "a.example.cn".into())],
                status: 200,
                reason: "OK",
                response_headers: &hdrs,
                body: format!("<p>页面{i}</p>").as_bytes(),
            })
            .unwrap();
        }
        let bytes = w.into_inner();
        let mut r = WarcReader::new(std::io::Cursor::new(bytes.clone()), 1 << 20).unwrap();
        let mut types = Vec::new();
        let mut bodies = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            if rec.warc_type == "response" {
                assert_eq!(
                    rec.header("WARC-Payload-Digest").unwrap(),
                    sha1_digest(&parse_http(&rec.block).unwrap().body)
                );
                bodies.push(String::from_utf8(parse_http(&rec.block).unwrap().body).unwrap());
            }
            types.push(rec.warc_type);
        }
        assert_eq!(
            types,
            [
                "warcinfo", "response", "request", "response", "request", "response", "request"
            ]
        );
        assert_eq!(bodies, ["<p>页面0</p>", "<p>页面1</p>", "<p>页面2</p>"]);

        // Cut in the middle of the last record: all whole records still read.
        let cut = &bytes[..bytes.len() - 20];
        let mut r = WarcReader::new(std::io::Cursor::new(cut.to_vec()), 1 << 20).unwrap();
        let mut whole = 0;
        while let Ok(Some(_)) = r.next_record() {
            whole += 1;
        }
        assert_eq!(whole, 6);
    }

    #[test]
    fn a_half_written_last_record_is_cut_for_appending() {
        let dir = tempfile::tempdir().unwrap();
        for gzip in [true, false] {
            let path = dir.path().join(if gzip { "a.warc.gz" } else { "a.warc" });
            let mut w = WarcWriter::new(Vec::new(), gzip, "a", "2026-11-25T08:00:00Z").unwrap();
            w.write_exchange(&Exchange {
                url: "http://a.example.cn/",
                date: "2026-11-25T08:00:00Z",
                ip: None,
                method: "GET",
                request_headers: &[],
                status: 200,
                reason: "OK",
                response_headers: &[],
                body: "<p>页面</p>".as_bytes(),
            })
            .unwrap();
            let whole = w.into_inner();
            // A kill 40 bytes into the next record (inside its first member).
            let mut file = whole.clone();
            file.extend_from_slice(&whole[..40]);
            std::fs::write(&path, &file).unwrap();
            let cut = cut_partial_record(&path).unwrap();
            assert_eq!(cut, 40, "gzip {gzip}");
            assert_eq!(std::fs::read(&path).unwrap(), whole);
            assert_eq!(cut_partial_record(&path).unwrap(), 0);
        }
        assert_eq!(
            cut_partial_record(&dir.path().join("none.warc")).unwrap(),
            0
        );
    }

    #[test]
    fn dechunks_and_gunzips() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"<p>hi</p>").unwrap();
        let z = gz.finish().unwrap();
        let mut block = format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n", z.len()).into_bytes();
        block.extend_from_slice(&z);
        block.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(parse_http(&block).unwrap().body, b"<p>hi</p>");
    }
}
