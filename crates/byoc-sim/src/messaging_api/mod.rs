//! Simulator of the Dynamics 365 Omnichannel Messaging API, with the Entra token endpoint
//! and Dataverse's channel records beside it, and an "agent" side that delivers agent
//! messages, typing and conversation events to the registered webhook.
//!
//! | path | what |
//! |---|---|
//! | `POST /{tenant}/oauth2/v2.0/token` | client credentials → opaque access token (`expires_in` configurable); `invalid_client`, `invalid_scope`, `unsupported_grant_type` errors |
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration` | Entra's tenant discovery document (what MSAL reads first), naming this simulator's endpoints |
//! | `GET /{tenant}/discovery/v2.0/keys` | JWKS of the key that signs webhook bearer tokens |
//! | `POST /api/v1.0/consumer/conversations/create` (and `.../conversation/create`) | create; idempotent by `conversationrequestid`; an active conversation of the same `customerid` comes back with `isNew: false` |
//! | `POST /api/v1.0/consumer/conversation/{id}` | message / typing / endOfConversation / custom event, with the documented limits |
//! | `GET /api/v1.0/consumer/conversations` | active conversations, `continuationtoken` paging |
//! | `GET /api/v1.0/consumer/conversation/{id}/messages` / `.../context` | transcript (`continuationToken` = a date-time) and context variables |
//! | `/api/data/v9.2/msdyn_occustommessagingchannels[(id)]` | Dataverse: POST, GET, PATCH, DELETE channel records |
//! | `GET /_sim/conversations` | every conversation (id, customer, request id, state, message count), oldest first |
//! | `POST /_sim/conversations/{id}/{accept,say,typing,close,event}` | drive the agent (`{"text":..}` / `{"name":..}`) |
//! | `POST /_sim/tokens/expire` | revoke every access token (token expiry mid-conversation) |
//!
//! Consumer calls need a token for `https://{org without dashes}-c.{zone}.dynamics.com/.default`,
//! the `channel-id` and `organization-id` headers (or their `x-ms-` forms) and a registered
//! channel. Dataverse calls need a token for `{simulator url}/.default`.
//!
//! Webhook deliveries go to `{msdyn_webhookurl}/v3/conversations/{id}/activities` with
//! `Authorization: Bearer <JWT>` signed with [`keys`]' fixed key (`iss`
//! `{simulator url}/{tenant}/v2.0`, or `https://sts.windows.net/{tenant}/` with
//! [`Options::v1_issuer`]; `tid`, `azp`/`appid` = the record's tenant and app; `aud` = the
//! app id unless [`Options::webhook_audience`] says otherwise), or `x-ms-token` when
//! [`Options::legacy_token`] is set. A delivery that gets no 2xx within
//! [`Options::webhook_timeout`] is retried up to [`Options::webhook_retries`] times.

mod agent;
mod api;
mod control;
mod dataverse;
mod entra;
pub mod keys;
pub mod state;
mod validate;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use clap::Parser;

use crate::fault::Faults;
use crate::tls::LocalCa;
pub use agent::Agent;
pub use state::{
    ChannelRecord, DeliveryReport, RecordedRequest, SimConversation, SimMessage, SimState,
};

