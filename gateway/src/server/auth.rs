//! Who is calling, and may they: callers are identified by their client certificate's common
//! name (mutual TLS) or an API token (`authorization: Bearer …`, compared by SHA-256 with the
//! configured digest, never stored in clear); each RPC names the roles it admits.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use dss_pipelines::gateway_config::{Caller, Role, token_digest};
use tonic::{Request, Status};

use super::limits::Limits;

/// Every RPC of the API, for authorization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Rpc {
    CrmGet,
    CrmList,
    CrmUpsert,
    CrmDelete,
    CrmWatch,
    PolicyDryRun,
    PipelineList,
    PipelineValidate,
    PipelineRun,
    PipelineStatus,
    AuditQuery,
    AuditVerify,
    AuditExport,
    AuditReport,
    DsrAccess,
    DsrErase,
}

impl Rpc {
    /// Every RPC.
    pub const ALL: [Rpc; 16] = [
        Rpc::CrmGet,
        Rpc::CrmList,
        Rpc::CrmUpsert,
        Rpc::CrmDelete,
        Rpc::CrmWatch,
        Rpc::PolicyDryRun,
        Rpc::PipelineList,
        Rpc::PipelineValidate,
        Rpc::PipelineRun,
        Rpc::PipelineStatus,
        Rpc::AuditQuery,
        Rpc::AuditVerify,
        Rpc::AuditExport,
        Rpc::AuditReport,
        Rpc::DsrAccess,
        Rpc::DsrErase,
    ];

    /// The roles that may make this call. CRM calls are further limited to the caller's
    /// tenants.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Rpc::CrmGet | Rpc::CrmList | Rpc::CrmWatch => &[Integration, Reader],
            Rpc::CrmUpsert | Rpc::CrmDelete => &[Integration],
            Rpc::PolicyDryRun => &[Admin, Integration, Dpo],
            Rpc::PipelineList | Rpc::PipelineStatus => &[Admin, Dpo],
            Rpc::PipelineValidate | Rpc::PipelineRun => &[Admin],
            Rpc::AuditQuery
            | Rpc::AuditVerify
            | Rpc::AuditExport
            | Rpc::AuditReport
            | Rpc::DsrAccess
            | Rpc::DsrErase => &[Dpo],
        }
    }
}

/// The callers of a gateway, by certificate name and token digest.
pub struct Callers {
    callers: Vec<Arc<Caller>>,
    /// Client certificates already identified (the whole DER, which rustls verified), so that
    /// a connection's calls do not parse its certificate again each time.
    by_certificate: RwLock<HashMap<Box<[u8]>, Arc<Caller>>>,
}

/// Certificates remembered at most; past it the memory starts over.
const REMEMBERED_CERTIFICATES: usize = 1_024;

impl Callers {
    /// The configured callers.
    pub fn new(callers: &[Caller]) -> Self {
        Self {
            callers: callers.iter().cloned().map(Arc::new).collect(),
            by_certificate: RwLock::default(),
        }
    }

    /// The caller a verified client certificate names.
    fn by_certificate(&self, der: &[u8]) -> Result<Arc<Caller>, Status> {
        if let Some(c) = self.by_certificate.read().expect("certificates").get(der) {
            return Ok(c.clone());
        }
        let name = common_name(der)
            .ok_or_else(|| Status::unauthenticated("the client certificate has no common name"))?;
        let caller = self
            .callers
            .iter()
            .find(|c| c.certificate.as_deref() == Some(name.as_str()))
            .cloned()
            .ok_or_else(|| {
                Status::unauthenticated(format!("no caller is configured for certificate {name:?}"))
            })?;
        let mut known = self.by_certificate.write().expect("certificates");
        if known.len() >= REMEMBERED_CERTIFICATES {
            known.clear();
        }
        known.insert(der.into(), caller.clone());
        Ok(caller)
    }

    /// Identifies the caller of a request: its client certificate first, then its token.
    fn identify<T>(&self, req: &Request<T>) -> Result<Arc<Caller>, Status> {
        if let Some(certs) = req.peer_certs()
            && let Some(leaf) = certs.first()
        {
            return self.by_certificate(leaf);
        }
        let token = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Status::unauthenticated(
                    "present a client certificate or an API token (authorization: Bearer …)",
                )
            })?;
        let digest = token_digest(token);
        self.callers
            .iter()
            .find(|c| c.token_sha256 == Some(digest))
            .cloned()
            .ok_or_else(|| Status::unauthenticated("unknown API token"))
    }
}

/// The interceptor every service sits behind: identifies the caller, applies the per-client
/// rate limit, and leaves the caller in the request's extensions.
pub fn interceptor(
    callers: Arc<Callers>,
    limits: Arc<Limits>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut req: Request<()>| {
        let caller = callers.identify(&req)?;
        limits.client(&caller.name)?;
        req.extensions_mut().insert(caller);
        Ok(req)
    }
}

/// The caller of a request that passed the interceptor, if its role admits `rpc`.
pub fn authorize<T>(req: &Request<T>, rpc: Rpc) -> Result<Arc<Caller>, Status> {
    let caller = req
        .extensions()
        .get::<Arc<Caller>>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("no caller"))?;
    if !rpc.roles().contains(&caller.role) {
        return Err(Status::permission_denied(format!(
            "{} ({}) may not call {rpc:?}",
            caller.name,
            caller.role.as_str()
        )));
    }
    Ok(caller)
}

/// Checks that a caller may touch `tenant`.
pub fn tenant_allowed(caller: &Caller, tenant: &str) -> Result<(), Status> {
    if caller.tenants.iter().any(|t| t == tenant) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "{} may not access tenant {tenant:?}",
            caller.name
        )))
    }
}

/// The subject common name of a DER certificate.
fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use dss_pipelines::gateway_config::{Caller, Role};

    use super::*;

    fn der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    fn caller(name: &str, certificate: &str, role: Role) -> Caller {
        Caller {
            name: name.into(),
            role,
            region: dss_core::RegionId::new("cn-beijing").unwrap(),
            tenants: vec!["cn-hq".into()],
            certificate: Some(certificate.into()),
            token_sha256: None,
            purpose: None,
            legal_basis: None,
            conditions: Vec::new(),
        }
    }

    #[test]
    fn a_certificate_names_its_caller_every_time_and_an_unknown_one_never() {
        let ca = crate::certs::Ca::new("test CA").unwrap();
        let callers = Callers::new(&[
            caller("app", "cn-app", Role::Integration),
            caller("dpo", "cn-dpo", Role::Dpo),
        ]);
        let cert = |cn: &str| der(&ca.client(cn, false).unwrap().cert_pem);
        let (app, dpo, stranger) = (cert("cn-app"), cert("cn-dpo"), cert("cn-stranger"));
        for _ in 0..3 {
            assert_eq!(callers.by_certificate(&app).unwrap().name, "app");
            assert_eq!(callers.by_certificate(&dpo).unwrap().name, "dpo");
            let refused = callers.by_certificate(&stranger).unwrap_err();
            assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        }
        // Identified once each, remembered; the stranger is not.
        assert_eq!(callers.by_certificate.read().unwrap().len(), 2);
        // Another certificate with the same name is the same caller (a renewed one).
        assert_eq!(callers.by_certificate(&cert("cn-app")).unwrap().name, "app");
    }
}
