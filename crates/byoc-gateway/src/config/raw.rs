//! The shape of `byoc.toml` as written, before validation.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A secret written inline (`"..."`) or read from an environment variable (`{ env = "NAME" }`).
#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawSecret {
    Env { env: String },
    Inline(String),
}

impl std::fmt::Debug for RawSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env { env } => f.debug_struct("Env").field("env", env).finish(),
            Self::Inline(_) => f.write_str("Inline([redacted])"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub(crate) server: RawServer,
    pub(crate) store: Option<RawStore>,
    #[serde(default)]
    pub(crate) admin: Option<RawAdmin>,
    #[serde(default)]
    pub(crate) outbox: RawOutbox,
    #[serde(default)]
    pub(crate) channels: BTreeMap<String, RawChannel>,
    #[serde(default)]
    pub(crate) bots: BTreeMap<String, RawBot>,
    #[serde(default)]
    pub(crate) workstreams: Vec<RawWorkstream>,
    #[serde(default)]
    pub(crate) agents: Vec<RawAgent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub(crate) listen: Option<String>,
    pub(crate) max_body_bytes: Option<usize>,
    pub(crate) dedupe_retention: Option<String>,
    pub(crate) session_ttl: Option<String>,
    pub(crate) max_conversation_workers: Option<usize>,
    pub(crate) processing_threads: Option<usize>,
    pub(crate) processing_priority: Option<String>,
    pub(crate) processing_yield_at: Option<usize>,
    pub(crate) max_inbox_backlog: Option<u64>,
    pub(crate) shutdown_grace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    pub(crate) sqlite: Option<String>,
    pub(crate) postgres: Option<RawSecret>,
    pub(crate) group_commit_max: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    pub(crate) token: RawSecret,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutbox {
    pub(crate) max_attempts: Option<u32>,
    pub(crate) base_delay: Option<String>,
    pub(crate) max_delay: Option<String>,
    pub(crate) lease: Option<String>,
    pub(crate) concurrency: Option<usize>,
    pub(crate) retry_budget_percent: Option<f32>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawChannel {
    Telesign {
        customer_id: String,
        api_key: RawSecret,
        base_url: Option<String>,
        sender_id: Option<String>,
        #[serde(default)]
        previous_api_keys: Vec<RawSecret>,
    },
    Connector {
        app_id: String,
        app_password: RawSecret,
        login_base_url: Option<String>,
        openid_metadata_url: Option<String>,
        issuer: Option<String>,
        tenant: Option<String>,
        #[serde(default)]
        trusted_service_urls: Vec<String>,
    },
    MessagingApi(Box<RawMessagingApi>),
    Salesforce(Box<RawSalesforce>),
}

/// `kind = "messaging-api"`: Dynamics 365 Omnichannel through the Messaging API.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMessagingApi {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: RawSecret,
    pub(crate) org_id: String,
    pub(crate) channel_id: Option<String>,
    pub(crate) geo: Option<String>,
    pub(crate) zone: String,
    pub(crate) base_url: Option<String>,
    pub(crate) authority: Option<String>,
    pub(crate) dataverse_url: Option<String>,
    pub(crate) webhook_url: Option<String>,
    pub(crate) record_name: Option<String>,
    #[serde(default)]
    pub(crate) webhook_audiences: Vec<String>,
}

/// `kind = "salesforce"`: the Salesforce Interaction Service (BYOC).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSalesforce {
    pub(crate) consumer_key: String,
    pub(crate) username: String,
    pub(crate) private_key: RawSecret,
    pub(crate) org_id: String,
    pub(crate) scrt_url: String,
    pub(crate) channel_address: String,
    pub(crate) channel_definition: String,
    pub(crate) platform_event: String,
    #[serde(default)]
    pub(crate) event_type_field: String,
    pub(crate) payload_field: String,
    pub(crate) login_url: Option<String>,
    pub(crate) instance_url: Option<String>,
    pub(crate) pubsub_url: Option<String>,
    pub(crate) replay_start: Option<String>,
    pub(crate) routing_deadline: Option<String>,
    pub(crate) reconnect_delay: Option<String>,
    #[serde(default)]
    pub(crate) queues: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBot {
    pub(crate) directline_url: Option<String>,
    pub(crate) secret: RawSecret,
    pub(crate) poll_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkstream {
    pub(crate) file: Option<String>,
    pub(crate) definition: Option<toml::Value>,
    pub(crate) contact_center: Option<String>,
    pub(crate) platform: Option<String>,
    pub(crate) bot_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) password_hash: Option<String>,
    pub(crate) password: Option<RawSecret>,
}
