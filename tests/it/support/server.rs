//! A real HTTP server on 127.0.0.1 (port 0) for crawl tests and the bench:
//! many "hosts" told apart by the Host header (the crawler is pointed at it
//! with `--resolve HOST:127.0.0.1:PORT`), a handler deciding each reply, and
//! the server's own log of every request with its arrival time.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The Host header without the port.
    pub host: String,
    /// Path and query, as sent.
    pub path: String,
    /// Arrival, since the server started.
    pub at: Duration,
    /// How many earlier requests had this host and path.
    pub n: usize,
    pub user_agent: String,
    pub accept: String,
    /// Conditional request headers, if sent.
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
}

impl Hit {
    /// The request carried a validator (If-None-Match or If-Modified-Since).
    pub fn conditional(&self) -> bool {
        self.if_none_match.is_some() || self.if_modified_since.is_some()
    }
}

pub enum Payload {
    Bytes(Vec<u8>),
    /// `len` bytes of HTML generated while sent (no Content-Length), counting
    /// into `sent` what was produced, to show that the reader gave up.
    Stream {
        len: u64,
        sent: Arc<AtomicU64>,
    },
    /// `count` chunks made while sent (no Content-Length): chunk `i` is
    /// `make(i)`. A body of any length in constant server memory.
    Chunks {
        count: u64,
        make: Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
    },
    /// These bytes sent in 64 KiB pieces as they are read, counting into
    /// `sent` what went out: with `length`, under their Content-Length,
    /// otherwise chunked.
    Pieces {
        data: Bytes,
        length: bool,
        sent: Arc<AtomicU64>,
    },
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Payload,
    /// Wait this long before answering (latency).
    pub delay: Option<Duration>,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: Payload::Bytes(body.into()),
            delay: None,
        }
    }

    pub fn html(body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(200, "text/html; charset=utf-8", body)
    }

    /// A small page with a title, some text and these links.
    pub fn page(title: &str, links: &[&str]) -> Reply {
        let a: String = links
            .iter()
            .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>"))
            .collect();
        Reply::html(format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{title}: 园区新闻与招商政策的正文段落, 足够长以便被当作正文。</p>\
             <ul>{a}</ul></body></html>"
        ))
    }

    pub fn text(body: &str) -> Reply {
        Reply::new(200, "text/plain", body)
    }

    pub fn status(status: u16) -> Reply {
        Reply::new(status, "text/plain", format!("status {status}"))
    }

    pub fn redirect(status: u16, to: &str) -> Reply {
        Reply::status(status).header("location", to)
    }

    pub fn stream(len: u64, sent: Arc<AtomicU64>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/html".into())],
            body: Payload::Stream { len, sent },
            delay: None,
        }
    }

    /// A generated body (see [`Payload::Chunks`]) of this content type.
    pub fn chunks(
        content_type: &str,
        count: u64,
        make: impl Fn(u64) -> Vec<u8> + Send + Sync + 'static,
    ) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: Payload::Chunks {
                count,
                make: Arc::new(make),
            },
            delay: None,
        }
    }

    /// `data` as HTML with this Content-Encoding, sent piecewise (see
    /// [`Payload::Pieces`]).
    pub fn encoded(encoding: &str, data: Bytes, length: bool, sent: Arc<AtomicU64>) -> Reply {
        Reply {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("content-encoding".into(), encoding.into()),
            ],
            body: Payload::Pieces { data, length, sent },
            delay: None,
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = Some(d);
        self
    }
}

pub type Handler = Arc<dyn Fn(&Hit) -> Reply + Send + Sync>;

#[derive(Default)]
struct Log {
    hits: Vec<Hit>,
    counts: HashMap<(String, String), usize>,
    /// Per host, requests being answered now (arrived, reply not yet
    /// handed back), and the most there ever were at once.
    open: HashMap<String, usize>,
    peak: HashMap<String, usize>,
    /// When each request's reply was handed back (by index of `hits`).
    replied: Vec<Option<Duration>>,
    /// What each request was answered (by index of `hits`).
    answers: Vec<Option<Answer>>,
}

/// What the server answered a request: the status, and the Retry-After it
/// sent (in seconds), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
}

/// One request being answered: counted open until dropped (the reply is
/// handed back, or the client went away during its delay).
struct Open {
    shared: Arc<Shared>,
    host: String,
    index: usize,
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut log = self.shared.log.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = log.open.get_mut(&self.host) {
            *n = n.saturating_sub(1);
        }
        let at = self.shared.start.elapsed();
        if let Some(r) = log.replied.get_mut(self.index) {
            *r = Some(at);
        }
    }
}

