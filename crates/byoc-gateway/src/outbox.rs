//! The outbox worker: claims due rows with a lease (per lane only the oldest pending row,
//! so a conversation's messages leave in order and the next waits until the previous is
//! delivered or dead-lettered), delivers them through the target adapter, and records the
//! outcome.
//!
//! Claims cost a write each, so most rows are never claimed by a pass of their own: the
//! processing step that queues a row claims its lane's head in the same transaction and
//! hands it over ([`Handoff`]), and recording an attempt claims the lane's next row in the
//! same transaction, delivered by the same task. Claim passes remain for what neither
//! covers: rows left at start, retries coming due, leases that ran out, replays.
//!
//! Failures: a permanent error ([`AdapterError::is_retryable`] false: 4xx refusals,
//! unsupported content, bad configuration) is dead-lettered at once with its reason; a
//! retryable one (429, 5xx, network) is retried with exponential backoff and jitter (each
//! delay stretched by a random share of itself; the `backon` crate's schedule), never sooner than the provider's `Retry-After`, under a
//! retry budget (tower's `TpsBudget`: retries may add only a share of recent first
//! attempts, so an outage does not turn into a retry storm; beyond it a retry waits the
//! longest delay), and dead-lettered after the configured number of attempts.
//!
//! Why no job crate: apalis (with apalis-sql) gives leases but no ordering per key;
//! sqlxmq has ordered channels but runs on PostgreSQL only, as does graphile_worker (its
//! named queues are serial). The gateway needs both ordering per conversation and leases
//! on SQLite and PostgreSQL, so the claim is a query of its own ([`crate::Store`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};
use byoc_core::{AdapterError, Delivery};
use chrono::Utc;
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tower::retry::budget::{Budget as _, TpsBudget};

use crate::config::OutboxSettings;
use crate::store::{ClaimedOutbound, Lease, OutboundResult, Store};

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

/// Where rows claimed outside the worker's own claim pass (by the step that queued them)
/// are handed to the worker, and the lease they must be claimed with.
#[derive(Clone, Debug)]
pub(crate) struct Handoff {
    tx: mpsc::UnboundedSender<ClaimedOutbound>,
    lease: Lease,
}

impl Handoff {
    /// A hand-off for a new worker identity (its lease owner), and the worker's end.
    pub(crate) fn new(
        settings: &OutboxSettings,
    ) -> (Self, mpsc::UnboundedReceiver<ClaimedOutbound>) {
        let owner = format!("gw-{}", uuid::Uuid::new_v4().simple());
        let (tx, rx) = mpsc::unbounded_channel();
        let lease = Lease::new(owner, settings.lease);
        (Self { tx, lease }, rx)
    }

    /// The lease a step claims its rows with.
    pub(crate) fn lease(&self) -> Lease {
        self.lease.clone()
    }

    /// Hands claimed rows to the worker.
    pub(crate) fn hand(&self, claimed: Vec<ClaimedOutbound>) {
        for item in claimed {
            // Closed only when the worker stopped: the lease then expires (or a restart
            // takes it back) and the row is delivered later.
            let _ = self.tx.send(item);
        }
    }
}

pub(crate) struct Worker {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) settings: OutboxSettings,
    pub(crate) deliver: Arc<dyn Deliver>,
    pub(crate) wake: Arc<Notify>,
    pub(crate) owner: String,
    pub(crate) budget: Arc<TpsBudget>,
    /// Set when a claim pass found every permit busy: the next finished attempt wakes the
    /// worker for another pass.
    starved: AtomicBool,
}

