//! Budgets: the work and memory a run will take, estimated before it starts.
//!
//! A front end asks [`estimate`] (or [`estimate_plan`] for a scenario)
//! before it creates a [`crate::sim::Simulation`] (every CLI command does,
//! and [`crate::share::open`] for a shared link), and refuses a run whose
//! estimate is over its [`Limits`] with a message that says what is big, by
//! how much, and how to proceed ([`Estimate::check`]). The engine's own
//! budgets (`RunConfig::max_events`, `max_in_flight`) still stop a run that
//! grows past them; the estimate keeps a run that could never fit from
//! starting at all, and it knows what the engine cannot see coming:
//! closed-loop users who never let time pass, a cache that would hold a
//! billion keys, a time series of a million windows.
//!
//! The estimate is an upper bound in spirit, cheap to compute (linear in
//! the model's size, whatever the rates) and deliberately simple:
//!
//! - **Events**: requests (open-loop sources integrated over their rate
//!   profile and the timeline's traffic changes; closed-loop users bounded
//!   by `users / (think + demand)`, the response-time law) times one plus
//!   the node visits a request makes (the traffic equations, solved
//!   backwards from each node), plus health checks, autoscaler looks and
//!   window closes (one per node per window), over every run (a scenario
//!   runs once more per extra measurement window).
//! - **Memory** of one run: two latency histograms per node and end to end,
//!   the time-series ring, the keys that caches, CDNs, rate limiters and
//!   databases would hold (`min(capacity, key space, requests that reach
//!   it)` times the bytes per entry), idempotency records (ten minutes of
//!   writes), the latency matrix between regions, and a printed series.
//!   Requests in flight are not counted: `max_in_flight` bounds them.

use crate::fmt::{fmt_big, fmt_count};
use crate::kinds::MemoryCx;
use crate::metrics::WindowRecord;
use crate::metrics::histogram::BUCKETS;
use crate::model::{Model, endless_loops, per_entry};
use crate::scenario::Plan;
use crate::sim::Change;
use crate::time::{Duration, SEC, SimTime};
use std::fmt;

/// Default memory budget of one run, bytes (2 GiB).
pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;
/// Default event budget of one run (the engine's `RunConfig::max_events`).
pub const DEFAULT_MAX_EVENTS: u64 = 2_000_000_000;
/// Most time-series windows in one run (`duration / window`): closing a
/// window touches every node.
pub const MAX_WINDOWS: u64 = 1_000_000;
/// Most windows in a series that is printed or drawn (JSON grows with
/// windows x nodes).
pub const MAX_SERIES_WINDOWS: u64 = 100_000;

/// Bytes of one latency histogram.
const HISTOGRAM_BYTES: f64 = (BUCKETS * 8) as f64;
/// One session user: its slot (32 bytes) and its pending turn in the
/// event list, with room for the list's growth.
const SESSION_USER_BYTES: f64 = 64.0;
/// Bytes per node besides its two histograms: state, model, queues.
const NODE_BYTES: f64 = 2.0 * HISTOGRAM_BYTES + 4096.0;
/// Bytes of one window of one node in a printed series (JSON).
const SERIES_JSON_BYTES: f64 = 320.0;
/// What every run needs whatever the model: the program, the allocator.
const BASE_BYTES: f64 = 8.0 * 1024.0 * 1024.0;
/// How long idempotency and dedup records are kept, ns (the engine's).
const RECORDS_KEPT: SimTime = 600 * SEC;

/// What a front end allows one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most events (and window closes) one run may take.
    pub max_events: u64,
    /// Most memory one run may take, bytes.
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: DEFAULT_MAX_EVENTS,
            max_memory: DEFAULT_MAX_MEMORY,
        }
    }
}

/// The shape of a run to estimate.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Simulated time.
    pub duration: SimTime,
    /// Length of a time-series window.
    pub window: SimTime,
    /// Windows the series ring keeps.
    pub series_capacity: usize,
    /// Changes of the traffic multiplier `(time, multiplier)`, in time
    /// order; it is 1 before the first.
    pub traffic: Vec<(SimTime, f64)>,
    /// Further runs of the same model and timeline, to these times (a
    /// scenario's extra measurement windows).
    pub extra_runs: Vec<SimTime>,
    /// Engine changes applied along the way.
    pub changes: usize,
    /// The series is printed or drawn (its text is counted).
    pub series_out: bool,
}

