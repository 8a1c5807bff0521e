//! A workstream prepared for routing ([`Router`]) and the live state resolved against it
//! ([`PreparedState`]).
//!
//! Preparing does once what a decision would otherwise redo every time (`super::layout`):
//! member ids become positions, each rule's queue and skills are resolved, runs of rules
//! testing the same field become an index (`super::index`). The prepared state keeps, per
//! queue, a tournament tree over the humans' ranking keys (`super::keys`: the queue's
//! assignment method — free capacity, fewest conversations, round-robin turn, idle time —
//! then id order), updated when a member's presence, load, offers or queue membership
//! change (`log2(humans)` steps), with the humans of identical skills as aligned blocks of
//! leaves, so choosing a human is reading a root: the queue's, or, with required skills,
//! the best subtree root among the groups that have them.

mod rank;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::capacity::PerKind;
use super::hours::Window;
use super::keys::Key;
use super::layout::Layout;
use super::model::Workstream;
use super::state::{MemberState, Presence, RoutingState};
use super::work::Work;

/// A workstream prepared for routing: built once per workstream (and again after the
/// workstream changes), shared by every decision. Make the live state with
/// [`Router::prepare`] and route with [`Router::route`].
///
/// ```
/// # use byoc_core::{ChannelAccount, conversation::Conversation};
/// # use byoc_core::workstream::{Outcome, Presence, Router, RoutingState, Workstream};
/// # let ws = Workstream::from_toml_str(r#"
/// #     name = "Support"
/// #     language = "en-US"
/// #     channel = { kind = "sms", id = "telesign" }
/// #     [[routing_rules]]
/// #     name = "All"
/// #     queue = "Q"
/// #     [[queues]]
/// #     name = "Q"
/// #     members = [{ id = "alice", kind = "agent", capacity = 2 }]
/// # "#).unwrap();
/// # let conv = Conversation::new("c-1", "telesign", ChannelAccount::new("+15550100"), chrono::Utc::now());
/// let router = Router::new(&ws);
/// let mut state = router.prepare(&RoutingState::new());
/// assert!(state.set_member("alice", Presence::Available, 1)); // a presence event
/// let decision = router.route(&conv, &state);
/// assert!(matches!(decision.outcome, Outcome::Assigned(m) if m.id == "alice"));
/// ```
#[derive(Clone, Debug)]
pub struct Router<'w> {
    ws: &'w Workstream,
    pub(crate) layout: Arc<Layout>,
}

impl<'w> Router<'w> {
    /// Prepares a workstream. The workstream should be validated (loading does that); a
    /// rule whose queue does not exist is skipped.
    #[must_use]
    pub fn new(workstream: &'w Workstream) -> Self {
        Self {
            ws: workstream,
            layout: Arc::new(Layout::new(workstream)),
        }
    }

    /// The workstream it routes for.
    #[must_use]
    pub fn workstream(&self) -> &'w Workstream {
        self.ws
    }

    /// Resolves a [`RoutingState`] against this workstream's members and queues; members
    /// and queues the workstream does not have are left out. Nobody waits in the prepared
    /// state's queues yet (the given waiting counts are kept as counts).
    #[must_use]
    pub fn prepare(&self, state: &RoutingState) -> PreparedState {
        let layout = &self.layout;
        let mut members = vec![Live::default(); layout.members.len()];
        for (id, &i) in &layout.member_index {
            members[i as usize].state = state.member_state(id);
        }
        let waiting = self
            .ws
            .queues
            .iter()
            .map(|q| state.queue_waiting(&q.name))
            .collect();
        let mut prepared = PreparedState {
            layout: Arc::clone(layout),
            members,
            turns: vec![0; layout.flat_len],
            joined: vec![true; layout.flat_len],
            tree: vec![0; layout.tree_len],
            waiting,
            windows: vec![
                Window {
                    open: false,
                    from: 0,
                    until: 0,
                };
                layout.schedules.len()
            ],
            turn: vec![0; layout.queues.len()],
            clock: (DateTime::<Utc>::UNIX_EPOCH, 0),
            work: Work::new(layout.queues.len()),
        };
        for i in 0..prepared.members.len() {
            prepared.update_keys(i);
        }
        prepared
    }

    pub(crate) fn is_for(&self, state: &PreparedState) -> bool {
        Arc::ptr_eq(&self.layout, &state.layout)
    }
}

