//! Validation of the routing features around queues: operating hours, capacity profiles,
//! members' capacity and skills, assignment methods, offers, overflow, and rules' skills,
//! relaxation and preferred agents.

use std::collections::HashSet;

use super::{Result, empty, invalid, is_name};
use crate::workstream::assignment::{AssignmentMethod, MAX_SORT_KEYS};
use crate::workstream::condition::Field;
use crate::workstream::error::WorkstreamError;
use crate::workstream::keys::{FIELD_BITS, MAX_HUMANS};
use crate::workstream::model::{MemberKind, VariableType, Workstream};
use crate::workstream::overflow::{OverflowAction, OverflowCondition};
use crate::workstream::skills::{MAX_PROFICIENCY, MAX_REQUIRED_SKILLS};

fn duplicate(path: String, name: &str) -> WorkstreamError {
    WorkstreamError::Duplicate {
        path,
        name: name.to_owned(),
    }
}

impl Workstream {
    pub(super) fn validate_hours(&self) -> Result {
        let mut names = HashSet::new();
        for (i, hours) in self.operating_hours.iter().enumerate() {
            let path = format!("operating_hours[{i}]");
            if !is_name(&hours.name) {
                return Err(invalid(
                    format!("{path}.name"),
                    "a name of letters, digits, `_`, `-` or `.`",
                ));
            }
            if !names.insert(hours.name.as_str()) {
                return Err(duplicate(format!("{path}.name"), &hours.name));
            }
            let mut dates = HashSet::new();
            for (k, holiday) in hours.holidays.iter().enumerate() {
                if !dates.insert(holiday.date) {
                    return Err(duplicate(
                        format!("{path}.holidays[{k}].date"),
                        &holiday.date.to_string(),
                    ));
                }
                if let Some(j) = holiday.hours.iter().position(|r| r.is_overnight()) {
                    return Err(invalid(
                        format!("{path}.holidays[{k}].hours[{j}]"),
                        "a holiday's ranges end by midnight (24:00)",
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn validate_capacity_profiles(&self) -> Result {
        let mut names = HashSet::new();
        for (i, profile) in self.capacity_profiles.iter().enumerate() {
            let path = format!("capacity_profiles[{i}]");
            if !is_name(&profile.name) {
                return Err(invalid(
                    format!("{path}.name"),
                    "a name of letters, digits, `_`, `-` or `.`",
                ));
            }
            if !names.insert(profile.name.as_str()) {
                return Err(duplicate(format!("{path}.name"), &profile.name));
            }
            if profile.units == 0 {
                return Err(invalid(format!("{path}.units"), "at least 1 unit"));
            }
            for (kind, cost) in profile.cost.iter() {
                if cost == Some(0) {
                    return Err(invalid(
                        format!("{path}.cost.{}", kind.as_str()),
                        "a conversation costs at least 1 unit",
                    ));
                }
            }
        }
        Ok(())
    }

    /// One member's capacity and skills (called from the queue checks).
    pub(super) fn validate_member(&self, member: &crate::workstream::Member, path: &str) -> Result {
        let is_bot = member.kind == MemberKind::Bot;
        if is_bot
            && (member.capacity_profile.is_some()
                || member.units.is_some()
                || !member.max.is_empty()
                || !member.skills.is_empty())
        {
            return Err(invalid(
                format!("{path}.kind"),
                "a bot takes only a capacity (no profile, units, max or skills)",
            ));
        }
        match &member.capacity_profile {
            Some(name) => {
                if member.capacity.is_some() {
                    return Err(invalid(
                        format!("{path}.capacity"),
                        "give a capacity or a capacity_profile, not both",
                    ));
                }
                if self.capacity_profile(name).is_none() {
                    return Err(WorkstreamError::UnknownCapacityProfile {
                        path: format!("{path}.capacity_profile"),
                        name: name.clone(),
                    });
                }
                if member.units == Some(0) {
                    return Err(invalid(format!("{path}.units"), "at least 1 unit"));
                }
            }
            None if member.units.is_some() || !member.max.is_empty() => {
                return Err(invalid(
                    format!("{path}.capacity_profile"),
                    "units and max override a capacity profile, which is missing",
                ));
            }
            None => {}
        }
        for (skill, &level) in &member.skills {
            let at = format!("{path}.skills.{skill}");
            if !is_name(skill) {
                return Err(invalid(
                    at,
                    "a skill name of letters, digits, `_`, `-` or `.`",
                ));
            }
            if level > MAX_PROFICIENCY {
                return Err(invalid(at, "a proficiency from 0 to 5"));
            }
        }
        Ok(())
    }

    pub(super) fn validate_queue_routing(&self) -> Result {
        for (q, queue) in self.queues.iter().enumerate() {
            let path = format!("queues[{q}]");
            if let Some(name) = &queue.operating_hours
                && self.hours(name).is_none()
            {
                return Err(WorkstreamError::UnknownOperatingHours {
                    path: format!("{path}.operating_hours"),
                    name: name.clone(),
                });
            }
            if let AssignmentMethod::Custom(keys) = &queue.assignment {
                let at = format!("{path}.assignment.custom");
                if keys.is_empty() {
                    return Err(empty(at));
                }
                if keys.len() > MAX_SORT_KEYS || crate::workstream::keys::bits(keys) > FIELD_BITS {
                    return Err(invalid(
                        at,
                        "at most 3 sort keys, `longest_idle` counting as two",
                    ));
                }
                let mut seen = HashSet::new();
                for (k, key) in keys.iter().enumerate() {
                    if !seen.insert(*key) {
                        return Err(duplicate(format!("{at}[{k}]"), key.as_str()));
                    }
                }
            }
            if queue.members.iter().filter(|m| !m.is_bot()).count() > MAX_HUMANS {
                return Err(invalid(
                    format!("{path}.members"),
                    "at most 65536 human members per queue",
                ));
            }
            if queue.offer.is_some_and(|o| o.timeout.is_zero()) {
                return Err(invalid(
                    format!("{path}.offer.timeout"),
                    "an offer timeout longer than zero",
                ));
            }
            if queue.average_handle_time.is_some_and(|d| d.is_zero()) {
                return Err(invalid(
                    format!("{path}.average_handle_time"),
                    "a duration longer than zero",
                ));
            }
            for (i, rule) in queue.overflow.iter().enumerate() {
                let at = format!("{path}.overflow[{i}]");
                match rule.when {
                    OverflowCondition::Closed if queue.operating_hours.is_none() => {
                        return Err(invalid(
                            format!("{at}.when"),
                            "`closed` needs the queue's operating_hours",
                        ));
                    }
                    OverflowCondition::EstimatedWaitOver(d) | OverflowCondition::WaitedOver(d)
                        if d.is_zero() =>
                    {
                        return Err(invalid(format!("{at}.when"), "a duration longer than zero"));
                    }
                    OverflowCondition::OffersFailed(0) => {
                        return Err(invalid(format!("{at}.when"), "at least 1 offer"));
                    }
                    OverflowCondition::OffersFailed(_) if queue.offer.is_none() => {
                        return Err(invalid(
                            format!("{at}.when"),
                            "`offers_failed` needs the queue's `offer` settings",
                        ));
                    }
                    _ => {}
                }
                match &rule.then {
                    OverflowAction::Transfer(target) => {
                        let at = format!("{at}.then.transfer");
                        self.check_queue(at.clone(), target)?;
                        if *target == queue.name {
                            return Err(invalid(at, "a queue cannot overflow into itself"));
                        }
                    }
                    OverflowAction::End(m) => {
                        self.validate_template(m, &format!("{at}.then.end"), false)?;
                    }
                    OverflowAction::Wait(m) => {
                        self.validate_template(m, &format!("{at}.then.wait"), false)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A field naming skills or an agent must be text: a declared string context variable
    /// or a customer fact.
    fn check_text_field(&self, field: &Field, path: String) -> Result {
        match field {
            Field::Context(name) => match self.context_variable(name) {
                None => Err(WorkstreamError::UnknownContextVariable {
                    path,
                    name: name.clone(),
                }),
                Some(v) if v.kind != VariableType::String => Err(WorkstreamError::TypeMismatch {
                    path,
                    field: field.to_string(),
                    expected: v.kind.as_str(),
                    given: "string",
                }),
                Some(_) => Ok(()),
            },
            Field::CustomerFact(_) => Ok(()),
            _ => Err(invalid(
                path,
                "a context variable (`context.<name>`) or a customer fact",
            )),
        }
    }

    pub(super) fn validate_rule_routing(&self) -> Result {
        for (i, rule) in self.routing_rules.iter().enumerate() {
            let path = format!("routing_rules[{i}]");
            if rule.skills.len() > MAX_REQUIRED_SKILLS {
                return Err(invalid(
                    format!("{path}.skills"),
                    "at most 8 required skills",
                ));
            }
            for (k, skill) in rule.skills.iter().enumerate() {
                let at = format!("{path}.skills[{k}]");
                match (&skill.name, &skill.from) {
                    (Some(name), None) => {
                        if !is_name(name) {
                            return Err(invalid(
                                format!("{at}.name"),
                                "a skill name of letters, digits, `_`, `-` or `.`",
                            ));
                        }
                    }
                    (None, Some(field)) => self.check_text_field(field, format!("{at}.from"))?,
                    _ => {
                        return Err(invalid(at, "give a skill `name` or a `from` field, one"));
                    }
                }
                if skill.proficiency > MAX_PROFICIENCY {
                    return Err(invalid(
                        format!("{at}.proficiency"),
                        "a proficiency from 0 to 5",
                    ));
                }
            }
            let mut last = None;
            for (k, d) in rule.relax_skills_after.iter().enumerate() {
                if d.is_zero() || last.is_some_and(|l| l >= *d) {
                    return Err(invalid(
                        format!("{path}.relax_skills_after[{k}]"),
                        "waits longer than zero, each longer than the one before",
                    ));
                }
                last = Some(*d);
            }
            if !rule.relax_skills_after.is_empty() && rule.skills.is_empty() {
                return Err(invalid(
                    format!("{path}.relax_skills_after"),
                    "relaxation drops required skills, and the rule requires none",
                ));
            }
            if let Some(preferred) = &rule.preferred_agent {
                let at = format!("{path}.preferred_agent");
                match &preferred.from {
                    Some(field) => self.check_text_field(field, format!("{at}.from"))?,
                    None if !preferred.last_agent => {
                        return Err(invalid(at, "give `from` or `last_agent = true`"));
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }
}
