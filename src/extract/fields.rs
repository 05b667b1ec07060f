//! Labelled facts (park profiles): `<th>label</th><td>value</td>` rows,
//! label/value cell pairs, `<dl>` terms, and `label:value` lines.

use crate::dom::NodeSet;

use scraper::ElementRef;
use serde_json::Map;

use crate::dom::rows_of;
use crate::dom::text_of;

/// Pairs read from one element chosen by a `fields` selector.
pub fn from_element(el: ElementRef, skip: &NodeSet) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match el.value().name() {
        "table" => {
            for tr in rows_of(el) {
                let cells: Vec<ElementRef> = tr
                    .child_elements()
                    .filter(|c| matches!(c.value().name(), "td" | "th"))
                    .collect();
                let mut i = 0;
                while i + 1 < cells.len() {
                    let label = text_of(cells[i], skip);
                    let value = text_of(cells[i + 1], skip);
                    if is_label_cell(cells[i], &label) {
                        out.push((label, value));
                        i += 2;
                    } else if let Some(pair) = split_pair(&label, usize::MAX) {
                        out.push(pair);
                        i += 1;
                    } else {
                        i += 1;
                    }
                }
                if i + 1 == cells.len()
                    && let Some(pair) = split_pair(&text_of(cells[i], skip), usize::MAX)
                {
                    out.push(pair);
                }
            }
        }
        "dl" => {
            let mut label: Option<String> = None;
            for c in el.child_elements() {
                match c.value().name() {
                    "dt" => label = Some(text_of(c, skip)),
                    "dd" => {
                        if let Some(l) = label.take() {
                            out.push((l, text_of(c, skip)));
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {
            for c in el.child_elements() {
                if let Some(pair) = split_pair(&text_of(c, skip), usize::MAX) {
                    out.push(pair);
                }
            }
        }
    }
    out.into_iter()
        .map(|(l, v)| (clean_label(&l), v))
        .filter(|(l, v)| !l.is_empty() && !v.is_empty())
        .collect()
}

/// A `<dl>` of short terms, or a table whose rows are label/value pairs
/// (labels in `<th>` or ending in a colon; no all-header row, which marks a
/// data table).
pub fn is_label_structure(el: ElementRef, skip: &NodeSet) -> bool {
    match el.value().name() {
        "dl" => {
            let terms: Vec<String> = el
                .child_elements()
                .filter(|c| c.value().name() == "dt")
                .map(|c| text_of(c, skip))
                .collect();
            terms.len() >= 3 && terms.iter().all(|t| (1..=12).contains(&t.chars().count()))
        }
        "table" => {
            let rows = rows_of(el);
            rows.len() >= 3
                && rows.iter().all(|tr| {
                    let cells: Vec<ElementRef> = tr
                        .child_elements()
                        .filter(|c| matches!(c.value().name(), "td" | "th"))
                        .collect();
                    matches!(cells.len(), 2 | 4)
                        && !cells.iter().all(|c| c.value().name() == "th")
                        && cells
                            .iter()
                            .step_by(2)
                            .all(|c| is_label_cell(*c, &text_of(*c, skip)))
                })
        }
        _ => false,
    }
}

fn is_label_cell(cell: ElementRef, text: &str) -> bool {
    let n = text.chars().count();
    (1..=12).contains(&n) && (cell.value().name() == "th" || text.ends_with([':', '：']))
}

/// `园区面积:3.5平方公里` → ("园区面积", "3.5平方公里"), when the label is at
/// most `max_label` characters and (for free text) one of `known`.
pub fn split_pair(line: &str, max_label: usize) -> Option<(String, String)> {
    let (label, value) = line.split_once([':', '：'])?;
    let label = clean_label(label);
    let value = value.trim().to_string();
    let n = label.chars().count();
    (n >= 2 && n <= max_label.min(12) && !value.is_empty() && !label.contains(['。', '，', ',']))
        .then_some((label, value))
}

/// A label without its colon and the spaces some sites put between characters
/// (`面　　积`).
pub fn clean_label(label: &str) -> String {
    label
        .trim()
        .trim_end_matches([':', '：'])
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect()
}

/// Adds pairs to the record's `fields`, first value of a label winning.
pub fn insert_all(map: &mut Map<String, serde_json::Value>, pairs: Vec<(String, String)>) {
    for (l, v) in pairs {
        map.entry(l).or_insert(serde_json::Value::String(v));
    }
}
