//! # byoc-salesforce
//!
//! The partner side of Salesforce's Interaction Service (BYOC for Messaging and BYOC CCaaS):
//! a customer's message goes in over REST (`POST /api/v1/interactions`), the Agentforce
//! agent's or a rep's reply comes out as a platform event over the Pub/Sub API (gRPC, Avro),
//! and escalation moves the session from the bot to a human queue (RoutingRequested →
//! `/agentWork` + `/routingResult`, or `/route`). The wire facts and the decisions taken on
//! uncertain ones are in the repository's `docs/protocols/salesforce.md`.
//!
//! ## Quick start
//!
//! ```no_run
//! use byoc_core::{Activity, ChannelAccount, ChannelAdapter, Secret};
//! use byoc_salesforce::{
//!     ChannelDefinition, Credentials, ReplayStart, SalesforceAdapter, SalesforceConfig,
//!     SubscriptionItem,
//! };
//! use futures_util::StreamExt as _;
//! use url::Url;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = Secret::new(std::env::var("SF_PRIVATE_KEY")?);
//! let config = SalesforceConfig::new(
//!     Credentials::new("3MVG9...consumer-key", "integration@example.com", key)?,
//!     "00D5g000004Zx1A",                                          // OrgId
//!     Url::parse("https://mydomain.my.salesforce-scrt.com")?,     // SCRT2 host
//!     "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e",                     // channel address
//!     ChannelDefinition::new("Partner_ChannelDefinition", "ns__ConvEvent__e",
//!                            "ns__EventType__c", "ns__Payload__c")?,
//! )?
//! .with_instance_url(Url::parse("https://mydomain.my.salesforce.com")?)?;
//! let adapter = SalesforceAdapter::new(config)?;
//!
//! // In: a customer's message.
//! let mut hello = Activity::message("Where is my order?");
//! hello.from = Some(ChannelAccount::new("15555550123"));
//! let delivery = adapter.send(&hello).await?;
//! println!("conversation {:?}", delivery.conversation_id);
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
//! ## In an axum app
//!
//! Salesforce calls no webhook, but events relayed by another component (a Flow or Apex
//! callout, a replay tool) can be posted to the adapter; mounting it takes one route, the
//! sink awaited before the relay hears `200`:
//!
//! ```
//! # use std::sync::Arc;
//! # use byoc_axum::{Received, SinkError, webhook};
//! # async fn store(_: Vec<byoc_core::Activity>) -> Result<(), SinkError> { Ok(()) }
//! # fn app(adapter: byoc_salesforce::SalesforceAdapter) -> axum::Router {
//! let relay = webhook(Arc::new(adapter), |received: Received| async move {
//!     store(received.activities).await
//! });
//! axum::Router::new().route("/salesforce/events", relay)
//! # }
//! ```
//!
//! ## Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | [`SalesforceAdapter::new`] and [`SalesforceClient::new`] over byoc-http's reqwest transport; without it, bring an [`HttpTransport`] to `with_transport` |
//!
//! The Pub/Sub client is tonic with rustls (`tls-ring`, webpki roots plus the configured
//! root CAs); its generated code lives in the `byoc-pubsub-proto` crate, shared with the
//! simulator. JWTs are signed with `jsonwebtoken`, the one JWT stack of the workspace.
//!
//! ## Security
//!
//! - The private key, assertion, access token and relay secret are never in `Debug`
//!   output, logs or errors (tested); the `Authorization` header and the gRPC `accesstoken`
//!   metadata are marked sensitive.
//! - Errors and logs carry endpoints, codes, field names and this crate's own description of
//!   the service's codes, never a request or response body nor the service's messages.
//! - Redirects are never followed; REST answers are capped at 1 MiB
//!   ([`SalesforceConfig::with_max_response_bytes`]), payloads and Avro events at 1 MiB,
//!   attachments at 25 MB.
//! - There is no inbound signature: Salesforce calls no webhook. `receive` only accepts
//!   relayed events for this channel; set [`SalesforceConfig::with_relay_secret`] so that it
//!   also requires the relay's bearer secret (compared in constant time).
//! - Extra CAs ([`SalesforceConfig::with_root_ca`]) are trusted by REST and gRPC alike.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod adapter;
mod client;
mod codes;
mod config;
mod error;
mod normalize;
mod pubsub;
mod render;
mod verify;

pub use adapter::SalesforceAdapter;
pub use client::{
    Acknowledgement, AcknowledgementType, AgentWorkRequest, AgentWorkResponse, AgentWorkUpdate,
    CallContext, Endpoint, FlowRouting, InteractionResponse, JwtBearer, MAX_ACKNOWLEDGEMENTS,
    Participant, RouteRequest, RouteResponse, RoutingContext, RoutingInfo, RoutingResultRequest,
    RoutingType, SalesforceClient, SuccessResponse, TRANSFER_DEADLINE, TRANSFER_REPORT_GRACE,
    TransferOutcome, parse_response, prepare_interaction, prepare_json,
};
pub use config::{
    ChannelDefinition, Credentials, LOGIN_PRODUCTION, LOGIN_SANDBOX, PUBSUB_ENDPOINT,
    SalesforceConfig,
};
pub use error::{
    ClientError, ConfigError, NormalizeError, PubSubError, RenderError, TransferError,
    TransferStage, VerifyError,
};
pub use normalize::{
    AttachmentUploadResult, CHANNEL_ID, EVENT_DELIVERY_ACKNOWLEDGEMENT, EVENT_QUEUE_POSITION,
    EVENT_READ_ACKNOWLEDGEMENT, EVENT_ROUTING_REQUESTED, EVENT_SESSION_STATUS_CHANGED, EventFilter,
    FilterError, MAX_PAYLOAD_BYTES, NormalizedEvent, RoutingRequested, UPLOAD_RESULT_FIELD,
    UploadErrorType, normalize_payload, normalize_record,
};
pub use pubsub::{
    MAX_RECONNECT_DELAY, ReceivedEvent, ReplayId, ReplayStart, Skipped, Subscription,
    SubscriptionItem,
};
pub use render::{
    ALLOWED_MIME_TYPES, AbstractMessage, AttachmentFile, EVENT_DELIVERY_FAILED,
    EVENT_TYPING_STOPPED, EntryPayload, Interaction, InteractionRequest, MAX_ATTACHMENT_BYTES,
    RenderedInteraction, StaticContent, entry_id, render_interaction,
};
pub use verify::RelayVerifier;

/// The byoc-http items this crate's public API names: bring a transport (a closure returning a
/// [`TransportFuture`] is one), trust an extra CA, match on transport and token errors.
pub use byoc_http::{
    AccessToken, HttpTransport, RootCa, TokenError, TokenSource, TransportError,
    TransportErrorKind, TransportFuture,
};

/// The crate's pure normalizer: one event's payload JSON (wrapped or flat), or a whole event
/// record, its fields as decoded or in Avro's JSON encoding (the payload field found by its
/// name, `*Payload__c`, or its content).
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
        send_sync::<crate::SalesforceClient>();
        send_sync::<crate::Subscription>();
        send_sync::<crate::SalesforceConfig>();
        send_sync::<crate::ClientError>();
        send_sync::<crate::RelayVerifier>();
    }
}
