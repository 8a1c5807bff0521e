//! Each adapter's inbound normalization (provider bytes → activities) against two baselines
//! measured in the same run on the same bytes: `serde_json::from_slice::<serde_json::Value>`
//! and a minimal borrowed struct of 12 fields of that provider's payload (what serde can do
//! at best). Groups are `normalize/<provider>-<fixture>`, ids `parse/value`,
//! `parse/minimal12` and `normalize/adapter`; the target is `normalize/adapter` ≤ 1.0×
//! `parse/value`.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::borrow::Cow;
use std::hint::black_box;

use common::{ActivityMinimal, fixture};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;
use serde_json::value::RawValue;

mod common;

// ---- TeleSign callbacks: 12 leaf fields --------------------------------------------------

#[derive(Deserialize)]
#[allow(dead_code)]
struct TsStatus<'a> {
    /// A number or a string: kept raw.
    #[serde(borrow)]
    code: Option<&'a RawValue>,
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    updated_on: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TsUserResponse<'a> {
    #[serde(borrow)]
    phone_number: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sender_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    mo_message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TsAdditionalInfo<'a> {
    #[serde(borrow)]
    message_parts_count: Option<&'a RawValue>,
    #[serde(borrow)]
    message_parts_reference_ids: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TelesignMinimal<'a> {
    #[serde(borrow)]
    reference_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    external_id: Option<&'a RawValue>,
    #[serde(borrow)]
    sub_resource: Option<Cow<'a, str>>,
    #[serde(borrow)]
    submit_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<TsStatus<'a>>,
    #[serde(borrow)]
    user_response: Option<TsUserResponse<'a>>,
    #[serde(borrow)]
    additional_info: Option<TsAdditionalInfo<'a>>,
}

// ---- Bot Framework activity (Direct Line, connector, Messaging API webhook) ---------------

/// A Direct Line `ActivitySet`: the 12 fields of each activity, and the watermark.
#[derive(Deserialize)]
#[allow(dead_code)]
struct ActivitySetMinimal<'a> {
    #[serde(borrow)]
    activities: Vec<ActivityMinimal<'a>>,
    #[serde(borrow)]
    watermark: Option<&'a RawValue>,
}

// ---- Salesforce outbound event payload: 12 leaf fields -----------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SfParticipant<'a> {
    #[serde(borrow)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    role: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SfStaticContent<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SfAbstractMessage<'a> {
    #[serde(borrow)]
    message_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    static_content: Option<SfStaticContent<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SfEntryPayload<'a> {
    #[serde(borrow)]
    abstract_message: Option<SfAbstractMessage<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SfEntry<'a> {
    #[serde(borrow)]
    sender_display_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    identifier: Option<Cow<'a, str>>,
    #[serde(borrow)]
    entry_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    entry_payload: Option<SfEntryPayload<'a>>,
    #[serde(borrow)]
    sender: Option<SfParticipant<'a>>,
    transcripted_timestamp: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SalesforceMinimal<'a> {
    #[serde(borrow)]
    conversation_identifier: Option<Cow<'a, str>>,
    #[serde(borrow)]
    channel_address_identifier: Option<Cow<'a, str>>,
    #[serde(borrow)]
    recipient: Option<SfParticipant<'a>>,
    #[serde(borrow)]
    payload: Option<SfEntry<'a>>,
}

/// A whole decoded event record: its fields, and the payload string parsed as above.
#[derive(Deserialize)]
#[allow(dead_code)]
struct SalesforceRecordMinimal<'a> {
    #[serde(rename = "CreatedDate")]
    created_date: Option<i64>,
    #[serde(rename = "CreatedById", borrow)]
    created_by_id: Option<Cow<'a, str>>,
    #[serde(rename = "contoso__EventType__c", borrow)]
    event_type: Option<Cow<'a, str>>,
    #[serde(rename = "contoso__Payload__c", borrow)]
    payload: Cow<'a, str>,
}

fn salesforce_record_minimal(bytes: &[u8]) -> bool {
    let record: SalesforceRecordMinimal<'_> = serde_json::from_slice(bytes).expect("valid");
    let inner: SalesforceMinimal<'_> = serde_json::from_str(&record.payload).expect("valid");
    inner.payload.is_some()
}

// ---- The benches --------------------------------------------------------------------------

type Normalize = fn(&[u8]) -> usize;
type Minimal = fn(&[u8]) -> bool;

struct Case {
    group: &'static str,
    fixture: &'static str,
    minimal: Minimal,
    normalize: Normalize,
}

