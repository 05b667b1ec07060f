//! Who wrote the page: the checks every author candidate passes (header
//! line, body lead, JSON-LD, `<meta name=author>`), and the bylines printed
//! at the top of the body (`新京报讯（记者 陆一夫）`, `【文/观察者网专栏作者 王文】`).
//!
//! An author is a person or a named byline. Never the site (`网易` on
//! 网易财经, where the CMS fills every page's meta tag with its own name), a
//! user id (`104363`), an e-mail or a template's `name, email@…`, nor a UI
//! word that stands where a name would (`发表于`, `最后更新`, `楼主`, `图片`,
//! `未知`).

use std::sync::LazyLock;

use regex::Regex;

use crate::dom::is_cjk;

/// Words that stand beside or instead of a name on article pages and are
/// never one: verbs of the info line, thread roles, placeholders.
const NOT_A_NAME: &[&str] = &[
    "发表于",
    "发布于",
    "更新于",
    "最后更新",
    "最后修改",
    "发表",
    "发布",
    "更新",
    "楼主",
    "编前语",
    "编者按",
    "图片",
    "图文",
    "未知",
    "佚名",
    "匿名",
    "网友",
    "游客",
    "管理员",
    "admin",
    "原创",
    "转载",
    "独家",
    "来源",
    "举报",
    "收藏",
    "分享",
    "关注",
    "评论",
    "发稿",
    "Last updated",
    "Updated",
    "Published",
    "Posted",
];

/// The candidate as an author, or None. Leading and trailing UI words are
/// shed first (`原创 南方都市报` → `南方都市报`, `周岚 发表于` → `周岚`).
pub fn valid(candidate: &str, site_names: &[&str]) -> Option<String> {
    static BY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?i:by)\s+").expect("by regex"));
    let name = shed_ui_words(&BY.replace(candidate.trim(), ""));
    let n = name.chars().count();
    if !(2..=80).contains(&n) || name.contains('@') || name.contains("://") {
        return None;
    }
    if name.chars().filter(|c| c.is_ascii_digit()).count() >= 3 {
        return None;
    }
    if NOT_A_NAME.iter().any(|w| name.eq_ignore_ascii_case(w)) || starts_with_ui_phrase(&name) {
        return None;
    }
    if is_site(&name, site_names) || looks_like_domain(&name) {
        return None;
    }
    Some(name)
}

/// The site itself: one of its names, or (for a Chinese name) a part of
/// one, as `网易` is of `网易财经`. Latin names are only refused when equal:
/// `Jane Doe` is the author of `Jane Doe's Blog`.
fn is_site(name: &str, site_names: &[&str]) -> bool {
    let cjk = name.chars().any(is_cjk);
    site_names
        .iter()
        .any(|s| *s == name || (cjk && s.contains(name)))
}

/// `Last updated 3 May`, `Published Thursday`: a Latin UI word as the
/// candidate's first word.
fn starts_with_ui_phrase(name: &str) -> bool {
    NOT_A_NAME.iter().filter(|w| w.is_ascii()).any(|w| {
        name.get(..w.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(w))
            && !name[w.len()..].starts_with(char::is_alphanumeric)
    })
}

