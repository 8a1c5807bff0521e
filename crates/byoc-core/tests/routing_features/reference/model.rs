//! The reference router: the documented semantics, written straightforwardly (a scan of
//! every rule and member per decision), for the property test to compare against.

use super::*;

/// A decision, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Got {
    Assigned(String),
    Offered(String),
    Queued(u32),
    Full,
    Ended,
    Unrouted,
}

#[derive(Clone, Debug)]
pub(super) struct RefItem {
    id: String,
    queue: usize,
    rule: Option<usize>,
    priority: i32,
    entered: DateTime<Utc>,
    order: u64,
    needs: Vec<(String, u8)>,
    hold: Option<(String, DateTime<Utc>)>,
    offered: Option<String>,
}

/// Everything the reference knows: the same facts the router's state holds, kept in plain
/// maps.
pub(super) struct Reference<'w> {
    pub(super) ws: &'w Workstream,
    pub(super) members: HashMap<String, MemberState>,
    pub(super) signed_out: HashSet<(usize, String)>,
    pub(super) waiting: Vec<u32>,
    pub(super) reserved: HashMap<String, u32>,
    pub(super) turns: HashMap<(usize, String), u64>,
    pub(super) turn: u64,
    pub(super) items: Vec<RefItem>,
    pub(super) order: u64,
}

pub(super) fn cost(ws: &Workstream, m: &Member) -> (u64, u64, u64) {
    // (units, chat cost, chat max)
    match &m.capacity_profile {
        Some(p) => {
            let p = ws.capacity_profile(p).unwrap();
            let units = m.units.unwrap_or(p.units);
            let max = m.max.chat.or(p.max.chat).map_or(u64::MAX, u64::from);
            (u64::from(units), u64::from(p.cost.chat.unwrap_or(1)), max)
        }
        None => (u64::from(m.capacity.unwrap_or(0)), 1, u64::MAX),
    }
}

impl<'w> Reference<'w> {
    pub(super) fn state(&self, id: &str, bot: bool) -> MemberState {
        self.members.get(id).copied().unwrap_or(if bot {
            MemberState::default()
        } else {
            MemberState::new(Presence::Offline, 0)
        })
    }

    /// (free units, fits one more chat), offers outstanding included.
    pub(super) fn room(&self, m: &Member) -> (u64, bool) {
        let s = self.state(&m.id, m.is_bot());
        if m.is_bot() && m.capacity.is_none() {
            return (u64::MAX, true);
        }
        let (units, chat_cost, chat_max) = cost(self.ws, m);
        let reserved = u64::from(self.reserved.get(&m.id).copied().unwrap_or(0));
        let (ck, sk, mk) = (
            u64::from(s.by_kind.chat),
            u64::from(s.by_kind.sms),
            u64::from(s.by_kind.messaging),
        );
        let untyped = u64::from(s.load.saturating_sub(s.by_kind.total()));
        let used = if m.capacity_profile.is_some() {
            (ck + reserved + untyped) * chat_cost + sk + mk
        } else {
            ck + sk + mk + reserved + untyped
        };
        let free = units.saturating_sub(used);
        (
            free,
            free >= chat_cost && ck + reserved + untyped < chat_max,
        )
    }

    pub(super) fn can_work(&self, q: usize, m: &Member) -> bool {
        let s = self.state(&m.id, false);
        s.presence.accepts_work() && !self.signed_out.contains(&(q, m.id.clone())) && self.room(m).1
    }

    pub(super) fn meets(m: &Member, needs: &[(String, u8)]) -> bool {
        needs
            .iter()
            .all(|(s, l)| m.skills.get(s).is_some_and(|have| have >= l))
    }

    pub(super) fn closeness(m: &Member, needs: &[(String, u8)]) -> (u32, u32, i64) {
        let (mut met, mut held, mut distance) = (0, 0, 0i64);
        for (s, l) in needs {
            if let Some(&have) = m.skills.get(s) {
                held += 1;
                if have >= *l {
                    met += 1;
                }
                distance += i64::from(have.abs_diff(*l));
            }
        }
        (met, held, -distance.min(255))
    }

    /// The method's sort keys for a member, larger is better, then the id (reversed).
    pub(super) fn rank(&self, q: usize, m: &Member) -> Vec<i128> {
        let queue = &self.ws.queues[q];
        let s = self.state(&m.id, false);
        let reserved = self.reserved.get(&m.id).copied().unwrap_or(0);
        // Never idle-stamped counts as idle longest.
        let idle = s
            .idle_since
            .map_or(i128::MIN + 1, |t| i128::from(t.timestamp()));
        queue
            .assignment
            .keys()
            .iter()
            .map(|k| match k {
                SortKey::FreeCapacity => i128::from(self.room(m).0.min(u64::from(u32::MAX))),
                SortKey::LeastLoad => -i128::from(s.total_load() + reserved),
                SortKey::LongestIdle => -idle,
                SortKey::RoundRobin => {
                    -i128::from(self.turns.get(&(q, m.id.clone())).copied().unwrap_or(0))
                }
                _ => 0,
            })
            .collect()
    }

