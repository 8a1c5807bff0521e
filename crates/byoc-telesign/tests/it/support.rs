//! Shared setup: a simulator, a config pointing at it, and a webhook server that hands
//! callbacks to the adapter.

use std::sync::Arc;
use std::time::Duration;

use byoc_core::{Activity, ChannelAdapter};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use byoc_telesign::{TelesignAdapter, TelesignConfig};
use tokio::sync::mpsc;

pub(crate) async fn sim() -> TelesignSim {
    TelesignSim::start(TelesignSimOptions::default().with_callback_retry_delays(vec![]))
        .await
        .expect("simulator starts")
}

pub(crate) fn config(sim: &TelesignSim) -> TelesignConfig {
    TelesignConfig::new(sim.customer_id(), sim.api_key())
        .unwrap()
        .with_base_url(sim.url())
        .unwrap()
        .with_timeout(Duration::from_secs(5))
}

pub(crate) fn adapter(sim: &TelesignSim) -> TelesignAdapter {
    TelesignAdapter::new(config(sim)).unwrap()
}

/// A webhook on loopback: every POST goes through `adapter.receive`; the activities come
/// out of the channel, the adapter's answer goes back to the caller.
pub(crate) async fn webhook(adapter: Arc<TelesignAdapter>) -> (String, mpsc::Receiver<Activity>) {
    let (tx, rx) = mpsc::channel(16);
    let app = axum::Router::new().route(
        "/webhooks/telesign",
        axum::routing::post(move |req: axum::extract::Request| {
            let adapter = adapter.clone();
            let tx = tx.clone();
            async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20)
                    .await
                    .unwrap_or_default();
                let request = http::Request::from_parts(parts, bytes);
                match adapter.receive(request).await {
                    Ok(inbound) => {
                        for a in inbound.activities {
                            tx.send(a).await.ok();
                        }
                        inbound.response.map(axum::body::Body::from)
                    }
                    Err(e) => e.to_response().map(axum::body::Body::from),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/webhooks/telesign"), rx)
}

pub(crate) async fn next(rx: &mut mpsc::Receiver<Activity>) -> Activity {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an activity within 10 s")
        .expect("channel open")
}

pub(crate) fn message_to(phone: &str, text: &str) -> Activity {
    let mut a = Activity::message(text);
    a.recipient = Some(byoc_core::ChannelAccount::new(phone));
    a
}
