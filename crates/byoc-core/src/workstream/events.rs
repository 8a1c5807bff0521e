//! The host's events: a conversation arrives, an offer is accepted or declined, a timer
//! fires, members change. Each call changes the [`PreparedState`] and returns the
//! [`Action`]s the host carries out; [`PreparedState::next_wake`] says when to call
//! [`Router::wake`] next.

mod serve;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::decide::{Preferred, RawOutcome, millis};
use super::error::RouteError;
use super::model::{Member, Queue};
use super::overflow::OverflowAction;
use super::prepared::{PreparedState, Router};
use super::router::{RoutingDecision, assign, release};
use super::work::{Item, Roots};
use crate::conversation::Conversation;

/// Something the host does for the router: notify an agent, add a member to the
/// conversation, message the customer. `Display` writes it as a trace line.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Action<'w> {
    /// Offer the conversation to the agent (their console shows it); answer with
    /// [`Router::accept`] or [`Router::decline`] before `expires_at`, when
    /// [`Router::wake`] withdraws it.
    Offer {
        /// The conversation's id.
        conversation: Arc<str>,
        /// The queue it is offered from.
        queue: &'w Queue,
        /// The agent.
        member: &'w Member,
        /// When the offer times out.
        expires_at: DateTime<Utc>,
    },
    /// The member takes the conversation now (a bot, an accepted offer, or a queue that
    /// assigns without offers): add them to it ([`Action::apply_to`]) and send the
    /// `agent_joined` message.
    Assign {
        /// The conversation's id.
        conversation: Arc<str>,
        /// The queue it leaves.
        queue: &'w Queue,
        /// The member.
        member: &'w Member,
    },
    /// The offer to this agent is over (timed out, or the conversation left the queue):
    /// take it off their console.
    Withdraw {
        /// The conversation's id.
        conversation: Arc<str>,
        /// The agent.
        member: &'w Member,
        /// Why.
        reason: Withdrawal,
    },
    /// The conversation waits: tell the customer their place (the `queue_position`
    /// message).
    Wait {
        /// The conversation's id.
        conversation: Arc<str>,
        /// The queue.
        queue: &'w Queue,
        /// 1-based.
        position: u32,
        /// When the queue can tell.
        estimated_wait: Option<Duration>,
    },
    /// Send the customer this overflow message (a template:
    /// `Workstream::render_text`).
    Message {
        /// The conversation's id.
        conversation: Arc<str>,
        /// The template.
        text: &'w str,
    },
    /// Overflow moved the conversation to another queue (the `transferred` message).
    Transfer {
        /// The conversation's id.
        conversation: Arc<str>,
        /// The queue it leaves.
        from: &'w Queue,
        /// The queue it enters.
        to: &'w Queue,
    },
    /// Overflow ends the conversation: send `message` if any, then close it.
    End {
        /// The conversation's id.
        conversation: Arc<str>,
        /// The queue that overflowed.
        queue: &'w Queue,
        /// The template to send first.
        message: Option<&'w str>,
    },
}

/// Why an offer was withdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Withdrawal {
    /// The agent did not answer in time.
    TimedOut,
    /// The conversation left the queue (cancelled, ended, routed again).
    Cancelled,
    /// The agent can no longer take it (left the queue, went offline):
    /// [`Router::withdraw`].
    Unavailable,
}

impl Action<'_> {
    /// The conversation it concerns.
    #[must_use]
    pub fn conversation(&self) -> &str {
        match self {
            Self::Offer { conversation, .. }
            | Self::Assign { conversation, .. }
            | Self::Withdraw { conversation, .. }
            | Self::Wait { conversation, .. }
            | Self::Message { conversation, .. }
            | Self::Transfer { conversation, .. }
            | Self::End { conversation, .. } => conversation,
        }
    }

    /// Records it on the conversation at `at`: an assignment adds the member (owner,
    /// participant, Active); an offer, a wait or a transfer puts it in the queue (Open);
    /// the rest change nothing.
    pub fn apply_to(&self, conv: &mut Conversation, at: DateTime<Utc>) {
        match self {
            Self::Assign { queue, member, .. } => {
                conv.queue = Some(queue.name.clone());
                assign(conv, member, at);
            }
            Self::Offer { queue, .. }
            | Self::Wait { queue, .. }
            | Self::Transfer { to: queue, .. } => {
                conv.queue = Some(queue.name.clone());
                conv.set_owner(crate::conversation::Owner::Queue(queue.name.clone()), at);
                release(conv, at);
            }
            _ => {}
        }
    }
}

