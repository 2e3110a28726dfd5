//! Sweeps: one parameter varied over a range, a point per value, and the
//! knee where the thresholds start (or stop) holding. The command line runs
//! the points (in parallel, or in shards on other machines); what a point
//! and a sweep are, how shards are recognised, and where the knee is, live
//! here.

use crate::fmt::fmt_ms;
use crate::scenario::{Outcome, Scenario, show};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One point of a sweep.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Point {
    /// Its index in the whole sweep.
    pub index: u32,
    /// The parameter's value.
    pub value: f64,
    /// End-to-end p50 and p99 (ms), error rate, throughput.
    pub p50_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// Failed / arrived.
    pub error_rate: f64,
    /// Completed per second.
    pub throughput_rps: f64,
    /// The bottleneck's one-line reason.
    pub bottleneck: Option<String>,
    /// The thresholds that failed, with their measured values.
    pub broken: Vec<String>,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

/// What a sweep is: every shard of one sweep carries the same identity
/// (but for `shard`), so `--merge` can refuse shards of another sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Identity {
    /// FNV-1a of the topology as loaded (its canonical RON), hex.
    pub topology: String,
    /// FNV-1a of the scenario file's text, hex (none for a topology).
    pub scenario: Option<String>,
    /// What was varied: `traffic`, `rps`, `servers:NODE`, `instances:APP`.
    pub parameter: String,
    /// First value.
    pub from: f64,
    /// Last value.
    pub to: f64,
    /// Number of values.
    pub steps: u32,
    /// Values spaced geometrically.
    pub log: bool,
    /// Seed of every point.
    pub seed: u64,
    /// Simulated time per point.
    pub duration: String,
    /// Warm-up per point.
    pub warmup: String,
    /// The thresholds that define "broken".
    pub thresholds: Vec<String>,
    /// The Bottleneck version that ran it.
    pub engine: String,
    /// This file's shard, `K/N` (`1/1` for a whole sweep).
    pub shard: String,
}

/// The JSON a sweep (or shard) prints.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepOut {
    /// What the sweep is (shards of one sweep share it but for `shard`).
    pub sweep: Identity,
    /// What was varied.
    pub parameter: String,
    /// The thresholds that define "broken".
    pub thresholds: Vec<String>,
    /// The points, in order of their index.
    pub points: Vec<Point>,
}

/// FNV-1a of `bytes`, as 16 hex digits.
pub fn hex(bytes: &[u8]) -> String {
    format!("{:016x}", crate::rng::fnv1a(bytes))
}

/// The point of `value` (index `index`) from its outcome.
pub fn point(index: u32, value: f64, s: &Scenario, o: &Outcome) -> Point {
    let e = &o.report.end_to_end;
    let broken = s
        .thresholds
        .iter()
        .zip(&o.values)
        .filter(|(t, v)| !v.is_some_and(|v| t.op.holds(v, t.limit)))
        .map(|(t, v)| match v {
            Some(v) => format!("{} (measured {})", t.text, show(t.metric.unit, *v)),
            None => format!("{} (nothing measured)", t.text),
        })
        .collect();
    Point {
        index,
        value,
        p50_ms: e.p50_ms,
        p99_ms: e.p99_ms,
        error_rate: e.blocking,
        throughput_rps: e.throughput_rps,
        bottleneck: o.report.bottleneck.as_ref().map(|b| b.reason.clone()),
        broken,
        error: o.error.clone(),
    }
}

/// The differences between two sweeps' identities (but for the shard).
pub fn differences(a: &Identity, b: &Identity) -> Vec<String> {
    let (x, y) = (
        serde_json::to_value(a).unwrap_or_default(),
        serde_json::to_value(b).unwrap_or_default(),
    );
    let (Some(x), Some(y)) = (x.as_object(), y.as_object()) else {
        return Vec::new();
    };
    x.iter()
        .filter(|(k, v)| k.as_str() != "shard" && y.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}: {v} against {}", y.get(k).cloned().unwrap_or_default()))
        .collect()
}

