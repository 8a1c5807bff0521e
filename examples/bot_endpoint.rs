//! A bot messaging endpoint in axum, validating real channel JWTs: the simulator's Direct
//! Line service relays each user message to `/api/messages` with a signed token, exactly as
//! Azure Bot Service does, and the bot answers through the Connector.
//!
//! `cargo run --example bot_endpoint`: starts the endpoint and a simulator relaying to it,
//! sends one message through Direct Line and prints the bot's answer.

use std::sync::Arc;
use std::time::Duration;

use byoc::core::{Activity, ChannelAdapter as _, Secret};
use byoc::directline::client::{DirectLineClient, ReqwestTransport};
use byoc::directline::{BotEndpoint, ConnectorConfig, DirectLineConfig, DirectLineCredential};
use byoc::sim::directline::{self as sim, DirectLineSim, Options};
use futures_util::StreamExt as _;

/// The bot's axum app: `POST /api/messages` validates, answers 200 at once, and replies
/// in the background.
pub fn app(endpoint: Arc<BotEndpoint>) -> axum::Router {
    axum::Router::new().route(
        "/api/messages",
        axum::routing::post(move |req: axum::extract::Request| {
            let endpoint = endpoint.clone();
            async move {
                let (parts, body) = req.into_parts();
                let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
                    return http::StatusCode::PAYLOAD_TOO_LARGE;
                };
                match endpoint
                    .receive(http::Request::from_parts(parts, body))
                    .await
                {
                    Ok(inbound) => {
                        for activity in inbound.activities.into_iter().filter(Activity::is_message)
                        {
                            let endpoint = endpoint.clone();
                            tokio::spawn(async move {
                                let text = activity.text.clone().unwrap_or_default();
                                let reply = activity.create_reply(format!("You said: {text}"));
                                if let Err(e) = endpoint.send(&reply).await {
                                    eprintln!("reply failed: {e}");
                                }
                            });
                        }
                        http::StatusCode::OK
                    }
                    Err(e) => e.http_status(),
                }
            }
        }),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bot_url = format!("http://{}/api/messages", listener.local_addr()?);
    let simulator = DirectLineSim::start(Options::default().with_bot_url(bot_url.clone())).await?;
    let config = ConnectorConfig::new(
        sim::DEFAULT_BOT_APP_ID,
        Secret::new(sim::DEFAULT_BOT_APP_PASSWORD),
    )
    .with_authority(
        simulator.url(),
        simulator.openid_metadata_url(),
        sim::CHANNEL_ISSUER,
    );
    let endpoint = Arc::new(BotEndpoint::with_reqwest(config)?);
    tokio::spawn(async move { axum::serve(listener, app(endpoint)).await });
    println!(
        "bot endpoint at {bot_url}; channel simulator at {}",
        simulator.url()
    );

    let dl = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new(
        sim::DEFAULT_SECRET,
    )))
    .with_base_url(simulator.directline_url())
    .with_user("dl_demo", None);
    let client = Arc::new(DirectLineClient::new(
        dl,
        Arc::new(ReqwestTransport::new()?),
    ));
    client.start().await?;
    let mut activities = client.poll();
    client
        .post_activity(&Activity::message("hello bot"))
        .await?;
    loop {
        let a = tokio::time::timeout(Duration::from_secs(10), activities.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("stream ended"))??;
        if a.from_id() != Some("dl_demo") {
            println!("bot answered: {}", a.text.unwrap_or_default());
            return Ok(());
        }
    }
}
