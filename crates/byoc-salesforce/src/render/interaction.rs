//! The `json` part of `POST /api/v1/interactions`, as typed serde structs: what
//! [`render_interaction`](crate::render_interaction) produces. See
//! `docs/protocols/salesforce.md#interactions`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::client::Participant;

/// The `json` part of `POST /interactions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionRequest {
    /// The channel address identifier.
    pub to: String,
    /// The end user client identifier.
    pub from: String,
    /// Exactly one interaction.
    pub interactions: Vec<Interaction>,
    /// Routing attributes (channel variables), when Salesforce routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_attributes: Option<BTreeMap<String, String>>,
}

/// One interaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "interactionType")]
#[non_exhaustive]
pub enum Interaction {
    /// A conversation entry (message, typing, delivery failure).
    #[serde(rename = "EntryInteraction")]
    Entry {
        /// Epoch milliseconds.
        timestamp: i64,
        /// The entry.
        payload: EntryPayload,
    },
    /// A file, whose bytes travel in the `attachments` part.
    #[serde(rename = "AttachmentInteraction", rename_all = "camelCase")]
    Attachment {
        /// Epoch milliseconds.
        timestamp: i64,
        /// A client-generated UUID.
        id: String,
        /// Index into the `attachments` parts (0).
        attachment_index: u32,
        /// The file's byte size.
        content_length: u64,
        /// Caption.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
}

/// An inbound entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entryType")]
#[non_exhaustive]
pub enum EntryPayload {
    /// A message.
    #[serde(rename = "Message", rename_all = "camelCase")]
    Message {
        /// Entry id (equal to the message id).
        id: String,
        /// The message.
        abstract_message: AbstractMessage,
    },
    /// The end user started typing.
    #[serde(rename = "TypingStartedIndicator")]
    TypingStarted {
        /// Entry id.
        id: String,
        /// Epoch milliseconds.
        timestamp: i64,
    },
    /// The end user stopped typing.
    #[serde(rename = "TypingStoppedIndicator")]
    TypingStopped {
        /// Entry id.
        id: String,
        /// Epoch milliseconds.
        timestamp: i64,
    },
    /// The partner could not deliver an outbound entry.
    #[serde(rename = "MessageDeliveryFailed", rename_all = "camelCase")]
    MessageDeliveryFailed {
        /// Entry id.
        id: String,
        /// The outbound entry's `identifier`.
        failed_conversation_entry_identifier: String,
        /// The end user.
        recipient: Participant,
        /// The partner's error code.
        error_code: String,
        /// Description.
        #[serde(skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
    },
}

/// A message (`StaticContentMessage` with text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbstractMessage {
    /// `StaticContentMessage`.
    pub message_type: String,
    /// Message id (equal to the entry id).
    pub id: String,
    /// The content.
    pub static_content: StaticContent,
    /// The message this one answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to_message_id: Option<String>,
}

/// `staticContent` with `formatType: Text`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticContent {
    /// `Text`.
    pub format_type: String,
    /// The text.
    pub text: String,
}
