//! Per-host politeness: one [`Host`] per `host:port`, holding its rate
//! limiter (governor, on tokio's clock so that paused-time tests are exact),
//! its connection permits, a pause (`Retry-After`, backoff) and a failure
//! count that ends in giving the host up rather than hammering it.
//!
//! A request to a host takes, in order: a connection permit, the end of any
//! pause, then a cell of the rate limiter ([`Host::turn`]); right before it
//! is sent, the pause is checked once more ([`Host::paused`]): a request
//! whose turn came before a 429 was read goes back to waiting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::robots::Robots;

/// governor's clock, read from tokio's: under `tokio::time::pause()` the
/// limiter sees the same paused time as the sleeps that wait for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;
    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>;

/// How a failing host is backed off.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The pause after the first transient failure; doubled for each further
    /// consecutive one, with jitter (half to all of it).
    pub base: Duration,
    pub max: Duration,
    /// Consecutive transient failures after which the host is given up for
    /// the rest of the run (its remaining pages fail at once).
    pub give_up_after: u32,
    /// The longest pause a server may ask for: a `Retry-After` longer than
    /// this gives the host up at once (its queued pages then fail at once),
    /// rather than holding the crawl for it.
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
            give_up_after: 8,
            max_retry_after: Duration::from_secs(600),
        }
    }
}

/// The cached robots.txt verdict of a host.
#[derive(Debug, Clone)]
pub(super) struct RobotsEntry {
    /// `Err(message)`: unavailable (5xx, unreachable), so disallow all.
    pub verdict: Result<Arc<Robots>, String>,
    pub expires: Instant,
}

pub struct Host {
    pub key: String,
    /// Permits = connections allowed to this host at once (1 by default).
    conn: Arc<Semaphore>,
    /// The permits `conn` was made with.
    connections: usize,
    state: Mutex<State>,
    /// Held while robots.txt is fetched, so that every other request to the
    /// host waits for the verdict.
    pub(super) robots: tokio::sync::Mutex<Option<RobotsEntry>>,
    backoff: Backoff,
    /// Wakes the requests waiting in [`Host::turn`] when the host is given
    /// up, so that they fail now instead of waiting out a pause.
    gave_up: tokio::sync::Notify,
}

struct State {
    /// `None`: no rate limit (rate 0).
    limiter: Option<Limiter>,
    period: Duration,
    /// No request starts before this instant (Retry-After, backoff).
    paused_until: Option<Instant>,
    /// Consecutive transient failures; reset by any answer from the server.
    failures: u32,
    given_up: Option<String>,
    /// Earliest start of the next request, for the scheduler (an estimate:
    /// the limiter decides).
    ready_at: Instant,
}

fn limiter(period: Duration) -> Option<Limiter> {
    Quota::with_period(period).map(|q| RateLimiter::direct_with_clock(q, TokioClock))
}

/// The longest request period: a rate below one request a day is taken as
/// one a day (and cannot overflow the clock).
const MAX_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// The request period for `rate` requests per second (0: unlimited).
pub fn period_of(rate: f64) -> Duration {
    if rate > 0.0 && rate.is_finite() {
        Duration::try_from_secs_f64(1.0 / rate)
            .unwrap_or(MAX_PERIOD)
            .min(MAX_PERIOD)
    } else {
        Duration::ZERO
    }
}

/// `now + d`, saturating instead of panicking: durations that reach the
/// clock may come from a server (`Retry-After: 18446744073709551615`).
fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(MAX_PERIOD))
        .unwrap_or(now)
}

impl Host {
    pub fn new(key: String, rate: f64, connections: usize, backoff: Backoff) -> Host {
        let period = period_of(rate);
        Host {
            key,
            conn: Arc::new(Semaphore::new(connections.max(1))),
            connections: connections.max(1),
            state: Mutex::new(State {
                limiter: limiter(period),
                period,
                paused_until: None,
                failures: 0,
                given_up: None,
                ready_at: Instant::now(),
            }),
            robots: tokio::sync::Mutex::new(None),
            backoff,
            gave_up: tokio::sync::Notify::new(),
        }
    }

