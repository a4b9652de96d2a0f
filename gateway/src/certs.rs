//! `dss dev certs`: a local CA and certificates (rcgen) so that the quickstart's gateways run
//! with TLS: one server certificate per region (for `localhost` and `127.0.0.1`) and client
//! certificates whose common name names a caller. For development and tests only: the CA key
//! is written next to the certificates.

use std::path::Path;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// A certificate and its private key, PEM.
pub struct Issued {
    /// Certificate.
    pub cert_pem: String,
    /// Private key.
    pub key_pem: String,
}

/// A certificate authority.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM.
    pub cert_pem: String,
    /// The CA key, PEM.
    pub key_pem: String,
}

fn named(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "DSS development");
    dn.push(DnType::CommonName, cn);
    dn
}

impl Ca {
    /// A new CA named `name`.
    pub fn new(name: &str) -> anyhow::Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = named(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// A server certificate for `region`, valid for `localhost` and `127.0.0.1`.
    pub fn server(&self, region: &str) -> anyhow::Result<Issued> {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        params.distinguished_name = named(region);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A client certificate whose common name is `name`; `expired` makes one that expired in
    /// 2021 (for tests).
    pub fn client(&self, name: &str, expired: bool) -> anyhow::Result<Issued> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = named(name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> anyhow::Result<Issued> {
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Writes `ca.pem` (and `ca.key`), `<region>.pem`/`.key` per region and `<client>.pem`/`.key`
/// per client into `dir`; returns the files written.
pub fn write(dir: &Path, regions: &[String], clients: &[String]) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let ca = Ca::new("DSS development CA")?;
    let mut written = Vec::new();
    let mut put = |name: String, text: &str| -> anyhow::Result<()> {
        let path = dir.join(&name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
        Ok(())
    };
    put("ca.pem".into(), &ca.cert_pem)?;
    put("ca.key".into(), &ca.key_pem)?;
    for (name, issued) in regions
        .iter()
        .map(|r| (r, ca.server(r)))
        .chain(clients.iter().map(|c| (c, ca.client(c, false))))
    {
        let issued = issued?;
        put(format!("{name}.pem"), &issued.cert_pem)?;
        put(format!("{name}.key"), &issued.key_pem)?;
    }
    Ok(written)
}
