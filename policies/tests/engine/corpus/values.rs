//! Synthetic personal values, generated from the formats' rules: numbering plans, check
//! digits and registries' lengths. Nothing here is a real person's data.
//!
//! Standard library only: `gateway/tests/cli/policy.rs` includes this file too (`#[path]`), so
//! that the command-line test feeds the same formats.

use std::fmt::Write as _;

/// A small deterministic generator (SplitMix64): one seed, one value, on every platform.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi - lo + 1) as usize) as u32
    }

    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }

    pub(crate) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    pub(crate) fn letters(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'A' + self.below(26) as u8))
            .collect()
    }
}

/// The kinds of personal value the corpus holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Mainland mobile: 11 digits, `1[3-9]…`.
    CnMobile,
    /// Mainland landline: `0` + 2–3 digit area code + 7–8 digits.
    CnLandline,
    /// German mobile: `015x`, `016x`, `017x`.
    DeMobile,
    /// German landline: `030`, `089`, `040`, `0221`, `069`, …
    DeLandline,
    /// Hong Kong: 8 digits starting 2, 3, 5, 6, 7 or 9.
    HkPhone,
    /// Chinese resident identity number (GB 11643).
    CnResidentId,
    /// Hong Kong identity card number.
    HkId,
    /// IBAN (ISO 13616).
    Iban,
    /// Bank card number (Luhn).
    BankCard,
    /// E-mail address.
    Email,
}

impl Kind {
    pub(crate) const ALL: &'static [Kind] = &[
        Kind::CnMobile,
        Kind::CnLandline,
        Kind::DeMobile,
        Kind::DeLandline,
        Kind::HkPhone,
        Kind::CnResidentId,
        Kind::HkId,
        Kind::Iban,
        Kind::BankCard,
        Kind::Email,
    ];

    /// The policy class a value of this kind belongs to.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Kind::CnMobile
            | Kind::CnLandline
            | Kind::DeMobile
            | Kind::DeLandline
            | Kind::HkPhone => "personal.phone",
            Kind::CnResidentId | Kind::HkId => "personal.national_id",
            Kind::Iban => "personal.bank_account",
            Kind::BankCard => "personal.bank_card",
            Kind::Email => "personal.email",
        }
    }

    pub(crate) fn generate(self, rng: &mut Rng) -> Value {
        let mut v = match self {
            Kind::CnMobile => cn_mobile(rng),
            Kind::CnLandline => cn_landline(rng),
            Kind::DeMobile => de_mobile(rng),
            Kind::DeLandline => de_landline(rng),
            Kind::HkPhone => hk_phone(rng),
            Kind::CnResidentId => cn_resident_id(rng),
            Kind::HkId => hk_id(rng),
            Kind::Iban => iban(rng),
            Kind::BankCard => bank_card(rng),
            Kind::Email => email(rng),
        };
        v.kind = self;
        v
    }
}

/// A generated value as it is typed: the personal part (`secret`) with what may be glued
/// before it (`Tel`, `sfz_`, `IBAN`) and after it (an extension).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Value {
    pub(crate) kind: Kind,
    pub(crate) prefix: String,
    pub(crate) secret: String,
    pub(crate) suffix: String,
    /// The value without layout: digits (and letters) only, e.g. the card number or IBAN in
    /// its electronic form, the phone's national significant number, the ID itself.
    pub(crate) canonical: String,
}

impl Value {
    fn new(secret: String, canonical: String) -> Self {
        Self {
            kind: Kind::Email,
            prefix: String::new(),
            secret,
            suffix: String::new(),
            canonical,
        }
    }

    fn glue(mut self, rng: &mut Rng, percent: usize, prefixes: &[&str]) -> Self {
        if rng.chance(percent) {
            self.prefix = (*rng.pick(prefixes)).to_owned();
        }
        self
    }

    pub(crate) fn class(&self) -> &'static str {
        self.kind.class()
    }
}

// ---- phones -------------------------------------------------------------------------------

const PHONE_GLUE: &[&str] = &["Tel", "tel:", "mobile_", "Tel_", "Phone", "Handy"];
const CN_PHONE_GLUE: &[&str] = &["手机", "电话", "Tel", "mobile_", "TEL:"];
const EXTENSIONS: &[&str] = &[
    " x{}",
    " ext. {}",
    " Ext {}",
    "x{}",
    " 转{}",
    " Durchwahl {}",
];

