//! The `gateway` section of the configuration file: where each region's gRPC gateway listens,
//! its TLS, who may call it (callers, by client certificate or API token, with a role, a
//! region and the tenants they may touch) and the rate limits.
//!
//! ```yaml
//! gateway:
//!   listen: { eu-frankfurt: 127.0.0.1:7443, cn-beijing: 127.0.0.1:7444 }
//!   metrics: { eu-frankfurt: 127.0.0.1:9464 }
//!   tls: { ca: certs/ca.pem, cert: "certs/{region}.pem", key: "certs/{region}.key", client_auth: optional }
//!   callers:
//!     eu-app: { role: integration, region: eu-frankfurt, tenants: [eu-sales, cn-hq], certificate: eu-app,
//!               legal_basis: contract, conditions: [standard_contract] }
//!     dpo: { role: dpo, region: eu-frankfurt, token_file: secrets/dpo.token }
//!   rate_limits: { per_client: { per_second: 500 }, per_tenant: { per_second: 2000 } }
//! ```

use std::collections::BTreeMap;

use dss_policies::loc::Loc;
use schemars::JsonSchema;
use serde::Deserialize;

/// The gateway section as written.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// Region → gRPC listen address (`host:port`).
    #[serde(default)]
    pub listen: BTreeMap<String, Loc<String>>,
    /// Region → HTTP address for Prometheus metrics (`/metrics`) and health (`/livez`,
    /// `/readyz`).
    #[serde(default)]
    pub metrics: BTreeMap<String, Loc<String>>,
    /// TLS; without it the gateway serves plaintext (development only).
    #[serde(default)]
    pub tls: Option<TlsFile>,
    /// Who may call, by name.
    #[serde(default)]
    pub callers: BTreeMap<String, CallerFile>,
    /// Rate limits.
    #[serde(default)]
    pub rate_limits: Option<RateLimitsFile>,
}

/// TLS settings; `{region}` in `cert` and `key` stands for the region served.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// PEM of the CA that signs client certificates (mutual TLS).
    pub ca: String,
    /// PEM certificate chain of the server.
    pub cert: String,
    /// PEM private key of the server.
    pub key: String,
    /// `required`: every client presents a certificate; `optional` (default): a client
    /// without one must present an API token.
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
}

/// Whether clients must present certificates.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// Certificates or API tokens.
    #[default]
    Optional,
    /// Certificates only.
    Required,
}

/// One caller.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerFile {
    /// `admin` (pipelines, policies), `integration` (CRM read/write of its tenants), `dpo`
    /// (audit, data-subject requests) or `reader` (CRM read of its tenants).
    pub role: Loc<String>,
    /// The region the caller is in: reads of records from another jurisdiction go through
    /// the policy of that route.
    pub region: Loc<String>,
    /// Tenants whose CRM records the caller may read (and, for `integration`, write).
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Common name of the caller's client certificate.
    #[serde(default)]
    pub certificate: Option<String>,
    /// SHA-256 (hex) of the caller's API token.
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// A file holding the API token (relative to the configuration file); it is hashed on
    /// load and never kept.
    #[serde(default)]
    pub token_file: Option<String>,
    /// Purpose of the caller's reads (rules may match it).
    #[serde(default)]
    pub purpose: Option<String>,
    /// Legal basis its cross-border reads rely on.
    #[serde(default)]
    pub legal_basis: Option<String>,
    /// Conditions in place for its cross-border reads (`standard_contract`, …).
    #[serde(default)]
    pub conditions: Vec<String>,
}

/// Rate limits.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsFile {
    /// Per caller.
    #[serde(default)]
    pub per_client: Option<Limit>,
    /// Per tenant named in requests.
    #[serde(default)]
    pub per_tenant: Option<Limit>,
}

/// A token bucket.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Sustained calls per second.
    pub per_second: u32,
    /// Calls admitted at once (default: one second's worth).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// A caller's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Pipelines and policies.
    Admin,
    /// CRM reads and writes of its tenants.
    Integration,
    /// Audit and data-subject requests.
    Dpo,
    /// CRM reads of its tenants.
    Reader,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Integration, Role::Dpo, Role::Reader];

    /// Parses a role name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Integration => "integration",
            Role::Dpo => "dpo",
            Role::Reader => "reader",
        }
    }
}

/// A validated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The region it is in.
    pub region: dss_core::RegionId,
    /// Tenants it may touch.
    pub tenants: Vec<String>,
    /// Client certificate common name.
    pub certificate: Option<String>,
    /// SHA-256 of its API token.
    pub token_sha256: Option<[u8; 32]>,
    /// Purpose of its reads.
    pub purpose: Option<String>,
    /// Legal basis of its cross-border reads.
    pub legal_basis: Option<dss_core::LegalBasis>,
    /// Conditions in place for its cross-border reads.
    pub conditions: Vec<dss_policies::Condition>,
}

/// Validated TLS settings.
#[derive(Clone, Debug)]
pub struct Tls {
    /// Client CA (PEM file).
    pub ca: std::path::PathBuf,
    /// Server certificate chain, `{region}` replaced when serving.
    pub cert: String,
    /// Server key, `{region}` replaced when serving.
    pub key: String,
    /// Whether a client certificate is required.
    pub client_auth: ClientAuth,
}

