//! Helpers shared by the SDK interop tests: child processes that die with the test, their
//! JSON lines, free ports, and the rule that a missing SDK skips a test unless
//! `BYOC_REQUIRE_SDK_TESTS=1` (CI) makes it fail.

#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Child;

/// Longest wait for any SDK step (import check, script run, bot start-up).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// `tests/sdk` at the repository root.
pub fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk")
}

/// Whether CI demands the SDK tests run.
pub fn required() -> bool {
    std::env::var("BYOC_REQUIRE_SDK_TESTS").is_ok_and(|v| v == "1")
}

/// Reports a skipped test on stderr (past the harness's capture), or panics when required.
pub fn skip(test: &str, why: &str, install: &str) -> bool {
    assert!(
        !required(),
        "{test}: {why} and BYOC_REQUIRE_SDK_TESTS=1: run `{install}`"
    );
    let _ = writeln!(std::io::stderr(), "{test} skipped: {why} ({install})");
    false
}

/// A child process killed when dropped (also on panic).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

/// Forwards a child's stdout JSON lines to a channel, draining the pipe while it runs.
pub fn json_lines(child: &mut Child, label: &'static str) -> tokio::sync::mpsc::Receiver<Value> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("{label}: {line}");
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                // A full channel only means nobody is listening any more.
                let _ = tx.try_send(v);
            }
        }
    });
    rx
}

/// Waits for the next line with `key`.
pub async fn wait_for_line(lines: &mut tokio::sync::mpsc::Receiver<Value>, key: &str) -> Value {
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
        _ => panic!("no `{key}` line within {STEP_TIMEOUT:?}"),
    }
}

/// A free loopback port (bound, then released for the simulator to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs a finished command's output check: success, and the last stdout line as JSON.
pub fn last_json(what: &str, out: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}):\n{stdout}\n{stderr}"))
}
