//! The crawl's cleaners: a fixed set of threads, one per core, that decode,
//! clean and find links in fetched pages, one page at a time each.
//!
//! Why not the runtime's blocking pool: `spawn_blocking` hands each page to
//! whichever of its threads is idle, and it keeps a dozen of them, so a
//! page's work wandered over ~8 threads on 2 cores. What a thread keeps
//! warm between pages is then spread eightfold: each regex's lazy DFA
//! cache (one per thread, `regex`'s pool), the allocator's per-thread
//! arena, the CPU caches themselves. The same pages cleaned by `clean`'s
//! two threads spent a third of the time in regex search that they did in
//! the crawl. A fixed set keeps one copy per core.
//!
//! A page waits for a cleaner as a future (a permit of [`Cleaners`]),
//! holding its task slot, so that fetching slows to the cleaning rate and
//! no thread is parked per waiting page: hundreds of cleaning threads on a
//! few cores starve the runtime's workers, which then read answers (a 429
//! with its Retry-After among them) and send requests late.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{Semaphore, oneshot};

/// A page's work, run on a cleaner thread.
type Work = Box<dyn FnOnce() + Send>;

/// The cleaner threads (started at the first page) and the permits that
/// bound the pages handed to them to one per thread.
pub struct Cleaners {
    count: usize,
    permits: Arc<Semaphore>,
    queue: OnceLock<Result<mpsc::Sender<Work>, String>>,
}

/// The work could not run: no cleaner thread could be started.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl Cleaners {
    /// `count` threads (at least one), started when first needed.
    pub fn new(count: usize) -> Cleaners {
        let count = count.max(1);
        Cleaners {
            count,
            permits: Arc::new(Semaphore::new(count)),
            queue: OnceLock::new(),
        }
    }

    /// One per core.
    pub fn per_core() -> Cleaners {
        Cleaners::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Runs `work` on a cleaner once one is free, and gives back what it
    /// returned. A panic in `work` is the caller's to catch
    /// (`isolate::page`): one that escapes ends that thread, and the page
    /// gets [`Unavailable`].
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Unavailable> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Unavailable("the cleaners are closed".to_string()))?;
        let queue = self.queue.get_or_init(|| start(self.count));
        let queue = queue.as_ref().map_err(|e| Unavailable(e.clone()))?;
        let (tx, rx) = oneshot::channel();
        let job: Work = Box::new(move || {
            let _permit = permit;
            let _ = tx.send(work());
        });
        queue
            .send(job)
            .map_err(|_| Unavailable("every cleaner thread has ended".to_string()))?;
        rx.await
            .map_err(|_| Unavailable("a cleaner thread ended mid-page".to_string()))
    }
}

/// Starts `count` threads taking work from one queue. Threads that cannot
/// be started are done without; none at all is an error for every page.
/// They end when the [`Cleaners`] (the queue's sender) is dropped.
fn start(count: usize) -> Result<mpsc::Sender<Work>, String> {
    let (tx, rx) = mpsc::channel::<Work>();
    let rx = Arc::new(Mutex::new(rx));
    let mut started = 0;
    let mut last_error = None;
    for i in 0..count {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("cleaner-{i}"))
            .spawn(move || take_work(&rx));
        match spawned {
            Ok(_) => started += 1,
            Err(e) => last_error = Some(e),
        }
    }
    match (started, last_error) {
        (0, Some(e)) => Err(format!("cannot start a cleaner thread: {e}")),
        (n, Some(e)) => {
            tracing::warn!("started {n} of {count} cleaner threads: {e}");
            Ok(tx)
        }
        _ => Ok(tx),
    }
}

/// A cleaner thread's loop: one job at a time until the queue closes.
fn take_work(rx: &Mutex<mpsc::Receiver<Work>>) {
    loop {
        // The lock is held only to take a job, not to run it. A poisoned
        // lock (another thread panicked while taking) still guards a
        // working receiver.
        let job = match rx.lock() {
            Ok(r) => r.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_run_on_the_fixed_threads_at_most_one_each() {
        let cleaners = Arc::new(Cleaners::new(2));
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (c, running, most) = (cleaners.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                c.run(move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    let now = running.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    running.fetch_sub(1, SeqCst);
                    std::thread::current().name().map(str::to_string)
                })
                .await
                .expect("ran")
            }));
        }
        let mut names = std::collections::BTreeSet::new();
        for t in tasks {
            names.insert(t.await.expect("task").expect("named thread"));
        }
        assert!(names.iter().all(|n| n.starts_with("cleaner-")), "{names:?}");
        assert!(names.len() <= 2, "{names:?}");
        assert!(most.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    }

    #[tokio::test]
    async fn a_panic_that_escapes_is_that_page_s_error_and_the_rest_go_on() {
        let cleaners = Cleaners::new(2);
        // The default hook prints the panic; replacing it here would race
        // with the tests that read `isolate`'s hook.
        let failed = cleaners.run(|| -> u32 { panic!("escaped") }).await;
        assert!(failed.is_err());
        assert_eq!(cleaners.run(|| 7).await.expect("the other thread"), 7);
    }
}