impl fmt::Display for Action<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        match self {
            Self::Offer {
                conversation,
                queue,
                member,
                expires_at,
            } => write!(
                f,
                "conversation {conversation}: offered to agent {} from queue {} until {}",
                member.id,
                queue.name,
                secs(expires_at)
            ),
            Self::Assign {
                conversation,
                queue,
                member,
            } => write!(
                f,
                "conversation {conversation}: assigned to {} from queue {}",
                member.id, queue.name
            ),
            Self::Withdraw {
                conversation,
                member,
                reason,
            } => write!(
                f,
                "conversation {conversation}: offer to agent {} withdrawn ({})",
                member.id,
                match reason {
                    Withdrawal::TimedOut => "not answered in time",
                    Withdrawal::Cancelled => "the conversation left the queue",
                    Withdrawal::Unavailable => "the agent can no longer take it",
                }
            ),
            Self::Wait {
                conversation,
                queue,
                position,
                estimated_wait,
            } => {
                write!(
                    f,
                    "conversation {conversation}: waiting in queue {} at position {position}",
                    queue.name
                )?;
                if let Some(w) = estimated_wait {
                    write!(f, ", estimated wait {}s", w.as_secs())?;
                }
                Ok(())
            }
            Self::Message { conversation, .. } => {
                write!(f, "conversation {conversation}: overflow message")
            }
            Self::Transfer {
                conversation,
                from,
                to,
            } => write!(
                f,
                "conversation {conversation}: overflow from queue {} to queue {}",
                from.name, to.name
            ),
            Self::End {
                conversation,
                queue,
                ..
            } => write!(
                f,
                "conversation {conversation}: ended by queue {}'s overflow",
                queue.name
            ),
        }
    }
}

/// What [`Router::submit`] decided and what the host does about it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Placement<'w> {
    /// The decision, with its trace written out.
    pub decision: RoutingDecision<'w>,
    /// The actions, in order: those of conversations already waiting that re-evaluation
    /// served first, then this conversation's.
    pub actions: Vec<Action<'w>>,
}

