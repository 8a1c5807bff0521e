//! Each conversation entry type to the closest activity, with its content (the table is in
//! the module docs of [`crate::normalize`](super)).

use byoc_core::activity::{
    CardAction, EndOfConversationCode, JsonWriter, RoleType, SuggestedActions,
};
use byoc_core::{Activity, ActivityType, Attachment, ChannelAccount, RawJson};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::wire::{
    AbstractMessage, Choices, ConsentUpdated, Entry, EntryReference, EventParticipant,
    MessagePayload, MessageUpdated, ParticipantChanged, Progress, RoutingChannelData,
    RoutingParameters, SessionStatus, StaticContent, TypedMessagePayload,
};
use super::{EVENT_ROUTING_REQUESTED, RoutingRequested};
use crate::error::NormalizeError;

pub(crate) fn parse<'a, T: Deserialize<'a>>(
    field: &str,
    text: &'a str,
) -> Result<T, NormalizeError> {
    serde_json::from_str(text).map_err(|e| NormalizeError::json(field, &e))
}

pub(crate) fn raw(v: &RawValue) -> Option<RawJson> {
    RawJson::from_json_text(v.get().to_owned()).ok()
}

pub(crate) fn account(p: &EventParticipant<'_>, name: Option<&str>) -> ChannelAccount {
    let mut a = ChannelAccount::new(p.subject.as_deref().unwrap_or_default());
    if let Some(n) = name {
        a = a.with_name(n);
    }
    a.role = match p.role.as_deref() {
        Some("Chatbot") => Some(RoleType::Bot),
        Some("EndUser") => Some(RoleType::User),
        Some(other) => Some(RoleType::from(other.to_ascii_lowercase())),
        None => None,
    };
    a
}

/// `salesforce.` and the entry type with its first letter lowered.
pub(crate) fn event_name(entry_type: &str) -> String {
    let mut chars = entry_type.chars();
    match chars.next() {
        Some(c) => format!("salesforce.{}{}", c.to_ascii_lowercase(), chars.as_str()),
        None => "salesforce.unknown".to_owned(),
    }
}

/// `text` and `attachments` of a static content (each attachment's upload result, when the
/// event gives one, kept as its `attachmentUploadResult`).
pub(crate) fn set_static_content(a: &mut Activity, sc: &StaticContent<'_>) {
    a.text = sc.text.as_deref().map(str::to_owned);
    if sc.attachments.is_empty() {
        return;
    }
    let atts = sc
        .attachments
        .iter()
        .map(|att| {
            let mut out = Attachment {
                content_type: att.mime_type.as_deref().map(str::to_owned),
                content_url: att
                    .url
                    .as_deref()
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned),
                name: att.name.as_deref().map(str::to_owned),
                ..Attachment::default()
            };
            if let Some(result) = att
                .attachment_upload_result
                .filter(|r| r.get() != "null")
                .and_then(raw)
            {
                out.extensions
                    .insert(super::upload::UPLOAD_RESULT_FIELD, result);
            }
            out
        })
        .collect();
    a.attachments = Some(atts);
}

/// `text` and `suggestedActions` of a choices message: each option an `imBack` of its title.
fn set_choices(a: &mut Activity, choices: &Choices<'_>) {
    a.text = choices
        .text
        .clone()
        .or_else(|| choices.title.clone())
        .or_else(|| {
            choices
                .message
                .as_ref()
                .and_then(|m| m.title.as_deref().map(str::to_owned))
        });
    let actions: Vec<CardAction> = choices
        .option_items
        .iter()
        .filter_map(|o| {
            let title = o.title_item.as_ref()?.title.as_deref()?;
            let mut action = CardAction::im_back(title, title);
            if let Some(id) = o.option_identifier.as_deref() {
                let mut cd = JsonWriter::with_capacity(64);
                cd.str("optionIdentifier", id);
                action.channel_data = Some(cd.finish());
            }
            Some(action)
        })
        .collect();
    if !actions.is_empty() {
        a.suggested_actions = Some(SuggestedActions {
            actions: Some(actions),
            ..SuggestedActions::default()
        });
    }
}

