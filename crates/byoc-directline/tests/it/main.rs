//! Integration tests: the adapter and clients against `byoc-sim directline` over real
//! loopback HTTP and WebSockets. One binary; the modules below each cover one concern.

mod answers;
mod streams;
mod tls;
mod tokens;

// The example's bot app, driven by `answers`.
#[allow(dead_code, unreachable_pub)]
#[path = "../../../../examples/bot_endpoint.rs"]
mod example;

use std::sync::Arc;
use std::time::Duration;

use byoc_axum::{Received, SinkError, webhook};
use byoc_core::activity::ActivityType;
use byoc_core::{Activity, ChannelAccount, ChannelAdapter, ConversationAccount, Secret};
use byoc_directline::{
    ActivityStream, AttachmentData, ClientError, ConnectorAdapter, ConnectorConfig,
    DirectLineClient, DirectLineConfig, DirectLineCredential, RenderError, TransportErrorKind,
    Upload,
};
use byoc_sim::directline::{
    ChannelToken, DEFAULT_BOT_APP_ID, DEFAULT_BOT_APP_PASSWORD, DEFAULT_SECRET, DirectLineSim,
    Options,
};
use byoc_sim::fault::Fault;
use bytes::Bytes;
use futures_util::StreamExt as _;

pub(crate) fn endpoint(sim: &DirectLineSim) -> ConnectorAdapter {
    let config = ConnectorConfig::new(DEFAULT_BOT_APP_ID, Secret::new(DEFAULT_BOT_APP_PASSWORD))
        .unwrap()
        .with_authority(
            sim.url().parse().unwrap(),
            sim.openid_metadata_url().parse().unwrap(),
            byoc_sim::directline::CHANNEL_ISSUER,
        )
        .unwrap();
    ConnectorAdapter::new(config).unwrap()
}

pub(crate) fn inbound(sim: &DirectLineSim, channel: &str, conv: &str) -> Activity {
    let mut a = Activity::message("hello bot");
    a.id = Some(format!("{conv}|0000001"));
    a.channel_id = Some(channel.into());
    a.service_url = Some(sim.service_url());
    a.conversation = Some(ConversationAccount::new(conv));
    a.from = Some(ChannelAccount::new("user-1"));
    a.recipient = Some(ChannelAccount::new(DEFAULT_BOT_APP_ID));
    a
}

pub(crate) fn request(token: &str, activity: &Activity) -> http::Request<Bytes> {
    http::Request::post("/api/messages")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Bytes::from(activity.to_vec().unwrap()))
        .unwrap()
}

#[tokio::test]
async fn every_jwt_failure_is_a_distinct_401() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let ep = endpoint(&sim);
    let good = ChannelToken::valid(DEFAULT_BOT_APP_ID, &sim.service_url());
    let act = inbound(&sim, "webchat", "c1");

    let ok = ep
        .receive(request(&sim.sign_channel_token(&good), &act))
        .await
        .unwrap();
    assert_eq!(ok.response.status(), 200);
    assert_eq!(ok.activities[0].text.as_deref(), Some("hello bot"));

    let mut cases: Vec<(&str, String, Activity)> = Vec::new();
    let mut t = good.clone();
    t.audience = "another-bot".into();
    cases.push(("WrongAudience", sim.sign_channel_token(&t), act.clone()));
    let mut t = good.clone();
    t.issuer = "https://sts.windows.net/evil/".into();
    cases.push(("WrongIssuer", sim.sign_channel_token(&t), act.clone()));
    let mut t = good.clone();
    t.expires_in = -600;
    t.not_before = -4000;
    cases.push(("Expired", sim.sign_channel_token(&t), act.clone()));
    let mut t = good.clone();
    t.not_before = 900;
    cases.push(("NotYetValid", sim.sign_channel_token(&t), act.clone()));
    let mut t = good.clone();
    t.key = 1; // sim-key-2: not published in the JWKS
    cases.push(("UnknownKey", sim.sign_channel_token(&t), act.clone()));
    cases.push((
        "MissingEndorsement",
        sim.sign_channel_token(&good),
        inbound(&sim, "unendorsed-channel", "c1"),
    ));
    let mut other_url = act.clone();
    other_url.service_url = Some("https://attacker.example/".into());
    cases.push((
        "ServiceUrlMismatch",
        sim.sign_channel_token(&good),
        other_url,
    ));
    let mut t = good.clone();
    t.alg = "HS256".into();
    cases.push((
        "DisallowedAlgorithm",
        sim.sign_channel_token(&t),
        act.clone(),
    ));
    let valid = sim.sign_channel_token(&good);
    let payload = valid.split('.').nth(1).unwrap();
    let none = format!("eyJhbGciOiJub25lIiwia2lkIjoic2ltLWtleS0xIn0.{payload}.");
    cases.push(("DisallowedAlgorithm", none, act.clone()));
    let mut forged = valid.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    cases.push(("BadSignature", forged, act.clone()));

    for (code, token, activity) in cases {
        let err = ep.receive(request(&token, &activity)).await.unwrap_err();
        assert_eq!(err.code(), Some(code), "{err}");
        assert_eq!(err.http_status(), 401, "{code}");
        let body = err.to_response();
        assert!(!String::from_utf8_lossy(body.body()).contains(&token));
    }
    let no_auth = http::Request::post("/")
        .body(Bytes::from(act.to_vec().unwrap()))
        .unwrap();
    assert_eq!(
        ep.receive(no_auth).await.unwrap_err().code(),
        Some("MissingAuthorization")
    );

    // Metadata fetched once, JWKS once at start plus at most one refetch for the unknown kid.
    let (meta, jwks) = sim.metadata_fetches();
    assert!(meta <= 2 && jwks <= 2, "{meta} {jwks}");
}

