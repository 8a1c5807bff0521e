//! Ingest first: the threads processing runs on.
//!
//! A webhook's hot path is short — verify, parse, append to the inbox, commit, answer — and
//! everything after it (the engine's steps, outbox deliveries, timers, the router's
//! re-evaluations, pruning) works from what the store already holds. So the gateway runs
//! that work on a tokio runtime of its own whose threads, by default, have a lower
//! scheduling priority (nice 10 on Linux and the other Unixes; see
//! [`ProcessingPriority`]). With idle cores processing uses all of them; when webhooks
//! and processing compete for the CPU, the operating system's scheduler serves the
//! webhooks first, so a burst is acknowledged at the rate the machine can persist it and
//! worked off right after, from the inbox. The inbox is bounded
//! ([`ServerSettings::max_inbox_backlog`](crate::ServerSettings::max_inbox_backlog)): past
//! the bound, webhooks are answered `503` with `Retry-After` and the provider delivers
//! again later.
//!
//! The priority goes through the `thread-priority` crate (the workspace forbids `unsafe`,
//! and lowering a thread's niceness is a `setpriority` call); the store's writer keeps the
//! same order for the database with its two queues.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

/// How processing threads are scheduled (`[server] processing_priority`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessingPriority {
    /// Below the webhooks' threads (nice [`LOW_NICENESS`]): ingest first. The default.
    #[default]
    Low,
    /// The same as every other thread of the process.
    Normal,
}

/// The niceness of processing threads at [`ProcessingPriority::Low`]: ten steps below the
/// default, a weight about a tenth of a normal thread's under Linux's scheduler.
pub const LOW_NICENESS: i32 = 10;

/// The `thread-priority` crate's cross-platform value (0–99) that it maps to niceness 10
/// for the normal scheduling policies (`(1 - p / 99) × 39 - 20`, truncated).
const LOW_CROSSPLATFORM: u8 = 22;

/// The processing runtime. Dropping it stops its threads without waiting for their tasks
/// (the gateway waits for its work before it lets go of it).
pub(crate) struct Processing {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl std::fmt::Debug for Processing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processing").finish_non_exhaustive()
    }
}

impl Processing {
    /// Starts `threads` worker threads (at least one) at `priority`.
    ///
    /// # Errors
    /// When the runtime's threads cannot be started.
    pub(crate) fn start(threads: usize, priority: ProcessingPriority) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("byoc-processing")
            .on_thread_start(move || {
                if priority == ProcessingPriority::Low {
                    lower_this_thread();
                }
            })
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        Ok(Self {
            runtime: Some(runtime),
            handle,
        })
    }

    /// The runtime's handle.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns `task` on the processing threads.
    pub(crate) fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(task)
    }
}

