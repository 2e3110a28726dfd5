//! The report of a run: what the CLI prints, as JSON or as a table.
//!
//! Key names are a contract with CI users (the engine issue fixes them);
//! add keys freely, rename none. Values that do not exist (the p99 of a node
//! that completed nothing) are `null`, never a made-up zero.

mod build;
mod causes;
mod csv;
mod groups;
mod keyed;
mod sessions;
mod table;
mod theory;
mod theory_closed;
mod theory_e2e;
mod theory_fanout;
mod theory_pooler;
mod theory_structure;

pub use groups::{GroupReport, Groups, NamedSeries};
pub use keyed::{Keyed, KeyedItem};
pub use sessions::{SessionReport, SessionWindowOut, Sessions, SetReport};

pub use crate::fmt::{fmt_count, fmt_ms};
pub use crate::kinds::app::AppReport;
pub use crate::kinds::cache::CacheReport;
pub use crate::kinds::database::DatabaseReport as DbReport;
pub use crate::kinds::load_balancer::LoadBalancerReport as LbReport;
pub use crate::kinds::queue::QueueReport;
pub use crate::kinds::replica::ReplicaReport;
pub use crate::kinds::shard_router::ShardRouterReport as ShardReport;

use crate::metrics::WindowRecord;
use crate::sim::AppliedChange;
use crate::time::Duration;
use serde::Serialize;

/// End-to-end measurements.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EndToEnd {
    /// Requests created after the warm-up.
    pub arrivals: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, failed for good (dropped, errors, timeouts, after retries).
    pub dropped: u64,
    /// Of those, still in the system at the end.
    pub in_flight: u64,
    /// `dropped / arrivals`.
    pub blocking: f64,
    /// Requests answered per second of measured time: answers given between
    /// the warm-up and the end, whenever their request arrived (a saturated
    /// system's throughput is its capacity, not the share of the measured
    /// cohort it got to).
    pub throughput_rps: f64,
    /// Attempts sent, first tries and retries.
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Attempts the clients gave up on.
    pub timed_out: u64,
    /// Requests failed at once by an open circuit breaker.
    pub short_circuited: u64,
    /// Times the clients' circuit breakers opened.
    pub breaker_trips: u64,
    /// Attempts per user request (1 without retries).
    pub amplification: f64,
    /// Time-averaged number of requests in the system.
    pub mean_in_system: f64,
    /// Mean response time of completed requests.
    pub mean_ms: Option<f64>,
    /// Median response time.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// 99.9th percentile.
    pub p999_ms: Option<f64>,
    /// Slowest.
    pub max_ms: Option<f64>,
    /// Of the completed, answered within the deadline (the run's, or each
    /// client's timeout), retries included. Present only when there is a
    /// deadline: without one, every completed request is good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good: Option<u64>,
    /// Answers within the deadline per second of measured time (counted as
    /// `throughput_rps` is): goodput, beside throughput.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goodput_rps: Option<f64>,
}

