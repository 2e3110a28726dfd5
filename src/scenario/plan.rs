//! A scenario checked against its topology: engine changes in time order
//! (ramps and spikes expanded), and the windows its thresholds are judged over.

use super::*;
use crate::sim::TrafficProfile;

impl Scenario {
    /// A scenario made in code (no file): the topology as given, no
    /// timeline, these thresholds. `bottleneck sweep` uses it.
    pub fn adhoc(
        name: &str,
        topology: &str,
        duration: Duration,
        warmup: Duration,
        thresholds: Vec<Threshold>,
    ) -> Scenario {
        let n = thresholds.len();
        Scenario {
            file: "(command line)".into(),
            source: String::new(),
            name: name.into(),
            description: None,
            topology: topology.into(),
            seed: 1,
            duration,
            warmup,
            window: Duration(SEC),
            deadline: None,
            timeline: Vec::new(),
            thresholds,
            expect_fail: vec![false; n],
            item_pos: Vec::new(),
            threshold_pos: vec![None; n],
        }
    }
}

impl Plan {
    /// The same plan with `change` applied at time 0, before anything else
    /// (one point of a sweep).
    pub fn with_change_at_start(&self, change: Change) -> Plan {
        let mut p = self.clone();
        p.steps.insert(
            0,
            Step {
                at: 0,
                after_events: None,
                change,
                place: None,
            },
        );
        p
    }
}

/// One change the engine applies at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// When.
    pub at: SimTime,
    /// After exactly this many events (recorded sessions).
    pub after_events: Option<u64>,
    /// The change.
    pub change: Change,
    /// Where its timeline item is written (`file:line:col`), for an error
    /// the run meets at it; `None` for changes made in code.
    pub place: Option<String>,
}

/// A scenario checked against its topology: engine changes in time order
/// and the windows its thresholds are judged over.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Changes in the order they apply.
    pub steps: Vec<Step>,
    /// Measurement windows `(from, to)`; the first is the whole run.
    pub windows: Vec<(SimTime, SimTime)>,
    /// Per threshold, the index of its window.
    pub window_of: Vec<usize>,
    /// The thresholds.
    pub thresholds: Vec<Threshold>,
    /// The run's configuration (its seed is replaced per replication).
    pub config: RunConfig,
    /// Simulated time to run.
    pub duration: SimTime,
    /// When the timeline's last restoring change happens.
    pub recovery: Option<SimTime>,
    /// What the plan accepted but would not act (a recorded session's
    /// change that did nothing, kept so the session replays as it ran).
    pub warnings: Diagnostics,
}

