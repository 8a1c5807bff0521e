//! Carries one conversation in and out of Salesforce through the loopback simulator: the
//! customer writes (REST `/interactions`), the Agentforce bot answers and escalates
//! (Pub/Sub events), the transfer is routed to a rep (`/agentWork` + `/routingResult`), the
//! rep joins and answers, and the session ends.
//!
//! `cargo run --example salesforce_conversation`

use std::sync::Arc;
use std::time::Duration;

use byoc::core::{Activity, ChannelAccount, ChannelAdapter, Secret};
use byoc::salesforce::normalize::RoutingRequested;
use byoc::salesforce::pubsub::{ReplayStart, SubscriptionItem};
use byoc::salesforce::{
    ChannelDefinition, Config, Credentials, InteractionClient, SalesforceAdapter,
};
use byoc::sim::salesforce::{self as sim, SalesforceSim, SimConfig};
use futures_util::StreamExt as _;

const CUSTOMER: &str = "15555550123";
const REP: &str = "0055g00000Jk7Qp";

/// Runs the conversation; returns the transcript, one line per hop.
async fn run() -> anyhow::Result<Vec<String>> {
    let s = SalesforceSim::start(SimConfig::default()).await?;
    let c = s.config();
    let config = Config::new(
        Credentials::new(
            &c.consumer_key,
            &c.username,
            Secret::new(sim::TEST_PRIVATE_KEY_PEM),
        )
        .with_login_host(s.url()),
        &c.org_id,
        s.url(),
        &c.channel_address,
        ChannelDefinition::new(
            &c.authorization_context,
            &c.platform_event,
            &c.event_type_field,
            &c.payload_field,
        ),
    )
    .with_pubsub_url(s.pubsub_url());
    let adapter = SalesforceAdapter::new(Arc::new(InteractionClient::with_reqwest(config)?));
    let mut transcript = Vec::new();

    let mut hello = Activity::message("My router is broken, I want a human");
    hello.from = Some(ChannelAccount::new(CUSTOMER));
    let d = adapter.send(&hello).await?;
    transcript.push(format!(
        "customer -> salesforce: {:?} (conversation {:?})",
        hello.text, d.detail
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
            if a.name.as_deref() == Some(byoc::salesforce::normalize::EVENT_ROUTING_REQUESTED) {
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
    Ok(transcript)
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
    }
}
