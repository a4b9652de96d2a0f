//! Numbers that are personal data: phone numbers, Chinese resident IDs, Hong Kong identity
//! card numbers, IBANs and bank card numbers — in folded text (see `fold`).
//!
//! The text is read as **clusters**: runs of digit groups joined by short separators (`138
//! 1234 5678`, `+49 (0)30 1234-5678`, `110105-19491231-002X`), with a leading `+` or `(`.
//! A cluster is one value, or several values that cover it entirely (`138 1234 5678 / 139
//! 8765 4321`), or a phone number followed by other digits. Each candidate is **validated**
//! against its format's rules: calling codes and national number lengths (libphonenumber's
//! metadata), mainland, German and Hong Kong national forms, the GB 11643 check digit and a
//! real birth date, the HKID check digit, ISO 13616 lengths and mod 97, Luhn and card issuer
//! prefixes. Dates, thousands-grouped and decimal amounts are not values.
//!
//! A candidate is **strong** when only a person's data has its shape (a number in
//! international form, a HKID with its check digit in brackets, an IBAN) and **weak** when a
//! business number could have it too (a bare 11-digit mobile, an 8-digit Hong Kong number, a
//! Luhn-valid 16-digit number, an 18-digit ID): context decides weak ones (see `context`).
//!
//! Letters and `_` before a number do not hide it (`Tel01711234567`, `sfz_…`, `IBANDE89…`),
//! but an international `00` prefix glued to letters (`JD0012345678901`) is not one.

use super::Context;
use super::context::{self, Said};
use super::tables::{calling_code, iban_length};
use crate::class::Class;

/// A validated candidate in folded text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Candidate {
    pub(super) class: Class,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Most groups a cluster is split into values by; longer clusters are judged whole.
const MAX_GROUPS: usize = 16;

/// The groups of the cluster being read, kept between calls for their buffer.
#[derive(Debug, Default)]
pub(super) struct Groups(Vec<Group>);

/// A run of digits (possibly ending in a resident ID's `X`) inside a cluster.
#[derive(Clone, Copy, Debug)]
struct Group {
    start: usize,
    end: usize,
    /// The separator before it is exactly `.`.
    dot_before: bool,
    /// The group is `0` in brackets after a calling code: the trunk prefix of `+49 (0)30`.
    trunk_in_brackets: bool,
}

/// Finds numbers in `text` (folded) and appends them to `out`, weak ones as `context` and the
/// words before them decide.
pub(super) fn find(text: &[u8], context: Context, out: &mut Vec<Candidate>, groups: &mut Groups) {
    let groups = &mut groups.0;
    let mut i = 0;
    while let Some(d) = next_digit(text, i) {
        if let Some((start, end)) = iban_at(text, d) {
            out.push(Candidate {
                class: Class::BankAccount,
                start,
                end,
            });
            i = end;
            continue;
        }
        if let Some((start, end, strong)) = hkid_at(text, d) {
            if strong || !passes_as_business(text, start, end, context) {
                out.push(Candidate {
                    class: Class::NationalId,
                    start,
                    end,
                });
            }
            i = end;
            continue;
        }
        let cluster = Cluster::read(text, d, groups);
        cluster.values(text, groups, context, out);
        i = cluster.end.max(d + 1);
    }
}

/// Whether a weak candidate at `start..end` is a business number by its context.
fn passes_as_business(text: &[u8], start: usize, end: usize, context: Context) -> bool {
    if context.strict {
        return false;
    }
    match context::before(text, start) {
        Some(Said::Business) => true,
        Some(Said::Personal) => false,
        None => context.business_numbers || context::currency_after(text, end),
    }
}

struct Cluster {
    /// Where the cluster starts: its first digit, or a `+` / `(` before it.
    start: usize,
    /// Whether it starts with `+`.
    plus: bool,
    /// End of the last group.
    end: usize,
}

