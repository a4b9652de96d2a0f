//! Issue 18: numbers, keys, ids and what generalize keeps are scanned; unclassified fields are
//! classified by their names. Values are synthetic.

use std::sync::Arc;

use dss_core::Value;
use dss_policies::eval::PERSONAL_KEY;
use dss_policies::{ActionKind, Class, Condition, Decision, Outcome, PolicySet, default_sources};

use super::{ALL, default_set, eval, messages, route};

/// EU → CN: light control (standard contract and consent).
fn light() -> dss_policies::RouteSpec {
    route("eu-frankfurt", "cn-beijing", &[Condition::StandardContract])
}

/// CN → EU: medium control (unclassified fields are dropped).
fn medium() -> dss_policies::RouteSpec {
    route("cn-beijing", "eu-frankfurt", ALL)
}

fn record(region: &str, object: &str, fields: &str) -> String {
    format!(
        r#"{{"id":"r-1","object":"{object}","tenant":"t","region":"{region}","subject":{{"id":"s-1","country":"DE","consent":"granted"}},"fields":{fields}}}"#
    )
}

/// Everything a report shows: paths, reasons and block fields.
fn report(o: &Outcome) -> String {
    let mut s = String::new();
    for d in &o.fields {
        s.push_str(&d.path);
        s.push('\n');
    }
    for r in &o.reasons {
        s.push_str(&r.message);
        s.push('\n');
        s.push_str(r.field.as_deref().unwrap_or(""));
        s.push('\n');
    }
    s
}

fn json(r: &dss_core::Record) -> String {
    serde_json::to_string(&r.fields).unwrap()
}

// ---- numbers (item 6) ----------------------------------------------------------------------

