//! Skills: what a conversation requires (set by its routing rule, from context variables a
//! bot or the host set), what agents have, with proficiency 0–5, and how the two match.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::condition::Field;
use crate::conversation::{ContextScalar, Conversation};

/// The highest proficiency.
pub const MAX_PROFICIENCY: u8 = 5;

/// How many skills one conversation may require.
pub const MAX_REQUIRED_SKILLS: usize = 8;

/// How required skills are matched against agents' skills.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillMatching {
    /// Only agents with every required skill at or above its proficiency; then the queue's
    /// assignment method orders them (Omnichannel's exact match).
    #[default]
    Exact,
    /// Every agent qualifies, ranked by how closely their skills match: most skills at or
    /// above the required proficiency, then most required skills held at all, then the
    /// smallest total distance between held and required proficiency; the assignment
    /// method orders agents that rank the same (Omnichannel's closest match).
    Closest,
}

impl SkillMatching {
    /// `exact` or `closest`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Closest => "closest",
        }
    }
}

/// One required skill of a routing rule: `{ name = "billing", proficiency = 3 }`, or the
/// skills a context variable names, `{ from = "context.Skills" }`, whose text lists them as
/// `"billing:4, spanish"` (a skill without `:level` takes this entry's proficiency).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SkillRequirement {
    /// The skill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A string context variable listing skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Field>,
    /// The least proficiency, 0–5. Default 0: holding the skill at all.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub proficiency: u8,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

impl SkillRequirement {
    /// A named skill at a least proficiency.
    #[must_use]
    pub fn named(name: impl Into<String>, proficiency: u8) -> Self {
        Self {
            name: Some(name.into()),
            from: None,
            proficiency,
        }
    }

    /// The skills a context variable lists.
    #[must_use]
    pub fn from_context(variable: &str, proficiency: u8) -> Self {
        Self {
            name: None,
            from: Some(Field::Context(variable.to_owned())),
            proficiency,
        }
    }
}

/// The skills a context variable's text lists (`"billing:4, spanish"`), each with its
/// proficiency (`default` when not given); entries that are empty or whose level is not
/// 0–5 are left out.
pub fn parse_skill_list(text: &str, default: u8) -> impl Iterator<Item = (&str, u8)> {
    text.split(',').filter_map(move |entry| {
        let entry = entry.trim();
        let (name, level) = match entry.split_once(':') {
            Some((name, level)) => (name.trim(), level.trim().parse::<u8>().ok()?),
            None => (entry, default),
        };
        (!name.is_empty() && level <= MAX_PROFICIENCY).then_some((name, level))
    })
}

/// A skill's index in the router's vocabulary; [`SkillId::UNKNOWN`] for a skill no agent has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SkillId(pub(crate) u16);

impl SkillId {
    pub(crate) const UNKNOWN: Self = Self(u16::MAX);
}

/// One required skill, resolved. Four bytes without padding, so that copying a [`Needs`]
/// is a plain copy of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Need {
    pub(crate) skill: SkillId,
    pub(crate) level: u8,
    pad: u8,
}

impl Need {
    pub(crate) const fn new(skill: SkillId, level: u8) -> Self {
        Self {
            skill,
            level,
            pad: 0,
        }
    }
}

/// The skills a conversation requires, most important first, inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Needs {
    len: u16,
    items: [Need; MAX_REQUIRED_SKILLS],
}

impl Default for Needs {
    fn default() -> Self {
        Self {
            len: 0,
            items: [Need::new(SkillId(0), 0); MAX_REQUIRED_SKILLS],
        }
    }
}

