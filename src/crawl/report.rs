//! What the crawl tells people: one stderr line per failed or skipped page
//! (credentials stripped), a progress bar when stderr is a terminal, and the
//! one-line summary at the end. Records and the errors file go through
//! `sink`, never here.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::fetch::ErrorKind;

/// Counts of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Records written.
    pub ok: u64,
    /// Pages that failed (exit code 1).
    pub failed: u64,
    /// Pages skipped by policy: robots.txt, not HTML, out of scope, unsafe,
    /// duplicates.
    pub skipped: u64,
    /// Pages fetched again that gave no record: 304 Not Modified, the same
    /// content hash, or still gone.
    pub unchanged: u64,
    /// Tombstones written: pages emitted before, now 404 / 410.
    pub deleted: u64,
    /// Pages abandoned because the crawl was stopped.
    pub abandoned: u64,
    /// Queued URLs never fetched (stop signal, --max-pages), and sitemap
    /// pages not queued since --max-pages could not reach them.
    pub unfetched: u64,
    /// Links dropped at discovery: longer than `MAX_URL_LEN`.
    pub long_links: u64,
    /// Links dropped at discovery: past `MAX_LINKS` on their page.
    pub surplus_links: u64,
    /// Sitemaps not read: nested too deep, or past their host's
    /// `--max-sitemaps`.
    pub sitemaps_refused: u64,
    pub requests: u64,
    pub elapsed: Duration,
    pub interrupted: bool,
    /// `failed`, by kind (`ErrorKind::as_str`).
    pub failed_by: BTreeMap<&'static str, u64>,
    /// `skipped`, by kind: a separate bucket, since a skip is policy and
    /// leaves the exit code alone.
    pub skipped_by: BTreeMap<&'static str, u64>,
}

impl Summary {
    pub fn count(&mut self, kind: ErrorKind) {
        if kind == ErrorKind::Cancelled {
            self.abandoned += 1;
        } else if kind.is_skip() {
            self.skip(kind.as_str(), 1);
        } else {
            self.failed += 1;
            *self.failed_by.entry(kind.as_str()).or_default() += 1;
        }
    }

    /// `n` pages skipped as `kind`.
    pub fn skip(&mut self, kind: &'static str, n: u64) {
        if n > 0 {
            self.skipped += n;
            *self.skipped_by.entry(kind).or_default() += n;
        }
    }

    /// Pages queued or in flight that were never finished: the crawl was
    /// stopped, or `--max-pages` cut it, before the frontier ran dry.
    pub fn not_fetched(&self) -> u64 {
        self.abandoned + self.unfetched
    }

    /// Stopped before the frontier ran dry (a signal or a limit).
    pub fn stopped(&self) -> bool {
        self.interrupted || self.not_fetched() > 0
    }

    /// The run's statistics as one JSON object (`crawl --stats FILE`), the
    /// counts of the summary line with their kinds.
    pub fn to_json(&self) -> serde_json::Value {
        let secs = self.elapsed.as_secs_f64();
        serde_json::json!({
            "pages_ok": self.ok,
            "failed": self.failed,
            "failed_by_kind": self.failed_by,
            "skipped": self.skipped,
            "skipped_by_kind": self.skipped_by,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "not_fetched": self.not_fetched(),
            "links_dropped_too_long": self.long_links,
            "links_dropped_past_cap": self.surplus_links,
            "sitemaps_not_read": self.sitemaps_refused,
            "requests": self.requests,
            "elapsed_seconds": (secs * 1000.0).round() / 1000.0,
            "interrupted": self.interrupted,
        })
    }
}

/// ` (a 1, b 2)`, or nothing for no kinds.
fn kinds(f: &mut std::fmt::Formatter<'_>, by: &BTreeMap<&'static str, u64>) -> std::fmt::Result {
    if by.is_empty() {
        return Ok(());
    }
    let kinds: Vec<String> = by.iter().map(|(k, n)| format!("{k} {n}")).collect();
    write!(f, " ({})", kinds.join(", "))
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let verdict = if self.stopped() { "stopped:" } else { "done:" };
        write!(f, "{verdict} {} pages ok, {} failed", self.ok, self.failed)?;
        kinds(f, &self.failed_by)?;
        write!(f, ", {} skipped", self.skipped)?;
        kinds(f, &self.skipped_by)?;
        if self.unchanged + self.deleted > 0 {
            write!(
                f,
                ", {} unchanged, {} deleted",
                self.unchanged, self.deleted
            )?;
        }
        if self.not_fetched() > 0 {
            write!(f, ", {} not fetched", self.not_fetched())?;
        }
        if self.long_links + self.surplus_links > 0 {
            write!(
                f,
                ", {} links dropped ({} too long, {} past a page's cap)",
                self.long_links + self.surplus_links,
                self.long_links,
                self.surplus_links
            )?;
        }
        if self.sitemaps_refused > 0 {
            write!(f, ", {} sitemaps not read", self.sitemaps_refused)?;
        }
        write!(
            f,
            "; {} requests in {:.1} s, {:.1} pages/s",
            self.requests,
            secs,
            if secs > 0.0 {
                self.ok as f64 / secs
            } else {
                0.0
            }
        )
    }
}

/// stderr, shared with the progress bar.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// `-q`: no per-page lines (the summary is printed elsewhere).
    quiet: bool,
    /// `parkcrawl`, or `parkcrawl [WORKER]` for a worker of a fleet: every
    /// line says which worker wrote it.
    prefix: String,
}

impl Progress {
    /// A bar when stderr is a terminal (and `enabled`), plain lines otherwise.
    pub fn new(enabled: bool) -> Progress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {pos}/{len} pages {msg} {per_sec}",
                )
                .expect("static template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            quiet: false,
            prefix: "parkcrawl".into(),
        }
    }

    /// `-q`: no bar and no per-page lines.
    pub fn quiet() -> Progress {
        Progress {
            bar: None,
            quiet: true,
            prefix: "parkcrawl".into(),
        }
    }

    /// Without any output but the lines (tests, benches).
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            quiet: false,
            prefix: "parkcrawl".into(),
        }
    }

    /// One line on stderr, above the bar.
    /// Lines name the worker: `parkcrawl [WORKER]: …`.
    pub fn for_worker(mut self, worker: &str) -> Progress {
        self.prefix = format!("parkcrawl [{worker}]");
        self
    }

    /// What starts every line, before its `: `.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn line(&self, msg: &str) {
        if self.quiet {
            return;
        }
        let named;
        let msg = match msg.strip_prefix("parkcrawl: ") {
            Some(rest) if self.prefix != "parkcrawl" => {
                named = format!("{}: {rest}", self.prefix);
                named.as_str()
            }
            _ => msg,
        };
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{msg}")),
            None => eprintln!("{msg}"),
        }
    }

    pub fn update(&self, s: &Summary, queued: usize, in_flight: usize) {
        if let Some(b) = &self.bar {
            let done = s.ok + s.failed + s.skipped + s.unchanged + s.deleted;
            b.set_length(done + (queued + in_flight) as u64);
            b.set_position(done);
            b.set_message(format!(
                "({} ok, {} failed, {} skipped, {} queued)",
                s.ok, s.failed, s.skipped, queued
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
