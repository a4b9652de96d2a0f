//! The leak property: on every cross-border route between the shipped regions, no form of a
//! generated personal value — literal, NFKC-folded, digits only — appears in the record that
//! crosses, in a field decision's path or in a block reason, unless the route passes its
//! class.

use std::sync::{Arc, OnceLock};

use dss_core::{Record, RegionId};
use dss_policies::{
    ActionKind, Class, Condition, Decision, Evaluator, Keyring, Outcome, Planner, PolicySet,
    RouteSpec, Scanner, default_sources,
};
use proptest::prelude::*;

use super::forms::{Form, Needles, Written};
use super::records::Placement;
use super::values::{Kind, Rng, Value};

/// The shipped regions: mainland (medium), Frankfurt and Hong Kong (light), Moscow (strong).
const REGIONS: &[&str] = &["cn-beijing", "eu-frankfurt", "ap-hongkong", "ru-moscow"];

/// One route with the planner for it.
pub(crate) struct Route {
    pub(crate) from: &'static str,
    pub(crate) to: &'static str,
    /// The route declares every condition (standard contract, regulator filing): records may
    /// transfer. Without them, records holding personal data block.
    pub(crate) open: bool,
    pub(crate) label: String,
    pub(crate) planner: Planner,
}

struct Shared {
    routes: Vec<Route>,
    keys: Keyring,
    scanner: Scanner,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let set = Arc::new(
            PolicySet::from_sources(&default_sources()).expect("the default policy set loads"),
        );
        let mut routes = Vec::new();
        for &from in REGIONS {
            for &to in REGIONS {
                if from == to {
                    continue;
                }
                for open in [true, false] {
                    let spec = RouteSpec {
                        from: RegionId::new(from).expect("region id"),
                        to: RegionId::new(to).expect("region id"),
                        to_tenant: Some("dest".into()),
                        purpose: Some("crm_sync".into()),
                        legal_basis: Some(dss_core::LegalBasis::Contract),
                        conditions: if open {
                            vec![Condition::StandardContract, Condition::RegulatorFiling]
                        } else {
                            vec![]
                        },
                    };
                    let planner = Planner::new(set.clone(), spec).expect("a shipped region");
                    let label = format!(
                        "{from} -> {to} ({})",
                        if open {
                            "all conditions"
                        } else {
                            "no conditions"
                        }
                    );
                    routes.push(Route {
                        from,
                        to,
                        open,
                        label,
                        planner,
                    });
                }
            }
        }
        Shared {
            routes,
            keys: Keyring::new("k1", &[7; 32]).expect("a 32-byte key"),
            scanner: Scanner::new(),
        }
    })
}

/// Every cross-border route between the shipped regions, with and without the conditions.
pub(crate) fn routes() -> &'static [Route] {
    &shared().routes
}

/// The routes leaving a light-control jurisdiction with every condition declared.
pub(crate) fn light_routes() -> Vec<&'static Route> {
    routes()
        .iter()
        .filter(|r| {
            r.open && matches!(r.from, "eu-frankfurt" | "ap-hongkong") && r.to != "ru-moscow"
        })
        .collect()
}

/// Parses `json` and evaluates it on `route` (at a fixed time).
pub(crate) fn evaluate(route: &Route, json: &str) -> (Record, Outcome) {
    let s = shared();
    let mut record = Record::from_json(json.as_bytes())
        .unwrap_or_else(|e| panic!("the corpus record must parse ({e}): {json}"));
    let mut ev =
        Evaluator::new(&route.planner, &s.keys, &s.scanner).with_now("2026-06-01T00:00:00Z".into());
    let mut out = Outcome::default();
    ev.evaluate(&mut record, &mut out);
    (record, out)
}

/// The route's action for personal data of `class` found in a record of `object`.
fn action_for(route: &Route, object: &dss_core::ObjectKind, class: Class) -> ActionKind {
    let plan = route.planner.plan(object, &[]);
    plan.detected
        .iter()
        .find(|f| f.class == class)
        // A class the plan does not know is not passed (fail closed).
        .map_or(ActionKind::Block, |f| f.action.kind)
}

/// One generated case: a value in a form, placed in a record.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub(crate) value: Value,
    pub(crate) form: Form,
    pub(crate) written: Written,
    pub(crate) placement: Placement,
    pub(crate) object: &'static str,
    pub(crate) json: String,
}

impl Case {
    /// The case for `value` in `form` and `placement` (or as an unclassified field where the
    /// placement does not fit), in a record of `object` leaving `region`.
    pub(crate) fn new(
        value: Value,
        form: Form,
        placement: Placement,
        object: &'static str,
        region: &str,
        variant: usize,
    ) -> Self {
        let written = form.apply(&value);
        let placement = if placement.fits(form, &written) {
            placement
        } else {
            Placement::Unclassified
        };
        let json = placement.record(object, region, &written.text, variant);
        Self {
            value,
            form,
            written,
            placement,
            object,
            json,
        }
    }
}

