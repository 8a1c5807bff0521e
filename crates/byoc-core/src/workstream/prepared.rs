//! A workstream prepared for routing ([`Router`]) and the live state resolved against it
//! ([`PreparedState`]).
//!
//! Preparing does once what a decision would otherwise redo every time: member ids become
//! positions, each rule's queue is resolved, and runs of rules testing the same field become
//! an index (`super::index`: equality and prefix hash tables, one substring automaton, case
//! folding, negations; the module documents each kind and its cost). The prepared state
//! keeps, per queue, a
//! tournament tree over its humans' ranking keys (free capacity, then id order), updated
//! when a member's presence or load changes (`log2(humans)` steps), so choosing a human is
//! reading the root.

use std::collections::HashMap;
use std::sync::Arc;

use super::fxhash::FxBuildHasher;
use super::index::{Segment, segments};
use super::model::Workstream;
use super::state::{MemberState, Presence, RoutingState};

type FxMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// A member's place in one queue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    /// Index into the layout's members.
    pub(crate) member: u32,
    /// Position in the queue's `members`.
    pub(crate) pos: u32,
    /// The capacity as listed in this queue.
    pub(crate) capacity: Option<u32>,
    /// For a human: its rank among the queue's humans by id (0 sorts first; the first
    /// listed on equal ids).
    rank: u32,
}

/// One queue: its bots and humans in listed order.
#[derive(Clone, Debug)]
pub(crate) struct QueueLayout {
    pub(crate) bots: Vec<Slot>,
    pub(crate) humans: Vec<Slot>,
    /// Where this queue's tournament tree starts in [`PreparedState::tree`].
    tree_at: usize,
    /// Leaves of the tree: `humans.len()` rounded up to a power of two.
    width: usize,
    /// Position among the humans, by rank.
    by_rank: Vec<u32>,
}

impl QueueLayout {
    /// The human with the largest key (most free capacity, then lowest id; the first
    /// listed on a tie), as its position among the humans, and its free capacity: the root
    /// of the queue's tournament tree, whose key names the winner's rank.
    #[inline]
    pub(crate) fn best(&self, state: &PreparedState) -> Option<(usize, u32)> {
        let top = *state.tree.get(self.tree_at + 1)?;
        if top == 0 {
            return None;
        }
        let rank = u32::MAX - top as u32;
        let j = *self.by_rank.get(rank as usize)?;
        Some((j as usize, (top >> 32) as u32))
    }
}

/// What preparing a workstream produces; shared by a [`Router`] and its states.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Member id → index.
    member_index: FxMap<Box<str>, u32>,
    /// Per member, where it is a human: (queue, position among the queue's humans).
    member_keys: Vec<Vec<(u32, u32)>>,
    /// The length of all queues' trees.
    tree_len: usize,
    pub(crate) queues: Vec<QueueLayout>,
    queue_index: FxMap<Box<str>, u32>,
    /// Each rule's queue, when it exists.
    pub(crate) rule_queue: Vec<Option<usize>>,
    pub(crate) default_queue: Option<usize>,
    pub(crate) segments: Vec<Segment>,
}

impl Layout {
    pub(crate) fn queue_position(&self, name: &str) -> Option<usize> {
        self.queue_index.get(name).map(|&q| q as usize)
    }

