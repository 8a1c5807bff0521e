//! Simulator of the Salesforce side of BYOC for Messaging / CCaaS: the OAuth token endpoint
//! (JWT bearer flow, assertion checked against the connected app's X.509 certificate, as
//! uploaded under "Use digital signatures", or a bare public key), the
//! Interaction Service REST API (`/api/v1/...`, with its header, multipart and schema checks
//! and error codes) and a Pub/Sub API gRPC server publishing Avro-encoded platform events
//! with replay.
//!
//! The checks are written here from the protocol facts, independently of `byoc-salesforce`;
//! both sides are pinned by the same JWT known-answer vector and fixtures.
//!
//! Drive it from tests ([`SalesforceSim::agent_says`], [`SalesforceSim::bot_escalates`],
//! [`SalesforceSim::agent_joins`], [`SalesforceSim::end_session`]) or, standalone, with
//! `POST /__sim/{agent_says|bot_escalates|agent_joins|end_session}` and a JSON body
//! `{"endUser": "...", "text": "...", "name": "...", "userId": "...", "flowId": "..."}`.
//!
//! Faults: [`SalesforceSim::faults`] (HTTP 429 / 5xx / dropped connections on REST and the
//! token endpoint), [`SalesforceSim::expire_tokens`], [`SalesforceSim::drop_streams_after`]
//! (the next Subscribe stream fails with `UNAVAILABLE` after N events).

pub mod cert;
mod grpc;
/// The generated Pub/Sub messages and server, shared with the adapter's client.
use byoc_pubsub_proto as proto;
mod rest;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;

use crate::fault::Faults;

/// The built-in test private key (PKCS#8 PEM) of the simulated connected app. Test only.
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("keys/test-key.pem");
/// Its public key (SPKI PEM).
pub const TEST_PUBLIC_KEY_PEM: &str = include_str!("keys/test-key.pub.pem");
/// The simulated connected app's certificate: self-signed for [`TEST_PRIVATE_KEY_PEM`],
/// valid until 2126. Generated once, from `src/salesforce/keys`, with
/// `openssl req -x509 -new -key test-key.pem -sha256 -days 36500
/// -subj "/CN=byoc-sim test connected app/O=byoc" -set_serial 1 -out test-cert.pem`.
pub const TEST_CERTIFICATE_PEM: &str = include_str!("keys/test-cert.pem");
/// Built-in consumer key.
pub const TEST_CONSUMER_KEY: &str = "3MVG9byoc.test.consumer.key";
/// Built-in username.
pub const TEST_USERNAME: &str = "integration@byoc.example";
/// Built-in org id.
pub const TEST_ORG_ID: &str = "00D5g000004Zx1A";
/// Built-in ConversationChannelDefinition developer name.
pub const TEST_AUTHORIZATION_CONTEXT: &str = "byoc_ChannelDefinition";
/// Built-in channel address identifier.
pub const TEST_CHANNEL_ADDRESS: &str = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
/// Built-in platform event API name.
pub const TEST_PLATFORM_EVENT: &str = "byoc__ConversationEvent__e";
/// Built-in event-type field.
pub const TEST_EVENT_TYPE_FIELD: &str = "byoc__EventType__c";
/// Built-in payload field.
pub const TEST_PAYLOAD_FIELD: &str = "byoc__Payload__c";

/// What the simulated org is configured with.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SimConfig {
    /// Consumer key (JWT `iss`).
    pub consumer_key: String,
    /// Username (JWT `sub`).
    pub username: String,
    /// The connected app's X.509 certificate (PEM): the token endpoint checks assertions
    /// against its RSA key. Default: [`TEST_CERTIFICATE_PEM`]. When `None`,
    /// `public_key_pem` is used instead.
    pub certificate_pem: Option<String>,
    /// The connected app's bare RSA public key (SPKI or PKCS#1 PEM), used only when
    /// `certificate_pem` is `None`. Default: [`TEST_PUBLIC_KEY_PEM`].
    pub public_key_pem: String,
    /// Accepted JWT `aud`; `None` accepts this simulator's own URL only.
    pub audience: Option<String>,
    /// Org id.
    pub org_id: String,
    /// CCD developer name.
    pub authorization_context: String,
    /// Channel address identifier.
    pub channel_address: String,
    /// Platform event API name.
    pub platform_event: String,
    /// Event-type field.
    pub event_type_field: String,
    /// Payload field.
    pub payload_field: String,
    /// Keep-alive interval of Subscribe streams (Salesforce: 270 s).
    pub keepalive: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            consumer_key: TEST_CONSUMER_KEY.into(),
            username: TEST_USERNAME.into(),
            certificate_pem: Some(TEST_CERTIFICATE_PEM.into()),
            public_key_pem: TEST_PUBLIC_KEY_PEM.into(),
            audience: None,
            org_id: TEST_ORG_ID.into(),
            authorization_context: TEST_AUTHORIZATION_CONTEXT.into(),
            channel_address: TEST_CHANNEL_ADDRESS.into(),
            platform_event: TEST_PLATFORM_EVENT.into(),
            event_type_field: TEST_EVENT_TYPE_FIELD.into(),
            payload_field: TEST_PAYLOAD_FIELD.into(),
            keepalive: Duration::from_secs(270),
        }
    }
}

