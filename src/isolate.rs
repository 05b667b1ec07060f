//! Isolation: a panic while one page is decoded and cleaned is that page's
//! error, never the end of the run. Every command that cleans pages (`clean`
//! on files, directories, stdin and WARCs; the crawler's cleaner threads) runs
//! each page through [`page`], and reports a caught panic as one line naming
//! the input: `internal error: <message> (at <file:line>)`.
//!
//! Rust's default panic hook prints several lines (the thread, the message,
//! a backtrace hint) straight to stderr. Inside [`page`] the hook records
//! the message and location for the caller instead and prints nothing, so
//! the page's one error line is all the user sees. Panics anywhere else
//! still reach the previous hook unchanged.
//!
//! A panic in this codebase is a bug, not an input error: the line says
//! "internal error" so that it is reported as one.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A page's work panicked: what it said, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error: {message}")]
pub struct Panicked {
    /// The panic message on one line, with its source location.
    pub message: String,
}

thread_local! {
    /// This thread is inside [`page`]: the hook keeps quiet.
    static ISOLATED: Cell<bool> = const { Cell::new(false) };
    /// What the hook saw of the last panic inside [`page`].
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `work`; a panic in it comes back as [`Panicked`]. Nothing `work`
/// borrows is used again after a panic but for dropping, which is why
/// asserting unwind safety is sound here: the caller discards the page.
pub fn page<T>(work: impl FnOnce() -> T) -> Result<T, Panicked> {
    install_hook();
    let outer = ISOLATED.with(|i| i.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(work));
    ISOLATED.with(|i| i.set(outer));
    result.map_err(|payload| {
        let seen = LAST.with(|l| l.borrow_mut().take());
        Panicked {
            message: seen.unwrap_or_else(|| one_line(payload_text(payload.as_ref()))),
        }
    })
}

/// Wraps the current panic hook once per process.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !ISOLATED.with(Cell::get) {
                return previous(info);
            }
            let mut message = one_line(payload_text(info.payload()));
            if let Some(at) = info.location() {
                message.push_str(&format!(" (at {}:{})", at.file(), at.line()));
            }
            LAST.with(|l| *l.borrow_mut() = Some(message));
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "panic with a non-text payload"
    }
}

/// Panic messages may span lines (`assert_eq!`); an error line may not.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_a_value_with_its_place() {
        assert_eq!(page(|| 1 + 1), Ok(2));
        let caught = page(|| {
            let s = "闵行区";
            // A slice inside a character: the kind of bug this guards.
            let n = s.len() - 1;
            s[..n].len()
        })
        .unwrap_err();
        assert!(
            caught
                .message
                .contains("byte index 8 is not a char boundary"),
            "{caught}"
        );
        assert!(caught.message.contains("(at src/isolate.rs:"), "{caught}");
        assert!(!caught.message.contains('\n'));
        assert!(
            caught
                .to_string()
                .starts_with("internal error: end byte index")
        );
    }

    #[test]
    fn nested_and_later_panics_are_each_reported() {
        let outer = page(|| {
            let inner = page(|| panic!("inner\nsecond line"));
            assert_eq!(
                inner.unwrap_err().message.split(" (at").next(),
                Some("inner second line")
            );
            panic!("outer")
        });
        assert!(outer.unwrap_err().message.starts_with("outer (at"));
        // The hook is quiet only inside `page`, and leaves nothing behind.
        assert!(LAST.with(|l| l.borrow().is_none()));
        assert!(!ISOLATED.with(Cell::get));
    }
}
