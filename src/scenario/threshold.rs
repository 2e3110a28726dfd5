//! Thresholds in the vocabulary people know from k6:
//! `p99(end_to_end) < 200ms`, `error_rate < 0.1%`, `utilization(db) < 0.8`,
//! `hit_ratio(cache) > 0.85 during 2m..10m`,
//! `error_rate < 1% after recovery within 30s`, and per request class or
//! source with k6's tags: `p99{class:order} < 300ms`,
//! `goodput{source:mobile} > 100`.
//!
//! A threshold is a metric (optionally of one node), a comparison, a value
//! with its unit, and optionally the stretch of simulated time it is judged
//! over. [`Threshold::parse`] turns the text into one, or says what is wrong
//! with a hint; [`Threshold::measure`] reads the metric off reports.

use crate::fmt::{fmt_count, fmt_ms};
use crate::report::{NodeReport, Report};
use crate::time::Duration;
use std::fmt;

/// How a measured value is compared with the threshold's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// Whether `measured op limit` holds.
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Lt => measured < limit,
            Op::Le => measured <= limit,
            Op::Gt => measured > limit,
            Op::Ge => measured >= limit,
            Op::Eq => measured == limit,
            Op::Ne => measured != limit,
        }
    }

    /// The comparison as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// The unit a metric is measured in, which decides how its values are
/// written in thresholds and shown in tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds; written with a time unit (`200ms`, `1.5s`).
    Ms,
    /// A fraction from 0 to 1; written as `0.001` or `0.1%`.
    Ratio,
    /// Requests per second.
    Rps,
    /// A count of things.
    Count,
    /// A plain number (a mean number of things, a multiplier).
    Number,
}

impl Unit {
    /// Its name in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Ratio => "ratio",
            Unit::Rps => "rps",
            Unit::Count => "count",
            Unit::Number => "number",
        }
    }
}

/// What a metric needs as its argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    /// End to end only: `error_rate`, `amplification`.
    None,
    /// End to end without an argument (or `end_to_end`), or one node.
    Either,
    /// A node of one of these kinds (empty: any kind).
    Node(&'static [&'static str]),
}

/// A metric people can put a threshold on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// Its name in thresholds.
    pub name: &'static str,
    /// What it means, for `--help` and error hints.
    pub about: &'static str,
    /// Its unit.
    pub unit: Unit,
    arg: Arg,
    /// Counted over the whole run by the component (not per cohort): in a
    /// window it is the difference between the window's end and start.
    cumulative: bool,
}

impl Metric {
    /// Where it applies, as the reference says it: `end to end`, `end to
    /// end or a node`, or the kinds of node it names.
    pub fn scope(&self) -> String {
        match self.arg {
            Arg::None => "end to end".into(),
            Arg::Either => "end to end, or one node: `metric(node)`".into(),
            Arg::Node([]) => "a node: `metric(node)`".into(),
            Arg::Node(kinds) => format!("a node: `metric(node)` of kind {}", kinds.join(" or ")),
        }
    }

    /// True if it can name a node of `kind` (as written in files).
    pub fn applies_to(&self, kind: &str) -> bool {
        match self.arg {
            Arg::None => false,
            Arg::Either | Arg::Node([]) => true,
            Arg::Node(kinds) => kinds.contains(&kind),
        }
    }
}

const CACHES: &[&str] = &["Cache", "Cdn"];
const DATABASES: &[&str] = &["Database", "Replica"];

