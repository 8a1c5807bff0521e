//! The prepared router against the one-off `route`, as the state changes, and the rule index against evaluating every rule.

use super::*;

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