/// Simulator settings; every default is a built-in test credential.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Entra tenant. Default `7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20`.
    pub tenant_id: String,
    /// The client id accepted by the token endpoint. Default
    /// `3f2504e0-4f89-41d3-9a0c-0305e82c3301`.
    pub client_id: String,
    /// The client secret accepted. Default `byoc-sim-client-secret`.
    pub client_secret: String,
    /// The organization id. Default `1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`.
    pub org_id: String,
    /// The `{zone}` of the Messaging API scope. Default `crm4`.
    pub zone: String,
    /// Access token lifetime. Default 3599 s.
    pub token_lifetime: Duration,
    /// Per-attempt webhook timeout. Default 10 s.
    pub webhook_timeout: Duration,
    /// Webhook retries after the first attempt. Default 3.
    pub webhook_retries: u32,
    /// Pause between webhook attempts. Default 1 s.
    pub webhook_retry_delay: Duration,
    /// `aud` of webhook tokens. Default: the channel record's app id.
    pub webhook_audience: Option<String>,
    /// Issue v1 webhook tokens (`sts.windows.net` issuer, `appid`). Default `false`.
    pub v1_issuer: bool,
    /// Authenticate webhook calls with this legacy `x-ms-token` instead of a JWT.
    pub legacy_token: Option<String>,
    /// Display name of the simulated agent. Default `Rosa Delgado`.
    pub agent_name: String,
    /// Serve HTTPS with this CA's server certificate; `None` (the default) serves
    /// plaintext HTTP.
    pub tls: Option<Arc<LocalCa>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            tenant_id: "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20".into(),
            client_id: "3f2504e0-4f89-41d3-9a0c-0305e82c3301".into(),
            client_secret: "byoc-sim-client-secret".into(),
            org_id: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d".into(),
            zone: "crm4".into(),
            token_lifetime: Duration::from_secs(3599),
            webhook_timeout: Duration::from_secs(10),
            webhook_retries: 3,
            webhook_retry_delay: Duration::from_secs(1),
            webhook_audience: None,
            v1_issuer: false,
            legacy_token: None,
            agent_name: "Rosa Delgado".into(),
            tls: None,
        }
    }
}

impl Options {
    /// Serves HTTPS with a server certificate of `ca`.
    #[must_use]
    pub fn with_tls(mut self, ca: Arc<LocalCa>) -> Self {
        self.tls = Some(ca);
        self
    }
}

pub(crate) struct Inner {
    opts: Options,
    base: String,
    state: Mutex<state::State>,
    http: reqwest::Client,
    agent_id: String,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, state::State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn base_url(&self) -> &str {
        &self.base
    }

    fn messaging_scope(&self) -> String {
        format!(
            "https://{}-c.{}.dynamics.com/.default",
            self.opts.org_id.replace('-', "").to_ascii_lowercase(),
            self.opts.zone
        )
    }

    fn dataverse_scope(&self) -> String {
        format!("{}/.default", self.base)
    }
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct MessagingApiSim {
    inner: Arc<Inner>,
    faults: Faults,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Drop for MessagingApiSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MessagingApiSim {
    /// Starts on `127.0.0.1:0`.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn start(opts: Options) -> anyhow::Result<Self> {
        Self::start_on(opts, 0).await
    }

    /// Starts on `127.0.0.1:port`.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn start_on(opts: Options, port: u16) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let tls = opts.tls.clone();
        let inner = Arc::new(Inner {
            opts,
            base: format!("{}://{addr}", crate::tls::scheme(tls.as_ref())),
            state: Mutex::new(state::State::default()),
            http,
            agent_id: "8d1f3a5c-7e9b-4d2f-a6c8-0e2a4c6e8a0c".into(),
        });
        let faults = Faults::new();
        let app = faults.layer(api::router(inner.clone()));
        let task = tokio::spawn(async move {
            if let Err(e) = crate::tls::serve(listener, tls, app, std::future::pending()).await {
                tracing::error!(error = %e, "messaging-api simulator stopped");
            }
        });
        Ok(Self {
            inner,
            faults,
            task,
        })
    }

