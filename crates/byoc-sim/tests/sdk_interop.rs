//! The simulators against the providers' official SDKs, run for real from Python
//! (`tests/sdk/requirements.txt`): TeleSign's `telesign` package and Microsoft's Bot
//! Framework SDK (`botbuilder-*`). When the packages are missing the tests say so on
//! stderr and return, or fail when `BYOC_REQUIRE_SDK_TESTS=1` (CI).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use serde_json::Value;
use tokio::process::Command;

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
    eprintln!(
        "{test} skipped: pip install -r tests/sdk/requirements.txt (cannot import {modules})"
    );
    false
}

/// Runs a script in `tests/sdk` to completion and parses the last stdout line as JSON.
async fn run_script(script: &str, args: &[&str]) -> Value {
    let child = Command::new(python())
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
    let sim = TelesignSim::start(TelesignSimOptions::default())
        .await
        .expect("simulator starts");
    let text = "Your code is 123456 — ünïcode & symbols=ok";
    let out = run_script(
        "telesign_send.py",
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
