//! Fetching and caching the channel signing keys (B.3): the OpenID metadata names the JWKS;
//! both are refetched when older than 24 hours, and an unknown `kid` triggers a refetch at
//! most once an hour (botbuilder-js `openIdMetadata.ts`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::client::HttpTransport;
use crate::error::VerifyError;
use crate::verify::KeySet;

/// Keys older than this are refetched.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// At most one refetch per this interval for unknown key ids.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(60 * 60);

struct Cached {
    keys: Arc<KeySet>,
    fetched_at: Instant,
    last_forced: Option<Instant>,
}

/// The channel signing keys behind an OpenID metadata URL.
pub struct OpenIdKeys {
    metadata_url: String,
    transport: Arc<dyn HttpTransport>,
    cached: Mutex<Option<Cached>>,
}

impl fmt::Debug for OpenIdKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenIdKeys")
            .field("metadata_url", &self.metadata_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

impl OpenIdKeys {
    /// Keys behind `metadata_url`, fetched on first use.
    #[must_use]
    pub fn new(metadata_url: impl Into<String>, transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            metadata_url: metadata_url.into(),
            transport,
            cached: Mutex::new(None),
        }
    }

    async fn get(&self, url: &str) -> Result<Bytes, VerifyError> {
        let req = http::Request::get(url)
            .body(Bytes::new())
            .map_err(|_| VerifyError::KeysUnavailable("bad metadata URL".into()))?;
        let resp = self
            .transport
            .execute(req)
            .await
            .map_err(|e| VerifyError::KeysUnavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(VerifyError::KeysUnavailable(format!(
                "HTTP {}",
                resp.status().as_u16()
            )));
        }
        Ok(resp.into_body())
    }

    async fn fetch(&self) -> Result<KeySet, VerifyError> {
        let meta = self.get(&self.metadata_url).await?;
        let meta: Metadata = serde_json::from_slice(&meta)
            .map_err(|_| VerifyError::KeysUnavailable("metadata has no jwks_uri".into()))?;
        let jwks = self.get(&meta.jwks_uri).await?;
        KeySet::from_jwks(&jwks)
    }

    /// The current keys (fetched if missing or older than 24 hours; on a failed refresh
    /// the old keys are kept).
    ///
    /// # Errors
    /// [`VerifyError::KeysUnavailable`] when there are no keys at all.
    pub async fn keys(&self) -> Result<Arc<KeySet>, VerifyError> {
        let mut guard = self.cached.lock().await;
        if let Some(c) = guard.as_ref()
            && c.fetched_at.elapsed() < KEYS_MAX_AGE
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
                    tracing::warn!(error = %e, "key refresh failed; keeping the old keys");
                    Ok(c.keys.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Refetches because a token named an unknown `kid`, unless that was done less than an
    /// hour ago; returns the new keys when a refetch happened.
    ///
    /// # Errors
    /// [`VerifyError::KeysUnavailable`].
    pub async fn refetch_for_unknown_kid(&self) -> Result<Option<Arc<KeySet>>, VerifyError> {
        let mut guard = self.cached.lock().await;
        if let Some(Some(at)) = guard.as_ref().map(|c| c.last_forced)
            && at.elapsed() < UNKNOWN_KID_REFETCH_INTERVAL
        {
            return Ok(None);
        }
        let keys = Arc::new(self.fetch().await?);
        *guard = Some(Cached {
            keys: keys.clone(),
            fetched_at: Instant::now(),
            last_forced: Some(Instant::now()),
        });
        Ok(Some(keys))
    }
}
