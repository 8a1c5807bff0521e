//! Load generator for BENCHMARKS.md: signed TeleSign inbound SMS over many conversations to
//! `byoc serve` (SQLite store, the TeleSign simulator as the outbound target), with the
//! ceilings measured by the same generator in the same run: a bare axum handler answering
//! 200 (HTTP), and raw SQLite inserts of the same rows, one per transaction and in batches,
//! driven directly as the gateway's writer drives SQLite (storage; the same through sqlx, the
//! earlier ceiling, for comparison). Loopback only; bounded in count and time. One command prints the whole table:
//!
//! ```sh
//! cargo run --release -p byoc-gateway --example load
//! cargo run --release -p byoc-gateway --example load -- --requests 4000 --concurrency 32 --rounds 3
//! ```
//!
//! Each round runs every configuration once, in turn (bare handler, gateway, raw inserts),
//! so a machine whose load drifts affects them alike; the summary gives the medians over
//! the rounds, and each ratio is the median of the ratios taken within a round. The load
//! average is printed with every figure.
//!
//! The gateway and the bare handler each run in a process of their own, started from this
//! binary: `load serve --config FILE` is `byoc serve` (the same library call as the `byoc`
//! binary), `load bare` the bare handler. The gateway runs with its default settings
//! (processing at its default concurrency) unless `--workers` is given.
//!
//! Every request is a distinct conversation (a new customer number), so each one also gets
//! a reply (the workstream's greeting); the simulator stamps when the reply arrives, which
//! gives the end-to-end time from the webhook's send. The simulator also posts a delivery
//! report for every SMS back to the gateway, as TeleSign does.

use std::collections::HashMap;
use std::io::BufRead as _;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use byoc_sim::telesign::{TelesignSim, TelesignSimOptions, callback_authorization};
use futures_util::StreamExt as _;

#[path = "load/raw.rs"]
mod raw;

/// No phase runs longer than this.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

struct Args {
    requests: usize,
    concurrency: usize,
    rounds: usize,
    workers: Option<usize>,
}

fn args() -> Args {
    let mut a = Args {
        requests: 4000,
        concurrency: 32,
        rounds: 3,
        workers: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().and_then(|v| v.parse().ok());
        match (flag.as_str(), value) {
            ("--requests", Some(n)) => a.requests = n,
            ("--concurrency", Some(n)) => a.concurrency = n,
            ("--rounds", Some(n)) => a.rounds = n,
            ("--workers", Some(n)) => a.workers = Some(n),
            _ => {
                eprintln!(
                    "usage: load [--requests N (max 100000)] [--concurrency C (max 256)] [--rounds R (max 9)] [--workers W (the gateway's max_conversation_workers; default: the gateway's default)]"
                );
                std::process::exit(2);
            }
        }
    }
    a.requests = a.requests.clamp(1, 100_000);
    a.concurrency = a.concurrency.clamp(1, 256);
    a.rounds = a.rounds.clamp(1, 9);
    a.workers = a.workers.map(|w| w.clamp(1, 4096));
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
            let customer = format!("1555{i:07}");
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

/// What one configuration measured in one round.
#[derive(Clone, Default)]
struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
    failed: usize,
    e2e: Option<(Duration, Duration, usize, Duration)>,
    /// The server process's CPU time per accepted request while the requests were sent.
    cpu_per_request: Option<Duration>,
    load: String,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// CPU time (user + system) a process has used so far, from `/proc` (Linux).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) follow its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".to_owned())
}

struct Fired {
    figures: Figures,
    sent_at: HashMap<String, Instant>,
    ok: usize,
    started: Instant,
}

async fn fire(url: &str, calls: &[Callback], concurrency: usize) -> Fired {
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
    let ok = latencies.len();
    Fired {
        figures: Figures {
            rate: ok as f64 / elapsed.as_secs_f64(),
            p50: percentile(&latencies, 0.5),
            p99: percentile(&latencies, 0.99),
            failed: results.len() - ok,
            e2e: None,
            cpu_per_request: None,
            load: load_average(),
        },
        sent_at: results.iter().map(|(c, _, t)| (c.clone(), *t)).collect(),
        ok,
        started,
    }
}

/// A child process of this binary (`serve` or `bare`), killed when dropped; its URL from
/// the first line it prints (`listening on URL`).
struct Server(Child, String);