/// An international number laid out one of the ways people write it: `country` and
/// `groups` of the national significant number.
fn international(rng: &mut Rng, country: &str, groups: &[String]) -> String {
    let compact: String = groups.concat();
    match rng.below(7) {
        0 => format!("+{country} {}", groups.join(" ")),
        1 => format!("+{country}{compact}"),
        2 => format!("+{country}-{}", groups.join("-")),
        3 => format!("00{country} {}", groups.join(" ")),
        4 => format!("00{country}{compact}"),
        5 => format!("{country}{compact}"),
        _ => format!("+{country} {compact}"),
    }
}

fn extension(rng: &mut Rng) -> String {
    rng.pick(EXTENSIONS)
        .replace("{}", &rng.range(1, 999).to_string())
}

fn cn_mobile(rng: &mut Rng) -> Value {
    let nsn = format!("1{}{}", rng.range(3, 9), rng.digits(9));
    let (a, b, c) = (&nsn[..3], &nsn[3..7], &nsn[7..]);
    let groups = [a.to_owned(), b.to_owned(), c.to_owned()];
    let secret = match rng.below(7) {
        0 => nsn.clone(),
        1 => format!("{a} {b} {c}"),
        2 => format!("{a}-{b}-{c}"),
        3 => format!("{a}.{b}.{c}"),
        4 => format!("({a}) {b} {c}"),
        _ => international(rng, "86", &groups),
    };
    Value::new(secret, nsn).glue(rng, 25, CN_PHONE_GLUE)
}

/// Mainland area codes: the 2-digit ones (Beijing 10, Guangzhou 20, Shanghai 21, …) take
/// 8-digit subscriber numbers; among 3-digit ones, 755 (Shenzhen) and 512 (Suzhou) take 8,
/// the others 7 or 8.
fn cn_landline(rng: &mut Rng) -> Value {
    const AREAS: &[&str] = &[
        "10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "755", "512", "571", "574",
        "591", "592", "731", "769", "757", "871", "898", "531", "532",
    ];
    let area = *rng.pick(AREAS);
    let len = if area.len() == 2 || area == "755" || area == "512" {
        8
    } else {
        7 + rng.below(2)
    };
    let subscriber = format!("{}{}", rng.range(2, 8), rng.digits(len - 1));
    let nsn = format!("{area}{subscriber}");
    let groups = [area.to_owned(), subscriber.clone()];
    let secret = match rng.below(8) {
        0 => format!("0{area}-{subscriber}"),
        1 => format!("0{area} {subscriber}"),
        2 => format!("(0{area}) {subscriber}"),
        3 => format!("0{area}{subscriber}"),
        4 => format!("0{area}/{subscriber}"),
        5 if len == 8 => format!("0{area} {} {}", &subscriber[..4], &subscriber[4..]),
        _ => international(rng, "86", &groups),
    };
    let mut v = Value::new(secret, nsn).glue(rng, 20, CN_PHONE_GLUE);
    if rng.chance(20) {
        v.suffix = extension(rng);
    }
    v
}

/// German mobiles (national significant numbers): `15[0-25-9]` + 8 digits, `16[023]` or
/// `17x` + 7–8 digits (libphonenumber's plan).
fn de_mobile(rng: &mut Rng) -> Value {
    let (prefix, rest) = match rng.below(3) {
        0 => (
            format!("15{}", rng.pick(&["0", "1", "2", "5", "7", "9"])),
            8,
        ),
        1 => (
            format!("16{}", rng.pick(&["0", "2", "3"])),
            7 + rng.below(2),
        ),
        _ => (format!("17{}", rng.below(10)), 7 + rng.below(2)),
    };
    let subscriber = format!("{}{}", rng.range(1, 9), rng.digits(rest - 1));
    let nsn = format!("{prefix}{subscriber}");
    let groups = [prefix.clone(), subscriber.clone()];
    let secret = match rng.below(9) {
        0 => format!("0{nsn}"),
        1 => format!("0{prefix} {subscriber}"),
        2 => format!("0{prefix}-{subscriber}"),
        3 => format!("0{prefix}/{subscriber}"),
        4 => format!("+49 (0){prefix} {subscriber}"),
        5 => format!("0{prefix}.{subscriber}"),
        _ => international(rng, "49", &groups),
    };
    Value::new(secret, nsn).glue(rng, 25, PHONE_GLUE)
}

