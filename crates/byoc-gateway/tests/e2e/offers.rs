//! Offers through the agent API: an agent hears an offer over server-sent events, accepts
//! or declines it; an unanswered offer moves to the next agent; a conversation waiting when
//! the gateway stops is offered after it starts again.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::support::{self, Agent, CUSTOMER, Env, OURS, eventually};
use super::{LIMIT, count};

/// One queue that offers (`timeout`), alice and bob in it, or alice alone.
pub(super) fn offering(timeout: &str, members: &str) -> String {
    format!(
        r#"
[workstreams.definition]
name = "Support"
language = "en-US"
channel = {{ kind = "sms", id = "sms" }}

[[workstreams.definition.routing_rules]]
name = "Everyone"
queue = "Sales"

[[workstreams.definition.queues]]
name = "Sales"
offer = {{ timeout = "{timeout}" }}
members = [{members}]

[[workstreams.definition.queues]]
name = "Elsewhere"
members = [{{ id = "bob", kind = "agent", capacity = 1 }}]

[workstreams.definition.messages]
agent_joined = "{{AgentName}} joined."
queue_position = "You are number {{QueuePosition}} in line."
"#
    )
}

pub(super) const BOTH: &str = r#"{ id = "alice", kind = "agent", capacity = 1 }, { id = "bob", kind = "agent", capacity = 1 }"#;
pub(super) const ALICE: &str = r#"{ id = "alice", kind = "agent", capacity = 1 }"#;

/// The conversation offered to anyone, and to whom, as `agent` lists it.
async fn offered(agent: &Agent) -> Option<(String, String)> {
    let (status, list) = agent
        .call(Method::GET, "/api/agent/conversations", None)
        .await;
    assert_eq!(status, 200, "{list}");
    list["conversations"].as_array()?.iter().find_map(|c| {
        Some((
            c["id"].as_str()?.to_owned(),
            c["offered_to"].as_str()?.to_owned(),
        ))
    })
}

