//! What a Direct Line client receives on each transport, as the service sends it: a bot's
//! messages on both (HTTP GET polling and the WebSocket stream), typing on the stream only,
//! an updated activity on both as a new activity naming the one it replaces in
//! `channelData.updateActivityId`, and nothing for a deleted one (Direct Line does not
//! propagate deletions).

use std::time::Duration;

use byoc_sim::directline::{self, DirectLineSim};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn connector_token(http: &reqwest::Client, sim: &DirectLineSim) -> String {
    let v: Value = http
        .post(format!("{}/botframework.com/oauth2/v2.0/token", sim.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", directline::DEFAULT_BOT_APP_ID),
            ("client_secret", directline::DEFAULT_BOT_APP_PASSWORD),
            ("scope", directline::CONNECTOR_SCOPE),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

/// Every activity of the frames received within `wait`.
async fn frames<S>(ws: &mut S, wait: Duration) -> Vec<Value>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut out = Vec::new();
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(wait, ws.next()).await {
        if let Message::Text(t) = msg
            && let Ok(set) = serde_json::from_str::<Value>(&t)
        {
            out.extend(set["activities"].as_array().cloned().unwrap_or_default());
        }
    }
    out
}

#[tokio::test]
async fn updates_reach_both_transports_and_typing_only_the_stream() {
    let sim = DirectLineSim::start(directline::Options::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let started: Value = http
        .post(format!("{}/conversations", sim.directline_url()))
        .bearer_auth(directline::DEFAULT_SECRET)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conv = started["conversationId"].as_str().unwrap().to_owned();
    let token = started["token"].as_str().unwrap().to_owned();
    let (mut ws, _) = tokio_tungstenite::connect_async(started["streamUrl"].as_str().unwrap())
        .await
        .unwrap();

    let bearer = connector_token(&http, &sim).await;
    let activities = format!("{}v3/conversations/{conv}/activities", sim.service_url());
    let sent: Value = http
        .post(&activities)
        .bearer_auth(&bearer)
        .json(&json!({"type": "message", "text": "first draft", "from": {"id": "bot"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = sent["id"].as_str().unwrap().to_owned();
    let typing = http
        .post(&activities)
        .bearer_auth(&bearer)
        .json(&json!({"type": "typing", "from": {"id": "bot"}}))
        .send()
        .await
        .unwrap();
    assert!(typing.status().is_success());
    let updated = http
        .put(format!("{activities}/{id}"))
        .bearer_auth(&bearer)
        .json(&json!({"type": "message", "text": "final text", "from": {"id": "bot"}}))
        .send()
        .await
        .unwrap();
    assert!(updated.status().is_success());
    let deleted = http
        .delete(format!("{activities}/{id}"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());

    // The stream: the message, typing, then the update naming the message it replaces.
    let streamed = frames(&mut ws, Duration::from_millis(300)).await;
    let kinds: Vec<(&str, Option<&str>)> = streamed
        .iter()
        .map(|a| (a["type"].as_str().unwrap_or_default(), a["text"].as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("message", Some("first draft")),
            ("typing", None),
            ("message", Some("final text"))
        ],
        "{streamed:#?}"
    );
    let update = &streamed[2];
    assert_eq!(update["channelData"]["updateActivityId"], id.as_str());
    assert_ne!(update["id"], id.as_str(), "the update is a new activity");

    // Polling: the same, without typing, with watermarks that resume after each.
    let page: Value = http
        .get(format!(
            "{}/conversations/{conv}/activities",
            sim.directline_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let polled = page["activities"].as_array().unwrap();
    let texts: Vec<&str> = polled.iter().filter_map(|a| a["text"].as_str()).collect();
    assert_eq!(texts, vec!["first draft", "final text"], "{page:#}");
    assert!(polled.iter().all(|a| a["type"] != "typing"));
    assert_eq!(polled[1]["channelData"]["updateActivityId"], id.as_str());
    let watermark = page["watermark"].as_str().unwrap();
    let after: Value = http
        .get(format!(
            "{}/conversations/{conv}/activities?watermark={watermark}",
            sim.directline_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["activities"], json!([]));
    // The conversation's history holds the latest state of each activity.
    assert_eq!(sim.activities(&conv)[0]["type"], "messageDelete");
}
