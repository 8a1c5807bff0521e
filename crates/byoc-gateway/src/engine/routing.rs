//! The engine's routing: byoc-core's workstream router, hosted in the workstream's
//! [`PreparedState`], which the engine updates in place (a conversation submitted, an offer
//! accepted or declined, a conversation leaving its queue).
//!
//! Every router call returns actions. Those for the conversation being processed are
//! carried out in the same step (a transcript trace line, the record's queue and owner,
//! hops, agent notices, the customer's messages); those for other conversations (an offer
//! made to a conversation already waiting, because this one freed or took an agent) become
//! [`FollowUp`]s, which the shell stores in those conversations' inboxes with the step, so
//! that each conversation changes only in its own order. An agent's load counts an
//! assignment when the router makes it, wherever it is carried out.

use byoc_core::ChannelAccount;
use byoc_core::conversation::{Conversation, ConversationState, Owner, ParticipantRole};
use byoc_core::workstream::{Action, MessageKind, MessageValues, Outcome, PreparedState, Router};
use chrono::{DateTime, Utc};

use super::{HopKind, NoticeKind, Run};
use crate::model::{Author, ConversationRecord, RoutingAction};

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
    /// Offered to an agent, who answers.
    Offered(String),
    /// It waits in the queue at this position.
    Queued(u32),
    /// Nobody free and the queue is full.
    Full,
    /// The queue's overflow ended it.
    Ended,
    /// No queue was found.
    Unrouted,
}

impl RoutedTo {
    /// The metric label.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Bot(_) => "bot",
            Self::Agent { .. } => "agent",
            Self::Offered(_) => "offered",
            Self::Queued(_) => "queued",
            Self::Full => "full",
            Self::Ended => "ended",
            Self::Unrouted => "unrouted",
        }
    }
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

/// A router action for a conversation other than the one processed, to store in its inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FollowUp {
    /// The conversation it concerns.
    pub(crate) conversation: String,
    /// What to carry out.
    pub(crate) action: RoutingAction,
    /// The router's trace line.
    pub(crate) trace: String,
}

/// Routes `conv` once, without recording anything in the state (the relayed Salesforce
/// CCaaS mode, where the platform owns the offer), and records the decision on it.
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
    let routed = Routed {
        queue: decision.queue.map(|q| q.name.clone()),
        to: routed_to(&decision.outcome),
        trace: decision.explain(),
    };
    decision.apply_to(conv, now);
    Ok(routed)
}

fn routed_to(outcome: &Outcome<'_>) -> RoutedTo {
    match outcome {
        Outcome::Assigned(m) if m.is_bot() => RoutedTo::Bot(m.id.clone()),
        Outcome::Assigned(m) => RoutedTo::Agent {
            id: m.id.clone(),
            name: m.display_name().to_owned(),
        },
        Outcome::Offered { member, .. } => RoutedTo::Offered(member.id.clone()),
        Outcome::Queued { position } => RoutedTo::Queued(*position),
        Outcome::QueueFull { .. } => RoutedTo::Full,
        Outcome::Ended { .. } => RoutedTo::Ended,
        _ => RoutedTo::Unrouted,
    }
}

impl Run<'_, '_> {
    /// Submits the conversation to the router and carries out what it decided.
    pub(super) fn route(
        &mut self,
        rec: &mut ConversationRecord,
        request: RouteRequest<'_>,
    ) -> Option<RoutedTo> {
        let cx = self.cx;
        let placement = match request {
            RouteRequest::Rules => Ok(cx.router.submit(self.state, &rec.conversation, cx.now)),
            RouteRequest::Transfer(queue) => {
                cx.router
                    .submit_transfer(self.state, &rec.conversation, queue, cx.now)
            }
        };
        self.out.touched.push(rec.conversation.id.clone());
        let placement = match placement {
            Ok(p) => p,
            Err(reason) => {
                let note = format!("routing refused: {reason}");
                self.note(rec, Author::System, None, Some(note));
                return None;
            }
        };
        let decision = &placement.decision;
        let trace = decision.explain();
        self.note(
            rec,
            Author::System,
            None,
            Some(format!("routing: {}", trace.join("; "))),
        );
        let queue = decision.queue.map(|q| q.name.clone());
        if let Some(q) = &queue {
            rec.conversation.queue = Some(q.clone());
        }
        let to = routed_to(&decision.outcome);
        match &to {
            RoutedTo::Full => {
                let reason = format!("queue {} is full", queue.clone().unwrap_or_default());
                self.hop(rec, HopKind::NotRouted { reason }, None);
            }
            RoutedTo::Unrouted => {
                let reason = "no rule matched".to_owned();
                self.hop(rec, HopKind::NotRouted { reason }, None);
            }
            _ => {}
        }
        self.take_actions(rec, &placement.actions);
        self.out.routed.push(Routed {
            queue,
            to: to.clone(),
            trace,
        });
        Some(to)
    }

