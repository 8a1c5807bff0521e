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

    /// Sets the longest text (`None`: no limit).
    #[must_use]
    pub fn with_max_text_len(mut self, len: Option<usize>) -> Self {
        self.max_text_len = len;
        self
    }

    /// Sets the largest attachment in bytes (`None`: no limit). Does not turn attachments
    /// on; see [`ChannelInfo::with`].
    #[must_use]
    pub fn with_max_attachment_bytes(mut self, max_bytes: Option<u64>) -> Self {
        self.max_attachment_bytes = max_bytes;
        self
    }

    /// Turns a capability on.
    #[must_use]
    pub fn with(mut self, capability: Capability) -> Self {
        *self.flag_mut(capability) = true;
        self
    }

    /// Turns a capability off.
    #[must_use]
    pub fn without(mut self, capability: Capability) -> Self {
        *self.flag_mut(capability) = false;
        self
    }

    /// Whether the channel has a capability.
    #[must_use]
    pub fn supports(&self, capability: Capability) -> bool {
        match capability {
            Capability::Attachments => self.attachments,
            Capability::Typing => self.typing,
            Capability::DeliveryReceipts => self.delivery_receipts,
            Capability::ReadReceipts => self.read_receipts,
            Capability::RichCards => self.rich_cards,
            Capability::SuggestedActions => self.suggested_actions,
            Capability::Markdown => self.markdown,
            Capability::Events => self.events,
        }
    }

    fn flag_mut(&mut self, capability: Capability) -> &mut bool {
        match capability {
            Capability::Attachments => &mut self.attachments,
            Capability::Typing => &mut self.typing,
            Capability::DeliveryReceipts => &mut self.delivery_receipts,
            Capability::ReadReceipts => &mut self.read_receipts,
            Capability::RichCards => &mut self.rich_cards,
            Capability::SuggestedActions => &mut self.suggested_actions,
            Capability::Markdown => &mut self.markdown,
            Capability::Events => &mut self.events,
        }
    }
}

/// One thing a channel can or cannot carry, for [`ChannelInfo::with`] and
/// [`ChannelInfo::without`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// Files and media attachments.
    Attachments,
    /// Typing indicators.
    Typing,
    /// Delivery receipts reported by the provider.
    DeliveryReceipts,
    /// Read receipts reported by the provider.
    ReadReceipts,
    /// Rich cards (hero, adaptive) rendered.
    RichCards,
    /// Suggested actions (quick replies) rendered as buttons.
    SuggestedActions,
    /// Markdown rendered.
    Markdown,
    /// Activity types other than `message` and `typing` (events) carried.
    Events,
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

/// One message the provider accepted as part of a [`Delivery`]: a long SMS split into
/// several messages has one part per message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveredPart {
    /// The provider's id for this message (TeleSign reference id, Bot Framework activity id,
    /// Messaging API message id, ...).
    pub provider_id: String,
    /// How many network segments the provider bills or sends this part as (SMS encodings),
    /// when known.
    pub segments: Option<u32>,
}

impl DeliveredPart {
    /// A part with the provider's id.
    #[must_use]
    pub fn new(provider_id: impl Into<String>) -> Self {
        Self {
            provider_id: provider_id.into(),
            segments: None,
        }
    }

    /// Sets the segment count.
    #[must_use]
    pub fn with_segments(mut self, segments: u32) -> Self {
        self.segments = Some(segments);
        self
    }
}

/// The provider's answer to a successful [`ChannelAdapter::send`].
///
/// Typed: the provider's id of every message sent ([`Delivery::parts`]), the provider's
/// conversation id where the provider has one, and the status. [`Delivery::detail`] is human
/// text only; nothing should parse it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// Every message the provider accepted for this activity, in sending order. Empty when
    /// the provider gives no id.
    pub parts: Vec<DeliveredPart>,
    /// The provider's conversation (or session) id the activity went to, where the provider
    /// has one (Salesforce conversation identifier, Messaging API conversation id, ...).
    pub conversation_id: Option<String>,
    /// Status at the time of the answer.
    pub status: DeliveryStatus,
    /// The provider's status text (`Message in progress`), if any; for people, not programs.
    pub detail: Option<String>,
}

impl Delivery {
    /// An accepted delivery of one message with the provider's id (no part when `None`).
    #[must_use]
    pub fn accepted(provider_id: Option<String>) -> Self {
        Self {
            parts: provider_id.map(DeliveredPart::new).into_iter().collect(),
            conversation_id: None,
            status: DeliveryStatus::Accepted,
            detail: None,
        }
    }

    /// An accepted delivery of several messages (a split text), in sending order.
    #[must_use]
    pub fn accepted_parts(parts: Vec<DeliveredPart>) -> Self {
        Self {
            parts,
            conversation_id: None,
            status: DeliveryStatus::Accepted,
            detail: None,
        }
    }

    /// The provider's id of the first (usually only) message, for status lookups and
    /// receipts.
    #[must_use]
    pub fn provider_id(&self) -> Option<&str> {
        self.parts.first().map(|p| p.provider_id.as_str())
    }

    /// How many messages the provider accepted for this activity.
    #[must_use]
    pub fn part_count(&self) -> usize {
        self.parts.len()
    }

    /// Sets the provider's conversation id.
    #[must_use]
    pub fn with_conversation_id(mut self, id: impl Into<String>) -> Self {
        self.conversation_id = Some(id.into());
        self
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
        assert_eq!(d.provider_id(), Some("m1"));
        assert_eq!(d.part_count(), 1);
        let bad = http::Request::new(Bytes::from_static(b"[1]"));
        let err = adapter.receive(bad).await.unwrap_err();
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn delivery_parts_are_typed() {
        let d = Delivery::accepted_parts(vec![
            DeliveredPart::new("r1").with_segments(2),
            DeliveredPart::new("r2").with_segments(1),
        ])
        .with_conversation_id("c1");
        assert_eq!(d.provider_id(), Some("r1"));
        assert_eq!(d.part_count(), 2);
        assert_eq!(d.parts[1].segments, Some(1));
        assert_eq!(d.conversation_id.as_deref(), Some("c1"));
        assert_eq!(Delivery::accepted(None).part_count(), 0);
    }

    #[test]
    fn text_only_narrows_everything() {
        let i = ChannelInfo::text_only("sms", 1600);
        assert_eq!(i.max_text_len, Some(1600));
        assert!(!i.attachments && !i.rich_cards && !i.suggested_actions && !i.typing);
    }

    #[test]
    fn capabilities_turn_on_and_off_by_name() {
        let i = ChannelInfo::text_only("sms", 160)
            .with(Capability::DeliveryReceipts)
            .with(Capability::Attachments)
            .with_max_attachment_bytes(Some(10))
            .without(Capability::Events);
        assert!(i.supports(Capability::DeliveryReceipts));
        assert!(!i.supports(Capability::ReadReceipts));
        assert!(i.supports(Capability::Attachments));
        assert_eq!(i.max_attachment_bytes, Some(10));
        assert!(!ChannelInfo::new("x").without(Capability::Typing).typing);
    }
}
