//! Finds personal data typed into fields that are not classified as personal: e-mail
//! addresses, phone numbers, Chinese resident ID numbers, Hong Kong identity card numbers,
//! IBANs and bank card numbers — in the forms people and systems write them.
//!
//! A string is first **folded** (`fold`): full-width and other compatibility forms become
//! ASCII, Unicode spaces and dashes plain ones, invisible characters are dropped. Addresses
//! are found around each `@`; numbers are read as clusters of digit groups and validated
//! against their formats' rules (`number`); where a number is equally personal and a
//! business number, the words before it and the field's context decide (`context`), and with
//! no context personal wins. Findings are byte ranges of the original string: replacing them
//! leaves no digit of the value behind, whatever its form.
//!
//! A cheap check comes first: a string with no `@` (or `＠`) and fewer than six digits holds
//! nothing to find, and neither does a whole-string date or RFC 3339 time. Most business
//! fields stop there.

mod context;
mod fold;
mod number;
mod tables;

use std::cell::RefCell;

pub use fold::fold_str;
pub use number::{
    bank_card, cn_resident_id_checksum_ok, hkid_check, iban_checksum_ok, luhn, resident_id,
};

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

/// What is known of the place a string comes from, beyond the string itself.
///
/// Where a candidate is equally a valid phone, card or ID number and a business number (an
/// order number, a serial), context decides: a field whose declared class or name says it
/// holds business numbers lets such ambiguous candidates pass, unless a word before the
/// number says it is personal (`Tel`, `卡号`). Candidates that only a person has (an e-mail
/// address, a number in a phone's international form, a HKID with its check digit in
/// brackets, an IBAN) are found whatever the context. With no context, personal wins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The field holds business numbers (declared `business` or `identifier`, or named like
    /// `order_no`, `sku`, `serial`, `订单号`, `Bestellnr`).
    pub business_numbers: bool,
    /// Every candidate counts, whatever the words before it: for record ids, whose prefix
    /// names a kind (`inv_13812345678`), not what the number is.
    pub strict: bool,
}

impl Context {
    /// The context of a record id: every candidate counts.
    pub const ID: Context = Context {
        business_numbers: false,
        strict: true,
    };
}

/// The scanner; build once, share freely. It keeps no state between calls (its scratch
/// buffers are per thread).
#[derive(Clone, Debug, Default)]
pub struct Scanner {
    _private: (),
}

thread_local! {
    static SCRATCH: RefCell<(fold::Folded, Vec<number::Candidate>, number::Groups)> =
        RefCell::default();
}

impl Scanner {
    /// Builds the scanner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `text` can hold a finding at all: the cheap check [`Scanner::scan`] starts
    /// with. Never false for a string that has a finding.
    #[inline]
    pub fn may_find(text: &str) -> bool {
        worth_scanning(text).is_some()
    }

    /// Appends the findings in `text` to `out`, in order, non-overlapping.
    #[inline]
    pub fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        self.scan_in(text, Context::default(), out);
    }

    /// [`Scanner::scan`] for a string found in `context`.
    #[inline]
    pub fn scan_in(&self, text: &str, context: Context, out: &mut Vec<Finding>) {
        if let Some(counts) = worth_scanning(text) {
            scan_slow(text, counts, context, out);
        }
    }
}

/// The cheap check: `None` when `text` holds nothing to find (no `@`, fewer than six digits,
/// or a whole date or time); otherwise its digits and `@` when it is plain ASCII (`Some(None)`
/// when it is not: it is folded and counted again).
#[inline]
fn worth_scanning(text: &str) -> Option<Option<(u32, bool)>> {
    let (digits, at, plain) = count(text.as_bytes());
    (at || (digits >= MIN_DIGITS && !is_timestamp(text.as_bytes())))
        .then_some(plain.then_some((digits, at)))
}

/// The fewest digits a number the scanner finds has (a HKID: six and a check letter).
const MIN_DIGITS: u32 = 6;

