//! Independent checks of the generator: each format's check written a second way (the
//! validating form of each algorithm, where the generator uses the computing form), known
//! vectors, and every generated value held against them.

use super::forms::{Form, ZERO_WIDTH, digits_of, fold, full_width};
use super::lookalikes::{LookAlike, USCC_CHARS, org_code_check, uscc, uscc_check};
use super::values::{
    IBAN_COUNTRIES, Kind, Rng, gb11643_check, hkid_check, iban_check_digits, luhn_check_digit,
};

/// A resident ID is valid: 17 digits and a check character, a real birth date, and the
/// ISO 7064 MOD 11-2 sum over all 18 positions (X as 10) is 1.
pub(crate) fn cn_resident_id_is_valid(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let check = match b[17] {
        b'0'..=b'9' => u32::from(b[17] - b'0'),
        b'X' | b'x' => 10,
        _ => return false,
    };
    let num = |r: std::ops::Range<usize>| id[r].parse::<u32>().expect("digits");
    let (year, month, day) = (num(6..10), num(10..12), num(12..14));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1900..=2099).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > month_days[month as usize - 1]
    {
        return false;
    }
    let mut sum = check;
    let mut weight = 2; // 2^1 for the position left of the check character
    for &d in b[..17].iter().rev() {
        sum += u32::from(d - b'0') * weight;
        weight = weight * 2 % 11;
    }
    sum % 11 == 1
}

/// An HKID (`A123456(3)`, `AB1234563`, any case) is valid: the weighted sum over all nine
/// positions, the check included (`A` as 10), is a multiple of 11.
pub(crate) fn hkid_is_valid(text: &str) -> bool {
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | ' '))
        .collect::<String>()
        .to_ascii_uppercase();
    let b = t.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(1..=2).contains(&letters) || b.len() != letters + 7 {
        return false;
    }
    let body = &b[letters..letters + 6];
    if !body.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut values: Vec<u32> = Vec::with_capacity(9);
    if letters == 1 {
        values.push(36);
    }
    values.extend(b[..letters].iter().map(|&c| u32::from(c - b'A') + 10));
    values.extend(body.iter().map(|&d| u32::from(d - b'0')));
    values.push(match b[letters + 6] {
        b'A' => 10,
        d @ b'0'..=b'9' => u32::from(d - b'0'),
        _ => return false,
    });
    let sum: u32 = values.iter().zip((1..=9).rev()).map(|(v, w)| v * w).sum();
    sum % 11 == 0
}

/// `text` mod 97 the way banks' manuals describe it: letters expanded to two digits, then
/// nine digits at a time.
pub(crate) fn mod97_by_chunks(text: &str) -> u64 {
    let expanded: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                c.to_string()
            } else {
                (c.to_ascii_uppercase() as u32 - 'A' as u32 + 10).to_string()
            }
        })
        .collect();
    let mut rest = 0u64;
    let mut at = 0;
    while at < expanded.len() {
        let take = if at == 0 { 9 } else { 7 };
        let end = (at + take).min(expanded.len());
        rest = format!("{rest}{}", &expanded[at..end])
            .parse::<u64>()
            .expect("digits")
            % 97;
        at = end;
    }
    rest
}

/// IBAN lengths from the ISO 13616 registry, written out separately from the generator's.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AT", 20),
    ("BE", 16),
    ("CH", 21),
    ("DE", 22),
    ("DK", 18),
    ("ES", 24),
    ("FR", 27),
    ("GB", 22),
    ("IE", 22),
    ("IT", 27),
    ("LU", 20),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("SA", 24),
    ("SE", 24),
];

/// An IBAN in any layout is valid: the registry's length for its country and mod 97 = 1.
pub(crate) fn iban_is_valid(text: &str) -> bool {
    let compact: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| compact.starts_with(c)) else {
        return false;
    };
    compact.len() == len && mod97_by_chunks(&format!("{}{}", &compact[4..], &compact[..4])) == 1
}

/// A card number is Luhn-valid: with the check digit, every second digit from the right
/// doubled (digit sum), the total is a multiple of 10.
pub(crate) fn luhn_is_valid(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    let total: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                [0, 2, 4, 6, 8, 1, 3, 5, 7, 9][d as usize]
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && total % 10 == 0
}

