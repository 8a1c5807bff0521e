use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/messaging-api/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

fn value(a: &Activity) -> serde_json::Value {
    a.value.as_ref().unwrap().to_value().unwrap()
}

fn meta(a: &Activity) -> serde_json::Value {
    a.channel_data.as_ref().unwrap().to_value().unwrap()["omnichannel"].clone()
}

#[test]
fn agent_message_markdown() {
    let v = normalize(&fixture("webhook-agent-message-markdown.json")).unwrap();
    assert_eq!(v.len(), 1);
    let a = &v[0];
    assert_eq!(a.kind, ActivityType::Message);
    assert!(a.text.as_deref().unwrap().contains("**Rosa**"));
    assert_eq!(a.text_format.as_ref().unwrap().as_str(), "markdown");
    assert_eq!(
        a.from.as_ref().unwrap().name.as_deref(),
        Some("Rosa Delgado")
    );
    assert_eq!(a.channel_id.as_deref(), Some(CHANNEL_ID));
    assert_eq!(meta(a)["channelId"], "MessagingApi");
    assert_eq!(meta(a)["idSource"], "digest");
    assert!(a.id.as_deref().unwrap().starts_with("mapi-"));
}

#[test]
fn agent_message_unicode() {
    let a = &normalize(&fixture("webhook-agent-message-plain.json")).unwrap()[0];
    assert_eq!(
        a.text.as_deref(),
        Some("ご連絡ありがとうございます。本日中に交換品を発送します。")
    );
    assert_eq!(
        a.conversation_id(),
        Some("9a1c3e5b-7d9f-4b1d-8f3a-5c7e9b1d3f5a")
    );
}

#[test]
fn attachment_with_null_content() {
    let a = &normalize(&fixture("webhook-agent-attachment.json")).unwrap()[0];
    let att = &a.attachments.as_ref().unwrap()[0];
    assert_eq!(att.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(att.name.as_deref(), Some("router-reset-guide (2).pdf"));
    assert!(att.content_url.as_deref().unwrap().ends_with(".pdf"));
    // explicit nulls survive
    let json: serde_json::Value = serde_json::from_str(&a.to_json().unwrap()).unwrap();
    assert!(json["attachments"][0]["content"].is_null());
    assert!(json["attachments"][0].get("thumbnailUrl").is_some());
    assert_eq!(meta(a)["channelId"], "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a");
}

#[test]
fn typing_with_recipient_only() {
    let a = &normalize(&fixture("webhook-typing.json")).unwrap()[0];
    assert_eq!(a.kind, ActivityType::Typing);
    assert_eq!(a.recipient_id(), Some("customer-00917734"));
}

#[test]
fn state_events_sent_as_messages() {
    let a = &normalize(&fixture("webhook-agent-accepted.json")).unwrap()[0];
    assert_eq!(a.kind, ActivityType::Event);
    assert_eq!(a.name.as_deref(), Some("AgentAccepted"));
    assert_eq!(a.text, None);
    assert_eq!(value(a)["state"], "Active");
    assert_eq!(value(a)["category"], "agent");
    assert_eq!(meta(a)["type"], "message");
    assert_eq!(meta(a)["text"], "EventName: **_AgentAccepted_**");

    let a = &normalize(&fixture("webhook-conversation-closed.json")).unwrap()[0];
    assert_eq!(a.name.as_deref(), Some("ConversationClosed"));
    assert_eq!(value(a)["state"], "Closed");
}

#[test]
fn typed_event() {
    let a = &normalize(&fixture("webhook-event-typed.json")).unwrap()[0];
    assert_eq!(a.kind, ActivityType::Event);
    assert_eq!(a.name.as_deref(), Some("AgentEndSession"));
    assert_eq!(value(a)["state"], "WrapUp");
    assert_eq!(meta(a)["type"], "event");
}

#[test]
fn unknown_event_passes_through() {
    let a = &normalize(&fixture("webhook-unknown-event-name.json")).unwrap()[0];
    assert_eq!(a.kind, ActivityType::Event);
    assert_eq!(a.name.as_deref(), Some("SentimentThresholdReached"));
    assert_eq!(value(a)["known"], false);
    assert!(value(a)["state"].is_null());
}

#[test]
fn event_table() {
    let cases = [
        ("AgentAccepted", Some(S::Active)),
        ("AgentEndSession", Some(S::WrapUp)),
        ("PrimaryAgentEndConversation", Some(S::WrapUp)),
        ("ConversationClose", Some(S::Closed)),
        ("ConversationClosed", Some(S::Closed)),
        ("SupervisorForceClosedConversation", Some(S::Closed)),
        ("CustomerDisconnected", Some(S::Waiting)),
        ("AgentDisconnected", Some(S::Open)),
        ("TransferToQueueInitiated", Some(S::Open)),
        ("TransferAgentAcceptSession", Some(S::Active)),
        ("TransferToAgentFailed", None),
        ("ConsultAgentInitiated", None),
        ("OutOfOperatingHoursDueToHoliday", None),
        ("agentaccepted", None),
        ("Whatever", None),
    ];
    for (name, state) in cases {
        assert_eq!(target_state(name), state, "{name}");
    }
    assert_eq!(classify_event("Whatever").category, C::Unknown);
    assert_eq!(
        classify_event("TransferToAgentInitiated").category,
        C::Transfer
    );
    // no duplicates in the table
    let mut names: Vec<_> = EVENTS.iter().map(|e| e.0).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), EVENTS.len());
}

