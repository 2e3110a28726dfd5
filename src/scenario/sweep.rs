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
    /// Failed / arrived, as the `error_rate` threshold judges it: once the
    /// point's requests have settled, one still without an answer counts
    /// as failed.
    pub error_rate: f64,
    /// Completed per second.
    pub throughput_rps: f64,
    /// The bottleneck's one-line reason.
    pub bottleneck: Option<String>,
    /// The thresholds that failed, with their measured values.
    pub broken: Vec<String>,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
    /// Per request class (when the sources send more than one, sorted by
    /// name): its p99 and error rate at this point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassPoint>,
}

/// One request class at one point of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClassPoint {
    /// The class's name.
    pub class: String,
    /// Its 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Its failed / arrived (settled, as for the point).
    pub error_rate: f64,
    /// Its completed per second.
    pub throughput_rps: f64,
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
    // What the thresholds judged: the point's requests once settled, a
    // request still without an answer counted as failed (`error_rate`).
    let e = &o.settled.end_to_end;
    let failed = |arrivals: u64, dropped: u64, in_flight: u64| {
        if arrivals == 0 {
            0.0
        } else {
            (dropped + in_flight) as f64 / arrivals as f64
        }
    };
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
        error_rate: failed(e.arrivals, e.dropped, e.in_flight),
        throughput_rps: e.throughput_rps,
        bottleneck: o.report.bottleneck.as_ref().map(|b| b.reason.clone()),
        broken,
        error: o.error.clone(),
        classes: o
            .settled
            .classes
            .0
            .iter()
            .map(|(name, g)| ClassPoint {
                class: name.clone(),
                p99_ms: g.p99_ms,
                error_rate: failed(g.arrivals, g.dropped, g.in_flight),
                throughput_rps: g.throughput_rps,
            })
            .collect(),
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
    // Per-class columns: the classes any point measured, in order.
    let mut classes: Vec<&str> = Vec::new();
    for p in &o.points {
        for c in &p.classes {
            if !classes.contains(&c.class.as_str()) {
                classes.push(&c.class);
            }
        }
    }
    let width = |c: &str| c.chars().count().max(5) + 4;
    let _ = write!(
        s,
        "{:>10}  {:>9}  {:>9}  {:>8}  {:>11}",
        o.parameter.split(':').next().unwrap_or("value"),
        "p50",
        "p99",
        "errors",
        "throughput"
    );
    for c in &classes {
        let w = width(c);
        let _ = write!(
            s,
            "  {:>w$}  {:>w$}",
            format!("p99 {c}"),
            format!("err {c}")
        );
    }
    let _ = writeln!(s, "  result");
    for p in &o.points {
        let result = if let Some(e) = &p.error {
            format!("stopped: {}", e.lines().next().unwrap_or(""))
        } else if p.broken.is_empty() {
            "ok".to_string()
        } else {
            format!("BROKEN: {}", p.broken.join("; "))
        };
        let _ = write!(
            s,
            "{:>10}  {:>9}  {:>9}  {:>7.2}%  {:>7.0} rps",
            fmt_value(p.value),
            fmt_ms(p.p50_ms),
            fmt_ms(p.p99_ms),
            p.error_rate * 100.0,
            p.throughput_rps
        );
        for c in &classes {
            let w = width(c);
            match p.classes.iter().find(|x| x.class == *c) {
                Some(x) => {
                    let _ = write!(
                        s,
                        "  {:>w$}  {:>w$}",
                        fmt_ms(x.p99_ms),
                        format!("{:.2}%", x.error_rate * 100.0)
                    );
                }
                None => {
                    let _ = write!(s, "  {:>w$}  {:>w$}", "-", "-");
                }
            }
        }
        let _ = writeln!(s, "  {result}");
    }
    let _ = writeln!(s);
    let _ = write!(s, "{}", knee(o));
    if let Some(i) = no_effect_from(o) {
        let _ = writeln!(
            s,
            "note: from {} = {} on, every point measures the same: more has no effect here (something else caps it, e.g. a pooler's database connections or the node in front)",
            o.parameter,
            fmt_value(o.points[i].value)
        );
    }
    s
}