/// `CSDN.NET`, `news.example.com`: a site's address given as its author.
fn looks_like_domain(name: &str) -> bool {
    let Some((head, tld)) = name.rsplit_once('.') else {
        return false;
    };
    !head.is_empty()
        && (2..=6).contains(&tld.len())
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

fn shed_ui_words(s: &str) -> String {
    let sep = |c: char| c.is_whitespace() || "|｜/·•:：,，-—".contains(c);
    let mut t = s.trim_matches(sep).to_string();
    loop {
        if NOT_A_NAME.contains(&t.as_str()) {
            return t;
        }
        let before = t.clone();
        // Latin words are whole words of a phrase (`Published Thursday`):
        // they refuse the candidate in `valid`, never get shed from it.
        for w in NOT_A_NAME.iter().filter(|w| !w.is_ascii()) {
            if t.len() > w.len() {
                if let Some(rest) = t.strip_prefix(w) {
                    t = rest.trim_matches(sep).to_string();
                } else if let Some(rest) = t.strip_suffix(w) {
                    t = rest.trim_matches(sep).to_string();
                }
            }
        }
        if t == before {
            return t;
        }
    }
}

/// The words every lead byline holds (`记者`, `专栏作者`, `通讯员`): what
/// [`in_lead`]'s patterns cannot match without.
const ROLE_WORDS: [&str; 3] = ["记者", "作者", "通讯员"];

/// Names after a reporter's label: up to four of two to four Han characters
/// (or a `·` name), separated by spaces or `、`.
const NAMES: &str = r"(?P<n>[\p{Han}·]{2,5}(?:[\s、，,　]+[\p{Han}·]{2,5}){0,3})";

/// A byline at the top of the body: in a first paragraph's opening, a
/// bracketed `（记者 陆一夫）` after the dateline (`新京报讯`, `新华社巴黎12月9日电`);
/// or the first line alone when it is only a byline (`澎湃新闻记者 段彦超 廖艳`,
/// `【文/观察者网专栏作者 王文】`). The line stays body: it is how the story opens.
pub fn in_lead(first_lines: &[&str]) -> Option<String> {
    static BRACKETED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(
            r"^.{{0,40}}?(?:讯|电|报道)\s*[（(]\s*(?:本报|本台|特约|实习|见习)?(?:记者|通讯员)\s*{NAMES}\s*[）)]"
        ))
        .expect("lead byline regex")
    });
    static ALONE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(
            r"^[【\[（(]?\s*(?:文\s*[/／|｜]\s*)?\p{{Han}}{{0,12}}?(?:记者|专栏作者|特约作者|作者|通讯员)\s*[:：/／]?\s*{NAMES}\s*[】\]）)]?$"
        ))
        .expect("lead byline regex")
    });
    let name = first_lines.iter().find_map(|line| {
        let line = line.trim();
        // Both patterns need a role word, and most lines hold none: a
        // search for three literals settles them, where the anchored
        // patterns cannot skip ahead to one.
        if !ROLE_WORDS.iter().any(|w| line.contains(w)) {
            return None;
        }
        if line.chars().count() <= 32
            && let Some(c) = ALONE.captures(line)
        {
            return Some(c["n"].to_string());
        }
        let head: String = line.chars().take(80).collect();
        BRACKETED.captures(&head).map(|c| c["n"].to_string())
    })?;
    // One bracket may name several roles (`记者 陈思 通讯员 李想`): the
    // names, without their role words.
    const ROLES: &[&str] = &[
        "特约记者",
        "见习记者",
        "实习记者",
        "记者",
        "通讯员",
        "实习生",
        "摄影",
    ];
    let names: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || "、，,".contains(c))
        .map(|t| ROLES.iter().fold(t, |t, r| t.strip_prefix(r).unwrap_or(t)))
        .filter(|t| !t.is_empty() && !ROLES.contains(t))
        .collect();
    valid(&names.join(" "), &[])
}

/// The author cascade: the first step whose candidate is an author wins
/// (a step whose candidate is the site or a UI word gives way to the next).
pub fn choose(
    steps: &[(Option<&str>, &'static str)],
    site_names: &[&str],
) -> Option<(String, &'static str)> {
    steps
        .iter()
        .find_map(|(c, step)| c.and_then(|c| valid(c, site_names)).map(|a| (a, *step)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_author_is_a_person_or_a_named_byline() {
        let sites = ["网易财经", "观察者网"];
        assert_eq!(valid("陆一夫", &sites).as_deref(), Some("陆一夫"));
        assert_eq!(valid("闵行招商", &sites).as_deref(), Some("闵行招商"));
        assert_eq!(
            valid("Jane Li", &["Jane Li's Notes"]).as_deref(),
            Some("Jane Li")
        );
        assert_eq!(
            valid("原创 南方都市报", &sites).as_deref(),
            Some("南方都市报")
        );
        assert_eq!(valid("周岚发表于", &sites).as_deref(), Some("周岚"));
        assert_eq!(
            valid("史蒂文的家_藍天 (stevenhgm)", &sites).as_deref(),
            Some("史蒂文的家_藍天 (stevenhgm)")
        );
        for bad in [
            "网易",
            "观察者网",
            "104363",
            "name, email@gmail.com",
            "zhang@example.cn",
            "CSDN.NET",
            "最后更新",
            "发表于",
            "楼主",
            "编前语",
            "图片",
            "更新",
            "未知",
            "发稿",
            "Last updated",
            "Published Thursday",
            "a",
        ] {
            assert_eq!(valid(bad, &sites), None, "{bad}");
        }
    }

    #[test]
    fn bylines_that_open_the_body() {
        let f = |s: &str| in_lead(&[s]);
        assert_eq!(
            f("新京报讯（记者 陆一夫）11月25日，新京报记者登录拼多多全球购页面发现，亚马逊海外购与拼多多达成合作。").as_deref(),
            Some("陆一夫")
        );
        assert_eq!(
            f("新华社巴黎12月9日电（记者唐霁）法国9日再次爆发全国跨行业大罢工，反对政府进行退休制度改革。").as_deref(),
            Some("唐霁")
        );
        assert_eq!(
            f("澎湃新闻记者 段彦超 廖艳").as_deref(),
            Some("段彦超 廖艳")
        );
        assert_eq!(f("【文/观察者网专栏作者 王文】").as_deref(), Some("王文"));
        assert_eq!(f("通讯员：王芳").as_deref(), Some("王芳"));
        assert_eq!(
            f("东湖新闻网讯（记者 陈思 通讯员 李想）6月2日，光谷生物城两个产业化基地同时开工。")
                .as_deref(),
            Some("陈思 李想")
        );
        // Prose that mentions a reporter is no byline.
        assert_eq!(
            f("记者在现场看到，二期项目的4栋主厂房已完成结构施工，外立面幕墙安装同步推进。"),
            None
        );
        assert_eq!(f("2019年，龙湖集团即将迎来赴港上市10周年。"), None);
    }
}
