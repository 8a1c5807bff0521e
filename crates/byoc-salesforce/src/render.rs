//! Activity → Interaction Service request (pure): what a customer's activity becomes when it
//! is posted to `POST /api/v1/interactions` (see `docs/protocols/salesforce.md#interactions`).
//!
//! | activity | interaction |
//! |---|---|
//! | `message` with text | `EntryInteraction` / `Message` (`StaticContentMessage`, `Text`) |
//! | `message` with one `data:` attachment | `AttachmentInteraction` (+ the file part), text as caption |
//! | `typing` | `TypingStartedIndicator` |
//! | `event` `salesforce.typingStopped` | `TypingStoppedIndicator` |
//! | `event` `salesforce.messageDeliveryFailed`, value `{failedConversationEntryIdentifier, errorCode, errorMessage?}` | `MessageDeliveryFailed` |
//!
//! `from.id` is the end user client identifier; `channelData.routingAttributes` (an object
//! of strings), when present, becomes `routingAttributes`.
//!
//! ## Entry ids
//!
//! The entry id must be the same when a send is retried, or the retry can become a second
//! entry on the Salesforce side ([`entry_id`]):
//!
//! - the activity `id` when it is a UUID;
//! - a UUID v5 of the activity `id` otherwise;
//! - without an `id`, a UUID v5 of what a retry carries: the activity type, `from.id`,
//!   `conversation.id`, `timestamp`, `name`, `text`, `value`, `replyToId` and each
//!   attachment's content type, name, URL and content. Two activities without `id` that
//!   carry all of these alike get the same entry id, so give each activity an `id` or a
//!   `timestamp` when the same text may legitimately be sent twice.

use std::collections::BTreeMap;

use base64::Engine as _;
use byoc_core::{Activity, ActivityType};
use serde::Deserialize;

use crate::client::Participant;
use crate::error::RenderError;

mod interaction;

pub use interaction::{
    AbstractMessage, EntryPayload, Interaction, InteractionRequest, StaticContent,
};

/// Largest attachment the Interaction Service accepts: 25 MB.
pub const MAX_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;

/// The attachment MIME types Salesforce documents for inbound files.
pub const ALLOWED_MIME_TYPES: [&str; 13] = [
    "image/jpeg",
    "image/gif",
    "image/bmp",
    "image/png",
    "application/pdf",
    "video/3gpp2",
    "audio/3gpp2",
    "video/3gpp",
    "audio/3gpp",
    "video/mpeg",
    "audio/mpeg",
    "video/mp4",
    "audio/mp4",
];

/// Event name of an inbound typing-stopped indicator.
pub const EVENT_TYPING_STOPPED: &str = "salesforce.typingStopped";
/// Event name of a delivery failure report.
pub const EVENT_DELIVERY_FAILED: &str = "salesforce.messageDeliveryFailed";

/// A file to upload with an `AttachmentInteraction`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachmentFile {
    /// File name.
    pub name: String,
    /// MIME type (one of [`ALLOWED_MIME_TYPES`]).
    pub mime_type: String,
    /// The bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for AttachmentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentFile")
            .field("name", &self.name)
            .field("mime_type", &self.mime_type)
            .field("len", &self.data.len())
            .finish()
    }
}

impl AttachmentFile {
    /// A file.
    ///
    /// # Errors
    /// [`RenderError::Limit`] above 25 MB or for a MIME type Salesforce does not take.
    pub fn new(
        name: impl Into<String>,
        mime_type: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<Self, RenderError> {
        let mime_type = mime_type.into().to_ascii_lowercase();
        if data.len() > MAX_ATTACHMENT_BYTES {
            return Err(RenderError::Limit {
                field: "attachments",
                limit: "25 MB per file",
            });
        }
        if !ALLOWED_MIME_TYPES.contains(&mime_type.as_str()) {
            return Err(RenderError::Limit {
                field: "attachments.contentType",
                limit: "one of the documented MIME types",
            });
        }
        Ok(Self {
            name: name.into(),
            mime_type,
            data,
        })
    }
}

/// One rendered `/interactions` call: the `json` part and at most one file.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RenderedInteraction {
    /// The `json` part.
    pub request: InteractionRequest,
    /// The `attachments` part.
    pub attachment: Option<AttachmentFile>,
}

/// The UUID v5 namespace of entry ids derived from activity content.
const CONTENT_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6b79_6f63_5f73_4600_8000_656e_7472_7969);

/// A stable entry id for an activity: the same for a retry of the same activity (see the
/// module docs).
#[must_use]
pub fn entry_id(activity: &Activity) -> String {
    match activity.id.as_deref() {
        Some(id) => match uuid::Uuid::parse_str(id) {
            Ok(u) => u.hyphenated().to_string(),
            Err(_) => uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, id.as_bytes()).to_string(),
        },
        None => content_id(activity),
    }
}

