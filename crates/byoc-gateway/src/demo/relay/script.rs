//! `byoc demo --once --contact-center <omnichannel|salesforce>`: one scripted conversation
//! through every hop — SMS in, the platform, its agent's answer, SMS out, the end — each
//! hop named when it fails.

use byoc_core::ConversationState;

use super::{PlatformSim, REP_ID, REP_NAME, RelayDemo};
use crate::demo::once::until;
use crate::demo::{CUSTOMER, DemoError, OUR_NUMBER};
use crate::model::ConversationRecord;

fn sms_texts(demo: &RelayDemo) -> Vec<String> {
    demo.telesign
        .messages()
        .into_iter()
        .map(|m| m.message)
        .collect()
}

/// The gateway's newest conversation.
async fn newest(demo: &RelayDemo) -> Result<Option<ConversationRecord>, String> {
    let rows = demo
        .gateway
        .relay_store()
        .recent_conversations(false, 1)
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows.into_iter().next().map(|r| r.record))
}

async fn texts(demo: &RelayDemo, text: &str, hop: &'static str) -> Result<(), DemoError> {
    let (_, status) = demo
        .telesign
        .send_mo(CUSTOMER, OUR_NUMBER, text)
        .await
        .map_err(|e| DemoError::at(hop, e))?;
    if status != 200 {
        return Err(DemoError::at(hop, format!("the webhook answered {status}")));
    }
    Ok(())
}

async fn heard(demo: &RelayDemo, text: &str) -> Result<(), DemoError> {
    until("sms out", || async {
        Ok(sms_texts(demo).iter().any(|t| t == text).then_some(()))
    })
    .await
}

async fn closed(demo: &RelayDemo) -> Result<(), DemoError> {
    until("closed", || async {
        Ok(newest(demo)
            .await?
            .filter(|r| r.conversation.state.is_terminal())
            .map(|_| ()))
    })
    .await
}

pub(crate) async fn script(demo: &RelayDemo) -> Result<(), DemoError> {
    let step = |name: &str| println!("-- {name}");
    step("the customer texts \"hello\"");
    texts(demo, "hello", "sms in").await?;
    match &demo.platform {
        PlatformSim::Omnichannel(sim) => {
            let id = until("omnichannel conversation", || async {
                Ok(sim
                    .conversations()
                    .into_iter()
                    .find(|c| {
                        c.messages
                            .iter()
                            .any(|m| m.side == "customer" && m.activity["text"] == "hello")
                    })
                    .map(|c| c.id))
            })
            .await?;
            step("the Omnichannel agent accepts and answers");
            let agent = sim.agent();
            agent
                .accepts(&id)
                .await
                .map_err(|e| DemoError::at("agent accepted", e))?;
            until("agent accepted", || async {
                Ok(newest(demo)
                    .await?
                    .filter(|r| r.conversation.state == ConversationState::Active)
                    .map(|_| ()))
            })
            .await?;
            let answer = "Hello, this is Rosa from support. How can I help?";
            agent
                .says(&id, answer)
                .await
                .map_err(|e| DemoError::at("agent reply", e))?;
            heard(demo, answer).await?;
            step("the customer answers; the agent closes the conversation");
            texts(demo, "Thanks, that was all", "sms in").await?;
            until("customer message to omnichannel", || async {
                Ok(sim
                    .conversation(&id)
                    .filter(|c| {
                        c.messages
                            .iter()
                            .any(|m| m.activity["text"] == "Thanks, that was all")
                    })
                    .map(|_| ()))
            })
            .await?;
            agent
                .close(&id)
                .await
                .map_err(|e| DemoError::at("closed", e))?;
            closed(demo).await?;
        }
        PlatformSim::Salesforce(sim) => {
            until("interaction", || async {
                Ok(sim
                    .recorded()
                    .iter()
                    .any(|r| r.path == "/api/v1/interactions" && r.json["from"] == CUSTOMER)
                    .then_some(()))
            })
            .await?;
            step("byoc's router answers Salesforce: /route, /agentWork, /routingResult");
            until("routing", || async {
                Ok(sim
                    .recorded()
                    .iter()
                    .any(|r| r.path == "/api/v1/routingResult" && r.json["success"] == true)
                    .then_some(()))
            })
            .await?;
            step("the rep joins and answers");
            sim.agent_joins(CUSTOMER, REP_ID, REP_NAME)
                .map_err(|e| DemoError::at("agent joins", e))?;
            let answer = "Hi, this is Grace from support. How can I help?";
            sim.agent_says(CUSTOMER, REP_ID, REP_NAME, answer)
                .map_err(|e| DemoError::at("agent reply", e))?;
            heard(demo, answer).await?;
            step("the session ends");
            sim.end_session(CUSTOMER)
                .map_err(|e| DemoError::at("closed", e))?;
            closed(demo).await?;
        }
    }
    println!(
        "byoc demo --once: every hop passed (sms in -> platform -> agent -> sms out -> closed)"
    );
    Ok(())
}
