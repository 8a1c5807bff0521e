//! What the router knows at the moment of routing: members' presence and load, queue lengths.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::capacity::PerKind;
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
///
/// `load` counts the conversations it works now across all queues and workstreams;
/// `by_kind` says how many of them are of each channel kind, for capacity profiles (those
/// not attributed to a kind cost what one of the routed workstream's kind costs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemberState {
    /// Presence.
    pub presence: Presence,
    /// Conversations it works now (across all queues).
    pub load: u32,
    /// Of those, how many per channel kind.
    #[serde(default, skip_serializing_if = "is_zero_loads")]
    pub by_kind: PerKind<u32>,
    /// Since when it has been idle: its last conversation ended or it came online, whichever
    /// is later (for the longest-idle assignment method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_since: Option<DateTime<Utc>>,
}

fn is_zero_loads(k: &PerKind<u32>) -> bool {
    k.total() == 0
}

impl MemberState {
    /// A presence and a load of conversations of any kind.
    #[must_use]
    pub const fn new(presence: Presence, load: u32) -> Self {
        Self {
            presence,
            load,
            by_kind: PerKind {
                chat: 0,
                sms: 0,
                messaging: 0,
            },
            idle_since: None,
        }
    }

    /// With the conversations it works per kind (`load` becomes at least their sum).
    #[must_use]
    pub fn with_kinds(mut self, by_kind: PerKind<u32>) -> Self {
        self.by_kind = by_kind;
        self.load = self.load.max(by_kind.total());
        self
    }

    /// With the time it became idle.
    #[must_use]
    pub fn with_idle_since(mut self, at: DateTime<Utc>) -> Self {
        self.idle_since = Some(at);
        self
    }

    /// The conversations it works: `load`, at least the sum per kind.
    #[must_use]
    pub fn total_load(&self) -> u32 {
        self.load.max(self.by_kind.total())
    }
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
            .insert(id.into(), MemberState::new(presence, load));
    }

    /// Sets a member's whole state.
    pub fn set_member_state(&mut self, id: impl Into<String>, state: MemberState) {
        self.members.insert(id.into(), state);
    }

    /// With a member's whole state.
    #[must_use]
    pub fn with_member_state(mut self, id: impl Into<String>, state: MemberState) -> Self {
        self.set_member_state(id, state);
        self
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
