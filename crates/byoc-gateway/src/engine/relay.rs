//! Relayed workstreams: the contact center is a platform (Dynamics 365 Omnichannel through
//! the Messaging API or a Bot Framework custom channel, Salesforce through the Interaction
//! Service), and byoc is the customer's channel into it. Pure like the rest of the engine:
//! events in, the record and its effects out.
//!
//! - **Customer activity**: the first message opens the conversation and ties it to the
//!   platform ([`RelayLink`]: its request id is in the record before any call is made);
//!   messages (attachments checked against the workstream), typing and the customer
//!   leaving are queued to the platform ([`Target::Platform`], or the bot for
//!   `omnichannel-bot`); a delivery receipt of a Salesforce message is queued as its
//!   acknowledgement. The workstream's automated messages are the platform's business and
//!   are not sent.
//! - **Platform activity** ([`platform`](self::platform)): messages, attachments and typing
//!   go to the customer adapted to the channel (every loss in the transcript); state events
//!   move the conversation (agent accepted → Active, transfer to a queue → Open, agent ended
//!   → WrapUp, closed → Closed); routing requests (CCaaS) are answered by byoc's router.
//! - **Inactivity**: byoc's auto-close closes the conversation and tells the platform the
//!   customer is gone.

mod platform;
#[cfg(test)]
mod tests;

use byoc_core::activity::ActivityType;
use byoc_core::conversation::{Conversation, ConversationState, Owner, ParticipantRole};
use byoc_core::{Activity, ChannelAccount};
use byoc_telesign::{DeliveryReport, EVENT_DELIVERY_REPORT};

use super::content::{bot_copy, conv_key};
use super::{HopKind, Run};
use crate::config::ContactCenterKind;
use crate::model::event_with;
use crate::model::{
    Acknowledge, Author, ConversationRecord, EVENT_ACKNOWLEDGE, InboxEvent, RelayLink, Target,
    TimerKind,
};
use crate::store::NewOutbound;

/// Where a relayed workstream's conversations go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Relayed {
    /// Omnichannel through the Messaging API.
    Omnichannel(String),
    /// Omnichannel through a Bot Framework custom channel (a bot over Direct Line).
    Bot(String),
    /// Salesforce; `routes`: byoc is the routing owner (CCaaS).
    Salesforce { channel: String, routes: bool },
}

impl Relayed {
    /// The relayed mode of a contact center, if it is one.
    pub(crate) fn of(kind: &ContactCenterKind) -> Option<Self> {
        Some(match kind {
            ContactCenterKind::Omnichannel { channel } => Self::Omnichannel(channel.clone()),
            ContactCenterKind::OmnichannelBot { bot } => Self::Bot(bot.clone()),
            ContactCenterKind::Salesforce { channel } => Self::Salesforce {
                channel: channel.clone(),
                routes: false,
            },
            ContactCenterKind::SalesforceCcaas { channel } => Self::Salesforce {
                channel: channel.clone(),
                routes: true,
            },
            _ => return None,
        })
    }

    /// The platform entry.
    pub(crate) fn platform(&self) -> &str {
        match self {
            Self::Omnichannel(p) | Self::Bot(p) | Self::Salesforce { channel: p, .. } => p,
        }
    }

    /// Where activities for the platform are queued.
    fn target(&self) -> Target {
        match self {
            Self::Bot(b) => Target::Bot(b.clone()),
            other => Target::Platform(other.platform().to_owned()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Omnichannel(p) => format!("Dynamics 365 Omnichannel (Messaging API, `{p}`)"),
            Self::Bot(b) => format!("Dynamics 365 Omnichannel (Bot Framework bot `{b}`)"),
            Self::Salesforce { channel, routes } => format!(
                "Salesforce (`{channel}`, {} routes)",
                if *routes { "byoc" } else { "Salesforce" }
            ),
        }
    }
}

impl Run<'_, '_> {
    pub(super) fn relayed(&self) -> Option<Relayed> {
        Relayed::of(&self.cx.workstream.contact_center)
    }

