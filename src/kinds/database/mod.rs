//! Database primary and read replicas.
//!
//! Both sit behind a connection limit: a query that finds every connection
//! in use (running or waiting for a core) is refused at once. A primary that
//! has replicas (or serves read-your-writes routing) remembers when each key
//! was last written; a replica read of a key whose latest write finished
//! before the user's request began, and less than the drawn replication lag
//! before the read was served, returns the old value: a stale read.
//!
//! A request that reaches it as itself (not an app's `Read` or `Write`)
//! reads or writes as its class says ([`direct`]).

pub mod direct;
mod failover;

use crate::diag::Diagnostics;
use crate::dist::{Dist, Sampler};
use crate::fmt::fmt_big;
use crate::fmt::fmt_count;
use crate::kind::{Field, FieldType, Kind, field};
use crate::kinds::cache::store::KeyMap;
use crate::kinds::{KindModel, KindState};
use crate::kinds::{MAP_KEY_BYTES, MemoryCx};
use crate::model::NodeModel;
use crate::sim::{Fault, Simulation, op, outcome, requests};
use crate::time::{Duration, SimTime};
use crate::topology::check::{CompileCx, NodeCheck};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// A database primary: `servers` cores behind a connection limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Unique id.
    pub id: String,
    /// Queries processed in parallel (cores).
    pub servers: u64,
    /// Connections accepted at once; past it a query fails at once
    /// ("too many connections"). Absent: unlimited.
    #[serde(default)]
    pub max_connections: Option<u64>,
    /// Queries waiting for a core; absent is unbounded.
    #[serde(default)]
    pub queue: Option<u64>,
    /// Time of a read.
    pub read: Dist,
    /// Time of a write.
    pub write: Dist,
    /// Writes carry an idempotency key (the user request's id and the
    /// step): a write that was already applied is acknowledged but not
    /// applied again. Without it, a retried write applies twice.
    #[serde(default)]
    pub idempotency_keys: bool,
    /// Load-dependent latency (lock and buffer contention): query times are
    /// multiplied by `1 + load_factor x utilization^2`.
    #[serde(default)]
    pub load_factor: Option<f64>,
    /// Load-dependent latency: service times multiplied by a curve of the
    /// utilization (absent: none).
    #[serde(default)]
    pub load: Option<crate::kind::LoadCurve>,
    /// When it goes down, promote a replica after a while.
    #[serde(default)]
    pub failover: Option<Failover>,
}

/// Promotion of a replica when the primary dies: after `after` (detection
/// and promotion), the replica `to` becomes the primary and takes the
/// primary's traffic (if `to` is down then, the first replica of this
/// primary that is up; if none is, nothing is promoted and the report says
/// so). With asynchronous replication (the default), the
/// writes of the replica's last lag window before the crash are lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failover {
    /// The replica to promote.
    pub to: String,
    /// Time from the crash to the promoted replica taking traffic.
    pub after: Duration,
    /// Synchronous replication: no committed write is lost.
    #[serde(default)]
    pub synchronous: bool,
}

/// A failover, compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailoverModel {
    /// The replica to promote.
    pub to: u32,
    /// Time from the crash to the promoted replica taking traffic, ns.
    pub after: u64,
    /// Synchronous replication: no committed write is lost.
    pub synchronous: bool,
}

/// A database primary, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseModel {
    /// Connection limit.
    pub max_connections: Option<u32>,
    /// Write time (reads use the node's `service`).
    pub write: Sampler,
    /// Deduplicate writes by idempotency key.
    pub idempotent: bool,
    /// Promote a replica when it goes down.
    pub failover: Option<FailoverModel>,
}

impl Database {
    /// Checks the database (cores, connections, queue, times, failover).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let d = self;

