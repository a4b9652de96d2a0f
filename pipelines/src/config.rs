//! The configuration file of a DSS deployment: where each region's store is, which tenants
//! live where, and the pipelines between them. Schema: `docs/schemas/config.schema.json`.
//!
//! ```yaml
//! version: 1
//! data_dir: .dss                 # SQLite files and dev keys, relative to this file
//! regions:
//!   eu-frankfurt: {}             # sqlite://<data_dir>/eu-frankfurt.db
//!   cn-beijing: { store: postgres://dss@db.cn/dss }
//! tenants:
//!   eu-sales: { region: eu-frankfurt, seed: { contacts: 1500 } }
//! pipelines:
//!   eu-to-hq: { source: …, destination: …, objects: […], purpose: …, legal_basis: … }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dss_policies::diag::{Diagnostic, Diagnostics, Source, parse_yaml};
use dss_policies::loc::Loc;
use dss_policies::pipeline::{Connector, Pipeline, PipelineSpec, validate_config_pipelines};
use dss_policies::{PolicySet, default_sources};
use schemars::JsonSchema;
use serde::Deserialize;

/// The configuration file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Format version; must be 1.
    pub version: Loc<u32>,
    /// Directory for SQLite stores and development keys, relative to this file (default
    /// `.dss`).
    #[serde(default)]
    pub data_dir: Option<String>,
    /// Policy set directory, relative to this file; the shipped default when absent.
    #[serde(default)]
    pub policies: Option<String>,
    /// Token key file (`<key id>:<base64 32-byte key>` per line, the last active), relative to
    /// this file. When absent a development key is created in `data_dir` on first use: fine
    /// for a demo, never for production.
    #[serde(default)]
    pub token_keys: Option<String>,
    /// Regions this deployment runs, by id.
    pub regions: BTreeMap<String, RegionConfig>,
    /// Tenants, by name.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantConfig>,
    /// Pipelines, by name (the format of pipeline files, plus `schedule` and
    /// `max_batch_records`).
    #[serde(default)]
    pub pipelines: BTreeMap<String, PipelineSpec>,
    /// The gRPC gateway of each region (`dss serve`).
    #[serde(default)]
    pub gateway: Option<crate::gateway_config::GatewayFile>,
}

/// A region of the deployment.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// Store URL: `sqlite://PATH` or `postgres://…`; default a SQLite file in `data_dir`.
    #[serde(default)]
    pub store: Option<String>,
}

/// A tenant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The region it lives in.
    pub region: Loc<String>,
    /// Synthetic records to create when the tenant is empty (demo deployments).
    #[serde(default)]
    pub seed: Option<SeedConfig>,
}

/// How many synthetic records to seed.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedConfig {
    /// Contacts.
    #[serde(default)]
    pub contacts: u32,
    /// Accounts.
    #[serde(default)]
    pub accounts: u32,
    /// Orders.
    #[serde(default)]
    pub orders: u32,
    /// Products.
    #[serde(default)]
    pub products: u32,
    /// Random seed (the same seed gives the same records).
    #[serde(default)]
    pub seed: u64,
}

/// A validated configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Token key file, if configured.
    pub token_keys: Option<PathBuf>,
    /// The policy set.
    pub set: std::sync::Arc<PolicySet>,
    /// Region id → store URL.
    pub regions: BTreeMap<String, String>,
    /// Tenant → (region, seed).
    pub tenants: BTreeMap<String, (String, Option<SeedConfig>)>,
    /// Validated pipelines, by name order.
    pub pipelines: Vec<Pipeline>,
    /// The gateway section.
    pub gateway: crate::gateway_config::Gateway,
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// YAML or validation problems, each with file, line, column and key path.
    #[error("{0}")]
    Invalid(#[from] Diagnostics),
}

