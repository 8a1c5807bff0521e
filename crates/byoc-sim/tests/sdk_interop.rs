//! The simulators against the providers' official SDKs, run for real from Python
//! (`tests/sdk/requirements.txt`): TeleSign's `telesign` package and Microsoft's Bot
//! Framework SDK (`botbuilder-*`). The simulators serve TLS and the SDKs reach them
//! directly, trusting the simulator's CA through `REQUESTS_CA_BUNDLE` and `SSL_CERT_FILE`.
//! When the packages are missing the tests say so on stderr and return, or fail when
//! `BYOC_REQUIRE_SDK_TESTS=1` (CI).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use byoc_sim::directline::{self, DirectLineSim};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use byoc_sim::tls::LocalCa;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// Longest wait for any Python step (import check, script run, bot start-up).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
const INSTALL: &str = "python3 -m pip install -r tests/sdk/requirements.txt";

fn python() -> String {
    std::env::var("BYOC_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk")
}

/// Whether `modules` import; `false` means the caller returns (skipped). Panics instead
/// when `BYOC_REQUIRE_SDK_TESTS=1`.
async fn sdk_available(test: &str, modules: &str) -> bool {
    let check = Command::new(python())
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    let ok = matches!(
        tokio::time::timeout(STEP_TIMEOUT, check).await,
        Ok(Ok(status)) if status.success()
    );
    if ok {
        return true;
    }
    let required = std::env::var("BYOC_REQUIRE_SDK_TESTS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{test}: `{} -c 'import {modules}'` failed and BYOC_REQUIRE_SDK_TESTS=1: run `{INSTALL}`",
        python()
    );
    // Straight to stderr, past the test harness's capture, so a skip shows in every log.
    let _ = writeln!(
        std::io::stderr(),
        "{test} skipped: pip install -r tests/sdk/requirements.txt (cannot import {modules})"
    );
    false
}

/// Points Python's HTTP stacks at the simulator's CA and nothing else.
fn trusting(cmd: &mut Command, ca: &LocalCa) {
    cmd.env("REQUESTS_CA_BUNDLE", ca.ca_file())
        .env("SSL_CERT_FILE", ca.ca_file());
}

/// Runs a script in `tests/sdk` to completion and parses the last stdout line as JSON.
async fn run_script(script: &str, ca: &LocalCa, args: &[&str]) -> Value {
    let mut cmd = Command::new(python());
    trusting(&mut cmd, ca);
    let child = cmd
        .arg(sdk_dir().join(script))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let out = tokio::time::timeout(STEP_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{script} finishes within {STEP_TIMEOUT:?}"))
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stderr}",
        out.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{stdout}\n{stderr}"))
}

async fn telesign_round_trip(auth_method: &str, expected_scheme: &str) {
    let test = format!("telesign_sdk_{auth_method}");
    if !sdk_available(&test, "telesign.messaging").await {
        return;
    }
    let ca = LocalCa::generate().expect("a local CA");
    let sim = TelesignSim::start(TelesignSimOptions::default().with_tls(ca.clone()))
        .await
        .expect("simulator starts");
    assert!(sim.url().starts_with("https://"));
    let text = "Your code is 123456 — ünïcode & symbols=ok";
    let out = run_script(
        "telesign_send.py",
        &ca,
        &[
            sim.url(),
            sim.customer_id(),
            sim.api_key(),
            auth_method,
            "15555550123",
            text,
        ],
    )
    .await;

    // What the SDK saw.
    assert_eq!(out["send"]["status"], 200, "{out}");
    assert_eq!(out["send"]["ok"], true, "{out}");
    let reference_id = out["send"]["json"]["reference_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no reference_id: {out}"))
        .to_owned();
    assert_eq!(out["send"]["json"]["status"]["code"], 290, "{out}");
    assert_eq!(out["status"]["status"], 200, "{out}");
    assert_eq!(out["status"]["json"]["reference_id"], reference_id.as_str());
    assert!(out["status"]["json"]["status"]["code"].is_i64(), "{out}");

    // What the simulator recorded.
    let messages = sim.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m.reference_id, reference_id);
    assert_eq!(m.phone_number, "15555550123");
    assert_eq!(m.message, text);
    assert_eq!(m.message_type, "ARN");
    assert_eq!(m.external_id.as_deref(), Some("sdk-interop-1"));
    let requests = sim.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for r in &requests {
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.scheme.as_deref(), Some(expected_scheme), "{r:?}");
        let agent = r.user_agent.as_deref().unwrap_or_default();
        assert!(agent.starts_with("TeleSignSDK/python"), "{agent}");
    }
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("POST", "/v1/messaging")
    );
    assert_eq!(requests[1].method, "GET");
    assert_eq!(requests[1].path, format!("/v1/messaging/{reference_id}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telesign_sdk_default_auth_is_accepted() {
    // The SDK's default (no auth_method) is HMAC-SHA256 (`TSA` scheme).
    telesign_round_trip("default", "TSA").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telesign_sdk_hmac_auth_is_accepted() {
    telesign_round_trip("HMAC-SHA256", "TSA").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telesign_sdk_basic_auth_is_accepted() {
    telesign_round_trip("Basic", "Basic").await;
}

/// A child process killed when dropped (also on panic).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

/// Forwards a child's stdout JSON lines to a channel (and stderr, for failures), draining
/// the pipe for as long as the child runs.
fn json_lines(child: &mut Child) -> tokio::sync::mpsc::Receiver<Value> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("bot: {line}");
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                // A full channel only means nobody is listening any more.
                let _ = tx.try_send(v);
            }
        }
    });
    rx
}

