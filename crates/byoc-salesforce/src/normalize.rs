//! Platform event → activities (pure).
//!
//! The payload field of the channel's platform event holds a JSON string: an Interaction
//! event (a conversation entry, wrapped in `payload` or flat) or a RoutingRequested event.
//! Every entry type becomes the closest activity, with its content; none is dropped
//! (`docs/protocols/salesforce.md#events` has the wire shapes):
//!
//! | entry | activity |
//! |---|---|
//! | `Message` | `message`: `text`, attachments (`contentType` = `mimeType`, `contentUrl` = `url`); choices as `suggestedActions` (`imBack`); other message types whole in `value` |
//! | `MessageUpdated` | `messageUpdate` for the updated message (`id` = its id): `text`, attachments, each with its upload result ([`AttachmentUploadResult`]) |
//! | `Note` | `trace` `salesforce.note` (a private note between reps, never for the end user) |
//! | `FlagRaise` / `FlagLower` | `event` `salesforce.flagRaise` (with the message's `text`) / `salesforce.flagLower` |
//! | `TypingStartedIndicator` | `typing` |
//! | `TypingStoppedIndicator` | `event` `salesforce.typingStopped` |
//! | `ProgressIndicator` | `typing` with `text` = the progress message |
//! | `ParticipantChanged`, `ParticipantsConferenced` | `conversationUpdate` with `membersAdded` / `membersRemoved` |
//! | `SessionStatusChanged` `Ended` | `endOfConversation` (`completedSuccessfully`) |
//! | `SessionStatusChanged` other | `event` `salesforce.sessionStatusChanged` |
//! | `EndUserConsentUpdated` | `contactRelationUpdate`, `action` `add` (opt in) or `remove` (opt out) |
//! | `DeliveryAcknowledgement` / `ReadAcknowledgement` | `event` `salesforce.deliveryAcknowledgement` / `salesforce.readAcknowledgement`, `replyToId` = the entry acknowledged |
//! | `MessageDeliveryFailed` | `event` `salesforce.messageDeliveryFailed`, `replyToId` = the entry that failed |
//! | `QueuePosition`, `RoutingResult`, `RoutingWorkResult`, `TransferProgress`, `ConsultConversationInfo`, any later type `X` | `event` `salesforce.x` (first letter lowered) |
//! | RoutingRequested | `event` `salesforce.routingRequested`, `value` = [`RoutingRequested`] |
//!
//! Every activity carries `channelId` `salesforce`, `id` = the entry `identifier` (for
//! acknowledgements), `conversation.id` = `conversationIdentifier` (the end user's client id
//! in the flat form, which has none), `from` = the sender (`name` = `senderDisplayName`,
//! `role` `bot` for chatbots, `user` for end users, else the role lowered), `recipient` =
//! the end user, `timestamp` = `transcriptedTimestamp`, the entry payload whole in `value`
//! where the activity type has no field for it, and `channelData` =
//! `{channelAddressIdentifier, conversationIdentifier, entryIdentifier?, entryType,
//! messageReason?, sender}` (`entryIdentifier` when `id` is not the entry's).

mod entries;
mod filter;
mod record;
mod upload;
mod wire;

use std::borrow::Cow;

use byoc_core::activity::JsonWriter;
use byoc_core::{Activity, ActivityType, ConversationAccount};
use serde::{Deserialize, Serialize};

pub use filter::{EventFilter, FilterError};
pub use upload::{AttachmentUploadResult, UPLOAD_RESULT_FIELD, UploadErrorType};

use crate::config::ChannelDefinition;
use crate::error::NormalizeError;
use entries::{account, entry_activity, finish_entry, message_reason, parse, routing_activity};
use record::TopLevel;
pub(crate) use record::value_string as record_field_string;
use wire::{Entry, EventParticipant, TypedEntry, TypedMessagePayload};

/// The channel id of every activity of this crate.
pub const CHANNEL_ID: &str = "salesforce";