impl SimConfig {
    /// Checks assertions against this certificate (PEM).
    #[must_use]
    pub fn with_certificate(mut self, pem: impl Into<String>) -> Self {
        self.certificate_pem = Some(pem.into());
        self
    }

    /// Checks assertions against this bare public key (PEM) instead of a certificate.
    #[must_use]
    pub fn with_public_key(mut self, pem: impl Into<String>) -> Self {
        self.certificate_pem = None;
        self.public_key_pem = pem.into();
        self
    }

    /// Sets the keep-alive interval of Subscribe streams.
    #[must_use]
    pub fn with_keepalive(mut self, interval: Duration) -> Self {
        self.keepalive = interval;
        self
    }
}

/// One REST call the simulator accepted.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path (`/api/v1/interactions`).
    pub path: String,
    /// The JSON body (the `json` part for `/interactions`).
    pub json: serde_json::Value,
    /// The uploaded file: name, MIME type, size.
    pub attachment: Option<(String, String, usize)>,
    /// The `RequestId` header.
    pub request_id: String,
}

/// A published event.
#[derive(Clone, Debug)]
pub(crate) struct StoredEvent {
    pub(crate) id: String,
    pub(crate) payload: Vec<u8>,
}

/// A conversation the simulator knows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimConversation {
    /// `conversationIdentifier`.
    pub conversation_identifier: String,
    /// The MessagingSession id (15 characters).
    pub work_item_id: String,
}

