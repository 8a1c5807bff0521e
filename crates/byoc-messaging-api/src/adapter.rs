//! [`MessagingApiAdapter`]: the [`ChannelAdapter`] tying the webhook receiver (verify +
//! normalize) to the Messaging API client, and [`JwksCache`], the tenant's signing keys
//! fetched on demand.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::{
    Activity, AdapterError, Capability, ChannelAdapter, ChannelInfo, Delivery, Inbound, Timestamp,
};
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;
use url::Url;

use crate::client::MessagingApiClient;
use crate::config::{WebhookAuthMode, WebhookConfig};
use crate::error::{NormalizeError, VerifyError};
use crate::normalize::{CHANNEL_ID, normalize_webhook_bytes};
use crate::transport::HttpTransport;
use crate::verify::{Caller, KeySet, bearer_token, token_kid, verify};

/// The conversation id of a webhook path `.../v3/conversations/{id}/activities`.
#[must_use]
pub fn webhook_conversation_id(path: &str) -> Option<String> {
    let rest = path.strip_suffix("/activities")?;
    let (prefix, id) = rest.rsplit_once('/')?;
    if !prefix.ends_with("/v3/conversations") || id.is_empty() {
        return None;
    }
    let id = percent_decode_str(id).decode_utf8().ok()?.into_owned();
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// The tenant's signing keys: fixed, or fetched from the JWKS URL and fetched again when a
/// token names an unknown `kid` (at most once per `min_refresh`, default 5 minutes).
#[derive(Clone)]
pub struct JwksCache {
    source: Option<(Url, Arc<dyn HttpTransport>)>,
    keys: Arc<RwLock<KeySet>>,
    last_fetch: Arc<Mutex<Option<Instant>>>,
    min_refresh: Duration,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.source.as_ref().map(|(u, _)| u.as_str()))
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// Keys fetched from `url` through `transport`.
    #[must_use]
    pub fn remote(url: Url, transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            source: Some((url, transport)),
            keys: Arc::new(RwLock::new(KeySet::new())),
            last_fetch: Arc::new(Mutex::new(None)),
            min_refresh: Duration::from_secs(300),
        }
    }

    /// A fixed key set (never fetched).
    #[must_use]
    pub fn fixed(keys: KeySet) -> Self {
        Self {
            source: None,
            keys: Arc::new(RwLock::new(keys)),
            last_fetch: Arc::new(Mutex::new(None)),
            min_refresh: Duration::MAX,
        }
    }

    /// Sets the shortest interval between two fetches.
    #[must_use]
    pub fn with_min_refresh(mut self, d: Duration) -> Self {
        self.min_refresh = d;
        self
    }

    /// The keys, fetched first when `kid` is unknown (or nothing was fetched yet).
    ///
    /// # Errors
    /// [`VerifyError::KeysUnavailable`] when a needed fetch fails.
    pub async fn keys_for(&self, kid: Option<&str>) -> Result<KeySet, VerifyError> {
        {
            let keys = self.keys.read().await;
            let known = match kid {
                Some(k) => keys.contains(k),
                None => !keys.is_empty(),
            };
            if known || self.source.is_none() {
                return Ok(keys.clone());
            }
        }
        let Some((url, transport)) = &self.source else {
            return Ok(self.keys.read().await.clone());
        };
        let mut last = self.last_fetch.lock().await;
        let due = last.is_none_or(|t| t.elapsed() >= self.min_refresh);
        if due {
            *last = Some(Instant::now());
            let req = http::Request::get(url.as_str())
                .header(http::header::ACCEPT, "application/json")
                .body(Vec::new())
                .map_err(|_| VerifyError::KeysUnavailable)?;
            let fetched = match transport.execute(req).await {
                Ok(resp) if resp.status().is_success() => KeySet::from_jwks(resp.body()),
                Ok(resp) => {
                    tracing::warn!(status = resp.status().as_u16(), "JWKS fetch refused");
                    Err(VerifyError::KeysUnavailable)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "JWKS fetch failed");
                    Err(VerifyError::KeysUnavailable)
                }
            };
            match fetched {
                Ok(set) => *self.keys.write().await = set,
                Err(e) => {
                    // Let the next request try again.
                    *last = None;
                    return Err(e);
                }
            }
        }
        Ok(self.keys.read().await.clone())
    }
}

/// The Messaging API channel: receives Omnichannel's webhook calls and sends through the
/// Messaging API.
#[derive(Clone, Debug)]
pub struct MessagingApiAdapter {
    info: ChannelInfo,
    client: MessagingApiClient,
    webhook: Arc<WebhookConfig>,
    keys: JwksCache,
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

