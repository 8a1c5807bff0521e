use byoc_core::activity::{EndOfConversationCode, RoleType};

use super::*;

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/salesforce/"
);

pub(super) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIX}{name}")).unwrap()
}

pub(super) fn one(name: &str) -> Activity {
    let mut v = normalize_bytes(&fixture(name)).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

#[test]
fn wrapped_text_message_becomes_a_message_from_the_rep() {
    let a = one("pubsub-interaction-text-wrapped.json");
    assert_eq!(a.kind, ActivityType::Message);
    assert_eq!(
        a.text.as_deref(),
        Some("Thanks! Your order 48213 shipped this morning.")
    );
    assert_eq!(
        a.id.as_deref(),
        Some("7f9b1d3f-5a7c-4e9b-b1d3-f5a7c9e1b3d5")
    );
    assert_eq!(a.channel_id.as_deref(), Some("salesforce"));
    assert_eq!(
        a.conversation_id(),
        Some("e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f")
    );
    let from = a.from.as_ref().unwrap();
    assert_eq!(from.id.as_deref(), Some("0055g00000Jk7Qp"));
    assert_eq!(from.name.as_deref(), Some("Grace Liu"));
    assert_eq!(from.role, Some(RoleType::from("agent")));
    assert_eq!(a.recipient_id(), Some("15555550123"));
    assert_eq!(
        a.timestamp.as_ref().unwrap().to_utc().timestamp_millis(),
        1_714_668_302_918
    );
    let cd: serde_json::Value = a.channel_data.as_ref().unwrap().parse().unwrap();
    assert_eq!(
        cd["channelAddressIdentifier"],
        "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
    );
    assert_eq!(cd["entryType"], "Message");
    assert_eq!(cd["sender"]["role"], "Agent");
}

#[test]
fn flat_text_message_is_tolerated() {
    let a = one("pubsub-interaction-text-flat.json");
    assert_eq!(
        a.text.as_deref(),
        Some("Is there anything else I can help with?")
    );
    assert_eq!(
        a.id.as_deref(),
        Some("3d5f7b9d-1f3b-4d5f-9b1d-3f5b7d9f1b3e")
    );
    // No conversationIdentifier in the flat form: the end user keys the conversation.
    assert_eq!(a.conversation_id(), Some("15555550123"));
}

#[test]
fn attachments_keep_their_type_name_and_url() {
    let a = one("pubsub-interaction-attachments-wrapped.json");
    assert_eq!(a.text.as_deref(), Some("Here is your return label"));
    let att = &a.attachments.as_ref().unwrap()[0];
    assert_eq!(att.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(att.name.as_deref(), Some("return-label-48213.pdf"));
    assert!(
        att.content_url
            .as_deref()
            .unwrap()
            .starts_with("https://contoso-dev-ed--c.")
    );
}

#[test]
fn a_rep_joining_becomes_a_conversation_update() {
    let a = one("pubsub-participant-changed.json");
    assert_eq!(a.kind, ActivityType::ConversationUpdate);
    let added = a.members_added.as_ref().unwrap();
    assert_eq!(added[0].id.as_deref(), Some("0055g00000Jk7Qp"));
    assert_eq!(added[0].name.as_deref(), Some("Grace Liu"));
    assert!(a.members_removed.is_none());
    assert!(a.value.is_some());
}

#[test]
fn an_ended_session_becomes_end_of_conversation() {
    let a = one("pubsub-session-status-changed.json");
    assert_eq!(a.kind, ActivityType::EndOfConversation);
    assert_eq!(a.code, Some(EndOfConversationCode::CompletedSuccessfully));
    let v: serde_json::Value = a.value.as_ref().unwrap().parse().unwrap();
    assert_eq!(v["sessionEndedByRole"], "Agent");
}

#[test]
fn a_routing_request_carries_its_correlation_id() {
    let a = one("pubsub-routing-requested.json");
    assert_eq!(a.kind, ActivityType::Event);
    assert_eq!(a.name.as_deref(), Some(EVENT_ROUTING_REQUESTED));
    let r: RoutingRequested = a.value.as_ref().unwrap().parse().unwrap();
    assert_eq!(
        r.routing_correlation_id.as_deref(),
        Some("8b0d2f4a-6c8e-4a0b-8d2f-4a6c8e0b2d4f")
    );
    assert_eq!(r.flow_id.as_deref(), Some("3005g000000KqLm"));
    assert_eq!(r.routing_type.as_deref(), Some("Transfer"));
    assert_eq!(r.is_transfer, Some(true));
    assert_eq!(
        a.conversation_id(),
        Some("e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f")
    );
}

#[test]
fn a_whole_record_is_read_through_its_payload_field() {
    let a = one("pubsub-event-record.json");
    assert_eq!(a.text.as_deref(), Some("One moment while I check."));
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fixture("pubsub-event-record.json")).unwrap();
    let ev = normalize_record(&map, "contoso__EventType__c", "contoso__Payload__c").unwrap();
    assert_eq!(ev.recipient.as_deref(), Some("15555550123"));
    assert_eq!(
        ev.entry_identifier.as_deref(),
        Some("8a0c2e4a-6c8e-4a0c-9e4a-6c8e0a2c4e6b")
    );
    assert!(matches!(
        normalize_record(&map, "x", "nope__Payload__c"),
        Err(NormalizeError::MissingPayloadField(_))
    ));
}

pub(super) fn wrapped(entry_type: &str, entry_payload: serde_json::Value) -> String {
    serde_json::json!({
        "conversationIdentifier": "c1",
        "channelAddressIdentifier": "ch",
        "recipient": {"appType": "custom", "subject": "u1", "role": "EndUser"},
        "payload": {
            "identifier": "e1", "entryType": entry_type, "entryPayload": entry_payload,
            "sender": {"appType": "chatbot", "subject": "bot1", "role": "Chatbot"},
            "transcriptedTimestamp": 1, "clientTimestamp": 1, "clientDuration": 0
        }
    })
    .to_string()
}

#[test]
fn each_fault_is_one_named_error() {
    assert!(matches!(
        normalize_bytes(b"{"),
        Err(NormalizeError::InvalidJson { ref field, .. }) if field == "$"
    ));
    assert!(matches!(
        normalize_bytes(b"[1]"),
        Err(NormalizeError::InvalidJson { .. })
    ));
    assert!(matches!(
        normalize_bytes(&[0xff, 0xfe]),
        Err(NormalizeError::InvalidJson { .. })
    ));
    assert!(matches!(
        normalize_bytes(br#"{"CreatedDate":1}"#),
        Err(NormalizeError::MissingPayloadField(_))
    ));
    assert!(matches!(
        normalize_bytes(br#"{"recipient":{"subject":"u"}}"#),
        Err(NormalizeError::MissingField("payload.entryType"))
    ));
    assert!(matches!(
        normalize_payload(&wrapped("Message", serde_json::json!({})), None),
        Err(NormalizeError::MissingField(
            "payload.entryPayload.abstractMessage"
        ))
    ));
    assert!(matches!(
        normalize_payload(&wrapped("Message", serde_json::json!({"abstractMessage": 5})), None),
        Err(NormalizeError::InvalidJson { ref field, .. }) if field == "payload.entryPayload.abstractMessage"
    ));
    assert!(matches!(
        normalize_payload(r#"{"payload":{"routingParameters":{"channelData":"{oops"}}}"#, None),
        Err(NormalizeError::InvalidJson { ref field, .. }) if field == "payload.routingParameters.channelData"
    ));
    let big = vec![b' '; MAX_PAYLOAD_BYTES + 1];
    assert!(normalize_bytes(&big).is_err());
    // Errors never carry the payload.
    let e = normalize_bytes(br#"{"payload": {"entryType": 5, "secret": "hunter2"}}"#).unwrap_err();
    assert!(!e.to_string().contains("hunter2"));
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = normalize_bytes(&bytes);
    }

    #[test]
    fn arbitrary_json_strings_never_panic(s in "\\{(\"[a-zA-Z]{1,12}\":(\"[^\"]{0,8}\"|[0-9]{1,3}|null|\\{\\}),?){0,6}\\}") {
        let _ = normalize_bytes(s.as_bytes());
        let _ = normalize_payload(&s, Some("RoutingRequested"));
    }
}

#[test]
fn one_pass_message_path_equals_the_general_path() {
    // `normalize_bytes` reads a wrapped static message in one pass; `normalize_payload`
    // takes the general path. Same activities, to the byte.
    let mut inputs: Vec<String> = [
        "pubsub-interaction-text-wrapped.json",
        "pubsub-interaction-attachments-wrapped.json",
    ]
    .iter()
    .map(|n| String::from_utf8(fixture(n)).unwrap())
    .collect();
    inputs.push(wrapped(
        "Message",
        serde_json::json!({
            "abstractMessage": {
                "messageType": "StaticContentMessage",
                "staticContent": {"formatType": "Text", "text": "quote \" and \\u00e9"}
            },
            "messageReason": "AutomatedResponse"
        }),
    ));
    for text in inputs {
        let fast = normalize_bytes(text.as_bytes()).unwrap();
        let general = normalize_payload(&text, None).unwrap().activities;
        assert_eq!(fast, general, "{text}");
        assert_eq!(fast[0].to_json().unwrap(), general[0].to_json().unwrap());
    }
}

mod entry_types;
mod records;
