//! Who is calling, and may they: callers are identified by their client certificate's common
//! name (mutual TLS) or an API token (`authorization: Bearer …`, compared by SHA-256 with the
//! configured digest, never stored in clear); each RPC names the roles it admits.

use std::sync::Arc;

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
}

impl Callers {
    /// The configured callers.
    pub fn new(callers: &[Caller]) -> Self {
        Self {
            callers: callers.iter().cloned().map(Arc::new).collect(),
        }
    }

    /// Identifies the caller of a request: its client certificate first, then its token.
    fn identify<T>(&self, req: &Request<T>) -> Result<Arc<Caller>, Status> {
        if let Some(certs) = req.peer_certs()
            && let Some(leaf) = certs.first()
        {
            let name = common_name(leaf).ok_or_else(|| {
                Status::unauthenticated("the client certificate has no common name")
            })?;
            return self
                .callers
                .iter()
                .find(|c| c.certificate.as_deref() == Some(name.as_str()))
                .cloned()
                .ok_or_else(|| {
                    Status::unauthenticated(format!(
                        "no caller is configured for certificate {name:?}"
                    ))
                });
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
