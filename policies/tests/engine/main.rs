//! The policy engine: the shipped default set, fail-closed behaviour, error messages and
//! properties over generated records.

mod corpus;
mod properties;
mod scanning;

use std::sync::Arc;

use dss_core::{Record, RegionId};
use dss_policies::testing::run_tests;
use dss_policies::{
    ActionKind, Condition, Decision, Evaluator, Keyring, Outcome, Planner, PolicySet, RouteError,
    RouteSpec, Scanner, Source, default_sources,
};

fn default_set() -> Arc<PolicySet> {
    Arc::new(
        PolicySet::from_sources(&default_sources())
            .unwrap_or_else(|d| panic!("default policy set: {d}")),
    )
}

fn route(from: &str, to: &str, conditions: &[Condition]) -> RouteSpec {
    RouteSpec {
        from: RegionId::new(from).unwrap(),
        to: RegionId::new(to).unwrap(),
        to_tenant: Some("dest".into()),
        purpose: Some("crm_sync".into()),
        legal_basis: Some(dss_core::LegalBasis::Contract),
        conditions: conditions.to_vec(),
    }
}

fn eval_with(
    set: &Arc<PolicySet>,
    route: RouteSpec,
    json: &str,
    now: Option<&str>,
) -> (Record, Outcome) {
    let planner = Planner::new(set.clone(), route).unwrap();
    let keys = Keyring::new("k1", &[1; 32]).unwrap();
    let scanner = Scanner::new();
    let mut ev = Evaluator::new(&planner, &keys, &scanner);
    if let Some(now) = now {
        ev = ev.with_now(now.into());
    }
    let mut record = Record::from_json(json.as_bytes()).unwrap();
    let mut out = Outcome::default();
    ev.evaluate(&mut record, &mut out);
    (record, out)
}

fn eval(set: &Arc<PolicySet>, route: RouteSpec, json: &str) -> (Record, Outcome) {
    eval_with(set, route, json, Some("2026-06-01T00:00:00Z"))
}

const ALL: &[Condition] = &[Condition::StandardContract, Condition::RegulatorFiling];

fn messages(o: &Outcome) -> String {
    o.reasons
        .iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn the_default_policy_tests_pass() {
    let set = default_set();
    let results = run_tests(&set);
    assert!(results.len() >= 10, "only {} tests", results.len());
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| format!("{} {}: {}", r.location, r.name, r.failures.join("; ")))
        .collect();
    assert!(
        failed.is_empty(),
        "failed policy tests:\n{}",
        failed.join("\n")
    );
}

#[test]
fn a_policy_test_that_does_not_hold_fails() {
    let mut sources = default_sources();
    let tests = sources
        .iter_mut()
        .find(|s| s.name.ends_with("tests.yaml"))
        .unwrap();
    tests.text = tests.text.replace(
        "phone: { action: mask, output: \"+49 ** ****5678\" }",
        "phone: { action: pass }",
    );
    let set = Arc::new(PolicySet::from_sources(&sources).unwrap());
    let failures: Vec<String> = run_tests(&set)
        .into_iter()
        .flat_map(|r| r.failures)
        .collect();
    assert_eq!(
        failures,
        vec!["phone: expected action pass, got mask".to_owned()]
    );
}

// ---- fail closed -------------------------------------------------------------------------

#[test]
fn unclassified_fields_leaving_a_medium_jurisdiction_are_dropped() {
    let set = default_set();
    let json = r#"{"id":"x1","object":"price_list","tenant":"cn-hq","region":"cn-beijing","fields":{"list":"2026 Q4","owner":"张伟","notes":"ok"}}"#;
    let (record, out) = eval(&set, route("cn-beijing", "eu-frankfurt", ALL), json);
    assert_eq!(out.decision, Decision::Transfer, "{}", messages(&out));
    let kept: Vec<&str> = record.fields.iter().map(|(k, _)| k).collect();
    assert_eq!(kept, vec!["notes"], "only the classified field may leave");
    let dropped = out.fields.iter().find(|d| &*d.path == "owner").unwrap();
    assert_eq!(
        (dropped.action, set.rule_name(dropped.rule)),
        (ActionKind::Drop, "level:medium:CN")
    );
}

