//! Finds personal data typed into fields that are not classified as personal: e-mail
//! addresses, phone numbers (+86 mobiles, +49, +852 and local formats), Chinese resident ID
//! numbers (checksum verified) and IBANs (mod-97 verified).
//!
//! One multi-pattern regex (regex-automata's meta engine) finds candidates; validators then
//! drop candidates that fail a checksum or digit count. A byte prefilter skips strings that
//! cannot hold any match (no `@` and fewer than seven digits), which is most business fields;
//! in the others, the regex runs only over the windows around an `@` or a long run of digits
//! (a note of a few hundred bytes usually holds one short window).

use regex_automata::Input;
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

/// What is known of the place a string comes from, beyond the string itself.
///
/// Where a candidate is equally a valid phone, card or ID number and a business number (an
/// order number, a serial), context decides: a field whose declared class or name says it
/// holds business numbers lets such ambiguous candidates pass. Candidates that only a person
/// has (an e-mail address, a number in a phone's international form, a checksum-valid ID with
/// a birth date) are found whatever the context. With no context, personal wins (fail closed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The field holds business numbers (declared `business` or `identifier`, or named like
    /// `order_no`, `sku`, `serial`, `订单号`, `Bestellnr`).
    pub business_numbers: bool,
}

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

    /// Whether `text` can hold a finding at all: the cheap check [`Scanner::scan`] starts
    /// with.
    #[inline]
    pub fn may_find(text: &str) -> bool {
        worth_searching(text).is_some()
    }

    /// Appends the findings in `text` to `out`, in order, non-overlapping.
    ///
    /// The regex runs only over the windows that can hold a finding (see `windows` below), with
    /// the rest of `text` as context for its word boundaries: the findings are the ones a
    /// search of the whole string would report.
    #[inline]
    pub fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        self.scan_in(text, Context::default(), out);
    }

    /// [`Scanner::scan`] for a string found in `context`.
    #[inline]
    pub fn scan_in(&self, text: &str, context: Context, out: &mut Vec<Finding>) {
        let _ = context;
        // Most strings stop here, without the call below.
        if let Some((digits, at_sign)) = worth_searching(text) {
            self.scan_windows(text, digits, at_sign, out);
        }
    }

    #[inline(never)]
    fn scan_windows(&self, text: &str, digits: u32, at_sign: bool, out: &mut Vec<Finding>) {
        let mut found = Windows::default();
        windows(text.as_bytes(), at_sign, digits, &mut found);
        match found.merged() {
            Some(spans) => {
                for &(start, end) in spans {
                    self.find(Input::new(text).range(start..end), text, out);
                }
            }
            None => self.find(Input::new(text), text, out),
        }
    }

    fn find(&self, input: Input<'_>, text: &str, out: &mut Vec<Finding>) {
        for m in self.regex.find_iter(input) {
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

/// Byte classes for finding windows.
const DIGIT: u8 = 1;
/// Phone separators: ` -./()+`.
const SEP: u8 = 2;
/// `A`–`Z`.
const UPPER: u8 = 4;
/// A byte a phone number, resident ID or IBAN can hold: digits, separators, `A`–`Z`, `x`.
const NUMBERISH: u8 = 8;
/// A byte of an e-mail address's local part.
const LOCAL: u8 = 16;
/// A byte of an e-mail address's domain.
const DOMAIN: u8 = 32;

const BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut f = 0;
        if c.is_ascii_digit() {
            f |= DIGIT | NUMBERISH | LOCAL | DOMAIN;
        }
        if matches!(c, b' ' | b'-' | b'.' | b'/' | b'(' | b')' | b'+') {
            f |= SEP | NUMBERISH;
        }
        if c.is_ascii_uppercase() {
            f |= UPPER | NUMBERISH;
        }
        if c == b'x' {
            f |= NUMBERISH;
        }
        if c.is_ascii_alphabetic() {
            f |= LOCAL | DOMAIN;
        }
        if matches!(c, b'.' | b'-') {
            f |= LOCAL | DOMAIN;
        }
        if matches!(c, b'_' | b'%' | b'+') {
            f |= LOCAL;
        }
        t[b] = f;
        b += 1;
    }
    t
};

/// Spans of a string worth running the regex over; `None` in [`Windows::merged`] when there
/// were too many to keep (the whole string is searched then).
#[derive(Default)]
struct Windows {
    spans: [(usize, usize); 8],
    len: usize,
    overflow: bool,
}

