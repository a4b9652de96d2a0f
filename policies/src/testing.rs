//! Policy unit tests: sample records written next to the policy with the decision and output
//! they must get, run by `dss policy test` and by `cargo test` for the shipped set.
//!
//! Tokens in tests are made with a fixed test key (`test`), so expected outputs are stable.

use std::sync::Arc;

use dss_core::{Record, RegionId, Value};

use crate::action::Condition;
use crate::diag::Source;
use crate::eval::{Decision, Evaluator, Outcome};
use crate::plan::{Planner, RouteSpec};
use crate::scan::Scanner;
use crate::set::PolicySet;
use crate::spec::{TestField, TestSpec};
use crate::token::Keyring;

/// The key id and secret of tokens made by policy tests.
pub const TEST_KEY_ID: &str = "test";
const TEST_KEY: [u8; 32] = [0x5a; 32];

/// A policy test as loaded.
#[derive(Debug)]
pub struct PolicyTest {
    /// File it is written in.
    pub file: String,
    /// Line of its name.
    pub line: u32,
    /// Its name.
    pub name: String,
    from: String,
    to: String,
    purpose: Option<String>,
    legal_basis: Option<String>,
    conditions: Vec<String>,
    record: serde_json::Value,
    decision: String,
    reasons: Vec<String>,
    fields: Vec<(String, TestField)>,
}

impl PolicyTest {
    pub(crate) fn from_spec(source: &Source, _index: usize, t: &TestSpec) -> Self {
        Self {
            file: source.name.clone(),
            line: t.name.line,
            name: t.name.value.clone(),
            from: t.route.from.value.clone(),
            to: t.route.to.value.clone(),
            purpose: t.route.purpose.clone(),
            legal_basis: t.route.legal_basis.as_ref().map(|l| l.value.clone()),
            conditions: t.route.conditions.iter().map(|c| c.value.clone()).collect(),
            record: t.record.value.clone(),
            decision: t.expect.decision.value.clone(),
            reasons: t.expect.reasons.clone(),
            fields: t
                .expect
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), clone_field(v)))
                .collect(),
        }
    }
}

fn clone_field(f: &TestField) -> TestField {
    TestField {
        class: f.class.clone(),
        action: f.action.clone(),
        rule: f.rule.clone(),
        output: f.output.clone(),
        absent: f.absent,
    }
}

/// The result of one policy test.
#[derive(Debug)]
pub struct TestResult {
    /// `file:line`.
    pub location: String,
    /// Test name.
    pub name: String,
    /// What did not hold; empty when the test passed.
    pub failures: Vec<String>,
}

