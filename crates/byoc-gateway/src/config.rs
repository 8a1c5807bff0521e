//! `byoc.toml`: channels and their credentials, bots, workstreams with their contact center,
//! agents, the store, the outbox. Loaded and validated in one step; every [`ConfigError`]
//! names the file, the field (a dotted path) and the reason.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//!
//! [store]
//! sqlite = "byoc.db"                     # relative to this file
//!
//! [admin]
//! token = { env = "BYOC_ADMIN_TOKEN" }   # secrets: inline "..." or { env = "NAME" }
//!
//! [channels.sms]                         # webhook: POST /webhooks/sms
//! kind = "telesign"
//! customer_id = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890"
//! api_key = { env = "TELESIGN_API_KEY" }
//!
//! [bots.helper]                          # a queue member { id = "helper", kind = "bot" }
//! directline_url = "https://directline.botframework.com/v3/directline"
//! secret = { env = "DIRECTLINE_SECRET" }
//!
//! [[workstreams]]
//! file = "support.toml"                  # a byoc workstream (TOML or JSON); or inline:
//! contact_center = "byoc"                # [workstreams.definition] ...
//! bot_timeout = "30s"
//!
//! [channels.d365]                        # Dynamics 365 Omnichannel, Messaging API
//! kind = "messaging-api"                 # webhook: /webhooks/d365/v3/conversations/{id}/activities
//! tenant_id = "7d1f3a5c-..."             # the Entra app Omnichannel authenticates as
//! client_id = "3f2504e0-..."
//! client_secret = { env = "D365_CLIENT_SECRET" }
//! org_id = "1a2b3c4d-..."
//! geo = "eu"                             # m-{org}.{geo}.omnichannelengagementhub.com
//! zone = "crm4"                          # https://{org}-c.{zone}.dynamics.com/.default
//! channel_id = "5c3e1a9f-..."            # printed by `byoc channel register`
//! dataverse_url = "https://contoso.crm4.dynamics.com"   # for `byoc channel register`
//! webhook_url = "https://byoc.contoso.com/webhooks/d365"
//!
//! [channels.sf]                          # Salesforce Interaction Service (BYOC)
//! kind = "salesforce"
//! consumer_key = "3MVG9..."              # the connected app, JWT bearer flow
//! username = "integration@contoso.com"
//! private_key = { env = "SF_PRIVATE_KEY" }
//! org_id = "00D5g000004Zx1A"
//! scrt_url = "https://contoso.my.salesforce-scrt.com"
//! instance_url = "https://contoso.my.salesforce.com"
//! channel_address = "b7e1c2d3-..."       # MessagingChannel ChannelAddressIdentifier
//! channel_definition = "Partner_ChannelDefinition"
//! platform_event = "ns__ConvEvent__e"
//! event_type_field = "ns__EventType__c"
//! payload_field = "ns__Payload__c"
//! routing_deadline = "60s"               # salesforce-ccaas: byoc answers routing within it
//! queues = { Support = "00G5g000000SuPpA" }   # byoc queue -> Salesforce queue id
//!
//! # A relayed workstream names its platform entry:
//! # contact_center = "omnichannel"        platform = "d365"   ([channels.d365] kind = "messaging-api")
//! # contact_center = "omnichannel-bot"    platform = "ocbot"  ([bots.ocbot])
//! # contact_center = "salesforce"         platform = "sf"     ([channels.sf] kind = "salesforce")
//! # contact_center = "salesforce-ccaas"   platform = "sf"     (byoc routes; members are Salesforce user ids)
//!
//! [[agents]]
//! id = "alice"
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$..."   # or password = { env = "..." }
//! ```

mod platform;
mod raw;
#[cfg(test)]
mod tests;
mod validate;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use byoc_core::Secret;
use byoc_core::workstream::Workstream;

use raw::RawConfig;

use crate::processing::ProcessingPriority;

pub use platform::{MessagingApiSettings, ReplayFrom, SalesforceSettings};

