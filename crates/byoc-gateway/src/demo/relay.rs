//! `byoc demo --contact-center <omnichannel|salesforce>`: the gateway relaying SMS to a
//! contact-center platform's simulator, whose agent is played through the simulator's
//! agent-side API (in the script, by `/agent` lines, or with `byoc-sim agent ...`).
//!
//! - **omnichannel**: the Messaging API simulator (Entra, the Messaging API, Dataverse). The
//!   channel record is registered the way `byoc channel register` does it (created, then
//!   updated with the gateway's webhook once it listens); the customer's first SMS creates
//!   the Omnichannel conversation; the agent accepts and answers on the gateway's webhook.
//! - **salesforce**: the Salesforce simulator (token endpoint, Interaction Service, Pub/Sub)
//!   in BYOC for CCaaS with byoc as the routing owner: the customer's SMS goes in as an
//!   interaction, byoc's router picks the rep and answers with `/route`, `/agentWork` and
//!   `/routingResult`, and the rep's replies come back over Pub/Sub.

mod script;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use byoc_sim::messaging_api::{self as masim, MessagingApiSim};
use byoc_sim::salesforce::{self as sfsim, SalesforceSim, SimConfig};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};

use super::{CUSTOMER, DemoError, OUR_NUMBER, print_hops_of, print_sms_of, random_secret};
use crate::config::Config;
use crate::gateway::RunningGateway;
use crate::relay::register::{self, Action};

pub(crate) use script::script;

/// The Salesforce rep of the demo (a queue member of the CCaaS workstream).
pub(crate) const REP_ID: &str = "0055g00000Jk7Qp";
/// The rep's name.
pub(crate) const REP_NAME: &str = "Grace Liu";

/// The platform simulator of a relay demo.
pub(crate) enum PlatformSim {
    Omnichannel(MessagingApiSim),
    Salesforce(SalesforceSim),
}

/// Everything a relay demo runs.
pub(crate) struct RelayDemo {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) config_path: PathBuf,
    pub(crate) telesign: Arc<TelesignSim>,
    pub(crate) platform: PlatformSim,
    pub(crate) gateway: RunningGateway,
    pub(crate) admin_token: String,
}

/// The head of every demo's `byoc.toml`: server, store, admin token, outbox pacing and the
/// TeleSign channel `sms`.
pub(super) fn common(telesign: &TelesignSim, admin: &str) -> String {
    format!(
        r#"# Written by `byoc demo`: every provider is a simulator on loopback.
[server]
listen = "127.0.0.1:0"
shutdown_grace = "3s"

[store]
sqlite = "byoc.db"

[admin]
token = "{admin}"

[outbox]
base_delay = "200ms"
max_delay = "5s"

[channels.sms]
kind = "telesign"
customer_id = "{customer_id}"
api_key = "{api_key}"
base_url = "{telesign_url}"
"#,
        customer_id = telesign.customer_id(),
        api_key = telesign.api_key(),
        telesign_url = telesign.url(),
    )
}

fn omnichannel_channel(sim: &MessagingApiSim, channel_id: Option<&str>, webhook: &str) -> String {
    let o = sim.options();
    let id = channel_id.map_or_else(String::new, |id| format!("channel_id = \"{id}\"\n"));
    format!(
        r#"
[channels.d365]
kind = "messaging-api"
tenant_id = "{tenant}"
client_id = "{client}"
client_secret = "{secret}"
org_id = "{org}"
zone = "{zone}"
base_url = "{url}"
authority = "{url}"
dataverse_url = "{url}"
webhook_url = "{webhook}"
record_name = "byoc demo SMS"
{id}"#,
        tenant = o.tenant_id,
        client = o.client_id,
        secret = o.client_secret,
        org = o.org_id,
        zone = o.zone,
        url = sim.url(),
    )
}

const OMNICHANNEL_WORKSTREAM: &str = r#"
[[workstreams]]
contact_center = "omnichannel"
platform = "d365"

[workstreams.definition]
name = "Demo support (Omnichannel)"
language = "en-US"
channel = { kind = "sms", id = "sms" }
context_variables = [{ name = "Channel", type = "string", is_displayable = true }]
"#;