impl Cluster {
    /// Reads the cluster whose first digit is at `d` into `groups`.
    fn read(text: &[u8], d: usize, groups: &mut Vec<Group>) -> Self {
        groups.clear();
        let before = |n: usize| d.checked_sub(n).map(|i| text[i]);
        let (start, mut plus) = match (before(1), before(2)) {
            (Some(b'+'), Some(b'(')) => (d - 2, true),
            (Some(b'+'), _) => (d - 1, true),
            (Some(b'('), Some(b'+')) => (d - 2, true),
            (Some(b' '), Some(b'+')) => (d - 2, true),
            (Some(b'('), _) => (d - 1, false),
            _ => (d, false),
        };
        // `(852) 9123-4567`: a calling code in brackets is an international prefix.
        if !plus && text.get(start) == Some(&b'(') {
            let code = text[d..].iter().take_while(|c| c.is_ascii_digit()).count();
            plus = (2..=3).contains(&code)
                && text[d] != b'0'
                && text.get(d + code) == Some(&b')')
                && calling_code(num(&text[d..d + code]) as u16).is_some();
        }
        let mut j = d;
        let (mut dot, mut bracketed) = (false, false);
        loop {
            let start = j;
            while j < text.len() && text[j].is_ascii_digit() {
                j += 1;
            }
            let mut end = j;
            let x = j < text.len()
                && matches!(text[j], b'X' | b'x')
                && !text.get(j + 1).is_some_and(u8::is_ascii_alphanumeric);
            if x {
                end = j + 1;
            }
            let after_close = text.get(end) == Some(&b')');
            groups.push(Group {
                start,
                end,
                dot_before: dot,
                trunk_in_brackets: bracketed && after_close && &text[start..end] == b"0",
            });
            if x {
                break;
            }
            let sep = j;
            while j < text.len() && j - sep < 3 && b" -./()".contains(&text[j]) {
                j += 1;
            }
            if j == sep || !text.get(j).is_some_and(u8::is_ascii_digit) {
                break;
            }
            let s = &text[sep..j];
            dot = s == b".";
            bracketed = s.ends_with(b"(");
        }
        Cluster {
            start,
            plus,
            end: groups.last().map_or(d, |g| g.end),
        }
    }

    /// The values the cluster holds.
    fn values(&self, text: &[u8], groups: &[Group], context: Context, out: &mut Vec<Candidate>) {
        let digits: usize = groups.iter().map(|g| g.end - g.start).sum();
        if digits < 7
            || is_date(text, groups)
            || is_amount(groups)
            || context::currency_after(text, self.end)
        {
            return;
        }
        let left = self.start.checked_sub(1).map(|i| text[i]);
        // Digits with a letter straight after them (`91350211MA2Y…`) are part of a code,
        // unless the letters start an extension; so are digits glued to letters before them
        // (`JD4945005461519`), unless the letters end in a word that names personal data
        // (`Tel01711234567`, `ID11010519491231002X`).
        let glued = left.is_some_and(|c| c.is_ascii_alphanumeric())
            && !context::glued_personal_word(&text[..self.start]);
        let code = glued
            || (text.get(self.end).is_some_and(u8::is_ascii_alphabetic)
                && extension_end(text, self.end).is_none());
        // Whether weak values pass as business numbers: asked only when there is one.
        let passes = std::cell::OnceCell::new();
        let judge = |a: usize, b: usize| -> Option<(Class, bool)> {
            let window = Window {
                text,
                groups: &groups[a..b],
                plus: self.plus && a == 0,
                glued: a == 0 && glued,
            };
            window.judge().filter(|&(_, strong)| {
                strong
                    || !*passes.get_or_init(|| {
                        code || passes_as_business(text, self.start, self.end, context)
                    })
            })
        };
        let start_of = |a: usize| if a == 0 { self.start } else { groups[a].start };
        let push = |class: Class, a: usize, b: usize, out: &mut Vec<Candidate>| {
            let mut end = groups[b - 1].end;
            if class == Class::Phone && b == groups.len() {
                end = extension_end(text, end).unwrap_or(end);
            }
            out.push(Candidate {
                class,
                start: start_of(a),
                end,
            });
        };
        let n = groups.len();
        if let Some((class, _)) = judge(0, n) {
            push(class, 0, n, out);
        } else if n <= MAX_GROUPS {
            // Several values covering the cluster (`138 1234 5678 / 139 8765 4321`), or one at
            // its start followed by other digits (`030 1234567 2026`): leftmost-longest.
            match cover(0, n, &judge) {
                Some(parts) => parts.into_iter().for_each(|(c, x, y)| push(c, x, y, out)),
                None => {
                    if let Some((y, class)) =
                        (1..n).rev().find_map(|y| judge(0, y).map(|(c, _)| (y, c)))
                    {
                        push(class, 0, y, out);
                    }
                }
            }
        }
    }
}