pub(super) async fn wait_offered(agent: &Agent, not_to: Option<&str>) -> (String, String) {
    let started = std::time::Instant::now();
    loop {
        if let Some((id, to)) = offered(agent).await
            && Some(to.as_str()) != not_to
        {
            return (id, to);
        }
        assert!(started.elapsed() < LIMIT, "no offer listed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(super) async fn answer(agent: &Agent, conversation: &str, how: &str) -> (u16, Value) {
    agent
        .call(
            Method::POST,
            &format!("/api/agent/conversations/{conversation}/{how}"),
            None,
        )
        .await
}

/// An agent's server-sent events, read into a string in the background.
struct Events(std::sync::Arc<std::sync::Mutex<String>>);

impl Events {
    async fn open(env: &Env, agent: &Agent) -> Self {
        let r = reqwest::Client::new()
            .get(format!("{}/api/agent/events", env.gateway.url()))
            .bearer_auth(agent.token.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let into = std::sync::Arc::clone(&seen);
        tokio::spawn(async move {
            use futures_util::StreamExt as _;
            let mut stream = r.bytes_stream();
            while let Some(Ok(chunk)) = stream.next().await {
                into.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk));
            }
        });
        Self(seen)
    }

    async fn wait_for(&self, what: &str) {
        eventually(what, LIMIT, || {
            self.0.lock().unwrap().contains(what).then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_is_heard_declined_then_accepted_by_the_next_agent() {
    let env = Env::start("", &offering("5m", BOTH)).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let mut bob = env.agent("bob");
    bob.sign_in().await;
    let alice_events = Events::open(&env, &alice).await;
    let bob_events = Events::open(&env, &bob).await;

    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let (id, first) = wait_offered(&alice, None).await;
    let (first_agent, second_agent, first_events, second_events) = if first == "alice" {
        (&alice, &bob, &alice_events, &bob_events)
    } else {
        (&bob, &alice, &bob_events, &alice_events)
    };
    first_events
        .wait_for(r#""event":{"offered":{"expires_at""#)
        .await;

    // The other agent cannot take what is not offered to them: refused over its events.
    let (status, body) = answer(second_agent, &id, "accept").await;
    assert_eq!(status, 202, "{body}");
    second_events.wait_for("accept: not offered to you").await;

    let (status, body) = answer(first_agent, &id, "decline").await;
    assert_eq!(status, 202, "{body}");
    first_events.wait_for(r#""event":"offer_withdrawn""#).await;
    let (_, to) = wait_offered(second_agent, Some(first_agent.id.as_str())).await;
    assert_eq!(to, second_agent.id);
    second_events.wait_for(r#""event":{"offered""#).await;

    let (status, body) = answer(second_agent, &id, "accept").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(second_agent.wait_held().await, id);
    let joined = format!("{} joined.", second_agent.id);
    eventually("the agent-joined SMS", LIMIT, || {
        (count(&env.sms(), &joined) == 1).then_some(())
    })
    .await;
    let (_, detail) = second_agent
        .call(Method::GET, &format!("/api/agent/conversations/{id}"), None)
        .await;
    let notes: Vec<&str> = detail["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["note"].as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&format!("offered to agent {}", first_agent.id))),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&format!("assigned to {}", second_agent.id))),
        "{notes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_offer_times_out_to_the_second_agent() {
    let env = Env::start("", &offering("1s", BOTH)).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let mut bob = env.agent("bob");
    bob.sign_in().await;
    let alice_events = Events::open(&env, &alice).await;
    let bob_events = Events::open(&env, &bob).await;

    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let (id, first) = wait_offered(&alice, None).await;
    let (second, first_events, second_events) = if first == "alice" {
        (&bob, &alice_events, &bob_events)
    } else {
        (&alice, &bob_events, &alice_events)
    };
    // Nobody answers: the offer is withdrawn and made to the other agent.
    let (again, to) = wait_offered(second, Some(first.as_str())).await;
    assert_eq!(
        (again.as_str(), to.as_str()),
        (id.as_str(), second.id.as_str())
    );
    first_events.wait_for(r#""event":"offer_withdrawn""#).await;
    second_events.wait_for(r#""event":{"offered""#).await;
    let (status, _) = answer(second, &id, "accept").await;
    assert_eq!(status, 202);
    assert_eq!(second.wait_held().await, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_waiting_across_a_restart_is_offered_after_it() {
    let telesign = support::telesign().await;
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_config(
        dir.path(),
        &support::config_text(&telesign, "127.0.0.1:0", "", &offering("5m", ALICE)),
    );
    let gateway = byoc_gateway::start(support::load(&path, &telesign))
        .await
        .unwrap();
    telesign.set_callback_url(format!("{}/webhooks/sms", gateway.url()));
    let env = Env {
        _dir: dir,
        telesign,
        gateway,
    };

    // Nobody is online: the customer waits, first in line.
    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    eventually("the queue position SMS", LIMIT, || {
        (count(&env.sms(), "You are number 1 in line.") == 1).then_some(())
    })
    .await;
    let store = env.gateway.store();
    let mut stored = Vec::new();
    for _ in 0..1000 {
        stored = store.routing_work().await.unwrap();
        if !stored.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stored.len(), 1, "the waiting conversation is stored");
    let waiting = stored[0].item.conversation_id.clone();

    let Env {
        _dir: dir,
        telesign,
        gateway,
    } = env;
    gateway.shutdown().await;
    let gateway = byoc_gateway::start(support::load(&path, &telesign))
        .await
        .unwrap();
    telesign.set_callback_url(format!("{}/webhooks/sms", gateway.url()));
    let env = Env {
        _dir: dir,
        telesign,
        gateway,
    };

    // bob works another queue: he may neither see nor answer it.
    let mut bob = env.agent("bob");
    bob.sign_in().await;
    let (status, _) = answer(&bob, &waiting, "decline").await;
    assert_eq!(status, 403);
    let (status, _) = answer(&bob, &waiting, "accept").await;
    assert_eq!(status, 403);

    // alice comes online after the restart: the conversation is offered to her.
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let (id, to) = wait_offered(&alice, None).await;
    assert_eq!((id.as_str(), to.as_str()), (waiting.as_str(), "alice"));
    let (status, _) = answer(&alice, &id, "accept").await;
    assert_eq!(status, 202);
    assert_eq!(alice.wait_held().await, id);
    eventually("the agent-joined SMS", LIMIT, || {
        (count(&env.sms(), "alice joined.") == 1).then_some(())
    })
    .await;
    let mut left = 1;
    for _ in 0..1000 {
        left = env.gateway.store().routing_work().await.unwrap().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        left, 0,
        "the accepted conversation left the stored waiting set"
    );
}
