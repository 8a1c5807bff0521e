//! What the engine reports besides state: conversation hops (the demo's terminal, logs)
//! and notices for agents (server-sent events).

use std::fmt;

use serde::Serialize;

/// One hop of a conversation, for the demo's terminal and the logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Hop {
    /// The conversation.
    pub conversation: String,
    /// What happened.
    pub kind: HopKind,
    /// The message text, when the hop carries one (shown by the demo, never logged).
    #[serde(skip)]
    pub text: Option<String>,
}

/// What a hop was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "hop", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HopKind {
    /// A new conversation on a channel.
    Started {
        /// The channel.
        channel: String,
    },
    /// The customer's message went to the bot.
    CustomerToBot {
        /// The bot.
        bot: String,
    },
    /// The bot answered the customer.
    BotToCustomer {
        /// The bot.
        bot: String,
    },
    /// The bot handed off (or timed out).
    HandOff {
        /// The bot.
        bot: String,
        /// Why.
        reason: String,
    },
    /// Routing put the conversation in a queue, waiting.
    Queued {
        /// The queue.
        queue: String,
        /// Its position.
        position: u32,
    },
    /// Offered to an agent, who accepts or declines.
    Offered {
        /// The agent.
        agent: String,
        /// The queue.
        queue: String,
    },
    /// An offer ended without an answer or was declined; the router moves on.
    OfferEnded {
        /// The agent.
        agent: String,
        /// `declined`, `timed out` or `withdrawn`.
        how: String,
    },
    /// The queue's overflow applied: transferred to another queue, or ended.
    Overflow {
        /// The queue that overflowed.
        queue: String,
        /// The queue it went to (`None`: the conversation ends).
        to: Option<String>,
    },
    /// An agent was assigned (or accepted).
    Assigned {
        /// The agent.
        agent: String,
        /// The queue.
        queue: Option<String>,
    },
    /// The customer's message went to the agent.
    CustomerToAgent {
        /// The agent.
        agent: String,
    },
    /// The agent answered the customer.
    AgentToCustomer {
        /// The agent.
        agent: String,
    },
    /// An automated message went to the customer.
    Automated {
        /// Which (`greeting`, `agent_joined`, ...).
        message: String,
    },
    /// Routing found no place (full queue or no rule).
    NotRouted {
        /// Why.
        reason: String,
    },
    /// The agent ended the conversation (wrap-up).
    Ended {
        /// The agent.
        agent: String,
    },
    /// The conversation closed.
    Closed {
        /// Why.
        reason: String,
    },
    /// The customer's activity was relayed to the contact-center platform.
    CustomerToPlatform {
        /// The platform entry.
        platform: String,
    },
    /// The platform's agent (or bot) answered the customer.
    PlatformToCustomer {
        /// The platform entry.
        platform: String,
        /// Who, on the platform.
        author: String,
    },
    /// Something happened on the platform (an agent accepted, a transfer, the end).
    PlatformEvent {
        /// The platform entry.
        platform: String,
        /// What.
        event: String,
    },
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = self.conversation.get(..8).unwrap_or(&self.conversation);
        write!(f, "[{short}] ")?;
        match &self.kind {
            HopKind::Started { channel } => write!(f, "new conversation on {channel}")?,
            HopKind::CustomerToBot { bot } => write!(f, "customer -> bot {bot}")?,
            HopKind::BotToCustomer { bot } => write!(f, "bot {bot} -> customer")?,
            HopKind::HandOff { bot, reason } => write!(f, "bot {bot} hands off ({reason})")?,
            HopKind::Queued { queue, position } => {
                write!(f, "queue {queue}: waiting at position {position}")?;
            }
            HopKind::Offered { agent, queue } => {
                write!(f, "queue {queue} -> offered to agent {agent}")?;
            }
            HopKind::OfferEnded { agent, how } => write!(f, "offer to agent {agent} {how}")?,
            HopKind::Overflow { queue, to } => match to {
                Some(to) => write!(f, "queue {queue} overflows -> queue {to}")?,
                None => write!(f, "queue {queue} overflows -> conversation ends")?,
            },
            HopKind::Assigned { agent, queue } => match queue {
                Some(q) => write!(f, "queue {q} -> agent {agent}")?,
                None => write!(f, "-> agent {agent}")?,
            },
            HopKind::CustomerToAgent { agent } => write!(f, "customer -> agent {agent}")?,
            HopKind::AgentToCustomer { agent } => write!(f, "agent {agent} -> customer")?,
            HopKind::Automated { message } => write!(f, "gateway -> customer ({message})")?,
            HopKind::NotRouted { reason } => write!(f, "not routed: {reason}")?,
            HopKind::Ended { agent } => write!(f, "agent {agent} ended the conversation")?,
            HopKind::Closed { reason } => write!(f, "closed ({reason})")?,
            HopKind::CustomerToPlatform { platform } => write!(f, "customer -> {platform}")?,
            HopKind::PlatformToCustomer { platform, author } => {
                write!(f, "{platform} {author} -> customer")?;
            }
            HopKind::PlatformEvent { platform, event } => write!(f, "{platform}: {event}")?,
        }
        if let Some(text) = &self.text {
            write!(f, ": {text:?}")?;
        }
        Ok(())
    }
}

/// Something agents watching a queue or a conversation should hear about (agent API
/// server-sent events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Notice {
    /// The conversation.
    pub conversation: String,
    /// Its queue, if any.
    pub queue: Option<String>,
    /// The agent it concerns, if one.
    pub agent: Option<String>,
    /// What happened.
    pub event: NoticeKind,
}

/// What a notice is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeKind {
    /// Assigned to the agent.
    Assigned,
    /// Offered to the agent: accept or decline before `expires_at`.
    Offered {
        /// When the offer times out.
        expires_at: chrono::DateTime<chrono::Utc>,
    },
    /// The offer to the agent is over (timed out, declined, or the conversation left).
    OfferWithdrawn,
    /// Waiting in the queue.
    Waiting,
    /// The customer wrote.
    CustomerMessage,
    /// Transferred to another queue.
    Transferred,
    /// Ended (wrap-up).
    Ended,
    /// Closed.
    Closed,
    /// The agent's action was refused.
    Refused {
        /// Why.
        reason: String,
    },
}
