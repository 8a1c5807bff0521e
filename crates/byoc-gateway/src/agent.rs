//! The agent API: JSON over HTTP, server-sent events for live updates, shaped for a browser
//! console.
//!
//! | method and path | what |
//! |---|---|
//! | `POST /api/agent/sign-in` `{"agent","password"}` | a session token (`Authorization: Bearer ...` afterwards); it expires |
//! | `POST /api/agent/sign-out` | ends the session |
//! | `GET /api/agent/me` | id, name, `queues` (those listing it), `joined` (those it works), presence, `capacity` (`configured`, `profile`, `own`), `load` and `load_by_kind` (`chat`, `sms`, `messaging`) |
//! | `PUT /api/agent/presence` `{"presence":"available"}` | available, busy, do_not_disturb, away, offline |
//! | `PUT /api/agent/capacity` `{"capacity":3}` | its own capacity (1–1000), overriding the configuration in every workstream; `null` returns to it |
//! | `GET /api/agent/queues` | the queues listing it, per workstream, and whether it works each (`joined`) |
//! | `POST /api/agent/queues/{queue}/join`, `.../leave` | signs in to or out of one of its queues (`404` for another) |
//! | `GET /api/agent/conversations` | the open conversations of the agent's queues and its own (`offered_to`: the agent an offer waits on) |
//! | `GET /api/agent/conversations/{id}` | one, with the context variables the agent may see and the transcript |
//! | `POST .../{id}/accept` | accepts the conversation offered to it, or takes one waiting in one of its queues (or confirms one assigned to it) |
//! | `POST .../{id}/decline` | declines the conversation offered to it: it goes to the next agent, never back to this one |
//! | `POST .../{id}/messages` `{"text","attachments"}` | to the customer (attachments where the workstream allows) |
//! | `POST .../{id}/transfer` `{"queue"}` | to another queue |
//! | `POST .../{id}/end`, `POST .../{id}/wrap-up` `{"notes"}` | ends, then closes |
//! | `GET /api/agent/events` | server-sent events: offers (with `expires_at`) and their withdrawal, assignments, waiting conversations, customer messages, refusals |
//!
//! # Offers
//!
//! A queue configured with `offer = { timeout = "30s" }` offers each conversation to one
//! agent at a time (the one its assignment method ranks first, with room for it): the
//! agent's event stream gets a `notice` whose `event` is `{"offered": {"expires_at":
//! ...}}`, and the conversation lists `offered_to`. The agent accepts (it joins the
//! conversation, the customer gets the `agent_joined` message) or declines; an offer not
//! answered by `expires_at` is withdrawn (`"offer_withdrawn"`) and made to the next agent,
//! never again to one who declined or let it time out. After the queue's `offers_failed`
//! overflow limit, its overflow applies. Queues without `offer` assign at once, as before
//! (the agent's `accept` then confirms). Coming online (`PUT /api/agent/presence`) and
//! finishing a conversation re-evaluate the conversations waiting in the agent's queues,
//! highest priority first.
//!
//! # Queues and capacity
//!
//! An agent works every queue that lists it until it leaves one (as an Omni-Channel agent
//! picks the presence status whose queues it takes work from): out of a queue, it is
//! offered and assigned nothing from it, and the offers that queue had made to it are given
//! back (`offers_released`: each goes to the next agent; unlike a decline it is no failed
//! offer, and the agent may be offered the conversation again once it rejoins). Going
//! away, do-not-disturb or offline gives back every offer it has not answered, the way
//! Omni-Channel re-routes work pending for an agent who goes offline. Joining again
//! re-evaluates the conversations waiting there. It still sees that queue's conversations.
//! Its own capacity overrides the workstreams': a member's `capacity` (conversations at
//! once), or the `units` of its capacity profile (the profile's costs and per-kind limits
//! stay). Both are stored and survive a restart.
//!
//! # Returning customers
//!
//! A customer's new conversation on a channel carries the customer fact `last_agent`: the
//! human agent who last worked with them there. A routing rule with
//! `preferred_agent = { from = "customer.last_agent", wait = "2m" }` offers it to that agent
//! first, or waits for them up to `wait` before the rest of the queue. (`last_agent = true`
//! names the conversation's own most recent agent, for a conversation routed again; a new
//! conversation has none.)
//!
//! An agent sees only the conversations of its own queues (and those it holds): anything
//! else answers `403`. Actions are persisted in the conversation's inbox and processed in
//! order with its other events (`202 Accepted`); an `Idempotency-Key` header makes a
//! retried action count once. Passwords are checked against argon2 hashes; session tokens
//! are stored as SHA-256 digests.

use std::convert::Infallible;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use byoc_core::Attachment;
use byoc_core::workstream::Presence;
use chrono::Utc;
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::json;
use sha2::Digest as _;

use crate::http::{AppState, json_error};
use crate::model::{AgentAction, ConversationRecord, InboxEvent};
use crate::store::NewInbound;

