//! Authenticating Omnichannel's webhook calls: a pure function over the request headers, the
//! tenant's signing keys and the current time (passed in).
//!
//! The bearer token is an Entra-issued JWT. Checked, in order: header syntax, `alg` = RS256,
//! a key with the token's `kid`, the signature, `iss` among the accepted issuers, `tid`,
//! `aud` among the accepted audiences, `appid`/`azp`, then `nbf`/`exp` against `now` with
//! the leeway. With [`WebhookAuthMode::LegacyToken`] or [`WebhookAuthMode::Either`] the
//! legacy `x-ms-token` header is compared in constant time with the configured value.

use std::fmt;

use chrono::{DateTime, Utc};
use http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::{WebhookAuthMode, WebhookConfig};
use crate::error::VerifyError;

/// The legacy shared-token header (04/2025 documentation).
pub const LEGACY_TOKEN_HEADER: &str = "x-ms-token";
/// Longest `Authorization` value looked at; longer ones are refused unparsed.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The tenant's signing keys (Entra's JWKS), by `kid`. Only RSA keys are kept.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<(Option<String>, DecodingKey)>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field(
                "kids",
                &self.keys.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl KeySet {
    /// No keys.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a JWKS document (`{"keys":[{"kty":"RSA","kid":..,"n":..,"e":..}]}`); keys of
    /// other types or that do not parse are skipped.
    ///
    /// # Errors
    /// [`VerifyError::KeysUnavailable`] when the document is not a JWKS.
    pub fn from_jwks(bytes: &[u8]) -> Result<Self, VerifyError> {
        let set: JwkSet =
            serde_json::from_slice(bytes).map_err(|_| VerifyError::KeysUnavailable)?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            if let jsonwebtoken::jwk::AlgorithmParameters::RSA(_) = &jwk.algorithm
                && let Ok(k) = DecodingKey::from_jwk(jwk)
            {
                keys.push((jwk.common.key_id.clone(), k));
            }
        }
        Ok(Self { keys })
    }

    /// Adds an RSA key from its base64url modulus and exponent.
    ///
    /// # Errors
    /// [`VerifyError::KeysUnavailable`] when the components are not base64url.
    pub fn with_rsa_components(
        mut self,
        kid: impl Into<String>,
        n: &str,
        e: &str,
    ) -> Result<Self, VerifyError> {
        let key =
            DecodingKey::from_rsa_components(n, e).map_err(|_| VerifyError::KeysUnavailable)?;
        self.keys.push((Some(kid.into()), key));
        Ok(self)
    }

    /// Whether a key has this `kid`.
    #[must_use]
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.iter().any(|(k, _)| k.as_deref() == Some(kid))
    }

    /// How many keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn find(&self, kid: Option<&str>) -> Option<&DecodingKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .map(|(_, key)| key),
            // A token without `kid` can only match a set of exactly one key.
            None if self.keys.len() == 1 => self.keys.first().map(|(_, k)| k),
            None => None,
        }
    }
}

/// How a webhook call was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller {
    /// An Entra token.
    Bearer(TokenClaims),
    /// The legacy shared `x-ms-token`.
    LegacyToken,
}

/// The checked claims of a webhook bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenClaims {
    /// `iss`.
    pub issuer: String,
    /// `aud` (the one that matched).
    pub audience: String,
    /// `tid`.
    pub tenant_id: String,
    /// `appid` (v1) or `azp` (v2), if present.
    pub app_id: Option<String>,
    /// `sub`, if present.
    pub subject: Option<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    aud: Option<Audience>,
    tid: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
    sub: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The `kid` of a bearer token, without checking anything else (so a caller can refresh its
/// key set when the kid is unknown).
///
/// # Errors
/// [`VerifyError::MalformedToken`].
pub fn token_kid(token: &str) -> Result<Option<String>, VerifyError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::MalformedToken)?;
    Ok(header.kid)
}

/// The bearer token of a request (`Authorization: Bearer ...`), if any.
///
/// # Errors
/// [`VerifyError::MalformedHeader`] when the header is present but not a bearer token.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, VerifyError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    if value.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::MalformedHeader);
    }
    let text = value.to_str().map_err(|_| VerifyError::MalformedHeader)?;
    let (scheme, token) = text.split_once(' ').ok_or(VerifyError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(VerifyError::MalformedHeader);
    }
    Ok(Some(token.trim()))
}

