//! A literal gate in front of a boilerplate pattern: strings one of which
//! every match of the pattern must contain, read off the pattern's syntax
//! tree when the rule is compiled.
//!
//! Why: every text line of a page's main content is tried against every
//! boilerplate pattern, and nearly all lines match none. The patterns are
//! anchored (`^…`), so the regex engine cannot search for their inner
//! literals itself, and their counted repetitions (`[^。]{0,60}`) make its
//! lazy DFA build and walk many states per line. A substring scan for the
//! pattern's required literals (Aho-Corasick over a handful of words) turns
//! most lines away first; a line it admits still goes to the regex, so the
//! gate changes no result, only how soon a non-match is known.

use aho_corasick::AhoCorasick;
use regex_syntax::hir::{Class, Hir, HirKind};

/// More alternatives than this make a set not worth scanning for.
const MAX_LITERALS: usize = 64;
/// A class of at most this many characters is as good as that many literals.
const MAX_CLASS: usize = 8;
/// A shorter literal (one ASCII byte: a letter of a `(?i)` word, a colon)
/// is on nearly every line: scanning for it costs more than it saves.
const MIN_LITERAL: usize = 2;

/// The gates of a rule's boilerplate patterns, scanned for in one pass:
/// which patterns a text may match, before any regex runs.
#[derive(Debug, Clone, Default)]
pub struct Gates {
    /// Every pattern's literals, as one automaton.
    scan: Option<AhoCorasick>,
    /// For each literal of `scan`, the pattern it stands for.
    owner: Vec<usize>,
    /// Patterns without a gate (or past the 64 a mask holds): always tried.
    open: u64,
}

/// The patterns (by index) a text may match.
#[derive(Debug, Clone, Copy)]
pub struct Admitted(u64);

impl Admitted {
    pub fn has(self, pattern: usize) -> bool {
        pattern >= 64 || self.0 & (1 << pattern) != 0
    }
}

impl Gates {
    /// The gates of `patterns` (patterns the regex crate accepted; one this
    /// parser refused, or one without required literals, has no gate).
    pub fn of<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Gates {
        let mut lits = Vec::new();
        let mut owner = Vec::new();
        let mut open = 0u64;
        for (i, p) in patterns.into_iter().enumerate() {
            let set = regex_syntax::parse(p).ok().and_then(|h| required(&h));
            match set {
                Some(set) if i < 64 => {
                    owner.extend(std::iter::repeat_n(i, set.len()));
                    lits.extend(set);
                }
                _ if i < 64 => open |= 1 << i,
                _ => {}
            }
        }
        let scan = (!lits.is_empty())
            .then(|| AhoCorasick::new(lits).ok())
            .flatten();
        if scan.is_none() {
            // Without an automaton nothing can be turned away.
            open = u64::MAX;
        }
        Gates { scan, owner, open }
    }

    /// The patterns `text` may match: those whose literals it holds, and
    /// those without a gate. Any other cannot match it.
    pub fn admitted(&self, text: &str) -> Admitted {
        let mut mask = self.open;
        if let Some(ac) = &self.scan {
            for m in ac.find_overlapping_iter(text) {
                mask |= 1 << self.owner[m.pattern().as_usize()];
            }
        }
        Admitted(mask)
    }
}

/// A set of byte strings of which every match of `hir` contains at least
/// one, if there is a usable one.
fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let set = match hir.kind() {
        HirKind::Literal(lit) => vec![lit.0.to_vec()],
        HirKind::Class(class) => class_literals(class)?,
        HirKind::Capture(cap) => required(&cap.sub)?,
        HirKind::Repetition(rep) if rep.min >= 1 => required(&rep.sub)?,
        // Every part of a concatenation is in every match: the part with
        // the most selective set stands for the whole.
        HirKind::Concat(parts) => parts.iter().filter_map(required).max_by_key(|s| rank(s))?,
        // A match is a match of one branch: it holds one of that branch's.
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for b in branches {
                all.extend(required(b)?);
            }
            all.sort();
            all.dedup();
            all
        }
        _ => return None,
    };
    (set.len() <= MAX_LITERALS && set.iter().all(|l| l.len() >= MIN_LITERAL)).then_some(set)
}