/// Where a form of the case's value shows on `route`: one line per place.
pub(crate) fn leaks(route: &Route, case: &Case) -> Vec<String> {
    let (record, out) = evaluate(route, &case.json);
    let class = Class::parse(case.value.class()).expect("a shipped class");
    if action_for(route, &record.object, class) == ActionKind::Pass {
        return Vec::new();
    }
    let needles = Needles::of(&case.value, &case.written);
    let mut found = Vec::new();
    let mut look = |place: &str, haystack: &str| {
        if let Some(form) = needles.found_in(haystack) {
            found.push(format!("{place}: {form:?} in {haystack:?}"));
        }
    };
    // The report names the record id, crossing or not.
    look("the record id", &record.id);
    for d in &out.fields {
        look("a field decision's path", d.path.as_str());
    }
    for r in &out.reasons {
        look("a block reason", &r.message);
        if let Some(field) = &r.field {
            look("a block reason's field", field);
        }
    }
    if out.decision == Decision::Transfer {
        let crossed = serde_json::to_value(&record).expect("a record serializes");
        let mut strings = Vec::new();
        json_strings(&crossed, &mut strings);
        for s in &strings {
            look("the crossing record", s);
        }
    }
    found
}

/// Every string, key and number of `json`, as text.
fn json_strings(json: &serde_json::Value, out: &mut Vec<String>) {
    match json {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Number(n) => out.push(n.to_string()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                json_strings(v, out);
            }
        }
        _ => {}
    }
}

fn describe(route: &Route, case: &Case, leaks: &[String]) -> String {
    format!(
        "{}: {:?} {:?} in {:?} of a {} ({:?} written {:?}):\n  {}\n  record: {}",
        route.label,
        case.value.kind,
        case.form,
        case.placement,
        case.object,
        case.value.secret,
        case.written.text,
        leaks.join("\n  "),
        case.json
    )
}

// ---- the property ---------------------------------------------------------------------------

