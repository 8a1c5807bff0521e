//! TeleSign SMS simulator: `POST /v1/messaging` and `GET /v1/messaging/{reference_id}` on
//! loopback, checking authentication, dates, nonces and fields as TeleSign does and
//! answering with TeleSign's JSON bodies and statuses; signed delivery reports and inbound
//! SMS posted to a callback URL; fault injection ([`crate::fault`]).
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
//! let sim = TelesignSim::start(TelesignSimOptions::default()).await?;
//! sim.set_callback_url("http://127.0.0.1:8080/webhooks/telesign");
//! println!("point the client at {}", sim.url());
//! sim.send_mo("15555550123", "15555550999", "hello").await?;
//! # Ok(()) }
//! ```
//!
//! Choices where TeleSign publishes nothing: the `Date` tolerance is 15 minutes
//! ([`TelesignSimOptions::date_tolerance`]), nonces must be 8 to 64 characters and are
//! remembered for twice the tolerance, `phone_number` must be 7 to 15 digits.

pub mod auth;
mod server;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use serde::Serialize;
use tokio::sync::Notify;

pub use auth::{Refusal, callback_authorization, decode_api_key};

use crate::fault::Faults;
use crate::tls::LocalCa;

/// The built-in test customer id (TeleSign's SDK example).
pub const TEST_CUSTOMER_ID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";
/// The built-in test API key (TeleSign's SDK example).
pub const TEST_API_KEY: &str =
    "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";

/// How the simulator is set up.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TelesignSimOptions {
    /// Accepted customer id. Default [`TEST_CUSTOMER_ID`].
    pub customer_id: String,
    /// Accepted API key. Default [`TEST_API_KEY`].
    pub api_key: String,
    /// Largest accepted clock difference of a request's date; `None` disables the check
    /// (to replay recorded vectors). Default 15 minutes.
    pub date_tolerance: Option<Duration>,
    /// Where delivery reports and inbound SMS are posted when a request names no
    /// `callback_url`. Default none.
    pub callback_url: Option<String>,
    /// Waits before a delivery report is retried after a non-2xx answer. Default
    /// TeleSign's: 10 s, then 30 s.
    pub callback_retry_delays: Vec<Duration>,
    /// Bind address. Default `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// Serve HTTPS with this CA's server certificate; `None` (the default) serves
    /// plaintext HTTP.
    pub tls: Option<Arc<LocalCa>>,
}

impl Default for TelesignSimOptions {
    fn default() -> Self {
        Self {
            customer_id: TEST_CUSTOMER_ID.to_owned(),
            api_key: TEST_API_KEY.to_owned(),
            date_tolerance: Some(Duration::from_secs(15 * 60)),
            callback_url: None,
            callback_retry_delays: vec![Duration::from_secs(10), Duration::from_secs(30)],
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: None,
        }
    }
}

impl TelesignSimOptions {
    /// Sets the credentials.
    #[must_use]
    pub fn with_credentials(
        mut self,
        customer_id: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        self.customer_id = customer_id.into();
        self.api_key = api_key.into();
        self
    }

    /// Sets the date tolerance (`None`: no check).
    #[must_use]
    pub fn with_date_tolerance(mut self, tolerance: Option<Duration>) -> Self {
        self.date_tolerance = tolerance;
        self
    }

    /// Sets the default callback URL.
    #[must_use]
    pub fn with_callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Sets the callback retry delays (empty: one attempt).
    #[must_use]
    pub fn with_callback_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.callback_retry_delays = delays;
        self
    }

    /// Serves HTTPS with a server certificate of `ca`.
    #[must_use]
    pub fn with_tls(mut self, ca: Arc<LocalCa>) -> Self {
        self.tls = Some(ca);
        self
    }

    /// Sets the bind address.
    #[must_use]
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }
}

/// One request the simulator received (after fault injection), with its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Authentication scheme (`TSA`, `Basic`) when accepted.
    pub scheme: Option<String>,
    /// Whether the date travelled in `x-ts-date`.
    pub x_ts_date: bool,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// Decoded form fields (POST).
    pub form: Vec<(String, String)>,
    /// HTTP status answered.
    pub status: u16,
    /// TeleSign code answered.
    pub code: i64,
}

