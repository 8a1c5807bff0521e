//! Conversions between stored rows and values.

use byoc_core::Activity;
use byoc_core::workstream::Presence;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::Row as _;

use crate::model::Target;
use crate::store::{BotSession, ClaimedOutbound, StoreError};

pub(super) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(super) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(super) fn to_json<T: serde::Serialize>(
    value: &T,
    what: &'static str,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError::Serialize(what))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt(what))
}

pub(super) fn state_name(state: byoc_core::ConversationState) -> &'static str {
    use byoc_core::ConversationState as S;
    match state {
        S::Open => "open",
        S::Active => "active",
        S::Waiting => "waiting",
        S::WrapUp => "wrap_up",
        S::Closed => "closed",
    }
}

pub(super) fn presence_name(p: Presence) -> &'static str {
    match p {
        Presence::Available => "available",
        Presence::Busy => "busy",
        Presence::DoNotDisturb => "do_not_disturb",
        Presence::Away => "away",
        Presence::Offline => "offline",
    }
}

pub(super) fn parse_presence(s: &str) -> Presence {
    match s {
        "available" => Presence::Available,
        "busy" => Presence::Busy,
        "do_not_disturb" => Presence::DoNotDisturb,
        "away" => Presence::Away,
        _ => Presence::Offline,
    }
}

/// The columns [`claimed_from_row`] reads, for a `RETURNING` or `SELECT` clause.
pub(super) const CLAIMED_COLUMNS: &str =
    "id, conversation_id, target, activity, attempts, created_at, lease_expires_at";

pub(super) fn claimed_from_row(
    row: &sqlx::sqlite::SqliteRow,
) -> Result<ClaimedOutbound, StoreError> {
    let target: String = row.try_get("target")?;
    let activity: String = row.try_get("activity")?;
    Ok(ClaimedOutbound {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        target: Target::from_stored(&target).ok_or(StoreError::Corrupt("outbox.target"))?,
        activity: Activity::from_json(&activity)
            .map_err(|_| StoreError::Corrupt("outbox.activity"))?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(0),
        created_at: from_millis(row.try_get("created_at")?),
        leased_until: from_millis(
            row.try_get::<Option<i64>, _>("lease_expires_at")?
                .unwrap_or_default(),
        ),
    })
}

pub(super) fn bot_session_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<BotSession, StoreError> {
    Ok(BotSession {
        conversation_id: r.try_get("conversation_id")?,
        bot_id: r.try_get("bot_id")?,
        conv_key: r.try_get("conv_key")?,
        dl_conversation_id: r.try_get("dl_conversation_id")?,
        watermark: r.try_get("watermark")?,
    })
}