    /// Carries out router actions: this conversation's now, the others' as follow-ups.
    pub(super) fn take_actions(&mut self, rec: &mut ConversationRecord, actions: &[Action<'_>]) {
        for action in actions {
            if let Action::Assign { member, .. } = action
                && !member.is_bot()
            {
                self.out.load.push((member.id.clone(), 1));
            }
            let Some(owned) = RoutingAction::of(action) else {
                continue;
            };
            let trace = action.to_string();
            if action.conversation() == rec.conversation.id {
                self.apply_routing(rec, &owned, &trace);
            } else {
                self.out.touched.push(action.conversation().to_owned());
                self.out.follow_ups.push(FollowUp {
                    conversation: action.conversation().to_owned(),
                    action: owned,
                    trace,
                });
            }
        }
    }

    /// Takes the conversation out of the router's waiting set (it closed, an agent picked
    /// it), withdrawing its offer.
    pub(super) fn leave_queue(&mut self, rec: &mut ConversationRecord) {
        let cx = self.cx;
        if !self.state.is_tracked(&rec.conversation.id) {
            return;
        }
        let actions = cx.router.cancel(self.state, &rec.conversation.id, cx.now);
        self.out.touched.push(rec.conversation.id.clone());
        self.take_actions(rec, &actions);
    }

    /// Carries out one router action on this conversation: its trace line, record, hops,
    /// notices and messages.
    pub(super) fn apply_routing(
        &mut self,
        rec: &mut ConversationRecord,
        action: &RoutingAction,
        trace: &str,
    ) {
        let now = self.cx.now;
        self.note(rec, Author::System, None, Some(format!("routing: {trace}")));
        let closed = rec.conversation.state.is_terminal();
        match action {
            RoutingAction::Offered { .. } if closed => {}
            RoutingAction::Offered {
                queue,
                agent,
                expires_at,
            } => {
                let stands = self
                    .cx
                    .router
                    .place(self.state, &rec.conversation.id)
                    .and_then(|p| p.offered_to)
                    .is_some_and(|a| &a == agent);
                if !stands {
                    return; // Withdrawn meanwhile: the withdrawal follows.
                }
                to_queue(&mut rec.conversation, queue, now);
                rec.accepted = false;
                let hop = HopKind::Offered {
                    agent: agent.clone(),
                    queue: queue.clone(),
                };
                self.hop(rec, hop, None);
                let event = NoticeKind::Offered {
                    expires_at: *expires_at,
                };
                self.notice(rec, Some(agent), event);
            }
            RoutingAction::Withdrawn { agent, timed_out } => {
                let how = if *timed_out { "timed out" } else { "withdrawn" };
                let hop = HopKind::OfferEnded {
                    agent: agent.clone(),
                    how: how.to_owned(),
                };
                self.hop(rec, hop, None);
                self.notice(rec, Some(agent), NoticeKind::OfferWithdrawn);
            }
            RoutingAction::Assigned { member, bot, .. } if closed => {
                if !bot {
                    // Counted when decided; the conversation ended before it arrived.
                    self.out.load.push((member.clone(), -1));
                }
            }
            RoutingAction::Assigned {
                queue,
                member,
                bot,
                name,
            } => {
                rec.conversation.queue = Some(queue.clone());
                let (owner, role) = if *bot {
                    (Owner::Bot(member.clone()), ParticipantRole::Bot)
                } else {
                    (Owner::Agent(member.clone()), ParticipantRole::Agent)
                };
                rec.conversation.set_owner(owner, now);
                let account = ChannelAccount::new(member).with_name(name);
                rec.conversation.join(account, role, now);
                if matches!(
                    rec.conversation.state,
                    ConversationState::Open | ConversationState::Waiting
                ) {
                    let _ = rec.conversation.transition(ConversationState::Active, now);
                }
                if *bot {
                    return;
                }
                rec.accepted = false;
                let hop = HopKind::Assigned {
                    agent: member.clone(),
                    queue: Some(queue.clone()),
                };
                self.hop(rec, hop, None);
                self.notice(rec, Some(member), NoticeKind::Assigned);
                let values = MessageValues {
                    agent_name: Some(name),
                    ..MessageValues::default()
                };
                self.automated(rec, MessageKind::AgentJoined, &values);
            }
            _ if closed => {}
            RoutingAction::Waiting {
                queue,
                position,
                estimated_wait_secs,
            } => {
                to_queue(&mut rec.conversation, queue, now);
                let hop = HopKind::Queued {
                    queue: queue.clone(),
                    position: *position,
                };
                self.hop(rec, hop, None);
                self.notice(rec, None, NoticeKind::Waiting);
                let values = MessageValues {
                    queue_position: Some(*position),
                    queue_name: Some(queue),
                    estimated_wait: estimated_wait_secs.map(std::time::Duration::from_secs),
                    ..MessageValues::default()
                };
                self.automated(rec, MessageKind::QueuePosition, &values);
            }
            RoutingAction::Message { template } => self.overflow_message(rec, template),
            RoutingAction::Transferred { from, to } => {
                to_queue(&mut rec.conversation, to, now);
                let hop = HopKind::Overflow {
                    queue: from.clone(),
                    to: Some(to.clone()),
                };
                self.hop(rec, hop, None);
                self.notice(rec, None, NoticeKind::Transferred);
                let values = MessageValues {
                    queue_name: Some(to),
                    ..MessageValues::default()
                };
                self.automated(rec, MessageKind::Transferred, &values);
            }
            RoutingAction::Ended { queue, message } => {
                let hop = HopKind::Overflow {
                    queue: queue.clone(),
                    to: None,
                };
                self.hop(rec, hop, None);
                if let Some(template) = message {
                    self.overflow_message(rec, template);
                }
                self.close(rec, &format!("queue {queue} overflowed"));
            }
        }
    }

    fn overflow_message(&mut self, rec: &mut ConversationRecord, template: &str) {
        let text = self
            .ws()
            .render_text(template, &rec.conversation, &MessageValues::default());
        self.hop(
            rec,
            HopKind::Automated {
                message: "overflow".to_owned(),
            },
            Some(&text),
        );
        let mut a = byoc_core::Activity::message(text);
        a.from = Some(ChannelAccount::new("byoc"));
        self.send_to_customer(rec, a, Author::System);
    }

    /// Answers the offer made to `agent` (accept, decline, or give it back unanswered);
    /// `false` when it is not offered to them.
    pub(super) fn answer_offer(
        &mut self,
        rec: &mut ConversationRecord,
        agent: &str,
        answer: OfferAnswer,
    ) -> bool {
        let cx = self.cx;
        let id = rec.conversation.id.clone();
        let answered = match answer {
            OfferAnswer::Accept => cx.router.accept(self.state, &id, agent, cx.now),
            OfferAnswer::Decline => cx.router.decline(self.state, &id, agent, cx.now),
            OfferAnswer::Release => cx.router.withdraw(self.state, &id, agent, cx.now),
        };
        let Ok(actions) = answered else {
            return false;
        };
        self.out.touched.push(id);
        if answer == OfferAnswer::Decline {
            let hop = HopKind::OfferEnded {
                agent: agent.to_owned(),
                how: "declined".to_owned(),
            };
            self.hop(rec, hop, None);
            self.notice(rec, Some(agent), NoticeKind::OfferWithdrawn);
        }
        self.take_actions(rec, &actions);
        if answer == OfferAnswer::Accept {
            rec.accepted = true;
        }
        true
    }

    /// Whether the conversation is offered to this agent now.
    pub(super) fn is_offered_to(&self, rec: &ConversationRecord, agent: &str) -> bool {
        self.cx
            .router
            .place(self.state, &rec.conversation.id)
            .and_then(|p| p.offered_to)
            .is_some_and(|a| a == agent)
    }
}

/// How an agent answers an offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OfferAnswer {
    /// Takes the conversation.
    Accept,
    /// Refuses it: never offered it again; counts as a failed offer.
    Decline,
    /// Gives it back unanswered (left the queue, went offline).
    Release,
}

/// Into a queue (offered or waiting): its owner is the queue, released from any agent.
fn to_queue(conv: &mut Conversation, queue: &str, now: DateTime<Utc>) {
    conv.queue = Some(queue.to_owned());
    conv.set_owner(Owner::Queue(queue.to_owned()), now);
    if matches!(
        conv.state,
        ConversationState::Active | ConversationState::Waiting
    ) {
        let _ = conv.transition(ConversationState::Open, now);
    }
}
