//! # byoc-axum
//!
//! Mounts any byoc [`ChannelAdapter`]'s webhook in an [axum](https://docs.rs/axum) app, so
//! a host does not write the bridge itself:
//!
//! 1. the request body is read up to a limit (`413` past it);
//! 2. the adapter authenticates and normalizes it ([`ChannelAdapter::receive`]); a request
//!    that fails is answered with the adapter's status (`401`, `400`, ...) and never
//!    acknowledged;
//! 3. the activities go to the host's [`ActivitySink`], **awaited before the answer**, so a
//!    host persists them before the provider hears `2xx`; a sink that cannot take them
//!    answers `503` and the provider retries;
//! 4. the provider gets the answer it expects (the adapter's, or one the sink gives, such as
//!    a bot's invoke response).
//!
//! ```
//! use std::sync::Arc;
//! use byoc_axum::{Received, SinkError, webhook};
//! # use byoc_core::{Activity, AdapterError, ChannelAdapter, ChannelInfo, Delivery, Inbound};
//! # struct MyAdapter(ChannelInfo);
//! # #[async_trait::async_trait]
//! # impl ChannelAdapter for MyAdapter {
//! #     fn info(&self) -> &ChannelInfo { &self.0 }
//! #     async fn receive(&self, r: http::Request<bytes::Bytes>) -> Result<Inbound, AdapterError> {
//! #         Ok(Inbound::ok(vec![Activity::from_slice(r.body())?]))
//! #     }
//! #     async fn send(&self, _: &Activity) -> Result<Delivery, AdapterError> { Ok(Delivery::accepted(None)) }
//! # }
//! # let adapter = Arc::new(MyAdapter(ChannelInfo::new("my")));
//!
//! let app: axum::Router = axum::Router::new().route(
//!     "/webhooks/my-channel",
//!     webhook(adapter, |received: Received| async move {
//!         println!("{} activities from {}", received.activities.len(), received.channel_id);
//!         Ok::<(), SinkError>(())
//!     }),
//! );
//! ```
//!
//! [`AdapterError`] is itself an axum response (byoc-core's `axum` feature, on here), so a
//! handler of the host's own can return `Result<_, AdapterError>`.
//!
//! ## Security
//!
//! Bodies are bounded before the adapter sees them ([`DEFAULT_BODY_LIMIT`]); answers to
//! refused requests never echo the request; logs name the channel and counts, never a body.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use byoc_core::{Activity, AdapterError, ChannelAdapter};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Default largest webhook body read: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// What one webhook request yielded, handed to the [`ActivitySink`] before the provider is
/// answered.
#[derive(Debug)]
#[non_exhaustive]
pub struct Received {
    /// The adapter's channel id ([`byoc_core::ChannelInfo::channel_id`]).
    pub channel_id: String,
    /// The normalized activities (possibly none: a keep-alive).
    pub activities: Vec<Activity>,
}

/// How the provider is answered once the sink has taken the activities.
#[derive(Debug, Default)]
#[non_exhaustive]
pub enum Answer {
    /// The adapter's answer.
    #[default]
    Adapter,
    /// Another answer (an invoke response, an `expectReplies` list, ...).
    Replace(http::Response<Bytes>),
}

impl From<()> for Answer {
    fn from((): ()) -> Self {
        Self::Adapter
    }
}

impl From<http::Response<Bytes>> for Answer {
    fn from(response: http::Response<Bytes>) -> Self {
        Self::Replace(response)
    }
}

/// Why the sink did not take the activities.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The host cannot persist now (store down, queue full): answered `503` so the provider
    /// delivers again later.
    #[error("host unavailable: {reason}")]
    Unavailable {
        /// Why, for the logs (never sent to the provider).
        reason: String,
    },
    /// The host refuses the activities for good: answered with the error's status.
    #[error(transparent)]
    Refused(#[from] AdapterError),
}

impl SinkError {
    /// A [`SinkError::Unavailable`].
    #[must_use]
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable {
            reason: reason.into(),
        }
    }
}

/// Where a webhook's activities go: the host's persistence or processing.
///
/// Implemented for closures `Fn(Received) -> impl Future<Output = Result<R, SinkError>>`
/// where `R` is `()` (answer as the adapter says) or an [`Answer`].
#[async_trait]
pub trait ActivitySink: Send + Sync + 'static {
    /// Takes what one request yielded. The provider is answered when this returns.
    ///
    /// # Errors
    /// [`SinkError`] when the activities were not taken.
    async fn accept(&self, received: Received) -> Result<Answer, SinkError>;
}

