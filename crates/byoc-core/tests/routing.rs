//! Workstream loading, validation and routing: table tests over every operator, the classic
//! bot-integration setup, full queues, capacity, escalation loops and transfers.

use byoc_core::conversation::{ContextValue, Conversation, ConversationState, Owner};
use byoc_core::workstream::{
    AttachmentRejection, AutoClose, Condition, Field, MessageKind, MessageValues, Outcome,
    Presence, RouteError, Router, RoutingState, TraceStep, Unrouted, Verdict, Workstream,
    WorkstreamError, escalate, route, transfer,
};
use byoc_core::{AdapterError, ChannelAccount};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use std::time::Duration;

const TOML: &str = include_str!("fixtures/chat-workstream.toml");
const JSON: &str = include_str!("fixtures/chat-workstream.json");

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(min)
}

fn chat() -> Workstream {
    Workstream::from_toml_str(TOML).unwrap()
}

fn conv() -> Conversation {
    Conversation::new(
        "conv-1",
        "directline",
        ChannelAccount::new("cust-1").with_name("Ann"),
        t(0),
    )
}

/// Everyone available and idle.
fn all_free() -> RoutingState {
    ["alice", "bob", "carol", "dave", "erin"]
        .into_iter()
        .fold(RoutingState::new(), |s, id| {
            s.with_member(id, Presence::Available, 0)
        })
}

fn assignee<'a>(outcome: &Outcome<'a>) -> Option<&'a str> {
    match outcome {
        Outcome::Assigned(m) => Some(m.id.as_str()),
        _ => None,
    }
}

// ---------------------------------------------------------------- loading

#[test]
fn fixture_loads_from_toml_and_json_identically() {
    let from_toml = chat();
    let from_json = Workstream::from_json_slice(JSON.as_bytes()).unwrap();
    assert_eq!(from_toml, from_json);
    assert_eq!(from_toml.name, "ChatWorkStream");
    assert_eq!(from_toml.routing_rules.len(), 3);
    assert_eq!(from_toml.queues.len(), 3);
    assert!(from_toml.binds("directline"));
    assert!(!from_toml.binds("telesign"));
    assert_eq!(
        from_toml.auto_close.waiting,
        Some(Duration::from_secs(1800))
    );
}

#[test]
fn workstream_round_trips_through_toml_and_json() {
    let ws = chat();
    let toml_text = ws.to_toml_string().unwrap();
    assert_eq!(Workstream::from_toml_str(&toml_text).unwrap(), ws);
    let json = serde_json::to_vec(&ws).unwrap();
    assert_eq!(Workstream::from_json_slice(&json).unwrap(), ws);
}

/// Replaces `from` (which must occur) in the fixture and loads it.
fn load_edited(from: &str, to: &str) -> Result<Workstream, WorkstreamError> {
    assert!(TOML.contains(from), "fixture lacks {from:?}");
    Workstream::from_toml_str(&TOML.replacen(from, to, 1))
}

