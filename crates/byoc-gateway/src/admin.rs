//! The admin API's conversation views (admin bearer token, compared in constant time):
//! every conversation whatever its contact center — byoc's own or relayed to a platform —
//! with its state, its platform links and its transcript, and an export.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /api/admin/conversations?open=true&limit=100` | newest first; `open` leaves closed ones out |
//! | `GET /api/admin/conversations/{id}` | the record, every context variable, the platform links, every outbound activity with its delivery state (attempts, the provider's id, the last error, the provider's latest delivery receipt), the transcript |
//! | `GET /api/admin/conversations/{id}/export` | JSON lines: the conversation, then one transcript entry per line |

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{AppState, is_admin, json_error};
use crate::model::ConversationRecord;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/conversations", get(list))
        .route("/api/admin/conversations/{id}", get(detail))
        .route("/api/admin/conversations/{id}/export", get(export))
}

fn unavailable(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "admin read failed");
    json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
}

fn summary(rec: &ConversationRecord) -> Value {
    let c = &rec.conversation;
    json!({
        "id": c.id,
        "workstream": rec.workstream,
        "channel": c.channel_id,
        "state": c.state,
        "queue": c.queue,
        "owner": c.owner,
        "customer": { "id": c.customer.id, "name": c.customer.name },
        "relay": rec.relay,
        "created_at": c.created_at,
        "last_activity_at": c.last_activity_at,
    })
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    open: bool,
    limit: Option<u32>,
}

async fn list(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if !is_admin(&shared, &headers) {
        return json_error(StatusCode::UNAUTHORIZED, "admin token required");
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    match shared.relay.links.recent_conversations(q.open, limit).await {
        Ok(rows) => {
            let list: Vec<Value> = rows.iter().map(|r| summary(&r.record)).collect();
            axum::Json(json!({ "conversations": list })).into_response()
        }
        Err(e) => unavailable(&e),
    }
}

/// The conversation with its context, links and transcript, or the answer refusing.
async fn full(shared: &AppState, headers: &http::HeaderMap, id: &str) -> Result<Value, Response> {
    if !is_admin(shared, headers) {
        return Err(json_error(StatusCode::UNAUTHORIZED, "admin token required"));
    }
    let rec = match shared.store.conversation(id).await {
        Ok(Some(rec)) => rec,
        Ok(None) => return Err(json_error(StatusCode::NOT_FOUND, "no such conversation")),
        Err(e) => return Err(unavailable(&e)),
    };
    let transcript = shared
        .store
        .transcript(id)
        .await
        .map_err(|e| unavailable(&e))?;
    let links = shared
        .relay
        .links
        .links_of(id)
        .await
        .map_err(|e| unavailable(&e))?;
    let outbound = shared
        .store
        .outbound_of(id)
        .await
        .map_err(|e| unavailable(&e))?;
    let mut body = summary(&rec);
    body["context"] = serde_json::to_value(&rec.conversation.context).unwrap_or_default();
    body["participants"] = serde_json::to_value(&rec.conversation.participants).unwrap_or_default();
    body["platform_links"] = serde_json::to_value(&links).unwrap_or_default();
    body["outbound"] = serde_json::to_value(&outbound).unwrap_or_default();
    body["transcript"] = serde_json::to_value(&transcript).unwrap_or_default();
    Ok(body)
}

async fn detail(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match full(&shared, &headers, &id).await {
        Ok(body) => axum::Json(body).into_response(),
        Err(r) => r,
    }
}

async fn export(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut body = match full(&shared, &headers, &id).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let transcript = body
        .as_object_mut()
        .and_then(|o| o.remove("transcript"))
        .unwrap_or_default();
    let mut out = crate::normalize::compact_json(&body.to_string());
    out.push('\n');
    for entry in transcript.as_array().into_iter().flatten() {
        out.push_str(&entry.to_string());
        out.push('\n');
    }
    let disposition = format!("attachment; filename=\"conversation-{id}.jsonl\"");
    (
        [
            (
                http::header::CONTENT_TYPE,
                "application/x-ndjson".to_owned(),
            ),
            (http::header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response()
}
