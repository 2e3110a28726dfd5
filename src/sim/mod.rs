//! The discrete-event engine.
//!
//! A [`Simulation`] owns the clock, the future event list, the requests in
//! flight and the state of every source and node. Front ends drive it: step
//! until a time ([`Simulation::step_until`]) or one event
//! ([`Simulation::step_event`]), apply a change ([`Simulation::apply`]), read
//! metrics ([`Simulation::report`], [`Simulation::live`],
//! [`Simulation::series`]). It does no I/O, reads no clock and starts no
//! threads.
//!
//! How a request travels is told in ARCHITECTURE.md; in short: a source's
//! `Arrival` creates a root request that *enters* its first node. Every node
//! shares one queueing core (servers, FIFO queue, down/slow/error state);
//! what happens at the end of service depends on the kind: a station routes
//! the request on or ends it, an app runs its handler (calls to other nodes,
//! whose answers resume it), a cache or database answers its caller. A load
//! balancer hands the request to a backend without queueing.

mod calls;
mod client;
mod control;
mod core;
mod queue;
pub(crate) mod requests;
mod restructure;
mod restructure_sources;
mod run_error;
mod schedule;
mod sessions;
pub(crate) mod source;

pub use control::{
    AppliedChange, Change, ControlError, Fault, KINDS, MAX_SLOW, MAX_TRAFFIC, MAX_USERS,
    ReplayError, effect, users_at,
};
pub use queue::{Event, EventQueue};
pub use requests::{ABANDONED, DETACHED, ROOT, Request, Requests, SLEEPING, op, outcome};
pub use restructure::{Remap, Restructure, updates_in_place};
pub use restructure_sources::{Retired, arrivals_shape};
pub use run_error::{RunError, STILL_LIMIT};
pub use schedule::{MAX_RAMP_STEPS, Scheduled, TrafficProfile};
pub use sessions::{SessionRun, SessionStats, SetStats};
pub use source::{
    BreakerState as SourceBreaker, RetryBudget, SourceState, backoff as retry_backoff,
};

use crate::dist::Sampler;
pub(crate) use crate::kinds::KindState;
use crate::metrics::{EndToEndStats, Groups, NodeStats, OpenWindow, Series};
use crate::model::Model;
use crate::rng::{Purpose, Stream};
use crate::time::{Duration, SEC, SimTime};
use std::collections::VecDeque;

/// How a run is set up.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// Seed of every random stream.
    pub seed: u64,
    /// Measurements count only what arrives after this.
    pub warmup: Duration,
    /// Length of a time-series window.
    pub window: Duration,
    /// Windows kept per node (older ones are dropped).
    pub series_capacity: usize,
    /// Stop after this many events.
    pub max_events: u64,
    /// Stop when more requests than this are in flight.
    pub max_in_flight: usize,
    /// Stop after this many events in a row at one instant (time stood
    /// still); [`STILL_LIMIT`] by default.
    pub max_still: u64,
    /// Measurements count only what arrives before this (`SimTime::MAX`:
    /// no end). Requests that arrived before it are counted when their
    /// outcome comes, however late; time averages (utilization, queues)
    /// stop here. Scenarios judge a window by running past its end until its
    /// requests are settled.
    pub cohort_end: SimTime,
    /// A user's request is *good* (counts toward goodput) when it is
    /// answered successfully within this time of its first attempt, retries
    /// included. `None`: within its client's `timeout`, when the client has
    /// one; a request of a client without one is good when it succeeds.
    pub deadline: Option<Duration>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            seed: 1,
            warmup: Duration::ZERO,
            window: Duration(SEC),
            series_capacity: 3_600,
            max_events: 2_000_000_000,
            max_in_flight: 2_000_000,
            max_still: STILL_LIMIT,
            cohort_end: SimTime::MAX,
            deadline: None,
        }
    }
}