impl Run {
    /// A plain run of `duration` with windows of `window`, as `bottleneck
    /// run` makes it.
    pub fn plain(duration: SimTime, window: SimTime) -> Run {
        Run {
            duration,
            window,
            series_capacity: ((duration / window.max(1)) as usize + 1).min(MAX_WINDOWS as usize),
            ..Run::default()
        }
    }
}

/// What a run (or a scenario's runs) will take.
#[derive(Clone, Debug, PartialEq, schemars::JsonSchema)]
pub struct Estimate {
    /// Simulated time of the main run.
    pub duration: SimTime,
    /// User requests (first attempts) in the main run.
    pub requests: f64,
    /// Node visits per request.
    pub visits: f64,
    /// Events over every run, window closes and periodic checks included,
    /// counting every retry clients may make (an upper bound when they
    /// retry).
    pub events: f64,
    /// Tries per first attempt at most (1 without retries; `1 + max` for
    /// unlimited retries, `1 + share` under a retry budget).
    pub tries: f64,
    /// Runs (1, plus one per extra measurement window).
    pub runs: usize,
    /// Peak memory of one run, bytes.
    pub memory: f64,
    /// The largest parts of `memory`, largest first, as people read them.
    pub memory_parts: Vec<(String, f64)>,
    /// Why the work would never end, when it would not (closed-loop users
    /// for whom no time passes).
    pub endless: Option<String>,
}

/// A run refused before it starts: what and how to proceed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What is over which limit.
    pub message: String,
    /// How to proceed.
    pub hint: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n   = hint: {}", self.message, self.hint)
    }
}

/// Bytes as people read them.
pub fn fmt_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut x = b.max(0.0);
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{x:.0} {}", UNITS[0])
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}

/// Parses a memory size: `512MiB`, `2GiB`, `4GB`, `1.5G`, or bytes.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let x: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size; write e.g. 512MiB or 4GiB"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        u => {
            return Err(format!(
                "`{u}` is not a size unit; use KiB, MiB, GiB or TiB"
            ));
        }
    };
    let b = x * mult;
    if !b.is_finite() || b < 1.0 || b > u64::MAX as f64 {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(b as u64)
}

/// A source's expected requests from time 0 on, sampled once over the run
/// (midpoint sums, fewer points when the profile is costly to evaluate or
/// sources are many) and read at any time by interpolation.
struct Curve {
    /// Sample spacing, ns.
    dt: f64,
    /// `prefix[k]`: requests in `[0, k dt)`.
    prefix: Vec<f64>,
}

impl Curve {
    fn of(
        s: &crate::model::SourceModel,
        open: usize,
        traffic: &[(SimTime, f64)],
        duration: SimTime,
    ) -> Curve {
        let cost = 1 + match &s.profile {
            crate::profile::Profile::Steps(st) => st.len(),
            _ => 0,
        };
        let n = (1_000_000 / (open.max(1) * cost)).clamp(64, 10_000);
        let dt = duration.max(1) as f64 / n as f64;
        let mut prefix = Vec::with_capacity(n + 1);
        let mut total = 0.0;
        prefix.push(0.0);
        for k in 0..n {
            let t = ((k as f64 + 0.5) * dt) as SimTime;
            let m = match traffic.partition_point(|&(at, _)| at <= t) {
                0 => 1.0,
                j => traffic[j - 1].1,
            };
            total += s.profile.rate(s.rps, t) * m * dt / SEC as f64;
            prefix.push(total);
        }
        Curve { dt, prefix }
    }

    /// Requests in `[0, end)`.
    fn until(&self, end: SimTime) -> f64 {
        let x = end as f64 / self.dt;
        let n = self.prefix.len() - 1;
        let k = (x.floor() as usize).min(n);
        if k >= n {
            return self.prefix[n];
        }
        self.prefix[k] + (x - k as f64) * (self.prefix[k + 1] - self.prefix[k])
    }
}

