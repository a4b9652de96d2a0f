//! Deterministic, realistic synthetic CRM records: Chinese, German and Hong Kong contacts with
//! names, phones, e-mails, addresses and free-text notes, plus accounts, orders and products.
//!
//! The same seed gives the same records on every machine, so benchmark figures and demo
//! output can be reproduced. Nothing here is real personal data.

use fastrand::Rng;

use crate::geo::RegionId;
use crate::record::{ConsentStatus, LegalBasis, ObjectKind, Record, Subject};
use crate::value::{Map, Value};

/// Which population the generated people come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    /// Mainland China: Chinese names, +86 mobiles, Beijing/Shanghai/Guangzhou addresses.
    China,
    /// Germany: German names, +49 numbers, German cities.
    Germany,
    /// Hong Kong: Cantonese romanized and Chinese names, +852 numbers.
    HongKong,
}

impl Locale {
    /// The locale whose people live in `region` (by its demo id); Germany for anything else.
    pub fn for_region(region: &str) -> Self {
        match region {
            r if r.starts_with("cn-") => Locale::China,
            r if r.starts_with("ap-") => Locale::HongKong,
            _ => Locale::Germany,
        }
    }

    fn country(self) -> &'static str {
        match self {
            Locale::China => "CN",
            Locale::Germany => "DE",
            Locale::HongKong => "HK",
        }
    }
}

const CN_SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "朱", "胡",
];
const CN_GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "晓东", "建华",
];
const CN_PINYIN: &[&str] = &[
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "zhou", "wu", "xu", "sun", "ma",
    "zhu", "hu",
];
const DE_FIRST: &[&str] = &[
    "Lukas",
    "Anna",
    "Maximilian",
    "Sophie",
    "Jonas",
    "Marie",
    "Felix",
    "Laura",
    "Leon",
    "Lena",
    "Paul",
    "Julia",
    "Tobias",
    "Katharina",
    "Florian",
];
const DE_LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
];
const HK_FIRST: &[&str] = &[
    "Ka Ming",
    "Wing Yan",
    "Chi Keung",
    "Mei Ling",
    "Siu Fung",
    "Hoi Yan",
    "Tsz Ho",
    "Ka Yan",
    "Wai Man",
    "Suet Ying",
];
const HK_LAST: &[&str] = &[
    "Chan", "Wong", "Leung", "Cheung", "Lau", "Lee", "Ng", "Ho", "Lam", "Tang",
];
const CN_CITIES: &[(&str, &str, &str)] = &[
    ("北京", "朝阳区建国路", "100022"),
    ("上海", "浦东新区世纪大道", "200120"),
    ("广州", "天河区珠江新城", "510623"),
    ("深圳", "南山区科技园", "518057"),
];
const DE_CITIES: &[(&str, &str, &str)] = &[
    ("Berlin", "Friedrichstraße", "10117"),
    ("München", "Leopoldstraße", "80802"),
    ("Frankfurt am Main", "Mainzer Landstraße", "60329"),
    ("Hamburg", "Jungfernstieg", "20354"),
];
const HK_CITIES: &[(&str, &str, &str)] = &[
    ("Hong Kong", "Queen's Road Central", ""),
    ("Kowloon", "Nathan Road", ""),
    ("Sha Tin", "Sha Tin Centre Street", ""),
];
const INDUSTRIES: &[&str] = &[
    "manufacturing",
    "lighting",
    "logistics",
    "retail",
    "energy",
    "electronics",
    "trading",
];
const TITLES: &[&str] = &[
    "Purchasing Manager",
    "CFO",
    "Head of Operations",
    "Sales Director",
    "Project Engineer",
    "Procurement Lead",
];
const DEPARTMENTS: &[&str] = &[
    "Procurement",
    "Finance",
    "Operations",
    "Engineering",
    "Sales",
];
const SOURCES: &[&str] = &["trade_fair", "website", "referral", "cold_call", "partner"];
const PRODUCTS: &[(&str, &str, i64)] = &[
    ("LED-PNL-600", "LED panel 600x600 40W", 3900),
    ("LED-HB-150", "LED high bay 150W", 12900),
    ("LED-STR-5M", "LED strip 5m warm white", 1590),
    ("DRV-40W", "Constant-current driver 40W", 990),
    ("LED-FL-200", "LED flood light 200W", 18900),
];

