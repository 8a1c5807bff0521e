//! What the Messaging API simulator remembers: tokens, channel records, conversations and
//! webhook deliveries.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::time::Instant;

/// A channel record (`msdyn_occustommessagingchannel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelRecord {
    /// `msdyn_occustommessagingchannelid`.
    pub id: String,
    /// `msdyn_occustomchannelid`.
    pub channel_type: i64,
    /// `msdyn_name`.
    pub name: String,
    /// `msdyn_appid`.
    pub app_id: String,
    /// `msdyn_tenantid`.
    pub tenant_id: String,
    /// `msdyn_webhookurl`.
    pub webhook_url: String,
}

impl ChannelRecord {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "@odata.etag": "W/\"1\"",
            "msdyn_occustommessagingchannelid": self.id,
            "msdyn_occustomchannelid": self.channel_type,
            "msdyn_name": self.name,
            "msdyn_appid": self.app_id,
            "msdyn_tenantid": self.tenant_id,
            "msdyn_webhookurl": self.webhook_url,
        })
    }
}

/// A conversation's status reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum SimState {
    /// In the queue.
    Open,
    /// With a representative.
    Active,
    /// Paused.
    Waiting,
    /// Ended by the representative, being wrapped up.
    WrapUp,
    /// Finished.
    Closed,
}

impl SimState {
    /// Whether the conversation is listed by `GET /conversations` and accepts messages.
    #[must_use]
    pub fn is_active(self) -> bool {
        matches!(self, Self::Open | Self::Active | Self::Waiting)
    }
}

/// One stored message (customer or agent side).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimMessage {
    /// `messageId`.
    pub message_id: String,
    /// When stored (unique per conversation, strictly increasing).
    pub timestamp: DateTime<Utc>,
    /// `customer` or `agent`.
    pub side: &'static str,
    /// The activity as received or delivered.
    pub activity: serde_json::Value,
}

/// A conversation in the simulator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimConversation {
    /// Its id.
    pub id: String,
    /// The custom channel it belongs to.
    pub channel_id: String,
    /// `customercontext.customerid`.
    pub customer_id: Option<String>,
    /// `conversationrequestid`.
    pub request_id: Option<String>,
    /// The create request's `customercontext`.
    pub customer: serde_json::Value,
    /// Context variables, in name order.
    pub context: BTreeMap<String, serde_json::Value>,
    /// `skipdeflectionbot`.
    pub skip_deflection_bot: bool,
    /// Current state.
    pub state: SimState,
    /// When created.
    pub created: DateTime<Utc>,
    /// Transcript.
    pub messages: Vec<SimMessage>,
}

/// One webhook delivery (all its attempts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// The conversation.
    pub conversation_id: String,
    /// The URL posted to.
    pub url: String,
    /// HTTP status of each attempt (`None`: no answer in time or connection error).
    pub attempts: Vec<Option<u16>>,
    /// Whether an attempt got a 2xx.
    pub delivered: bool,
    /// The exact body posted on every attempt.
    pub body: String,
}

pub(crate) struct IssuedToken {
    pub(crate) scope: String,
    pub(crate) expires: Instant,
}

/// One request the simulator served (method, path, and which auth headers came).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The `channel-id` or `x-ms-channel-id` value.
    pub channel_id: Option<String>,
    /// Whether the legacy `x-ms-*` header names were used.
    pub legacy_headers: bool,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) tokens: HashMap<String, IssuedToken>,
    pub(crate) token_requests: usize,
    pub(crate) channels: BTreeMap<String, ChannelRecord>,
    pub(crate) conversations: HashMap<String, SimConversation>,
    pub(crate) order: Vec<String>,
    pub(crate) deliveries: Vec<DeliveryReport>,
    pub(crate) requests: Vec<RecordedRequest>,
    last_ms: i64,
    last_ts: Option<DateTime<Utc>>,
}

impl State {
    /// A 13-digit epoch-millisecond message id, strictly increasing.
    pub(crate) fn next_message_id(&mut self) -> String {
        let now = Utc::now().timestamp_millis();
        self.last_ms = now.max(self.last_ms + 1);
        self.last_ms.to_string()
    }

    /// A strictly increasing timestamp (100 ns apart at least).
    pub(crate) fn next_timestamp(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let ts = match self.last_ts {
            Some(last) if now <= last => last + chrono::Duration::nanoseconds(100),
            _ => now,
        };
        self.last_ts = Some(ts);
        ts
    }

    pub(crate) fn issue_token(&mut self, scope: String, lifetime: Duration) -> String {
        let token = format!("sim-at-{}", uuid::Uuid::new_v4().simple());
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                scope,
                expires: Instant::now() + lifetime,
            },
        );
        token
    }
}

/// RFC 3339 with 7 fractional digits and `+00:00`, as the Messaging API writes them.
#[must_use]
pub fn format_ts(ts: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}+00:00",
        ts.format("%Y-%m-%dT%H:%M:%S"),
        ts.timestamp_subsec_nanos() / 100
    )
}
