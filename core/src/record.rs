//! The canonical record every connector produces and every sink consumes.
//!
//! The JSON form is documented in `docs/records.md`; it is what `dss policy check` reads, one
//! record per line.

use std::fmt;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::geo::{JurisdictionCode, RegionId};
use crate::parse::SyntaxError;
use crate::value::{Map, Text, Value};

/// A CRM business record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record {
    /// The record's id, unique per tenant and object kind. Metadata is data: an id may hold
    /// personal data (an e-mail used as a key) and is checked like any field.
    pub id: String,
    /// The object kind.
    pub object: ObjectKind,
    /// The tenant that owns the record.
    pub tenant: crate::value::Text,
    /// The region the record lives in now.
    pub region: RegionId,
    /// Monotonic version; sinks upsert by (tenant, object, id, version).
    pub version: u64,
    /// RFC 3339 time of the last change (checked by the parser).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The data subject this record is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Jurisdictions the record passed through before it reached `region`, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provenance: Vec<JurisdictionCode>,
    /// The business fields; they may nest.
    pub fields: Map,
}

/// What is known of the data subject a record is about.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Subject {
    /// A stable identity of the person (personal data: it never crosses untransformed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Country of residence: an assigned ISO 3166-1 alpha-2 code or `XK` (checked by the
    /// parser, see [`crate::geo::is_country_code`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Whether the person consented to the transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentStatus>,
    /// RFC 3339 time after which the consent no longer holds (checked by the parser; compare
    /// it as a [`crate::time::Timestamp`], not as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_expires: Option<String>,
    /// The legal basis recorded for processing this person's data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

/// Consent status of a data subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// Consent was given.
    Granted,
    /// Consent was refused.
    Refused,
    /// Consent was given and later withdrawn.
    Withdrawn,
    /// Consent was asked for and not yet answered.
    Pending,
}

/// The six lawful bases of GDPR article 6, also used for PIPL and PDPO transfers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// The person consented.
    Consent,
    /// Needed to perform a contract with the person.
    Contract,
    /// Needed to comply with a legal obligation.
    LegalObligation,
    /// Needed to protect someone's life.
    VitalInterests,
    /// Needed for a task in the public interest.
    PublicTask,
    /// The controller's legitimate interests.
    LegitimateInterests,
}

impl ConsentStatus {
    /// The snake_case name used in YAML and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Granted => "granted",
            ConsentStatus::Refused => "refused",
            ConsentStatus::Withdrawn => "withdrawn",
            ConsentStatus::Pending => "pending",
        }
    }
}

impl ConsentStatus {
    /// The status named `name` (snake_case).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "granted" => ConsentStatus::Granted,
            "refused" => ConsentStatus::Refused,
            "withdrawn" => ConsentStatus::Withdrawn,
            "pending" => ConsentStatus::Pending,
            _ => return None,
        })
    }
}

impl LegalBasis {
    /// The basis named `name` (snake_case).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "consent" => LegalBasis::Consent,
            "contract" => LegalBasis::Contract,
            "legal_obligation" => LegalBasis::LegalObligation,
            "vital_interests" => LegalBasis::VitalInterests,
            "public_task" => LegalBasis::PublicTask,
            "legitimate_interests" => LegalBasis::LegitimateInterests,
            _ => return None,
        })
    }

    /// The snake_case name used in YAML and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
            LegalBasis::VitalInterests => "vital_interests",
            LegalBasis::PublicTask => "public_task",
            LegalBasis::LegitimateInterests => "legitimate_interests",
        }
    }
}

