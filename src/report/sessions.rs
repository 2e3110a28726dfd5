//! The report of each session source (closed-loop users walking tasks):
//! sessions begun, completed, abandoned, and how long a completed one took.

use super::*;
use crate::fmt::ratio;
use crate::sim::Simulation;
use std::fmt::Write as _;

/// One session source's sessions, counted for sessions that began after the
/// warm-up: `started = completed + abandoned + with_failures + left +
/// in_progress`.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SessionReport {
    /// Users in the loop at the end (thinking or waiting).
    pub users: u64,
    /// Sessions begun.
    pub started: u64,
    /// Of those, with every request answered successfully.
    pub completed: u64,
    /// Ended at a failed request (`on_failure: Abandon`).
    pub abandoned: u64,
    /// Walked to the end with at least one failed request
    /// (`on_failure: Continue`).
    pub with_failures: u64,
    /// Cut short because the user left (the traffic multiplier went down).
    pub left: u64,
    /// Still under way at the end.
    pub in_progress: u64,
    /// Requests of abandoned sessions never sent (a task repeated 3 times
    /// counts 3).
    pub tasks_abandoned: u64,
    /// `completed / started`.
    pub completion_ratio: f64,
    /// Completed sessions per second of measured time.
    pub completed_per_s: f64,
    /// Mean duration of a completed session (first request to last
    /// answer, think times included).
    pub mean_ms: Option<f64>,
    /// Median duration of a completed session.
    pub p50_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
}

/// Session sources, keyed by id in the topology's order.
pub type Sessions = Keyed<SessionReport>;

impl KeyedItem for SessionReport {
    const LIST: &'static str = "Sessions";
    const ABOUT: &'static str = "Per session source (a closed loop with `tasks`), keyed by id in the topology's order; present only when there is one.";
}

impl Simulation {
    /// Each session source's report.
    pub(super) fn session_reports(&self, measured_s: f64) -> Sessions {
        let ms = |ns: Option<f64>| ns.map(|v| v / 1e6);
        let model = self.model();
        Keyed(
            (0..model.sources.len())
                .filter_map(|s| {
                    let run = self.session_stats(s)?;
                    let st = &run.stats;
                    let ended = st.completed + st.abandoned + st.with_failures + st.left;
                    Some((
                        model.sources[s].id.clone(),
                        SessionReport {
                            users: run.active(),
                            started: st.started,
                            completed: st.completed,
                            abandoned: st.abandoned,
                            with_failures: st.with_failures,
                            left: st.left,
                            in_progress: st.started.saturating_sub(ended),
                            tasks_abandoned: st.tasks_abandoned,
                            completion_ratio: ratio(st.completed, st.started),
                            completed_per_s: if measured_s > 0.0 {
                                st.completed as f64 / measured_s
                            } else {
                                0.0
                            },
                            mean_ms: ms(st.duration.mean()),
                            p50_ms: ms(st.duration.quantile(0.5)),
                            p99_ms: ms(st.duration.quantile(0.99)),
                        },
                    ))
                })
                .collect(),
        )
    }
}

/// The table's lines on sessions, one per session source.
pub(super) fn write_lines(out: &mut String, sessions: &Sessions) {
    for (id, r) in &sessions.0 {
        let _ = write!(
            out,
            "sessions `{id}`: {} users, {} begun, {} completed ({:.1}%, {:.2}/s)",
            fmt_count(r.users),
            fmt_count(r.started),
            fmt_count(r.completed),
            r.completion_ratio * 100.0,
            r.completed_per_s,
        );
        if r.abandoned > 0 {
            let _ = write!(
                out,
                ", {} abandoned ({} requests not sent)",
                fmt_count(r.abandoned),
                fmt_count(r.tasks_abandoned)
            );
        }
        if r.with_failures > 0 {
            let _ = write!(out, ", {} with failures", fmt_count(r.with_failures));
        }
        if r.left > 0 {
            let _ = write!(out, ", {} cut short as users left", fmt_count(r.left));
        }
        if r.completed > 0 {
            let _ = write!(
                out,
                "; duration p50 {}, p99 {}",
                fmt_ms(r.p50_ms),
                fmt_ms(r.p99_ms)
            );
        }
        let _ = writeln!(out);
    }
}
