//! Making a decision with a [`Router`], and deriving its trace afterwards.
//!
//! Deciding records only positions ([`Facts`]): the rule that matched, rules passed over,
//! which bots had the conversation. The trace is re-derived from those, the workstream and
//! the same state, so a decision costs no per-member work beyond choosing.

use chrono::{DateTime, Utc};

use super::error::RouteError;
use super::index::Segment;
use super::model::{Queue, RoutingRule, Workstream};
use super::prepared::{PreparedState, Router};
use super::router::{Outcome, RoutingDecision, TraceStep, Unrouted, Verdict};
use super::state::RoutingState;
use crate::conversation::{ContextValue, Conversation, ConversationState};

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

    fn contains(&self, k: usize) -> bool {
        if k < 64 {
            self.first & (1 << k) != 0
        } else {
            self.more
                .get((k - 64) / 64)
                .is_some_and(|w| w & (1 << (k % 64)) != 0)
        }
    }
}

/// What a decision found, as positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Facts {
    start: Start,
    rule: Option<u32>,
    /// The queue routed to (or the default queue skipped by the loop guard).
    queue: Option<u32>,
    /// Rules that matched but were passed over, in order, with `true` when the loop guard
    /// skipped them (`false`: their queue does not exist, an unvalidated workstream).
    passed: Vec<(u32, bool)>,
    visited: BotSet,
}

/// Where the conversation ends up, as positions.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RawOutcome {
    /// Position in the queue's members.
    Member(usize),
    Queued(u32),
    QueueFull {
        waiting: u32,
        limit: u32,
    },
    Unrouted(Unrouted),
}

fn is_ended(conv: &Conversation) -> bool {
    matches!(
        conv.state,
        ConversationState::WrapUp | ConversationState::Closed
    )
}

