//! Per-conversation dispatch, as teloxide's dispatcher does it: one worker per ordering key
//! processes that key's events in order; different keys run concurrently (at most
//! `max_workers` at once); a worker with nothing to do for a while is dropped.
//!
//! The events themselves are in the store's inbox (persisted before the provider got its
//! 2xx), so a worker's queue carries only wake-ups: a bounded queue of one, where a wake-up
//! that finds one already pending is redundant. Nothing is held only in memory.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};

use crate::processing::IngestGate;

/// How long a worker waits for more work before it is dropped.
const IDLE: Duration = Duration::from_secs(30);

/// Processes every pending event of one key; an error makes the worker retry after a pause.
pub(crate) type ProcessFn =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<(), ()>> + Send>> + Send + Sync>;

/// The dispatcher. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    workers: Mutex<HashMap<String, mpsc::Sender<()>>>,
    permits: Arc<Semaphore>,
    process: ProcessFn,
    tasks: tracker::Tracker,
    /// Where workers run (the processing runtime).
    runtime: tokio::runtime::Handle,
    /// Where workers yield to webhook bursts before each step.
    gate: Arc<IngestGate>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher whose workers run on `runtime` and pass `gate` before each step.
    pub(crate) fn new(
        max_workers: usize,
        process: ProcessFn,
        runtime: tokio::runtime::Handle,
        gate: Arc<IngestGate>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                workers: Mutex::new(HashMap::new()),
                permits: Arc::new(Semaphore::new(max_workers.max(1))),
                process,
                tasks: tracker::Tracker::default(),
                runtime,
                gate,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<()>>> {
        self.inner
            .workers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes sure the key's worker will look at its inbox.
    pub(crate) fn wake(&self, key: &str) {
        let mut workers = self.lock();
        if let Some(tx) = workers.get(key) {
            // Full: a wake-up is already pending, which will see this event too.
            if !matches!(tx.try_send(()), Err(mpsc::error::TrySendError::Closed(()))) {
                return;
            }
        }
        let (tx, rx) = mpsc::channel(1);
        let _ = tx.try_send(());
        workers.insert(key.to_owned(), tx);
        let this = self.clone();
        let key = key.to_owned();
        self.inner
            .tasks
            .spawn(&self.inner.runtime, async move { this.work(key, rx).await });
    }

    async fn work(self, key: String, mut rx: mpsc::Receiver<()>) {
        loop {
            match tokio::time::timeout(IDLE, rx.recv()).await {
                Ok(Some(())) => {}
                Ok(None) => return,
                Err(_) => {
                    // Idle: leave, unless a wake-up slipped in while we decided.
                    let mut workers = self.lock();
                    if rx.try_recv().is_err() {
                        workers.remove(&key);
                        return;
                    }
                }
            }
            self.inner.gate.pass().await;
            let Ok(permit) = self.inner.permits.clone().acquire_owned().await else {
                return;
            };
            let result = (self.inner.process)(key.clone()).await;
            drop(permit);
            if result.is_err() {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let _ = self.lock().get(&key).map(|tx| tx.try_send(()));
            }
        }
    }

    /// Workers alive now.
    #[cfg(test)]
    pub(crate) fn workers(&self) -> usize {
        self.lock().len()
    }

    /// Waits until every worker has finished its current work and left, or `grace` passes.
    pub(crate) async fn drain(&self, grace: Duration) {
        self.lock().clear(); // closing the queues: each worker ends after its current turn
        let _ = tokio::time::timeout(grace, self.inner.tasks.wait()).await;
    }
}

/// A small task tracker: counts live tasks and lets one wait for them all to end.
mod tracker {
    use std::future::Future;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Notify;

    #[derive(Default)]
    pub(crate) struct Tracker {
        live: Arc<(AtomicUsize, Notify)>,
    }

    impl Tracker {
        pub(crate) fn spawn<F: Future<Output = ()> + Send + 'static>(
            &self,
            runtime: &tokio::runtime::Handle,
            f: F,
        ) {
            let live = Arc::clone(&self.live);
            live.0.fetch_add(1, Ordering::SeqCst);
            runtime.spawn(async move {
                f.await;
                if live.0.fetch_sub(1, Ordering::SeqCst) == 1 {
                    live.1.notify_waiters();
                }
            });
        }

        pub(crate) async fn wait(&self) {
            loop {
                let notified = self.live.1.notified();
                if self.live.0.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn keys_run_concurrently_and_repeated_wakeups_coalesce() {
        let log = Arc::new(Mutex::new(Vec::<String>::new()));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (l, r, p) = (log.clone(), running.clone(), peak.clone());
        let process: ProcessFn = Arc::new(move |key| {
            let (l, r, p) = (l.clone(), r.clone(), p.clone());
            Box::pin(async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                l.lock().unwrap().push(key);
                r.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            })
        });
        let d = Dispatcher::new(
            8,
            process,
            tokio::runtime::Handle::current(),
            Arc::new(IngestGate::new(0)),
        );
        for k in ["a", "b", "c", "d"] {
            d.wake(k);
            d.wake(k); // coalesced with the pending one
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(peak.load(Ordering::SeqCst) >= 2, "keys run concurrently");
        let mut seen = log.lock().unwrap().clone();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, ["a", "b", "c", "d"]);
        assert_eq!(d.workers(), 4);
        d.drain(Duration::from_secs(1)).await;
        assert_eq!(d.workers(), 0);
    }
}
