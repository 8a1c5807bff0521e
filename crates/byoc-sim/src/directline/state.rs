//! Shared simulator state: conversations, Direct Line tokens, stream URLs, attachments.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
// Tokio's clock, so tests with paused time can expire tokens and stream URLs.
use tokio::time::Instant;

use super::Options;
use super::keys::SimKey;

/// One conversation, shared by the Direct Line and connector sides.
pub(crate) struct Conv {
    /// The history: each activity once, in its latest state (edited in place by updates
    /// and deletes).
    pub(crate) activities: Vec<Value>,
    /// What clients receive, in order; a watermark is a position in it. An update appends
    /// the new version here (Direct Line delivers it as a new activity).
    pub(crate) feed: Vec<Value>,
    pub(crate) started: bool,
    pub(crate) tx: broadcast::Sender<String>,
    /// Bumped when a new socket opens: older sockets close with reason `collision`.
    pub(crate) socket_gen: watch::Sender<u64>,
}

impl Conv {
    pub(crate) fn new() -> Self {
        let (tx, _) = broadcast::channel(256);
        let (socket_gen, _) = watch::channel(0);
        Self {
            activities: Vec::new(),
            feed: Vec::new(),
            started: false,
            tx,
            socket_gen,
        }
    }

    /// Appends an activity (assigning `id` and `timestamp` unless present), broadcasts it to
    /// the stream, and returns its id.
    pub(crate) fn append(&mut self, conv_id: &str, mut activity: Value) -> String {
        let seq = self.activities.len();
        let id = match activity.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => format!("{conv_id}|{seq:07}"),
        };
        if let Some(obj) = activity.as_object_mut() {
            obj.insert("id".into(), Value::String(id.clone()));
            obj.entry("timestamp").or_insert_with(|| {
                Value::String(
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                )
            });
            obj.insert("conversation".into(), json!({ "id": conv_id }));
            obj.entry("channelId")
                .or_insert_with(|| Value::String("directline".into()));
        }
        let is_typing = activity.get("type").and_then(Value::as_str) == Some("typing");
        if is_typing {
            // Typing travels on the stream only; it takes no watermark slot.
            let frame =
                json!({ "activities": [activity], "watermark": self.feed.len().to_string() });
            let _ = self.tx.send(frame.to_string());
            return id;
        }
        self.activities.push(activity.clone());
        self.deliver(activity);
        id
    }

    /// Appends to what clients receive and pushes it to the stream.
    fn deliver(&mut self, activity: Value) {
        self.feed.push(activity.clone());
        let frame = json!({ "activities": [activity], "watermark": self.feed.len().to_string() });
        let _ = self.tx.send(frame.to_string());
    }

    /// The stored activity `id`, to edit in place.
    pub(crate) fn stored_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.activities.iter_mut().find(|a| a["id"] == id)
    }

    /// Replaces activity `id` with `activity` (a bot's `updateActivity`): the history holds
    /// the new version under the old id, and clients receive it, on both transports, as a
    /// new activity whose `channelData.updateActivityId` names the one it replaces, as the
    /// Direct Line channel sends updates. `None` when there is no such activity.
    pub(crate) fn update(&mut self, conv_id: &str, id: &str, mut activity: Value) -> Option<()> {
        let seq = self.feed.len();
        let stored = self.stored_mut(id)?;
        let timestamp = stored.get("timestamp").cloned();
        if let Some(o) = activity.as_object_mut() {
            o.insert("id".into(), Value::String(id.to_owned()));
            o.insert("conversation".into(), json!({ "id": conv_id }));
            o.entry("channelId")
                .or_insert_with(|| Value::String("directline".into()));
            if let Some(t) = timestamp {
                o.insert("timestamp".into(), t);
            }
        }
        *stored = activity.clone();
        if let Some(o) = activity.as_object_mut() {
            o.insert("id".into(), Value::String(format!("{conv_id}|{seq:07}")));
            o.insert(
                "timestamp".into(),
                Value::String(
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                ),
            );
            let channel_data = o.entry("channelData").or_insert_with(|| json!({}));
            if let Some(cd) = channel_data.as_object_mut() {
                cd.insert("updateActivityId".into(), Value::String(id.to_owned()));
            }
        }
        self.deliver(activity);
        Some(())
    }

    /// What clients receive after `watermark`, and the new watermark.
    pub(crate) fn since(&self, watermark: Option<&str>) -> (Vec<Value>, String) {
        let from = watermark
            .and_then(|w| w.parse::<usize>().ok())
            .unwrap_or(0)
            .min(self.feed.len());
        (self.feed[from..].to_vec(), self.feed.len().to_string())
    }
}

/// A Direct Line token.
pub(crate) struct DlToken {
    pub(crate) conv: String,
    pub(crate) user: Option<String>,
    pub(crate) expires: Instant,
    pub(crate) expired: bool,
}

