//! Stage 4, extract: the record's metadata from the parsed page and its
//! cleaned blocks. Each fact is a cascade whose first step that speaks wins:
//! site rule → JSON-LD → OpenGraph/meta → visible text.

pub mod byline;
pub mod date;
pub mod fields;
pub mod header;
pub mod items;
pub mod marked;
pub mod meta;
pub mod title;

use std::sync::LazyLock;

use url::Url;

use crate::rules::{District, DistrictFinder, Rule};

/// The park an URL points to, by the rule's park URL pattern (`id` group),
/// else by an `id=` query parameter.
pub fn park_id(rule: &Rule, url: &str) -> Option<String> {
    if let Some(re) = &rule.park_url {
        return re
            .captures(url)
            .and_then(|c| c.name("id"))
            .map(|m| m.as_str().to_string());
    }
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.into_owned())
}

/// A name that names a park (`…产业园`, `…开发区`, `…工业区`).
pub fn looks_like_park_name(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "园区",
        "产业园",
        "开发区",
        "工业区",
        "科技园",
        "高新区",
        "产业基地",
        "工业园",
        "创业园",
        "孵化基地",
        "经济园",
        "智造园",
        "示范区",
        "Park",
        "park",
        "Zone",
        "zone",
    ];
    WORDS.iter().any(|w| name.contains(w))
}

/// The district a name speaks of (`上海闵行经济技术开发区` → 闵行区).
pub fn district_in_name(districts: &[District], name: &str) -> Option<String> {
    districts
        .iter()
        .find(|d| name.contains(d.name.as_str()))
        .or_else(|| {
            districts
                .iter()
                .find(|d| d.aliases.iter().any(|a| name.contains(a.as_str())))
        })
        .map(|d| d.name.clone())
}

/// The district the text is clearly about: named at least twice, and at
/// least twice as often as any other.
pub fn district_in_text(finder: &DistrictFinder, text: &str) -> Option<String> {
    let mut counts = finder.count(text);
    // Stable: among equal counts the rule's order decides.
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    match counts.as_slice() {
        [(name, a), (_, b), ..] if *a >= 2 && *a >= 2 * b => Some(name.to_string()),
        [(name, a)] if *a >= 2 => Some(name.to_string()),
        _ => None,
    }
}

/// Words that are English and (nearly) nothing else among the Latin-script
/// languages: "in", "is", "an", "to", "at", "for" and "her" also are
/// German, Dutch, Danish, Polish …, so they are left out.
const ENGLISH_ONLY: &[&str] = &[
    "the", "and", "of", "that", "with", "was", "are", "this", "from", "have", "which", "were",
    "their", "been", "would", "they", "has", "its", "by", "not", "but", "these", "there", "about",
    "than", "also", "more", "said", "who", "after", "it", "you", "your", "will", "what", "when",
    "could", "should", "just", "into", "over", "such", "only", "other", "some", "them", "then",
    "how", "our", "we", "he", "she", "his", "had", "can", "one", "all", "new", "out", "up",
];

/// English prose, told by its function words: a tenth or more of its
/// words (13 % and up on the benchmark's English pages, a third on most),
/// against 0–3 % in German, Dutch, Danish, Swedish or Indonesian. This settles most
/// non-CJK pages in one cheap pass; whatlang's trigram model (scored
/// against every language profile, a fixed cost that dominated cleaning
/// short pages) decides the rest.
pub fn looks_english(text: &str) -> bool {
    let (mut words, mut hits) = (0usize, 0usize);
    for w in text.split(|c: char| !c.is_alphabetic() && c != '\'') {
        if w.is_empty() {
            continue;
        }
        words += 1;
        if is_english_only(w) {
            hits += 1;
        }
    }
    words >= 20 && hits * 10 >= words
}

