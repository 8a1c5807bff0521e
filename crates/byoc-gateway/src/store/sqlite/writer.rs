//! The writer task: every write runs here, batched into one transaction per turn (group
//! commit); callers are answered after the commit.

use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use super::SqliteStore;
use crate::store::StoreError;

/// Jobs waiting for the writer, at most.
pub(super) const WRITE_QUEUE: usize = 4096;

pub(super) type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
pub(super) type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

impl SqliteStore {
    /// Runs one write job in the writer's next transaction; answers after the commit.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = f(conn).await;
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |commit_error| {
                    let answer = match (result, commit_error) {
                        (Ok(v), None) => Ok(v),
                        (Ok(_), Some(e)) => Err(StoreError::Commit(e.to_owned())),
                        (Err(e), _) => Err(e),
                    };
                    let _ = tx.send(answer);
                });
                (ok, finish)
            })
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// How long the writer isolates each job in a savepoint after a batch failed.
const ISOLATE_AFTER_FAILURE: Duration = Duration::from_secs(1);

pub(super) async fn writer(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>, max: usize) {
    let mut batch = Vec::with_capacity(max);
    // Fast path: the batch's jobs run back to back in one transaction; a failing job rolls
    // the whole batch back and every caller gets a retryable error. After such a failure,
    // jobs run in savepoints for a while, so a job that keeps failing fails alone.
    let mut isolate_until: Option<tokio::time::Instant> = None;
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!(crate::metrics::GROUP_COMMIT_SIZE).record(batch.len() as f64);
        let isolate = isolate_until.is_some_and(|t| tokio::time::Instant::now() < t);
        let mut finishes = Vec::with_capacity(batch.len());
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await {
            let msg = e.to_string();
            for job in batch.drain(..) {
                let (_, finish) = job(&mut conn).await;
                finish(Some(&msg));
            }
            continue;
        }
        let mut failed = false;
        for job in batch.drain(..) {
            if failed {
                // The transaction is rolled back below; do not run more work in it.
                let (_, finish) = job(&mut conn).await;
                finishes.push(finish);
                continue;
            }
            if isolate {
                let _ = sqlx::query("SAVEPOINT job").execute(&mut conn).await;
            }
            let (ok, finish) = job(&mut conn).await;
            if isolate {
                let end = if ok { "RELEASE job" } else { "ROLLBACK TO job" };
                let _ = sqlx::query(end).execute(&mut conn).await;
                if !ok {
                    let _ = sqlx::query("RELEASE job").execute(&mut conn).await;
                }
            } else if !ok {
                failed = true;
            }
            finishes.push(finish);
        }
        let error = if failed {
            let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
            isolate_until = Some(tokio::time::Instant::now() + ISOLATE_AFTER_FAILURE);
            Some("a write in the same batch failed; the batch was rolled back".to_owned())
        } else {
            let committed = sqlx::query("COMMIT").execute(&mut conn).await;
            let error = committed.err().map(|e| e.to_string());
            if error.is_some() {
                let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
            }
            error
        };
        for finish in finishes {
            finish(error.as_deref());
        }
    }
}
