//! Tracked conversations by name: their place in the queue and estimated wait, and the
//! [`WorkItem`]s the host stores to restore them after a restart.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::decide::millis;
use super::error::RouteError;
use super::layout::skill_names;
use super::prepared::{PreparedState, Router};
use super::skills::{Need, Needs};
use super::trace::at_millis;
use super::work::{Item, QueuePlace, Roots, WorkItem};

impl Router<'_> {
    /// A tracked conversation's queue, position and estimated wait (for the automated
    /// "queue position" message), and the agent it is offered to.
    #[must_use]
    pub fn place(&self, state: &PreparedState, conversation: &str) -> Option<QueuePlace> {
        let slot = state.work.slot_of(conversation)?;
        self.place_of(state, slot)
    }

    /// Every conversation tracked in a queue, in order, with its place.
    #[must_use]
    pub fn places(&self, state: &PreparedState, queue: &str) -> Vec<(Arc<str>, QueuePlace)> {
        let Some(q) = self.layout.queue_position(queue) else {
            return Vec::new();
        };
        state
            .work
            .book(q)
            .iter()
            .filter_map(|&(_, slot)| {
                let id = Arc::clone(&state.work.get(slot)?.id);
                Some((id, self.place_of(state, slot)?))
            })
            .collect()
    }

    fn place_of(&self, state: &PreparedState, slot: u32) -> Option<QueuePlace> {
        let item = state.work.get(slot)?;
        let q = item.queue as usize;
        let queue = self.workstream().queues.get(q)?;
        let counted = state.waiting(q).saturating_sub(state.work.len_of(q));
        let position = state.work.place_of(slot)?.saturating_add(counted);
        Some(QueuePlace {
            queue: queue.name.clone(),
            position,
            estimated_wait: state
                .estimated_wait_ms(q, position)
                .map(Duration::from_millis),
            offered_to: item
                .offer
                .and_then(|(m, _)| self.member(m))
                .map(|m| m.id.clone()),
        })
    }

    /// The record to store for a tracked conversation.
    #[must_use]
    pub fn work_item(&self, state: &PreparedState, conversation: &str) -> Option<WorkItem> {
        let item = state.work.get(state.work.slot_of(conversation)?)?;
        self.snapshot(item)
    }

    /// The records of every tracked conversation.
    #[must_use]
    pub fn work_items(&self, state: &PreparedState) -> Vec<WorkItem> {
        state
            .work
            .items()
            .filter_map(|(_, item)| self.snapshot(item))
            .collect()
    }

    fn snapshot(&self, item: &Item) -> Option<WorkItem> {
        let ws = self.workstream();
        let names = skill_names(ws);
        let id = |m: u32| self.member(m).map(|m| m.id.clone());
        Some(WorkItem {
            conversation_id: item.id.to_string(),
            queue: ws.queues.get(item.queue as usize)?.name.clone(),
            rule: item
                .rule
                .and_then(|r| ws.routing_rules.get(r as usize))
                .map(|r| r.name.clone()),
            priority: item.priority,
            entered_queue_at: at_millis(item.entered),
            skills: item
                .needs
                .as_slice()
                .iter()
                .filter_map(|n| Some(((*names.get(usize::from(n.skill.0))?).to_owned(), n.level)))
                .collect(),
            preferred_agent: item
                .preferred
                .and_then(id)
                .map(|p| (p, at_millis(item.hold_until))),
            declined_by: item.declined.iter().filter_map(|&m| id(m)).collect(),
            failed_offers: item.failed,
            offered_to: item.offer.and_then(|(m, t)| Some((id(m)?, at_millis(t)))),
            waited_overflow_applied: item.waited_done,
        })
    }

    /// Tracks a stored conversation again (after a restart, into a fresh state): it keeps
    /// its place by priority and time entered, its declines and its offer (the agent's
    /// capacity held again). Its timers run from `now`: call [`Router::wake`] to apply
    /// those already due.
    ///
    /// # Errors
    /// [`RouteError::UnknownQueue`] when the workstream no longer has its queue.
    pub fn restore(
        &self,
        state: &mut PreparedState,
        item: &WorkItem,
        now: DateTime<Utc>,
    ) -> Result<(), RouteError> {
        let q = self
            .layout
            .queue_position(&item.queue)
            .ok_or_else(|| RouteError::UnknownQueue(item.queue.clone()))?;
        let member = |id: &str| self.layout.member_index.get(id).copied();
        let mut needs = Needs::default();
        for (name, level) in &item.skills {
            needs.push(Need::new(self.layout.skill(name), *level));
        }
        let offer = item
            .offered_to
            .as_ref()
            .and_then(|(m, t)| Some((member(m)?, millis(*t))));
        let rule = item.rule.as_deref().and_then(|r| {
            self.workstream()
                .routing_rules
                .iter()
                .position(|x| x.name == r)
        });
        // The rule's prepared groups serve the item when its skills are the rule's.
        let static_needs = rule
            .and_then(|r| self.layout.rules.get(r))
            .is_some_and(|info| !info.dynamic && info.needs == needs);
        let restored = Item {
            id: item.conversation_id.as_str().into(),
            queue: q as u32,
            rule: rule.map(|r| r as u32),
            priority: item.priority,
            entered: millis(item.entered_queue_at),
            order: state.work.next_order(),
            static_needs,
            relaxes: rule
                .and_then(|r| self.layout.rules.get(r))
                .is_some_and(|info| !info.relax_ms.is_empty()),
            roots: rule
                .and_then(|r| self.layout.rules.get(r))
                .filter(|info| static_needs && info.queue == Some(q as u32))
                .and_then(|info| info.roots.first())
                .map_or(Roots::default(), |roots| Roots::of(roots)),
            needs,
            preferred: item.preferred_agent.as_ref().and_then(|(m, _)| member(m)),
            hold_until: item.preferred_agent.as_ref().map_or(0, |(_, t)| millis(*t)),
            declined: item.declined_by.iter().filter_map(|m| member(m)).collect(),
            failed: item.failed_offers,
            offer,
            waited_done: item.waited_overflow_applied,
            failed_done: false,
            stamp: 0,
            deadline: None,
        };
        if let Some(old) = state.work.slot_of(&item.conversation_id)
            && let Some(gone) = state.work.remove(old)
            && let Some((m, _)) = gone.offer
        {
            state.reserve(m, state.layout.kind, false);
        }
        let slot = state.work.insert(restored);
        if let Some((m, _)) = offer {
            state.reserve(m, state.layout.kind, true);
        }
        state.work.mark(q);
        self.refresh_deadline(state, slot, millis(now));
        state.work.purge();
        Ok(())
    }
}
