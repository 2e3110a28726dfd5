//! What the engine measures while it runs.
//!
//! Counters follow a cohort rule so that the books always balance: a visit
//! (or a request, end to end) counts only if it *arrived* after the warm-up,
//! and then it is counted exactly once more when it completes or is dropped.
//! So `arrivals = completed + dropped + in flight` holds exactly at every
//! moment. Time averages (utilization, queue length) integrate levels over
//! `[warm-up, now]`.
//!
//! Windows (default 1 s of simulated time) keep a short record per node for
//! charts; they include the warm-up and are kept in a ring of bounded size.

pub mod groups;
pub mod histogram;
pub mod sessions;

pub use groups::{GroupStats, Groups};
pub use histogram::Histogram;
pub use sessions::{SessionSeries, SessionWindowRecord};

use crate::time::SimTime;
use std::collections::VecDeque;

/// A quantity that changes at instants (busy servers, queue length), with
/// its integral over time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Level {
    value: u64,
    last: SimTime,
    area: u128,
}

impl Level {
    /// Starts at `value` at time 0.
    pub fn new(value: u64) -> Self {
        Level {
            value,
            last: 0,
            area: 0,
        }
    }

    /// The current value.
    #[inline]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Changes the value at `t` (not before the last change).
    #[inline]
    pub fn set(&mut self, t: SimTime, value: u64) {
        self.area += self.value as u128 * (t - self.last) as u128;
        self.last = t;
        self.value = value;
    }

    /// Adds one at `t`.
    #[inline]
    pub fn inc(&mut self, t: SimTime) {
        self.set(t, self.value + 1);
    }

    /// Subtracts one at `t`.
    #[inline]
    pub fn dec(&mut self, t: SimTime) {
        self.set(t, self.value - 1);
    }

    /// The integral from 0 to `t` (value x nanoseconds).
    #[inline]
    pub fn area_at(&self, t: SimTime) -> u128 {
        self.area + self.value as u128 * t.saturating_sub(self.last) as u128
    }
}

/// Integrals of a node's levels, taken at one instant (window starts, warm-up).
#[derive(Clone, Copy, Debug, Default)]
pub struct Areas {
    /// Busy servers x ns.
    pub busy: u128,
    /// Waiting requests x ns.
    pub waiting: u128,
    /// Server capacity x ns.
    pub capacity: u128,
    /// Busy servers waiting on calls (not doing their own work) x ns.
    pub calling: u128,
    /// Busy servers waiting for a pool connection x ns.
    pub pool_wait: u128,
    /// An app's pool connections in use x ns.
    pub pool_busy: u128,
    /// An app's pool connections open x ns.
    pub pool_open: u128,
    /// Requests held without a server x ns (see [`NodeStats::held`]).
    pub held: u128,
}

