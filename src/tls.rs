//! What the service's own TLS connections trust: the webhook deliveries, the OpenID Connect client and the SMTP
//! connection. A city's servers often present certificates of the city's own certificate authority, which the
//! Mozilla roots built into the binary do not know; so each client also trusts the platform's certificate store
//! (where the city installs its authority), and the certificates of the optional `tls_ca_file` on top.
//!
//! - HTTP (webhooks, OpenID Connect): the platform's store and the built-in roots, plus `tls_ca_file`.
//! - SMTP: the platform's store (the built-in roots where the platform has none, as in a bare container), plus
//!   `tls_ca_file`.

use std::path::Path;

use anyhow::{Context, bail};
use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};

/// The certificate authorities of `tls_ca_file` (none while it is unset), read and checked.
#[derive(Clone, Default)]
pub struct ExtraRoots {
    /// The file as read: one or more PEM certificates.
    pem: Option<Vec<u8>>,
    certificates: Vec<reqwest::Certificate>,
}

impl ExtraRoots {
    /// Reads `tls_ca_file`. A file that cannot be read, holds no PEM certificate, or holds one that is not a
    /// certificate authority the TLS library can use is an error naming the setting and the path.
    pub fn load(path: Option<&Path>) -> anyhow::Result<ExtraRoots> {
        let Some(path) = path else {
            return Ok(ExtraRoots::default());
        };
        let setting = || format!("tls_ca_file {}", path.display());
        let pem = std::fs::read(path).with_context(setting)?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("{}: not a PEM file of certificates", setting()))?;
        if certificates.is_empty() {
            bail!(
                "{}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                setting()
            );
        }
        let roots = ExtraRoots {
            pem: Some(pem),
            certificates,
        };
        // Both clients take each certificate now, so that a bad one stops the start, not the first delivery.
        roots
            .http(reqwest::Client::builder())
            .build()
            .with_context(setting)?;
        roots.smtp("localhost").with_context(setting)?;
        Ok(roots)
    }

    /// An HTTP client builder that trusts these authorities as well as the platform's store and the built-in
    /// roots (reqwest's `rustls-tls-native-roots` and `rustls-tls-webpki-roots` features, both on).
    pub fn http(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        self.certificates
            .iter()
            .cloned()
            .fold(builder, reqwest::ClientBuilder::add_root_certificate)
    }

    /// TLS parameters for an SMTP connection to `host`: the platform's store, or the built-in roots where the
    /// platform has no certificates, and these authorities.
    pub fn smtp(&self, host: &str) -> anyhow::Result<TlsParameters> {
        let store = if !platform_has_certificates() {
            CertificateStore::WebpkiRoots
        } else {
            // With lettre's `rustls-native-certs` feature, the default store is the platform's.
            CertificateStore::Default
        };
        let mut builder = TlsParameters::builder(host.to_string()).certificate_store(store);
        if let Some(pem) = &self.pem {
            builder = builder.add_root_certificate(Certificate::from_pem(pem)?);
        }
        Ok(builder.build_rustls()?)
    }
}

/// Whether the platform's certificate store holds any certificate: read from disk once a process, not for each
/// SMTP connection the mailer sets up.
fn platform_has_certificates() -> bool {
    static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| !rustls_native_certs::load_native_certs().certs.is_empty())
}

/// An error with the errors that caused it, `: `-separated: an HTTP client's own message names the URL, its causes
/// say why (`invalid peer certificate: UnknownIssuer`).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(path: &str) -> String {
        format!(
            "{:#}",
            ExtraRoots::load(Some(Path::new(path))).err().unwrap()
        )
    }

    #[test]
    fn a_missing_or_unusable_file_names_the_setting_and_the_path() {
        let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");
        let missing = format!("{keys}/no-such-ca.pem");
        let error = message(&missing);
        assert!(
            error.starts_with(&format!("tls_ca_file {missing}: ")),
            "{error}"
        );
        let not_pem = format!("{keys}/jwks.json");
        assert_eq!(
            message(&not_pem),
            format!(
                "tls_ca_file {not_pem}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )
        );
        // A PEM file, but of a key: no certificate in it.
        let key = format!("{keys}/rsa-public.pem");
        assert!(message(&key).starts_with(&format!("tls_ca_file {key}: ")));
    }

    #[test]
    fn the_test_authority_is_taken_by_both_clients() {
        let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/test-ca.pem");
        let roots = ExtraRoots::load(Some(Path::new(ca))).unwrap();
        assert_eq!(roots.certificates.len(), 1);
        assert!(ExtraRoots::load(None).unwrap().pem.is_none());
    }
}
