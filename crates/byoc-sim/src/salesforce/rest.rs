//! The router of the REST side (token endpoint, identity, query, Interaction Service,
//! control endpoints), the token endpoint, and the checks every Interaction Service call
//! shares.

// Handlers answer early with a ready `Response`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::endpoints::{
    acknowledgement, agent_work, capabilities, consent, conversation, delete_route,
    messaging_session, participant, patch_agent_work, route, routing_result,
};
use super::interactions::{MAX_FILE, interactions};
use super::{Recorded, Shared, identity, lock, soql};

type S = State<Arc<Shared>>;

pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/services/oauth2/token", post(token))
        .route(
            "/.well-known/openid-configuration",
            get(identity::openid_configuration),
        )
        .route("/id/keys", get(identity::keys))
        .route("/services/Soap/u/{version}", post(identity::soap_login))
        .route("/services/data/{version}/query", get(soql::query))
        .route("/services/data/{version}/query/", get(soql::query))
        .route(
            "/services/data/{version}/sobjects/{object}/describe",
            get(soql::describe),
        )
        .route("/api/v1/interactions", post(interactions))
        .route("/api/v1/acknowledgement", post(acknowledgement))
        .route("/api/v1/conversation", post(conversation))
        .route("/api/v1/messagingSession", post(messaging_session))
        .route("/api/v1/participant", post(participant))
        .route("/api/v1/consent", patch(consent))
        .route("/api/v1/capabilities", patch(capabilities))
        .route("/api/v1/route", post(route).delete(delete_route))
        .route(
            "/api/v1/agentWork",
            post(agent_work).patch(patch_agent_work),
        )
        .route("/api/v1/routingResult", post(routing_result))
        .route("/__sim/{action}", post(control))
        .layer(DefaultBodyLimit::max(MAX_FILE + 1024 * 1024))
        .with_state(shared)
}

pub(crate) fn err(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

pub(crate) fn bad(code: u32, message: &str) -> Response {
    err(StatusCode::BAD_REQUEST, code, message)
}

async fn token(State(sh): S, body: Bytes) -> Response {
    let oauth = |e: &str, d: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e, "error_description": d})),
        )
            .into_response()
    };
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return oauth("invalid_request", "body is not a form");
    };
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("grant_type") != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth("unsupported_grant_type", "grant type not supported");
    }
    let Some(assertion) = get("assertion") else {
        return oauth("invalid_request", "missing assertion");
    };
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // The configured audience (`login.salesforce.com`, ...) and the org's own login URL.
    v.set_audience(&[sh.audience.as_str(), sh.instance_url.as_str()]);
    v.set_issuer(&[sh.cfg.consumer_key.as_str()]);
    v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    v.leeway = 0;
    #[derive(serde::Deserialize)]
    struct Claims {
        sub: String,
        exp: i64,
    }
    let data = match jsonwebtoken::decode::<Claims>(assertion, &sh.key, &v) {
        Ok(d) => d,
        Err(e) => {
            use jsonwebtoken::errors::ErrorKind;
            let d = match e.kind() {
                ErrorKind::ExpiredSignature => "expired authorization code",
                ErrorKind::InvalidIssuer => "client identifier invalid",
                ErrorKind::InvalidAudience => "audience is invalid",
                // Salesforce answers a signature that the certificate does not verify
                // with its generic "invalid assertion".
                _ => "invalid assertion",
            };
            return oauth("invalid_grant", d);
        }
    };
    if data.claims.sub != sh.cfg.username {
        return oauth("invalid_grant", "user hasn't approved this consumer");
    }
    // Salesforce takes `exp` in seconds, at most 3 minutes ahead (milliseconds would be far
    // in the future and are refused here).
    if data.claims.exp > chrono::Utc::now().timestamp() + 180 + 5 {
        return oauth("invalid_grant", "expiration too far in the future");
    }
    let token = sh.issue_token();
    sh.tokens_issued
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Json(json!({
        "access_token": token, "scope": "interaction_api", "instance_url": sh.instance_url,
        "id": format!("{}/id/{}/{}", sh.instance_url, sh.cfg.org_id, identity::USER_ID),
        "token_type": "Bearer", "issued_at": chrono::Utc::now().timestamp_millis().to_string()
    }))
    .into_response()
}