/// UUID v5 of the SHA-256 of the activity's content fields, each length-prefixed (so no two
/// different field sets hash the same input).
fn content_id(activity: &Activity) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    let mut field = |v: Option<&str>| match v {
        Some(v) => {
            h.update([1]);
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.as_bytes());
        }
        None => h.update([0]),
    };
    field(Some(activity.kind.as_str()));
    field(activity.from_id());
    field(activity.conversation_id());
    field(
        activity
            .timestamp
            .as_ref()
            .map(byoc_core::Timestamp::as_str),
    );
    field(activity.name.as_deref());
    field(activity.text.as_deref());
    field(activity.value.as_ref().map(byoc_core::RawJson::get));
    field(activity.reply_to_id.as_deref());
    for att in activity.attachments.as_deref().unwrap_or_default() {
        field(att.content_type.as_deref());
        field(att.name.as_deref());
        field(att.content_url.as_deref());
        field(att.content.as_ref().map(byoc_core::RawJson::get));
    }
    uuid::Uuid::new_v5(&CONTENT_NAMESPACE, &h.finalize()).to_string()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelDataIn {
    routing_attributes: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryFailedValue {
    failed_conversation_entry_identifier: String,
    error_code: String,
    error_message: Option<String>,
}

/// Renders a customer activity as one interaction to `to` (the channel address).
/// `now_ms` is used when the activity has no timestamp.
///
/// # Errors
/// [`RenderError`] naming what is missing or unsupported.
pub fn render_interaction(
    activity: &Activity,
    to: &str,
    now_ms: i64,
) -> Result<RenderedInteraction, RenderError> {
    let from = activity
        .from_id()
        .filter(|f| !f.is_empty())
        .ok_or(RenderError::MissingField("from.id"))?;
    if from.chars().count() > 255 {
        return Err(RenderError::Limit {
            field: "from.id",
            limit: "255 characters",
        });
    }
    let timestamp = activity
        .timestamp
        .as_ref()
        .map_or(now_ms, |t| t.to_utc().timestamp_millis());
    let id = entry_id(activity);
    let routing_attributes = activity
        .channel_data
        .as_ref()
        .and_then(|c| c.parse::<ChannelDataIn>().ok())
        .and_then(|c| c.routing_attributes);
    let mut attachment = None;
    let interaction = match &activity.kind {
        ActivityType::Message => {
            let atts = activity.attachments.as_deref().unwrap_or_default();
            match atts {
                [] => {
                    let text = activity
                        .text
                        .clone()
                        .filter(|t| !t.is_empty())
                        .ok_or(RenderError::MissingField("text"))?;
                    Interaction::Entry {
                        timestamp,
                        payload: EntryPayload::Message {
                            id: id.clone(),
                            abstract_message: AbstractMessage {
                                message_type: "StaticContentMessage".into(),
                                id,
                                static_content: StaticContent {
                                    format_type: "Text".into(),
                                    text,
                                },
                                in_reply_to_message_id: activity.reply_to_id.clone(),
                            },
                        },
                    }
                }
                [one] => {
                    let file = decode_attachment(one)?;
                    let content_length = file.data.len() as u64;
                    attachment = Some(file);
                    Interaction::Attachment {
                        timestamp,
                        id,
                        attachment_index: 0,
                        content_length,
                        text: activity.text.clone().filter(|t| !t.is_empty()),
                    }
                }
                _ => {
                    return Err(RenderError::Limit {
                        field: "attachments",
                        limit: "one file per interaction",
                    });
                }
            }
        }
        ActivityType::Typing => Interaction::Entry {
            timestamp,
            payload: EntryPayload::TypingStarted { id, timestamp },
        },
        ActivityType::Event if activity.name.as_deref() == Some(EVENT_TYPING_STOPPED) => {
            Interaction::Entry {
                timestamp,
                payload: EntryPayload::TypingStopped { id, timestamp },
            }
        }
        ActivityType::Event if activity.name.as_deref() == Some(EVENT_DELIVERY_FAILED) => {
            let v: DeliveryFailedValue = activity
                .value
                .as_ref()
                .ok_or(RenderError::MissingField("value"))?
                .parse()
                .map_err(|_| {
                    RenderError::MissingField("value.failedConversationEntryIdentifier")
                })?;
            Interaction::Entry {
                timestamp,
                payload: EntryPayload::MessageDeliveryFailed {
                    id,
                    failed_conversation_entry_identifier: v.failed_conversation_entry_identifier,
                    recipient: Participant::end_user(from),
                    error_code: v.error_code,
                    error_message: v.error_message,
                },
            }
        }
        other => {
            return Err(RenderError::Unsupported(format!(
                "activity type `{other}` has no Interaction Service entry"
            )));
        }
    };
    Ok(RenderedInteraction {
        request: InteractionRequest {
            to: to.to_owned(),
            from: from.to_owned(),
            interactions: vec![interaction],
            routing_attributes,
        },
        attachment,
    })
}

/// Decodes an attachment carried inline as a `data:<mime>;base64,<bytes>` URI. Attachments
/// behind `http(s)` URLs are the host's to download ([`AttachmentFile::new`] and
/// [`crate::SalesforceClient::send_file`]): this crate does no I/O in rendering.
fn decode_attachment(att: &byoc_core::Attachment) -> Result<AttachmentFile, RenderError> {
    let url = att
        .content_url
        .as_deref()
        .ok_or(RenderError::MissingField("attachments.contentUrl"))?;
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(RenderError::Unsupported(
            "attachments behind URLs must be downloaded by the host and sent with send_file".into(),
        ));
    };
    let (meta, data) = rest.split_once(',').ok_or(RenderError::BadDataUri)?;
    let mime = meta
        .strip_suffix(";base64")
        .ok_or(RenderError::BadDataUri)?;
    let mime = if mime.is_empty() {
        att.content_type.as_deref().unwrap_or_default()
    } else {
        mime
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| RenderError::BadDataUri)?;
    let name = att.name.clone().unwrap_or_else(|| "attachment".to_owned());
    AttachmentFile::new(name, mime, bytes)
}

#[cfg(test)]
mod tests;
