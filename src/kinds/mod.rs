//! One home per node kind.
//!
//! Each kind's module holds everything about it: its file format (the serde
//! struct people write), its checks and its compilation into the model, its
//! compiled settings, its run-time state and mechanics (as `impl Simulation`
//! blocks), what each fault means for it, its report section, and its unit
//! tests. This module is the registry: the enums that list the kinds
//! ([`Node`] in files, [`KindModel`] in the model, `KindState` in the
//! engine) and the one `match` per question that sends it to the kind's
//! module. Adding a kind means a module here, a line in each enum and match
//! below, and a name in [`crate::kind::Kind`].
//!
//! Dispatch is static (enums and matches), so the engine's hot paths stay
//! as fast as when the kinds were written inline.

pub mod app;
pub mod cache;
pub mod cdn;
pub mod database;
pub mod load_balancer;
pub mod object_store;
pub mod pooler;
pub mod queue;
pub mod rate_limiter;
pub mod replica;
pub mod shard_router;
pub mod station;

use crate::diag::{Diagnostics, short};
use crate::kind::Kind;
use crate::model::{Model, NodeModel};
use crate::sim::{Fault, Simulation};
use crate::topology::check::{CompileCx, Ctx, NodeCheck};
use serde::{Deserialize, Serialize};

/// A node of the system as written in files. Each kind is a variant.
// An app is the largest by far; nodes are parsed once per file, so boxing
// it would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Node {
    /// A generic first-come-first-served queueing station.
    Station(station::Station),
    /// Spreads requests over backends.
    LoadBalancer(load_balancer::LoadBalancer),
    /// An application server: workers that do some work and call others.
    App(app::App),
    /// A key-value cache (Redis-like).
    Cache(cache::Cache),
    /// A database primary.
    Database(database::Database),
    /// A content delivery network's edge: caches responses near users.
    Cdn(cdn::Cdn),
    /// A read replica of a database.
    Replica(replica::Replica),
    /// Admits requests up to a rate and refuses the rest (429).
    RateLimiter(rate_limiter::RateLimiter),
    /// Sends each request to the shard that owns its key.
    ShardRouter(shard_router::ShardRouter),
    /// A connection pooler (PgBouncer-like): many client connections
    /// share `connections` to the database.
    Pooler(pooler::Pooler),
    /// A message queue with a pool of workers consuming it.
    Queue(queue::Queue),
    /// An object store (S3-like), its request rate capped per key prefix.
    ObjectStore(object_store::ObjectStore),
}

impl Node {
    /// The node's id.
    pub fn id(&self) -> &str {
        match self {
            Node::Station(n) => &n.id,
            Node::LoadBalancer(n) => &n.id,
            Node::App(n) => &n.id,
            Node::Cache(n) => &n.id,
            Node::Database(n) => &n.id,
            Node::Cdn(n) => &n.id,
            Node::Replica(n) => &n.id,
            Node::RateLimiter(n) => &n.id,
            Node::ShardRouter(n) => &n.id,
            Node::Queue(n) => &n.id,
            Node::Pooler(n) => &n.id,
            Node::ObjectStore(n) => &n.id,
        }
    }

    /// The node's id, to rename it (a removed node kept while a
    /// simulation runs: `bottleneck::live`).
    pub fn id_mut(&mut self) -> &mut String {
        match self {
            Node::Station(n) => &mut n.id,
            Node::LoadBalancer(n) => &mut n.id,
            Node::App(n) => &mut n.id,
            Node::Cache(n) => &mut n.id,
            Node::Database(n) => &mut n.id,
            Node::Cdn(n) => &mut n.id,
            Node::Replica(n) => &mut n.id,
            Node::RateLimiter(n) => &mut n.id,
            Node::ShardRouter(n) => &mut n.id,
            Node::Queue(n) => &mut n.id,
            Node::Pooler(n) => &mut n.id,
            Node::ObjectStore(n) => &mut n.id,
        }
    }

