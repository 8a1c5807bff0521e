//! Bots reached through Direct Line, and customers on a Bot Framework channel.

use std::time::Duration;

use crate::LIMIT;
use crate::support::{self, Agent, CUSTOMER, Env, HUMANS, OURS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_never_answers_times_out_to_a_human_queue() {
    // A bot endpoint that accepts every activity and never replies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bot_url = format!("http://{}/api/messages", listener.local_addr().unwrap());
    let silent = axum::Router::new().route(
        "/api/messages",
        axum::routing::post(|| async { http::StatusCode::OK }),
    );
    tokio::spawn(async move { axum::serve(listener, silent).await });
    let dl = byoc_sim::directline::DirectLineSim::start(
        byoc_sim::directline::Options::default().with_bot_url(bot_url),
    )
    .await
    .unwrap();
    let bots = format!(
        "[bots.silent]\ndirectline_url = \"{}\"\nsecret = \"{}\"\npoll_interval = \"100ms\"\n",
        dl.directline_url(),
        byoc_sim::directline::DEFAULT_SECRET
    );
    let workstream = HUMANS.replace(
        "[[workstreams.definition.queues]]\nname = \"Billing\"",
        "[[workstreams.definition.routing_rules]]\nname = \"Bot first\"\nqueue = \"Bots\"\n\n[[workstreams.definition.queues]]\nname = \"Bots\"\nmembers = [{ id = \"silent\", kind = \"bot\" }]\n\n[[workstreams.definition.queues]]\nname = \"Billing\"",
    );
    let env = Env::start(&bots, &workstream).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    env.telesign
        .send_mo(CUSTOMER, OURS, "anyone there?")
        .await
        .unwrap();
    let id = alice.wait_held().await;
    let reached_bot = dl
        .bot_received()
        .iter()
        .any(|a| a["text"] == "anyone there?");
    assert!(reached_bot, "the bot got the message first");
    let (_, detail) = alice
        .call(
            reqwest::Method::GET,
            &format!("/api/agent/conversations/{id}"),
            None,
        )
        .await;
    assert_eq!(detail["queue"], "Billing");
    let notes: Vec<&str> = detail["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note"].as_str())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("no answer within 1s")),
        "{notes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_framework_channel_customer_reaches_an_agent_and_hears_back_through_the_connector() {
    use byoc_sim::directline::{self as dlsim, DirectLineSim};
    use futures_util::StreamExt as _;
    // The Direct Line service plays a Bot Framework channel (Web Chat, Teams, ...): it posts
    // the customer's activities to the gateway's webhook with a channel JWT, and the
    // gateway answers through the connector with its own client-credentials token.
    // Bound once and handed to the gateway: the simulator needs the URL before it starts.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let gateway_url = format!("http://127.0.0.1:{port}");
    let dl = DirectLineSim::start(
        dlsim::Options::default().with_bot_url(format!("{gateway_url}/webhooks/chat")),
    )
    .await
    .unwrap();
    let channel = format!(
        "[channels.chat]\nkind = \"connector\"\napp_id = \"{}\"\napp_password = \"{}\"\nlogin_base_url = \"{}\"\nopenid_metadata_url = \"{}\"\nissuer = \"{}\"\n",
        dlsim::DEFAULT_BOT_APP_ID,
        dlsim::DEFAULT_BOT_APP_PASSWORD,
        dl.url(),
        dl.openid_metadata_url(),
        dlsim::CHANNEL_ISSUER,
    );
    let chat_workstream = r#"
[[workstreams]]
[workstreams.definition]
name = "Chat"
language = "en-US"
channel = { kind = "chat", id = "chat" }
default_queue = "Chat"
[[workstreams.definition.routing_rules]]
name = "All"
queue = "Chat"
[[workstreams.definition.queues]]
name = "Chat"
members = [{ id = "alice", kind = "agent", capacity = 5 }]
[workstreams.definition.messages]
agent_joined = "{AgentName} joined the chat."
"#;
    let telesign = support::telesign().await;
    let dir = tempfile::tempdir().unwrap();
    let text = support::config_text(
        &telesign,
        &format!("127.0.0.1:{port}"),
        &channel,
        &format!("{HUMANS}\n{chat_workstream}"),
    );
    let path = support::write_config(dir.path(), &text);
    let gateway = byoc_gateway::start_on(support::load(&path, &telesign), listener)
        .await
        .unwrap();
    let mut alice = Agent::new(&gateway.url(), "alice");
    alice.sign_in().await;

    let user =
        byoc_directline::DirectLineConfig::new(byoc_directline::DirectLineCredential::Secret(
            byoc_core::Secret::new(dlsim::DEFAULT_SECRET),
        ))
        .unwrap()
        .with_base_url(dl.directline_url().parse().unwrap())
        .unwrap()
        .with_user("chat-customer", Some("Casey".to_owned()))
        .unwrap()
        .with_poll_interval(Duration::from_millis(100))
        .unwrap();
    let client = std::sync::Arc::new(byoc_directline::DirectLineClient::new(user).unwrap());
    client.start().await.unwrap();
    let mut replies = client.poll();
    client
        .post_activity(&byoc_core::Activity::message("hi from the chat"))
        .await
        .unwrap();
    let id = alice.wait_held().await;
    alice.say(&id, "hello from alice").await;
    let mut heard = Vec::new();
    let done = tokio::time::timeout(LIMIT, async {
        while let Some(a) = replies.next().await {
            let a = a.unwrap();
            if a.from_id() != Some("chat-customer") {
                heard.push(a.text.clone().unwrap_or_default());
            }
            if heard.iter().any(|t| t == "hello from alice") {
                return;
            }
        }
    })
    .await;
    assert!(done.is_ok(), "heard {heard:?}");
    assert_eq!(heard, ["alice joined the chat.", "hello from alice"]);
    let (_, detail) = alice
        .call(
            reqwest::Method::GET,
            &format!("/api/agent/conversations/{id}"),
            None,
        )
        .await;
    assert_eq!(detail["channel"], "chat");
    assert_eq!(detail["customer"]["name"], "Casey");
    gateway.shutdown().await;
}
