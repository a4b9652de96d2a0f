//! The DSS policy engine: decides, field by field, what may cross a border.
//!
//! Pure: no I/O, no async, no clock. Callers hand in YAML text ([`Source`]), keys and the
//! current time; the engine hands back decisions and transformed records.
//!
//! # Layout
//! - [`spec`]: the YAML types (and, through schemars, `docs/schemas/policy.schema.json`).
//! - [`load`](PolicySet::from_sources): parse, merge, validate into a [`PolicySet`] with
//!   `file:line:column: key.path: message` diagnostics.
//! - [`class`], [`action`]: field classes, actions, conditions.
//! - [`plan`]: [`Planner`] compiles a [`Plan`] per route, object kind and provenance chain.
//! - [`eval`]: [`Evaluator`] applies a plan to records: [`Outcome`] per record.
//! - [`mask`], [`token`], [`scan`]: masking, keyed tokens and sealing, free-text scanning.
//! - [`by_name`]: what an unclassified field's name says about its data.
//! - [`testing`]: policy unit tests written in YAML.
//! - [`pipeline`]: the pipeline file as far as a dry run needs it.
//! - `default_sources`: the shipped default policy set, embedded.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod action;
pub mod by_name;
pub mod class;
pub mod diag;
pub mod eval;
mod load;
pub mod loc;
mod mac;
pub mod mask;
mod name;
pub mod pipeline;
pub mod plan;
pub mod scan;
pub mod set;
pub mod spec;
pub mod testing;
pub mod token;

pub use action::{Action, ActionKind, Condition};
pub use class::Class;
pub use diag::{Diagnostic, Diagnostics, Source};
pub use eval::{BlockReason, Decision, Evaluator, FieldDecision, Outcome, VaultWrite};
pub use name::FieldName;
pub use plan::{Plan, Planner, RouteError, RouteSpec};
pub use scan::{Context as ScanContext, Scanner};
pub use set::{PolicySet, RuleRef, SubjectThreshold};
pub use token::{Keyring, TokenError};

/// The benchmark workload's route: the shipped default set, `cn-beijing` → `eu-frankfurt`
/// (medium control) for `crm_sync` on a contract with a standard contract and a regulator
/// filing. Shared by the benches and profiling examples so they measure the same thing.
#[doc(hidden)]
pub fn medium_route_fixture() -> (std::sync::Arc<PolicySet>, RouteSpec) {
    let set = PolicySet::from_sources(&default_sources()).expect("the default policy set loads");
    let region = |r: &str| dss_core::RegionId::new(r).expect("valid region id");
    let route = RouteSpec {
        from: region("cn-beijing"),
        to: region("eu-frankfurt"),
        to_tenant: Some("eu-sales".into()),
        purpose: Some("crm_sync".into()),
        legal_basis: Some(dss_core::LegalBasis::Contract),
        conditions: vec![Condition::StandardContract, Condition::RegulatorFiling],
    };
    (std::sync::Arc::new(set), route)
}

/// The shipped default policy set (`policies/default/*.yaml`), embedded in the binary.
pub fn default_sources() -> Vec<Source> {
    macro_rules! files {
        ($($name:literal),*) => {
            vec![$(Source {
                name: concat!("policies/default/", $name).to_owned(),
                text: include_str!(concat!("../default/", $name)).to_owned(),
            }),*]
        };
    }
    files!(
        "levels.yaml",
        "jurisdictions.yaml",
        "classification.yaml",
        "rules.yaml",
        "tests.yaml"
    )
}
