//! Authenticating Omnichannel's webhook calls: a pure function over the request headers, the
//! tenant's signing keys and the current time (passed in). The rules are in
//! `docs/protocols/messaging-api.md#webhook-authentication`.
//!
//! The bearer token is an Entra-issued JWT. Checked, in order: header syntax, `alg` = RS256,
//! an RSA key with the token's `kid`, the signature, `iss` among the accepted issuers,
//! `tid`, `aud` among the accepted audiences, `appid`/`azp`, then `nbf`/`exp` against `now`
//! with the clock skew. With [`WebhookAuthMode::LegacyToken`] or [`WebhookAuthMode::Either`]
//! the legacy `x-ms-token` header is compared in constant time with the configured value.

use byoc_http::KeySet;
use byoc_http::jsonwebtoken::{self, Algorithm, AlgorithmFamily, Validation};
use chrono::{DateTime, Utc};
use http::HeaderMap;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::{MessagingApiConfig, WebhookAuthMode};
use crate::error::VerifyError;

/// The legacy shared-token header (04/2025 documentation).
pub(crate) const LEGACY_TOKEN_HEADER: &str = "x-ms-token";
/// Longest `Authorization` value looked at; longer ones are refused unparsed.
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

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
pub(crate) fn token_kid(token: &str) -> Result<Option<String>, VerifyError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::MalformedToken)?;
    Ok(header.kid)
}

/// The bearer token of a request (`Authorization: Bearer ...`), if any.
///
/// # Errors
/// [`VerifyError::MalformedHeader`] when the header is present but not a bearer token.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, VerifyError> {
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

/// Authenticates one webhook request by its headers, per
/// [`MessagingApiConfig::webhook_auth`], with the tenant's signing keys `keys` (a
/// [`byoc_http::KeyCache`] keeps them; [`MessagingApiAdapter`](crate::MessagingApiAdapter)
/// does this with its own) at `now`.
///
/// # Errors
/// The [`VerifyError`] naming the first check that failed.
pub fn verify(
    headers: &HeaderMap,
    config: &MessagingApiConfig,
    keys: &KeySet,
    now: DateTime<Utc>,
) -> Result<Caller, VerifyError> {
    match &config.webhook().auth {
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
pub(crate) fn verify_bearer(
    token: &str,
    config: &MessagingApiConfig,
    keys: &KeySet,
    now: DateTime<Utc>,
) -> Result<TokenClaims, VerifyError> {
    let config = config.webhook();
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::MalformedToken);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::MalformedToken)?;
    if header.alg != Algorithm::RS256 {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    // Only an RSA key can check an RS256 signature; a key of another type under the same
    // `kid` is no key for this token.
    let key = keys
        .find(header.kid.as_deref())
        .map(byoc_http::Jwk::decoding_key)
        .filter(|k| k.family() == AlgorithmFamily::Rsa)
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
    let skew = i64::try_from(config.clock_skew.as_secs()).unwrap_or(i64::MAX);
    let now = now.timestamp();
    let exp = c.exp.ok_or(VerifyError::MissingClaim("exp"))?;
    if now > exp.saturating_add(skew) {
        return Err(VerifyError::Expired);
    }
    if let Some(nbf) = c.nbf.or(c.iat)
        && nbf > now.saturating_add(skew)
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