        for m in crate::topology::check::database_limits(d.servers, d.max_connections, d.queue) {
            ds.push(nc.err(m));
        }
        if d.load_factor
            .is_some_and(|f| !f.is_finite() || !(0.0..=1000.0).contains(&f))
        {
            ds.push(nc.err(format!(
                "`load_factor` is {:?}; give 0 to 1000",
                d.load_factor
            )));
        }
        nc.load(&d.load, d.load_factor, ds);
        nc.dist("read", &d.read, ds);
        nc.dist("write", &d.write, ds);
        if let Some(f) = &d.failover {
            nc.target(&f.to, "to", &["Replica"], ds);
            if f.after.0 == 0 {
                ds.push(nc.err(
                    "failover: `after` is 0; promotion takes detection time, e.g. \"30s\"".into(),
                ));
            }
        }
    }

    /// The database in the model's form: reads take the node's service
    /// time, writes their own.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let mut m = NodeModel::new(
            &self.id,
            KindModel::Database(DatabaseModel {
                max_connections: self.max_connections.map(|c| c as u32),
                write: self.write.sampler(),
                idempotent: self.idempotency_keys,
                failover: self.failover.as_ref().map(|f| FailoverModel {
                    to: cx.ix(&f.to),
                    after: f.after.0,
                    synchronous: f.synchronous,
                }),
            }),
            self.servers,
            self.queue,
            self.read.sampler(),
        );
        m.exit = 1.0;
        m.load = crate::topology::check::load_model(self.load, self.load_factor);
        m
    }
}

/// What each fault does to a database.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Down => Ok(
            "queries fail at once and those running are lost; with `failover`, the replica is promoted after `after` (if it is down then, another replica of this primary that is up; none up, no promotion)",
        ),
        Fault::Slow => Ok("reads and writes take `factor` times as long"),
        Fault::Servers => Ok("cores"),
        other => super::common_effect(other),
    }
}

/// A database primary's own state.
#[derive(Clone, Debug)]
pub struct DatabaseState {
    /// Connection limit.
    pub max_connections: u32,
    /// Write time.
    pub write: Sampler,
    /// When each key was last written (kept only when replicas need it).
    pub last_write: Option<KeyMap<SimTime>>,
    /// Deduplicate writes by idempotency key.
    pub idempotent: bool,
    /// Side effects applied recently, and when (kept for `EFFECT_WINDOW`).
    applied: KeyMap<SimTime>,
    purge_at: usize,
    /// Writes that applied a side effect a second time (a double charge).
    pub duplicates: u64,
    /// Repeated writes recognised by their idempotency key and not applied.
    pub deduplicated: u64,
    /// Connections held open by pools and poolers.
    pub open: u32,
    /// Failover settings.
    pub failover: Option<FailoverModel>,
    /// When it went down (for the writes lost at failover).
    pub down_since: Option<SimTime>,
    /// The replica that took over, once promoted.
    pub promoted_to: Option<u32>,
    /// Writes lost at failover (the replica had not received them).
    pub lost_writes: u64,
    /// When a failover found no healthy replica to promote.
    pub failover_missed: Option<SimTime>,
    /// When each recent write was acknowledged, oldest first (kept only
    /// with an asynchronous failover, for `keep_writes`): the writes lost
    /// at failover are counted from it.
    pub(crate) recent_writes: Option<std::collections::VecDeque<SimTime>>,
    /// How long recent writes are kept, ns: the longest mean lag of the
    /// primary's replicas.
    pub(crate) keep_writes: u64,
}

/// How long a database remembers applied side effects (idempotency keys
/// expire like real ones do): 10 minutes of simulated time.
pub const EFFECT_WINDOW: u64 = 600 * crate::time::SEC;

impl DatabaseState {
    /// The state a primary starts with; `track_writes` when replicas or
    /// read-your-writes routing need to know when each key was written.
    pub(crate) fn of(m: &DatabaseModel, track_writes: bool) -> Self {
        let mut d = DatabaseState::new(
            m.max_connections.unwrap_or(u32::MAX),
            m.write.clone(),
            track_writes,
            m.idempotent,
        );
        d.failover = m.failover;
        d
    }