/// Largest payload accepted, in bytes (the platform event field limit is far below).
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// Event name of a routing request (CCaaS partner routing).
pub const EVENT_ROUTING_REQUESTED: &str = "salesforce.routingRequested";
/// Event name of a delivery receipt of an entry sent to the end user.
pub const EVENT_DELIVERY_ACKNOWLEDGEMENT: &str = "salesforce.deliveryAcknowledgement";
/// Event name of a read receipt of an entry sent to the end user.
pub const EVENT_READ_ACKNOWLEDGEMENT: &str = "salesforce.readAcknowledgement";
/// Event name of the end user's place in the queue.
pub const EVENT_QUEUE_POSITION: &str = "salesforce.queuePosition";
/// Event name of a session status other than `Ended`.
pub const EVENT_SESSION_STATUS_CHANGED: &str = "salesforce.sessionStatusChanged";

/// One outbound event, parsed: where it goes and what it says.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NormalizedEvent {
    /// `channelAddressIdentifier`.
    pub channel_address: Option<String>,
    /// `recipient.subject`: the end user client id.
    pub recipient: Option<String>,
    /// `conversationIdentifier`.
    pub conversation_id: Option<String>,
    /// The entry's `identifier` (for acknowledgements).
    pub entry_identifier: Option<String>,
    /// The activities (one per event).
    pub activities: Vec<Activity>,
}

/// A RoutingRequested event's routing parameters, for the transfer sequence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoutingRequested {
    /// The conversation.
    pub conversation_identifier: Option<String>,
    /// `Transfer`, `Conference`, `Initial`.
    pub routing_type: Option<String>,
    /// `channelData.eventId`: the routing correlation id for `POST /agentWork`.
    pub routing_correlation_id: Option<String>,
    /// The Omni flow to route through.
    pub flow_id: Option<String>,
    /// The queue.
    pub queue_id: Option<String>,
    /// The rep to route to.
    pub user_id: Option<String>,
    /// Whether this is a transfer.
    pub is_transfer: Option<bool>,
    /// The work record.
    pub work_record_id: Option<String>,
}

/// Normalizes the payload JSON of one platform event (the decoded contents of the payload
/// field). `event_type` is the event-type field's value (`Interaction`,
/// `RoutingRequested`), when known.
///
/// # Errors
/// [`NormalizeError`] naming the field at fault.
pub fn normalize_payload(
    payload: &str,
    event_type: Option<&str>,
) -> Result<NormalizedEvent, NormalizeError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(NormalizeError::too_large());
    }
    // One pass for the envelope and the wrapped entry; errors are named by the general path.
    if let Ok(env) = serde_json::from_str::<Entry<'_, Entry<'_>>>(payload) {
        return normalize_typed(&env, event_type);
    }
    let env: Entry<'_> = parse("$", payload)?;
    normalize_envelope(&env, event_type)
}

/// As [`normalize_envelope`], the wrapped entry (if any) already read.
fn normalize_typed(
    env: &Entry<'_, Entry<'_>>,
    event_type: Option<&str>,
) -> Result<NormalizedEvent, NormalizeError> {
    match &env.payload {
        Some(entry) => normalize_entry(env, entry, event_type),
        None => normalize_entry(env, env, event_type),
    }
}

/// As [`normalize_payload`], the top level already parsed.
fn normalize_envelope(
    env: &Entry<'_>,
    event_type: Option<&str>,
) -> Result<NormalizedEvent, NormalizeError> {
    // Wrapped form: the entry is in `payload`; flat form: at the top level.
    let wrapped: Option<Entry<'_>> = match env.payload {
        Some(p) => Some(parse("payload", p.get())?),
        None => None,
    };
    match &wrapped {
        Some(entry) => normalize_entry(env, entry, event_type),
        None => normalize_entry(env, env, event_type),
    }
}

