//! Stage 5 of cleaning, **lines**: the body linearized once (`linear.rs`),
//! the content's part of it kept, and the header line read from the lines
//! between the headline and the content.

use std::collections::HashSet;

use scraper::Html;

use super::linear::{self, Unit};
use super::regions::Regions;
use super::select::Selected;
use crate::dom::{NodeSet, element, is_within, text_of, within};
use crate::extract::header::{self, Header};
use crate::extract::title::Title;
use crate::rules::Rule;
use crate::rules::index::{Hits, List};

/// The content as lines, and what the lines around it said.
pub struct Lines {
    /// The content's units, in order.
    pub content: Vec<Unit>,
    /// Indices into `content` of units inside the rule's header elements.
    pub header_units: HashSet<usize>,
    /// Header facts read before the content.
    pub head: Header,
}

/// Linearizes the body; content is the part `regions.found` holds.
pub fn of(html: &Html, page: &Selected, regions: &Regions) -> Lines {
    let units = linear::linearize(
        regions.body,
        &regions.skip,
        regions.found.roots.last().copied(),
    );
    let in_content = regions
        .found
        .holds_each(html, units.iter().map(|u| u.node()));
    // The rule's header elements, found once: they mark header lines both
    // before the content and inside it.
    let header_nodes = header_elements(html, &regions.hits, &regions.dropped);
    let head = header_near_title(
        html,
        page.rule,
        &units,
        &in_content,
        regions.title.as_ref(),
        &header_nodes,
    );
    let content: Vec<Unit> = units
        .into_iter()
        .zip(&in_content)
        .filter(|(_, c)| **c)
        .map(|(u, _)| u)
        .collect();
    let header_units = content
        .iter()
        .enumerate()
        .filter(|(_, u)| within(html, u.node(), &header_nodes))
        .map(|(i, _)| i)
        .collect();
    Lines {
        content,
        header_units,
        head,
    }
}

/// Header lines: in the rule's header elements, or among the few lines after
/// the headline and before the content.
fn header_near_title(
    html: &Html,
    rule: &Rule,
    units: &[Unit],
    in_content: &[bool],
    title: Option<&Title>,
    header_nodes: &NodeSet,
) -> Header {
    let mut head = Header::default();
    // Where the headline stands among the lines: by its element, else by its
    // text. Without it there is no header region: dates elsewhere belong to
    // sidebars and lists.
    let start = title
        .and_then(|t| t.node)
        .and_then(|t| units.iter().position(|u| is_within(html, u.node(), t)))
        .or_else(|| {
            let text = &title?.text;
            units
                .iter()
                .position(|u| matches!(u, Unit::Line(l) if &l.text == text))
        })
        .map(|i| i + 1);
    let content_start = in_content.iter().position(|c| *c).unwrap_or(units.len());
    let window: Vec<usize> = match start {
        Some(s) if s <= content_start => (s..content_start.min(s + 8)).collect(),
        Some(_) => Vec::new(),
        None => Vec::new(),
    };
    for i in window {
        if in_content[i] {
            continue;
        }
        let Unit::Line(l) = &units[i] else { continue };
        if l.text.chars().count() > 200 {
            continue;
        }
        let Some(h) = header::parse(&l.text, &rule.labels, &rule.timezone) else {
            continue;
        };
        let marked = within(html, l.node, header_nodes);
        if counts_as_header(&h, marked, &l.text, &rule.labels) {
            head.merge(h);
        }
    }
    head
}

/// Whether a parsed line beside the headline is header: it has a date, or
/// two facts, or one fact inside the rule's header element; a labelled
/// source (`来源：新华网` on a line of its own after the date's), a
/// year-less date or a bare view counter is header by itself.
fn counts_as_header(h: &Header, marked: bool, text: &str, labels: &crate::rules::Labels) -> bool {
    let own = h.source.is_some() || h.month_day.is_some();
    h.published_at.is_some()
        || h.facts() >= 2
        || own
        || (marked && h.facts() >= 1)
        || counter_only(text, labels)
}

/// A line that is a view counter and nothing else (`人气：1,208`,
/// `浏览 2,046 次`, `点击：88次 收藏`): beside the headline it is the page's
/// counter, whichever label of the family it wears; a word or two of widget
/// (收藏) may stand with it.
fn counter_only(text: &str, labels: &crate::rules::Labels) -> bool {
    let Some(m) = labels.views_count.find(text) else {
        return false;
    };
    let rest = format!("{}{}", &text[..m.start()], &text[m.end()..]);
    rest.chars().filter(|c| !c.is_whitespace()).count() <= 6
}

/// Elements chosen by the rule's header selectors (short ones only: a
/// generic `.info` that wraps half the page is no header).
fn header_elements(html: &Html, hits: &Hits, dropped: &NodeSet) -> NodeSet {
    hits.any(List::Header, 0)
        .into_iter()
        .filter_map(|id| element(html, id))
        .filter(|e| !within(html, e.id(), dropped) && text_of(*e, dropped).chars().count() <= 200)
        .map(|e| e.id())
        .collect()
}
