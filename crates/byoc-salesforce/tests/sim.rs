//! byoc-salesforce against the byoc-sim Salesforce simulator over real loopback HTTP and gRPC.

use std::sync::Arc;
use std::time::Duration;

use byoc_core::{
    Activity, ActivityType, AdapterError, Attachment, ChannelAccount, ChannelAdapter, RawJson,
    Secret,
};
use byoc_salesforce::api::{
    Acknowledgement, AcknowledgementType, AgentWorkUpdate, Participant, RouteRequest, RoutingType,
};
use byoc_salesforce::client::TransferOutcome;
use byoc_salesforce::normalize::RoutingRequested;
use byoc_salesforce::pubsub::{ReplayId, ReplayStart, Subscription, SubscriptionItem};
use byoc_salesforce::{
    ChannelDefinition, Config, Credentials, InteractionClient, SalesforceAdapter,
};
use byoc_sim::fault::Fault;
use byoc_sim::salesforce::{self as sim, SalesforceSim, SimConfig};
use futures_util::StreamExt as _;

const USER: &str = "15555550123";

fn config(s: &SalesforceSim, key: &str) -> Config {
    let c = s.config();
    Config::new(
        Credentials::new(&c.consumer_key, &c.username, Secret::new(key)).with_login_host(s.url()),
        &c.org_id,
        s.url(),
        &c.channel_address,
        ChannelDefinition::new(
            &c.authorization_context,
            &c.platform_event,
            &c.event_type_field,
            &c.payload_field,
        ),
    )
    .with_pubsub_url(s.pubsub_url())
    .with_reconnect_delay(Duration::from_millis(20))
    .with_fetch_batch(4)
}

async fn setup() -> (SalesforceSim, SalesforceAdapter) {
    let s = SalesforceSim::start(SimConfig::default()).await.unwrap();
    let client = InteractionClient::with_reqwest(config(&s, sim::TEST_PRIVATE_KEY_PEM)).unwrap();
    (s, SalesforceAdapter::new(Arc::new(client)))
}

fn customer(mut a: Activity) -> Activity {
    a.from = Some(ChannelAccount::new(USER));
    a
}