    /// The node's kind.
    pub fn kind_of(&self) -> Kind {
        match self {
            Node::Station(_) => Kind::Station,
            Node::LoadBalancer(_) => Kind::LoadBalancer,
            Node::App(_) => Kind::App,
            Node::Cache(_) => Kind::Cache,
            Node::Database(_) => Kind::Database,
            Node::Cdn(_) => Kind::Cdn,
            Node::Replica(_) => Kind::Replica,
            Node::RateLimiter(_) => Kind::RateLimiter,
            Node::ShardRouter(_) => Kind::ShardRouter,
            Node::Queue(_) => Kind::Queue,
            Node::Pooler(_) => Kind::Pooler,
            Node::ObjectStore(_) => Kind::ObjectStore,
        }
    }

    /// The kind's name as written in files.
    pub fn kind(&self) -> &'static str {
        self.kind_of().name()
    }

    /// Checks the node, pushing every problem (with its place) to `ds`.
    pub fn check(&self, cx: &Ctx, at: Option<usize>, ds: &mut Diagnostics) {
        let nc = NodeCheck {
            cx,
            at,
            item: format!("node `{}`", short(self.id())),
        };
        match self {
            Node::Station(n) => n.check(&nc, ds),
            Node::LoadBalancer(n) => n.check(&nc, ds),
            Node::App(n) => n.check(&nc, ds),
            Node::Cache(n) => n.check(&nc, ds),
            Node::Database(n) => n.check(&nc, ds),
            Node::Cdn(n) => n.check(&nc, ds),
            Node::Replica(n) => n.check(&nc, ds),
            Node::RateLimiter(n) => n.check(&nc, ds),
            Node::ShardRouter(n) => n.check(&nc, ds),
            Node::Queue(n) => n.check(&nc, ds),
            Node::Pooler(n) => n.check(&nc, ds),
            Node::ObjectStore(n) => n.check(&nc, ds),
        }
    }

    /// Compiles the checked node into the model's form.
    pub fn compile(&self, cx: &CompileCx) -> NodeModel {
        match self {
            Node::Station(n) => n.compile(cx),
            Node::LoadBalancer(n) => n.compile(cx),
            Node::App(n) => n.compile(cx),
            Node::Cache(n) => n.compile(cx),
            Node::Database(n) => n.compile(cx),
            Node::Cdn(n) => n.compile(cx),
            Node::Replica(n) => n.compile(cx),
            Node::RateLimiter(n) => n.compile(cx),
            Node::ShardRouter(n) => n.compile(cx),
            Node::Queue(n) => n.compile(cx),
            Node::Pooler(n) => n.compile(cx),
            Node::ObjectStore(n) => n.compile(cx),
        }
    }
}

/// What kind a compiled node is, with the settings only that kind has.
#[derive(Clone, Debug, PartialEq)]
pub enum KindModel {
    /// A queueing station with probabilistic routes (in `NodeModel::routes`).
    Station,
    /// A load balancer.
    LoadBalancer(load_balancer::LoadBalancerModel),
    /// An application server.
    App(app::AppModel),
    /// A connection pooler.
    Pooler(pooler::PoolerModel),
    /// A cache.
    Cache(cache::CacheModel),
    /// A CDN edge.
    Cdn(cdn::CdnModel),
    /// A message queue with workers.
    Queue(queue::QueueModel),
    /// A shard router.
    ShardRouter(shard_router::ShardRouterModel),
    /// A rate limiter.
    RateLimiter(rate_limiter::RateLimiterModel),
    /// A read replica.
    Replica(replica::ReplicaModel),
    /// A database primary.
    Database(database::DatabaseModel),
    /// An object store.
    ObjectStore(object_store::ObjectStoreModel),
}

impl KindModel {
    /// The kind.
    pub fn kind(&self) -> Kind {
        match self {
            KindModel::Station => Kind::Station,
            KindModel::LoadBalancer(_) => Kind::LoadBalancer,
            KindModel::App(_) => Kind::App,
            KindModel::Pooler(_) => Kind::Pooler,
            KindModel::Cache(_) => Kind::Cache,
            KindModel::Cdn(_) => Kind::Cdn,
            KindModel::Queue(_) => Kind::Queue,
            KindModel::ShardRouter(_) => Kind::ShardRouter,
            KindModel::RateLimiter(_) => Kind::RateLimiter,
            KindModel::Replica(_) => Kind::Replica,
            KindModel::Database(_) => Kind::Database,
            KindModel::ObjectStore(_) => Kind::ObjectStore,
        }
    }

