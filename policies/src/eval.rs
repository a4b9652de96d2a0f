//! Evaluating records against a plan: the decision, the per-field actions and the record
//! exactly as it would cross.

use std::fmt;
use std::sync::Arc;

use dss_core::value::Text;
use dss_core::{ConsentStatus, LegalBasis, Map, Record, Value};
use rustc_hash::FxHashMap;

use crate::action::{Action, ActionKind, Condition};
use crate::by_name::classify_name;
use crate::class::Class;
use crate::mask::{generalize_text, mask_into};
use crate::name::FieldName;
use crate::plan::{FieldPlan, Plan, Planner};
use crate::scan::{Context, Finding, Scanner};
use crate::set::{Builtin, JId, RuleRef};
use crate::token::Keyring;

/// Transfer or block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The (transformed) record may cross.
    Transfer,
    /// The record stays in its origin region.
    Block,
}

impl Decision {
    /// `transfer` or `block`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Transfer => "transfer",
            Decision::Block => "block",
        }
    }
}

/// What happened to one field (or to personal data found in it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDecision {
    /// Field path pattern (`addresses[*].email`), `$id` or `$subject.id` for metadata.
    pub path: FieldName,
    /// Class of the field, or of the data found in it when `detected`.
    pub class: Class,
    /// The action taken.
    pub action: ActionKind,
    /// What chose it.
    pub rule: RuleRef,
    /// The class was found by scanning the value (or the key), not declared.
    pub detected: bool,
    /// The class was read from the field's name ([`crate::by_name`]), not declared.
    pub by_name: bool,
}

/// What reports show instead of an object key that holds personal data
/// (`lines[*].<personal key>`): such a key is never printed.
pub const PERSONAL_KEY: &str = "<personal key>";

impl FieldDecision {
    /// Whether the decision is worth reporting: the policy acted on the field, or it holds
    /// personal data. A business field that passed unchanged is implied by the policy
    /// version; reports and logs leave it out.
    pub fn is_notable(&self) -> bool {
        notable(self.class, self.action, self.detected)
    }
}

/// Whether a decision of `class`, `action` (and `detected`) is notable: see
/// [`FieldDecision::is_notable`]. The walk asks before it makes a decision.
fn notable(class: Class, action: ActionKind, detected: bool) -> bool {
    action != ActionKind::Pass || detected || class.is_personal()
}

/// Why a record was blocked. Never holds a personal value: field paths, classes, codes and
/// condition names only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockReason {
    /// What blocked it.
    pub rule: RuleRef,
    /// The field that caused it, if one did.
    pub field: Option<Arc<str>>,
    /// Human-readable reason.
    pub message: String,
}

/// A token and the original value behind it, for the origin region's vault.
#[derive(Clone, PartialEq, Eq)]
pub struct VaultWrite {
    /// The token.
    pub token: String,
    /// The original value (personal data: `Debug` redacts it).
    pub value: String,
}

impl fmt::Debug for VaultWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultWrite({}, <redacted>)", self.token)
    }
}

/// The result of evaluating one record. Reused across records to avoid allocation.
#[derive(Debug)]
pub struct Outcome {
    /// Transfer or block.
    pub decision: Decision,
    /// Per-field decisions, in record order: the notable ones
    /// ([`FieldDecision::is_notable`]), or all of them with
    /// [`Evaluator::report_all_fields`].
    pub fields: Vec<FieldDecision>,
    /// Why it was blocked (empty on transfer).
    pub reasons: Vec<BlockReason>,
    /// Tokens made, with their originals (only when the evaluator collects them).
    pub vault: Vec<VaultWrite>,
    /// The data subject's token, when the record has a subject id.
    pub subject_token: Option<String>,
}

impl Default for Outcome {
    fn default() -> Self {
        Self {
            decision: Decision::Block,
            fields: Vec::new(),
            reasons: Vec::new(),
            vault: Vec::new(),
            subject_token: None,
        }
    }
}

impl Outcome {
    /// Turns the decision into a block for a reason found outside the record (a head-count
    /// threshold reached): no field crosses and no token is kept.
    pub fn block_with(&mut self, rule: RuleRef, message: String) {
        self.decision = Decision::Block;
        self.vault.clear();
        self.reasons.push(BlockReason {
            rule,
            field: None,
            message,
        });
    }

    fn reset(&mut self) {
        self.decision = Decision::Block;
        self.fields.clear();
        self.reasons.clear();
        self.vault.clear();
        self.subject_token = None;
    }
}

/// Evaluates records of one route. Not shared between threads: make one per worker.
pub struct Evaluator<'a> {
    planner: &'a Planner,
    keys: &'a Keyring,
    scanner: &'a Scanner,
    now: Option<String>,
    collect_vault: bool,
    all_fields: bool,
    findings: Vec<Finding>,
    provenance: Vec<JId>,
    buf: String,
    seen: Vec<bool>,
    shape: Shape,
    names: Names,
    /// The last outcome's subject token, its buffer kept for the next one.
    spare_token: String,
}

