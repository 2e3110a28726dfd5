//! Why a run stopped early, as people read it.

use crate::time::{Duration, SimTime};
use std::fmt;

/// Events in a row at one instant past which a run is stopped (the
/// default of `RunConfig::max_still`): no real
/// burst comes near it (a burst is at most a million requests, a handful of
/// events each), and at about ten million events a second it is found in
/// seconds, not minutes.
pub const STILL_LIMIT: u64 = 50_000_000;

/// Why a run stopped early: budgets against runaway work.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    /// More events than [`RunConfig::max_events`].
    EventBudget {
        /// Simulated time when it stopped.
        at: SimTime,
        /// The budget.
        limit: u64,
    },
    /// More requests in flight than [`RunConfig::max_in_flight`].
    InFlightBudget {
        /// Simulated time when it stopped.
        at: SimTime,
        /// The budget.
        limit: usize,
        /// The node holding the most requests, and how many.
        worst: Option<(String, usize)>,
    },
    /// More than `RunConfig::max_still` events in a row at one instant: simulated
    /// time stopped moving (work that answers and is asked again at once).
    TimeStoodStill {
        /// The instant.
        at: SimTime,
        /// Events run at it.
        events: u64,
    },
    /// A recorded change (`Exact(time, events, ...)`) does not fit this run:
    /// its event count is not reached by its time, or is passed before it.
    ReplayMismatch {
        /// The recorded time.
        at: SimTime,
        /// The recorded event count.
        recorded: u64,
        /// Events run when the replay stopped.
        ran: u64,
        /// Simulated time when the replay stopped.
        now: SimTime,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::EventBudget { at, limit } => write!(
                f,
                "stopped at t = {}: the run used its budget of {limit} events\n   = hint: shorten --duration, lower the traffic, or raise --max-events",
                Duration(*at)
            ),
            RunError::InFlightBudget { at, limit, worst } => {
                write!(
                    f,
                    "stopped at t = {}: more than {limit} requests in flight",
                    Duration(*at)
                )?;
                if let Some((id, n)) = worst {
                    write!(
                        f,
                        "; {n} of them are at `{id}`, whose queue grows without bound because it gets more work than it can serve"
                    )?;
                }
                write!(
                    f,
                    "\n   = hint: add servers, set a `queue:` limit so excess is dropped, or lower the traffic (or raise --max-in-flight)"
                )
            }
            RunError::TimeStoodStill { at, events } => write!(
                f,
                "stopped at t = {}: simulated time stood still for {} events in a row; requests are answered at once and sent again at once (closed-loop users with no think time, or retries with no backoff, meeting a node that fails them instantly: down, a full queue, a rate limit)\n   = hint: give the users a think time, give retries a backoff, or let the node that refuses them serve",
                Duration(*at),
                crate::fmt::fmt_count(*events)
            ),
            RunError::ReplayMismatch {
                at,
                recorded,
                ran,
                now,
            } => {
                let what = if ran < recorded {
                    format!(
                        "by t = {} only {} events had run",
                        Duration(*at),
                        crate::fmt::fmt_count(*ran)
                    )
                } else {
                    format!(
                        "{} events had run by t = {}, more than that",
                        crate::fmt::fmt_count(*ran),
                        Duration(*now)
                    )
                };
                write!(
                    f,
                    "a recorded change made at t = {} after {} events does not fit this run: {what}\n   = hint: an `Exact(time, events, ...)` item is what a saved session records, and replays only with the same topology, seed and earlier changes; to make a change at a time, write `At(\"{}\", ...)`",
                    Duration(*at),
                    crate::fmt::fmt_count(*recorded),
                    Duration(*at),
                )
            }
        }
    }
}

impl std::error::Error for RunError {}
