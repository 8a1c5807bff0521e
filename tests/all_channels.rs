//! The four adapters in one axum app (`examples/all_channels.rs`) on loopback: each
//! simulator delivers one authenticated webhook through it, and unauthenticated posts to
//! every route are refused before anything reaches the host.

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/all_channels.rs"]
mod example;

use byoc::core::{ActivityType, ChannelAdapter as _};
use example::{
    BOT_PATH, Demo, OMNICHANNEL_BASE, SALESFORCE_EVENT, SALESFORCE_PATH, TELESIGN_PATH,
    first_messages,
};
use tokio::sync::mpsc::error::TryRecvError;

#[tokio::test]
async fn one_app_takes_a_signed_webhook_from_each_of_the_four_providers() {
    let (demo, mut inbox) = Demo::start().await.unwrap();

    assert_eq!(
        demo.sms_arrives("Is my order on its way?").await.unwrap(),
        200
    );
    demo.bot_user_says("hello bot").await.unwrap();
    assert!(
        demo.omnichannel_agent_says("Hi, Rosa here. How can I help?")
            .await
            .unwrap(),
        "Omnichannel's delivery was acknowledged"
    );
    assert_eq!(
        demo.salesforce_relays(SALESFORCE_EVENT.to_vec())
            .await
            .unwrap(),
        200
    );

    let channels = [
        demo.channels.telesign.info().channel_id.as_str(),
        demo.channels.bot.info().channel_id.as_str(),
        demo.channels.omnichannel.info().channel_id.as_str(),
        demo.channels.salesforce.info().channel_id.as_str(),
    ];
    let got = first_messages(&mut inbox, &channels).await.unwrap();
    let [sms, bot, omnichannel, salesforce] = got.as_slice() else {
        panic!("one message per channel, got {}", got.len());
    };
    for message in &got {
        assert_eq!(message.kind, ActivityType::Message);
    }

    assert_eq!(sms.text.as_deref(), Some("Is my order on its way?"));
    assert_eq!(sms.channel_id.as_deref(), Some("telesign"));
    assert_eq!(sms.from_id(), Some("15555550123"));
    assert_eq!(sms.recipient_id(), Some("15555550999"));

    assert_eq!(bot.text.as_deref(), Some("hello bot"));
    assert_eq!(bot.channel_id.as_deref(), Some("directline"));
    assert_eq!(bot.from_id(), Some("web-user-1"));

    assert_eq!(
        omnichannel.text.as_deref(),
        Some("Hi, Rosa here. How can I help?")
    );
    assert_eq!(
        omnichannel.conversation_id(),
        Some(demo.omnichannel_conversation.as_str())
    );

    assert_eq!(
        salesforce.text.as_deref(),
        Some("Thanks! Your order 48213 shipped this morning.")
    );
    assert_eq!(salesforce.channel_id.as_deref(), Some("salesforce"));
}

#[tokio::test]
async fn unauthenticated_posts_to_every_route_are_refused_before_the_host_sees_them() {
    let (demo, mut inbox) = Demo::start().await.unwrap();
    let http = reqwest::Client::new();
    let routes = [
        (TELESIGN_PATH.to_owned(), br#"{"sub_resource":"mo_sms","reference_id":"R1","user_response":{"phone_number":"15555550123","sender_id":"15555550999","mo_message":"forged"}}"#.to_vec()),
        (BOT_PATH.to_owned(), br#"{"type":"message","id":"a1","channelId":"directline","serviceUrl":"https://attacker.example/","conversation":{"id":"c1"},"from":{"id":"u1"},"text":"forged"}"#.to_vec()),
        (
            format!(
                "{OMNICHANNEL_BASE}/v3/conversations/{}/activities",
                demo.omnichannel_conversation
            ),
            br#"{"type":"message","channelId":"MessagingApi","conversation":{"id":"c1"},"text":"forged"}"#.to_vec(),
        ),
        (SALESFORCE_PATH.to_owned(), SALESFORCE_EVENT.to_vec()),
    ];
    for (path, body) in routes {
        let status = http
            .post(format!("{}{path}", demo.base_url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "{path} refused an unauthenticated post");
    }
    assert!(matches!(inbox.try_recv(), Err(TryRecvError::Empty)));
}
