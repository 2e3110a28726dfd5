//! The shared queueing core every node kind uses: a request enters a node
//! (the kind may take it first: a balancer hands it on, a database may
//! refuse it), waits for a free server or is dropped at a full queue,
//! is served (its time scaled by slow-downs and load), and its visit ends
//! with the kind's own next move. Servers busy only waiting on a call are
//! counted apart, for the bottleneck analysis.

use super::*;

impl Simulation {
    /// Request `req` arrives at node `i` now.
    #[inline]
    pub(crate) fn enter(&mut self, i: usize, req: u32) {
        let now = self.now;
        let counted = self.counts(now);
        {
            let r = &mut self.reqs[req];
            r.node = i as u32;
            r.visit_arrival = now;
            r.handlers = 0;
        }
        if self.nodes[i].down && self.database_redirected(i, req) {
            return;
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
        let wasted = counted && self.reqs.abandoned(req);
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
        let base = d;
        if n.slow != 1.0 {
            d = (d as f64 * n.slow + 0.5) as u64;
        }
        if let Some(curve) = n.load {
            // Slower the busier it is (GC pressure, contention).
            let u = (n.stats.busy.value() as f64 / n.servers.max(1) as f64).min(1.0);
            d = (d as f64 * curve.at(u) + 0.5) as u64;
        }
        if counted {
            // What the theory lens compares with the configured service.
            n.stats.service_sum += d as u128;
            n.stats.base_service_sum += base as u128;
            if wasted {
                n.stats.wasted_sum += d as u128;
            }
            if op == crate::sim::op::WRITE {
                n.stats.writes += 1;
            }
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

    /// `req`'s visit at node `i` goes on without a server (a CDN edge or a
    /// read-through cache waiting on its origin or backend, a single-flight
    /// miss waiting on a fill): it counts in the node's `held` level until
    /// the visit ends, so the time-averaged number at the node covers the
    /// time its sojourn covers.
    #[inline]
    pub(crate) fn hold(&mut self, i: usize, req: u32) {
        let r = &mut self.reqs[req];
        if r.flags & requests::HELD == 0 {
            r.flags |= requests::HELD;
            self.nodes[i].stats.held.inc(self.now);
        }
    }

    /// `req`'s visit at node `i` ends: it is no longer held there.
    #[inline]
    fn unhold(&mut self, i: usize, req: u32) {
        let r = &mut self.reqs[req];
        if r.flags & requests::HELD != 0 {
            r.flags &= !requests::HELD;
            self.nodes[i].stats.held.dec(self.now);
        }
    }

    /// Records the end of `req`'s visit at node `i`: completed, or an error.
    #[inline]
    pub(crate) fn record_visit(&mut self, i: usize, req: u32, ok: bool) {
        self.unhold(i, req);
        let arrived = self.reqs[req].visit_arrival;
        let sojourn = self.now - arrived;
        let counted = self.counts(arrived);
        let departed = ok && self.counts(self.now);
        let n = &mut self.nodes[i];
        n.stats.departed += departed as u64;
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

    pub(crate) fn on_departure(&mut self, i: usize, req: u32, epoch: u32) {
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

    /// `req` is dropped at node `i` (queue full, node down, refused).
    pub(crate) fn drop_request(&mut self, i: usize, req: u32) {
        self.unhold(i, req);
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let n = &mut self.nodes[i];
        if counted {
            n.stats.dropped += 1;
        }
        n.window.dropped += 1;
        self.finish(req, outcome::FAIL);
    }
}
