//! Bylines the markup marks: the last step of the author cascade, for
//! pages that print their author only in an element that says what it is
//! (no header line, no `<meta name=author>`, no JSON-LD), as most English
//! and European news templates do:
//! - schema.org microdata, `itemprop="author"` (the names of its
//!   `itemprop="name"` parts, else its text): every author marked, in
//!   order (co-authors are separate elements);
//! - `rel="author"` links: every distinct one;
//! - an element whose class or id names a byline (`byline`, `author`,
//!   `auteur`, `signature`…, never an author's bio, avatar or box): the
//!   names it links to (`By <a>Ann Lee</a>, Staff Writer`), else its text
//!   without the preposition (`By`, `Par`, `Von`) and before any date.
//!
//! Only the story's own zone is read: from its headline (the title's
//! element, else the last `<h1>` before the content) to the end of the
//! content element. Rails of teasers before the headline, author-bio boxes,
//! comments and related lists after the body mark authors too, of other
//! stories or of nobody the page is by.

use std::sync::LazyLock;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use regex::Regex;
use scraper::{ElementRef, Html, Node};

use super::{date, header};
use jiff::tz::TimeZone;

use crate::rules::Labels;

/// The kinds of mark, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mark {
    Itemprop,
    Rel,
    Class,
}

/// Parts of a class or id token (split at `-` and `_`) that name a byline.
const BYLINE_WORDS: &[&str] = &[
    "byline",
    "bylines",
    "author",
    "authors",
    "auteur",
    "auteurs",
    "autor",
    "autore",
    "writer",
    "signature",
];

/// Parts that make a byline-named element something else: the author's
/// portrait, biography, box or follow button.
const NOT_BYLINE_WORDS: &[&str] = &[
    "bio",
    "biography",
    "avatar",
    "img",
    "image",
    "photo",
    "pic",
    "picture",
    "thumb",
    "box",
    "card",
    "about",
    "description",
    "desc",
    "follow",
    "more",
    "page",
];

/// Containers whose authors are not the page's: comments and replies,
/// author biographies.
const FOREIGN_WORDS: &[&str] = &[
    "comment",
    "comments",
    "reply",
    "replies",
    "bio",
    "biography",
];

/// Where the story's zone starts and ends.
pub struct Zone {
    /// The headline's element, when the title was read from the body.
    pub headline: Option<NodeId>,
    /// The content's top element.
    pub content: Option<NodeId>,
}

/// The author(s) the story's zone marks, joined by `, `; None when it
/// marks none. Each name is a candidate still: the cascade validates it.
pub fn author(html: &Html, zone: &Zone, labels: &Labels, tz: &TimeZone) -> Option<String> {
    let marked = marked_in_zone(html, zone)?;
    // The strongest kind of mark that names someone.
    [Mark::Itemprop, Mark::Rel, Mark::Class]
        .into_iter()
        .find_map(|kind| names_marked(&marked, kind, labels, tz))
}

/// The names the marks of one kind give, distinct, joined by `, `.
fn names_marked(
    marked: &[(Mark, ElementRef)],
    kind: Mark,
    labels: &Labels,
    tz: &TimeZone,
) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, el) in marked.iter().filter(|(m, _)| *m == kind) {
        let found = match kind {
            Mark::Itemprop => itemprop_names(*el),
            Mark::Rel => vec![text(*el)],
            Mark::Class => class_names(*el, labels, tz),
        };
        for n in found.into_iter().filter_map(|n| as_name(&n)) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        // One class-marked byline says it all: a second one (the same
        // byline repeated below the body) adds nothing.
        if kind == Mark::Class && !names.is_empty() {
            break;
        }
    }
    names.truncate(6);
    (!names.is_empty()).then(|| names.join(", "))
}

