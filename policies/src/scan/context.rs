//! The words around a number: `订单号 6222021234567890` is an order number, `卡号
//! 6222021234567890` a bank card. Where a number is equally a valid card, phone or ID and a
//! business number, the nearest known word before it decides; a currency after it makes it an
//! amount.

/// What the words before a number say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Said {
    /// A business number: order, invoice, serial, tracking, SKU, amount.
    Business,
    /// Personal data: a phone, card, account or ID number.
    Personal,
}

/// Words (ASCII, matched whole, case-insensitive) and their meaning. Words like `no`, `nr`,
/// `number`, `id` and `#` say nothing by themselves and are not listed: in `phone number
/// 138…` and `order no. 450…` the word before them decides.
const ASCII_WORDS: &[(&str, Said)] = &[
    // English
    ("order", Said::Business),
    ("customer", Said::Business),
    ("account", Said::Business),
    ("acct", Said::Business),
    ("kostenstelle", Said::Business),
    ("contract", Said::Business),
    ("quote", Said::Business),
    ("item", Said::Business),
    ("part", Said::Business),
    ("case", Said::Business),
    ("rma", Said::Business),
    ("transaction", Said::Business),
    ("txn", Said::Business),
    ("orders", Said::Business),
    ("po", Said::Business),
    ("sku", Said::Business),
    ("serial", Said::Business),
    ("sn", Said::Business),
    ("lot", Said::Business),
    ("batch", Said::Business),
    ("invoice", Said::Business),
    ("inv", Said::Business),
    ("tracking", Said::Business),
    ("waybill", Said::Business),
    ("awb", Said::Business),
    ("shipment", Said::Business),
    ("parcel", Said::Business),
    ("ref", Said::Business),
    ("reference", Said::Business),
    ("ticket", Said::Business),
    ("article", Said::Business),
    ("eur", Said::Business),
    ("usd", Said::Business),
    ("rmb", Said::Business),
    ("cny", Said::Business),
    ("hkd", Said::Business),
    // German
    ("bestellnr", Said::Business),
    ("bestellnummer", Said::Business),
    ("bestellung", Said::Business),
    ("auftrag", Said::Business),
    ("auftragsnr", Said::Business),
    ("auftragsnummer", Said::Business),
    ("rechnung", Said::Business),
    ("rechnungsnr", Said::Business),
    ("rechnungsnummer", Said::Business),
    ("lieferschein", Said::Business),
    ("sendung", Said::Business),
    ("sendungsnummer", Said::Business),
    ("artikel", Said::Business),
    ("artikelnr", Said::Business),
    ("art", Said::Business),
    ("seriennummer", Said::Business),
    ("charge", Said::Business),
    ("kundennr", Said::Business),
    ("kundennummer", Said::Business),
    ("vorgang", Said::Business),
    ("vertrag", Said::Business),
    ("angebot", Said::Business),
    ("betrag", Said::Business),
    // Personal, in both
    ("tel", Said::Personal),
    ("phone", Said::Personal),
    ("telephone", Said::Personal),
    ("mobile", Said::Personal),
    ("mob", Said::Personal),
    ("cell", Said::Personal),
    ("fax", Said::Personal),
    ("call", Said::Personal),
    ("contact", Said::Personal),
    ("whatsapp", Said::Personal),
    ("wechat", Said::Personal),
    ("sms", Said::Personal),
    ("telefon", Said::Personal),
    ("handy", Said::Personal),
    ("mobil", Said::Personal),
    ("rufnummer", Said::Personal),
    ("durchwahl", Said::Personal),
    ("iban", Said::Personal),
    ("bic", Said::Personal),
    ("card", Said::Personal),
    ("karte", Said::Personal),
    ("kreditkarte", Said::Personal),
    ("bank", Said::Personal),
    ("konto", Said::Personal),
    ("passport", Said::Personal),
    ("ausweis", Said::Personal),
    ("personalausweis", Said::Personal),
    ("hkid", Said::Personal),
    ("sfz", Said::Personal),
    ("birthday", Said::Personal),
];