/// An uploaded file.
pub(crate) struct Stored {
    pub(crate) content_type: String,
    pub(crate) name: String,
    pub(crate) bytes: bytes::Bytes,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) convs: HashMap<String, Conv>,
    pub(crate) tokens: HashMap<String, DlToken>,
    pub(crate) stream_tokens: HashMap<String, (String, Instant)>,
    pub(crate) attachments: HashMap<String, Stored>,
    pub(crate) bot_delay: Duration,
    pub(crate) published_keys: Vec<usize>,
    pub(crate) received_by_connector: Vec<Value>,
    /// Every activity handed to the bot (echo or relay), in order.
    pub(crate) received_by_bot: Vec<Value>,
    /// Fault: stream upgrades are refused with `503`.
    pub(crate) refuse_sockets: bool,
}

/// Everything the handlers share.
pub(crate) struct State {
    pub(crate) base: String,
    pub(crate) opts: Options,
    pub(crate) keys: [SimKey; 3],
    pub(crate) inner: Mutex<Inner>,
    pub(crate) metadata_fetches: AtomicUsize,
    pub(crate) jwks_fetches: AtomicUsize,
    pub(crate) token_requests: AtomicUsize,
    /// `POST /tokens/refresh` calls answered with a new token.
    pub(crate) token_refreshes: AtomicUsize,
    /// Stream upgrade requests, and sockets actually opened.
    pub(crate) stream_requests: AtomicUsize,
    pub(crate) sockets_opened: AtomicUsize,
    pub(crate) http: reqwest::Client,
    /// Bumped by `drop_sockets`: every open socket is dropped without a close frame.
    pub(crate) kill: watch::Sender<u64>,
}

pub(crate) type Shared = Arc<State>;

impl State {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn bump(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::SeqCst);
    }

    /// The key that signs Direct Line and connector (Entra-style) tokens.
    pub(crate) fn token_key(&self) -> &SimKey {
        &self.keys[2]
    }

    /// Mints a Direct Line token for `conv`.
    pub(crate) fn mint_dl_token(&self, conv: &str, user: Option<String>) -> String {
        let now = chrono::Utc::now().timestamp();
        let ttl = self.opts.token_ttl.as_secs();
        let mut claims = json!({
            "bot": self.opts.bot_app_id, "site": "byoc-sim", "conv": conv,
            "nbf": now, "exp": now + i64::try_from(ttl).unwrap_or(1800), "iss": "https://directline.botframework.com/",
            "aud": "https://directline.botframework.com/", "jti": uuid::Uuid::new_v4().to_string(),
        });
        if let (Some(u), Some(obj)) = (&user, claims.as_object_mut()) {
            obj.insert("user".into(), Value::String(u.clone()));
        }
        let token = self.token_key().sign("RS256", &claims);
        self.lock().tokens.insert(
            token.clone(),
            DlToken {
                conv: conv.to_owned(),
                user,
                expires: Instant::now() + self.opts.token_ttl,
                expired: false,
            },
        );
        token
    }

    /// A fresh `streamUrl` for `conv`, valid for `stream_url_ttl`.
    pub(crate) fn stream_url(&self, conv: &str, watermark: Option<&str>) -> String {
        let t = uuid::Uuid::new_v4().simple().to_string();
        self.lock()
            .stream_tokens
            .insert(t.clone(), (conv.to_owned(), Instant::now()));
        let ws_base = match self.base.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}"),
            None => self.base.replacen("http://", "ws://", 1),
        };
        let mut url = format!("{ws_base}/v3/directline/conversations/{conv}/stream?t={t}");
        if let Some(w) = watermark {
            url.push_str("&watermark=");
            url.push_str(w);
        }
        url
    }
}

/// Who called a Direct Line endpoint.
pub(crate) enum Caller {
    Secret,
    Token { conv: String, user: Option<String> },
}

/// `{"error":{"code","message"}}` with a status.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Authenticates a Direct Line call (secret or token); `conv` restricts a token to its
/// conversation.
pub(crate) fn authorize_dl(
    state: &State,
    headers: &HeaderMap,
    conv: Option<&str>,
) -> Result<Caller, Response> {
    let Some(presented) = bearer(headers) else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "missing bearer",
        ));
    };
    if state
        .opts
        .secrets
        .iter()
        .any(|s| super::ct_eq(s.as_bytes(), presented.as_bytes()))
    {
        return Ok(Caller::Secret);
    }
    let inner = state.lock();
    let Some(tok) = inner.tokens.get(presented) else {
        return Err(error(StatusCode::FORBIDDEN, "BadArgument", "unknown token"));
    };
    if tok.expired || Instant::now() >= tok.expires {
        return Err(error(
            StatusCode::FORBIDDEN,
            "TokenExpired",
            "Token expired",
        ));
    }
    if let Some(c) = conv
        && c != tok.conv
    {
        return Err(error(
            StatusCode::FORBIDDEN,
            "BadArgument",
            "token is not valid for this conversation",
        ));
    }
    Ok(Caller::Token {
        conv: tok.conv.clone(),
        user: tok.user.clone(),
    })
}
