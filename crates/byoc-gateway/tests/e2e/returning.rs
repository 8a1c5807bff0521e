//! A returning customer goes to the agent who last worked with them: at once when that
//! agent is free, else after the rule's wait, to the rest of the queue.

use reqwest::Method;
use serde_json::json;

use super::support::{Agent, CUSTOMER, Env, OURS, eventually};
use super::{LIMIT, count};

/// One queue, alice (room for one) and bob (room for three, so the assignment method
/// prefers him), a rule preferring the customer's last agent for up to a second.
const RETURNING: &str = r#"
[workstreams.definition]
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }

[[workstreams.definition.routing_rules]]
name = "Everyone"
queue = "Sales"
preferred_agent = { from = "customer.last_agent", wait = "1s" }

[[workstreams.definition.queues]]
name = "Sales"
members = [
    { id = "alice", kind = "agent", capacity = 1 },
    { id = "bob", kind = "agent", capacity = 3 },
]

[workstreams.definition.messages]
agent_joined = "{AgentName} joined."
"#;

/// Ends and wraps up the conversation `agent` holds.
async fn close(agent: &Agent, id: &str) {
    for step in ["end", "wrap-up"] {
        let (status, body) = agent
            .call(
                Method::POST,
                &format!("/api/agent/conversations/{id}/{step}"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let mut waited = 0;
    while agent.held().await.contains(&id.to_owned()) {
        waited += 1;
        assert!(waited < 1000, "{id} never closed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The customer talked with alice (then the only agent signed in) until she closed the
/// conversation; bob signed in afterwards.
async fn served_by_alice(env: &Env) -> (Agent, Agent, String) {
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let first = alice.wait_held().await;
    close(&alice, &first).await;
    let mut bob = env.agent("bob");
    bob.sign_in().await;
    (alice, bob, first)
}

/// The notes of a conversation's transcript, as `agent` reads them.
async fn notes(agent: &Agent, id: &str) -> Vec<String> {
    let (status, detail) = agent
        .call(Method::GET, &format!("/api/agent/conversations/{id}"), None)
        .await;
    assert_eq!(status, 200, "{detail}");
    detail["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["note"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_customer_is_assigned_to_their_last_agent_first() {
    let env = Env::start("", RETURNING).await;
    let (alice, bob, first) = served_by_alice(&env).await;

    env.telesign
        .send_mo(CUSTOMER, OURS, "me again")
        .await
        .unwrap();
    let second = alice.wait_held().await;
    assert_ne!(second, first, "a new conversation");
    assert!(bob.held().await.is_empty(), "not bob, who has more room");
    let (_, detail) = alice
        .call(
            Method::GET,
            &format!("/api/agent/conversations/{second}"),
            None,
        )
        .await;
    assert_eq!(detail["customer"]["id"], CUSTOMER);
    let notes = notes(&alice, &second).await;
    assert!(
        notes.iter().any(|n| n.contains("preferred agent alice")),
        "{notes:?}"
    );
    eventually("alice's second agent-joined SMS", LIMIT, || {
        (count(&env.sms(), "alice joined.") == 2).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_customer_whose_last_agent_is_away_goes_to_the_queue_after_the_wait() {
    let env = Env::start("", RETURNING).await;
    let (alice, bob, _) = served_by_alice(&env).await;
    let (status, body) = alice
        .call(
            Method::PUT,
            "/api/agent/presence",
            Some(json!({ "presence": "away" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    env.telesign
        .send_mo(CUSTOMER, OURS, "me again")
        .await
        .unwrap();
    let second = bob.wait_held().await;
    assert!(alice.held().await.is_empty());
    let notes = notes(&bob, &second).await;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("waits for its preferred agent")),
        "held for alice first: {notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("assigned to bob")),
        "{notes:?}"
    );
}