/// Estimates a run of `model` shaped as `run`.
pub fn estimate(model: &Model, run: &Run) -> Estimate {
    let (visits, demand) = per_entry(model);
    let duration = run.duration;
    let window = run.window.max(1);
    let open = model.sources.iter().filter(|s| s.closed.is_none()).count();
    let curves: Vec<Option<Curve>> = model
        .sources
        .iter()
        .map(|s| {
            s.closed
                .is_none()
                .then(|| Curve::of(s, open, &run.traffic, duration))
        })
        .collect();
    // Requests, the events they make, and periodic work, for one run to
    // `end`.
    let work_to = |end: SimTime| -> (f64, f64, f64, f64) {
        let mut requests = 0.0;
        let mut events = 0.0;
        let mut tries = 0.0;
        for (s, src) in model.sources.iter().enumerate() {
            let r = match (&src.closed, &curves[s]) {
                (None, Some(c)) => c.until(end),
                (Some((users, think)), _) => {
                    // The response-time law: a user's cycle is at least
                    // the think time plus the demand on the way; and no
                    // more than the entry node's servers can be served.
                    let cycle = (think.mean() + demand[src.to]) / SEC as f64;
                    let entry = &model.nodes[src.to];
                    let capacity =
                        entry.peak_servers().max(1) as f64 / (entry.service.mean() / SEC as f64);
                    let rate = (*users as f64 / cycle).min(capacity);
                    let r = rate * end as f64 / SEC as f64;
                    // Users who walk their session once send no more.
                    match &src.session {
                        Some(m) if m.once => r.min(*users as f64 * m.requests() as f64),
                        _ => r,
                    }
                }
                (None, None) => 0.0,
            };
            let r = match src.burst {
                Some((count, at)) if at < end => r + count as f64,
                _ => r,
            };
            requests += r;
            let t = tries_per_request(&src.client);
            tries += r * t;
            events += r * t * (1.0 + visits[src.to]);
        }
        // Health checks, autoscaler looks, window closes (every node).
        let mut periodic = (end / window) as f64 * (model.nodes.len() + 1) as f64;
        for m in &model.nodes {
            if let Some(every) = m.kind.periodic() {
                periodic += end as f64 / every.max(1) as f64
            }
        }
        (requests, events, periodic, tries)
    };
    let (requests, request_events, periodic, tries) = work_to(duration);
    let mut events = request_events + periodic + run.changes as f64;
    for &end in &run.extra_runs {
        let (_, e, p, _) = work_to(end.min(duration));
        events += e + p;
    }
    let per_request = if tries > 0.0 {
        request_events / tries - 1.0
    } else {
        0.0
    };
    let mut parts = memory(model, run, requests);
    parts.sort_by(|a, b| b.1.total_cmp(&a.1));
    let memory = parts.iter().map(|p| p.1).sum();
    let endless = endless_loops(model)
        .into_iter()
        .next()
        .map(|(_, m, h)| format!("{m}\n   = hint: {h}"));
    Estimate {
        duration,
        requests,
        visits: per_request.max(0.0),
        events: if endless.is_some() {
            f64::INFINITY
        } else {
            events
        },
        runs: 1 + run.extra_runs.len(),
        tries: if requests > 0.0 {
            tries / requests
        } else {
            1.0
        },
        memory,
        memory_parts: parts,
        endless,
    }
}

/// The most tries a client makes per first attempt: every try may fail
/// and be retried, up to its retries, or up to its budget's share.
fn tries_per_request(c: &crate::model::ClientModel) -> f64 {
    let max = c.retries as f64;
    1.0 + c.budget.map_or(max, |b| b.min(max))
}

