//! Customer → Omnichannel through the Messaging API client.

use std::time::Duration;

use byoc_core::{
    Activity, ActivityType, ChannelAccount, ChannelAdapter, ConversationAccount, RawJson,
};
use byoc_messaging_api::{
    ClientError, CreateConversation, CustomerContext, HeaderNames, Limit, PageQuery, message_id,
};
use byoc_sim::fault::Fault;

use crate::support::{Setup, harness, harness_with};

fn message(conversation: &str, text: &str) -> Activity {
    let mut a = Activity::message(text);
    a.conversation = Some(ConversationAccount::new(conversation));
    a.from = Some(ChannelAccount::new("customer-00917734").with_name("Priya Raman"));
    a
}

#[tokio::test]
async fn create_is_idempotent_and_honours_is_new() {
    let h = harness().await;
    let req = CreateConversation::new()
        .with_customer(
            CustomerContext::new("customer-00917734")
                .with_name("Priya", "Raman")
                .with_email("priya.raman@example.com"),
        )
        .with_displayable_context("productname", "Mesh Router X2")
        .with_hidden_context("botsummary", "restart did not help")
        .with_request_id("c0ffee00-1d2e-4f30-8a4b-5c6d7e8f9a0b")
        .with_start_message("Router drops Wi-Fi.", Some("Priya Raman".into()))
        .skipping_deflection_bot();
    let first = h.client.create_conversation(&req).await.unwrap();
    assert!(first.is_new);
    assert_eq!(first.message_id.as_ref().map(String::len), Some(13));
    let again = h.client.create_conversation(&req).await.unwrap();
    assert!(!again.is_new);
    assert_eq!(again.conversation_id, first.conversation_id);
    // Same customer, new request id: the active conversation comes back.
    let same_customer = CreateConversation::new()
        .with_customer(CustomerContext::new("customer-00917734"))
        .with_request_id("another");
    let c = h.client.create_conversation(&same_customer).await.unwrap();
    assert!(!c.is_new);
    assert_eq!(c.conversation_id, first.conversation_id);

    let conv = h.sim.conversation(&first.conversation_id).unwrap();
    assert!(conv.skip_deflection_bot);
    assert_eq!(conv.customer["email"], "priya.raman@example.com");
    let ctx = h.client.context(&first.conversation_id).await.unwrap();
    let names: Vec<_> = ctx.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["botsummary", "productname"]);
    assert_eq!(ctx[1].value, "Mesh Router X2");
}