/// Scans `text`; `counts` are its digits and `@` when it is plain ASCII (a text that is not
/// is folded and counted again).
#[inline(never)]
fn scan_slow(text: &str, counts: Option<(u32, bool)>, context: Context, out: &mut Vec<Finding>) {
    SCRATCH.with_borrow_mut(|(folded, found, groups)| {
        found.clear();
        let plain = counts.is_some();
        let (bytes, (digits, at)) = match counts {
            Some(counts) => (text.as_bytes(), counts),
            None => {
                folded.fold(text);
                let (digits, at, _) = count(folded.text.as_bytes());
                (folded.text.as_bytes(), (digits, at))
            }
        };
        if !at && (digits < MIN_DIGITS || is_timestamp(bytes)) {
            return;
        }
        if at {
            emails(bytes, found);
        }
        let emails_end = found.len();
        if digits >= MIN_DIGITS {
            number::find(bytes, context, found, groups);
        }
        // Numbers inside an address (`13812345678@qq.com`) are part of it.
        if emails_end > 0 && found.len() > emails_end {
            let addresses = found[..emails_end].to_vec();
            let mut i = 0;
            found.retain(|n| {
                i += 1;
                i <= emails_end || !addresses.iter().any(|a| n.start < a.end && a.start < n.end)
            });
            found.sort_unstable_by_key(|c| c.start);
        }
        let mut last_end = 0;
        for &c in found.iter() {
            if c.start < last_end || c.start >= c.end {
                continue;
            }
            last_end = c.end;
            let (start, end) = if plain {
                (c.start, c.end)
            } else {
                folded.original(c.start, c.end)
            };
            out.push(Finding {
                class: c.class,
                start,
                end,
            });
        }
    })
}