#[test]
fn unclassified_fields_leaving_a_light_jurisdiction_are_scanned() {
    let set = default_set();
    let json = r#"{"id":"x1","object":"contact","tenant":"t","region":"eu-frankfurt","subject":{"consent":"granted"},"fields":{"hobby":"reach me at max@beispiel.de"}}"#;
    let (record, out) = eval(&set, route("eu-frankfurt", "cn-beijing", ALL), json);
    assert_eq!(out.decision, Decision::Transfer, "{}", messages(&out));
    assert_eq!(
        record.fields.get("hobby").unwrap().as_str(),
        Some("reach me at m***@beispiel.de")
    );
}

#[test]
fn an_unknown_jurisdiction_in_provenance_blocks() {
    let set = default_set();
    let json = r#"{"id":"x1","object":"product","tenant":"t","region":"ap-hongkong","provenance":["XX"],"fields":{"sku":"A"}}"#;
    let (_, out) = eval(&set, route("ap-hongkong", "eu-frankfurt", ALL), json);
    assert_eq!(out.decision, Decision::Block);
    assert_eq!(
        messages(&out),
        "provenance[0] names a jurisdiction the policy set does not know"
    );
}

#[test]
fn personal_data_without_a_legal_basis_blocks() {
    let set = default_set();
    let mut r = route("eu-frankfurt", "cn-beijing", &[Condition::StandardContract]);
    r.legal_basis = None;
    let json = r#"{"id":"x1","object":"contact","tenant":"t","region":"eu-frankfurt","subject":{"consent":"granted"},"fields":{"name":"Max Müller"}}"#;
    let (_, out) = eval(&set, r.clone(), json);
    assert_eq!(out.decision, Decision::Block);
    assert!(
        messages(&out).contains("no legal basis"),
        "{}",
        messages(&out)
    );
    // The record's own legal basis counts.
    let json = r#"{"id":"x1","object":"contact","tenant":"t","region":"eu-frankfurt","subject":{"consent":"granted","legal_basis":"contract"},"fields":{"name":"Max Müller"}}"#;
    assert_eq!(eval(&set, r, json).1.decision, Decision::Transfer);
}

#[test]
fn a_missing_standard_contract_blocks_but_not_records_without_personal_data() {
    let set = default_set();
    let contact = r#"{"id":"x1","object":"contact","tenant":"t","region":"eu-frankfurt","subject":{"consent":"granted"},"fields":{"name":"Max Müller"}}"#;
    let (_, out) = eval(&set, route("eu-frankfurt", "cn-beijing", &[]), contact);
    assert_eq!(
        messages(&out),
        "DE requires standard_contract for this transfer, and the route does not declare it"
    );
    let product = r#"{"id":"p1","object":"product","tenant":"t","region":"eu-frankfurt","fields":{"sku":"LED-1"}}"#;
    assert_eq!(
        eval(&set, route("eu-frankfurt", "cn-beijing", &[]), product)
            .1
            .decision,
        Decision::Transfer
    );
}

#[test]
fn expired_or_unverifiable_consent_blocks() {
    let set = default_set();
    let json = r#"{"id":"x1","object":"contact","tenant":"t","region":"eu-frankfurt","subject":{"consent":"granted","consent_expires":"2026-03-01T00:00:00Z"},"fields":{"name":"Max Müller"}}"#;
    let r = route("eu-frankfurt", "cn-beijing", ALL);
    assert_eq!(
        eval_with(&set, r.clone(), json, Some("2026-02-01T00:00:00Z"))
            .1
            .decision,
        Decision::Transfer
    );
    assert_eq!(
        eval_with(&set, r.clone(), json, Some("2026-06-01T00:00:00Z"))
            .1
            .decision,
        Decision::Block
    );
    // Without a clock the expiry cannot be checked: fail closed.
    assert_eq!(eval_with(&set, r, json, None).1.decision, Decision::Block);
}

