//! Workstreams and routing.
//!
//! A [`Workstream`] binds one channel to ordered routing rules and queues, with the settings
//! around a conversation: auto-close after inactivity per state, attachment permissions,
//! automated messages and a post-conversation survey. It loads from TOML
//! ([`Workstream::from_toml_str`]) or JSON ([`Workstream::from_json_slice`]) and is validated
//! on load; every [`WorkstreamError`] names the field at fault as a dotted path
//! (`routing_rules[2].condition.any[0].equals.field`).
//!
//! [`route`] is a pure function of the conversation, the workstream and the live
//! [`RoutingState`] (presence and load per member, waiting count per queue). It returns a
//! [`RoutingDecision`] with the rule that matched, the queue, the [`Outcome`] and a trace
//! explaining the choice ([`RoutingDecision::trace`]: [`TraceStep`]s, one per run of rules
//! that did not match, one for the match, one per member of the queue with why it was or
//! was not picked):
//!
//! 1. Rules in order; the first whose [`Condition`] holds picks the queue. A match whose queue
//!    holds only bots that already had the conversation is skipped (escalation loop guard),
//!    then the `default_queue`, else [`Unrouted::NoRuleMatched`].
//! 2. Bot-first: a bot member of the queue that is available, under capacity and has not had
//!    the conversation takes it.
//! 3. Push to humans: the available agent with the most free capacity (capacity − load); ties
//!    go to the lowest id.
//! 4. Nobody free: the conversation waits at position `waiting + 1`, or the queue reports
//!    full when `max_waiting` conversations already wait.
//!
//! [`escalate`] applies a bot's hand-off context and routes again, never back to that bot;
//! [`transfer`] sends a conversation to a named queue.
//!
//! ```
//! use byoc_core::ChannelAccount;
//! use byoc_core::conversation::Conversation;
//! use byoc_core::workstream::{Outcome, RoutingState, Workstream, route};
//! use chrono::Utc;
//!
//! let ws = Workstream::from_toml_str(r#"
//!     name = "Support"
//!     language = "en-US"
//!     channel = { kind = "sms", id = "telesign" }
//!     context_variables = [{ name = "Topic", type = "string" }]
//!
//!     [[routing_rules]]
//!     name = "Billing"
//!     queue = "BillingQueue"
//!     condition = { equals = { field = "context.Topic", value = "billing" } }
//!
//!     [[queues]]
//!     name = "BillingQueue"
//!     members = [
//!         { id = "alice", kind = "agent", capacity = 2 },
//!         { id = "bob", kind = "agent", capacity = 3 },
//!     ]
//! "#).unwrap();
//!
//! let mut conv = Conversation::new("c-1", "telesign", ChannelAccount::new("+15550100"), Utc::now());
//! conv.set_context("Topic", "billing");
//! let state = RoutingState::new()
//!     .with_member("alice", Default::default(), 0)
//!     .with_member("bob", Default::default(), 0);
//! let decision = route(&conv, &ws, &state);
//! assert!(matches!(decision.outcome, Outcome::Assigned(m) if m.id == "bob")); // 3 free > 2 free
//! for line in decision.explain() {
//!     println!("{line}");
//! }
//! ```
//!
//! For many decisions, prepare the workstream once with a [`Router`] and resolve the live
//! state against it ([`Router::prepare`] → [`PreparedState`], updated in place on presence
//! and load events); [`Router::route`], [`Router::transfer`] and [`Router::escalate`] then
//! make the same decisions as the free functions:
//!
//! ```
//! # use byoc_core::conversation::Conversation;
//! # use byoc_core::workstream::{Presence, Router, RoutingState, Workstream};
//! # fn demo(ws: &Workstream, conv: &Conversation) {
//! let router = Router::new(ws);                        // once per workstream
//! let mut state = router.prepare(&RoutingState::new()); // once, then updated
//! state.set_member("alice", Presence::Available, 0);
//! let decision = router.route(conv, &state);           // per conversation
//! let why = decision.explain();                          // only when wanted
//! # }
//! ```
//!
//! Cost: preparing is linear in rules and members. A prepared decision finds its rule
//! through an index over each run of consecutive rules that test one field: `equals` / `in`
//! by a hash map from the value, `starts_with` by a hash map from the prefix probed once per
//! distinct prefix length, `contains` by one Aho-Corasick automaton walked over the value,
//! `exists` by a list, `ignore_case` variants by the same structures over ASCII-lowered
//! literals, an `any` of such tests on the field as their union, and `not` / `not_equals`
//! of one by checking the negated rules in order. `all`, mixed-field `any` and rules without
//! a condition are evaluated in order. Either way the first rule that holds, in declaration
//! order, wins. The human is found through a per-queue tournament tree
//! of (free capacity, id order) keys that the state keeps up to date (`log2(members)` steps
//! per presence or load change; the decision reads the root);
//! it allocates nothing in the common case, and the trace is derived only when asked for
//! (linear in the queue's members). The free [`route`] prepares for one decision and writes
//! the trace out, so it costs as much as preparing. Numbers: `cargo bench --bench routing`.
//!
//! Decisions on uncertain facts: the 8-hour auto-close minimum for SMS is the issue's rule
//! ([`AutoClose::SMS_MINIMUM`]) and is applied to every state's configured value; the other
//! defaults are Omnichannel's documented ones ([`AutoClose::default_for`]). Agents with Busy
//! presence still receive work (Omnichannel pushes to Busy agents); Do-not-disturb, Away and
//! Offline do not.

