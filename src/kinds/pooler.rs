//! Pooler: a connection pooler (PgBouncer-like). Queries wait for one of
//! `connections` server connections, which it holds while the database
//! works; however many clients connect to it, the database sees only those
//! connections. The fix for pool exhaustion under autoscaling.

use crate::diag::Diagnostics;
use crate::dist::Sampler;
use crate::kind::{FieldType, Kind, field};
use crate::kinds::{KindModel, KindState};
use crate::model::{NodeModel, RouteModel};
use crate::sim::{Fault, Simulation, outcome};
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};

/// A connection pooler: queries wait for one of `connections` server
/// connections, which it holds while the database works.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pooler {
    /// Unique id.
    pub id: String,
    /// The database behind it.
    pub to: String,
    /// Server connections it opens to the database.
    pub connections: u64,
    /// Queries waiting for a connection; absent is unbounded.
    #[serde(default)]
    pub queue: Option<u64>,
}

/// A pooler, compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolerModel {
    /// The database behind it.
    pub to: u32,
}

impl Pooler {
    /// Checks the pooler (target, connections, queue).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let p = self;

        nc.target(&p.to, "to", &["Database", "Replica", "ShardRouter"], ds);
        nc.count("connections", p.connections, 1, MAX_SERVERS, ds);
        if let Some(q) = p.queue {
            nc.count("queue", q, 0, MAX_QUEUE, ds);
        }
    }

    /// The pooler in the model's form: its connections are its servers.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let to = cx.ix(&self.to);
        let mut m = NodeModel::new(
            &self.id,
            KindModel::Pooler(PoolerModel { to }),
            self.connections,
            self.queue,
            Sampler::Constant(0.0),
        );
        m.flows = vec![RouteModel {
            to: to as usize,
            p: 1.0,
        }];
        m
    }
}

/// What each fault does to a pooler.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Slow => {
            Err("it takes no time of its own (the database does the work): slow the database")
        }
        Fault::Servers => {
            Ok("connections to the database (as many as its connection limit grants)")
        }
        other => super::common_effect(other),
    }
}

impl Simulation {
    /// Pooler `i` opens its connections to the database.
    pub(crate) fn pooler_start(&mut self, i: usize) {
        let KindState::Pooler(to) = self.nodes[i].kind else {
            return;
        };
        let want = self.nodes[i].servers;
        let got = self.open_connections(to, 0, want);
        self.set_servers(i, got);
    }

    /// A query got a connection of pooler `i`: it holds the connection (the
    /// server) while the database works.
    pub(crate) fn pooler_served(&mut self, i: usize, req: u32, to: u32) {
        let op = self.reqs[req].op;
        self.wait_begin(i, req, Some(to));
        self.call_with(req, to, op, false, true);
    }

    /// The database answered the query `req` of pooler `i`: the connection
    /// is free again.
    pub(crate) fn pooler_answered(&mut self, i: usize, req: u32, result: u8) {
        self.wait_end(i, req);
        self.release(i);
        self.record_visit(i, req, result != outcome::FAIL);
        self.finish(req, result);
    }

    /// Pooler `i` takes a new database `to` (a live edit): the old database
    /// gets its connections back, and the pooler opens `servers` at the new
    /// one. Queries running on an old connection finish there (each frees
    /// a connection of the pooler when it does); queries waiting take the
    /// new connections. A new connection count alone is `Servers`
    /// ([`Simulation::pooler_set_connections`]): fewer than are in use lets
    /// those finish and hands out none until under the count.
    pub(crate) fn pooler_retarget(&mut self, i: usize, to: u32, servers: u32) {
        let KindState::Pooler(old) = self.nodes[i].kind else {
            return;
        };
        let had = self.nodes[i].servers;
        self.open_connections(old, had, 0);
        self.nodes[i].kind = KindState::Pooler(to);
        let got = self.open_connections(to, 0, servers);
        self.set_servers(i, got);
    }

    /// `Servers` for pooler `i`: as many connections as the database grants.
    pub(crate) fn pooler_set_connections(&mut self, i: usize, to: u32, servers: u32) {
        let had = self.nodes[i].servers;
        let got = self.open_connections(to, had, servers);
        self.set_servers(i, got);
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "A connection pooler (PgBouncer-like): queries wait for one of `connections` server connections, which it holds while the database works; however many clients connect to it, the database sees only those connections.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "to",
            FieldType::Node(&[Kind::Database, Kind::Replica, Kind::ShardRouter]),
            "",
            None,
            "The database behind it.",
        ),
        field(
            "connections",
            FieldType::Count {
                min: 1,
                max: 1_000_000,
            },
            "connections",
            None,
            "Server connections it opens to the database.",
        ),
        crate::kinds::database::query_queue_field("Queries waiting for a connection."),
    ],
    nested: &[],
    example: "Pooler(id: \"pgbouncer\", to: \"db\", connections: 100)",
};
