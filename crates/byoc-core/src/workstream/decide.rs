//! Making a decision with a [`Router`]: rules, then the queue (operating hours, bots,
//! preferred agent, skills and the assignment method, overflow before queueing, the wait).
//!
//! Deciding records only positions ([`Facts`]): the rule that matched, rules passed over,
//! which bots had the conversation, the skills required, overflow applied. The trace is
//! re-derived from those, the workstream and the same state (`super::trace`), so a
//! decision costs no per-member work beyond choosing.

use chrono::{DateTime, Utc};

use super::assignment::PreferredAgent;
use super::error::RouteError;
use super::index::Segment;
use super::layout::Layout;
use super::overflow::{OverflowAction, OverflowCondition};
use super::prepared::{PreparedState, Router};
use super::router::{RoutingDecision, Unrouted};
use super::skills::{self, Needs};
use super::state::RoutingState;
use crate::conversation::{ContextValue, Conversation, ConversationState, ParticipantRole};

/// How the decision began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// The conversation had ended.
    Ended(ConversationState),
    /// The rules were walked; then this.
    Rules(Fallback),
    /// An explicit transfer.
    Transfer,
    /// An explicit transfer of a conversation that had ended.
    TransferEnded(ConversationState),
}

/// What the rules led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fallback {
    Matched,
    Default,
    DefaultSkippedLoop,
    NoRule,
}

/// Bots of a queue (by position among its bots) found to have had the conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BotSet {
    first: u64,
    more: Vec<u64>,
}

impl BotSet {
    fn insert(&mut self, k: usize) {
        if k < 64 {
            self.first |= 1 << k;
        } else {
            let word = (k - 64) / 64;
            if self.more.len() <= word {
                self.more.resize(word + 1, 0);
            }
            self.more[word] |= 1 << (k % 64);
        }
    }

    pub(crate) fn contains(&self, k: usize) -> bool {
        if k < 64 {
            self.first & (1 << k) != 0
        } else {
            self.more
                .get((k - 64) / 64)
                .is_some_and(|w| w & (1 << (k % 64)) != 0)
        }
    }
}

/// What became of the conversation's preferred agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Preferred {
    /// None was configured or found.
    None,
    /// The agent named is not a human of the queue.
    NotInQueue,
    /// Picked (position among the queue's humans).
    Taken(u32),
    /// Not free; the conversation waits for them until this time (milliseconds).
    Holding(u32, i64),
    /// Not free, and the conversation does not wait for them.
    NotFree(u32),
}

impl Preferred {
    pub(crate) fn member_j(self) -> Option<u32> {
        match self {
            Self::Taken(j) | Self::Holding(j, _) | Self::NotFree(j) => Some(j),
            Self::None | Self::NotInQueue => None,
        }
    }
}

/// What a decision found, as positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Facts {
    pub(crate) start: Start,
    pub(crate) rule: Option<u32>,
    /// The queue routed to (or the default queue skipped by the loop guard).
    pub(crate) queue: Option<u32>,
    /// Rules that matched but were passed over, in order, with `true` when the loop guard
    /// skipped them (`false`: their queue does not exist, an unvalidated workstream).
    pub(crate) passed: Vec<(u32, bool)>,
    pub(crate) visited: BotSet,
    /// The skills required, when they are not the rule's named skills (read them with
    /// [`Facts::needs_in`]).
    pub(crate) needs: Needs,
    /// Skills dropped by relaxation (a waiting conversation offered again).
    pub(crate) dropped: u8,
    pub(crate) priority: i32,
    /// The decision's time, in milliseconds.
    pub(crate) now: i64,
    /// Overflow entries applied, in order: (queue, index in its `overflow`).
    pub(crate) overflow: Vec<(u32, u32)>,
    pub(crate) preferred: Preferred,
    /// The final queue was outside its operating hours.
    pub(crate) closed: bool,
}

impl Facts {
    /// The skills the decision required: the rule's named skills (kept by the layout, not
    /// copied per decision), or those resolved for this conversation.
    pub(crate) fn needs_in(&self, layout: &Layout) -> Needs {
        *needs_of(layout, self.rule.map(|r| r as usize), &self.needs)
    }

    pub(crate) fn new(start: Start, now: i64) -> Self {
        Self {
            start,
            rule: None,
            queue: None,
            passed: Vec::new(),
            visited: BotSet::default(),
            needs: Needs::default(),
            dropped: 0,
            priority: 0,
            now,
            overflow: Vec::new(),
            preferred: Preferred::None,
            closed: false,
        }
    }
}

