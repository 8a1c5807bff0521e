//! # byoc-core
//!
//! The canonical model every byoc crate shares:
//!
//! - [`Activity`]: the Bot Framework Activity v3 schema, lossless (unknown fields and explicit
//!   `null`s survive a round trip; opaque blobs stay raw until read).
//! - [`ChannelAdapter`]: the contract of every channel adapter, with [`ChannelInfo`],
//!   [`Inbound`], [`Delivery`] and [`AdapterError`].
//! - [`capability`]: fitting an outbound activity to what a channel can carry, reporting
//!   every loss.
//! - [`Secret`]: credentials with redacted `Debug`.
//!
//! - [`conversation`]: participants, the Omnichannel state machine, context variables.
//! - [`workstream`]: routing rules, queues, bot-first assignment and escalation.
//!
//! No HTTP client and no runtime: inbound webhooks are `http::Request<Bytes>`.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `axum` | no | `AdapterError` implements axum's `IntoResponse` (used by `byoc-axum`) |

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod activity;
pub mod adapter;
pub mod capability;
pub mod conversation;
pub mod error;
pub mod secret;
pub mod workstream;

pub use activity::{
    Activity, ActivityError, ActivityList, ActivityType, Attachment, ChannelAccount,
    ConversationAccount, ConversationReference, Entity, RawJson, Timestamp,
};
pub use adapter::{
    Capability, ChannelAdapter, ChannelInfo, DeliveredPart, Delivery, DeliveryStatus, Inbound,
};
pub use conversation::{ContextValue, Conversation, ConversationState};
pub use error::{AdapterError, BoxError};
pub use secret::Secret;
pub use workstream::{RoutingDecision, RoutingState, Workstream, WorkstreamError};

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<crate::Activity>();
        send_sync::<crate::AdapterError>();
        send_sync::<crate::Inbound>();
        send_sync::<crate::ChannelInfo>();
        send_sync::<crate::Secret>();
        send_sync::<crate::Conversation>();
        send_sync::<crate::Workstream>();
        send_sync::<crate::RoutingState>();
        send_sync::<crate::RoutingDecision<'static>>();
        send_sync::<crate::workstream::Router<'static>>();
        send_sync::<crate::workstream::PreparedState>();
        send_sync::<crate::WorkstreamError>();
        send_sync::<std::sync::Arc<dyn crate::ChannelAdapter>>();
    }
}