impl Scenario {
    /// Checks the scenario against the topology's model (node ids, kinds,
    /// windows) and turns it into a [`Plan`]. Errors point into the scenario.
    pub fn plan(&self, model: &Model) -> Result<Plan, Diagnostics> {
        let mut ds = Diagnostics::new(&self.file, &self.source);
        let ids: Vec<&str> = model.nodes.iter().map(|n| n.id.as_str()).collect();
        let index: std::collections::BTreeMap<&str, usize> = ids
            .iter()
            .enumerate()
            .rev()
            .map(|(i, &id)| (id, i))
            .collect();
        let node_index = |id: &str| index.get(id).copied();
        let suggest = std::cell::Cell::new(10 * crate::diag::SUGGEST_CELLS);
        let unknown = |id: &str| {
            let mut budget = suggest.get();
            let near = crate::diag::closest_within(id, ids.iter().copied(), &mut budget);
            suggest.set(budget);
            let hint = match near {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("the topology's nodes are: {}", list_names(&ids)),
            };
            (
                format!(
                    "`{}` is not a node of the topology \"{}\"",
                    short(id),
                    model.name
                ),
                hint,
            )
        };
        // Timeline, sorted by time (stable: file order within an instant).
        let mut order: Vec<usize> = (0..self.timeline.len()).collect();
        order.sort_by_key(|&i| self.timeline[i].at());
        // The open-loop sources' total rate at `t` (their profiles' rates
        // then), which `Rps` scales to its figure.
        let base_rps = |m: &Model, t: SimTime| -> f64 {
            m.sources
                .iter()
                .filter(|s| s.closed.is_none() && s.burst.is_none())
                .map(|s| s.profile.rate(s.rps, t))
                .sum()
        };
        let mut traffic = 1.0f64;
        let mut steps: Vec<Step> = Vec::new();
        // Per step, the timeline item it comes from.
        let mut origin: Vec<usize> = Vec::new();
        // The model as the timeline's structural edits leave it.
        let mut current = model.clone();
        let mut retired = vec![false; model.nodes.len()];
        let mut retired_sources = vec![false; model.sources.len()];
        let mut recovery = None;
        let mut last_exact: Option<(SimTime, u64)> = None;
        for &i in &order {
            let item = &self.timeline[i];
            let at = item.at().0;
            let pos = self.item_pos.get(i).copied().flatten();
            let after_events = match item {
                Item::Exact(_, n, _) => Some(*n),
                Item::At(..) => None,
            };
            let action = item.action();
            let recorded = after_events.is_some();
            if at >= self.duration.0 {
                let d = err_or_warn(
                    !recorded,
                    format!(
                        "timeline item {} at {} is at or after the run's end ({}), so it would change nothing measured",
                        i + 1,
                        item.at(),
                        self.duration
                    ),
                )
                .at(pos)
                .hint("move it before the end, or lengthen `duration`");
                ds.push(d);
                if !recorded {
                    continue;
                }
            }
            let mut bad = false;
            if let Some(n) = after_events {
                if let Some((t0, n0)) = last_exact.filter(|&(_, n0)| n < n0) {
                    ds.push(
                        Diagnostic::error(format!(
                            "this `Exact` item is at {} after {} events, but the one at {} was after {}: a later change cannot come after fewer events",
                            Duration(at),
                            crate::fmt::fmt_count(n),
                            Duration(t0),
                            crate::fmt::fmt_count(n0)
                        ))
                        .at(pos)
                        .hint("`Exact(time, events, ...)` items are what a saved session records; to make changes at times of your own, write `At(\"10s\", ...)`"),
                    );
                    bad = true;
                }
                last_exact = Some((at, n));
            }
            for id in action.nodes() {
                if current.node_index(id).is_none() {
                    let (m, h) = unknown(id);
                    ds.push(Diagnostic::error(m).at(pos).hint(h));
                    bad = true;
                }
            }
            if bad {
                continue;
            }
            if action.restores() {
                recovery = Some(at);
            }
            if steps.len() > MAX_PLAN_STEPS {
                ds.push(
                    Diagnostic::error(format!(
                        "the timeline makes more than {MAX_PLAN_STEPS} changes (a ramp changes the traffic once a second, up to 600 times)"
                    ))
                    .at(pos)
                    .hint("use fewer or shorter ramps"),
                );
                break;
            }
            let first_new = steps.len();
            let place = pos.map(|p| {
                format!(
                    "{}:{}:{} (timeline item {})",
                    self.file,
                    p.line,
                    p.col,
                    i + 1
                )
            });
            let mut push = |at: SimTime, change: Change| {
                steps.push(Step {
                    at,
                    after_events,
                    change,
                    place: place.clone(),
                });
            };
            match action {
                Action::Traffic(m) => {
                    traffic = *m;
                    push(at, Change::Traffic(traffic));
                }
                Action::Rps(r) => {
                    let base_rps = base_rps(&current, at);
                    if base_rps <= 0.0 {
                        ds.push(
                            Diagnostic::error(format!("`Rps` sets the total rate of the open-loop sources at {}, and none sends then", Duration(at)))
                                .at(pos)
                                .hint("closed-loop users set their own pace (change their number, or use `Traffic`); a source silent at this instant (a `Steps` profile at 0) cannot be scaled to a rate"),
                        );
                        continue;
                    }
                    traffic = (r / base_rps).min(crate::sim::MAX_TRAFFIC);
                    push(at, Change::Traffic(traffic));
                }
                Action::Ramp { .. } | Action::Spike { .. } => {
                    let profile = match *action {
                        Action::Ramp { to, over } => TrafficProfile::Ramp { to, over },
                        Action::Spike { times, lasting } => {
                            TrafficProfile::Spike { times, lasting }
                        }
                        _ => unreachable!("matched above"),
                    };
                    let (changes, after) = profile.changes(traffic, at);
                    for (t, m) in changes {
                        push(t, Change::Traffic(m));
                    }
                    traffic = after;
                }
                Action::Restructure { topology, what } => {
                    let edited = match crate::topology::parse(&self.file, topology) {
                        Ok(t) => t,
                        Err(d) => {
                            ds.push(
                                Diagnostic::error(format!(
                                    "the edited topology does not load: {}",
                                    first_line(&d)
                                ))
                                .at(pos)
                                .hint("record the session again"),
                            );
                            continue;
                        }
                    };
                    let was = crate::live::Retired {
                        nodes: &retired,
                        sources: &retired_sources,
                    };
                    match crate::live::restructure(&self.file, &current, was, &edited, what) {
                        Ok(r) => {
                            for &i in &r.retire {
                                retired[i as usize] = true;
                            }
                            retired.resize(r.model.nodes.len(), false);
                            for &s in &r.retire_sources {
                                retired_sources[s as usize] = true;
                            }
                            retired_sources.resize(r.model.sources.len(), false);
                            current = (*r.model).clone();
                            push(at, Change::Restructure(Box::new(r)));
                        }
                        Err(d) => ds.push(
                            Diagnostic::error(format!(
                                "the structural edit does not apply: {}",
                                first_line(&d)
                            ))
                            .at(pos)
                            .hint("record the session again"),
                        ),
                    }
                }
                Action::DownFirst(kind) => {
                    // The first of the kind that traffic reaches (else the
                    // first, which the check below refuses with the reason).
                    let reach = Reach::of(&current);
                    let of_kind = || {
                        current
                            .nodes
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| n.kind_name() == kind.as_str())
                    };
                    match of_kind()
                        .find(|&(j, _)| reach.node(j))
                        .or_else(|| of_kind().next())
                        .map(|(_, n)| n)
                    {
                        Some(n) => push(at, Change::Down(n.id.clone())),
                        None => ds.push(
                            Diagnostic::error(format!("the topology has no {kind} to take down"))
                                .at(pos)
                                .hint(format!("this scenario needs at least one {kind} node")),
                        ),
                    }
                }
                Action::Down(n) => push(at, Change::Down(n.clone())),
                Action::Drain(n) => push(at, Change::Drain(n.clone())),
                Action::Up(n) => push(at, Change::Up(n.clone())),
                Action::Slow { node, factor } => push(
                    at,
                    Change::Slow {
                        node: node.clone(),
                        factor: *factor,
                    },
                ),
                Action::Servers { node, servers } => push(
                    at,
                    Change::Servers {
                        node: node.clone(),
                        servers: *servers,
                    },
                ),
                Action::Instances { node, count } => push(
                    at,
                    Change::Instances {
                        node: node.clone(),
                        count: *count,
                    },
                ),
                Action::Errors { node, rate } => push(
                    at,
                    Change::Errors {
                        node: node.clone(),
                        rate: *rate,
                    },
                ),
                Action::Flush(n) => push(at, Change::Flush(n.clone())),
                Action::Partition { a, b } => push(
                    at,
                    Change::Partition {
                        a: a.clone(),
                        b: b.clone(),
                    },
                ),
                Action::Heal { a, b } => push(
                    at,
                    Change::Heal {
                        a: a.clone(),
                        b: b.clone(),
                    },
                ),
                Action::DownRegion(r) => push(at, Change::DownRegion(r.clone())),
                Action::UpRegion(r) => push(at, Change::UpRegion(r.clone())),
                Action::Shards { node, count } => push(
                    at,
                    Change::Shards {
                        node: node.clone(),
                        count: *count,
                    },
                ),
            }
            // Refuse now, not mid-run, a change the engine would refuse or
            // that would do nothing.
            if let Some(e) = steps[first_new..]
                .iter()
                .find_map(|s| s.change.check(&current).err())
            {
                ds.push(Diagnostic::error(e.message).at(pos).hint(e.hint));
                steps.truncate(first_new);
            }
            origin.resize(steps.len(), i);
        }
        if !ds.has_errors() {
            self.refuse_no_ops(model, &steps, &origin, &mut ds);
        }
        steps.sort_by_key(|s| s.at);
        // Thresholds: nodes and kinds, then windows.
        let end = self.duration.0;
        let mut windows = vec![(self.warmup.0, end)];
        let mut window_of = Vec::new();
        for (k, t) in self.thresholds.iter().enumerate() {
            let pos = self.threshold_pos.get(k).copied().flatten();
            if let Some(id) = &t.node {
                match current.node_index(id).or_else(|| node_index(id)) {
                    None => {
                        let (m, h) = unknown(id);
                        ds.push(Diagnostic::error(m).at(pos).hint(h));
                    }
                    Some(i) => {
                        let n = &current.nodes[i];
                        let read_through = matches!(
                            &n.kind,
                            crate::kinds::KindModel::Cache(c) if c.backend.is_some()
                        );
                        if let Some((m, h)) = t.metric.refuses(id, n.kind_name(), read_through) {
                            ds.push(Diagnostic::error(m).at(pos).hint(h));
                        }
                    }
                }
            }
            if let Some(tag) = &t.tag
                && let Some((m, h)) = unknown_tag(model, tag)
            {
                ds.push(Diagnostic::error(m).at(pos).hint(h));
            }
            let w = match t.window {
                Window::Whole => (self.warmup.0, end),
                Window::During(a, _) if a.0 >= end => {
                    // The file's own duration is checked when it is read;
                    // this is a run shortened from the command line.
                    ds.push(
                        Diagnostic::error(format!(
                            "this threshold's window starts at {a}, when the run ({}) has ended",
                            self.duration
                        ))
                        .at(pos)
                        .hint("run longer, or judge an earlier window"),
                    );
                    (self.warmup.0, end)
                }
                Window::During(a, b) => (a.0, b.map_or(end, |b| b.0.min(end))),
                Window::AfterRecovery(d) => match recovery {
                    Some(r) if r + d.0 < end => (r + d.0, end),
                    Some(r) => {
                        ds.push(
                            Diagnostic::error(format!(
                                "the recovery is at {}, so `within {}` leaves nothing of the run to judge",
                                Duration(r),
                                d
                            ))
                            .at(pos)
                            .hint("shorten `within`, recover earlier, or lengthen the duration"),
                        );
                        (self.warmup.0, end)
                    }
                    None => {
                        ds.push(
                            Diagnostic::error("`after recovery` needs a recovery, and this timeline restores nothing")
                                .at(pos)
                                .hint("add e.g. `At(\"5m\", Up(\"db\"))`, or judge a fixed stretch with `during 5m..`"),
                        );
                        (self.warmup.0, end)
                    }
                },
            };
            let idx = match windows.iter().position(|x| *x == w) {
                Some(i) => i,
                None => {
                    windows.push(w);
                    windows.len() - 1
                }
            };
            window_of.push(idx);
        }
        if ds.has_errors() {
            return Err(ds);
        }
        let config = RunConfig {
            seed: self.seed,
            warmup: self.warmup,
            window: self.window,
            series_capacity: (end / self.window.0.max(1)) as usize + 1,
            deadline: self.deadline,
            ..RunConfig::default()
        };
        Ok(Plan {
            steps,
            windows,
            window_of,
            thresholds: self.thresholds.clone(),
            config,
            duration: end,
            recovery,
            warnings: ds,
        })
    }

    /// Follows the plan's steps in time order on a [`FaultState`] and
    /// refuses every timeline item none of whose changes would act (a
    /// recorded `Exact` item only warns: the session did apply it). The
    /// place is the item's; the message names its time and node.
    fn refuse_no_ops(&self, model: &Model, steps: &[Step], origin: &[usize], ds: &mut Diagnostics) {
        let mut order: Vec<usize> = (0..steps.len()).collect();
        order.sort_by_key(|&k| steps[k].at);
        let mut state = FaultState::new(model);
        let mut m = model;
        let mut acted = vec![false; self.timeline.len()];
        let mut why: Vec<Option<NoEffect>> = vec![None; self.timeline.len()];
        for (n, &k) in order.iter().enumerate() {
            let s = &steps[k];
            state.advance(m, s.at);
            if let Some(e) = replaced_at_once(steps, &order[n + 1..], s, |q| origin[q] + 1) {
                // Nothing is served between two changes at one instant:
                // a setting replaced at once never acts.
                why[origin[k]].get_or_insert(e);
                continue;
            }
            // `Rps` states a rate, which a scenario may name for several
            // topologies (a lesson's before and after): never refused.
            let rps = matches!(self.timeline[origin[k]].action(), Action::Rps(_));
            match state.effect(m, &s.change) {
                _ if rps => acted[origin[k]] = true,
                Ok(()) => acted[origin[k]] = true,
                Err(e) => {
                    why[origin[k]].get_or_insert(e);
                }
            }
            state.apply(m, &s.change);
            if let Change::Restructure(r) = &s.change {
                m = &r.model;
            }
        }
        let mut items: Vec<usize> = origin.to_vec();
        items.dedup();
        for i in items {
            let (false, Some(e)) = (acted[i], why[i].take()) else {
                continue;
            };
            let item = &self.timeline[i];
            let recorded = matches!(item, Item::Exact(..));
            let place = match &e.node {
                Some(n) => format!("timeline item {} at {}, `{}`", i + 1, item.at(), short(n)),
                None => format!("timeline item {} at {}", i + 1, item.at()),
            };
            let hint = if recorded {
                format!(
                    "{} (a recorded change: kept, so the session replays as it ran)",
                    e.hint
                )
            } else {
                e.hint
            };
            ds.push(
                err_or_warn(!recorded, e.message)
                    .at(self.item_pos.get(i).copied().flatten())
                    .on(place)
                    .hint(hint),
            );
        }
    }
}

