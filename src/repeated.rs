//! Cross-page boilerplate: blocks that recur on a large share of one host's
//! pages (`repeated-block` in `removed`). A stage after cleaning, pure and
//! synchronous like `clean`, but it needs many pages: `clean` with several
//! inputs feeds it in a first pass and filters in a second
//! (`crate::cli::clean`), the crawl feeds it as records reach the writer
//! (`crate::crawl::sink`, through a [`Gate`]).
//!
//! 1. **keys** ([`block_key`]): a block is known by a 64-bit hash of its kind
//!    and its whitespace-normalised text (an image by its `src`: a logo or
//!    banner on every page is boilerplate too);
//! 2. **statistics** ([`Stats::observe`]): per host, the pages seen and, per
//!    key, the number of distinct pages holding it. A page counts once per
//!    key, so a paragraph repeated within one page is not repeated content;
//! 3. **filter** ([`Stats::filter`]): once a host has
//!    [`min_pages`](RepeatedConfig::min_pages) pages, a block whose key is on
//!    at least [`share`](RepeatedConfig::share) of them is dropped, with two
//!    guards for real content: a heading goes only with its whole section,
//!    and a record is never emptied (see [`plan`] and [`Stats::filter`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::document::{self, Block, Document};

/// The rule name counted in `removed`.
pub const RULE: &str = "repeated-block";

/// Pages per bucket of the lossy count (see [`HostStats`]): a host's counts
/// are exact until it has this many pages, and off by at most one page in
/// this many after.
pub const BUCKET: u64 = 100;

/// When a block counts as repeated. Thresholds only: the statistics are raw
/// counts, so changing these needs no new statistics (a crawl state keeps
/// its counts across runs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RepeatedConfig {
    /// A host's blocks are judged only once it has this many pages. Below
    /// it, a share says little: with 4 pages, "half of them" is two, and
    /// two pages sharing a paragraph (an article and its print view, a
    /// notice and its follow-up quoting it) are not a template. From 5
    /// pages on, half means at least three.
    pub min_pages: u64,
    /// A block is repeated when it is on at least this share of the host's
    /// pages. Boilerplate sits on (nearly) every page of a template, but a
    /// host has several templates (articles, park profiles, listings), and
    /// a line of one template's chrome reaches only that template's share
    /// of the pages: a share near 1 would keep most of it. Lower, and real
    /// content shared by a series of pages (a policy paragraph quoted by
    /// many notices, one park's address in all its news) starts to go. Half
    /// is the middle ground: text on most pages of a host distinguishes none
    /// of them, so a search index loses nothing by its removal.
    pub share: f64,
}

impl Default for RepeatedConfig {
    fn default() -> Self {
        RepeatedConfig {
            min_pages: 5,
            share: 0.5,
        }
    }
}

/// The key of a block: a hash of its kind and its whitespace-normalised
/// text; for an image, its `src`. `None` for a block without text (an
/// image without `src`, an empty list): nothing to recognise it by.
pub fn block_key(block: &Block) -> Option<u64> {
    // The hash of `kind`, a zero byte and the normalised text: its words
    // joined by one space, the items of a list by a line break, the cells
    // of a row by a tab and the rows by a line break. Fed to the hasher
    // piece by piece, without building the text (the writer keys every
    // block of every record).
    let mut h = Sha256::new();
    let mut words = 0usize;
    let mut norm = |h: &mut Sha256, t: &str| {
        for (i, w) in t.split_whitespace().enumerate() {
            if i > 0 {
                h.update(b" ");
            }
            h.update(w.as_bytes());
            words += 1;
        }
    };
    let kind = match block {
        Block::Heading { .. } => "heading",
        Block::Paragraph { .. } => "paragraph",
        Block::Quote { .. } => "quote",
        Block::Image { .. } => "image",
        Block::List { .. } => "list",
        Block::Table { .. } => "table",
    };
    h.update(kind.as_bytes());
    h.update([0]);
    match block {
        Block::Heading { text } | Block::Paragraph { text } | Block::Quote { text } => {
            norm(&mut h, text)
        }
        Block::Image { src, .. } => norm(&mut h, src.as_deref().unwrap_or("")),
        // Item and cell boundaries stay: ["a b", "c"] is not ["a", "b c"].
        Block::List { items } => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    h.update(b"\n");
                }
                norm(&mut h, item);
            }
        }
        Block::Table { rows } => {
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    h.update(b"\n");
                }
                for (j, cell) in row.iter().enumerate() {
                    if j > 0 {
                        h.update(b"\t");
                    }
                    norm(&mut h, cell);
                }
            }
        }
    }
    // Only separators, or nothing: nothing to recognise the block by.
    if words == 0 {
        return None;
    }
    // A stable hash, not std's (whose algorithm may change between Rust
    // releases): a crawl state keeps these keys across runs.
    let d = h.finalize();
    Some(u64::from_le_bytes(d[..8].try_into().expect("8 bytes")))
}

