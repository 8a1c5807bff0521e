//! Capacity: how much work an agent takes at once, in units per channel kind.
//!
//! An agent with a plain `capacity = N` takes N conversations of any kind, each costing one
//! unit. An agent with a `capacity_profile` has the profile's `units` (or its own `units`)
//! and spends the profile's `cost` per conversation of each kind, with at most `max` of a
//! kind at once (its own `max` overriding the profile's per kind). So a profile of 10 units
//! where chat costs 5 and SMS costs 2 lets one agent work one chat and two SMS
//! conversations together, or five SMS conversations.

use serde::{Deserialize, Serialize};

use super::model::ChannelKind;

/// One value per channel kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerKind<T> {
    /// Chat.
    #[serde(default)]
    pub chat: T,
    /// SMS.
    #[serde(default)]
    pub sms: T,
    /// Other messaging.
    #[serde(default)]
    pub messaging: T,
}

impl<T: Copy> PerKind<T> {
    /// The value for a kind.
    #[must_use]
    pub fn get(&self, kind: ChannelKind) -> T {
        match kind {
            ChannelKind::Chat => self.chat,
            ChannelKind::Sms => self.sms,
            ChannelKind::Messaging => self.messaging,
        }
    }

    /// The value for a kind, to change.
    pub fn get_mut(&mut self, kind: ChannelKind) -> &mut T {
        match kind {
            ChannelKind::Chat => &mut self.chat,
            ChannelKind::Sms => &mut self.sms,
            ChannelKind::Messaging => &mut self.messaging,
        }
    }

    /// Each kind with its value.
    pub fn iter(&self) -> impl Iterator<Item = (ChannelKind, T)> + '_ {
        ChannelKind::ALL.into_iter().map(|k| (k, self.get(k)))
    }
}

impl PerKind<u32> {
    /// The sum over kinds.
    #[must_use]
    pub fn total(&self) -> u32 {
        self.chat
            .saturating_add(self.sms)
            .saturating_add(self.messaging)
    }
}

impl<T> PerKind<Option<T>> {
    /// Whether no kind has a value.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.chat.is_none() && self.sms.is_none() && self.messaging.is_none()
    }
}

/// A capacity profile (Omnichannel's unit-based capacity with a profile per kind of work).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CapacityProfile {
    /// Its name (`members[].capacity_profile` refers to it).
    pub name: String,
    /// The units an agent with this profile has (at least 1).
    pub units: u32,
    /// Units one conversation of each kind takes; a kind left out costs 1.
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub cost: PerKind<Option<u32>>,
    /// At most this many conversations of a kind at once; a kind left out has no limit but
    /// the units.
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub max: PerKind<Option<u32>>,
}

impl CapacityProfile {
    /// A profile of `units`, every kind costing 1 and unlimited.
    #[must_use]
    pub fn new(name: impl Into<String>, units: u32) -> Self {
        Self {
            name: name.into(),
            units,
            cost: PerKind::default(),
            max: PerKind::default(),
        }
    }
}

/// An agent's resolved capacity: units, cost and limit per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Capacity {
    pub(crate) units: u32,
    pub(crate) cost: PerKind<u32>,
    pub(crate) max: PerKind<u32>,
    /// Every kind costs 1 and has no limit: units are conversations.
    pub(crate) simple: bool,
}

impl Capacity {
    /// `n` conversations of any kind.
    pub(crate) fn conversations(n: u32) -> Self {
        Self {
            units: n,
            cost: PerKind {
                chat: 1,
                sms: 1,
                messaging: 1,
            },
            max: PerKind {
                chat: u32::MAX,
                sms: u32::MAX,
                messaging: u32::MAX,
            },
            simple: true,
        }
    }

    /// From a profile and the agent's own overrides.
    pub(crate) fn from_profile(
        profile: &CapacityProfile,
        units: Option<u32>,
        max: &PerKind<Option<u32>>,
    ) -> Self {
        let pick = |k: ChannelKind| max.get(k).or(profile.max.get(k)).unwrap_or(u32::MAX);
        let mut capacity = Self {
            units: units.unwrap_or(profile.units),
            cost: PerKind {
                chat: profile.cost.chat.unwrap_or(1),
                sms: profile.cost.sms.unwrap_or(1),
                messaging: profile.cost.messaging.unwrap_or(1),
            },
            max: PerKind {
                chat: pick(ChannelKind::Chat),
                sms: pick(ChannelKind::Sms),
                messaging: pick(ChannelKind::Messaging),
            },
            simple: false,
        };
        capacity.simple = capacity.cost.iter().all(|(_, c)| c == 1)
            && capacity.max.iter().all(|(_, m)| m == u32::MAX);
        capacity
    }

    /// Units in use by `counts` conversations per kind, plus `untyped` conversations of no
    /// stated kind, which cost what one of `kind` costs.
    pub(crate) fn used(&self, counts: &PerKind<u32>, untyped: u32, kind: ChannelKind) -> u64 {
        counts
            .iter()
            .map(|(k, n)| u64::from(n) * u64::from(self.cost.get(k)))
            .sum::<u64>()
            + u64::from(untyped) * u64::from(self.cost.get(kind))
    }

    /// Free units once `used` are spent, and whether one more conversation of `kind` fits
    /// (units and the kind's limit, `count` of that kind already held).
    pub(crate) fn room(&self, used: u64, count: u32, kind: ChannelKind) -> (u32, bool) {
        let free = u64::from(self.units).saturating_sub(used);
        let fits = free >= u64::from(self.cost.get(kind)) && count < self.max.get(kind);
        (u32::try_from(free).unwrap_or(u32::MAX), fits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_kinds_share_units() {
        let mut profile = CapacityProfile::new("blended", 10);
        profile.cost.chat = Some(5);
        profile.cost.sms = Some(2);
        profile.max.chat = Some(1);
        let cap = Capacity::from_profile(&profile, None, &PerKind::default());
        let counts = PerKind {
            chat: 1,
            sms: 2,
            messaging: 0,
        };
        let used = cap.used(&counts, 0, ChannelKind::Sms);
        assert_eq!(used, 9);
        assert_eq!(cap.room(used, 2, ChannelKind::Sms), (1, false));
        assert_eq!(cap.room(used, 0, ChannelKind::Messaging), (1, true));
        // One chat at most, even with room.
        assert_eq!(cap.room(0, 1, ChannelKind::Chat), (10, false));
        // The agent's own limits win.
        let own = Capacity::from_profile(
            &profile,
            Some(20),
            &PerKind {
                chat: Some(3),
                ..PerKind::default()
            },
        );
        assert_eq!(own.room(10, 2, ChannelKind::Chat), (10, true));
    }
}
