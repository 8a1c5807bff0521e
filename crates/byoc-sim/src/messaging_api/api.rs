//! HTTP side of the simulator: the router and the consumer Messaging API (its body checks
//! in `validate`, the `/_sim/...` control endpoints in `control`).

// Handlers return ready axum responses as their error values.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Inner;
use super::entra::authorize;
use super::state::{SimConversation, SimMessage, SimState, format_ts};
use super::validate::{validate_activity, validate_create};

pub(crate) const MESSAGING_API_CHANNEL_TYPE: i64 = 192_350_005;
pub(super) const MAX_NAME: usize = 256;

type Shared = Arc<Inner>;

pub(crate) fn router(inner: Shared) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(super::entra::token))
        .route("/{tenant}/discovery/v2.0/keys", get(super::entra::jwks))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(super::entra::openid_configuration),
        )
        .route("/api/v1.0/consumer/conversations/create", post(create))
        .route("/api/v1.0/consumer/conversation/create", post(create))
        .route("/api/v1.0/consumer/conversations", get(list))
        .route("/api/v1.0/consumer/conversation/{id}", post(send))
        .route(
            "/api/v1.0/consumer/conversation/{id}/messages",
            get(messages),
        )
        .route("/api/v1.0/consumer/conversation/{id}/context", get(context))
        .route("/api/data/v9.2/{key}", any(super::dataverse::dataverse))
        .route("/_sim/tokens/expire", post(super::control::expire_tokens))
        .route("/_sim/conversations", get(super::control::list))
        .route(
            "/_sim/conversations/{id}/{action}",
            post(super::control::control),
        )
        .with_state(inner)
}

pub(super) fn err(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

// ---------------------------------------------------------------- consumer API

/// Checks auth and the channel/organization headers; returns the channel id.
fn consumer(
    inner: &Inner,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<String, Response> {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (channel, legacy) = match header("channel-id") {
        Some(c) => (Some(c), false),
        None => (
            header("x-ms-channel-id"),
            header("x-ms-channel-id").is_some(),
        ),
    };
    inner.lock().requests.push(super::state::RecordedRequest {
        method: method.to_string(),
        path: path.to_owned(),
        channel_id: channel.clone(),
        legacy_headers: legacy,
    });
    authorize(inner, headers, &inner.messaging_scope())?;
    let org = header("organization-id").or_else(|| header("x-ms-organization-id"));
    let Some(channel) = channel else {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "MissingChannelId",
            "channel-id header is required",
        ));
    };
    let Some(org) = org else {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "MissingOrganizationId",
            "organization-id header is required",
        ));
    };
    if !org.eq_ignore_ascii_case(&inner.opts.org_id) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "OrganizationMismatch",
            "unknown organization",
        ));
    }
    let channel = channel.to_ascii_lowercase();
    if !inner.lock().channels.contains_key(&channel) {
        return Err(err(
            StatusCode::NOT_FOUND,
            "ChannelNotFound",
            "no custom channel with this id",
        ));
    }
    Ok(channel)
}

