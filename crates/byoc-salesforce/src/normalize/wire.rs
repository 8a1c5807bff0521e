//! The outbound event payload as serde reads it: the envelope, the conversation entry and
//! each entry type's payload. Strings borrow from the payload where they have no escapes;
//! parts kept whole for the host are [`RawValue`]s. See `docs/protocols/salesforce.md#events`.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// An optional string borrowed from the input when it has no escape (allocated only when it
/// has one). `#[serde(borrow)]` alone does not do it: serde borrows a `Cow<str>` only when it
/// is the field's whole type, and inside an `Option` it always allocates an owned `String`.
/// Fields read with it take `default` too (absent is `None`, as for a plain `Option`).
pub(crate) fn opt_cow<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    /// The whole type of its field, so serde borrows it.
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'de>>::deserialize(d)?.map(|b| b.0))
}

/// A sender or recipient as outbound events carry it; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventParticipant<'a> {
    /// `custom`, `agent`, `chatbot`, `conversation`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        borrow,
        default,
        deserialize_with = "opt_cow"
    )]
    pub(crate) app_type: Option<Cow<'a, str>>,
    /// The key.
    #[serde(
        skip_serializing_if = "Option::is_none",
        borrow,
        default,
        deserialize_with = "opt_cow"
    )]
    pub(crate) subject: Option<Cow<'a, str>>,
    /// `EndUser`, `Agent`, `Chatbot`, `System`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        borrow,
        default,
        deserialize_with = "opt_cow"
    )]
    pub(crate) role: Option<Cow<'a, str>>,
}

/// A conversation entry, or the envelope around one (the flat form is both at once). `P` is
/// how the envelope's `payload` is read: kept raw (the general path), or as the wrapped
/// entry itself (one pass); `E` is how the entry's `entryPayload` is read.
#[derive(Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "P: Deserialize<'de>, E: Deserialize<'de>")
)]
pub(crate) struct Entry<'a, P = &'a RawValue, E = &'a RawValue> {
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) channel_address_identifier: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) recipient: Option<EventParticipant<'a>>,
    pub(crate) payload: Option<P>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) sender_display_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) identifier: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) entry_type: Option<Cow<'a, str>>,
    pub(crate) entry_payload: Option<E>,
    #[serde(borrow)]
    pub(crate) sender: Option<EventParticipant<'a>>,
    pub(crate) transcripted_timestamp: Option<i64>,
    pub(crate) client_timestamp: Option<i64>,
    // RoutingRequested
    #[serde(borrow)]
    pub(crate) routing_parameters: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) conversation_identifier: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) routing_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) work_record_id: Option<Cow<'a, str>>,
}

/// A wrapped entry whose payload is read as a message in the same pass.
pub(crate) type TypedEntry<'a> = Entry<'a, &'a RawValue, TypedMessagePayload<'a>>;

/// A `Message` (or `Note`, `FlagRaise`) entry payload, the message kept raw.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessagePayload<'a> {
    #[serde(borrow)]
    pub(crate) abstract_message: Option<&'a RawValue>,
    pub(crate) message_reason: Option<String>,
}

/// A `Message` entry payload with its abstract message read in the same pass, as far as a
/// static message needs (the fast path).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TypedMessagePayload<'a> {
    #[serde(borrow)]
    pub(crate) abstract_message: Option<StaticMessage<'a>>,
    pub(crate) message_reason: Option<String>,
}

/// The parts of an abstract message a static message has.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StaticMessage<'a> {
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) message_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) static_content: Option<StaticContent<'a>>,
}

/// A `MessageUpdated` entry payload.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageUpdated<'a> {
    #[serde(borrow)]
    pub(crate) updated_message: Option<&'a RawValue>,
}

/// An abstract message: its id, its type and the content this crate reads (the general
/// path).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AbstractMessage<'a> {
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) message_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) static_content: Option<StaticContent<'a>>,
    #[serde(borrow)]
    pub(crate) choices: Option<Choices<'a>>,
}

/// `staticContent` (`Text` or `Attachments`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StaticContent<'a> {
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) attachments: Vec<OutAttachment<'a>>,
}

/// One attachment of a message, with the result of its upload when the event says.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutAttachment<'a> {
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) mime_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) attachment_upload_result: Option<&'a RawValue>,
}

