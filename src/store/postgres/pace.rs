//! The fetcher's shared pace (`fetch::pace::SharedPace`) on the hosts
//! table: before every request, the host's next slot is reserved in its
//! row ([`PgStore::reserve_slot`]) and the request waits until it, the
//! wait computed by the database's clock in the same statement, never the
//! worker's. So the gap between any two requests to a host, from any
//! workers, is at least its interval; robots.txt's Crawl-delay and a
//! Retry-After are written to the row and bind them all. The host's own
//! interval (`--rate`, the site rule's) is written the first time this
//! worker meets the host.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::PgStore;
use crate::fetch::RateFn;
use crate::fetch::host::period_of;
use crate::fetch::pace::SharedPace;

pub struct PgPace {
    store: PgStore,
    /// Requests per second for a host name.
    rate: RateFn,
    /// Host keys whose interval this worker has written.
    met: Mutex<HashSet<String>>,
}

impl PgPace {
    pub fn new(store: PgStore, rate: RateFn) -> PgPace {
        PgPace {
            store,
            rate,
            met: Mutex::new(HashSet::new()),
        }
    }

    /// Writes the host's interval the first time (which adds its row if a
    /// redirect brought a host no page was queued for).
    async fn meet(&self, key: &str) {
        let new = self
            .met
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string());
        if !new {
            return;
        }
        let name = key.rsplit_once(':').map_or(key, |(h, _)| h);
        let interval = period_of((self.rate)(name));
        if let Err(e) = self.store.set_interval(key, interval).await {
            tracing::warn!(host = %key, "could not write the host's interval: {e}");
            self.met
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(key);
        }
    }
}

#[async_trait]
impl SharedPace for PgPace {
    async fn before_request(&self, key: &str) {
        self.meet(key).await;
        match self.store.reserve_slot(key).await {
            Ok(slot) => {
                let wait = Duration::from_micros(u64::try_from(slot.wait_micros).unwrap_or(0));
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
            // The local turn still holds this worker to the host's rate;
            // the fleet's shared slot is what is missing, said once a time.
            Err(e) => tracing::warn!(host = %key, "no request slot from the store: {e}"),
        }
    }

    async fn retry_after(&self, key: &str, wait: Duration) {
        self.meet(key).await;
        if let Err(e) = self.store.set_retry_after(key, wait).await {
            tracing::warn!(host = %key, "could not write the host's Retry-After: {e}");
        }
    }

    async fn crawl_delay(&self, key: &str, delay: Option<Duration>) {
        self.meet(key).await;
        if let Err(e) = self.store.set_crawl_delay(key, delay).await {
            tracing::warn!(host = %key, "could not write the host's Crawl-delay: {e}");
        }
    }
}