/// What the filter needs to know of a block: its key, and whether it is a
/// heading (the heading rule of [`plan`]). A record's blocks as these are
/// all `clean`'s second pass reads to decide whether the record changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockKey {
    pub key: Option<u64>,
    pub heading: bool,
}

pub fn block_keys(blocks: &[Block]) -> Vec<BlockKey> {
    blocks
        .iter()
        .map(|b| BlockKey {
            key: block_key(b),
            heading: matches!(b, Block::Heading { .. }),
        })
        .collect()
}

/// The distinct keys of a page's blocks, sorted: what the page contributes
/// to its host's statistics, each key once however often the page repeats
/// the block.
pub fn distinct(blocks: &[BlockKey]) -> Vec<u64> {
    let mut keys: Vec<u64> = blocks.iter().filter_map(|b| b.key).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// [`distinct`] of the blocks' keys.
pub fn page_keys(blocks: &[Block]) -> Vec<u64> {
    distinct(&block_keys(blocks))
}

/// How many pages of a host hold one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Pages seen holding the key since it was (last) tracked: a lower
    /// bound of the true count.
    pub pages: u32,
    /// Pages that may have held it before it was tracked (the lossy
    /// count's error): the true count is at most `pages + slack`.
    pub slack: u32,
}

/// One host's statistics, in bounded memory: a lossy count (Manku and
/// Motwani, 2002) with buckets of [`BUCKET`] pages. At the end of each
/// bucket, keys whose count could not exceed the number of buckets so far
/// are forgotten. A key on a share `s` of the pages is never forgotten when
/// `s` exceeds 1/[`BUCKET`], and its count is short by at most one page in
/// [`BUCKET`]; the one-off paragraphs of every article, which would make
/// the table grow with the input, are forgotten. Below [`BUCKET`] pages
/// nothing is forgotten: the counts are exact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostStats {
    pub pages: u64,
    pub keys: HashMap<u64, Tally>,
}

impl HostStats {
    /// Adds one page holding `keys` (distinct: [`page_keys`]).
    pub fn observe(&mut self, keys: &[u64]) {
        self.pages += 1;
        let bucket = self.pages.div_ceil(BUCKET);
        for &k in keys {
            let t = self.keys.entry(k).or_insert(Tally {
                pages: 0,
                slack: (bucket - 1).min(u32::MAX as u64) as u32,
            });
            t.pages = t.pages.saturating_add(1);
        }
        if self.pages.is_multiple_of(BUCKET) {
            self.keys
                .retain(|_, t| u64::from(t.pages) + u64::from(t.slack) > bucket);
        }
    }

    /// Whether `key` is on at least `cfg.share` of this host's pages, and
    /// the host has enough pages to tell. The count used is the lower
    /// bound: when in doubt, the block stays.
    pub fn repeated(&self, key: u64, cfg: &RepeatedConfig) -> bool {
        self.pages >= cfg.min_pages.max(1)
            && self.keys.get(&key).is_some_and(|t| {
                // The small tolerance keeps 0.3 × 10 (3.0000000000000004)
                // from needing 4 pages.
                f64::from(t.pages) >= cfg.share * self.pages as f64 - 1e-9
            })
    }
}

/// Which of `blocks` go, given which are `repeated`. A repeated block goes,
/// but a heading only with its section: the blocks after it up to the next
/// heading must all go too. Park profiles share headings (园区简介, 交通区位)
/// with different text beneath: the heading stays with its text. A heading
/// with nothing beneath it (directly followed by another heading) stands or
/// falls with the next heading, as its parent; at the end of the page it
/// introduces nothing and goes when repeated (a 扫一扫关注 promoted to a
/// heading).
pub fn plan(blocks: &[BlockKey], repeated: &[bool]) -> Vec<bool> {
    debug_assert_eq!(blocks.len(), repeated.len());
    let mut drop = vec![false; blocks.len()];
    // From the end: whether every block from here to the next heading goes,
    // and whether that next heading (if any) goes.
    let mut section_goes = true;
    let mut section_empty = true;
    let mut next_heading_goes = true;
    for i in (0..blocks.len()).rev() {
        if blocks[i].heading {
            let goes = repeated[i]
                && if section_empty {
                    next_heading_goes
                } else {
                    section_goes
                };
            drop[i] = goes;
            next_heading_goes = goes;
            section_goes = true;
            section_empty = true;
        } else {
            drop[i] = repeated[i];
            section_goes &= repeated[i];
            section_empty = false;
        }
    }
    drop
}

