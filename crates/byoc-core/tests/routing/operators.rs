//! Every condition operator, and field names.

use super::*;

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
