//! The report of each session source (closed-loop users walking tasks):
//! sessions begun, completed, abandoned, how long a completed one took, what
//! each nested task set did, and the same per window for the series.

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
    /// Of the sessions that ended by their own course (completed,
    /// abandoned, or walked to the end with failures), the share completed.
    /// Sessions still under way at the end, and those cut short because
    /// their user left, are not judged either way.
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
    /// Each nested task set (`Set(...)`), in the order written; absent
    /// without one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<SetReport>,
}

/// What one nested task set did, for sessions that began after the
/// warm-up: `entered = left + cut + inside now`.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SetReport {
    /// Its place among the tasks: `3` for the third entry of the session's
    /// list, `3.1` for the first entry of that set.
    pub at: String,
    /// Times a user entered it.
    pub entered: u64,
    /// Times a user left it by its rule (its `interrupt`, or its last task).
    pub left: u64,
    /// Times a user was inside it when the session ended early (abandoned,
    /// or the user left).
    pub cut: u64,
    /// Its entries finished (a set inside it counts once, when left).
    pub tasks: u64,
    /// `tasks / left`: entries walked per visit (for `After(n)`, n; for
    /// `Chance(p)`, about 1/p), when it was left at least once by its rule
    /// and never cut.
    pub tasks_per_visit: Option<f64>,
}

/// One window of a session source's series: every session, warm-up
/// included; `started = completed + abandoned + with_failures + left +
/// (in_progress - the previous window's in_progress)`.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SessionWindowOut {
    /// Window start, seconds.
    pub t_s: f64,
    /// Sessions begun in the window.
    pub started: u64,
    /// Sessions completed in the window (every request answered).
    pub completed: u64,
    /// Sessions abandoned in the window at a failed request.
    pub abandoned: u64,
    /// Sessions walked to their end in the window with a failed request.
    pub with_failures: u64,
    /// Sessions cut short in the window as their user left.
    pub left: u64,
    /// Sessions under way at the window's end.
    pub in_progress: u64,
    /// Median duration of the sessions completed in the window.
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
                            completion_ratio: ratio(
                                st.completed,
                                st.completed + st.abandoned + st.with_failures,
                            ),
                            completed_per_s: if measured_s > 0.0 {
                                st.completed as f64 / measured_s
                            } else {
                                0.0
                            },
                            mean_ms: ms(st.duration.mean()),
                            p50_ms: ms(st.duration.quantile(0.5)),
                            p99_ms: ms(st.duration.quantile(0.99)),
                            sets: st
                                .sets
                                .iter()
                                .zip(&run.model().sets)
                                .skip(1)
                                .map(|(c, m)| SetReport {
                                    at: m.place.clone(),
                                    entered: c.entered,
                                    left: c.left,
                                    cut: c.cut,
                                    tasks: c.tasks,
                                    tasks_per_visit: (c.left > 0 && c.cut == 0)
                                        .then(|| c.tasks as f64 / c.left as f64),
                                })
                                .collect(),
                        },
                    ))
                })
                .collect(),
        )
    }
}

impl Simulation {
    /// Each session source's windows, keyed by id in the topology's order.
    pub(super) fn session_series(&self) -> Vec<(String, Vec<SessionWindowOut>)> {
        let model = self.model();
        let ms = |ns: Option<f64>| ns.map(|v| v / 1e6);
        (0..model.sources.len())
            .filter_map(|s| {
                let run = self.session_stats(s)?;
                let out = run
                    .windows
                    .records()
                    .map(|r| SessionWindowOut {
                        t_s: r.start as f64 / 1e9,
                        started: r.started,
                        completed: r.completed,
                        abandoned: r.abandoned,
                        with_failures: r.with_failures,
                        left: r.left,
                        in_progress: r.in_progress,
                        p50_ms: ms(r.p50_ns),
                        p99_ms: ms(r.p99_ns),
                    })
                    .collect();
                Some((model.sources[s].id.clone(), out))
            })
            .collect()
    }
}

/// The table's lines on sessions, one per session source.
pub(super) fn write_lines(out: &mut String, sessions: &Sessions) {
    for (id, r) in &sessions.0 {
        let _ = write!(
            out,
            "sessions `{id}`: {}, {} begun, {} completed ({:.1}%, {:.2}/s)",
            crate::fmt::fmt_counted(r.users, "user"),
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
        for set in &r.sets {
            let _ = write!(
                out,
                "  set at task {}: entered {}, left {}",
                set.at,
                fmt_count(set.entered),
                fmt_count(set.left)
            );
            if set.cut > 0 {
                let _ = write!(out, ", cut {}", fmt_count(set.cut));
            }
            let _ = write!(out, ", {} tasks", fmt_count(set.tasks));
            if let Some(v) = set.tasks_per_visit {
                let _ = write!(out, " ({v:.2} a visit)");
            }
            let _ = writeln!(out);
        }
    }
}