/// The memory of one run, by part.
fn memory(model: &Model, run: &Run, requests: f64) -> Vec<(String, f64)> {
    let nodes = model.nodes.len() as f64;
    let mut parts = vec![
        ("the program".to_string(), BASE_BYTES),
        (
            format!("{} nodes' statistics", fmt_count(model.nodes.len() as u64)),
            nodes * NODE_BYTES + 2.0 * HISTOGRAM_BYTES,
        ),
    ];
    let windows = run.duration / run.window.max(1);
    let kept = windows.min(run.series_capacity as u64) as f64;
    parts.push((
        format!(
            "the time series ({} windows x {} nodes)",
            fmt_count(kept as u64),
            fmt_count(model.nodes.len() as u64 + 1)
        ),
        kept * (nodes + 1.0) * 2.0 * std::mem::size_of::<WindowRecord>() as f64,
    ));
    // Classes and sources kept apart (when there is more than one of
    // them): two histograms and a series ring each.
    let groups = [model.classes.len(), model.sources.len()]
        .iter()
        .filter(|&&n| n > 1)
        .sum::<usize>() as f64;
    if groups > 0.0 {
        parts.push((
            format!(
                "per-class and per-source statistics ({} of them)",
                fmt_count(groups as u64)
            ),
            groups
                * (2.0 * HISTOGRAM_BYTES
                    + kept * 2.0 * std::mem::size_of::<WindowRecord>() as f64
                    + if run.series_out {
                        kept * SERIES_JSON_BYTES
                    } else {
                        0.0
                    }),
        ));
    }
    if run.series_out {
        parts.push((
            format!(
                "the printed series ({} windows x {} nodes)",
                fmt_count(kept as u64),
                fmt_count(model.nodes.len() as u64 + 1)
            ),
            kept * (nodes + 1.0) * SERIES_JSON_BYTES,
        ));
    }
    let regions = model.regions.len() as f64;
    parts.push((
        "the latency between regions".into(),
        regions * regions * 8.0,
    ));
    // Keys: how many distinct keys requests can carry.
    let key_space: f64 = model
        .sources
        .iter()
        .map(|s| s.keys.as_ref().map_or(1.0, |k| k.count() as f64))
        .sum();
    let ips: f64 = model.sources.iter().map(|s| s.ips as f64).sum();
    // Session users: one slot each (users who join when the traffic
    // multiplier rises take theirs then), a turn pending in the event list,
    // and the session durations' histogram.
    for s in &model.sources {
        if let (Some(_), Some((users, _))) = (&s.session, &s.closed) {
            parts.push((
                format!(
                    "the {} session users of `{}`",
                    fmt_count(*users as u64),
                    s.id
                ),
                *users as f64 * SESSION_USER_BYTES + HISTOGRAM_BYTES,
            ));
        }
    }
    let key_space = key_space
        + model
            .sources
            .iter()
            .filter_map(|s| s.session.as_ref())
            .flat_map(|m| &m.tasks)
            .map(|t| match &t.key {
                crate::sessions::KeyRule::Draw(k) => k.count() as f64,
                _ => 0.0,
            })
            .sum::<f64>();
    // Requests that reach each node over the run (all of them, when the
    // traffic equations do not settle).
    let rates = model.visit_rates(&model.base_rates());
    let base: f64 = model.base_rates().iter().sum();
    let reach = |i: usize| -> f64 {
        match &rates {
            Some(r) if base > 0.0 => requests * r[i] / base,
            _ => f64::INFINITY,
        }
    };
    let tracked = crate::kinds::tracked_primaries(model);
    let records = RECORDS_KEPT.min(run.duration) as f64 / run.duration.max(1) as f64;
    for (i, m) in model.nodes.iter().enumerate() {
        let cx = MemoryCx {
            id: &m.id,
            key_space,
            ips,
            reach: reach(i),
            tracked: tracked.contains(&(i as u32)),
            records_kept: records,
            regions,
        };
        if let Some(part) = m.kind.memory(&cx) {
            parts.push(part);
        }
    }
    parts
}

/// The traffic multiplier's changes in a plan's steps (and an extra change
/// at the start, a sweep's point), with the count of all changes.
fn plan_traffic(plan: &Plan, start: Option<&Change>) -> (Vec<(SimTime, f64)>, usize) {
    let mut traffic = Vec::new();
    if let Some(Change::Traffic(m)) = start {
        traffic.push((0, *m));
    }
    for s in &plan.steps {
        if let Change::Traffic(m) = s.change {
            traffic.push((s.at, m));
        }
    }
    traffic.sort_by_key(|t| t.0);
    (traffic, plan.steps.len() + usize::from(start.is_some()))
}