pub(crate) struct Shared {
    pub(crate) cfg: SimConfig,
    pub(crate) key: jsonwebtoken::DecodingKey,
    pub(crate) audience: String,
    pub(crate) instance_url: String,
    pub(crate) tokens: Mutex<HashMap<String, ()>>,
    pub(crate) recorded: Mutex<Vec<Recorded>>,
    pub(crate) conversations: Mutex<HashMap<String, SimConversation>>,
    pub(crate) events: Mutex<Vec<StoredEvent>>,
    pub(crate) published: tokio::sync::watch::Sender<usize>,
    pub(crate) schema: apache_avro::Schema,
    pub(crate) schema_json: String,
    pub(crate) schema_id: String,
    pub(crate) drop_after: Mutex<Option<usize>>,
    pub(crate) tokens_issued: std::sync::atomic::AtomicUsize,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// The simulated org for `cfg`, served at `url`.
    pub(crate) fn new(cfg: SimConfig, url: &str) -> anyhow::Result<Arc<Self>> {
        let schema_json = serde_json::json!({
            "type": "record", "name": cfg.platform_event, "namespace": "com.sforce.eventbus",
            "fields": [
                {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
                {"name": "CreatedById", "type": "string"},
                {"name": cfg.event_type_field, "type": ["null", "string"], "default": null},
                {"name": cfg.payload_field, "type": ["null", "string"], "default": null},
            ]
        })
        .to_string();
        let schema = apache_avro::Schema::parse_str(&schema_json)?;
        let key = cert::decoding_key(&cfg)?;
        if cfg.keepalive.is_zero() {
            anyhow::bail!("the keep-alive interval must be positive");
        }
        Ok(Arc::new(Shared {
            key,
            audience: cfg.audience.clone().unwrap_or_else(|| url.to_owned()),
            instance_url: url.to_owned(),
            cfg,
            tokens: Mutex::new(HashMap::new()),
            recorded: Mutex::new(Vec::new()),
            conversations: Mutex::new(HashMap::new()),
            events: Mutex::new(Vec::new()),
            published: tokio::sync::watch::channel(0).0,
            schema,
            schema_json,
            schema_id: "bYoCsImScHeMa01".into(),
            drop_after: Mutex::new(None),
            tokens_issued: std::sync::atomic::AtomicUsize::new(0),
        }))
    }

    pub(crate) fn conversation(&self, end_user: &str) -> SimConversation {
        lock(&self.conversations)
            .entry(end_user.to_owned())
            .or_insert_with(|| SimConversation {
                conversation_identifier: uuid::Uuid::new_v4().to_string(),
                work_item_id: format!("0Mw{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            })
            .clone()
    }

    /// Encodes and stores one event; returns its replay id.
    pub(crate) fn publish(&self, event_type: &str, payload: &str) -> anyhow::Result<u64> {
        use apache_avro::types::{Record, Value};
        let mut rec = Record::new(&self.schema)
            .ok_or_else(|| anyhow::anyhow!("the event schema is not a record"))?;
        rec.put("CreatedDate", chrono::Utc::now().timestamp_millis());
        rec.put("CreatedById", "0055g00000Ab1CdEAF");
        rec.put(
            &self.cfg.event_type_field,
            Value::Union(1, Box::new(Value::String(event_type.into()))),
        );
        rec.put(
            &self.cfg.payload_field,
            Value::Union(1, Box::new(Value::String(payload.into()))),
        );
        let bytes = apache_avro::to_avro_datum(&self.schema, rec)?;
        let mut events = lock(&self.events);
        events.push(StoredEvent {
            id: uuid::Uuid::new_v4().to_string(),
            payload: bytes,
        });
        let n = events.len();
        drop(events);
        self.published.send_replace(n);
        Ok(n as u64)
    }

    fn envelope(&self, end_user: &str, conv: &SimConversation, entry: serde_json::Value) -> String {
        serde_json::json!({
            "conversationIdentifier": conv.conversation_identifier,
            "channelAddressIdentifier": self.cfg.channel_address,
            "recipient": {"appType": "custom", "subject": end_user, "role": "EndUser"},
            "payload": entry,
        })
        .to_string()
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A running simulator.
#[derive(Debug)]
pub struct SalesforceSim {
    url: String,
    pubsub_url: String,
    faults: Faults,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Drop for SalesforceSim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl SalesforceSim {
    /// Starts the simulator on `127.0.0.1:0` (REST and gRPC on two ports).
    ///
    /// # Errors
    /// When a port cannot be bound or the configuration is invalid.
    pub async fn start(cfg: SimConfig) -> anyhow::Result<Self> {
        Self::start_on(cfg, 0, 0).await
    }

    /// Starts the simulator on the given ports (0 for any).
    ///
    /// # Errors
    /// When a port cannot be bound or the configuration is invalid.
    pub async fn start_on(cfg: SimConfig, port: u16, grpc_port: u16) -> anyhow::Result<Self> {
        let rest_l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let grpc_l = tokio::net::TcpListener::bind(("127.0.0.1", grpc_port)).await?;
        let rest_addr: SocketAddr = rest_l.local_addr()?;
        let grpc_addr: SocketAddr = grpc_l.local_addr()?;
        let url = format!("http://{rest_addr}");
        let shared = Shared::new(cfg, &url)?;
        let faults = Faults::new();
        let app = faults.layer(rest::router(shared.clone()));
        let rest_task = tokio::spawn(async move {
            if let Err(e) = axum::serve(rest_l, app).await {
                tracing::error!(error = %e, "salesforce sim REST server stopped");
            }
        });
        let grpc_task = tokio::spawn(grpc::serve(shared.clone(), grpc_l));
        Ok(Self {
            url,
            pubsub_url: format!("http://{grpc_addr}"),
            faults,
            shared,
            tasks: vec![rest_task, grpc_task],
        })
    }

    /// Base URL of the REST side: the login host (token endpoint), the SCRT2 host and the
    /// instance URL at once.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// URL of the Pub/Sub gRPC server (plaintext HTTP/2).
    #[must_use]
    pub fn pubsub_url(&self) -> &str {
        &self.pubsub_url
    }

    /// The JWT `aud` the token endpoint accepts.
    #[must_use]
    pub fn audience(&self) -> &str {
        &self.shared.audience
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// HTTP fault injection.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Invalidates every issued access token (REST answers 401 / 10004, gRPC
    /// `UNAUTHENTICATED`).
    pub fn expire_tokens(&self) {
        lock(&self.shared.tokens).clear();
    }

    /// How many tokens the token endpoint issued.
    #[must_use]
    pub fn tokens_issued(&self) -> usize {
        self.shared
            .tokens_issued
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The next Subscribe stream fails with `UNAVAILABLE` after delivering `n` events.
    pub fn drop_streams_after(&self, n: usize) {
        *lock(&self.shared.drop_after) = Some(n);
    }

    /// The REST calls accepted so far.
    #[must_use]
    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.shared.recorded).clone()
    }

    /// The conversation of an end user (created on first use).
    #[must_use]
    pub fn conversation(&self, end_user: &str) -> SimConversation {
        self.shared.conversation(end_user)
    }

    /// How many events were published.
    #[must_use]
    pub fn published(&self) -> usize {
        lock(&self.shared.events).len()
    }

    /// Publishes a raw payload JSON with an event type.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn publish_raw(&self, event_type: &str, payload: &str) -> anyhow::Result<u64> {
        self.shared.publish(event_type, payload)
    }

    /// A rep (or with `bot`, the Agentforce bot) sends `text` to `end_user`; returns the
    /// entry identifier.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn agent_says(
        &self,
        end_user: &str,
        sender: &str,
        name: &str,
        text: &str,
    ) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let id = uuid::Uuid::new_v4().to_string();
        let (app, role) = if sender.starts_with("005") {
            ("agent", "Agent")
        } else {
            ("chatbot", "Chatbot")
        };
        let entry = serde_json::json!({
            "senderDisplayName": name, "identifier": id, "entryType": "Message",
            "entryPayload": {"entryType": "Message", "id": id, "abstractMessage": {
                "messageType": "StaticContentMessage", "id": id,
                "staticContent": {"formatType": "Text", "text": text}}, "messageReason": null},
            "sender": {"appType": app, "subject": sender, "role": role},
            "transcriptedTimestamp": now_ms(), "clientTimestamp": now_ms(), "clientDuration": 0
        });
        self.shared
            .publish("Interaction", &self.shared.envelope(end_user, &conv, entry))?;
        Ok(id)
    }

    /// The bot escalates: a RoutingRequested (Transfer) event through `flow_id`, or to
    /// `user_id`; returns the routing correlation id (`channelData.eventId`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn bot_escalates(
        &self,
        end_user: &str,
        flow_id: Option<&str>,
        user_id: Option<&str>,
    ) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let event_id = uuid::Uuid::new_v4().to_string();
        let channel_data = serde_json::json!({
            "eventId": event_id, "routerParticipantSubject": uuid::Uuid::new_v4().to_string(),
            "routingType": "Transfer", "conversationId": conv.conversation_identifier
        })
        .to_string();
        let payload = serde_json::json!({
            "channelAddressIdentifier": self.shared.cfg.channel_address,
            "recipient": {"appType": "custom", "subject": end_user, "role": "EndUser"},
            "payload": {
                "conversationIdentifier": conv.conversation_identifier,
                "routingParameters": {"queueId": null, "channelData": channel_data, "isTransfer": true,
                    "routingConfigId": null, "userId": user_id, "skillsList": [], "botId": null,
                    "flowId": flow_id, "isScrt2": true},
                "routingType": "Transfer", "workRecordId": null
            }
        });
        self.shared
            .publish("RoutingRequested", &payload.to_string())?;
        Ok(event_id)
    }

    /// A rep joins the conversation (ParticipantChanged `add`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn agent_joins(&self, end_user: &str, user_id: &str, name: &str) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let id = uuid::Uuid::new_v4().to_string();
        let entry = serde_json::json!({
            "senderDisplayName": "System", "identifier": id, "entryType": "ParticipantChanged",
            "entryPayload": {"entryType": "ParticipantChanged", "id": id, "entries": [{
                "operation": "add", "displayName": name,
                "participant": {"appType": "agent", "subject": user_id, "role": "Agent"}}]},
            "sender": {"appType": "conversation", "subject": conv.conversation_identifier, "role": "System"},
            "transcriptedTimestamp": now_ms(), "clientTimestamp": now_ms(), "clientDuration": 0
        });
        self.shared
            .publish("Interaction", &self.shared.envelope(end_user, &conv, entry))?;
        Ok(id)
    }

    /// The session ends (SessionStatusChanged `Ended`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn end_session(&self, end_user: &str) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let id = uuid::Uuid::new_v4().to_string();
        let now = chrono::Utc::now().timestamp();
        let entry = serde_json::json!({
            "senderDisplayName": "System", "identifier": id, "entryType": "SessionStatusChanged",
            "entryPayload": {"entryType": "SessionStatusChanged", "id": id,
                "conversationIdentifier": conv.conversation_identifier,
                "channelAddressIdentifier": self.shared.cfg.channel_address,
                "sessionId": conv.work_item_id, "sessionStatus": "Ended", "sessionStatusPrev": "Active",
                "sessionEndedByRole": "Agent", "sessionStartTime": now, "sessionEndTime": now},
            "sender": {"appType": "conversation", "subject": conv.conversation_identifier, "role": "System"},
            "transcriptedTimestamp": now_ms(), "clientTimestamp": now_ms(), "clientDuration": 0
        });
        self.shared
            .publish("Interaction", &self.shared.envelope(end_user, &conv, entry))?;
        Ok(id)
    }
}