    /// An adapter; signing keys are fetched from `webhook.jwks_url` with the same transport
    /// as the client's (pass a [`JwksCache`] with [`MessagingApiAdapter::with_keys`] to
    /// change that).
    #[must_use]
    pub fn new(
        client: MessagingApiClient,
        webhook: WebhookConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Self {
        let keys = JwksCache::remote(webhook.jwks_url.clone(), transport);
        Self {
            info: Self::channel_info(),
            client,
            webhook: Arc::new(webhook),
            keys,
        }
    }

    /// Replaces the key source.
    #[must_use]
    pub fn with_keys(mut self, keys: JwksCache) -> Self {
        self.keys = keys;
        self
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &MessagingApiClient {
        &self.client
    }

    /// Authenticates a webhook request's headers (fetching keys when needed).
    ///
    /// # Errors
    /// [`VerifyError`].
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, VerifyError> {
        let needs_keys = match &self.webhook.auth_mode {
            WebhookAuthMode::LegacyToken(_) => false,
            WebhookAuthMode::Either(_) => bearer_token(headers)?.is_some(),
            _ => true,
        };
        let keys = if needs_keys {
            let token = bearer_token(headers)?.ok_or(VerifyError::MissingToken)?;
            let kid = token_kid(token)?;
            self.keys.keys_for(kid.as_deref()).await?
        } else {
            KeySet::new()
        };
        verify(headers, &self.webhook, &keys, chrono::Utc::now())
    }
}

#[async_trait]
impl ChannelAdapter for MessagingApiAdapter {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }

    async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError> {
        if request.body().len() > self.webhook.max_body_bytes {
            return Err(NormalizeError::TooLarge {
                limit: self.webhook.max_body_bytes,
            }
            .into());
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

    async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError> {
        let sent = self.client.send(activity).await?;
        Ok(Delivery::accepted(sent.message_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_paths() {
        let cases = [
            ("/v3/conversations/abc/activities", Some("abc")),
            (
                "/hooks/x/v3/conversations/2f6b-8d0e/activities",
                Some("2f6b-8d0e"),
            ),
            ("/v3/conversations/a%20b/activities", Some("a b")),
            ("/v3/conversations/a%2Fb/activities", None),
            ("/v3/conversations//activities", None),
            ("/v3/conversations/abc", None),
            ("/v2/conversations/abc/activities", None),
            ("/", None),
        ];
        for (path, want) in cases {
            assert_eq!(webhook_conversation_id(path).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn info_describes_the_channel() {
        let i = MessagingApiAdapter::channel_info();
        assert_eq!(i.channel_id, "messaging-api");
        assert_eq!(i.max_text_len, Some(6000));
        assert!(i.attachments && i.typing && i.markdown && i.events);
        assert!(!i.rich_cards && !i.suggested_actions);
    }

    fn jwks_transport(
        fetches: &'static std::sync::atomic::AtomicUsize,
        ok: bool,
    ) -> Arc<dyn HttpTransport> {
        Arc::new(crate::transport::FnTransport(move |_req| {
            fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = br#"{"keys":[{"kty":"RSA","kid":"k1","n":"sXch","e":"AQAB"}]}"#.to_vec();
            let status = if ok { 200 } else { 503 };
            Box::pin(
                async move { Ok(http::Response::builder().status(status).body(body).unwrap()) },
            ) as crate::transport::TransportFuture
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn jwks_is_fetched_on_unknown_kid_at_most_every_five_minutes() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static FETCHES: AtomicUsize = AtomicUsize::new(0);
        let url = Url::parse("https://login.example/t/discovery/v2.0/keys").unwrap();
        let cache = JwksCache::remote(url, jwks_transport(&FETCHES, true));
        assert!(cache.keys_for(Some("k1")).await.unwrap().contains("k1"));
        assert!(cache.keys_for(Some("k1")).await.is_ok());
        assert_eq!(FETCHES.load(Ordering::SeqCst), 1);
        // An unknown kid right after a fetch does not hammer the key endpoint.
        assert!(!cache.keys_for(Some("k2")).await.unwrap().contains("k2"));
        assert_eq!(FETCHES.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(301)).await;
        let _ = cache.keys_for(Some("k2")).await.unwrap();
        assert_eq!(FETCHES.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn jwks_failure_is_transient_and_retried_next_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static FETCHES: AtomicUsize = AtomicUsize::new(0);
        let url = Url::parse("https://login.example/t/discovery/v2.0/keys").unwrap();
        let cache = JwksCache::remote(url, jwks_transport(&FETCHES, false));
        let e = cache.keys_for(Some("k1")).await.unwrap_err();
        assert_eq!(e, VerifyError::KeysUnavailable);
        let e: AdapterError = e.into();
        assert!(e.is_retryable(), "Omnichannel gets a 503 and retries");
        let _ = cache.keys_for(Some("k1")).await;
        assert_eq!(FETCHES.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MessagingApiAdapter>();
        check::<MessagingApiClient>();
        check::<crate::registration::DataverseClient>();
        check::<JwksCache>();
        check::<crate::error::ClientError>();
    }
}
