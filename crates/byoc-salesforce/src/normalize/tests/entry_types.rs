//! Each entry type to its activity, with its content.

use byoc_core::activity::RoleType;
use byoc_core::{ActivityType, Attachment};

use super::{one, wrapped};
use crate::normalize::*;

fn normalized(entry_type: &str, payload: serde_json::Value) -> Activity {
    let mut ev = normalize_payload(&wrapped(entry_type, payload), Some("Interaction")).unwrap();
    assert_eq!(ev.activities.len(), 1);
    ev.activities.remove(0)
}

fn value(a: &Activity) -> serde_json::Value {
    a.value.as_ref().expect("value").parse().unwrap()
}

#[test]
fn every_entry_type_becomes_the_closest_activity() {
    let table: &[(&str, serde_json::Value, ActivityType, Option<&str>)] = &[
        (
            "TypingStartedIndicator",
            serde_json::json!({"timestamp": 1}),
            ActivityType::Typing,
            None,
        ),
        (
            "TypingStoppedIndicator",
            serde_json::json!({"timestamp": 1}),
            ActivityType::Event,
            Some("salesforce.typingStopped"),
        ),
        (
            "ProgressIndicator",
            serde_json::json!({"progressIndicator": {"indicatorType": "ProgressUpdateIndicator",
                "progressMessage": {"formatType": "Text", "text": "Looking it up"}}}),
            ActivityType::Typing,
            None,
        ),
        (
            "QueuePosition",
            serde_json::json!({"position": 3, "workItemId": "0Mw", "pendingServiceRoutingId": "0JR"}),
            ActivityType::Event,
            Some(EVENT_QUEUE_POSITION),
        ),
        (
            "SessionStatusChanged",
            serde_json::json!({"sessionStatus": "Waiting", "sessionId": "0Mw"}),
            ActivityType::Event,
            Some(EVENT_SESSION_STATUS_CHANGED),
        ),
        (
            "ReadAcknowledgement",
            serde_json::json!({"acknowledgedConversationEntryIdentifier": "x", "acknowledgementTimestamp": 5}),
            ActivityType::Event,
            Some(EVENT_READ_ACKNOWLEDGEMENT),
        ),
        (
            "DeliveryAcknowledgement",
            serde_json::json!({"acknowledgedConversationEntryIdentifier": "x", "acknowledgementTimestamp": 5}),
            ActivityType::Event,
            Some(EVENT_DELIVERY_ACKNOWLEDGEMENT),
        ),
        (
            "MessageDeliveryFailed",
            serde_json::json!({"failedConversationEntryIdentifier": "x", "errorCode": "210"}),
            ActivityType::Event,
            Some(crate::render::EVENT_DELIVERY_FAILED),
        ),
        (
            "Note",
            serde_json::json!({"abstractMessage": {"messageType": "StaticContentMessage", "id": "n1",
                "staticContent": {"formatType": "Text", "text": "VIP customer"}}}),
            ActivityType::Trace,
            Some("salesforce.note"),
        ),
        (
            "FlagRaise",
            serde_json::json!({"abstractMessage": {"messageType": "StaticContentMessage", "id": "f1",
                "staticContent": {"formatType": "Text", "text": "Need help with a refund"}}}),
            ActivityType::Event,
            Some("salesforce.flagRaise"),
        ),
        (
            "FlagLower",
            serde_json::json!({}),
            ActivityType::Event,
            Some("salesforce.flagLower"),
        ),
        (
            "EndUserConsentUpdated",
            serde_json::json!({"endUserSubject": "u1", "consentStatus": "OptOut", "isEndUserInitiated": true}),
            ActivityType::ContactRelationUpdate,
            None,
        ),
        (
            "ParticipantsConferenced",
            serde_json::json!({"entries": [{"participant": {"appType": "agent", "subject": "005B", "role": "Agent"},
                "displayName": "Ben"}]}),
            ActivityType::ConversationUpdate,
            None,
        ),
        (
            "RoutingWorkResult",
            serde_json::json!({"workType": "Accepted", "workId": "0Bz", "workTargetId": "0Mw", "errorMessages": []}),
            ActivityType::Event,
            Some("salesforce.routingWorkResult"),
        ),
        (
            "RoutingResult",
            serde_json::json!({"routingType": "Initial", "failureType": "None", "errorMessages": []}),
            ActivityType::Event,
            Some("salesforce.routingResult"),
        ),
        (
            "TransferProgress",
            serde_json::json!({"status": "Started"}),
            ActivityType::Event,
            Some("salesforce.transferProgress"),
        ),
        (
            "ConsultConversationInfo",
            serde_json::json!({"conversationIdentifier": "c2", "timestamp": 7}),
            ActivityType::Event,
            Some("salesforce.consultConversationInfo"),
        ),
    ];
    for (t, p, kind, name) in table {
        let a = normalized(t, p.clone());
        assert_eq!(&a.kind, kind, "{t}");
        assert_eq!(a.name.as_deref(), *name, "{t}");
        assert_eq!(a.from.as_ref().unwrap().role, Some(RoleType::Bot), "{t}");
        assert_eq!(a.id.as_deref(), Some("e1"), "{t}");
        let cd: serde_json::Value = a.channel_data.as_ref().unwrap().parse().unwrap();
        assert_eq!(cd["entryType"], *t);
    }
}

