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