    /// A platform's event ([`InboxEvent::Platform`], [`InboxEvent::PlatformRouting`]).
    pub(super) fn platform_event_of(
        &mut self,
        relayed: Option<&Relayed>,
        current: Option<ConversationRecord>,
        event: &InboxEvent,
    ) {
        match (event, current, relayed) {
            (
                InboxEvent::Platform {
                    platform,
                    conversation,
                    activity,
                },
                Some(rec),
                Some(r),
            ) if &rec.conversation.id == conversation => {
                self.platform(r, rec, platform, activity);
            }
            (
                InboxEvent::PlatformRouting {
                    conversation,
                    platform,
                    report,
                },
                Some(rec),
                _,
            ) if &rec.conversation.id == conversation => {
                self.platform_routing(rec, platform, report);
            }
            _ => {}
        }
    }

    /// A customer activity in a relayed workstream.
    pub(super) fn relay_customer(
        &mut self,
        relayed: &Relayed,
        current: Option<ConversationRecord>,
        activity: &Activity,
    ) {
        let now = self.cx.now;
        let live = current.filter(|r| !r.conversation.state.is_terminal());
        let mut rec = match live {
            Some(rec) => rec,
            // Only a message starts a conversation; receipts, typing and the like do not.
            None if activity.kind == ActivityType::Message => self.relay_start(relayed, activity),
            None => return,
        };
        match &activity.kind {
            ActivityType::Message => {
                rec.reference = Some(activity.conversation_reference());
                let forwarded = self.check_customer_attachments(&mut rec, activity);
                self.note(&mut rec, Author::Customer, Some(activity), None);
                rec.conversation.touch(now);
                self.hop(
                    &rec,
                    HopKind::CustomerToPlatform {
                        platform: relayed.platform().to_owned(),
                    },
                    activity.text.as_deref(),
                );
                let copy = self.platform_copy(relayed, &rec, &forwarded);
                self.queue_platform(relayed, copy);
                if let Relayed::Salesforce { routes: true, .. } = relayed
                    && rec.conversation.owner == Owner::None
                    && rec.conversation.state == ConversationState::Open
                {
                    self.ccaas_route(relayed, &mut rec, "Initial", None);
                }
            }
            ActivityType::Typing => {
                let copy = self.platform_copy(relayed, &rec, activity);
                self.queue_platform(relayed, copy);
            }
            ActivityType::EndOfConversation => {
                self.note(&mut rec, Author::Customer, Some(activity), None);
                rec.conversation.touch(now);
                self.relay_close(relayed, &mut rec, "the customer left");
            }
            ActivityType::Event => self.relay_receipt(relayed, activity),
            _ => {}
        }
        self.finish(rec);
    }

    /// Opens a relayed conversation: no greeting (the platform sends its own messages).
    fn relay_start(&mut self, relayed: &Relayed, activity: &Activity) -> ConversationRecord {
        let cx = self.cx;
        let customer = activity
            .from
            .clone()
            .unwrap_or_else(|| ChannelAccount::new("customer"));
        let end_user = customer.id.clone().unwrap_or_else(|| "customer".to_owned());
        let channel = cx.workstream.workstream.channel.id.clone();
        let mut conversation = Conversation::new(cx.new_id, channel.clone(), customer, cx.now);
        if let Some(locale) = &activity.locale {
            conversation.locale = Some(locale.clone());
        }
        let link = RelayLink::new(relayed.platform(), cx.new_id, &end_user);
        let note = format!(
            "relayed to {}; request id {}",
            relayed.describe(),
            link.request_id
        );
        let mut rec = ConversationRecord {
            conversation,
            key: conv_key(&channel, activity),
            workstream: cx.workstream.workstream.name.clone(),
            reference: Some(activity.conversation_reference()),
            accepted: false,
            transcript_len: 0,
            awaiting_bot_since: None,
            relay: Some(link),
        };
        if let Relayed::Bot(bot) = relayed {
            // The bot is the platform's door: it holds the conversation from the start.
            rec.conversation.set_owner(Owner::Bot(bot.clone()), cx.now);
            rec.conversation
                .join(ChannelAccount::new(bot), ParticipantRole::Bot, cx.now);
            let _ = rec
                .conversation
                .transition(ConversationState::Active, cx.now);
        }
        self.hop(&rec, HopKind::Started { channel }, None);
        self.note(&mut rec, Author::System, None, Some(note));
        rec
    }

