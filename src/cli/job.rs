//! `crawl --config FILE`: a job file (TOML) holding any crawl flag, so that a
//! scheduled job's command line stays short. Its keys are the long flags'
//! names (`max-depth = 3`), but `seeds` for the URLs and `sitemaps` for
//! `--sitemap`; `format`, `index` and `deletes` are the output's
//! (`FormatArgs`, shared with `clean`). Precedence, written once here: defaults < job file < flags.
//! Relative paths in the file are relative to the file's directory, so that
//! cron and systemd can run it from anywhere.

use std::path::{Path, PathBuf};

use super::crawl::CrawlArgs;

/// Reads the job file. Unknown keys, wrong types and bad TOML are one-line
/// errors naming the file, the line and the key.
pub fn load(path: &Path) -> Result<CrawlArgs, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let (crawl, format) = split_format_keys(&text);
    let mut job: CrawlArgs = toml::from_str(&crawl).map_err(|e| toml_error(&name, &crawl, e))?;
    job.format = toml::from_str(&format).map_err(|e| toml_error(&name, &format, e))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let rel = |p: &mut Option<PathBuf>| {
        if let Some(x) = p
            && x.is_relative()
        {
            *x = dir.join(&*x);
        }
    };
    rel(&mut job.output);
    rel(&mut job.errors);
    rel(&mut job.warc);
    // A PostgreSQL URL is no path.
    if !job
        .state
        .as_deref()
        .and_then(Path::to_str)
        .is_some_and(crate::store::postgres::is_url)
    {
        rel(&mut job.state);
    }
    rel(&mut job.rules);
    rel(&mut job.stats);
    rel(&mut job.format.deletes);
    Ok(job)
}

/// One line naming the file, the line and what is wrong.
fn toml_error(name: &str, text: &str, e: toml::de::Error) -> String {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let msg = e.message().trim().replace('\n', " ");
    match line {
        Some(l) => format!("{name}: line {l}: {msg}"),
        None => format!("{name}: {msg}"),
    }
}

/// The job file's `format`, `index` and `deletes` lines apart from the
/// rest: they are `FormatArgs`, which `clean` shares, not `CrawlArgs`. Each
/// text keeps every line of the file, blank where the other has it, so that
/// an error names the file's own line.
fn split_format_keys(text: &str) -> (String, String) {
    let is_format_key = |line: &str| {
        let l = line.trim_start();
        ["format", "index", "deletes"].iter().any(|k| {
            let rest = l
                .strip_prefix(k)
                .or_else(|| l.strip_prefix(&format!("\"{k}\"")));
            rest.is_some_and(|r| r.trim_start().starts_with('='))
        })
    };
    let (mut crawl, mut format) = (String::new(), String::new());
    for line in text.split_inclusive('\n') {
        let blank = if line.ends_with('\n') { "\n" } else { "" };
        if is_format_key(line) {
            format.push_str(line);
            crawl.push_str(blank);
        } else {
            crawl.push_str(line);
            format.push_str(blank);
        }
    }
    (crawl, format)
}

/// The flags given, over the job file: a flag given wins; a list given
/// (URLs, `--sitemap`, `--resolve`, `--follow`, `--avoid`) replaces the file's; a switch is on when
/// either turns it on.
pub fn merge(flags: CrawlArgs, file: CrawlArgs) -> CrawlArgs {
    fn list(a: Vec<String>, b: Vec<String>) -> Vec<String> {
        if a.is_empty() { b } else { a }
    }
    CrawlArgs {
        urls: list(flags.urls, file.urls),
        sitemaps: list(flags.sitemaps, file.sitemaps),
        rate: flags.rate.or(file.rate),
        concurrency: flags.concurrency.or(file.concurrency),
        per_host: flags.per_host.or(file.per_host),
        max_pages: flags.max_pages.or(file.max_pages),
        max_depth: flags.max_depth.or(file.max_depth),
        user_agent: flags.user_agent.or(file.user_agent),
        output: flags.output.or(file.output),
        errors: flags.errors.or(file.errors),
        warc: flags.warc.or(file.warc),
        timeout: flags.timeout.or(file.timeout),
        connect_timeout: flags.connect_timeout.or(file.connect_timeout),
        max_body: flags.max_body.or(file.max_body),
        max_redirects: flags.max_redirects.or(file.max_redirects),
        retries: flags.retries.or(file.retries),
        allow_private: flags.allow_private || file.allow_private,
        resolve: list(flags.resolve, file.resolve),
        no_robots_sitemaps: flags.no_robots_sitemaps || file.no_robots_sitemaps,
        max_sitemaps: flags.max_sitemaps.or(file.max_sitemaps),
        rules: flags.rules.or(file.rules),
        state: flags.state.or(file.state),
        worker: flags.worker.or(file.worker),
        lease: flags.lease.or(file.lease),
        recrawl_after: flags.recrawl_after.or(file.recrawl_after),
        emit: flags.emit.or(file.emit),
        keep_repeated: flags.keep_repeated || file.keep_repeated,
        follow: list(flags.follow, file.follow),
        avoid: list(flags.avoid, file.avoid),
        stats: flags.stats.or(file.stats),
        config: flags.config,
        format: flags.format.or(file.format),
    }
}

