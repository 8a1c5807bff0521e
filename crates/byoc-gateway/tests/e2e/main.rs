//! End-to-end tests over loopback: the gateway (in-process, or the `byoc` binary) against
//! the TeleSign and Bot Framework simulators, with real signatures and JWTs.

mod relay;
mod support;

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use byoc_sim::fault::Fault;
use serde_json::{Value, json};
use support::{ADMIN, Agent, CUSTOMER, Env, HUMANS, OURS, eventually};

const LIMIT: Duration = Duration::from_secs(20);

/// Alice signs in; the customer texts; alice is assigned and greeted the customer.
async fn conversation_with_alice(env: &Env) -> (Agent, String) {
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let (_, status) = env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    assert_eq!(status, 200);
    let id = alice.wait_held().await;
    eventually("the agent-joined SMS", LIMIT, || {
        env.sms()
            .contains(&"alice joined.".to_owned())
            .then_some(())
    })
    .await;
    (alice, id)
}

fn count(sms: &[String], text: &str) -> usize {
    sms.iter().filter(|t| *t == text).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scripted_demo_conversation_passes_every_hop() {
    byoc_gateway::run_demo(true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_answering_503_three_times_then_accepting_gets_the_message_once() {
    let env = Env::start("", HUMANS).await;
    let (alice, id) = conversation_with_alice(&env).await;
    env.telesign.faults().push(Fault::unavailable(), 3);
    alice.say(&id, "after the outage").await;
    eventually("delivery after three 503s", LIMIT, || {
        env.sms()
            .contains(&"after the outage".to_owned())
            .then_some(())
    })
    .await;
    assert_eq!(
        env.telesign.faults().pending(),
        0,
        "all three 503s were answered"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&env.sms(), "after the outage"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_honoured() {
    let env = Env::start("", HUMANS).await;
    let (alice, id) = conversation_with_alice(&env).await;
    env.telesign.faults().push(Fault::rate_limited(2), 1);
    let sent = Instant::now();
    alice.say(&id, "slow down").await;
    eventually("delivery after the 429", LIMIT, || {
        env.sms().contains(&"slow down".to_owned()).then_some(())
    })
    .await;
    // Correctness, not speed: the retry must not come before the provider's Retry-After.
    assert!(
        sent.elapsed() >= Duration::from_secs(2),
        "retried after {:?}",
        sent.elapsed()
    );
    assert_eq!(count(&env.sms(), "slow down"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_delivered_three_times_is_processed_once() {
    let env = Env::start("", HUMANS).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let body = json!({
        "status": {"updated_on": "2026-01-05T09:00:00Z", "code": 1500, "description": "Delivered to customer"},
        "submit_timestamp": "2026-01-05T09:00:00Z",
        "errors": [],
        "user_response": {"phone_number": CUSTOMER, "sender_id": OURS, "mo_message": "only once please"},
        "sub_resource": "mo_sms",
        "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    })
    .to_string();
    for _ in 0..3 {
        assert_eq!(
            env.telesign
                .send_callback(None, body.clone())
                .await
                .unwrap(),
            200
        );
    }
    let id = alice.wait_held().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, detail) = alice
        .call(
            reqwest::Method::GET,
            &format!("/api/agent/conversations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let from_customer = detail["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["author"]["kind"] == "customer")
        .count();
    assert_eq!(from_customer, 1, "{detail}");
    assert_eq!(count(&env.sms(), "alice joined."), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_messages_whose_first_delivery_fails_arrive_in_order() {
    let env = Env::start("", HUMANS).await;
    let (alice, id) = conversation_with_alice(&env).await;
    env.telesign.faults().push(Fault::unavailable(), 1);
    alice.say(&id, "first").await;
    alice.say(&id, "second").await;
    let sms = eventually("both messages", LIMIT, || {
        let sms = env.sms();
        (sms.contains(&"first".to_owned()) && sms.contains(&"second".to_owned())).then_some(sms)
    })
    .await;
    let first = sms.iter().position(|t| t == "first").unwrap();
    let second = sms.iter().position(|t| t == "second").unwrap();
    assert!(first < second, "{sms:?}");
    assert_eq!((count(&sms, "first"), count(&sms, "second")), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_dead_lettered_with_its_reason_and_can_be_replayed() {
    let env = Env::start("", HUMANS).await;
    let (alice, id) = conversation_with_alice(&env).await;
    let refusal = json!({"status": {"code": 11000, "description": "Invalid value for parameter phone_number."}, "errors": [{"code": 11000, "description": "Invalid value for parameter phone_number."}]});
    env.telesign
        .faults()
        .push(Fault::status(400, Some(refusal.to_string())), 1);
    alice.say(&id, "refused once").await;
    alice.say(&id, "behind it").await;
    eventually("the message behind the dead letter", LIMIT, || {
        env.sms().contains(&"behind it".to_owned()).then_some(())
    })
    .await;
    let admin = reqwest::Client::new();
    let url = env.gateway.url();
    let list: Value = admin
        .get(format!("{url}/api/admin/dead-letters"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dead = &list["dead_letters"][0];
    assert!(
        dead["reason"].as_str().unwrap().contains("not retryable"),
        "{list}"
    );
    assert_eq!(dead["attempts"], 1);
    let unauthorized = admin
        .get(format!("{url}/api/admin/dead-letters"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    let replay = admin
        .post(format!(
            "{url}/api/admin/dead-letters/{}/replay",
            dead["id"]
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 200);
    eventually("the replayed message", LIMIT, || {
        env.sms().contains(&"refused once".to_owned()).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_cannot_read_or_write_another_queues_conversation() {
    let env = Env::start("", HUMANS).await;
    let (_alice, id) = conversation_with_alice(&env).await;
    let mut bob = env.agent("bob");
    bob.sign_in().await;
    let (status, _) = bob
        .call(
            reqwest::Method::GET,
            &format!("/api/agent/conversations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = bob
        .call(
            reqwest::Method::POST,
            &format!("/api/agent/conversations/{id}/messages"),
            Some(json!({ "text": "hi" })),
        )
        .await;
    assert_eq!(status, 403);
    assert!(bob.held().await.is_empty());
    let (_, list) = bob
        .call(reqwest::Method::GET, "/api/agent/conversations", None)
        .await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 0, "{list}");
    let anonymous = Agent::new(&env.gateway.url(), "nobody");
    let (status, _) = anonymous
        .call(
            reqwest::Method::GET,
            &format!("/api/agent/conversations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 401);
}

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

fn byoc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_byoc"))
}

/// A `byoc serve` process, killed (SIGKILL) when dropped, also when a test fails.
struct Served(std::process::Child);

impl Served {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `byoc serve` and returns it with the URL from its first line.
fn serve(config: &std::path::Path, key: &str) -> (Served, String) {
    let mut child = Served(
        byoc()
            .args(["serve", "--config"])
            .arg(config)
            .env("BYOC_TEST_TELESIGN_KEY", key)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_messages_in_the_outbox_then_restart_delivers_each_exactly_once() {
    let telesign = support::telesign().await;
    let dir = tempfile::tempdir().unwrap();
    let config = support::write_config(
        dir.path(),
        &support::config_text(&telesign, "127.0.0.1:0", "", HUMANS),
    );
    let (mut child, url) = serve(&config, telesign.api_key());
    telesign.set_callback_url(format!("{url}/webhooks/sms"));
    let mut alice = Agent::new(&url, "alice");
    alice.sign_in().await;
    telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let id = alice.wait_held().await;
    let sms = || {
        telesign
            .messages()
            .into_iter()
            .map(|m| m.message)
            .collect::<Vec<_>>()
    };
    eventually("the agent-joined SMS", LIMIT, || {
        sms().contains(&"alice joined.".to_owned()).then_some(())
    })
    .await;

    // The provider is down: everything stays in the outbox.
    telesign.faults().push(Fault::unavailable(), 10_000);
    for text in ["m1", "m2", "m3"] {
        alice.say(&id, text).await;
    }
    eventually("a failed delivery attempt", LIMIT, || {
        (telesign.faults().pending() < 10_000).then_some(())
    })
    .await;
    child.kill(); // SIGKILL
    telesign.faults().clear();

    let (mut child, url) = serve(&config, telesign.api_key());
    telesign.set_callback_url(format!("{url}/webhooks/sms"));
    let delivered = eventually("all three after the restart", LIMIT, || {
        let s = sms();
        ["m1", "m2", "m3"]
            .iter()
            .all(|t| s.contains(&(*t).to_owned()))
            .then_some(s)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = sms();
    child.kill();
    for t in ["m1", "m2", "m3"] {
        assert_eq!(count(&after, t), 1, "{t} in {after:?}");
    }
    let order: Vec<_> = delivered
        .iter()
        .filter(|t| t.starts_with('m'))
        .cloned()
        .collect();
    assert_eq!(order, ["m1", "m2", "m3"]);
}

#[test]
fn an_invalid_config_is_refused_naming_the_file_the_field_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("byoc.toml");
    std::fs::write(
        &path,
        "[store]\nsqlite = \"x.db\"\n[channels.sms]\nkind = \"telesign\"\ncustomer_id = \"c\"\napi_key = { env = \"BYOC_TEST_UNSET_VARIABLE\" }\n",
    )
    .unwrap();
    for command in ["check", "serve"] {
        let out = byoc()
            .args([command, "--config"])
            .arg(&path)
            .env_remove("BYOC_TEST_UNSET_VARIABLE")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&path.display().to_string()),
            "{command}: {err}"
        );
        assert!(err.contains("`channels.sms.api_key`"), "{command}: {err}");
        assert!(
            err.contains("environment variable BYOC_TEST_UNSET_VARIABLE is not set"),
            "{command}: {err}"
        );
    }
}

#[test]
fn normalize_prints_one_activity_per_line_and_refuses_bad_input_with_exit_2() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/telesign/mo-basic.json"
    );
    let out = byoc()
        .args(["normalize", "--channel", "telesign", fixture])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    let a: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(a["type"], "message");
    assert_eq!(a["channelId"], "telesign");

    let mut child = byoc()
        .args(["normalize", "--channel", "connector"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), br#"{"type":"message"}"#).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("channelId"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_answer() {
    let env = Env::start("", HUMANS).await;
    let (_alice, _id) = conversation_with_alice(&env).await;
    let http = reqwest::Client::new();
    let url = env.gateway.url();
    assert_eq!(
        http.get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready: Value = http
        .get(format!("{url}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("byoc_messages_in_total"), "{metrics}");
    assert!(
        metrics.contains("byoc_routing_decisions_total"),
        "{metrics}"
    );
    // A forged webhook is refused and never acknowledged.
    let forged = http
        .post(format!("{url}/webhooks/sms"))
        .header("authorization", "TSA wrong:c2lnbmF0dXJl")
        .body(r#"{"sub_resource":"mo_sms"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_hears_its_assignment_over_server_sent_events() {
    let env = Env::start("", HUMANS).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let events = reqwest::Client::new()
        .get(format!("{}/api/agent/events", env.gateway.url()))
        .bearer_auth(alice.token.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let mut stream = events.bytes_stream();
    let mut seen = String::new();
    let found = tokio::time::timeout(LIMIT, async {
        use futures_util::StreamExt as _;
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if seen.contains("event: notice") && seen.contains(r#""event":"assigned""#) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "{seen}");
    assert!(seen.contains(r#""agent":"alice""#), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_framework_channel_customer_reaches_an_agent_and_hears_back_through_the_connector() {
    use byoc_sim::directline::{self as dlsim, DirectLineSim};
    use futures_util::StreamExt as _;
    // The Direct Line service plays a Bot Framework channel (Web Chat, Teams, ...): it posts
    // the customer's activities to the gateway's webhook with a channel JWT, and the
    // gateway answers through the connector with its own client-credentials token.
    let listener_probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener_probe.local_addr().unwrap().port();
    drop(listener_probe);
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
    let gateway = byoc_gateway::start(support::load(&path, &telesign))
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
