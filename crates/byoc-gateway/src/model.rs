//! The values the engine, the store and the shell exchange: inbound events, the stored
//! conversation record, transcript entries, timers and outbound targets.

mod relay;
mod routing;

pub use relay::{Acknowledge, RelayLink, RoutingPlan, RoutingReport};
pub(crate) use relay::{EVENT_ACKNOWLEDGE, EVENT_ROUTE, event_with};
pub use routing::RoutingAction;

use byoc_core::activity::ConversationReference;
use byoc_core::conversation::Conversation;
use byoc_core::{Activity, Attachment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One inbound event, persisted in the inbox before it is acknowledged and processed in
/// order per conversation key.
///
/// Stored externally tagged (`{"customer": {"activity": ...}}`): activities keep raw JSON
/// parts, which an internally tagged enum could not read back.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InboxEvent {
    /// An activity from the customer's channel.
    Customer {
        /// The normalized activity.
        activity: Box<Activity>,
    },
    /// An activity from a bot (through Direct Line).
    Bot {
        /// The bot's member id.
        bot: String,
        /// The activity.
        activity: Box<Activity>,
    },
    /// An agent's action (agent API).
    Agent {
        /// The conversation acted on.
        conversation: String,
        /// The agent's id.
        agent: String,
        /// What the agent did.
        action: AgentAction,
    },
    /// A timer fired.
    Timer {
        /// The conversation that set it (the key may have moved on to a newer one).
        conversation: String,
        /// Which.
        timer: TimerKind,
    },
    /// An activity from the contact-center platform a relayed workstream goes to (the
    /// Messaging API webhook, the Salesforce Pub/Sub stream): an agent's or a platform
    /// bot's message, typing, a state change, a routing request.
    Platform {
        /// The platform entry (`[channels.{name}]`).
        platform: String,
        /// The byoc conversation the platform's conversation is linked to (an event for an
        /// earlier conversation of the same customer is not applied to a later one).
        conversation: String,
        /// The normalized activity.
        activity: Box<Activity>,
    },
    /// What the workstream router decided about this conversation while another event
    /// was processed (an agent freed up, an offer timed out, a queue overflowed).
    Routing {
        /// The conversation it concerns.
        conversation: String,
        /// What to carry out.
        action: RoutingAction,
        /// The router's trace line for it.
        trace: String,
    },
    /// How a routing answer to the platform went (CCaaS): within the deadline or not.
    PlatformRouting {
        /// The conversation routed.
        conversation: String,
        /// The platform entry.
        platform: String,
        /// What happened.
        report: RoutingReport,
    },
}

/// What an agent does to a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgentAction {
    /// Takes a conversation waiting in one of its queues (or confirms one pushed to it).
    Accept,
    /// Declines the conversation offered to it (it goes to the next agent).
    Decline,
    /// Gives back the conversation offered to it without answering, because it can no
    /// longer take it (it left the queue, went offline): the offer goes to the next agent,
    /// and unlike a decline it is no failed offer and the agent may be offered the
    /// conversation again later.
    Release,
    /// Sends a message to the customer.
    Message {
        /// Text.
        text: Option<String>,
        /// Attachments (where the workstream allows agents to attach).
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// Transfers the conversation to a queue.
    Transfer {
        /// The queue's name.
        queue: String,
    },
    /// Ends the conversation (to wrap-up).
    End,
    /// Finishes wrap-up (closes the conversation).
    WrapUp {
        /// Notes kept in the transcript.
        notes: Option<String>,
    },
}

impl AgentAction {
    /// A short name for logs and errors.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Release => "release",
            Self::Message { .. } => "message",
            Self::Transfer { .. } => "transfer",
            Self::End => "end",
            Self::WrapUp { .. } => "wrap_up",
        }
    }
}

/// Timers the engine asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimerKind {
    /// The bot has not answered a customer message in time: hand the conversation to a
    /// human queue.
    BotTimeout,
    /// Inactivity auto-close, per the workstream's settings for the current state.
    AutoClose,
}

impl TimerKind {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BotTimeout => "bot_timeout",
            Self::AutoClose => "auto_close",
        }
    }

    /// From the stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bot_timeout" => Some(Self::BotTimeout),
            "auto_close" => Some(Self::AutoClose),
            _ => None,
        }
    }
}

/// Everything the gateway keeps about one conversation besides its transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationRecord {
    /// The conversation (its `transcript` field is kept empty: entries live in the store's
    /// transcript).
    pub conversation: Conversation,
    /// The ordering key (`{channel}:{provider conversation id}`).
    pub key: String,
    /// The workstream serving it.
    pub workstream: String,
    /// How to address the customer (from their latest activity).
    pub reference: Option<ConversationReference>,
    /// Whether the agent holding it has accepted it.
    #[serde(default)]
    pub accepted: bool,
    /// Transcript entries written so far (the next entry's position).
    #[serde(default)]
    pub transcript_len: u32,
    /// Since when the customer waits for the bot's answer (the bot timeout runs from here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_bot_since: Option<DateTime<Utc>>,
    /// The platform a relayed conversation goes to, and its keys there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<RelayLink>,
}

/// Who wrote a transcript entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Author {
    /// The customer.
    Customer,
    /// A bot, by id.
    Bot(String),
    /// An agent, by id.
    Agent(String),
    /// The gateway (automated messages, routing notes, losses).
    System,
}

impl Author {
    /// `customer`, `bot:<id>`, `agent:<id>`, `system`.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Self::Customer => "customer".to_owned(),
            Self::Bot(id) => format!("bot:{id}"),
            Self::Agent(id) => format!("agent:{id}"),
            Self::System => "system".to_owned(),
        }
    }
}

/// One transcript entry: an activity, a note (routing, a loss, a refusal), or both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptEntry {
    /// Position in the transcript (0-based).
    pub pos: u32,
    /// Who.
    pub author: Author,
    /// The activity, as exchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Box<Activity>>,
    /// A note about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Where an outbound activity goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Target {
    /// The customer's channel, by channel name.
    Channel(String),
    /// A bot, by member id.
    Bot(String),
    /// A contact-center platform a relayed workstream goes to, by `[channels]` entry.
    Platform(String),
}

impl Target {
    /// `channel:<name>`, `bot:<id>` or `platform:<name>` (the stored form).
    #[must_use]
    pub fn to_stored(&self) -> String {
        match self {
            Self::Channel(c) => format!("channel:{c}"),
            Self::Bot(b) => format!("bot:{b}"),
            Self::Platform(p) => format!("platform:{p}"),
        }
    }

    /// From the stored form.
    #[must_use]
    pub fn from_stored(s: &str) -> Option<Self> {
        match s.split_once(':')? {
            ("channel", c) => Some(Self::Channel(c.to_owned())),
            ("bot", b) => Some(Self::Bot(b.to_owned())),
            ("platform", p) => Some(Self::Platform(p.to_owned())),
            _ => None,
        }
    }
}
