//! Read replica: serves reads of a primary's data, `lag` behind it. A read
//! of a key whose latest write finished before the user's request began, and
//! less than the drawn lag before the read was served, returns the old
//! value: a stale read (counted). It sits behind a connection limit as its
//! primary does (see [`crate::kinds::database`]).

use crate::diag::Diagnostics;
use crate::dist::{Dist, Sampler};
use crate::fmt::{fmt_count, fmt_ms};
use crate::kind::{FieldType, Kind, field};
use crate::kinds::database::{CORES_FIELD, MAX_CONNECTIONS_FIELD, READ_FIELD, query_queue_field};
use crate::kinds::{KindModel, KindState};
use crate::model::NodeModel;
use crate::rng::{Purpose, Stream};
use crate::sim::{Fault, Simulation, outcome};
use crate::topology::check::{CompileCx, NodeCheck};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// A read replica: serves reads of a primary's data, `lag` behind it. A
/// read of a key written at the primary less than the lag ago returns the
/// old value: a stale read (counted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    /// Unique id.
    pub id: String,
    /// The primary `Database` it copies.
    pub primary: String,
    /// Replication lag, drawn per read.
    pub lag: Dist,
    /// Queries processed in parallel.
    pub servers: u64,
    /// Connections accepted at once (absent: unlimited).
    #[serde(default)]
    pub max_connections: Option<u64>,
    /// Queries waiting for a core; absent is unbounded.
    #[serde(default)]
    pub queue: Option<u64>,
    /// Time of a read.
    pub read: Dist,
    /// Load-dependent latency: service times multiplied by a curve of the
    /// utilization (absent: none).
    #[serde(default)]
    pub load: Option<crate::kind::LoadCurve>,
}

/// A read replica, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaModel {
    /// Its primary database.
    pub primary: u32,
    /// Connection limit.
    pub max_connections: Option<u32>,
    /// Replication lag.
    pub lag: Sampler,
}

impl Replica {
    /// Checks the replica (primary, cores, connections, queue, times).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let r = self;

        nc.target(&r.primary, "primary", &["Database"], ds);
        nc.load(&r.load, None, ds);
        for m in crate::topology::check::database_limits(r.servers, r.max_connections, r.queue) {
            ds.push(nc.err(m));
        }
        nc.dist("read", &r.read, ds);
        nc.dist("lag", &r.lag, ds);
    }

    /// The replica in the model's form: reads take the node's service time.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let mut m = NodeModel::new(
            &self.id,
            KindModel::Replica(ReplicaModel {
                primary: cx.ix(&self.primary),
                max_connections: self.max_connections.map(|c| c as u32),
                lag: self.lag.sampler(),
            }),
            self.servers,
            self.queue,
            self.read.sampler(),
        );
        m.load = crate::topology::check::load_model(self.load, None);
        m
    }
}

/// What each fault does to a replica.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Slow => Ok("reads take `factor` times as long"),
        Fault::Servers => Ok("cores"),
        other => super::common_effect(other),
    }
}

/// A read replica's own state.
#[derive(Clone, Debug)]
pub struct ReplicaState {
    /// Its primary.
    pub primary: u32,
    /// Connection limit.
    pub max_connections: u32,
    /// Replication lag.
    pub lag: Sampler,
    rng: Stream,
    /// Reads served (after the warm-up).
    pub reads: u64,
    /// Of those, stale.
    pub stale: u64,
    /// Sum of the lags drawn, ns.
    pub lag_sum: u128,
    /// Connections held open by pools and poolers.
    pub open: u32,
}

impl ReplicaState {
    /// The state replica `n` starts with.
    pub(crate) fn of(n: &NodeModel, m: &ReplicaModel, seed: u64) -> Self {
        ReplicaState::new(
            m.primary,
            m.max_connections.unwrap_or(u32::MAX),
            m.lag.clone(),
            Stream::new(seed, Purpose::Lag, &n.id),
        )
    }

