//! Scoring a run against a set's truth, one table per set, and the per-page
//! dump for study. What each column means is printed above its table
//! ([`legend`]) and described in the README.

use std::fmt::Write as _;
use std::path::Path;

use parkcrawl::eval::fields::{self, Stamp};
use parkcrawl::eval::{self, PageScore, Tokens};

use crate::runs::{Output, Run};
use crate::sets::{Kind, Set, Truth, ZhTruth};

/// Beijing time: zh-news truth dates are its wall clock.
const BEIJING: i32 = 8 * 3600;

/// One page's scores for one extractor.
pub struct PageEval {
    /// The body by the shingle metric (aeb: word tokens; readability: CJK
    /// characters one token each).
    pub body: Option<PageScore>,
    /// aeb's CJK variant, as its README allows.
    pub body_cjk: Option<PageScore>,
    /// Field hits in column order; `None` where the field does not apply.
    pub hits: Vec<(&'static str, Option<bool>)>,
    /// zh-news: the `not_body` strings found in the text.
    pub leaks: Vec<String>,
}

pub fn evaluate(truth: &Truth, out: &Output, run: &Run) -> PageEval {
    match truth {
        Truth::Body(body) => PageEval {
            body: Some(eval::score(body, &out.text, Tokens::Words)),
            body_cjk: Some(eval::score(body, &out.text, Tokens::Cjk)),
            hits: Vec::new(),
            leaks: Vec::new(),
        },
        Truth::Readability {
            body,
            title,
            byline,
            published,
        } => PageEval {
            body: Some(eval::score(body, &out.text, Tokens::Cjk)),
            body_cjk: None,
            hits: vec![
                (
                    "title",
                    title
                        .as_ref()
                        .map(|t| suffix_equal(t, out.title.as_deref())),
                ),
                (
                    "byline",
                    byline
                        .as_ref()
                        .map(|b| names(&[b.as_str()], out.author.as_deref())),
                ),
                (
                    "date",
                    published.as_deref().and_then(fields::parse_stamp).map(|t| {
                        let p = out.date.as_deref().and_then(fields::parse_stamp);
                        p.is_some_and(|p| fields::compare_dates(&t, &p, None).day)
                    }),
                ),
            ],
            leaks: Vec::new(),
        },
        Truth::ZhNews(t) => zh_news(t, out, run.has_source),
    }
}

fn suffix_equal(truth: &str, predicted: Option<&str>) -> bool {
    predicted.is_some_and(|p| fields::title_matches_but_suffix(truth, p))
}

fn names(candidates: &[&str], predicted: Option<&str>) -> bool {
    predicted.is_some_and(|p| candidates.iter().any(|c| fields::name_matches(c, p)))
}

fn zh_news(t: &ZhTruth, out: &Output, has_source: bool) -> PageEval {
    let text = fields::nfkc_compact(&out.text);
    let alts = |field: &str, main: Option<&str>| -> Vec<String> {
        let mut v: Vec<String> = main.map(str::to_string).into_iter().collect();
        v.extend(t.accept.get(field).into_iter().flatten().cloned());
        v
    };
    let found = |field: &str, main: &str| {
        alts(field, Some(main))
            .iter()
            .any(|s| fields::found_in(&text, s))
    };
    // A field the truth leaves empty is right when the output is empty too
    // (or gives an accepted alternative).
    let optional = |field: &str, main: Option<&str>, predicted: Option<&str>| {
        let predicted = predicted.filter(|p| !p.trim().is_empty());
        let candidates = alts(field, main);
        let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
        match (main, predicted) {
            (None, None) => true,
            (_, p) => names(&refs, p),
        }
    };
    let (day, minute) = zh_date(t, out.date.as_deref());
    let author = optional("author", t.author.as_deref(), out.author.as_deref());
    let source = has_source.then(|| optional("source", t.source.as_deref(), out.source.as_deref()));
    PageEval {
        body: None,
        body_cjk: None,
        hits: vec![
            (
                "title",
                Some(alts("title", Some(&t.title)).iter().any(|c| {
                    out.title
                        .as_deref()
                        .is_some_and(|p| fields::title_matches(c, p))
                })),
            ),
            ("day", Some(day)),
            ("minute", minute),
            ("author", Some(author)),
            // The same, only over the pages whose truth names one: an
            // extractor that gives none scores nothing here.
            ("author*", t.author.is_some().then_some(author)),
            ("source", source),
            ("source*", source.filter(|_| t.source.is_some())),
            ("first", Some(found("first", &t.first))),
            ("last", Some(found("last", &t.last))),
        ],
        leaks: t
            .not_body
            .iter()
            .filter(|s| fields::found_in(&text, s))
            .cloned()
            .collect(),
    }
}

/// The day against the truth or an accepted date (a truth without a date is
/// matched by no date; a date that does not read as one is wrong); the
/// minute only where the truth prints a time.
fn zh_date(t: &ZhTruth, predicted: Option<&str>) -> (bool, Option<bool>) {
    let main = t.date.as_deref().and_then(fields::parse_stamp);
    let minute_wrong = main.and_then(|m| m.time).map(|_| false);
    let Some(predicted) = predicted.filter(|p| !p.trim().is_empty()) else {
        return (main.is_none(), minute_wrong);
    };
    let Some(p) = fields::parse_stamp(predicted) else {
        return (false, minute_wrong);
    };
    let candidates: Vec<Stamp> = main
        .into_iter()
        .chain(
            t.accept
                .get("date")
                .into_iter()
                .flatten()
                .filter_map(|d| fields::parse_stamp(d)),
        )
        .collect();
    let verdicts: Vec<_> = candidates
        .iter()
        .map(|c| fields::compare_dates(c, &p, Some(BEIJING)))
        .collect();
    let day = verdicts.iter().any(|v| v.day);
    let minute = main
        .and_then(|m| m.time)
        .map(|_| verdicts.iter().any(|v| v.minute == Some(true)));
    (day, minute)
}

/// What the table's columns mean, printed above it.
pub fn legend(kind: Kind) -> &'static str {
    match kind {
        Kind::Aeb => {
            "body: the aeb shingle metric (word tokens) on the record's blocks without image \
             captions; F1 zh*: each CJK character one token."
        }
        Kind::Readability => {
            "body: the aeb shingle metric, CJK characters one token each, of the record's text \
             against the visible text of expected.html (captions included).\n\
             title: equal after whitespace squashing, or equal but for a site part after a separator \
             (` | Site`, ` - Section`) on either side; byline: the record's author and the \
             byline equal or one containing the other (NFKC, case and spaces ignored); date: \
             the same day as publishedTime, on its clock where both give an offset (else as \
             written). n/N: N pages give the field."
        }
        Kind::ZhNews => {
            "title: equal after NFKC and whitespace removal; day: the same day, Beijing time (a \
             page without a printed date wants none or an accepted one; an unreadable date is \
             wrong); minute: the same minute where a time is \
             printed;\nauthor, source: equal or one containing the other (empty where the truth \
             is null); `accept` alternatives count; trafilatura's source is its sitename; GNE \
             has no source (n/a); author*, source*: the same over the pages whose truth names one;\nfirst, last: the body's first/last sentence found in the \
             text (NFKC, whitespace removed); leaks: not_body strings found in the text (pages)."
        }
    }
}

