//! TLS for the WebSocket stream: the web PKI roots plus the configuration's root CAs, so one
//! setting ([`DirectLineConfig::with_root_ca`](crate::DirectLineConfig::with_root_ca))
//! covers REST calls (byoc-http's reqwest transport) and the socket alike.

use std::sync::Arc;

use byoc_http::RootCa;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::error::ConfigError;

/// A rustls client configuration trusting the web PKI roots and `root_cas`.
///
/// # Errors
/// [`ConfigError::RootCa`] when a CA holds no PEM certificate rustls accepts.
pub(crate) fn tls_config(root_cas: &[RootCa]) -> Result<Arc<rustls::ClientConfig>, ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for ca in root_cas {
        let refused = || ConfigError::RootCa {
            name: ca.name().to_owned(),
        };
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(ca.pem()) {
            roots
                .add(cert.map_err(|_| refused())?)
                .map_err(|_| refused())?;
            added += 1;
        }
        if added == 0 {
            return Err(refused());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::HttpClient {
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests;
