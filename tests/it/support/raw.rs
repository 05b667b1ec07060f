//! A raw HTTP/1.1 server on 127.0.0.1 (port 0) that writes its replies byte
//! by byte: what axum (hyper) will not send, because it is not valid HTTP or
//! does not keep its own promises — malformed or endless heads, a
//! Content-Length that lies, broken chunking, a non-HTTP greeting, bodies
//! that drip or stall. Like [`super::server::Server`], hosts are told apart
//! by the Host header and every request is logged.
//!
//! One request per connection: each reply is followed by a close (good
//! replies say `Connection: close`), so that no reply can be read as part of
//! the next request's.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct RawHit {
    /// The Host header without the port, lower case.
    pub host: String,
    /// Path and query, as sent.
    pub path: String,
    /// How many earlier requests had this host and path.
    pub n: usize,
}

/// A step of a reply.
#[derive(Debug, Clone)]
pub enum Act {
    Send(Vec<u8>),
    /// These bytes, one at a time, one per interval.
    Drip(Vec<u8>, Duration),
    /// These bytes again and again, until the client goes away.
    Repeat(Vec<u8>),
    /// Nothing more, with the connection left open until the client closes
    /// it.
    Stall,
}

/// A well-formed reply, closed after: `status`, these headers, the body with
/// its true Content-Length.
pub fn reply(status: u16, content_type: &str, body: &[u8]) -> Vec<Act> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    head.extend_from_slice(body);
    vec![Act::Send(head)]
}

/// A small HTML page with a title and enough text to be content.
pub fn page(title: &str) -> Vec<Act> {
    reply(200, "text/html; charset=utf-8", page_html(title).as_bytes())
}

pub fn page_html(title: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{title}: 园区新闻与招商政策的正文段落, 足够长以便被当作正文。</p>\
         </body></html>"
    )
}

/// A head (status line and headers, each `name: value`), without a body.
pub fn head(status_line: &str, headers: &[&str]) -> Vec<u8> {
    let mut h = format!("{status_line}\r\n");
    for l in headers {
        h.push_str(l);
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    h.into_bytes()
}

pub type RawHandler = Arc<dyn Fn(&RawHit) -> Vec<Act> + Send + Sync>;

#[derive(Default)]
struct Log {
    hits: Vec<RawHit>,
    /// (host, path) → requests so far.
    counts: HashMap<(String, String), usize>,
}

struct Shared {
    handler: RawHandler,
    log: Mutex<Log>,
}

pub struct RawServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RawServer {
    pub fn start(handler: impl Fn(&RawHit) -> Vec<Act> + Send + Sync + 'static) -> RawServer {
        let shared = Arc::new(Shared {
            handler: Arc::new(handler),
            log: Mutex::new(Log::default()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let s = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    _ = accept_loop(listener, s) => {}
                    _ = stop_rx => {}
                }
            });
        });
        RawServer {
            addr,
            shared,
            stop: Some(stop_tx),
        }
    }

    /// `--resolve` flags sending each host to this server.
    pub fn resolve(&self, hosts: &[&str]) -> Vec<String> {
        hosts
            .iter()
            .flat_map(|h| ["--resolve".to_string(), format!("{h}:{}", self.addr)])
            .collect()
    }

    pub fn hits(&self) -> Vec<RawHit> {
        self.shared.log.lock().unwrap().hits.clone()
    }

    /// How many requests came for `path` on any host.
    pub fn count(&self, path: &str) -> usize {
        self.hits().iter().filter(|h| h.path == path).count()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(serve(stream, shared.clone()));
    }
}

/// Reads one request head, logs it, plays the handler's reply, closes.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let Some((host, path)) = read_head(&mut stream).await else {
        return;
    };
    let hit = {
        let mut log = shared.log.lock().unwrap();
        let n = log.counts.entry((host.clone(), path.clone())).or_insert(0);
        let hit = RawHit { host, path, n: *n };
        *n += 1;
        log.hits.push(hit.clone());
        hit
    };
    for act in (shared.handler)(&hit) {
        if play(&mut stream, act).await.is_err() {
            return;
        }
    }
    let _ = stream.shutdown().await;
}

/// One step; `Err` once the client has gone.
async fn play(stream: &mut TcpStream, act: Act) -> std::io::Result<()> {
    match act {
        Act::Send(b) => stream.write_all(&b).await,
        Act::Drip(b, every) => {
            for byte in b {
                stream.write_all(&[byte]).await?;
                tokio::time::sleep(every).await;
            }
            Ok(())
        }
        Act::Repeat(b) => loop {
            stream.write_all(&b).await?;
            // A client that keeps reading must not starve the other
            // connections of this runtime.
            tokio::task::yield_now().await;
        },
        Act::Stall => {
            // Reads until the client closes: EOF or an error.
            let mut buf = [0u8; 1024];
            while stream.read(&mut buf).await? > 0 {}
            Ok(())
        }
    }
}

/// The request line's target and the Host header (port cut), or `None` for
/// a connection that closed or sent more than 64 KiB without a whole head.
async fn read_head(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let host = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim())
        .unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    Some((host.to_ascii_lowercase(), path))
}