    /// Takes edited settings while running (a live edit), keeping its
    /// reads, connections and counters: a new lag applies to reads finished
    /// from now; a new primary is the one whose writes make its reads stale
    /// from now; a new connection limit acts as a primary's does
    /// (`Simulation::connection_limit_changed`).
    pub(crate) fn retune(&mut self, m: &ReplicaModel) {
        self.primary = m.primary;
        self.max_connections = m.max_connections.unwrap_or(u32::MAX);
        self.lag = m.lag.clone();
    }

    /// A replica of `primary`.
    pub fn new(primary: u32, max_connections: u32, lag: Sampler, rng: Stream) -> Self {
        ReplicaState {
            primary,
            max_connections,
            lag,
            rng,
            reads: 0,
            stale: 0,
            lag_sum: 0,
            open: 0,
        }
    }
}

impl Simulation {
    /// Replica `i` has run `req`'s read: was it stale?
    pub(crate) fn replica_done(&mut self, i: usize, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::Replica(rep) = &self.nodes[i].kind else {
            unreachable!("replica_done on a replica")
        };
        let written = self.last_write(rep.primary, r.key);
        let KindState::Replica(rep) = &mut self.nodes[i].kind else {
            unreachable!()
        };
        let lag = rep.lag.sample(&mut rep.rng);
        if counted {
            rep.reads += 1;
            rep.lag_sum += lag as u128;
            // Stale: the latest write finished before the user's request
            // began (a write during it is concurrent, either answer is
            // right) and less than the lag before the read was served.
            if written.is_some_and(|w| w <= r.born && now.saturating_sub(w) < lag) {
                rep.stale += 1;
            }
        }
        self.release(i);
        self.record_visit(i, req, true);
        self.finish(req, outcome::OK);
    }
}

/// A read replica's measurements.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ReplicaReport {
    /// Reads served.
    pub reads: u64,
    /// Reads that returned a value older than the latest write.
    pub stale_reads: u64,
    /// `stale_reads / reads`.
    pub stale_ratio: Option<f64>,
    /// Mean replication lag drawn.
    pub mean_lag_ms: Option<f64>,
}

impl ReplicaReport {
    /// The line the table prints for this replica.
    pub fn write_lines(&self, id: &str, out: &mut String) {
        let rep = self;
        let _ = writeln!(
            out,
            "{id}: {} stale reads of {} ({}), mean lag {}",
            fmt_count(rep.stale_reads),
            fmt_count(rep.reads),
            rep.stale_ratio
                .map_or("-".into(), |x| format!("{:.2}%", x * 100.0)),
            fmt_ms(rep.mean_lag_ms)
        );
    }
}

impl ReplicaState {
    /// The replica's report section.
    pub(crate) fn section(&self) -> ReplicaReport {
        let r = self;
        ReplicaReport {
            reads: r.reads,
            stale_reads: r.stale,
            stale_ratio: (r.reads > 0).then(|| r.stale as f64 / r.reads as f64),
            mean_lag_ms: (r.reads > 0).then(|| r.lag_sum as f64 / r.reads as f64 / 1e6),
        }
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "A read replica: serves reads of a primary's data, `lag` behind it. A read of a key written at the primary less than the lag ago returns the old value: a stale read (counted).",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "primary",
            FieldType::Node(&[Kind::Database]),
            "",
            None,
            "The primary it copies.",
        ),
        field(
            "lag",
            FieldType::Dist,
            "",
            None,
            "Replication lag, drawn per read.",
        ),
        CORES_FIELD,
        MAX_CONNECTIONS_FIELD,
        query_queue_field("Queries waiting for a core."),
        READ_FIELD,
        crate::kind::LOAD_FIELD,
    ],
    nested: &[],
    example: "Replica(id: \"replica-1\", primary: \"db\", lag: LogNormal(mean: \"200ms\", std: \"100ms\"), servers: 16, read: Exponential(mean: \"2ms\"))",
};