fn salesforce_channel(sim: &SalesforceSim) -> String {
    let c = sim.config();
    format!(
        r#"
[channels.sf]
kind = "salesforce"
consumer_key = "{key}"
username = "{user}"
private_key = '''
{pem}'''
org_id = "{org}"
login_url = "{url}"
scrt_url = "{url}"
instance_url = "{url}"
pubsub_url = "{pubsub}"
channel_address = "{address}"
channel_definition = "{ccd}"
platform_event = "{event}"
event_type_field = "{type_field}"
payload_field = "{payload_field}"
replay_start = "earliest"
reconnect_delay = "200ms"

[channels.sf.queues]
Support = "00G5g000000SuPpA"

[[workstreams]]
contact_center = "salesforce-ccaas"
platform = "sf"

[workstreams.definition]
name = "Demo support (Salesforce)"
language = "en-US"
channel = {{ kind = "sms", id = "sms" }}
default_queue = "Support"
routing_rules = []

[[workstreams.definition.queues]]
name = "Support"
members = [{{ id = "{rep}", name = "{rep_name}", kind = "agent", capacity = 3 }}]
"#,
        key = c.consumer_key,
        user = c.username,
        pem = sfsim::TEST_PRIVATE_KEY_PEM.trim_end(),
        org = c.org_id,
        url = sim.url(),
        pubsub = sim.pubsub_url(),
        address = c.channel_address,
        ccd = c.authorization_context,
        event = c.platform_event,
        type_field = c.event_type_field,
        payload_field = c.payload_field,
        rep = REP_ID,
        rep_name = REP_NAME,
    )
}

fn load(path: &Path, text: &str) -> Result<Config, DemoError> {
    std::fs::write(path, text).map_err(|e| DemoError::at("setup", e))?;
    Config::load(path).map_err(|e| DemoError::at("configuration", e))
}

impl RelayDemo {
    /// Starts the simulators and the gateway for `salesforce` or Omnichannel.
    pub(crate) async fn start(salesforce: bool) -> Result<Self, DemoError> {
        let dir = tempfile::tempdir().map_err(|e| DemoError::at("setup", e))?;
        let telesign = TelesignSim::start(
            TelesignSimOptions::default().with_callback_retry_delays(Vec::new()),
        )
        .await
        .map_err(|e| DemoError::at("telesign simulator", e))?;
        let admin_token = random_secret();
        let config_path = dir.path().join("byoc.toml");
        let base = common(&telesign, &admin_token);
        let (platform, gateway) = if salesforce {
            let sim = SalesforceSim::start(SimConfig::default())
                .await
                .map_err(|e| DemoError::at("salesforce simulator", e))?;
            let config = load(&config_path, &format!("{base}{}", salesforce_channel(&sim)))?;
            let gateway = crate::gateway::start(config)
                .await
                .map_err(|e| DemoError::at("gateway start", e))?;
            (PlatformSim::Salesforce(sim), gateway)
        } else {
            let mut opts = masim::Options::default();
            opts.webhook_retry_delay = std::time::Duration::from_millis(200);
            let sim = MessagingApiSim::start(opts)
                .await
                .map_err(|e| DemoError::at("messaging api simulator", e))?;
            // The channel record first (its id goes in the config), with a placeholder
            // webhook; updated once the gateway listens.
            let placeholder = "http://127.0.0.1:9/webhooks/d365";
            let config = load(
                &config_path,
                &format!("{base}{}", omnichannel_channel(&sim, None, placeholder)),
            )?;
            let id = register::create(&config, "d365")
                .await
                .map_err(|e| DemoError::at("channel registration", e))?
                .to_string();
            let channel = omnichannel_channel(&sim, Some(&id), placeholder);
            let config = load(
                &config_path,
                &format!("{base}{channel}{OMNICHANNEL_WORKSTREAM}"),
            )?;
            let gateway = crate::gateway::start(config)
                .await
                .map_err(|e| DemoError::at("gateway start", e))?;
            let webhook = format!("{}/webhooks/d365", gateway.url());
            let channel = omnichannel_channel(&sim, Some(&id), &webhook);
            let config = load(
                &config_path,
                &format!("{base}{channel}{OMNICHANNEL_WORKSTREAM}"),
            )?;
            register::run(&config, "d365", Action::Update, None)
                .await
                .map_err(|e| DemoError::at("channel registration", e))?;
            (PlatformSim::Omnichannel(sim), gateway)
        };
        telesign.set_callback_url(format!("{}/webhooks/sms", gateway.url()));
        Ok(Self {
            dir,
            config_path,
            telesign: Arc::new(telesign),
            platform,
            gateway,
            admin_token,
        })
    }

