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

mod anchor;
pub mod bursts;
pub mod check;
pub mod compile;
pub mod limits;
pub mod load;
mod numbers;
mod overload;

pub use load::{Loaded, load, load_str, parse, ron_options, to_ron};
pub(crate) use load::{check_bytes, is_blank, ron_diagnostic, too_deep};
pub use load::{check_text, not_ron, other_file, strip_bom};

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
    /// A retry budget as real clients ration retries: the AWS SDKs' token
    /// bucket or Finagle's budget (instead of `budget`).
    #[serde(default)]
    pub limit: Option<RetryLimit>,
}

/// How a client rations its retries, as real clients do.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RetryLimit {
    /// A token bucket that starts full (the AWS SDKs' retry quota, Stability
    /// Sim's token-bucket strategy): a retry takes `cost` tokens (`timeout_cost`
    /// after a timeout) and is refused when there are not enough; every
    /// successful attempt puts `per_success` back, up to `capacity`. It
    /// does not refill with time: once failures drain it, only successes
    /// let retries out again. AWS's standard mode: capacity 500, cost 5,
    /// timeout_cost 10, per_success 1 (AWS refunds a retry's cost when it
    /// succeeds; here every success earns `per_success`).
    TokenBucket {
        /// Tokens it holds, and starts with.
        capacity: f64,
        /// Tokens a retry takes (default 1).
        #[serde(default)]
        cost: Option<f64>,
        /// Tokens a retry after a timeout takes (default `cost`; a
        /// source's clients only, an app's calls pay `cost`).
        #[serde(default)]
        timeout_cost: Option<f64>,
        /// Tokens each successful attempt puts back (default 1).
        #[serde(default)]
        per_success: Option<f64>,
    },
    /// Finagle's `RetryBudget`: over the last `ttl`, retries may be at most
    /// `percent` of the requests plus `min_per_second` x `ttl` (so a quiet
    /// client may still retry a little).
    Finagle {
        /// Retries allowed per request, e.g. 0.2.
        percent: f64,
        /// Retries allowed per second whatever the traffic (default 10).
        #[serde(default)]
        min_per_second: Option<f64>,
        /// How far back it counts (default 10 s; 1 s to 60 s).
        #[serde(default)]
        ttl: Option<Duration>,
    },
}

use crate::kind::{Field, FieldType, field};

/// The fields of `Topology(...)`, for the reference.
pub const TOPOLOGY_FIELDS: &[Field] = &[
    field(
        "name",
        FieldType::Nested("text"),
        "",
        None,
        "A short title, shown in reports.",
    ),
    field(
        "description",
        FieldType::Nested("text"),
        "",
        Some("none"),
        "A longer description.",
    ),
    field(
        "sources",
        FieldType::Nested("list of Source(...)"),
        "",
        None,
        "Where traffic comes from.",
    ),
    field(
        "nodes",
        FieldType::Nested("list of nodes"),
        "",
        None,
        "The nodes requests flow through: a list of nodes of the kinds below.",
    ),
    field(
        "regions",
        FieldType::Nested("list of Region(...)"),
        "",
        Some("none"),
        "Data centres: which nodes and sources are where.",
    ),
    field(
        "links",
        FieldType::Nested("list of Link(...)"),
        "",
        Some("none"),
        "One-way network latency between regions (one per pair).",
    ),
    field(
        "layout",
        FieldType::Nested("map of positions"),
        "",
        Some("none"),
        "Where the sandbox draws each node and source: `{\"db\": (0.7, 0.5)}`; the engine ignores it.",
    ),
];

/// The fields of `Source(...)`, for the reference.
pub const SOURCE_FIELDS: &[Field] = &[
    field("id", FieldType::Id, "", None, "Unique id."),
    field(
        "to",
        FieldType::Node(&[]),
        "",
        None,
        "The node every request of this source enters first.",
    ),
    field(
        "arrivals",
        FieldType::Nested("arrivals"),
        "",
        None,
        "`Poisson(rps: 100.0)` (open loop, requests per second); `Closed(users: 200, think: Exponential(mean: \"1s\"))` (users who wait for an answer, think, and send the next; with `tasks`, each user walks a session of tasks), or `Burst(count: 100, at: \"10s\")` (exactly `count` requests at the instant `at`; the traffic multiplier does not scale it, and x0 does not hold it back).",
    ),
    field(
        "profile",
        FieldType::Nested("profile"),
        "",
        Some("constant"),
        "How an open-loop rate changes over time: `Ramp(to: 3000.0, over: \"5m\")`, `Steps([Step(at: \"1m\", rps: 200.0)])`, `Spike(at: \"2m\", times: 3.0, for: \"5m\")`, `Diurnal(peak: 1.0, trough: 0.2, period: \"24h\")`.",
    ),
    field(
        "mix",
        FieldType::Nested("mix"),
        "",
        Some("one class, \"request\""),
        "The mix of request classes: `{\"read\": 0.95, \"write\": 0.05}` (shares sum to 1).",
    ),
    field(
        "keys",
        FieldType::Nested("keys"),
        "",
        Some("every request has key 1"),
        "How request keys are drawn: `Uniform(keys: 1_000_000)`, `Zipf(keys: 1_000_000, s: 0.99)`, `Celebrity(keys: 10_000, share: 0.3)`.",
    ),
    field(
        "client",
        FieldType::Nested("Client"),
        "",
        Some("wait forever, never retry"),
        "The clients' timeout, retries and breaker.",
    ),
    field(
        "ips",
        FieldType::Count {
            min: 1,
            max: limits::MAX_IPS,
        },
        "addresses",
        Some("1"),
        "Client IP addresses the requests come from (each picks one uniformly).",
    ),
];

