//! Scenarios: a topology, a seed, a timeline of changes and thresholds.
//!
//! A scenario file reads like a test plan:
//!
//! ```ron
//! Scenario(
//!     name: "One replica down at 3x peak",
//!     topology: "read-replicas.ron",      // relative to the scenario file
//!     seed: 7,
//!     duration: "10m",
//!     warmup: "1m",
//!     timeline: [
//!         At("2m", Traffic(3.0)),
//!         At("4m", Down("replica-1")),
//!         At("6m", Up("replica-1")),
//!     ],
//!     thresholds: [
//!         "p99 < 200ms",
//!         "error_rate < 0.1%",
//!         "utilization(db) < 0.8 during 2m..10m",
//!         "error_rate < 1% after recovery within 30s",
//!     ],
//! )
//! ```
//!
//! [`parse`] reads the file; [`Scenario::plan`] checks it against the
//! topology's model and turns the timeline into engine [`Change`]s; [`run`]
//! simulates one seed and measures every threshold; [`judge`] decides pass or
//! fail over one or more replications. Reading files and running seeds in
//! parallel is the front end's job: the engine stays free of I/O and threads.
//!
//! A scenario that shows a wall ("before" the fix) lists the thresholds it is
//! expected to fail in `expect_fail`; it is as expected when exactly those
//! fail. A "before" scenario thus fails for the reason it names, not any.

mod stats;
mod threshold;

pub mod drill;

pub use stats::Estimate;
pub use threshold::{METRICS, Metric, Op, Threshold, ThresholdError, Unit, Window, show};

