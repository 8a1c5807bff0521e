//! Contact-center routing features, one table per feature: assignment methods, offers
//! declined and timed out, overflow before and after queueing, operating hours across
//! midnight, holidays and a DST change, skill relaxation, priorities, preferred agents,
//! capacity profiles, queue positions and estimated waits, restoring after a restart; and a
//! property test that the prepared router agrees with a straightforward reference
//! implementation.

mod assignment;
mod format;
mod hours;
mod offers;
mod overflow;
mod queueing;
mod reference;
mod skills;

use byoc_core::ChannelAccount;
use byoc_core::conversation::Conversation;
use byoc_core::workstream::{Action, Presence, RoutingState, Workstream};
use chrono::{DateTime, TimeZone, Utc};

/// Monday 2025-03-03 at `h:m` UTC (10:00 in Paris at 09:00 UTC, before the DST change).
pub(crate) fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, h, m, 0).unwrap()
}

pub(crate) fn secs(t: DateTime<Utc>, s: i64) -> DateTime<Utc> {
    t + chrono::Duration::seconds(s)
}

const HEAD: &str = r#"
name = "Contact"
language = "en-US"
channel = { kind = "chat", id = "web" }
context_variables = [
    { name = "Topic", type = "string" },
    { name = "Skills", type = "string" },
    { name = "Agent", type = "string" },
]
"#;

pub(crate) fn ws(body: &str) -> Workstream {
    Workstream::from_toml_str(&format!("{HEAD}{body}")).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn conv(id: &str) -> Conversation {
    Conversation::new(
        id,
        "web",
        ChannelAccount::new(format!("cust-{id}")),
        at(9, 0),
    )
}

pub(crate) fn free(ids: &[&str]) -> RoutingState {
    ids.iter().fold(RoutingState::new(), |s, id| {
        s.with_member(*id, Presence::Available, 0)
    })
}

/// The agent a conversation is offered or assigned to, from an action list.
pub(crate) fn given_to<'a>(actions: &'a [Action<'_>], conversation: &str) -> Option<&'a str> {
    actions.iter().find_map(|a| match a {
        Action::Offer {
            conversation: c,
            member,
            ..
        }
        | Action::Assign {
            conversation: c,
            member,
            ..
        } if &**c == conversation => Some(member.id.as_str()),
        _ => None,
    })
}

pub(crate) fn offers(actions: &[Action<'_>]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Offer {
                conversation,
                member,
                ..
            }
            | Action::Assign {
                conversation,
                member,
                ..
            } => Some((conversation.to_string(), member.id.clone())),
            _ => None,
        })
        .collect()
}