/// The marked elements of the zone in document order, outermost only,
/// outside comments, biographies and hidden elements.
fn marked_in_zone<'h>(html: &'h Html, zone: &Zone) -> Option<Vec<(Mark, ElementRef<'h>)>> {
    let start = zone
        .headline
        .or_else(|| last_h1_before(html, zone.content?))
        .or(zone.content)?;
    let end = zone.content;
    let mut in_zone = false;
    // The element whose subtree is passed over (foreign, hidden or
    // already marked), until it closes.
    let mut passing: Option<NodeId> = None;
    let mut marked = Vec::new();
    for edge in html.tree.root().traverse() {
        match edge {
            Edge::Open(n) => {
                if n.id() == start {
                    in_zone = true;
                }
                if !in_zone || passing.is_some() {
                    continue;
                }
                let Some(el) = ElementRef::wrap(n) else {
                    continue;
                };
                let e = el.value();
                if crate::dom::is_hidden(e) || tokens(el).any(|t| has_part(t, FOREIGN_WORDS)) {
                    passing = Some(n.id());
                } else if let Some(mark) = mark_of(el) {
                    marked.push((mark, el));
                    // A class-marked byline may hold a stronger mark (its
                    // `itemprop=author`): its subtree is read on.
                    if mark != Mark::Class {
                        passing = Some(n.id());
                    }
                }
            }
            Edge::Close(n) => {
                if passing == Some(n.id()) {
                    passing = None;
                }
                if end == Some(n.id()) {
                    if !in_zone {
                        // The headline comes after the content: no zone.
                        return None;
                    }
                    break;
                }
            }
        }
    }
    Some(marked)
}

/// The last `<h1>` that opens before the content: the headline of a page
/// whose title was read from its metadata.
fn last_h1_before(html: &Html, content: NodeId) -> Option<NodeId> {
    let mut last = None;
    for n in html.tree.root().descendants() {
        if n.id() == content {
            return last;
        }
        if n.value().as_element().is_some_and(|e| e.name() == "h1") {
            last = Some(n.id());
        }
    }
    None
}

fn mark_of(el: ElementRef) -> Option<Mark> {
    let e = el.value();
    let has_token = |attr: &str, word: &str| {
        e.attr(attr).is_some_and(|v| {
            v.split_ascii_whitespace()
                .any(|t| t.eq_ignore_ascii_case(word))
        })
    };
    if has_token("itemprop", "author") || has_token("itemprop", "creator") {
        return Some(Mark::Itemprop);
    }
    if e.name() == "a" && has_token("rel", "author") {
        return Some(Mark::Rel);
    }
    let names_byline = tokens(el).any(|t| {
        has_part(t, BYLINE_WORDS) && !has_part(t, NOT_BYLINE_WORDS) && !has_part(t, NOT_NAME_PARTS)
    });
    (names_byline && !matches!(e.name(), "body" | "main" | "article" | "section" | "html"))
        .then_some(Mark::Class)
}

/// Path segments of a link to a person's page (`/author/ann-lee`,
/// `/staff/`, `/people/`), split at `/`, `-`, `_`, `.` and `?`.
const PEOPLE_PATH_WORDS: &[&str] = &[
    "author",
    "authors",
    "autor",
    "autores",
    "auteur",
    "auteurs",
    "autore",
    "people",
    "person",
    "staff",
    "writer",
    "writers",
    "journalist",
    "journalists",
    "journaliste",
    "journalistes",
    "journalisten",
    "giornalista",
    "periodista",
    "periodistas",
    "reporter",
    "contributor",
    "contributors",
    "profile",
    "profiles",
    "bio",
    "byline",
    "redaktion",
    "redaction",
];

/// The texts of the element's links to people's pages that read as names.
fn people_links(el: ElementRef) -> Vec<String> {
    el.descendants()
        .filter_map(ElementRef::wrap)
        .filter(|a| a.value().name() == "a")
        .filter(|a| a.value().attr("href").is_some_and(is_people_path))
        .map(text)
        .filter(|t| as_name(t).is_some())
        .collect()
}

fn is_people_path(href: &str) -> bool {
    href.split(['/', '-', '_', '.', '?', '='])
        .any(|p| PEOPLE_PATH_WORDS.iter().any(|w| p.eq_ignore_ascii_case(w)))
}

/// The element's class and id tokens.
fn tokens<'a>(el: ElementRef<'a>) -> impl Iterator<Item = &'a str> {
    let e = el.value();
    e.attr("class")
        .into_iter()
        .chain(e.attr("id"))
        .flat_map(str::split_ascii_whitespace)
}

