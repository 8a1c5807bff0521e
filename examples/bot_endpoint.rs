//! A bot messaging endpoint in axum, validating real channel JWTs: the simulator's Direct
//! Line service relays each user message to `/api/messages` with a signed token, exactly as
//! Azure Bot Service does, and the bot answers through the Connector.
//!
//! `cargo run --example bot_endpoint`: starts the endpoint and a simulator relaying to it,
//! sends one message through Direct Line and prints the bot's answer.
//!
//! The example names the crates directly (`byoc_directline`, not `byoc::directline`) so
//! that `crates/byoc-directline/tests/it/main.rs` can include this file and drive [`app`].

use std::sync::Arc;
use std::time::Duration;

use byoc_axum::{Answer, Received, SinkError, webhook};
use byoc_core::{Activity, ChannelAdapter as _, Secret};
use byoc_directline::{
    ConnectorAdapter, ConnectorConfig, DirectLineClient, DirectLineConfig, DirectLineCredential,
    ExpectedAnswer, InvokeResponse, expected_replies,
};
use byoc_sim::directline::{self as sim, DirectLineSim, Options};
use futures_util::StreamExt as _;

/// The bot's reply to a message.
pub fn reply_to(activity: &Activity) -> Activity {
    let text = activity.text.clone().unwrap_or_default();
    activity.create_reply(format!("You said: {text}"))
}

/// The bot's axum app: `POST /api/messages` validates the channel JWT (byoc-axum's
/// webhook, answering `401` for a bad token), then
///
/// - a message is answered `200` at once and replied to in the background, through the
///   Connector;
/// - an `invoke` is answered with the bot's `InvokeResponse`: `200` with
///   `{"echo": <name>, "value": <value>}`;
/// - an activity sent with `deliveryMode: expectReplies` gets its replies in the answer.
pub fn app(adapter: Arc<ConnectorAdapter>) -> axum::Router {
    let bot = adapter.clone();
    axum::Router::new().route(
        "/api/messages",
        webhook(adapter, move |received: Received| {
            let bot = bot.clone();
            async move { Ok::<Answer, SinkError>(run_bot(&bot, received.activities)) }
        }),
    )
}

/// Runs the bot on what the channel sent and says how to answer it.
fn run_bot(adapter: &Arc<ConnectorAdapter>, activities: Vec<Activity>) -> Answer {
    let mut answer = Answer::Adapter;
    for activity in activities {
        match ExpectedAnswer::of(&activity) {
            ExpectedAnswer::Invoke => {
                let value = activity
                    .value
                    .as_ref()
                    .and_then(|v| serde_json::from_str(v.get()).ok())
                    .unwrap_or(serde_json::Value::Null);
                let body = serde_json::json!({ "echo": activity.name, "value": value });
                answer = Answer::Replace(InvokeResponse::ok(body).to_response());
            }
            ExpectedAnswer::ExpectReplies => {
                if let Ok(replies) = expected_replies(&[reply_to(&activity)]) {
                    answer = Answer::Replace(replies);
                }
            }
            _ if activity.is_message() => {
                let adapter = adapter.clone();
                tokio::spawn(async move {
                    if let Err(e) = adapter.send(&reply_to(&activity)).await {
                        eprintln!("reply failed: {e}");
                    }
                });
            }
            _ => {}
        }
    }
    answer
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bot_url = format!("http://{}/api/messages", listener.local_addr()?);
    let simulator = DirectLineSim::start(Options::default().with_bot_url(bot_url.clone())).await?;
    let config = ConnectorConfig::new(
        sim::DEFAULT_BOT_APP_ID,
        Secret::new(sim::DEFAULT_BOT_APP_PASSWORD),
    )?
    .with_authority(
        simulator.url().parse()?,
        simulator.openid_metadata_url().parse()?,
        sim::CHANNEL_ISSUER,
    )?;
    let adapter = Arc::new(ConnectorAdapter::new(config)?);
    tokio::spawn(async move { axum::serve(listener, app(adapter)).await });
    println!(
        "bot endpoint at {bot_url}; channel simulator at {}",
        simulator.url()
    );

    let dl = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new(
        sim::DEFAULT_SECRET,
    )))?
    .with_base_url(simulator.directline_url().parse()?)?
    .with_user("dl_demo", None)?;
    let client = Arc::new(DirectLineClient::new(dl)?);
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
