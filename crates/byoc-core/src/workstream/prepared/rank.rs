//! Ranking a queue's humans: each one's room for work and ranking key, kept in the
//! tournament trees; picking the best for a conversation's skills; offers and loads that
//! change the keys; queue hours and estimated waits.

use super::{OFFLINE, Pick, PreparedState, Room, idle_code};
use crate::workstream::assignment::SortKey;
use crate::workstream::capacity::PerKind;
use crate::workstream::keys::{self, Key};
use crate::workstream::layout::{QueueLayout, Slot};
use crate::workstream::model::ChannelKind;
use crate::workstream::skills::{Needs, SkillMatching, closeness, meets_all};
use crate::workstream::state::MemberState;
use crate::workstream::tree;

impl PreparedState {
    #[inline]
    pub(crate) fn flat(&self, q: usize, j: u32) -> Option<usize> {
        self.layout.queues.get(q).map(|l| l.flat_at + j as usize)
    }

    /// Recomputes a member's keys in every queue it is a human of, and marks for
    /// re-evaluation the queues where it can take more than before.
    #[inline]
    pub(crate) fn update_keys(&mut self, member: usize) {
        let room = self.room(member as u32);
        let last_free = self
            .members
            .get_mut(member)
            .map_or(0, |l| std::mem::replace(&mut l.last_free, room.free));
        let Some(info) = self.layout.members.get(member) else {
            return;
        };
        let only = info.only.map(|h| [h]);
        let places = match &only {
            Some(one) => one.as_slice(),
            None => info.humans.as_slice(),
        };
        for &(q, j) in places {
            let key = self.human_key(q as usize, j, &room);
            let Some(queue) = self.layout.queues.get(q as usize) else {
                continue;
            };
            let Some(slot) = queue.humans.get(j as usize) else {
                continue;
            };
            let Some(trees) = self
                .tree
                .get_mut(queue.tree_at..queue.tree_at + 2 * queue.width)
            else {
                continue;
            };
            let before = tree::leaf(trees, queue.width, slot.leaf as usize);
            if before == key {
                continue;
            }
            tree::set(trees, queue.width, slot.leaf as usize, key);
            // It can take work it could not before, or has more room.
            if key != 0 && (before == 0 || room.free > last_free) {
                self.work.mark(q as usize);
            }
        }
    }

    /// A human's state (offline when not given).
    #[inline]
    pub(crate) fn human(&self, slot: &Slot) -> MemberState {
        self.members
            .get(slot.member as usize)
            .and_then(|l| l.state)
            .unwrap_or(OFFLINE)
    }

    /// A bot's state (available when not given).
    #[inline]
    pub(crate) fn bot(&self, slot: &Slot) -> MemberState {
        self.members
            .get(slot.member as usize)
            .and_then(|l| l.state)
            .unwrap_or_default()
    }

    #[inline]
    pub(crate) fn is_joined(&self, q: usize, slot_j: u32) -> bool {
        self.flat(q, slot_j)
            .and_then(|f| self.joined.get(f))
            .copied()
            .unwrap_or(false)
    }

    #[inline]
    pub(crate) fn turn_of(&self, q: usize, j: u32) -> u32 {
        self.flat(q, j)
            .and_then(|f| self.turns.get(f))
            .copied()
            .unwrap_or(0)
    }