/// Per-node measurements (cohort counters after the warm-up).
#[derive(Clone, Debug)]
pub struct NodeStats {
    /// Visits that arrived after the warm-up.
    pub arrivals: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Visits completed within the measured span (warm-up to the cohort's
    /// end), whenever they arrived: what throughput counts.
    pub departed: u64,
    /// Of those, dropped (queue full, node down, connection refused).
    pub dropped: u64,
    /// Of those, failed after admission (injected errors, failed calls).
    pub errors: u64,
    /// Of the dropped, refused for the connection limit (databases).
    pub refused: u64,
    /// Of the dropped, turned away for want of capacity: the queue was full
    /// or the connection limit reached (not because the node was down).
    pub overflow: u64,
    /// Of the errors, injected by an `Errors` fault here (the rest are
    /// failures of calls this node made).
    pub injected: u64,
    /// Sends this node could not make across a network partition: requests
    /// it handed on and calls it made (failed at once), messages it
    /// published (lost).
    pub cut: u64,
    /// Sum of waiting times of counted visits that started service, ns.
    pub wait_sum: u128,
    /// Number of counted visits that started service.
    pub wait_count: u64,
    /// Service times drawn for counted visits that started service, after
    /// a `Slow` fault and the load curve, ns (the theory lens compares it
    /// with `base_service_sum`).
    pub service_sum: u128,
    /// The same service times as drawn from the configured distribution,
    /// before a `Slow` fault and the load curve, ns.
    pub base_service_sum: u128,
    /// Of `service_sum`, service for requests whose client had already
    /// given up on the attempt (timed out) when it started: wasted work.
    pub wasted_sum: u128,
    /// Counted visits that started service as writes (a database's mix).
    pub writes: u64,
    /// Time at the node (wait + service) of completed counted visits, ns.
    pub sojourn: Histogram,
    /// Busy servers over time.
    pub busy: Level,
    /// Waiting requests over time.
    pub waiting: Level,
    /// Capacity over time: the servers configured, or more while removed
    /// servers finish their last requests (so utilization never exceeds 1).
    pub capacity: Level,
    /// Busy servers that are waiting on a call they made (an app's workers
    /// while a handler step's call, fan-out or retry backoff is out; a
    /// pooler's connections while the database works), over time.
    pub calling: Level,
    /// Busy servers waiting for a connection of their app's pool.
    pub pool_wait: Level,
    /// An app's pool connections in use, over time.
    pub pool_busy: Level,
    /// An app's pool connections open (granted), over time.
    pub pool_open: Level,
    /// Requests whose visit is under way at the node while they hold
    /// neither a server nor a place in its queue: a CDN edge's requests
    /// waiting on the origin, a read-through cache's on its backend's
    /// fetch, a single-flight miss on another request's fill. Their time is
    /// in the visit's sojourn, so it is in the time-averaged number at the
    /// node too (Little's law: `mean_in_system = throughput x sojourn`).
    pub held: Level,
    /// `calling`, per node called (in the order the model lists them).
    pub waits: Box<[(u32, Level)]>,
    /// The integrals at the end of the warm-up.
    pub at_warmup: Areas,
    /// The per-target `waits` integrals at the end of the warm-up.
    pub waits_at_warmup: Box<[u128]>,
    /// The integrals at the cohort's end, once it has passed.
    pub at_end: Option<Areas>,
    /// The per-target `waits` integrals at the cohort's end.
    pub waits_at_end: Box<[u128]>,
}

impl NodeStats {
    /// Fresh stats for a node with `servers` servers.
    pub fn new(servers: u32) -> Self {
        NodeStats {
            arrivals: 0,
            completed: 0,
            departed: 0,
            dropped: 0,
            errors: 0,
            refused: 0,
            overflow: 0,
            injected: 0,
            cut: 0,
            wait_sum: 0,
            wait_count: 0,
            service_sum: 0,
            base_service_sum: 0,
            wasted_sum: 0,
            writes: 0,
            sojourn: Histogram::new(),
            busy: Level::new(0),
            waiting: Level::new(0),
            capacity: Level::new(servers as u64),
            calling: Level::new(0),
            pool_wait: Level::new(0),
            pool_busy: Level::new(0),
            pool_open: Level::new(0),
            held: Level::new(0),
            waits: Box::new([]),
            at_warmup: Areas::default(),
            waits_at_warmup: Box::new([]),
            at_end: None,
            waits_at_end: Box::new([]),
        }
    }

    /// Stats that also keep, per node in `targets`, the time busy servers
    /// spend waiting on calls to it.
    pub fn with_targets(servers: u32, targets: &[u32]) -> Self {
        NodeStats {
            waits: targets.iter().map(|&t| (t, Level::new(0))).collect(),
            waits_at_warmup: vec![0; targets.len()].into_boxed_slice(),
            ..NodeStats::new(servers)
        }
    }

    /// The integrals at `t`.
    pub fn areas(&self, t: SimTime) -> Areas {
        Areas {
            busy: self.busy.area_at(t),
            waiting: self.waiting.area_at(t),
            capacity: self.capacity.area_at(t),
            calling: self.calling.area_at(t),
            pool_wait: self.pool_wait.area_at(t),
            pool_busy: self.pool_busy.area_at(t),
            pool_open: self.pool_open.area_at(t),
            held: self.held.area_at(t),
        }
    }
}

/// End-to-end measurements (cohort counters after the warm-up).
#[derive(Clone, Debug)]
pub struct EndToEndStats {
    /// Requests created after the warm-up.
    pub arrivals: u64,
    /// Of those, completed (left the system normally).
    pub completed: u64,
    /// Of those, failed for good (every attempt failed or timed out).
    pub dropped: u64,
    /// Of the completed, answered within the deadline (the run's, or the
    /// client's timeout).
    pub good: u64,
    /// Requests answered within the measured span (warm-up to the cohort's
    /// end), whenever they arrived: what throughput counts.
    pub departed: u64,
    /// Of those, answered within the deadline: what goodput counts.
    pub good_departed: u64,
    /// Attempts sent (first tries and retries).
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Attempts the client gave up on (timeouts).
    pub timed_out: u64,
    /// Requests failed at once by an open circuit breaker.
    pub short_circuited: u64,
    /// Response time of completed counted requests, ns.
    pub latency: Histogram,
    /// Requests in the system over time.
    pub in_system: Level,
    /// Integral of `in_system` at the end of the warm-up.
    pub in_system_at_warmup: u128,
    /// Integral of `in_system` at the cohort's end, once it has passed.
    pub in_system_at_end: Option<u128>,
}

impl Default for EndToEndStats {
    fn default() -> Self {
        EndToEndStats {
            arrivals: 0,
            completed: 0,
            dropped: 0,
            good: 0,
            departed: 0,
            good_departed: 0,
            attempts: 0,
            retries: 0,
            timed_out: 0,
            short_circuited: 0,
            latency: Histogram::new(),
            in_system: Level::new(0),
            in_system_at_warmup: 0,
            in_system_at_end: None,
        }
    }
}

/// Connections in use over connections open (0 when none were open).
pub fn pool_share(busy: u128, open: u128) -> f64 {
    if open == 0 {
        0.0
    } else {
        (busy as f64 / open as f64).min(1.0)
    }
}

/// What one node did during one window (all requests, warm-up included).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WindowRecord {
    /// Start of the window, ns.
    pub start: SimTime,
    /// Arrivals during the window.
    pub arrivals: u64,
    /// Completions during the window.
    pub completed: u64,
    /// Drops during the window.
    pub dropped: u64,
    /// Of the completions, those within the deadline (end to end, classes
    /// and sources; 0 for nodes).
    pub good: u64,
    /// Of the drops, those turned away for want of capacity (queue full,
    /// connection limit).
    pub overflow: u64,
    /// Busy server time / capacity during the window.
    pub utilization: f64,
    /// Server time spent waiting on calls / capacity during the window.
    pub calling: f64,
    /// Server time spent waiting for a pool connection / capacity.
    pub pool_wait: f64,
    /// An app's pool connections in use / open during the window (0
    /// without a pool).
    pub pool_utilization: f64,
    /// Time-averaged waiting requests.
    pub mean_queue_len: f64,
    /// Median time at the node of visits completed in the window, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
}

