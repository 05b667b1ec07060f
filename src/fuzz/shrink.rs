//! Minimised reproducers: a failing input shrunk by removing chunks (halves,
//! then quarters, … then single bytes) while the same failure persists, and
//! written under `fixtures/fuzz/<target>/<short-hash>.<ext>` with a `.meta`
//! file when its content type or URL is part of the failure.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{Case, Failure};

/// Shrinks `case` while `still_fails` says the failure is the same one,
/// within `budget` of wall time (a slow input is slow to shrink).
pub fn minimise(case: &Case, budget: Duration, still_fails: &dyn Fn(&Case) -> bool) -> Case {
    let start = Instant::now();
    let mut best = case.clone();
    for drop_meta in [true, false] {
        let mut c = best.clone();
        if drop_meta {
            c.content_type = None;
            c.url = None;
        } else {
            c.url = None;
        }
        if c != best && still_fails(&c) {
            best = c;
        }
    }
    let mut chunk = best.bytes.len() / 2;
    while chunk >= 1 && start.elapsed() < budget {
        let mut at = 0;
        while at < best.bytes.len() && start.elapsed() < budget {
            let end = (at + chunk).min(best.bytes.len());
            let mut c = best.clone();
            c.bytes.drain(at..end);
            if still_fails(&c) {
                best = c;
            } else {
                at = end;
            }
        }
        chunk /= 2;
    }
    best
}

/// The first 12 hex digits of the SHA-256 of the bytes (and meta).
pub fn short_hash(case: &Case) -> String {
    let mut h = Sha256::new();
    h.update(&case.bytes);
    h.update(case.content_type.as_deref().unwrap_or("").as_bytes());
    h.update(case.url.as_deref().unwrap_or("").as_bytes());
    h.finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `case` as `dir/<target>/<hash>.<ext>` (plus `.meta`), and a
/// `.why` note with the failure it reproduced. Returns the path.
pub fn save(case: &Case, failure: &Failure, dir: &Path) -> std::io::Result<PathBuf> {
    let dir = dir.join(case.target.dir());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.{}", short_hash(case), case.target.ext()));
    std::fs::write(&path, &case.bytes)?;
    let mut meta = String::new();
    if let Some(ct) = &case.content_type {
        meta.push_str(&format!("content-type: {ct}\n"));
    }
    if let Some(u) = &case.url {
        meta.push_str(&format!("url: {u}\n"));
    }
    if !meta.is_empty() {
        std::fs::write(path.with_extension("meta"), meta)?;
    }
    let why = format!(
        "{:?}: {}\nmutators: {}\n",
        failure.kind,
        failure.message,
        case.how.join("+")
    );
    std::fs::write(path.with_extension("why"), why)?;
    Ok(path)
}
