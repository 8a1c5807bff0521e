//! Signing keys for JWT verification: [`KeySet`] (a JWKS document read into `jsonwebtoken`
//! keys, with the Bot Framework's `endorsements`) and [`KeyCache`] (the keys behind an OpenID
//! metadata document or a JWKS URL, kept for a day, refetched on an unknown key id at most
//! once per interval).
//!
//! Every JWT in byoc goes through `jsonwebtoken`: one crypto stack for signing and checking.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::transport::{HttpTransport, TransportError};

/// Default age after which keys are fetched again: 24 hours.
pub const DEFAULT_KEYS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// Default shortest interval between two fetches caused by unknown key ids: 1 hour, so a
/// flood of tokens with made-up `kid`s cannot make us hammer the issuer.
pub const DEFAULT_UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// Largest key document read.
const MAX_KEY_DOCUMENT_BYTES: usize = 512 * 1024;

/// One signing key of a [`KeySet`].
#[derive(Clone)]
pub struct Jwk {
    kid: Option<String>,
    algorithm: Option<Algorithm>,
    endorsements: Vec<String>,
    key: DecodingKey,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("endorsements", &self.endorsements)
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// A key from a `jsonwebtoken` decoding key.
    #[must_use]
    pub fn new(kid: Option<String>, key: DecodingKey) -> Self {
        Self {
            kid,
            algorithm: None,
            endorsements: Vec::new(),
            key,
        }
    }

    /// Sets the channels that endorse this key (the Bot Framework's `endorsements`).
    #[must_use]
    pub fn with_endorsements(mut self, endorsements: Vec<String>) -> Self {
        self.endorsements = endorsements;
        self
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm the document pins this key to (`alg`), if it does.
    #[must_use]
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.algorithm
    }

    /// The channels that endorse this key. Empty when the document lists none.
    #[must_use]
    pub fn endorsements(&self) -> &[String] {
        &self.endorsements
    }

    /// Whether `channel_id` is among the endorsements.
    #[must_use]
    pub fn is_endorsed_for(&self, channel_id: &str) -> bool {
        self.endorsements.iter().any(|e| e == channel_id)
    }

    /// The key for `jsonwebtoken::decode`.
    #[must_use]
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

/// Why keys could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// The metadata or key document could not be fetched.
    #[error("signing keys unreachable: {0}")]
    Unreachable(#[from] TransportError),
    /// The metadata or key endpoint answered an error status.
    #[error("signing key endpoint answered HTTP {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// A document is not what it should be; `what` says which part.
    #[error("signing key document unusable: {what}")]
    Malformed {
        /// What is wrong (`jwks_uri missing`, `not a JWKS`, ...).
        what: &'static str,
    },
}

/// The keys of one JWKS document, by `kid`. RSA and EC keys are kept; other key types and
/// keys that do not parse are skipped.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<JwkDocument>,
}

#[derive(Deserialize)]
struct JwkDocument {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    #[serde(default)]
    endorsements: Vec<String>,
}

impl JwkDocument {
    fn into_key(self) -> Option<Jwk> {
        let key = match self.kty.as_deref()? {
            "RSA" => {
                DecodingKey::from_rsa_components(self.n.as_deref()?, self.e.as_deref()?).ok()?
            }
            "EC" => {
                if !matches!(self.crv.as_deref(), Some("P-256" | "P-384")) {
                    return None;
                }
                DecodingKey::from_ec_components(self.x.as_deref()?, self.y.as_deref()?).ok()?
            }
            _ => return None,
        };
        Some(Jwk {
            kid: self.kid,
            algorithm: self.alg.as_deref().and_then(|a| a.parse().ok()),
            endorsements: self.endorsements,
            key,
        })
    }
}

impl KeySet {
    /// No keys.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a JWKS document (`{"keys":[{"kty":"RSA","kid":..,"n":..,"e":..}, ...]}`).
    ///
    /// # Errors
    /// [`KeysError::Malformed`] when the document is not a JWKS.
    pub fn from_jwks(document: &[u8]) -> Result<Self, KeysError> {
        let doc: JwksDocument = serde_json::from_slice(document)
            .map_err(|_| KeysError::Malformed { what: "not a JWKS" })?;
        Ok(Self {
            keys: doc
                .keys
                .into_iter()
                .filter_map(JwkDocument::into_key)
                .collect(),
        })
    }

    /// Adds a key.
    #[must_use]
    pub fn with_key(mut self, key: Jwk) -> Self {
        self.keys.push(key);
        self
    }

    /// The key a token's `kid` names. A token without `kid` matches only a set of exactly
    /// one key.
    #[must_use]
    pub fn find(&self, kid: Option<&str>) -> Option<&Jwk> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }

    /// Whether a key has this `kid`.
    #[must_use]
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid() == Some(kid))
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
}

/// Where a [`KeyCache`] finds its keys.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum KeySource {
    /// An OpenID Connect metadata document whose `jwks_uri` names the key document.
    OpenIdMetadata(Url),
    /// A JWKS document directly.
    Jwks(Url),
    /// Fixed keys, never fetched (tests, air-gapped deployments).
    Static(Arc<KeySet>),
}

struct Cached {
    keys: Arc<KeySet>,
    fetched_at: Instant,
    last_forced: Option<Instant>,
}

