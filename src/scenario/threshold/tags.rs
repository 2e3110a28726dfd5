//! k6-style tags (`{class:order}`, `{source:mobile}`): the part of the
//! traffic a threshold judges, and measuring a metric for it.

use super::{ThresholdError, err};
use crate::report::Report;
use std::fmt;

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

/// Reads a tagged metric off a report: the class's (or source's) section,
/// or the end-to-end total when the topology has only that one.
pub(super) fn measure_group(name: &str, tag: &Tag, end: &Report) -> Option<f64> {
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
pub(super) fn split_tag(lhs: &str) -> Result<(&str, Option<Tag>), ThresholdError> {
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