impl Worker {
    /// A worker claiming as the hand-off's lease owner.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        settings: OutboxSettings,
        deliver: Arc<dyn Deliver>,
        wake: Arc<Notify>,
        handoff: &Handoff,
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
            owner: handoff.lease.owner.clone(),
            budget,
            starved: AtomicBool::new(false),
        }
    }

    /// Whether a claimed row still has the lease left to cover a whole attempt (the attempt
    /// times out at half the lease). A row handed too late is left to expire and be claimed
    /// again, never attempted on a lease about to run out.
    fn fresh(&self, item: &ClaimedOutbound) -> bool {
        let left = (item.leased_until - Utc::now())
            .to_std()
            .unwrap_or_default();
        left > self.settings.lease / 2 + Duration::from_millis(100)
    }

    /// Attempts a claimed row, then the next rows of its lane that recording each result
    /// claimed, holding one permit.
    async fn run_lane(self: Arc<Self>, mut item: ClaimedOutbound) {
        loop {
            match self.attempt(item).await {
                Some(next) if self.fresh(&next) => item = next,
                Some(_) => {
                    // Not enough lease left: a claim pass takes it when the lease ends.
                    self.wake.notify_one();
                    break;
                }
                None => break,
            }
        }
        if self.starved.swap(false, Ordering::SeqCst) {
            self.wake.notify_one();
        }
    }

    async fn spawn_lane(self: &Arc<Self>, permits: &Arc<Semaphore>, item: ClaimedOutbound) {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let this = Arc::clone(self);
        tokio::spawn(async move {
            this.run_lane(item).await;
            drop(permit);
        });
    }

    /// Runs until `stop` turns true, then waits for deliveries in flight.
    ///
    /// Rows come from two places: rows handed over by the step that claimed them as it
    /// queued them (the common case: no claim of their own), and claim passes, made at
    /// start, when woken (a replay, a lane whose row could not be handed) and when the next
    /// retry or lease expiry is due.
    pub(crate) async fn run(
        self: Arc<Self>,
        mut handed: mpsc::UnboundedReceiver<ClaimedOutbound>,
        mut stop: watch::Receiver<bool>,
    ) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut gauge_at = tokio::time::Instant::now();
        let mut claim_now = true;
        let mut next_pass = tokio::time::Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            if claim_now {
                next_pass = tokio::time::Instant::now() + self.claim_pass(&permits).await;
                claim_now = false;
            }
            if gauge_at.elapsed() >= Duration::from_secs(1) {
                gauge_at = tokio::time::Instant::now();
                if let Ok(depth) = self.store.outbox_depth().await {
                    metrics::gauge!(crate::metrics::OUTBOX_DEPTH).set(depth as f64);
                }
            }
            tokio::select! {
                biased;
                _ = stop.changed() => {}
                Some(item) = handed.recv() => {
                    if self.fresh(&item) {
                        self.spawn_lane(&permits, item).await;
                    } else {
                        claim_now = true;
                    }
                }
                () = self.wake.notified() => claim_now = true,
                () = tokio::time::sleep_until(next_pass) => claim_now = true,
            }
        }
        let _ = tokio::time::timeout(
            self.settings.lease,
            permits.acquire_many(u32::try_from(self.settings.concurrency).unwrap_or(u32::MAX)),
        )
        .await;
    }

    /// Claims what the free permits can take and starts it; returns how long to wait before
    /// the next pass (until the next row is due, at most 5 s, at least 10 ms).
    async fn claim_pass(self: &Arc<Self>, permits: &Arc<Semaphore>) -> Duration {
        let free = permits.available_permits();
        if free == 0 {
            self.starved.store(true, Ordering::SeqCst);
            return Duration::from_secs(5);
        }
        match self
            .store
            .claim_outbound(&self.owner, Utc::now(), self.settings.lease, free)
            .await
        {
            Ok(claimed) => {
                if claimed.len() == free {
                    self.starved.store(true, Ordering::SeqCst);
                }
                for item in claimed {
                    self.spawn_lane(permits, item).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "outbox claim failed"),
        }
        let wait = match self.store.next_outbound_due().await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_secs(5)),
            _ => Duration::from_secs(5),
        };
        wait.max(Duration::from_millis(10))
    }

    /// One attempt; returns the lane's next row when recording the result claimed it.
    async fn attempt(&self, item: ClaimedOutbound) -> Option<ClaimedOutbound> {
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
        let retrying = matches!(result, OutboundResult::Retry { .. });
        let finished = self
            .store
            .finish_outbound(item.id, &self.owner, result, now, Some(self.settings.lease))
            .await;
        if retrying {
            // The worker sleeps until the next row it knows of is due: this one may be sooner.
            self.wake.notify_one();
        }
        match finished {
            Ok(finished) => {
                if !finished.recorded {
                    tracing::warn!(
                        id = item.id,
                        "outbox lease lost before the attempt was recorded"
                    );
                }
                finished.next
            }
            Err(e) => {
                tracing::error!(id = item.id, error = %e, "outbox result not recorded; the lease will expire and the row be retried");
                None
            }
        }
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
