//! Format-aware masking and generalization of single values.
//!
//! Every function here guarantees that the output does not contain the input: where the
//! format-aware result would (a one-letter name, a two-digit phone), the value is replaced by
//! `***`.

use std::borrow::Cow;

use crate::class::Class;
use crate::scan::fold_str;
use crate::spec::MaskSpec;

/// Whether a calling code starting with these three digits is three digits long (among the
/// regions DSS serves; others are two digits, or one for 1 and 7).
fn is_three_digit_code(code: u16) -> bool {
    matches!(
        code,
        233 | 234 | 254 | 255 | 256 | 351..=359 | 370..=375 | 380 | 381 | 385 | 386 | 420 | 421 | 852 | 853 | 855 | 856 | 880
            | 886 | 960..=968 | 971..=977
    )
}

const STARS: &str = "***";

/// Appends the masked form of `text` of `class` to `out`. Text in full-width or other
/// compatibility forms is folded first (see [`fold_str`]), so that every digit of the value
/// is seen as one and hidden as one.
pub fn mask_into(class: Class, text: &str, spec: &MaskSpec, out: &mut String) {
    let folded = fold_str(text);
    let text = folded.as_ref();
    let start = out.len();
    match class {
        Class::Phone => mask_phone(text, spec, out),
        Class::Email => mask_email(text, spec, out),
        Class::Name => mask_name(text, spec, out),
        _ => mask_generic(
            text,
            spec.keep_first.unwrap_or(0),
            spec.keep_last.unwrap_or(0),
            out,
        ),
    }
    let masked = &out[start..];
    let leaks = match masked.len().cmp(&text.len()) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => masked == text,
        std::cmp::Ordering::Greater => masked.contains(text),
    };
    if text.is_empty() || leaks {
        out.truncate(start);
        out.push_str(STARS);
    }
}

/// Masks `text` of `class`.
pub fn mask(class: Class, text: &str, spec: &MaskSpec) -> String {
    let mut out = String::with_capacity(text.len());
    mask_into(class, text, spec, &mut out);
    out
}

fn country_code_len(digits_after_plus: &[u8]) -> usize {
    let d = digits_after_plus;
    let three = || {
        d[..3]
            .iter()
            .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'))
    };
    match d.first() {
        Some(b'1' | b'7') => 1,
        _ if d.len() >= 3 && is_three_digit_code(three()) => 3,
        _ => 2,
    }
}

/// The first three ASCII digits of `text` (fewer when it has fewer), and how many.
fn first_three_digits(text: &str) -> ([u8; 3], usize) {
    let (mut digits, mut n) = ([0u8; 3], 0);
    for d in text.bytes().filter(u8::is_ascii_digit).take(3) {
        digits[n] = d;
        n += 1;
    }
    (digits, n)
}

fn mask_phone(text: &str, spec: &MaskSpec, out: &mut String) {
    let total = text.bytes().filter(u8::is_ascii_digit).count();
    let trimmed = text.trim_start();
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let (skip, cc) = if international && spec.keep_country_code.unwrap_or(true) {
        let lead = if trimmed.starts_with("00") { 2 } else { 0 };
        let (digits, n) = first_three_digits(&trimmed[lead..]);
        (lead, country_code_len(&digits[..n]))
    } else {
        (0, 0)
    };
    let national = total.saturating_sub(skip + cc);
    // At least half of the national digits are always hidden.
    let keep_last = usize::from(spec.keep_last.unwrap_or(4)).min(national / 2);
    let keep_first = usize::from(spec.keep_first.unwrap_or(0)).min(national / 2 - keep_last);
    let mut i = 0;
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            let n = i as isize - (skip + cc) as isize;
            let visible = i < skip + cc
                || (n >= 0 && ((n as usize) < keep_first || n as usize >= national - keep_last));
            out.push(if visible { ch } else { '*' });
            i += 1;
        } else {
            out.push(ch);
        }
    }
}

fn mask_email(text: &str, spec: &MaskSpec, out: &mut String) {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return mask_generic(text, 1, 0, out);
    };
    out.extend(
        local
            .chars()
            .take(usize::from(spec.keep_first.unwrap_or(1))),
    );
    out.push_str(STARS);
    out.push('@');
    if spec.keep_domain.unwrap_or(true) {
        out.push_str(domain);
    } else {
        out.push_str(STARS);
    }
}

fn mask_name(text: &str, spec: &MaskSpec, out: &mut String) {
    if spec.style.as_deref() == Some("stars") {
        return mask_generic(text, 0, 0, out);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() == 1 && !text.is_ascii() {
        // A name without spaces in CJK script: keep the family name, star the rest.
        let mut chars = text.chars();
        out.extend(chars.next());
        out.extend(chars.map(|_| '*'));
        return;
    }
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.extend(word.chars().next());
        out.push('.');
    }
}

