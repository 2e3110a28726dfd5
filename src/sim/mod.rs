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

mod control;
mod queue;
pub(crate) mod requests;
pub(crate) mod source;

pub use control::{
    AppliedChange, Change, ControlError, Fault, KINDS, MAX_SLOW, MAX_TRAFFIC, MAX_USERS,
    ReplayError, effect,
};
pub use queue::{Event, EventQueue};
pub use requests::{ABANDONED, DETACHED, ROOT, Request, Requests, SLEEPING, op, outcome};
pub use source::{BreakerState as SourceBreaker, SourceState};

use crate::dist::Sampler;
use crate::kinds::KindModel;
pub(crate) use crate::kinds::KindState;
use crate::kinds::app::StepModel;
use crate::metrics::{EndToEndStats, NodeStats, OpenWindow, Series};
use crate::model::Model;
use crate::rng::{Purpose, Stream};
use crate::time::{Duration, SEC, SimTime};
use std::collections::VecDeque;
use std::fmt;

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
    /// Measurements count only what arrives before this (`SimTime::MAX`:
    /// no end). Requests that arrived before it are counted when their
    /// outcome comes, however late; time averages (utilization, queues)
    /// stop here. Scenarios judge a window by running past its end until its
    /// requests are settled.
    pub cohort_end: SimTime,
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
            cohort_end: SimTime::MAX,
        }
    }
}

/// Why a run stopped early. Both are budgets against runaway work.
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
        }
    }
}

impl std::error::Error for RunError {}

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
    /// Load-dependent latency factor.
    pub load_factor: f64,
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
    pub(crate) fanouts: Vec<crate::kinds::app::FanOutSlot>,
    pub(crate) fanout_free: Vec<u32>,
    pub(crate) next_uid: u64,
    /// Ordered pairs of nodes that cannot reach each other.
    pub(crate) partitions: std::collections::BTreeSet<(u32, u32)>,
    /// The topology has regions (network latency applies).
    pub(crate) has_regions: bool,
}