/// A parameter's value as people read it.
pub fn fmt_value(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}").trim_end_matches('0').to_string()
    }
}

/// The sweep as a table for people, with its knee.
pub fn render(o: &SweepOut, shard: Option<(u32, u32)>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "sweep of {}, broken when any of: {}",
        o.parameter,
        o.thresholds.join(", ")
    );
    if let Some((k, n)) = shard {
        let _ = writeln!(
            s,
            "shard {k} of {n}: the knee below is among this shard's points only; join shards with --merge"
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:>10}  {:>9}  {:>9}  {:>8}  {:>11}  result",
        o.parameter.split(':').next().unwrap_or("value"),
        "p50",
        "p99",
        "errors",
        "throughput"
    );
    for p in &o.points {
        let result = if let Some(e) = &p.error {
            format!("stopped: {}", e.lines().next().unwrap_or(""))
        } else if p.broken.is_empty() {
            "ok".to_string()
        } else {
            format!("BROKEN: {}", p.broken.join("; "))
        };
        let _ = writeln!(
            s,
            "{:>10}  {:>9}  {:>9}  {:>7.2}%  {:>7.0} rps  {result}",
            fmt_value(p.value),
            fmt_ms(p.p50_ms),
            fmt_ms(p.p99_ms),
            p.error_rate * 100.0,
            p.throughput_rps
        );
    }
    let _ = writeln!(s);
    let _ = write!(s, "{}", knee(o));
    s
}

/// Where the thresholds start or stop holding along the sweep, in words.
/// Traffic breaks things as it grows; capacity (servers, instances) mends
/// them: either way the knee is where holding turns into breaking, or the
/// reverse, and a sweep that turns more than once says so.
pub fn knee(o: &SweepOut) -> String {
    let mut s = String::new();
    let name = &o.parameter;
    let broken: Vec<bool> = o
        .points
        .iter()
        .map(|p| !p.broken.is_empty() || p.error.is_some())
        .collect();
    let turns: Vec<usize> = (1..broken.len())
        .filter(|&i| broken[i] != broken[i - 1])
        .collect();
    let why = |p: &Point| {
        p.broken
            .first()
            .map_or("stopped".to_string(), |b| b.clone())
    };
    if broken.iter().all(|b| !b) {
        let _ = writeln!(
            s,
            "no knee: every point holds; sweep further (--from, --to)"
        );
        return s;
    }
    if broken.iter().all(|&b| b) {
        let _ = writeln!(
            s,
            "no knee: every point breaks (first: {}); sweep over another range",
            why(&o.points[0])
        );
        return s;
    }
    if turns.len() > 1 {
        let at: Vec<String> = turns
            .iter()
            .map(|&i| {
                format!(
                    "{} at {}",
                    if broken[i] { "breaks" } else { "holds again" },
                    fmt_value(o.points[i].value)
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "no single knee: as {name} goes from {} to {}, it {} (noise near a threshold, or a change that helps then hurts); run replications or more points",
            fmt_value(o.points[0].value),
            fmt_value(o.points[o.points.len() - 1].value),
            at.join(", then ")
        );
        return s;
    }
    let i = turns[0];
    let (before, after) = (&o.points[i - 1], &o.points[i]);
    if broken[i] {
        let _ = writeln!(
            s,
            "knee: between {name} = {} (holds) and {} (breaks: {})",
            fmt_value(before.value),
            fmt_value(after.value),
            why(after)
        );
        if let Some(b) = &after.bottleneck {
            let _ = writeln!(s, "at the knee, the bottleneck is {b}");
        }
    } else {
        let _ = writeln!(
            s,
            "holds from {name} = {} (breaks at {}: {})",
            fmt_value(after.value),
            fmt_value(before.value),
            why(before)
        );
        if let Some(b) = &before.bottleneck {
            let _ = writeln!(s, "below it, the bottleneck is {b}");
        }
    }
    s
}
