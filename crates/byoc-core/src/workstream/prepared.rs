//! A workstream prepared for routing ([`Router`]) and the live state resolved against it
//! ([`PreparedState`]).
//!
//! Preparing does once what a decision would otherwise redo every time (`super::layout`):
//! member ids become positions, each rule's queue and skills are resolved, runs of rules
//! testing the same field become an index (`super::index`). The prepared state keeps, per
//! queue and per group of humans with the same skills, a tournament tree over the humans'
//! ranking keys (the queue's assignment method: free capacity, round-robin turn, idle time,
//! then id order), and a tree over the groups' best keys, both updated when a member's
//! presence, load or queue membership changes (`log2` steps each), so choosing a human is
//! reading a root: the queue's, or, with required skills, the best root among the groups
//! that have them.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::assignment::SortKey;
use super::capacity::PerKind;
use super::hours::Window;
use super::layout::{Layout, QueueLayout, Slot};
use super::model::{ChannelKind, Workstream};
use super::skills::{Needs, SkillMatching, closeness, meets_all};
use super::state::{MemberState, Presence, RoutingState};
use super::tree;
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
        let mut members = vec![None; layout.members.len()];
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
            reserved: vec![PerKind::default(); layout.members.len()],
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
            turn: 0,
            last_free: vec![0; layout.members.len()],
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
    /// Per member; `None` = not given (a bot is then available, a human offline).
    members: Vec<Option<MemberState>>,
    /// Per member, conversations offered and not yet answered, by kind.
    pub(crate) reserved: Vec<PerKind<u32>>,
    /// Per (queue, human): the turn it was last offered work in that queue (0: never).
    turns: Vec<u32>,
    /// Per (queue, human): signed in to the queue.
    joined: Vec<bool>,
    /// Every queue's trees (see `super::tree`): per group, keys of its humans (0: cannot
    /// take work); per queue, the groups' roots.
    tree: Vec<u128>,
    /// Per queue, waiting conversations the host counts (besides those in `work`).
    waiting: Vec<u32>,
    /// Per schedule, its open/closed window around the last time given.
    pub(crate) windows: Vec<Window>,
    /// The last turn handed out.
    turn: u32,
    /// Per member, its free units when its keys were last computed.
    last_free: Vec<u32>,
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
}