impl Server {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(std::env::current_exe().expect("current exe"));
        command
            .args(args)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("server process");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let url = line.trim().trim_start_matches("listening on ").to_owned();
        Self(child, url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `load bare`: an axum handler answering 200, on a runtime like the gateway's.
fn bare() -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!(
            "listening on http://{}",
            listener.local_addr().expect("addr")
        );
        let app = axum::Router::new().route(
            "/webhooks/sms",
            axum::routing::post(|| async { http::StatusCode::OK }),
        );
        let _ = axum::serve(listener, app).await;
    });
    ExitCode::SUCCESS
}

async fn bare_round(calls: &[Callback], concurrency: usize) -> Figures {
    let server = Server::start(&["bare"], &[]);
    let url = format!("{}/webhooks/sms", server.1);
    let _warm = fire(&url, &calls[..calls.len().min(200)], concurrency).await;
    let before = cpu_time(server.0.id());
    let mut figures = fire(&url, calls, concurrency).await.figures;
    figures.cpu_per_request = per_request(before, cpu_time(server.0.id()), calls.len());
    figures
}

fn per_request(before: Option<Duration>, after: Option<Duration>, n: usize) -> Option<Duration> {
    let used = after?.checked_sub(before?)?;
    Some(used / u32::try_from(n.max(1)).unwrap_or(u32::MAX))
}

