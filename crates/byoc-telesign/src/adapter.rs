//! [`TelesignAdapter`]: the [`ChannelAdapter`] tying verification, normalization, rendering
//! and the client together.

use std::sync::Arc;

use async_trait::async_trait;
use byoc_core::{
    Activity, AdapterError, Capability, ChannelAdapter, ChannelInfo, DeliveredPart, Delivery,
    DeliveryStatus, Inbound,
};
use byoc_http::HttpTransport;
use bytes::Bytes;

use crate::client::{MessagingResponse, TelesignClient};
use crate::codes::DeliveryState;
use crate::config::{MAX_MESSAGE_CHARS, TelesignConfig};
use crate::error::ConfigError;
use crate::normalize::{CHANNEL_ID, normalize_callback_bytes};
use crate::render::{Encoding, render, segments};
use crate::verify::CallbackVerifier;

/// The TeleSign SMS channel: `receive` verifies and normalizes callbacks, `send` delivers
/// message activities (split into several SMS when long) and reports every part's
/// reference id and segment count in [`Delivery::parts`].
pub struct TelesignAdapter {
    client: TelesignClient,
    verifier: CallbackVerifier,
    info: ChannelInfo,
}

impl std::fmt::Debug for TelesignAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelesignAdapter")
            .field("client", &self.client)
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

/// The capabilities of SMS through TeleSign: text only, 1600 characters, delivery receipts.
#[must_use]
pub fn channel_info() -> ChannelInfo {
    ChannelInfo::text_only(CHANNEL_ID, MAX_MESSAGE_CHARS).with(Capability::DeliveryReceipts)
}

impl TelesignAdapter {
    /// An adapter over reqwest, built from the configuration (timeout, response cap, root
    /// CAs; redirects never followed).
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`] when the HTTP client cannot be built.
    #[cfg(feature = "reqwest")]
    pub fn new(config: TelesignConfig) -> Result<Self, ConfigError> {
        Ok(Self::from_parts(TelesignClient::new(config)?))
    }

    /// An adapter over `transport` (any [`HttpTransport`]; a closure works).
    ///
    /// # Errors
    /// As [`TelesignClient::with_transport`].
    pub fn with_transport(
        config: TelesignConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        Ok(Self::from_parts(TelesignClient::with_transport(
            config, transport,
        )?))
    }

    fn from_parts(client: TelesignClient) -> Self {
        Self {
            verifier: CallbackVerifier::from_config(client.config()),
            client,
            info: channel_info(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TelesignConfig {
        self.client.config()
    }

    /// The REST client (status lookups, credential check).
    #[must_use]
    pub fn client(&self) -> &TelesignClient {
        &self.client
    }

    /// The callback verifier.
    #[must_use]
    pub fn verifier(&self) -> &CallbackVerifier {
        &self.verifier
    }
}

#[async_trait]
impl ChannelAdapter for TelesignAdapter {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }

    async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError> {
        let (parts, body) = request.into_parts();
        if let Err(e) = self.verifier.verify(&body, &parts.headers) {
            tracing::warn!(error = %e, "TeleSign callback refused");
            return Err(e.into());
        }
        let activity = normalize_callback_bytes(body)?;
        tracing::debug!(id = activity.id.as_deref().unwrap_or(""), kind = %activity.kind, "TeleSign callback");
        Ok(Inbound::ok(vec![activity]))
    }

    async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError> {
        let requests = render(activity, self.client.config())?;
        let mut parts = Vec::with_capacity(requests.len());
        let mut last: Option<MessagingResponse> = None;
        let mut segment_total = 0;
        let mut ucs2 = false;
        for req in &requests {
            let estimate = segments(&req.message);
            ucs2 |= estimate.encoding == Encoding::Ucs2;
            let resp = self.client.send(req).await?;
            // TeleSign's own count when it gives one; else the GSM-7 / UCS-2 estimate.
            let count = resp
                .message_parts_count
                .unwrap_or_else(|| u32::try_from(estimate.count).unwrap_or(u32::MAX));
            segment_total += count;
            match &resp.reference_id {
                Some(id) => parts.push(DeliveredPart::new(id.clone()).with_segments(count)),
                None => tracing::warn!("TeleSign accepted a message without a reference id"),
            }
            last = Some(resp);
        }
        let status = match last.as_ref().map(MessagingResponse::state) {
            Some(DeliveryState::Delivered) => DeliveryStatus::Delivered,
            _ => DeliveryStatus::Accepted,
        };
        let description = last
            .and_then(|r| r.status.description)
            .unwrap_or_else(|| "accepted".into());
        let detail = format!(
            "{description}; {} message(s), {segment_total} {} segment(s)",
            requests.len(),
            if ucs2 { "UCS-2" } else { "GSM-7" }
        );
        Ok(Delivery::accepted_parts(parts)
            .with_status(status)
            .with_detail(detail))
    }
}
