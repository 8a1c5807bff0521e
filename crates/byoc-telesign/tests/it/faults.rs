//! Fault injection: throttling, outages, dropped connections and slow answers map to
//! retryable errors; the next request succeeds.

use std::time::Duration;

use byoc_core::{AdapterError, ChannelAdapter};
use byoc_sim::fault::Fault;
use byoc_telesign::TelesignAdapter;

use crate::support::{adapter, config, message_to, sim};

#[tokio::test]
async fn rate_limits_outages_and_drops_are_retryable() {
    let sim = sim().await;
    let a = adapter(&sim);
    let msg = message_to("15555550123", "hi");

    sim.faults().push(Fault::rate_limited(3), 1);
    let e = a.send(&msg).await.unwrap_err();
    assert!(matches!(e, AdapterError::RateLimited { .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));

    let body = r#"{"status":{"code":10020,"description":"Messaging exceeded transaction hard cap. Request denied.","updated_on":"2024-05-02T20:03:17Z"}}"#;
    sim.faults().push(
        Fault::Status {
            status: 429,
            retry_after: Some(60),
            body: Some(body.into()),
        },
        1,
    );
    let e = a.send(&msg).await.unwrap_err();
    assert_eq!(
        (e.code(), e.retry_after()),
        (Some("10020"), Some(Duration::from_secs(60)))
    );

    sim.faults().push(Fault::unavailable(), 1);
    let e = a.send(&msg).await.unwrap_err();
    assert!(
        matches!(e, AdapterError::Transient { .. }) && e.is_retryable(),
        "{e}"
    );

    sim.faults().push(Fault::Drop, 1);
    let e = a.send(&msg).await.unwrap_err();
    assert!(matches!(e, AdapterError::Transient { .. }), "{e}");

    assert!(sim.messages().is_empty());
    a.send(&msg).await.unwrap();
    assert_eq!(sim.messages().len(), 1);
}

#[tokio::test]
async fn slow_answers_time_out_as_transient() {
    let sim = sim().await;
    let a = TelesignAdapter::new(
        config(&sim)
            .with_timeout(Duration::from_millis(200))
            .unwrap(),
    )
    .unwrap();
    sim.faults().push(Fault::Delay(Duration::from_secs(3)), 1);
    let e = a.send(&message_to("15555550123", "hi")).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
}

#[tokio::test]
async fn answers_over_the_response_cap_are_refused_unread() {
    let sim = sim().await;
    let a = TelesignAdapter::new(config(&sim).with_max_response_bytes(1024).unwrap()).unwrap();
    let padded = format!(
        r#"{{"reference_id":"R","status":{{"code":290,"description":"{}"}}}}"#,
        "x".repeat(4096)
    );
    sim.faults().push(
        Fault::Status {
            status: 200,
            retry_after: None,
            body: Some(padded),
        },
        1,
    );
    let e = a.send(&message_to("15555550123", "hi")).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(
        !e.to_string().contains("xxxx"),
        "the answer is never quoted"
    );
    a.send(&message_to("15555550123", "hi")).await.unwrap();
}

#[test]
fn a_root_ca_that_is_not_a_certificate_is_a_config_error_naming_it() {
    let config = byoc_telesign::TelesignConfig::new(
        "FFFFFFFF-EEEE-DDDD-1234-AB1234567890",
        byoc_core::Secret::new("VGVzdCBLZXk="),
    )
    .unwrap()
    .with_root_ca(byoc_telesign::RootCa::from_pem(
        "corporate-proxy-ca",
        b"not a certificate".to_vec(),
    ));
    let e = TelesignAdapter::new(config).unwrap_err();
    assert!(
        matches!(e, byoc_telesign::ConfigError::HttpClient { .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("corporate-proxy-ca"), "{e}");
}
