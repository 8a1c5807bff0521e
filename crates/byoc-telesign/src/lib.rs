//! # byoc-telesign
//!
//! TeleSign SMS as a byoc channel: send SMS through `POST /v1/messaging`, look up their
//! status, and receive inbound SMS and delivery reports from TeleSign's callbacks, each
//! becoming a Bot Framework [`Activity`].
//!
//! ## Quick start
//!
//! ```no_run
//! use byoc_core::{Activity, ChannelAccount, ChannelAdapter};
//! use byoc_telesign::{TelesignAdapter, TelesignConfig};
//!
//! # async fn run() -> Result<(), byoc_core::AdapterError> {
//! let config = TelesignConfig::new("FFFFFFFF-EEEE-DDDD-1234-AB1234567890", "your-api-key==")?
//!     .with_base_url(byoc_telesign::ENTERPRISE_BASE_URL)?;
//! let adapter = TelesignAdapter::new(config)?;
//!
//! // Outbound: a message activity addressed to the customer's number.
//! let mut reply = Activity::message("Your order has shipped.");
//! reply.recipient = Some(ChannelAccount::new("+1 555 555 0123"));
//! let delivery = adapter.send(&reply).await?;
//! println!("reference id {:?}: {:?}", delivery.provider_id(), delivery.detail);
//!
//! // Inbound: hand each callback request (raw body bytes + headers) to `receive`.
//! # let request: http::Request<bytes::Bytes> = http::Request::new(bytes::Bytes::new());
//! let inbound = adapter.receive(request).await?;
//! for activity in inbound.activities { /* persist, route */ }
//! # Ok(()) }
//! ```
//!
//! The pure parts are usable alone: [`normalize()`] (callback body → activities),
//! [`CallbackVerifier::verify`], [`render()`] (activity → send requests),
//! [`TelesignClient::prepare_send`] / [`parse_response`] (requests and answers without I/O).
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
//! `message_type`, `sender_id`, `external_id` and `callback_url`.
//!
//! ## Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | [`ReqwestTransport`], the default transport (rustls, redirects off) |
//!
//! Without it, pass any [`HttpTransport`] (a closure works) to
//! [`TelesignClient::with_transport`].
//!
//! ## Security
//!
//! - Callbacks are verified over the exact body bytes with HMAC-SHA256 and a constant-time
//!   compare; the customer id in the header is checked; the body size is limited
//!   ([`TelesignConfig::max_callback_bytes`]); every failure is a distinct [`VerifyError`]
//!   answered with HTTP 401. Several keys can be accepted during a rotation.
//! - TeleSign's callback signature has no timestamp: replayed callbacks verify. Hosts
//!   de-duplicate on the activity id.
//! - Outbound requests carry a fresh UUIDv4 nonce and the current date in the signature; the
//!   `Authorization` header is marked sensitive. Redirects are not followed; responses are
//!   read up to 1 MiB.
//! - The API key is an [`ApiKey`] with redacted `Debug`; errors and logs never include
//!   bodies (phone numbers, message text) or keys.
//!
//! ## Decisions on uncertain points of the protocol
//!
//! - **`X-TS-Authorization` format**: TeleSign sends both headers. `Authorization` is used
//!   when it is `TSA {customer_id}:{signature}`; otherwise `X-TS-Authorization`, accepted as
//!   `TSA ...` or as the bare signature (TeleSign's sample code compares it directly).
//! - **Error shape**: `errors[0].code` wins over `status.code`; an error code (≥ 10000 or
//!   negative) in a 2xx answer is still an error; any 2xx with a status code is a success.
//! - **API key decoding**: lenient, as the SDKs (see [`ApiKey`]).
//! - **`+` in phone numbers**: not sent; numbers are normalized to digits (7–15, E.164).
//! - **Segments**: 160/153 GSM-7, 70/67 UCS-2, reported in
//!   [`Delivery::detail`](byoc_core::Delivery); advisory, TeleSign picks the encoding.
//! - **Long text**: split at word boundaries into several messages of ≤ 1600 characters
//!   ([`LongText::Split`], the default) or refused ([`LongText::Refuse`]).
//! - **Delivery codes**: 203, 251, 290, 292, 295 pending; 200 delivered; 210, 503, 505, 514
//!   retryable failures; other documented 2xx/5xx failure codes final failures; 250, 599
//!   and codes not in TeleSign's tables (233, 234, 509 are unconfirmed) unknown.
//! - **Credential check**: [`TelesignClient::check_credentials`] looks up a random reference
//!   id (404 → valid, 401 → invalid). TeleSign may bill status lookups.
//! - **Nonce**: always sent (UUIDv4), even with Basic auth, as the SDKs do.
//!
//! [`Activity`]: byoc_core::Activity

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod adapter;
pub mod auth;
pub mod client;
pub mod codes;
pub mod config;
pub mod error;
pub mod normalize;
pub mod render;
pub mod transport;
pub mod verify;

pub use adapter::{TelesignAdapter, channel_info};
#[cfg(feature = "reqwest")]
pub use client::ReqwestTransport;
pub use client::{
    CredentialCheck, HttpTransport, MessagingResponse, TelesignClient, TransportError,
    parse_response,
};
pub use codes::DeliveryState;
pub use config::{
    ApiKey, AuthScheme, ENTERPRISE_BASE_URL, LongText, STANDARD_BASE_URL, TelesignConfig,
};
pub use error::{ApiError, ClientError, ConfigError, NormalizeError, RenderError, VerifyError};
pub use normalize::{
    CHANNEL_ID, DeliveryReport, EVENT_CALLBACK, EVENT_DELIVERY_REPORT, conversation_id,
    normalize_callback,
};
pub use render::{MessageType, PhoneNumber, SendRequest, render};
pub use verify::CallbackVerifier;

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