    /// Waits for this host's next turn: a connection permit, the end of any
    /// pause, a global request slot from `slots`, then a rate-limiter cell.
    /// Both permits are returned: hold them until the response is read.
    /// `None` when `cancel` fires first.
    ///
    /// The cell is taken last, once the request can really start, so that a
    /// request held up by a busy crawl moves the next one back rather than
    /// letting it follow too closely.
    pub async fn turn(
        &self,
        slots: &Arc<Semaphore>,
        cancel: &CancellationToken,
    ) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
        let conn = tokio::select! {
            p = self.conn.clone().acquire_owned() => p.ok()?,
            _ = cancel.cancelled() => return None,
        };
        loop {
            // Made before the state is read: a give-up between the two
            // still wakes it.
            let gave_up = self.gave_up.notified();
            let ready = {
                let st = self.state.lock().expect("host state");
                st.paused_until.map_or(st.ready_at, |p| p.max(st.ready_at))
            };
            if ready > Instant::now() {
                tokio::select! {
                    _ = tokio::time::sleep_until(ready) => {}
                    // Given up: no pause any more; the caller finds the
                    // host given up once its turn comes, and fails.
                    _ = gave_up => {}
                    _ = cancel.cancelled() => return None,
                }
            }
            let slot = tokio::select! {
                s = slots.clone().acquire_owned() => s.ok()?,
                _ = cancel.cancelled() => return None,
            };
            // With several connections per host, the answer that pauses the
            // host (a 429) may be in, and its task woken, but not yet run:
            // a burst of new requests on a busy runtime would go ahead of
            // it and land inside the Retry-After. An answer travels two
            // hops: the connection's task reads it, then wakes the
            // request's task, which sets the pause. Yielding twice gives the
            // runtime the chance to read the I/O ready and run both, so the
            // pause is seen below (a chance, not a guarantee: on a starved
            // runtime the read itself may come late).
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            let gave_up = self.gave_up.notified();
            let wake = {
                let mut st = self.state.lock().expect("host state");
                let now = Instant::now();
                match st.paused_until {
                    Some(p) if p > now => Some(p),
                    _ => {
                        let verdict = st.limiter.as_ref().map_or(Ok(()), |l| l.check());
                        match verdict {
                            Ok(()) => {
                                st.ready_at = later(now, st.period);
                                None
                            }
                            Err(not_until) => {
                                let t = later(now, not_until.wait_time_from(TokioClock.now()));
                                st.ready_at = st.ready_at.max(t);
                                Some(t)
                            }
                        }
                    }
                }
            };
            match wake {
                None => return Some((conn, slot)),
                Some(t) => {
                    drop(slot);
                    tokio::select! {
                        _ = tokio::time::sleep_until(t) => {}
                        _ = gave_up => {}
                        _ = cancel.cancelled() => return None,
                    }
                }
            }
        }
    }

    /// Honours a robots.txt `Crawl-delay` when it is slower than our rate.
    /// The request just made (robots.txt itself) counts as the last one.
    pub fn slow_down_to(&self, period: Duration) {
        let mut st = self.state.lock().expect("host state");
        if period <= st.period {
            return;
        }
        st.period = period;
        st.limiter = limiter(period);
        if let Some(l) = &st.limiter {
            let _ = l.check();
        }
        st.ready_at = later(Instant::now(), period);
    }

    /// The server answered (any status that is not a transient failure).
    pub fn success(&self) {
        self.state.lock().expect("host state").failures = 0;
    }

    /// A transient failure: pause the whole host for the backoff (or the
    /// server's `Retry-After`, if longer), or give it up: after
    /// `give_up_after` failures in a row, or at once for a `Retry-After`
    /// over `max_retry_after`. A given-up host is not paused: nothing more
    /// is sent to it, and its queued pages are to fail now, not after the
    /// pause. Returns whether the host is now given up.
    pub fn failure(&self, retry_after: Option<Duration>) -> bool {
        let mut st = self.state.lock().expect("host state");
        st.failures = st.failures.saturating_add(1);
        let n = st.failures;
        let b = self.backoff;
        if let Some(r) = retry_after.filter(|r| *r > b.max_retry_after) {
            st.given_up = Some(format!(
                "asked to wait {} s (Retry-After), more than the {} s a host may pause",
                r.as_secs(),
                b.max_retry_after.as_secs()
            ));
        } else if n >= b.give_up_after {
            st.given_up = Some(format!("{n} consecutive failures"));
        }
        let now = Instant::now();
        if st.given_up.is_some() {
            st.paused_until = None;
            st.ready_at = now;
            drop(st);
            self.gave_up.notify_waiters();
            return true;
        }
        let full = b.base.saturating_mul(1u32 << (n - 1).min(20)).min(b.max);
        let jittered = full / 2 + full.mul_f64(rand::random_range(0.0..0.5));
        let until = later(now, jittered.max(retry_after.unwrap_or_default()));
        st.paused_until = Some(st.paused_until.map_or(until, |p| p.max(until)));
        st.ready_at = st.ready_at.max(until);
        false
    }

    /// A pause (Retry-After, backoff) holds the host now. Checked right
    /// before a request is sent, after its turn: the pause may have come
    /// since (see `Fetcher::get`).
    pub fn paused(&self) -> bool {
        let st = self.state.lock().expect("host state");
        st.paused_until.is_some_and(|p| p > Instant::now())
    }

    pub fn given_up(&self) -> Option<String> {
        self.state.lock().expect("host state").given_up.clone()
    }

    /// When this host can next take a request (for the scheduler).
    pub fn ready_at(&self) -> Instant {
        self.state.lock().expect("host state").ready_at
    }
}