/// A deterministic generator of synthetic CRM records for one tenant.
pub struct Generator {
    rng: Rng,
    locale: Locale,
    tenant: String,
    region: RegionId,
    seq: u64,
}

impl Generator {
    /// A generator for `tenant` in `region`; the same `seed` yields the same records.
    pub fn new(seed: u64, tenant: &str, region: RegionId) -> Self {
        Self {
            rng: Rng::with_seed(seed),
            locale: Locale::for_region(region.as_str()),
            tenant: tenant.to_owned(),
            region,
            seq: 0,
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.usize(..items.len())]
    }

    fn base(&mut self, object: ObjectKind, prefix: &str) -> Record {
        self.seq += 1;
        let day = 1 + self.rng.u32(0..28);
        Record {
            id: format!(
                "{prefix}-{}-{:06}",
                self.locale.country().to_lowercase(),
                self.seq
            ),
            object,
            tenant: self.tenant.as_str().into(),
            region: self.region.clone(),
            version: 1 + u64::from(self.rng.u8(0..4)),
            updated_at: Some(format!(
                "2026-10-{day:02}T{:02}:{:02}:00Z",
                self.rng.u8(0..24),
                self.rng.u8(0..60)
            )),
            subject: None,
            provenance: Vec::new(),
            fields: Map::with_capacity(24),
        }
    }

    /// A person's name, a matching e-mail local part and a messaging handle.
    fn person(&mut self) -> (String, String) {
        match self.locale {
            Locale::China => {
                let i = self.rng.usize(..CN_SURNAMES.len());
                let given = self.pick(CN_GIVEN);
                let name = format!("{}{given}", CN_SURNAMES[i]);
                let local = format!(
                    "{}.{}{}",
                    CN_PINYIN[i],
                    self.rng.u16(10..999),
                    self.rng.alphabetic().to_ascii_lowercase()
                );
                (name, local)
            }
            Locale::Germany => {
                let first = *self.pick(DE_FIRST);
                let last = *self.pick(DE_LAST);
                let local = format!(
                    "{}.{}",
                    first.to_lowercase(),
                    ascii_fold(last).to_lowercase()
                );
                (format!("{first} {last}"), local)
            }
            Locale::HongKong => {
                let first = *self.pick(HK_FIRST);
                let last = *self.pick(HK_LAST);
                let local = format!(
                    "{}.{}",
                    first.replace(' ', "").to_lowercase(),
                    last.to_lowercase()
                );
                (format!("{last} {first}"), local)
            }
        }
    }

    fn phone(&mut self) -> String {
        match self.locale {
            Locale::China => format!(
                "+86 1{}{} {:04} {:04}",
                self.rng.u8(3..10),
                self.rng.u8(0..10),
                self.rng.u16(0..10000),
                self.rng.u16(0..10000)
            ),
            Locale::Germany => format!(
                "+49 {} {}",
                self.rng.u16(30..90),
                self.rng.u32(1_000_000..99_999_999)
            ),
            Locale::HongKong => format!(
                "+852 {} {:04}",
                self.rng.u16(5100..9899),
                self.rng.u16(0..10000)
            ),
        }
    }

    fn address(&mut self) -> Value {
        let (city, street, postal) = match self.locale {
            Locale::China => *self.pick(CN_CITIES),
            Locale::Germany => *self.pick(DE_CITIES),
            Locale::HongKong => *self.pick(HK_CITIES),
        };
        let mut a = Map::with_capacity(5);
        a.insert("type", "work".into());
        a.insert(
            "street",
            format!("{street} {}", self.rng.u16(1..300)).into(),
        );
        a.insert("postal_code", postal.into());
        a.insert("city", city.into());
        a.insert("country", self.locale.country().into());
        a.into()
    }

    fn note(&mut self, phone: &str, email: &str) -> String {
        let about = match self.rng.u8(0..4) {
            0 => format!("Met at the trade fair; call back on {phone} about the Q3 tender."),
            1 => format!("Prefers e-mail ({email}); wants a quote for 500 LED panels."),
            2 => "Asked for the updated price list and delivery terms (FOB Shenzhen).".to_owned(),
            _ => "Follow-up meeting scheduled after the factory audit; budget approved for next year.".to_owned(),
        };
        format!("{about} Decision expected within four weeks; competitor offers 3% less.")
    }

