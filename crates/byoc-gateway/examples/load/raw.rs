//! The storage ceilings: the gateway's inbox rows for the generated callbacks, inserted
//! straight into SQLite (directly, and through sqlx for reference) with the gateway's
//! durability.

use std::time::Instant;

use byoc_gateway::{InboxEvent, Provider, normalize_payload};

use crate::{Callback, Figures, PHASE_LIMIT, load_average};

/// The inbox rows the gateway writes for these callbacks: the normalized activity as JSON.
pub(crate) fn rows(calls: &[Callback]) -> Vec<(String, String, String)> {
    calls
        .iter()
        .map(|c| {
            let a = normalize_payload(Provider::Telesign, c.body.as_bytes())
                .expect("normalize")
                .remove(0);
            let key = format!("sms:{}", a.conversation_id().unwrap_or_default());
            let id = a.id.clone().unwrap_or_default();
            let event = serde_json::to_string(&InboxEvent::Customer {
                activity: Box::new(a),
            })
            .expect("json");
            (id, key, event)
        })
        .collect()
}

/// The same rows inserted straight into SQLite (WAL, `synchronous = FULL`, as the
/// gateway's store), `per_tx` rows per transaction: one prepared statement executed per row
/// on the calling thread, as directly as the gateway's writer drives SQLite (the same
/// bundled library), so it is the ceiling of what the gateway's storage could do.
pub(crate) async fn raw_sqlite(rows: &[(String, String, String)], per_tx: usize) -> Figures {
    let rows = rows.to_vec();
    tokio::task::spawn_blocking(move || raw_sqlite_blocking(&rows, per_tx))
        .await
        .expect("raw inserts")
}

fn raw_sqlite_blocking(rows: &[(String, String, String)], per_tx: usize) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.db")).expect("sqlite");
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
    conn.execute_batch(
        "PRAGMA synchronous = FULL; \
         CREATE TABLE inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, dedupe_key TEXT, \
         conv_key TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL, processed_at INTEGER); \
         CREATE UNIQUE INDEX inbox_dedupe ON inbox (channel, dedupe_key) WHERE dedupe_key IS NOT NULL;",
    )
    .expect("table");
    let started = Instant::now();
    let mut done = 0;
    for chunk in rows.chunks(per_tx) {
        if started.elapsed() > PHASE_LIMIT {
            break;
        }
        let tx = conn.transaction().expect("begin");
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) VALUES ('sms', ?, ?, ?, ?) ON CONFLICT DO NOTHING")
                .expect("prepare");
            for (id, key, event) in chunk {
                insert
                    .execute(rusqlite::params![
                        id,
                        key,
                        event,
                        chrono::Utc::now().timestamp_millis()
                    ])
                    .expect("insert");
                done += 1;
            }
        }
        tx.commit().expect("commit");
    }
    Figures {
        rate: done as f64 / started.elapsed().as_secs_f64(),
        load: load_average(),
        ..Figures::default()
    }
}

/// The same inserts through sqlx (a statement per call into sqlx's database thread), `per_tx`
/// rows per transaction: the storage ceiling of the earlier figures, for comparison.
pub(crate) async fn raw_sqlx(rows: &[(String, String, String)], per_tx: usize) -> Figures {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("raw.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("sqlite");
    sqlx::raw_sql(
        "CREATE TABLE inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, dedupe_key TEXT, \
         conv_key TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL, processed_at INTEGER); \
         CREATE UNIQUE INDEX inbox_dedupe ON inbox (channel, dedupe_key) WHERE dedupe_key IS NOT NULL;",
    )
    .execute(&mut conn)
    .await
    .expect("table");
    let started = Instant::now();
    let mut done = 0;
    for chunk in rows.chunks(per_tx) {
        if started.elapsed() > PHASE_LIMIT {
            break;
        }
        let mut tx = conn.begin().await.expect("begin");
        for (id, key, event) in chunk {
            sqlx::query("INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) VALUES ('sms', ?, ?, ?, ?) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(key)
                .bind(event)
                .bind(chrono::Utc::now().timestamp_millis())
                .execute(&mut *tx)
                .await
                .expect("insert");
            done += 1;
        }
        tx.commit().await.expect("commit");
    }
    Figures {
        rate: done as f64 / started.elapsed().as_secs_f64(),
        load: load_average(),
        ..Figures::default()
    }
}