/// Every metric, in the order `--help` lists them.
pub const METRICS: &[Metric] = &[
    m("p50", "median response time", Unit::Ms, Arg::Either, false),
    m(
        "p95",
        "95th percentile response time",
        Unit::Ms,
        Arg::Either,
        false,
    ),
    m(
        "p99",
        "99th percentile response time",
        Unit::Ms,
        Arg::Either,
        false,
    ),
    m(
        "p999",
        "99.9th percentile response time",
        Unit::Ms,
        Arg::Either,
        false,
    ),
    m("mean", "mean response time", Unit::Ms, Arg::Either, false),
    m(
        "max",
        "slowest response (end to end)",
        Unit::Ms,
        Arg::None,
        false,
    ),
    m(
        "error_rate",
        "share of requests that failed (dropped, errors, timeouts after retries)",
        Unit::Ratio,
        Arg::Either,
        false,
    ),
    m(
        "throughput",
        "completed requests per second",
        Unit::Rps,
        Arg::Either,
        false,
    ),
    m(
        "completed",
        "requests completed",
        Unit::Count,
        Arg::Either,
        false,
    ),
    m(
        "arrivals",
        "requests that arrived",
        Unit::Count,
        Arg::Either,
        false,
    ),
    m(
        "failed",
        "requests that failed",
        Unit::Count,
        Arg::Either,
        false,
    ),
    m(
        "goodput",
        "requests per second answered successfully within the deadline (the scenario's `deadline`, or the client's timeout; retries count against it)",
        Unit::Rps,
        Arg::None,
        false,
    ),
    m(
        "good_ratio",
        "share of requests answered successfully within the deadline",
        Unit::Ratio,
        Arg::None,
        false,
    ),
    m(
        "amplification",
        "attempts per user request (retries amplify load)",
        Unit::Number,
        Arg::None,
        false,
    ),
    m(
        "retries",
        "client retries sent",
        Unit::Count,
        Arg::None,
        false,
    ),
    m(
        "timeouts",
        "client attempts that timed out",
        Unit::Count,
        Arg::None,
        false,
    ),
    m(
        "utilization",
        "busy servers / servers",
        Unit::Ratio,
        Arg::Node(&[]),
        false,
    ),
    m(
        "queue",
        "mean number waiting",
        Unit::Number,
        Arg::Node(&[]),
        false,
    ),
    m(
        "hit_ratio",
        "cache hits / gets",
        Unit::Ratio,
        Arg::Node(CACHES),
        true,
    ),
    m(
        "stale_reads",
        "reads that returned an old value",
        Unit::Count,
        Arg::Node(&["Replica"]),
        true,
    ),
    m(
        "stale_ratio",
        "stale reads / reads",
        Unit::Ratio,
        Arg::Node(&["Replica"]),
        true,
    ),
    m(
        "connections",
        "mean connections in use",
        Unit::Number,
        Arg::Node(DATABASES),
        false,
    ),
    m(
        "refused",
        "queries refused: every connection in use",
        Unit::Count,
        Arg::Node(DATABASES),
        false,
    ),
    m(
        "duplicate_writes",
        "writes applied twice (double charges)",
        Unit::Count,
        Arg::Node(&["Database"]),
        true,
    ),
    m(
        "lost_writes",
        "writes lost at failover",
        Unit::Count,
        Arg::Node(&["Database"]),
        true,
    ),
    m(
        "pool_refused",
        "calls failed because the pool could not open a connection",
        Unit::Count,
        Arg::Node(&["App"]),
        true,
    ),
    m(
        "pool_waits",
        "calls that waited for a pool connection",
        Unit::Count,
        Arg::Node(&["App"]),
        true,
    ),
    m(
        "instances",
        "app instances at the end",
        Unit::Count,
        Arg::Node(&["App"]),
        false,
    ),
    m(
        "rejected",
        "requests refused by a rate limiter (429)",
        Unit::Count,
        Arg::Node(&["RateLimiter"]),
        true,
    ),
    m(
        "dead_lettered",
        "messages that failed every delivery",
        Unit::Count,
        Arg::Node(&["Queue"]),
        true,
    ),
    m(
        "duplicates",
        "messages whose side effect happened twice",
        Unit::Count,
        Arg::Node(&["Queue"]),
        true,
    ),
];

const fn m(
    name: &'static str,
    about: &'static str,
    unit: Unit,
    arg: Arg,
    cumulative: bool,
) -> Metric {
    Metric {
        name,
        about,
        unit,
        arg,
        cumulative,
    }
}

/// The metrics that can be tagged with a class or a source: what is kept
/// end to end per class and per source.
pub const TAGGABLE: &[&str] = &[
    "p50",
    "p95",
    "p99",
    "p999",
    "mean",
    "max",
    "error_rate",
    "throughput",
    "goodput",
    "good_ratio",
    "completed",
    "arrivals",
    "failed",
];