fn hit_cell(evals: &[PageEval], column: usize) -> String {
    let cells = evals
        .iter()
        .filter_map(|e| e.hits.get(column).and_then(|h| h.1));
    let (n, of) = cells.fold((0, 0), |(n, of), h| (n + usize::from(h), of + 1));
    if of == 0 {
        "n/a".into()
    } else {
        format!("{n}/{of}")
    }
}

/// Prints the set's table: one row per extractor.
pub fn print(set: &Set, runs: &[Run]) {
    println!("\n== {} ({} pages)", set.kind.name(), set.pages.len());
    println!("{}", legend(set.kind));
    let evals: Vec<Vec<PageEval>> = runs.iter().map(|r| evaluate_run(set, r)).collect();
    let mut head = format!("{:<24}", "extractor");
    let has_body = set.kind != Kind::ZhNews;
    if has_body {
        head += &format!(" {:>6} {:>9} {:>7}", "F1", "precision", "recall");
    }
    if set.kind == Kind::Aeb {
        head += &format!(" {:>7}", "F1 zh*");
    }
    let columns: Vec<&str> = evals[0]
        .first()
        .map(|e| e.hits.iter().map(|h| h.0).collect())
        .unwrap_or_default();
    for c in &columns {
        head += &format!(" {c:>7}");
    }
    if set.kind == Kind::ZhNews {
        head += &format!(" {:>10}", "leaks");
    }
    head += &format!(" {:>9} {:>9} {:>8}", "ms/page", "whole run", "× pc");
    println!("{head}");
    let base = runs[0].per_page_secs;
    for (run, ev) in runs.iter().zip(&evals) {
        let mut row = format!("{:<24}", run.name);
        if has_body {
            let s = eval::summarize(&ev.iter().filter_map(|e| e.body).collect::<Vec<_>>());
            row += &format!(" {:>6.4} {:>9.4} {:>7.4}", s.f1, s.precision, s.recall);
        }
        if set.kind == Kind::Aeb {
            let s = eval::summarize(&ev.iter().filter_map(|e| e.body_cjk).collect::<Vec<_>>());
            row += &format!(" {:>7.4}", s.f1);
        }
        for i in 0..columns.len() {
            row += &format!(" {:>7}", hit_cell(ev, i));
        }
        if set.kind == Kind::ZhNews {
            let leaks: usize = ev.iter().map(|e| e.leaks.len()).sum();
            let pages = ev.iter().filter(|e| !e.leaks.is_empty()).count();
            row += &format!(" {:>10}", format!("{leaks} ({pages})"));
        }
        let whole = run.whole_secs.map_or("-".into(), |s| format!("{s:.2}s"));
        row += &format!(
            " {:>9.3} {:>9} {:>7.1}×",
            run.ms_per_page(),
            whole,
            run.per_page_secs / base
        );
        println!("{row}");
    }
    if let Some(t) = runs.iter().find(|r| r.short == "trafilatura") {
        println!(
            "time per page: parkcrawl {:.3} ms, trafilatura {:.3} ms: parkcrawl/trafilatura = {:.3}",
            runs[0].ms_per_page(),
            t.ms_per_page(),
            runs[0].per_page_secs / t.per_page_secs
        );
    }
}

