//! The Direct Line 3.0 client (`docs/protocols/bot-framework.md#direct-line-endpoints`):
//! tokens, start / resume, post, get with watermarks, uploads. Receiving as a stream is
//! [`crate::stream`]'s.

mod refresh;
mod session;
mod upload;

pub use refresh::TokenRefresher;
pub use upload::Upload;

pub(crate) use session::Session;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use byoc_core::{Activity, ChannelAccount, Secret};
use byoc_http::HttpTransport;
use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{error_from_response, execute, json_request, parse_json, seg};
use crate::config::{DirectLineConfig, DirectLineCredential};
use crate::error::{ClientError, ConfigError, RenderError};
use crate::normalize::parse_activity_set;
use crate::render::render_for_directline;

const GENERATE: &str = "tokens/generate";
const REFRESH: &str = "tokens/refresh";
const START: &str = "conversations";
const RECONNECT: &str = "conversations/{id}";
const ACTIVITIES: &str = "conversations/{id}/activities";
const UPLOAD: &str = "conversations/{id}/upload";

/// A token's lifetime when the answer gives none (Direct Line tokens live 1800 s).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(1800);

/// A Direct Line `Conversation` answer.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Conversation {
    /// The conversation id.
    pub conversation_id: String,
    /// The conversation token, if one was returned.
    pub token: Option<String>,
    /// Token lifetime in seconds.
    #[serde(rename = "expires_in")]
    pub expires_in: Option<u64>,
    /// The WebSocket URL, valid for 60 seconds.
    pub stream_url: Option<String>,
}

impl fmt::Debug for Conversation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conversation")
            .field("conversation_id", &self.conversation_id)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// A Direct Line client for one conversation. Cheap to share behind an `Arc`.
pub struct DirectLineClient {
    pub(crate) config: DirectLineConfig,
    transport: Arc<dyn HttpTransport>,
    pub(crate) session: Mutex<Session>,
    /// Bumped whenever a new token is stored (wakes the background refresher).
    pub(crate) token_gen: tokio::sync::watch::Sender<u64>,
    /// TLS for the WebSocket stream: the web PKI roots and the configured CAs.
    #[cfg(feature = "reqwest")]
    pub(crate) tls: Arc<rustls::ClientConfig>,
}

impl fmt::Debug for DirectLineClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectLineClient")
            .field("base_url", &self.config.base_url().as_str())
            .field("user_id", &self.config.user_id())
            .finish_non_exhaustive()
    }
}

impl DirectLineClient {
    /// A client over reqwest with `config`'s timeout, response cap and root CAs (which the
    /// WebSocket stream trusts too). Nothing is sent until [`DirectLineClient::start`] or
    /// [`DirectLineClient::resume`].
    ///
    /// # Errors
    /// [`ConfigError`] when the HTTP client or the TLS configuration cannot be built (a
    /// root CA that is not PEM).
    #[cfg(feature = "reqwest")]
    pub fn new(config: DirectLineConfig) -> Result<Self, ConfigError> {
        let transport = super::reqwest_transport(
            config.timeout(),
            config.max_response_bytes(),
            config.root_cas(),
        )?;
        Self::with_transport(config, transport)
    }

    /// A client sending its requests through `transport`. With feature `reqwest`, the
    /// WebSocket stream still connects by itself, trusting `config`'s root CAs.
    ///
    /// # Errors
    /// [`ConfigError::RootCa`] when a root CA is not PEM (feature `reqwest`).
    pub fn with_transport(
        config: DirectLineConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            #[cfg(feature = "reqwest")]
            tls: crate::stream::tls_config(config.root_cas())?,
            config,
            transport,
            session: Mutex::new(Session::default()),
            token_gen: tokio::sync::watch::Sender::new(0),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &DirectLineConfig {
        &self.config
    }

    /// The user this client posts as.
    #[must_use]
    pub fn user(&self) -> ChannelAccount {
        self.config.user()
    }

    /// The conversation id, once started or resumed.
    pub async fn conversation_id(&self) -> Option<String> {
        self.session.lock().await.conversation_id.clone()
    }

    /// The last non-null watermark received (persist it to resume after a restart).
    pub async fn watermark(&self) -> Option<String> {
        self.session.lock().await.watermark.clone()
    }

    fn user_params(&self) -> Vec<u8> {
        serde_json::json!({ "user": self.user() })
            .to_string()
            .into_bytes()
    }

    async fn bearer(&self) -> Secret {
        let s = self.session.lock().await;
        match (&s.token, self.config.credential()) {
            (Some(t), _) => t.clone(),
            (None, DirectLineCredential::Secret(c) | DirectLineCredential::Token(c)) => c.clone(),
        }
    }

    /// Sends with `bearer`; `404` means the conversation ended, other error statuses map
    /// as [`error_from_response`] says.
    async fn send(
        &self,
        endpoint: &'static str,
        mut request: http::Request<Bytes>,
        bearer: &Secret,
    ) -> Result<http::Response<Bytes>, ClientError> {
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, byoc_http::bearer(bearer)?);
        let response = execute(self.transport.as_ref(), endpoint, request).await?;
        if response.status().is_success() {
            Ok(response)
        } else if response.status() == http::StatusCode::NOT_FOUND {
            Err(ClientError::ConversationEnded)
        } else {
            Err(error_from_response(endpoint, &response, chrono::Utc::now()))
        }
    }

