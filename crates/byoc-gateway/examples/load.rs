//! Load generator for BENCHMARKS.md: signed TeleSign inbound SMS over many conversations to
//! `byoc serve` (SQLite store, the TeleSign simulator as the outbound target), with two
//! ceilings measured in the same run: a bare axum handler answering 200 (HTTP) and raw
//! SQLite inserts of the same rows (storage). Loopback only; bounded in count and time.
//!
//! ```sh
//! cargo build --release -p byoc-gateway --bin byoc --example load
//! target/release/examples/load --requests 4000 --concurrency 32
//! ```
//!
//! Every request is a distinct conversation (a new customer number), so each one also
//! produces one reply (the workstream's greeting), whose arrival at the simulator gives
//! the end-to-end time.

use std::collections::HashMap;
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use byoc_gateway::{InboxEvent, Provider, normalize_payload};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions, callback_authorization};
use futures_util::StreamExt as _;
use sqlx::Connection as _;

/// No phase runs longer than this.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

struct Args {
    requests: usize,
    concurrency: usize,
    workers: usize,
}

fn args() -> Args {
    let mut a = Args {
        requests: 4000,
        concurrency: 32,
        workers: 256,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().and_then(|v| v.parse().ok());
        match (flag.as_str(), value) {
            ("--requests", Some(n)) => a.requests = n,
            ("--concurrency", Some(n)) => a.concurrency = n,
            ("--workers", Some(n)) => a.workers = n,
            _ => {
                eprintln!(
                    "usage: load [--requests N (max 100000)] [--concurrency C (max 256)] [--workers W (the gateway's max_conversation_workers)]"
                );
                std::process::exit(2);
            }
        }
    }
    a.requests = a.requests.clamp(1, 100_000);
    a.concurrency = a.concurrency.clamp(1, 256);
    a.workers = a.workers.clamp(1, 4096);
    a
}

/// One signed inbound SMS callback.
struct Callback {
    customer: String,
    body: String,
    authorization: String,
}

fn callbacks(n: usize, customer_id: &str, api_key: &str) -> Vec<Callback> {
    (0..n)
        .map(|i| {
            let customer = format!("1555{:07}", i);
            let now = chrono::Utc::now().to_rfc3339();
            let body = serde_json::json!({
                "status": {"updated_on": now, "code": 1500, "description": "Delivered to customer"},
                "submit_timestamp": now,
                "errors": [],
                "user_response": {"phone_number": customer, "sender_id": "15555550999", "mo_message": format!("load message {i}")},
                "sub_resource": "mo_sms",
                "reference_id": format!("{:032X}", i + 1),
            })
            .to_string();
            let authorization = callback_authorization(customer_id, api_key, body.as_bytes());
            Callback { customer, body, authorization }
        })
        .collect()
}

struct Run {
    ok: usize,
    failed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    sent_at: HashMap<String, Instant>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn fire(url: &str, calls: &[Callback], concurrency: usize) -> Run {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let started = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(calls.iter())
        .map(|c| {
            let http = http.clone();
            async move {
                if started.elapsed() > PHASE_LIMIT {
                    return (c.customer.clone(), None, Instant::now());
                }
                let t = Instant::now();
                let r = http
                    .post(url)
                    .header("content-type", "application/json")
                    .header("authorization", &c.authorization)
                    .header("x-ts-authorization", &c.authorization)
                    .body(c.body.clone())
                    .send()
                    .await;
                let ok = matches!(&r, Ok(r) if r.status().is_success());
                (c.customer.clone(), ok.then(|| t.elapsed()), t)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = results.iter().filter_map(|(_, l, _)| *l).collect();
    latencies.sort();
    let sent_at = results.iter().map(|(c, _, t)| (c.clone(), *t)).collect();
    Run {
        ok: latencies.len(),
        failed: results.len() - latencies.len(),
        elapsed,
        latencies,
        sent_at,
    }
}

fn bare_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let _ = tx.send(format!(
                "http://{}/webhooks/sms",
                listener.local_addr().expect("addr")
            ));
            let app = axum::Router::new().route(
                "/webhooks/sms",
                axum::routing::post(|| async { http::StatusCode::OK }),
            );
            let _ = axum::serve(listener, app).await;
        });
    });
    rx.recv().expect("bare server address")
}

