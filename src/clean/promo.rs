//! Site-style boilerplate found by what it is rather than by its wording
//! (used by `blocks.rs`):
//!
//! - **promo lines**: a short line that points to one of the site's park
//!   pages (by its link or a URL in its text) and that repeats on the page or
//!   stands after an image. However it is phrased (`欢迎访问…网址：…`,
//!   `想了解…请点击这里`, `关注…获取…`), that is the site advertising a park;
//!   the park it names is kept for the record;
//! - **park-page sections**: on a park profile, a heading whose section is
//!   only thumbnails and their names (a gallery) or only links to other
//!   parks' pages with a word or two beside them ("nearby parks").

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use scraper::Html;
use url::Url;

use super::linear::{Line, Unit};
use crate::dom::is_within;
use crate::extract::meta::resolve;
use crate::rules::Rule;

/// A promo is one short sentence: longer lines are body text that happens
/// to link a park.
const PROMO_MAX: usize = 50;

/// A park a promo line points to: its page URL (absolute) and id.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkLink {
    pub url: String,
    pub id: String,
}

static URL_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:https?://)?[\w.-]+\.[a-zA-Z]{2,}/[^\s,，。；;）)】]*").unwrap()
});

/// The site's park pages `line` points to: its links, then URLs written in
/// its text. Empty when the rule knows no park URL.
pub fn park_links(rule: &Rule, line: &Line, base: Option<&Url>) -> Vec<ParkLink> {
    let Some(re) = &rule.park_url else {
        return Vec::new();
    };
    let hrefs = line.links.iter().map(|(_, h)| h.clone());
    let written = URL_IN_TEXT.find_iter(&line.text).map(|m| {
        let u = m.as_str();
        if u.starts_with("http") {
            u.to_string()
        } else {
            format!("http://{u}")
        }
    });
    hrefs
        .chain(written)
        .filter_map(|h| resolve(base, &h))
        .filter_map(|u| {
            let id = re.captures(u.as_str())?.name("id")?.as_str().to_string();
            Some(ParkLink {
                url: u.to_string(),
                id,
            })
        })
        .collect()
}

/// A line that is one link and nothing else, its text no URL: a card's
/// title or a teaser, not an invitation (that has words of its own).
fn link_only_title(line: &Line) -> bool {
    let linked: usize = line.links.iter().map(|(t, _)| t.chars().count()).sum();
    let own = line.text.chars().filter(|c| !c.is_whitespace()).count();
    linked * 10 >= own * 9 && !line.links.iter().any(|(t, _)| t.contains("://"))
}

/// The line without the URLs written in it, for measuring its own words.
fn without_urls(text: &str) -> std::borrow::Cow<'_, str> {
    // A URL has a slash: most lines have none, and skip the regex.
    if !text.contains('/') {
        return std::borrow::Cow::Borrowed(text);
    }
    URL_IN_TEXT.replace_all(text, "")
}

/// Short enough and one sentence of at most two clauses: what a promo
/// line looks like (`想了解…，请点击这里`).
fn promo_shaped(line: &Line) -> bool {
    let own = without_urls(&line.text);
    // Most lines are body text, far longer than a promo: their length
    // settles it before their clauses are counted.
    if own.chars().count() > PROMO_MAX {
        return false;
    }
    let body = own.trim_end_matches(['。', '！', '!', '.']);
    let commas = body
        .chars()
        .filter(|c| matches!(c, '，' | ',' | '、'))
        .count();
    commas <= 1 && !body.contains(['。', '！', '？', '；'])
}

/// Park ids that two or more promo-shaped lines of `units` point to.
pub fn repeated_parks(rule: &Rule, units: &[Unit], base: Option<&Url>) -> HashSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    if rule.park_url.is_none() {
        return HashSet::new();
    }
    for u in units {
        let Unit::Line(l) = u else { continue };
        if !promo_shaped(l) {
            continue;
        }
        let ids: HashSet<String> = park_links(rule, l, base)
            .into_iter()
            .map(|p| p.id)
            .collect();
        for id in ids {
            *seen.entry(id).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(id, _)| id)
        .collect()
}