/// `byoc-sim salesforce`: the Salesforce simulator standalone.
#[derive(Parser, Debug)]
#[command(
    name = "byoc-sim salesforce",
    about = "Salesforce token endpoint, Interaction Service and Pub/Sub simulator"
)]
struct Cli {
    /// REST port (token endpoint and /api/v1).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Pub/Sub gRPC port.
    #[arg(long, default_value_t = 0)]
    grpc_port: u16,
    /// Consumer key of the connected app (`SF_CONSUMER_KEY`).
    #[arg(long)]
    consumer_key: Option<String>,
    /// Username (`SF_SUBJECT`).
    #[arg(long)]
    username: Option<String>,
    /// File with the connected app's X.509 certificate PEM (as uploaded to the app).
    #[arg(long, conflicts_with = "public_key")]
    certificate: Option<std::path::PathBuf>,
    /// File with the connected app's bare RSA public key PEM.
    #[arg(long)]
    public_key: Option<std::path::PathBuf>,
    /// Seconds between Pub/Sub keep-alives on an idle Subscribe stream.
    #[arg(long, default_value_t = 270)]
    keepalive_secs: u64,
    /// Org id (`SF_ORG_ID`).
    #[arg(long)]
    org_id: Option<String>,
    /// CCD developer name (`SF_AUTHORIZATION_CONTEXT`).
    #[arg(long)]
    authorization_context: Option<String>,
    /// Channel address identifier.
    #[arg(long)]
    channel_address: Option<String>,
}

