//! The crawl loop's bounded steps (issue 11): seeds and sitemaps queued
//! within the [`sitemap`] limits, a sitemap's pages within `--max-pages`,
//! the links [`links`] dropped counted, and each limit said once a run.
//! Part of the loop in `mod.rs`, kept apart so that file stays readable.

use url::Url;

use super::frontier::{Entry, FrontierError};
use super::report::{Progress, Summary};
use super::{Crawler, canon, links, sitemap};
use crate::fetch::{MAX_URL_LEN, host_key};

/// A sitemap's pages are queued this many at a time.
const SITEMAP_BATCH: usize = 500;

impl Crawler {
    /// Step 1: the seeds and sitemaps given. A resumed crawl has them
    /// already: pushing a known URL is a no-op.
    pub(super) async fn queue_seeds(
        &mut self,
        summary: &mut Summary,
        progress: &Progress,
    ) -> Result<(), FrontierError> {
        for s in self.cfg.seeds.clone() {
            match self.ctx.canon(&s) {
                Some(u) => _ = self.frontier.push(Entry::page(u, 0)).await?,
                None => too_long_seed(&s, progress),
            }
        }
        for s in self.cfg.sitemaps.clone() {
            match self.ctx.canon(&s) {
                Some(u) => {
                    self.queue_sitemap(Entry::sitemap(u), summary, progress)
                        .await?
                }
                None => too_long_seed(&s, progress),
            }
        }
        Ok(())
    }

    /// Queues a sitemap within its host's budget and the nesting limit; a
    /// refused one is counted (and said once a run).
    pub(super) async fn queue_sitemap(
        &mut self,
        entry: Entry,
        summary: &mut Summary,
        progress: &Progress,
    ) -> Result<(), FrontierError> {
        let key = host_key(&entry.url);
        match self.sitemaps.allows(&key, entry.depth) {
            Ok(()) => {
                if self.frontier.push(entry).await? {
                    self.sitemaps.count(&key);
                }
            }
            Err(why) => {
                summary.sitemaps_refused += 1;
                let (tag, what) = why.explain(&key, self.cfg.max_sitemaps);
                self.note(tag, &what, &entry.url, progress);
            }
        }
        Ok(())
    }

    /// Step 4 for a sitemap: its pages (as many as `--max-pages` can still
    /// reach) and its child sitemaps (within the budget) are queued.
    pub(super) async fn finish_sitemap(
        &mut self,
        entry: &Entry,
        map: sitemap::Sitemap,
        summary: &mut Summary,
        progress: &Progress,
    ) -> Result<(), FrontierError> {
        tracing::info!(url = %entry.url, pages = map.pages.len(), sitemaps = map.sitemaps.len(), truncated = map.truncated, "sitemap read");
        if map.truncated {
            let what = format!(
                "a sitemap lists more than {} URLs; the rest is not read",
                sitemap::MAX_ENTRIES
            );
            self.note("sitemap-long", &what, &entry.url, progress);
        }
        // Pages past what --max-pages can fetch are not queued: a sitemap
        // of a million URLs must not fill the frontier for a crawl of ten.
        let mut room = self
            .cfg
            .max_pages
            .map(|m| m.saturating_sub(self.pages_started + self.frontier.queued() as u64));
        // In batches (one statement each for a store behind a network), of
        // at most the room left: a batch cannot overshoot the budget, so
        // the pages queued are those one push at a time would queue.
        let mut i = 0;
        while i < map.pages.len() {
            if self.ctx.stop.is_cancelled() {
                // Left "fetching" in a resumable frontier: read again on
                // the next run, none of its pages lost.
                return Ok(());
            }
            if room == Some(0) {
                summary.unfetched += (map.pages.len() - i) as u64;
                break;
            }
            let take = room.map_or(SITEMAP_BATCH, |r| r.min(SITEMAP_BATCH as u64) as usize);
            let end = (i + take).min(map.pages.len());
            let batch: Vec<Entry> = map.pages[i..end]
                .iter()
                .filter_map(|u| self.ctx.canon(u))
                .filter(|c| self.ctx.scope.link(c).is_ok())
                .map(|c| Entry::page(c, 0))
                .collect();
            i = end;
            if batch.is_empty() {
                continue;
            }
            let added = self.frontier.push_all(batch).await?;
            if let Some(r) = &mut room {
                *r = r.saturating_sub(added as u64);
            }
        }
        for u in map.sitemaps {
            if self.ctx.stop.is_cancelled() {
                return Ok(());
            }
            if let Some(c) = self.ctx.canon(&u)
                && self.ctx.scope.hop(&c).is_ok()
            {
                let child = Entry::sitemap_at(c, entry.depth + 1);
                Box::pin(self.queue_sitemap(child, summary, progress)).await?;
            }
        }
        self.frontier.done(&entry.url, None).await
    }

    /// Counts the links a page's discovery dropped; the first time a run
    /// drops any, says so.
    pub(super) fn count_dropped_links(
        &mut self,
        found: &links::Found,
        page: &Url,
        summary: &mut Summary,
        progress: &Progress,
    ) {
        summary.long_links += found.too_long as u64;
        summary.surplus_links += found.over_cap as u64;
        if found.too_long > 0 {
            let what = format!("links longer than {MAX_URL_LEN} bytes are not followed");
            self.note("long-links", &what, page, progress);
        }
        if found.over_cap > 0 {
            let what = format!("at most {} links of a page are followed", links::MAX_LINKS);
            self.note("links-cap", &what, page, progress);
        }
    }

    /// One stderr line the first time a limit is met in this run (`tag`);
    /// the summary counts every time.
    fn note(&mut self, tag: &'static str, what: &str, at: &Url, progress: &Progress) {
        if self.noted.insert(tag) {
            progress.line(&format!(
                "parkcrawl: note: {what} (first at {}; counted in the summary)",
                canon::shown(&canon::redact(at))
            ));
        }
    }
}

/// The one URL given that canonicalisation refuses (other than by scheme,
/// which the command line checks): one longer than [`MAX_URL_LEN`], from a
/// site rule's seeds.
fn too_long_seed(url: &Url, progress: &Progress) {
    progress.line(&format!(
        "parkcrawl: {}: not crawled: longer than {MAX_URL_LEN} bytes",
        canon::shown(&canon::redact(url))
    ));
}