/// The header checks every `/api/v1` call passes; returns the RequestId.
pub(crate) fn check_headers(
    sh: &Shared,
    h: &HeaderMap,
    context_type: bool,
) -> Result<String, Response> {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    let token = get("authorization").and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(t) if lock(&sh.tokens).contains_key(t) => {}
        _ => {
            return Err(err(
                StatusCode::UNAUTHORIZED,
                10004,
                "The supplied Authorization access token is not valid.",
            ));
        }
    }
    if get("orgid") != Some(sh.cfg.org_id.as_str()) {
        return Err(bad(10016, "Invalid header: OrgId"));
    }
    if get("authorizationcontext") != Some(sh.cfg.authorization_context.as_str()) {
        return Err(err(
            StatusCode::FORBIDDEN,
            10005,
            "AuthorizationContext is not valid for this token",
        ));
    }
    let rid = get("requestid").unwrap_or_default();
    if uuid::Uuid::parse_str(rid).is_err() {
        return Err(bad(10016, "Invalid header: RequestId must be a UUID"));
    }
    if context_type {
        match get("authorizationcontexttype") {
            Some(
                "ConversationChannelDefinition"
                | "EmbeddedMessagingChannel"
                | "ExternalConversationParticipant",
            ) => {}
            _ => return Err(bad(10093, "Invalid AuthorizationContextType")),
        }
    }
    Ok(rid.to_owned())
}

pub(crate) fn record(
    sh: &Shared,
    method: &str,
    path: &str,
    json: Value,
    attachment: Option<(String, String, usize)>,
    rid: String,
) {
    lock(&sh.recorded).push(Recorded {
        method: method.into(),
        path: path.into(),
        json,
        attachment,
        request_id: rid,
    });
}

pub(crate) fn json_body(h: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
    let ct = h
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.starts_with("application/json") {
        return Err(bad(10016, "Content-Type must be application/json"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(bad(10045, "Invalid request body")),
    }
}

pub(crate) fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

async fn control(State(sh): S, Path(action): Path<String>, Json(v): Json<Value>) -> Response {
    let user = s(&v, "endUser").unwrap_or("15555550123").to_owned();
    let sim = super::SalesforceSim {
        url: String::new(),
        pubsub_url: String::new(),
        faults: crate::fault::Faults::new(),
        shared: sh,
        tasks: Vec::new(),
    };
    let r = match action.as_str() {
        "agent_says" => sim.agent_says(
            &user,
            s(&v, "userId").unwrap_or("0055g00000Jk7Qp"),
            s(&v, "name").unwrap_or("Grace Liu"),
            s(&v, "text").unwrap_or("Hello"),
        ),
        "bot_escalates" => sim.bot_escalates(&user, s(&v, "flowId"), s(&v, "userId")),
        "agent_joins" => sim.agent_joins(
            &user,
            s(&v, "userId").unwrap_or("0055g00000Jk7Qp"),
            s(&v, "name").unwrap_or("Grace Liu"),
        ),
        "end_session" => sim.end_session(&user),
        "agent_typing" => sim.agent_typing(
            &user,
            &super::SimSender::agent(
                s(&v, "userId").unwrap_or("0055g00000Jk7Qp"),
                s(&v, "name").unwrap_or("Grace Liu"),
            ),
            v.get("stopped").and_then(Value::as_bool) != Some(true),
        ),
        "agent_leaves" => sim.agent_leaves(
            &user,
            s(&v, "userId").unwrap_or("0055g00000Jk7Qp"),
            s(&v, "name").unwrap_or("Grace Liu"),
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match r {
        Ok(id) => Json(json!({"id": id})).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
