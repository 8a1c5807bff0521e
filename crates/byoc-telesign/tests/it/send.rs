//! Outbound: sending, auth schemes, the simulator's checks, status and credential probe.

use byoc_core::{AdapterError, ChannelAdapter, DeliveredPart, DeliveryStatus};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use byoc_telesign::{
    AuthScheme, ClientError, CredentialCheck, LongText, PhoneNumber, SendRequest, TelesignAdapter,
    TelesignClient,
};
use chrono::Utc;
use http::Method;

use crate::support::{adapter, config, config_for, message_to, sim};

/// A fresh nonce, as the client makes one for each request.
fn fresh_nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_message_is_sent_with_each_auth_scheme_and_its_part_reported() {
    let sim = sim().await;
    for (auth, scheme, x_ts_date) in [
        (AuthScheme::TsaDate, "TSA", false),
        (AuthScheme::TsaXTsDate, "TSA", true),
        (AuthScheme::Basic, "Basic", false),
    ] {
        let adapter = TelesignAdapter::new(config(&sim).with_auth(auth)).unwrap();
        let d = adapter
            .send(&message_to("+1 (555) 555-0123", "Hello world"))
            .await
            .unwrap();
        assert_eq!(d.status, DeliveryStatus::Accepted);
        let last = sim.requests().pop().unwrap();
        assert_eq!((last.status, last.code), (200, 290));
        assert_eq!(last.scheme.as_deref(), Some(scheme));
        assert_eq!(last.x_ts_date, x_ts_date);
        assert_eq!(last.field("phone_number"), Some("15555550123"));
        assert_eq!(last.field("message"), Some("Hello world"));
        assert_eq!(last.field("message_type"), Some("ARN"));
        let m = sim.messages().pop().unwrap();
        assert_eq!(
            d.parts,
            vec![DeliveredPart::new(m.reference_id).with_segments(1)]
        );
    }
}

#[tokio::test]
async fn long_text_is_split_into_reported_parts_or_refused() {
    let sim = sim().await;
    let text = "word ".repeat(400);
    let d = adapter(&sim)
        .send(&message_to("15555550123", &text))
        .await
        .unwrap();
    let msgs = sim.messages();
    assert_eq!(msgs.len(), 2);
    assert!(msgs.iter().all(|m| m.message.chars().count() <= 1600));
    // Every part's reference id, in sending order, with its GSM-7 segment count
    // (1600 + 399 septets: 11 + 3 segments of 153).
    let ids: Vec<&str> = d.parts.iter().map(|p| p.provider_id.as_str()).collect();
    let sent: Vec<&str> = msgs.iter().map(|m| m.reference_id.as_str()).collect();
    assert_eq!(ids, sent);
    assert_eq!(d.provider_id(), Some(msgs[0].reference_id.as_str()));
    assert_eq!(d.part_count(), 2);
    let segments: Vec<Option<u32>> = d.parts.iter().map(|p| p.segments).collect();
    assert_eq!(segments, vec![Some(11), Some(3)]);

    let refuse = TelesignAdapter::new(config(&sim).with_long_text(LongText::Refuse)).unwrap();
    let e = refuse
        .send(&message_to("15555550123", &text))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("text"));
    assert_eq!(
        sim.requests().len(),
        2,
        "nothing sent for a refused message"
    );
}

#[tokio::test]
async fn invalid_numbers_are_refused_before_any_request() {
    let sim = sim().await;
    let e = adapter(&sim)
        .send(&message_to("call me", "hi"))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("recipient.id"));
    let e = adapter(&sim)
        .send(&byoc_core::Activity::typing())
        .await
        .unwrap_err();
    assert!(matches!(e, AdapterError::Unsupported { .. }));
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized() {
    let sim = sim().await;
    let wrong_key = config_for(&sim, sim.customer_id(), "VGVzdCBLZXk=");
    for auth in [
        AuthScheme::TsaDate,
        AuthScheme::TsaXTsDate,
        AuthScheme::Basic,
    ] {
        let a = TelesignAdapter::new(wrong_key.clone().with_auth(auth)).unwrap();
        let e = a.send(&message_to("15555550123", "hi")).await.unwrap_err();
        assert!(e.is_unauthorized(), "{auth:?}: {e}");
        assert_eq!(e.code(), Some("10008"));
        assert!(!e.is_retryable());
    }
    let wrong_customer = config_for(&sim, "00000000-0000-0000-0000-000000000000", sim.api_key());
    let e = TelesignAdapter::new(wrong_customer)
        .unwrap()
        .send(&message_to("15555550123", "hi"))
        .await
        .unwrap_err();
    assert_eq!((e.is_unauthorized(), e.code()), (true, Some("10013")));
    assert!(sim.messages().is_empty());
}

