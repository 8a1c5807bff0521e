//! Shared setup: a simulator, a config pointing at it, and a webhook server that hands
//! callbacks to the adapter through `byoc_axum::webhook`.

use std::sync::Arc;
use std::time::Duration;

use byoc_axum::{Received, SinkError, webhook as axum_webhook};
use byoc_core::{Activity, Secret};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use byoc_telesign::{TelesignAdapter, TelesignConfig};
use tokio::sync::mpsc;

pub(crate) async fn sim() -> TelesignSim {
    TelesignSim::start(TelesignSimOptions::default().with_callback_retry_delays(vec![]))
        .await
        .expect("simulator starts")
}

/// A configuration for `customer_id` / `api_key` pointed at `sim`.
pub(crate) fn config_for(sim: &TelesignSim, customer_id: &str, api_key: &str) -> TelesignConfig {
    TelesignConfig::new(customer_id, Secret::new(api_key))
        .unwrap()
        .with_base_url(sim.url().parse().unwrap())
        .unwrap()
        .with_timeout(Duration::from_secs(5))
        .unwrap()
}

pub(crate) fn config(sim: &TelesignSim) -> TelesignConfig {
    config_for(sim, sim.customer_id(), sim.api_key())
}

pub(crate) fn adapter(sim: &TelesignSim) -> TelesignAdapter {
    TelesignAdapter::new(config(sim)).unwrap()
}

/// A webhook on loopback mounted with `byoc_axum::webhook`: the activities come out of the
/// channel (handed over before the answer), the adapter's answer goes back to the caller.
pub(crate) async fn webhook(adapter: Arc<TelesignAdapter>) -> (String, mpsc::Receiver<Activity>) {
    let (tx, rx) = mpsc::channel(16);
    let sink = move |received: Received| {
        let tx = tx.clone();
        async move {
            for a in received.activities {
                tx.send(a)
                    .await
                    .map_err(|_| SinkError::unavailable("test receiver dropped"))?;
            }
            Ok::<(), SinkError>(())
        }
    };
    let app = axum::Router::new().route("/webhooks/telesign", axum_webhook(adapter, sink));
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
