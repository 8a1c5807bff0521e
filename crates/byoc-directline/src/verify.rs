//! Inbound authentication of Bot Framework channel requests (fact sheet B.3), without I/O:
//! pure functions over the raw body, the headers, a [`KeySet`] and the current time.
//!
//! Checks, in order: `Authorization: Bearer <JWT>`; `alg` in RS256/RS384/RS512 (so `none`
//! and HS256 key confusion fail before any key is touched); a key with the token's `kid`;
//! the RSA PKCS#1 v1.5 signature; `iss`; `aud` = our app id; `exp` / `nbf` with the clock
//! skew; then, against the activity in the body, the key's endorsements include `channelId`
//! and the `serviceurl` claim equals `serviceUrl` exactly. Fetching and caching the keys is
//! [`crate::openid`]'s job.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use rsa::{BigUint, RsaPublicKey};
use serde::Deserialize;

use crate::error::VerifyError;

/// The signing algorithms accepted (botbuilder-js `AllowedSigningAlgorithms`).
pub const ALLOWED_ALGORITHMS: [&str; 3] = ["RS256", "RS384", "RS512"];

/// Longest token accepted, in bytes (a channel token is about 1.2 KB).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// One RSA signing key of the channel token issuer, with its endorsements (the channel ids
/// it may sign for).
#[derive(Clone, Debug)]
pub struct ChannelKey {
    kid: String,
    key: RsaPublicKey,
    endorsements: Vec<String>,
}

impl ChannelKey {
    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The channel ids this key is endorsed for.
    #[must_use]
    pub fn endorsements(&self) -> &[String] {
        &self.endorsements
    }
}

#[derive(Deserialize)]
struct JwkJson {
    kty: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    #[serde(default)]
    endorsements: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct JwksJson {
    keys: Vec<serde_json::Value>,
}

/// The signing keys of a JWKS document. Keys that are not RSA, or lack `kid`, `n` or `e`,
/// are skipped (botbuilder-js ignores non-RSA keys too).
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<ChannelKey>,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys":[{"kty":"RSA","kid","n","e","endorsements"}]}`).
    ///
    /// # Errors
    /// [`VerifyError::KeysUnavailable`] when the document is not a JWKS.
    pub fn from_jwks(json: &[u8]) -> Result<Self, VerifyError> {
        let doc: JwksJson = serde_json::from_slice(json)
            .map_err(|_| VerifyError::KeysUnavailable("JWKS is not a key set".into()))?;
        let mut keys = Vec::new();
        for raw in doc.keys {
            let Ok(jwk) = serde_json::from_value::<JwkJson>(raw) else {
                continue;
            };
            if jwk.kty.as_deref() != Some("RSA") {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            let (Ok(n), Ok(e)) = (URL_SAFE_NO_PAD.decode(n), URL_SAFE_NO_PAD.decode(e)) else {
                continue;
            };
            let Ok(key) = RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e))
            else {
                continue;
            };
            keys.push(ChannelKey {
                kid,
                key,
                endorsements: jwk.endorsements.unwrap_or_default(),
            });
        }
        Ok(Self { keys })
    }

    /// The key with this id.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&ChannelKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Number of usable keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no usable keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What a token must satisfy.
#[derive(Clone, Debug)]
pub struct TokenPolicy {
    /// Accepted issuers (`iss`).
    pub issuers: Vec<String>,
    /// Our app id (`aud`).
    pub audience: String,
    /// Clock skew on `exp` / `nbf`.
    pub clock_skew: Duration,
}

impl TokenPolicy {
    /// A policy for channel tokens to the bot `app_id` from `issuer`, with a 5-minute skew.
    #[must_use]
    pub fn new(issuer: impl Into<String>, app_id: impl Into<String>) -> Self {
        Self {
            issuers: vec![issuer.into()],
            audience: app_id.into(),
            clock_skew: crate::config::CLOCK_SKEW,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    aud: Option<Audience>,
    exp: Option<f64>,
    nbf: Option<f64>,
    serviceurl: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
}

/// A token whose signature, issuer, audience and lifetime were verified.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// `iss`.
    pub issuer: String,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// The `serviceurl` claim, if present.
    pub service_url: Option<String>,
    /// `appid` (v1 tokens) or `azp` (v2 tokens), if present.
    pub app_id: Option<String>,
    /// The id of the key that signed it.
    pub kid: String,
    /// The signing key's endorsements.
    pub endorsements: Vec<String>,
}

/// Reads the bearer token of `Authorization` (the scheme must be exactly `Bearer`).
///
/// # Errors
/// [`VerifyError::MissingAuthorization`], [`VerifyError::NotBearer`].
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, VerifyError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(VerifyError::MissingAuthorization)?;
    let value = value.to_str().map_err(|_| VerifyError::NotBearer)?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or(VerifyError::NotBearer)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(VerifyError::NotBearer);
    }
    Ok(token)
}

/// The `kid` a token names, without verifying anything (to decide whether to refetch keys).
#[must_use]
pub fn token_kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    serde_json::from_slice::<Header>(&bytes).ok()?.kid
}

