//! The topology file format (RON): what people write.
//!
//! ```ron
//! Topology(
//!     name: "Two stations",
//!     sources: [
//!         Source(id: "users", to: "web", arrivals: Poisson(rps: 40.0)),
//!     ],
//!     nodes: [
//!         Station(id: "web", servers: 4, queue: 50,
//!                 service: LogNormal(mean: "20ms", std: "30ms"),
//!                 routes: [Route(to: "db", p: 0.3)]),
//!         Station(id: "db", servers: 2, service: Constant("15ms")),
//!     ],
//! )
//! ```
//!
//! These types mirror the file one to one and carry no derived data; the
//! loader ([`load`]) parses them with diagnostics and compiles them into a
//! [`crate::model::Model`], which is what the engine runs.

pub mod kinds;
pub mod limits;
pub mod load;

pub use load::{Loaded, load, load_str, parse, ron_options, to_ron};
pub(crate) use load::{check_bytes, is_blank, ron_diagnostic, too_deep};
pub use load::{check_text, not_ron};

/// The class of requests of a source without a `mix`.
pub const DEFAULT_CLASS: &str = "request";

use crate::dist::Dist;
use crate::keys::Keys;
use crate::profile::{Arrivals, Profile};
use crate::sim::components::cache_store::Eviction;
use crate::time::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole system: where traffic comes from and the nodes it flows through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// A short title, shown in reports.
    pub name: String,
    /// A longer description (optional).
    #[serde(default)]
    pub description: Option<String>,
    /// Traffic sources.
    pub sources: Vec<Source>,
    /// The nodes requests flow through.
    pub nodes: Vec<Node>,
    /// Data centres: which nodes and sources are where (optional).
    #[serde(default)]
    pub regions: Vec<Region>,
    /// One-way network latency between regions (one per pair of regions).
    #[serde(default)]
    pub links: Vec<Link>,
    /// Where the sandbox draws each node and source: id to (x, y). The
    /// engine ignores it; the sandbox saves it when nodes are dragged.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub layout: std::collections::BTreeMap<String, (f32, f32)>,
}

/// A region (data centre): its nodes and the sources (users) near it.
/// Calls and answers between regions take the link's latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Unique id.
    pub id: String,
    /// Node ids in this region.
    pub nodes: Vec<String>,
    /// Source ids whose users are here.
    #[serde(default)]
    pub sources: Vec<String>,
}

/// The network between two regions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// One region.
    pub a: String,
    /// The other.
    pub b: String,
    /// One-way latency.
    pub latency: Duration,
}

/// Where requests come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Unique id.
    pub id: String,
    /// The node every request of this source enters first.
    pub to: String,
    /// The arrival process and its base rate.
    pub arrivals: Arrivals,
    /// How the rate changes over time; absent means constant.
    #[serde(default)]
    pub profile: Option<Profile>,
    /// The mix of request classes: `{"read": 0.95, "write": 0.05}`. Absent:
    /// every request is of class `"request"`.
    #[serde(default)]
    pub mix: Option<BTreeMap<String, f64>>,
    /// How request keys are drawn; absent: every request has key 1.
    #[serde(default)]
    pub keys: Option<Keys>,
    /// The client's timeout and retries; absent: wait forever, never retry.
    #[serde(default)]
    pub client: Option<Client>,
    /// Number of client IP addresses the requests come from (each request
    /// picks one uniformly); absent: 1.
    #[serde(default)]
    pub ips: Option<u64>,
}

/// How the clients of a source behave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Give up on an attempt after this long (the server keeps working on it).
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Try again after a failure or a timeout.
    #[serde(default)]
    pub retries: Option<Retries>,
    /// Stop sending while most recent attempts fail.
    #[serde(default)]
    pub breaker: Option<Breaker>,
    /// Wait at least as long as a rate limiter's retry-after hint before
    /// retrying (default true; attackers do not).
    #[serde(default)]
    pub respect_retry_after: Option<bool>,
}

/// A circuit breaker in the client: when at least `failure_ratio` of the
/// attempts in the last `window` failed (and there were at least
/// `min_requests`), it opens and fails requests at once for `open_for`; then
/// it lets one probe through, closing again if the probe succeeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breaker {
    /// Share of failed attempts that opens it, e.g. 0.5.
    pub failure_ratio: f64,
    /// How far back it looks.
    pub window: Duration,
    /// Attempts needed in the window before it may open.
    #[serde(default)]
    pub min_requests: Option<u32>,
    /// How long it stays open before probing.
    pub open_for: Duration,
}

