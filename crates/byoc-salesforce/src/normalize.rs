//! Platform event → activities (pure).
//!
//! The payload field of the channel's platform event holds a JSON string: an Interaction
//! event (a conversation entry, wrapped in `payload` or flat) or a RoutingRequested event.
//! Every entry type becomes an activity; none is dropped:
//!
//! | entry | activity |
//! |---|---|
//! | `Message` | `message`: `text`, attachments (`contentType` = `mimeType`, `contentUrl` = `url`) |
//! | `TypingStartedIndicator` | `typing` |
//! | `TypingStoppedIndicator` | `event` `salesforce.typingStopped` |
//! | `ParticipantChanged` | `conversationUpdate` with `membersAdded` / `membersRemoved` |
//! | `SessionStatusChanged` `Ended` | `endOfConversation` (`completedSuccessfully`) |
//! | `SessionStatusChanged` other | `event` `salesforce.sessionStatusChanged` |
//! | `QueuePosition` | `event` `salesforce.queuePosition` |
//! | `ProgressIndicator` | `event` `salesforce.progressIndicator`, `text` = the progress message |
//! | RoutingRequested | `event` `salesforce.routingRequested`, `value` = [`RoutingRequested`] |
//! | any other entry type `X` | `event` `salesforce.x` (first letter lowered) |
//!
//! Every activity carries `channelId` `salesforce`, `id` = the entry `identifier`,
//! `conversation.id` = `conversationIdentifier` (the end user's client id in the flat form,
//! which has none), `from` = the sender (`name` = `senderDisplayName`, `role` `bot` for
//! chatbots, `agent`, `system`), `recipient` = the end user, `timestamp` =
//! `transcriptedTimestamp`, `value` = the raw entry payload for non-message entries, and
//! `channelData` = `{channelAddressIdentifier, conversationIdentifier, entryType, sender,
//! messageReason?}`.

use byoc_core::activity::{EndOfConversationCode, JsonWriter, RoleType};
use byoc_core::{Activity, ActivityType, Attachment, ChannelAccount, ConversationAccount, RawJson};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

use crate::error::NormalizeError;

/// The channel id of every activity of this crate.
pub const CHANNEL_ID: &str = "salesforce";

/// Largest payload accepted, in bytes (the platform event field limit is far below).
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// Event name of a routing request (CCaaS partner routing).
pub const EVENT_ROUTING_REQUESTED: &str = "salesforce.routingRequested";

/// A sender or recipient as outbound events carry it; every field optional. Read from a
/// payload, its strings borrow from it where they have no escapes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventParticipant<'a> {
    /// `custom`, `agent`, `chatbot`, `conversation`.
    #[serde(skip_serializing_if = "Option::is_none", borrow)]
    pub app_type: Option<Cow<'a, str>>,
    /// The key.
    #[serde(skip_serializing_if = "Option::is_none", borrow)]
    pub subject: Option<Cow<'a, str>>,
    /// `EndUser`, `Agent`, `Chatbot`, `System`.
    #[serde(skip_serializing_if = "Option::is_none", borrow)]
    pub role: Option<Cow<'a, str>>,
}

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

/// A conversation entry, or the envelope around one. `P` is how the envelope's `payload`
/// is read: kept raw (the general path), or as the wrapped entry itself (one pass).
#[derive(Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "P: Deserialize<'de>, E: Deserialize<'de>")
)]
struct Entry<'a, P = &'a RawValue, E = &'a RawValue> {
    // Strings borrow from the payload where they have no escapes: the activity takes the
    // few it needs as its own.
    #[serde(borrow)]
    channel_address_identifier: Option<Cow<'a, str>>,
    #[serde(borrow)]
    recipient: Option<EventParticipant<'a>>,
    payload: Option<P>,
    #[serde(borrow)]
    sender_display_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    identifier: Option<Cow<'a, str>>,
    #[serde(borrow)]
    entry_type: Option<Cow<'a, str>>,
    entry_payload: Option<E>,
    #[serde(borrow)]
    sender: Option<EventParticipant<'a>>,
    transcripted_timestamp: Option<i64>,
    client_timestamp: Option<i64>,
    // RoutingRequested
    #[serde(borrow)]
    routing_parameters: Option<&'a RawValue>,
    #[serde(borrow)]
    conversation_identifier: Option<Cow<'a, str>>,
    #[serde(borrow)]
    routing_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    work_record_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessagePayload<'a> {
    #[serde(borrow)]
    abstract_message: Option<&'a RawValue>,
    message_reason: Option<String>,
}

/// A wrapped entry whose payload is read as a message in the same pass.
type TypedEntry<'a> = Entry<'a, &'a RawValue, TypedMessagePayload<'a>>;

