//! Dynamics 365 Omnichannel as the contact center: through the Messaging API (its
//! simulator plays Entra, the API, Dataverse and the agent) and through a Bot Framework
//! custom channel (the Direct Line simulator plays the bot Omnichannel speaks through).

use std::time::Duration;

use byoc_sim::directline::{self as dlsim, DirectLineSim};
use byoc_sim::fault::Fault;
use byoc_sim::messaging_api::state::SimState;
use serde_json::json;

use super::support::{
    LIMIT, OMNICHANNEL_WORKSTREAM, Relay, count, free_port, messaging_api_sim, omnichannel_entry,
    register, until,
};
use crate::support::{CUSTOMER, eventually};

/// A gateway relaying SMS to the Messaging API simulator, with its channel registered.
async fn omnichannel() -> (byoc_sim::messaging_api::MessagingApiSim, Relay) {
    let sim = messaging_api_sim().await;
    let port = free_port();
    let webhook = format!("http://127.0.0.1:{port}/webhooks/d365");
    let id = register(&sim, &webhook).await;
    let relay = Relay::start(
        port,
        omnichannel_entry(&sim, Some(&id), &webhook),
        OMNICHANNEL_WORKSTREAM,
    )
    .await;
    (sim, relay)
}

/// The Omnichannel conversation the customer's first message opened.
async fn opened(sim: &byoc_sim::messaging_api::MessagingApiSim) -> String {
    until("the Omnichannel conversation", LIMIT, || async {
        sim.conversations().first().map(|c| c.id.clone())
    })
    .await
}