/// A node's run-time state: the shared queueing core, and its kind's own.
#[derive(Clone, Debug)]
pub(crate) struct NodeState {
    pub servers: u32,
    pub queue_cap: usize,
    pub waiting: VecDeque<u32>,
    pub down: bool,
    pub epoch: u32,
    pub slow: f64,
    /// Probability that a request fails at the end of its service.
    pub error_rate: f64,
    /// Load-dependent latency.
    pub load: Option<crate::kind::LoadCurve>,
    pub service: Sampler,
    /// Routes as (cumulative probability, target).
    pub routes: Box<[(f64, u32)]>,
    pub rng_service: Stream,
    pub rng_route: Stream,
    pub rng_fail: Stream,
    pub stats: NodeStats,
    pub window: OpenWindow,
    pub kind: KindState,
}

impl NodeState {
    /// Node `i` of `model` as it starts: idle, up, cold.
    pub(crate) fn new(model: &Model, i: usize, seed: u64, tracked: &[u32]) -> NodeState {
        let n = &model.nodes[i];
        NodeState {
            servers: n.servers,
            queue_cap: n.queue.map_or(usize::MAX, |q| q as usize),
            waiting: VecDeque::with_capacity(64),
            down: false,
            epoch: 0,
            slow: 1.0,
            error_rate: 0.0,
            load: n.load,
            service: n.service.clone(),
            routes: routes_of(n),
            rng_service: Stream::new(seed, Purpose::Service, &n.id),
            rng_route: Stream::new(seed, Purpose::Routing, &n.id),
            rng_fail: Stream::new(seed, Purpose::Failure, &n.id),
            stats: NodeStats::with_targets(n.servers, &model.call_targets(i)),
            window: OpenWindow::default(),
            kind: KindState::new(model, i, seed, tracked),
        }
    }
}

/// A node's routes as (cumulative probability, target).
pub(crate) fn routes_of(n: &crate::model::NodeModel) -> Box<[(f64, u32)]> {
    let mut cum = 0.0;
    n.routes
        .iter()
        .map(|r| {
            cum += r.p;
            (cum, r.to as u32)
        })
        .collect()
}

/// What a node looks like right now (for live views).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiveNode {
    /// Servers configured.
    pub servers: u32,
    /// Servers busy.
    pub busy: u64,
    /// Requests waiting.
    pub waiting: usize,
    /// Down (failing every request).
    pub down: bool,
    /// Service-time multiplier.
    pub slow: f64,
    /// Injected error rate.
    pub error_rate: f64,
    /// An app's instances (`None` for other kinds).
    pub instances: Option<u32>,
}

/// What a simulation holds right now: after the sources stop and every
/// node is back up, a drained simulation holds nothing (no request, no busy
/// server, no pool connection or fan-out slot taken). Tests check it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audit {
    /// Requests in the slab.
    pub requests: usize,
    /// Busy servers over all nodes.
    pub busy: u64,
    /// Requests waiting in node queues.
    pub waiting: usize,
    /// Busy servers waiting on calls.
    pub calling: u64,
    /// Busy servers waiting for a pool connection.
    pub pool_wait: u64,
    /// App pool connections in use.
    pub pool_in_use: u64,
    /// Requests waiting for a pool connection.
    pub pool_waiters: usize,
    /// Fan-out slots in use.
    pub fanouts: usize,
    /// Keys with a single-flight fill pending.
    pub fills: usize,
    /// Requests a load balancer counts as in progress at a backend.
    pub balanced: u64,
    /// Requests held at nodes without a server (`NodeStats::held`).
    pub held: u64,
}

