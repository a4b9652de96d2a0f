//! The pipeline file, as far as a dry run needs it: where records come from and go to, which
//! objects, for what purpose, on which legal basis and with which conditions in place.
//!
//! Full pipelines (schedules, mappings, retries) extend this format; a file written for the
//! dry run stays valid. Schema: `docs/schemas/pipeline.schema.json`.

use std::collections::BTreeMap;

use dss_core::{LegalBasis, ObjectKind, RegionId};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::action::Condition;
use crate::diag::{Diagnostic, Diagnostics, Reporter, Source, parse_yaml};
use crate::loc::Loc;
use crate::plan::RouteSpec;
use crate::set::PolicySet;

/// Connectors a pipeline endpoint may name.
pub const CONNECTORS: &[&str] = &["crm", "file", "u8", "sap", "oa"];

/// A pipeline file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Format version; must be 1.
    pub version: Loc<u32>,
    /// Pipelines by name.
    pub pipelines: BTreeMap<String, PipelineSpec>,
}

/// One pipeline.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// What the pipeline is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Where records come from.
    pub source: EndpointSpec,
    /// Where records go.
    pub destination: EndpointSpec,
    /// Object kinds the pipeline moves.
    pub objects: Vec<Loc<String>>,
    /// Purpose of processing (rules may match it).
    pub purpose: String,
    /// Legal basis the transfer relies on: `consent`, `contract`, `legal_obligation`,
    /// `vital_interests`, `public_task`, `legitimate_interests`.
    #[serde(default)]
    pub legal_basis: Option<Loc<String>>,
    /// Conditions in place for this route: `standard_contract`, `regulator_filing`,
    /// `security_assessment`, `certification` (consent is checked per record).
    #[serde(default)]
    pub conditions: Vec<Loc<String>>,
    /// Policy set directory, relative to this file; the shipped default when absent.
    #[serde(default)]
    pub policy: Option<String>,
    /// When the pipeline runs (`dss run`); a dry run ignores it.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Records per transaction (`dss run`); default 500.
    #[serde(default)]
    pub max_batch_records: Option<u32>,
    /// How `dss run` retries a pipeline whose store or transport fails.
    #[serde(default)]
    pub retry: Option<Retry>,
}

/// Retries with exponential backoff and full jitter: attempt `n` (from 0) waits a random time
/// in `[0, min(max_backoff_ms, initial_backoff_ms × 2ⁿ)]`. A pipeline resumes from its
/// checkpoints, so a retry repeats nothing that committed.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts in all, the first included (default 5).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Backoff ceiling of the first retry, in milliseconds (default 200).
    #[serde(default = "default_initial_backoff")]
    pub initial_backoff_ms: u64,
    /// Largest backoff ceiling, in milliseconds (default 30,000).
    #[serde(default = "default_max_backoff")]
    pub max_backoff_ms: u64,
}

fn default_attempts() -> u32 {
    5
}

fn default_initial_backoff() -> u64 {
    200
}

fn default_max_backoff() -> u64 {
    30_000
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            max_attempts: default_attempts(),
            initial_backoff_ms: default_initial_backoff(),
            max_backoff_ms: default_max_backoff(),
        }
    }
}

impl Retry {
    /// The wait before retry `attempt` (0 for the first retry), given a uniform random number
    /// in `[0, 1)`: full jitter over the exponential ceiling.
    pub fn backoff(&self, attempt: u32, random01: f64) -> std::time::Duration {
        let ceiling = self
            .initial_backoff_ms
            .saturating_mul(1u64 << attempt.min(30))
            .min(self.max_backoff_ms);
        std::time::Duration::from_millis((ceiling as f64 * random01.clamp(0.0, 1.0)) as u64)
    }
}

/// When a pipeline runs.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Once: everything in the source's change feed, then stop.
    Once,
    /// Every `interval_ms`.
    Every {
        /// Milliseconds between runs.
        interval_ms: u64,
    },
    /// Continuously, following the change feed.
    Continuous,
}

/// One end of a pipeline.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Connector: `crm`, `file`, `u8`, `sap` or `oa`.
    pub connector: Loc<String>,
    /// Region id.
    pub region: Loc<String>,
    /// Tenant.
    pub tenant: String,
}

/// A validated pipeline.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// Its name.
    pub name: String,
    /// The route it transfers along.
    pub route: RouteSpec,
    /// Source tenant.
    pub source_tenant: String,
    /// Object kinds it moves.
    pub objects: Vec<ObjectKind>,
    /// Policy directory as written (relative to the pipeline file).
    pub policy: Option<String>,
    /// Source connector.
    pub source_connector: String,
    /// Destination connector.
    pub destination_connector: String,
    /// When it runs.
    pub schedule: Schedule,
    /// Records per transaction.
    pub max_batch_records: u32,
    /// Retries.
    pub retry: Retry,
}

/// Parses a pipeline file into its pipelines' policy directories, before the policy is
/// loaded (each pipeline may name its own).
pub fn parse(source: &Source) -> Result<PipelineFile, Diagnostics> {
    parse_yaml::<PipelineFile>(source).map_err(|d| Diagnostics(vec![d]))
}

