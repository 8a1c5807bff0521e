//! Preparing a workstream for routing: member ids become positions, each rule's queue,
//! skills and priority are resolved, skill names become indices, each queue's humans are
//! grouped by identical skills (each group an aligned block of leaves of the queue's
//! tournament tree, so its subtree root is the group's best), and operating hours become
//! schedules.

use std::collections::HashMap;
use std::time::Duration;

use super::assignment::SortKey;
use super::capacity::Capacity;
use super::fxhash::FxBuildHasher;
use super::hours::Schedule;
use super::index::{Segment, segments};
use super::model::{ChannelKind, Member, Workstream};
use super::overflow::OverflowCondition;
use super::skills::{Needs, NeedsByName, SkillId, SkillMatching, closeness, meets_all};

pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// A member's place in one queue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    /// Index into the layout's members.
    pub(crate) member: u32,
    /// Position in the queue's `members`.
    pub(crate) pos: u32,
    /// For a human: its rank among the queue's humans by id (0 sorts first; the first
    /// listed on equal ids).
    pub(crate) rank: u32,
    /// For a human: its skill group, and its leaf in the queue's tree.
    pub(crate) group: u32,
    pub(crate) leaf: u32,
}

/// The humans of one queue with the same skills. Their leaves form an aligned block of the
/// queue's tournament tree, so the block's subtree root is the group's best key.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// The subtree root's index in the state's trees.
    pub(crate) root: usize,
    /// Positions among the queue's humans, by leaf.
    pub(crate) humans: Vec<u32>,
    /// Proficiency + 1 per skill id (0: lacking).
    pub(crate) levels: Box<[u8]>,
}

/// One queue, prepared.
#[derive(Clone, Debug)]
pub(crate) struct QueueLayout {
    pub(crate) bots: Vec<Slot>,
    pub(crate) humans: Vec<Slot>,
    pub(crate) groups: Vec<Group>,
    /// The queue's tournament tree: at `tree_at` in the state's trees, `width` leaves, the
    /// groups' blocks side by side.
    pub(crate) tree_at: usize,
    pub(crate) width: usize,
    /// Position among the humans, by rank.
    pub(crate) by_rank: Vec<u32>,
    /// Per rank among the humans, the position in the queue's `members`.
    pub(crate) pos_by_rank: Vec<u32>,
    /// Where this queue's humans start in the state's per-(queue, human) arrays.
    pub(crate) flat_at: usize,
    pub(crate) keys: Vec<SortKey>,
    pub(crate) matching: SkillMatching,
    /// Index into the layout's schedules.
    pub(crate) hours: Option<u32>,
    pub(crate) priority: i32,
    /// Offer timeout in milliseconds; `None`: assign directly.
    pub(crate) offer_ms: Option<i64>,
    pub(crate) handle_time: Option<Duration>,
    /// The overflow entries checked before queueing, after a wait, and after failed
    /// offers: indices into the queue's `overflow`.
    pub(crate) before: Vec<u32>,
    pub(crate) waited: Option<(u32, i64)>,
    pub(crate) offers_failed: Option<(u32, u32)>,
}

/// One member, prepared.
#[derive(Clone, Debug)]
pub(crate) struct MemberInfo {
    /// `None`: unlimited (a bot without capacity).
    pub(crate) capacity: Option<Capacity>,
    /// Its first listing: (queue, position in the queue's members).
    pub(crate) first: Option<(u32, u32)>,
    /// Where it is a human: (queue, position among the queue's humans).
    pub(crate) humans: Vec<(u32, u32)>,
    /// The same, when it is a human of exactly one queue, kept inline.
    pub(crate) only: Option<(u32, u32)>,
}

/// One rule, prepared.
#[derive(Clone, Debug)]
pub(crate) struct RuleInfo {
    /// Its named skills; complete unless `dynamic`.
    pub(crate) needs: Needs,
    /// Some skills come from a context variable: resolve per conversation.
    pub(crate) dynamic: bool,
    /// Relaxation times in milliseconds after entering the queue.
    pub(crate) relax_ms: Vec<i64>,
    pub(crate) priority: i32,
    /// When its skills are all named: per relaxation stage (skills dropped), the skill
    /// groups of its queue that qualify, with how closely they match, closest first.
    pub(crate) groups: Vec<Box<[(u32, u32)]>>,
    /// The same groups, per stage, as (how closely they match, the index of their subtree
    /// root in the state's trees).
    pub(crate) roots: Vec<Box<[(u32, usize)]>>,
    /// Its queue, when it exists.
    pub(crate) queue: Option<u32>,
}

