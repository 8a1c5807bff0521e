//! The writer: every write runs on one thread that owns the write connection, and shares a
//! transaction with whatever other writes are queued (group commit); callers are answered
//! after the commit.
//!
//! - **SQLite on the writer's own thread.** The writer drives SQLite directly
//!   ([`rusqlite`], on the bundled library sqlx links too), so a transaction of any number
//!   of jobs runs without leaving the thread: no hand-off per statement to a database
//!   thread and back, where each one waited for a core. Statements are prepared once and
//!   kept (a cache sized for every shape of script).
//! - **One savepoint per job.** A job ([`Script`], or inbox rows with the statements that
//!   move with them) runs in a savepoint named `job`; a job that fails is rolled back to it
//!   and answered with its error; the other jobs of the transaction commit. The rows a
//!   script returns are decoded by the caller, after the commit.
//! - **Drain and cap.** The writer takes the first job, opens a transaction, then keeps
//!   taking whatever is queued until the queues are empty or the batch is full, and
//!   commits: one fsync for the whole batch.
//! - **Acknowledgements first.** Writes that someone waits on (a provider's webhook, an
//!   agent's request: [`Priority::Urgent`]) have their own queue, always drained before the
//!   background queue (processing steps, outbox claims and results, timers, pruning). While
//!   urgent writes keep coming (this transaction or the last one held some), a transaction
//!   takes at most [`BACKGROUND_SHARE`] of the cap in background jobs, so a webhook never
//!   waits behind a long run of processing writes.

use std::sync::Arc;
use std::time::Instant;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension as _, params, params_from_iter};
use tokio::sync::{mpsc, oneshot};

use super::SqliteStore;
use super::inbox::InboxRow;
use super::script::{Row, Script, Statement};
use crate::store::{Accepted, StoreError};

/// Jobs waiting for the writer, at most, per queue.
pub(super) const WRITE_QUEUE: usize = 4096;

/// While urgent writes keep coming, background jobs may fill at most this share of a
/// transaction (`max / BACKGROUND_SHARE`, at least one).
pub(super) const BACKGROUND_SHARE: usize = 64;

/// Prepared statements the write connection keeps: the scripts vary with what a step holds
/// (how many transcript entries, outbound rows, timers), and each shape stays prepared.
const STATEMENT_CACHE: usize = 1024;

/// One inbox row, skipped when its provider id was seen (no row returned then).
const INSERT_INBOX: &str = "INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) \
     VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq";

/// Which queue a write waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Priority {
    /// Someone waits for the answer: a provider's webhook, an agent's request.
    Urgent,
    /// Processing, the outbox, timers, housekeeping.
    Background,
}

type Answer<T> = oneshot::Sender<Result<T, StoreError>>;

/// A job and where to send what it returned.
enum Job {
    /// A script; answers the rows it returned.
    Script {
        statements: Vec<Statement>,
        answer: Answer<Vec<Row>>,
    },
    /// Inbox rows (deduplicated by provider id), then the statements that move with them;
    /// answers per row.
    Append {
        rows: Vec<InboxRow>,
        also: Vec<Statement>,
        answer: Answer<Vec<Accepted>>,
    },
}

impl Job {
    /// Answers a job that did not run with the transaction's error.
    fn refuse(self, reason: &str) {
        match self {
            Self::Script { answer, .. } => {
                let _ = answer.send(Err(StoreError::Commit(reason.to_owned())));
            }
            Self::Append { answer, .. } => {
                let _ = answer.send(Err(StoreError::Commit(reason.to_owned())));
            }
        }
    }
}

/// The writer's two queues.
#[derive(Clone, Debug)]
pub(super) struct Queues {
    urgent: mpsc::Sender<Job>,
    background: mpsc::Sender<Job>,
}

impl SqliteStore {
    async fn enqueue(&self, priority: Priority, job: Job) -> Result<(), StoreError> {
        let queue = match priority {
            Priority::Urgent => &self.writer.urgent,
            Priority::Background => &self.writer.background,
        };
        queue.send(job).await.map_err(|_| StoreError::Closed)
    }

