//! A session's compiled form: its tasks (the leaves, in the order written)
//! and its lists (set 0 is the session itself, nested sets after it).

use super::{Interrupt, OnFailure, Order, Repeat, Spec, Step, TaskKey};
use crate::keys::KeySampler;
use std::collections::BTreeMap;

/// Where a task's key comes from, compiled.
#[derive(Clone, Debug)]
pub enum KeyRule {
    /// The source's `keys` (key 1 without them).
    Source,
    /// The task's own law.
    Draw(KeySampler),
    /// The user's previous request's key (the source's, first in a session).
    Previous,
    /// The user's own key (index + 1).
    User,
}

/// A task, compiled.
#[derive(Clone, Debug)]
pub struct TaskModel {
    /// Class index.
    pub class: u16,
    /// Requests in a row, at least 1.
    pub repeat: u32,
    /// Where its key comes from.
    pub key: KeyRule,
}

/// One entry of a list, compiled: an index into the tasks or the sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Child {
    /// `SessionModel::tasks[i]`.
    Task(u16),
    /// `SessionModel::sets[i]`.
    Set(u16),
}

/// When a list is left, compiled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum End {
    /// After its last entry (a sequence without `interrupt`).
    Walked,
    /// After this many entries.
    After(u32),
    /// After each entry, with this probability.
    Chance(f64),
}

/// A list of tasks (the session's own, or a nested set's), compiled.
#[derive(Clone, Debug)]
pub struct SetModel {
    /// Its entries.
    pub children: Vec<Child>,
    /// Weighted: the cumulative shares of its entries (the last is 1);
    /// empty for a sequence.
    pub cumulative: Vec<f64>,
    /// When the user leaves it.
    pub end: End,
    /// Its place among the tasks (`3.1`: the first entry of the set at
    /// place 3); empty for the session's own list.
    pub place: String,
}

impl SetModel {
    /// The entry a uniform draw `u` in [0, 1) picks (weighted lists).
    pub fn pick(&self, u: f64) -> usize {
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.children.len() - 1)
    }

    /// True when walking it draws random numbers (a weighted pick or a
    /// `Chance` interrupt).
    pub fn random(&self) -> bool {
        !self.cumulative.is_empty() || matches!(self.end, End::Chance(_))
    }
}

/// A session source's sessions, compiled.
#[derive(Clone, Debug)]
pub struct SessionModel {
    /// The tasks (every leaf, nested ones included), in the order written.
    pub tasks: Vec<TaskModel>,
    /// The lists: 0 is the session's own, nested sets after it.
    pub sets: Vec<SetModel>,
    /// Each user walks the tasks once, then leaves.
    pub once: bool,
    /// A failure ends the session (else it goes on).
    pub abandon: bool,
}

impl SessionModel {
    /// Compiles checked settings; `class_of` gives a class's index.
    pub fn compile(spec: &Spec, class_of: impl Fn(&str) -> u16) -> Self {
        let mut m = SessionModel {
            tasks: Vec::new(),
            sets: Vec::new(),
            once: spec.sessions == Some(Repeat::Once),
            abandon: spec.on_failure.unwrap_or_default() == OnFailure::Abandon,
        };
        m.add_set(
            spec.tasks,
            spec.order,
            spec.interrupt,
            String::new(),
            &class_of,
        );
        m
    }

