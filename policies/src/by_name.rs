//! Field names are evidence: what an unclassified field's name says about the data it holds.
//!
//! No scanner finds a street, and a field named `home_address` holds one whatever its value
//! looks like. [`classify_name`] reads a field name (an object key) in the languages of DSS's
//! users — English, German and Chinese (simplified and traditional) — and says which personal
//! class it names, if any, and whether it names a field of business numbers (an order number,
//! a serial) for the scanner's [`Context`](crate::scan::Context).
//!
//! # The rule
//! 1. The name is split into words: at `_`, `-`, `.`, spaces and other punctuation, between a
//!    lower-case letter and an upper-case one (`homeAddress`), before the last capital of an
//!    acronym (`IDCard`), and between letters and digits (`address2`). Words are lower-cased
//!    and `ß` folds to `ss`.
//! 2. At each position the longest run of up to three words whose concatenation is a known
//!    term wins (`e`+`mail`, `date`+`of`+`birth`, `id`+`card`, `order`+`no`); glued forms are
//!    the same terms (`dateofbirth`, `cardno`). A word ending in `s` is also tried without it
//!    (`addresses`). German compounds are matched by their head (`Lieferadresse`,
//!    `Telefonnummer`, `Rechnungsnummer`).
//! 3. A few words qualify what follows or precedes: `name` after a word that names a thing,
//!    not a person (`company_name`, `product_name`), is not a person's name; `address` after
//!    `ip`, `mac`, `web`, `wallet` is not a postal address (after `email` it is an e-mail); a
//!    name ending in a word about the data rather than the data itself (`email_verified`,
//!    `phone_type`, `address_count`) or starting with `is`/`has` names no class.
//! 4. The last class named wins (English compounds end with their head: `contact_phone`).
//! 5. Chinese terms are found as substrings of the name (`收货地址`, `联系电话`, `身份证号码`).
//! 6. A personal class always wins over business numbers (`sfz_no` is an ID number).
//!
//! Words are matched whole: `tel` is not in `hotel`, `name` is not in `rename`.

use crate::class::Class;

/// What a field name says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NameHint {
    /// The personal (or sensitive) class the name names.
    pub class: Option<Class>,
    /// The name says the field holds business numbers (`order_no`, `sku`, `Seriennummer`).
    pub business_numbers: bool,
    /// The name says the field holds free text (`notes`, `description`, `备注`): a declared
    /// `business` class does not make its numbers business numbers.
    pub free_text: bool,
}

