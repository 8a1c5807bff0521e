//! How the router serves its tracked conversations: offering or assigning them, failed
//! offers, overflow after queueing, relaxation, timers, and re-evaluating queues.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Action, Withdrawal};
use crate::workstream::decide::millis;
use crate::workstream::error::RouteError;
use crate::workstream::model::Member;
use crate::workstream::overflow::OverflowAction;
use crate::workstream::prepared::{PreparedState, Router};
use crate::workstream::skills::{Needs, SkillMatching, meets_all};
use crate::workstream::trace::at_millis;
use crate::workstream::work::{Item, Roots};

impl<'w> Router<'w> {
    pub(crate) fn member(&self, m: u32) -> Option<&'w Member> {
        // A member's listing in its first queue (listings agree on all but the name).
        let layout = &self.layout;
        let ws = self.workstream();
        layout
            .members
            .get(m as usize)
            .and_then(|info| info.first)
            .and_then(|(q, pos)| ws.queues.get(q as usize)?.members.get(pos as usize))
    }

    pub(super) fn offered(
        &self,
        state: &PreparedState,
        conversation: &str,
        member: &str,
    ) -> Result<(u32, u32), RouteError> {
        let slot = state
            .work
            .slot_of(conversation)
            .ok_or_else(|| RouteError::UnknownConversation(conversation.to_owned()))?;
        let m = self.layout.member_index.get(member).copied();
        match (state.work.get(slot).and_then(|i| i.offer), m) {
            (Some((offered, _)), Some(m)) if offered == m => Ok((slot, m)),
            _ => Err(RouteError::NotOffered {
                conversation: conversation.to_owned(),
                member: member.to_owned(),
            }),
        }
    }

    /// Stops tracking a conversation, withdrawing its offer.
    pub(super) fn untrack(
        &self,
        state: &mut PreparedState,
        id: &str,
        actions: &mut Vec<Action<'w>>,
    ) {
        let Some(slot) = state.work.slot_of(id) else {
            return;
        };
        if let Some(item) = state.work.remove(slot)
            && let Some((m, _)) = item.offer
        {
            state.reserve(m, state.layout.kind, false);
            if let Some(member) = self.member(m) {
                actions.push(Action::Withdraw {
                    conversation: item.id,
                    member,
                    reason: Withdrawal::Cancelled,
                });
            }
        }
    }

    /// An offer was declined or timed out.
    pub(super) fn offer_failed(
        &self,
        state: &mut PreparedState,
        slot: u32,
        m: u32,
        now: i64,
        actions: &mut Vec<Action<'w>>,
    ) {
        let kind = state.layout.kind;
        let Some(item) = state.work.get_mut(slot) else {
            return;
        };
        item.offer = None;
        if !item.declined.contains(&m) {
            item.declined.push(m);
        }
        item.failed += 1;
        if item.preferred == Some(m) {
            item.preferred = None;
        }
        let (q, failed, done) = (item.queue as usize, item.failed, item.failed_done);
        state.reserve(m, kind, false);
        state.work.mark(q);
        let limit = state.layout.queues.get(q).and_then(|l| l.offers_failed);
        if let Some((i, n)) = limit
            && failed >= n
            && !done
        {
            if let Some(item) = state.work.get_mut(slot) {
                item.failed_done = true;
            }
            self.overflow_after(state, slot, q, i, now, actions);
            return;
        }
        self.refresh_deadline(state, slot, now);
    }

    /// Applies queue `q`'s overflow entry `i` to a waiting conversation.
    pub(super) fn overflow_after(
        &self,
        state: &mut PreparedState,
        slot: u32,
        q: usize,
        i: u32,
        now: i64,
        actions: &mut Vec<Action<'w>>,
    ) {
        let ws = self.workstream();
        let (Some(queue), Some(id)) = (
            ws.queues.get(q),
            state.work.get(slot).map(|i| Arc::clone(&i.id)),
        ) else {
            return;
        };
        let Some(rule) = queue.overflow.get(i as usize) else {
            return;
        };
        match &rule.then {
            OverflowAction::Transfer(target) => {
                let (Some(t), Some(to)) = (self.layout.queue_position(target), ws.queue(target))
                else {
                    return;
                };
                let Some(mut item) = state.work.remove(slot) else {
                    return;
                };
                if let Some((m, _)) = item.offer.take() {
                    state.reserve(m, state.layout.kind, false);
                }
                item.queue = t as u32;
                item.roots = Roots::default();
                item.entered = now;
                item.failed = 0;
                item.failed_done = false;
                item.waited_done = false;
                item.order = state.work.next_order();
                let slot = state.work.insert(item);
                state.work.mark(t);
                self.refresh_deadline(state, slot, now);
                actions.push(Action::Transfer {
                    conversation: id,
                    from: queue,
                    to,
                });
            }
            OverflowAction::End(_) => {
                if let Some(item) = state.work.remove(slot)
                    && let Some((m, _)) = item.offer
                {
                    state.reserve(m, state.layout.kind, false);
                }
                actions.push(Action::End {
                    conversation: id,
                    queue,
                    message: rule.then.message(),
                });
            }
            OverflowAction::Wait(_) => {
                if let Some(text) = rule.then.message() {
                    actions.push(Action::Message {
                        conversation: id,
                        text,
                    });
                }
                self.refresh_deadline(state, slot, now);
            }
        }
    }

    /// The skills a waiting conversation still requires at `now`, and how many relaxation
    /// dropped.
    pub(crate) fn needs_at(&self, item: &Item, now: i64) -> (Needs, u8) {
        let dropped = self.dropped_at(item, now);
        (
            item.needs.keep(item.needs.len() - usize::from(dropped)),
            dropped,
        )
    }

    /// How many of a waiting conversation's skills relaxation dropped by `now`.
    #[inline]
    pub(crate) fn dropped_at(&self, item: &Item, now: i64) -> u8 {
        if !item.relaxes {
            return 0;
        }
        let relax = item
            .rule
            .and_then(|r| self.layout.rules.get(r as usize))
            .map_or(&[][..], |r| r.relax_ms.as_slice());
        if relax.is_empty() {
            return 0;
        }
        let passed = relax.iter().filter(|&&d| now - item.entered >= d).count();
        passed.min(item.needs.len()) as u8
    }

    /// Offers (or assigns) item `slot` to human `j` of its queue.
    ///
    /// `expiry` caches the last offer expiry turned into a date (offers made together
    /// share it).
    pub(super) fn give(
        &self,
        state: &mut PreparedState,
        slot: u32,
        j: u32,
        now: i64,
        expiry: &mut Option<(i64, DateTime<Utc>)>,
        actions: &mut Vec<Action<'w>>,
    ) {
        let kind = state.layout.kind;
        let Some((q, id)) = state
            .work
            .get(slot)
            .map(|item| (item.queue as usize, Arc::clone(&item.id)))
        else {
            return;
        };
        let Some((offer_ms, m, pos)) = state
            .layout
            .queues
            .get(q)
            .and_then(|ql| Some((ql.offer_ms, ql.humans.get(j as usize)?)))
            .map(|(offer, hs)| (offer, hs.member, hs.pos))
        else {
            return;
        };
        let Some((queue, member)) = self
            .workstream()
            .queues
            .get(q)
            .and_then(|queue| Some((queue, queue.members.get(pos as usize)?)))
        else {
            return;
        };
        state.take_turn(q, j);
        match offer_ms {
            Some(timeout) => {
                let expires = now.saturating_add(timeout);
                state.work.offer(slot, m, expires);
                state.reserve(m, kind, true);
                let expires_at = match *expiry {
                    Some((ms, at)) if ms == expires => at,
                    _ => {
                        let at = at_millis(expires);
                        *expiry = Some((expires, at));
                        at
                    }
                };
                actions.push(Action::Offer {
                    conversation: id,
                    queue,
                    member,
                    expires_at,
                });
            }
            None => {
                if let Some(item) = state.work.remove(slot) {
                    state.work.depart(q, item.entered, now);
                }
                state.add_load(m, kind);
                actions.push(Action::Assign {
                    conversation: id,
                    queue,
                    member,
                });
            }
        }
    }

    /// Recomputes an item's next timer: its offer's expiry, the end of its hold, its next
    /// relaxation, its queue's `waited_over`.
    pub(crate) fn refresh_deadline(&self, state: &mut PreparedState, slot: u32, now: i64) {
        let Some(item) = state.work.get(slot) else {
            return;
        };
        let mut next: Option<i64> = None;
        let mut consider = |t: i64| next = Some(next.map_or(t, |n| n.min(t)));
        if let Some((_, expires)) = item.offer {
            consider(expires);
        }
        if item.is_held(now) {
            consider(item.hold_until);
        }
        let (_, dropped) = self.needs_at(item, now);
        if let Some(&d) = item
            .rule
            .and_then(|r| self.layout.rules.get(r as usize))
            .and_then(|r| r.relax_ms.get(usize::from(dropped)))
            && usize::from(dropped) < item.needs.len()
        {
            consider(item.entered.saturating_add(d));
        }
        if let Some((_, limit)) = self
            .layout
            .queues
            .get(item.queue as usize)
            .and_then(|l| l.waited)
            && !item.waited_done
        {
            consider(item.entered.saturating_add(limit));
        }
        state.work.set_deadline(slot, next);
    }

    /// Re-evaluates the queues marked, highest priority first, and works out when closed
    /// queues with waiting conversations open.
    pub(super) fn settle(
        &self,
        state: &mut PreparedState,
        now: DateTime<Utc>,
        actions: &mut Vec<Action<'w>>,
    ) {
        let now_ms = millis(now);
        let secs = now.timestamp();
        state.set_time(now);
        let layout = Arc::clone(&state.layout);
        for (q, opens) in state.work.opens_at.clone().into_iter().enumerate() {
            if opens.is_some_and(|t| t <= secs) {
                state.work.mark(q);
            }
        }
        let dirty = state.work.take_dirty();
        for &q in &layout.by_priority {
            let q = q as usize;
            if dirty.get(q).copied().unwrap_or(false) {
                self.serve_queue(state, q, now_ms, actions);
            }
        }
        for q in 0..layout.queues.len() {
            let closed_with_waiting = state.work.len_of(q) > 0 && !state.is_open(q, secs);
            let opens = if closed_with_waiting {
                layout
                    .queues
                    .get(q)
                    .and_then(|l| l.hours)
                    .and_then(|h| layout.schedules.get(h as usize))
                    .and_then(|s| s.next_change(secs))
            } else {
                None
            };
            if let Some(slot) = state.work.opens_at.get_mut(q) {
                *slot = opens;
            }
        }
        state.work.purge();
    }

    /// Offers queue `q`'s waiting conversations, in order, to its free agents.
    pub(super) fn serve_queue(
        &self,
        state: &mut PreparedState,
        q: usize,
        now: i64,
        actions: &mut Vec<Action<'w>>,
    ) {
        if !state.is_open(q, now.div_euclid(1000)) || state.work.len_of(q) == 0 {
            return;
        }
        let layout = Arc::clone(&state.layout);
        let Some(ql) = layout.queues.get(q) else {
            return;
        };
        let mut expiry = None;
        actions.reserve(state.work.len_of(q) as usize);
        state.work.reserve_timers(state.work.len_of(q) as usize);
        // In waiting order; an assignment takes the item out of the order.
        let mut at = 0;
        while let Some(&(_, slot)) = state.work.book(q).get(at) {
            at += 1;
            if !state.anyone_free(q) {
                break; // nobody in the queue can take anything
            }
            let Some(item) = state.work.get(slot) else {
                continue;
            };
            if item.offer.is_some() {
                continue;
            }
            let dropped = self.dropped_at(item, now);
            let chosen = if item.is_held(now) {
                item.preferred.and_then(|m| {
                    let &(_, j) = layout
                        .members
                        .get(m as usize)?
                        .humans
                        .iter()
                        .find(|&&(qq, _)| qq as usize == q)?;
                    let group = ql.groups.get(ql.humans.get(j as usize)?.group as usize)?;
                    let needs = item.needs.keep(item.needs.len() - usize::from(dropped));
                    let skilled =
                        ql.matching == SkillMatching::Closest || meets_all(&group.levels, &needs);
                    (state.key_of(q, j) != 0 && skilled).then_some(j)
                })
            } else {
                let inline = item.roots.as_slice();
                if dropped == 0 && item.declined.is_empty() && !inline.is_empty() {
                    // The rule's groups, copied into the item.
                    state.best_of_roots(q, inline)
                } else {
                    let rule = item.rule.map(|r| r as usize).filter(|_| item.static_needs);
                    state
                        .pick_for(q, rule, usize::from(dropped), &item.needs, &item.declined)
                        .map(|p| p.j)
                }
            };
            if let Some(j) = chosen {
                self.give(state, slot, j, now, &mut expiry, actions);
                if state
                    .work
                    .book(q)
                    .get(at - 1)
                    .is_none_or(|&(_, s)| s != slot)
                {
                    at -= 1; // assigned: the next item moved up
                }
            }
        }
    }
}
