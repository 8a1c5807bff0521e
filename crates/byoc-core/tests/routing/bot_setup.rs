//! The classic bot-integration setup: bot first, hand-off by topic, capacity, presence, full queues, escalation loops, transfers.

use super::*;

#[test]
fn new_conversation_goes_to_the_bot_first() {
    let ws = chat();
    let c = conv();
    let d = route(&c, &ws, &all_free());
    assert_eq!(d.rule.unwrap().name, "BotRule");
    assert_eq!(d.queue.unwrap().name, "BotQueue");
    assert_eq!(assignee(&d.outcome), Some("contoso-bot"));
    assert_eq!(d.owner(), Owner::Bot("contoso-bot".into()));
    assert_eq!(
        d.explain(),
        vec![
            "rule BotRule: no condition, matches all → queue BotQueue",
            "bot contoso-bot: picked (bots have first claim)",
        ]
    );
}

#[test]
fn hand_off_routes_by_topic_and_never_back_to_the_bot() {
    let ws = chat();
    let state = all_free().with_member("alice", Presence::Available, 1);
    for (topic, queue, agent) in [
        ("CreditCard", "CreditCardQueue", "bob"),
        ("HomeLoan", "HomeLoanQueue", "dave"),
    ] {
        let mut c = conv();
        route(&c, &ws, &state).apply_to(&mut c, t(1));
        assert_eq!(c.owner, Owner::Bot("contoso-bot".into()));
        assert_eq!(c.state, ConversationState::Active);

        let d = escalate(
            &mut c,
            &ws,
            &state,
            [("BotHandoffTopic".to_owned(), ContextValue::new(topic))],
            t(2),
        );
        assert_eq!(d.queue.unwrap().name, queue, "{topic}");
        assert_eq!(
            assignee(&d.outcome),
            Some(agent),
            "{topic}: {:#?}",
            d.explain()
        );
        assert!(matches!(d.trace()[0], TraceStep::RuleSkippedLoop(r) if r.name == "BotRule"));
        let explained = d.explain().join("\n");
        assert!(
            explained.contains("already had this conversation"),
            "{explained}"
        );
        if topic == "HomeLoan" {
            assert!(
                explained.contains("\nrule CreditCardRule: condition not met\n"),
                "{explained}"
            );
        }
        let owner = d.owner();
        let mut c = c.clone();
        c.set_owner(owner, t(2));
        c.transition(ConversationState::Active, t(2)).unwrap();
        assert_eq!(c.owner.agent(), Some(agent));
        assert!(c.has_visited_bot("contoso-bot"));
    }
}

#[test]
fn capacity_push_most_free_first_ties_by_id_with_reasons() {
    let ws = chat();
    let mut c = conv();
    c.bots_visited.push("contoso-bot".into());
    c.set_context("BotHandoffTopic", "CreditCard");
    // alice 2/2 at capacity, bob 1/2 → 1 free, carol 0/1 → 1 free: tie, bob < carol.
    let state = RoutingState::new()
        .with_member("alice", Presence::Available, 2)
        .with_member("bob", Presence::Busy, 1)
        .with_member("carol", Presence::Available, 0);
    let d = route(&c, &ws, &state);
    assert_eq!(assignee(&d.outcome), Some("bob"));
    let verdicts: Vec<_> = d
        .trace()
        .iter()
        .filter_map(|s| match s {
            TraceStep::Member(m, v) => Some((m.id.as_str(), *v)),
            _ => None,
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            (
                "alice",
                Verdict::AtCapacity {
                    load: 2,
                    capacity: 2
                }
            ),
            ("bob", Verdict::Picked),
            ("carol", Verdict::TieBrokenById { free: 1 }),
        ]
    );
    // More free capacity beats the id order.
    let state = state.with_member("alice", Presence::Available, 0);
    let d = route(&c, &ws, &state);
    assert_eq!(assignee(&d.outcome), Some("alice"));
    assert!(d.trace().contains(&TraceStep::Member(
        &ws.queues[1].members[1],
        Verdict::LessFreeCapacity {
            free: 1,
            picked_free: 2
        }
    )));
}