/// Chinese words (simplified and traditional), matched as substrings.
const CJK_WORDS: &[(&str, Said)] = &[
    ("订单", Said::Business),
    ("流水号", Said::Business),
    ("批号", Said::Business),
    ("单据", Said::Business),
    ("编码", Said::Business),
    ("交易号", Said::Business),
    ("凭证", Said::Business),
    ("訂單", Said::Business),
    ("单号", Said::Business),
    ("單號", Said::Business),
    ("编号", Said::Business),
    ("編號", Said::Business),
    ("发票", Said::Business),
    ("發票", Said::Business),
    ("合同", Said::Business),
    ("运单", Said::Business),
    ("運單", Said::Business),
    ("快递", Said::Business),
    ("物流", Said::Business),
    ("序列号", Said::Business),
    ("批次", Said::Business),
    ("货号", Said::Business),
    ("型号", Said::Business),
    ("工单", Said::Business),
    ("报价", Said::Business),
    ("金额", Said::Business),
    ("金額", Said::Business),
    ("价格", Said::Business),
    ("邮编", Said::Business),
    ("元", Said::Business),
    ("€", Said::Business),
    ("¥", Said::Business),
    ("电话", Said::Personal),
    ("電話", Said::Personal),
    ("手机", Said::Personal),
    ("手機", Said::Personal),
    ("联系", Said::Personal),
    ("聯絡", Said::Personal),
    ("致电", Said::Personal),
    ("微信", Said::Personal),
    ("身份证", Said::Personal),
    ("身份證", Said::Personal),
    ("证件", Said::Personal),
    ("银行", Said::Personal),
    ("銀行", Said::Personal),
    ("卡号", Said::Personal),
    ("卡號", Said::Personal),
    ("账号", Said::Personal),
    ("账户", Said::Personal),
    ("帳戶", Said::Personal),
];

/// How many words before a number are read: the words that name it stand right before it
/// (`order no. 4500…`, `phone number: 138…`), not anywhere in the sentence.
const WORDS_BEHIND: usize = 3;

/// How many bytes before a number Chinese words are looked for (four characters, and a
/// colon or space).
const CJK_BEHIND: usize = 16;

/// What the known word among the few right before `at` says, the nearest first.
pub(super) fn before(text: &[u8], at: usize) -> Option<Said> {
    let mut best: Option<(usize, Said)> = None;
    let mut consider = |end: usize, said: Said| {
        if best.is_none_or(|(e, _)| end > e) {
            best = Some((end, said));
        }
    };
    // ASCII words: the last few runs of letters before `at`, compared case-insensitively.
    let mut i = at;
    let mut words = 0;
    while i > 0 && words < WORDS_BEHIND && at - i < 48 {
        if !text[i - 1].is_ascii_alphabetic() {
            // Chinese text between the words and the number ends the ASCII words.
            if text[i - 1] >= 0x80 {
                break;
            }
            i -= 1;
            continue;
        }
        let end = i;
        while i > 0 && text[i - 1].is_ascii_alphabetic() {
            i -= 1;
        }
        // camelCase (`orderId`) is two words.
        if let Some(k) = (i + 1..end)
            .rev()
            .find(|&k| text[k].is_ascii_uppercase() && text[k - 1].is_ascii_lowercase())
        {
            i = k;
        }
        words += 1;
        let mut word = &text[i..end];
        // A hyphenated compound names what its first part does: `Kunden-Nr.`, `Auftrags-Nr.`.
        let suffix = |w: &[u8]| {
            [&b"nr"[..], b"no", b"nummer", b"number"]
                .iter()
                .any(|s| w.eq_ignore_ascii_case(s))
        };
        if suffix(word) && i >= 2 && text[i - 1] == b'-' && text[i - 2].is_ascii_alphabetic() {
            let mut j = i - 1;
            while j > 0 && text[j - 1].is_ascii_alphabetic() {
                j -= 1;
            }
            word = &text[j..end];
            i = j;
        }
        if let Some(said) = meaning(word) {
            consider(end, said);
        }
    }
    // `S/N`, and money before a number: `$`, `HK$`, `US$`.
    let near = text[..at].trim_ascii_end();
    let near = near.strip_suffix(b":").unwrap_or(near).trim_ascii_end();
    if near.len() >= 3 && near[near.len() - 3..].eq_ignore_ascii_case(b"s/n") {
        consider(at, Said::Business);
    }
    if near.ends_with(b"$") {
        consider(at, Said::Business);
    }
    let mut from = at.saturating_sub(CJK_BEHIND);
    while from < at && !is_char_start(text[from]) {
        from += 1;
    }
    let window = &text[from..at];
    if !window.is_ascii() {
        for &(w, said) in CJK_WORDS {
            if let Some(pos) = memchr::memmem::rfind(window, w.as_bytes()) {
                consider(from + pos + w.len(), said);
            }
        }
    }
    best.map(|(_, said)| said)
}