/// German landlines: Berlin 30, Munich 89, Hamburg 40, Cologne 221, Frankfurt 69, …
fn de_landline(rng: &mut Rng) -> Value {
    const AREAS: &[&str] = &[
        "30", "89", "40", "69", "221", "211", "711", "341", "351", "511", "911", "201", "621",
        "6221", "7531",
    ];
    let area = *rng.pick(AREAS);
    let len = match area.len() {
        2 => 7 + rng.below(2),
        3 => 6 + rng.below(3),
        _ => 5 + rng.below(3),
    };
    let subscriber = format!("{}{}", rng.range(2, 9), rng.digits(len - 1));
    let nsn = format!("{area}{subscriber}");
    let groups = [area.to_owned(), subscriber.clone()];
    let secret = match rng.below(9) {
        0 => format!("0{area} {subscriber}"),
        1 => format!("0{area}/{subscriber}"),
        2 => format!("(0{area}) {subscriber}"),
        3 => format!("0{area}-{subscriber}"),
        4 => format!("0{nsn}"),
        5 => format!("+49 (0){area} {subscriber}"),
        _ => international(rng, "49", &groups),
    };
    let mut v = Value::new(secret, nsn).glue(rng, 20, PHONE_GLUE);
    if rng.chance(25) {
        v.suffix = extension(rng);
    }
    v
}

/// Hong Kong numbers in ranges the numbering plan assigns: fixed `2[3-9]`, `3[1569]`;
/// mobile `5[1-59]`, `6[13459]`, `70[129]`, `9[467]`.
fn hk_phone(rng: &mut Rng) -> Value {
    let start = match rng.below(6) {
        0 => format!("2{}", rng.range(3, 9)),
        1 => format!(
            "3{}{}",
            rng.pick(&["1", "5", "6", "9"]),
            rng.pick(&["0", "1", "2", "4", "5", "6", "7", "8", "9"])
        ),
        2 => format!(
            "5{}{}",
            rng.pick(&["1", "2", "3", "4", "5", "9"]),
            rng.pick(&["0", "1", "2", "3", "4", "6", "7", "8", "9"])
        ),
        3 => format!("6{}", rng.pick(&["1", "3", "4", "5", "9"])),
        4 => format!("70{}", rng.pick(&["1", "2", "9"])),
        _ => format!("9{}", rng.pick(&["4", "6", "7"])),
    };
    let nsn = format!("{start}{}", rng.digits(8 - start.len()));
    let (a, b) = (&nsn[..4], &nsn[4..]);
    let groups = [a.to_owned(), b.to_owned()];
    let secret = match rng.below(6) {
        0 => nsn.clone(),
        1 => format!("{a} {b}"),
        2 => format!("{a}-{b}"),
        3 => format!("(852) {a} {b}"),
        _ => international(rng, "852", &groups),
    };
    Value::new(secret, nsn).glue(rng, 20, &["Tel", "手提", "mobile_", "Tel_"])
}

// ---- identity numbers ---------------------------------------------------------------------

/// Administrative division codes of real districts (the first six digits of an ID).
const CN_AREAS: &[&str] = &[
    "110101", "110105", "110108", "120101", "310101", "310104", "310115", "320102", "330106",
    "350203", "370202", "420106", "440106", "440304", "500103", "510107", "610113",
];

