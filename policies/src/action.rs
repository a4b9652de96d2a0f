//! Field actions: what happens to a value before it crosses.

use std::fmt;
use std::sync::Arc;

use crate::spec::MaskSpec;

/// What happens to a field, ordered from least to most restrictive. When several
/// jurisdictions' rules apply to one field (an onward transfer), the most restrictive wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionKind {
    /// The value crosses unchanged (strings of non-personal classes are still scanned).
    Pass,
    /// Format-aware masking: a phone keeps its country code and last digits, an e-mail its
    /// first character and domain, a name its initials.
    Mask,
    /// Coarser value: a birth date becomes its year, an address its city and country.
    Generalize,
    /// Keyed HMAC-SHA-256 token, reversible only through the origin region's vault.
    Tokenize,
    /// Keyed irreversible hash.
    Hash,
    /// The field is removed.
    Drop,
    /// The whole record is blocked.
    Block,
}

impl ActionKind {
    /// Every action, least restrictive first.
    pub const ALL: &'static [ActionKind] = &[
        ActionKind::Pass,
        ActionKind::Mask,
        ActionKind::Generalize,
        ActionKind::Tokenize,
        ActionKind::Hash,
        ActionKind::Drop,
        ActionKind::Block,
    ];

    /// The YAML name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Pass => "pass",
            ActionKind::Mask => "mask",
            ActionKind::Generalize => "generalize",
            ActionKind::Tokenize => "tokenize",
            ActionKind::Hash => "hash",
            ActionKind::Drop => "drop",
            ActionKind::Block => "block",
        }
    }

    /// Parses a YAML name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == name)
    }

    /// Every name, for error messages.
    pub fn all_names() -> String {
        Self::ALL
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action with its parameters, as compiled into a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// What to do.
    pub kind: ActionKind,
    /// Masking parameters (merged: rule, then policy default for the class).
    pub mask: MaskSpec,
    /// Join scope for tokens and hashes.
    pub scope: Arc<str>,
    /// Object keys kept by `generalize`.
    pub keep: Arc<[String]>,
}

impl Action {
    /// An action with default parameters.
    pub fn new(kind: ActionKind, scope: Arc<str>) -> Self {
        Self {
            kind,
            mask: MaskSpec::default(),
            scope,
            keep: default_keep(),
        }
    }
}

/// Keys an address keeps when generalized.
pub(crate) fn default_keep() -> Arc<[String]> {
    Arc::from(vec!["city".to_owned(), "country".to_owned()])
}

/// A condition that must hold before personal data may leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Condition {
    /// A standard contract (SCC / China's standard contract) signed with the recipient.
    StandardContract,
    /// The data subject consented (checked per record).
    Consent,
    /// The transfer was filed with the local regulator.
    RegulatorFiling,
    /// A regulator's security assessment passed (China, above volume thresholds).
    SecurityAssessment,
    /// Personal-information protection certification.
    Certification,
}

impl Condition {
    /// Every condition.
    pub const ALL: &'static [Condition] = &[
        Condition::StandardContract,
        Condition::Consent,
        Condition::RegulatorFiling,
        Condition::SecurityAssessment,
        Condition::Certification,
    ];

    /// The YAML name.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::StandardContract => "standard_contract",
            Condition::Consent => "consent",
            Condition::RegulatorFiling => "regulator_filing",
            Condition::SecurityAssessment => "security_assessment",
            Condition::Certification => "certification",
        }
    }

    /// Parses a YAML name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// Every name, for error messages.
    pub fn all_names() -> String {
        Self::ALL
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether personal data may leave a jurisdiction of a level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// Freely.
    Free,
    /// When the level's conditions hold.
    Conditional,
    /// Never (strong control).
    Prohibited,
}

impl Export {
    /// Parses a YAML name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "free" => Some(Self::Free),
            "conditional" => Some(Self::Conditional),
            "prohibited" => Some(Self::Prohibited),
            _ => None,
        }
    }
}
