//! The scenario file: what people write (timeline actions, thresholds), and
//! its parsing with a place and a hint for every problem.

use super::*;

/// Most timeline items in a scenario.
pub const MAX_TIMELINE: usize = 10_000;
/// Most thresholds in a scenario.
pub const MAX_THRESHOLDS: usize = 200;
/// Most engine changes a timeline may expand to (ramps count once a second).
pub const MAX_PLAN_STEPS: usize = 100_000;
/// Longest scenario (simulated).
pub const MAX_DURATION: Duration = Duration(24 * 3600 * SEC);
/// The shortest time a scenario's run, window, deadline, spike or ramp may
/// last: below a millisecond, no request of a web system finishes, so the
/// numbers would mean nothing (the same floor as `run --duration`).
pub const MIN_TIME: Duration = Duration(crate::time::MS);

/// Something the timeline does at a time.
///
/// The variants that are engine changes mirror [`Change`] one for one, so a
/// scenario reads `Down("db")` rather than `Change(Down("db"))`; RON cannot
/// flatten an enum into another without untagged variants, whose errors lose
/// the place and the hint. [`Action::to_change`] and [`Action::from_change`]
/// are the only bridge, and the compiler checks both are exhaustive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Multiply every source's rate (1.0 is the topology's rate); see
    /// `reference::ACTIONS` for closed loops and bursts.
    Traffic(f64),
    /// Set the open-loop sources' total rate at this instant, in requests
    /// per second (a multiplier of it over their rate then).
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
    /// Take a node down gracefully: requests in service finish; waiting
    /// ones are lost and arrivals fail, as with `Down`.
    Drain(String),
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
    /// Change the topology's structure while the run goes on (what the
    /// sandbox records): nodes that stay keep their state, new ones start
    /// cold, removed ones fail their work (`bottleneck::live`).
    Restructure {
        /// The whole edited topology, as RON text.
        topology: String,
        /// What the edit was.
        what: String,
    },
}

impl Action {
    /// The action that applies an engine change as it is.
    pub fn from_change(c: &Change) -> Action {
        match c.clone() {
            Change::Traffic(m) => Action::Traffic(m),
            Change::Down(n) => Action::Down(n),
            Change::Drain(n) => Action::Drain(n),
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
            Change::Restructure(r) => Action::Restructure {
                topology: r.topology,
                what: r.what,
            },
        }
    }

    /// The engine change this action is, when it is exactly one (not a
    /// ramp, spike, rate or kind-relative action).
    pub fn to_change(&self) -> Option<Change> {
        Some(match self.clone() {
            Action::Traffic(m) => Change::Traffic(m),
            Action::Down(n) => Change::Down(n),
            Action::Drain(n) => Change::Drain(n),
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
            Action::Rps(_)
            | Action::Ramp { .. }
            | Action::Spike { .. }
            | Action::DownFirst(_)
            | Action::Restructure { .. } => {
                return None;
            }
        })
    }

    /// True for changes that undo a failure: the last of them in a
    /// timeline is the "recovery" that `after recovery within` counts from.
    pub(crate) fn restores(&self) -> bool {
        match self {
            Action::Up(_) | Action::Heal { .. } | Action::UpRegion(_) => true,
            Action::Slow { factor, .. } => *factor == 1.0,
            Action::Errors { rate, .. } => *rate == 0.0,
            _ => false,
        }
    }

    /// The node ids it names.
    pub(crate) fn nodes(&self) -> Vec<&str> {
        match self {
            Action::Down(n) | Action::Drain(n) | Action::Up(n) | Action::Flush(n) => vec![n],
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
    deadline: Option<Duration>,
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
    /// A request is good (counts toward goodput) when answered successfully
    /// within this time of its first attempt; `None`: within its client's
    /// timeout.
    pub deadline: Option<Duration>,
    /// The timeline, in file order.
    pub timeline: Vec<Item>,
    /// The thresholds, in file order.
    pub thresholds: Vec<Threshold>,
    /// Per threshold: whether it is expected to fail (a "before" scenario).
    pub expect_fail: Vec<bool>,
    pub(crate) item_pos: Vec<Option<Pos>>,
    pub(crate) threshold_pos: Vec<Option<Pos>>,
}

/// Parses a scenario file. Every problem found comes back at once, each
/// with its place and a hint.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Scenario, Diagnostics> {
    let text = crate::topology::check_bytes(file, bytes)?;
    parse_str(file, text)
}

/// Parses a scenario from text.
pub fn parse_str(file: &str, text: &str) -> Result<Scenario, Diagnostics> {
    let text = crate::topology::strip_bom(text);
    let mut ds = Diagnostics::new(file, text);
    if crate::topology::is_blank(text) {
        ds.push(Diagnostic::error("the file is empty").hint(
            "a scenario starts with `Scenario(name: \"...\", topology: \"...\", duration: \"...\", thresholds: [...])`",
        ));
        return Err(ds);
    }
    if let Some(d) = crate::topology::not_ron(text, "Scenario")
        .or_else(|| crate::topology::other_file(file, text, "Scenario"))
    {
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
    if f.duration < MIN_TIME || f.duration > MAX_DURATION {
        ds.push(
            Diagnostic::error(format!("the duration {} is out of range", f.duration))
                .at(key_pos("duration"))
                .hint(format!(
                    "use at least {MIN_TIME} and at most {MAX_DURATION}"
                )),
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
    if window < MIN_TIME || (f.duration.0 > 0 && f.duration.0 / window.0 > 100_000) {
        ds.push(
            Diagnostic::error(format!("the window {window} is out of range"))
                .at(key_pos("window"))
                .hint(format!("use a window of at least {MIN_TIME} and a 100,000th of the duration, e.g. \"1s\"")),
        );
    }
    if let Some(d) = f.deadline.filter(|d| d.0 > 0 && *d < MIN_TIME) {
        ds.push(
            Diagnostic::error(format!("the deadline {d} is shorter than any answer takes"))
                .at(key_pos("deadline"))
                .hint(format!("give at least {MIN_TIME}, e.g. \"500ms\"")),
        );
    }
    if f.deadline.is_some_and(|d| d.0 == 0) {
        ds.push(
            Diagnostic::error("the deadline is 0, so no answer would be good")
                .at(key_pos("deadline"))
                .hint("give the time a user waits at most, e.g. \"500ms\"; leave it out to use the clients' timeouts"),
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
        let brief = match item.action() {
            Action::Spike { lasting, .. } if lasting.0 > 0 => Some(("Spike lasts", *lasting)),
            Action::Ramp { over, .. } if over.0 > 0 => Some(("Ramp takes", *over)),
            _ => None,
        };
        if let Some((what, d)) = brief.filter(|(_, d)| *d < MIN_TIME) {
            ds.push(
                Diagnostic::error(format!("this {what} {d}, shorter than any request takes"))
                    .at(item_pos[i])
                    .hint(format!(
                        "give at least {MIN_TIME}; for a lasting change use `Traffic(...)`"
                    )),
            );
        }
        if let Action::Spike { lasting, .. } = item.action()
            && lasting.0 == 0
        {
            ds.push(
                Diagnostic::error("this Spike lasts 0s, so it would change nothing")
                    .at(item_pos[i])
                    .hint("give it a length, e.g. `lasting: \"30s\"`; for a lasting change use `Traffic(...)`"),
            );
        }
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
        deadline: f.deadline,
        timeline: f.timeline,
        thresholds,
        expect_fail,
        item_pos,
        threshold_pos,
    })
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