/// One node's measurements.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct NodeReport {
    /// Kind as written in files.
    pub kind: String,
    /// Servers at the end of the run.
    pub servers: u32,
    /// Visits that arrived after the warm-up.
    pub arrivals: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, dropped at admission (queue full, down, refused).
    pub dropped: u64,
    /// Of those, failed after admission (injected errors, failed calls).
    pub errors: u64,
    /// Of those, still at the node at the end.
    pub in_flight: u64,
    /// `dropped / arrivals`.
    pub blocking: f64,
    /// Busy server time / server capacity over the measured time.
    pub utilization: f64,
    /// Time-averaged number waiting (not in service).
    pub mean_queue_len: f64,
    /// Time-averaged number at the node: waiting, in service, and held
    /// without a server while the node waits on a call made for them (a
    /// CDN edge's origin, a read-through cache's backend) or on another
    /// request's fill: every visit under way, as `mean_sojourn_ms` counts
    /// them, so `mean_in_system = throughput_rps x mean_sojourn_ms` (Little's
    /// law) up to the visits cut by the warm-up and the end.
    pub mean_in_system: f64,
    /// Mean wait before service.
    pub mean_wait_ms: Option<f64>,
    /// Mean time at the node per visit, from its arrival to its answer
    /// (wait + service, and for a CDN edge or a read-through cache the
    /// origin's or backend's time on a miss).
    pub mean_sojourn_ms: Option<f64>,
    /// Median time at the node per visit.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// 99.9th percentile.
    pub p999_ms: Option<f64>,
    /// Visits completed per second of measured time (completions between
    /// the warm-up and the end, whenever the visit arrived).
    pub throughput_rps: f64,
    /// Of the dropped, those turned away for want of capacity: the queue was
    /// full or the connection limit reached (not because the node was down).
    pub overflow: u64,
    /// Busy server time spent waiting on calls the node made (an app's
    /// workers while its handler's calls are out, a pooler's connections
    /// while the database works) / capacity; part of `utilization`.
    pub waiting_on_calls: f64,
    /// Busy server time spent waiting for a connection of the app's pool /
    /// capacity; part of `utilization`.
    pub waiting_on_pool: f64,
    /// `waiting_on_calls` per node called.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waits_on: Vec<WaitShare>,
    /// Of the errors, those injected here by an `Errors` fault (the rest are
    /// failures of calls this node made).
    pub injected_errors: u64,
    /// Sends this node could not make across a network partition (hand-offs
    /// and calls failed at once, published messages lost); absent when none.
    #[serde(skip_serializing_if = "crate::report::is_zero", default)]
    pub partitioned: u64,
    /// A cache's own measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheReport>,
    /// A load balancer's own measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LbReport>,
    /// A database's (or replica's) own measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DbReport>,
    /// A replica's own measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaReport>,
    /// A shard router's own measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<ShardReport>,
    /// An app's own measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<AppReport>,
    /// A message queue's own measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueReport>,
    /// A rate limiter's refusals (429s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<u64>,
    /// Queueing theory's prediction from the measured arrival rate and the
    /// configured service, beside these measurements (docs/theory.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theory: Option<crate::theory::NodeTheory>,
}

/// One line for front ends on what queueing theory says about this node
/// and whether the simulation agrees ("theory says: ρ 0.62, wait 3.1 ms
/// (M/M/4); measured 3.4 ms, within tolerance"); `None` for nodes with no
/// queue of their own.
pub fn says(node: &NodeReport) -> Option<String> {
    node.theory.as_ref()?.says()
}

/// Time a node's busy servers spent waiting on one node they called.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WaitShare {
    /// The node called.
    pub node: String,
    /// Server time spent waiting on it / capacity.
    pub share: f64,
}

/// Each node's report, keyed by its id, in the topology's order.
pub type Nodes = Keyed<NodeReport>;

impl KeyedItem for NodeReport {
    const LIST: &'static str = "Nodes";
    const ABOUT: &'static str = "Each node's report, keyed by its id, in the topology's order.";
}

/// The node that limits the system, and why.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Bottleneck {
    /// Its id.
    pub node: String,
    /// Its utilization.
    pub utilization: f64,
    /// One line a person can act on.
    pub reason: String,
    /// The nodes whose busy servers wait on it, the first caller first,
    /// then the bottleneck itself (just the bottleneck when nothing waits).
    pub chain: Vec<String>,
    /// When the limit is `node`'s pool of connections, not its servers: the
    /// node the pool connects to (`utilization` is then the pool's:
    /// connections in use over those open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_to: Option<String>,
}

/// A stretch of time with the same busiest node.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Phase {
    /// Start, seconds.
    pub from_s: f64,
    /// End, seconds.
    pub to_s: f64,
    /// The busiest node.
    pub node: String,
    /// Its mean utilization over the stretch.
    pub utilization: f64,
    /// When the limit was `node`'s pool of connections: the node it
    /// connects to (`utilization` is then the pool's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_to: Option<String>,
}