    /// A node's capacity and timing, in the words of its kind: a balancer has
    /// no servers, a database reads and writes, a CDN's edge is unbounded.
    pub fn describe(&self, n: &NodeModel) -> String {
        let d = |ns: f64| crate::time::Duration(ns.clamp(0.0, u64::MAX as f64) as u64);
        let queue = n
            .queue
            .map_or("queue unbounded".to_string(), |q| format!("queue {q}"));
        match self {
            KindModel::LoadBalancer(lb) => {
                format!("LoadBalancer · {:?} over {}", lb.policy, lb.backends.len())
            }
            KindModel::ShardRouter(r) => {
                format!("ShardRouter · {:?} over {}", r.scheme, r.shards.len())
            }
            KindModel::RateLimiter(l) => {
                format!("RateLimiter · {:.0}/s per {:?}", l.rate * 1e9, l.by)
            }
            KindModel::Pooler(_) => format!("Pooler · {} connections · {queue}", n.servers),
            KindModel::Cdn(c) => format!(
                "Cdn edge · {} objects\\nedge time {}",
                c.capacity,
                d(n.service.mean())
            ),
            KindModel::Cache(c) => format!(
                "Cache x{} · {} keys\\nmean op {}",
                n.servers,
                c.capacity,
                d(n.service.mean())
            ),
            KindModel::Database(db) => format!(
                "Database x{} · {queue}\\nmean read {}, write {}",
                n.servers,
                d(n.service.mean()),
                d(db.write.mean())
            ),
            KindModel::Replica(_) => format!(
                "Replica x{} · {queue}\\nmean read {}",
                n.servers,
                d(n.service.mean())
            ),
            KindModel::App(a) => format!(
                "App {} x {} workers · {queue}\\nmean own work {}",
                a.instances,
                a.workers,
                d(n.service.mean())
            ),
            KindModel::Queue(_) => format!(
                "Queue · {} workers · {queue}\\nmean processing {}",
                n.servers,
                d(n.service.mean())
            ),
            KindModel::ObjectStore(o) => format!(
                "ObjectStore · {} at once · {:.0}/s per prefix x {}\\nmean service {}",
                n.servers,
                o.rate * 1e9,
                o.prefixes,
                d(n.service.mean())
            ),
            KindModel::Station => format!(
                "Station x{} · {queue}\\nmean service {}",
                n.servers,
                d(n.service.mean())
            ),
        }
    }

    /// The nodes this kind hands every request on to at once (a balancer's
    /// backends, a router's shards, a limiter's target); empty for kinds
    /// that serve requests themselves.
    pub fn hands_to(&self) -> Vec<usize> {
        match self {
            KindModel::LoadBalancer(m) => m.backends.iter().map(|&b| b as usize).collect(),
            KindModel::ShardRouter(m) => m.shards.iter().map(|&b| b as usize).collect(),
            KindModel::RateLimiter(m) => vec![m.to as usize],
            _ => Vec::new(),
        }
    }

    /// The nodes a request here goes on to that someone waits for (besides
    /// a station's routes): what is on the request path after this node.
    pub fn onward(&self) -> Vec<usize> {
        let mut out = self.hands_to();
        match self {
            KindModel::Pooler(m) => out.push(m.to as usize),
            KindModel::Cdn(m) => out.push(m.origin as usize),
            KindModel::Cache(m) => out.extend(m.backend.map(|b| b as usize)),
            KindModel::App(m) => out.extend(m.waits_on().into_iter().map(|t| t as usize)),
            _ => {}
        }
        out
    }

    /// The nodes this kind's servers may hold a server waiting for (an
    /// app's calls and pool, a pooler's database), each once.
    pub fn waits_on(&self) -> Vec<u32> {
        match self {
            KindModel::App(m) => m.waits_on(),
            KindModel::Pooler(m) => vec![m.to],
            _ => Vec::new(),
        }
    }