/// What an object key the plan does not name says: read once per distinct key.
#[derive(Clone, Copy, Default)]
struct KeyInfo {
    /// The class its name names ([`crate::by_name`]).
    named: Option<Class>,
    /// How the scanner reads its value.
    context: Context,
    /// The key itself may hold personal data ([`Scanner::may_find`]): scanned each time.
    suspect: bool,
}

impl KeyInfo {
    fn of(key: &str) -> Self {
        let hint = classify_name(key);
        Self {
            named: hint.class,
            context: Context {
                business_numbers: hint.business_numbers,
                ..Context::default()
            },
            suspect: Scanner::may_find(key),
        }
    }
}

/// [`KeyInfo`] per distinct key, so that names are read once, not per record. Keys that may
/// hold personal data are not kept (they are read each time), and the cache starts over
/// when it is full.
#[derive(Default)]
struct Names {
    map: FxHashMap<Box<str>, KeyInfo>,
}

impl Names {
    const MAX: usize = 4096;

    fn get(&mut self, key: &str) -> KeyInfo {
        if let Some(info) = self.map.get(key) {
            return *info;
        }
        let info = KeyInfo::of(key);
        if !info.suspect {
            if self.map.len() >= Self::MAX {
                self.map.clear();
            }
            self.map.insert(key.into(), info);
        }
        info
    }
}

/// What becomes of an object entry.
#[derive(Clone, Copy)]
enum Fate {
    Keep,
    Remove,
    /// Kept under a new key (a token or hash of a key that holds personal data), which the
    /// decider wrote to the `new_key` it was handed.
    Rename,
}

/// Keeps, removes or renames the entries of `map` as `f` decides; a new key that another
/// entry already has is dropped (keys stay unique).
#[inline]
fn retain_entries(map: &mut Map, mut f: impl FnMut(&str, &mut Value, &mut String) -> Fate) {
    let mut renames: Vec<(usize, String)> = Vec::new();
    let mut new_key = String::new();
    let mut kept = 0;
    map.retain_mut(|key, value| match f(key, value, &mut new_key) {
        Fate::Keep => {
            kept += 1;
            true
        }
        Fate::Remove => false,
        Fate::Rename => {
            renames.push((kept, std::mem::take(&mut new_key)));
            kept += 1;
            true
        }
    });
    if renames.is_empty() {
        return;
    }
    let old = std::mem::take(map);
    let mut renames = renames.into_iter().peekable();
    for (i, (key, value)) in old.iter().enumerate() {
        let key = match renames.next_if(|(at, _)| *at == i) {
            Some((_, new)) => Text::from(new),
            None => Text::from(key),
        };
        if map.get(&key).is_none() {
            map.insert(key, value.clone());
        }
    }
}

/// The top-level keys of the last record and what each led to: records of one
/// source mostly share their keys and key order, so comparing a key with the one at the same
/// position last time usually replaces a hash lookup (and also remembers keys the plan does
/// not know).
#[derive(Default)]
struct Shape {
    /// The plan the steps belong to (its address; plans live as long as the planner).
    plan: usize,
    keys: Vec<(Box<str>, Step)>,
}

/// What a field leads to: a field plan to apply, a trie node to walk into, or nothing the
/// plan names.
#[derive(Clone, Copy)]
enum Step {
    Apply(u32),
    Visit(u32),
    Unclassified(KeyInfo),
}

impl Step {
    fn of(plan: &Plan, node: Option<u32>) -> Self {
        let Some(node) = node else {
            return Step::Unclassified(KeyInfo::default());
        };
        let n = &plan.nodes[node as usize];
        match n.leaf {
            // A leaf applies its action to the whole value, unless it passes and has children
            // with plans of their own.
            Some(leaf)
                if (n.children.is_empty() && n.any.is_none())
                    || plan.fields[leaf as usize].action.kind != ActionKind::Pass =>
            {
                Step::Apply(leaf)
            }
            _ => Step::Visit(node),
        }
    }
}

