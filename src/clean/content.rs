//! Finding the main content of a page without a site rule.
//!
//! One pass over the tree (`content/measure.rs`) measures every element
//! (visible text, link text, its own paragraph text, class/id hints); then,
//! readability-style:
//!
//! 1. **prune**: subtrees no reader reads as the page's text — hidden
//!    elements, navigation, asides, headers and footers, forms' widgets, and
//!    elements whose class/id says share, comment, related, sidebar, cookie,
//!    advert … (unless it also says article/content/main) — are left out of
//!    the measures and of the content;
//! 2. **score**: each paragraph (a block with at least 25 characters of its
//!    own inline text) gives points for its length and commas to its parent,
//!    half to its grandparent and less further up; each candidate starts
//!    from its tag and class hints, and ends scaled by its link density;
//! 3. **choose**: the best candidate, moved up to an ancestor when several
//!    near-best candidates sit under it (a body split in sections);
//! 4. **siblings**: the best candidate's siblings that score well or read as
//!    paragraphs join it (a body split by an inline advert or figure);
//! 5. **trim**: inside the content, link-heavy blocks (related stories,
//!    tag clouds, share bars) are left out.
//!
//! CJK characters count twice toward lengths: a Chinese sentence says in 20
//! characters what an English one says in 50.

use crate::dom::NodeSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Html};

mod measure;
mod names;
mod trim;
use measure::{Info, Tag, measure_tree};
use trim::{Spans, trim};

/// The main content: the chosen roots (in document order) and the elements
/// inside them left out as chrome.
#[derive(Debug, Default)]
pub struct Content {
    /// The best candidate; the anchor for searches "in the content".
    pub top: Option<NodeId>,
    /// The top candidate and the siblings that joined it, in document order.
    pub roots: Vec<NodeId>,
    /// Subtrees inside the roots that are not content.
    pub pruned: NodeSet,
}

impl Content {
    /// One element is the whole content (a site rule's selector chose it).
    pub fn single(el: ElementRef, pruned: NodeSet) -> Content {
        Content {
            top: Some(el.id()),
            roots: vec![el.id()],
            pruned,
        }
    }

    /// [`Content::holds`] for each of `nodes`, remembering every ancestor's
    /// answer on the way up: each node of the page is climbed past once, so
    /// the cost is the page's size, not its lines times its depth (1,000
    /// lines nested 1,000 deep made that a million steps).
    pub fn holds_each(&self, html: &Html, nodes: impl Iterator<Item = NodeId>) -> Vec<bool> {
        let mut known: rustc_hash::FxHashMap<NodeId, bool> = Default::default();
        let mut path = Vec::new();
        nodes
            .map(|node| {
                path.clear();
                let mut cur = html.tree.get(node);
                let answer = loop {
                    let Some(n) = cur else { break false };
                    if let Some(&a) = known.get(&n.id()) {
                        break a;
                    }
                    if self.pruned.contains(&n.id()) {
                        break false;
                    }
                    if self.roots.contains(&n.id()) {
                        break true;
                    }
                    path.push(n.id());
                    cur = n.parent();
                };
                known.extend(path.iter().map(|&id| (id, answer)));
                answer
            })
            .collect()
    }

    /// Is `node` part of the content: under a root, not in a pruned subtree?
    pub fn holds(&self, html: &Html, node: NodeId) -> bool {
        let mut cur = html.tree.get(node);
        while let Some(n) = cur {
            if self.pruned.contains(&n.id()) {
                return false;
            }
            if self.roots.contains(&n.id()) {
                return true;
            }
            cur = n.parent();
        }
        false
    }
}