/// The event of envelope `env` carrying `entry` (`env` itself in the flat form).
fn normalize_entry<P, Q>(
    env: &Entry<'_, P>,
    entry: &Entry<'_, Q>,
    event_type: Option<&str>,
) -> Result<NormalizedEvent, NormalizeError> {
    let conversation_id = env
        .conversation_identifier
        .as_deref()
        .or(entry.conversation_identifier.as_deref())
        .map(str::to_owned);
    // A RoutingRequested payload has no entry type; an entry is never a routing request,
    // whatever event type a record pairs it with.
    let is_routing = entry.entry_type.is_none()
        && (event_type == Some("RoutingRequested") || entry.routing_parameters.is_some());
    let (a, reason) = if is_routing {
        (
            routing_activity(entry, conversation_id.as_deref())?,
            message_reason(entry),
        )
    } else {
        entry_activity(entry)?
    };
    Ok(finish_event(
        env,
        entry,
        a,
        reason,
        conversation_id,
        is_routing,
    ))
}

/// What every event's activity carries: channel, conversation, recipient, timestamp and
/// `channelData`.
fn finish_event<P, Q, E, F>(
    env: &Entry<'_, P, E>,
    entry: &Entry<'_, Q, F>,
    mut a: Activity,
    reason: Option<String>,
    conversation_id: Option<String>,
    is_routing: bool,
) -> NormalizedEvent {
    let no_recipient = EventParticipant::default();
    let recipient = env.recipient.as_ref().unwrap_or(&no_recipient);
    a.channel_id = Some(CHANNEL_ID.to_owned());
    let conv = conversation_id
        .as_deref()
        .or(recipient.subject.as_deref())
        .unwrap_or_default();
    a.conversation = Some(ConversationAccount::new(conv));
    a.recipient = Some(account(recipient, None));
    if a.timestamp.is_none() {
        let ms = entry.transcripted_timestamp.or(entry.client_timestamp);
        a.timestamp = ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(byoc_core::Timestamp::from_utc);
    }
    let entry_type = if is_routing {
        "RoutingRequested"
    } else {
        entry.entry_type.as_deref().unwrap_or_default()
    };
    // The entry's own id, when the activity's id is another (a messageUpdate's).
    let entry_identifier = entry
        .identifier
        .as_deref()
        .filter(|id| !is_routing && a.id.as_deref() != Some(*id));
    // Keys in the sorted order a `serde_json::Map` writes them.
    let mut cd = JsonWriter::with_capacity(256);
    cd.opt_str(
        "channelAddressIdentifier",
        env.channel_address_identifier.as_deref(),
    )
    .opt_str("conversationIdentifier", conversation_id.as_deref())
    .opt_str("entryIdentifier", entry_identifier)
    .str("entryType", entry_type)
    .opt_str("messageReason", reason.as_deref());
    if let Some(s) = &entry.sender {
        cd.begin("sender")
            .opt_str("appType", s.app_type.as_deref())
            .opt_str("role", s.role.as_deref())
            .opt_str("subject", s.subject.as_deref())
            .end();
    }
    a.channel_data = Some(cd.finish());
    NormalizedEvent {
        channel_address: env.channel_address_identifier.as_deref().map(str::to_owned),
        recipient: recipient.subject.as_deref().map(str::to_owned),
        conversation_id,
        entry_identifier: entry.identifier.as_deref().map(str::to_owned),
        activities: vec![a],
    }
}

/// A `Message` entry whose payload was read typed in the first pass: the event, when it is
/// a static message (the usual case); `None` sends the input down the general path.
fn static_message_event<P>(
    env: &Entry<'_, P, TypedMessagePayload<'_>>,
    entry: &TypedEntry<'_>,
) -> Option<NormalizedEvent> {
    if entry.entry_type.as_deref() != Some("Message") || entry.routing_parameters.is_some() {
        return None;
    }
    let payload = entry.entry_payload.as_ref()?;
    let msg = payload.abstract_message.as_ref()?;
    if msg.message_type.as_deref() != Some("StaticContentMessage") {
        return None;
    }
    let mut a = Activity::new(ActivityType::Message);
    if let Some(sc) = &msg.static_content {
        entries::set_static_content(&mut a, sc);
    }
    finish_entry(&mut a, entry);
    let conversation_id = env
        .conversation_identifier
        .as_deref()
        .or(entry.conversation_identifier.as_deref())
        .map(str::to_owned);
    Some(finish_event(
        env,
        entry,
        a,
        payload.message_reason.clone(),
        conversation_id,
        false,
    ))
}