/// A `Message` entry payload with its abstract message read in the same pass.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypedMessagePayload<'a> {
    #[serde(borrow)]
    abstract_message: Option<AbstractMessage<'a>>,
    message_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AbstractMessage<'a> {
    #[serde(borrow)]
    message_type: Option<Cow<'a, str>>,
    static_content: Option<StaticContent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StaticContent {
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<OutAttachment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutAttachment {
    name: Option<String>,
    mime_type: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct ParticipantChanged<'a> {
    #[serde(default, borrow)]
    entries: Vec<ParticipantEntry<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParticipantEntry<'a> {
    #[serde(borrow)]
    operation: Option<Cow<'a, str>>,
    #[serde(borrow)]
    participant: Option<EventParticipant<'a>>,
    #[serde(borrow)]
    display_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionStatus {
    session_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    progress_indicator: Option<ProgressIndicator>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProgressIndicator {
    progress_message: Option<ProgressMessage>,
}

#[derive(Deserialize)]
struct ProgressMessage {
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoutingParameters {
    queue_id: Option<String>,
    channel_data: Option<String>,
    is_transfer: Option<bool>,
    user_id: Option<String>,
    flow_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoutingChannelData {
    event_id: Option<String>,
}

fn parse<'a, T: Deserialize<'a>>(field: &str, text: &'a str) -> Result<T, NormalizeError> {
    serde_json::from_str(text).map_err(|e| NormalizeError::json(field, &e))
}

fn account(p: &EventParticipant<'_>, name: Option<&str>) -> ChannelAccount {
    let mut a = ChannelAccount::new(p.subject.as_deref().unwrap_or_default());
    if let Some(n) = name {
        a = a.with_name(n);
    }
    let role = match p.role.as_deref() {
        Some("Chatbot") => Some(RoleType::Bot),
        Some("EndUser") => Some(RoleType::User),
        Some(other) => Some(RoleType::from(other.to_ascii_lowercase())),
        None => None,
    };
    a.role = role;
    a
}

fn event_name(entry_type: &str) -> String {
    let mut chars = entry_type.chars();
    match chars.next() {
        Some(c) => format!("salesforce.{}{}", c.to_ascii_lowercase(), chars.as_str()),
        None => "salesforce.unknown".to_owned(),
    }
}

fn raw(v: &RawValue) -> Option<RawJson> {
    RawJson::from_json_text(v.get().to_owned()).ok()
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
        return Err(NormalizeError::InvalidJson {
            field: "$".into(),
            reason: "payload larger than 1 MiB".into(),
        });
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
    let is_routing = event_type == Some("RoutingRequested")
        || (entry.entry_type.is_none() && entry.routing_parameters.is_some());

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
    // Keys in the sorted order a `serde_json::Map` writes them.
    let mut cd = JsonWriter::with_capacity(256);
    cd.opt_str(
        "channelAddressIdentifier",
        env.channel_address_identifier.as_deref(),
    )
    .opt_str("conversationIdentifier", conversation_id.as_deref())
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
    entry: &Entry<'_, &RawValue, TypedMessagePayload<'_>>,
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
        set_static_content(&mut a, sc);
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

fn message_reason<P>(entry: &Entry<'_, P>) -> Option<String> {
    if entry.entry_type.as_deref() != Some("Message") {
        return None;
    }
    let p = entry.entry_payload?;
    serde_json::from_str::<MessagePayload<'_>>(p.get())
        .ok()?
        .message_reason
}

/// The activity of a conversation entry, and the `messageReason` of a `Message` entry.
fn entry_activity<P>(entry: &Entry<'_, P>) -> Result<(Activity, Option<String>), NormalizeError> {
    let entry_type = entry
        .entry_type
        .as_deref()
        .ok_or(NormalizeError::MissingField("payload.entryType"))?;
    let payload = entry.entry_payload;
    let mut reason = None;
    let mut a = match entry_type {
        "Message" => {
            let p = payload.ok_or(NormalizeError::MissingField("payload.entryPayload"))?;
            // Fast path: a static message read in one pass. Anything else (no abstract
            // message, another message type kept raw, an error to name) the general way.
            if let Ok(TypedMessagePayload {
                abstract_message: Some(msg),
                message_reason,
            }) = serde_json::from_str(p.get())
                && msg.message_type.as_deref() == Some("StaticContentMessage")
            {
                reason = message_reason;
                let mut a = Activity::new(ActivityType::Message);
                if let Some(sc) = &msg.static_content {
                    set_static_content(&mut a, sc);
                }
                finish_entry(&mut a, entry);
                return Ok((a, reason));
            }
            let m: MessagePayload<'_> = parse("payload.entryPayload", p.get())?;
            reason.clone_from(&m.message_reason);
            let am = m.abstract_message.ok_or(NormalizeError::MissingField(
                "payload.entryPayload.abstractMessage",
            ))?;
            let msg: AbstractMessage = parse("payload.entryPayload.abstractMessage", am.get())?;
            let mut a = Activity::new(ActivityType::Message);
            if let Some(sc) = &msg.static_content {
                set_static_content(&mut a, sc);
            }
            if msg.message_type.as_deref() != Some("StaticContentMessage") {
                // Choices, forms, rich links: kept whole for the host to render.
                a.value = raw(am);
            }
            a
        }
        "TypingStartedIndicator" => Activity::typing(),
        "TypingStoppedIndicator" => Activity::event(crate::render::EVENT_TYPING_STOPPED),
        "ParticipantChanged" => {
            let p = payload.ok_or(NormalizeError::MissingField("payload.entryPayload"))?;
            let pc: ParticipantChanged = parse("payload.entryPayload", p.get())?;
            let mut a = Activity::new(ActivityType::ConversationUpdate);
            let (mut added, mut removed) = (Vec::new(), Vec::new());
            for e in pc.entries {
                let acc = account(
                    &e.participant.unwrap_or_default(),
                    e.display_name.as_deref(),
                );
                match e.operation.as_deref() {
                    Some(op) if op.eq_ignore_ascii_case("add") => added.push(acc),
                    Some(op) if op.eq_ignore_ascii_case("remove") => removed.push(acc),
                    _ => {}
                }
            }
            a.members_added = (!added.is_empty()).then_some(added);
            a.members_removed = (!removed.is_empty()).then_some(removed);
            a.value = raw(p);
            a
        }
        "SessionStatusChanged" => {
            let p = payload.ok_or(NormalizeError::MissingField("payload.entryPayload"))?;
            let s: SessionStatus = parse("payload.entryPayload", p.get())?;
            let mut a = if s.session_status.as_deref() == Some("Ended") {
                let mut a = Activity::new(ActivityType::EndOfConversation);
                a.code = Some(EndOfConversationCode::CompletedSuccessfully);
                a
            } else {
                Activity::event(event_name(entry_type))
            };
            a.value = raw(p);
            a
        }
        "ProgressIndicator" => {
            let mut a = Activity::event(event_name(entry_type));
            if let Some(p) = payload {
                let pr: Progress = parse("payload.entryPayload", p.get())?;
                a.text = pr
                    .progress_indicator
                    .and_then(|i| i.progress_message)
                    .and_then(|m| m.text);
                a.value = raw(p);
            }
            a
        }
        other => {
            let mut a = Activity::event(event_name(other));
            a.value = payload.and_then(raw);
            a
        }
    };
    finish_entry(&mut a, entry);
    Ok((a, reason))
}

fn set_static_content(a: &mut Activity, sc: &StaticContent) {
    a.text.clone_from(&sc.text);
    let atts: Vec<Attachment> = sc
        .attachments
        .iter()
        .map(|att| Attachment {
            content_type: att.mime_type.clone(),
            content_url: att.url.clone(),
            name: att.name.clone(),
            ..Attachment::default()
        })
        .collect();
    if !atts.is_empty() {
        a.attachments = Some(atts);
    }
}

/// `id` and `from` of an entry's activity.
fn finish_entry<P, E>(a: &mut Activity, entry: &Entry<'_, P, E>) {
    a.id = entry.identifier.as_deref().map(str::to_owned);
    if let Some(s) = &entry.sender {
        a.from = Some(account(s, entry.sender_display_name.as_deref()));
    }
}

fn routing_activity<P>(
    entry: &Entry<'_, P>,
    conversation_id: Option<&str>,
) -> Result<Activity, NormalizeError> {
    let rp = entry
        .routing_parameters
        .ok_or(NormalizeError::MissingField("payload.routingParameters"))?;
    let params: RoutingParameters = parse("payload.routingParameters", rp.get())?;
    let correlation = match params.channel_data.as_deref() {
        Some(cd) => {
            parse::<RoutingChannelData>("payload.routingParameters.channelData", cd)?.event_id
        }
        None => None,
    };
    let req = RoutingRequested {
        conversation_identifier: conversation_id.map(str::to_owned),
        routing_type: entry.routing_type.as_deref().map(str::to_owned),
        routing_correlation_id: correlation.clone(),
        flow_id: params.flow_id,
        queue_id: params.queue_id,
        user_id: params.user_id,
        is_transfer: params.is_transfer,
        work_record_id: entry.work_record_id.as_deref().map(str::to_owned),
    };
    let mut a = Activity::event(EVENT_ROUTING_REQUESTED);
    a.id = correlation;
    a.value = RawJson::from_serialize(&req).ok();
    Ok(a)
}

/// Normalizes a whole decoded event record (`{CreatedDate, CreatedById, <EventType field>,
/// <Payload field>}`), the payload field still a JSON string.
///
/// # Errors
/// [`NormalizeError::MissingPayloadField`] when `payload_field` is absent or not a string;
/// otherwise as [`normalize_payload`].
pub fn normalize_record(
    record: &serde_json::Map<String, serde_json::Value>,
    event_type_field: &str,
    payload_field: &str,
) -> Result<NormalizedEvent, NormalizeError> {
    let payload = record
        .get(payload_field)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| NormalizeError::MissingPayloadField(payload_field.to_owned()))?;
    let event_type = record
        .get(event_type_field)
        .and_then(serde_json::Value::as_str);
    normalize_payload(payload, event_type)
}

/// The crate's pure normalizer: a platform event's payload JSON (wrapped or flat), or a
/// whole decoded event record whose payload field name ends in `Payload__c` (the event-type
/// field then ends in `EventType__c`).
///
/// # Errors
/// [`NormalizeError`] naming the field at fault.
pub fn normalize_bytes(bytes: &[u8]) -> Result<Vec<Activity>, NormalizeError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(NormalizeError::InvalidJson {
            field: "$".into(),
            reason: "payload larger than 1 MiB".into(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| NormalizeError::InvalidJson {
        field: "$".into(),
        reason: "not UTF-8".into(),
    })?;
    // Fast path: an event payload (the usual input) names itself by one of its own
    // fields; its top level is read once. Otherwise one borrowed pass decides the form
    // (a field may be present but `null`): no `Map` of `Value`s is built.
    // The wrapped entry is read in the same pass; any error is named by the general path.
    if let Ok(env) =
        serde_json::from_str::<Entry<'_, TypedEntry<'_>, TypedMessagePayload<'_>>>(text)
        && let Some(event) = match &env.payload {
            Some(entry) => static_message_event(&env, entry),
            None => None,
        }
    {
        return Ok(event.activities);
    }
    if let Ok(env) = serde_json::from_str::<Entry<'_, Entry<'_>>>(text)
        && (env.channel_address_identifier.is_some()
            || env.payload.is_some()
            || env.entry_type.is_some()
            || env.recipient.is_some())
    {
        return Ok(normalize_typed(&env, None)?.activities);
    }
    // One borrowed pass decides the form: no `Map` of `Value`s is built.
    let top: TopLevel<'_> = parse("$", text)?;
    if !top.is_payload {
        // As a map would: the last of duplicate keys wins, the first key in sorted order
        // is taken.
        let fields: std::collections::BTreeMap<&str, &RawValue> = top
            .record_fields
            .iter()
            .map(|(k, v)| (k.as_ref(), *v))
            .collect();
        let payload = fields
            .iter()
            .filter(|(k, _)| k.ends_with("Payload__c"))
            .find_map(|(_, v)| json_string(v))
            .ok_or_else(|| NormalizeError::MissingPayloadField("*Payload__c".into()))?;
        let event_type = fields
            .iter()
            .find(|(k, _)| k.ends_with("EventType__c"))
            .and_then(|(_, v)| json_string(v));
        return Ok(normalize_payload(&payload, event_type.as_deref())?.activities);
    }
    Ok(normalize_payload(text, None)?.activities)
}

/// The JSON string in `v`, unescaped; `None` for any other value.
fn json_string<'a>(v: &'a RawValue) -> Option<Cow<'a, str>> {
    if !v.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<Cow<'a, str>>(v.get()).ok()
}

/// The top-level object, read in one borrowed pass: whether it is an event payload (it has
/// `channelAddressIdentifier`, `payload`, `entryType` or `recipient`), and otherwise the
/// fields that can name a record's payload and event type.
struct TopLevel<'a> {
    is_payload: bool,
    record_fields: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TopLevel<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut top = TopLevel {
                    is_payload: false,
                    record_fields: Vec::new(),
                };
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let value = map.next_value::<&'de RawValue>()?;
                    match key.as_ref() {
                        "channelAddressIdentifier" | "payload" | "entryType" | "recipient" => {
                            top.is_payload = true;
                        }
                        k if k.ends_with("Payload__c") || k.ends_with("EventType__c") => {
                            top.record_fields.push((key, value));
                        }
                        _ => {}
                    }
                }
                Ok(top)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests;
