//! Inbound authentication of Bot Framework channel requests
//! (`docs/protocols/bot-framework.md#channel-jwt`), without I/O: pure functions over the
//! raw body, the headers, a [`KeySet`] and the current time.
//!
//! Checks, in order: `Authorization: Bearer <JWT>`; `alg` in RS256/RS384/RS512 (so `none`
//! and HS256 key confusion fail before any key is touched); a key with the token's `kid`;
//! the signature (through `jsonwebtoken`, the one JWT crypto stack of byoc); `iss`; `aud` =
//! our app id; `exp` / `nbf` with the clock skew; then, against the activity in the body,
//! the key's endorsements include `channelId` and the `serviceurl` claim equals
//! `serviceUrl` exactly. Fetching and caching the keys is byoc-http's
//! [`KeyCache`](byoc_http::KeyCache).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byoc_http::KeySet;
use byoc_http::jsonwebtoken::{self, Algorithm, errors::ErrorKind};
use chrono::{DateTime, Utc};
use http::HeaderMap;
use serde::Deserialize;

use crate::config::ConnectorConfig;
use crate::error::VerifyError;

/// Longest token accepted, in bytes (a channel token is about 1.2 KB).
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Clock skew allowed on `exp` / `nbf` unless configured: 5 minutes, as botbuilder.
const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// The signing algorithms accepted (as botbuilder's allow-list).
fn allowed_algorithm(alg: &str) -> Option<Algorithm> {
    match alg {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        _ => None,
    }
}

/// What a channel token must satisfy: one of the accepted issuers, our app id as audience,
/// a lifetime covering now give or take the clock skew.
///
/// ```
/// use byoc_directline::ChannelVerifier;
/// let verifier = ChannelVerifier::new("https://api.botframework.com", "my-app-id");
/// # let _ = verifier;
/// ```
#[derive(Clone, Debug)]
pub struct ChannelVerifier {
    issuers: Vec<String>,
    audience: String,
    clock_skew: Duration,
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
struct RawHeader {
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
    /// The signing key's endorsements (the channel ids it may sign for).
    pub endorsements: Vec<String>,
}

impl VerifiedToken {
    /// Checks the token against the activity it came with: the signing key must be
    /// endorsed for `channel_id`, and the `serviceurl` claim must equal `service_url`
    /// exactly.
    ///
    /// # Errors
    /// [`VerifyError::MissingEndorsement`] (also when the activity has no `channelId`,
    /// which the schema makes mandatory), [`VerifyError::ServiceUrlMismatch`] (also when
    /// either side is missing).
    pub fn check_activity(
        &self,
        channel_id: Option<&str>,
        service_url: Option<&str>,
    ) -> Result<(), VerifyError> {
        let channel_id = channel_id.ok_or(VerifyError::MissingEndorsement)?;
        if !self.endorsements.iter().any(|e| e == channel_id) {
            return Err(VerifyError::MissingEndorsement);
        }
        match (self.service_url.as_deref(), service_url) {
            (Some(claim), Some(url)) if claim == url => Ok(()),
            _ => Err(VerifyError::ServiceUrlMismatch),
        }
    }
}

/// Reads the bearer token of `Authorization` (the scheme must be exactly `Bearer`).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, VerifyError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(VerifyError::MissingAuthorization)?;
    let value = value.to_str().map_err(|_| VerifyError::NotBearer)?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or(VerifyError::NotBearer)?
        .trim();
    if token.is_empty() {
        return Err(VerifyError::NotBearer);
    }
    Ok(token)
}

/// The `kid` a token names, without verifying anything (to decide whether to refetch keys).
pub(crate) fn token_kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    serde_json::from_slice::<RawHeader>(&bytes).ok()?.kid
}

#[derive(Deserialize)]
struct ActivityHead {
    #[serde(rename = "channelId")]
    channel_id: Option<String>,
    #[serde(rename = "serviceUrl")]
    service_url: Option<String>,
}