/// `choices` of a `ChoicesMessage` (`Buttons`, `QuickReplies`, `ListPicker`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Choices<'a> {
    pub(crate) text: Option<String>,
    pub(crate) title: Option<String>,
    #[serde(borrow)]
    pub(crate) message: Option<TitleItem<'a>>,
    #[serde(default, borrow)]
    pub(crate) option_items: Vec<OptionItem<'a>>,
}

/// One option of a choices message.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OptionItem<'a> {
    #[serde(borrow)]
    pub(crate) title_item: Option<TitleItem<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) option_identifier: Option<Cow<'a, str>>,
}

/// A title item.
#[derive(Deserialize)]
pub(crate) struct TitleItem<'a> {
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) title: Option<Cow<'a, str>>,
}

/// A `ParticipantChanged` (or `ParticipantsConferenced`) entry payload.
#[derive(Deserialize)]
pub(crate) struct ParticipantChanged<'a> {
    #[serde(default, borrow)]
    pub(crate) entries: Vec<ParticipantEntry<'a>>,
    #[serde(default, borrow)]
    pub(crate) participants: Vec<EventParticipant<'a>>,
}

/// One participant change.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParticipantEntry<'a> {
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) operation: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) participant: Option<EventParticipant<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub(crate) display_name: Option<Cow<'a, str>>,
}

/// A `SessionStatusChanged` entry payload.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionStatus {
    pub(crate) session_status: Option<String>,
}

/// A `ProgressIndicator` entry payload.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Progress {
    pub(crate) progress_indicator: Option<ProgressIndicator>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProgressIndicator {
    pub(crate) progress_message: Option<ProgressMessage>,
}

#[derive(Deserialize)]
pub(crate) struct ProgressMessage {
    pub(crate) text: Option<String>,
}

/// The entry a `DeliveryAcknowledgement`, `ReadAcknowledgement` or `MessageDeliveryFailed`
/// refers to.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntryReference {
    pub(crate) acknowledged_conversation_entry_identifier: Option<String>,
    pub(crate) failed_conversation_entry_identifier: Option<String>,
}

/// An `EndUserConsentUpdated` entry payload.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConsentUpdated {
    pub(crate) consent_status: Option<String>,
}

/// `routingParameters` of a RoutingRequested event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoutingParameters {
    pub(crate) queue_id: Option<String>,
    pub(crate) channel_data: Option<String>,
    pub(crate) is_transfer: Option<bool>,
    pub(crate) user_id: Option<String>,
    pub(crate) flow_id: Option<String>,
}

/// `routingParameters.channelData`, itself JSON inside a string.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoutingChannelData {
    pub(crate) event_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_borrow_from_the_payload_unless_escaped() {
        let text = r#"{"identifier":"e1","entryType":"Mes\u0073age","senderDisplayName":null,
            "sender":{"role":"Agent","subject":"a\"b"},
            "entryPayload":{"abstractMessage":{"messageType":"StaticContentMessage",
              "staticContent":{"text":"hi","attachments":[{"name":"n","url":"u\/v"}]}}}}"#;
        let e: Entry<'_, &RawValue, TypedMessagePayload<'_>> = serde_json::from_str(text).unwrap();
        assert!(matches!(e.identifier, Some(Cow::Borrowed("e1"))));
        assert!(matches!(e.entry_type.as_ref(), Some(Cow::Owned(t)) if t == "Message"));
        assert!(e.sender_display_name.is_none() && e.channel_address_identifier.is_none());
        let sender = e.sender.unwrap();
        assert!(matches!(sender.role, Some(Cow::Borrowed("Agent"))));
        assert!(matches!(sender.subject.as_ref(), Some(Cow::Owned(s)) if s == "a\"b"));
        assert!(sender.app_type.is_none());
        let msg = e.entry_payload.unwrap().abstract_message.unwrap();
        assert!(matches!(
            msg.message_type,
            Some(Cow::Borrowed("StaticContentMessage"))
        ));
        let content = msg.static_content.unwrap();
        assert!(matches!(content.text, Some(Cow::Borrowed("hi"))));
        let att = &content.attachments[0];
        assert!(matches!(att.name, Some(Cow::Borrowed("n"))));
        assert!(matches!(att.url.as_ref(), Some(Cow::Owned(u)) if u == "u/v"));
        assert!(att.mime_type.is_none());
        // A wrong type is still an error, as for a plain `Option<String>`.
        assert!(serde_json::from_str::<Entry<'_>>(r#"{"identifier":5}"#).is_err());
    }
}
