//! The schema, created or migrated on first use. `parkcrawl_schema` holds
//! one row: the version the tables are at. Each step of [`STEPS`] moves one
//! version up, in one transaction, under an advisory lock, so that workers
//! starting together migrate once.

use super::{PgError, PgStore};

/// The version this parkcrawl writes.
pub const SCHEMA_VERSION: i32 = STEPS.len() as i32;

/// Step `i` takes the schema from version `i` to `i + 1`.
const STEPS: &[&str] = &[
    r"
CREATE TABLE hosts (
    host              text PRIMARY KEY,
    -- The earliest time of the next request (see reserve_slot).
    next_at           timestamptz NOT NULL DEFAULT now(),
    interval_ms       bigint NOT NULL DEFAULT 1000 CHECK (interval_ms >= 0),
    crawl_delay_ms    bigint CHECK (crawl_delay_ms >= 0),
    retry_after_until timestamptz,
    lease_holder      text,
    lease_expires     timestamptz,
    -- Bumped by every grant of a lease: the fencing number.
    lease_epoch       bigint NOT NULL DEFAULT 0
);
CREATE TABLE pages (
    id            bigserial PRIMARY KEY,
    url           text NOT NULL UNIQUE,
    host          text NOT NULL REFERENCES hosts (host),
    depth         integer NOT NULL,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'in_flight', 'done', 'failed')),
    claimed_by    text,
    claimed_epoch bigint,
    etag          text,
    last_modified text,
    content_hash  text,
    record_id     text,
    fetched_at    timestamptz
);
CREATE INDEX pages_host_state ON pages (host, state);
CREATE TABLE records (
    -- Commit order: commit_page takes a lock before it draws a number,
    -- held to its commit, so numbers become visible in their order.
    seq          bigserial PRIMARY KEY,
    page_id      bigint REFERENCES pages (id),
    record_id    text NOT NULL,
    deleted      boolean NOT NULL,
    line         text NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE export_cursors (
    name       text PRIMARY KEY,
    seq        bigint NOT NULL DEFAULT 0,
    -- The file the last export wrote and its length after its last batch.
    output     text,
    offset_    bigint,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE workers (
    name      text PRIMARY KEY,
    heartbeat timestamptz NOT NULL DEFAULT now()
);
",
    r"
-- Version 2: the crawl itself runs on the store (a fleet of workers).
-- What a recrawl needs of a page (the SQLite state's columns), sitemaps
-- beside pages, skips apart from failures.
ALTER TABLE pages ADD COLUMN kind text NOT NULL DEFAULT 'page'
    CHECK (kind IN ('page', 'sitemap'));
ALTER TABLE pages ADD COLUMN status integer;
ALTER TABLE pages ADD COLUMN emitted boolean NOT NULL DEFAULT false;
ALTER TABLE pages ADD COLUMN cycle bigint NOT NULL DEFAULT 0;
ALTER TABLE pages ADD COLUMN error text;
ALTER TABLE pages ADD COLUMN failures integer NOT NULL DEFAULT 0;
ALTER TABLE pages DROP CONSTRAINT pages_state_check;
ALTER TABLE pages ADD CONSTRAINT pages_state_check
    CHECK (state IN ('queued', 'in_flight', 'done', 'failed', 'skipped'));
CREATE INDEX pages_record ON pages (record_id) WHERE record_id IS NOT NULL;
CREATE INDEX pages_active ON pages (host) WHERE state IN ('queued', 'in_flight');
-- A host's queue in claim order (claim_pages): no sort of a big queue.
CREATE INDEX pages_queue ON pages (host, depth, id) WHERE state = 'queued';
-- A worker that ended (complete or stopped) is no longer live, however
-- recent its last heartbeat: the others' fair shares grow at once.
ALTER TABLE workers ADD COLUMN stopped_at timestamptz;
-- The cycle a record was committed in: ids are unique within a cycle.
ALTER TABLE records ADD COLUMN cycle bigint NOT NULL DEFAULT 0;
CREATE INDEX records_id_cycle ON records (record_id, cycle);
-- The crawl job: one row, the cycle its workers are in (begin_job).
CREATE TABLE job (
    id            integer PRIMARY KEY CHECK (id = 1),
    cycle         bigint NOT NULL,
    cycle_started timestamptz NOT NULL DEFAULT now()
);
-- Learned duplicate rules (crawl::dust) and repeated-block statistics
-- (crate::repeated), shared by the workers, as the SQLite state keeps them.
CREATE TABLE dust_rules (
    host          text NOT NULL,
    rule          text NOT NULL,
    confirmations integer NOT NULL,
    standing      text NOT NULL,
    PRIMARY KEY (host, rule)
);
CREATE TABLE repeated_hosts (
    host  text PRIMARY KEY,
    pages bigint NOT NULL,
    keys  bytea NOT NULL
);
",
];

/// The advisory lock key of migrations (any constant; "pkcr").
const MIGRATE_LOCK: i64 = 0x706b_6372;

/// Brings the schema to [`SCHEMA_VERSION`]; refuses a newer one.
pub async fn migrate(store: &PgStore) -> Result<(), PgError> {
    let mut client = store.client().await?;
    let sql = store.sql();
    let tx = client.transaction().await.map_err(&sql)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .await
        .map_err(&sql)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS parkcrawl_schema (version integer NOT NULL);
         INSERT INTO parkcrawl_schema (version)
             SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM parkcrawl_schema);",
    )
    .await
    .map_err(&sql)?;
    let found: i32 = tx
        .query_one("SELECT version FROM parkcrawl_schema", &[])
        .await
        .map_err(&sql)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(PgError::TooNew {
            url: store.url.clone(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, step) in STEPS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(step).await.map_err(&sql)?;
        let v = i as i32 + 1;
        tx.execute("UPDATE parkcrawl_schema SET version = $1", &[&v])
            .await
            .map_err(&sql)?;
    }
    tx.commit().await.map_err(&sql)
}

impl PgStore {
    /// The version the database's schema is at.
    pub async fn schema_version(&self) -> Result<i32, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT version FROM parkcrawl_schema", &[])
            .await
            .map_err(self.sql())?;
        Ok(row.get(0))
    }
}