use crate::diag::{Diagnostic, Diagnostics, LineIndex, Pos, list_names, short};
use crate::model::Model;
use crate::report::Report;
use crate::sim::{AppliedChange, Change, RunConfig, Simulation};
use crate::time::{Duration, SEC, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Most timeline items in a scenario.
pub const MAX_TIMELINE: usize = 10_000;
/// Most thresholds in a scenario.
pub const MAX_THRESHOLDS: usize = 200;
/// Most engine changes a timeline may expand to (ramps count once a second).
pub const MAX_PLAN_STEPS: usize = 100_000;
/// Longest scenario (simulated).
pub const MAX_DURATION: Duration = Duration(24 * 3600 * SEC);

/// Something the timeline does at a time.
///
/// The variants that are engine changes mirror [`Change`] one for one, so a
/// scenario reads `Down("db")` rather than `Change(Down("db"))`; RON cannot
/// flatten an enum into another without untagged variants, whose errors lose
/// the place and the hint. [`Action::to_change`] and [`Action::from_change`]
/// are the only bridge, and the compiler checks both are exhaustive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Multiply every source's rate (1.0 is the topology's rate).
    Traffic(f64),
    /// Set the total rate of the open-loop sources, in requests per second.
    Rps(f64),
    /// Move the traffic multiplier linearly to `to` over `over`, in steps of
    /// a second.
    Ramp {
        /// Multiplier at the end.
        to: f64,
        /// How long the ramp takes.
        over: Duration,
    },
    /// Multiply traffic by `times` for `lasting`, then go back.
    Spike {
        /// Multiplier on top of the current one.
        times: f64,
        /// How long the spike lasts.
        lasting: Duration,
    },
    /// Take a node down.
    Down(String),
    /// Bring a node back.
    Up(String),
    /// Take down the first node of a kind (drills, whose topologies are the
    /// learner's own): `DownFirst("Replica")`.
    DownFirst(String),
    /// Multiply a node's service times (1.0 restores it).
    Slow {
        /// Node id.
        node: String,
        /// Service-time multiplier.
        factor: f64,
    },
    /// Set a node's servers.
    Servers {
        /// Node id.
        node: String,
        /// Servers.
        servers: u32,
    },
    /// Set an app's instances (workers, queue and pool follow).
    Instances {
        /// App id.
        node: String,
        /// Instances.
        count: u32,
    },
    /// Make a share of a node's requests fail (0 restores it).
    Errors {
        /// Node id.
        node: String,
        /// Probability of failure, 0 to 1.
        rate: f64,
    },
    /// Empty a cache.
    Flush(String),
    /// Cut the network between two nodes.
    Partition {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Restore the network between two nodes.
    Heal {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Take a region down.
    DownRegion(String),
    /// Bring a region back.
    UpRegion(String),
    /// Use the first `count` shards of a shard router.
    Shards {
        /// The shard router.
        node: String,
        /// Shards in use.
        count: u32,
    },
}

impl Action {
    /// The action that applies an engine change as it is.
    pub fn from_change(c: &Change) -> Action {
        match c.clone() {
            Change::Traffic(m) => Action::Traffic(m),
            Change::Down(n) => Action::Down(n),
            Change::Up(n) => Action::Up(n),
            Change::Slow { node, factor } => Action::Slow { node, factor },
            Change::Servers { node, servers } => Action::Servers { node, servers },
            Change::Instances { node, count } => Action::Instances { node, count },
            Change::Errors { node, rate } => Action::Errors { node, rate },
            Change::Flush(n) => Action::Flush(n),
            Change::Partition { a, b } => Action::Partition { a, b },
            Change::Heal { a, b } => Action::Heal { a, b },
            Change::DownRegion(r) => Action::DownRegion(r),
            Change::UpRegion(r) => Action::UpRegion(r),
            Change::Shards { node, count } => Action::Shards { node, count },
        }
    }

    /// The engine change this action is, when it is exactly one (not a
    /// ramp, spike, rate or kind-relative action).
    pub fn to_change(&self) -> Option<Change> {
        Some(match self.clone() {
            Action::Traffic(m) => Change::Traffic(m),
            Action::Down(n) => Change::Down(n),
            Action::Up(n) => Change::Up(n),
            Action::Slow { node, factor } => Change::Slow { node, factor },
            Action::Servers { node, servers } => Change::Servers { node, servers },
            Action::Instances { node, count } => Change::Instances { node, count },
            Action::Errors { node, rate } => Change::Errors { node, rate },
            Action::Flush(n) => Change::Flush(n),
            Action::Partition { a, b } => Change::Partition { a, b },
            Action::Heal { a, b } => Change::Heal { a, b },
            Action::DownRegion(r) => Change::DownRegion(r),
            Action::UpRegion(r) => Change::UpRegion(r),
            Action::Shards { node, count } => Change::Shards { node, count },
            Action::Rps(_) | Action::Ramp { .. } | Action::Spike { .. } | Action::DownFirst(_) => {
                return None;
            }
        })
    }

    /// True for changes that undo a failure: the last of them in a
    /// timeline is the "recovery" that `after recovery within` counts from.
    fn restores(&self) -> bool {
        match self {
            Action::Up(_) | Action::Heal { .. } | Action::UpRegion(_) => true,
            Action::Slow { factor, .. } => *factor == 1.0,
            Action::Errors { rate, .. } => *rate == 0.0,
            _ => false,
        }
    }

    /// The node ids it names.
    fn nodes(&self) -> Vec<&str> {
        match self {
            Action::Down(n) | Action::Up(n) | Action::Flush(n) => vec![n],
            Action::Slow { node, .. }
            | Action::Servers { node, .. }
            | Action::Instances { node, .. }
            | Action::Errors { node, .. }
            | Action::Shards { node, .. } => vec![node],
            Action::Partition { a, b } | Action::Heal { a, b } => vec![a, b],
            _ => vec![],
        }
    }
}

/// One entry of a timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Item {
    /// Do this at this simulated time.
    At(Duration, Action),
    /// Do this at this time, after exactly this many events: what a recorded
    /// session saves, so that it replays event for event.
    Exact(Duration, u64, Action),
}

impl Item {
    /// When.
    pub fn at(&self) -> Duration {
        match self {
            Item::At(t, _) | Item::Exact(t, _, _) => *t,
        }
    }

    /// What.
    pub fn action(&self) -> &Action {
        match self {
            Item::At(_, a) | Item::Exact(_, _, a) => a,
        }
    }
}

/// A scenario file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename = "Scenario", deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    topology: String,
    #[serde(default)]
    seed: Option<u64>,
    duration: Duration,
    #[serde(default)]
    warmup: Option<Duration>,
    #[serde(default)]
    window: Option<Duration>,
    #[serde(default)]
    timeline: Vec<Item>,
    #[serde(default)]
    thresholds: Vec<String>,
    #[serde(default)]
    expect_fail: Vec<String>,
}