fn customer_texts(sim: &byoc_sim::messaging_api::MessagingApiSim, id: &str) -> Vec<String> {
    sim.conversation(id)
        .map(|c| {
            c.messages
                .iter()
                .filter(|m| m.side == "customer")
                .filter_map(|m| m.activity["text"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omnichannel_the_whole_conversation_relays_both_ways_and_stays_in_the_store() {
    let (sim, relay) = omnichannel().await;
    relay.text("hello").await;
    let id = opened(&sim).await;
    let conv = sim.conversation(&id).unwrap();
    assert_eq!(conv.customer_id.as_deref(), Some(CUSTOMER));
    assert_eq!(conv.customer["phonenumber"], CUSTOMER);
    assert!(conv.request_id.as_deref().unwrap().starts_with("byoc-"));
    assert!(conv.context.contains_key("byoc_channel"));
    eventually("the first message", LIMIT, || {
        (customer_texts(&sim, &id) == ["hello"]).then_some(())
    })
    .await;

    let agent = sim.agent();
    assert!(agent.accepts(&id).await.unwrap().delivered);
    agent.typing(&id).await.unwrap();
    assert!(
        agent
            .says(&id, "Hi, **Rosa** here")
            .await
            .unwrap()
            .delivered
    );
    agent
        .sends_attachment(
            &id,
            "invoice.pdf",
            "application/pdf",
            "https://files.example/i.pdf",
        )
        .await
        .unwrap();
    let sms = eventually("the agent's messages as SMS", LIMIT, || {
        let sms = relay.sms();
        (sms.len() >= 2).then_some(sms)
    })
    .await;
    assert_eq!(sms[0], "Hi, Rosa here", "markdown flattened for SMS");
    assert!(sms[1].contains("https://files.example/i.pdf"), "{sms:?}");

    relay.text("thanks").await;
    eventually("the reply in Omnichannel", LIMIT, || {
        (customer_texts(&sim, &id) == ["hello", "thanks"]).then_some(())
    })
    .await;
    agent.close(&id).await.unwrap();
    let rec = until("closed", LIMIT, || async {
        relay
            .newest()
            .await
            .filter(|r| r.conversation.state.is_terminal())
    })
    .await;
    let cid = rec.conversation.id.clone();
    assert_eq!(rec.relay.as_ref().unwrap().platform, "d365");

    let detail = relay
        .admin_json(&format!("/api/admin/conversations/{cid}"))
        .await;
    assert_eq!(
        detail["platform_links"][0]["platform_conversation_id"],
        id.as_str()
    );
    let notes = relay.notes(&cid).await;
    for expected in [
        "d365: AgentAccepted",
        "markdown flattened",
        "sent as a link",
        "closed: d365: ConversationClosed",
    ] {
        assert!(
            notes.iter().any(|n| n.contains(expected)),
            "{expected}: {notes:?}"
        );
    }
    let (status, export) = relay
        .admin(&format!("/api/admin/conversations/{cid}/export"))
        .await;
    assert_eq!(status, 200);
    assert!(export.lines().count() > 5, "{export}");
    assert!(
        export
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
    let list = relay.admin_json("/api/admin/conversations").await;
    assert_eq!(list["conversations"][0]["id"], cid.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omnichannel_429_5xx_and_an_expired_token_mid_conversation_deliver_once_in_order() {
    let (sim, relay) = omnichannel().await;
    relay.text("m1").await;
    let id = opened(&sim).await;
    eventually("m1", LIMIT, || {
        (customer_texts(&sim, &id) == ["m1"]).then_some(())
    })
    .await;
    let tokens = sim.token_requests();
    sim.faults().push(Fault::rate_limited(1), 1);
    sim.faults().push(Fault::unavailable(), 2);
    relay.text("m2").await;
    relay.text("m3").await;
    eventually("m2 and m3", LIMIT, || {
        (customer_texts(&sim, &id).len() == 3).then_some(())
    })
    .await;
    sim.expire_tokens();
    relay.text("m4").await;
    eventually("m4 after the token expired", LIMIT, || {
        (customer_texts(&sim, &id).len() == 4).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(customer_texts(&sim, &id), ["m1", "m2", "m3", "m4"]);
    assert_eq!(sim.faults().pending(), 0);
    assert!(
        sim.token_requests() > tokens,
        "a new token after the old one was refused"
    );
    assert_eq!(
        sim.conversations().len(),
        1,
        "one Omnichannel conversation, never two"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omnichannel_a_webhook_retried_by_omnichannel_is_processed_once() {
    let (sim, relay) = omnichannel().await;
    relay.text("hello").await;
    let id = opened(&sim).await;
    sim.agent().says(&id, "only once").await.unwrap();
    eventually("the agent's message", LIMIT, || {
        relay.sms().contains(&"only once".to_owned()).then_some(())
    })
    .await;
    // Omnichannel retries a delivery it thinks failed: the same bytes again.
    let delivery = sim.deliveries().pop().unwrap();
    let o = sim.options();
    let record = &sim.channels()[0];
    let now = chrono::Utc::now().timestamp();
    let token = byoc_sim::messaging_api::keys::sign(&json!({
        "aud": record.app_id, "tid": o.tenant_id, "azp": record.app_id, "ver": "2.0",
        "iss": format!("{}/{}/v2.0", sim.url(), o.tenant_id),
        "iat": now, "nbf": now, "exp": now + 600,
    }))
    .unwrap();
    for _ in 0..2 {
        let status = reqwest::Client::new()
            .post(&delivery.url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(delivery.body.clone())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&relay.sms(), "only once"), 1);
    // A call without a valid token is refused and never acknowledged.
    let forged = reqwest::Client::new()
        .post(&delivery.url)
        .bearer_auth("forged")
        .body(delivery.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omnichannel_a_restart_keeps_the_conversation_and_its_link() {
    let (sim, mut relay) = omnichannel().await;
    relay.text("before").await;
    let id = opened(&sim).await;
    eventually("before", LIMIT, || {
        (customer_texts(&sim, &id) == ["before"]).then_some(())
    })
    .await;
    relay.down().await;
    relay.up().await;
    relay.text("after").await;
    eventually("after, in the same conversation", LIMIT, || {
        (customer_texts(&sim, &id) == ["before", "after"]).then_some(())
    })
    .await;
    sim.agent().says(&id, "still here").await.unwrap();
    eventually("the agent after the restart", LIMIT, || {
        relay.sms().contains(&"still here".to_owned()).then_some(())
    })
    .await;
    assert_eq!(sim.conversations().len(), 1);
    assert_eq!(sim.conversation(&id).unwrap().state, SimState::Open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omnichannel_bot_relays_through_direct_line_and_resumes_after_a_restart() {
    // The Direct Line simulator's echo bot stands for the Azure bot Omnichannel's custom
    // channel is configured on; the "agent" speaks in the same Direct Line conversation.
    let dl = DirectLineSim::start(dlsim::Options::default())
        .await
        .unwrap();
    let bots = format!(
        "[bots.ocbot]\ndirectline_url = \"{}\"\nsecret = \"{}\"\npoll_interval = \"100ms\"\n",
        dl.directline_url(),
        dlsim::DEFAULT_SECRET
    );
    let workstream = OMNICHANNEL_WORKSTREAM
        .replace("\"omnichannel\"", "\"omnichannel-bot\"")
        .replace("\"d365\"", "\"ocbot\"");
    let mut relay = Relay::start(free_port(), bots, &workstream).await;
    relay.text("hello").await;
    eventually("the bot's answer", LIMIT, || {
        relay
            .sms()
            .contains(&"Echo: hello".to_owned())
            .then_some(())
    })
    .await;
    let rec = relay.newest().await.unwrap();
    let session = relay
        .gw()
        .store()
        .bot_session(&rec.conversation.id, "ocbot")
        .await
        .unwrap()
        .unwrap();
    relay.down().await;
    // While the gateway is down, an Omnichannel agent answers through the bot.
    let pushed = dl.push_bot_activity(
        &session.dl_conversation_id,
        json!({"type": "message", "from": {"id": "bot", "name": "Rosa"}, "text": "Rosa here"}),
    );
    assert!(pushed.is_some());
    relay.up().await;
    eventually("the agent's message after the restart", LIMIT, || {
        relay.sms().contains(&"Rosa here".to_owned()).then_some(())
    })
    .await;
    relay.text("thanks").await;
    eventually("the next answer", LIMIT, || {
        relay
            .sms()
            .contains(&"Echo: thanks".to_owned())
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let sms = relay.sms();
    for t in ["Echo: hello", "Rosa here", "Echo: thanks"] {
        assert_eq!(count(&sms, t), 1, "{t} in {sms:?}");
    }
}

#[cfg(feature = "demo")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scripted_relay_demos_pass_every_hop() {
    use byoc_gateway::DemoContactCenter;
    byoc_gateway::run_demo_with(true, DemoContactCenter::Omnichannel)
        .await
        .unwrap();
    byoc_gateway::run_demo_with(true, DemoContactCenter::Salesforce)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_register_creates_updates_lists_and_deletes_the_record() {
    let sim = messaging_api_sim().await;
    let telesign = crate::support::telesign().await;
    let dir = tempfile::tempdir().unwrap();
    let write = |channel_id: Option<&str>, webhook: &str| {
        crate::support::write_config(
            dir.path(),
            &crate::support::config_text(
                &telesign,
                "127.0.0.1:0",
                &omnichannel_entry(&sim, channel_id, webhook),
                "contact_center = \"byoc\"\n[workstreams.definition]\nname = \"S\"\nlanguage = \"en-US\"\nchannel = { kind = \"sms\", id = \"sms\" }\ndefault_queue = \"Q\"\nrouting_rules = []\n[[workstreams.definition.queues]]\nname = \"Q\"\nmembers = [{ id = \"alice\", kind = \"agent\", capacity = 1 }]\n",
            ),
        )
    };
    let register = |path: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_byoc"))
            .args(["channel", "register"])
            .args(args)
            .arg("--config")
            .arg(path)
            .args(["--channel", "d365"])
            .env("BYOC_TEST_TELESIGN_KEY", telesign.api_key())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let path = write(None, "http://127.0.0.1:9/webhooks/d365");
    let created = register(&path, &["create"]);
    let id = created.split_whitespace().nth(3).unwrap().to_owned();
    assert_eq!(sim.channels()[0].id, id);
    assert!(
        created.contains(&format!("channel_id = \"{id}\"")),
        "{created}"
    );
    let path = write(Some(&id), "http://127.0.0.1:8/webhooks/d365");
    register(&path, &["update"]);
    assert_eq!(
        sim.channels()[0].webhook_url,
        "http://127.0.0.1:8/webhooks/d365"
    );
    let listed = register(&path, &["list"]);
    assert!(
        listed.contains(&id) && listed.contains("http://127.0.0.1:8/webhooks/d365"),
        "{listed}"
    );
    register(&path, &["delete"]);
    assert!(sim.channels().is_empty());
}
