//! The Bot Framework Activity v3 schema, lossless.
//!
//! Every field of the schema is typed; every field this version does not know, and every
//! explicit `null`, is kept in [`Extensions`] and written back, so that for any valid input
//! `serde_json::to_value(&Activity::from_slice(bytes)?)` equals the input parsed as a
//! `serde_json::Value` (A2005: receivers must accept fields they do not understand).
//! Opaque blobs (`channelData`, `value`, attachment `content`, entity bodies) are kept as
//! [`RawJson`] text and cost nothing until read.
//!
//! Parsing takes a reader specialized to these structs first (`fast.rs`: no serde visitor per
//! value, the activity filled in place, long strings scanned 64 bytes at a time), about a
//! third of the time of a `serde_json::Value` parse of the same bytes (BENCHMARKS.md). It
//! declines whatever it does not handle itself, and the serde implementations parse again and
//! name the error, so both paths accept exactly the same inputs with the same values
//! (differential property tests).
//!
//! ```
//! use byoc_core::{Activity, ActivityType};
//!
//! let a = Activity::from_slice(br#"{"type":"message","text":"hi","x-mine":[1,2]}"#)?;
//! assert_eq!(a.kind, ActivityType::Message);
//! assert_eq!(a.text.as_deref(), Some("hi"));
//! assert_eq!(a.to_json()?, r#"{"type":"message","text":"hi","x-mine":[1,2]}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub(crate) mod fast;
mod helpers;
mod kinds;
pub(crate) mod macros;
mod parts;
pub(crate) mod raw;
mod timestamp;
mod write;

#[cfg(test)]
mod tests;

pub use bytestring::ByteString;
pub use error::ActivityError;
pub use kinds::{
    ActionType, ActivityType, AttachmentLayout, DeliveryMode, EndOfConversationCode, Importance,
    InputHint, MessageReactionType, RoleType, SemanticActionState, TextFormat,
};
pub use parts::{
    Attachment, CardAction, ChannelAccount, ConversationAccount, ConversationReference, Entity,
    ErrorBody, ErrorResponse, InnerHttpError, Mention, MessageReaction, ResourceResponse,
    SemanticAction, SuggestedActions, TextHighlight,
};
pub use raw::{Extensions, RawJson, from_shared};
pub use timestamp::Timestamp;
pub use write::JsonWriter;

use macros::lossless_struct;

lossless_struct! {
    /// One Bot Framework activity: a message, typing indicator, event, conversation update...
    ///
    /// Only `type` is required; every other field is optional, as the schema has it.
    pub struct Activity ("an Activity object") {
        @required
        /// `type`: what kind of activity this is.
        kind: ActivityType = "type";
        /// `id`: set by the channel; bots and clients omit it (A2031).
        id: String = "id",
        /// `timestamp`: when the channel recorded it (UTC).
        timestamp: Timestamp = "timestamp",
        /// `localTimestamp`: the sender's local time, with offset.
        local_timestamp: Timestamp = "localTimestamp",
        /// `localTimezone`: IANA time zone name.
        local_timezone: String = "localTimezone",
        /// `callerId`: an IRI naming the caller; not a wire field (A2250), kept if present.
        caller_id: String = "callerId",
        /// `serviceUrl`: where replies go.
        service_url: String = "serviceUrl",
        /// `channelId`: `directline`, `msteams`, `telesign`, ...
        channel_id: String = "channelId",
        /// `from`: the sender.
        from: ChannelAccount = "from",
        /// `conversation`: the conversation.
        conversation: ConversationAccount = "conversation",
        /// `recipient`: the receiver.
        recipient: ChannelAccount = "recipient",
        /// `textFormat`: `plain`, `markdown` or `xml`.
        text_format: TextFormat = "textFormat",
        /// `attachmentLayout`: `list` or `carousel`.
        attachment_layout: AttachmentLayout = "attachmentLayout",
        /// `membersAdded` (conversationUpdate).
        members_added: Vec<ChannelAccount> = "membersAdded",
        /// `membersRemoved` (conversationUpdate).
        members_removed: Vec<ChannelAccount> = "membersRemoved",
        /// `reactionsAdded` (messageReaction).
        reactions_added: Vec<MessageReaction> = "reactionsAdded",
        /// `reactionsRemoved` (messageReaction).
        reactions_removed: Vec<MessageReaction> = "reactionsRemoved",
        /// `topicName` (conversationUpdate).
        topic_name: String = "topicName",
        /// `historyDisclosed` (deprecated, A4110).
        history_disclosed: bool = "historyDisclosed",
        /// `locale`: BCP-47 language tag.
        locale: String = "locale",
        /// `text`.
        text: String = "text",
        /// `speak`: SSML to speak.
        speak: String = "speak",
        /// `inputHint`.
        input_hint: InputHint = "inputHint",
        /// `summary`: text to show when the channel cannot render the attachments.
        summary: String = "summary",
        /// `suggestedActions`.
        suggested_actions: SuggestedActions = "suggestedActions",
        /// `attachments`.
        attachments: Vec<Attachment> = "attachments",
        /// `entities`.
        entities: Vec<Entity> = "entities",
        /// `channelData`: channel-specific content, kept raw.
        channel_data: RawJson = "channelData",
        /// `action` (contactRelationUpdate / installationUpdate): `add` or `remove`.
        action: String = "action",
        /// `replyToId`: the activity this one answers.
        reply_to_id: String = "replyToId",
        /// `label` (trace).
        label: String = "label",
        /// `valueType` (trace).
        value_type: String = "valueType",
        /// `value`: any JSON, kept raw.
        value: RawJson = "value",
        /// `name` (event, invoke, trace, command).
        name: String = "name",
        /// `relatesTo`: the conversation this one refers to.
        relates_to: Box<ConversationReference> = "relatesTo",
        /// `code` (endOfConversation).
        code: EndOfConversationCode = "code",
        /// `expiration`: when the activity should be considered expired.
        expiration: Timestamp = "expiration",
        /// `importance`.
        importance: Importance = "importance",
        /// `deliveryMode`.
        delivery_mode: DeliveryMode = "deliveryMode",
        /// `listenFor`: phrases for speech recognition.
        listen_for: Vec<String> = "listenFor",
        /// `textHighlights`.
        text_highlights: Vec<TextHighlight> = "textHighlights",
        /// `semanticAction`.
        semantic_action: Box<SemanticAction> = "semanticAction",
    }
}

