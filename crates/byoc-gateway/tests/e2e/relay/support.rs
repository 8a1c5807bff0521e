//! Setup for the relayed modes: the platform simulators, their channel entries in
//! `byoc.toml`, a gateway that can be stopped and started again on the same store and port,
//! and waits on async checks.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use byoc_gateway::{Config, ConversationRecord, RunningGateway};
use byoc_messaging_api::{CustomChannel, DataverseClient, DataverseConfig, EntraApp};
use byoc_sim::messaging_api::{self as masim, MessagingApiSim};
use byoc_sim::salesforce::{self as sfsim, SalesforceSim, SimConfig};
use byoc_sim::telesign::TelesignSim;
use serde_json::Value;

use crate::support::{self, ADMIN};

pub(crate) const LIMIT: Duration = Duration::from_secs(20);
/// The Salesforce rep the CCaaS workstream routes to.
pub(crate) const REP: &str = "0055g00000Jk7Qp";

/// A free loopback port (the gateway listens there across restarts, so the platform's
/// webhook stays valid).
pub(crate) fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Polls the async `check` every 25 ms until it holds; panics naming `what` after `limit`.
pub(crate) async fn until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Registers a channel record for `webhook` in the Messaging API simulator; its id.
pub(crate) async fn register(sim: &MessagingApiSim, webhook: &str) -> String {
    let o = sim.options();
    let url = url::Url::parse(sim.url()).unwrap();
    let app = EntraApp::new(
        &o.tenant_id,
        &o.client_id,
        byoc_core::Secret::new(o.client_secret.as_str()),
    )
    .unwrap();
    let dataverse = DataverseClient::new(
        DataverseConfig::new(app, url.clone())
            .unwrap()
            .with_authority(url)
            .unwrap(),
    )
    .unwrap();
    let record =
        CustomChannel::new_for_loopback("byoc e2e", &o.client_id, &o.tenant_id, webhook).unwrap();
    dataverse.create(&record).await.unwrap().to_string()
}

/// A `[channels.d365]` entry against the Messaging API simulator.
pub(crate) fn omnichannel_entry(
    sim: &MessagingApiSim,
    channel_id: Option<&str>,
    webhook: &str,
) -> String {
    let o = sim.options();
    let id = channel_id.map_or_else(String::new, |id| format!("channel_id = \"{id}\"\n"));
    format!(
        "[channels.d365]\nkind = \"messaging-api\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\norg_id = \"{}\"\nzone = \"{}\"\nbase_url = \"{u}\"\nauthority = \"{u}\"\ndataverse_url = \"{u}\"\nwebhook_url = \"{webhook}\"\n{id}\n",
        o.tenant_id,
        o.client_id,
        o.client_secret,
        o.org_id,
        o.zone,
        u = sim.url(),
    )
}

pub(crate) const OMNICHANNEL_WORKSTREAM: &str = r#"contact_center = "omnichannel"
platform = "d365"
[workstreams.definition]
name = "Relayed"
language = "en-US"
channel = { kind = "sms", id = "sms" }
context_variables = [{ name = "Topic", type = "string", is_displayable = true }]
"#;

/// A `[channels.sf]` entry against the Salesforce simulator.
pub(crate) fn salesforce_entry(sim: &SalesforceSim, deadline: &str) -> String {
    let c = sim.config();
    format!(
        "[channels.sf]\nkind = \"salesforce\"\nconsumer_key = \"{}\"\nusername = \"{}\"\nprivate_key = '''\n{}'''\norg_id = \"{}\"\nlogin_url = \"{u}\"\nscrt_url = \"{u}\"\ninstance_url = \"{u}\"\npubsub_url = \"{}\"\nchannel_address = \"{}\"\nchannel_definition = \"{}\"\nplatform_event = \"{}\"\nevent_type_field = \"{}\"\npayload_field = \"{}\"\nreplay_start = \"earliest\"\nreconnect_delay = \"50ms\"\nrouting_deadline = \"{deadline}\"\n[channels.sf.queues]\nSupport = \"00G5g000000SuPpA\"\n",
        c.consumer_key,
        c.username,
        sfsim::TEST_PRIVATE_KEY_PEM.trim_end(),
        c.org_id,
        sim.pubsub_url(),
        c.channel_address,
        c.authorization_context,
        c.platform_event,
        c.event_type_field,
        c.payload_field,
        u = sim.url(),
    )
}

