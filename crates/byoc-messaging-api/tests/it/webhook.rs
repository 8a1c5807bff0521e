//! Omnichannel → our webhook: the simulator's agent side delivering to the adapter.

use std::collections::HashSet;
use std::time::Duration;

use byoc_core::{ActivityType, Secret};
use byoc_messaging_api::{ConversationState, WebhookAuthMode, target_state};
use byoc_sim::fault::Fault;

use crate::support::{Setup, fast, harness, harness_with};

fn state_of(a: &byoc_core::Activity) -> serde_json::Value {
    a.value.as_ref().unwrap().to_value().unwrap()["state"].clone()
}

#[tokio::test]
async fn agent_side_reaches_the_host_normalized() {
    let h = harness().await;
    let channels = h.dataverse.list().await.unwrap();
    assert_eq!(channels[0].id.as_ref(), Some(&h.channel_id));
    assert_eq!(channels[0].webhook_url.as_str(), h.webhook_url);
    let conv = h.start("customer-00917734").await;
    let agent = h.sim.agent();
    assert!(agent.accepts(&conv).await.unwrap().delivered);
    assert!(agent.typing(&conv).await.unwrap().delivered);
    assert!(
        agent
            .says(&conv, "Hi, I'm **Rosa**.")
            .await
            .unwrap()
            .delivered
    );
    assert!(
        agent
            .sends_attachment(
                &conv,
                "guide (2).pdf",
                "application/pdf",
                "https://files.example/guide.pdf"
            )
            .await
            .unwrap()
            .delivered
    );
    assert!(
        agent
            .event(&conv, "SentimentThresholdReached")
            .await
            .unwrap()
            .delivered
    );
    assert!(agent.close(&conv).await.unwrap().delivered);

    let got = h.received();
    assert_eq!(got.len(), 6);
    assert!(
        got.iter()
            .all(|a| a.conversation_id() == Some(conv.as_str()))
    );
    assert!(
        got.iter()
            .all(|a| a.channel_id.as_deref() == Some("messaging-api"))
    );
    assert!(got.iter().all(|a| a.timestamp.is_some() && a.id.is_some()));

    assert_eq!(got[0].kind, ActivityType::Event);
    assert_eq!(got[0].name.as_deref(), Some("AgentAccepted"));
    assert_eq!(state_of(&got[0]), "Active");
    assert_eq!(
        target_state("AgentAccepted"),
        Some(ConversationState::Active)
    );
    assert_eq!(got[1].kind, ActivityType::Typing);
    assert_eq!(got[1].recipient_id(), Some("customer-00917734"));
    assert_eq!(got[2].text.as_deref(), Some("Hi, I'm **Rosa**."));
    assert_eq!(got[2].text_format.as_ref().unwrap().as_str(), "markdown");
    assert_eq!(
        got[2].from.as_ref().unwrap().name.as_deref(),
        Some("Rosa Delgado")
    );
    let att = &got[3].attachments.as_ref().unwrap()[0];
    assert_eq!(att.name.as_deref(), Some("guide (2).pdf"));
    assert_eq!(got[4].name.as_deref(), Some("SentimentThresholdReached"));
    assert!(state_of(&got[4]).is_null());
    assert_eq!(got[5].name.as_deref(), Some("ConversationClosed"));
    assert_eq!(state_of(&got[5]), "Closed");
    assert!(h.refused().is_empty());
}

#[tokio::test]
async fn failed_deliveries_are_retried_three_times() {
    let h = harness().await;
    let conv = h.start("c-1").await;
    h.webhook_faults.push(Fault::unavailable(), 2);
    let r = h.sim.agent().says(&conv, "third time lucky").await.unwrap();
    assert!(r.delivered);
    assert_eq!(r.attempts, [Some(503), Some(503), Some(200)]);
    assert_eq!(h.received().len(), 1);

    h.webhook_faults.push(Fault::unavailable(), 4);
    let r = h.sim.agent().says(&conv, "never arrives").await.unwrap();
    assert!(!r.delivered);
    assert_eq!(
        r.attempts.len(),
        4,
        "one attempt and three retries, then dropped"
    );
    assert_eq!(h.received().len(), 1);

    h.webhook_faults.push(Fault::Drop, 1);
    let r = h
        .sim
        .agent()
        .says(&conv, "after a dropped connection")
        .await
        .unwrap();
    assert_eq!(r.attempts, [None, Some(200)]);
}

