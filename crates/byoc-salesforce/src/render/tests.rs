use super::*;
use byoc_core::{Attachment, ChannelAccount, RawJson, Timestamp};

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/salesforce/"
);

fn fixture(name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(format!("{FIX}{name}")).unwrap()).unwrap()
}

fn customer(mut a: Activity, id: &str, ts: &str) -> Activity {
    a.id = Some(id.into());
    a.from = Some(ChannelAccount::new("15555550123"));
    a.timestamp = Some(Timestamp::parse(ts).unwrap());
    a
}

const TO: &str = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

#[test]
fn text_message_matches_the_fixture() {
    let a = customer(
        Activity::message("STATUS 48213"),
        "a3c5e7f9-1b2d-4f6a-8c0e-2b4d6f8a0c1e",
        "2024-05-02T16:41:09.301Z",
    );
    let r = render_interaction(&a, TO, 0).unwrap();
    assert_eq!(
        serde_json::to_value(&r.request).unwrap(),
        fixture("interaction-text-message.json")
    );
    assert!(r.attachment.is_none());
}

#[test]
fn typing_started_and_stopped_match_the_fixtures() {
    let a = customer(
        Activity::typing(),
        "0d2f4b6a-8c1e-4d3f-a5b7-c9e1f3a5b7d9",
        "2024-05-02T16:41:00.120Z",
    );
    let r = render_interaction(&a, TO, 0).unwrap();
    assert_eq!(
        serde_json::to_value(&r.request).unwrap(),
        fixture("interaction-typing-started.json")
    );
    let a = customer(
        Activity::event(EVENT_TYPING_STOPPED),
        "6e8a0c2e-4a6c-4e8a-9c2e-4a6c8e0a2c4e",
        "2024-05-02T16:41:09.299Z",
    );
    let r = render_interaction(&a, TO, 0).unwrap();
    assert_eq!(
        serde_json::to_value(&r.request).unwrap(),
        fixture("interaction-typing-stopped.json")
    );
}

#[test]
fn delivery_failed_matches_the_fixture() {
    let mut a = customer(
        Activity::event(EVENT_DELIVERY_FAILED),
        "f1a3c5e7-9b2d-4f4a-b6c8-d0e2f4a6b8c0",
        "2024-05-02T17:00:12.775Z",
    );
    a.value = Some(
        RawJson::from_serialize(&serde_json::json!({
            "failedConversationEntryIdentifier": "5b7d9f1a-3c5e-4a7b-9d1f-3a5c7e9b1d3f",
            "errorCode": "210",
            "errorMessage": "Temporary phone error"
        }))
        .unwrap(),
    );
    let r = render_interaction(&a, TO, 0).unwrap();
    assert_eq!(
        serde_json::to_value(&r.request).unwrap(),
        fixture("interaction-message-delivery-failed.json")
    );
}

#[test]
fn data_uri_attachment_renders_an_attachment_interaction() {
    let mut a = customer(
        Activity::message("photo of the router label"),
        "c2e4a6b8-d0f2-4a4c-8e6a-b8d0f2a4c6e8",
        "2024-05-02T16:43:21.456Z",
    );
    let data = vec![7u8; 48213];
    let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
    a.attachments = Some(vec![Attachment::from_url(
        "image/png",
        format!("data:image/png;base64,{b64}"),
    )]);
    let r = render_interaction(&a, TO, 0).unwrap();
    assert_eq!(
        serde_json::to_value(&r.request).unwrap(),
        fixture("interaction-attachment.json")
    );
    let file = r.attachment.unwrap();
    assert_eq!(file.data, data);
    assert!(!format!("{file:?}").contains("7, 7"));
}

#[test]
fn routing_attributes_from_channel_data() {
    let mut a = customer(Activity::message("hi"), "x", "2024-05-02T16:41:09Z");
    a.channel_data = Some(
        RawJson::from_serialize(&serde_json::json!({"routingAttributes": {"lang": "en"}})).unwrap(),
    );
    let r = render_interaction(&a, TO, 0).unwrap();
    let v = serde_json::to_value(&r.request).unwrap();
    assert_eq!(v["routingAttributes"]["lang"], "en");
    // A non-UUID id becomes a stable v5 UUID.
    let id = v["interactions"][0]["payload"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 5);
    let again = render_interaction(&a, TO, 0).unwrap();
    assert_eq!(serde_json::to_value(&again.request).unwrap(), v);
}

