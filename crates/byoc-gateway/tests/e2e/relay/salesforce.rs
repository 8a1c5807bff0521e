//! Salesforce as the contact center, against its simulator (token endpoint, Interaction
//! Service, Pub/Sub): BYOC for Messaging, and BYOC for CCaaS with byoc routing.

use std::time::Duration;

use byoc_sim::fault::Fault;
use byoc_sim::salesforce::SalesforceSim;
use serde_json::Value;

use super::support::{
    LIMIT, REP, Relay, count, free_port, salesforce_entry, salesforce_sim, salesforce_workstream,
    until,
};
use crate::support::{CUSTOMER, eventually};

async fn salesforce(mode: &str, deadline: &str) -> (SalesforceSim, Relay) {
    let sim = salesforce_sim().await;
    let relay = Relay::start(
        free_port(),
        salesforce_entry(&sim, deadline),
        &salesforce_workstream(mode),
    )
    .await;
    (sim, relay)
}

/// The JSON bodies of the calls to `path`, in order.
fn calls(sim: &SalesforceSim, path: &str) -> Vec<Value> {
    sim.recorded()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| r.json)
        .collect()
}

/// The texts of the customer's interactions.
fn interaction_texts(sim: &SalesforceSim) -> Vec<String> {
    calls(sim, "/api/v1/interactions")
        .iter()
        .filter_map(|j| {
            j["interactions"][0]["payload"]["abstractMessage"]["staticContent"]["text"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_the_whole_conversation_relays_both_ways_with_acknowledgements() {
    let (sim, relay) = salesforce("salesforce", "60s").await;
    relay.text("hello").await;
    eventually("the interaction", LIMIT, || {
        (interaction_texts(&sim) == ["hello"]).then_some(())
    })
    .await;
    assert_eq!(calls(&sim, "/api/v1/interactions")[0]["from"], CUSTOMER);
    assert!(calls(&sim, "/api/v1/route").is_empty(), "Salesforce routes");
    sim.agent_joins(CUSTOMER, REP, "Grace Liu").unwrap();
    let entry = sim
        .agent_says(CUSTOMER, REP, "Grace Liu", "Hi, Grace here")
        .unwrap();
    eventually("the rep's message as SMS", LIMIT, || {
        relay
            .sms()
            .contains(&"Hi, Grace here".to_owned())
            .then_some(())
    })
    .await;
    // TeleSign's delivery report of that SMS becomes Salesforce's acknowledgement.
    let ack = eventually("the acknowledgement", LIMIT, || {
        calls(&sim, "/api/v1/acknowledgement").pop()
    })
    .await;
    assert_eq!(
        ack["acknowledgements"][0]["acknowledgedConversationEntryIdentifier"],
        entry.as_str()
    );
    assert_eq!(
        ack["acknowledgements"][0]["acknowledgementType"],
        "Delivered"
    );
    relay.text("bye").await;
    eventually("the second interaction", LIMIT, || {
        (interaction_texts(&sim) == ["hello", "bye"]).then_some(())
    })
    .await;
    sim.end_session(CUSTOMER).unwrap();
    let rec = until("closed", LIMIT, || async {
        relay
            .newest()
            .await
            .filter(|r| r.conversation.state.is_terminal())
    })
    .await;
    let notes = relay.notes(&rec.conversation.id).await;
    assert!(
        notes.iter().any(|n| n.contains("Grace Liu joined")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("sf ended the conversation")),
        "{notes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_429_5xx_and_an_expired_token_mid_conversation_deliver_once_in_order() {
    let (sim, relay) = salesforce("salesforce", "60s").await;
    relay.text("m1").await;
    eventually("m1", LIMIT, || {
        (interaction_texts(&sim) == ["m1"]).then_some(())
    })
    .await;
    let tokens = sim.tokens_issued();
    sim.faults().push(Fault::rate_limited(1), 1);
    sim.faults().push(Fault::unavailable(), 2);
    relay.text("m2").await;
    relay.text("m3").await;
    eventually("m2 and m3", LIMIT, || {
        (interaction_texts(&sim).len() == 3).then_some(())
    })
    .await;
    sim.expire_tokens();
    relay.text("m4").await;
    eventually("m4 after the token expired", LIMIT, || {
        (interaction_texts(&sim).len() == 4).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(interaction_texts(&sim), ["m1", "m2", "m3", "m4"]);
    assert!(
        sim.tokens_issued() > tokens,
        "re-authenticated once the token was refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_a_dropped_stream_and_a_restart_lose_and_repeat_no_event() {
    let (sim, mut relay) = salesforce("salesforce", "60s").await;
    relay.text("hello").await;
    eventually("the interaction", LIMIT, || {
        (interaction_texts(&sim).len() == 1).then_some(())
    })
    .await;
    sim.drop_streams_after(1);
    sim.agent_says(CUSTOMER, REP, "Grace", "a1").unwrap();
    sim.agent_says(CUSTOMER, REP, "Grace", "a2").unwrap();
    eventually("a1 and a2 across the dropped stream", LIMIT, || {
        let sms = relay.sms();
        (sms.contains(&"a1".to_owned()) && sms.contains(&"a2".to_owned())).then_some(())
    })
    .await;
    relay.down().await;
    // While the gateway is down, the rep goes on.
    sim.agent_says(CUSTOMER, REP, "Grace", "a3").unwrap();
    sim.agent_says(CUSTOMER, REP, "Grace", "a4").unwrap();
    relay.up().await;
    eventually("a3 and a4 after the restart", LIMIT, || {
        let sms = relay.sms();
        (sms.contains(&"a3".to_owned()) && sms.contains(&"a4".to_owned())).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sms = relay.sms();
    let agent: Vec<&String> = sms.iter().filter(|t| t.starts_with('a')).collect();
    assert_eq!(agent, ["a1", "a2", "a3", "a4"], "in order, each once");
    let cursor = relay
        .gw()
        .relay_store()
        .replay_cursor("sf")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        u64::from_be_bytes(cursor.try_into().unwrap()),
        sim.published() as u64,
        "the stored replay id is the last event's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ccaas_byoc_routes_within_the_deadline_with_its_trace() {
    let (sim, relay) = salesforce("salesforce-ccaas", "60s").await;
    relay.text("hello").await;
    let result = eventually("the routing result", LIMIT, || {
        calls(&sim, "/api/v1/routingResult").pop()
    })
    .await;
    assert_eq!(result["success"], true);
    assert_eq!(result["routingType"], "Initial");
    let route = &calls(&sim, "/api/v1/route")[0];
    assert_eq!(route["routingInfo"]["queueId"], "00G5g000000SuPpA");
    let work = &calls(&sim, "/api/v1/agentWork")[0];
    assert_eq!(work["userId"], REP);
    let rec = relay.newest().await.unwrap();
    let id = rec.conversation.id.clone();
    let notes = until("the routing report", LIMIT, || async {
        let notes = relay.notes(&id).await;
        notes
            .iter()
            .any(|n| n.contains("routing answered"))
            .then_some(notes)
    })
    .await;
    assert!(
        notes.iter().any(|n| n.starts_with("routing (Initial)")),
        "{notes:?}"
    );
    // The bot escalates: a RoutingRequested event, answered with its correlation id.
    let correlation = sim.bot_escalates(CUSTOMER, None, None).unwrap();
    let work = eventually("the transfer's agent work", LIMIT, || {
        calls(&sim, "/api/v1/agentWork")
            .into_iter()
            .find(|w| w["routingContext"]["routingCorrelationId"] == correlation.as_str())
    })
    .await;
    assert_eq!(work["routingContext"]["routingType"], "Transfer");
    eventually("two routing results", LIMIT, || {
        (calls(&sim, "/api/v1/routingResult").len() == 2).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ccaas_a_missed_deadline_is_reported_never_silent() {
    let (sim, relay) = salesforce("salesforce-ccaas", "3s").await;
    relay.text("hello").await;
    eventually("the first routing", LIMIT, || {
        (calls(&sim, "/api/v1/routingResult").len() == 1).then_some(())
    })
    .await;
    // Salesforce is slow: the next call (the transfer's /agentWork) takes longer than the
    // deadline.
    sim.faults().push(Fault::Delay(Duration::from_secs(5)), 1);
    sim.bot_escalates(CUSTOMER, None, None).unwrap();
    let late = eventually("the late routing result", LIMIT, || {
        calls(&sim, "/api/v1/routingResult")
            .into_iter()
            .find(|r| r["success"] == false)
    })
    .await;
    assert!(
        late["errorMessage"].as_str().unwrap().contains("deadline"),
        "{late}"
    );
    let id = relay.newest().await.unwrap().conversation.id;
    let notes = until("the missed deadline in the transcript", LIMIT, || async {
        let notes = relay.notes(&id).await;
        notes
            .iter()
            .any(|n| n.contains("routing deadline missed"))
            .then_some(notes)
    })
    .await;
    assert!(
        notes.iter().any(|n| n.contains("late routingResult sent")),
        "{notes:?}"
    );
    let metrics = reqwest::get(format!("{}/metrics", relay.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("byoc_platform_routing_deadline_missed_total"),
        "the miss is counted"
    );
    assert_eq!(count(&relay.sms(), "hello"), 0);
}
