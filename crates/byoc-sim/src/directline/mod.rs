//! Bot Framework simulators on one loopback server:
//!
//! - a **token authority**: `POST /{tenant}/oauth2/v2.0/token` (client credentials, RS256
//!   Connector tokens), the channel OpenID metadata
//!   `GET /v1/.well-known/openidconfiguration` and JWKS `GET /v1/.well-known/keys` with
//!   `endorsements`;
//! - a **connector service** (`/v3/conversations/...`, Connector REST v3) accepting bot calls
//!   only with a valid authority token;
//! - a **Direct Line 3.0 service** (`/v3/directline/...`): secrets and tokens,
//!   conversations, activities with watermarks, WebSocket streams, uploads. Each user
//!   activity goes to the bot: the built-in echo bot, or (with `bot_url`) a real messaging
//!   endpoint, POSTed with a channel JWT signed by `sim-key-1` exactly as Azure Bot Service
//!   does, whose replies come back through the connector service.
//!
//! Point a bot's SDK at it with: OpenID metadata URL [`DirectLineSim::openid_metadata_url`]
//! and the login endpoint [`DirectLineSim::url`] (tenant path `/botframework.com`, whose
//! Entra discovery document `/{tenant}/v2.0/.well-known/openid-configuration` and keys
//! `/{tenant}/discovery/v2.0/keys` MSAL reads); the issuer stays
//! `https://api.botframework.com`, as the SDKs expect. Point a Direct Line client at
//! [`DirectLineSim::directline_url`]. MSAL accepts only `https` authorities: start with
//! [`Options::with_tls`] and trust [`crate::tls::LocalCa::ca_file`].
//!
//! What clients receive, per transport, as the Direct Line service sends it: messages and
//! every other activity on both polling (`GET .../activities`) and the WebSocket stream;
//! `typing` on the stream only; a bot's `updateActivity` as a new activity on both, whose
//! `channelData.updateActivityId` names the activity it replaces (the Direct Line channel's
//! way, which Web Chat follows); a bot's `deleteActivity` is accepted but reaches no client
//! (Direct Line does not propagate deletions). [`DirectLineSim::activities`] is the history:
//! each activity once, in its latest state (a deleted one as a `messageDelete` tombstone).
//!
//! Faults: [`DirectLineSim::faults`] (429, 5xx, delays, dropped HTTP connections),
//! [`DirectLineSim::drop_sockets`], [`DirectLineSim::expire_tokens`],
//! [`DirectLineSim::set_bot_delay`] (slow bots; 15 s or more answers `504 GatewayTimeout`).

// Handlers return `Response` as their error type: that is the answer to send.
#![allow(clippy::result_large_err)]

mod authority;
mod connector;
pub mod keys;
mod service;
mod state;
mod stream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::fault::Faults;
use crate::tls::LocalCa;
use keys::SimKey;
use state::{Conv, Inner, Shared, State};

/// The built-in Direct Line secret.
pub const DEFAULT_SECRET: &str = "sim-directline-secret";
/// The built-in bot app id.
pub const DEFAULT_BOT_APP_ID: &str = "5e1d0c3a-0000-4000-8000-00000000b07a";
/// The built-in bot app password.
pub const DEFAULT_BOT_APP_PASSWORD: &str = "sim-bot-password";
/// Issuer of channel → bot tokens.
pub const CHANNEL_ISSUER: &str = "https://api.botframework.com";
/// Issuer of Connector tokens (the Bot Framework tenant on Entra v1).
pub const CONNECTOR_TOKEN_ISSUER: &str =
    "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/";
/// Audience of Connector tokens.
pub const CONNECTOR_AUDIENCE: &str = "https://api.botframework.com";
/// Scope a bot asks Connector tokens for.
pub const CONNECTOR_SCOPE: &str = "https://api.botframework.com/.default";
/// Largest activity accepted.
pub const MAX_ACTIVITY_BYTES: usize = 262_144;

