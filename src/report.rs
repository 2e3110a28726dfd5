//! The report of a run: what the CLI prints, as JSON or as a table.
//!
//! Key names are a contract with CI users (the engine issue fixes them);
//! add keys freely, rename none. Values that do not exist (the p99 of a node
//! that completed nothing) are `null`, never a made-up zero.

use crate::metrics::WindowRecord;
use crate::sim::{AppliedChange, Simulation};
use crate::time::{Duration, SimTime};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::fmt::Write as _;

/// End-to-end measurements.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// Completed per second of measured time (goodput).
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
}

/// One node's measurements.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// Time-averaged number at the node (waiting and in service).
    pub mean_in_system: f64,
    /// Mean wait before service.
    pub mean_wait_ms: Option<f64>,
    /// Mean time at the node per visit (wait + service).
    pub mean_sojourn_ms: Option<f64>,
    /// Median time at the node per visit.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// 99.9th percentile.
    pub p999_ms: Option<f64>,
    /// Completed visits per second of measured time.
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
}

/// Time a node's busy servers spent waiting on one node they called.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WaitShare {
    /// The node called.
    pub node: String,
    /// Server time spent waiting on it / capacity.
    pub share: f64,
}

/// A shard router's measurements.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShardReport {
    /// Shard ids, in order.
    pub shards: Vec<String>,
    /// Requests sent to each.
    pub sent: Vec<u64>,
    /// Shards in use at the end.
    pub active: usize,
    /// Share of keys that changed shard at the last reshard.
    pub last_reshard_moved: Option<f64>,
}

/// An app's measurements.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AppReport {
    /// Instances running at the end.
    pub instances: u32,
    /// Pool connections (all instances) at the end.
    pub pool_size: Option<u32>,
    /// Calls that waited for a pool connection.
    pub pool_waits: u64,
    /// Pool connections open (what the database granted) at the end.
    pub pool_open: Option<u32>,
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

/// A message queue's measurements.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueReport {
    /// Messages processed (first time).
    pub processed: u64,
    /// Copies delivered again after a visibility timeout.
    pub redelivered: u64,
    /// Deliveries retried after a failure.
    pub retried: u64,
    /// Messages that failed every delivery.
    pub dead_lettered: u64,
    /// Messages whose side effect happened more than once.
    pub duplicates: u64,
    /// Repeats skipped by idempotent workers.
    pub deduplicated: u64,
}

/// A read replica's measurements.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaReport {
    /// Reads served.
    pub reads: u64,
    /// Reads that returned a value older than the latest write.
    pub stale_reads: u64,
    /// `stale_reads / reads`.
    pub stale_ratio: Option<f64>,
    /// Mean replication lag drawn.
    pub mean_lag_ms: Option<f64>,
}

/// A cache's measurements.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheReport {
    /// Gets that found the key.
    pub hits: u64,
    /// Gets that did not.
    pub misses: u64,
    /// `hits / (hits + misses)`.
    pub hit_ratio: Option<f64>,
    /// Misses that waited for another request's fill (single-flight).
    pub coalesced: u64,
    /// Hits served stale while a background refresh ran.
    pub stale_hits: u64,
    /// Keys evicted to make room (whole run).
    pub evictions: u64,
    /// Keys held at the end.
    pub keys: u64,
}

impl CacheReport {
    fn new(
        hits: u64,
        misses: u64,
        coalesced: u64,
        stale_hits: u64,
        evictions: u64,
        keys: usize,
    ) -> Self {
        CacheReport {
            stale_hits,
            hits,
            misses,
            hit_ratio: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
            coalesced,
            evictions,
            keys: keys as u64,
        }
    }
}

/// A load balancer's measurements, per backend in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LbReport {
    /// Backend ids.
    pub backends: Vec<String>,
    /// Requests sent to each.
    pub sent: Vec<u64>,
    /// Whether each is considered healthy at the end.
    pub healthy: Vec<bool>,
}