/// Finds the main content of `root` (the body). `dropped` are the rule's
/// chrome; `hints` are elements a generic content selector matched (they
/// get a bonus, not the decision).
pub fn find(html: &Html, root: ElementRef, dropped: &NodeSet, hints: &NodeSet) -> Content {
    let (mut infos, pruned) = measure_tree(root, dropped, hints);
    if infos.is_empty() {
        return Content::default();
    }
    let candidates = score_paragraphs(&mut infos);
    let ranked = rank(&infos, &candidates);
    let Some(&(best_score, best)) = ranked.first().filter(|(s, _)| *s >= MIN_BEST_SCORE) else {
        return whole_page(&infos, pruned);
    };
    let top = section_ancestor(&infos, &ranked, best).unwrap_or(best);
    let top = widen(&infos, top);
    let mut roots = with_siblings(html, &infos, top, best_score);
    roots.extend(leads(html, &infos, roots[0]));
    roots.sort_unstable();

    // Trim link-heavy blocks inside the content.
    let mut pruned = pruned;
    let spans = Spans::of(&infos);
    for &r in &roots {
        trim(&infos, &spans, r, &mut pruned);
    }
    Content {
        top: Some(infos[top].id),
        roots: roots.iter().map(|&i| infos[i].id).collect(),
        pruned,
    }
}

/// One real paragraph scores above 1; below this there is no main text (a
/// home page of links), and no block is better than chrome.
const MIN_BEST_SCORE: f64 = 1.5;
/// A paragraph has at least this much own inline text (CJK doubled).
const PARAGRAPH_MIN: f64 = 25.0;

/// Paragraph policy: the points a block gives its ancestors, or None if it
/// is no paragraph — left out, too short (< [`PARAGRAPH_MIN`]), not a
/// text-bearing tag, or a paragraph of links (a menu, not text). One point,
/// one per comma, one per 100 characters up to three.
fn paragraph_points(info: &Info) -> Option<f64> {
    let own = info.own;
    let text_tag = matches!(
        info.tag,
        Tag::P
            | Tag::Div
            | Tag::Td
            | Tag::Pre
            | Tag::Blockquote
            | Tag::ListLike
            | Tag::Other
            | Tag::Article
    );
    if info.excluded || own < PARAGRAPH_MIN || !text_tag || info.own_links / own > 0.5 {
        return None;
    }
    Some(1.0 + f64::from(info.own_commas) + (own / 100.0).floor().min(3.0))
}

/// How much less an ancestor `level` steps up gets: all, half, then a
/// third of the level each.
fn level_divisor(level: u32) -> f64 {
    match level {
        0 => 1.0,
        1 => 2.0,
        l => f64::from(l) * 3.0,
    }
}

/// A candidate's starting score: its tag, and its class/id hint — a name
/// says little about a block with hardly any text, so a positive hint
/// counts in full only from 500 characters.
fn start_score(info: &Info) -> f64 {
    let weight = if info.weight > 0.0 {
        info.weight * (info.text / 500.0).min(1.0)
    } else {
        info.weight
    };
    info.tag.base() + weight
}

/// Score: each paragraph feeds its ancestors (up to five levels). Returns
/// the candidates, in the order they were first scored.
fn score_paragraphs(infos: &mut [Info]) -> Vec<usize> {
    let mut candidates: Vec<usize> = Vec::new();
    for i in 0..infos.len() {
        let Some(s) = paragraph_points(&infos[i]) else {
            continue;
        };
        // The paragraph element itself counts as level 0 when it is a
        // container-ish block (text directly in a div or td).
        let mut level = 0;
        let mut cur = if matches!(infos[i].tag, Tag::P | Tag::ListLike | Tag::Other) {
            infos[i].parent
        } else {
            Some(i)
        };
        while let Some(a) = cur {
            if level > 4 {
                break;
            }
            let info = &mut infos[a];
            if info.score.is_none() {
                info.score = Some(start_score(info));
                candidates.push(a);
            }
            *info.score.as_mut().expect("set above") += s / level_divisor(level);
            level += 1;
            cur = info.parent;
        }
    }
    candidates
}

/// The share of a subtree's text inside links.
fn link_density(info: &Info) -> f64 {
    if info.text > 0.0 {
        info.links / info.text
    } else {
        0.0
    }
}

/// A candidate's score scaled by its link density.
fn final_score(info: &Info) -> f64 {
    info.score.unwrap_or(0.0) * (1.0 - link_density(info))
}

