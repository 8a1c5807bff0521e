//! Inbound: signed callbacks from the simulator through `receive`.

use std::sync::Arc;

use byoc_core::{ActivityType, ChannelAdapter};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use byoc_telesign::{DeliveryReport, EVENT_DELIVERY_REPORT};

use crate::support::{adapter, message_to, next, sim, webhook};

#[tokio::test]
async fn inbound_sms_becomes_a_message_activity() {
    let sim = sim().await;
    let (url, mut rx) = webhook(Arc::new(adapter(&sim))).await;
    sim.set_callback_url(url);
    let (reference_id, status) = sim
        .send_mo("15555550123", "15555550999", "STATUS 48213 ✓")
        .await
        .unwrap();
    assert_eq!(status, 200);
    let a = next(&mut rx).await;
    assert_eq!(a.kind, ActivityType::Message);
    assert_eq!(a.id.as_deref(), Some(reference_id.as_str()));
    assert_eq!(a.text.as_deref(), Some("STATUS 48213 ✓"));
    assert_eq!(a.from_id(), Some("15555550123"));
    assert_eq!(a.recipient_id(), Some("15555550999"));
    assert_eq!(a.conversation_id(), Some("15555550123:15555550999"));
    assert!(a.timestamp.is_some());
    // A reply goes back to the customer through the same adapter.
    let reply = a.create_reply("We got it");
    adapter(&sim).send(&reply).await.unwrap();
    assert_eq!(sim.messages()[0].phone_number, "15555550123");
}

#[tokio::test]
async fn delivery_reports_become_events() {
    let sim = sim().await;
    let (url, mut rx) = webhook(Arc::new(adapter(&sim))).await;
    sim.set_callback_url(url);
    let d = adapter(&sim)
        .send(&message_to("15555550123", "hi"))
        .await
        .unwrap();
    let a = next(&mut rx).await;
    assert_eq!(a.kind, ActivityType::Event);
    assert_eq!(a.name.as_deref(), Some(EVENT_DELIVERY_REPORT));
    let r: DeliveryReport = a.value_as().unwrap();
    assert_eq!(Some(r.reference_id.as_str()), d.provider_id());
    assert_eq!(
        (r.status_code, r.is_final, r.success),
        (Some(200), true, Some(true))
    );
    assert_eq!(a.reply_to_id.as_deref(), d.provider_id());

    sim.set_delivery_status(238, "Destination blocked by prefix");
    let mut msg = message_to("15555550123", "hi");
    msg.channel_data =
        Some(byoc_core::RawJson::from_json_text(r#"{"external_id":"order-7"}"#).unwrap());
    adapter(&sim).send(&msg).await.unwrap();
    let r: DeliveryReport = next(&mut rx).await.value_as().unwrap();
    assert_eq!(
        (r.status_code, r.is_final, r.success),
        (Some(238), true, Some(false))
    );
    assert_eq!(r.external_id.as_deref(), Some("order-7"));
    // The status lookup agrees.
    let st = adapter(&sim)
        .client()
        .status(&r.reference_id)
        .await
        .unwrap();
    assert_eq!(st.status.code, Some(238));
    assert!(sim.callbacks().iter().all(|c| c.status == Some(200)));
}

#[tokio::test]
async fn forged_and_unsigned_callbacks_get_401() {
    let sim = sim().await;
    let (url, mut rx) = webhook(Arc::new(adapter(&sim))).await;
    // Another account's simulator signs with another key.
    let other = TelesignSim::start(
        TelesignSimOptions::default()
            .with_credentials(sim.customer_id(), "VGVzdCBLZXk=")
            .with_callback_url(url.clone()),
    )
    .await
    .unwrap();
    let (_, status) = other
        .send_mo("15555550123", "15555550999", "hi")
        .await
        .unwrap();
    assert_eq!(status, 401);
    let other_customer = TelesignSim::start(
        TelesignSimOptions::default()
            .with_credentials("00000000-0000-0000-0000-000000000000", sim.api_key())
            .with_callback_url(url.clone()),
    )
    .await
    .unwrap();
    assert_eq!(
        other_customer
            .send_mo("15555550123", "15555550999", "hi")
            .await
            .unwrap()
            .1,
        401
    );
    let http = reqwest::Client::new();
    let resp = http
        .post(&url)
        .body(r#"{"sub_resource":"mo_sms"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body = resp.text().await.unwrap();
    assert!(!body.contains("mo_sms"), "the answer never echoes the body");
    // Too large, even if signed.
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(70 * 1024));
    assert_eq!(sim.send_callback(Some(&url), big).await.unwrap(), 401);
    // A signed body that is not a callback: 400.
    assert_eq!(
        sim.send_callback(Some(&url), "[1,2]".into()).await.unwrap(),
        400
    );
    assert!(rx.try_recv().is_err(), "nothing got through");
}