/// A database's measurements.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DbReport {
    /// Queries refused because every connection was in use.
    pub refused: u64,
    /// Time-averaged connections in use (queries waiting or running).
    pub mean_connections: f64,
    /// Writes that applied a side effect again (double charges).
    pub duplicate_writes: u64,
    /// Repeated writes recognised by idempotency key and not applied.
    pub deduplicated_writes: u64,
    /// The replica promoted in its place, if it failed over.
    pub promoted_to: Option<String>,
    /// Writes lost at failover (not yet on the promoted replica).
    pub lost_writes: u64,
}

/// The nodes, serialized as a JSON object keyed by id in topology order.
#[derive(Clone, Debug, PartialEq)]
pub struct Nodes(pub Vec<(String, NodeReport)>);

impl Serialize for Nodes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (id, r) in &self.0 {
            m.serialize_entry(id, r)?;
        }
        m.end()
    }
}

impl Nodes {
    /// The report of the node with this id.
    pub fn get(&self, id: &str) -> Option<&NodeReport> {
        self.0.iter().find(|(i, _)| i == id).map(|(_, r)| r)
    }
}

impl std::ops::Index<&str> for Nodes {
    type Output = NodeReport;
    fn index(&self, id: &str) -> &NodeReport {
        self.get(id)
            .unwrap_or_else(|| panic!("no node `{id}` in the report"))
    }
}

/// The node that limits the system, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
}

/// A stretch of time with the same busiest node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Phase {
    /// Start, seconds.
    pub from_s: f64,
    /// End, seconds.
    pub to_s: f64,
    /// The busiest node.
    pub node: String,
    /// Its mean utilization over the stretch.
    pub utilization: f64,
}

/// Per-window series, when asked for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesReport {
    /// Window length in seconds.
    pub window_s: f64,
    /// End to end.
    pub end_to_end: Vec<WindowRecordOut>,
    /// Per node, keyed by id.
    pub nodes: Vec<(String, Vec<WindowRecordOut>)>,
}

/// One window as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
        }
    }
}

/// Everything a run measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// The busiest node.
    pub bottleneck: Option<Bottleneck>,
    /// How the bottleneck moved: the busiest node per stretch of windows.
    pub bottleneck_timeline: Vec<Phase>,
    /// When at least 1% of requests failed: how many, and where most of
    /// the failures began.
    pub failures: Option<String>,
    /// Changes applied during the run.
    pub changes: Vec<AppliedChange>,
    /// Time series, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesReport>,
}

fn time_avg_of(area: u128, measured: u64) -> f64 {
    if measured == 0 {
        0.0
    } else {
        area as f64 / measured as f64
    }
}

/// The kind-specific part of node `i`'s report.
fn kind_reports(
    sim: &Simulation,
    i: usize,
    mean_in_system: f64,
) -> (Option<CacheReport>, Option<LbReport>, Option<DbReport>) {
    use crate::sim::KindState;
    let n = sim.node_state(i);
    match &n.kind {
        KindState::Cache(c) => (
            Some(CacheReport::new(
                c.hits,
                c.misses,
                c.coalesced,
                c.stale_hits,
                c.store.evictions,
                c.store.len(),
            )),
            None,
            None,
        ),
        KindState::Cdn(c) => (
            Some(CacheReport::new(
                c.hits,
                c.misses,
                0,
                0,
                c.store.evictions,
                c.store.len(),
            )),
            None,
            None,
        ),
        KindState::LoadBalancer(lb) => (
            None,
            Some(LbReport {
                backends: lb
                    .backends
                    .iter()
                    .map(|&b| sim.model().nodes[b as usize].id.clone())
                    .collect(),
                sent: lb.sent.clone(),
                healthy: lb.healthy.clone(),
            }),
            None,
        ),
        KindState::Database(_) | KindState::Replica(_) => (
            None,
            None,
            Some(DbReport {
                refused: n.stats.refused,
                mean_connections: mean_in_system,
                duplicate_writes: match &n.kind {
                    KindState::Database(d) => d.duplicates,
                    _ => 0,
                },
                deduplicated_writes: match &n.kind {
                    KindState::Database(d) => d.deduplicated,
                    _ => 0,
                },
                promoted_to: match &n.kind {
                    KindState::Database(d) => d
                        .promoted_to
                        .map(|r| sim.model().nodes[r as usize].id.clone()),
                    _ => None,
                },
                lost_writes: match &n.kind {
                    KindState::Database(d) => d.lost_writes,
                    _ => 0,
                },
            }),
        ),
        _ => (None, None, None),
    }
}