impl RecordedRequest {
    /// The value of a form field.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One message accepted by `POST /v1/messaging`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SimMessage {
    /// The reference id answered.
    pub reference_id: String,
    /// `phone_number`.
    pub phone_number: String,
    /// `message`.
    pub message: String,
    /// `message_type`.
    pub message_type: String,
    /// `sender_id`.
    pub sender_id: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// Current status code (290, then the delivery report's).
    pub status_code: i64,
    /// Current status description.
    pub status_description: String,
    /// When the simulator accepted it (to time a message end to end, in this process).
    #[serde(skip)]
    pub received_at: std::time::Instant,
}

/// One callback the simulator posted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveredCallback {
    /// Where.
    pub url: String,
    /// The exact body posted.
    pub body: String,
    /// The status answered (`None`: no answer).
    pub status: Option<u16>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) options: TelesignSimOptions,
    pub(crate) inner: Mutex<Inner>,
    pub(crate) callback_posted: Notify,
    pub(crate) http: reqwest::Client,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) messages: HashMap<String, SimMessage>,
    pub(crate) order: Vec<String>,
    pub(crate) nonces: HashMap<String, chrono::DateTime<chrono::Utc>>,
    pub(crate) callbacks: Vec<DeliveredCallback>,
    pub(crate) callback_url: Option<String>,
    pub(crate) delivery: (i64, String),
}

impl State {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running TeleSign simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct TelesignSim {
    url: String,
    state: Arc<State>,
    faults: Faults,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TelesignSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TelesignSim {
    /// Starts the simulator.
    ///
    /// # Errors
    /// When the address cannot be bound or the HTTP client cannot be built.
    pub async fn start(options: TelesignSimOptions) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(options.bind).await?;
        let addr = listener.local_addr()?;
        let tls = options.tls.clone();
        let url = format!("{}://{addr}", crate::tls::scheme(tls.as_ref()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let state = Arc::new(State {
            inner: Mutex::new(Inner {
                callback_url: options.callback_url.clone(),
                delivery: (200, "Delivered to handset".to_owned()),
                ..Inner::default()
            }),
            options,
            callback_posted: Notify::new(),
            http,
        });
        let faults = Faults::new();
        let app = faults.layer(server::router(state.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            let served = crate::tls::serve(listener, tls, app, shutdown).await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "telesign simulator stopped");
            }
        });
        Ok(Self {
            url,
            state,
            faults,
            shutdown: Some(tx),
        })
    }

    /// Base URL (`http://127.0.0.1:P`, or `https://` with TLS), to use as the client's
    /// base URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA whose certificate this simulator serves, when it serves TLS.
    #[must_use]
    pub fn ca(&self) -> Option<&Arc<LocalCa>> {
        self.state.options.tls.as_ref()
    }

    /// The accepted customer id.
    #[must_use]
    pub fn customer_id(&self) -> &str {
        &self.state.options.customer_id
    }

    /// The accepted API key.
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.state.options.api_key
    }

    /// The fault queue applied to the next requests.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Sets where callbacks go when a request names none.
    pub fn set_callback_url(&self, url: impl Into<String>) {
        self.state.lock().callback_url = Some(url.into());
    }

    /// Sets the status code and description of the next delivery reports (default 200
    /// "Delivered to handset").
    pub fn set_delivery_status(&self, code: i64, description: impl Into<String>) {
        self.state.lock().delivery = (code, description.into());
    }