#[test]
fn presence_table() {
    let ws = chat();
    let mut c = conv();
    c.bots_visited.push("contoso-bot".into());
    c.set_context("BotHandoffTopic", "HomeLoan");
    for (presence, takes) in [
        (Presence::Available, true),
        (Presence::Busy, true),
        (Presence::DoNotDisturb, false),
        (Presence::Away, false),
        (Presence::Offline, false),
    ] {
        let state = RoutingState::new()
            .with_member("dave", presence, 0)
            .with_member("erin", Presence::Offline, 0);
        let d = route(&c, &ws, &state);
        assert_eq!(assignee(&d.outcome).is_some(), takes, "{presence:?}");
        if !takes {
            assert!(d.trace().contains(&TraceStep::Member(
                &ws.queues[2].members[0],
                Verdict::Unavailable(presence)
            )));
        }
    }
    // Not in the state at all: a human is offline.
    let d = route(&c, &ws, &RoutingState::new());
    assert_eq!(d.outcome, Outcome::Queued { position: 1 });
}

#[test]
fn agents_at_capacity_queue_then_full_queue() {
    let ws = chat();
    let mut c = conv();
    c.bots_visited.push("contoso-bot".into());
    c.set_context("BotHandoffTopic", "HomeLoan");
    let busy = RoutingState::new()
        .with_member("dave", Presence::Available, 3)
        .with_member("erin", Presence::Available, 3);
    let d = route(&c, &ws, &busy);
    assert_eq!(d.outcome, Outcome::Queued { position: 1 });
    assert_eq!(d.owner(), Owner::Queue("HomeLoanQueue".into()));
    let d = route(&c, &ws, &busy.clone().with_waiting("HomeLoanQueue", 1));
    assert_eq!(d.outcome, Outcome::Queued { position: 2 });
    assert!(d.explain().last().unwrap().contains("position 2"));
    let d = route(&c, &ws, &busy.with_waiting("HomeLoanQueue", 2));
    assert_eq!(
        d.outcome,
        Outcome::QueueFull {
            waiting: 2,
            limit: 2
        }
    );
    assert_eq!(d.owner(), Owner::None);
    assert!(d.explain().last().unwrap().contains("full"));
    // CreditCardQueue has no max_waiting: it never fills.
    c.set_context("BotHandoffTopic", "CreditCard");
    let d = route(
        &c,
        &ws,
        &RoutingState::new().with_waiting("CreditCardQueue", 10_000),
    );
    assert_eq!(d.outcome, Outcome::Queued { position: 10_001 });
}

#[test]
fn escalation_loop_with_unknown_topic_ends_unrouted() {
    let ws = chat();
    let mut c = conv();
    route(&c, &ws, &all_free()).apply_to(&mut c, t(1));
    let d = escalate(
        &mut c,
        &ws,
        &all_free(),
        [("BotHandoffTopic".to_owned(), ContextValue::new("Pets"))],
        t(2),
    );
    assert_eq!(d.outcome, Outcome::Unrouted(Unrouted::NoRuleMatched));
    assert_eq!(
        d.explain(),
        vec![
            "rule BotRule: matched, but queue BotQueue holds only bots that already had this conversation; skipped",
            "rules CreditCardRule, HomeLoanRule: conditions not met",
            "no rule matched and there is no default queue",
        ]
    );
    // Escalating again changes nothing: still never the bot.
    let d = escalate(&mut c, &ws, &all_free(), [], t(3));
    assert_eq!(d.outcome, Outcome::Unrouted(Unrouted::NoRuleMatched));
}

#[test]
fn a_second_bot_may_take_it_but_not_the_first() {
    let text = TOML.replace(
        r#"members = [{ id = "contoso-bot", name = "Contoso Bot", kind = "bot" }]"#,
        r#"members = [{ id = "contoso-bot", kind = "bot" }, { id = "tier2-bot", kind = "bot", capacity = 1 }]"#,
    );
    let ws = Workstream::from_toml_str(&text).unwrap();
    let mut c = conv();
    route(&c, &ws, &all_free()).apply_to(&mut c, t(1));
    assert_eq!(c.owner.bot(), Some("contoso-bot"));
    let d = escalate(&mut c, &ws, &all_free(), [], t(2));
    assert_eq!(assignee(&d.outcome), Some("tier2-bot"));
    assert!(d.trace().contains(&TraceStep::Member(
        &ws.queues[0].members[0],
        Verdict::AlreadyHadConversation
    )));
    // tier2 at capacity: the BotQueue has no member left that may take it → skipped.
    let mut c2 = conv();
    c2.bots_visited.push("contoso-bot".into());
    let full = all_free().with_member("tier2-bot", Presence::Available, 1);
    let d = route(&c2, &ws, &full);
    assert_eq!(d.outcome, Outcome::Queued { position: 1 });
    assert!(d.trace().contains(&TraceStep::Member(
        &ws.queues[0].members[1],
        Verdict::AtCapacity {
            load: 1,
            capacity: 1
        }
    )));
}