impl ChannelVerifier {
    /// Accepts tokens from `issuer` for the bot `app_id`, with a 5-minute clock skew.
    #[must_use]
    pub fn new(issuer: impl Into<String>, app_id: impl Into<String>) -> Self {
        Self {
            issuers: vec![issuer.into()],
            audience: app_id.into(),
            clock_skew: DEFAULT_CLOCK_SKEW,
        }
    }

    /// The verifier a [`ConnectorConfig`] describes: its issuers, app id and clock skew.
    #[must_use]
    pub fn from_config(config: &ConnectorConfig) -> Self {
        Self {
            issuers: config.issuers().to_vec(),
            audience: config.app_id().to_owned(),
            clock_skew: config.clock_skew(),
        }
    }

    /// Accepts `issuer` too.
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Sets the clock skew on `exp` / `nbf`. Default 5 minutes.
    #[must_use]
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// The clock skew on `exp` / `nbf`.
    #[must_use]
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// Verifies one inbound channel request: the bearer token of `headers` against `keys`
    /// at `now`, then the activity in `body` against the token.
    ///
    /// # Errors
    /// The [`VerifyError`] of the first check that fails.
    pub fn verify(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        keys: &KeySet,
        now: DateTime<Utc>,
    ) -> Result<VerifiedToken, VerifyError> {
        let token = bearer_token(headers)?;
        let verified = self.verify_token(token, keys, now)?;
        let head: ActivityHead = serde_json::from_slice(body).map_err(|e| {
            VerifyError::MalformedBody(format!("line {} column {}", e.line(), e.column()))
        })?;
        verified.check_activity(head.channel_id.as_deref(), head.service_url.as_deref())?;
        Ok(verified)
    }

    /// Verifies a token's form, algorithm, signature, issuer, audience and lifetime.
    ///
    /// # Errors
    /// The [`VerifyError`] of the first check that fails.
    pub fn verify_token(
        &self,
        token: &str,
        keys: &KeySet,
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
        let header: RawHeader = serde_json::from_slice(&header_bytes)
            .map_err(|_| VerifyError::MalformedToken("header"))?;
        let alg = header.alg.unwrap_or_default();
        let algorithm = allowed_algorithm(&alg)
            .ok_or_else(|| VerifyError::DisallowedAlgorithm(alg.chars().take(16).collect()))?;
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let key = keys.find(Some(&kid)).ok_or(VerifyError::UnknownKey)?;
        let signed = &token.as_bytes()[..h64.len() + 1 + p64.len()];
        match jsonwebtoken::crypto::verify(s64, signed, key.decoding_key(), algorithm) {
            Ok(true) => {}
            Ok(false) => return Err(VerifyError::BadSignature),
            Err(e) if matches!(e.kind(), ErrorKind::Base64(_)) => {
                return Err(VerifyError::MalformedToken("signature"));
            }
            // A key of another family (an EC key named by an RSA token) cannot verify it.
            Err(_) => return Err(VerifyError::BadSignature),
        }

        let payload = URL_SAFE_NO_PAD
            .decode(p64)
            .map_err(|_| VerifyError::MalformedToken("payload"))?;
        let claims: RawClaims =
            serde_json::from_slice(&payload).map_err(|_| VerifyError::MalformedToken("payload"))?;
        let issuer = claims.iss.ok_or(VerifyError::WrongIssuer)?;
        if !self.issuers.iter().any(|i| i == &issuer) {
            return Err(VerifyError::WrongIssuer);
        }
        let audience_ok = match &claims.aud {
            Some(Audience::One(a)) => a == &self.audience,
            Some(Audience::Many(list)) => list.iter().any(|a| a == &self.audience),
            None => false,
        };
        if !audience_ok || self.audience.is_empty() {
            return Err(VerifyError::WrongAudience);
        }
        let skew = i64::try_from(self.clock_skew.as_secs()).unwrap_or(i64::MAX);
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
            endorsements: key.endorsements().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests;
