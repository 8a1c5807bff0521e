//! The `byoc` process: killed with messages in its outbox and restarted, configs refused,
//! `normalize`.

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use byoc_sim::fault::Fault;
use serde_json::Value;

use crate::support::{self, Agent, CUSTOMER, HUMANS, OURS, eventually};
use crate::{LIMIT, count};

fn byoc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_byoc"))
}

/// A `byoc serve` process, killed (SIGKILL) when dropped, also when a test fails.
struct Served(std::process::Child);

impl Served {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `byoc serve` and returns it with the URL from its first line.
fn serve(config: &std::path::Path, key: &str) -> (Served, String) {
    let mut child = Served(
        byoc()
            .args(["serve", "--config"])
            .arg(config)
            .env("BYOC_TEST_TELESIGN_KEY", key)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_messages_in_the_outbox_then_restart_delivers_each_exactly_once() {
    let telesign = support::telesign().await;
    let dir = tempfile::tempdir().unwrap();
    let config = support::write_config(
        dir.path(),
        &support::config_text(&telesign, "127.0.0.1:0", "", HUMANS),
    );
    let (mut child, url) = serve(&config, telesign.api_key());
    telesign.set_callback_url(format!("{url}/webhooks/sms"));
    let mut alice = Agent::new(&url, "alice");
    alice.sign_in().await;
    telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    let id = alice.wait_held().await;
    let sms = || {
        telesign
            .messages()
            .into_iter()
            .map(|m| m.message)
            .collect::<Vec<_>>()
    };
    eventually("the agent-joined SMS", LIMIT, || {
        sms().contains(&"alice joined.".to_owned()).then_some(())
    })
    .await;

    // The provider is down: everything stays in the outbox.
    telesign.faults().push(Fault::unavailable(), 10_000);
    for text in ["m1", "m2", "m3"] {
        alice.say(&id, text).await;
    }
    eventually("a failed delivery attempt", LIMIT, || {
        (telesign.faults().pending() < 10_000).then_some(())
    })
    .await;
    child.kill(); // SIGKILL
    telesign.faults().clear();

    let (mut child, url) = serve(&config, telesign.api_key());
    telesign.set_callback_url(format!("{url}/webhooks/sms"));
    let delivered = eventually("all three after the restart", LIMIT, || {
        let s = sms();
        ["m1", "m2", "m3"]
            .iter()
            .all(|t| s.contains(&(*t).to_owned()))
            .then_some(s)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = sms();
    child.kill();
    for t in ["m1", "m2", "m3"] {
        assert_eq!(count(&after, t), 1, "{t} in {after:?}");
    }
    let order: Vec<_> = delivered
        .iter()
        .filter(|t| t.starts_with('m'))
        .cloned()
        .collect();
    assert_eq!(order, ["m1", "m2", "m3"]);
}

#[test]
fn an_invalid_config_is_refused_naming_the_file_the_field_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("byoc.toml");
    std::fs::write(
        &path,
        "[store]\nsqlite = \"x.db\"\n[channels.sms]\nkind = \"telesign\"\ncustomer_id = \"c\"\napi_key = { env = \"BYOC_TEST_UNSET_VARIABLE\" }\n",
    )
    .unwrap();
    for command in ["check", "serve"] {
        let out = byoc()
            .args([command, "--config"])
            .arg(&path)
            .env_remove("BYOC_TEST_UNSET_VARIABLE")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&path.display().to_string()),
            "{command}: {err}"
        );
        assert!(err.contains("`channels.sms.api_key`"), "{command}: {err}");
        assert!(
            err.contains("environment variable BYOC_TEST_UNSET_VARIABLE is not set"),
            "{command}: {err}"
        );
    }
}

#[test]
fn normalize_prints_one_activity_per_line_and_refuses_bad_input_with_exit_2() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/telesign/mo-basic.json"
    );
    let out = byoc()
        .args(["normalize", "--channel", "telesign", fixture])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    let a: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(a["type"], "message");
    assert_eq!(a["channelId"], "telesign");

    let mut child = byoc()
        .args(["normalize", "--channel", "connector"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), br#"{"type":"message"}"#).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("channelId"), "{err}");
}