mod desk;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/agent/sign-in", post(sign_in))
        .route("/api/agent/sign-out", post(sign_out))
        .route("/api/agent/me", get(desk::me))
        .route("/api/agent/presence", put(presence))
        .route("/api/agent/capacity", put(desk::capacity))
        .route("/api/agent/queues", get(desk::queues))
        .route("/api/agent/queues/{queue}/join", post(desk::join))
        .route("/api/agent/queues/{queue}/leave", post(desk::leave))
        .route("/api/agent/conversations", get(list))
        .route("/api/agent/conversations/{id}", get(detail))
        .route("/api/agent/conversations/{id}/accept", post(accept))
        .route("/api/agent/conversations/{id}/decline", post(decline))
        .route("/api/agent/conversations/{id}/messages", post(message))
        .route("/api/agent/conversations/{id}/transfer", post(transfer))
        .route("/api/agent/conversations/{id}/end", post(end))
        .route("/api/agent/conversations/{id}/wrap-up", post(wrap_up))
        .route("/api/agent/events", get(events))
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub(crate) fn hash_password(password: &str) -> Result<String, ()> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ())
}

fn token_hash(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The signed-in agent, or the answer refusing the request.
async fn agent_of(shared: &AppState, headers: &http::HeaderMap) -> Result<String, Response> {
    let Some(token) = bearer(headers) else {
        return Err(json_error(StatusCode::UNAUTHORIZED, "sign in first"));
    };
    match shared
        .store
        .session_agent(&token_hash(token), Utc::now())
        .await
    {
        Ok(Some(agent)) => Ok(agent),
        Ok(None) => Err(json_error(
            StatusCode::UNAUTHORIZED,
            "session expired or unknown",
        )),
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            Err(json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "store unavailable",
            ))
        }
    }
}

#[derive(Deserialize)]
struct SignIn {
    agent: String,
    password: String,
}