fn any_case() -> impl Strategy<Value = (Case, usize)> {
    (
        0..Kind::ALL.len(),
        any::<u64>(),
        any::<usize>(),
        0..Placement::ALL.len(),
        any::<usize>(),
        0..routes().len(),
        0..3usize,
    )
        .prop_map(|(kind, seed, form, placement, object, route, variant)| {
            let value = Kind::ALL[kind].generate(&mut Rng::new(seed));
            let forms = Form::all_for(&value);
            let placement = Placement::ALL[placement];
            let objects = placement.object_kinds();
            let case = Case::new(
                value,
                forms[form % forms.len()],
                placement,
                objects[object % objects.len()],
                routes()[route].from,
                variant,
            );
            (case, route)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Any generated personal value, in any form and placement, on any cross-border route:
    /// no form of it shows where the route does not pass its class.
    #[test]
    fn no_form_of_a_personal_value_crosses_or_is_reported((case, route) in any_case()) {
        let route = &routes()[route];
        let leaks = leaks(route, &case);
        prop_assert!(leaks.is_empty(), "{}", describe(route, &case, &leaks));
    }
}

// ---- the sweep ------------------------------------------------------------------------------

/// Every form × placement of a few values of `kind` on every route; all leaks are collected
/// and counted per placement and form, so that one run shows what is missing.
fn sweep(kind: Kind) {
    const VALUES: u64 = 3;
    let mut leaks_by_place: std::collections::BTreeMap<String, usize> = Default::default();
    let mut examples = Vec::new();
    let mut cases = 0usize;
    for seed in 0..VALUES {
        let value = kind.generate(&mut Rng::new(0xC0_4905 + seed * 7919 + kind as u64));
        for (f, &form) in Form::all_for(&value).iter().enumerate() {
            for (p, &placement) in Placement::ALL.iter().enumerate() {
                let objects = placement.object_kinds();
                // Rotate through the object kinds so that each meets every form.
                let object = objects[(seed as usize + f + p) % objects.len()];
                for route in routes() {
                    let case = Case::new(value.clone(), form, placement, object, route.from, p);
                    cases += 1;
                    let found = leaks(route, &case);
                    if !found.is_empty() {
                        let count = leaks_by_place
                            .entry(format!("{:?} / {:?}", case.placement, form))
                            .or_default();
                        *count += 1;
                        // One example per placement and form.
                        if *count == 1 && examples.len() < 40 {
                            examples.push(describe(route, &case, &found));
                        }
                    }
                }
            }
        }
    }
    let total: usize = leaks_by_place.values().sum();
    assert!(
        total == 0,
        "{kind:?}: {total} of {cases} cases leak; by placement / form:\n{}\nexamples:\n{}",
        leaks_by_place
            .iter()
            .map(|(k, n)| format!("  {k}: {n}"))
            .collect::<Vec<_>>()
            .join("\n"),
        examples.join("\n\n")
    );
}

macro_rules! sweeps {
    ($($name:ident => $kind:ident,)*) => {
        $(
            #[test]
            fn $name() {
                sweep(Kind::$kind);
            }
        )*
    };
}

sweeps! {
    sweep_mainland_mobiles => CnMobile,
    sweep_mainland_landlines => CnLandline,
    sweep_german_mobiles => DeMobile,
    sweep_german_landlines => DeLandline,
    sweep_hong_kong_phones => HkPhone,
    sweep_resident_ids => CnResidentId,
    sweep_hong_kong_identity_cards => HkId,
    sweep_ibans => Iban,
    sweep_bank_cards => BankCard,
    sweep_email_addresses => Email,
}

/// The examples issue 18 names, each in every placement on every route.
#[test]
fn the_issues_examples_do_not_leak() {
    let examples: &[(Kind, &str)] = &[
        (Kind::HkId, "A123456(3)"),
        (Kind::HkId, "A123456 (3)"),
        (Kind::HkId, "a1234563"),
        (Kind::CnMobile, "＋８６ １３８ １２３４ ５６７８"),
        (Kind::Email, "li.na＠example.cn"),
        (Kind::Email, "li.na@exa\u{200B}mple.cn"),
        (Kind::DeMobile, "01711234567"),
        (Kind::DeLandline, "030 1234567"),
        (Kind::CnMobile, "8613812345678"),
        (Kind::DeLandline, "493012345678"),
        (Kind::HkPhone, "85291234567"),
        (Kind::CnMobile, "008613812345678"),
        (Kind::DeLandline, "(030) 1234567"),
        (Kind::CnMobile, "138.1234.5678"),
        (Kind::DeLandline, "030/1234567"),
        (Kind::DeLandline, "+49 30 1234567 x12"),
        (Kind::DeLandline, "+49 30 1234567 ext. 12"),
        (Kind::DeMobile, "Tel01711234567"),
        (Kind::CnMobile, "mobile_13812345678"),
        (Kind::CnResidentId, "110105 19491231 002X"),
        (Kind::CnResidentId, "110105-19491231-002x"),
        (Kind::CnResidentId, "ID11010519491231002X"),
        (Kind::CnResidentId, "sfz_11010519491231002x"),
        (Kind::Iban, "de89 3704 0044 0532 0130 00"),
        (Kind::Iban, "IBANDE89370400440532013000"),
        (Kind::Iban, "DE89.3704.0044.0532.0130.00"),
        (
            Kind::Iban,
            "DE89\u{00A0}3704\u{00A0}0044\u{00A0}0532\u{00A0}0130\u{00A0}00",
        ),
        (Kind::Iban, "DE89-3704-0044-0532-0130-00"),
        (Kind::BankCard, "6212 3456 7890 1234 569"),
        (Kind::DeLandline, "+49 30 12345678"),
    ];
    let mut failures = Vec::new();
    for &(kind, text) in examples {
        // The whole text is the secret: glued words and extensions included, so a leak of
        // any part that holds the number shows.
        let value = Value {
            kind,
            prefix: String::new(),
            secret: text.to_owned(),
            suffix: String::new(),
            canonical: text.to_owned(),
        };
        let (mut places, mut cases, mut first) = (Vec::new(), 0, None);
        for (p, &placement) in Placement::ALL.iter().enumerate() {
            for (o, object) in placement.object_kinds().iter().enumerate() {
                for route in routes() {
                    let case = Case::new(
                        value.clone(),
                        Form::Literal,
                        placement,
                        object,
                        route.from,
                        o + p,
                    );
                    let found = leaks(route, &case);
                    if !found.is_empty() {
                        cases += 1;
                        if !places.contains(&case.placement) {
                            places.push(case.placement);
                        }
                        first.get_or_insert_with(|| describe(route, &case, &found));
                    }
                }
            }
        }
        if let Some(first) = first {
            failures.push(format!(
                "{text:?} leaks in {cases} cases, placements {places:?}; the first: {first}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples leak:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n\n")
    );
}

/// The routes are not all blocks: with every condition a record with a masked phone crosses,
/// without them it stays — so the property above sees both.
#[test]
fn the_corpus_routes_transfer_and_block() {
    let json = |region: &str| {
        serde_json::json!({
            "id": "con-1", "object": "contact", "tenant": "t", "region": region,
            "subject": { "consent": "granted", "legal_basis": "contract" },
            "fields": { "phone": "+49 30 12345678", "title": "Buyer" },
        })
        .to_string()
    };
    let decision = |from: &str, to: &str, open: bool| {
        let route = routes()
            .iter()
            .find(|r| r.from == from && r.to == to && r.open == open)
            .expect("a corpus route");
        evaluate(route, &json(from)).1.decision
    };
    assert_eq!(routes().len(), 24);
    assert_eq!(
        decision("eu-frankfurt", "cn-beijing", true),
        Decision::Transfer
    );
    assert_eq!(
        decision("cn-beijing", "eu-frankfurt", true),
        Decision::Transfer
    );
    assert_eq!(
        decision("ap-hongkong", "eu-frankfurt", true),
        Decision::Transfer
    );
    assert_eq!(
        decision("eu-frankfurt", "cn-beijing", false),
        Decision::Block
    );
    assert_eq!(decision("eu-frankfurt", "ru-moscow", true), Decision::Block);
    assert_eq!(decision("ru-moscow", "eu-frankfurt", true), Decision::Block);
}
