//! The relay: byoc's I/O with the contact-center platforms a workstream relays to. The
//! engine decides (pure); this carries it out.
//!
//! | piece | what |
//! |---|---|
//! | [`Relay::deliver`] | the outbox's platform target: customer activities to the Messaging API (`omnichannel`) or as Salesforce interactions (`salesforce`), receipts as acknowledgements, routing answers (`routing`) |
//! | `omnichannel` | creates the Omnichannel conversation on first use, idempotent by the request id stored in the record, records the link, sends; the webhook's side (`/webhooks/{name}/v3/conversations/{id}/activities`) |
//! | `salesforce` | interactions (files downloaded and sent inline), `/acknowledgement`, `/messagingSession` End |
//! | `routing` | CCaaS: `/route`, `/agentWork`, `/routingResult` within the channel's routing deadline, a missed deadline reported (metric, log, transcript, the late `routingResult`) |
//! | `pubsub` | one Pub/Sub subscription per Salesforce channel entry, resumed from the replay id stored with the events it delivered |
//! | `register` | `byoc channel register`: the Dataverse channel record |
//!
//! Platform events enter like customer webhooks: deduplicated by the platform's id and
//! persisted in the conversation's inbox before they are acknowledged (the Messaging API
//! hears `200` only then; the Pub/Sub replay id advances only with the persisted events).

mod omnichannel;
mod pubsub;
pub(crate) mod register;
mod routing;
mod salesforce;

use std::collections::HashMap;
use std::sync::Arc;

use byoc_core::{AdapterError, Delivery};
use byoc_messaging_api::MessagingApiAdapter;
use byoc_salesforce::SalesforceAdapter;

use crate::config::{ChannelKind, Config, SalesforceSettings};
use crate::model::{ConversationRecord, InboxEvent};
use crate::store::{
    Accepted, ClaimedOutbound, ConversationKey, NewInbound, RelayStore, Store, StoreError,
};

pub(crate) use omnichannel::PlatformSink;
pub(crate) use pubsub::run_subscriptions;

/// Wakes the dispatcher for a conversation key once its inbox has new events.
pub(crate) type Wake = Arc<dyn Fn(&str) + Send + Sync>;

/// One platform entry, built.
pub(crate) enum Platform {
    /// Dynamics 365 Omnichannel through the Messaging API.
    MessagingApi(Arc<MessagingApiAdapter>),
    /// The Salesforce Interaction Service.
    Salesforce {
        adapter: Arc<SalesforceAdapter>,
        settings: Box<SalesforceSettings>,
    },
}

