//! Extraction quality: the shingle metric of the article-extraction benchmark
//! (`../shared/bench/aeb/README.md`), used by `benches/extract.rs` to score
//! parkcrawl and trafilatura on the same pages with one scorer; [`fields`]
//! scores titles, bylines, dates and sentences for the other dev sets.
//!
//! 1. tokens are maximal runs of word characters, case kept — or, in the CJK
//!    variant, each CJK character alone (Latin/digit runs stay whole);
//! 2. shingles are overlapping runs of 4 tokens (a shorter text is one shingle);
//! 3. true and predicted shingles are compared as multisets; tp, fp and fn are
//!    normalised by their sum so every page weighs the same;
//! 4. precision and recall are averaged over pages (an empty prediction counts
//!    for recall only); F1 is the harmonic mean of the two averages.

use std::collections::HashMap;

pub mod fields;

/// How text is cut into tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokens {
    /// Maximal runs of Unicode word characters (the benchmark's definition).
    Words,
    /// Each CJK character is a token; other word runs stay whole.
    Cjk,
}

/// Normalised counts for one page: tp + fp + fn = 1 (all 0 when both are empty).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PageScore {
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
    /// The prediction had no shingles: left out of the precision mean.
    pub empty_prediction: bool,
}

impl PageScore {
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0.0 {
            // Both empty: identical texts score 1.
            return if self.fn_ == 0.0 { 1.0 } else { 0.0 };
        }
        self.tp / (self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0.0 {
            return 1.0;
        }
        self.tp / (self.tp + self.fn_)
    }
}

/// Averages over pages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub pages: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

pub fn tokens(text: &str, how: Tokens) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let cjk = how == Tokens::Cjk && is_cjk(c);
        if is_word(c) && !cjk {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            out.push(&text[s..i]);
        }
        if cjk {
            out.push(&text[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Regex `\w` as Python's `re` reads it for str patterns: alphanumerics
/// (any script) and the underscore; combining marks keep a word going.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_mark(c)
}

fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A
        | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0E31..=0x0E3A | 0x0E47..=0x0E4E
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF
        | 0xAC00..=0xD7AF | 0x20000..=0x2FA1F)
}

fn shingles<'a>(tokens: &[&'a str]) -> HashMap<Vec<&'a str>, u32> {
    let mut out = HashMap::new();
    if tokens.is_empty() {
        return out;
    }
    if tokens.len() < 4 {
        *out.entry(tokens.to_vec()).or_default() += 1;
        return out;
    }
    for w in tokens.windows(4) {
        *out.entry(w.to_vec()).or_default() += 1;
    }
    out
}

pub fn score(truth: &str, predicted: &str, how: Tokens) -> PageScore {
    let t_tokens = tokens(truth, how);
    let p_tokens = tokens(predicted, how);
    let t = shingles(&t_tokens);
    let p = shingles(&p_tokens);
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    for (s, &n) in &t {
        let m = p.get(s).copied().unwrap_or(0);
        tp += u64::from(n.min(m));
        fn_ += u64::from(n.saturating_sub(m));
    }
    for (s, &m) in &p {
        let n = t.get(s).copied().unwrap_or(0);
        fp += u64::from(m.saturating_sub(n));
    }
    let sum = (tp + fp + fn_) as f64;
    let norm = |x: u64| if sum == 0.0 { 0.0 } else { x as f64 / sum };
    PageScore {
        tp: norm(tp),
        fp: norm(fp),
        fn_: norm(fn_),
        empty_prediction: p.is_empty(),
    }
}

pub fn summarize(pages: &[PageScore]) -> Summary {
    let mean = |xs: Vec<f64>| {
        if xs.is_empty() {
            0.0
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        }
    };
    let precision = mean(
        pages
            .iter()
            .filter(|p| !p.empty_prediction)
            .map(PageScore::precision)
            .collect(),
    );
    let recall = mean(pages.iter().map(PageScore::recall).collect());
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Summary {
        pages: pages.len(),
        precision,
        recall,
        f1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_word_runs_or_cjk_characters() {
        assert_eq!(
            tokens("It's 4.5% — don't_stop!", Tokens::Words),
            ["It", "s", "4", "5", "don", "t_stop"]
        );
        assert_eq!(tokens("闵行区GDP增长5%", Tokens::Words), ["闵行区GDP增长5"]);
        assert_eq!(
            tokens("闵行区GDP增长5%", Tokens::Cjk),
            ["闵", "行", "区", "GDP", "增", "长", "5"]
        );
    }

    #[test]
    fn identical_texts_score_one_and_disjoint_zero() {
        let a = "one two three four five six";
        let s = score(a, a, Tokens::Words);
        assert_eq!((s.precision(), s.recall()), (1.0, 1.0));
        let s = score(a, "seven eight nine ten eleven", Tokens::Words);
        assert_eq!((s.precision(), s.recall()), (0.0, 0.0));
    }

    #[test]
    fn counts_are_multisets_normalised_per_page() {
        // truth: 3 shingles; prediction repeats the first 4 words twice
        // (2 copies of one shingle, +1 fp) and misses the last two shingles.
        let s = score("a b c d e f", "a b c d x a b c d", Tokens::Words);
        // pred shingles: abcd, bcdx, cdxa, dxab, xabc, abcd → tp 1, fp 5; fn 2
        assert!((s.tp - 1.0 / 8.0).abs() < 1e-12);
        assert!((s.fp - 5.0 / 8.0).abs() < 1e-12);
        assert!((s.fn_ - 2.0 / 8.0).abs() < 1e-12);
    }

    #[test]
    fn empty_prediction_costs_recall_only() {
        let pages = [
            score("a b c d e", "a b c d e", Tokens::Words),
            score("a b c d e", "", Tokens::Words),
        ];
        let s = summarize(&pages);
        assert_eq!(s.precision, 1.0);
        assert_eq!(s.recall, 0.5);
        assert!((s.f1 - 2.0 / 3.0).abs() < 1e-12);
    }
}
