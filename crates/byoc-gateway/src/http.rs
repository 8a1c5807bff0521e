//! The gateway's HTTP surface: `/webhooks/{channel}[/...]`, `/api/agent/...` (agent API),
//! `/api/admin/...` (dead letters), `/healthz`, `/readyz`, `/metrics`.
//!
//! A webhook is handled in this order: body limit (`413`), the adapter's verification and
//! parsing (`receive`; a refusal answers with the adapter's status and is never
//! acknowledged), then the activities are persisted ([`crate::RunningGateway::accept`]:
//! dedupe, inbox) and only then does the provider get the adapter's answer; a store
//! failure answers `503` so the provider retries.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use byoc_core::AdapterError;
use serde_json::json;
use subtle::ConstantTimeEq as _;

use crate::gateway::Shared;

pub(crate) type AppState = Arc<Shared>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.config.server.max_body_bytes;
    Router::new()
        .route("/webhooks/{channel}", post(webhook))
        .route("/webhooks/{channel}/{*rest}", post(webhook_nested))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/admin/dead-letters", get(dead_letters))
        .route("/api/admin/dead-letters/{id}/replay", post(replay))
        .merge(crate::agent::router())
        .merge(crate::admin::router())
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .with_state(shared)
}

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "message": message } })),
    )
        .into_response()
}

fn adapter_response(r: http::Response<bytes::Bytes>) -> Response {
    r.map(Body::from)
}

async fn webhook(
    State(shared): State<AppState>,
    Path(channel): Path<String>,
    req: Request,
) -> Response {
    handle_webhook(shared, channel, req).await
}

async fn webhook_nested(
    State(shared): State<AppState>,
    Path((channel, _rest)): Path<(String, String)>,
    req: Request,
) -> Response {
    handle_webhook(shared, channel, req).await
}

async fn handle_webhook(shared: AppState, channel: String, req: Request) -> Response {
    let started = Instant::now();
    let ch = shared.channels.get(&channel);
    if ch.is_none() && shared.relay.messaging_api(&channel).is_none() {
        return json_error(StatusCode::NOT_FOUND, "no such channel");
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, shared.config.server.max_body_bytes).await else {
        return json_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    };
    if shared.relay.messaging_api(&channel).is_some() {
        // A contact-center platform's webhook (its agents' side), not a customer channel.
        let request = http::Request::from_parts(parts, bytes);
        let response = crate::relay::platform_webhook(&shared.relay, &channel, request).await;
        metrics::histogram!(crate::metrics::WEBHOOK_SECONDS, "channel" => channel)
            .record(started.elapsed().as_secs_f64());
        return adapter_response(response);
    }
    let Some(ch) = ch else {
        return json_error(StatusCode::NOT_FOUND, "no such channel");
    };
    let inbound = match ch
        .adapter
        .receive(http::Request::from_parts(parts, bytes))
        .await
    {
        Ok(inbound) => inbound,
        Err(e) => {
            tracing::info!(%channel, status = e.http_status().as_u16(), error = %e, "webhook refused");
            return adapter_response(e.to_response());
        }
    };
    let response = match shared.accept(&channel, inbound.activities).await {
        Ok(()) => adapter_response(inbound.response),
        Err(e) => {
            tracing::error!(%channel, error = %e, "webhook not persisted; answering 503");
            adapter_response(AdapterError::transient("try again later").to_response())
        }
    };
    metrics::histogram!(crate::metrics::WEBHOOK_SECONDS, "channel" => channel)
        .record(started.elapsed().as_secs_f64());
    response
}

async fn readyz(State(shared): State<AppState>) -> Response {
    if !shared.ready.load(Ordering::SeqCst) {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "not ready");
    }
    match shared.store.outbox_depth().await {
        Ok(depth) => {
            axum::Json(json!({ "status": "ready", "outbox_depth": depth })).into_response()
        }
        Err(_) => json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable"),
    }
}

async fn metrics(State(shared): State<AppState>) -> Response {
    if let Ok(depth) = shared.store.outbox_depth().await {
        metrics::gauge!(crate::metrics::OUTBOX_DEPTH).set(depth as f64);
    }
    match crate::metrics::handle() {
        Some(h) => (
            [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        ),
    }
}

/// Checks the admin bearer token in constant time.
pub(crate) fn is_admin(shared: &Shared, headers: &http::HeaderMap) -> bool {
    let Some(expected) = &shared.config.admin_token else {
        return false;
    };
    let given = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    given.as_bytes().ct_eq(expected.secret().as_bytes()).into()
}

async fn dead_letters(State(shared): State<AppState>, headers: http::HeaderMap) -> Response {
    if !is_admin(&shared, &headers) {
        return json_error(StatusCode::UNAUTHORIZED, "admin token required");
    }
    match shared.store.dead_letters(500).await {
        Ok(list) => axum::Json(json!({ "dead_letters": list })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "dead letters not read");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

async fn replay(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if !is_admin(&shared, &headers) {
        return json_error(StatusCode::UNAUTHORIZED, "admin token required");
    }
    match shared
        .store
        .replay_dead_letter(id, chrono::Utc::now())
        .await
    {
        Ok(true) => {
            shared.outbox_wake.notify_one();
            axum::Json(json!({ "replayed": id })).into_response()
        }
        Ok(false) => json_error(StatusCode::NOT_FOUND, "no such dead letter"),
        Err(e) => {
            tracing::error!(error = %e, "dead letter not replayed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}
