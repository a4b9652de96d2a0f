//! The gateway under load, on loopback with mutual TLS — `cargo bench -p dss-gateway --bench
//! gateway [-- --quick] [-- --only get|rate|list]`. A load generator, not a criterion bench, because it reports
//! percentiles and a rate under concurrency:
//!
//! 1. CRM Get, one call at a time from a client on its own thread and runtime: the store read
//!    directly (the baseline, in the same process) and the same read through the gateway over
//!    mTLS; p50 and p99 of each and of the difference (the latency the gateway adds);
//! 2. Get calls per second with 64 concurrent clients (each its own TLS connection);
//! 3. a residency-aware List of 1,000 contacts across a border (Beijing → Frankfurt caller):
//!    every record through the policy plan, the reads written to the transfer log.
//!
//! `--only` runs one of the three (e.g. under a profiler); `--only list` then lists 300 times
//! and prints the median of each tenth of the run, as the transfer log grows by 1,000 a List.
//!
//! The process allocates with mimalloc, as the `dss` binary does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dss_gateway::certs::Ca;
use dss_gateway::server::{self, proto};
use dss_pipelines::{Config, Runtime};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn get(id: &str) -> proto::GetRequest {
    proto::GetRequest {
        r#ref: Some(proto::RecordRef {
            tenant: "cn-hq".into(),
            object: "contact".into(),
            id: id.to_owned(),
        }),
    }
}