/// Simulator settings. `Options::default()` uses the built-in credentials.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Port to listen on (0 for any).
    pub port: u16,
    /// Accepted Direct Line secrets.
    pub secrets: Vec<String>,
    /// A bot messaging endpoint to relay user activities to; `None` for the echo bot.
    pub bot_url: Option<String>,
    /// The bot's app id (`aud` of channel tokens, `client_id` at the authority).
    pub bot_app_id: String,
    /// The bot's app password.
    pub bot_app_password: String,
    /// Channel ids the signing keys are endorsed for.
    pub endorsements: Vec<String>,
    /// Direct Line token lifetime. Default 1800 s.
    pub token_ttl: Duration,
    /// Connector token lifetime. Default 3600 s.
    pub connector_token_ttl: Duration,
    /// How long a `streamUrl` may wait before it is used. Default 60 s.
    pub stream_url_ttl: Duration,
    /// Interval of empty keep-alive frames on sockets. Default 15 s.
    pub keepalive: Duration,
    /// Serve HTTPS and WSS with this CA's server certificate; `None` (the default) serves
    /// plaintext HTTP.
    pub tls: Option<Arc<LocalCa>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            port: 0,
            secrets: vec![DEFAULT_SECRET.to_owned()],
            bot_url: None,
            bot_app_id: DEFAULT_BOT_APP_ID.to_owned(),
            bot_app_password: DEFAULT_BOT_APP_PASSWORD.to_owned(),
            endorsements: [
                "directline",
                "webchat",
                "msteams",
                "emulator",
                "telegram",
                "slack",
                "sms",
                "test",
            ]
            .map(str::to_owned)
            .to_vec(),
            token_ttl: Duration::from_secs(1800),
            connector_token_ttl: Duration::from_secs(3600),
            stream_url_ttl: Duration::from_secs(60),
            keepalive: Duration::from_secs(15),
            tls: None,
        }
    }
}

impl Options {
    /// Sets the bot endpoint to relay to.
    #[must_use]
    pub fn with_bot_url(mut self, url: impl Into<String>) -> Self {
        self.bot_url = Some(url.into());
        self
    }

    /// Sets the Connector token lifetime.
    #[must_use]
    pub fn with_connector_token_ttl(mut self, ttl: Duration) -> Self {
        self.connector_token_ttl = ttl;
        self
    }

    /// Serves HTTPS (and WSS streams) with a server certificate of `ca`.
    #[must_use]
    pub fn with_tls(mut self, ca: Arc<LocalCa>) -> Self {
        self.tls = Some(ca);
        self
    }

    /// Sets the keep-alive interval.
    #[must_use]
    pub fn with_keepalive(mut self, every: Duration) -> Self {
        self.keepalive = every;
        self
    }
}

/// What a test-forged channel token carries; [`ChannelToken::valid`] is what the service
/// would send.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ChannelToken {
    /// Which built-in key signs (0, 1 or 2 for `sim-key-1`..`sim-key-3`).
    pub key: usize,
    /// `alg` header.
    pub alg: String,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// `serviceurl`.
    pub service_url: String,
    /// `exp` relative to now, in seconds (negative for expired).
    pub expires_in: i64,
    /// `nbf` relative to now, in seconds.
    pub not_before: i64,
}

impl ChannelToken {
    /// A token the service would send to `audience` for `service_url`.
    #[must_use]
    pub fn valid(audience: &str, service_url: &str) -> Self {
        Self {
            key: 0,
            alg: "RS256".into(),
            issuer: CHANNEL_ISSUER.into(),
            audience: audience.into(),
            service_url: service_url.into(),
            expires_in: 3600,
            not_before: -300,
        }
    }
}

impl State {
    /// A channel → bot token as the service sends it.
    pub(crate) fn channel_token(&self, audience: &str, service_url: &str) -> String {
        self.sign_channel(&ChannelToken::valid(audience, service_url))
    }

    pub(crate) fn sign_channel(&self, spec: &ChannelToken) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "serviceurl": spec.service_url, "nbf": now + spec.not_before,
            "exp": now + spec.expires_in, "iss": spec.issuer, "aud": spec.audience,
        });
        self.keys[spec.key.min(2)].sign(&spec.alg, &claims)
    }
}

/// Constant-time byte comparison.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct DirectLineSim {
    url: String,
    state: Shared,
    faults: Faults,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Drop for DirectLineSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(authority::token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(authority::tenant_openid),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(authority::tenant_jwks))
        .route(
            "/v1/.well-known/openidconfiguration",
            get(authority::openid),
        )
        .route("/v1/.well-known/keys", get(authority::jwks))
        .route("/v3/conversations", post(connector::create_conversation))
        .route(
            "/v3/conversations/{conv}/activities",
            post(connector::send_to_conversation),
        )
        .route(
            "/v3/conversations/{conv}/activities/{id}",
            post(connector::reply_to_activity)
                .put(connector::update_activity)
                .delete(connector::delete_activity),
        )
        .route(
            "/v3/conversations/{conv}/attachments",
            post(connector::upload_attachment),
        )
        .route("/v3/attachments/{id}", get(connector::attachment_info))
        .route(
            "/v3/attachments/{id}/views/{view}",
            get(connector::attachment_view),
        )
        .route("/v3/directline/tokens/generate", post(service::generate))
        .route("/v3/directline/tokens/refresh", post(service::refresh))
        .route("/v3/directline/conversations", post(service::start))
        .route(
            "/v3/directline/conversations/{conv}",
            get(service::reconnect),
        )
        .route(
            "/v3/directline/conversations/{conv}/activities",
            get(service::get_activities).post(service::post_activity),
        )
        .route(
            "/v3/directline/conversations/{conv}/upload",
            post(service::upload),
        )
        .route(
            "/v3/directline/conversations/{conv}/stream",
            get(stream::stream),
        )
        .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024))
        .with_state(state)
}

