//! parkcrawl: a crawler and content cleaner for Chinese government and
//! industrial-park portals.
//!
//! # Layout
//!
//! The pipeline, one module per stage, one plain type between stages:
//!
//! ```text
//! Input ─decode→ Decoded ─clean→ Document ─format→ JSON Lines, es-bulk, …
//!   (crawl fetches Inputs; clean reads saved files into the same stages)
//! ```
//!
//! - [`rules`]: site rules (`rules/*.toml`), compiled once at start-up;
//! - [`clean`]: decode, parse, regions, linearize, boilerplate, blocks — pure
//!   and synchronous; its module header lists the stages in order;
//! - [`dom`]: the DOM helpers every stage shares (node sets, text of an
//!   element, ancestry); it imports nothing of the crate, so `clean`,
//!   `extract` and `rules` all sit above it;
//! - [`extract`]: metadata cascades (title, dates, header line, park, …);
//! - [`document`]: the record (`SCHEMA.md`), its id and content hash;
//! - [`repeated`]: cross-page boilerplate (`repeated-block`): per-host block
//!   statistics over many records, and the filter they drive;
//! - [`output`]: the JSON Lines writer that owns stdout or the output file;
//! - [`format`]: records in the shape a downstream takes (`--format`: JSON
//!   Lines, search-engine bulk files, Markdown or HTML pages), streaming;
//! - [`fetch`]: one HTTP client, per-host politeness, robots.txt, retries,
//!   redirects, body limit, address safety;
//! - [`crawl`]: frontier, canonical URLs, scope, links, sitemaps, shutdown —
//!   feeds fetched pages through decode and clean;
//! - [`store`]: the crawl state (`--state`) behind the async frontier and
//!   ledger traits: a SQLite file (resume, incremental recrawl,
//!   exactly-once output) or a PostgreSQL job shared by a fleet of workers
//!   (`store::postgres`: leases, shared pacing, records in the database);
//! - [`warc`]: WARC/1.1 reader and writer; [`bulk`]: ordered parallel cleaning;
//!   [`spill`]: the records between `clean`'s two passes;
//! - [`isolate`]: a panic while one page is cleaned is that page's error;
//! - [`eval`]: the extraction-quality metric the extract benchmark scores with;
//! - `fuzz` (hidden): the fuzz harness the CI test and `examples/fuzz.rs` share;
//! - [`cli`]: one file per subcommand; `main.rs` only maps errors to exit codes.
//!
//! Where each kind of change goes (a boilerplate pattern, a date format, a
//! site rule, a field label, an output field, a crawl flag, an error kind),
//! with the fixture and test that show it: `docs/contributing.md`.

pub mod bulk;
pub mod clean;
pub mod cli;
pub mod crawl;
pub mod document;
pub mod dom;
pub mod eval;
pub mod extract;
pub mod fetch;
pub mod format;
#[doc(hidden)]
pub mod fuzz;
pub mod isolate;
pub mod output;
pub mod repeated;
pub mod rules;
pub mod spill;
pub mod store;
pub mod warc;

/// Exit codes, documented in the README.
pub mod exit {
    /// Every input produced its record (every page was fetched and cleaned).
    pub const OK: i32 = 0;
    /// The run finished, but some inputs or pages failed (each named on stderr).
    pub const SOME_FAILED: i32 = 1;
    /// The run could not start: bad arguments, bad rules, unwritable output.
    pub const CANNOT_START: i32 = 2;
    /// `crawl --state FILE`: another run holds that state's lock.
    pub const LOCKED: i32 = 3;
    /// `crawl`: stopped before its frontier ran dry, by SIGINT / SIGTERM or
    /// by `--max-pages`. One code for both, since a scheduled job does the
    /// same for either (run again to go on; with `--state` it resumes), and
    /// it stays apart from 130 / 143, which say the process was killed
    /// before it could write its summary.
    pub const STOPPED: i32 = 4;
}