#[test]
fn each_activity_carries_its_entry_content() {
    let a = normalized(
        "ProgressIndicator",
        serde_json::json!({"progressIndicator": {"progressMessage": {"formatType": "Text", "text": "Looking it up"}}}),
    );
    assert_eq!(a.text.as_deref(), Some("Looking it up"));
    let a = normalized(
        "ReadAcknowledgement",
        serde_json::json!({"acknowledgedConversationEntryIdentifier": "80bb78b1", "acknowledgementTimestamp": 5}),
    );
    assert_eq!(a.reply_to_id.as_deref(), Some("80bb78b1"));
    assert_eq!(value(&a)["acknowledgementTimestamp"], 5);
    let a = normalized(
        "MessageDeliveryFailed",
        serde_json::json!({"failedConversationEntryIdentifier": "5b7d", "errorCode": "210"}),
    );
    assert_eq!(a.reply_to_id.as_deref(), Some("5b7d"));
    assert_eq!(value(&a)["errorCode"], "210");
    let a = normalized(
        "QueuePosition",
        serde_json::json!({"position": 3, "workItemId": "0Mw", "pendingServiceRoutingId": "0JR"}),
    );
    assert_eq!(value(&a)["position"], 3);
    let a = normalized(
        "Note",
        serde_json::json!({"abstractMessage": {"messageType": "StaticContentMessage", "id": "n1",
            "staticContent": {"formatType": "Text", "text": "VIP customer"}}}),
    );
    assert_eq!(a.text.as_deref(), Some("VIP customer"));
    let a = normalized(
        "FlagRaise",
        serde_json::json!({"abstractMessage": {"messageType": "StaticContentMessage", "id": "f1",
            "staticContent": {"formatType": "Text", "text": "Need help"}}}),
    );
    assert_eq!(a.text.as_deref(), Some("Need help"));
    for (status, action) in [("OptOut", "remove"), ("OptIn", "add")] {
        let a = normalized(
            "EndUserConsentUpdated",
            serde_json::json!({"endUserSubject": "u1", "consentStatus": status}),
        );
        assert_eq!(a.action.as_deref(), Some(action));
        assert_eq!(value(&a)["endUserSubject"], "u1");
    }
    let a = normalized(
        "ParticipantsConferenced",
        serde_json::json!({"entries": [{"participant": {"appType": "agent", "subject": "005B", "role": "Agent"},
            "displayName": "Ben"}]}),
    );
    let added = a.members_added.as_ref().unwrap();
    assert_eq!(added[0].id.as_deref(), Some("005B"));
    assert_eq!(added[0].name.as_deref(), Some("Ben"));
    let a = normalized(
        "ParticipantChanged",
        serde_json::json!({"entries": [{"operation": "remove",
            "participant": {"appType": "chatbot", "subject": "bot1", "role": "Chatbot"}}]}),
    );
    assert_eq!(
        a.members_removed.as_ref().unwrap()[0].id.as_deref(),
        Some("bot1")
    );
    let a = normalized(
        "RoutingWorkResult",
        serde_json::json!({"workType": "Accepted", "workId": "0Bz", "workTargetId": "0Mw", "errorMessages": []}),
    );
    assert_eq!(value(&a)["workType"], "Accepted");
}

