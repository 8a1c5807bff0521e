//! Routing prepared once per workstream: each workstream's [`Router`] is built at start
//! (its rules indexed, its members and queues laid out) and its [`PreparedState`] is kept
//! up to date on every presence and load change, so a decision costs the decision alone
//! rather than preparing the workstream and resolving the live state again.
//!
//! The prepared state is also the router's waiting set: the conversations waiting in a
//! queue or offered to an agent, with their timers. It lives in memory and is mirrored in
//! the store (`routing_work`, one router [`WorkItem`] per conversation, rewritten with the
//! step or routing pass that moved it), from which [`Routing::restore`] rebuilds it at start.
//!
//! Agents choose the queues they work (signing in to or out of each queue that lists
//! them) and may set their own capacity; both are kept here and applied to every
//! workstream (`desk`).
//!
//! A `Router` borrows its workstream; the pair lives in one `self_cell` (the well-kept crate
//! for a value that borrows from its owner), so the gateway can keep both for its lifetime
//! without leaking or copying the workstream per decision.

use std::collections::HashMap;

use byoc_core::workstream::{
    Action, ChannelKind, MemberState, PreparedState, Presence, Router, RoutingState, WorkItem,
    Workstream,
};
use chrono::{DateTime, Utc};

use crate::config::WorkstreamConfig;
use crate::engine::FollowUp;
use crate::model::{InboxEvent, RoutingAction};
use crate::store::{NewInbound, StoredWork, WorkChange};

type RouterOf<'w> = Router<'w>;

self_cell::self_cell!(
    /// A workstream and its router.
    struct OwnedRouter {
        owner: Workstream,
        #[covariant]
        dependent: RouterOf,
    }
);

/// One workstream's router and the live state resolved against it.
struct Prepared {
    /// The workstream as configured (the router's own copy carries agents' capacities).
    base: Workstream,
    router: OwnedRouter,
    state: PreparedState,
}

/// What a routing pass outside any step decided: the waiting set's changes and the
/// follow-up events, to commit together.
#[derive(Debug, Default)]
pub(crate) struct RoutingWrites {
    /// Waiting set changes.
    pub(crate) work: Vec<WorkChange>,
    /// Events for the conversations concerned.
    pub(crate) follow_ups: Vec<NewInbound>,
}

impl RoutingWrites {
    pub(crate) fn is_empty(&self) -> bool {
        self.work.is_empty() && self.follow_ups.is_empty()
    }
}

/// Members' presence and load, and every workstream's prepared router and state.
pub(crate) struct Routing {
    /// The members' presence and load (per channel kind), whatever workstreams they serve.
    state: RoutingState,
    /// By workstream name.
    prepared: HashMap<String, Prepared>,
    /// Agents' own settings: the queues they signed out of, their capacities.
    desk: desk::Desk,
    /// The ordering key of each conversation in a waiting set.
    keys: HashMap<String, String>,
    /// The version of the last waiting-set change decided (microseconds since the epoch,
    /// made strictly increasing).
    version: i64,
}

impl std::fmt::Debug for Routing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routing")
            .field("workstreams", &self.prepared.len())
            .finish_non_exhaustive()
    }
}

