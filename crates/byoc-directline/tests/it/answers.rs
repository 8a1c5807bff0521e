//! What the bot is sent and what it answers: the example's app behind the simulator's
//! relay (real channel JWTs), invoke and expectReplies answers, the `conversationUpdate`
//! at the start of a conversation, and the relay's 15-second budget for slow bots.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use byoc_axum::{Received, SinkError, webhook};
use byoc_core::activity::{ActivityType, DeliveryMode};
use byoc_core::{Activity, ChannelAdapter as _};
use byoc_directline::{ClientError, ConnectorAdapter, ExpectedAnswer, InvokeResponse};
use byoc_sim::directline::{ChannelToken, DEFAULT_BOT_APP_ID, DirectLineSim, Options};
use bytes::Bytes;

use super::{dl_client, endpoint, example, inbound, next_text, request};

async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/messages", listener.local_addr().unwrap());
    (listener, url)
}

#[tokio::test]
async fn the_example_bot_answers_messages_invokes_and_expect_replies() {
    let (listener, bot_url) = bind().await;
    let sim = DirectLineSim::start(Options::default().with_bot_url(bot_url.clone()))
        .await
        .unwrap();
    let ep = Arc::new(endpoint(&sim));
    tokio::spawn(async move { axum::serve(listener, example::app(ep)).await });

    // A message through Direct Line: relayed with a channel JWT, answered via the Connector.
    let client = dl_client(&sim);
    client.start().await.unwrap();
    let mut stream = client.poll();
    client
        .post_activity(&Activity::message("hello bot"))
        .await
        .unwrap();
    let reply = next_text(&mut stream, "You said: hello bot").await;
    assert_eq!(reply.from_id(), Some(DEFAULT_BOT_APP_ID));

    // An invoke, posted as a channel would, with a real JWT: the bot's InvokeResponse.
    let http = reqwest::Client::new();
    let token =
        sim.sign_channel_token(&ChannelToken::valid(DEFAULT_BOT_APP_ID, &sim.service_url()));
    let mut invoke = inbound(&sim, "msteams", "c-invoke");
    invoke.kind = ActivityType::Invoke;
    invoke.text = None;
    invoke.name = Some("adaptiveCard/action".into());
    invoke.value = Some((&serde_json::json!({ "verb": "approve" })).into());
    let resp = http
        .post(&bot_url)
        .bearer_auth(&token)
        .json(&invoke)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "echo": "adaptiveCard/action", "value": { "verb": "approve" } })
    );

    // expectReplies: the replies come back in the answer, not through the Connector.
    let sent_before = sim.connector_received().len();
    let mut quick = inbound(&sim, "msteams", "c-expect");
    quick.text = Some("quick".into());
    quick.delivery_mode = Some(DeliveryMode::ExpectReplies);
    let resp = http
        .post(&bot_url)
        .bearer_auth(&token)
        .json(&quick)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    let replies = body["activities"].as_array().unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["text"], "You said: quick");
    assert_eq!(replies[0]["replyToId"], "c-expect|0000001");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.connector_received().len(), sent_before);

    // A forged token is refused by the example, with the adapter's error answer.
    let bad = ChannelToken::valid("someone-else", &sim.service_url());
    let resp = http
        .post(&bot_url)
        .bearer_auth(sim.sign_channel_token(&bad))
        .json(&quick)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn receive_answers_invoke_501_and_expect_replies_empty_until_the_host_decides() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let ep = endpoint(&sim);
    let token =
        sim.sign_channel_token(&ChannelToken::valid(DEFAULT_BOT_APP_ID, &sim.service_url()));

    let message = inbound(&sim, "webchat", "c-a");
    let got = ep.receive(request(&token, &message)).await.unwrap();
    assert_eq!(
        ExpectedAnswer::of(&got.activities[0]),
        ExpectedAnswer::Empty
    );
    assert_eq!(got.response.status(), 200);
    assert!(got.response.body().is_empty());

    let mut invoke = inbound(&sim, "webchat", "c-a");
    invoke.kind = ActivityType::Invoke;
    invoke.name = Some("signin/verifyState".into());
    let mut got = ep.receive(request(&token, &invoke)).await.unwrap();
    assert_eq!(
        ExpectedAnswer::of(&got.activities[0]),
        ExpectedAnswer::Invoke
    );
    assert_eq!(got.response.status(), 501);
    got.response = InvokeResponse::new(http::StatusCode::PRECONDITION_FAILED)
        .with_body(serde_json::json!({ "code": "bad state" }))
        .to_response();
    assert_eq!(got.response.status(), 412);
    assert_eq!(
        got.response.headers()[http::header::CONTENT_TYPE],
        "application/json; charset=utf-8"
    );
    assert_eq!(got.response.body(), &Bytes::from(r#"{"code":"bad state"}"#));

    let mut expect = inbound(&sim, "webchat", "c-a");
    expect.delivery_mode = Some(DeliveryMode::ExpectReplies);
    let got = ep.receive(request(&token, &expect)).await.unwrap();
    assert_eq!(
        ExpectedAnswer::of(&got.activities[0]),
        ExpectedAnswer::ExpectReplies
    );
    assert_eq!(got.response.status(), 200);
    assert_eq!(got.response.body(), &Bytes::from(r#"{"activities":[]}"#));
    let r = byoc_directline::expected_replies(&[Activity::message("a"), Activity::message("b")])
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(v["activities"][1]["text"], "b");
}

#[tokio::test]
async fn a_new_conversation_is_announced_to_the_bot_with_a_conversation_update() {
    // Echo bot: recorded by the simulator, not shown to the Direct Line client.
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let client = dl_client(&sim);
    let conv = client.start().await.unwrap();
    let got = sim.bot_received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["type"], "conversationUpdate");
    assert_eq!(got[0]["conversation"]["id"], conv.conversation_id.as_str());
    let added: Vec<_> = got[0]["membersAdded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(added, [DEFAULT_BOT_APP_ID, "dl_test_user"]);
    assert!(client.get_activities().await.unwrap().is_empty());
    client
        .post_activity(&Activity::message("hi"))
        .await
        .unwrap();
    let got = sim.bot_received();
    assert_eq!(got.len(), 2, "announced once");
    assert_eq!(got[1]["type"], "message");

    // A real endpoint gets it relayed with a channel JWT it validates.
    let (listener, bot_url) = bind().await;
    let sim = DirectLineSim::start(Options::default().with_bot_url(bot_url))
        .await
        .unwrap();
    let ep = Arc::new(endpoint(&sim));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Activity>(8);
    let app = axum::Router::new().route(
        "/api/messages",
        webhook(ep, move |received: Received| {
            let tx = tx.clone();
            async move {
                for a in received.activities {
                    tx.send(a).await.unwrap();
                }
                Ok::<(), SinkError>(())
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    dl_client(&sim).start().await.unwrap();
    let update = rx.recv().await.unwrap();
    assert_eq!(update.kind, ActivityType::ConversationUpdate);
    assert_eq!(update.channel_id.as_deref(), Some("directline"));
    let added: Vec<_> = update
        .members_added
        .unwrap()
        .into_iter()
        .filter_map(|m| m.id)
        .collect();
    assert_eq!(added, [DEFAULT_BOT_APP_ID, "dl_test_user"]);
}

#[tokio::test(start_paused = true)]
async fn a_slow_echo_bot_gets_15_seconds_then_the_post_fails_504() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let client = dl_client(&sim);
    client.start().await.unwrap();
    sim.set_bot_delay(Duration::from_secs(14));
    client
        .post_activity(&Activity::message("slow"))
        .await
        .unwrap();
    sim.set_bot_delay(Duration::from_secs(15));
    let err = client
        .post_activity(&Activity::message("too slow"))
        .await
        .unwrap_err();
    assert_gateway_timeout(err);
}

fn assert_gateway_timeout(err: ClientError) {
    match &err {
        ClientError::Status {
            status: 504, code, ..
        } => {
            assert_eq!(code.as_deref(), Some("GatewayTimeout"));
        }
        other => panic!("{other:?}"),
    }
    let err = byoc_core::AdapterError::from(err);
    assert!(err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn a_slow_relayed_bot_shares_the_15_second_budget() {
    let (listener, bot_url) = bind().await;
    let sim = DirectLineSim::start(Options::default().with_bot_url(bot_url))
        .await
        .unwrap();
    // The bot endpoint takes `think` seconds to answer.
    let think = Arc::new(AtomicU64::new(0));
    let ep: Arc<ConnectorAdapter> = Arc::new(endpoint(&sim));
    let t = think.clone();
    let app = axum::Router::new().route(
        "/api/messages",
        webhook(ep, move |_: Received| {
            let t = t.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(t.load(Ordering::SeqCst))).await;
                Ok::<(), SinkError>(())
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = dl_client(&sim);
    client.start().await.unwrap();

    think.store(14, Ordering::SeqCst);
    client
        .post_activity(&Activity::message("in time"))
        .await
        .unwrap();
    think.store(16, Ordering::SeqCst);
    assert_gateway_timeout(
        client
            .post_activity(&Activity::message("late"))
            .await
            .unwrap_err(),
    );
    // 10 s of simulated delay plus 6 s in the bot: over the budget together.
    think.store(6, Ordering::SeqCst);
    sim.set_bot_delay(Duration::from_secs(10));
    assert_gateway_timeout(
        client
            .post_activity(&Activity::message("late together"))
            .await
            .unwrap_err(),
    );
}