/// A k6-style tag: the part of the traffic a threshold judges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tag {
    /// `{class:NAME}`: one request class (of the sources' mixes).
    Class(String),
    /// `{source:ID}`: one source's requests.
    Source(String),
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Class(c) => write!(f, "{{class:{c}}}"),
            Tag::Source(s) => write!(f, "{{source:{s}}}"),
        }
    }
}

/// The stretch of simulated time a threshold is judged over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Window {
    /// After the scenario's warm-up to its end.
    Whole,
    /// `during A..B` (or `during A..` to the end).
    During(Duration, Option<Duration>),
    /// `after recovery within D`: from D after the timeline's last
    /// restoring change (a node up, a partition healed...) to the end.
    AfterRecovery(Duration),
}

/// A parsed threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// As written.
    pub text: String,
    /// The metric.
    pub metric: Metric,
    /// The node it is about; `None` for end to end.
    pub node: Option<String>,
    /// The class or source it is about (`None`: all the traffic).
    pub tag: Option<Tag>,
    /// The comparison.
    pub op: Op,
    /// The limit, in the metric's unit (ms for times, a fraction for ratios).
    pub limit: f64,
    /// When it is judged.
    pub window: Window,
}

/// Why a threshold's text does not parse.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for ThresholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n   = hint: {}", self.message, self.hint)
    }
}

fn err(message: impl Into<String>, hint: impl Into<String>) -> ThresholdError {
    ThresholdError {
        message: message.into(),
        hint: hint.into(),
    }
}