/// A running simulation of one model.
#[derive(Clone, Debug)]
pub struct Simulation {
    pub(crate) model: Model,
    pub(crate) config: RunConfig,
    pub(crate) now: SimTime,
    pub(crate) events: u64,
    pub(crate) queue: EventQueue,
    pub(crate) reqs: Requests,
    pub(crate) nodes: Vec<NodeState>,
    pub(crate) sources: Vec<SourceState>,
    pub(crate) multiplier: f64,
    e2e: EndToEndStats,
    e2e_window: OpenWindow,
    pub(crate) series: Vec<Series>,
    e2e_series: Series,
    /// Per class and per source (when there is more than one).
    pub(crate) groups: Groups,
    /// Per source, the deadline of a good answer, ns (`u64::MAX`: none).
    pub(crate) deadlines: Box<[u64]>,
    pub(crate) window_start: SimTime,
    pub(crate) next_window: SimTime,
    pub(crate) warm: bool,
    /// The cohort's end has passed (time averages are frozen there).
    pub(crate) sealed: bool,
    /// The earliest of the next window boundary, the warm-up's end and the
    /// cohort's end.
    pub(crate) next_mark: SimTime,
    pub(crate) log: Vec<AppliedChange>,
    pub(crate) stopped: Option<RunError>,
    /// The last event's time and how many events ran at it in a row.
    pub(crate) instant: (SimTime, u64),
    pub(crate) fanouts: Vec<crate::kinds::app::FanOutSlot>,
    pub(crate) fanout_free: Vec<u32>,
    pub(crate) next_uid: u64,
    /// Ordered pairs of nodes that cannot reach each other.
    pub(crate) partitions: std::collections::BTreeSet<(u32, u32)>,
    /// The topology has regions (network latency applies).
    pub(crate) has_regions: bool,
    /// Changes scheduled for later, in (time, insertion) order.
    pub(crate) pending: Vec<schedule::Scheduled>,
    /// When the first of them is due (`SimTime::MAX`: none).
    pub(crate) next_change: SimTime,
    /// Scheduled changes refused when their time came.
    pub(crate) refused: Vec<(SimTime, Change, ControlError)>,
    /// Per node, removed by a restructure (kept, down for good, so that
    /// every index stays valid; see [`Simulation::restructure`]).
    pub(crate) retired: Vec<bool>,
    /// Per source, removed by a restructure (kept, silent).
    pub(crate) retired_sources: Vec<bool>,
}

impl Simulation {
    /// A simulation at time 0 with every source's first arrival scheduled.
    pub fn new(model: &Model, config: RunConfig) -> Self {
        let seed = config.seed;
        // Primaries whose writes must be remembered: replicated, or read
        // with read-your-writes routing.
        let tracked = crate::kinds::tracked_primaries(model);
        let nodes = (0..model.nodes.len())
            .map(|i| NodeState::new(model, i, seed, &tracked))
            .collect();
        let sources = model
            .sources
            .iter()
            .map(|s| SourceState::new(s, seed, config.series_capacity))
            .collect();
        let window = config.window.0.max(1);
        let cap = config.series_capacity;
        let mut sim = Simulation {
            model: model.clone(),
            now: 0,
            events: 0,
            queue: EventQueue::with_capacity(1024),
            reqs: Requests::default(),
            nodes,
            sources,
            multiplier: 1.0,
            e2e: EndToEndStats::default(),
            e2e_window: OpenWindow::default(),
            series: (0..model.nodes.len()).map(|_| Series::new(cap)).collect(),
            e2e_series: Series::new(cap),
            groups: Groups::new(model.classes.len(), model.sources.len(), cap),
            deadlines: model
                .sources
                .iter()
                .map(|s| {
                    config
                        .deadline
                        .map(|d| d.0)
                        .or(s.client.timeout)
                        .unwrap_or(u64::MAX)
                })
                .collect(),
            window_start: 0,
            next_window: window,
            warm: config.warmup.0 == 0,
            sealed: false,
            next_mark: 0,
            log: Vec::new(),
            stopped: None,
            instant: (0, 0),
            fanouts: Vec::new(),
            fanout_free: Vec::new(),
            next_uid: 0,
            partitions: Default::default(),
            has_regions: !model.regions.is_empty(),
            pending: Vec::new(),
            next_change: SimTime::MAX,
            refused: Vec::new(),
            retired: vec![false; model.nodes.len()],
            retired_sources: vec![false; model.sources.len()],
            config,
        };
        sim.next_mark = sim.next_mark();
        for i in 0..sim.sources.len() {
            match sim.sources[i].closed.as_ref().map(|c| c.0) {
                // Closed loop: each user starts after a think time.
                Some(users) => {
                    let session = sim.sources[i].session.is_some();
                    for u in 0..users {
                        let at = sim.sources[i].think();
                        sim.queue.push(
                            at,
                            Event::Arrival {
                                source: i as u32,
                                // A session user's turn names the user.
                                epoch: if session { u } else { 0 },
                            },
                        );
                    }
                }
                None => sim.schedule_arrival(i, 0),
            }
        }
        sim.kinds_start();
        sim
    }