async fn sign_in(State(shared): State<AppState>, axum::Json(body): axum::Json<SignIn>) -> Response {
    let refused = || json_error(StatusCode::UNAUTHORIZED, "unknown agent or wrong password");
    let Some(hash) = shared.passwords.get(&body.agent).cloned() else {
        return refused();
    };
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    if !ok {
        tracing::info!(agent = %body.agent, "agent sign-in refused");
        return refused();
    }
    let mut raw = [0u8; 32];
    rand::Rng::fill(&mut rand::thread_rng(), &mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let ttl = chrono::Duration::from_std(shared.config.server.session_ttl)
        .unwrap_or(chrono::Duration::hours(8));
    let expires_at = Utc::now() + ttl;
    if let Err(e) = shared
        .store
        .create_session(&token_hash(&token), &body.agent, expires_at)
        .await
    {
        tracing::error!(error = %e, "session not stored");
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
    }
    tracing::info!(agent = %body.agent, "agent signed in");
    axum::Json(json!({
        "token": token,
        "expires_at": expires_at,
        "agent": body.agent,
        "queues": shared.agent_queues(&body.agent),
    }))
    .into_response()
}

async fn sign_out(State(shared): State<AppState>, headers: http::HeaderMap) -> Response {
    if let Some(token) = bearer(&headers) {
        let _ = shared.store.delete_session(&token_hash(token)).await;
    }
    StatusCode::NO_CONTENT.into_response()
}

fn agent_name(shared: &AppState, agent: &str) -> String {
    shared
        .config
        .agents
        .iter()
        .find(|a| a.id == agent)
        .and_then(|a| a.name.clone())
        .unwrap_or_else(|| agent.to_owned())
}

#[derive(Deserialize)]
struct PresenceBody {
    presence: Presence,
}

async fn presence(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    axum::Json(body): axum::Json<PresenceBody>,
) -> Response {
    let agent = match agent_of(&shared, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(e) = shared
        .store
        .set_agent_presence(&agent, body.presence, Utc::now())
        .await
    {
        tracing::error!(error = %e, "presence not stored");
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
    }
    let offers = {
        let mut routing = shared.routing();
        routing.set_presence(&agent, body.presence, Utc::now());
        if body.presence.accepts_work() {
            Vec::new()
        } else {
            routing.offers_to(&agent, None)
        }
    };
    // Going away gives back the offers it has not answered (they go to the next agent);
    // coming online (or back from away) may serve conversations waiting in its queues.
    desk::release_offers(&shared, &agent, &offers).await;
    shared.routing_wake.notify_one();
    tracing::info!(%agent, presence = ?body.presence, "presence changed");
    axum::Json(json!({ "presence": body.presence })).into_response()
}

fn summary(shared: &AppState, rec: &ConversationRecord) -> serde_json::Value {
    let c = &rec.conversation;
    let offered_to = shared.routing().offered_to(&rec.workstream, &c.id);
    json!({
        "id": c.id,
        "channel": c.channel_id,
        "state": c.state,
        "queue": c.queue,
        "owner": c.owner,
        "accepted": rec.accepted,
        "offered_to": offered_to,
        "customer": { "id": c.customer.id, "name": c.customer.name },
        "created_at": c.created_at,
        "last_activity_at": c.last_activity_at,
    })
}

fn can_see(shared: &AppState, agent: &str, rec: &ConversationRecord) -> bool {
    let c = &rec.conversation;
    if c.owner.agent() == Some(agent) {
        return true;
    }
    c.owner.bot().is_none()
        && c.queue
            .as_ref()
            .is_some_and(|q| shared.agent_queues(agent).contains(q))
}

async fn list(State(shared): State<AppState>, headers: http::HeaderMap) -> Response {
    let agent = match agent_of(&shared, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match shared
        .store
        .open_conversations(&shared.agent_queues(&agent), &agent)
        .await
    {
        Ok(rows) => {
            let list: Vec<_> = rows.iter().map(|r| summary(&shared, &r.record)).collect();
            axum::Json(json!({ "conversations": list })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "conversations not listed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

/// The conversation, when this agent may see it.
async fn visible(
    shared: &AppState,
    headers: &http::HeaderMap,
    id: &str,
) -> Result<(String, ConversationRecord), Response> {
    let agent = agent_of(shared, headers).await?;
    match shared.store.conversation(id).await {
        Ok(Some(rec)) if can_see(shared, &agent, &rec) => Ok((agent, rec)),
        Ok(Some(_)) => {
            tracing::info!(%agent, conversation = %id, "agent refused a conversation outside its queues");
            Err(json_error(
                StatusCode::FORBIDDEN,
                "this conversation is not in your queues",
            ))
        }
        Ok(None) => Err(json_error(StatusCode::NOT_FOUND, "no such conversation")),
        Err(e) => {
            tracing::error!(error = %e, "conversation not read");
            Err(json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "store unavailable",
            ))
        }
    }
}

async fn detail(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (_, rec) = match visible(&shared, &headers, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let transcript = match shared.store.transcript(&id).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "transcript not read");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
        }
    };
    let context: serde_json::Map<String, serde_json::Value> = rec
        .conversation
        .displayable_context()
        .map(|(k, v)| {
            (
                k.to_owned(),
                serde_json::to_value(&v.value).unwrap_or_default(),
            )
        })
        .collect();
    let mut body = summary(&shared, &rec);
    body["context"] = serde_json::Value::Object(context);
    body["transcript"] = serde_json::to_value(&transcript).unwrap_or_default();
    axum::Json(body).into_response()
}

async fn act(
    shared: AppState,
    headers: http::HeaderMap,
    id: String,
    action: AgentAction,
) -> Response {
    let (agent, rec) = match visible(&shared, &headers, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let dedupe = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("{agent}:{k}"));
    let name = action.name();
    let event = InboxEvent::Agent {
        conversation: id.clone(),
        agent,
        action,
    };
    match shared
        .store
        .accept_inbound(
            vec![NewInbound::new("agent", dedupe, rec.key.clone(), event)],
            None,
        )
        .await
    {
        Ok(_) => {
            shared.dispatcher.wake(&rec.key);
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({ "conversation": id, "action": name, "status": "queued" })),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "agent action not persisted");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

async fn accept(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    act(shared, headers, id, AgentAction::Accept).await
}

async fn decline(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    act(shared, headers, id, AgentAction::Decline).await
}

#[derive(Deserialize)]
struct MessageBody {
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

async fn message(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<MessageBody>,
) -> Response {
    if body.text.as_deref().is_none_or(str::is_empty) && body.attachments.is_empty() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "`text` or `attachments` is required",
        );
    }
    act(
        shared,
        headers,
        id,
        AgentAction::Message {
            text: body.text,
            attachments: body.attachments,
        },
    )
    .await
}

#[derive(Deserialize)]
struct TransferBody {
    queue: String,
}

async fn transfer(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<TransferBody>,
) -> Response {
    act(
        shared,
        headers,
        id,
        AgentAction::Transfer { queue: body.queue },
    )
    .await
}

async fn end(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    act(shared, headers, id, AgentAction::End).await
}

#[derive(Deserialize, Default)]
struct WrapUpBody {
    notes: Option<String>,
}

async fn wrap_up(
    State(shared): State<AppState>,
    headers: http::HeaderMap,
    Path(id): Path<String>,
    body: Option<axum::Json<WrapUpBody>>,
) -> Response {
    let notes = body.map(|b| b.0.notes).unwrap_or_default();
    act(shared, headers, id, AgentAction::WrapUp { notes }).await
}

async fn events(State(shared): State<AppState>, headers: http::HeaderMap) -> Response {
    let agent = match agent_of(&shared, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let queues = shared.agent_queues(&agent);
    let rx = shared.notices.subscribe();
    let stream = tokio_stream::wrappers::BroadcastStream::new(rx).filter_map(move |n| {
        let out = match n {
            Ok(n) => {
                let mine = n.agent.as_deref() == Some(agent.as_str())
                    || (n.agent.is_none() && n.queue.as_ref().is_some_and(|q| queues.contains(q)));
                mine.then(|| Event::default().event("notice").json_data(&n).ok())
                    .flatten()
            }
            Err(_) => Some(
                Event::default()
                    .event("lagged")
                    .data("some notices were missed; refetch"),
            ),
        };
        futures_util::future::ready(out.map(Ok::<_, Infallible>))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
