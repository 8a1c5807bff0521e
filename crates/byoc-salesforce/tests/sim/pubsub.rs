//! The outbound side: the Pub/Sub subscription against the simulator's gRPC server.

use std::time::Duration;

use byoc_core::{Activity, ActivityType, ChannelAdapter};
use byoc_salesforce::{
    AttachmentUploadResult, ReplayId, ReplayStart, RoutingRequested, Subscription,
    SubscriptionItem, TransferOutcome, UploadErrorType,
};
use byoc_sim::salesforce::{self as sim, SimConfig};
use futures_util::StreamExt as _;

use super::{USER, config, customer, setup};

pub(crate) async fn next_event(sub: &mut Subscription) -> byoc_salesforce::ReceivedEvent {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("an event within 20 s")
            .expect("stream open")
            .expect("no fatal error");
        if let SubscriptionItem::Event(e) = item {
            return e;
        }
    }
}

#[tokio::test]
async fn outbound_events_become_activities_and_escalation_transfers() {
    let (s, adapter) = setup().await;
    adapter
        .send(&customer(Activity::message("I need a human")))
        .await
        .unwrap();
    let conv = s.conversation(USER);
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    s.agent_says(USER, "0XxBot00000001", "Agentforce", "Let me get someone")
        .unwrap();
    let correlation = s
        .bot_escalates(USER, None, Some("0055g00000Jk7Qp"))
        .unwrap();
    s.agent_joins(USER, "0055g00000Jk7Qp", "Grace Liu").unwrap();
    s.agent_says(USER, "0055g00000Jk7Qp", "Grace Liu", "Hi, I'm Grace")
        .unwrap();
    s.publish_raw("Interaction", &serde_json::json!({
        "channelAddressIdentifier": "another-channel",
        "recipient": {"subject": "someone"}, "payload": {"identifier": "z", "entryType": "TypingStartedIndicator"}
    }).to_string()).unwrap();
    s.end_session(USER).unwrap();

    let e = next_event(&mut sub).await;
    assert_eq!(e.activities[0].text.as_deref(), Some("Let me get someone"));
    assert_eq!(
        e.activities[0].from.as_ref().unwrap().role,
        Some(byoc_core::activity::RoleType::Bot)
    );
    let e = next_event(&mut sub).await;
    assert_eq!(e.event_type.as_deref(), Some("RoutingRequested"));
    let routing: RoutingRequested = e.activities[0].value.as_ref().unwrap().parse().unwrap();
    assert_eq!(
        routing.routing_correlation_id.as_deref(),
        Some(correlation.as_str())
    );
    // The transfer sequence: agentWork then routingResult, well within 60 s.
    let out = adapter
        .client()
        .transfer(&routing, &conv.work_item_id, None, None)
        .await
        .unwrap();
    assert!(matches!(out, TransferOutcome::Assigned(_)));
    let rec = s.recorded();
    let n = rec.len();
    assert_eq!(rec[n - 2].path, "/api/v1/agentWork");
    assert_eq!(
        rec[n - 2].json["routingContext"]["routingCorrelationId"],
        correlation
    );
    assert_eq!(rec[n - 1].path, "/api/v1/routingResult");
    assert_eq!(rec[n - 1].json["success"], true);

    let e = next_event(&mut sub).await;
    assert_eq!(e.activities[0].kind, ActivityType::ConversationUpdate);
    assert_eq!(
        e.activities[0].members_added.as_ref().unwrap()[0]
            .name
            .as_deref(),
        Some("Grace Liu")
    );
    let e = next_event(&mut sub).await;
    assert_eq!(e.activities[0].text.as_deref(), Some("Hi, I'm Grace"));
    assert_eq!(
        e.conversation_id.as_deref(),
        Some(conv.conversation_identifier.as_str())
    );
    let e = next_event(&mut sub).await;
    assert!(
        e.activities.is_empty() && e.skipped.is_some(),
        "another channel's event is skipped"
    );
    let e = next_event(&mut sub).await;
    assert_eq!(e.activities[0].kind, ActivityType::EndOfConversation);
}

#[tokio::test]
async fn flow_transfer_routes_through_omni() {
    let (s, adapter) = setup().await;
    adapter
        .send(&customer(Activity::message("hello")))
        .await
        .unwrap();
    let conv = s.conversation(USER);
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    s.bot_escalates(USER, Some("3005g000000KqLm"), None)
        .unwrap();
    let e = next_event(&mut sub).await;
    let routing: RoutingRequested = e.activities[0].value.as_ref().unwrap().parse().unwrap();
    let out = adapter
        .client()
        .transfer(&routing, &conv.work_item_id, None, Some("00G5g000000QuEu"))
        .await
        .unwrap();
    assert!(matches!(out, TransferOutcome::Routed(_)));
    let last = s.recorded().pop().unwrap();
    assert_eq!(
        last.json["routingInfo"]["flow"]["flowId"],
        "3005g000000KqLm"
    );
    assert_eq!(last.json["routingType"], "Transfer");
}

