//! Whole event records, in each form a subscriber may hold them.

use super::fixture;
use crate::config::ChannelDefinition;
use crate::normalize::*;

fn activities(bytes: &[u8]) -> Vec<Activity> {
    normalize_bytes(bytes).unwrap()
}

#[test]
fn a_record_in_avro_json_encoding_reads_as_the_decoded_record() {
    let decoded = activities(&fixture("pubsub-event-record.json"));
    let avro_json = activities(&fixture("pubsub-event-record-avro-json.json"));
    assert_eq!(avro_json, decoded);
    assert_eq!(
        avro_json[0].text.as_deref(),
        Some("One moment while I check.")
    );
    // The same through `normalize_record`, as a subscriber's map holds it.
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fixture("pubsub-event-record-avro-json.json")).unwrap();
    let ev = normalize_record(&map, "contoso__EventType__c", "contoso__Payload__c").unwrap();
    assert_eq!(ev.activities, decoded);
    assert_eq!(ev.recipient.as_deref(), Some("15555550123"));
}

#[test]
fn the_payload_field_is_found_by_name_or_content() {
    let payload = String::from_utf8(fixture("pubsub-interaction-text-wrapped.json")).unwrap();
    let expected = activities(payload.as_bytes());
    // Field names as a channel definition may choose them (no `Payload__c` suffix), the
    // payload a union, the event type a union, `CreatedDate` a plain long.
    let record = serde_json::json!({
        "CreatedDate": 1_690_344_475_579_i64,
        "CreatedById": "13f7e7ad",
        "my__event__payloadField__c": {"string": payload},
        "my__event__EventType__c": {"string": "Interaction"},
    });
    assert_eq!(activities(record.to_string().as_bytes()), expected);
    // A field of any name holding a JSON payload.
    let record = serde_json::json!({"CreatedDate": 1, "ns__Body__c": payload});
    assert_eq!(activities(record.to_string().as_bytes()), expected);
    // A payload field already parsed into an object.
    let parsed: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let record = serde_json::json!({"CreatedDate": 1, "ns__Payload__c": parsed});
    assert_eq!(activities(record.to_string().as_bytes()), expected);
    // A null payload (an Avro union holding null) is a missing payload.
    let record = serde_json::json!({"CreatedDate": 1, "ns__Payload__c": null});
    assert!(matches!(
        normalize_bytes(record.to_string().as_bytes()),
        Err(NormalizeError::MissingPayloadField(_))
    ));
}

#[test]
fn the_channel_definition_names_the_fields_first() {
    let routing = String::from_utf8(fixture("pubsub-routing-requested.json")).unwrap();
    let text = String::from_utf8(fixture("pubsub-interaction-text-wrapped.json")).unwrap();
    // Two candidate payloads: the channel definition decides which is the event's.
    let record = serde_json::json!({
        "CreatedDate": 1,
        "a__Payload__c": {"string": text},
        "b__Body__c": {"string": routing},
        "b__Kind__c": {"string": "RoutingRequested"},
    });
    let channel = ChannelDefinition::new("Def", "b__Ev__e", "b__Kind__c", "b__Body__c").unwrap();
    let ev = normalize_event(record.to_string().as_bytes(), Some(&channel)).unwrap();
    assert_eq!(
        ev.activities[0].name.as_deref(),
        Some(EVENT_ROUTING_REQUESTED)
    );
    let ev = normalize_event(record.to_string().as_bytes(), None).unwrap();
    assert_eq!(ev.activities[0].kind, ActivityType::Message);
}

#[test]
fn records_from_pubsub_decoding_and_avro_json_agree_field_by_field() {
    let plain: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fixture("pubsub-event-record.json")).unwrap();
    let unions: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fixture("pubsub-event-record-avro-json.json")).unwrap();
    for field in ["contoso__EventType__c", "contoso__Payload__c"] {
        assert_eq!(
            record_field_string(&plain[field], true),
            record_field_string(&unions[field], true),
            "{field}"
        );
    }
    assert_eq!(
        record_field_string(&serde_json::json!({"string": "x", "other": 1}), false),
        None
    );
}