/// A parsed scenario: thresholds parsed, every place remembered for errors.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file's name as given.
    pub file: String,
    /// Its text (for error messages that point into it).
    pub source: String,
    /// A short title.
    pub name: String,
    /// What it shows, for people.
    pub description: Option<String>,
    /// The topology file, relative to the scenario file.
    pub topology: String,
    /// Seed of the first replication.
    pub seed: u64,
    /// Simulated time.
    pub duration: Duration,
    /// Time before measuring.
    pub warmup: Duration,
    /// Length of a time-series window.
    pub window: Duration,
    /// The timeline, in file order.
    pub timeline: Vec<Item>,
    /// The thresholds, in file order.
    pub thresholds: Vec<Threshold>,
    /// Per threshold: whether it is expected to fail (a "before" scenario).
    pub expect_fail: Vec<bool>,
    item_pos: Vec<Option<Pos>>,
    threshold_pos: Vec<Option<Pos>>,
}

/// Parses a scenario file. Every problem found comes back at once, each
/// with its place and a hint.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Scenario, Diagnostics> {
    let text = crate::topology::check_bytes(file, bytes)?;
    parse_str(file, text)
}

/// Parses a scenario from text.
pub fn parse_str(file: &str, text: &str) -> Result<Scenario, Diagnostics> {
    let mut ds = Diagnostics::new(file, text);
    if crate::topology::is_blank(text) {
        ds.push(Diagnostic::error("the file is empty").hint(
            "a scenario starts with `Scenario(name: \"...\", topology: \"...\", duration: \"...\", thresholds: [...])`",
        ));
        return Err(ds);
    }
    if let Some(d) = crate::topology::not_ron(text, "Scenario") {
        ds.push(d);
        return Err(ds);
    }
    if let Some(pos) = crate::topology::too_deep(text) {
        ds.push(
            Diagnostic::error("nesting is too deep")
                .at(Some(pos))
                .hint("a scenario nests a few levels; is a `)` or `]` missing?"),
        );
        return Err(ds);
    }
    let f: ScenarioFile = match crate::topology::ron_options().from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let mut d = crate::topology::ron_diagnostic(&e, text);
            if text.trim_start().starts_with("Topology") || text.contains("\nTopology(") {
                d = d.hint(
                    "this is a topology, not a scenario; run it with `bottleneck run`, or write a scenario that names it in `topology: \"...\"`",
                );
            }
            ds.push(d);
            return Err(ds);
        }
    };
    let lines = LineIndex::new(text);
    let key_pos = |key: &str| text.find(&format!("{key}:")).map(|at| lines.pos(at));
    if f.name.trim().is_empty() {
        ds.push(
            Diagnostic::error("the scenario's name is empty")
                .at(key_pos("name"))
                .hint("give it a short title"),
        );
    }
    if f.duration.0 == 0 || f.duration > MAX_DURATION {
        ds.push(
            Diagnostic::error(format!("the duration {} is out of range", f.duration))
                .at(key_pos("duration"))
                .hint(format!("use more than 0 and at most {MAX_DURATION}")),
        );
    }
    let warmup = f.warmup.unwrap_or(Duration(f.duration.0 / 10));
    if warmup >= f.duration && f.duration.0 > 0 {
        ds.push(
            Diagnostic::error(format!(
                "the warm-up ({warmup}) is not shorter than the scenario ({})",
                f.duration
            ))
            .at(key_pos("warmup"))
            .hint("shorten the warm-up or lengthen the duration"),
        );
    }
    let window = f.window.unwrap_or(Duration(SEC));
    if window.0 == 0 || (f.duration.0 > 0 && f.duration.0 / window.0 > 100_000) {
        ds.push(
            Diagnostic::error(format!("the window {window} is out of range"))
                .at(key_pos("window"))
                .hint("use a window of at least a 100,000th of the duration, e.g. \"1s\""),
        );
    }
    if f.timeline.len() > MAX_TIMELINE {
        ds.push(
            Diagnostic::error(format!(
                "{} timeline items, over the limit of {MAX_TIMELINE}",
                f.timeline.len()
            ))
            .at(key_pos("timeline"))
            .hint("split the scenario, or use `Ramp` for gradual changes"),
        );
    }
    if f.thresholds.len() > MAX_THRESHOLDS {
        ds.push(
            Diagnostic::error(format!(
                "{} thresholds, over the limit of {MAX_THRESHOLDS}",
                f.thresholds.len()
            ))
            .at(key_pos("thresholds"))
            .hint("split the scenario into several files"),
        );
    }
    if f.expect_fail.len() > MAX_THRESHOLDS {
        ds.push(
            Diagnostic::error(format!(
                "`expect_fail` lists {} thresholds, over the limit of {MAX_THRESHOLDS}",
                f.expect_fail.len()
            ))
            .at(key_pos("expect_fail")),
        );
    }
    if ds.has_errors() {
        // Past the limits, checking every item would only take time.
        return Err(ds);
    }
    // Places of timeline items: the n-th `At(` or `Exact(` after `timeline:`.
    let item_pos = nth_positions(
        text,
        &lines,
        "timeline:",
        &["At(", "Exact("],
        f.timeline.len(),
    );
    for (i, item) in f.timeline.iter().enumerate() {
        if item.at() > f.duration {
            ds.push(
                Diagnostic::error(format!(
                    "this change is at {}, after the scenario ends ({})",
                    item.at(),
                    f.duration
                ))
                .at(item_pos[i])
                .hint("move it earlier or lengthen the duration"),
            );
        }
        let bad = match item.action() {
            Action::Traffic(m) | Action::Ramp { to: m, .. } => {
                !(m.is_finite() && *m >= 0.0 && *m <= crate::sim::MAX_TRAFFIC)
            }
            Action::Spike { times, .. } => {
                !(times.is_finite() && *times > 0.0 && *times <= crate::sim::MAX_TRAFFIC)
            }
            Action::Rps(r) => !(r.is_finite() && *r >= 0.0),
            _ => false,
        };
        if bad {
            ds.push(
                Diagnostic::error("the traffic in this change is out of range")
                    .at(item_pos[i])
                    .hint(format!(
                        "use a multiplier from 0 to {}",
                        crate::sim::MAX_TRAFFIC
                    )),
            );
        }
    }
    let mut thresholds = Vec::new();
    let mut threshold_pos = Vec::new();
    for t in &f.thresholds {
        let pos = text.find(&format!("\"{t}\"")).map(|at| lines.pos(at + 1));
        match Threshold::parse(t) {
            Ok(th) => {
                if let Window::During(a, _) = th.window
                    && a >= f.duration
                {
                    ds.push(
                        Diagnostic::error(format!(
                            "this threshold's window starts at {a}, when the scenario has ended"
                        ))
                        .at(pos)
                        .hint("start the window before the duration"),
                    );
                }
                thresholds.push(th);
                threshold_pos.push(pos);
            }
            Err(e) => ds.push(Diagnostic::error(e.message).at(pos).hint(e.hint)),
        }
    }
    let mut expect_fail = vec![false; thresholds.len()];
    let mut suggest = 10 * crate::diag::SUGGEST_CELLS;
    for e in &f.expect_fail {
        match thresholds.iter().position(|t| t.text == e.trim()) {
            Some(i) => expect_fail[i] = true,
            None => {
                let pos = text.rfind(&format!("\"{e}\"")).map(|at| lines.pos(at + 1));
                let near = crate::diag::closest_within(
                    e,
                    thresholds.iter().map(|t| t.text.as_str()),
                    &mut suggest,
                );
                let hint = match near {
                    Some(c) => format!(
                        "did you mean \"{c}\"? `expect_fail` lists thresholds exactly as written"
                    ),
                    None => {
                        "`expect_fail` lists thresholds exactly as written in `thresholds`".into()
                    }
                };
                ds.push(
                    Diagnostic::error(format!(
                        "`expect_fail` names \"{e}\", which is not one of the thresholds"
                    ))
                    .at(pos)
                    .hint(hint),
                );
            }
        }
    }
    if ds.has_errors() {
        return Err(ds);
    }
    Ok(Scenario {
        file: file.to_string(),
        source: text.to_string(),
        name: f.name,
        description: f.description,
        topology: f.topology,
        seed: f.seed.unwrap_or(1),
        duration: f.duration,
        warmup,
        window,
        timeline: f.timeline,
        thresholds,
        expect_fail,
        item_pos,
        threshold_pos,
    })
}

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
            },
        );
        p
    }
}

