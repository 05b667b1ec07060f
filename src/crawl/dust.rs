//! Learned duplicate rules ("DUST": different URLs, similar text): per host,
//! URL rewrites that the host's own `<link rel=canonical>` prove harmless,
//! so that the variants of a page already fetched or queued are not
//! fetched again.
//!
//! A rewrite is a trailing slash dropped or added, or one query parameter
//! dropped. A page fetched at `u` whose canonical `c` is `u` rewritten
//! (alone, or with one other rewrite of `u`) is one confirming page; after
//! [`CONFIRM_AFTER`] of them the rule is confirmed and applied. A canonical
//! that the rewrite would change (a canonical that keeps the parameter, or
//! the slash) contradicts it: the rule is retracted for good, since the host
//! has shown that the rewrite can lead away from a page it names as the
//! true one. A host whose pages declare no canonical learns nothing, so
//! nothing is applied there. Confirmed and retracted rules are kept in the
//! crawl state (`--state`) for the next run.
//!
//! Hosts are compared by name without scheme or port (a portal's canonical
//! often names `https` for a page fetched over `http`).

use std::collections::HashMap;

use url::Url;

use crate::fetch::origin::normal_host;

/// Confirming pages, without a contradiction, before a rule is applied.
pub const CONFIRM_AFTER: u32 = 3;

/// Candidate rules followed per host: a page with hundreds of parameters
/// must not make a host's table grow without bound.
const MAX_RULES_PER_HOST: usize = 64;

/// Parameter names longer than this are not learned about.
const MAX_PARAM_LEN: usize = 64;

/// One URL rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rewrite {
    /// `/a/b/` → `/a/b` (never the root `/`).
    StripSlash,
    /// `/a/b` → `/a/b/`.
    AddSlash,
    /// `?id=1&ref=x` → `?id=1`.
    DropParam(String),
}

impl Rewrite {
    /// `url` rewritten, or `None` when the rewrite does not apply to it.
    pub fn apply(&self, url: &Url) -> Option<Url> {
        let mut u = url.clone();
        match self {
            Rewrite::StripSlash => {
                let p = url.path();
                if p.len() <= 1 || !p.ends_with('/') {
                    return None;
                }
                u.set_path(p.strip_suffix('/').unwrap_or(p));
            }
            Rewrite::AddSlash => {
                let p = url.path();
                if p.ends_with('/') {
                    return None;
                }
                u.set_path(&format!("{p}/"));
            }
            Rewrite::DropParam(name) => {
                let q = url.query()?;
                let kept: Vec<&str> = q
                    .split('&')
                    .filter(|p| !p.is_empty() && param_name(p) != name)
                    .collect();
                if kept.len() == q.split('&').filter(|p| !p.is_empty()).count() {
                    return None;
                }
                u.set_query((!kept.is_empty()).then(|| kept.join("&")).as_deref());
            }
        }
        Some(u)
    }

    /// The rewrites that apply to `url`.
    fn candidates(url: &Url) -> Vec<Rewrite> {
        let mut out = Vec::new();
        let p = url.path();
        if p.len() > 1 && p.ends_with('/') {
            out.push(Rewrite::StripSlash);
        } else if !p.ends_with('/') {
            out.push(Rewrite::AddSlash);
        }
        for pair in url.query().unwrap_or("").split('&') {
            let name = param_name(pair);
            let rule = Rewrite::DropParam(name.to_string());
            if !name.is_empty() && name.len() <= MAX_PARAM_LEN && !out.contains(&rule) {
                out.push(rule);
            }
        }
        out
    }

    /// How the state stores it: `strip-slash`, `add-slash`, `drop-param:NAME`.
    pub fn key(&self) -> String {
        match self {
            Rewrite::StripSlash => "strip-slash".into(),
            Rewrite::AddSlash => "add-slash".into(),
            Rewrite::DropParam(n) => format!("drop-param:{n}"),
        }
    }

    /// The inverse of [`key`](Self::key); `None` for a key this build does
    /// not know (a newer parkcrawl's), which is then ignored.
    pub fn from_key(key: &str) -> Option<Rewrite> {
        match key {
            "strip-slash" => Some(Rewrite::StripSlash),
            "add-slash" => Some(Rewrite::AddSlash),
            k => k
                .strip_prefix("drop-param:")
                .filter(|n| !n.is_empty())
                .map(|n| Rewrite::DropParam(n.to_string())),
        }
    }