/// Runs this simulator from the command line (`args[0]` is the subcommand name).
///
/// # Errors
/// Bad arguments, a port in use, an unreadable key.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(args)?;
    let mut cfg = SimConfig::default();
    let builtin =
        cli.consumer_key.is_none() && cli.public_key.is_none() && cli.certificate.is_none();
    if let Some(v) = cli.consumer_key {
        cfg.consumer_key = v;
    }
    if let Some(v) = cli.username {
        cfg.username = v;
    }
    if let Some(p) = cli.certificate {
        cfg = cfg.with_certificate(std::fs::read_to_string(p)?);
    }
    if let Some(p) = cli.public_key {
        cfg = cfg.with_public_key(std::fs::read_to_string(p)?);
    }
    cfg.keepalive = Duration::from_secs(cli.keepalive_secs);
    if let Some(v) = cli.org_id {
        cfg.org_id = v;
    }
    if let Some(v) = cli.authorization_context {
        cfg.authorization_context = v;
    }
    if let Some(v) = cli.channel_address {
        cfg.channel_address = v;
    }
    let sim = SalesforceSim::start_on(cfg, cli.port, cli.grpc_port).await?;
    println!("listening on {}", sim.url());
    println!("pubsub on {}", sim.pubsub_url());
    let c = sim.config();
    println!("audience (login host): {}", sim.audience());
    println!("org id: {}", c.org_id);
    println!("authorization context: {}", c.authorization_context);
    println!("channel address: {}", c.channel_address);
    println!(
        "topic: /event/{} (fields {}, {})",
        c.platform_event, c.event_type_field, c.payload_field
    );
    if builtin {
        println!("consumer key: {}", c.consumer_key);
        println!("username: {}", c.username);
        println!("private key (test only):\n{}", TEST_PRIVATE_KEY_PEM.trim());
        println!("certificate:\n{}", TEST_CERTIFICATE_PEM.trim());
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
