//! # byoc-messaging-api
//!
//! Connects your own messaging channel to Dynamics 365 Contact Center / Omnichannel through
//! the **Messaging API**: register a custom channel, push customer messages in, and receive
//! agent messages, typing and conversation events on your webhook.
//!
//! | piece | module | direction |
//! |---|---|---|
//! | Messaging API client: create conversation, send message / typing / end / custom event, list conversations, read messages and context | [`client`] | customer → Omnichannel |
//! | Webhook receiver: Entra bearer-token check ([`verify`]), normalization ([`normalize()`]) | [`adapter`], [`verify`], [`mod@normalize`] | Omnichannel → you |
//! | Channel registration: the `msdyn_occustommessagingchannel` record and a Dataverse Web API client | [`registration`] | setup |
//! | Limits checked before sending, bodies | [`render`] | |
//! | Client-credentials tokens, cached and refreshed before expiry | [`token`] | |
//! | HTTP transport trait (reqwest by default, or a closure) | [`transport`] | |
//!
//! [`adapter::MessagingApiAdapter`] implements [`byoc_core::ChannelAdapter`]; the simulator
//! in `byoc-sim` (`byoc-sim messaging-api`) plays Entra, the Messaging API, Dataverse and the
//! agent.
//!
//! ## Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//! use byoc_core::{Activity, ChannelAdapter, ConversationAccount};
//! use byoc_messaging_api::adapter::MessagingApiAdapter;
//! use byoc_messaging_api::client::MessagingApiClient;
//! use byoc_messaging_api::config::{EntraApp, MessagingApiConfig, WebhookConfig};
//! use byoc_messaging_api::render::{CreateConversation, CustomerContext};
//! use byoc_messaging_api::transport::ReqwestTransport;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let tenant = "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20";
//! let app_id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
//! let app = EntraApp::new(tenant, app_id, std::env::var("CLIENT_SECRET")?)?;
//! let config = MessagingApiConfig::new(
//!     app,
//!     "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", // organization id
//!     "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a", // custom channel record id
//!     "eu",                                   // {geo} of the API host
//!     "crm4",                                 // {zone} of the token scope
//! )?;
//! let transport = Arc::new(ReqwestTransport::new()?);
//! let client = MessagingApiClient::with_transport(config, transport.clone());
//!
//! // Customer → Omnichannel.
//! let conv = client
//!     .create_conversation(
//!         &CreateConversation::new()
//!             .with_customer(CustomerContext::new("customer-42"))
//!             .with_request_id("order-1234-chat"),
//!     )
//!     .await?;
//! let mut hello = Activity::message("Hello!");
//! hello.conversation = Some(ConversationAccount::new(&conv.conversation_id));
//! client.send(&hello).await?;
//!
//! // Omnichannel → you: hand each POST {webhook}/v3/conversations/{id}/activities to the
//! // adapter and answer with `inbound.response` (or `error.to_response()`).
//! let adapter = MessagingApiAdapter::new(client, WebhookConfig::new(tenant, app_id)?, transport);
//! # let request: http::Request<bytes::Bytes> = http::Request::default();
//! let inbound = adapter.receive(request).await?;
//! for activity in inbound.activities {
//!     // Deduplicate by `activity.id`, persist, then answer 200.
//!     println!("{:?} {:?}", activity.kind, activity.text);
//! }
//! # Ok(()) }
//! ```
//!
//! See `examples/messaging_api_echo.rs` for the whole loop against the simulator.
//!
//! ## Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | [`transport::ReqwestTransport`] (rustls, redirects off) and the `new` constructors |
//!
//! ## Security
//!
//! - The webhook refuses (401) every call without a valid Entra token: RS256 only, the key
//!   chosen by `kid` from the tenant's JWKS (fetched on demand, again at most every 5 minutes
//!   on an unknown `kid`), issuer, `tid`, audience, `appid`/`azp` and lifetime (5-minute
//!   leeway) checked against a clock passed in. The legacy `x-ms-token` is compared in
//!   constant time (`subtle`) and only accepted when configured.
//! - Bodies are limited (256 KiB by default) before anything is parsed; errors and logs
//!   name fields and statuses, never bodies, tokens or secrets.
//! - Secrets are [`byoc_core::Secret`]; config and client `Debug` is redacted; the
//!   `Authorization` header is marked sensitive; the reqwest transport never follows
//!   redirects (a redirect would carry the bearer token elsewhere) and caps response size.
//! - Channel records require an HTTPS webhook (plain HTTP only for loopback, with
//!   [`registration::CustomChannel::new_for_loopback`]).
//!
//! ## Decisions on uncertain facts
//!
//! The public documentation changed between revisions (04/2025 and 09/2025) and leaves some
//! things open. What this crate does:
//!
//! - **Webhook token audience** (undocumented): accepted audiences default to the app id and
//!   `api://{app id}`; set [`config::WebhookConfig::with_audiences`] once you have seen a real
//!   token. Issuers default to both Entra forms, `https://login.microsoftonline.com/{tid}/v2.0`
//!   and `https://sts.windows.net/{tid}/`; `appid` (v1) or `azp` (v2) must equal the app id
//!   unless [`config::WebhookConfig::with_app_id_check`] turns that off.
//! - **Webhook authentication header**: `Authorization: Bearer` (09/2025) by default;
//!   [`config::WebhookAuthMode`] selects the legacy `x-ms-token` (04/2025) or either.
//! - **Request header names**: `channel-id` / `organization-id` by default;
//!   [`config::HeaderNames`] sends the `x-ms-` forms or both.
//! - **Create path**: `/api/v1.0/consumer/conversations/create` (the endpoint page's title)
//!   by default; [`config::ALT_CREATE_PATH`] is the singular form some relays use.
//! - **Token scope `{zone}`** and host `{geo}` are inputs: the mapping from datacenter region
//!   is not published in a usable form.
//! - **Response casing**: `conversationId`/`conversationid`, `isNew`/`isnew`,
//!   `messageId`/`messageid`, `continuationToken`/`continuationtoken` are all accepted.
//! - **Activity ids**: webhook bodies carry none; an id derived from the conversation id and
//!   the exact body bytes is set so retried deliveries can be dropped by the host (two
//!   byte-identical agent messages in one conversation would share an id, as Omnichannel
//!   gives nothing to tell them apart).
//! - **Events**: anything with a `name` is an event whatever its `type`; names are an open
//!   set. [`target_state`] maps them to conversation states (agent accepted / assigned /
//!   transfer accepted → Active, agent or primary agent ended → WrapUp, conversation closed
//!   / supervisor force-closed / agent closed → Closed, customer disconnected → Waiting,
//!   agent disconnected / transfer to queue → Open; consult, failed transfer and
//!   operating-hours events change nothing).
//! - **Limits**: lengths are counted in Unicode scalar values; the 27 KB start message is
//!   measured as JSON bytes; `PageSize` is clamped to the documented maxima (250 / 100).

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod adapter;
pub mod client;
pub mod config;
pub mod error;
pub mod normalize;
pub mod registration;
pub mod render;
pub mod token;
pub mod transport;
pub mod verify;

pub use adapter::MessagingApiAdapter;
pub use client::MessagingApiClient;
pub use config::{MessagingApiConfig, WebhookConfig};
pub use error::{ClientError, ConfigError, LimitError, NormalizeError, VerifyError};
pub use normalize::{ConversationState, classify_event, target_state};
pub use registration::{CustomChannel, DataverseClient};

/// Normalizes one webhook body (what Omnichannel posts to
/// `{webhook}/v3/conversations/{id}/activities`) into canonical activities. Pure, no I/O;
/// see [`normalize::normalize`] for what changes.
///
/// # Errors
/// [`byoc_core::AdapterError::BadRequest`] naming the field at fault.
pub fn normalize(payload: &[u8]) -> Result<Vec<byoc_core::Activity>, byoc_core::AdapterError> {
    normalize::normalize(payload).map_err(Into::into)
}