/// Retries with exponential backoff: attempt `n` waits
/// `min(cap, backoff * 2^(n-1))`, jittered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retries {
    /// Retries after the first attempt.
    pub max: u32,
    /// Wait before the first retry.
    pub backoff: Duration,
    /// Longest wait.
    #[serde(default)]
    pub cap: Option<Duration>,
    /// Randomisation of the wait.
    #[serde(default)]
    pub jitter: Jitter,
    /// Retry budget: retries may be at most this share of first attempts
    /// (a token bucket; e.g. 0.1). Absent: no budget.
    #[serde(default)]
    pub budget: Option<f64>,
}

/// Randomisation of retry waits (AWS's names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Jitter {
    /// Exactly the computed wait: clients that failed together retry together.
    None,
    /// Uniform between 0 and the wait.
    #[default]
    Full,
    /// Half the wait plus uniform up to the other half.
    Equal,
}

/// A node of the system. Each kind is a variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Node {
    /// A generic first-come-first-served queueing station.
    Station(Station),
    /// Spreads requests over backends.
    LoadBalancer(LoadBalancer),
    /// An application server: workers that do some work and call others.
    App(App),
    /// A key-value cache (Redis-like).
    Cache(Cache),
    /// A database primary.
    Database(Database),
    /// A content delivery network's edge: caches responses near users.
    Cdn(Cdn),
    /// A read replica of a database.
    Replica(Replica),
    /// Admits requests up to a rate and refuses the rest (429).
    RateLimiter(RateLimiter),
    /// Sends each request to the shard that owns its key.
    ShardRouter(ShardRouter),
    /// A connection pooler (PgBouncer-like): many client connections
    /// share `connections` to the database.
    Pooler(Pooler),
    /// A message queue with a pool of workers consuming it.
    Queue(Queue),
}

impl Node {
    /// The node's id.
    pub fn id(&self) -> &str {
        match self {
            Node::Station(s) => &s.id,
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
        }
    }

    /// The kind's name as written in files.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Station(_) => "Station",
            Node::LoadBalancer(_) => "LoadBalancer",
            Node::App(_) => "App",
            Node::Cache(_) => "Cache",
            Node::Database(_) => "Database",
            Node::Cdn(_) => "Cdn",
            Node::Replica(_) => "Replica",
            Node::RateLimiter(_) => "RateLimiter",
            Node::ShardRouter(_) => "ShardRouter",
            Node::Queue(_) => "Queue",
            Node::Pooler(_) => "Pooler",
        }
    }
}

/// How a load balancer picks a backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Policy {
    /// In turn.
    #[default]
    RoundRobin,
    /// The backend with the fewest requests in progress (ties: in turn).
    LeastConnections,
    /// Uniformly at random.
    Random,
    /// The less busy of two picked at random.
    PowerOfTwo,
    /// By the request's key on a hash ring (100 virtual nodes per backend).
    ConsistentHash,
    /// The healthy backend closest to the request's users (geo-routing:
    /// their own region when it is up, else the nearest other).
    Nearest,
}

/// Active health checks of a load balancer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// Interval between checks.
    pub every: Duration,
    /// Failed checks in a row before a backend is taken out.
    pub unhealthy_after: u32,
    /// Passed checks in a row before it is put back (default 1).
    #[serde(default)]
    pub healthy_after: Option<u32>,
}

/// A load balancer: forwards each request to one backend (no queue of its
/// own; the backend answers the caller directly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    /// Unique id.
    pub id: String,
    /// Backend node ids.
    pub to: Vec<String>,
    /// How to pick (default `RoundRobin`).
    #[serde(default)]
    pub policy: Policy,
    /// Active health checks; absent: a dead backend keeps getting traffic.
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
}

/// One step of an application handler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Step {
    /// Call another node and wait for its answer: `Call(to: "search")`.
    Call {
        /// Target node.
        to: String,
    },
    /// Read from a database: `Read(db: "db")`.
    Read {
        /// Target database.
        db: String,
    },
    /// Write to a database: `Write(db: "db")`.
    Write {
        /// Target database.
        db: String,
    },
    /// Cache-aside read: get the key from the cache; on a miss read the
    /// database, then fill the cache (without waiting for the fill).
    CacheAside {
        /// The cache.
        cache: String,
        /// The database behind it.
        db: String,
    },
    /// Delete the key from a cache and wait for it: `Invalidate(cache: "redis")`.
    Invalidate {
        /// The cache.
        cache: String,
    },
    /// Write-through: write to the database, then set the key in the cache
    /// (waiting for both): `WriteThrough(cache: "redis", db: "db")`.
    WriteThrough {
        /// The cache.
        cache: String,
        /// The database.
        db: String,
    },
    /// Read-your-writes: read from `primary` if the key was written less
    /// than `within` ago, otherwise from `replicas` (a replica or a load
    /// balancer over replicas): `ReadFresh(replicas: "replicas", primary: "db", within: "2s")`.
    ReadFresh {
        /// Where ordinary reads go.
        replicas: String,
        /// Where reads of fresh writes go.
        primary: String,
        /// How recent a write must be to read from the primary.
        within: Duration,
    },
    /// Put a message on a queue and carry on (its workers handle it later):
    /// `Publish(queue: "emails")`.
    Publish {
        /// The queue.
        queue: String,
    },
    /// Call `to` `count` times in parallel and wait for every answer (a
    /// scatter-gather over shards or leaves); fails if any call fails. With
    /// `hedge_after`, a call still out after that long is sent again and the
    /// first answer wins: `FanOut(to: "leaf", count: 100, hedge_after: "20ms")`.
    FanOut {
        /// Target node (often a load balancer over the leaves).
        to: String,
        /// Parallel calls.
        count: u32,
        /// Send a second copy of calls still out after this long.
        #[serde(default)]
        hedge_after: Option<Duration>,
    },
}

