//! Finds personal data typed into fields that are not classified as personal: e-mail
//! addresses, phone numbers (+86 mobiles, +49, +852 and local formats), Chinese resident ID
//! numbers (checksum verified) and IBANs (mod-97 verified).
//!
//! One multi-pattern regex (regex-automata's meta engine) finds candidates in a single pass;
//! validators then drop candidates that fail a checksum or digit count. A byte prefilter skips
//! strings that cannot hold any match (no `@` and fewer than seven digits), which is most
//! business fields.

use regex_automata::meta::Regex;

use crate::class::Class;

/// A piece of personal data found in a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was found.
    pub class: Class,
    /// Byte range in the scanned string.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
}

const PATTERNS: &[(&str, Class)] = &[
    (
        r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
        Class::Email,
    ),
    (
        r"(?-u:\b)[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?-u:\b)",
        Class::NationalId,
    ),
    (
        r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?-u:\b)",
        Class::BankAccount,
    ),
    (
        r"(?:\+|(?-u:\b)00)[1-9][0-9]{0,2}(?:[ \-./]?\(?[0-9]{1,5}\)?){1,6}(?-u:\b)",
        Class::Phone,
    ),
    (
        r"(?-u:\b)1[3-9][0-9](?:[ \-]?[0-9]{4}){2}(?-u:\b)",
        Class::Phone,
    ),
    (
        r"(?-u:\b)0[1-9][0-9]{1,4}(?:[ /\-][0-9]{2,8}){1,3}(?-u:\b)",
        Class::Phone,
    ),
    (r"(?-u:\b)[2-9][0-9]{3}[ \-][0-9]{4}(?-u:\b)", Class::Phone),
];

/// The scanner; build once, share freely.
#[derive(Clone, Debug)]
pub struct Scanner {
    regex: Regex,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    /// Builds the scanner.
    pub fn new() -> Self {
        let patterns: Vec<&str> = PATTERNS.iter().map(|(p, _)| *p).collect();
        let regex = Regex::new_many(&patterns).expect("built-in scan patterns compile");
        Self { regex }
    }

    /// Whether `text` could hold a finding at all (cheap check): an `@`, or seven digits in
    /// one run of digits and phone separators (` -./()+`) that is not an ISO date.
    pub fn may_contain(text: &str) -> bool {
        let bytes = text.as_bytes();
        // Fast path, eight bytes at a time: most business strings have no `@` and few digits.
        let (digit_count, at_sign) = count_digits_and_at(bytes);
        if at_sign {
            return true;
        }
        if digit_count < 7 {
            return false;
        }
        let mut digits = 0;
        let mut run_start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'0'..=b'9' => digits += 1,
                b' ' | b'-' | b'.' | b'/' | b'(' | b')' | b'+' => {}
                _ => {
                    if digits >= 7 && !is_iso_date(&bytes[run_start..i]) {
                        return true;
                    }
                    digits = 0;
                    run_start = i + 1;
                }
            }
        }
        digits >= 7 && !is_iso_date(&bytes[run_start..])
    }

    /// Appends the findings in `text` to `out`, in order, non-overlapping.
    pub fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        if !Self::may_contain(text) {
            return;
        }
        for m in self.regex.find_iter(text) {
            let class = PATTERNS[m.pattern().as_usize()].1;
            let found = &text[m.start()..m.end()];
            if valid(class, found) {
                out.push(Finding {
                    class,
                    start: m.start(),
                    end: m.end(),
                });
            }
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// 0x80 in every byte of `x` that is zero, 0 elsewhere (exact, no false positives).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    !(((x & !HIGHS).wrapping_add(!HIGHS)) | x) & HIGHS
}

/// 0x80 in every byte of `w` that is an ASCII digit.
#[inline(always)]
fn digit_bytes(w: u64) -> u64 {
    let high_nibble_is_3 = zero_bytes((w & (ONES * 0xF0)) ^ (ONES * 0x30));
    // Low nibble + 6 carries into bit 4 exactly when the nibble is 10 or more.
    let low_below_10 = (!((w & (ONES * 0x0F)) + ONES * 0x06) & (ONES * 0x10)) << 3;
    high_nibble_is_3 & low_below_10
}

/// ASCII digits in `bytes`, and whether it holds an `@`; SWAR over 8-byte words.
fn count_digits_and_at(bytes: &[u8]) -> (u32, bool) {
    // Bytes flagged 0x80 become 1 after the shift; multiplying by ONES sums them in the top byte.
    let count = |mask: u64| ((mask >> 7).wrapping_mul(ONES) >> 56) as u32;
    let (mut digits, mut at) = (0u32, 0u64);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        digits += count(digit_bytes(w));
        at |= zero_bytes(w ^ (ONES * u64::from(b'@')));
    }
    let w = padded_word(words.remainder());
    digits += count(digit_bytes(w));
    at |= zero_bytes(w ^ (ONES * u64::from(b'@')));
    (digits, at != 0)
}

