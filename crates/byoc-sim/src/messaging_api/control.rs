//! The `/_sim/...` control endpoints: revoke tokens, list the conversations (newest last),
//! and drive the agent side of a conversation (accept, say, typing, close, event).

// Handlers return ready axum responses as their error values.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;

use super::Inner;
use super::api::err;

type Shared = Arc<Inner>;

pub(super) async fn expire_tokens(AxState(inner): AxState<Shared>) -> Response {
    inner.lock().tokens.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_sim/conversations`: every conversation, oldest first, without its transcript.
pub(super) async fn list(AxState(inner): AxState<Shared>) -> Response {
    let st = inner.lock();
    let list: Vec<serde_json::Value> = st
        .order
        .iter()
        .filter_map(|id| st.conversations.get(id))
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "customerId": c.customer_id,
                "requestId": c.request_id,
                "state": c.state,
                "messages": c.messages.len(),
            })
        })
        .collect();
    axum::Json(serde_json::json!({ "conversations": list })).into_response()
}

#[derive(Deserialize, Default)]
struct ControlBody {
    text: Option<String>,
    name: Option<String>,
}

pub(super) async fn control(
    AxState(inner): AxState<Shared>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let b: ControlBody = if body.is_empty() {
        ControlBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(_) => return err(StatusCode::BAD_REQUEST, "InvalidJson", "body must be JSON"),
        }
    };
    let agent = super::Agent {
        inner: inner.clone(),
    };
    let result = match action.as_str() {
        "accept" => agent.accepts(&id).await,
        "say" => agent.says(&id, b.text.as_deref().unwrap_or_default()).await,
        "typing" => agent.typing(&id).await,
        "close" => agent.close(&id).await,
        "event" => {
            agent
                .event(&id, b.name.as_deref().unwrap_or_default())
                .await
        }
        _ => {
            return err(
                StatusCode::NOT_FOUND,
                "UnknownAction",
                "accept, say, typing, close or event",
            );
        }
    };
    match result {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => err(StatusCode::BAD_REQUEST, "AgentError", &e.to_string()),
    }
}