/// The names of every metric, for hints.
pub fn metric_names() -> String {
    METRICS
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Threshold {
    /// Parses `metric[(node)] op value [during A..B | after recovery within D]`.
    pub fn parse(text: &str) -> Result<Threshold, ThresholdError> {
        let example = "e.g. `p99(end_to_end) < 200ms` or `utilization(db) < 0.8 during 2m..10m`";
        let s = text.trim();
        // The window, if any, comes after the value.
        let (head, window) = split_window(s)?;
        let op_at = head.find(['<', '>', '=', '!']).ok_or_else(|| {
            err(
                format!("`{s}` has no comparison"),
                format!("use <, <=, >, >=, == or !=; {example}"),
            )
        })?;
        let (lhs, rest) = head.split_at(op_at);
        let (op, value) = [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .iter()
        .find_map(|(sym, op)| rest.strip_prefix(sym).map(|v| (*op, v.trim())))
        .ok_or_else(|| {
            err(
                format!(
                    "`{}` is not a comparison",
                    rest.chars().take(2).collect::<String>()
                ),
                "use <, <=, >, >=, == or !=",
            )
        })?;
        if value.starts_with(['<', '>', '=']) {
            return Err(err(
                format!("`{rest}` is not a comparison"),
                "use <, <=, >, >=, == or !=",
            ));
        }
        let (lhs, tag) = split_tag(lhs.trim())?;
        let (name, arg) = match lhs.find('(') {
            Some(open) => {
                let close = lhs.rfind(')').filter(|&c| c > open).ok_or_else(|| {
                    err(
                        format!("`{lhs}` opens a bracket it does not close"),
                        "write `metric(node)`, e.g. `utilization(db)`",
                    )
                })?;
                if !lhs[close + 1..].trim().is_empty() {
                    return Err(err(
                        format!(
                            "unexpected `{}` after `{}`",
                            &lhs[close + 1..],
                            &lhs[..=close]
                        ),
                        example,
                    ));
                }
                let arg = lhs[open + 1..close].trim().trim_matches('"').trim();
                (lhs[..open].trim(), Some(arg))
            }
            None => (lhs, None),
        };
        if name.is_empty() {
            return Err(err(
                "a threshold starts with a metric",
                format!("the metrics are: {}", metric_names()),
            ));
        }
        let metric = *METRICS.iter().find(|m| m.name == name).ok_or_else(|| {
            let hint = match crate::diag::closest(name, METRICS.iter().map(|m| m.name)) {
                Some(c) => format!("did you mean `{c}`? (metrics: {})", metric_names()),
                None => format!("the metrics are: {}", metric_names()),
            };
            err(format!("unknown metric `{name}`"), hint)
        })?;
        let node = match (metric.arg, arg) {
            (Arg::None, None) | (Arg::Either, None) => None,
            (Arg::None, Some("end_to_end")) | (Arg::Either, Some("end_to_end")) => None,
            (Arg::None, Some(a)) => {
                return Err(err(
                    format!("`{name}` is measured end to end, not per node (`{a}`)"),
                    format!("write `{name} ...` without a node"),
                ));
            }
            (Arg::Either, Some(a)) | (Arg::Node(_), Some(a)) => {
                if a.is_empty() {
                    return Err(err(
                        format!("`{name}()` names no node"),
                        format!("write `{name}(node-id)`"),
                    ));
                }
                Some(a.to_string())
            }
            (Arg::Node(_), None) => {
                return Err(err(
                    format!("`{name}` is measured per node; which node?"),
                    format!("write `{name}(node-id)`, e.g. `{name}(db)`"),
                ));
            }
        };
        if let Some(tag) = &tag {
            if let Some(n) = &node {
                return Err(err(
                    format!(
                        "`{name}(...){tag}`: classes and sources are measured end to end, not at a node (`{n}`)"
                    ),
                    format!("write `{name}{tag}` without a node"),
                ));
            }
            if !TAGGABLE.contains(&name) {
                return Err(err(
                    format!("`{name}` is not kept per class or source"),
                    format!("tag one of: {}", TAGGABLE.join(", ")),
                ));
            }
        }
        let limit = parse_value(value, metric)?;
        Ok(Threshold {
            text: s.to_string(),
            metric,
            node,
            tag,
            op,
            limit,
            window,
        })
    }

    /// Reads the metric off `end`, a report at the end of the threshold's
    /// window; `start` is a report at its start (for counters the component
    /// keeps over the whole run). `None` when there is nothing to measure
    /// (no request completed, no node of that id).
    pub fn measure(&self, end: &Report, start: Option<&Report>) -> Option<f64> {
        let delta = |f: &dyn Fn(&Report) -> Option<u64>| -> Option<f64> {
            let e = f(end)?;
            let s = if self.metric.cumulative {
                start.and_then(f).unwrap_or(0)
            } else {
                0
            };
            Some(e.saturating_sub(s) as f64)
        };
        let name = self.metric.name;
        if let Some(tag) = &self.tag {
            return measure_group(name, tag, end);
        }
        let Some(id) = &self.node else {
            let e = &end.end_to_end;
            return match name {
                "p50" => e.p50_ms,
                "p95" => e.p95_ms,
                "p99" => e.p99_ms,
                "p999" => e.p999_ms,
                "mean" => e.mean_ms,
                "max" => e.max_ms,
                "error_rate" => {
                    // Requests still without an answer after the window has
                    // settled count as failed.
                    (e.arrivals > 0).then(|| (e.dropped + e.in_flight) as f64 / e.arrivals as f64)
                }
                "throughput" => Some(e.throughput_rps),
                "goodput" => Some(e.goodput_rps.unwrap_or(e.throughput_rps)),
                "good_ratio" => (e.arrivals > 0)
                    .then(|| e.good.unwrap_or(e.completed) as f64 / e.arrivals as f64),
                "completed" => Some(e.completed as f64),
                "arrivals" => Some(e.arrivals as f64),
                "failed" => Some((e.dropped + e.in_flight) as f64),
                "amplification" => (e.arrivals > 0).then_some(e.amplification),
                "retries" => Some(e.retries as f64),
                "timeouts" => Some(e.timed_out as f64),
                _ => None,
            };
        };
        let node = |r: &Report| -> Option<NodeReport> { r.nodes.get(id).cloned() };
        let n = node(end)?;
        match name {
            "p50" => n.p50_ms,
            "p95" => n.p95_ms,
            "p99" => n.p99_ms,
            "p999" => n.p999_ms,
            "mean" => n.mean_sojourn_ms,
            "error_rate" => (n.arrivals > 0)
                .then(|| (n.dropped + n.errors + n.in_flight) as f64 / n.arrivals as f64),
            "throughput" => Some(n.throughput_rps),
            "completed" => Some(n.completed as f64),
            "arrivals" => Some(n.arrivals as f64),
            "failed" => Some((n.dropped + n.errors) as f64),
            "utilization" => Some(n.utilization),
            "queue" => Some(n.mean_queue_len),
            "hit_ratio" => {
                let hits = delta(&|r| node(r)?.cache.map(|c| c.hits))?;
                let misses = delta(&|r| node(r)?.cache.map(|c| c.misses))?;
                (hits + misses > 0.0).then(|| hits / (hits + misses))
            }
            "stale_reads" => delta(&|r| node(r)?.replica.map(|x| x.stale_reads)),
            "stale_ratio" => {
                let stale = delta(&|r| node(r)?.replica.map(|x| x.stale_reads))?;
                let reads = delta(&|r| node(r)?.replica.map(|x| x.reads))?;
                (reads > 0.0).then(|| stale / reads)
            }
            "connections" => n.database.map(|d| d.mean_connections),
            "refused" => n.database.map(|d| d.refused as f64),
            "duplicate_writes" => delta(&|r| node(r)?.database.map(|d| d.duplicate_writes)),
            "lost_writes" => delta(&|r| node(r)?.database.map(|d| d.lost_writes)),
            "pool_refused" => delta(&|r| node(r)?.app.map(|a| a.pool_refused)),
            "pool_waits" => delta(&|r| node(r)?.app.map(|a| a.pool_waits)),
            "instances" => n.app.map(|a| a.instances as f64),
            "rejected" => delta(&|r| node(r)?.rejected),
            "dead_lettered" => delta(&|r| node(r)?.queue.map(|q| q.dead_lettered)),
            "duplicates" => delta(&|r| node(r)?.queue.map(|q| q.duplicates)),
            _ => None,
        }
    }

    /// The node kinds this threshold's metric applies to (empty: any).
    pub fn kinds(&self) -> &'static [&'static str] {
        match self.metric.arg {
            Arg::Node(k) => k,
            _ => &[],
        }
    }

    /// A value of this metric as people read it: `212ms`, `0.43%`, `1,250 rps`.
    pub fn show(&self, v: f64) -> String {
        show(self.metric.unit, v)
    }
}

/// Reads a tagged metric off a report: the class's (or source's) section,
/// or the end-to-end total when the topology has only that one.
fn measure_group(name: &str, tag: &Tag, end: &Report) -> Option<f64> {
    let (groups, id) = match tag {
        Tag::Class(c) => (&end.classes, c),
        Tag::Source(s) => (&end.sources, s),
    };
    let e = &end.end_to_end;
    let whole;
    let g = if groups.is_empty() {
        // One class (or source): it is all the traffic.
        whole = crate::report::GroupReport {
            arrivals: e.arrivals,
            completed: e.completed,
            dropped: e.dropped,
            in_flight: e.in_flight,
            blocking: e.blocking,
            throughput_rps: e.throughput_rps,
            good: e.good.unwrap_or(e.completed),
            goodput_rps: e.goodput_rps.unwrap_or(e.throughput_rps),
            mean_ms: e.mean_ms,
            p50_ms: e.p50_ms,
            p95_ms: e.p95_ms,
            p99_ms: e.p99_ms,
            p999_ms: e.p999_ms,
            max_ms: e.max_ms,
        };
        &whole
    } else {
        groups.get(id)?
    };
    let share = |n: u64| (g.arrivals > 0).then(|| n as f64 / g.arrivals as f64);
    match name {
        "p50" => g.p50_ms,
        "p95" => g.p95_ms,
        "p99" => g.p99_ms,
        "p999" => g.p999_ms,
        "mean" => g.mean_ms,
        "max" => g.max_ms,
        "error_rate" => share(g.dropped + g.in_flight),
        "throughput" => Some(g.throughput_rps),
        "goodput" => Some(g.goodput_rps),
        "good_ratio" => share(g.good),
        "completed" => Some(g.completed as f64),
        "arrivals" => Some(g.arrivals as f64),
        "failed" => Some((g.dropped + g.in_flight) as f64),
        _ => None,
    }
}

/// Splits a `{class:NAME}` or `{source:ID}` tag off the end of `lhs`.
fn split_tag(lhs: &str) -> Result<(&str, Option<Tag>), ThresholdError> {
    let example = "write `p99{class:order} < 300ms` or `error_rate{source:mobile} < 1%`";
    let Some(open) = lhs.find('{') else {
        if lhs.contains('}') {
            return Err(err(
                format!("`{lhs}` closes a tag it does not open"),
                example,
            ));
        }
        return Ok((lhs, None));
    };
    let close = lhs
        .rfind('}')
        .filter(|&c| c > open)
        .ok_or_else(|| err(format!("`{lhs}` opens a tag it does not close"), example))?;
    if !lhs[close + 1..].trim().is_empty() {
        return Err(err(
            format!(
                "unexpected `{}` after the tag `{}`",
                lhs[close + 1..].trim(),
                &lhs[open..=close]
            ),
            example,
        ));
    }
    let inner = &lhs[open + 1..close];
    let (key, value) = inner
        .split_once(':')
        .ok_or_else(|| err(format!("the tag `{{{inner}}}` has no `:`"), example))?;
    let value = value.trim().trim_matches('"').trim();
    if value.is_empty() {
        return Err(err(format!("the tag `{{{inner}}}` names nothing"), example));
    }
    let tag = match key.trim() {
        "class" => Tag::Class(value.to_string()),
        "source" => Tag::Source(value.to_string()),
        other => {
            return Err(err(
                format!("unknown tag `{other}`"),
                "the tags are `class` (a request class of the sources' mixes) and `source` (a source's id)",
            ));
        }
    };
    Ok((lhs[..open].trim_end(), Some(tag)))
}

/// A value in a unit as people read it.
pub fn show(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Ms => fmt_ms(Some(v)),
        Unit::Ratio => {
            let p = v * 100.0;
            if p == 0.0 {
                "0%".into()
            } else if p.abs() >= 10.0 {
                format!("{p:.1}%")
            } else if p.abs() >= 0.1 {
                format!("{p:.2}%")
            } else {
                format!("{p:.3}%")
            }
        }
        Unit::Rps => format!("{} rps", fmt_count(v.round().max(0.0) as u64)),
        Unit::Count if v.fract() == 0.0 && v >= 0.0 => fmt_count(v as u64),
        Unit::Count | Unit::Number => {
            if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        }
    }
}