/// What preparing a workstream produces; shared by a router and its states.
#[derive(Debug)]
pub(crate) struct Layout {
    pub(crate) member_index: FxMap<Box<str>, u32>,
    pub(crate) members: Vec<MemberInfo>,
    /// The length of all trees together.
    pub(crate) tree_len: usize,
    /// The number of (queue, human) pairs.
    pub(crate) flat_len: usize,
    pub(crate) queues: Vec<QueueLayout>,
    pub(crate) queue_index: FxMap<Box<str>, u32>,
    /// Each rule's queue, when it exists.
    pub(crate) rule_queue: Vec<Option<usize>>,
    pub(crate) rules: Vec<RuleInfo>,
    pub(crate) default_queue: Option<usize>,
    pub(crate) segments: Vec<Segment>,
    pub(crate) skills: FxMap<Box<str>, u16>,
    pub(crate) schedules: Vec<Schedule>,
    pub(crate) hours_index: FxMap<Box<str>, u32>,
    /// Queue positions, highest priority first.
    pub(crate) by_priority: Vec<u32>,
    pub(crate) kind: ChannelKind,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Layout {
    pub(crate) fn queue_position(&self, name: &str) -> Option<usize> {
        self.queue_index.get(name).map(|&q| q as usize)
    }

    pub(crate) fn skill(&self, name: &str) -> SkillId {
        self.skills
            .get(name)
            .map_or(SkillId::UNKNOWN, |&i| SkillId(i))
    }

    pub(crate) fn new(ws: &Workstream) -> Self {
        let queue_index: FxMap<Box<str>, u32> = ws
            .queues
            .iter()
            .enumerate()
            .rev() // the first queue of a name wins, as in `Workstream::queue`
            .map(|(i, q)| (q.name.as_str().into(), i as u32))
            .collect();
        let find_queue = |name: &str| queue_index.get(name).map(|&i| i as usize);
        let hours_index: FxMap<Box<str>, u32> = ws
            .operating_hours
            .iter()
            .enumerate()
            .rev()
            .map(|(i, h)| (h.name.as_str().into(), i as u32))
            .collect();
        let schedules = ws.operating_hours.iter().map(Schedule::new).collect();

        let names = skill_names(ws);
        let skills: FxMap<Box<str>, u16> = names
            .iter()
            .enumerate()
            .map(|(i, n)| ((*n).into(), i as u16))
            .collect();
        let levels_of = |m: &Member| -> Box<[u8]> {
            let mut levels = vec![0u8; names.len()];
            for (name, &p) in &m.skills {
                if let Some(&i) = skills.get(name.as_str()) {
                    levels[usize::from(i)] = p.saturating_add(1);
                }
            }
            levels.into()
        };

        let mut ids: Vec<&Member> = ws.queues.iter().flat_map(|q| q.members.iter()).collect();
        ids.sort_by(|a, b| a.id.cmp(&b.id));
        ids.dedup_by(|a, b| a.id == b.id);
        let member_index: FxMap<Box<str>, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.as_str().into(), i as u32))
            .collect();
        let mut members: Vec<MemberInfo> = ids
            .iter()
            .map(|m| MemberInfo {
                capacity: capacity_of(ws, m),
                first: None,
                humans: Vec::new(),
                only: None,
            })
            .collect();