    fn print_banner(&self) {
        let gw = self.gateway.url();
        println!(
            "byoc demo: the gateway relays SMS to a contact-center simulator, all on loopback."
        );
        println!();
        println!("  gateway          {gw}   (/healthz, /readyz, /metrics)");
        println!(
            "  telesign sim     {}   (customer {CUSTOMER} texts our number {OUR_NUMBER})",
            self.telesign.url()
        );
        match &self.platform {
            PlatformSim::Omnichannel(sim) => {
                println!(
                    "  messaging api    {}   (Omnichannel, Entra and Dataverse)",
                    sim.url()
                );
                println!(
                    "  webhook          {gw}/webhooks/d365/v3/conversations/{{id}}/activities"
                );
            }
            PlatformSim::Salesforce(sim) => {
                println!(
                    "  salesforce sim   {}   (Interaction Service; Pub/Sub {})",
                    sim.url(),
                    sim.pubsub_url()
                );
            }
        }
        println!("  config           {}", self.config_path.display());
        println!(
            "  store            {}",
            self.dir.path().join("byoc.db").display()
        );
        println!();
        println!("Try it:");
        println!("  - type a line and press Enter: it is texted to the gateway from {CUSTOMER}");
        println!("  - type `/agent <text>` to answer as the platform's agent");
        println!("  - or play the agent with byoc-sim (another terminal):");
        match &self.platform {
            PlatformSim::Omnichannel(sim) => {
                let u = sim.url();
                println!("      cargo run -p byoc-sim -- agent omnichannel --sim {u} list");
                println!("      cargo run -p byoc-sim -- agent omnichannel --sim {u} accept");
                println!(
                    "      cargo run -p byoc-sim -- agent omnichannel --sim {u} say \"Hello, Rosa here\""
                );
                println!("      cargo run -p byoc-sim -- agent omnichannel --sim {u} close");
            }
            PlatformSim::Salesforce(sim) => {
                let u = sim.url();
                println!(
                    "      cargo run -p byoc-sim -- agent salesforce --sim {u} --end-user {CUSTOMER} joins"
                );
                println!(
                    "      cargo run -p byoc-sim -- agent salesforce --sim {u} --end-user {CUSTOMER} says \"Hi, Grace here\""
                );
                println!(
                    "      cargo run -p byoc-sim -- agent salesforce --sim {u} --end-user {CUSTOMER} escalates"
                );
                println!(
                    "      cargo run -p byoc-sim -- agent salesforce --sim {u} --end-user {CUSTOMER} ends"
                );
            }
        }
        println!(
            "  - conversations: curl -s {gw}/api/admin/conversations -H 'authorization: Bearer {}'",
            self.admin_token
        );
        println!("  - Ctrl-C stops everything.");
        println!();
    }

    /// The platform's agent says `text` to the newest conversation (accepting or joining
    /// it first).
    pub(crate) async fn agent_says(&self, text: &str) -> Result<(), String> {
        match &self.platform {
            PlatformSim::Omnichannel(sim) => {
                let conv = sim
                    .conversations()
                    .into_iter()
                    .rev()
                    .find(|c| c.state.is_active())
                    .ok_or("no open Omnichannel conversation yet")?;
                let agent = sim.agent();
                if conv.state != masim::state::SimState::Active {
                    agent.accepts(&conv.id).await.map_err(|e| e.to_string())?;
                }
                agent
                    .says(&conv.id, text)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            PlatformSim::Salesforce(sim) => {
                sim.agent_says(CUSTOMER, REP_ID, REP_NAME, text)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

/// Runs the relay demo, scripted (`once`) or interactive.
///
/// # Errors
/// [`DemoError`] naming the hop that failed.
pub(crate) async fn run(once: bool, salesforce: bool) -> Result<(), DemoError> {
    let demo = RelayDemo::start(salesforce).await?;
    let printer = print_hops_of(&demo.gateway);
    if once {
        let result = script(&demo).await;
        printer.abort();
        demo.gateway.shutdown().await;
        return result;
    }
    demo.print_banner();
    let sms_printer = print_sms_of(Arc::clone(&demo.telesign));
    {
        let demo = &demo;
        super::converse(&demo.telesign, |text| async move {
            demo.agent_says(&text).await
        })
        .await;
    }
    printer.abort();
    sms_printer.abort();
    demo.gateway.shutdown().await;
    Ok(())
}