fn is_leap(y: u32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The GB 11643-1999 check character of the first 17 digits: weights 2^(17-i) mod 11.
pub(crate) fn gb11643_check(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

fn cn_resident_id(rng: &mut Rng) -> Value {
    // About a third of the time, one whose check character is X (retry until it is).
    let want_x = rng.chance(30);
    let id = loop {
        let year = rng.range(1940, 2008);
        let month = rng.range(1, 12);
        let day = rng.range(1, days_in_month(year, month));
        let first17 = format!(
            "{}{year:04}{month:02}{day:02}{}",
            rng.pick(CN_AREAS),
            rng.digits(3)
        );
        let check = gb11643_check(&first17);
        if !want_x || check == 'X' {
            break format!("{first17}{check}");
        }
    };
    let shown = if id.ends_with('X') && rng.chance(40) {
        id.replace('X', "x")
    } else {
        id.clone()
    };
    let (a, b, c) = (&shown[..6], &shown[6..14], &shown[14..]);
    let secret = match rng.below(5) {
        0 | 1 => shown.clone(),
        2 => format!("{a} {b} {c}"),
        3 => format!("{a}-{b}-{c}"),
        _ => format!("{} {} {} {}", &shown[..6], &shown[6..10], &shown[10..14], c),
    };
    Value::new(secret, id).glue(rng, 30, &["ID", "sfz_", "身份证", "ID_", "sfz"])
}

/// The Hong Kong identity card check digit: a single-letter prefix counts as a space (36) in
/// the first position; letters are 10–35; weights 9 down to 2; `11 - sum mod 11`, with 10 as
/// `A` and 11 as `0`.
pub(crate) fn hkid_check(prefix: &str, digits: &str) -> char {
    let letter = |c: u8| u32::from(c - b'A') + 10;
    let p = prefix.as_bytes();
    let (first, second) = match p {
        [a] => (36, letter(*a)),
        [a, b] => (letter(*a), letter(*b)),
        _ => panic!("an HKID prefix has one or two letters"),
    };
    let mut sum = 9 * first + 8 * second;
    for (i, d) in digits.bytes().enumerate() {
        sum += (7 - i as u32) * u32::from(d - b'0');
    }
    match 11 - sum % 11 {
        10 => 'A',
        11 => '0',
        n => char::from(b'0' + n as u8),
    }
}

fn hk_id(rng: &mut Rng) -> Value {
    let prefix = if rng.chance(25) {
        rng.letters(2)
    } else {
        rng.letters(1)
    };
    let digits = rng.digits(6);
    let check = hkid_check(&prefix, &digits);
    let canonical = format!("{prefix}{digits}{check}");
    let secret = match rng.below(5) {
        0 | 1 => format!("{prefix}{digits}({check})"),
        2 => format!("{prefix}{digits} ({check})"),
        3 => canonical.clone(),
        _ => format!("{prefix}{digits}({check})").to_lowercase(),
    };
    Value::new(secret, canonical).glue(rng, 15, &["HKID", "hkid_", "ID"])
}

// ---- bank accounts and cards --------------------------------------------------------------

/// One country's IBAN: code, total length (ISO 13616 registry) and how its BBAN is made.
pub(crate) struct IbanCountry {
    pub(crate) code: &'static str,
    pub(crate) length: usize,
    /// `n` a digit, `a` an upper-case letter, `c` either, per BBAN position.
    pub(crate) bban: &'static str,
}

pub(crate) const IBAN_COUNTRIES: &[IbanCountry] = &[
    IbanCountry {
        code: "DE",
        length: 22,
        bban: "nnnnnnnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "GB",
        length: 22,
        bban: "aaaannnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "FR",
        length: 27,
        bban: "nnnnnnnnnnnnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "NL",
        length: 18,
        bban: "aaaannnnnnnnnn",
    },
    IbanCountry {
        code: "CH",
        length: 21,
        bban: "nnnnncccccccccccc",
    },
    IbanCountry {
        code: "AT",
        length: 20,
        bban: "nnnnnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "IT",
        length: 27,
        bban: "annnnnnnnnncccccccccccc",
    },
    IbanCountry {
        code: "ES",
        length: 24,
        bban: "nnnnnnnnnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "BE",
        length: 16,
        bban: "nnnnnnnnnnnn",
    },
    IbanCountry {
        code: "PL",
        length: 28,
        bban: "nnnnnnnnnnnnnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "IE",
        length: 22,
        bban: "aaaannnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "LU",
        length: 20,
        bban: "nnnccccccccccccc",
    },
    IbanCountry {
        code: "NO",
        length: 15,
        bban: "nnnnnnnnnnn",
    },
    IbanCountry {
        code: "DK",
        length: 18,
        bban: "nnnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "SE",
        length: 24,
        bban: "nnnnnnnnnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "PT",
        length: 25,
        bban: "nnnnnnnnnnnnnnnnnnnnn",
    },
    IbanCountry {
        code: "MT",
        length: 31,
        bban: "aaaannnnncccccccccccccccccc",
    },
    IbanCountry {
        code: "SA",
        length: 24,
        bban: "nnnnnnnnnnnnnnnnnnnn",
    },
];

/// `text` (letters and digits) as a number mod 97, letters counting 10–35.
pub(crate) fn mod97(text: &str) -> u32 {
    let mut r = 0u32;
    for c in text.chars() {
        let v = c.to_digit(36).expect("alphanumeric");
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    r
}

/// The two check digits that make `country` + check + `bban` valid under ISO 7064 MOD 97-10.
pub(crate) fn iban_check_digits(country: &str, bban: &str) -> String {
    format!("{:02}", 98 - mod97(&format!("{bban}{country}00")))
}

/// Groups `text` by four, joined by `sep`.
pub(crate) fn by_four(text: &str, sep: &str) -> String {
    text.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect::<Vec<_>>()
        .join(sep)
}

fn iban(rng: &mut Rng) -> Value {
    let country = rng.pick(IBAN_COUNTRIES);
    let mut bban = String::new();
    for p in country.bban.bytes() {
        match p {
            b'n' => bban.push_str(&rng.digits(1)),
            b'a' => bban.push_str(&rng.letters(1)),
            _ if rng.chance(30) => bban.push_str(&rng.letters(1)),
            _ => bban.push_str(&rng.digits(1)),
        }
    }
    let check = iban_check_digits(country.code, &bban);
    let iban = format!("{}{check}{bban}", country.code);
    assert_eq!(
        iban.len(),
        country.length,
        "the BBAN pattern of {}",
        country.code
    );
    let secret = match rng.below(7) {
        0 => iban.clone(),
        1 | 2 => by_four(&iban, " "),
        3 => by_four(&iban, "."),
        4 => by_four(&iban, "-"),
        5 => by_four(&iban, " ").to_lowercase(),
        _ => iban.to_lowercase(),
    };
    Value::new(secret, iban).glue(rng, 25, &["IBAN", "IBAN:", "iban_"])
}

/// The Luhn check digit of `payload` (the number without its last digit).
pub(crate) fn luhn_check_digit(payload: &str) -> char {
    let sum: u32 = payload
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn bank_card(rng: &mut Rng) -> Value {
    let (start, len) = match rng.below(4) {
        0 | 1 => ("62".to_owned(), rng.range(16, 19) as usize),
        2 => ("4".to_owned(), 16),
        _ => (format!("5{}", rng.range(1, 5)), 16),
    };
    let payload = format!("{start}{}", rng.digits(len - 1 - start.len()));
    let pan = format!("{payload}{}", luhn_check_digit(&payload));
    let secret = match rng.below(4) {
        0 => pan.clone(),
        1 | 2 => by_four(&pan, " "),
        _ => by_four(&pan, "-"),
    };
    Value::new(secret, pan).glue(rng, 10, &["card_", "Karte", "卡号"])
}

// ---- e-mail -------------------------------------------------------------------------------

fn email(rng: &mut Rng) -> Value {
    const GIVEN: &[&str] = &[
        "li", "wang", "zhang", "liu", "chen", "anna", "max", "lukas", "marie", "ka", "wing", "mei",
        "chan", "wong", "jurgen", "sophie",
    ];
    const FAMILY: &[&str] = &[
        "na", "wei", "fang", "min", "schmidt", "mueller", "weber", "becker", "ming", "leung",
        "cheung", "lau", "tai-man", "hoffmann",
    ];
    const DOMAINS: &[&str] = &[
        "example.cn",
        "example.com.cn",
        "beispiel.de",
        "mail.beispiel.de",
        "example.com.hk",
        "corp.example.com.hk",
        "qq.example.com",
        "vertrieb.firma-beispiel.de",
        "163.example.net",
        "shop.example.hk",
    ];
    let mut local = String::new();
    let given: &&str = rng.pick(GIVEN);
    let sep: &&str = rng.pick(&[".", "_", "-", ""]);
    let family: &&str = rng.pick(FAMILY);
    local.push_str(given);
    local.push_str(sep);
    local.push_str(family);
    // A marker that makes each address unique.
    let _ = write!(local, "{}", rng.range(10, 9999));
    if rng.chance(15) {
        local.push_str("+crm");
    }
    let domain = rng.pick(DOMAINS);
    let mut address = format!("{local}@{domain}");
    if rng.chance(10) {
        address = format!("{}{}", &address[..1].to_uppercase(), &address[1..]);
    }
    Value::new(address.clone(), address.to_lowercase()).glue(
        rng,
        15,
        &["mailto:", "E-Mail:", "email_", "邮箱"],
    )
}