/// Up to seven bytes as a word, padded with spaces (neither digit nor `@`), without a
/// `memcpy` call.
#[inline(always)]
fn padded_word(rest: &[u8]) -> u64 {
    let mut w = ONES * u64::from(b' ');
    for (i, &b) in rest.iter().enumerate() {
        w = (w & !(0xFF << (8 * i))) | (u64::from(b) << (8 * i));
    }
    w
}

/// `YYYY-MM-DD`, possibly with surrounding separators: a date, not a phone.
fn is_iso_date(run: &[u8]) -> bool {
    let run = run.trim_ascii();
    run.len() == 10
        && run[4] == b'-'
        && run[7] == b'-'
        && run
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

fn valid(class: Class, found: &str) -> bool {
    match class {
        Class::NationalId => cn_resident_id_checksum_ok(found),
        Class::BankAccount => iban_ok(found),
        Class::Phone => {
            let digits = found.bytes().filter(u8::is_ascii_digit).count();
            (7..=15).contains(&digits) || (found.starts_with("00") && (9..=17).contains(&digits))
        }
        _ => true,
    }
}

/// GB 11643-1999 check digit of an 18-character resident identity number.
pub fn cn_resident_id_checksum_ok(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

/// ISO 13616 IBAN check: length 15–34 and mod 97 = 1.
pub fn iban_ok(text: &str) -> bool {
    let compact: Vec<u8> = text.bytes().filter(|b| *b != b' ').collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut rem: u32 = 0;
    for &b in rearranged {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(Class, &str)> {
        let mut out = Vec::new();
        Scanner::new().scan(text, &mut out);
        out.iter()
            .map(|f| (f.class, &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn finds_emails_and_phones_in_free_text() {
        let text =
            "Call +86 138 1234 5678 or write to li.na@example.cn; Berlin office 030 1234567.";
        assert_eq!(
            classes(text),
            vec![
                (Class::Phone, "+86 138 1234 5678"),
                (Class::Email, "li.na@example.cn"),
                (Class::Phone, "030 1234567")
            ]
        );
    }

    #[test]
    fn finds_local_and_hong_kong_formats() {
        assert_eq!(
            classes("手机13812345678请回电"),
            vec![(Class::Phone, "13812345678")]
        );
        assert_eq!(
            classes("mobile 138-1234-5678"),
            vec![(Class::Phone, "138-1234-5678")]
        );
        assert_eq!(
            classes("office 2345 6789 (HK)"),
            vec![(Class::Phone, "2345 6789")]
        );
        assert_eq!(
            classes("+852 9123 4567"),
            vec![(Class::Phone, "+852 9123 4567")]
        );
        assert_eq!(
            classes("0049 30 12345678"),
            vec![(Class::Phone, "0049 30 12345678")]
        );
        assert_eq!(
            classes("Tel. +49 (30) 1234-5678"),
            vec![(Class::Phone, "+49 (30) 1234-5678")]
        );
    }

    #[test]
    fn verifies_resident_id_checksums() {
        assert_eq!(
            classes("ID 11010519491231002X on file"),
            vec![(Class::NationalId, "11010519491231002X")]
        );
        // Same number with a wrong check digit is not an ID (nor a phone: too many digits).
        assert_eq!(classes("ID 110105194912310021 on file"), vec![]);
    }

    #[test]
    fn verifies_ibans() {
        assert_eq!(
            classes("IBAN DE89 3704 0044 0532 0130 00."),
            vec![(Class::BankAccount, "DE89 3704 0044 0532 0130 00")]
        );
        assert_eq!(
            classes("GB82WEST12345698765432"),
            vec![(Class::BankAccount, "GB82WEST12345698765432")]
        );
        assert_eq!(classes("DE89 3704 0044 0532 0130 01"), vec![]);
    }

    #[test]
    fn swar_counting_matches_the_plain_count() {
        let samples = [
            "",
            "a",
            "0123456789",
            "/:09@",
            "ab@cd",
            "x9y8z7w6v5u4t3s2",
            "漢字1２3",
            "\u{0}\u{ff}:/09",
        ];
        for s in samples
            .iter()
            .map(|s| s.to_string())
            .chain((0..=255u8).map(|b| String::from_utf8_lossy(&[b, b'5', b]).into_owned()))
        {
            let plain = (
                s.bytes().filter(u8::is_ascii_digit).count() as u32,
                s.contains('@'),
            );
            assert_eq!(count_digits_and_at(s.as_bytes()), plain, "{s:?}");
        }
    }

    #[test]
    fn the_prefilter_skips_dates_and_short_numbers() {
        assert!(!Scanner::may_contain("2025-05-17T09:00:00Z"));
        assert!(!Scanner::may_contain("acc-00042 SO-2026"));
        assert!(Scanner::may_contain("x 138 1234 5678"));
        assert!(Scanner::may_contain("a@b"));
        assert!(Scanner::may_contain("11010519491231002X"));
    }

    #[test]
    fn leaves_business_numbers_alone() {
        assert_eq!(
            classes("Order SO-2026-000123 of 2026-10-05, 500 panels at 39.00 EUR"),
            vec![]
        );
        assert_eq!(classes("acc-00042"), vec![]);
    }
}