/// Waits for the next line with `key`.
async fn wait_for_line(lines: &mut tokio::sync::mpsc::Receiver<Value>, key: &str) -> Value {
    let found = tokio::time::timeout(STEP_TIMEOUT, async {
        while let Some(v) = lines.recv().await {
            if v.get(key).is_some() {
                return Some(v);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(v)) => v,
        _ => panic!("the bot printed no `{key}` line within {STEP_TIMEOUT:?}"),
    }
}

/// A free loopback port (bound, then released for the simulator to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_framework_sdk_bot_answers_through_direct_line() {
    let test = "bot_framework_sdk_bot_answers_through_direct_line";
    if !sdk_available(
        test,
        "botbuilder.core, botbuilder.integration.aiohttp, msal",
    )
    .await
    {
        return;
    }
    // The bot learns the simulator's URL first (it uses it only per request), the
    // simulator the bot's.
    let ca = LocalCa::generate().expect("a local CA");
    let port = free_port();
    let sim_url = format!("https://127.0.0.1:{port}");
    let mut python_bot = Command::new(python());
    trusting(&mut python_bot, &ca);
    let mut bot = Running(
        python_bot
            .arg(sdk_dir().join("botframework_echo_bot.py"))
            .args([
                sim_url.as_str(),
                directline::DEFAULT_BOT_APP_ID,
                directline::DEFAULT_BOT_APP_PASSWORD,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("python starts"),
    );
    let mut lines = json_lines(&mut bot.0);
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

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .add_root_certificate(
            reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).expect("CA PEM"),
        )
        .build()
        .expect("client");
    let started: Value = http
        .post(format!("{}/conversations", sim.directline_url()))
        .bearer_auth(directline::DEFAULT_SECRET)
        .send()
        .await
        .expect("start answered")
        .error_for_status()
        .expect("conversation started")
        .json()
        .await
        .expect("conversation JSON");
    let conv = started["conversationId"].as_str().expect("conversationId");
    let token = started["token"].as_str().expect("token");
    let activities = format!("{}/conversations/{conv}/activities", sim.directline_url());
    let posted = http
        .post(&activities)
        .bearer_auth(token)
        .json(&serde_json::json!({
            "type": "message",
            "from": { "id": "user-1", "name": "User" },
            "text": "hello from direct line",
        }))
        .send()
        .await
        .expect("post answered");
    let status = posted.status();
    let body = posted.text().await.unwrap_or_default();
    assert!(status.is_success(), "post activity: {status} {body}");
    let posted_id = serde_json::from_str::<Value>(&body).expect("post JSON")["id"]
        .as_str()
        .expect("activity id")
        .to_owned();

    // The bot replied during its turn, so the reply is in the conversation already; poll
    // a bounded number of times anyway.
    let mut reply = None;
    for _ in 0..50 {
        let page: Value = http
            .get(&activities)
            .bearer_auth(token)
            .send()
            .await
            .expect("activities answered")
            .json()
            .await
            .expect("activities JSON");
        reply = page["activities"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["from"]["id"] == directline::DEFAULT_BOT_APP_ID && a["type"] == "message")
            .cloned();
        if reply.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reply = reply.expect("the SDK bot's reply in the conversation");
    assert_eq!(reply["text"], "SDK echo: hello from direct line", "{reply}");
    // On Direct Line the SDK answers with send_to_conversation (no replyToId), after the
    // user's activity.
    assert!(
        reply["id"].as_str() > Some(posted_id.as_str()),
        "{reply} after {posted_id}"
    );
    assert_eq!(reply["conversation"]["id"], conv, "{reply}");
    assert_eq!(reply["recipient"]["id"], "user-1", "{reply}");

    // The reply reached the connector with a token the SDK (MSAL) got from the authority.
    assert!(
        sim.token_requests() >= 1,
        "the SDK asked the authority for a token"
    );
    assert!(
        sim.connector_received()
            .iter()
            .any(|a| a["text"] == "SDK echo: hello from direct line"),
        "{:?}",
        sim.connector_received()
    );
    let (metadata, keys) = sim.metadata_fetches();
    assert!(
        metadata >= 1 && keys >= 1,
        "the SDK read the channel OpenID metadata and keys"
    );
}
