//! The Direct Line 3.0 service (`docs/protocols/bot-framework.md`, section 7): tokens, conversations, activities with watermarks,
//! uploads; user activities go to the bot (the built-in echo bot, or a real messaging
//! endpoint with a signed channel JWT, exactly as Azure Bot Service relays them).

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::state::{Caller, Conv, Shared, Stored, authorize_dl, error};

fn user_from_params(body: &[u8]) -> Option<(String, Option<String>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let id = v["user"]["id"].as_str()?.to_owned();
    Some((id, v["user"]["name"].as_str().map(str::to_owned)))
}

fn conversation_json(
    state: &Shared,
    conv: &str,
    token: &str,
    with_expiry: bool,
    stream: bool,
) -> Value {
    let mut v = json!({ "conversationId": conv, "token": token });
    if with_expiry {
        v["expires_in"] = json!(state.opts.token_ttl.as_secs());
    }
    if stream {
        v["streamUrl"] = Value::String(state.stream_url(conv, None));
    }
    v
}

pub(crate) async fn generate(
    AxState(state): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match authorize_dl(&state, &headers, None) {
        Ok(Caller::Secret) => {}
        Ok(Caller::Token { .. }) => {
            return error(
                StatusCode::FORBIDDEN,
                "BadArgument",
                "generate needs the secret",
            );
        }
        Err(r) => return r,
    }
    let conv = new_conv_id();
    state.lock().convs.insert(conv.clone(), Conv::new());
    let user = user_from_params(&body).map(|u| u.0);
    let token = state.mint_dl_token(&conv, user);
    Json(conversation_json(&state, &conv, &token, true, false)).into_response()
}

pub(crate) async fn refresh(AxState(state): AxState<Shared>, headers: HeaderMap) -> Response {
    match authorize_dl(&state, &headers, None) {
        Ok(Caller::Token { conv, user }) => {
            let token = state.mint_dl_token(&conv, user);
            super::state::State::bump(&state.token_refreshes);
            Json(conversation_json(&state, &conv, &token, true, false)).into_response()
        }
        Ok(Caller::Secret) => error(
            StatusCode::FORBIDDEN,
            "BadArgument",
            "refresh needs a token",
        ),
        Err(r) => r,
    }
}

fn new_conv_id() -> String {
    // Looks like the service's: 22 characters and a region suffix.
    let raw = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-us", &raw[..22])
}

pub(crate) async fn start(
    AxState(state): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match authorize_dl(&state, &headers, None) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match caller {
        Caller::Secret => {
            let conv = new_conv_id();
            let mut c = Conv::new();
            c.started = true;
            state.lock().convs.insert(conv.clone(), c);
            let user = user_from_params(&body).map(|u| u.0);
            let token = state.mint_dl_token(&conv, user.clone());
            announce(&state, &conv, user.as_deref()).await;
            (
                StatusCode::CREATED,
                Json(conversation_json(&state, &conv, &token, true, true)),
            )
                .into_response()
        }
        Caller::Token { conv, user } => {
            let token = super::state::bearer(&headers)
                .unwrap_or_default()
                .to_owned();
            let was_started = {
                let mut inner = state.lock();
                let c = inner.convs.entry(conv.clone()).or_insert_with(Conv::new);
                std::mem::replace(&mut c.started, true)
            };
            let status = if was_started {
                StatusCode::OK
            } else {
                let user = user.or_else(|| user_from_params(&body).map(|u| u.0));
                announce(&state, &conv, user.as_deref()).await;
                StatusCode::CREATED
            };
            (
                status,
                Json(conversation_json(&state, &conv, &token, true, true)),
            )
                .into_response()
        }
    }
}

pub(crate) async fn reconnect(
    AxState(state): AxState<Shared>,
    Path(conv): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize_dl(&state, &headers, Some(&conv)) {
        return r;
    }
    if !state.lock().convs.contains_key(&conv) {
        return error(
            StatusCode::NOT_FOUND,
            "BadArgument",
            "conversation not found",
        );
    }
    let token = super::state::bearer(&headers).unwrap_or_default();
    let mut v = json!({ "conversationId": conv, "token": token });
    v["streamUrl"] = Value::String(state.stream_url(&conv, q.get("watermark").map(String::as_str)));
    Json(v).into_response()
}

