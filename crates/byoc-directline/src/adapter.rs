//! [`BotEndpoint`]: the bot's messaging endpoint as a [`ChannelAdapter`]. `receive`
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
//! for expectReplies), and the host replaces [`Inbound::response`] with
//! [`InvokeResponse::to_response`] or [`expected_replies`] before answering.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use byoc_core::activity::{ActivityType, DeliveryMode};
use byoc_core::{Activity, AdapterError, ChannelAdapter, ChannelInfo, Delivery, Inbound};
use bytes::Bytes;
use sha2::Digest as _;

use crate::client::{ConnectorClient, HttpTransport};
use crate::config::{ConnectorConfig, url_matches};
use crate::error::{ApiError, VerifyError};
use crate::normalize::normalize_channel_activity;
use crate::openid::OpenIdKeys;
use crate::verify::{self, TokenPolicy, VerifiedToken};

/// Validated tokens kept (until they expire) so a burst of activities verifies once.
const TOKEN_CACHE_CAPACITY: usize = 1024;
/// Service URLs remembered.
const TRUSTED_CAPACITY: usize = 4096;

/// What the channel waits for in the HTTP answer to an activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpectedAnswer {
    /// Nothing: `200` with an empty body; replies go through the Connector.
    Empty,
    /// An `invoke`: the bot's [`InvokeResponse`].
    Invoke,
    /// `deliveryMode: expectReplies`: the bot's replies in the body ([`expected_replies`])
    /// instead of through the Connector.
    ExpectReplies,
}

impl ExpectedAnswer {
    /// The answer `activity` waits for (`expectReplies` wins over `invoke`, as in
    /// botbuilder, which then puts the invoke response among the replies).
    #[must_use]
    pub fn of(activity: &Activity) -> Self {
        if activity.delivery_mode == Some(DeliveryMode::ExpectReplies) {
            Self::ExpectReplies
        } else if activity.kind == ActivityType::Invoke {
            Self::Invoke
        } else {
            Self::Empty
        }
    }

    /// The answer when the host supplies none: `200` empty, `501 Not Implemented` for an
    /// invoke, `200 {"activities":[]}` for expectReplies.
    #[must_use]
    pub fn default_response(self) -> http::Response<Bytes> {
        match self {
            Self::Empty => status_only(http::StatusCode::OK),
            Self::Invoke => status_only(http::StatusCode::NOT_IMPLEMENTED),
            Self::ExpectReplies => json_response(
                http::StatusCode::OK,
                Bytes::from_static(br#"{"activities":[]}"#),
            ),
        }
    }
}

fn status_only(status: http::StatusCode) -> http::Response<Bytes> {
    let mut r = http::Response::new(Bytes::new());
    *r.status_mut() = status;
    r
}

fn json_response(status: http::StatusCode, body: Bytes) -> http::Response<Bytes> {
    let mut r = http::Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// Bot Framework's `InvokeResponse`: the status and body a bot answers an `invoke` with
/// (an adaptive card action, a Teams task module, a sign-in verification, ...).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct InvokeResponse {
    /// The HTTP status (`200` when handled).
    pub status: http::StatusCode,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
}

impl InvokeResponse {
    /// An answer with `status` and no body.
    #[must_use]
    pub fn new(status: http::StatusCode) -> Self {
        Self { status, body: None }
    }