#[async_trait]
impl<F, Fut, R> ActivitySink for F
where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, SinkError>> + Send,
    R: Into<Answer>,
{
    async fn accept(&self, received: Received) -> Result<Answer, SinkError> {
        self(received).await.map(Into::into)
    }
}

#[async_trait]
impl<S: ActivitySink + ?Sized> ActivitySink for Arc<S> {
    async fn accept(&self, received: Received) -> Result<Answer, SinkError> {
        (**self).accept(received).await
    }
}

/// A webhook route for one adapter, with settings; [`webhook`] is the short form.
#[must_use]
pub struct Webhook<A: ?Sized, S> {
    adapter: Arc<A>,
    sink: Arc<S>,
    body_limit: usize,
}

impl<A: ?Sized, S> fmt::Debug for Webhook<A, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl<A, S> Webhook<A, S>
where
    A: ChannelAdapter + ?Sized + 'static,
    S: ActivitySink,
{
    /// A webhook that feeds `adapter`'s activities to `sink`, with [`DEFAULT_BODY_LIMIT`].
    pub fn new(adapter: Arc<A>, sink: S) -> Self {
        Self {
            adapter,
            sink: Arc::new(sink),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Sets the largest body read, in bytes.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The axum route answering `POST`.
    pub fn into_route<St: Clone + Send + Sync + 'static>(self) -> MethodRouter<St> {
        let Self {
            adapter,
            sink,
            body_limit,
        } = self;
        post(move |request: Request| {
            let adapter = adapter.clone();
            let sink = sink.clone();
            async move { handle(adapter.as_ref(), sink.as_ref(), body_limit, request).await }
        })
    }

    /// Handles one request: what the route does, callable from a host's own handler.
    pub async fn handle(&self, request: Request) -> Response {
        handle(
            self.adapter.as_ref(),
            self.sink.as_ref(),
            self.body_limit,
            request,
        )
        .await
    }
}

/// The `POST` route that feeds `adapter`'s webhooks to `sink` (see the crate docs).
pub fn webhook<A, S, St>(adapter: Arc<A>, sink: S) -> MethodRouter<St>
where
    A: ChannelAdapter + ?Sized + 'static,
    S: ActivitySink,
    St: Clone + Send + Sync + 'static,
{
    Webhook::new(adapter, sink).into_route()
}

async fn handle<A, S>(adapter: &A, sink: &S, body_limit: usize, request: Request) -> Response
where
    A: ChannelAdapter + ?Sized,
    S: ActivitySink + ?Sized,
{
    let channel_id = adapter.info().channel_id.clone();
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, body_limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            tracing::warn!(channel = %channel_id, limit = body_limit, "webhook body over the limit");
            return AdapterError::bad_request("body", format!("larger than {body_limit} bytes"))
                .into_response()
                .with_status(http::StatusCode::PAYLOAD_TOO_LARGE);
        }
        Err(_) => {
            tracing::warn!(channel = %channel_id, "webhook body could not be read");
            return AdapterError::malformed("body could not be read").into_response();
        }
    };
    let inbound = match adapter
        .receive(http::Request::from_parts(parts, bytes))
        .await
    {
        Ok(inbound) => inbound,
        Err(e) => {
            tracing::warn!(channel = %channel_id, error = %e, "webhook refused");
            return e.into_response();
        }
    };
    let count = inbound.activities.len();
    let received = Received {
        channel_id: channel_id.clone(),
        activities: inbound.activities,
    };
    match sink.accept(received).await {
        Ok(Answer::Adapter) => {
            tracing::debug!(channel = %channel_id, activities = count, "webhook accepted");
            inbound.response.map(Body::from)
        }
        Ok(Answer::Replace(response)) => response.map(Body::from),
        Err(SinkError::Unavailable { reason }) => {
            tracing::warn!(channel = %channel_id, %reason, "webhook not taken; asking the provider to retry");
            AdapterError::transient("the host cannot take this delivery now").into_response()
        }
        Err(SinkError::Refused(e)) => {
            tracing::warn!(channel = %channel_id, error = %e, "webhook refused by the host");
            e.into_response()
        }
    }
}

trait WithStatus {
    fn with_status(self, status: http::StatusCode) -> Self;
}

impl WithStatus for Response {
    fn with_status(mut self, status: http::StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

#[cfg(test)]
mod tests;
