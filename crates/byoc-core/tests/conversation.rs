//! Conversations: the state machine end to end with routing, context variables in the
//! Omnichannel shape, and storage round trips.

use std::collections::BTreeMap;

use byoc_core::conversation::{
    ContextScalar, ContextValue, Conversation, ConversationState, Owner, ParticipantRole,
};
use byoc_core::workstream::{
    MessageKind, MessageValues, Presence, RoutingState, Workstream, escalate, route, transfer,
};
use byoc_core::{Activity, ChannelAccount};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(min)
}

#[test]
fn every_invalid_transition_is_an_error_naming_both_states() {
    use ConversationState::*;
    let valid = [
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
            let mut c = Conversation::new("c", "sms", ChannelAccount::new("u"), t(0));
            c.state = from;
            let result = c.transition(to, t(1));
            if valid.contains(&(from, to)) {
                assert_eq!(result, Ok(from));
                assert_eq!(c.state, to);
                assert_eq!(c.state_entered_at, t(1));
            } else {
                let err = result.unwrap_err();
                assert_eq!((err.from, err.to), (from, to));
                let text = err.to_string();
                assert!(
                    text.contains(from.as_str()) && text.contains(to.as_str()),
                    "{text}"
                );
                assert_eq!(c.state, from, "state must not change on error");
                assert_eq!(c.state_entered_at, t(0));
            }
        }
    }
}

#[test]
fn sms_conversation_lifecycle_with_bot_hand_off() {
    let ws = Workstream::from_toml_str(include_str!("fixtures/chat-workstream.toml")).unwrap();
    let state = RoutingState::new()
        .with_member("alice", Presence::Available, 0)
        .with_member("bob", Presence::Available, 1);
    let mut c = Conversation::new(
        "conv-7",
        "directline",
        ChannelAccount::new("cust-7").with_name("Ann"),
        t(0),
    );
    let greeting = ws
        .render_message(MessageKind::Greeting, &c, &MessageValues::default())
        .unwrap();
    c.record(Activity::message(greeting), t(0));
    c.record(Activity::message("I lost my card"), t(1));

    // Bot first.
    let decision = route(&c, &ws, &state);
    decision.apply_to(&mut c, t(1));
    assert_eq!(c.state, ConversationState::Active);
    assert_eq!(c.owner, Owner::Bot("contoso-bot".into()));
    assert_eq!(c.queue.as_deref(), Some("BotQueue"));
    c.join(
        ChannelAccount::new("contoso-bot"),
        ParticipantRole::Bot,
        t(1),
    );

    // The bot escalates with a topic; routing picks a human, never the bot again.
    let decision = escalate(
        &mut c,
        &ws,
        &state,
        [(
            "BotHandoffTopic".to_owned(),
            ContextValue::displayable("CreditCard"),
        )],
        t(3),
    );
    assert_eq!(c.state, ConversationState::Open);
    assert_eq!(c.present(ParticipantRole::Bot).count(), 0);
    let agent = decision.assignee().unwrap().clone();
    decision.apply_to(&mut c, t(3));
    assert_eq!(agent.id, "alice");
    assert_eq!(c.owner, Owner::Agent("alice".into()));
    assert_eq!(c.state, ConversationState::Active);
    c.join(
        ChannelAccount::new(&agent.id).with_name(agent.display_name()),
        ParticipantRole::Agent,
        t(3),
    );
    let joined = ws
        .render_message(
            MessageKind::AgentJoined,
            &c,
            &MessageValues {
                agent_name: Some(agent.display_name()),
                ..MessageValues::default()
            },
        )
        .unwrap();
    assert_eq!(joined, "Alice has joined the conversation.");
    c.record(Activity::message(joined), t(3));

    // Agent steps away, comes back, ends, wraps up.
    c.transition(ConversationState::Waiting, t(10)).unwrap();
    // Waiting closes after 30 idle minutes, counted from entering Waiting (last activity
    // was earlier, at t+3).
    assert!(!ws.is_auto_close_due(&c, t(10 + 29)));
    assert!(ws.is_auto_close_due(&c, t(10 + 30)));
    c.transition(ConversationState::Active, t(20)).unwrap();
    c.transition(ConversationState::WrapUp, t(25)).unwrap();
    assert!(route(&c, &ws, &state).assignee().is_none());
    c.leave("alice", t(26));
    c.transition(ConversationState::Closed, t(30)).unwrap();
    assert!(c.state.is_terminal());
    assert_eq!(c.transcript.len(), 3);
    assert_eq!(c.bots_visited, vec!["contoso-bot".to_owned()]);
    let roles: Vec<_> = c
        .participants
        .iter()
        .map(|p| (p.role, p.is_present()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (ParticipantRole::Customer, true),
            (ParticipantRole::Bot, false),
            (ParticipantRole::Agent, false),
        ]
    );
}

