//! Dynamics 365 Omnichannel bot commands
//! (`docs/protocols/bot-framework.md#omnichannel-bot-commands`): a bot written for Omnichannel
//! escalates or ends a conversation by putting a JSON-encoded **string** in
//! `channelData.tags` — `{"type":"Escalate","context":{...}}` or
//! `{"type":"EndConversation","context":{}}` — and marks each message to the customer with
//! `channelData.deliveryMode = "bridged"`.
//!
//! [`BotCommand::parse`] reads such a command from an activity and
//! [`BotCommand::to_event`] turns it into the byoc hand-off / end activity (the Bot Framework
//! wire forms: an `event` named [`HANDOFF_INITIATE`] whose `value` is the context, or an
//! `endOfConversation`), so a bot written for Omnichannel escalates the same way in byoc.
//! [`BotCommand::apply`] writes a command into an activity, for bots built with byoc.

use byoc_core::activity::{ActivityType, EndOfConversationCode};
use byoc_core::{Activity, RawJson};
use serde_json::{Map, Value};

use crate::error::CommandError;

/// Name of the hand-off event (botbuilder `HandoffEventNames.InitiateHandoff`).
pub const HANDOFF_INITIATE: &str = "handoff.initiate";
/// The `channelData.deliveryMode` Omnichannel wants on every bot message to the customer.
pub const BRIDGED: &str = "bridged";

/// One Omnichannel bot command.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum BotCommand {
    /// Hand the conversation to a human; `context` updates Omnichannel context variables
    /// (e.g. `{"BotHandoffTopic":"CreditCard"}`) before routing runs again.
    Escalate {
        /// Context variables to set.
        context: Map<String, Value>,
    },
    /// End the conversation.
    EndConversation {
        /// Context (empty in the documented form).
        context: Map<String, Value>,
    },
    /// A command type this version does not know, kept as sent.
    Other {
        /// The `type`.
        kind: String,
        /// The `context`.
        context: Map<String, Value>,
    },
}

impl BotCommand {
    /// An escalation with these context variables.
    #[must_use]
    pub fn escalate(context: Map<String, Value>) -> Self {
        Self::Escalate { context }
    }

    /// An end-of-conversation command.
    #[must_use]
    pub fn end_conversation() -> Self {
        Self::EndConversation {
            context: Map::new(),
        }
    }

    /// The command's `type` string.
    #[must_use]
    pub fn kind(&self) -> &str {
        match self {
            Self::Escalate { .. } => "Escalate",
            Self::EndConversation { .. } => "EndConversation",
            Self::Other { kind, .. } => kind,
        }
    }

    fn context(&self) -> &Map<String, Value> {
        match self {
            Self::Escalate { context }
            | Self::EndConversation { context }
            | Self::Other { context, .. } => context,
        }
    }

    /// The command in `activity.channelData.tags`, if any.
    ///
    /// # Errors
    /// [`CommandError`] when `tags` is present but is not a JSON-encoded command object.
    pub fn parse(activity: &Activity) -> Result<Option<Self>, CommandError> {
        let Some(cd) = &activity.channel_data else {
            return Ok(None);
        };
        let Ok(Value::Object(cd)) = cd.parse::<Value>() else {
            return Ok(None);
        };
        let tags = match cd.get("tags") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => s,
            Some(_) => return Err(CommandError::TagsNotJson),
        };
        let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(tags) else {
            return Err(CommandError::TagsNotJson);
        };
        let kind = match obj.get("type") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => return Err(CommandError::MissingType),
        };
        let context = match obj.get("context") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(CommandError::ContextNotObject),
        };
        Ok(Some(match kind.as_str() {
            "Escalate" => Self::Escalate { context },
            "EndConversation" => Self::EndConversation { context },
            _ => Self::Other { kind, context },
        }))
    }

    /// Writes this command into `activity.channelData.tags` (as the JSON-encoded string
    /// Omnichannel expects), keeping the other `channelData` fields.
    ///
    /// # Errors
    /// Only if serialization fails (not possible for these values).
    pub fn apply(&self, activity: &mut Activity) -> Result<(), serde_json::Error> {
        let tags = serde_json::json!({ "type": self.kind(), "context": self.context() });
        let mut cd = channel_data_object(activity);
        cd.insert("tags".into(), Value::String(serde_json::to_string(&tags)?));
        activity.channel_data = Some(RawJson::from_serialize(&cd)?);
        Ok(())
    }

    /// The byoc activity this command stands for: `Escalate` → an `event` named
    /// [`HANDOFF_INITIATE`] with the context as `value` and the escalation summary (the
    /// command activity's `text`) as `text`; `EndConversation` → `endOfConversation` with
    /// code `completedSuccessfully`; other types → `None`. Conversation, channel, sender,
    /// recipient and service URL are copied from `source`.
    #[must_use]
    pub fn to_event(&self, source: &Activity) -> Option<Activity> {
        let mut a = match self {
            Self::Escalate { context } => {
                let mut a = Activity::event(HANDOFF_INITIATE);
                a.value = RawJson::from_serialize(context).ok();
                a.text = source.text.clone().filter(|t| !t.is_empty());
                a
            }
            Self::EndConversation { .. } => {
                let mut a = Activity::new(ActivityType::EndOfConversation);
                a.code = Some(EndOfConversationCode::CompletedSuccessfully);
                a
            }
            Self::Other { .. } => return None,
        };
        a.id.clone_from(&source.id);
        a.timestamp.clone_from(&source.timestamp);
        a.channel_id.clone_from(&source.channel_id);
        a.service_url.clone_from(&source.service_url);
        a.conversation.clone_from(&source.conversation);
        a.from.clone_from(&source.from);
        a.recipient.clone_from(&source.recipient);
        a.reply_to_id.clone_from(&source.reply_to_id);
        Some(a)
    }
}

fn channel_data_object(activity: &Activity) -> Map<String, Value> {
    match activity.channel_data.as_ref().map(|c| c.parse::<Value>()) {
        Some(Ok(Value::Object(m))) => m,
        _ => Map::new(),
    }
}

/// Marks a bot message for Omnichannel: `channelData.deliveryMode = "bridged"`.
///
/// # Errors
/// Only if serialization fails (not possible).
pub fn set_bridged(activity: &mut Activity) -> Result<(), serde_json::Error> {
    let mut cd = channel_data_object(activity);
    cd.insert("deliveryMode".into(), Value::String(BRIDGED.into()));
    activity.channel_data = Some(RawJson::from_serialize(&cd)?);
    Ok(())
}

/// Whether `channelData.deliveryMode` is `bridged`.
#[must_use]
pub fn is_bridged(activity: &Activity) -> bool {
    channel_data_object(activity)
        .get("deliveryMode")
        .and_then(Value::as_str)
        == Some(BRIDGED)
}

/// Replaces each activity carrying an Omnichannel command by its byoc event (see
/// [`BotCommand::to_event`]); other activities pass unchanged. A command message whose
/// `text` is meant for the customer is not duplicated: for `Escalate` the text is the
/// agent-only summary, as in Omnichannel.
///
/// # Errors
/// [`CommandError`] for a malformed `tags` value.
pub fn translate_commands(activities: Vec<Activity>) -> Result<Vec<Activity>, CommandError> {
    let mut out = Vec::with_capacity(activities.len());
    for a in activities {
        match BotCommand::parse(&a)?.and_then(|c| c.to_event(&a)) {
            Some(event) => out.push(event),
            None => out.push(a),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
