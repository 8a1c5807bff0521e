//! What the workstream router decided about a conversation other than the one being
//! processed (an offer made when an agent freed up, an offer timed out, an overflow),
//! carried to that conversation's own inbox so that its record, transcript and messages
//! change in its own order.

use byoc_core::workstream::{Action, Withdrawal};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One router action, owned and stored ([`InboxEvent::Routing`](super::InboxEvent::Routing)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
#[non_exhaustive]
pub enum RoutingAction {
    /// Offered to an agent until `expires_at` (accept or decline through the agent API).
    Offered {
        /// The queue it is offered from.
        queue: String,
        /// The agent.
        agent: String,
        /// When the offer times out.
        expires_at: DateTime<Utc>,
    },
    /// The offer to this agent is over.
    Withdrawn {
        /// The agent.
        agent: String,
        /// It timed out (else the conversation left the queue).
        timed_out: bool,
    },
    /// Assigned to a member (an accepted offer, a bot, a queue without offers).
    Assigned {
        /// The queue it leaves.
        queue: String,
        /// The member.
        member: String,
        /// The member is a bot.
        bot: bool,
        /// The member's display name.
        name: String,
    },
    /// It waits at this position (the `queue_position` message).
    Waiting {
        /// The queue.
        queue: String,
        /// 1-based.
        position: u32,
        /// Estimated wait, in seconds, when the queue can tell.
        estimated_wait_secs: Option<u64>,
    },
    /// An overflow message (a template) to send the customer.
    Message {
        /// The template.
        template: String,
    },
    /// Overflow moved it to another queue.
    Transferred {
        /// The queue it left.
        from: String,
        /// The queue it waits in now.
        to: String,
    },
    /// Overflow ends it, after this message (a template), if any.
    Ended {
        /// The queue that overflowed.
        queue: String,
        /// The template.
        message: Option<String>,
    },
}

impl RoutingAction {
    /// The owned form of a router action.
    #[must_use]
    pub fn of(action: &Action<'_>) -> Option<Self> {
        Some(match action {
            Action::Offer {
                queue,
                member,
                expires_at,
                ..
            } => Self::Offered {
                queue: queue.name.clone(),
                agent: member.id.clone(),
                expires_at: *expires_at,
            },
            Action::Withdraw { member, reason, .. } => Self::Withdrawn {
                agent: member.id.clone(),
                timed_out: *reason == Withdrawal::TimedOut,
            },
            Action::Assign { queue, member, .. } => Self::Assigned {
                queue: queue.name.clone(),
                member: member.id.clone(),
                bot: member.is_bot(),
                name: member.display_name().to_owned(),
            },
            Action::Wait {
                queue,
                position,
                estimated_wait,
                ..
            } => Self::Waiting {
                queue: queue.name.clone(),
                position: *position,
                estimated_wait_secs: estimated_wait.map(|w| w.as_secs()),
            },
            Action::Message { text, .. } => Self::Message {
                template: (*text).to_owned(),
            },
            Action::Transfer { from, to, .. } => Self::Transferred {
                from: from.name.clone(),
                to: to.name.clone(),
            },
            Action::End { queue, message, .. } => Self::Ended {
                queue: queue.name.clone(),
                message: message.map(str::to_owned),
            },
            _ => return None,
        })
    }
}