/// Whole words (and glued compounds) and the class they name.
const WORDS: &[(&str, Class)] = &[
    // personal.address
    ("address", Class::Address),
    ("addr", Class::Address),
    ("street", Class::Address),
    ("streetaddress", Class::Address),
    ("homeaddress", Class::Address),
    ("postaladdress", Class::Address),
    ("mailingaddress", Class::Address),
    ("residence", Class::Address),
    ("anschrift", Class::Address),
    ("adresse", Class::Address),
    ("strasse", Class::Address),
    ("wohnort", Class::Address),
    ("wohnsitz", Class::Address),
    // personal.phone
    ("phone", Class::Phone),
    ("phoneno", Class::Phone),
    ("phonenumber", Class::Phone),
    ("mobile", Class::Phone),
    ("mobileno", Class::Phone),
    ("mobilephone", Class::Phone),
    ("tel", Class::Phone),
    ("telno", Class::Phone),
    ("telephone", Class::Phone),
    ("fax", Class::Phone),
    ("cell", Class::Phone),
    ("cellphone", Class::Phone),
    ("handy", Class::Phone),
    ("telefon", Class::Phone),
    ("mobil", Class::Phone),
    ("mobilnummer", Class::Phone),
    ("rufnummer", Class::Phone),
    // personal.email
    ("email", Class::Email),
    ("emailaddress", Class::Email),
    ("mail", Class::Email),
    ("mailaddress", Class::Email),
    ("emailadresse", Class::Email),
    ("mailadresse", Class::Email),
    // personal.birth_date
    ("birthday", Class::BirthDate),
    ("birthdate", Class::BirthDate),
    ("dateofbirth", Class::BirthDate),
    ("dob", Class::BirthDate),
    ("geburtsdatum", Class::BirthDate),
    ("geburtstag", Class::BirthDate),
    // personal.national_id
    ("idcard", Class::NationalId),
    ("idcardno", Class::NationalId),
    ("idnumber", Class::NationalId),
    ("idno", Class::NationalId),
    ("nationalid", Class::NationalId),
    ("ssn", Class::NationalId),
    ("sfz", Class::NationalId),
    ("hkid", Class::NationalId),
    ("passport", Class::NationalId),
    ("personalausweis", Class::NationalId),
    ("ausweis", Class::NationalId),
    ("ausweisnummer", Class::NationalId),
    ("reisepass", Class::NationalId),
    // personal.bank_account
    ("iban", Class::BankAccount),
    ("bankaccount", Class::BankAccount),
    ("kontonummer", Class::BankAccount),
    ("bankverbindung", Class::BankAccount),
    // personal.bank_card
    ("cardno", Class::BankCard),
    ("cardnumber", Class::BankCard),
    ("bankcard", Class::BankCard),
    ("creditcard", Class::BankCard),
    ("debitcard", Class::BankCard),
    ("kreditkarte", Class::BankCard),
    ("kartennummer", Class::BankCard),
    // personal.name
    ("name", Class::Name),
    ("fullname", Class::Name),
    ("firstname", Class::Name),
    ("lastname", Class::Name),
    ("givenname", Class::Name),
    ("familyname", Class::Name),
    ("middlename", Class::Name),
    ("surname", Class::Name),
    ("contactperson", Class::Name),
    ("vorname", Class::Name),
    ("nachname", Class::Name),
    ("familienname", Class::Name),
    ("ansprechpartner", Class::Name),
    // personal.messaging_handle
    ("wechat", Class::MessagingHandle),
    ("weixin", Class::MessagingHandle),
    ("whatsapp", Class::MessagingHandle),
    ("lineid", Class::MessagingHandle),
    ("telegram", Class::MessagingHandle),
    ("skype", Class::MessagingHandle),
    ("qq", Class::MessagingHandle),
    // sensitive.*
    ("health", Class::Health),
    ("diagnosis", Class::Health),
    ("medical", Class::Health),
    ("illness", Class::Health),
    ("diagnose", Class::Health),
    ("gesundheit", Class::Health),
    ("krankheit", Class::Health),
    ("religion", Class::Religion),
    ("konfession", Class::Religion),
    ("ethnicity", Class::Ethnicity),
    ("biometric", Class::Biometrics),
    ("biometrics", Class::Biometrics),
    ("fingerprint", Class::Biometrics),
];

/// Heads of German compounds (and glued English ones), matched at the end of a word.
const HEADS: &[(&str, Class)] = &[
    ("emailadresse", Class::Email),
    ("mailadresse", Class::Email),
    ("adresse", Class::Address),
    ("anschrift", Class::Address),
    ("strasse", Class::Address),
    ("telefon", Class::Phone),
    ("telefonnummer", Class::Phone),
    ("telefonnr", Class::Phone),
    ("handynummer", Class::Phone),
    ("mobilnummer", Class::Phone),
    ("rufnummer", Class::Phone),
    ("faxnummer", Class::Phone),
    ("geburtsdatum", Class::BirthDate),
    ("kontonummer", Class::BankAccount),
    ("ausweisnummer", Class::NationalId),
];

/// Chinese terms (simplified and traditional), found anywhere in the name. Checked in order:
/// the more specific first (`邮箱地址` is an e-mail, `银行卡号` a card).
const CJK: &[(&str, Class)] = &[
    ("邮箱", Class::Email),
    ("郵箱", Class::Email),
    ("电子邮件", Class::Email),
    ("電子郵件", Class::Email),
    ("电邮", Class::Email),
    ("電郵", Class::Email),
    ("身份证", Class::NationalId),
    ("身份證", Class::NationalId),
    ("护照", Class::NationalId),
    ("護照", Class::NationalId),
    ("证件号", Class::NationalId),
    ("證件號", Class::NationalId),
    ("银行卡", Class::BankCard),
    ("銀行卡", Class::BankCard),
    ("信用卡", Class::BankCard),
    ("卡号", Class::BankCard),
    ("卡號", Class::BankCard),
    ("银行账", Class::BankAccount),
    ("銀行賬", Class::BankAccount),
    ("銀行帳", Class::BankAccount),
    ("地址", Class::Address),
    ("住址", Class::Address),
    ("住所", Class::Address),
    ("手机", Class::Phone),
    ("手機", Class::Phone),
    ("电话", Class::Phone),
    ("電話", Class::Phone),
    ("传真", Class::Phone),
    ("傳真", Class::Phone),
    ("生日", Class::BirthDate),
    ("出生日期", Class::BirthDate),
    ("姓名", Class::Name),
    ("联系人", Class::Name),
    ("聯繫人", Class::Name),
    ("聯絡人", Class::Name),
    ("收货人", Class::Name),
    ("收貨人", Class::Name),
    ("收件人", Class::Name),
    ("微信", Class::MessagingHandle),
    ("病历", Class::Health),
    ("病歷", Class::Health),
    ("诊断", Class::Health),
    ("診斷", Class::Health),
    ("健康", Class::Health),
    ("宗教", Class::Religion),
    ("民族", Class::Ethnicity),
    ("指纹", Class::Biometrics),
    ("指紋", Class::Biometrics),
];

