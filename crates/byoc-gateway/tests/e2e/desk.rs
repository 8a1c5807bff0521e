//! An agent's own routing settings through the agent API: the queues it works (join,
//! leave), its capacity, what `me` shows; all kept across a restart.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::offers::{ALICE, BOTH, answer, offering, wait_offered};
use super::support::{self, Agent, CUSTOMER, Env, HUMANS, OURS, eventually};
use super::{LIMIT, count};

const SECOND_CUSTOMER: &str = "15555550124";

async fn join(agent: &Agent, queue: &str, how: &str) -> Value {
    let (status, body) = agent
        .call(
            Method::POST,
            &format!("/api/agent/queues/{queue}/{how}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn me(agent: &Agent) -> Value {
    let (status, body) = agent.call(Method::GET, "/api/agent/me", None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn set_capacity(agent: &Agent, capacity: Value) -> (u16, Value) {
    agent
        .call(
            Method::PUT,
            "/api/agent/capacity",
            Some(json!({ "capacity": capacity })),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_out_of_a_queue_is_offered_nothing_from_it_until_it_joins_again() {
    let env = Env::start("", &offering("5m", ALICE)).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let (status, queues) = alice.call(Method::GET, "/api/agent/queues", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        queues["queues"],
        json!([{ "workstream": "Support", "queue": "Sales", "joined": true }])
    );

    let left = join(&alice, "Sales", "leave").await;
    assert_eq!(left["joined"], false);
    assert_eq!(me(&alice).await["joined"], json!([]));

    // Available, with room, but out of the queue: the customer waits.
    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    eventually("the queue position SMS", LIMIT, || {
        (count(&env.sms(), "You are number 1 in line.") == 1).then_some(())
    })
    .await;
    let (_, list) = alice
        .call(Method::GET, "/api/agent/conversations", None)
        .await;
    assert_eq!(
        list["conversations"][0]["offered_to"],
        Value::Null,
        "{list}"
    );

    // Joining again re-evaluates the queue: the conversation is offered to alice.
    join(&alice, "Sales", "join").await;
    let (id, to) = wait_offered(&alice, None).await;
    assert_eq!(to, "alice");
    let (status, _) = answer(&alice, &id, "accept").await;
    assert_eq!(status, 202);
    assert_eq!(alice.wait_held().await, id);
    assert_eq!(me(&alice).await["joined"], json!(["Sales"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_a_queue_gives_its_offer_to_the_next_agent() {
    let env = Env::start("", &offering("5m", BOTH)).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let mut bob = env.agent("bob");
    bob.sign_in().await;

    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let (id, first) = wait_offered(&alice, None).await;
    let (leaver, other) = if first == "alice" {
        (&alice, &bob)
    } else {
        (&bob, &alice)
    };
    let left = join(leaver, "Sales", "leave").await;
    assert_eq!(left["offers_released"], 1, "{left}");

    let (again, to) = wait_offered(other, Some(leaver.id.as_str())).await;
    assert_eq!(
        (again.as_str(), to.as_str()),
        (id.as_str(), other.id.as_str())
    );
    let (status, _) = answer(other, &id, "accept").await;
    assert_eq!(status, 202);
    assert_eq!(other.wait_held().await, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn going_offline_gives_an_unanswered_offer_to_the_next_agent() {
    let env = Env::start("", &offering("5m", BOTH)).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let mut bob = env.agent("bob");
    bob.sign_in().await;

    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let (id, first) = wait_offered(&alice, None).await;
    let (leaver, other) = if first == "alice" {
        (&alice, &bob)
    } else {
        (&bob, &alice)
    };
    let (status, body) = leaver
        .call(
            Method::PUT,
            "/api/agent/presence",
            Some(json!({ "presence": "offline" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Long before the five-minute offer would time out, the other agent has it.
    let (again, to) = wait_offered(other, Some(leaver.id.as_str())).await;
    assert_eq!(
        (again.as_str(), to.as_str()),
        (id.as_str(), other.id.as_str())
    );
    let (status, _) = answer(other, &id, "accept").await;
    assert_eq!(status, 202);
    assert_eq!(other.wait_held().await, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capacity_the_agent_raises_serves_a_waiting_conversation() {
    let env = Env::start("", &offering("5m", ALICE)).await;
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let before = me(&alice).await;
    assert_eq!(
        before["capacity"],
        json!({ "configured": 1, "profile": null, "own": null })
    );

    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let (first, _) = wait_offered(&alice, None).await;
    answer(&alice, &first, "accept").await;
    assert_eq!(alice.wait_held().await, first);

    // Full: the second customer waits.
    env.telesign
        .send_mo(SECOND_CUSTOMER, OURS, "hello")
        .await
        .unwrap();
    eventually("the queue position SMS", LIMIT, || {
        (count(&env.sms(), "You are number 1 in line.") == 1).then_some(())
    })
    .await;

    let (status, body) = set_capacity(&alice, json!(2)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["capacity"]["own"], 2);
    let (second, to) = wait_offered(&alice, None).await;
    assert_eq!(to, "alice");
    assert_ne!(second, first);
    answer(&alice, &second, "accept").await;
    let mut held = Vec::new();
    for _ in 0..1000 {
        held = alice.held().await;
        if held.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(held.len(), 2, "{held:?}");
    let now = me(&alice).await;
    assert_eq!(now["load"], 2, "{now}");
    assert_eq!(now["load_by_kind"]["sms"], 2, "{now}");

    // Back to the configuration; nonsense refused.
    let (status, body) = set_capacity(&alice, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["capacity"]["own"], Value::Null);
    let (status, _) = set_capacity(&alice, json!(0)).await;
    assert_eq!(status, 400);
    let (status, _) = alice
        .call(Method::POST, "/api/agent/queues/Elsewhere/join", None)
        .await;
    assert_eq!(status, 404, "alice is no member of Elsewhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_left_and_capacity_set_are_kept_across_a_restart() {
    let telesign = support::telesign().await;
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_config(
        dir.path(),
        &support::config_text(&telesign, "127.0.0.1:0", "", HUMANS),
    );
    let gateway = byoc_gateway::start(support::load(&path, &telesign))
        .await
        .unwrap();
    let mut alice = Agent::new(&gateway.url(), "alice");
    alice.sign_in().await;
    join(&alice, "Billing", "leave").await;
    let (status, _) = set_capacity(&alice, json!(7)).await;
    assert_eq!(status, 200);
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
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let after = me(&alice).await;
    assert_eq!(after["queues"], json!(["Billing"]));
    assert_eq!(after["joined"], json!([]), "{after}");
    assert_eq!(after["capacity"]["own"], 7, "{after}");
    assert_eq!(after["capacity"]["configured"], 5, "{after}");

    // Out of Billing after the restart too: the customer waits until she joins.
    env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let mut listed = Value::Null;
    for _ in 0..1000 {
        let (_, list) = alice
            .call(Method::GET, "/api/agent/conversations", None)
            .await;
        listed = list["conversations"][0].clone();
        if !listed.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        listed["owner"]["kind"], "queue",
        "waiting, not assigned: {listed}"
    );
    join(&alice, "Billing", "join").await;
    assert_eq!(alice.wait_held().await, listed["id"].as_str().unwrap());
}
