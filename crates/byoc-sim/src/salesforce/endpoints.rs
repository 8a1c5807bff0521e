//! The Interaction Service's JSON endpoints: acknowledgements, conversations, sessions,
//! participants, consent, capabilities, routing and agent work, each with the fields the
//! documentation requires and the error codes it answers.

// Handlers answer early with a ready `Response`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::rest::{bad, check_headers, err, json_body, record, s};
use super::{Shared, lock};

type S = State<Arc<Shared>>;

macro_rules! json_handler {
    ($name:ident, $method:literal, $path:literal, $ctx:expr, $status:expr, |$sh:ident, $v:ident| $check:block) => {
        pub(crate) async fn $name(State($sh): S, h: HeaderMap, body: Bytes) -> Response {
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

/// Whether `v` is a participant (`appType`, `subject`, `role`).
fn is_participant(v: &Value) -> bool {
    ["appType", "subject", "role"]
        .iter()
        .all(|k| s(v, k).is_some())
}

/// One acknowledgement with every field the schema requires (`acknowledgementTimestamp`
/// is a string in the schema and a number in Salesforce's samples: both are accepted).
fn acknowledgement_entry(a: &Value) -> bool {
    let timestamp = a
        .get("acknowledgementTimestamp")
        .is_some_and(|t| t.is_i64() || t.is_u64() || s(a, "acknowledgementTimestamp").is_some());
    timestamp
        && matches!(s(a, "acknowledgementType"), Some("Read" | "Delivered"))
        && s(a, "acknowledgedConversationEntryIdentifier").is_some()
        && s(a, "acknowledgmentCreatedConversationEntryIdentifier").is_some()
}

json_handler!(
    acknowledgement,
    "POST",
    "/api/v1/acknowledgement",
    false,
    StatusCode::OK,
    |sh, v| {
        let list = v.get("acknowledgements").and_then(Value::as_array);
        let n = list.map_or(0, Vec::len);
        if n == 0 || n > 25 {
            return bad(10045, "1 to 25 acknowledgements per request");
        }
        if !v.get("sender").is_some_and(is_participant) {
            return bad(10045, "sender (appType, subject, role) is required");
        }
        if !list.into_iter().flatten().all(acknowledgement_entry) {
            return bad(
                10045,
                "each acknowledgement needs acknowledgementTimestamp, acknowledgementType \
                 (Read or Delivered), acknowledgedConversationEntryIdentifier and \
                 acknowledgmentCreatedConversationEntryIdentifier",
            );
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
        if !matches!(s(&v, "routingType"), Some("Initial" | "Transfer")) {
            return bad(10045, "routingType (Initial or Transfer) is required");
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
        // `cancelReason` is optional (the schema requires only the conversation); when
        // given it must be one of the reasons.
        match v.get("cancelReason") {
            None | Some(Value::Null) => {}
            Some(_) => match s(&v, "cancelReason") {
                Some("Unknown" | "Unavailable" | "Decline" | "Cancel") => {}
                _ => return bad(10076, "Invalid cancelReason"),
            },
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
        // An empty `errorMessage` counts as none: Salesforce's own demo connector sends
        // the field on every result, empty on success.
        match (success, s(&v, "errorMessage").is_some()) {
            (false, false) => return bad(10033, "errorMessage is required when success is false"),
            (true, true) => return bad(10034, "errorMessage is not allowed when success is true"),
            _ => {}
        }
        known_conversation(&sh, &v).map(|()| json!({"success": true}))
    }
);
