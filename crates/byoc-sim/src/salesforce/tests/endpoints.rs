//! The JSON endpoints: their required and optional fields and error codes.

use http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

use super::*;

#[tokio::test]
async fn json_endpoint_codes() {
    let sh = shared(SimConfig::default());
    let t = token(&sh).await;
    let conv = sh.conversation("15555550123");
    let c = conv.conversation_identifier.clone();
    let bad = StatusCode::BAD_REQUEST;
    let ack = json!({"acknowledgementTimestamp": 1, "acknowledgementType": "Read",
        "acknowledgedConversationEntryIdentifier": "e", "acknowledgmentCreatedConversationEntryIdentifier": "n"});
    let cases: Vec<(&'static str, &'static str, Value, StatusCode, u32)> = vec![
        (
            "POST",
            "/api/v1/acknowledgement",
            json!({"conversationIdentifier": c, "acknowledgements": vec![ack.clone(); 26]}),
            bad,
            10045,
        ),
        (
            "POST",
            "/api/v1/acknowledgement",
            json!({"conversationIdentifier": "nope", "acknowledgements": [ack],
                "sender": {"appType": "custom", "subject": "15555550123", "role": "EndUser"}}),
            StatusCode::NOT_FOUND,
            10025,
        ),
        (
            "POST",
            "/api/v1/conversation",
            json!({"channelAddressIdentifier": "other", "participants": []}),
            bad,
            10017,
        ),
        (
            "POST",
            "/api/v1/conversation",
            json!({"channelAddressIdentifier": TEST_CHANNEL_ADDRESS, "participants": []}),
            bad,
            10042,
        ),
        (
            "POST",
            "/api/v1/messagingSession",
            json!({"conversationIdentifier": c, "operation": "Inactivate"}),
            bad,
            10106,
        ),
        (
            "POST",
            "/api/v1/participant",
            json!({"conversationIdentifier": c, "operation": "Add", "participants": [{}]}),
            bad,
            10045,
        ),
        (
            "PATCH",
            "/api/v1/consent",
            json!({"consentStatus": "Maybe"}),
            bad,
            10045,
        ),
        ("PATCH", "/api/v1/capabilities", json!({}), bad, 10045),
        (
            "POST",
            "/api/v1/route",
            json!({"conversationIdentifier": c, "routingType": "Transfer", "routingInfo": {"flow": {"flowId": "300"}}}),
            bad,
            10024,
        ),
        (
            "POST",
            "/api/v1/route",
            json!({"conversationIdentifier": c, "routingType": "Transfer", "routingInfo": {"flow": {"flowId": "300", "queueId": "00G"}, "queueId": "00G"}}),
            bad,
            10030,
        ),
        (
            "DELETE",
            "/api/v1/route",
            json!({"conversationIdentifier": c, "cancelReason": "Bored"}),
            bad,
            10076,
        ),
        (
            "POST",
            "/api/v1/agentWork",
            json!({"userId": "005", "workItemId": "short"}),
            bad,
            15102,
        ),
        (
            "POST",
            "/api/v1/agentWork",
            json!({"userId": "005", "workItemId": conv.work_item_id, "capacityWeight": 1, "capacityPercentage": 10}),
            bad,
            10013,
        ),
        (
            "POST",
            "/api/v1/routingResult",
            json!({"conversationIdentifier": c, "workItemId": conv.work_item_id, "externallyRouted": true, "success": false}),
            bad,
            10033,
        ),
        (
            "POST",
            "/api/v1/routingResult",
            json!({"conversationIdentifier": c, "workItemId": conv.work_item_id, "externallyRouted": true, "success": true, "errorMessage": "x"}),
            bad,
            10034,
        ),
    ];
    for (method, path, body, status, code) in cases {
        expect(&sh, Call::json(&sh, &t, method, path, &body), status, code).await;
    }
    let (s, v) = call(
        &sh,
        Call::json(&sh, &t, "POST", "/api/v1/acknowledgement", &Value::Null)
            .set("content-type", "application/json")
            .request(),
    )
    .await;
    assert_eq!((s, v["code"].as_u64()), (bad, Some(10045)));
    assert!(lock(&sh.recorded).is_empty());
}

/// A conversation with an accepted message, and a token.
async fn ready() -> (Arc<Shared>, String, SimConversation) {
    let sh = shared(SimConfig::default());
    let t = token(&sh).await;
    let conv = sh.conversation("15555550123");
    (sh, t, conv)
}