/// Is `word` one of [`ENGLISH_ONLY`], in any case? Looked up by its
/// lowercase bytes in the sorted list: the check runs on every word of a
/// page's first thousand characters.
fn is_english_only(word: &str) -> bool {
    static SORTED: LazyLock<Vec<&'static [u8]>> = LazyLock::new(|| {
        let mut v: Vec<&[u8]> = ENGLISH_ONLY.iter().map(|w| w.as_bytes()).collect();
        v.sort_unstable();
        v
    });
    let mut buf = [0u8; 6];
    let Some(lower) = buf.get_mut(..word.len()) else {
        return false;
    };
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    SORTED.binary_search(&&*lower).is_ok()
}

/// Letters of the first characters of a text, by script.
#[derive(Debug, Default, PartialEq)]
struct Scripts {
    han: usize,
    kana: usize,
    hangul: usize,
    /// Other alphabetic characters.
    letters: usize,
}

/// Punctuation blocks in which no character is alphabetic: the general
/// punctuation block, the CJK symbols other than the iteration marks and
/// Hangzhou numerals (U+3005–3007, 3021–302F, 3031–3035, 3038–303C), and the
/// full-width forms other than letters and half-width kana.
const NOT_LETTERS: [std::ops::RangeInclusive<u32>; 9] = [
    0x2000..=0x206F,
    0x3000..=0x3004,
    0x3008..=0x3020,
    0x3030..=0x3030,
    0x3036..=0x3037,
    0x303D..=0x303F,
    0xFF01..=0xFF20,
    0xFF3B..=0xFF40,
    0xFF5B..=0xFF65,
];

impl Scripts {
    /// Counts the first `max` characters of `text`: ASCII bytes as bytes
    /// (most characters of most pages), the rest decoded.
    fn of(text: &str, max: usize) -> Scripts {
        let mut s = Scripts::default();
        let (mut seen, mut rest) = (0usize, text);
        while seen < max {
            let ascii = rest.bytes().take(max - seen).take_while(u8::is_ascii);
            let n = ascii.clone().count();
            s.letters += ascii.filter(u8::is_ascii_alphabetic).count();
            seen += n;
            rest = &rest[n..];
            // Ideographs U+5000–U+9FFF (three bytes each) in one step.
            let han = crate::dom::han_run_end(rest.as_bytes(), 0).min(3 * (max - seen));
            // `han` is whole three-byte characters, so `get` never fails:
            // it is `get` so that no index can panic.
            if let Some(after) = rest.get(han..).filter(|_| han > 0) {
                s.han += han / 3;
                seen += han / 3;
                rest = after;
                continue;
            }
            let Some(c) = rest.chars().next().filter(|_| seen < max) else {
                break;
            };
            seen += 1;
            rest = &rest[c.len_utf8()..];
            match c as u32 {
                0x3040..=0x30FF => s.kana += 1,
                0xAC00..=0xD7AF => s.hangul += 1,
                0x3400..=0x4DBF | 0x4E00..=0x9FFF => s.han += 1,
                // CJK and general punctuation, the most common characters
                // of Chinese text after ideographs: settled without
                // `is_alphabetic`'s table search (`NOT_LETTERS`).
                c if NOT_LETTERS.iter().any(|r| r.contains(&c)) => {}
                _ if c.is_alphabetic() => s.letters += 1,
                _ => {}
            }
        }
        s
    }
}

