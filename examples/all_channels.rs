//! The four adapters in one axum app: TeleSign SMS callbacks, a Bot Framework messaging
//! endpoint, the Omnichannel Messaging API webhook and relayed Salesforce events, each
//! mounted with `byoc_axum::webhook` and feeding one inbox (the host's store would stand
//! there: every webhook is answered only once the inbox has taken its activities).
//!
//! `cargo run --example all_channels` starts the four simulators on loopback, serves the
//! app, has each provider deliver one authenticated webhook (a TeleSign HMAC signature, a
//! Bot Framework channel JWT, an Entra bearer token, the Salesforce relay's secret) and
//! prints the activities. `tests/all_channels.rs` runs the same app and checks them.

use std::sync::Arc;
use std::time::Duration;

use byoc::core::{Activity, ChannelAdapter as _, Secret};
use byoc::directline::{
    ConnectorAdapter, ConnectorConfig, DirectLineClient, DirectLineConfig, DirectLineCredential,
};
use byoc::messaging_api::{
    CreateConversation, CustomChannel, CustomerContext, DataverseClient, DataverseConfig, EntraApp,
    MessagingApiAdapter, MessagingApiConfig,
};
use byoc::salesforce::{ChannelDefinition, Credentials, SalesforceAdapter, SalesforceConfig};
use byoc::sim::directline::{self as dl_sim, DirectLineSim};
use byoc::sim::messaging_api::{self as mapi_sim, MessagingApiSim};
use byoc::sim::salesforce::{self as sf_sim, SalesforceSim, SimConfig};
use byoc::sim::telesign::{TelesignSim, TelesignSimOptions};
use byoc::telesign::{TelesignAdapter, TelesignConfig};
use byoc_axum::{ActivitySink, Received, SinkError, webhook};
use tokio::sync::mpsc;
use url::Url;

/// Where TeleSign posts inbound SMS and delivery reports.
pub const TELESIGN_PATH: &str = "/webhooks/telesign";
/// The bot's messaging endpoint, where Bot Framework channels post activities.
pub const BOT_PATH: &str = "/api/messages";
/// The webhook URL registered on the Omnichannel custom channel; Omnichannel posts to
/// `{it}/v3/conversations/{id}/activities`.
pub const OMNICHANNEL_BASE: &str = "/webhooks/omnichannel";
/// Where a relay (a Flow or Apex callout) posts Salesforce platform events.
pub const SALESFORCE_PATH: &str = "/webhooks/salesforce";
/// The secret the Salesforce relay presents as `Authorization: Bearer`.
pub const RELAY_SECRET: &str = "relay-secret-for-the-example";

/// The four adapters the app mounts.
#[derive(Debug, Clone)]
pub struct Channels {
    /// TeleSign SMS.
    pub telesign: Arc<TelesignAdapter>,
    /// A bot's messaging endpoint (Bot Framework Connector).
    pub bot: Arc<ConnectorAdapter>,
    /// The Dynamics 365 Omnichannel Messaging API.
    pub omnichannel: Arc<MessagingApiAdapter>,
    /// The Salesforce Interaction Service.
    pub salesforce: Arc<SalesforceAdapter>,
}

/// The app: one route per adapter, all feeding `inbox`.
pub fn app(channels: &Channels, inbox: impl ActivitySink + Clone) -> axum::Router {
    let omnichannel = format!("{OMNICHANNEL_BASE}/v3/conversations/{{id}}/activities");
    axum::Router::new()
        .route(
            TELESIGN_PATH,
            webhook(channels.telesign.clone(), inbox.clone()),
        )
        .route(BOT_PATH, webhook(channels.bot.clone(), inbox.clone()))
        .route(
            &omnichannel,
            webhook(channels.omnichannel.clone(), inbox.clone()),
        )
        .route(SALESFORCE_PATH, webhook(channels.salesforce.clone(), inbox))
}

/// A sink handing each request's activities to `out`, awaited before the provider is
/// answered; a closed channel answers `503` and the provider delivers again.
pub fn inbox(out: mpsc::Sender<Received>) -> impl ActivitySink + Clone {
    move |received: Received| {
        let out = out.clone();
        async move {
            out.send(received)
                .await
                .map_err(|_| SinkError::unavailable("the inbox is closed"))
        }
    }
}

