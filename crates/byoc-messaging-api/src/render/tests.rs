use byoc_core::{Attachment, ChannelAccount, ConversationAccount, RawJson};

use super::*;

const CH: &str = "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/messaging-api/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn msg(text: &str) -> Activity {
    let mut a = Activity::message(text);
    a.conversation = Some(ConversationAccount::new(
        "2f6b8d0e-4a1c-4e3b-9d5f-7a9c1e3b5d7f",
    ));
    a
}

#[test]
fn create_request_matches_the_fixture() {
    let req = CreateConversation::new()
        .with_customer(
            CustomerContext::new("customer-00917734")
                .with_name("Priya", "Raman")
                .with_preferred_name("Priya")
                .with_email("priya.raman@example.com")
                .with_phone("15555550123"),
        )
        .with_displayable_context("productname", "Mesh Router X2")
        .with_displayable_context("ticketid", "INC-20931")
        .with_hidden_context("botsummary", "restart and relocation did not help")
        .with_request_id("c0ffee00-1d2e-4f30-8a4b-5c6d7e8f9a0b")
        .with_start_message(
            "Router drops Wi-Fi every few minutes since the March update.",
            Some("Priya Raman".into()),
        )
        .skipping_deflection_bot();
    req.validate().unwrap();
    let ours = serde_json::to_value(&req).unwrap();
    let theirs: serde_json::Value =
        serde_json::from_slice(&fixture("request-create-conversation.json")).unwrap();
    assert_eq!(ours, theirs);
    let back: CreateConversation =
        serde_json::from_slice(&fixture("request-create-conversation.json")).unwrap();
    assert_eq!(back, req);
}

#[test]
fn create_requests_over_the_limits_are_refused() {
    let long = "x".repeat(201);
    let e = CreateConversation::new()
        .with_customer(CustomerContext::new("c").with_email(long))
        .validate()
        .unwrap_err();
    assert_eq!(e.limit, Limit::CustomerContextField);
    assert_eq!(e.field, "customercontext.email");
    // 200 multi-byte characters are fine
    CreateConversation::new()
        .with_customer(CustomerContext::new("é".repeat(200)))
        .validate()
        .unwrap();
    let mut req = CreateConversation::new();
    for i in 0..101 {
        req = req.with_hidden_context(format!("v{i}"), i);
    }
    let e = req.validate().unwrap_err();
    assert_eq!((e.limit, e.actual), (Limit::ContextVariables, 101));
    let e = CreateConversation::new()
        .with_start_message("y".repeat(MAX_START_MESSAGE_BYTES), None)
        .validate()
        .unwrap_err();
    assert_eq!(e.limit, Limit::StartMessage);
    assert!(e.to_string().contains("27 KB"));
}

#[test]
fn message_matches_the_fixture_shape() {
    let mut a = msg("The serial number is CX2-88-41907.");
    a.id = Some("sms-3F8A1C07D2B94E6A0B5C9D12E47F6A01".into());
    a.from = Some(ChannelAccount::new("customer-00917734").with_name("Priya Raman"));
    let mut att = Attachment::from_url(
        "image/jpeg",
        "https://files.contoso.example/u/c00917734/label.jpg",
    );
    att.name = Some("label.jpg".into());
    a.attachments = Some(vec![att]);
    let ours = serde_json::to_value(render(&a, CH).unwrap()).unwrap();
    let theirs: serde_json::Value =
        serde_json::from_slice(&fixture("request-send-message.json")).unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn custom_event_matches_the_fixture() {
    let mut a = Activity::event("DeviceTelemetry");
    a.conversation = Some(ConversationAccount::new(
        "2f6b8d0e-4a1c-4e3b-9d5f-7a9c1e3b5d7f",
    ));
    a.value = Some(RawJson::from_serialize(
        "{ \"firmware\": \"4.18.1\", \"uptimeHours\": 2, \"signal\": { \"isDisplayable\": true, \"value\": \"-71 dBm\" } }",
    ).unwrap());
    let mut ours = serde_json::to_value(render(&a, CH).unwrap()).unwrap();
    // The fixture omits channelId; we always send it (it must equal the header).
    assert_eq!(ours["channelId"], CH);
    ours.as_object_mut().unwrap().remove("channelId");
    let theirs: serde_json::Value =
        serde_json::from_slice(&fixture("request-custom-event.json")).unwrap();
    assert_eq!(ours, theirs);
    // a JSON object value is encoded as a string
    a.value = Some(RawJson::from_serialize(&serde_json::json!({"a": 1})).unwrap());
    let out = render(&a, CH).unwrap();
    assert_eq!(out.channel_data.unwrap()["customEventValue"], "{\"a\":1}");
}

#[test]
fn typing_and_end_of_conversation_carry_no_text() {
    let mut a = Activity::typing();
    a.conversation = Some(ConversationAccount::new("c"));
    a.from = Some(ChannelAccount::new("u").with_name("Priya"));
    let v = serde_json::to_value(render(&a, CH).unwrap()).unwrap();
    assert_eq!(v["type"], "typing");
    assert_eq!(v["from"]["name"], "Priya");
    a.kind = ActivityType::EndOfConversation;
    let v = serde_json::to_value(render(&a, CH).unwrap()).unwrap();
    assert_eq!(v["type"], "endOfConversation");
    assert!(v.get("text").is_none());
}

#[test]
fn limit_errors_name_the_field_and_the_limit() {
    let e = render(&msg(&"a".repeat(6001)), CH).unwrap_err();
    assert_eq!(
        (e.limit, e.field.as_str(), e.actual),
        (Limit::Text, "text", 6001)
    );
    render(&msg(&"😀".repeat(6000)), CH).unwrap();
    let mut a = msg("hi");
    a.from = Some(ChannelAccount::new("u").with_name("n".repeat(257)));
    assert_eq!(render(&a, CH).unwrap_err().field, "from.name");
    let e = render(&msg(""), CH).unwrap_err();
    assert_eq!(e.limit, Limit::EmptyMessage);
    let mut a = Activity::message("x");
    a.conversation = None;
    assert_eq!(render(&a, CH).unwrap_err().field, "conversation.id");
    let mut a = msg("x");
    a.kind = ActivityType::Invoke;
    assert_eq!(render(&a, CH).unwrap_err().limit, Limit::ActivityType);
    let mut a = msg("x");
    a.attachments = Some(vec![Attachment::default()]);
    assert_eq!(
        render(&a, CH).unwrap_err().field,
        "attachments.0.contentUrl"
    );
    let mut a = Activity::event("n".repeat(257));
    a.conversation = Some(ConversationAccount::new("c"));
    assert_eq!(render(&a, CH).unwrap_err().field, "name");
}
