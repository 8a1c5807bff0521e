//! `byoc-sim agent <omnichannel|salesforce> --sim URL ...`: play the platform's agent of a
//! running simulator from a terminal, through its control endpoints (the Messaging API
//! simulator's `/_sim/conversations/...`, the Salesforce simulator's `/__sim/...`).
//!
//! ```text
//! byoc-sim agent omnichannel --sim http://127.0.0.1:P list
//! byoc-sim agent omnichannel --sim http://127.0.0.1:P accept          # the newest open conversation
//! byoc-sim agent omnichannel --sim http://127.0.0.1:P say "Hello, Rosa here"
//! byoc-sim agent omnichannel --sim http://127.0.0.1:P --conversation ID close
//! byoc-sim agent salesforce --sim http://127.0.0.1:P --end-user 15555550123 joins
//! byoc-sim agent salesforce --sim http://127.0.0.1:P --end-user 15555550123 says "Hi, Grace here"
//! byoc-sim agent salesforce --sim http://127.0.0.1:P --end-user 15555550123 ends
//! ```

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser, Debug)]
#[command(
    name = "byoc-sim agent",
    about = "Play the platform's agent of a running Messaging API or Salesforce simulator"
)]
struct Cli {
    #[command(subcommand)]
    platform: Platform,
}

#[derive(Subcommand, Debug)]
enum Platform {
    /// The Dynamics 365 Messaging API simulator's agent.
    Omnichannel {
        /// The simulator's URL.
        #[arg(long)]
        sim: String,
        /// The Omnichannel conversation id; the newest open one when absent.
        #[arg(long)]
        conversation: Option<String>,
        #[command(subcommand)]
        action: OmnichannelAction,
    },
    /// The Salesforce simulator's rep (or bot).
    Salesforce {
        /// The simulator's REST URL.
        #[arg(long)]
        sim: String,
        /// The end user (the customer's id on their channel).
        #[arg(long, default_value = "15555550123")]
        end_user: String,
        /// The rep's Salesforce user id (`005...`).
        #[arg(long, default_value = "0055g00000Jk7Qp")]
        user_id: String,
        /// The rep's display name.
        #[arg(long, default_value = "Grace Liu")]
        name: String,
        #[command(subcommand)]
        action: SalesforceAction,
    },
}

#[derive(Subcommand, Debug)]
enum OmnichannelAction {
    /// Lists the conversations.
    List,
    /// The agent accepts the conversation (`AgentAccepted`).
    Accept,
    /// The agent says something.
    Say {
        /// The text.
        text: String,
    },
    /// The agent is typing.
    Typing,
    /// The agent ends the session (`AgentEndSession`).
    End,
    /// The conversation is closed (`ConversationClosed`).
    Close,
    /// Any Omnichannel event by name (`TransferToQueueInitiated`, ...).
    Event {
        /// The event name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum SalesforceAction {
    /// The rep joins (ParticipantChanged add).
    Joins,
    /// The rep says something.
    Says {
        /// The text.
        text: String,
    },
    /// The rep is typing.
    Typing,
    /// The rep leaves (ParticipantChanged remove).
    Leaves,
    /// The bot escalates (RoutingRequested), to the rep or through a flow.
    Escalates {
        /// The Omni flow to route through instead of the rep.
        #[arg(long)]
        flow: Option<String>,
    },
    /// The messaging session ends.
    Ends,
}

async fn post(url: &str, body: Value) -> anyhow::Result<Value> {
    let resp = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "POST {url} answered {status}: {text}");
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn conversations(sim: &str) -> anyhow::Result<Vec<Value>> {
    let url = format!("{}/_sim/conversations", sim.trim_end_matches('/'));
    let body: Value = reqwest::get(&url)
        .await
        .with_context(|| format!("GET {url}"))?
        .json()
        .await?;
    Ok(body["conversations"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

async fn omnichannel(
    sim: &str,
    conversation: Option<String>,
    action: OmnichannelAction,
) -> anyhow::Result<()> {
    let list = conversations(sim).await?;
    if let OmnichannelAction::List = action {
        for c in &list {
            println!(
                "{}  customer {}  {}  {} message(s)",
                c["id"].as_str().unwrap_or_default(),
                c["customerId"].as_str().unwrap_or("-"),
                c["state"].as_str().unwrap_or_default(),
                c["messages"]
            );
        }
        return Ok(());
    }
    let id = match conversation {
        Some(id) => id,
        None => list
            .iter()
            .rev()
            .find(|c| !matches!(c["state"].as_str(), Some("Closed" | "WrapUp")))
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned)
            .context("no open conversation in the simulator")?,
    };
    let (verb, body) = match action {
        OmnichannelAction::Accept => ("accept", json!({})),
        OmnichannelAction::Say { text } => ("say", json!({ "text": text })),
        OmnichannelAction::Typing => ("typing", json!({})),
        OmnichannelAction::End => ("event", json!({ "name": "AgentEndSession" })),
        OmnichannelAction::Close => ("close", json!({})),
        OmnichannelAction::Event { name } => ("event", json!({ "name": name })),
        OmnichannelAction::List => return Ok(()),
    };
    let url = format!(
        "{}/_sim/conversations/{id}/{verb}",
        sim.trim_end_matches('/')
    );
    let report = post(&url, body).await?;
    println!(
        "{verb} -> conversation {id}: delivered {} after {} attempt(s)",
        report["delivered"],
        report["attempts"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

async fn salesforce(
    sim: &str,
    end_user: &str,
    user_id: &str,
    name: &str,
    action: SalesforceAction,
) -> anyhow::Result<()> {
    let mut body = json!({ "endUser": end_user, "userId": user_id, "name": name });
    let verb = match action {
        SalesforceAction::Joins => "agent_joins",
        SalesforceAction::Says { text } => {
            body["text"] = json!(text);
            "agent_says"
        }
        SalesforceAction::Typing => "agent_typing",
        SalesforceAction::Leaves => "agent_leaves",
        SalesforceAction::Escalates { flow } => {
            if let Some(f) = flow {
                body["flowId"] = json!(f);
            }
            "bot_escalates"
        }
        SalesforceAction::Ends => "end_session",
    };
    let url = format!("{}/__sim/{verb}", sim.trim_end_matches('/'));
    let answer = post(&url, body).await?;
    println!("{verb} -> {end_user}: published {}", answer["id"]);
    Ok(())
}

/// Runs `byoc-sim agent ...` (`args[0]` is `agent`).
///
/// # Errors
/// Bad arguments, or the simulator refused or could not be reached.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(args)?;
    match cli.platform {
        Platform::Omnichannel {
            sim,
            conversation,
            action,
        } => omnichannel(&sim, conversation, action).await,
        Platform::Salesforce {
            sim,
            end_user,
            user_id,
            name,
            action,
        } => salesforce(&sim, &end_user, &user_id, &name, action).await,
    }
}