/// The four simulators, the adapters pointed at them, and the app served on loopback.
#[derive(Debug)]
pub struct Demo {
    /// The app's base URL (`http://127.0.0.1:{port}`).
    pub base_url: String,
    /// The adapters the app mounts.
    pub channels: Channels,
    /// TeleSign, its callback URL set to the app.
    pub telesign: TelesignSim,
    /// Bot Framework: relays Direct Line user messages to the app's bot endpoint.
    pub directline: DirectLineSim,
    /// Entra, the Messaging API and Dataverse; its agent posts to the app.
    pub messaging_api: MessagingApiSim,
    /// Salesforce (REST, Pub/Sub).
    pub salesforce: SalesforceSim,
    /// The Omnichannel conversation the simulated agent works in.
    pub omnichannel_conversation: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Demo {
    /// Starts the simulators and serves the app on `127.0.0.1:0`; every request's
    /// activities go to the returned receiver.
    ///
    /// # Errors
    /// A simulator or the listener could not start, or a configuration was refused.
    pub async fn start() -> anyhow::Result<(Self, mpsc::Receiver<Received>)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);

        // TeleSign: the adapter signs requests with the simulator's test credentials, and
        // checks the callbacks the simulator signs with them.
        let telesign = TelesignSim::start(TelesignSimOptions::default()).await?;
        telesign.set_callback_url(format!("{base_url}{TELESIGN_PATH}"));
        let telesign_adapter = TelesignAdapter::new(
            TelesignConfig::new(telesign.customer_id(), Secret::new(telesign.api_key()))?
                .with_base_url(telesign.url().parse()?)?,
        )?;

        // Bot Framework: the simulator plays the channel (its JWT issuer and keys).
        let directline = DirectLineSim::start(
            dl_sim::Options::default().with_bot_url(format!("{base_url}{BOT_PATH}")),
        )
        .await?;
        let bot = ConnectorAdapter::new(
            ConnectorConfig::new(
                dl_sim::DEFAULT_BOT_APP_ID,
                Secret::new(dl_sim::DEFAULT_BOT_APP_PASSWORD),
            )?
            .with_authority(
                directline.url().parse()?,
                directline.openid_metadata_url().parse()?,
                dl_sim::CHANNEL_ISSUER,
            )?,
        )?;

        // Omnichannel: register the custom channel with our webhook, then point the adapter
        // at the simulator (API, Entra tokens, the webhook tokens' issuer and keys).
        let messaging_api = MessagingApiSim::start(mapi_sim::Options::default()).await?;
        let o = messaging_api.options().clone();
        let sim_url = Url::parse(messaging_api.url())?;
        let entra = EntraApp::new(
            &o.tenant_id,
            &o.client_id,
            Secret::new(o.client_secret.as_str()),
        )?;
        let dataverse = DataverseClient::new(
            DataverseConfig::new(entra.clone(), sim_url.clone())?
                .with_authority(sim_url.clone())?,
        )?;
        let channel = CustomChannel::new_for_loopback(
            "byoc all channels",
            &o.client_id,
            &o.tenant_id,
            &format!("{base_url}{OMNICHANNEL_BASE}"),
        )?;
        let channel_id = dataverse.create(&channel).await?;
        let omnichannel = MessagingApiAdapter::new(
            MessagingApiConfig::new(entra, &o.org_id, channel_id.as_str(), "eu", &o.zone)?
                .with_base_url(sim_url.clone())?
                .with_authority(sim_url)?,
        )?;
        let conversation = omnichannel
            .client()
            .create_conversation(
                &CreateConversation::new().with_customer(CustomerContext::new("customer-4711")),
            )
            .await?;

        // Salesforce: relayed events must carry the relay secret.
        let salesforce = SalesforceSim::start(SimConfig::default()).await?;
        let salesforce_adapter = SalesforceAdapter::new(salesforce_config(&salesforce)?)?;

