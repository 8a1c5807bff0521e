//! Loading: TOML and JSON, syntax and validation errors naming the field.

use super::*;

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
