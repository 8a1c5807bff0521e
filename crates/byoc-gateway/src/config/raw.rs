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
    MessagingApi {},
    Salesforce {},
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
