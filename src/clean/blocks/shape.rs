//! What a line's shape makes it, for `blocks`: a caption (short, not a
//! sentence, right after an image), a heading (by markup, or by standing
//! short between paragraphs), or body text.

use crate::clean::linear::Line;
use crate::document::Block;

/// A caption is short and not a sentence.
pub(super) const CAPTION_MAX: usize = 40;
/// A heading is short.
pub(super) const HEADING_MAX: usize = 40;
/// Characters that end (or continue) a sentence: a line ending in one is
/// body text, never a caption or a heading.
pub(super) const SENTENCE_ENDS: [char; 13] = [
    '。', '！', '？', '!', '?', '；', ';', '…', '：', ':', '，', ',', '、',
];

/// A heading with nothing after it introduced what was removed (a 联系方式
/// whose lines became fields): drops such headings from the end, and says
/// how many.
pub(super) fn drop_trailing_headings(blocks: &mut Vec<Block>) -> usize {
    let mut n = 0;
    while matches!(blocks.last(), Some(Block::Heading { .. })) {
        blocks.pop();
        n += 1;
    }
    n
}

pub(super) fn ends_sentence(text: &str) -> bool {
    text.ends_with(SENTENCE_ENDS)
}

/// Caption policy: the first line of text after an image (removed lines in
/// between do not count) is its caption if marked so (`<figcaption>`), or if
/// it reads like one: short (≤ [`CAPTION_MAX`] characters), not a sentence,
/// not a heading (`<h1>`…`<h6>`, or bold unless centered — a centered bold
/// line under a picture is its title).
pub(super) fn is_caption(line: &Line) -> bool {
    if line.figcaption {
        return true;
    }
    let n = line.text.chars().count();
    n <= CAPTION_MAX
        && !ends_sentence(&line.text)
        && (!line.strong || line.centered)
        && line.heading.is_none()
}

/// Caption policy: a `<figcaption>` line whose picture was not kept (a
/// gallery slide, a video, a second credit line) stays a figure's caption,
/// never body text — unless it is also a heading by markup.
pub(super) fn is_orphan_caption(line: &Line) -> bool {
    line.figcaption && line.heading.is_none()
}

/// An orphan caption continues the caption of the image just before it, or
/// becomes a figure without a picture.
pub(super) fn attach_orphan_caption(blocks: &mut Vec<Block>, text: &str) {
    match blocks.last_mut() {
        Some(Block::Image {
            caption: Some(c), ..
        }) => {
            c.push(' ');
            c.push_str(text);
        }
        _ => blocks.push(Block::Image {
            src: None,
            alt: None,
            caption: Some(text.to_string()),
        }),
    }
}

/// Heading policy, by markup: a line inside `<h1>`…`<h6>`, or a wholly bold
/// line that is short and not a sentence.
pub(super) fn is_marked_heading(line: &Line) -> bool {
    line.heading.is_some() || (line.strong && is_short_title(&line.text))
}

/// Heading policy, by position: a short plain line that is not centered (a
/// centered one is a caption or a signature) may be a heading; whether it is
/// depends on its neighbours ([`promote_headings`]).
pub(super) fn may_be_heading_by_position(line: &Line) -> bool {
    is_short_title(&line.text) && !line.centered
}

/// Between 2 and [`HEADING_MAX`] characters, and not a sentence.
pub(super) fn is_short_title(text: &str) -> bool {
    let n = text.chars().count();
    (2..=HEADING_MAX).contains(&n) && !ends_sentence(text)
}

/// Numbered section titles of Chinese documents: `一、总体要求`, `（二）…`,
/// `第三章 …`.
pub(super) fn numbered_heading(text: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[)）]|第[一二三四五六七八九十百]{1,4}[章节条部分])").unwrap()
    });
    RE.is_match(text)
}

/// A short line that stands between paragraphs (text before and after it)
/// is a section heading; so is a numbered section title.
pub(super) fn promote_headings(blocks: &mut [Block], candidates: &[usize]) {
    for &i in candidates {
        let Block::Paragraph { text } = &blocks[i] else {
            continue;
        };
        // What follows must be body text, not another short line (a
        // signature block: department, then date).
        let next_is_text = matches!(blocks.get(i + 1), Some(Block::Paragraph { text: t })
            if t.chars().count() >= 30 || (ends_sentence(t) && t.chars().count() > text.chars().count()));
        let prev_ok = i == 0 || !matches!(blocks[i - 1], Block::Heading { .. });
        // A date or signature line (落款) is not a heading.
        let datelike =
            text.chars().filter(|c| c.is_ascii_digit()).count() * 3 > text.chars().count();
        if (numbered_heading(text) || (next_is_text && prev_ok && i > 0)) && !datelike {
            let text = text.clone();
            blocks[i] = Block::Heading { text };
        }
    }
}