fn parse_value(value: &str, metric: Metric) -> Result<f64, ThresholdError> {
    let v = value.trim().replace('_', "");
    if v.is_empty() {
        return Err(err(
            "the threshold has no value after its comparison",
            "e.g. `< 200ms`, `< 0.1%`, `> 0.85`",
        ));
    }
    match metric.unit {
        Unit::Ms => {
            if v.parse::<f64>().is_ok() {
                return Err(err(
                    format!("`{}` is a time: `{v}` needs a unit", metric.name),
                    format!("write `{v}ms` or `{v}s`"),
                ));
            }
            Duration::parse(&v).map(|d| d.0 as f64 / 1e6).map_err(|e| {
                err(
                    format!("`{v}` is not a time: {e}"),
                    "write e.g. `200ms`, `1.5s`",
                )
            })
        }
        _ => {
            let (num, scale) = match v.strip_suffix('%') {
                Some(n) if metric.unit == Unit::Ratio => (n.trim(), 0.01),
                Some(_) => {
                    return Err(err(
                        format!(
                            "`{}` is not a ratio, so `{v}` cannot be a percentage",
                            metric.name
                        ),
                        "write a plain number",
                    ));
                }
                None => (v.as_str(), 1.0),
            };
            let num = num.strip_suffix("rps").map(str::trim).unwrap_or(num);
            let x: f64 = num.parse().map_err(|_| {
                let hint = if Duration::parse(num).is_ok() {
                    format!("`{}` is not a time; write a plain number", metric.name)
                } else {
                    "write a number, e.g. `0.8` or `0.1%`".to_string()
                };
                err(format!("`{v}` is not a number"), hint)
            })?;
            if !x.is_finite() {
                return Err(err(
                    format!("`{v}` is not a finite number"),
                    "write a number",
                ));
            }
            Ok(x * scale)
        }
    }
}

