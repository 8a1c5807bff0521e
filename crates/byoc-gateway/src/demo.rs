//! `byoc demo`: the gateway, the TeleSign and Bot Framework simulators and a sample bot, all
//! on loopback, configured through a real `byoc.toml` written to a temporary directory.
//!
//! The path of a conversation: an SMS from the customer reaches the gateway's TeleSign
//! webhook (signed by the simulator), the gateway hands it to the sample bot through the
//! Direct Line simulator (which relays it to the bot's messaging endpoint with a channel
//! JWT), the bot answers through the connector (with its client-credentials JWT) and the
//! gateway reads the answer back over Direct Line and texts it to the customer. When the
//! bot escalates, the conversation goes to a human queue; the agent answers through the
//! agent API, and that answer leaves as an SMS.

mod bot;
mod once;
mod relay;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use byoc_directline::{ConnectorAdapter, ConnectorConfig};
use byoc_sim::directline::{self as dlsim, DirectLineSim};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use tokio::io::AsyncBufReadExt as _;

use crate::config::Config;
use crate::gateway::RunningGateway;

/// The customer's number in the demo.
pub(crate) const CUSTOMER: &str = "15555550123";
/// The gateway's TeleSign number in the demo.
pub(crate) const OUR_NUMBER: &str = "15555550999";

/// Why the demo stopped: the hop that failed and why.
#[derive(Debug, thiserror::Error)]
#[error("hop `{hop}` failed: {reason}")]
#[non_exhaustive]
pub struct DemoError {
    /// The hop (`sms in`, `bot greeting`, `hand-off`, ...).
    pub hop: &'static str,
    /// What went wrong.
    pub reason: String,
}

impl DemoError {
    pub(crate) fn at(hop: &'static str, reason: impl std::fmt::Display) -> Self {
        Self {
            hop,
            reason: reason.to_string(),
        }
    }
}

/// Everything the demo runs.
pub(crate) struct Demo {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) config_path: PathBuf,
    pub(crate) telesign: Arc<TelesignSim>,
    pub(crate) directline: DirectLineSim,
    pub(crate) gateway: RunningGateway,
    pub(crate) agent_password: String,
    pub(crate) admin_token: String,
    bot_url: String,
}

pub(crate) fn random_secret() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The demo's `byoc.toml`.
fn config_text(
    telesign: &TelesignSim,
    directline: &DirectLineSim,
    password: &str,
    admin: &str,
) -> String {
    let rest = format!(
        r#"
[bots.helper]
directline_url = "{directline_url}"
secret = "{dl_secret}"
poll_interval = "200ms"

[[workstreams]]
contact_center = "byoc"
bot_timeout = "30s"

[workstreams.definition]
name = "Demo support"
language = "en-US"
channel = {{ kind = "sms", id = "sms" }}
default_queue = "General"
context_variables = [
    {{ name = "BotHandoffTopic", type = "string", is_displayable = true }},
    {{ name = "CustomerQuestion", type = "string", is_displayable = true }},
]

# Hours in the queues' own time zones: the billing desk never closes; the general desk
# keeps office hours in Paris and lets customers wait, with a note, outside them.
[[workstreams.definition.operating_hours]]
name = "BillingDesk"
time_zone = "America/New_York"
monday = ["00:00-24:00"]
tuesday = ["00:00-24:00"]
wednesday = ["00:00-24:00"]
thursday = ["00:00-24:00"]
friday = ["00:00-24:00"]
saturday = ["00:00-24:00"]
sunday = ["00:00-24:00"]

[[workstreams.definition.operating_hours]]
name = "Office"
time_zone = "Europe/Paris"
monday = ["08:00-20:00"]
tuesday = ["08:00-20:00"]
wednesday = ["08:00-20:00"]
thursday = ["08:00-20:00"]
friday = ["08:00-20:00"]

# The bot's topic names the skill the conversation needs (the hand-off sets it). A
# returning customer goes back to the agent who last helped them, if free within 30 s.
[[workstreams.definition.routing_rules]]
name = "Billing questions"
queue = "Billing"
priority = 2
condition = {{ equals = {{ field = "context.BotHandoffTopic", value = "billing" }} }}
skills = [{{ from = "context.BotHandoffTopic", proficiency = 3 }}]
preferred_agent = {{ from = "customer.last_agent", wait = "30s" }}

[[workstreams.definition.routing_rules]]
name = "Bot first"
queue = "Bots"

[[workstreams.definition.queues]]
name = "Bots"
members = [{{ id = "helper", kind = "bot" }}]

# Offered to one agent at a time, who accepts or declines within a minute; after two
# offers declined or unanswered (or were it ever closed) the conversation moves to General.
[[workstreams.definition.queues]]
name = "Billing"
operating_hours = "BillingDesk"
offer = {{ timeout = "60s" }}
overflow = [
    {{ when = "closed", then = {{ transfer = "General" }} }},
    {{ when = {{ offers_failed = 2 }}, then = {{ transfer = "General" }} }},
]
members = [{{ id = "alice", name = "Alice", kind = "agent", capacity = 3, skills = {{ billing = 4 }} }}]

[[workstreams.definition.queues]]
name = "General"
operating_hours = "Office"
overflow = [
    {{ when = "closed", then = {{ wait = "We are closed now (office hours are 8:00-20:00 Paris time); an agent will answer when we open." }} }},
]
members = [
    {{ id = "alice", name = "Alice", kind = "agent", capacity = 3, skills = {{ billing = 4 }} }},
    {{ id = "bob", name = "Bob", kind = "agent", capacity = 2 }},
]

[workstreams.definition.messages]
agent_joined = "{{AgentName}} joined the conversation."
queue_position = "All agents are busy; you are number {{QueuePosition}} in line."
transferred = "We are moving you to {{QueueName}}."
conversation_ended = "Thanks for contacting us. Goodbye!"

[[agents]]
id = "alice"
name = "Alice"
password = "{password}"

[[agents]]
id = "bob"
name = "Bob"
password = "{password}"
"#,
        directline_url = directline.directline_url(),
        dl_secret = dlsim::DEFAULT_SECRET,
    );
    relay::common(telesign, admin) + &rest
}