/// Parts that deny what follows them: `hasnt-bio`, `no-comments` say the
/// element has none.
const NEGATIONS: &[&str] = &["no", "not", "hasnt", "without", "non"];

/// Whether a token's parts (`article__byline` → `article`, `byline`)
/// hold one of the words, not denied by a part before it (`hasnt-bio`).
fn has_part(token: &str, words: &[&str]) -> bool {
    let mut denied = false;
    for p in token.split(['-', '_']) {
        if NEGATIONS.iter().any(|w| p.eq_ignore_ascii_case(w)) {
            denied = true;
        } else if words.iter().any(|w| p.eq_ignore_ascii_case(w)) && !denied {
            return true;
        }
    }
    false
}

/// An `itemprop=author`'s names: its `itemprop=name` parts, else its
/// text, else (on `<meta>`) its `content`.
fn itemprop_names(el: ElementRef) -> Vec<String> {
    let parts: Vec<String> = el
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|d| is_name_prop(*d))
        // A name inside a name (`<span itemprop=name><a><span
        // itemprop=name>`) is the same name.
        .filter(|d| {
            !d.ancestors()
                .take_while(|a| a.id() != el.id())
                .filter_map(ElementRef::wrap)
                .any(is_name_prop)
        })
        .map(|d| {
            d.value()
                .attr("content")
                .map_or_else(|| text(d), str::to_string)
        })
        .collect();
    if !parts.is_empty() {
        return parts;
    }
    let people = people_links(el);
    if !people.is_empty() {
        return people;
    }
    let own = text(el);
    if own.is_empty() {
        return el
            .value()
            .attr("content")
            .map(str::to_string)
            .into_iter()
            .collect();
    }
    vec![own]
}

fn is_name_prop(el: ElementRef) -> bool {
    el.value()
        .attr("itemprop")
        .is_some_and(|v| v.split_ascii_whitespace().any(|t| t == "name"))
}

/// A class-marked byline's names: the people it links to, else its text
/// before any date, read as a header line (`作者：张三`) or without its
/// preposition.
fn class_names(el: ElementRef, labels: &Labels, tz: &TimeZone) -> Vec<String> {
    let own = text(el);
    // A whole story or a bio paragraph, not a byline.
    if own.chars().count() > 200 {
        return Vec::new();
    }
    let links: Vec<ElementRef> = el
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|a| a.value().name() == "a" && as_name(&text(*a)).is_some())
        .collect();
    // Links to people's pages, when there are any: the byline's other
    // links go to its section or tags.
    let to_people = people_links(el);
    if !to_people.is_empty() {
        return to_people;
    }
    if !links.is_empty() {
        return links.into_iter().map(text).collect();
    }
    let before_date = match date::find(&own, tz) {
        Some(f) if f.start > 0 => own[..f.start].to_string(),
        Some(f) => own[f.end..].to_string(),
        None => own.clone(),
    };
    if let Some(h) = header::parse(&before_date, labels, tz) {
        // A labelled line: its author, or nothing (a `来源：` line names a
        // source, not an author).
        return h.author.into_iter().collect();
    }
    vec![before_date]
}

/// Parts of a class token that mark a part of a byline that is not a
/// name: the writer's title or role, the place, the date.
const NOT_NAME_PARTS: &[&str] = &[
    "title",
    "role",
    "job",
    "position",
    "location",
    "place",
    "dateline",
    "date",
    "time",
    "timestamp",
    "published",
    "updated",
];