/// Verifies a token's form, algorithm, signature, issuer, audience and lifetime.
///
/// # Errors
/// The [`VerifyError`] of the first check that fails.
pub fn verify_token(
    token: &str,
    keys: &KeySet,
    policy: &TokenPolicy,
    now: DateTime<Utc>,
) -> Result<VerifiedToken, VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::MalformedToken("length"));
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::MalformedToken("segments"));
    };
    let header_bytes = URL_SAFE_NO_PAD
        .decode(h64)
        .map_err(|_| VerifyError::MalformedToken("header"))?;
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|_| VerifyError::MalformedToken("header"))?;
    let alg = header.alg.unwrap_or_default();
    if !ALLOWED_ALGORITHMS.contains(&alg.as_str()) {
        return Err(VerifyError::DisallowedAlgorithm(
            alg.chars().take(16).collect(),
        ));
    }
    let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
    let key = keys.get(&kid).ok_or(VerifyError::UnknownKey)?;
    let sig = URL_SAFE_NO_PAD
        .decode(s64)
        .map_err(|_| VerifyError::MalformedToken("signature"))?;
    let signed = &token.as_bytes()[..h64.len() + 1 + p64.len()];
    verify_signature(&alg, &key.key, signed, &sig)?;

    let payload = URL_SAFE_NO_PAD
        .decode(p64)
        .map_err(|_| VerifyError::MalformedToken("payload"))?;
    let claims: RawClaims =
        serde_json::from_slice(&payload).map_err(|_| VerifyError::MalformedToken("payload"))?;
    let issuer = claims.iss.ok_or(VerifyError::WrongIssuer)?;
    if !policy.issuers.iter().any(|i| i == &issuer) {
        return Err(VerifyError::WrongIssuer);
    }
    let aud_ok = match &claims.aud {
        Some(Audience::One(a)) => a == &policy.audience,
        Some(Audience::Many(list)) => list.iter().any(|a| a == &policy.audience),
        None => false,
    };
    if !aud_ok || policy.audience.is_empty() {
        return Err(VerifyError::WrongAudience);
    }
    let skew = i64::try_from(policy.clock_skew.as_secs()).unwrap_or(i64::MAX);
    let now_s = now.timestamp();
    let exp = claims
        .exp
        .filter(|e| e.is_finite())
        .ok_or(VerifyError::Expired)? as i64;
    if now_s > exp.saturating_add(skew) {
        return Err(VerifyError::Expired);
    }
    if let Some(nbf) = claims.nbf.filter(|n| n.is_finite())
        && (nbf as i64) > now_s.saturating_add(skew)
    {
        return Err(VerifyError::NotYetValid);
    }
    Ok(VerifiedToken {
        issuer,
        expires_at: exp,
        service_url: claims.serviceurl,
        app_id: claims.appid.or(claims.azp),
        kid,
        endorsements: key.endorsements.clone(),
    })
}

fn verify_signature(
    alg: &str,
    key: &RsaPublicKey,
    signed: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    let sig = Signature::try_from(sig).map_err(|_| VerifyError::BadSignature)?;
    let ok = match alg {
        "RS256" => VerifyingKey::<sha2::Sha256>::new(key.clone())
            .verify(signed, &sig)
            .is_ok(),
        "RS384" => VerifyingKey::<sha2::Sha384>::new(key.clone())
            .verify(signed, &sig)
            .is_ok(),
        "RS512" => VerifyingKey::<sha2::Sha512>::new(key.clone())
            .verify(signed, &sig)
            .is_ok(),
        other => return Err(VerifyError::DisallowedAlgorithm(other.to_owned())),
    };
    if ok {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// Checks a verified token against the activity it came with: the signing key must be
/// endorsed for `channel_id`, and the `serviceurl` claim must equal `service_url` exactly.
///
/// # Errors
/// [`VerifyError::MissingEndorsement`] (also when the activity has no `channelId`, which
/// A2020 makes mandatory), [`VerifyError::ServiceUrlMismatch`] (also when either side is
/// missing).
pub fn check_activity(
    token: &VerifiedToken,
    channel_id: Option<&str>,
    service_url: Option<&str>,
) -> Result<(), VerifyError> {
    let channel_id = channel_id.ok_or(VerifyError::MissingEndorsement)?;
    if !token.endorsements.iter().any(|e| e == channel_id) {
        return Err(VerifyError::MissingEndorsement);
    }
    match (token.service_url.as_deref(), service_url) {
        (Some(claim), Some(url)) if claim == url => Ok(()),
        _ => Err(VerifyError::ServiceUrlMismatch),
    }
}

#[derive(Deserialize)]
struct ActivityHead {
    #[serde(rename = "channelId")]
    channel_id: Option<String>,
    #[serde(rename = "serviceUrl")]
    service_url: Option<String>,
}

/// Verifies one inbound channel request: the bearer token of `headers` against `keys` and
/// `policy` at `now`, then the activity in `body` against the token.
///
/// # Errors
/// The [`VerifyError`] of the first check that fails.
pub fn verify(
    body: &[u8],
    headers: &HeaderMap,
    keys: &KeySet,
    policy: &TokenPolicy,
    now: DateTime<Utc>,
) -> Result<VerifiedToken, VerifyError> {
    let token = bearer_token(headers)?;
    let verified = verify_token(token, keys, policy, now)?;
    let head: ActivityHead = serde_json::from_slice(body).map_err(|e| {
        VerifyError::MalformedBody(format!("line {} column {}", e.line(), e.column()))
    })?;
    check_activity(
        &verified,
        head.channel_id.as_deref(),
        head.service_url.as_deref(),
    )?;
    Ok(verified)
}

#[cfg(test)]
mod tests;