#[tokio::test]
async fn key_rotation_is_picked_up_by_one_refetch() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let ep = endpoint(&sim);
    let act = inbound(&sim, "msteams", "c2");
    let good = ChannelToken::valid(DEFAULT_BOT_APP_ID, &sim.service_url());
    ep.receive(request(&sim.sign_channel_token(&good), &act))
        .await
        .unwrap();
    sim.publish_key(1);
    let mut rotated = good.clone();
    rotated.key = 1;
    ep.receive(request(&sim.sign_channel_token(&rotated), &act))
        .await
        .unwrap();
    // A second unknown kid within the hour does not refetch again.
    let mut unknown = good;
    unknown.key = 2;
    let before = sim.metadata_fetches();
    let err = ep
        .receive(request(&sim.sign_channel_token(&unknown), &act))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnknownKey"));
    assert_eq!(sim.metadata_fetches(), before);
}

#[tokio::test]
async fn replies_go_through_the_connector_with_one_cached_token() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    sim.ensure_conversation("c3");
    let ep = Arc::new(endpoint(&sim));
    let act = inbound(&sim, "webchat", "c3");
    let token =
        sim.sign_channel_token(&ChannelToken::valid(DEFAULT_BOT_APP_ID, &sim.service_url()));

    // Before any validated activity, the service URL is not trusted.
    let reply = act.create_reply("too early");
    assert_eq!(
        ep.send(&reply).await.unwrap_err().field(),
        Some("serviceUrl")
    );

    let inbound = ep.receive(request(&token, &act)).await.unwrap();
    let reply = inbound.activities[0].create_reply("hi from the bot");
    let mut sends = Vec::new();
    for _ in 0..5 {
        let ep = ep.clone();
        let reply = reply.clone();
        sends.push(tokio::spawn(async move { ep.send(&reply).await }));
    }
    for s in sends {
        let delivery = s.await.unwrap().unwrap();
        assert!(delivery.provider_id().is_some());
        assert_eq!(delivery.part_count(), 1);
        assert_eq!(delivery.conversation_id.as_deref(), Some("c3"));
    }
    assert_eq!(sim.token_requests(), 1, "one token for concurrent sends");
    let stored = sim.activities("c3");
    assert_eq!(stored.len(), 5);
    assert_eq!(stored[0]["text"], "hi from the bot");
    assert_eq!(stored[0]["replyToId"], "c3|0000001");

    // Update and delete.
    let id = stored[0]["id"].as_str().unwrap().to_owned();
    let su = sim.service_url();
    ep.connector()
        .update_activity(&su, "c3", &id, &Activity::message("edited"))
        .await
        .unwrap();
    assert_eq!(sim.activities("c3")[0]["text"], "edited");
    ep.connector()
        .delete_activity(&su, "c3", &id)
        .await
        .unwrap();
    assert_eq!(sim.activities("c3")[0]["type"], "messageDelete");
    // Create conversation and upload.
    let created = ep
        .connector()
        .create_conversation(&su, &serde_json::json!({"isGroup": false, "bot": {"id": DEFAULT_BOT_APP_ID}, "members": [{"id": "u"}], "activity": {"type": "message", "text": "first"}}))
        .await
        .unwrap();
    assert!(created.activity_id.is_some());
    let att = ep
        .connector()
        .upload_attachment(
            &su,
            &created.id,
            &AttachmentData::new("text/plain", "a.txt", Bytes::from_static(b"abc")),
        )
        .await
        .unwrap();
    assert!(att.id.is_some());

    // 429 with Retry-After is retryable with its delay; 5xx retryable; 4xx permanent.
    sim.faults().push(Fault::rate_limited(3), 1);
    let err = ep.send(&reply).await.unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    sim.faults().push(Fault::unavailable(), 1);
    assert!(ep.send(&reply).await.unwrap_err().is_retryable());
    sim.faults().push(
        Fault::status(
            400,
            Some(r#"{"error":{"code":"BadArgument","message":"nope"}}"#.into()),
        ),
        1,
    );
    let err = ep.send(&reply).await.unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.code(), Some("BadArgument"));
    // Unknown conversation on the connector.
    let mut lost = reply.clone();
    lost.conversation = Some(ConversationAccount::new("nope"));
    assert!(!ep.send(&lost).await.unwrap_err().is_retryable());
}

