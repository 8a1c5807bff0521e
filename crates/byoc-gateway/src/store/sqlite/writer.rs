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

use futures_util::StreamExt as _;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{Executor as _, QueryBuilder, Row as _};
use tokio::sync::{mpsc, oneshot};

use super::SqliteStore;
use super::inbox::{self, InboxRow};
use crate::store::{Accepted, StoreError};

/// Jobs waiting for the writer, at most, per queue.
pub(super) const WRITE_QUEUE: usize = 4096;

/// While urgent writes keep coming, background jobs may fill at most this share of a
/// transaction (`max / BACKGROUND_SHARE`, at least one).
pub(super) const BACKGROUND_SHARE: usize = 64;

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

/// A job: one script, or inbox rows to append, and where to send what it returned.
pub(super) enum Job {
    /// A script in its own savepoint.
    Script {
        script: QueryBuilder<'static, Sqlite>,
        answer: Answer,
    },
    /// Inbox rows: the rows of every such job of a transaction are inserted by one
    /// statement ([`super::inbox::append`]), which cannot fail for one job alone (a repeated
    /// provider id is skipped, not an error).
    Append {
        rows: Vec<InboxRow>,
        answer: oneshot::Sender<Result<Vec<Accepted>, StoreError>>,
    },
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
        let job = Job::Script {
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

    /// Appends inbox rows in the writer's next transaction (an urgent write); answers after
    /// the commit, per row.
    pub(super) async fn append(&self, rows: Vec<InboxRow>) -> Result<Vec<Accepted>, StoreError> {
        let (answer, rx) = oneshot::channel();
        self.writer
            .urgent
            .send(Job::Append { rows, answer })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// Starts the writer task on `conn`; at most `max` jobs share a transaction.
pub(super) fn spawn(conn: SqliteConnection, max: usize) -> Queues {
    let (urgent, urgent_rx) = mpsc::channel(WRITE_QUEUE);
    let (background, background_rx) = mpsc::channel(WRITE_QUEUE);
    let writer = run(conn, urgent_rx, background_rx, max.max(1));
    // A thread of its own: the writer waits on the database after every job, and on the
    // gateway's busy runtime each of those wake-ups would queue behind request handling.
    let spawned = std::thread::Builder::new()
        .name("byoc-store-writer".to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(writer),
                Err(e) => tracing::error!(error = %e, "store writer runtime not started"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "store writer thread not started");
    }
    Queues { urgent, background }
}

/// A job that ran, waiting for the end of its transaction.
enum Ran {
    Script(Answer, Result<Vec<SqliteRow>, sqlx::Error>),
    Append(
        oneshot::Sender<Result<Vec<Accepted>, StoreError>>,
        Vec<InboxRow>,
    ),
}

async fn run(
    mut conn: SqliteConnection,
    mut urgent: mpsc::Receiver<Job>,
    mut background: mpsc::Receiver<Job>,
    max: usize,
) {
    let background_share = (max / BACKGROUND_SHARE).max(1);
    let mut ran: Vec<Ran> = Vec::with_capacity(max);
    loop {
        let first = tokio::select! {
            biased;
            Some(job) = urgent.recv() => (job, Priority::Urgent),
            Some(job) = background.recv() => (job, Priority::Background),
            else => return,
        };
        let started = Instant::now();
        // The transaction begins with the first script, or with the closing statement
        // when the batch is only inbox rows (one round trip for the whole batch).
        let mut begun = false;
        let (mut urgent_n, mut background_n) = (0usize, 0usize);
        let mut broken: Option<String> = None;
        let mut next = Some(first);
        while let Some((job, priority)) = next.take() {
            match priority {
                Priority::Urgent => urgent_n += 1,
                Priority::Background => background_n += 1,
            }
            match job {
                Job::Append { rows, answer } => ran.push(Ran::Append(answer, rows)),
                Job::Script { mut script, answer } => {
                    if !begun {
                        if let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
                            ran.push(Ran::Script(answer, Ok(Vec::new())));
                            broken = Some(format!("transaction not started: {e}"));
                            break;
                        }
                        begun = true;
                    }
                    let result = script.build().fetch_all(&mut conn).await;
                    let failed = result.is_err();
                    ran.push(Ran::Script(answer, result));
                    // Undo the failed job alone; if its savepoint is gone, so is the
                    // transaction.
                    if failed && let Err(e) = conn.execute("ROLLBACK TO job; RELEASE job").await {
                        broken = Some(format!(
                            "the transaction was lost after a failed write: {e}"
                        ));
                        break;
                    }
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
        let (appended, error) = match broken {
            Some(reason) => {
                if begun {
                    let _ = conn.execute("ROLLBACK").await;
                }
                (Err(reason.clone()), Some(reason))
            }
            None => {
                let rows: Vec<&InboxRow> = ran
                    .iter()
                    .filter_map(|r| match r {
                        Ran::Append(_, rows) => Some(rows.iter()),
                        Ran::Script(..) => None,
                    })
                    .flatten()
                    .collect();
                close(&mut conn, &rows, begun).await
            }
        };
        metrics::histogram!(crate::metrics::GROUP_COMMIT_SIZE)
            .record((urgent_n + background_n) as f64);
        metrics::histogram!(crate::metrics::GROUP_COMMIT_SECONDS)
            .record(started.elapsed().as_secs_f64());
        let mut accepted = appended.map(Vec::into_iter);
        for job in ran.drain(..) {
            match job {
                Ran::Script(answer, result) => {
                    let reply = match (result, &error) {
                        (Err(e), _) => Err(StoreError::Database(e)),
                        (Ok(_), Some(e)) => Err(StoreError::Commit(e.clone())),
                        (Ok(rows), None) => Ok(rows),
                    };
                    let _ = answer.send(reply);
                }
                Ran::Append(answer, rows) => {
                    let reply = match (&mut accepted, &error) {
                        (_, Some(e)) => Err(StoreError::Commit(e.clone())),
                        (Err(e), None) => Err(StoreError::Commit(e.clone())),
                        (Ok(seqs), None) => Ok(seqs.by_ref().take(rows.len()).collect()),
                    };
                    let _ = answer.send(reply);
                }
            }
        }
    }
}

/// Ends a batch: inserts its inbox rows and commits, in one round trip when the rows fit in
/// one statement (beginning the transaction too when no script did). Returns the rows'
/// answers and the transaction's error, if any.
async fn close(
    conn: &mut SqliteConnection,
    rows: &[&InboxRow],
    begun: bool,
) -> (Result<Vec<Accepted>, String>, Option<String>) {
    if rows.len() > inbox::APPEND_CHUNK {
        if !begun && let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
            let reason = format!("transaction not started: {e}");
            return (Err(reason.clone()), Some(reason));
        }
        let appended = inbox::append(conn, rows).await.map_err(|e| e.to_string());
        return (appended, commit(conn).await);
    }
    // Markers tell how far the script went when it fails.
    let mut sql: QueryBuilder<'_, Sqlite> = QueryBuilder::new("");
    if !begun {
        sql.push("BEGIN IMMEDIATE; SELECT 1 AS byoc_step; ");
    }
    if !rows.is_empty() {
        inbox::push_append(&mut sql, rows);
        sql.push("SELECT 2 AS byoc_step; ");
    }
    sql.push("COMMIT");
    let mut returned = Vec::new();
    let mut steps = Vec::new();
    let mut failure = None;
    {
        let mut stream = sql.build().fetch(&mut *conn);
        while let Some(row) = stream.next().await {
            match row {
                Ok(row) => match row.try_get::<i64, _>("byoc_step") {
                    Ok(step) => steps.push(step),
                    Err(_) => returned.push(row),
                },
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
    }
    let Some(failure) = failure else {
        let appended = inbox::match_returned(rows, &returned).map_err(|e| e.to_string());
        return (appended, None);
    };
    if !begun && !steps.contains(&1) {
        let reason = format!("transaction not started: {failure}");
        return (Err(reason.clone()), Some(reason));
    }
    if !rows.is_empty() && !steps.contains(&2) {
        // The insert failed on its own: the rest of the transaction commits.
        return (Err(failure), commit(conn).await);
    }
    let _ = conn.execute("ROLLBACK").await;
    (Err(failure.clone()), Some(failure))
}

/// Commits; on failure rolls back and returns why.
async fn commit(conn: &mut SqliteConnection) -> Option<String> {
    match conn.execute("COMMIT").await {
        Ok(_) => None,
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            Some(e.to_string())
        }
    }
}
