//! Rule files → compiled [`Rule`]s. Precedence, written once: a site rule's
//! selectors and patterns come before the generic ones; lists of labels and
//! districts are the union; a scalar (time zone) from the site wins.

use std::path::Path;

use jiff::tz::TimeZone;
use regex::Regex;
use scraper::Selector;
use url::Url;

use super::raw::{
    RawBoilerplate, RawCrawl, RawDistrict, RawKinds, RawLabels, RawMatch, RawPark, RawRule,
    RawSelectors,
};
use super::{Boilerplate, CrawlRule, District, GENERIC_ID, Kind, Labels, Rule, RuleSet, Selectors};

/// A rule that cannot be used. Always names the file, and the key when the
/// fault is in one value.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: key `{key}`: {message}")]
    Invalid {
        file: String,
        key: String,
        message: String,
    },
    #[error("{file}: rule id `{id}` is also defined in {other}")]
    Duplicate {
        file: String,
        id: String,
        other: String,
    },
}

/// Every `*.toml` file in `dir`, sorted by name, as (path, text).
pub fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, RuleError> {
    let io = |e| RuleError::Io {
        file: dir.display().to_string(),
        source: e,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let file = p.display().to_string();
            std::fs::read_to_string(&p)
                .map(|text| (file.clone(), text))
                .map_err(|source| RuleError::Io { file, source })
        })
        .collect()
}

/// Parse and compile every file; later files with an id already seen replace
/// the earlier rule (that is how `--rules DIR` overrides a built-in rule).
pub fn compile_all(files: Vec<(String, String)>) -> Result<RuleSet, RuleError> {
    let mut raws: Vec<(String, RawRule)> = Vec::new();
    for (file, text) in files {
        let raw = parse(&file, &text)?;
        let builtin = file.starts_with("<built-in>/");
        match raws.iter().position(|(_, r)| r.id == raw.id) {
            // Two files of one directory with one id is a mistake; a file of
            // --rules replacing a built-in one is the point of --rules.
            Some(i) if !builtin && !raws[i].0.starts_with("<built-in>/") => {
                return Err(RuleError::Duplicate {
                    file,
                    id: raw.id,
                    other: raws[i].0.clone(),
                });
            }
            Some(i) => raws[i] = (file, raw),
            None => raws.push((file, raw)),
        }
    }
    let gi = raws
        .iter()
        .position(|(_, r)| r.id == GENERIC_ID)
        .ok_or_else(|| RuleError::Invalid {
            file: "<rules>".into(),
            key: "id".into(),
            message: format!("no rule has id `{GENERIC_ID}` (the defaults every rule extends)"),
        })?;
    let (gfile, graw) = raws.remove(gi);
    let generic = compile(&gfile, graw, None)?;
    let sites: Vec<Rule> = raws
        .into_iter()
        .map(|(file, raw)| compile(&file, raw, Some(&generic)))
        .collect::<Result<_, _>>()?;
    let selector_attrs = selector_attrs(sites.iter().chain([&generic]));
    Ok(RuleSet {
        sites,
        generic,
        selector_attrs,
    })
}

fn parse(file: &str, text: &str) -> Result<RawRule, RuleError> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        RuleError::Syntax {
            file: file.to_string(),
            line,
            message: e.message().replace('\n', " "),
        }
    })
}

/// Compiles one rule; `base` is the generic rule it extends (None for the
/// generic rule itself). One function per section of a rule file, in the
/// order the faults are reported.
fn compile(file: &str, raw: RawRule, base: Option<&Rule>) -> Result<Rule, RuleError> {
    let c = Ctx { file };
    check_id(&c, &raw.id)?;
    let timezone = timezone(&c, raw.timezone.as_deref(), base)?;
    let kinds = kinds(&c, &raw.kinds)?;
    let selectors = selectors(&c, &raw.selectors, base)?;
    let boilerplate = boilerplate(&c, &raw.boilerplate, base)?;
    let labels = c.labels(&raw.labels, base.map(|b| &b.labels))?;
    let park_url = park_url(&c, raw.park.as_ref(), base)?;
    let districts = districts(&raw.district, base);
    let crawl = crawl(&c, &raw.crawl, base)?;
    let hosts = hosts(&c, &raw.matching, base)?;
    Ok(Rule {
        id: raw.id,
        file: file.to_string(),
        name: raw.name,
        timezone,
        hosts,
        signatures: raw.matching.signatures,
        kinds,
        selectors,
        boilerplate_gates: super::gate::Gates::of(boilerplate.iter().map(|b| b.regex.as_str())),
        boilerplate,
        labels,
        park_url,
        district_finder: super::DistrictFinder::new(&districts),
        districts,
        crawl,
    })
}

