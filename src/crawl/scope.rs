//! Scope: which URLs a crawl may follow. By default the seeds' origins
//! (and the other hosts of a site rule that matches a seed host); within
//! them, the rule's `follow` patterns (when it has any) and never its
//! `avoid` patterns. Seeds themselves are given explicitly and bypass the
//! patterns.
//!
//! An origin is scheme, host and port ([`Origin`]): a link from
//! `http://seed.test/` to `http://seed.test:8081/` (another server on the
//! same machine) is out of scope, unless a seed redirected there. The same
//! host on the other web scheme's default port (`https://seed.test/`) is
//! the same site ([`Origin::same_site`]) and in scope: portals mix the two
//! in their links. A trailing dot names the same host (`http://seed.test./`
//! is the seed's origin) but never another port. A site rule names hosts,
//! not ports: its other hosts are in scope on the default port of http or
//! https.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use url::Url;

use crate::fetch::origin::Origin;
use crate::rules::{PageSignals, Rule, RuleSet, path_and_query};

#[derive(Debug)]
pub struct Scope {
    /// Origins of the seeds and sitemaps given, and the origins seeds
    /// redirected to (`example.cn` → `https://www.example.cn`).
    origins: RwLock<HashSet<Origin>>,
    /// Ids of the site rules matching a seed host: their other hosts are in
    /// scope too (`sh.taxs.vip` and `www.taxs.vip` are one site).
    rule_ids: HashSet<String>,
    rules: Arc<RuleSet>,
    /// `crawl --follow` / `--avoid`, on top of the rules' patterns.
    patterns: Patterns,
}

/// The command line's patterns (wget's `--accept-regex` /
/// `--reject-regex`), matched against the whole URL: a link is followed
/// only if it matches one `follow` (when there are any), and no link or
/// redirect matching an `avoid` is.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    pub follow: Vec<regex::Regex>,
    pub avoid: Vec<regex::Regex>,
}

impl Scope {
    pub fn new<'a>(seeds: impl IntoIterator<Item = &'a Url>, rules: Arc<RuleSet>) -> Scope {
        let mut origins = HashSet::new();
        let mut rule_ids = HashSet::new();
        for u in seeds {
            origins.extend(Origin::of(u));
            let r = rule_for(&rules, u);
            if r.id != rules.generic.id {
                rule_ids.insert(r.id.clone());
            }
        }
        Scope {
            origins: RwLock::new(origins),
            rule_ids,
            rules,
            patterns: Patterns::default(),
        }
    }

    /// With the command line's `--follow` / `--avoid` patterns.
    pub fn with_patterns(mut self, patterns: Patterns) -> Scope {
        self.patterns = patterns;
        self
    }

    /// Takes `url`'s origin into the crawl: a seed redirected there.
    pub fn adopt(&self, url: &Url) {
        if let Some(o) = Origin::of(url) {
            tracing::info!(origin = %o, "a seed redirected to this origin: in scope");
            self.origins.write().expect("scope origins").insert(o);
        }
    }

    pub fn rule(&self, url: &Url) -> &Rule {
        rule_for(&self.rules, url)
    }

    /// Whether `url`'s origin belongs to the crawl: a seed's, or a host of
    /// a seed's site rule on its scheme's default port.
    pub fn origin_in_scope(&self, url: &Url) -> bool {
        let Some(o) = Origin::of(url) else {
            return false;
        };
        let origins = self.origins.read().expect("scope origins");
        origins.iter().any(|s| s.same_site(&o))
            || (o.default_port()
                && self
                    .rules
                    .sites
                    .iter()
                    .any(|r| self.rule_ids.contains(&r.id) && r.matches_host(&o.host)))
    }

    /// A link found on a page (or in a sitemap): origin, then the rule's
    /// follow and avoid patterns.
    pub fn link(&self, url: &Url) -> Result<(), String> {
        self.hop(url)?;
        let rule = self.rule(url);
        let path = path_and_query(url);
        if !rule.crawl.follow.is_empty() && !rule.crawl.follow.iter().any(|re| re.is_match(&path)) {
            return Err(format!("not a path rule {} follows", rule.id));
        }
        let follow = &self.patterns.follow;
        if !follow.is_empty() && !follow.iter().any(|re| re.is_match(url.as_str())) {
            return Err("matches no --follow pattern".to_string());
        }
        Ok(())
    }

    /// A redirect target: the origin and the avoid patterns (a followed
    /// link may land on a path the follow patterns do not list).
    pub fn hop(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{} URL", url.scheme()));
        }
        if !self.origin_in_scope(url) {
            return Err(match Origin::of(url) {
                Some(o) => format!("{o} is not one of the seeds' origins"),
                None => "a URL without a host".to_string(),
            });
        }
        let rule = self.rule(url);
        let path = path_and_query(url);
        if let Some(re) = rule.crawl.avoid.iter().find(|re| re.is_match(&path)) {
            return Err(format!("avoided by rule {} ({})", rule.id, re.as_str()));
        }
        if let Some(re) = self
            .patterns
            .avoid
            .iter()
            .find(|re| re.is_match(url.as_str()))
        {
            return Err(format!("avoided by --avoid {}", re.as_str()));
        }
        Ok(())
    }
}

