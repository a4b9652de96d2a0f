//! Compiled plans: for one route and object kind, what happens to each field.
//!
//! A [`Planner`] is made once per route (origin region → destination region, purpose, legal
//! basis, conditions in place). It compiles a [`Plan`] per object kind and provenance chain on
//! first use and caches it; evaluating a record then walks the record and a trie of field
//! nodes, with no YAML, rule matching or string-keyed lookups of policy data.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock, RwLock};

use dss_core::{FieldPath, JurisdictionCode, LegalBasis, ObjectKind, RegionId, Segment};
use rustc_hash::FxHashMap;

use crate::action::{Action, ActionKind, Condition, Export};
use crate::by_name::classify_name;
use crate::class::{Class, ClassPattern};
use crate::name::FieldName;
use crate::scan::Context;
use crate::set::{Builtin, Effect, JId, PolicySet, RuleRef};
use crate::spec::MaskSpec;

/// The transfer a planner decides for.
#[derive(Clone, Debug)]
pub struct RouteSpec {
    /// Origin region.
    pub from: RegionId,
    /// Destination region.
    pub to: RegionId,
    /// Destination tenant (replaces the record's tenant in what crosses).
    pub to_tenant: Option<String>,
    /// Purpose of processing.
    pub purpose: Option<String>,
    /// Legal basis the transfer relies on (a record's subject may carry its own).
    pub legal_basis: Option<LegalBasis>,
    /// Conditions in place for this route (`standard_contract`, `regulator_filing`, ...).
    /// Consent is checked per record.
    pub conditions: Vec<Condition>,
}

/// Why a route cannot be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// A region the policy set does not define.
    #[error("unknown region {region:?} (expected one of: {valid})")]
    UnknownRegion {
        /// The region asked for.
        region: String,
        /// The regions the policy defines.
        valid: String,
    },
}

/// One field of a plan.
#[derive(Clone, Debug)]
pub struct FieldPlan {
    /// The field path pattern (`addresses[*].email`).
    pub path: FieldName,
    /// Its class.
    pub class: Class,
    /// What happens to it.
    pub action: Action,
    /// What chose the action.
    pub rule: RuleRef,
}

/// A reason to block whole records on this route.
#[derive(Clone, Debug)]
pub struct RecordBlock {
    /// Why.
    pub reason: String,
    /// What says so.
    pub rule: RuleRef,
    /// Applies only when data of these classes is present; any personal data when `None`.
    pub classes: Option<Vec<ClassPattern>>,
}

/// A condition that must hold when personal data crosses.
#[derive(Clone, Debug)]
pub struct Requirement {
    /// The condition.
    pub condition: Condition,
    /// The jurisdiction whose level or rule requires it.
    pub jurisdiction: JId,
    /// What requires it.
    pub rule: RuleRef,
}

#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) children: Vec<(Box<str>, u32)>,
    /// `children` by key, for nodes with many children (built after the trie).
    pub(crate) index: FxHashMap<Box<str>, u32>,
    pub(crate) any: Option<u32>,
    pub(crate) leaf: Option<u32>,
    pub(crate) path: FieldName,
}

/// The compiled plan of one route, object kind and provenance chain.
#[derive(Debug)]
pub struct Plan {
    /// The object kind.
    pub kind: ObjectKind,
    /// Jurisdictions whose rules govern (origin and provenance, minus the destination).
    pub governing: Vec<JId>,
    /// Origin and destination are in the same jurisdiction: records pass untouched.
    pub untouched: bool,
    /// Classified fields (and fields rules name).
    pub fields: Vec<FieldPlan>,
    /// Fields not in `fields`.
    pub unclassified: FieldPlan,
    /// What happens to personal data found by scanning, per class.
    pub detected: Vec<FieldPlan>,
    /// What happens to an unclassified field whose name names a class
    /// ([`crate::by_name`]), per class: the class's action, never less restrictive than
    /// `unclassified`'s.
    pub named: Vec<FieldPlan>,
    /// How the scanner reads the strings of each field of `fields` (by index).
    pub(crate) contexts: Vec<Context>,
    /// Record-level blocks.
    pub blocks: Vec<RecordBlock>,
    /// Conditions required when personal data crosses.
    pub requires: Vec<Requirement>,
    /// Scope of metadata tokens (record ids that hold personal data, subject ids).
    pub metadata_scope: Arc<str>,
    /// The paths that name the record id and the subject id in decisions.
    pub(crate) meta_paths: [FieldName; 2],
    pub(crate) nodes: Vec<Node>,
}