/// `id`: one word, since it names the rule in records and on the command line.
fn check_id(c: &Ctx, id: &str) -> Result<(), RuleError> {
    if id.trim().is_empty() || id.chars().any(char::is_whitespace) {
        return Err(c.invalid("id", "must be a non-empty word (e.g. the site's host)"));
    }
    Ok(())
}

/// `timezone`: the site's own wins, else the generic rule's, else UTC.
fn timezone(c: &Ctx, name: Option<&str>, base: Option<&Rule>) -> Result<TimeZone, RuleError> {
    Ok(match (name, base) {
        (Some(name), _) => TimeZone::get(name)
            .map_err(|e| c.invalid("timezone", &format!("unknown time zone `{name}`: {e}")))?,
        (None, Some(b)) => b.timezone.clone(),
        (None, None) => TimeZone::UTC,
    })
}

/// `[kinds]`: URL patterns per kind of page, in the order kinds are tried.
fn kinds(c: &Ctx, raw: &RawKinds) -> Result<Vec<(Kind, Regex)>, RuleError> {
    let mut kinds = Vec::new();
    for (kind, key, pats) in [
        (Kind::Article, "kinds.article", &raw.article),
        (Kind::Park, "kinds.park", &raw.park),
        (Kind::District, "kinds.district", &raw.district),
        (Kind::Page, "kinds.page", &raw.page),
    ] {
        for re in c.regexes(key, pats)? {
            kinds.push((kind, re));
        }
    }
    Ok(kinds)
}

/// `[selectors]`: the site's own first, then the generic ones; the index
/// over all of them is built once here.
fn selectors(c: &Ctx, s: &RawSelectors, base: Option<&Rule>) -> Result<Selectors, RuleError> {
    let bs = base.map(|b| &b.selectors);
    let inherit = |mut mine: Vec<Selector>, theirs: Option<&Vec<Selector>>| {
        if let Some(t) = theirs {
            mine.extend(t.iter().cloned());
        }
        mine
    };
    let own_content = c.selectors("selectors.content", &s.content)?;
    let mut selectors = Selectors {
        // The generic rule's own selectors are hints like any generic one.
        own_content: if base.is_some() { own_content.len() } else { 0 },
        content: inherit(own_content, bs.map(|b| &b.content)),
        title: inherit(
            c.selectors("selectors.title", &s.title)?,
            bs.map(|b| &b.title),
        ),
        header: inherit(
            c.selectors("selectors.header", &s.header)?,
            bs.map(|b| &b.header),
        ),
        drop: inherit(c.selectors("selectors.drop", &s.drop)?, bs.map(|b| &b.drop)),
        fields: inherit(
            c.selectors("selectors.fields", &s.fields)?,
            bs.map(|b| &b.fields),
        ),
        items: inherit(
            c.selectors("selectors.items", &s.items)?,
            bs.map(|b| &b.items),
        ),
        ..Selectors::default()
    };
    selectors.index = super::index::SelectorIndex::new([
        &selectors.content,
        &selectors.title,
        &selectors.header,
        &selectors.drop,
        &selectors.fields,
        &selectors.items,
    ]);
    Ok(selectors)
}

/// The named groups a boilerplate pattern may capture (what a removed line
/// may tell the record).
const CAPTURE_GROUPS: [&str; 4] = ["park_name", "park_url", "source", "author"];