fn rule_for<'r>(rules: &'r RuleSet, url: &Url) -> &'r Rule {
    rules.select(&PageSignals {
        url: Some(url),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_hosts_and_rule_patterns() {
        let rules = Arc::new(RuleSet::builtin().unwrap());
        let seed = Url::parse("http://sh.taxs.vip/").unwrap();
        let other = Url::parse("http://example.cn/").unwrap();
        let s = Scope::new([&seed, &other], rules);
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(s.link(&u("http://sh.taxs.vip/news/view.html?id=1")).is_ok());
        assert!(
            s.link(&u("http://www.taxs.vip/park/view.html?id=2"))
                .is_ok()
        );
        assert!(s.link(&u("http://sh.taxs.vip/member/login")).is_err());
        assert!(s.link(&u("http://sh.taxs.vip/uploads/a.pdf")).is_err());
        assert!(s.link(&u("http://sh.taxs.vip/about.html")).is_err());
        assert!(s.hop(&u("http://sh.taxs.vip/about.html")).is_ok());
        assert!(s.link(&u("http://example.cn/anything")).is_ok());
        assert!(s.link(&u("http://elsewhere.cn/")).is_err());
    }

    #[test]
    fn scope_is_by_origin() {
        let rules = Arc::new(RuleSet::builtin().unwrap());
        let seed = Url::parse("http://seed.test/").unwrap();
        let s = Scope::new([&seed], rules.clone());
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(s.link(&u("http://seed.test/a")).is_ok());
        assert!(s.link(&u("http://SEED.test:80/a")).is_ok());
        assert!(s.link(&u("http://seed.test./a")).is_ok(), "trailing dot");
        for other in [
            "http://seed.test:8081/a",
            "http://seed.test.:8081/a",
            "http://seed.test:443/a",
            "https://seed.test:80/a",
            "http://sub.seed.test/a",
        ] {
            let e = s.link(&u(other)).unwrap_err();
            assert!(
                e.contains("is not one of the seeds' origins"),
                "{other}: {e}"
            );
        }
        assert_eq!(
            s.hop(&u("http://seed.test.:8081/")).unwrap_err(),
            "http://seed.test:8081 is not one of the seeds' origins"
        );
        // The other web scheme on its default port is the same site.
        assert!(s.link(&u("https://seed.test/a")).is_ok());
        // A seed's redirect brings its target's origin in, that one only.
        assert!(s.link(&u("http://seed.test:8443/b")).is_err());
        s.adopt(&u("http://seed.test:8443/"));
        assert!(s.link(&u("http://seed.test:8443/b")).is_ok());
        assert!(s.link(&u("http://seed.test:8444/b")).is_err());
        // A seed on another port: that port, not the default one.
        let s = Scope::new([&u("http://seed.test:8081/")], rules.clone());
        assert!(s.link(&u("http://seed.test:8081/a")).is_ok());
        assert!(s.link(&u("http://seed.test/a")).is_err());
        // A site rule's hosts: on the default ports of either scheme only.
        let s = Scope::new([&u("http://sh.taxs.vip/")], rules);
        assert!(s.hop(&u("http://www.taxs.vip/park/view.html?id=2")).is_ok());
        assert!(
            s.hop(&u("https://www.taxs.vip/park/view.html?id=2"))
                .is_ok()
        );
        assert!(
            s.hop(&u("http://www.taxs.vip:8080/park/view.html?id=2"))
                .is_err()
        );
        assert!(s.hop(&u("http://sh.taxs.vip:8080/")).is_err());
    }
}
