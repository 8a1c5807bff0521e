//! # byoc-directline
//!
//! The two ways of connecting to Bot Framework bots, and Omnichannel's bot commands:
//!
//! - **Connector, bot side** ([`ConnectorAdapter`]): our host is a bot's messaging
//!   endpoint. Any Azure Bot Service channel (Teams, Direct Line, Web Chat, ...) posts
//!   activities to it with a channel JWT; the adapter validates the JWT, answers at once,
//!   and replies through the Connector REST v3 API ([`ConnectorClient`]) with a
//!   client-credentials token.
//! - **Direct Line 3.0 client** ([`DirectLineClient`]): our host is the channel, talking
//!   to a bot: tokens, conversations, activities with watermarks, uploads, and a
//!   [`futures_util::Stream`] of activities over the WebSocket with polling as fallback
//!   ([`ActivityStream`]).
//! - **Omnichannel bot commands** ([`BotCommand`]): `channelData.tags` escalations and
//!   end-of-conversation commands become byoc hand-off / end activities.
//!
//! The wire facts this crate implements, and the decisions taken where the providers'
//! documentation is uncertain, are in the repository's `docs/protocols/bot-framework.md`.
//! [`normalize()`] parses the main inbound payload (a Direct Line `ActivitySet`, or one
//! activity) without I/O; [`ChannelVerifier`] checks a channel JWT without I/O;
//! [`render_for_connector`] and [`render_for_directline`] make the outbound bodies.
//!
//! ## Quick start: a Direct Line client
//!
//! ```no_run
//! use std::sync::Arc;
//! use byoc_core::{Activity, Secret};
//! use byoc_directline::{DirectLineClient, DirectLineConfig, DirectLineCredential};
//! use futures_util::StreamExt as _;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new("YOUR_SECRET")))?;
//! let client = Arc::new(DirectLineClient::new(config)?);
//! client.start().await?;
//! let mut replies = client.stream();
//! client.post_activity(&Activity::message("hello")).await?;
//! while let Some(activity) = replies.next().await {
//!     println!("{:?}", activity?.text);
//! }
//! # Ok(()) }
//! ```
//!
//! ## A bot's messaging endpoint in axum
//!
//! [`ConnectorAdapter`] is a [`byoc_core::ChannelAdapter`]: byoc-axum mounts it, and the
//! sink gets the validated activities before the channel hears `200`.
//!
//! ```
//! use std::sync::Arc;
//! use byoc_axum::{Received, SinkError, webhook};
//! use byoc_directline::{ConnectorAdapter, ConnectorConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//!
//! let config = ConnectorConfig::new("YOUR_APP_ID", byoc_core::Secret::new("YOUR_APP_PASSWORD"))?;
//! let adapter = Arc::new(ConnectorAdapter::new(config)?);
//! let app: axum::Router = axum::Router::new().route(
//!     "/api/messages",
//!     webhook(adapter, |received: Received| async move {
//!         println!("{} activities to persist", received.activities.len());
//!         Ok::<(), SinkError>(())
//!     }),
//! );
//! # let _ = app; Ok(()) }
//! ```
//!
//! ## Answers the bot decides: `invoke` and `expectReplies`
//!
//! [`ChannelAdapter::receive`](byoc_core::ChannelAdapter::receive) answers before the bot
//! has run, so it cannot know the answer to an `invoke` (Bot Framework's
//! `InvokeResponse`: a status and a JSON body) or to an activity sent with
//! `deliveryMode: expectReplies` (the replies themselves, `{"activities":[...]}`).
//! [`ConnectorAdapter`] returns a placeholder answer (`501 Not Implemented` for an invoke,
//! as botbuilder answers one nobody handled; `200 {"activities":[]}` for expectReplies);
//! the host runs the bot and gives the real answer: with byoc-axum, the sink returns
//! `byoc_axum::Answer::Replace`. [`ExpectedAnswer::of`] says which answer an activity
//! waits for; [`InvokeResponse::to_response`] and [`expected_replies`] build it.
//!
//! ```
//! use byoc_axum::{Answer, Received, SinkError};
//! use byoc_directline::{ExpectedAnswer, InvokeResponse, expected_replies};
//!
//! async fn answer(received: Received) -> Result<Answer, SinkError> {
//!     let Some(activity) = received.activities.first() else {
//!         return Ok(Answer::Adapter);
//!     };
//!     Ok(match ExpectedAnswer::of(activity) {
//!         ExpectedAnswer::Invoke => {
//!             let body = serde_json::json!({ "statusCode": 200 });
//!             Answer::Replace(InvokeResponse::ok(body).to_response())
//!         }
//!         ExpectedAnswer::ExpectReplies => {
//!             expected_replies(&[activity.create_reply("right away")])
//!                 .map_or(Answer::Adapter, Answer::Replace)
//!         }
//!         _ => Answer::Adapter, // 200, empty: reply later through `send`
//!     })
//! }
//! ```
//!
//! `examples/bot_endpoint.rs` does this with the simulator's channel.
//!
//! ## Direct Line tokens
//!
//! Tokens live 1800 s. [`DirectLineClient::keep_token_fresh`] refreshes them in the
//! background, [`DirectLineConfig::with_token_refresh_margin`] (15 minutes) before they
//! expire, so a conversation quiet for hours keeps a valid token (DirectLineJS refreshes
//! every 15 minutes too); streams run it while they live. Calls also refresh a due token
//! lazily, and after `403 TokenExpired` fall back to the secret when one is configured.
//!
//! ## Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | `ConnectorAdapter::new`, `ConnectorClient::new`, `DirectLineClient::new` over byoc-http's reqwest transport, and the WebSocket stream (tokio-tungstenite over rustls). Without it, construct with `with_transport` and your [`HttpTransport`]; streams poll. |
//!
//! ## Security
//!
//! - Inbound JWTs ([`ChannelVerifier`]): only RS256/RS384/RS512 (so `alg: none` and HS256
//!   key confusion fail before a key is touched), key by `kid` from the issuer's JWKS,
//!   signature through `jsonwebtoken`, issuer, audience = app id, `exp`/`nbf` with 5
//!   minutes of skew, key endorsements include `channelId`, `serviceurl` claim equals
//!   `serviceUrl`. Each failure is its own [`VerifyError`] and answers `401`.
//! - Keys (byoc-http's `KeyCache`) are cached 24 hours; an unknown `kid` refetches them
//!   at most once an hour.
//! - Outbound tokens go only to trusted service URLs: those seen in validated activities,
//!   plus configured patterns. No redirects are followed. Authorization headers are marked
//!   sensitive; secrets are [`byoc_core::Secret`]; errors and logs never carry bodies,
//!   tokens or the stream URL (which holds a token). Inbound bodies are limited
//!   ([`ConnectorConfig::with_body_limit`]), and so are response bodies and WebSocket
//!   messages (`with_max_response_bytes`).
//! - Extra CAs ([`RootCa`], `with_root_ca`) are trusted by every connection: REST calls and
//!   the WebSocket alike.
//!
//! ## Why these crates
//!
//! byoc-http carries the transport, the Connector's client-credentials token and the key
//! cache, shared with the other adapters; `jsonwebtoken` is the one JWT stack of byoc;
//! tokio-tungstenite is the field's WebSocket client for tokio. The Direct Line token
//! (a conversation token refreshed with itself) and its background refresher are
//! Direct Line's own and live here.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod adapter;
mod client;
mod command;
mod config;
mod error;
mod normalize;
mod render;
mod stream;
mod verify;

