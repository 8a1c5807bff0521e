//! `byoc demo --once`: one scripted conversation through every hop, and an agent client
//! over the agent API (also used by the interactive demo's `/agent` command).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{CUSTOMER, Demo, DemoError, OUR_NUMBER, bot};

/// How long one hop may take.
const HOP_TIMEOUT: Duration = Duration::from_secs(30);

/// An agent using the agent API over HTTP.
pub(crate) struct AgentClient {
    http: reqwest::Client,
    base: String,
    agent: String,
    password: String,
    token: Option<String>,
}

impl AgentClient {
    pub(crate) fn new(base: &str, agent: &str, password: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            agent: agent.to_owned(),
            password: password.to_owned(),
            token: None,
        }
    }

    async fn token(&mut self) -> Result<String, String> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let resp = self
            .http
            .post(format!("{}/api/agent/sign-in", self.base))
            .json(&json!({ "agent": self.agent, "password": self.password }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("sign-in answered {}", resp.status()));
        }
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        let token = body["token"]
            .as_str()
            .ok_or("no token in the answer")?
            .to_owned();
        self.token = Some(token.clone());
        self.call(
            reqwest::Method::PUT,
            "/api/agent/presence",
            Some(json!({ "presence": "available" })),
        )
        .await?;
        Ok(token)
    }

    pub(crate) async fn call(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let token = match &self.token {
            Some(t) => t.clone(),
            None => Box::pin(self.token()).await?,
        };
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{path} answered {status}: {body}"));
        }
        Ok(body)
    }

    /// Signs in (presence available).
    pub(crate) async fn sign_in(&mut self) -> Result<(), String> {
        self.token().await.map(|_| ())
    }

    /// The id of the newest conversation this agent holds.
    pub(crate) async fn held(&mut self) -> Result<Option<String>, String> {
        let list = self
            .call(reqwest::Method::GET, "/api/agent/conversations", None)
            .await?;
        Ok(list["conversations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["owner"]["kind"] == "agent" && c["owner"]["id"] == self.agent.as_str())
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .next_back())
    }

    /// The conversation offered to this agent, if one is.
    pub(crate) async fn offered(&mut self) -> Result<Option<String>, String> {
        let list = self
            .call(reqwest::Method::GET, "/api/agent/conversations", None)
            .await?;
        Ok(list["conversations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["offered_to"] == self.agent.as_str())
            .find_map(|c| c["id"].as_str().map(str::to_owned)))
    }

    /// Answers the newest conversation this agent holds.
    pub(crate) async fn reply_to_latest(&mut self, text: &str) -> Result<(), String> {
        // First accepting one waiting in its queues when it holds none.
        let id = match self.held().await? {
            Some(id) => id,
            None => self.accept_waiting().await?,
        };
        self.call(
            reqwest::Method::POST,
            &format!("/api/agent/conversations/{id}/messages"),
            Some(json!({ "text": text })),
        )
        .await
        .map(|_| ())
    }
}

impl AgentClient {
    async fn accept_waiting(&mut self) -> Result<String, String> {
        let list = self
            .call(reqwest::Method::GET, "/api/agent/conversations", None)
            .await?;
        // The one offered to this agent first, else one waiting in a queue without offers.
        let conversations: Vec<&Value> = list["conversations"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let waiting = conversations
            .iter()
            .find(|c| c["offered_to"] == self.agent.as_str())
            .or_else(|| {
                conversations
                    .iter()
                    .find(|c| c["owner"]["kind"] == "queue" && c["offered_to"].is_null())
            })
            .and_then(|c| c["id"].as_str().map(str::to_owned))
            .ok_or("no conversation is offered to this agent or waiting in its queues")?;
        self.call(
            reqwest::Method::POST,
            &format!("/api/agent/conversations/{waiting}/accept"),
            None,
        )
        .await?;
        let started = Instant::now();
        while started.elapsed() < HOP_TIMEOUT {
            if self.held().await?.as_deref() == Some(waiting.as_str()) {
                return Ok(waiting);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("the accepted conversation was not assigned".to_owned())
    }
}

/// Polls `check` until it yields a value, fails, or [`HOP_TIMEOUT`] passes; errors name
/// `hop`.
pub(crate) async fn until<T, F, Fut>(hop: &'static str, mut check: F) -> Result<T, DemoError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, String>>,
{
    let started = Instant::now();
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => return Err(DemoError::at(hop, e)),
        }
        if started.elapsed() > HOP_TIMEOUT {
            return Err(DemoError::at(
                hop,
                format!("nothing after {}s", HOP_TIMEOUT.as_secs()),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asks the agent client until it answers something.
async fn poll<T>(
    agent: &mut AgentClient,
    hop: &'static str,
    mut ask: impl FnMut(
        &mut AgentClient,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Option<T>, String>> + Send + '_>,
    >,
) -> Result<T, DemoError> {
    let started = Instant::now();
    loop {
        match ask(agent).await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) if started.elapsed() < HOP_TIMEOUT => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(None) => {
                return Err(DemoError::at(
                    hop,
                    format!("nothing after {}s", HOP_TIMEOUT.as_secs()),
                ));
            }
            Err(e) => return Err(DemoError::at(hop, e)),
        }
    }
}

/// SMS delivered to the customer so far.
fn sms_texts(demo: &Demo) -> Vec<String> {
    demo.telesign
        .messages()
        .into_iter()
        .map(|m| m.message)
        .collect()
}

pub(crate) async fn script(demo: &Demo) -> Result<(), DemoError> {
    let step = |name: &str| println!("-- {name}");
    let mut agent = AgentClient::new(&demo.gateway.url(), "alice", &demo.agent_password);
    step("agent alice signs in and becomes available");
    agent
        .sign_in()
        .await
        .map_err(|e| DemoError::at("agent sign-in", e))?;

    step("the customer texts \"hello\"");
    let (_, status) = demo
        .telesign
        .send_mo(CUSTOMER, OUR_NUMBER, "hello")
        .await
        .map_err(|e| DemoError::at("sms in", e))?;
    if status != 200 {
        return Err(DemoError::at(
            "sms in",
            format!("the webhook answered {status}"),
        ));
    }
    until("bot greeting", || async {
        Ok(sms_texts(demo)
            .iter()
            .any(|t| t == bot::GREETING)
            .then_some(()))
    })
    .await?;

    step("the customer names the topic; the bot hands off");
    demo.telesign
        .send_mo(CUSTOMER, OUR_NUMBER, "A question about billing")
        .await
        .map_err(|e| DemoError::at("sms in", e))?;
    until("bot answer", || async {
        Ok(sms_texts(demo)
            .iter()
            .any(|t| t.starts_with("Thanks! Connecting you"))
            .then_some(()))
    })
    .await?;
    step("the Billing queue offers the conversation to alice, who accepts it");
    let id = poll(&mut agent, "offer to alice", |a| Box::pin(a.offered())).await?;
    agent
        .call(
            reqwest::Method::POST,
            &format!("/api/agent/conversations/{id}/accept"),
            None,
        )
        .await
        .map_err(|e| DemoError::at("accept", e))?;
    let held = poll(&mut agent, "hand-off to the Billing queue", |a| {
        Box::pin(a.held())
    })
    .await?;
    if held != id {
        return Err(DemoError::at(
            "hand-off to the Billing queue",
            "alice holds another conversation",
        ));
    }

    step("alice reads the transcript and the context the bot set");
    let detail = agent
        .call(
            reqwest::Method::GET,
            &format!("/api/agent/conversations/{id}"),
            None,
        )
        .await
        .map_err(|e| DemoError::at("agent reads the conversation", e))?;
    if detail["context"]["BotHandoffTopic"] != "billing" || detail["queue"] != "Billing" {
        return Err(DemoError::at(
            "agent reads the conversation",
            format!("context {} in queue {}", detail["context"], detail["queue"]),
        ));
    }

    step("alice answers; the answer leaves as an SMS");
    let answer = "Hello, this is Alice from billing. How can I help?";
    agent
        .call(
            reqwest::Method::POST,
            &format!("/api/agent/conversations/{id}/messages"),
            Some(json!({ "text": answer })),
        )
        .await
        .map_err(|e| DemoError::at("agent reply", e))?;
    until("sms out", || async {
        Ok(sms_texts(demo).iter().any(|t| t == answer).then_some(()))
    })
    .await?;

    step("alice ends and wraps up the conversation");
    agent
        .call(
            reqwest::Method::POST,
            &format!("/api/agent/conversations/{id}/end"),
            None,
        )
        .await
        .map_err(|e| DemoError::at("end", e))?;
    agent
        .call(
            reqwest::Method::POST,
            &format!("/api/agent/conversations/{id}/wrap-up"),
            Some(json!({ "notes": "demo" })),
        )
        .await
        .map_err(|e| DemoError::at("wrap-up", e))?;
    until("closed", || async {
        let rec = demo
            .gateway
            .store()
            .conversation(&id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(rec
            .filter(|r| r.conversation.state.is_terminal())
            .map(|_| ()))
    })
    .await?;
    println!(
        "byoc demo --once: every hop passed (sms in -> bot -> hand-off -> queue -> offer -> accept -> agent -> sms out)"
    );
    Ok(())
}
