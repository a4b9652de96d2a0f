//! TLS: trusted client certificates are accepted; unknown, expired and plaintext clients are
//! refused; API tokens identify callers without certificates.

use super::{Deployment, bearer, crm, get_request};
use dss_gateway::certs::Ca;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_client_certificate_is_accepted_and_others_are_refused() {
    let d = Deployment::start("").await;
    let contact = d.a_contact().await;

    // Trusted: the CA issued it and a caller is configured for its name.
    let got = crm(d.as_cert("cn-app").await)
        .get(get_request(&contact))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.record.unwrap().id, contact.id);

    // Issued by another CA: the handshake fails (or the first call does).
    let stranger = Ca::new("someone else")
        .unwrap()
        .client("cn-app", false)
        .unwrap();
    let refused = match d.channel(Some(&stranger)).await {
        Err(_) => true,
        Ok(ch) => crm(ch).get(get_request(&contact)).await.is_err(),
    };
    assert!(refused, "a certificate from an unknown CA must be refused");

    // Expired, though issued by the right CA.
    let expired = d.ca.client("cn-app", true).unwrap();
    let refused = match d.channel(Some(&expired)).await {
        Err(_) => true,
        Ok(ch) => crm(ch).get(get_request(&contact)).await.is_err(),
    };
    assert!(refused, "an expired certificate must be refused");

    // Trusted CA, but no caller of that name.
    let err = crm(d.as_cert("nobody").await)
        .get(get_request(&contact))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err}");

    // Plaintext to a TLS port.
    let plain = tonic::transport::Channel::from_shared(format!("http://{}", d.addr))
        .unwrap()
        .connect()
        .await;
    let refused = match plain {
        Err(_) => true,
        Ok(ch) => crm(ch).get(get_request(&contact)).await.is_err(),
    };
    assert!(refused, "plaintext must be refused where TLS is configured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_identify_callers_and_wrong_ones_are_refused() {
    let d = Deployment::start("").await;
    let contact = d.a_contact().await;
    let no_cert = d.channel(None).await.unwrap();
    let ok = crm(no_cert.clone())
        .get(bearer(get_request(&contact), "reader-secret-token"))
        .await
        .unwrap();
    assert!(ok.into_inner().record.is_some());
    let err = crm(no_cert.clone())
        .get(bearer(get_request(&contact), "guessed-token"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let err = crm(no_cert).get(get_request(&contact)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
}