    /// The model being simulated.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The run's configuration.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Requests in the system right now.
    pub fn in_flight(&self) -> usize {
        self.reqs.live()
    }

    /// The high-water mark of requests in flight (slab size).
    pub fn peak_in_flight(&self) -> usize {
        self.reqs.capacity()
    }

    /// Pending events.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    /// The global traffic multiplier.
    pub fn traffic_multiplier(&self) -> f64 {
        self.multiplier
    }

    /// Why the run stopped early, if it did.
    pub fn stopped(&self) -> Option<&RunError> {
        self.stopped.as_ref()
    }

    /// What the simulation holds right now (see [`Audit`]).
    pub fn audit(&self) -> Audit {
        let mut a = Audit {
            requests: self.reqs.live(),
            fanouts: self.fanouts.len() - self.fanout_free.len(),
            ..Audit::default()
        };
        for n in &self.nodes {
            a.busy += n.stats.busy.value();
            a.waiting += n.waiting.len();
            a.calling += n.stats.calling.value();
            a.pool_wait += n.stats.pool_wait.value();
            a.held += n.stats.held.value();
            match &n.kind {
                KindState::App(app) => {
                    if let Some(p) = &app.pool {
                        a.pool_in_use += p.in_use as u64;
                        a.pool_waiters += p.waiters.len();
                    }
                }
                KindState::Cache(c) => a.fills += c.pending_fills(),
                KindState::LoadBalancer(lb) => {
                    a.balanced += lb.active.iter().map(|&x| x as u64).sum::<u64>()
                }
                _ => {}
            }
        }
        a
    }

    /// What node `i` looks like right now.
    pub fn live(&self, i: usize) -> LiveNode {
        let n = &self.nodes[i];
        LiveNode {
            servers: n.servers,
            busy: n.stats.busy.value(),
            waiting: n.waiting.len(),
            down: n.down,
            slow: n.slow,
            error_rate: n.error_rate,
            instances: match &n.kind {
                KindState::App(a) => Some(a.instances),
                _ => None,
            },
        }
    }

    /// The closed time-series windows of node `i`.
    pub fn series(&self, i: usize) -> &Series {
        &self.series[i]
    }

    /// The closed end-to-end time-series windows.
    pub fn end_to_end_series(&self) -> &Series {
        &self.e2e_series
    }

    /// The live requests (for tests and inspection).
    pub fn requests(&self) -> impl Iterator<Item = &Request> {
        self.reqs.iter()
    }

    /// The request in slot `i` (for inspection).
    pub fn request(&self, i: u32) -> &Request {
        &self.reqs[i]
    }

    pub(crate) fn node_state(&self, i: usize) -> &NodeState {
        &self.nodes[i]
    }

    pub(crate) fn e2e_stats(&self) -> &EndToEndStats {
        &self.e2e
    }

    /// Per-class and per-source measurements (empty when the topology has
    /// one class and one source).
    pub fn groups(&self) -> &Groups {
        &self.groups
    }

    /// True when some answer can be late: the run has a deadline or a
    /// source's client has a timeout (goodput can then differ from
    /// throughput).
    pub fn has_deadline(&self) -> bool {
        self.deadlines.iter().any(|&d| d != u64::MAX)
    }