#[test]
fn sensitive_data_never_crosses_even_when_a_rule_passes_it() {
    let mut sources = default_sources();
    sources.push(Source {
        name: "extra.yaml".into(),
        text: "version: 1\nrules:\n  - id: careless\n    from: [EU]\n    classes: [\"*\"]\n    action: pass\n".into(),
    });
    let set = Arc::new(PolicySet::from_sources(&sources).unwrap());
    let json = r#"{"id":"x1","object":"contact","tenant":"t","region":"eu-frankfurt","subject":{"consent":"granted"},"fields":{"name":"Max","health_note":"diabetic"}}"#;
    let (record, out) = eval(&set, route("eu-frankfurt", "cn-beijing", ALL), json);
    assert_eq!(out.decision, Decision::Transfer);
    assert!(record.fields.get("health_note").is_none());
    assert_eq!(
        record.fields.get("name").unwrap().as_str(),
        Some("Max"),
        "the rule passes names"
    );
    let d = out
        .fields
        .iter()
        .find(|d| &*d.path == "health_note")
        .unwrap();
    assert_eq!(
        (d.action, set.rule_name(d.rule)),
        (ActionKind::Drop, "builtin:sensitive-never-crosses")
    );
}

#[test]
fn a_record_id_that_is_personal_data_is_tokenized_even_when_blocked() {
    let set = default_set();
    let json = r#"{"id":"11010519491231002X","object":"contact","tenant":"t","region":"eu-frankfurt","subject":{"consent":"granted"},"fields":{}}"#;
    let (record, out) = eval(&set, route("eu-frankfurt", "cn-beijing", ALL), json);
    assert_eq!(out.decision, Decision::Block);
    assert!(record.id.starts_with("tok_k1_"), "{}", record.id);
    assert!(messages(&out).contains("the record id holds personal.national_id"));
}

#[test]
fn onward_transfers_take_the_most_restrictive_action() {
    // HK data that came from CN: Singapore is outside the Greater Bay Area, so it is blocked;
    // back to CN only HK's rules govern (CN to CN is home).
    let set = default_set();
    let json = r#"{"id":"x1","object":"contact","tenant":"t","region":"ap-hongkong","provenance":["CN"],"subject":{"consent":"granted"},"fields":{"name":"陈美玲","phone":"+852 9123 4567","wechat_group":"x"}}"#;
    let (_, out) = eval(&set, route("ap-hongkong", "ap-singapore", ALL), json);
    assert!(
        messages(&out).contains("Greater Bay Area"),
        "{}",
        messages(&out)
    );
    let (record, out) = eval(&set, route("ap-hongkong", "cn-beijing", ALL), json);
    assert_eq!(out.decision, Decision::Transfer, "{}", messages(&out));
    assert_eq!(
        record
            .provenance
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        vec!["CN", "HK"]
    );
    assert_eq!(
        record.fields.get("phone").unwrap().as_str(),
        Some("+852 **** 4567")
    );
}

#[test]
fn onward_rules_combine_across_jurisdictions() {
    // With the GBA rule narrowed to orders, a CN-origin contact may leave HK for Singapore:
    // its unclassified fields follow CN (drop), the stricter of CN (drop) and HK (pass).
    let mut sources = default_sources();
    let rules = sources
        .iter_mut()
        .find(|s| s.name.ends_with("rules.yaml"))
        .unwrap();
    rules.text = rules.text.replace(
        "transfer: onward\n",
        "transfer: onward\n    objects: [order]\n",
    );
    let set = Arc::new(PolicySet::from_sources(&sources).unwrap());
    let json = r#"{"id":"x1","object":"contact","tenant":"t","region":"ap-hongkong","provenance":["CN"],"subject":{"consent":"granted"},"fields":{"name":"陈美玲","wechat_group":"x"}}"#;
    let (record, out) = eval(&set, route("ap-hongkong", "ap-singapore", ALL), json);
    assert_eq!(out.decision, Decision::Transfer, "{}", messages(&out));
    assert!(
        record.fields.get("wechat_group").is_none(),
        "CN drops unclassified fields, HK would pass them"
    );
}