/// An application server with a pool of workers. A worker takes a request,
/// does `service` worth of work, then runs the handler of the request's
/// class, holding the worker while it waits for each call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Unique id.
    pub id: String,
    /// Instances (servers) of the app (default 1).
    #[serde(default)]
    pub instances: Option<u64>,
    /// Concurrent requests per instance (threads, workers).
    pub workers: u64,
    /// Waiting places per instance; absent is unbounded.
    #[serde(default)]
    pub queue: Option<u64>,
    /// The server's own work per request.
    pub service: Dist,
    /// Steps per request class; `"*"` applies to classes not listed.
    #[serde(default)]
    pub handle: BTreeMap<String, Vec<Step>>,
    /// A connection pool per instance for calls to one node (a database or
    /// a pooler): a call waits for a free connection.
    #[serde(default)]
    pub pool: Option<Pool>,
    /// Add and remove instances to hold a target utilization.
    #[serde(default)]
    pub autoscale: Option<Autoscale>,
    /// Load-dependent latency (GC pressure, contention): service times are
    /// multiplied by `1 + load_factor x utilization^2`.
    #[serde(default)]
    pub load_factor: Option<f64>,
    /// How the app calls others: a timeout per call, retries of failed
    /// calls, and a circuit breaker per target.
    #[serde(default)]
    pub calls: Option<CallPolicy>,
}

/// An app's policy for the calls its handler makes. Retries apply to single
/// calls (`Call`, `Read`, `Write`, `Invalidate`, `ReadFresh`); timeouts and
/// breakers to every call, cache-aside's included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallPolicy {
    /// Give up on a call after this long (the worker moves on; the callee
    /// keeps working).
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Retry a failed or timed-out call.
    #[serde(default)]
    pub retries: Option<Retries>,
    /// A breaker per target node.
    #[serde(default)]
    pub breaker: Option<Breaker>,
}

/// A connection pool per app instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// The node whose calls use the pool.
    pub to: String,
    /// Connections per instance.
    pub size: u64,
}

/// Autoscaling of an app's instances.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    /// Utilization to hold, e.g. 0.6.
    pub target: f64,
    /// Fewest instances.
    pub min: u64,
    /// Most instances.
    pub max: u64,
    /// How often it looks (default 15 s).
    #[serde(default)]
    pub every: Option<Duration>,
    /// Time for a new instance to start (default 60 s).
    #[serde(default)]
    pub provision: Option<Duration>,
    /// Time after a scale-up before it may scale down (default 5 m).
    #[serde(default)]
    pub cooldown: Option<Duration>,
}

/// A key-value cache. Operations are gets, sets and deletes of the
/// request's key, each taking `service` on one of `servers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// Unique id.
    pub id: String,
    /// Keys it can hold.
    pub capacity: u64,
    /// Which key leaves when full (default `Lru`).
    #[serde(default)]
    pub eviction: Eviction,
    /// How long an entry lives; absent: until evicted.
    #[serde(default)]
    pub ttl: Option<Duration>,
    /// Spread TTLs by up to this fraction either way (e.g. 0.1 for +-10%).
    #[serde(default)]
    pub ttl_jitter: Option<f64>,
    /// Parallel servers (default 1, like Redis's single thread).
    #[serde(default)]
    pub servers: Option<u64>,
    /// Time per operation.
    pub service: Dist,
    /// Coalesce concurrent misses of one key into one database read.
    #[serde(default)]
    pub single_flight: bool,
    /// Serve an expired entry for this long after its TTL while one request
    /// refreshes it in the background (stale-while-revalidate).
    #[serde(default)]
    pub stale_while_revalidate: Option<Duration>,
}