macro_rules! object_kinds {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// The kind of a CRM object. Kinds outside the built-in list are `Custom`.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ObjectKind {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
            /// Another kind, named in lowercase snake_case.
            Custom(Box<str>),
        }

        impl ObjectKind {
            /// Built-in kinds, in order.
            pub const BUILT_IN: &'static [ObjectKind] = &[$(ObjectKind::$variant),*];

            /// The snake_case name.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ObjectKind::$variant => $name,)*
                    ObjectKind::Custom(name) => name,
                }
            }

            /// Parses a kind name; `None` unless it is lowercase snake_case.
            pub fn parse(name: &str) -> Option<Self> {
                Some(match name {
                    $($name => ObjectKind::$variant,)*
                    _ => {
                        let mut bytes = name.bytes();
                        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
                        if !first_ok || !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                            return None;
                        }
                        ObjectKind::Custom(name.into())
                    }
                })
            }

            /// Position among the built-in kinds; `None` for custom kinds.
            pub fn built_in_index(&self) -> Option<usize> {
                let mut i = 0usize;
                $(
                    if matches!(self, ObjectKind::$variant) {
                        return Some(i);
                    }
                    i += 1;
                )*
                let _ = i;
                None
            }
        }
    };
}

object_kinds! {
    Lead => "lead",
    Account => "account",
    Contact => "contact",
    Opportunity => "opportunity",
    Quote => "quote",
    Contract => "contract",
    Order => "order",
    WorkOrder => "work_order",
    Invoice => "invoice",
    Payment => "payment",
    Product => "product",
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ObjectKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ObjectKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ObjectKind::parse(&name).ok_or_else(|| {
            // The name is not quoted: an object kind read from a record may be anything.
            serde::de::Error::custom(format_args!(
                "invalid object kind (expected one of the built-in kinds {} or a lowercase snake_case custom kind)",
                ObjectKind::BUILT_IN.iter().map(ObjectKind::as_str).collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

impl schemars::JsonSchema for ObjectKind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ObjectKind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A built-in object kind (lead, account, contact, opportunity, quote, contract, order, work_order, invoice, payment, product) or a custom kind in lowercase snake_case.",
            "pattern": "^[a-z][a-z0-9_]*$"
        })
    }
}

/// Why a JSON document could not be read as a record: where (a key path such as
/// `subject.country` or `provenance[2]`, or the line and column of a syntax error) and what
/// was expected.
///
/// It never holds a value of the input, which may be personal data: not the offending value,
/// not an unknown key unless that key looks like a field name (see
/// [`RecordProblem::UnknownKey`]), and no key inside `fields`. Its `Display` is safe for
/// stderr, logs and dead-letter reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    path: Box<str>,
    problem: RecordProblem,
}

/// What was wrong with a record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordProblem {
    /// The document is not JSON.
    Syntax(SyntaxError),
    /// A value of the wrong type or shape; the text says what was expected (a type, the
    /// valid choices, or a format such as RFC 3339).
    Expected(Cow<'static, str>),
    /// A required key is missing (the path is the key's).
    Missing,
    /// An envelope key appears twice.
    Duplicate,
    /// A key the record's format does not have. The key is kept only when it looks like a
    /// field name (`[a-z_][a-z0-9_]{0,63}` with fewer than six ASCII digits: the scanner
    /// never finds personal data in such a string); otherwise `None`, "an unknown key".
    UnknownKey(Option<Text>),
}

impl RecordError {
    fn new(path: impl Into<Box<str>>, problem: RecordProblem) -> Self {
        Self {
            path: path.into(),
            problem,
        }
    }

    fn expected(path: impl Into<Box<str>>, what: impl Into<Cow<'static, str>>) -> Self {
        Self::new(path, RecordProblem::Expected(what.into()))
    }

    /// Where the problem is: a key path (`subject.country`, `provenance[2]`, `fields`), the
    /// object holding an unknown key (`subject`; empty for the top level), or empty for a
    /// syntax error or a document that is not an object.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the problem is.
    pub fn problem(&self) -> &RecordProblem {
        &self.problem
    }

