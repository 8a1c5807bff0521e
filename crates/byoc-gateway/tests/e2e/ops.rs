//! Operations endpoints and webhook limits.

use serde_json::Value;

use crate::conversation_with_alice;
use crate::support::{Env, HUMANS};

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
async fn a_webhook_body_over_the_channels_limit_is_refused_with_413_and_never_stored() {
    let env = Env::start("", HUMANS).await;
    let http = reqwest::Client::new();
    let url = env.gateway.url();
    // The adapter takes bodies up to `server.max_body_bytes` (256 KiB by default).
    let text = "x".repeat(300 * 1024);
    let body = serde_json::json!({
        "sub_resource": "mo_sms",
        "reference_id": "0123456789ABCDEF0123456789ABCDEF",
        "user_response": {"phone_number": crate::support::CUSTOMER, "mo_message": text},
    })
    .to_string();
    let answer = http
        .post(format!("{url}/webhooks/sms"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    assert_eq!(
        env.gateway.store().keys_with_pending_inbox().await.unwrap(),
        Vec::<String>::new()
    );
    let unknown = http
        .post(format!("{url}/webhooks/nowhere"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_inbox_backlog_limit_webhooks_are_answered_503_with_retry_after() {
    use crate::support::{config_text, load, telesign, write_config};
    let telesign = telesign().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &config_text(&telesign, "127.0.0.1:0", "", HUMANS),
    );
    let mut config = load(&path, &telesign);
    config.server.max_inbox_backlog = 3;
    let gateway = byoc_gateway::start(config).await.unwrap();
    // Three events of a channel the config does not have: no worker can process them, so
    // they stay in the inbox.
    for i in 0..3 {
        gateway
            .accept(
                "ghost",
                vec![byoc_core::Activity::message(format!("stuck {i}"))],
            )
            .await
            .unwrap();
    }
    let body = serde_json::json!({
        "status": {"updated_on": "2026-01-05T09:00:00Z", "code": 1500, "description": "Delivered to customer"},
        "submit_timestamp": "2026-01-05T09:00:00Z",
        "errors": [],
        "user_response": {"phone_number": crate::support::CUSTOMER, "sender_id": crate::support::OURS, "mo_message": "let me in"},
        "sub_resource": "mo_sms",
        "reference_id": "0123456789ABCDEF0123456789ABCDE0",
    })
    .to_string();
    let authorization = byoc_sim::telesign::callback_authorization(
        telesign.customer_id(),
        telesign.api_key(),
        body.as_bytes(),
    );
    let http = reqwest::Client::new();
    let url = gateway.url();
    // The backlog is counted a few times a second: soon every webhook finds it full.
    let started = std::time::Instant::now();
    let refused = loop {
        let answer = http
            .post(format!("{url}/webhooks/sms"))
            .header("content-type", "application/json")
            .header("authorization", &authorization)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        if answer.status() == 503 {
            break answer;
        }
        assert!(started.elapsed() < crate::LIMIT, "never refused");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(refused.headers()["retry-after"], "5");
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("byoc_inbox_backlog"), "{metrics}");
    assert!(
        metrics.contains("byoc_inbound_backlog_refused_total"),
        "{metrics}"
    );
    gateway.shutdown().await;
}
