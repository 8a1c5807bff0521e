//! Each adapter's outbound rendering (Activity → provider request), pure, no I/O. Groups are
//! `render/<provider>-<activity>`; ids: `render/adapter` (the crate's render function: the
//! provider's body or struct), `render/request` (render plus the `prepare_*` function that
//! builds the `http::Request`, serialization and signing included), and `serialize/activity`
//! (`Activity::to_vec` of the same activity, a reference measured in the same run).

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::hint::black_box;

use byoc::core::{Activity, Attachment, ChannelAccount, ConversationAccount, Secret, Timestamp};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const TEXT: &str =
    "Your order 48213 has shipped and should arrive on Thursday. Reply STOP to opt out.";

/// A 1 KB file as a `data:` URI (Salesforce takes inline files only): 1,023 bytes of 0x89,
/// base64 `iYmJ` per 3 bytes.
fn data_uri() -> String {
    format!("data:image/png;base64,{}", "iYmJ".repeat(341))
}

fn timestamp() -> Timestamp {
    Timestamp::parse("2024-05-02T16:41:09.301Z").expect("valid")
}

/// A message to a customer, as a host would hand it to `send`.
fn message(from: &str, recipient: &str, conversation: &str) -> Activity {
    let mut a = Activity::message(TEXT);
    a.id = Some("7f9b1d3f-5a7c-4e9b-b1d3-f5a7c9e1b3d5".into());
    a.timestamp = Some(timestamp());
    a.from = Some(ChannelAccount::new(from).with_name("Grace Liu"));
    a.recipient = Some(ChannelAccount::new(recipient));
    a.conversation = Some(ConversationAccount::new(conversation));
    a
}

fn with_attachment(mut a: Activity, att: Attachment) -> Activity {
    a.attachments = Some(vec![att]);
    a
}

fn pdf() -> Attachment {
    let mut att = Attachment::from_url(
        "application/pdf",
        "https://files.example/api/v1.0/attachments/7e9a1c3e/router-reset-guide.pdf",
    );
    att.name = Some("router-reset-guide.pdf".into());
    att
}

fn group<R1, R2>(
    c: &mut Criterion,
    name: &str,
    activity: &Activity,
    render: impl Fn(&Activity) -> R1,
    request: impl Fn(&Activity) -> R2,
) {
    let mut g = c.benchmark_group(format!("render/{name}"));
    g.bench_function(BenchmarkId::new("render", "adapter"), |b| {
        b.iter(|| render(black_box(activity)))
    });
    g.bench_function(BenchmarkId::new("render", "request"), |b| {
        b.iter(|| request(black_box(activity)))
    });
    g.bench_function(BenchmarkId::new("serialize", "activity"), |b| {
        b.iter(|| black_box(activity).to_vec().expect("serialize"))
    });
    g.finish();
}

fn telesign(c: &mut Criterion) {
    use byoc::telesign::{TelesignClient, TelesignConfig, TransportFuture, render};

    let key =
        "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";
    let config = TelesignConfig::new("FFFFFFFF-EEEE-DDDD-1234-AB1234567890", Secret::new(key))
        .expect("config")
        .with_callback_url("https://hooks.example/telesign".parse().expect("URL"))
        .expect("callback URL");
    // Never called: the bench builds requests only.
    let transport = |_req: http::Request<bytes::Bytes>| -> TransportFuture {
        Box::pin(async { panic!("the render bench performs no I/O") })
    };
    let client = TelesignClient::with_transport(config.clone(), std::sync::Arc::new(transport))
        .expect("client");
    // A fixed instant (the signature includes the date).
    let now = timestamp().to_utc();
    let nonce = "6c2ee7d2-2b6e-4d4e-9b0b-3d1c4e2f5a6b";
    // SMS carries no attachments: only the text message.
    let a = message("15555550999", "+1 555 555 0123", "15555550123:15555550999");
    assert_eq!(render(&a, &config).expect("renders").len(), 1);
    group(
        c,
        "telesign-message-text",
        &a,
        |a| render(a, &config).expect("renders"),
        |a| {
            let sends = render(a, &config).expect("renders");
            sends
                .iter()
                .map(|s| client.prepare_send(s, now, nonce).expect("request"))
                .collect::<Vec<_>>()
        },
    );
}

