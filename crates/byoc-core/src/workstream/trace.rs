//! Deriving a decision's outcome and trace from its [`Facts`], and writing trace steps as
//! sentences.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::assignment::{AssignmentMethod, SortKey};
use super::decide::{Facts, Fallback, Preferred, RawOutcome, Start};
use super::duration;
use super::keys::{self, Key};
use super::layout::{Layout, skill_names};
use super::model::{MemberKind, Queue, RoutingRule, Workstream};
use super::overflow::OverflowAction;
use super::prepared::PreparedState;
use super::router::{Outcome, PreferredVerdict, SkillList, TraceStep, Verdict};
use super::skills::{SkillMatching, closeness, meets_all};

/// A decision's rule, queue, outcome and what goes with it, as references into the
/// workstream.
pub(crate) struct Parts<'a> {
    pub(crate) rule: Option<&'a RoutingRule>,
    pub(crate) queue: Option<&'a Queue>,
    pub(crate) outcome: Outcome<'a>,
    pub(crate) estimated_wait: Option<Duration>,
    pub(crate) message: Option<&'a str>,
    pub(crate) overflowed_from: Option<&'a Queue>,
}

pub(crate) fn at_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Facts {
    #[inline(always)]
    pub(crate) fn parts<'a>(&self, ws: &'a Workstream, raw: RawOutcome) -> Parts<'a> {
        let rule = self.rule.and_then(|r| ws.routing_rules.get(r as usize));
        let queue = match self.start {
            Start::Ended(_) | Start::Rules(Fallback::DefaultSkippedLoop | Fallback::NoRule) => None,
            _ => self.queue.and_then(|q| ws.queues.get(q as usize)),
        };
        let last_overflow = self.overflow.last().and_then(|&(q, i)| {
            ws.queues
                .get(q as usize)
                .and_then(|queue| queue.overflow.get(i as usize))
        });
        let message = last_overflow.and_then(|r| r.then.message());
        let overflowed_from = match self.overflow.first() {
            Some(&(q, _)) if Some(q) != self.queue => ws.queues.get(q as usize),
            _ => None,
        };
        let mut estimated_wait = None;
        let outcome = match raw {
            RawOutcome::Member(pos) => match queue.and_then(|q| q.members.get(pos).map(|m| (q, m)))
            {
                Some((q, m)) => match q.offer {
                    Some(offer) if !m.is_bot() => Outcome::Offered {
                        member: m,
                        expires_at: at_millis(self.now)
                            + chrono::Duration::from_std(offer.timeout).unwrap_or_default(),
                    },
                    _ => Outcome::Assigned(m),
                },
                None => Outcome::Unrouted(super::Unrouted::NoRuleMatched),
            },
            RawOutcome::Queued { position, wait_ms } => {
                estimated_wait = wait_ms.map(Duration::from_millis);
                Outcome::Queued { position }
            }
            RawOutcome::QueueFull { waiting, limit } => Outcome::QueueFull { waiting, limit },
            RawOutcome::Ended => Outcome::Ended { message },
            RawOutcome::Unrouted(u) => Outcome::Unrouted(u),
        };
        Parts {
            rule,
            queue,
            outcome,
            estimated_wait,
            message,
            overflowed_from,
        }
    }

    /// Re-derives the trace.
    pub(crate) fn steps<'a>(
        &self,
        ws: &'a Workstream,
        state: &PreparedState,
        outcome: Outcome<'a>,
    ) -> Vec<TraceStep<'a>> {
        let queue = self.queue.and_then(|q| ws.queues.get(q as usize));
        let steps = 2 * self.passed.len() + 6 + queue.map_or(0, |q| q.members.len());
        let mut trace = Vec::with_capacity(steps);
        let rules = ws.routing_rules.as_slice();
        match self.start {
            Start::Ended(s) => trace.push(TraceStep::Ended(s)),
            Start::TransferEnded(s) => {
                trace.extend(queue.map(TraceStep::Transfer));
                trace.push(TraceStep::Ended(s));
            }
            Start::Transfer => {
                trace.extend(queue.map(TraceStep::Transfer));
                self.queue_steps(ws, state, outcome, &mut trace);
            }
            Start::Rules(fallback) => {
                let mut run = 0;
                for &(i, looped) in &self.passed {
                    let i = i as usize;
                    if run < i {
                        trace.push(TraceStep::RulesNotMatched(&rules[run..i]));
                    }
                    if looped {
                        trace.push(TraceStep::RuleSkippedLoop(&rules[i]));
                    }
                    run = i + 1;
                }
                let upto = match (fallback, self.rule) {
                    (Fallback::Matched, Some(r)) => r as usize,
                    _ => rules.len(),
                };
                if run < upto {
                    trace.push(TraceStep::RulesNotMatched(&rules[run..upto]));
                }
                let first_queue = self
                    .overflow
                    .first()
                    .map_or(self.queue, |&(q, _)| Some(q))
                    .and_then(|q| ws.queues.get(q as usize));
                match (
                    fallback,
                    self.rule.and_then(|r| rules.get(r as usize)),
                    first_queue,
                ) {
                    (Fallback::Matched, Some(rule), _) => {
                        trace.push(TraceStep::RuleMatched(rule));
                        self.queue_steps(ws, state, outcome, &mut trace);
                    }
                    (Fallback::Default, _, Some(q)) => {
                        trace.push(TraceStep::DefaultQueue(q));
                        self.queue_steps(ws, state, outcome, &mut trace);
                    }
                    (Fallback::DefaultSkippedLoop, _, Some(q)) => {
                        trace.push(TraceStep::DefaultQueueSkippedLoop(q));
                    }
                    _ => trace.push(TraceStep::NoRuleMatched),
                }
            }
        }
        trace
    }

    fn skill_list<'a>(
        &self,
        ws: &'a Workstream,
        layout: &Layout,
        matching: SkillMatching,
    ) -> SkillList<'a> {
        let names = skill_names(ws);
        let mut list = SkillList {
            names: [("", 0); super::MAX_REQUIRED_SKILLS],
            len: 0,
            dropped: self.dropped,
            matching,
        };
        let needs = self.needs_in(layout);
        for (slot, need) in list.names.iter_mut().zip(needs.as_slice()) {
            let name = names.get(usize::from(need.skill.0)).copied();
            *slot = (name.unwrap_or("(a skill no agent has)"), need.level);
            list.len += 1;
        }
        list
    }

    /// The queue's part: skills, overflow, hours, members, and the offer or the wait.
    fn queue_steps<'a>(
        &self,
        ws: &'a Workstream,
        state: &PreparedState,
        outcome: Outcome<'a>,
        trace: &mut Vec<TraceStep<'a>>,
    ) {
        let Some(q) = self.queue.map(|q| q as usize) else {
            return;
        };
        let (Some(layout), Some(queue)) = (state.layout.queues.get(q), ws.queues.get(q)) else {
            return;
        };
        if !self.needs_in(&state.layout).is_empty() || self.dropped > 0 {
            trace.push(TraceStep::Skills(self.skill_list(
                ws,
                &state.layout,
                layout.matching,
            )));
        }
        // Transfers out of earlier queues, then the final queue's hours and members, then
        // its own overflow (end, or wait with a message).
        let overflow = |transfers: bool| {
            self.overflow.iter().filter_map(move |&(oq, i)| {
                let from = ws.queues.get(oq as usize)?;
                let rule = from.overflow.get(i as usize)?;
                (matches!(rule.then, OverflowAction::Transfer(_)) == transfers)
                    .then_some(TraceStep::Overflow(from, rule))
            })
        };
        trace.extend(overflow(true));
        if self.closed {
            trace.push(TraceStep::QueueClosed(queue));
        } else {
            self.member_steps(ws, state, q, outcome, trace);
        }
        trace.extend(overflow(false));
        match outcome {
            Outcome::Offered { member, expires_at } => {
                trace.push(TraceStep::Offered(member, expires_at));
            }
            Outcome::Queued { position } => {
                trace.push(TraceStep::Queued(queue, position));
                if let Some(wait) = state.estimated_wait_ms(q, position) {
                    trace.push(TraceStep::EstimatedWait(Duration::from_millis(wait)));
                }
            }
            Outcome::QueueFull { waiting, .. } => trace.push(TraceStep::QueueFull(queue, waiting)),
            _ => {}
        }
    }

    /// One step per member of the final queue considered.
    fn member_steps<'a>(
        &self,
        ws: &'a Workstream,
        state: &PreparedState,
        q: usize,
        outcome: Outcome<'a>,
        trace: &mut Vec<TraceStep<'a>>,
    ) {
        let (Some(layout), Some(queue)) = (state.layout.queues.get(q), ws.queues.get(q)) else {
            return;
        };
        let humans = layout
            .humans
            .iter()
            .enumerate()
            .filter_map(|(j, s)| Some((j as u32, s, queue.members.get(s.pos as usize)?)));
        for (k, slot) in layout.bots.iter().enumerate() {
            let Some(bot) = queue.members.get(slot.pos as usize) else {
                continue;
            };
            let verdict = if self.visited.contains(k) {
                Verdict::AlreadyHadConversation
            } else {
                let s = state.bot(slot);
                let room = state.room(slot.member);
                if !s.presence.accepts_work() {
                    Verdict::Unavailable(s.presence)
                } else if !room.fits {
                    Verdict::AtCapacity {
                        load: u32::try_from(room.used).unwrap_or(u32::MAX),
                        capacity: room.units,
                    }
                } else {
                    Verdict::Picked
                }
            };
            trace.push(TraceStep::Member(bot, verdict));
            if verdict == Verdict::Picked {
                trace.extend(
                    humans.map(|(_, _, m)| TraceStep::Member(m, Verdict::BotHadFirstClaim)),
                );
                return;
            }
        }
        let picked_pos = match outcome {
            Outcome::Assigned(m) | Outcome::Offered { member: m, .. } => queue
                .members
                .iter()
                .position(|x| std::ptr::eq(x, m))
                .map(|p| p as u32),
            _ => None,
        };
        let picked = picked_pos.and_then(|p| layout.humans.iter().position(|s| s.pos == p));
        let preferred = self.preferred.member_j().and_then(|j| {
            Some((
                j,
                queue
                    .members
                    .get(layout.humans.get(j as usize)?.pos as usize)?,
            ))
        });
        match (self.preferred, preferred) {
            (Preferred::Taken(_), Some((_, m))) => {
                trace.push(TraceStep::PreferredAgent(m, PreferredVerdict::Picked));
                return;
            }
            (Preferred::Holding(_, until), Some((_, m))) => trace.push(TraceStep::PreferredAgent(
                m,
                PreferredVerdict::WaitingUntil(at_millis(until)),
            )),
            (Preferred::NotFree(_), Some((_, m))) => {
                trace.push(TraceStep::PreferredAgent(m, PreferredVerdict::NotFree));
            }
            (Preferred::NotInQueue, _) => trace.push(TraceStep::PreferredAgentNotInQueue(queue)),
            _ => {}
        }
        let holding = matches!(self.preferred, Preferred::Holding(..));
        let needs = self.needs_in(&state.layout);
        let closest = layout.matching == SkillMatching::Closest && !needs.is_empty();
        let picked_key = picked.map(|j| state.key_of(q, j as u32));
        let fit = |j: u32| {
            layout
                .humans
                .get(j as usize)
                .and_then(|s| layout.groups.get(s.group as usize))
                .map_or(0, |g| closeness(&g.levels, &needs))
        };
        for (j, slot, member) in humans {
            let key = state.key_of(q, j);
            let group = layout.groups.get(slot.group as usize);
            let verdict = if holding && preferred.is_some_and(|(p, _)| p != j) {
                Verdict::HeldForPreferred
            } else if key == 0 {
                // It cannot take work: say why.
                let s = state.human(slot);
                let room = state.room(slot.member);
                if !s.presence.accepts_work() {
                    Verdict::Unavailable(s.presence)
                } else if !state.is_joined(q, j) {
                    Verdict::NotInQueue
                } else if room.count >= room.max {
                    Verdict::AtKindLimit { max: room.max }
                } else {
                    Verdict::AtCapacity {
                        load: u32::try_from(room.used).unwrap_or(u32::MAX),
                        capacity: room.units,
                    }
                }
            } else if !closest && !group.is_some_and(|g| meets_all(&g.levels, &needs)) {
                Verdict::LacksSkills
            } else if picked == Some(j as usize) {
                if closest {
                    Verdict::PickedClosest
                } else {
                    match layout.keys.first() {
                        Some(SortKey::FreeCapacity) | None => Verdict::Picked,
                        Some(&k) => Verdict::PickedBy(k),
                    }
                }
            } else if closest && picked.is_some_and(|p| fit(j) < fit(p as u32)) {
                Verdict::LessCloseSkills
            } else {
                ranked_below(
                    &layout.keys,
                    &queue.assignment,
                    key,
                    picked_key.unwrap_or(0),
                )
            };
            trace.push(TraceStep::Member(member, verdict));
        }
    }
}

