//! How a queue picks among the agents who can take a conversation, how it offers the
//! conversation to them, and which agent a conversation prefers.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::condition::Field;
use super::duration;

/// How a queue orders the agents who can take a conversation. Ties always go to the lowest
/// id.
///
/// In files: `assignment = "highest_capacity"` (the default), `"round_robin"`,
/// `"longest_idle"`, or `assignment = { custom = ["least_load", "longest_idle"] }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AssignmentMethod {
    /// Most free capacity (units) first; among equals, the one offered work least recently
    /// in this queue (round robin), then the lowest id.
    #[default]
    HighestCapacity,
    /// The agent offered work least recently in this queue first (the order kept per queue
    /// across decisions; never-offered agents by id).
    RoundRobin,
    /// The agent idle longest first: since their last conversation ended or they came
    /// online, whichever is later (an agent whose idle time is not known counts as idle
    /// longest); then round robin.
    LongestIdle,
    /// Up to three sort keys over agent facts, applied in order (`longest_idle` counts as
    /// two, so it combines with one other key at most).
    Custom(Vec<SortKey>),
}

/// The most sort keys a custom assignment method may have.
pub const MAX_SORT_KEYS: usize = 3;

impl AssignmentMethod {
    /// The sort keys this method applies, in order (then the id).
    #[must_use]
    pub fn keys(&self) -> &[SortKey] {
        match self {
            Self::HighestCapacity => &[SortKey::FreeCapacity, SortKey::RoundRobin],
            Self::RoundRobin => &[SortKey::RoundRobin],
            Self::LongestIdle => &[SortKey::LongestIdle, SortKey::RoundRobin],
            Self::Custom(keys) => keys,
        }
    }

    /// Whether this is the default.
    #[must_use]
    pub fn is_default(&self) -> bool {
        *self == Self::HighestCapacity
    }
}

impl fmt::Display for AssignmentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HighestCapacity => f.write_str("highest capacity"),
            Self::RoundRobin => f.write_str("round robin"),
            Self::LongestIdle => f.write_str("longest idle"),
            Self::Custom(keys) => {
                f.write_str("custom order (")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(k.as_str())?;
                }
                f.write_str(")")
            }
        }
    }
}

/// One sort key of a custom assignment method; each puts the better agent first. Counts
/// saturate at 65 535 (more free units, or more conversations, rank as 65 535).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SortKey {
    /// Most free capacity units.
    FreeCapacity,
    /// Fewest conversations held (offers outstanding included).
    LeastLoad,
    /// Idle longest.
    LongestIdle,
    /// Offered work least recently in this queue.
    RoundRobin,
}

impl SortKey {
    /// The name as written in files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FreeCapacity => "free_capacity",
            Self::LeastLoad => "least_load",
            Self::LongestIdle => "longest_idle",
            Self::RoundRobin => "round_robin",
        }
    }
}

/// Offering instead of assigning: a conversation is offered to one agent, who accepts or
/// declines within `timeout`; on decline or timeout it is offered to the next agent, never
/// again to one who declined it. Bots take conversations at once. A queue without `offer`
/// assigns directly (the agent is deemed to accept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferPolicy {
    /// How long an agent has to answer (`"45s"`).
    #[serde(
        deserialize_with = "duration::deserialize",
        serialize_with = "duration::serialize"
    )]
    pub timeout: Duration,
}

/// The agent a conversation prefers: offered it first when free, else the conversation
/// waits for them up to `wait` before going to the rest of the queue. The agent must be a
/// human member of the queue; otherwise the preference is ignored.
///
/// `preferred_agent = { from = "context.PreferredAgent", wait = "2m" }`, or
/// `{ last_agent = true }` for the conversation's most recent agent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PreferredAgent {
    /// A context variable (or customer fact) holding the agent's id, such as the customer's
    /// last agent, which the host sets when the conversation starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Field>,
    /// Else the conversation's most recent agent participant.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub last_agent: bool,
    /// How long to wait for the agent when they are not free. Default 0: go to the queue at
    /// once.
    #[serde(
        default,
        deserialize_with = "duration::deserialize",
        serialize_with = "duration::serialize",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub wait: Duration,
}
