//! Step 2 and 4 for learned duplicate rules ([`super::dust`]): what a page's
//! canonical link teaches, which popped pages are variants (skipped), and
//! which are probes of a rule not yet confirmed.
//!
//! A probe is a page that an unconfirmed rule (a candidate with at least
//! one confirming page) would rewrite to a URL already fetched or queued:
//! fetching it confirms or retracts the rule. One probe per host is in
//! flight at a time; the host's other such pages are held back meanwhile
//! and looked at again after each task, so that with many requests in
//! flight per host the variants found while a rule is being learned are
//! not all fetched before it is confirmed. A held page is never dropped:
//! it is fetched, skipped as a variant once the rule is confirmed, fetched
//! once the rule is retracted, or counted as not fetched at the end.

use url::Url;

use super::dust;
use super::frontier::{Entry, FrontierError};
use super::report::Summary;
use super::sink::Failure;
use super::{Crawler, Tasks, canon};
use crate::document::Document;
use crate::fetch::{ErrorKind, host_key, now_rfc3339};

impl Crawler {
    /// A page that the host's learned rules rewrite to a URL already fetched
    /// or queued (or written as a record's canonical) is a variant of it:
    /// not fetched. A rewrite to a URL not met yet is not trusted that far:
    /// the page may be the true one (a section `/news/` on a host whose
    /// articles drop their slash), and fetching it may retract the rule.
    pub(super) async fn variant(
        &mut self,
        entry: &Entry,
        summary: &mut Summary,
    ) -> Result<Option<Failure>, FrontierError> {
        let Some((to, used)) = self.dust.rewrite(&entry.url) else {
            return Ok(None);
        };
        let Some(to) = self.ctx.canon(&to) else {
            return Ok(None);
        };
        if to == entry.url || !self.met(&to).await? {
            return Ok(None);
        }
        self.frontier
            .failed(&entry.url, ErrorKind::Duplicate, None)
            .await?;
        summary.count(ErrorKind::Duplicate);
        let rules: Vec<String> = used.iter().map(dust::Rewrite::describe).collect();
        let message = format!(
            "a variant of {} (learned rule: {}), already fetched or queued",
            canon::shown(&canon::redact(&to)),
            rules.join(", ")
        );
        tracing::debug!(url = %entry.url, "{message}");
        Ok(Some(Failure {
            url: canon::redact(&entry.url),
            kind: ErrorKind::Duplicate,
            status: None,
            message,
            at: now_rfc3339(),
            requested: None,
        }))
    }

    /// What the page's canonical link teaches of its host's URLs.
    pub(super) async fn learn(&mut self, doc: &Document) -> Result<(), FrontierError> {
        let canon = |s: &str| Url::parse(s).ok().and_then(|u| self.ctx.canon(&u));
        let (Some(url), Some(canonical)) = (
            canon(&doc.url),
            doc.canonical_url.as_deref().and_then(canon),
        ) else {
            return Ok(());
        };
        let changed = self.dust.observe(&url, &canonical);
        if changed.is_empty() {
            return Ok(());
        }
        self.frontier.save_dust(&changed).await
    }

    /// Whether a URL is already fetched, queued or written (as a record's
    /// URL or canonical).
    async fn met(&self, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.emitted.contains(url.as_str()) || self.frontier.seen(url).await?)
    }

    /// Whether `entry` would probe an unconfirmed rule.
    async fn is_probe(&self, entry: &Entry) -> Result<bool, FrontierError> {
        for to in self.dust.candidate_rewrites(&entry.url) {
            if let Some(to) = self.ctx.canon(&to)
                && to != entry.url
                && self.met(&to).await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A probe: `false` when it may go now (it is then counted as one in
    /// flight, and the caller starts it), `true` when it was held back
    /// behind its host's probe in flight.
    pub(super) async fn hold_as_probe(&mut self, entry: &Entry) -> Result<bool, FrontierError> {
        if !self.is_probe(entry).await? {
            return Ok(false);
        }
        let key = host_key(&entry.url);
        if self.probes.values().any(|k| *k == key) {
            self.held.push_back(entry.clone());
            return Ok(true);
        }
        self.probes.insert(entry.url.to_string(), key);
        Ok(false)
    }

    /// Looks again at the pages held back: skipped as variants of a rule
    /// confirmed since, started when the rule was retracted (or when they
    /// may go as their host's probe), held on otherwise.
    pub(super) async fn release_held(
        &mut self,
        tasks: &mut Tasks,
        summary: &mut Summary,
    ) -> Result<Vec<Failure>, FrontierError> {
        let mut skipped = Vec::new();
        let now = tokio::time::Instant::now();
        // Nothing to look at again for a host whose probe is still out,
        // unless a rule changed since: a slow probe must not make every
        // turn of the loop query the frontier for each page held.
        let changed = self.dust.changes() != self.held_at;
        self.held_at = self.dust.changes();
        for entry in std::mem::take(&mut self.held) {
            let key = host_key(&entry.url);
            if !changed && self.probes.values().any(|k| *k == key) {
                self.held.push_back(entry);
                continue;
            }
            if let Some(skip) = self.variant(&entry, summary).await? {
                skipped.push(skip);
                continue;
            }
            let room = self.budget_left()
                && tasks.set.len() < self.cfg.max_tasks
                && self.host_ready(&key, now);
            if !room {
                self.held.push_back(entry);
            } else if !self.hold_as_probe(&entry).await? {
                self.start(tasks, entry).await?;
            }
        }
        Ok(skipped)
    }
}
