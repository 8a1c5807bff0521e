//! Making a decision with a [`Router`]: rules, then the queue (operating hours, bots,
//! preferred agent, skills and the assignment method, overflow before queueing, the wait).
//!
//! Deciding records only positions ([`Facts`]): the rule that matched, rules passed over,
//! which bots had the conversation, the skills required, overflow applied. The trace is
//! re-derived from those, the workstream and the same state (`super::trace`), so a
//! decision costs no per-member work beyond choosing.

mod queue;

use chrono::{DateTime, Utc};

use super::error::RouteError;
use super::index::Segment;
use super::layout::Layout;
use super::prepared::{PreparedState, Router};
use super::router::{RoutingDecision, Unrouted};
use super::skills::{self, Needs};
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
}
