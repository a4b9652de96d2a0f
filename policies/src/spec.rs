//! The YAML form of a policy set, as written by platform admins.
//!
//! A policy set is a directory of YAML files; each file may hold any of the sections below and
//! the set is their union. These types are parsed with unknown keys denied; cross-references
//! (a region's jurisdiction, a rule's classes and actions) are checked afterwards by
//! loading (`load.rs`), which reports every problem with file, line, column and key path. The
//! JSON Schema in `docs/schemas/policy.schema.json` is generated from these types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::loc::Loc;

/// One policy file.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Format version of this file; must be 1.
    pub version: Loc<u32>,
    /// What this file is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Control levels by name (`light`, `medium`, `strong`, `none`): what each requires before
    /// personal data may leave, and the default action per field class.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<String, LevelSpec>,
    /// Jurisdictions by code (`CN`, `DE`, `HK`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub jurisdictions: BTreeMap<String, JurisdictionSpec>,
    /// Named groups of jurisdictions (`EU`, `GBA`), usable wherever a jurisdiction is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Vec<Loc<String>>>,
    /// Deployment regions by id (`cn-beijing`), each in one jurisdiction.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regions: BTreeMap<String, RegionSpec>,
    /// Field classes per object kind: kind → field path → class. The kind `"*"` applies to
    /// every kind; a kind's own entry wins for the same path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classification: BTreeMap<String, BTreeMap<String, Loc<String>>>,
    /// Default masking parameters per class (`personal.phone`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub masking: BTreeMap<String, MaskSpec>,
    /// Tokenization defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenization: Option<TokenizationSpec>,
    /// Transfer rules, in order. For a field, the first matching rule of each jurisdiction
    /// wins over that jurisdiction's level defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
    /// Policy unit tests: sample records and the decision they must get.
    #[serde(default, skip_serializing)]
    pub tests: Vec<TestSpec>,
}

/// A control level.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    /// What the level means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether data must be stored in a local data centre.
    #[serde(default)]
    pub local_storage: bool,
    /// Whether personal data may leave: `free`, `conditional` or `prohibited`.
    pub export: Loc<String>,
    /// Conditions that must hold before personal data leaves: `standard_contract`,
    /// `consent`, `regulator_filing`, `security_assessment`, `certification`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Loc<String>>,
    /// Default action per class pattern (`personal.phone`, `personal.*`, `sensitive.*`,
    /// `unclassified`, `*`); the most specific pattern wins.
    pub actions: BTreeMap<String, Loc<String>>,
}

/// A jurisdiction.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JurisdictionSpec {
    /// Display name.
    pub name: String,
    /// The data-protection law (`PIPL`, `GDPR`, `PDPO`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub law: Option<String>,
    /// Control level name.
    pub level: Loc<String>,
    /// Conditions that replace the level's `requires` for this jurisdiction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<Vec<Loc<String>>>,
    /// Head-count thresholds: once a region has sent personal data of this many distinct data
    /// subjects to one destination jurisdiction since 1 January, further subjects need the
    /// condition named (China: one million people, a security assessment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_thresholds: Vec<SubjectThresholdSpec>,
}

/// One head-count threshold of a jurisdiction.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectThresholdSpec {
    /// Distinct data subjects per destination jurisdiction per calendar year; the subject that
    /// would make the count exceed it needs `requires`.
    pub subjects: u64,
    /// The condition needed past the threshold.
    pub requires: Loc<String>,
    /// Where the threshold comes from (shown in block reasons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A deployment region.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    /// The jurisdiction the region's data centre is in.
    pub jurisdiction: Loc<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Masking parameters. Unset keys take the class default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskSpec {
    /// Characters (or phone digits) kept at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_first: Option<u8>,
    /// Characters (or phone digits) kept at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<u8>,
    /// Phones: keep the `+CC` country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_country_code: Option<bool>,
    /// E-mails: keep the domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_domain: Option<bool>,
    /// Names: `initials` (`M. M.`) or `stars`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
}