    fn new(ws: &Workstream) -> Self {
        let queue_index: FxMap<Box<str>, u32> = ws
            .queues
            .iter()
            .enumerate()
            .rev() // the first queue of a name wins, as in `Workstream::queue`
            .map(|(i, q)| (q.name.as_str().into(), i as u32))
            .collect();
        let find_queue = |name: &str| queue_index.get(name).map(|&i| i as usize);

        let mut ids: Vec<&str> = ws
            .queues
            .iter()
            .flat_map(|q| q.members.iter().map(|m| m.id.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let member_index: FxMap<Box<str>, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| ((*id).into(), i as u32))
            .collect();
        let mut member_keys = vec![Vec::new(); ids.len()];
        let mut tree_len = 0;
        let mut queues = Vec::with_capacity(ws.queues.len());
        for queue in &ws.queues {
            let mut layout = QueueLayout {
                bots: Vec::new(),
                humans: Vec::new(),
                tree_at: tree_len,
                width: 1,
                by_rank: Vec::new(),
            };
            for (pos, m) in queue.members.iter().enumerate() {
                let member = member_index.get(m.id.as_str()).copied().unwrap_or(0);
                let slot = Slot {
                    member,
                    pos: pos as u32,
                    capacity: m.capacity,
                    rank: 0,
                };
                if m.is_bot() {
                    layout.bots.push(slot);
                } else {
                    if let Some(keys) = member_keys.get_mut(member as usize) {
                        keys.push((queues.len() as u32, layout.humans.len() as u32));
                    }
                    layout.humans.push(slot);
                }
            }
            let mut by_rank: Vec<u32> = (0..layout.humans.len() as u32).collect();
            by_rank.sort_by_key(|&j| {
                let pos = layout.humans[j as usize].pos;
                (queue.members.get(pos as usize).map(|m| m.id.as_str()), pos)
            });
            for (rank, &j) in by_rank.iter().enumerate() {
                layout.humans[j as usize].rank = rank as u32;
            }
            layout.by_rank = by_rank;
            layout.width = layout.humans.len().next_power_of_two();
            tree_len += 2 * layout.width;
            queues.push(layout);
        }

        let rule_queue = ws
            .routing_rules
            .iter()
            .map(|r| find_queue(&r.queue))
            .collect();
        let default_queue = ws.default_queue.as_deref().and_then(find_queue);

        let segments = segments(&ws.routing_rules);

        Self {
            member_index,
            member_keys,
            tree_len,
            queues,
            queue_index,
            rule_queue,
            default_queue,
            segments,
        }
    }
}

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
    /// and queues the workstream does not have are left out.
    #[must_use]
    pub fn prepare(&self, state: &RoutingState) -> PreparedState {
        let layout = &self.layout;
        let mut members = vec![None; layout.member_keys.len()];
        for (id, &i) in &layout.member_index {
            members[i as usize] = state.member_state(id);
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
            tree: vec![0; layout.tree_len],
            waiting,
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

/// The live state ([`RoutingState`]) resolved against one [`Router`]: presence and load per
/// member by position, waiting count per queue, and each queue's ranking of its humans.
/// Updating a member costs one id lookup plus `log2(humans)` steps per queue it is in.
///
/// Use it with the router that prepared it; given to another router, the decision is still
/// right but pays for resolving the state again.
#[derive(Clone, Debug)]
pub struct PreparedState {
    pub(crate) layout: Arc<Layout>,
    /// Per member; `None` = not given (a bot is then available, a human offline).
    members: Vec<Option<MemberState>>,
    /// Per queue, a tournament tree (max) over its humans' keys, `free << 32 | (u32::MAX -
    /// rank)`, or 0 when the human cannot take work: node `i` at `tree_at + i`, its
    /// children at `2i` and `2i + 1`, the leaves from `width`.
    tree: Vec<u64>,
    /// Per queue.
    waiting: Vec<u32>,
}

const OFFLINE: MemberState = MemberState {
    presence: Presence::Offline,
    load: 0,
};

impl PreparedState {
    /// Sets a member's presence and load; `false` (and no change) when the workstream has
    /// no member with this id.
    pub fn set_member(&mut self, id: &str, presence: Presence, load: u32) -> bool {
        self.replace_member(id, Some(MemberState { presence, load }))
    }

    /// Forgets a member (a human then counts as offline, a bot as available); `false` when
    /// the workstream has no member with this id.
    pub fn remove_member(&mut self, id: &str) -> bool {
        self.replace_member(id, None)
    }

    /// Sets how many conversations wait in a queue; `false` when there is no such queue.
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
        self.members.get(i as usize).copied().flatten()
    }

    /// How many conversations wait in a queue (0 when not given).
    #[must_use]
    pub fn queue_waiting(&self, queue: &str) -> u32 {
        self.layout
            .queue_index
            .get(queue)
            .and_then(|&q| self.waiting.get(q as usize))
            .copied()
            .unwrap_or(0)
    }

    /// Back to a [`RoutingState`]: the members given, by id, and the queues where someone
    /// waits, by name.
    #[must_use]
    pub fn to_routing_state(&self) -> RoutingState {
        let mut state = RoutingState::new();
        for (id, &i) in &self.layout.member_index {
            if let Some(Some(s)) = self.members.get(i as usize) {
                state.set_member(&**id, s.presence, s.load);
            }
        }
        for (name, &q) in &self.layout.queue_index {
            if let Some(&w) = self.waiting.get(q as usize).filter(|&&w| w > 0) {
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
            *slot = state;
        }
        self.update_keys(i);
        true
    }

    fn update_keys(&mut self, member: usize) {
        let state = self
            .members
            .get(member)
            .copied()
            .flatten()
            .unwrap_or(OFFLINE);
        let layout = Arc::clone(&self.layout);
        let Some(keys) = layout.member_keys.get(member) else {
            return;
        };
        for &(q, j) in keys {
            let Some(queue) = layout.queues.get(q as usize) else {
                continue;
            };
            let Some(slot) = queue.humans.get(j as usize) else {
                continue;
            };
            let key = human_key(state, slot.capacity.unwrap_or(0), slot.rank);
            let Some(tree) = self
                .tree
                .get_mut(queue.tree_at..queue.tree_at + 2 * queue.width)
            else {
                continue;
            };
            let mut node = queue.width + j as usize;
            tree[node] = key;
            while node > 1 {
                node /= 2;
                tree[node] = tree[2 * node].max(tree[2 * node + 1]);
            }
        }
    }

    /// A bot's state (available when not given).
    pub(crate) fn bot(&self, slot: &Slot) -> MemberState {
        self.members
            .get(slot.member as usize)
            .copied()
            .flatten()
            .unwrap_or_default()
    }

    /// A human's state (offline when not given).
    pub(crate) fn human(&self, slot: &Slot) -> MemberState {
        self.members
            .get(slot.member as usize)
            .copied()
            .flatten()
            .unwrap_or(OFFLINE)
    }

    pub(crate) fn waiting(&self, queue: usize) -> u32 {
        self.waiting.get(queue).copied().unwrap_or(0)
    }
}

/// Larger is better: more free capacity first, then the id that sorts first; 0 = cannot
/// take work.
fn human_key(s: MemberState, capacity: u32, rank: u32) -> u64 {
    if !s.presence.accepts_work() || s.load >= capacity {
        0
    } else {
        (u64::from(capacity - s.load) << 32) | u64::from(u32::MAX - rank)
    }
}