#[test]
fn applying_transfers_moves_owner_participants_and_state() {
    let ws = Workstream::from_toml_str(include_str!("fixtures/chat-workstream.toml")).unwrap();
    let state = RoutingState::new()
        .with_member("alice", Presence::Available, 0)
        .with_member("dave", Presence::Available, 0)
        .with_member("erin", Presence::Offline, 0);
    let mut c = Conversation::new("c", "directline", ChannelAccount::new("u"), t(0));
    c.bots_visited.push("contoso-bot".into());
    c.set_context("BotHandoffTopic", "CreditCard");
    route(&c, &ws, &state).apply_to(&mut c, t(1));
    assert_eq!(c.owner, Owner::Agent("alice".into()));
    assert_eq!(c.state, ConversationState::Active);
    assert_eq!(
        c.present(ParticipantRole::Agent)
            .map(|p| p.id())
            .collect::<Vec<_>>(),
        ["alice"]
    );

    // Transfer to a queue with a free agent: alice leaves, dave joins, still Active.
    transfer(&c, &ws, &state, "HomeLoanQueue")
        .unwrap()
        .apply_to(&mut c, t(2));
    assert_eq!(c.owner, Owner::Agent("dave".into()));
    assert_eq!(c.queue.as_deref(), Some("HomeLoanQueue"));
    assert_eq!(c.state, ConversationState::Active);
    assert_eq!(
        c.present(ParticipantRole::Agent)
            .map(|p| p.id())
            .collect::<Vec<_>>(),
        ["dave"]
    );

    // Transfer to a queue where nobody is free: released to the queue, Active → Open.
    let nobody = RoutingState::new().with_member("alice", Presence::Away, 0);
    transfer(&c, &ws, &nobody, "CreditCardQueue")
        .unwrap()
        .apply_to(&mut c, t(3));
    assert_eq!(c.owner, Owner::Queue("CreditCardQueue".into()));
    assert_eq!(c.state, ConversationState::Open);
    assert_eq!(c.present(ParticipantRole::Agent).count(), 0);
    assert_eq!(c.state_entered_at, t(3));
}

#[test]
fn omnichannel_conversation_context_shape() {
    // `conversationcontext` of the Messaging API's create-conversation request.
    let json = r#"{
        "productname": { "isDisplayable": true, "value": "XBox" },
        "issue": { "isDisplayable": false, "value": "installation" },
        "retries": 3,
        "vip": true
    }"#;
    let context: BTreeMap<String, ContextValue> = serde_json::from_str(json).unwrap();
    let mut c = Conversation::new("c", "messaging", ChannelAccount::new("u"), t(0));
    c.context = context;
    assert_eq!(
        c.context_value("productname"),
        Some(&ContextValue::displayable("XBox"))
    );
    assert_eq!(
        c.context_value("retries").unwrap().value,
        ContextScalar::Number(3.0)
    );
    assert_eq!(c.context_value("vip").unwrap().value.as_bool(), Some(true));
    let shown: Vec<_> = c.displayable_context().map(|(k, _)| k).collect();
    assert_eq!(shown, vec!["productname"]);
}

#[test]
fn stored_conversation_round_trips() {
    let mut c = Conversation::new("c", "telesign", ChannelAccount::new("+15550100"), t(0))
        .with_locale("en-US");
    c.record(Activity::message("hello"), t(1));
    c.set_context("Topic", ContextValue::displayable("Billing"));
    c.set_owner(Owner::Bot("b".into()), t(1));
    c.transition(ConversationState::Active, t(1)).unwrap();
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["state"], "active");
    assert_eq!(json["owner"], serde_json::json!({"kind": "bot", "id": "b"}));
    assert_eq!(json["context"]["Topic"]["isDisplayable"], true);
    assert_eq!(json["transcript"][0]["text"], "hello");
    let back: Conversation = serde_json::from_value(json).unwrap();
    assert_eq!(back, c);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_conversation_parsing(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<Conversation>(&bytes);
        let _ = serde_json::from_slice::<ContextValue>(&bytes);
    }

    #[test]
    fn random_walks_only_take_listed_transitions(steps in proptest::collection::vec(0usize..5, 0..40)) {
        let mut c = Conversation::new("c", "sms", ChannelAccount::new("u"), t(0));
        for (i, s) in steps.into_iter().enumerate() {
            let to = ConversationState::ALL[s];
            let from = c.state;
            let ok = c.transition(to, t(i as i64)).is_ok();
            prop_assert_eq!(ok, from.can_transition_to(to));
            prop_assert_eq!(c.state, if ok { to } else { from });
            if from == ConversationState::Closed {
                prop_assert!(!ok);
            }
        }
    }
}
