//! The settings around routing: auto-close, attachments, automated messages, the survey link.

use super::*;

#[test]
fn auto_close_per_state() {
    let ws = chat();
    let mut c = conv();
    // Chat defaults: Open 20 min.
    assert_eq!(
        ws.auto_close_after(ConversationState::Open),
        Some(Duration::from_secs(1200))
    );
    assert!(!ws.is_auto_close_due(&c, t(19)));
    assert!(ws.is_auto_close_due(&c, t(20)));
    // Active never closes on chat.
    c.transition(ConversationState::Active, t(1)).unwrap();
    assert_eq!(ws.auto_close_after(ConversationState::Active), None);
    assert!(!ws.is_auto_close_due(&c, t(100_000)));
    // Waiting: the configured 30 minutes, counted from the last activity.
    c.transition(ConversationState::Waiting, t(2)).unwrap();
    c.touch(t(10));
    assert!(!ws.is_auto_close_due(&c, t(39)));
    assert!(ws.is_auto_close_due(&c, t(40)));
    assert_eq!(ws.auto_close_after(ConversationState::Closed), None);
    // "never" switches a default off.
    let never = Workstream::from_toml_str(
        &TOML.replace("[auto_close]\n", "[auto_close]\nopen = \"never\"\n"),
    )
    .unwrap();
    assert_eq!(never.auto_close.open, Some(AutoClose::NEVER));
    assert_eq!(never.auto_close_after(ConversationState::Open), None);
    assert!(!never.is_auto_close_due(&conv(), t(1_000_000)));
    assert!(never.to_toml_string().unwrap().contains("open = \"never\""));
    // Asynchronous defaults.
    use byoc_core::workstream::ChannelKind;
    assert_eq!(
        AutoClose::default_for(ChannelKind::Sms, ConversationState::Active),
        Some(Duration::from_secs(30 * 86_400))
    );
    assert_eq!(
        AutoClose::default_for(ChannelKind::Sms, ConversationState::WrapUp),
        Some(Duration::from_secs(86_400))
    );
}

#[test]
fn attachment_permissions_for_customer_and_agent() {
    let ws = chat();
    let customer = &ws.attachments.customer;
    assert_eq!(
        customer.check(Some("image/jpeg"), Some("a.jpg"), Some(1024)),
        Ok(())
    );
    assert_eq!(
        customer.check(Some("application/zip"), Some("a.zip"), Some(10)),
        Err(AttachmentRejection::TypeNotAllowed)
    );
    assert_eq!(
        customer.check(Some("image/png"), None, Some(5_242_881)),
        Err(AttachmentRejection::TooLarge {
            size: 5_242_881,
            max: 5_242_880
        })
    );
    assert_eq!(
        ws.attachments
            .agent
            .check(Some("application/zip"), None, Some(u64::MAX)),
        Ok(())
    );
    let none = Workstream::from_toml_str(&TOML.replace(
        "[attachments.agent]\nallowed = true",
        "[attachments.agent]\nallowed = false",
    ))
    .unwrap();
    let err = none
        .attachments
        .agent
        .check(Some("image/png"), None, None)
        .unwrap_err();
    assert_eq!(err, AttachmentRejection::NotAllowed);
    let adapter: AdapterError = err.into();
    assert!(matches!(adapter, AdapterError::Unsupported { .. }));
}

#[test]
fn automated_messages_fill_placeholders() {
    let ws = chat();
    let mut c = conv();
    c.queue = Some("CreditCardQueue".into());
    c.set_context("BotHandoffTopic", "CreditCard");
    let none = MessageValues::default();
    assert_eq!(
        ws.render_message(MessageKind::Greeting, &c, &none).unwrap(),
        "Hi Ann, welcome to ChatWorkStream."
    );
    let values = MessageValues {
        agent_name: Some("Alice"),
        queue_position: Some(3),
        ..MessageValues::default()
    };
    assert_eq!(
        ws.render_message(MessageKind::AgentJoined, &c, &values)
            .unwrap(),
        "Alice has joined the conversation."
    );
    assert_eq!(
        ws.render_message(MessageKind::QueuePosition, &c, &values)
            .unwrap(),
        "You are number 3 in the CreditCardQueue queue."
    );
    assert_eq!(
        ws.render_message(MessageKind::ConversationEnded, &c, &none)
            .unwrap(),
        "Thanks for contacting us. Tell us how we did: https://survey.example.com/s/chat?conversation=conv-1"
    );
    assert_eq!(ws.render_message(MessageKind::Transferred, &c, &none), None);
    // Context variables and escaped braces.
    let text = TOML.replace(
        "{AgentName} has joined the conversation.",
        "{{{AgentName}}} on {BotHandoffTopic}",
    );
    let ws2 = Workstream::from_toml_str(&text).unwrap();
    assert_eq!(
        ws2.render_message(MessageKind::AgentJoined, &c, &values)
            .unwrap(),
        "{Alice} on CreditCard"
    );
}

#[test]
fn survey_link_is_percent_encoded() {
    let ws = chat();
    let mut c = conv();
    c.id = "a b/c&d".into();
    assert_eq!(
        ws.survey_link(&c).unwrap(),
        "https://survey.example.com/s/chat?conversation=a%20b%2Fc%26d"
    );
    assert_eq!(ws.survey_message(&c), ws.survey_link(&c));
}
