//! `parkcrawl status --state FILE`: what a crawl state holds — pages by
//! status, the crawl cycle, the last run, failures by host — for people, or
//! as one JSON object with `--json`. Reads without taking the lock, so it
//! works while a crawl runs. A PostgreSQL store (`--state postgres://…`)
//! has a status of its own: [`pg`].

mod pg;

use std::path::PathBuf;

use serde_json::json;

use super::{job, report};
use crate::exit;
use crate::store::{StateStore, Status, postgres};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The crawl's state file, or its PostgreSQL store (postgres://USER@HOST:PORT/DB).
    #[arg(long, value_name = "FILE|URL", required_unless_present = "config")]
    pub state: Option<PathBuf>,
    /// Or the job file naming it.
    #[arg(long, value_name = "FILE", conflicts_with = "state")]
    pub config: Option<PathBuf>,
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: StatusArgs) -> i32 {
    let path = match (args.state, &args.config) {
        (Some(p), _) => p,
        (None, Some(c)) => match job::load(c) {
            Ok(j) => match j.state {
                Some(p) => p,
                None => {
                    report(&c.display().to_string(), &"no `state` key");
                    return exit::CANNOT_START;
                }
            },
            Err(e) => {
                eprintln!("parkcrawl: {e}");
                return exit::CANNOT_START;
            }
        },
        (None, None) => {
            report("status", &"give --state FILE or --config FILE");
            return exit::CANNOT_START;
        }
    };
    if let Some(url) = path.to_str().filter(|p| postgres::is_url(p)) {
        return run_pg(url, args.json);
    }
    let status = match StateStore::open_read_only(&path).and_then(|s| s.status()) {
        Ok(s) => s,
        Err(e) => {
            report("status", &e);
            return exit::CANNOT_START;
        }
    };
    let text = if args.json {
        to_json(&status).to_string()
    } else {
        to_text(&status)
    };
    println!("{text}");
    exit::OK
}

fn run_pg(url: &str, json: bool) -> i32 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let read = match rt {
        Ok(rt) => rt.block_on(pg::read(url)).map_err(|e| e.to_string()),
        Err(e) => Err(format!("status: {e}")),
    };
    match read {
        Ok((shown, s)) if json => println!("{}", pg::to_json(&shown, &s)),
        Ok((shown, s)) => println!("{}", pg::to_text(&shown, &s)),
        Err(e) => {
            eprintln!("parkcrawl: {e}");
            return exit::CANNOT_START;
        }
    }
    exit::OK
}

pub fn to_json(s: &Status) -> serde_json::Value {
    let pages: serde_json::Map<String, serde_json::Value> = s
        .pages
        .iter()
        .map(|(k, n)| (k.to_string(), json!(n)))
        .collect();
    let failures: Vec<serde_json::Value> = s
        .failures_by_host
        .iter()
        .map(|h| {
            let kinds: serde_json::Map<String, serde_json::Value> =
                h.kinds.iter().map(|(k, n)| (k.clone(), json!(n))).collect();
            json!({ "host": h.host, "failed": h.failed, "kinds": kinds })
        })
        .collect();
    json!({
        "state": s.path,
        "running": s.running,
        "complete": s.complete,
        "cycle": s.cycle,
        "cycle_started": s.cycle_started,
        "pages": pages,
        "last_run": s.last_run,
        "output": s.output,
        "failures_by_host": failures,
    })
}

pub fn to_text(s: &Status) -> String {
    let mut out = Vec::new();
    let since = s
        .cycle_started
        .as_deref()
        .map_or(String::new(), |t| format!(" since {t}"));
    out.push(format!("state:     {} (cycle {}{since})", s.path, s.cycle));
    let queued = s
        .pages
        .iter()
        .filter(|(k, _)| matches!(*k, "queued" | "fetching"))
        .map(|(_, n)| n)
        .sum::<u64>();
    out.push(format!(
        "crawl:     {}{}",
        if s.complete {
            "complete".to_string()
        } else {
            format!("in progress, {queued} pages to go")
        },
        if s.running {
            " (a run holds the lock now)"
        } else {
            ""
        }
    ));
    let pages: Vec<String> = s.pages.iter().map(|(k, n)| format!("{n} {k}")).collect();
    out.push(format!("pages:     {}", pages.join(", ")));
    let r = &s.last_run;
    out.push(match &r.started {
        None => "last run:  none".to_string(),
        Some(start) => format!(
            "last run:  {start} → {}, {}: {} records, {} deleted, {} unchanged, {} failed",
            r.finished.as_deref().unwrap_or("…"),
            r.outcome.as_deref().unwrap_or("unknown"),
            r.records,
            r.deleted,
            r.unchanged,
            r.failed
        ),
    });
    if let Some(o) = &s.output {
        out.push(format!("output:    {o}"));
    }
    if s.failures_by_host.is_empty() {
        out.push("failures:  none".to_string());
    }
    for (i, h) in s.failures_by_host.iter().enumerate() {
        let kinds: Vec<String> = h.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out.push(format!(
            "{}{} {} ({})",
            if i == 0 { "failures:  " } else { "           " },
            h.host,
            h.failed,
            kinds.join(", ")
        ));
    }
    out.join("\n")
}