impl<'w> Router<'w> {
    /// A conversation asks for routing at `now` (it arrived, a bot handed it off, or it is
    /// routed again): decides as [`Router::route_at`] does and records the decision — an
    /// offer (the agent's capacity held until answered, the round-robin turn taken), an
    /// assignment, or a place in the queue with its timers. A conversation the state
    /// already tracks is taken out first (its offer withdrawn). Waiting conversations that
    /// re-evaluation can serve are served before it.
    pub fn submit(
        &self,
        state: &mut PreparedState,
        conv: &Conversation,
        now: DateTime<Utc>,
    ) -> Placement<'w> {
        let mut actions = Vec::new();
        self.settle(state, now, &mut actions);
        self.untrack(state, &conv.id, &mut actions);
        let (facts, raw) = self.decide(conv, state, millis(now));
        self.record(state, conv, facts, raw, now, actions)
    }

    /// As [`Router::submit`], to a named queue (skipping the rules and the queue's overflow
    /// checks before queueing).
    ///
    /// # Errors
    /// [`RouteError::UnknownQueue`] when the workstream has no such queue.
    pub fn submit_transfer(
        &self,
        state: &mut PreparedState,
        conv: &Conversation,
        queue: &str,
        now: DateTime<Utc>,
    ) -> Result<Placement<'w>, RouteError> {
        let mut actions = Vec::new();
        self.settle(state, now, &mut actions);
        self.untrack(state, &conv.id, &mut actions);
        let (facts, raw) = self.decide_transfer(conv, state, queue, millis(now))?;
        Ok(self.record(state, conv, facts, raw, now, actions))
    }

    fn record(
        &self,
        state: &mut PreparedState,
        conv: &Conversation,
        facts: super::decide::Facts,
        raw: RawOutcome,
        now: DateTime<Utc>,
        mut actions: Vec<Action<'w>>,
    ) -> Placement<'w> {
        let ws = self.workstream();
        let decision = RoutingDecision::eager(ws, state, &facts, raw);
        let id: Arc<str> = conv.id.as_str().into();
        for &(q, i) in &facts.overflow {
            if let (Some(from), Some(OverflowAction::Transfer(to))) = (
                ws.queues.get(q as usize),
                ws.queues
                    .get(q as usize)
                    .and_then(|x| x.overflow.get(i as usize))
                    .map(|r| &r.then),
            ) && let Some(to) = ws.queue(to)
            {
                actions.push(Action::Transfer {
                    conversation: Arc::clone(&id),
                    from,
                    to,
                });
            }
        }
        let Some(q) = facts.queue.map(|q| q as usize) else {
            return Placement { decision, actions };
        };
        let Some(queue) = ws.queues.get(q) else {
            return Placement { decision, actions };
        };
        let now_ms = millis(now);
        let item = |state: &mut PreparedState| Item {
            id: Arc::clone(&id),
            queue: q as u32,
            rule: facts.rule,
            priority: facts.priority,
            entered: now_ms,
            order: state.work.next_order(),
            needs: facts.needs_in(&state.layout),
            static_needs: facts
                .rule
                .and_then(|r| state.layout.rules.get(r as usize))
                .is_some_and(|info| !info.dynamic),
            relaxes: facts
                .rule
                .and_then(|r| state.layout.rules.get(r as usize))
                .is_some_and(|info| !info.relax_ms.is_empty()),
            roots: facts
                .rule
                .and_then(|r| state.layout.rules.get(r as usize))
                .filter(|info| !info.dynamic && info.queue == Some(q as u32))
                .and_then(|info| info.roots.first())
                .map_or(Roots::default(), |roots| Roots::of(roots)),
            preferred: match facts.preferred {
                Preferred::Holding(j, _) => state
                    .layout
                    .queues
                    .get(q)
                    .and_then(|l| l.humans.get(j as usize))
                    .map(|s| s.member),
                _ => None,
            },
            hold_until: match facts.preferred {
                Preferred::Holding(_, until) => until,
                _ => 0,
            },
            declined: Vec::new(),
            failed: 0,
            offer: None,
            waited_done: false,
            failed_done: false,
            stamp: 0,
            deadline: None,
        };
        match raw {
            RawOutcome::Member(pos) => {
                let layout = Arc::clone(&state.layout);
                let Some(ql) = layout.queues.get(q) else {
                    return Placement { decision, actions };
                };
                if let Some(bot) = ql.bots.iter().find(|s| s.pos as usize == pos) {
                    state.add_load(bot.member, layout.kind);
                    if let Some(member) = queue.members.get(pos) {
                        actions.push(Action::Assign {
                            conversation: Arc::clone(&id),
                            queue,
                            member,
                        });
                    }
                } else if let Some(j) = ql.humans.iter().position(|s| s.pos as usize == pos) {
                    let new = item(state);
                    let slot = state.work.insert(new);
                    self.give(state, slot, j as u32, now_ms, &mut None, &mut actions);
                    self.refresh_deadline(state, slot, now_ms);
                }
            }
            RawOutcome::Queued { position, wait_ms } => {
                let new = item(state);
                let slot = state.work.insert(new);
                self.refresh_deadline(state, slot, now_ms);
                actions.push(Action::Wait {
                    conversation: Arc::clone(&id),
                    queue,
                    position,
                    estimated_wait: wait_ms.map(Duration::from_millis),
                });
                if let Some(text) = decision.message {
                    actions.push(Action::Message {
                        conversation: Arc::clone(&id),
                        text,
                    });
                }
            }
            RawOutcome::Ended => actions.push(Action::End {
                conversation: Arc::clone(&id),
                queue,
                message: decision.message,
            }),
            RawOutcome::QueueFull { .. } | RawOutcome::Unrouted(_) => {}
        }
        self.settle(state, now, &mut actions);
        Placement { decision, actions }
    }

    /// The agent accepts the conversation offered to them: it leaves the queue and counts
    /// on their load.
    ///
    /// # Errors
    /// [`RouteError::UnknownConversation`] when the state does not track it;
    /// [`RouteError::NotOffered`] when it is not offered to this member (never, or the
    /// offer ended).
    pub fn accept(
        &self,
        state: &mut PreparedState,
        conversation: &str,
        member: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Action<'w>>, RouteError> {
        let (slot, m) = self.offered(state, conversation, member)?;
        let mut actions = Vec::new();
        let now_ms = millis(now);
        if let Some(item) = state.work.remove(slot) {
            let kind = state.layout.kind;
            state.reserve(m, kind, false);
            state.add_load(m, kind);
            state.work.depart(item.queue as usize, item.entered, now_ms);
            if let (Some(queue), Some(member)) = (
                self.workstream().queues.get(item.queue as usize),
                self.member(m),
            ) {
                actions.push(Action::Assign {
                    conversation: item.id,
                    queue,
                    member,
                });
            }
        }
        self.settle(state, now, &mut actions);
        Ok(actions)
    }

    /// The agent declines the conversation offered to them: it is never offered to them
    /// again; it goes to the next agent, or the queue's `offers_failed` overflow applies.
    ///
    /// # Errors
    /// As [`Router::accept`].
    pub fn decline(
        &self,
        state: &mut PreparedState,
        conversation: &str,
        member: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Action<'w>>, RouteError> {
        let (slot, m) = self.offered(state, conversation, member)?;
        let mut actions = Vec::new();
        self.offer_failed(state, slot, m, millis(now), &mut actions);
        self.settle(state, now, &mut actions);
        Ok(actions)
    }

    /// Takes back the offer made to `member` without their answer, because they can no
    /// longer take it: they left the queue or went offline (change the state first —
    /// [`PreparedState::set_queue_membership`], [`PreparedState::set_member`] — so that
    /// re-evaluation passes them over). The offer is withdrawn
    /// ([`Withdrawal::Unavailable`]), the capacity it held is released, and the conversation
    /// is offered to the next agent. Unlike a decline it is no failed offer (the queue's
    /// `offers_failed` overflow does not count it) and the member may be offered the
    /// conversation again once they can take it, as Omni-Channel re-routes work an agent
    /// had pending when they go offline.
    ///
    /// # Errors
    /// As [`Router::accept`].
    pub fn withdraw(
        &self,
        state: &mut PreparedState,
        conversation: &str,
        member: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Action<'w>>, RouteError> {
        let (slot, m) = self.offered(state, conversation, member)?;
        let mut actions = Vec::new();
        let kind = state.layout.kind;
        if let Some(item) = state.work.get_mut(slot) {
            item.offer = None;
            let (id, q) = (Arc::clone(&item.id), item.queue as usize);
            state.reserve(m, kind, false);
            state.work.mark(q);
            if let Some(member) = self.member(m) {
                actions.push(Action::Withdraw {
                    conversation: id,
                    member,
                    reason: Withdrawal::Unavailable,
                });
            }
            self.refresh_deadline(state, slot, millis(now));
        }
        self.settle(state, now, &mut actions);
        Ok(actions)
    }

    /// Timers due at `now`: offers time out (withdrawn, then the next agent), preferred
    /// agents' holds end, skills relax, waits pass the queue's `waited_over`, closed
    /// queues open; then waiting conversations are re-evaluated. Call it at
    /// [`PreparedState::next_wake`] (calling it early or twice is harmless).
    pub fn wake(&self, state: &mut PreparedState, now: DateTime<Utc>) -> Vec<Action<'w>> {
        let mut actions = Vec::new();
        let now_ms = millis(now);
        state.set_time(now);
        for slot in state.work.due(now_ms) {
            let Some(item) = state.work.get(slot).cloned() else {
                continue;
            };
            let q = item.queue as usize;
            state.work.mark(q);
            if let Some((m, expires)) = item.offer
                && expires <= now_ms
            {
                if let (Some(member), id) = (self.member(m), Arc::clone(&item.id)) {
                    actions.push(Action::Withdraw {
                        conversation: id,
                        member,
                        reason: Withdrawal::TimedOut,
                    });
                }
                self.offer_failed(state, slot, m, now_ms, &mut actions);
                continue;
            }
            let waited = state
                .layout
                .queues
                .get(q)
                .and_then(|l| l.waited)
                .filter(|&(_, limit)| now_ms - item.entered >= limit && !item.waited_done);
            if let Some((i, _)) = waited {
                if let Some(item) = state.work.get_mut(slot) {
                    item.waited_done = true;
                }
                self.overflow_after(state, slot, q, i, now_ms, &mut actions);
                continue;
            }
            self.refresh_deadline(state, slot, now_ms);
        }
        self.settle(state, now, &mut actions);
        actions
    }

    /// Serves waiting conversations after members changed (came online, freed capacity,
    /// joined a queue: [`PreparedState::set_member`], [`PreparedState::update_member`],
    /// [`PreparedState::set_queue_membership`]): queue by queue, highest priority first,
    /// each waiting conversation in order (priority, then time entered) is offered to the
    /// agent its queue would pick, while agents are free. Returns the offers (and
    /// assignments, for queues without offers).
    pub fn reevaluate(&self, state: &mut PreparedState, now: DateTime<Utc>) -> Vec<Action<'w>> {
        let mut actions = Vec::new();
        self.settle(state, now, &mut actions);
        actions
    }

    /// The conversation leaves the queue (the customer left, it closed, it is handled
    /// elsewhere): its offer, if any, is withdrawn. Unknown conversations are ignored.
    pub fn cancel(
        &self,
        state: &mut PreparedState,
        conversation: &str,
        now: DateTime<Utc>,
    ) -> Vec<Action<'w>> {
        let mut actions = Vec::new();
        self.untrack(state, conversation, &mut actions);
        self.settle(state, now, &mut actions);
        actions
    }
}
