//! The router's answer: decisions, outcomes, verdicts and trace steps; the one-off
//! `route` / `transfer` / `escalate`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::decide::{Facts, RawOutcome};
use super::error::RouteError;
use super::model::{Member, Queue, RoutingRule, Workstream};
use super::overflow::OverflowRule;
use super::prepared::{PreparedState, Router};
use super::skills::SkillMatching;
use super::state::{Presence, RoutingState};
use crate::ChannelAccount;
use crate::conversation::{ContextValue, Conversation, ConversationState, Owner, ParticipantRole};

/// Where the conversation ends up.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// Given to this member now: a bot, or an agent of a queue that assigns without offers.
    Assigned(&'a Member),
    /// Offered to this agent, who accepts or declines until `expires_at`.
    Offered {
        /// The agent.
        member: &'a Member,
        /// When the offer times out.
        expires_at: DateTime<Utc>,
    },
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
    /// The queue's overflow ends it, after this message.
    Ended {
        /// The message to send first (a template; see `Workstream::render_text`).
        message: Option<&'a str>,
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
    /// Picked: a bot (first claim), or the agent with the most free capacity.
    Picked,
    /// Picked: ranked first by the queue's assignment method, whose first sort key this
    /// is.
    PickedBy(super::SortKey),
    /// Picked: the conversation's preferred agent.
    PickedPreferred,
    /// Picked: the closest skill match.
    PickedClosest,
    /// A bot that already had this conversation (escalation loop guard).
    AlreadyHadConversation,
    /// Its presence takes no work.
    Unavailable(Presence),
    /// Signed out of this queue.
    NotInQueue,
    /// No free capacity.
    AtCapacity {
        /// Its load (units in use, offers included).
        load: u32,
        /// Its capacity (units).
        capacity: u32,
    },
    /// Already holds the most conversations of this channel kind its profile allows.
    AtKindLimit {
        /// The limit.
        max: u32,
    },
    /// Lacks a required skill or its proficiency (exact matching).
    LacksSkills,
    /// Declined this conversation before, or let an offer of it time out.
    Declined,
    /// Not considered: the conversation waits for its preferred agent.
    HeldForPreferred,
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
    /// Matched the required skills less closely than the member picked (closest
    /// matching).
    LessCloseSkills,
    /// Ranked below the member picked on this sort key of the assignment method.
    Outranked(super::SortKey),
    /// Ranked the same as the member picked on every sort key; the tie goes to the lowest
    /// id.
    Tied,
}

/// The skills a decision required, by name, for the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkillList<'a> {
    pub(crate) names: [(&'a str, u8); super::MAX_REQUIRED_SKILLS],
    pub(crate) len: u8,
    pub(crate) dropped: u8,
    pub(crate) matching: SkillMatching,
}

impl<'a> SkillList<'a> {
    /// The skills still required, most important first, with their least proficiency.
    #[must_use]
    pub fn skills(&self) -> &[(&'a str, u8)] {
        &self.names[..usize::from(self.len)]
    }

    /// How many of the least important skills relaxation dropped.
    #[must_use]
    pub fn dropped(&self) -> usize {
        usize::from(self.dropped)
    }

    /// How they were matched.
    #[must_use]
    pub fn matching(&self) -> SkillMatching {
        self.matching
    }
}

/// What became of a conversation's preferred agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PreferredVerdict {
    /// Free: picked.
    Picked,
    /// Not free: the conversation waits for them until then.
    WaitingUntil(DateTime<Utc>),
    /// Not free, and the conversation does not wait: the queue's other agents may take it.
    NotFree,
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
    /// The skills required of the agent.
    Skills(SkillList<'a>),
    /// The queue is outside its operating hours: nobody is given work from it.
    QueueClosed(&'a Queue),
    /// An overflow entry of this queue applied.
    Overflow(&'a Queue, &'a OverflowRule),
    /// The conversation's preferred agent.
    PreferredAgent(&'a Member, PreferredVerdict),
    /// The agent the conversation prefers is not a member of this queue; ignored.
    PreferredAgentNotInQueue(&'a Queue),
    /// A member and what the router made of it.
    Member(&'a Member, Verdict),
    /// Offered to this agent until then.
    Offered(&'a Member, DateTime<Utc>),
    /// It waits in the queue at this position.
    Queued(&'a Queue, u32),
    /// The estimated wait.
    EstimatedWait(Duration),
    /// The queue is full.
    QueueFull(&'a Queue, u32),
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
    /// The target queue, if one was found (after any overflow transfer).
    pub queue: Option<&'a Queue>,
    /// Where the conversation ends up.
    pub outcome: Outcome<'a>,
    /// Its priority in the queue (the rule's).
    pub priority: i32,
    /// The estimated wait, when it waits and the queue can tell.
    pub estimated_wait: Option<Duration>,
    /// A message an overflow entry asks to send (a template; see
    /// `Workstream::render_text`).
    pub message: Option<&'a str>,
    /// The queue the rules chose, when overflow moved the conversation on from it.
    pub overflowed_from: Option<&'a Queue>,
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
    /// Decides into a decision built in place (no copy of its facts), whose trace is
    /// derived on demand from `ws` and `state`.
    #[inline(always)]
    pub(crate) fn decided(
        ws: &'a Workstream,
        state: &'a PreparedState,
        facts: Facts,
        decide: impl FnOnce(&mut Facts) -> RawOutcome,
    ) -> Self {
        let mut facts = facts;
        let raw = decide(&mut facts);
        let parts = facts.parts(ws, raw);
        Self {
            rule: parts.rule,
            queue: parts.queue,
            outcome: parts.outcome,
            priority: facts.priority,
            estimated_wait: parts.estimated_wait,
            message: parts.message,
            overflowed_from: parts.overflowed_from,
            why: Why::Facts { ws, state, facts },
        }
    }

    /// A decision whose trace is derived on demand from `ws` and `state`.
    #[inline]
    pub(crate) fn lazy(
        ws: &'a Workstream,
        state: &'a PreparedState,
        facts: Facts,
        raw: RawOutcome,
    ) -> Self {
        let parts = facts.parts(ws, raw);
        Self {
            rule: parts.rule,
            queue: parts.queue,
            outcome: parts.outcome,
            priority: facts.priority,
            estimated_wait: parts.estimated_wait,
            message: parts.message,
            overflowed_from: parts.overflowed_from,
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
        let parts = facts.parts(ws, raw);
        Self {
            rule: parts.rule,
            queue: parts.queue,
            outcome: parts.outcome,
            priority: facts.priority,
            estimated_wait: parts.estimated_wait,
            message: parts.message,
            overflowed_from: parts.overflowed_from,
            why: Why::Steps(facts.steps(ws, state, parts.outcome)),
        }
    }

    /// Every step, in order: one per run of rules that did not match, one per rule matched
    /// (or skipped by the loop guard), one for the default queue or the transfer, the
    /// skills required, the queue's hours, overflow and preferred agent when they play a
    /// part, one per member of the queue with its [`Verdict`] (bots first, up to the one
    /// picked), and the offer or the wait.
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

    /// The member it was assigned to (not merely offered to).
    #[must_use]
    pub fn assignee(&self) -> Option<&Member> {
        match self.outcome {
            Outcome::Assigned(m) => Some(m),
            _ => None,
        }
    }

    /// The owner to record on the conversation: the assignee, else the queue (waiting or
    /// offered), else none.
    #[must_use]
    pub fn owner(&self) -> Owner {
        match (self.outcome, self.queue) {
            (Outcome::Assigned(m), _) if m.is_bot() => Owner::Bot(m.id.clone()),
            (Outcome::Assigned(m), _) => Owner::Agent(m.id.clone()),
            (Outcome::Queued { .. } | Outcome::Offered { .. }, Some(q)) => {
                Owner::Queue(q.name.clone())
            }
            _ => Owner::None,
        }
    }

    /// Records the decision on the conversation at `at`:
    ///
    /// - its queue and owner ([`Conversation::set_owner`]: a replaced bot or agent leaves);
    /// - assigned: the assignee joins as a participant, and Open or Waiting → Active;
    /// - offered or waiting in the queue: Active or Waiting → Open (released to the queue);
    /// - full, ended by overflow or unrouted: only the queue, if any, is recorded.
    ///
    /// Every state change it makes is in the transition table.
    pub fn apply_to(&self, conv: &mut Conversation, at: DateTime<Utc>) {
        if let Some(q) = self.queue {
            conv.queue = Some(q.name.clone());
        }
        match self.outcome {
            Outcome::Assigned(member) => assign(conv, member, at),
            Outcome::Queued { .. } | Outcome::Offered { .. } => {
                conv.set_owner(self.owner(), at);
                release(conv, at);
            }
            Outcome::QueueFull { .. } | Outcome::Ended { .. } | Outcome::Unrouted(_) => {}
        }
    }
}

/// The member takes the conversation: owner, participant, Active.
pub(crate) fn assign(conv: &mut Conversation, member: &Member, at: DateTime<Utc>) {
    let owner = if member.is_bot() {
        Owner::Bot(member.id.clone())
    } else {
        Owner::Agent(member.id.clone())
    };
    conv.set_owner(owner, at);
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

/// Back to the queue: Active or Waiting → Open.
pub(crate) fn release(conv: &mut Conversation, at: DateTime<Utc>) {
    if matches!(
        conv.state,
        ConversationState::Active | ConversationState::Waiting
    ) {
        let _ = conv.transition(ConversationState::Open, at);
    }
}

impl PartialEq for RoutingDecision<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.rule == other.rule
            && self.queue == other.queue
            && self.outcome == other.outcome
            && self.priority == other.priority
            && self.estimated_wait == other.estimated_wait
            && self.message == other.message
            && self.overflowed_from == other.overflowed_from
            && self.trace() == other.trace()
    }
}

impl std::fmt::Debug for RoutingDecision<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutingDecision")
            .field("rule", &self.rule.map(|r| &r.name))
            .field("queue", &self.queue.map(|q| &q.name))
            .field("outcome", &self.outcome)
            .field("priority", &self.priority)
            .field("estimated_wait", &self.estimated_wait)
            .field("message", &self.message)
            .field("trace", &self.trace())
            .finish()
    }
}

/// Routes a conversation at its last activity: the first rule whose condition holds picks
/// the queue (a match whose queue holds only bots that already had the conversation is
/// skipped), else the default queue; then a bot of that queue gets first claim, else the
/// preferred agent, else the human the queue's assignment method ranks first among those
/// with the required skills (by default the most free capacity, ties to the lowest id),
/// else overflow or the wait. See [`Router::route_at`].
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
    Router::new(workstream).route_detached(conv, state, conv.last_activity_at)
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
    let router = Router::new(workstream);
    let prepared = router.prepare(state);
    let (facts, raw) = router.decide_transfer(
        conv,
        &prepared,
        queue,
        super::decide::millis(conv.last_activity_at),
    )?;
    Ok(RoutingDecision::eager(workstream, &prepared, &facts, raw))
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
    Router::new(workstream).route_detached(conv, state, at)
}
