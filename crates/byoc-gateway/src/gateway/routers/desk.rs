//! Agents' own routing settings, applied to every workstream's router and state.
//!
//! - **Queues.** An agent works every queue that lists it until it signs out of one
//!   (Omni-Channel's presence statuses that name the queues an agent takes work from;
//!   Omnichannel's queue membership). Signed out, the router offers it nothing from that
//!   queue ([`PreparedState::set_queue_membership`]); signing in again makes it eligible at
//!   once, and the shell re-evaluates the waiting conversations.
//! - **Capacity.** An agent's own capacity overrides the configuration in every workstream
//!   that lists it: the `capacity` of a member without a capacity profile, the `units` of a
//!   member with one (its per-kind limits and costs stay the profile's). A router lays its
//!   members' capacities out when it is built, so the workstreams listing the agent are
//!   rebuilt from their configured copy with every override, their state prepared again,
//!   and their waiting sets (places in line, declines, offers) carried over; what else
//!   the state learnt (round-robin turns, the queues' recent pace for estimated waits)
//!   starts afresh in those workstreams, as after a restart.

use std::collections::{HashMap, HashSet};

use byoc_core::workstream::{Member, PreparedState, Router, RoutingState, Workstream};
use chrono::{DateTime, Utc};

use super::{OwnedRouter, Prepared, Routing};

/// The settings agents chose.
#[derive(Debug, Default)]
pub(super) struct Desk {
    /// (agent, queue) pairs signed out of.
    left: HashSet<(String, String)>,
    /// Own capacities by agent.
    capacity: HashMap<String, u32>,
}

impl Desk {
    /// A fresh state for `p`'s router, its members signed out of the queues they left.
    pub(super) fn prepare(&self, p: &Prepared, members: &RoutingState) -> PreparedState {
        let mut state = p.router.borrow_dependent().prepare(members);
        for (agent, queue) in &self.left {
            state.set_queue_membership(agent, queue, false);
        }
        state
    }

    /// The workstream with the agents' own capacities.
    fn apply(&self, base: &Workstream) -> Workstream {
        let mut ws = base.clone();
        for m in ws.queues.iter_mut().flat_map(|q| q.members.iter_mut()) {
            if let Some(&n) = self.capacity.get(&m.id).filter(|_| !m.is_bot()) {
                if m.capacity_profile.is_some() {
                    m.units = Some(n);
                } else {
                    m.capacity = Some(n);
                }
            }
        }
        ws
    }
}

/// One queue listing an agent, and whether the agent works it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct QueueChoice {
    /// The workstream.
    pub(crate) workstream: String,
    /// The queue.
    pub(crate) queue: String,
    /// Whether the agent is signed in to it.
    pub(crate) joined: bool,
}

/// An agent's capacity: as configured, and its own when it set one.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct CapacityView {
    /// Conversations at once (`capacity`), or the units of its capacity profile.
    pub(crate) configured: Option<u32>,
    /// The capacity profile it has, if any (its units are what the agent sets).
    pub(crate) profile: Option<String>,
    /// The agent's own capacity, overriding `configured`.
    pub(crate) own: Option<u32>,
}

fn human<'a>(ws: &'a Workstream, agent: &str) -> impl Iterator<Item = (&'a str, &'a Member)> {
    ws.queues.iter().flat_map(move |q| {
        q.members
            .iter()
            .filter(move |m| m.id == agent && !m.is_bot())
            .map(move |m| (q.name.as_str(), m))
    })
}

