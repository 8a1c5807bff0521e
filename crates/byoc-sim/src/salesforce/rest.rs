//! The token endpoint, the Interaction Service REST API and the control endpoints.

// Handlers answer early with a ready `Response`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::{Recorded, Shared, lock};

type S = State<Arc<Shared>>;

const MAX_FILE: usize = 25 * 1024 * 1024;
const MIME_TYPES: [&str; 13] = [
    "image/jpeg",
    "image/gif",
    "image/bmp",
    "image/png",
    "application/pdf",
    "video/3gpp2",
    "audio/3gpp2",
    "video/3gpp",
    "audio/3gpp",
    "video/mpeg",
    "audio/mpeg",
    "video/mp4",
    "audio/mp4",
];

pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/services/oauth2/token", post(token))
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

fn err(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

fn bad(code: u32, message: &str) -> Response {
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
    v.set_audience(&[sh.audience.as_str()]);
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
    let token = format!("{}!{}", sh.cfg.org_id, uuid::Uuid::new_v4().simple());
    lock(&sh.tokens).insert(token.clone(), ());
    sh.tokens_issued
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Json(json!({
        "access_token": token, "scope": "interaction_api", "instance_url": sh.instance_url,
        "id": format!("{}/id/{}/0055g00000Ab1CdEAF", sh.instance_url, sh.cfg.org_id),
        "token_type": "Bearer", "issued_at": chrono::Utc::now().timestamp_millis().to_string()
    }))
    .into_response()
}

/// The header checks every `/api/v1` call passes; returns the RequestId.
fn check_headers(sh: &Shared, h: &HeaderMap, context_type: bool) -> Result<String, Response> {
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

fn record(
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

fn json_body(h: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
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

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

async fn interactions(State(sh): S, h: HeaderMap, body: Bytes) -> Response {
    let rid = match check_headers(&sh, &h, false) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let ct = h
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Ok(boundary) = multer::parse_boundary(ct) else {
        return bad(10016, "Content-Type must be multipart/form-data");
    };
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut json_part: Option<Value> = None;
    let mut files: Vec<(String, String, usize)> = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return bad(10029, "Invalid multipart body"),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let mime = field.content_type().map(|m| m.essence_str().to_owned());
        let Ok(data) = field.bytes().await else {
            return bad(10029, "Invalid multipart body");
        };
        match name.as_str() {
            "json" => match serde_json::from_slice::<Value>(&data) {
                Ok(v) => json_part = Some(v),
                Err(_) => return bad(10045, "Invalid interaction JSON"),
            },
            "attachments" => {
                if data.len() > MAX_FILE {
                    return bad(10008, "Attachment exceeds 25 MB");
                }
                let mime = mime.unwrap_or_default();
                if !MIME_TYPES.contains(&mime.as_str()) {
                    return bad(
                        10095,
                        "Attachment MIME type cannot be determined or is not allowed",
                    );
                }
                files.push((file_name.unwrap_or_default(), mime, data.len()));
            }
            _ => return bad(10029, "Unknown multipart part"),
        }
    }
    let Some(req) = json_part else {
        return bad(10029, "Missing json part");
    };
    if s(&req, "to") != Some(sh.cfg.channel_address.as_str()) {
        return bad(10017, "channelAddressIdentifier does not exist");
    }
    let Some(from) = s(&req, "from").filter(|f| f.chars().count() <= 255) else {
        return bad(10028, "Invalid from");
    };
    let list = req.get("interactions").and_then(Value::as_array);
    let Some([it]) = list.map(Vec::as_slice) else {
        return bad(10029, "Exactly one interaction is required");
    };
    if it
        .get("timestamp")
        .and_then(Value::as_i64)
        .is_none_or(|t| t < 1_000_000_000_000)
    {
        return bad(10046, "Invalid timestamp (epoch milliseconds)");
    }
    let entry_id;
    match s(it, "interactionType") {
        Some("EntryInteraction") => {
            if !files.is_empty() {
                return bad(10011, "Attachments do not match AttachmentInteractions");
            }
            let p = it.get("payload").cloned().unwrap_or(Value::Null);
            let Some(id) = s(&p, "id") else {
                return bad(10059, "Interaction ID or Message ID is empty");
            };
            entry_id = id.to_owned();
            match s(&p, "entryType") {
                Some("Message") => {
                    let m = p.get("abstractMessage").cloned().unwrap_or(Value::Null);
                    if s(&m, "id") != Some(id) {
                        return bad(10060, "Interaction ID and Message ID are mismatched");
                    }
                    if s(&m, "messageType") != Some("StaticContentMessage") {
                        return bad(10047, "Invalid messageType");
                    }
                    let sc = m.get("staticContent").cloned().unwrap_or(Value::Null);
                    if s(&sc, "formatType") != Some("Text") || s(&sc, "text").is_none() {
                        return bad(10048, "Invalid formatType or text");
                    }
                }
                Some("TypingStartedIndicator" | "TypingStoppedIndicator") => {
                    if p.get("timestamp").and_then(Value::as_i64).is_none() {
                        return bad(10045, "Invalid entry format: timestamp required");
                    }
                }
                Some("MessageDeliveryFailed") => {
                    let r = p.get("recipient").cloned().unwrap_or(Value::Null);
                    if s(&r, "appType") != Some("custom") || s(&r, "role") != Some("EndUser") {
                        return bad(10045, "recipient must be appType custom, role EndUser");
                    }
                    if s(&p, "errorCode").is_none()
                        || s(&p, "failedConversationEntryIdentifier").is_none()
                    {
                        return bad(
                            10045,
                            "errorCode and failedConversationEntryIdentifier required",
                        );
                    }
                }
                _ => return bad(10045, "Invalid entryType"),
            }
        }
        Some("AttachmentInteraction") => {
            let Some(id) = s(it, "id") else {
                return bad(10059, "Interaction ID is empty");
            };
            entry_id = id.to_owned();
            if files.len() != 1 || it.get("attachmentIndex").and_then(Value::as_u64) != Some(0) {
                return bad(10011, "Attachments do not match AttachmentInteractions");
            }
            if it.get("contentLength").and_then(Value::as_u64) != Some(files[0].2 as u64) {
                return bad(10051, "contentLength does not match the file size");
            }
        }
        _ => return bad(10029, "Invalid interactionType"),
    }
    let conv = sh.conversation(from);
    let attachment = files.into_iter().next();
    record(&sh, "POST", "/api/v1/interactions", req, attachment, rid);
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "conversationIdentifier": conv.conversation_identifier,
            "id": entry_id,
            "workItemIds": [conv.work_item_id],
            "success": true
        })),
    )
        .into_response()
}