impl Drop for Processing {
    fn drop(&mut self) {
        // Allowed from async code and from the runtime's own threads (it does not block).
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The longest a conversation worker waits at the [`IngestGate`] while webhooks keep
/// coming: under a steady burst, processing still takes a step this often.
pub(crate) const MAX_YIELD: Duration = Duration::from_millis(20);

/// How often the worker at the head of the gate looks again.
const GATE_POLL: Duration = Duration::from_millis(1);

/// Processing yields to webhook bursts: from the moment `threshold` customer webhooks are
/// being handled (read, verified, persisted) at once until [`QUIET`] has passed without
/// that, conversation workers wait before each step — one at a time, and at most
/// [`MAX_YIELD`] each — so a burst's webhooks are acknowledged first and its events are
/// processed from the inbox right after. Scheduling priority alone does not do it: a
/// webhook waiting for its group commit leaves the CPU idle, and processing run in those
/// gaps sends replies whose delivery reports come back as webhooks of their own. The quiet
/// period matters too: a group commit answers its webhooks together, and the count dips
/// for a moment before their senders' next requests arrive.
#[derive(Debug)]
pub(crate) struct IngestGate {
    inflight: AtomicUsize,
    threshold: usize,
    /// When the count last reached the threshold, in microseconds since `epoch`.
    busy_at: AtomicU64,
    epoch: tokio::time::Instant,
    /// The head of the queue of waiting workers (only it polls).
    turn: tokio::sync::Mutex<()>,
}

/// How long the count must stay under the threshold for a burst to be over.
pub(crate) const QUIET: Duration = Duration::from_millis(2);

/// A webhook being handled; counted until dropped.
#[derive(Debug)]
pub(crate) struct Inflight<'a>(&'a IngestGate);

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl IngestGate {
    /// A gate closing at `threshold` webhooks in flight (`0`: never).
    pub(crate) fn new(threshold: usize) -> Self {
        Self {
            inflight: AtomicUsize::new(0),
            threshold,
            busy_at: AtomicU64::new(0),
            epoch: tokio::time::Instant::now(),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    fn micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Counts a webhook until the guard is dropped.
    pub(crate) fn enter(&self) -> Inflight<'_> {
        let n = self.inflight.fetch_add(1, Ordering::Relaxed) + 1;
        if self.threshold > 0 && n >= self.threshold {
            self.busy_at.store(self.micros().max(1), Ordering::Relaxed);
        }
        Inflight(self)
    }

    /// Whether no burst is on: the count has stayed under the threshold for [`QUIET`].
    fn open(&self) -> bool {
        let busy_at = self.busy_at.load(Ordering::Relaxed);
        self.threshold == 0
            || busy_at == 0
            || (self.inflight.load(Ordering::Relaxed) < self.threshold
                && self.micros().saturating_sub(busy_at) >= QUIET.as_micros() as u64)
    }

    /// Returns when a worker may take its next step: at once when no burst is on, else
    /// when it ends or [`MAX_YIELD`] has passed.
    pub(crate) async fn pass(&self) {
        if self.open() {
            return;
        }
        let _head = self.turn.lock().await;
        let until = tokio::time::Instant::now() + MAX_YIELD;
        while !self.open() && tokio::time::Instant::now() < until {
            tokio::time::sleep(GATE_POLL).await;
        }
    }
}

#[cfg(unix)]
fn lower_this_thread() {
    use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
    let lowered = ThreadPriorityValue::try_from(LOW_CROSSPLATFORM).and_then(|v| {
        set_current_thread_priority(ThreadPriority::Crossplatform(v)).map_err(|e| e.to_string())
    });
    if let Err(e) = lowered {
        tracing::warn!(error = %e, "processing thread keeps the normal priority");
    }
}

#[cfg(not(unix))]
fn lower_this_thread() {}

#[cfg(test)]
mod gate_tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn workers_wait_while_a_burst_is_in_flight_but_never_longer_than_the_cap() {
        let gate = Arc::new(IngestGate::new(2));
        let started = tokio::time::Instant::now();
        gate.pass().await;
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "open below the threshold"
        );
        let (a, b) = (gate.enter(), gate.enter());
        gate.pass().await;
        assert!(
            started.elapsed() >= MAX_YIELD,
            "a steady burst still lets a step through"
        );
        // Two workers queue: each waits its own turn of at most the cap.
        let started = tokio::time::Instant::now();
        let (g1, g2) = (Arc::clone(&gate), Arc::clone(&gate));
        let w1 = tokio::spawn(async move { g1.pass().await });
        let w2 = tokio::spawn(async move { g2.pass().await });
        tokio::time::sleep(MAX_YIELD / 2).await;
        drop(a); // the burst ends: whoever waits goes once it has been quiet a moment
        w1.await.unwrap();
        w2.await.unwrap();
        assert!(started.elapsed() < MAX_YIELD, "{:?}", started.elapsed());
        drop(b);
        assert!(IngestGate::new(0).open(), "0 never closes");
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The calling thread's niceness, from `/proc/thread-self/stat` (field 19).
    fn niceness() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // The command name may hold spaces: fields start after its closing parenthesis.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[test]
    fn low_priority_threads_run_at_niceness_ten_and_normal_ones_unchanged() {
        let base = niceness();
        let low = Processing::start(1, ProcessingPriority::Low).unwrap();
        let seen = low
            .handle()
            .block_on(low.spawn(async { niceness() }))
            .unwrap();
        assert_eq!(seen, LOW_NICENESS.max(base));
        let normal = Processing::start(1, ProcessingPriority::Normal).unwrap();
        let seen = normal
            .handle()
            .block_on(normal.spawn(async { niceness() }))
            .unwrap();
        assert_eq!(seen, base);
        assert_eq!(niceness(), base, "the caller's thread is not touched");
    }
}