#[tokio::test(start_paused = true)]
async fn connector_token_is_refreshed_five_minutes_before_expiry() {
    let sim =
        DirectLineSim::start(Options::default().with_connector_token_ttl(Duration::from_secs(600)))
            .await
            .unwrap();
    sim.ensure_conversation("c4");
    let ep = endpoint(&sim);
    let token =
        sim.sign_channel_token(&ChannelToken::valid(DEFAULT_BOT_APP_ID, &sim.service_url()));
    let act = inbound(&sim, "webchat", "c4");
    ep.receive(request(&token, &act)).await.unwrap();
    let reply = act.create_reply("one");
    ep.send(&reply).await.unwrap();
    tokio::time::advance(Duration::from_secs(240)).await;
    ep.send(&reply).await.unwrap();
    assert_eq!(sim.token_requests(), 1);
    tokio::time::advance(Duration::from_secs(61)).await; // 301 s: within 5 min of the 600 s expiry
    ep.send(&reply).await.unwrap();
    assert_eq!(sim.token_requests(), 2);
}

pub(crate) fn dl_client(sim: &DirectLineSim) -> Arc<DirectLineClient> {
    let config = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new(DEFAULT_SECRET)))
        .unwrap()
        .with_base_url(sim.directline_url().parse().unwrap())
        .unwrap()
        .with_user("dl_test_user", Some("Tess".into()))
        .unwrap()
        .with_poll_interval(Duration::from_millis(50))
        .unwrap()
        .with_reconnect_backoff(Duration::from_millis(10), Duration::from_millis(50));
    Arc::new(DirectLineClient::new(config).unwrap())
}

#[tokio::test]
async fn direct_line_polling_with_watermark_resumption_after_restart() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let client = dl_client(&sim);
    let conv = client.start().await.unwrap();
    client
        .post_activity(&Activity::message("first"))
        .await
        .unwrap();
    let got = client.get_activities().await.unwrap();
    let texts: Vec<_> = got.iter().filter_map(|a| a.text.clone()).collect();
    assert_eq!(texts, ["first", "Echo: first"]);
    assert_eq!(got[0].from_id(), Some("dl_test_user"));
    assert!(
        client.get_activities().await.unwrap().is_empty(),
        "nothing new, nothing repeated"
    );
    let watermark = client.watermark().await;
    assert!(watermark.is_some());

    // A new process resumes with the saved watermark and sees only what follows.
    drop(client);
    let client = dl_client(&sim);
    client
        .resume(&conv.conversation_id, watermark)
        .await
        .unwrap();
    client
        .post_activity(&Activity::message("second"))
        .await
        .unwrap();
    let texts: Vec<_> = client
        .get_activities()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|a| a.text)
        .collect();
    assert_eq!(texts, ["second", "Echo: second"]);

    // Expired tokens: refresh fails, the secret takes over, the call is retried once.
    sim.expire_tokens();
    client
        .post_activity(&Activity::message("third"))
        .await
        .unwrap();
    // 429 and 502 are mapped.
    sim.faults().push(Fault::rate_limited(2), 1);
    assert!(
        matches!(client.post_activity(&Activity::message("x")).await, Err(ClientError::Status { status: 429, retry_after: Some(d), .. }) if d == Duration::from_secs(2))
    );
    sim.faults().push(
        Fault::status(
            502,
            Some(r#"{"error":{"code":"BotRejectedActivity","message":"x"}}"#.into()),
        ),
        1,
    );
    assert!(matches!(
        client.post_activity(&Activity::message("x")).await,
        Err(ClientError::BotRejectedActivity)
    ));
    // Too large: refused before sending.
    let big = Activity::message("x".repeat(300_000));
    assert!(matches!(
        client.post_activity(&big).await,
        Err(ClientError::Render(RenderError::TooLarge { .. }))
    ));
    // Unknown conversation: ended.
    let other = dl_client(&sim);
    assert!(matches!(
        other.resume("no-such-conv", None).await,
        Err(ClientError::ConversationEnded)
    ));
}