pub(super) fn parse_json(body: &[u8]) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            "body must be a JSON object",
        )),
    }
}
async fn create(
    AxState(inner): AxState<Shared>,
    method: Method,
    uri: http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let channel = match consumer(&inner, &method, uri.path(), &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let v = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = validate_create(&v) {
        return r;
    }
    let customer_id = v
        .pointer("/customercontext/customerid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let request_id = v
        .get("conversationrequestid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut st = inner.lock();
    // Idempotency: the same request id, or an active conversation of the same customer.
    let existing = st.order.iter().rev().find_map(|id| {
        let c = st.conversations.get(id)?;
        let same_request = request_id.is_some() && c.request_id == request_id;
        let same_customer =
            customer_id.is_some() && c.customer_id == customer_id && c.state.is_active();
        (c.channel_id == channel && (same_request || same_customer)).then(|| c.id.clone())
    });
    if let Some(id) = existing {
        return axum::Json(json!({ "conversationId": id, "isNew": false })).into_response();
    }
    let id = uuid::Uuid::new_v4().to_string();
    let context = v
        .get("conversationcontext")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, var)| (k.clone(), var.get("value").cloned().unwrap_or(Value::Null)))
                .collect()
        })
        .unwrap_or_default();
    let created = st.next_timestamp();
    let mut conv = SimConversation {
        id: id.clone(),
        channel_id: channel,
        customer_id,
        request_id,
        customer: v.get("customercontext").cloned().unwrap_or(Value::Null),
        context,
        skip_deflection_bot: v
            .get("skipdeflectionbot")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        state: SimState::Open,
        created,
        messages: Vec::new(),
    };
    let mut out = json!({ "conversationId": id, "isNew": true });
    if let Some(m) = v.get("startmessage") {
        let message_id = st.next_message_id();
        let timestamp = st.next_timestamp();
        conv.messages.push(SimMessage {
            message_id: message_id.clone(),
            timestamp,
            side: "customer",
            activity: json!({
                "type": "message",
                "text": m.get("message").cloned().unwrap_or(Value::Null),
                "from": { "name": m.get("displayname").cloned().unwrap_or(Value::Null) },
            }),
        });
        out["messageId"] = json!(message_id);
    }
    st.order.push(id.clone());
    st.conversations.insert(id, conv);
    axum::Json(out).into_response()
}
async fn send(
    AxState(inner): AxState<Shared>,
    method: Method,
    uri: http::Uri,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let channel = match consumer(&inner, &method, uri.path(), &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let v = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = validate_activity(&v, &channel) {
        return r;
    }
    if v.pointer("/conversation/id")
        .and_then(Value::as_str)
        .is_some_and(|c| c != id)
    {
        return err(
            StatusCode::BAD_REQUEST,
            "ConversationMismatch",
            "conversation.id must equal the path",
        );
    }
    let mut st = inner.lock();
    let message_id = st.next_message_id();
    let timestamp = st.next_timestamp();
    let Some(conv) = st
        .conversations
        .get_mut(&id)
        .filter(|c| c.channel_id == channel)
    else {
        return err(
            StatusCode::NOT_FOUND,
            "ConversationNotFound",
            "no such conversation",
        );
    };
    if !conv.state.is_active() {
        return err(
            StatusCode::NOT_FOUND,
            "ConversationClosed",
            "the conversation has ended",
        );
    }
    match v.get("type").and_then(Value::as_str) {
        Some("endOfConversation") => {
            conv.state = if conv.state == SimState::Active {
                SimState::WrapUp
            } else {
                SimState::Closed
            };
        }
        Some("event") => {
            // Custom events may update context variables; displayable ones are objects.
            if let Some(Ok(Value::Object(vars))) = v
                .pointer("/channelData/customEventValue")
                .and_then(Value::as_str)
                .map(serde_json::from_str::<Value>)
            {
                for (k, val) in vars {
                    let val = val.get("value").cloned().unwrap_or(val);
                    conv.context.insert(k, val);
                }
            }
        }
        _ => {}
    }
    if v.get("type").and_then(Value::as_str) != Some("typing") {
        conv.messages.push(SimMessage {
            message_id: message_id.clone(),
            timestamp,
            side: "customer",
            activity: v,
        });
    }
    axum::Json(json!({ "messageId": message_id })).into_response()
}

#[derive(Deserialize)]
struct PageParams {
    #[serde(rename = "StartTimeStamp")]
    start: Option<String>,
    #[serde(rename = "PageSize")]
    page_size: Option<usize>,
    #[serde(rename = "ContinuationToken")]
    token: Option<String>,
}

fn parse_ts(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

async fn list(
    AxState(inner): AxState<Shared>,
    method: Method,
    uri: http::Uri,
    headers: HeaderMap,
    Query(q): Query<PageParams>,
) -> Response {
    let channel = match consumer(&inner, &method, uri.path(), &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let size = q.page_size.unwrap_or(50);
    if size == 0 || size > 250 {
        return err(
            StatusCode::BAD_REQUEST,
            "InvalidPageSize",
            "PageSize must be 1..=250",
        );
    }
    let start = match q.start.as_deref().map(parse_ts) {
        Some(None) => {
            return err(
                StatusCode::BAD_REQUEST,
                "InvalidStartTimeStamp",
                "bad StartTimeStamp",
            );
        }
        Some(s) => s,
        None => None,
    };
    let offset = match q.token.as_deref().map(str::parse::<usize>) {
        Some(Err(_)) => {
            return err(
                StatusCode::BAD_REQUEST,
                "InvalidContinuationToken",
                "bad token",
            );
        }
        Some(Ok(n)) => n,
        None => 0,
    };
    let st = inner.lock();
    let all: Vec<&SimConversation> = st
        .order
        .iter()
        .filter_map(|id| st.conversations.get(id))
        .filter(|c| {
            c.channel_id == channel && c.state.is_active() && start.is_none_or(|s| c.created >= s)
        })
        .collect();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(size)
        .map(|c| json!({ "conversationid": c.id, "timestamp": format_ts(c.created) }))
        .collect();
    let next = (offset + size < all.len()).then(|| (offset + size).to_string());
    axum::Json(json!({ "conversations": page, "continuationtoken": next })).into_response()
}

async fn messages(
    AxState(inner): AxState<Shared>,
    method: Method,
    uri: http::Uri,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<PageParams>,
) -> Response {
    let channel = match consumer(&inner, &method, uri.path(), &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let size = q.page_size.unwrap_or(50);
    if size == 0 || size > 100 {
        return err(
            StatusCode::BAD_REQUEST,
            "InvalidPageSize",
            "PageSize must be 1..=100",
        );
    }
    let from = match q.token.as_deref().or(q.start.as_deref()).map(parse_ts) {
        Some(None) => {
            return err(
                StatusCode::BAD_REQUEST,
                "InvalidContinuationToken",
                "bad token",
            );
        }
        Some(s) => s,
        None => None,
    };
    let st = inner.lock();
    let Some(conv) = st
        .conversations
        .get(&id)
        .filter(|c| c.channel_id == channel)
    else {
        return err(
            StatusCode::NOT_FOUND,
            "ConversationNotFound",
            "no such conversation",
        );
    };
    let all: Vec<&SimMessage> = conv
        .messages
        .iter()
        .filter(|m| from.is_none_or(|f| m.timestamp >= f))
        .collect();
    let page: Vec<Value> = all
        .iter()
        .take(size)
        .map(|m| {
            json!({
                "type": m.activity.get("type").cloned().unwrap_or(json!("message")),
                "attachments": m.activity.get("attachments").cloned().unwrap_or(json!([])),
                "text": m.activity.get("text").cloned().unwrap_or(Value::Null),
                "messageId": m.message_id,
                "timestamp": format_ts(m.timestamp),
                "from": m.activity.get("from").cloned().unwrap_or(json!({})),
                "channelData": m.activity.get("channelData").cloned().unwrap_or(json!({})),
            })
        })
        .collect();
    let next = all.get(size).map(|m| format_ts(m.timestamp));
    axum::Json(json!({ "messages": page, "continuationToken": next })).into_response()
}

async fn context(
    AxState(inner): AxState<Shared>,
    method: Method,
    uri: http::Uri,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let channel = match consumer(&inner, &method, uri.path(), &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let st = inner.lock();
    let Some(conv) = st
        .conversations
        .get(&id)
        .filter(|c| c.channel_id == channel)
    else {
        return err(
            StatusCode::NOT_FOUND,
            "ConversationNotFound",
            "no such conversation",
        );
    };
    let ctx: Vec<Value> = conv
        .context
        .iter()
        .map(|(k, v)| json!({ "name": k, "value": v }))
        .collect();
    axum::Json(json!({ "context": ctx })).into_response()
}
