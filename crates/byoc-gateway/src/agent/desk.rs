//! The agent's own routing settings: who it is and what it carries (`me`), the queues it
//! works (`queues`, `join`, `leave`), its capacity.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use byoc_core::workstream::Presence;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::{agent_name, agent_of};
use crate::http::{AppState, json_error};
use crate::model::{AgentAction, InboxEvent};
use crate::store::NewInbound;

/// The largest capacity an agent may set (conversations, or capacity-profile units).
pub(crate) const MAX_CAPACITY: u32 = 1000;

pub(super) async fn me(State(shared): State<AppState>, headers: http::HeaderMap) -> Response {
    let agent = match agent_of(&shared, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (state, queues, capacity) = {
        let routing = shared.routing();
        (
            routing.member_state(&agent),
            routing.queue_choices(&agent),
            routing.capacity_of(&agent),
        )
    };
    let presence = state.map_or(Presence::Offline, |s| s.presence);
    let state = state.unwrap_or_default();
    let joined: Vec<&str> = queues
        .iter()
        .filter(|q| q.joined)
        .map(|q| q.queue.as_str())
        .collect();
    axum::Json(json!({
        "agent": agent,
        "name": agent_name(&shared, &agent),
        "queues": shared.agent_queues(&agent),
        "joined": joined,
        "presence": presence,
        "capacity": capacity,
        "load": state.total_load(),
        "load_by_kind": state.by_kind,
    }))
    .into_response()
}

pub(super) async fn queues(State(shared): State<AppState>, headers: http::HeaderMap) -> Response {
    let agent = match agent_of(&shared, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let queues = shared.routing().queue_choices(&agent);
    axum::Json(json!({ "queues": queues })).into_response()
}

pub(super) async fn join(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(queue): Path<String>,
) -> Response {
    set_membership(shared, headers, queue, true).await
}

pub(super) async fn leave(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(queue): Path<String>,
) -> Response {
    set_membership(shared, headers, queue, false).await
}

/// Signs the agent in to or out of a queue: stored, then fed to the router. Joining
/// re-evaluates the conversations waiting; leaving gives back the offers that queue made to
/// the agent (each through its conversation's inbox, so it goes to the next agent).
async fn set_membership(
    shared: AppState,
    headers: http::HeaderMap,
    queue: String,
    joined: bool,
) -> Response {
    let agent = match agent_of(&shared, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let listed = shared
        .routing()
        .queue_choices(&agent)
        .iter()
        .any(|q| q.queue == queue);
    if !listed {
        return json_error(StatusCode::NOT_FOUND, "no queue of yours has this name");
    }
    let now = Utc::now();
    if let Err(e) = shared
        .store
        .set_agent_queue(&agent, &queue, joined, now)
        .await
    {
        tracing::error!(error = %e, "queue membership not stored");
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
    }
    let offers = {
        let mut routing = shared.routing();
        routing.set_queue_membership(&agent, &queue, joined);
        if joined {
            Vec::new()
        } else {
            routing.offers_to(&agent, Some(&queue))
        }
    };
    release_offers(&shared, &agent, &offers).await;
    if joined {
        shared.routing_wake.notify_one();
    }
    tracing::info!(%agent, %queue, joined, "queue membership changed");
    axum::Json(json!({
        "queue": queue,
        "joined": joined,
        "offers_released": offers.len(),
    }))
    .into_response()
}

#[derive(Deserialize)]
pub(super) struct CapacityBody {
    /// `null` returns to the configured capacity.
    capacity: Option<u32>,
}

pub(super) async fn capacity(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    axum::Json(body): axum::Json<CapacityBody>,
) -> Response {
    let agent = match agent_of(&shared, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if body.capacity.is_some_and(|n| n == 0 || n > MAX_CAPACITY) {
        return json_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "`capacity` must be between 1 and {MAX_CAPACITY} (away or do_not_disturb to take no work)"
            ),
        );
    }
    if shared.routing().capacity_of(&agent).is_none() {
        return json_error(StatusCode::CONFLICT, "you are a member of no queue");
    }
    let now = Utc::now();
    if let Err(e) = shared
        .store
        .set_agent_capacity(&agent, body.capacity, now)
        .await
    {
        tracing::error!(error = %e, "capacity not stored");
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
    }
    let view = {
        let mut routing = shared.routing();
        routing.set_capacity(&agent, body.capacity, now);
        routing.capacity_of(&agent)
    };
    // More room may serve conversations waiting in the agent's queues.
    shared.routing_wake.notify_one();
    tracing::info!(%agent, capacity = ?body.capacity, "capacity changed");
    axum::Json(json!({ "capacity": view })).into_response()
}

/// Gives back the offers `offers` ((conversation, ordering key) pairs) made to `agent`, who
/// can no longer take them (it left their queue or went offline): each through its
/// conversation's inbox, so it goes to the next agent in order with the rest of that
/// conversation's events. If the store fails, the offers time out to the next agent instead.
pub(crate) async fn release_offers(shared: &AppState, agent: &str, offers: &[(String, String)]) {
    if offers.is_empty() {
        return;
    }
    let releases: Vec<NewInbound> = offers
        .iter()
        .map(|(conversation, key)| {
            let event = InboxEvent::Agent {
                conversation: conversation.clone(),
                agent: agent.to_owned(),
                action: AgentAction::Release,
            };
            NewInbound::new("agent", None, key.clone(), event)
        })
        .collect();
    if let Err(e) = shared.store.accept_inbound(releases, None).await {
        tracing::error!(error = %e, "offers not given back; they will time out instead");
        return;
    }
    for (_, key) in offers {
        shared.dispatcher.wake(key);
    }
}