#[tokio::test]
async fn send_every_activity_kind_and_read_back_with_paging() {
    let h = harness().await;
    let conv = h.start("c-1").await;
    for i in 0..5 {
        let sent = h
            .client
            .send(&message(&conv, &format!("message {i}")))
            .await
            .unwrap();
        assert_eq!(sent.message_id.as_ref().map(String::len), Some(13));
    }
    let mut typing = Activity::typing();
    typing.conversation = Some(ConversationAccount::new(&conv));
    h.client.send(&typing).await.unwrap();
    let mut event = Activity::event("DeviceTelemetry");
    event.conversation = Some(ConversationAccount::new(&conv));
    event.value = Some(
        RawJson::from_serialize(&serde_json::json!({
            "firmware": "4.18.1",
            "signal": { "isDisplayable": true, "value": "-71 dBm" }
        }))
        .unwrap(),
    );
    h.client.send(&event).await.unwrap();

    let page = h
        .client
        .messages(&conv, &PageQuery::new().with_page_size(2))
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 2);
    assert!(page.continuation_token.is_some());
    let all = h
        .client
        .all_messages(&conv, PageQuery::new().with_page_size(2), 10)
        .await
        .unwrap();
    let texts: Vec<_> = all.iter().filter_map(|m| m.text.clone()).collect();
    assert_eq!(
        texts,
        (0..5).map(|i| format!("message {i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        all.len(),
        6,
        "5 messages and the custom event; typing is not stored"
    );
    let ids: Vec<_> = all.iter().map(|m| message_id(m).unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "message ids order the transcript");

    // The custom event updated the context variables.
    let ctx = h.client.context(&conv).await.unwrap();
    assert!(
        ctx.iter()
            .any(|c| c.name == "signal" && c.value == "-71 dBm")
    );

    let mut end = Activity::new(ActivityType::EndOfConversation);
    end.conversation = Some(ConversationAccount::new(&conv));
    h.client.send(&end).await.unwrap();
    let e = h
        .client
        .send(&message(&conv, "too late"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
}

#[tokio::test]
async fn list_active_conversations_with_paging() {
    let h = harness().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(h.start(&format!("customer-{i}")).await);
    }
    let page = h
        .client
        .list_conversations(&PageQuery::new().with_page_size(2))
        .await
        .unwrap();
    assert_eq!(page.conversations.len(), 2);
    assert!(page.continuation_token.is_some());
    let all = h
        .client
        .all_conversations(PageQuery::new().with_page_size(2), 10)
        .await
        .unwrap();
    let listed: Vec<_> = all.iter().map(|c| c.conversation_id.clone()).collect();
    assert_eq!(listed, ids);
    // Closed conversations are not listed.
    h.sim.agent().close(&ids[0]).await.unwrap();
    let all = h
        .client
        .all_conversations(PageQuery::new(), 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
}

#[tokio::test]
async fn limits_are_refused_before_sending() {
    let h = harness().await;
    let conv = h.start("c-1").await;
    let before = h.sim.requests().len();
    let e = h
        .client
        .send(&message(&conv, &"x".repeat(6001)))
        .await
        .unwrap_err();
    assert!(matches!(&e, ClientError::Render(l) if l.limit == Limit::Text));
    let mut req = CreateConversation::new();
    for i in 0..101 {
        req = req.with_hidden_context(format!("v{i}"), i);
    }
    let e = h.client.create_conversation(&req).await.unwrap_err();
    assert!(matches!(&e, ClientError::Render(l) if l.limit == Limit::ContextVariables));
    let e = h
        .client
        .create_conversation(
            &CreateConversation::new().with_start_message("y".repeat(28 * 1024), None),
        )
        .await
        .unwrap_err();
    assert!(matches!(&e, ClientError::Render(l) if l.limit == Limit::StartMessage));
    assert_eq!(
        h.sim.requests().len(),
        before,
        "nothing reached the service"
    );
    // 6000 characters exactly pass the client and the simulator's own check.
    h.client
        .send(&message(&conv, &"é".repeat(6000)))
        .await
        .unwrap();
}

#[tokio::test]
async fn token_expiry_mid_conversation_is_recovered() {
    let h = harness().await;
    let conv = h.start("c-1").await;
    h.client.send(&message(&conv, "one")).await.unwrap();
    let fetched = h.sim.token_requests();
    h.sim.expire_tokens();
    h.client.send(&message(&conv, "two")).await.unwrap();
    assert_eq!(h.sim.token_requests(), fetched + 1);
    let texts: Vec<_> = h
        .sim
        .conversation(&conv)
        .unwrap()
        .messages
        .iter()
        .filter_map(|m| m.activity["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(texts, ["one", "two"]);
}

#[tokio::test(start_paused = true)]
async fn token_is_refreshed_before_it_expires() {
    let mut opts = crate::support::fast();
    opts.token_lifetime = Duration::from_secs(600);
    let h = harness_with(Setup {
        opts,
        ..Setup::default()
    })
    .await;
    let conv = h.start("c-1").await;
    let base = h.sim.token_requests();
    h.client.send(&message(&conv, "a")).await.unwrap();
    assert_eq!(h.sim.token_requests(), base);
    // 600 s tokens, 300 s margin: refreshed once 300 s have passed, before the service
    // would refuse it.
    tokio::time::advance(Duration::from_secs(301)).await;
    h.client.send(&message(&conv, "b")).await.unwrap();
    assert_eq!(h.sim.token_requests(), base + 1);
}

#[tokio::test]
async fn legacy_header_names_are_sent_when_chosen() {
    let h = harness_with(Setup {
        headers: HeaderNames::Legacy,
        ..Setup::default()
    })
    .await;
    let conv = h.start("c-1").await;
    h.client.send(&message(&conv, "hi")).await.unwrap();
    let reqs = h.sim.requests();
    assert!(reqs.iter().all(|r| r.legacy_headers));
    assert!(
        reqs.iter()
            .all(|r| r.channel_id.as_deref() == Some(h.channel_id.as_str()))
    );
}

#[tokio::test]
async fn provider_failures_map_to_adapter_errors() {
    let h = harness().await;
    let conv = h.start("c-1").await;
    h.sim.faults().push(Fault::rate_limited(3), 1);
    let e: byoc_core::AdapterError = h
        .client
        .send(&message(&conv, "x"))
        .await
        .unwrap_err()
        .into();
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    h.sim.faults().push(Fault::unavailable(), 1);
    let e: byoc_core::AdapterError = h
        .client
        .send(&message(&conv, "x"))
        .await
        .unwrap_err()
        .into();
    assert!(e.is_retryable());
    h.sim.faults().push(Fault::Drop, 1);
    let e = h.client.send(&message(&conv, "x")).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    // The simulator's own validation: a channelId that is not the header's.
    let mut out = byoc_messaging_api::render(&message(&conv, "x"), h.channel_id.as_str()).unwrap();
    out.channel_id = Some("another-channel".into());
    let e = h.client.send_rendered(&out).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Status { status: 400, code: Some(c), .. } if c == "ChannelIdMismatch")
    );
    let e: byoc_core::AdapterError = h
        .client
        .send(&message("no-such-conversation", "x"))
        .await
        .unwrap_err()
        .into();
    assert!(!e.is_retryable());
    // And through the ChannelAdapter trait.
    let d = h
        .adapter
        .send(&message(&conv, "via adapter"))
        .await
        .unwrap();
    assert_eq!(d.provider_id().map(str::len), Some(13));
    assert_eq!(d.part_count(), 1);
    assert_eq!(d.conversation_id.as_deref(), Some(conv.as_str()));
}
