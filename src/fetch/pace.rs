//! A pace shared beyond this process: the hook a fleet of workers
//! (`--state postgres://…`) gives the fetcher so that every request to a
//! host, from any worker, keeps the host's interval. Awaited right before
//! each request is sent (robots.txt, retries and redirects included), after
//! the host's local turn; told of each Retry-After and Crawl-delay so that
//! they bind every worker. Without one (a single process: memory or
//! SQLite), the local turn is the whole of politeness, as before.

use std::time::Duration;

use async_trait::async_trait;

#[async_trait]
pub trait SharedPace: Send + Sync {
    /// Returns when a request to the host `key` (`host:port`) may be sent.
    async fn before_request(&self, key: &str);
    /// The host asked for a pause (429 / 503 with Retry-After).
    async fn retry_after(&self, key: &str, wait: Duration);
    /// The host's robots.txt gives this Crawl-delay (or none).
    async fn crawl_delay(&self, key: &str, delay: Option<Duration>);
}
