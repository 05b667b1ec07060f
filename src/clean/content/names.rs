//! What an element's tag, class, id and attributes say about it: chrome to
//! leave out (hidden, navigation, share bars, adverts…) and the class/id
//! weight of a content candidate.

use std::sync::LazyLock;

use ego_tree::NodeRef;
use rustc_hash::FxHashMap;
use scraper::Node;

use crate::dom::{is_never_text, style_hides};

/// Word stems (matched at the start of a class/id word) of page chrome: an
/// element so named is pruned, unless its name also says content or it
/// holds most of the page's text (a `Page-ad-margins` wrapper).
const UNLIKELY: &[&str] = &[
    "advert",
    "adsbygoogle",
    "adslot",
    "adunit",
    "agegate",
    "banner",
    "breadcrumb",
    "comment",
    "communit",
    "consent",
    "cookie",
    "crumb",
    "disqus",
    "footer",
    "gdpr",
    "masthead",
    "menu",
    "modal",
    "nav",
    "newsletter",
    "outbrain",
    "pager",
    "paginat",
    "popup",
    "promo",
    "related",
    "remark",
    "replies",
    "rss",
    "share",
    "sharing",
    "shoutbox",
    "sidebar",
    "signup",
    "skyscraper",
    "social",
    "sponsor",
    "subscri",
    "supplement",
    "taboola",
    "toolbar",
    "trending",
    "recommend",
    "widget",
    "fenxiang",
    "bdshare",
    "pinglun",
    "xgxw",
    "xgyd",
    "xgwz",
    "erweima",
    "qrcode",
    "friendlink",
    "yqlj",
];
/// Whole class/id words of chrome.
const UNLIKELY_WORDS: &[&str] = &["ad", "ads", "adv", "tags", "hidden", "print"];
/// Words that keep an element whose name also says chrome.
const MAYBE: &[&str] = &[
    "article", "body", "content", "main", "story", "entry", "post", "text",
];
const POSITIVE: &[&str] = &[
    "article", "body", "content", "entry", "hentry", "main", "post", "text", "blog", "story",
    "detail", "zoom", "trs", "artibody", "正文",
];
const NEGATIVE: &[&str] = &[
    "comment",
    "contact",
    "foot",
    "gdpr",
    "masthead",
    "media",
    "meta",
    "outbrain",
    "promo",
    "related",
    "scroll",
    "share",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "sponsor",
    "shopping",
    "tags",
    "tool",
    "widget",
    "byline",
    "author",
    "dateline",
    "caption",
    "recommend",
    "banner",
    "combx",
    "hidden",
];
const NEGATIVE_WORDS: &[&str] = &["ad", "ads", "com"];
/// Class names of elements hidden by the stylesheets every framework ships.
const HIDDEN_CLASSES: &[&str] = &[
    "hidden",
    "hide",
    "d-none",
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader-text",
    "screenreader",
];
/// ARIA roles of page chrome.
const CHROME_ROLES: &[&str] = &[
    "navigation",
    "menu",
    "menubar",
    "complementary",
    "contentinfo",
    "banner",
    "alert",
    "alertdialog",
    "dialog",
    "search",
];

/// Calls `f` with each word of a class or id: split at punctuation and at
/// camelCase humps, lower-cased (`PageBuilder-pageRow` → page, builder,
/// page, row). `cur` is a buffer to reuse.
fn each_word(s: &str, cur: &mut String, f: impl FnMut(&str)) {
    if s.is_ascii() {
        each_ascii_word(s, cur, f)
    } else {
        each_char_word(s, cur, f)
    }
}

/// [`each_word`] by characters, for any value.
fn each_char_word(s: &str, cur: &mut String, mut f: impl FnMut(&str)) {
    cur.clear();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                f(cur);
                cur.clear();
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            f(cur);
            cur.clear();
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        if c.is_ascii() {
            cur.push(c.to_ascii_lowercase());
        } else {
            cur.extend(c.to_lowercase());
        }
    }
    if !cur.is_empty() {
        f(cur);
    }
}