    /// The problem in words, without the path.
    pub fn reason(&self) -> String {
        match &self.problem {
            RecordProblem::Syntax(e) => e.to_string(),
            RecordProblem::Expected(what) => format!("expected {what}"),
            RecordProblem::Missing => "missing (required)".into(),
            RecordProblem::Duplicate => "appears twice".into(),
            RecordProblem::UnknownKey(key) => {
                let choices = match &*self.path {
                    "subject" => SUBJECT_KEYS,
                    _ => RECORD_KEYS,
                };
                match key {
                    Some(k) => format!("unknown key `{k}` (expected one of: {choices})"),
                    None => format!("an unknown key (expected one of: {choices})"),
                }
            }
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.reason())
        } else {
            write!(f, "{}: {}", self.path, self.reason())
        }
    }
}

impl std::error::Error for RecordError {}

const RECORD_KEYS: &str =
    "id, object, tenant, region, version, updated_at, subject, provenance, fields";
const SUBJECT_KEYS: &str = "id, country, consent, consent_expires, legal_basis";

/// Whether an unknown key may be quoted in a message: it looks like a field name
/// (`[a-z_][a-z0-9_]{0,63}`) and holds fewer than six ASCII digits, so no scanner would find
/// a phone, an ID or an account number in it.
fn key_is_nameable(key: &str) -> bool {
    let b = key.as_bytes();
    (1..=64).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && b.iter().filter(|c| c.is_ascii_digit()).count() < 6
}

fn unknown_key(parent: &str, key: &str) -> RecordError {
    let named = key_is_nameable(key).then(|| Text::from(key));
    RecordError::new(parent, RecordProblem::UnknownKey(named))
}

const RFC3339: &str = "an RFC 3339 date-time (e.g. 2026-01-01T00:00:00Z)";

fn take_string(v: Value, path: &'static str) -> Result<Text, RecordError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(RecordError::expected(path, "a string")),
    }
}

fn take_rfc3339(v: Value, path: &'static str) -> Result<String, RecordError> {
    match v {
        Value::String(s) if crate::time::is_rfc3339(&s) => Ok(s.into_string()),
        _ => Err(RecordError::expected(path, RFC3339)),
    }
}

/// Marks `bit` of `seen`; an error if it was set (a duplicate envelope key).
fn once(seen: &mut u16, bit: u16, path: &'static str) -> Result<(), RecordError> {
    if *seen & bit != 0 {
        return Err(RecordError::new(path, RecordProblem::Duplicate));
    }
    *seen |= bit;
    Ok(())
}

