//! byoc adapter for the Dynamics 365 Omnichannel Messaging API (under construction).

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

pub use normalize::{ConversationState, classify_event, target_state};

/// Normalizes one webhook body into canonical activities (see [`normalize::normalize`]).
///
/// # Errors
/// A bad request naming the field at fault.
pub fn normalize(payload: &[u8]) -> Result<Vec<byoc_core::Activity>, byoc_core::AdapterError> {
    normalize::normalize(payload).map_err(Into::into)
}