#[test]
fn unknown_regions_list_the_valid_ones() {
    let set = default_set();
    let err = Planner::new(set, route("eu-frankfurt", "cn-beijing", &[])).map(|_| ());
    assert!(err.is_ok());
    let set = default_set();
    let mut r = route("eu-frankfurt", "cn-beijing", &[]);
    r.to = RegionId::new("eu-paris").unwrap();
    let Err(RouteError::UnknownRegion { region, valid }) = Planner::new(set, r) else {
        panic!("expected an error")
    };
    assert_eq!(region, "eu-paris");
    assert!(
        valid.contains("cn-beijing")
            && valid.contains("eu-frankfurt")
            && valid.contains("ap-hongkong"),
        "{valid}"
    );
}

#[test]
fn the_policy_version_is_a_content_hash() {
    let a = default_set();
    let mut sources = default_sources();
    // Comments and layout do not change the version; content does.
    for s in &mut sources {
        s.text = format!("# a comment\n{}", s.text.replace("\n\n", "\n"));
    }
    let b = PolicySet::from_sources(&sources).unwrap();
    assert_eq!(a.version(), b.version());
    let rules = sources
        .iter_mut()
        .find(|s| s.name.ends_with("rules.yaml"))
        .unwrap();
    rules.text = rules.text.replace("keep_last: 2", "keep_last: 3");
    let c = PolicySet::from_sources(&sources).unwrap();
    assert_ne!(a.version(), c.version());
    assert_eq!(a.version().len(), 16);
}

// ---- error messages ----------------------------------------------------------------------

fn errors_of(extra: &str) -> String {
    let mut sources = default_sources();
    sources.push(Source {
        name: "bad.yaml".into(),
        text: extra.into(),
    });
    PolicySet::from_sources(&sources)
        .expect_err("must not load")
        .to_string()
}

#[test]
fn an_unknown_jurisdiction_names_file_line_column_path_and_choices() {
    let e = errors_of("version: 1\nregions:\n  eu-paris:\n    jurisdiction: FX\n");
    assert!(e.starts_with("bad.yaml:4:19: regions.eu-paris.jurisdiction: unknown jurisdiction \"FX\" (expected one of: CN, DE, ES,"), "{e}");
}

#[test]
fn unknown_classes_and_actions_list_the_valid_choices() {
    let e = errors_of("version: 1\nclassification:\n  contact:\n    shoe_size: personal.shoe\n");
    assert!(e.contains("bad.yaml:4:16: classification.contact.shoe_size: unknown class \"personal.shoe\" (expected one of: personal.name, personal.phone"), "{e}");
    let e = errors_of(
        "version: 1\nrules:\n  - id: x\n    from: [CN]\n    classes: [personal.name]\n    action: scramble\n",
    );
    assert!(e.contains("bad.yaml:6:13: rules[0].action: unknown action \"scramble\" (expected one of: pass, mask, generalize, tokenize, hash, drop, block)"), "{e}");
    let e = errors_of("version: 1\nrules:\n  - id: x\n    from: [XX]\n    block: no\n");
    assert!(
        e.contains("bad.yaml:4:12: rules[0].from[0]: unknown jurisdiction or group \"XX\""),
        "{e}"
    );
    let e = errors_of("version: 1\nrules:\n  - id: x\n    from: [CN]\n    requires: [blessing]\n");
    assert!(e.contains("rules[0].requires[0]: unknown condition \"blessing\" (expected one of: standard_contract, consent, regulator_filing, security_assessment, certification)"), "{e}");
}

