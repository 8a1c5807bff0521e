//! [`ConnectorAdapter`]: the bot's messaging endpoint as a [`ChannelAdapter`]. `receive`
//! validates the channel JWT, remembers the `serviceUrl` as trusted and returns at once
//! (well within the 15-second budget); `send` replies through the Connector, only to
//! trusted service URLs.
//!
//! Most activities are answered `200` with an empty body. Two are answered with content
//! the bot decides, which `receive` cannot know: an `invoke` waits for the bot's
//! [`InvokeResponse`] (status and body), and an activity with `deliveryMode:
//! expectReplies` waits for the bot's replies in the body (`{"activities":[...]}`). For
//! those, `receive` returns a placeholder answer ([`ExpectedAnswer::default_response`]:
//! `501` for an invoke, as botbuilder answers an unhandled one; `200 {"activities":[]}`
//! for expectReplies), and the host replaces it (with byoc-axum, a sink returning
//! `Answer::Replace`) with [`InvokeResponse::to_response`] or [`expected_replies`].

mod answer;

pub use answer::{ExpectedAnswer, InvokeResponse, expected_replies};

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use byoc_core::{Activity, AdapterError, ChannelAdapter, ChannelInfo, Delivery, Inbound};
use byoc_http::{HttpTransport, KeyCache, KeySource};
use bytes::Bytes;
use sha2::Digest as _;

use crate::client::ConnectorClient;
use crate::config::{ConnectorConfig, url_matches};
use crate::error::{ClientError, ConfigError, VerifyError};
use crate::normalize::normalize_channel_activity;
use crate::verify::{ChannelVerifier, VerifiedToken, bearer_token, token_kid};

/// Validated tokens kept (until they expire) so a burst of activities verifies once.
const TOKEN_CACHE_CAPACITY: usize = 1024;
/// Service URLs remembered.
const TRUSTED_CAPACITY: usize = 4096;

/// The bot side of the Bot Framework: inbound channel activities, outbound Connector calls.
pub struct ConnectorAdapter {
    config: ConnectorConfig,
    info: ChannelInfo,
    keys: KeyCache,
    verifier: ChannelVerifier,
    connector: ConnectorClient,
    verified: Mutex<HashMap<[u8; 32], VerifiedToken>>,
    trusted: Mutex<HashSet<String>>,
}

impl fmt::Debug for ConnectorAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorAdapter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ConnectorAdapter {
    /// An adapter over reqwest with `config`'s timeout, response cap and root CAs, for keys,
    /// tokens and Connector calls alike.
    ///
    /// # Errors
    /// [`ConfigError`] when the HTTP client cannot be built (a root CA that is not PEM).
    #[cfg(feature = "reqwest")]
    pub fn new(config: ConnectorConfig) -> Result<Self, ConfigError> {
        let transport = crate::client::reqwest_transport(
            config.timeout(),
            config.max_response_bytes(),
            config.root_cas(),
        )?;
        Self::with_transport(config, transport)
    }