/// Byte offsets of the first `n` occurrences of any of `tokens` after `key`,
/// as positions (outside comments is good enough for pointing).
fn nth_positions(
    text: &str,
    lines: &LineIndex,
    key: &str,
    tokens: &[&str],
    n: usize,
) -> Vec<Option<Pos>> {
    let mut out = vec![None; n];
    let Some(start) = text.find(key) else {
        return out;
    };
    // The next place of each token from `from` on, found once and looked
    // for again only when passed: one scan of the text per token.
    let find = |t: &str, from: usize| text.get(from..).and_then(|r| r.find(t)).map(|i| from + i);
    let mut next: Vec<Option<usize>> = tokens.iter().map(|t| find(t, start)).collect();
    for slot in out.iter_mut() {
        let Some((k, at)) = next
            .iter()
            .enumerate()
            .filter_map(|(k, a)| a.map(|a| (k, a)))
            .min_by_key(|&(_, a)| a)
        else {
            break;
        };
        *slot = Some(lines.pos(at));
        for (j, t) in tokens.iter().enumerate() {
            if next[j].is_some_and(|a| a <= at) || j == k {
                next[j] = find(t, at + 1);
            }
        }
    }
    out
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
        let base_rps: f64 = model
            .sources
            .iter()
            .filter(|s| s.closed.is_none())
            .map(|s| s.rps)
            .sum();
        let mut traffic = 1.0f64;
        let mut steps: Vec<Step> = Vec::new();
        let mut recovery = None;
        for &i in &order {
            let item = &self.timeline[i];
            let at = item.at().0;
            let pos = self.item_pos.get(i).copied().flatten();
            let after_events = match item {
                Item::Exact(_, n, _) => Some(*n),
                Item::At(..) => None,
            };
            let action = item.action();
            let mut bad = false;
            for id in action.nodes() {
                if node_index(id).is_none() {
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
            let mut push = |at: SimTime, change: Change| {
                steps.push(Step {
                    at,
                    after_events,
                    change,
                });
            };
            match action {
                Action::Traffic(m) => {
                    traffic = *m;
                    push(at, Change::Traffic(traffic));
                }
                Action::Rps(r) => {
                    if base_rps <= 0.0 {
                        ds.push(
                            Diagnostic::error("`Rps` sets the rate of open-loop sources, and this topology has none")
                                .at(pos)
                                .hint("closed-loop users set their own pace; change their number in the topology"),
                        );
                        continue;
                    }
                    traffic = (r / base_rps).min(crate::sim::MAX_TRAFFIC);
                    push(at, Change::Traffic(traffic));
                }
                Action::Ramp { to, over } => {
                    let n = (over.0 / SEC).clamp(1, 600);
                    let from = traffic;
                    for k in 1..=n {
                        let m = from + (to - from) * k as f64 / n as f64;
                        let dt = (over.0 as u128 * k as u128 / n as u128) as u64;
                        push(at.saturating_add(dt), Change::Traffic(m));
                    }
                    traffic = *to;
                }
                Action::Spike { times, lasting } => {
                    let peak = (traffic * times).min(crate::sim::MAX_TRAFFIC);
                    push(at, Change::Traffic(peak));
                    push(at.saturating_add(lasting.0), Change::Traffic(traffic));
                }
                Action::DownFirst(kind) => {
                    match model.nodes.iter().find(|n| n.kind_name() == kind.as_str()) {
                        Some(n) => push(at, Change::Down(n.id.clone())),
                        None => ds.push(
                            Diagnostic::error(format!("the topology has no {kind} to take down"))
                                .at(pos)
                                .hint(format!("this scenario needs at least one {kind} node")),
                        ),
                    }
                }
                Action::Down(n) => push(at, Change::Down(n.clone())),
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
                .find_map(|s| s.change.check(model).err())
            {
                ds.push(Diagnostic::error(e.message).at(pos).hint(e.hint));
                steps.truncate(first_new);
            }
        }
        steps.sort_by_key(|s| s.at);
        // Thresholds: nodes and kinds, then windows.
        let end = self.duration.0;
        let mut windows = vec![(self.warmup.0, end)];
        let mut window_of = Vec::new();
        for (k, t) in self.thresholds.iter().enumerate() {
            let pos = self.threshold_pos.get(k).copied().flatten();
            if let Some(id) = &t.node {
                match node_index(id) {
                    None => {
                        let (m, h) = unknown(id);
                        ds.push(Diagnostic::error(m).at(pos).hint(h));
                    }
                    Some(i) => {
                        let kind = model.nodes[i].kind_name();
                        let kinds = t.kinds();
                        if !kinds.is_empty() && !kinds.contains(&kind) {
                            ds.push(
                                Diagnostic::error(format!(
                                    "`{}` is measured on {}, and `{id}` is a {kind}",
                                    t.metric.name,
                                    kinds.join(" or ")
                                ))
                                .at(pos)
                                .hint(format!("name a {} node", kinds.join(" or "))),
                            );
                        }
                    }
                }
            }
            let w = match t.window {
                Window::Whole => (self.warmup.0, end),
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
        })
    }
}

/// What one replication measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The report of the whole run (with series when asked for).
    pub report: Report,
    /// Per threshold, the measured value (`None`: nothing to measure).
    pub values: Vec<Option<f64>>,
    /// Why the run could not finish, if it could not.
    pub error: Option<String>,
}

/// Runs `sim` to step `s` (to its time, or for a recorded change to its
/// event count) and applies its change.
fn apply_step(sim: &mut Simulation, s: &Step) -> Result<(), String> {
    match s.after_events {
        Some(n) => sim
            .step_to_event_count(n)
            .map(|_| sim.step_until_no_events(s.at)),
        None => sim.step_until(s.at),
    }
    .map_err(|e| e.to_string())?;
    sim.apply(s.change.clone())
        .map_err(|e| format!("at {}: {e}", Duration(s.at)))
}

/// Drives a simulation through the plan's changes to `until`, taking a
/// report at `snapshot` on the way.
fn drive(
    sim: &mut Simulation,
    plan: &Plan,
    until: SimTime,
    snapshot: SimTime,
) -> (Option<Report>, Result<(), String>) {
    let mut snap = None;
    let take =
        |sim: &mut Simulation, t: SimTime, snap: &mut Option<Report>| -> Result<(), String> {
            if snap.is_none() && snapshot <= t {
                sim.step_until(snapshot).map_err(|e| e.to_string())?;
                *snap = Some(sim.report());
            }
            Ok(())
        };
    for s in plan.steps.iter().filter(|s| s.at <= until) {
        if let Err(e) = take(sim, s.at, &mut snap) {
            return (snap, Err(e));
        }
        if let Err(e) = apply_step(sim, s) {
            return (snap, Err(e));
        }
    }
    if let Err(e) = take(sim, until, &mut snap) {
        return (snap, Err(e));
    }
    let r = sim.step_until(until).map_err(|e| e.to_string());
    (snap, r)
}

/// How long after a window's end its requests may take to settle: a
/// request of the window with no outcome by then counts as failed.
pub const SETTLE: Duration = Duration(60 * SEC);

/// Keeps `sim` running past `to` (applying the plan's changes as they come)
/// until every measured request has an outcome, or [`SETTLE`] has passed.
fn settle(sim: &mut Simulation, plan: &Plan, to: SimTime) -> Result<(), String> {
    let limit = to.saturating_add(SETTLE.0);
    let mut steps = plan.steps.iter().filter(|s| s.at > to).peekable();
    while sim.unsettled() > 0 && sim.now() < limit {
        let next = (sim.now() + 100 * crate::time::MS).min(limit);
        while let Some(s) = steps.next_if(|s| s.at <= next) {
            apply_step(sim, s)?;
        }
        sim.step_until(next).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs one replication of a plan with `seed`: the whole run (its report,
/// with per-window series when `series`), then one run per other window,
/// measuring from the window's start. Runs differ only in what they
/// measure: the same seed gives the same trajectory.
///
/// A window counts the requests that arrive in it, each judged by its
/// outcome whenever that comes: the run goes on past the window's end until
/// they have settled (at most [`SETTLE`]); time averages (utilization,
/// queues) stop at the window's end, and rates are per second of the window.
pub fn run(plan: &Plan, model: &Model, seed: u64, series: bool) -> Outcome {
    let config = RunConfig {
        seed,
        cohort_end: plan.duration,
        ..plan.config.clone()
    };
    let mut values = vec![None; plan.thresholds.len()];
    let mut sim = Simulation::new(model, config.clone());
    let (start, mut result) = drive(&mut sim, plan, plan.duration, config.warmup.0);
    // The report as the run stands at its end (what a live session shows
    // and a recorded one replays); thresholds judge it once settled.
    let mut report = sim.report();
    if series {
        report.series = Some(sim.series_report());
    }
    if result.is_ok()
        && plan
            .thresholds
            .iter()
            .enumerate()
            .any(|(k, _)| plan.window_of[k] == 0)
    {
        result = settle(&mut sim, plan, plan.duration);
    }
    let settled = sim.report();
    let mut error = result.err();
    let mut measure = |w: usize, end: &Report, start: Option<&Report>| {
        for (k, t) in plan.thresholds.iter().enumerate() {
            if plan.window_of[k] == w {
                values[k] = t.measure(end, start);
            }
        }
    };
    measure(0, &settled, start.as_ref());
    for (w, &(from, to)) in plan.windows.iter().enumerate().skip(1) {
        if error.is_some() {
            break;
        }
        let mut sim = Simulation::new(
            model,
            RunConfig {
                warmup: Duration(from),
                cohort_end: to,
                ..config.clone()
            },
        );
        let (start, mut result) = drive(&mut sim, plan, to, from);
        if result.is_ok() {
            result = settle(&mut sim, plan, to);
        }
        if let Err(e) = result {
            error = Some(e);
        }
        measure(w, &sim.report(), start.as_ref());
    }
    Outcome {
        seed,
        report,
        values,
        error,
    }
}

/// One threshold's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The threshold as written.
    pub threshold: String,
    /// The measured value (mean over replications, with its interval), in
    /// `unit`.
    pub measured: Option<Estimate>,
    /// The unit of `measured`: `ms`, `ratio` (0 to 1), `rps`, `count` or
    /// `number`.
    pub unit: &'static str,
    /// The measured value as people read it (`212ms ± 8ms`, or `-`).
    pub shown: String,
    /// Whether the threshold holds (on the mean).
    pub passed: bool,
    /// Whether the scenario expects it to fail.
    pub expected_to_fail: bool,
}

impl Row {
    /// True when the outcome is the expected one.
    pub fn as_expected(&self) -> bool {
        self.passed != self.expected_to_fail
    }
}

/// A scenario's verdict over its replications.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// One row per threshold.
    pub rows: Vec<Row>,
    /// Runs that could not finish (budget, refused change).
    pub errors: Vec<String>,
    /// The busiest node of the first replication and why, to explain a failure.
    pub bottleneck: Option<String>,
    /// Where failures began in the first replication, when 1% or more of
    /// requests failed.
    pub failures: Option<String>,
}

impl Verdict {
    /// Every threshold as expected and every run finished.
    pub fn as_expected(&self) -> bool {
        self.errors.is_empty() && self.rows.iter().all(Row::as_expected)
    }

    /// Thresholds that failed, expected or not.
    pub fn failed(&self) -> usize {
        self.rows.iter().filter(|r| !r.passed).count()
    }
}

/// Judges a scenario's thresholds over its replications: each on the mean
/// of the replications that measured it, with a 95% confidence interval.
/// A threshold nothing measured fails.
pub fn judge(scenario: &Scenario, outcomes: &[Outcome]) -> Verdict {
    let rows = scenario
        .thresholds
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let samples: Vec<f64> = outcomes.iter().filter_map(|o| o.values[k]).collect();
            let est = Estimate::of(&samples);
            let shown = match est {
                None => "-".to_string(),
                Some(e) => match e.ci95 {
                    Some(ci) if ci > 0.0 => format!("{} ± {}", t.show(e.mean), t.show(ci)),
                    _ => t.show(e.mean),
                },
            };
            Row {
                threshold: t.text.clone(),
                unit: t.metric.unit.name(),
                passed: est.is_some_and(|e| t.op.holds(e.mean, t.limit)),
                measured: est,
                shown,
                expected_to_fail: scenario.expect_fail[k],
            }
        })
        .collect();
    Verdict {
        name: scenario.name.clone(),
        file: scenario.file.clone(),
        seeds: outcomes.iter().map(|o| o.seed).collect(),
        rows,
        errors: outcomes
            .iter()
            .filter_map(|o| o.error.as_ref().map(|e| format!("seed {}: {e}", o.seed)))
            .collect(),
        bottleneck: outcomes
            .first()
            .and_then(|o| o.report.bottleneck.as_ref().map(|b| b.reason.clone())),
        failures: outcomes.first().and_then(|o| o.report.failures.clone()),
    }
}