impl Record {
    /// Parses one JSON record (`docs/records.md`), keeping every number's text exactly as
    /// read and checking the envelope: types, object kind, region id, jurisdiction codes,
    /// `subject.country` (ISO 3166-1 alpha-2) and the RFC 3339 times. The error names the
    /// key path and what was expected, or the column of a syntax error, and never echoes the
    /// input (see [`RecordError`]). A duplicate envelope key is an error; a duplicate key
    /// inside `fields` or `subject` keeps the last value.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RecordError> {
        let entries = crate::parse::parse_object_entries(bytes)
            .map_err(|e| RecordError::new("", RecordProblem::Syntax(e)))?
            .ok_or_else(|| RecordError::expected("", "a JSON object"))?;
        Self::from_entries(entries)
    }

    /// A record from a parsed value, checked as [`Record::from_json`] checks it.
    pub fn from_value(value: Value) -> Result<Self, RecordError> {
        match value {
            Value::Object(m) => Self::from_map(m),
            _ => Err(RecordError::expected("", "a JSON object")),
        }
    }

    /// A record from the entries of its top-level object, checked as [`Record::from_json`]
    /// checks it.
    pub fn from_map(map: Map) -> Result<Self, RecordError> {
        Self::from_entries(map.into_entries())
    }

    fn from_entries(entries: impl IntoIterator<Item = (Text, Value)>) -> Result<Self, RecordError> {
        let mut seen = 0u16;
        let (mut id, mut object, mut tenant, mut region) = (None, None, None, None);
        let mut version = 0;
        let mut updated_at = None;
        let mut subject = None;
        let mut provenance = Vec::new();
        let mut fields = None;
        for (key, value) in entries {
            match key.as_str() {
                "id" => {
                    once(&mut seen, 1, "id")?;
                    id = Some(take_string(value, "id")?.into_string());
                }
                "object" => {
                    once(&mut seen, 2, "object")?;
                    let kind = match &value {
                        Value::String(s) => ObjectKind::parse(s),
                        _ => None,
                    };
                    object = Some(kind.ok_or_else(|| {
                        RecordError::expected(
                            "object",
                            "a built-in object kind (lead, account, contact, opportunity, quote, contract, order, work_order, invoice, payment, product) or a lowercase snake_case custom kind",
                        )
                    })?);
                }
                "tenant" => {
                    once(&mut seen, 4, "tenant")?;
                    tenant = Some(take_string(value, "tenant")?);
                }
                "region" => {
                    once(&mut seen, 8, "region")?;
                    let r = match &value {
                        Value::String(s) => RegionId::new(s),
                        _ => None,
                    };
                    region = Some(r.ok_or_else(|| {
                        RecordError::expected(
                            "region",
                            "a region id: lowercase letters, digits and dashes (e.g. eu-frankfurt)",
                        )
                    })?);
                }
                "version" => {
                    once(&mut seen, 16, "version")?;
                    version = match &value {
                        Value::Number(n) => n.as_u64(),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        RecordError::expected("version", "a whole number from 0 to 2^64 - 1")
                    })?;
                }
                "updated_at" => {
                    once(&mut seen, 32, "updated_at")?;
                    if value != Value::Null {
                        updated_at = Some(take_rfc3339(value, "updated_at")?);
                    }
                }
                "subject" => {
                    once(&mut seen, 64, "subject")?;
                    subject = match value {
                        Value::Null => None,
                        Value::Object(m) => Some(Subject::from_map(m)?),
                        _ => return Err(RecordError::expected("subject", "an object")),
                    };
                }
                "provenance" => {
                    once(&mut seen, 128, "provenance")?;
                    let Value::Array(items) = value else {
                        return Err(RecordError::expected(
                            "provenance",
                            "an array of jurisdiction codes",
                        ));
                    };
                    provenance.reserve(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let code = match item {
                            Value::String(s) => JurisdictionCode::new(s),
                            _ => None,
                        };
                        provenance.push(code.ok_or_else(|| {
                            RecordError::expected(
                                format!("provenance[{i}]"),
                                "a jurisdiction code: 2 to 8 upper-case letters or digits (e.g. CN)",
                            )
                        })?);
                    }
                }
                "fields" => {
                    once(&mut seen, 256, "fields")?;
                    match value {
                        Value::Object(m) => fields = Some(m),
                        _ => return Err(RecordError::expected("fields", "an object")),
                    }
                }
                other => return Err(unknown_key("", other)),
            }
        }
        let missing = |path: &'static str| RecordError::new(path, RecordProblem::Missing);
        Ok(Record {
            id: id.ok_or_else(|| missing("id"))?,
            object: object.ok_or_else(|| missing("object"))?,
            tenant: tenant.ok_or_else(|| missing("tenant"))?,
            region: region.ok_or_else(|| missing("region"))?,
            version,
            updated_at,
            subject,
            provenance,
            fields: fields.ok_or_else(|| missing("fields"))?,
        })
    }

    /// The data subject's id in a record's JSON (`subject.id`), read without parsing the rest:
    /// what head-counts look up before the records are decided.
    pub fn subject_id_in_json(json: &str) -> Option<String> {
        use sonic_rs::JsonValueTrait as _;
        sonic_rs::get_from_str(json, ["subject", "id"])
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }
}