        let mut tree_len = 0;
        let mut flat_len = 0;
        let mut queues = Vec::with_capacity(ws.queues.len());
        for (q, queue) in ws.queues.iter().enumerate() {
            let mut layout = QueueLayout {
                bots: Vec::new(),
                humans: Vec::new(),
                groups: Vec::new(),
                tree_at: 0,
                width: 1,
                by_rank: Vec::new(),
                pos_by_rank: Vec::new(),
                flat_at: flat_len,
                keys: queue.assignment.keys().to_vec(),
                matching: queue.skill_matching.unwrap_or(ws.skill_matching),
                hours: queue
                    .operating_hours
                    .as_deref()
                    .and_then(|h| hours_index.get(h).copied()),
                priority: queue.priority,
                offer_ms: queue.offer.map(|o| ms(o.timeout)),
                handle_time: queue.average_handle_time,
                before: Vec::new(),
                waited: None,
                offers_failed: None,
            };
            let mut group_of: HashMap<Box<[u8]>, u32> = HashMap::new();
            for (pos, m) in queue.members.iter().enumerate() {
                let member = member_index.get(m.id.as_str()).copied().unwrap_or(0);
                if let Some(info) = members.get_mut(member as usize)
                    && info.first.is_none()
                {
                    info.first = Some((q as u32, pos as u32));
                }
                let mut slot = Slot {
                    member,
                    pos: pos as u32,
                    rank: 0,
                    group: 0,
                    leaf: 0,
                };
                if m.is_bot() {
                    layout.bots.push(slot);
                    continue;
                }
                let j = layout.humans.len() as u32;
                let levels = levels_of(m);
                let g = *group_of.entry(levels.clone()).or_insert_with(|| {
                    layout.groups.push(Group {
                        root: 0,
                        humans: Vec::new(),
                        levels,
                    });
                    (layout.groups.len() - 1) as u32
                });
                if let Some(group) = layout.groups.get_mut(g as usize) {
                    slot.group = g;
                    group.humans.push(j);
                }
                if let Some(info) = members.get_mut(member as usize) {
                    info.humans.push((q as u32, j));
                }
                layout.humans.push(slot);
            }
            let mut by_rank: Vec<u32> = (0..layout.humans.len() as u32).collect();
            by_rank.sort_by_key(|&j| {
                let pos = layout.humans[j as usize].pos;
                (queue.members.get(pos as usize).map(|m| m.id.as_str()), pos)
            });
            for (rank, &j) in by_rank.iter().enumerate() {
                layout.humans[j as usize].rank = rank as u32;
            }
            layout.pos_by_rank = by_rank
                .iter()
                .map(|&j| layout.humans[j as usize].pos)
                .collect();
            layout.by_rank = by_rank;
            // Blocks of power-of-two widths, widest first, so each is aligned to its width.
            let mut order: Vec<usize> = (0..layout.groups.len()).collect();
            order.sort_by_key(|&g| std::cmp::Reverse(layout.groups[g].humans.len()));
            let mut base = 0;
            let mut bases = vec![(0, 1); layout.groups.len()];
            for g in order {
                let w = layout.groups[g].humans.len().next_power_of_two();
                bases[g] = (base, w);
                base += w;
            }
            layout.width = base.next_power_of_two().max(1);
            layout.tree_at = tree_len;
            tree_len += 2 * layout.width;
            for (g, group) in layout.groups.iter_mut().enumerate() {
                let (base, w) = bases[g];
                group.root = layout.tree_at + (layout.width + base) / w;
                for (k, &j) in group.humans.iter().enumerate() {
                    if let Some(slot) = layout.humans.get_mut(j as usize) {
                        slot.leaf = (base + k) as u32;
                    }
                }
            }
            flat_len += layout.humans.len();
            for (i, rule) in queue.overflow.iter().enumerate() {
                let i = i as u32;
                match rule.when {
                    c if c.is_before_queueing() => layout.before.push(i),
                    OverflowCondition::WaitedOver(d) if layout.waited.is_none() => {
                        layout.waited = Some((i, ms(d)));
                    }
                    OverflowCondition::OffersFailed(n) if layout.offers_failed.is_none() => {
                        layout.offers_failed = Some((i, n));
                    }
                    _ => {}
                }
            }
            queues.push(layout);
        }

        for info in &mut members {
            if let [one] = info.humans.as_slice() {
                info.only = Some(*one);
            }
        }
        let mut by_priority: Vec<u32> = (0..queues.len() as u32).collect();
        by_priority.sort_by_key(|&q| std::cmp::Reverse(queues[q as usize].priority));

