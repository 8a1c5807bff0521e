//! Relayed events posted to the adapter mounted with `byoc_axum::webhook` on loopback.

use std::sync::{Arc, Mutex};

use byoc_axum::{Received, SinkError, webhook};
use byoc_core::{Activity, ActivityType, Secret};
use byoc_salesforce::SalesforceAdapter;
use byoc_sim::salesforce::{self as sim, SalesforceSim, SimConfig};

use super::config;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/salesforce/"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

/// Serves `adapter` at `/salesforce/events` on `127.0.0.1:0`; returns its URL and what the
/// sink took.
async fn serve(adapter: SalesforceAdapter) -> (String, Arc<Mutex<Vec<Activity>>>) {
    let taken = Arc::new(Mutex::new(Vec::new()));
    let sink = taken.clone();
    let app = axum::Router::new().route(
        "/salesforce/events",
        webhook(Arc::new(adapter), move |received: Received| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().extend(received.activities);
                Ok::<(), SinkError>(())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/salesforce/events",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, taken)
}

async fn post(url: &str, body: Vec<u8>, secret: Option<&str>) -> reqwest::StatusCode {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(s) = secret {
        req = req.bearer_auth(s);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn a_relayed_event_for_this_channel_reaches_the_sink_in_each_form() {
    let s = SalesforceSim::start(SimConfig::default()).await.unwrap();
    let adapter = SalesforceAdapter::new(config(&s, sim::TEST_PRIVATE_KEY_PEM)).unwrap();
    let (url, taken) = serve(adapter).await;

    let status = post(&url, fixture("pubsub-interaction-text-wrapped.json"), None).await;
    assert_eq!(status, 200);
    // A whole record, its fields in Avro's JSON encoding.
    let status = post(&url, fixture("pubsub-event-record-avro-json.json"), None).await;
    assert_eq!(status, 200);
    let status = post(
        &url,
        fixture("pubsub-message-updated-attachments.json"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    {
        let taken = taken.lock().unwrap();
        assert_eq!(taken.len(), 3);
        assert_eq!(
            taken[0].text.as_deref(),
            Some("Thanks! Your order 48213 shipped this morning.")
        );
        assert_eq!(taken[1].text.as_deref(), Some("One moment while I check."));
        assert_eq!(taken[2].kind, ActivityType::MessageUpdate);
    }

    // Another channel's event: acknowledged, nothing taken.
    let other = serde_json::json!({
        "channelAddressIdentifier": "another-channel",
        "recipient": {"subject": "someone"},
        "payload": {"identifier": "z", "entryType": "TypingStartedIndicator"}
    });
    assert_eq!(post(&url, other.to_string().into_bytes(), None).await, 200);
    // Malformed: refused, nothing taken.
    assert_eq!(post(&url, b"{".to_vec(), None).await, 400);
    assert_eq!(taken.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_relay_secret_is_required_once_configured() {
    let s = SalesforceSim::start(SimConfig::default()).await.unwrap();
    let config = config(&s, sim::TEST_PRIVATE_KEY_PEM)
        .with_relay_secret(Secret::new("relay-7f3a"))
        .unwrap();
    let (url, taken) = serve(SalesforceAdapter::new(config).unwrap()).await;
    let body = || fixture("pubsub-interaction-text-wrapped.json");
    assert_eq!(post(&url, body(), None).await, 401);
    assert_eq!(post(&url, body(), Some("wrong")).await, 401);
    assert!(taken.lock().unwrap().is_empty());
    assert_eq!(post(&url, body(), Some("relay-7f3a")).await, 200);
    assert_eq!(taken.lock().unwrap().len(), 1);
}
