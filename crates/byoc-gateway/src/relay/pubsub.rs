//! One Pub/Sub subscription per Salesforce channel entry: every event is keyed to its byoc
//! conversation (by the recorded link, else the end user's open relayed conversation),
//! persisted in that conversation's inbox with the event id as its dedupe key, and the
//! replay id after it is written in the same transaction. The next event is read only once
//! that is durable, so a restart resumes exactly after the last event persisted: none lost,
//! none repeated. Keep-alives move the stored replay id on too.

use std::sync::Arc;
use std::time::Duration;

use byoc_salesforce::{
    ReceivedEvent, ReplayId, ReplayStart, SalesforceAdapter, Subscription, SubscriptionItem,
};
use futures_util::StreamExt as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Platform, Relay, platform_events};
use crate::config::{ReplayFrom, SalesforceSettings};
use crate::store::{ConversationKey, NewInbound};

/// How long an event waits for the link of the conversation it belongs to (the
/// interaction's answer that records it may still be on its way).
const LINK_WAIT: Duration = Duration::from_secs(2);

/// Subscription failures (reconnections), by platform (`platform`).
pub(crate) const PUBSUB_RECONNECTS: &str = "byoc_platform_stream_reconnects_total";

/// Starts one reader per Salesforce platform entry.
pub(crate) fn run_subscriptions(
    relay: &Arc<Relay>,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    relay
        .platforms
        .iter()
        .filter_map(|(name, p)| match p {
            Platform::Salesforce { adapter, settings } => Some(tokio::spawn(read(
                Arc::clone(relay),
                name.clone(),
                Arc::clone(adapter),
                settings.as_ref().clone(),
                stop.clone(),
            ))),
            Platform::MessagingApi(_) => None,
        })
        .collect()
}

async fn start_of(relay: &Relay, platform: &str, settings: &SalesforceSettings) -> ReplayStart {
    let mut wait = Duration::from_millis(200);
    loop {
        match relay.links.replay_cursor(platform).await {
            Ok(Some(id)) => return ReplayStart::After(ReplayId(id)),
            Ok(None) => {
                return match settings.replay_from {
                    ReplayFrom::Earliest => ReplayStart::Earliest,
                    _ => ReplayStart::Latest,
                };
            }
            Err(e) => {
                tracing::warn!(%platform, error = %e, "replay id not read; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn read(
    relay: Arc<Relay>,
    platform: String,
    adapter: Arc<SalesforceAdapter>,
    settings: SalesforceSettings,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let start = start_of(&relay, &platform, &settings).await;
        tracing::info!(%platform, start = ?start, "pub/sub subscription starting");
        let mut subscription: Subscription = adapter.subscribe(start);
        loop {
            let item = tokio::select! {
                item = subscription.next() => item,
                _ = stop.changed() => return,
            };
            match item {
                Some(Ok(SubscriptionItem::Event(event))) => {
                    if !persist(&relay, &platform, event, &mut stop).await {
                        return;
                    }
                }
                Some(Ok(SubscriptionItem::KeepAlive { latest_replay_id })) => {
                    if !latest_replay_id.0.is_empty()
                        && !store(&relay, &platform, Vec::new(), &latest_replay_id, &mut stop).await
                    {
                        return;
                    }
                }
                Some(Ok(SubscriptionItem::Reconnecting { error, after })) => {
                    metrics::counter!(PUBSUB_RECONNECTS, "platform" => platform.clone())
                        .increment(1);
                    tracing::warn!(%platform, error = %error, after_ms = after.as_millis() as u64,
                        "pub/sub stream dropped; resuming from the last replay id");
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::error!(%platform, error = %e, "pub/sub subscription stopped; starting again");
                    break;
                }
                None => break,
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Keys one event to its conversation and persists it with its replay id. `false` when
/// stopping.
async fn persist(
    relay: &Relay,
    platform: &str,
    event: ReceivedEvent,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let mut events = Vec::new();
    if !event.activities.is_empty() {
        match conversation_key(relay, platform, &event).await {
            Some(to) => {
                events = platform_events(platform, &to, event.activities);
                let single = events.len() == 1;
                for (i, e) in events.iter_mut().enumerate() {
                    // The event id is the stable identity of a redelivered event.
                    e.dedupe_key = Some(if single {
                        event.event_id.clone()
                    } else {
                        format!("{}:{i}", event.event_id)
                    });
                }
            }
            None => {
                tracing::warn!(%platform, event = %event.event_id, "event for a conversation byoc does not know; dropped");
            }
        }
    } else if let Some(skipped) = &event.skipped {
        tracing::debug!(%platform, event = %event.event_id, reason = ?skipped, "event skipped");
    }
    store(relay, platform, events, &event.replay_id, stop).await
}

/// Persists `events` with the replay id, retrying until it is durable. `false` when
/// stopping.
async fn store(
    relay: &Relay,
    platform: &str,
    events: Vec<NewInbound>,
    replay_id: &ReplayId,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let mut wait = Duration::from_millis(100);
    loop {
        match relay
            .links
            .accept_platform_events(events.clone(), platform, &replay_id.0)
            .await
        {
            Ok(accepted) => {
                for (e, a) in events.iter().zip(&accepted) {
                    relay.count_and_wake(platform, &e.conv_key, std::slice::from_ref(a));
                }
                return true;
            }
            Err(e) => {
                // The stream waits: the replay id does not move until the events are stored.
                tracing::warn!(%platform, error = %e, "platform events not persisted; retrying");
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return false,
                }
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// The conversation of an event ([`Relay::conversation_for`]), waiting briefly for a link
/// being recorded.
async fn conversation_key(
    relay: &Relay,
    platform: &str,
    event: &ReceivedEvent,
) -> Option<ConversationKey> {
    let started = tokio::time::Instant::now();
    loop {
        match relay
            .conversation_for(
                platform,
                event.conversation_id.as_deref(),
                event.recipient.as_deref(),
            )
            .await
        {
            Ok(Some(to)) => return Some(to),
            Ok(None) => {}
            Err(e) => tracing::warn!(%platform, error = %e, "conversation lookup failed"),
        }
        if started.elapsed() >= LINK_WAIT {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