/// `a == b` for field names, without a call to `memcmp` for the short ones (most): two
/// overlapping loads cover 4 to 16 bytes. Equal to `==` for every input (tested).
#[inline]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
    match n {
        0..4 => a == b,
        4..8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

impl Shape {
    #[inline]
    fn step(&mut self, plan: &Plan, at: usize, key: &str, names: &mut Names) -> Step {
        if let Some((k, step)) = self.keys.get(at)
            && same_key(k.as_bytes(), key.as_bytes())
        {
            return *step;
        }
        self.learn(plan, at, key, names)
    }

    /// A key not at its position of last time: what it leads to, remembered.
    #[cold]
    #[inline(never)]
    fn learn(&mut self, plan: &Plan, at: usize, key: &str, names: &mut Names) -> Step {
        let step = match Step::of(plan, plan.child(0, key)) {
            Step::Unclassified(_) => Step::Unclassified(names.get(key)),
            step => step,
        };
        if at < self.keys.len() {
            self.keys[at] = (key.into(), step);
        } else if at == self.keys.len() {
            self.keys.push((key.into(), step));
        }
        step
    }
}

impl<'a> Evaluator<'a> {
    /// An evaluator for `planner`'s route, making tokens with `keys`.
    pub fn new(planner: &'a Planner, keys: &'a Keyring, scanner: &'a Scanner) -> Self {
        Self {
            planner,
            keys,
            scanner,
            now: None,
            collect_vault: false,
            all_fields: false,
            findings: Vec::new(),
            provenance: Vec::new(),
            buf: String::new(),
            seen: Vec::new(),
            shape: Shape::default(),
            names: Names::default(),
            spare_token: String::new(),
        }
    }

    /// The current time (RFC 3339, UTC, `Z`), against which consent expiry is checked.
    /// Without it, a consent with an expiry date does not count (fail closed).
    pub fn with_now(mut self, now_rfc3339: String) -> Self {
        self.now = Some(now_rfc3339);
        self
    }

    /// Collect the originals behind tokens in [`Outcome::vault`] (pipelines do; dry runs
    /// need not).
    pub fn collect_vault(mut self, yes: bool) -> Self {
        self.collect_vault = yes;
        self
    }

    /// Report a decision for every field in [`Outcome::fields`], also for business fields
    /// that pass unchanged. By default only notable decisions
    /// ([`FieldDecision::is_notable`]) are reported: the others are implied by the policy
    /// version, and leaving them out saves most of the bookkeeping per record.
    pub fn report_all_fields(mut self, yes: bool) -> Self {
        self.all_fields = yes;
        self
    }

    /// Evaluates `record` in place: on transfer it becomes the record exactly as it would
    /// cross; on block its content is unspecified and must not be sent.
    pub fn evaluate(&mut self, record: &mut Record, out: &mut Outcome) {
        if let Some(token) = out.subject_token.take() {
            self.spare_token = token;
        }
        out.reset();
        let planner = self.planner;
        if let Err(code) = planner.provenance_ids(&record.provenance, &mut self.provenance) {
            // Named by its position, not its text: an unknown code may be anything typed there.
            let at = record
                .provenance
                .iter()
                .position(|c| *c == *code)
                .unwrap_or(0);
            out.reasons.push(BlockReason {
                rule: RuleRef::Builtin(Builtin::UnknownJurisdiction),
                field: None,
                message: format!(
                    "provenance[{at}] names a jurisdiction the policy set does not know"
                ),
            });
            return;
        }
        let plan = planner.plan_ref(&record.object, &self.provenance);
        if !plan.untouched {
            self.seen.clear();
            self.seen.resize(plan.fields.len(), false);
            let plan_at = &raw const *plan as usize;
            if self.shape.plan != plan_at {
                self.shape.plan = plan_at;
                self.shape.keys.clear();
            }
            let mut walk = Walk {
                seen: &mut self.seen,
                shape: &mut self.shape,
                names: &mut self.names,
                spare_token: &mut self.spare_token,
                plan: &plan,
                keys: self.keys,
                scanner: self.scanner,
                out,
                findings: &mut self.findings,
                buf: &mut self.buf,
                collect_vault: self.collect_vault,
                all_fields: self.all_fields,
                present: 0,
                crosses: false,
            };
            walk.metadata(record);
            walk.walk_root(&mut record.fields);
            let (present, crosses) = (walk.present, walk.crosses);
            self.record_checks(&plan, record, present, crosses, out);
        }
        if out.reasons.is_empty() {
            out.decision = Decision::Transfer;
            let set = planner.set();
            let origin = &set.jurisdiction(planner.origin()).code;
            if record.provenance.last() != Some(origin) {
                record.provenance.push(origin.clone());
            }
            record.region = planner.route().to.clone();
            if let Some(t) = &planner.route().to_tenant {
                record.tenant = t.as_str().into();
            }
        }
    }

    fn record_checks(
        &self,
        plan: &Plan,
        record: &Record,
        present: u32,
        crosses: bool,
        out: &mut Outcome,
    ) {
        if present != 0 {
            for b in &plan.blocks {
                let hit = match &b.classes {
                    None => present & personal_mask() != 0,
                    Some(patterns) => Class::ALL.iter().any(|&c| {
                        present & (1 << c.index()) != 0 && patterns.iter().any(|p| p.matches(c))
                    }),
                };
                if hit {
                    out.reasons.push(BlockReason {
                        rule: b.rule,
                        field: None,
                        message: b.reason.clone(),
                    });
                }
            }
        }
        if !crosses {
            return;
        }
        let route = self.planner.route();
        let subject = record.subject.as_ref();
        let basis = route
            .legal_basis
            .or_else(|| subject.and_then(|s| s.legal_basis));
        let consent_ok = subject.is_some_and(|s| {
            s.consent == Some(ConsentStatus::Granted)
                && match (&s.consent_expires, &self.now) {
                    (None, _) => true,
                    // As instants: offsets and fractions make text order wrong.
                    (Some(exp), Some(now)) => dss_core::time::is_later(exp, now),
                    (Some(_), None) => false,
                }
        });
        match basis {
            None => out.reasons.push(BlockReason {
                rule: RuleRef::Builtin(Builtin::NoLegalBasis),
                field: None,
                message: "no legal basis for a transfer of personal data".into(),
            }),
            Some(LegalBasis::Consent) if !consent_ok => out.reasons.push(BlockReason {
                rule: RuleRef::Builtin(Builtin::NoLegalBasis),
                field: None,
                message: "the legal basis is consent but the data subject's consent is missing, refused or expired".into(),
            }),
            Some(_) => {}
        }
        let set = self.planner.set();
        for req in &plan.requires {
            let met = match req.condition {
                Condition::Consent => consent_ok,
                c => route.conditions.contains(&c),
            };
            if !met {
                let code = &set.jurisdiction(req.jurisdiction).code;
                let message = match req.condition {
                    Condition::Consent => format!(
                        "{code} requires the data subject's consent, which is missing, refused or expired"
                    ),
                    c => format!(
                        "{code} requires {c} for this transfer, and the route does not declare it"
                    ),
                };
                let rule = match req.rule {
                    RuleRef::Level(_) => RuleRef::Builtin(Builtin::MissingCondition),
                    r => r,
                };
                if !out.reasons.iter().any(|r| r.message == message) {
                    out.reasons.push(BlockReason {
                        rule,
                        field: None,
                        message,
                    });
                }
            }
        }
    }
}

fn personal_mask() -> u32 {
    Class::ALL
        .iter()
        .filter(|c| c.is_personal())
        .fold(0, |m, c| m | (1 << c.index()))
}

struct Walk<'w> {
    plan: &'w Plan,
    keys: &'w Keyring,
    scanner: &'w Scanner,
    out: &'w mut Outcome,
    findings: &'w mut Vec<Finding>,
    buf: &'w mut String,
    /// Which field plans already have a decision in this record.
    seen: &'w mut [bool],
    shape: &'w mut Shape,
    names: &'w mut Names,
    spare_token: &'w mut String,
    collect_vault: bool,
    all_fields: bool,
    /// Bit set of the personal classes present in the record (before any action).
    present: u32,
    /// Personal data crosses (in any form but dropped).
    crosses: bool,
}

