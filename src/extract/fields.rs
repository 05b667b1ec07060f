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
                    if is_label_cell(cells[i], &label) || (cells.len() == 2 && short_label(&label))
                    {
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
        "dl" => out.extend(dl_pairs(el, skip)),
        _ => {
            for c in el.child_elements() {
                if c.value().name() == "dl" {
                    out.extend(dl_pairs(c, skip));
                } else if let Some(pair) =
                    split_pair(&text_of(c, skip), usize::MAX).or_else(|| labelled_entry(c, skip))
                {
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

/// `<dt>`/`<dd>` pairs of a `<dl>`, the pairs bare or each in a `<div>`
/// (as HTML allows).
fn dl_pairs(dl: ElementRef, skip: &NodeSet) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut label: Option<String> = None;
    let children = dl.child_elements().flat_map(|c| {
        let inner: Vec<ElementRef> = if c.value().name() == "div" {
            c.child_elements().collect()
        } else {
            vec![c]
        };
        inner
    });
    for c in children {
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
    out
}

/// An entry that leads with its label in an element of its own and the
/// value after it: `<li><span>园区级别</span>市级</li>`,
/// `<p><b>面积</b><em>3.5平方公里</em></p>`.
fn labelled_entry(entry: ElementRef, skip: &NodeSet) -> Option<(String, String)> {
    let first = entry.child_elements().next()?;
    if !matches!(
        first.value().name(),
        "span" | "label" | "em" | "b" | "strong" | "i" | "dt" | "th" | "font"
    ) {
        return None;
    }
    let label = clean_label(&text_of(first, skip));
    let whole = text_of(entry, skip);
    let own = text_of(first, skip);
    let value = whole.strip_prefix(own.as_str())?.trim().to_string();
    let n = label.chars().count();
    ((2..=12).contains(&n) && !value.is_empty() && !label.contains(['。', '，', ',']))
        .then_some((label, value))
}

/// Pairs of a structure that labels its facts by position alone (no `<th>`,
/// no colon) count when most of their labels are field labels of the rule
/// (`known`): a two-column data table or a list of dated links is no fact
/// sheet.
fn mostly_known(pairs: &[(String, String)], known: &[String]) -> bool {
    let hits = pairs
        .iter()
        .filter(|(l, _)| known.iter().any(|k| *k == clean_label(l)))
        .count();
    pairs.len() >= 3 && hits * 2 >= pairs.len()
}

/// A `<dl>` of short terms, a table whose rows are label/value pairs
/// (labels in `<th>` or ending in a colon; no all-header row, which marks a
/// data table), or a table, list or box of one pair per row, entry or
/// `<dl>` whose labels are mostly the rule's field labels (`known`).
pub fn is_label_structure(el: ElementRef, skip: &NodeSet, known: &[String]) -> bool {
    match el.value().name() {
        "dl" => {
            let terms: Vec<String> = el
                .child_elements()
                .filter(|c| c.value().name() == "dt")
                .map(|c| text_of(c, skip))
                .collect();
            terms.len() >= 3 && terms.iter().all(|t| (1..=12).contains(&t.chars().count()))
        }
        "table" if marked_pairs_table(el, skip) => true,
        // A fact sheet is small; the bound keeps this test of every box of
        // the page proportional to the page.
        "table" | "ul" | "ol" | "div"
            if !known.is_empty() && el.descendants().nth(400).is_none() =>
        {
            let pairs = from_element(el, skip);
            let rows = match el.value().name() {
                "table" => rows_of(el).len(),
                _ => el.child_elements().count(),
            };
            // Every row or entry is one pair: nothing else is in the box.
            pairs.len() == rows && mostly_known(&pairs, known)
        }
        _ => false,
    }
}

/// A table whose rows are label/value cells, labels marked by `<th>` or a
/// colon.
fn marked_pairs_table(el: ElementRef, skip: &NodeSet) -> bool {
    match el.value().name() {
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

/// Short and no sentence: what a label is when nothing marks it.
fn short_label(text: &str) -> bool {
    (2..=12).contains(&text.chars().count()) && !text.contains(['。', '，', ',', '；'])
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

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    fn known() -> Vec<String> {
        ["所在区域", "园区类型", "规划面积", "主导产业", "园区级别"]
            .map(String::from)
            .to_vec()
    }

    fn first(html: &Html, css: &str) -> ElementRef<'static> {
        // Leaked for the test's lifetime: the tree outlives every ref.
        let html: &'static Html = Box::leak(Box::new(html.clone()));
        html.select(&Selector::parse(css).unwrap()).next().unwrap()
    }

    #[test]
    fn fact_sheets_labelled_by_position() {
        let skip = NodeSet::default();
        let table = Html::parse_fragment(
            "<table><tr><td>所在区域</td><td>金山区</td></tr><tr><td>园区类型</td><td>化工园</td></tr>\
             <tr><td>规划面积</td><td>12.8平方公里</td></tr><tr><td>招商电话</td><td>021-1</td></tr></table>",
        );
        let t = first(&table, "table");
        assert!(is_label_structure(t, &skip, &known()));
        assert_eq!(from_element(t, &skip).len(), 4);
        // Without the rule's labels a two-column table is data.
        assert!(!is_label_structure(t, &skip, &[]));
        let spans = Html::parse_fragment(
            "<ul><li><span>园区级别：</span>市级</li><li><span>所在区域</span>青浦区</li>\
             <li><b>规划面积</b><em>19平方公里</em></li></ul>",
        );
        let u = first(&spans, "ul");
        assert!(is_label_structure(u, &skip, &known()));
        assert_eq!(
            from_element(u, &skip),
            vec![
                ("园区级别".to_string(), "市级".to_string()),
                ("所在区域".to_string(), "青浦区".to_string()),
                ("规划面积".to_string(), "19平方公里".to_string()),
            ]
        );
        let dls = Html::parse_fragment(
            "<div><dl><dt>所在区域</dt><dd>嘉定区</dd></dl><dl><dt>园区级别</dt><dd>区级</dd></dl>\
             <dl><div><dt>主导产业</dt><dd>新能源汽车</dd></div></dl></div>",
        );
        let d = first(&dls, "div");
        assert!(is_label_structure(d, &skip, &known()));
        assert_eq!(from_element(d, &skip).len(), 3);
        // A list of dated links is no fact sheet.
        let news = Html::parse_fragment(
            "<ul><li><span>2024-01-02</span>园区召开大会</li><li><span>2024-01-03</span>项目签约</li>\
             <li><span>2024-01-04</span>企业座谈</li></ul>",
        );
        assert!(!is_label_structure(first(&news, "ul"), &skip, &known()));
    }
}