/// Authenticates one webhook request by its headers, per `config.auth_mode`.
///
/// # Errors
/// The [`VerifyError`] naming the first check that failed.
pub fn verify(
    headers: &HeaderMap,
    config: &WebhookConfig,
    keys: &KeySet,
    now: DateTime<Utc>,
) -> Result<Caller, VerifyError> {
    match &config.auth_mode {
        WebhookAuthMode::Bearer => {
            let token = bearer_token(headers)?.ok_or(VerifyError::MissingToken)?;
            verify_bearer(token, config, keys, now).map(Caller::Bearer)
        }
        WebhookAuthMode::LegacyToken(expected) => {
            verify_legacy(headers, expected.secret()).map(|()| Caller::LegacyToken)
        }
        WebhookAuthMode::Either(expected) => match bearer_token(headers)? {
            Some(token) => verify_bearer(token, config, keys, now).map(Caller::Bearer),
            None => verify_legacy(headers, expected.secret()).map(|()| Caller::LegacyToken),
        },
    }
}

fn verify_legacy(headers: &HeaderMap, expected: &str) -> Result<(), VerifyError> {
    let got = headers
        .get(LEGACY_TOKEN_HEADER)
        .ok_or(VerifyError::MissingToken)?;
    if expected.is_empty() {
        return Err(VerifyError::BadLegacyToken);
    }
    if bool::from(got.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(VerifyError::BadLegacyToken)
    }
}

/// Checks one Entra bearer token.
///
/// # Errors
/// The [`VerifyError`] naming the first check that failed.
pub fn verify_bearer(
    token: &str,
    config: &WebhookConfig,
    keys: &KeySet,
    now: DateTime<Utc>,
) -> Result<TokenClaims, VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::MalformedToken);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::MalformedToken)?;
    if header.alg != Algorithm::RS256 {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    let key = keys
        .find(header.kid.as_deref())
        .ok_or(VerifyError::UnknownKey)?;
    // jsonwebtoken checks the signature only; every claim is checked below against `now`.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data =
        jsonwebtoken::decode::<RawClaims>(token, key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => VerifyError::BadSignature,
            jsonwebtoken::errors::ErrorKind::Json(_) => VerifyError::MissingClaim("payload"),
            _ => VerifyError::MalformedToken,
        })?;
    let c = data.claims;

    let issuer = c.iss.ok_or(VerifyError::MissingClaim("iss"))?;
    if !config.issuers.iter().any(|i| i == &issuer) {
        return Err(VerifyError::WrongIssuer);
    }
    let tenant_id = c.tid.ok_or(VerifyError::MissingClaim("tid"))?;
    if !tenant_id.eq_ignore_ascii_case(config.tenant_id.as_str()) {
        return Err(VerifyError::WrongTenant);
    }
    let auds = match c.aud.ok_or(VerifyError::MissingClaim("aud"))? {
        Audience::One(a) => vec![a],
        Audience::Many(v) => v,
    };
    let audience = auds
        .into_iter()
        .find(|a| config.audiences.iter().any(|x| x == a))
        .ok_or(VerifyError::WrongAudience)?;
    let app_id = c.appid.or(c.azp);
    if config.check_app_id {
        match &app_id {
            Some(a) if a.eq_ignore_ascii_case(config.app_id.as_str()) => {}
            Some(_) => return Err(VerifyError::WrongApp),
            None => return Err(VerifyError::MissingClaim("appid")),
        }
    }
    let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(i64::MAX);
    let now = now.timestamp();
    let exp = c.exp.ok_or(VerifyError::MissingClaim("exp"))?;
    if now > exp.saturating_add(leeway) {
        return Err(VerifyError::Expired);
    }
    if let Some(nbf) = c.nbf.or(c.iat)
        && nbf > now.saturating_add(leeway)
    {
        return Err(VerifyError::NotYetValid);
    }
    Ok(TokenClaims {
        issuer,
        audience,
        tenant_id,
        app_id,
        subject: c.sub,
        expires_at: exp,
    })
}

#[cfg(test)]
mod tests;