/// The park a promo line advertises, when `line` is one: promo-shaped,
/// pointing to a park page, and after an image or pointing to a park that
/// other such lines point to.
pub fn promo_park(
    rule: &Rule,
    line: &Line,
    base: Option<&Url>,
    after_image: bool,
    repeated: &HashSet<String>,
) -> Option<(ParkLink, Option<String>)> {
    if rule.park_url.is_none() || !promo_shaped(line) || link_only_title(line) {
        return None;
    }
    let park = park_links(rule, line, base)
        .into_iter()
        .find(|p| after_image || repeated.contains(&p.id))?;
    Some((park, park_name(line)))
}

/// The park's name as the line gives it: a link's text that names a park,
/// else the words after the invitation (`访问`, `关注`, …) up to `网址` or
/// the punctuation that ends them, when they name a park.
fn park_name(line: &Line) -> Option<String> {
    static NAMED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?:访问|关注|登录|查看|了解|进入|浏览|搜索)\s*(?P<name>[^\s:：,，。!！、“”]{2,40}?)\s*(?:网址|官网|网站|主页|链接|[:：,，。!！]|$)",
        )
        .unwrap()
    });
    let linked = line
        .links
        .iter()
        .map(|(t, _)| t.trim())
        .find(|t| crate::extract::looks_like_park_name(t) && !t.contains("://"));
    if let Some(t) = linked {
        return Some(t.to_string());
    }
    let own = without_urls(&line.text);
    NAMED
        .captures_iter(&own)
        .filter_map(|c| c.name("name").map(|m| m.as_str().to_string()))
        .find(|n| crate::extract::looks_like_park_name(n))
}

/// A section of a park page that is chrome by its structure, by unit index:
/// the heading and everything up to the next heading, with the section's name.
pub fn park_page_sections(
    rule: &Rule,
    units: &[Unit],
    base: Option<&Url>,
) -> HashMap<usize, &'static str> {
    let is_heading = |u: &Unit| matches!(u, Unit::Line(l) if l.heading.is_some());
    let mut out = HashMap::new();
    let mut i = 0;
    while i < units.len() {
        if !is_heading(&units[i]) {
            i += 1;
            continue;
        }
        let end = (i + 1..units.len())
            .find(|&j| is_heading(&units[j]))
            .unwrap_or(units.len());
        if let Some(name) = section_kind(rule, &units[i + 1..end], base) {
            for j in i..end {
                out.insert(j, name);
            }
        }
        i = end;
    }
    out
}

/// `gallery`: two or more images and nothing but their short names;
/// `nearby-parks`: two or more links to park pages, and beside them only
/// images and short lines (a distance, a line of facts).
fn section_kind(rule: &Rule, body: &[Unit], base: Option<&Url>) -> Option<&'static str> {
    const SHORT: usize = 30;
    let (mut images, mut parks) = (0, 0);
    for u in body {
        match u {
            Unit::Image { .. } => images += 1,
            Unit::Line(l) if l.text.chars().count() <= SHORT => {
                parks += usize::from(!park_links(rule, l, base).is_empty());
            }
            _ => return None,
        }
    }
    if parks >= 2 {
        Some("nearby-parks")
    } else if images >= 2 && parks == 0 {
        Some("gallery")
    } else {
        None
    }
}

/// Boxes of calls to action inside the body, by unit index: a short label
/// line (`园区招商服务`, `延伸 · 推荐`) followed by one to three lines that
/// only send the reader elsewhere: a link and nothing else, or a hotline.
/// Body text neither starts nor ends that way; a label over prose stays.
/// When the label and its first call sit in an element of their own (a
/// box nested in the body), the whole element goes: a teaser under the
/// linked headline is the box's, not the body's.
pub fn promo_boxes(units: &[Unit], html: Option<&Html>) -> HashMap<usize, &'static str> {
    let mut out = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        let Unit::Line(label) = u else { continue };
        if !box_label(label) || out.contains_key(&i) {
            continue;
        }
        let ctas = units[i + 1..]
            .iter()
            .take(3)
            .take_while(|u| matches!(u, Unit::Line(l) if call_to_action(l)))
            .count();
        // What follows the box is not more of it: the box ends there.
        let next_is_cta =
            matches!(units.get(i + 1 + ctas), Some(Unit::Line(l)) if call_to_action(l));
        if ctas == 0 || next_is_cta {
            continue;
        }
        let end = html
            .and_then(|h| nested_box_end(h, units, i))
            .unwrap_or(i + ctas)
            .max(i + ctas);
        for j in i..=end {
            out.insert(j, "promo-box");
        }
    }
    out
}