impl Tls {
    /// The certificate and key files of `region`.
    pub fn files_of(&self, region: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        (
            self.cert.replace("{region}", region).into(),
            self.key.replace("{region}", region).into(),
        )
    }
}

/// The validated gateway section.
#[derive(Clone, Debug, Default)]
pub struct Gateway {
    /// Region → gRPC address.
    pub listen: BTreeMap<String, std::net::SocketAddr>,
    /// Region → metrics address.
    pub metrics: BTreeMap<String, std::net::SocketAddr>,
    /// TLS.
    pub tls: Option<Tls>,
    /// Callers.
    pub callers: Vec<Caller>,
    /// Rate limits.
    pub rate_limits: RateLimitsFile,
}

/// SHA-256 of an API token.
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(token.trim().as_bytes()).into()
}

/// Validates the gateway section; problems go to `problem(path, message)`.
pub(crate) fn validate(
    file: &GatewayFile,
    base: &std::path::Path,
    regions: &BTreeMap<String, String>,
    tenants: &BTreeMap<String, (String, Option<crate::config::SeedConfig>)>,
    set: &dss_policies::PolicySet,
    problem: &mut dyn FnMut(Option<(u32, u32)>, String, String),
) -> Gateway {
    let mut out = Gateway {
        rate_limits: file.rate_limits.unwrap_or_default(),
        ..Gateway::default()
    };
    for (which, map, target) in [
        ("listen", &file.listen, &mut out.listen),
        ("metrics", &file.metrics, &mut out.metrics),
    ] {
        for (region, addr) in map {
            let at = Some((addr.line, addr.column));
            if !regions.contains_key(region) {
                problem(
                    at,
                    format!("gateway.{which}.{region}"),
                    format!("region {region} is not configured in `regions`"),
                );
            }
            match addr.parse() {
                Ok(a) => {
                    target.insert(region.clone(), a);
                }
                Err(_) => problem(
                    at,
                    format!("gateway.{which}.{region}"),
                    format!(
                        "{:?} is not an address (expected host:port, e.g. 127.0.0.1:7443)",
                        addr.value
                    ),
                ),
            }
        }
    }
    out.tls = file.tls.as_ref().map(|t| Tls {
        ca: base.join(&t.ca),
        cert: base.join(&t.cert).display().to_string(),
        key: base.join(&t.key).display().to_string(),
        client_auth: t.client_auth.unwrap_or_default(),
    });
    for (name, c) in &file.callers {
        let path = format!("gateway.callers.{name}");
        let at = Some((c.role.line, c.role.column));
        let role = Role::parse(&c.role).unwrap_or_else(|| {
            problem(
                at,
                format!("{path}.role"),
                format!(
                    "unknown role {:?} (expected one of: admin, integration, dpo, reader)",
                    c.role.value
                ),
            );
            Role::Reader
        });
        let region =
            dss_core::RegionId::new(&c.region).filter(|r| set.region(r.as_str()).is_some());
        if region.is_none() {
            problem(
                Some((c.region.line, c.region.column)),
                format!("{path}.region"),
                format!("unknown region {:?}", c.region.value),
            );
        }
        for t in &c.tenants {
            if !tenants.contains_key(t) {
                problem(
                    at,
                    format!("{path}.tenants"),
                    format!("tenant {t:?} is not configured in `tenants`"),
                );
            }
        }
        let mut token_sha256 = None;
        if let Some(hex) = &c.token_sha256 {
            token_sha256 = parse_hex32(hex);
            if token_sha256.is_none() {
                problem(
                    at,
                    format!("{path}.token_sha256"),
                    "expected 64 hex digits (the SHA-256 of the token)".into(),
                );
            }
        }
        if let Some(file) = &c.token_file {
            match std::fs::read_to_string(base.join(file)) {
                Ok(token) if !token.trim().is_empty() => token_sha256 = Some(token_digest(&token)),
                Ok(_) => problem(at, format!("{path}.token_file"), format!("{file} is empty")),
                Err(e) => problem(
                    at,
                    format!("{path}.token_file"),
                    format!("cannot read {file}: {e}"),
                ),
            }
        }
        if c.certificate.is_none() && token_sha256.is_none() {
            problem(
                at,
                path.clone(),
                "a caller needs a `certificate` or an API token (`token_sha256` or `token_file`)"
                    .into(),
            );
        }
        let legal_basis = c.legal_basis.as_ref().and_then(|b| {
            let parsed = serde_json::from_value(serde_json::Value::String(b.clone())).ok();
            if parsed.is_none() {
                problem(
                    at,
                    format!("{path}.legal_basis"),
                    format!("unknown legal basis {b:?}"),
                );
            }
            parsed
        });
        let mut conditions = Vec::new();
        for c in &c.conditions {
            match dss_policies::Condition::parse(c) {
                Some(c) => conditions.push(c),
                None => problem(
                    at,
                    format!("{path}.conditions"),
                    format!(
                        "unknown condition {c:?} (expected one of: {})",
                        dss_policies::Condition::all_names()
                    ),
                ),
            }
        }
        if let Some(region) = region {
            out.callers.push(Caller {
                name: name.clone(),
                role,
                region,
                tenants: c.tenants.clone(),
                certificate: c.certificate.clone(),
                token_sha256,
                purpose: c.purpose.clone(),
                legal_basis,
                conditions,
            });
        }
    }
    out
}

fn parse_hex32(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
