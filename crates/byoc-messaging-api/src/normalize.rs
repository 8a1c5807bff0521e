//! Webhook bodies → canonical activities (pure, no I/O), and the Omnichannel event table.
//!
//! What changes between the wire and the canonical form:
//! - `channelId` becomes [`CHANNEL_ID`]; Omnichannel's own value (`MessagingApi` or the
//!   custom channel GUID) and `type` are kept under `channelData.omnichannel`.
//! - Anything with a non-empty `name` is an event, whatever its `type` (Omnichannel sends its
//!   state events as `message`s with an `EventName: **_X_**` text): it becomes an `event`
//!   activity with that `name`, the text dropped, and a `value` of
//!   `{"state": "Active"|..|null, "category": "agent"|.., "known": bool}` (see
//!   [`classify_event`]). Unknown names pass through the same way with `known: false`.
//! - Omnichannel sends no activity `id` (uncertain: none is documented). When the body has none, `id` is set to
//!   `mapi-` + the 32 hex digits of XXH3-128 over the exact body bytes, seeded with the
//!   XXH3-64 of the conversation id, so a retried delivery (same bytes) gets the same id and the host can
//!   drop it; `channelData.omnichannel.idSource` says `provider` or `digest`. The digest is a
//!   de-duplication key within one conversation, not a security boundary (the body is
//!   authenticated before it gets here): XXH3-128 costs ~1/10 of SHA-256 on a webhook body,
//!   and normalization runs on every message (issue #7). Until 0.1 the ids of earlier
//!   versions (SHA-256) differ, so a delivery retried across an upgrade is not recognised.
//!
//! Everything else (text, `textFormat: markdown`, attachments with `content: null`,
//! `recipient`, unknown fields) is kept as sent.

use byoc_core::activity::{ByteString, JsonWriter, from_shared};
use byoc_core::{Activity, ActivityType, RawJson};
use bytes::Bytes;
use serde::Serialize;
use xxhash_rust::xxh3::{xxh3_64, xxh3_128_with_seed};

use crate::error::NormalizeError;

/// The `channelId` of normalized activities.
pub const CHANNEL_ID: &str = "messaging-api";

/// A conversation (work item) status reason: byoc-core's state machine, which follows
/// Omnichannel's (Open, Active, Waiting, WrapUp, Closed).
pub use byoc_core::conversation::ConversationState;

/// What an Omnichannel event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventCategory {
    /// The primary representative joined, left or ended.
    Agent,
    /// A transfer to another representative or queue.
    Transfer,
    /// A consult with another representative (the customer conversation is unchanged).
    Consult,
    /// The conversation itself was closed.
    Conversation,
    /// The customer side disconnected.
    Customer,
    /// The conversation arrived outside operating hours.
    OperatingHours,
    /// A name this version does not know.
    Unknown,
}

impl EventCategory {
    /// Lower-case name, as written in the event's `value`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Transfer => "transfer",
            Self::Consult => "consult",
            Self::Conversation => "conversation",
            Self::Customer => "customer",
            Self::OperatingHours => "operatingHours",
            Self::Unknown => "unknown",
        }
    }
}

/// What [`classify_event`] knows about an event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventInfo {
    /// What the event is about.
    pub category: EventCategory,
    /// The state the conversation moves to, if the event changes it.
    pub target_state: Option<ConversationState>,
}

use ConversationState as S;
use EventCategory as C;

