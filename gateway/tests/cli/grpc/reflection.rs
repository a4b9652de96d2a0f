//! A gRPC client DSS did not write — Python's grpcio with grpcio-reflection — lists the
//! services through reflection and calls one over mutual TLS. Needs `python3 -m pip install
//! grpcio grpcio-reflection`, so it is ignored by default; `.ci/run` installs them and runs
//! it (`cargo test -p dss-gateway --test cli -- --ignored grpc::reflection`).

use super::Deployment;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python grpcio and grpcio-reflection (.ci/run installs them)"]
async fn python_grpcio_lists_the_services_by_reflection_and_calls_one() {
    let d = Deployment::start("").await;
    let contact = d.a_contact().await;
    let cert = d.ca.client("cn-app", false).unwrap();
    std::fs::write(d.path("client.pem"), &cert.cert_pem).unwrap();
    std::fs::write(d.path("client.key"), &cert.key_pem).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scripts/reflection_client.py"
    );
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .arg(d.addr.to_string())
        .arg(d.path("ca.pem"))
        .arg(d.path("client.pem"))
        .arg(d.path("client.key"))
        .args(["cn-hq", "contact", &contact.id])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for service in [
        "dss.v1.CrmService",
        "dss.v1.PolicyService",
        "dss.v1.PipelineService",
        "dss.v1.AuditService",
        "dss.v1.DsrService",
        "grpc.health.v1.Health",
    ] {
        assert!(stdout.contains(service), "{service} missing: {stdout}");
    }
    assert!(
        stdout.contains(&format!("record: {} contact", contact.id)),
        "{stdout}"
    );
}
