//! The workstream file format for the routing features: everything round-trips through TOML
//! and JSON, and every mistake is reported with the field at fault.

use byoc_core::workstream::{Workstream, WorkstreamError};

/// A workstream using every routing feature.
const FULL: &str = r#"
name = "Contact"
language = "en-US"
channel = { kind = "chat", id = "web" }
skill_matching = "closest"
context_variables = [
    { name = "Topic", type = "string" },
    { name = "Skills", type = "string" },
    { name = "Agent", type = "string" },
]

[[operating_hours]]
name = "Office"
time_zone = "Europe/Paris"
monday = ["09:00-12:00", "13:00-17:00"]
friday = ["22:00-06:00"]
holidays = [
    { date = "2025-12-25", name = "Christmas" },
    { date = "2025-12-24", hours = ["09:00-12:00"] },
]

[[capacity_profiles]]
name = "blended"
units = 10
cost = { chat = 4, sms = 2 }
max = { chat = 2 }

[[routing_rules]]
name = "Billing"
queue = "Billing"
priority = 3
condition = { all = [{ equals = { field = "context.Topic", value = "billing" } }, { open = "Office" }] }
skills = [{ name = "billing", proficiency = 3 }, { from = "context.Skills", proficiency = 1 }]
relax_skills_after = ["2m", "5m"]
preferred_agent = { from = "context.Agent", last_agent = true, wait = "1m" }

[[routing_rules]]
name = "Rest"
queue = "Billing"

[[queues]]
name = "Billing"
priority = 2
assignment = { custom = ["least_load", "longest_idle"] }
operating_hours = "Office"
offer = { timeout = "45s" }
skill_matching = "exact"
average_handle_time = "6m"
max_waiting = 50
overflow = [
    { when = "closed", then = { transfer = "AfterHours" } },
    { when = { waiting_over = 20 }, then = { end = "We are busy; write again later." } },
    { when = { estimated_wait_over = "10m" }, then = { wait = "About {EstimatedWaitMinutes} minutes." } },
    { when = { waited_over = "15m" }, then = { transfer = "AfterHours" } },
    { when = { offers_failed = 3 }, then = { transfer = "AfterHours" } },
]
members = [
    { id = "ann", kind = "agent", capacity_profile = "blended", skills = { billing = 4, spanish = 2 } },
    { id = "bob", kind = "agent", capacity_profile = "blended", units = 6, max = { chat = 1 } },
    { id = "cat", kind = "agent", capacity = 3 },
]

[[queues]]
name = "AfterHours"
assignment = "round_robin"
members = [{ id = "bot", kind = "bot" }, { id = "cat", kind = "agent", capacity = 3 }]
"#;