fn replica_report(sim: &Simulation, i: usize) -> Option<ReplicaReport> {
    let crate::sim::KindState::Replica(r) = &sim.node_state(i).kind else {
        return None;
    };
    Some(ReplicaReport {
        reads: r.reads,
        stale_reads: r.stale,
        stale_ratio: (r.reads > 0).then(|| r.stale as f64 / r.reads as f64),
        mean_lag_ms: (r.reads > 0).then(|| r.lag_sum as f64 / r.reads as f64 / 1e6),
    })
}

fn ms(ns: Option<f64>) -> Option<f64> {
    ns.map(|v| v / 1e6)
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl Simulation {
    /// The report of everything measured so far.
    pub fn report(&self) -> Report {
        // Time averages run from the warm-up to the cohort's end (or now).
        let now: SimTime = self.now().min(self.config().cohort_end);
        let warmup = self.config().warmup.0.min(now);
        let measured = now - warmup;
        let measured_s = Duration(measured).as_secs_f64();
        let per_s = |n: u64| {
            if measured == 0 {
                0.0
            } else {
                n as f64 / measured_s
            }
        };
        let model = self.model();

        let mut node_in_flight = vec![0u64; model.nodes.len()];
        let mut e2e_in_flight = 0;
        for r in self.requests() {
            if self.counts(r.visit_arrival) && (r.node as usize) < node_in_flight.len() {
                node_in_flight[r.node as usize] += 1;
            }
            if self.counts(r.born)
                && r.parent == crate::sim::ROOT
                && r.flags & crate::sim::ABANDONED == 0
            {
                e2e_in_flight += 1;
            }
        }

        let mut nodes = Vec::with_capacity(model.nodes.len());
        for (i, m) in model.nodes.iter().enumerate() {
            let n = self.node_state(i);
            let s = &n.stats;
            let a = s.at_end.unwrap_or_else(|| s.areas(now));
            let busy = a.busy - s.at_warmup.busy;
            let cap = a.capacity - s.at_warmup.capacity;
            let waiting = a.waiting - s.at_warmup.waiting;
            let share = |area: u128| {
                if cap == 0 {
                    0.0
                } else {
                    area as f64 / cap as f64
                }
            };
            let waits_on: Vec<WaitShare> = s
                .waits
                .iter()
                .zip(s.waits_at_warmup.iter())
                .enumerate()
                .map(|(k, ((t, l), w0))| WaitShare {
                    node: model.nodes[*t as usize].id.clone(),
                    share: share(
                        s.waits_at_end
                            .get(k)
                            .copied()
                            .unwrap_or_else(|| l.area_at(now))
                            - w0,
                    ),
                })
                .collect();
            let replica = replica_report(self, i);
            let (cache, load_balancer, database) =
                kind_reports(self, i, time_avg_of(waiting + busy, measured));
            let time_avg = |area: u128| {
                if measured == 0 {
                    0.0
                } else {
                    area as f64 / measured as f64
                }
            };
            nodes.push((
                m.id.clone(),
                NodeReport {
                    kind: m.kind_name().to_string(),
                    servers: n.servers,
                    arrivals: s.arrivals,
                    completed: s.completed,
                    dropped: s.dropped,
                    errors: s.errors,
                    in_flight: node_in_flight[i],
                    blocking: ratio(s.dropped, s.arrivals),
                    utilization: if cap == 0 {
                        0.0
                    } else {
                        busy as f64 / cap as f64
                    },
                    mean_queue_len: time_avg(waiting),
                    mean_in_system: time_avg(waiting + busy),
                    mean_wait_ms: (s.wait_count > 0)
                        .then(|| s.wait_sum as f64 / s.wait_count as f64 / 1e6),
                    mean_sojourn_ms: ms(s.sojourn.mean()),
                    p50_ms: ms(s.sojourn.quantile(0.50)),
                    p95_ms: ms(s.sojourn.quantile(0.95)),
                    p99_ms: ms(s.sojourn.quantile(0.99)),
                    p999_ms: ms(s.sojourn.quantile(0.999)),
                    throughput_rps: per_s(s.completed),
                    overflow: s.overflow,
                    waiting_on_calls: share(a.calling - s.at_warmup.calling),
                    waiting_on_pool: share(a.pool_wait - s.at_warmup.pool_wait),
                    waits_on,
                    injected_errors: s.injected,
                    cache,
                    load_balancer,
                    database,
                    replica,
                    shards: match &n.kind {
                        crate::sim::KindState::ShardRouter(sh) => Some(ShardReport {
                            shards: sh
                                .shards
                                .iter()
                                .map(|&x| model.nodes[x as usize].id.clone())
                                .collect(),
                            sent: sh.sent.clone(),
                            active: sh.active,
                            last_reshard_moved: sh.last_moved,
                        }),
                        _ => None,
                    },
                    app: match &n.kind {
                        crate::sim::KindState::App(a) => Some(AppReport {
                            instances: a.instances,
                            pool_size: a.pool.as_ref().map(|p| p.per_instance * a.instances),
                            pool_waits: a.pool.as_ref().map_or(0, |p| p.waited),
                            pool_open: a.pool.as_ref().map(|p| p.granted),
                            pool_refused: a.pool.as_ref().map_or(0, |p| p.refused),
                            scale_actions: a.autoscale.as_ref().map_or(0, |x| x.actions),
                            call_retries: a.calls.as_ref().map_or(0, |c| c.retries),
                            call_timeouts: a.calls.as_ref().map_or(0, |c| c.timeouts),
                            call_short_circuited: a.calls.as_ref().map_or(0, |c| c.short_circuited),
                            breaker_trips: a.calls.as_ref().map_or(0, |c| c.trips()),
                        }),
                        _ => None,
                    },
                    queue: match &n.kind {
                        crate::sim::KindState::Queue(q) => Some(QueueReport {
                            processed: q.processed_ok,
                            redelivered: q.redelivered,
                            retried: q.retried,
                            dead_lettered: q.dead_lettered,
                            duplicates: q.duplicates,
                            deduplicated: q.deduplicated,
                        }),
                        _ => None,
                    },
                    rejected: match &n.kind {
                        crate::sim::KindState::RateLimiter(l) => Some(l.rejected),
                        _ => None,
                    },
                },
            ));
        }

        let e = self.e2e_stats();
        let in_sys = e
            .in_system_at_end
            .unwrap_or_else(|| e.in_system.area_at(now))
            - e.in_system_at_warmup;
        let end_to_end = EndToEnd {
            arrivals: e.arrivals,
            completed: e.completed,
            dropped: e.dropped,
            in_flight: e2e_in_flight,
            blocking: ratio(e.dropped, e.arrivals),
            throughput_rps: per_s(e.completed),
            attempts: e.attempts,
            retries: e.retries,
            timed_out: e.timed_out,
            short_circuited: e.short_circuited,
            breaker_trips: (0..model.sources.len())
                .map(|i| self.breaker_trips(i))
                .sum(),
            amplification: ratio(e.attempts, e.arrivals),
            mean_in_system: if measured == 0 {
                0.0
            } else {
                in_sys as f64 / measured as f64
            },
            mean_ms: ms(e.latency.mean()),
            p50_ms: ms(e.latency.quantile(0.50)),
            p95_ms: ms(e.latency.quantile(0.95)),
            p99_ms: ms(e.latency.quantile(0.99)),
            p999_ms: ms(e.latency.quantile(0.999)),
            max_ms: ms(e.latency.max().map(|v| v as f64)),
        };

        let analyzer = crate::analysis::Analyzer::new(model);
        let loads = loads(model, &nodes);
        let bottleneck = analyzer.find(&loads).map(|f| Bottleneck {
            node: nodes[f.node].0.clone(),
            utilization: f.utilization,
            reason: f.reason,
            chain: f.chain.iter().map(|&i| nodes[i].0.clone()).collect(),
        });
        let failures = analyzer.failures(&loads, end_to_end.arrivals, end_to_end.dropped);
        let bottleneck_timeline = self.bottleneck_timeline();
        Report {
            topology: model.name.clone(),
            seed: self.config().seed,
            simulated_s: Duration(self.now()).as_secs_f64(),
            warmup_s: Duration(warmup).as_secs_f64(),
            measured_s,
            events: self.events(),
            stopped: self.stopped().map(|e| e.to_string()),
            end_to_end,
            nodes: Nodes(nodes),
            bottleneck,
            bottleneck_timeline,
            failures,
            changes: self.changes().to_vec(),
            series: None,
        }
    }

    /// The busiest node of each window (among nodes that queue), merged
    /// into stretches; stretches shorter than 3 windows are folded into
    /// their neighbour so that noise does not read as a move.
    pub fn bottleneck_timeline(&self) -> Vec<Phase> {
        let model = self.model();
        let n = model.nodes.len();
        if n == 0 {
            return Vec::new();
        }
        let analyzer = crate::analysis::Analyzer::new(model);
        let windows = self.series(0).records().len();
        let series: Vec<Vec<crate::metrics::WindowRecord>> = (0..n)
            .map(|i| self.series(i).records().copied().collect())
            .collect();
        let window = self.config().window.as_secs_f64();
        // (node, utilization, start) per window.
        let mut per: Vec<(usize, f64, f64)> = Vec::with_capacity(windows);
        let mut loads: Vec<crate::analysis::Load> = vec![Default::default(); n];
        for w in 0..windows {
            for ((i, l), s) in loads.iter_mut().enumerate().zip(&series) {
                let r = &s[w];
                *l = crate::analysis::Load {
                    utilization: r.utilization,
                    calling: r.calling,
                    pool_wait: r.pool_wait,
                    waits: Vec::new(),
                    mean_queue: r.mean_queue_len,
                    mean_wait_ms: None,
                    arrivals: r.arrivals,
                    dropped: r.dropped,
                    overflow: r.overflow,
                    servers: self.node_state(i).servers,
                    ..Default::default()
                };
            }
            let Some(f) = analyzer.find(&loads) else {
                return Vec::new();
            };
            // Hysteresis: the bottleneck stays where it was unless another
            // node is clearly busier (10 points, or saturated when it is
            // not), so two equal nodes trading places is not a move.
            let node = match per.last() {
                Some(&(prev, _, _))
                    if prev != f.node
                        && loads[prev].utilization + 0.10 >= loads[f.node].utilization
                        && (loads[prev].saturated() || !loads[f.node].saturated()) =>
                {
                    prev
                }
                _ => f.node,
            };
            per.push((
                node,
                loads[node].utilization,
                Duration(series[0][w].start).as_secs_f64(),
            ));
        }
        let mut phases: Vec<Phase> = Vec::new();
        let mut sums: Vec<(f64, usize)> = Vec::new();
        for &(node, u, start) in &per {
            match phases.last_mut() {
                Some(p) if p.node == model.nodes[node].id => {
                    p.to_s = start + window;
                    let last = sums.last_mut().expect("a sum per phase");
                    last.0 += u;
                    last.1 += 1;
                }
                _ => {
                    phases.push(Phase {
                        from_s: start,
                        to_s: start + window,
                        node: model.nodes[node].id.clone(),
                        utilization: 0.0,
                    });
                    sums.push((u, 1));
                }
            }
        }
        // Fold short stretches into the previous one.
        let mut out: Vec<Phase> = Vec::new();
        let mut out_sums: Vec<(f64, usize)> = Vec::new();
        for (p, s) in phases.into_iter().zip(sums) {
            let short = ((p.to_s - p.from_s) / window).round() < 3.0;
            match (out.last_mut(), short) {
                (Some(prev), true) => {
                    prev.to_s = p.to_s;
                    let last = out_sums.last_mut().expect("a sum per phase");
                    last.1 += s.1;
                }
                (Some(prev), false) if prev.node == p.node => {
                    prev.to_s = p.to_s;
                    let last = out_sums.last_mut().expect("a sum per phase");
                    last.0 += s.0;
                    last.1 += s.1;
                }
                _ => {
                    out.push(p);
                    out_sums.push(s);
                }
            }
        }
        for (p, (sum, n)) in out.iter_mut().zip(out_sums) {
            p.utilization = sum / n.max(1) as f64;
        }
        out
    }

    /// The per-window series, for reports that ask for it.
    pub fn series_report(&self) -> SeriesReport {
        SeriesReport {
            window_s: self.config().window.as_secs_f64(),
            end_to_end: self.end_to_end_series().records().map(Into::into).collect(),
            nodes: self
                .model()
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (
                        n.id.clone(),
                        self.series(i).records().map(Into::into).collect(),
                    )
                })
                .collect(),
        }
    }
}

