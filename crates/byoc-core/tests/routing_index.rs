//! The prepared router's rule index (equality, prefix and substring tables, case folding,
//! negations, `any` on one field) decides exactly as evaluating every rule in order: random
//! workstreams mixing every operator and combinator over a few fields whose literals share
//! prefixes and substrings, random conversations, random member states.

use byoc_core::ChannelAccount;
use byoc_core::conversation::{ContextScalar, Conversation};
use byoc_core::workstream::{
    Comparison, Condition, Field, Membership, Presence, Router, RoutingRule, RoutingState,
    Workstream, route,
};
use proptest::prelude::*;

const FIXTURE: &str = include_str!("fixtures/chat-workstream.toml");
const QUEUES: [&str; 4] = [
    "BotQueue",
    "CreditCardQueue",
    "HomeLoanQueue",
    "NoSuchQueue",
];
const MEMBERS: [&str; 6] = ["contoso-bot", "alice", "bob", "carol", "dave", "erin"];
/// Literals that are prefixes, substrings and case variants of each other, plus text that
/// reads as a number or a boolean.
const TEXTS: [&str; 16] = [
    "a", "ab", "abc", "b", "bc", "cab", "AB", "aBc", "", "5", " 5", "true", "TRUE", "0", "é", "Éa",
];

fn field() -> impl Strategy<Value = Field> {
    // Mostly one field, so that runs of rules over the same field form.
    prop_oneof![
        6 => Just(Field::Context("S".into())),
        2 => Just(Field::Context("N".into())),
        1 => Just(Field::CustomerName),
        1 => Just(Field::Locale),
    ]
}

fn literal() -> impl Strategy<Value = ContextScalar> {
    prop_oneof![
        8 => prop::sample::select(&TEXTS[..]).prop_map(|s| ContextScalar::String(s.into())),
        1 => prop::sample::select(&[5.0, 0.0, -0.0, 1e300][..]).prop_map(ContextScalar::Number),
        1 => any::<bool>().prop_map(ContextScalar::Bool),
    ]
}

/// One operator on one field.
fn leaf_on(field: Field) -> impl Strategy<Value = Condition> {
    (
        0u8..6,
        literal(),
        prop::bool::weighted(0.3),
        prop::collection::vec(literal(), 0..4),
    )
        .prop_map(move |(op, value, ignore_case, values)| {
            let c = Comparison {
                field: field.clone(),
                value,
                ignore_case,
            };
            match op {
                0 => Condition::Equals(c),
                1 => Condition::NotEquals(c),
                2 => Condition::Contains(c),
                3 => Condition::StartsWith(c),
                4 => Condition::In(Membership {
                    field: field.clone(),
                    values,
                    ignore_case,
                }),
                _ => Condition::Exists(field.clone()),
            }
        })
}

fn leaf() -> impl Strategy<Value = Condition> {
    field().prop_flat_map(leaf_on)
}

/// Nested `all` / `any` / `not` over leaves on any field.
fn nested() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Condition::All),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Condition::Any),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

/// `any` of leaves on one field, possibly negated.
fn any_on_one_field() -> impl Strategy<Value = Condition> {
    (
        field().prop_flat_map(|f| prop::collection::vec(leaf_on(f), 1..4)),
        any::<bool>(),
    )
        .prop_map(|(list, negate)| {
            let any = Condition::Any(list);
            if negate {
                Condition::Not(Box::new(any))
            } else {
                any
            }
        })
}

fn condition() -> impl Strategy<Value = Option<Condition>> {
    prop_oneof![
        10 => leaf().prop_map(Some),
        3 => any_on_one_field().prop_map(Some),
        3 => nested().prop_map(Some),
        1 => Just(None),
    ]
}

fn rules() -> impl Strategy<Value = Vec<RoutingRule>> {
    prop::collection::vec((condition(), 0..QUEUES.len()), 0..40).prop_map(|rules| {
        rules
            .into_iter()
            .enumerate()
            .map(|(i, (condition, q))| RoutingRule {
                condition,
                ..RoutingRule::new(format!("R{i}"), QUEUES[q])
            })
            .collect()
    })
}

