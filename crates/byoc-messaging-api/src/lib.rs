//! # byoc-messaging-api
//!
//! Connects your own messaging channel to Dynamics 365 Contact Center / Omnichannel through
//! the **Messaging API**: register a custom channel, push customer messages in, and receive
//! agent messages, typing and conversation events on your webhook.
//!
//! | piece | items | direction |
//! |---|---|---|
//! | Configuration, validated once | [`MessagingApiConfig`], [`EntraApp`] | |
//! | Messaging API client: create conversation, send message / typing / end / custom event, list conversations, read messages and context | [`MessagingApiClient`] | customer → Omnichannel |
//! | Webhook receiver: Entra bearer-token check ([`verify()`]), normalization ([`normalize()`]) | [`MessagingApiAdapter`] | Omnichannel → you |
//! | Outbound bodies with the documented limits checked before sending | [`render()`], [`CreateConversation`] | |
//! | Channel registration: the `msdyn_occustommessagingchannel` record and a Dataverse Web API client | [`CustomChannel`], [`DataverseClient`] | setup |
//!
//! [`MessagingApiAdapter`] implements [`byoc_core::ChannelAdapter`]. HTTP goes through
//! [`byoc_http`]: one [`HttpTransport`] (reqwest by default, or a closure), Entra
//! client-credentials tokens cached and refreshed before expiry
//! ([`byoc_http::Authorized`]), the tenant's signing keys in a [`byoc_http::KeyCache`]. The
//! simulator in `byoc-sim` (`byoc-sim messaging-api`) plays Entra, the Messaging API,
//! Dataverse and the agent.
//!
//! The wire facts this crate implements, and the decisions taken where the documentation is
//! uncertain, are in `docs/protocols/messaging-api.md` in the repository.
//!
//! ## Quick start
//!
//! ```no_run
//! use byoc_core::{Activity, ConversationAccount, Secret};
//! use byoc_messaging_api::{
//!     CreateConversation, CustomerContext, EntraApp, MessagingApiClient, MessagingApiConfig,
//! };
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let app = EntraApp::new(
//!     "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20", // tenant id
//!     "3f2504e0-4f89-41d3-9a0c-0305e82c3301", // app (client) id
//!     Secret::new(std::env::var("CLIENT_SECRET")?),
//! )?;
//! let config = MessagingApiConfig::new(
//!     app,
//!     "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", // organization id
//!     "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a", // custom channel record id
//!     "eu",                                   // {geo} of the API host
//!     "crm4",                                 // {zone} of the token scope
//! )?;
//! let client = MessagingApiClient::new(config)?;
//!
//! // Customer → Omnichannel.
//! let conversation = client
//!     .create_conversation(
//!         &CreateConversation::new()
//!             .with_customer(CustomerContext::new("customer-42"))
//!             .with_request_id("order-1234-chat"),
//!     )
//!     .await?;
//! let mut hello = Activity::message("Hello!");
//! hello.conversation = Some(ConversationAccount::new(&conversation.conversation_id));
//! client.send(&hello).await?;
//! # Ok(()) }
//! ```
//!
//! ## Embedding in axum
//!
//! Omnichannel posts to `{webhook}/v3/conversations/{id}/activities`; `byoc_axum::webhook`
//! reads the body, lets the adapter authenticate and normalize it, and awaits your sink
//! before answering, so you persist before Omnichannel hears `200`:
//!
//! ```
//! # use byoc_core::Secret;
//! # use byoc_messaging_api::{EntraApp, MessagingApiConfig};
//! use std::sync::Arc;
//! use byoc_axum::{Received, SinkError, webhook};
//! use byoc_messaging_api::MessagingApiAdapter;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let app = EntraApp::new("7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20",
//! #     "3f2504e0-4f89-41d3-9a0c-0305e82c3301", Secret::new("client-secret"))?;
//! # let config = MessagingApiConfig::new(app, "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
//! #     "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a", "eu", "crm4")?;
//!
//! let adapter = Arc::new(MessagingApiAdapter::new(config)?);
//! let routes: axum::Router = axum::Router::new().route(
//!     "/omnichannel/v3/conversations/{id}/activities",
//!     webhook(adapter, |received: Received| async move {
//!         println!("{} activities", received.activities.len()); // persist, deduplicate by id
//!         Ok::<(), SinkError>(())
//!     }),
//! );
//! # Ok(()) }
//! ```
//!
//! See `examples/messaging_api_echo.rs` for the whole loop against the simulator.
//!
//! ## Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | the `new` constructors, over [`byoc_http`]'s reqwest transport (rustls, redirects off, bounded responses) |
//!
//! Without `reqwest`, build with `with_transport` and bring an [`HttpTransport`].
//!
//! ## Security
//!
//! - The webhook refuses (401) every call without a valid Entra token: RS256 only, the key
//!   chosen by `kid` from the tenant's JWKS (fetched on demand, kept a day, fetched again at
//!   most every 5 minutes on an unknown `kid`), issuer, `tid`, audience, `appid`/`azp` and
//!   lifetime (5-minute clock skew) checked against the current time. The legacy
//!   `x-ms-token` is compared in constant time (`subtle`) and only accepted when configured.
//! - Bodies are limited (256 KiB by default) before anything is parsed; errors and logs
//!   name fields and statuses, never bodies, tokens or secrets; transport errors never
//!   carry the URL.
//! - Secrets are [`byoc_core::Secret`]; config and client `Debug` is redacted; the
//!   `Authorization` header is marked sensitive; the reqwest transport never follows
//!   redirects (a redirect would carry the bearer token elsewhere) and caps response size.
//! - Channel records require an HTTPS webhook (plain HTTP only for loopback, with
//!   [`CustomChannel::new_for_loopback`]).
//!
//! ## Decisions on uncertain facts
//!
//! The public documentation changed between revisions (04/2025 and 09/2025) and leaves some
//! things open; `docs/protocols/messaging-api.md#decisions` says why. In short:
//!
//! - **Webhook token audience** (undocumented): the app id and `api://{app id}` by default;
//!   [`MessagingApiConfig::with_webhook_audiences`] pins the one a real org sends. Issuers
//!   default to both Entra forms; `appid` (v1) or `azp` (v2) must equal the app id unless
//!   [`MessagingApiConfig::without_app_id_check`].
//! - **Webhook authentication header**: `Authorization: Bearer` (09/2025) by default;
//!   [`WebhookAuthMode`] selects the legacy `x-ms-token` (04/2025) or either.
//! - **Request header names**: `channel-id` / `organization-id` by default; [`HeaderNames`]
//!   sends the `x-ms-` forms or both.
//! - **Create path**: [`DEFAULT_CREATE_PATH`] by default, [`ALT_CREATE_PATH`] on request.
//! - **Token scope `{zone}`** and host `{geo}` are inputs: the mapping from datacenter region
//!   is not published in a usable form.
//! - **Response casing**: both casings of `conversationId`, `isNew`, `messageId` and
//!   `continuationToken` are accepted.
//! - **Activity ids**: webhook bodies carry none; an id derived from the conversation id and
//!   the exact body bytes is set so retried deliveries can be dropped by the host.
//! - **Events**: anything with a `name` is an event whatever its `type`; names are an open
//!   set; [`target_state`] maps the documented ones to conversation states.
//! - **Limits**: lengths are counted in Unicode scalar values; the 27 KB start message is
//!   measured as JSON bytes; `PageSize` is clamped to the documented maxima (250 / 100).

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod adapter;
mod client;
mod config;
mod error;
mod normalize;
mod registration;
mod render;
mod verify;

pub use adapter::MessagingApiAdapter;
pub use client::{
    ContextEntry, ConversationPage, ConversationSummary, CreatedConversation, MessagePage,
    MessagingApiClient, PageQuery, SentMessage, message_id, prepare_send,
};
pub use config::{
    ALT_CREATE_PATH, DEFAULT_CREATE_PATH, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_REFRESH_MARGIN, DataverseConfig, ENTRA_AUTHORITY, EntraApp, Guid, HeaderNames,
    MessagingApiConfig, WebhookAuthMode,
};
pub use error::{ClientError, ConfigError, Limit, NormalizeError, RenderError, VerifyError};
pub use normalize::{
    CHANNEL_ID, ConversationState, EventCategory, EventInfo, classify_event, target_state,
};
pub use registration::{ChannelRecord, CustomChannel, DataverseClient, MESSAGING_API_CHANNEL_TYPE};
pub use render::{
    ContextVariable, CreateConversation, CustomerContext, OutboundAccount, OutboundActivity,
    OutboundAttachment, OutboundConversation, StartMessage, render,
};
pub use verify::{Caller, TokenClaims, verify};

/// The byoc-http items this crate's public API names: bring a transport (a closure returning a
/// [`TransportFuture`] is one), trust an extra CA, match on transport and token errors.
pub use byoc_http::{
    HttpTransport, KeySet, KeySource, RootCa, TokenError, TransportError, TransportErrorKind,
    TransportFuture,
};

/// Normalizes one webhook body (what Omnichannel posts to
/// `{webhook}/v3/conversations/{id}/activities`) into canonical activities. Pure, no I/O.
///
/// What changes: `channelId` becomes [`CHANNEL_ID`] (Omnichannel's own value and `type` are
/// kept under `channelData.omnichannel`); anything with a `name` becomes an `event` with a
/// `value` naming its category and the conversation state it leads to; an activity without
/// an `id` gets one derived from its conversation and its bytes. A JSON array of activities
/// is accepted too.
///
/// # Errors
/// [`byoc_core::AdapterError::BadRequest`] naming the field at fault.
pub fn normalize(payload: &[u8]) -> Result<Vec<byoc_core::Activity>, byoc_core::AdapterError> {
    normalize::normalize(payload).map_err(Into::into)
}

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<crate::MessagingApiAdapter>();
        send_sync::<crate::MessagingApiClient>();
        send_sync::<crate::DataverseClient>();
        send_sync::<crate::MessagingApiConfig>();
        send_sync::<crate::ClientError>();
        send_sync::<crate::VerifyError>();
    }
}