/// Words (and compounds) that name a field of business numbers.
const BUSINESS_NUMBERS: &[&str] = &[
    "sku",
    "serial",
    "serialno",
    "serialnumber",
    "sn",
    "orderno",
    "ordernumber",
    "orderid",
    "invoiceno",
    "invoicenumber",
    "trackingno",
    "trackingnumber",
    "tracking",
    "pono",
    "ponumber",
    "partno",
    "partnumber",
    "batchno",
    "lotno",
    "quoteno",
    "contractno",
    "shipmentno",
    "deliveryno",
    "ticketno",
    "caseno",
    "referenceno",
    "refno",
    "receiptno",
    "transactionno",
    "paymentno",
    "itemno",
    "articleno",
    "productno",
    "ean",
    "upc",
    "gtin",
    "isbn",
    "bestellnr",
    "bestellnummer",
    "rechnungsnr",
    "rechnungsnummer",
    "seriennr",
    "seriennummer",
    "sendungsnummer",
    "auftragsnr",
    "auftragsnummer",
    "artikelnr",
    "artikelnummer",
    "lieferscheinnummer",
    "kundennr",
    "kundennummer",
    "creditcode",
    "uscc",
];

/// Chinese terms for business numbers.
const CJK_BUSINESS_NUMBERS: &[&str] = &[
    "订单号",
    "訂單號",
    "单号",
    "單號",
    "编号",
    "編號",
    "发票号",
    "發票號",
    "序列号",
    "序列號",
    "统一社会信用代码",
    "統一社會信用代碼",
    "批号",
    "批號",
];

/// Words that name free text.
const FREE_TEXT: &[&str] = &[
    "notes",
    "note",
    "description",
    "desc",
    "comment",
    "comments",
    "remark",
    "remarks",
    "memo",
    "text",
    "message",
    "body",
    "summary",
    "details",
    "title",
    "tags",
    "bemerkung",
    "bemerkungen",
    "notiz",
    "beschreibung",
    "kommentar",
    "nachricht",
];

const CJK_FREE_TEXT: &[&str] = &["备注", "備註", "描述", "说明", "說明", "留言", "摘要"];

/// Words before `name` that make it the name of a thing, not a person.
const THING_NAMES: &[&str] = &[
    "company",
    "product",
    "account",
    "file",
    "project",
    "org",
    "organization",
    "organisation",
    "brand",
    "item",
    "shop",
    "store",
    "vendor",
    "supplier",
    "business",
    "firm",
    "firma",
    "category",
    "city",
    "country",
    "street",
    "host",
    "domain",
    "tag",
    "field",
    "table",
    "column",
    "event",
    "campaign",
    "plan",
    "stage",
    "team",
    "group",
    "role",
    "department",
    "region",
    "sheet",
    "app",
    "device",
    "model",
    "bank",
    "channel",
    "source",
    "template",
    "job",
    "site",
    "server",
    "queue",
    "topic",
    "service",
    "package",
    "document",
    "attachment",
    "branch",
    "warehouse",
    "produkt",
    "unternehmen",
];

/// Words before `address` that make it something other than a postal address.
const NOT_POSTAL: &[&str] = &[
    "ip", "mac", "web", "url", "server", "host", "wallet", "billing", "network", "memory",
];

/// Last words that describe the data rather than hold it.
const ABOUT_THE_DATA: &[&str] = &[
    "count",
    "type",
    "status",
    "verified",
    "flag",
    "enabled",
    "consent",
    "optin",
    "opt",
    "format",
    "lang",
    "language",
    "length",
    "valid",
    "kind",
    "version",
    "hash",
    "label",
    "mode",
    "policy",
    "template",
    "preference",
    "preferences",
    "visibility",
    "privacy",
    "updated",
    "changed",
    "at",
    "confirmed",
    "bounced",
    "required",
    "allowed",
    "group",
    "groups",
];