/// A field's value: text over letters of the literals, a number, a boolean, or absent.
fn scalar() -> impl Strategy<Value = Option<ContextScalar>> {
    prop_oneof![
        6 => "[aAbBcé5 ]{0,6}".prop_map(|s| Some(ContextScalar::String(s))),
        2 => prop::sample::select(&TEXTS[..]).prop_map(|s| Some(ContextScalar::String(s.into()))),
        1 => prop::sample::select(&[5.0, 0.0, -0.0, 1e300, f64::NAN, 6.0][..])
            .prop_map(|n| Some(ContextScalar::Number(n))),
        1 => any::<bool>().prop_map(|b| Some(ContextScalar::Bool(b))),
        1 => Just(None),
    ]
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => "[aAbBc5]{0,5}".prop_map(Some),
        1 => Just(None),
    ]
}

fn presence() -> impl Strategy<Value = Option<(Presence, u32)>> {
    prop_oneof![
        3 => (0u32..4).prop_map(|load| Some((Presence::Available, load))),
        1 => (0u32..4).prop_map(|load| Some((Presence::Busy, load))),
        1 => Just(Some((Presence::Away, 0))),
        1 => Just(None),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    rules: Vec<RoutingRule>,
    default_queue: Option<usize>,
    s: Option<ContextScalar>,
    n: Option<ContextScalar>,
    name: Option<String>,
    locale: Option<String>,
    bot_visited: bool,
    members: Vec<Option<(Presence, u32)>>,
    waiting: u32,
}

fn case() -> impl Strategy<Value = Case> {
    (
        rules(),
        prop::option::of(0..QUEUES.len()),
        (scalar(), scalar(), text(), text()),
        any::<bool>(),
        prop::collection::vec(presence(), MEMBERS.len()),
        0u32..3,
    )
        .prop_map(
            |(rules, default_queue, (s, n, name, locale), bot_visited, members, waiting)| Case {
                rules,
                default_queue,
                s,
                n,
                name,
                locale,
                bot_visited,
                members,
                waiting,
            },
        )
}

/// The same rule, in a form the index never serves (`all` of two conditions), so the
/// router evaluates it on its own.
fn unindexable(rule: &RoutingRule) -> RoutingRule {
    RoutingRule {
        condition: rule
            .condition
            .clone()
            .map(|c| Condition::All(vec![c, Condition::All(vec![])])),
        ..rule.clone()
    }
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let mut ws = Workstream::from_toml_str(FIXTURE).expect("fixture");
    ws.routing_rules = case.rules.clone();
    ws.default_queue = case.default_queue.map(|q| QUEUES[q].to_owned());
    let mut reference = ws.clone();
    reference.routing_rules = ws.routing_rules.iter().map(unindexable).collect();

    let at = "2025-03-01T09:00:00Z".parse().expect("time");
    let mut account = ChannelAccount::new("cust-1");
    account.name = case.name.clone();
    let mut c = Conversation::new("c-1", "directline", account, at);
    c.locale = case.locale.clone();
    if let Some(s) = &case.s {
        c.set_context("S", s.clone());
    }
    if let Some(n) = &case.n {
        c.set_context("N", n.clone());
    }
    if case.bot_visited {
        c.bots_visited.push("contoso-bot".into());
    }
    let mut state = RoutingState::new();
    for (id, m) in MEMBERS.iter().zip(&case.members) {
        if let Some((presence, load)) = m {
            state.set_member(*id, *presence, *load);
        }
    }
    state.set_waiting("HomeLoanQueue", case.waiting);

    let router = Router::new(&ws);
    let prepared = router.prepare(&state);
    let fast = router.route(&c, &prepared);
    let slow = route(&c, &reference, &state);

    // The first rule that holds, evaluated directly.
    let first = ws
        .routing_rules
        .iter()
        .position(|r| r.condition.as_ref().is_none_or(|k| k.matches(&c)));
    if !case.bot_visited
        && first.is_some_and(|i| QUEUES[..3].contains(&ws.routing_rules[i].queue.as_str()))
    {
        prop_assert_eq!(
            fast.rule.map(|r| r.name.clone()),
            first.map(|i| format!("R{i}"))
        );
    }
    prop_assert_eq!(
        fast.rule.map(|r| &r.name),
        slow.rule.map(|r| &r.name),
        "rule"
    );
    prop_assert_eq!(fast.queue, slow.queue, "queue");
    prop_assert_eq!(fast.outcome, slow.outcome, "outcome");
    prop_assert_eq!(fast.explain(), slow.explain(), "trace");
    prop_assert_eq!(&fast, &route(&c, &ws, &state));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn indexed_router_decides_as_evaluating_each_rule(case in case()) {
        check(&case)?;
    }
}

/// Runs of each kind the index serves, at the edges: the first rule of the run holds, the
/// last, none, several, and the loop guard passing over an indexed match.
#[test]
fn every_index_kind_at_its_edges() {
    let leaf = |op: &str, value: &str, ignore_case: bool| {
        let c = Comparison {
            field: Field::Context("S".into()),
            value: ContextScalar::String(value.into()),
            ignore_case,
        };
        match op {
            "equals" => Condition::Equals(c),
            "not_equals" => Condition::NotEquals(c),
            "contains" => Condition::Contains(c),
            "starts_with" => Condition::StartsWith(c),
            _ => unreachable!(),
        }
    };
    // (rules as (operator, literal, ignore_case), the value, the rule expected)
    type Row<'a> = (&'a [(&'a str, &'a str, bool)], &'a str, Option<&'a str>);
    let table: &[Row<'_>] = &[
        (
            &[("starts_with", "ab", false), ("starts_with", "a", false)],
            "abc",
            Some("R0"),
        ),
        (
            &[("starts_with", "abc", false), ("starts_with", "a", false)],
            "abd",
            Some("R1"),
        ),
        (
            &[("starts_with", "ABC", true), ("starts_with", "x", false)],
            "abcd",
            Some("R0"),
        ),
        (
            &[
                ("starts_with", "abc", false),
                ("starts_with", "abcd", false),
            ],
            "ab",
            None,
        ),
        (
            &[("starts_with", "", false), ("starts_with", "a", false)],
            "zz",
            Some("R0"),
        ),
        (
            &[("contains", "zz", false), ("contains", "bc", false)],
            "abcd",
            Some("R1"),
        ),
        (
            &[("contains", "BC", true), ("contains", "abcd", false)],
            "abcd",
            Some("R0"),
        ),
        (
            &[("contains", "BC", false), ("contains", "cd", false)],
            "abCd",
            None,
        ),
        (
            &[("contains", "x", false), ("contains", "", false)],
            "abCd",
            Some("R1"),
        ),
        (
            &[("equals", "ABC", true), ("equals", "abc", false)],
            "aBc",
            Some("R0"),
        ),
        (
            &[("equals", "ABC", false), ("equals", "abc", false)],
            "aBc",
            None,
        ),
        (
            &[("not_equals", "abc", false), ("equals", "abc", false)],
            "abc",
            Some("R1"),
        ),
        (
            &[("not_equals", "abc", true), ("not_equals", "x", false)],
            "ABC",
            Some("R1"),
        ),
        (
            &[("contains", "é", false), ("starts_with", "É", true)],
            "Éa",
            Some("R1"),
        ),
        // Long texts: the automaton skips eight bytes at a time to a needle's first byte.
        (
            &[("contains", "xyz", false), ("contains", "q", false)],
            "aaaaaaaaaaaaaaaaaaaaxyaaaaaaaaaaxyz tail",
            Some("R0"),
        ),
        (
            &[("contains", "zzz", false), ("contains", "XYZ", true)],
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaxYz",
            Some("R1"),
        ),
        (
            &[("contains", "abc", false), ("contains", "zzz", false)],
            "ab ab ab ab ab ab ab ab ab ab ab abc",
            Some("R0"),
        ),
        (
            &[("contains", "qqq", false), ("contains", "xyzw", false)],
            "xyz xyz xyz xyz xyz xyz xyz xyz xyz xyz xyz",
            None,
        ),
    ];
    for (rules, value, expected) in table {
        let mut ws = Workstream::from_toml_str(FIXTURE).expect("fixture");
        ws.routing_rules = rules
            .iter()
            .enumerate()
            .map(|(i, &(op, v, ic))| {
                RoutingRule::new(format!("R{i}"), "CreditCardQueue").with_condition(leaf(op, v, ic))
            })
            .collect();
        let router = Router::new(&ws);
        let state = router.prepare(&RoutingState::new());
        let at = "2025-03-01T09:00:00Z".parse().expect("time");
        let mut c = Conversation::new("c-1", "directline", ChannelAccount::new("u"), at);
        c.set_context("S", *value);
        let d = router.route(&c, &state);
        assert_eq!(
            d.rule.map(|r| r.name.as_str()),
            *expected,
            "{rules:?} on {value:?}"
        );
    }
}
