//! The canonical record every connector produces and every sink consumes.
//!
//! The JSON form is documented in `docs/records.md`; it is what `dss policy check` reads, one
//! record per line.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::geo::{JurisdictionCode, RegionId};
use crate::value::Map;

/// A CRM business record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(default)]
    pub version: u64,
    /// RFC 3339 time of the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The data subject this record is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Jurisdictions the record passed through before it reached `region`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provenance: Vec<JurisdictionCode>,
    /// The business fields; they may nest.
    pub fields: Map,
}

/// What is known of the data subject a record is about.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// A stable identity of the person (personal data: it never crosses untransformed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Country of residence, ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Whether the person consented to the transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentStatus>,
    /// RFC 3339 time after which the consent no longer holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_expires: Option<String>,
    /// The legal basis recorded for processing this person's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

impl LegalBasis {
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
            serde::de::Error::custom(format_args!(
                "invalid object kind {name:?} (expected one of the built-in kinds {} or a lowercase snake_case custom kind)",
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

/// Why a line could not be read as a record.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(String);

impl Record {
    /// Parses one JSON record. The error names the problem and its column but never echoes
    /// the input, which may hold personal data.
    ///
    /// sonic-rs (SIMD) parses; its error messages quote the input, so a record it refuses is
    /// parsed again by serde_json, whose messages can be redacted, for the error.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RecordError> {
        sonic_rs::from_slice(bytes).or_else(|_| {
            serde_json::from_slice(bytes).map_err(|e| RecordError(redacted_json_error(&e)))
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

/// A serde_json error message without any echoed input value.
fn redacted_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax => "invalid JSON",
        Category::Eof => "truncated JSON",
        Category::Io => "read error",
        Category::Data => "invalid record",
    };
    // serde_json messages for data errors quote the offending value (`invalid type: string
    // "Zhang Wei", expected u64`). Keep the text up to the first quote of a value only.
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg);
    let safe = match msg.find(": string \"") {
        Some(i) => format!(
            "{}: string, {}",
            &msg[..i],
            msg.rsplit(", ").next().unwrap_or("")
        ),
        None => msg.to_owned(),
    };
    format!("{what} at column {}: {safe}", e.column())
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
        let err = Record::from_json(bad.as_bytes()).unwrap_err().to_string();
        assert!(!err.contains("Zhang"), "{err}");
        assert!(err.contains("column"), "{err}");
        let unknown = r#"{"id":"c-1","object":"contact","tenant":"t","region":"eu-frankfurt","nme":"x","fields":{}}"#;
        let err = Record::from_json(unknown.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `nme`"), "{err}");
    }
}
