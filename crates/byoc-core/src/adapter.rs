//! The [`ChannelAdapter`] contract every adapter implements, and the values it exchanges with
//! the host: [`ChannelInfo`], [`Inbound`], [`Delivery`].

use async_trait::async_trait;
use bytes::Bytes;

use crate::{Activity, AdapterError};

/// What a channel can carry, so the host can adapt a reply to it
/// (see [`crate::capability::adapt`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelInfo {
    /// The `channelId` activities of this channel carry (`telesign`, `directline`, ...).
    pub channel_id: String,
    /// Longest text one message may carry, in characters; `None` for no limit.
    pub max_text_len: Option<usize>,
    /// Whether files and media can be attached.
    pub attachments: bool,
    /// Largest attachment in bytes, when attachments are supported and limited.
    pub max_attachment_bytes: Option<u64>,
    /// Whether typing indicators are carried.
    pub typing: bool,
    /// Whether delivery receipts are reported.
    pub delivery_receipts: bool,
    /// Whether read receipts are reported.
    pub read_receipts: bool,
    /// Whether rich cards (hero, adaptive) render.
    pub rich_cards: bool,
    /// Whether suggested actions (quick replies) render as buttons.
    pub suggested_actions: bool,
    /// Whether markdown renders.
    pub markdown: bool,
    /// Whether activity types other than `message` and `typing` (events) are carried.
    pub events: bool,
}

impl ChannelInfo {
    /// A channel with every capability on and no text limit; narrow it with the `with_`
    /// methods.
    #[must_use]
    pub fn new(channel_id: impl Into<String>) -> Self {
        Self {
            channel_id: channel_id.into(),
            max_text_len: None,
            attachments: true,
            max_attachment_bytes: None,
            typing: true,
            delivery_receipts: false,
            read_receipts: false,
            rich_cards: true,
            suggested_actions: true,
            markdown: true,
            events: true,
        }
    }

    /// A text-only channel (SMS-like): a text limit, no attachments, cards, buttons,
    /// markdown, typing or events.
    #[must_use]
    pub fn text_only(channel_id: impl Into<String>, max_text_len: usize) -> Self {
        Self {
            max_text_len: Some(max_text_len),
            attachments: false,
            typing: false,
            rich_cards: false,
            suggested_actions: false,
            markdown: false,
            events: false,
            ..Self::new(channel_id)
        }
    }

    /// Sets the longest text.
    #[must_use]
    pub fn with_max_text_len(mut self, len: Option<usize>) -> Self {
        self.max_text_len = len;
        self
    }

    /// Sets attachment support and size limit.
    #[must_use]
    pub fn with_attachments(mut self, supported: bool, max_bytes: Option<u64>) -> Self {
        self.attachments = supported;
        self.max_attachment_bytes = max_bytes;
        self
    }

    /// Sets typing support.
    #[must_use]
    pub fn with_typing(mut self, on: bool) -> Self {
        self.typing = on;
        self
    }

    /// Sets delivery and read receipts.
    #[must_use]
    pub fn with_receipts(mut self, delivery: bool, read: bool) -> Self {
        self.delivery_receipts = delivery;
        self.read_receipts = read;
        self
    }

    /// Sets rich card support.
    #[must_use]
    pub fn with_rich_cards(mut self, on: bool) -> Self {
        self.rich_cards = on;
        self
    }

    /// Sets suggested-action support.
    #[must_use]
    pub fn with_suggested_actions(mut self, on: bool) -> Self {
        self.suggested_actions = on;
        self
    }

    /// Sets markdown support.
    #[must_use]
    pub fn with_markdown(mut self, on: bool) -> Self {
        self.markdown = on;
        self
    }

    /// Sets event support.
    #[must_use]
    pub fn with_events(mut self, on: bool) -> Self {
        self.events = on;
        self
    }
}

/// What an adapter made of one inbound webhook request.
#[derive(Debug)]
#[non_exhaustive]
pub struct Inbound {
    /// The normalized activities (zero or more: a keep-alive carries none). Each carries the
    /// provider's message id in `id` when the provider gives one, so the host can drop
    /// duplicates of a retried delivery.
    pub activities: Vec<Activity>,
    /// The HTTP answer the provider expects. The host sends it once the activities are
    /// persisted.
    pub response: http::Response<Bytes>,
}