    /// A contact of about 1 KB: five personal fields, a free-text note and business fields.
    pub fn contact(&mut self) -> Record {
        let mut r = self.base(ObjectKind::Contact, "con");
        let (name, local) = self.person();
        let domain = match self.locale {
            Locale::China => "example.cn",
            Locale::Germany => "beispiel.de",
            Locale::HongKong => "example.hk",
        };
        let email = format!("{local}@{domain}");
        let phone = self.phone();
        let account = self.rng.u32(1..5000);
        r.subject = Some(self.subject());
        let note = self.note(&phone, &email);
        let f = &mut r.fields;
        f.insert("name", name.into());
        f.insert("email", email.into());
        f.insert("phone", phone.into());
        f.insert(
            "birth_date",
            format!(
                "{}-{:02}-{:02}",
                self.rng.u16(1955..2000),
                self.rng.u8(1..13),
                self.rng.u8(1..29)
            )
            .into(),
        );
        f.insert("addresses", vec![self.address()].into());
        f.insert("title", (*self.pick(TITLES)).into());
        f.insert("department", (*self.pick(DEPARTMENTS)).into());
        f.insert("account_id", format!("acc-{account:05}").into());
        f.insert(
            "account_name",
            format!("{} Lighting Co., Ltd.", self.pick(CN_PINYIN).to_uppercase()).into(),
        );
        f.insert(
            "owner_id",
            format!("usr-{:03}", self.rng.u16(1..200)).into(),
        );
        f.insert("lead_source", (*self.pick(SOURCES)).into());
        f.insert(
            "status",
            if self.rng.bool() {
                "active"
            } else {
                "prospect"
            }
            .into(),
        );
        f.insert("industry", (*self.pick(INDUSTRIES)).into());
        f.insert(
            "language",
            match self.locale {
                Locale::China => "zh-CN",
                Locale::Germany => "de-DE",
                Locale::HongKong => "zh-HK",
            }
            .into(),
        );
        f.insert(
            "created_at",
            format!(
                "2025-{:02}-{:02}T09:00:00Z",
                self.rng.u8(1..13),
                self.rng.u8(1..29)
            )
            .into(),
        );
        f.insert("score", i64::from(self.rng.u8(0..100)).into());
        f.insert(
            "tags",
            vec![Value::from("key_account"), Value::from("led")].into(),
        );
        f.insert("notes", note.into());
        f.insert("do_not_call", Value::Bool(self.rng.u8(0..10) == 0));
        f.insert(
            "segment",
            if self.rng.bool() {
                "enterprise"
            } else {
                "mid_market"
            }
            .into(),
        );
        r
    }

    fn subject(&mut self) -> Subject {
        Subject {
            id: Some(format!(
                "subj-{}-{:06}",
                self.locale.country().to_lowercase(),
                self.seq
            )),
            country: Some(self.locale.country().to_owned()),
            consent: Some(if self.rng.u8(0..20) == 0 {
                ConsentStatus::Pending
            } else {
                ConsentStatus::Granted
            }),
            consent_expires: None,
            legal_basis: Some(LegalBasis::Contract),
        }
    }

