//! The Direct Line 3.0 client (C.2–C.7): tokens, start / resume, post, get with
//! watermarks, uploads.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use byoc_core::{Activity, ChannelAccount, Secret};
use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{HttpTransport, error_from_response, json_request, parse_json, seg, with_bearer};
use crate::config::{DirectLineConfig, DirectLineCredential};
use crate::error::ApiError;
use crate::normalize::parse_activity_set;
use crate::render::render_for_directline;

/// How many activity ids are remembered for de-duplication.
const SEEN_CAPACITY: usize = 4096;

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

/// One file to upload.
#[derive(Clone)]
#[non_exhaustive]
pub struct Upload {
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Content.
    pub bytes: Bytes,
}

impl Upload {
    /// A file.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        Self {
            name: name.into(),
            content_type: content_type.into(),
            bytes: bytes.into(),
        }
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[derive(Default)]
pub(crate) struct Session {
    pub(crate) token: Option<Secret>,
    pub(crate) refresh_at: Option<Instant>,
    pub(crate) conversation_id: Option<String>,
    pub(crate) stream_url: Option<String>,
    pub(crate) watermark: Option<String>,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
}

impl Session {
    /// Keeps activities not seen before (by `id`) and remembers them.
    pub(crate) fn dedupe(&mut self, activities: Vec<Activity>) -> Vec<Activity> {
        let mut out = Vec::with_capacity(activities.len());
        for a in activities {
            if let Some(id) = a.id.clone() {
                if !self.seen.insert(id.clone()) {
                    continue;
                }
                self.seen_order.push_back(id);
                if self.seen_order.len() > SEEN_CAPACITY
                    && let Some(old) = self.seen_order.pop_front()
                {
                    self.seen.remove(&old);
                }
            }
            out.push(a);
        }
        out
    }

    /// Stores a watermark; `None` never overwrites one already held (C.5).
    pub(crate) fn set_watermark(&mut self, w: Option<String>) {
        if w.is_some() {
            self.watermark = w;
        }
    }
}

/// A Direct Line client for one conversation. Cheap to share behind an `Arc`.
pub struct DirectLineClient {
    pub(crate) config: DirectLineConfig,
    pub(crate) transport: Arc<dyn HttpTransport>,
    pub(crate) session: Mutex<Session>,
    /// Bumped whenever a new token is stored (wakes the background refresher).
    pub(crate) token_gen: tokio::sync::watch::Sender<u64>,
}

impl fmt::Debug for DirectLineClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectLineClient")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

impl DirectLineClient {
    /// A client; nothing is sent until [`DirectLineClient::start`] or
    /// [`DirectLineClient::resume`].
    #[must_use]
    pub fn new(config: DirectLineConfig, transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            config,
            transport,
            session: Mutex::new(Session::default()),
            token_gen: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The user this client posts as.
    #[must_use]
    pub fn user(&self) -> ChannelAccount {
        let u = ChannelAccount::new(self.config.user_id.clone());
        match &self.config.user_name {
            Some(n) => u.with_name(n.clone()),
            None => u,
        }
    }

    /// The conversation id, once started or resumed.
    pub async fn conversation_id(&self) -> Option<String> {
        self.session.lock().await.conversation_id.clone()
    }

    /// The last non-null watermark received (persist it to resume after a restart).
    pub async fn watermark(&self) -> Option<String> {
        self.session.lock().await.watermark.clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.config.base_url.trim_end_matches('/'))
    }

    fn user_params(&self) -> Vec<u8> {
        serde_json::json!({ "user": self.user() })
            .to_string()
            .into_bytes()
    }

    async fn bearer(&self) -> Result<String, ApiError> {
        let s = self.session.lock().await;
        if let Some(t) = &s.token {
            return Ok(t.secret().to_owned());
        }
        match &self.config.credential {
            DirectLineCredential::Secret(secret) | DirectLineCredential::Token(secret) => {
                Ok(secret.secret().to_owned())
            }
        }
    }

    async fn execute(
        &self,
        req: http::Request<Bytes>,
        bearer: &str,
    ) -> Result<http::Response<Bytes>, ApiError> {
        let resp = self.transport.execute(with_bearer(req, bearer)?).await?;
        if resp.status().is_success() {
            Ok(resp)
        } else if resp.status() == http::StatusCode::NOT_FOUND {
            Err(ApiError::ConversationEnded)
        } else {
            Err(error_from_response(&resp, chrono::Utc::now()))
        }
    }

    fn store_token(&self, s: &mut Session, c: &Conversation) {
        if let Some(t) = &c.token {
            s.token = Some(Secret::new(t.clone()));
            let lifetime = Duration::from_secs(c.expires_in.unwrap_or(1800));
            s.refresh_at =
                Some(Instant::now() + lifetime.saturating_sub(self.config.refresh_before_expiry));
            self.token_gen.send_modify(|g| *g = g.wrapping_add(1));
        }
    }

