//! The outbound side: a Pub/Sub API subscription to the channel's platform event.
//!
//! [`Subscription::start`] spawns one task that connects (`GetTopic`, then the bidirectional
//! `Subscribe` with `FetchRequest` flow control), decodes each event with its writer schema
//! (`GetSchema`, cached by schema id), normalizes it, filters it by channel address and
//! recipient, and yields a [`SubscriptionItem`] on a bounded channel. Every event, ours or
//! not, is yielded with its replay id, so the host can store the last one and restart with
//! [`ReplayStart::After`]: nothing is lost or repeated. The task reconnects by itself after
//! a dropped stream (from the last replay id, with backoff) and mints a new token when the
//! service answers `UNAUTHENTICATED`. The connection is TLS for `https://` endpoints,
//! trusting the web PKI roots and the configuration's root CAs. See
//! `docs/protocols/salesforce.md#pubsub`.

mod avro;
mod session;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use byoc_core::{Activity, AdapterError};
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::client::SalesforceClient;
use crate::normalize::{EventFilter, FilterError};

/// Longest reconnect delay.
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(30);

/// An opaque replay id (bytes); store it to resume.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ReplayId(pub Vec<u8>);

impl fmt::Debug for ReplayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayId(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// Where a subscription starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayStart {
    /// New events only.
    Latest,
    /// Every retained event.
    Earliest,
    /// The events after this replay id (a restart).
    After(ReplayId),
}

/// Why an event produced no activities.
#[derive(Debug)]
#[non_exhaustive]
pub enum Skipped {
    /// The event is for another channel or recipient.
    NotOurs(FilterError),
    /// The event could not be decoded or normalized.
    Invalid(AdapterError),
}

/// One delivered event.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReceivedEvent {
    /// Its replay id: store it once the activities are persisted.
    pub replay_id: ReplayId,
    /// The event id.
    pub event_id: String,
    /// The event-type field's value (`Interaction`, `RoutingRequested`).
    pub event_type: Option<String>,
    /// The entry `identifier` (for `/acknowledgement`).
    pub entry_identifier: Option<String>,
    /// The conversation.
    pub conversation_id: Option<String>,
    /// The end user.
    pub recipient: Option<String>,
    /// The activities (empty when skipped).
    pub activities: Vec<Activity>,
    /// Why there are none, if so.
    pub skipped: Option<Skipped>,
}

/// What the subscription yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum SubscriptionItem {
    /// An event.
    Event(ReceivedEvent),
    /// An empty batch (keep-alive) with the latest replay id.
    KeepAlive {
        /// The latest replay id.
        latest_replay_id: ReplayId,
    },
    /// The stream failed; the subscription reconnects after a delay, from the last replay id.
    Reconnecting {
        /// What failed.
        error: AdapterError,
        /// The delay before the next attempt.
        after: Duration,
    },
}

/// A running subscription: a [`Stream`] of [`SubscriptionItem`]s. Dropping it stops the task.
#[derive(Debug)]
pub struct Subscription {
    rx: ReceiverStream<Result<SubscriptionItem, AdapterError>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stream for Subscription {
    type Item = Result<SubscriptionItem, AdapterError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}

impl Subscription {
    /// Starts subscribing to the channel's topic from `start`, keeping the events `filter`
    /// accepts. Must be called inside a tokio runtime.
    #[must_use]
    pub fn start(client: Arc<SalesforceClient>, filter: EventFilter, start: ReplayStart) -> Self {
        let cap = usize::from(client.config().fetch_batch().max(1));
        let (tx, rx) = mpsc::channel(cap);
        let task = tokio::spawn(session::run(client, filter, start, tx));
        Self {
            rx: ReceiverStream::new(rx),
            task,
        }
    }

    /// Only the activities of the events that are ours, in order.
    pub fn activities(self) -> impl Stream<Item = Activity> + Send {
        use futures_util::StreamExt as _;
        self.filter_map(|item| async move {
            match item {
                Ok(SubscriptionItem::Event(e)) => Some(futures_util::stream::iter(e.activities)),
                _ => None,
            }
        })
        .flatten()
    }
}
