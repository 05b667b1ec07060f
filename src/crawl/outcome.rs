//! Step 4 of the crawl (see the module header of `crawl`): a finished
//! task's outcome, one function per kind — a page (record, links), a page
//! not modified, a page gone (tombstone), a failure, a sitemap.

use super::*;

impl Crawler {
    /// A task ended: its outcome, then, for the host's last page so far,
    /// word to the writer that records it holds back for the host
    /// (repeated-block) need wait no longer. `false` when the writer is
    /// gone.
    pub(super) async fn ended(
        &mut self,
        job: Job,
        done: Done,
        summary: &mut Summary,
        out: &mpsc::Sender<Output>,
        progress: &Progress,
    ) -> Result<bool, FrontierError> {
        let key = host_key(&job.entry.url);
        self.probes.remove(job.entry.url.as_str());
        let host = job.entry.url.host_str().map(str::to_string);
        if let Some(n) = self.busy.get_mut(&key) {
            *n = n.saturating_sub(1);
        }
        let mut sent = self.finish(job, done, summary, out, progress).await?;
        if sent
            && self.busy(&key) == 0
            && !self.frontier.has_queued(&key)
            && let Some(h) = host
        {
            self.undone.remove(&h);
            sent = out.send(Output::HostDone(h)).await.is_ok();
        }
        Ok(sent)
    }

    /// Step 4 for one finished task, by kind of outcome. Returns `false`
    /// when the writer is gone.
    async fn finish(
        &mut self,
        job: Job,
        done: Done,
        summary: &mut Summary,
        out: &mpsc::Sender<Output>,
        progress: &Progress,
    ) -> Result<bool, FrontierError> {
        let Job { entry, known } = job;
        let known = known.unwrap_or_default();
        match done {
            Done::Page(doc, links, exchange) => {
                // Every fetched response is archived, duplicates included.
                if let Some(x) = exchange
                    && out.send(Output::Archive(x)).await.is_err()
                {
                    return Ok(false);
                }
                self.count_dropped_links(&links, &entry.url, summary, progress);
                // A duplicate's links are followed too: the copy written
                // first (an alias naming this page as canonical) may lack them.
                self.queue_links(&entry, links).await?;
                self.finish_page(entry, doc, &known, summary, out).await
            }
            Done::NotModified(v) => {
                self.finish_not_modified(&entry, known, v, summary).await?;
                Ok(true)
            }
            Done::Sitemap(map) => {
                self.finish_sitemap(&entry, map, summary, progress).await?;
                Ok(true)
            }
            Done::Failed(e) if is_gone(&e) && known.emitted && known.record_id.is_some() => {
                self.finish_gone(entry, known, e, summary, out, progress)
                    .await
            }
            Done::Failed(e) => self.finish_failed(entry, e, summary, out, progress).await,
        }
    }

    /// Queues a page's in-scope links one level deeper, within `--max-depth`.
    /// All in one push: one statement for a store behind a network.
    async fn queue_links(
        &mut self,
        entry: &Entry,
        links: links::Found,
    ) -> Result<(), FrontierError> {
        let next_depth = entry.depth + 1;
        if self.cfg.max_depth.is_some_and(|m| next_depth > m) {
            return Ok(());
        }
        let entries: Vec<Entry> = links
            .urls
            .iter()
            .filter_map(|link| self.ctx.canon(link))
            .filter(|c| self.ctx.scope.link(c).is_ok())
            .map(|c| Entry::page(c, next_depth))
            .collect();
        if !entries.is_empty() {
            self.frontier.push_all(entries).await?;
        }
        Ok(())
    }

    /// A page cleaned: a duplicate of a record written (same canonical URL),
    /// unchanged since the last run, or a record for the writer.
    async fn finish_page(
        &mut self,
        entry: Entry,
        doc: Box<Document>,
        known: &Known,
        summary: &mut Summary,
        out: &mpsc::Sender<Output>,
    ) -> Result<bool, FrontierError> {
        self.learn(&doc).await?;
        let mut visit = visit_of(&doc);
        let keys: Vec<String> = std::iter::once(doc.url.as_str())
            .chain(doc.canonical_url.as_deref())
            .filter_map(|u| Url::parse(u).ok())
            .filter_map(|u| self.ctx.canon(&u))
            .map(String::from)
            .collect();
        if keys.iter().any(|k| self.emitted.contains(k)) {
            tracing::debug!(url = %doc.url, "duplicate record (same canonical URL)");
            summary.count(ErrorKind::Duplicate);
            // No record id: the page that owns it is the one written
            // (perhaps still on its way to the writer).
            visit.record_id = None;
            self.frontier.done(&entry.url, Some(&visit)).await?;
            return Ok(true);
        }
        self.emitted.extend(keys);
        tracing::debug!(url = %doc.url, depth = entry.depth, kind = ?doc.kind, "page");
        if !self.cfg.emit_all && known.content_hash.as_ref() == Some(&doc.content_hash) {
            tracing::debug!(url = %doc.url, "unchanged");
            summary.unchanged += 1;
            self.frontier.done(&entry.url, Some(&visit)).await?;
            return Ok(true);
        }
        summary.ok += 1;
        visit.emitted = true;
        let commit = Commit {
            url: entry.url,
            visit,
        };
        Ok(out
            .send(Output::Record(doc, Some(Box::new(commit))))
            .await
            .is_ok())
    }

