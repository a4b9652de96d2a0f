//! The forms a value takes in real text (full-width, odd spaces, zero-width characters, case)
//! and the forms a leak is looked for in: literal, NFKC-folded, digits only.
//!
//! Shared with `gateway/tests/cli/policy.rs` (`#[path]`): the standard library and
//! `unicode-normalization` only.

use unicode_normalization::UnicodeNormalization;

use super::values::Value;

/// Characters that render as nothing; folding drops them.
pub(crate) const ZERO_WIDTH: &[char] =
    &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// How a value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// As generated.
    Literal,
    /// Digits and Latin letters as full-width forms (U+FF10…, U+FF21…), `@` as `＠`, `+` as
    /// `＋`: what Chinese and Japanese input methods type.
    FullWidth,
    /// Every ASCII space of the value replaced by this separator (no-break space U+00A0,
    /// ideographic space U+3000, narrow no-break space U+202F).
    Separator(char),
    /// This zero-width character inserted in the middle of the value (zero-width space
    /// U+200B, zero-width joiner U+200D, word joiner U+2060).
    ZeroWidth(char),
    /// Letters upper case.
    Upper,
    /// Letters lower case.
    Lower,
}

impl Form {
    pub(crate) const ALL: &'static [Form] = &[
        Form::Literal,
        Form::FullWidth,
        Form::Separator('\u{00A0}'),
        Form::Separator('\u{3000}'),
        Form::Separator('\u{202F}'),
        Form::ZeroWidth('\u{200B}'),
        Form::ZeroWidth('\u{200D}'),
        Form::ZeroWidth('\u{2060}'),
        Form::Upper,
        Form::Lower,
    ];

    /// Whether the form changes `value` (a separator needs a space to replace, a case
    /// letters to change).
    pub(crate) fn applies_to(self, value: &Value) -> bool {
        let s = &value.secret;
        match self {
            Form::Literal | Form::FullWidth => true,
            Form::Separator(_) => s.contains(' '),
            Form::ZeroWidth(_) => s.chars().count() >= 2,
            Form::Upper => s.chars().any(|c| c.is_ascii_lowercase()),
            Form::Lower => s.chars().any(|c| c.is_ascii_uppercase()),
        }
    }

    /// The forms that apply to `value`, `Literal` first.
    pub(crate) fn all_for(value: &Value) -> Vec<Form> {
        Form::ALL
            .iter()
            .copied()
            .filter(|f| f.applies_to(value))
            .collect()
    }

    /// `value` in this form: what is written (prefix, secret and suffix) and the secret alone.
    pub(crate) fn apply(self, value: &Value) -> Written {
        let part = |s: &str| match self {
            Form::Literal | Form::ZeroWidth(_) => s.to_owned(),
            Form::FullWidth => full_width(s),
            Form::Separator(sep) => s.replace(' ', &sep.to_string()),
            Form::Upper => s.to_uppercase(),
            Form::Lower => s.to_lowercase(),
        };
        let mut secret = part(&value.secret);
        if let Form::ZeroWidth(z) = self {
            // Inside an e-mail, next to the `@` half the time; in the middle otherwise.
            let chars: Vec<char> = secret.chars().collect();
            let at = match chars.iter().position(|&c| c == '@') {
                Some(i) if chars.len() % 2 == 0 => i,
                _ => chars.len() / 2,
            };
            secret = chars[..at].iter().chain([&z]).chain(&chars[at..]).collect();
        }
        Written {
            text: format!("{}{}{}", part(&value.prefix), secret, part(&value.suffix)),
            secret,
        }
    }
}

/// A value as written in one form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    /// What is put into the record.
    pub(crate) text: String,
    /// The personal part of `text`.
    pub(crate) secret: String,
}

/// Full-width digits, Latin letters, `@` and `+`.
pub(crate) fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' | 'a'..='z' | '@' | '+' => {
                char::from_u32(c as u32 - 0x21 + 0xFF01).expect("full-width form exists")
            }
            _ => c,
        })
        .collect()
}

/// NFKC, zero-width characters dropped: what a reader (or a scanner) sees.
pub(crate) fn fold(s: &str) -> String {
    s.nfkc().filter(|c| !ZERO_WIDTH.contains(c)).collect()
}

/// The ASCII digits of `fold(s)`.
pub(crate) fn digits_of(s: &str) -> String {
    fold(s).chars().filter(char::is_ascii_digit).collect()
}

/// What a leak of `value` written as `written` looks like: its literal form (as written and
/// as generated), its folded form, and — when it has at least six digits — its digits.
#[derive(Clone, Debug)]
pub(crate) struct Needles {
    pub(crate) texts: Vec<String>,
    pub(crate) digits: Option<String>,
}

impl Needles {
    pub(crate) fn of(value: &Value, written: &Written) -> Self {
        let mut texts = vec![
            written.secret.clone(),
            value.secret.clone(),
            fold(&written.secret),
            fold(&value.secret),
        ];
        texts.sort();
        texts.dedup();
        let digits = digits_of(&value.secret);
        Self {
            texts,
            digits: (digits.len() >= 6).then_some(digits),
        }
    }

    /// The first form of the value found in `haystack`: as it is, folded, or (for the digits)
    /// in the digits of `haystack` once folded. `haystack` should be one string value, key
    /// or message, so that digits of neighbouring values do not join.
    pub(crate) fn found_in(&self, haystack: &str) -> Option<&str> {
        let folded = fold(haystack);
        for t in &self.texts {
            if haystack.contains(t.as_str()) || folded.contains(t.as_str()) {
                return Some(t);
            }
        }
        let d = self.digits.as_deref()?;
        let hay_digits: String = folded.chars().filter(char::is_ascii_digit).collect();
        hay_digits.contains(d).then_some(d)
    }
}