fn evaluate_run(set: &Set, run: &Run) -> Vec<PageEval> {
    let empty = Output::default();
    set.pages
        .iter()
        .map(|p| evaluate(&p.truth, run.pages.get(&p.id).unwrap_or(&empty), run))
        .collect()
}

/// Writes `<dir>/<set>/`: per page `<id>.truth.txt`, and per extractor
/// `<id>.<extractor>.txt` (its text) and `<id>.<extractor>.json` (its fields
/// and scores); `scores.tsv` has one row per page, the scores of every
/// extractor side by side.
pub fn dump(dir: &Path, set: &Set, runs: &[Run]) {
    let dir = dir.join(set.kind.name());
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let write = |name: String, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    };
    let evals: Vec<Vec<PageEval>> = runs.iter().map(|r| evaluate_run(set, r)).collect();
    let mut tsv = String::from("id");
    for (run, ev) in runs.iter().zip(&evals) {
        for c in score_columns(ev.first()) {
            let _ = write!(tsv, "\t{} {c}", run.short);
        }
    }
    tsv.push('\n');
    for (i, p) in set.pages.iter().enumerate() {
        write(format!("{}.truth.txt", p.id), &truth_text(&p.truth));
        tsv += &p.id;
        for (run, ev) in runs.iter().zip(&evals) {
            let out = run.pages.get(&p.id).cloned().unwrap_or_default();
            write(format!("{}.{}.txt", p.id, run.short), &out.text);
            let cells = score_cells(&ev[i]);
            let scores: serde_json::Map<String, serde_json::Value> = score_columns(Some(&ev[i]))
                .into_iter()
                .zip(&cells)
                .map(|(c, v)| (c, serde_json::Value::String(v.clone())))
                .collect();
            let json = serde_json::json!({
                "title": out.title, "author": out.author, "date": out.date, "source": out.source,
                "scores": scores, "leaks": ev[i].leaks,
            });
            write(
                format!("{}.{}.json", p.id, run.short),
                &serde_json::to_string_pretty(&json).unwrap(),
            );
            for c in cells {
                tsv += "\t";
                tsv += &c;
            }
        }
        tsv.push('\n');
    }
    write("scores.tsv".into(), &tsv);
}

fn score_columns(e: Option<&PageEval>) -> Vec<String> {
    let Some(e) = e else { return Vec::new() };
    let mut cols = Vec::new();
    if e.body.is_some() {
        cols.extend(["P".to_string(), "R".to_string()]);
    }
    cols.extend(e.hits.iter().map(|h| h.0.to_string()));
    if e.body.is_none() {
        cols.push("leaks".into());
    }
    cols
}

fn score_cells(e: &PageEval) -> Vec<String> {
    let mut cells = Vec::new();
    if let Some(b) = e.body {
        cells.push(format!("{:.3}", b.precision()));
        cells.push(format!("{:.3}", b.recall()));
    }
    for (_, h) in &e.hits {
        cells.push(h.map_or("-".into(), |h| u8::from(h).to_string()));
    }
    if e.body.is_none() {
        cells.push(e.leaks.len().to_string());
    }
    cells
}

fn truth_text(t: &Truth) -> String {
    match t {
        Truth::Body(b) => b.clone(),
        Truth::Readability {
            body,
            title,
            byline,
            published,
        } => format!(
            "title: {}\nbyline: {}\npublished: {}\n\n{body}",
            title.as_deref().unwrap_or("-"),
            byline.as_deref().unwrap_or("-"),
            published.as_deref().unwrap_or("-")
        ),
        Truth::ZhNews(z) => format!(
            "title: {}\ndate: {}\nauthor: {}\nsource: {}\nfirst: {}\nlast: {}\nnot_body:\n  {}\n",
            z.title,
            z.date.as_deref().unwrap_or("-"),
            z.author.as_deref().unwrap_or("-"),
            z.source.as_deref().unwrap_or("-"),
            z.first,
            z.last,
            z.not_body.join("\n  ")
        ),
    }
}