    /// For messages: "a trailing slash", "parameter `ref`".
    pub fn describe(&self) -> String {
        match self {
            Rewrite::StripSlash => "trailing slash dropped".into(),
            Rewrite::AddSlash => "trailing slash added".into(),
            Rewrite::DropParam(n) => format!("parameter `{n}` dropped"),
        }
    }
}

/// Where a rule stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Seen confirmed by fewer than [`CONFIRM_AFTER`] pages: not applied.
    Candidate,
    Confirmed,
    /// Contradicted by a canonical: never applied again on this host.
    Retracted,
}

impl Standing {
    pub fn name(self) -> &'static str {
        match self {
            Standing::Candidate => "candidate",
            Standing::Confirmed => "confirmed",
            Standing::Retracted => "retracted",
        }
    }

    pub fn from_name(s: &str) -> Option<Standing> {
        match s {
            "candidate" => Some(Standing::Candidate),
            "confirmed" => Some(Standing::Confirmed),
            "retracted" => Some(Standing::Retracted),
            _ => None,
        }
    }
}

/// One rule of one host, as learned and as the state keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Learned {
    /// The host name (lower case, no trailing dot).
    pub host: String,
    pub rewrite: Rewrite,
    /// Pages whose canonical confirmed it.
    pub confirmations: u32,
    pub standing: Standing,
}

/// Every host's rules.
#[derive(Debug, Default)]
pub struct Dust {
    hosts: HashMap<String, Vec<Learned>>,
    /// Rules confirmed or retracted so far (a change count, so that a
    /// caller can tell whether anything changed since it last looked).
    changes: u64,
}

/// The host name rules are kept under.
fn host_of(url: &Url) -> Option<String> {
    url.host_str().map(normal_host)
}

/// A URL without its scheme and port: where canonicals and fetched URLs are
/// compared.
fn place(url: &Url) -> (Option<String>, &str, Option<&str>) {
    (host_of(url), url.path(), url.query())
}

fn same_place(a: &Url, b: &Url) -> bool {
    place(a) == place(b)
}

fn param_name(p: &str) -> &str {
    p.split('=').next().unwrap_or("")
}

impl Dust {
    /// The rules an earlier run kept.
    pub fn from_saved(rules: Vec<Learned>) -> Dust {
        let mut d = Dust::default();
        for r in rules {
            d.hosts.entry(r.host.clone()).or_default().push(r);
        }
        d
    }

    /// What a page fetched at `url` with the canonical link `canonical`
    /// (both in canonical form) teaches. Returns the rules whose standing
    /// changed (confirmed or retracted now), for the state to keep.
    pub fn observe(&mut self, url: &Url, canonical: &Url) -> Vec<Learned> {
        let (Some(host), Some(chost)) = (host_of(url), host_of(canonical)) else {
            return Vec::new();
        };
        // A canonical on another host says nothing of this host's URLs.
        if host != chost {
            return Vec::new();
        }
        let rules = self.hosts.entry(host.clone()).or_default();
        let mut changed = Vec::new();
        // A canonical a rule would rewrite contradicts it.
        for r in rules.iter_mut() {
            if r.standing != Standing::Retracted && r.rewrite.apply(canonical).is_some() {
                let was = r.standing;
                r.standing = Standing::Retracted;
                tracing::info!(host = %r.host, rule = %r.rewrite.key(), was = was.name(), url = %url, canonical = %canonical, "learned rule retracted");
                changed.push(r.clone());
            }
        }
        let candidates = Rewrite::candidates(url);
        for rw in &candidates {
            if rw.apply(canonical).is_some() || !proves(rw, url, canonical, &candidates) {
                continue;
            }
            let r = match rules.iter_mut().position(|r| &r.rewrite == rw) {
                Some(i) => &mut rules[i],
                None if rules.len() < MAX_RULES_PER_HOST => {
                    rules.push(Learned {
                        host: host.clone(),
                        rewrite: rw.clone(),
                        confirmations: 0,
                        standing: Standing::Candidate,
                    });
                    rules.last_mut().expect("just pushed")
                }
                None => continue,
            };
            if r.standing == Standing::Retracted {
                continue;
            }
            r.confirmations = r.confirmations.saturating_add(1);
            if r.standing == Standing::Candidate && r.confirmations >= CONFIRM_AFTER {
                r.standing = Standing::Confirmed;
                tracing::info!(host = %r.host, rule = %r.rewrite.key(), "learned rule confirmed");
                changed.push(r.clone());
            }
        }
        self.changes += changed.len() as u64;
        changed
    }