    /// What a node of this kind holds that grows with the run (keys,
    /// buckets, records), for the memory estimate: what, and bytes.
    pub(crate) fn memory(&self, cx: &MemoryCx) -> Option<(String, f64)> {
        match self {
            KindModel::Cache(c) => Some(c.memory(cx)),
            KindModel::Cdn(c) => Some(c.memory(cx)),
            KindModel::RateLimiter(l) => Some(l.memory(cx)),
            KindModel::ObjectStore(o) => Some(o.memory(cx)),
            KindModel::Database(d) => Some(d.memory(cx)),
            KindModel::Queue(q) => q.memory(cx),
            KindModel::LoadBalancer(lb) => Some(lb.memory(cx)),
            _ => None,
        }
    }

    /// How often a node of this kind does work of its own (health checks,
    /// autoscaler looks), ns: events the work estimate counts.
    pub(crate) fn periodic(&self) -> Option<u64> {
        match self {
            KindModel::LoadBalancer(lb) => lb.health.map(|h| h.every),
            KindModel::App(a) => a.autoscale.map(|s| s.every),
            _ => None,
        }
    }

    /// Every node this kind sends requests or calls to, detached ones
    /// included (published messages): the pairs a partition can cut.
    pub fn sends_to(&self) -> Vec<usize> {
        let mut out = self.onward();
        if let KindModel::App(m) = self {
            out.extend(m.publishes().into_iter().map(|q| q as usize));
        }
        out
    }
}

impl KindModel {
    /// The nodes a request of class `class` may go on to from a node of
    /// this kind, published messages and a primary's failover replica
    /// included: what traffic can reach (`scenario::Reach`).
    pub fn reaches(&self, class: usize) -> Vec<usize> {
        match self {
            KindModel::App(m) => m.targets(class).into_iter().map(|t| t as usize).collect(),
            KindModel::Database(d) => d.failover.map(|f| f.to as usize).into_iter().collect(),
            _ => self.sends_to(),
        }
    }
}

/// What the memory estimate knows about one node and the run
/// ([`crate::budget`]).
pub(crate) struct MemoryCx<'a> {
    /// The node's id.
    pub id: &'a str,
    /// Distinct keys requests can carry, over every source.
    pub key_space: f64,
    /// Distinct client IPs, over every source.
    pub ips: f64,
    /// Requests that reach the node over the run (infinite when the
    /// traffic equations do not settle).
    pub reach: f64,
    /// True when the engine keeps the node's last write per key (a
    /// replicated primary, or one read with read-your-writes routing).
    pub tracked: bool,
    /// The share of the run that idempotency and dedup records are kept.
    pub records_kept: f64,
    /// Regions in the topology.
    pub regions: f64,
}

/// Bytes per key a cache or CDN holds: the entry (32 bytes, in a vector
/// that grows by doubling) and the index (a hash map, also doubling).
pub(crate) const CACHE_KEY_BYTES: f64 = 112.0;
/// Bytes per key of the other per-key maps (limiter buckets, last writes,
/// idempotency records).
pub(crate) const MAP_KEY_BYTES: f64 = 64.0;

/// Primaries whose writes the engine remembers per key: replicated, or
/// read with read-your-writes routing.
pub(crate) fn tracked_primaries(model: &Model) -> Vec<u32> {
    let mut tracked: Vec<u32> = Vec::new();
    for n in &model.nodes {
        match &n.kind {
            KindModel::Replica(r) => tracked.push(r.primary),
            KindModel::App(app) => {
                tracked.extend(app.handlers.iter().flatten().filter_map(|s| match s {
                    app::StepModel::ReadFresh { primary, .. } => Some(*primary),
                    _ => None,
                }))
            }
            _ => {}
        }
    }
    tracked
}