/// A configuration that cannot be used: the file, the field at fault and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: `{field}`: {reason}", file.display())]
#[non_exhaustive]
pub struct ConfigError {
    /// The file at fault (`byoc.toml`, or a workstream file it names).
    pub file: PathBuf,
    /// The field, as a dotted path (`channels.sms.api_key`).
    pub field: String,
    /// What is wrong. Never contains a secret.
    pub reason: String,
}

impl ConfigError {
    fn new(file: &Path, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The validated gateway configuration.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The file it was read from (for messages).
    pub file: PathBuf,
    /// HTTP server settings.
    pub server: ServerSettings,
    /// Where conversations, the outbox and everything else are kept.
    pub store: StoreSettings,
    /// The admin API token (`/api/admin/...`); without one the admin API refuses every call.
    pub admin_token: Option<Secret>,
    /// Outbox delivery settings.
    pub outbox: OutboxSettings,
    /// Customer channels, by name (the webhook path segment and the conversations'
    /// channel id).
    pub channels: Vec<ChannelConfig>,
    /// Bots reached through Direct Line, by queue member id.
    pub bots: Vec<BotConfig>,
    /// Workstreams, one per channel.
    pub workstreams: Vec<WorkstreamConfig>,
    /// Human agents who may sign in to the agent API.
    pub agents: Vec<AgentConfig>,
}

/// `[server]`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerSettings {
    /// Listen address. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Largest webhook or API body. Default 256 KiB.
    pub max_body_bytes: usize,
    /// How long a provider message id is remembered to drop redeliveries. Default 7 days
    /// (longer than any provider's retry window).
    pub dedupe_retention: Duration,
    /// How long an agent session lasts. Default 8 hours.
    pub session_ttl: Duration,
    /// Conversations processed at once. Default 256.
    pub max_conversation_workers: usize,
    /// Threads processing runs on (the engine's steps, outbox deliveries, timers, routing).
    /// Default: the machine's cores.
    pub processing_threads: usize,
    /// How processing threads are scheduled against the webhooks'. Default
    /// [`ProcessingPriority::Low`]: ingest first.
    pub processing_priority: ProcessingPriority,
    /// Customer webhooks handled at once from which processing yields to them: from the
    /// moment this many are in flight until 2 ms pass without that, conversation workers
    /// wait before each step (one at a time, at most 20 ms each). Default 4; `0` never
    /// yields.
    pub processing_yield_at: usize,
    /// Inbound events waiting for processing, at most; past it webhooks are answered `503`
    /// with `Retry-After` (the provider delivers again later). Default 100 000.
    pub max_inbox_backlog: u64,
    /// How long shutdown waits for in-flight work. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 256 * 1024,
            dedupe_retention: Duration::from_secs(7 * 24 * 3600),
            session_ttl: Duration::from_secs(8 * 3600),
            max_conversation_workers: 256,
            processing_threads: std::thread::available_parallelism().map_or(2, usize::from),
            processing_priority: ProcessingPriority::Low,
            processing_yield_at: 4,
            max_inbox_backlog: 100_000,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// `[store]`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StoreSettings {
    /// The SQLite database file.
    pub sqlite: PathBuf,
    /// Most writes committed in one transaction by the group commit. Default 256.
    pub group_commit_max: usize,
}

/// `[outbox]`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OutboxSettings {
    /// Attempts before a retryable failure is dead-lettered. Default 10.
    pub max_attempts: u32,
    /// First retry delay (doubled per attempt, with jitter). Default 500 ms.
    pub base_delay: Duration,
    /// Longest retry delay. Default 5 minutes.
    pub max_delay: Duration,
    /// How long a claimed message stays leased to a worker. Default 60 s.
    pub lease: Duration,
    /// Deliveries in flight at once. Default 64.
    pub concurrency: usize,
    /// Retries allowed on top of first attempts, in percent of recent first attempts
    /// (tower's retry budget). Default 20.
    pub retry_budget_percent: f32,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(300),
            lease: Duration::from_secs(60),
            concurrency: 64,
            retry_budget_percent: 20.0,
        }
    }
}

