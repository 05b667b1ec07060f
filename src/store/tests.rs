//! Unit tests of the state store: reopen after a kill, the lock, reconcile,
//! recrawl cycles.

use super::*;

fn e(s: &str) -> Entry {
    Entry::page(Url::parse(s).unwrap(), 0)
}

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn emitted(id: &str) -> Visit {
    Visit {
        record_id: Some(id.into()),
        emitted: true,
        ..Default::default()
    }
}

#[test]
fn frontier_survives_reopen_and_lock_excludes_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    {
        let mut s = StateStore::open(&path).unwrap();
        assert!(StateStore::is_locked(&path));
        assert!(matches!(
            StateStore::open(&path),
            Err(StoreError::Locked { .. })
        ));
        for u in ["http://a.cn/1", "http://a.cn/2", "http://b.cn/1"] {
            assert!(s.push(e(u)).unwrap());
        }
        assert!(!s.push(e("http://a.cn/1")).unwrap());
        let first = s.pop(&mut |_| true).unwrap().unwrap();
        assert_eq!(first.url.as_str(), "http://a.cn/1");
        // Killed here: a.cn/1 is left Fetching.
    }
    assert!(!StateStore::is_locked(&path));
    let mut s = StateStore::open(&path).unwrap();
    assert_eq!(s.queued(), 3);
    let order: Vec<String> = std::iter::from_fn(|| s.pop(&mut |_| true).unwrap())
        .map(|e| e.url.to_string())
        .collect();
    assert_eq!(order, ["http://a.cn/1", "http://b.cn/1", "http://a.cn/2"]);
    assert!(!s.complete().unwrap());
    for (i, url) in order.iter().enumerate() {
        s.commit_page(&u(url), &emitted(&i.to_string()), None)
            .unwrap();
    }
    assert!(s.complete().unwrap());
}

#[test]
fn reconcile_marks_written_records_and_cuts_a_partial_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let mut s = StateStore::open(&dir.path().join("s.db")).unwrap();
    s.reconcile(Some(&out)).unwrap();
    s.begin_run("1970-01-01T00:00:00Z").unwrap();
    s.push(e("http://a.cn/1")).unwrap();
    s.push(e("http://a.cn/2")).unwrap();
    s.push(e("http://a.cn/3")).unwrap();
    // a.cn/1 written and committed; a.cn/2 written, killed before its
    // commit; a.cn/3 cut mid-line.
    let line1 = "{\"url\":\"http://a.cn/1\",\"id\":\"one\",\"fetch\":{}}\n";
    std::fs::write(&out, line1).unwrap();
    s.commit_page(
        &u("http://a.cn/1"),
        &emitted("one"),
        Some(line1.len() as u64),
    )
    .unwrap();
    let all = format!(
        "{line1}{{\"url\":\"http://a.cn/2\",\"id\":\"two\",\"content_hash\":\"sha256:2\",\
         \"fetch\":{{\"status\":200,\"etag\":\"\\\"e2\\\"\"}}}}\n{{\"url\":\"http://a.c"
    );
    std::fs::write(&out, &all).unwrap();
    drop(s);

    let mut s = StateStore::open(&dir.path().join("s.db")).unwrap();
    let found = s.reconcile(Some(&out)).unwrap();
    assert_eq!(found.records, 1);
    assert_eq!(found.cut, "{\"url\":\"http://a.c".len() as u64);
    assert_eq!(found.short, None);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.ends_with("}\n"));
    assert_eq!(s.queued(), 1, "only the cut page is fetched again");
    let k = s.known(&u("http://a.cn/2")).unwrap().unwrap();
    assert_eq!(k.record_id.as_deref(), Some("two"));
    assert_eq!(k.etag.as_deref(), Some("\"e2\""));
    assert_eq!(k.content_hash.as_deref(), Some("sha256:2"));
    assert!(k.emitted);
    let start = s.begin_run("1970-01-01T00:00:00Z").unwrap();
    assert!(start.resumed);
    assert_eq!(start.cycle, 1);
    // The same page under another URL (a redirect) is not written again.
    assert!(s.seen_id("two", &u("http://a.cn/two-old")).unwrap());
    assert!(!s.seen_id("two", &u("http://a.cn/2")).unwrap());
    assert!(!s.seen_id("three", &u("http://a.cn/3")).unwrap());
}

