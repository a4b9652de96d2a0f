//! Region ids and jurisdiction codes.
//!
//! Which regions and jurisdictions exist, and their control levels, is policy data (YAML),
//! never a constant in code. These types only carry the identifiers.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A deployment region, e.g. `cn-beijing`. Lowercase letters, digits and dashes.
#[derive(
    Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub struct RegionId(Arc<str>);

impl RegionId {
    /// Creates a region id; `None` if `id` is not lowercase letters, digits and dashes.
    pub fn new(id: &str) -> Option<Self> {
        let valid = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        valid.then(|| Self(id.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionId({})", self.0)
    }
}

/// A jurisdiction code: an ISO 3166-1 alpha-2 country code such as `CN` or `DE`, or an
/// upper-case name of another legal area (policies may add them).
#[derive(
    Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub struct JurisdictionCode(Arc<str>);

impl JurisdictionCode {
    /// Creates a code; `None` unless `code` is 2 to 8 upper-case ASCII letters or digits.
    pub fn new(code: &str) -> Option<Self> {
        let valid = (2..=8).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        valid.then(|| Self(code.into()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JurisdictionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for JurisdictionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JurisdictionCode({})", self.0)
    }
}

impl TryFrom<String> for RegionId {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        // The text is not quoted: a region id read from a record may be anything.
        Self::new(&s).ok_or_else(|| {
            "invalid region id (expected lowercase letters, digits and dashes)".to_owned()
        })
    }
}

impl From<RegionId> for String {
    fn from(r: RegionId) -> String {
        r.0.to_string()
    }
}

impl TryFrom<String> for JurisdictionCode {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        // The text is not quoted: a code read from a record may be anything.
        Self::new(&s).ok_or_else(|| {
            "invalid jurisdiction code (expected 2 to 8 upper-case letters or digits, e.g. CN)"
                .to_owned()
        })
    }
}

impl From<JurisdictionCode> for String {
    fn from(j: JurisdictionCode) -> String {
        j.0.to_string()
    }
}

/// The 249 officially assigned ISO 3166-1 alpha-2 country codes, sorted (the ISO 3166
/// Maintenance Agency's list; no exceptionally, transitionally or indeterminately reserved
/// code, no user-assigned code).
pub const ISO_3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Whether `code` is a country code a record may name as `subject.country`: one of the 249
/// assigned ISO 3166-1 alpha-2 codes ([`ISO_3166_ALPHA2`]), in upper case, or `XK`. `XK` is
/// user-assigned in ISO 3166 (no country holds it officially) and is accepted because the
/// European Commission, SWIFT and most CRMs use it for Kosovo.
pub fn is_country_code(code: &str) -> bool {
    code == "XK" || ISO_3166_ALPHA2.binary_search(&code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_ids_are_lowercase_slugs() {
        assert!(RegionId::new("cn-beijing").is_some());
        assert!(RegionId::new("CN-Beijing").is_none());
        assert!(RegionId::new("").is_none());
        assert!(RegionId::new("eu frankfurt").is_none());
    }

    #[test]
    fn country_codes_are_the_assigned_iso_3166_alpha2_codes() {
        assert_eq!(ISO_3166_ALPHA2.len(), 249);
        assert!(
            ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]),
            "sorted, unique"
        );
        for c in [
            "CN", "DE", "HK", "MO", "TW", "US", "GB", "AX", "SS", "BQ", "XK",
        ] {
            assert!(is_country_code(c), "{c}");
        }
        // Reserved (UK, EU, EL), withdrawn (AN, CS, YU), user-assigned (XX, ZZ), lower case.
        for c in [
            "UK", "EU", "EL", "AN", "CS", "YU", "XX", "ZZ", "AA", "de", "DEU", "D", "",
        ] {
            assert!(!is_country_code(c), "{c}");
        }
    }

    #[test]
    fn invalid_ids_are_not_quoted() {
        let e = RegionId::try_from("MARKER_7f3a91".to_owned()).unwrap_err();
        assert!(!e.contains("MARKER"), "{e}");
        let e = JurisdictionCode::try_from("MARKER_7f3a91".to_owned()).unwrap_err();
        assert!(!e.contains("MARKER"), "{e}");
    }

    #[test]
    fn jurisdiction_codes_are_uppercase() {
        assert!(JurisdictionCode::new("CN").is_some());
        assert!(JurisdictionCode::new("GBA").is_some());
        assert!(JurisdictionCode::new("cn").is_none());
        assert!(JurisdictionCode::new("C").is_none());
    }
}
