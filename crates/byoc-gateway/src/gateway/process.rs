//! Processing: one ordering key's inbox events through the engine, each step committed
//! with its effects; inbound activities persisted; outbound rows delivered.

use std::sync::Arc;

use byoc_core::workstream::ChannelKind;
use byoc_core::{Activity, AdapterError, Delivery};
use chrono::Utc;

use super::{Shared, SinkError};
use crate::engine::{self, Context};
use crate::model::{InboxEvent, Target};
use crate::outbox::Deliver;
use crate::store::{Accepted, ClaimedOutbound, NewInbound, Receipt, StepCommit};

impl Shared {
    fn apply_load(&self, deltas: &[(String, i32)], kind: ChannelKind, sign: i32) {
        let mut routing = self.routing();
        for (agent, delta) in deltas {
            routing.add_load(agent, kind, delta * sign, Utc::now());
        }
    }

    /// Rebuilds the routing state from the store after a write failed (memory may have run
    /// ahead of what was committed).
    pub(super) async fn resync_routing(&self) {
        match self.store.routing_work().await {
            Ok(items) => {
                self.routing().restore(items, Utc::now());
                self.routing_wake.notify_one();
            }
            Err(e) => tracing::error!(error = %e, "waiting set not read back"),
        }
    }

    /// Processes every pending inbox event of one ordering key, in order.
    pub(super) async fn process_key(self: Arc<Self>, key: String) -> Result<(), ()> {
        let channel = key
            .split_once(':')
            .map_or(key.as_str(), |(c, _)| c)
            .to_owned();
        let (Some(ws), Some(ch)) = (
            self.config.workstream_for(&channel),
            self.channels.get(&channel),
        ) else {
            tracing::error!(%key, "no workstream or channel for this key");
            return Err(());
        };
        let info = ch.adapter.info();
        let kind = ws.workstream.channel.kind;
        // One pass: events that arrive meanwhile leave a wake-up that brings the worker back.
        let (mut current, items) = self.store.pending_work(&key).await.map_err(|e| {
            tracing::error!(%key, error = %e, "conversation and inbox not read");
        })?;
        let full = items.len() >= crate::store::INBOX_BATCH;
        // Events that change nothing (a delivery report with no conversation, an unreadable
        // row) are only marked processed, with the next step that does, or together at the end.
        let mut idle: Vec<i64> = Vec::new();
        for item in items {
            let Some(event) = item.event else {
                tracing::error!(%key, seq = item.seq, "unreadable inbox event skipped");
                idle.push(item.seq);
                continue;
            };
            let new_id = uuid::Uuid::new_v4().simple().to_string();
            let now = Utc::now();
            let (step, writes) = {
                let mut routing = self.routing();
                let Some((router, state)) = routing.prepared_mut(&ws.workstream.name) else {
                    tracing::error!(%key, workstream = %ws.workstream.name, "workstream not prepared");
                    return Err(());
                };
                let cx = Context {
                    workstream: ws,
                    channel: info,
                    router,
                    now,
                    new_id: &new_id,
                };
                let step = engine::step(current.clone(), &event, &cx, state);
                let own = step
                    .record
                    .as_ref()
                    .map(|r| (r.conversation.id.as_str(), r.key.as_str()));
                let writes = routing.writes(
                    &ws.workstream.name,
                    &step.touched,
                    own,
                    step.follow_ups.clone(),
                );
                (step, writes)
            };
            let new_conversation = step.record.as_ref().map(|r| &r.conversation.id)
                != current.as_ref().map(|r| &r.conversation.id);
            let record_unchanged =
                !new_conversation && (step.record.is_none() || step.record == current);
            if record_unchanged && step.changes_nothing() {
                idle.push(item.seq);
                continue;
            }
            self.apply_load(&step.load, kind, 1);
            let routed = !step.load.is_empty() || !step.touched.is_empty();
            let follow_keys: Vec<String> = writes
                .follow_ups
                .iter()
                .map(|f| f.conv_key.clone())
                .collect();
            let mut processed = std::mem::take(&mut idle);
            processed.push(item.seq);
            let commit = StepCommit {
                record_unchanged,
                record: step.record.clone(),
                new_conversation,
                processed,
                transcript: step.transcript,
                outbox: step.outbox,
                timers: step.timers,
                claim: Some(self.outbox.lease()),
                work: writes.work,
                follow_ups: writes.follow_ups,
            };
            let timed = !commit.timers.is_empty();
            match self.store.commit_step(commit).await {
                Ok(claimed) => self.outbox.hand(claimed),
                Err(e) => {
                    self.apply_load(&step.load, kind, -1);
                    if routed {
                        self.resync_routing().await;
                    }
                    tracing::error!(%key, error = %e, "step not committed; will retry");
                    return Err(());
                }
            }
            for k in &follow_keys {
                self.dispatcher.wake(k);
            }
            if routed {
                self.routing_wake.notify_one();
            }
            if step.record.is_some() {
                current = step.record;
            }
            for routed in &step.routed {
                let outcome = routed.to.label();
                metrics::counter!(crate::metrics::ROUTING_DECISIONS, "outcome" => outcome)
                    .increment(1);
            }
            for hop in step.hops {
                tracing::info!(conversation = %hop.conversation, hop = ?hop.kind, "hop");
                let _ = self.hops.send(hop);
            }
            for notice in step.notices {
                let _ = self.notices.send(notice);
            }
            if let Some(rec) = &current {
                for bot in &step.bots_released {
                    self.bots.release(&rec.conversation.id, bot).await;
                }
            }
            if timed {
                self.timer_wake.notify_one();
            }
        }
        if !idle.is_empty() {
            let done = StepCommit {
                record: None,
                new_conversation: false,
                processed: idle,
                transcript: Vec::new(),
                outbox: Vec::new(),
                timers: Vec::new(),
                record_unchanged: true,
                claim: None,
                work: Vec::new(),
                follow_ups: Vec::new(),
            };
            self.store.commit_step(done).await.map_err(|e| {
                tracing::error!(%key, error = %e, "processed events not recorded; will retry");
            })?;
        }
        if full {
            self.dispatcher.wake(&key);
        }
        Ok(())
    }

