//! # byoc-telesign
//!
//! TeleSign SMS as a byoc channel: send SMS through `POST /v1/messaging`, look up their
//! status, and receive inbound SMS and delivery reports from TeleSign's callbacks, each
//! becoming a Bot Framework [`Activity`]. The wire protocol, and the decisions taken where
//! TeleSign's documentation is uncertain, are in `docs/protocols/telesign.md`.
//!
//! ## Quick start
//!
//! ```no_run
//! use byoc_core::{Activity, ChannelAccount, ChannelAdapter, Secret};
//! use byoc_telesign::{ENTERPRISE_BASE_URL, TelesignAdapter, TelesignConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = TelesignConfig::new(
//!     "FFFFFFFF-EEEE-DDDD-1234-AB1234567890",
//!     Secret::new("your-api-key=="),
//! )?
//! .with_base_url(ENTERPRISE_BASE_URL.parse()?)?;
//! let adapter = TelesignAdapter::new(config)?;
//!
//! // Outbound: a message activity addressed to the customer's number.
//! let mut reply = Activity::message("Your order has shipped.");
//! reply.recipient = Some(ChannelAccount::new("+1 555 555 0123"));
//! let delivery = adapter.send(&reply).await?;
//! for part in &delivery.parts {
//!     println!("reference id {}: {:?} segment(s)", part.provider_id, part.segments);
//! }
//!
//! // Inbound: hand each callback request (raw body bytes + headers) to `receive`.
//! # let request: http::Request<bytes::Bytes> = http::Request::new(bytes::Bytes::new());
//! let inbound = adapter.receive(request).await?;
//! for activity in inbound.activities { /* persist, route */ }
//! # Ok(()) }
//! ```
//!
//! ## In an axum app
//!
//! [`byoc_axum::webhook`](https://docs.rs/byoc-axum) mounts the callback URL: it verifies
//! and normalizes each callback and awaits your sink before TeleSign hears `200`.
//!
//! ```
//! # use std::sync::Arc; use byoc_core::Secret; use byoc_telesign::{TelesignAdapter, TelesignConfig};
//! # use byoc_axum::{Received, SinkError, webhook};
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = TelesignConfig::new("customer-id", Secret::new("api-key=="))?;
//! let adapter = Arc::new(TelesignAdapter::new(config)?);
//! let app: axum::Router = axum::Router::new().route("/webhooks/telesign", webhook(adapter,
//!     |received: Received| async move { /* persist received.activities */ Ok::<(), SinkError>(()) }));
//! # Ok(()) }
//! ```
//!
//! The pure parts are usable alone: [`normalize()`] (callback body → activities),
//! [`CallbackVerifier::verify`], [`render()`] (activity → send requests),
//! [`TelesignClient::prepare_send`] / [`parse_send_response`] (requests and answers
//! without I/O).
//!
//! ## Activities
//!
//! | callback | activity |
//! |---|---|
//! | inbound SMS (`sub_resource` `mo_sms`) | `message`: `from` the customer's number, `recipient` your TeleSign number, `conversation.id` = [`conversation_id`]`(customer, ours)`, `id` the reference id, `timestamp` the submit time |
//! | delivery report (`sub_resource` `sms`) | `event` named [`EVENT_DELIVERY_REPORT`], `value` a [`DeliveryReport`] (reference id, code, final or not, success), `replyToId` the reference id of the sent message, `id` `{reference_id}:{code}` |
//! | anything else | `event` named [`EVENT_CALLBACK`] |
//!
//! Every activity has `channelId` `telesign` and the raw callback in `channelData`.
//! [`TelesignAdapter::send`](byoc_core::ChannelAdapter::send) sends `message` activities to
//! `recipient.id` (or the customer part of the conversation id); `channelData` may set
//! `message_type`, `sender_id`, `external_id` and `callback_url`. The returned
//! [`Delivery`](byoc_core::Delivery) has one part per SMS sent (a text over 1600 characters
//! is split), each with TeleSign's reference id and its segment count.
//!
//! ## Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | [`TelesignAdapter::new`] and [`TelesignClient::new`] over byoc-http's reqwest transport (rustls, redirects off) |
//!
//! Without it, pass any [`HttpTransport`] (a closure works) to
//! [`TelesignAdapter::with_transport`] or [`TelesignClient::with_transport`].
//!
//! ## Security
//!
//! - Callbacks are verified over the exact body bytes with HMAC-SHA256 and a constant-time
//!   compare; the customer id in the header is checked; the body size is limited
//!   ([`TelesignConfig::with_body_limit`]); every failure is a distinct [`VerifyError`]
//!   answered with HTTP 401. Several keys can be accepted during a rotation
//!   ([`TelesignConfig::with_previous_key`]).
//! - TeleSign's callback signature has no timestamp: replayed callbacks verify. Hosts
//!   de-duplicate on the activity id.
//! - Outbound requests carry a fresh UUIDv4 nonce and the current date in the signature; the
//!   `Authorization` header is marked sensitive. Redirects are not followed; responses are
//!   read up to [`TelesignConfig::with_max_response_bytes`].
//! - The API key is a [`Secret`](byoc_core::Secret) inside an [`ApiKey`] with redacted
//!   `Debug`; errors and logs never include bodies (phone numbers, message text) or keys.
//!
//! [`Activity`]: byoc_core::Activity

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod adapter;
mod client;
mod codes;
mod config;
mod error;
mod normalize;
mod render;
mod verify;