/// A human chosen in a queue: position among its humans and ranking key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pick {
    pub(crate) j: u32,
    pub(crate) key: u128,
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
        let Some(flat) = layout.queues.get(q as usize).map(|l| l.flat_at + j as usize) else {
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
        self.members.get(i as usize).copied().flatten()
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
        let t = now.timestamp();
        let layout = Arc::clone(&self.layout);
        for (w, schedule) in self.windows.iter_mut().zip(&layout.schedules) {
            if !w.covers(t) {
                *w = schedule.window(t);
            }
        }
    }

    /// Back to a [`RoutingState`]: the members given, by id, and the queues where someone
    /// waits, by name (the count given plus those tracked).
    #[must_use]
    pub fn to_routing_state(&self) -> RoutingState {
        let mut state = RoutingState::new();
        for (id, &i) in &self.layout.member_index {
            if let Some(Some(s)) = self.members.get(i as usize) {
                state.set_member_state(&**id, *s);
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
            *slot = state;
        }
        self.update_keys(i);
        true
    }

    pub(crate) fn flat(&self, q: usize, j: u32) -> Option<usize> {
        self.layout.queues.get(q).map(|l| l.flat_at + j as usize)
    }

    /// Recomputes a member's keys in every queue it is a human of, and marks for
    /// re-evaluation the queues where it can take more than before.
    pub(crate) fn update_keys(&mut self, member: usize) {
        let layout = Arc::clone(&self.layout);
        let Some(info) = layout.members.get(member) else {
            return;
        };
        let free = self.room(member as u32).free;
        let last_free = self
            .last_free
            .get_mut(member)
            .map_or(0, |f| std::mem::replace(f, free));
        for &(q, j) in &info.humans {
            let Some(queue) = layout.queues.get(q as usize) else {
                continue;
            };
            let Some(slot) = queue.humans.get(j as usize) else {
                continue;
            };
            let key = self.human_key(q as usize, queue, j, slot);
            let Some(group) = queue.groups.get(slot.group as usize) else {
                continue;
            };
            let before = self.key_of(q as usize, j);
            let Some(trees) = self.tree.get_mut(group.at..group.at + 2 * group.width) else {
                continue;
            };
            let group_root = tree::set(trees, group.width, slot.leaf as usize, key);
            if let Some(top) = self
                .tree
                .get_mut(queue.top_at..queue.top_at + 2 * queue.top_width)
            {
                tree::set(top, queue.top_width, slot.group as usize, group_root);
            }
            // It can take work it could not before, or has more room.
            if key != 0 && (before == 0 || free > last_free) {
                self.work.mark(q as usize);
            }
        }
    }

    /// A human's state (offline when not given).
    pub(crate) fn human(&self, slot: &Slot) -> MemberState {
        self.members
            .get(slot.member as usize)
            .copied()
            .flatten()
            .unwrap_or(OFFLINE)
    }

    /// A bot's state (available when not given).
    pub(crate) fn bot(&self, slot: &Slot) -> MemberState {
        self.members
            .get(slot.member as usize)
            .copied()
            .flatten()
            .unwrap_or_default()
    }

    pub(crate) fn is_joined(&self, q: usize, slot_j: u32) -> bool {
        self.flat(q, slot_j)
            .and_then(|f| self.joined.get(f))
            .copied()
            .unwrap_or(false)
    }

    pub(crate) fn turn_of(&self, q: usize, j: u32) -> u32 {
        self.flat(q, j)
            .and_then(|f| self.turns.get(f))
            .copied()
            .unwrap_or(0)
    }

    /// The member's room for one more conversation of the workstream's kind.
    pub(crate) fn room(&self, member: u32) -> Room {
        let kind = self.layout.kind;
        let s = self
            .members
            .get(member as usize)
            .copied()
            .flatten()
            .unwrap_or(OFFLINE);
        let reserved = self
            .reserved
            .get(member as usize)
            .copied()
            .unwrap_or_default();
        let capacity = self
            .layout
            .members
            .get(member as usize)
            .and_then(|m| m.capacity);
        let Some(cap) = capacity else {
            return Room {
                used: 0,
                units: u32::MAX,
                free: u32::MAX,
                count: 0,
                max: u32::MAX,
                fits: true,
            };
        };
        let counts = PerKind {
            chat: s.by_kind.chat + reserved.chat,
            sms: s.by_kind.sms + reserved.sms,
            messaging: s.by_kind.messaging + reserved.messaging,
        };
        let untyped = s.load.saturating_sub(s.by_kind.total());
        let used = cap.used(&counts, untyped, kind);
        let count = counts.get(kind).saturating_add(untyped);
        let (free, fits) = cap.room(used, count, kind);
        Room {
            used,
            units: cap.units,
            free,
            count,
            max: cap.max.get(kind),
            fits,
        }
    }

    /// A human's ranking key in a queue: the method's sort keys, then id order; 0 when it
    /// cannot take work there.
    fn human_key(&self, q: usize, queue: &QueueLayout, j: u32, slot: &Slot) -> u128 {
        let s = self.human(slot);
        if !s.presence.accepts_work() || !self.is_joined(q, j) {
            return 0;
        }
        let room = self.room(slot.member);
        if !room.fits {
            return 0;
        }
        let reserved = self
            .reserved
            .get(slot.member as usize)
            .map_or(0, PerKind::total);
        let mut key = 0u128;
        for (i, k) in queue.keys.iter().take(3).enumerate() {
            let field = match k {
                SortKey::FreeCapacity => room.free,
                SortKey::LeastLoad => u32::MAX - s.total_load().saturating_add(reserved),
                SortKey::LongestIdle => u32::MAX - idle_code(s.idle_since),
                SortKey::RoundRobin => u32::MAX - self.turn_of(q, j),
            };
            key |= u128::from(field) << (96 - 32 * i);
        }
        key | u128::from(u32::MAX - slot.rank)
    }

    /// Hands out the next turn of a queue to a human (round robin), keeping turns within
    /// 32 bits by renumbering when they run out.
    pub(crate) fn take_turn(&mut self, q: usize, j: u32) {
        if self.turn == u32::MAX {
            // Renumber every queue's turns in their order, then go on.
            let mut order: Vec<usize> = (0..self.turns.len()).collect();
            order.sort_by_key(|&f| self.turns[f]);
            for (n, f) in order.into_iter().enumerate() {
                if self.turns[f] != 0 {
                    self.turns[f] = n as u32 + 1;
                }
            }
            self.turn = self.turns.iter().copied().max().unwrap_or(0);
        }
        self.turn += 1;
        let turn = self.turn;
        if let Some(t) = self.flat(q, j).and_then(|f| self.turns.get_mut(f)) {
            *t = turn;
        }
    }

    /// The best root among a queue's trees: every group, or the groups with `needs`.
    fn root_of(&self, queue: &QueueLayout, g: usize) -> u128 {
        queue.groups.get(g).map_or(0, |group| {
            self.tree
                .get(group.at..group.at + 2 * group.width)
                .map_or(0, tree::root)
        })
    }

    /// The human a queue would pick for `needs`, leaving out `excluded` members.
    pub(crate) fn pick(&self, q: usize, needs: &Needs, excluded: &[u32]) -> Option<Pick> {
        let queue = self.layout.queues.get(q)?;
        let closest = queue.matching == SkillMatching::Closest;
        let to_pick = |key: u128, closeness: u32| {
            let rank = u32::MAX - key as u32;
            queue.by_rank.get(rank as usize).map(|&j| Pick {
                j,
                key,
                closeness,
            })
        };
        if needs.is_empty() && excluded.is_empty() {
            let top = self
                .tree
                .get(queue.top_at..queue.top_at + 2 * queue.top_width)
                .map_or(0, tree::root);
            return (top != 0).then(|| to_pick(top, 0)).flatten();
        }
        let mut best: Option<(u32, u128)> = None;
        for (g, group) in queue.groups.iter().enumerate() {
            let fit = if closest {
                closeness(&group.levels, needs)
            } else if meets_all(&group.levels, needs) {
                0
            } else {
                continue;
            };
            let key = if excluded.is_empty() {
                self.root_of(queue, g)
            } else {
                // Some members are left out: the best of the others, one by one.
                let trees = self
                    .tree
                    .get(group.at..group.at + 2 * group.width)
                    .unwrap_or(&[]);
                group
                    .humans
                    .iter()
                    .enumerate()
                    .filter(|&(_, &j)| {
                        queue
                            .humans
                            .get(j as usize)
                            .is_some_and(|s| !excluded.contains(&s.member))
                    })
                    .map(|(leaf, _)| tree::leaf(trees, group.width, leaf))
                    .max()
                    .unwrap_or(0)
            };
            if key != 0 && best.is_none_or(|b| (fit, key) > b) {
                best = Some((fit, key));
            }
        }
        let (fit, key) = best?;
        to_pick(key, fit)
    }

    /// A human's current key in a queue (0: cannot take work), by position among the
    /// queue's humans.
    pub(crate) fn key_of(&self, q: usize, j: u32) -> u128 {
        let Some(queue) = self.layout.queues.get(q) else {
            return 0;
        };
        let Some(slot) = queue.humans.get(j as usize) else {
            return 0;
        };
        let Some(group) = queue.groups.get(slot.group as usize) else {
            return 0;
        };
        self.tree
            .get(group.at..group.at + 2 * group.width)
            .map_or(0, |t| tree::leaf(t, group.width, slot.leaf as usize))
    }

    /// How many conversations wait in a queue: the count given plus those tracked.
    pub(crate) fn waiting(&self, queue: usize) -> u32 {
        self.waiting
            .get(queue)
            .copied()
            .unwrap_or(0)
            .saturating_add(self.work.len_of(queue))
    }

    /// The estimated wait of the conversation at `position` in queue `q`, in milliseconds:
    /// `position` times the smoothed time between departures from the queue, or, before
    /// any departure, `position` times the queue's `average_handle_time` divided by the
    /// conversations its online agents can hold at once; `None` when neither is known.
    pub(crate) fn estimated_wait_ms(&self, q: usize, position: u32) -> Option<u64> {
        if let Some(interval) = self.work.departures.get(q).and_then(|d| d.interval_ms) {
            return Some((interval * f64::from(position)) as u64);
        }
        let layout = self.layout.queues.get(q)?;
        let handle = u64::try_from(layout.handle_time?.as_millis()).unwrap_or(u64::MAX);
        let kind = self.layout.kind;
        let slots: u64 = layout
            .humans
            .iter()
            .enumerate()
            .filter(|&(j, s)| {
                self.human(s).presence.accepts_work() && self.is_joined(q, j as u32)
            })
            .filter_map(|(_, s)| self.layout.members.get(s.member as usize)?.capacity)
            .map(|c| u64::from(c.units / c.cost.get(kind).max(1)))
            .sum();
        (slots > 0).then(|| handle.saturating_mul(u64::from(position)) / slots)
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

    /// Whether a queue is open at `t` (seconds), from the worked-out window when it covers
    /// `t`, else worked out now.
    pub(crate) fn is_open(&self, q: usize, t: i64) -> bool {
        let Some(h) = self.layout.queues.get(q).and_then(|l| l.hours) else {
            return true;
        };
        self.hours_open(h as usize, t)
    }

    pub(crate) fn hours_open(&self, h: usize, t: i64) -> bool {
        match self.windows.get(h) {
            Some(w) if w.covers(t) => w.open,
            _ => self
                .layout
                .schedules
                .get(h)
                .is_some_and(|s| s.window(t).open),
        }
    }

    /// Adds or removes an outstanding offer to a member, updating its keys.
    pub(crate) fn reserve(&mut self, member: u32, kind: ChannelKind, add: bool) {
        if let Some(r) = self.reserved.get_mut(member as usize) {
            let n = r.get_mut(kind);
            *n = if add {
                n.saturating_add(1)
            } else {
                n.saturating_sub(1)
            };
        }
        self.update_keys(member as usize);
    }

    /// Counts one more conversation of `kind` on a member (an assignment), updating its
    /// keys.
    pub(crate) fn add_load(&mut self, member: u32, kind: ChannelKind) {
        if let Some(slot) = self.members.get_mut(member as usize) {
            let mut s = slot.unwrap_or_default();
            s.load = s.load.saturating_add(1);
            let n = s.by_kind.get_mut(kind);
            *n = n.saturating_add(1);
            *slot = Some(s);
        }
        self.update_keys(member as usize);
    }
}