/// `[[boilerplate]]`: the site's patterns first, then the generic ones.
fn boilerplate(
    c: &Ctx,
    raw: &[RawBoilerplate],
    base: Option<&Rule>,
) -> Result<Vec<Boilerplate>, RuleError> {
    let mut boilerplate = Vec::new();
    for (i, b) in raw.iter().enumerate() {
        let key = format!("boilerplate[{i}].pattern");
        if b.name.trim().is_empty() {
            return Err(c.invalid(&format!("boilerplate[{i}].name"), "must not be empty"));
        }
        let regex = c.regex(&key, &b.pattern)?;
        for group in regex.capture_names().flatten() {
            if !CAPTURE_GROUPS.contains(&group) {
                let known = CAPTURE_GROUPS.join(", ");
                return Err(c.invalid(&key, &format!("unknown group `{group}` (known: {known})")));
            }
        }
        boilerplate.push(Boilerplate {
            name: b.name.clone(),
            regex,
        });
    }
    if let Some(b) = base {
        boilerplate.extend(b.boilerplate.iter().map(|p| Boilerplate {
            name: p.name.clone(),
            regex: p.regex.clone(),
        }));
    }
    Ok(boilerplate)
}

/// `[park] url`: the pattern of a park page's URL, with its `id` group; the
/// site's own wins, else the generic rule's.
fn park_url(
    c: &Ctx,
    raw: Option<&RawPark>,
    base: Option<&Rule>,
) -> Result<Option<Regex>, RuleError> {
    let park_url = match (raw, base) {
        (Some(p), _) => Some(c.regex("park.url", &p.url)?),
        (None, Some(b)) => b.park_url.clone(),
        (None, None) => None,
    };
    if let Some(re) = &park_url
        && !re.capture_names().flatten().any(|n| n == "id")
    {
        return Err(c.invalid("park.url", "needs a named group `id` (the park's id)"));
    }
    Ok(park_url)
}

/// `[[district]]`: the site's districts, then the generic ones.
fn districts(raw: &[RawDistrict], base: Option<&Rule>) -> Vec<District> {
    let mut districts: Vec<District> = raw
        .iter()
        .map(|d| District {
            name: d.name.clone(),
            aliases: d.aliases.clone(),
        })
        .collect();
    if let Some(b) = base {
        districts.extend(b.districts.iter().cloned());
    }
    districts
}

/// `[crawl]`: seeds, follow/avoid patterns, rate and per_host are the site's own;
/// parameters to strip are the union with the generic rule's.
fn crawl(c: &Ctx, raw: &RawCrawl, base: Option<&Rule>) -> Result<CrawlRule, RuleError> {
    let mut crawl = CrawlRule {
        seeds: raw
            .seeds
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Url::parse(s).map_err(|e| c.invalid(&format!("crawl.seeds[{i}]"), &e.to_string()))
            })
            .collect::<Result<_, _>>()?,
        follow: c.regexes("crawl.follow", &raw.follow)?,
        avoid: c.regexes("crawl.avoid", &raw.avoid)?,
        rate: raw.rate,
        per_host: raw.per_host,
        strip_params: raw.strip_params.clone(),
    };
    if let Some(r) = crawl.rate
        && !(r.is_finite() && r > 0.0)
    {
        return Err(c.invalid(
            "crawl.rate",
            "must be a positive number of requests per second",
        ));
    }
    if crawl.per_host == Some(0) {
        return Err(c.invalid("crawl.per_host", "must be at least 1"));
    }
    if let Some(b) = base {
        crawl
            .strip_params
            .extend(b.crawl.strip_params.iter().cloned());
    }
    Ok(crawl)
}