impl Windows {
    fn push(&mut self, start: usize, end: usize) {
        match self.spans.get_mut(self.len) {
            Some(slot) => {
                *slot = (start, end);
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }

    /// The spans in order, overlapping ones merged.
    fn merged(&mut self) -> Option<&[(usize, usize)]> {
        if self.overflow {
            return None;
        }
        let spans = &mut self.spans[..self.len];
        spans.sort_unstable();
        let mut n = 0;
        for i in 0..spans.len() {
            if n > 0 && spans[i].0 <= spans[n - 1].1 {
                spans[n - 1].1 = spans[n - 1].1.max(spans[i].1);
            } else {
                spans[n] = spans[i];
                n += 1;
            }
        }
        Some(&self.spans[..n])
    }
}

/// Finds the windows of `bytes` that can hold a finding. Every match of a pattern lies inside
/// one of them:
/// - an e-mail address is the local-part bytes left of an `@` and the domain bytes right of
///   it;
/// - a phone number (seven digits or more, checked after the match) or a resident ID lies
///   in a run of digits and separators with seven digits or more that is not an ISO date,
///   inside a maximal run of [`NUMBERISH`] bytes;
/// - an IBAN (15 characters or more, starting with two capitals) lies inside a maximal run
///   of `NUMBERISH` bytes that is that long and holds a capital.
///
/// `digits` is the number of digits in `bytes`: below seven, only addresses are looked for.
fn windows(bytes: &[u8], at_sign: bool, digits: u32, out: &mut Windows) {
    let class = |b: u8| BYTE_CLASS[usize::from(b)];
    if at_sign {
        for at in memchr::memchr_iter(b'@', bytes) {
            let mut start = at;
            while start > 0 && class(bytes[start - 1]) & LOCAL != 0 {
                start -= 1;
            }
            let mut end = at + 1;
            while end < bytes.len() && class(bytes[end]) & DOMAIN != 0 {
                end += 1;
            }
            out.push(start, end);
        }
    }
    if digits < 7 {
        return;
    }
    // Every window of a number holds a digit: jump from digit to digit, then take the run of
    // number bytes around it.
    let mut i = 0;
    while let Some(digit) = next_digit(bytes, i) {
        let mut start = digit;
        while start > i && class(bytes[start - 1]) & NUMBERISH != 0 {
            start -= 1;
        }
        i = start;
        let (mut run_digits, mut run_start) = (0, i);
        let (mut qualifies, mut upper) = (false, false);
        while i < bytes.len() {
            let c = class(bytes[i]);
            if c & NUMBERISH == 0 {
                break;
            }
            if c & DIGIT != 0 {
                run_digits += 1;
            } else if c & SEP == 0 {
                upper |= c & UPPER != 0;
                qualifies |= run_digits >= 7 && !is_iso_date(&bytes[run_start..i]);
                run_digits = 0;
                run_start = i + 1;
            }
            i += 1;
        }
        qualifies |= run_digits >= 7 && !is_iso_date(&bytes[run_start..i]);
        if qualifies || (upper && i - start >= 15) {
            out.push(start, i);
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

/// ASCII digits in `bytes`, and whether it holds an `@`. Written so that the compiler
/// vectorizes it: branch-free, with byte counters over blocks of 64 bytes.
#[inline]
fn count_digits_and_at(bytes: &[u8]) -> (u32, bool) {
    let (mut digits, mut at) = (0u32, 0u8);
    for block in bytes.chunks(64) {
        let (mut d, mut a) = (0u8, 0u8);
        for &b in block {
            d += u8::from(b.wrapping_sub(b'0') < 10);
            a |= u8::from(b == b'@');
        }
        digits += u32::from(d);
        at |= a;
    }
    (digits, at != 0)
}

/// The position of the first ASCII digit at or after `from`.
fn next_digit(bytes: &[u8], mut from: usize) -> Option<usize> {
    while let Some(word) = bytes.get(from..from + 8) {
        let mask = digit_bytes(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        if mask != 0 {
            return Some(from + mask.trailing_zeros() as usize / 8);
        }
        from += 8;
    }
    (from..bytes.len()).find(|&i| bytes[i].is_ascii_digit())
}

/// The digit count and `@` presence of `text` when it can hold a finding: an `@`, or seven
/// digits in a string that is not a timestamp.
#[inline]
fn worth_searching(text: &str) -> Option<(u32, bool)> {
    let (digits, at_sign) = count_digits_and_at(text.as_bytes());
    (at_sign || (digits >= 7 && !is_timestamp(text.as_bytes()))).then_some((digits, at_sign))
}

/// `YYYY-MM-DD`, then possibly `THH:MM`, `:SS` and `Z` or `±HH:MM`: a whole string that is
/// a date or an RFC 3339 time (without fractions) holds no finding — its digit runs are a
/// date and pairs. Every record has a few; they skip the windows.
fn is_timestamp(bytes: &[u8]) -> bool {
    fn fits(bytes: &[u8], pattern: &[u8]) -> bool {
        bytes.len() == pattern.len()
            && (bytes.iter().zip(pattern)).all(|(&b, &p)| match p {
                b'd' => b.is_ascii_digit(),
                p => b == p,
            })
    }
    let Some((date, rest)) = bytes.split_at_checked(10) else {
        return false;
    };
    if !fits(date, b"dddd-dd-dd") {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    [&b"Tdd:dd"[..], b"Tdd:dd:dd"].iter().any(|time| {
        rest.len() >= time.len()
            && fits(&rest[..time.len()], time)
            && [&b""[..], b"Z", b"+dd:dd", b"-dd:dd"]
                .iter()
                .any(|zone| fits(&rest[time.len()..], zone))
    })
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
    fn digit_counting_matches_the_plain_count() {
        let samples = [
            "",
            "a",
            "0123456789",
            "/:09@",
            "ab@cd",
            "x9y8z7w6v5u4t3s2",
            "漢字1２3",
            "\u{0}\u{ff}:/09",
            "0123456789012345678901234567890123456789",
        ];
        for s in samples
            .iter()
            .map(|s| s.to_string())
            .chain((0..=255u8).map(|b| String::from_utf8_lossy(&[b, b'5', b]).into_owned()))
            .chain((0..140).flat_map(|n| {
                // Every length up to 140 (two blocks and a tail), with a digit or an `@` at
                // every position.
                (0..n).flat_map(move |i| {
                    ["7", "@"].map(|c| format!("{}{c}{}", "x".repeat(i), "y".repeat(n - i - 1)))
                })
            }))
        {
            let plain = (
                s.bytes().filter(u8::is_ascii_digit).count() as u32,
                s.contains('@'),
            );
            assert_eq!(count_digits_and_at(s.as_bytes()), plain, "{s:?}");
        }
    }

    fn spans(text: &str) -> Vec<&str> {
        let mut w = Windows::default();
        let (digits, at) = count_digits_and_at(text.as_bytes());
        windows(text.as_bytes(), at, digits, &mut w);
        w.merged()
            .unwrap()
            .iter()
            .map(|&(a, b)| &text[a..b])
            .collect()
    }

    #[test]
    fn windows_hold_addresses_and_long_numbers_but_not_dates() {
        assert_eq!(spans("2025-05-17T09:00:00Z"), Vec::<&str>::new());
        assert_eq!(spans("acc-00042 SO-2026"), Vec::<&str>::new());
        assert_eq!(
            spans("call back on +86 141 3876 1193 about the Q3 tender"),
            vec![" +86 141 3876 1193 "]
        );
        assert_eq!(
            spans("write to li.na@example.cn;"),
            vec!["li.na@example.cn"]
        );
        assert_eq!(
            spans("IBAN DE89 3704 0044 0532 0130 00."),
            vec!["IBAN DE89 3704 0044 0532 0130 00."]
        );
        // An e-mail address whose local part is a phone number: one merged window.
        assert_eq!(
            spans("mail 13812345678@qq.com now"),
            vec![" 13812345678@qq.com"]
        );
    }

    #[test]
    fn too_many_windows_fall_back_to_the_whole_string() {
        let text = "a@b.cn ".repeat(12) + "+86 138 1234 5678";
        let mut out = Vec::new();
        Scanner::new().scan(&text, &mut out);
        assert_eq!(out.len(), 13);
        assert_eq!(out[12].class, Class::Phone);
    }

    /// What a search of the whole string finds (after the same cheap prefilter).
    fn whole_string(scanner: &Scanner, text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        let (digits, at) = count_digits_and_at(text.as_bytes());
        if at || digits >= 7 {
            scanner.find(Input::new(text), text, &mut out);
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn searching_windows_finds_what_searching_the_whole_string_finds(
            pieces in proptest::collection::vec(proptest::sample::select(&[
                "+86 138 1234 5678", "13812345678", "138-1234-5678", "+49 (30) 1234-5678",
                "030 1234567", "0049 30 12345678", "2345 6789", "+852 9123 4567",
                "11010519491231002X", "110105194912310021", "DE89 3704 0044 0532 0130 00",
                "GB82WEST12345698765432", "li.na@example.cn", "max_m%1@mail.beispiel.de", "@",
                "a@b", "2026-10-05", "2025-05-17T09:00:00Z", "2025-05-17T09:00:00+08:00",
                "2025-05-17T09:00", "T09:00:00", "SO-2026-000123", "acc-00042",
                "Q3", "x", "X", "abc", "ABCD", "_", "手机", "号码", "电话", " ", " ", "-", ".",
                "/", "(", ")", "+", ",", ";", ":", "1", "7", "0", "00", "12345", "9876543",
            ][..]), 0..24)
        ) {
            let text = pieces.concat();
            let scanner = Scanner::new();
            let mut found = Vec::new();
            scanner.scan(&text, &mut found);
            proptest::prop_assert_eq!(found, whole_string(&scanner, &text), "{}", text);
        }
    }

    #[test]
    fn timestamps_are_recognized_whole_and_nothing_else_is() {
        for t in [
            "2026-10-05",
            "2025-05-17T09:00",
            "2025-05-17T09:00:00Z",
            "2025-05-17T09:00:00+08:00",
            "2025-05-17T09:00-05:00",
        ] {
            assert!(is_timestamp(t.as_bytes()), "{t}");
            // Skipping loses nothing: a search of the whole string finds nothing either.
            assert_eq!(whole_string(&Scanner::new(), t), vec![], "{t}");
        }
        for t in [
            "2026-10-5",
            "2026-10-05 ",
            "2025-05-17T09:00:00.123Z",
            "2025-05-17 09:00:00",
            "2025-05-17T09:00:00+0800",
            "2025-05-17T09:00:00Z 13812345678",
            "13812345678",
        ] {
            assert!(!is_timestamp(t.as_bytes()), "{t}");
        }
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