/// The platforms the configuration's workstreams relay to, and what the relay needs.
pub(crate) struct Relay {
    pub(crate) platforms: HashMap<String, Platform>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) links: Arc<dyn RelayStore>,
    /// Customer channel name → provider (`telesign`, ...).
    pub(crate) channel_kinds: HashMap<String, &'static str>,
    /// Customer channels whose workstream relays to Salesforce (which takes receipts).
    pub(crate) acknowledging_channels: Vec<String>,
    pub(crate) wake: Wake,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("platforms", &self.platforms.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn store_error(e: &StoreError) -> AdapterError {
    AdapterError::transient(format!("store: {e}"))
}

impl Relay {
    /// Builds the adapters of every platform a workstream relays to.
    ///
    /// # Errors
    /// The adapter's configuration error, naming the channel.
    pub(crate) fn platforms(config: &Config) -> Result<HashMap<String, Platform>, AdapterError> {
        let used: Vec<&str> = config
            .workstreams
            .iter()
            .filter_map(|w| w.contact_center.platform_channel())
            .collect();
        let mut platforms = HashMap::new();
        for c in config
            .channels
            .iter()
            .filter(|c| used.contains(&c.name.as_str()))
        {
            let named = |e: &dyn std::fmt::Display| {
                AdapterError::configuration(format!("channel {}: {e}", c.name))
            };
            let platform = match &c.kind {
                ChannelKind::MessagingApi(s) => {
                    let config = s
                        .api_config()
                        .map_err(|(field, reason)| named(&format!("`{field}`: {reason}")))?;
                    Platform::MessagingApi(Arc::new(
                        MessagingApiAdapter::new(config).map_err(|e| named(&e))?,
                    ))
                }
                ChannelKind::Salesforce(s) => Platform::Salesforce {
                    adapter: Arc::new(
                        SalesforceAdapter::new(s.adapter_config()).map_err(|e| named(&e))?,
                    ),
                    settings: s.clone(),
                },
                _ => continue,
            };
            platforms.insert(c.name.clone(), platform);
        }
        Ok(platforms)
    }

    /// The relay over `platforms` (from [`Relay::platforms`]).
    pub(crate) fn new(
        config: &Config,
        platforms: HashMap<String, Platform>,
        store: Arc<dyn Store>,
        links: Arc<dyn RelayStore>,
        wake: Wake,
    ) -> Self {
        let channel_kinds = config
            .channels
            .iter()
            .map(|c| (c.name.clone(), c.kind.provider()))
            .collect();
        let acknowledging_channels = config
            .workstreams
            .iter()
            .filter(|w| {
                matches!(
                    w.contact_center,
                    crate::config::ContactCenterKind::Salesforce { .. }
                        | crate::config::ContactCenterKind::SalesforceCcaas { .. }
                )
            })
            .map(|w| w.workstream.channel.id.clone())
            .collect();
        Self {
            platforms,
            store,
            links,
            channel_kinds,
            acknowledging_channels,
            wake,
        }
    }

    /// The platform entries that are Messaging API adapters, by name.
    pub(crate) fn messaging_apis(
        &self,
    ) -> impl Iterator<Item = (&String, &Arc<MessagingApiAdapter>)> {
        self.platforms.iter().filter_map(|(name, p)| match p {
            Platform::MessagingApi(a) => Some((name, a)),
            _ => None,
        })
    }

    /// The record of a relayed conversation (its request id and end user), for a delivery.
    async fn relayed_record(
        &self,
        conversation_id: &str,
    ) -> Result<ConversationRecord, AdapterError> {
        match self.store.conversation(conversation_id).await {
            Ok(Some(rec)) if rec.relay.is_some() => Ok(rec),
            Ok(Some(_)) => Err(AdapterError::permanent(
                None,
                "the conversation is not relayed to a platform",
            )),
            Ok(None) => Err(AdapterError::permanent(None, "conversation not found")),
            Err(e) => Err(store_error(&e)),
        }
    }

    /// Delivers one outbox row addressed to a platform.
    pub(crate) async fn deliver(
        &self,
        platform: &str,
        item: &ClaimedOutbound,
    ) -> Result<Delivery, AdapterError> {
        let rec = self.relayed_record(&item.conversation_id).await?;
        match self.platforms.get(platform) {
            Some(Platform::MessagingApi(adapter)) => {
                omnichannel::deliver(self, adapter, platform, &rec, item).await
            }
            Some(Platform::Salesforce { adapter, settings }) => {
                salesforce::deliver(self, adapter, settings, platform, &rec, item).await
            }
            None => Err(AdapterError::configuration(format!(
                "no platform `{platform}` is relayed to"
            ))),
        }
    }

    /// Persists platform activities for one conversation in its inbox (deduplicated by the
    /// platform's ids) and wakes its worker. Returns how many were new.
    pub(crate) async fn accept(
        &self,
        platform: &str,
        to: &ConversationKey,
        activities: Vec<byoc_core::Activity>,
    ) -> Result<usize, StoreError> {
        let events = platform_events(platform, to, activities);
        let accepted = self.store.accept_inbound(events, None).await?;
        Ok(self.count_and_wake(platform, &to.conv_key, &accepted))
    }

    /// The byoc conversation a platform conversation's events go to: the linked one while it
    /// is open; else the end user's open relayed conversation (a new session before its link
    /// was recorded); else the linked one, closed (the engine drops what comes too late).
    pub(crate) async fn conversation_for(
        &self,
        platform: &str,
        platform_conversation: Option<&str>,
        end_user: Option<&str>,
    ) -> Result<Option<ConversationKey>, StoreError> {
        let mut linked = None;
        if let Some(pc) = platform_conversation
            && let Some(link) = self
                .links
                .link_of_platform_conversation(platform, pc)
                .await?
        {
            let key = ConversationKey {
                conversation_id: link.conversation_id,
                conv_key: link.conv_key,
            };
            let open = self
                .store
                .conversation(&key.conversation_id)
                .await?
                .is_some_and(|r| !r.conversation.state.is_terminal());
            if open {
                return Ok(Some(key));
            }
            linked = Some(key);
        }
        if let Some(user) = end_user
            && let Some(found) = self.links.open_relayed_conversation(platform, user).await?
        {
            return Ok(Some(found));
        }
        Ok(linked)
    }

    pub(crate) fn count_and_wake(
        &self,
        platform: &str,
        conv_key: &str,
        accepted: &[Accepted],
    ) -> usize {
        let new = accepted
            .iter()
            .filter(|a| matches!(a, Accepted::New(_)))
            .count();
        let duplicates = accepted.len() - new;
        let label = format!("platform:{platform}");
        if new > 0 {
            metrics::counter!(crate::metrics::MESSAGES_IN, "channel" => label.clone())
                .increment(new as u64);
            (self.wake)(conv_key);
        }
        if duplicates > 0 {
            metrics::counter!(crate::metrics::DUPLICATES, "channel" => label)
                .increment(duplicates as u64);
            tracing::info!(%platform, duplicates, "duplicate platform deliveries dropped");
        }
        new
    }

    /// Reports how a routing answer went, in the conversation's inbox (its transcript).
    pub(crate) async fn report_routing(
        &self,
        platform: &str,
        rec: &ConversationRecord,
        report: crate::model::RoutingReport,
        outbox_id: i64,
    ) {
        let event = NewInbound::new(
            format!("platform:{platform}"),
            Some(format!("routing-report-{outbox_id}")),
            rec.key.clone(),
            InboxEvent::PlatformRouting {
                conversation: rec.conversation.id.clone(),
                platform: platform.to_owned(),
                report,
            },
        );
        match self.store.accept_inbound(vec![event], None).await {
            Ok(_) => (self.wake)(&rec.key),
            Err(e) => {
                tracing::error!(conversation = %rec.conversation.id, error = %e, "routing report not recorded");
            }
        }
    }
}

/// The inbox events of platform activities for one conversation.
pub(crate) fn platform_events(
    platform: &str,
    to: &ConversationKey,
    activities: Vec<byoc_core::Activity>,
) -> Vec<NewInbound> {
    activities
        .into_iter()
        .map(|a| {
            NewInbound::new(
                format!("platform:{platform}"),
                a.id.clone(),
                &to.conv_key,
                InboxEvent::Platform {
                    platform: platform.to_owned(),
                    conversation: to.conversation_id.clone(),
                    activity: Box::new(a),
                },
            )
        })
        .collect()
}

/// CCaaS: the members of the queues byoc routes for Salesforce are Salesforce users, whose
/// presence Salesforce keeps (it refuses work for a rep who is away). byoc takes them as
/// available and counts their load against their capacity.
pub(crate) fn platform_members(
    config: &Config,
    routing: &mut byoc_core::workstream::RoutingState,
    loads: &HashMap<String, u32>,
) {
    let ccaas = config.workstreams.iter().filter(|w| {
        matches!(
            w.contact_center,
            crate::config::ContactCenterKind::SalesforceCcaas { .. }
        )
    });
    for w in ccaas {
        for m in w.workstream.queues.iter().flat_map(|q| &q.members) {
            if !m.is_bot() {
                routing.set_member(
                    m.id.clone(),
                    byoc_core::workstream::Presence::Available,
                    loads.get(&m.id).copied().unwrap_or(0),
                );
            }
        }
    }
}

impl Relay {
    /// The conversation key of a customer channel's delivery receipt when a platform wants
    /// it (Salesforce acknowledgements): the conversation of the outbox row it reports on
    /// (`external_id` `byoc-{row}`). `None` for anything else, which keys as usual.
    pub(crate) async fn receipt_key(
        &self,
        channel: &str,
        activity: &byoc_core::Activity,
    ) -> Option<String> {
        if !self.acknowledging_channels.iter().any(|c| c == channel)
            || activity.name.as_deref() != Some(byoc_telesign::EVENT_DELIVERY_REPORT)
        {
            return None;
        }
        let report: byoc_telesign::DeliveryReport = activity.value_as().ok()?;
        let row = report
            .external_id?
            .strip_prefix("byoc-")?
            .parse::<i64>()
            .ok()?;
        let (conversation, _) = self.links.outbound_activity(row).await.ok()??;
        let rec = self.store.conversation(&conversation).await.ok()??;
        Some(rec.key)
    }
}