#[test]
fn yaml_errors_name_the_key_path() {
    let e = errors_of("version: 1\nrules:\n  - id: x\n    from: [CN]\n    acton: drop\n");
    assert!(
        e.starts_with("bad.yaml:5:5: rules[0].acton: unknown field `acton`"),
        "{e}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let e = errors_of(
        "version: 1\nrules:\n  - id: gba-no-onward-transfer\n    from: [CN]\n    classes: [personal.name]\n    action: mask\n    scope: s\n",
    );
    assert!(
        e.contains("rules[0].id: rule id \"gba-no-onward-transfer\" used twice"),
        "{e}"
    );
    assert!(
        e.contains("rules[0].scope: `scope` needs `action: tokenize` or `hash`"),
        "{e}"
    );
}

#[test]
fn a_level_must_decide_every_class() {
    let e = errors_of(
        "version: 1\nlevels:\n  lax:\n    export: free\n    actions:\n      business: pass\n",
    );
    assert!(
        e.contains("levels.lax.actions: no action for class personal.name"),
        "{e}"
    );
    let e = errors_of(
        "version: 1\nlevels:\n  lax:\n    export: free\n    actions:\n      \"*\": pass\n",
    );
    assert!(
        e.contains("sensitive.health gets pass, but sensitive data never crosses a border"),
        "{e}"
    );
}

// ---- what an outcome reports -------------------------------------------------------------

/// What evaluating Beijing → Frankfurt with the shipped set needs.
fn cn_to_eu() -> (Planner, Keyring, Scanner) {
    let planner = Planner::new(default_set(), route("cn-beijing", "eu-frankfurt", ALL)).unwrap();
    (
        planner,
        Keyring::new("k1", &[1; 32]).unwrap(),
        Scanner::new(),
    )
}

#[test]
fn only_notable_decisions_are_reported_unless_all_are_asked_for() {
    let (planner, keys, scanner) = cn_to_eu();
    let json = r#"{"id":"c1","object":"contact","tenant":"cn-hq","region":"cn-beijing","fields":{"name":"王明","title":"Sales Director","status":"active"}}"#;
    let paths = |all: bool| {
        let mut ev = Evaluator::new(&planner, &keys, &scanner).report_all_fields(all);
        let mut record = Record::from_json(json.as_bytes()).unwrap();
        let mut out = Outcome::default();
        ev.evaluate(&mut record, &mut out);
        out.fields
            .iter()
            .map(|d| format!("{}:{}", d.path, d.action))
            .collect::<Vec<_>>()
    };
    assert_eq!(paths(false), vec!["name:tokenize"]);
    assert_eq!(
        paths(true),
        vec!["name:tokenize", "title:pass", "status:pass"]
    );
}

#[test]
fn an_evaluator_reused_across_object_kinds_and_key_orders_decides_like_a_fresh_one() {
    let (planner, keys, scanner) = cn_to_eu();
    // `name` is personal in a contact and business in an account: an evaluator that kept
    // the contact's field lookups for the account would tokenize the company name.
    let records = [
        r#"{"id":"c1","object":"contact","tenant":"t","region":"cn-beijing","fields":{"name":"王明","email":"wang@example.cn","title":"CEO"}}"#,
        r#"{"id":"a1","object":"account","tenant":"t","region":"cn-beijing","fields":{"name":"MA Lighting","industry":"led"}}"#,
        r#"{"id":"c2","object":"contact","tenant":"t","region":"cn-beijing","fields":{"title":"CTO","name":"刘丽","email":"liu@example.cn"}}"#,
        r#"{"id":"c3","object":"contact","tenant":"t","region":"cn-beijing","fields":{"email":"li@example.cn","name":"李娜"}}"#,
    ];
    let mut shared = Evaluator::new(&planner, &keys, &scanner).report_all_fields(true);
    for json in records {
        let run = |ev: &mut Evaluator<'_>| {
            let mut record = Record::from_json(json.as_bytes()).unwrap();
            let mut out = Outcome::default();
            ev.evaluate(&mut record, &mut out);
            (
                serde_json::to_string(&record).unwrap(),
                format!("{:?}", out.fields),
            )
        };
        let fresh = run(&mut Evaluator::new(&planner, &keys, &scanner).report_all_fields(true));
        assert_eq!(run(&mut shared), fresh, "{json}");
    }
}