#[tokio::test]
async fn slow_answers_cause_duplicates_the_host_can_drop() {
    let mut opts = fast();
    opts.webhook_timeout = Duration::from_millis(300);
    let h = harness_with(Setup {
        opts,
        ..Setup::default()
    })
    .await;
    let conv = h.start("c-1").await;
    // The first attempt is processed but answered after Omnichannel gave up.
    *h.answer_late.lock().unwrap() = Some(Duration::from_millis(600));
    let r = h.sim.agent().says(&conv, "once, please").await.unwrap();
    assert!(r.delivered);
    assert_eq!(r.attempts, [None, Some(200)]);
    let got = h.received();
    assert_eq!(got.len(), 2, "the adapter saw both deliveries");
    let ids: HashSet<_> = got.iter().map(|a| a.id.clone().unwrap()).collect();
    assert_eq!(
        ids.len(),
        1,
        "both carry the same id, so the host keeps one"
    );
    // A different message gets a different id.
    h.sim.agent().says(&conv, "another").await.unwrap();
    let ids: HashSet<_> = h.received().iter().map(|a| a.id.clone().unwrap()).collect();
    assert_eq!(ids.len(), 2);
}

#[tokio::test]
async fn tokens_for_another_audience_are_refused() {
    let mut opts = fast();
    opts.webhook_audience = Some("https://someone-else.example".into());
    let h = harness_with(Setup {
        opts,
        ..Setup::default()
    })
    .await;
    let conv = h.start("c-1").await;
    let r = h.sim.agent().says(&conv, "x").await.unwrap();
    assert!(!r.delivered);
    assert_eq!(r.attempts, [Some(401); 4]);
    assert!(h.received().is_empty());
    assert_eq!(h.refused(), [401; 4]);
}

#[tokio::test]
async fn entra_v1_tokens_are_accepted() {
    let mut opts = fast();
    opts.v1_issuer = true;
    let h = harness_with(Setup {
        opts,
        ..Setup::default()
    })
    .await;
    let conv = h.start("c-1").await;
    assert!(h.sim.agent().says(&conv, "v1").await.unwrap().delivered);
}

#[tokio::test]
async fn the_legacy_token_is_accepted_only_when_configured() {
    let mut opts = fast();
    opts.legacy_token = Some("shared-webhook-token".into());
    let h = harness_with(Setup {
        opts,
        config: Box::new(|c| {
            c.with_webhook_auth(WebhookAuthMode::LegacyToken(Secret::new(
                "shared-webhook-token",
            )))
            .unwrap()
        }),
        ..Setup::default()
    })
    .await;
    let conv = h.start("c-1").await;
    assert!(h.sim.agent().says(&conv, "legacy").await.unwrap().delivered);

    // A bearer-only webhook refuses the legacy header.
    let mut opts = fast();
    opts.legacy_token = Some("shared-webhook-token".into());
    let h = harness_with(Setup {
        opts,
        ..Setup::default()
    })
    .await;
    let conv = h.start("c-1").await;
    assert!(!h.sim.agent().says(&conv, "legacy").await.unwrap().delivered);
    assert_eq!(h.refused()[0], 401);
}

#[tokio::test]
async fn everything_else_is_refused() {
    let h = harness().await;
    let conv = h.start("c-1").await;
    let url = format!("{}/v3/conversations/{conv}/activities", h.webhook_url);
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/messaging-api/webhook-agent-message-markdown.json"
    ))
    .unwrap();
    let c = reqwest::Client::new();
    let r = c.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), 401, "no token");
    let r = c
        .post(&url)
        .bearer_auth("not.a.jwt")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "not a JWT");
    // The known-answer token is genuine but long expired.
    let r = c
        .post(&url)
        .bearer_auth(byoc_sim::messaging_api::keys::KAV_TOKEN_V2)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(format!("{}/elsewhere", h.webhook_url))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "unauthenticated callers only ever learn 401"
    );

    // With a genuine token: wrong path, wrong conversation, then accepted.
    let o = h.sim.options();
    let now = chrono::Utc::now().timestamp();
    let token = byoc_sim::messaging_api::keys::sign(&serde_json::json!({
        "iss": format!("{}/{}/v2.0", h.sim.url(), o.tenant_id),
        "aud": o.client_id, "azp": o.client_id, "tid": o.tenant_id,
        "iat": now, "nbf": now, "exp": now + 600,
    }))
    .unwrap();
    let r = c
        .post(format!("{}/elsewhere", h.webhook_url))
        .bearer_auth(&token)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "not a webhook path");
    let r = c
        .post(&url)
        .bearer_auth(&token)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "the body's conversation is not the path's");
    let fixture_conv = "2f6b8d0e-4a1c-4e3b-9d5f-7a9c1e3b5d7f";
    let r = c
        .post(format!(
            "{}/v3/conversations/{fixture_conv}/activities",
            h.webhook_url
        ))
        .bearer_auth(&token)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h.received().len(), 1);
    h.received.lock().unwrap().clear();
    let big = vec![b' '; 300 * 1024];
    let r = c.post(&url).body(big).send().await.unwrap();
    assert_eq!(r.status(), 400, "too large");
    assert!(h.received().is_empty());
}
