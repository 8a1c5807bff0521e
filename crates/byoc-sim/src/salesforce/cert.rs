//! The connected app's verification key: from its X.509 certificate (what an admin uploads
//! under "Use digital signatures") or from a bare RSA public key.

use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::DecodePublicKey as _;
use x509_cert::der::DecodePem as _;

/// Why a configured key cannot check assertions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The certificate PEM is not an X.509 certificate.
    #[error("the certificate is not an X.509 certificate PEM")]
    NotACertificate,
    /// The certificate's subject key is not an RSA key.
    #[error("the certificate's public key is not an RSA key")]
    NotRsa,
    /// The public key PEM is not an RSA public key (SPKI or PKCS#1).
    #[error("the public key is not an RSA public key PEM")]
    NotAPublicKey,
}

/// The RSA public key (PKCS#1 DER) in an X.509 certificate PEM.
///
/// # Errors
/// [`KeyError::NotACertificate`] or [`KeyError::NotRsa`].
pub fn rsa_key_from_certificate(pem: &str) -> Result<Vec<u8>, KeyError> {
    let cert = x509_cert::Certificate::from_pem(pem.trim().as_bytes())
        .map_err(|_| KeyError::NotACertificate)?;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
        return Err(KeyError::NotRsa);
    }
    // For rsaEncryption the subject public key bit string is the PKCS#1 RSAPublicKey.
    let der = spki.subject_public_key.as_bytes().ok_or(KeyError::NotRsa)?;
    rsa::RsaPublicKey::from_pkcs1_der(der).map_err(|_| KeyError::NotRsa)?;
    Ok(der.to_vec())
}

/// The verification key of `cfg`: its certificate when set, else its public key PEM.
pub(crate) fn decoding_key(cfg: &super::SimConfig) -> Result<jsonwebtoken::DecodingKey, KeyError> {
    match &cfg.certificate_pem {
        Some(pem) => Ok(jsonwebtoken::DecodingKey::from_rsa_der(
            &rsa_key_from_certificate(pem)?,
        )),
        None => {
            let pem = cfg.public_key_pem.trim();
            if rsa::RsaPublicKey::from_public_key_pem(pem).is_err()
                && rsa::RsaPublicKey::from_pkcs1_pem(pem).is_err()
            {
                return Err(KeyError::NotAPublicKey);
            }
            jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes())
                .map_err(|_| KeyError::NotAPublicKey)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey as _;

    #[test]
    fn the_test_certificate_carries_the_test_public_key() {
        let from_cert = rsa_key_from_certificate(super::super::TEST_CERTIFICATE_PEM).unwrap();
        let public = rsa::RsaPublicKey::from_public_key_pem(super::super::TEST_PUBLIC_KEY_PEM)
            .unwrap()
            .to_pkcs1_der()
            .unwrap();
        assert_eq!(from_cert, public.as_bytes());
    }

    #[test]
    fn one_error_per_fault() {
        assert!(matches!(
            rsa_key_from_certificate("not a pem"),
            Err(KeyError::NotACertificate)
        ));
        // A public key PEM is not a certificate.
        assert!(matches!(
            rsa_key_from_certificate(super::super::TEST_PUBLIC_KEY_PEM),
            Err(KeyError::NotACertificate)
        ));
        let mut cfg = super::super::SimConfig::default()
            .with_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----");
        assert!(matches!(decoding_key(&cfg), Err(KeyError::NotAPublicKey)));
        cfg.public_key_pem = super::super::TEST_PUBLIC_KEY_PEM.into();
        assert!(decoding_key(&cfg).is_ok());
    }
}