/// BCP 47 primary tag of the main text: by script for CJK text, by
/// whatlang's trigram model for the rest; the page's `lang` attribute when the
/// text is too short to tell.
pub fn lang(text: &str, declared: Option<&str>) -> Option<(String, &'static str)> {
    let declared = declared
        .and_then(|d| d.split(['-', '_']).next())
        .map(|d| d.to_ascii_lowercase())
        .filter(|d| !d.is_empty());
    let detected = |code: &str| Some((code.to_string(), "text"));
    let Scripts {
        han,
        kana,
        hangul,
        letters,
    } = Scripts::of(text, 20_000);
    let total = han + kana + hangul + letters;
    if total < 10 {
        return declared.map(|d| (d, "html-lang"));
    }
    if kana * 10 > total {
        return detected("ja");
    }
    if hangul * 3 > total {
        return detected("ko");
    }
    if (han + kana) * 3 > total {
        return detected("zh");
    }
    // A thousand characters tell the language as well as the whole text
    // (whatlang's trigram model settles long before), at a third of the cost.
    let cut = text.char_indices().nth(1200).map_or(text.len(), |(i, _)| i);
    if looks_english(&text[..cut]) {
        return detected("en");
    }
    let info = whatlang::detect(&text[..cut])?;
    let code = match info.lang() {
        whatlang::Lang::Eng => "en",
        whatlang::Lang::Fra => "fr",
        whatlang::Lang::Deu => "de",
        whatlang::Lang::Spa => "es",
        whatlang::Lang::Por => "pt",
        whatlang::Lang::Ita => "it",
        whatlang::Lang::Rus => "ru",
        whatlang::Lang::Nld => "nl",
        whatlang::Lang::Jpn => "ja",
        whatlang::Lang::Kor => "ko",
        whatlang::Lang::Cmn => "zh",
        whatlang::Lang::Ara => "ar",
        whatlang::Lang::Vie => "vi",
        whatlang::Lang::Tha => "th",
        whatlang::Lang::Ind => "id",
        whatlang::Lang::Tur => "tr",
        whatlang::Lang::Pol => "pl",
        whatlang::Lang::Ukr => "uk",
        other => other.code(),
    };
    // On short text the model guesses; a declared language agrees or wins.
    if !info.is_reliable()
        && let Some(d) = declared
    {
        return Some((d, "html-lang"));
    }
    detected(code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn not_letters_holds_no_letter() {
        for r in NOT_LETTERS {
            for c in r.filter_map(char::from_u32) {
                assert!(!c.is_alphabetic(), "U+{:04X}", c as u32);
            }
        }
    }

    use super::*;

    /// [`Scripts::of`] one character at a time.
    fn scripts_by_chars(text: &str, max: usize) -> Scripts {
        let mut s = Scripts::default();
        for c in text.chars().take(max) {
            match c as u32 {
                0x3040..=0x30FF => s.kana += 1,
                0xAC00..=0xD7AF => s.hangul += 1,
                0x3400..=0x4DBF | 0x4E00..=0x9FFF => s.han += 1,
                // CJK and general punctuation, the most common characters
                // of Chinese text after ideographs: settled without
                // `is_alphabetic`'s table search (`NOT_LETTERS`).
                c if NOT_LETTERS.iter().any(|r| r.contains(&c)) => {}
                _ if c.is_alphabetic() => s.letters += 1,
                _ => {}
            }
        }
        s
    }

    #[test]
    fn scripts_count_ascii_bytes_as_characters() {
        let texts = [
            "",
            "Plain English, 42 words.",
            "园区ab한국어カナ Ünï 3",
            "ab中cd",
        ];
        for t in texts {
            for max in [0, 1, 2, 3, 5, 20_000] {
                assert_eq!(Scripts::of(t, max), scripts_by_chars(t, max), "{t:?} {max}");
            }
        }
    }

    #[test]
    fn english_by_function_words_and_nothing_else() {
        let en = "The government has decided to ask the agency to study how industrial parks can be developed across the country, and the report must be delivered by December next year.";
        assert!(looks_english(en));
        assert_eq!(lang(en, Some("de")), Some(("en".to_string(), "text")));
        for other in [
            "Regeringen har beslutat att ge myndigheten i uppdrag att utreda hur industriparker kan utvecklas i hela landet, och rapporten ska lämnas senast i december nästa år.",
            "Regeringen har besluttet at give styrelsen til opgave at undersøge, hvordan erhvervsparker kan udvikles i hele landet, og rapporten skal afleveres senest i december.",
            "Die Regierung hat beschlossen, die Behörde mit der Untersuchung zu beauftragen, wie Industrieparks im ganzen Land entwickelt werden können, und der Bericht muss bis Dezember vorliegen.",
            "De regering heeft besloten het agentschap opdracht te geven te onderzoeken hoe industrieparken in het hele land kunnen worden ontwikkeld, en het rapport moet in december klaar zijn.",
        ] {
            assert!(!looks_english(other), "{other}");
        }
        // Too few words to tell.
        assert!(!looks_english("The park and the zone"));
    }
}
