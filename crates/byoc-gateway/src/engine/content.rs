//! Addressing and copying activities between the customer, the bot and agents; describing
//! what a channel could not carry.

use byoc_core::activity::ConversationReference;
use byoc_core::capability::Loss;
use byoc_core::{Activity, ChannelAccount};

use crate::model::ConversationRecord;

/// The ordering key of a channel activity: the channel and the provider's conversation id
/// (the sender's id when the provider gives no conversation).
#[must_use]
pub(crate) fn conv_key(channel: &str, activity: &Activity) -> String {
    let id = activity
        .conversation_id()
        .or_else(|| activity.from_id())
        .unwrap_or("unknown");
    format!("{channel}:{id}")
}

/// Addresses an outgoing activity to the customer: from our side, to the customer, in
/// their conversation, replying to their latest activity.
pub(super) fn address(activity: &mut Activity, reference: &ConversationReference) {
    let from = activity.from.take();
    activity.apply_conversation_reference(reference);
    if let (Some(from), Some(bot)) = (from, activity.from.as_mut()) {
        // Keep the author's name (an agent's) on our account for channels that show it.
        if bot.name.is_none() {
            bot.name.clone_from(&from.name);
        }
    }
}

/// What the bot receives for a customer activity: the content, without the provider's
/// addressing (Direct Line addresses it to the bot).
pub(super) fn bot_copy(activity: &Activity, rec: &ConversationRecord) -> Activity {
    Activity {
        kind: activity.kind.clone(),
        text: activity.text.clone(),
        text_format: activity.text_format.clone(),
        attachments: activity.attachments.clone(),
        locale: activity
            .locale
            .clone()
            .or_else(|| rec.conversation.locale.clone()),
        value: activity.value.clone(),
        from: Some(
            ChannelAccount::new(rec.conversation.id.clone()).with_name(
                rec.conversation
                    .customer
                    .name
                    .clone()
                    .unwrap_or_else(|| "customer".to_owned()),
            ),
        ),
        ..Activity::default()
    }
}

/// A bot's message as the gateway sends it on: content kept, addressing replaced.
pub(super) fn reply_from(activity: &Activity, bot: &ChannelAccount) -> Activity {
    Activity {
        kind: activity.kind.clone(),
        text: activity.text.clone(),
        text_format: activity.text_format.clone(),
        attachments: activity.attachments.clone(),
        attachment_layout: activity.attachment_layout.clone(),
        suggested_actions: activity.suggested_actions.clone(),
        speak: activity.speak.clone(),
        input_hint: activity.input_hint.clone(),
        locale: activity.locale.clone(),
        from: Some(bot.clone()),
        ..Activity::default()
    }
}

pub(super) fn describe_loss(loss: &Loss) -> String {
    match loss {
        Loss::TextSplit { parts, limit } => {
            format!("text split into {parts} messages of at most {limit} characters")
        }
        Loss::MarkdownFlattened => "markdown flattened to plain text".to_owned(),
        Loss::SuggestedActionsAsText { count } => {
            format!("{count} suggested actions rendered as a numbered list")
        }
        Loss::CardAsText { content_type } => format!("card {content_type} rendered as text"),
        Loss::AttachmentAsLink { name } => format!(
            "attachment {} sent as a link",
            name.as_deref().unwrap_or("(unnamed)")
        ),
        Loss::AttachmentDropped { name, reason, .. } => {
            format!(
                "attachment {} dropped: {reason}",
                name.as_deref().unwrap_or("(unnamed)")
            )
        }
        Loss::TypingDropped => "typing indicator dropped".to_owned(),
        Loss::ActivityDropped { kind } => format!("{kind} activity dropped"),
        Loss::SpeechDropped => "speech (SSML) dropped".to_owned(),
        other => format!("{other:?}"),
    }
}