    /// Starts a conversation: with a secret, first generates a token for the user (so the
    /// secret never goes to `/conversations`), then `POST /conversations` (201 new, 200
    /// already started).
    ///
    /// # Errors
    /// [`ApiError`].
    pub async fn start(&self) -> Result<Conversation, ApiError> {
        if let DirectLineCredential::Secret(secret) = &self.config.credential {
            let req = json_request(
                http::Method::POST,
                &self.url("tokens/generate"),
                Some(self.user_params()),
            )?;
            let resp = self.execute(req, secret.secret()).await?;
            let c: Conversation = parse_json(&resp, "token")?;
            self.store_token(&mut *self.session.lock().await, &c);
        }
        let bearer = self.bearer().await?;
        let req = json_request(
            http::Method::POST,
            &self.url("conversations"),
            Some(self.user_params()),
        )?;
        let resp = self.execute(req, &bearer).await?;
        let c: Conversation = parse_json(&resp, "conversationId")?;
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
    /// [`ApiError::ConversationEnded`] on 404, other [`ApiError`]s.
    pub async fn resume(
        &self,
        conversation_id: &str,
        watermark: Option<String>,
    ) -> Result<Conversation, ApiError> {
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
    /// [`ApiError`].
    pub async fn reconnect(&self) -> Result<Conversation, ApiError> {
        let (conv, watermark) = {
            let s = self.session.lock().await;
            (
                s.conversation_id
                    .clone()
                    .ok_or(ApiError::MissingField("conversationId"))?,
                s.watermark.clone(),
            )
        };
        let mut path = format!("conversations/{}", seg(&conv));
        if let Some(w) = &watermark {
            path.push_str("?watermark=");
            path.push_str(&seg(w));
        }
        let resp = self
            .with_token_retry(|| json_request(http::Method::GET, &self.url(&path), None))
            .await?;
        let c: Conversation = parse_json(&resp, "conversationId")?;
        self.session
            .lock()
            .await
            .stream_url
            .clone_from(&c.stream_url);
        Ok(c)
    }

    /// Refreshes the token if it is due (15 minutes before expiry by default).
    ///
    /// # Errors
    /// [`ApiError`] from the refresh.
    pub async fn ensure_fresh_token(&self) -> Result<(), ApiError> {
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
    /// [`ApiError::TokenExpired`] when the token already expired.
    pub async fn refresh_token(&self) -> Result<(), ApiError> {
        let Some(current) = self.session.lock().await.token.clone() else {
            return Ok(());
        };
        let req = json_request(http::Method::POST, &self.url("tokens/refresh"), None)?;
        let resp = self.execute(req, current.secret()).await?;
        let c: Conversation = parse_json(&resp, "token")?;
        self.store_token(&mut *self.session.lock().await, &c);
        tracing::debug!("direct line token refreshed");
        Ok(())
    }

    /// Runs a call; on `403 TokenExpired`, renews the token once and retries: by refreshing,
    /// or, when that fails and a secret is configured, by falling back to the secret.
    async fn with_token_retry<F>(&self, build: F) -> Result<http::Response<Bytes>, ApiError>
    where
        F: Fn() -> Result<http::Request<Bytes>, ApiError>,
    {
        self.ensure_fresh_token().await.or_else(|e| {
            if matches!(e, ApiError::TokenExpired) {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        let bearer = self.bearer().await?;
        match self.execute(build()?, &bearer).await {
            Err(ApiError::TokenExpired) => {
                if self.refresh_token().await.is_err() {
                    let DirectLineCredential::Secret(_) = &self.config.credential else {
                        return Err(ApiError::TokenExpired);
                    };
                    // The secret works for any conversation; drop the dead token.
                    let mut s = self.session.lock().await;
                    s.token = None;
                    s.refresh_at = None;
                }
                let bearer = self.bearer().await?;
                self.execute(build()?, &bearer).await
            }
            other => other,
        }
    }

    async fn conversation_path(&self, suffix: &str) -> Result<String, ApiError> {
        let s = self.session.lock().await;
        let conv = s
            .conversation_id
            .as_deref()
            .ok_or(ApiError::MissingField("conversationId"))?;
        Ok(format!("conversations/{}/{suffix}", seg(conv)))
    }

    /// Posts one activity as the user (`from` set; size checked before sending); returns
    /// the id Direct Line assigned. The activity comes back on the stream / GET, where the
    /// id lets you match it.
    ///
    /// # Errors
    /// [`ApiError::TooLarge`], [`ApiError::BotRejectedActivity`] (502),
    /// [`ApiError::RateLimited`], [`ApiError::ConversationEnded`], ...
    pub async fn post_activity(&self, activity: &Activity) -> Result<String, ApiError> {
        let body = render_for_directline(activity, &self.user())?;
        let url = self.url(&self.conversation_path("activities").await?);
        let resp = self
            .with_token_retry(|| json_request(http::Method::POST, &url, Some(body.clone())))
            .await?;
        if resp.body().is_empty() {
            return Ok(String::new());
        }
        let r: byoc_core::activity::ResourceResponse = parse_json(&resp, "id")?;
        Ok(r.id.unwrap_or_default())
    }

    /// `GET /conversations/{id}/activities?watermark=`: the activities after the last
    /// watermark, without those already seen (by `id`); remembers the new watermark.
    ///
    /// # Errors
    /// [`ApiError`].
    pub async fn get_activities(&self) -> Result<Vec<Activity>, ApiError> {
        let mut path = self.conversation_path("activities").await?;
        if let Some(w) = self.session.lock().await.watermark.clone() {
            path.push_str("?watermark=");
            path.push_str(&seg(&w));
        }
        let url = self.url(&path);
        let resp = self
            .with_token_retry(|| json_request(http::Method::GET, &url, None))
            .await?;
        let set = parse_activity_set(resp.body()).map_err(|_| ApiError::InvalidResponse {
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
    /// [`ApiError`].
    pub async fn upload(&self, activity: &Activity, files: &[Upload]) -> Result<String, ApiError> {
        let mut template = activity.clone();
        template.attachments = None;
        let activity_json = render_for_directline(&template, &self.user())?;
        let boundary = format!("byoc-{}", uuid::Uuid::new_v4().simple());
        let body = multipart_body(&boundary, &activity_json, files);
        let user = seg(&self.config.user_id);
        let url = self.url(&format!(
            "{}?userId={user}",
            self.conversation_path("upload").await?
        ));
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let resp = self
            .with_token_retry(|| {
                let mut r = json_request(http::Method::POST, &url, None)?;
                *r.body_mut() = body.clone();
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_str(&content_type)
                        .map_err(|_| ApiError::MissingField("boundary"))?,
                );
                Ok(r)
            })
            .await?;
        let r: byoc_core::activity::ResourceResponse = parse_json(&resp, "id")?;
        Ok(r.id.unwrap_or_default())
    }
}

fn multipart_body(boundary: &str, activity: &[u8], files: &[Upload]) -> Bytes {
    let mut b: Vec<u8> = Vec::new();
    b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"activity\"\r\nContent-Type: application/vnd.microsoft.activity\r\n\r\n").as_bytes());
    b.extend_from_slice(activity);
    b.extend_from_slice(b"\r\n");
    for f in files {
        let name: String = f
            .name
            .chars()
            .filter(|c| *c != '"' && *c != '\r' && *c != '\n')
            .collect();
        let ct: String = f
            .content_type
            .chars()
            .filter(|c| *c != '\r' && *c != '\n')
            .collect();
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes());
        b.extend_from_slice(&f.bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Bytes::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupe_and_watermark_rules() {
        let mut s = Session::default();
        let a = |id: &str| {
            let mut a = Activity::message("x");
            a.id = Some(id.into());
            a
        };
        assert_eq!(s.dedupe(vec![a("1"), a("2")]).len(), 2);
        assert_eq!(s.dedupe(vec![a("2"), a("3")]).len(), 1);
        s.set_watermark(Some("5".into()));
        s.set_watermark(None);
        assert_eq!(s.watermark.as_deref(), Some("5"));
    }

    #[test]
    fn conversation_fixtures_parse() {
        let c: Conversation = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/directline/conversation-start-response.json"
        ))
        .unwrap();
        assert_eq!(c.conversation_id, "7Hq2mXbLw3eK9pRtV1cZsA-us");
        assert_eq!(c.expires_in, Some(1800));
        assert!(c.stream_url.is_some());
        assert!(!format!("{c:?}").contains("ew0K"));
        let g: Conversation = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/directline/token-generate-response.json"
        ))
        .unwrap();
        assert!(g.stream_url.is_none());
    }

    #[test]
    fn multipart_has_activity_and_file_parts() {
        let body = multipart_body(
            "B",
            br#"{"type":"message"}"#,
            &[Upload::new(
                "a\".png",
                "image/png",
                Bytes::from_static(b"PNG"),
            )],
        );
        let s = String::from_utf8_lossy(&body);
        assert!(s.contains(
            "Content-Type: application/vnd.microsoft.activity\r\n\r\n{\"type\":\"message\"}"
        ));
        assert!(s.contains("name=\"file\"; filename=\"a.png\""));
        assert!(s.ends_with("--B--\r\n"));
    }
}
