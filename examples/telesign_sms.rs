//! TeleSign SMS end to end on loopback: starts the TeleSign simulator, sends an SMS through
//! the adapter, receives an inbound SMS and the delivery report through the adapter's
//! webhook, and prints the activities.
//!
//! Run with `cargo run --example telesign_sms`.

use std::sync::Arc;
use std::time::Duration;

use byoc::core::{Activity, ChannelAccount, ChannelAdapter, Secret};
use byoc::sim::telesign::{TelesignSim, TelesignSimOptions};
use byoc::telesign::{TelesignAdapter, TelesignConfig};
use byoc_axum::{Received, SinkError, webhook};
use tokio::sync::mpsc;

/// The webhook app: every POST to `/webhooks/telesign` is verified and normalized by the
/// adapter (through `byoc_axum::webhook`), and the activities are handed to `out` before
/// TeleSign is answered.
pub fn app(adapter: Arc<TelesignAdapter>, out: mpsc::Sender<Activity>) -> axum::Router {
    let sink = move |received: Received| {
        let out = out.clone();
        async move {
            for activity in received.activities {
                out.send(activity)
                    .await
                    .map_err(|_| SinkError::unavailable("the printer stopped"))?;
            }
            Ok::<(), SinkError>(())
        }
    };
    axum::Router::new().route("/webhooks/telesign", webhook(adapter, sink))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1. The simulator, with its built-in test credentials.
    let sim = TelesignSim::start(TelesignSimOptions::default()).await?;
    println!("TeleSign simulator on {}", sim.url());

    // 2. The adapter, pointed at the simulator.
    let config = TelesignConfig::new(sim.customer_id(), Secret::new(sim.api_key()))?
        .with_base_url(sim.url().parse()?)?;
    let adapter = Arc::new(TelesignAdapter::new(config)?);

    // 3. Our webhook, registered as the simulator's callback URL.
    let (tx, mut rx) = mpsc::channel(16);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_url = format!("http://{}/webhooks/telesign", listener.local_addr()?);
    let webhook_app = app(adapter.clone(), tx);
    tokio::spawn(async move { axum::serve(listener, webhook_app).await });
    sim.set_callback_url(&callback_url);

    // 4. Send an SMS.
    let mut sms = Activity::message("Your appointment is tomorrow at 10:00. Reply C to confirm.");
    sms.recipient = Some(ChannelAccount::new("+1 555 555 0123"));
    let delivery = adapter.send(&sms).await?;
    for part in &delivery.parts {
        println!(
            "sent: reference id {}, {} segment(s)",
            part.provider_id,
            part.segments.unwrap_or(1)
        );
    }

    // 5. The customer answers.
    sim.send_mo("15555550123", "15555550999", "C").await?;

    // 6. The delivery report and the inbound SMS arrive as activities.
    for _ in 0..2 {
        let activity = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await?
            .ok_or_else(|| anyhow::anyhow!("webhook stopped"))?;
        println!("{}", activity.to_json()?);
    }
    Ok(())
}