    /// A primary's state.
    pub fn new(max_connections: u32, write: Sampler, track_writes: bool, idempotent: bool) -> Self {
        DatabaseState {
            max_connections,
            write,
            last_write: track_writes.then(Default::default),
            idempotent,
            applied: KeyMap::default(),
            purge_at: 4096,
            duplicates: 0,
            deduplicated: 0,
            open: 0,
            failover: None,
            down_since: None,
            promoted_to: None,
            lost_writes: 0,
            failover_missed: None,
            recent_writes: None,
            keep_writes: 0,
        }
    }

    /// Takes its edited settings while running (a live edit), keeping its
    /// queries, connections, remembered writes and counters: the connection
    /// limit, write time, idempotency and failover apply from now (a query
    /// already running keeps the time it drew). A failover added while the
    /// primary is down acts at its next crash. (A primary that replicas or
    /// read-your-writes reads newly need starts remembering writes when the
    /// edit applies, whatever its own settings.)
    pub(crate) fn retune(&mut self, m: &DatabaseModel) {
        self.max_connections = m.max_connections.unwrap_or(u32::MAX);
        self.write = m.write.clone();
        self.idempotent = m.idempotent;
        self.failover = m.failover;
    }

    /// Applies write `effect` at `now`, counting repeats.
    fn apply(&mut self, effect: u64, now: SimTime, counted: bool) {
        if self.applied.len() >= self.purge_at {
            // Forget effects older than the window (order does not matter).
            self.applied
                .retain(|_, t| now.saturating_sub(*t) < EFFECT_WINDOW);
            self.purge_at = (2 * self.applied.len()).max(4096);
        }
        match self.applied.get(&effect) {
            Some(_) if self.idempotent => {
                if counted {
                    self.deduplicated += 1;
                }
            }
            Some(_) => {
                if counted {
                    self.duplicates += 1;
                }
            }
            None => {
                self.applied.insert(effect, now);
            }
        }
    }
}

impl Simulation {
    /// A pool that held `had` connections to `target` now wants `wanted`:
    /// a database or replica grants what its connection limit leaves (and
    /// takes back what is released); anything else accepts all.
    pub(crate) fn open_connections(&mut self, target: u32, had: u32, wanted: u32) -> u32 {
        let (open, max) = match &mut self.nodes[target as usize].kind {
            KindState::Database(d) => (&mut d.open, d.max_connections),
            KindState::Replica(r) => (&mut r.open, r.max_connections),
            _ => return wanted,
        };
        *open -= had.min(*open);
        let granted = wanted.min(max.saturating_sub(*open));
        *open += granted;
        granted
    }

    /// Database (or replica) `i` takes a new connection limit (a live
    /// edit). Below the connections in use, those finish and no new one is
    /// granted until the count is under the limit (queries are refused,
    /// pools and poolers open nothing more). Above it, the pools and
    /// poolers that have fewer connections than they asked for open more at
    /// once, and their waiting queries take them.
    pub(crate) fn connection_limit_changed(&mut self, i: usize, before: u32) {
        let now = match &self.nodes[i].kind {
            KindState::Database(d) => d.max_connections,
            KindState::Replica(r) => r.max_connections,
            _ => return,
        };
        if now <= before {
            return;
        }
        for j in 0..self.nodes.len() {
            if self.retired[j] || self.nodes[j].down {
                continue;
            }
            match &self.nodes[j].kind {
                KindState::App(a) if a.pool.as_ref().is_some_and(|p| p.target == i as u32) => {
                    self.pool_resize(j);
                    self.pool_serve_waiters(j);
                }
                &KindState::Pooler(to) if to == i as u32 => {
                    let want = self.model.nodes[j].servers;
                    self.pooler_set_connections(j, to, want);
                }
                _ => {}
            }
        }
    }

