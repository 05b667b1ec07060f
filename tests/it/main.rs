//! The one integration-test binary: real child processes of the `parkcrawl`
//! binary, real files, real HTTP servers on 127.0.0.1.

mod clean;
mod cli;
mod crawl;
mod dust;
mod fleet;
mod format;
mod fuzz;
mod guard;
mod hostile;
mod hostile_crawl;
mod hostile_fetch;
mod pg;
mod pg_crawl;
mod pg_status;
mod repeated;
mod robots;
mod state;
mod support;
mod typesense;
mod warc;
