//! # byoc-salesforce
//!
//! The partner side of Salesforce's Interaction Service (BYOC for Messaging and BYOC CCaaS):
//! a customer's message goes in over REST (`POST /api/v1/interactions`), the Agentforce
//! agent's or a rep's reply comes out as a platform event over the Pub/Sub API (gRPC, Avro),
//! and escalation moves the session from the bot to a human queue (RoutingRequested →
//! `/agentWork` + `/routingResult`, or `/route`).
//!
//! ## Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//! use byoc_core::{Activity, ChannelAccount, ChannelAdapter, Secret};
//! use byoc_salesforce::pubsub::{ReplayStart, SubscriptionItem};
//! use byoc_salesforce::{ChannelDefinition, Config, Credentials, InteractionClient, SalesforceAdapter};
//! use futures_util::StreamExt as _;
//!
//! # async fn run() -> Result<(), byoc_core::AdapterError> {
//! let pem = Secret::new(std::env::var("SF_PRIVATE_KEY").unwrap_or_default());
//! let config = Config::new(
//!     Credentials::new("3MVG9...consumer-key", "integration@example.com", pem),
//!     "00D5g000004Zx1A",                              // OrgId
//!     "https://mydomain.my.salesforce-scrt.com",      // SCRT2 host
//!     "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e",         // channel address identifier
//!     ChannelDefinition::new("Partner_ChannelDefinition", "ns__ConvEvent__e",
//!                            "ns__EventType__c", "ns__Payload__c"),
//! )
//! .with_instance_url("https://mydomain.my.salesforce.com");
//! let adapter = SalesforceAdapter::new(Arc::new(InteractionClient::with_reqwest(config)?));
//!
//! // In: a customer's message.
//! let mut hello = Activity::message("Where is my order?");
//! hello.from = Some(ChannelAccount::new("15555550123"));
//! adapter.send(&hello).await?;
//!
//! // Out: replies, joins, transfers, session end. Store each replay id to resume later.
//! let mut events = adapter.subscribe(ReplayStart::Latest);
//! while let Some(item) = events.next().await {
//!     if let SubscriptionItem::Event(e) = item? {
//!         for activity in e.activities { /* deliver to the customer */ let _ = activity; }
//!         let _store_me = e.replay_id;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## Modules
//!
//! | module | what |
//! |---|---|
//! | [`config`] | [`Config`], [`Credentials`], [`ChannelDefinition`] |
//! | [`auth`] | the OAuth 2.0 JWT bearer flow in pure code (RS256 assertion, token request/answer) |
//! | [`verify`] | which outbound events are ours (channel address, recipient); Salesforce signs nothing to verify |
//! | [`normalize`](mod@normalize) | platform event payload / record → activities (every entry type) |
//! | [`render`] | activity → `/interactions` request |
//! | [`api`] | typed REST bodies |
//! | [`client`] | [`InteractionClient`]: every REST call, the token cache, the transfer sequence |
//! | [`pubsub`] | the Pub/Sub subscription: GetTopic, GetSchema, Subscribe, Avro, replay |
//! | [`adapter`] | [`SalesforceAdapter`], the `ChannelAdapter` |
//! | [`error`] | typed errors, each converting into `AdapterError` |
//!
//! ## Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | [`client::ReqwestTransport`], the default REST transport; implement [`client::HttpTransport`] to use another |
//!
//! The Pub/Sub client is tonic with rustls (`tls-ring`, webpki roots). The gRPC code lives in
//! the `byoc-pubsub-proto` crate (shared with the simulator's server): generated once from
//! its `proto/pubsub_api.proto` (our own subset of Salesforce's published proto: names and
//! field numbers match) with `protox` + `tonic-prost-build` and checked in, so building needs
//! neither `protoc` nor a build script.
//!
//! ## Security
//!
//! - The private key, assertion and access token are [`byoc_core::Secret`]s; every struct
//!   holding one writes `Debug` by hand (tested). The `Authorization` header is marked
//!   sensitive; gRPC `accesstoken` metadata too.
//! - Errors and logs carry codes, field names and Salesforce's catalogue messages, never a
//!   request or response body.
//! - reqwest follows no redirects; response bodies are capped at 1 MiB, payloads and Avro
//!   events at 1 MiB, attachments at 25 MB.
//! - There is no inbound signature: Salesforce calls no webhook. [`SalesforceAdapter`]'s
//!   `receive` only accepts relayed payloads, filtered to this channel.
//!
//! ## Decisions on uncertain facts
//!
//! - JWT `exp` is in **seconds**, now + 180 s (the standard flow and both official samples;
//!   the docs' "milliseconds" would be refused).
//! - The access token is opaque. The JWT bearer flow returns no expiry, so it is re-minted
//!   after [`Config::token_refresh_after`] (default 30 min) and at once on HTTP 401 or codes
//!   10004 / 10003, the call retried once.
//! - Retries are the host's: 10019, 10055, 10056, 10094, 20004, 5xx, 429 and any "rate
//!   limit" message map to retryable kinds (rate limit status assumed 429, `Retry-After`
//!   honoured); other 10xxx are `BadRequest`, 15xxx `Permanent`; the code is kept.
//! - `MessageDeliveryFailed` uses the spec's `failedConversationEntryIdentifier`.
//! - `acknowledgementTimestamp` is sent as a number (epoch ms), as the README and samples do.
//! - Outbound payloads are parsed wrapped (`payload.entryPayload`) and tolerated flat; a flat
//!   payload has no `conversationIdentifier`, so the end user's id keys the conversation.
//! - `SessionStatusChanged` times are kept raw in `value` (seconds in the examples).
//! - Entry ids are stable across retries: the activity id when it is a UUID, else a UUID v5
//!   of it; without an id, a UUID v5 of the activity's content and timestamp
//!   ([`render::entry_id`]).
//! - A transfer that cannot finish within 60 s fails with
//!   [`TransferError::DeadlineExceeded`], naming the stage reached and the AgentWork
//!   created; an assignment attempt without an acknowledged `routingResult` is reported
//!   after the deadline.
//! - For a rep transfer, the rep is `routingParameters.userId` or the one the host passes.
//! - Keep-alive replay ids are stored as the resume point (they only follow delivered events).

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod adapter;
pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod normalize;
pub mod pubsub;
pub mod render;
pub mod verify;

pub use adapter::SalesforceAdapter;
pub use client::InteractionClient;
pub use config::{ChannelDefinition, Config, Credentials};
pub use error::{
    ApiError, AuthError, NormalizeError, PubSubError, RenderError, TransferError, TransferStage,
};

/// The crate's pure normalizer: a platform event's payload JSON (wrapped or flat) or a whole
/// decoded event record (see [`normalize::normalize_bytes`]).
///
/// # Errors
/// [`byoc_core::AdapterError::BadRequest`] naming the field at fault.
pub fn normalize(payload: &[u8]) -> Result<Vec<byoc_core::Activity>, byoc_core::AdapterError> {
    Ok(normalize::normalize_bytes(payload)?)
}

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<crate::SalesforceAdapter>();
        send_sync::<crate::InteractionClient>();
        send_sync::<crate::pubsub::Subscription>();
        send_sync::<crate::Config>();
    }
}
