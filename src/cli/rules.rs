//! `parkcrawl rules check [DIR]` and `parkcrawl rules list`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::exit;
use crate::rules::RuleSet;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate the built-in rules and those in DIR; fail naming file and key.
    Check {
        /// Directory of rule files to check along with the built-in ones.
        dir: Option<PathBuf>,
    },
    /// List the rules in force (built-in, plus those in --rules DIR).
    List {
        /// Directory of extra site rules (`*.toml`); a rule with a built-in id replaces it.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

pub fn run(cmd: RulesCommand) -> i32 {
    let (dir, list) = match cmd {
        RulesCommand::Check { dir } => (dir, false),
        RulesCommand::List { rules } => (rules, true),
    };
    let set = match RuleSet::load(dir.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("parkcrawl: rules: {e}");
            return exit::CANNOT_START;
        }
    };
    if list {
        for r in std::iter::once(&set.generic).chain(&set.sites) {
            println!("{}\t{}\t{}", r.id, r.hosts.join(","), r.file);
        }
    } else {
        eprintln!(
            "parkcrawl: rules: {} site rule(s) and the generic defaults are valid",
            set.sites.len()
        );
    }
    exit::OK
}
