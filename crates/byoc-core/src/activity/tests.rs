use std::path::PathBuf;

use serde_json::Value;

use super::*;

fn fixtures_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(sub)
}

fn activity_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(fixtures_dir("activities"))
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_fixture_round_trips_losslessly() {
    let fixtures = activity_fixtures();
    assert!(
        fixtures.len() >= 26,
        "expected the 26 activity fixtures, found {}",
        fixtures.len()
    );
    for (name, bytes) in fixtures {
        let parsed: Activity =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = serde_json::to_value(&parsed).unwrap();
        let want: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, want, "{name} did not round-trip");
        // And through the text form too.
        let text = parsed.to_json().unwrap();
        let again = Activity::from_json(&text).unwrap();
        assert_eq!(again, parsed, "{name}: parse(serialize(x)) != x");
        // The zero-copy path gives the same activity.
        let shared = Activity::from_bytes(bytes::Bytes::from(bytes.clone())).unwrap();
        assert_eq!(shared, parsed, "{name}: from_bytes != from_slice");
        assert_eq!(
            serde_json::to_value(&shared).unwrap(),
            want,
            "{name}: from_bytes round trip"
        );
    }
}

#[test]
fn directline_activity_set_round_trips() {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct ActivitySet {
        activities: Vec<Activity>,
        watermark: Option<String>,
    }
    let bytes = std::fs::read(fixtures_dir("directline/activityset-with-watermark.json")).unwrap();
    let set: ActivitySet = serde_json::from_slice(&bytes).unwrap();
    assert!(!set.activities.is_empty());
    assert_eq!(
        serde_json::to_value(&set).unwrap(),
        serde_json::from_slice::<Value>(&bytes).unwrap()
    );
}

#[test]
fn unknown_fields_are_kept_at_every_level() {
    let bytes = std::fs::read(fixtures_dir("activities/message-extension-fields.json")).unwrap();
    let a = Activity::from_slice(&bytes).unwrap();
    assert!(a.extensions.get("x-contoso-trace").is_some());
    assert_eq!(a.extensions.get("priority").unwrap().get(), "2");
    let from = a.from.as_ref().unwrap();
    assert_eq!(
        from.extensions
            .get("crmContactId")
            .unwrap()
            .parse::<String>()
            .unwrap(),
        "CNT-0091823"
    );
    assert!(
        a.conversation
            .as_ref()
            .unwrap()
            .extensions
            .get("x-thread")
            .is_some()
    );
    assert!(
        a.recipient
            .as_ref()
            .unwrap()
            .extensions
            .get("x-shard")
            .is_some()
    );
    let att = &a.attachments.as_ref().unwrap()[0];
    assert!(att.extensions.get("x-virus-scan").is_some());
    assert_eq!(att.name.as_deref(), Some("router-log-0311.txt"));
    let e = &a.entities.as_ref().unwrap()[0];
    assert_eq!(
        e.entity_type(),
        Some("https://schema.contoso.example/Ticket")
    );
}

#[test]
fn explicit_nulls_and_empty_arrays_survive() {
    let bytes = std::fs::read(fixtures_dir("activities/message-nulls-and-empty.json")).unwrap();
    let a = Activity::from_slice(&bytes).unwrap();
    assert_eq!(a.reply_to_id, None);
    assert!(a.extensions.get("replyToId").unwrap().is_null());
    assert_eq!(a.attachments.as_deref(), Some(&[][..]));
    let out = serde_json::to_value(&a).unwrap();
    assert_eq!(out["replyToId"], Value::Null);
    assert_eq!(out["attachments"], serde_json::json!([]));
    assert_eq!(out["from"]["name"], Value::Null);
}