fn mask_generic(text: &str, keep_first: u8, keep_last: u8, out: &mut String) {
    let len = text.chars().count();
    // At least half of the characters are always hidden.
    let budget = len / 2;
    let first = usize::from(keep_first).min(budget);
    let last = usize::from(keep_last).min(budget - first);
    for (i, ch) in text.chars().enumerate() {
        out.push(if i < first || i >= len - last || ch.is_whitespace() {
            ch
        } else {
            '*'
        });
    }
}

/// The generalized form of a text value of `class`, or `None` when no coarser form exists
/// (the value is then removed). Full-width and other compatibility forms are folded first.
pub fn generalize_text(class: Class, text: &str) -> Option<Cow<'_, str>> {
    match fold_str(text) {
        Cow::Borrowed(text) => generalize_plain(class, text),
        Cow::Owned(folded) => generalize_plain(class, &folded).map(|g| Cow::Owned(g.into_owned())),
    }
}

fn generalize_plain(class: Class, text: &str) -> Option<Cow<'_, str>> {
    match class {
        Class::BirthDate => {
            let year = text.get(..4)?;
            year.bytes()
                .all(|b| b.is_ascii_digit())
                .then_some(Cow::Borrowed(year))
        }
        Class::Phone => {
            let t = text.trim_start();
            let (digits, n) =
                first_three_digits(t.strip_prefix('+').or_else(|| t.strip_prefix("00"))?);
            let cc = country_code_len(&digits[..n]);
            let code = std::str::from_utf8(digits.get(..cc).filter(|_| cc <= n)?).ok()?;
            Some(Cow::Owned(format!("+{code}")))
        }
        Class::Email => text
            .rsplit_once('@')
            .map(|(_, domain)| Cow::Borrowed(domain))
            .filter(|d| !d.is_empty()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(class: Class, text: &str) -> String {
        mask(class, text, &MaskSpec::default())
    }

    #[test]
    fn phones_keep_country_code_and_last_digits() {
        assert_eq!(m(Class::Phone, "+86 138 1234 5678"), "+86 *** **** 5678");
        assert_eq!(m(Class::Phone, "+852 9123 4567"), "+852 **** 4567");
        assert_eq!(m(Class::Phone, "+49 30 12345678"), "+49 ** ****5678");
        assert_eq!(m(Class::Phone, "0049-30-1234567"), "0049-**-***4567");
        assert_eq!(m(Class::Phone, "030 1234567"), "*** ***4567");
        let spec = MaskSpec {
            keep_last: Some(2),
            keep_country_code: Some(false),
            ..MaskSpec::default()
        };
        assert_eq!(
            mask(Class::Phone, "+86 138 1234 5678", &spec),
            "+** *** **** **78"
        );
    }

    #[test]
    fn emails_keep_first_character_and_domain() {
        assert_eq!(
            m(Class::Email, "max.mueller@beispiel.de"),
            "m***@beispiel.de"
        );
        let spec = MaskSpec {
            keep_domain: Some(false),
            ..MaskSpec::default()
        };
        assert_eq!(mask(Class::Email, "max@beispiel.de", &spec), "m***@***");
    }

    #[test]
    fn names_keep_initials() {
        assert_eq!(m(Class::Name, "Max Müller"), "M. M.");
        assert_eq!(m(Class::Name, "王晓东"), "王**");
        assert_eq!(m(Class::Name, "Chan Ka Ming"), "C. K. M.");
    }

    #[test]
    fn output_never_contains_the_input() {
        for (class, text) in [
            (Class::Name, "李"),
            (Class::Name, "M"),
            (Class::Phone, "12"),
            (Class::Email, "a@b"),
            (Class::NationalId, "x"),
        ] {
            let out = m(class, text);
            assert!(!out.contains(text), "{class}: {text:?} -> {out:?}");
        }
    }

    #[test]
    fn full_width_values_are_masked_digit_by_digit() {
        assert_eq!(
            m(Class::Phone, "＋８６ １３８ １２３４ ５６７８"),
            "+86 *** **** 5678"
        );
        assert_eq!(m(Class::Email, "li.na＠example.cn"), "l***@example.cn");
        assert_eq!(
            generalize_text(Class::Phone, "＋８５２ ９１２３ ４５６７").as_deref(),
            Some("+852")
        );
    }

    #[test]
    fn generic_masking_hides_at_least_half() {
        let spec = MaskSpec {
            keep_first: Some(10),
            keep_last: Some(10),
            ..MaskSpec::default()
        };
        assert_eq!(
            mask(Class::NationalId, "110101199003074514", &spec),
            "110101199*********"
        );
    }

    #[test]
    fn generalize_coarsens_or_gives_up() {
        assert_eq!(
            generalize_text(Class::BirthDate, "1985-03-12").as_deref(),
            Some("1985")
        );
        assert_eq!(
            generalize_text(Class::Phone, "+852 9123 4567").as_deref(),
            Some("+852")
        );
        assert_eq!(
            generalize_text(Class::Email, "a@b.de").as_deref(),
            Some("b.de")
        );
        assert_eq!(
            generalize_text(Class::Address, "Friedrichstraße 1, Berlin").as_deref(),
            None
        );
        assert_eq!(generalize_text(Class::BirthDate, "March 1985"), None);
    }
}