        let channels = Channels {
            telesign: Arc::new(telesign_adapter),
            bot: Arc::new(bot),
            omnichannel: Arc::new(omnichannel),
            salesforce: Arc::new(salesforce_adapter),
        };
        let (tx, rx) = mpsc::channel(16);
        let router = app(&channels, inbox(tx));
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                eprintln!("the app stopped: {e}");
            }
        });
        let demo = Self {
            base_url,
            channels,
            telesign,
            directline,
            messaging_api,
            salesforce,
            omnichannel_conversation: conversation.conversation_id,
            server,
        };
        Ok((demo, rx))
    }

    /// A customer texts `text` to our TeleSign number: TeleSign posts the signed callback.
    /// Returns the status the app answered.
    ///
    /// # Errors
    /// The callback got no answer.
    pub async fn sms_arrives(&self, text: &str) -> anyhow::Result<u16> {
        let (_reference_id, status) = self
            .telesign
            .send_mo("15555550123", "15555550999", text)
            .await?;
        Ok(status)
    }

    /// A Direct Line user says `text`: the channel relays it to the bot endpoint with a
    /// signed channel JWT.
    ///
    /// # Errors
    /// Direct Line refused the conversation or the activity.
    pub async fn bot_user_says(&self, text: &str) -> anyhow::Result<()> {
        let config = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new(
            dl_sim::DEFAULT_SECRET,
        )))?
        .with_base_url(self.directline.directline_url().parse()?)?
        .with_user("web-user-1", None)?;
        let client = DirectLineClient::new(config)?;
        client.start().await?;
        client.post_activity(&Activity::message(text)).await?;
        Ok(())
    }

    /// The Omnichannel agent says `text`: Omnichannel posts it with an Entra bearer token.
    /// Returns whether the app acknowledged it.
    ///
    /// # Errors
    /// The simulator does not know the conversation.
    pub async fn omnichannel_agent_says(&self, text: &str) -> anyhow::Result<bool> {
        let report = self
            .messaging_api
            .agent()
            .says(&self.omnichannel_conversation, text)
            .await?;
        Ok(report.delivered)
    }

    /// A relay posts a Salesforce platform event's payload (`event`, JSON) to the app with
    /// the relay secret. Returns the status the app answered.
    ///
    /// # Errors
    /// The post got no answer.
    pub async fn salesforce_relays(&self, event: Vec<u8>) -> anyhow::Result<u16> {
        let response = reqwest::Client::new()
            .post(format!("{}{SALESFORCE_PATH}", self.base_url))
            .bearer_auth(RELAY_SECRET)
            .header("content-type", "application/json")
            .body(event)
            .send()
            .await?;
        Ok(response.status().as_u16())
    }
}

/// The Salesforce adapter's configuration for the simulator `s`, with the relay secret.
fn salesforce_config(s: &SalesforceSim) -> anyhow::Result<SalesforceConfig> {
    let c = s.config();
    let url = Url::parse(s.url())?;
    let credentials = Credentials::new(
        &c.consumer_key,
        &c.username,
        Secret::new(sf_sim::TEST_PRIVATE_KEY_PEM),
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
            .with_pubsub_url(Url::parse(s.pubsub_url())?)?
            .with_relay_secret(Secret::new(RELAY_SECRET))?,
    )
}

/// An agent's reply as the Salesforce platform event carries it (the payload field's JSON).
pub const SALESFORCE_EVENT: &[u8] =
    include_bytes!("../tests/fixtures/salesforce/pubsub-interaction-text-wrapped.json");

/// Reads `inbox` until each of `channels` adapters delivered a `message` activity (other
/// activities, such as the `conversationUpdate` a bot gets first, are skipped); returns them
/// in the order of `channels`.
///
/// # Errors
/// Nothing arrived for 10 seconds, or the app stopped.
pub async fn first_messages(
    inbox: &mut mpsc::Receiver<Received>,
    channels: &[&str],
) -> anyhow::Result<Vec<Activity>> {
    let mut found: Vec<Option<Activity>> = vec![None; channels.len()];
    while found.iter().any(Option::is_none) {
        let received = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the app stopped"))?;
        let Some(slot) = channels.iter().position(|c| *c == received.channel_id) else {
            continue;
        };
        if found[slot].is_none() {
            found[slot] = received.activities.into_iter().find(Activity::is_message);
        }
    }
    Ok(found.into_iter().flatten().collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (demo, mut inbox) = Demo::start().await?;
    println!("four channels at {}", demo.base_url);

    demo.sms_arrives("Is my order on its way?").await?;
    demo.bot_user_says("hello bot").await?;
    demo.omnichannel_agent_says("Hi, Rosa here. How can I help?")
        .await?;
    demo.salesforce_relays(SALESFORCE_EVENT.to_vec()).await?;

    let channels = [
        demo.channels.telesign.info().channel_id.as_str(),
        demo.channels.bot.info().channel_id.as_str(),
        demo.channels.omnichannel.info().channel_id.as_str(),
        demo.channels.salesforce.info().channel_id.as_str(),
    ];
    for (channel, activity) in channels
        .iter()
        .zip(first_messages(&mut inbox, &channels).await?)
    {
        println!(
            "{channel:<14} from {:<36} {:?}",
            activity.from_id().unwrap_or("?"),
            activity.text.as_deref().unwrap_or_default()
        );
    }
    Ok(())
}