#[tokio::test]
async fn direct_line_answers_are_read_up_to_the_configured_size() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let config = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new(DEFAULT_SECRET)))
        .unwrap()
        .with_base_url(sim.directline_url().parse().unwrap())
        .unwrap()
        .with_max_response_bytes(4096)
        .unwrap();
    let client = DirectLineClient::new(config).unwrap();
    client.start().await.unwrap();
    client
        .post_activity(&Activity::message("x".repeat(8192)))
        .await
        .unwrap();
    match client.get_activities().await {
        Err(ClientError::Transport { endpoint, source }) => {
            assert_eq!(endpoint, "conversations/{id}/activities");
            assert_eq!(source.kind(), TransportErrorKind::BodyTooLarge);
        }
        other => panic!("{other:?}"),
    }
}

pub(crate) async fn next_text(stream: &mut ActivityStream, want: &str) -> Activity {
    loop {
        let a = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("stream stalled")
            .unwrap()
            .unwrap();
        if a.text.as_deref() == Some(want) || (want.is_empty() && a.kind != ActivityType::Message) {
            return a;
        }
    }
}

#[tokio::test]
async fn websocket_stream_reconnects_after_the_socket_drops() {
    let sim = DirectLineSim::start(Options::default().with_keepalive(Duration::from_millis(100)))
        .await
        .unwrap();
    let client = dl_client(&sim);
    let conv = client.start().await.unwrap();
    let mut stream = client.stream();
    client
        .post_activity(&Activity::message("one"))
        .await
        .unwrap();
    next_text(&mut stream, "Echo: one").await;
    sim.drop_sockets();
    tokio::time::sleep(Duration::from_millis(200)).await;
    client
        .post_activity(&Activity::message("two"))
        .await
        .unwrap();
    next_text(&mut stream, "Echo: two").await;

    // An Omnichannel escalation from the bot arrives as a byoc hand-off event.
    let cmd = serde_json::json!({"type":"message","text":"needs a human","from":{"id":"bot"},
        "channelData":{"tags":"{\"type\":\"Escalate\",\"context\":{\"BotHandoffTopic\":\"CreditCard\"}}"}});
    sim.push_bot_activity(&conv.conversation_id, cmd).unwrap();
    let ev = next_text(&mut stream, "").await;
    assert_eq!(ev.kind, ActivityType::Event);
    assert_eq!(ev.name.as_deref(), Some("handoff.initiate"));

    // Upload: the activity part and the file arrive as one message.
    let mut a = Activity::message("see file");
    a.attachments = None;
    client
        .upload(
            &a,
            &[Upload::new(
                "a.txt",
                "text/plain",
                Bytes::from_static(b"hello"),
            )],
        )
        .await
        .unwrap();
    next_text(&mut stream, "Echo: see file (1 attachment(s))").await;
}

#[tokio::test]
async fn relays_to_a_bot_endpoint_with_a_signed_jwt() {
    // A bot endpoint (this crate's adapter) behind axum; the simulator relays to it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bot_url = format!("http://{}/api/messages", listener.local_addr().unwrap());
    let sim = DirectLineSim::start(Options::default().with_bot_url(bot_url))
        .await
        .unwrap();
    let ep = Arc::new(endpoint(&sim));
    let replier = ep.clone();
    let app = axum::Router::new().route(
        "/api/messages",
        webhook(ep, move |received: Received| {
            let replier = replier.clone();
            async move {
                for a in received.activities {
                    let replier = replier.clone();
                    tokio::spawn(async move {
                        let reply = a.create_reply(format!(
                            "bot saw: {}",
                            a.text.clone().unwrap_or_default()
                        ));
                        replier.send(&reply).await.unwrap();
                    });
                }
                Ok::<(), SinkError>(())
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = dl_client(&sim);
    client.start().await.unwrap();
    let mut stream = client.poll();
    client
        .post_activity(&Activity::message("ping"))
        .await
        .unwrap();
    next_text(&mut stream, "bot saw: ping").await;
}
