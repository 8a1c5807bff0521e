//! Routing prepared once per workstream: each workstream's [`Router`] is built at start
//! (its rules indexed, its members and queues laid out) and its [`PreparedState`] is kept
//! up to date on every presence and load change, so a decision costs the decision alone
//! rather than preparing the workstream and resolving the live state again.
//!
//! A `Router` borrows its workstream; the pair lives in one `self_cell` (the well-kept crate
//! for a value that borrows from its owner), so the gateway can keep both for its lifetime
//! without leaking or copying the workstream per decision.

use std::collections::HashMap;

use byoc_core::workstream::{
    MemberState, PreparedState, Presence, Router, RoutingState, Workstream,
};

use crate::config::WorkstreamConfig;

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
    router: OwnedRouter,
    state: PreparedState,
}

/// Members' presence and load, and every workstream's prepared router and state.
pub(crate) struct Routing {
    /// The members' presence and load, whatever workstreams they serve.
    state: RoutingState,
    /// By workstream name.
    prepared: HashMap<String, Prepared>,
}

impl std::fmt::Debug for Routing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routing")
            .field("workstreams", &self.prepared.len())
            .finish_non_exhaustive()
    }
}

impl Routing {
    /// Prepares every workstream against `state`.
    pub(crate) fn new(workstreams: &[WorkstreamConfig], state: RoutingState) -> Self {
        let prepared = workstreams
            .iter()
            .map(|w| {
                let router = OwnedRouter::new(w.workstream.clone(), |ws| Router::new(ws));
                let prepared_state = router.borrow_dependent().prepare(&state);
                (
                    w.workstream.name.clone(),
                    Prepared {
                        router,
                        state: prepared_state,
                    },
                )
            })
            .collect();
        Self { state, prepared }
    }

    /// A member's presence and load.
    pub(crate) fn member_state(&self, id: &str) -> Option<MemberState> {
        self.state.member_state(id)
    }

    /// Sets a member's presence and load, in every workstream it serves.
    pub(crate) fn set_member(&mut self, id: &str, presence: Presence, load: u32) {
        self.state.set_member(id.to_owned(), presence, load);
        for p in self.prepared.values_mut() {
            p.state.set_member(id, presence, load);
        }
    }

    /// The router of a workstream and the state to route with.
    pub(crate) fn prepared(&self, workstream: &str) -> Option<(&Router<'_>, &PreparedState)> {
        self.prepared
            .get(workstream)
            .map(|p| (p.router.borrow_dependent(), &p.state))
    }
}