/// Why an agent who could take the conversation ranked below the one picked: the first
/// sort key where it loses.
fn ranked_below(keys: &[SortKey], method: &AssignmentMethod, key: Key, picked: Key) -> Verdict {
    let mut free = 0;
    for (sort, shift, width) in keys::fields(keys) {
        if sort == SortKey::FreeCapacity {
            free = keys::field(key, shift, width);
        }
        let (mine, theirs) = (
            keys::field(key, shift, width),
            keys::field(picked, shift, width),
        );
        if mine != theirs {
            return match sort {
                SortKey::FreeCapacity => Verdict::LessFreeCapacity {
                    free: mine,
                    picked_free: theirs,
                },
                other => Verdict::Outranked(other),
            };
        }
    }
    if *method == AssignmentMethod::HighestCapacity {
        Verdict::TieBrokenById { free }
    } else {
        Verdict::Tied
    }
}

fn sort_phrase(k: SortKey) -> &'static str {
    match k {
        SortKey::FreeCapacity => "most free capacity",
        SortKey::LeastLoad => "fewest conversations",
        SortKey::LongestIdle => "idle longest",
        SortKey::RoundRobin => "next in round robin",
    }
}

fn outranked_phrase(k: SortKey) -> &'static str {
    match k {
        SortKey::FreeCapacity => "has less free capacity",
        SortKey::LeastLoad => "holds more conversations",
        SortKey::LongestIdle => "has been idle for less time",
        SortKey::RoundRobin => "was offered work more recently (round robin)",
    }
}

