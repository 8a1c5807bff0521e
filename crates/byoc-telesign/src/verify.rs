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
mod tests {
    use super::*;

    const K1: &str =
        "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";
    const CID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";

    fn api_key(text: &str) -> ApiKey {
        ApiKey::new(byoc_core::Secret::new(text)).unwrap()
    }

    fn key() -> ApiKey {
        api_key(K1)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn callback_signatures_match_the_sdks_known_answers() {
        assert_eq!(
            callback_signature(&key(), b"{'test': 123}"),
            "B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744="
        );
        let v = CallbackVerifier::new(CID, key());
        let ok = format!("TSA {CID}:B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744=");
        v.verify(b"{'test': 123}", &headers(&[("authorization", &ok)]))
            .unwrap();
        let bad = format!("TSA {CID}:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=");
        assert_eq!(
            v.verify(b"{'test': 123}", &headers(&[("authorization", &bad)])),
            Err(VerifyError::InvalidSignature)
        );
        let rb = api_key("dG9wX3NlY3JldF9rZXk=");
        assert_eq!(
            callback_signature(&rb, br#"{"status":"delivered","reference_id":"ABC123"}"#),
            "qSKhUcmCuKIV+nxsj3/qxXNhMYZWvRX0b9FirfvzUkc="
        );
        assert_eq!(
            callback_signature(
                &key(),
                br#"{"status":{"code":200,"description":"Delivered to handset","updated_on":"2016-10-21T14:05:36.181346Z"},"reference_id":"0123456789ABCDEF0123456789ABCDEF"}"#
            ),
            "Syhwg6dlvVfmaPiwNKzvxQOsnn/7P+avZ5ecAPFaoiE="
        );
    }

    #[test]
    fn every_signed_fixture_verifies_and_fails_once_tampered() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/telesign/"
        );
        let key = api_key(&std::fs::read_to_string(format!("{dir}KEY.txt")).unwrap());
        let v = CallbackVerifier::new(CID, key);
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some(stem) = name.strip_suffix(".sig.txt") else {
                continue;
            };
            let body = std::fs::read(format!("{dir}{stem}.json")).unwrap();
            let sig = std::fs::read_to_string(&path).unwrap();
            let value = format!("TSA {CID}:{sig}");
            v.verify(
                &body,
                &headers(&[("authorization", &value), ("x-ts-authorization", &value)]),
            )
            .unwrap_or_else(|e| panic!("{stem}: {e}"));
            // The bare signature in X-TS-Authorization also passes.
            v.verify(&body, &headers(&[("x-ts-authorization", &sig)]))
                .unwrap();
            let mut tampered = body.clone();
            tampered.push(b' ');
            assert_eq!(
                v.verify(&tampered, &headers(&[("authorization", &value)])),
                Err(VerifyError::InvalidSignature)
            );
            n += 1;
        }
        assert_eq!(n, 8);
    }

    #[test]
    fn each_failure_has_its_own_error_and_rotated_keys_verify() {
        let body = b"{'test': 123}";
        let sig = "B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744=";
        let v = CallbackVerifier::new(CID, key());
        assert_eq!(
            v.verify(body, &HeaderMap::new()),
            Err(VerifyError::MissingSignature)
        );
        assert_eq!(
            v.verify(body, &headers(&[("authorization", "Bearer abc")])),
            Err(VerifyError::MalformedHeader {
                header: AUTHORIZATION
            })
        );
        assert_eq!(
            v.verify(body, &headers(&[("authorization", "TSA no-colon")])),
            Err(VerifyError::MalformedHeader {
                header: AUTHORIZATION
            })
        );
        assert_eq!(
            v.verify(
                body,
                &headers(&[("authorization", &format!("TSA {CID}:not base64!"))])
            ),
            Err(VerifyError::MalformedHeader {
                header: AUTHORIZATION
            })
        );
        assert_eq!(
            v.verify(
                body,
                &headers(&[("authorization", &format!("TSA other-customer:{sig}"))])
            ),
            Err(VerifyError::CustomerIdMismatch {
                header: AUTHORIZATION
            })
        );
        assert_eq!(
            v.verify(
                body,
                &headers(&[("x-ts-authorization", &format!("TSA {CID}:{}", &sig[1..]))])
            ),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            v.verify(body, &headers(&[("x-ts-authorization", "TSA no-colon")])),
            Err(VerifyError::MalformedHeader {
                header: X_TS_AUTHORIZATION
            })
        );
        assert_eq!(
            v.verify(body, &headers(&[("authorization", &format!("TSA {CID}:"))])),
            Err(VerifyError::MalformedHeader {
                header: AUTHORIZATION
            })
        );
        let wrong_key = CallbackVerifier::new(CID, api_key("VGVzdCBLZXk="));
        assert_eq!(
            wrong_key.verify(
                body,
                &headers(&[("authorization", &format!("TSA {CID}:{sig}"))])
            ),
            Err(VerifyError::InvalidSignature)
        );
        let small = v.clone().with_body_limit(4);
        assert_eq!(
            small.verify(body, &HeaderMap::new()),
            Err(VerifyError::BodyTooLarge { limit: 4 })
        );
        // Rotation: the old key still verifies.
        let rotated = wrong_key.with_key(key());
        rotated
            .verify(
                body,
                &headers(&[("authorization", &format!("tsa {CID}:{sig}"))]),
            )
            .unwrap();
    }
}
