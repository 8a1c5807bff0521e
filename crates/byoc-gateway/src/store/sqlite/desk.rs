//! Agents' own routing settings: the queues they signed in to or out of, their capacity.

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::SqliteStore;
use super::rows::millis;
use super::writer::{Priority, Script};
use crate::store::StoreError;

pub(super) async fn queue_choices(
    store: &SqliteStore,
) -> Result<Vec<(String, String, bool)>, StoreError> {
    let rows =
        sqlx::query("SELECT agent_id, queue, joined FROM agent_queues ORDER BY agent_id, queue")
            .fetch_all(&store.reader)
            .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("agent_id")?,
                r.try_get("queue")?,
                r.try_get::<i64, _>("joined")? != 0,
            ))
        })
        .collect()
}

/// An agent signs in to or out of a queue; an urgent write (the agent waits).
pub(super) async fn set_queue(
    store: &SqliteStore,
    agent: &str,
    queue: &str,
    joined: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut script = Script::new();
    script
        .sql()
        .push("INSERT INTO agent_queues (agent_id, queue, joined, updated_at) VALUES (")
        .push_bind(agent.to_owned())
        .push(", ")
        .push_bind(queue.to_owned())
        .push(", ")
        .push_bind(i64::from(joined))
        .push(", ")
        .push_bind(millis(now))
        .push(
            ") ON CONFLICT (agent_id, queue) DO UPDATE SET joined = excluded.joined, \
             updated_at = excluded.updated_at; ",
        );
    store.write(Priority::Urgent, script, |_| Ok(())).await
}

pub(super) async fn capacities(store: &SqliteStore) -> Result<Vec<(String, u32)>, StoreError> {
    let rows = sqlx::query("SELECT agent_id, capacity FROM agent_capacity ORDER BY agent_id")
        .fetch_all(&store.reader)
        .await?;
    rows.iter()
        .map(|r| {
            let n: i64 = r.try_get("capacity")?;
            Ok((r.try_get("agent_id")?, u32::try_from(n).unwrap_or(0)))
        })
        .collect()
}

/// An agent's own capacity (`None`: back to the configuration); an urgent write.
pub(super) async fn set_capacity(
    store: &SqliteStore,
    agent: &str,
    capacity: Option<u32>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut script = Script::new();
    match capacity {
        Some(n) => {
            script
                .sql()
                .push("INSERT INTO agent_capacity (agent_id, capacity, updated_at) VALUES (")
                .push_bind(agent.to_owned())
                .push(", ")
                .push_bind(i64::from(n))
                .push(", ")
                .push_bind(millis(now))
                .push(
                    ") ON CONFLICT (agent_id) DO UPDATE SET capacity = excluded.capacity, \
                     updated_at = excluded.updated_at; ",
                );
        }
        None => {
            script
                .sql()
                .push("DELETE FROM agent_capacity WHERE agent_id = ")
                .push_bind(agent.to_owned())
                .push("; ");
        }
    }
    store.write(Priority::Urgent, script, |_| Ok(())).await
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::super::SqliteStore;
    use crate::store::Store;

    #[tokio::test]
    async fn queue_choices_and_capacities_are_stored_replaced_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("byoc.db");
        let store = SqliteStore::open(&path, 64).await.unwrap();
        let now = Utc::now();
        store
            .set_agent_queue("ann", "Sales", false, now)
            .await
            .unwrap();
        store
            .set_agent_queue("ann", "Billing", false, now)
            .await
            .unwrap();
        store
            .set_agent_queue("ann", "Billing", true, now)
            .await
            .unwrap();
        store.set_agent_capacity("ann", Some(4), now).await.unwrap();
        store.set_agent_capacity("bob", Some(2), now).await.unwrap();
        store.set_agent_capacity("ann", Some(6), now).await.unwrap();
        store.set_agent_capacity("bob", None, now).await.unwrap();
        drop(store);

        let store = SqliteStore::open(&path, 64).await.unwrap();
        assert_eq!(
            store.agent_queue_choices().await.unwrap(),
            vec![
                ("ann".to_owned(), "Billing".to_owned(), true),
                ("ann".to_owned(), "Sales".to_owned(), false),
            ]
        );
        assert_eq!(
            store.agent_capacities().await.unwrap(),
            vec![("ann".to_owned(), 6)]
        );
    }
}