/// Reads `T` into `slot` (a default value): the fast path (`fast`), else serde (for the
/// typed error, or the rare valid input the fast path leaves to it). On error `slot` holds
/// a partial value and must be discarded.
fn fill_slice<T: fast::FastObject + serde::de::DeserializeOwned>(
    bytes: &[u8],
    slot: &mut T,
) -> Result<(), ActivityError> {
    // One UTF-8 check of the whole input up front (with std's ASCII fast path) is cheaper
    // than serde_json checking every string it borrows from a byte slice.
    if let Ok(text) = std::str::from_utf8(bytes)
        && fast::parse_into(text, None, slot).is_some()
    {
        return Ok(());
    }
    *slot = from_serde(bytes, None)?;
    Ok(())
}

/// As [`fill_slice`], keeping opaque parts as slices of the shared buffer.
fn fill_shared<T: fast::FastObject + serde::de::DeserializeOwned>(
    bytes: bytes::Bytes,
    slot: &mut T,
) -> Result<(), ActivityError> {
    *slot = match ByteString::try_from(bytes.clone()) {
        Ok(text) => {
            if fast::parse_into(&text, Some(&text), slot).is_some() {
                return Ok(());
            }
            from_serde(text.as_bytes(), Some(&text))?
        }
        Err(_) => from_serde(&bytes, None)?,
    };
    Ok(())
}

/// `T` read by `fill` into a new value.
fn parse_with<T: Default>(
    fill: impl FnOnce(&mut T) -> Result<(), ActivityError>,
) -> Result<T, ActivityError> {
    let mut out = T::default();
    fill(&mut out)?;
    Ok(out)
}

/// `T` read by `fill` into a new last element of `out`; on error `out` is unchanged.
fn push_with<T: Default>(
    out: &mut Vec<T>,
    fill: impl FnOnce(&mut T) -> Result<(), ActivityError>,
) -> Result<(), ActivityError> {
    let at = out.len();
    out.push(T::default());
    let mut result = Ok(());
    if let Some(slot) = out.get_mut(at) {
        result = fill(slot);
    }
    if result.is_err() {
        out.truncate(at);
    }
    result
}

/// The serde path, kept out of line so that the fast path stays small where it is inlined.
#[cold]
#[inline(never)]
fn from_serde<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    shared: Option<&ByteString>,
) -> Result<T, ActivityError> {
    let parsed = match (shared, std::str::from_utf8(bytes)) {
        (Some(buf), Ok(text)) => {
            let _source = raw::source::enter(buf.clone());
            serde_json::from_str(text)
        }
        (None, Ok(text)) => serde_json::from_str(text),
        (_, Err(_)) => serde_json::from_slice(bytes),
    };
    parsed.map_err(|e| ActivityError::diagnose_as::<T>(bytes, &e))
}