#[test]
fn a_new_output_file_keeps_the_old_ones_tail_reconciled() {
    let dir = tempfile::tempdir().unwrap();
    let day1 = dir.path().join("day1.jsonl");
    let day2 = dir.path().join("day2.jsonl");
    let db = dir.path().join("s.db");
    let mut s = StateStore::open(&db).unwrap();
    s.reconcile(Some(&day1)).unwrap();
    s.begin_run("1970-01-01T00:00:00Z").unwrap();
    s.push(e("http://a.cn/1")).unwrap();
    std::fs::write(
        &day1,
        "{\"url\":\"http://a.cn/1\",\"id\":\"one\",\"fetch\":{}}\n",
    )
    .unwrap();
    drop(s); // killed before the commit
    std::fs::write(&day2, "{\"foreign\":true}\n{\"partial").unwrap();
    let mut s = StateStore::open(&db).unwrap();
    let found = s.reconcile(Some(&day2)).unwrap();
    assert_eq!(found.records, 1);
    assert_eq!(found.file, Some(output::absolute(&day1)));
    assert_eq!(found.cut, 0);
    assert_eq!(found.cut_here, "{\"partial".len() as u64);
    assert_eq!(
        std::fs::read_to_string(&day2).unwrap(),
        "{\"foreign\":true}\n"
    );
    assert!(s.complete().unwrap());
    assert_eq!(
        s.meta("output_offset").unwrap().as_deref(),
        Some("17"),
        "the new file's content counts as committed"
    );
}

#[test]
fn a_completed_crawl_is_revisited_after_recrawl_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut s = StateStore::open(&db).unwrap();
    assert_eq!(s.begin_run("2000-01-01T00:00:00Z").unwrap().cycle, 1);
    s.push(e("http://a.cn/old")).unwrap();
    s.push(e("http://a.cn/new")).unwrap();
    s.push(e("http://a.cn/gone")).unwrap();
    for url in ["http://a.cn/old", "http://a.cn/new"] {
        s.pop(&mut |_| true).unwrap();
        let at = if url.ends_with("old") {
            "2001-01-01T00:00:00Z"
        } else {
            "2030-01-01T00:00:00Z"
        };
        let v = Visit {
            at: Some(at.into()),
            ..emitted(url)
        };
        s.commit_page(&u(url), &v, None).unwrap();
    }
    s.pop(&mut |_| true).unwrap();
    s.failed(&u("http://a.cn/gone"), ErrorKind::Http, Some(404))
        .unwrap();
    s.finish_run(&LastRun::default()).unwrap();
    let st = s.status().unwrap();
    assert!(st.complete);
    assert_eq!(st.last_run.outcome.as_deref(), Some("complete"));
    assert_eq!(st.failures_by_host[0].host, "a.cn:80");
    assert_eq!(st.failures_by_host[0].kinds, [("http".to_string(), 1)]);
    drop(s);

    let mut s = StateStore::open(&db).unwrap();
    let start = s.begin_run("2020-01-01T00:00:00Z").unwrap();
    assert!(!start.resumed);
    assert_eq!(start.cycle, 2);
    // The page fetched in 2001 is due; the one of 2030 is not; the
    // failure of today is not either.
    assert_eq!(start.requeued, 1);
    assert_eq!(
        s.pop(&mut |_| true).unwrap().unwrap().url.as_str(),
        "http://a.cn/old"
    );
    // Cancelled by a stop signal: back in the queue.
    s.failed(&u("http://a.cn/old"), ErrorKind::Cancelled, None)
        .unwrap();
    assert_eq!(s.queued(), 1);
    drop(s);
    let st = StateStore::open_read_only(&db).unwrap().status().unwrap();
    assert!(!st.complete);
    assert_eq!(st.last_run.outcome.as_deref(), Some("killed"));
    assert_eq!(
        st.pages,
        [
            ("queued", 1),
            ("fetching", 0),
            ("done", 1),
            ("failed", 1),
            ("skipped", 0)
        ]
    );
}