/// Why step `s` never acts when a later step at the same instant (`later`,
/// in time order; `item` numbers a step's timeline item) sets the same
/// setting of the same node: a `Slow` or `Errors`, which only requests
/// starting or ending service read, and none does between two changes at
/// one instant. Recorded (`Exact`) steps replay as the session ran: never.
fn replaced_at_once(
    steps: &[Step],
    later: &[usize],
    s: &Step,
    item: impl Fn(usize) -> usize,
) -> Option<NoEffect> {
    if s.after_events.is_some() {
        return None;
    }
    let (node, what) = match &s.change {
        Change::Slow { node, .. } => (node, "slow-down"),
        Change::Errors { node, .. } => (node, "error rate"),
        _ => return None,
    };
    let q = later
        .iter()
        .copied()
        .take_while(|&q| steps[q].at == s.at)
        .find(|&q| {
            steps[q].after_events.is_none()
                && match (&s.change, &steps[q].change) {
                    (Change::Slow { .. }, Change::Slow { node: b, .. })
                    | (Change::Errors { .. }, Change::Errors { node: b, .. }) => b == node,
                    _ => false,
                }
        })?;
    Some(NoEffect {
        node: Some(node.clone()),
        message: format!(
            "timeline item {} sets `{node}`'s {what} again at the same instant ({}), so this one never acts",
            item(q),
            Duration(s.at)
        ),
        hint: "nothing is served between two changes at one instant; keep the one you mean, or move the other to a later time".into(),
    })
}

