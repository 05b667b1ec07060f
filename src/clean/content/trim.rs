//! Step 5 of the content finder (see `content`), **trim**: inside the
//! content, link-heavy blocks (related stories, tag clouds, share bars)
//! are left out; a list written in sentences is prose, however many links
//! it carries.

use super::measure::{Info, Tag};
use crate::dom::NodeSet;

/// Marks link-heavy lists, tables and divs under `root` as pruned: a block of
/// more than a little text that is mostly links is a list of other pages.
pub(super) fn trim(infos: &[Info], spans: &Spans, root: usize, pruned: &mut NodeSet) {
    let subtree = infos
        .iter()
        .enumerate()
        .take(spans.end[root])
        .skip(root + 1);
    for (i, info) in subtree {
        if !matches!(info.tag, Tag::List | Tag::Table | Tag::Div | Tag::ListLike) {
            continue;
        }
        if info.text < 1.0 {
            continue;
        }
        let density = info.links / info.text;
        let limit = if info.weight >= 25.0 { 0.5 } else { 0.35 };
        // Links throughout and no prose, or a chrome name and little text.
        let linky = density > limit && info.own < 200.0 && !spans.long_paragraph[i];
        if linky || (info.weight <= -25.0 && info.text < 400.0) {
            pruned.insert(info.id);
        }
    }
}

/// A list item that is a sentence of its own text with links in it (a
/// newsletter's "We've landed <a>Bug 1553982</a>, which …"), not a link
/// with a word or two around it: 40 or more characters outside links, and
/// a sentence's end.
pub(super) fn is_sentence_item(info: &Info) -> bool {
    info.own - info.own_links >= 40.0 && info.own_ends_sentence
}

/// A list of three or more items, at least half of them sentences: a body
/// written as a list (a digest, release notes), however many links its
/// sentences carry. Link density alone would trim it as a list of links.
pub(super) fn is_list_of_sentences((items, sentences): (u32, u32)) -> bool {
    items >= 3 && sentences * 2 >= items
}

/// Where each element's subtree ends among the infos (which are in
/// document order, so a subtree is the range `i..end[i]`), and whether it
/// holds a long paragraph of prose or a list of sentences. Found in one backward pass, so that
/// questions about subtrees cost nothing per element: asked by walking
/// each subtree, they cost size × depth, and a 2.7 MB tag soup took 40 s.
pub(super) struct Spans {
    pub(super) end: Vec<usize>,
    pub(super) long_paragraph: Vec<bool>,
}

impl Spans {
    pub(super) fn of(infos: &[Info]) -> Spans {
        let mut end: Vec<usize> = (1..=infos.len()).collect();
        let mut long_paragraph: Vec<bool> = infos
            .iter()
            .map(|x| x.own >= 160.0 && x.own_links / x.own < 0.2)
            .collect();
        // Per list: its items, and those that are sentences.
        let mut items = vec![(0u32, 0u32); infos.len()];
        for i in (0..infos.len()).rev() {
            // Children come after their parent: `items[i]` is complete.
            long_paragraph[i] |= is_list_of_sentences(items[i]);
            if let Some(p) = infos[i].parent {
                end[p] = end[p].max(end[i]);
                long_paragraph[p] |= long_paragraph[i];
                if infos[i].tag == Tag::ListLike {
                    items[p].0 += 1;
                    items[p].1 += u32::from(is_sentence_item(&infos[i]));
                }
            }
        }
        Spans {
            end,
            long_paragraph,
        }
    }
}