async fn raw_sqlite(calls: &[Callback], per_tx: usize) -> (usize, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("raw.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("sqlite");
    sqlx::query(
        "CREATE TABLE inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, dedupe_key TEXT, \
         conv_key TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL, processed_at INTEGER)",
    )
    .execute(&mut conn)
    .await
    .expect("table");
    sqlx::query("CREATE UNIQUE INDEX inbox_dedupe ON inbox (channel, dedupe_key) WHERE dedupe_key IS NOT NULL")
        .execute(&mut conn)
        .await
        .expect("index");
    // The rows the gateway stores: the normalized activity as an inbox event.
    let rows: Vec<(String, String, String)> = calls
        .iter()
        .map(|c| {
            let a = normalize_payload(Provider::Telesign, c.body.as_bytes())
                .expect("normalize")
                .remove(0);
            let key = format!("sms:{}", a.conversation_id().unwrap_or_default());
            let id = a.id.clone().unwrap_or_default();
            let event = serde_json::to_string(&InboxEvent::Customer {
                activity: Box::new(a),
            })
            .expect("json");
            (id, key, event)
        })
        .collect();
    let started = Instant::now();
    let mut done = 0;
    for chunk in rows.chunks(per_tx) {
        if started.elapsed() > PHASE_LIMIT {
            break;
        }
        let mut tx = conn.begin().await.expect("begin");
        for (id, key, event) in chunk {
            sqlx::query("INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) VALUES ('sms', ?, ?, ?, ?) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(key)
                .bind(event)
                .bind(chrono::Utc::now().timestamp_millis())
                .execute(&mut *tx)
                .await
                .expect("insert");
            done += 1;
        }
        tx.commit().await.expect("commit");
    }
    (done, started.elapsed())
}

fn byoc_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    dir.join(if cfg!(windows) { "byoc.exe" } else { "byoc" })
}

fn config(telesign: &TelesignSim, workers: usize) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
max_conversation_workers = {workers}
[store]
sqlite = "byoc.db"
[channels.sms]
kind = "telesign"
customer_id = "{}"
api_key = {{ env = "LOAD_TELESIGN_KEY" }}
base_url = "{}"
[[workstreams]]
[workstreams.definition]
name = "Load"
language = "en-US"
channel = {{ kind = "sms", id = "sms" }}
default_queue = "Humans"
[[workstreams.definition.routing_rules]]
name = "All"
queue = "Humans"
[[workstreams.definition.queues]]
name = "Humans"
members = [{{ id = "alice", kind = "agent", capacity = 1 }}]
[workstreams.definition.messages]
greeting = "Thanks, we got your message."
[[agents]]
id = "alice"
password = "not-used-in-this-run"
"#,
        telesign.customer_id(),
        telesign.url(),
    )
}

#[tokio::main]
async fn main() {
    let args = args();
    let telesign = Arc::new(
        TelesignSim::start(TelesignSimOptions::default().with_date_tolerance(None))
            .await
            .expect("telesign simulator"),
    );
    let calls = callbacks(args.requests, telesign.customer_id(), telesign.api_key());
    println!(
        "{} signed inbound SMS, {} concurrent, loopback",
        calls.len(),
        args.concurrency
    );

    // 1. The HTTP ceiling: a bare axum handler answering 200.
    let bare_url = bare_server();
    let _warm = fire(&bare_url, &calls[..calls.len().min(200)], args.concurrency).await;
    let bare = fire(&bare_url, &calls, args.concurrency).await;

    // 2. The gateway: `byoc serve`, SQLite, the TeleSign simulator as the outbound target.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("byoc.toml");
    std::fs::write(&path, config(&telesign, args.workers)).expect("config");
    let mut child = Command::new(byoc_binary())
        .args(["serve", "--config"])
        .arg(&path)
        .env("LOAD_TELESIGN_KEY", telesign.api_key())
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("byoc serve (build it first: cargo build --release -p byoc-gateway --bin byoc)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let base = line.trim().trim_start_matches("listening on ").to_owned();
    telesign.set_callback_url(format!("{base}/webhooks/sms"));
    let arrived: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let watcher = {
        let (telesign, arrived) = (Arc::clone(&telesign), Arc::clone(&arrived));
        tokio::spawn(async move {
            loop {
                for m in telesign.messages() {
                    arrived
                        .lock()
                        .expect("lock")
                        .entry(m.phone_number.clone())
                        .or_insert_with(Instant::now);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let gateway = fire(&format!("{base}/webhooks/sms"), &calls, args.concurrency).await;
    let waiting = Instant::now();
    while arrived.lock().expect("lock").len() < gateway.ok && waiting.elapsed() < PHASE_LIMIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watcher.abort();
    let _ = child.kill();
    let _ = child.wait();
    let mut e2e: Vec<Duration> = arrived
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|(phone, at)| {
            gateway
                .sent_at
                .get(phone)
                .map(|s| at.saturating_duration_since(*s))
        })
        .collect();
    e2e.sort();
    let replies = e2e.len();
    let drained = waiting.elapsed() + gateway.elapsed;

    // 3. The storage ceiling: the same rows inserted straight into SQLite (WAL, FULL).
    let (raw_one, raw_one_t) = raw_sqlite(&calls, 1).await;
    let (raw_batch, raw_batch_t) = raw_sqlite(&calls, 256).await;
    let raw_one_rate = raw_one as f64 / raw_one_t.as_secs_f64();
    let raw_batch_rate = raw_batch as f64 / raw_batch_t.as_secs_f64();

    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!();
    println!("| what | accepted/s | p50 | p99 | failed |");
    println!("|---|---|---|---|---|");
    for (name, run) in [
        ("bare axum handler (200)", &bare),
        ("byoc serve, TeleSign webhook", &gateway),
    ] {
        println!(
            "| {name} | {:.0} | {} | {} | {} |",
            run.rate(),
            ms(percentile(&run.latencies, 0.5)),
            ms(percentile(&run.latencies, 0.99)),
            run.failed
        );
    }
    println!("| raw SQLite insert, one transaction per row | {raw_one_rate:.0} | | | |");
    println!("| raw SQLite insert, 256 rows per transaction | {raw_batch_rate:.0} | | | |");
    println!();
    println!(
        "gateway / bare handler: {:.0}%",
        100.0 * gateway.rate() / bare.rate()
    );
    println!(
        "gateway / raw SQLite (one row per transaction): {:.0}%",
        100.0 * gateway.rate() / raw_one_rate
    );
    println!(
        "gateway / raw SQLite (256 rows per transaction): {:.0}%",
        100.0 * gateway.rate() / raw_batch_rate
    );
    println!(
        "end to end (webhook sent -> reply at the simulator): {replies} of {} replies, p50 {}, p99 {}, all drained in {:.1} s",
        gateway.ok,
        ms(percentile(&e2e, 0.5)),
        ms(percentile(&e2e, 0.99)),
        drained.as_secs_f64()
    );
}
