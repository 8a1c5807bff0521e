//! # byoc-directline
//!
//! The two ways of connecting to Bot Framework bots:
//!
//! - **Connector, bot side** ([`BotEndpoint`]): our host is a bot's messaging endpoint. Any
//!   Azure Bot Service channel (Telegram, Teams, Direct Line, ...) posts activities to it
//!   with a channel JWT; [`BotEndpoint`] validates the JWT, answers at once, and replies
//!   through the Connector REST v3 API ([`client::ConnectorClient`]) with a
//!   client-credentials token.
//! - **Direct Line 3.0 client** ([`client::DirectLineClient`]): our host is the channel,
//!   talking to a bot: tokens, conversations, activities with watermarks, uploads, and a
//!   [`futures_util::Stream`] of activities over the WebSocket with polling as fallback.
//! - **Omnichannel bot commands** ([`command`]): `channelData.tags` escalations and
//!   end-of-conversation commands become byoc hand-off / end activities.
//!
//! The crate root's [`normalize()`] parses the main inbound payload (a Direct Line
//! `ActivitySet`, or one activity) without I/O.
//!
//! ## Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//! use byoc_core::{Activity, Secret};
//! use byoc_directline::client::{DirectLineClient, ReqwestTransport};
//! use byoc_directline::config::{DirectLineConfig, DirectLineCredential};
//! use futures_util::StreamExt as _;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new("YOUR_SECRET")));
//! let client = Arc::new(DirectLineClient::new(config, Arc::new(ReqwestTransport::new()?)));
//! client.start().await?;
//! let mut replies = client.stream();
//! client.post_activity(&Activity::message("hello")).await?;
//! while let Some(activity) = replies.next().await {
//!     println!("{:?}", activity?.text);
//! }
//! # Ok(()) }
//! ```
//!
//! ## Answers the bot decides: `invoke` and `expectReplies`
//!
//! [`ChannelAdapter::receive`](byoc_core::ChannelAdapter::receive) answers before the bot
//! has run, so it cannot know the answer to an `invoke` (Bot Framework's
//! `InvokeResponse`: a status and a JSON body) or to an activity sent with
//! `deliveryMode: expectReplies` (the replies themselves, `{"activities":[...]}`).
//! [`BotEndpoint`] returns the [`byoc_core::Inbound`] with a placeholder answer
//! (`501 Not Implemented` for an invoke, as botbuilder answers one nobody handled;
//! `200 {"activities":[]}` for expectReplies); the host runs the bot and replaces
//! `inbound.response` before answering the HTTP request. [`ExpectedAnswer::of`] says
//! which answer an activity waits for; [`InvokeResponse::to_response`] and
//! [`expected_replies`] build it. `ChannelAdapter` is unchanged.
//!
//! ```
//! use byoc_core::Activity;
//! use byoc_directline::{ExpectedAnswer, InvokeResponse, expected_replies};
//!
//! fn answer(inbound: &mut byoc_core::Inbound) {
//!     let activity = &inbound.activities[0];
//!     match ExpectedAnswer::of(activity) {
//!         ExpectedAnswer::Invoke => {
//!             let r = InvokeResponse::ok(serde_json::json!({ "statusCode": 200 }));
//!             inbound.response = r.to_response();
//!         }
//!         ExpectedAnswer::ExpectReplies => {
//!             let replies = [activity.create_reply("right away")];
//!             if let Ok(r) = expected_replies(&replies) {
//!                 inbound.response = r;
//!             }
//!         }
//!         _ => {} // 200, empty: reply later through `send`
//!     }
//! }
//! ```
//!
//! `examples/bot_endpoint.rs` does this in an axum handler.
//!
//! ## Direct Line tokens
//!
//! Tokens live 1800 s. [`client::DirectLineClient::keep_token_fresh`] refreshes them in
//! the background, [`config::DirectLineConfig::refresh_before_expiry`] (15 minutes) before
//! they expire, so a conversation quiet for hours keeps a valid token (DirectLineJS
//! refreshes every 15 minutes too); streams run it while they live. Calls also refresh a
//! due token lazily, and after `403 TokenExpired` fall back to the secret when one is
//! configured.
//!
//! ## Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | [`client::ReqwestTransport`] and the WebSocket stream (tokio-tungstenite, rustls). Without it, bring an [`client::HttpTransport`]; streams poll. |
//!
//! ## Security
//!
//! - Inbound JWTs ([`verify`]): only RS256/RS384/RS512 (so `alg: none` and HS256 key
//!   confusion fail before a key is touched), key by `kid` from the issuer's JWKS, issuer,
//!   audience = app id, `exp`/`nbf` with 5 minutes of skew, key endorsements include
//!   `channelId`, `serviceurl` claim equals `serviceUrl`. Each failure is its own
//!   [`error::VerifyError`] and answers `401`.
//! - Keys are cached 24 hours; an unknown `kid` refetches at most once an hour.
//! - Outbound tokens go only to trusted service URLs: those seen in validated activities,
//!   plus configured patterns. No redirects are followed. Authorization headers are marked
//!   sensitive; secrets are [`byoc_core::Secret`]; errors and logs never carry bodies or
//!   tokens. Inbound bodies are limited ([`config::ConnectorConfig::max_body_bytes`]).
//!
//! ## Decisions on uncertain facts
//!
//! - Endorsements: botbuilder-js accepts keys without endorsements and activities without
//!   `channelId`; this crate is stricter and requires the key to be endorsed for a present
//!   `channelId` (A2020 makes it mandatory).
//! - A missing `serviceurl` claim is a mismatch (as botbuilder-js compares it exactly).
//! - `Retry-After` is read as seconds (or an HTTP date), per the Direct Line docs, not as
//!   milliseconds as DirectLineJS does.
//! - Direct Line tokens are refreshed 15 minutes before expiry (DirectLineJS refreshes every
//!   half lifetime of the 1800 s token); an expired token is replaced by the secret when one
//!   is configured.
//! - Omnichannel commands: only the documented `tags` key is read (`ChatBotCommand` is in no
//!   source); `Escalate` becomes an `event` named `handoff.initiate` (botbuilder's hand-off
//!   event) with the context as `value`, `EndConversation` an `endOfConversation`.
//! - `textFormat` / `inputHint` values are passed through as given.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod adapter;
pub mod client;
pub mod command;
pub mod config;
pub mod error;
pub mod normalize;
pub mod openid;
pub mod render;
pub mod verify;

pub use adapter::{BotEndpoint, ExpectedAnswer, InvokeResponse, expected_replies};
pub use config::{ConnectorConfig, DirectLineConfig, DirectLineCredential};
pub use error::{ApiError, CommandError, VerifyError};
pub use normalize::normalize;

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<crate::BotEndpoint>();
        send_sync::<crate::InvokeResponse>();
        send_sync::<crate::client::TokenRefresher>();
        send_sync::<crate::client::DirectLineClient>();
        send_sync::<crate::client::ConnectorClient>();
        send_sync::<crate::client::ActivityStream>();
        send_sync::<crate::VerifyError>();
        send_sync::<crate::ApiError>();
    }
}