/// One customer channel.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ChannelConfig {
    /// Its name: `/webhooks/{name}` and the conversations' channel id.
    pub name: String,
    /// The provider and its credentials.
    pub kind: ChannelKind,
}

/// A channel's provider and credentials.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ChannelKind {
    /// TeleSign SMS.
    Telesign {
        /// Customer id.
        customer_id: String,
        /// API key.
        api_key: Secret,
        /// REST base URL; the adapter's default when absent.
        base_url: Option<String>,
        /// Sender id for outbound SMS.
        sender_id: Option<String>,
        /// Keys still accepted on callbacks during a rotation.
        previous_api_keys: Vec<Secret>,
    },
    /// Bot Framework channels (Teams, Telegram, Web Chat, ...) posting to the gateway as a
    /// bot's messaging endpoint.
    Connector {
        /// The Microsoft App ID.
        app_id: String,
        /// The app password.
        app_password: Secret,
        /// Token authority base, OpenID metadata URL and issuer; Azure's when absent.
        authority: Option<(String, String, String)>,
        /// Tenant for tokens.
        tenant: Option<String>,
        /// Service URL patterns trusted before any activity arrived.
        trusted_service_urls: Vec<String>,
    },
    /// Dynamics 365 Omnichannel through the Messaging API: a contact center a workstream
    /// relays to (`contact_center = "omnichannel"`), not a customer channel.
    MessagingApi(Box<MessagingApiSettings>),
    /// The Salesforce Interaction Service: a contact center a workstream relays to
    /// (`contact_center = "salesforce"` or `"salesforce-ccaas"`), not a customer channel.
    Salesforce(Box<SalesforceSettings>),
}

impl ChannelKind {
    /// The provider's name (`telesign`, `connector`, `messaging-api`, `salesforce`).
    #[must_use]
    pub fn provider(&self) -> &'static str {
        match self {
            Self::Telesign { .. } => "telesign",
            Self::Connector { .. } => "connector",
            Self::MessagingApi(_) => "messaging-api",
            Self::Salesforce(_) => "salesforce",
        }
    }

    /// Whether this entry is a contact-center platform (relayed to) rather than a
    /// customer channel.
    #[must_use]
    pub fn is_platform(&self) -> bool {
        matches!(self, Self::MessagingApi(_) | Self::Salesforce(_))
    }
}

/// A bot reached through Direct Line.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BotConfig {
    /// Its queue member id.
    pub id: String,
    /// Direct Line base URL. Default Azure's.
    pub directline_url: String,
    /// The Direct Line secret.
    pub secret: Secret,
    /// How often replies are polled. Default 1 s.
    pub poll_interval: Duration,
}

/// Where a workstream's conversations are worked (`contact_center`, with `platform` naming
/// the entry a relayed one goes through).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContactCenterKind {
    /// byoc's own queues and agents (the agent API), bot first.
    Byoc,
    /// Dynamics 365 Omnichannel through the Messaging API (`"omnichannel"`): byoc is the
    /// custom messaging channel; Omnichannel routes, and its agents and bots answer.
    Omnichannel {
        /// The `kind = "messaging-api"` channel entry.
        channel: String,
    },
    /// Dynamics 365 Omnichannel through a Bot Framework custom channel
    /// (`"omnichannel-bot"`): each conversation is a Direct Line conversation with the
    /// Azure bot the Omnichannel channel is configured on.
    OmnichannelBot {
        /// The `[bots.*]` entry.
        bot: String,
    },
    /// Salesforce BYOC for Messaging (`"salesforce"`): Salesforce routes; its agents and
    /// Agentforce answer.
    Salesforce {
        /// The `kind = "salesforce"` channel entry.
        channel: String,
    },
    /// Salesforce BYOC for CCaaS with byoc as the routing owner (`"salesforce-ccaas"`):
    /// byoc's workstream router chooses the queue or the rep (queue members are Salesforce
    /// user ids) and answers Salesforce's routing requests within the deadline.
    SalesforceCcaas {
        /// The `kind = "salesforce"` channel entry.
        channel: String,
    },
}