/// `[match] hosts`, normalized (lower case, no trailing dot); a site rule
/// needs hosts or signatures, or it can never apply.
fn hosts(c: &Ctx, raw: &RawMatch, base: Option<&Rule>) -> Result<Vec<String>, RuleError> {
    let hosts = raw
        .hosts
        .iter()
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .collect::<Vec<_>>();
    if base.is_some() && hosts.is_empty() && raw.signatures.is_empty() {
        return Err(c.invalid(
            "match",
            "a site rule needs `match.hosts` or `match.signatures`, or it can never apply",
        ));
    }
    Ok(hosts)
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn invalid(&self, key: &str, message: &str) -> RuleError {
        RuleError::Invalid {
            file: self.file.to_string(),
            key: key.to_string(),
            message: message.to_string(),
        }
    }

    fn regex(&self, key: &str, pattern: &str) -> Result<Regex, RuleError> {
        Regex::new(pattern).map_err(|e| {
            // The regex crate's message spans lines (it draws a caret); keep
            // the error on one line.
            let msg = e.to_string();
            let last = msg.lines().last().unwrap_or("invalid regex").trim();
            self.invalid(key, &format!("invalid regex: {last}"))
        })
    }

    fn regexes(&self, key: &str, pats: &[String]) -> Result<Vec<Regex>, RuleError> {
        pats.iter()
            .enumerate()
            .map(|(i, p)| self.regex(&format!("{key}[{i}]"), p))
            .collect()
    }

    fn selectors(&self, key: &str, sels: &[String]) -> Result<Vec<Selector>, RuleError> {
        sels.iter()
            .enumerate()
            .map(|(i, s)| {
                Selector::parse(s).map_err(|e| {
                    self.invalid(
                        &format!("{key}[{i}]"),
                        &format!("invalid CSS selector `{s}`: {}", selector_problem(&e)),
                    )
                })
            })
            .collect()
    }

    fn labels(&self, raw: &RawLabels, base: Option<&Labels>) -> Result<Labels, RuleError> {
        let union = |mine: &[String], theirs: Option<&Vec<String>>| {
            let mut v: Vec<String> = mine.to_vec();
            for t in theirs.into_iter().flatten() {
                if !v.contains(t) {
                    v.push(t.clone());
                }
            }
            // Longest first, so that 浏览量 is tried before 浏览.
            v.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
            v
        };
        let mut noise = self.regexes("labels.noise", &raw.noise)?;
        let mut clock = self.regexes("labels.clock", &raw.clock)?;
        if let Some(b) = base {
            noise.extend(b.noise.iter().cloned());
            clock.extend(b.clock.iter().cloned());
        }
        let date = union(&raw.date, base.map(|b| &b.date));
        let source = union(&raw.source, base.map(|b| &b.source));
        let author = union(&raw.author, base.map(|b| &b.author));
        let views = union(&raw.views, base.map(|b| &b.views));
        let editor = union(&raw.editor, base.map(|b| &b.editor));
        let alternation = |lists: &[&Vec<String>]| {
            let mut all: Vec<&String> = lists.iter().flat_map(|l| l.iter()).collect();
            all.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
            all.iter()
                .map(|s| regex::escape(s))
                .collect::<Vec<_>>()
                .join("|")
        };
        let marker = self.regex(
            "labels",
            &format!(
                r"(?P<label>{})\s*[:：]",
                alternation(&[&date, &source, &author, &views, &editor])
            ),
        )?;
        let views_count = self.regex(
            "labels.views",
            &format!(
                r"(?P<label>{})\s*[:：]?\s*(?P<n>\d[\d,]*)\s*(?:人次|次)?",
                alternation(&[&views])
            ),
        )?;
        let mut label_chars: Vec<char> = [&date, &source, &author, &views, &editor]
            .into_iter()
            .flatten()
            .flat_map(|l| l.chars())
            .collect();
        label_chars.sort_unstable();
        label_chars.dedup();
        Ok(Labels {
            marker,
            views_count,
            label_chars,
            date,
            source,
            author,
            views,
            editor,
            field: union(&raw.field, base.map(|b| &b.field)),
            district_field: union(&raw.district_field, base.map(|b| &b.district_field)),
            noise,
            clock,
        })
    }
}

