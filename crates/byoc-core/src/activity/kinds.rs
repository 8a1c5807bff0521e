//! Open string enums of the Activity schema: known values plus `Other(String)`.

use super::macros::open_enum;

open_enum! {
    /// The activity `type`: the Bot Framework Activity schema's types and the Connector
    /// API's `ActivityTypes`, plus botbuilder-js's `invokeResponse`, `command`,
    /// `commandResult` and the SDK-internal `delay` (`docs/protocols/bot-framework.md`).
    /// Unknown types are kept as [`ActivityType::Other`], never rejected.
    pub enum ActivityType {
        /// `message`
        Message = "message",
        /// `contactRelationUpdate`
        ContactRelationUpdate = "contactRelationUpdate",
        /// `conversationUpdate`
        ConversationUpdate = "conversationUpdate",
        /// `typing`
        Typing = "typing",
        /// `endOfConversation`
        EndOfConversation = "endOfConversation",
        /// `event`
        Event = "event",
        /// `invoke`
        Invoke = "invoke",
        /// `invokeResponse`
        InvokeResponse = "invokeResponse",
        /// `deleteUserData`
        DeleteUserData = "deleteUserData",
        /// `messageUpdate`
        MessageUpdate = "messageUpdate",
        /// `messageDelete`
        MessageDelete = "messageDelete",
        /// `installationUpdate`
        InstallationUpdate = "installationUpdate",
        /// `messageReaction`
        MessageReaction = "messageReaction",
        /// `suggestion`
        Suggestion = "suggestion",
        /// `trace`
        Trace = "trace",
        /// `handoff` (in-bot focus change; not a wire hand-off)
        Handoff = "handoff",
        /// `command`
        Command = "command",
        /// `commandResult`
        CommandResult = "commandResult",
        /// `delay` (SDK-internal, never sent)
        Delay = "delay",
    }
}

#[allow(clippy::derivable_impls)] // the enum is macro-generated
impl Default for ActivityType {
    fn default() -> Self {
        Self::Message
    }
}

open_enum! {
    /// `textFormat`: how `text` is to be read. The Activity schema's default is `plain`.
    pub enum TextFormat {
        /// `plain`
        Plain = "plain",
        /// `markdown`
        Markdown = "markdown",
        /// `xml`
        Xml = "xml",
    }
}

open_enum! {
    /// `attachmentLayout`.
    pub enum AttachmentLayout {
        /// `list` (the default)
        List = "list",
        /// `carousel`
        Carousel = "carousel",
    }
}

open_enum! {
    /// `inputHint`, with the Connector API's values (the short forms some prose of the
    /// Activity schema uses arrive as `Other`).
    pub enum InputHint {
        /// `acceptingInput`
        AcceptingInput = "acceptingInput",
        /// `ignoringInput`
        IgnoringInput = "ignoringInput",
        /// `expectingInput`
        ExpectingInput = "expectingInput",
    }
}

open_enum! {
    /// `importance`.
    pub enum Importance {
        /// `low`
        Low = "low",
        /// `normal`
        Normal = "normal",
        /// `high`
        High = "high",
    }
}

open_enum! {
    /// `deliveryMode`.
    pub enum DeliveryMode {
        /// `normal`
        Normal = "normal",
        /// `notification`
        Notification = "notification",
        /// `ephemeral`
        Ephemeral = "ephemeral",
        /// `expectReplies`
        ExpectReplies = "expectReplies",
        /// `stream` (Direct Line JS streaming)
        Stream = "stream",
    }
}

open_enum! {
    /// `code` of an `endOfConversation` activity.
    pub enum EndOfConversationCode {
        /// `unknown`
        Unknown = "unknown",
        /// `completedSuccessfully`
        CompletedSuccessfully = "completedSuccessfully",
        /// `userCancelled`
        UserCancelled = "userCancelled",
        /// `botTimedOut`
        BotTimedOut = "botTimedOut",
        /// `botIssuedInvalidMessage`
        BotIssuedInvalidMessage = "botIssuedInvalidMessage",
        /// `channelFailed`
        ChannelFailed = "channelFailed",
    }
}

open_enum! {
    /// `role` of a channel or conversation account.
    pub enum RoleType {
        /// `user`
        User = "user",
        /// `bot`
        Bot = "bot",
        /// `skill`
        Skill = "skill",
    }
}

open_enum! {
    /// `type` of a [`CardAction`](super::CardAction).
    pub enum ActionType {
        /// `openUrl`
        OpenUrl = "openUrl",
        /// `imBack`
        ImBack = "imBack",
        /// `postBack`
        PostBack = "postBack",
        /// `playAudio`
        PlayAudio = "playAudio",
        /// `playVideo`
        PlayVideo = "playVideo",
        /// `showImage`
        ShowImage = "showImage",
        /// `downloadFile`
        DownloadFile = "downloadFile",
        /// `signin`
        Signin = "signin",
        /// `call`
        Call = "call",
        /// `messageBack`
        MessageBack = "messageBack",
    }
}

open_enum! {
    /// `type` of a message reaction.
    pub enum MessageReactionType {
        /// `like`
        Like = "like",
        /// `plusOne`
        PlusOne = "plusOne",
    }
}

open_enum! {
    /// `state` of a semantic action.
    pub enum SemanticActionState {
        /// `start`
        Start = "start",
        /// `continue`
        Continue = "continue",
        /// `done`
        Done = "done",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_unknown_are_kept() {
        for &wire in ActivityType::KNOWN {
            let t = ActivityType::from(wire);
            assert!(!matches!(t, ActivityType::Other(_)), "{wire}");
            assert_eq!(t.as_str(), wire);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<ActivityType>(&json).unwrap(), t);
        }
        let t: ActivityType = serde_json::from_str("\"futureType\"").unwrap();
        assert_eq!(t, ActivityType::Other("futureType".into()));
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"futureType\"");
        // Comparison is ordinal (A2011): case matters.
        assert_eq!(
            ActivityType::from("Message"),
            ActivityType::Other("Message".into())
        );
    }

    #[test]
    fn every_enum_parses_its_known_values() {
        fn check<T>(known: &[&str])
        where
            T: for<'a> From<&'a str> + serde::Serialize,
        {
            for &w in known {
                assert_eq!(serde_json::to_value(T::from(w)).unwrap(), w);
            }
        }
        check::<TextFormat>(TextFormat::KNOWN);
        check::<AttachmentLayout>(AttachmentLayout::KNOWN);
        check::<InputHint>(InputHint::KNOWN);
        check::<Importance>(Importance::KNOWN);
        check::<DeliveryMode>(DeliveryMode::KNOWN);
        check::<EndOfConversationCode>(EndOfConversationCode::KNOWN);
        check::<RoleType>(RoleType::KNOWN);
        check::<ActionType>(ActionType::KNOWN);
        check::<MessageReactionType>(MessageReactionType::KNOWN);
        check::<SemanticActionState>(SemanticActionState::KNOWN);
    }

    #[test]
    fn a_non_string_is_an_error() {
        assert!(serde_json::from_str::<ActivityType>("5").is_err());
        assert!(serde_json::from_str::<TextFormat>("{}").is_err());
    }
}