/// The signing keys behind a [`KeySource`], fetched on first use, fetched again when older
/// than the maximum age (a failed refresh keeps the old keys and logs a warning), and
/// fetched again when a token names a key id the set lacks, at most once per interval.
pub struct KeyCache {
    source: KeySource,
    transport: Arc<dyn HttpTransport>,
    max_age: Duration,
    unknown_kid_interval: Duration,
    cached: Mutex<Option<Cached>>,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache")
            .field("source", &self.source)
            .field("max_age", &self.max_age)
            .field("unknown_kid_interval", &self.unknown_kid_interval)
            .finish_non_exhaustive()
    }
}

impl KeyCache {
    /// Keys from `source` through `transport`, with [`DEFAULT_KEYS_MAX_AGE`] and
    /// [`DEFAULT_UNKNOWN_KID_INTERVAL`].
    #[must_use]
    pub fn new(source: KeySource, transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            source,
            transport,
            max_age: DEFAULT_KEYS_MAX_AGE,
            unknown_kid_interval: DEFAULT_UNKNOWN_KID_INTERVAL,
            cached: Mutex::new(None),
        }
    }

    /// Sets the age after which keys are fetched again.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Sets the shortest interval between fetches caused by unknown key ids.
    #[must_use]
    pub fn with_unknown_kid_interval(mut self, interval: Duration) -> Self {
        self.unknown_kid_interval = interval;
        self
    }

    /// The source.
    #[must_use]
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    async fn get(&self, url: &str) -> Result<Bytes, KeysError> {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new())
            .map_err(|_| KeysError::Malformed {
                what: "key URL is not a request URI",
            })?;
        let response = self.transport.execute(request).await?;
        if !response.status().is_success() {
            return Err(KeysError::Status {
                status: response.status().as_u16(),
            });
        }
        let body = response.into_body();
        if body.len() > MAX_KEY_DOCUMENT_BYTES {
            return Err(KeysError::Malformed {
                what: "key document too large",
            });
        }
        Ok(body)
    }

    async fn fetch(&self) -> Result<KeySet, KeysError> {
        match &self.source {
            KeySource::Static(keys) => Ok(KeySet::clone(keys)),
            KeySource::Jwks(url) => KeySet::from_jwks(&self.get(url.as_str()).await?),
            KeySource::OpenIdMetadata(url) => {
                #[derive(Deserialize)]
                struct Metadata {
                    jwks_uri: Option<String>,
                }
                let meta: Metadata = serde_json::from_slice(&self.get(url.as_str()).await?)
                    .map_err(|_| KeysError::Malformed {
                        what: "OpenID metadata is not JSON",
                    })?;
                let jwks_uri = meta.jwks_uri.ok_or(KeysError::Malformed {
                    what: "OpenID metadata has no jwks_uri",
                })?;
                KeySet::from_jwks(&self.get(&jwks_uri).await?)
            }
        }
    }

    /// The current keys: fetched when missing or older than the maximum age.
    ///
    /// # Errors
    /// [`KeysError`] when there are no keys at all (a failed refresh of existing keys keeps
    /// them).
    pub async fn keys(&self) -> Result<Arc<KeySet>, KeysError> {
        let mut guard = self.cached.lock().await;
        if let Some(c) = guard.as_ref()
            && c.fetched_at.elapsed() < self.max_age
        {
            return Ok(c.keys.clone());
        }
        match self.fetch().await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                let last_forced = guard.as_ref().and_then(|c| c.last_forced);
                *guard = Some(Cached {
                    keys: keys.clone(),
                    fetched_at: Instant::now(),
                    last_forced,
                });
                Ok(keys)
            }
            Err(e) => match guard.as_ref() {
                Some(c) => {
                    tracing::warn!(error = %e, "signing key refresh failed; keeping the old keys");
                    Ok(c.keys.clone())
                }
                None => Err(e),
            },
        }
    }

    /// The keys, fetched again first when they lack `kid` and the last such fetch is older
    /// than the interval. The caller then looks the key up with [`KeySet::find`]; a key
    /// still missing means the token is not ours.
    ///
    /// # Errors
    /// [`KeysError`] when there are no keys at all.
    pub async fn keys_with(&self, kid: Option<&str>) -> Result<Arc<KeySet>, KeysError> {
        let keys = self.keys().await?;
        if keys.find(kid).is_some() {
            return Ok(keys);
        }
        let mut guard = self.cached.lock().await;
        if let Some(c) = guard.as_ref() {
            if c.keys.find(kid).is_some() {
                return Ok(c.keys.clone());
            }
            if c.last_forced
                .is_some_and(|at| at.elapsed() < self.unknown_kid_interval)
            {
                return Ok(c.keys.clone());
            }
        }
        tracing::debug!(
            kid = kid.unwrap_or("-"),
            "unknown key id; fetching keys again"
        );
        let now = Instant::now();
        match self.fetch().await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *guard = Some(Cached {
                    keys: fresh.clone(),
                    fetched_at: now,
                    last_forced: Some(now),
                });
                Ok(fresh)
            }
            Err(e) => {
                if let Some(c) = guard.as_mut() {
                    c.last_forced = Some(now);
                }
                tracing::warn!(error = %e, "signing key fetch for an unknown key id failed");
                Ok(keys)
            }
        }
    }
}

#[cfg(test)]
mod tests;