impl Routing {
    /// The queues that list the agent, in every workstream, and whether it works them.
    pub(crate) fn queue_choices(&self, agent: &str) -> Vec<QueueChoice> {
        let mut names: Vec<&String> = self.prepared.keys().collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let Some(p) = self.prepared.get(name) else {
                continue;
            };
            for (queue, _) in human(&p.base, agent) {
                out.push(QueueChoice {
                    workstream: name.clone(),
                    queue: queue.to_owned(),
                    joined: p.state.is_in_queue(agent, queue),
                });
            }
        }
        out
    }

    /// Signs the agent in to (or out of) a queue, in every workstream that has it listing
    /// the agent; `false` (and no change) when none does.
    pub(crate) fn set_queue_membership(&mut self, agent: &str, queue: &str, joined: bool) -> bool {
        let mut found = false;
        for p in self.prepared.values_mut() {
            found |= p.state.set_queue_membership(agent, queue, joined);
        }
        if found {
            let pair = (agent.to_owned(), queue.to_owned());
            if joined {
                self.desk.left.remove(&pair);
            } else {
                self.desk.left.insert(pair);
            }
        }
        found
    }

    /// The conversations offered to the agent now (of `queue`, or of any queue), with their
    /// ordering keys.
    pub(crate) fn offers_to(&self, agent: &str, queue: Option<&str>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in self.prepared.values() {
            let router = p.router.borrow_dependent();
            for (id, key) in &self.keys {
                let offered = router.work_item(&p.state, id).is_some_and(|w| {
                    queue.is_none_or(|q| w.queue == q)
                        && w.offered_to.as_ref().is_some_and(|(a, _)| a == agent)
                });
                if offered {
                    out.push((id.clone(), key.clone()));
                }
            }
        }
        out.sort();
        out
    }

    /// The agent's capacity (from the first workstream listing it as a human); `None` when
    /// no workstream does.
    pub(crate) fn capacity_of(&self, agent: &str) -> Option<CapacityView> {
        let mut names: Vec<&String> = self.prepared.keys().collect();
        names.sort();
        let (ws, m) = names.into_iter().find_map(|n| {
            let p = self.prepared.get(n)?;
            human(&p.base, agent).next().map(|(_, m)| (&p.base, m))
        })?;
        let configured = match &m.capacity_profile {
            Some(profile) => m
                .units
                .or_else(|| ws.capacity_profile(profile).map(|p| p.units)),
            None => m.capacity,
        };
        Some(CapacityView {
            configured,
            profile: m.capacity_profile.clone(),
            own: self.desk.capacity.get(agent).copied(),
        })
    }

    /// Sets the agent's own capacity (`None`: as configured again) and rebuilds the routers
    /// of the workstreams listing it, carrying their waiting sets over. `false` (and no
    /// change) when no workstream lists the agent as a human.
    pub(crate) fn set_capacity(
        &mut self,
        agent: &str,
        capacity: Option<u32>,
        now: DateTime<Utc>,
    ) -> bool {
        let listing: Vec<String> = self
            .prepared
            .iter()
            .filter(|(_, p)| human(&p.base, agent).next().is_some())
            .map(|(name, _)| name.clone())
            .collect();
        if listing.is_empty() {
            return false;
        }
        match capacity {
            Some(n) => self.desk.capacity.insert(agent.to_owned(), n),
            None => self.desk.capacity.remove(agent),
        };
        for name in listing {
            let Some(p) = self.prepared.get_mut(&name) else {
                continue;
            };
            let items: Vec<_> = {
                let router = p.router.borrow_dependent();
                self.keys
                    .keys()
                    .filter_map(|id| router.work_item(&p.state, id))
                    .collect()
            };
            p.router = OwnedRouter::new(self.desk.apply(&p.base), |ws| Router::new(ws));
            p.state = self.desk.prepare(p, &self.state);
            let router = p.router.borrow_dependent();
            for item in &items {
                if let Err(e) = router.restore(&mut p.state, item, now) {
                    tracing::error!(conversation = %item.conversation_id, error = %e, "waiting conversation not carried over a capacity change");
                }
            }
        }
        true
    }

    /// Applies the settings stored at start: the queues agents signed out of (or in to),
    /// their own capacities. Call before [`Routing::restore`].
    pub(crate) fn load_settings(
        &mut self,
        queues: Vec<(String, String, bool)>,
        capacities: Vec<(String, u32)>,
        now: DateTime<Utc>,
    ) {
        for (agent, n) in capacities {
            if !self.set_capacity(&agent, Some(n), now) {
                tracing::info!(%agent, "stored capacity of an agent no workstream lists ignored");
            }
        }
        for (agent, queue, joined) in queues {
            self.set_queue_membership(&agent, &queue, joined);
        }
    }
}