/// Every host met so far, created on first use with its rate.
pub struct Hosts {
    map: Mutex<HashMap<String, Arc<Host>>>,
    /// Requests per second for a host name.
    rate: super::RateFn,
    /// Connections for a host name.
    connections: super::CountFn,
    backoff: Backoff,
}

impl Hosts {
    pub fn new(rate: super::RateFn, connections: super::CountFn, backoff: Backoff) -> Hosts {
        Hosts {
            map: Mutex::new(HashMap::new()),
            rate,
            connections,
            backoff,
        }
    }

    pub fn get(&self, url: &url::Url) -> Arc<Host> {
        let key = super::host_key(url);
        let mut map = self.map.lock().expect("hosts");
        map.entry(key.clone())
            .or_insert_with(|| {
                let name = url.host_str().unwrap_or("");
                let rate = (self.rate)(name);
                let connections = (self.connections)(name);
                Arc::new(Host::new(key, rate, connections, self.backoff))
            })
            .clone()
    }

    /// Connections allowed to the host of `key` (`host:port`), met or not.
    pub fn connections(&self, key: &str) -> usize {
        if let Some(h) = self.map.lock().expect("hosts").get(key) {
            return h.connections;
        }
        let name = key.rsplit_once(':').map_or(key, |(h, _)| h);
        (self.connections)(name).max(1)
    }