#[test]
fn setting_a_field_that_arrived_null_replaces_the_null() {
    let mut a = Activity::from_json(r#"{"type":"message","text":null}"#).unwrap();
    a.text = Some("hi".into());
    assert_eq!(a.to_json().unwrap(), r#"{"type":"message","text":"hi"}"#);
}

#[test]
fn unknown_types_are_kept() {
    let a = Activity::from_json(r#"{"type":"holographicCall","name":"x"}"#).unwrap();
    assert_eq!(a.kind, ActivityType::Other("holographicCall".into()));
    assert!(a.to_json().unwrap().contains("holographicCall"));
}

#[test]
fn timestamps_keep_offset_and_precision() {
    let a = Activity::from_json(
        r#"{"type":"message","timestamp":"2016-10-19T20:17:52.2891902Z","localTimestamp":"2016-10-19T13:17:52.2891902-07:00"}"#,
    )
    .unwrap();
    let ts = a.timestamp.as_ref().unwrap();
    let local = a.local_timestamp.as_ref().unwrap();
    assert_eq!(ts.to_utc(), local.to_utc());
    assert_eq!(local.to_datetime().offset().local_minus_utc(), -7 * 3600);
    let out = a.to_json().unwrap();
    assert!(out.contains("2016-10-19T13:17:52.2891902-07:00"));
    assert!(out.contains("2016-10-19T20:17:52.2891902Z"));
}

#[test]
fn typed_errors_name_the_field() {
    let cases: &[(&str, ActivityError)] = &[
        ("[1,2]", ActivityError::NotAnObject),
        ("\"message\"", ActivityError::NotAnObject),
        ("null", ActivityError::NotAnObject),
        (
            r#"{"text":"hi"}"#,
            ActivityError::MissingField {
                field: "type".into(),
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(&Activity::from_json(input).unwrap_err(), want, "{input}");
    }
    let field_cases = [
        (r#"{"type":5}"#, "type"),
        (r#"{"type":"message","text":42}"#, "text"),
        (r#"{"type":"message","from":{"id":7}}"#, "from.id"),
        (r#"{"type":"message","from":"bob"}"#, "from"),
        (
            r#"{"type":"message","conversation":{"isGroup":"yes"}}"#,
            "conversation.isGroup",
        ),
        (
            r#"{"type":"message","attachments":[{"contentType":"a"},{"contentType":1}]}"#,
            "attachments[1].contentType",
        ),
        (r#"{"type":"message","timestamp":"yesterday"}"#, "timestamp"),
        (r#"{"type":"message","entities":[5]}"#, "entities[0]"),
        (r#"{"type":"message","membersAdded":{}}"#, "membersAdded"),
    ];
    for (input, field) in field_cases {
        let err = Activity::from_json(input).unwrap_err();
        assert!(
            matches!(err, ActivityError::InvalidField { .. }),
            "{input}: {err:?}"
        );
        assert_eq!(err.field(), Some(field), "{input}: {err}");
    }
    assert!(matches!(
        Activity::from_json("{\"type\":"),
        Err(ActivityError::Syntax { .. })
    ));
    assert!(matches!(
        Activity::from_json(""),
        Err(ActivityError::Syntax { .. })
    ));
    assert!(matches!(
        Activity::from_slice(b"\xff\xfe"),
        Err(ActivityError::Syntax { .. })
    ));
}

#[test]
fn errors_never_echo_values() {
    let err = Activity::from_json(r#"{"type":"message","from":{"id":"secret-phone-5550123","isBot":1},"text":["my card 4111"]}"#).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("4111"), "{shown}");
    assert!(!shown.contains("5550123"), "{shown}");
}

#[test]
fn duplicate_fields_are_rejected() {
    assert!(Activity::from_json(r#"{"type":"message","text":"a","text":"b"}"#).is_err());
}

#[test]
fn opaque_parts_read_typed_on_demand() {
    let bytes = std::fs::read(fixtures_dir("activities/message-number-forms.json")).unwrap();
    let a = Activity::from_slice(&bytes).unwrap();
    #[derive(serde::Deserialize)]
    struct Quote {
        quantity: i64,
        #[serde(rename = "unitsPerPallet")]
        units: f64,
    }
    let q: Quote = a.value_as().unwrap();
    assert_eq!((q.quantity, q.units), (1, 1000.0));
    // Raw text is kept exactly as written.
    assert!(a.channel_data.as_ref().unwrap().get().contains("19.90"));
}

#[test]
fn reply_swaps_and_references() {
    let bytes = std::fs::read(fixtures_dir("activities/message-webchat-plain.json")).unwrap();
    let incoming = Activity::from_slice(&bytes).unwrap();
    let reply = incoming.create_reply("hello back");
    assert_eq!(reply.from, incoming.recipient);
    assert_eq!(reply.recipient, incoming.from);
    assert_eq!(reply.conversation, incoming.conversation);
    assert_eq!(reply.reply_to_id, incoming.id);
    assert_eq!(reply.service_url, incoming.service_url);
    assert_eq!(reply.id, None);

    let reference = incoming.conversation_reference();
    assert_eq!(reference.user, incoming.from);
    assert_eq!(reference.bot, incoming.recipient);
    let mut proactive = Activity::message("later");
    proactive.apply_conversation_reference(&reference);
    assert_eq!(proactive.from, incoming.recipient);
    assert_eq!(proactive.recipient, incoming.from);
    assert_eq!(proactive.conversation_id(), incoming.conversation_id());

    let cont = Activity::continuation(&reference);
    assert_eq!(cont.kind, ActivityType::Event);
    assert_eq!(cont.name.as_deref(), Some("ContinueConversation"));
    assert_eq!(cont.relates_to.as_deref(), Some(&reference));
}

#[test]
fn mentions() {
    let bytes = std::fs::read(fixtures_dir(
        "activities/message-teams-channel-mention.json",
    ))
    .unwrap();
    let a = Activity::from_slice(&bytes).unwrap();
    let ms = a.mentions();
    assert!(!ms.is_empty());
    let id = ms[0].mentioned.as_ref().unwrap().id.clone().unwrap();
    assert!(a.mentions_id(&id));
    let stripped = a.text_without_mention(&id).unwrap();
    assert!(!stripped.contains("<at>"), "{stripped}");

    let mut m = Activity::message("ping");
    m.add_mention(ChannelAccount::new("u1").with_name("Ana"));
    assert_eq!(m.text.as_deref(), Some("ping <at>Ana</at>"));
    assert!(m.mentions_id("u1"));
    assert_eq!(m.text_without_mention("u1").as_deref(), Some("ping"));
}

#[test]
fn content_checks() {
    assert!(Activity::message("x").has_content());
    assert!(!Activity::message("  ").has_content());
    let mut a = Activity::message("");
    a.attachments = Some(vec![Attachment::from_url(
        "image/png",
        "https://x.example/a.png",
    )]);
    assert!(a.has_attachments() && a.has_content());
    assert!(!Activity::typing().has_content());
}

#[test]
fn debug_does_not_show_opaque_content() {
    let a = Activity::from_json(r#"{"type":"message","channelData":{"card":"4111111111111111"}}"#)
        .unwrap();
    assert!(!format!("{a:?}").contains("4111"));
}

pub(super) mod prop {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::super::Activity;

    /// JSON of every kind (shared with the fast path's differential tests).
    pub(in crate::activity) fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1.0e9f64..1.0e9).prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            // ASCII with control characters: strings that need escapes.
            "[\\x00-\\x7f]{0,6}".prop_map(Value::String),
        ]
    }

    /// Nested arrays and objects of [`json_leaf`]s.
    pub(in crate::activity) fn json_value() -> impl Strategy<Value = Value> {
        json_leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn opt_str() -> impl Strategy<Value = Option<Value>> {
        prop::option::of(prop_oneof![
            Just(Value::Null),
            "\\PC{0,16}".prop_map(Value::String)
        ])
    }

    fn account() -> impl Strategy<Value = Value> {
        (opt_str(), opt_str(), prop::option::of(json_value())).prop_map(|(id, name, extra)| {
            let mut m = Map::new();
            if let Some(v) = id {
                m.insert("id".into(), v);
            }
            if let Some(v) = name {
                m.insert("name".into(), v);
            }
            if let Some(v) = extra {
                m.insert("x-extra".into(), v);
            }
            Value::Object(m)
        })
    }

    prop_compose! {
        fn activity_json()(
            kind in prop_oneof![Just("message".to_string()), Just("event".to_string()), Just("typing".to_string()), "[a-z]{1,10}"],
            text in opt_str(),
            from in prop::option::of(account()),
            recipient in prop::option::of(account()),
            channel_data in prop::option::of(json_value()),
            value in prop::option::of(json_value()),
            extra in prop::collection::btree_map("x-[a-z]{1,6}", json_value(), 0..3),
            attachments in prop::option::of(prop::collection::vec(
                (opt_str(), prop::option::of(json_value())), 0..3)),
            group in prop::option::of(any::<bool>()),
        ) -> Value {
            let mut m = Map::new();
            m.insert("type".into(), Value::String(kind.to_string()));
            if let Some(v) = text { m.insert("text".into(), v); }
            if let Some(v) = from { m.insert("from".into(), v); }
            if let Some(v) = recipient { m.insert("recipient".into(), v); }
            if let Some(v) = channel_data { m.insert("channelData".into(), v); }
            if let Some(v) = value { m.insert("value".into(), v); }
            if let Some(g) = group {
                m.insert("conversation".into(), serde_json::json!({"id": "c1", "isGroup": g}));
            }
            if let Some(atts) = attachments {
                let list = atts.into_iter().map(|(ct, content)| {
                    let mut a = Map::new();
                    if let Some(ct) = ct { a.insert("contentType".into(), ct); }
                    if let Some(c) = content { a.insert("content".into(), c); }
                    Value::Object(a)
                }).collect();
                m.insert("attachments".into(), Value::Array(list));
            }
            for (k, v) in extra { m.insert(k, v); }
            Value::Object(m)
        }
    }

    proptest! {
        #[test]
        fn generated_activities_round_trip(v in activity_json()) {
            let bytes = serde_json::to_vec(&v).unwrap();
            let a = Activity::from_slice(&bytes).unwrap();
            // The contract: the same value as parsing the bytes as a `Value` (serde_json's
            // float parsing is the same on both sides).
            let want: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(serde_json::to_value(&a).unwrap(), want);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = Activity::from_slice(&bytes);
        }

        #[test]
        fn arbitrary_json_never_panics(v in json_value()) {
            let bytes = serde_json::to_vec(&v).unwrap();
            if let Ok(a) = Activity::from_slice(&bytes) {
                // Whatever parses must serialize back to the same value.
                let want: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(serde_json::to_value(&a).unwrap(), want);
            }
        }
    }
}

#[test]
fn from_shared_keeps_raw_parts_as_slices_and_trusted_text_serializes() {
    #[derive(serde::Deserialize)]
    struct Envelope {
        status: RawJson,
        activity: Activity,
    }
    let body = bytes::Bytes::from_static(
        br#"{"status":{"code":200},"activity":{"type":"message","channelData":[1]}}"#,
    );
    let e: Envelope = from_shared(&body).unwrap();
    assert_eq!(e.status.get(), r#"{"code":200}"#);
    assert_eq!(e.activity.channel_data.as_ref().unwrap().get(), "[1]");
    assert!(from_shared::<Envelope>(&bytes::Bytes::from_static(b"\xff")).is_err());

    let whole = RawJson::from_trusted_text(ByteString::from_static(r#"{"a":1}"#));
    assert_eq!(serde_json::to_string(&whole).unwrap(), r#"{"a":1}"#);
    let broken = RawJson::from_trusted_text(ByteString::from_static("{not json"));
    assert!(
        serde_json::to_string(&broken).is_err(),
        "invalid trusted text fails to serialize, never panics"
    );
}