lossless_struct! {
    /// `{"activities": [...]}` with every other field kept: Direct Line's `ActivitySet` (its
    /// `watermark` is an extension), Bot Framework's `Transcript` and `ExpectedReplies`.
    pub struct ActivityList ("an object with `activities`") {
        /// The activities, in order.
        activities: Vec<Activity> = "activities",
    }
}

impl ActivityList {
    /// Parses a list from JSON bytes.
    ///
    /// # Errors
    /// As [`Activity::from_slice`]; fields are named from the list (`activities[2].from`).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ActivityError> {
        parse_with(|slot| fill_slice(bytes, slot))
    }

    /// Parses a list from a shared buffer, opaque parts of every activity kept as slices of
    /// it (as [`Activity::from_bytes`]).
    ///
    /// # Errors
    /// As [`ActivityList::from_slice`].
    pub fn from_bytes(bytes: bytes::Bytes) -> Result<Self, ActivityError> {
        parse_with(|slot| fill_shared(bytes, slot))
    }
}

impl Activity {
    /// An activity of type `kind` with nothing else set.
    #[must_use]
    pub fn new(kind: ActivityType) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// A `message` activity with `text`.
    #[must_use]
    pub fn message(text: impl Into<String>) -> Self {
        Self {
            kind: ActivityType::Message,
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// A `typing` activity.
    #[must_use]
    pub fn typing() -> Self {
        Self::new(ActivityType::Typing)
    }

    /// An `event` activity named `name`.
    #[must_use]
    pub fn event(name: impl Into<String>) -> Self {
        Self {
            kind: ActivityType::Event,
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// Parses an activity from JSON bytes.
    ///
    /// # Errors
    /// [`ActivityError`] naming what is wrong: syntax, not an object, missing `type`, or the
    /// field (as a dotted path) whose JSON type does not match the schema.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ActivityError> {
        parse_with(|slot| fill_slice(bytes, slot))
    }

    /// Parses an activity from a shared buffer (a webhook body): opaque blobs (`channelData`,
    /// `value`, attachment `content`, entities, unknown fields) and timestamps are kept as
    /// slices of `bytes` — no allocation and no copy for them.
    ///
    /// # Errors
    /// As [`Activity::from_slice`].
    pub fn from_bytes(bytes: bytes::Bytes) -> Result<Self, ActivityError> {
        parse_with(|slot| fill_shared(bytes, slot))
    }

    /// As [`Activity::from_bytes`], parsing straight into a new last element of `out`: an
    /// `Activity` is large (~1.4 KB), and a normalizer that collects activities saves moving
    /// each one from the parser's frame into its vector. On error `out` is unchanged.
    ///
    /// # Errors
    /// As [`Activity::from_slice`].
    pub fn push_from_bytes(bytes: bytes::Bytes, out: &mut Vec<Self>) -> Result<(), ActivityError> {
        push_with(out, |slot| fill_shared(bytes, slot))
    }

    /// As [`Activity::push_from_bytes`], from a byte slice (opaque parts copied, as
    /// [`Activity::from_slice`] does): cheaper for small bodies that carry few opaque parts.
    ///
    /// # Errors
    /// As [`Activity::from_slice`].
    pub fn push_from_slice(bytes: &[u8], out: &mut Vec<Self>) -> Result<(), ActivityError> {
        push_with(out, |slot| fill_slice(bytes, slot))
    }

    /// Parses an activity from a JSON string.
    ///
    /// # Errors
    /// As [`Activity::from_slice`].
    pub fn from_json(text: &str) -> Result<Self, ActivityError> {
        parse_with(|slot| fill_slice(text.as_bytes(), slot))
    }

    /// Serializes to compact JSON.
    ///
    /// # Errors
    /// Only if a value in [`Extensions`] was built from non-JSON (not possible through this
    /// crate's API).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Serializes to compact JSON bytes.
    ///
    /// # Errors
    /// As [`Activity::to_json`].
    pub fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// `conversation.id`, if set.
    #[must_use]
    pub fn conversation_id(&self) -> Option<&str> {
        self.conversation.as_ref()?.id.as_deref()
    }

    /// `from.id`, if set.
    #[must_use]
    pub fn from_id(&self) -> Option<&str> {
        self.from.as_ref()?.id.as_deref()
    }

    /// `recipient.id`, if set.
    #[must_use]
    pub fn recipient_id(&self) -> Option<&str> {
        self.recipient.as_ref()?.id.as_deref()
    }

    /// Whether `type` is `message`.
    #[must_use]
    pub fn is_message(&self) -> bool {
        self.kind == ActivityType::Message
    }
}