impl Config {
    /// The regions a process serving `regions` needs stores for: those, and the regions
    /// their pipelines deliver to (the embedded transport writes into the destination's
    /// store).
    pub fn regions_serving(&self, regions: &[String]) -> Vec<String> {
        let mut needed = regions.to_vec();
        for p in &self.pipelines {
            if regions.iter().any(|r| r == p.route.from.as_str())
                && matches!(p.destination, Connector::Crm)
            {
                needed.push(p.route.to.as_str().to_owned());
            }
        }
        needed.sort();
        needed.dedup();
        needed
    }

    /// Loads and validates a configuration file (and the policy set it names), with the
    /// `DSS_` environment variables of this process overriding its keys (see
    /// [`Config::load_with_env`]).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with_env(path, crate::overrides::process_env())
    }

    /// Loads and validates a configuration file with `env` overriding its keys:
    /// `DSS_GATEWAY__LISTEN__CN_BEIJING=0.0.0.0:7443` sets `gateway.listen.cn-beijing`, and
    /// `DSS_REGIONS__CN_BEIJING__STORE__FILE=/run/secrets/db` sets the store URL to the
    /// content of that file. Problems keep the file's line and column, or name the variable.
    pub fn load_with_env(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.display().to_string(),
            error,
        })?;
        let name = path.display().to_string();
        let mut overlay = crate::overrides::apply(&text, env)?;
        let text = std::mem::take(&mut overlay.text);
        Self::from_text(path, text).map_err(|e| match e {
            ConfigError::Invalid(d) => ConfigError::Invalid(Diagnostics(
                d.0.into_iter().map(|d| overlay.remap(&name, d)).collect(),
            )),
            e => e,
        })
    }

    /// Validates configuration text as if it were the file at `path` (relative paths resolve
    /// against that file's directory); no environment overrides.
    pub fn from_text(path: &Path, text: String) -> Result<Self, ConfigError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|error| ConfigError::Read {
                path: p.display().to_string(),
                error,
            })
        };
        let source = Source {
            name: path.display().to_string(),
            text,
        };
        let file: ConfigFile = parse_yaml(&source).map_err(|d| Diagnostics(vec![d]))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let set = match &file.policies {
            None => PolicySet::from_sources(&default_sources())?,
            Some(dir) => {
                let dir = base.join(dir);
                let mut sources = Vec::new();
                let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .map_err(|error| ConfigError::Read {
                        path: dir.display().to_string(),
                        error,
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
                    })
                    .collect();
                entries.sort();
                for p in entries {
                    sources.push(Source {
                        name: p.display().to_string(),
                        text: read(&p)?,
                    });
                }
                PolicySet::from_sources(&sources)?
            }
        };
        let mut diags: Vec<Diagnostic> = Vec::new();
        let problem =
            |diags: &mut Vec<Diagnostic>, line: u32, column: u32, path: String, message: String| {
                diags.push(Diagnostic {
                    file: source.name.clone(),
                    line,
                    column,
                    path,
                    message,
                });
            };
        if file.version.value != 1 {
            problem(
                &mut diags,
                file.version.line,
                file.version.column,
                "version".into(),
                format!("unsupported version {} (expected 1)", file.version.value),
            );
        }
        let data_dir = base.join(file.data_dir.as_deref().unwrap_or(".dss"));
        let valid_regions = set
            .region_ids()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut regions = BTreeMap::new();
        for (id, r) in &file.regions {
            if set.region(id).is_none() {
                let (line, column) = dss_policies::diag::locate_key(&source.text, id);
                problem(
                    &mut diags,
                    line,
                    column,
                    format!("regions.{id}"),
                    format!("unknown region {id:?} (expected one of: {valid_regions})"),
                );
            }
            let url = r.store.clone().unwrap_or_else(|| {
                format!("sqlite://{}", data_dir.join(format!("{id}.db")).display())
            });
            regions.insert(id.clone(), url);
        }
        let mut tenants = BTreeMap::new();
        for (name, t) in &file.tenants {
            if !regions.contains_key(&t.region.value) {
                let configured = regions.keys().cloned().collect::<Vec<_>>().join(", ");
                problem(
                    &mut diags,
                    t.region.line,
                    t.region.column,
                    format!("tenants.{name}.region"),
                    format!(
                        "region {:?} is not configured (configured: {configured})",
                        t.region.value
                    ),
                );
            }
            tenants.insert(name.clone(), (t.region.value.clone(), t.seed.clone()));
        }
        let mut pipelines = match validate_config_pipelines(&source, &file.pipelines, &set) {
            Ok(p) => p,
            Err(d) => {
                diags.extend(d.0);
                Vec::new()
            }
        };
        for p in &mut pipelines {
            let (line, column) = dss_policies::diag::locate_key(&source.text, &p.name);
            let to_tenant = p
                .route
                .to_tenant
                .clone()
                .expect("validated pipelines name a tenant");
            for (which, region, tenant, connector) in [
                ("source", &p.route.from, &p.source_tenant, &mut p.source),
                ("destination", &p.route.to, &to_tenant, &mut p.destination),
            ] {
                let path = format!("pipelines.{}.{which}", p.name);
                match connector {
                    Connector::Crm => {}
                    // Files are read and written relative to the configuration file; a
                    // file destination needs no store in its region.
                    Connector::File { path: file, .. } => {
                        *file = base.join(&*file).display().to_string();
                        if which == "destination" {
                            continue;
                        }
                    }
                    Connector::Other(name) => problem(
                        &mut diags,
                        line,
                        column,
                        format!("{path}.connector"),
                        format!(
                            "connector {name:?} is not available in `dss run` yet (available: crm, file)"
                        ),
                    ),
                }
                if !regions.contains_key(region.as_str()) {
                    problem(
                        &mut diags,
                        line,
                        column,
                        format!("{path}.region"),
                        format!("region {region} is not configured in `regions`"),
                    );
                }
                if !matches!(connector, Connector::Crm) {
                    continue;
                }
                match tenants.get(tenant.as_str()) {
                    None => problem(
                        &mut diags,
                        line,
                        column,
                        format!("{path}.tenant"),
                        format!("tenant {tenant:?} is not configured in `tenants`"),
                    ),
                    Some((r, _)) if r != region.as_str() => problem(
                        &mut diags,
                        line,
                        column,
                        format!("{path}.tenant"),
                        format!("tenant {tenant:?} lives in {r}, not {region}"),
                    ),
                    Some(_) => {}
                }
            }
        }
        let gateway = crate::gateway_config::validate(
            file.gateway.as_ref().unwrap_or(&Default::default()),
            base,
            &regions,
            &tenants,
            &set,
            &mut |at, path, message| {
                let (line, column) =
                    at.unwrap_or_else(|| dss_policies::diag::locate_key(&source.text, "gateway"));
                problem(&mut diags, line, column, path, message);
            },
        );
        if !diags.is_empty() {
            return Err(Diagnostics(diags).into());
        }
        Ok(Config {
            path: path.to_owned(),
            token_keys: file.token_keys.as_ref().map(|k| base.join(k)),
            data_dir,
            set: std::sync::Arc::new(set),
            regions,
            tenants,
            pipelines,
            gateway,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn a_region_is_served_with_the_stores_its_pipelines_deliver_to() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/quickstart/dss.yaml"
        );
        let config = Config::load_with_env(path.as_ref(), Vec::new()).unwrap();
        let serving = |r: &[&str]| {
            config.regions_serving(&r.iter().map(|r| r.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(serving(&["ap-hongkong"]), ["ap-hongkong", "cn-beijing"]);
        assert_eq!(
            serving(&["eu-frankfurt"]),
            ["cn-beijing", "eu-frankfurt", "ru-moscow"]
        );
        assert_eq!(serving(&["ru-moscow"]), ["ru-moscow"]);
    }
}
