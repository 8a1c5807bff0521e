//! The outbox: claims (leases, per lane only the lowest pending row), results, dead letters,
//! providers' delivery receipts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row as _;
use sqlx::sqlite::{Sqlite, SqliteRow};

use super::SqliteStore;
use super::rows::{CLAIMED_COLUMNS, claimed_from_row, from_millis, millis};
use super::writer::{Priority, Script};
use crate::store::{
    ClaimedOutbound, DeadLetter, Finished, OutboundRecord, OutboundResult, Receipt, StoreError,
};

fn lease_end(now_ms: i64, lease: Duration) -> i64 {
    now_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2))
}

/// Appends the statement claiming, for `owner` until `until`, the head (lowest pending row)
/// of each lane that `lanes` selects, when it is due and not leased. `lanes` pushes a
/// condition on `p.lane`.
pub(super) fn push_claim_heads(
    sql: &mut sqlx::QueryBuilder<'static, Sqlite>,
    owner: String,
    until: i64,
    now_ms: i64,
    lanes: impl FnOnce(&mut sqlx::QueryBuilder<'static, Sqlite>),
) {
    sql.push("UPDATE outbox SET lease_owner = ")
        .push_bind(owner)
        .push(", lease_expires_at = ")
        .push_bind(until)
        .push(" WHERE id IN (SELECT MIN(p.id) FROM outbox p WHERE p.status = 'pending' AND ");
    lanes(sql);
    sql.push(" GROUP BY p.lane) AND next_attempt_at <= ")
        .push_bind(now_ms)
        .push(" AND (lease_expires_at IS NULL OR lease_expires_at <= ")
        .push_bind(now_ms)
        .push(") RETURNING ")
        .push(CLAIMED_COLUMNS)
        .push("; ");
}

/// Decodes claimed rows, lowest id first.
pub(super) fn claimed(rows: &[SqliteRow]) -> Result<Vec<ClaimedOutbound>, StoreError> {
    let mut claimed = rows
        .iter()
        .map(claimed_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

pub(super) async fn claim(
    store: &SqliteStore,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
    limit: usize,
) -> Result<Vec<ClaimedOutbound>, StoreError> {
    let now_ms = millis(now);
    let mut script = Script::new();
    script
        .sql()
        .push("UPDATE outbox SET lease_owner = ")
        .push_bind(owner.to_owned())
        .push(", lease_expires_at = ")
        .push_bind(lease_end(now_ms, lease))
        .push(
            " WHERE id IN (SELECT o.id FROM outbox o \
             WHERE o.status = 'pending' AND o.next_attempt_at <= ",
        )
        .push_bind(now_ms)
        .push(" AND (o.lease_expires_at IS NULL OR o.lease_expires_at <= ")
        .push_bind(now_ms)
        .push(
            ") AND o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.lane = o.lane AND p.status = 'pending') \
             ORDER BY o.id LIMIT ",
        )
        .push_bind(i64::try_from(limit).unwrap_or(64))
        .push(") RETURNING ")
        .push(CLAIMED_COLUMNS)
        .push("; ");
    store
        .write(Priority::Background, script, |rows| claimed(&rows))
        .await
}

pub(super) async fn finish(
    store: &SqliteStore,
    id: i64,
    owner: &str,
    result: OutboundResult,
    now: DateTime<Utc>,
    claim_next: Option<Duration>,
) -> Result<Finished, StoreError> {
    let now_ms = millis(now);
    let mut script = Script::new();
    let sql = script.sql();
    match result {
        OutboundResult::Delivered(provider_id) => sql
            .push("UPDATE outbox SET status = 'delivered', provider_id = ")
            .push_bind(provider_id)
            .push(", finished_at = ")
            .push_bind(now_ms),
        OutboundResult::Retry { at, error } => sql
            .push("UPDATE outbox SET last_error = ")
            .push_bind(error)
            .push(", next_attempt_at = ")
            .push_bind(millis(at)),
        OutboundResult::Dead(reason) => sql
            .push("UPDATE outbox SET status = 'dead', last_error = ")
            .push_bind(reason)
            .push(", finished_at = ")
            .push_bind(now_ms),
    };
    sql.push(
        ", attempts = attempts + 1, lease_owner = NULL, lease_expires_at = NULL \
         WHERE status = 'pending' AND id = ",
    )
    .push_bind(id)
    .push(" AND lease_owner = ")
    .push_bind(owner.to_owned())
    .push(" RETURNING id AS finished; ");
    if let Some(lease) = claim_next {
        push_claim_heads(
            sql,
            owner.to_owned(),
            lease_end(now_ms, lease),
            now_ms,
            |sql| {
                sql.push("p.lane = (SELECT lane FROM outbox WHERE id = ")
                    .push_bind(id)
                    .push(")");
            },
        );
    }
    store
        .write(Priority::Background, script, |rows| {
            // The first statement returns the one-column `finished` row; the claim, full rows.
            let recorded = rows.iter().any(|r| r.len() == 1);
            let next = rows.iter().filter(|r| r.len() > 1).collect::<Vec<_>>();
            let next = match next.first() {
                Some(row) => Some(claimed_from_row(row)?),
                None => None,
            };
            Ok(Finished { recorded, next })
        })
        .await
}

pub(super) async fn next_due(store: &SqliteStore) -> Result<Option<DateTime<Utc>>, StoreError> {
    let row = sqlx::query(
        "SELECT MIN(CASE WHEN o.lease_expires_at IS NOT NULL AND o.lease_expires_at > o.next_attempt_at \
         THEN o.lease_expires_at ELSE o.next_attempt_at END) FROM outbox o WHERE o.status = 'pending' \
         AND o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.lane = o.lane AND p.status = 'pending')",
    )
    .fetch_one(&store.reader)
    .await?;
    Ok(row.try_get::<Option<i64>, _>(0)?.map(from_millis))
}

pub(super) async fn depth(store: &SqliteStore) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        .fetch_one(&store.reader)
        .await?;
    Ok(row.try_get(0)?)
}

pub(super) async fn dead_letters(
    store: &SqliteStore,
    limit: u32,
) -> Result<Vec<DeadLetter>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, conversation_id, target, attempts, last_error, finished_at FROM outbox \
         WHERE status = 'dead' ORDER BY finished_at DESC, id DESC LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeadLetter {
                id: r.try_get("id")?,
                conversation_id: r.try_get("conversation_id")?,
                target: r.try_get("target")?,
                attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(0),
                reason: r
                    .try_get::<Option<String>, _>("last_error")?
                    .unwrap_or_default(),
                dead_at: from_millis(r.try_get::<Option<i64>, _>("finished_at")?.unwrap_or(0)),
            })
        })
        .collect()
}

