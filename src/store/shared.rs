//! The store shared by the crawl loop and the writer thread.

use std::sync::{Arc, Mutex, MutexGuard};

use url::Url;

use super::{Known, StateStore, Visit};
use crate::crawl::dust::Learned;
use crate::crawl::frontier::{Entry, Frontier, FrontierError};
use crate::crawl::sink::Ledger;
use crate::fetch::ErrorKind;
use crate::repeated::HostStats;

/// One store shared by the crawl loop (as its [`Frontier`]) and the writer
/// thread (as its [`Ledger`]). Each call holds the lock for one short
/// statement or transaction.
#[derive(Clone)]
pub struct SharedStore(Arc<Mutex<StateStore>>);

impl SharedStore {
    pub fn new(store: StateStore) -> SharedStore {
        SharedStore(Arc::new(Mutex::new(store)))
    }

    /// The store; a panic elsewhere while holding it cannot leave a
    /// half-done SQL transaction (SQLite rolls it back), so a poisoned lock
    /// is still safe to use.
    pub fn lock(&self) -> MutexGuard<'_, StateStore> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Frontier for SharedStore {
    fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        self.lock().push(entry)
    }

    fn pop(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Result<Option<Entry>, FrontierError> {
        self.lock().pop(ready)
    }

    fn waiting_hosts(&self) -> Vec<String> {
        self.lock().waiting_hosts()
    }

    fn done(&mut self, url: &Url, visit: Option<&Visit>) -> Result<(), FrontierError> {
        self.lock().mark_done(url, visit).map_err(Into::into)
    }

    fn failed(
        &mut self,
        url: &Url,
        kind: ErrorKind,
        status: Option<u16>,
    ) -> Result<(), FrontierError> {
        self.lock()
            .mark_failed(url, kind, status)
            .map_err(Into::into)
    }

    fn queued(&self) -> usize {
        self.lock().queued
    }

    fn has_queued(&self, host_key: &str) -> bool {
        self.lock().turn.iter().any(|h| h == host_key)
    }

    fn known(&self, url: &Url) -> Result<Option<Known>, FrontierError> {
        Ok(self.lock().known(url)?)
    }

    fn seen(&self, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.lock().has_url(url)?)
    }

    fn dust_rules(&self) -> Result<Vec<Learned>, FrontierError> {
        Ok(self.lock().load_dust()?)
    }

    fn save_dust(&mut self, rules: &[Learned]) -> Result<(), FrontierError> {
        Ok(self.lock().save_dust(rules)?)
    }
}

impl Ledger for SharedStore {
    fn seen_id(&mut self, id: &str, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.lock().seen_id(id, url)?)
    }

    fn written(
        &mut self,
        url: &Url,
        visit: &Visit,
        output_offset: Option<u64>,
    ) -> Result<(), FrontierError> {
        Ok(self.lock().commit_page(url, visit, output_offset)?)
    }

    fn save_repeated(&mut self, hosts: &[(&str, &HostStats)]) -> Result<(), FrontierError> {
        Ok(self.lock().save_repeated(hosts)?)
    }
}