impl DirectLineSim {
    /// Starts the simulator on `127.0.0.1:{opts.port}`.
    ///
    /// # Errors
    /// If the port cannot be bound.
    pub async fn start(opts: Options) -> anyhow::Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], opts.port))).await?;
        let addr = listener.local_addr()?;
        let tls = opts.tls.clone();
        let url = format!("{}://{addr}", crate::tls::scheme(tls.as_ref()));
        let (kill, _) = watch::channel(0);
        let state: Shared = Arc::new(State {
            base: url.clone(),
            opts,
            keys: SimKey::builtin()?,
            inner: std::sync::Mutex::new(Inner {
                published_keys: vec![0],
                ..Inner::default()
            }),
            metadata_fetches: 0.into(),
            jwks_fetches: 0.into(),
            token_requests: 0.into(),
            token_refreshes: 0.into(),
            stream_requests: 0.into(),
            sockets_opened: 0.into(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            kill,
        });
        let faults = Faults::new();
        let app = faults.layer(router(state.clone()));
        let task = tokio::spawn(async move {
            if let Err(e) = crate::tls::serve(listener, tls, app, std::future::pending()).await {
                tracing::error!(error = %e, "directline simulator stopped");
            }
        });
        Ok(Self {
            url,
            state,
            faults,
            task,
        })
    }

    /// `http://127.0.0.1:P` (`https://` with TLS): also the login base of the token
    /// authority.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The Direct Line base URL, `http://127.0.0.1:P/v3/directline`.
    #[must_use]
    pub fn directline_url(&self) -> String {
        format!("{}/v3/directline", self.url)
    }

    /// The channel OpenID metadata URL.
    #[must_use]
    pub fn openid_metadata_url(&self) -> String {
        format!("{}/v1/.well-known/openidconfiguration", self.url)
    }

    /// The `serviceUrl` this service puts in activities (`http://127.0.0.1:P/`).
    #[must_use]
    pub fn service_url(&self) -> String {
        format!("{}/", self.url)
    }

    /// The CA whose certificate this simulator serves, when it serves TLS.
    #[must_use]
    pub fn ca(&self) -> Option<&Arc<LocalCa>> {
        self.state.opts.tls.as_ref()
    }

    /// The settings it runs with.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.state.opts
    }

    /// Fault injection for the next HTTP requests.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Signs a channel → bot token as described (to forge valid and invalid ones).
    #[must_use]
    pub fn sign_channel_token(&self, spec: &ChannelToken) -> String {
        self.state.sign_channel(spec)
    }

    /// Publishes built-in key `index` (1 or 2) in the JWKS, as in a key rotation.
    pub fn publish_key(&self, index: usize) {
        let mut inner = self.state.lock();
        if index < 3 && !inner.published_keys.contains(&index) {
            inner.published_keys.push(index);
        }
    }

    /// How many times the OpenID metadata and the JWKS were fetched.
    #[must_use]
    pub fn metadata_fetches(&self) -> (usize, usize) {
        (
            self.state.metadata_fetches.load(Ordering::SeqCst),
            self.state.jwks_fetches.load(Ordering::SeqCst),
        )
    }

    /// How many client-credentials token requests the authority answered.
    #[must_use]
    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    /// How many Direct Line tokens were refreshed (`POST /tokens/refresh` answered `200`).
    #[must_use]
    pub fn token_refreshes(&self) -> usize {
        self.state.token_refreshes.load(Ordering::SeqCst)
    }

    /// How many stream (WebSocket upgrade) requests arrived, and how many sockets opened.
    #[must_use]
    pub fn stream_counts(&self) -> (usize, usize) {
        (
            self.state.stream_requests.load(Ordering::SeqCst),
            self.state.sockets_opened.load(Ordering::SeqCst),
        )
    }

    /// Fault: while `true`, stream upgrades are refused with `503` (a proxy without
    /// WebSocket support).
    pub fn refuse_sockets(&self, refuse: bool) {
        self.state.lock().refuse_sockets = refuse;
    }

    /// Every activity handed to the bot (the echo bot or the relay), in order: user
    /// activities and the `conversationUpdate` sent when a conversation starts.
    #[must_use]
    pub fn bot_received(&self) -> Vec<Value> {
        self.state.lock().received_by_bot.clone()
    }

    /// Marks every Direct Line token issued so far expired (`403 TokenExpired`).
    pub fn expire_tokens(&self) {
        for t in self.state.lock().tokens.values_mut() {
            t.expired = true;
        }
    }

    /// Drops every open WebSocket without a close frame.
    pub fn drop_sockets(&self) {
        self.state.kill.send_modify(|g| *g += 1);
    }

    /// Makes the bot answer after `delay`, for the echo bot and the relay alike: the service
    /// waits at most 15 s for a bot, then answers the client's post `504 GatewayTimeout`
    /// (the relay's remaining budget is 15 s minus `delay`). Time is tokio's, so tests
    /// with paused time need no real waits.
    pub fn set_bot_delay(&self, delay: Duration) {
        self.state.lock().bot_delay = delay;
    }

    /// Creates (or keeps) a conversation with this id, for connector-only use.
    pub fn ensure_conversation(&self, id: &str) {
        let mut inner = self.state.lock();
        inner.convs.entry(id.to_owned()).or_insert_with(|| {
            let mut c = Conv::new();
            c.started = true;
            c
        });
    }

    /// The activities of a conversation, in order.
    #[must_use]
    pub fn activities(&self, conv: &str) -> Vec<Value> {
        self.state
            .lock()
            .convs
            .get(conv)
            .map(|c| c.activities.clone())
            .unwrap_or_default()
    }

    /// Every activity the connector service received from bots, in order.
    #[must_use]
    pub fn connector_received(&self) -> Vec<Value> {
        self.state.lock().received_by_connector.clone()
    }

    /// Adds an activity to a conversation as if the bot sent it (to test clients).
    #[must_use]
    pub fn push_bot_activity(&self, conv: &str, activity: Value) -> Option<String> {
        let mut inner = self.state.lock();
        inner.convs.get_mut(conv).map(|c| c.append(conv, activity))
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "byoc-sim directline",
    about = "Bot Framework token authority, connector and Direct Line 3.0 simulator"
)]
struct Cli {
    /// Port to listen on.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Direct Line secret (repeatable); built-in test secret when absent.
    #[arg(long)]
    secret: Vec<String>,
    /// Bot messaging endpoint to relay user activities to; built-in echo bot when absent.
    #[arg(long)]
    bot_url: Option<String>,
    /// The bot's Microsoft App ID.
    #[arg(long)]
    app_id: Option<String>,
    /// The bot's app password.
    #[arg(long)]
    app_password: Option<String>,
    #[command(flatten)]
    tls: crate::tls::TlsArgs,
}

