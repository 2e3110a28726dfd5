//! App node: a worker does the request's own work (`service`), then runs
//! the handler of its class step by step, holding the worker while each call
//! is out. A failed call fails the request (and its caller sees the failure).
//!
//! An app has `instances` of `workers` each. Calls to its pool's target take
//! a connection from the pool (`size` per instance) and wait for one when
//! all are in use. The autoscaler looks every `every` at the utilization
//! since its last look and asks for `ceil(instances x utilization / target)`
//! instances: new ones arrive after `provision`, surplus ones leave at once
//! (not within `cooldown` of a scale-up). More instances mean more pool
//! connections: the database's connection limit is where autoscaling walls.

use crate::metrics::Areas;
use crate::model::StepModel;
use crate::sim::requests::{POOL_GRANTED, POOLED};
use crate::sim::{Event, KindState, Simulation, op, outcome};
use crate::time::SimTime;
use std::collections::VecDeque;

/// An app's connection pool (all instances together).
#[derive(Clone, Debug)]
pub struct PoolState {
    /// The node whose calls use it.
    pub target: u32,
    /// Connections per instance.
    pub per_instance: u32,
    /// Connections in use.
    pub in_use: u32,
    /// Connections open (what the target granted).
    pub granted: u32,
    /// Calls that failed because their instance had no connection.
    pub refused: u64,
    /// Requests waiting for a connection.
    pub waiters: VecDeque<u32>,
    /// Calls that had to wait for a connection (after the warm-up).
    pub waited: u64,
}

/// An app's autoscaler.
#[derive(Clone, Debug)]
pub struct AutoscaleState {
    target: f64,
    min: u32,
    max: u32,
    /// Interval between looks, ns.
    pub every: u64,
    provision: u64,
    cooldown: u64,
    /// Instances being started.
    pub pending: u32,
    last_up: Option<SimTime>,
    last: Areas,
    /// Scale-ups and scale-downs so far.
    pub actions: u64,
}

/// An app's call policy at run time: timeouts, retries, a breaker per
/// target, and what they did.
#[derive(Clone, Debug)]
pub struct CallsState {
    /// The policy (timeout, retries, backoff, jitter, budget, breaker).
    pub policy: crate::model::ClientModel,
    breakers: Vec<(u32, crate::sim::SourceBreaker)>,
    rng: crate::rng::Stream,
    tokens: f64,
    /// Calls retried (after the warm-up).
    pub retries: u64,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Calls failed at once by an open breaker.
    pub short_circuited: u64,
}

impl CallsState {
    /// For `policy`, with its own random stream for backoff jitter.
    pub fn new(policy: crate::model::ClientModel, rng: crate::rng::Stream) -> Self {
        CallsState {
            policy,
            breakers: Vec::new(),
            rng,
            tokens: 0.0,
            retries: 0,
            timeouts: 0,
            short_circuited: 0,
        }
    }

    fn breaker(&mut self, target: u32) -> Option<&mut crate::sim::SourceBreaker> {
        let cfg = self.policy.breaker?;
        let i = match self.breakers.iter().position(|(t, _)| *t == target) {
            Some(i) => i,
            None => {
                self.breakers
                    .push((target, crate::sim::SourceBreaker::new(cfg)));
                self.breakers.len() - 1
            }
        };
        Some(&mut self.breakers[i].1)
    }

    /// Times the breakers opened.
    pub fn trips(&self) -> u64 {
        self.breakers.iter().map(|(_, b)| b.opened).sum()
    }

    fn backoff(&mut self, n: u32) -> u64 {
        crate::sim::source::backoff(&self.policy, n, &mut self.rng)
    }
}

/// An app's run-time state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Steps per class.
    pub handlers: Box<[Box<[StepModel]>]>,
    /// Instances running.
    pub instances: u32,
    /// Workers per instance.
    pub workers: u32,
    /// Waiting places per instance.
    pub queue_per: Option<u32>,
    /// Connection pool.
    pub pool: Option<PoolState>,
    /// Autoscaler.
    pub autoscale: Option<AutoscaleState>,
    /// Call policy.
    pub calls: Option<CallsState>,
}