/// Estimates one replication of a scenario's plan (all of its runs: the
/// whole run, then one per other measurement window), with `start`
/// applied first (a sweep's point) and the series printed or drawn when
/// `series_out`.
pub fn estimate_plan(
    model: &Model,
    plan: &Plan,
    start: Option<&Change>,
    series_out: bool,
) -> Estimate {
    let (traffic, changes) = plan_traffic(plan, start);
    // Each run may go on for `SETTLE` past its window while the window's
    // requests settle.
    let settle = crate::scenario::SETTLE.0;
    let run = Run {
        duration: plan.duration.saturating_add(settle),
        window: plan.config.window.0,
        series_capacity: plan.config.series_capacity,
        traffic,
        extra_runs: plan
            .windows
            .iter()
            .skip(1)
            .map(|w| w.1.saturating_add(settle))
            .collect(),
        changes,
        series_out,
    };
    estimate(model, &run)
}

impl Estimate {
    /// `Ok` when the run fits `limits`; otherwise what is over, by how
    /// much, and how to proceed. `raise_events` and `raise_memory` say how
    /// to raise each limit (a flag, such as `--max-events`).
    pub fn check(
        &self,
        limits: &Limits,
        raise_events: &str,
        raise_memory: &str,
    ) -> Result<(), Refusal> {
        if let Some(e) = &self.endless {
            let (message, hint) = e.split_once("\n   = hint: ").unwrap_or((e, ""));
            return Err(Refusal {
                message: message.to_string(),
                hint: hint.to_string(),
            });
        }
        if self.events > limits.max_events as f64 {
            let runs = if self.runs > 1 {
                format!(" in {} runs (one more per measurement window)", self.runs)
            } else {
                String::new()
            };
            let retried = if self.tries > 1.0 {
                format!(" x up to {:.1} tries each, counting retries,", self.tries)
            } else {
                String::new()
            };
            return Err(Refusal {
                message: format!(
                    "this run needs {} {} events ({} requests{retried} x {:.1} visits each over {}{runs}), over the budget of {}",
                    if self.tries > 1.0 { "up to" } else { "about" },
                    fmt_big(self.events),
                    fmt_big(self.requests),
                    self.visits,
                    Duration(self.duration),
                    fmt_count(limits.max_events)
                ),
                hint: format!(
                    "shorten the run, lower the rates{}, or raise {raise_events}",
                    if self.tries > 1.0 {
                        ", bound the retries (fewer, or a retry budget)"
                    } else {
                        ""
                    }
                ),
            });
        }
        if self.memory > limits.max_memory as f64 {
            let (what, bytes) = self
                .memory_parts
                .first()
                .cloned()
                .unwrap_or_else(|| ("the run".into(), self.memory));
            return Err(Refusal {
                message: format!(
                    "this run needs about {} of memory, over the budget of {}; the largest part is {what}: {}",
                    fmt_bytes(self.memory),
                    fmt_bytes(limits.max_memory as f64),
                    fmt_bytes(bytes)
                ),
                hint: format!(
                    "make that part smaller (a cache's capacity, fewer nodes, a shorter run or a longer window), or raise {raise_memory}"
                ),
            });
        }
        Ok(())
    }
}