async fn status_of(
    sh: &Arc<Shared>,
    t: &str,
    method: &'static str,
    path: &'static str,
    body: &Value,
) -> (StatusCode, Value) {
    call(sh, Call::json(sh, t, method, path, body).request()).await
}

#[tokio::test]
async fn delete_route_without_a_cancel_reason_is_accepted() {
    let (sh, t, conv) = ready().await;
    let body = json!({"conversationIdentifier": conv.conversation_identifier});
    let (s, v) = status_of(&sh, &t, "DELETE", "/api/v1/route", &body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    // A reason, when given, is still checked.
    let body =
        json!({"conversationIdentifier": conv.conversation_identifier, "cancelReason": "Bored"});
    expect(
        &sh,
        Call::json(&sh, &t, "DELETE", "/api/v1/route", &body),
        StatusCode::BAD_REQUEST,
        10076,
    )
    .await;
}

#[tokio::test]
async fn routing_result_success_with_an_empty_error_message_is_accepted() {
    let (sh, t, conv) = ready().await;
    let body = json!({"conversationIdentifier": conv.conversation_identifier, "workItemId": conv.work_item_id,
        "externallyRouted": true, "success": true, "errorMessage": ""});
    let (s, v) = status_of(&sh, &t, "POST", "/api/v1/routingResult", &body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let body = json!({"conversationIdentifier": conv.conversation_identifier, "workItemId": conv.work_item_id,
        "externallyRouted": true, "success": false, "errorMessage": ""});
    expect(
        &sh,
        Call::json(&sh, &t, "POST", "/api/v1/routingResult", &body),
        StatusCode::BAD_REQUEST,
        10033,
    )
    .await;
}

#[tokio::test]
async fn route_needs_a_routing_type() {
    let (sh, t, conv) = ready().await;
    let c = conv.conversation_identifier.clone();
    let body = json!({"conversationIdentifier": c, "routingType": "Initial"});
    let (s, v) = status_of(&sh, &t, "POST", "/api/v1/route", &body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    for body in [
        json!({"conversationIdentifier": c}),
        json!({"conversationIdentifier": c, "routingType": "Sideways"}),
    ] {
        expect(
            &sh,
            Call::json(&sh, &t, "POST", "/api/v1/route", &body),
            StatusCode::BAD_REQUEST,
            10045,
        )
        .await;
    }
}

#[tokio::test]
async fn acknowledgements_need_every_documented_field() {
    let (sh, t, conv) = ready().await;
    let ack = json!({"acknowledgementTimestamp": 1_714_668_069_301_i64, "acknowledgementType": "Delivered",
        "acknowledgedConversationEntryIdentifier": "e1", "acknowledgmentCreatedConversationEntryIdentifier": "n1"});
    let sender = json!({"appType": "custom", "subject": "15555550123", "role": "EndUser"});
    let body = |ack: Value, sender: Option<Value>| {
        let mut b = json!({"conversationIdentifier": conv.conversation_identifier, "acknowledgements": [ack]});
        if let Some(s) = sender {
            b["sender"] = s;
        }
        b
    };
    let (s, v) = status_of(
        &sh,
        &t,
        "POST",
        "/api/v1/acknowledgement",
        &body(ack.clone(), Some(sender.clone())),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let without = |field: &str| {
        let mut a = ack.clone();
        a.as_object_mut().unwrap().remove(field);
        a
    };
    let refused = [
        body(
            without("acknowledgedConversationEntryIdentifier"),
            Some(sender.clone()),
        ),
        body(
            without("acknowledgmentCreatedConversationEntryIdentifier"),
            Some(sender.clone()),
        ),
        body(without("acknowledgementTimestamp"), Some(sender.clone())),
        body(without("acknowledgementType"), Some(sender.clone())),
        body(
            json!({"acknowledgementTimestamp": 1, "acknowledgementType": "Seen",
            "acknowledgedConversationEntryIdentifier": "e", "acknowledgmentCreatedConversationEntryIdentifier": "n"}),
            Some(sender.clone()),
        ),
        body(ack.clone(), None),
    ];
    for b in refused {
        expect(
            &sh,
            Call::json(&sh, &t, "POST", "/api/v1/acknowledgement", &b),
            StatusCode::BAD_REQUEST,
            10045,
        )
        .await;
    }
}