/// What the analysis needs of the nodes' reports (a pool's refused
/// connections count at the node its pool connects to).
fn loads(
    model: &crate::model::Model,
    nodes: &[(String, NodeReport)],
) -> Vec<crate::analysis::Load> {
    let mut out: Vec<crate::analysis::Load> = nodes
        .iter()
        .map(|(_, r)| crate::analysis::Load {
            utilization: r.utilization,
            calling: r.waiting_on_calls,
            pool_wait: r.waiting_on_pool,
            waits: r
                .waits_on
                .iter()
                .filter_map(|w| Some((model.node_index(&w.node)?, w.share)))
                .collect(),
            mean_queue: r.mean_queue_len,
            mean_wait_ms: r.mean_wait_ms,
            arrivals: r.arrivals,
            dropped: r.dropped,
            overflow: r.overflow,
            servers: r.servers,
            injected: r.injected_errors,
            rejected: r.rejected.unwrap_or(0),
            refused_connections: 0,
        })
        .collect();
    for (i, m) in model.nodes.iter().enumerate() {
        if let crate::kinds::KindModel::App(app) = &m.kind
            && let Some(pool) = app.pool
            && let Some(a) = &nodes[i].1.app
        {
            out[pool.target as usize].refused_connections += a.pool_refused;
        }
    }
    out
}

