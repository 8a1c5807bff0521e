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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use byoc_core::{ChannelAccount, Secret};
    use byoc_http::TransportFuture;
    use http::{Request, Response};

    use super::*;

    /// A transport answering each send with the next of `answers`, recording the bodies.
    fn scripted(answers: Vec<&'static str>) -> (Arc<dyn HttpTransport>, Arc<Mutex<Vec<Bytes>>>) {
        let answers = Arc::new(Mutex::new(answers.into_iter()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let seen = sent.clone();
        let transport = move |req: Request<Bytes>| -> TransportFuture {
            seen.lock().unwrap().push(req.body().clone());
            let body = answers.lock().unwrap().next().unwrap_or("{}");
            Box::pin(async move { Ok(Response::new(Bytes::from_static(body.as_bytes()))) })
        };
        (Arc::new(transport), sent)
    }

    fn config() -> TelesignConfig {
        TelesignConfig::new("cid", Secret::new("VGVzdCBLZXk=")).unwrap()
    }

    #[tokio::test]
    async fn every_part_is_reported_with_telesigns_segment_count_when_it_gives_one() {
        let (transport, sent) = scripted(vec![
            r#"{"reference_id":"A1","status":{"code":290,"description":"Message in progress"},"additional_info":{"message_parts_count":"12"}}"#,
            r#"{"reference_id":"A2","status":{"code":290,"description":"Message in progress"}}"#,
        ]);
        let adapter = TelesignAdapter::with_transport(config(), transport).unwrap();
        let mut a = Activity::message("ж".repeat(1700));
        a.recipient = Some(ChannelAccount::new("15555550123"));
        let d = adapter.send(&a).await.unwrap();
        assert_eq!(sent.lock().unwrap().len(), 2);
        // The first part as TeleSign counted it; the second (100 UCS-2 units) estimated.
        assert_eq!(
            d.parts,
            vec![
                DeliveredPart::new("A1").with_segments(12),
                DeliveredPart::new("A2").with_segments(2),
            ]
        );
        assert_eq!(d.status, DeliveryStatus::Accepted);
    }

    #[tokio::test]
    async fn a_callback_is_verified_before_it_is_normalized() {
        let (transport, _) = scripted(vec![]);
        let adapter = TelesignAdapter::with_transport(config(), transport).unwrap();
        let body = br#"{"sub_resource":"mo_sms","reference_id":"R","user_response":{"phone_number":"15555550123","mo_message":"hi"}}"#;
        let unsigned = http::Request::new(Bytes::from_static(body));
        assert_eq!(
            adapter.receive(unsigned).await.unwrap_err().http_status(),
            401
        );
        let sig = crate::callback_signature(adapter.config().api_key(), body);
        let signed = http::Request::builder()
            .header("authorization", format!("TSA cid:{sig}"))
            .body(Bytes::from_static(body))
            .unwrap();
        let inbound = adapter.receive(signed).await.unwrap();
        assert_eq!(inbound.activities[0].text.as_deref(), Some("hi"));
        assert_eq!(inbound.response.status(), 200);
    }
}