/// First words that make a yes/no or a count of the thing named.
const PREDICATES: &[&str] = &["is", "has", "num", "total", "count"];

/// What `key` says about its field. Pure; callers cache it per distinct key.
pub fn classify_name(key: &str) -> NameHint {
    let mut hint = NameHint::default();
    let lower = key.to_lowercase();
    if !key.is_ascii() {
        for &(term, class) in CJK {
            if lower.contains(term) {
                hint.class = Some(class);
                break;
            }
        }
        if hint.class.is_none() {
            hint.business_numbers = CJK_BUSINESS_NUMBERS.iter().any(|t| lower.contains(t));
        }
        hint.free_text = CJK_FREE_TEXT.iter().any(|t| lower.contains(t));
    }
    let words = split_words(key);
    if words.is_empty() {
        return hint;
    }
    let first = words[0].as_str();
    let last = words[words.len() - 1].as_str();
    hint.free_text |= FREE_TEXT.contains(&last);
    let mut i = 0;
    let mut class = None;
    let mut business = false;
    while i < words.len() {
        let mut step = 1;
        for n in (1..=3.min(words.len() - i)).rev() {
            let joined: String = words[i..i + n].concat();
            if let Some(c) = word_class(&joined) {
                let before = i.checked_sub(1).map(|b| words[b].as_str());
                let qualified = match (c, joined.as_str()) {
                    (Class::Name, "name") => before.is_some_and(|b| THING_NAMES.contains(&b)),
                    (Class::Address, "address" | "addr") => {
                        before.is_some_and(|b| NOT_POSTAL.contains(&b))
                    }
                    _ => false,
                };
                if !qualified {
                    class = Some(c);
                }
                step = n;
                break;
            }
            if is_business_number(&joined) {
                business = true;
                step = n;
                break;
            }
        }
        i += step;
    }
    if words.len() > 1 && (ABOUT_THE_DATA.contains(&last) || PREDICATES.contains(&first)) {
        class = None;
    }
    if hint.class.is_none() {
        hint.class = class;
    }
    hint.business_numbers = hint.class.is_none() && (hint.business_numbers || business);
    hint
}

fn word_class(word: &str) -> Option<Class> {
    let exact = |w: &str| WORDS.iter().find(|(t, _)| *t == w).map(|&(_, c)| c);
    if let Some(c) = exact(word) {
        return Some(c);
    }
    if let Some(stem) = word.strip_suffix('s')
        && let Some(c) = exact(stem).or_else(|| stem.strip_suffix('e').and_then(exact))
    {
        return Some(c);
    }
    if word.len() > 8 {
        return HEADS
            .iter()
            .find(|(head, _)| word.ends_with(head))
            .map(|&(_, c)| c);
    }
    None
}

fn is_business_number(word: &str) -> bool {
    BUSINESS_NUMBERS.contains(&word)
        || (word.len() > 6
            && (word.ends_with("nummer") || word.ends_with("nr"))
            && word_class(word).is_none())
}

