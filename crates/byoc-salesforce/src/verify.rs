//! Verification of relayed events (pure).
//!
//! Salesforce calls no webhook and signs nothing: the partner authenticates to Salesforce,
//! and the outbound side is a Pub/Sub subscription over TLS. The only requests this crate
//! receives are events relayed by another component (a Flow or Apex callout, a replay tool)
//! to the adapter's `receive`. [`RelayVerifier`] checks that such a request carries
//! `Authorization: Bearer <relay secret>`, compared in constant time; several secrets can be
//! accepted at once while one is rotated. See `docs/protocols/salesforce.md#relay`.

use std::fmt;

use byoc_core::Secret;
use http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::error::VerifyError;

/// The scheme of the relay secret in `Authorization`.
const BEARER: &str = "Bearer ";

/// Accepts relayed events that carry one of the relay secrets.
#[derive(Clone)]
pub struct RelayVerifier {
    secrets: Vec<Secret>,
}

impl fmt::Debug for RelayVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayVerifier")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl RelayVerifier {
    /// A verifier accepting `secret`.
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self {
            secrets: vec![secret],
        }
    }

    /// Accepts `secret` too (while the relay moves from one secret to the next).
    #[must_use]
    pub fn with_secret(mut self, secret: Secret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Checks the request's `Authorization` header.
    ///
    /// # Errors
    /// [`VerifyError::MissingSecret`] without a bearer value, [`VerifyError::WrongSecret`]
    /// when it is none of the secrets.
    pub fn verify(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
        let given = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.get(..BEARER.len())
                    .filter(|s| s.eq_ignore_ascii_case(BEARER))
                    .map(|_| v[BEARER.len()..].trim())
            })
            .filter(|v| !v.is_empty())
            .ok_or(VerifyError::MissingSecret)?;
        // Every secret is compared, so the time taken does not say which one matched.
        let matched = self.secrets.iter().fold(0u8, |acc, s| {
            acc | s.secret().as_bytes().ct_eq(given.as_bytes()).unwrap_u8()
        });
        if matched == 1 {
            Ok(())
        } else {
            Err(VerifyError::WrongSecret)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(http::header::AUTHORIZATION, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_relay_secret_is_required_and_compared() {
        let v = RelayVerifier::new(Secret::new("s3cret-relay"));
        assert_eq!(v.verify(&headers(Some("Bearer s3cret-relay"))), Ok(()));
        assert_eq!(v.verify(&headers(Some("bearer s3cret-relay"))), Ok(()));
        assert_eq!(
            v.verify(&headers(Some("Bearer s3cret-relaY"))),
            Err(VerifyError::WrongSecret)
        );
        assert_eq!(
            v.verify(&headers(Some("Bearer s3cret"))),
            Err(VerifyError::WrongSecret)
        );
        assert_eq!(
            v.verify(&headers(Some("Basic czNjcmV0"))),
            Err(VerifyError::MissingSecret)
        );
        assert_eq!(
            v.verify(&headers(Some("Bearer "))),
            Err(VerifyError::MissingSecret)
        );
        assert_eq!(v.verify(&headers(None)), Err(VerifyError::MissingSecret));
        assert!(!format!("{v:?}").contains("s3cret"));
    }

    #[test]
    fn a_second_secret_is_accepted_during_rotation() {
        let v = RelayVerifier::new(Secret::new("old")).with_secret(Secret::new("new"));
        assert_eq!(v.verify(&headers(Some("Bearer old"))), Ok(()));
        assert_eq!(v.verify(&headers(Some("Bearer new"))), Ok(()));
        assert_eq!(
            v.verify(&headers(Some("Bearer other"))),
            Err(VerifyError::WrongSecret)
        );
    }
}
