//! The store shared by the crawl loop and the writer thread.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use url::Url;

use super::{Known, StateStore, Visit};
use crate::crawl::dust::Learned;
use crate::crawl::frontier::{Entry, Frontier, FrontierError};
use crate::crawl::sink::{Landed, Ledger, Line};
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

// Each call is synchronous inside (SQLite): the futures are ready at once.
#[async_trait]
impl Frontier for SharedStore {
    async fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        self.lock().push(entry)
    }

    async fn pop(
        &mut self,
        ready: &mut (dyn for<'k> FnMut(&'k str) -> bool + Send),
    ) -> Result<Option<Entry>, FrontierError> {
        self.lock().pop(ready)
    }

    fn waiting_hosts(&self) -> Vec<String> {
        self.lock().waiting_hosts()
    }

    async fn done(&mut self, url: &Url, visit: Option<&Visit>) -> Result<(), FrontierError> {
        self.lock().mark_done(url, visit).map_err(Into::into)
    }

    async fn failed(
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

    async fn known(&self, url: &Url) -> Result<Option<Known>, FrontierError> {
        Ok(self.lock().known(url)?)
    }

    async fn seen(&self, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.lock().has_url(url)?)
    }

    async fn dust_rules(&self) -> Result<Vec<Learned>, FrontierError> {
        Ok(self.lock().load_dust()?)
    }

    async fn save_dust(&mut self, rules: &[Learned]) -> Result<(), FrontierError> {
        Ok(self.lock().save_dust(rules)?)
    }
}

#[async_trait]
impl Ledger for SharedStore {
    async fn seen_id(&mut self, id: &str, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.lock().seen_id(id, url)?)
    }

    /// The record's line is in the output file already (up to
    /// `output_offset`): the SQLite state keeps no records of its own.
    async fn written(
        &mut self,
        url: &Url,
        visit: &Visit,
        output_offset: Option<u64>,
        _line: Option<Line<'_>>,
    ) -> Result<Landed, FrontierError> {
        self.lock().commit_page(url, visit, output_offset)?;
        Ok(Landed::Written)
    }

    async fn save_repeated(&mut self, hosts: &[(&str, &HostStats)]) -> Result<(), FrontierError> {
        Ok(self.lock().save_repeated(hosts)?)
    }
}