#[test]
fn an_activity_without_id_keeps_its_entry_id_across_retries() {
    let mut a = Activity::message("yes");
    a.from = Some(ChannelAccount::new("15555550123"));
    a.timestamp = Some(Timestamp::parse("2024-05-02T16:41:09.301Z").unwrap());
    let first = entry_id(&a);
    assert_eq!(uuid::Uuid::parse_str(&first).unwrap().get_version_num(), 5);
    // A retry (the same activity, rendered later) carries the same entry id.
    let r1 = render_interaction(&a, TO, 1).unwrap();
    let r2 = render_interaction(&a.clone(), TO, 2).unwrap();
    assert_eq!(
        serde_json::to_value(&r1.request).unwrap()["interactions"][0]["payload"]["id"],
        serde_json::to_value(&r2.request).unwrap()["interactions"][0]["payload"]["id"],
    );
    assert_eq!(
        serde_json::to_value(&r1.request).unwrap()["interactions"][0]["payload"]["id"],
        first.as_str()
    );
    // Anything a different send carries gives another id.
    type Change = Box<dyn Fn(&mut Activity)>;
    let variants: Vec<Change> = vec![
        Box::new(|a| a.text = Some("yes!".into())),
        Box::new(|a| a.timestamp = Some(Timestamp::parse("2024-05-02T16:41:10.301Z").unwrap())),
        Box::new(|a| a.timestamp = None),
        Box::new(|a| a.from = Some(ChannelAccount::new("15555550124"))),
        Box::new(|a| a.kind = ActivityType::Typing),
        Box::new(|a| a.reply_to_id = Some("r".into())),
        Box::new(|a| a.name = Some("n".into())),
        Box::new(|a| {
            a.attachments = Some(vec![Attachment::from_url(
                "image/png",
                "data:image/png;base64,AA==",
            )]);
        }),
        // Field boundaries count: "ye" + "s" is not "yes" + "".
        Box::new(|a| {
            a.text = Some("ye".into());
            a.name = Some("s".into());
        }),
    ];
    let mut seen = std::collections::HashSet::from([first.clone()]);
    for change in &variants {
        let mut b = a.clone();
        change(&mut b);
        assert!(seen.insert(entry_id(&b)), "{b:?}");
    }
    // An id wins over the content.
    let mut c = a.clone();
    c.id = Some("7c6f1a8e-2b0d-4e4f-9a51-0c3e5b7d9f1a".into());
    assert_eq!(entry_id(&c), "7c6f1a8e-2b0d-4e4f-9a51-0c3e5b7d9f1a");
}

#[test]
fn one_error_per_fault() {
    let mut a = Activity::message("hi");
    assert!(matches!(
        render_interaction(&a, TO, 0),
        Err(RenderError::MissingField("from.id"))
    ));
    a.from = Some(ChannelAccount::new("x".repeat(256)));
    assert!(matches!(
        render_interaction(&a, TO, 0),
        Err(RenderError::Limit { .. })
    ));
    a.from = Some(ChannelAccount::new("u"));
    a.text = None;
    assert!(matches!(
        render_interaction(&a, TO, 0),
        Err(RenderError::MissingField("text"))
    ));
    a.attachments = Some(vec![Attachment::from_url(
        "image/png",
        "https://x.example/a.png",
    )]);
    assert!(matches!(
        render_interaction(&a, TO, 0),
        Err(RenderError::Unsupported(_))
    ));
    a.attachments = Some(vec![Attachment::from_url("image/png", "data:image/png,zz")]);
    assert!(matches!(
        render_interaction(&a, TO, 0),
        Err(RenderError::BadDataUri)
    ));
    a.attachments = Some(vec![Attachment::from_url(
        "text/html",
        "data:text/html;base64,PGI+",
    )]);
    assert!(matches!(
        render_interaction(&a, TO, 0),
        Err(RenderError::Limit { .. })
    ));
    a.attachments = Some(vec![
        Attachment::from_url("image/png", "data:image/png;base64,AA=="),
        Attachment::from_url("image/png", "data:image/png;base64,AA=="),
    ]);
    assert!(matches!(
        render_interaction(&a, TO, 0),
        Err(RenderError::Limit { .. })
    ));
    let mut e = Activity::event(EVENT_DELIVERY_FAILED);
    e.from = Some(ChannelAccount::new("u"));
    assert!(matches!(
        render_interaction(&e, TO, 0),
        Err(RenderError::MissingField("value"))
    ));
    let mut inv = Activity::new(ActivityType::Invoke);
    inv.from = Some(ChannelAccount::new("u"));
    assert!(matches!(
        render_interaction(&inv, TO, 0),
        Err(RenderError::Unsupported(_))
    ));
    assert!(AttachmentFile::new("big", "image/png", vec![0; MAX_ATTACHMENT_BYTES + 1]).is_err());
}