/// Candidates by final score, best first; ties go to the earlier element
/// (indices follow document order).
fn rank(infos: &[Info], candidates: &[usize]) -> Vec<(f64, usize)> {
    let mut ranked: Vec<(f64, usize)> = candidates
        .iter()
        .map(|&i| (final_score(&infos[i]), i))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked
}

/// Sections policy: when three or more of the next five candidates score
/// within 75% of the best, the body is split in sections, and the nearest
/// ancestor of the best (below `<body>`) that holds three of them holds
/// them all.
fn section_ancestor(infos: &[Info], ranked: &[(f64, usize)], best: usize) -> Option<usize> {
    let best_score = ranked.first()?.0;
    let near: Vec<usize> = ranked[1..]
        .iter()
        .take(5)
        .filter(|(s, _)| *s >= best_score * 0.75)
        .map(|(_, i)| *i)
        .collect();
    if near.len() < 3 {
        return None;
    }
    let mut anc = infos[best].parent;
    while let Some(a) = anc {
        if infos[a].tag == Tag::Body {
            return None;
        }
        let holds = near.iter().filter(|&&n| is_ancestor(infos, a, n)).count();
        if holds >= 3 {
            return Some(a);
        }
        anc = infos[a].parent;
    }
    None
}

/// Siblings policy: the top candidate and the siblings that belong with it,
/// in document order. A sibling joins if it scores at least a fifth of the
/// top (at least 10; a sibling of the same class gets a bonus of a fifth),
/// or reads as prose: a paragraph-like block with own text that is long and
/// few links, or link-free and ending a sentence (a body split by an inline
/// advert or figure).
fn with_siblings(html: &Html, infos: &[Info], top: usize, best_score: f64) -> Vec<usize> {
    let top_score = final_score(&infos[top]).max(best_score);
    let threshold = (top_score * 0.2).max(10.0);
    let mut roots = vec![top];
    if let Some(parent) = infos[top].parent {
        let class_of = |info: &Info| {
            html.tree
                .get(info.id)
                .and_then(ElementRef::wrap)
                .and_then(|e| e.value().attr("class"))
        };
        let top_class = class_of(&infos[top]).map(str::to_string);
        for (j, info) in infos.iter().enumerate() {
            if j == top || info.parent != Some(parent) || info.excluded {
                continue;
            }
            let same_class = top_class.is_some() && class_of(info) == top_class.as_deref();
            let bonus = if same_class { top_score * 0.2 } else { 0.0 };
            if final_score(info) + bonus >= threshold || reads_as_prose(info) {
                roots.push(j);
            }
        }
    }
    roots.sort_unstable();
    roots
}

/// A paragraph-like block with own text that is long with few links, or
/// link-free and ending a sentence.
fn reads_as_prose(info: &Info) -> bool {
    let density = link_density(info);
    info.own > 0.0
        && matches!(info.tag, Tag::P | Tag::Blockquote | Tag::Pre | Tag::Div)
        && ((info.text > 80.0 && density < 0.25)
            || (info.text > 0.0 && density == 0.0 && info.own_ends_sentence))
}

/// A body split over several containers (sections of a CMS's page
/// builder, steps of a how-to, text blocks between figures and adverts):
/// the best candidate holds one of them, and an ancestor holds the rest.
/// Climbs while what an ancestor adds is more of the body: prose
/// paragraphs amounting to a fifth of the body so far or more (half, if
/// it is one paragraph), with little
/// else (headings, captions, short list items: no more than the prose
/// added) and few links
/// (a list of other stories adds links, a comment thread is pruned).
/// Wrappers that add next to nothing are climbed through but kept only if
/// a step above them adds body.
fn widen(infos: &[Info], top: usize) -> usize {
    let prose = prose_below(infos);
    let (mut cur, mut best) = (top, top);
    for _ in 0..8 {
        let Some(p) = infos[cur].parent else { break };
        let (up, down) = (&infos[p], &infos[best]);
        if up.tag == Tag::Body || up.excluded {
            break;
        }
        let added = up.text - down.text;
        let added_prose = prose[p].0 - prose[best].0;
        // One paragraph more is a body only if it is a large part of it: a
        // lone teaser by the headline is the lead's to take, not a reason
        // to take the head with its byline and kicker.
        let share = if prose[p].1 - prose[best].1 >= 2 {
            0.2
        } else {
            0.5
        };
        let more_body = added_prose > 0.0
            && added_prose >= prose[best].0 * share
            && added - added_prose <= added_prose + 60.0
            && up.links - down.links <= added * 0.2;
        if more_body {
            best = p;
        } else if up.text - infos[cur].text > 60.0 {
            break;
        }
        cur = p;
    }
    best
}

