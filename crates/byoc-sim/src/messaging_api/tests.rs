//! The simulator's own checks, over loopback HTTP with a plain reqwest client.

use super::*;
use serde_json::{Value, json};

async fn token(sim: &MessagingApiSim, scope: &str) -> reqwest::Response {
    let o = sim.options();
    reqwest::Client::new()
        .post(format!("{}/{}/oauth2/v2.0/token", sim.url(), o.tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", o.client_id.as_str()),
            ("client_secret", o.client_secret.as_str()),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn token_endpoint_checks_client_and_scope() {
    let sim = MessagingApiSim::start(Options::default()).await.unwrap();
    let r = token(&sim, &sim.messaging_scope()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    let r = token(&sim, "https://other/.default").await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let r = reqwest::Client::new()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            sim.url(),
            sim.options().tenant_id
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "x"),
            ("client_secret", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(sim.token_requests(), 3);
}

#[tokio::test]
async fn consumer_api_needs_token_headers_and_channel() {
    let sim = MessagingApiSim::start(Options::default()).await.unwrap();
    let url = format!("{}/api/v1.0/consumer/conversations", sim.url());
    let c = reqwest::Client::new();
    assert_eq!(c.get(&url).send().await.unwrap().status(), 401);
    let v: Value = token(&sim, &sim.messaging_scope())
        .await
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", v["access_token"].as_str().unwrap());
    let r = c
        .get(&url)
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .get(&url)
        .header("authorization", &bearer)
        .header("channel-id", "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a")
        .header("organization-id", &sim.options().org_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "unregistered channel");
    // A Dataverse-scoped token is not valid for the consumer API.
    let v: Value = token(&sim, &format!("{}/.default", sim.url()))
        .await
        .json()
        .await
        .unwrap();
    let r = c
        .get(&url)
        .header(
            "authorization",
            format!("Bearer {}", v["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn jwks_is_served_per_tenant() {
    let sim = MessagingApiSim::start(Options::default()).await.unwrap();
    let url = format!(
        "{}/{}/discovery/v2.0/keys",
        sim.url(),
        sim.options().tenant_id
    );
    let v: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(v["keys"][0]["n"], keys::N);
    let r = reqwest::get(format!("{}/other/discovery/v2.0/keys", sim.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

async fn bearer(sim: &MessagingApiSim, scope: &str) -> String {
    let v: Value = token(sim, scope).await.json().await.unwrap();
    format!("Bearer {}", v["access_token"].as_str().unwrap())
}

#[tokio::test]
async fn dataverse_and_consumer_checks() {
    let sim = MessagingApiSim::start(Options::default()).await.unwrap();
    let o = sim.options().clone();
    let c = reqwest::Client::new();
    let dv = bearer(&sim, &format!("{}/.default", sim.url())).await;
    let set = format!(
        "{}/api/data/v9.2/msdyn_occustommessagingchannels",
        sim.url()
    );
    let record = |hook: &str, kind: i64| {
        json!({
            "msdyn_occustomchannelid": kind,
            "msdyn_name": "t",
            "msdyn_appid": o.client_id,
            "msdyn_tenantid": o.tenant_id,
            "msdyn_webhookurl": hook,
        })
    };
    for (hook, kind) in [
        ("http://bot.example", 192_350_005),
        ("https://bot.example", 1),
    ] {
        let r = c
            .post(&set)
            .header("authorization", &dv)
            .json(&record(hook, kind))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{hook} {kind}");
    }
    let r = c
        .post(&set)
        .header("authorization", &dv)
        .json(&record("https://bot.example", 192_350_005))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let entity = r.headers()["odata-entityid"].to_str().unwrap().to_owned();
    let channel = entity
        .rsplit_once('(')
        .unwrap()
        .1
        .trim_end_matches(')')
        .to_owned();

    let api = bearer(&sim, &sim.messaging_scope()).await;
    let post = |path: String, body: Value| {
        c.post(format!("{}{path}", sim.url()))
            .header("authorization", &api)
            .header("channel-id", &channel)
            .header("organization-id", &o.org_id)
            .json(&body)
            .send()
    };
    let long = "x".repeat(201);
    let r = post(
        "/api/v1.0/consumer/conversations/create".into(),
        json!({"customercontext": {"email": long}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = post(
        "/api/v1.0/consumer/conversations/create".into(),
        json!({"customercontext": {"customerid": "c"}}),
    )
    .await
    .unwrap();
    let conv = r.json::<Value>().await.unwrap()["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1.0/consumer/conversation/{conv}");
    let cases = [
        (
            json!({"type": "message", "conversation": {"id": conv}, "text": "x".repeat(6001)}),
            "TextTooLong",
        ),
        (
            json!({"type": "message", "conversation": {"id": conv}}),
            "MissingContent",
        ),
        (
            json!({"type": "event", "name": "Nope", "conversation": {"id": conv}}),
            "UnsupportedEvent",
        ),
        (
            json!({"type": "invoke", "conversation": {"id": conv}}),
            "UnsupportedActivityType",
        ),
        (
            json!({"type": "message", "channelId": "other", "conversation": {"id": conv}, "text": "x"}),
            "ChannelIdMismatch",
        ),
    ];
    for (body, code) in cases {
        let r = post(path.clone(), body).await.unwrap();
        assert_eq!(r.status(), 400, "{code}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], code);
    }
    let r = post(
        path.clone(),
        json!({"type": "message", "conversation": {"id": conv}, "text": "x".repeat(6000)}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.json::<Value>().await.unwrap()["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 13);
}
