//! [`TelesignAdapter`]: the [`ChannelAdapter`] tying verification, normalization, rendering
//! and the client together.

use async_trait::async_trait;
use byoc_core::{
    Activity, AdapterError, Capability, ChannelAdapter, ChannelInfo, Delivery, DeliveryStatus,
    Inbound,
};
use bytes::Bytes;

use crate::client::{HttpTransport, TelesignClient};
use crate::codes::DeliveryState;
use crate::config::MAX_MESSAGE_CHARS;
use crate::normalize::{CHANNEL_ID, normalize_callback_bytes};
use crate::render::{Encoding, render, segments};
use crate::verify::CallbackVerifier;

/// The TeleSign SMS channel: `receive` verifies and normalizes callbacks, `send` delivers
/// message activities.
pub struct TelesignAdapter<T = crate::client::DefaultTransport> {
    client: TelesignClient<T>,
    verifier: CallbackVerifier,
    info: ChannelInfo,
}

impl<T> std::fmt::Debug for TelesignAdapter<T> {
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

#[cfg(feature = "reqwest")]
impl TelesignAdapter<crate::client::ReqwestTransport> {
    /// An adapter over reqwest.
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`](crate::ConfigError::HttpClient).
    pub fn new(config: crate::config::TelesignConfig) -> Result<Self, crate::error::ConfigError> {
        Ok(Self::from_client(TelesignClient::new(config)?))
    }
}

impl<T: HttpTransport> TelesignAdapter<T> {
    /// An adapter around a client (with any transport).
    #[must_use]
    pub fn from_client(client: TelesignClient<T>) -> Self {
        let config = client.config();
        let mut verifier =
            CallbackVerifier::new(config.customer_id.clone(), config.api_key.clone())
                .with_max_body_bytes(config.max_callback_bytes);
        for k in &config.previous_keys {
            verifier = verifier.with_key(k.clone());
        }
        Self {
            client,
            verifier,
            info: channel_info(),
        }
    }

    /// The REST client (status lookups, credential check).
    #[must_use]
    pub fn client(&self) -> &TelesignClient<T> {
        &self.client
    }

    /// The callback verifier.
    #[must_use]
    pub fn verifier(&self) -> &CallbackVerifier {
        &self.verifier
    }
}

#[async_trait]
impl<T: HttpTransport> ChannelAdapter for TelesignAdapter<T> {
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
        let mut ids = Vec::with_capacity(requests.len());
        let mut last = None;
        let mut segment_count = 0;
        let mut ucs2 = false;
        for req in &requests {
            let s = segments(&req.message);
            segment_count += s.count;
            ucs2 |= s.encoding == Encoding::Ucs2;
            let resp = self.client.send(req).await?;
            ids.extend(resp.reference_id.clone());
            last = Some(resp);
        }
        let status = match last.as_ref().map(crate::client::MessagingResponse::state) {
            Some(DeliveryState::Delivered) => DeliveryStatus::Delivered,
            _ => DeliveryStatus::Accepted,
        };
        let description = last
            .and_then(|r| r.status.description)
            .unwrap_or_else(|| "accepted".into());
        let mut detail = format!(
            "{description}; {} message(s), {segment_count} {} segment(s)",
            requests.len(),
            if ucs2 { "UCS-2" } else { "GSM-7" }
        );
        if ids.len() > 1 {
            detail.push_str(&format!("; reference ids {}", ids.join(",")));
        }
        Ok(Delivery::accepted(ids.first().cloned())
            .with_status(status)
            .with_detail(detail))
    }
}
