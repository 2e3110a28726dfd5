//! Thresholds on session sources (closed-loop users walking tasks):
//! `sessions_completed{source:shoppers} > 100`, `session_p99 < 30s`.
//! Untagged, they are about the topology's only session source (counts add
//! up over all of them).

use super::{Tag, ThresholdError, err};
use crate::report::{Report, SessionReport};

/// The session metrics (their rows are in `METRICS`, in a block of their own).
pub(super) const SESSION_METRICS: &[&str] = &[
    "sessions_completed",
    "sessions_abandoned",
    "session_completion",
    "session_p50",
    "session_p99",
];

/// True for a session metric.
pub(super) fn is(name: &str) -> bool {
    SESSION_METRICS.contains(&name)
}

/// Session metrics are kept per source, not per class.
pub(super) fn check_tag(name: &str, tag: &Tag) -> Result<(), ThresholdError> {
    match tag {
        Tag::Source(_) => Ok(()),
        Tag::Class(c) => Err(err(
            format!("`{name}{tag}`: sessions are kept per source, not per class (`{c}`)"),
            format!(
                "write `{name}{{source:ID}}` with a session source's id, or tag `p99{{class:{c}}}` for the class's requests"
            ),
        )),
    }
}

/// Reads a session metric off a report: the tagged source's, or the only
/// session source's (counts: the sum over all of them).
pub(super) fn measure(name: &str, tag: Option<&Tag>, end: &Report) -> Option<f64> {
    let one = |r: &SessionReport| -> Option<f64> {
        match name {
            "sessions_completed" => Some(r.completed as f64),
            "sessions_abandoned" => Some(r.abandoned as f64),
            "session_completion" => {
                (r.completed + r.abandoned + r.with_failures > 0).then_some(r.completion_ratio)
            }
            "session_p50" => r.p50_ms,
            "session_p99" => r.p99_ms,
            _ => None,
        }
    };
    match tag {
        Some(Tag::Source(id)) => one(end.sessions.get(id)?),
        Some(Tag::Class(_)) => None,
        None => match &end.sessions.0[..] {
            [] => None,
            [(_, r)] => one(r),
            all => {
                let sum = |f: fn(&SessionReport) -> u64| all.iter().map(|(_, r)| f(r)).sum::<u64>();
                match name {
                    "sessions_completed" => Some(sum(|r| r.completed) as f64),
                    "sessions_abandoned" => Some(sum(|r| r.abandoned) as f64),
                    "session_completion" => {
                        let ended = sum(|r| r.completed + r.abandoned + r.with_failures);
                        (ended > 0).then(|| sum(|r| r.completed) as f64 / ended as f64)
                    }
                    // Quantiles do not add up: name the source.
                    _ => None,
                }
            }
        },
    }
}
