//! Activity parse and round trip against two baselines measured in the same run:
//! `serde_json::from_slice::<serde_json::Value>` of the same bytes, and a minimal borrowed
//! struct of 12 fields (what serde can do at best; `common::ActivityMinimal`).
//! `scripts/bench-report.py` turns the medians into the ratios in BENCHMARKS.md.
//!
//! Every parse is timed with the drop of its result; results are observed through a
//! reference (`black_box(&a)`), except `parse/activity_moved`, which hands the `Activity` to
//! `black_box` by value and so also times the harness moving 1.4 KB of struct around.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::hint::black_box;

use byoc::core::Activity;
use bytes::Bytes;
use common::{ActivityMinimal, fixture};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;

fn activity_fixture(name: &str) -> Vec<u8> {
    fixture(&format!("activities/{name}.json"))
}

/// Inputs from 365 B to 256 KB: fixtures, a ~5 KB composite and a 256 KB text.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = [
        "typing-directline",
        "message-webchat-plain",
        "message-extension-fields",
        "message-adaptive-card",
        "message-teams-channel-mention",
    ]
    .iter()
    .map(|n| (n.to_string(), activity_fixture(n)))
    .collect();

    // ~5 KB: the Teams mention message carrying the other fixtures' attachments and entities.
    let mut big: serde_json::Value =
        serde_json::from_slice(&activity_fixture("message-teams-channel-mention"))
            .expect("fixture");
    let mut attachments = Vec::new();
    let mut entities = big["entities"].as_array().cloned().unwrap_or_default();
    for n in [
        "message-hero-card",
        "message-adaptive-card",
        "message-file-teams",
        "message-extension-fields",
    ] {
        let v: serde_json::Value = serde_json::from_slice(&activity_fixture(n)).expect("fixture");
        attachments.extend(v["attachments"].as_array().cloned().unwrap_or_default());
        entities.extend(v["entities"].as_array().cloned().unwrap_or_default());
    }
    big["attachments"] = attachments.into();
    big["entities"] = entities.into();
    let big = serde_json::to_vec_pretty(&big).expect("serialize");
    out.push(("composite-5k".to_owned(), big));

    // 256 KB of text.
    let mut text: serde_json::Value =
        serde_json::from_slice(&activity_fixture("message-webchat-plain")).expect("fixture");
    text["text"] = "lorem ipsum dolor sit amet ".repeat(256 * 1024 / 27).into();
    out.push((
        "text-256k".to_owned(),
        serde_json::to_vec(&text).expect("serialize"),
    ));
    out
}

fn bench(c: &mut Criterion) {
    for (name, bytes) in inputs() {
        let shared = Bytes::from(bytes.clone());
        let mut g = c.benchmark_group(format!("activity/{name}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        // Each parse's result is observed through a reference and dropped inside the timed
        // closure: handing a 1.4 KB `Activity` to `black_box` by value costs ~300 ns of
        // stack copying in this harness alone (`parse/activity_moved` keeps that figure).
        g.bench_function(BenchmarkId::new("parse", "value"), |b| {
            b.iter(|| {
                let v =
                    serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).expect("valid");
                black_box(&v);
            })
        });
        g.bench_function(BenchmarkId::new("parse", "minimal12"), |b| {
            b.iter(|| {
                serde_json::from_slice::<ActivityMinimal<'_>>(black_box(&bytes))
                    .expect("valid")
                    .id
                    .is_some()
            })
        });
        g.bench_function(BenchmarkId::new("parse", "activity"), |b| {
            b.iter(|| {
                let a = Activity::from_bytes(black_box(shared.clone())).expect("valid");
                black_box(&a);
            })
        });
        g.bench_function(BenchmarkId::new("parse", "activity_slice"), |b| {
            b.iter(|| {
                let a = Activity::from_slice(black_box(&bytes)).expect("valid");
                black_box(&a);
            })
        });
        g.bench_function(BenchmarkId::new("parse", "activity_moved"), |b| {
            b.iter(|| Activity::from_bytes(black_box(shared.clone())).expect("valid"))
        });
        g.bench_function(BenchmarkId::new("roundtrip", "value"), |b| {
            b.iter(|| {
                let v =
                    serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).expect("valid");
                serde_json::to_vec(&v).expect("serialize")
            })
        });
        g.bench_function(BenchmarkId::new("roundtrip", "activity"), |b| {
            b.iter(|| {
                let a = Activity::from_bytes(black_box(shared.clone())).expect("valid");
                a.to_vec().expect("serialize")
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