/// An error, or a warning when `error` is false.
fn err_or_warn(error: bool, message: impl Into<String>) -> Diagnostic {
    if error {
        Diagnostic::error(message)
    } else {
        Diagnostic::warning(message)
    }
}

/// The first line of a set of diagnostics (the error itself).
fn first_line(d: &Diagnostics) -> String {
    d.to_string().lines().next().unwrap_or_default().to_string()
}

/// Why a threshold's tag names nothing in the model, with the known names.
fn unknown_tag(model: &Model, tag: &super::threshold::Tag) -> Option<(String, String)> {
    use super::threshold::Tag;
    let (what, whats, name, known): (&str, &str, &str, Vec<&str>) = match tag {
        Tag::Class(c) => (
            "class",
            "classes",
            c,
            model.classes.iter().map(String::as_str).collect(),
        ),
        Tag::Source(s) => (
            "source",
            "sources",
            s,
            model.sources.iter().map(|s| s.id.as_str()).collect(),
        ),
    };
    if known.contains(&name) {
        return None;
    }
    let list = list_names(&known);
    let hint = match crate::diag::closest(name, known.iter().copied()) {
        Some(c) => format!("did you mean `{c}`? (the {whats} are: {list})"),
        None => format!("the topology's {whats} are: {list}"),
    };
    let hint = if what == "class" && model.classes.len() == 1 {
        format!(
            "{hint}; classes come from the sources' `mix`, e.g. `mix: {{\"browse\": 0.9, \"order\": 0.1}}`"
        )
    } else {
        hint
    };
    Some((
        format!(
            "the topology \"{}\" has no {what} `{}`",
            model.name,
            short(name)
        ),
        hint,
    ))
}
