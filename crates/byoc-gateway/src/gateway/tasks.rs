//! The gateway's background loops besides the dispatcher and the outbox: timers, the
//! router's timer and re-evaluation, pruning, the inbox backlog's count.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use super::Shared;

/// How often the inbox backlog is counted.
const BACKLOG_EVERY: Duration = Duration::from_millis(250);

/// Counts the inbox entries waiting for processing, for the webhooks' bound
/// ([`crate::ServerSettings::max_inbox_backlog`]) and the `byoc_inbox_backlog` gauge.
pub(super) async fn run_backlog(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        match shared.store.inbox_backlog().await {
            Ok(n) => {
                shared
                    .backlog
                    .store(n, std::sync::atomic::Ordering::Relaxed);
                #[allow(clippy::cast_precision_loss)] // a gauge
                metrics::gauge!(crate::metrics::INBOX_BACKLOG).set(n as f64);
            }
            Err(e) => tracing::warn!(error = %e, "inbox backlog not counted"),
        }
        tokio::select! {
            () = tokio::time::sleep(BACKLOG_EVERY) => {}
            _ = stop.changed() => {}
        }
    }
}

pub(super) async fn run_timers(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        match shared.store.fire_due_timers(Utc::now()).await {
            Ok(keys) => {
                for k in keys {
                    shared.dispatcher.wake(&k);
                }
            }
            Err(e) => tracing::warn!(error = %e, "timers not fired"),
        }
        let wait = match shared.store.next_timer_due().await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_secs(5)),
            _ => Duration::from_secs(5),
        };
        tokio::select! {
            () = shared.timer_wake.notified() => {}
            () = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
            _ = stop.changed() => {}
        }
    }
}

/// The router's timer: at each workstream's `next_wake` (offers timing out, waits passing
/// an overflow limit, skills relaxing, queues opening) and whenever members changed (an
/// agent came online or freed capacity), wakes or re-evaluates the waiting conversations
/// and commits what was decided. The first pass, at start, wakes every workstream, so the
/// restored waiting set catches up with the time the gateway was down.
pub(super) async fn run_routing(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut all = true;
    loop {
        if *stop.borrow() {
            return;
        }
        let now = Utc::now();
        let writes = shared.routing().pass(now, std::mem::take(&mut all));
        if !writes.is_empty() {
            let keys: Vec<String> = writes
                .follow_ups
                .iter()
                .map(|f| f.conv_key.clone())
                .collect();
            match shared
                .store
                .commit_routing(writes.work, writes.follow_ups)
                .await
            {
                Ok(()) => {
                    for k in keys {
                        shared.dispatcher.wake(&k);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "routing pass not committed; reading the waiting set back");
                    shared.resync_routing().await;
                    all = true;
                }
            }
        }
        let next = shared.routing().next_wake();
        let wait = next.map_or(Duration::from_secs(60), |at| {
            (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_secs(60))
        });
        tokio::select! {
            () = shared.routing_wake.notified() => {}
            () = tokio::time::sleep(wait.max(Duration::from_millis(5))) => {}
            _ = stop.changed() => {}
        }
    }
}

pub(super) async fn run_pruner(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let retention = chrono::Duration::from_std(shared.config.server.dedupe_retention)
        .unwrap_or(chrono::Duration::MAX);
    loop {
        let now = Utc::now();
        match shared
            .store
            .prune(now.checked_sub_signed(retention).unwrap_or_default(), now)
            .await
        {
            Ok(n) if n > 0 => tracing::info!(pruned = n, "old inbox entries pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "prune failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
    }
}