fn full() -> Workstream {
    Workstream::from_toml_str(FULL).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_routing_feature_round_trips_through_toml_and_json() {
    let ws = full();
    let toml = ws.to_toml_string().unwrap();
    assert_eq!(Workstream::from_toml_str(&toml).unwrap(), ws, "{toml}");
    let json = serde_json::to_vec(&ws).unwrap();
    assert_eq!(Workstream::from_json_slice(&json).unwrap(), ws);
    // Values as written.
    assert_eq!(ws.queues[0].overflow.len(), 5);
    assert_eq!(
        ws.hours("Office").unwrap().friday[0].to_string(),
        "22:00-06:00"
    );
    assert_eq!(ws.routing_rules[0].relax_skills_after.len(), 2);
}

/// Replaces `from` (which must occur) in the full workstream and loads it.
fn edited(from: &str, to: &str) -> Result<Workstream, WorkstreamError> {
    assert!(FULL.contains(from), "lacks {from:?}");
    Workstream::from_toml_str(&FULL.replacen(from, to, 1))
}

#[test]
fn each_mistake_names_its_field() {
    let cases: &[(&str, &str, &str)] = &[
        // Syntax: the parser names the field.
        (
            r#"time_zone = "Europe/Paris""#,
            r#"time_zone = "Mars/Olympus""#,
            "operating_hours[0].time_zone",
        ),
        (
            r#"monday = ["09:00-12:00""#,
            r#"monday = ["9-12""#,
            "operating_hours[0].monday[0]",
        ),
        (
            r#"date = "2025-12-25""#,
            r#"date = "Christmas""#,
            "operating_hours[0].holidays[0].date",
        ),
        (
            r#"assignment = "round_robin""#,
            r#"assignment = "coin_toss""#,
            "queues[1].assignment",
        ),
        (
            r#"timeout = "45s""#,
            r#"timeout = "soon""#,
            "queues[0].offer.timeout",
        ),
        (
            r#"waited_over = "15m""#,
            r#"waited_over = 15"#,
            "queues[0].overflow[3].when.waited_over",
        ),
        (
            r#"proficiency = 3 }"#,
            r#"proficiency = 3, level = 2 }"#,
            "routing_rules[0].skills[0].level",
        ),
        // Validation.
        (
            r#"{ name = "billing", proficiency = 3 }"#,
            r#"{ name = "billing", proficiency = 9 }"#,
            "routing_rules[0].skills[0].proficiency",
        ),
        (
            r#"{ name = "billing", proficiency = 3 }"#,
            r#"{ proficiency = 3 }"#,
            "routing_rules[0].skills[0]",
        ),
        (
            r#"{ from = "context.Skills", proficiency = 1 }"#,
            r#"{ from = "context.Nope", proficiency = 1 }"#,
            "routing_rules[0].skills[1].from",
        ),
        (
            r#"relax_skills_after = ["2m", "5m"]"#,
            r#"relax_skills_after = ["5m", "2m"]"#,
            "routing_rules[0].relax_skills_after[1]",
        ),
        (
            r#"from = "context.Agent", last_agent = true,"#,
            r#"from = "channel.id","#,
            "routing_rules[0].preferred_agent.from",
        ),
        (
            r#"{ open = "Office" }"#,
            r#"{ open = "Moon" }"#,
            "routing_rules[0].condition.all[1].open",
        ),
        (
            r#"operating_hours = "Office"
offer"#,
            r#"operating_hours = "Home"
offer"#,
            "queues[0].operating_hours",
        ),
        (
            r#"{ transfer = "AfterHours" } },
    { when = { waiting_over"#,
            r#"{ transfer = "Billing" } },
    { when = { waiting_over"#,
            "queues[0].overflow[0].then.transfer",
        ),
        (
            r#"{ when = { offers_failed = 3 }, then = { transfer = "AfterHours" } },"#,
            r#"{ when = { offers_failed = 3 }, then = { transfer = "Nowhere" } },"#,
            "queues[0].overflow[4].then.transfer",
        ),
        (
            r#"then = { end = "We are busy; write again later." }"#,
            r#"then = { end = "Bye {Nobody}" }"#,
            "queues[0].overflow[1].then.end",
        ),
        (
            r#"{ when = { offers_failed = 3 }"#,
            r#"{ when = { offers_failed = 0 }"#,
            "queues[0].overflow[4].when",
        ),
        (
            r#"assignment = { custom = ["least_load", "longest_idle"] }"#,
            r#"assignment = { custom = ["least_load", "least_load"] }"#,
            "queues[0].assignment.custom[1]",
        ),
        (
            r#"assignment = { custom = ["least_load", "longest_idle"] }"#,
            r#"assignment = { custom = ["least_load", "longest_idle", "round_robin"] }"#,
            "queues[0].assignment.custom",
        ),
        (
            r#"offer = { timeout = "45s" }"#,
            r#"offer = { timeout = "0s" }"#,
            "queues[0].offer.timeout",
        ),
        (
            r#"capacity_profile = "blended", skills"#,
            r#"capacity_profile = "solo", skills"#,
            "queues[0].members[0].capacity_profile",
        ),
        (
            r#"{ id = "cat", kind = "agent", capacity = 3 },
]"#,
            r#"{ id = "cat", kind = "agent", capacity = 3, capacity_profile = "blended" },
]"#,
            "queues[0].members[2].capacity",
        ),
        (
            r#"skills = { billing = 4, spanish = 2 }"#,
            r#"skills = { billing = 6 }"#,
            "queues[0].members[0].skills.billing",
        ),
        (
            r#"{ id = "bot", kind = "bot" }"#,
            r#"{ id = "bot", kind = "bot", skills = { billing = 1 } }"#,
            "queues[1].members[0].kind",
        ),
        (
            r#"{ id = "cat", kind = "agent", capacity = 3 }]"#,
            r#"{ id = "cat", kind = "agent", capacity = 4 }]"#,
            "queues[1].members[1]",
        ),
        (
            r#"units = 10"#,
            r#"units = 0"#,
            "capacity_profiles[0].units",
        ),
        (
            r#"cost = { chat = 4, sms = 2 }"#,
            r#"cost = { chat = 0 }"#,
            "capacity_profiles[0].cost.chat",
        ),
        (
            r#"{ date = "2025-12-24", hours = ["09:00-12:00"] }"#,
            r#"{ date = "2025-12-24", hours = ["22:00-02:00"] }"#,
            "operating_hours[0].holidays[1].hours[0]",
        ),
        (
            r#"{ date = "2025-12-24", hours"#,
            r#"{ date = "2025-12-25", hours"#,
            "operating_hours[0].holidays[1].date",
        ),
        (
            r#"average_handle_time = "6m""#,
            r#"average_handle_time = "0s""#,
            "queues[0].average_handle_time",
        ),
    ];
    for (from, to, path) in cases {
        let err = match edited(from, to) {
            Err(e) => e,
            Ok(_) => panic!("{to}: accepted"),
        };
        assert_eq!(err.path(), *path, "{to}: {err}");
        assert!(err.to_string().starts_with(path), "{err}");
    }
}

#[test]
fn closed_overflow_needs_operating_hours() {
    let text = FULL.replacen(
        "[[queues]]\nname = \"AfterHours\"",
        "[[queues]]\nname = \"AfterHours\"\noverflow = [{ when = \"closed\", then = { end = \"\" } }]",
        1,
    );
    let err = Workstream::from_toml_str(&text).unwrap_err();
    assert_eq!(err.path(), "queues[1].overflow[0].when", "{err}");
    // offers_failed needs offers.
    let text = FULL.replacen(
        "[[queues]]\nname = \"AfterHours\"",
        "[[queues]]\nname = \"AfterHours\"\noverflow = [{ when = { offers_failed = 2 }, then = { end = \"\" } }]",
        1,
    );
    let err = Workstream::from_toml_str(&text).unwrap_err();
    assert_eq!(err.path(), "queues[1].overflow[0].when", "{err}");
}