impl fmt::Display for SkillList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 {
            f.write_str("no skills required")?;
        } else {
            f.write_str("requires skills ")?;
            for (i, (name, level)) in self.skills().iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
                if *level > 0 {
                    write!(f, " ≥ {level}")?;
                }
            }
            write!(f, " ({} match)", self.matching.as_str())?;
        }
        match self.dropped {
            0 => Ok(()),
            1 => f.write_str("; 1 less important skill dropped after waiting"),
            n => write!(f, "; {n} less important skills dropped after waiting"),
        }
    }
}

impl fmt::Display for TraceStep<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ended(state) => write!(f, "conversation is {state}; not routed"),
            Self::RulesNotMatched([r]) => write!(f, "rule {}: condition not met", r.name),
            Self::RulesNotMatched(rules) => {
                f.write_str("rules ")?;
                for (i, r) in rules.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&r.name)?;
                }
                f.write_str(": conditions not met")
            }
            Self::RuleMatched(r) => {
                match &r.condition {
                    Some(_) => write!(f, "rule {}: condition met → queue {}", r.name, r.queue)?,
                    None => write!(
                        f,
                        "rule {}: no condition, matches all → queue {}",
                        r.name, r.queue
                    )?,
                }
                if r.priority != 0 {
                    write!(f, " (priority {})", r.priority)?;
                }
                Ok(())
            }
            Self::RuleSkippedLoop(r) => write!(
                f,
                "rule {}: matched, but queue {} holds only bots that already had this conversation; skipped",
                r.name, r.queue
            ),
            Self::DefaultQueue(q) => write!(f, "no rule matched → default queue {}", q.name),
            Self::DefaultQueueSkippedLoop(q) => write!(
                f,
                "no rule matched; default queue {} holds only bots that already had this conversation",
                q.name
            ),
            Self::NoRuleMatched => f.write_str("no rule matched and there is no default queue"),
            Self::Transfer(q) => write!(f, "transfer → queue {}", q.name),
            Self::Skills(list) => write!(f, "{list}"),
            Self::QueueClosed(q) => write!(
                f,
                "queue {} is outside its operating hours ({}); nobody is given work from it",
                q.name,
                q.operating_hours.as_deref().unwrap_or("none")
            ),
            Self::Overflow(q, rule) => {
                write!(
                    f,
                    "queue {} overflows: {} → {}",
                    q.name, rule.when, rule.then
                )
            }
            Self::PreferredAgent(m, verdict) => {
                write!(f, "preferred agent {}: ", m.id)?;
                match verdict {
                    PreferredVerdict::Picked => f.write_str("free, picked"),
                    PreferredVerdict::WaitingUntil(t) => write!(
                        f,
                        "not free; the conversation waits for them until {}",
                        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                    PreferredVerdict::NotFree => f.write_str("not free; going to the queue"),
                }
            }
            Self::PreferredAgentNotInQueue(q) => write!(
                f,
                "the preferred agent is not a member of queue {}; ignored",
                q.name
            ),
            Self::Member(m, verdict) => {
                let kind = match m.kind {
                    MemberKind::Bot => "bot",
                    MemberKind::Agent => "agent",
                };
                write!(f, "{kind} {}: ", m.id)?;
                write_verdict(f, m.is_bot(), *verdict)
            }
            Self::Offered(m, until) => write!(
                f,
                "offered to agent {} until {}",
                m.id,
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Self::Queued(q, pos) => write!(
                f,
                "nobody free in queue {}: waiting at position {pos}",
                q.name
            ),
            Self::EstimatedWait(d) => write!(
                f,
                "estimated wait {}",
                duration::format(Duration::from_secs(d.as_secs()))
            ),
            Self::QueueFull(q, limit) => write!(
                f,
                "nobody free in queue {} and it is full ({limit} waiting)",
                q.name
            ),
        }
    }
}