/// The skills a decision of `rule` requires: the rule's named skills when it has no
/// skills from context variables, else `resolved`.
#[inline(always)]
pub(crate) fn needs_of<'n>(
    layout: &'n Layout,
    rule: Option<usize>,
    resolved: &'n Needs,
) -> &'n Needs {
    match rule.and_then(|r| layout.rules.get(r)) {
        Some(info) if !info.dynamic => &info.needs,
        _ => resolved,
    }
}

/// Where the conversation ends up, as positions.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RawOutcome {
    /// Position in the final queue's members.
    Member(usize),
    Queued {
        position: u32,
        wait_ms: Option<u64>,
    },
    QueueFull {
        waiting: u32,
        limit: u32,
    },
    /// Ended by the last overflow entry applied.
    Ended,
    Unrouted(Unrouted),
}

fn is_ended(conv: &Conversation) -> bool {
    matches!(
        conv.state,
        ConversationState::WrapUp | ConversationState::Closed
    )
}

/// Milliseconds since the epoch.
pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl<'w> Router<'w> {
    /// Routes a conversation as [`route`](super::route) does, at the conversation's last
    /// activity (the message that asked for routing): see [`Router::route_at`].
    #[must_use]
    pub fn route<'s>(
        &'s self,
        conv: &Conversation,
        state: &'s PreparedState,
    ) -> RoutingDecision<'s> {
        self.route_at(conv, state, conv.last_activity_at)
    }

    /// Decides where a conversation arriving at `now` goes, without changing the state:
    /// the first rule that holds (conditions on operating hours read at `now`) picks the
    /// queue, priority and required skills; in the queue, while it is open, a free bot
    /// takes it, else its preferred agent, else the human the queue's assignment method
    /// ranks first among those with the skills; nobody free, the queue's overflow before
    /// queueing applies, else it waits. The decision borrows the state and derives its
    /// trace only when asked. Allocates nothing unless a rule match is skipped by the
    /// escalation loop guard, an overflow applies, or a queue lists more than 64 bots.
    ///
    /// To act on the decision (offer, queue, start timers), call [`Router::submit`]
    /// instead, which makes the same decision and records it.
    #[must_use]
    pub fn route_at<'s>(
        &'s self,
        conv: &Conversation,
        state: &'s PreparedState,
        now: DateTime<Utc>,
    ) -> RoutingDecision<'s> {
        if !self.is_for(state) {
            return self.route_detached(conv, &state.to_routing_state(), now);
        }
        let facts = Facts::new(Start::Rules(Fallback::NoRule), state.millis(now));
        RoutingDecision::decided(self.workstream(), state, facts, |facts| {
            self.decide_into(conv, state, facts)
        })
    }

    /// Transfers a conversation to a named queue, as [`transfer`](super::transfer) does,
    /// at the conversation's last activity.
    ///
    /// # Errors
    /// [`RouteError::UnknownQueue`] when the workstream has no such queue.
    pub fn transfer<'s>(
        &'s self,
        conv: &Conversation,
        state: &'s PreparedState,
        queue: &str,
    ) -> Result<RoutingDecision<'s>, RouteError> {
        let now = millis(conv.last_activity_at);
        if !self.is_for(state) {
            let detached = self.prepare(&state.to_routing_state());
            let (facts, raw) = self.decide_transfer(conv, &detached, queue, now)?;
            return Ok(RoutingDecision::eager(
                self.workstream(),
                &detached,
                &facts,
                raw,
            ));
        }
        let (facts, raw) = self.decide_transfer(conv, state, queue, now)?;
        Ok(RoutingDecision::lazy(self.workstream(), state, facts, raw))
    }

    /// A bot hands the conversation off, then it is routed again, as
    /// [`escalate`](super::escalate) does.
    pub fn escalate<'s>(
        &'s self,
        conv: &mut Conversation,
        state: &'s PreparedState,
        context_updates: impl IntoIterator<Item = (String, ContextValue)>,
        at: DateTime<Utc>,
    ) -> RoutingDecision<'s> {
        conv.hand_off(context_updates, at);
        self.route_at(conv, state, at)
    }

    pub(crate) fn route_detached(
        &self,
        conv: &Conversation,
        state: &RoutingState,
        now: DateTime<Utc>,
    ) -> RoutingDecision<'w> {
        let state = self.prepare(state);
        let (facts, raw) = self.decide(conv, &state, millis(now));
        RoutingDecision::eager(self.workstream(), &state, &facts, raw)
    }

    pub(crate) fn decide_transfer(
        &self,
        conv: &Conversation,
        state: &PreparedState,
        queue: &str,
        now: i64,
    ) -> Result<(Facts, RawOutcome), RouteError> {
        let q = self
            .layout
            .queue_position(queue)
            .ok_or_else(|| RouteError::UnknownQueue(queue.to_owned()))?;
        let mut facts = Facts::new(Start::Transfer, now);
        facts.queue = Some(q as u32);
        if is_ended(conv) {
            facts.start = Start::TransferEnded(conv.state);
            return Ok((facts, RawOutcome::Unrouted(Unrouted::Ended(conv.state))));
        }
        let raw = self.place_in(q, conv, state, &mut facts, None, false);
        Ok((facts, raw))
    }

    pub(crate) fn decide(
        &self,
        conv: &Conversation,
        state: &PreparedState,
        now: i64,
    ) -> (Facts, RawOutcome) {
        let mut facts = Facts::new(Start::Rules(Fallback::NoRule), now);
        let raw = self.decide_into(conv, state, &mut facts);
        (facts, raw)
    }

    /// Decides into `facts` (made with [`Facts::new`] at the decision's time).
    #[inline(always)]
    pub(crate) fn decide_into(
        &self,
        conv: &Conversation,
        state: &PreparedState,
        facts: &mut Facts,
    ) -> RawOutcome {
        let now = facts.now;
        if is_ended(conv) {
            facts.start = Start::Ended(conv.state);
            return RawOutcome::Unrouted(Unrouted::Ended(conv.state));
        }
        let rules = &self.workstream().routing_rules;
        let matched = self.first_rule(conv, state, now, &mut facts.passed);
        if let Some(i) = matched {
            let q = self
                .layout
                .rule_queue
                .get(i)
                .copied()
                .flatten()
                .unwrap_or(0);
            facts.start = Start::Rules(Fallback::Matched);
            facts.rule = Some(i as u32);
            if let Some(info) = self.layout.rules.get(i) {
                facts.priority = info.priority;
                if info.dynamic {
                    facts.needs = rules.get(i).map_or(Needs::default(), |r| {
                        skills::resolve(&r.skills, conv, |n| self.layout.skill(n))
                    });
                }
            }
            return self.place_in(q, conv, state, facts, Some(i), true);
        }
        let unrouted = RawOutcome::Unrouted(Unrouted::NoRuleMatched);
        match self.layout.default_queue {
            Some(q) if !self.can_take(q, conv) => {
                facts.start = Start::Rules(Fallback::DefaultSkippedLoop);
                facts.queue = Some(q as u32);
                unrouted
            }
            Some(q) => {
                facts.start = Start::Rules(Fallback::Default);
                self.place_in(q, conv, state, facts, None, true)
            }
            None => unrouted,
        }
    }

    /// The first rule that holds and whose queue can take the conversation; records the
    /// rules passed over (escalation loop guard).
    #[inline(always)]
    fn first_rule(
        &self,
        conv: &Conversation,
        state: &PreparedState,
        now: i64,
        passed: &mut Vec<(u32, bool)>,
    ) -> Option<usize> {
        let rules = &self.workstream().routing_rules;
        let secs = now.div_euclid(1000);
        let open = |name: &str| {
            self.layout
                .hours_index
                .get(name)
                .is_some_and(|&h| state.hours_open(h as usize, secs))
        };
        let holds = |i: usize| {
            rules.get(i).is_some_and(|r| {
                r.condition
                    .as_ref()
                    .is_none_or(|c| c.matches_with(conv, &open))
            })
        };
        for segment in &self.layout.segments {
            match segment {
                Segment::Scan(start, end) => {
                    for i in *start..*end {
                        if holds(i) && self.takes_rule(i, conv, passed) {
                            return Some(i);
                        }
                    }
                }
                Segment::Index { field, index } => {
                    let value = field.read(conv);
                    let mut from = 0;
                    while let Some(i) = index.first_from(value, from, holds) {
                        // The answer is at or after `from`, so this loop ends.
                        debug_assert!(i >= from, "index went back from {from} to {i}");
                        if i < from {
                            break;
                        }
                        // The index is exact: its rules hold (checked in debug builds).
                        debug_assert!(holds(i), "index found rule {i}, which does not hold");
                        if self.takes_rule(i, conv, passed) {
                            return Some(i);
                        }
                        from = i + 1;
                    }
                }
            }
        }
        None
    }

    /// Whether the matched rule `i` takes the conversation; else records why not.
    #[inline(always)]
    fn takes_rule(&self, i: usize, conv: &Conversation, passed: &mut Vec<(u32, bool)>) -> bool {
        match self.layout.rule_queue.get(i).copied().flatten() {
            // Validation guarantees the queue exists; an unvalidated workstream skips the rule.
            None => {
                passed.push((i as u32, false));
                false
            }
            Some(q) if !self.can_take(q, conv) => {
                passed.push((i as u32, true));
                false
            }
            Some(_) => true,
        }
    }

    /// Whether any member of the queue may still take this conversation: a human, or a bot
    /// that has not had it.
    #[inline(always)]
    fn can_take(&self, q: usize, conv: &Conversation) -> bool {
        let (Some(layout), Some(queue)) =
            (self.layout.queues.get(q), self.workstream().queues.get(q))
        else {
            return false;
        };
        !layout.humans.is_empty()
            || layout.bots.iter().any(|s| {
                queue
                    .members
                    .get(s.pos as usize)
                    .is_some_and(|m| !conv.has_visited_bot(&m.id))
            })
    }

    /// The preferred agent's position among queue `q`'s humans, when the conversation names
    /// one and the queue has it.
    fn preferred_in(&self, q: usize, conv: &Conversation, spec: &PreferredAgent) -> Preferred {
        let from_field = spec.from.as_ref().and_then(|f| match f.read(conv) {
            Some(super::condition::Value::Str(s)) => Some(s),
            _ => None,
        });
        let last = || {
            conv.participants
                .iter()
                .rev()
                .find(|p| p.role == ParticipantRole::Agent)
                .map(|p| p.id())
        };
        let Some(id) = from_field.or_else(|| spec.last_agent.then(last).flatten()) else {
            return Preferred::None;
        };
        let found = self
            .layout
            .member_index
            .get(id)
            .and_then(|&m| self.layout.members.get(m as usize))
            .and_then(|info| info.humans.iter().find(|&&(qq, _)| qq as usize == q));
        match found {
            Some(&(_, j)) => Preferred::NotFree(j),
            None => Preferred::NotInQueue,
        }
    }

    /// Places the conversation in queue `q`: a bot, the preferred agent, the best human, or
    /// overflow and the wait.
    #[inline(always)]
    pub(crate) fn place_in(
        &self,
        q: usize,
        conv: &Conversation,
        state: &PreparedState,
        facts: &mut Facts,
        rule: Option<usize>,
        check_overflow: bool,
    ) -> RawOutcome {
        // The rule whose named skills are the conversation's, for its prepared groups.
        let static_rule = rule.filter(|&r| self.layout.rules.get(r).is_some_and(|i| !i.dynamic));
        match self.serve_now(q, conv, state, facts, rule, static_rule) {
            Some(raw) => raw,
            None => self.wait_or_overflow(q, conv, state, facts, rule, static_rule, check_overflow),
        }
    }

    /// Who in queue `q` takes the conversation now, if anyone: nobody while the queue is
    /// closed; else a bot, the preferred agent, or the best human.
    #[inline(always)]
    fn serve_now(
        &self,
        q: usize,
        conv: &Conversation,
        state: &PreparedState,
        facts: &mut Facts,
        rule: Option<usize>,
        static_rule: Option<usize>,
    ) -> Option<RawOutcome> {
        let layout = &*self.layout;
        facts.queue = Some(q as u32);
        let ql = layout.queues.get(q)?;
        let open = ql.hours.is_none() || state.is_open(q, facts.now.div_euclid(1000));
        facts.closed = !open;
        if !open {
            return None;
        }
        if !ql.bots.is_empty()
            && let Some(pos) = self.free_bot(q, conv, state, &mut facts.visited)
        {
            return Some(RawOutcome::Member(pos));
        }
        let needs = needs_of(layout, static_rule, &facts.needs);
        let preferred = rule
            .and_then(|r| self.workstream().routing_rules.get(r))
            .and_then(|r| r.preferred_agent.as_ref());
        if let Some(spec) = preferred {
            facts.preferred = self.preferred_in(q, conv, spec);
            if let Preferred::NotFree(j) = facts.preferred {
                let skilled = ql.matching == skills::SkillMatching::Closest
                    || ql
                        .humans
                        .get(j as usize)
                        .and_then(|s| ql.groups.get(s.group as usize))
                        .is_some_and(|g| skills::meets_all(&g.levels, needs));
                if skilled && state.key_of(q, j) != 0 {
                    facts.preferred = Preferred::Taken(j);
                    return ql
                        .humans
                        .get(j as usize)
                        .map(|slot| RawOutcome::Member(slot.pos as usize));
                }
                if !spec.wait.is_zero() {
                    let wait = i64::try_from(spec.wait.as_millis()).unwrap_or(i64::MAX);
                    facts.preferred = Preferred::Holding(j, facts.now.saturating_add(wait));
                    return None;
                }
            }
        }
        state
            .pick_pos(q, static_rule, needs)
            .map(|pos| RawOutcome::Member(pos as usize))
    }

    /// The first free bot of queue `q` that has not had the conversation, by position in
    /// the queue's members; records the bots that had it.
    fn free_bot(
        &self,
        q: usize,
        conv: &Conversation,
        state: &PreparedState,
        visited: &mut BotSet,
    ) -> Option<usize> {
        let ql = self.layout.queues.get(q)?;
        let queue = self.workstream().queues.get(q)?;
        for (k, slot) in ql.bots.iter().enumerate() {
            let Some(bot) = queue.members.get(slot.pos as usize) else {
                continue;
            };
            if conv.has_visited_bot(&bot.id) {
                visited.insert(k);
                continue;
            }
            if state.bot(slot).presence.accepts_work() && state.room(slot.member).fits {
                return Some(slot.pos as usize);
            }
        }
        None
    }

    /// Nobody took it in queue `q`: the queue's overflow before queueing (a transfer places
    /// it in the target queue, without that queue's own checks), else the wait.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn wait_or_overflow(
        &self,
        mut q: usize,
        conv: &Conversation,
        state: &PreparedState,
        facts: &mut Facts,
        rule: Option<usize>,
        static_rule: Option<usize>,
        mut check_overflow: bool,
    ) -> RawOutcome {
        let now = facts.now;
        let ws = self.workstream();
        loop {
            let (Some(ql), Some(queue)) = (self.layout.queues.get(q), ws.queues.get(q)) else {
                return RawOutcome::Unrouted(Unrouted::NoRuleMatched);
            };
            let open = !facts.closed;
            let waiting = state.waiting(q);
            let position = waiting
                .saturating_sub(state.work.len_of(q))
                .saturating_add(state.work.ahead_of(q, facts.priority, now))
                .saturating_add(1);
            let wait_ms = state.estimated_wait_ms(q, position);
            if check_overflow && !ql.before.is_empty() {
                let holds = |c: OverflowCondition| match c {
                    OverflowCondition::Closed => !open,
                    OverflowCondition::WaitingOver(n) => waiting >= n,
                    OverflowCondition::EstimatedWaitOver(d) => {
                        wait_ms.is_some_and(|w| u128::from(w) > d.as_millis())
                    }
                    _ => false,
                };
                let hit = ql.before.iter().find_map(|&i| {
                    queue
                        .overflow
                        .get(i as usize)
                        .filter(|r| holds(r.when))
                        .map(|r| (i, r))
                });
                if let Some((i, rule_hit)) = hit {
                    facts.overflow.push((q as u32, i));
                    match &rule_hit.then {
                        OverflowAction::Transfer(target) => {
                            if let Some(t) = self.layout.queue_position(target)
                                && t != q
                            {
                                // Enters the target without its own checks: no loops.
                                q = t;
                                check_overflow = false;
                                facts.visited = BotSet::default();
                                facts.preferred = Preferred::None;
                                if let Some(raw) =
                                    self.serve_now(q, conv, state, facts, rule, static_rule)
                                {
                                    return raw;
                                }
                                continue;
                            }
                        }
                        OverflowAction::End(_) => return RawOutcome::Ended,
                        OverflowAction::Wait(_) => {}
                    }
                }
            }
            return match queue.max_waiting {
                Some(limit) if waiting >= limit => RawOutcome::QueueFull { waiting, limit },
                _ => RawOutcome::Queued { position, wait_ms },
            };
        }
    }
}
