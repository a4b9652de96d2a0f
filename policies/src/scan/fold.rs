//! Folding text into the plain form the detectors match: what a person reads as the same
//! characters becomes the same bytes.
//!
//! Each character is replaced by its compatibility decomposition (NFKD, as NFKC would
//! compose it) when that is plain ASCII: full-width digits and letters (`１３８`, `Ａ`, `＠`,
//! `＋`), circled and super-script digits, ligatures. Unicode spaces (no-break, ideographic
//! U+3000, thin) become an ASCII space, dashes (`‐`, `–`, `−`) a hyphen, and invisible
//! format characters (zero-width space, joiners, word joiner, soft hyphen, byte-order mark)
//! are dropped. Everything else — Chinese text, accented letters — stays as it is: the
//! detectors look for ASCII shapes, so they need not change.
//!
//! The folded text keeps, for each of its bytes, the byte range of the original character it
//! came from, so a finding in the folded text covers exactly the original characters.

use std::borrow::Cow;

use unicode_normalization::char::decompose_compatible;

/// Text folded for matching, with the way back to the original.
#[derive(Debug, Default)]
pub(super) struct Folded {
    /// The folded text.
    pub(super) text: String,
    /// For each byte of `text`, the original character's byte range.
    origin: Vec<(u32, u32)>,
}

impl Folded {
    /// Folds `text` into `self`, reusing its buffers.
    pub(super) fn fold(&mut self, text: &str) {
        self.text.clear();
        self.origin.clear();
        for (at, c) in text.char_indices() {
            let span = (at as u32, (at + c.len_utf8()) as u32);
            let before = self.text.len();
            fold_char(c, &mut self.text);
            self.origin
                .extend(std::iter::repeat_n(span, self.text.len() - before));
        }
    }

    /// The original byte range of the folded range `start..end` (not empty).
    pub(super) fn original(&self, start: usize, end: usize) -> (usize, usize) {
        (
            self.origin[start].0 as usize,
            self.origin[end - 1].1 as usize,
        )
    }
}

/// `text` folded; borrowed when folding changes nothing (all ASCII).
pub fn fold_str(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    text.chars().for_each(|c| fold_char(c, &mut out));
    Cow::Owned(out)
}

/// Appends the folded form of `c` to `out`.
fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c);
        return;
    }
    match c {
        // CJK ideographs and Hangul syllables (most of a Chinese note) have no compatibility
        // form: skip the table lookup.
        '\u{3400}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}' => out.push(c),
        // Invisible format characters: zero-width space, non-joiner, joiner, word joiner,
        // invisible operators, soft hyphen, Mongolian vowel separator, byte-order mark.
        '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{00AD}'
        | '\u{180E}'
        | '\u{FEFF}' => {}
        // Dashes and minus signs.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => {
            out.push('-')
        }
        c if c.is_whitespace() => out.push(' '),
        c => {
            let mut plain = [0u8; 8];
            let mut n = 0;
            let mut ascii = true;
            decompose_compatible(c, |d| {
                if d.is_ascii() && n < plain.len() {
                    plain[n] = d as u8;
                    n += 1;
                } else {
                    ascii = false;
                }
            });
            if ascii && n > 0 {
                out.push_str(std::str::from_utf8(&plain[..n]).expect("ASCII bytes"));
            } else {
                out.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_spaces_dashes_and_invisible_characters() {
        assert_eq!(fold_str("＋８６ １３８"), "+86 138");
        assert_eq!(fold_str("li.na＠example.cn"), "li.na@example.cn");
        assert_eq!(fold_str("138\u{00A0}1234\u{3000}5678"), "138 1234 5678");
        assert_eq!(
            fold_str("li\u{200B}.na@exa\u{2060}mple.cn"),
            "li.na@example.cn"
        );
        assert_eq!(fold_str("030\u{2013}1234567"), "030-1234567");
        assert_eq!(fold_str("①②"), "12");
        // Text without a plain form is kept: Chinese, accented letters.
        assert_eq!(fold_str("手机号，请回电"), "手机号,请回电");
        assert_eq!(fold_str("Müller"), "Müller");
    }

    #[test]
    fn maps_folded_ranges_back_to_the_original_characters() {
        let text = "电话＋８６\u{200B}１３８";
        let mut f = Folded::default();
        f.fold(text);
        assert_eq!(f.text, "电话+86138");
        let start = f.text.find('+').unwrap();
        let (a, b) = f.original(start, f.text.len());
        assert_eq!(&text[a..b], "＋８６\u{200B}１３８");
    }
}