/// At most this many elements before the body are looked at for its lead.
const LEAD_WALK: usize = 400;

/// The lead: a teaser or intro paragraph just above the body's container,
/// in the story's head beside the headline and byline (`p.standfirst`,
/// `div.teaser`) where no score reaches it. Walks back from the content's
/// first element, within the few ancestors that make up the story, taking
/// paragraphs that read as prose (a full sentence, hardly any links, no
/// byline or caption name) and passing over short lines (headline, byline,
/// a picture's credit); a run of other text longer than a lead ends it.
fn leads(html: &Html, infos: &[Info], first: usize) -> Vec<usize> {
    let mut story = first;
    for _ in 0..3 {
        match infos[story].parent {
            Some(p) if infos[p].tag != Tag::Body => story = p,
            _ => break,
        }
    }
    // The content's own ancestors come before it but are not before it.
    let mut above = Vec::new();
    let mut a = infos[first].parent;
    while let Some(i) = a.filter(|&i| i > story) {
        above.push(i);
        a = infos[i].parent;
    }
    let (mut found, mut passed) = (Vec::new(), 0.0);
    // A head is a few elements: markup soup before the body (thousands of
    // empty wrappers) is not walked to its start.
    for k in (story + 1..first).rev().take(LEAD_WALK) {
        let x = &infos[k];
        if x.excluded || above.contains(&k) {
            continue;
        }
        // The headline above ends the head: a lead is what sits under it
        // (a smaller heading names a box: a quote's speaker, an author).
        if x.tag == Tag::Heading && x.text > 0.0 {
            let name = html.tree.get(x.id).and_then(ElementRef::wrap);
            let headline = name.is_some_and(|e| matches!(e.value().name(), "h1" | "h2"));
            return if headline { found } else { Vec::new() };
        }
        let lead = matches!(x.tag, Tag::P | Tag::Div | Tag::Other)
            && x.own >= 80.0
            && x.own_links == 0.0
            && x.own_ends_sentence
            && x.weight >= 0.0;
        if lead && !found.iter().any(|&f| is_ancestor(infos, f, k)) {
            found.push(k);
        } else {
            passed += x.own;
            if passed > 300.0 {
                break;
            }
        }
    }
    // No headline in the story: what was found is not a head's lead.
    Vec::new()
}

/// Per element, the length and number of the prose paragraphs in its subtree: blocks
/// with 25 or more of their own characters, fewer than 30% of them in
/// links, that end a sentence or run past 100, not left out as chrome. A deck
/// under a headline, a byline or a kicker ends without a full stop.
fn prose_below(infos: &[Info]) -> Vec<(f64, u32)> {
    let mut prose: Vec<(f64, u32)> = infos
        .iter()
        .map(|x| {
            let paragraph = !x.excluded
                && x.own >= 25.0
                && x.own_links < x.own * 0.3
                && (x.own_ends_sentence || x.own >= 100.0);
            if paragraph { (x.own, 1) } else { (0.0, 0) }
        })
        .collect();
    for i in (1..infos.len()).rev() {
        if let Some(p) = infos[i].parent {
            prose[p].0 += prose[i].0;
            prose[p].1 += prose[i].1;
        }
    }
    prose
}

