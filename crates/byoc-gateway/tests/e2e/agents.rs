//! The agent API: queues an agent may see, live updates.

use serde_json::json;

use crate::support::{Agent, CUSTOMER, Env, HUMANS, OURS};
use crate::{LIMIT, conversation_with_alice};

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