/// Writes a recorded session as a scenario file that replays it exactly:
/// each change at its time and after its count of events.
pub fn record(
    name: &str,
    topology: &str,
    seed: u64,
    duration: Duration,
    changes: &[AppliedChange],
) -> String {
    let mut out = String::new();
    let q = |s: &str| format!("{s:?}");
    let _ = writeln!(
        out,
        "// Recorded by Bottleneck: replays the session event for event."
    );
    let _ = writeln!(out, "Scenario(");
    let _ = writeln!(out, "    name: {},", q(name));
    let _ = writeln!(out, "    topology: {},", q(topology));
    let _ = writeln!(out, "    seed: {seed},");
    let _ = writeln!(out, "    duration: {},", q(&duration.to_exact_string()));
    let _ = writeln!(out, "    warmup: \"0s\",");
    let _ = writeln!(out, "    timeline: [");
    for c in changes {
        let action = ron::to_string(&Action::from_change(&c.change)).unwrap_or_default();
        let _ = writeln!(
            out,
            "        Exact({}, {}, {action}),",
            q(&c.at.to_exact_string()),
            c.after_events
        );
    }
    let _ = writeln!(out, "    ],");
    let _ = writeln!(out, "    thresholds: [],");
    let _ = writeln!(out, ")");
    out
}
