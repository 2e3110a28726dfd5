//! Message queue and its workers: at-least-once delivery.
//!
//! A published message waits in the queue until a worker takes it (the
//! queueing core: workers are the servers, `capacity` the waiting places).
//! Taking it starts its visibility timer; if the worker has not finished
//! when the timer fires, a copy of the message becomes visible and another
//! worker takes it too, so slow processing turns into duplicate processing.
//! A failed delivery is retried after a backoff, up to `max_deliveries`,
//! then dead-lettered. Processing the same message twice repeats its side
//! effect, unless the workers are idempotent.

use super::cache_store::KeyMap;
use crate::sim::requests::{DETACHED, SLEEPING};
use crate::sim::{Event, KindState, Simulation, outcome};
use crate::time::SimTime;

/// A queue's own state.
#[derive(Clone, Debug)]
pub struct QueueState {
    /// Visibility timeout, ns.
    pub visibility: u64,
    max_deliveries: u32,
    backoff: u64,
    dead_letter: bool,
    idempotent: bool,
    /// Messages processed (their effect ids), for a while.
    processed: KeyMap<SimTime>,
    purge_at: usize,
    /// Messages processed to the end (after the warm-up).
    pub processed_ok: u64,
    /// Copies made visible again by a visibility timeout.
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

impl QueueState {
    /// A queue with these settings.
    pub fn new(
        visibility: u64,
        max_deliveries: u32,
        backoff: u64,
        dead_letter: bool,
        idempotent: bool,
    ) -> Self {
        QueueState {
            visibility,
            max_deliveries,
            backoff,
            dead_letter,
            idempotent,
            processed: KeyMap::default(),
            purge_at: 4096,
            processed_ok: 0,
            redelivered: 0,
            retried: 0,
            dead_lettered: 0,
            duplicates: 0,
            deduplicated: 0,
        }
    }
}

impl Simulation {
    /// A worker of queue `i` took message `req`: start its visibility timer.
    pub(crate) fn queue_taken(&mut self, i: usize, req: u32) {
        if let KindState::Queue(q) = &self.nodes[i].kind {
            let serial = self.reqs[req].serial;
            let at = self.now.saturating_add(q.visibility);
            self.queue.push(at, Event::Visibility { req, serial });
        }
    }

    /// A worker of queue `i` finished processing `req` (successfully).
    pub(crate) fn queue_done(&mut self, i: usize, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        if let KindState::Queue(q) = &mut self.nodes[i].kind {
            if q.processed.len() >= q.purge_at {
                q.processed
                    .retain(|_, t| now.saturating_sub(*t) < super::database::EFFECT_WINDOW);
                q.purge_at = (2 * q.processed.len()).max(4096);
            }
            let seen = q.processed.insert(r.effect, now).is_some();
            if counted {
                match (seen, q.idempotent) {
                    (false, _) => q.processed_ok += 1,
                    (true, true) => q.deduplicated += 1,
                    (true, false) => q.duplicates += 1,
                }
            }
        }
        self.release(i);
        self.record_visit(i, req, true);
        self.finish(req, outcome::OK);
    }

    /// A delivery of `req` at queue `i` failed: retry it later or give up.
    pub(crate) fn queue_failed(&mut self, i: usize, req: u32) {
        let counted = self.counts(self.reqs[req].visit_arrival);
        self.release(i);
        self.record_visit(i, req, false);
        let KindState::Queue(q) = &mut self.nodes[i].kind else {
            return;
        };
        let r = &mut self.reqs[req];
        if (r.attempt as u32 + 1) < q.max_deliveries {
            if counted {
                q.retried += 1;
            }
            r.attempt += 1;
            r.node = SLEEPING;
            let serial = r.serial;
            let at = self.now.saturating_add(q.backoff);
            self.queue.push(
                at,
                Event::Redeliver {
                    req,
                    serial,
                    node: i as u32,
                },
            );
        } else {
            if counted {
                q.dead_lettered += 1;
            }
            let _ = q.dead_letter; // kept or lost, it leaves the queue either way
            self.finish(req, outcome::FAIL);
        }
    }

    /// The visibility timeout of `req` fired: if a worker still holds it, a
    /// copy becomes visible and is delivered again.
    pub(crate) fn on_visibility(&mut self, req: u32, serial: u32) {
        if !self.reqs.is(req, serial) {
            return; // processed (or failed) in time
        }
        let r = self.reqs[req];
        let i = r.node as usize;
        let counted = self.counts(r.visit_arrival);
        let Some(KindState::Queue(q)) = self.nodes.get_mut(i).map(|n| &mut n.kind) else {
            return;
        };
        if counted {
            q.redelivered += 1;
        }
        let mut copy = self.child_of(req, i as u32, r.op, DETACHED);
        copy.effect = r.effect;
        copy.attempt = r.attempt;
        let id = self.reqs.alloc(copy);
        self.enter(i, id);
    }

    /// A failed message's backoff is over: deliver it again.
    pub(crate) fn on_redeliver(&mut self, req: u32, serial: u32, node: u32) {
        if self.reqs.is(req, serial) {
            self.enter(node as usize, req);
        }
    }
}
