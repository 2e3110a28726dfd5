//! Message queue and its workers: at-least-once delivery.
//!
//! A published message waits in the queue until a worker takes it (the
//! queueing core: workers are the servers, `capacity` the waiting places).
//! Taking it starts its visibility timer; if the worker has not finished
//! when the timer fires, a copy of the message becomes visible and another
//! worker takes it too, so slow processing turns into duplicate processing.
//! A failed delivery is retried after a backoff; every delivery (failed or
//! timed out) counts, and after `max_deliveries` the message is
//! dead-lettered instead of delivered again. Processing the same message twice repeats its side
//! effect, unless the workers are idempotent.

use crate::diag::Diagnostics;
use crate::dist::Dist;
use crate::fmt::fmt_big;
use crate::fmt::fmt_count;
use crate::kind::{FieldType, field};
use crate::kinds::cache::store::KeyMap;
use crate::kinds::{KindModel, KindState};
use crate::kinds::{MAP_KEY_BYTES, MemoryCx};
use crate::model::NodeModel;
use crate::sim::requests::{DETACHED, SLEEPING, SUPERSEDED};
use crate::sim::{Event, Fault, Simulation, outcome};
use crate::time::{Duration, SimTime};
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// A message queue consumed by `workers`, with at-least-once delivery. A
/// worker takes a message and processes it for `service`; if it has not
/// finished within `visibility_timeout`, the message becomes visible again
/// and another worker takes it too (a duplicate). A failed message is
/// delivered again after `backoff`. After `max_deliveries` deliveries
/// (failed or timed out alike) a message goes to the dead-letter queue. With `idempotent` workers, a message processed
/// twice has its side effect once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Unique id.
    pub id: String,
    /// Messages it can hold waiting; absent is unbounded.
    #[serde(default)]
    pub capacity: Option<u64>,
    /// Workers consuming it.
    pub workers: u64,
    /// Time to process one message.
    pub service: Dist,
    /// How long a taken message stays invisible (default 30 s).
    #[serde(default)]
    pub visibility_timeout: Option<Duration>,
    /// Deliveries before a message is dead-lettered (default 3): each
    /// delivery counts, a failed one or one whose visibility timeout fired.
    #[serde(default)]
    pub max_deliveries: Option<u32>,
    /// Wait before a failed message is delivered again (default 1 s).
    #[serde(default)]
    pub backoff: Option<Duration>,
    /// Keep messages that used up their deliveries (default true); otherwise
    /// they are lost.
    #[serde(default)]
    pub dead_letter: Option<bool>,
    /// Workers remember processed messages and skip repeats.
    #[serde(default)]
    pub idempotent: bool,
    /// Load-dependent latency: service times multiplied by a curve of the
    /// utilization (absent: none).
    #[serde(default)]
    pub load: Option<crate::kind::LoadCurve>,
}

/// A message queue, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueModel {
    /// Visibility timeout, ns.
    pub visibility: u64,
    /// Deliveries before dead-lettering.
    pub max_deliveries: u32,
    /// Redelivery backoff, ns.
    pub backoff: u64,
    /// Keep dead letters.
    pub dead_letter: bool,
    /// Skip repeats.
    pub idempotent: bool,
}

impl Queue {
    /// Checks the queue (workers, capacity, visibility, deliveries).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let q = self;

        nc.count("workers", q.workers, 1, MAX_SERVERS, ds);
        nc.load(&q.load, None, ds);
        if let Some(c) = q.capacity
            && c > MAX_QUEUE
        {
            ds.push(nc.err(format!("`capacity` is {c}, over the limit of {MAX_QUEUE}")));
        }
        if q.visibility_timeout.is_some_and(|v| v.0 == 0) {
            ds.push(nc.err(
                "`visibility_timeout` is 0: every message would be delivered again at once".into(),
            ));
        }
        if q.max_deliveries.is_some_and(|m| m == 0 || m > 100) {
            ds.push(nc.err(format!(
                "`max_deliveries` is {:?}; give 1 to 100",
                q.max_deliveries
            )));
        }
        nc.dist("service", &q.service, ds);
    }

    /// The queue in the model's form: its workers are the servers, its
    /// capacity the waiting places.
    pub(crate) fn compile(&self, _cx: &CompileCx) -> NodeModel {
        let mut m = NodeModel::new(
            &self.id,
            KindModel::Queue(QueueModel {
                visibility: self
                    .visibility_timeout
                    .map_or(30 * crate::time::SEC, |v| v.0),
                max_deliveries: self.max_deliveries.unwrap_or(3),
                backoff: self.backoff.map_or(crate::time::SEC, |b| b.0),
                dead_letter: self.dead_letter.unwrap_or(true),
                idempotent: self.idempotent,
            }),
            self.workers,
            self.capacity,
            self.service.sampler(),
        );
        m.load = crate::topology::check::load_model(self.load, None);
        m
    }
}

/// What each fault does to a queue.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Slow => Ok("processing a message takes `factor` times as long"),
        Fault::Errors => Ok(
            "a share `rate` of deliveries fail; a failed message is delivered again after the backoff, then dead-lettered",
        ),
        Fault::Servers => Ok("workers"),
        other => super::common_effect(other),
    }
}

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
    /// Messages that used up `max_deliveries` (each failed or timed out).
    pub dead_lettered: u64,
    /// Messages whose side effect happened more than once.
    pub duplicates: u64,
    /// Repeats skipped by idempotent workers.
    pub deduplicated: u64,
}

impl QueueState {
    /// The state a queue starts with.
    pub(crate) fn of(m: &QueueModel) -> Self {
        QueueState::new(
            m.visibility,
            m.max_deliveries,
            m.backoff,
            m.dead_letter,
            m.idempotent,
        )
    }