pub(crate) async fn get_activities(
    AxState(state): AxState<Shared>,
    Path(conv): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize_dl(&state, &headers, Some(&conv)) {
        return r;
    }
    let inner = state.lock();
    let Some(c) = inner.convs.get(&conv) else {
        return error(
            StatusCode::NOT_FOUND,
            "BadArgument",
            "conversation not found",
        );
    };
    let (activities, watermark) = c.since(q.get("watermark").map(String::as_str));
    Json(json!({ "activities": activities, "watermark": watermark })).into_response()
}

/// Stamps a user activity as the service does and stores it; returns (id, stored activity).
fn accept_user_activity(
    state: &Shared,
    conv: &str,
    caller: &Caller,
    mut activity: Value,
) -> Result<(String, Value), Response> {
    if let Some(o) = activity.as_object_mut() {
        o.remove("id");
        o.remove("timestamp");
        o.remove("serviceUrl");
        o.insert("channelId".into(), Value::String("directline".into()));
        if let Caller::Token { user: Some(u), .. } = caller {
            // A token minted for a user overrides any other `from.id` (`docs/protocols/bot-framework.md`, section 9).
            let name = o.get("from").and_then(|f| f.get("name")).cloned();
            let mut from = json!({ "id": u });
            if let Some(n) = name {
                from["name"] = n;
            }
            o.insert("from".into(), from);
        }
    }
    let mut inner = state.lock();
    let Some(c) = inner.convs.get_mut(conv) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "BadArgument",
            "conversation not found",
        ));
    };
    let id = c.append(conv, activity);
    let stored = c
        .activities
        .iter()
        .rev()
        .find(|a| a["id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| json!({ "id": id, "type": "typing", "conversation": { "id": conv } }));
    Ok((id, stored))
}

pub(crate) async fn post_activity(
    AxState(state): AxState<Shared>,
    Path(conv): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match authorize_dl(&state, &headers, Some(&conv)) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if body.len() > super::MAX_ACTIVITY_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "MessageSizeTooBig",
            "activity too large",
        );
    }
    let activity = match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.get("type").and_then(Value::as_str).is_some() => v,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "MissingProperty",
                "activity needs a type",
            );
        }
    };
    let (id, stored) = match accept_user_activity(&state, &conv, &caller, activity) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match deliver_to_bot(&state, &conv, stored).await {
        Ok(()) => Json(json!({ "id": id })).into_response(),
        Err(r) => r,
    }
}

/// Tells the bot a conversation started, as Azure Bot Service does: a `conversationUpdate`
/// with the bot and (when known) the user in `membersAdded`. It is not stored in the
/// conversation (Direct Line clients do not see it); a bot that refuses it does not fail
/// the start.
async fn announce(state: &Shared, conv: &str, user: Option<&str>) {
    let bot = json!({ "id": state.opts.bot_app_id, "name": "bot", "role": "bot" });
    let mut members = vec![bot.clone()];
    let mut activity = json!({
        "type": "conversationUpdate",
        "id": format!("{conv}|update-{}", uuid::Uuid::new_v4().simple()),
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "channelId": "directline",
        "conversation": { "id": conv },
        "recipient": bot,
    });
    if let Some(u) = user {
        let u = json!({ "id": u, "role": "user" });
        members.push(u.clone());
        activity["from"] = u;
    } else {
        activity["from"] = bot;
    }
    activity["membersAdded"] = Value::Array(members);
    if deliver_to_bot(state, conv, activity).await.is_err() {
        tracing::debug!(conv = %conv, "the bot refused the conversationUpdate");
    }
}

/// Hands an activity to the bot and waits, like the service, for the bot to accept it:
/// at most 15 s (the relay's budget), then `504 GatewayTimeout`.
async fn deliver_to_bot(state: &Shared, conv: &str, activity: Value) -> Result<(), Response> {
    let budget = Duration::from_secs(15);
    let delay = state.lock().bot_delay;
    if delay >= budget {
        tokio::time::sleep(budget).await;
        return Err(gateway_timeout());
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut a = activity;
    if let Some(o) = a.as_object_mut() {
        o.insert(
            "serviceUrl".into(),
            Value::String(format!("{}/", state.base)),
        );
        o.insert(
            "recipient".into(),
            json!({ "id": state.opts.bot_app_id, "name": "bot", "role": "bot" }),
        );
    }
    state.lock().received_by_bot.push(a.clone());
    let Some(url) = &state.opts.bot_url else {
        echo(state, conv, &a);
        return Ok(());
    };
    let token = state.channel_token(&state.opts.bot_app_id, &format!("{}/", state.base));
    let res = state
        .http
        .post(url)
        .bearer_auth(token)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(a.to_string())
        .timeout(budget - delay)
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(_) => Err(error(
            StatusCode::BAD_GATEWAY,
            "BotRejectedActivity",
            "Failed to send activity: bot returned an error",
        )),
        Err(e) if e.is_timeout() => Err(gateway_timeout()),
        Err(_) => Err(error(
            StatusCode::BAD_GATEWAY,
            "BotUnreachable",
            "Failed to send activity: bot unreachable",
        )),
    }
}