/// What an ASCII word says: a listed word, or a German compound ending in `-nummer`/`-nr`
/// (`Artikelnummer`, `Kunden-Nr`), which is a business number unless its first part names
/// personal data (`Telefonnummer`, `Kontonummer`, `Ausweisnummer`).
fn meaning(word: &[u8]) -> Option<Said> {
    if let Some(&(_, said)) = ASCII_WORDS
        .iter()
        .find(|(w, _)| w.len() == word.len() && w.as_bytes().eq_ignore_ascii_case(word))
    {
        return Some(said);
    }
    let lower = word.to_ascii_lowercase();
    let stem = [&b"nummer"[..], b"number", b"nr", b"no"]
        .iter()
        .find_map(|s| lower.strip_suffix(*s))
        .filter(|stem| stem.len() >= 3)?;
    let stem = stem.strip_suffix(b"-").unwrap_or(stem);
    const PERSONAL_STEMS: &[&[u8]] = &[
        b"telefon",
        b"tel",
        b"handy",
        b"mobil",
        b"mobilfunk",
        b"ruf",
        b"fax",
        b"konto",
        b"ausweis",
        b"personalausweis",
        b"pass",
        b"reisepass",
        b"karten",
        b"kreditkarten",
        b"kunden-telefon",
        b"phone",
        b"mobile",
        b"card",
        b"account",
        b"id",
        b"passport",
        b"versicherten",
        b"sozialversicherungs",
    ];
    Some(if PERSONAL_STEMS.iter().any(|p| stem.ends_with(p)) {
        Said::Personal
    } else {
        Said::Business
    })
}

/// Words that, glued straight to a number (`Tel01711234567`, `sfz11010519491231002X`), say
/// it is personal data; other letters glued to a number make it a code (`JD4945005461519`).
const GLUED_PERSONAL: &[&str] = &[
    "tel", "telefon", "fon", "phone", "mobile", "mobil", "mob", "handy", "cell", "fax", "call",
    "id", "sfz", "hkid", "ausweis", "card", "karte", "iban", "konto", "nr", "no", "number",
    "nummer", "whatsapp", "wechat",
];

/// Whether `text` ends in one of the words that make a number glued to it personal.
pub(super) fn glued_personal_word(text: &[u8]) -> bool {
    GLUED_PERSONAL.iter().any(|w| {
        text.len() >= w.len() && text[text.len() - w.len()..].eq_ignore_ascii_case(w.as_bytes())
    })
}

/// Whether the few bytes after `at` name a currency: the number is an amount.
pub(super) fn currency_after(text: &[u8], at: usize) -> bool {
    let rest = &text[at..];
    let rest = &rest[rest.iter().take_while(|b| **b == b' ').count()..];
    let starts = |w: &str| {
        rest.len() >= w.len()
            && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes())
            && rest.get(w.len()).is_none_or(|b| !b.is_ascii_alphabetic())
    };
    ["eur", "usd", "rmb", "cny", "hkd", "€", "元", "¥", "$", "%"]
        .iter()
        .any(|w| starts(w))
}

fn is_char_start(b: u8) -> bool {
    b & 0xC0 != 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(text: &str) -> Option<Said> {
        before(text.as_bytes(), text.len())
    }

    #[test]
    fn the_nearest_known_word_decides() {
        assert_eq!(said("order no. "), Some(Said::Business));
        assert_eq!(said("Bestellnr. "), Some(Said::Business));
        assert_eq!(said("订单号 "), Some(Said::Business));
        assert_eq!(said("SN "), Some(Said::Business));
        assert_eq!(said("phone number: "), Some(Said::Personal));
        assert_eq!(said("Tel"), Some(Said::Personal));
        assert_eq!(said("mobile_"), Some(Said::Personal));
        assert_eq!(said("订单已发货，客户手机"), Some(Said::Personal));
        assert_eq!(said("Call about order "), Some(Said::Business));
        assert_eq!(said("Kunden-Nr. "), Some(Said::Business));
        assert_eq!(said("Artikelnummer "), Some(Said::Business));
        assert_eq!(said("Telefonnummer: "), Some(Said::Personal));
        assert_eq!(said("S/N "), Some(Said::Business));
        assert_eq!(said("orderId="), Some(Said::Business));
        assert_eq!(said("HK$ "), Some(Said::Business));
        assert_eq!(said("流水号 "), Some(Said::Business));
        // Words further back do not name the number.
        assert_eq!(said("Customer asked to be reached at "), None);
        assert_eq!(said("Order shipped; please call the buyer on "), None);
        // Words inside other words and unknown words say nothing.
        assert_eq!(said("person "), None);
        assert_eq!(said("Kunde "), None);
        assert_eq!(said(""), None);
    }

    #[test]
    fn currencies_after_a_number_make_it_an_amount() {
        assert!(currency_after(b" EUR total", 0));
        assert!(currency_after("元".as_bytes(), 0));
        assert!(!currency_after(b" Europe", 0));
    }
}