    /// Every request received (faulted ones excluded), oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().requests.clone()
    }

    /// Every accepted message, oldest first.
    #[must_use]
    pub fn messages(&self) -> Vec<SimMessage> {
        let inner = self.state.lock();
        inner
            .order
            .iter()
            .filter_map(|id| inner.messages.get(id).cloned())
            .collect()
    }

    /// Every callback posted so far.
    #[must_use]
    pub fn callbacks(&self) -> Vec<DeliveredCallback> {
        self.state.lock().callbacks.clone()
    }

    /// Waits until at least `n` callbacks have been posted (wrap in a timeout).
    pub async fn wait_for_callbacks(&self, n: usize) {
        loop {
            let notified = self.state.callback_posted.notified();
            if self.state.lock().callbacks.len() >= n {
                return;
            }
            notified.await;
        }
    }

    /// Posts an inbound SMS from `from` (the customer) to `to` (your TeleSign number),
    /// signed, to the callback URL. Returns the reference id and the status answered.
    ///
    /// # Errors
    /// When no callback URL is set or the post gets no answer.
    pub async fn send_mo(&self, from: &str, to: &str, text: &str) -> anyhow::Result<(String, u16)> {
        let reference_id = server::new_reference_id();
        let now = server::timestamp(chrono::Utc::now());
        let body = serde_json::json!({
            "status": {"updated_on": now, "code": 1500, "description": "Delivered to customer"},
            "submit_timestamp": now,
            "errors": [],
            "user_response": {"phone_number": from, "sender_id": to, "mo_message": text},
            "sub_resource": "mo_sms",
            "reference_id": reference_id,
        })
        .to_string();
        let status = self.send_callback(None, body).await?;
        Ok((reference_id, status))
    }

    /// Posts any body, signed as TeleSign signs callbacks, to `url` (default: the callback
    /// URL). Returns the status answered.
    ///
    /// # Errors
    /// When no URL is known or the post gets no answer.
    pub async fn send_callback(&self, url: Option<&str>, body: String) -> anyhow::Result<u16> {
        let url = match url {
            Some(u) => u.to_owned(),
            None => self
                .state
                .lock()
                .callback_url
                .clone()
                .ok_or_else(|| anyhow::anyhow!("no callback URL set"))?,
        };
        let status = server::post_callback(&self.state, &url, body).await;
        status.ok_or_else(|| anyhow::anyhow!("callback to {url} got no answer"))
    }
}

/// `byoc-sim telesign` options.
#[derive(Debug, Parser)]
#[command(name = "byoc-sim telesign", about = "TeleSign SMS API simulator")]
struct Cli {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Accepted customer id (default: a built-in test id, printed).
    #[arg(long = "customer-id")]
    customer_id: Option<String>,
    /// Accepted API key (default: a built-in test key, printed).
    #[arg(long = "api-key")]
    api_key: Option<String>,
    /// Where delivery reports and inbound SMS are posted.
    #[arg(long = "callback-url")]
    callback_url: Option<String>,
    /// Date tolerance in seconds (0: no check).
    #[arg(long = "date-tolerance-secs", default_value_t = 900)]
    date_tolerance_secs: u64,
    #[command(flatten)]
    tls: crate::tls::TlsArgs,
}

/// Runs this simulator from the command line (`args[0]` is the subcommand name). Reads
/// `mo FROM TO TEXT...` lines from standard input to inject inbound SMS.
///
/// # Errors
/// Bad arguments, or the port cannot be bound.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(args)?;
    let defaulted = cli.customer_id.is_none() || cli.api_key.is_none();
    let mut options = TelesignSimOptions::default()
        .with_credentials(
            cli.customer_id
                .unwrap_or_else(|| TEST_CUSTOMER_ID.to_owned()),
            cli.api_key.unwrap_or_else(|| TEST_API_KEY.to_owned()),
        )
        .with_bind(SocketAddr::from(([127, 0, 0, 1], cli.port)))
        .with_date_tolerance(
            (cli.date_tolerance_secs > 0).then(|| Duration::from_secs(cli.date_tolerance_secs)),
        );
    if let Some(url) = cli.callback_url {
        options = options.with_callback_url(url);
    }
    if let Some(ca) = cli.tls.ca()? {
        options = options.with_tls(ca);
    }
    let sim = TelesignSim::start(options).await?;
    println!("listening on {}", sim.url());
    crate::tls::print_ca(sim.ca());
    if defaulted {
        println!("customer id: {}", sim.customer_id());
        println!("api key: {}", sim.api_key());
    }
    println!("type `mo FROM TO TEXT` to send an inbound SMS to the callback URL");
    use tokio::io::AsyncBufReadExt as _;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    let mut words = line.split_whitespace();
                    match (words.next(), words.next(), words.next()) {
                        (Some("mo"), Some(from), Some(to)) => {
                            let text = words.collect::<Vec<_>>().join(" ");
                            match sim.send_mo(from, to, &text).await {
                                Ok((id, status)) => println!("mo {id} answered {status}"),
                                Err(e) => println!("mo failed: {e}"),
                            }
                        }
                        (None, ..) => {}
                        _ => println!("usage: mo FROM TO TEXT"),
                    }
                }
                // Standard input closed: keep serving until interrupted.
                Ok(None) | Err(_) => {
                    tokio::signal::ctrl_c().await?;
                    return Ok(());
                }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