/// How the reference and the sandbox describe a kind: what it is, its
/// fields (and the fields of what nests in it), and an example.
#[derive(Clone, Copy, Debug)]
pub struct KindDoc {
    /// What the kind is and does.
    pub about: &'static str,
    /// Its fields, in the order files usually write them.
    pub fields: &'static [crate::kind::Field],
    /// Things nested in it (`Route`, `HealthCheck`...), with their fields.
    pub nested: &'static [(&'static str, &'static [crate::kind::Field])],
    /// A whole node as written in a file.
    pub example: &'static str,
}

/// The description of `kind`.
pub fn doc(kind: Kind) -> &'static KindDoc {
    match kind {
        Kind::Station => &station::DOC,
        Kind::LoadBalancer => &load_balancer::DOC,
        Kind::App => &app::DOC,
        Kind::Cache => &cache::DOC,
        Kind::Cdn => &cdn::DOC,
        Kind::Database => &database::DOC,
        Kind::Replica => &replica::DOC,
        Kind::Pooler => &pooler::DOC,
        Kind::ShardRouter => &shard_router::DOC,
        Kind::Queue => &queue::DOC,
        Kind::RateLimiter => &rate_limiter::DOC,
        Kind::ObjectStore => &object_store::DOC,
    }
}

/// What `fault` does to a node of `kind`, or why it is refused there
/// (docs/faults.md is generated from this).
pub fn effect(fault: Fault, kind: Kind) -> Result<&'static str, &'static str> {
    match kind {
        Kind::Station => station::effect(fault),
        Kind::LoadBalancer => load_balancer::effect(fault),
        Kind::App => app::effect(fault),
        Kind::Cache => cache::effect(fault),
        Kind::Cdn => cdn::effect(fault),
        Kind::Database => database::effect(fault),
        Kind::Replica => replica::effect(fault),
        Kind::Pooler => pooler::effect(fault),
        Kind::ShardRouter => shard_router::effect(fault),
        Kind::Queue => queue::effect(fault),
        Kind::RateLimiter => rate_limiter::effect(fault),
        Kind::ObjectStore => object_store::effect(fault),
    }
}

/// What `Down`, `Slow`, `Errors` and `Servers` mean for most kinds; a
/// kind's module says what differs.
pub(crate) fn common_effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Down => Ok(
            "arrivals fail at once; requests waiting or in service are lost and their callers see failures",
        ),
        Fault::Slow => Ok("service takes `factor` times as long"),
        Fault::Errors => Ok("a share `rate` of requests fail at the end of their service"),
        Fault::Servers => Ok("servers"),
        Fault::Instances => Err("only an App has instances; use Servers"),
        Fault::Flush => Err("only a Cache or a Cdn holds keys"),
        Fault::Shards => Err("only a ShardRouter has shards"),
    }
}

/// What the kinds that only hand requests on (balancer, router, limiter)
/// make of a fault.
pub(crate) fn hands_on_effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Down => Ok("every request sent to it fails at once"),
        Fault::Slow => Err("it hands requests on without taking time, so there is nothing to slow"),
        Fault::Errors => Ok("a share `rate` of requests is answered with an error at once"),
        Fault::Servers => Err("it has no servers: it hands each request on at once"),
        other => common_effect(other),
    }
}

/// How long node `n` serves an operation `op` (before slow-downs and
/// load): a database's writes take their own time; everything else the
/// node's service time.
#[inline]
pub(crate) fn service_time(n: &mut crate::sim::NodeState, op: u8) -> u64 {
    match &n.kind {
        KindState::Database(d) if op == crate::sim::op::WRITE => d.write.sample(&mut n.rng_service),
        _ => n.service.sample(&mut n.rng_service),
    }
}

/// A node's run-time state: what only some kinds keep.
#[derive(Clone, Debug)]
pub(crate) enum KindState {
    Station,
    LoadBalancer(Box<load_balancer::LoadBalancerState>),
    App(Box<app::AppState>),
    Pooler(u32),
    Cache(Box<cache::CacheState>),
    Cdn(Box<cdn::CdnState>),
    Database(Box<database::DatabaseState>),
    Replica(Box<replica::ReplicaState>),
    RateLimiter(Box<rate_limiter::RateLimiterState>),
    ShardRouter(Box<shard_router::ShardRouterState>),
    Queue(Box<queue::QueueState>),
    ObjectStore(Box<object_store::ObjectStoreState>),
}