/// Checks a run's windows: `duration / window` at most [`MAX_WINDOWS`], or
/// [`MAX_SERIES_WINDOWS`] when the series is printed or drawn. `flag` names
/// the window's setting in messages.
pub fn check_windows(
    duration: SimTime,
    window: SimTime,
    series_out: bool,
    flag: &str,
) -> Result<(), Refusal> {
    let limit = if series_out {
        MAX_SERIES_WINDOWS
    } else {
        MAX_WINDOWS
    };
    if window == 0 {
        return Err(Refusal {
            message: format!("{flag} must be longer than 0"),
            hint: format!("e.g. {flag} 1s"),
        });
    }
    let windows = duration / window;
    if windows > limit {
        let shortest = Duration(duration.div_ceil(limit));
        return Err(Refusal {
            message: format!(
                "{flag} {} makes {} windows over {}, over the limit of {}{}",
                Duration(window),
                fmt_count(windows),
                Duration(duration),
                fmt_count(limit),
                if series_out {
                    " for a printed or drawn series"
                } else {
                    ""
                }
            ),
            hint: format!("use {flag} {shortest} or longer"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::load_str;

    fn model(text: &str) -> Model {
        load_str("t.ron", text).expect("loads").model
    }

    const MM1: &str = r#"Topology(name: "m", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 100.0))],
        nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "5ms"), routes: [Route(to: "q", p: 0.5)])])"#;

    #[test]
    fn events_follow_the_traffic_equations() {
        let m = model(MM1);
        let e = estimate(&m, &Run::plain(100 * SEC, SEC));
        // 10,000 requests, 2 visits each (a loop left half the time).
        assert!((e.requests - 10_000.0).abs() < 1.0, "{e:?}");
        assert!((e.visits - 2.0).abs() < 1e-6, "{e:?}");
        // 3 events per request, and 100 windows x 2 closes.
        assert!((e.events - 30_200.0).abs() < 5.0, "{e:?}");
        assert!(e.check(&Limits::default(), "x", "y").is_ok());
        let mut run = Run::plain(100 * SEC, SEC);
        run.traffic = vec![(50 * SEC, 3.0)];
        let e3 = estimate(&m, &run);
        assert!((e3.requests - 20_000.0).abs() < 2.0, "{e3:?}");
        // A second run to 50 s (a measurement window) adds its events.
        run.extra_runs = vec![50 * SEC];
        let e4 = estimate(&m, &run);
        assert_eq!(e4.runs, 2);
        assert!(
            (e4.events - e3.events - (5_000.0 * 3.0 + 50.0 * 2.0)).abs() < 5.0,
            "{e4:?}"
        );
    }

    #[test]
    fn endless_closed_loops_are_named() {
        let text = r#"Topology(name: "spin", sources: [Source(id: "people", to: "q", arrivals: Closed(users: 5, think: Constant("0s")))],
            nodes: [Station(id: "q", servers: 1, service: Constant("0s"))])"#;
        let d = load_str("t.ron", text).unwrap_err();
        assert!(d.to_string().contains("without end"), "{d}");
        assert!(d.to_string().contains("t.ron:1:"), "{d}");
        // The estimate refuses it too, for models made some other way.
        let mut m = model(&text.replace("Constant(\"0s\")))", "Constant(\"1s\")))"));
        m.sources[0].closed.as_mut().unwrap().1 = crate::dist::Sampler::Constant(0.0);
        let e = estimate(&m, &Run::plain(SEC, SEC));
        let r = e.check(&Limits::default(), "x", "y").unwrap_err();
        assert!(r.message.contains("without end"), "{r}");
        assert!(r.hint.contains("think time"), "{r}");
    }

    #[test]
    fn big_caches_are_refused_by_memory() {
        let m = model(
            r#"Topology(name: "c", sources: [Source(id: "u", to: "c", arrivals: Poisson(rps: 1000000.0), keys: Uniform(keys: 1000000000))],
            nodes: [Cache(id: "c", capacity: 1000000000, service: Constant("1us"), backend: "b"), Station(id: "b", servers: 1000, service: Constant("1us"))])"#,
        );
        let e = estimate(&m, &Run::plain(60 * SEC, SEC));
        let r = e
            .check(&Limits::default(), "--max-events", "--max-memory")
            .unwrap_err();
        assert!(r.message.contains("cache `c`"), "{r}");
        assert!(r.hint.contains("--max-memory"), "{r}");
        // A small key space bounds it whatever the capacity.
        let m = model(
            r#"Topology(name: "c", sources: [Source(id: "u", to: "c", arrivals: Poisson(rps: 1000000.0), keys: Uniform(keys: 1000))],
            nodes: [Cache(id: "c", capacity: 1000000000, service: Constant("1us"), backend: "b"), Station(id: "b", servers: 1000, service: Constant("1us"))])"#,
        );
        assert!(
            estimate(&m, &Run::plain(60 * SEC, SEC))
                .check(&Limits::default(), "x", "y")
                .is_ok()
        );
    }

    #[test]
    fn windows_and_sizes() {
        assert!(check_windows(60 * SEC, SEC, false, "--window").is_ok());
        let r = check_windows(60 * SEC, 1, false, "--window").unwrap_err();
        assert!(r.message.contains("over the limit of 1,000,000"), "{r}");
        assert!(r.hint.contains("--window 60us"), "{r}");
        assert!(check_windows(60 * SEC, 100_000, true, "--window").is_err());
        assert!(check_windows(60 * SEC, 0, false, "--window").is_err());
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1000"), Ok(1000));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("0").is_err());
        assert_eq!(fmt_bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GiB");
    }
}
