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
            });
        }
    }
    out
}