/// The attribute names the rules' selectors test (`[data-id]`,
/// `a[onclick*=x]`), lower-cased.
fn selector_attrs<'a>(rules: impl Iterator<Item = &'a Rule>) -> Vec<String> {
    use scraper::selector::ToCss;
    let mut names: Vec<String> = Vec::new();
    for r in rules {
        let s = &r.selectors;
        let lists = [
            &s.content, &s.title, &s.header, &s.drop, &s.fields, &s.items,
        ];
        for sel in lists.into_iter().flatten() {
            let css = sel.to_css_string();
            for part in css.split('[').skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':'))
                    .collect::<String>()
                    .to_ascii_lowercase();
                if !name.is_empty() && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// What is wrong with a selector, in words. scraper wraps most of the
/// parser's errors as "Unexpected error occurred. Please report this to the
/// developer", which is not true of a typo in a rule file: the parser's own
/// kind (`DanglingCombinator`, `UnsupportedPseudoClassOrElement("hover")`)
/// says what is wrong, so it is spelled out as words with its argument.
fn selector_problem(e: &scraper::error::SelectorErrorKind) -> String {
    use scraper::error::SelectorErrorKind as K;
    let inner = match e {
        K::UnexpectedSelectorParseError(inner) => inner,
        K::EndOfLine => return "it ends too soon (an unclosed `[`, `(` or quote?)".into(),
        other => return other.to_string().replace('\n', ": "),
    };
    let debug = format!("{inner:?}");
    let (name, arg) = match debug.split_once('(') {
        Some((n, a)) => (n.to_string(), Some(a.trim_end_matches(')').to_string())),
        None => (debug.clone(), None),
    };
    let words = match name.as_str() {
        "DanglingCombinator" => "a combinator (`>`, `+`, `~`) with nothing after it".to_string(),
        "EmptySelector" => "an empty selector (nothing between commas, or after `#` or `.`)".to_string(),
        "UnsupportedPseudoClassOrElement" => "an unknown pseudo-class, or one that cannot match a parsed page (`:hover`, `::before`); structural ones (`:first-child`, `:not(…)`, `:has(…)`) work".to_string(),
        _ => {
            let mut w = String::new();
            for c in name.chars() {
                if c.is_ascii_uppercase() && !w.is_empty() {
                    w.push(' ');
                }
                w.push(c.to_ascii_lowercase());
            }
            w
        }
    };
    match arg {
        Some(a) if !a.is_empty() => format!("{words}: {a}"),
        _ => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_site(text: &str) -> Result<RuleSet, RuleError> {
        let mut files: Vec<(String, String)> = super::super::EMBEDDED
            .iter()
            .map(|(n, t)| (format!("<built-in>/{n}"), t.to_string()))
            .collect();
        files.push(("extra/bad.toml".into(), text.into()));
        compile_all(files)
    }

    /// A bad selector: file, key, selector and what is wrong, one line,
    /// never scraper's "report this to the developer".
    #[test]
    fn a_bad_selector_says_what_is_wrong() {
        let cases = [
            (
                "p >> a",
                "a combinator (`>`, `+`, `~`) with nothing after it",
            ),
            ("#", "an empty selector"),
            (
                "a:hover",
                "an unknown pseudo-class, or one that cannot match",
            ),
            ("div[", "it ends too soon"),
            ("div[[", "no qualified name in attribute selector"),
        ];
        for (sel, want) in cases {
            let text = format!(
                "id = \"x\"\n[match]\nhosts = [\"x.test\"]\n[selectors]\ncontent = [\"ok\", \"{sel}\"]\n"
            );
            let e = with_site(&text).unwrap_err().to_string();
            let head = format!(
                "extra/bad.toml: key `selectors.content[1]`: invalid CSS selector `{sel}`: {want}"
            );
            assert!(e.starts_with(&head), "{e}");
            assert!(!e.contains("developer") && !e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn errors_name_file_and_key() {
        let e =
            with_site("id = \"x\"\n[match]\nhosts=[\"x\"]\n[selectors]\ncontent = [\"div[\"]\n")
                .unwrap_err()
                .to_string();
        assert!(
            e.starts_with("extra/bad.toml: key `selectors.content[0]`"),
            "{e}"
        );
        let e = with_site("id = \"x\"\ncontnet = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("extra/bad.toml:2: unknown field `contnet`"),
            "{e}"
        );
        let e = with_site("id = \"x\"\ntimezone = \"Mars/Olympus\"\n[match]\nhosts=[\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("extra/bad.toml: key `timezone`"), "{e}");
        let e = with_site(
            "id = \"x\"\n[match]\nhosts=[\"x\"]\n[[boilerplate]]\nname=\"a\"\npattern=\"(?P<nope>x)\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("key `boilerplate[0].pattern`: unknown group `nope`"),
            "{e}"
        );
        let e = with_site("id = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("key `match`"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn a_site_rule_extends_the_generic_one() {
        let set =
            with_site("id = \"x\"\n[match]\nhosts=[\"*.x.cn\"]\n[selectors]\ncontent=[\".c\"]\n")
                .unwrap();
        let r = set.get("x").unwrap();
        assert_eq!(
            r.selectors.content.len(),
            set.generic.selectors.content.len() + 1
        );
        assert_eq!(r.boilerplate.len(), set.generic.boilerplate.len());
        assert!(r.matches_host("www.x.cn") && r.matches_host("x.cn") && !r.matches_host("xx.cn"));
        assert_eq!(r.timezone, set.generic.timezone);
    }

    #[test]
    fn scalars_from_the_site_win_lists_are_the_union() {
        let c = Ctx { file: "t.toml" };
        let generic = with_site("id = \"x\"\n[match]\nhosts=[\"x\"]\n")
            .unwrap()
            .generic;
        let tz = timezone(&c, Some("Asia/Shanghai"), Some(&generic)).unwrap();
        assert_eq!(tz, TimeZone::get("Asia/Shanghai").unwrap());
        assert_eq!(
            timezone(&c, None, Some(&generic)).unwrap(),
            generic.timezone
        );
        assert_eq!(timezone(&c, None, None).unwrap(), TimeZone::UTC);
        let raw = RawCrawl {
            strip_params: vec!["from".into()],
            ..Default::default()
        };
        let crawl = crawl(&c, &raw, Some(&generic)).unwrap();
        assert_eq!(crawl.strip_params[0], "from");
        assert_eq!(
            crawl.strip_params.len(),
            1 + generic.crawl.strip_params.len()
        );
        let mine = [RawDistrict {
            name: "某区".into(),
            aliases: vec![],
        }];
        let d = districts(&mine, Some(&generic));
        assert_eq!(d[0].name, "某区");
        assert_eq!(d.len(), 1 + generic.districts.len());
    }

    #[test]
    fn hosts_are_normalized_and_a_site_rule_must_match_something() {
        let c = Ctx { file: "t.toml" };
        let generic = with_site("id = \"x\"\n[match]\nhosts=[\"x\"]\n")
            .unwrap()
            .generic;
        let raw = RawMatch {
            hosts: vec![" WWW.Example.CN. ".into()],
            signatures: vec![],
        };
        assert_eq!(hosts(&c, &raw, Some(&generic)).unwrap(), ["www.example.cn"]);
        let none = RawMatch {
            hosts: vec![],
            signatures: vec![],
        };
        assert!(hosts(&c, &none, None).unwrap().is_empty());
        let e = hosts(&c, &none, Some(&generic)).unwrap_err().to_string();
        assert!(e.starts_with("t.toml: key `match`"), "{e}");
    }

    #[test]
    fn park_url_needs_an_id_group() {
        let c = Ctx { file: "t.toml" };
        let p = RawPark {
            url: r"/park/(?P<id>\d+)".into(),
        };
        assert!(park_url(&c, Some(&p), None).unwrap().is_some());
        let p = RawPark {
            url: r"/park/(\d+)".into(),
        };
        let e = park_url(&c, Some(&p), None).unwrap_err().to_string();
        assert!(
            e.starts_with("t.toml: key `park.url`: needs a named group `id`"),
            "{e}"
        );
        assert!(park_url(&c, None, None).unwrap().is_none());
    }
}