fn config(telesign: &TelesignSim, workers: Option<usize>) -> String {
    let workers = workers.map_or_else(String::new, |w| format!("max_conversation_workers = {w}\n"));
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
{workers}
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

async fn gateway_round(requests: usize, concurrency: usize, workers: Option<usize>) -> Figures {
    let telesign = TelesignSim::start(TelesignSimOptions::default().with_date_tolerance(None))
        .await
        .expect("telesign simulator");
    let calls = callbacks(requests, telesign.customer_id(), telesign.api_key());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("byoc.toml");
    std::fs::write(&path, config(&telesign, workers)).expect("config");
    let path = path.to_string_lossy().into_owned();
    let server = Server::start(
        &["serve", "--config", &path],
        &[("LOAD_TELESIGN_KEY", telesign.api_key())],
    );
    telesign.set_callback_url(format!("{}/webhooks/sms", server.1));
    let url = format!("{}/webhooks/sms", server.1);
    let before = cpu_time(server.0.id());
    let fired = fire(&url, &calls, concurrency).await;
    let cpu = per_request(before, cpu_time(server.0.id()), fired.ok);
    let waiting = Instant::now();
    let mut arrived: HashMap<String, Instant> = HashMap::new();
    loop {
        for m in telesign.messages() {
            let at = arrived
                .entry(m.phone_number.clone())
                .or_insert(m.received_at);
            *at = (*at).min(m.received_at);
        }
        if arrived.len() >= fired.ok || waiting.elapsed() > PHASE_LIMIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if std::env::var_os("LOAD_METRICS").is_some() {
        // Diagnostics: the gateway's own view of the run.
        if let Ok(r) = reqwest::get(format!("{}/metrics", server.1)).await {
            for line in r.text().await.unwrap_or_default().lines() {
                if line.starts_with("byoc_store_group_commit")
                    || line.starts_with("byoc_webhook_seconds")
                {
                    eprintln!("{line}");
                }
            }
        }
    }
    drop(server);
    let mut e2e: Vec<Duration> = arrived
        .iter()
        .filter_map(|(phone, at)| {
            fired
                .sent_at
                .get(phone)
                .map(|s| at.saturating_duration_since(*s))
        })
        .collect();
    e2e.sort();
    let drained = arrived
        .values()
        .max()
        .map(|last| last.saturating_duration_since(fired.started))
        .unwrap_or_default();
    let mut figures = fired.figures;
    figures.cpu_per_request = cpu;
    figures.e2e = Some((
        percentile(&e2e, 0.5),
        percentile(&e2e, 0.99),
        e2e.len(),
        drained,
    ));
    figures
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn median_duration(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("serve") => return byoc_gateway::cli_main(),
        Some("bare") => return bare(),
        _ => {}
    }
    let args = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(args));
    ExitCode::SUCCESS
}

const NAMES: [&str; 6] = [
    "bare axum handler (200)",
    "byoc serve, TeleSign webhook",
    "raw SQLite insert, 1 row per transaction",
    "raw SQLite insert, C rows per transaction",
    "raw SQLite insert, 256 rows per transaction",
    "raw SQLite insert through sqlx, C rows per transaction",
];

async fn run(args: Args) {
    let workers = args
        .workers
        .map_or_else(|| "default".to_owned(), |w| w.to_string());
    println!(
        "{} signed inbound SMS, {} concurrent (C), {} rounds, gateway workers: {workers}; loopback",
        args.requests, args.concurrency, args.rounds
    );
    println!("start: load average {}", load_average());
    // Rows for the raw inserts, signed with the simulator's default credentials.
    let probe = TelesignSim::start(TelesignSimOptions::default())
        .await
        .expect("telesign simulator");
    let calls = callbacks(args.requests, probe.customer_id(), probe.api_key());
    let raw_rows = raw::rows(&calls);
    let mut figures: Vec<Vec<Figures>> = vec![Vec::new(); NAMES.len()];
    println!();
    println!(
        "| round | what | accepted/s | p50 | p99 | failed | server CPU per request | end to end p50 / p99 (replies, all in) | load average |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for round in 1..=args.rounds {
        let measured = [
            bare_round(&calls, args.concurrency).await,
            gateway_round(args.requests, args.concurrency, args.workers).await,
            raw::raw_sqlite(&raw_rows, 1).await,
            raw::raw_sqlite(&raw_rows, args.concurrency).await,
            raw::raw_sqlite(&raw_rows, 256).await,
            raw::raw_sqlx(&raw_rows, args.concurrency).await,
        ];
        for (i, f) in measured.into_iter().enumerate() {
            let latency = if i < 2 {
                (ms(f.p50), ms(f.p99), f.failed.to_string())
            } else {
                Default::default()
            };
            let e2e = f.e2e.map_or_else(String::new, |(p50, p99, n, all)| {
                format!("{} / {} ({n}, {})", ms(p50), ms(p99), ms(all))
            });
            let cpu = f
                .cpu_per_request
                .map_or_else(String::new, |d| format!("{} µs", d.as_micros()));
            println!(
                "| {round} | {} | {:.0} | {} | {} | {} | {cpu} | {e2e} | {} |",
                NAMES[i], f.rate, latency.0, latency.1, latency.2, f.load
            );
            figures[i].push(f);
        }
    }
    summary(&figures, args.concurrency);
}

fn summary(figures: &[Vec<Figures>], concurrency: usize) {
    let rates = |i: usize| -> Vec<f64> { figures[i].iter().map(|f| f.rate).collect() };
    println!();
    println!("Medians over the rounds:");
    println!();
    println!("| what | accepted/s | p50 | p99 | end to end p50 / p99 (sustained) |");
    println!("|---|---|---|---|---|");
    for (i, name) in NAMES.iter().enumerate() {
        let name = name.replace(" C ", &format!(" {concurrency} "));
        let (p50, p99) = if i < 2 {
            (
                ms(median_duration(figures[i].iter().map(|f| f.p50).collect())),
                ms(median_duration(figures[i].iter().map(|f| f.p99).collect())),
            )
        } else {
            Default::default()
        };
        let e2e: Vec<_> = figures[i].iter().filter_map(|f| f.e2e).collect();
        let e2e = if e2e.is_empty() {
            String::new()
        } else {
            // Sustained: every reply in, from the first webhook sent to the last reply.
            let sustained = median(
                e2e.iter()
                    .map(|e| e.2 as f64 / e.3.as_secs_f64().max(1e-9))
                    .collect(),
            );
            format!(
                "{} / {} ({sustained:.0} replies/s)",
                ms(median_duration(e2e.iter().map(|e| e.0).collect())),
                ms(median_duration(e2e.iter().map(|e| e.1).collect()))
            )
        };
        println!(
            "| {name} | {:.0} | {p50} | {p99} | {e2e} |",
            median(rates(i))
        );
    }
    println!();
    println!("Ratios (median of the ratios within each round):");
    println!();
    let gateway = rates(1);
    for (i, what, target) in [
        (0, "the bare axum handler", "30%"),
        (2, "raw SQLite, 1 row per transaction", "50%"),
        (3, "raw SQLite, C rows per transaction", "50%"),
        (4, "raw SQLite, 256 rows per transaction", "50%"),
        (5, "raw SQLite through sqlx, C rows per transaction", "50%"),
    ] {
        let ratio = median(
            gateway
                .iter()
                .zip(rates(i))
                .map(|(g, b)| 100.0 * g / b)
                .collect(),
        );
        let what = what.replace(" C ", &format!(" {concurrency} "));
        println!("- gateway / {what}: {ratio:.0}% (target {target})");
    }
    println!();
    println!("end: load average {}", load_average());
}