impl Plan {
    pub(crate) fn child(&self, node: u32, key: &str) -> Option<u32> {
        let n = &self.nodes[node as usize];
        if n.index.is_empty() {
            n.children
                .iter()
                .find(|(k, _)| &**k == key)
                .map(|&(_, c)| c)
        } else {
            n.index.get(key).copied()
        }
    }
}

/// Object kind and provenance chain: what a plan is compiled for, beyond the route.
type PlanKey = (ObjectKind, Vec<JId>);

/// Plans for one route, compiled on first use and cached.
pub struct Planner {
    set: Arc<PolicySet>,
    route: RouteSpec,
    origin: JId,
    dest: JId,
    direct: Vec<OnceLock<Arc<Plan>>>,
    others: RwLock<FxHashMap<PlanKey, Arc<Plan>>>,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Planner({} -> {})", self.route.from, self.route.to)
    }
}

impl Planner {
    /// A planner for `route` under `set`.
    pub fn new(set: Arc<PolicySet>, route: RouteSpec) -> Result<Self, RouteError> {
        let find = |r: &RegionId| {
            set.regions
                .get(r)
                .copied()
                .ok_or_else(|| RouteError::UnknownRegion {
                    region: r.to_string(),
                    valid: set
                        .regions
                        .keys()
                        .map(RegionId::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        };
        let origin = find(&route.from)?;
        let dest = find(&route.to)?;
        Ok(Self {
            direct: (0..ObjectKind::BUILT_IN.len())
                .map(|_| OnceLock::new())
                .collect(),
            others: RwLock::new(FxHashMap::default()),
            set,
            route,
            origin,
            dest,
        })
    }

    /// The policy set.
    pub fn set(&self) -> &Arc<PolicySet> {
        &self.set
    }

    /// The route.
    pub fn route(&self) -> &RouteSpec {
        &self.route
    }

    /// Origin jurisdiction.
    pub fn origin(&self) -> JId {
        self.origin
    }

    /// Destination jurisdiction.
    pub fn destination(&self) -> JId {
        self.dest
    }

    /// Maps provenance codes to jurisdiction ids; the first unknown code is the error.
    pub fn provenance_ids<'c>(
        &self,
        codes: &'c [JurisdictionCode],
        out: &mut Vec<JId>,
    ) -> Result<(), &'c JurisdictionCode> {
        out.clear();
        for c in codes {
            out.push(self.set.jurisdiction_id(c.as_str()).ok_or(c)?);
        }
        Ok(())
    }

    /// The plan for `kind` and a record that passed through `provenance`.
    pub fn plan(&self, kind: &ObjectKind, provenance: &[JId]) -> Arc<Plan> {
        self.plan_ref(kind, provenance).into_owned()
    }

    /// [`Planner::plan`], borrowed where it can be: the plans of built-in kinds without
    /// provenance (most records) need no reference count per record.
    pub(crate) fn plan_ref(&self, kind: &ObjectKind, provenance: &[JId]) -> Cow<'_, Arc<Plan>> {
        if provenance.is_empty()
            && let Some(i) = kind.built_in_index()
        {
            return Cow::Borrowed(
                self.direct[i].get_or_init(|| Arc::new(self.compile(kind, provenance))),
            );
        }
        let key = (kind.clone(), provenance.to_vec());
        if let Some(plan) = self.others.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Cow::Owned(plan);
        }
        let plan = Arc::new(self.compile(kind, provenance));
        if let Ok(mut m) = self.others.write() {
            m.insert(key, plan.clone());
        }
        Cow::Owned(plan)
    }

    fn compile(&self, kind: &ObjectKind, provenance: &[JId]) -> Plan {
        let set = &*self.set;
        let governing: Vec<JId> = provenance
            .iter()
            .copied()
            .chain([self.origin])
            .filter(|&j| j != self.dest)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let untouched = governing.is_empty();
        let purpose = self.route.purpose.as_deref();
        let ctx = Ctx {
            set,
            dest: self.dest,
            kind,
            purpose,
            provenance,
            origin: self.origin,
        };

        // Field paths: the kind's classification over the common one, plus paths rules name.
        let mut paths: Vec<(FieldPath, Class)> =
            set.classification.get(kind).cloned().unwrap_or_default();
        for (p, c) in &set.common_classification {
            if !paths.iter().any(|(q, _)| q == p) {
                paths.push((p.clone(), *c));
            }
        }
        for &j in &governing {
            for rule in &set.rules {
                if let (Some(fields), true) = (
                    &rule.fields,
                    rule.applies(j, self.dest, kind, purpose, ctx.onward(j)),
                ) {
                    for f in fields {
                        if !paths.iter().any(|(q, _)| q == f) {
                            paths.push((f.clone(), Class::Unclassified));
                        }
                    }
                }
            }
        }
        paths.sort_by(|a, b| a.0.cmp(&b.0));

        let fields: Vec<FieldPlan> = paths
            .iter()
            .map(|(p, c)| ctx.combine(&governing, Some(p), *c, FieldName::interned(&p.to_string())))
            .collect();
        let unclassified = ctx.combine(
            &governing,
            None,
            Class::Unclassified,
            FieldName::interned("*"),
        );
        let detected: Vec<FieldPlan> = Class::ALL
            .iter()
            .map(|&c| ctx.combine(&governing, None, c, FieldName::interned("")))
            .collect();
        let named = detected
            .iter()
            .map(|d| {
                let mut fp = d.clone();
                if fp.action.kind < unclassified.action.kind {
                    fp.action = unclassified.action.clone();
                    fp.rule = unclassified.rule;
                }
                fp
            })
            .collect();
        let contexts = paths.iter().map(|(p, c)| field_context(p, *c)).collect();

        let mut blocks = Vec::new();
        let mut requires: Vec<Requirement> = Vec::new();
        for &j in &governing {
            let jur = set.jurisdiction(j);
            if set.level_of(j).export == Export::Prohibited {
                blocks.push(RecordBlock {
                    reason: format!(
                        "export of personal data from {} is prohibited (strong control)",
                        jur.code
                    ),
                    rule: RuleRef::Builtin(Builtin::StrongControl),
                    classes: None,
                });
            }
            for &condition in &jur.requires {
                requires.push(Requirement {
                    condition,
                    jurisdiction: j,
                    rule: RuleRef::Level(j),
                });
            }
            for (i, rule) in set.rules.iter().enumerate() {
                if !rule.applies(j, self.dest, kind, purpose, ctx.onward(j)) {
                    continue;
                }
                match &rule.effect {
                    Effect::Block(reason) => blocks.push(RecordBlock {
                        reason: reason.clone(),
                        rule: RuleRef::Rule(i as u32),
                        classes: rule.classes.clone(),
                    }),
                    Effect::Require(conds) => {
                        requires.extend(conds.iter().map(|&condition| Requirement {
                            condition,
                            jurisdiction: j,
                            rule: RuleRef::Rule(i as u32),
                        }))
                    }
                    Effect::Action(_) => {}
                }
            }
        }
        requires.dedup_by(|a, b| a.condition == b.condition && a.jurisdiction == b.jurisdiction);

        let nodes = build_trie(&paths);
        Plan {
            kind: kind.clone(),
            governing,
            untouched,
            fields,
            unclassified,
            detected,
            named,
            contexts,
            blocks,
            requires,
            metadata_scope: set.default_scope.clone(),
            meta_paths: [
                FieldName::interned("$id"),
                FieldName::interned("$subject.id"),
            ],
            nodes,
        }
    }
}

