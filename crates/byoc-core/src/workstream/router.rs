//! The router's answer: decisions, outcomes, verdicts and trace steps; the one-off
//! `route` / `transfer` / `escalate`.

use std::fmt;

use chrono::{DateTime, Utc};

use super::decide::{Facts, RawOutcome};
use super::error::RouteError;
use super::model::{Member, MemberKind, Queue, RoutingRule, Workstream};
use super::prepared::{PreparedState, Router};
use super::state::{Presence, RoutingState};
use crate::ChannelAccount;
use crate::conversation::{ContextValue, Conversation, ConversationState, Owner, ParticipantRole};

/// Where the conversation ends up.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// Pushed to this member.
    Assigned(&'a Member),
    /// Nobody can take it now: it waits in the queue at this 1-based position.
    Queued {
        /// Its position.
        position: u32,
    },
    /// Nobody can take it and the queue already holds `limit` waiting conversations.
    QueueFull {
        /// Conversations waiting.
        waiting: u32,
        /// The queue's `max_waiting`.
        limit: u32,
    },
    /// No queue was found for it.
    Unrouted(Unrouted),
}

/// Why a conversation was not routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unrouted {
    /// No rule matched (or every match led back to bots that already had it) and the
    /// workstream has no default queue.
    NoRuleMatched,
    /// The conversation is in WrapUp or Closed.
    Ended(ConversationState),
}

/// Why a member was or was not picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Picked.
    Picked,
    /// A bot that already had this conversation (escalation loop guard).
    AlreadyHadConversation,
    /// Its presence takes no work.
    Unavailable(Presence),
    /// No free capacity.
    AtCapacity {
        /// Its load.
        load: u32,
        /// Its capacity.
        capacity: u32,
    },
    /// A human not considered because a bot had first claim and took it.
    BotHadFirstClaim,
    /// Had less free capacity than the member picked.
    LessFreeCapacity {
        /// Its free capacity.
        free: u32,
        /// The picked member's free capacity.
        picked_free: u32,
    },
    /// Had as much free capacity as the member picked, whose id sorts first.
    TieBrokenById {
        /// The shared free capacity.
        free: u32,
    },
}