/// The path of a field, made only when a decision or a finding needs it: most fields of a
/// record pass without one.
enum LazyPath<'k> {
    Plan(&'k FieldName),
    Made(FieldName),
    /// Key `key` under trie node `node`, not in the plan.
    Key(u32, &'k str),
    /// Key `key` of an object nested in the value at a path.
    Sub(FieldName, &'k str),
}

/// `parent.key`, or `key` at the top.
fn join(parent: &str, key: &str) -> FieldName {
    if parent.is_empty() {
        FieldName::from(key)
    } else {
        FieldName::from(format!("{parent}.{key}"))
    }
}

impl LazyPath<'_> {
    fn get(&mut self, plan: &Plan) -> &FieldName {
        match *self {
            LazyPath::Key(node, key) => {
                *self = LazyPath::Made(join(&plan.nodes[node as usize].path, key));
            }
            LazyPath::Sub(ref parent, key) => *self = LazyPath::Made(join(parent, key)),
            _ => {}
        }
        match self {
            LazyPath::Plan(path) => path,
            LazyPath::Made(path) => path,
            LazyPath::Key(..) | LazyPath::Sub(..) => unreachable!("made above"),
        }
    }

    /// The path reports show for this entry when its key holds personal data: the parent's
    /// path and [`PERSONAL_KEY`]. Only for `Key` and `Sub` paths (entries).
    fn with_personal_key(&self, plan: &Plan) -> FieldName {
        match self {
            LazyPath::Key(node, _) => join(&plan.nodes[*node as usize].path, PERSONAL_KEY),
            LazyPath::Sub(parent, _) => join(parent, PERSONAL_KEY),
            LazyPath::Plan(path) => join(path, PERSONAL_KEY),
            LazyPath::Made(path) => join(path, PERSONAL_KEY),
        }
    }
}

impl<'w> Walk<'w> {
    fn metadata(&mut self, record: &mut Record) {
        let plan = self.plan;
        // Metadata is data: an id may be an e-mail address or a phone number, alone or glued
        // to a prefix (`lead_…`). Scanned without context (fail closed); whatever is found in
        // it, the whole id is tokenized.
        self.findings.clear();
        self.scanner
            .scan_in(&record.id, crate::scan::Context::ID, self.findings);
        if let Some(f) = self.findings.first().copied() {
            self.present |= 1 << f.class.index();
            let detected = &plan.detected[f.class.index()];
            // The id is tokenized even when the record is blocked: reports and dead letters
            // name records by id, and this one is personal data.
            let token = self.token(&plan.metadata_scope, &record.id);
            record.id = token;
            if detected.action.kind == ActionKind::Block {
                self.block(
                    detected.rule,
                    "$id",
                    format!("the record id holds {}", f.class),
                );
            } else {
                self.crosses = true;
                self.decide_meta(0, f.class);
            }
        }
        if let Some(subject) = &mut record.subject
            && let Some(id) = &subject.id
        {
            self.present |= 1 << Class::Identifier.index();
            self.crosses = true;
            let token = self.token(&plan.metadata_scope, id);
            let mut kept = std::mem::take(self.spare_token);
            kept.clear();
            kept.push_str(&token);
            self.out.subject_token = Some(kept);
            subject.id = Some(token);
            self.decide_meta(1, Class::Identifier);
        }
    }

    /// A tokenized metadata field: `$id` (0) or `$subject.id` (1).
    fn decide_meta(&mut self, which: usize, class: Class) {
        self.out.fields.push(FieldDecision {
            path: self.plan.meta_paths[which].clone(),
            class,
            action: ActionKind::Tokenize,
            rule: RuleRef::Builtin(Builtin::MetadataIsData),
            detected: class != Class::Identifier,
            by_name: false,
        });
    }

    fn token(&mut self, scope: &str, value: &str) -> String {
        let mut token = String::with_capacity(32);
        self.keys.tokenize_into(scope, value, &mut token);
        if self.collect_vault {
            self.out.vault.push(VaultWrite {
                token: token.clone(),
                value: value.to_owned(),
            });
        }
        token
    }

    fn block(&mut self, rule: RuleRef, field: &str, message: String) {
        self.out.reasons.push(BlockReason {
            rule,
            field: Some(Arc::from(field)),
            message,
        });
    }

    /// Pushes a decision unless one of the same path, class and origin is there already
    /// (array elements and repeated findings decide once).
    /// Personal data of `class` found at `path`: counted as present, its decision recorded
    /// once; the route's plan for it.
    fn detected(&mut self, path: FieldName, class: Class) -> &'w FieldPlan {
        let plan: &'w Plan = self.plan;
        let fp = &plan.detected[class.index()];
        self.present |= 1 << class.index();
        self.decide_once(FieldDecision {
            path,
            class,
            action: fp.action.kind,
            rule: fp.rule,
            detected: true,
            by_name: false,
        });
        fp
    }

    fn decide_once(&mut self, d: FieldDecision) {
        if !self.out.fields.iter().any(|e| {
            e.path == d.path
                && e.class == d.class
                && e.detected == d.detected
                && e.by_name == d.by_name
        }) {
            self.out.fields.push(d);
        }
    }

    fn walk_root(&mut self, map: &mut Map) {
        let mut at = 0;
        retain_entries(map, |key, value, new_key| {
            let step = self.shape.step(self.plan, at, key, self.names);
            at += 1;
            match step {
                Step::Apply(leaf) => keep(self.apply(leaf as usize, value)),
                Step::Visit(node) => keep(self.visit(node, value)),
                Step::Unclassified(info) => {
                    self.entry(LazyPath::Key(0, key), key, info, value, new_key)
                }
            }
        });
    }

    fn walk_map(&mut self, node: u32, map: &mut Map) {
        retain_entries(map, |key, value, new_key| {
            match self.plan.child(node, key) {
                Some(child) => keep(self.visit(child, value)),
                None => {
                    let info = self.names.get(key);
                    self.entry(LazyPath::Key(node, key), key, info, value, new_key)
                }
            }
        });
    }

    /// Handles the value at a trie node; returns whether it stays.
    fn visit(&mut self, node: u32, value: &mut Value) -> bool {
        let plan = self.plan;
        if let Step::Apply(leaf) = Step::of(plan, Some(node)) {
            return self.apply(leaf as usize, value);
        }
        let n = &plan.nodes[node as usize];
        match (value, n.any) {
            (Value::Object(m), _) if !n.children.is_empty() => {
                self.walk_map(node, m);
                true
            }
            (Value::Array(items), Some(any)) => {
                items.retain_mut(|v| self.visit(any, v));
                true
            }
            (value, _) => match n.leaf {
                Some(leaf) => self.apply(leaf as usize, value),
                None => self.unclassified(LazyPath::Plan(&n.path), Context::default(), value),
            },
        }
    }

    /// An object entry the plan does not name: its key is scanned for personal data, then
    /// its name may name a class ([`crate::by_name`]); otherwise it is unclassified.
    fn entry(
        &mut self,
        mut path: LazyPath<'_>,
        key: &str,
        info: KeyInfo,
        value: &mut Value,
        new_key: &mut String,
    ) -> Fate {
        if info.suspect
            && let Some(fate) = self.personal_key(&path, key, value, true, new_key)
        {
            return fate;
        }
        keep(match info.named {
            Some(class) => self.named(class, &mut path, value),
            None => self.unclassified(path, info.context, value),
        })
    }

    /// Scans an object key; when it holds personal data, applies the route's action for what
    /// was found to the entry and returns its fate: pass keeps it (`None`: the value is
    /// handled as usual), tokenize and hash replace the key with its token (and, with
    /// `transform_value`, transform the value alike), block blocks the record, anything else
    /// removes the entry. Reports name the parent path and [`PERSONAL_KEY`], never the key.
    fn personal_key(
        &mut self,
        path: &LazyPath<'_>,
        key: &str,
        value: &mut Value,
        transform_value: bool,
        new_key: &mut String,
    ) -> Option<Fate> {
        let plan = self.plan;
        self.findings.clear();
        self.scanner.scan(key, self.findings);
        let mut worst: Option<&FieldPlan> = None;
        for f in self.findings.iter() {
            self.present |= 1 << f.class.index();
            let fp = &plan.detected[f.class.index()];
            if worst.is_none_or(|w| fp.action.kind > w.action.kind) {
                worst = Some(fp);
            }
        }
        let class = worst?.class;
        let shown = path.with_personal_key(plan);
        let fp = self.detected(shown.clone(), class);
        match fp.action.kind {
            ActionKind::Pass => {
                self.crosses = true;
                None
            }
            ActionKind::Tokenize | ActionKind::Hash => {
                self.crosses = true;
                new_key.clear();
                self.write_transformed(class, &fp.action, key, new_key);
                if transform_value {
                    self.transform(class, &fp.action, value, &mut LazyPath::Made(shown));
                }
                Some(Fate::Rename)
            }
            ActionKind::Block => {
                self.block(fp.rule, &shown, format!("{shown} holds {class}"));
                Some(Fate::Remove)
            }
            _ => Some(Fate::Remove),
        }
    }

    /// An unclassified field whose name names `class`: the plan's action for such fields.
    fn named(&mut self, class: Class, path: &mut LazyPath<'_>, value: &mut Value) -> bool {
        let fp: &FieldPlan = &self.plan.named[class.index()];
        let shown = path.get(self.plan).clone();
        self.decide_once(FieldDecision {
            path: shown,
            class,
            action: fp.action.kind,
            rule: fp.rule,
            detected: false,
            by_name: true,
        });
        self.act(fp, path, value, Context::default(), true)
    }

    fn unclassified(
        &mut self,
        mut path: LazyPath<'_>,
        context: Context,
        value: &mut Value,
    ) -> bool {
        let fp = &self.plan.unclassified;
        if self.all_fields || notable(Class::Unclassified, fp.action.kind, false) {
            self.out.fields.push(FieldDecision {
                path: path.get(self.plan).clone(),
                class: Class::Unclassified,
                action: fp.action.kind,
                rule: fp.rule,
                detected: false,
                by_name: false,
            });
        }
        match fp.action.kind {
            ActionKind::Pass => {
                self.scan_value(&mut path, value, context, true);
                true
            }
            ActionKind::Drop => false,
            ActionKind::Block => {
                if !value.is_empty() {
                    let path = path.get(self.plan).clone();
                    self.block(
                        fp.rule,
                        &path,
                        format!("{path} is unclassified and may not cross"),
                    );
                }
                false
            }
            _ => {
                self.transform(Class::Unclassified, &fp.action, value, &mut path);
                true
            }
        }
    }

    fn apply(&mut self, leaf: usize, value: &mut Value) -> bool {
        let plan = self.plan;
        let fp: &FieldPlan = &plan.fields[leaf];
        // One decision per field path, however many array elements it matched.
        if (self.all_fields || notable(fp.class, fp.action.kind, false))
            && !std::mem::replace(&mut self.seen[leaf], true)
        {
            self.out.fields.push(FieldDecision {
                path: fp.path.clone(),
                class: fp.class,
                action: fp.action.kind,
                rule: fp.rule,
                detected: false,
                by_name: false,
            });
        }
        self.act(
            fp,
            &mut LazyPath::Plan(&fp.path),
            value,
            plan.contexts[leaf],
            false,
        )
    }

    /// Applies the action of `fp` to the value at `path`; returns whether it stays. Inlined
    /// into [`Walk::apply`], the hot path (a call per field costs about 2 % of a record).
    #[inline(always)]
    fn act(
        &mut self,
        fp: &FieldPlan,
        path: &mut LazyPath<'_>,
        value: &mut Value,
        context: Context,
        by_name: bool,
    ) -> bool {
        let empty = value.is_empty();
        if fp.class.is_personal() && !empty {
            self.present |= 1 << fp.class.index();
        }
        match fp.action.kind {
            ActionKind::Pass => {
                if fp.class.is_scanned() {
                    self.scan_value(path, value, context, false);
                } else if !empty {
                    self.crosses = true;
                }
                true
            }
            ActionKind::Drop => false,
            ActionKind::Block => {
                if !empty {
                    let path = path.get(self.plan).clone();
                    let how = if by_name { ", by its name" } else { "" };
                    self.block(
                        fp.rule,
                        &path,
                        format!("{path} ({}{how}) may not cross", fp.class),
                    );
                }
                false
            }
            _ => {
                if fp.class.is_personal() && !empty {
                    self.crosses = true;
                }
                self.transform(fp.class, &fp.action, value, path);
                true
            }
        }
    }

    /// Applies a transforming action (mask, generalize, tokenize, hash) to every scalar.
    /// What a generalization keeps of an object is scanned like any other value; keys that
    /// hold personal data are handled as [`Walk::personal_key`] says.
    fn transform(
        &mut self,
        class: Class,
        action: &Action,
        value: &mut Value,
        path: &mut LazyPath<'_>,
    ) {
        match value {
            Value::Null | Value::Bool(_) => {}
            Value::String(s) => {
                let mut buf = std::mem::take(self.buf);
                buf.clear();
                if self.write_transformed(class, action, s, &mut buf) {
                    *s = Text::from(buf.as_str());
                    *self.buf = buf;
                } else {
                    *self.buf = buf;
                    *value = Value::Null;
                }
            }
            Value::Number(_) => {
                let text = value.scalar_text().unwrap_or_default().into_owned();
                let mut out = String::new();
                *value = if self.write_transformed(class, action, &text, &mut out) {
                    Value::String(out.into())
                } else {
                    Value::Null
                };
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.transform(class, action, v, path)),
            Value::Object(m) => {
                if action.kind == ActionKind::Generalize {
                    m.retain_mut(|k, _| action.keep.iter().any(|keep| keep == k));
                    m.iter_mut()
                        .for_each(|(_, v)| self.scan_value(path, v, Context::default(), false));
                } else {
                    let parent = path.get(self.plan).clone();
                    retain_entries(m, |k, v, new_key| {
                        if Scanner::may_find(k)
                            && let Some(fate) = self.personal_key(
                                &LazyPath::Made(parent.clone()),
                                k,
                                v,
                                false,
                                new_key,
                            )
                        {
                            if let Fate::Rename = fate {
                                self.transform(
                                    class,
                                    action,
                                    v,
                                    &mut LazyPath::Made(parent.clone()),
                                );
                            }
                            return fate;
                        }
                        self.transform(class, action, v, &mut LazyPath::Made(parent.clone()));
                        Fate::Keep
                    });
                }
            }
        }
    }

    /// Appends the transformed `text` to `out`; false when the action leaves nothing.
    fn write_transformed(
        &mut self,
        class: Class,
        action: &Action,
        text: &str,
        out: &mut String,
    ) -> bool {
        match action.kind {
            ActionKind::Mask => mask_into(class, text, &action.mask, out),
            ActionKind::Tokenize => {
                let start = out.len();
                self.keys.tokenize_into(&action.scope, text, out);
                if self.collect_vault {
                    self.out.vault.push(VaultWrite {
                        token: out[start..].to_owned(),
                        value: text.to_owned(),
                    });
                }
            }
            ActionKind::Hash => self.keys.hash_into(&action.scope, text, out),
            ActionKind::Generalize => match generalize_text(class, text) {
                Some(g) => out.push_str(&g),
                None => return false,
            },
            ActionKind::Pass => out.push_str(text),
            ActionKind::Drop | ActionKind::Block => return false,
        }
        true
    }

    /// Scans strings, numbers (as their text) and object keys for personal data and applies
    /// the route's action for what is found; with `by_name`, the keys of nested objects are
    /// also read as field names (the value is unclassified). Most values are strings the
    /// scanner's cheap check clears; they stop here, inlined in the walk, without the call
    /// below.
    #[inline]
    fn scan_value(
        &mut self,
        path: &mut LazyPath<'_>,
        value: &mut Value,
        context: Context,
        by_name: bool,
    ) {
        match value {
            Value::String(s) if !Scanner::may_find(s) => {}
            Value::Null | Value::Bool(_) => {}
            _ => self.search_value(path, value, context, by_name),
        }
    }

    #[inline(never)]
    fn search_value(
        &mut self,
        path: &mut LazyPath<'_>,
        value: &mut Value,
        context: Context,
        by_name: bool,
    ) {
        match value {
            Value::String(s) => {
                self.findings.clear();
                self.scanner.scan_in(s, context, self.findings);
                if self.findings.is_empty() {
                    return;
                }
                let rebuilt = self.rewrite(path, s);
                *s = rebuilt.into();
            }
            Value::Number(n) => {
                // The number's text, and the digits of a whole number written with a fraction
                // or an exponent (`1.3812345678e10`): whichever holds a finding is what crosses,
                // transformed, as a string.
                let whole = n.whole_digits();
                let mut found = None;
                for text in std::iter::once(n.as_str()).chain(whole.as_deref()) {
                    if !Scanner::may_find(text) {
                        continue;
                    }
                    self.findings.clear();
                    self.scanner.scan_in(text, context, self.findings);
                    if !self.findings.is_empty() {
                        found = Some(text.to_owned());
                        break;
                    }
                }
                if let Some(text) = found {
                    let rebuilt = self.rewrite(path, &text);
                    *value = Value::String(rebuilt.into());
                }
            }
            Value::Array(items) => {
                if by_name && items.iter().any(|v| matches!(v, Value::Object(_))) {
                    let mut inner =
                        LazyPath::Made(FieldName::from(format!("{}[*]", path.get(self.plan))));
                    items
                        .iter_mut()
                        .for_each(|v| self.scan_value(&mut inner, v, context, by_name));
                } else {
                    items
                        .iter_mut()
                        .for_each(|v| self.scan_value(path, v, context, by_name));
                }
            }
            Value::Object(m) => {
                let parent = path.get(self.plan).clone();
                retain_entries(m, |key, v, new_key| {
                    if by_name {
                        let info = self.names.get(key);
                        return self.entry(
                            LazyPath::Sub(parent.clone(), key),
                            key,
                            info,
                            v,
                            new_key,
                        );
                    }
                    if Scanner::may_find(key)
                        && let Some(fate) = self.personal_key(
                            &LazyPath::Made(parent.clone()),
                            key,
                            v,
                            true,
                            new_key,
                        )
                    {
                        return fate;
                    }
                    self.scan_value(&mut LazyPath::Made(parent.clone()), v, context, false);
                    Fate::Keep
                });
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// `text` with the findings in `self.findings` replaced by the route's action for each;
    /// records the decisions and blocks.
    fn rewrite(&mut self, path: &mut LazyPath<'_>, text: &str) -> String {
        let findings = std::mem::take(self.findings);
        let path = path.get(self.plan).clone();
        let mut rebuilt = String::with_capacity(text.len());
        let mut at = 0;
        for f in &findings {
            rebuilt.push_str(&text[at..f.start]);
            let span = &text[f.start..f.end];
            let fp = self.detected(path.clone(), f.class);
            match fp.action.kind {
                ActionKind::Pass => {
                    self.crosses = true;
                    rebuilt.push_str(span);
                }
                ActionKind::Block => {
                    self.block(fp.rule, &path, format!("{path} contains {}", f.class));
                    rebuilt.push_str("[redacted]");
                }
                ActionKind::Drop => rebuilt.push_str("[redacted]"),
                _ => {
                    self.crosses = true;
                    if !self.write_transformed(f.class, &fp.action, span, &mut rebuilt) {
                        rebuilt.push('[');
                        rebuilt.push_str(f.class.as_str());
                        rebuilt.push(']');
                    }
                }
            }
            at = f.end;
        }
        rebuilt.push_str(&text[at..]);
        *self.findings = findings;
        rebuilt
    }
}

fn keep(stays: bool) -> Fate {
    if stays { Fate::Keep } else { Fate::Remove }
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_key_is_equality() {
        for n in 0..=20usize {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            assert!(super::same_key(&a, &a.clone()), "{n}");
            // A difference at every position, and a length difference, are seen.
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 1;
                assert!(!super::same_key(&a, &b), "{n} at {i}");
            }
            assert!(!super::same_key(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    #[test]
    fn business_number_fields_give_the_scanner_their_context() {
        use crate::plan::Planner;
        let (set, route) = crate::medium_route_fixture();
        let planner = Planner::new(set, route).unwrap();
        let plan = planner.plan(&dss_core::ObjectKind::parse("order").unwrap(), &[]);
        let context = |path: &str| {
            let i = plan.fields.iter().position(|f| &*f.path == path).unwrap();
            plan.contexts[i].business_numbers
        };
        // Declared identifier, declared business named like a number, declared business free
        // text (no context: personal wins), declared personal (not scanned).
        assert!(context("order_no"));
        assert!(context("lines[*].sku"));
        assert!(!context("notes"));
        assert!(!context("lines[*].description"));
        // Unclassified keys: by their names.
        assert!(super::KeyInfo::of("serial_no").context.business_numbers);
        assert!(super::KeyInfo::of("订单号").context.business_numbers);
        assert!(!super::KeyInfo::of("custom_1").context.business_numbers);
        assert!(super::KeyInfo::of("li.na@example.cn").suspect);
    }
}