impl KindState {
    /// The state node `i` of `model` starts with.
    pub(crate) fn new(model: &Model, i: usize, seed: u64, tracked: &[u32]) -> KindState {
        let n = &model.nodes[i];
        match &n.kind {
            KindModel::Station => KindState::Station,
            KindModel::LoadBalancer(m) => KindState::LoadBalancer(Box::new(
                load_balancer::LoadBalancerState::of(model, n, m, seed),
            )),
            KindModel::App(m) => KindState::App(Box::new(app::AppState::of(n, m, seed))),
            KindModel::Pooler(m) => KindState::Pooler(m.to),
            KindModel::Cache(m) => KindState::Cache(Box::new(cache::CacheState::of(n, m, seed))),
            KindModel::Cdn(m) => KindState::Cdn(Box::new(cdn::CdnState::of(m))),
            KindModel::Database(m) => KindState::Database(Box::new(database::DatabaseState::of(
                m,
                tracked.contains(&(i as u32)),
            ))),
            KindModel::Queue(m) => KindState::Queue(Box::new(queue::QueueState::of(m))),
            KindModel::ShardRouter(m) => {
                KindState::ShardRouter(Box::new(shard_router::ShardRouterState::of(model, m)))
            }
            KindModel::RateLimiter(m) => {
                KindState::RateLimiter(Box::new(rate_limiter::RateLimiterState::of(m)))
            }
            KindModel::ObjectStore(m) => {
                KindState::ObjectStore(Box::new(object_store::ObjectStoreState::of(m)))
            }
            KindModel::Replica(m) => {
                KindState::Replica(Box::new(replica::ReplicaState::of(n, m, seed)))
            }
        }
    }

    /// True for kinds that hand requests on at once (no servers, no queue).
    pub(crate) fn hands_on(&self) -> bool {
        matches!(
            self,
            KindState::LoadBalancer(_) | KindState::ShardRouter(_) | KindState::RateLimiter(_)
        )
    }
}

impl Simulation {
    /// Once every node exists, each kind sets itself up: pools and poolers
    /// open their connections; balancers learn their backends' distances
    /// and start health checks; autoscalers start looking.
    pub(crate) fn kinds_start(&mut self) {
        self.watch_lost_writes();
        for i in 0..self.nodes.len() {
            match self.nodes[i].kind {
                KindState::App(_) => self.app_start(i),
                KindState::Pooler(_) => self.pooler_start(i),
                KindState::LoadBalancer(_) => self.load_balancer_start(i),
                _ => {}
            }
        }
    }

    /// A request arrives at node `i` of a kind that hands it on at once, or
    /// that may turn it away before it queues: true when the kind took it.
    #[inline]
    pub(crate) fn kind_enter(&mut self, i: usize, req: u32) -> bool {
        match self.nodes[i].kind {
            KindState::LoadBalancer(_) => {
                self.load_balancer_forward(i, req);
                true
            }
            KindState::RateLimiter(_) => {
                self.rate_limiter_admit(i, req);
                true
            }
            KindState::ShardRouter(_) => {
                self.shard_router_forward(i, req);
                true
            }
            KindState::Database(_) => {
                self.db_direct_op(i, req);
                self.database_refuses(i, req)
            }
            KindState::Replica(_) => self.database_refuses(i, req),
            KindState::ObjectStore(_) => self.object_store_admit(i, req),
            _ => false,
        }
    }

    /// A request arrives at node `i`, which is down.
    pub(crate) fn kind_down_arrival(&mut self, i: usize, req: u32) {
        match &self.nodes[i].kind {
            KindState::Cdn(_) => self.cdn_failover(i, req),
            KindState::Database(d) if d.promoted_to.is_some() => self.database_promoted(i, req),
            _ => self.drop_request(i, req),
        }
    }

