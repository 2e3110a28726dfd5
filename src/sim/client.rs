//! The client side: sources' arrivals (open or closed loop), attempts with
//! timeouts, retries with backoff and budget, the clients' breaker, and the
//! end of a user's request.

use super::*;

impl Simulation {
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

    pub(crate) fn on_arrival(&mut self, s: usize, epoch: u32) {
        if self.sources[s].session.is_some() {
            // A session user's turn: `epoch` is the user's index.
            return self.session_turn(s, epoch);
        }
        if epoch != self.sources[s].epoch {
            return;
        }
        if self.sources[s].closed.is_some() && self.sources[s].retire() {
            return; // the user leaves the loop (less traffic)
        }
        if let Some((left, _)) = &mut self.sources[s].burst {
            *left = left.saturating_sub(1);
        }
        let (class, key) = self.sources[s].draw_class_and_key();
        let ip = self.sources[s].draw_ip();
        self.new_user_request(s, class, key, ip);
    }

    /// A user of source `s` sends a new request (its first attempt).
    pub(crate) fn new_user_request(&mut self, s: usize, class: u16, key: u64, ip: u32) {
        let now = self.now;
        let to = self.sources[s].to;
        let mut r = Request::new(now, to, ROOT);
        r.class = class;
        r.key = key;
        r.source = s as u16;
        r.ip = ip;
        self.next_uid += 1;
        r.effect = self.next_uid << 8;
        let req = self.reqs.alloc(r);
        let counted = self.counts(now);
        if counted {
            self.e2e.arrivals += 1;
        }
        self.e2e_window.arrivals += 1;
        self.groups.arrive(class, s as u16, counted);
        self.e2e.in_system.inc(now);
        if self.sources[s].closed.is_none() {
            self.schedule_arrival(s, now);
        }
        self.send_attempt(req);
    }

    /// A user's request is over (answered if `ok`, or given up): a
    /// closed-loop user thinks, then sends the next; a session user (its
    /// index is the request's `ip`) moves on in its session first.
    #[inline]
    pub(crate) fn user_done(&mut self, source: u16, ip: u32, ok: bool) {
        let s = source as usize;
        if self.sources[s].session.is_some() {
            return self.session_answered(s, ip, ok);
        }
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
    pub(crate) fn send_attempt(&mut self, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let src = &mut self.sources[r.source as usize];
        if r.attempt == 0 {
            src.budget.on_request(now);
        }
        if let Some(b) = &mut src.breaker
            && !b.allow(now)
        {
            // Short-circuited: fail at once, without retrying.
            let counted = self.counts(r.born);
            if counted {
                self.e2e.short_circuited += 1;
                self.e2e.dropped += 1;
            }
            self.e2e_window.dropped += 1;
            self.groups.fail(r.class, r.source, counted);
            self.e2e.in_system.dec(now);
            self.reqs.free(req);
            self.user_done(r.source, r.ip, false);
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

    /// A user's attempt is over.
    #[inline]
    pub(crate) fn root_done(&mut self, req: u32, result: u8) {
        let r = &self.reqs[req];
        let (flags, source, born, class, ip) = (r.flags, r.source, r.born, r.class, r.ip);
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
        self.sources[source as usize].budget.on_success();
        let latency = now - born;
        let good = latency <= self.deadlines[source as usize];
        let counted = self.counts(born);
        let departed = self.counts(now);
        if departed {
            self.e2e.departed += 1;
            self.e2e.good_departed += good as u64;
        }
        if counted {
            self.e2e.completed += 1;
            self.e2e.good += good as u64;
            self.e2e.latency.record(latency);
        }
        self.e2e_window.completed += 1;
        self.e2e_window.good += good as u64;
        self.e2e_window.latency.record(latency);
        self.groups
            .complete(class, source, (counted, departed), latency, good);
        self.e2e.in_system.dec(now);
        self.reqs.free(req);
        self.user_done(source, ip, true);
    }

    /// The client saw attempt `req` fail (or time out): retry after a
    /// backoff if it may, else the user's request has failed. The caller
    /// frees or abandons `req`.
    pub(crate) fn client_failed(&mut self, req: u32, timed_out: bool) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.born);
        if counted && timed_out {
            self.e2e.timed_out += 1;
        }
        let src = &mut self.sources[r.source as usize];
        let open = src.breaker.as_ref().is_some_and(|b| b.is_open(now));
        if (r.attempt as u32) < src.client.retries && !open && src.budget.try_retry(now, timed_out)
        {
            let mut wait = src.backoff(r.attempt as u32 + 1, r.slept);
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
            next.slept = wait;
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
            self.groups.fail(r.class, r.source, counted);
            self.e2e.in_system.dec(now);
            self.user_done(r.source, r.ip, false);
        }
    }

    pub(crate) fn on_start(&mut self, req: u32, serial: u32) {
        if !self.reqs.is(req, serial) {
            return;
        }
        self.send_attempt(req);
    }

    pub(crate) fn on_timeout(&mut self, req: u32, serial: u32) {
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
}