/// An activity of `kind` carrying a message's content: text and attachments of static
/// content, text and suggested actions of choices; any other message type kept whole in
/// `value` for the host to render. The message's own id comes with it.
fn message_activity(
    kind: ActivityType,
    am: &RawValue,
    field: &str,
) -> Result<(Activity, Option<String>), NormalizeError> {
    let msg: AbstractMessage<'_> = parse(field, am.get())?;
    let mut a = Activity::new(kind);
    match msg.message_type.as_deref() {
        Some("StaticContentMessage") => {
            if let Some(sc) = &msg.static_content {
                set_static_content(&mut a, sc);
            }
        }
        _ => {
            if let Some(sc) = &msg.static_content {
                set_static_content(&mut a, sc);
            }
            if let Some(choices) = &msg.choices {
                set_choices(&mut a, choices);
            }
            a.value = raw(am);
        }
    }
    Ok((a, msg.id.map(std::borrow::Cow::into_owned)))
}

/// `id` and `from` of an entry's activity.
pub(crate) fn finish_entry<P, E>(a: &mut Activity, entry: &Entry<'_, P, E>) {
    a.id = entry.identifier.as_deref().map(str::to_owned);
    if let Some(s) = &entry.sender {
        a.from = Some(account(s, entry.sender_display_name.as_deref()));
    }
}

/// The `messageReason` of a `Message` entry.
pub(crate) fn message_reason<P>(entry: &Entry<'_, P>) -> Option<String> {
    if entry.entry_type.as_deref() != Some("Message") {
        return None;
    }
    let p = entry.entry_payload?;
    serde_json::from_str::<MessagePayload<'_>>(p.get())
        .ok()?
        .message_reason
}

