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
        Self::new(&s).ok_or_else(|| {
            format!("invalid region id {s:?} (expected lowercase letters, digits and dashes)")
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
        Self::new(&s).ok_or_else(|| {
            format!("invalid jurisdiction code {s:?} (expected 2 to 8 upper-case letters, e.g. CN)")
        })
    }
}

impl From<JurisdictionCode> for String {
    fn from(j: JurisdictionCode) -> String {
        j.0.to_string()
    }
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
    fn jurisdiction_codes_are_uppercase() {
        assert!(JurisdictionCode::new("CN").is_some());
        assert!(JurisdictionCode::new("GBA").is_some());
        assert!(JurisdictionCode::new("cn").is_none());
        assert!(JurisdictionCode::new("C").is_none());
    }
}