/// The fields of `Client(...)`, `Retries(...)` and `Breaker(...)`, and of
/// regions and links, for the reference.
pub const CLIENT_NESTED: &[(&str, &[Field])] = &[
    (
        "Client",
        &[
            field(
                "timeout",
                FieldType::Duration,
                "",
                Some("none"),
                "Give up on an attempt after this long (the system keeps working on it).",
            ),
            field(
                "retries",
                FieldType::Nested("Retries"),
                "",
                Some("none"),
                "Try again after a failure or a timeout.",
            ),
            field(
                "breaker",
                FieldType::Nested("Breaker"),
                "",
                Some("none"),
                "Stop sending while most recent attempts fail.",
            ),
            field(
                "respect_retry_after",
                FieldType::Bool,
                "",
                Some("true"),
                "Wait at least a rate limiter's retry-after hint before retrying (attackers do not).",
            ),
        ],
    ),
    (
        "Retries",
        &[
            field(
                "max",
                FieldType::Count { min: 0, max: 100 },
                "retries",
                None,
                "Retries after the first attempt.",
            ),
            field(
                "backoff",
                FieldType::Duration,
                "",
                None,
                "Wait before the first retry; attempt n waits min(cap, backoff x 2^(n-1)), jittered.",
            ),
            field(
                "cap",
                FieldType::Duration,
                "",
                Some("none"),
                "Longest wait.",
            ),
            field(
                "jitter",
                FieldType::Choice(&["None", "Full", "Equal", "Decorrelated"]),
                "",
                Some("Full"),
                "Randomisation of the wait (AWS's names): none, uniform up to the wait, half plus uniform up to the other half, or uniform from `backoff` to 3 x the previous wait, capped (decorrelated: the doubling is replaced by the draw).",
            ),
            field(
                "budget",
                FieldType::Number {
                    min: 0.0,
                    max: 10.0,
                },
                "",
                Some("none"),
                "Retries may be at most this share of first attempts, e.g. 0.1: a token bucket that starts empty, earns `budget` per first attempt, holds at most 100 and takes 1 per retry.",
            ),
            field(
                "limit",
                FieldType::Nested("retry limit"),
                "",
                Some("none"),
                "A retry budget as real clients keep one (instead of `budget`). `TokenBucket(capacity: 500.0, cost: 5.0, timeout_cost: 10.0, per_success: 1.0)` (the AWS SDKs' retry quota; Stability Sim's token bucket is `TokenBucket(capacity: 10.0)`): starts full, a retry takes `cost` tokens (`timeout_cost` after a timeout, clients only; both default 1), each successful attempt puts `per_success` back (default 1), no refill with time. `Finagle(percent: 0.2, min_per_second: 10.0, ttl: \"10s\")` (Finagle's RetryBudget with its defaults): retries in the last `ttl` at most `percent` of requests plus `min_per_second` x `ttl`.",
            ),
        ],
    ),
    (
        "Breaker",
        &[
            field(
                "failure_ratio",
                FieldType::Number {
                    min: crate::kind::ABOVE_ZERO,
                    max: 1.0,
                },
                "",
                None,
                "Share of failed attempts in the window that opens it, e.g. 0.5.",
            ),
            field(
                "window",
                FieldType::Duration,
                "",
                None,
                "How far back it looks.",
            ),
            field(
                "min_requests",
                FieldType::Count {
                    min: 0,
                    max: u32::MAX as u64,
                },
                "attempts",
                Some("10"),
                "Attempts needed in the window before it may open.",
            ),
            field(
                "open_for",
                FieldType::Duration,
                "",
                None,
                "How long it stays open before letting one probe through.",
            ),
        ],
    ),
    (
        "Region",
        &[
            field("id", FieldType::Id, "", None, "Unique id."),
            field(
                "nodes",
                FieldType::Nodes(&[]),
                "",
                None,
                "Node ids in this region.",
            ),
            field(
                "sources",
                FieldType::Nested("source ids"),
                "",
                Some("none"),
                "Source ids whose users are here.",
            ),
        ],
    ),
    (
        "Link",
        &[
            field("a", FieldType::Nested("region id"), "", None, "One region."),
            field("b", FieldType::Nested("region id"), "", None, "The other."),
            field(
                "latency",
                FieldType::Duration,
                "",
                None,
                "One-way latency (at most 10s).",
            ),
        ],
    ),
];

#[cfg(test)]
mod input_tests;
#[cfg(test)]
mod range_tests;