/// Splits `... during A..B` / `... after recovery within D` off the end.
fn split_window(s: &str) -> Result<(&str, Window), ThresholdError> {
    let dur = |x: &str| {
        Duration::parse(x.trim()).map_err(|e| {
            err(
                format!("`{}` is not a time: {e}", x.trim()),
                "write e.g. `2m`, `30s`",
            )
        })
    };
    if let Some(at) = s.find(" during ") {
        let spec = s[at + 8..].trim();
        let (a, b) = spec.split_once("..").ok_or_else(|| {
            err(
                format!("`during {spec}` is not a stretch of time"),
                "write `during 2m..10m` (or `during 2m..` to the end)",
            )
        })?;
        let from = dur(a)?;
        let to = if b.trim().is_empty() {
            None
        } else {
            Some(dur(b)?)
        };
        if let Some(t) = to
            && t <= from
        {
            return Err(err(
                format!("`during {spec}` ends before it starts"),
                "write the earlier time first",
            ));
        }
        return Ok((&s[..at], Window::During(from, to)));
    }
    if let Some(at) = s.find(" after ") {
        let spec = s[at + 7..].trim();
        let Some(d) = spec.strip_prefix("recovery within ") else {
            return Err(err(
                format!("`after {spec}` is not a window"),
                "write `after recovery within 30s`, or `during 5m..` for a fixed time",
            ));
        };
        return Ok((&s[..at], Window::AfterRecovery(dur(d)?)));
    }
    Ok((s, Window::Whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_k6_vocabulary() {
        let t = Threshold::parse("p99(end_to_end) < 200ms").unwrap();
        assert_eq!(
            (t.metric.name, t.node.as_deref(), t.op, t.limit, t.window),
            ("p99", None, Op::Lt, 200.0, Window::Whole)
        );
        let t = Threshold::parse("error_rate < 0.1%").unwrap();
        assert!((t.limit - 0.001).abs() < 1e-12);
        let t = Threshold::parse("utilization(\"db\") < 0.8 during 2m..10m").unwrap();
        assert_eq!(t.node.as_deref(), Some("db"));
        assert_eq!(
            t.window,
            Window::During(
                Duration::parse("2m").unwrap(),
                Some(Duration::parse("10m").unwrap())
            )
        );
        let t = Threshold::parse("hit_ratio(cache) >= 0.85 during 1m..").unwrap();
        assert_eq!(
            t.window,
            Window::During(Duration::parse("1m").unwrap(), None)
        );
        let t = Threshold::parse("stale_reads(replica-1) == 0").unwrap();
        assert_eq!((t.op, t.limit), (Op::Eq, 0.0));
        let t = Threshold::parse("error_rate < 1% after recovery within 30s").unwrap();
        assert_eq!(
            t.window,
            Window::AfterRecovery(Duration::parse("30s").unwrap())
        );
        let t = Threshold::parse("p99 <= 1.5s").unwrap();
        assert_eq!(t.limit, 1500.0);
    }

    #[test]
    fn explains_mistakes() {
        let e = |s: &str| Threshold::parse(s).unwrap_err().to_string();
        assert!(
            e("p99 < 200").contains("write `200ms`"),
            "{}",
            e("p99 < 200")
        );
        assert!(e("utilisation(db) < 0.8").contains("did you mean `utilization`"));
        assert!(e("utilization < 0.8").contains("which node"));
        assert!(e("amplification(db) < 2").contains("end to end"));
        assert!(e("p99 200ms").contains("no comparison"));
        assert!(e("p99 => 200ms").contains("not a comparison"));
        assert!(e("throughput > 5%").contains("not a ratio"));
        assert!(e("error_rate < 0.1 during 5m..2m").contains("ends before"));
        assert!(e("error_rate < 0.1 after 30s").contains("recovery within"));
        assert!(e("utilization(db < 0.8").contains("does not close"));
        assert!(e("error_rate <").contains("no value"));
    }

    #[test]
    fn compares_and_shows() {
        assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0) && Op::Le.holds(2.0, 2.0));
        assert!(Op::Ne.holds(1.0, 0.0) && Op::Eq.holds(0.0, 0.0) && Op::Ge.holds(3.0, 3.0));
        assert_eq!(show(Unit::Ratio, 0.0043), "0.43%");
        assert_eq!(show(Unit::Ms, 212.0), "212ms");
        assert_eq!(show(Unit::Rps, 1250.4), "1,250 rps");
        assert_eq!(show(Unit::Count, 3.0), "3");
    }
}