/// Units a box holds at most: a label, a call or two, a teaser.
const BOX_UNITS: usize = 6;

/// The last unit of the element that holds the label `units[i]` and the
/// call after it, when that element is a box: it holds nothing before the
/// label and at most [`BOX_UNITS`] units.
fn nested_box_end(html: &Html, units: &[Unit], i: usize) -> Option<usize> {
    let (label, call) = (units[i].node(), units.get(i + 1)?.node());
    let boxed = html
        .tree
        .get(label)?
        .ancestors()
        .map(|a| a.id())
        .find(|&a| is_within(html, call, a))?;
    if i > 0 && is_within(html, units[i - 1].node(), boxed) {
        return None;
    }
    let held = units[i..]
        .iter()
        .take_while(|u| is_within(html, u.node(), boxed))
        .count();
    (held <= BOX_UNITS && i + held < units.len()).then(|| i + held - 1)
}

fn box_label(l: &Line) -> bool {
    let n = l.text.chars().count();
    (2..=12).contains(&n)
        && l.links.is_empty()
        && l.heading.is_none()
        && !l
            .text
            .ends_with(['。', '！', '？', '!', '?', '；', '：', ':', '，', ','])
        && !l
            .text
            .chars()
            .any(|c| c.is_ascii_digit() || c == ':' || c == '：')
}