/// One step of a routing decision, in order. `Display` writes it as a sentence.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum TraceStep<'a> {
    /// The conversation had ended; nothing was routed.
    Ended(ConversationState),
    /// These consecutive rules' conditions did not hold.
    RulesNotMatched(&'a [RoutingRule]),
    /// A rule matched.
    RuleMatched(&'a RoutingRule),
    /// A rule matched, but its queue holds only bots that already had the conversation.
    RuleSkippedLoop(&'a RoutingRule),
    /// No rule matched; the default queue was used.
    DefaultQueue(&'a Queue),
    /// No rule matched, and the default queue holds only bots that already had the
    /// conversation.
    DefaultQueueSkippedLoop(&'a Queue),
    /// No rule matched and there is no default queue.
    NoRuleMatched,
    /// An explicit transfer to this queue.
    Transfer(&'a Queue),
    /// A member and what the router made of it.
    Member(&'a Member, Verdict),
    /// It waits in the queue at this position.
    Queued(&'a Queue, u32),
    /// The queue is full.
    QueueFull(&'a Queue, u32),
}

impl fmt::Display for TraceStep<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ended(state) => write!(f, "conversation is {state}; not routed"),
            Self::RulesNotMatched([r]) => write!(f, "rule {}: condition not met", r.name),
            Self::RulesNotMatched(rules) => {
                f.write_str("rules ")?;
                for (i, r) in rules.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&r.name)?;
                }
                f.write_str(": conditions not met")
            }
            Self::RuleMatched(r) => match &r.condition {
                Some(_) => write!(f, "rule {}: condition met → queue {}", r.name, r.queue),
                None => write!(
                    f,
                    "rule {}: no condition, matches all → queue {}",
                    r.name, r.queue
                ),
            },
            Self::RuleSkippedLoop(r) => write!(
                f,
                "rule {}: matched, but queue {} holds only bots that already had this conversation; skipped",
                r.name, r.queue
            ),
            Self::DefaultQueue(q) => write!(f, "no rule matched → default queue {}", q.name),
            Self::DefaultQueueSkippedLoop(q) => write!(
                f,
                "no rule matched; default queue {} holds only bots that already had this conversation",
                q.name
            ),
            Self::NoRuleMatched => f.write_str("no rule matched and there is no default queue"),
            Self::Transfer(q) => write!(f, "transfer → queue {}", q.name),
            Self::Member(m, verdict) => {
                let kind = match m.kind {
                    MemberKind::Bot => "bot",
                    MemberKind::Agent => "agent",
                };
                write!(f, "{kind} {}: ", m.id)?;
                match verdict {
                    Verdict::Picked if m.is_bot() => f.write_str("picked (bots have first claim)"),
                    Verdict::Picked => f.write_str("picked (most free capacity)"),
                    Verdict::AlreadyHadConversation => {
                        f.write_str("not picked: already had this conversation")
                    }
                    Verdict::Unavailable(p) => write!(f, "not picked: presence {p:?}"),
                    Verdict::AtCapacity { load, capacity } => {
                        write!(f, "not picked: at capacity ({load}/{capacity})")
                    }
                    Verdict::BotHadFirstClaim => {
                        f.write_str("not considered: a bot had first claim")
                    }
                    Verdict::LessFreeCapacity { free, picked_free } => write!(
                        f,
                        "not picked: {free} free, the picked agent had {picked_free}"
                    ),
                    Verdict::TieBrokenById { free } => write!(
                        f,
                        "not picked: tied at {free} free, the tie goes to the lowest id"
                    ),
                }
            }
            Self::Queued(q, pos) => write!(
                f,
                "nobody free in queue {}: waiting at position {pos}",
                q.name
            ),
            Self::QueueFull(q, limit) => write!(
                f,
                "nobody free in queue {} and it is full ({limit} waiting)",
                q.name
            ),
        }
    }
}

/// What the router decided, and why.
///
/// A decision keeps its reasons compact (the rule and member positions it found); the
/// step-by-step [`trace`](Self::trace) and its sentences ([`explain`](Self::explain)) are
/// derived when asked for, from the workstream and the state the decision was made with.
#[derive(Clone)]
#[non_exhaustive]
pub struct RoutingDecision<'a> {
    /// The rule that matched, if a rule did.
    pub rule: Option<&'a RoutingRule>,
    /// The target queue, if one was found.
    pub queue: Option<&'a Queue>,
    /// Where the conversation ends up.
    pub outcome: Outcome<'a>,
    why: Why<'a>,
}

/// The reasons behind a decision.
#[derive(Clone)]
enum Why<'a> {
    /// Already written out (a decision that outlives the state it was made with).
    Steps(Vec<TraceStep<'a>>),
    /// To be derived on demand.
    Facts {
        ws: &'a Workstream,
        state: &'a PreparedState,
        facts: Facts,
    },
}

impl<'a> RoutingDecision<'a> {
    /// A decision whose trace is derived on demand from `ws` and `state`.
    #[inline]
    pub(crate) fn lazy(
        ws: &'a Workstream,
        state: &'a PreparedState,
        facts: Facts,
        raw: RawOutcome,
    ) -> Self {
        let (rule, queue, outcome) = facts.parts(ws, raw);
        Self {
            rule,
            queue,
            outcome,
            why: Why::Facts { ws, state, facts },
        }
    }

    /// A decision whose trace is written out now, so it does not borrow `state`.
    pub(crate) fn eager(
        ws: &'a Workstream,
        state: &PreparedState,
        facts: &Facts,
        raw: RawOutcome,
    ) -> Self {
        let (rule, queue, outcome) = facts.parts(ws, raw);
        Self {
            rule,
            queue,
            outcome,
            why: Why::Steps(facts.steps(ws, state, outcome)),
        }
    }

    /// Every step, in order: one per run of rules that did not match, one per rule matched
    /// (or skipped by the loop guard), one for the default queue or the transfer, one per
    /// member of the queue with its [`Verdict`] (bots first, up to the one picked), and one
    /// when the conversation waits or the queue is full.
    #[must_use]
    pub fn trace(&self) -> Vec<TraceStep<'a>> {
        match &self.why {
            Why::Steps(steps) => steps.clone(),
            Why::Facts { ws, state, facts } => facts.steps(ws, state, self.outcome),
        }
    }

    /// The trace as sentences.
    #[must_use]
    pub fn explain(&self) -> Vec<String> {
        self.trace().iter().map(ToString::to_string).collect()
    }

    /// The member it was assigned to.
    #[must_use]
    pub fn assignee(&self) -> Option<&Member> {
        match self.outcome {
            Outcome::Assigned(m) => Some(m),
            _ => None,
        }
    }

    /// The owner to record on the conversation: the assignee, else the queue, else none.
    #[must_use]
    pub fn owner(&self) -> Owner {
        match (self.outcome, self.queue) {
            (Outcome::Assigned(m), _) if m.is_bot() => Owner::Bot(m.id.clone()),
            (Outcome::Assigned(m), _) => Owner::Agent(m.id.clone()),
            (Outcome::Queued { .. }, Some(q)) => Owner::Queue(q.name.clone()),
            _ => Owner::None,
        }
    }

    /// Records the decision on the conversation at `at`:
    ///
    /// - its queue and owner ([`Conversation::set_owner`]: a replaced bot or agent leaves);
    /// - assigned: the assignee joins as a participant, and Open or Waiting → Active;
    /// - waiting in the queue: Active or Waiting → Open (released to the queue);
    /// - full or unrouted: only the queue, if any, is recorded.
    ///
    /// Every state change it makes is in the transition table.
    pub fn apply_to(&self, conv: &mut Conversation, at: DateTime<Utc>) {
        if let Some(q) = self.queue {
            conv.queue = Some(q.name.clone());
        }
        match self.outcome {
            Outcome::Assigned(member) => {
                conv.set_owner(self.owner(), at);
                let role = if member.is_bot() {
                    ParticipantRole::Bot
                } else {
                    ParticipantRole::Agent
                };
                let account = ChannelAccount::new(&member.id).with_name(member.display_name());
                conv.join(account, role, at);
                if matches!(
                    conv.state,
                    ConversationState::Open | ConversationState::Waiting
                ) {
                    let _ = conv.transition(ConversationState::Active, at);
                }
            }
            Outcome::Queued { .. } => {
                conv.set_owner(self.owner(), at);
                if matches!(
                    conv.state,
                    ConversationState::Active | ConversationState::Waiting
                ) {
                    let _ = conv.transition(ConversationState::Open, at);
                }
            }
            Outcome::QueueFull { .. } | Outcome::Unrouted(_) => {}
        }
    }
}

impl PartialEq for RoutingDecision<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.rule == other.rule
            && self.queue == other.queue
            && self.outcome == other.outcome
            && self.trace() == other.trace()
    }
}

