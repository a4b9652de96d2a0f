//! Reading policy directories and pipeline files from disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use dss_policies::pipeline::{self, Pipeline, PipelineFile};
use dss_policies::{Diagnostics, PolicySet, Source, default_sources};

/// Where a policy set came from, for messages.
#[derive(Clone, Debug)]
pub enum PolicyOrigin {
    /// The set shipped in the binary.
    Default,
    /// A directory.
    Dir(PathBuf),
}

impl std::fmt::Display for PolicyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyOrigin::Default => f.write_str("the shipped default policy set"),
            PolicyOrigin::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

/// A configuration problem: YAML diagnostics or an unreadable file. Exit code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl From<Diagnostics> for ConfigError {
    fn from(d: Diagnostics) -> Self {
        ConfigError(d.to_string())
    }
}

/// The YAML files of a policy directory (`*.yaml`, `*.yml`), sorted by name.
pub fn read_policy_dir(dir: &Path) -> anyhow::Result<Vec<Source>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read policy directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("policy directory {} holds no .yaml files", dir.display());
    }
    paths.iter().map(|p| read_source(p)).collect()
}

/// Reads one file as a [`Source`].
pub fn read_source(path: &Path) -> anyhow::Result<Source> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Source {
        name: path.display().to_string(),
        text,
    })
}

/// Loads a policy set from `dir`, or the shipped default.
pub fn load_policy(dir: Option<&Path>) -> Result<(Arc<PolicySet>, PolicyOrigin), ConfigError> {
    let (sources, origin) = match dir {
        Some(d) => (
            read_policy_dir(d).map_err(|e| ConfigError(format!("{e:#}")))?,
            PolicyOrigin::Dir(d.to_owned()),
        ),
        None => (default_sources(), PolicyOrigin::Default),
    };
    let set = PolicySet::from_sources(&sources)?;
    Ok((Arc::new(set), origin))
}

/// A pipeline file with the policy set it runs under.
pub struct LoadedPipelines {
    /// The validated pipelines.
    pub pipelines: Vec<Pipeline>,
    /// The policy set.
    pub set: Arc<PolicySet>,
    /// Where the policy set came from.
    pub origin: PolicyOrigin,
}

/// Loads a pipeline file and its policy set: `policies` if given, else the directory the
/// file names (relative to the file), else the shipped default.
pub fn load_pipelines(
    path: &Path,
    policies: Option<&Path>,
) -> Result<LoadedPipelines, ConfigError> {
    let source = read_source(path).map_err(|e| ConfigError(format!("{e:#}")))?;
    let file: PipelineFile = pipeline::parse(&source)?;
    let named: Option<PathBuf> = file
        .pipelines
        .values()
        .find_map(|p| p.policy.as_ref())
        .map(|p| path.parent().unwrap_or(Path::new(".")).join(p));
    let dir = policies.map(Path::to_path_buf).or(named);
    let (set, origin) = load_policy(dir.as_deref())?;
    let pipelines = pipeline::validate(&source, &file, &set)?;
    Ok(LoadedPipelines {
        pipelines,
        set,
        origin,
    })
}