impl Simulation {
    /// A simulation at time 0 with every source's first arrival scheduled.
    pub fn new(model: &Model, config: RunConfig) -> Self {
        let seed = config.seed;
        // Primaries whose writes must be remembered: replicated, or read
        // with read-your-writes routing.
        let mut tracked: Vec<u32> = Vec::new();
        for n in &model.nodes {
            match &n.kind {
                KindModel::Replica(r) => tracked.push(r.primary),
                KindModel::App(app) => {
                    tracked.extend(app.handlers.iter().flatten().filter_map(|s| match s {
                        StepModel::ReadFresh { primary, .. } => Some(*primary),
                        _ => None,
                    }))
                }
                _ => {}
            }
        }
        let nodes = model
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut cum = 0.0;
                let routes = n
                    .routes
                    .iter()
                    .map(|r| {
                        cum += r.p;
                        (cum, r.to as u32)
                    })
                    .collect();
                let kind = KindState::new(model, i, seed, &tracked);
                NodeState {
                    servers: n.servers,
                    queue_cap: n.queue.map_or(usize::MAX, |q| q as usize),
                    waiting: VecDeque::with_capacity(64),
                    down: false,
                    epoch: 0,
                    slow: 1.0,
                    error_rate: 0.0,
                    load_factor: n.load_factor,
                    service: n.service.clone(),
                    routes,
                    rng_service: Stream::new(seed, Purpose::Service, &n.id),
                    rng_route: Stream::new(seed, Purpose::Routing, &n.id),
                    rng_fail: Stream::new(seed, Purpose::Failure, &n.id),
                    stats: NodeStats::with_targets(n.servers, &model.call_targets(i)),
                    window: OpenWindow::default(),
                    kind,
                }
            })
            .collect();
        let sources = model
            .sources
            .iter()
            .map(|s| SourceState::new(s, seed))
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
            window_start: 0,
            next_window: window,
            warm: config.warmup.0 == 0,
            sealed: false,
            next_mark: 0,
            log: Vec::new(),
            stopped: None,
            fanouts: Vec::new(),
            fanout_free: Vec::new(),
            next_uid: 0,
            partitions: Default::default(),
            has_regions: !model.regions.is_empty(),
            config,
        };
        sim.next_mark = sim.next_mark();
        for i in 0..sim.sources.len() {
            match sim.sources[i].closed.as_ref().map(|c| c.0) {
                // Closed loop: each user starts after a think time.
                Some(users) => {
                    for _ in 0..users {
                        let at = sim.sources[i].think();
                        sim.queue.push(
                            at,
                            Event::Arrival {
                                source: i as u32,
                                epoch: 0,
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

    /// Runs every event at or before `t`, then moves the clock to `t`.
    /// A `t` in the past does nothing.
    pub fn step_until(&mut self, t: SimTime) -> Result<(), RunError> {
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        while let Some(et) = self.queue.peek_time() {
            if et > t {
                break;
            }
            self.process_next()?;
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
        self.queue.peek_time()
    }

    /// Runs exactly one event and returns its time; `None` when nothing is
    /// pending.
    pub fn step_event(&mut self) -> Result<Option<SimTime>, RunError> {
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        if self.queue.is_empty() {
            return Ok(None);
        }
        self.process_next()?;
        Ok(Some(self.now))
    }

    /// Runs events until `n` have been processed in all (for replay).
    pub(crate) fn step_to_event_count(&mut self, n: u64) -> Result<(), RunError> {
        while self.events < n && !self.queue.is_empty() {
            self.process_next()?;
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

    pub(crate) fn schedule_arrival(&mut self, s: usize, from: SimTime) {
        let src = &mut self.sources[s];
        if let Some(t) = src.next_arrival(from, self.multiplier) {
            let epoch = src.epoch;
            self.queue.push(
                t,
                Event::Arrival {
                    source: s as u32,
                    epoch,
                },
            );
        }
    }

    fn on_arrival(&mut self, s: usize, epoch: u32) {
        if epoch != self.sources[s].epoch {
            return;
        }
        if self.sources[s].closed.is_some() && self.sources[s].retire() {
            return; // the user leaves the loop (less traffic)
        }
        let now = self.now;
        let (class, key) = self.sources[s].draw_class_and_key();
        let to = self.sources[s].to;
        let mut r = Request::new(now, to, ROOT);
        r.class = class;
        r.key = key;
        r.source = s as u16;
        r.ip = self.sources[s].draw_ip();
        self.next_uid += 1;
        r.effect = self.next_uid << 8;
        let req = self.reqs.alloc(r);
        if self.counts(now) {
            self.e2e.arrivals += 1;
        }
        self.e2e_window.arrivals += 1;
        self.e2e.in_system.inc(now);
        if self.sources[s].closed.is_none() {
            self.schedule_arrival(s, now);
        }
        self.send_attempt(req);
    }

    /// A user's request is over (answered, or given up): a closed-loop
    /// user thinks, then sends the next.
    #[inline]
    fn user_done(&mut self, source: u16) {
        let s = source as usize;
        if self.sources[s].closed.is_some() && !self.sources[s].retire() {
            let at = self.now.saturating_add(self.sources[s].think());
            self.queue.push(
                at,
                Event::Arrival {
                    source: s as u32,
                    epoch: 0,
                },
            );
        }
    }

    /// Sends a root attempt to its source's first node, with its timeout,
    /// unless the clients' circuit breaker is open.
    fn send_attempt(&mut self, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let src = &mut self.sources[r.source as usize];
        if r.attempt == 0 {
            src.earn_retry();
        }
        if let Some(b) = &mut src.breaker
            && !b.allow(now)
        {
            // Short-circuited: fail at once, without retrying.
            if self.counts(r.born) {
                self.e2e.short_circuited += 1;
                self.e2e.dropped += 1;
            }
            self.e2e_window.dropped += 1;
            self.e2e.in_system.dec(now);
            self.reqs.free(req);
            self.user_done(r.source);
            return;
        }
        if let Some(t) = src.client.timeout {
            self.queue.push(
                now.saturating_add(t),
                Event::Timeout {
                    req,
                    serial: r.serial,
                },
            );
        }
        let to = src.to;
        if self.counts(r.born) {
            self.e2e.attempts += 1;
        }
        let lat = if self.has_regions {
            self.hop_latency(None, to as usize, req)
        } else {
            0
        };
        self.deliver(to as usize, req, lat);
    }

    /// Request `req` arrives at node `i` now.
    #[inline]
    pub(crate) fn enter(&mut self, i: usize, req: u32) {
        let now = self.now;
        let counted = self.counts(now);
        {
            let r = &mut self.reqs[req];
            r.node = i as u32;
            r.visit_arrival = now;
        }
        let n = &mut self.nodes[i];
        if counted {
            n.stats.arrivals += 1;
        }
        n.window.arrivals += 1;
        if n.down {
            self.kind_down_arrival(i, req);
            return;
        }
        if n.kind.hands_on() && n.error_rate > 0.0 && n.rng_fail.unit() < n.error_rate {
            // An injected error at a node that only hands requests on: it
            // answers with an error at once (a misbehaving proxy).
            if counted {
                n.stats.injected += 1;
            }
            self.record_visit(i, req, false);
            self.finish(req, outcome::FAIL);
            return;
        }
        if self.kind_enter(i, req) {
            return;
        }
        let n = &mut self.nodes[i];
        if (n.stats.busy.value() as u32) < n.servers {
            self.start_service(i, req, 0);
        } else if n.waiting.len() < n.queue_cap {
            n.waiting.push_back(req);
            let len = n.waiting.len() as u64;
            n.stats.waiting.set(now, len);
        } else {
            if counted {
                n.stats.overflow += 1;
            }
            n.window.overflow += 1;
            self.drop_request(i, req);
        }
    }

    /// Puts `req` into service at node `i` after waiting `waited` ns.
    #[inline]
    pub(crate) fn start_service(&mut self, i: usize, req: u32, waited: u64) {
        let now = self.now;
        let counted = self.counts(self.reqs[req].visit_arrival);
        let r = &mut self.reqs[req];
        let op = r.op;
        let n = &mut self.nodes[i];
        r.epoch = n.epoch;
        n.stats.busy.inc(now);
        if counted {
            n.stats.wait_sum += waited as u128;
            n.stats.wait_count += 1;
        }
        let mut d = crate::kinds::service_time(n, op);
        if n.slow != 1.0 {
            d = (d as f64 * n.slow + 0.5) as u64;
        }
        if n.load_factor > 0.0 {
            // Slower the busier it is (GC pressure, contention).
            let u = n.stats.busy.value() as f64 / n.servers.max(1) as f64;
            d = (d as f64 * (1.0 + n.load_factor * u * u) + 0.5) as u64;
        }
        let epoch = n.epoch;
        self.queue.push(
            now.saturating_add(d),
            Event::Departure {
                node: i as u32,
                req,
                epoch,
            },
        );
        self.kind_started(i, req);
    }

    /// Frees a server at node `i` and takes the next waiting request.
    #[inline]
    pub(crate) fn release(&mut self, i: usize) {
        let now = self.now;
        let n = &mut self.nodes[i];
        n.stats.busy.dec(now);
        if n.stats.busy.value() >= n.servers as u64 {
            // A removed server finished its last request: capacity shrinks.
            let cap = n.stats.busy.value().max(n.servers as u64);
            n.stats.capacity.set(now, cap);
        }
        if (n.stats.busy.value() as u32) < n.servers
            && let Some(next) = n.waiting.pop_front()
        {
            let len = n.waiting.len() as u64;
            n.stats.waiting.set(now, len);
            let waited = now - self.reqs[next].visit_arrival;
            self.start_service(i, next, waited);
        }
    }

    /// `req`, holding a server at node `i`, starts waiting on a call to
    /// node `target` (or, with `target` = `None`, for a pool connection).
    #[inline]
    pub(crate) fn wait_begin(&mut self, i: usize, req: u32, target: Option<u32>) {
        self.wait_end(i, req);
        let now = self.now;
        let n = &mut self.nodes[i];
        let slot = match target {
            None => {
                n.stats.pool_wait.inc(now);
                requests::WAIT_POOL
            }
            Some(t) => {
                n.stats.calling.inc(now);
                match n.stats.waits.iter().position(|(x, _)| *x == t) {
                    Some(k) => {
                        n.stats.waits[k].1.inc(now);
                        k as u8
                    }
                    None => requests::WAIT_OTHER,
                }
            }
        };
        self.reqs[req].waiting_on = slot;
    }

    /// `req` at node `i` stops waiting (its answer came, or it is lost).
    #[inline]
    pub(crate) fn wait_end(&mut self, i: usize, req: u32) {
        let r = &mut self.reqs[req];
        let slot = std::mem::replace(&mut r.waiting_on, requests::WAIT_NONE);
        if slot == requests::WAIT_NONE || i >= self.nodes.len() {
            return;
        }
        let now = self.now;
        let n = &mut self.nodes[i];
        if r.epoch != n.epoch {
            return; // the node went down meanwhile: its levels were reset
        }
        if slot == requests::WAIT_POOL {
            n.stats.pool_wait.dec(now);
            return;
        }
        n.stats.calling.dec(now);
        if let Some((_, l)) = n.stats.waits.get_mut(slot as usize) {
            l.dec(now);
        }
    }

    /// Records the end of `req`'s visit at node `i`: completed, or an error.
    #[inline]
    pub(crate) fn record_visit(&mut self, i: usize, req: u32, ok: bool) {
        let arrived = self.reqs[req].visit_arrival;
        let sojourn = self.now - arrived;
        let counted = self.counts(arrived);
        let n = &mut self.nodes[i];
        if counted {
            if ok {
                n.stats.completed += 1;
                n.stats.sojourn.record(sojourn);
            } else {
                n.stats.errors += 1;
            }
        }
        if ok {
            n.window.completed += 1;
            n.window.latency.record(sojourn);
        } else {
            n.window.dropped += 1;
        }
    }

    fn on_departure(&mut self, i: usize, req: u32, epoch: u32) {
        if epoch != self.nodes[i].epoch {
            // The node went down while this request was in service: lost.
            self.drop_request(i, req);
            return;
        }
        let counted = self.counts(self.reqs[req].visit_arrival);
        let n = &mut self.nodes[i];
        if n.error_rate > 0.0 && n.rng_fail.unit() < n.error_rate {
            if counted {
                n.stats.injected += 1;
            }
            self.kind_failed(i, req);
            return;
        }
        self.kind_served(i, req);
    }

    /// A call made by `parent` (waiting at an app or a CDN edge) has been answered.
    pub(crate) fn resume(&mut self, parent: u32, result: u8) {
        let p = self.reqs[parent];
        let i = p.node as usize;
        if p.flags & requests::POOLED != 0 {
            self.pool_release(i, parent);
        }
        if self.nodes[i].epoch != p.epoch {
            // The app went down while this request waited: it was lost (its
            // worker was freed when the app went down).
            self.reqs[parent].result = result;
            self.app_lost(i, parent);
            return;
        }
        self.reqs[parent].result = result;
        self.kind_answered(i, parent, result);
    }

    /// `req`'s path is over with `result`: answer whoever waits for it.
    #[inline]
    pub(crate) fn finish(&mut self, req: u32, result: u8) {
        let r = &self.reqs[req];
        let (lb, parent, group) = (r.lb, r.parent, r.group);
        if lb != ROOT {
            let b = r.lb_backend as usize;
            self.load_balancer_done(lb as usize, b);
            self.reqs[req].lb = ROOT;
        }
        // An answer crossing regions takes the link's latency.
        if self.has_regions
            && parent != DETACHED
            && group == requests::NO_GROUP
            && self.answer_later(req, parent, result)
        {
            return;
        }
        match parent {
            ROOT => self.root_done(req, result),
            DETACHED => {
                let r = &self.reqs[req];
                let (op, key, node) = (r.op, r.key, r.node);
                if r.flags & requests::REFILL != 0 && result == outcome::OK {
                    // A background refresh read the database: fill the cache.
                    let cache = r.next_waiter;
                    self.call(req, cache, op::SET, true);
                }
                if result == outcome::FAIL && (op == op::SET || op == op::DEL) {
                    // A fill (or its release) failed on the way: whoever
                    // waits for that fill must not wait for ever.
                    self.fill_failed(node, key);
                }
                self.reqs.free(req)
            }
            _ if group != requests::NO_GROUP => {
                let leg = self.reqs[req].leg;
                self.reqs.free(req);
                self.fanout_answer(group, leg, result);
            }
            parent => self.answer_parent(req, parent, result),
        }
    }

    /// Call `req` answers `parent` with `result`, unless the parent no
    /// longer waits for it (the call timed out): then it is ignored.
    pub(crate) fn answer_parent(&mut self, req: u32, parent: u32, result: u8) {
        let current = self.reqs[parent].call == self.reqs[req].serial;
        self.reqs.free(req);
        if current {
            self.reqs[parent].call = 0;
            self.resume(parent, result);
        }
    }

    /// A user's attempt is over.
    #[inline]
    fn root_done(&mut self, req: u32, result: u8) {
        let r = &self.reqs[req];
        let (flags, source, born) = (r.flags, r.source, r.born);
        if flags & ABANDONED != 0 {
            // The client gave up on this attempt already.
            self.reqs.free(req);
            return;
        }
        let now = self.now;
        if let Some(b) = &mut self.sources[source as usize].breaker {
            b.record(now, result != outcome::FAIL);
        }
        if result == outcome::FAIL {
            self.client_failed(req, false);
            self.reqs.free(req);
            return;
        }
        if self.counts(born) {
            self.e2e.completed += 1;
            self.e2e.latency.record(now - born);
        }
        self.e2e_window.completed += 1;
        self.e2e_window.latency.record(now - born);
        self.e2e.in_system.dec(now);
        self.reqs.free(req);
        self.user_done(source);
    }

    /// The client saw attempt `req` fail (or time out): retry after a
    /// backoff if it may, else the user's request has failed. The caller
    /// frees or abandons `req`.
    fn client_failed(&mut self, req: u32, timed_out: bool) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.born);
        if counted && timed_out {
            self.e2e.timed_out += 1;
        }
        let src = &mut self.sources[r.source as usize];
        let open = src.breaker.as_ref().is_some_and(|b| b.is_open(now));
        if (r.attempt as u32) < src.client.retries && !open && src.spend_retry() {
            let mut wait = src.backoff(r.attempt as u32 + 1);
            if r.flags & requests::RATE_LIMITED != 0 && src.client.respect_retry_after {
                wait = wait.max(r.retry_after);
            }
            let mut next = Request::new(r.born, SLEEPING, ROOT);
            next.class = r.class;
            next.key = r.key;
            next.source = r.source;
            next.attempt = r.attempt + 1;
            next.ip = r.ip;
            next.effect = r.effect;
            let id = self.reqs.alloc(next);
            let serial = self.reqs[id].serial;
            self.queue
                .push(now.saturating_add(wait), Event::Start { req: id, serial });
            if counted {
                self.e2e.retries += 1;
            }
        } else {
            if counted {
                self.e2e.dropped += 1;
            }
            self.e2e_window.dropped += 1;
            self.e2e.in_system.dec(now);
            self.user_done(r.source);
        }
    }

    fn on_start(&mut self, req: u32, serial: u32) {
        if !self.reqs.is(req, serial) {
            return;
        }
        self.send_attempt(req);
    }

    fn on_timeout(&mut self, req: u32, serial: u32) {
        if !self.reqs.is(req, serial)
            || self.reqs[req].flags & ABANDONED != 0
            || self.reqs[req].parent != ROOT
        {
            return;
        }
        // The client gives up; the system keeps working on the attempt.
        self.reqs[req].flags |= ABANDONED;
        let (now, s) = (self.now, self.reqs[req].source as usize);
        if let Some(b) = &mut self.sources[s].breaker {
            b.record(now, false);
        }
        self.client_failed(req, true);
    }

    /// `req` is dropped at node `i` (queue full, node down, refused).
    pub(crate) fn drop_request(&mut self, i: usize, req: u32) {
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let n = &mut self.nodes[i];
        if counted {
            n.stats.dropped += 1;
        }
        n.window.dropped += 1;
        self.finish(req, outcome::FAIL);
    }

    /// A new call made on behalf of `parent` to `target` asking `op`, whose
    /// answer goes to `answer_to` (the parent, or `DETACHED`): it carries the
    /// user request's start, key, class, source and client IP.
    pub(crate) fn child_of(&self, parent: u32, target: u32, op: u8, answer_to: u32) -> Request {
        let p = &self.reqs[parent];
        let mut c = Request::new(p.born, target, answer_to);
        c.visit_arrival = self.now;
        c.key = p.key;
        c.class = p.class;
        c.source = p.source;
        c.ip = p.ip;
        c.op = op;
        c
    }

    /// Request `req` reaches node `to` after `latency` ns on the network
    /// (at once when 0; in transit it is at no node).
    #[inline]
    pub(crate) fn deliver(&mut self, to: usize, req: u32, latency: u64) {
        if latency == 0 {
            self.enter(to, req);
        } else {
            let r = &mut self.reqs[req];
            r.node = SLEEPING;
            let serial = r.serial;
            self.queue.push(
                self.now.saturating_add(latency),
                Event::Redeliver {
                    req,
                    serial,
                    node: to as u32,
                },
            );
        }
    }

    /// Sends `req`'s answer to `parent` (or its client) over the network if
    /// it crosses regions; true if it did (the answer arrives later).
    #[inline(never)]
    fn answer_later(&mut self, req: u32, parent: u32, result: u8) -> bool {
        let m = &self.model;
        let here = self.reqs[req].node;
        let there = if parent == ROOT {
            m.source_region[self.reqs[req].source as usize]
        } else {
            if self.reqs[parent].call != self.reqs[req].serial {
                // Nobody waits for this answer any more (the call timed
                // out; the caller may be gone): it is dropped where it is.
                return false;
            }
            let p = self.reqs[parent].node;
            if p == SLEEPING {
                crate::model::NO_REGION
            } else {
                m.node_region[p as usize]
            }
        };
        let from = if here == SLEEPING {
            crate::model::NO_REGION
        } else {
            m.node_region[here as usize]
        };
        let lat = m.region_latency(from, there);
        if lat == 0 {
            return false;
        }
        let at = self.now.saturating_add(lat);
        // The answer travels back: the request stays allocated (at no node)
        // so it can be matched to the call its caller waits for, or, for a
        // root, handed to its client.
        let r = &mut self.reqs[req];
        r.node = SLEEPING;
        let serial = r.serial;
        self.queue.push(
            at,
            Event::Answer {
                req,
                serial,
                result: result as u32,
            },
        );
        true
    }

    /// Latency from where `req` is (node `from`; its users' region when
    /// `from` is `None` or outside every region, as for a global balancer or
    /// DNS) to node `to`.
    #[inline(never)]
    pub(crate) fn hop_latency(&self, from: Option<usize>, to: usize, req: u32) -> u64 {
        let m = &self.model;
        let mut fr = from.map_or(crate::model::NO_REGION, |f| m.node_region[f]);
        if fr == crate::model::NO_REGION {
            fr = m.source_region[self.reqs[req].source as usize];
        }
        m.region_latency(fr, m.node_region[to])
    }

    /// A delayed answer arrives: to a waiting caller, or to the client.
    fn on_answer(&mut self, req: u32, serial: u32, result: u8) {
        if !self.reqs.is(req, serial) {
            return;
        }
        let parent = self.reqs[req].parent;
        if parent == ROOT {
            self.root_done(req, result);
        } else {
            self.answer_parent(req, parent, result);
        }
    }

    /// True if node `a` cannot reach node `b` (a network partition).
    #[inline]
    pub(crate) fn partitioned(&self, a: usize, b: usize) -> bool {
        !self.partitions.is_empty() && self.partitions.contains(&(a as u32, b as u32))
    }

    /// Node `from` hands `req` on to node `to` (load balancers, routers,
    /// routes): fails if a partition is between them.
    #[inline]
    pub(crate) fn forward(&mut self, from: usize, to: usize, req: u32) {
        if self.partitioned(from, to) {
            self.finish(req, outcome::FAIL);
        } else {
            let lat = if self.has_regions {
                self.hop_latency(Some(from), to, req)
            } else {
                0
            };
            self.deliver(to, req, lat);
        }
    }

    /// Sends a call from `parent` to node `target` asking `op`; its answer
    /// resumes the parent (or nobody, for a detached call).
    pub(crate) fn call(&mut self, parent: u32, target: u32, op: u8, detached: bool) {
        self.call_with(parent, target, op, detached, false);
    }

    /// [`Simulation::call`], over an open pooled connection if `via_pool`.
    pub(crate) fn call_with(
        &mut self,
        parent: u32,
        target: u32,
        op: u8,
        detached: bool,
        via_pool: bool,
    ) {
        let p = self.reqs[parent];
        if self.partitioned(p.node as usize, target as usize) {
            // The call cannot reach its target: it fails at once.
            if !detached {
                self.resume(parent, outcome::FAIL);
            } else if op == op::SET || op == op::DEL {
                self.fill_failed(target, p.key);
            }
            return;
        }
        let mut c = self.child_of(parent, target, op, if detached { DETACHED } else { parent });
        if via_pool {
            c.flags |= requests::VIA_POOL;
        }
        // The side effect: the user request's id and this caller's step.
        c.effect = p.effect ^ (p.pc as u64 + 1);
        let id = self.reqs.alloc(c);
        if !detached {
            let serial = self.reqs[id].serial;
            let w = &mut self.reqs[parent];
            w.call = serial;
            w.call_target = target;
        }
        let lat = if self.has_regions {
            self.hop_latency(Some(p.node as usize), target as usize, id)
        } else {
            0
        };
        self.deliver(target as usize, id, lat);
    }
}

impl Simulation {
    /// How many times source `s`'s circuit breaker has opened.
    pub fn breaker_trips(&self, s: usize) -> u64 {
        self.sources[s].breaker.as_ref().map_or(0, |b| b.opened)
    }
}