/// The statistics of every host of a run (or, with `--state`, of every
/// crawl of the state).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub cfg: RepeatedConfig,
    hosts: HashMap<String, HostStats>,
}

impl Stats {
    pub fn new(cfg: RepeatedConfig) -> Stats {
        Stats {
            cfg,
            hosts: HashMap::new(),
        }
    }

    /// Adds one page of `host` holding `keys` (distinct: [`page_keys`]).
    pub fn observe(&mut self, host: &str, keys: &[u64]) {
        match self.hosts.get_mut(host) {
            Some(h) => h.observe(keys),
            None => self
                .hosts
                .entry(host.to_string())
                .or_default()
                .observe(keys),
        }
    }

    /// Adds a record's page. A record without a host (a saved file read
    /// without a URL) belongs to no host and is not counted.
    pub fn observe_doc(&mut self, doc: &Document) {
        if let Some(host) = &doc.site.host {
            self.observe(host, &page_keys(&doc.blocks));
        }
    }

    pub fn host(&self, host: &str) -> Option<&HostStats> {
        self.hosts.get(host)
    }

    /// Replaces a host's statistics (loaded from a crawl state).
    pub fn set_host(&mut self, host: String, stats: HostStats) {
        self.hosts.insert(host, stats);
    }

    /// Pages seen of `host`.
    pub fn pages(&self, host: &str) -> u64 {
        self.hosts.get(host).map_or(0, |h| h.pages)
    }

    /// Whether `host` has enough pages for its blocks to be judged.
    pub fn qualifies(&self, host: &str) -> bool {
        self.pages(host) >= self.cfg.min_pages.max(1)
    }

    /// Whether `key` is repeated on `host` ([`HostStats::repeated`]).
    pub fn is_repeated(&self, host: &str, key: u64) -> bool {
        self.hosts
            .get(host)
            .is_some_and(|h| h.repeated(key, &self.cfg))
    }

    /// Which of a record's `blocks` go ([`plan`]), or `None` when none do
    /// and the record stays as it is. `more_content`: the record has
    /// `items` or `fields`.
    ///
    /// A record is never emptied: when every block would go and the record
    /// has no `items` or `fields` either, it is kept as it is. A page made
    /// only of blocks found on most pages of its host is not a page with
    /// boilerplate around its content; it is itself a repeated page (the
    /// same notice at many URLs, a soft-404, a print view). Its record says
    /// what the page says; an empty record would say nothing, and
    /// `content_hash` already lets a consumer drop the copies. A listing
    /// (`items`) or a park profile (`fields`) whose every block is chrome
    /// keeps its content, so its blocks do go.
    pub fn drops(
        &self,
        host: Option<&str>,
        blocks: &[BlockKey],
        more_content: bool,
    ) -> Option<Vec<bool>> {
        let host = host?;
        if !self.qualifies(host) {
            return None;
        }
        let h = self.hosts.get(host)?;
        let repeated: Vec<bool> = blocks
            .iter()
            .map(|b| b.key.is_some_and(|k| h.repeated(k, &self.cfg)))
            .collect();
        if !repeated.contains(&true) {
            return None;
        }
        let drop = plan(blocks, &repeated);
        let n = drop.iter().filter(|d| **d).count();
        if n == 0 || (n == blocks.len() && !more_content) {
            return None;
        }
        Some(drop)
    }

    /// Drops the repeated blocks of `doc` ([`drops`](Self::drops), then
    /// [`apply`]). Returns how many went.
    pub fn filter(&self, doc: &mut Document) -> u64 {
        self.filter_keyed(doc, &block_keys(&doc.blocks))
    }

    /// [`filter`](Self::filter) with the keys of `doc`'s blocks known.
    fn filter_keyed(&self, doc: &mut Document, keys: &[BlockKey]) -> u64 {
        let more = !doc.items.is_empty() || !doc.fields.is_empty();
        match self.drops(doc.site.host.as_deref(), keys, more) {
            Some(drop) => apply(doc, &drop),
            None => 0,
        }
    }
}

/// Drops the blocks of `doc` that `drop` marks (one flag per block), then
/// recomputes its `text` and `content_hash` and adds the count to
/// `removed["repeated-block"]`. Returns how many went.
pub fn apply(doc: &mut Document, drop: &[bool]) -> u64 {
    debug_assert_eq!(doc.blocks.len(), drop.len());
    let mut d = drop.iter();
    doc.blocks.retain(|_| !d.next().copied().unwrap_or(false));
    let n = drop.iter().filter(|d| **d).count() as u64;
    if n > 0 {
        doc.text = document::text_of_blocks(&doc.blocks);
        doc.content_hash = document::content_hash(&doc.text);
        *doc.removed.entry(RULE.to_string()).or_default() += n;
    }
    n
}