/// Puts a dead letter back at the head of its lane; an urgent write (an operator waits).
pub(super) async fn replay(
    store: &SqliteStore,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut script = Script::new();
    script
        .sql()
        .push("UPDATE outbox SET status = 'pending', attempts = 0, finished_at = NULL, next_attempt_at = ")
        .push_bind(millis(now))
        .push(" WHERE status = 'dead' AND id = ")
        .push_bind(id)
        .push(" RETURNING id; ");
    store
        .write(Priority::Urgent, script, |rows| Ok(!rows.is_empty()))
        .await
}

/// Records delivery receipts, one statement each, in one savepoint; an urgent write.
pub(super) async fn record_receipts(
    store: &SqliteStore,
    receipts: Vec<Receipt>,
) -> Result<(), StoreError> {
    if receipts.is_empty() {
        return Ok(());
    }
    let mut script = Script::new();
    let sql = script.sql();
    for r in receipts {
        sql.push("UPDATE outbox SET receipt = ")
            .push_bind(r.report.to_string())
            .push(", receipt_final = ")
            .push_bind(r.is_final)
            .push(" WHERE id = ")
            .push_bind(r.outbox_id)
            .push(" AND receipt_final = 0; ");
    }
    store.write(Priority::Urgent, script, |_| Ok(())).await
}

pub(super) async fn outbound_of(
    store: &SqliteStore,
    conversation_id: &str,
) -> Result<Vec<OutboundRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, target, status, attempts, provider_id, last_error, receipt, created_at, \
         finished_at FROM outbox WHERE conversation_id = ? ORDER BY id",
    )
    .bind(conversation_id)
    .fetch_all(&store.reader)
    .await?;
    rows.iter()
        .map(|r| {
            let receipt = r
                .try_get::<Option<String>, _>("receipt")?
                .map(|j| {
                    serde_json::from_str(&j).map_err(|_| StoreError::Corrupt("outbox.receipt"))
                })
                .transpose()?;
            Ok(OutboundRecord {
                id: r.try_get("id")?,
                target: r.try_get("target")?,
                status: r.try_get("status")?,
                attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(0),
                provider_id: r.try_get("provider_id")?,
                last_error: r.try_get("last_error")?,
                receipt,
                created_at: from_millis(r.try_get("created_at")?),
                finished_at: r.try_get::<Option<i64>, _>("finished_at")?.map(from_millis),
            })
        })
        .collect()
}