/// Appends the e-mail addresses in `text` (folded): a local part of letters, digits and
/// `._%+-'`, an `@`, and a domain of labels with a top-level domain of two letters or more
/// (or in punycode).
fn emails(text: &[u8], out: &mut Vec<number::Candidate>) {
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-'".contains(&c);
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    let mut last_end = 0;
    for at in memchr::memchr_iter(b'@', text) {
        if at < last_end {
            continue;
        }
        let mut start = at;
        while start > last_end && local(text[start - 1]) {
            start -= 1;
        }
        while start < at && matches!(text[start], b'.' | b'\'' | b'-') {
            start += 1;
        }
        let mut end = at + 1;
        while end < text.len() && domain(text[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(text[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let host = &text[at + 1..end];
        let tld = host.rsplit(|&c| c == b'.').next().unwrap_or_default();
        let labels_ok = host.split(|&c| c == b'.').all(|l| !l.is_empty());
        // A top-level domain of letters, or an internationalized one in punycode
        // (`xn--fiqs8s`, `.中国`).
        let tld_ok = (tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic))
            || (tld.len() > 4 && tld[..4].eq_ignore_ascii_case(b"xn--"));
        if start < at && host.contains(&b'.') && labels_ok && tld_ok {
            out.push(number::Candidate {
                class: Class::Email,
                start,
                end,
            });
            last_end = end;
        }
    }
}

/// Characters outside ASCII whose folded form holds a digit or an `@` (full-width digits and
/// `＠`, super- and subscripts, circled and parenthesized numbers, mathematical digits):
/// ranges, sorted. A test checks the list against the folding itself, over every character.
const FOLDS_TO_DIGIT_OR_AT: &[(char, char)] = &[
    ('\u{B2}', '\u{B3}'),
    ('\u{B9}', '\u{B9}'),
    ('\u{2070}', '\u{2070}'),
    ('\u{2074}', '\u{2079}'),
    ('\u{2080}', '\u{2089}'),
    ('\u{2460}', '\u{249B}'),
    ('\u{24EA}', '\u{24EA}'),
    ('\u{3251}', '\u{325F}'),
    ('\u{32B1}', '\u{32BF}'),
    ('\u{3378}', '\u{3379}'),
    ('\u{339F}', '\u{33A6}'),
    ('\u{FE6B}', '\u{FE6B}'),
    ('\u{FF10}', '\u{FF19}'),
    ('\u{FF20}', '\u{FF20}'),
    ('\u{1CCF0}', '\u{1CCF9}'),
    ('\u{1D7CE}', '\u{1D7FF}'),
    ('\u{1F100}', '\u{1F10A}'),
    ('\u{1FBF0}', '\u{1FBF9}'),
];

fn folds_to_digit_or_at(c: char) -> bool {
    c >= '\u{B2}'
        && FOLDS_TO_DIGIT_OR_AT
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
}

/// Digits in `bytes`, whether it holds an `@`, and whether it is all ASCII. Outside ASCII,
/// a character that may fold to a digit or `@` counts as both (an upper bound: the folded
/// text is counted again). The ASCII loop is written so that the compiler vectorizes it:
/// branch-free, with byte counters over blocks of 64 bytes.
#[inline]
fn count(bytes: &[u8]) -> (u32, bool, bool) {
    let (mut digits, mut at, mut high) = (0u32, 0u8, 0u8);
    for block in bytes.chunks(64) {
        let (mut d, mut a, mut h) = (0u8, 0u8, 0u8);
        for &b in block {
            d += u8::from(b.wrapping_sub(b'0') < 10);
            a |= u8::from(b == b'@');
            h |= b & 0x80;
        }
        digits += u32::from(d);
        at |= a;
        high |= h;
    }
    let plain = high == 0;
    if !plain {
        let like = count_foldable(bytes);
        digits += like;
        at |= u8::from(like > 0);
    }
    (digits, at != 0, plain)
}

/// Characters of UTF-8 `bytes` that may fold to a digit or `@`. Only characters whose lead
/// byte starts one of [`FOLDS_TO_DIGIT_OR_AT`]'s ranges are decoded: Chinese text (lead
/// bytes E4–E9) is passed over byte by byte.
fn count_foldable(bytes: &[u8]) -> u32 {
    let mut n = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(b, 0xC2 | 0xE2 | 0xE3 | 0xEF | 0xF0) {
            let end = (i + 4).min(bytes.len());
            let c = match std::str::from_utf8(&bytes[i..end]) {
                Ok(s) => s.chars().next(),
                Err(e) => std::str::from_utf8(&bytes[i..i + e.valid_up_to()])
                    .ok()
                    .and_then(|s| s.chars().next()),
            };
            n += u32::from(c.is_some_and(folds_to_digit_or_at));
        }
    }
    n
}

/// `YYYY-MM-DD`, then possibly `THH:MM`, `:SS` and `Z` or `±HH:MM`: a whole string that is
/// a date or an RFC 3339 time (without fractions) holds no finding — its digit runs are a
/// date and pairs. Every record has a few; they skip the scan.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn classes_in(text: &str, context: Context) -> Vec<(Class, &str)> {
        let mut out = Vec::new();
        Scanner::new().scan_in(text, context, &mut out);
        out.iter()
            .map(|f| (f.class, &text[f.start..f.end]))
            .collect()
    }

    fn classes(text: &str) -> Vec<(Class, &str)> {
        classes_in(text, Context::default())
    }

    fn one(text: &str) -> Option<(Class, &str)> {
        let found = classes(text);
        assert!(found.len() <= 1, "{text}: {found:?}");
        found.into_iter().next()
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
    fn finds_phones_in_their_many_forms() {
        for (text, phone) in [
            ("手机13812345678请回电", "13812345678"),
            ("mobile 138-1234-5678", "138-1234-5678"),
            ("office 2345 6789 (HK)", "2345 6789"),
            ("+852 9123 4567", "+852 9123 4567"),
            ("0049 30 12345678", "0049 30 12345678"),
            ("Tel. +49 (30) 1234-5678", "+49 (30) 1234-5678"),
            ("Tel. +49 (0)30 1234567", "+49 (0)30 1234567"),
            ("call 01711234567", "01711234567"),
            ("Tel01711234567", "01711234567"),
            ("mobile_13812345678", "13812345678"),
            ("8613812345678", "8613812345678"),
            ("4930123456789", "4930123456789"),
            ("85291234567", "85291234567"),
            ("0086 138 1234 5678", "0086 138 1234 5678"),
            ("(030) 1234567", "(030) 1234567"),
            ("138.1234.5678", "138.1234.5678"),
            ("030/1234567", "030/1234567"),
            ("Tel 030 1234567 x12 bitte", "030 1234567 x12"),
            ("Tel 030 1234567 ext. 12", "030 1234567 ext. 12"),
            ("(010) 6552 1234", "(010) 6552 1234"),
            ("+1 415 555 2671", "+1 415 555 2671"),
        ] {
            assert_eq!(one(text), Some((Class::Phone, phone)), "{text}");
        }
    }

    #[test]
    fn finds_several_phones_in_one_run_of_digits() {
        assert_eq!(
            classes("138 1234 5678 / 139 8765 4321"),
            vec![
                (Class::Phone, "138 1234 5678"),
                (Class::Phone, "139 8765 4321")
            ]
        );
        assert_eq!(
            classes("13812345678/13987654321"),
            vec![(Class::Phone, "13812345678"), (Class::Phone, "13987654321")]
        );
        assert_eq!(
            classes("Tel 030 1234567 2026"),
            vec![(Class::Phone, "030 1234567")]
        );
    }

    #[test]
    fn finds_full_width_and_spaced_forms_and_covers_the_original_text() {
        for (text, class, found) in [
            (
                "电话：＋８６ １３８ １２３４ ５６７８。",
                Class::Phone,
                "＋８６ １３８ １２３４ ５６７８",
            ),
            ("li.na＠example.cn", Class::Email, "li.na＠example.cn"),
            (
                "li\u{200B}.na@example.cn",
                Class::Email,
                "li\u{200B}.na@example.cn",
            ),
            (
                "138\u{00A0}1234\u{00A0}5678",
                Class::Phone,
                "138\u{00A0}1234\u{00A0}5678",
            ),
            (
                "138\u{3000}1234\u{3000}5678",
                Class::Phone,
                "138\u{3000}1234\u{3000}5678",
            ),
            (
                "138\u{200B}1234\u{200D}5678",
                Class::Phone,
                "138\u{200B}1234\u{200D}5678",
            ),
            (
                "身份证１１０１０５１９４９１２３１００２Ｘ",
                Class::NationalId,
                "１１０１０５１９４９１２３１００２Ｘ",
            ),
        ] {
            assert_eq!(one(text), Some((class, found)), "{text}");
        }
    }

    #[test]
    fn verifies_resident_ids_in_their_forms() {
        for (text, id) in [
            ("ID 11010519491231002X on file", "11010519491231002X"),
            ("ID 11010519491231002x", "11010519491231002x"),
            ("110105 19491231 002X", "110105 19491231 002X"),
            ("110105-19491231-002X", "110105-19491231-002X"),
            ("sfz_11010519491231002X", "11010519491231002X"),
            ("ID11010519491231002X", "11010519491231002X"),
            ("lead_11010519491231002X", "11010519491231002X"),
        ] {
            assert_eq!(one(text), Some((Class::NationalId, id)), "{text}");
        }
        // A wrong check digit, or no real birth date: not an ID.
        assert_eq!(classes("ID 110105194912310021 on file"), vec![]);
        assert_eq!(classes("ID 110105194913310028"), vec![]);
    }

    #[test]
    fn verifies_hong_kong_identity_card_numbers() {
        assert_eq!(hkid_check(b"A", b"123456"), b'3');
        for (text, id) in [
            ("HKID A123456(3)", "A123456(3)"),
            ("HKID A123456 (3)", "A123456 (3)"),
            ("hkid a1234563", "a1234563"),
            ("c-A123456(3)", "A123456(3)"),
        ] {
            assert_eq!(one(text), Some((Class::NationalId, id)), "{text}");
        }
        let two = hkid_check(b"AB", b"987654");
        let text = format!("card AB987654({})", two as char);
        assert_eq!(one(&text).map(|(c, _)| c), Some(Class::NationalId));
        // A wrong check digit is not an HKID.
        assert_eq!(classes("A123456(4)"), vec![]);
    }

    #[test]
    fn verifies_ibans_by_country_length_and_checksum() {
        for (text, iban) in [
            (
                "IBAN DE89 3704 0044 0532 0130 00.",
                "DE89 3704 0044 0532 0130 00",
            ),
            ("GB82WEST12345698765432", "GB82WEST12345698765432"),
            ("iban de89370400440532013000", "de89370400440532013000"),
            ("IBANDE89370400440532013000", "DE89370400440532013000"),
            ("DE89.3704.0044.0532.0130.00", "DE89.3704.0044.0532.0130.00"),
            ("DE89-3704-0044-0532-0130-00", "DE89-3704-0044-0532-0130-00"),
            (
                "DE89\u{00A0}3704\u{00A0}0044\u{00A0}0532\u{00A0}0130\u{00A0}00",
                "DE89\u{00A0}3704\u{00A0}0044\u{00A0}0532\u{00A0}0130\u{00A0}00",
            ),
        ] {
            assert_eq!(one(text), Some((Class::BankAccount, iban)), "{text}");
        }
        assert_eq!(classes("DE89 3704 0044 0532 0130 01"), vec![]);
        // Passes mod 97 but JD is no IBAN country.
        assert_eq!(classes("Tracking JD0012345678901"), vec![]);
    }

    #[test]
    fn finds_bank_cards_by_issuer_and_luhn() {
        assert_eq!(
            one("卡号 6222 0212 3456 7894"),
            Some((Class::BankCard, "6222 0212 3456 7894"))
        );
        assert_eq!(
            one("card 4111111111111111"),
            Some((Class::BankCard, "4111111111111111"))
        );
        assert_eq!(classes("card 4111111111111112"), vec![]);
    }

    #[test]
    fn leaves_business_numbers_alone() {
        for text in [
            "Order SO-2026-000123 of 2026-10-05, 500 panels at 39.00 EUR",
            "acc-00042",
            "A-00681234",
            "SN 2026 1127 0001",
            "Tracking JD0012345678901",
            "SF1234567890123",
            "订单号 202611270001",
            "Bestellnr. 4500012345",
            "27/11/2026",
            "2026/11/27",
            "20261127",
            "Betrag 23.456.789 EUR",
            "12345678.90",
            "PLZ 10115, 邮编 100020",
            "USCC 91350211MA2Y3KXX1X",
            "2025-05-17T09:00:00Z",
        ] {
            assert_eq!(classes(text), vec![], "{text}");
        }
    }

    #[test]
    fn context_decides_numbers_that_could_be_either() {
        let business = Context {
            business_numbers: true,
            ..Context::default()
        };
        // Without context, personal wins.
        assert_eq!(
            one("6222021234567894").map(|(c, _)| c),
            Some(Class::BankCard)
        );
        assert_eq!(one("23456789").map(|(c, _)| c), Some(Class::Phone));
        // A word before it, or the field, says business.
        assert_eq!(classes("order no. 6222021234567894"), vec![]);
        assert_eq!(classes("订单号 23456789"), vec![]);
        assert_eq!(classes_in("6222021234567894", business), vec![]);
        // A personal word before it wins over the field; strong forms are always found.
        assert_eq!(
            classes_in("Tel 23456789", business),
            vec![(Class::Phone, "23456789")]
        );
        assert_eq!(
            classes_in("+86 138 1234 5678", business),
            vec![(Class::Phone, "+86 138 1234 5678")]
        );
        // In a record id, the words before a number name a kind, not the number.
        assert_eq!(classes("inv_13812345678"), vec![]);
        assert_eq!(
            classes_in("inv_13812345678", Context::ID),
            vec![(Class::Phone, "13812345678")]
        );
    }

    #[test]
    fn the_cheap_check_never_misses_a_character_that_folds_to_a_digit_or_at() {
        let mut ranges: Vec<(char, char)> = Vec::new();
        for c in ('\u{80}'..='\u{10FFFF}').filter(|c| !c.is_ascii()) {
            let folded = fold_str(c.encode_utf8(&mut [0; 4])).into_owned();
            if folded.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
                match ranges.last_mut() {
                    Some((_, hi)) if char::from_u32(*hi as u32 + 1) == Some(c) => *hi = c,
                    _ => ranges.push((c, c)),
                }
            }
        }
        assert_eq!(ranges, FOLDS_TO_DIGIT_OR_AT);
    }

    #[test]
    fn counting_by_lead_bytes_sees_every_character_that_folds_to_a_digit_or_at() {
        for c in ('\u{80}'..='\u{10FFFF}').filter(|c| !c.is_ascii()) {
            let mut buf = [0; 4];
            let text = format!("中{}文", c.encode_utf8(&mut buf));
            let (digits, at, plain) = count(text.as_bytes());
            assert!(!plain);
            let want = folds_to_digit_or_at(c);
            assert_eq!((digits == 1, at), (want, want), "{c:?}");
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
            assert!(!Scanner::may_find(t), "{t}");
        }
        for t in [
            "2026-10-5",
            "2025-05-17T09:00:00.123Z",
            "2025-05-17 09:00:00",
            "2025-05-17T09:00:00Z 13812345678",
            "13812345678",
        ] {
            assert!(!is_timestamp(t.as_bytes()), "{t}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Any text, hostile or not: the scanner does not panic, and its findings are ordered,
        /// non-overlapping, non-empty ranges on character boundaries.
        #[test]
        fn findings_are_ordered_ranges_on_character_boundaries(
            pieces in proptest::collection::vec(proptest::sample::select(&[
                "+86 138 1234 5678", "13812345678", "138-1234-5678", "+49 (0)30 1234-5678",
                "030 / 1234567", "0049 30 12345678", "2345 6789", "(852) 9123 4567",
                "11010519491231002X", "110105 19491231 002x", "A123456(3)", "a1234563",
                "DE89 3704 0044 0532 0130 00", "de89370400440532013000", "6222 0212 3456 7894",
                "li.na@example.cn", "li.na＠example．cn", "１３８ １２３４ ５６７８", "x12",
                "ext. 12", "订单号", "手机", "Tel", "order no.", "SN", "2026-11-27", "12.345.678",
                "12345678.90", "EUR", "%", "$", "€", "(", ")", "+", "-", ".", "/", " ", "\u{00A0}",
                "\u{3000}", "\u{200B}", "①", "²", "_", ":", "@", "0", "7", "00", "中", "文",
            ][..]), 0..16),
            business in proptest::bool::ANY,
            noise in proptest::prelude::any::<String>(),
        ) {
            let text = pieces.concat();
            let text = format!("{text}{noise}{text}");
            let mut out = Vec::new();
            let context = Context { business_numbers: business, ..Context::default() };
            Scanner::new().scan_in(&text, context, &mut out);
            let mut last = 0;
            for f in &out {
                proptest::prop_assert!(last <= f.start && f.start < f.end && f.end <= text.len());
                proptest::prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                last = f.end;
            }
        }
    }

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(tables::CALLING_CODES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(tables::IBAN_LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(FOLDS_TO_DIGIT_OR_AT.windows(2).all(|w| w[0].1 < w[1].0));
    }

    #[test]
    fn digit_counting_matches_the_plain_count() {
        for s in (0..140).flat_map(|n| {
            (0..n).flat_map(move |i| {
                ["7", "@"].map(|c| format!("{}{c}{}", "x".repeat(i), "y".repeat(n - i - 1)))
            })
        }) {
            let plain = (
                s.bytes().filter(u8::is_ascii_digit).count() as u32,
                s.contains('@'),
                true,
            );
            assert_eq!(count(s.as_bytes()), plain, "{s:?}");
        }
    }
}
