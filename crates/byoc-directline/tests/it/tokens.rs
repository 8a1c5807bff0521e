//! Direct Line token refresh with paused time, and the hourly limit on refetching keys for
//! unknown key ids.

use std::sync::Arc;
use std::time::Duration;

use byoc_core::{Activity, ChannelAdapter as _, Secret};
use byoc_directline::{ClientError, DirectLineClient, DirectLineConfig, DirectLineCredential};
use byoc_sim::directline::{
    ChannelToken, DEFAULT_BOT_APP_ID, DEFAULT_SECRET, DirectLineSim, Options,
};

use super::{endpoint, inbound, request};

/// Lets the other tasks run until `done` holds, advancing paused time by at most
/// 1 ms steps (2 s in all); panics with `what` otherwise.
pub(crate) async fn settle(what: &str, done: impl Fn() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("never happened: {what}");
}

/// A token for a new conversation, as a web page's server would hand it to the client.
async fn generate_token(sim: &DirectLineSim) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/tokens/generate", sim.directline_url()))
        .bearer_auth(DEFAULT_SECRET)
        .json(&serde_json::json!({ "user": { "id": "dl_token_user" } }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let v: serde_json::Value = resp.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

fn token_client(sim: &DirectLineSim, token: String) -> Arc<DirectLineClient> {
    // Only a token: no secret to fall back on when it expires.
    let config = DirectLineConfig::new(DirectLineCredential::Token(Secret::new(token)))
        .unwrap()
        .with_base_url(sim.directline_url().parse().unwrap())
        .unwrap()
        .with_user("dl_token_user", None)
        .unwrap();
    Arc::new(DirectLineClient::new(config).unwrap())
}

#[tokio::test(start_paused = true)]
async fn token_is_refreshed_every_15_minutes_while_the_conversation_is_quiet() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let client = token_client(&sim, generate_token(&sim).await);
    client.start().await.unwrap();
    let _refresher = client.keep_token_fresh();

    // 1800 s tokens are due 15 minutes before they expire: not yet at 899 s.
    tokio::time::advance(Duration::from_secs(899)).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert_eq!(sim.token_refreshes(), 0, "refreshed too early");
    tokio::time::advance(Duration::from_secs(2)).await;
    settle("first refresh", || sim.token_refreshes() == 1).await;

    // Two more hours without a single call: each token is replaced before it expires.
    for n in 2..=9 {
        tokio::time::advance(Duration::from_secs(900)).await;
        settle("next refresh", || sim.token_refreshes() == n).await;
    }
    // Long past the first token's expiry, the conversation still works with no secret.
    client
        .post_activity(&Activity::message("still here"))
        .await
        .unwrap();
    let texts: Vec<_> = client
        .get_activities()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|a| a.text)
        .collect();
    assert!(texts.iter().any(|t| t == "Echo: still here"), "{texts:?}");
}

#[tokio::test(start_paused = true)]
async fn without_the_refresher_a_quiet_token_only_client_loses_its_token() {
    // The control for the test above: the same silence, no background refresh.
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let client = token_client(&sim, generate_token(&sim).await);
    client.start().await.unwrap();
    tokio::time::advance(Duration::from_secs(1801)).await;
    assert!(matches!(
        client.post_activity(&Activity::message("too late")).await,
        Err(ClientError::TokenExpired)
    ));
    assert_eq!(sim.token_refreshes(), 0);
}

#[tokio::test(start_paused = true)]
async fn streams_refresh_the_token_too() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let client = token_client(&sim, generate_token(&sim).await);
    client.start().await.unwrap();
    // The WebSocket makes no HTTP calls while it is open: only the refresher can refresh.
    let stream = client.stream();
    settle("socket open", || sim.stream_counts().1 == 1).await;
    tokio::time::advance(Duration::from_secs(901)).await;
    settle("refresh under a stream", || sim.token_refreshes() >= 1).await;
    drop(stream);
    // Dropping the stream stops its refresher.
    let before = sim.token_refreshes();
    tokio::time::advance(Duration::from_secs(3600)).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert_eq!(sim.token_refreshes(), before);
}

#[tokio::test(start_paused = true)]
async fn unknown_kid_refetch_is_allowed_again_after_the_hour() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let ep = endpoint(&sim);
    let act = inbound(&sim, "webchat", "c-kid");
    let good = ChannelToken::valid(DEFAULT_BOT_APP_ID, &sim.service_url());
    ep.receive(request(&sim.sign_channel_token(&good), &act))
        .await
        .unwrap();
    assert_eq!(sim.metadata_fetches(), (1, 1));

    let mut rotated = good.clone();
    rotated.key = 1; // not published yet
    let unknown = |sim: &DirectLineSim| sim.sign_channel_token(&rotated);
    let err = ep.receive(request(&unknown(&sim), &act)).await.unwrap_err();
    assert_eq!(err.code(), Some("UnknownKey"));
    assert_eq!(
        sim.metadata_fetches(),
        (2, 2),
        "one refetch for the unknown kid"
    );

    // The key is published now, but within the hour the endpoint does not look again.
    sim.publish_key(1);
    tokio::time::advance(Duration::from_secs(59 * 60)).await;
    let err = ep.receive(request(&unknown(&sim), &act)).await.unwrap_err();
    assert_eq!(err.code(), Some("UnknownKey"));
    assert_eq!(sim.metadata_fetches(), (2, 2));

    // After the hour, the next unknown kid refetches, and the rotated key is accepted.
    tokio::time::advance(Duration::from_secs(61)).await;
    ep.receive(request(&unknown(&sim), &act)).await.unwrap();
    assert_eq!(sim.metadata_fetches(), (3, 3));
    // And the window starts again.
    let mut third = good;
    third.key = 2;
    let err = ep
        .receive(request(&sim.sign_channel_token(&third), &act))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnknownKey"));
    assert_eq!(sim.metadata_fetches(), (3, 3));
}