/// Every documented event name (both documentation revisions), its category and the state
/// it moves the conversation to.
pub(crate) const EVENTS: &[(&str, EventCategory, Option<ConversationState>)] = &[
    ("AgentAccepted", C::Agent, Some(S::Active)),
    ("AgentAssigned", C::Agent, Some(S::Active)),
    ("AgentJoinedConversation", C::Agent, Some(S::Active)),
    ("AgentJoinedCustomerConversation", C::Agent, Some(S::Active)),
    ("AgentEndSession", C::Agent, Some(S::WrapUp)),
    ("AgentEndedSession", C::Agent, Some(S::WrapUp)),
    ("PrimaryAgentEndConversation", C::Agent, Some(S::WrapUp)),
    ("AgentClosed", C::Agent, Some(S::Closed)),
    ("AgentDisconnected", C::Agent, Some(S::Open)),
    ("AgentStartSecondaryChannel", C::Agent, None),
    ("AgentRaiseSecondaryChannel", C::Agent, None),
    ("AgentEndSecondaryChannel", C::Agent, None),
    ("ConversationClose", C::Conversation, Some(S::Closed)),
    ("ConversationClosed", C::Conversation, Some(S::Closed)),
    (
        "SupervisorForceClosedConversation",
        C::Conversation,
        Some(S::Closed),
    ),
    ("CustomerDisconnected", C::Customer, Some(S::Waiting)),
    (
        "CustomerDisconnectedAgentWaiting",
        C::Customer,
        Some(S::Waiting),
    ),
    ("TransferToAgentInitiated", C::Transfer, None),
    ("TransferToAgentFailed", C::Transfer, None),
    ("TransferAgentAcceptSession", C::Transfer, Some(S::Active)),
    ("AgentTransferAcceptedSession", C::Transfer, Some(S::Active)),
    ("TransferAgentRejectSession", C::Transfer, None),
    ("TransferAgentTimedOutSession", C::Transfer, None),
    ("AgentTransferFailed", C::Transfer, None),
    ("TransferToQueueInitiated", C::Transfer, Some(S::Open)),
    ("TransferToQueueFailed", C::Transfer, None),
    ("QueueTransferFailed", C::Transfer, None),
    ("ConsultAgentInitiated", C::Consult, None),
    ("ConsultAgentFailed", C::Consult, None),
    ("ConsultAgentAcceptSession", C::Consult, None),
    ("ConsultAgentEndSession", C::Consult, None),
    ("ConsultAgentRejectSession", C::Consult, None),
    ("ConsultAgentSessionTimedOut", C::Consult, None),
    ("ConsultAgentRemoved", C::Consult, None),
    ("AgentEndedConsult", C::Consult, None),
    ("ConsultAgentLeftPublicConversation", C::Consult, None),
    (
        "OutOfOperatingHoursDueToNonWorkingHours",
        C::OperatingHours,
        None,
    ),
    ("OutOfOperatingHoursDueToHoliday", C::OperatingHours, None),
];

/// The category and state change of an event name (case-sensitive, as sent); unknown names
/// are [`EventCategory::Unknown`] with no state change.
#[must_use]
pub fn classify_event(name: &str) -> EventInfo {
    EVENTS.iter().find(|(n, _, _)| *n == name).map_or(
        EventInfo {
            category: C::Unknown,
            target_state: None,
        },
        |(_, category, target_state)| EventInfo {
            category: *category,
            target_state: *target_state,
        },
    )
}

/// The state an event moves the conversation to, if any.
#[must_use]
pub fn target_state(name: &str) -> Option<ConversationState> {
    classify_event(name).target_state
}

/// Normalizes one webhook body (an activity; a JSON array of activities is accepted too).
///
/// # Errors
/// [`NormalizeError::NotAnActivity`] naming the field at fault,
/// [`NormalizeError::MissingConversation`].
pub(crate) fn normalize(payload: &[u8]) -> Result<Vec<Activity>, NormalizeError> {
    normalize_webhook(payload, None)
}

/// As [`normalize`], also checking that each activity's `conversation.id` equals the
/// `{conversationId}` of the webhook path when given.
///
/// The body is copied once into a shared buffer, which the activities' opaque parts then
/// share (the adapter's `receive` passes its request body without that copy).
///
/// # Errors
/// As [`normalize`], and [`NormalizeError::ConversationMismatch`].
pub(crate) fn normalize_webhook(
    payload: &[u8],
    path_conversation_id: Option<&str>,
) -> Result<Vec<Activity>, NormalizeError> {
    // A small single activity (most webhook bodies) is read from the slice: copying its few
    // opaque parts costs less than copying the whole body into a shared buffer first.
    let is_array = payload.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if payload.len() <= SMALL_BODY && !is_array {
        let mut out = Vec::with_capacity(1);
        Activity::push_from_slice(payload, &mut out).map_err(not_an_activity)?;
        if let Some(a) = out.first_mut() {
            normalize_one(a, payload, path_conversation_id)?;
        }
        return Ok(out);
    }
    normalize_webhook_bytes(Bytes::copy_from_slice(payload), path_conversation_id)
}