    /// Runs one script in the writer's next transaction and answers, after the commit,
    /// with what `decode` makes of the rows it returned.
    pub(super) async fn write<T>(
        &self,
        priority: Priority,
        script: Script,
        decode: impl FnOnce(Vec<Row>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (answer, rx) = oneshot::channel();
        let statements = script.finish();
        self.enqueue(priority, Job::Script { statements, answer })
            .await?;
        decode(rx.await.map_err(|_| StoreError::Closed)??)
    }

    /// Appends inbox rows, then runs `also` (statements that must move with them), in the
    /// writer's next transaction (an urgent write); answers after the commit, per row.
    pub(super) async fn append(
        &self,
        rows: Vec<InboxRow>,
        also: Script,
    ) -> Result<Vec<Accepted>, StoreError> {
        let (answer, rx) = oneshot::channel();
        let also = also.finish();
        self.enqueue(Priority::Urgent, Job::Append { rows, also, answer })
            .await?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// Starts the writer thread on `conn`; at most `max` jobs share a transaction.
pub(super) fn spawn(conn: Connection, max: usize) -> Queues {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let (urgent, urgent_rx) = mpsc::channel(WRITE_QUEUE);
    let (background, background_rx) = mpsc::channel(WRITE_QUEUE);
    let writer = run(conn, urgent_rx, background_rx, max.max(1));
    // A thread of its own: the writer blocks in SQLite (and its fsync) for every batch, and
    // on the gateway's busy runtime it would hold a worker and queue behind request handling.
    // Its runtime only waits for the first job of a batch.
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

/// Why a job failed, and whether the transaction went with it.
struct Failure {
    reason: String,
    lost: bool,
}

/// A job that ran, waiting for the end of its transaction.
enum Ran {
    Script(Answer<Vec<Row>>, Result<Vec<Row>, Failure>),
    Append(Answer<Vec<Accepted>>, Result<Vec<Accepted>, Failure>),
}

impl Ran {
    /// Why the transaction is lost, when this job's failure took it.
    fn lost(&self) -> Option<&str> {
        let failure = match self {
            Self::Script(_, Err(f)) | Self::Append(_, Err(f)) => f,
            _ => return None,
        };
        failure.lost.then_some(failure.reason.as_str())
    }

    /// Answers the caller: its own failure, else the transaction's, else what it returned.
    fn answer(self, error: Option<&str>) {
        fn reply<T>(result: Result<T, Failure>, error: Option<&str>) -> Result<T, StoreError> {
            match (result, error) {
                (Err(f), _) => Err(StoreError::Sqlite(f.reason)),
                (Ok(_), Some(e)) => Err(StoreError::Commit(e.to_owned())),
                (Ok(done), None) => Ok(done),
            }
        }
        match self {
            Self::Script(answer, result) => {
                let _ = answer.send(reply(result, error));
            }
            Self::Append(answer, result) => {
                let _ = answer.send(reply(result, error));
            }
        }
    }
}

async fn run(
    conn: Connection,
    mut urgent: mpsc::Receiver<Job>,
    mut background: mpsc::Receiver<Job>,
    max: usize,
) {
    let background_share = (max / BACKGROUND_SHARE).max(1);
    // Whether the last transaction held urgent writes: while they keep coming, the cap holds
    // even for a transaction that begins with background jobs (the urgent queue was empty
    // for a moment), so a burst of webhooks keeps the writer, and the processing that waits
    // on it, to its share.
    let mut urgent_flowing = false;
    let mut ran: Vec<Ran> = Vec::with_capacity(max);
    loop {
        let first = tokio::select! {
            biased;
            Some(job) = urgent.recv() => (job, Priority::Urgent),
            Some(job) = background.recv() => (job, Priority::Background),
            else => return,
        };
        let started = Instant::now();
        let (mut urgent_n, mut background_n) = (0usize, 0usize);
        if let Err(e) = execute(&conn, "BEGIN IMMEDIATE") {
            first.0.refuse(&format!("transaction not started: {e}"));
            continue;
        }
        let mut error: Option<String> = None;
        let mut next = Some(first);
        while let Some((job, priority)) = next.take() {
            match priority {
                Priority::Urgent => urgent_n += 1,
                Priority::Background => background_n += 1,
            }
            let done = run_job(&conn, job);
            if let Some(reason) = done.lost() {
                error = Some(format!(
                    "the transaction was lost after a failed write: {reason}"
                ));
                ran.push(done);
                break;
            }
            ran.push(done);
            if urgent_n + background_n >= max {
                break;
            }
            next = match urgent.try_recv() {
                Ok(job) => Some((job, Priority::Urgent)),
                Err(_) if (urgent_n > 0 || urgent_flowing) && background_n >= background_share => {
                    None
                }
                Err(_) => background
                    .try_recv()
                    .ok()
                    .map(|job| (job, Priority::Background)),
            };
        }
        if error.is_some() {
            let _ = execute(&conn, "ROLLBACK");
        } else if let Err(e) = execute(&conn, "COMMIT") {
            let _ = execute(&conn, "ROLLBACK");
            error = Some(e.to_string());
        }
        urgent_flowing = urgent_n > 0;
        metrics::histogram!(crate::metrics::GROUP_COMMIT_SIZE)
            .record((urgent_n + background_n) as f64);
        metrics::histogram!(crate::metrics::GROUP_COMMIT_SECONDS)
            .record(started.elapsed().as_secs_f64());
        for job in ran.drain(..) {
            job.answer(error.as_deref());
        }
    }
}

/// Runs one job in its own savepoint.
fn run_job(conn: &Connection, job: Job) -> Ran {
    match job {
        Job::Script { statements, answer } => Ran::Script(
            answer,
            in_savepoint(conn, |conn| run_statements(conn, &statements)),
        ),
        Job::Append { rows, also, answer } => Ran::Append(
            answer,
            in_savepoint(conn, |conn| {
                let accepted = append(conn, &rows)?;
                run_statements(conn, &also)?;
                Ok(accepted)
            }),
        ),
    }
}

fn in_savepoint<T>(
    conn: &Connection,
    job: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> Result<T, Failure> {
    if let Err(e) = execute(conn, "SAVEPOINT job") {
        return Err(Failure {
            reason: format!("savepoint not opened: {e}"),
            lost: true,
        });
    }
    match job(conn) {
        Ok(done) => match execute(conn, "RELEASE job") {
            Ok(()) => Ok(done),
            Err(e) => Err(Failure {
                reason: format!("savepoint not released: {e}"),
                lost: true,
            }),
        },
        Err(e) => {
            // Undo the failed job alone; if its savepoint is gone, so is the transaction.
            let undone =
                execute(conn, "ROLLBACK TO job").and_then(|()| execute(conn, "RELEASE job"));
            Err(Failure {
                reason: e.to_string(),
                lost: undone.is_err(),
            })
        }
    }
}

/// A statement without values or rows, prepared once.
fn execute(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs a script's statements in order; returns the rows they returned.
fn run_statements(conn: &Connection, statements: &[Statement]) -> rusqlite::Result<Vec<Row>> {
    let mut returned = Vec::new();
    for s in statements {
        let mut stmt = conn.prepare_cached(&s.sql)?;
        let n = stmt.column_count();
        if n == 0 {
            stmt.execute(params_from_iter(&s.params))?;
            continue;
        }
        let columns: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.query(params_from_iter(&s.params))?;
        while let Some(row) = rows.next()? {
            let values = (0..n)
                .map(|i| row.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            returned.push(Row {
                columns: Arc::clone(&columns),
                values,
            });
        }
    }
    Ok(returned)
}

/// Inserts inbox rows, one prepared statement each: a row whose provider id was stored
/// already (before, or earlier in the same call) is a duplicate.
fn append(conn: &Connection, rows: &[InboxRow]) -> rusqlite::Result<Vec<Accepted>> {
    let mut insert = conn.prepare_cached(INSERT_INBOX)?;
    rows.iter()
        .map(|r| {
            let seq = insert
                .query_row(
                    params![r.channel, r.dedupe_key, r.conv_key, r.event, r.received_at],
                    |row| row.get::<_, i64>(0),
                )
                .optional()?;
            Ok(seq.map_or(Accepted::Duplicate, Accepted::New))
        })
        .collect()
}