/// Splits a field name into lower-case ASCII-folded words (see the module docs).
fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() || !(c.is_ascii() || is_latin(c)) {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&p) = i.checked_sub(1).map(|j| &chars[j])
            && !cur.is_empty()
        {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_alphabetic() != c.is_alphabetic());
            if boundary {
                words.push(std::mem::take(&mut cur));
            }
        }
        for l in c.to_lowercase() {
            match l {
                'ß' => cur.push_str("ss"),
                'ä' => cur.push('a'),
                'ö' => cur.push('o'),
                'ü' => cur.push('u'),
                l => cur.push(l),
            }
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Latin letters beyond ASCII (German umlauts and `ß`): part of words, unlike CJK text,
/// which [`CJK`] matches by substring.
fn is_latin(c: char) -> bool {
    matches!(c, 'ß' | 'ä' | 'ö' | 'ü' | 'Ä' | 'Ö' | 'Ü' | 'ẞ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(key: &str) -> Option<Class> {
        classify_name(key).class
    }

    #[test]
    fn splits_snake_kebab_camel_dots_and_digits() {
        assert_eq!(split_words("homeAddress"), ["home", "address"]);
        assert_eq!(
            split_words("contact-address.2"),
            ["contact", "address", "2"]
        );
        assert_eq!(split_words("IDCardNo"), ["id", "card", "no"]);
        assert_eq!(split_words("address2"), ["address", "2"]);
        assert_eq!(split_words("Straße"), ["strasse"]);
        assert_eq!(split_words("E-Mail"), ["e", "mail"]);
    }

    #[test]
    fn names_say_personal_classes_in_english_german_and_chinese() {
        for (key, want) in [
            ("address", Class::Address),
            ("addresses", Class::Address),
            ("street", Class::Address),
            ("addr", Class::Address),
            ("home_address", Class::Address),
            ("contact_address", Class::Address),
            ("postalAddress", Class::Address),
            ("地址", Class::Address),
            ("收货地址", Class::Address),
            ("住址", Class::Address),
            ("Anschrift", Class::Address),
            ("Adresse", Class::Address),
            ("Lieferadresse", Class::Address),
            ("Straße", Class::Address),
            ("Strasse", Class::Address),
            ("mobile", Class::Phone),
            ("phone", Class::Phone),
            ("tel", Class::Phone),
            ("contact_phone", Class::Phone),
            ("telephone", Class::Phone),
            ("fax", Class::Phone),
            ("cell", Class::Phone),
            ("手机", Class::Phone),
            ("电话", Class::Phone),
            ("電話", Class::Phone),
            ("联系电话", Class::Phone),
            ("Telefon", Class::Phone),
            ("Telefonnummer", Class::Phone),
            ("Handy", Class::Phone),
            ("Mobilnummer", Class::Phone),
            ("email", Class::Email),
            ("e_mail", Class::Email),
            ("E-Mail", Class::Email),
            ("mail", Class::Email),
            ("email_address", Class::Email),
            ("邮箱", Class::Email),
            ("電郵", Class::Email),
            ("birthday", Class::BirthDate),
            ("birth_date", Class::BirthDate),
            ("dateOfBirth", Class::BirthDate),
            ("dob", Class::BirthDate),
            ("生日", Class::BirthDate),
            ("出生日期", Class::BirthDate),
            ("Geburtsdatum", Class::BirthDate),
            ("Geburtstag", Class::BirthDate),
            ("id_card", Class::NationalId),
            ("sfz", Class::NationalId),
            ("sfz_no", Class::NationalId),
            ("身份证", Class::NationalId),
            ("身份證號碼", Class::NationalId),
            ("hkid", Class::NationalId),
            ("Personalausweis", Class::NationalId),
            ("passport", Class::NationalId),
            ("iban", Class::BankAccount),
            ("bank_account", Class::BankAccount),
            ("银行账户", Class::BankAccount),
            ("Kontonummer", Class::BankAccount),
            ("card_no", Class::BankCard),
            ("bank_card", Class::BankCard),
            ("银行卡", Class::BankCard),
            ("卡号", Class::BankCard),
            ("Kreditkarte", Class::BankCard),
            ("name", Class::Name),
            ("full_name", Class::Name),
            ("contact_person", Class::Name),
            ("contactName", Class::Name),
            ("姓名", Class::Name),
            ("联系人", Class::Name),
            ("Vorname", Class::Name),
            ("Nachname", Class::Name),
            ("wechat", Class::MessagingHandle),
            ("whatsapp", Class::MessagingHandle),
            ("line_id", Class::MessagingHandle),
            ("微信", Class::MessagingHandle),
            ("health", Class::Health),
            ("diagnosis", Class::Health),
            ("病历", Class::Health),
            ("Diagnose", Class::Health),
        ] {
            assert_eq!(class(key), Some(want), "{key}");
        }
    }

    #[test]
    fn words_are_whole_and_qualified() {
        for key in [
            "hotel",
            "rename",
            "company_name",
            "product_name",
            "ip_address",
            "email_verified",
            "phone_type",
            "address_count",
            "has_email",
            "mailbox_size",
            "notes",
            "status",
            "custom_flag",
            "order_no",
            "cellar",
            "telemetry",
            "wechat_group",
        ] {
            assert_eq!(class(key), None, "{key}");
        }
    }

    #[test]
    fn names_say_business_numbers() {
        for key in [
            "order_no",
            "order_number",
            "orderNo",
            "invoice_no",
            "sku",
            "serial",
            "serial_no",
            "tracking_no",
            "po_number",
            "订单号",
            "编号",
            "发票号",
            "Bestellnr",
            "Rechnungsnummer",
            "Seriennummer",
        ] {
            let hint = classify_name(key);
            assert!(hint.business_numbers && hint.class.is_none(), "{key}");
        }
        for key in ["notes", "phone", "Telefonnummer", "sfz_no", "custom_1"] {
            assert!(!classify_name(key).business_numbers, "{key}");
        }
        assert!(classify_name("notes").free_text);
        assert!(classify_name("备注").free_text);
    }
}
