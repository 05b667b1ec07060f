//! The `parkcrawl` binary: parse the command line, run the subcommand, exit
//! with its code. Everything else lives in the library.

use clap::Parser;
use parkcrawl::cli::{Cli, Command, clean, crawl, log, rules, status};

fn main() {
    // Fault injection for the tests (FAILPOINTS=…); nothing in a release build.
    let _faults = fail::FailScenario::setup();
    let cli = Cli::parse();
    let verbosity = log::Verbosity::of(cli.quiet, cli.verbose);
    log::init(verbosity);
    let code = match cli.command {
        Command::Crawl(args) => crawl::run(*args, verbosity),
        Command::Clean(args) => clean::run(args, verbosity),
        Command::Status(args) => status::run(args),
        Command::Rules { command } => rules::run(command),
    };
    std::process::exit(code);
}
