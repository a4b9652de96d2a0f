//! A validated, indexed policy set: what loading (`load.rs`) produces and plans compile from.

use std::collections::BTreeMap;
use std::sync::Arc;

use dss_core::{FieldPath, JurisdictionCode, ObjectKind, RegionId};
use rustc_hash::FxHashMap;

use crate::action::{Action, ActionKind, Condition, Export};
use crate::class::{CLASS_COUNT, ClassPattern};
use crate::spec::{MaskSpec, TransferKind};
use crate::testing::PolicyTest;

/// Index of a jurisdiction in a [`PolicySet`].
pub type JId = u16;

/// A control level.
#[derive(Debug)]
pub struct Level {
    /// Its name (`medium`).
    pub name: String,
    /// Whether personal data may leave.
    pub export: Export,
    /// Conditions required before personal data leaves.
    pub requires: Vec<Condition>,
    /// Default action per class, indexed by [`crate::Class::index`].
    pub actions: [ActionKind; CLASS_COUNT],
}

/// A jurisdiction.
#[derive(Debug)]
pub struct Jurisdiction {
    /// Its code.
    pub code: JurisdictionCode,
    /// Display name.
    pub name: String,
    /// Law, if named.
    pub law: Option<String>,
    /// Index into the set's levels.
    pub level: usize,
    /// Conditions required before personal data leaves (the level's unless overridden).
    pub requires: Vec<Condition>,
    /// Head-count thresholds, smallest first.
    pub subject_thresholds: Vec<SubjectThreshold>,
}

/// Past `subjects` distinct data subjects sent to one destination jurisdiction in a calendar
/// year, further subjects need `requires`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectThreshold {
    /// The head-count.
    pub subjects: u64,
    /// The condition needed past it.
    pub requires: Condition,
    /// Where it comes from.
    pub source: Option<String>,
}

/// What a rule does.
#[derive(Debug)]
pub enum Effect {
    /// An action on matching fields.
    Action(Action),
    /// Block the record, with a reason.
    Block(String),
    /// Extra conditions.
    Require(Vec<Condition>),
}

/// A validated rule.
#[derive(Debug)]
pub struct Rule {
    /// Its id.
    pub id: Arc<str>,
    /// Jurisdictions whose data it governs (sorted).
    pub from: Vec<JId>,
    /// Destinations; all when `None`.
    pub to: Option<Vec<JId>>,
    /// Destinations excluded.
    pub except_to: Vec<JId>,
    /// Object kinds; all when `None`.
    pub objects: Option<Vec<ObjectKind>>,
    /// Purposes; all when `None`.
    pub purposes: Option<Vec<String>>,
    /// Direct, onward or any transfer.
    pub transfer: TransferKind,
    /// Field paths; all when `None`.
    pub fields: Option<Vec<FieldPath>>,
    /// Class patterns; all when `None`.
    pub classes: Option<Vec<ClassPattern>>,
    /// What it does.
    pub effect: Effect,
}

impl Rule {
    /// Whether the rule governs a transfer of `from`'s data to `to`.
    pub(crate) fn applies(
        &self,
        from: JId,
        to: JId,
        kind: &ObjectKind,
        purpose: Option<&str>,
        onward: bool,
    ) -> bool {
        self.from.binary_search(&from).is_ok()
            && self.to.as_ref().is_none_or(|t| t.contains(&to))
            && !self.except_to.contains(&to)
            && self.objects.as_ref().is_none_or(|o| o.contains(kind))
            && self
                .purposes
                .as_ref()
                .is_none_or(|p| purpose.is_some_and(|purpose| p.iter().any(|x| x == purpose)))
            && match self.transfer {
                TransferKind::Any => true,
                TransferKind::Direct => !onward,
                TransferKind::Onward => onward,
            }
    }
}

/// Built-in decisions that no YAML rule makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// Sensitive data never crosses a border.
    SensitiveNeverCrosses,
    /// Record ids and subject identities are checked like fields.
    MetadataIsData,
    /// Origin and destination are in the same jurisdiction.
    SameJurisdiction,
    /// Strong control: personal data may not leave.
    StrongControl,
    /// A condition the level or a rule requires is missing.
    MissingCondition,
    /// No legal basis for the transfer.
    NoLegalBasis,
    /// The record names a jurisdiction the policy does not know.
    UnknownJurisdiction,
}

