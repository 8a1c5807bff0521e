//! The Connector REST v3 service (see `docs/protocols/bot-framework.md`, section 2): the channel side bots reply to. Every call needs a
//! token from the authority; activities land in the shared conversations, so Direct Line
//! clients see the bot's replies.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::authority::authorize_connector;
use super::state::{Conv, Shared, Stored, error};

fn parse_activity(body: &[u8]) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.get("type").and_then(Value::as_str).is_some() => Ok(v),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "BadArgument",
            "body is not an activity",
        )),
    }
}

fn too_large(body: &[u8]) -> Option<Response> {
    (body.len() > super::MAX_ACTIVITY_BYTES).then(|| {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "MessageSizeTooBig",
            "activity too large",
        )
    })
}

fn append(state: &Shared, conv: &str, activity: Value) -> Response {
    let mut inner = state.lock();
    inner.received_by_connector.push(activity.clone());
    let Some(c) = inner.convs.get_mut(conv) else {
        return error(
            StatusCode::NOT_FOUND,
            "ConversationNotFound",
            "conversation not found",
        );
    };
    let mut activity = activity;
    if let Some(o) = activity.as_object_mut() {
        // The channel assigns ids; a bot's `id`, `timestamp` and `serviceUrl` are ignored.
        o.remove("id");
        o.remove("timestamp");
        o.remove("serviceUrl");
    }
    let id = c.append(conv, activity);
    (StatusCode::OK, Json(json!({ "id": id }))).into_response()
}

pub(crate) async fn send_to_conversation(
    AxState(state): AxState<Shared>,
    Path(conv): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize_connector(&state, &headers) {
        return r;
    }
    if let Some(r) = too_large(&body) {
        return r;
    }
    match parse_activity(&body) {
        Ok(a) => append(&state, &conv, a),
        Err(r) => r,
    }
}

pub(crate) async fn reply_to_activity(
    AxState(state): AxState<Shared>,
    Path((conv, reply_to)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize_connector(&state, &headers) {
        return r;
    }
    if let Some(r) = too_large(&body) {
        return r;
    }
    match parse_activity(&body) {
        Ok(mut a) => {
            if let Some(o) = a.as_object_mut() {
                o.entry("replyToId").or_insert(Value::String(reply_to));
            }
            append(&state, &conv, a)
        }
        Err(r) => r,
    }
}

pub(crate) async fn update_activity(
    AxState(state): AxState<Shared>,
    Path((conv, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize_connector(&state, &headers) {
        return r;
    }
    if let Some(r) = too_large(&body) {
        return r;
    }
    let a = match parse_activity(&body) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut inner = state.lock();
    let Some(c) = inner.convs.get_mut(&conv) else {
        return conversation_not_found();
    };
    match c.update(&conv, &id, a) {
        Some(()) => (StatusCode::OK, Json(json!({ "id": id }))).into_response(),
        None => activity_not_found(),
    }
}

fn conversation_not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ConversationNotFound",
        "conversation not found",
    )
}

fn activity_not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ActivityNotFound",
        "activity not found",
    )
}

/// `DELETE .../activities/{id}`: accepted, and the history keeps a `messageDelete`
/// tombstone in the activity's place; Direct Line clients receive nothing (the Direct Line
/// channel does not propagate deletions: a client keeps showing the activity).
pub(crate) async fn delete_activity(
    AxState(state): AxState<Shared>,
    Path((conv, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize_connector(&state, &headers) {
        return r;
    }
    let mut inner = state.lock();
    let Some(c) = inner.convs.get_mut(&conv) else {
        return conversation_not_found();
    };
    let Some(slot) = c.stored_mut(&id) else {
        return activity_not_found();
    };
    *slot = json!({ "type": "messageDelete", "id": id, "conversation": { "id": conv } });
    StatusCode::OK.into_response()
}

pub(crate) async fn create_conversation(
    AxState(state): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize_connector(&state, &headers) {
        return r;
    }
    let Ok(params) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadArgument",
            "body is not ConversationParameters",
        );
    };
    if !params.is_object() {
        return error(
            StatusCode::BAD_REQUEST,
            "BadArgument",
            "body is not ConversationParameters",
        );
    }
    let conv = uuid::Uuid::new_v4().simple().to_string();
    let mut inner = state.lock();
    let mut c = Conv::new();
    c.started = true;
    let activity_id = match params.get("activity") {
        Some(a) if a.is_object() => Some(c.append(&conv, a.clone())),
        _ => None,
    };
    inner.convs.insert(conv.clone(), c);
    (
        StatusCode::CREATED,
        Json(json!({ "id": conv, "serviceUrl": format!("{}/", state.base), "activityId": activity_id })),
    )
        .into_response()
}

pub(crate) async fn upload_attachment(
    AxState(state): AxState<Shared>,
    Path(conv): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize_connector(&state, &headers) {
        return r;
    }
    let Ok(data) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadArgument",
            "body is not AttachmentData",
        );
    };
    let Some(Ok(bytes)) = data["originalBase64"]
        .as_str()
        .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadArgument",
            "originalBase64 missing or invalid",
        );
    };
    let mut inner = state.lock();
    if !inner.convs.contains_key(&conv) {
        return error(
            StatusCode::NOT_FOUND,
            "ConversationNotFound",
            "conversation not found",
        );
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    inner.attachments.insert(
        id.clone(),
        Stored {
            content_type: data["type"]
                .as_str()
                .unwrap_or("application/octet-stream")
                .to_owned(),
            name: data["name"].as_str().unwrap_or("file").to_owned(),
            bytes: bytes.into(),
        },
    );
    (StatusCode::OK, Json(json!({ "id": id }))).into_response()
}

pub(crate) async fn attachment_info(
    AxState(state): AxState<Shared>,
    Path(id): Path<String>,
) -> Response {
    let inner = state.lock();
    match inner.attachments.get(&id) {
        Some(s) => Json(json!({
            "name": s.name, "type": s.content_type,
            "views": [{ "viewId": "original", "size": s.bytes.len() }],
        }))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "NotFound", "attachment not found"),
    }
}

pub(crate) async fn attachment_view(
    AxState(state): AxState<Shared>,
    Path((id, _view)): Path<(String, String)>,
) -> Response {
    let inner = state.lock();
    match inner.attachments.get(&id) {
        Some(s) => (
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, s.content_type.clone())],
            s.bytes.clone(),
        )
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "NotFound", "attachment not found"),
    }
}