/// The live state resolved against one [`Router`]: presence, load and queue membership per
/// member, offers outstanding, each queue's ranking of its humans, its waiting
/// conversations and their timers. Updating a member costs one id lookup plus `log2(humans)`
/// steps per queue it is in.
///
/// Use it with the router that prepared it; given to another router, a decision is still
/// right but pays for resolving the state again (and sees nobody waiting).
#[derive(Clone, Debug)]
pub struct PreparedState {
    pub(crate) layout: Arc<Layout>,
    /// Per member: its state as given (`None`: a bot is then available, a human
    /// offline), offers outstanding, free units when last ranked.
    pub(crate) members: Vec<Live>,
    /// Per (queue, human): the turn it was last offered work in that queue (0: never).
    turns: Vec<u32>,
    /// Per (queue, human): signed in to the queue.
    joined: Vec<bool>,
    /// Every queue's trees (see `super::tree`): per group, keys of its humans (0: cannot
    /// take work); per queue, the groups' roots.
    tree: Vec<Key>,
    /// Per queue, waiting conversations the host counts (besides those in `work`).
    waiting: Vec<u32>,
    /// Per schedule, its open/closed window around the last time given.
    pub(crate) windows: Vec<Window>,
    /// Per queue, the last turn handed out.
    turn: Vec<u32>,
    /// The last time given to [`PreparedState::set_time`], and it in milliseconds.
    clock: (DateTime<Utc>, i64),
    pub(crate) work: Work,
}

const OFFLINE: MemberState = MemberState::new(Presence::Offline, 0);

/// Seconds since 2020-01-01 (UTC) as 32 bits, for idle times in ranking keys.
fn idle_code(at: Option<DateTime<Utc>>) -> u32 {
    const EPOCH_2020: i64 = 1_577_836_800;
    at.map_or(0, |t| {
        u32::try_from((t.timestamp() - EPOCH_2020).clamp(0, i64::from(u32::MAX))).unwrap_or(0)
    })
}

/// One member's live facts, side by side so that ranking it reads one place.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Live {
    /// Its state as given.
    pub(crate) state: Option<MemberState>,
    /// Conversations offered to it and not yet answered, by kind.
    pub(crate) reserved: PerKind<u32>,
    /// Its free units when its keys were last computed.
    pub(crate) last_free: u32,
}

/// How much room a member has for one more conversation of the workstream's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Room {
    /// Units in use (conversations held and offered).
    pub(crate) used: u64,
    /// Units it has.
    pub(crate) units: u32,
    pub(crate) free: u32,
    /// Conversations of this kind held or offered, and the kind's limit.
    pub(crate) count: u32,
    pub(crate) max: u32,
    pub(crate) fits: bool,
    /// Offers outstanding, of any kind.
    pub(crate) reserved: u32,
}

/// A human chosen in a queue: position among its humans and ranking key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pick {
    pub(crate) j: u32,
    pub(crate) key: Key,
    /// How closely its skills match (closest matching only, else 0).
    pub(crate) closeness: u32,
}

impl PreparedState {
    /// Sets a member's presence and load (conversations of any kind), keeping what else
    /// is known about it; `false` (and no change) when the workstream has no member with
    /// this id.
    pub fn set_member(&mut self, id: &str, presence: Presence, load: u32) -> bool {
        let idle_since = self.member_state(id).and_then(|s| s.idle_since);
        let mut state = MemberState::new(presence, load);
        state.idle_since = idle_since;
        self.replace_member(id, Some(state))
    }

    /// Sets a member's state as of `now`. When `state` gives no idle time, the member
    /// counts as idle since `now` if its load dropped or it started taking work, else since
    /// when it was before. `false` when the workstream has no member with this id.
    pub fn update_member(&mut self, id: &str, mut state: MemberState, now: DateTime<Utc>) -> bool {
        let before = self.member_state(id);
        if state.idle_since.is_none() {
            state.idle_since = match before {
                Some(old)
                    if old.total_load() > state.total_load()
                        || (!old.presence.accepts_work() && state.presence.accepts_work()) =>
                {
                    Some(now)
                }
                Some(old) => old.idle_since,
                None => Some(now),
            };
        }
        self.replace_member(id, Some(state))
    }

    /// Forgets a member (a human then counts as offline, a bot as available); `false` when
    /// the workstream has no member with this id.
    pub fn remove_member(&mut self, id: &str) -> bool {
        self.replace_member(id, None)
    }

    /// Signs a human member in to (or out of) one of the queues that list it: signed out,
    /// it is offered nothing from that queue. Members start signed in to every queue that
    /// lists them. `false` when the queue does not list a human with this id.
    pub fn set_queue_membership(&mut self, id: &str, queue: &str, joined: bool) -> bool {
        let (Some(&m), Some(&q)) = (
            self.layout.member_index.get(id),
            self.layout.queue_index.get(queue),
        ) else {
            return false;
        };
        let layout = Arc::clone(&self.layout);
        let Some(&(_, j)) = layout
            .members
            .get(m as usize)
            .and_then(|info| info.humans.iter().find(|&&(qq, _)| qq == q))
        else {
            return false;
        };
        let Some(flat) = layout
            .queues
            .get(q as usize)
            .map(|l| l.flat_at + j as usize)
        else {
            return false;
        };
        if let Some(slot) = self.joined.get_mut(flat) {
            *slot = joined;
        }
        self.update_keys(m as usize);
        true
    }

