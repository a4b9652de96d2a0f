//! The policy engine against the shipped default policy set.

use std::sync::Arc;

use dss_policies::testing::run_tests;
use dss_policies::{PolicySet, default_sources};

fn default_set() -> Arc<PolicySet> {
    Arc::new(PolicySet::from_sources(&default_sources()).unwrap_or_else(|d| panic!("default policy set: {d}")))
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
    assert!(failed.is_empty(), "failed policy tests:\n{}", failed.join("\n"));
}
