//! Every connection the adapter and the Direct Line client make (keys, tokens, Connector
//! and Direct Line REST calls, the WebSocket) against the simulator over TLS, trusting only
//! the simulator's generated CA.

use std::sync::Arc;
use std::time::Duration;

use byoc_core::{Activity, ChannelAdapter as _, Secret};
use byoc_directline::{
    ClientError, ConnectorAdapter, ConnectorConfig, DirectLineClient, DirectLineConfig,
    DirectLineCredential, RootCa, TransportErrorKind,
};
use byoc_sim::directline::{
    CHANNEL_ISSUER, ChannelToken, DEFAULT_BOT_APP_ID, DEFAULT_BOT_APP_PASSWORD, DEFAULT_SECRET,
    DirectLineSim, Options,
};
use byoc_sim::tls::LocalCa;

use super::{inbound, next_text, request};

async fn tls_sim() -> (DirectLineSim, RootCa) {
    let ca = LocalCa::generate().unwrap();
    let sim = DirectLineSim::start(Options::default().with_tls(ca.clone()))
        .await
        .unwrap();
    assert!(sim.url().starts_with("https://"), "{}", sim.url());
    (sim, RootCa::from_pem("simulator CA", ca.ca_pem()))
}

fn dl_config(sim: &DirectLineSim) -> DirectLineConfig {
    DirectLineConfig::new(DirectLineCredential::Secret(Secret::new(DEFAULT_SECRET)))
        .unwrap()
        .with_base_url(sim.directline_url().parse().unwrap())
        .unwrap()
        .with_user("dl_tls_user", None)
        .unwrap()
        .with_reconnect_backoff(Duration::from_millis(10), Duration::from_millis(50))
}

#[tokio::test]
async fn the_direct_line_client_streams_over_tls_with_only_the_simulators_ca() {
    let (sim, ca) = tls_sim().await;
    let client = Arc::new(DirectLineClient::new(dl_config(&sim).with_root_ca(ca)).unwrap());
    client.start().await.unwrap();
    let mut stream = client.stream();
    client
        .post_activity(&Activity::message("over tls"))
        .await
        .unwrap();
    next_text(&mut stream, "Echo: over tls").await;
    assert_eq!(
        sim.stream_counts(),
        (1, 1),
        "received on the socket, not by polling"
    );
}

#[tokio::test]
async fn without_the_simulators_ca_the_client_cannot_connect() {
    let (sim, _) = tls_sim().await;
    let client = DirectLineClient::new(dl_config(&sim)).unwrap();
    match client.start().await {
        Err(ClientError::Transport { endpoint, source }) => {
            assert_eq!(endpoint, "tokens/generate");
            assert_eq!(source.kind(), TransportErrorKind::Connect);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_adapter_fetches_keys_and_tokens_and_replies_over_tls() {
    let (sim, ca) = tls_sim().await;
    sim.ensure_conversation("c-tls");
    let config = ConnectorConfig::new(DEFAULT_BOT_APP_ID, Secret::new(DEFAULT_BOT_APP_PASSWORD))
        .unwrap()
        .with_authority(
            sim.url().parse().unwrap(),
            sim.openid_metadata_url().parse().unwrap(),
            CHANNEL_ISSUER,
        )
        .unwrap()
        .with_root_ca(ca);
    let adapter = ConnectorAdapter::new(config).unwrap();
    let token =
        sim.sign_channel_token(&ChannelToken::valid(DEFAULT_BOT_APP_ID, &sim.service_url()));
    let received = adapter
        .receive(request(&token, &inbound(&sim, "webchat", "c-tls")))
        .await
        .unwrap();
    assert_eq!(sim.metadata_fetches(), (1, 1));
    let reply = received.activities[0].create_reply("over tls");
    let delivery = adapter.send(&reply).await.unwrap();
    assert_eq!(delivery.conversation_id.as_deref(), Some("c-tls"));
    assert_eq!(sim.token_requests(), 1);
    assert_eq!(sim.activities("c-tls")[0]["text"], "over tls");
}
