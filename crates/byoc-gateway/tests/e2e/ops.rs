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