/// `0s`, `30m`, `12h`, `1d` (and `2w`): a whole number and one unit.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("expected a duration like 0s, 30m, 12h or 1d, not {s:?}");
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(secs)
        .map(std::time::Duration::from_secs)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0s").unwrap().as_secs(), 0);
        assert_eq!(parse_duration("30m").unwrap().as_secs(), 1800);
        assert_eq!(parse_duration("12h").unwrap().as_secs(), 43_200);
        assert_eq!(parse_duration("1d").unwrap().as_secs(), 86_400);
        for bad in ["", "1", "d", "1.5h", "-1d", "1 d", "3y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn job_file_paths_keys_and_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        std::fs::write(
            &path,
            "seeds = [\"http://a.test/\"]\nrate = 2.5\noutput = \"out.jsonl\"\n\
             state = \"/abs/state.db\"\nmax-depth = 3\nemit = \"all\"\nallow-private = true\n",
        )
        .unwrap();
        let job = load(&path).unwrap();
        assert_eq!(job.urls, ["http://a.test/"]);
        assert_eq!(job.output, Some(dir.path().join("out.jsonl")));
        assert_eq!(job.state, Some(PathBuf::from("/abs/state.db")));
        let flags = CrawlArgs {
            rate: Some(0.0),
            ..CrawlArgs::default()
        };
        let m = merge(flags, job);
        assert_eq!(m.rate, Some(0.0));
        assert_eq!(m.max_depth, Some(3));
        assert!(m.allow_private);

        std::fs::write(&path, "seeds = []\n\nratee = 1\n").unwrap();
        let err = load(&path).unwrap_err();
        assert!(
            err.starts_with(&format!("{}: line 3: ", path.display())),
            "{err}"
        );
        assert!(err.contains("unknown field `ratee`"), "{err}");
        assert!(!err.contains('\n'));
        std::fs::write(&path, "rate = \"fast\"\n").unwrap();
        assert!(load(&path).unwrap_err().contains("line 1"));
    }

    #[test]
    fn a_postgresql_state_in_a_job_file_is_a_url_not_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleet.toml");
        std::fs::write(
            &path,
            "seeds = [\"http://a.test/\"]\nstate = \"postgres://crawl@db.internal:5432/parks\"\n\
             worker = \"w7\"\nlease = \"10s\"\n",
        )
        .unwrap();
        let job = load(&path).unwrap();
        assert_eq!(
            job.state,
            Some(PathBuf::from("postgres://crawl@db.internal:5432/parks"))
        );
        let m = merge(CrawlArgs::default(), job);
        assert_eq!(m.worker.as_deref(), Some("w7"));
        assert_eq!(m.lease.map(|s| s.0), Some(10.0));
    }

    #[test]
    fn job_files_set_the_output_format_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        let job = "seeds = [\n  \"http://a.test/format = x\",\n]\nformat = \"es-bulk\"\n\
                   \"index\" = \"parks\"\noutput = \"o.ndjson\"\ndeletes = \"d\"\n";
        std::fs::write(&path, job).unwrap();
        let job = load(&path).unwrap();
        assert_eq!(job.urls, ["http://a.test/format = x"]);
        assert_eq!(job.format.format, Some(crate::format::Format::EsBulk));
        assert_eq!(job.format.index.as_deref(), Some("parks"));
        assert_eq!(job.format.deletes, Some(dir.path().join("d")));
        assert_eq!(job.output, Some(dir.path().join("o.ndjson")));
        let flags = CrawlArgs {
            format: super::super::FormatArgs {
                index: Some("other".into()),
                ..Default::default()
            },
            ..CrawlArgs::default()
        };
        let m = merge(flags, job);
        assert_eq!(m.format.format, Some(crate::format::Format::EsBulk));
        assert_eq!(m.format.index.as_deref(), Some("other"));

        std::fs::write(&path, "seeds = []\n\nformat = \"xml\"\n").unwrap();
        let err = load(&path).unwrap_err();
        assert!(
            err.starts_with(&format!("{}: line 3: ", path.display())),
            "{err}"
        );
        assert!(err.contains("xml"), "{err}");
    }
}