/// When a count (`servers:`, `instances:`) is varied and the last points
/// all measure exactly the same as an earlier one: the index of the first
/// of them. A pure function of the runs, so "the same" is exact.
pub fn no_effect_from(o: &SweepOut) -> Option<usize> {
    if !(o.parameter.starts_with("servers:") || o.parameter.starts_with("instances:")) {
        return None;
    }
    let same = |a: &Point, b: &Point| {
        a.p50_ms == b.p50_ms
            && a.p99_ms == b.p99_ms
            && a.error_rate == b.error_rate
            && a.throughput_rps == b.throughput_rps
            && a.broken == b.broken
            && a.error == b.error
            && a.classes == b.classes
    };
    let last = o.points.last()?;
    let first = o.points.iter().position(|p| same(p, last))?;
    let all = o.points[first..].iter().all(|p| same(p, last));
    (all && first + 1 < o.points.len()).then_some(first)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::run;
    use crate::sim::Change;
    use crate::time::{Duration, SEC};

    /// Two classes through one app: `browse` only its own 1 ms, `order`
    /// also a payment call to one server with 2 waiting places (M/M/1/3,
    /// 50 ms). 10% orders: at 40 rps the payments are 20% busy, at 160 rps
    /// 80%, and a full station turns orders away.
    const SHOP: &str = r#"Topology(name: "shop",
        sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 40), mix: {"browse": 0.9, "order": 0.1})],
        nodes: [
            App(id: "app", workers: 1000, service: Constant("1ms"),
                handle: {"browse": [], "order": [Call(to: "pay")]}),
            Station(id: "pay", servers: 1, queue: 2, service: Exponential(mean: "50ms")),
        ])"#;

    fn sweep() -> SweepOut {
        let model = crate::topology::load("shop.ron", SHOP.as_bytes())
            .unwrap()
            .model;
        let s = Scenario::adhoc(
            "shop",
            "shop.ron",
            Duration(300 * SEC),
            Duration(10 * SEC),
            Vec::new(),
        );
        let plan = s.plan(&model).unwrap();
        let points = [40.0, 160.0]
            .iter()
            .enumerate()
            .map(|(i, &rps)| {
                let p = plan.with_change_at_start(Change::Traffic(rps / 40.0));
                point(i as u32, rps, &s, &run(&p, &model, 1, false))
            })
            .collect();
        SweepOut {
            sweep: Identity {
                topology: String::new(),
                scenario: None,
                parameter: "rps".into(),
                from: 40.0,
                to: 160.0,
                steps: 2,
                log: false,
                seed: 1,
                duration: "5m".into(),
                warmup: "10s".into(),
                thresholds: Vec::new(),
                engine: String::new(),
                shard: "1/1".into(),
            },
            parameter: "rps".into(),
            thresholds: Vec::new(),
            points,
        }
    }

    #[test]
    fn points_carry_each_class_and_the_table_shows_it() {
        let o = sweep();
        for p in &o.points {
            let names: Vec<&str> = p.classes.iter().map(|c| c.class.as_str()).collect();
            assert_eq!(names, ["browse", "order"]);
            let (browse, order) = (&p.classes[0], &p.classes[1]);
            // Browsing never waits for the payment station: 1 ms, no errors.
            assert!((browse.p99_ms.unwrap() - 1.0).abs() < 0.05, "{browse:?}");
            assert_eq!(browse.error_rate, 0.0);
            // Orders pay: an M/M/1/3 at rho = 10% of rps x 50 ms. Its
            // blocking is rho^3 (1 - rho) / (1 - rho^4).
            let rho = p.value * 0.1 * 0.05;
            let block = rho.powi(3) * (1.0 - rho) / (1.0 - rho.powi(4));
            assert!(
                (order.error_rate - block).abs() < 0.015 + 0.2 * block,
                "{rho}: {order:?} vs {block}"
            );
            assert!(order.p99_ms.unwrap() > 50.0, "{order:?}");
            // The classes add up to the whole.
            let thr = browse.throughput_rps + order.throughput_rps;
            assert!(
                (thr - p.throughput_rps).abs() < 1e-6 * thr.max(1.0),
                "{thr} vs {}",
                p.throughput_rps
            );
        }
        // At 160 rps the payments are 80% busy: 17% of orders fail, no
        // browsing does.
        assert!(o.points[1].classes[1].error_rate > 0.1);
        let table = render(&o, None);
        let header = table.lines().nth(2).unwrap();
        assert!(
            header.contains("p99 browse") && header.contains("err order"),
            "{table}"
        );
        let row = table.lines().nth(4).unwrap();
        assert!(
            row.contains("0.00%") && row.trim_end().ends_with("ok"),
            "{table}"
        );
        // JSON: per-class entries; a one-class sweep keeps its old shape.
        let j = serde_json::to_value(&o.points[1]).unwrap();
        assert_eq!(j["classes"][1]["class"], "order");
        let mut one = o.points[0].clone();
        one.classes.clear();
        assert!(serde_json::to_value(&one).unwrap().get("classes").is_none());
        let back: Point = serde_json::from_value(serde_json::to_value(&one).unwrap()).unwrap();
        assert!(back.classes.is_empty());
    }
}