    /// When the host of `key` can next take a request; `None` if unknown.
    pub fn ready_at(&self, key: &str) -> Option<Instant> {
        let host = self.map.lock().expect("hosts").get(key).cloned();
        host.map(|h| h.ready_at())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(rate: f64) -> Arc<Host> {
        Arc::new(Host::new("h:80".into(), rate, 1, Backoff::default()))
    }

    fn slots() -> Arc<Semaphore> {
        Arc::new(Semaphore::new(100))
    }

    /// Takes `n` turns one after another, returning when each began.
    async fn turns(h: &Host, n: usize) -> Vec<Duration> {
        let t0 = Instant::now();
        let cancel = CancellationToken::new();
        let slots = slots();
        let mut at = Vec::new();
        for _ in 0..n {
            let p = h.turn(&slots, &cancel).await.unwrap();
            at.push(t0.elapsed());
            drop(p);
        }
        at
    }

    fn ms(v: &[Duration]) -> Vec<u128> {
        v.iter().map(|d| d.as_millis()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn rate_spaces_requests_exactly() {
        assert_eq!(ms(&turns(&host(2.0), 5).await), [0, 500, 1000, 1500, 2000]);
        assert_eq!(ms(&turns(&host(1.0), 3).await), [0, 1000, 2000]);
    }

    #[tokio::test(start_paused = true)]
    async fn hosts_run_in_parallel() {
        let hs: Vec<_> = (0..3).map(|_| host(2.0)).collect();
        let tasks: Vec<_> = hs
            .iter()
            .map(|h| {
                let h = h.clone();
                tokio::spawn(async move { turns(&h, 4).await })
            })
            .collect();
        for t in tasks {
            // Each host at its own pace, all at once: 2 s for 12 requests.
            assert_eq!(ms(&t.await.unwrap()), [0, 500, 1000, 1500]);
        }
    }

    /// N connections: at most N requests at once, and the rate still
    /// spaces every request start of the host, whichever connection it
    /// takes; a pause holds all of them.
    #[tokio::test(start_paused = true)]
    async fn n_connections_share_the_hosts_rate_and_pause() {
        let h = Arc::new(Host::new("h:80".into(), 2.0, 4, Backoff::default()));
        let t0 = Instant::now();
        let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (h, open, most) = (h.clone(), open.clone(), most.clone());
                tokio::spawn(async move {
                    let p = h.turn(&slots(), &CancellationToken::new()).await.unwrap();
                    let at = t0.elapsed();
                    let now = open.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    // A slow response: 3 s on the wire.
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    drop(p);
                    at
                })
            })
            .collect();
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.unwrap());
        }
        starts.sort();
        // Four at the rate's pace, then each waits for a connection to free.
        assert_eq!(ms(&starts), [0, 500, 1000, 1500, 3000, 3500, 4000, 4500]);
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 4);
        // A Retry-After pauses every connection of the host.
        let t1 = Instant::now();
        assert!(!h.failure(Some(Duration::from_secs(5))));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move {
                    drop(h.turn(&slots(), &CancellationToken::new()).await);
                    t1.elapsed()
                })
            })
            .collect();
        let mut after = Vec::new();
        for w in waiters {
            after.push(w.await.unwrap());
        }
        after.sort();
        assert_eq!(ms(&after), [5000, 5500, 6000]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_the_host() {
        let h = host(2.0);
        let t0 = Instant::now();
        let cancel = CancellationToken::new();
        drop(h.turn(&slots(), &cancel).await);
        assert!(!h.failure(Some(Duration::from_secs(2))));
        drop(h.turn(&slots(), &cancel).await);
        assert_eq!(t0.elapsed().as_millis(), 2000);
        // Success resets the failure count.
        h.success();
        assert_eq!(h.state.lock().unwrap().failures, 0);
    }

    /// The check right before a send: a pause set after a turn was granted
    /// holds the host until it ends, and only until then.
    #[tokio::test(start_paused = true)]
    async fn a_pause_after_the_turn_is_seen_before_the_send() {
        let h = Arc::new(Host::new("h:80".into(), 0.0, 64, Backoff::default()));
        let granted = h.turn(&slots(), &CancellationToken::new()).await.unwrap();
        assert!(!h.paused());
        assert!(!h.failure(Some(Duration::from_secs(3))));
        assert!(h.paused());
        drop(granted);
        tokio::time::sleep(Duration::from_millis(2999)).await;
        assert!(h.paused());
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(!h.paused());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_held_up_for_a_slot_moves_the_next_one_back() {
        let h = host(4.0);
        let cancel = CancellationToken::new();
        let slots = Arc::new(Semaphore::new(1));
        let t0 = Instant::now();
        drop(h.turn(&slots, &cancel).await.unwrap());
        // Another host's request holds the only slot until 400 ms.
        let busy = slots.clone().acquire_owned().await.unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            drop(busy);
        });
        drop(h.turn(&slots, &cancel).await.unwrap());
        assert_eq!(t0.elapsed().as_millis(), 400);
        drop(h.turn(&slots, &cancel).await.unwrap());
        assert_eq!(t0.elapsed().as_millis(), 650);
    }

    #[tokio::test(start_paused = true)]
    async fn crawl_delay_slows_but_never_speeds_up() {
        let h = host(2.0);
        let cancel = CancellationToken::new();
        drop(h.turn(&slots(), &cancel).await); // robots.txt
        h.slow_down_to(Duration::from_secs(2));
        h.slow_down_to(Duration::from_millis(100));
        assert_eq!(ms(&turns(&h, 3).await), [2000, 4000, 6000]);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_with_jitter_then_gives_up() {
        let h = host(0.0);
        let cancel = CancellationToken::new();
        let mut prev = Duration::ZERO;
        for n in 1..=7u32 {
            let t0 = Instant::now();
            assert!(!h.failure(None));
            drop(h.turn(&slots(), &cancel).await);
            let full = Duration::from_millis(500) * (1 << (n - 1));
            let waited = t0.elapsed();
            assert!(waited >= full / 2 && waited <= full, "{n}: {waited:?}");
            assert!(n < 3 || waited > prev / 2);
            prev = waited;
        }
        assert!(h.failure(None));
        assert_eq!(h.given_up().unwrap(), "8 consecutive failures");
        let h = host(1.0);
        assert!(h.failure(Some(Duration::from_secs(3600))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_past_the_limit_gives_up_at_once_without_a_pause() {
        for secs in [601, 315_360_000, u64::MAX] {
            let h = host(1.0);
            let t0 = Instant::now();
            assert!(h.failure(Some(Duration::from_secs(secs))));
            let why = h.given_up().unwrap();
            assert!(why.contains(&format!("asked to wait {secs} s")), "{why}");
            assert!(h.ready_at() <= Instant::now());
            drop(h.turn(&slots(), &CancellationToken::new()).await);
            assert_eq!(t0.elapsed(), Duration::ZERO, "{secs}");
        }
        // Up to the limit, it is waited for.
        let h = host(1.0);
        assert!(!h.failure(Some(Duration::from_secs(600))));
        let t0 = Instant::now();
        drop(h.turn(&slots(), &CancellationToken::new()).await);
        assert_eq!(t0.elapsed().as_secs(), 600);
    }

    #[tokio::test(start_paused = true)]
    async fn giving_up_wakes_a_request_waiting_out_a_pause() {
        let h = host(0.0);
        assert!(!h.failure(Some(Duration::from_secs(600))));
        let t0 = Instant::now();
        let h2 = h.clone();
        let waiter =
            tokio::spawn(
                async move { h2.turn(&slots(), &CancellationToken::new()).await.is_some() },
            );
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!waiter.is_finished());
        assert!(h.failure(Some(Duration::from_secs(3600))));
        assert!(waiter.await.unwrap());
        assert_eq!(t0.elapsed().as_secs(), 5);
    }

    #[test]
    fn absurd_rates_do_not_overflow_the_clock() {
        assert_eq!(period_of(1e-300), MAX_PERIOD);
        assert_eq!(period_of(0.5), Duration::from_secs(2));
        assert_eq!(period_of(f64::NAN), Duration::ZERO);
        let now = Instant::now();
        assert!(later(now, Duration::MAX) >= now);
    }

    #[tokio::test(start_paused = true)]
    async fn one_connection_at_a_time_and_cancellation() {
        let h = host(0.0);
        let cancel = CancellationToken::new();
        let held = h.turn(&slots(), &cancel).await.unwrap();
        let h2 = h.clone();
        let c2 = cancel.clone();
        let waiter = tokio::spawn(async move { h2.turn(&slots(), &c2).await.is_some() });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!waiter.is_finished());
        drop(held);
        assert!(waiter.await.unwrap());
        // A long pause is abandoned when the crawl is cancelled.
        h.failure(Some(Duration::from_secs(60)));
        let c3 = cancel.clone();
        let h3 = h.clone();
        let waiter = tokio::spawn(async move { h3.turn(&slots(), &c3).await.is_none() });
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.cancel();
        assert!(waiter.await.unwrap());
    }
}