/// Windows `a..b` of groups split into values that cover all of them, leftmost-longest.
fn cover(
    a: usize,
    b: usize,
    judge: &impl Fn(usize, usize) -> Option<(Class, bool)>,
) -> Option<Vec<(Class, usize, usize)>> {
    // reach[i]: the longest value starting at group i that leaves a coverable rest.
    let n = b - a;
    let mut ok = vec![false; n + 1];
    let mut next: Vec<Option<(Class, usize)>> = vec![None; n + 1];
    ok[n] = true;
    for i in (0..n).rev() {
        for j in (i + 1..=n).rev() {
            if !ok[j] || (i == 0 && j == n) {
                continue;
            }
            if let Some((class, _)) = judge(a + i, a + j) {
                ok[i] = true;
                next[i] = Some((class, j));
                break;
            }
        }
    }
    if !ok[0] || next[0].is_none() {
        return None;
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some((class, j)) = next[i] {
        parts.push((class, a + i, a + j));
        i = j;
    }
    (i == n).then_some(parts)
}

/// Some groups of a cluster, judged as one value.
struct Window<'t> {
    text: &'t [u8],
    groups: &'t [Group],
    /// Written with a leading `+`.
    plus: bool,
    /// Glued to a letter or digit on its left.
    glued: bool,
}

impl Window<'_> {
    /// The value's class and strength, if it is one.
    fn judge(&self) -> Option<(Class, bool)> {
        let mut digits = [0u8; 24];
        let mut n = 0;
        let mut international = [0u8; 24];
        let mut m = 0;
        for g in self.groups {
            for &c in &self.text[g.start..g.end] {
                if n == digits.len() {
                    return None;
                }
                digits[n] = c;
                n += 1;
                if !g.trunk_in_brackets {
                    international[m] = c;
                    m += 1;
                }
            }
        }
        let digits = &digits[..n];
        if digits.last().is_some_and(|c| !c.is_ascii_digit()) {
            return resident_id(digits).then_some((Class::NationalId, false));
        }
        if n == 18 && resident_id(digits) {
            return Some((Class::NationalId, false));
        }
        if self.plus {
            return international_phone(&international[..m]).then_some((Class::Phone, true));
        }
        if let Some(rest) = digits.strip_prefix(b"00")
            && !self.glued
            && rest.first().is_some_and(|&c| c != b'0')
        {
            return (rest.len() >= 8 && international_phone(rest)).then_some((Class::Phone, true));
        }
        if (13..=19).contains(&n) && bank_card(digits) {
            return Some((Class::BankCard, false));
        }
        national_phone(digits).then_some((Class::Phone, false))
    }
}

/// A number in international form without its `+` or `00`: a calling code, then a national
/// number of a length that code's numbers have (a trunk `0` written after the code is
/// allowed: `+49 030 …`).
fn international_phone(d: &[u8]) -> bool {
    if !(7..=15).contains(&d.len()) {
        return false;
    }
    (1..=3).any(|cc_len| {
        let code = d[..cc_len]
            .iter()
            .fold(0u16, |n, c| n * 10 + u16::from(c - b'0'));
        calling_code(code).is_some_and(|(lo, hi)| {
            let fits = |nsn: &[u8]| (usize::from(lo.max(4))..=usize::from(hi)).contains(&nsn.len());
            let nsn = &d[cc_len..];
            fits(nsn) || nsn.strip_prefix(b"0").is_some_and(fits)
        })
    })
}