        let lookup = |name: &str| skills.get(name).map_or(SkillId::UNKNOWN, |&i| SkillId(i));
        let rules = ws
            .routing_rules
            .iter()
            .map(|r| {
                let mut named = NeedsByName::new();
                for s in &r.skills {
                    if let Some(name) = &s.name {
                        named.push(name, lookup(name), s.proficiency);
                    }
                }
                let needs = named.finish();
                let dynamic = r.skills.iter().any(|s| s.from.is_some());
                let stages = r.relax_skills_after.len().min(needs.len()) + 1;
                let queue = find_queue(&r.queue);
                let groups: Vec<Box<[(u32, u32)]>> = match queue.and_then(|q| queues.get(q)) {
                    Some(queue) if !dynamic => (0..stages)
                        .map(|k| qualifying(queue, &needs.keep(needs.len() - k)))
                        .collect(),
                    _ => Vec::new(),
                };
                let roots = match queue.and_then(|q| queues.get(q)) {
                    Some(ql) => groups
                        .iter()
                        .map(|stage| {
                            stage
                                .iter()
                                .filter_map(|&(g, fit)| {
                                    Some((fit, ql.groups.get(g as usize)?.root))
                                })
                                .collect()
                        })
                        .collect(),
                    None => Vec::new(),
                };
                RuleInfo {
                    needs,
                    dynamic,
                    relax_ms: r.relax_skills_after.iter().map(|d| ms(*d)).collect(),
                    priority: r.priority,
                    groups,
                    roots,
                    queue: queue.map(|q| q as u32),
                }
            })
            .collect();

        let rule_queue = ws
            .routing_rules
            .iter()
            .map(|r| find_queue(&r.queue))
            .collect();
        let default_queue = ws.default_queue.as_deref().and_then(find_queue);
        Self {
            member_index,
            members,
            tree_len,
            flat_len,
            queues,
            queue_index,
            rule_queue,
            rules,
            default_queue,
            segments: segments(&ws.routing_rules),
            skills,
            schedules,
            hours_index,
            by_priority,
            kind: ws.channel.kind,
        }
    }
}

/// A queue's skill groups that qualify for `needs` (all of them, with closest matching),
/// with how closely they match, closest first.
fn qualifying(queue: &QueueLayout, needs: &Needs) -> Box<[(u32, u32)]> {
    let closest = queue.matching == SkillMatching::Closest;
    let mut groups: Vec<(u32, u32)> = queue
        .groups
        .iter()
        .enumerate()
        .filter_map(|(g, group)| {
            if closest {
                Some((g as u32, closeness(&group.levels, needs)))
            } else {
                meets_all(&group.levels, needs).then_some((g as u32, 0))
            }
        })
        .collect();
    groups.sort_by_key(|&(g, fit)| (std::cmp::Reverse(fit), g));
    groups.into()
}

/// The skill names a workstream uses (agents' and rules'), sorted: a skill's id is its
/// index here.
pub(crate) fn skill_names(ws: &Workstream) -> Vec<&str> {
    let mut names: Vec<&str> = ws
        .queues
        .iter()
        .flat_map(|q| q.members.iter())
        .flat_map(|m| m.skills.keys().map(String::as_str))
        .chain(
            ws.routing_rules
                .iter()
                .flat_map(|r| r.skills.iter().filter_map(|s| s.name.as_deref())),
        )
        .collect();
    names.sort_unstable();
    names.dedup();
    names.truncate(usize::from(u16::MAX - 1));
    names
}

/// A member's capacity: its profile with its own overrides, else `capacity` conversations;
/// `None` for a bot without capacity (unlimited).
fn capacity_of(ws: &Workstream, m: &Member) -> Option<Capacity> {
    match (&m.capacity_profile, m.capacity) {
        (Some(name), _) => ws
            .capacity_profile(name)
            .map(|p| Capacity::from_profile(p, m.units, &m.max))
            .or(Some(Capacity::conversations(0))),
        (None, Some(n)) => Some(Capacity::conversations(n)),
        (None, None) if m.is_bot() => None,
        (None, None) => Some(Capacity::conversations(0)),
    }
}