/// The activity of a conversation entry, and the `messageReason` of a `Message` entry.
pub(crate) fn entry_activity<P>(
    entry: &Entry<'_, P>,
) -> Result<(Activity, Option<String>), NormalizeError> {
    const PAYLOAD: &str = "payload.entryPayload";
    let entry_type = entry
        .entry_type
        .as_deref()
        .ok_or(NormalizeError::MissingField("payload.entryType"))?;
    let payload = entry.entry_payload;
    let required = || payload.ok_or(NormalizeError::MissingField(PAYLOAD));
    let mut reason = None;
    let mut a = match entry_type {
        "Message" => {
            let p = required()?;
            // A static message read in one pass; anything else (another message type kept
            // whole, an error to name) the general way.
            if let Ok(TypedMessagePayload {
                abstract_message: Some(msg),
                message_reason,
            }) = serde_json::from_str(p.get())
                && msg.message_type.as_deref() == Some("StaticContentMessage")
            {
                let mut a = Activity::new(ActivityType::Message);
                if let Some(sc) = &msg.static_content {
                    set_static_content(&mut a, sc);
                }
                finish_entry(&mut a, entry);
                return Ok((a, message_reason));
            }
            let m: MessagePayload<'_> = parse(PAYLOAD, p.get())?;
            let am = m.abstract_message.ok_or(NormalizeError::MissingField(
                "payload.entryPayload.abstractMessage",
            ))?;
            reason = m.message_reason;
            message_activity(
                ActivityType::Message,
                am,
                "payload.entryPayload.abstractMessage",
            )?
            .0
        }
        "Note" | "FlagRaise" => {
            let p = required()?;
            let m: MessagePayload<'_> = parse(PAYLOAD, p.get())?;
            // A note is private between reps: a trace, never shown to the end user.
            let kind = if entry_type == "Note" {
                ActivityType::Trace
            } else {
                ActivityType::Event
            };
            let mut a = match m.abstract_message {
                Some(am) => message_activity(kind, am, "payload.entryPayload.abstractMessage")?.0,
                None if entry_type == "FlagRaise" => Activity::new(kind),
                None => {
                    return Err(NormalizeError::MissingField(
                        "payload.entryPayload.abstractMessage",
                    ));
                }
            };
            a.name = Some(event_name(entry_type));
            reason = m.message_reason;
            a
        }
        "MessageUpdated" => {
            let p = required()?;
            let m: MessageUpdated<'_> = parse(PAYLOAD, p.get())?;
            let am = m.updated_message.ok_or(NormalizeError::MissingField(
                "payload.entryPayload.updatedMessage",
            ))?;
            let (mut a, message_id) = message_activity(
                ActivityType::MessageUpdate,
                am,
                "payload.entryPayload.updatedMessage",
            )?;
            finish_entry(&mut a, entry);
            // The activity stands for the message updated: its id is the message's.
            if message_id.is_some() {
                a.id = message_id;
            }
            return Ok((a, None));
        }
        "TypingStartedIndicator" => Activity::typing(),
        "TypingStoppedIndicator" => Activity::event(crate::render::EVENT_TYPING_STOPPED),
        "ProgressIndicator" => {
            // "Looking that up...": a typing indicator with words.
            let mut a = Activity::typing();
            if let Some(p) = payload {
                let pr: Progress = parse(PAYLOAD, p.get())?;
                a.text = pr
                    .progress_indicator
                    .and_then(|i| i.progress_message)
                    .and_then(|m| m.text);
                a.value = raw(p);
            }
            a
        }
        "ParticipantChanged" | "ParticipantsConferenced" => {
            let p = required()?;
            let pc: ParticipantChanged<'_> = parse(PAYLOAD, p.get())?;
            let mut a = Activity::new(ActivityType::ConversationUpdate);
            let (mut added, mut removed) = (Vec::new(), Vec::new());
            for e in pc.entries {
                let acc = account(
                    &e.participant.unwrap_or_default(),
                    e.display_name.as_deref(),
                );
                match e.operation.as_deref() {
                    Some(op) if op.eq_ignore_ascii_case("remove") => removed.push(acc),
                    Some(op) if op.eq_ignore_ascii_case("add") => added.push(acc),
                    // Conferenced participants join; an `update` changes nobody's membership.
                    None if entry_type == "ParticipantsConferenced" => added.push(acc),
                    _ => {}
                }
            }
            added.extend(pc.participants.iter().map(|p| account(p, None)));
            a.members_added = (!added.is_empty()).then_some(added);
            a.members_removed = (!removed.is_empty()).then_some(removed);
            a.value = raw(p);
            a
        }
        "SessionStatusChanged" => {
            let p = required()?;
            let s: SessionStatus = parse(PAYLOAD, p.get())?;
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
        "EndUserConsentUpdated" => {
            let p = required()?;
            let c: ConsentUpdated = parse(PAYLOAD, p.get())?;
            let mut a = Activity::new(ActivityType::ContactRelationUpdate);
            a.action = match c.consent_status.as_deref() {
                Some("OptIn") => Some("add".to_owned()),
                Some("OptOut") => Some("remove".to_owned()),
                _ => None,
            };
            a.value = raw(p);
            a
        }
        "DeliveryAcknowledgement" | "ReadAcknowledgement" | "MessageDeliveryFailed" => {
            let p = required()?;
            let r: EntryReference = parse(PAYLOAD, p.get())?;
            let mut a = Activity::event(event_name(entry_type));
            a.reply_to_id = r
                .acknowledged_conversation_entry_identifier
                .or(r.failed_conversation_entry_identifier);
            a.value = raw(p);
            a
        }
        other => {
            // QueuePosition, RoutingResult, RoutingWorkResult, TransferProgress,
            // ConsultConversationInfo, FlagLower and any later type: an event named after
            // it, its payload whole.
            let mut a = Activity::event(event_name(other));
            a.value = payload.and_then(raw);
            a
        }
    };
    finish_entry(&mut a, entry);
    Ok((a, reason))
}

/// The `salesforce.routingRequested` event of a RoutingRequested payload.
pub(crate) fn routing_activity<P>(
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