/// Normalizes a whole decoded event record (`{CreatedDate, CreatedById, <EventType field>,
/// <Payload field>}`): the fields as Avro decoding gives them, or in Avro's JSON encoding
/// (`{"string": "..."}` unions); the payload field a JSON string or an object.
///
/// # Errors
/// [`NormalizeError::MissingPayloadField`] when `payload_field` is absent or holds no
/// payload; otherwise as [`normalize_payload`].
pub fn normalize_record(
    record: &serde_json::Map<String, serde_json::Value>,
    event_type_field: &str,
    payload_field: &str,
) -> Result<NormalizedEvent, NormalizeError> {
    let payload = record
        .get(payload_field)
        .and_then(|v| record::value_string(v, true))
        .ok_or_else(|| NormalizeError::MissingPayloadField(payload_field.to_owned()))?;
    let event_type = record
        .get(event_type_field)
        .and_then(|v| record::value_string(v, false));
    normalize_payload_text(&payload, event_type.as_deref())
}

/// Normalizes the bytes of one event in any form: its payload JSON (wrapped or flat), or a
/// whole record (see [`record`]); `channel` names the record's fields when known.
pub(crate) fn normalize_event(
    bytes: &[u8],
    channel: Option<&ChannelDefinition>,
) -> Result<NormalizedEvent, NormalizeError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(NormalizeError::too_large());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| NormalizeError::InvalidJson {
        field: "$".into(),
        reason: "not UTF-8".into(),
    })?;
    if let Some(event) = static_message_fast(text) {
        return Ok(event);
    }
    if let Ok(env) = serde_json::from_str::<Entry<'_, Entry<'_>>>(text)
        && (env.channel_address_identifier.is_some()
            || env.payload.is_some()
            || env.entry_type.is_some()
            || env.recipient.is_some())
    {
        return normalize_typed(&env, None);
    }
    // One borrowed pass decides the form: no `Map` of `Value`s is built.
    let top: TopLevel<'_> = parse("$", text)?;
    if top.is_payload {
        return normalize_payload(text, None);
    }
    let (payload, event_type): (Cow<'_, str>, _) =
        record::record_payload(&top.custom_fields, channel)?;
    normalize_payload_text(&payload, event_type.as_deref())
}

/// Fast path: a wrapped static message (the usual event) read in one pass, its entry and
/// message typed. `None` for any other input, or an error to name: the general path takes
/// those.
fn static_message_fast(text: &str) -> Option<NormalizedEvent> {
    let env =
        serde_json::from_str::<Entry<'_, TypedEntry<'_>, TypedMessagePayload<'_>>>(text).ok()?;
    static_message_event(&env, env.payload.as_ref()?)
}

/// As [`normalize_payload`], trying the fast path first.
fn normalize_payload_text(
    payload: &str,
    event_type: Option<&str>,
) -> Result<NormalizedEvent, NormalizeError> {
    if payload.len() <= MAX_PAYLOAD_BYTES
        && let Some(event) = static_message_fast(payload)
    {
        return Ok(event);
    }
    normalize_payload(payload, event_type)
}

/// The activities of one event's bytes (see [`normalize_event`]): the crate's pure
/// normalizer.
///
/// # Errors
/// [`NormalizeError`] naming the field at fault.
pub(crate) fn normalize_bytes(bytes: &[u8]) -> Result<Vec<Activity>, NormalizeError> {
    Ok(normalize_event(bytes, None)?.activities)
}

#[cfg(test)]
mod tests;