#[test]
fn message_updated_is_a_message_update_with_each_upload_result() {
    let a = one("pubsub-message-updated-attachments.json");
    assert_eq!(a.kind, ActivityType::MessageUpdate);
    // The activity stands for the message updated: the one the partner sent.
    assert_eq!(
        a.id.as_deref(),
        Some("c2e4a6b8-d0f2-4a4c-8e6a-b8d0f2a4c6e8")
    );
    assert_eq!(a.text.as_deref(), Some("photo of the router label"));
    assert_eq!(a.from.as_ref().unwrap().role, Some(RoleType::User));
    let atts = a.attachments.as_ref().unwrap();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0].name.as_deref(), Some("router-label.png"));
    assert_eq!(atts[0].content_type.as_deref(), Some("image/png"));
    assert!(
        atts[0]
            .content_url
            .as_deref()
            .unwrap()
            .starts_with("https://")
    );
    assert_eq!(
        AttachmentUploadResult::of(&atts[0]),
        Some(AttachmentUploadResult::Completed)
    );
    assert_eq!(atts[1].name.as_deref(), Some("router-blinking.mp4"));
    assert_eq!(atts[1].content_url, None);
    assert_eq!(
        AttachmentUploadResult::of(&atts[1]),
        Some(AttachmentUploadResult::Failed {
            error: UploadErrorType::AttachmentTooLarge
        })
    );
    let cd: serde_json::Value = a.channel_data.as_ref().unwrap().parse().unwrap();
    assert_eq!(cd["entryType"], "MessageUpdated");
    assert_eq!(
        cd["entryIdentifier"],
        "5d7f9b1d-3f5b-4d7f-9b1d-3f5b7d9f1b3c"
    );
    // The result travels with the attachment's JSON, as Salesforce wrote it.
    let json: serde_json::Value = serde_json::from_str(&a.to_json().unwrap()).unwrap();
    assert_eq!(
        json["attachments"][1][UPLOAD_RESULT_FIELD]["errorType"],
        "AttachmentTooLarge"
    );
}

#[test]
fn upload_results_in_each_state() {
    let mut att = Attachment::default();
    assert_eq!(AttachmentUploadResult::of(&att), None);
    let put = |att: &mut Attachment, v: serde_json::Value| {
        att.extensions.insert(
            UPLOAD_RESULT_FIELD,
            byoc_core::RawJson::from_serialize(&v).unwrap(),
        );
    };
    put(
        &mut att,
        serde_json::json!({"resultType": "PendingAttachmentUploadResult", "referenceId": "r1"}),
    );
    assert_eq!(
        AttachmentUploadResult::of(&att),
        Some(AttachmentUploadResult::Pending {
            reference_id: Some("r1".into())
        })
    );
    for (name, error) in [
        (
            "StorageLimitExceeded",
            UploadErrorType::StorageLimitExceeded,
        ),
        ("AttachmentNotFound", UploadErrorType::AttachmentNotFound),
        (
            "AttachmentUploadNotEnabled",
            UploadErrorType::AttachmentUploadNotEnabled,
        ),
        (
            "AttachmentUploadNotAllowed",
            UploadErrorType::AttachmentUploadNotAllowed,
        ),
        ("InternalServerError", UploadErrorType::InternalServerError),
        ("VirusFound", UploadErrorType::Other("VirusFound".into())),
    ] {
        put(
            &mut att,
            serde_json::json!({"resultType": "ErrorAttachmentUploadResult", "errorType": name}),
        );
        let result = AttachmentUploadResult::of(&att).unwrap();
        assert!(!result.is_completed());
        assert_eq!(
            result,
            AttachmentUploadResult::Failed {
                error: error.clone()
            }
        );
        assert_eq!(error.as_str(), name);
    }
    // An attachment of an ordinary message has none (`attachmentUploadResult: null`).
    let a = one("pubsub-interaction-attachments-wrapped.json");
    let atts = a.attachments.unwrap();
    assert_eq!(AttachmentUploadResult::of(&atts[0]), None);
    assert!(atts[0].extensions.is_empty());
}

#[test]
fn choices_become_suggested_actions() {
    let a = normalized(
        "Message",
        serde_json::json!({"abstractMessage": {"messageType": "ChoicesMessage", "id": "m1",
        "choices": {"formatType": "Buttons", "text": "Which order?",
            "optionItems": [
                {"itemType": "TitleOptionItem", "optionIdentifier": "o1", "titleItem": {"itemType": "TitleItem", "title": "48213"}},
                {"itemType": "TitleOptionItem", "optionIdentifier": "o2", "titleItem": {"itemType": "TitleItem", "title": "48214"}}
            ]}}}),
    );
    assert_eq!(a.kind, ActivityType::Message);
    assert_eq!(a.text.as_deref(), Some("Which order?"));
    let actions = a
        .suggested_actions
        .as_ref()
        .unwrap()
        .actions
        .as_ref()
        .unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[1].title.as_deref(), Some("48214"));
    assert_eq!(actions[1].value_str().as_deref(), Some("48214"));
    let cd: serde_json::Value = actions[1].channel_data.as_ref().unwrap().parse().unwrap();
    assert_eq!(cd["optionIdentifier"], "o2");
    // The whole message stays in `value` for a host that renders choices itself.
    assert_eq!(value(&a)["choices"]["formatType"], "Buttons");
}