mod assignment;
mod attachments;
mod capacity;
mod condition;
mod decide;
mod duration;
mod error;
mod events;
mod fxhash;
mod hours;
mod index;
mod layout;
mod load;
mod messages;
mod model;
mod overflow;
mod prepared;
mod router;
mod skills;
mod snapshot;
mod state;
mod trace;
mod tree;
mod validate;
mod work;

pub use assignment::{AssignmentMethod, MAX_SORT_KEYS, OfferPolicy, PreferredAgent, SortKey};
pub use attachments::{AttachmentPermission, AttachmentPolicy, AttachmentRejection};
pub use capacity::{CapacityProfile, PerKind};
pub use condition::{Comparison, Condition, Field, Membership};
pub use error::{Format, RouteError, WorkstreamError};
pub use events::{Action, Placement, Withdrawal};
pub use hours::{Holiday, OperatingHours, TimeRange, TimeZone};
pub use messages::{
    AutomatedMessages, MessageKind, MessageValues, PLACEHOLDERS, TemplateError, placeholders,
};
pub use model::{
    AutoClose, ChannelBinding, ChannelKind, ContextVariable, Member, MemberKind, Queue,
    RoutingRule, Survey, VariableType, Workstream,
};
pub use overflow::{OverflowAction, OverflowCondition, OverflowRule};
pub use prepared::{PreparedState, Router};
pub use router::{
    Outcome, PreferredVerdict, RoutingDecision, SkillList, TraceStep, Unrouted, Verdict, escalate,
    route, transfer,
};
pub use skills::{
    MAX_PROFICIENCY, MAX_REQUIRED_SKILLS, SkillMatching, SkillRequirement, parse_skill_list,
};
pub use state::{MemberState, Presence, QueueState, RoutingState};
pub use validate::MAX_CONDITION_DEPTH;
pub use work::{QueuePlace, WorkItem};

impl Workstream {
    /// Whether the conversation has been idle longer than this workstream allows in its
    /// current state, at `now`. Idle time counts from the later of the last activity and
    /// the moment it entered its current state, so a conversation that just moved to
    /// Waiting is not closed for silence that happened before.
    #[must_use]
    pub fn is_auto_close_due(
        &self,
        conv: &crate::conversation::Conversation,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        self.auto_close_after(conv.state)
            .is_some_and(|limit| conv.idle_for(now).min(conv.in_state_for(now)) >= limit)
    }
}
