//! Callback verification: `base64(HMAC-SHA256(decoded API key, raw body))`, carried as
//! `TSA {customer_id}:{signature}` in `Authorization` and/or `X-TS-Authorization`
//! (`docs/protocols/telesign.md#callback-signature`).
//!
//! A pure function over the raw body bytes and the headers. TeleSign signs neither a
//! timestamp nor a nonce into callbacks, so there is no time to check here: replays are
//! handled by de-duplicating on the activity id (reference id, plus status code for
//! delivery reports).

use base64::Engine as _;
use hmac::Mac;
use http::HeaderMap;

use crate::config::{ApiKey, DEFAULT_BODY_LIMIT};
use crate::error::VerifyError;

/// `Authorization`.
pub(crate) const AUTHORIZATION: &str = "authorization";
/// `X-TS-Authorization`, which TeleSign sends alongside `Authorization`.
pub(crate) const X_TS_AUTHORIZATION: &str = "x-ts-authorization";

/// Checks callbacks for one customer id, under one or more API keys (rotation).
#[derive(Clone)]
pub struct CallbackVerifier {
    customer_id: String,
    keys: Vec<ApiKey>,
    body_limit: usize,
}

impl std::fmt::Debug for CallbackVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackVerifier")
            .field("customer_id", &self.customer_id)
            .field("keys", &self.keys.len())
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

impl CallbackVerifier {
    /// A verifier for `customer_id` and `key`, with a body limit of
    /// [`DEFAULT_BODY_LIMIT`].
    #[must_use]
    pub fn new(customer_id: impl Into<String>, key: ApiKey) -> Self {
        Self {
            customer_id: customer_id.into(),
            keys: vec![key],
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The verifier a configuration describes: its customer id, its API key and previous
    /// keys, its body limit.
    #[must_use]
    pub fn from_config(config: &crate::TelesignConfig) -> Self {
        let mut verifier = Self::new(config.customer_id(), config.api_key().clone())
            .with_body_limit(config.body_limit());
        verifier.keys.extend(config.previous_keys().iter().cloned());
        verifier
    }

    /// Also accepts signatures made with `key`.
    #[must_use]
    pub fn with_key(mut self, key: ApiKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Sets the largest body verified, in bytes (a larger one is refused unread).
    #[must_use]
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Verifies one callback.
    ///
    /// `Authorization` is used when it carries `TSA ...`; otherwise `X-TS-Authorization`,
    /// either as `TSA {customer_id}:{signature}` or as the bare signature.
    ///
    /// # Errors
    /// A [`VerifyError`] naming the failure.
    pub fn verify(&self, body: &[u8], headers: &HeaderMap) -> Result<(), VerifyError> {
        if body.len() > self.body_limit {
            return Err(VerifyError::BodyTooLarge {
                limit: self.body_limit,
            });
        }
        let (header, value) = pick_header(headers)?;
        let value = value
            .to_str()
            .map_err(|_| VerifyError::MalformedHeader { header })?
            .trim();
        let signature = match strip_prefix_ci(value, "TSA ") {
            Some(rest) => {
                let (cid, sig) = rest
                    .rsplit_once(':')
                    .ok_or(VerifyError::MalformedHeader { header })?;
                if cid.trim() != self.customer_id {
                    return Err(VerifyError::CustomerIdMismatch { header });
                }
                let sig = sig.trim();
                if sig.is_empty() {
                    return Err(VerifyError::MalformedHeader { header });
                }
                sig
            }
            None if header == X_TS_AUTHORIZATION && !value.is_empty() => value,
            None => return Err(VerifyError::MalformedHeader { header }),
        };
        let given = crate::config::LENIENT
            .decode(signature)
            .map_err(|_| VerifyError::MalformedHeader { header })?;
        // `verify_slice` compares in constant time.
        let ok = self
            .keys
            .iter()
            .any(|k| k.mac(body).verify_slice(&given).is_ok());
        if ok {
            Ok(())
        } else {
            Err(VerifyError::InvalidSignature)
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn pick_header(headers: &HeaderMap) -> Result<(&'static str, &http::HeaderValue), VerifyError> {
    let auth = headers.get(AUTHORIZATION);
    let ts = headers.get(X_TS_AUTHORIZATION);
    let auth_is_tsa = auth
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| strip_prefix_ci(v.trim(), "TSA ").is_some());
    match (auth, ts) {
        (Some(a), _) if auth_is_tsa => Ok((AUTHORIZATION, a)),
        (_, Some(t)) => Ok((X_TS_AUTHORIZATION, t)),
        (Some(a), None) => Ok((AUTHORIZATION, a)),
        (None, None) => Err(VerifyError::MissingSignature),
    }
}

/// The signature TeleSign puts on a callback `body`: what [`CallbackVerifier::verify`]
/// expects after `TSA {customer_id}:`. For tests of a webhook and for simulators.
#[must_use]
pub fn callback_signature(key: &ApiKey, body: &[u8]) -> String {
    key.sign(body)
}

#[cfg(test)]
mod tests;
