//! The gateway's HTTP surface: `/webhooks/{channel}[/...]`, `/api/agent/...` (agent API),
//! `/api/admin/...` (dead letters), `/healthz`, `/readyz`, `/metrics`.
//!
//! Every channel's webhook is mounted through the shared bridge ([`byoc_axum::Webhook`]):
//! the body is read up to the limit the channel's adapter was configured with (`413` past
//! it), the adapter verifies and parses it (`receive`; a refusal answers with the adapter's
//! status and is never acknowledged), then the gateway's durable accept takes the activities
//! ([`crate::RunningGateway::accept`]: dedupe by the provider's id, inbox, committed) and only
//! then does the provider get the adapter's answer; a store failure is
//! [`byoc_axum::SinkError::unavailable`], answered `503` so the provider retries; so is a
//! webhook arriving while the inbox backlog is past
//! [`crate::ServerSettings::max_inbox_backlog`], with `Retry-After`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use byoc_axum::{ActivitySink, Answer, Received, Webhook};
use serde_json::json;
use subtle::ConstantTimeEq as _;

use crate::SinkError;
use crate::gateway::Shared;

/// What a webhook refused for the inbox backlog asks the provider to wait.
const BACKLOG_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

pub(crate) type AppState = Arc<Shared>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.config.server.max_body_bytes;
    let mut app = Router::new();
    for (name, channel) in &shared.channels {
        let sink = InboxSink {
            shared: Arc::clone(&shared),
            channel: name.clone(),
        };
        let label = name.clone();
        let counted = Arc::clone(&shared);
        let route = Webhook::new(Arc::clone(&channel.adapter), sink)
            .body_limit(channel.body_limit)
            .into_route()
            .route_layer(axum::middleware::from_fn(
                move |req: Request, next: Next| {
                    let channel = label.clone();
                    let shared = Arc::clone(&counted);
                    async move {
                        // In flight from the first byte to the answer: processing yields
                        // to bursts of these.
                        let _counted = shared.ingest.enter();
                        let started = Instant::now();
                        let response = next.run(req).await;
                        metrics::histogram!(crate::metrics::WEBHOOK_SECONDS, "channel" => channel)
                            .record(started.elapsed().as_secs_f64());
                        response
                    }
                },
            ));
        app = app
            .route(&format!("/webhooks/{name}"), route.clone())
            .route(&format!("/webhooks/{name}/{{*rest}}"), route);
    }
    // Contact-center platforms with a webhook of their own (the Messaging API's agents' side).
    for (name, adapter) in shared.relay.messaging_apis() {
        let sink = crate::relay::PlatformSink {
            relay: Arc::clone(&shared.relay),
            platform: name.clone(),
        };
        let route = Webhook::new(Arc::clone(adapter), sink)
            .body_limit(limit)
            .into_route();
        app = app
            .route(&format!("/webhooks/{name}"), route.clone())
            .route(&format!("/webhooks/{name}/{{*rest}}"), route);
    }
    app.route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/admin/dead-letters", get(dead_letters))
        .route("/api/admin/dead-letters/{id}/replay", post(replay))
        .merge(crate::agent::router())
        .merge(crate::admin::router())
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .with_state(shared)
}

/// The bridge's sink for one channel: the gateway's durable accept.
struct InboxSink {
    shared: Arc<Shared>,
    channel: String,
}

#[async_trait::async_trait]
impl ActivitySink for InboxSink {
    async fn accept(&self, received: Received) -> Result<Answer, byoc_axum::SinkError> {
        match self.shared.accept(&self.channel, received.activities).await {
            Ok(()) => Ok(Answer::Adapter),
            Err(e @ SinkError::Backlog { .. }) => {
                tracing::warn!(channel = %self.channel, error = %e, "webhook refused; answering 503 with Retry-After");
                Err(byoc_axum::SinkError::Refused(
                    byoc_core::AdapterError::transient(
                        "too many messages wait; deliver again later",
                    )
                    .with_retry_after(Some(BACKLOG_RETRY_AFTER)),
                ))
            }
            Err(e) => {
                tracing::error!(channel = %self.channel, error = %e, "webhook not persisted; answering 503");
                Err(byoc_axum::SinkError::unavailable(e.to_string()))
            }
        }
    }
}

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "message": message } })),
    )
        .into_response()
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
