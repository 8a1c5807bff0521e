use chrono::{TimeZone, Utc};

use super::*;

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(min)
}

#[test]
fn transition_table_matches_omnichannel() {
    use ConversationState::*;
    let allowed = [
        (Open, Active),
        (Open, Closed),
        (Active, Open),
        (Active, Waiting),
        (Active, WrapUp),
        (Active, Closed),
        (Waiting, Active),
        (Waiting, Open),
        (Waiting, Closed),
        (WrapUp, Closed),
    ];
    for from in ConversationState::ALL {
        for to in ConversationState::ALL {
            assert_eq!(
                from.can_transition_to(to),
                allowed.contains(&(from, to)),
                "{from} -> {to}"
            );
        }
    }
}

#[test]
fn invalid_transition_names_both_states_and_changes_nothing() {
    let mut c = Conversation::new("c", "sms", ChannelAccount::new("cust"), t(0));
    let err = c.transition(ConversationState::WrapUp, t(1)).unwrap_err();
    assert_eq!(err.from, ConversationState::Open);
    assert_eq!(err.to, ConversationState::WrapUp);
    assert_eq!(
        err.to_string(),
        "invalid conversation state transition from Open to WrapUp"
    );
    assert_eq!(c.state, ConversationState::Open);
    assert_eq!(c.state_entered_at, t(0));
    let adapter: crate::AdapterError = err.into();
    assert_eq!(adapter.field(), Some("state"));
}

#[test]
fn closed_is_terminal() {
    let mut c = Conversation::new("c", "sms", ChannelAccount::new("cust"), t(0));
    c.transition(ConversationState::Closed, t(1)).unwrap();
    for to in ConversationState::ALL {
        assert!(c.transition(to, t(2)).is_err());
    }
    assert!(ConversationState::Closed.is_terminal());
}

#[test]
fn state_serde_accepts_omnichannel_spellings() {
    for (text, want) in [
        ("\"wrap_up\"", ConversationState::WrapUp),
        ("\"WrapUp\"", ConversationState::WrapUp),
        ("\"Wrap-up\"", ConversationState::WrapUp),
        ("\"Active\"", ConversationState::Active),
        ("\"closed\"", ConversationState::Closed),
    ] {
        assert_eq!(
            serde_json::from_str::<ConversationState>(text).unwrap(),
            want
        );
    }
    assert_eq!(
        serde_json::to_string(&ConversationState::WrapUp).unwrap(),
        "\"wrap_up\""
    );
}

#[test]
fn context_value_shapes() {
    let full: ContextValue =
        serde_json::from_str(r#"{"isDisplayable": true, "value": "XBox"}"#).unwrap();
    assert_eq!(full, ContextValue::displayable("XBox"));
    let bare: ContextValue = serde_json::from_str("42").unwrap();
    assert_eq!(bare, ContextValue::new(42.0));
    let b: ContextValue = serde_json::from_str("true").unwrap();
    assert_eq!(b.value.as_bool(), Some(true));
    assert_eq!(
        serde_json::to_string(&ContextValue::displayable(1.5)).unwrap(),
        r#"{"value":1.5,"isDisplayable":true}"#
    );
    let err = serde_json::from_str::<ContextValue>(r#"{"value": [1]}"#).unwrap_err();
    assert!(err.to_string().contains("context variable"));
    assert!(serde_json::from_str::<ContextValue>("null").is_err());
}

#[test]
fn inactivity_clock() {
    let mut c = Conversation::new("c", "sms", ChannelAccount::new("cust"), t(0));
    c.record(Activity::message("hi"), t(5));
    assert_eq!(c.transcript.len(), 1);
    assert_eq!(c.idle_for(t(65)), Duration::from_secs(3600));
    assert_eq!(c.idle_for(t(0)), Duration::ZERO);
    c.touch(t(1)); // older than the last activity: ignored
    assert_eq!(c.last_activity_at, t(5));
    c.transition(ConversationState::Active, t(10)).unwrap();
    assert_eq!(c.in_state_for(t(20)), Duration::from_secs(600));
}

#[test]
fn owner_and_hand_off_record_visited_bots() {
    let mut c = Conversation::new("c", "sms", ChannelAccount::new("cust"), t(0));
    c.join(ChannelAccount::new("bot-1"), ParticipantRole::Bot, t(0));
    c.join(ChannelAccount::new("bot-1"), ParticipantRole::Bot, t(0));
    assert_eq!(c.present(ParticipantRole::Bot).count(), 1);
    c.set_owner(Owner::Bot("bot-1".into()), t(0));
    c.transition(ConversationState::Active, t(0)).unwrap();
    let bot = c.hand_off(
        [(
            "BotHandoffTopic".to_owned(),
            ContextValue::new("CreditCard"),
        )],
        t(3),
    );
    assert_eq!(bot.as_deref(), Some("bot-1"));
    assert!(c.has_visited_bot("bot-1"));
    assert_eq!(c.owner, Owner::None);
    assert_eq!(c.state, ConversationState::Open);
    assert_eq!(c.present(ParticipantRole::Bot).count(), 0);
    assert_eq!(
        c.context_value("BotHandoffTopic").unwrap().value.as_str(),
        Some("CreditCard")
    );
    c.set_owner(Owner::Agent("alice".into()), t(4));
    assert_eq!(c.owner.agent(), Some("alice"));
    assert_eq!(c.bots_visited, vec!["bot-1".to_owned()]);
}

#[test]
fn displayable_context_filters() {
    let mut c = Conversation::new("c", "sms", ChannelAccount::new("cust"), t(0));
    c.set_context("a", ContextValue::displayable("x"));
    c.set_context("b", "hidden");
    let shown: Vec<_> = c.displayable_context().map(|(k, _)| k).collect();
    assert_eq!(shown, vec!["a"]);
}

#[test]
fn conversation_round_trips_through_json() {
    let mut c = Conversation::new(
        "c",
        "sms",
        ChannelAccount::new("cust").with_name("Ann"),
        t(0),
    )
    .with_locale("en-US")
    .with_customer_fact("email", "ann@example.com");
    c.set_context("n", ContextValue::displayable(3.0));
    c.record(Activity::message("hello"), t(1));
    c.set_owner(Owner::Queue("BotQueue".into()), t(1));
    let json = serde_json::to_string(&c).unwrap();
    let back: Conversation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
}