#[test]
fn default_queue_catches_unmatched() {
    let text = TOML.replacen(
        "[[context_variables]]",
        "default_queue = \"CreditCardQueue\"\n\n[[context_variables]]",
        1,
    );
    let ws = Workstream::from_toml_str(&text).unwrap();
    let mut c = conv();
    c.bots_visited.push("contoso-bot".into());
    c.set_context("BotHandoffTopic", "Pets");
    let d = route(&c, &ws, &all_free());
    assert!(d.rule.is_none());
    assert_eq!(d.queue.unwrap().name, "CreditCardQueue");
    assert_eq!(assignee(&d.outcome), Some("alice"));
    assert!(
        d.explain()
            .iter()
            .any(|l| l == "no rule matched → default queue CreditCardQueue")
    );

    // A default queue holding only the bot that already had it is no way out either.
    let text = TOML.replacen(
        "[[context_variables]]",
        "default_queue = \"BotQueue\"\n\n[[context_variables]]",
        1,
    );
    let ws = Workstream::from_toml_str(&text).unwrap();
    let d = route(&c, &ws, &all_free());
    assert_eq!(d.outcome, Outcome::Unrouted(Unrouted::NoRuleMatched));
    assert_eq!(
        d.explain().last().unwrap(),
        "no rule matched; default queue BotQueue holds only bots that already had this conversation"
    );
}

#[test]
fn ended_conversations_are_not_routed() {
    let ws = chat();
    for state in [ConversationState::WrapUp, ConversationState::Closed] {
        let mut c = conv();
        c.state = state;
        let d = route(&c, &ws, &all_free());
        assert_eq!(d.outcome, Outcome::Unrouted(Unrouted::Ended(state)));
        let d = transfer(&c, &ws, &all_free(), "HomeLoanQueue").unwrap();
        assert_eq!(d.outcome, Outcome::Unrouted(Unrouted::Ended(state)));
    }
}

#[test]
fn transfer_to_a_named_queue() {
    let ws = chat();
    let mut c = conv();
    c.bots_visited.push("contoso-bot".into());
    c.state = ConversationState::Active;
    c.owner = Owner::Agent("alice".into());
    let d = transfer(&c, &ws, &all_free(), "HomeLoanQueue").unwrap();
    assert!(d.rule.is_none());
    assert_eq!(assignee(&d.outcome), Some("dave"));
    assert_eq!(d.explain()[0], "transfer → queue HomeLoanQueue");
    // Transferring to the bot queue never returns it to the bot that had it.
    let d = transfer(&c, &ws, &all_free(), "BotQueue").unwrap();
    assert_eq!(d.outcome, Outcome::Queued { position: 1 });
    let err = transfer(&c, &ws, &all_free(), "Nope").unwrap_err();
    assert_eq!(err, RouteError::UnknownQueue("Nope".into()));
    let adapter: AdapterError = err.into();
    assert_eq!(adapter.field(), Some("queue"));
}

#[test]
fn routing_state_api_and_shape() {
    let mut state: RoutingState = serde_json::from_str(
        r#"{"members": {"alice": {"presence": "busy", "load": 1}}, "queues": {"Q": {"waiting": 3}}}"#,
    )
    .unwrap();
    assert_eq!(
        state.member_state("alice").map(|m| (m.presence, m.load)),
        Some((Presence::Busy, 1))
    );
    assert_eq!(state.queue_waiting("Q"), 3);
    assert_eq!(state.queue_waiting("other"), 0);
    state.set_member("bob", Presence::Away, 0);
    state.set_waiting("Q", 4);
    assert_eq!(state.remove_member("alice").map(|m| m.load), Some(1));
    assert_eq!(state.member_state("alice"), None);
    let back: RoutingState = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    assert_eq!(back, state);
}