    /// Node `i` is removed for good (a live edit): the connections its pool
    /// (an app) or it (a pooler) holds go back to their database.
    pub(crate) fn release_connections(&mut self, i: usize) {
        let (target, had) = match &mut self.nodes[i].kind {
            KindState::App(a) => match &mut a.pool {
                Some(p) => (p.target, std::mem::take(&mut p.granted)),
                None => return,
            },
            &mut KindState::Pooler(to) => (to, self.nodes[i].servers),
            _ => return,
        };
        self.open_connections(target, had, 0);
        self.pool_levels(i);
        if matches!(self.nodes[i].kind, KindState::Pooler(_)) {
            self.set_servers(i, 0);
        }
    }

    /// A query arrives at database (or replica) `i`: true if it is refused
    /// because every connection is in use (it is dropped). Calls over a
    /// pool's connection already hold one.
    #[inline]
    pub(crate) fn database_refuses(&mut self, i: usize, req: u32) -> bool {
        if self.reqs[req].flags & requests::VIA_POOL != 0 {
            return false;
        }
        let counted = self.counts(self.now);
        let n = &mut self.nodes[i];
        let (max_connections, pooled) = match &n.kind {
            KindState::Database(d) => (d.max_connections, d.open),
            KindState::Replica(r) => (r.max_connections, r.open),
            _ => return false,
        };
        let open = pooled as u64 + n.stats.busy.value() + n.waiting.len() as u64;
        if open < max_connections as u64 {
            return false;
        }
        if counted {
            n.stats.refused += 1;
            n.stats.overflow += 1;
        }
        n.window.overflow += 1;
        self.drop_request(i, req);
        true
    }

    /// When `key` was last written at database `db`, if it tracks writes.
    pub(crate) fn last_write(&self, db: u32, key: u64) -> Option<SimTime> {
        match &self.nodes[db as usize].kind {
            KindState::Database(d) => d.last_write.as_ref()?.get(&key).copied(),
            _ => None,
        }
    }

    /// Database `i` has run `req`'s query.
    pub(crate) fn db_done(&mut self, i: usize, req: u32) {
        let r = self.reqs[req];
        let now = self.now;
        let counted = self.counts(r.visit_arrival);
        if r.op == op::WRITE
            && let KindState::Database(d) = &mut self.nodes[i].kind
        {
            d.apply(r.effect, now, counted);
            if let Some(w) = &mut d.last_write {
                w.insert(r.key, now);
            }
            d.remember_write(now);
        }
        self.release(i);
        self.record_visit(i, req, true);
        self.finish(req, outcome::OK);
    }
}

/// A database's measurements.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DatabaseReport {
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
    /// When its failover found no healthy replica to promote (seconds into
    /// the run): nothing was promoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover_missed_s: Option<f64>,
}

impl DatabaseReport {
    /// The lines the table prints for this database (or replica): double
    /// charges, failover, refusals.
    pub fn write_lines(&self, id: &str, out: &mut String) {
        let d = self;
        if d.duplicate_writes + d.deduplicated_writes > 0 {
            let _ = writeln!(
                out,
                "{id}: {} writes applied twice, {} repeats caught by idempotency keys",
                fmt_count(d.duplicate_writes),
                fmt_count(d.deduplicated_writes)
            );
        }
        if let Some(p) = &d.promoted_to {
            let _ = writeln!(
                out,
                "{id}: failed over to {p}, losing {} writes that had not replicated",
                fmt_count(d.lost_writes)
            );
        }
        if let Some(t) = d.failover_missed_s {
            let _ = writeln!(
                out,
                "{id}: did not fail over at {t:.1}s: no replica of it was up to promote"
            );
        }
        if d.refused > 0 {
            let _ = writeln!(
                out,
                "{id}: refused {} queries at the connection limit",
                fmt_count(d.refused)
            );
        }
    }

    /// A replica's connection section (it applies no writes of its own).
    pub(crate) fn of_replica(refused: u64, mean_connections: f64) -> DatabaseReport {
        DatabaseReport {
            refused,
            mean_connections,
            duplicate_writes: 0,
            deduplicated_writes: 0,
            promoted_to: None,
            lost_writes: 0,
            failover_missed_s: None,
        }
    }
}