struct Shared {
    handler: Handler,
    log: Mutex<Log>,
    start: Instant,
}

pub struct Server {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on 127.0.0.1:0 with `threads` runtime workers.
    pub fn start_with(
        threads: usize,
        handler: impl Fn(&Hit) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let shared = Arc::new(Shared {
            handler: Arc::new(handler),
            log: Mutex::new(Log::default()),
            start: Instant::now(),
        });
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(serve)
            .with_state(shared.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads.max(1))
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Server {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn start(handler: impl Fn(&Hit) -> Reply + Send + Sync + 'static) -> Server {
        Self::start_with(1, handler)
    }

    /// `--resolve` flags sending each host to this server.
    pub fn resolve(&self, hosts: &[&str]) -> Vec<String> {
        hosts
            .iter()
            .flat_map(|h| ["--resolve".to_string(), format!("{h}:{}", self.addr)])
            .collect()
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.shared.log.lock().unwrap().hits.clone()
    }

    pub fn hits_of(&self, host: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.host == host).collect()
    }

    /// When the reply to each request of [`hits`](Self::hits) was handed
    /// back (`None`: still being answered, or the client went away).
    pub fn replied_at(&self) -> Vec<Option<Duration>> {
        self.shared.log.lock().unwrap().replied.clone()
    }

    /// What each request of [`hits`](Self::hits) was answered (`None`:
    /// the handler has not decided yet).
    pub fn answers(&self) -> Vec<Option<Answer>> {
        self.shared.log.lock().unwrap().answers.clone()
    }

    /// The most requests of `host` the server was answering at once.
    pub fn peak_in_flight(&self, host: &str) -> usize {
        let log = self.shared.log.lock().unwrap();
        log.peak.get(host).copied().unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        // Open keep-alive connections may hold graceful shutdown; don't wait.
        drop(self.thread.take());
    }
}

async fn serve(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    // Read what is needed first: a `Request` (its body) is not `Sync`, so no
    // reference to it may live across the awaits below.
    let (host, path, user_agent, accept, if_none_match, if_modified_since) = {
        let h = |name: header::HeaderName| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let host = h(header::HOST);
        let host = host
            .rsplit_once(':')
            .map_or(host.as_str(), |(h, _)| h)
            .to_ascii_lowercase();
        let path = req
            .uri()
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let opt = |name: header::HeaderName| Some(h(name)).filter(|v| !v.is_empty());
        (
            host,
            path,
            h(header::USER_AGENT),
            h(header::ACCEPT),
            opt(header::IF_NONE_MATCH),
            opt(header::IF_MODIFIED_SINCE),
        )
    };
    drop(req);
    let hit = {
        let mut log = shared.log.lock().unwrap();
        let n = log.counts.entry((host.clone(), path.clone())).or_insert(0);
        let hit = Hit {
            host,
            path,
            at: shared.start.elapsed(),
            n: *n,
            user_agent,
            accept,
            if_none_match,
            if_modified_since,
        };
        *n += 1;
        log.hits.push(hit.clone());
        log.replied.push(None);
        log.answers.push(None);
        let index = log.hits.len() - 1;
        let open = log.open.entry(hit.host.clone()).or_insert(0);
        *open += 1;
        let now = *open;
        let peak = log.peak.entry(hit.host.clone()).or_insert(0);
        *peak = (*peak).max(now);
        (hit, index)
    };
    let (hit, index) = hit;
    let _open = Open {
        shared: shared.clone(),
        host: hit.host.clone(),
        index,
    };
    let reply = (shared.handler)(&hit);
    {
        let retry_after = reply
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut log = shared.log.lock().unwrap_or_else(|p| p.into_inner());
        log.answers[index] = Some(Answer {
            status: reply.status,
            retry_after,
        });
    }
    if let Some(d) = reply.delay {
        tokio::time::sleep(d).await;
    }
    let mut reply = reply;
    let body = match reply.body {
        Payload::Bytes(b) => Body::from(b),
        Payload::Stream { len, sent } => {
            const CHUNK: usize = 64 * 1024;
            let chunk = Bytes::from("<p>园区</p>\n".repeat(CHUNK / 14 + 1).into_bytes());
            let stream = futures_util::stream::unfold(0u64, move |done| {
                let chunk = chunk.clone();
                let sent = sent.clone();
                async move {
                    if done >= len {
                        return None;
                    }
                    let n = (len - done).min(chunk.len() as u64) as usize;
                    sent.fetch_add(n as u64, Ordering::Relaxed);
                    Some((Ok::<_, std::io::Error>(chunk.slice(..n)), done + n as u64))
                }
            });
            Body::from_stream(stream)
        }
        Payload::Chunks { count, make } => {
            let stream = futures_util::stream::unfold(0u64, move |i| {
                let make = make.clone();
                async move {
                    (i < count).then(|| (Ok::<_, std::io::Error>(Bytes::from(make(i))), i + 1))
                }
            });
            Body::from_stream(stream)
        }
        Payload::Pieces { data, length, sent } => {
            if length {
                reply
                    .headers
                    .push(("content-length".into(), data.len().to_string()));
            }
            let stream = futures_util::stream::unfold(0usize, move |done| {
                let data = data.clone();
                let sent = sent.clone();
                async move {
                    if done >= data.len() {
                        return None;
                    }
                    let end = (done + 64 * 1024).min(data.len());
                    sent.fetch_add((end - done) as u64, Ordering::Relaxed);
                    Some((Ok::<_, std::io::Error>(data.slice(done..end)), end))
                }
            });
            Body::from_stream(stream)
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (k, v) in reply.headers {
        resp.headers_mut().insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    resp
}

/// Runs a child to its end, sampling its peak resident memory (VmHWM) and
/// CPU time from /proc while it runs (Linux). Returns the output, the peak
/// RSS in KiB and the CPU seconds (user + system) last seen.
pub fn run_measured(cmd: std::process::Command) -> (std::process::Output, u64, f64) {
    run_measured_within(cmd, Duration::MAX)
}

/// [`run_measured`] with a watchdog: a child still running after `deadline`
/// is killed and the test fails (a hang is a bug, not a slow test).
pub fn run_measured_within(
    cmd: std::process::Command,
    deadline: Duration,
) -> (std::process::Output, u64, f64) {
    let w = run_watched(cmd, deadline, None);
    (w.output, w.peak_kb, w.cpu)
}

/// How a watched child ended.
pub struct Watched {
    pub output: std::process::Output,
    /// Peak resident memory (VmHWM) in KiB, last seen.
    pub peak_kb: u64,
    /// CPU seconds (user + system), last seen.
    pub cpu: f64,
    /// From the SIGTERM sent (if one was) to the child's exit.
    pub after_term: Option<Duration>,
}

/// Runs a child that must end by itself: killed, and the test failed, if
/// it is still running after `watchdog`. With `term_when`, SIGTERM is sent
/// (by `kill`, once) as soon as `term_when()` holds, and the time from the
/// signal to the exit is measured. Peak RSS is sampled from /proc (Linux).
pub fn run_watched(
    mut cmd: std::process::Command,
    watchdog: Duration,
    term_when: Option<&dyn Fn() -> bool>,
) -> Watched {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let pipe = |mut p: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = p.read_to_end(&mut v);
            v
        })
    };
    let out_thread = pipe(Box::new(child.stdout.take().unwrap()));
    let err_thread = pipe(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let (mut peak_kb, mut cpu) = (0u64, 0f64);
    let mut termed: Option<Instant> = None;
    let status = loop {
        if let Some((kb, c)) = proc_sample(pid) {
            peak_kb = peak_kb.max(kb);
            cpu = cpu.max(c);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if termed.is_none() && term_when.is_some_and(|f| f()) {
            let sent = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .expect("run kill");
            assert!(sent.success(), "kill -TERM {pid} failed");
            termed = Some(Instant::now());
        }
        if start.elapsed() > watchdog {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err_thread.join().unwrap();
            let tail: Vec<&str> = std::str::from_utf8(&stderr)
                .unwrap_or("")
                .lines()
                .rev()
                .take(5)
                .collect();
            panic!("child did not end by itself within {watchdog:?}; stderr tail: {tail:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let after_term = termed.map(|t| t.elapsed());
    Watched {
        output: std::process::Output {
            status,
            stdout: out_thread.join().unwrap(),
            stderr: err_thread.join().unwrap(),
        },
        peak_kb,
        cpu,
        after_term,
    }
}

/// (VmHWM in KiB, user+system CPU seconds) of a live process.
fn proc_sample(pid: u32) -> Option<(u64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields, in clock ticks (100 per second on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((kb, ticks as f64 / 100.0))
}