    /// Node `i` put `req` into service (a queue's worker took a message:
    /// its visibility timer starts).
    #[inline]
    pub(crate) fn kind_started(&mut self, i: usize, req: u32) {
        if matches!(self.nodes[i].kind, KindState::Queue(_)) {
            self.queue_taken(i, req);
        }
    }

    /// Node `i` finished serving `req` (its own work is done).
    #[inline]
    pub(crate) fn kind_served(&mut self, i: usize, req: u32) {
        match self.nodes[i].kind {
            KindState::Station | KindState::ObjectStore(_) => self.station_done(i, req),
            KindState::App(_) => self.app_run(i, req),
            KindState::Cache(_) => self.cache_op(i, req),
            KindState::Cdn(_) => self.cdn_served(i, req),
            KindState::Database(_) => self.db_done(i, req),
            KindState::Replica(_) => self.replica_done(i, req),
            KindState::Queue(_) => self.queue_done(i, req),
            KindState::Pooler(to) => self.pooler_served(i, req, to),
            KindState::LoadBalancer(_) | KindState::RateLimiter(_) | KindState::ShardRouter(_) => {
                self.release(i);
                self.record_visit(i, req, true);
                self.finish(req, crate::sim::outcome::OK);
            }
        }
    }

    /// An injected error failed `req` at the end of its service at node `i`.
    pub(crate) fn kind_failed(&mut self, i: usize, req: u32) {
        if matches!(self.nodes[i].kind, KindState::Queue(_)) {
            // A failed delivery: retried later, or dead-lettered.
            self.queue_failed(i, req);
            return;
        }
        self.release(i);
        self.record_visit(i, req, false);
        self.finish(req, crate::sim::outcome::FAIL);
    }

    /// The answer to a call made by `req`, waiting at node `i`, came.
    pub(crate) fn kind_answered(&mut self, i: usize, req: u32, result: u8) {
        match self.nodes[i].kind {
            KindState::Cdn(_) => self.cdn_resume(i, req, result),
            KindState::Cache(_) => self.read_through_answered(i, req, result),
            KindState::Pooler(_) => self.pooler_answered(i, req, result),
            _ => {
                if !self.call_policy(i, req, result) {
                    self.app_run(i, req)
                }
            }
        }
    }

    /// Node `i` was taken down: what its kind loses besides its requests.
    pub(crate) fn kind_went_down(&mut self, i: usize) {
        // A cache comes back empty; its waiters fail.
        self.cache_flush(i, true);
        // A primary with a failover starts its clock.
        self.db_went_down(i);
    }

    /// What node `i`'s kind adds to its report: its own section.
    pub(crate) fn fill_report(&self, i: usize, r: &mut crate::report::NodeReport) {
        let n = &self.nodes[i];
        match &n.kind {
            KindState::Cache(c) => r.cache = Some(c.section(&self.model)),
            KindState::Cdn(c) => r.cache = Some(c.section()),
            KindState::LoadBalancer(lb) => r.load_balancer = Some(lb.section(&self.model)),
            KindState::Database(d) => {
                r.database = Some(d.section(&self.model, n.stats.refused, r.mean_in_system))
            }
            KindState::Replica(rep) => {
                r.replica = Some(rep.section());
                r.database = Some(database::DatabaseReport::of_replica(
                    n.stats.refused,
                    r.mean_in_system,
                ));
            }
            KindState::ShardRouter(sh) => r.shards = Some(sh.section(&self.model)),
            KindState::App(a) => r.app = Some(a.section()),
            KindState::Queue(q) => r.queue = Some(q.section()),
            KindState::RateLimiter(l) => r.rejected = Some(l.rejected),
            KindState::ObjectStore(o) => r.rejected = Some(o.throttled),
            KindState::Station | KindState::Pooler(_) => {}
        }
    }

    /// `Servers` for node `i`: what its kind calls servers.
    pub(crate) fn kind_set_servers(&mut self, i: usize, servers: u32) {
        match self.nodes[i].kind {
            KindState::App(_) => self.app_set_workers(i, servers),
            KindState::Pooler(to) => self.pooler_set_connections(i, to, servers),
            _ => self.set_servers(i, servers),
        }
    }
}