impl AppState {
    /// From the model's settings.
    pub fn new(
        handlers: &[Vec<StepModel>],
        instances: u32,
        workers: u32,
        queue_per: Option<u32>,
        pool: Option<(u32, u32)>,
        autoscale: Option<(f64, u32, u32, u64, u64, u64)>,
    ) -> Self {
        AppState {
            handlers: handlers
                .iter()
                .map(|h| h.clone().into_boxed_slice())
                .collect(),
            instances,
            workers,
            queue_per,
            pool: pool.map(|(target, per_instance)| PoolState {
                target,
                per_instance,
                in_use: 0,
                granted: 0,
                refused: 0,
                waiters: VecDeque::new(),
                waited: 0,
            }),
            autoscale: autoscale.map(|(target, min, max, every, provision, cooldown)| {
                AutoscaleState {
                    target,
                    min,
                    max,
                    every,
                    provision,
                    cooldown,
                    pending: 0,
                    last_up: None,
                    last: Areas::default(),
                    actions: 0,
                }
            }),
            calls: None,
        }
    }
}

impl Simulation {
    /// Runs `req`'s handler at app node `i` from where it stopped, until it
    /// sends a call (and waits) or ends.
    pub(crate) fn app_run(&mut self, i: usize, req: u32) {
        // Whatever it waited for is over: the worker runs the handler again.
        self.wait_end(i, req);
        loop {
            let r = self.reqs[req];
            let KindState::App(app) = &self.nodes[i].kind else {
                unreachable!("app_run on an app")
            };
            let steps = &app.handlers[r.class as usize];
            let Some(&step) = steps.get(r.pc as usize) else {
                self.app_finish(i, req, outcome::OK);
                return;
            };
            match step {
                StepModel::Call(t)
                | StepModel::Read(t)
                | StepModel::Write(t)
                | StepModel::Invalidate(t) => {
                    if r.phase == 0 {
                        let op = match step {
                            StepModel::Read(_) => op::READ,
                            StepModel::Write(_) => op::WRITE,
                            StepModel::Invalidate(_) => op::DEL,
                            _ => op::CALL,
                        };
                        if self.app_call(i, req, t, op, 1) {
                            return;
                        }
                        continue;
                    }
                    if r.result == outcome::FAIL {
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                }
                StepModel::WriteThrough { cache, db } => match r.phase {
                    0 => {
                        if self.app_call(i, req, db, op::WRITE, 1) {
                            return;
                        }
                        continue;
                    }
                    1 if r.result == outcome::FAIL => {
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                    1 => {
                        if self.app_call(i, req, cache, op::SET, 2) {
                            return;
                        }
                        continue;
                    }
                    _ if r.result == outcome::FAIL => {
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                    _ => {}
                },
                StepModel::Publish(q) => {
                    // Fire and forget: the workers take it from here.
                    self.call(req, q, op::CALL, true);
                }
                StepModel::CacheAside { cache, db } => match r.phase {
                    0 => {
                        if self.app_call(i, req, cache, op::GET, 1) {
                            return;
                        }
                        continue;
                    }
                    1 if r.result == outcome::OK => {}
                    1 if r.result == outcome::STALE => {
                        // Use the stale value; refresh it in the background.
                        self.refresh(req, cache, db);
                    }
                    1 => {
                        // A miss, or the cache failed: read the database.
                        if self.app_call(i, req, db, op::READ, 2) {
                            return;
                        }
                        continue;
                    }
                    _ if r.result == outcome::OK => self.call(req, cache, op::SET, true),
                    _ => {
                        self.release_fill(cache, req);
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                },
                StepModel::ReadFresh {
                    replicas,
                    primary,
                    within,
                } => {
                    if r.phase == 0 {
                        let fresh = self
                            .last_write(primary, r.key)
                            .is_some_and(|w| self.now.saturating_sub(w) < within);
                        if self.app_call(
                            i,
                            req,
                            if fresh { primary } else { replicas },
                            op::READ,
                            1,
                        ) {
                            return;
                        }
                        continue;
                    }
                    if r.result == outcome::FAIL {
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                }
                StepModel::FanOut {
                    to,
                    count,
                    hedge_after,
                } => {
                    if r.phase == 0 {
                        if !self.fanout_start(req, to, count, hedge_after) {
                            return;
                        }
                        self.wait_end(i, req);
                        let failed = self.fanout_end(req);
                        self.reqs[req].result = if failed { outcome::FAIL } else { outcome::OK };
                    }
                    if self.reqs[req].result == outcome::FAIL {
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                }
            }
            let r = &mut self.reqs[req];
            r.pc += 1;
            r.phase = 0;
            r.tries = 0;
            r.result = outcome::OK;
        }
    }

    /// Sends a call from `req` at app `i` and moves it to `phase`; a call to
    /// the pool's target first takes a connection, or waits for one.
    fn app_call(&mut self, i: usize, req: u32, target: u32, op: u8, phase: u8) -> bool {
        let counted = self.counts(self.reqs[req].visit_arrival);
        let now = self.now;
        if self.reqs[req].flags & POOL_GRANTED != 0
            && let KindState::App(app) = &self.nodes[i].kind
            && app.pool.as_ref().is_some_and(|p| p.target != target)
        {
            // It waited for a connection to the pool's target, but now calls
            // elsewhere (a read-your-writes read that is no longer fresh):
            // the connection goes back.
            self.reqs[req].flags &= !POOL_GRANTED;
            self.pool_release(i, req);
        }
        if let KindState::App(app) = &mut self.nodes[i].kind
            && let Some(c) = &mut app.calls
            && let Some(b) = c.breaker(target)
            && !b.allow(now)
        {
            // The breaker for this target is open: fail at once (giving
            // back a pool connection it was handed while it waited).
            if counted {
                c.short_circuited += 1;
            }
            if self.reqs[req].flags & POOL_GRANTED != 0 {
                self.reqs[req].flags &= !POOL_GRANTED;
                self.pool_release(i, req);
            }
            let r = &mut self.reqs[req];
            r.phase = phase;
            r.result = outcome::FAIL;
            r.call_target = target;
            return false;
        }
        let mut via_pool = false;
        let n = &mut self.nodes[i];
        if let KindState::App(app) = &mut n.kind
            && let Some(pool) = &mut app.pool
            && pool.target == target
        {
            let nominal = pool.per_instance.saturating_mul(app.instances);
            let r = &mut self.reqs[req];
            if r.flags & POOL_GRANTED != 0 {
                r.flags &= !POOL_GRANTED;
            } else if pool.granted < nominal
                && n.rng_fail.unit() * nominal as f64 >= pool.granted as f64
            {
                // The request landed on an instance whose pool could not open
                // its connections: the database refused them.
                if counted {
                    pool.refused += 1;
                }
                r.phase = phase;
                r.result = outcome::FAIL;
                return false;
            } else if pool.in_use < pool.granted {
                pool.in_use += 1;
            } else {
                if counted {
                    pool.waited += 1;
                }
                pool.waiters.push_back(req);
                self.wait_begin(i, req, None);
                return true;
            }
            r.flags |= POOLED;
            via_pool = true;
        }
        self.reqs[req].phase = phase;
        let serial = self.reqs[req].serial;
        if let KindState::App(app) = &mut self.nodes[i].kind
            && let Some(c) = &mut app.calls
            && let Some(b) = c.policy.budget
            && self.reqs[req].tries == 0
        {
            // First tries earn retry tokens.
            c.tokens = (c.tokens + b).min(100.0);
        }
        // The worker waits on the call until its answer (or a timeout, or
        // the end of a retry's backoff) runs the handler again.
        self.wait_begin(i, req, Some(target));
        self.call_with(req, target, op, false, via_pool);
        if let KindState::App(app) = &self.nodes[i].kind
            && let Some(t) = app.calls.as_ref().and_then(|c| c.policy.timeout)
            && self.reqs.is(req, serial)
            && self.reqs[req].call != 0
        {
            let call = self.reqs[req].call;
            self.queue.push(
                now.saturating_add(t),
                Event::CallTimeout { req, serial, call },
            );
        }
        true
    }

    /// The timeout of `req`'s call `call` fired: if it still waits for that
    /// call, it stops waiting (a later answer is ignored) and sees a failure.
    pub(crate) fn on_call_timeout(&mut self, req: u32, serial: u32, call: u32) {
        if !self.reqs.is(req, serial) || self.reqs[req].call != call {
            return;
        }
        self.reqs[req].call = 0;
        let i = self.reqs[req].node as usize;
        if self.counts(self.reqs[req].visit_arrival)
            && let KindState::App(app) = &mut self.nodes[i].kind
            && let Some(c) = &mut app.calls
        {
            c.timeouts += 1;
        }
        self.resume(req, outcome::FAIL);
    }

    /// A failed call's backoff is over: try the step again.
    pub(crate) fn on_call_retry(&mut self, req: u32, serial: u32) {
        if !self.reqs.is(req, serial) {
            return;
        }
        let i = self.reqs[req].node as usize;
        if i >= self.nodes.len() || self.nodes[i].epoch != self.reqs[req].epoch {
            if i < self.nodes.len() {
                self.app_lost(i, req);
            }
            return;
        }
        self.app_run(i, req);
    }

    /// With a call policy: record the outcome in the target's breaker, and
    /// schedule a retry of a failed single call if allowed. True if a retry
    /// was scheduled (the request keeps its worker and waits).
    fn call_policy(&mut self, i: usize, req: u32, result: u8) -> bool {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return false;
        };
        let single = matches!(
            app.handlers[r.class as usize].get(r.pc as usize),
            Some(
                StepModel::Call(_)
                    | StepModel::Read(_)
                    | StepModel::Write(_)
                    | StepModel::Invalidate(_)
                    | StepModel::ReadFresh { .. }
            )
        );
        let Some(c) = &mut app.calls else {
            return false;
        };
        let mut open = false;
        if let Some(b) = c.breaker(r.call_target) {
            b.record(now, result != outcome::FAIL);
            open = b.is_open(now);
        }
        if result != outcome::FAIL || !single || open || (r.tries as u32) >= c.policy.retries {
            return false;
        }
        if c.policy.budget.is_some() {
            if c.tokens < 1.0 {
                return false;
            }
            c.tokens -= 1.0;
        }
        if counted {
            c.retries += 1;
        }
        let wait = c.backoff(r.tries as u32 + 1);
        let w = &mut self.reqs[req];
        w.tries += 1;
        w.phase = 0;
        let serial = w.serial;
        self.queue
            .push(now.saturating_add(wait), Event::CallRetry { req, serial });
        true
    }

    /// Opens (or closes) pool connections of app `i` to match its
    /// instances: the pool's target, if a database, grants what its
    /// connection limit leaves.
    pub(crate) fn pool_resize(&mut self, i: usize) {
        let KindState::App(app) = &self.nodes[i].kind else {
            return;
        };
        let Some(pool) = &app.pool else {
            return;
        };
        let (target, wanted, had) = (
            pool.target,
            pool.per_instance.saturating_mul(app.instances),
            pool.granted,
        );
        let granted = self.open_connections(target, had, wanted);
        if let KindState::App(app) = &mut self.nodes[i].kind
            && let Some(pool) = &mut app.pool
        {
            pool.granted = granted;
        }
    }

    /// A pooled call of `req` at app `i` is over: its connection goes to the
    /// next waiter, if any.
    fn pool_release(&mut self, i: usize, req: u32) {
        self.reqs[req].flags &= !POOLED;
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(pool) = &mut app.pool else {
            return;
        };
        pool.in_use -= 1;
        if pool.in_use < pool.granted
            && let Some(w) = pool.waiters.pop_front()
        {
            pool.in_use += 1;
            self.reqs[w].flags |= POOL_GRANTED;
            if self.reqs[w].epoch != self.nodes[i].epoch {
                // Lost when the app went down: give the connection back.
                self.reqs[w].flags &= !POOL_GRANTED;
                self.reqs[w].flags |= POOLED;
                self.pool_release(i, w);
                self.app_lost(i, w);
                return;
            }
            self.app_run(i, w);
        }
    }

    /// The autoscaler of app `i` takes a look.
    pub(crate) fn on_autoscale(&mut self, i: usize) {
        let now = self.now;
        let areas = self.nodes[i].stats.areas(now);
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(a) = &mut app.autoscale else {
            return;
        };
        let busy = areas.busy - a.last.busy;
        let cap = areas.capacity - a.last.capacity;
        a.last = areas;
        let util = if cap == 0 {
            0.0
        } else {
            busy as f64 / cap as f64
        };
        let current = app.instances;
        let desired = ((current as f64 * util / a.target).ceil() as u32).clamp(a.min, a.max);
        let every = a.every;
        if desired > current + a.pending {
            let more = desired - current - a.pending;
            a.pending += more;
            a.actions += 1;
            a.last_up = Some(now);
            let at = now.saturating_add(a.provision);
            self.queue.push(
                at,
                Event::Provisioned {
                    node: i as u32,
                    count: more,
                },
            );
        } else if desired < current
            && a.last_up
                .is_none_or(|t| now.saturating_sub(t) >= a.cooldown)
            && a.pending == 0
        {
            a.actions += 1;
            self.set_instances(i, desired);
        }
        self.queue.push(
            now.saturating_add(every),
            Event::Autoscale { node: i as u32 },
        );
    }

    /// New instances of app `i` are up.
    pub(crate) fn on_provisioned(&mut self, i: usize, count: u32) {
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(a) = &mut app.autoscale else {
            return;
        };
        a.pending -= count;
        let n = app.instances + count;
        self.set_instances(i, n);
    }

    /// Sets the number of instances of app `i` (workers, queue and pool follow).
    pub(crate) fn set_instances(&mut self, i: usize, n: u32) {
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        app.instances = n;
        let (workers, queue_per) = (app.workers, app.queue_per);
        self.nodes[i].queue_cap = queue_per.map_or(usize::MAX, |q| q as usize * n as usize);
        self.set_servers(i, workers.saturating_mul(n));
        self.pool_resize(i);
        // A larger pool may serve waiters now.
        loop {
            let KindState::App(app) = &mut self.nodes[i].kind else {
                return;
            };
            let Some(pool) = &mut app.pool else {
                return;
            };
            if pool.in_use >= pool.granted {
                return;
            }
            let Some(w) = pool.waiters.pop_front() else {
                return;
            };
            pool.in_use += 1;
            self.reqs[w].flags |= POOL_GRANTED;
            self.app_run(i, w);
        }
    }

    /// Starts a background refresh of `req`'s key: a database read nobody
    /// waits for, whose success sets the key in `cache`.
    fn refresh(&mut self, req: u32, cache: u32, db: u32) {
        let p = self.reqs[req];
        if self.partitioned(p.node as usize, db as usize) {
            return;
        }
        let mut c = self.child_of(req, db, op::READ, crate::sim::DETACHED);
        c.flags = crate::sim::requests::REFILL;
        c.next_waiter = cache;
        let id = self.reqs.alloc(c);
        self.enter(db as usize, id);
    }

    /// A single-flight leader that will not fill tells the cache, so the
    /// requests waiting on it are released (with a miss).
    fn release_fill(&mut self, cache: u32, req: u32) {
        if let KindState::Cache(c) = &self.nodes[cache as usize].kind
            && c.single_flight()
        {
            self.call(req, cache, op::DEL, true);
        }
    }

    /// `req` at app `i` is lost (the app went down while it waited): it
    /// lets go of what it holds on others' behalf (a single-flight fill it
    /// leads, its fan-out slot), then is dropped.
    pub(crate) fn app_lost(&mut self, i: usize, req: u32) {
        let p = self.reqs[req];
        if let KindState::App(h) = &self.nodes[i].kind
            && let Some(StepModel::CacheAside { cache, .. }) =
                h.handlers[p.class as usize].get(p.pc as usize)
            && (p.phase == 2 || (p.phase == 1 && p.result == outcome::MISS))
        {
            // It missed (and may lead the fill), or was reading the
            // database to fill the cache.
            let cache = *cache;
            self.release_fill(cache, req);
        }
        if p.fanout != crate::sim::requests::NO_FANOUT {
            self.fanout_end(req);
        }
        self.drop_request(i, req);
    }

    /// The handler of `req` at app `i` is over.
    fn app_finish(&mut self, i: usize, req: u32, result: u8) {
        self.wait_end(i, req);
        self.release(i);
        self.record_visit(i, req, result == outcome::OK);
        self.finish(req, result);
    }

    /// A call made by `parent` (waiting at an app or a CDN edge) has been answered.
    pub(crate) fn resume(&mut self, parent: u32, result: u8) {
        let p = self.reqs[parent];
        let i = p.node as usize;
        if p.flags & POOLED != 0 {
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
        match self.nodes[i].kind {
            KindState::Cdn(_) => self.cdn_resume(i, parent, result),
            KindState::Pooler(_) => {
                self.wait_end(i, parent);
                self.release(i);
                self.record_visit(i, parent, result != outcome::FAIL);
                self.finish(parent, result);
            }
            _ => {
                if self.call_policy(i, parent, result) {
                    return;
                }
                self.app_run(i, parent)
            }
        }
    }
}
