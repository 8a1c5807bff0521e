//! Workstreams and contact-center routing.
//!
//! A [`Workstream`] binds one channel to ordered routing rules and queues, with the settings
//! around a conversation: auto-close after inactivity per state, attachment permissions,
//! automated messages and a post-conversation survey. It loads from TOML
//! ([`Workstream::from_toml_str`]) or JSON ([`Workstream::from_json_slice`]) and is validated
//! on load; every [`WorkstreamError`] names the field at fault as a dotted path
//! (`routing_rules[2].condition.any[0].equals.field`, `queues[1].overflow[0].then.transfer`).
//!
//! # How a conversation is routed
//!
//! A decision is a pure function of the conversation, the workstream, the live state
//! (members' presence and load, who waits where, offers outstanding) and the time, which is
//! passed in; nothing reads a clock or does I/O. It returns a [`RoutingDecision`] with the
//! rule, the queue, the [`Outcome`] and a trace, one [`TraceStep`] per step, written as a
//! sentence by [`RoutingDecision::explain`]:
//!
//! 1. **Rules**, in order: the first whose [`Condition`] holds (conditions may read context
//!    variables, channel and customer facts, and `open = "<hours>"`) picks the queue, the
//!    conversation's `priority`, its required `skills` (named, or listed by a context
//!    variable a bot set) and its `preferred_agent`. A match whose queue holds only bots
//!    that already had the conversation is skipped (escalation loop guard); then the
//!    `default_queue`; else [`Unrouted::NoRuleMatched`].
//! 2. **The queue**, while inside its `operating_hours`: a bot that has not had the
//!    conversation takes it at once; else its preferred agent when free (or it waits for
//!    them up to `wait`); else the human its `assignment` method ranks first among those
//!    available (presence Available or Busy, signed in to the queue) with room for one more
//!    conversation of the channel's kind (their capacity, or capacity profile's units and
//!    per-kind limit, offers outstanding included) and the required skills (`exact`
//!    matching: every skill at or above its proficiency; `closest`: ranked by closeness
//!    first). A queue with `offer` offers the conversation ([`Outcome::Offered`]); one
//!    without assigns it ([`Outcome::Assigned`]).
//! 3. **Nobody takes it**: the queue's overflow before queueing (outside hours, more than N
//!    waiting, estimated wait over a limit) transfers it, ends it with a message, or lets it
//!    wait with a message; `max_waiting` reports the queue full; else it waits
//!    ([`Outcome::Queued`]) at its position, behind higher priorities and earlier arrivals,
//!    with an estimated wait.
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
//! # Hosting the router
//!
//! A host (the gateway's engine, a state machine itself) keeps:
//!
//! - per workstream, a [`Router`] (built once: [`Router::new`]) and its [`PreparedState`]
//!   (in memory: [`Router::prepare`] from the members' presence and load, a
//!   [`RoutingState`]);
//! - per agent, its [`MemberState`] — presence, conversations held (by channel kind for
//!   capacity profiles, across all workstreams), idle since — and the queues it is signed
//!   in to, fed to the state as they change;
//! - per conversation waiting or offered, the [`WorkItem`] from [`Router::work_item`]
//!   after each event that concerns it, to [`Router::restore`] into a fresh state after a
//!   restart (its place in line, its declines and its offer survive);
//! - one timer, at [`PreparedState::next_wake`].
//!
//! | event | call | comes back |
//! |---|---|---|
//! | a conversation needs routing (new, bot hand-off, routed again) | [`Router::submit`] (or [`Router::submit_transfer`] to a named queue) | [`Placement`]: the decision with its trace, and [`Action`]s |
//! | an agent accepts an offer | [`Router::accept`] | [`Action::Assign`] |
//! | an agent declines an offer | [`Router::decline`] | the next [`Action::Offer`], or overflow |
//! | the timer fires | [`Router::wake`] | offers timed out ([`Action::Withdraw`]) and made again, overflow after waiting, offers after skills relax, a hold ends or a queue opens |
//! | an agent comes online, frees capacity, joins a queue | [`PreparedState::update_member`] / [`PreparedState::set_member`] / [`PreparedState::set_queue_membership`], then [`Router::reevaluate`] | offers to waiting conversations, highest queue priority first, each queue in order |
//! | the customer leaves, the conversation closes | [`Router::cancel`] | [`Action::Withdraw`] of its offer, if any |
//! | the customer asks where they are | [`Router::place`] | position and estimated wait |
//!
//! Actions say what to do, not how: notify an agent's console of an offer or withdraw it,
//! add a member to the conversation ([`Action::apply_to`] records it on the
//! [`Conversation`](crate::conversation::Conversation)), send the `queue_position`,
//! `transferred` or an overflow message (templates, rendered by
//! [`Workstream::render_message`] and [`Workstream::render_text`]), end the conversation.
//! After each call, set the timer to [`PreparedState::next_wake`] (`None`: no timer).
//!
//! ```
//! use byoc_core::ChannelAccount;
//! use byoc_core::conversation::Conversation;
//! use byoc_core::workstream::{Action, Presence, Router, RoutingState, Workstream};
//! use chrono::{TimeZone, Utc};
//!
//! let ws = Workstream::from_toml_str(r#"
//!     name = "Support"
//!     language = "en-US"
//!     channel = { kind = "chat", id = "web" }
//!
//!     [[routing_rules]]
//!     name = "Billing"
//!     queue = "Billing"
//!     priority = 2
//!     skills = [{ name = "billing", proficiency = 3 }]
//!
//!     [[queues]]
//!     name = "Billing"
//!     offer = { timeout = "30s" }
//!     members = [
//!         { id = "ann", kind = "agent", capacity = 2, skills = { billing = 4 } },
//!         { id = "bob", kind = "agent", capacity = 2, skills = { billing = 3 } },
//!     ]
//! "#).unwrap();
//! let router = Router::new(&ws);
//! let mut state = router.prepare(
//!     &RoutingState::new()
//!         .with_member("ann", Presence::Available, 0)
//!         .with_member("bob", Presence::Available, 1),
//! );
//! let now = Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).unwrap();
//! let conv = Conversation::new("c-1", "web", ChannelAccount::new("cust"), now);
//!
//! // A conversation arrives: offered to ann (most free capacity), who has 30 seconds.
//! let placed = router.submit(&mut state, &conv, now);
//! assert!(matches!(&placed.actions[..], [Action::Offer { member, .. }] if member.id == "ann"));
//! let timer = state.next_wake().unwrap(); // now + 30 s
//!
//! // ann does not answer: the timer fires; the offer is withdrawn and goes to bob.
//! let actions = router.wake(&mut state, timer);
//! assert!(matches!(&actions[0], Action::Withdraw { member, .. } if member.id == "ann"));
//! assert!(matches!(&actions[1], Action::Offer { member, .. } if member.id == "bob"));
//!
//! // bob accepts: he joins the conversation, which leaves the queue.
//! let actions = router.accept(&mut state, "c-1", "bob", timer).unwrap();
//! assert!(matches!(&actions[..], [Action::Assign { member, .. }] if member.id == "bob"));
//! assert_eq!(state.next_wake(), None);
//! ```
//!
//! [`Router::route_at`] makes the same decision as [`Router::submit`] without recording it
//! (a preview, a what-if); [`Router::route`], [`route`], [`transfer`] and [`escalate`] are
//! the earlier forms, deciding at the conversation's last activity.
//!
//! # The features, and the product behaviour each follows
//!
//! | byoc | follows |
//! |---|---|
//! | `assignment = "highest_capacity"` (default): most free units, ties in round-robin order | Omnichannel unified routing's *highest capacity* assignment method (ties by round robin); Salesforce Omni-Channel `QueueRoutingConfig.routingModel = MostAvailable` |
//! | `"round_robin"`: the agent offered work least recently in this queue | Omnichannel's *round robin* (order kept per queue, updated on each assignment; the initial order is by id, where Omnichannel uses the time an agent joined the queue) |
//! | `"longest_idle"`: since the last conversation ended or the agent came online | Omnichannel's *least active* (last capacity release); TaskRouter's longest-idle worker |
//! | `{ custom = [...] }`: up to three sort keys (`free_capacity`, `least_load`, `longest_idle`, `round_robin`) | Omnichannel's custom assignment rulesets' *order by*; Salesforce `routingModel = LeastActive` is `{ custom = ["least_load"] }` |
//! | `offer = { timeout }`: offered to one agent, accept or decline, never again to one who declined or let it time out; bots take at once | TaskRouter reservations (accepted, rejected or timed out after the reservation timeout); Salesforce `pushTimeout`; Omnichannel's agent notification with accept/reject |
//! | `overflow`, before queueing: `closed`, `waiting_over`, `estimated_wait_over`; after: `waited_over`, `offers_failed`; actions `transfer`, `end`, `wait` (with a message) | Omnichannel's overflow handling (before a work item is queued: out of operating hours, work item limit, wait time; after: waiting longer than a limit; transfer to a queue, end the conversation), checked once per work item entering through its rules, so transfers do not loop; Salesforce's overflow assignee |
//! | `operating_hours`: weekly ranges (overnight allowed) and holidays in an IANA time zone, DST-correct; `open` conditions | Omnichannel operating hours records attached to queues (a schedule in a time zone, with holidays); outside them, overflow or the wait |
//! | `skills` with proficiency 0–5, `skill_matching = "exact" \| "closest"`; skills from a context variable a bot set; `relax_skills_after` | Omnichannel skill-based routing (skills attached by rules, *exact match*: every skill at or above the rating; *closest match*: agents ranked by closeness); Salesforce skills-based routing's additional skills dropped, least important first, after `dropAdditionalSkillsTimeout`; TaskRouter workflow targets relaxed on timeouts |
//! | `priority` on rules, higher first, then first in first out; `priority` on queues across queues | TaskRouter task priority (higher first, then the oldest task); Omnichannel prioritization rulesets; Salesforce `routingPriority` orders queues (there, lower first) |
//! | `preferred_agent = { from, last_agent, wait }` | Omnichannel preferred agent routing (fallback to the next best agent, or wait for the preferred agent); a TaskRouter target on the preferred worker with a timeout |
//! | `capacity_profiles`: units, cost and limit per channel kind, agents' own `units` and `max` overriding; kinds sharing one agent | Omnichannel capacity profiles (default max units, per-agent override) and unit-based capacity; Salesforce `capacityWeight` per routing configuration; TaskRouter multitasking channel capacity |
//! | [`Router::reevaluate`]: waiting conversations offered when agents free up | Omnichannel's assignment cycles over the top-priority waiting work items; TaskRouter assigning pending tasks when a worker becomes available |
//! | [`Router::place`]: position and estimated wait | Omnichannel's queue position and average wait time messages |
//!
//! # Cost
//!
//! Preparing is linear in rules and members. A prepared decision finds its rule through an
//! index over each run of consecutive rules that test one field (`equals` / `in` by a hash
//! map, `starts_with` by a prefix map probed once per prefix length, `contains` by one
//! Aho-Corasick automaton, `exists` by a list, `ignore_case` over ASCII-lowered literals,
//! negations checked in order; everything else in order), so the first rule that holds, in
//! declaration order, wins. Each queue keeps a tournament tree of its humans' ranking keys
//! (64-bit: the assignment method's sort keys, then the id's rank), which presence, load,
//! offers and sign-ins update in `log2(humans)` steps; humans with identical skills form an
//! aligned block of leaves, whose subtree root is their best, and a rule's qualifying
//! groups are worked out when preparing, so choosing the human reads the queue's root, or
//! one subtree root per qualifying group.
//! A queue's operating hours are worked out once per window of constant openness
//! ([`PreparedState::set_time`], done by every event call). A decision allocates nothing in
//! the common case; the trace is derived only when asked for. Re-evaluation walks each
//! re-evaluated queue's waiting conversations once. Numbers: `cargo bench --bench
//! routing` and BENCHMARKS.md.
//!
//! # Decisions on uncertain facts
//!
//! The 8-hour auto-close minimum for SMS is the issue's rule ([`AutoClose::SMS_MINIMUM`])
//! and is applied to every state's configured value; the other defaults are Omnichannel's
//! documented ones ([`AutoClose::default_for`]). Agents with Busy presence still receive
//! work (Omnichannel pushes to Busy agents); Do-not-disturb, Away and Offline do not.
//! Priorities run higher-first, as TaskRouter's do (Salesforce's `routingPriority` runs the
//! other way). An estimated wait is the position times the smoothed time between departures
//! from the queue (or, before any departure, the queue's `average_handle_time` divided by
//! the conversations its online agents can hold); Omnichannel computes its own from history
//! it does not publish. A holiday governs its whole local date. A conversation offered
//! counts on the agent's capacity until answered, as a TaskRouter reservation does.

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
mod keys;
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

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn routing_types_are_send_and_sync() {
        send_sync::<super::PreparedState>();
        send_sync::<super::Action<'static>>();
        send_sync::<super::Placement<'static>>();
        send_sync::<super::WorkItem>();
        send_sync::<super::QueuePlace>();
        send_sync::<super::OperatingHours>();
    }
}