#[test]
fn retried_delivery_gets_the_same_id() {
    let body = fixture("webhook-agent-message-markdown.json");
    let a = normalize(&body).unwrap();
    let b = normalize(&body).unwrap();
    assert_eq!(a[0].id, b[0].id);
    let other = normalize(&fixture("webhook-agent-message-plain.json")).unwrap();
    assert_ne!(a[0].id, other[0].id);
    let with_id = br#"{"type":"message","id":"m-1","conversation":{"id":"c"},"text":"x"}"#;
    let a = &normalize(with_id).unwrap()[0];
    assert_eq!(a.id.as_deref(), Some("m-1"));
    assert_eq!(meta(a)["idSource"], "provider");
}

#[test]
fn channel_data_is_kept() {
    let body = br#"{"type":"message","conversation":{"id":"c"},"text":"x","channelData":{"k":1}}"#;
    let a = &normalize(body).unwrap()[0];
    let cd = a.channel_data.as_ref().unwrap().to_value().unwrap();
    assert_eq!(cd["k"], 1);
    assert_eq!(cd["omnichannel"]["type"], "message");
}

#[test]
fn arrays_are_accepted() {
    let body = br#"[{"type":"typing","conversation":{"id":"c"}},{"type":"message","conversation":{"id":"c"},"text":"x"}]"#;
    assert_eq!(normalize(body).unwrap().len(), 2);
}

#[test]
fn errors_name_the_fault() {
    let e = normalize(b"{\"type\":\"message\"}").unwrap_err();
    assert!(matches!(e, NormalizeError::MissingConversation));
    let e = normalize(b"{\"type\":\"message\",\"conversation\":{\"id\":5}}").unwrap_err();
    match e {
        NormalizeError::NotAnActivity { field, .. } => {
            assert_eq!(field.as_deref(), Some("conversation.id"));
        }
        other => panic!("{other:?}"),
    }
    let e = normalize(b"{\"text\":\"secret-body-text\"}").unwrap_err();
    assert!(!e.to_string().contains("secret-body-text"));
    let e = normalize_webhook(&fixture("webhook-typing.json"), Some("other")).unwrap_err();
    assert!(matches!(e, NormalizeError::ConversationMismatch));
    assert!(normalize(b"[1,2").is_err());
    assert!(normalize(b"").is_err());
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = normalize(&bytes);
    }

    #[test]
    fn arbitrary_names_never_panic(name in "\\PC{0,64}", kind in "(message|event|typing)") {
        let body = serde_json::json!({"type": kind, "name": name, "conversation": {"id": "c"}, "text": "t"});
        let v = normalize(body.to_string().as_bytes()).unwrap();
        proptest::prop_assert_eq!(v.len(), 1);
    }
}