#[test]
fn numbers_holding_a_phone_are_scanned_on_light_and_medium_routes() {
    let set = default_set();
    // Light: an unclassified number passes only after scanning; a number without a finding
    // keeps its JSON type.
    let (r, o) = eval(
        &set,
        light(),
        &record(
            "eu-frankfurt",
            "contact",
            r#"{"custom_1":13812345678,"custom_2":[42,13812345678],"score":7}"#,
        ),
    );
    assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
    let out = json(&r);
    assert!(!out.contains("13812345678"), "{out}");
    assert!(matches!(r.fields.get("custom_1"), Some(Value::String(_))));
    assert!(matches!(r.fields.get("score"), Some(Value::Number(_))));
    let Some(Value::Array(items)) = r.fields.get("custom_2") else {
        panic!("custom_2 kept")
    };
    assert!(matches!(items[0], Value::Number(_)));
    assert!(
        o.fields
            .iter()
            .any(|d| &*d.path == "custom_1" && d.class == Class::Phone && d.detected)
    );
    // Medium: a business field's number is scanned as well (`notes` holds free text, so a
    // number there has no business context; in `score` it would pass as a business number).
    let (r, o) = eval(
        &set,
        medium(),
        &record("cn-beijing", "contact", r#"{"notes":13812345678}"#),
    );
    assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
    assert!(!json(&r).contains("13812345678"), "{}", json(&r));
    assert!(matches!(r.fields.get("notes"), Some(Value::String(_))));
}

#[test]
fn a_number_holding_an_id_blocks_the_record() {
    let set = default_set();
    // A checksum-valid resident ID made only of digits, as a JSON number.
    let (_, o) = eval(
        &set,
        light(),
        &record("eu-frankfurt", "contact", r#"{"notes":110105194912310003}"#),
    );
    assert_eq!(o.decision, Decision::Block);
    assert!(messages(&o).contains("notes contains personal.national_id"));
}

// ---- keys (item 7) -------------------------------------------------------------------------

const KEY: &str = "li.na@example.cn";

fn assert_key_hidden(r: &dss_core::Record, o: &Outcome) {
    assert!(!json(r).contains("li.na"), "output: {}", json(r));
    assert!(!report(o).contains("li.na"), "report: {}", report(o));
}

#[test]
fn a_personal_key_at_top_level_is_removed_and_never_reported() {
    let set = default_set();
    let fields = format!(r#"{{"{KEY}":"primary","custom_flag":"vip"}}"#);
    for (route, region) in [(light(), "eu-frankfurt"), (medium(), "cn-beijing")] {
        let (r, o) = eval(&set, route, &record(region, "contact", &fields));
        assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
        assert_key_hidden(&r, &o);
        let d = o
            .fields
            .iter()
            .find(|d| d.class == Class::Email)
            .expect("a decision for the key");
        assert_eq!((&*d.path, d.detected), (PERSONAL_KEY, true));
    }
}

#[test]
fn a_personal_key_nested_and_in_lines_is_removed_and_reported_by_its_parent() {
    let set = default_set();
    let (r, o) = eval(
        &set,
        light(),
        &record(
            "eu-frankfurt",
            "order",
            &format!(
                r#"{{"custom":{{"{KEY}":"primary","ok":1}},"lines":[{{"sku":"A-1","{KEY}":2}}],"notes":{{"{KEY}":"x"}}}}"#
            ),
        ),
    );
    assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
    assert_key_hidden(&r, &o);
    let paths: Vec<&str> = o
        .fields
        .iter()
        .filter(|d| d.class == Class::Email)
        .map(|d| &*d.path)
        .collect();
    assert_eq!(
        paths,
        [
            "custom.<personal key>",
            "lines[*].<personal key>",
            "notes.<personal key>"
        ]
    );
    assert!(json(&r).contains(r#""ok":1"#), "{}", json(&r));
    assert!(json(&r).contains(r#""sku":"A-1""#), "{}", json(&r));
}

#[test]
fn a_key_holding_an_id_blocks_with_a_reason_that_does_not_name_it() {
    let set = default_set();
    let (r, o) = eval(
        &set,
        light(),
        &record(
            "eu-frankfurt",
            "order",
            r#"{"lines":[{"sku":"A-1","11010519491231002X":"x"}]}"#,
        ),
    );
    assert_eq!(o.decision, Decision::Block);
    assert!(!report(&o).contains("11010519491231002X"), "{}", report(&o));
    assert!(!json(&r).contains("11010519491231002X"));
    assert!(messages(&o).contains("lines[*].<personal key> holds personal.national_id"));
}

#[test]
fn a_key_whose_class_is_tokenized_becomes_its_token() {
    let mut sources = default_sources();
    let levels = sources
        .iter_mut()
        .find(|s| s.name.ends_with("levels.yaml"))
        .unwrap();
    levels.text = levels
        .text
        .replacen("personal.email: mask", "personal.email: tokenize", 1);
    let set = Arc::new(PolicySet::from_sources(&sources).unwrap());
    let (r, o) = eval(
        &set,
        light(),
        &record(
            "eu-frankfurt",
            "contact",
            &format!(r#"{{"{KEY}":"primary"}}"#),
        ),
    );
    assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
    assert_key_hidden(&r, &o);
    let (key, value) = r
        .fields
        .iter()
        .next()
        .expect("the entry stays under its token");
    assert_ne!(key, KEY);
    assert_ne!(
        value.as_str(),
        Some("primary"),
        "the value is tokenized too"
    );
}

// ---- ids (item 8) --------------------------------------------------------------------------

#[test]
fn ids_with_personal_data_glued_on_are_tokenized_whole() {
    let set = default_set();
    // Glued by `_`, `-` and `.`: what today's scanner finds in them (an e-mail, a phone in
    // international form). The scanner branch adds IDs and HKIDs glued on; the evaluator
    // tokenizes whatever is found, whole.
    for id in [
        "lead_li.na@example.cn",
        "c-+8613812345678",
        "x.+49 30 1234567",
    ] {
        let json = record("eu-frankfurt", "contact", "{}").replace("\"r-1\"", &format!("{id:?}"));
        let (r, o) = eval(&set, light(), &json);
        assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
        assert_ne!(r.id, id);
        assert!(!r.id.contains("lead") && !r.id.contains("c-") && !r.id.contains("x."));
        assert!(
            o.fields
                .iter()
                .any(|d| &*d.path == "$id" && d.action == ActionKind::Tokenize)
        );
    }
}

// ---- generalize (item 10) ------------------------------------------------------------------

#[test]
fn what_generalize_keeps_is_scanned() {
    let set = default_set();
    let (r, o) = eval(
        &set,
        light(),
        &record(
            "eu-frankfurt",
            "contact",
            r#"{"addresses":[{"street":"Hauptstr. 1","city":"Berlin, Tel +49 30 12345678","country":"DE"}]}"#,
        ),
    );
    assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
    let out = json(&r);
    assert!(
        !out.contains("12345678") && !out.contains("Hauptstr"),
        "{out}"
    );
    assert!(out.contains("Berlin"), "{out}");
    assert!(
        o.fields
            .iter()
            .any(|d| &*d.path == "addresses[*]" && d.class == Class::Phone && d.detected)
    );
}

// ---- names (item 14) -----------------------------------------------------------------------

const ADDRESS_NAMES: [&str; 5] = [
    "address",
    "contact_address",
    "home_address",
    "地址",
    "Anschrift",
];

#[test]
fn fields_named_like_addresses_get_the_address_action() {
    let set = default_set();
    for name in ADDRESS_NAMES {
        let fields = format!(
            r#"{{"{name}":{{"street":"Friedrichstraße 12","city":"Berlin","country":"DE"}}}}"#
        );
        // Light: generalized to city and country.
        let (r, o) = eval(&set, light(), &record("eu-frankfurt", "contact", &fields));
        assert_eq!(o.decision, Decision::Transfer, "{name}: {}", messages(&o));
        assert!(!json(&r).contains("Friedrich"), "{name}: {}", json(&r));
        assert!(json(&r).contains("Berlin"), "{name}: {}", json(&r));
        let d = o.fields.iter().find(|d| &*d.path == name).unwrap();
        assert_eq!(
            (d.class, d.action, d.by_name),
            (Class::Address, ActionKind::Generalize, true),
            "{name}"
        );
        // A string address keeps nothing.
        let (r, _) = eval(
            &set,
            light(),
            &record(
                "eu-frankfurt",
                "lead",
                &format!(r#"{{"{name}":"Friedrichstraße 12, Berlin"}}"#),
            ),
        );
        assert!(!json(&r).contains("Friedrich"), "{name}: {}", json(&r));
        // Medium: unclassified fields are dropped, and a name never makes it less.
        let (r, o) = eval(&set, medium(), &record("cn-beijing", "contact", &fields));
        assert!(r.fields.get(name).is_none(), "{name}");
        let d = o.fields.iter().find(|d| &*d.path == name).unwrap();
        assert_eq!(
            (d.class, d.action),
            (Class::Address, ActionKind::Drop),
            "{name}"
        );
        // Strong: into a strong-control jurisdiction, and out of one, the record is blocked.
        let (_, o) = eval(
            &set,
            route("eu-frankfurt", "ru-moscow", ALL),
            &record("eu-frankfurt", "contact", &fields),
        );
        assert_eq!(o.decision, Decision::Block, "{name}");
        let (_, o) = eval(
            &set,
            route("ru-moscow", "eu-frankfurt", ALL),
            &record("ru-moscow", "contact", &fields),
        );
        assert_eq!(o.decision, Decision::Block, "{name}");
        assert!(!report(&o).contains("Friedrich"));
    }
}

#[test]
fn a_declared_class_overrides_the_name() {
    let mut sources = default_sources();
    let classification = sources
        .iter_mut()
        .find(|s| s.name.ends_with("classification.yaml"))
        .unwrap();
    classification.text =
        classification
            .text
            .replacen("  contact:\n", "  contact:\n    address: business\n", 1);
    let set = Arc::new(PolicySet::from_sources(&sources).unwrap());
    let (r, o) = eval(
        &set,
        light(),
        &record(
            "eu-frankfurt",
            "contact",
            r#"{"address":"Werk 2, Halle 3"}"#,
        ),
    );
    assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
    assert_eq!(
        r.fields.get("address").and_then(Value::as_str),
        Some("Werk 2, Halle 3")
    );
    assert!(!o.fields.iter().any(|d| d.by_name));
}

#[test]
fn business_number_names_pass_look_alike_numbers() {
    let set = default_set();
    // A UnionPay-shaped look-alike (Luhn-valid) in a field named as an order number, on a
    // kind whose classification does not name the field.
    let (r, o) = eval(
        &set,
        light(),
        &record(
            "eu-frankfurt",
            "ticket",
            r#"{"order_no":"6222021234567894"}"#,
        ),
    );
    assert_eq!(o.decision, Decision::Transfer, "{}", messages(&o));
    assert_eq!(
        r.fields.get("order_no").and_then(Value::as_str),
        Some("6222021234567894")
    );
}

/// With no context, a Luhn-valid card number in `notes` (free text) is personal.
#[test]
fn a_look_alike_in_notes_is_personal() {
    let set = default_set();
    let (r, o) = eval(
        &set,
        light(),
        &record("eu-frankfurt", "ticket", r#"{"notes":"6222021234567894"}"#),
    );
    assert!(!json(&r).contains("6222021234567894") || o.decision == Decision::Block);
}

// ---- properties ----------------------------------------------------------------------------

mod properties {
    use super::*;
    use dss_core::{Record, RegionId};
    use dss_policies::{Evaluator, Keyring, Planner, RouteSpec, Scanner};
    use proptest::prelude::*;

    /// Keys today's scanner finds: e-mail addresses and phones in international form.
    fn personal_key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{3,8}\\.[a-z]{2,6}@[a-z]{4,8}\\.(de|cn|hk)",
            "\\+86 1[3-9][0-9] [0-9]{4} [0-9]{4}",
            "\\+49 [1-9][0-9]{1,3} [0-9]{6,8}",
        ]
    }

    /// Where the key goes: top level, nested in an unclassified object, in `lines[*]`, under
    /// a business field.
    fn placed(object: &str, key: &str, mobile: u64) -> serde_json::Value {
        let entry = serde_json::json!({ key: "primary" });
        match object {
            "order" => serde_json::json!({
                "lines": [{ "sku": "A-1", key: 2 }],
                "custom": { "inner": entry },
                "custom_n": mobile,
            }),
            _ => serde_json::json!({
                key: "primary",
                "notes": entry,
                "custom_n": [mobile],
            }),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// On every cross-border route, a key holding personal data is never in a report, and
        /// crosses (like a number holding a phone) only where its class's action is pass.
        #[test]
        fn personal_keys_and_numbers_never_cross_or_show(
            key in personal_key(),
            mobile in 13_000_000_000u64..19_999_999_999,
            order in any::<bool>(),
        ) {
            let set = default_set();
            let keys = Keyring::new("k1", &[3; 32]).unwrap();
            let scanner = Scanner::new();
            let object = if order { "order" } else { "contact" };
            let regions: Vec<String> = set.region_ids().map(|r| r.to_string()).collect();
            for from in &regions {
                for to in &regions {
                    if set.region(from).unwrap().code == set.region(to).unwrap().code {
                        continue;
                    }
                    let route = RouteSpec {
                        from: RegionId::new(from).unwrap(),
                        to: RegionId::new(to).unwrap(),
                        to_tenant: None,
                        purpose: None,
                        legal_basis: Some(dss_core::LegalBasis::Contract),
                        conditions: vec![Condition::StandardContract, Condition::RegulatorFiling],
                    };
                    let planner = Planner::new(set.clone(), route).unwrap();
                    let mut ev = Evaluator::new(&planner, &keys, &scanner)
                        .with_now("2026-06-01T00:00:00Z".into());
                    let json = serde_json::json!({
                        "id": "r-1", "object": object, "tenant": "t", "region": from,
                        "subject": { "consent": "granted" },
                        "fields": placed(object, &key, mobile),
                    });
                    prop_assert!(json.to_string().contains(&serde_json::to_string(&key).unwrap()));
                    let mut record = Record::from_json(json.to_string().as_bytes()).unwrap();
                    let mut out = Outcome::default();
                    ev.evaluate(&mut record, &mut out);
                    let shown = report(&out);
                    prop_assert!(!shown.contains(&key), "{from} -> {to}: key in report: {shown}");
                    if out.decision == Decision::Block {
                        continue;
                    }
                    let crossed = serde_json::to_string(&record).unwrap();
                    let passes = |class: Class| planner
                        .plan(&record.object, &[])
                        .detected[class.index()]
                        .action
                        .kind == ActionKind::Pass;
                    let key_class = if key.contains('@') { Class::Email } else { Class::Phone };
                    if !passes(key_class) {
                        prop_assert!(!crossed.contains(&key), "{from} -> {to}: key crossed: {crossed}");
                    }
                    if !passes(Class::Phone) {
                        prop_assert!(!crossed.contains(&mobile.to_string()), "{from} -> {to}: number crossed: {crossed}");
                    }
                }
            }
        }
    }
}
