//! Agent actions: accept or decline an offer, message, transfer, end, wrap up; only the
//! agent holding the conversation (or, to accept, the agent offered it or a member of its
//! queue; to decline, the agent offered it).

use byoc_core::conversation::{ConversationState, Owner, ParticipantRole};
use byoc_core::workstream::{MessageKind, MessageValues};
use byoc_core::{Activity, ChannelAccount};

use super::routing::OfferAnswer;
use super::{HopKind, NoticeKind, RouteRequest, Run};
use crate::model::{AgentAction, Author, ConversationRecord};

impl Run<'_, '_> {
    // ---- agents ---------------------------------------------------------------------

    fn refuse(&mut self, rec: ConversationRecord, agent: &str, action: &AgentAction, reason: &str) {
        self.notice(
            &rec,
            Some(agent),
            NoticeKind::Refused {
                reason: format!("{}: {reason}", action.name()),
            },
        );
        self.finish(rec);
    }

    pub(super) fn agent(&mut self, mut rec: ConversationRecord, agent: &str, action: &AgentAction) {
        let now = self.cx.now;
        let holds = rec.conversation.owner.agent() == Some(agent);
        match action {
            AgentAction::Accept => {
                if holds {
                    rec.accepted = true;
                    return self.finish(rec);
                }
                if self.is_offered_to(&rec, agent) {
                    self.answer_offer(&mut rec, agent, OfferAnswer::Accept);
                    return self.finish(rec);
                }
                let queue = match &rec.conversation.owner {
                    Owner::Queue(q) => self.ws().queue(q),
                    _ => None,
                };
                let in_queue =
                    queue.is_some_and(|q| q.members.iter().any(|m| m.id == agent && !m.is_bot()));
                if !in_queue || rec.conversation.state != ConversationState::Open {
                    return self.refuse(rec, agent, action, "not waiting in one of your queues");
                }
                if queue.is_some_and(|q| q.offer.is_some()) {
                    // A queue that offers is answered offer by offer, never picked from.
                    return self.refuse(rec, agent, action, "not offered to you");
                }
                // Picked from the queue: it leaves the router's waiting set (an offer to
                // someone else is withdrawn).
                self.leave_queue(&mut rec);
                let name = self.member_name(agent);
                rec.conversation
                    .set_owner(Owner::Agent(agent.to_owned()), now);
                rec.conversation.join(
                    ChannelAccount::new(agent).with_name(&name),
                    ParticipantRole::Agent,
                    now,
                );
                let _ = rec.conversation.transition(ConversationState::Active, now);
                rec.accepted = true;
                self.out.load.push((agent.to_owned(), 1));
                let queue = rec.conversation.queue.clone();
                self.hop(
                    &rec,
                    HopKind::Assigned {
                        agent: agent.to_owned(),
                        queue,
                    },
                    None,
                );
                self.notice(&rec, Some(agent), NoticeKind::Assigned);
                let values = MessageValues {
                    agent_name: Some(&name),
                    ..MessageValues::default()
                };
                self.automated(&mut rec, MessageKind::AgentJoined, &values);
            }
            AgentAction::Decline => {
                if !self.answer_offer(&mut rec, agent, OfferAnswer::Decline) {
                    return self.refuse(rec, agent, action, "not offered to you");
                }
            }
            AgentAction::Release => {
                // An offer already answered or timed out has nothing to give back.
                self.answer_offer(&mut rec, agent, OfferAnswer::Release);
            }
            AgentAction::Message { text, attachments } => {
                if !holds {
                    return self.refuse(rec, agent, action, "you do not hold this conversation");
                }
                if !matches!(
                    rec.conversation.state,
                    ConversationState::Active | ConversationState::Waiting
                ) {
                    return self.refuse(rec, agent, action, "the conversation is not active");
                }
                let policy = &self.ws().attachments.agent;
                for att in attachments {
                    if let Err(e) =
                        policy.check(att.content_type.as_deref(), att.name.as_deref(), None)
                    {
                        return self.refuse(rec, agent, action, &e.to_string());
                    }
                }
                if rec.conversation.state == ConversationState::Waiting {
                    let _ = rec.conversation.transition(ConversationState::Active, now);
                }
                rec.accepted = true;
                let mut message = Activity::message(text.clone().unwrap_or_default());
                if text.is_none() {
                    message.text = None;
                }
                if !attachments.is_empty() {
                    message.attachments = Some(attachments.clone());
                }
                message.from = Some(ChannelAccount::new(agent).with_name(self.member_name(agent)));
                self.hop(
                    &rec,
                    HopKind::AgentToCustomer {
                        agent: agent.to_owned(),
                    },
                    text.as_deref(),
                );
                rec.conversation.touch(now);
                self.send_to_customer(&mut rec, message, Author::Agent(agent.to_owned()));
            }
            AgentAction::Transfer { queue } => {
                if !holds {
                    return self.refuse(rec, agent, action, "you do not hold this conversation");
                }
                if self.ws().queue(queue).is_none() {
                    return self.refuse(rec, agent, action, &format!("no queue `{queue}`"));
                }
                self.out.load.push((agent.to_owned(), -1));
                rec.conversation.leave(agent, now);
                rec.conversation.owner = Owner::None;
                rec.conversation.queue = Some(queue.clone());
                self.notice(&rec, Some(agent), NoticeKind::Transferred);
                self.automated(
                    &mut rec,
                    MessageKind::Transferred,
                    &MessageValues {
                        queue_name: Some(queue),
                        ..MessageValues::default()
                    },
                );
                self.route(&mut rec, RouteRequest::Transfer(queue));
            }
            AgentAction::End => {
                if !holds {
                    return self.refuse(rec, agent, action, "you do not hold this conversation");
                }
                if rec
                    .conversation
                    .transition(ConversationState::WrapUp, now)
                    .is_err()
                {
                    return self.refuse(rec, agent, action, "the conversation is not active");
                }
                self.hop(
                    &rec,
                    HopKind::Ended {
                        agent: agent.to_owned(),
                    },
                    None,
                );
                self.notice(&rec, Some(agent), NoticeKind::Ended);
                self.automated(
                    &mut rec,
                    MessageKind::ConversationEnded,
                    &MessageValues::default(),
                );
                if let Some(survey) = self.ws().survey_message(&rec.conversation) {
                    let mut a = Activity::message(survey);
                    a.from = Some(ChannelAccount::new("byoc"));
                    self.send_to_customer(&mut rec, a, Author::System);
                }
            }
            AgentAction::WrapUp { notes } => {
                if !holds || rec.conversation.state != ConversationState::WrapUp {
                    return self.refuse(
                        rec,
                        agent,
                        action,
                        "the conversation is not in wrap-up with you",
                    );
                }
                if let Some(n) = notes {
                    self.note(
                        &mut rec,
                        Author::Agent(agent.to_owned()),
                        None,
                        Some(format!("wrap-up notes: {n}")),
                    );
                }
                self.close(&mut rec, "wrapped up");
            }
        }
        self.finish(rec);
    }

    fn member_name(&self, id: &str) -> String {
        self.ws()
            .queues
            .iter()
            .flat_map(|q| &q.members)
            .find(|m| m.id == id)
            .map_or_else(|| id.to_owned(), |m| m.display_name().to_owned())
    }
}