/// A number in a mainland, German or Hong Kong national form, or in international form for
/// one of them written without `+` (`8613812345678`).
fn national_phone(d: &[u8]) -> bool {
    let n = d.len();
    let mainland_mobile = |d: &[u8]| d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1]);
    if mainland_mobile(d) {
        return true;
    }
    // A trunk prefix and an area code: mainland 0 + 2–3 digits + 7–8 digits, German 0 + 2–5
    // digits + subscriber.
    if d[0] == b'0' && d.get(1).is_some_and(|&c| c != b'0') && (9..=12).contains(&n) {
        return true;
    }
    // Hong Kong: eight digits, not a date.
    if n == 8 && (b'2'..=b'9').contains(&d[0]) && !compact_date(d) {
        return true;
    }
    if let Some(rest) = d.strip_prefix(b"86") {
        return mainland_mobile(rest) || ((10..=11).contains(&rest.len()) && rest[0] != b'0');
    }
    if let Some(rest) = d.strip_prefix(b"852") {
        return rest.len() == 8 && (b'2'..=b'9').contains(&rest[0]);
    }
    if let Some(rest) = d.strip_prefix(b"49") {
        return (9..=11).contains(&rest.len()) && rest[0] != b'0';
    }
    false
}

/// An 18-character resident identity number (GB 11643-1999): an area code, a real birth
/// date from 1800 on, a sequence number and the check character.
pub fn resident_id(d: &[u8]) -> bool {
    d.len() == 18
        && d[0] != b'0'
        && d[..17].iter().all(u8::is_ascii_digit)
        && date_ok(num(&d[6..10]), num(&d[10..12]), num(&d[12..14]), 1800)
        && cn_resident_id_checksum_ok(d)
}

/// GB 11643-1999 check character of an 18-character resident identity number.
pub fn cn_resident_id_checksum_ok(id: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if id.len() != 18 || !id[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = id[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == id[17].to_ascii_uppercase()
}

/// A card number: a prefix of a card scheme at one of that scheme's lengths, and a valid
/// Luhn check digit.
pub fn bank_card(d: &[u8]) -> bool {
    let n = d.len() as u8;
    let prefix = |len: usize| num(&d[..len.min(d.len())]);
    CARD_SCHEMES.iter().any(|&(lo, hi, digits, min, max)| {
        (min..=max).contains(&n) && (lo..=hi).contains(&prefix(usize::from(digits)))
    }) && luhn(d)
}

/// Card schemes' issuer prefixes (a range of the first `digits` digits) and lengths: Visa,
/// Mastercard, American Express, JCB, UnionPay, Discover, Maestro, Mir.
const CARD_SCHEMES: &[(u32, u32, u8, u8, u8)] = &[
    (4, 4, 1, 13, 19),
    (51, 55, 2, 16, 16),
    (2221, 2720, 4, 16, 16),
    (34, 34, 2, 15, 15),
    (37, 37, 2, 15, 15),
    (3528, 3589, 4, 16, 19),
    (62, 62, 2, 16, 19),
    (6011, 6011, 4, 16, 19),
    (644, 649, 3, 16, 19),
    (65, 65, 2, 16, 19),
    (5018, 5018, 4, 12, 19),
    (5020, 5020, 4, 12, 19),
    (5038, 5038, 4, 12, 19),
    (5893, 5893, 4, 12, 19),
    (6304, 6304, 4, 12, 19),
    (6759, 6759, 4, 12, 19),
    (6761, 6763, 4, 12, 19),
    (2200, 2204, 4, 16, 19),
];

/// The Luhn (mod 10) check over ASCII digits.
pub fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let v = u32::from(c - b'0');
            if i % 2 == 1 {
                if v * 2 > 9 { v * 2 - 9 } else { v * 2 }
            } else {
                v
            }
        })
        .sum();
    sum % 10 == 0
}

