//! Calls and answers: a node's calls are child requests whose answers resume
//! their caller; answers crossing regions take the link's latency; network
//! partitions fail hand-offs and calls at once.

use super::*;

impl Simulation {
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
        // An answer crossing regions takes the link's latency (a fan-out's
        // legs as any other call's).
        if self.has_regions && parent != DETACHED && self.answer_later(req, parent, result) {
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
    /// it crosses regions; true if it did (the answer arrives later). The
    /// answer crosses the link its call crossed ([`Simulation::hop_latency`]
    /// from the caller to the answerer, the same function both ways).
    #[inline(never)]
    pub(crate) fn answer_later(&mut self, req: u32, parent: u32, result: u8) -> bool {
        let here = self.reqs[req].node;
        if here == SLEEPING {
            // In transit: at no node, in no region.
            return false;
        }
        let caller = if parent == ROOT {
            None
        } else {
            if self.reqs[req].group == requests::NO_GROUP
                && self.reqs[parent].call != self.reqs[req].serial
            {
                // Nobody waits for this answer any more (the call timed
                // out; the caller may be gone): it is dropped where it is.
                // (A fan-out's leg is matched to its round when it lands.)
                return false;
            }
            let p = self.reqs[parent].node;
            if p as usize >= self.model.node_region.len() {
                // In transit, or gone (a fan-out's owner lost with its
                // app: the leg's answer is ignored where it is).
                return false;
            }
            Some(p as usize)
        };
        let lat = self.hop_latency(caller, here as usize, req);
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

    /// One-way latency between a caller (node `from`; its users' region when
    /// `from` is `None` or outside every region, as for a global balancer or
    /// DNS) and node `to`, for `req`. Every call, hand-off and fan-out leg
    /// pays it on the way to `to`, and every answer on the way back.
    #[inline(never)]
    pub(crate) fn hop_latency(&self, from: Option<usize>, to: usize, req: u32) -> u64 {
        let m = &self.model;
        let fr = match from {
            Some(f) => self.region_of(f, req),
            None => m.source_region[self.reqs[req].source as usize],
        };
        m.region_latency(fr, m.node_region[to])
    }

    /// The region node `i` sends `req`'s calls from and takes their answers
    /// in: its own, or, for a node outside every region (a global balancer,
    /// a CDN, DNS), its users' region. The same rule both ways, so a call
    /// and its answer cross the same link: a round trip costs twice the
    /// one-way latency (as `docs/theory.md` assumes).
    #[inline]
    pub(crate) fn region_of(&self, i: usize, req: u32) -> u16 {
        let m = &self.model;
        match m.node_region[i] {
            crate::model::NO_REGION => m.source_region[self.reqs[req].source as usize],
            r => r,
        }
    }

    /// A delayed answer arrives: to a waiting caller, or to the client.
    pub(crate) fn on_answer(&mut self, req: u32, serial: u32, result: u8) {
        if !self.reqs.is(req, serial) {
            return;
        }
        let r = &self.reqs[req];
        let (parent, group, leg) = (r.parent, r.group, r.leg);
        if parent == ROOT {
            self.root_done(req, result);
        } else if group != requests::NO_GROUP {
            self.reqs.free(req);
            self.fanout_answer(group, leg, result);
        } else {
            self.answer_parent(req, parent, result);
        }
    }

    /// True if node `a` cannot reach node `b` (a network partition).
    #[inline]
    pub(crate) fn partitioned(&self, a: usize, b: usize) -> bool {
        !self.partitions.is_empty() && self.partitions.contains(&(a as u32, b as u32))
    }

    /// Node `from` ends its visit and hands `req` on to node `to` (load
    /// balancers, routers, routes): fails at `from`, counted there, if a
    /// partition is between them.
    #[inline]
    pub(crate) fn forward(&mut self, from: usize, to: usize, req: u32) {
        if self.partitioned(from, to) {
            if self.counts(self.reqs[req].visit_arrival) {
                self.nodes[from].stats.cut += 1;
            }
            self.record_visit(from, req, false);
            self.finish(req, outcome::FAIL);
        } else {
            self.record_visit(from, req, true);
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
            // The call cannot reach its target: it fails at once (a
            // published message is lost), counted at the caller.
            if self.counts(p.visit_arrival) {
                self.nodes[p.node as usize].stats.cut += 1;
            }
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
