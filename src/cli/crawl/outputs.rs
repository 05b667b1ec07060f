//! The files a crawl writes, opened before it starts: records (in any
//! `--format`), `--errors`, `--warc`, and the `--state` store with its
//! output repair and the repeated-block statistics it keeps.

use super::*;

/// The output files of a run, opened: created afresh, or with `--state`
/// appended to after cutting what a killed run left half-written.
pub(super) struct Outputs {
    pub(super) records: RecordWriter,
    pub(super) errors: Option<JsonlWriter>,
    pub(super) archive: Option<sink::Archive>,
}

impl Outputs {
    pub(super) fn open(args: &CrawlArgs, opts: Options, resume: bool) -> Result<Outputs, Refused> {
        let stream = args.output.as_deref().filter(|_| !opts.format.is_dir());
        let records = match args.output.as_deref().filter(|_| opts.format.is_dir()) {
            Some(dir) => records_dir(opts, dir)?,
            None => RecordWriter::stream(opts, open_jsonl(stream, "stdout", resume)?, stream)
                .map_err(|e| Refused::new("--format", e))?,
        };
        let errors = match args.errors.as_deref() {
            Some(p) => Some(open_jsonl(Some(p), "--errors", resume)?),
            None => None,
        };
        let archive = match args.warc.as_deref() {
            Some(p) => Some(open_warc(p, resume).map_err(|e| Refused::new(p.display(), e))?),
            None => None,
        };
        Ok(Outputs {
            records,
            errors,
            archive,
        })
    }
}

/// `--format` of a directory kind: one file per page under `dir`.
pub(super) fn records_dir(opts: Options, dir: &Path) -> Result<RecordWriter, Refused> {
    RecordWriter::dir(opts, dir).map_err(|e| Refused::new(dir.display(), e))
}

/// A JSON Lines output: `path`, or stdout (`what` names it in an error).
pub(super) fn open_jsonl(
    p: Option<&Path>,
    what: &str,
    resume: bool,
) -> Result<JsonlWriter, Refused> {
    let w = if resume {
        if let Some(p) = p {
            // The errors file of a killed run may end mid-line too.
            cut_partial_line(p).map_err(|e| Refused::new(p.display(), e))?;
        }
        JsonlWriter::append(p)
    } else {
        JsonlWriter::create(p)
    };
    w.map_err(|e| {
        Refused::new(
            p.map_or_else(|| what.to_string(), |p| p.display().to_string()),
            e,
        )
    })
}

/// The block statistics to start from: none with `--keep-repeated`; with
/// `--state`, those of earlier runs.
pub(super) fn repeated_stats(
    keep: bool,
    state: Option<&StateRun>,
) -> Result<Option<Stats>, Refused> {
    if keep {
        return Ok(None);
    }
    let mut stats = Stats::new(RepeatedConfig::default());
    if let Some(s) = state {
        let known = s
            .store
            .lock()
            .load_repeated()
            .map_err(|e| Refused::new("crawl", e))?;
        for (host, h) in known {
            stats.set_host(host, h);
        }
    }
    Ok(Some(stats))
}

/// Opens the state (taking its lock) and repairs the output a killed run
/// left, before any output file is opened.
pub(super) fn open_state(path: &Path, output: Option<&Path>) -> Result<StateStore, Refused> {
    crate::output::make_parent(path).map_err(|e| Refused::new(path.display(), e))?;
    let mut store = StateStore::open(path).map_err(|e| match e {
        StoreError::Locked { .. } => Refused {
            message: e.to_string(),
            code: exit::LOCKED,
        },
        e => Refused::new("crawl", e),
    })?;
    let found = store
        .reconcile(output)
        .map_err(|e| Refused::new("crawl", e))?;
    if let Some(file) = &found.file {
        let name = file.display();
        if let Some((len, committed)) = found.short {
            eprintln!(
                "parkcrawl: note: {name} is {len} bytes, shorter than the {committed} bytes the state {} counts as written: it was truncated or replaced since (or a power cut lost its tail)",
                path.display()
            );
        }
        if found.records > 0 || found.cut > 0 {
            eprintln!(
                "parkcrawl: {name}: kept {} record(s) written before the last run ended; cut a partial last line of {} bytes",
                found.records, found.cut
            );
        }
    }
    if found.cut_here > 0
        && let Some(o) = output
    {
        eprintln!(
            "parkcrawl: {}: cut a partial last line of {} bytes before appending",
            o.display(),
            found.cut_here
        );
    }
    Ok(store)
}

/// Decides whether this run resumes, revisits, or starts afresh, and says
/// which.
pub(super) fn begin(
    mut store: StateStore,
    path: &Path,
    recrawl_after: Duration,
) -> Result<StateRun, Refused> {
    let before = jiff::Timestamp::now()
        .checked_sub(
            jiff::SignedDuration::try_from(recrawl_after).unwrap_or(jiff::SignedDuration::MAX),
        )
        .unwrap_or(jiff::Timestamp::MIN)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let start = store
        .begin_run(&before)
        .map_err(|e| Refused::new("crawl", e))?;
    if start.resumed {
        eprintln!(
            "parkcrawl: resuming the crawl in {} ({} pages queued)",
            path.display(),
            store.queued()
        );
    } else if start.cycle > 1 {
        eprintln!(
            "parkcrawl: {}: crawl complete; revisiting {} page(s) last fetched at or before {before}",
            path.display(),
            start.requeued
        );
    }
    Ok(StateRun {
        store: SharedStore::new(store),
        start,
    })
}

/// The `--warc` file: created afresh, or with `--state` appended to after
/// cutting a record that a kill left half-written (a new `warcinfo` record
/// starts each run's part).
pub(super) fn open_warc(p: &Path, append: bool) -> std::io::Result<sink::Archive> {
    let name = p
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let gzip = name.to_ascii_lowercase().ends_with(".gz");
    let file = if append {
        crate::warc::cut_partial_record(p)?;
        crate::output::append_file(p)?
    } else {
        crate::output::create_file(p)?
    };
    WarcWriter::new(std::io::BufWriter::new(file), gzip, &name, &now_rfc3339())
}
