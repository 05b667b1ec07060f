//! Scope: which URLs a crawl may follow. By default the seeds' hosts (and the
//! other hosts of a site rule that matches a seed host); within them, the
//! rule's `follow` patterns (when it has any) and never its `avoid` patterns.
//! Seeds themselves are given explicitly and bypass the patterns.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use url::Url;

use crate::rules::{PageSignals, Rule, RuleSet, path_and_query};

#[derive(Debug)]
pub struct Scope {
    /// Hosts of the seeds and sitemaps given, lower case, and the hosts
    /// seeds redirected to (`example.cn` → `www.example.cn`).
    hosts: RwLock<HashSet<String>>,
    /// Ids of the site rules matching a seed host: their other hosts are in
    /// scope too (`sh.taxs.vip` and `www.taxs.vip` are one site).
    rule_ids: HashSet<String>,
    rules: Arc<RuleSet>,
}

impl Scope {
    pub fn new<'a>(seeds: impl IntoIterator<Item = &'a Url>, rules: Arc<RuleSet>) -> Scope {
        let mut hosts = HashSet::new();
        let mut rule_ids = HashSet::new();
        for u in seeds {
            if let Some(h) = u.host_str() {
                hosts.insert(h.to_ascii_lowercase());
            }
            let r = rule_for(&rules, u);
            if r.id != rules.generic.id {
                rule_ids.insert(r.id.clone());
            }
        }
        Scope {
            hosts: RwLock::new(hosts),
            rule_ids,
            rules,
        }
    }

    /// Takes `url`'s host into the crawl: a seed redirected there.
    pub fn adopt(&self, url: &Url) {
        if let Some(h) = url.host_str() {
            let h = h.to_ascii_lowercase();
            tracing::info!(host = %h, "a seed redirected to this host: in scope");
            self.hosts.write().expect("scope hosts").insert(h);
        }
    }

    pub fn rule(&self, url: &Url) -> &Rule {
        rule_for(&self.rules, url)
    }

    /// Whether `url`'s host belongs to the crawl.
    pub fn host_in_scope(&self, url: &Url) -> bool {
        let Some(h) = url.host_str() else {
            return false;
        };
        self.hosts
            .read()
            .expect("scope hosts")
            .contains(&h.to_ascii_lowercase())
            || self
                .rules
                .sites
                .iter()
                .any(|r| self.rule_ids.contains(&r.id) && r.matches_host(h))
    }

    /// A link found on a page (or in a sitemap): host, then the rule's
    /// follow and avoid patterns.
    pub fn link(&self, url: &Url) -> Result<(), String> {
        self.hop(url)?;
        let rule = self.rule(url);
        let path = path_and_query(url);
        if !rule.crawl.follow.is_empty() && !rule.crawl.follow.iter().any(|re| re.is_match(&path)) {
            return Err(format!("not a path rule {} follows", rule.id));
        }
        Ok(())
    }

    /// A redirect target: the host and the avoid patterns (a followed link
    /// may land on a path the follow patterns do not list).
    pub fn hop(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{} URL", url.scheme()));
        }
        if !self.host_in_scope(url) {
            return Err(format!(
                "host {} is not one of the seeds' hosts",
                url.host_str().unwrap_or("")
            ));
        }
        let rule = self.rule(url);
        let path = path_and_query(url);
        if let Some(re) = rule.crawl.avoid.iter().find(|re| re.is_match(&path)) {
            return Err(format!("avoided by rule {} ({})", rule.id, re.as_str()));
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
}