/// Formats milliseconds for people: `850ms`, `1.24s`, `320us`, `-`.
pub fn fmt_ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x >= 10_000.0 => format!("{:.0}s", x / 1000.0),
        Some(x) if x >= 1000.0 => format!("{:.2}s", x / 1000.0),
        Some(x) if x >= 100.0 => format!("{x:.0}ms"),
        Some(x) if x >= 1.0 => format!("{x:.2}ms"),
        Some(x) if x >= 0.001 => format!("{:.0}us", x * 1000.0),
        Some(x) => format!("{:.0}ns", x * 1e6),
    }
}

/// Groups thousands: `1,234,567`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    /// The report as pretty JSON (stable key order, byte-identical for the
    /// same topology, seed and changes).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The report as a table for people.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}  |  seed {}  |  {} simulated ({} warm-up)  |  {} events",
            self.topology,
            self.seed,
            fmt_secs(self.simulated_s),
            fmt_secs(self.warmup_s),
            fmt_count(self.events)
        );
        let _ = writeln!(out);
        let header = [
            "node", "servers", "arrivals", "done", "failed", "util", "queue", "wait", "p50", "p95",
            "p99", "rps",
        ];
        let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
        for (id, r) in &self.nodes.0 {
            let lb = r.load_balancer.is_some() || r.rejected.is_some() || r.shards.is_some();
            let dash = |v: String| if lb { "-".to_string() } else { v };
            rows.push(vec![
                id.clone(),
                dash(r.servers.to_string()),
                fmt_count(r.arrivals),
                fmt_count(r.completed),
                if r.dropped + r.errors == 0 {
                    "0".into()
                } else {
                    format!(
                        "{} ({:.1}%)",
                        fmt_count(r.dropped + r.errors),
                        ratio(r.dropped + r.errors, r.arrivals) * 100.0
                    )
                },
                dash(format!("{:.1}%", r.utilization * 100.0)),
                dash(format!("{:.2}", r.mean_queue_len)),
                dash(fmt_ms(r.mean_wait_ms)),
                dash(fmt_ms(r.p50_ms)),
                dash(fmt_ms(r.p95_ms)),
                dash(fmt_ms(r.p99_ms)),
                format!("{:.1}", r.throughput_rps),
            ]);
        }
        let e = &self.end_to_end;
        rows.push(vec![
            "END TO END".into(),
            String::new(),
            fmt_count(e.arrivals),
            fmt_count(e.completed),
            if e.dropped == 0 {
                "0".into()
            } else {
                format!("{} ({:.1}%)", fmt_count(e.dropped), e.blocking * 100.0)
            },
            String::new(),
            String::new(),
            String::new(),
            fmt_ms(e.p50_ms),
            fmt_ms(e.p95_ms),
            fmt_ms(e.p99_ms),
            format!("{:.1}", e.throughput_rps),
        ]);
        let widths: Vec<usize> = (0..header.len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for (i, row) in rows.iter().enumerate() {
            if i == rows.len() - 1 {
                let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                let _ = writeln!(out, "{}", "-".repeat(total));
            }
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c == 0 {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str("  ");
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "end to end: mean {}, p99.9 {}, max {}; {:.1} requests in the system on average",
            fmt_ms(e.mean_ms),
            fmt_ms(e.p999_ms),
            fmt_ms(e.max_ms),
            e.mean_in_system
        );
        if e.attempts > e.arrivals || e.timed_out > 0 || e.short_circuited > 0 {
            let _ = writeln!(
                out,
                "clients: {} attempts for {} requests ({:.2}x), {} retries, {} timed out, {} short-circuited by the breaker ({} trips)",
                fmt_count(e.attempts),
                fmt_count(e.arrivals),
                e.amplification,
                fmt_count(e.retries),
                fmt_count(e.timed_out),
                fmt_count(e.short_circuited),
                e.breaker_trips
            );
        }
        for (id, r) in &self.nodes.0 {
            if let Some(c) = &r.cache {
                let _ = writeln!(
                    out,
                    "{id}: hit ratio {}, {} hits ({} stale), {} misses, {} coalesced, {} keys held",
                    c.hit_ratio
                        .map_or("-".into(), |h| format!("{:.1}%", h * 100.0)),
                    fmt_count(c.hits),
                    fmt_count(c.stale_hits),
                    fmt_count(c.misses),
                    fmt_count(c.coalesced),
                    fmt_count(c.keys)
                );
            }
            if let Some(lb) = &r.load_balancer {
                let total: u64 = lb.sent.iter().sum();
                let parts: Vec<String> = lb
                    .backends
                    .iter()
                    .zip(&lb.sent)
                    .zip(&lb.healthy)
                    .map(|((b, &n), &h)| {
                        format!(
                            "{b} {:.0}%{}",
                            ratio(n, total) * 100.0,
                            if h { "" } else { " (out: unhealthy)" }
                        )
                    })
                    .collect();
                let _ = writeln!(out, "{id}: sent {}", parts.join(", "));
            }
            if let Some(sh) = &r.shards {
                let total: u64 = sh.sent.iter().sum();
                let parts: Vec<String> = sh
                    .shards
                    .iter()
                    .zip(&sh.sent)
                    .map(|(id, &n)| format!("{id} {:.0}%", ratio(n, total) * 100.0))
                    .collect();
                let _ = writeln!(out, "{id}: sent {}", parts.join(", "));
                if let Some(m) = sh.last_reshard_moved {
                    let _ = writeln!(
                        out,
                        "{id}: the last reshard moved {:.1}% of keys",
                        m * 100.0
                    );
                }
            }
            if let Some(a) = &r.app
                && (a.pool_waits > 0 || a.scale_actions > 0 || a.pool_refused > 0)
            {
                let _ = writeln!(
                    out,
                    "{id}: {} instances at the end ({} autoscaling actions), pools want {} connections and got {}; {} calls waited for one, {} failed without one",
                    a.instances,
                    a.scale_actions,
                    a.pool_size.map_or("-".into(), |p| p.to_string()),
                    a.pool_open.map_or("-".into(), |p| p.to_string()),
                    fmt_count(a.pool_waits),
                    fmt_count(a.pool_refused)
                );
            }
            if let Some(a) = &r.app
                && (a.call_retries + a.call_timeouts + a.call_short_circuited > 0)
            {
                let _ = writeln!(
                    out,
                    "{id}: calls retried {}, timed out {}, short-circuited {} (breakers opened {} times)",
                    fmt_count(a.call_retries),
                    fmt_count(a.call_timeouts),
                    fmt_count(a.call_short_circuited),
                    a.breaker_trips
                );
            }
            if let Some(q) = &r.queue {
                let _ = writeln!(
                    out,
                    "{id}: {} processed, {} redelivered after the visibility timeout, {} retried, {} dead-lettered, {} processed twice, {} repeats skipped",
                    fmt_count(q.processed),
                    fmt_count(q.redelivered),
                    fmt_count(q.retried),
                    fmt_count(q.dead_lettered),
                    fmt_count(q.duplicates),
                    fmt_count(q.deduplicated)
                );
            }
            if let Some(rej) = r.rejected {
                let _ = writeln!(
                    out,
                    "{id}: refused {} requests ({:.1}%) over the limit",
                    fmt_count(rej),
                    ratio(rej, r.arrivals) * 100.0
                );
            }
            if let Some(rep) = &r.replica {
                let _ = writeln!(
                    out,
                    "{id}: {} stale reads of {} ({}), mean lag {}",
                    fmt_count(rep.stale_reads),
                    fmt_count(rep.reads),
                    rep.stale_ratio
                        .map_or("-".into(), |x| format!("{:.2}%", x * 100.0)),
                    fmt_ms(rep.mean_lag_ms)
                );
            }
            if let Some(d) = &r.database
                && d.duplicate_writes + d.deduplicated_writes > 0
            {
                let _ = writeln!(
                    out,
                    "{id}: {} writes applied twice, {} repeats caught by idempotency keys",
                    fmt_count(d.duplicate_writes),
                    fmt_count(d.deduplicated_writes)
                );
            }
            if let Some(d) = &r.database
                && let Some(p) = &d.promoted_to
            {
                let _ = writeln!(
                    out,
                    "{id}: failed over to {p}, losing {} writes that had not replicated",
                    fmt_count(d.lost_writes)
                );
            }
            if let Some(d) = &r.database
                && d.refused > 0
            {
                let _ = writeln!(
                    out,
                    "{id}: refused {} queries at the connection limit",
                    fmt_count(d.refused)
                );
            }
        }
        if let Some(b) = &self.bottleneck {
            let _ = writeln!(out, "bottleneck: {}", b.reason);
        }
        if let Some(f) = &self.failures {
            let _ = writeln!(out, "failures: {f}");
        }
        if self.bottleneck_timeline.len() > 1 {
            let parts: Vec<String> = self
                .bottleneck_timeline
                .iter()
                .map(|p| {
                    format!(
                        "{}-{}: {} ({:.0}%)",
                        fmt_secs(p.from_s),
                        fmt_secs(p.to_s),
                        p.node,
                        p.utilization * 100.0
                    )
                })
                .collect();
            let _ = writeln!(out, "the bottleneck moved: {}", parts.join(", then "));
        }
        for c in &self.changes {
            let _ = writeln!(out, "change at {}: {:?}", c.at, c.change);
        }
        if let Some(s) = &self.stopped {
            let _ = writeln!(out, "STOPPED EARLY: {s}");
        }
        out
    }
}

fn fmt_secs(s: f64) -> String {
    Duration((s * 1e9).round() as u64).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_for_people() {
        assert_eq!(fmt_count(1234567), "1,234,567");
        assert_eq!(fmt_count(12), "12");
        assert_eq!(fmt_ms(Some(850.0)), "850ms");
        assert_eq!(fmt_ms(Some(1240.0)), "1.24s");
        assert_eq!(fmt_ms(Some(0.32)), "320us");
        assert_eq!(fmt_ms(Some(12.345)), "12.35ms");
        assert_eq!(fmt_ms(None), "-");
    }
}
