//! [`MessagingApiAdapter`]: the [`ChannelAdapter`] tying the webhook receiver (verify +
//! normalize, the tenant's signing keys in a [`KeyCache`]) to the Messaging API client.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::{
    Activity, AdapterError, Capability, ChannelAdapter, ChannelInfo, Delivery, Inbound, Timestamp,
};
use byoc_http::{HttpTransport, KeyCache, KeySet};
use bytes::Bytes;
use percent_encoding::percent_decode_str;

use crate::client::MessagingApiClient;
use crate::config::{MessagingApiConfig, WebhookAuthMode};
use crate::error::{ConfigError, NormalizeError, VerifyError};
use crate::normalize::{CHANNEL_ID, normalize_webhook_bytes};
use crate::verify::{Caller, bearer_token, token_kid, verify};

/// Shortest interval between two key fetches caused by an unknown `kid`: a flood of tokens
/// with made-up key ids cannot make the adapter hammer Entra, and a key Entra rotated in is
/// picked up within this time.
const UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// The conversation id of a webhook path `.../v3/conversations/{id}/activities`.
pub(crate) fn webhook_conversation_id(path: &str) -> Option<String> {
    let rest = path.strip_suffix("/activities")?;
    let (prefix, id) = rest.rsplit_once('/')?;
    if !prefix.ends_with("/v3/conversations") || id.is_empty() {
        return None;
    }
    let id = percent_decode_str(id).decode_utf8().ok()?.into_owned();
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// The Messaging API channel: receives Omnichannel's webhook calls
/// (`POST {webhook}/v3/conversations/{id}/activities`, authenticated, then normalized) and
/// sends through the Messaging API. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MessagingApiAdapter {
    info: ChannelInfo,
    client: MessagingApiClient,
    keys: Arc<KeyCache>,
}

impl MessagingApiAdapter {
    /// What the channel carries: text ≤ 6,000 characters, markdown, URL attachments,
    /// typing and events; no cards or suggested actions.
    #[must_use]
    pub fn channel_info() -> ChannelInfo {
        ChannelInfo::new(CHANNEL_ID)
            .with_max_text_len(Some(crate::render::MAX_TEXT_CHARS))
            .without(Capability::RichCards)
            .without(Capability::SuggestedActions)
    }

    /// An adapter over reqwest, built from the config's HTTP settings (timeout, root CAs,
    /// response cap); the signing keys are fetched through the same transport.
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`] when the HTTP client cannot be built.
    #[cfg(feature = "reqwest")]
    pub fn new(config: MessagingApiConfig) -> Result<Self, ConfigError> {
        let transport = config.http().transport()?;
        Self::with_transport(config, transport)
    }

    /// An adapter over any transport: the Messaging API, Entra's token endpoint and the
    /// signing keys are all reached through it.
    ///
    /// # Errors
    /// None today; the signature matches the other constructors of the family.
    pub fn with_transport(
        config: MessagingApiConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        let keys = KeyCache::new(config.key_source().clone(), transport.clone())
            .with_unknown_kid_interval(UNKNOWN_KID_INTERVAL);
        Ok(Self {
            info: Self::channel_info(),
            client: MessagingApiClient::with_transport(config, transport)?,
            keys: Arc::new(keys),
        })
    }

    /// The Messaging API client (create conversations, read messages and context).
    #[must_use]
    pub fn client(&self) -> &MessagingApiClient {
        &self.client
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MessagingApiConfig {
        self.client.config()
    }

    /// Authenticates a webhook request's headers, fetching the tenant's signing keys when
    /// needed.
    ///
    /// # Errors
    /// [`VerifyError`]; [`VerifyError::KeysUnavailable`] when no keys could be fetched.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, VerifyError> {
        let config = self.config();
        let needs_keys = match config.webhook_auth() {
            WebhookAuthMode::LegacyToken(_) => false,
            WebhookAuthMode::Either(_) => bearer_token(headers)?.is_some(),
            _ => true,
        };
        let keys = if needs_keys {
            let token = bearer_token(headers)?.ok_or(VerifyError::MissingToken)?;
            let kid = token_kid(token)?;
            self.keys.keys_with(kid.as_deref()).await.map_err(|e| {
                tracing::warn!(error = %e, "webhook signing keys unavailable");
                VerifyError::KeysUnavailable
            })?
        } else {
            Arc::new(KeySet::new())
        };
        verify(headers, config, &keys, chrono::Utc::now())
    }
}

#[async_trait]
impl ChannelAdapter for MessagingApiAdapter {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }

    async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError> {
        let limit = self.config().body_limit();
        if request.body().len() > limit {
            return Err(NormalizeError::TooLarge { limit }.into());
        }
        // Authenticate first: an unauthenticated caller learns nothing but 401.
        if let Err(e) = self.authenticate(request.headers()).await {
            tracing::warn!(error = %e, "webhook call refused");
            return Err(e.into());
        }
        if request.method() != http::Method::POST {
            return Err(NormalizeError::WrongMethod.into());
        }
        let conversation_id =
            webhook_conversation_id(request.uri().path()).ok_or(NormalizeError::WrongPath)?;
        let mut activities = normalize_webhook_bytes(request.into_body(), Some(&conversation_id))?;
        let now = Timestamp::now();
        for a in &mut activities {
            if a.timestamp.is_none() {
                a.timestamp = Some(now.clone());
            }
        }
        tracing::debug!(count = activities.len(), "webhook accepted");
        Ok(Inbound::ok(activities))
    }

    /// Sends through the Messaging API. The [`Delivery`] has the Messaging API's message id
    /// as its one part (none when the service answered without one) and the Omnichannel
    /// conversation id as its `conversation_id`.
    async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError> {
        let sent = self.client.send(activity).await?;
        let delivery = Delivery::accepted(sent.message_id);
        Ok(match activity.conversation_id() {
            Some(id) => delivery.with_conversation_id(id),
            None => delivery,
        })
    }
}

#[cfg(test)]
mod tests;