impl Subject {
    /// The subject from its object's entries, checked as [`Record::from_json`] checks it;
    /// errors name paths under `subject`.
    pub fn from_map(map: Map) -> Result<Self, RecordError> {
        let mut s = Subject::default();
        for (key, value) in map.into_entries() {
            if value == Value::Null && SUBJECT_KEYS.split(", ").any(|k| key == k) {
                continue;
            }
            match key.as_str() {
                "id" => s.id = Some(take_string(value, "subject.id")?.into_string()),
                "country" => {
                    s.country = match value {
                        Value::String(c) if crate::geo::is_country_code(&c) => {
                            Some(c.into_string())
                        }
                        _ => {
                            return Err(RecordError::expected(
                                "subject.country",
                                "an assigned ISO 3166-1 alpha-2 country code in upper case (e.g. DE)",
                            ));
                        }
                    }
                }
                "consent" => {
                    let c = match &value {
                        Value::String(c) => ConsentStatus::parse(c),
                        _ => None,
                    };
                    s.consent = Some(c.ok_or_else(|| {
                        RecordError::expected(
                            "subject.consent",
                            "one of: granted, refused, withdrawn, pending",
                        )
                    })?);
                }
                "consent_expires" => {
                    s.consent_expires = Some(take_rfc3339(value, "subject.consent_expires")?);
                }
                "legal_basis" => {
                    let b = match &value {
                        Value::String(b) => LegalBasis::parse(b),
                        _ => None,
                    };
                    s.legal_basis = Some(b.ok_or_else(|| {
                        RecordError::expected(
                            "subject.legal_basis",
                            "one of: consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests",
                        )
                    })?);
                }
                other => return Err(unknown_key("subject", other)),
            }
        }
        Ok(s)
    }
}

impl<'de> Deserialize<'de> for Record {
    /// Reads a value and checks it as [`Record::from_json`] does, so that errors never quote
    /// the input. Numbers keep their text only through [`Record::from_json`]: a serde
    /// deserializer hands out floats as `f64`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Record::from_value(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Subject {
    /// As for [`Record`]: checked by [`Subject::from_map`], errors without values.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Subject::from_map(Map::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTACT: &str = r#"{"id":"c-1","object":"contact","tenant":"eu-sales","region":"eu-frankfurt","version":3,"subject":{"id":"s-1","country":"DE","consent":"granted","legal_basis":"contract"},"provenance":["CN"],"fields":{"name":"Max Müller","addresses":[{"city":"Berlin"}]}}"#;

    #[test]
    fn parses_and_serializes_the_documented_form() {
        let r = Record::from_json(CONTACT.as_bytes()).unwrap();
        assert_eq!(r.object, ObjectKind::Contact);
        assert_eq!(r.provenance[0].as_str(), "CN");
        assert_eq!(
            r.subject.as_ref().unwrap().consent,
            Some(ConsentStatus::Granted)
        );
        assert_eq!(serde_json::to_string(&r).unwrap(), CONTACT);
    }

    #[test]
    fn custom_kinds_are_snake_case() {
        assert_eq!(
            ObjectKind::parse("price_list"),
            Some(ObjectKind::Custom("price_list".into()))
        );
        assert_eq!(ObjectKind::parse("work_order"), Some(ObjectKind::WorkOrder));
        assert_eq!(ObjectKind::parse("Price-List"), None);
        assert_eq!(ObjectKind::WorkOrder.built_in_index(), Some(7));
    }

    #[test]
    fn errors_do_not_echo_values() {
        let bad = r#"{"id":"c-1","object":"contact","tenant":"t","region":"eu-frankfurt","version":"Zhang Wei","fields":{}}"#;
        let err = Record::from_json(bad.as_bytes()).unwrap_err();
        assert!(!err.to_string().contains("Zhang"), "{err}");
        assert_eq!(err.path(), "version");
        let unknown = r#"{"id":"c-1","object":"contact","tenant":"t","region":"eu-frankfurt","nme":"x","fields":{}}"#;
        let err = Record::from_json(unknown.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("unknown key `nme`"), "{err}");
    }
}
