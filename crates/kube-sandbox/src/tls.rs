//! The sandbox's TLS identity: a certificate authority made fresh at every start and a server
//! certificate it signs for the loopback names. kubectl only sends a bearer token over TLS
//! (client-go drops user credentials on plain http), so the served API is always HTTPS; the CA
//! goes into the kubeconfig as `certificate-authority-data`.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Why a TLS identity could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the sandbox certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot set up TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A CA and the server certificate it signed.
#[derive(Clone)]
pub struct TlsIdentity {
    ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

/// Validity: from yesterday (clock skew) to a year from now; the CA dies with the process anyway.
fn validity(params: &mut CertificateParams) {
    let today = jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::UTC).date();
    let from = today.yesterday().unwrap_or(today);
    let to = today.saturating_add(jiff::ToSpan::years(1));
    params.not_before = rcgen::date_time_ymd(i32::from(from.year()), from.month() as u8, from.day() as u8);
    params.not_after = rcgen::date_time_ymd(i32::from(to.year()), to.month() as u8, to.day() as u8);
}

impl TlsIdentity {
    /// A new CA and a server certificate for localhost, 127.0.0.1, ::1 and `extra` addresses.
    pub fn generate(extra: &[IpAddr]) -> Result<Self, TlsError> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.distinguished_name.push(DnType::CommonName, "kubetutor-sandbox-ca");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        validity(&mut ca);
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, ca_key);

        let mut names =
            vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string(), "kubernetes".to_string()];
        for ip in extra {
            if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
                names.push(ip.to_string());
            }
        }
        let key = KeyPair::generate()?;
        let mut leaf = CertificateParams::new(names)?;
        leaf.distinguished_name.push(DnType::CommonName, "kubetutor-sandbox");
        leaf.use_authority_key_identifier_extension = true;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut leaf);
        let cert = leaf.signed_by(&key, &issuer)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), ca_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )?;
        // HTTP/1.1 only: exec/attach upgrade to WebSocket over it, and every client speaks it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity { ca_pem: ca_cert.pem(), config: Arc::new(config) })
    }

    /// The CA certificate, PEM-encoded, for the kubeconfig.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_ca_and_a_usable_server_config() {
        let id = TlsIdentity::generate(&["10.1.2.3".parse().expect("ip")]).expect("identity");
        assert!(id.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"), "{}", id.ca_pem());
        assert_eq!(id.config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let other = TlsIdentity::generate(&[]).expect("identity");
        assert_ne!(id.ca_pem(), other.ca_pem(), "every start makes a new CA");
    }
}
