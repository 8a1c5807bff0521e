//! A bot messaging endpoint in axum, validating real channel JWTs: the simulator's Direct
//! Line service relays each user message to `/api/messages` with a signed token, exactly as
//! Azure Bot Service does, and the bot answers through the Connector.
//!
//! `cargo run --example bot_endpoint`: starts the endpoint and a simulator relaying to it,
//! sends one message through Direct Line and prints the bot's answer.
//!
//! The example names the crates directly (`byoc_directline`, not `byoc::directline`) so
//! that `crates/byoc-directline/tests/example.rs` can include this file and drive
//! [`app`].

use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse as _;
use byoc_core::{Activity, ChannelAdapter as _, Secret};
use byoc_directline::client::{DirectLineClient, ReqwestTransport};
use byoc_directline::{
    BotEndpoint, ConnectorConfig, DirectLineConfig, DirectLineCredential, ExpectedAnswer,
    InvokeResponse, expected_replies,
};
use byoc_sim::directline::{self as sim, DirectLineSim, Options};
use futures_util::StreamExt as _;

/// The bot's reply to a message.
pub fn reply_to(activity: &Activity) -> Activity {
    let text = activity.text.clone().unwrap_or_default();
    activity.create_reply(format!("You said: {text}"))
}

/// The bot's axum app: `POST /api/messages` validates the channel JWT, then
///
/// - a message is answered `200` at once and replied to in the background, through the
///   Connector;
/// - an `invoke` is answered with the bot's `InvokeResponse`: `200` with
///   `{"echo": <name>, "value": <value>}`;
/// - an activity sent with `deliveryMode: expectReplies` gets its replies in the answer.
pub fn app(endpoint: Arc<BotEndpoint>) -> axum::Router {
    axum::Router::new().route(
        "/api/messages",
        axum::routing::post(move |req: axum::extract::Request| {
            let endpoint = endpoint.clone();
            async move {
                let (parts, body) = req.into_parts();
                let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
                    return http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
                };
                let mut inbound = match endpoint
                    .receive(http::Request::from_parts(parts, body))
                    .await
                {
                    Ok(inbound) => inbound,
                    Err(e) => return e.to_response().map(axum::body::Body::from),
                };
                for activity in std::mem::take(&mut inbound.activities) {
                    match ExpectedAnswer::of(&activity) {
                        ExpectedAnswer::Invoke => {
                            let value = activity
                                .value
                                .as_ref()
                                .and_then(|v| serde_json::from_str(v.get()).ok())
                                .unwrap_or(serde_json::Value::Null);
                            let body = serde_json::json!({ "echo": activity.name, "value": value });
                            inbound.response = InvokeResponse::ok(body).to_response();
                        }
                        ExpectedAnswer::ExpectReplies => {
                            if let Ok(r) = expected_replies(&[reply_to(&activity)]) {
                                inbound.response = r;
                            }
                        }
                        _ if activity.is_message() => {
                            let endpoint = endpoint.clone();
                            tokio::spawn(async move {
                                if let Err(e) = endpoint.send(&reply_to(&activity)).await {
                                    eprintln!("reply failed: {e}");
                                }
                            });
                        }
                        _ => {}
                    }
                }
                inbound.response.map(axum::body::Body::from)
            }
        }),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
            .ok_or("stream ended")??;
        if a.from_id() != Some("dl_demo") {
            println!("bot answered: {}", a.text.unwrap_or_default());
            return Ok(());
        }
    }
}
