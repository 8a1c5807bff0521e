//! The outbox worker: claims due rows with a lease (per lane only the oldest pending row,
//! so a conversation's messages leave in order and the next waits until the previous is
//! delivered or dead-lettered), delivers them through the target adapter, and records the
//! outcome.
//!
//! Failures: a permanent error ([`AdapterError::is_retryable`] false: 4xx refusals,
//! unsupported content, bad configuration) is dead-lettered at once with its reason; a
//! retryable one (429, 5xx, network) is retried with exponential backoff and jitter (each delay stretched by a random share of itself)
//! (the `backon` crate's schedule), never sooner than the provider's `Retry-After`, under a
//! retry budget (tower's `TpsBudget`: retries may add only a share of recent first
//! attempts, so an outage does not turn into a retry storm; beyond it a retry waits the
//! longest delay), and dead-lettered after the configured number of attempts.
//!
//! Why no job crate: apalis (with apalis-sql) gives leases but no ordering per key;
//! sqlxmq has ordered channels but runs on PostgreSQL only, as does graphile_worker (its
//! named queues are serial). The gateway needs both ordering per conversation and leases
//! on SQLite and PostgreSQL, so the claim is a query of its own ([`crate::Store`]).

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};
use byoc_core::{AdapterError, Delivery};
use chrono::Utc;
use tokio::sync::{Notify, Semaphore, watch};
use tower::retry::budget::{Budget as _, TpsBudget};

use crate::config::OutboxSettings;
use crate::store::{ClaimedOutbound, OutboundResult, Store};

/// Delivers one claimed row (the gateway routes it to the channel adapter or the bot).
#[async_trait::async_trait]
pub(crate) trait Deliver: Send + Sync {
    async fn deliver(&self, item: &ClaimedOutbound) -> Result<Delivery, AdapterError>;
}

/// What happens after a failed attempt number `attempt` (1-based).
#[must_use]
pub(crate) fn after_failure(
    settings: &OutboxSettings,
    error: &AdapterError,
    attempt: u32,
    budget_ok: bool,
) -> FailurePlan {
    if !error.is_retryable() {
        return FailurePlan::DeadLetter(format!("not retryable: {error}"));
    }
    if attempt >= settings.max_attempts {
        return FailurePlan::DeadLetter(format!("gave up after {attempt} attempts: {error}"));
    }
    let backoff = if budget_ok {
        ExponentialBuilder::default()
            .with_min_delay(settings.base_delay)
            .with_max_delay(settings.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(attempt.saturating_sub(1) as usize)
            .unwrap_or(settings.max_delay)
    } else {
        settings.max_delay
    };
    let delay = match error.retry_after() {
        Some(after) => backoff.max(after),
        None => backoff,
    };
    FailurePlan::Retry(delay)
}

/// The plan for a failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FailurePlan {
    Retry(Duration),
    DeadLetter(String),
}

pub(crate) struct Worker {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) settings: OutboxSettings,
    pub(crate) deliver: Arc<dyn Deliver>,
    pub(crate) wake: Arc<Notify>,
    pub(crate) owner: String,
    pub(crate) budget: Arc<TpsBudget>,
}