#[tokio::test]
async fn message_typing_failure_and_attachment_reach_the_interaction_service() {
    let (s, adapter) = setup().await;
    let d = adapter
        .send(&customer(Activity::message("STATUS 48213")))
        .await
        .unwrap();
    let conv = s.conversation(USER);
    assert_eq!(
        d.conversation_id.as_deref(),
        Some(conv.conversation_identifier.as_str())
    );
    adapter.send(&customer(Activity::typing())).await.unwrap();
    adapter
        .send(&customer(Activity::event(
            byoc_salesforce::render::EVENT_TYPING_STOPPED,
        )))
        .await
        .unwrap();
    let mut failed = customer(Activity::event(
        byoc_salesforce::render::EVENT_DELIVERY_FAILED,
    ));
    failed.value = Some(
        RawJson::from_serialize(&serde_json::json!({
            "failedConversationEntryIdentifier": "5b7d9f1a-3c5e-4a7b-9d1f-3a5c7e9b1d3f",
            "errorCode": "210"
        }))
        .unwrap(),
    );
    adapter.send(&failed).await.unwrap();
    let mut photo = customer(Activity::message("the label"));
    photo.attachments = Some(vec![Attachment::from_url(
        "image/png",
        "data:image/png;base64,iVBORw0KGgo=",
    )]);
    adapter.send(&photo).await.unwrap();

    let file = byoc_salesforce::render::AttachmentFile::new(
        "label.pdf",
        "application/pdf",
        vec![b'%'; 100],
    )
    .unwrap();
    adapter
        .client()
        .send_file(USER, file, Some("label".into()))
        .await
        .unwrap();

    let rec = s.recorded();
    assert_eq!(rec.len(), 6);
    assert_eq!(
        rec[5].attachment.clone().unwrap(),
        ("label.pdf".to_owned(), "application/pdf".to_owned(), 100)
    );
    assert_eq!(
        rec[0].json["interactions"][0]["payload"]["abstractMessage"]["staticContent"]["text"],
        "STATUS 48213"
    );
    assert_eq!(
        rec[1].json["interactions"][0]["payload"]["entryType"],
        "TypingStartedIndicator"
    );
    assert_eq!(
        rec[2].json["interactions"][0]["payload"]["entryType"],
        "TypingStoppedIndicator"
    );
    assert_eq!(
        rec[3].json["interactions"][0]["payload"]["recipient"]["role"],
        "EndUser"
    );
    assert_eq!(
        rec[4].json["interactions"][0]["interactionType"],
        "AttachmentInteraction"
    );
    let (_, mime, len) = rec[4].attachment.clone().unwrap();
    assert_eq!((mime.as_str(), len), ("image/png", 8));
    // A fresh RequestId per request; one token for all.
    let mut ids: Vec<_> = rec.iter().map(|r| r.request_id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    assert_eq!(s.tokens_issued(), 1);
}

#[tokio::test]
async fn expired_token_is_reminted_and_the_call_retried() {
    let (s, adapter) = setup().await;
    adapter
        .send(&customer(Activity::message("one")))
        .await
        .unwrap();
    s.expire_tokens();
    adapter
        .send(&customer(Activity::message("two")))
        .await
        .unwrap();
    assert_eq!(s.tokens_issued(), 2);
    assert_eq!(s.recorded().len(), 2);
}

#[tokio::test]
async fn faults_and_service_errors_map_to_kinds() {
    let (s, adapter) = setup().await;
    adapter
        .send(&customer(Activity::message("warm up")))
        .await
        .unwrap();
    s.faults().push(Fault::rate_limited(3), 1);
    let e = adapter
        .send(&customer(Activity::message("x")))
        .await
        .unwrap_err();
    assert!(matches!(e, AdapterError::RateLimited { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    s.faults().push(Fault::unavailable(), 1);
    let e = adapter
        .send(&customer(Activity::message("x")))
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    s.faults().push(
        Fault::status(
            409,
            Some(
                r#"{"code":10055,"message":"Conversation precondition failed. Please retry."}"#
                    .into(),
            ),
        ),
        1,
    );
    let e = adapter
        .send(&customer(Activity::message("x")))
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.code(), Some("10055"));
    s.faults().push(Fault::Drop, 1);
    let e = adapter
        .send(&customer(Activity::message("x")))
        .await
        .unwrap_err();
    assert!(e.is_retryable());

    // A validation error from the service: never retried, code kept.
    let mut other = config(&s, sim::TEST_PRIVATE_KEY_PEM);
    other.channel_address = "not-our-channel".into();
    let a = SalesforceAdapter::new(Arc::new(InteractionClient::with_reqwest(other).unwrap()));
    let e = a.send(&customer(Activity::message("x"))).await.unwrap_err();
    assert!(matches!(e, AdapterError::BadRequest { .. }), "{e:?}");
    assert_eq!(e.code(), Some("10017"));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn wrong_key_is_refused_by_the_token_endpoint() {
    let s = SalesforceSim::start(SimConfig::default()).await.unwrap();
    // A different, valid RSA key: the bundled public key of the adapter's tests is the
    // same pair, so use a PKCS#1 rendition check instead: a tampered assertion audience.
    let mut c = config(&s, sim::TEST_PRIVATE_KEY_PEM);
    c.credentials = c.credentials.with_audience("https://login.salesforce.com");
    let a = SalesforceAdapter::new(Arc::new(InteractionClient::with_reqwest(c).unwrap()));
    let e = a.send(&customer(Activity::message("x"))).await.unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert_eq!(e.code(), Some("invalid_grant"));
    let mut c = config(&s, sim::TEST_PRIVATE_KEY_PEM);
    c.credentials.username = "someone-else@byoc.example".into();
    let a = SalesforceAdapter::new(Arc::new(InteractionClient::with_reqwest(c).unwrap()));
    assert!(
        a.send(&customer(Activity::message("x")))
            .await
            .unwrap_err()
            .is_unauthorized()
    );
}

#[tokio::test]
async fn session_participant_consent_capabilities_and_routing_apis() {
    let (s, adapter) = setup().await;
    adapter
        .send(&customer(Activity::message("hi")))
        .await
        .unwrap();
    let conv = s.conversation(USER);
    let c = adapter.client();
    let ack = Acknowledgement {
        timestamp: 1_714_668_400_000,
        kind: AcknowledgementType::Read,
        acknowledged_entry: "80bb78b1-8240-4e22-ac55-5d517231ca1e".into(),
        created_entry: uuid::Uuid::new_v4().to_string(),
    };
    c.acknowledge(USER, &conv.conversation_identifier, vec![ack.clone(); 25])
        .await
        .unwrap();
    assert!(
        c.acknowledge(USER, &conv.conversation_identifier, vec![ack; 26])
            .await
            .is_err()
    );
    c.remove_participant(
        &conv.conversation_identifier,
        Participant::agent("0055g00000Jk7Qp"),
    )
    .await
    .unwrap();
    c.update_consent(USER, "ExplicitlyOptedIn").await.unwrap();
    c.register_capabilities(
        &serde_json::json!({"capabilities": {"appType": "custom", "channelCapabilities": []}}),
    )
    .await
    .unwrap();
    let created = c.create_conversation("15555550199", None).await.unwrap();
    assert!(created.conversation_identifier.is_some());
    let r = c
        .route(&RouteRequest {
            conversation_identifier: conv.conversation_identifier.clone(),
            routing_type: RoutingType::Initial,
            routing_info: None,
        })
        .await
        .unwrap();
    assert_eq!(r.work_item_id.as_deref(), Some(conv.work_item_id.as_str()));
    c.cancel_route(&conv.conversation_identifier, "Cancel")
        .await
        .unwrap();
    c.update_agent_work(&AgentWorkUpdate {
        work_id: "0Bz5g000000AgW1".into(),
        status: "Close".into(),
        context_type: "Agent".into(),
    })
    .await
    .unwrap();
    c.end_session(USER, &conv.conversation_identifier)
        .await
        .unwrap();
    let e = c
        .end_session(USER, "no-such-conversation")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("10025"));
    let paths: Vec<(String, String)> = s
        .recorded()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert!(paths.contains(&("DELETE".into(), "/api/v1/route".into())));
    assert!(paths.contains(&("PATCH".into(), "/api/v1/agentWork".into())));
    assert!(paths.contains(&("PATCH".into(), "/api/v1/consent".into())));
}

async fn next_event(sub: &mut Subscription) -> byoc_salesforce::pubsub::ReceivedEvent {
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

#[tokio::test]
async fn receive_accepts_a_relayed_payload_for_this_channel_only() {
    let (_s, adapter) = setup().await;
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/salesforce/pubsub-interaction-text-wrapped.json"
    ))
    .unwrap();
    let mut req = http::Request::new(bytes::Bytes::from(body));
    *req.method_mut() = http::Method::POST;
    let inbound = adapter.receive(req).await.unwrap();
    assert_eq!(inbound.activities.len(), 1);
    assert_eq!(inbound.response.status(), 200);
    let bad = http::Request::new(bytes::Bytes::from_static(b"{"));
    assert!(adapter.receive(bad).await.is_err());
}

#[tokio::test]
async fn token_refused_when_the_app_holds_another_certificate() {
    let cfg = SimConfig::default().with_certificate(include_str!("keys/other-cert.pem"));
    let s = SalesforceSim::start(cfg).await.unwrap();
    let a = SalesforceAdapter::new(Arc::new(
        InteractionClient::with_reqwest(config(&s, sim::TEST_PRIVATE_KEY_PEM)).unwrap(),
    ));
    let e = a.send(&customer(Activity::message("x"))).await.unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert_eq!(e.code(), Some("invalid_grant"));
    assert_eq!(s.tokens_issued(), 0);
    // The same key accepted through the right certificate, and through a bare public key.
    for cfg in [
        SimConfig::default().with_certificate(sim::TEST_CERTIFICATE_PEM),
        SimConfig::default().with_public_key(sim::TEST_PUBLIC_KEY_PEM),
    ] {
        let s = SalesforceSim::start(cfg).await.unwrap();
        let a = SalesforceAdapter::new(Arc::new(
            InteractionClient::with_reqwest(config(&s, sim::TEST_PRIVATE_KEY_PEM)).unwrap(),
        ));
        a.send(&customer(Activity::message("x"))).await.unwrap();
    }
}

#[tokio::test]
async fn a_request_prepared_outside_the_crate_is_accepted() {
    use byoc_salesforce::client::{
        CallContext, HttpTransport as _, ReqwestTransport, parse_json, prepare_interaction,
    };
    let (s, adapter) = setup().await;
    let client = adapter.client();
    let token = client.access_token().await.unwrap();
    let rendered = byoc_salesforce::render::render_interaction(
        &customer(Activity::message("prepared by hand")),
        &client.config().channel_address,
        1_714_668_069_301,
    )
    .unwrap();
    let rid = uuid::Uuid::new_v4().to_string();
    let ctx = CallContext::for_config(client.config(), &token.token, &rid);
    let req = prepare_interaction(&client.config().scrt_url, &rendered, &ctx, "byoc-b1").unwrap();
    let resp = ReqwestTransport::new().unwrap().execute(req).await.unwrap();
    let ok: byoc_salesforce::api::InteractionResponse = parse_json(&resp).unwrap();
    assert_eq!(ok.success, Some(true));
    assert_eq!(s.recorded()[0].request_id, rid);
}

#[tokio::test]
async fn a_retried_send_without_id_keeps_its_entry_id() {
    let (s, adapter) = setup().await;
    let a = customer(Activity::message("yes"));
    assert!(a.id.is_none());
    s.faults().push(Fault::status(503, None), 1);
    assert!(adapter.send(&a).await.unwrap_err().is_retryable());
    let d1 = adapter.send(&a).await.unwrap();
    let d2 = adapter.send(&a.clone()).await.unwrap();
    let rec = s.recorded();
    let id = |i: usize| rec[i].json["interactions"][0]["payload"]["id"].clone();
    assert_eq!(rec.len(), 2);
    assert_eq!(id(0), id(1));
    assert_eq!(d1.provider_id(), d2.provider_id());
    assert_eq!(d1.provider_id(), id(0).as_str());
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
    let s = SalesforceSim::start(cfg).await.unwrap();
    let client = InteractionClient::with_reqwest(config(&s, sim::TEST_PRIVATE_KEY_PEM)).unwrap();
    let adapter = SalesforceAdapter::new(Arc::new(client));
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
