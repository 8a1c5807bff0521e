//! # byoc — bring your own channel
//!
//! The facade over the byoc crates: plug any messaging channel (SMS, your own chat, a Bot
//! Framework bot) into a contact center (Dynamics 365 Omnichannel, Salesforce Service Cloud,
//! or your own routing). Every message becomes one canonical [`core::Activity`] on its way
//! through.
//!
//! | feature | crate | what it adds |
//! |---|---|---|
//! | (always) | [`byoc_core`] as [`core`] | the canonical model, routing, the `ChannelAdapter` contract |
//! | (always) | [`byoc_http`] as [`http`] | the shared HTTP layer: transport, tokens, signing keys |
//! | `axum` | `byoc_axum` as `axum` | mount any adapter's webhook in an axum app |
//! | `reqwest` | | `byoc_http`'s reqwest transport (each adapter crate enables its own) |
//! | `telesign` | `byoc_telesign` | TeleSign SMS |
//! | `directline` | `byoc_directline` | Bot Framework connector and Direct Line 3.0 |
//! | `messaging-api` | `byoc_messaging_api` | Dynamics 365 Omnichannel Messaging API |
//! | `salesforce` | `byoc_salesforce` | Salesforce Interaction Service (BYOC for Messaging) |
//! | `sim` | `byoc_sim` | loopback simulators of every provider |
//! | `gateway` | `byoc_gateway` | the contact-center gateway (store, outbox, engine, agent API; binary `byoc`) |
//!
//! All features but `gateway` are on by default.

#[cfg(feature = "axum")]
pub use byoc_axum as axum;
pub use byoc_core as core;
#[cfg(feature = "directline")]
pub use byoc_directline as directline;
#[cfg(feature = "gateway")]
pub use byoc_gateway as gateway;
pub use byoc_http as http;
#[cfg(feature = "messaging-api")]
pub use byoc_messaging_api as messaging_api;
#[cfg(feature = "salesforce")]
pub use byoc_salesforce as salesforce;
#[cfg(feature = "sim")]
pub use byoc_sim as sim;
#[cfg(feature = "telesign")]
pub use byoc_telesign as telesign;