impl Builtin {
    /// The id shown in decisions.
    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::SensitiveNeverCrosses => "builtin:sensitive-never-crosses",
            Builtin::MetadataIsData => "builtin:metadata-is-data",
            Builtin::SameJurisdiction => "builtin:same-jurisdiction",
            Builtin::StrongControl => "builtin:strong-control",
            Builtin::MissingCondition => "builtin:missing-condition",
            Builtin::NoLegalBasis => "builtin:no-legal-basis",
            Builtin::UnknownJurisdiction => "builtin:unknown-jurisdiction",
        }
    }
}

/// What chose a decision: a rule, a jurisdiction's level default, or a built-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleRef {
    /// A YAML rule, by index.
    Rule(u32),
    /// The level default of a jurisdiction.
    Level(JId),
    /// A built-in.
    Builtin(Builtin),
}

/// A validated policy set.
#[derive(Debug)]
pub struct PolicySet {
    pub(crate) levels: Vec<Level>,
    pub(crate) jurisdictions: Vec<Jurisdiction>,
    pub(crate) jurisdiction_index: FxHashMap<String, JId>,
    pub(crate) groups: BTreeMap<String, Vec<JId>>,
    pub(crate) regions: BTreeMap<RegionId, JId>,
    pub(crate) common_classification: Vec<(FieldPath, crate::Class)>,
    pub(crate) classification: FxHashMap<ObjectKind, Vec<(FieldPath, crate::Class)>>,
    pub(crate) masking: Vec<MaskSpec>,
    pub(crate) default_scope: Arc<str>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) tests: Vec<PolicyTest>,
    pub(crate) version: String,
    /// `level:<level>:<code>` per jurisdiction, so decisions name level defaults without
    /// formatting.
    pub(crate) level_refs: Vec<String>,
}

impl PolicySet {
    /// Content hash of the normalized policy set (tests excluded); every decision carries it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The join scope of tokens when a rule names none; also the scope of metadata tokens
    /// (subject ids), so a data subject's token can be recomputed from their identity.
    pub fn default_scope(&self) -> &str {
        &self.default_scope
    }

    /// Region ids, sorted.
    pub fn region_ids(&self) -> impl Iterator<Item = &RegionId> {
        self.regions.keys()
    }

    /// The jurisdiction of a region.
    pub fn region(&self, id: &str) -> Option<&Jurisdiction> {
        RegionId::new(id)
            .and_then(|r| self.regions.get(&r))
            .map(|&j| &self.jurisdictions[usize::from(j)])
    }

    /// Index of a jurisdiction by code.
    pub fn jurisdiction_id(&self, code: &str) -> Option<JId> {
        self.jurisdiction_index.get(code).copied()
    }

    /// A jurisdiction by index.
    pub fn jurisdiction(&self, id: JId) -> &Jurisdiction {
        &self.jurisdictions[usize::from(id)]
    }

    /// All jurisdictions.
    pub fn jurisdictions(&self) -> &[Jurisdiction] {
        &self.jurisdictions
    }

    /// A level by index.
    pub fn level(&self, index: usize) -> &Level {
        &self.levels[index]
    }

    /// The level of a jurisdiction.
    pub fn level_of(&self, id: JId) -> &Level {
        self.level(self.jurisdiction(id).level)
    }

    /// Groups of jurisdictions by name.
    pub fn groups(&self) -> &BTreeMap<String, Vec<JId>> {
        &self.groups
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The policy tests shipped with the set.
    pub fn tests(&self) -> &[PolicyTest] {
        &self.tests
    }

    /// The name of what chose a decision.
    pub fn rule_name(&self, r: RuleRef) -> &str {
        match r {
            RuleRef::Rule(i) => &self.rules[i as usize].id,
            RuleRef::Level(j) => &self.level_refs[usize::from(j)],
            RuleRef::Builtin(b) => b.as_str(),
        }
    }

    /// Object kinds that have a classification of their own, sorted.
    pub fn classified_kinds(&self) -> Vec<&ObjectKind> {
        let mut kinds: Vec<_> = self.classification.keys().collect();
        kinds.sort();
        kinds
    }
}
