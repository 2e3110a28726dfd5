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

mod metrics;
mod sessions;
mod tags;
#[cfg(test)]
mod tests;
mod value;

pub use metrics::{METRICS, Metric, metric_names};
pub use tags::{TAGGABLE, Tag};
pub use value::show;

use crate::report::{NodeReport, Report};
use crate::time::Duration;
use metrics::Arg;
use std::fmt;
use tags::{measure_group, split_tag};
use value::{parse_value, split_window};

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
            (Arg::Either, Some(a)) | (Arg::Node(_) | Arg::ReadThrough, Some(a)) => {
                if a.is_empty() {
                    return Err(err(
                        format!("`{name}()` names no node"),
                        format!("write `{name}(node-id)`"),
                    ));
                }
                Some(a.to_string())
            }
            (Arg::Node(_) | Arg::ReadThrough, None) => {
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
            if sessions::is(name) {
                sessions::check_tag(name, tag)?;
            } else if !TAGGABLE.contains(&name) {
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
        if sessions::is(name) {
            return sessions::measure(name, self.tag.as_ref(), end);
        }
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
            "fetches" => delta(&|r| node(r)?.cache?.read_through.map(|t| t.fetches)),
            "failed_fetches" => delta(&|r| node(r)?.cache?.read_through.map(|t| t.failed)),
            "late_fills" => delta(&|r| node(r)?.cache?.read_through.map(|t| t.late_fills)),
            "shared_fetches" => delta(&|r| {
                let c = node(r)?.cache?;
                c.read_through.map(|_| c.coalesced)
            }),
            "dead_lettered" => delta(&|r| node(r)?.queue.map(|q| q.dead_lettered)),
            "duplicates" => delta(&|r| node(r)?.queue.map(|q| q.duplicates)),
            _ => None,
        }
    }

    /// The node kinds this threshold's metric applies to (empty: any).
    pub fn kinds(&self) -> &'static [&'static str] {
        match self.metric.arg {
            Arg::Node(k) => k,
            Arg::ReadThrough => &["Cache"],
            _ => &[],
        }
    }

    /// A value of this metric as people read it: `212ms`, `0.43%`, `1,250 rps`.
    pub fn show(&self, v: f64) -> String {
        show(self.metric.unit, v)
    }
}
