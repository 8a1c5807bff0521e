//! The writer task: every write runs here, on the one write connection, and shares a
//! transaction with whatever other writes are queued (group commit); callers are answered
//! after the commit.
//!
//! - **One round trip per job.** A job is one SQL script (several statements, executed by
//!   one call into sqlx's connection thread, where each statement would otherwise be a
//!   thread hand-off of its own) that opens a savepoint named `job` first and releases it
//!   last ([`Script`]). A job that fails is rolled back to its savepoint and answered with
//!   its error; the other jobs of the transaction commit. The rows the script returns are
//!   decoded by the caller, after the commit.
//! - **Drain and cap.** The writer takes the first job, opens a transaction, then keeps
//!   taking whatever is queued until the queues are empty or the batch is full, and
//!   commits: one fsync for the whole batch.
//! - **Acknowledgements first.** Writes that someone waits on (a provider's webhook, an
//!   agent's request: [`Priority::Urgent`]) have their own queue, always drained before the
//!   background queue (processing steps, outbox claims and results, timers, pruning). While
//!   urgent writes keep coming, a transaction takes at most [`BACKGROUND_SHARE`] of the cap
//!   in background jobs, so a webhook never waits behind a long run of processing writes.

use std::time::Instant;

use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{Executor as _, QueryBuilder};
use tokio::sync::{mpsc, oneshot};

use super::SqliteStore;
use crate::store::StoreError;

/// Jobs waiting for the writer, at most, per queue.
pub(super) const WRITE_QUEUE: usize = 4096;

/// While urgent writes keep coming, background jobs may fill at most this share of a
/// transaction (`max / BACKGROUND_SHARE`, at least one).
pub(super) const BACKGROUND_SHARE: usize = 8;

/// Which queue a write waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Priority {
    /// Someone waits for the answer: a provider's webhook, an agent's request.
    Urgent,
    /// Processing, the outbox, timers, housekeeping.
    Background,
}

/// What a job answers: the rows its script returned, once committed.
type Answer = oneshot::Sender<Result<Vec<SqliteRow>, StoreError>>;

/// A job: one script and where to send its rows.
pub(super) struct Job {
    script: QueryBuilder<'static, Sqlite>,
    answer: Answer,
}

/// The writer's two queues.
#[derive(Clone, Debug)]
pub(super) struct Queues {
    urgent: mpsc::Sender<Job>,
    background: mpsc::Sender<Job>,
}

/// A job's SQL: statements separated by `;`, inside the savepoint `job`, run by one call.
/// Use `?` placeholders only (numbered ones would index the whole script's arguments).
pub(super) struct Script(QueryBuilder<'static, Sqlite>);

impl Script {
    pub(super) fn new() -> Self {
        Self(QueryBuilder::new("SAVEPOINT job; "))
    }

    /// The builder, to append a statement (end it with `; `).
    pub(super) fn sql(&mut self) -> &mut QueryBuilder<'static, Sqlite> {
        &mut self.0
    }

    /// The finished script, releasing the savepoint.
    pub(super) fn finish(mut self) -> QueryBuilder<'static, Sqlite> {
        self.0.push("RELEASE job");
        self.0
    }
}

impl SqliteStore {
    /// Runs one script in the writer's next transaction and answers, after the commit,
    /// with what `decode` makes of the rows it returned.
    pub(super) async fn write<T>(
        &self,
        priority: Priority,
        script: Script,
        decode: impl FnOnce(Vec<SqliteRow>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (answer, rx) = oneshot::channel();
        let job = Job {
            script: script.finish(),
            answer,
        };
        let queue = match priority {
            Priority::Urgent => &self.writer.urgent,
            Priority::Background => &self.writer.background,
        };
        queue.send(job).await.map_err(|_| StoreError::Closed)?;
        decode(rx.await.map_err(|_| StoreError::Closed)??)
    }
}

/// Starts the writer task on `conn`; at most `max` jobs share a transaction.
pub(super) fn spawn(conn: SqliteConnection, max: usize) -> Queues {
    let (urgent, urgent_rx) = mpsc::channel(WRITE_QUEUE);
    let (background, background_rx) = mpsc::channel(WRITE_QUEUE);
    tokio::spawn(run(conn, urgent_rx, background_rx, max.max(1)));
    Queues { urgent, background }
}

async fn run(
    mut conn: SqliteConnection,
    mut urgent: mpsc::Receiver<Job>,
    mut background: mpsc::Receiver<Job>,
    max: usize,
) {
    let background_share = (max / BACKGROUND_SHARE).max(1);
    let mut done: Vec<(Answer, Result<Vec<SqliteRow>, sqlx::Error>)> = Vec::with_capacity(max);
    loop {
        let first = tokio::select! {
            biased;
            Some(job) = urgent.recv() => (job, Priority::Urgent),
            Some(job) = background.recv() => (job, Priority::Background),
            else => return,
        };
        let started = Instant::now();
        if let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
            let msg = format!("transaction not started: {e}");
            let _ = first.0.answer.send(Err(StoreError::Commit(msg)));
            continue;
        }
        let (mut urgent_n, mut background_n) = (0usize, 0usize);
        let mut broken: Option<String> = None;
        let mut next = Some(first);
        while let Some((mut job, priority)) = next.take() {
            match priority {
                Priority::Urgent => urgent_n += 1,
                Priority::Background => background_n += 1,
            }
            let result = job.script.build().fetch_all(&mut conn).await;
            let failed = result.is_err();
            done.push((job.answer, result));
            if failed {
                // Undo the failed job alone; if its savepoint is gone, so is the transaction.
                if let Err(e) = conn.execute("ROLLBACK TO job; RELEASE job").await {
                    broken = Some(format!(
                        "the transaction was lost after a failed write: {e}"
                    ));
                    break;
                }
            }
            if urgent_n + background_n >= max {
                break;
            }
            next = match urgent.try_recv() {
                Ok(job) => Some((job, Priority::Urgent)),
                Err(_) if urgent_n > 0 && background_n >= background_share => None,
                Err(_) => background
                    .try_recv()
                    .ok()
                    .map(|job| (job, Priority::Background)),
            };
        }
        let error = match broken {
            Some(reason) => {
                let _ = conn.execute("ROLLBACK").await;
                Some(reason)
            }
            None => match conn.execute("COMMIT").await {
                Ok(_) => None,
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    Some(e.to_string())
                }
            },
        };
        metrics::histogram!(crate::metrics::GROUP_COMMIT_SIZE)
            .record((urgent_n + background_n) as f64);
        metrics::histogram!(crate::metrics::GROUP_COMMIT_SECONDS)
            .record(started.elapsed().as_secs_f64());
        for (answer, result) in done.drain(..) {
            let reply = match (result, &error) {
                (Err(e), _) => Err(StoreError::Database(e)),
                (Ok(_), Some(e)) => Err(StoreError::Commit(e.clone())),
                (Ok(rows), None) => Ok(rows),
            };
            let _ = answer.send(reply);
        }
    }
}
