//! Shared setup: a TeleSign simulator, a gateway configured against it (in-process, or the
//! `byoc` binary), an agent client over the agent API.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use byoc_gateway::{Config, RunningGateway};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use serde_json::{Value, json};

pub(crate) const CUSTOMER: &str = "15555550123";
pub(crate) const OURS: &str = "15555550999";
pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) const ADMIN: &str = "admin-secret-token";

/// A workstream of humans only: Billing (alice), General (bob).
pub(crate) const HUMANS: &str = r#"
[workstreams.definition]
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }
default_queue = "Billing"
context_variables = [{ name = "Topic", type = "string" }]

[[workstreams.definition.routing_rules]]
name = "General"
queue = "General"
condition = { equals = { field = "context.Topic", value = "general" } }

[[workstreams.definition.queues]]
name = "Billing"
members = [{ id = "alice", kind = "agent", capacity = 5 }]

[[workstreams.definition.queues]]
name = "General"
members = [{ id = "bob", kind = "agent", capacity = 5 }]

[workstreams.definition.messages]
agent_joined = "{AgentName} joined."
"#;

pub(crate) async fn telesign() -> TelesignSim {
    TelesignSim::start(TelesignSimOptions::default().with_callback_retry_delays(Vec::new()))
        .await
        .unwrap()
}

/// The text of a `byoc.toml` against `telesign`, with `extra` (bots) and `workstream`.
pub(crate) fn config_text(
    telesign: &TelesignSim,
    listen: &str,
    extra: &str,
    workstream: &str,
) -> String {
    format!(
        r#"
[server]
listen = "{listen}"
shutdown_grace = "2s"

[store]
sqlite = "byoc.db"

[admin]
token = "{ADMIN}"

[outbox]
base_delay = "100ms"
max_delay = "2s"
max_attempts = 8

[channels.sms]
kind = "telesign"
customer_id = "{}"
api_key = {{ env = "BYOC_TEST_TELESIGN_KEY" }}
base_url = "{}"

{extra}

[[workstreams]]
bot_timeout = "1s"
{workstream}

[[agents]]
id = "alice"
password = "{PASSWORD}"

[[agents]]
id = "bob"
password = "{PASSWORD}"
"#,
        telesign.customer_id(),
        telesign.url(),
    )
}

pub(crate) fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("byoc.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) fn load(path: &Path, telesign: &TelesignSim) -> Config {
    let key = telesign.api_key().to_owned();
    let text = std::fs::read_to_string(path).unwrap();
    Config::from_toml_str(&text, path, &move |name| {
        (name == "BYOC_TEST_TELESIGN_KEY").then(|| key.clone())
    })
    .unwrap()
}

/// A gateway in this process against `telesign`, its callback URL set.
pub(crate) struct Env {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) telesign: TelesignSim,
    pub(crate) gateway: RunningGateway,
}

impl Env {
    pub(crate) async fn start(extra: &str, workstream: &str) -> Self {
        let telesign = telesign().await;
        Self::start_with(telesign, extra, workstream).await
    }

    pub(crate) async fn start_with(telesign: TelesignSim, extra: &str, workstream: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(
            dir.path(),
            &config_text(&telesign, "127.0.0.1:0", extra, workstream),
        );
        let gateway = byoc_gateway::start(load(&path, &telesign)).await.unwrap();
        telesign.set_callback_url(format!("{}/webhooks/sms", gateway.url()));
        Self {
            _dir: dir,
            telesign,
            gateway,
        }
    }

    pub(crate) fn agent(&self, id: &str) -> Agent {
        Agent::new(&self.gateway.url(), id)
    }

    /// Texts of the SMS the simulator accepted, in order.
    pub(crate) fn sms(&self) -> Vec<String> {
        self.telesign
            .messages()
            .into_iter()
            .map(|m| m.message)
            .collect()
    }
}

/// Polls `check` every 20 ms until it holds; panics naming `what` after `limit`.
pub(crate) async fn eventually<T>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An agent over the agent API.
pub(crate) struct Agent {
    http: reqwest::Client,
    base: String,
    pub(crate) id: String,
    pub(crate) token: Option<String>,
}

impl Agent {
    pub(crate) fn new(base: &str, id: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            id: id.to_owned(),
            token: None,
        }
    }

    pub(crate) async fn sign_in(&mut self) {
        let r = self
            .http
            .post(format!("{}/api/agent/sign-in", self.base))
            .json(&json!({ "agent": self.id, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        self.token = Some(body["token"].as_str().unwrap().to_owned());
        let (status, _) = self
            .call(
                reqwest::Method::PUT,
                "/api/agent/presence",
                Some(json!({ "presence": "available" })),
            )
            .await;
        assert_eq!(status, 200);
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Conversations this agent holds.
    pub(crate) async fn held(&self) -> Vec<String> {
        let (status, list) = self
            .call(reqwest::Method::GET, "/api/agent/conversations", None)
            .await;
        assert_eq!(status, 200, "{list}");
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["owner"]["kind"] == "agent" && c["owner"]["id"] == self.id.as_str())
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub(crate) async fn wait_held(&self) -> String {
        let started = Instant::now();
        loop {
            if let Some(id) = self.held().await.pop() {
                return id;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{} was never assigned a conversation",
                self.id
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) async fn say(&self, conversation: &str, text: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/api/agent/conversations/{conversation}/messages"),
                Some(json!({ "text": text })),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
}