pub use adapter::{ConnectorAdapter, ExpectedAnswer, InvokeResponse, expected_replies};
pub use client::{
    AttachmentData, ConnectorClient, Conversation, ConversationResourceResponse, DirectLineClient,
    TokenRefresher, Upload,
};
pub use command::{
    BRIDGED, BotCommand, HANDOFF_INITIATE, is_bridged, set_bridged, translate_commands,
};
pub use config::{ConnectorConfig, DirectLineConfig, DirectLineCredential, MAX_ACTIVITY_BYTES};
pub use error::{ClientError, CommandError, ConfigError, NormalizeError, RenderError, VerifyError};
pub use normalize::{ActivitySet, normalize, normalize_channel_activity, parse_activity_set};
pub use render::{render_for_connector, render_for_directline};
pub use stream::ActivityStream;
pub use verify::{ChannelVerifier, VerifiedToken};

/// The byoc-http items this crate's public API names: bring a transport (a closure returning a
/// [`TransportFuture`] is one), trust an extra CA, match on transport and token errors.
pub use byoc_http::{
    HttpTransport, KeySet, RootCa, TokenError, TransportError, TransportErrorKind, TransportFuture,
};

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<crate::ConnectorAdapter>();
        send_sync::<crate::ConnectorClient>();
        send_sync::<crate::InvokeResponse>();
        send_sync::<crate::TokenRefresher>();
        send_sync::<crate::DirectLineClient>();
        send_sync::<crate::ActivityStream>();
        send_sync::<crate::ChannelVerifier>();
        send_sync::<crate::ConnectorConfig>();
        send_sync::<crate::DirectLineConfig>();
        send_sync::<crate::VerifyError>();
        send_sync::<crate::ClientError>();
        send_sync::<crate::ConfigError>();
    }
}