fn gateway_timeout() -> Response {
    error(
        StatusCode::GATEWAY_TIMEOUT,
        "GatewayTimeout",
        "Failed to send activity: bot timed out",
    )
}

/// The built-in echo bot: answers each message with one that contains the user's text.
fn echo(state: &Shared, conv: &str, activity: &Value) {
    if activity["type"] != "message" {
        return;
    }
    let text = activity["text"].as_str().unwrap_or_default();
    let attachments = activity["attachments"].as_array().map_or(0, Vec::len);
    let reply_text = if attachments > 0 {
        format!("Echo: {text} ({attachments} attachment(s))")
    } else {
        format!("Echo: {text}")
    };
    let reply = json!({
        "type": "message",
        "from": { "id": state.opts.bot_app_id, "name": "Echo Bot", "role": "bot" },
        "recipient": activity["from"],
        "textFormat": "plain",
        "text": reply_text,
        "replyToId": activity["id"],
        "inputHint": "acceptingInput",
    });
    let mut inner = state.lock();
    if let Some(c) = inner.convs.get_mut(conv) {
        c.append(conv, reply);
    }
}

pub(crate) async fn upload(
    AxState(state): AxState<Shared>,
    Path(conv): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match authorize_dl(&state, &headers, Some(&conv)) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(user_id) = q.get("userId").cloned() else {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingProperty",
            "userId is required",
        );
    };
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut files: Vec<Stored> = Vec::new();
    let mut template: Option<Value> = None;
    if let Ok(boundary) = multer::parse_boundary(&content_type) {
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut mp = multer::Multipart::new(stream, boundary);
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "BadArgument",
                        "malformed multipart body",
                    );
                }
            };
            let ct = field
                .content_type()
                .map(ToString::to_string)
                .unwrap_or_default();
            let name = field.file_name().unwrap_or("file").to_owned();
            let Ok(bytes) = field.bytes().await else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "BadArgument",
                    "malformed multipart body",
                );
            };
            if ct == "application/vnd.microsoft.activity" {
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(v) if v.is_object() => template = Some(v),
                    _ => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "BadArgument",
                            "activity part is not JSON",
                        );
                    }
                }
            } else {
                files.push(Stored {
                    content_type: if ct.is_empty() {
                        "application/octet-stream".into()
                    } else {
                        ct
                    },
                    name,
                    bytes,
                });
            }
        }
    } else {
        let name = headers
            .get(http::header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("filename=").nth(1))
            .map(|f| {
                f.trim_matches(|c| c == '"' || c == ';' || c == ' ')
                    .to_owned()
            })
            .unwrap_or_else(|| "file".into());
        files.push(Stored {
            content_type,
            name,
            bytes: body,
        });
    }
    if files.is_empty() {
        return error(StatusCode::BAD_REQUEST, "BadArgument", "no file in upload");
    }
    let mut attachments = Vec::new();
    {
        let mut inner = state.lock();
        for f in files {
            let id = uuid::Uuid::new_v4().simple().to_string();
            attachments.push(json!({
                "contentType": f.content_type,
                "contentUrl": format!("{}/v3/attachments/{id}/views/original", state.base),
                "name": f.name,
            }));
            inner.attachments.insert(id, f);
        }
    }
    let mut activity = template.unwrap_or_else(|| json!({ "type": "message" }));
    if let Some(o) = activity.as_object_mut() {
        o.entry("type").or_insert(Value::String("message".into()));
        o.insert("attachments".into(), Value::Array(attachments));
        o.entry("from").or_insert(json!({ "id": user_id }));
    }
    let (id, stored) = match accept_user_activity(&state, &conv, &caller, activity) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match deliver_to_bot(&state, &conv, stored).await {
        Ok(()) => Json(json!({ "id": id })).into_response(),
        Err(r) => r,
    }
}