/// Bodies up to this size are parsed from the slice by [`normalize_webhook`].
const SMALL_BODY: usize = 2048;

fn not_an_activity(e: byoc_core::ActivityError) -> NormalizeError {
    NormalizeError::NotAnActivity {
        field: e.field().map(str::to_owned),
        message: e.to_string(),
    }
}

/// As [`normalize_webhook`], over a shared buffer (a request body): opaque parts
/// (`channelData`, `value`, attachment contents, unknown fields) are slices of `body`.
///
/// # Errors
/// As [`normalize_webhook`].
pub(crate) fn normalize_webhook_bytes(
    body: Bytes,
    path_conversation_id: Option<&str>,
) -> Result<Vec<Activity>, NormalizeError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let items: Vec<RawJson> =
            from_shared(&body).map_err(|e| NormalizeError::NotAnActivity {
                field: None,
                message: format!(
                    "not a JSON array at line {} column {}",
                    e.line(),
                    e.column()
                ),
            })?;
        let mut out = Vec::with_capacity(items.len());
        for raw in &items {
            let item = share(&body, raw.get());
            let mut one = parse_one(&item)?;
            if let Some(a) = one.first_mut() {
                normalize_one(a, &item, path_conversation_id)?;
            }
            out.append(&mut one);
        }
        Ok(out)
    } else {
        let mut out = parse_one(&body)?;
        if let Some(a) = out.first_mut() {
            normalize_one(a, &body, path_conversation_id)?;
        }
        Ok(out)
    }
}

/// Parses one activity (opaque parts as slices of `bytes`) into a vector of one.
fn parse_one(bytes: &Bytes) -> Result<Vec<Activity>, NormalizeError> {
    let mut out = Vec::with_capacity(1);
    Activity::push_from_bytes(bytes.clone(), &mut out).map_err(not_an_activity)?;
    Ok(out)
}

/// `part` as a slice of `body` when it lies inside it (always, for the items of an array
/// read by `from_shared` from UTF-8 text), else a copy.
fn share(body: &Bytes, part: &str) -> Bytes {
    let start = body.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    if p >= start && p + part.len() <= start + body.len() {
        body.slice_ref(part.as_bytes())
    } else {
        Bytes::copy_from_slice(part.as_bytes())
    }
}

/// Normalizes one parsed activity in place (`bytes` is its text, for the id digest).
fn normalize_one(
    a: &mut Activity,
    bytes: &[u8],
    path_conversation_id: Option<&str>,
) -> Result<(), NormalizeError> {
    let conversation_id = a
        .conversation_id()
        .filter(|c| !c.is_empty())
        .ok_or(NormalizeError::MissingConversation)?;
    if let Some(p) = path_conversation_id
        && p != conversation_id
    {
        return Err(NormalizeError::ConversationMismatch);
    }
    let digest =
        a.id.as_deref()
            .is_none_or(str::is_empty)
            .then(|| digest_id(conversation_id, bytes));

    // The type as sent (the activity's may become `event` below).
    let kind = a.kind.clone();
    let mut meta = Omnichannel {
        channel_id: a.channel_id.take(),
        id_source: "provider",
        text: None,
        kind: kind.as_str(),
    };
    if let Some(id) = digest {
        a.id = Some(id);
        meta.id_source = "digest";
    }

    let event_name = a.name.as_deref().filter(|n| !n.is_empty());
    if let Some(name) = event_name
        && matches!(a.kind, ActivityType::Message | ActivityType::Event)
    {
        let info = classify_event(name);
        if a.kind == ActivityType::Message {
            // "EventName: **_X_**" is a rendering of the name, not content.
            meta.text = a.text.take();
            a.text_format = None;
        }
        a.kind = ActivityType::Event;
        if a.value.is_none() {
            a.value = event_value(info);
        }
    }

    a.channel_id = Some(CHANNEL_ID.to_owned());
    a.channel_data = merge_channel_data(a.channel_data.take(), &meta);
    Ok(())
}

/// `channelData.omnichannel`. Fields in the order a `serde_json::Map` writes them (sorted).
#[derive(Serialize)]
struct Omnichannel<'a> {
    #[serde(rename = "channelId", skip_serializing_if = "Option::is_none")]
    channel_id: Option<String>,
    #[serde(rename = "idSource")]
    id_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(rename = "type")]
    kind: &'a str,
}

