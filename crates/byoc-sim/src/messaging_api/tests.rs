//! The simulator's own checks, over loopback HTTP with a plain reqwest client.

use super::*;

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
