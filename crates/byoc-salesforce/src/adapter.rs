//! [`SalesforceAdapter`]: the [`ChannelAdapter`] of the Salesforce Interaction Service.

use std::sync::Arc;

use async_trait::async_trait;
use byoc_core::{
    Activity, AdapterError, Capability, ChannelAdapter, ChannelInfo, Delivery, Inbound,
};
use bytes::Bytes;

use crate::client::InteractionClient;
use crate::normalize::{CHANNEL_ID, MAX_PAYLOAD_BYTES, normalize_payload};
use crate::pubsub::{ReplayStart, Subscription};
use crate::render::{MAX_ATTACHMENT_BYTES, entry_id, render_interaction};
use crate::verify::EventFilter;

/// The Salesforce channel: `send` posts a customer's activity as an interaction;
/// [`SalesforceAdapter::subscribe`] is the outbound side (agent and bot replies).
#[derive(Debug, Clone)]
pub struct SalesforceAdapter {
    client: Arc<InteractionClient>,
    info: ChannelInfo,
}

impl SalesforceAdapter {
    /// An adapter over a client.
    #[must_use]
    pub fn new(client: Arc<InteractionClient>) -> Self {
        let info = ChannelInfo::new(CHANNEL_ID)
            .with_max_attachment_bytes(Some(MAX_ATTACHMENT_BYTES as u64))
            .with(Capability::DeliveryReceipts)
            .with(Capability::ReadReceipts)
            .without(Capability::RichCards)
            .without(Capability::SuggestedActions)
            .without(Capability::Markdown);
        Self { client, info }
    }

    /// The REST client (acknowledgements, sessions, routing).
    #[must_use]
    pub fn client(&self) -> &Arc<InteractionClient> {
        &self.client
    }

    /// Subscribes to the channel's platform event: every end user of this channel.
    #[must_use]
    pub fn subscribe(&self, start: ReplayStart) -> Subscription {
        let filter = EventFilter::new(self.client.config().channel_address.clone());
        Subscription::start(self.client.clone(), filter, start)
    }
}

#[async_trait]
impl ChannelAdapter for SalesforceAdapter {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }

    /// Salesforce calls no webhook (its outbound side is [`SalesforceAdapter::subscribe`]).
    /// This accepts a platform event's payload JSON relayed by another component (a Flow or
    /// Apex callout, a replay tool), `POST`ed with `Content-Type: application/json`, keeps it
    /// when it is for this channel and answers `200`.
    async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError> {
        if request.method() != http::Method::POST {
            return Err(AdapterError::bad_request("method", "POST expected"));
        }
        let body = request.body();
        if body.len() > MAX_PAYLOAD_BYTES {
            return Err(AdapterError::bad_request("body", "larger than 1 MiB"));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| AdapterError::bad_request("body", "not UTF-8"))?;
        let event = normalize_payload(text, None)?;
        let filter = EventFilter::new(self.client.config().channel_address.clone());
        match filter.check(&event) {
            Ok(()) => Ok(Inbound::ok(event.activities)),
            Err(_) => Ok(Inbound::ok(Vec::new())),
        }
    }

    async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError> {
        // The entry id must stay the same across retries: fix it before rendering.
        let mut a = activity.clone();
        a.id = Some(entry_id(activity));
        let rendered = render_interaction(
            &a,
            &self.client.config().channel_address,
            chrono::Utc::now().timestamp_millis(),
        )?;
        let resp = self.client.send_interaction(&rendered).await?;
        let mut d = Delivery::accepted(a.id);
        if let Some(c) = resp.conversation_identifier {
            d = d.with_conversation_id(c);
        }
        Ok(d)
    }
}