impl Demo {
    /// Starts the simulators, the sample bot and the gateway.
    pub(crate) async fn start() -> Result<Self, DemoError> {
        let dir = tempfile::tempdir().map_err(|e| DemoError::at("setup", e))?;
        let telesign = TelesignSim::start(
            TelesignSimOptions::default().with_callback_retry_delays(Vec::new()),
        )
        .await
        .map_err(|e| DemoError::at("telesign simulator", e))?;
        let bot_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| DemoError::at("sample bot", e))?;
        let bot_addr = bot_listener
            .local_addr()
            .map_err(|e| DemoError::at("sample bot", e))?;
        let bot_url = format!("http://{bot_addr}/api/messages");
        let directline =
            DirectLineSim::start(dlsim::Options::default().with_bot_url(bot_url.clone()))
                .await
                .map_err(|e| DemoError::at("direct line simulator", e))?;
        let sample_bot = |e: &dyn std::fmt::Display| DemoError::at("sample bot", e.to_string());
        let login_url = url::Url::parse(directline.url()).map_err(|e| sample_bot(&e))?;
        let openid_url =
            url::Url::parse(&directline.openid_metadata_url()).map_err(|e| sample_bot(&e))?;
        let connector = ConnectorConfig::new(
            dlsim::DEFAULT_BOT_APP_ID,
            byoc_core::Secret::new(dlsim::DEFAULT_BOT_APP_PASSWORD),
        )
        .and_then(|c| c.with_authority(login_url, openid_url, dlsim::CHANNEL_ISSUER))
        .map_err(|e| sample_bot(&e))?;
        let endpoint = Arc::new(ConnectorAdapter::new(connector).map_err(|e| sample_bot(&e))?);
        let app = bot::app(endpoint);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(bot_listener, app).await {
                tracing::error!(error = %e, "sample bot stopped");
            }
        });

        let agent_password = random_secret();
        let admin_token = random_secret();
        let config_path = dir.path().join("byoc.toml");
        let text = config_text(&telesign, &directline, &agent_password, &admin_token);
        std::fs::write(&config_path, &text).map_err(|e| DemoError::at("setup", e))?;
        let config = Config::load(&config_path).map_err(|e| DemoError::at("configuration", e))?;
        let gateway = crate::gateway::start(config)
            .await
            .map_err(|e| DemoError::at("gateway start", e))?;
        telesign.set_callback_url(format!("{}/webhooks/sms", gateway.url()));
        Ok(Self {
            dir,
            config_path,
            telesign: Arc::new(telesign),
            directline,
            gateway,
            agent_password,
            admin_token,
            bot_url,
        })
    }

    fn print_banner(&self) {
        let gw = self.gateway.url();
        println!("byoc demo: everything runs on loopback with simulators.");
        println!();
        println!("  gateway          {gw}   (/healthz, /readyz, /metrics)");
        println!("  sms webhook      {gw}/webhooks/sms");
        println!(
            "  telesign sim     {}   (customer {CUSTOMER} texts our number {OUR_NUMBER})",
            self.telesign.url()
        );
        println!("  direct line sim  {}", self.directline.directline_url());
        println!("  sample bot       {}", self.bot_url);
        println!("  config           {}", self.config_path.display());
        println!(
            "  store            {}",
            self.dir.path().join("byoc.db").display()
        );
        println!();
        println!("Try it:");
        println!("  - type a line and press Enter: it is texted to the gateway from {CUSTOMER}");
        println!(
            "    (say hello, then name a topic such as \"billing\": the bot hands you to an agent)"
        );
        println!("  - type `/agent <text>` to answer as agent alice (signed in and available)");
        println!("  - or use the agent API yourself:");
        println!(
            "      curl -s {gw}/api/agent/sign-in -H 'content-type: application/json' -d '{{\"agent\":\"alice\",\"password\":\"{}\"}}'",
            self.agent_password
        );
        println!("      curl -s {gw}/api/agent/conversations -H 'authorization: Bearer <token>'");
        println!(
            "  - dead letters: curl -s {gw}/api/admin/dead-letters -H 'authorization: Bearer {}'",
            self.admin_token
        );
        println!("  - Ctrl-C stops everything.");
        println!();
    }
}