    /// What the platform receives for a customer activity: its content, from the end user.
    fn platform_copy(
        &self,
        relayed: &Relayed,
        rec: &ConversationRecord,
        activity: &Activity,
    ) -> Activity {
        if let Relayed::Bot(_) = relayed {
            return bot_copy(activity, rec);
        }
        let end_user = rec
            .relay
            .as_ref()
            .map_or_else(|| "customer".to_owned(), |l| l.end_user.clone());
        let mut from = ChannelAccount::new(end_user);
        from.name.clone_from(&rec.conversation.customer.name);
        Activity {
            kind: activity.kind.clone(),
            id: activity.id.clone(),
            timestamp: activity.timestamp.clone(),
            text: activity.text.clone(),
            text_format: activity.text_format.clone(),
            attachments: activity.attachments.clone(),
            locale: activity
                .locale
                .clone()
                .or_else(|| rec.conversation.locale.clone()),
            value: activity.value.clone(),
            name: activity.name.clone(),
            from: Some(from),
            ..Activity::default()
        }
    }

    fn queue_platform(&mut self, relayed: &Relayed, activity: Activity) {
        self.out.outbox.push(NewOutbound {
            target: relayed.target(),
            activity,
        });
    }

    /// A customer's delivery receipt of a platform message becomes its acknowledgement
    /// (Salesforce only; the Messaging API and Direct Line take none).
    fn relay_receipt(&mut self, relayed: &Relayed, a: &Activity) {
        if !matches!(relayed, Relayed::Salesforce { .. })
            || a.name.as_deref() != Some(EVENT_DELIVERY_REPORT)
        {
            return;
        }
        let Ok(report) = a.value_as::<DeliveryReport>() else {
            return;
        };
        let outbox_id = report
            .external_id
            .as_deref()
            .and_then(|e| e.strip_prefix("byoc-"))
            .and_then(|n| n.parse::<i64>().ok());
        if let (Some(outbox_id), Some(true)) = (outbox_id, report.success) {
            let ack = Acknowledge {
                outbox_id,
                kind: "Delivered".to_owned(),
                at: self.cx.now,
            };
            self.queue_platform(relayed, event_with(EVENT_ACKNOWLEDGE, &ack));
        }
    }

    /// Closes a relayed conversation and tells the platform the customer is gone.
    pub(super) fn relay_close(
        &mut self,
        relayed: &Relayed,
        rec: &mut ConversationRecord,
        reason: &str,
    ) {
        if !rec.conversation.state.is_terminal() {
            let mut end = Activity::new(ActivityType::EndOfConversation);
            end = self.platform_copy(relayed, rec, &end);
            self.queue_platform(relayed, end);
        }
        self.close(rec, reason);
    }

    /// A timer of a relayed conversation: inactivity closes it (the platform is told).
    pub(super) fn relay_timer(
        &mut self,
        relayed: &Relayed,
        mut rec: ConversationRecord,
        timer: TimerKind,
    ) {
        if timer == TimerKind::AutoClose
            && self.ws().is_auto_close_due(&rec.conversation, self.cx.now)
        {
            self.relay_close(relayed, &mut rec, "inactivity");
        }
        self.finish(rec);
    }
}
