//! `crawl --state postgres://…`: this process as one worker of a fleet
//! sharing the crawl job in a PostgreSQL database (`store::postgres`). The
//! flags only a fleet has (`--worker`, `--lease`) and what a fleet refuses
//! (`-o`: the records are in the database; `parkcrawl export` writes them
//! out); the job begun or joined, the shared pacing hooked into the
//! fetcher, and the worker's last words.

use super::*;
use crate::crawl::report::Progress;
use crate::fetch::FetchConfig;
use crate::store::postgres::{self, PgError, PgStore, PgWorker};

/// A PostgreSQL state asked for, checked, not yet opened.
pub(super) struct Fleet {
    url: String,
    worker: String,
    lease: Duration,
    recrawl_after: Duration,
}

/// The lease a worker holds its hosts with, unless `--lease`.
const DEFAULT_LEASE: Duration = Duration::from_secs(30);

impl Fleet {
    /// `Some` when `--state` is a PostgreSQL URL; refuses what a fleet
    /// cannot do, and the fleet's flags without one.
    pub(super) fn of(args: &CrawlArgs) -> Result<Option<Fleet>, Refused> {
        let url = args
            .state
            .as_deref()
            .and_then(Path::to_str)
            .filter(|s| postgres::is_url(s));
        let Some(url) = url else {
            if args.worker.is_some() || args.lease.is_some() {
                let flag = if args.worker.is_some() {
                    "--worker"
                } else {
                    "--lease"
                };
                return Err(Refused::new(
                    flag,
                    "needs --state postgres://USER@HOST:PORT/DB",
                ));
            }
            return Ok(None);
        };
        if args.output.is_some() {
            return Err(Refused::new(
                "-o",
                "a PostgreSQL state keeps the records in the database: write them out with `parkcrawl export --state URL -o FILE`",
            ));
        }
        if args.format.options().format != crate::format::Format::Jsonl {
            return Err(Refused::new(
                "--format",
                "a PostgreSQL state keeps the records as JSON Lines: give --format to `parkcrawl export`",
            ));
        }
        let lease = match args.lease {
            Some(s) => s.positive().map_err(|m| Refused::new("--lease", m))?,
            None => DEFAULT_LEASE,
        };
        let worker = match &args.worker {
            Some(w) if w.trim().is_empty() => {
                return Err(Refused::new("--worker", "must not be empty"));
            }
            Some(w) => w.clone(),
            None => default_name(),
        };
        Ok(Some(Fleet {
            url: url.to_string(),
            worker,
            lease,
            recrawl_after: Duration::ZERO,
        }))
    }

    pub(super) fn with(mut self, recrawl_after: Duration) -> Fleet {
        self.recrawl_after = recrawl_after;
        self
    }

    /// Connects (creating or migrating the schema), begins or joins the
    /// job's cycle, and adds the hosts' saved block statistics to
    /// `repeated` (unless `--keep-repeated`).
    pub(super) async fn open(self, repeated: &mut Option<Stats>) -> Result<FleetRun, PgError> {
        let store = PgStore::open(&self.url).await?;
        let start = store.begin_job(&self.worker, self.recrawl_after).await?;
        let name = format!("parkcrawl [{}]", self.worker);
        let url = store.url().to_string();
        if !start.started {
            eprintln!(
                "{name}: joining cycle {} of the crawl in {url}",
                start.cycle
            );
        } else if start.cycle > 1 {
            eprintln!(
                "{name}: {url}: crawl complete; cycle {} starts, revisiting {} page(s) last fetched {} ago or more",
                start.cycle,
                start.requeued,
                humantime(self.recrawl_after)
            );
        } else {
            eprintln!("{name}: {url}: cycle 1 starts");
        }
        if let Some(stats) = repeated {
            for (host, h) in store.load_repeated().await? {
                stats.set_host(host, h);
            }
        }
        Ok(FleetRun {
            worker: PgWorker::new(store, &self.worker, self.lease),
        })
    }
}

/// A worker of an open fleet.
pub(super) struct FleetRun {
    pub(super) worker: PgWorker,
}

impl FleetRun {
    /// Every request of this worker first takes its host's next slot in the
    /// database (`store::postgres::pace`).
    pub(super) fn pace(&self, fetch: &mut FetchConfig) {
        fetch.pace = Some(Arc::new(postgres::PgPace::new(
            self.worker.store().clone(),
            fetch.rate.clone(),
        )));
    }

    /// The worker's last line: what its lost leases cost, if anything.
    pub(super) fn conclude(&self, code: i32, progress: &Progress) -> i32 {
        let refused = self.worker.refused();
        if refused > 0 {
            eprintln!(
                "{}: {refused} page(s) not committed: their hosts' leases were lost (other workers fetch them)",
                progress.prefix()
            );
        }
        code
    }
}

/// `HOSTNAME:PID`: unique among the workers of one machine, and says where
/// a worker runs.
fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// `1d`, `12h`, `30m`, `45s`: the largest whole unit.
fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s >= 86_400 && s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s >= 3600 && s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s >= 60 && s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}