/// Runs `byoc-sim directline` or `byoc-sim connector` (`args[0]`): the same server, which
/// prints `listening on http://127.0.0.1:P` first, then the credentials in use.
///
/// # Errors
/// Bad arguments, or the port cannot be bound.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(&args)?;
    let mut opts = Options {
        port: cli.port,
        bot_url: cli.bot_url,
        ..Options::default()
    };
    let builtin_secret = cli.secret.is_empty();
    if !builtin_secret {
        opts.secrets = cli.secret;
    }
    let builtin_app = cli.app_id.is_none();
    if let Some(id) = cli.app_id {
        opts.bot_app_id = id;
    }
    if let Some(p) = cli.app_password {
        opts.bot_app_password = p;
    }
    opts.tls = cli.tls.ca()?;
    let sim = DirectLineSim::start(opts).await?;
    println!("listening on {}", sim.url());
    crate::tls::print_ca(sim.ca());
    println!("direct line base url: {}", sim.directline_url());
    println!("openid metadata url: {}", sim.openid_metadata_url());
    println!(
        "token endpoint: {}/botframework.com/oauth2/v2.0/token",
        sim.url()
    );
    if builtin_secret {
        println!("direct line secret (built-in test credential): {DEFAULT_SECRET}");
    }
    if builtin_app {
        println!("bot app id (built-in test credential): {DEFAULT_BOT_APP_ID}");
        println!("bot app password (built-in test credential): {DEFAULT_BOT_APP_PASSWORD}");
    }
    match &sim.options().bot_url {
        Some(u) => println!("relaying user activities to {u}"),
        None => println!("built-in echo bot answers each message"),
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