    /// Runs every event at or before `t`, then moves the clock to `t`.
    /// A `t` in the past does nothing.
    pub fn step_until(&mut self, t: SimTime) -> Result<(), RunError> {
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        loop {
            let next = self.queue.peek_time();
            if self.change_due(next, t) {
                self.apply_scheduled();
                continue;
            }
            match next {
                Some(et) if et <= t => self.process_next()?,
                _ => break,
            }
        }
        if t > self.now {
            self.advance(t);
            self.now = t;
        }
        Ok(())
    }

    /// When the next event happens, if any is pending: front ends step
    /// event by event up to a time without overshooting it.
    pub fn next_event_time(&self) -> Option<SimTime> {
        match self.queue.peek_time() {
            Some(t) => Some(t.min(self.next_change)),
            None => (self.next_change != SimTime::MAX).then_some(self.next_change),
        }
    }

    /// Runs exactly one event (or a scheduled change due before it) and
    /// returns its time; `None` when nothing is pending.
    pub fn step_event(&mut self) -> Result<Option<SimTime>, RunError> {
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        if self.change_due(self.queue.peek_time(), SimTime::MAX) {
            self.apply_scheduled();
            return Ok(Some(self.now));
        }
        if self.queue.is_empty() {
            return Ok(None);
        }
        self.process_next()?;
        Ok(Some(self.now))
    }

    /// Runs events until `n` have been processed in all, none of them after
    /// `at` (for replay of a change recorded at `at` after `n` events). It
    /// is an error when the count is not reached by `at`, was passed
    /// already, or leaves events before `at` unrun: the record does not fit.
    pub(crate) fn step_to_event_count(&mut self, n: u64, at: SimTime) -> Result<(), RunError> {
        // As `step_until(at)` would, stopping at the `n`-th event: scheduled
        // changes due by `at` apply in their place among the events.
        loop {
            let next = self.queue.peek_time();
            if self.change_due(next, at) {
                self.apply_scheduled();
                continue;
            }
            match next {
                Some(t) if t <= at && self.events < n => self.process_next()?,
                _ => break,
            }
        }
        let early = self.queue.peek_time().is_some_and(|t| t < at);
        if self.events != n || early || self.now > at {
            return Err(RunError::ReplayMismatch {
                at,
                recorded: n,
                ran: self.events,
                now: self.now,
            });
        }
        Ok(())
    }

    #[inline]
    fn process_next(&mut self) -> Result<(), RunError> {
        let Some((t, ev)) = self.queue.pop() else {
            return Ok(());
        };
        if t >= self.next_mark {
            self.advance(t);
        }
        self.now = t;
        self.events += 1;
        match ev {
            Event::Arrival { source, epoch } => self.on_arrival(source as usize, epoch),
            Event::Departure { node, req, epoch } => self.on_departure(node as usize, req, epoch),
            Event::Timeout { req, serial } => self.on_timeout(req, serial),
            Event::Start { req, serial } => self.on_start(req, serial),
            Event::Health { node } => self.on_health(node as usize),
            Event::Hedge { req, serial, round } => self.on_hedge(req, serial, round),
            Event::Promote { node } => self.on_promote(node as usize),
            Event::Answer {
                req,
                serial,
                result,
            } => self.on_answer(req, serial, result as u8),
            Event::CallTimeout { req, serial, call } => self.on_call_timeout(req, serial, call),
            Event::CallRetry { req, serial } => self.on_call_retry(req, serial),
            Event::Autoscale { node } => self.on_autoscale(node as usize),
            Event::Provisioned { node, count } => self.on_provisioned(node as usize, count),
            Event::Visibility { req, serial } => self.on_visibility(req, serial),
            Event::Redeliver { req, serial, node } => self.on_redeliver(req, serial, node),
        }
        if self.now == self.instant.0 {
            self.instant.1 += 1;
            if self.instant.1 > self.config.max_still {
                return self.stop(RunError::TimeStoodStill {
                    at: self.now,
                    events: self.instant.1,
                });
            }
        } else {
            self.instant = (self.now, 0);
        }
        if self.events >= self.config.max_events {
            return self.stop(RunError::EventBudget {
                at: self.now,
                limit: self.config.max_events,
            });
        }
        if self.reqs.live() > self.config.max_in_flight {
            let worst = self
                .nodes
                .iter()
                .enumerate()
                .max_by_key(|(i, n)| (n.waiting.len(), std::cmp::Reverse(*i)))
                .map(|(i, n)| (self.model.nodes[i].id.clone(), n.waiting.len()));
            return self.stop(RunError::InFlightBudget {
                at: self.now,
                limit: self.config.max_in_flight,
                worst,
            });
        }
        Ok(())
    }