#[tokio::test]
async fn restart_resumes_from_the_replay_id_with_nothing_lost_or_repeated() {
    let (s, adapter) = setup().await;
    for i in 0..3 {
        s.agent_says(USER, "0055g00000Jk7Qp", "Grace", &format!("m{i}"))
            .unwrap();
    }
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    let mut seen = Vec::new();
    let mut last: Option<ReplayId> = None;
    for _ in 0..2 {
        let e = next_event(&mut sub).await;
        seen.push(e.activities[0].text.clone().unwrap());
        last = Some(e.replay_id);
    }
    drop(sub); // the subscriber "crashes" after persisting two events
    for i in 3..9 {
        s.agent_says(USER, "0055g00000Jk7Qp", "Grace", &format!("m{i}"))
            .unwrap();
    }
    let mut sub = adapter.subscribe(ReplayStart::After(last.unwrap()));
    for _ in 2..9 {
        let e = next_event(&mut sub).await;
        seen.push(e.activities[0].text.clone().unwrap());
    }
    let expected: Vec<String> = (0..9).map(|i| format!("m{i}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn dropped_stream_and_expired_token_reconnect_without_loss() {
    let (s, adapter) = setup().await;
    s.drop_streams_after(2);
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    for i in 0..5 {
        s.agent_says(USER, "0055g00000Jk7Qp", "Grace", &format!("m{i}"))
            .unwrap();
    }
    let mut texts = Vec::new();
    let mut reconnects = 0;
    while texts.len() < 5 {
        let item = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match item {
            SubscriptionItem::Event(e) => texts.push(e.activities[0].text.clone().unwrap()),
            SubscriptionItem::Reconnecting { error, .. } => {
                reconnects += 1;
                // The second time round, the token has expired too.
                if reconnects == 1 {
                    s.expire_tokens();
                }
                assert!(error.is_retryable() || error.is_unauthorized(), "{error:?}");
            }
            _ => {}
        }
    }
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4"]);
    assert!(reconnects >= 1);
    assert!(s.tokens_issued() >= 2, "the token was minted again");
}

async fn next(sub: &mut Subscription) -> SubscriptionItem {
    tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .expect("an item")
        .expect("stream open")
        .expect("no fatal error")
}

/// Keep-alives: the simulator sends them at its configured interval on an idle stream, the
/// subscriber yields each with the latest replay id and keeps the stream (no reconnect, no
/// new token), and events published later arrive on it. Real time with a short interval:
/// under paused time tokio's auto-advance outruns the loopback HTTP/2 connection (it is
/// torn down with "error reading a body"), so only the order of items is asserted here.
#[tokio::test]
async fn keepalives_keep_the_stream() {
    let cfg = SimConfig::default().with_keepalive(Duration::from_millis(50));
    let s = sim::SalesforceSim::start(cfg).await.unwrap();
    let adapter =
        byoc_salesforce::SalesforceAdapter::new(config(&s, sim::TEST_PRIVATE_KEY_PEM)).unwrap();
    s.agent_says(USER, "0055g00000Jk7Qp", "Grace", "m0")
        .unwrap();
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    let SubscriptionItem::Event(first) = next(&mut sub).await else {
        panic!("the event first");
    };
    for _ in 0..3 {
        match next(&mut sub).await {
            SubscriptionItem::KeepAlive { latest_replay_id } => {
                assert_eq!(latest_replay_id, first.replay_id);
            }
            other => panic!("expected a keep-alive, got {other:?}"),
        }
    }
    s.agent_says(USER, "0055g00000Jk7Qp", "Grace", "m1")
        .unwrap();
    let second = loop {
        match next(&mut sub).await {
            SubscriptionItem::Event(e) => break e,
            SubscriptionItem::KeepAlive { .. } => {}
            other => panic!("expected the event, got {other:?}"),
        }
    };
    assert_eq!(second.activities[0].text.as_deref(), Some("m1"));
    assert_eq!(s.tokens_issued(), 1, "no reconnect");
}

/// A file the customer sent comes back as a `messageUpdate` with each attachment's upload
/// result, through Avro and gRPC as Salesforce publishes it.
#[tokio::test]
async fn an_upload_result_arrives_as_a_message_update() {
    let (s, adapter) = setup().await;
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    let payload = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/salesforce/pubsub-message-updated-attachments.json"
    ))
    .unwrap();
    s.publish_raw("Interaction", &payload).unwrap();
    let e = next_event(&mut sub).await;
    assert_eq!(e.event_type.as_deref(), Some("Interaction"));
    assert_eq!(
        e.entry_identifier.as_deref(),
        Some("5d7f9b1d-3f5b-4d7f-9b1d-3f5b7d9f1b3c")
    );
    let a = &e.activities[0];
    assert_eq!(a.kind, ActivityType::MessageUpdate);
    assert_eq!(
        a.id.as_deref(),
        Some("c2e4a6b8-d0f2-4a4c-8e6a-b8d0f2a4c6e8")
    );
    assert_eq!(a.text.as_deref(), Some("photo of the router label"));
    let results: Vec<_> = a
        .attachments
        .as_ref()
        .unwrap()
        .iter()
        .map(AttachmentUploadResult::of)
        .collect();
    assert_eq!(
        results,
        [
            Some(AttachmentUploadResult::Completed),
            Some(AttachmentUploadResult::Failed {
                error: UploadErrorType::AttachmentTooLarge
            })
        ]
    );
    assert_eq!(
        e.conversation_id.as_deref(),
        Some("e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f")
    );
}