    fn add_set(
        &mut self,
        steps: &[Step],
        order: Option<Order>,
        interrupt: Option<Interrupt>,
        place: String,
        class_of: &impl Fn(&str) -> u16,
    ) -> u16 {
        let me = self.sets.len();
        self.sets.push(SetModel {
            children: Vec::new(),
            cumulative: Vec::new(),
            end: match interrupt {
                None => End::Walked,
                Some(Interrupt::After(n)) => End::After(n.max(1)),
                Some(Interrupt::Chance(p)) => End::Chance(p),
            },
            place: place.clone(),
        });
        let mut children = Vec::with_capacity(steps.len());
        let mut weights = Vec::with_capacity(steps.len());
        for (k, s) in steps.iter().enumerate() {
            match s {
                Step::Task(t) => {
                    weights.push(t.weight.unwrap_or(1.0));
                    children.push(Child::Task(self.tasks.len() as u16));
                    self.tasks.push(TaskModel {
                        class: class_of(&t.class),
                        repeat: t.repeat.unwrap_or(1).max(1),
                        key: match (&t.keys, t.key) {
                            (Some(k), _) => KeyRule::Draw(k.sampler()),
                            (None, Some(TaskKey::Previous)) => KeyRule::Previous,
                            (None, Some(TaskKey::User)) => KeyRule::User,
                            (None, None) => KeyRule::Source,
                        },
                    });
                }
                Step::Set(set) => {
                    weights.push(set.weight.unwrap_or(1.0));
                    let at = if place.is_empty() {
                        format!("{}", k + 1)
                    } else {
                        format!("{place}.{}", k + 1)
                    };
                    let i = self.add_set(&set.tasks, set.order, set.interrupt, at, class_of);
                    children.push(Child::Set(i));
                }
            }
        }
        if order == Some(Order::Weighted) {
            let total: f64 = weights.iter().sum();
            let mut cum = 0.0;
            self.sets[me].cumulative = weights
                .iter()
                .map(|w| {
                    cum += w;
                    cum / total
                })
                .collect();
            if let Some(last) = self.sets[me].cumulative.last_mut() {
                *last = 1.0;
            }
        }
        self.sets[me].children = children;
        me as u16
    }

    /// True when a user's walk draws random numbers (a weighted list or a
    /// `Chance` interrupt somewhere).
    pub fn random(&self) -> bool {
        self.sets.iter().any(SetModel::random)
    }

    /// Requests in one whole session when that is fixed (sequences walked
    /// once, weighted lists with `After(n)` of tasks of equal size);
    /// `u64::MAX` when it varies (no bound).
    pub fn requests(&self) -> u64 {
        self.fixed(Child::Set(0)).unwrap_or(u64::MAX)
    }

    /// The requests `child` sends each time it is walked, if fixed.
    pub fn fixed(&self, child: Child) -> Option<u64> {
        match child {
            Child::Task(t) => Some(self.tasks[t as usize].repeat as u64),
            Child::Set(s) => {
                let set = &self.sets[s as usize];
                let each: Option<Vec<u64>> = set.children.iter().map(|&c| self.fixed(c)).collect();
                let each = each?;
                match set.end {
                    End::Walked => Some(each.iter().sum()),
                    End::Chance(_) => None,
                    End::After(n) if set.cumulative.is_empty() => {
                        let len = each.len() as u64;
                        let (full, part) = (n as u64 / len, n as u64 % len);
                        Some(
                            full * each.iter().sum::<u64>()
                                + each[..part as usize].iter().sum::<u64>(),
                        )
                    }
                    End::After(n) => {
                        let first = each[0];
                        each.iter().all(|&e| e == first).then_some(first * n as u64)
                    }
                }
            }
        }
    }

    /// Expected requests per class each time `child` is walked.
    fn expected(&self, child: Child, out: &mut BTreeMap<u16, f64>, times: f64) {
        match child {
            Child::Task(t) => {
                let t = &self.tasks[t as usize];
                *out.entry(t.class).or_default() += times * t.repeat as f64;
            }
            Child::Set(s) => {
                let set = &self.sets[s as usize];
                let len = set.children.len();
                for (i, &c) in set.children.iter().enumerate() {
                    // How often entry `i` is walked per visit of the set.
                    let share = if set.cumulative.is_empty() {
                        match set.end {
                            End::Walked => 1.0,
                            End::After(n) => {
                                ((n as usize / len) + usize::from(i < n as usize % len)) as f64
                            }
                            End::Chance(p) => 1.0 / p / len as f64,
                        }
                    } else {
                        let w =
                            set.cumulative[i] - if i == 0 { 0.0 } else { set.cumulative[i - 1] };
                        w * match set.end {
                            End::After(n) => n as f64,
                            End::Chance(p) => 1.0 / p,
                            End::Walked => 1.0,
                        }
                    };
                    self.expected(c, out, times * share);
                }
            }
        }
    }

    /// The classes' expected shares of the session's requests, as a
    /// source's mix (cumulative share, class), merged and sorted by class.
    pub fn mix(&self) -> Vec<(f64, u16)> {
        let mut per = BTreeMap::new();
        self.expected(Child::Set(0), &mut per, 1.0);
        let total: f64 = per.values().sum::<f64>().max(f64::MIN_POSITIVE);
        let mut cum = 0.0;
        per.into_iter()
            .map(|(c, n)| {
                cum += n / total;
                (cum, c)
            })
            .collect()
    }
}