/// A CDN edge: answers cacheable requests from its own cache and fetches
/// misses from the origin (then keeps them for `ttl`). Other classes pass
/// through to the origin. When the CDN is down, traffic fails over to the
/// origin directly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cdn {
    /// Unique id.
    pub id: String,
    /// Where misses and uncacheable requests go.
    pub origin: String,
    /// Objects the edge can hold.
    pub capacity: u64,
    /// How long an object is kept; absent: until evicted.
    #[serde(default)]
    pub ttl: Option<Duration>,
    /// Classes that can be cached; absent: all.
    #[serde(default)]
    pub cacheable: Option<Vec<String>>,
    /// Time the edge takes per request (a hit's whole latency).
    pub service: Dist,
    /// Requests the edge serves at once (default 100,000: effectively unlimited).
    #[serde(default)]
    pub servers: Option<u64>,
}

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
}

/// A message queue consumed by `workers`, with at-least-once delivery. A
/// worker takes a message and processes it for `service`; if it has not
/// finished within `visibility_timeout`, the message becomes visible again
/// and another worker takes it too (a duplicate). A failed message is
/// delivered again after `backoff`, up to `max_deliveries` times, then goes
/// to the dead-letter queue. With `idempotent` workers, a message processed
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
    /// Deliveries before a failing message is dead-lettered (default 3).
    #[serde(default)]
    pub max_deliveries: Option<u32>,
    /// Wait before a failed message is delivered again (default 1 s).
    #[serde(default)]
    pub backoff: Option<Duration>,
    /// Keep messages that failed every delivery (default true); otherwise
    /// they are lost.
    #[serde(default)]
    pub dead_letter: Option<bool>,
    /// Workers remember processed messages and skip repeats.
    #[serde(default)]
    pub idempotent: bool,
}

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

/// How keys map to shards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sharding {
    /// `hash(key) mod N`: even, but changing N moves most keys.
    #[default]
    HashMod,
    /// A hash ring with 100 virtual nodes per shard: changing N moves only
    /// the keys of the shards added or removed.
    ConsistentHash,
}

/// A shard router: forwards each request to the shard owning its key. A
/// celebrity key makes its shard hot whatever the scheme.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRouter {
    /// Unique id.
    pub id: String,
    /// The shards, in order.
    pub shards: Vec<String>,
    /// The scheme (default `HashMod`).
    #[serde(default)]
    pub scheme: Sharding,
    /// How many of the shards are in use (default: all); the control API's
    /// `Shards` change reshards.
    #[serde(default)]
    pub active: Option<u32>,
}

/// How a rate limiter counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    /// Tokens refill at the rate, up to `burst`; a request takes one.
    #[default]
    TokenBucket,
    /// Requests in the last `per`, estimated from this window's and the
    /// previous window's counts (the sliding-window counter).
    SlidingWindow,
}

/// What a rate limiter counts separately.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitBy {
    /// All requests together.
    #[default]
    Global,
    /// Each client IP address.
    Ip,
    /// Each account (the request's key).
    Account,
}

/// A rate limiter: passes up to `limit` requests per `per` (for each IP,
/// account, or all together) on to `to`, and refuses the rest at once with
/// a retry-after hint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimiter {
    /// Unique id.
    pub id: String,
    /// Where admitted requests go.
    pub to: String,
    /// Requests allowed per `per`.
    pub limit: f64,
    /// The period of the limit.
    pub per: Duration,
    /// Token bucket size (default: `limit`).
    #[serde(default)]
    pub burst: Option<f64>,
    /// How it counts (default `TokenBucket`).
    #[serde(default)]
    pub algorithm: Algorithm,
    /// What it counts separately (default `Global`).
    #[serde(default)]
    pub by: LimitBy,
}

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
    /// When it goes down, promote a replica after a while.
    #[serde(default)]
    pub failover: Option<Failover>,
}

/// Promotion of a replica when the primary dies: after `after` (detection
/// and promotion), the replica `to` becomes the primary and takes the
/// primary's traffic. With asynchronous replication (the default), the
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

/// A queueing station: `servers` parallel servers in front of one FIFO queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// Unique id.
    pub id: String,
    /// Number of parallel servers (at least 1).
    pub servers: u64,
    /// Waiting places besides those in service; absent means unbounded. An
    /// arrival that finds every server busy and the queue full is dropped.
    #[serde(default)]
    pub queue: Option<u64>,
    /// How long one request occupies a server.
    pub service: Dist,
    /// Where requests go after service, with probabilities; the probability
    /// left over leaves the system (the request is complete).
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// One probabilistic route out of a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Target node id.
    pub to: String,
    /// Probability that a request leaving the node goes there.
    pub p: f64,
}
