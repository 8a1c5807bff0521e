//! What the router knows at the moment of routing: members' presence and load, queue lengths.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::fxhash::FxBuildHasher;

/// A member's presence, as the agent console reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Takes work.
    #[default]
    Available,
    /// Takes work up to capacity (Omnichannel pushes work to Busy agents too).
    Busy,
    /// Takes no new work.
    DoNotDisturb,
    /// Takes no new work.
    Away,
    /// Takes no new work.
    Offline,
}

impl Presence {
    /// Whether routing may push work to this member.
    #[must_use]
    pub fn accepts_work(self) -> bool {
        matches!(self, Self::Available | Self::Busy)
    }
}

/// One member's live state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberState {
    /// Presence.
    pub presence: Presence,
    /// Conversations it works now (across all queues).
    pub load: u32,
}

/// One queue's live state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueState {
    /// Conversations waiting in it, not counting the one being routed.
    pub waiting: u32,
}

/// What the router knows about members and queues at the moment of routing.
///
/// A member the state does not mention is taken as: a bot, available with no load (bots
/// have no presence); a human agent, offline. A queue it does not mention has nobody waiting.
///
/// Serializes as `{"members": {"<id>": {"presence": "available", "load": 1}}, "queues":
/// {"<name>": {"waiting": 3}}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingState {
    #[serde(default)]
    members: HashMap<String, MemberState, FxBuildHasher>,
    #[serde(default)]
    queues: HashMap<String, QueueState, FxBuildHasher>,
}

impl RoutingState {
    /// An empty state.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a member's presence and load.
    #[must_use]
    pub fn with_member(mut self, id: impl Into<String>, presence: Presence, load: u32) -> Self {
        self.set_member(id, presence, load);
        self
    }

    /// Sets how many conversations wait in a queue.
    #[must_use]
    pub fn with_waiting(mut self, queue: impl Into<String>, waiting: u32) -> Self {
        self.set_waiting(queue, waiting);
        self
    }

    /// Sets a member's presence and load.
    pub fn set_member(&mut self, id: impl Into<String>, presence: Presence, load: u32) {
        self.members
            .insert(id.into(), MemberState { presence, load });
    }

    /// Forgets a member (a human then counts as offline).
    pub fn remove_member(&mut self, id: &str) -> Option<MemberState> {
        self.members.remove(id)
    }

    /// Sets how many conversations wait in a queue.
    pub fn set_waiting(&mut self, queue: impl Into<String>, waiting: u32) {
        self.queues.insert(queue.into(), QueueState { waiting });
    }

    /// A member's state, as given.
    #[must_use]
    pub fn member_state(&self, id: &str) -> Option<MemberState> {
        self.members.get(id).copied()
    }

    /// How many conversations wait in a queue (0 when not given).
    #[must_use]
    pub fn queue_waiting(&self, queue: &str) -> u32 {
        self.waiting(queue)
    }

    pub(crate) fn waiting(&self, queue: &str) -> u32 {
        self.queues.get(queue).map_or(0, |q| q.waiting)
    }
}