    /// 304 to a conditional request: the page is as it was.
    async fn finish_not_modified(
        &mut self,
        entry: &Entry,
        known: Known,
        v: Validators,
        summary: &mut Summary,
    ) -> Result<(), FrontierError> {
        tracing::debug!(url = %entry.url, "not modified");
        if let Some(c) = self.ctx.canon(&entry.url) {
            self.emitted.insert(c.into());
        }
        summary.unchanged += 1;
        // The page's links were queued when it was last fetched: they are in
        // the frontier, due for revisit like any page.
        let visit = Visit {
            record_id: known.record_id,
            content_hash: known.content_hash,
            etag: v.etag.or(known.etag),
            last_modified: v.last_modified.or(known.last_modified),
            status: Some(304),
            at: Some(now_rfc3339()),
            emitted: false,
        };
        self.frontier.done(&entry.url, Some(&visit)).await
    }

    /// 404 / 410 of a page emitted before: a tombstone, once.
    async fn finish_gone(
        &mut self,
        entry: Entry,
        known: Known,
        e: FetchError,
        summary: &mut Summary,
        out: &mpsc::Sender<Output>,
        progress: &Progress,
    ) -> Result<bool, FrontierError> {
        let status = e.status;
        if known.tombstoned() {
            // Gone before, tombstone written then: nothing new.
            summary.unchanged += 1;
            let visit = Visit {
                record_id: known.record_id,
                status,
                at: Some(now_rfc3339()),
                ..Visit::default()
            };
            self.frontier.done(&entry.url, Some(&visit)).await?;
            return Ok(true);
        }
        let at = now_rfc3339();
        let id = known.record_id.unwrap_or_default();
        let url = canon::redact(&e.url);
        progress.line(&format!(
            "parkcrawl: {url}: gone ({}): tombstone written",
            e.message
        ));
        summary.deleted += 1;
        let tombstone = Tombstone {
            line_type: LineType::Tombstone,
            schema_version: SCHEMA_VERSION,
            id: id.clone(),
            url,
            deleted: true,
            deleted_at: at.clone(),
            status: status.unwrap_or(404),
        };
        // The content is gone with the page: a page that comes back is a
        // changed page, and gives a record again.
        let commit = Commit {
            url: entry.url,
            visit: Visit {
                record_id: Some(id),
                status,
                at: Some(at),
                emitted: true,
                ..Visit::default()
            },
        };
        Ok(out
            .send(Output::Tombstone(tombstone, Box::new(commit)))
            .await
            .is_ok())
    }

    /// A failure or a skip: counted, marked, one line on stderr and in the
    /// errors file (a duplicate or a cancelled fetch only in the trace).
    async fn finish_failed(
        &mut self,
        entry: Entry,
        e: FetchError,
        summary: &mut Summary,
        out: &mpsc::Sender<Output>,
        progress: &Progress,
    ) -> Result<bool, FrontierError> {
        summary.count(e.kind);
        self.frontier.failed(&entry.url, e.kind, e.status).await?;
        if matches!(e.kind, ErrorKind::Duplicate | ErrorKind::Cancelled) {
            tracing::debug!(url = %e.url, kind = %e.kind, "{}", e.message);
            return Ok(true);
        }
        let url = canon::redact(&e.url);
        let requested = (*e.url != entry.url).then(|| canon::redact(&entry.url));
        // A failure names its kind (as in the errors file); a skip's message
        // says why already.
        let verdict = if e.kind.is_skip() {
            "skipped:".to_string()
        } else {
            format!("failed ({}):", e.kind)
        };
        progress.line(&format!(
            "parkcrawl: {}: {verdict} {}",
            canon::shown(&url),
            e.message
        ));
        Ok(out
            .send(Output::Failure(Failure {
                url,
                kind: e.kind,
                status: e.status,
                message: e.message,
                at: now_rfc3339(),
                requested,
            }))
            .await
            .is_ok())
    }
}

/// What a cleaned page leaves in the frontier. The hash is that of the page
/// as cleaned, before the writer drops repeated blocks: whether a page
/// changed must not depend on how many pages of its host were seen since.
fn visit_of(doc: &Document) -> Visit {
    let fetch = doc.fetch.as_ref();
    Visit {
        record_id: Some(doc.id.clone()),
        content_hash: Some(doc.content_hash.clone()),
        etag: fetch.and_then(|f| f.etag.clone()),
        last_modified: fetch.and_then(|f| f.last_modified.clone()),
        status: fetch.and_then(|f| f.status),
        at: fetch.and_then(|f| f.fetched_at.clone()),
        emitted: false,
    }
}

/// A page that is no more: 404 Not Found or 410 Gone.
fn is_gone(e: &FetchError) -> bool {
    e.kind == ErrorKind::Http && matches!(e.status, Some(404 | 410))
}