impl Omnichannel<'_> {
    /// `{"omnichannel":{..}}` written directly, keys sorted as `serde_json` writes the map.
    fn write_only(&self) -> RawJson {
        let mut w = JsonWriter::with_capacity(96 + self.text.as_ref().map_or(0, String::len));
        w.begin("omnichannel")
            .opt_str("channelId", self.channel_id.as_deref())
            .str("idSource", self.id_source)
            .opt_str("text", self.text.as_deref())
            .str("type", self.kind);
        w.finish()
    }
}

/// The `value` of an Omnichannel event. Fields in sorted order, as a `serde_json::Map`.
#[derive(Serialize)]
struct EventValue {
    category: &'static str,
    known: bool,
    state: Option<&'static str>,
}

/// The `value` of an event: static text for every category and state pair of [`EVENTS`]
/// (no allocation), serialized for any other.
fn event_value(info: EventInfo) -> Option<RawJson> {
    macro_rules! text {
        ($category:literal, $known:literal) => {
            concat!(
                "{\"category\":\"",
                $category,
                "\",\"known\":",
                $known,
                ",\"state\":null}"
            )
        };
        ($category:literal, $known:literal, $state:literal) => {
            concat!(
                "{\"category\":\"",
                $category,
                "\",\"known\":",
                $known,
                ",\"state\":\"",
                $state,
                "\"}"
            )
        };
    }
    let text = match (info.category, info.target_state) {
        (C::Agent, None) => text!("agent", true),
        (C::Agent, Some(S::Active)) => text!("agent", true, "Active"),
        (C::Agent, Some(S::WrapUp)) => text!("agent", true, "WrapUp"),
        (C::Agent, Some(S::Closed)) => text!("agent", true, "Closed"),
        (C::Agent, Some(S::Open)) => text!("agent", true, "Open"),
        (C::Conversation, Some(S::Closed)) => text!("conversation", true, "Closed"),
        (C::Customer, Some(S::Waiting)) => text!("customer", true, "Waiting"),
        (C::Transfer, None) => text!("transfer", true),
        (C::Transfer, Some(S::Active)) => text!("transfer", true, "Active"),
        (C::Transfer, Some(S::Open)) => text!("transfer", true, "Open"),
        (C::Consult, None) => text!("consult", true),
        (C::OperatingHours, None) => text!("operatingHours", true),
        (C::Unknown, None) => text!("unknown", false),
        _ => return serialized_event_value(info),
    };
    Some(RawJson::from_trusted_text(ByteString::from_static(text)))
}

fn serialized_event_value(info: EventInfo) -> Option<RawJson> {
    RawJson::from_serialize(&EventValue {
        category: info.category.as_str(),
        known: info.category != C::Unknown,
        state: info.target_state.map(ConversationState::as_str),
    })
    .ok()
}

/// The id given to a webhook activity that has none: stable across retried deliveries of
/// the same bytes.
#[must_use]
pub(crate) fn digest_id(conversation_id: &str, body: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // One-shot over the body, seeded by the conversation id (streaming costs more on
    // bodies this small).
    let d = xxh3_128_with_seed(body, xxh3_64(conversation_id.as_bytes())).to_be_bytes();
    let mut s = String::with_capacity(37);
    s.push_str("mapi-");
    for b in d {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

fn merge_channel_data(existing: Option<RawJson>, meta: &Omnichannel<'_>) -> Option<RawJson> {
    let mut obj = match existing {
        Some(raw) if raw.is_object() => raw
            .parse::<serde_json::Map<String, serde_json::Value>>()
            .unwrap_or_default(),
        Some(raw) if !raw.is_null() => {
            let mut m = serde_json::Map::new();
            if let Ok(v) = raw.to_value() {
                m.insert("value".into(), v);
            }
            m
        }
        // No channelData of its own: written directly, without building a map.
        _ => return Some(meta.write_only()),
    };
    obj.insert(
        "omnichannel".into(),
        serde_json::to_value(meta).unwrap_or_default(),
    );
    RawJson::from_serialize(&obj).ok()
}

#[cfg(test)]
mod tests;