macro_rules! json_handler {
    ($name:ident, $method:literal, $path:literal, $ctx:expr, $status:expr, |$sh:ident, $v:ident| $check:block) => {
        async fn $name(State($sh): S, h: HeaderMap, body: Bytes) -> Response {
            let rid = match check_headers(&$sh, &h, $ctx) {
                Ok(r) => r,
                Err(r) => return r,
            };
            let $v = match json_body(&h, &body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let answer: Result<Value, Response> = $check;
            match answer {
                Ok(out) => {
                    record(&$sh, $method, $path, $v, None, rid);
                    ($status, Json(out)).into_response()
                }
                Err(r) => r,
            }
        }
    };
}

fn known_conversation(sh: &Shared, v: &Value) -> Result<(), Response> {
    let c = s(v, "conversationIdentifier").unwrap_or_default();
    if lock(&sh.conversations)
        .values()
        .any(|x| x.conversation_identifier == c)
    {
        Ok(())
    } else {
        Err(err(StatusCode::NOT_FOUND, 10025, "Conversation not found"))
    }
}

json_handler!(
    acknowledgement,
    "POST",
    "/api/v1/acknowledgement",
    false,
    StatusCode::OK,
    |sh, v| {
        let n = v
            .get("acknowledgements")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if n == 0 || n > 25 {
            return bad(10045, "1 to 25 acknowledgements per request");
        }
        known_conversation(&sh, &v).map(|()| json!({"success": true}))
    }
);

json_handler!(
    conversation,
    "POST",
    "/api/v1/conversation",
    false,
    StatusCode::ACCEPTED,
    |sh, v| {
        if s(&v, "channelAddressIdentifier") != Some(sh.cfg.channel_address.as_str()) {
            return bad(10017, "channelAddressIdentifier does not exist");
        }
        let p = v.get("participants").and_then(Value::as_array);
        let Some([one]) = p.map(Vec::as_slice) else {
            return bad(10042, "Exactly one participant is required");
        };
        let c = sh.conversation(s(one, "subject").unwrap_or_default());
        Ok(
            json!({"conversationIdentifier": c.conversation_identifier, "messagingSessionId": c.work_item_id, "success": true}),
        )
    }
);

json_handler!(
    messaging_session,
    "POST",
    "/api/v1/messagingSession",
    false,
    StatusCode::OK,
    |sh, v| {
        match s(&v, "operation") {
            Some("End") => {}
            Some("Inactivate") if s(&v, "sessionId").is_some() => {}
            Some("Inactivate") => return bad(10106, "sessionId is required for Inactivate"),
            _ => return bad(10045, "Invalid operation"),
        }
        known_conversation(&sh, &v).map(|()| json!({"success": true}))
    }
);

json_handler!(
    participant,
    "POST",
    "/api/v1/participant",
    false,
    StatusCode::OK,
    |sh, v| {
        let n = v
            .get("participants")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if n != 1 || s(&v, "operation") != Some("Remove") {
            return bad(10045, "One participant, operation Remove");
        }
        known_conversation(&sh, &v).map(|()| json!({"success": true}))
    }
);

json_handler!(
    consent,
    "PATCH",
    "/api/v1/consent",
    false,
    StatusCode::OK,
    |sh, v| {
        match s(&v, "consentStatus") {
            Some("OptedOut" | "ImplicitlyOptedIn" | "ExplicitlyOptedIn" | "DoublyOptedIn") => {}
            _ => return bad(10045, "Invalid consentStatus"),
        }
        let _ = &sh;
        Ok(json!({"success": true}))
    }
);

json_handler!(
    capabilities,
    "PATCH",
    "/api/v1/capabilities",
    false,
    StatusCode::OK,
    |sh, v| {
        let _ = &sh;
        if v.get("capabilities").is_none() {
            return bad(10045, "capabilities required");
        }
        Ok(json!({"success": true}))
    }
);

json_handler!(
    route,
    "POST",
    "/api/v1/route",
    false,
    StatusCode::ACCEPTED,
    |sh, v| {
        if let Err(r) = known_conversation(&sh, &v) {
            return r;
        }
        if let Some(info) = v.get("routingInfo") {
            match (info.get("flow"), info.get("queueId")) {
                (Some(f), None) if s(f, "flowId").is_some() && s(f, "queueId").is_some() => {}
                (Some(_), None) => return bad(10024, "Flow routing needs flowId and queueId"),
                (None, Some(_)) => {}
                _ => return bad(10030, "Specify either a flow or a queue"),
            }
        }
        let c = s(&v, "conversationIdentifier").unwrap_or_default();
        let work = lock(&sh.conversations)
            .values()
            .find(|x| x.conversation_identifier == c)
            .map(|x| x.work_item_id.clone());
        Ok(
            json!({"success": true, "psrId": "0JR5g000000PsR1", "workItemId": work,
              "routingCorrelationId": uuid::Uuid::new_v4().to_string()}),
        )
    }
);

json_handler!(
    delete_route,
    "DELETE",
    "/api/v1/route",
    false,
    StatusCode::ACCEPTED,
    |sh, v| {
        match s(&v, "cancelReason") {
            Some("Unknown" | "Unavailable" | "Decline" | "Cancel") => {}
            _ => return bad(10076, "Invalid cancelReason"),
        }
        known_conversation(&sh, &v).map(|()| json!({"success": true}))
    }
);

json_handler!(
    agent_work,
    "POST",
    "/api/v1/agentWork",
    false,
    StatusCode::ACCEPTED,
    |sh, v| {
        let _ = &sh;
        if s(&v, "userId").is_none() {
            return bad(10045, "userId required");
        }
        if s(&v, "workItemId").is_none_or(|w| w.len() != 15) {
            return bad(15102, "workItemId must be 15 characters");
        }
        if v.get("capacityWeight").is_some() && v.get("capacityPercentage").is_some() {
            return bad(10013, "Use capacityWeight or capacityPercentage, not both");
        }
        let id = "0Bz5g000000AgW1";
        Ok(json!({"id": id, "agentWorkId": id, "success": true}))
    }
);

json_handler!(
    patch_agent_work,
    "PATCH",
    "/api/v1/agentWork",
    true,
    StatusCode::ACCEPTED,
    |sh, v| {
        let _ = &sh;
        if s(&v, "workId").is_none() || s(&v, "status").is_none() {
            return bad(10045, "workId and status required");
        }
        Ok(json!({"success": true}))
    }
);

json_handler!(
    routing_result,
    "POST",
    "/api/v1/routingResult",
    false,
    StatusCode::ACCEPTED,
    |sh, v| {
        let success = v.get("success").and_then(Value::as_bool);
        let Some(success) = success else {
            return bad(10045, "success required");
        };
        if s(&v, "workItemId").is_none()
            || v.get("externallyRouted").and_then(Value::as_bool).is_none()
        {
            return bad(10045, "workItemId and externallyRouted required");
        }
        match (success, v.get("errorMessage").is_some()) {
            (false, false) => return bad(10033, "errorMessage is required when success is false"),
            (true, true) => return bad(10034, "errorMessage is not allowed when success is true"),
            _ => {}
        }
        known_conversation(&sh, &v).map(|()| json!({"success": true}))
    }
);

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
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match r {
        Ok(id) => Json(json!({"id": id})).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