    /// Rules another worker of a fleet saved, for a host this one just took
    /// over: a rule not known here is added, one known here takes the saved
    /// standing, but a retraction is never undone.
    pub fn adopt(&mut self, saved: Vec<Learned>) {
        for r in saved {
            let rules = self.hosts.entry(r.host.clone()).or_default();
            match rules.iter_mut().find(|l| l.rewrite == r.rewrite) {
                Some(l) if l.standing == Standing::Retracted || l.standing == r.standing => {}
                Some(l) => {
                    *l = r;
                    self.changes += 1;
                }
                None => {
                    rules.push(r);
                    self.changes += 1;
                }
            }
        }
    }

    /// How many times a rule was confirmed or retracted so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// `url` under its host's confirmed rules, with the rules that changed
    /// it; `None` when none applies.
    pub fn rewrite(&self, url: &Url) -> Option<(Url, Vec<Rewrite>)> {
        let rules = self.hosts.get(&host_of(url)?)?;
        let mut u = url.clone();
        let mut used = Vec::new();
        for r in rules.iter().filter(|r| r.standing == Standing::Confirmed) {
            if let Some(next) = r.rewrite.apply(&u) {
                u = next;
                used.push(r.rewrite.clone());
            }
        }
        (!used.is_empty()).then_some((u, used))
    }

    /// `url` under each unconfirmed rule of its host that one page at least
    /// confirmed: where fetching `url` would teach something.
    pub fn candidate_rewrites(&self, url: &Url) -> Vec<Url> {
        let Some(rules) = host_of(url).and_then(|h| self.hosts.get(&h)) else {
            return Vec::new();
        };
        rules
            .iter()
            .filter(|r| r.standing == Standing::Candidate && r.confirmations > 0)
            .filter_map(|r| r.rewrite.apply(url))
            .collect()
    }

    /// Every rule of `host` (for tests and `status`).
    pub fn rules_of(&self, host: &str) -> &[Learned] {
        self.hosts.get(host).map_or(&[], Vec::as_slice)
    }
}

