//! Carries one conversation in and out of Salesforce through the loopback simulator: the
//! customer writes (REST `/interactions`), the Agentforce bot answers and escalates
//! (Pub/Sub events), the transfer is routed to a rep (`/agentWork` + `/routingResult`), the
//! rep joins and answers, and the session ends. Then an event relayed by another component
//! (the upload result of a file the customer sent) is posted to the adapter's route, mounted
//! in axum with `byoc_axum::webhook`.
//!
//! `cargo run --example salesforce_conversation`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use byoc::core::{Activity, ChannelAccount, ChannelAdapter, Secret};
use byoc::salesforce::{
    AttachmentUploadResult, ChannelDefinition, Credentials, EVENT_ROUTING_REQUESTED, ReplayStart,
    RoutingRequested, SalesforceAdapter, SalesforceConfig, SubscriptionItem,
};
use byoc::sim::salesforce::{self as sim, SalesforceSim, SimConfig};
use byoc_axum::{ActivitySink, Received, SinkError, webhook};
use futures_util::StreamExt as _;
use url::Url;

const CUSTOMER: &str = "15555550123";
const REP: &str = "0055g00000Jk7Qp";

/// The adapter's configuration for the simulator `s`.
fn config(s: &SalesforceSim) -> anyhow::Result<SalesforceConfig> {
    let c = s.config();
    let url = Url::parse(s.url())?;
    let credentials = Credentials::new(
        &c.consumer_key,
        &c.username,
        Secret::new(sim::TEST_PRIVATE_KEY_PEM),
    )?
    .with_login_url(&url)?;
    let channel = ChannelDefinition::new(
        &c.authorization_context,
        &c.platform_event,
        &c.event_type_field,
        &c.payload_field,
    )?;
    Ok(
        SalesforceConfig::new(credentials, &c.org_id, url, &c.channel_address, channel)?
            .with_pubsub_url(Url::parse(s.pubsub_url())?)?,
    )
}

/// The app: events relayed to `POST /salesforce/events`, handed to `sink` before the relay
/// hears `200`.
fn app(adapter: Arc<SalesforceAdapter>, sink: impl ActivitySink) -> axum::Router {
    axum::Router::new().route("/salesforce/events", webhook(adapter, sink))
}

/// Runs the conversation; returns the transcript, one line per hop.
async fn run() -> anyhow::Result<Vec<String>> {
    let s = SalesforceSim::start(SimConfig::default()).await?;
    let adapter = Arc::new(SalesforceAdapter::new(config(&s)?)?);
    let mut transcript = Vec::new();

    let mut hello = Activity::message("My router is broken, I want a human");
    hello.from = Some(ChannelAccount::new(CUSTOMER));
    let d = adapter.send(&hello).await?;
    transcript.push(format!(
        "customer -> salesforce: {:?} (entry {:?}, conversation {:?})",
        hello.text,
        d.provider_id(),
        d.conversation_id
    ));

    let mut events = adapter.subscribe(ReplayStart::Earliest);
    s.agent_says(
        CUSTOMER,
        "0XxBot00000001",
        "Agentforce",
        "Let me find a rep for you.",
    )?;
    s.bot_escalates(CUSTOMER, None, Some(REP))?;
    s.agent_joins(CUSTOMER, REP, "Grace Liu")?;
    s.agent_says(
        CUSTOMER,
        REP,
        "Grace Liu",
        "Hi, Grace here. Let's fix that router.",
    )?;
    s.end_session(CUSTOMER)?;

    let work_item = s.conversation(CUSTOMER).work_item_id;
    let mut seen = 0;
    while seen < 5 {
        let item = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("subscription ended"))??;
        let SubscriptionItem::Event(e) = item else {
            continue;
        };
        seen += 1;
        for a in e.activities {
            let who = a
                .from
                .as_ref()
                .and_then(|f| f.name.clone())
                .unwrap_or_default();
            transcript.push(format!(
                "salesforce -> customer: {} {who} {:?}",
                a.kind, a.text
            ));
            if a.name.as_deref() == Some(EVENT_ROUTING_REQUESTED) {
                let req: RoutingRequested = a
                    .value
                    .as_ref()
                    .ok_or_else(|| anyhow::anyhow!("no routing value"))?
                    .parse()?;
                let out = adapter
                    .client()
                    .transfer(&req, &work_item, None, None)
                    .await?;
                transcript.push(format!("partner routing: {out:?}"));
            }
        }
        // A real host persists e.replay_id here.
    }

    // A relayed event: the upload result of a photo the customer sent.
    let taken = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let taken = taken.clone();
        move |received: Received| {
            let taken = taken.clone();
            async move {
                taken
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(received.activities);
                Ok::<(), SinkError>(())
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/salesforce/events", listener.local_addr()?);
    let server = tokio::spawn(axum::serve(listener, app(adapter.clone(), sink)).into_future());
    let status = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(upload_result())
        .send()
        .await?
        .status();
    server.abort();
    for a in taken.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        for att in a.attachments.iter().flatten() {
            transcript.push(format!(
                "relayed ({status}): {} {:?} {:?}",
                a.kind,
                att.name,
                AttachmentUploadResult::of(att)
            ));
        }
    }
    Ok(transcript)
}

/// A `MessageUpdated` event as a relay posts it: the photo's upload failed.
fn upload_result() -> String {
    serde_json::json!({
        "conversationIdentifier": "e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f",
        "channelAddressIdentifier": sim::TEST_CHANNEL_ADDRESS,
        "recipient": {"appType": "custom", "subject": CUSTOMER, "role": "EndUser"},
        "payload": {
            "identifier": "5d7f9b1d-3f5b-4d7f-9b1d-3f5b7d9f1b3c",
            "entryType": "MessageUpdated",
            "entryPayload": {
                "entryType": "MessageUpdated",
                "id": "5d7f9b1d-3f5b-4d7f-9b1d-3f5b7d9f1b3c",
                "updatedMessage": {
                    "messageType": "StaticContentMessage",
                    "id": "c2e4a6b8-d0f2-4a4c-8e6a-b8d0f2a4c6e8",
                    "staticContent": {"formatType": "Attachments", "text": "the router label",
                        "attachments": [{"id": "7b9d1f3b", "name": "label.png", "mimeType": "image/png",
                            "url": "", "attachmentUploadResult": {
                                "resultType": "ErrorAttachmentUploadResult",
                                "errorType": "AttachmentTooLarge"}}]}
                }
            },
            "sender": {"appType": "custom", "subject": CUSTOMER, "role": "EndUser"},
            "transcriptedTimestamp": 1_714_668_205_117_i64
        }
    })
    .to_string()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    for line in run().await? {
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_conversation_goes_in_and_out() {
        let t = super::run().await.unwrap();
        assert!(t.iter().any(|l| l.contains("Grace here")));
        assert!(t.iter().any(|l| l.starts_with("partner routing: Assigned")));
        assert!(t.iter().any(|l| l.contains("endOfConversation")));
        assert!(
            t.iter()
                .any(|l| l.starts_with("relayed (200 OK): messageUpdate")
                    && l.contains("AttachmentTooLarge")),
            "{t:#?}"
        );
    }
}