/// Which contact center `byoc demo` shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum DemoContactCenter {
    /// byoc's own bot, queues and agents.
    #[default]
    Byoc,
    /// Dynamics 365 Omnichannel through the Messaging API (its simulator).
    Omnichannel,
    /// Salesforce BYOC for CCaaS, byoc routing (its simulator).
    Salesforce,
}

/// Prints each hop as it happens.
fn print_hops(demo: &Demo) -> tokio::task::JoinHandle<()> {
    print_hops_of(&demo.gateway)
}

/// Prints each hop of `gateway` as it happens.
pub(crate) fn print_hops_of(gateway: &RunningGateway) -> tokio::task::JoinHandle<()> {
    let mut hops = gateway.hops();
    tokio::spawn(async move {
        loop {
            match hops.recv().await {
                Ok(hop) => println!("{} {hop}", chrono::Utc::now().format("%H:%M:%S")),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    println!("({n} hops not shown)")
                }
                Err(_) => return,
            }
        }
    })
}

/// Runs `byoc demo` (interactive) or `byoc demo --once` (scripted) with byoc's own
/// contact center.
///
/// # Errors
/// [`DemoError`] naming the hop that failed.
pub async fn run(once: bool) -> Result<(), DemoError> {
    run_with(once, DemoContactCenter::Byoc).await
}

/// Runs `byoc demo [--once] --contact-center <byoc|omnichannel|salesforce>`.
///
/// # Errors
/// [`DemoError`] naming the hop that failed.
pub async fn run_with(once: bool, contact_center: DemoContactCenter) -> Result<(), DemoError> {
    match contact_center {
        DemoContactCenter::Omnichannel => return relay::run(once, false).await,
        DemoContactCenter::Salesforce => return relay::run(once, true).await,
        DemoContactCenter::Byoc => {}
    }
    let demo = Demo::start().await?;
    if once {
        let printer = print_hops(&demo);
        let result = once::script(&demo).await;
        printer.abort();
        demo.gateway.shutdown().await;
        return result;
    }
    let mut agent = once::AgentClient::new(&demo.gateway.url(), "alice", &demo.agent_password);
    // Alice is online from the start, so a hand-off reaches her at once.
    agent
        .sign_in()
        .await
        .map_err(|e| DemoError::at("agent sign-in", e))?;
    demo.print_banner();
    let printer = print_hops(&demo);
    let sms_printer = print_sms(&demo);
    // Typed lines come one at a time; the lock only lends the client to each answer.
    let agent = tokio::sync::Mutex::new(agent);
    let agent = &agent;
    converse(&demo.telesign, |text| async move {
        agent.lock().await.reply_to_latest(&text).await
    })
    .await;
    printer.abort();
    sms_printer.abort();
    demo.gateway.shutdown().await;
    Ok(())
}

/// Until Ctrl-C: each line typed is texted to the gateway from the demo customer, and
/// `/agent <text>` is handed to `agent_says` (the demo agent's answer). Without a terminal
/// (stdin closed) it waits for Ctrl-C.
pub(crate) async fn converse<F, Fut, E>(telesign: &TelesignSim, mut agent_says: F)
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    if let Some(text) = line.strip_prefix("/agent ") {
                        if let Err(e) = agent_says(text.to_owned()).await {
                            println!("agent reply failed: {e}");
                        }
                    } else if let Err(e) = telesign.send_mo(CUSTOMER, OUR_NUMBER, line).await {
                        println!("sms not sent: {e}");
                    }
                }
                Ok(None) | Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    break;
                }
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
}

fn print_sms(demo: &Demo) -> tokio::task::JoinHandle<()> {
    print_sms_of(Arc::clone(&demo.telesign))
}

/// Prints each SMS the simulator delivers to the customer.
pub(crate) fn print_sms_of(telesign: Arc<TelesignSim>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let all = telesign.messages();
            for m in all.iter().skip(seen) {
                println!(
                    "{} sms -> {}: {:?}",
                    chrono::Utc::now().format("%H:%M:%S"),
                    m.phone_number,
                    m.message
                );
            }
            seen = all.len();
        }
    })
}
