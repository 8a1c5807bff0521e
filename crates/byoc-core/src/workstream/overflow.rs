//! Overflow: what a queue does when it cannot serve a conversation in time.
//!
//! Checked in order, the first entry whose condition holds applies. Before queueing, once
//! per conversation entering the queue through its rules (a conversation that overflows into
//! another queue enters it without that queue's checks, so transfers never loop):
//! `closed` (outside the queue's operating hours), `waiting_over` (more than N would wait),
//! `estimated_wait_over`. After queueing: `waited_over` (checked when the wait passes the
//! limit) and `offers_failed` (after N offers declined or timed out).
//!
//! ```toml
//! overflow = [
//!     { when = "closed", then = { transfer = "AfterHours" } },
//!     { when = { waiting_over = 20 }, then = { end = "We are very busy; please write again later." } },
//!     { when = { estimated_wait_over = "10m" }, then = { wait = "Expect a wait of over 10 minutes." } },
//!     { when = { waited_over = "15m" }, then = { transfer = "Callback" } },
//!     { when = { offers_failed = 3 }, then = { transfer = "Supervisors" } },
//! ]
//! ```

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration;

/// One overflow entry: when `when` holds, do `then`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverflowRule {
    /// The condition.
    pub when: OverflowCondition,
    /// The action.
    pub then: OverflowAction,
}

/// When a queue overflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OverflowCondition {
    /// Before queueing: the queue is outside its operating hours.
    Closed,
    /// Before queueing: more than this many conversations would wait.
    WaitingOver(u32),
    /// Before queueing: the estimated wait exceeds this.
    EstimatedWaitOver(
        #[serde(
            deserialize_with = "duration::deserialize",
            serialize_with = "duration::serialize"
        )]
        Duration,
    ),
    /// After queueing: the conversation has waited longer than this.
    WaitedOver(
        #[serde(
            deserialize_with = "duration::deserialize",
            serialize_with = "duration::serialize"
        )]
        Duration,
    ),
    /// After queueing: this many offers were declined or timed out.
    OffersFailed(u32),
}

impl OverflowCondition {
    /// Whether it is checked before the conversation enters the queue.
    #[must_use]
    pub fn is_before_queueing(self) -> bool {
        matches!(
            self,
            Self::Closed | Self::WaitingOver(_) | Self::EstimatedWaitOver(_)
        )
    }
}

impl fmt::Display for OverflowCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("outside operating hours"),
            Self::WaitingOver(n) => write!(f, "more than {n} would wait"),
            Self::EstimatedWaitOver(d) => {
                write!(f, "estimated wait over {}", duration::format(*d))
            }
            Self::WaitedOver(d) => write!(f, "waited over {}", duration::format(*d)),
            Self::OffersFailed(n) => write!(f, "{n} offers declined or timed out"),
        }
    }
}

/// What an overflowing queue does with the conversation. Messages are templates with the
/// automated messages' placeholders (`Workstream::render_text`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OverflowAction {
    /// Move it to this queue.
    Transfer(String),
    /// End it after sending this message (empty: none).
    End(String),
    /// Keep it waiting, and send this message.
    Wait(String),
}

impl OverflowAction {
    /// The message to send, if any.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::End(m) | Self::Wait(m) => Some(m.as_str()).filter(|m| !m.is_empty()),
            Self::Transfer(_) => None,
        }
    }
}

impl fmt::Display for OverflowAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transfer(q) => write!(f, "transfer to queue {q}"),
            Self::End(_) => f.write_str("end the conversation"),
            Self::Wait(_) => f.write_str("keep waiting, with a message"),
        }
    }
}