impl fmt::Debug for RoutingDecision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutingDecision")
            .field("rule", &self.rule.map(|r| &r.name))
            .field("queue", &self.queue.map(|q| &q.name))
            .field("outcome", &self.outcome)
            .field("trace", &self.trace())
            .finish()
    }
}

/// Routes a conversation: the first rule whose condition holds picks the queue (a match whose
/// queue holds only bots that already had the conversation is skipped), else the default
/// queue; then a bot of that queue gets first claim, else the human with the most free
/// capacity (ties to the lowest id), else the conversation waits.
///
/// Pure: reads its arguments. The decision borrows only the workstream, so it can be
/// applied to the conversation ([`RoutingDecision::apply_to`]). This prepares the workstream
/// and the state for one decision and writes the trace out; to route many conversations,
/// prepare once with a [`Router`] and route with [`Router::route`], which is the same
/// decision at a fraction of the cost.
#[must_use]
pub fn route<'a>(
    conv: &Conversation,
    workstream: &'a Workstream,
    state: &RoutingState,
) -> RoutingDecision<'a> {
    Router::new(workstream).route_detached(conv, state)
}

/// Transfers a conversation to a named queue, skipping the rules; assignment within the queue
/// is as in [`route`] (bots that already had the conversation are still skipped).
/// [`Router::transfer`] is the prepared form.
pub fn transfer<'a>(
    conv: &Conversation,
    workstream: &'a Workstream,
    state: &RoutingState,
    queue: &str,
) -> Result<RoutingDecision<'a>, RouteError> {
    Router::new(workstream).transfer_detached(conv, state, queue)
}

/// A bot hands the conversation off: its context variables are applied
/// ([`Conversation::hand_off`]: the bot is recorded as visited, the conversation goes back to
/// Open), then the conversation is routed again. It never lands back on that bot.
/// [`Router::escalate`] is the prepared form.
pub fn escalate<'a>(
    conv: &mut Conversation,
    workstream: &'a Workstream,
    state: &RoutingState,
    context_updates: impl IntoIterator<Item = (String, ContextValue)>,
    at: DateTime<Utc>,
) -> RoutingDecision<'a> {
    conv.hand_off(context_updates, at);
    route(conv, workstream, state)
}