    /// `http://127.0.0.1:P`, or `https://` with TLS (also the Entra authority and the
    /// Dataverse org URL).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.inner.base
    }

    /// The CA whose certificate this simulator serves, when it serves TLS.
    #[must_use]
    pub fn ca(&self) -> Option<&Arc<LocalCa>> {
        self.inner.opts.tls.as_ref()
    }

    /// The options in force.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// The scope the consumer API requires.
    #[must_use]
    pub fn messaging_scope(&self) -> String {
        self.inner.messaging_scope()
    }

    /// Fault injection for the next requests.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The agent side.
    #[must_use]
    pub fn agent(&self) -> Agent {
        Agent {
            inner: self.inner.clone(),
        }
    }

    /// Revokes every access token issued so far.
    pub fn expire_tokens(&self) {
        self.inner.lock().tokens.clear();
    }

    /// How many token requests arrived (successful or not).
    #[must_use]
    pub fn token_requests(&self) -> usize {
        self.inner.lock().token_requests
    }

    /// Consumer API requests served, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().requests.clone()
    }

    /// The registered channel records.
    #[must_use]
    pub fn channels(&self) -> Vec<ChannelRecord> {
        self.inner.lock().channels.values().cloned().collect()
    }

    /// A conversation.
    #[must_use]
    pub fn conversation(&self, id: &str) -> Option<SimConversation> {
        self.inner.lock().conversations.get(id).cloned()
    }

    /// Every conversation, oldest first.
    #[must_use]
    pub fn conversations(&self) -> Vec<SimConversation> {
        let st = self.inner.lock();
        st.order
            .iter()
            .filter_map(|id| st.conversations.get(id).cloned())
            .collect()
    }

    /// Every webhook delivery so far.
    #[must_use]
    pub fn deliveries(&self) -> Vec<DeliveryReport> {
        self.inner.lock().deliveries.clone()
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "byoc-sim messaging-api",
    about = "Dynamics 365 Omnichannel Messaging API simulator"
)]
struct Cli {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Entra tenant id.
    #[arg(long)]
    tenant_id: Option<String>,
    /// Entra app (client) id.
    #[arg(long)]
    client_id: Option<String>,
    /// Entra client secret.
    #[arg(long)]
    client_secret: Option<String>,
    /// Dynamics organization id.
    #[arg(long)]
    org_id: Option<String>,
    /// `{zone}` of the Messaging API token scope.
    #[arg(long)]
    zone: Option<String>,
    /// Access token lifetime in seconds.
    #[arg(long)]
    token_lifetime: Option<u64>,
    /// Seconds between webhook retries.
    #[arg(long)]
    retry_delay: Option<u64>,
    /// Authenticate webhook calls with this legacy x-ms-token instead of a JWT.
    #[arg(long)]
    legacy_token: Option<String>,
    /// Issue v1 (sts.windows.net) webhook tokens.
    #[arg(long)]
    v1_issuer: bool,
    #[command(flatten)]
    tls: crate::tls::TlsArgs,
}

/// Runs this simulator from the command line (`args[0]` is the subcommand name).
///
/// # Errors
/// Bad arguments, or the port cannot be bound.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(args)?;
    let mut opts = Options::default();
    let given = cli.client_secret.is_some();
    if let Some(v) = cli.tenant_id {
        opts.tenant_id = v;
    }
    if let Some(v) = cli.client_id {
        opts.client_id = v;
    }
    if let Some(v) = cli.client_secret {
        opts.client_secret = v;
    }
    if let Some(v) = cli.org_id {
        opts.org_id = v;
    }
    if let Some(v) = cli.zone {
        opts.zone = v;
    }
    if let Some(v) = cli.token_lifetime {
        opts.token_lifetime = Duration::from_secs(v);
    }
    if let Some(v) = cli.retry_delay {
        opts.webhook_retry_delay = Duration::from_secs(v);
    }
    opts.legacy_token = cli.legacy_token;
    opts.v1_issuer = cli.v1_issuer;
    opts.tls = cli.tls.ca()?;
    let sim = MessagingApiSim::start_on(opts, cli.port).await?;
    println!("listening on {}", sim.url());
    crate::tls::print_ca(sim.ca());
    let o = sim.options();
    println!(
        "authority: {}  (token: {}/{}/oauth2/v2.0/token)",
        sim.url(),
        sim.url(),
        o.tenant_id
    );
    println!("messaging api base url: {}", sim.url());
    println!("dataverse org url: {}", sim.url());
    println!("tenant id: {}", o.tenant_id);
    println!("client id: {}", o.client_id);
    if !given {
        println!(
            "client secret (built-in test credential): {}",
            o.client_secret
        );
    }
    println!("organization id: {}", o.org_id);
    println!("messaging scope: {}", sim.messaging_scope());
    println!(
        "agent: POST {}/_sim/conversations/{{id}}/{{accept|say|typing|close|event}}",
        sim.url()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[cfg(test)]
mod tests;
