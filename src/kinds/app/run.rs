//! The handler interpreter: runs a request's steps, sends its calls, and
//! ends its visit.

use crate::kinds::KindState;
use crate::kinds::app::StepModel;
use crate::sim::requests::{POOL_GRANTED, POOLED};
use crate::sim::{Event, Simulation, op, outcome};

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
            let Some(&step) = app.steps(&r).get(r.pc as usize) else {
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
                    if self.partitioned(i, q as usize) {
                        // The message cannot reach the queue: the publish
                        // fails, and so does the request (like a call
                        // across the cut), counted at the app.
                        if self.counts(r.visit_arrival) {
                            self.nodes[i].stats.cut += 1;
                        }
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
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
            // Connections open instance by instance, each up to its pool's
            // size: the instances past the granted ones have none.
            let with = pool
                .granted
                .div_ceil(pool.per_instance.max(1))
                .min(app.instances);
            let r = &mut self.reqs[req];
            if r.flags & POOL_GRANTED != 0 {
                r.flags &= !POOL_GRANTED;
            } else if with < app.instances
                && n.rng_fail.unit() * app.instances as f64 >= with as f64
            {
                // The request landed on an instance whose pool could not open
                // a single connection: the database refused them all.
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
        if via_pool {
            self.pool_levels(i);
        }
        self.reqs[req].phase = phase;
        let serial = self.reqs[req].serial;
        if let KindState::App(app) = &mut self.nodes[i].kind
            && let Some(c) = &mut app.calls
            && self.reqs[req].tries == 0
        {
            // First tries count toward the retry budget.
            c.budget.on_request(self.now);
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
            && let Some(StepModel::CacheAside { cache, .. }) = h.steps(&p).get(p.pc as usize)
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
}