/// What a run removed, for its summary line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Removed {
    pub blocks: u64,
    pub records: u64,
    /// Hosts with at least one block removed, with their counts.
    pub hosts: BTreeMap<String, u64>,
}

impl Removed {
    pub fn add(&mut self, doc: &Document, blocks: u64) {
        if blocks == 0 {
            return;
        }
        self.blocks += blocks;
        self.records += 1;
        if let Some(h) = &doc.site.host {
            *self.hosts.entry(h.clone()).or_default() += blocks;
        }
    }

    /// `parkcrawl: 24 repeated block(s) removed from 8 record(s) of 1 host(s)`,
    /// or `None` when nothing was removed.
    pub fn summary(&self) -> Option<String> {
        (self.blocks > 0).then(|| {
            format!(
                "parkcrawl: {} repeated block(s) removed from {} record(s) of {} host(s) (`repeated-block`; --keep-repeated keeps them)",
                self.blocks,
                self.records,
                self.hosts.len()
            )
        })
    }
}

/// The crawl's side: records are held back per host until the host has
/// [`min_pages`](RepeatedConfig::min_pages) pages (until then the filter
/// could not act on them), then released filtered with the statistics of
/// that moment; later records of the host pass at once, filtered. `T` is
/// what travels with a record (its commit): a held record is neither
/// written nor committed, so a crawl killed meanwhile fetches it again.
pub struct Gate<T> {
    pub stats: Stats,
    /// Records waiting for their host to have enough pages, by host.
    held: BTreeMap<String, Vec<(Document, T)>>,
    /// Hosts whose statistics changed since [`take_settled`](Self::take_settled).
    changed: HashSet<String>,
    pub removed: Removed,
}

impl<T> Gate<T> {
    pub fn new(stats: Stats) -> Gate<T> {
        Gate {
            stats,
            held: BTreeMap::new(),
            changed: HashSet::new(),
            removed: Removed::default(),
        }
    }

    /// Counts `doc`'s page and returns what may be written now, in order:
    /// nothing (held), `doc` alone, or the records of its host held so far
    /// followed by `doc`, each filtered.
    pub fn admit(&mut self, mut doc: Document, tag: T) -> Vec<(Document, T)> {
        let Some(host) = doc.site.host.clone() else {
            return vec![(doc, tag)];
        };
        // Keyed once: for the statistics and, when it passes now, the filter.
        let keys = block_keys(&doc.blocks);
        self.stats.observe(&host, &distinct(&keys));
        if !self.changed.contains(&host) {
            self.changed.insert(host.clone());
        }
        if !self.stats.qualifies(&host) {
            self.held.entry(host).or_default().push((doc, tag));
            return Vec::new();
        }
        let held = self.held.remove(&host).unwrap_or_default();
        let mut out = self.release(held);
        let n = self.stats.filter_keyed(&mut doc, &keys);
        self.removed.add(&doc, n);
        out.push((doc, tag));
        out
    }

    /// The records held for `host`, filtered: its pages have run out, so no
    /// more statistics will come for them.
    pub fn host_done(&mut self, host: &str) -> Vec<(Document, T)> {
        let out = self.held.remove(host).unwrap_or_default();
        self.release(out)
    }

    /// Every record still held (the crawl ends), filtered, by host.
    pub fn finish(&mut self) -> Vec<(Document, T)> {
        let out = std::mem::take(&mut self.held)
            .into_values()
            .flatten()
            .collect();
        self.release(out)
    }

    /// Whether records of `host` are held back now.
    pub fn holding(&self, host: &str) -> bool {
        self.held.contains_key(host)
    }

    /// The hosts whose statistics changed since the last call and hold no
    /// record back: every page their statistics count has been released.
    /// A crawl state saves these (`crate::crawl::sink`): statistics that
    /// counted a held page, saved, then a kill, and the page fetched again
    /// would count twice. A host holding records stays changed for a later
    /// call.
    pub fn take_settled(&mut self) -> Vec<String> {
        let (hold, settled): (HashSet<String>, HashSet<String>) = std::mem::take(&mut self.changed)
            .into_iter()
            .partition(|h| self.held.contains_key(h));
        self.changed = hold;
        let mut settled: Vec<String> = settled.into_iter().collect();
        settled.sort();
        settled
    }

    fn release(&mut self, mut out: Vec<(Document, T)>) -> Vec<(Document, T)> {
        for (doc, _) in &mut out {
            let n = self.stats.filter(doc);
            self.removed.add(doc, n);
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests;
