//! Crawl state on a PostgreSQL server (`--state postgres://USER@HOST:PORT/DB`),
//! shared by any number of workers on any number of machines (issue 15).
//! [`PgStore`] owns every SQL statement that talks to PostgreSQL; nothing
//! else in the project does.
//!
//! `parkcrawl crawl --state postgres://…` runs on it through [`PgWorker`]
//! (`frontier.rs`: the crawl loop's frontier and the writer's ledger);
//! `parkcrawl export` reads its records. The operations are those a fleet
//! of workers needs, each one short transaction, so no row lock is ever
//! held across a fetch ([`PgStore::begin_job`] starts or joins the job's
//! cycle first):
//!
//! 1. [`PgStore::claim_host`]: a worker leases a host with queued work (a
//!    free host, or one whose lease expired: then its in-flight pages go
//!    back to the queue). Every grant bumps the host's `lease_epoch`, the
//!    fencing number every later write of the holder carries.
//! 2. [`PgStore::renew_lease`] (the heartbeat) keeps it; `false` means lost.
//! 3. [`PgStore::claim_pages`]: queued pages of the leased host go in flight.
//! 4. [`PgStore::reserve_slot`] before each request: the host's next slot,
//!    taken atomically in the host's row, so the gap between two requests
//!    to a host, from any workers, is at least its interval (Crawl-delay and
//!    Retry-After included, [`PgStore::set_crawl_delay`],
//!    [`PgStore::set_retry_after`]).
//! 5. [`PgStore::finish_page`] (and the lower-level [`PgStore::commit_page`]):
//!    the page's new state and its record (or tombstone) in one
//!    transaction, only while the epoch is the host's; a record id once
//!    per cycle.
//! 6. [`PgStore::requeue_expired`]: in-flight pages of expired leases back
//!    to the queue, the leases ended (epoch bumped: the holder is fenced).
//!
//! Records are kept in commit order (`records.seq`); [`PgStore::records_after`]
//! and the export cursors serve `parkcrawl export`.
//!
//! Client: tokio-postgres with a deadpool-postgres pool. tokio-postgres is
//! the async driver most of the ecosystem builds on, runs on the tokio we
//! already have and pipelines statements; the pool hands each task its own
//! connection. sqlx would add compile-time query checking that needs a
//! database at build time (or checked-in query data) and a larger build.

pub mod frontier;
mod hosts;
mod job;
mod learned;
mod pace;
mod pages;
mod records;
mod schema;

pub use frontier::{PgFrontier, PgLedger, PgWorker};
pub use hosts::{Lease, Slot};
pub use job::{JobStart, Load};
pub use pace::PgPace;
pub use pages::{Claimed, Finished, NewPage, PageCommit, PageEnd, PageVisit};
pub use records::{Cursor, StoredRecord};
pub use schema::SCHEMA_VERSION;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

/// Errors name the URL (without its password) and carry the whole cause
/// chain in one line: tokio-postgres says "db error" and keeps the server's
/// message in its source.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("{url}: {message}")]
    Url { url: String, message: String },
    #[error("{url}: {message}")]
    Connect { url: String, message: String },
    #[error("{url}: {message}")]
    Sql { url: String, message: String },
    #[error(
        "{url}: schema version {found} is newer than this parkcrawl knows ({known}): upgrade parkcrawl"
    )]
    TooNew { url: String, found: i32, known: i32 },
}

/// `error connecting to server: Connection refused (os error 111)`: an
/// error and its sources, each once.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Is `state` a PostgreSQL URL rather than a SQLite path?
pub fn is_url(state: &str) -> bool {
    state.starts_with("postgres://") || state.starts_with("postgresql://")
}

/// A connection pool to one database, its schema ready.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// The URL without its password, for errors and logs.
    url: String,
}

impl PgStore {
    /// Connects and creates or migrates the schema.
    pub async fn open(url: &str) -> Result<PgStore, PgError> {
        let shown = without_password(url);
        let mut config: tokio_postgres::Config =
            url.parse()
                .map_err(|e: tokio_postgres::Error| PgError::Url {
                    url: shown.clone(),
                    message: chain(&e),
                })?;
        // An unreachable server is an error after a while, not a hang.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(8)
            .build()
            .expect("no runtime-dependent options are set");
        let store = PgStore { pool, url: shown };
        schema::migrate(&store).await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, PgError> {
        self.pool.get().await.map_err(|e| PgError::Connect {
            url: self.url.clone(),
            message: chain(&e),
        })
    }

    fn sql(&self) -> impl Fn(tokio_postgres::Error) -> PgError + '_ {
        |e| PgError::Sql {
            url: self.url.clone(),
            message: chain(&e),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// `postgres://user:secret@host/db` → `postgres://user@host/db`: a URL in
/// an error or a log line never carries its password.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            without_password("postgres://crawl:s3cret@db.example:5432/parks"),
            "postgres://crawl@db.example:5432/parks"
        );
        assert_eq!(
            without_password("postgres://crawl@127.0.0.1:5432/parks"),
            "postgres://crawl@127.0.0.1:5432/parks"
        );
        assert!(is_url("postgresql://x@h/db"));
        assert!(!is_url("state/crawl.db"));
    }
}