/// An IBAN whose check digits start at `d`, its country code right before them (`DE89…`,
/// `de89…`, `IBANDE89…`) or, after a word break, one space before (`DE 89 3704 …`): a
/// country of the ISO 13616 registry, exactly its length in letters and digits — spaces (one
/// or two), dots or dashes between them — not followed by another digit, mod 97 = 1.
/// Returns its start and end.
fn iban_at(text: &[u8], d: usize) -> Option<(usize, usize)> {
    let letters = |i: usize| text[i..i + 2].iter().all(u8::is_ascii_alphabetic);
    let start = match d.checked_sub(2)? {
        s if letters(s) => s,
        s if text[s + 1] == b' '
            && s >= 1
            && letters(s - 1)
            && (s == 1 || !text[s - 2].is_ascii_alphanumeric()) =>
        {
            s - 1
        }
        _ => return None,
    };
    let country = [
        text[start].to_ascii_uppercase(),
        text[start + 1].to_ascii_uppercase(),
    ];
    let len = iban_length(country)?;
    let mut chars = [0u8; 34];
    let (mut n, mut i, mut gap) = (0, start, 0);
    while n < len {
        let c = *text.get(i)?;
        if c.is_ascii_alphanumeric() {
            chars[n] = c.to_ascii_uppercase();
            n += 1;
            gap = 0;
        } else if n >= 2
            && (matches!(c, b'.' | b'-') && gap == 0 || c == b' ' && gap < 2)
            && text[i + 1..]
                .iter()
                .find(|&&c| c != b' ')
                .is_some_and(u8::is_ascii_alphanumeric)
        {
            gap += 1;
        } else {
            return None;
        }
        i += 1;
    }
    if text.get(i).is_some_and(u8::is_ascii_digit) || !chars[2..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    iban_checksum_ok(&chars[..len]).then_some((start, i))
}

/// ISO 13616 check: mod 97 of the rearranged IBAN (upper-case letters and digits) is 1.
pub fn iban_checksum_ok(iban: &[u8]) -> bool {
    let mut rem: u32 = 0;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// A Hong Kong identity card number whose digits start at `d`: one or two letters, six
/// digits and a check character (0–9 or A), either in brackets (`A123456(3)`, `A123456
/// (3)`: strong) or written straight after (`A1234563`: weak). Returns its range and
/// strength.
fn hkid_at(text: &[u8], d: usize) -> Option<(usize, usize, bool)> {
    let letter = |i: usize| text.get(i).is_some_and(u8::is_ascii_alphabetic);
    if d == 0 || !letter(d - 1) {
        return None;
    }
    let digits = text.get(d..d + 6)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let check_at = |i: usize| {
        text.get(i)
            .filter(|c| c.is_ascii_digit() || c.eq_ignore_ascii_case(&b'a'))
            .copied()
    };
    let after = d + 6;
    let (check, end, strong) = if let Some(c) =
        check_at(after).filter(|_| !text.get(after + 1).is_some_and(u8::is_ascii_alphanumeric))
    {
        (c, after + 1, false)
    } else {
        let open = after + usize::from(text.get(after) == Some(&b' '));
        let c = check_at(open + 1).filter(|_| text.get(open) == Some(&b'('))?;
        if text.get(open + 2) != Some(&b')') {
            return None;
        }
        (c, open + 3, true)
    };
    let two = d >= 2 && letter(d - 2);
    let ok = |prefix: &[u8]| hkid_check(prefix, digits) == check.to_ascii_uppercase();
    if two && ok(&text[d - 2..d]) {
        Some((d - 2, end, strong))
    } else if ok(&text[d - 1..d]) {
        Some((d - 1, end, strong))
    } else {
        None
    }
}

/// The HKID check character of a one- or two-letter prefix and six digits: weights 9 to 2
/// over the two prefix positions (a space, valued 36, when there is one letter) and the
/// digits; letters A–Z are 10–35; 11 − (sum mod 11), where 10 is `A` and 11 is `0`.
pub fn hkid_check(prefix: &[u8], digits: &[u8]) -> u8 {
    let letter = |c: u8| u32::from(c.to_ascii_uppercase() - b'A') + 10;
    let mut sum = match prefix {
        [one] => 36 * 9 + letter(*one) * 8,
        [a, b] => letter(*a) * 9 + letter(*b) * 8,
        _ => return 0,
    };
    for (i, c) in digits.iter().enumerate() {
        sum += u32::from(c - b'0') * (7 - i as u32);
    }
    match 11 - sum % 11 {
        10 => b'A',
        11 => b'0',
        v => b'0' + v as u8,
    }
}

/// An extension after a phone number ending at `end`: `x12`, `ext. 12`, `#12`, `Durchwahl
/// 12`, `转12`, `分机 12`. Returns the end of its digits.
fn extension_end(text: &[u8], end: usize) -> Option<usize> {
    let mut i = end;
    while text.get(i).is_some_and(|c| matches!(c, b' ' | b',' | b';')) && i - end < 2 {
        i += 1;
    }
    let rest = &text[i..];
    let marker = [
        "extension",
        "ext",
        "durchwahl",
        "dw",
        "x",
        "#",
        "转",
        "分机",
    ]
    .iter()
    .find(|m| rest.len() >= m.len() && rest[..m.len()].eq_ignore_ascii_case(m.as_bytes()))?;
    i += marker.len();
    while text.get(i).is_some_and(|c| matches!(c, b'.' | b':' | b' ')) && i - end < 14 {
        i += 1;
    }
    let digits = text[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=6).contains(&digits).then_some(i + digits)
}

/// Whether the cluster is a date: `2026-11-27`, `27.11.2026`, `2026/11/27`, `20261127`.
fn is_date(text: &[u8], groups: &[Group]) -> bool {
    let part = |g: &Group| &text[g.start..g.end];
    match groups {
        [g] => compact_date(part(g)),
        [y, m, d] if y.end - y.start == 4 => {
            date_ok(num(part(y)), num(part(m)), num(part(d)), 1900)
        }
        [d, m, y] if y.end - y.start == 4 => {
            date_ok(num(part(y)), num(part(m)), num(part(d)), 1900)
        }
        _ => false,
    }
}

/// `YYYYMMDD` or `DDMMYYYY`, 1900–2099.
fn compact_date(d: &[u8]) -> bool {
    d.len() == 8
        && d.iter().all(u8::is_ascii_digit)
        && (date_ok(num(&d[..4]), num(&d[4..6]), num(&d[6..]), 1900)
            || date_ok(num(&d[4..]), num(&d[2..4]), num(&d[..2]), 1900))
}

/// Whether the cluster is an amount: thousands grouped with dots (`23.456.789`) or a
/// decimal (`12345678.90`, `52.520008`).
fn is_amount(groups: &[Group]) -> bool {
    let len = |g: &Group| g.end - g.start;
    match groups {
        // `12345678.90`, and `52.520008` or `0.13812345678`: a short whole part and a long
        // fraction is a measure or a coordinate, not a dotted phone (`138.1234.5678`).
        [whole, frac] => frac.dot_before && (len(frac) <= 2 || (len(whole) <= 3 && len(frac) >= 4)),
        [first, rest @ ..] => len(first) <= 3 && rest.iter().all(|g| g.dot_before && len(g) == 3),
        [] => false,
    }
}

fn date_ok(year: u32, month: u32, day: u32, from: u32) -> bool {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (from..=2099).contains(&year) && (1..=days).contains(&day)
}

/// The value of ASCII digits, saturating (a long group is never a valid month or day).
fn num(d: &[u8]) -> u32 {
    d.iter().fold(0u32, |n, c| {
        n.saturating_mul(10)
            .saturating_add(u32::from(c.wrapping_sub(b'0') % 10))
    })
}

/// The position of the first ASCII digit at or after `from`.
fn next_digit(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(u8::is_ascii_digit)
        .map(|i| from + i)
}
