//! The engine's one routing step. Today it asks byoc-core's workstream router (rules,
//! bot-first, capacity); richer decisions (offers, overflow, hours, skills) slot in here
//! without touching the rest of the engine.

use byoc_core::conversation::Conversation;
use byoc_core::workstream::{Outcome, PreparedState, Router};
use chrono::{DateTime, Utc};

/// What to route for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RouteRequest<'q> {
    /// Rules, then the queue's members.
    Rules,
    /// Straight to this queue (an agent's transfer).
    Transfer(&'q str),
}

/// Where the conversation went (owned, so the decision's borrows end here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RoutedTo {
    /// A bot took it.
    Bot(String),
    /// An agent was assigned.
    Agent {
        /// Its id.
        id: String,
        /// Its display name.
        name: String,
    },
    /// It waits in the queue at this position.
    Queued(u32),
    /// Nobody free and the queue is full.
    Full,
    /// No queue was found.
    Unrouted,
}

/// A routing step's result.
#[derive(Clone, Debug)]
pub(crate) struct Routed {
    /// The queue chosen, if any.
    pub(crate) queue: Option<String>,
    /// Where it went.
    pub(crate) to: RoutedTo,
    /// The router's explanation, one sentence per step.
    pub(crate) trace: Vec<String>,
}

/// Routes `conv` with the workstream's prepared router and records the decision on it
/// ([`byoc_core::workstream::RoutingDecision::apply_to`]).
///
/// # Errors
/// An unknown transfer queue, as the router's message.
pub(crate) fn route_step(
    conv: &mut Conversation,
    router: &Router<'_>,
    state: &PreparedState,
    request: RouteRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Routed, String> {
    let decision = match request {
        RouteRequest::Rules => router.route(conv, state),
        RouteRequest::Transfer(queue) => router
            .transfer(conv, state, queue)
            .map_err(|e| e.to_string())?,
    };
    let to = match decision.outcome {
        Outcome::Assigned(m) if m.is_bot() => RoutedTo::Bot(m.id.clone()),
        Outcome::Assigned(m) => RoutedTo::Agent {
            id: m.id.clone(),
            name: m.display_name().to_owned(),
        },
        Outcome::Queued { position } => RoutedTo::Queued(position),
        Outcome::QueueFull { .. } => RoutedTo::Full,
        _ => RoutedTo::Unrouted,
    };
    let routed = Routed {
        queue: decision.queue.map(|q| q.name.clone()),
        to,
        trace: decision.explain(),
    };
    decision.apply_to(conv, now);
    Ok(routed)
}
