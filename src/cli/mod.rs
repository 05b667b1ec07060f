//! The command line: one file per subcommand. Each `run` returns the exit
//! code; `main.rs` only parses and exits.

pub mod clean;
pub mod crawl;
pub mod job;
pub mod log;
pub mod rules;
pub mod status;
pub mod units;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The exit codes (`crate::exit`), as `--help` and the README list them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  finished: every input gave its record, or the crawl ran dry with no page failed
  1  finished, but some inputs or pages failed (each named on stderr)
  2  could not start: bad arguments, rules, job file or output; or an output failed
  3  crawl --state FILE: another run holds the state's lock
  4  crawl stopped before its frontier ran dry: SIGINT/SIGTERM or --max-pages
     (run it again to go on; with --state it resumes)";

#[derive(Debug, Parser)]
#[command(
    name = "parkcrawl",
    version,
    about = "Crawl and clean Chinese government and industrial-park portals into JSON records",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Say less: no per-page lines, no progress bar, no warnings; errors
    /// that stop the run and the summary line still print.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more on stderr (-v: hosts, robots.txt, sitemaps; -vv: every
    /// page; -vvv: trace); RUST_LOG's directives apply on top.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl sites politely and write their pages as JSON Lines records.
    #[command(after_help = EXIT_CODES)]
    Crawl(Box<crawl::CrawlArgs>),
    /// Clean saved HTML pages (files, directories, `-` for stdin) into JSON Lines.
    Clean(clean::CleanArgs),
    /// Show a crawl state: pages by status, the last run, failures by host.
    Status(status::StatusArgs),
    /// Check or list site rules.
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
}

/// Options every subcommand that cleans pages shares.
#[derive(Debug, clap::Args)]
pub struct RuleArgs {
    /// Directory of extra site rules (`*.toml`); a rule with a built-in id replaces it.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

/// How `clean` and `crawl` write their records (`crate::format`).
#[derive(Debug, Clone, Default, clap::Args, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FormatArgs {
    /// jsonl (the records), es-bulk, typesense, meili (search engines'
    /// bulk files), markdown, html (a directory, one file per record)
    /// [default: jsonl].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<crate::format::Format>,
    /// es-bulk: the index every action names (`_index`).
    #[arg(long, value_name = "NAME")]
    pub index: Option<String>,
    /// typesense, meili: the file deletes go to, one id a line
    /// [default: the output's path with `.deletes` added].
    #[arg(long, value_name = "FILE")]
    pub deletes: Option<PathBuf>,
}

impl FormatArgs {
    pub fn options(&self) -> crate::format::Options {
        crate::format::Options {
            format: self.format.unwrap_or_default(),
            index: self.index.clone(),
            deletes: self.deletes.clone(),
        }
    }

    /// The flags given, over a job file's.
    pub fn or(self, file: FormatArgs) -> FormatArgs {
        FormatArgs {
            format: self.format.or(file.format),
            index: self.index.or(file.index),
            deletes: self.deletes.or(file.deletes),
        }
    }
}

/// Prints a one-line error naming what failed.
pub fn report(what: &str, err: &dyn std::fmt::Display) {
    eprintln!("parkcrawl: {what}: {err}");
}
