//! The outbox against a provider that fails: retries, `Retry-After`, ordering, dead
//! letters; redelivered webhooks.

use std::time::{Duration, Instant};

use byoc_sim::fault::Fault;
use serde_json::{Value, json};

use crate::support::{ADMIN, CUSTOMER, Env, HUMANS, OURS, eventually};
use crate::{LIMIT, conversation_with_alice, count};

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

/// The outbound rows of a conversation as the admin API shows them.
async fn outbound(env: &Env, id: &str) -> Vec<Value> {
    let detail: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/admin/conversations/{id}",
            env.gateway.url()
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    detail["outbound"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_reports_are_recorded_on_the_messages_they_report_on() {
    let env = Env::start("", HUMANS).await;
    let (alice, id) = conversation_with_alice(&env).await;
    // Every SMS so far (the agent-joined notice among them) gets the simulator's report.
    let delivered = loop_until_receipts(&env, &id, 1).await;
    for row in &delivered {
        assert_eq!(row["status"], "delivered", "{row}");
        assert_eq!(row["receipt"]["state"], "delivered", "{row}");
        assert_eq!(row["receipt"]["success"], true, "{row}");
        assert!(
            row["receipt"]["externalId"]
                .as_str()
                .unwrap()
                .starts_with("byoc-")
        );
    }
    // A failed delivery is recorded as such, and a final receipt is not overwritten.
    env.telesign
        .set_delivery_status(210, "Temporary phone error");
    alice.say(&id, "will not arrive").await;
    let rows = loop_until_receipts(&env, &id, delivered.len() + 1).await;
    let last = rows.last().unwrap();
    assert_eq!(last["receipt"]["success"], false, "{last}");
    assert_eq!(last["receipt"]["isFinal"], true, "{last}");
    assert_eq!(
        rows[..delivered.len()],
        delivered[..],
        "earlier receipts unchanged"
    );
}

/// Polls the admin view until at least `n` channel rows are sent and carry a receipt;
/// returns those.
async fn loop_until_receipts(env: &Env, id: &str, n: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let rows: Vec<Value> = outbound(env, id)
            .await
            .into_iter()
            .filter(|r| r["target"].as_str().unwrap_or("").starts_with("channel:"))
            .collect();
        // A report may come in before the send's result is recorded: wait for both.
        if rows.len() >= n
            && rows
                .iter()
                .all(|r| !r["receipt"].is_null() && r["status"] != "pending")
        {
            return rows;
        }
        assert!(
            started.elapsed() < LIMIT,
            "receipts not recorded within {LIMIT:?}: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