impl Worker {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        settings: OutboxSettings,
        deliver: Arc<dyn Deliver>,
        wake: Arc<Notify>,
    ) -> Self {
        let budget = Arc::new(TpsBudget::new(
            Duration::from_secs(10),
            10,
            settings.retry_budget_percent / 100.0,
        ));
        Self {
            store,
            settings,
            deliver,
            wake,
            owner: format!("gw-{}", uuid::Uuid::new_v4().simple()),
            budget,
        }
    }

    /// Runs until `stop` turns true, then waits for deliveries in flight.
    pub(crate) async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut gauge_at = tokio::time::Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            let free = permits.available_permits();
            let mut filled = free == 0;
            if free > 0 {
                match self
                    .store
                    .claim_outbound(&self.owner, Utc::now(), self.settings.lease, free)
                    .await
                {
                    Ok(claimed) => {
                        filled = claimed.len() == free;
                        for item in claimed {
                            let Ok(permit) = permits.clone().acquire_owned().await else {
                                break;
                            };
                            let this = Arc::clone(&self);
                            tokio::spawn(async move {
                                this.attempt(item).await;
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "outbox claim failed"),
                }
            }
            if gauge_at.elapsed() >= Duration::from_secs(1) {
                gauge_at = tokio::time::Instant::now();
                if let Ok(depth) = self.store.outbox_depth().await {
                    metrics::gauge!(crate::metrics::OUTBOX_DEPTH).set(depth as f64);
                }
            }
            // Every permit busy: the next finished delivery wakes us. Otherwise sleep until
            // the next row is due (a retry, an expiring lease) or new rows are queued.
            let wait = if filled {
                Duration::from_secs(5)
            } else {
                match self.store.next_outbound_due().await {
                    Ok(Some(at)) => (at - Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .min(Duration::from_secs(5)),
                    _ => Duration::from_secs(5),
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
                _ = stop.changed() => {}
            }
        }
        let _ = tokio::time::timeout(
            self.settings.lease,
            permits.acquire_many(u32::try_from(self.settings.concurrency).unwrap_or(u32::MAX)),
        )
        .await;
    }

    async fn attempt(&self, item: ClaimedOutbound) {
        let attempt = item.attempts + 1;
        let target = item.target.to_stored();
        if attempt == 1 {
            self.budget.deposit();
        }
        let timeout = self.settings.lease / 2;
        let outcome = match tokio::time::timeout(timeout, self.deliver.deliver(&item)).await {
            Ok(r) => r,
            Err(_) => Err(AdapterError::transient("delivery timed out")),
        };
        let now = Utc::now();
        let result = match outcome {
            Ok(delivery) => {
                metrics::counter!(crate::metrics::MESSAGES_OUT, "target" => target.clone())
                    .increment(1);
                let waited = (now - item.created_at).to_std().unwrap_or_default();
                metrics::histogram!(crate::metrics::DELIVERY_SECONDS, "target" => target.clone())
                    .record(waited.as_secs_f64());
                tracing::debug!(id = item.id, conversation = %item.conversation_id, %target, attempt, "delivered");
                OutboundResult::Delivered(delivery.provider_id().map(str::to_owned))
            }
            Err(error) => {
                let budget_ok = attempt == 1 || self.budget.withdraw();
                match after_failure(&self.settings, &error, attempt, budget_ok) {
                    FailurePlan::Retry(delay) => {
                        metrics::counter!(crate::metrics::RETRIES, "target" => target.clone())
                            .increment(1);
                        tracing::info!(id = item.id, conversation = %item.conversation_id, %target, attempt,
                            delay_ms = delay.as_millis() as u64, error = %error, "delivery failed; retrying");
                        OutboundResult::Retry {
                            at: now
                                + chrono::Duration::from_std(delay)
                                    .unwrap_or(chrono::Duration::MAX),
                            error: error.to_string(),
                        }
                    }
                    FailurePlan::DeadLetter(reason) => {
                        metrics::counter!(crate::metrics::DEAD_LETTERS, "target" => target.clone())
                            .increment(1);
                        tracing::warn!(id = item.id, conversation = %item.conversation_id, %target, attempt,
                            reason = %reason, "delivery dead-lettered");
                        OutboundResult::Dead(reason)
                    }
                }
            }
        };
        match self
            .store
            .finish_outbound(item.id, &self.owner, result, now)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                id = item.id,
                "outbox lease lost before the attempt was recorded"
            ),
            Err(e) => {
                tracing::error!(id = item.id, error = %e, "outbox result not recorded; the lease will expire and the row be retried")
            }
        }
        self.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> OutboxSettings {
        OutboxSettings {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            ..OutboxSettings::default()
        }
    }

    #[test]
    fn permanent_errors_are_never_retried() {
        let plan = after_failure(
            &settings(),
            &AdapterError::permanent(Some(400), "invalid number"),
            1,
            true,
        );
        assert!(
            matches!(plan, FailurePlan::DeadLetter(r) if r.contains("not retryable") && r.contains("HTTP 400"))
        );
        let plan = after_failure(&settings(), &AdapterError::unauthorized("bad key"), 1, true);
        assert!(matches!(plan, FailurePlan::DeadLetter(_)));
    }

    #[test]
    fn retryable_errors_back_off_exponentially_with_jitter_up_to_the_limit() {
        let s = settings();
        for attempt in 1..4 {
            let FailurePlan::Retry(d) =
                after_failure(&s, &AdapterError::transient("503"), attempt, true)
            else {
                panic!("attempt {attempt} must retry");
            };
            let base = Duration::from_millis(100) * 2u32.pow(attempt - 1);
            assert!(d >= base && d <= base * 2, "attempt {attempt}: {d:?}");
        }
        let plan = after_failure(&s, &AdapterError::transient("503"), 4, true);
        assert!(
            matches!(plan, FailurePlan::DeadLetter(r) if r.starts_with("gave up after 4 attempts"))
        );
    }

    #[test]
    fn retry_after_is_a_floor() {
        let e = AdapterError::rate_limited(Some(Duration::from_secs(3)), "slow down");
        assert_eq!(
            after_failure(&settings(), &e, 1, true),
            FailurePlan::Retry(Duration::from_secs(3))
        );
    }

    #[test]
    fn an_exhausted_budget_defers_to_the_longest_delay() {
        let plan = after_failure(&settings(), &AdapterError::transient("503"), 2, false);
        assert_eq!(plan, FailurePlan::Retry(Duration::from_secs(10)));
    }
}