/// The owned follow-ups of router actions, and the agents assigned by them.
pub(crate) fn follow_ups_of(actions: &[Action<'_>]) -> (Vec<FollowUp>, Vec<String>) {
    let mut follow_ups = Vec::new();
    let mut assigned = Vec::new();
    for action in actions {
        if let Action::Assign { member, .. } = action
            && !member.is_bot()
        {
            assigned.push(member.id.clone());
        }
        if let Some(owned) = RoutingAction::of(action) {
            follow_ups.push(FollowUp {
                conversation: action.conversation().to_owned(),
                action: owned,
                trace: action.to_string(),
            });
        }
    }
    (follow_ups, assigned)
}

impl Routing {
    /// Prepares every workstream against `state`.
    pub(crate) fn new(workstreams: &[WorkstreamConfig], state: RoutingState) -> Self {
        let mut routing = Self {
            state,
            prepared: HashMap::new(),
            desk: desk::Desk::default(),
            keys: HashMap::new(),
            version: 0,
        };
        for w in workstreams {
            let router = OwnedRouter::new(w.workstream.clone(), |ws| Router::new(ws));
            let prepared_state = router.borrow_dependent().prepare(&routing.state);
            routing.prepared.insert(
                w.workstream.name.clone(),
                Prepared {
                    base: w.workstream.clone(),
                    router,
                    state: prepared_state,
                },
            );
        }
        routing
    }

    /// Rebuilds every workstream's state from the members' state and the stored waiting
    /// set (at start, or after a routing write failed and memory ran ahead of the store).
    /// Items of workstreams or queues that no longer exist are returned as changes forgetting them.
    pub(crate) fn restore(
        &mut self,
        items: Vec<StoredWork>,
        now: DateTime<Utc>,
    ) -> Vec<WorkChange> {
        let mut gone = Vec::new();
        self.keys.clear();
        for p in self.prepared.values_mut() {
            p.state = self.desk.prepare(p, &self.state);
        }
        for w in items {
            let id = w.item.conversation_id.clone();
            let restored = self.prepared.get_mut(&w.workstream).is_some_and(|p| {
                p.router
                    .borrow_dependent()
                    .restore(&mut p.state, &w.item, now)
                    .is_ok()
            });
            if restored {
                self.keys.insert(id, w.conv_key);
            } else {
                tracing::warn!(conversation = %id, workstream = %w.workstream, "waiting conversation not restored: its queue is gone");
                self.version = (self.version + 1).max(now.timestamp_micros());
                gone.push(WorkChange::Forget {
                    conversation: id,
                    version: self.version,
                });
            }
        }
        gone
    }

    /// A member's presence and load.
    pub(crate) fn member_state(&self, id: &str) -> Option<MemberState> {
        self.state.member_state(id)
    }

    /// Sets a member's presence, in every workstream it serves.
    pub(crate) fn set_presence(&mut self, id: &str, presence: Presence, now: DateTime<Utc>) {
        let mut s = self
            .state
            .member_state(id)
            .unwrap_or(MemberState::new(presence, 0));
        s.presence = presence;
        s.idle_since = None;
        self.put_member(id, s, now);
    }

    /// Adds to a member's load of conversations of `kind`, in every workstream it serves.
    pub(crate) fn add_load(&mut self, id: &str, kind: ChannelKind, delta: i32, now: DateTime<Utc>) {
        let mut s = self
            .state
            .member_state(id)
            .unwrap_or(MemberState::new(Presence::Offline, 0));
        s.load = s.load.saturating_add_signed(delta);
        let n = s.by_kind.get_mut(kind);
        *n = n.saturating_add_signed(delta);
        s.idle_since = None;
        self.put_member(id, s, now);
    }

    fn put_member(&mut self, id: &str, state: MemberState, now: DateTime<Utc>) {
        for p in self.prepared.values_mut() {
            p.state.update_member(id, state, now);
        }
        let kept = self
            .prepared
            .values()
            .find_map(|p| p.state.member_state(id))
            .unwrap_or(state);
        self.state.set_member_state(id.to_owned(), kept);
    }

    /// The router of a workstream and its live state.
    pub(crate) fn prepared_mut(
        &mut self,
        workstream: &str,
    ) -> Option<(&Router<'_>, &mut PreparedState)> {
        self.prepared
            .get_mut(workstream)
            .map(|p| (p.router.borrow_dependent(), &mut p.state))
    }

    /// Where a waiting conversation was offered, if it is.
    pub(crate) fn offered_to(&self, workstream: &str, conversation: &str) -> Option<String> {
        let p = self.prepared.get(workstream)?;
        p.router
            .borrow_dependent()
            .place(&p.state, conversation)?
            .offered_to
    }

    /// The waiting set's changes for the conversations `touched` in a workstream (the
    /// current conversation's key given, the others' known), and their follow-up events.
    pub(crate) fn writes(
        &mut self,
        workstream: &str,
        touched: &[String],
        own: Option<(&str, &str)>,
        follow_ups: Vec<FollowUp>,
    ) -> RoutingWrites {
        if let Some((id, key)) = own {
            self.keys.insert(id.to_owned(), key.to_owned());
        }
        let mut out = RoutingWrites::default();
        self.version = (self.version + 1).max(Utc::now().timestamp_micros());
        let version = self.version;
        let Some(p) = self.prepared.get(workstream) else {
            return out;
        };
        let router = p.router.borrow_dependent();
        let mut seen: Vec<&str> = Vec::new();
        for id in touched {
            if seen.contains(&id.as_str()) {
                continue;
            }
            seen.push(id);
            let item: Option<WorkItem> = router.work_item(&p.state, id);
            match (item, self.keys.get(id)) {
                (Some(item), Some(key)) => out.work.push(WorkChange::Save {
                    work: Box::new(StoredWork {
                        workstream: workstream.to_owned(),
                        conv_key: key.clone(),
                        item,
                    }),
                    version,
                }),
                (Some(_), None) => {
                    tracing::error!(conversation = %id, "waiting conversation without a key not stored");
                }
                (None, _) => out.work.push(WorkChange::Forget {
                    conversation: id.clone(),
                    version,
                }),
            }
        }
        for f in follow_ups {
            let Some(key) = self.keys.get(&f.conversation) else {
                tracing::error!(conversation = %f.conversation, "routing action for an unknown conversation dropped");
                continue;
            };
            let event = InboxEvent::Routing {
                conversation: f.conversation,
                action: f.action,
                trace: f.trace,
            };
            out.follow_ups
                .push(NewInbound::new("routing", None, key.clone(), event));
        }
        let gone: Vec<String> = out
            .work
            .iter()
            .filter_map(|w| match w {
                WorkChange::Forget { conversation, .. } => Some(conversation.clone()),
                _ => None,
            })
            .collect();
        // A key is kept until the conversation's follow-ups are written (above).
        for id in gone {
            self.keys.remove(&id);
        }
        out
    }

    /// Runs the router's timers (`wake`) of every workstream due at `now` — or of all with
    /// `all` — and re-evaluates the waiting conversations; returns what to commit.
    pub(crate) fn pass(&mut self, now: DateTime<Utc>, all: bool) -> RoutingWrites {
        let names: Vec<String> = self.prepared.keys().cloned().collect();
        let mut out = RoutingWrites::default();
        for name in names {
            let Some(p) = self.prepared.get_mut(&name) else {
                continue;
            };
            let due = all || p.state.next_wake().is_some_and(|t| t <= now);
            let router = p.router.borrow_dependent();
            let actions = if due {
                router.wake(&mut p.state, now)
            } else {
                router.reevaluate(&mut p.state, now)
            };
            if actions.is_empty() {
                continue;
            }
            let kind = router.workstream().channel.kind;
            let (follow_ups, assigned) = follow_ups_of(&actions);
            let touched: Vec<String> = follow_ups.iter().map(|f| f.conversation.clone()).collect();
            drop(actions);
            for agent in assigned {
                self.add_load(&agent, kind, 1, now);
            }
            let w = self.writes(&name, &touched, None, follow_ups);
            out.work.extend(w.work);
            out.follow_ups.extend(w.follow_ups);
        }
        out
    }

    /// When the router next needs waking, over every workstream.
    pub(crate) fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.prepared
            .values()
            .filter_map(|p| p.state.next_wake())
            .min()
    }
}

mod desk;
#[cfg(test)]
mod tests;