impl<'w> Router<'w> {
    /// Routes a conversation, as [`route`](super::route) does; the decision borrows the
    /// state too, and derives its trace only when asked. Allocates nothing unless a rule
    /// match is skipped by the escalation loop guard or a queue lists more than 64 bots.
    #[must_use]
    pub fn route<'s>(
        &'s self,
        conv: &Conversation,
        state: &'s PreparedState,
    ) -> RoutingDecision<'s> {
        if !self.is_for(state) {
            return self.route_detached(conv, &state.to_routing_state());
        }
        let (facts, raw) = self.decide(conv, state);
        RoutingDecision::lazy(self.workstream(), state, facts, raw)
    }

    /// Transfers a conversation to a named queue, as [`transfer`](super::transfer) does.
    ///
    /// # Errors
    /// [`RouteError::UnknownQueue`] when the workstream has no such queue.
    pub fn transfer<'s>(
        &'s self,
        conv: &Conversation,
        state: &'s PreparedState,
        queue: &str,
    ) -> Result<RoutingDecision<'s>, RouteError> {
        if !self.is_for(state) {
            return self.transfer_detached(conv, &state.to_routing_state(), queue);
        }
        let (facts, raw) = self.decide_transfer(conv, state, queue)?;
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
        self.route(conv, state)
    }

    pub(crate) fn route_detached(
        &self,
        conv: &Conversation,
        state: &RoutingState,
    ) -> RoutingDecision<'w> {
        let state = self.prepare(state);
        let (facts, raw) = self.decide(conv, &state);
        RoutingDecision::eager(self.workstream(), &state, &facts, raw)
    }

    pub(crate) fn transfer_detached(
        &self,
        conv: &Conversation,
        state: &RoutingState,
        queue: &str,
    ) -> Result<RoutingDecision<'w>, RouteError> {
        let state = self.prepare(state);
        let (facts, raw) = self.decide_transfer(conv, &state, queue)?;
        Ok(RoutingDecision::eager(
            self.workstream(),
            &state,
            &facts,
            raw,
        ))
    }

    fn decide_transfer(
        &self,
        conv: &Conversation,
        state: &PreparedState,
        queue: &str,
    ) -> Result<(Facts, RawOutcome), RouteError> {
        let q = self
            .layout
            .queue_position(queue)
            .ok_or_else(|| RouteError::UnknownQueue(queue.to_owned()))?;
        let mut facts = Facts {
            start: Start::Transfer,
            rule: None,
            queue: Some(q as u32),
            passed: Vec::new(),
            visited: BotSet::default(),
        };
        if is_ended(conv) {
            facts.start = Start::TransferEnded(conv.state);
            return Ok((facts, RawOutcome::Unrouted(Unrouted::Ended(conv.state))));
        }
        let raw = self.assign(q, conv, state, &mut facts.visited);
        Ok((facts, raw))
    }

    #[inline(always)]
    fn decide(&self, conv: &Conversation, state: &PreparedState) -> (Facts, RawOutcome) {
        let mut facts = Facts {
            start: Start::Rules(Fallback::NoRule),
            rule: None,
            queue: None,
            passed: Vec::new(),
            visited: BotSet::default(),
        };
        if is_ended(conv) {
            facts.start = Start::Ended(conv.state);
            return (facts, RawOutcome::Unrouted(Unrouted::Ended(conv.state)));
        }
        let rules = &self.workstream().routing_rules;
        let holds = |i: usize| {
            rules
                .get(i)
                .is_some_and(|r| r.condition.as_ref().is_none_or(|c| c.matches(conv)))
        };
        let mut matched = None;
        'rules: for segment in &self.layout.segments {
            match segment {
                Segment::Scan(start, end) => {
                    for i in *start..*end {
                        if holds(i) && self.accept(i, conv, &mut facts.passed) {
                            matched = Some(i);
                            break 'rules;
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
                        if self.accept(i, conv, &mut facts.passed) {
                            matched = Some(i);
                            break 'rules;
                        }
                        from = i + 1;
                    }
                }
            }
        }
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
            facts.queue = Some(q as u32);
            let raw = self.assign(q, conv, state, &mut facts.visited);
            return (facts, raw);
        }
        let unrouted = RawOutcome::Unrouted(Unrouted::NoRuleMatched);
        match self.layout.default_queue {
            Some(q) if !self.can_take(q, conv) => {
                facts.start = Start::Rules(Fallback::DefaultSkippedLoop);
                facts.queue = Some(q as u32);
                (facts, unrouted)
            }
            Some(q) => {
                facts.start = Start::Rules(Fallback::Default);
                facts.queue = Some(q as u32);
                let raw = self.assign(q, conv, state, &mut facts.visited);
                (facts, raw)
            }
            None => (facts, unrouted),
        }
    }

    /// Whether the matched rule `i` takes the conversation; else records why not.
    #[inline(always)]
    fn accept(&self, i: usize, conv: &Conversation, passed: &mut Vec<(u32, bool)>) -> bool {
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

    /// Picks a member of the queue, or queues the conversation.
    #[inline(always)]
    fn assign(
        &self,
        q: usize,
        conv: &Conversation,
        state: &PreparedState,
        visited: &mut BotSet,
    ) -> RawOutcome {
        let (Some(layout), Some(queue)) =
            (self.layout.queues.get(q), self.workstream().queues.get(q))
        else {
            return RawOutcome::Unrouted(Unrouted::NoRuleMatched);
        };
        // Bots first, in the order listed.
        for (k, slot) in layout.bots.iter().enumerate() {
            let Some(bot) = queue.members.get(slot.pos as usize) else {
                continue;
            };
            if conv.has_visited_bot(&bot.id) {
                visited.insert(k);
                continue;
            }
            let s = state.bot(slot);
            if s.presence.accepts_work() && slot.capacity.is_none_or(|c| s.load < c) {
                return RawOutcome::Member(slot.pos as usize);
            }
        }
        // Humans: the largest key (most free capacity, then lowest id).
        if let Some(slot) = layout.best(state).and_then(|(j, _)| layout.humans.get(j)) {
            return RawOutcome::Member(slot.pos as usize);
        }
        let waiting = state.waiting(q);
        match queue.max_waiting {
            Some(limit) if waiting >= limit => RawOutcome::QueueFull { waiting, limit },
            _ => RawOutcome::Queued(waiting.saturating_add(1)),
        }
    }
}