#[test]
fn syntax_errors_point_at_the_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"condition = { equals = { field = "context.BotHandoffTopic", value = "CreditCard" } }"#,
            r#"condition = { equals = { field = "context.BotHandoffTopic", valu = "CreditCard" } }"#,
            "routing_rules[1].condition.equals.valu",
        ),
        (
            r#"field = "context.BotHandoffTopic", value = "CreditCard""#,
            r#"field = "ctx.BotHandoffTopic", value = "CreditCard""#,
            "routing_rules[1].condition.equals.field",
        ),
        (
            r#"kind = "bot""#,
            r#"kind = "robot""#,
            "queues[0].members[0].kind",
        ),
        (
            r#"waiting = "30m""#,
            r#"waiting = "half an hour""#,
            "auto_close.waiting",
        ),
        (r#"kind = "chat""#, r#"kind = "fax""#, "channel.kind"),
        (
            "max_waiting = 2",
            "max_waiting = -2",
            "queues[2].max_waiting",
        ),
        (r#"language = "en-US""#, r#"languag = "en-US""#, "languag"),
        (r#"name = "ChatWorkStream""#, "", "."),
    ];
    for (from, to, path) in cases {
        let err = load_edited(from, to).unwrap_err();
        assert!(
            matches!(err, WorkstreamError::Syntax { .. }),
            "{to}: {err:?}"
        );
        assert_eq!(err.path(), *path, "{to}: {err}");
        assert!(err.to_string().starts_with(path), "{err}");
    }
}

#[test]
fn json_syntax_errors_carry_path_and_line() {
    let bad = JSON.replace(r#""capacity": 2 },"#, r#""capacity": "two" },"#);
    let err = Workstream::from_json_slice(bad.as_bytes()).unwrap_err();
    let WorkstreamError::Syntax { path, line, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, "queues[1].members[0].capacity");
    assert!(line.is_some());
    let err = Workstream::from_json_slice(format!("{JSON} trailing").as_bytes()).unwrap_err();
    assert!(matches!(err, WorkstreamError::Syntax { .. }), "{err:?}");
    let err = Workstream::from_json_slice(b"").unwrap_err();
    assert!(matches!(err, WorkstreamError::Syntax { .. }));
}

#[test]
fn each_validation_error_names_its_field() {
    let sms = |s: &str| s.replace(r#"kind = "chat""#, r#"kind = "sms""#);
    let cases: Vec<(String, &str, &str)> = vec![
        (TOML.replace(r#"name = "ChatWorkStream""#, r#"name = """#), "name", "Empty"),
        (TOML.replace(r#"id = "directline""#, r#"id = """#), "channel.id", "Empty"),
        (TOML.replace(r#"language = "en-US""#, r#"language = "english please""#), "language", "InvalidValue"),
        (TOML.replace("type = \"number\"", "type = \"number\"\n\n[[context_variables]]\nname = \"Priority\"\ntype = \"bool\""), "context_variables[2].name", "Duplicate"),
        (TOML.replace(r#"queue = "HomeLoanQueue""#, r#"queue = "MortgageQueue""#), "routing_rules[2].queue", "UnknownQueue"),
        (TOML.replace(r#"name = "HomeLoanRule""#, r#"name = "CreditCardRule""#), "routing_rules[2].name", "Duplicate"),
        (TOML.replace(r#"name = "HomeLoanQueue""#, r#"name = "CreditCardQueue""#), "queues[2].name", "Duplicate"),
        (TOML.replace(r#"field = "context.BotHandoffTopic", value = "HomeLoan""#, r#"field = "context.Topic", value = "HomeLoan""#), "routing_rules[2].condition.equals.field", "UnknownContextVariable"),
        (TOML.replace(r#"field = "context.BotHandoffTopic", value = "HomeLoan""#, r#"field = "context.BotHandoffTopic", value = 7"#), "routing_rules[2].condition.equals.value", "TypeMismatch"),
        (TOML.replace(r#"condition = { equals = { field = "context.BotHandoffTopic", value = "HomeLoan" } }"#, r#"condition = { any = [{ exists = "customer.email" }, { contains = { field = "context.Priority", value = "1" } }] }"#), "routing_rules[2].condition.any[1].contains.field", "TypeMismatch"),
        (TOML.replace(r#"condition = { equals = { field = "context.BotHandoffTopic", value = "HomeLoan" } }"#, r#"condition = { not = { in = { field = "context.Priority", values = [1, "2"] } } }"#), "routing_rules[2].condition.not.in.values[1]", "TypeMismatch"),
        (TOML.replace(r#"condition = { equals = { field = "context.BotHandoffTopic", value = "HomeLoan" } }"#, r#"condition = { in = { field = "customer.locale", values = [] } }"#), "routing_rules[2].condition.in.values", "Empty"),
        (TOML.replace(r#"condition = { equals = { field = "context.BotHandoffTopic", value = "HomeLoan" } }"#, r#"condition = { all = [] }"#), "routing_rules[2].condition.all", "Empty"),
        (TOML.replace(r#"condition = { equals = { field = "context.BotHandoffTopic", value = "HomeLoan" } }"#, r#"condition = { exists = "context.Nope" }"#), "routing_rules[2].condition.exists", "UnknownContextVariable"),
        (TOML.replace(r#"{ id = "carol", name = "Carol", kind = "agent", capacity = 1 }"#, r#"{ id = "carol", name = "Carol", kind = "agent" }"#), "queues[1].members[2].capacity", "InvalidValue"),
        (TOML.replace(r#"{ id = "carol", name = "Carol", kind = "agent", capacity = 1 }"#, r#"{ id = "alice", kind = "agent", capacity = 1 }"#), "queues[1].members[2].id", "Duplicate"),
        (TOML.replace(r#"{ id = "erin", name = "Erin", kind = "agent", capacity = 3 }"#, r#"{ id = "alice", kind = "agent", capacity = 3 }"#), "queues[2].members[1]", "InconsistentMember"),
        (TOML.replace(r#"members = [{ id = "contoso-bot", name = "Contoso Bot", kind = "bot" }]"#, "members = []"), "queues[0].members", "Empty"),
        (TOML.replace(r#"kind = "bot" }"#, r#"kind = "bot", capacity = 0 }"#), "queues[0].members[0].capacity", "InvalidValue"),
        (sms(TOML), "auto_close.waiting", "AutoCloseTooShort"),
        (TOML.replace(r#"wrap_up = "15m""#, r#"wrap_up = "0s""#), "auto_close.wrap_up", "InvalidValue"),
        (TOML.replace(r#"mime_types = ["image/*", "application/pdf"]"#, r#"mime_types = ["image/*", "pdf"]"#), "attachments.customer.mime_types[1]", "InvalidValue"),
        (TOML.replace("[attachments.agent]\nallowed = true", "[attachments.agent]\nallowed = true\nextensions = [\".\"]"), "attachments.agent.extensions[0]", "InvalidValue"),
        (TOML.replace("{AgentName} has joined", "{Agent} has joined"), "messages.agent_joined", "UnknownPlaceholder"),
        (TOML.replace("{AgentName} has joined", "{AgentName has joined"), "messages.agent_joined", "Template"),
        (TOML.replace("https://survey.example.com", "ftp://survey.example.com"), "survey.url", "InvalidValue"),
        (TOML.replace("conversation={ConversationId}", "conversation={SurveyLink}"), "survey.url", "UnknownPlaceholder"),
    ];
    for (text, path, variant) in &cases {
        let err = Workstream::from_toml_str(text).unwrap_err();
        assert_eq!(err.path(), *path, "{variant}: {err}");
        assert!(
            format!("{err:?}").starts_with(variant),
            "expected {variant}, got {err:?}"
        );
        assert!(err.to_string().starts_with(path), "{err}");
        let adapter: AdapterError = err.into();
        assert!(!adapter.is_retryable());
    }
}

#[test]
fn sms_auto_close_floor_is_eight_hours() {
    let sms = TOML
        .replace(r#"kind = "chat""#, r#"kind = "sms""#)
        .replace(r#"wrap_up = "15m""#, r#"wrap_up = "8h""#);
    let err = Workstream::from_toml_str(&sms.replace(r#"waiting = "30m""#, r#"waiting = "7h59m""#))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "auto_close.waiting: 479m is shorter than the 8h minimum of an SMS workstream"
    );
    let ws =
        Workstream::from_toml_str(&sms.replace(r#"waiting = "30m""#, r#"waiting = "8h""#)).unwrap();
    assert_eq!(ws.auto_close.waiting, Some(AutoClose::SMS_MINIMUM));
    // The same 30 minutes is fine on chat.
    assert_eq!(chat().auto_close.waiting, Some(Duration::from_secs(1800)));
}

#[test]
fn conditions_nested_too_deep_are_refused() {
    let nested = |depth: usize| {
        let mut condition = r#"{ exists = "customer.email" }"#.to_owned();
        for _ in 0..depth {
            condition = format!("{{ not = {condition} }}");
        }
        TOML.replace(
            r#"condition = { equals = { field = "context.BotHandoffTopic", value = "HomeLoan" } }"#,
            &format!("condition = {condition}"),
        )
    };
    let max = byoc_core::workstream::MAX_CONDITION_DEPTH;
    assert!(Workstream::from_toml_str(&nested(max - 1)).is_ok());
    let err = Workstream::from_toml_str(&nested(max)).unwrap_err();
    assert!(matches!(err, WorkstreamError::TooDeep { .. }), "{err:?}");
    assert!(
        err.path()
            .starts_with("routing_rules[2].condition.not.not."),
        "{err}"
    );
    // Far deeper input is refused by the parser or the validator, never a stack overflow.
    assert!(Workstream::from_toml_str(&nested(5000)).is_err());
}

// ---------------------------------------------------------------- operators

#[test]
fn every_operator_table() {
    let mut c = conv()
        .with_locale("en-GB")
        .with_customer_fact("email", "ann@contoso.com");
    c.set_context("Topic", ContextValue::displayable("CreditCard"));
    c.set_context("Priority", 2.0);
    c.set_context("Vip", true);
    c.set_context("PriorityText", "2");
    c.set_context("Empty", "");
    let ctx = |n: &str| Field::Context(n.to_owned());
    let parse = |json: &str| serde_json::from_str::<Condition>(json).unwrap();
    let cases: Vec<(Condition, bool)> = vec![
        (Condition::equals(ctx("Topic"), "CreditCard"), true),
        (Condition::equals(ctx("Topic"), "creditcard"), false),
        (
            parse(
                r#"{"equals":{"field":"context.Topic","value":"creditcard","ignore_case":true}}"#,
            ),
            true,
        ),
        (Condition::equals(ctx("Priority"), 2.0), true),
        (Condition::equals(ctx("Priority"), 3.0), false),
        (Condition::equals(ctx("PriorityText"), 2.0), true),
        (Condition::equals(ctx("Vip"), true), true),
        (Condition::equals(ctx("Vip"), "true"), true),
        (Condition::equals(ctx("Missing"), "x"), false),
        (Condition::equals(Field::ChannelId, "directline"), true),
        (Condition::equals(Field::CustomerId, "cust-1"), true),
        (Condition::equals(Field::CustomerName, "Ann"), true),
        (Condition::equals(Field::Locale, "en-GB"), true),
        (
            Condition::equals(Field::CustomerFact("email".into()), "ann@contoso.com"),
            true,
        ),
        (
            parse(r#"{"not_equals":{"field":"context.Topic","value":"HomeLoan"}}"#),
            true,
        ),
        (
            parse(r#"{"not_equals":{"field":"context.Topic","value":"CreditCard"}}"#),
            false,
        ),
        (
            parse(r#"{"not_equals":{"field":"context.Missing","value":"x"}}"#),
            true,
        ),
        (
            parse(r#"{"contains":{"field":"context.Topic","value":"Card"}}"#),
            true,
        ),
        (
            parse(r#"{"contains":{"field":"context.Topic","value":"card"}}"#),
            false,
        ),
        (
            parse(r#"{"contains":{"field":"context.Topic","value":"CARD","ignore_case":true}}"#),
            true,
        ),
        (
            parse(r#"{"contains":{"field":"customer.email","value":"@contoso."}}"#),
            true,
        ),
        (
            parse(r#"{"contains":{"field":"context.Priority","value":"2"}}"#),
            false,
        ),
        (
            parse(r#"{"starts_with":{"field":"context.Topic","value":"Credit"}}"#),
            true,
        ),
        (
            parse(r#"{"starts_with":{"field":"context.Topic","value":"Card"}}"#),
            false,
        ),
        (
            parse(
                r#"{"starts_with":{"field":"customer.locale","value":"EN-","ignore_case":true}}"#,
            ),
            true,
        ),
        (
            parse(r#"{"in":{"field":"customer.locale","values":["en-US","en-GB"]}}"#),
            true,
        ),
        (
            parse(r#"{"in":{"field":"customer.locale","values":["fr-FR"]}}"#),
            false,
        ),
        (
            parse(r#"{"in":{"field":"context.Priority","values":[1,2]}}"#),
            true,
        ),
        (parse(r#"{"exists":"context.Topic"}"#), true),
        (parse(r#"{"exists":"context.Missing"}"#), false),
        (parse(r#"{"exists":"context.Empty"}"#), false),
        (parse(r#"{"exists":"customer.phonenumber"}"#), false),
        (
            parse(
                r#"{"all":[{"exists":"context.Topic"},{"equals":{"field":"context.Vip","value":true}}]}"#,
            ),
            true,
        ),
        (
            parse(r#"{"all":[{"exists":"context.Topic"},{"exists":"context.Missing"}]}"#),
            false,
        ),
        (
            parse(r#"{"any":[{"exists":"context.Missing"},{"exists":"context.Topic"}]}"#),
            true,
        ),
        (
            parse(r#"{"any":[{"exists":"context.Missing"},{"exists":"customer.phonenumber"}]}"#),
            false,
        ),
        (parse(r#"{"not":{"exists":"context.Missing"}}"#), true),
        (parse(r#"{"not":{"exists":"context.Topic"}}"#), false),
    ];
    for (condition, want) in &cases {
        assert_eq!(condition.matches(&c), *want, "{condition:?}");
    }
}

#[test]
fn field_names_parse_and_print() {
    for (text, printed) in [
        ("context.A", "context.A"),
        ("channel", "channel.id"),
        ("channel.id", "channel.id"),
        ("customer.id", "customer.id"),
        ("customer.name", "customer.name"),
        ("locale", "customer.locale"),
        ("customer.email", "customer.email"),
    ] {
        assert_eq!(Field::parse(text).unwrap().to_string(), printed);
    }
    for bad in [
        "",
        "context.",
        "context.a b",
        "customer.",
        "agent.id",
        "Context.A",
    ] {
        assert_eq!(Field::parse(bad), None, "{bad}");
    }
}

// ---------------------------------------------------------------- the classic bot setup

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

#[test]
fn router_is_pure() {
    let ws = chat();
    let c = conv();
    let state = all_free();
    let (ws0, c0, s0) = (ws.clone(), c.clone(), state.clone());
    let a = route(&c, &ws, &state);
    let b = route(&c, &ws, &state);
    assert_eq!(a, b);
    assert_eq!((ws, c, state), (ws0, c0, s0));
}

#[test]
fn many_rules_and_agents_route_linearly() {
    // 100 rules, the last one matching, into a queue of 100 agents.
    let mut text = String::from(
        "name = \"Big\"\nlanguage = \"en\"\nchannel = { kind = \"messaging\", id = \"x\" }\n\
         context_variables = [{ name = \"N\", type = \"number\" }]\n",
    );
    for i in 0..100 {
        text.push_str(&format!(
            "[[routing_rules]]\nname = \"R{i}\"\nqueue = \"Q\"\ncondition = {{ equals = {{ field = \"context.N\", value = {i} }} }}\n"
        ));
    }
    text.push_str("[[queues]]\nname = \"Q\"\nmembers = [\n");
    let mut state = RoutingState::new();
    for i in 0..100 {
        text.push_str(&format!(
            "{{ id = \"a{i:03}\", kind = \"agent\", capacity = 5 }},\n"
        ));
        state = state.with_member(format!("a{i:03}"), Presence::Available, (i % 5) as u32);
    }
    text.push_str("]\n");
    let ws = Workstream::from_toml_str(&text).unwrap();
    let mut c = Conversation::new("c", "x", ChannelAccount::new("u"), t(0));
    c.set_context("N", 99.0);
    let d = route(&c, &ws, &state);
    assert_eq!(d.rule.unwrap().name, "R99");
    // Loads cycle 0..5: a000, a005, ... have 5 free; the lowest id wins.
    assert_eq!(assignee(&d.outcome), Some("a000"));
    // One step for the 99 rules that did not match, one for the match, one per agent.
    assert_eq!(d.trace().len(), 1 + 1 + 100);
    assert!(matches!(d.trace()[0], TraceStep::RulesNotMatched(r) if r.len() == 99));
}

#[test]
fn prepared_router_agrees_with_route_as_state_changes() {
    let ws = chat();
    let router = Router::new(&ws);
    let mut live = all_free();
    let mut prepared = router.prepare(&live);
    let mut c = conv();
    c.bots_visited.push("contoso-bot".into());
    // (id, presence, load) updates applied to both states, one at a time.
    let updates = [
        ("alice", Presence::Available, 2),
        ("bob", Presence::Busy, 1),
        ("carol", Presence::Away, 0),
        ("bob", Presence::Available, 2),
        ("carol", Presence::Available, 0),
        ("dave", Presence::Available, 3),
        ("erin", Presence::DoNotDisturb, 0),
        ("alice", Presence::Available, 0),
    ];
    for (step, (id, presence, load)) in updates.into_iter().enumerate() {
        live.set_member(id, presence, load);
        assert!(prepared.set_member(id, presence, load));
        assert_eq!(prepared.member_state(id), live.member_state(id));
        for topic in ["CreditCard", "HomeLoan", "Pets"] {
            c.set_context("BotHandoffTopic", topic);
            let fast = router.route(&c, &prepared);
            let slow = route(&c, &ws, &live);
            assert_eq!(fast, slow, "step {step}, {topic}");
            assert_eq!(fast.trace(), slow.trace());
            assert_eq!(fast.explain(), slow.explain());
        }
    }
    // Forgetting a member, waiting counts, unknown ids and queues.
    assert!(prepared.remove_member("dave"));
    live.remove_member("dave");
    assert!(prepared.set_waiting("HomeLoanQueue", 2));
    live.set_waiting("HomeLoanQueue", 2);
    assert!(!prepared.set_member("nobody", Presence::Available, 0));
    assert!(!prepared.set_waiting("NoQueue", 1));
    assert_eq!(prepared.queue_waiting("HomeLoanQueue"), 2);
    assert_eq!(prepared.to_routing_state(), live);
    c.set_context("BotHandoffTopic", "HomeLoan");
    let fast = router.route(&c, &prepared);
    assert_eq!(fast, route(&c, &ws, &live));
    assert!(matches!(
        fast.outcome,
        Outcome::QueueFull {
            waiting: 2,
            limit: 2
        }
    ));
    assert_eq!(
        router.transfer(&c, &prepared, "CreditCardQueue").unwrap(),
        transfer(&c, &ws, &live, "CreditCardQueue").unwrap()
    );
    assert_eq!(
        router.transfer(&c, &prepared, "Nope").unwrap_err(),
        RouteError::UnknownQueue("Nope".into())
    );
    // A state prepared by another router still gives the same decision.
    let other = chat();
    let other_router = Router::new(&other);
    let foreign = other_router.prepare(&live);
    assert_eq!(router.route(&c, &foreign), route(&c, &ws, &live));
    // Escalation through the router never lands back on the bot.
    let mut fresh = conv();
    router.route(&fresh, &prepared).apply_to(&mut fresh, t(1));
    assert_eq!(fresh.owner.bot(), Some("contoso-bot"));
    let d = router.escalate(
        &mut fresh,
        &prepared,
        [(
            "BotHandoffTopic".to_owned(),
            ContextValue::new("CreditCard"),
        )],
        t(2),
    );
    assert_eq!(assignee(&d.outcome), Some("alice"));
}

/// A workstream of rules over three typed variables, mixing indexable rules (`equals`, `in`)
/// with others that break the runs (`contains`, `ignore_case`, no condition).
fn mixed_rules(rules: &[(u8, u8, u8)]) -> Workstream {
    const STRS: [&str; 6] = ["5", " 5", "a", "A", "true", "TRUE"];
    const NUMS: [&str; 4] = ["5", "0", "-0.0", "1e300"];
    let mut text = String::from(
        "name = \"Mixed\"\nlanguage = \"en\"\nchannel = { kind = \"messaging\", id = \"x\" }\n\
         context_variables = [{ name = \"S\", type = \"string\" }, { name = \"N\", type = \"number\" }, { name = \"B\", type = \"bool\" }]\n",
    );
    for (i, &(op, var, lit)) in rules.iter().enumerate() {
        let (field, literal) = match var % 3 {
            0 => ("S", format!("{:?}", STRS[lit as usize % STRS.len()])),
            1 => ("N", NUMS[lit as usize % NUMS.len()].to_owned()),
            _ => ("B", (lit & 1 == 0).to_string()),
        };
        let condition = match op % 6 {
            0 | 1 => format!("{{ equals = {{ field = \"context.{field}\", value = {literal} }} }}"),
            2 | 3 => format!("{{ in = {{ field = \"context.{field}\", values = [{literal}] }} }}"),
            4 if field == "S" => {
                format!("{{ contains = {{ field = \"context.S\", value = {literal} }} }}")
            }
            4 => format!(
                "{{ equals = {{ field = \"context.{field}\", value = {literal}, ignore_case = true }} }}"
            ),
            _ => format!("{{ exists = \"context.{field}\" }}"),
        };
        text.push_str(&format!(
            "[[routing_rules]]\nname = \"R{i}\"\nqueue = \"Q\"\ncondition = {condition}\n"
        ));
    }
    text.push_str(
        "[[queues]]\nname = \"Q\"\nmembers = [{ id = \"a\", kind = \"agent\", capacity = 1 }]\n",
    );
    Workstream::from_toml_str(&text).unwrap()
}

proptest! {
    #[test]
    fn indexed_rules_match_the_first_rule_that_holds(
        rules in proptest::collection::vec((0u8..6, 0u8..3, 0u8..6), 1..24),
        values in proptest::collection::vec((0u8..3, 0u8..8), 3),
    ) {
        let ws = mixed_rules(&rules);
        let router = Router::new(&ws);
        let state = router.prepare(&RoutingState::new());
        let mut c = conv();
        // Each variable gets a value of any type: text, number or boolean.
        const TEXT: [&str; 8] = ["5", " 5 ", "a", "A", "true", "True", "0", ""];
        const NUMBER: [f64; 8] = [5.0, 0.0, -0.0, 1e300, f64::NAN, 6.0, 1.0, -5.0];
        for (name, &(kind, v)) in ["S", "N", "B"].into_iter().zip(&values) {
            let v = v as usize;
            match kind {
                0 => c.set_context(name, TEXT[v]),
                1 => c.set_context(name, NUMBER[v]),
                _ => c.set_context(name, v & 1 == 0),
            }
        }
        let first = ws
            .routing_rules
            .iter()
            .position(|r| r.condition.as_ref().is_none_or(|k| k.matches(&c)));
        let d = router.route(&c, &state);
        prop_assert_eq!(d.rule.map(|r| r.name.clone()), first.map(|i| format!("R{i}")));
        prop_assert_eq!(d, route(&c, &ws, &RoutingState::new()));
    }
}

// ---------------------------------------------------------------- the settings around routing

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

// ---------------------------------------------------------------- robustness

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_loaders(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Workstream::from_json_slice(&bytes);
        let _ = Workstream::from_toml_str(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_fixture_never_panics(cut in 0usize..2000, insert in "[ -~]{0,8}") {
        let mut text = TOML.to_owned();
        let at = text.char_indices().map(|(i, _)| i).nth(cut % TOML.len()).unwrap_or(0);
        text.insert_str(at, &insert);
        if let Ok(ws) = Workstream::from_toml_str(&text) {
            let c = conv();
            let d = route(&c, &ws, &all_free());
            let _ = d.explain();
            for kind in MessageKind::ALL {
                let _ = ws.render_message(kind, &c, &MessageValues::default());
            }
        }
    }

    #[test]
    fn templates_never_panic(template in "\\PC{0,40}") {
        let _ = byoc_core::workstream::placeholders(&template);
    }
}