    fn store_token(&self, s: &mut Session, c: &Conversation) {
        if let Some(t) = &c.token {
            s.token = Some(Secret::new(t.clone()));
            let lifetime = c
                .expires_in
                .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
            s.refresh_at =
                Some(Instant::now() + lifetime.saturating_sub(self.config.token_refresh_margin()));
            self.token_gen.send_modify(|g| *g = g.wrapping_add(1));
        }
    }

    /// Starts a conversation: with a secret, first generates a token for the user (so the
    /// secret never goes to `/conversations`), then `POST /conversations` (201 new, 200
    /// already started).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn start(&self) -> Result<Conversation, ClientError> {
        if let DirectLineCredential::Secret(secret) = self.config.credential() {
            let request = json_request(
                http::Method::POST,
                &self.config.url("tokens/generate"),
                Some(self.user_params()),
                "base_url",
            )?;
            let response = self.send(GENERATE, request, secret).await?;
            let c: Conversation = parse_json(GENERATE, &response, "token")?;
            self.store_token(&mut *self.session.lock().await, &c);
        }
        let bearer = self.bearer().await;
        let request = json_request(
            http::Method::POST,
            &self.config.url("conversations"),
            Some(self.user_params()),
            "base_url",
        )?;
        let response = self.send(START, request, &bearer).await?;
        let c: Conversation = parse_json(START, &response, "conversationId")?;
        let mut s = self.session.lock().await;
        self.store_token(&mut s, &c);
        s.conversation_id = Some(c.conversation_id.clone());
        s.stream_url.clone_from(&c.stream_url);
        Ok(c)
    }

    /// Resumes a conversation after a restart: `GET /conversations/{id}?watermark=` gives a
    /// fresh `streamUrl`; later reads continue after `watermark`.
    ///
    /// # Errors
    /// [`ClientError::ConversationEnded`] on 404, other [`ClientError`]s.
    pub async fn resume(
        &self,
        conversation_id: &str,
        watermark: Option<String>,
    ) -> Result<Conversation, ClientError> {
        {
            let mut s = self.session.lock().await;
            s.conversation_id = Some(conversation_id.to_owned());
            s.set_watermark(watermark);
        }
        self.reconnect().await
    }

    /// `GET /conversations/{id}?watermark=`: a fresh `streamUrl` (used before every socket).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn reconnect(&self) -> Result<Conversation, ClientError> {
        let (conv, watermark) = {
            let s = self.session.lock().await;
            (
                s.conversation_id.clone().ok_or(ClientError::NotStarted)?,
                s.watermark.clone(),
            )
        };
        let mut path = format!("conversations/{}", seg(&conv));
        if let Some(w) = &watermark {
            path.push_str("?watermark=");
            path.push_str(&seg(w));
        }
        let url = self.config.url(&path);
        let response = self
            .with_token_retry(RECONNECT, || {
                json_request(http::Method::GET, &url, None, "conversationId")
            })
            .await?;
        let c: Conversation = parse_json(RECONNECT, &response, "conversationId")?;
        self.session
            .lock()
            .await
            .stream_url
            .clone_from(&c.stream_url);
        Ok(c)
    }

    /// Refreshes the token if it is due (the token refresh margin before it expires: 15
    /// minutes by default).
    ///
    /// # Errors
    /// [`ClientError`] from the refresh.
    pub async fn ensure_fresh_token(&self) -> Result<(), ClientError> {
        let due = {
            let s = self.session.lock().await;
            s.token.is_some() && s.refresh_at.is_some_and(|at| Instant::now() >= at)
        };
        if due {
            self.refresh_token().await
        } else {
            Ok(())
        }
    }

    /// `POST /tokens/refresh`.
    ///
    /// # Errors
    /// [`ClientError::TokenExpired`] when the token already expired.
    pub async fn refresh_token(&self) -> Result<(), ClientError> {
        let Some(current) = self.session.lock().await.token.clone() else {
            return Ok(());
        };
        let request = json_request(
            http::Method::POST,
            &self.config.url("tokens/refresh"),
            None,
            "base_url",
        )?;
        let response = self.send(REFRESH, request, &current).await?;
        let c: Conversation = parse_json(REFRESH, &response, "token")?;
        self.store_token(&mut *self.session.lock().await, &c);
        tracing::debug!("direct line token refreshed");
        Ok(())
    }

    /// Runs a call; on `403 TokenExpired`, renews the token once and retries: by refreshing,
    /// or, when that fails and a secret is configured, by falling back to the secret.
    async fn with_token_retry<F>(
        &self,
        endpoint: &'static str,
        build: F,
    ) -> Result<http::Response<Bytes>, ClientError>
    where
        F: Fn() -> Result<http::Request<Bytes>, ClientError>,
    {
        match self.ensure_fresh_token().await {
            Ok(()) | Err(ClientError::TokenExpired) => {}
            Err(e) => return Err(e),
        }
        let bearer = self.bearer().await;
        match self.send(endpoint, build()?, &bearer).await {
            Err(ClientError::TokenExpired) => {
                if self.refresh_token().await.is_err() {
                    let DirectLineCredential::Secret(_) = self.config.credential() else {
                        return Err(ClientError::TokenExpired);
                    };
                    // The secret works for any conversation; drop the dead token.
                    let mut s = self.session.lock().await;
                    s.token = None;
                    s.refresh_at = None;
                }
                let bearer = self.bearer().await;
                self.send(endpoint, build()?, &bearer).await
            }
            other => other,
        }
    }

    async fn conversation_path(&self, suffix: &str) -> Result<String, ClientError> {
        let s = self.session.lock().await;
        let conv = s
            .conversation_id
            .as_deref()
            .ok_or(ClientError::NotStarted)?;
        Ok(format!("conversations/{}/{suffix}", seg(conv)))
    }

    /// Posts one activity as the user (`from` set; size checked before sending); returns
    /// the id Direct Line assigned. The activity comes back on the stream / GET, where the
    /// id lets you match it.
    ///
    /// # Errors
    /// [`ClientError::Render`] (too large), [`ClientError::BotRejectedActivity`] (502),
    /// [`ClientError::Status`] (429 with its `Retry-After`, ...),
    /// [`ClientError::ConversationEnded`], ...
    pub async fn post_activity(&self, activity: &Activity) -> Result<String, ClientError> {
        let body = render_for_directline(activity, &self.user())?;
        let url = self
            .config
            .url(&self.conversation_path("activities").await?);
        let response = self
            .with_token_retry(ACTIVITIES, || {
                json_request(
                    http::Method::POST,
                    &url,
                    Some(body.clone()),
                    "conversationId",
                )
            })
            .await?;
        if response.body().is_empty() {
            return Ok(String::new());
        }
        let r: byoc_core::activity::ResourceResponse = parse_json(ACTIVITIES, &response, "id")?;
        Ok(r.id.unwrap_or_default())
    }

    /// `GET /conversations/{id}/activities?watermark=`: the activities after the last
    /// watermark, without those already seen (by `id`); remembers the new watermark.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn get_activities(&self) -> Result<Vec<Activity>, ClientError> {
        let mut path = self.conversation_path("activities").await?;
        if let Some(w) = self.session.lock().await.watermark.clone() {
            path.push_str("?watermark=");
            path.push_str(&seg(&w));
        }
        let url = self.config.url(&path);
        let response = self
            .with_token_retry(ACTIVITIES, || {
                json_request(http::Method::GET, &url, None, "conversationId")
            })
            .await?;
        let set = parse_activity_set(response.body()).map_err(|_| ClientError::Decode {
            endpoint: ACTIVITIES,
            field: "activities",
        })?;
        let mut s = self.session.lock().await;
        s.set_watermark(set.watermark);
        Ok(s.dedupe(set.activities))
    }

    /// Uploads files with an activity (`multipart/form-data`, the activity as the part of
    /// type `application/vnd.microsoft.activity`); returns the activity id.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn upload(
        &self,
        activity: &Activity,
        files: &[Upload],
    ) -> Result<String, ClientError> {
        let mut template = activity.clone();
        template.attachments = None;
        let activity_json = render_for_directline(&template, &self.user())?;
        let boundary = format!("byoc-{}", uuid::Uuid::new_v4().simple());
        let body = upload::multipart_body(&boundary, &activity_json, files);
        let user = seg(self.config.user_id());
        let url = self.config.url(&format!(
            "{}?userId={user}",
            self.conversation_path("upload").await?
        ));
        let content_type =
            http::HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
                .map_err(|_| RenderError::Serialize { field: "boundary" })?;
        let response = self
            .with_token_retry(UPLOAD, || {
                let mut r = json_request(http::Method::POST, &url, None, "conversationId")?;
                *r.body_mut() = body.clone();
                r.headers_mut()
                    .insert(http::header::CONTENT_TYPE, content_type.clone());
                Ok(r)
            })
            .await?;
        let r: byoc_core::activity::ResourceResponse = parse_json(UPLOAD, &response, "id")?;
        Ok(r.id.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests;
