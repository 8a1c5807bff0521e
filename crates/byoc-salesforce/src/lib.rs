//! byoc adapter for salesforce (under construction).
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod adapter;
pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod normalize;
pub mod render;
pub mod verify;

/// The crate's normalizer (see [`normalize::normalize_bytes`]).
///
/// # Errors
/// [`byoc_core::AdapterError::BadRequest`] naming the field at fault.
pub fn normalize(payload: &[u8]) -> Result<Vec<byoc_core::Activity>, byoc_core::AdapterError> {
    Ok(normalize::normalize_bytes(payload)?)
}
pub mod client;
pub use client::InteractionClient;
pub mod pubsub;
pub use config::{ChannelDefinition, Config, Credentials};
pub use adapter::SalesforceAdapter;