fn directline(c: &mut Criterion) {
    use byoc::directline::{ConnectorClient, render_for_connector, render_for_directline};

    let user = ChannelAccount::new("dl_4f1c9b2e8a3d4e559c112b7a6d0e13f4").with_name("Priya");
    let service_url = "https://smba.example/teams/";
    let hero = Attachment {
        content_type: Some("application/vnd.microsoft.card.hero".into()),
        content: byoc::core::RawJson::from_json_text(
            r#"{"title":"Order 48213","subtitle":"Shipped","text":"Arrives Thursday","images":[{"url":"https://img.example/p.png"}],"buttons":[{"type":"openUrl","title":"Track","value":"https://track.example/48213"}]}"#,
        )
        .ok(),
        ..Attachment::default()
    };
    for (name, a) in [
        (
            "message-text",
            message("bot-1", "user-1", "7Hq2mXbLw3eK9pRtV1cZsA-us"),
        ),
        (
            "message-hero-card",
            with_attachment(
                message("bot-1", "user-1", "7Hq2mXbLw3eK9pRtV1cZsA-us"),
                hero.clone(),
            ),
        ),
    ] {
        group(
            c,
            &format!("connector-{name}"),
            &a,
            |a| render_for_connector(a).expect("renders"),
            |a| {
                ConnectorClient::prepare_send(service_url, "7Hq2mXbLw3eK9pRtV1cZsA-us", None, a)
                    .expect("request")
            },
        );
        group(
            c,
            &format!("directline-{name}"),
            &a,
            |a| render_for_directline(a, &user).expect("renders"),
            |a| {
                render_for_directline(a, &user)
                    .map(bytes::Bytes::from)
                    .expect("renders")
            },
        );
    }
}

fn messaging_api(c: &mut Criterion) {
    use byoc::messaging_api::{EntraApp, MessagingApiConfig, prepare_send, render};

    let app = EntraApp::new(
        "0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e",
        "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        Secret::new("client-secret"),
    )
    .expect("app");
    let channel = "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a";
    let cfg = MessagingApiConfig::new(
        app,
        "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        channel,
        "eu",
        "crm4",
    )
    .expect("config");
    let token = Secret::new("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln");
    let conv = "2f6b8d0e-4a1c-4e3b-9d5f-7a9c1e3b5d7f";
    for (name, a) in [
        ("message-text", message("customer-00917734", "agent", conv)),
        (
            "message-attachment",
            with_attachment(message("customer-00917734", "agent", conv), pdf()),
        ),
    ] {
        group(
            c,
            &format!("messaging-api-{name}"),
            &a,
            |a| render(a, channel).expect("renders"),
            |a| {
                let out = render(a, channel).expect("renders");
                prepare_send(&cfg, &token, &out).expect("request")
            },
        );
    }
}

/// Salesforce: `render/request` is render plus `prepare_interaction`, the whole multipart
/// `POST /interactions` with its headers (the bearer token minted beforehand, as the client
/// caches it).
fn salesforce(c: &mut Criterion) {
    use byoc::salesforce::{CallContext, prepare_interaction, render_interaction};

    let to = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
    let scrt = url::Url::parse("https://contoso.my.salesforce-scrt.example").expect("url");
    let token = Secret::new("00D5g000004Zx1A!AQ4AQFake.Token.For.Benchmarks");
    let ctx = CallContext::new(
        &token,
        "00D5g000004Zx1A",
        "Partner_ChannelDefinition",
        "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11",
    );
    let mut png = Attachment::from_url("image/png", data_uri());
    png.name = Some("receipt.png".into());
    for (name, a) in [
        (
            "message-text",
            message(
                "15555550123",
                "agent",
                "e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f",
            ),
        ),
        (
            "message-attachment",
            with_attachment(
                message(
                    "15555550123",
                    "agent",
                    "e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f",
                ),
                png.clone(),
            ),
        ),
    ] {
        group(
            c,
            &format!("salesforce-{name}"),
            &a,
            |a| render_interaction(a, to, 0).expect("renders"),
            |a| {
                let r = render_interaction(a, to, 0).expect("renders");
                prepare_interaction(&scrt, &r, &ctx, "byoc-2d1c7e0f4b5a4c6e").expect("request")
            },
        );
    }
}

fn bench(c: &mut Criterion) {
    telesign(c);
    directline(c);
    messaging_api(c);
    salesforce(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