/// Tokenization defaults.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenizationSpec {
    /// Join scope of tokens when a rule names none. Tokens of the same value are equal within
    /// a scope and differ across scopes.
    pub default_scope: String,
}

/// When a rule applies with respect to the record's path so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// Every transfer.
    #[default]
    Any,
    /// Only when the record leaves the jurisdiction it was first collected in.
    Direct,
    /// Only onward transfers: the record already passed through another jurisdiction.
    Onward,
}

/// A transfer rule. It belongs to the jurisdictions in `from`: it applies whenever data of
/// those jurisdictions (in the origin or in the record's provenance) goes to a jurisdiction in
/// `to`. It has exactly one effect: `action` (for matching fields), `block` (the whole record)
/// or `requires` (extra conditions).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id, shown in every decision the rule makes.
    pub id: Loc<String>,
    /// Why the rule exists (legal reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Jurisdictions or groups whose data the rule governs.
    pub from: Vec<Loc<String>>,
    /// Destination jurisdictions or groups; every other jurisdiction when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<Loc<String>>>,
    /// Destinations excluded from `to`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except_to: Vec<Loc<String>>,
    /// Object kinds; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<Loc<String>>>,
    /// Purposes of processing; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purposes: Option<Vec<String>>,
    /// `any` (default), `direct` or `onward` transfers.
    #[serde(default)]
    pub transfer: TransferKind,
    /// Field paths the rule applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<Loc<String>>>,
    /// Class patterns the rule applies to (`personal.email`, `personal.*`, `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<Loc<String>>>,
    /// Field action: `pass`, `mask`, `tokenize`, `hash`, `generalize`, `drop`, `block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Loc<String>>,
    /// Block the whole record with this reason when it carries personal data (or, with
    /// `classes`, data of those classes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<String>,
    /// Conditions that must hold, in addition to the level's, when the record carries
    /// personal data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Loc<String>>,
    /// Masking parameters for `action: mask`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskSpec>,
    /// Join scope for `action: tokenize` and `hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Keys of an object kept by `action: generalize` (default `[city, country]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<Vec<String>>,
}

/// A policy unit test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    /// What the test pins down.
    pub name: Loc<String>,
    /// The transfer to evaluate.
    pub route: TestRoute,
    /// The input record, in its JSON form written as YAML (see docs/records.md).
    #[schemars(with = "serde_json::Value")]
    pub record: Loc<serde_json::Value>,
    /// What must come out.
    pub expect: TestExpect,
}

/// The route of a policy test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRoute {
    /// Origin region id.
    pub from: Loc<String>,
    /// Destination region id.
    pub to: Loc<String>,
    /// Purpose of processing.
    #[serde(default)]
    pub purpose: Option<String>,
    /// Legal basis the transfer relies on.
    #[serde(default)]
    pub legal_basis: Option<Loc<String>>,
    /// Conditions in place (`standard_contract`, `regulator_filing`, ...).
    #[serde(default)]
    pub conditions: Vec<Loc<String>>,
}

/// Expected outcome of a policy test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestExpect {
    /// `transfer` or `block`.
    pub decision: Loc<String>,
    /// Each string must appear in one of the block reasons.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Expectations per field path (as decisions name them).
    #[serde(default)]
    pub fields: BTreeMap<String, TestField>,
}

/// Expected decision for one field.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestField {
    /// Expected class.
    #[serde(default)]
    pub class: Option<String>,
    /// Expected action.
    #[serde(default)]
    pub action: Option<String>,
    /// Expected rule id.
    #[serde(default)]
    pub rule: Option<String>,
    /// Expected value in the output record (top-level and dotted paths without wildcards).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub output: Option<serde_json::Value>,
    /// The field must be absent from the output record.
    #[serde(default)]
    pub absent: bool,
}
