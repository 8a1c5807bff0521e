//! The simulators against Microsoft's official JavaScript SDKs, run for real under Node
//! (`tests/sdk/package.json`, pinned by its lock file): botframework-directlinejs over
//! polling and WebSocket, and a botbuilder-js `CloudAdapter` bot behind the Direct Line
//! simulator. Nothing stands between them and the simulators but the simulator's CA,
//! trusted through `NODE_EXTRA_CA_CERTS`. When Node or the packages are missing the tests
//! say so on stderr and return, or fail when `BYOC_REQUIRE_SDK_TESTS=1` (CI).

mod common;

use std::process::Stdio;

use byoc_sim::directline::{self, DirectLineSim};
use byoc_sim::tls::LocalCa;
use common::{Running, STEP_TIMEOUT, free_port, json_lines, last_json, sdk_dir, wait_for_line};
use serde_json::Value;
use tokio::process::Command;

const INSTALL: &str = "cd tests/sdk && npm ci";

fn node() -> String {
    std::env::var("BYOC_NODE").unwrap_or_else(|_| "node".to_owned())
}

/// Whether Node runs and the packages load from `tests/sdk/node_modules`.
async fn sdk_available(test: &str) -> bool {
    let check = Command::new(node())
        .current_dir(sdk_dir())
        .args([
            "-e",
            "for (const m of ['botbuilder', 'botframework-directlinejs', 'botframework-connector', '@azure/msal-node', 'ws', 'xhr2']) require(m)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    let ok = matches!(
        tokio::time::timeout(STEP_TIMEOUT, check).await,
        Ok(Ok(status)) if status.success()
    );
    ok || common::skip(test, "node cannot load the SDK packages", INSTALL)
}

/// Runs `directline_client.js` to completion against `directline_url`.
async fn direct_line_client(
    ca: &LocalCa,
    directline_url: &str,
    transport: &str,
    expect: &str,
) -> Value {
    let child = Command::new(node())
        .current_dir(sdk_dir())
        .env("NODE_EXTRA_CA_CERTS", ca.ca_file())
        .args([
            "directline_client.js",
            directline_url,
            directline::DEFAULT_SECRET,
            transport,
            expect,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let out = tokio::time::timeout(STEP_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("directline_client.js finishes within {STEP_TIMEOUT:?}"))
        .expect("node runs");
    last_json("directline_client.js", &out)
}

async fn directlinejs_round_trip(transport: &str) {
    let test = format!("directlinejs_{transport}");
    if !sdk_available(&test).await {
        return;
    }
    let ca = LocalCa::generate().expect("a local CA");
    let sim = DirectLineSim::start(directline::Options::default().with_tls(ca.clone()))
        .await
        .expect("simulator starts");
    let out = direct_line_client(&ca, &sim.directline_url(), transport, "echo").await;
    assert_eq!(out["sawWebSocket"], transport == "websocket", "{out}");
    assert_eq!(out["ownText"], format!("hello over {transport}"), "{out}");
    assert_eq!(
        out["reply"]["text"],
        format!("Echo: hello over {transport}"),
        "{out}"
    );
    assert_eq!(out["reply"]["replyToId"], out["postedId"], "{out}");
    let conv = out["conversationId"].as_str().expect("conversationId");
    let stored = sim.activities(conv);
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0]["from"]["id"], "dl-user-1");
    let (requests, opened) = sim.stream_counts();
    if transport == "websocket" {
        assert!(requests >= 1 && opened >= 1, "the SDK opened the stream");
    } else {
        assert_eq!((requests, opened), (0, 0), "polling opens no stream");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directlinejs_talks_to_the_simulator_over_polling() {
    directlinejs_round_trip("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directlinejs_talks_to_the_simulator_over_websocket() {
    directlinejs_round_trip("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botbuilder_js_bot_answers_through_direct_line_with_its_token_from_the_simulator() {
    let test = "botbuilder_js_bot_answers_through_direct_line";
    if !sdk_available(test).await {
        return;
    }
    let ca = LocalCa::generate().expect("a local CA");
    // The bot learns the simulator's URL first (it uses it only per request), the
    // simulator the bot's.
    let port = free_port();
    let sim_url = format!("https://127.0.0.1:{port}");
    let mut bot = Running(
        Command::new(node())
            .current_dir(sdk_dir())
            .env("NODE_EXTRA_CA_CERTS", ca.ca_file())
            .args([
                "botbuilder_bot.js",
                sim_url.as_str(),
                directline::DEFAULT_BOT_APP_ID,
                directline::DEFAULT_BOT_APP_PASSWORD,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts"),
    );
    let mut lines = json_lines(&mut bot.0, "js bot");
    let ready = wait_for_line(&mut lines, "bot_url").await;
    let bot_url = ready["bot_url"].as_str().expect("bot_url").to_owned();
    let mut options = directline::Options::default()
        .with_bot_url(bot_url)
        .with_tls(ca.clone());
    options.port = port;
    let sim = DirectLineSim::start(options)
        .await
        .expect("simulator starts");
    assert_eq!(sim.url(), sim_url);

    let out = direct_line_client(&ca, &sim.directline_url(), "websocket", "bot").await;
    // Typing, the draft with suggested actions, then its update.
    assert_eq!(out["typing"], 1, "{out}");
    assert_eq!(
        out["reply"]["text"], "JS echo (draft): hello over websocket",
        "{out}"
    );
    assert_eq!(
        out["reply"]["suggestedActions"]["actions"][0]["value"], "yes",
        "{out}"
    );
    assert_eq!(
        out["update"]["text"], "JS echo: hello over websocket",
        "{out}"
    );
    assert_eq!(
        out["update"]["updateActivityId"], out["reply"]["id"],
        "{out}"
    );
    let handled = wait_for_line(&mut lines, "replied").await;
    assert_eq!(handled["replied"], out["reply"]["id"]);

    // The bot got its token from the simulator's authority (MSAL read the tenant discovery
    // document first) and checked the channel's JWT against the simulator's metadata.
    assert!(
        sim.token_requests() >= 1,
        "the SDK asked the authority for a token"
    );
    let (metadata, keys) = sim.metadata_fetches();
    assert!(
        metadata >= 1 && keys >= 1,
        "the SDK read the channel OpenID metadata and keys"
    );
    let received = sim.bot_received();
    assert!(
        received.iter().any(|a| a["type"] == "conversationUpdate"),
        "{received:?}"
    );
}