    /// Takes edited settings while running (a live edit), keeping its
    /// messages, the record of those processed and its counters. A message
    /// a worker holds keeps the visibility timer it was taken with; the new
    /// timeout applies to messages taken from now. Delivery limits, backoff,
    /// dead-lettering and idempotency apply to the next decision about each
    /// message. (Workers and capacity are the node's servers and queue.)
    pub(crate) fn retune(&mut self, m: &QueueModel) {
        self.visibility = m.visibility;
        self.max_deliveries = m.max_deliveries;
        self.backoff = m.backoff;
        self.dead_letter = m.dead_letter;
        self.idempotent = m.idempotent;
    }

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
                    .retain(|_, t| now.saturating_sub(*t) < crate::kinds::database::EFFECT_WINDOW);
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
        if r.flags & SUPERSEDED != 0 {
            // Its visibility timeout already made the message visible again
            // (or dead-lettered it): the copy's fate is that message's.
            self.finish(req, outcome::FAIL);
        } else if (r.attempt as u32 + 1) < q.max_deliveries {
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

    /// The visibility timeout of `req` fired: if a worker still holds it and
    /// no copy has processed the message yet, a copy becomes visible and is
    /// delivered again, or, its deliveries used up, it is dead-lettered.
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
        self.reqs[req].flags |= SUPERSEDED;
        if q.processed.contains_key(&r.effect) {
            // A copy already processed the message and deleted it: nothing
            // is left to make visible.
            return;
        }
        // Every delivery counts towards `max_deliveries`, a timed-out one
        // too (SQS's maxReceiveCount): the message whose deliveries are used
        // up goes to the dead-letter queue instead of being visible again
        // (the worker still holding it finishes its copy).
        if (r.attempt as u32 + 1) >= q.max_deliveries {
            if counted {
                q.dead_lettered += 1;
            }
            return;
        }
        if counted {
            q.redelivered += 1;
        }
        let mut copy = self.child_of(req, i as u32, r.op, DETACHED);
        copy.effect = r.effect;
        copy.attempt = r.attempt + 1;
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

/// A message queue's measurements.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct QueueReport {
    /// Messages processed (first time).
    pub processed: u64,
    /// Copies delivered again after a visibility timeout.
    pub redelivered: u64,
    /// Deliveries retried after a failure.
    pub retried: u64,
    /// Messages that used up `max_deliveries` (each failed or timed out).
    pub dead_lettered: u64,
    /// Messages whose side effect happened more than once.
    pub duplicates: u64,
    /// Repeats skipped by idempotent workers.
    pub deduplicated: u64,
}

impl QueueReport {
    /// The line the table prints for this queue.
    pub fn write_lines(&self, id: &str, out: &mut String) {
        let q = self;
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
}

impl QueueState {
    /// The queue's report section.
    pub(crate) fn section(&self) -> QueueReport {
        QueueReport {
            processed: self.processed_ok,
            redelivered: self.redelivered,
            retried: self.retried,
            dead_lettered: self.dead_lettered,
            duplicates: self.duplicates,
            deduplicated: self.deduplicated,
        }
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "A message queue consumed by `workers`, with at-least-once delivery: a message not processed within the visibility timeout is delivered again (a duplicate); a failed message is retried after `backoff`; after `max_deliveries` deliveries (failed or timed out) a message is dead-lettered; idempotent workers process a repeat once. Apps send it messages with `Publish` (nobody waits for them to be processed; a publish that cannot reach the queue, across a `Partition`, fails its request at the app, counted there).",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "capacity",
            FieldType::Count {
                min: 0,
                max: crate::topology::limits::MAX_QUEUE,
            },
            "messages",
            Some("unbounded"),
            "Messages it can hold waiting.",
        ),
        field(
            "workers",
            FieldType::Count {
                min: 1,
                max: 1_000_000,
            },
            "workers",
            None,
            "Workers consuming it.",
        ),
        field(
            "service",
            FieldType::Dist,
            "",
            None,
            "Time to process one message.",
        ),
        crate::kind::LOAD_FIELD,
        field(
            "visibility_timeout",
            FieldType::Duration,
            "",
            Some("30s"),
            "How long a taken message stays invisible.",
        ),
        field(
            "max_deliveries",
            FieldType::Count { min: 1, max: 100 },
            "deliveries",
            Some("3"),
            "Deliveries before a message is dead-lettered: failed ones and timed-out ones (visibility) alike.",
        ),
        field(
            "backoff",
            FieldType::Duration,
            "",
            Some("1s"),
            "Wait before a failed message is delivered again.",
        ),
        field(
            "dead_letter",
            FieldType::Bool,
            "",
            Some("true"),
            "Keep messages that used up their deliveries (else they are lost).",
        ),
        field(
            "idempotent",
            FieldType::Bool,
            "",
            Some("false"),
            "Workers remember processed messages and skip repeats.",
        ),
    ],
    nested: &[],
    example: "Queue(id: \"emails\", capacity: 10_000, workers: 8, service: Exponential(mean: \"50ms\"), visibility_timeout: \"30s\", idempotent: true)",
};

impl QueueModel {
    /// Dedup records of an idempotent queue, for the memory estimate.
    pub(crate) fn memory(&self, cx: &MemoryCx) -> Option<(String, f64)> {
        if !self.idempotent {
            return None;
        }
        let kept = cx.reach * cx.records_kept;
        Some((
            format!("queue `{}`: up to {} dedup records", cx.id, fmt_big(kept)),
            kept * MAP_KEY_BYTES,
        ))
    }
}