/// The characters of a small class, each as a literal.
fn class_literals(class: &Class) -> Option<Vec<Vec<u8>>> {
    let Class::Unicode(c) = class else {
        return None;
    };
    let mut out = Vec::new();
    for r in c.ranges() {
        for ch in r.start()..=r.end() {
            if out.len() == MAX_CLASS {
                return None;
            }
            out.push(ch.to_string().into_bytes());
        }
    }
    Some(out)
}

/// How well a set turns lines away: longer shortest literal first, then
/// fewer literals.
fn rank(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(set.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(pattern: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::parse(pattern).unwrap();
        required(&hir).map(|s| {
            s.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn the_most_selective_required_part_is_chosen() {
        // The two alternations are both required; the one whose shortest
        // word is longer (不代表, 6 bytes, against 号, 3) wins.
        assert_eq!(
            literals(
                r"^[(（]?\s*[^。]{0,60}(?:政务号|[\p{Han}]{1,3}号|入驻)[^\n]{0,80}?(?:不代表|仅提供信息)"
            ),
            Some(vec!["不代表".to_string(), "仅提供信息".to_string()])
        );
        assert_eq!(literals(r"^附件[:：]?\s*$"), Some(vec!["附件".to_string()]));
        assert_eq!(
            literals(r"^来源\s*[:：]\s*\S+$"),
            Some(vec!["来源".to_string()])
        );
    }

    #[test]
    fn optional_or_open_parts_give_no_gate() {
        // An optional word is not required; a branch without a literal
        // leaves the alternation without one; a big class is not a list.
        assert_eq!(literals(r"^(?:更多)?\d+$"), None);
        assert_eq!(literals(r"^(?:展开|\d+)$"), None);
        assert_eq!(literals(r"^[a-z]+$"), None);
        // Small classes count, but not with a one-byte member: a colon
        // in either width is on too many lines.
        assert_eq!(
            literals(r"^\d+[：﹕]$"),
            Some(vec!["﹕".to_string(), "：".to_string()])
        );
        assert_eq!(literals(r"^\d+[:：]$"), None);
    }

    #[test]
    fn a_gate_never_refuses_a_line_its_pattern_matches() {
        let patterns = [
            r"^[(（【\[]?\s*(?:本文来源|来源|稿源)\s*[:：]\s*(?P<source>[^()（）]{2,40}?)\s*[)）】\]]?\s*$",
            r"^(?:.*(?:Copyright|版权所有|©|ICP备\d).*)$",
            r"^(?:如有侵权|版权声明)[^。]{0,60}[。!!]?$",
            r"(?i)^(?:advertisement|sponsored(?: content)?)$",
            r"^\d{1,6}$",
        ];
        let lines = [
            "来源：上海市闵行区人民政府官网",
            "（稿源: 新华网）",
            "Copyright © 2022 上海园区招商网",
            "沪ICP备12345678号",
            "如有侵权请联系删除。",
            "ADVERTISEMENT",
            "Sponsored content",
            "闵行区持续优化营商环境。",
            "",
        ];
        let gates = Gates::of(patterns);
        for (i, p) in patterns.iter().enumerate() {
            let re = regex::Regex::new(p).unwrap();
            for l in lines {
                if re.is_match(l) {
                    assert!(gates.admitted(l).has(i), "{p} refused {l:?}");
                }
            }
        }
        let body = gates.admitted("闵行区持续优化营商环境。");
        // Three patterns have literals the line lacks; the case-insensitive
        // one (its letters one-byte classes) and the last have none: open.
        assert_eq!(
            (0..5).map(|i| body.has(i)).collect::<Vec<_>>(),
            [false, false, false, true, true]
        );
    }
}