fn telesign_minimal(b: &[u8]) -> bool {
    serde_json::from_slice::<TelesignMinimal<'_>>(b)
        .expect("valid")
        .reference_id
        .is_some()
}

fn activity_minimal(b: &[u8]) -> bool {
    serde_json::from_slice::<ActivityMinimal<'_>>(b)
        .expect("valid")
        .id
        .is_some()
}

fn activity_set_minimal(b: &[u8]) -> bool {
    !serde_json::from_slice::<ActivitySetMinimal<'_>>(b)
        .expect("valid")
        .activities
        .is_empty()
}

fn salesforce_minimal(b: &[u8]) -> bool {
    serde_json::from_slice::<SalesforceMinimal<'_>>(b)
        .expect("valid")
        .payload
        .is_some()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            group: "telesign-mo-basic",
            fixture: "telesign/mo-basic.json",
            minimal: telesign_minimal,
            normalize: |b| byoc::telesign::normalize(b).expect("valid").len(),
        },
        Case {
            group: "telesign-dlr-200-rfc3339",
            fixture: "telesign/dlr-200-rfc3339.json",
            minimal: telesign_minimal,
            normalize: |b| byoc::telesign::normalize(b).expect("valid").len(),
        },
        Case {
            group: "telesign-dlr-200-rfc1123-string-types",
            fixture: "telesign/dlr-200-rfc1123-string-types.json",
            minimal: telesign_minimal,
            normalize: |b| byoc::telesign::normalize(b).expect("valid").len(),
        },
        Case {
            group: "directline-activityset-with-watermark",
            fixture: "directline/activityset-with-watermark.json",
            minimal: activity_set_minimal,
            normalize: |b| byoc::directline::normalize(b).expect("valid").len(),
        },
        Case {
            group: "connector-message-webchat-plain",
            fixture: "activities/message-webchat-plain.json",
            minimal: activity_minimal,
            normalize: |b| byoc::directline::normalize(b).expect("valid").len(),
        },
        Case {
            group: "connector-message-teams-channel-mention",
            fixture: "activities/message-teams-channel-mention.json",
            minimal: activity_minimal,
            normalize: |b| byoc::directline::normalize(b).expect("valid").len(),
        },
        Case {
            group: "messaging-api-webhook-agent-message-markdown",
            fixture: "messaging-api/webhook-agent-message-markdown.json",
            minimal: activity_minimal,
            normalize: |b| byoc::messaging_api::normalize(b).expect("valid").len(),
        },
        Case {
            group: "messaging-api-webhook-agent-attachment",
            fixture: "messaging-api/webhook-agent-attachment.json",
            minimal: activity_minimal,
            normalize: |b| byoc::messaging_api::normalize(b).expect("valid").len(),
        },
        Case {
            group: "messaging-api-webhook-agent-accepted",
            fixture: "messaging-api/webhook-agent-accepted.json",
            minimal: activity_minimal,
            normalize: |b| byoc::messaging_api::normalize(b).expect("valid").len(),
        },
        Case {
            group: "salesforce-pubsub-interaction-text-wrapped",
            fixture: "salesforce/pubsub-interaction-text-wrapped.json",
            minimal: salesforce_minimal,
            normalize: |b| byoc::salesforce::normalize(b).expect("valid").len(),
        },
        Case {
            group: "salesforce-pubsub-interaction-attachments-wrapped",
            fixture: "salesforce/pubsub-interaction-attachments-wrapped.json",
            minimal: salesforce_minimal,
            normalize: |b| byoc::salesforce::normalize(b).expect("valid").len(),
        },
        Case {
            group: "salesforce-pubsub-event-record",
            fixture: "salesforce/pubsub-event-record.json",
            minimal: salesforce_record_minimal,
            normalize: |b| byoc::salesforce::normalize(b).expect("valid").len(),
        },
    ]
}

fn bench(c: &mut Criterion) {
    for case in cases() {
        let bytes = fixture(case.fixture);
        // Fail before measuring if a baseline or the adapter rejects the fixture.
        assert!((case.normalize)(&bytes) > 0, "{}", case.fixture);
        let _ = (case.minimal)(&bytes);
        let mut g = c.benchmark_group(format!("normalize/{}", case.group));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(BenchmarkId::new("parse", "value"), |b| {
            b.iter(|| {
                serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).expect("valid")
            })
        });
        g.bench_function(BenchmarkId::new("parse", "minimal12"), |b| {
            b.iter(|| (case.minimal)(black_box(&bytes)))
        });
        g.bench_function(BenchmarkId::new("normalize", "adapter"), |b| {
            b.iter(|| (case.normalize)(black_box(&bytes)))
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
