//! The queue side of a decision: whether a queue can take the conversation, the preferred
//! agent, serving it now (bots, skills and the assignment method), and otherwise the wait
//! or the overflow that applies before queueing.

use super::{BotSet, Facts, Preferred, RawOutcome, needs_of};
use crate::conversation::{Conversation, ParticipantRole};
use crate::workstream::assignment::PreferredAgent;
use crate::workstream::overflow::{OverflowAction, OverflowCondition};
use crate::workstream::prepared::{PreparedState, Router};
use crate::workstream::router::Unrouted;
use crate::workstream::skills;

impl<'w> Router<'w> {
    /// Whether any member of the queue may still take this conversation: a human, or a bot
    /// that has not had it.
    #[inline(always)]
    pub(super) fn can_take(&self, q: usize, conv: &Conversation) -> bool {
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
    pub(super) fn preferred_in(
        &self,
        q: usize,
        conv: &Conversation,
        spec: &PreferredAgent,
    ) -> Preferred {
        let from_field = spec.from.as_ref().and_then(|f| match f.read(conv) {
            Some(crate::workstream::condition::Value::Str(s)) => Some(s),
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
    pub(super) fn serve_now(
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
    pub(super) fn free_bot(
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
    pub(super) fn wait_or_overflow(
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
