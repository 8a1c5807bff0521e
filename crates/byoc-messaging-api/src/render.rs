//! Outbound bodies: the create-conversation request and activities for
//! `POST /api/v1.0/consumer/conversation/{id}`, with the documented limits checked before
//! anything is sent. Lengths are counted in Unicode scalar values (`char`s); the start
//! message in bytes of its JSON.

mod create;

use byoc_core::{Activity, ActivityType};
use serde::{Deserialize, Serialize};

use crate::error::{Limit, RenderError};

pub use create::{ContextVariable, CreateConversation, CustomerContext, StartMessage};

/// `text` limit, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 6000;
/// Limit of `type`, names, ids and display names, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 256;
/// Limit of each `customercontext` field, in characters.
pub(crate) const MAX_CUSTOMER_FIELD_CHARS: usize = 200;
/// Most conversation context variables.
pub(crate) const MAX_CONTEXT_VARIABLES: usize = 100;
/// `startmessage` limit: 27 KB of JSON.
pub(crate) const MAX_START_MESSAGE_BYTES: usize = 27 * 1024;

/// An account in an outbound activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundAccount {
    /// Id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The conversation of an outbound activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundConversation {
    /// The Omnichannel conversation id.
    pub id: String,
}

/// An attachment of an outbound message (behind a URL or as base64 in `contentUrl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundAttachment {
    /// MIME type.
    #[serde(rename = "contentType")]
    pub content_type: String,
    /// URL or base64 content.
    #[serde(rename = "contentUrl")]
    pub content_url: String,
    /// File name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An activity as the Messaging API takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundActivity {
    /// `message`, `typing`, `endOfConversation` or `event`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Your id for the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The custom channel id (must equal the `channel-id` header).
    #[serde(rename = "channelId", skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// Sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<OutboundAccount>,
    /// Conversation.
    pub conversation: OutboundConversation,
    /// Text (≤ 6,000 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Attachments.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub attachments: Vec<OutboundAttachment>,
    /// Event name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Channel data (custom event fields, `messagingapi-oc`).
    #[serde(rename = "channelData", skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<serde_json::Value>,
}

/// Renders a canonical activity for the Messaging API, checking the limits.
///
/// `message` → text and URL attachments (cards without `contentUrl` are refused);
/// `typing`; `endOfConversation`; `event` → a custom event whose `channelData` carries
/// `customEvent: true`, `customEventName` and `customEventValue` (the activity `value`
/// JSON-encoded as a string; a string value is sent as is). `channelData` of the activity is
/// kept for messages (e.g. `{"messagingapi-oc":{"type":"AutomatedMessage"}}`).
///
/// # Errors
/// [`RenderError`] naming the field and limit at fault.
pub fn render(activity: &Activity, channel_id: &str) -> Result<OutboundActivity, RenderError> {
    let conversation_id = activity
        .conversation_id()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| RenderError::new(Limit::Required, "conversation.id", 0))?
        .to_owned();
    check_chars(Some(&conversation_id), Limit::Name, "conversation.id")?;
    let from = activity.from.as_ref().map(|f| OutboundAccount {
        id: f.id.clone(),
        name: f.name.clone(),
    });
    if let Some(f) = &from {
        check_chars(f.id.as_deref(), Limit::Name, "from.id")?;
        check_chars(f.name.as_deref(), Limit::Name, "from.name")?;
    }
    check_chars(activity.id.as_deref(), Limit::Name, "id")?;
    let mut out = OutboundActivity {
        kind: activity.kind.as_str().to_owned(),
        id: None,
        channel_id: Some(channel_id.to_owned()),
        from,
        conversation: OutboundConversation {
            id: conversation_id,
        },
        text: None,
        attachments: Vec::new(),
        name: None,
        channel_data: None,
    };
    match &activity.kind {
        ActivityType::Message => {
            out.id.clone_from(&activity.id);
            if let Some(t) = activity.text.as_deref().filter(|t| !t.is_empty()) {
                check_chars(Some(t), Limit::Text, "text")?;
                out.text = Some(t.to_owned());
            }
            for (i, a) in activity.attachments.iter().flatten().enumerate() {
                let url = a
                    .content_url
                    .clone()
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        RenderError::new(Limit::Required, format!("attachments.{i}.contentUrl"), 0)
                    })?;
                check_chars(
                    a.name.as_deref(),
                    Limit::Name,
                    &format!("attachments.{i}.name"),
                )?;
                out.attachments.push(OutboundAttachment {
                    content_type: a
                        .content_type
                        .clone()
                        .unwrap_or_else(|| "application/octet-stream".to_owned()),
                    content_url: url,
                    name: a.name.clone(),
                });
            }
            if out.text.is_none() && out.attachments.is_empty() {
                return Err(RenderError::new(Limit::EmptyMessage, "text", 0));
            }
            out.channel_data = activity
                .channel_data
                .as_ref()
                .filter(|c| c.is_object())
                .and_then(|c| c.to_value().ok());
        }
        ActivityType::Typing | ActivityType::EndOfConversation => {}
        ActivityType::Event => {
            let name = activity
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| RenderError::new(Limit::Required, "name", 0))?;
            check_chars(Some(&name), Limit::Name, "name")?;
            let value = match &activity.value {
                None => "{}".to_owned(),
                Some(v) => match v.as_string() {
                    Some(s) => s.into_owned(),
                    None => v.get().to_owned(),
                },
            };
            out.channel_data = Some(serde_json::json!({
                "customEvent": true,
                "customEventName": name,
                "customEventValue": value,
            }));
            out.name = Some(name);
        }
        other => {
            return Err(RenderError::new(
                Limit::ActivityType,
                "type",
                other.as_str().chars().count(),
            ));
        }
    }
    Ok(out)
}

pub(crate) fn check_chars(
    value: Option<&str>,
    limit: Limit,
    field: &str,
) -> Result<(), RenderError> {
    if let Some(v) = value {
        // Cheap upper bound first: a string has at most as many chars as bytes.
        if v.len() > limit.max() {
            let n = v.chars().count();
            if n > limit.max() {
                return Err(RenderError::new(limit, field, n));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
