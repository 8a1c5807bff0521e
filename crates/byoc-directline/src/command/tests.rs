use super::*;

fn with_cd(cd: &str) -> Activity {
    Activity::from_json(&format!(r#"{{"type":"message","text":"Customer wants a credit card agent","conversation":{{"id":"c1"}},"channelData":{cd}}}"#)).unwrap()
}

#[test]
fn documented_escalate_parses_and_becomes_handoff() {
    let a = with_cd(
        r#"{"tags":"{\"type\":\"Escalate\",\"context\":{\"BotHandoffTopic\":\"CreditCard\"}}"}"#,
    );
    let cmd = BotCommand::parse(&a).unwrap().unwrap();
    let BotCommand::Escalate { context } = &cmd else {
        panic!("{cmd:?}")
    };
    assert_eq!(context["BotHandoffTopic"], "CreditCard");
    let ev = cmd.to_event(&a).unwrap();
    assert_eq!(ev.kind, ActivityType::Event);
    assert_eq!(ev.name.as_deref(), Some(HANDOFF_INITIATE));
    assert_eq!(ev.conversation_id(), Some("c1"));
    assert_eq!(
        ev.value.unwrap().get(),
        r#"{"BotHandoffTopic":"CreditCard"}"#
    );
    assert_eq!(
        ev.text.as_deref(),
        Some("Customer wants a credit card agent")
    );
}

#[test]
fn documented_end_conversation() {
    let a = with_cd(r#"{"tags":"{\"type\":\"EndConversation\",\"context\":{}}"}"#);
    let cmd = BotCommand::parse(&a).unwrap().unwrap();
    assert_eq!(cmd, BotCommand::end_conversation());
    let ev = cmd.to_event(&a).unwrap();
    assert_eq!(ev.kind, ActivityType::EndOfConversation);
    assert_eq!(ev.code, Some(EndOfConversationCode::CompletedSuccessfully));
}

#[test]
fn build_then_parse_round_trips_and_keeps_other_fields() {
    let mut a = with_cd(r#"{"keep":1}"#);
    let mut ctx = Map::new();
    ctx.insert("Topic".into(), Value::String("Billing".into()));
    BotCommand::escalate(ctx.clone()).apply(&mut a).unwrap();
    set_bridged(&mut a).unwrap();
    assert!(is_bridged(&a));
    let cd: Value = a.channel_data.as_ref().unwrap().parse().unwrap();
    assert_eq!(cd["keep"], 1);
    assert!(cd["tags"].is_string(), "tags must be a JSON-encoded string");
    assert_eq!(
        BotCommand::parse(&a).unwrap(),
        Some(BotCommand::escalate(ctx))
    );
}

#[test]
fn no_command_and_unknown_types() {
    assert_eq!(BotCommand::parse(&Activity::message("hi")).unwrap(), None);
    assert_eq!(
        BotCommand::parse(&with_cd(r#"{"deliveryMode":"bridged"}"#)).unwrap(),
        None
    );
    let other = BotCommand::parse(&with_cd(r#"{"tags":"{\"type\":\"Transfer\"}"}"#))
        .unwrap()
        .unwrap();
    assert_eq!(other.kind(), "Transfer");
    assert!(other.to_event(&Activity::message("x")).is_none());
    let out = translate_commands(vec![
        Activity::message("plain"),
        with_cd(r#"{"tags":"{\"type\":\"EndConversation\",\"context\":{}}"}"#),
    ])
    .unwrap();
    assert_eq!(out[0].text.as_deref(), Some("plain"));
    assert_eq!(out[1].kind, ActivityType::EndOfConversation);
}

#[test]
fn malformed_tags_are_typed_errors() {
    assert_eq!(
        BotCommand::parse(&with_cd(r#"{"tags":"not json"}"#)).unwrap_err(),
        CommandError::TagsNotJson
    );
    assert_eq!(
        BotCommand::parse(&with_cd(r#"{"tags":{"type":"Escalate"}}"#)).unwrap_err(),
        CommandError::TagsNotJson
    );
    assert_eq!(
        BotCommand::parse(&with_cd(r#"{"tags":"{\"context\":{}}"}"#)).unwrap_err(),
        CommandError::MissingType
    );
    assert_eq!(
        BotCommand::parse(&with_cd(
            r#"{"tags":"{\"type\":\"Escalate\",\"context\":[]}"}"#
        ))
        .unwrap_err(),
        CommandError::ContextNotObject
    );
}
