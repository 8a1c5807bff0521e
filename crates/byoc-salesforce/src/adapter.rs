//! [`SalesforceAdapter`]: the [`ChannelAdapter`] of the Salesforce Interaction Service.

use std::sync::Arc;

use async_trait::async_trait;
use byoc_core::{
    Activity, AdapterError, Capability, ChannelAdapter, ChannelInfo, Delivery, Inbound,
};
use byoc_http::HttpTransport;
use bytes::Bytes;

use crate::client::SalesforceClient;
use crate::config::SalesforceConfig;
use crate::error::ConfigError;
use crate::normalize::{CHANNEL_ID, EventFilter, normalize_event};
use crate::pubsub::{ReplayStart, Subscription};
use crate::render::{MAX_ATTACHMENT_BYTES, entry_id, render_interaction};
use crate::verify::RelayVerifier;

/// The Salesforce channel: `send` posts a customer's activity as an interaction;
/// [`SalesforceAdapter::subscribe`] is the outbound side (agent and bot replies); `receive`
/// takes events relayed by another component.
#[derive(Debug, Clone)]
pub struct SalesforceAdapter {
    client: Arc<SalesforceClient>,
    relay: Option<RelayVerifier>,
    info: ChannelInfo,
}

impl SalesforceAdapter {
    /// An adapter over reqwest, built from `config` (timeout, response cap, root CAs).
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`] when the HTTP client cannot be built.
    #[cfg(feature = "reqwest")]
    pub fn new(config: SalesforceConfig) -> Result<Self, ConfigError> {
        let transport = crate::client::reqwest_transport(&config)?;
        Self::with_transport(config, transport)
    }

    /// An adapter whose REST calls go through `transport`.
    ///
    /// # Errors
    /// As [`SalesforceClient::with_transport`].
    pub fn with_transport(
        config: SalesforceConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        let relay = config.relay_secret().cloned().map(RelayVerifier::new);
        let client = Arc::new(SalesforceClient::with_transport(config, transport)?);
        let info = ChannelInfo::new(CHANNEL_ID)
            .with_max_attachment_bytes(Some(MAX_ATTACHMENT_BYTES as u64))
            .with(Capability::DeliveryReceipts)
            .with(Capability::ReadReceipts)
            .without(Capability::RichCards)
            .without(Capability::SuggestedActions)
            .without(Capability::Markdown);
        Ok(Self {
            client,
            relay,
            info,
        })
    }

    /// The REST client (acknowledgements, sessions, routing, transfers).
    #[must_use]
    pub fn client(&self) -> &Arc<SalesforceClient> {
        &self.client
    }

    /// Subscribes to the channel's platform event: every end user of this channel.
    #[must_use]
    pub fn subscribe(&self, start: ReplayStart) -> Subscription {
        let filter = EventFilter::new(self.client.config().channel_address());
        Subscription::start(self.client.clone(), filter, start)
    }
}

#[async_trait]
impl ChannelAdapter for SalesforceAdapter {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }

    /// Salesforce calls no webhook (its outbound side is [`SalesforceAdapter::subscribe`]).
    /// This accepts one event relayed by another component (a Flow or Apex callout, a
    /// replay tool), `POST`ed as JSON: its payload, or the whole event record. With a relay
    /// secret configured the request must carry it ([`RelayVerifier`]). An event for this
    /// channel yields its activities; any other event is answered `200` with none.
    async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError> {
        if request.method() != http::Method::POST {
            return Err(AdapterError::bad_request("method", "POST expected"));
        }
        if let Some(relay) = &self.relay {
            relay.verify(request.headers())?;
        }
        let config = self.client.config();
        if request.body().len() > config.body_limit() {
            return Err(AdapterError::bad_request(
                "body",
                format!("larger than {} bytes", config.body_limit()),
            ));
        }
        let event = normalize_event(request.body(), Some(config.channel()))?;
        let filter = EventFilter::new(config.channel_address());
        match filter.check(&event) {
            Ok(()) => Ok(Inbound::ok(event.activities)),
            Err(reason) => {
                tracing::debug!(%reason, "relayed event is not for this channel");
                Ok(Inbound::ok(Vec::new()))
            }
        }
    }

    async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError> {
        // The entry id must stay the same across retries: fix it before rendering.
        let mut a = activity.clone();
        a.id = Some(entry_id(activity));
        let rendered = render_interaction(
            &a,
            self.client.config().channel_address(),
            chrono::Utc::now().timestamp_millis(),
        )?;
        let answer = self.client.send_interaction(&rendered).await?;
        let mut delivery = Delivery::accepted(a.id);
        if let Some(conversation) = answer.conversation_identifier {
            delivery = delivery.with_conversation_id(conversation);
        }
        Ok(delivery)
    }
}