pub use adapter::{TelesignAdapter, channel_info};
pub use client::{
    CredentialCheck, MessageStatus, MessagingResponse, TelesignClient, parse_send_response,
    parse_status_response,
};
pub use codes::DeliveryState;
pub use config::{
    ApiKey, AuthScheme, DEFAULT_BODY_LIMIT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT,
    ENTERPRISE_BASE_URL, LongText, MAX_MESSAGE_CHARS, STANDARD_BASE_URL, TelesignConfig,
};
pub use error::{ClientError, ConfigError, NormalizeError, RenderError, VerifyError};
pub use normalize::{
    CHANNEL_ID, DeliveryReport, EVENT_CALLBACK, EVENT_DELIVERY_REPORT, conversation_id,
    normalize_callback,
};
pub use render::{Encoding, MessageType, PhoneNumber, Segments, SendRequest, render, segments};
pub use verify::{CallbackVerifier, callback_signature};

/// The byoc-http items this crate's public API names: bring a transport (a closure returning a
/// [`TransportFuture`] is one), trust an extra CA, match on transport errors.
pub use byoc_http::{HttpTransport, RootCa, TransportError, TransportErrorKind, TransportFuture};

use byoc_core::{Activity, AdapterError};

/// Normalizes one TeleSign callback body (inbound SMS, delivery report, or other) into
/// activities. Pure: no I/O, no verification (see [`CallbackVerifier`]).
///
/// # Errors
/// [`AdapterError::BadRequest`] naming the field at fault.
pub fn normalize(payload: &[u8]) -> Result<Vec<Activity>, AdapterError> {
    Ok(vec![normalize_callback(payload)?])
}

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<crate::TelesignAdapter>();
        send_sync::<crate::TelesignClient>();
        send_sync::<crate::TelesignConfig>();
        send_sync::<crate::CallbackVerifier>();
        send_sync::<crate::ClientError>();
    }

    #[test]
    fn root_normalize_wraps_the_callback_normalizer() {
        let acts = crate::normalize(br#"{"sub_resource":"mo_sms","reference_id":"R","user_response":{"phone_number":"15555550123","sender_id":"15555550999","mo_message":"hi"}}"#).unwrap();
        assert_eq!(acts.len(), 1);
        let e = crate::normalize(b"{").unwrap_err();
        assert_eq!(e.http_status(), 400);
    }
}