/// Per-window series, when asked for.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SeriesReport {
    /// Window length in seconds.
    pub window_s: f64,
    /// End to end.
    pub end_to_end: Vec<WindowRecordOut>,
    /// Per node, keyed by id.
    pub nodes: Vec<(String, Vec<WindowRecordOut>)>,
    /// Per request class, when the topology has more than one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<(String, Vec<WindowRecordOut>)>,
    /// Per source, when the topology has more than one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<(String, Vec<WindowRecordOut>)>,
    /// Per session source (a closed loop with `tasks`): sessions begun,
    /// ended and under way in each window; absent without one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<(String, Vec<SessionWindowOut>)>,
}

/// One window as reported.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WindowRecordOut {
    /// Window start, seconds.
    pub t_s: f64,
    /// Arrivals in the window.
    pub arrivals: u64,
    /// Completions in the window.
    pub completed: u64,
    /// Drops in the window.
    pub dropped: u64,
    /// Utilization in the window.
    pub utilization: f64,
    /// Time-averaged queue length in the window.
    pub mean_queue_len: f64,
    /// Median latency of completions in the window.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// Completions within the deadline (end to end when there is a
    /// deadline, and per class and source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good: Option<u64>,
}

impl WindowRecordOut {
    /// A window of a class, a source, or end to end with a deadline: with
    /// its good completions.
    pub fn group(r: &WindowRecord) -> Self {
        WindowRecordOut {
            good: Some(r.good),
            ..r.into()
        }
    }
}

impl From<&WindowRecord> for WindowRecordOut {
    fn from(r: &WindowRecord) -> Self {
        WindowRecordOut {
            t_s: Duration(r.start).as_secs_f64(),
            arrivals: r.arrivals,
            completed: r.completed,
            dropped: r.dropped,
            utilization: r.utilization,
            mean_queue_len: r.mean_queue_len,
            p50_ms: r.p50_ms,
            p95_ms: r.p95_ms,
            p99_ms: r.p99_ms,
            good: None,
        }
    }
}

/// Everything a run measured.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// The topology's name.
    pub topology: String,
    /// The seed.
    pub seed: u64,
    /// Simulated time at the end, seconds.
    pub simulated_s: f64,
    /// Warm-up excluded from measurements, seconds.
    pub warmup_s: f64,
    /// Measured time (simulated minus warm-up), seconds.
    pub measured_s: f64,
    /// Events processed.
    pub events: u64,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
    /// End-to-end measurements.
    pub end_to_end: EndToEnd,
    /// Per node, keyed by id.
    pub nodes: Nodes,
    /// End to end per request class, keyed by class (sorted), when the
    /// topology has more than one class.
    #[serde(skip_serializing_if = "Groups::is_empty")]
    pub classes: Groups,
    /// End to end per source, keyed by id, when the topology has more than
    /// one source.
    #[serde(skip_serializing_if = "Groups::is_empty")]
    pub sources: Groups,
    /// Per session source (closed-loop users walking `tasks`), keyed by
    /// id, when there is one.
    #[serde(skip_serializing_if = "Keyed::is_empty")]
    pub sessions: Sessions,
    /// The busiest node.
    pub bottleneck: Option<Bottleneck>,
    /// How the bottleneck moved: the busiest node per stretch of windows.
    pub bottleneck_timeline: Vec<Phase>,
    /// When at least 1% of requests failed: how many, and where most of
    /// the failures began.
    pub failures: Option<String>,
    /// Changes applied during the run.
    pub changes: Vec<AppliedChange>,
    /// Queueing theory's end-to-end estimate (an open network of the nodes'
    /// predictions) beside the measured mean.
    pub theory: crate::theory::NetworkTheory,
    /// Time series, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesReport>,
}

impl Report {
    /// The report as pretty JSON (stable key order, byte-identical for the
    /// same topology, seed and changes).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }
}

/// For `skip_serializing_if`: a count that is zero is left out.
pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}
