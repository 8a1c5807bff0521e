//! Dynamics 365 Omnichannel Messaging API end to end on loopback: starts the simulator,
//! registers a custom channel in (simulated) Dataverse, starts a conversation as a customer,
//! and echoes every agent message back through the Messaging API, while the simulated agent
//! accepts, talks and closes the conversation.
//!
//! Run with `cargo run --example messaging_api_echo`.

use std::sync::Arc;

use byoc::core::{Activity, ActivityType, ChannelAdapter, ConversationAccount, Secret};
use byoc::messaging_api::{
    CreateConversation, CustomChannel, CustomerContext, DataverseClient, DataverseConfig, EntraApp,
    MessagingApiAdapter, MessagingApiConfig, PageQuery,
};
use byoc::sim::messaging_api::{MessagingApiSim, Options};
use byoc_axum::{Received, SinkError, webhook};
use tokio::sync::mpsc;
use url::Url;

/// The webhook app: Omnichannel posts to `/omnichannel/v3/conversations/{id}/activities`;
/// the adapter authenticates and normalizes each call, and the activities are handed to
/// `out` before Omnichannel gets its `200` (a full queue answers `503`, and Omnichannel
/// delivers again).
pub fn app(adapter: Arc<MessagingApiAdapter>, out: mpsc::Sender<Activity>) -> axum::Router {
    axum::Router::new().route(
        "/omnichannel/v3/conversations/{id}/activities",
        webhook(adapter, move |received: Received| {
            let out = out.clone();
            async move {
                for activity in received.activities {
                    out.send(activity)
                        .await
                        .map_err(|_| SinkError::unavailable("echo loop stopped"))?;
                }
                Ok::<(), SinkError>(())
            }
        }),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1. The simulator (Entra, Messaging API, Dataverse), with built-in test credentials.
    let sim = MessagingApiSim::start(Options::default()).await?;
    let o = sim.options().clone();
    println!("Messaging API simulator on {}", sim.url());
    let sim_url = Url::parse(sim.url())?;
    let entra_app = EntraApp::new(
        &o.tenant_id,
        &o.client_id,
        Secret::new(o.client_secret.as_str()),
    )?;

    // 2. Our webhook server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let webhook_base = format!("http://{}/omnichannel", listener.local_addr()?);

    // 3. Register the custom channel (no browser console needed).
    let dataverse = DataverseClient::new(
        DataverseConfig::new(entra_app.clone(), sim_url.clone())?
            .with_authority(sim_url.clone())?,
    )?;
    let channel = CustomChannel::new_for_loopback(
        "byoc echo channel",
        &o.client_id,
        &o.tenant_id,
        &webhook_base,
    )?;
    let channel_id = dataverse.create(&channel).await?;
    println!("registered channel {channel_id} -> {webhook_base}");

    // 4. The adapter (and its Messaging API client), pointed at the simulator: API, Entra
    //    tokens and the webhook's token issuer and signing keys.
    let config = MessagingApiConfig::new(entra_app, &o.org_id, channel_id.as_str(), "eu", &o.zone)?
        .with_base_url(sim_url.clone())?
        .with_authority(sim_url)?;
    let adapter = Arc::new(MessagingApiAdapter::new(config)?);
    let client = adapter.client().clone();
    let (tx, mut rx) = mpsc::channel(64);
    let server = axum::serve(listener, app(adapter.clone(), tx));
    tokio::spawn(async move { server.await });

    // 5. A customer starts a conversation.
    let created = client
        .create_conversation(
            &CreateConversation::new()
                .with_customer(
                    CustomerContext::new("customer-00917734").with_name("Priya", "Raman"),
                )
                .with_displayable_context("productname", "Mesh Router X2")
                .with_start_message("My router keeps dropping Wi-Fi.", Some("Priya".into()))
                .skipping_deflection_bot(),
        )
        .await?;
    let conversation = created.conversation_id.clone();
    println!("conversation {conversation} (new: {})", created.is_new);

    // 6. The echo: every agent message comes back as a customer message.
    let echo_adapter = adapter.clone();
    let echo = tokio::spawn(async move {
        while let Some(a) = rx.recv().await {
            match (&a.kind, a.name.as_deref()) {
                (ActivityType::Event, Some(name)) => println!("  event   {name}"),
                (ActivityType::Typing, _) => println!("  typing"),
                (ActivityType::Message, _) => {
                    let text = a.text.clone().unwrap_or_default();
                    println!("  agent   {text}");
                    let mut reply = Activity::message(format!("echo: {text}"));
                    reply.conversation = a
                        .conversation
                        .clone()
                        .or_else(|| a.conversation_id().map(ConversationAccount::new));
                    match echo_adapter.send(&reply).await {
                        Ok(d) => println!(
                            "  echoed  (message id {:?} in {:?})",
                            d.provider_id(),
                            d.conversation_id
                        ),
                        Err(e) => eprintln!("  echo failed: {e}"),
                    }
                }
                _ => {}
            }
        }
    });

    // 7. The simulated agent works the conversation.
    let agent = sim.agent();
    agent.accepts(&conversation).await?;
    agent.typing(&conversation).await?;
    agent
        .says(
            &conversation,
            "Hi Priya, I'm **Rosa**. Which firmware do you run?",
        )
        .await?;
    agent
        .says(&conversation, "Thanks, a fix is on its way.")
        .await?;
    // Let the echo task send its replies before the conversation closes.
    for _ in 0..500 {
        let customer_messages = sim.conversation(&conversation).map_or(0, |c| {
            c.messages.iter().filter(|m| m.side == "customer").count()
        });
        if customer_messages >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    agent.close(&conversation).await?;

    // 8. The transcript as the Messaging API reports it.
    println!("transcript:");
    for m in client
        .all_messages(&conversation, PageQuery::new(), 10)
        .await?
    {
        println!("  {}", m.text.unwrap_or_default());
    }
    drop(sim);
    echo.abort();
    Ok(())
}