/// The element's text, whitespace squashed, a space between blocks
/// (`<div>By Ann Lee</div><div>…</div>`), without the parts that are not
/// names (`<span class="byline__title">`, `<time>`).
fn text(el: ElementRef) -> String {
    let mut raw = String::new();
    let mut passing: Option<NodeId> = None;
    for edge in el.traverse() {
        match edge {
            Edge::Open(n) if passing.is_none() => match n.value() {
                Node::Text(t) => raw.push_str(t),
                Node::Element(e) => {
                    let part = ElementRef::wrap(n).is_some_and(|c| {
                        c.id() != el.id() && tokens(c).any(|t| has_part(t, NOT_NAME_PARTS))
                    });
                    if part || e.name() == "time" || crate::dom::is_hidden(e) {
                        passing = Some(n.id());
                    } else if crate::dom::is_block(e.name()) || e.name() == "br" {
                        raw.push(' ');
                    }
                }
                _ => {}
            },
            Edge::Close(n) if passing == Some(n.id()) => {
                passing = None;
                raw.push(' ');
            }
            Edge::Close(n)
                if n.value()
                    .as_element()
                    .is_some_and(|e| crate::dom::is_block(e.name())) =>
            {
                raw.push(' ');
            }
            _ => {}
        }
    }
    crate::dom::normalize_ws(&raw)
}

/// Words of a link or a line beside a byline that are never part of a
/// name (`View More Articles`, `Follow`, `Email the author`).
const UI_WORDS: &[&str] = &[
    "view",
    "more",
    "articles",
    "posts",
    "stories",
    "follow",
    "email",
    "e-mail",
    "contact",
    "profile",
    "see",
    "read",
    "subscribe",
];

/// A candidate cut to a name: without a leading preposition (`By`, `Par`,
/// `Written by`) or label (`Text:`, `Autor:`), before a second role
/// (`Edited by …`), without trailing punctuation; None for what cannot be
/// a person's or a byline's name (a sentence, a long phrase, UI words).
fn as_name(candidate: &str) -> Option<String> {
    static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:\p{L}{2,12}\s*[:：]\s*)?(?:(?i:(?:written|story|words|text|reporting)\s+by|by|par|von|por|door|di|da|av|af)\s+)?",
        )
        .expect("prefix regex")
    });
    static SECOND_ROLE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\s(?:edited|photos?|photographs|illustrations?|graphics|translated|additional reporting)\s+by\b.*$")
            .expect("role regex")
    });
    let name = PREFIX.replace(candidate.trim(), "");
    let name = SECOND_ROLE.replace(&name, "");
    let name = name.trim_matches(|c: char| c.is_whitespace() || ",;:|·•—–-".contains(c));
    let words: Vec<&str> = name.split_whitespace().collect();
    let sentence = name.contains(['!', '?', '。', '！', '？']);
    let ui = words
        .iter()
        .any(|w| UI_WORDS.iter().any(|u| w.eq_ignore_ascii_case(u)));
    (!name.is_empty() && words.len() <= 6 && !sentence && !ui).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_preposition_and_sentences_are_not_names() {
        assert_eq!(
            as_name("By Erin Cunningham").as_deref(),
            Some("Erin Cunningham")
        );
        assert_eq!(
            as_name("Par Élise Marchand,").as_deref(),
            Some("Élise Marchand")
        );
        assert_eq!(
            as_name("Written by Rob Ewaschuk").as_deref(),
            Some("Rob Ewaschuk")
        );
        assert_eq!(as_name("Byron Katz").as_deref(), Some("Byron Katz"));
        assert_eq!(as_name("Comments are closed for this story today!"), None);
        assert_eq!(as_name("one two three four five six seven"), None);
        assert_eq!(
            as_name("Текст: Венера Ерофеева").as_deref(),
            Some("Венера Ерофеева")
        );
        assert_eq!(
            as_name("Written by Rob Ewaschuk Edited by Betsy Beyer").as_deref(),
            Some("Rob Ewaschuk")
        );
        assert_eq!(as_name("View More Articles"), None);
    }

    #[test]
    fn token_parts_name_bylines_but_not_bios() {
        assert!(has_part("article__byline", BYLINE_WORDS));
        assert!(has_part("pb-byline", BYLINE_WORDS));
        assert!(!has_part("authority", BYLINE_WORDS));
        assert!(has_part("author-bio", NOT_BYLINE_WORDS));
        assert!(!has_part("hasnt-bio", FOREIGN_WORDS));
        assert!(!has_part("no-comments", FOREIGN_WORDS));
        assert!(has_part("comments-no-js", FOREIGN_WORDS));
    }
}