    /// An adapter fetching keys and tokens and calling the Connector through `transport`.
    ///
    /// # Errors
    /// None today; the signature matches [`ConnectorAdapter::new`].
    pub fn with_transport(
        config: ConnectorConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            info: ChannelInfo::new("connector"),
            keys: KeyCache::new(
                KeySource::OpenIdMetadata(config.openid_metadata_url().clone()),
                transport.clone(),
            ),
            verifier: ChannelVerifier::from_config(&config),
            connector: ConnectorClient::with_transport(config.clone(), transport)?,
            config,
            verified: Mutex::new(HashMap::new()),
            trusted: Mutex::new(HashSet::new()),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ConnectorConfig {
        &self.config
    }

    /// The Connector client (for create conversation, update, delete, upload).
    #[must_use]
    pub fn connector(&self) -> &ConnectorClient {
        &self.connector
    }

    /// Whether `service_url` may be called: it arrived in a validated activity, or matches a
    /// configured pattern.
    #[must_use]
    pub fn is_trusted(&self, service_url: &str) -> bool {
        lock(&self.trusted).contains(service_url)
            || self
                .config
                .trusted_service_urls()
                .iter()
                .any(|p| url_matches(p, service_url))
    }

    async fn verify_token(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let now = chrono::Utc::now();
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let skew = i64::try_from(self.verifier.clock_skew().as_secs()).unwrap_or(0);
        if let Some(v) = lock(&self.verified).get(&digest)
            && v.expires_at + skew >= now.timestamp()
        {
            return Ok(v.clone());
        }
        let unavailable = |e: byoc_http::KeysError| VerifyError::KeysUnavailable(e.to_string());
        let keys = self.keys.keys().await.map_err(unavailable)?;
        let verified = match self.verifier.verify_token(token, &keys, now) {
            // A rotated key: fetch the keys again (at most once an hour), then check again.
            Err(VerifyError::UnknownKey) => {
                let kid = token_kid(token);
                let fresh = self
                    .keys
                    .keys_with(kid.as_deref())
                    .await
                    .map_err(unavailable)?;
                self.verifier.verify_token(token, &fresh, now)?
            }
            other => other?,
        };
        let mut cache = lock(&self.verified);
        if cache.len() >= TOKEN_CACHE_CAPACITY {
            let now_s = now.timestamp();
            cache.retain(|_, v| v.expires_at > now_s);
            if cache.len() >= TOKEN_CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(digest, verified.clone());
        Ok(verified)
    }

    /// Verifies one inbound request and returns its activity (no side effects on failure).
    ///
    /// # Errors
    /// [`AdapterError::Unauthorized`] for every [`VerifyError`] but an outage of the key
    /// endpoint (transient), [`AdapterError::BadRequest`] for a malformed activity or an
    /// oversized body.
    pub async fn authenticate(
        &self,
        request: &http::Request<Bytes>,
    ) -> Result<Activity, AdapterError> {
        if request.body().len() > self.config.body_limit() {
            return Err(AdapterError::bad_request(
                "body",
                format!("larger than {} bytes", self.config.body_limit()),
            ));
        }
        let token = bearer_token(request.headers())?;
        let verified = self.verify_token(token).await?;
        let activity = normalize_channel_activity(request.body())?;
        verified.check_activity(
            activity.channel_id.as_deref(),
            activity.service_url.as_deref(),
        )?;
        Ok(activity)
    }
}

#[async_trait]
impl ChannelAdapter for ConnectorAdapter {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }

    async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError> {
        if request.method() != http::Method::POST {
            return Err(AdapterError::bad_request("method", "POST required"));
        }
        let activity = match self.authenticate(&request).await {
            Ok(a) => a,
            Err(e) => {
                tracing::info!(
                    code = e.code().unwrap_or_default(),
                    "rejected inbound channel request"
                );
                return Err(e);
            }
        };
        if let Some(url) = &activity.service_url {
            let mut trusted = lock(&self.trusted);
            if trusted.len() >= TRUSTED_CAPACITY && !trusted.contains(url) {
                trusted.clear();
            }
            trusted.insert(url.clone());
        }
        let response = ExpectedAnswer::of(&activity).default_response();
        Ok(Inbound::with_response(vec![activity], response))
    }

    /// Replies (when `replyToId` is set) or appends to the activity's conversation at its
    /// `serviceUrl`, which must be trusted. The [`Delivery`] carries the activity id the
    /// channel assigned (when it gives one) and the conversation id.
    async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError> {
        let service_url = activity
            .service_url
            .as_deref()
            .ok_or(ClientError::MissingField("serviceUrl"))?;
        if !self.is_trusted(service_url) {
            return Err(ClientError::UntrustedServiceUrl.into());
        }
        let conversation = activity
            .conversation_id()
            .ok_or(ClientError::MissingField("conversation.id"))?;
        let sent = match activity.reply_to_id.as_deref() {
            Some(reply_to) => {
                self.connector
                    .reply_to_activity(service_url, conversation, reply_to, activity)
                    .await?
            }
            None => {
                self.connector
                    .send_to_conversation(service_url, conversation, activity)
                    .await?
            }
        };
        Ok(Delivery::accepted(sent.id.filter(|id| !id.is_empty()))
            .with_conversation_id(conversation))
    }
}

#[cfg(test)]
mod tests;