/// A line that only sends the reader elsewhere: a link and nothing else
/// (`在线预约考察园区 >>`, another story's headline), or a hotline.
fn call_to_action(l: &Line) -> bool {
    static PHONE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:热线|咨询)[^0-9]{0,8}\d[\d\-\s]{6,}").unwrap());
    let n = l.text.chars().count();
    let linked: usize = l.links.iter().map(|(t, _)| t.chars().count()).sum();
    let own = l.text.chars().filter(|c| !c.is_whitespace()).count();
    let arrows = l
        .text
        .chars()
        .filter(|c| matches!(c, '>' | '»' | '›' | '》'))
        .count();
    // A link whose words are an address tells where something is (a
    // ticket office's site): information, not a call.
    let address = l
        .links
        .iter()
        .any(|(t, _)| URL_IN_TEXT.is_match(t) || t.starts_with("www."));
    n <= 40
        && ((!l.links.is_empty() && !address && (linked + arrows) * 10 >= own * 9)
            || PHONE.is_match(&l.text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn line(text: &str, links: &[(&str, &str)]) -> Line {
        Line {
            text: text.to_string(),
            strong: false,
            heading: None,
            centered: false,
            figcaption: false,
            links: links
                .iter()
                .map(|(t, h)| (t.to_string(), h.to_string()))
                .collect(),
            node: ego_tree::Tree::new(0).root().id(),
        }
    }

    fn site(rules: &RuleSet) -> &Rule {
        rules.sites.iter().find(|r| r.id == "sh.taxs.vip").unwrap()
    }

    #[test]
    fn promo_lines_by_what_they_point_to() {
        let rules = RuleSet::builtin().unwrap();
        let r = site(&rules);
        let base = Url::parse("http://sh.taxs.vip/news/view.html?id=1").unwrap();
        let none = HashSet::new();
        let plain = line(
            "欢迎访问漕河泾开发区松江园区 网址：http://sh.taxs.vip/park/view.html?id=1466",
            &[],
        );
        let (p, name) = promo_park(r, &plain, Some(&base), true, &none).unwrap();
        assert_eq!(p.id, "1466");
        assert_eq!(name.as_deref(), Some("漕河泾开发区松江园区"));
        let href = line(
            "想了解更多入驻政策，请点击这里",
            &[("这里", "/park/view.html?id=7")],
        );
        let (p, name) = promo_park(r, &href, Some(&base), true, &none).unwrap();
        assert_eq!(
            (p.url.as_str(), name),
            ("http://sh.taxs.vip/park/view.html?id=7", None)
        );
        // Not after an image and not repeated: a reference, not a promo.
        assert!(promo_park(r, &href, Some(&base), false, &none).is_none());
        let repeated: HashSet<String> = ["7".to_string()].into();
        assert!(promo_park(r, &href, Some(&base), false, &repeated).is_some());
        // A body sentence that links a park is body.
        let long = line(
            "园区于2010年成立，经过十余年发展，已集聚企业300余家，形成了智能制造和新材料两大主导产业，详见园区页面。",
            &[("园区页面", "/park/view.html?id=7")],
        );
        assert!(promo_park(r, &long, Some(&base), true, &none).is_none());
        // Another page of the site is no park.
        let news = line("更多内容请点击这里", &[("这里", "/news/view.html?id=7")]);
        assert!(promo_park(r, &news, Some(&base), true, &none).is_none());
    }

    fn heading(text: &str) -> Unit {
        let mut l = line(text, &[]);
        l.heading = Some(3);
        Unit::Line(l)
    }

    fn image() -> Unit {
        Unit::Image {
            src: Some("/a.jpg".into()),
            alt: None,
            title: None,
            node: ego_tree::Tree::new(0).root().id(),
        }
    }

    #[test]
    fn gallery_and_nearby_sections_by_structure() {
        let rules = RuleSet::builtin().unwrap();
        let r = site(&rules);
        let base = Url::parse("http://sh.taxs.vip/park/view.html?id=1").unwrap();
        let units = vec![
            heading("园区介绍"),
            Unit::Line(line(
                "园区位于上海市金山区，重点发展新材料产业，已集聚企业80余家。",
                &[],
            )),
            heading("园区相册"),
            image(),
            Unit::Line(line("园区大门", &[])),
            image(),
            Unit::Line(line("标准厂房", &[])),
            heading("周边园区推荐"),
            image(),
            Unit::Line(line(
                "嘉定工业区",
                &[("嘉定工业区", "/park/view.html?id=3511")],
            )),
            Unit::Line(line("主导产业：汽车零部件", &[])),
            Unit::Line(line(
                "安亭汽车城",
                &[("安亭汽车城", "/park/view.html?id=3514")],
            )),
        ];
        let s = park_page_sections(r, &units, Some(&base));
        assert_eq!((0..=1).filter(|i| s.contains_key(i)).count(), 0);
        assert!((2..=6).all(|i| s[&i] == "gallery"));
        assert!((7..=11).all(|i| s[&i] == "nearby-parks"));
        // A section with prose is content, pictures and all.
        let prose = vec![
            heading("交通区位"),
            image(),
            image(),
            Unit::Line(line(
                "园区距上海市中心约60公里，沪杭高速在周边设有出入口，交通便利。",
                &[],
            )),
        ];
        assert!(park_page_sections(r, &prose, Some(&base)).is_empty());
    }

    #[test]
    fn promo_boxes_are_a_label_and_calls_to_action() {
        let units = vec![
            Unit::Line(line(
                "园区相关负责人介绍，一季度新签约的项目中，既有工业机器人企业。",
                &[],
            )),
            Unit::Line(line("园区招商服务", &[])),
            Unit::Line(line("入驻咨询热线：400-820-6688（免费）", &[])),
            Unit::Line(line(
                "在线预约考察园区 >>",
                &[("在线预约考察园区", "/zhuce/")],
            )),
            Unit::Line(line("下一步，园区将围绕智能制造开展精准招商。", &[])),
        ];
        let b = promo_boxes(&units, None);
        assert_eq!(b.len(), 3);
        assert!((1..=3).all(|i| b.contains_key(&i)));
        // A labelled fact, a bare address and a subheading over prose are
        // not boxes.
        let facts = vec![
            Unit::Line(line("联系人：陈先生", &[])),
            Unit::Line(line("联系电话：021-5680 1234", &[])),
            Unit::Line(line("Ticketing", &[])),
            Unit::Line(line(
                "www.example.com",
                &[("www.example.com", "http://www.example.com/")],
            )),
            Unit::Line(line("园区概况", &[])),
            Unit::Line(line(
                "园区始建于1983年，是上海最早对外开放的工业园区之一。",
                &[],
            )),
        ];
        assert!(promo_boxes(&facts, None).is_empty());
    }
}