impl fmt::Debug for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Needs {
    /// Adds a need unless full or the skill is already required (the first wins); `false`
    /// when full.
    pub(crate) fn push(&mut self, need: Need) -> bool {
        if self.as_slice().iter().any(|n| n.skill == need.skill) {
            return true;
        }
        match self.items.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = need;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Adds a need whatever it repeats; `false` when full.
    fn push_unchecked(&mut self, need: Need) -> bool {
        match self.items.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = need;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    pub(crate) fn as_slice(&self) -> &[Need] {
        &self.items[..usize::from(self.len)]
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first `n` needs: the requirement after dropping all but the most important `n`.
    pub(crate) fn keep(&self, n: usize) -> Self {
        let mut kept = *self;
        kept.len = kept.len.min(u16::try_from(n).unwrap_or(u16::MAX));
        kept
    }
}

/// Collects [`Needs`] by skill name: one need per distinct name, the first occurrence
/// winning. Skills no agent has all share [`SkillId::UNKNOWN`], so they are told apart by
/// name here: each still counts as a skill of its own (relaxation drops them one by one).
pub(crate) struct NeedsByName<'n> {
    needs: Needs,
    unknown: [&'n str; MAX_REQUIRED_SKILLS],
    unknown_len: usize,
}

impl<'n> NeedsByName<'n> {
    pub(crate) fn new() -> Self {
        Self {
            needs: Needs::default(),
            unknown: [""; MAX_REQUIRED_SKILLS],
            unknown_len: 0,
        }
    }

    /// Adds skill `name` (resolved to `id`) at `level`; `false` when full.
    pub(crate) fn push(&mut self, name: &'n str, id: SkillId, level: u8) -> bool {
        if id != SkillId::UNKNOWN {
            return self.needs.push(Need::new(id, level));
        }
        if self.unknown[..self.unknown_len].contains(&name) {
            return true;
        }
        if !self.needs.push_unchecked(Need::new(id, level)) {
            return false;
        }
        if let Some(slot) = self.unknown.get_mut(self.unknown_len) {
            *slot = name;
            self.unknown_len += 1;
        }
        true
    }

    pub(crate) fn finish(self) -> Needs {
        self.needs
    }
}

/// An agent's skills by [`SkillId`]: proficiency + 1, 0 when lacking.
pub(crate) type Levels = [u8];

/// Whether `levels` holds every need.
#[inline]
pub(crate) fn meets_all(levels: &Levels, needs: &Needs) -> bool {
    needs.as_slice().iter().all(|n| {
        levels
            .get(usize::from(n.skill.0))
            .is_some_and(|&has| has > n.level)
    })
}

/// How closely `levels` match `needs`, larger is closer: (needs met, skills held, 255 −
/// total distance) packed into one number.
#[inline]
pub(crate) fn closeness(levels: &Levels, needs: &Needs) -> u32 {
    let (mut met, mut held, mut distance) = (0u32, 0u32, 0u32);
    for n in needs.as_slice() {
        let has = levels.get(usize::from(n.skill.0)).copied().unwrap_or(0);
        if has == 0 {
            continue;
        }
        held += 1;
        let level = has - 1;
        if level >= n.level {
            met += 1;
        }
        distance += u32::from(level.abs_diff(n.level));
    }
    (met << 16) | (held << 8) | (255 - distance.min(255))
}

/// Reads the skills a rule requires of a conversation: named ones as given, `from` ones
/// from the context variable's text, all in order, at most [`MAX_REQUIRED_SKILLS`].
pub(crate) fn resolve(
    requirements: &[SkillRequirement],
    conv: &Conversation,
    lookup: impl Fn(&str) -> SkillId,
) -> Needs {
    let mut needs = NeedsByName::new();
    for r in requirements {
        if let Some(name) = &r.name {
            needs.push(name, lookup(name), r.proficiency);
        }
        if let Some(field) = &r.from
            && let Some(text) = read_text(field, conv)
        {
            for (name, level) in parse_skill_list(text, r.proficiency) {
                if !needs.push(name, lookup(name), level) {
                    break;
                }
            }
        }
    }
    needs.finish()
}

fn read_text<'c>(field: &Field, conv: &'c Conversation) -> Option<&'c str> {
    match field {
        Field::Context(name) => match &conv.context.get(name.as_str())?.value {
            ContextScalar::String(s) => Some(s),
            _ => None,
        },
        Field::CustomerFact(name) => conv.customer_facts.get(name.as_str()).map(String::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skill_lists_parse_leniently() {
        let got: Vec<_> = parse_skill_list(" billing:4, spanish ,, x:9, :2, fr:0", 2).collect();
        assert_eq!(got, vec![("billing", 4), ("spanish", 2), ("fr", 0)]);
    }

    #[test]
    fn exact_and_closest() {
        let needs = {
            let mut n = Needs::default();
            n.push(Need::new(SkillId(0), 3));
            n.push(Need::new(SkillId(1), 2));
            n
        };
        // Proficiency + 1 per skill id.
        let expert = [6, 4];
        let junior = [3, 4];
        let partial = [5, 0];
        assert!(meets_all(&expert, &needs));
        assert!(!meets_all(&junior, &needs));
        assert!(!meets_all(&partial, &needs));
        assert!(closeness(&expert, &needs) > closeness(&junior, &needs));
        assert!(closeness(&junior, &needs) > closeness(&partial, &needs));
        // Nearer proficiency ranks higher among full matches.
        let exact_fit = [4, 3];
        assert!(closeness(&exact_fit, &needs) > closeness(&expert, &needs));
        assert!(meets_all(&[], &Needs::default()));
        assert_eq!(needs.keep(1).len(), 1);
    }
}