/// A mutual-TLS channel to the gateway at `addr` with the client certificate `(cert, key)`.
async fn connect(addr: SocketAddr, ca_pem: String, (cert, key): (String, String)) -> Channel {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .identity(Identity::from_pem(cert, key))
        .domain_name("localhost");
    Channel::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Sorted latencies of `n` store reads, `n` Gets through the gateway, and `n` calls that read
/// no store.
async fn latency(
    n: usize,
    ids: Vec<String>,
    store: dss_store::Store,
    app: impl std::future::Future<Output = Channel>,
    admin: impl std::future::Future<Output = Channel>,
) -> (Vec<Duration>, Vec<Duration>, Vec<Duration>) {
    let client = proto::crm_service_client::CrmServiceClient::new(app.await);
    for id in ids.iter().take(500) {
        client.clone().get(get(id)).await.unwrap();
    }
    let mut direct = Vec::with_capacity(n);
    let mut through = Vec::with_capacity(n);
    for i in 0..n {
        let id = &ids[i % ids.len()];
        let t = Instant::now();
        store.record("cn-hq", "contact", id).await.unwrap().unwrap();
        direct.push(t.elapsed());
        let t = Instant::now();
        client.clone().get(get(id)).await.unwrap();
        through.push(t.elapsed());
    }
    // For scale: a call that reads no store (a pipeline's status, as an admin).
    let status = proto::pipeline_service_client::PipelineServiceClient::new(admin.await);
    let mut bare = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = status
            .clone()
            .status(proto::StatusRequest {
                pipeline: "p".into(),
            })
            .await;
        assert_eq!(r.unwrap_err().code(), tonic::Code::NotFound);
        bare.push(t.elapsed());
    }
    for v in [&mut direct, &mut through, &mut bare] {
        v.sort();
    }
    (direct, through, bare)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .map(|i| args.get(i + 1).cloned().expect("--only get|rate|list"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(quick, only.as_deref()));
}

async fn run(quick: bool, only: Option<&str>) {
    let phase = |name: &str| only.is_none_or(|o| o == name);
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("bench CA").unwrap();
    let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    put("ca.pem", &ca.cert_pem);
    let server_cert = ca.server("cn-beijing").unwrap();
    put("cn-beijing.pem", &server_cert.cert_pem);
    put("cn-beijing.key", &server_cert.key_pem);
    put(
        "dss.yaml",
        r#"
version: 1
data_dir: data
regions: { cn-beijing: {}, eu-frankfurt: {} }
tenants:
  cn-hq: { region: cn-beijing, seed: { contacts: 2000, seed: 11 } }
gateway:
  listen: { cn-beijing: 127.0.0.1:0 }
  tls: { ca: ca.pem, cert: "{region}.pem", key: "{region}.key", client_auth: required }
  callers:
    cn-app: { role: integration, region: cn-beijing, tenants: [cn-hq], certificate: cn-app }
    cn-admin: { role: admin, region: cn-beijing, certificate: cn-admin }
    eu-app: { role: integration, region: eu-frankfurt, tenants: [cn-hq], certificate: eu-app,
              purpose: crm_sync, legal_basis: contract, conditions: [standard_contract, regulator_filing] }
"#,
    );
    let config = Config::load(&dir.path().join("dss.yaml")).unwrap();
    let rt = Arc::new(Runtime::open(config).await.unwrap());
    rt.seed().await.unwrap();
    let (_stop, stopping) = tokio::sync::watch::channel(false);
    let serving = server::start(rt.clone(), "cn-beijing", stopping)
        .await
        .unwrap();
    let store = rt.store("cn-beijing").unwrap().clone();
    let ids: Vec<String> = store
        .list_records("cn-hq", "contact", 0, 2000)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.record().unwrap().id)
        .collect();
    let addr = serving.addr;
    let ca_pem = ca.cert_pem.clone();
    let client_cert = |name: &str| {
        let cert = ca.client(name, false).unwrap();
        (cert.cert_pem, cert.key_pem)
    };
    let channel = |name: &'static str| connect(addr, ca_pem.clone(), client_cert(name));

    if phase("get") {
        // 1. Latency, one call at a time, from a client on its own thread and runtime (as a client
        //    process would be): the client's tasks do not queue behind the server's.
        let n = if quick { 2_000 } else { 20_000 };
        let latency = {
            let (ids, store, ca_pem) = (ids.clone(), store.clone(), ca_pem.clone());
            let (app, admin) = (client_cert("cn-app"), client_cert("cn-admin"));
            std::thread::spawn(move || {
                let client_rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                client_rt.block_on(latency(
                    n,
                    ids,
                    store,
                    connect(addr, ca_pem.clone(), app),
                    connect(addr, ca_pem, admin),
                ))
            })
        };
        let (direct, through, bare) = tokio::task::spawn_blocking(move || latency.join().unwrap())
            .await
            .unwrap();
        println!("get, {n} sequential calls (same jurisdiction, mTLS):");
        for (label, p) in [("p50", 0.5), ("p99", 0.99)] {
            let (a, b) = (percentile(&direct, p), percentile(&through, p));
            println!(
                "  {label}: store direct {:>7.1} µs, through the gateway {:>7.1} µs, added {:>7.1} µs",
                us(a),
                us(b),
                us(b) - us(a)
            );
        }
        println!(
            "  a call that reads no store, for scale: p50 {:.1} µs, p99 {:.1} µs",
            us(percentile(&bare, 0.5)),
            us(percentile(&bare, 0.99))
        );
    }

    if phase("rate") {
        // 2. Throughput with 64 concurrent clients.
        let clients = 64;
        let seconds = if quick { 2.0 } else { 10.0 };
        let mut channels = Vec::new();
        for _ in 0..clients {
            channels.push(channel("cn-app").await);
        }
        let ids = Arc::new(ids);
        let started = Instant::now();
        let until = started + Duration::from_secs_f64(seconds);
        let mut tasks = Vec::new();
        for (c, ch) in channels.into_iter().enumerate() {
            let ids = ids.clone();
            tasks.push(tokio::spawn(async move {
                let client = proto::crm_service_client::CrmServiceClient::new(ch);
                let mut calls = 0u64;
                let mut i = c * 31;
                while Instant::now() < until {
                    let id = &ids[i % ids.len()];
                    client
                        .clone()
                        .get(proto::GetRequest {
                            r#ref: Some(proto::RecordRef {
                                tenant: "cn-hq".into(),
                                object: "contact".into(),
                                id: id.clone(),
                            }),
                        })
                        .await
                        .unwrap();
                    calls += 1;
                    i += 1;
                }
                calls
            }));
        }
        let mut calls = 0;
        for t in tasks {
            calls += t.await.unwrap();
        }
        let took = started.elapsed().as_secs_f64();
        println!(
            "get, {clients} concurrent clients for {took:.1} s: {calls} calls, {:.0} calls/s",
            calls as f64 / took
        );
    }

    if phase("list") {
        // 3. A residency-aware List of 1,000 contacts across a border.
        let eu = proto::crm_service_client::CrmServiceClient::new(channel("eu-app").await);
        let mut lists = Vec::new();
        let mut bytes = 0;
        let times = match (only, quick) {
            (Some(_), _) => 300,
            (None, true) => 5,
            (None, false) => 30,
        };
        for _ in 0..times {
            let t = Instant::now();
            let page = eu
                .clone()
                .list(proto::ListRequest {
                    tenant: "cn-hq".into(),
                    object: "contact".into(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            lists.push(t.elapsed());
            assert_eq!(page.items.len(), 1000);
            bytes = prost::Message::encoded_len(&page);
        }
        if only.is_some() {
            // The log grows by 1,000 entries a List: whether the time grows with it.
            let tenths: Vec<String> = lists
                .chunks(times / 10)
                .map(|c| {
                    let mut c = c.to_vec();
                    c.sort();
                    format!("{:.1}", us(percentile(&c, 0.5)) / 1000.0)
                })
                .collect();
            println!(
                "list medians by tenth of the run (ms): {}",
                tenths.join(" ")
            );
        }
        lists.sort();
        println!(
            "list of 1,000 contacts, Beijing -> Frankfurt caller (policy + log): median {:.1} ms, max {:.1} ms ({} KB a response)",
            us(percentile(&lists, 0.5)) / 1000.0,
            us(*lists.last().unwrap()) / 1000.0,
            bytes / 1024
        );
    }
}