impl DatabaseState {
    /// The primary's report section.
    pub(crate) fn section(
        &self,
        model: &crate::model::Model,
        refused: u64,
        mean_connections: f64,
    ) -> DatabaseReport {
        DatabaseReport {
            refused,
            mean_connections,
            duplicate_writes: self.duplicates,
            deduplicated_writes: self.deduplicated,
            promoted_to: self.promoted_to.map(|r| model.nodes[r as usize].id.clone()),
            lost_writes: self.lost_writes,
            failover_missed_s: self.failover_missed.map(|t| t as f64 / 1e9),
        }
    }
}

/// `servers` of a database or a replica.
pub(crate) const CORES_FIELD: Field = field(
    "servers",
    FieldType::Count {
        min: 1,
        max: 1_000_000,
    },
    "cores",
    None,
    "Queries processed in parallel.",
);

/// `max_connections` of a database or a replica.
pub(crate) const MAX_CONNECTIONS_FIELD: Field = field(
    "max_connections",
    FieldType::Count {
        min: 1,
        max: 1_000_000,
    },
    "connections",
    Some("unlimited"),
    "Connections accepted at once (queries running or waiting, and pools' open connections); past it a query fails at once.",
);

/// `read` of a database or a replica.
pub(crate) const READ_FIELD: Field = field("read", FieldType::Dist, "", None, "Time of a read.");

/// The `queue` of the kinds that queue queries (database, replica,
/// pooler), with what they wait for.
pub(crate) const fn query_queue_field(about: &'static str) -> Field {
    field(
        "queue",
        FieldType::Count {
            min: 0,
            max: crate::topology::limits::MAX_QUEUE,
        },
        "queries",
        Some("unbounded"),
        about,
    )
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "A database primary: `servers` cores behind a connection limit; reads and writes take their own times; idempotency keys make a retried write apply once; a failover promotes a replica when it goes down (losing the writes of the lag window unless synchronous).",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        CORES_FIELD,
        MAX_CONNECTIONS_FIELD,
        query_queue_field("Queries waiting for a core."),
        READ_FIELD,
        field("write", FieldType::Dist, "", None, "Time of a write."),
        field(
            "idempotency_keys",
            FieldType::Bool,
            "",
            Some("false"),
            "Writes carry an idempotency key: a repeated write is acknowledged but not applied again.",
        ),
        crate::kind::LOAD_FACTOR_FIELD,
        crate::kind::LOAD_FIELD,
        field(
            "failover",
            FieldType::Nested("Failover"),
            "",
            Some("none"),
            "Promote a replica when it goes down.",
        ),
    ],
    nested: &[(
        "Failover",
        &[
            field(
                "to",
                FieldType::Node(&[Kind::Replica]),
                "",
                None,
                "The replica to promote.",
            ),
            field(
                "after",
                FieldType::Duration,
                "",
                None,
                "Time from the crash to the promoted replica taking traffic.",
            ),
            field(
                "synchronous",
                FieldType::Bool,
                "",
                Some("false"),
                "Synchronous replication: no committed write is lost.",
            ),
        ],
    )],
    example: "Database(id: \"db\", servers: 16, max_connections: 200, read: Exponential(mean: \"2ms\"), write: Exponential(mean: \"8ms\"), idempotency_keys: true, failover: Failover(to: \"replica-1\", after: \"30s\"))",
};

impl DatabaseModel {
    /// The last write per key (kept for replicas and fresh reads) and ten
    /// minutes of idempotency records, for the memory estimate.
    pub(crate) fn memory(&self, cx: &MemoryCx) -> (String, f64) {
        let writes = if cx.tracked {
            cx.key_space.min(cx.reach)
        } else {
            0.0
        };
        let kept = if self.idempotent {
            cx.reach * cx.records_kept
        } else {
            0.0
        };
        (
            format!(
                "database `{}`: up to {} keys written and {} idempotency records",
                cx.id,
                fmt_big(writes),
                fmt_big(kept)
            ),
            (writes + kept) * MAP_KEY_BYTES,
        )
    }
}