/// Validates a parsed pipeline file against the policy set it will run under.
pub fn validate(
    source: &Source,
    file: &PipelineFile,
    set: &PolicySet,
) -> Result<Vec<Pipeline>, Diagnostics> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut r = Reporter {
        source,
        out: &mut diags,
    };
    if file.version.value != 1 {
        r.loc(
            &file.version,
            "version",
            format!("unsupported version {} (expected 1)", file.version.value),
        );
    }
    if file.pipelines.is_empty() {
        r.key("pipelines", "pipelines", "no pipelines defined");
    }
    let out = validate_specs(&mut r, &file.pipelines, set);
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(diags))
    }
}

/// Validates the pipelines of a configuration file (`dss run --config`), reporting against
/// that file.
pub fn validate_config_pipelines(
    source: &Source,
    pipelines: &BTreeMap<String, PipelineSpec>,
    set: &PolicySet,
) -> Result<Vec<Pipeline>, Diagnostics> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    let out = validate_specs(
        &mut Reporter {
            source,
            out: &mut diags,
        },
        pipelines,
        set,
    );
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(diags))
    }
}

/// Validates pipeline specs (the `pipelines` section of a pipeline or configuration file).
fn validate_specs(
    r: &mut Reporter<'_>,
    pipelines: &BTreeMap<String, PipelineSpec>,
    set: &PolicySet,
) -> Vec<Pipeline> {
    let regions = set
        .region_ids()
        .map(RegionId::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = Vec::new();
    for (name, p) in pipelines {
        let path = format!("pipelines.{name}");
        let mut endpoint = |e: &EndpointSpec, which: &str| {
            if !CONNECTORS.contains(&e.connector.value.as_str()) {
                r.loc(
                    &e.connector,
                    format!("{path}.{which}.connector"),
                    format!(
                        "unknown connector {:?} (expected one of: {})",
                        e.connector.value,
                        CONNECTORS.join(", ")
                    ),
                );
            }
            match RegionId::new(&e.region).filter(|id| set.region(id.as_str()).is_some()) {
                Some(id) => Some(id),
                None => {
                    r.loc(
                        &e.region,
                        format!("{path}.{which}.region"),
                        format!(
                            "unknown region {:?} (expected one of: {regions})",
                            e.region.value
                        ),
                    );
                    None
                }
            }
        };
        let from = endpoint(&p.source, "source");
        let to = endpoint(&p.destination, "destination");
        let mut objects = Vec::new();
        for (i, o) in p.objects.iter().enumerate() {
            match ObjectKind::parse(o) {
                Some(k) => objects.push(k),
                None => r.loc(o, format!("{path}.objects[{i}]"), format!("invalid object kind {:?} (expected a built-in kind or a lowercase snake_case custom kind)", o.value)),
            }
        }
        let legal_basis = p.legal_basis.as_ref().and_then(|b| {
            let parsed: Option<LegalBasis> = serde_json::from_value(serde_json::Value::String(b.value.clone())).ok();
            if parsed.is_none() {
                r.loc(b, format!("{path}.legal_basis"), format!("unknown legal basis {:?} (expected one of: consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests)", b.value));
            }
            parsed
        });
        let mut conditions = Vec::new();
        for (i, c) in p.conditions.iter().enumerate() {
            match Condition::parse(c) {
                Some(c) => conditions.push(c),
                None => r.loc(
                    c,
                    format!("{path}.conditions[{i}]"),
                    format!(
                        "unknown condition {:?} (expected one of: {})",
                        c.value,
                        Condition::all_names()
                    ),
                ),
            }
        }
        if let (Some(from), Some(to)) = (from, to) {
            out.push(Pipeline {
                name: name.clone(),
                route: RouteSpec {
                    from,
                    to,
                    to_tenant: Some(p.destination.tenant.clone()),
                    purpose: Some(p.purpose.clone()),
                    legal_basis,
                    conditions,
                },
                source_tenant: p.source.tenant.clone(),
                objects,
                policy: p.policy.clone(),
                source_connector: p.source.connector.value.clone(),
                destination_connector: p.destination.connector.value.clone(),
                schedule: p.schedule.unwrap_or(Schedule::Once),
                max_batch_records: p.max_batch_records.unwrap_or(500).max(1),
                retry: p.retry.unwrap_or_default(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Retry;
    use std::time::Duration;

    #[test]
    fn backoff_grows_exponentially_under_a_ceiling_with_full_jitter() {
        let r = Retry {
            max_attempts: 5,
            initial_backoff_ms: 100,
            max_backoff_ms: 1_000,
        };
        assert_eq!(r.backoff(0, 0.999_999), Duration::from_millis(99));
        assert_eq!(r.backoff(1, 0.5), Duration::from_millis(100));
        assert_eq!(r.backoff(2, 1.0), Duration::from_millis(400));
        assert_eq!(r.backoff(4, 1.0), Duration::from_millis(1_000), "capped");
        assert_eq!(
            r.backoff(63, 1.0),
            Duration::from_millis(1_000),
            "no overflow"
        );
        assert_eq!(
            r.backoff(3, 0.0),
            Duration::ZERO,
            "full jitter reaches zero"
        );
    }
}