/// [`each_word`] of an ASCII value (nearly all of them), by bytes: a word
/// without capitals is passed as the slice it is, without a copy.
fn each_ascii_word(s: &str, cur: &mut String, mut f: impl FnMut(&str)) {
    let b = s.as_bytes();
    let mut emit = |from: usize, to: usize| {
        let w = &s[from..to];
        if w.bytes().any(|c| c.is_ascii_uppercase()) {
            cur.clear();
            cur.push_str(w);
            cur.make_ascii_lowercase();
            f(cur);
        } else {
            f(w);
        }
    };
    let mut start = 0;
    let mut prev_lower = false;
    for (i, &c) in b.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if start < i {
                emit(start, i);
            }
            start = i + 1;
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && start < i {
            emit(start, i);
            start = i;
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if start < b.len() {
        emit(start, b.len());
    }
}

/// Whether some stem of a list starts `word`: the stems bucketed by their
/// first byte, so a word is compared with the few that share it (an
/// automaton's search cost more per word than the comparisons it saves on
/// words of a few letters).
struct Stems(Vec<Vec<&'static str>>);

impl Stems {
    fn new(stems: &[&'static str]) -> Stems {
        let mut buckets = vec![Vec::new(); 256];
        for s in stems {
            buckets[usize::from(s.as_bytes()[0])].push(*s);
        }
        Stems(buckets)
    }

    fn starts(&self, word: &str) -> bool {
        word.as_bytes()
            .first()
            .is_some_and(|&b| self.0[usize::from(b)].iter().any(|s| word.starts_with(s)))
    }
}

static UNLIKELY_STEMS: LazyLock<Stems> = LazyLock::new(|| Stems::new(UNLIKELY));
static NEGATIVE_STEMS: LazyLock<Stems> = LazyLock::new(|| Stems::new(NEGATIVE));
static POSITIVE_STEMS: LazyLock<Stems> = LazyLock::new(|| Stems::new(POSITIVE));

/// What the words of a class or id attribute say, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct NameFlags(u8);

impl NameFlags {
    const UNLIKELY: u8 = 1;
    const MAYBE: u8 = 2;
    const NEGATIVE: u8 = 4;
    const POSITIVE: u8 = 8;
    const HIDDEN: u8 = 16;

    fn of(attr: &str, is_class: bool, cur: &mut String) -> NameFlags {
        let mut f = 0;
        each_word(attr, cur, |w| f |= Self::of_word(w));
        if is_class
            && attr
                .split_ascii_whitespace()
                .any(|c| HIDDEN_CLASSES.contains(&c))
        {
            f |= Self::HIDDEN;
        }
        NameFlags(f)
    }

    /// What one lower-cased word of a class or id says.
    fn of_word(w: &str) -> u8 {
        let mut f = 0;
        if UNLIKELY_STEMS.starts(w) || UNLIKELY_WORDS.contains(&w) {
            f |= Self::UNLIKELY;
        }
        if MAYBE.contains(&w) {
            f |= Self::MAYBE;
        }
        if NEGATIVE_STEMS.starts(w) || NEGATIVE_WORDS.contains(&w) {
            f |= Self::NEGATIVE;
        }
        if POSITIVE_STEMS.starts(w) {
            f |= Self::POSITIVE;
        }
        f
    }

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The attributes the finder reads, found in one pass over an element's
/// (each `attr()` lookup is a search of its own).
#[derive(Default, Clone, Copy)]
pub(super) struct Attrs<'a> {
    class: Option<&'a str>,
    id: Option<&'a str>,
    style: Option<&'a str>,
    role: Option<&'a str>,
    hidden: bool,
    aria_hidden: bool,
}

impl<'a> Attrs<'a> {
    pub(super) fn of(e: &'a scraper::node::Element) -> Attrs<'a> {
        let mut a = Attrs::default();
        for (name, value) in e.attrs() {
            match name {
                "class" => a.class = Some(value),
                "id" => a.id = Some(value),
                "style" => a.style = Some(value),
                "role" => a.role = Some(value),
                "hidden" => a.hidden = true,
                "aria-hidden" => a.aria_hidden = value == "true",
                _ => {}
            }
        }
        a
    }
}

/// Flags of class and id values, computed once per distinct value: pages
/// repeat the same few class strings on thousands of elements.
#[derive(Default)]
pub(super) struct NameCache<'a> {
    classes: FxHashMap<&'a str, NameFlags>,
    ids: FxHashMap<&'a str, NameFlags>,
    /// A buffer for lower-casing words, reused.
    cur: String,
}

impl<'a> NameCache<'a> {
    /// The flags of the element's class and id; an id that is its
    /// section's heading made into an anchor says nothing (see
    /// [`anchors_heading`]).
    pub(super) fn flags_of(&mut self, a: &Attrs<'a>, el: NodeRef<Node>) -> NameFlags {
        let f = self.flags(a);
        if f.0 & (NameFlags::UNLIKELY | NameFlags::NEGATIVE) == 0
            || !a.id.is_some_and(|id| anchors_heading(el, id))
        {
            return f;
        }
        self.flags(&Attrs { id: None, ..*a })
    }

    pub(super) fn flags(&mut self, a: &Attrs<'a>) -> NameFlags {
        let mut f = 0;
        if let Some(c) = a.class {
            f |= self
                .classes
                .entry(c)
                .or_insert_with(|| NameFlags::of(c, true, &mut self.cur))
                .0;
        }
        if let Some(i) = a.id {
            f |= self
                .ids
                .entry(i)
                .or_insert_with(|| NameFlags::of(i, false, &mut self.cur))
                .0;
        }
        NameFlags(f)
    }
}

/// Is `id` the anchor of the section's heading (`<div id="sharing-with-a-
/// single-developer"><h2>Sharing with a single developer</h2>`)? Document
/// generators and CMSs make section ids from their headings, so the words
/// of such an id are the author's, not a name for page chrome: "sharing",
/// "related" or "comments" there title a part of the text.
fn anchors_heading(el: NodeRef<Node>, id: &str) -> bool {
    let Some(heading) = el.children().find_map(|c| match c.value() {
        Node::Element(e) => Some((c, e.name())),
        _ => None,
    }) else {
        return false;
    };
    if !matches!(heading.1, "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
        return false;
    }
    let mut text = String::new();
    for d in heading.0.descendants() {
        if let Node::Text(t) = d.value() {
            text.push_str(t);
            text.push(' ');
            if text.len() > 300 {
                return false;
            }
        }
    }
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let id_words = words(id);
    id_words.len() >= 2 && id_words == words(&text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chrome {
    No,
    /// Never read: hidden, script, form widgets.
    Hard,
    /// Chrome by tag or name, unless it holds most of the page's text.
    Soft,
}

pub(super) fn chrome(name: &str, a: &Attrs, names: NameFlags) -> Chrome {
    if is_never_text(name)
        || a.hidden
        || a.style.is_some_and(style_hides)
        || a.aria_hidden
        || names.has(NameFlags::HIDDEN)
    {
        return Chrome::Hard;
    }
    if matches!(
        name,
        "nav" | "aside" | "footer" | "header" | "menu" | "dialog" | "form"
    ) || a.role.is_some_and(|r| CHROME_ROLES.contains(&r))
    {
        return Chrome::Soft;
    }
    if matches!(name, "body" | "html" | "a" | "article" | "main") {
        return Chrome::No;
    }
    if names.has(NameFlags::UNLIKELY) && !names.has(NameFlags::MAYBE) {
        return Chrome::Soft;
    }
    Chrome::No
}

pub(super) fn class_weight(names: NameFlags, hinted: bool) -> f64 {
    let mut w = 0.0;
    if names.has(NameFlags::NEGATIVE) {
        w -= 25.0;
    }
    if names.has(NameFlags::POSITIVE) {
        w += 25.0;
    }
    if hinted {
        w += 25.0;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A word splitter, as [`each_ascii_word`] and [`each_char_word`] are.
    type Split = fn(&str, &mut String, &mut dyn FnMut(&str));

    fn words(s: &str, each: Split) -> Vec<String> {
        let mut out = Vec::new();
        each(s, &mut String::new(), &mut |w| out.push(w.to_string()));
        out
    }

    #[test]
    fn stems_start_words_as_starts_with_says() {
        for list in [UNLIKELY, NEGATIVE, POSITIVE] {
            let stems = Stems::new(list);
            let mut words = vec![String::new(), "x".into(), "正文内容".into(), "zoomy".into()];
            for s in list {
                words.push(s.to_string());
                words.push(format!("{s}box"));
                words.push(s.chars().skip(1).collect());
                words.push(s.chars().take(s.chars().count() - 1).collect());
            }
            for w in &words {
                let want = list.iter().any(|s| w.starts_with(s));
                assert_eq!(stems.starts(w), want, "{w:?}");
            }
        }
    }

    #[test]
    fn ascii_words_split_as_characters_do() {
        let ascii: Split = |s, c, f| each_ascii_word(s, c, f);
        let chars: Split = |s, c, f| each_char_word(s, c, f);
        for s in [
            "",
            "PageBuilder-pageRow",
            "  nav__item--ACTIVE col-md-6 ",
            "h2Title x9Y aB_cD",
            "ShareBar2Top",
            "---",
            "a",
        ] {
            assert_eq!(words(s, ascii), words(s, chars), "{s:?}");
        }
        assert_eq!(
            words("PageBuilder-pageRow", ascii),
            ["page", "builder", "page", "row"]
        );
    }

    fn by_id<'a>(html: &'a scraper::Html, id: &str) -> NodeRef<'a, Node> {
        html.tree
            .nodes()
            .find(|n| n.value().as_element().and_then(|e| e.id()) == Some(id))
            .unwrap()
    }

    #[test]
    fn a_section_id_made_from_its_heading_names_no_chrome() {
        let html = scraper::Html::parse_fragment(
            "<div id=sharing-with-a-single-developer>\
               <h2>Sharing with a single developer<a href='#x'>¶</a></h2><p>text</p></div>\
             <div id=share-buttons><h2>Share this story</h2></div>\
             <div id=related-posts><p>Related posts</p></div>\
             <div id=comments><h3>Comments</h3></div>",
        );
        let anchored = |id: &str| anchors_heading(by_id(&html, id), id);
        assert!(anchored("sharing-with-a-single-developer"));
        assert!(!anchored("share-buttons"));
        assert!(!anchored("related-posts"));
        // One word is as likely a widget's name as a heading's anchor.
        assert!(!anchored("comments"));
        let el = html
            .tree
            .nodes()
            .filter_map(scraper::ElementRef::wrap)
            .find(|e| e.value().id() == Some("sharing-with-a-single-developer"))
            .unwrap();
        let mut cache = NameCache::default();
        let attrs = Attrs::of(el.value());
        assert!(cache.flags(&attrs).has(NameFlags::UNLIKELY));
        assert_eq!(cache.flags_of(&attrs, *el), NameFlags::default());
    }
}
