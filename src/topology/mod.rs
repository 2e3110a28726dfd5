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

pub mod check;
pub mod limits;
pub mod load;

pub use load::{Loaded, load, load_str, parse, ron_options, to_ron};
pub(crate) use load::{check_bytes, is_blank, ron_diagnostic, too_deep};
pub use load::{check_text, not_ron};

/// The class of requests of a source without a `mix`.
pub const DEFAULT_CLASS: &str = "request";

use crate::keys::Keys;
/// The small enums of the file format live in [`crate::kind`], below every layer.
pub use crate::kind::{Algorithm, Eviction, Jitter, LimitBy, Policy, Sharding};
/// Each node kind's file format lives in its module under [`crate::kinds`].
pub use crate::kinds::Node;
pub use crate::kinds::app::{App, Autoscale, CallPolicy, Pool, Step};
pub use crate::kinds::cache::Cache;
pub use crate::kinds::cdn::Cdn;
pub use crate::kinds::database::{Database, Failover};
pub use crate::kinds::load_balancer::{HealthCheck, LoadBalancer};
pub use crate::kinds::pooler::Pooler;
pub use crate::kinds::queue::Queue;
pub use crate::kinds::rate_limiter::RateLimiter;
pub use crate::kinds::replica::Replica;
pub use crate::kinds::shard_router::ShardRouter;
pub use crate::kinds::station::{Route, Station};
use crate::profile::{Arrivals, Profile};
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