    /// The member's room for one more conversation of the workstream's kind.
    #[inline]
    pub(crate) fn room(&self, member: u32) -> Room {
        let kind = self.layout.kind;
        let (s, reserved) = match self.members.get(member as usize) {
            Some(live) => (live.state.as_ref().unwrap_or(&OFFLINE), live.reserved),
            None => (&OFFLINE, PerKind::default()),
        };
        let capacity = self
            .layout
            .members
            .get(member as usize)
            .and_then(|m| m.capacity.as_ref());
        let Some(cap) = capacity else {
            return Room {
                used: 0,
                units: u32::MAX,
                free: u32::MAX,
                count: 0,
                max: u32::MAX,
                fits: true,
                reserved: reserved.total(),
            };
        };
        if cap.simple {
            // Every kind costs one unit and has no limit of its own.
            let used = u64::from(s.total_load()) + u64::from(reserved.total());
            let free = u64::from(cap.units).saturating_sub(used);
            return Room {
                used,
                units: cap.units,
                free: u32::try_from(free).unwrap_or(u32::MAX),
                count: 0,
                max: u32::MAX,
                fits: free >= 1,
                reserved: reserved.total(),
            };
        }
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
            reserved: reserved.total(),
        }
    }

    /// A human's ranking key in a queue: the method's sort keys, then id order; 0 when it
    /// cannot take work there.
    #[inline]
    fn human_key(&self, q: usize, j: u32, room: &Room) -> Key {
        let Some(queue) = self.layout.queues.get(q) else {
            return 0;
        };
        let Some(slot) = queue.humans.get(j as usize) else {
            return 0;
        };
        let s = self.human(slot);
        if !s.presence.accepts_work() || !room.fits || !self.is_joined(q, j) {
            return 0;
        }
        let short = |v: u32| Key::from(u16::try_from(v).unwrap_or(u16::MAX));
        let mut key: Key = 0;
        for (k, shift, _) in keys::fields(&queue.keys) {
            let field = match k {
                SortKey::FreeCapacity => short(room.free),
                SortKey::LeastLoad => {
                    Key::from(u16::MAX) - short(s.total_load().saturating_add(room.reserved))
                }
                SortKey::LongestIdle => Key::from(u32::MAX - idle_code(s.idle_since)),
                SortKey::RoundRobin => Key::from(u16::MAX) - short(self.turn_of(q, j)),
            };
            key |= field << shift;
        }
        key | keys::rank_bits(slot.rank)
    }

    /// Hands out the next turn of a queue to a human (round robin), renumbering the queue's
    /// turns in their order when they would no longer fit a key.
    #[inline]
    pub(crate) fn take_turn(&mut self, q: usize, j: u32) {
        let Some(queue) = self.layout.queues.get(q) else {
            return;
        };
        let (at, n) = (queue.flat_at, queue.humans.len());
        let Some(turn) = self.turn.get_mut(q) else {
            return;
        };
        if *turn >= keys::MAX_TURN {
            if let Some(turns) = self.turns.get_mut(at..at + n) {
                let mut order: Vec<usize> = (0..n).filter(|&k| turns[k] != 0).collect();
                order.sort_by_key(|&k| turns[k]);
                for (rank, &k) in order.iter().enumerate() {
                    turns[k] = rank as u32 + 1;
                }
                *turn = order.len() as u32;
            }
            // Every key of the queue changes with its turns.
            let members: Vec<u32> = queue.humans.iter().map(|s| s.member).collect();
            let turn_now = self.turn.get(q).copied().unwrap_or(0) + 1;
            if let Some(t) = self.turn.get_mut(q) {
                *t = turn_now;
            }
            if let Some(t) = self.flat(q, j).and_then(|f| self.turns.get_mut(f)) {
                *t = turn_now;
            }
            for m in members {
                self.update_keys(m as usize);
            }
            return;
        }
        *turn += 1;
        let turn = *turn;
        if let Some(t) = self.flat(q, j).and_then(|f| self.turns.get_mut(f)) {
            *t = turn;
        }
    }

    /// A skill group's best key: its subtree root.
    fn root_of(&self, queue: &QueueLayout, g: usize) -> Key {
        queue
            .groups
            .get(g)
            .and_then(|group| self.tree.get(group.root))
            .copied()
            .unwrap_or(0)
    }

    /// The human a queue would pick for a conversation whose skills are `needs` (rule
    /// `rule`'s named skills; `None`: not a rule's) after the least important `dropped`
    /// were relaxed, leaving out `excluded` members: from the rule's qualifying groups,
    /// worked out when prepared, when `q` is the rule's queue; else as
    /// [`PreparedState::pick`].
    #[inline]
    pub(crate) fn pick_for(
        &self,
        q: usize,
        rule: Option<usize>,
        dropped: usize,
        needs: &Needs,
        excluded: &[u32],
    ) -> Option<Pick> {
        if excluded.is_empty() {
            let queue = self.layout.queues.get(q)?;
            let key = self.best_key(q, rule, dropped, needs)?;
            let j = *queue.by_rank.get(keys::rank(key))?;
            return Some(Pick {
                j,
                key,
                closeness: 0,
            });
        }
        // The rule's groups serve only its own named skills in its own queue (`rule` is
        // given only when `needs` are the rule's named skills).
        let groups = rule
            .filter(|&r| self.layout.rule_queue.get(r).copied().flatten() == Some(q))
            .and_then(|r| self.layout.rules.get(r))
            .and_then(|info| info.groups.get(dropped));
        let (Some(groups), Some(queue)) = (groups, self.layout.queues.get(q)) else {
            return self.pick(q, &needs.keep(needs.len() - dropped), excluded);
        };
        let mut best: Option<(u32, Key)> = None;
        for &(g, fit) in groups.iter() {
            if best.is_some_and(|(f, _)| fit < f) {
                break; // closest first: a lower tier cannot win
            }
            let key = self.best_in_group(queue, g as usize, excluded);
            if key != 0 && best.is_none_or(|b| (fit, key) > b) {
                best = Some((fit, key));
            }
        }
        let (fit, key) = best?;
        queue.by_rank.get(keys::rank(key)).map(|&j| Pick {
            j,
            key,
            closeness: fit,
        })
    }

    /// The position (in the queue's `members`) of the human queue `q` would pick for
    /// `needs`, rule `rule`'s named skills (`None`: not a rule's), nobody left out: the
    /// decision's path, reading one tree root per qualifying group.
    #[inline(always)]
    pub(crate) fn pick_pos(&self, q: usize, rule: Option<usize>, needs: &Needs) -> Option<u32> {
        let queue = self.layout.queues.get(q)?;
        let key = self.best_key(q, rule, 0, needs)?;
        queue.pos_by_rank.get(keys::rank(key)).copied()
    }

    /// The best key in queue `q` for `needs` (rule `rule`'s named skills, `None`: not a
    /// rule's) after the least important `dropped` were relaxed, nobody left out.
    #[inline(always)]
    fn best_key(
        &self,
        q: usize,
        rule: Option<usize>,
        dropped: usize,
        needs: &Needs,
    ) -> Option<Key> {
        let queue = self.layout.queues.get(q)?;
        let key = if needs.len() <= dropped {
            self.tree.get(queue.tree_at + 1).copied().unwrap_or(0)
        } else {
            let roots = rule
                .and_then(|r| self.layout.rules.get(r))
                .filter(|info| info.queue == Some(q as u32))
                .and_then(|info| info.roots.get(dropped));
            match roots {
                Some(roots) => {
                    let mut best: (u32, Key) = (0, 0);
                    for &(fit, root) in roots.iter() {
                        if best.1 != 0 && fit < best.0 {
                            break; // closest first: a lower tier cannot win
                        }
                        let key = self.tree.get(root).copied().unwrap_or(0);
                        if key > best.1 {
                            best = (fit, key);
                        }
                    }
                    best.1
                }
                None => self
                    .pick(q, &needs.keep(needs.len() - dropped), &[])
                    .map_or(0, |p| p.key),
            }
        };
        (key != 0).then_some(key)
    }

    /// The human (position among queue `q`'s humans) ranked first among the groups whose
    /// subtree roots are `roots` ((closeness, tree index) pairs, closest first).
    #[inline]
    pub(crate) fn best_of_roots(&self, q: usize, roots: &[(u32, u32)]) -> Option<u32> {
        let mut best: (u32, Key) = (0, 0);
        for &(fit, root) in roots {
            if best.1 != 0 && fit < best.0 {
                break; // closest first: a lower tier cannot win
            }
            let key = self.tree.get(root as usize).copied().unwrap_or(0);
            if key > best.1 {
                best = (fit, key);
            }
        }
        if best.1 == 0 {
            return None;
        }
        let queue = self.layout.queues.get(q)?;
        queue.by_rank.get(keys::rank(best.1)).copied()
    }

    /// Whether any human of queue `q` can take work now (skills aside).
    #[inline]
    pub(crate) fn anyone_free(&self, q: usize) -> bool {
        self.layout
            .queues
            .get(q)
            .and_then(|queue| self.tree.get(queue.tree_at + 1))
            .is_some_and(|&root| root != 0)
    }

    /// A group's best key, leaving out `excluded` members.
    fn best_in_group(&self, queue: &QueueLayout, g: usize, excluded: &[u32]) -> Key {
        if excluded.is_empty() {
            return self.root_of(queue, g);
        }
        let Some(group) = queue.groups.get(g) else {
            return 0;
        };
        let trees = self
            .tree
            .get(queue.tree_at..queue.tree_at + 2 * queue.width)
            .unwrap_or(&[]);
        group
            .humans
            .iter()
            .filter_map(|&j| queue.humans.get(j as usize))
            .filter(|s| !excluded.contains(&s.member))
            .map(|s| tree::leaf(trees, queue.width, s.leaf as usize))
            .max()
            .unwrap_or(0)
    }

    /// The human a queue would pick for `needs`, leaving out `excluded` members.
    pub(crate) fn pick(&self, q: usize, needs: &Needs, excluded: &[u32]) -> Option<Pick> {
        let queue = self.layout.queues.get(q)?;
        let closest = queue.matching == SkillMatching::Closest;
        let to_pick = |key: Key, closeness: u32| {
            queue
                .by_rank
                .get(keys::rank(key))
                .map(|&j| Pick { j, key, closeness })
        };
        if needs.is_empty() && excluded.is_empty() {
            let top = self.tree.get(queue.tree_at + 1).copied().unwrap_or(0);
            return (top != 0).then(|| to_pick(top, 0)).flatten();
        }
        let mut best: Option<(u32, Key)> = None;
        for (g, group) in queue.groups.iter().enumerate() {
            let fit = if closest {
                closeness(&group.levels, needs)
            } else if meets_all(&group.levels, needs) {
                0
            } else {
                continue;
            };
            let key = self.best_in_group(queue, g, excluded);
            if key != 0 && best.is_none_or(|b| (fit, key) > b) {
                best = Some((fit, key));
            }
        }
        let (fit, key) = best?;
        to_pick(key, fit)
    }

    /// A human's current key in a queue (0: cannot take work), by position among the
    /// queue's humans.
    #[inline]
    pub(crate) fn key_of(&self, q: usize, j: u32) -> Key {
        let Some(queue) = self.layout.queues.get(q) else {
            return 0;
        };
        let Some(slot) = queue.humans.get(j as usize) else {
            return 0;
        };
        self.tree
            .get(queue.tree_at + queue.width + slot.leaf as usize)
            .copied()
            .unwrap_or(0)
    }

    /// How many conversations wait in a queue: the count given plus those tracked.
    #[inline]
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
            .filter(|&(j, s)| self.human(s).presence.accepts_work() && self.is_joined(q, j as u32))
            .filter_map(|(_, s)| self.layout.members.get(s.member as usize)?.capacity)
            .map(|c| u64::from(c.units / c.cost.get(kind).max(1)))
            .sum();
        (slots > 0).then(|| handle.saturating_mul(u64::from(position)) / slots)
    }

    /// Whether a queue is open at `t` (seconds), from the worked-out window when it covers
    /// `t`, else worked out now.
    #[inline]
    pub(crate) fn is_open(&self, q: usize, t: i64) -> bool {
        let Some(h) = self.layout.queues.get(q).and_then(|l| l.hours) else {
            return true;
        };
        self.hours_open(h as usize, t)
    }

    #[inline]
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
    #[inline]
    pub(crate) fn reserve(&mut self, member: u32, kind: ChannelKind, add: bool) {
        if let Some(r) = self
            .members
            .get_mut(member as usize)
            .map(|l| &mut l.reserved)
        {
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
    #[inline]
    pub(crate) fn add_load(&mut self, member: u32, kind: ChannelKind) {
        if let Some(slot) = self.members.get_mut(member as usize).map(|l| &mut l.state) {
            let mut s = slot.unwrap_or_default();
            s.load = s.load.saturating_add(1);
            let n = s.by_kind.get_mut(kind);
            *n = n.saturating_add(1);
            *slot = Some(s);
        }
        self.update_keys(member as usize);
    }
}
