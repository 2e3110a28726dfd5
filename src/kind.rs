//! The shared vocabulary of every layer: which kinds of node there are, and
//! the small enums the file format, the model, the engine and the front
//! ends all speak (eviction, balancing policy, sharding scheme, rate-limit
//! counting and keying, retry jitter). It sits below all of them and imports
//! none of them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A kind of node, as written in topology files (`Cache(...)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// A generic first-come-first-served queueing station.
    Station,
    /// Spreads requests over backends.
    LoadBalancer,
    /// An application server: workers that do some work and call others.
    App,
    /// A key-value cache (Redis-like).
    Cache,
    /// A content delivery network's edge.
    Cdn,
    /// A database primary.
    Database,
    /// A read replica of a database.
    Replica,
    /// A connection pooler (PgBouncer-like).
    Pooler,
    /// Sends each request to the shard that owns its key.
    ShardRouter,
    /// A message queue with workers.
    Queue,
    /// Admits requests up to a rate and refuses the rest.
    RateLimiter,
}

impl Kind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [Kind; 11] = [
        Kind::Station,
        Kind::LoadBalancer,
        Kind::App,
        Kind::Cache,
        Kind::Cdn,
        Kind::Database,
        Kind::Replica,
        Kind::Pooler,
        Kind::ShardRouter,
        Kind::Queue,
        Kind::RateLimiter,
    ];

    /// Its name in files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Station => "Station",
            Kind::LoadBalancer => "LoadBalancer",
            Kind::App => "App",
            Kind::Cache => "Cache",
            Kind::Cdn => "Cdn",
            Kind::Database => "Database",
            Kind::Replica => "Replica",
            Kind::Pooler => "Pooler",
            Kind::ShardRouter => "ShardRouter",
            Kind::Queue => "Queue",
            Kind::RateLimiter => "RateLimiter",
        }
    }

    /// The kind with this name in files.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// True for kinds that only hand requests on, at once, without servers
    /// of their own (never a bottleneck, nothing to slow).
    pub fn routes_only(self) -> bool {
        matches!(
            self,
            Kind::LoadBalancer | Kind::ShardRouter | Kind::RateLimiter
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which entry leaves when the cache is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Eviction {
    /// Least recently used.
    #[default]
    Lru,
    /// First in, first out (hits do not refresh an entry).
    Fifo,
    /// Least frequently used, approximated as Redis does: the least used of
    /// 5 entries sampled at random leaves.
    Lfu,
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