impl Inbound {
    /// Activities answered with `200 OK` and an empty body.
    #[must_use]
    pub fn ok(activities: Vec<Activity>) -> Self {
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = http::StatusCode::OK;
        Self {
            activities,
            response,
        }
    }

    /// Activities with a specific answer.
    #[must_use]
    pub fn with_response(activities: Vec<Activity>, response: http::Response<Bytes>) -> Self {
        Self {
            activities,
            response,
        }
    }
}

/// Where a sent activity stands with the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// The provider accepted it for delivery (queued, in progress).
    Accepted,
    /// The provider reports it sent to the end user's network or device.
    Sent,
    /// Delivered to the end user.
    Delivered,
    /// Read by the end user.
    Read,
    /// The provider's own status, not one of the above.
    Other(String),
}

/// The provider's answer to a successful [`ChannelAdapter::send`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The provider's id for the message (TeleSign reference id, Bot Framework activity id,
    /// Messaging API message id, ...), for status lookups and receipts.
    pub provider_id: Option<String>,
    /// Status at the time of the answer.
    pub status: DeliveryStatus,
    /// The provider's status text (`Message in progress`), if any.
    pub detail: Option<String>,
}

impl Delivery {
    /// An accepted delivery with the provider's id.
    #[must_use]
    pub fn accepted(provider_id: Option<String>) -> Self {
        Self {
            provider_id,
            status: DeliveryStatus::Accepted,
            detail: None,
        }
    }

    /// Sets the status text.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the status.
    #[must_use]
    pub fn with_status(mut self, status: DeliveryStatus) -> Self {
        self.status = status;
        self
    }
}

/// One channel: receives the provider's webhooks and sends activities to it.
///
/// Object safe: hosts hold adapters as `Arc<dyn ChannelAdapter>`. Inbound requests are plain
/// `http::Request<Bytes>`, so an adapter fits axum, hyper, actix or a Lambda alike.
#[async_trait]
pub trait ChannelAdapter: Send + Sync {
    /// The channel id and what it can carry.
    fn info(&self) -> &ChannelInfo;

    /// Authenticates, parses and normalizes one inbound webhook request. Must return
    /// quickly: long work belongs to the host, after it has persisted the activities.
    ///
    /// # Errors
    /// [`AdapterError::Unauthorized`] when verification fails (answer with
    /// [`AdapterError::to_response`]), [`AdapterError::BadRequest`] for a body that is not
    /// what the provider sends.
    async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError>;

    /// Delivers one activity to the provider.
    ///
    /// # Errors
    /// Any [`AdapterError`]; [`AdapterError::is_retryable`] tells the outbox whether to try
    /// again.
    async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError>;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    struct Echo(ChannelInfo);

    #[async_trait]
    impl ChannelAdapter for Echo {
        fn info(&self) -> &ChannelInfo {
            &self.0
        }
        async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError> {
            let a = Activity::from_slice(request.body())?;
            Ok(Inbound::ok(vec![a]))
        }
        async fn send(&self, activity: &Activity) -> Result<Delivery, AdapterError> {
            Ok(Delivery::accepted(activity.id.clone()))
        }
    }

    #[tokio::test]
    async fn object_safe_and_usable_behind_arc() {
        let adapter: Arc<dyn ChannelAdapter> = Arc::new(Echo(ChannelInfo::new("test")));
        let req = http::Request::new(Bytes::from_static(br#"{"type":"message","id":"m1"}"#));
        let inbound = adapter.receive(req).await.unwrap();
        assert_eq!(inbound.response.status(), 200);
        let d = adapter.send(&inbound.activities[0]).await.unwrap();
        assert_eq!(d.provider_id.as_deref(), Some("m1"));
        let bad = http::Request::new(Bytes::from_static(b"[1]"));
        let err = adapter.receive(bad).await.unwrap_err();
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn text_only_narrows_everything() {
        let i = ChannelInfo::text_only("sms", 1600);
        assert_eq!(i.max_text_len, Some(1600));
        assert!(!i.attachments && !i.rich_cards && !i.suggested_actions && !i.typing);
    }
}