    /// A contact that also holds personal data where it is hard to find: in one of eight
    /// forms and places — a full-width mobile in the note, a phone as a JSON number, an e-mail
    /// address as a key, a resident ID glued into the record id, a HKID, an IBAN in lower
    /// case grouped with no-break spaces, a bank card after `卡号`, a phone in an address's
    /// city. The second benchmark workload mixes one of these into every ten contacts.
    pub fn contact_with_hidden_personal_data(&mut self) -> Record {
        let mut r = self.contact();
        let mobile = format!(
            "13{}{:08}",
            self.rng.u8(3..10),
            self.rng.u32(0..100_000_000)
        );
        let f = &mut r.fields;
        match self.rng.u8(0..8) {
            0 => {
                let wide: String = mobile
                    .chars()
                    .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c))
                    .collect();
                append_note(f, &format!("手机：＋８６ {wide}"));
            }
            1 => f.insert(
                "custom_1",
                Value::from(format!("86{mobile}").parse::<i64>().unwrap_or(0)),
            ),
            2 => {
                let mut m = Map::new();
                m.insert(
                    format!("{}@example.cn", self.pick(CN_PINYIN)),
                    "primary".into(),
                );
                f.insert("custom_map", m.into());
            }
            3 => r.id = "lead_11010519491231002X".into(),
            4 => append_note(f, "HKID A123456(3) checked at the counter."),
            5 => append_note(
                f,
                "IBAN de89\u{a0}3704\u{a0}0044\u{a0}0532\u{a0}0130\u{a0}00",
            ),
            6 => append_note(f, "卡号 6222 0212 3456 7894"),
            _ => {
                let mut a = Map::new();
                a.insert("street", "Unter den Linden 1".into());
                a.insert(
                    "city",
                    format!("Berlin, Tel +49 30 {}", self.rng.u32(1_000_000..99_999_999)).into(),
                );
                a.insert("country", "DE".into());
                f.insert("addresses", vec![Value::Object(a)].into());
            }
        }
        r
    }

    /// An account (a company; its contact person's name and phone are personal).
    pub fn account(&mut self) -> Record {
        let mut r = self.base(ObjectKind::Account, "acc");
        r.subject = Some(self.subject());
        let (person, _) = self.person();
        let phone = self.phone();
        let f = &mut r.fields;
        f.insert(
            "name",
            format!("{} Trading Co., Ltd.", self.pick(CN_PINYIN).to_uppercase()).into(),
        );
        f.insert("industry", (*self.pick(INDUSTRIES)).into());
        f.insert(
            "annual_revenue",
            i64::from(self.rng.u32(1..500) * 100_000).into(),
        );
        f.insert("primary_contact_name", person.into());
        f.insert("primary_contact_phone", phone.into());
        f.insert("billing_address", self.address());
        f.insert(
            "credit_limit",
            i64::from(self.rng.u32(10..1000) * 1000).into(),
        );
        f.insert(
            "currency",
            match self.locale {
                Locale::China => "CNY",
                Locale::Germany => "EUR",
                Locale::HongKong => "HKD",
            }
            .into(),
        );
        r
    }

    /// A sales order with lines; the ship-to person is personal data.
    pub fn order(&mut self) -> Record {
        let mut r = self.base(ObjectKind::Order, "ord");
        r.subject = Some(self.subject());
        let (person, _) = self.person();
        let phone = self.phone();
        let lines: Vec<Value> = (0..1 + self.rng.usize(..4))
            .map(|_| {
                let (sku, desc, price) = *self.pick(PRODUCTS);
                let mut l = Map::with_capacity(4);
                l.insert("sku", sku.into());
                l.insert("description", desc.into());
                l.insert("quantity", i64::from(self.rng.u16(1..500)).into());
                l.insert("unit_price_cents", price.into());
                l.into()
            })
            .collect();
        let f = &mut r.fields;
        f.insert("order_no", format!("SO-2026-{:06}", self.seq).into());
        f.insert(
            "account_id",
            format!("acc-{:05}", self.rng.u32(1..5000)).into(),
        );
        f.insert("status", "open".into());
        f.insert("ship_to_name", person.into());
        f.insert("ship_to_phone", phone.into());
        f.insert("ship_to_address", self.address());
        f.insert("lines", lines.into());
        r
    }

    /// A product: no personal data.
    pub fn product(&mut self) -> Record {
        let mut r = self.base(ObjectKind::Product, "prd");
        let (sku, desc, price) = *self.pick(PRODUCTS);
        let f = &mut r.fields;
        f.insert("sku", sku.into());
        f.insert("description", desc.into());
        f.insert("list_price_cents", price.into());
        f.insert("currency", "USD".into());
        r
    }
}

fn ascii_fold(s: &str) -> String {
    s.replace('ü', "ue")
        .replace('ö', "oe")
        .replace('ä', "ae")
        .replace('ß', "ss")
}

/// Appends `text` to a record's `notes`.
fn append_note(fields: &mut Map, text: &str) {
    let note = fields
        .get("notes")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let note = format!("{note} {text}");
    fields.insert("notes", note.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_records() {
        let region = RegionId::new("eu-frankfurt").unwrap();
        let a: Vec<_> = {
            let mut g = Generator::new(7, "eu-sales", region.clone());
            (0..5).map(|_| g.contact()).collect()
        };
        let mut g = Generator::new(7, "eu-sales", region);
        let b: Vec<_> = (0..5).map(|_| g.contact()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn a_contact_is_about_one_kilobyte_with_twenty_fields() {
        for region in ["cn-beijing", "eu-frankfurt", "ap-hongkong"] {
            let mut g = Generator::new(1, "t", RegionId::new(region).unwrap());
            let c = g.contact();
            let size = serde_json::to_vec(&c).unwrap().len();
            assert!((700..1400).contains(&size), "{region}: {size} bytes");
            assert_eq!(c.fields.len(), 20);
        }
    }
}