fn client(sim: &TelesignSim) -> TelesignClient {
    TelesignClient::new(config(sim)).unwrap()
}

fn send_request() -> SendRequest {
    SendRequest::new(
        PhoneNumber::parse("15555550123", "phone_number").unwrap(),
        "hi",
    )
}

#[tokio::test]
async fn stale_dates_and_reused_nonces_are_refused() {
    let sim = sim().await;
    let c = client(&sim);
    let old = Utc::now() - chrono::Duration::hours(1);
    let e = c
        .execute(
            c.prepare_send(&send_request(), old, &fresh_nonce())
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!((e.status(), e.telesign_code()), (Some(401), Some(10004)));
    assert!(AdapterError::from(e).is_unauthorized());

    let nonce = fresh_nonce();
    c.execute(c.prepare_send(&send_request(), Utc::now(), &nonce).unwrap())
        .await
        .unwrap();
    let e = c
        .execute(c.prepare_send(&send_request(), Utc::now(), &nonce).unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.telesign_code(), Some(10002), "{e:?}");
    let e = c
        .execute(
            c.prepare_send(&send_request(), Utc::now(), "short")
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.telesign_code(), Some(10003), "{e:?}");
}

#[tokio::test]
async fn the_simulator_validates_fields_like_telesign() {
    let sim = sim().await;
    let c = client(&sim);
    let cases = [
        ("message=hi&message_type=ARN", 12000, "phone_number"),
        (
            "phone_number=12ab&message=hi&message_type=ARN",
            11000,
            "phone_number",
        ),
        (
            "phone_number=15555550123&message_type=ARN",
            12009,
            "message",
        ),
        (
            "phone_number=15555550123&message=&message_type=ARN",
            11009,
            "message",
        ),
        ("phone_number=15555550123&message=hi", 12017, "message_type"),
        (
            "phone_number=15555550123&message=hi&message_type=XYZ",
            11017,
            "message_type",
        ),
        (
            "phone_number=15555550123&message=hi&message_type=ARN&sender_id=123456789012345678901",
            11013,
            "sender_id",
        ),
        (
            "phone_number=15555550123&message=hi&message_type=ARN&callback_url=ftp%3A%2F%2Fx",
            11004,
            "callback_url",
        ),
    ];
    for (form, code, field) in cases {
        let req = c
            .prepare(
                Method::POST,
                "/v1/messaging",
                Some(form.to_owned()),
                Utc::now(),
                &fresh_nonce(),
            )
            .unwrap();
        let e = c.execute(req).await.unwrap_err();
        assert!(matches!(e, ClientError::Status { .. }), "{form}: {e:?}");
        assert_eq!(
            (e.status(), e.telesign_code()),
            (Some(400), Some(code)),
            "{form}"
        );
        let a = AdapterError::from(e);
        assert_eq!(a.field(), Some(field), "{form}");
        assert!(!a.is_retryable());
    }
    assert!(sim.messages().is_empty());
}

#[tokio::test]
async fn status_lookups_and_the_credential_check_answer_like_telesign() {
    let sim = sim().await;
    let c = client(&sim);
    let sent = c
        .send(&send_request().with_external_id("order-1"))
        .await
        .unwrap();
    let id = sent.reference_id.unwrap();
    let st = c.status(&id).await.unwrap();
    assert_eq!(
        (st.status.code, st.external_id.as_deref()),
        (Some(290), Some("order-1"))
    );
    let e = c
        .status("0123456789ABCDEF0123456789ABCDEF")
        .await
        .unwrap_err();
    let a = AdapterError::from(e);
    assert!(matches!(
        a,
        AdapterError::Permanent {
            status: Some(404),
            ..
        }
    ));
    assert_eq!(a.code(), Some("10017"));

    assert_eq!(c.check_credentials().await.unwrap(), CredentialCheck::Valid);
    let basic = TelesignClient::new(config(&sim).with_auth(AuthScheme::Basic)).unwrap();
    assert_eq!(
        basic.check_credentials().await.unwrap(),
        CredentialCheck::Valid
    );
    let bad = TelesignClient::new(config_for(&sim, sim.customer_id(), "VGVzdCBLZXk=")).unwrap();
    assert_eq!(
        bad.check_credentials().await.unwrap(),
        CredentialCheck::Invalid { code: Some(10008) }
    );
}

/// Requests byte-for-byte as TeleSign's SDKs send them (their own known-answer vectors,
/// with their headers) are accepted.
#[tokio::test]
async fn sdk_shaped_requests_are_accepted() {
    let replaying = || TelesignSim::start(TelesignSimOptions::default().with_date_tolerance(None));
    let http = reqwest::Client::new();
    let post = |sim: &TelesignSim, date_header: &'static str, sig: &str| {
        http.post(format!("{}/v1/messaging", sim.url()))
            .header("Authorization", format!("TSA {}:{sig}", sim.customer_id()))
            .header(date_header, "Wed, 14 Dec 2016 18:20:12 GMT")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("x-ts-auth-method", "HMAC-SHA256")
            .header("x-ts-nonce", "A1592C6F-E384-4CDB-BC42-C3AB970369E9")
            .header(
                "User-Agent",
                "TeleSignSDK/python-2.2.2 Python/3.11.4 Requests/2.31.0",
            )
            .body("phone_number=15555555555&message=Hello+world&message_type=ARN")
    };
    let sim = replaying().await.unwrap();
    let resp = post(&sim, "Date", "9IpITGrUZRLogL8GEe311Ovxv3gIipQvv7AJkD4PF8c=")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"]["code"], 290);
    assert_eq!(body["reference_id"].as_str().unwrap().len(), 32);
    // The same request again: its nonce was used recently.
    let resp = post(&sim, "Date", "9IpITGrUZRLogL8GEe311Ovxv3gIipQvv7AJkD4PF8c=")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"]["code"], 10002);

    // The x-ts-date variant of TeleSign's sample code.
    let sim = replaying().await.unwrap();
    let resp = post(
        &sim,
        "x-ts-date",
        "pFCuLD2MHfmIpT7xhKTmcu+hDASF4y2ahEwRAwGbCVk=",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        sim.requests()[0].user_agent.as_deref(),
        Some("TeleSignSDK/python-2.2.2 Python/3.11.4 Requests/2.31.0")
    );

    // The Python SDK's GET: an empty Content-Type header.
    let sim = replaying().await.unwrap();
    let resp = http
        .get(format!(
            "{}/v1/messaging/0123456789ABCDEF0123456789ABCDEF",
            sim.url()
        ))
        .header(
            "Authorization",
            format!(
                "TSA {}:ikIWVlV72ievEZcZbfwa9fDem81hquaV7VlxItRjGrc=",
                sim.customer_id()
            ),
        )
        .header("Date", "Wed, 14 Dec 2016 18:20:12 GMT")
        .header("Content-Type", "")
        .header("x-ts-auth-method", "HMAC-SHA256")
        .header("x-ts-nonce", "A1592C6F-E384-4CDB-BC42-C3AB970369E9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "authenticated, unknown id");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], 10017);

    // With the date check on, the 2016 vector is stale.
    let sim = TelesignSim::start(TelesignSimOptions::default())
        .await
        .unwrap();
    let resp = post(&sim, "Date", "9IpITGrUZRLogL8GEe311Ovxv3gIipQvv7AJkD4PF8c=")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"]["code"], 10004);
}

#[tokio::test]
async fn a_tls_endpoint_is_reached_once_its_root_ca_is_configured() {
    let ca = byoc_sim::tls::LocalCa::generate().unwrap();
    let sim = TelesignSim::start(
        TelesignSimOptions::default()
            .with_callback_retry_delays(vec![])
            .with_tls(ca.clone()),
    )
    .await
    .unwrap();
    assert!(sim.url().starts_with("https://"));
    let trusting = TelesignAdapter::new(config(&sim).with_root_ca(
        byoc_telesign::RootCa::from_pem("simulator CA", ca.ca_pem().as_bytes().to_vec()),
    ))
    .unwrap();
    let d = trusting
        .send(&message_to("15555550123", "over TLS"))
        .await
        .unwrap();
    assert_eq!(d.part_count(), 1);
    assert_eq!(sim.messages().pop().unwrap().message, "over TLS");

    let untrusting = TelesignAdapter::new(config(&sim)).unwrap();
    let e = untrusting
        .send(&message_to("15555550123", "refused"))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "a TLS failure is a transport error: {e}");
    assert_eq!(sim.messages().len(), 1);
}