/// `rw` leads from `url` to `canonical`: alone, or with one other rewrite
/// of `url` (a variant with both a slash and a tracking parameter).
fn proves(rw: &Rewrite, url: &Url, canonical: &Url, candidates: &[Rewrite]) -> bool {
    let Some(once) = rw.apply(url) else {
        return false;
    };
    same_place(&once, canonical)
        || candidates
            .iter()
            .filter(|o| *o != rw)
            .filter_map(|o| o.apply(&once))
            .any(|twice| same_place(&twice, canonical))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_adopted_from_another_worker_never_undo_a_retraction() {
        let rule = |rewrite: Rewrite, standing| Learned {
            host: "a.cn".into(),
            rewrite,
            confirmations: 3,
            standing,
        };
        let mut d = Dust::from_saved(vec![rule(Rewrite::StripSlash, Standing::Retracted)]);
        let before = d.changes();
        d.adopt(vec![
            rule(Rewrite::StripSlash, Standing::Confirmed),
            rule(Rewrite::DropParam("ref".into()), Standing::Confirmed),
        ]);
        assert_eq!(
            d.rules_of("a.cn"),
            [
                rule(Rewrite::StripSlash, Standing::Retracted),
                rule(Rewrite::DropParam("ref".into()), Standing::Confirmed)
            ]
        );
        assert_eq!(d.changes(), before + 1);
        let u = Url::parse("http://a.cn/p?ref=x").unwrap();
        assert_eq!(d.rewrite(&u).unwrap().0.as_str(), "http://a.cn/p");
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn rewrites_apply_where_they_can() {
        let s = Rewrite::StripSlash;
        assert_eq!(
            s.apply(&u("http://a.cn/x/")).unwrap().as_str(),
            "http://a.cn/x"
        );
        assert_eq!(s.apply(&u("http://a.cn/")), None);
        assert_eq!(s.apply(&u("http://a.cn/x")), None);
        let a = Rewrite::AddSlash;
        assert_eq!(
            a.apply(&u("http://a.cn/x?q=1")).unwrap().as_str(),
            "http://a.cn/x/?q=1"
        );
        let d = Rewrite::DropParam("ref".into());
        assert_eq!(
            d.apply(&u("http://a.cn/v?id=1&ref=x&ref=y"))
                .unwrap()
                .as_str(),
            "http://a.cn/v?id=1"
        );
        assert_eq!(
            d.apply(&u("http://a.cn/v?ref=x")).unwrap().as_str(),
            "http://a.cn/v"
        );
        assert_eq!(d.apply(&u("http://a.cn/v?refer=x")), None);
        for r in [s, a, d] {
            assert_eq!(Rewrite::from_key(&r.key()), Some(r));
        }
        assert_eq!(Rewrite::from_key("drop-param:"), None);
        assert_eq!(Rewrite::from_key("lowercase"), None);
    }

    #[test]
    fn confirmed_after_three_pages_then_applied() {
        let mut d = Dust::default();
        for i in 1..CONFIRM_AFTER {
            let got = d.observe(
                &u(&format!("http://a.cn/n/{i}/")),
                &u(&format!("https://a.cn/n/{i}")),
            );
            assert!(got.is_empty());
            assert!(d.rewrite(&u("http://a.cn/n/9/")).is_none());
        }
        let got = d.observe(&u("http://a.cn/n/3/"), &u("http://a.cn/n/3"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].standing, Standing::Confirmed);
        let (r, used) = d.rewrite(&u("http://a.cn/n/9/")).unwrap();
        assert_eq!(r.as_str(), "http://a.cn/n/9");
        assert_eq!(used, [Rewrite::StripSlash]);
        // Another host learned nothing.
        assert!(d.rewrite(&u("http://b.cn/n/9/")).is_none());
    }

    #[test]
    fn a_parameter_with_a_slash_variant_and_a_contradiction() {
        let mut d = Dust::default();
        for i in 0..3 {
            d.observe(
                &u(&format!("http://a.cn/v/?id={i}&ref=home")),
                &u(&format!("http://a.cn/v?id={i}")),
            );
        }
        let (r, _) = d.rewrite(&u("http://a.cn/v/?id=7&ref=list")).unwrap();
        assert_eq!(r.as_str(), "http://a.cn/v?id=7");
        // `id` is never a candidate: the canonical keeps it.
        assert!(
            d.rules_of("a.cn")
                .iter()
                .all(|r| r.rewrite != Rewrite::DropParam("id".into()))
        );
        // A page whose canonical keeps `ref` retracts its rule, only it.
        let got = d.observe(&u("http://a.cn/w?ref=2"), &u("http://a.cn/w?ref=2"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].rewrite, Rewrite::DropParam("ref".into()));
        assert_eq!(got[0].standing, Standing::Retracted);
        let (r, _) = d.rewrite(&u("http://a.cn/v/?id=7&ref=list")).unwrap();
        assert_eq!(r.as_str(), "http://a.cn/v?id=7&ref=list");
        // Retracted for good: more confirming pages do not bring it back.
        for i in 10..20 {
            d.observe(
                &u(&format!("http://a.cn/v?id={i}&ref=x")),
                &u(&format!("http://a.cn/v?id={i}")),
            );
        }
        assert!(d.rewrite(&u("http://a.cn/v?id=7&ref=list")).is_none());
    }

    #[test]
    fn self_canonicals_and_other_hosts_teach_nothing_to_apply() {
        let mut d = Dust::default();
        for i in 0..10 {
            d.observe(
                &u(&format!("http://a.cn/p{i}")),
                &u(&format!("http://a.cn/p{i}")),
            );
            d.observe(
                &u(&format!("http://a.cn/q{i}/")),
                &u(&format!("http://b.cn/q{i}")),
            );
        }
        assert!(d.rewrite(&u("http://a.cn/q1/")).is_none());
        assert!(
            d.rules_of("a.cn")
                .iter()
                .all(|r| r.standing != Standing::Confirmed)
        );
    }
}
