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
    /// Most records per second the pipeline reads (`dss run`); unlimited when absent.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// What `dss run` does after a record goes to the dead letters: `continue` (the default)
    /// or `stop` (the batch with the dead letter commits, then the run fails).
    #[serde(default)]
    pub on_dead_letter: Option<OnDeadLetter>,
}

/// A rate limit on the records a pipeline reads (a token bucket: `burst` records at once,
/// refilled at `records_per_second`).
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained records per second (at least 1).
    pub records_per_second: u32,
    /// Records admitted at once after an idle spell (default: one second's worth).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// What a run does after a dead letter.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnDeadLetter {
    /// Keep the dead letter in the origin region and go on with the next record.
    #[default]
    Continue,
    /// Keep the dead letter, commit its batch, then fail the run (exit code 3) so that an
    /// operator looks before anything else moves.
    Stop,
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
    /// Region id (for a file: the region whose law the file is under).
    pub region: Loc<String>,
    /// Tenant.
    pub tenant: String,
    /// `file` connector: the file, relative to the configuration file.
    #[serde(default)]
    pub path: Option<Loc<String>>,
    /// `file` connector: `jsonl` (canonical records, one per line) or `csv`; by default
    /// from the file's extension (`.csv`, otherwise JSON Lines).
    #[serde(default)]
    pub format: Option<FileFormat>,
    /// `file` connector, CSV destination: the columns to write (field paths, or `id`,
    /// `object`, `tenant`, `version`, `updated_at`, `subject.id`, `subject.country`).
    #[serde(default)]
    pub columns: Option<Vec<String>>,
}

/// How a file holds records.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// JSON Lines: one canonical record per line (`docs/records.md`).
    Jsonl,
    /// CSV with a header row (`docs/operations.md` says how columns map to a record).
    Csv,
}

/// A validated endpoint: which connector, and its settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connector {
    /// A tenant of the CRM domain store.
    Crm,
    /// A JSON Lines or CSV file.
    File {
        /// As written (relative to the file that names it).
        path: String,
        /// Its format.
        format: FileFormat,
        /// CSV columns to write (destinations only).
        columns: Vec<String>,
    },
    /// A connector named in the format that `dss run` does not provide yet (`u8`, `sap`,
    /// `oa`).
    Other(String),
}

impl Connector {
    /// The connector's name as written in YAML.
    pub fn name(&self) -> &str {
        match self {
            Connector::Crm => "crm",
            Connector::File { .. } => "file",
            Connector::Other(name) => name,
        }
    }
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
    pub source: Connector,
    /// Destination connector.
    pub destination: Connector,
    /// When it runs.
    pub schedule: Schedule,
    /// Records per transaction.
    pub max_batch_records: u32,
    /// Retries.
    pub retry: Retry,
    /// Rate limit on records read.
    pub rate_limit: Option<RateLimit>,
    /// What to do after a dead letter.
    pub on_dead_letter: OnDeadLetter,
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
            connector_of(r, e, &format!("{path}.{which}"), which == "destination");
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
        if p.rate_limit
            .is_some_and(|l| l.records_per_second == 0 || l.burst == Some(0))
        {
            r.key(
                name,
                format!("{path}.rate_limit"),
                "`records_per_second` and `burst` must be at least 1",
            );
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
                source: connector_of(r, &p.source, "", false),
                destination: connector_of(r, &p.destination, "", true),
                schedule: p.schedule.unwrap_or(Schedule::Once),
                max_batch_records: p.max_batch_records.unwrap_or(500).max(1),
                retry: p.retry.unwrap_or_default(),
                rate_limit: p.rate_limit,
                on_dead_letter: p.on_dead_letter.unwrap_or_default(),
            });
        }
    }
    out
}

/// The connector an endpoint names, with its settings checked; problems are reported under
/// `path` (nothing is reported when `path` is empty: the endpoint was checked already).
fn connector_of(
    r: &mut Reporter<'_>,
    e: &EndpointSpec,
    path: &str,
    destination: bool,
) -> Connector {
    let mut report = |loc: &Loc<String>, what: &str, msg: String| {
        if !path.is_empty() {
            r.loc(loc, format!("{path}.{what}"), msg);
        }
    };
    match e.connector.value.as_str() {
        "file" => {
            let Some(file) = &e.path else {
                report(
                    &e.connector,
                    "path",
                    "a `file` endpoint needs a `path`".into(),
                );
                return Connector::Other("file".into());
            };
            let format = e.format.unwrap_or(if file.value.ends_with(".csv") {
                FileFormat::Csv
            } else {
                FileFormat::Jsonl
            });
            let columns = e.columns.clone().unwrap_or_default();
            if destination && format == FileFormat::Csv && columns.is_empty() {
                report(
                    file,
                    "columns",
                    "a CSV destination needs `columns` (the field paths to write, in order)".into(),
                );
            }
            Connector::File {
                path: file.value.clone(),
                format,
                columns,
            }
        }
        other => {
            if let Some(file) = &e.path {
                report(
                    file,
                    "path",
                    format!("`path` is for the `file` connector, not {other:?}"),
                );
            }
            if other == "crm" {
                Connector::Crm
            } else {
                Connector::Other(other.to_owned())
            }
        }
    }
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
