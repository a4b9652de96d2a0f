//! The gRPC gateway, in process: real gateways on loopback with real TLS (certificates from
//! `dss_gateway::certs`), called through the generated clients.

mod access;
mod reflection;
mod tls;

use std::sync::Arc;

use dss_gateway::certs::{Ca, Issued};
use dss_gateway::server::{self, proto};
use dss_pipelines::{Config, Runtime};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

pub(crate) const CALLERS: &str = r#"
  callers:
    eu-app: { role: integration, region: eu-frankfurt, tenants: [eu-sales, cn-hq], certificate: eu-app,
              purpose: crm_sync, legal_basis: contract, conditions: [standard_contract, regulator_filing] }
    cn-app: { role: integration, region: cn-beijing, tenants: [cn-hq], certificate: cn-app }
    cn-reader: { role: reader, region: cn-beijing, tenants: [cn-hq], token_file: reader.token }
    cn-admin: { role: admin, region: cn-beijing, certificate: cn-admin }
    cn-dpo: { role: dpo, region: cn-beijing, token_file: dpo.token }
    eu-reader: { role: reader, region: eu-frankfurt, tenants: [eu-sales], certificate: eu-reader }
"#;

/// A deployment of two regions with a gateway for Beijing, TLS on.
pub(crate) struct Deployment {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) ca: Ca,
    pub(crate) rt: Arc<Runtime>,
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) metrics: std::net::SocketAddr,
    pub(crate) done: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
}

impl Deployment {
    /// Starts Beijing's gateway; `extra` is appended to the `gateway` section.
    pub(crate) async fn start(extra: &str) -> Self {
        Self::start_with("", extra).await
    }

    /// [`Deployment::start`] with `top` added to the configuration's top level.
    pub(crate) async fn start_with(top: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("test CA").unwrap();
        let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        put("ca.pem", &ca.cert_pem);
        let server = ca.server("cn-beijing").unwrap();
        put("cn-beijing.pem", &server.cert_pem);
        put("cn-beijing.key", &server.key_pem);
        put("reader.token", "reader-secret-token\n");
        put("dpo.token", "dpo-secret-token\n");
        put(
            "dss.yaml",
            &format!(
                r#"
version: 1
data_dir: data
{top}
regions: {{ cn-beijing: {{}}, eu-frankfurt: {{}} }}
tenants:
  cn-hq: {{ region: cn-beijing, seed: {{ contacts: 30, seed: 7 }} }}
  eu-sales: {{ region: eu-frankfurt }}
pipelines:
  hq-to-eu:
    source: {{ connector: crm, region: cn-beijing, tenant: cn-hq }}
    destination: {{ connector: crm, region: eu-frankfurt, tenant: eu-sales }}
    objects: [contact]
    purpose: crm_sync
    legal_basis: contract
    conditions: [standard_contract, regulator_filing]
gateway:
  listen: {{ cn-beijing: 127.0.0.1:0 }}
  metrics: {{ cn-beijing: 127.0.0.1:0 }}
  tls: {{ ca: ca.pem, cert: "{{region}}.pem", key: "{{region}}.key", client_auth: optional }}
{CALLERS}{extra}"#
            ),
        );
        let config = Config::load(&dir.path().join("dss.yaml")).unwrap();
        let rt = Arc::new(Runtime::open(config).await.unwrap());
        rt.seed().await.unwrap();
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let serving = server::start(rt.clone(), "cn-beijing", stopping)
            .await
            .unwrap();
        Deployment {
            dir,
            ca,
            rt,
            addr: serving.addr,
            metrics: serving.metrics_addr.unwrap(),
            done: Some(serving.done),
            stop,
        }
    }

    /// A TLS channel presenting `client` (a certificate the deployment's CA issued, or any
    /// other).
    pub(crate) async fn channel(
        &self,
        client: Option<&Issued>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca.cert_pem))
            .domain_name("localhost");
        if let Some(c) = client {
            tls = tls.identity(Identity::from_pem(&c.cert_pem, &c.key_pem));
        }
        Channel::from_shared(format!("https://{}", self.addr))
            .unwrap()
            .tls_config(tls)?
            .connect()
            .await
    }

    /// A channel presenting the client certificate of caller `name`.
    pub(crate) async fn as_cert(&self, name: &str) -> Channel {
        let cert = self.ca.client(name, false).unwrap();
        self.channel(Some(&cert)).await.unwrap()
    }

    pub(crate) fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// A contact of the seeded Beijing tenant.
    pub(crate) async fn a_contact(&self) -> dss_core::Record {
        let store = self.rt.store("cn-beijing").unwrap();
        let page = store.list_records("cn-hq", "contact", 0, 50).await.unwrap();
        page.into_iter()
            .map(|l| l.record().unwrap())
            .find(|r| {
                r.subject
                    .as_ref()
                    .is_some_and(|s| s.consent == Some(dss_core::ConsentStatus::Granted))
            })
            .unwrap()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// `GET path` on the metrics endpoint: (status line, body).
pub(crate) async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

/// Adds an API token to a request.
pub(crate) fn bearer<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req
}

pub(crate) fn crm(ch: Channel) -> proto::crm_service_client::CrmServiceClient<Channel> {
    proto::crm_service_client::CrmServiceClient::new(ch)
}

pub(crate) fn get_request(r: &dss_core::Record) -> proto::GetRequest {
    proto::GetRequest {
        r#ref: Some(proto::RecordRef {
            tenant: r.tenant.to_string(),
            object: r.object.to_string(),
            id: r.id.clone(),
        }),
    }
}