struct Ctx<'a> {
    set: &'a PolicySet,
    dest: JId,
    kind: &'a ObjectKind,
    purpose: Option<&'a str>,
    provenance: &'a [JId],
    origin: JId,
}

impl Ctx<'_> {
    /// Whether this is an onward transfer of `j`'s data: the record passed through `j`
    /// before the region it leaves now. For the origin's own rules a transfer is direct,
    /// whatever the record went through before it arrived there.
    fn onward(&self, j: JId) -> bool {
        j != self.origin && self.provenance.contains(&j)
    }

    /// The action of one jurisdiction for a field (or, with `path` `None`, for any field of
    /// `class`): its first matching rule, else its level default.
    fn resolve(&self, j: JId, path: Option<&FieldPath>, class: Class) -> (Action, RuleRef) {
        let set = self.set;
        let base = &set.masking[class.index()];
        for (i, rule) in set.rules.iter().enumerate() {
            let Effect::Action(action) = &rule.effect else {
                continue;
            };
            if !rule.applies(j, self.dest, self.kind, self.purpose, self.onward(j)) {
                continue;
            }
            let fields_ok = match (&rule.fields, path) {
                (None, _) => true,
                (Some(fs), Some(p)) => fs.contains(p),
                (Some(_), None) => false,
            };
            let classes_ok = rule
                .classes
                .as_ref()
                .is_none_or(|cs| cs.iter().any(|c| c.matches(class)));
            if fields_ok && classes_ok {
                let mut action = action.clone();
                action.mask = merge_mask(&action.mask, base);
                return (action, RuleRef::Rule(i as u32));
            }
        }
        let mut action = Action::new(
            set.level_of(j).actions[class.index()],
            set.default_scope.clone(),
        );
        action.mask = base.clone();
        (action, RuleRef::Level(j))
    }

    /// The most restrictive action over the governing jurisdictions.
    fn combine(
        &self,
        governing: &[JId],
        path: Option<&FieldPath>,
        class: Class,
        display: FieldName,
    ) -> FieldPlan {
        let mut best: Option<(Action, RuleRef)> = None;
        for &j in governing {
            let candidate = self.resolve(j, path, class);
            if best.as_ref().is_none_or(|(a, _)| candidate.0.kind > a.kind) {
                best = Some(candidate);
            }
        }
        let (mut action, mut rule) = best.unwrap_or_else(|| {
            (
                Action::new(ActionKind::Pass, self.set.default_scope.clone()),
                RuleRef::Builtin(Builtin::SameJurisdiction),
            )
        });
        if class.is_sensitive() && action.kind < ActionKind::Drop && !governing.is_empty() {
            action.kind = ActionKind::Drop;
            rule = RuleRef::Builtin(Builtin::SensitiveNeverCrosses);
        }
        FieldPlan {
            path: display,
            class,
            action,
            rule,
        }
    }
}

