//! byoc-directline (docs being written).
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod command;
pub mod config;
pub mod error;
pub mod normalize;
pub mod render;
pub mod verify;

pub use normalize::normalize;