    fn stop(&mut self, e: RunError) -> Result<(), RunError> {
        self.stopped = Some(e.clone());
        Err(e)
    }

    /// Handles the warm-up's end and window boundaries up to `t`.
    #[cold]
    fn advance(&mut self, t: SimTime) {
        while t >= self.next_mark {
            let mark = self.next_mark;
            if !self.warm && mark == self.config.warmup.0 {
                self.warm = true;
                for n in &mut self.nodes {
                    n.stats.at_warmup = n.stats.areas(mark);
                    for (k, (_, l)) in n.stats.waits.iter().enumerate() {
                        n.stats.waits_at_warmup[k] = l.area_at(mark);
                    }
                }
                self.e2e.in_system_at_warmup = self.e2e.in_system.area_at(mark);
            }
            if mark == self.next_window {
                let start = self.window_start;
                for (i, n) in self.nodes.iter_mut().enumerate() {
                    let areas = n.stats.areas(mark);
                    let rec = n.window.close(start, mark, areas);
                    self.series[i].push(rec);
                }
                let rec = self.e2e_window.close(start, mark, Default::default());
                self.e2e_series.push(rec);
                self.groups.close_windows(start, mark);
                self.close_session_windows(start);
                self.window_start = mark;
                self.next_window = mark.saturating_add(self.config.window.0.max(1));
            }
            if !self.sealed && mark == self.config.cohort_end {
                self.sealed = true;
                for n in &mut self.nodes {
                    n.stats.at_end = Some(n.stats.areas(mark));
                    n.stats.waits_at_end =
                        n.stats.waits.iter().map(|(_, l)| l.area_at(mark)).collect();
                }
                self.e2e.in_system_at_end = Some(self.e2e.in_system.area_at(mark));
            }
            self.next_mark = self.next_mark();
            if self.next_mark == SimTime::MAX {
                break;
            }
        }
    }

    /// The earliest mark still to come: a window boundary, the warm-up's
    /// end, the cohort's end.
    fn next_mark(&self) -> SimTime {
        let mut m = self.next_window;
        if !self.warm {
            m = m.min(self.config.warmup.0);
        }
        if !self.sealed {
            m = m.min(self.config.cohort_end);
        }
        m
    }

    /// True if something that arrived at `t` is measured: after the
    /// warm-up and before the cohort's end.
    #[inline]
    pub(crate) fn counts(&self, t: SimTime) -> bool {
        t >= self.config.warmup.0 && t < self.config.cohort_end
    }

    /// Requests of the measured cohort (users' requests, and visits at each
    /// node) that have no outcome yet: 0 once a window's requests are settled.
    pub fn unsettled(&self) -> u64 {
        let e = &self.e2e;
        let users = e.arrivals - e.completed - e.dropped;
        let visits: u64 = self
            .nodes
            .iter()
            .map(|n| n.stats.arrivals - n.stats.completed - n.stats.dropped - n.stats.errors)
            .sum();
        users + visits
    }
}

impl Simulation {
    /// How many times source `s`'s circuit breaker has opened.
    pub fn breaker_trips(&self, s: usize) -> u64 {
        self.sources[s].breaker.as_ref().map_or(0, |b| b.opened)
    }
}