    /// `200` with `body`.
    #[must_use]
    pub fn ok(body: serde_json::Value) -> Self {
        Self::new(http::StatusCode::OK).with_body(body)
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The HTTP answer: the status, and the body as JSON when there is one.
    #[must_use]
    pub fn to_response(&self) -> http::Response<Bytes> {
        match &self.body {
            Some(b) => json_response(self.status, Bytes::from(b.to_string())),
            None => status_only(self.status),
        }
    }
}

/// The answer to an `expectReplies` activity: `200` with `{"activities":[...]}`
/// (botbuilder's `ExpectedReplies`), the replies in order.
///
/// # Errors
/// If an activity cannot be serialized.
pub fn expected_replies(
    activities: &[Activity],
) -> Result<http::Response<Bytes>, serde_json::Error> {
    let body = serde_json::to_vec(&serde_json::json!({ "activities": activities }))?;
    Ok(json_response(http::StatusCode::OK, Bytes::from(body)))
}

/// The bot side of the Bot Framework: inbound channel activities, outbound Connector calls.
pub struct BotEndpoint {
    config: ConnectorConfig,
    info: ChannelInfo,
    keys: OpenIdKeys,
    policy: TokenPolicy,
    connector: ConnectorClient,
    verified: Mutex<HashMap<[u8; 32], VerifiedToken>>,
    trusted: Mutex<HashSet<String>>,
}

impl fmt::Debug for BotEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotEndpoint")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl BotEndpoint {
    /// An endpoint for `config`, fetching keys and tokens over `transport`.
    #[must_use]
    pub fn new(config: ConnectorConfig, transport: Arc<dyn HttpTransport>) -> Self {
        let policy = TokenPolicy {
            issuers: config.issuers.clone(),
            audience: config.app_id.clone(),
            clock_skew: config.clock_skew,
        };
        Self {
            info: ChannelInfo::new("connector"),
            keys: OpenIdKeys::new(config.openid_metadata_url.clone(), transport.clone()),
            connector: ConnectorClient::new(config.clone(), transport),
            policy,
            config,
            verified: Mutex::new(HashMap::new()),
            trusted: Mutex::new(HashSet::new()),
        }
    }

    /// An endpoint with the default reqwest transport.
    ///
    /// # Errors
    /// If the HTTP client cannot be built.
    #[cfg(feature = "reqwest")]
    pub fn with_reqwest(config: ConnectorConfig) -> Result<Self, AdapterError> {
        Ok(Self::new(
            config,
            Arc::new(crate::client::ReqwestTransport::new()?),
        ))
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
                .trusted_service_urls
                .iter()
                .any(|p| url_matches(p, service_url))
    }

    async fn verify_token(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let now = chrono::Utc::now();
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let skew = i64::try_from(self.policy.clock_skew.as_secs()).unwrap_or(0);
        if let Some(v) = lock(&self.verified).get(&digest)
            && v.expires_at + skew >= now.timestamp()
        {
            return Ok(v.clone());
        }
        let keys = self.keys.keys().await?;
        let verified = match verify::verify_token(token, &keys, &self.policy, now) {
            Err(VerifyError::UnknownKey) => match self.keys.refetch_for_unknown_kid().await? {
                Some(fresh) => verify::verify_token(token, &fresh, &self.policy, now)?,
                None => return Err(VerifyError::UnknownKey),
            },
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
        if request.body().len() > self.config.max_body_bytes {
            return Err(AdapterError::bad_request("body", "body too large"));
        }
        let token = verify::bearer_token(request.headers())?;
        let verified = self.verify_token(token).await?;
        let activity = normalize_channel_activity(request.body())?;
        verify::check_activity(
            &verified,
            activity.channel_id.as_deref(),
            activity.service_url.as_deref(),
        )?;
        Ok(activity)
    }
}

#[async_trait]
impl ChannelAdapter for BotEndpoint {
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

    async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError> {
        let service_url = activity
            .service_url
            .as_deref()
            .ok_or(ApiError::MissingField("serviceUrl"))?;
        if !self.is_trusted(service_url) {
            return Err(ApiError::UntrustedServiceUrl.into());
        }
        let conv = activity
            .conversation_id()
            .ok_or(ApiError::MissingField("conversation.id"))?;
        let resp = match activity.reply_to_id.as_deref() {
            Some(reply_to) => {
                self.connector
                    .reply_to_activity(service_url, conv, reply_to, activity)
                    .await?
            }
            None => {
                self.connector
                    .send_to_conversation(service_url, conv, activity)
                    .await?
            }
        };
        Ok(Delivery::accepted(resp.id))
    }
}
