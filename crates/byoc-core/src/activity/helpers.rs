//! The helpers users of the Bot Framework SDKs reach for: replies, conversation references,
//! mentions and content checks (botbuilder's `TurnContext` / `ActivityEx` equivalents).

use super::{
    Activity, ActivityType, ChannelAccount, ConversationReference, Entity, Mention, RawJson,
    TextFormat,
};

impl Activity {
    /// A reply to this activity: `from`/`recipient` swapped, same conversation, channel and
    /// service URL, `replyToId` set to this activity's id, locale kept.
    #[must_use]
    pub fn create_reply(&self, text: impl Into<String>) -> Activity {
        Activity {
            kind: ActivityType::Message,
            text: Some(text.into()),
            text_format: Some(TextFormat::Plain),
            from: self.recipient.clone(),
            recipient: self.from.clone(),
            conversation: self.conversation.clone(),
            channel_id: self.channel_id.clone(),
            service_url: self.service_url.clone(),
            reply_to_id: self.id.clone(),
            locale: self.locale.clone(),
            ..Activity::default()
        }
    }

    /// The reference to this activity's point in the conversation
    /// (`TurnContext.getConversationReference`): user = `from`, bot = `recipient`.
    #[must_use]
    pub fn conversation_reference(&self) -> ConversationReference {
        ConversationReference {
            activity_id: self.id.clone(),
            user: self.from.clone(),
            bot: self.recipient.clone(),
            conversation: self.conversation.clone(),
            channel_id: self.channel_id.clone(),
            service_url: self.service_url.clone(),
            locale: self.locale.clone(),
            ..ConversationReference::default()
        }
    }

    /// Addresses this (outgoing) activity with a reference
    /// (`TurnContext.applyConversationReference`): from = bot, recipient = user,
    /// conversation, channel and service URL from the reference, and `replyToId` set to the
    /// referenced activity.
    pub fn apply_conversation_reference(&mut self, reference: &ConversationReference) {
        self.channel_id.clone_from(&reference.channel_id);
        self.service_url.clone_from(&reference.service_url);
        self.conversation.clone_from(&reference.conversation);
        self.from.clone_from(&reference.bot);
        self.recipient.clone_from(&reference.user);
        if reference.locale.is_some() {
            self.locale.clone_from(&reference.locale);
        }
        if reference.activity_id.is_some() {
            self.reply_to_id.clone_from(&reference.activity_id);
        }
    }

    /// The activity a host feeds to a bot to continue a conversation proactively
    /// (`getContinuationActivity`): an `event` named `ContinueConversation`, addressed from
    /// the user to the bot, with `relatesTo` set to the reference.
    #[must_use]
    pub fn continuation(reference: &ConversationReference) -> Activity {
        Activity {
            kind: ActivityType::Event,
            name: Some("ContinueConversation".to_owned()),
            channel_id: reference.channel_id.clone(),
            locale: reference.locale.clone(),
            service_url: reference.service_url.clone(),
            conversation: reference.conversation.clone(),
            recipient: reference.bot.clone(),
            from: reference.user.clone(),
            relates_to: Some(Box::new(reference.clone())),
            ..Activity::default()
        }
    }

    /// The `mention` entities of this activity.
    #[must_use]
    pub fn mentions(&self) -> Vec<Mention> {
        self.entities
            .iter()
            .flatten()
            .filter_map(Entity::as_mention)
            .collect()
    }

    /// Whether the activity mentions the account with id `id`.
    #[must_use]
    pub fn mentions_id(&self, id: &str) -> bool {
        self.mentions()
            .iter()
            .any(|m| m.mentioned.as_ref().and_then(|a| a.id.as_deref()) == Some(id))
    }

    /// Adds a mention of `account`, appending `<at>name</at>` to the text.
    pub fn add_mention(&mut self, account: ChannelAccount) {
        let name = account
            .name
            .clone()
            .or_else(|| account.id.clone())
            .unwrap_or_default();
        let tag = format!("<at>{name}</at>");
        match &mut self.text {
            Some(t) if !t.is_empty() => {
                t.push(' ');
                t.push_str(&tag);
            }
            _ => self.text = Some(tag.clone()),
        }
        self.entities
            .get_or_insert_with(Vec::new)
            .push(Entity::mention(account, tag));
    }

    /// The text with the mention markup of account `id` removed and trimmed
    /// (`TurnContext.removeMentionText`).
    #[must_use]
    pub fn text_without_mention(&self, id: &str) -> Option<String> {
        let mut text = self.text.clone()?;
        for m in self.mentions() {
            if m.mentioned.as_ref().and_then(|a| a.id.as_deref()) == Some(id)
                && let Some(t) = m.text.as_deref()
            {
                text = text.replace(t, "");
            }
        }
        Some(text.trim().to_owned())
    }

    /// Whether the activity has non-blank text.
    #[must_use]
    pub fn has_text(&self) -> bool {
        self.text.as_deref().is_some_and(|t| !t.trim().is_empty())
    }

    /// Whether the activity has at least one attachment.
    #[must_use]
    pub fn has_attachments(&self) -> bool {
        self.attachments.as_ref().is_some_and(|a| !a.is_empty())
    }

    /// Whether the activity carries content worth showing: text, attachments, suggested
    /// actions or a `value` (the botbuilder `hasContent` check).
    #[must_use]
    pub fn has_content(&self) -> bool {
        self.has_text()
            || self
                .summary
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
            || self.has_attachments()
            || self
                .suggested_actions
                .as_ref()
                .and_then(|s| s.actions.as_ref())
                .is_some_and(|a| !a.is_empty())
            || self.value.as_ref().is_some_and(|v| !v.is_null())
    }

    /// `channelData` read as `T`.
    ///
    /// # Errors
    /// When `channelData` is absent (reported as a JSON `null` mismatch) or does not match `T`.
    pub fn channel_data_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.channel_data {
            Some(raw) => raw.parse(),
            None => RawJson::null().parse(),
        }
    }

    /// `value` read as `T`.
    ///
    /// # Errors
    /// When `value` is absent (reported as a JSON `null` mismatch) or does not match `T`.
    pub fn value_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.value {
            Some(raw) => raw.parse(),
            None => RawJson::null().parse(),
        }
    }
}