/// The window being filled for one node.
#[derive(Clone, Debug, Default)]
pub struct OpenWindow {
    /// Arrivals so far.
    pub arrivals: u64,
    /// Completions so far.
    pub completed: u64,
    /// Drops so far.
    pub dropped: u64,
    /// Completions within the deadline so far.
    pub good: u64,
    /// Capacity drops so far.
    pub overflow: u64,
    /// Latencies so far.
    pub latency: Histogram,
    /// Integrals at the window's start.
    pub start_areas: Areas,
}

impl OpenWindow {
    /// Closes the window `[start, end)` given the integrals at `end`, and
    /// resets for the next one.
    pub fn close(&mut self, start: SimTime, end: SimTime, areas: Areas) -> WindowRecord {
        let busy = areas.busy - self.start_areas.busy;
        let cap = areas.capacity - self.start_areas.capacity;
        let waiting = areas.waiting - self.start_areas.waiting;
        let share = |a: u128| if cap == 0 { 0.0 } else { a as f64 / cap as f64 };
        let calling = share(areas.calling - self.start_areas.calling);
        let pool_wait = share(areas.pool_wait - self.start_areas.pool_wait);
        let pool_utilization = pool_share(
            areas.pool_busy - self.start_areas.pool_busy,
            areas.pool_open - self.start_areas.pool_open,
        );
        let len = end.saturating_sub(start).max(1) as f64;
        let ms = |v: Option<f64>| v.map(|x| x / 1e6);
        let [p50, p95, p99] = self.latency.quantiles([0.50, 0.95, 0.99]);
        let rec = WindowRecord {
            start,
            arrivals: self.arrivals,
            completed: self.completed,
            dropped: self.dropped,
            good: self.good,
            overflow: self.overflow,
            utilization: share(busy),
            calling,
            pool_wait,
            pool_utilization,
            mean_queue_len: waiting as f64 / len,
            p50_ms: ms(p50),
            p95_ms: ms(p95),
            p99_ms: ms(p99),
        };
        self.arrivals = 0;
        self.completed = 0;
        self.dropped = 0;
        self.good = 0;
        self.overflow = 0;
        self.latency.clear();
        self.start_areas = areas;
        rec
    }
}

/// A ring of closed windows with a fixed capacity: the oldest is dropped
/// when full, so memory does not grow with simulated time.
#[derive(Clone, Debug)]
pub struct Series {
    cap: usize,
    records: VecDeque<WindowRecord>,
}

impl Series {
    /// Keeps at most `cap` windows.
    pub fn new(cap: usize) -> Self {
        Series {
            cap: cap.max(1),
            records: VecDeque::new(),
        }
    }

    /// Appends one window.
    pub fn push(&mut self, r: WindowRecord) {
        if self.records.len() == self.cap {
            self.records.pop_front();
        }
        self.records.push_back(r);
    }

    /// The windows kept, oldest first.
    pub fn records(&self) -> impl ExactSizeIterator<Item = &WindowRecord> + '_ {
        self.records.iter()
    }

    /// The newest window.
    pub fn last(&self) -> Option<&WindowRecord> {
        self.records.back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_integrates() {
        let mut l = Level::new(0);
        l.set(10, 2);
        l.set(20, 1);
        assert_eq!(l.area_at(20), 20);
        assert_eq!(l.area_at(30), 30);
        l.inc(30);
        l.dec(40);
        assert_eq!(l.area_at(40), 50);
    }

    #[test]
    fn series_is_bounded() {
        let mut s = Series::new(3);
        for i in 0..10 {
            s.push(WindowRecord {
                start: i,
                ..Default::default()
            });
        }
        let starts: Vec<_> = s.records().map(|r| r.start).collect();
        assert_eq!(starts, vec![7, 8, 9]);
    }
}