/// A unified social credit code is valid: its characters, the organization code's check
/// (sum with the check value is a multiple of 11) and the code's check (sum with the check
/// value is a multiple of 31).
pub(crate) fn uscc_is_valid(code: &str) -> bool {
    if code.chars().count() != 18 || !code.chars().all(|c| USCC_CHARS.contains(c)) {
        return false;
    }
    let org = &code[8..17];
    let org_sum: u32 = org[..8]
        .chars()
        .zip([3, 7, 9, 10, 5, 8, 4, 2])
        .map(|(c, w)| c.to_digit(36).expect("alphanumeric") * w)
        .sum::<u32>()
        + match org.as_bytes()[8] {
            b'X' => 10,
            d => u32::from(d - b'0'),
        };
    let weights = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let value = |c: char| USCC_CHARS.find(c).expect("a USCC character");
    let sum: usize = code[..17]
        .chars()
        .zip(weights)
        .map(|(c, w)| value(c) * w)
        .sum::<usize>()
        + value(code[17..].chars().next().expect("18 characters"));
    org_sum % 11 == 0 && sum % 31 == 0
}

// ---- known vectors --------------------------------------------------------------------------

#[test]
fn the_checks_accept_known_vectors_and_reject_altered_ones() {
    assert!(cn_resident_id_is_valid("11010519491231002X"));
    assert!(cn_resident_id_is_valid("11010519491231002x"));
    assert!(!cn_resident_id_is_valid("110105194912310021"));
    assert!(
        !cn_resident_id_is_valid("11010519490231002X"),
        "31 February"
    );
    assert_eq!(gb11643_check("11010519491231002"), 'X');

    assert!(hkid_is_valid("A123456(3)"));
    assert!(hkid_is_valid("a1234563"));
    assert!(!hkid_is_valid("A123456(4)"));
    assert_eq!(hkid_check("A", "123456"), '3');

    for iban in [
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "NL91ABNA0417164300",
    ] {
        assert!(iban_is_valid(iban), "{iban}");
    }
    assert!(iban_is_valid("de89 3704 0044 0532 0130 00"));
    assert!(!iban_is_valid("DE88370400440532013000"));
    assert!(!iban_is_valid("DE8937040044053201300"), "one short");
    assert_eq!(iban_check_digits("DE", "370400440532013000"), "89");
    assert!(!iban_is_valid("JD0012345678901"), "no country JD");
    assert_eq!(
        mod97_by_chunks("12345678901JD00"),
        1,
        "and yet mod 97 holds"
    );

    assert!(luhn_is_valid("4111111111111111"));
    assert!(luhn_is_valid("6212345678901234569"));
    assert!(!luhn_is_valid("4111111111111112"));
    assert_eq!(luhn_check_digit("411111111111111"), '1');

    for code in [
        "91350100M000100Y43",
        "914403001922038216",
        "91330100716105852F",
        "9144030071526726XG",
    ] {
        assert!(uscc_is_valid(code), "{code}");
        assert_eq!(uscc_check(&code[..17]), code.chars().last().unwrap());
        assert_eq!(org_code_check(&code[8..16]), code.chars().nth(16).unwrap());
    }
    assert!(!uscc_is_valid("91350100M000100Y44"));
}

// ---- every generated value ------------------------------------------------------------------

const PER_KIND: u64 = 3_000;

fn generated(kind: Kind) -> impl Iterator<Item = super::values::Value> {
    (0..PER_KIND).map(move |seed| kind.generate(&mut Rng::new(seed * 31 + kind as u64)))
}

#[test]
fn generated_resident_ids_validate() {
    let mut with_x = 0;
    for v in generated(Kind::CnResidentId) {
        assert!(cn_resident_id_is_valid(&v.canonical), "{v:?}");
        let compact: String = v
            .secret
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        assert_eq!(compact.to_ascii_uppercase(), v.canonical, "{v:?}");
        with_x += usize::from(v.canonical.ends_with('X'));
    }
    assert!(
        with_x > PER_KIND as usize / 5,
        "X check characters: {with_x}"
    );
}

#[test]
fn generated_hong_kong_identity_cards_validate() {
    let mut two_letters = 0;
    for v in generated(Kind::HkId) {
        assert!(hkid_is_valid(&v.secret), "{v:?}");
        assert!(hkid_is_valid(&v.canonical), "{v:?}");
        two_letters += usize::from(v.canonical.as_bytes()[1].is_ascii_uppercase());
    }
    assert!(two_letters > 0);
}