fn write_verdict(f: &mut fmt::Formatter<'_>, is_bot: bool, verdict: Verdict) -> fmt::Result {
    match verdict {
        Verdict::Picked if is_bot => f.write_str("picked (bots have first claim)"),
        Verdict::Picked => f.write_str("picked (most free capacity)"),
        Verdict::PickedBy(k) => write!(f, "picked ({})", sort_phrase(k)),
        Verdict::PickedPreferred => f.write_str("picked (preferred agent)"),
        Verdict::PickedClosest => f.write_str("picked (closest skill match)"),
        Verdict::AlreadyHadConversation => f.write_str("not picked: already had this conversation"),
        Verdict::Unavailable(p) => write!(f, "not picked: presence {p:?}"),
        Verdict::NotInQueue => f.write_str("not picked: signed out of this queue"),
        Verdict::AtCapacity { load, capacity } => {
            write!(f, "not picked: at capacity ({load}/{capacity})")
        }
        Verdict::AtKindLimit { max } => write!(
            f,
            "not picked: already holds {max} conversations of this channel kind, its limit"
        ),
        Verdict::LacksSkills => f.write_str("not picked: lacks a required skill or proficiency"),
        Verdict::Declined => f.write_str("not picked: declined this conversation before"),
        Verdict::HeldForPreferred => {
            f.write_str("not considered: the conversation waits for its preferred agent")
        }
        Verdict::BotHadFirstClaim => f.write_str("not considered: a bot had first claim"),
        Verdict::LessFreeCapacity { free, picked_free } => write!(
            f,
            "not picked: {free} free, the picked agent had {picked_free}"
        ),
        Verdict::TieBrokenById { free } => write!(
            f,
            "not picked: tied at {free} free, the tie goes to the lowest id"
        ),
        Verdict::LessCloseSkills => f.write_str("not picked: skills match less closely"),
        Verdict::Outranked(k) => write!(f, "not picked: {}", outranked_phrase(k)),
        Verdict::Tied => f.write_str("not picked: tied, the tie goes to the lowest id"),
    }
}