/// The content of a page with no paragraph to score: a one-page site (a
/// heading, short lines, a list or two) is read whole, chrome left out and
/// link-heavy blocks trimmed; a page that is mostly links (a home page of
/// links, a menu) has no main text, and nothing is better than chrome.
fn whole_page(infos: &[Info], pruned: NodeSet) -> Content {
    let page = &infos[0];
    if page.text <= 0.0 || page.links > page.text * 0.5 {
        return Content {
            pruned,
            ..Content::default()
        };
    }
    let mut pruned = pruned;
    trim(infos, &Spans::of(infos), 0, &mut pruned);
    Content {
        top: Some(page.id),
        roots: vec![page.id],
        pruned,
    }
}

/// Is `a` an ancestor of (or equal to) `n`? Indices are in document order,
/// so the walk stops as soon as it passes `a`.
fn is_ancestor(infos: &[Info], a: usize, n: usize) -> bool {
    let mut cur = Some(n);
    while let Some(c) = cur {
        if c == a {
            return true;
        }
        if c < a {
            return false;
        }
        cur = infos[c].parent;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_answer_as_walking_each_subtree_does() {
        let long = "长".repeat(200);
        let page = format!(
            "<body><div><p>{long}</p><div><a href=x>a</a><ul><li><a href=y>b</a></li></ul></div></div>\
             <div>{}</div><p>z</p></body>",
            "<div><a href=z>c</a>".repeat(50)
        );
        let html = Html::parse_document(&page);
        let body = html
            .tree
            .nodes()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() == "body")
            .unwrap();
        let (infos, _) = measure_tree(body, &NodeSet::default(), &NodeSet::default());
        let spans = Spans::of(&infos);
        for a in 0..infos.len() {
            let walked: Vec<usize> = (a..infos.len())
                .filter(|&n| is_ancestor(&infos, a, n))
                .collect();
            assert_eq!(
                walked,
                (a..spans.end[a]).collect::<Vec<_>>(),
                "subtree of {a}"
            );
            let long_below = walked
                .iter()
                .any(|&x| infos[x].own >= 160.0 && infos[x].own_links / infos[x].own < 0.2);
            assert_eq!(spans.long_paragraph[a], long_below, "paragraph under {a}");
        }
        assert!(spans.long_paragraph[0] && infos.len() > 50);
    }

    #[test]
    fn holds_each_answers_as_holds_does() {
        let page = format!(
            "<div id=a><p>x</p><div id=b><p>y</p>{}</div><p>z</p></div><p id=c>w</p>",
            "<div><span>deep</span>".repeat(300)
        );
        let html = Html::parse_document(&page);
        let by_id = |id: &str| {
            html.tree
                .nodes()
                .find(|n| n.value().as_element().and_then(|e| e.id()) == Some(id))
                .unwrap()
                .id()
        };
        let mut pruned = NodeSet::default();
        pruned.insert(by_id("b"));
        let content = Content {
            top: None,
            roots: vec![by_id("a")],
            pruned,
        };
        let all: Vec<NodeId> = html.tree.nodes().map(|n| n.id()).collect();
        let one_by_one: Vec<bool> = all.iter().map(|&n| content.holds(&html, n)).collect();
        assert_eq!(content.holds_each(&html, all.iter().copied()), one_by_one);
        assert!(one_by_one.iter().any(|&h| h) && one_by_one.iter().any(|&h| !h));
    }

    fn info(tag: Tag, own: f64, own_links: f64, commas: u32) -> Info {
        let id = ego_tree::Tree::new(()).root().id();
        Info {
            own,
            own_links,
            own_commas: commas,
            text: own,
            links: own_links,
            ..Info::new(id, None, tag, 0.0, false)
        }
    }

    fn body_of(html: &Html) -> ElementRef<'_> {
        html.tree
            .nodes()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() == "body")
            .unwrap()
    }

    #[test]
    fn a_paragraph_is_long_enough_text_of_a_text_tag_not_of_links() {
        assert_eq!(paragraph_points(&info(Tag::P, 24.0, 0.0, 0)), None);
        assert_eq!(paragraph_points(&info(Tag::P, 25.0, 0.0, 2)), Some(3.0));
        // One point per 100 characters, three at most.
        assert_eq!(paragraph_points(&info(Tag::Div, 950.0, 0.0, 0)), Some(4.0));
        assert_eq!(paragraph_points(&info(Tag::Heading, 100.0, 0.0, 0)), None);
        assert_eq!(paragraph_points(&info(Tag::P, 100.0, 51.0, 0)), None);
        let out = Info {
            excluded: true,
            ..info(Tag::P, 100.0, 0.0, 0)
        };
        assert_eq!(paragraph_points(&out), None);
        assert_eq!([0, 1, 2, 3].map(level_divisor), [1.0, 2.0, 6.0, 9.0]);
    }

    #[test]
    fn a_name_counts_in_full_only_on_a_block_with_text() {
        let mut i = info(Tag::Div, 0.0, 0.0, 0);
        i.weight = 25.0;
        i.text = 250.0;
        assert_eq!(start_score(&i), 5.0 + 12.5);
        i.text = 1000.0;
        assert_eq!(start_score(&i), 30.0);
        i.weight = -25.0;
        i.text = 10.0;
        assert_eq!(start_score(&i), -20.0);
        i.score = Some(10.0);
        i.links = 250.0;
        i.text = 1000.0;
        assert_eq!(final_score(&i), 7.5);
        // Ties go to the earlier element.
        let mut a = info(Tag::Div, 0.0, 0.0, 0);
        a.score = Some(3.0);
        let infos = vec![a.clone(), a.clone(), a];
        assert_eq!(rank(&infos, &[2, 0, 1]), vec![(3.0, 0), (3.0, 1), (3.0, 2)]);
    }

    #[test]
    fn prose_siblings_join_the_top_candidate() {
        let mut long = info(Tag::P, 90.0, 10.0, 0);
        assert!(reads_as_prose(&long));
        long.links = 30.0;
        assert!(!reads_as_prose(&long));
        let mut short = info(Tag::P, 10.0, 0.0, 0);
        assert!(!reads_as_prose(&short));
        short.own_ends_sentence = true;
        assert!(reads_as_prose(&short));
        assert!(!reads_as_prose(&info(Tag::List, 200.0, 0.0, 0)));
    }

    #[test]
    fn near_best_sections_lift_the_top_to_their_common_ancestor() {
        // Each inner div outscores #all (which gets a sixth of each
        // paragraph, two levels up); four of them near-best lift it.
        let para = "这是一段正文，内容很长，说明了园区的情况，".repeat(5);
        let page = format!(
            "<body><div id=all>{}</div><div>{para}</div></body>",
            format!("<div class=s><div><p>{para}</p></div></div>").repeat(4)
        );
        let html = Html::parse_document(&page);
        let c = find(
            &html,
            body_of(&html),
            &NodeSet::default(),
            &NodeSet::default(),
        );
        let top = html.tree.get(c.top.unwrap()).and_then(ElementRef::wrap);
        assert_eq!(top.and_then(|e| e.value().id()), Some("all"));
    }

    #[test]
    fn soft_chrome_is_left_out_unless_it_is_most_of_the_page() {
        let para = "这是一段正文，内容很长，说明了园区的情况。".repeat(5);
        let page = format!("<body><nav id=n>{para}</nav><div>{para}{para}</div></body>");
        let html = Html::parse_document(&page);
        let (infos, pruned) =
            measure_tree(body_of(&html), &NodeSet::default(), &NodeSet::default());
        let nav = infos.iter().find(|i| i.soft).unwrap();
        assert!(nav.excluded && pruned.contains(&nav.id));
        assert_eq!(infos[0].text, 2.0 * nav.own);
        let page = format!("<body><nav>{para}{para}</nav><div>{para}</div></body>");
        let html = Html::parse_document(&page);
        let (infos, pruned) =
            measure_tree(body_of(&html), &NodeSet::default(), &NodeSet::default());
        assert!(infos.iter().all(|i| !i.excluded) && pruned.is_empty());
    }

    #[test]
    fn a_list_of_sentences_with_links_is_not_trimmed_as_links() {
        let item = |i: usize| {
            format!(
                "<li><a href=/s{i}>The council voted on the harbour plan number {i}</a>, \
                 and the vote was close, with two members against it.</li>"
            )
        };
        let sentences: String = (0..4).map(item).collect();
        let links: String = (0..4)
            .map(|i| format!("<li><a href=/r{i}>Another story, number {i}</a></li>"))
            .collect();
        let page = format!(
            "<body><div><p>A paragraph of the story that opens the digest.</p>\
             <ol id=digest>{sentences}</ol><ul id=more>{links}</ul></div></body>"
        );
        let html = Html::parse_document(&page);
        let (infos, _) = measure_tree(body_of(&html), &NodeSet::default(), &NodeSet::default());
        let mut pruned = NodeSet::default();
        trim(&infos, &Spans::of(&infos), 0, &mut pruned);
        let id = |name: &str| {
            html.tree
                .nodes()
                .find(|n| n.value().as_element().and_then(|e| e.id()) == Some(name))
                .unwrap()
                .id()
        };
        let digest = infos.iter().find(|x| x.id == id("digest")).unwrap();
        assert!(
            digest.links / digest.text > 0.35,
            "the digest is link-dense"
        );
        assert!(!pruned.contains(&id("digest")));
        assert!(pruned.contains(&id("more")));
    }
    fn find_in(page: &str) -> (Html, Vec<String>) {
        let html = Html::parse_document(page);
        let found = find(
            &html,
            body_of(&html),
            &NodeSet::default(),
            &NodeSet::default(),
        );
        let names = found
            .roots
            .iter()
            .map(|&r| {
                let e = ElementRef::wrap(html.tree.get(r).unwrap()).unwrap();
                let v = e.value();
                v.id()
                    .or_else(|| v.attr("class"))
                    .unwrap_or(v.name())
                    .to_string()
            })
            .collect();
        (html, names)
    }

    #[test]
    fn a_body_split_over_containers_widens_to_the_one_that_holds_them() {
        let para = |n: usize| {
            format!(
                "<p>The council met on Tuesday and voted on plan {n}, after a long debate about costs, routes and the homes along the river.</p>"
            )
        };
        let block = |ps: std::ops::Range<usize>| {
            let body: String = ps.map(para).collect();
            format!("<div class=block><div class=inner>{body}</div></div>")
        };
        let page = format!(
            "<body><div id=col><h1>Headline</h1><div id=story>{}<div class=ad>Advertisement</div>{}{}</div>\
             <ul class=more><li><a href=/a>Other story one</a></li><li><a href=/b>Other story two</a></li></ul></div></body>",
            block(0..5),
            block(5..7),
            block(7..8)
        );
        let (_, roots) = find_in(&page);
        assert_eq!(roots, ["story"]);
    }

    #[test]
    fn the_teaser_under_the_headline_leads_the_body() {
        let body: String = (0..5)
            .map(|n| format!("<p>Paragraph {n} of the story, long enough to be read as prose, with commas, clauses and a full stop.</p>"))
            .collect();
        let page = format!(
            "<body><div class=piece><div class=head><h1>Headline</h1>\
             <p id=teaser>Twenty minutes instead of an hour in traffic: from May an electric ferry will cross the lake every half hour.</p>\
             <div class=meta>By A. Writer, 14 March</div></div>\
             <div class=cols><div id=copy>{body}</div></div></div></body>"
        );
        let (_, roots) = find_in(&page);
        assert_eq!(roots, ["teaser", "copy"]);
        // Without a headline above it, a paragraph before the body is no lead.
        let (_, roots) = find_in(&page.replace("<h1>Headline</h1>", ""));
        assert_eq!(roots, ["copy"]);
    }

    #[test]
    fn a_page_without_paragraphs_is_read_whole_unless_it_is_links() {
        let (_, roots) =
            find_in("<body><h1>Bakery</h1><ul><li>Open daily</li><li>Rye bread</li></ul></body>");
        assert_eq!(roots, ["body"]);
        let (_, roots) = find_in(
            "<body><ul><li><a href=/a>Home</a></li><li><a href=/b>News</a></li><li>Contact</li></ul></body>",
        );
        assert!(roots.is_empty());
    }
}