    /// Persists one batch of inbound activities from a channel and wakes their workers.
    pub(crate) async fn accept(
        &self,
        channel: &str,
        activities: Vec<Activity>,
    ) -> Result<(), SinkError> {
        if activities.is_empty() {
            return Ok(());
        }
        let (waiting, limit) = (
            self.backlog.load(std::sync::atomic::Ordering::Relaxed),
            self.config.server.max_inbox_backlog,
        );
        if waiting >= limit {
            metrics::counter!(crate::metrics::BACKLOG_REFUSED, "channel" => channel.to_owned())
                .increment(1);
            return Err(SinkError::Backlog { waiting, limit });
        }
        let mut events: Vec<NewInbound> = Vec::with_capacity(activities.len());
        let mut receipts = Vec::new();
        for a in activities {
            // A receipt names no conversation: the relay finds it by the message it reports on.
            let key = match self.relay.receipt_key(channel, &a).await {
                Some(key) => key,
                None => {
                    // Nothing to process for a receipt no platform takes: it is recorded on
                    // the outbound row it reports on, durably, before the answer.
                    if let Some(receipt) = own_receipt(&a) {
                        receipts.extend(receipt);
                        continue;
                    }
                    engine::conv_key(channel, &a)
                }
            };
            events.push(NewInbound::new(
                channel,
                a.id.clone(),
                key,
                InboxEvent::Customer {
                    activity: Box::new(a),
                },
            ));
        }
        if !receipts.is_empty() {
            metrics::counter!(crate::metrics::RECEIPTS, "channel" => channel.to_owned())
                .increment(receipts.len() as u64);
            self.store.record_receipts(receipts).await?;
        }
        if events.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = events.iter().map(|e| e.conv_key.clone()).collect();
        let accepted = self.store.accept_inbound(events, None).await?;
        for (key, a) in keys.iter().zip(&accepted) {
            match a {
                Accepted::New(_) => {
                    metrics::counter!(crate::metrics::MESSAGES_IN, "channel" => channel.to_owned())
                        .increment(1);
                    self.dispatcher.wake(key);
                }
                Accepted::Duplicate => {
                    metrics::counter!(crate::metrics::DUPLICATES, "channel" => channel.to_owned())
                        .increment(1);
                    tracing::info!(%channel, "duplicate delivery dropped");
                }
            }
        }
        Ok(())
    }
}

/// A delivery report on a message the gateway sent (`external_id` `byoc-{row}`), as the
/// receipt to record: `Some(None)` for a report on a message that is not ours (nothing to
/// record), `None` for anything that is not a delivery report.
fn own_receipt(activity: &Activity) -> Option<Option<Receipt>> {
    if activity.name.as_deref() != Some(byoc_telesign::EVENT_DELIVERY_REPORT) {
        return None;
    }
    let Ok(report) = activity.value_as::<byoc_telesign::DeliveryReport>() else {
        return None;
    };
    let row = report
        .external_id
        .as_deref()
        .and_then(|e| e.strip_prefix("byoc-"))
        .and_then(|id| id.parse::<i64>().ok());
    let Some(row) = row else {
        tracing::debug!("delivery report on a message not sent by byoc dropped");
        return Some(None);
    };
    if report.success == Some(false) {
        tracing::warn!(outbox_id = row, state = ?report.state, "the provider reports a message undelivered");
    }
    let value = serde_json::to_value(&report).unwrap_or_default();
    Some(Some(Receipt::new(row, value, report.is_final)))
}

pub(super) struct Deliverer(pub(super) Arc<Shared>);

#[async_trait::async_trait]
impl Deliver for Deliverer {
    async fn deliver(&self, item: &ClaimedOutbound) -> Result<Delivery, AdapterError> {
        match &item.target {
            Target::Channel(name) => {
                let channel =
                    self.0.channels.get(name).ok_or_else(|| {
                        AdapterError::configuration(format!("no channel `{name}`"))
                    })?;
                let mut activity = item.activity.clone();
                channel.mark(&mut activity, item.id);
                channel.adapter.send(&activity).await
            }
            Target::Bot(bot) => {
                let key = match self.0.store.conversation(&item.conversation_id).await {
                    Ok(Some(rec)) => rec.key,
                    Ok(None) => {
                        return Err(AdapterError::permanent(None, "conversation not found"));
                    }
                    Err(e) => return Err(AdapterError::transient(format!("store: {e}"))),
                };
                self.0
                    .bots
                    .send(bot, &item.conversation_id, &key, &item.activity)
                    .await
            }
            Target::Platform(platform) => self.0.relay.deliver(platform, item).await,
        }
    }
}
