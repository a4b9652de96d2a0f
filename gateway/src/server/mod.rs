//! The gRPC gateway of a region (`dss serve`): the CRM domain, dry runs, pipelines, the
//! transfer log and data-subject requests behind tonic, with rustls (mutual) TLS, callers and
//! roles, governor rate limits, Prometheus metrics, health and reflection. The API is in
//! `gateway/proto/dss/v1/` and documented in `docs/api.md`.

mod admin;
pub mod auth;
mod coalesce;
mod codec;
mod crm;
pub mod limits;
pub mod metrics;
mod residency;
mod spread;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use dss_pipelines::Runtime;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

/// The generated API.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("dss.v1");

    /// The file descriptor set of the API, for reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/dss_descriptor.bin"));
}

pub use residency::Gate;

/// A running region gateway.
pub struct Serving {
    /// The region served.
    pub region: String,
    /// The gRPC address bound.
    pub addr: SocketAddr,
    /// The metrics address bound, if any.
    pub metrics_addr: Option<SocketAddr>,
    /// Resolves when the server has stopped (after draining in-flight calls).
    pub done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Starts `region`'s gateway on its configured address (port 0 picks a free one) and returns
/// once it listens. It stops — refusing new calls, finishing those in flight — when `stop`
/// turns true.
pub async fn start(
    rt: Arc<Runtime>,
    region: &str,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Serving> {
    let gw = &rt.config().gateway;
    let addr = *gw
        .listen
        .get(region)
        .with_context(|| format!("no `gateway.listen` address for region {region}"))?;
    let metrics = Arc::new(metrics::Metrics::new());
    let limits = Arc::new(limits::Limits::new(gw.rate_limits, metrics.clone()));
    let callers = Arc::new(auth::Callers::new(&gw.callers));
    let gate = Arc::new(Gate::new(
        rt.clone(),
        region,
        metrics.clone(),
        limits.clone(),
        stop.clone(),
    )?);

    let mut builder = Server::builder();
    if let Some(tls) = &gw.tls {
        let (cert, key) = tls.files_of(region);
        let read = |p: &std::path::Path| {
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
        };
        let config = ServerTlsConfig::new()
            .identity(Identity::from_pem(read(&cert)?, read(&key)?))
            .client_ca_root(Certificate::from_pem(read(&tls.ca)?))
            .client_auth_optional(
                tls.client_auth == dss_pipelines::gateway_config::ClientAuth::Optional,
            );
        builder = builder
            .tls_config(config)
            .context("the gateway's TLS configuration")?;
    }
    let (health, health_service) = tonic_health::server::health_reporter();
    // Reflection in both versions: grpcurl speaks v1, many clients (Python's grpcio-reflection
    // among them) still v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1().context("reflection")?;
    let reflection_v1alpha = reflection().build_v1alpha().context("reflection")?;
    let intercept = auth::interceptor(callers, limits);
    use proto::audit_service_server::AuditServiceServer;
    use proto::crm_service_server::CrmServiceServer;
    use proto::dsr_service_server::DsrServiceServer;
    use proto::pipeline_service_server::PipelineServiceServer;
    use proto::policy_service_server::PolicyServiceServer;
    health.set_serving::<CrmServiceServer<crm::Crm>>().await;
    let router = builder
        .layer(metrics::MetricsLayer(metrics.clone()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(CrmServiceServer::with_interceptor(
            crm::Crm(gate.clone()),
            intercept.clone(),
        ))
        .add_service(PolicyServiceServer::with_interceptor(
            admin::Policy(gate.clone()),
            intercept.clone(),
        ))
        .add_service(PipelineServiceServer::with_interceptor(
            admin::Pipelines::new(gate.clone()),
            intercept.clone(),
        ))
        .add_service(AuditServiceServer::with_interceptor(
            admin::Audit(gate.clone()),
            intercept.clone(),
        ))
        .add_service(DsrServiceServer::with_interceptor(
            admin::Dsr(gate.clone()),
            intercept,
        ));

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    let metrics_addr = match gw.metrics.get(region) {
        Some(m) => {
            let l = tokio::net::TcpListener::bind(m)
                .await
                .with_context(|| format!("cannot listen on {m}"))?;
            let bound = l.local_addr()?;
            tokio::spawn(metrics::serve(l, metrics.clone(), stop.clone()));
            Some(bound)
        }
        None => None,
    };
    metrics.set_ready(true);
    let mut stopping = stop;
    let done = tokio::spawn(async move {
        // Small gRPC messages must not wait for Nagle's algorithm (40 ms with delayed ACKs);
        // a response's frames leave in one write instead (coalesce.rs).
        let incoming = tokio_stream::StreamExt::map(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            |stream| {
                let stream = stream?;
                stream.set_nodelay(true)?;
                Ok::<_, std::io::Error>(coalesce::Coalesced::new(stream))
            },
        );
        router
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = stopping.wait_for(|s| *s).await;
                metrics.set_ready(false);
            })
            .await
            .context("the gRPC server failed")
    });
    Ok(Serving {
        region: region.to_owned(),
        addr,
        metrics_addr,
        done,
    })
}
