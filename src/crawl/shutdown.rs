//! Ctrl-C and SIGTERM: the first asks the crawl to stop taking new URLs and
//! finish what is in flight; a second one stops it at once.

use super::Stop;

/// Listens for signals for the rest of the run; `say` prints a line.
pub fn listen(stop: Stop, say: impl Fn(&str) + Send + 'static) {
    tokio::spawn(async move {
        for first in [true, false] {
            if signal().await.is_err() {
                return;
            }
            if first {
                say("parkcrawl: stopping: finishing pages in flight (again to stop at once)");
                stop.graceful.cancel();
            } else {
                stop.now.cancel();
            }
        }
    });
}

#[cfg(unix)]
async fn signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}