    pub(super) fn best(&self, q: usize, needs: &[(String, u8)]) -> Option<&'w Member> {
        let queue = &self.ws.queues[q];
        let closest = queue.skill_matching == Some(SkillMatching::Closest);
        let mut humans: Vec<&Member> = queue
            .members
            .iter()
            .filter(|m| !m.is_bot() && self.can_work(q, m))
            .filter(|m| closest || Self::meets(m, needs))
            .collect();
        humans.sort_by(|a, b| a.id.cmp(&b.id));
        humans.into_iter().rev().max_by_key(|m| {
            let fit = if closest && !needs.is_empty() {
                Self::closeness(m, needs)
            } else {
                (0, 0, 0)
            };
            (fit, self.rank(q, m))
        })
    }

    pub(super) fn needs(&self, rule: Option<usize>, conv: &Conversation) -> Vec<(String, u8)> {
        let Some(r) = rule.map(|r| &self.ws.routing_rules[r]) else {
            return Vec::new();
        };
        let mut needs: Vec<(String, u8)> = Vec::new();
        for s in &r.skills {
            let mut push = |name: &str, level: u8| {
                if needs.len() < 8 && !needs.iter().any(|(n, _)| n == name) {
                    needs.push((name.to_owned(), level));
                }
            };
            if let Some(name) = &s.name {
                push(name, s.proficiency);
            }
            if s.from.is_some() {
                let text = conv
                    .context_value("S")
                    .and_then(|v| v.value.as_str().map(str::to_owned));
                for entry in text.unwrap_or_default().split(',') {
                    let entry = entry.trim();
                    let (name, level) = match entry.split_once(':') {
                        Some((n, l)) => match l.trim().parse::<u8>() {
                            Ok(l) if l <= 5 => (n.trim(), l),
                            _ => continue,
                        },
                        None => (entry, s.proficiency),
                    };
                    if !name.is_empty() {
                        push(name, level);
                    }
                }
            }
        }
        needs
    }

    pub(super) fn is_open(&self, q: usize, now: DateTime<Utc>) -> bool {
        self.ws.queues[q]
            .operating_hours
            .as_deref()
            .is_none_or(|h| self.ws.hours(h).unwrap().is_open_at(now))
    }

    pub(super) fn can_take(&self, q: usize, conv: &Conversation) -> bool {
        self.ws.queues[q]
            .members
            .iter()
            .any(|m| !m.is_bot() || !conv.has_visited_bot(&m.id))
    }

    pub(super) fn queue_of(&self, name: &str) -> usize {
        self.ws.queues.iter().position(|q| q.name == name).unwrap()
    }

    pub(super) fn waiting_in(&self, q: usize) -> u32 {
        self.waiting[q] + self.items.iter().filter(|i| i.queue == q).count() as u32
    }

    /// Decides, and records when `record`.
    pub(super) fn decide(
        &mut self,
        conv: &Conversation,
        now: DateTime<Utc>,
        record: bool,
    ) -> (Option<String>, Option<String>, Got) {
        let ws = self.ws;
        let rule = ws.routing_rules.iter().position(|r| {
            r.condition
                .as_ref()
                .is_none_or(|c| c.matches_at(conv, ws, now))
                && self.can_take(self.queue_of(&r.queue), conv)
        });
        let (mut q, rule) = match rule {
            Some(r) => (self.queue_of(&ws.routing_rules[r].queue), Some(r)),
            None => match &ws.default_queue {
                Some(d) if self.can_take(self.queue_of(d), conv) => (self.queue_of(d), None),
                _ => return (None, None, Got::Unrouted),
            },
        };
        let rule_name = rule.map(|r| ws.routing_rules[r].name.clone());
        let needs = self.needs(rule, conv);
        let priority = rule.map_or(0, |r| ws.routing_rules[r].priority);
        let preferred = rule.and_then(|r| ws.routing_rules[r].preferred_agent.as_ref());
        let mut check = true;
        loop {
            let queue = &ws.queues[q];
            let open = self.is_open(q, now);
            let mut hold = None;
            if open {
                if let Some(bot) = queue.members.iter().find(|m| {
                    m.is_bot()
                        && !conv.has_visited_bot(&m.id)
                        && self.state(&m.id, true).presence.accepts_work()
                        && self.room(m).1
                }) {
                    if record {
                        self.add_load(&bot.id);
                    }
                    return (
                        rule_name,
                        Some(queue.name.clone()),
                        Got::Assigned(bot.id.clone()),
                    );
                }
                let wanted = preferred.and_then(|p| {
                    let id = conv.context_value("P")?.value.as_str()?.to_owned();
                    let m = queue.members.iter().find(|m| m.id == id && !m.is_bot())?;
                    Some((m, p.wait))
                });
                let mut chosen = None;
                if let Some((m, wait)) = wanted {
                    let closest = queue.skill_matching == Some(SkillMatching::Closest);
                    if self.can_work(q, m) && (closest || Self::meets(m, &needs)) {
                        chosen = Some(m);
                    } else if !wait.is_zero() {
                        hold = Some((m.id.clone(), now + Span::from_std(wait).unwrap()));
                    }
                }
                if chosen.is_none() && hold.is_none() {
                    chosen = self.best(q, &needs);
                }
                if let Some(m) = chosen {
                    let got = if queue.offer.is_some() {
                        Got::Offered(m.id.clone())
                    } else {
                        Got::Assigned(m.id.clone())
                    };
                    if record {
                        self.take(q, &m.id, queue.offer.is_some());
                        if queue.offer.is_some() {
                            self.order += 1;
                            self.items.push(RefItem {
                                id: conv.id.clone(),
                                queue: q,
                                rule,
                                priority,
                                entered: now,
                                order: self.order,
                                needs: needs.clone(),
                                hold: None,
                                offered: Some(m.id.clone()),
                            });
                        }
                    }
                    return (rule_name, Some(queue.name.clone()), got);
                }
            }
            let waiting = self.waiting_in(q);
            if check && let Some(o) = queue.overflow.first() {
                let holds = match o.when {
                    OverflowCondition::Closed => !open,
                    OverflowCondition::WaitingOver(n) => waiting >= n,
                    _ => false,
                };
                if holds {
                    match &o.then {
                        OverflowAction::Transfer(t) => {
                            q = self.queue_of(t);
                            check = false;
                            continue;
                        }
                        OverflowAction::End(_) => {
                            return (rule_name, Some(queue.name.clone()), Got::Ended);
                        }
                        _ => {}
                    }
                }
            }
            if queue.max_waiting.is_some_and(|l| waiting >= l) {
                return (rule_name, Some(queue.name.clone()), Got::Full);
            }
            let ahead = self
                .items
                .iter()
                .filter(|i| {
                    i.queue == q
                        && (i.priority > priority || (i.priority == priority && i.entered <= now))
                })
                .count() as u32;
            if record {
                self.order += 1;
                self.items.push(RefItem {
                    id: conv.id.clone(),
                    queue: q,
                    rule,
                    priority,
                    entered: now,
                    order: self.order,
                    needs,
                    hold,
                    offered: None,
                });
            }
            return (
                rule_name,
                Some(queue.name.clone()),
                Got::Queued(self.waiting[q] + ahead + 1),
            );
        }
    }

    pub(super) fn add_load(&mut self, id: &str) {
        let s = self.members.entry(id.to_owned()).or_default();
        s.load += 1;
        s.by_kind.chat += 1;
    }

    pub(super) fn take(&mut self, q: usize, id: &str, offer: bool) {
        self.turn += 1;
        self.turns.insert((q, id.to_owned()), self.turn);
        if offer {
            *self.reserved.entry(id.to_owned()).or_default() += 1;
        } else {
            self.add_load(id);
        }
    }

    pub(super) fn sorted_items(&self, q: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.items.len())
            .filter(|&i| self.items[i].queue == q)
            .collect();
        idx.sort_by_key(|&i| {
            let it = &self.items[i];
            (std::cmp::Reverse(it.priority), it.entered, it.order)
        });
        idx
    }

    /// Serves waiting conversations: queues by priority, items in order.
    pub(super) fn serve(&mut self, now: DateTime<Utc>) {
        let ws = self.ws;
        let mut queues: Vec<usize> = (0..ws.queues.len()).collect();
        queues.sort_by_key(|&q| std::cmp::Reverse(ws.queues[q].priority));
        for q in queues {
            if !self.is_open(q, now) {
                continue;
            }
            for i in self.sorted_items(q) {
                let item = self.items[i].clone();
                if item.offered.is_some() {
                    continue;
                }
                let relax = item.rule.map_or(&[][..], |r| {
                    ws.routing_rules[r].relax_skills_after.as_slice()
                });
                let dropped = relax
                    .iter()
                    .filter(|d| now - item.entered >= Span::from_std(**d).unwrap())
                    .count()
                    .min(item.needs.len());
                let needs = &item.needs[..item.needs.len() - dropped];
                let queue = &ws.queues[q];
                let chosen = match &item.hold {
                    Some((p, until)) if now < *until => queue.members.iter().find(|m| {
                        m.id == *p
                            && self.can_work(q, m)
                            && (queue.skill_matching == Some(SkillMatching::Closest)
                                || Self::meets(m, needs))
                    }),
                    _ => self.best(q, needs),
                };
                if let Some(m) = chosen {
                    let offer = queue.offer.is_some();
                    self.take(q, &m.id, offer);
                    if offer {
                        self.items[i].offered = Some(m.id.clone());
                    } else {
                        self.items[i].queue = usize::MAX; // gone
                    }
                }
            }
            self.items.retain(|i| i.queue != usize::MAX);
        }
    }

    pub(super) fn places(&self, q: usize) -> Vec<(String, u32, Option<String>)> {
        self.sorted_items(q)
            .into_iter()
            .enumerate()
            .map(|(n, i)| {
                let it = &self.items[i];
                (
                    it.id.clone(),
                    self.waiting[q] + n as u32 + 1,
                    it.offered.clone(),
                )
            })
            .collect()
    }
}

// ------------------------------------------------------------------ the steps