    /// Whether a human is signed in to a queue (`false` when the queue does not list it).
    #[must_use]
    pub fn is_in_queue(&self, id: &str, queue: &str) -> bool {
        let (Some(&m), Some(&q)) = (
            self.layout.member_index.get(id),
            self.layout.queue_index.get(queue),
        ) else {
            return false;
        };
        self.layout
            .members
            .get(m as usize)
            .and_then(|info| info.humans.iter().find(|&&(qq, _)| qq == q))
            .and_then(|&(q, j)| self.flat(q as usize, j))
            .is_some_and(|flat| self.joined.get(flat).copied().unwrap_or(false))
    }

    /// Sets how many conversations wait in a queue besides those the state tracks; `false`
    /// when there is no such queue.
    pub fn set_waiting(&mut self, queue: &str, waiting: u32) -> bool {
        let slot = self
            .layout
            .queue_index
            .get(queue)
            .and_then(|&q| self.waiting.get_mut(q as usize));
        match slot {
            Some(w) => {
                *w = waiting;
                true
            }
            None => false,
        }
    }

    /// A member's state, as given.
    #[must_use]
    pub fn member_state(&self, id: &str) -> Option<MemberState> {
        let &i = self.layout.member_index.get(id)?;
        self.members.get(i as usize).and_then(|l| l.state)
    }

    /// How many conversations wait in a queue: the count given plus those the state
    /// tracks.
    #[must_use]
    pub fn queue_waiting(&self, queue: &str) -> u32 {
        self.layout
            .queue_index
            .get(queue)
            .map_or(0, |&q| self.waiting(q as usize))
    }

    /// Tells the state the time, so that decisions around `now` find each queue's
    /// open/closed state worked out (the router's event calls do this themselves; a
    /// decision at a time not worked out is still right, only slower).
    pub fn set_time(&mut self, now: DateTime<Utc>) {
        self.clock = (now, now.timestamp_millis());
        let t = now.timestamp();
        let layout = Arc::clone(&self.layout);
        for (w, schedule) in self.windows.iter_mut().zip(&layout.schedules) {
            if !w.covers(t) {
                *w = schedule.window(t);
            }
        }
    }

    /// `now` in milliseconds since the epoch (the time last given to
    /// [`PreparedState::set_time`] is converted already).
    #[inline]
    pub(crate) fn millis(&self, now: DateTime<Utc>) -> i64 {
        if self.clock.0 == now {
            self.clock.1
        } else {
            now.timestamp_millis()
        }
    }

    /// Back to a [`RoutingState`]: the members given, by id, and the queues where someone
    /// waits, by name (the count given plus those tracked).
    #[must_use]
    pub fn to_routing_state(&self) -> RoutingState {
        let mut state = RoutingState::new();
        for (id, &i) in &self.layout.member_index {
            if let Some(s) = self.members.get(i as usize).and_then(|l| l.state) {
                state.set_member_state(&**id, s);
            }
        }
        for (name, &q) in &self.layout.queue_index {
            let w = self.waiting(q as usize);
            if w > 0 {
                state.set_waiting(&**name, w);
            }
        }
        state
    }

    fn replace_member(&mut self, id: &str, state: Option<MemberState>) -> bool {
        let Some(&i) = self.layout.member_index.get(id) else {
            return false;
        };
        let i = i as usize;
        if let Some(slot) = self.members.get_mut(i) {
            slot.state = state;
        }
        self.update_keys(i);
        true
    }

    /// When the router next needs [`Router::wake`]: the earliest offer timeout, end of a
    /// preferred agent's hold, skill relaxation, `waited_over` limit, or opening of a
    /// closed queue with conversations waiting. `None`: no timer needed.
    #[must_use]
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        let item = self
            .work
            .next_timer()
            .and_then(DateTime::from_timestamp_millis);
        let opens = self
            .work
            .opens_at
            .iter()
            .flatten()
            .min()
            .and_then(|&s| DateTime::from_timestamp(s, 0));
        match (item, opens) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the state tracks this conversation (waiting or offered).
    #[must_use]
    pub fn is_tracked(&self, conversation: &str) -> bool {
        self.work.slot_of(conversation).is_some()
    }
}
