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
        if h.published_at.is_some() || h.facts() >= 2 || (marked && h.facts() >= 1) {
            head.merge(h);
        }
    }
    head
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
