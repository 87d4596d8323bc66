//! ICD code normalisation (specs/cases.md, "Code normalisation").
//!
//! Coders type codes in many ways: full-width characters from a Chinese input
//! method (`Ｋ３５．８００`), lower case, `X` or `x` for the extension marker,
//! several codes in one field joined by `|`, `,`, `;` or `、`. Everything the
//! engine compares is first brought to one canonical spelling, so that
//! `k35.800X001` and `K35.800x001` are the same code.

use std::borrow::Cow;

/// Whether a character separates codes inside one field: `|`, `,`, `;`,
/// `、` and the full-width `｜`, `，`, `；`.
#[inline]
fn is_separator(c: char) -> bool {
    matches!(c, '|' | ',' | ';' | '、' | '｜' | '，' | '；')
}

/// The Unicode format characters (general category Cf, Unicode 15.1): zero-width
/// spaces and joiners, the BOM, bidirectional marks, embeddings, overrides and
/// isolates, and the rarer ones. Invisible, so never meant as part of a code.
const FORMAT_CHARACTERS: [(u32, u32); 21] = [
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Whether `c` is a Unicode format character (general category Cf).
pub fn is_format_character(c: char) -> bool {
    let c = c as u32;
    c >= 0xAD && FORMAT_CHARACTERS.iter().any(|&(start, end)| (start..=end).contains(&c))
}

/// Brings one code to its canonical spelling.
///
/// Removes Unicode format characters (category Cf: zero-width, BOM, bidi)
/// wherever they stand, trims spaces, drops control characters, turns full-width ASCII into
/// half-width and `。`/`．` into `.`,
/// upper-cases every letter, then turns every `X` that neither begins the code
/// nor follows a `+` into the extension marker `x`.
///
/// Returns `None` for what is not a code: an empty item or the placeholder `-`.
///
/// ```
/// use drg_core::codes::normalize_code;
/// assert_eq!(normalize_code("ｋ３５．８００").as_deref(), Some("K35.800"));
/// assert_eq!(normalize_code("I10.X05").as_deref(), Some("I10.x05"));
/// assert_eq!(normalize_code("x59.900").as_deref(), Some("X59.900"));
/// assert_eq!(normalize_code(" - "), None);
/// ```
pub fn normalize_code(raw: &str) -> Option<Cow<'_, str>> {
    if is_canonical(raw) {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        // Control characters (a NUL, a tab from a spreadsheet) are never
        // part of a code.
        if c.is_control() || is_format_character(c) {
            continue;
        }
        let c = match c {
            '\u{3000}' => ' ',
            '。' => '.',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        out.push(c.to_ascii_uppercase());
    }
    let trimmed = out.trim();
    if trimmed.is_empty() || trimmed == "-" {
        return None;
    }
    let mut code = String::with_capacity(trimmed.len());
    let mut prev: Option<char> = None;
    for c in trimmed.chars() {
        let c = if c == 'X' && prev.is_some() && prev != Some('+') { 'x' } else { c };
        code.push(c);
        prev = Some(c);
    }
    Some(Cow::Owned(code))
}

/// True when `raw` is already in canonical form, so that the common case of
/// clean input costs one pass over the bytes and no allocation.
fn is_canonical(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || raw == "-" {
        return false;
    }
    let mut prev = 0u8;
    for (i, &b) in bytes.iter().enumerate() {
        let ok = match b {
            b'A'..=b'W' | b'Y' | b'Z' | b'0'..=b'9' | b'.' | b'+' | b'*' => true,
            // The extension marker is lower case, a code's first letter upper case.
            b'x' => i > 0 && prev != b'+',
            b'X' => i == 0 || prev == b'+',
            _ => false,
        };
        if !ok {
            return false;
        }
        prev = b;
    }
    true
}

/// Splits a field holding several codes and normalises each.
///
/// Empty items and the placeholder `-` are dropped; duplicates stay (they are
/// data).
///
/// ```
/// use drg_core::codes::split_codes;
/// assert_eq!(split_codes("k35.800||I10.X05、-;"), vec!["K35.800", "I10.x05"]);
/// ```
pub fn split_codes(field: &str) -> Vec<String> {
    let mut out = Vec::new();
    split_codes_into(field, &mut out);
    out
}

/// [`split_codes`] into `out`, reusing its strings' memory (for readers that
/// parse row after row into the same case).
pub fn split_codes_into(field: &str, out: &mut Vec<String>) {
    let mut n = 0;
    for item in field.split(is_separator) {
        if let Some(code) = normalize_code(item) {
            match out.get_mut(n) {
                Some(slot) => {
                    slot.clear();
                    slot.push_str(&code);
                }
                None => out.push(code.into_owned()),
            }
            n += 1;
        }
    }
    out.truncate(n);
}

/// A code as messages show it: whole when it is of a reasonable length,
/// else its start and its size (a 10 MB "code" in a hostile file must not make
/// a 10 MB reason).
pub fn for_message(code: &str) -> Cow<'_, str> {
    const MAX_CHARS: usize = 40;
    match code.char_indices().nth(MAX_CHARS) {
        None => Cow::Borrowed(code),
        Some((end, _)) => Cow::Owned(format!("{}… ({} bytes)", &code[..end], code.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Option<String> {
        normalize_code(s).map(Cow::into_owned)
    }

    #[test]
    fn every_example_of_the_spec() {
        assert_eq!(norm("Ｋ３５．８００").unwrap(), "K35.800");
        assert_eq!(norm("k35.800").unwrap(), "K35.800");
        assert_eq!(norm("I10.X05").unwrap(), "I10.x05");
        assert_eq!(norm("k35.800X001").unwrap(), "K35.800x001");
        assert_eq!(norm("x59.900").unwrap(), "X59.900");
        assert_eq!(norm("54.4X15").unwrap(), "54.4x15");
        assert_eq!(norm("K35.800x001").unwrap(), "K35.800x001");
        assert_eq!(norm("I10.x05").unwrap(), "I10.x05");
        assert_eq!(norm("D48.900x014+H36.8*").unwrap(), "D48.900x014+H36.8*");
    }

    #[test]
    fn x_after_plus_begins_a_code() {
        assert_eq!(norm("d48.900x014+x36.8*").unwrap(), "D48.900x014+X36.8*");
        assert_eq!(norm("A00.X00+B00.X00").unwrap(), "A00.x00+B00.x00");
    }

    #[test]
    fn spaces_and_full_width_punctuation() {
        assert_eq!(norm("  K35.800  ").unwrap(), "K35.800");
        assert_eq!(norm("\u{3000}Ｋ３５。８００\u{3000}").unwrap(), "K35.800");
        assert_eq!(norm("５４．４Ｘ１５").unwrap(), "54.4x15");
        assert_eq!(norm("ｘ５９．９００").unwrap(), "X59.900");
    }

    #[test]
    fn long_codes_are_shortened_in_messages() {
        assert_eq!(for_message("K35.800"), "K35.800");
        let long = "K".repeat(1000);
        assert_eq!(for_message(&long), format!("{}… (1000 bytes)", "K".repeat(40)));
        assert_eq!(for_message(&"阑".repeat(50)), format!("{}… (150 bytes)", "阑".repeat(40)));
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(norm("K35.800\0").unwrap(), "K35.800");
        assert_eq!(norm("\tK35.\u{7}800\r").unwrap(), "K35.800");
        assert_eq!(norm("\0"), None);
    }

    #[test]
    fn format_characters_are_removed_wherever_they_stand() {
        for (raw, code) in [
            ("\u{200B}K35.800", "K35.800"),
            ("K35\u{200C}.800\u{200D}", "K35.800"),
            ("\u{FEFF}K35.800", "K35.800"),
            ("\u{202E}K35.800\u{202C}", "K35.800"),
            ("\u{2066}k35.800x001\u{2069}", "K35.800x001"),
            ("I10.\u{2060}X05", "I10.x05"),
            ("K35.8\u{AD}00", "K35.800"),
            ("\u{200E}\u{200F}\u{061C}54.4X15", "54.4x15"),
            ("\u{E0041}K35.800", "K35.800"),
        ] {
            assert_eq!(norm(raw).as_deref(), Some(code), "{raw:?}");
        }
        assert_eq!(norm("\u{200B}\u{FEFF}"), None, "only format characters: no code");
        assert_eq!(norm("\u{200B}-\u{200B}"), None, "a placeholder wrapped in them");
        assert_eq!(split_codes("K35.800\u{200B}|\u{FEFF}I10.x05"), vec!["K35.800", "I10.x05"]);
        // Visible characters near the table's ranges are kept.
        assert!(!is_format_character('\u{2065}') && !is_format_character('\u{AC}') && !is_format_character('阑'));
    }

    #[test]
    fn placeholders_and_empty_items_are_not_codes() {
        assert_eq!(norm(""), None);
        assert_eq!(norm("   "), None);
        assert_eq!(norm("-"), None);
        assert_eq!(norm(" － "), None);
    }

    #[test]
    fn splitting_accepts_every_separator() {
        assert_eq!(split_codes("A||B"), vec!["A", "B"]);
        assert_eq!(split_codes("A|B|"), vec!["A", "B"]);
        assert_eq!(split_codes("a,b;c、d"), vec!["A", "B", "C", "D"]);
        assert_eq!(split_codes("a，b；c｜d"), vec!["A", "B", "C", "D"]);
        assert_eq!(split_codes("-|K35.800|-"), vec!["K35.800"]);
        assert_eq!(split_codes("K35.800|K35.800"), vec!["K35.800", "K35.800"]);
        assert!(split_codes("").is_empty());
        assert!(split_codes(" | - | ").is_empty());
    }

    #[test]
    fn splitting_into_a_used_vector_replaces_its_codes() {
        let mut codes = vec!["OLD1".to_string(), "OLD2".to_string(), "OLD3".to_string()];
        split_codes_into("a|b", &mut codes);
        assert_eq!(codes, vec!["A", "B"]);
        split_codes_into("c|d|e|f", &mut codes);
        assert_eq!(codes, vec!["C", "D", "E", "F"]);
        split_codes_into("", &mut codes);
        assert!(codes.is_empty());
    }

    #[test]
    fn canonical_input_is_borrowed() {
        assert!(matches!(normalize_code("K35.800x001"), Some(Cow::Borrowed(_))));
        assert!(matches!(normalize_code("X59.900"), Some(Cow::Borrowed(_))));
        assert!(matches!(normalize_code("k35.800"), Some(Cow::Owned(_))));
        assert_eq!(norm("x59.900").unwrap(), "X59.900");
        assert_eq!(norm("A00+x59").unwrap(), "A00+X59");
    }

    #[test]
    fn normalisation_is_idempotent() {
        for s in ["ｋ３５．８００X001", "x59.x00", "a+x", " 54.4X15 ", "中文", "+X", "X+X"] {
            if let Some(once) = norm(s) {
                assert_eq!(norm(&once).unwrap(), once, "input {s:?}");
            }
        }
    }
}