/// Every fixture and edge case, normalized, as one text: each activity as its JSON, or the
/// error. `BYOC_UPDATE_SNAPSHOT=1 cargo test -p byoc-messaging-api` rewrites `snapshot.txt`.
fn snapshot_text() -> String {
    let dir = format!(
        "{}/../../tests/fixtures/messaging-api",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut cases: Vec<(String, Vec<u8>, Option<&str>)> = names
        .into_iter()
        .map(|n| {
            let body = fixture(&n);
            (n, body, None)
        })
        .collect();
    let inline: &[&[u8]] = &[
        br#"{"type":"message","id":"m-1","conversation":{"id":"c"},"text":"x"}"#,
        br#"{"type":"message","id":"","conversation":{"id":"c"},"text":"x"}"#,
        br#"{"type":"message","conversation":{"id":"c"},"text":"x","channelData":{"k":1}}"#,
        br#"{"type":"message","conversation":{"id":"c"},"text":"x","channelData":{"z":1.0,"a":"\u00e9","z":2,"omnichannel":5}}"#,
        br#"{"type":"message","conversation":{"id":"c"},"text":"x","channelData":"str"}"#,
        br#"{"type":"message","conversation":{"id":"c"},"text":"x","channelData":null}"#,
        br#"{"type":"message","conversation":{"id":"c"},"text":"x","channelData":[1, 2]}"#,
        br#"{"type":"message","conversation":{"id":"c"},"text":"x","channelData": { } }"#,
        br#"{"type":"message","conversation":{"id":"c"},"name":"AgentAccepted","text":"t","textFormat":"markdown","value":{"mine":true}}"#,
        br#"{"type":"message","conversation":{"id":"c"},"name":"","text":"t"}"#,
        br#"{"type":"typing","conversation":{"id":"c"},"name":"AgentAccepted"}"#,
        br#"{"type":"event","conversation":{"id":"c"},"name":"CustomerDisconnected","channelId":"MessagingApi","timestamp":"2024-05-02T16:41:09.301Z","x-unknown":[1,{"a":null}],"attachments":[{"contentType":"a","content":{"b":1}}]}"#,
        br#"{"type":"message","conversation":{"id":"c\u0041"},"text":"\ud83d\ude00 \"q\""}"#,
        br#"[{"type":"typing","conversation":{"id":"c"}},{"type":"message","conversation":{"id":"c"},"text":"x"}]"#,
        br#" [ ] "#,
        br#"[{"type":"typing","conversation":{"id":"c"}}, 5]"#,
        b"{\"type\":\"message\"}",
        b"{\"type\":\"message\",\"conversation\":{\"id\":\"\"}}",
        b"{\"type\":\"message\",\"conversation\":{\"id\":5}}",
        b"{\"text\":\"secret-body-text\"}",
        b"[1,2",
        b"",
        b"{\"type\":\"message\",\"conversation\":{\"id\":\"c\"},\"text\":\"\xff\"}",
        b"{\"type\":\"message\",\"conversation\":{\"id\":\"c\"}} x",
    ];
    cases.extend(
        inline
            .iter()
            .enumerate()
            .map(|(i, b)| (format!("inline-{i}"), b.to_vec(), None)),
    );
    cases.push((
        "path-match".into(),
        fixture("webhook-typing.json"),
        Some("2f6b8d0e-4a1c-4e3b-9d5f-7a9c1e3b5d7f"),
    ));
    cases.push((
        "path-mismatch".into(),
        fixture("webhook-typing.json"),
        Some("other"),
    ));
    let mut out = String::new();
    for (name, body, path) in cases {
        out.push_str(&format!("## {name}\n"));
        match normalize_webhook(&body, path) {
            Ok(v) => {
                for a in v {
                    out.push_str(&a.to_json().unwrap());
                    out.push('\n');
                }
            }
            Err(e) => out.push_str(&format!("error: {e:?}\n")),
        }
    }
    out
}

#[test]
fn output_matches_the_recorded_snapshot() {
    let path = format!("{}/src/normalize/snapshot.txt", env!("CARGO_MANIFEST_DIR"));
    let got = snapshot_text();
    if std::env::var_os("BYOC_UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    for (g, w) in got.lines().zip(want.lines()) {
        assert_eq!(g, w);
    }
    assert_eq!(got, want);
}

#[test]
fn static_event_values_are_the_serialized_ones() {
    let names = EVENTS.iter().map(|e| e.0).chain(["Whatever"]);
    for name in names {
        let info = classify_event(name);
        assert_eq!(
            event_value(info).unwrap().get(),
            serialized_event_value(info).unwrap().get(),
            "{name}"
        );
    }
}

/// Whether `part` lies inside `body` (a slice of it, not a copy).
fn inside(body: &bytes::Bytes, part: &str) -> bool {
    let start = body.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    p >= start && p + part.len() <= start + body.len()
}

#[test]
fn opaque_parts_are_slices_of_the_body() {
    let body = bytes::Bytes::from_static(
        br#"{"type":"event","name":"Custom","conversation":{"id":"c"},"value":{"a":[1,2]},"x-mine":{"b":true},"attachments":[{"contentType":"x","content":{"c":1}}]}"#,
    );
    let v = normalize_webhook_bytes(body.clone(), None).unwrap();
    let a = &v[0];
    assert!(inside(&body, a.value.as_ref().unwrap().get()));
    assert!(inside(&body, a.extensions.get("x-mine").unwrap().get()));
    let content = a.attachments.as_ref().unwrap()[0].content.as_ref().unwrap();
    assert!(inside(&body, content.get()));
    // Items of an array too.
    let body = bytes::Bytes::from_static(
        br#"[{"type":"message","conversation":{"id":"c"},"value":{"a":1}},{"type":"typing","conversation":{"id":"c"},"x":[0]}]"#,
    );
    let v = normalize_webhook_bytes(body.clone(), None).unwrap();
    assert!(inside(&body, v[0].value.as_ref().unwrap().get()));
    assert!(inside(&body, v[1].extensions.get("x").unwrap().get()));
}