/// The workstream of a Salesforce mode (`salesforce` or `salesforce-ccaas`).
pub(crate) fn salesforce_workstream(mode: &str) -> String {
    format!(
        r#"contact_center = "{mode}"
platform = "sf"
[workstreams.definition]
name = "Relayed"
language = "en-US"
channel = {{ kind = "sms", id = "sms" }}
default_queue = "Support"
routing_rules = []
[[workstreams.definition.queues]]
name = "Support"
members = [{{ id = "{REP}", name = "Grace Liu", kind = "agent", capacity = 5 }}]
"#
    )
}

pub(crate) async fn salesforce_sim() -> SalesforceSim {
    SalesforceSim::start(SimConfig::default().with_keepalive(Duration::from_millis(300)))
        .await
        .unwrap()
}

pub(crate) async fn messaging_api_sim() -> MessagingApiSim {
    let mut o = masim::Options::default();
    o.webhook_retry_delay = Duration::from_millis(50);
    MessagingApiSim::start(o).await.unwrap()
}

/// A gateway in this process on a fixed port and store, which a test may stop and start.
pub(crate) struct Relay {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) telesign: TelesignSim,
    pub(crate) port: u16,
    pub(crate) gateway: Option<RunningGateway>,
    extra: String,
    workstream: String,
}

impl Relay {
    pub(crate) async fn start(port: u16, extra: String, workstream: &str) -> Self {
        let telesign = support::telesign().await;
        let mut relay = Self {
            dir: tempfile::tempdir().unwrap(),
            telesign,
            port,
            gateway: None,
            extra,
            workstream: workstream.to_owned(),
        };
        relay.up().await;
        relay
    }

    fn config_path(&self) -> PathBuf {
        support::write_config(
            self.dir.path(),
            &support::config_text(
                &self.telesign,
                &format!("127.0.0.1:{}", self.port),
                &self.extra,
                &self.workstream,
            ),
        )
    }

    fn config(&self) -> Config {
        support::load(&self.config_path(), &self.telesign)
    }

    /// Starts the gateway (again).
    pub(crate) async fn up(&mut self) {
        let gateway = byoc_gateway::start(self.config()).await.unwrap();
        self.telesign
            .set_callback_url(format!("{}/webhooks/sms", gateway.url()));
        self.gateway = Some(gateway);
    }

    /// Stops the gateway gracefully (its store stays).
    pub(crate) async fn down(&mut self) {
        if let Some(g) = self.gateway.take() {
            g.shutdown().await;
        }
    }

    pub(crate) fn gw(&self) -> &RunningGateway {
        self.gateway.as_ref().unwrap()
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Texts of the SMS the simulator accepted, in order.
    pub(crate) fn sms(&self) -> Vec<String> {
        self.telesign
            .messages()
            .into_iter()
            .map(|m| m.message)
            .collect()
    }

    pub(crate) async fn text(&self, text: &str) {
        let (_, status) = self
            .telesign
            .send_mo(support::CUSTOMER, support::OURS, text)
            .await
            .unwrap();
        assert_eq!(status, 200);
    }

    /// The newest conversation.
    pub(crate) async fn newest(&self) -> Option<ConversationRecord> {
        self.gw()
            .relay_store()
            .recent_conversations(false, 1)
            .await
            .unwrap()
            .into_iter()
            .next()
            .map(|r| r.record)
    }

    pub(crate) async fn admin(&self, path: &str) -> (u16, String) {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.url()))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub(crate) async fn admin_json(&self, path: &str) -> Value {
        let (status, body) = self.admin(path).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Notes of a conversation's transcript (admin API).
    pub(crate) async fn notes(&self, id: &str) -> Vec<String> {
        let detail = self
            .admin_json(&format!("/api/admin/conversations/{id}"))
            .await;
        detail["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["note"].as_str().map(str::to_owned))
            .collect()
    }
}

pub(crate) fn count(list: &[String], text: &str) -> usize {
    list.iter().filter(|t| *t == text).count()
}
