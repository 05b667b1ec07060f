//! Step 3 of the crawl (see the module header of `crawl`): one entry
//! fetched, then decoded, cleaned and its links found on a cleaner thread
//! (one parse for both), or a sitemap parsed.

use super::*;

/// Step 3: one entry, fetched and processed.
pub(super) async fn work(ctx: Arc<Ctx>, job: Job, validators: Validators) -> (Job, Done) {
    let done = match process(&ctx, &job.entry, &validators).await {
        Ok(d) => d,
        Err(e) => Done::Failed(e),
    };
    (job, done)
}

async fn process(
    ctx: &Arc<Ctx>,
    entry: &Entry,
    validators: &Validators,
) -> Result<Done, FetchError> {
    if !ctx.claim(&entry.url) {
        return Err(FetchError::new(
            ErrorKind::Duplicate,
            &entry.url,
            "already fetched (a redirect led there)",
        ));
    }
    let hop = |u: &Url| -> Result<(), FetchError> {
        // A seed that redirects to another host (http://a.cn → www.a.cn)
        // brings that host into the crawl.
        if entry.depth == 0 && entry.kind == EntryKind::Page && !ctx.scope.origin_in_scope(u) {
            ctx.scope.adopt(u);
        }
        ctx.scope.hop(u).map_err(|why| {
            FetchError::new(
                ErrorKind::OutOfScope,
                u,
                format!("redirect out of scope: {why}"),
            )
        })?;
        if !ctx.claim(u) {
            return Err(FetchError::new(
                ErrorKind::Duplicate,
                u,
                "redirect to a page already fetched",
            ));
        }
        Ok(())
    };
    let want = match entry.kind {
        EntryKind::Page => Want::Page,
        EntryKind::Sitemap => Want::Sitemap,
    };
    let fetched = ctx
        .fetcher
        .fetch_if_changed(&entry.url, want, validators, &hop, &ctx.stop)
        .await?;
    if fetched.status == 304 {
        return Ok(Done::NotModified(Validators {
            etag: fetched.etag,
            last_modified: fetched.last_modified,
        }));
    }
    let exchange = (ctx.archive && entry.kind == EntryKind::Page).then(|| archived(&fetched));
    on_cleaner(ctx, fetched, entry.kind, exchange).await
}

/// The exchange as the WARC keeps it.
fn archived(fetched: &Fetched) -> Box<OwnedExchange> {
    Box::new(OwnedExchange {
        url: fetched.url.to_string(),
        date: fetched.fetched_at.clone(),
        ip: fetched.ip.clone(),
        request_headers: fetched.request_headers.clone(),
        status: fetched.status,
        reason: fetched.reason.clone(),
        response_headers: fetched.response_headers.clone(),
        body: fetched.body.clone(),
    })
}

/// A fetched page cleaned (or a sitemap parsed) on one of the crawl's
/// cleaner threads, once one is free. A panic there is this page's error
/// (`internal`), caught on that thread itself so the hook prints nothing
/// of its own.
async fn on_cleaner(
    ctx: &Ctx,
    fetched: Fetched,
    kind: EntryKind,
    exchange: Option<Box<OwnedExchange>>,
) -> Result<Done, FetchError> {
    let url = fetched.url.clone();
    let rules = ctx.rules.clone();
    let joined = ctx
        .cleaners
        .run(move || {
            isolate::page(|| match kind {
                EntryKind::Page => {
                    page(fetched, &rules).map(|(d, l)| Done::Page(Box::new(d), l, exchange))
                }
                EntryKind::Sitemap => {
                    sitemap::parse(&fetched.body, &fetched.url).map(Done::Sitemap)
                }
            })
        })
        .await;
    match joined {
        Ok(Ok(Ok(done))) => Ok(done),
        Ok(Ok(Err(msg))) => Err(FetchError::new(ErrorKind::Content, &url, msg)),
        Ok(Err(p)) => Err(FetchError::new(ErrorKind::Internal, &url, p.to_string())),
        Err(cleaners::Unavailable(e)) => Err(FetchError::new(
            ErrorKind::Internal,
            &url,
            format!("internal error: {e}"),
        )),
    }
}

/// Decode, clean and find links: synchronous, on a cleaner thread.
pub fn page(f: Fetched, rules: &RuleSet) -> Result<(Document, links::Found), String> {
    let url = f.url.clone();
    let input = decode::Input {
        name: url.to_string(),
        bytes: f.body,
        url: Some(url.clone()),
        content_type: f.content_type,
        fetch: Some(decode::FetchMeta {
            status: Some(f.status),
            fetched_at: Some(f.fetched_at),
            etag: f.etag,
            last_modified: f.last_modified,
        }),
    };
    let decoded = decode::decode(input).map_err(|e| e.to_string())?;
    // One scan and one parse serve both: links are read from the tree the
    // cleaner parsed, after the pre-parse scan that bounds attributes and
    // names (220,000 attributes on one tag cost html5ever quadratic time).
    // The scan keeps `<a>`, `<area>`, `<base>` and `<meta>` as they are.
    let prefiltered = clean::prefiltered(&decoded, rules).map_err(|e| e.to_string())?;
    let parsed = clean::parse(prefiltered).map_err(|e| e.to_string())?;
    let doc = clean::clean_parsed(&decoded, rules, &parsed);
    let found = links::of_tree(&parsed.html, &url);
    Ok((doc, found))
}
