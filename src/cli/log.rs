//! Diagnostics on stderr: the `tracing` subscriber every subcommand shares.
//! Colour only on a terminal and never with `NO_COLOR` set (no-color.org),
//! so that `2>> log` in a cron line gets plain text. The level comes from
//! `-q` / `-v` (as curl and wget users expect), with `RUST_LOG`'s
//! directives on top: they name targets and win where they do.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How much to say: `-q` (-1), default (0), `-v` (1), `-vv` (2), `-vvv`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verbosity(pub i8);

impl Verbosity {
    pub fn of(quiet: bool, verbose: u8) -> Verbosity {
        if quiet {
            Verbosity(-1)
        } else {
            Verbosity(verbose.min(3) as i8)
        }
    }

    pub fn quiet(self) -> bool {
        self.0 < 0
    }

    /// The filter: our crate at the level asked, others at warnings (at
    /// errors with `-q`), then `RUST_LOG`.
    fn directives(self, rust_log: Option<&str>) -> String {
        let ours = match self.0 {
            ..0 => "error",
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        };
        let others = if self.0 < 0 { "error" } else { "warn" };
        let mut d = format!("{others},parkcrawl={ours}");
        if let Some(r) = rust_log.filter(|r| !r.trim().is_empty()) {
            d.push(',');
            d.push_str(r);
        }
        d
    }
}

/// Whether stderr gets ANSI colour: a terminal, and no `NO_COLOR`.
pub fn colour(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Installs the subscriber (once; a second call does nothing).
pub fn init(v: Verbosity) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = EnvFilter::builder().parse_lossy(v.directives(rust_log.as_deref()));
    let ansi = colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn levels_and_rust_log_on_top() {
        assert_eq!(
            Verbosity::of(false, 0).directives(None),
            "warn,parkcrawl=warn"
        );
        assert_eq!(
            Verbosity::of(true, 2).directives(None),
            "error,parkcrawl=error"
        );
        assert_eq!(
            Verbosity::of(false, 1).directives(None),
            "warn,parkcrawl=info"
        );
        assert_eq!(
            Verbosity::of(false, 9).directives(None),
            "warn,parkcrawl=trace"
        );
        assert_eq!(
            Verbosity::of(false, 1).directives(Some("parkcrawl::fetch=trace")),
            "warn,parkcrawl=info,parkcrawl::fetch=trace"
        );
        assert_eq!(
            Verbosity::of(false, 0).directives(Some(" ")),
            "warn,parkcrawl=warn"
        );
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(!colour(false, None));
        assert!(!colour(true, Some(OsStr::new("1"))));
        // no-color.org: set to a non-empty value.
        assert!(colour(true, Some(OsStr::new(""))));
    }
}