/// How the scanner reads a declared field: `identifier` fields hold business numbers; other
/// fields do when their name says so (`order_no`, `lines[*].sku`). A `business` field with
/// another name (`notes`, `department`, `company`) holds text, where a number with no word
/// before it is personal (fail closed).
fn field_context(path: &FieldPath, class: Class) -> Context {
    let last = path.segments().iter().rev().find_map(|s| match s {
        Segment::Key(k) => Some(k.as_str()),
        _ => None,
    });
    let hint = last.map(classify_name).unwrap_or_default();
    Context {
        business_numbers: match class {
            Class::Identifier => true,
            _ => hint.business_numbers,
        },
        ..Context::default()
    }
}

fn merge_mask(rule: &MaskSpec, base: &MaskSpec) -> MaskSpec {
    MaskSpec {
        keep_first: rule.keep_first.or(base.keep_first),
        keep_last: rule.keep_last.or(base.keep_last),
        keep_country_code: rule.keep_country_code.or(base.keep_country_code),
        keep_domain: rule.keep_domain.or(base.keep_domain),
        style: rule.style.clone().or_else(|| base.style.clone()),
    }
}

fn build_trie(paths: &[(FieldPath, Class)]) -> Vec<Node> {
    let mut nodes = vec![Node {
        path: FieldName::interned(""),
        ..Node::default()
    }];
    for (leaf, (path, _)) in paths.iter().enumerate() {
        let mut at = 0usize;
        let mut shown = String::new();
        for seg in path.segments() {
            let next = match seg {
                Segment::Key(k) => {
                    if !shown.is_empty() {
                        shown.push('.');
                    }
                    shown.push_str(k);
                    nodes[at]
                        .children
                        .iter()
                        .find(|(c, _)| &**c == k.as_str())
                        .map(|&(_, n)| n as usize)
                }
                Segment::AnyIndex | Segment::Index(_) => {
                    shown.push_str("[*]");
                    nodes[at].any.map(|n| n as usize)
                }
            };
            at = match next {
                Some(n) => n,
                None => {
                    let n = nodes.len();
                    nodes.push(Node {
                        path: FieldName::interned(&shown),
                        ..Node::default()
                    });
                    match seg {
                        Segment::Key(k) => nodes[at].children.push((k.as_str().into(), n as u32)),
                        _ => nodes[at].any = Some(n as u32),
                    }
                    n
                }
            };
        }
        nodes[at].leaf = Some(leaf as u32);
    }
    for node in &mut nodes {
        if node.children.len() > 8 {
            node.index = node.children.iter().cloned().collect();
        }
    }
    nodes
}