impl Facts {
    /// The decision's rule, queue and outcome, as references into the workstream.
    pub(crate) fn parts<'a>(
        &self,
        ws: &'a Workstream,
        raw: RawOutcome,
    ) -> (Option<&'a RoutingRule>, Option<&'a Queue>, Outcome<'a>) {
        let rule = self.rule.and_then(|r| ws.routing_rules.get(r as usize));
        let queue = match self.start {
            Start::Ended(_) | Start::Rules(Fallback::DefaultSkippedLoop | Fallback::NoRule) => None,
            _ => self.queue.and_then(|q| ws.queues.get(q as usize)),
        };
        let outcome = match raw {
            RawOutcome::Member(pos) => match queue.and_then(|q| q.members.get(pos)) {
                Some(m) => Outcome::Assigned(m),
                None => Outcome::Unrouted(Unrouted::NoRuleMatched),
            },
            RawOutcome::Queued(position) => Outcome::Queued { position },
            RawOutcome::QueueFull { waiting, limit } => Outcome::QueueFull { waiting, limit },
            RawOutcome::Unrouted(u) => Outcome::Unrouted(u),
        };
        (rule, queue, outcome)
    }

    /// Re-derives the trace.
    pub(crate) fn steps<'a>(
        &self,
        ws: &'a Workstream,
        state: &PreparedState,
        outcome: Outcome<'a>,
    ) -> Vec<TraceStep<'a>> {
        let queue = self.queue.and_then(|q| ws.queues.get(q as usize));
        // Runs of unmatched rules and passed-over rules, the match, the members, the wait.
        let steps = 2 * self.passed.len() + 3 + queue.map_or(0, |q| q.members.len());
        let mut trace = Vec::with_capacity(steps);
        let rules = ws.routing_rules.as_slice();
        match self.start {
            Start::Ended(s) => trace.push(TraceStep::Ended(s)),
            Start::TransferEnded(s) => {
                trace.extend(queue.map(TraceStep::Transfer));
                trace.push(TraceStep::Ended(s));
            }
            Start::Transfer => {
                trace.extend(queue.map(TraceStep::Transfer));
                self.member_steps(ws, state, outcome, &mut trace);
            }
            Start::Rules(fallback) => {
                let mut run = 0;
                for &(i, looped) in &self.passed {
                    let i = i as usize;
                    if run < i {
                        trace.push(TraceStep::RulesNotMatched(&rules[run..i]));
                    }
                    if looped {
                        trace.push(TraceStep::RuleSkippedLoop(&rules[i]));
                    }
                    run = i + 1;
                }
                let upto = match (fallback, self.rule) {
                    (Fallback::Matched, Some(r)) => r as usize,
                    _ => rules.len(),
                };
                if run < upto {
                    trace.push(TraceStep::RulesNotMatched(&rules[run..upto]));
                }
                match (
                    fallback,
                    self.rule.and_then(|r| rules.get(r as usize)),
                    queue,
                ) {
                    (Fallback::Matched, Some(rule), _) => {
                        trace.push(TraceStep::RuleMatched(rule));
                        self.member_steps(ws, state, outcome, &mut trace);
                    }
                    (Fallback::Default, _, Some(q)) => {
                        trace.push(TraceStep::DefaultQueue(q));
                        self.member_steps(ws, state, outcome, &mut trace);
                    }
                    (Fallback::DefaultSkippedLoop, _, Some(q)) => {
                        trace.push(TraceStep::DefaultQueueSkippedLoop(q));
                    }
                    _ => trace.push(TraceStep::NoRuleMatched),
                }
            }
        }
        trace
    }

    /// One step per member of the queue considered, then waiting or full.
    fn member_steps<'a>(
        &self,
        ws: &'a Workstream,
        state: &PreparedState,
        outcome: Outcome<'a>,
        trace: &mut Vec<TraceStep<'a>>,
    ) {
        let Some(q) = self.queue.map(|q| q as usize) else {
            return;
        };
        let (Some(layout), Some(queue)) = (state.layout.queues.get(q), ws.queues.get(q)) else {
            return;
        };
        let humans = layout
            .humans
            .iter()
            .enumerate()
            .filter_map(|(j, s)| Some((j, s, queue.members.get(s.pos as usize)?)));
        for (k, slot) in layout.bots.iter().enumerate() {
            let Some(bot) = queue.members.get(slot.pos as usize) else {
                continue;
            };
            let verdict = if self.visited.contains(k) {
                Verdict::AlreadyHadConversation
            } else {
                let s = state.bot(slot);
                match slot.capacity {
                    _ if !s.presence.accepts_work() => Verdict::Unavailable(s.presence),
                    Some(capacity) if s.load >= capacity => Verdict::AtCapacity {
                        load: s.load,
                        capacity,
                    },
                    _ => Verdict::Picked,
                }
            };
            trace.push(TraceStep::Member(bot, verdict));
            if verdict == Verdict::Picked {
                trace.extend(
                    humans.map(|(_, _, m)| TraceStep::Member(m, Verdict::BotHadFirstClaim)),
                );
                return;
            }
        }
        let picked = layout.best(state);
        for (j, slot, member) in humans {
            let s = state.human(slot);
            let capacity = slot.capacity.unwrap_or(0);
            let verdict = if !s.presence.accepts_work() {
                Verdict::Unavailable(s.presence)
            } else if s.load >= capacity {
                Verdict::AtCapacity {
                    load: s.load,
                    capacity,
                }
            } else {
                let free = capacity - s.load;
                match picked {
                    Some((p, _)) if p == j => Verdict::Picked,
                    Some((_, picked_free)) if free == picked_free => {
                        Verdict::TieBrokenById { free }
                    }
                    Some((_, picked_free)) => Verdict::LessFreeCapacity { free, picked_free },
                    None => Verdict::LessFreeCapacity {
                        free,
                        picked_free: 0,
                    },
                }
            };
            trace.push(TraceStep::Member(member, verdict));
        }
        match outcome {
            Outcome::Queued { position } => trace.push(TraceStep::Queued(queue, position)),
            Outcome::QueueFull { waiting, .. } => trace.push(TraceStep::QueueFull(queue, waiting)),
            _ => {}
        }
    }
}
