//! A Direct Line 3.0 client talking to the simulator's echo bot: start a conversation,
//! stream replies over the WebSocket, send a few messages.
//!
//! `cargo run --example directline_echo` (starts its own simulator), or point it at a
//! running one: `DIRECTLINE_URL=http://127.0.0.1:P/v3/directline DIRECTLINE_SECRET=...`.

use std::sync::Arc;
use std::time::Duration;

use byoc::core::{Activity, Secret};
use byoc::directline::{DirectLineClient, DirectLineConfig, DirectLineCredential};
use futures_util::StreamExt as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (_sim, url, secret) = match std::env::var("DIRECTLINE_URL") {
        Ok(url) => (None, url, std::env::var("DIRECTLINE_SECRET")?),
        Err(_) => {
            let sim = byoc::sim::directline::DirectLineSim::start(Default::default()).await?;
            let url = sim.directline_url();
            (
                Some(sim),
                url,
                byoc::sim::directline::DEFAULT_SECRET.to_owned(),
            )
        }
    };
    let config = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new(secret)))?
        .with_base_url(url.parse()?)?
        .with_user("dl_example_user", Some("Example".into()))?;
    let client = Arc::new(DirectLineClient::new(config)?);
    let conversation = client.start().await?;
    println!("conversation {}", conversation.conversation_id);
    let mut activities = client.stream();
    for text in ["hello", "how are you?"] {
        let id = client.post_activity(&Activity::message(text)).await?;
        println!("sent {text:?} as {id}");
        // Skip the echo of our own message; print the bot's answer.
        loop {
            let a = tokio::time::timeout(Duration::from_secs(10), activities.next())
                .await?
                .ok_or_else(|| anyhow::anyhow!("stream ended"))??;
            if a.from_id() != Some("dl_example_user") {
                println!("bot: {}", a.text.unwrap_or_default());
                break;
            }
        }
    }
    println!("watermark to resume from: {:?}", client.watermark().await);
    Ok(())
}