impl ContactCenterKind {
    /// Whether the workstream relays to a platform (anything but [`ContactCenterKind::Byoc`]).
    #[must_use]
    pub fn is_relayed(&self) -> bool {
        !matches!(self, Self::Byoc)
    }

    /// The `[channels]` entry of the platform relayed to (not for
    /// [`ContactCenterKind::OmnichannelBot`], which names a bot).
    #[must_use]
    pub fn platform_channel(&self) -> Option<&str> {
        match self {
            Self::Omnichannel { channel }
            | Self::Salesforce { channel }
            | Self::SalesforceCcaas { channel } => Some(channel),
            _ => None,
        }
    }
}

/// One workstream with the gateway's settings around it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkstreamConfig {
    /// The workstream (validated).
    pub workstream: Workstream,
    /// Its contact center.
    pub contact_center: ContactCenterKind,
    /// How long the bot may stay silent after a customer message before the conversation
    /// goes to a human queue. Default 30 s.
    pub bot_timeout: Duration,
}

/// A human agent.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AgentConfig {
    /// Its id (the queue member id).
    pub id: String,
    /// Display name; the id when absent.
    pub name: Option<String>,
    /// How the password is checked.
    pub password: AgentPassword,
}

/// An agent's password, as configured.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AgentPassword {
    /// An argon2 PHC hash (`$argon2id$...`).
    Hash(String),
    /// A password given in clear (from the environment); hashed at start.
    Plain(Secret),
}

/// Reads environment variables for `{ env = "NAME" }` secrets.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Config {
    /// Reads and validates a config file; secrets come from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, the field and the reason.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, "", format!("cannot read the file: {e}")))?;
        Self::from_toml_str(&text, path, &|name| std::env::var(name).ok())
    }

    /// Validates a config text as if read from `path` (relative paths resolve against its
    /// directory), reading `{ env = ... }` secrets through `env`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, the field and the reason.
    pub fn from_toml_str(text: &str, path: &Path, env: EnvLookup<'_>) -> Result<Self, ConfigError> {
        let de = toml::Deserializer::new(text);
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let mut reason = first_line(e.inner().message());
            if let Some(span) = e.inner().span() {
                // Where in the file, for a syntax error above all (it has no field).
                let before = text.get(..span.start).unwrap_or_default();
                let line = before.matches('\n').count() + 1;
                let column = before
                    .rsplit('\n')
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .count()
                    + 1;
                reason = format!("line {line}, column {column}: {reason}");
            }
            let field = if field == "." || field.is_empty() {
                "(syntax)".to_owned()
            } else {
                field
            };
            ConfigError::new(path, field, reason)
        })?;
        validate::Validator { path, env }.config(raw)
    }

    /// The workstream serving a channel.
    #[must_use]
    pub fn workstream_for(&self, channel: &str) -> Option<&WorkstreamConfig> {
        self.workstreams
            .iter()
            .find(|w| w.workstream.binds(channel))
    }
}

pub(crate) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

/// Parses `500ms`, `30s`, `5m`, `8h`, `7d` (one number and one unit).
#[must_use]
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => return Some(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(secs).map(Duration::from_secs)
}

impl fmt::Display for ContactCenterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Byoc => f.write_str("byoc"),
            Self::Omnichannel { channel } => write!(f, "omnichannel via {channel}"),
            Self::OmnichannelBot { bot } => write!(f, "omnichannel-bot via {bot}"),
            Self::Salesforce { channel } => write!(f, "salesforce via {channel}"),
            Self::SalesforceCcaas { channel } => write!(f, "salesforce-ccaas via {channel}"),
        }
    }
}