impl TestResult {
    /// Whether the test passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test of `set`.
pub fn run_tests(set: &Arc<PolicySet>) -> Vec<TestResult> {
    let keys = Keyring::new(TEST_KEY_ID, &TEST_KEY).expect("valid test key");
    let scanner = Scanner::new();
    set.tests()
        .iter()
        .map(|t| run_one(set, &keys, &scanner, t))
        .collect()
}

fn run_one(set: &Arc<PolicySet>, keys: &Keyring, scanner: &Scanner, t: &PolicyTest) -> TestResult {
    let mut failures = Vec::new();
    let result = |failures| TestResult {
        location: format!("{}:{}", t.file, t.line),
        name: t.name.clone(),
        failures,
    };
    let route = match route(t) {
        Ok(r) => r,
        Err(e) => return result(vec![e]),
    };
    let planner = match Planner::new(set.clone(), route) {
        Ok(p) => p,
        Err(e) => return result(vec![e.to_string()]),
    };
    // Through the record parser, whose errors never quote a value of the record.
    let json = serde_json::to_vec(&t.record).expect("a JSON value serializes");
    let mut record = match Record::from_json(&json) {
        Ok(r) => r,
        Err(e) => return result(vec![format!("record: {e}")]),
    };
    let mut evaluator = Evaluator::new(&planner, keys, scanner)
        .with_now("2026-01-01T00:00:00Z".into())
        .report_all_fields(true);
    let mut out = Outcome::default();
    evaluator.evaluate(&mut record, &mut out);

    if out.decision.as_str() != t.decision {
        let why: Vec<&str> = out.reasons.iter().map(|r| r.message.as_str()).collect();
        failures.push(format!(
            "decision: expected {}, got {} {why:?}",
            t.decision,
            out.decision.as_str()
        ));
    }
    for want in &t.reasons {
        if !out
            .reasons
            .iter()
            .any(|r| r.message.contains(want.as_str()))
        {
            failures.push(format!("reasons: none contains {want:?}"));
        }
    }
    for (path, want) in &t.fields {
        check_field(set, &out, &record, path, want, &mut failures);
    }
    result(failures)
}

fn route(t: &PolicyTest) -> Result<RouteSpec, String> {
    let region = |r: &str| RegionId::new(r).ok_or_else(|| format!("invalid region id {r:?}"));
    let legal_basis = match &t.legal_basis {
        Some(b) => Some(
            serde_json::from_value(serde_json::Value::String(b.clone()))
                .map_err(|e| format!("route.legal_basis: {e}"))?,
        ),
        None => None,
    };
    let conditions = t
        .conditions
        .iter()
        .map(|c| {
            Condition::parse(c).ok_or_else(|| {
                format!(
                    "route.conditions: unknown condition {c:?} (expected one of: {})",
                    Condition::all_names()
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(RouteSpec {
        from: region(&t.from)?,
        to: region(&t.to)?,
        to_tenant: None,
        purpose: t.purpose.clone(),
        legal_basis,
        conditions,
    })
}

fn check_field(
    set: &PolicySet,
    out: &Outcome,
    record: &Record,
    path: &str,
    want: &TestField,
    failures: &mut Vec<String>,
) {
    let decision = out
        .fields
        .iter()
        .filter(|d| &*d.path == path)
        .find(|d| want.class.as_deref().is_none_or(|c| d.class.as_str() == c));
    if want.class.is_some() || want.action.is_some() || want.rule.is_some() {
        match decision {
            None => failures.push(format!(
                "{path}: no decision{}",
                want.class
                    .as_deref()
                    .map(|c| format!(" of class {c}"))
                    .unwrap_or_default()
            )),
            Some(d) => {
                if let Some(a) = &want.action
                    && d.action.as_str() != a
                {
                    failures.push(format!("{path}: expected action {a}, got {}", d.action));
                }
                if let Some(r) = &want.rule
                    && set.rule_name(d.rule) != r
                {
                    failures.push(format!(
                        "{path}: expected rule {r}, got {}",
                        set.rule_name(d.rule)
                    ));
                }
            }
        }
    }
    if want.output.is_none() && !want.absent {
        return;
    }
    if out.decision != Decision::Transfer {
        failures.push(format!(
            "{path}: the record was blocked, so it has no output"
        ));
        return;
    }
    let found = lookup(&record.fields, path);
    if want.absent && found.is_some() {
        failures.push(format!("{path}: expected absent from the output"));
    }
    if let Some(expected) = &want.output {
        let got = found.map(|v| serde_json::to_value(v).expect("values serialize"));
        if got.as_ref() != Some(expected) {
            failures.push(format!(
                "{path}: expected output {expected}, got {}",
                got.map_or("nothing".into(), |g| g.to_string())
            ));
        }
    }
}

/// The value at a dotted path with optional `[N]` indices.
fn lookup<'v>(fields: &'v dss_core::Map, path: &str) -> Option<&'v Value> {
    let parsed = dss_core::FieldPath::parse(path).ok()?;
    let mut segments = parsed.segments().iter();
    let dss_core::Segment::Key(first) = segments.next()? else {
        return None;
    };
    let mut at = fields.get(first)?;
    for seg in segments {
        at = match (seg, at) {
            (dss_core::Segment::Key(k), Value::Object(m)) => m.get(k)?,
            (dss_core::Segment::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(at)
}
