//! An app's report section: instances, pools, autoscaling, call policy.

use super::AppState;
use crate::fmt::fmt_count;
use serde::Serialize;
use std::fmt::Write as _;

/// An app's measurements.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AppReport {
    /// Instances running at the end.
    pub instances: u32,
    /// Pool connections (all instances) at the end.
    pub pool_size: Option<u32>,
    /// Calls that waited for a pool connection.
    pub pool_waits: u64,
    /// Pool connections open (what the database granted) at the end.
    pub pool_open: Option<u32>,
    /// Pool connections in use over those open, averaged over the measured
    /// time (with a pool): the pool's own utilization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_utilization: Option<f64>,
    /// Calls that failed because their instance's pool had no connection
    /// (the database refused to open it).
    pub pool_refused: u64,
    /// Autoscaler actions (scale-ups and scale-downs).
    pub scale_actions: u64,
    /// Calls retried by the app's call policy.
    pub call_retries: u64,
    /// Calls that timed out.
    pub call_timeouts: u64,
    /// Calls failed at once by an open breaker.
    pub call_short_circuited: u64,
    /// Times the app's breakers opened.
    pub breaker_trips: u64,
}

impl AppReport {
    /// The lines the table prints for this app (pools and autoscaling,
    /// then its call policy), when there is something to say.
    pub fn write_lines(&self, id: &str, out: &mut String) {
        let a = self;
        if a.pool_waits > 0 || a.scale_actions > 0 || a.pool_refused > 0 {
            let _ = write!(
                out,
                "{id}: {} at the end ({})",
                crate::fmt::fmt_counted(a.instances.into(), "instance"),
                crate::fmt::fmt_counted(a.scale_actions, "autoscaling action"),
            );
            // An app without a pool has no connections to speak of.
            if let (Some(want), Some(got)) = (a.pool_size, a.pool_open) {
                let _ = write!(
                    out,
                    ", pools want {} and got {}; {} waited for one, {} failed without one",
                    crate::fmt::fmt_counted(want.into(), "connection"),
                    fmt_count(got.into()),
                    crate::fmt::fmt_counted(a.pool_waits, "call"),
                    fmt_count(a.pool_refused)
                );
            }
            let _ = writeln!(out);
        }
        if a.call_retries + a.call_timeouts + a.call_short_circuited > 0 {
            let _ = writeln!(
                out,
                "{id}: calls retried {}, timed out {}, short-circuited {} (breakers opened {} times)",
                fmt_count(a.call_retries),
                fmt_count(a.call_timeouts),
                fmt_count(a.call_short_circuited),
                a.breaker_trips
            );
        }
    }
}

impl AppState {
    /// The app's report section.
    pub(crate) fn section(&self) -> AppReport {
        let a = self;
        AppReport {
            instances: a.instances,
            pool_size: a.pool.as_ref().map(|p| p.per_instance * a.instances),
            pool_waits: a.pool.as_ref().map_or(0, |p| p.waited),
            pool_open: a.pool.as_ref().map(|p| p.granted),
            pool_utilization: None,
            pool_refused: a.pool.as_ref().map_or(0, |p| p.refused),
            scale_actions: a.autoscale.as_ref().map_or(0, |x| x.actions),
            call_retries: a.calls.as_ref().map_or(0, |c| c.retries),
            call_timeouts: a.calls.as_ref().map_or(0, |c| c.timeouts),
            call_short_circuited: a.calls.as_ref().map_or(0, |c| c.short_circuited),
            breaker_trips: a.calls.as_ref().map_or(0, |c| c.trips()),
        }
    }
}