#[test]
fn generated_ibans_validate_with_their_countrys_length() {
    let mut countries = std::collections::BTreeSet::new();
    for v in generated(Kind::Iban) {
        assert!(iban_is_valid(&v.secret), "{v:?}");
        assert!(iban_is_valid(&v.canonical), "{v:?}");
        countries.insert(v.canonical[..2].to_owned());
    }
    assert_eq!(countries.len(), IBAN_COUNTRIES.len(), "{countries:?}");
}

#[test]
fn generated_bank_cards_are_luhn_valid_with_their_schemes_prefix_and_length() {
    for v in generated(Kind::BankCard) {
        let pan = &v.canonical;
        assert!(luhn_is_valid(pan), "{v:?}");
        assert_eq!(digits_of(&v.secret), *pan, "{v:?}");
        let ok = match &pan[..2] {
            "62" => (16..=19).contains(&pan.len()),
            p if p.starts_with('4') => pan.len() == 16,
            "51" | "52" | "53" | "54" | "55" => pan.len() == 16,
            _ => false,
        };
        assert!(ok, "{v:?}");
    }
}

#[test]
fn generated_phones_follow_their_numbering_plans() {
    for kind in [
        Kind::CnMobile,
        Kind::CnLandline,
        Kind::DeMobile,
        Kind::DeLandline,
        Kind::HkPhone,
    ] {
        for v in generated(kind) {
            let nsn = &v.canonical;
            assert!(nsn.bytes().all(|b| b.is_ascii_digit()), "{v:?}");
            assert!(digits_of(&v.secret).ends_with(nsn.as_str()), "{v:?}");
            let b = nsn.as_bytes();
            let ok = match kind {
                Kind::CnMobile => b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]),
                Kind::CnLandline => (9..=11).contains(&b.len()) && b[0] != b'0',
                Kind::DeMobile => {
                    (10..=11).contains(&b.len()) && b[0] == b'1' && (b'5'..=b'7').contains(&b[1])
                }
                Kind::DeLandline => (7..=11).contains(&b.len()) && b[0] != b'0' && b[0] != b'1',
                _ => b.len() == 8 && b"235679".contains(&b[0]),
            };
            assert!(ok, "{kind:?}: {v:?}");
        }
    }
}

#[test]
fn generated_email_addresses_have_one_at_and_a_known_top_level_domain() {
    let mut seen = std::collections::HashSet::new();
    for v in generated(Kind::Email) {
        let (local, domain) = v.secret.split_once('@').expect("an @");
        assert!(!local.is_empty() && !domain.contains('@'), "{v:?}");
        assert!(
            [".cn", ".de", ".hk", ".com", ".net"]
                .iter()
                .any(|t| domain.ends_with(t)),
            "{v:?}"
        );
        seen.insert(v.secret.to_lowercase());
    }
    assert!(
        seen.len() > PER_KIND as usize * 9 / 10,
        "{} distinct",
        seen.len()
    );
}

#[test]
fn generated_social_credit_codes_validate() {
    let mut rng = Rng::new(7);
    for _ in 0..PER_KIND {
        let code = uscc(&mut rng);
        assert!(uscc_is_valid(&code), "{code}");
        let look_alike = LookAlike::SocialCreditCode.generate(&mut rng);
        assert!(uscc_is_valid(&look_alike) && !cn_resident_id_is_valid(&look_alike));
    }
}

#[test]
fn forms_fold_back_to_the_value() {
    for &kind in Kind::ALL {
        for v in generated(kind).take(200) {
            for form in Form::all_for(&v) {
                let w = form.apply(&v);
                let folded = fold(&w.secret);
                match form {
                    Form::Literal | Form::FullWidth | Form::ZeroWidth(_) => {
                        assert_eq!(folded, fold(&v.secret), "{form:?} {v:?}")
                    }
                    Form::Separator(_) => assert_eq!(
                        folded.replace(' ', ""),
                        v.secret.replace(' ', ""),
                        "{form:?} {v:?}"
                    ),
                    Form::Upper | Form::Lower => assert_eq!(
                        folded.to_lowercase(),
                        v.secret.to_lowercase(),
                        "{form:?} {v:?}"
                    ),
                }
                assert!(w.text.contains(&w.secret));
                if form != Form::Literal {
                    assert_ne!(w.secret, v.secret, "{form:?} changes {v:?}");
                }
            }
        }
    }
    assert_eq!(full_width("+86 138@x"), "＋８６ １３８＠ｘ");
    assert!(ZERO_WIDTH.contains(&'\u{2060}'));
}
