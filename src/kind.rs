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
    /// An object store (S3-like), its request rate capped per key prefix.
    ObjectStore,
}

impl Kind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [Kind; 12] = [
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
        Kind::ObjectStore,
    ];

    /// Its name in files.
    pub const fn name(self) -> &'static str {
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
            Kind::ObjectStore => "ObjectStore",
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
    /// Uniform between `backoff` and three times the previous wait, capped
    /// (AWS's "decorrelated jitter": waits grow, but not in lockstep).
    Decorrelated,
}

/// Load-dependent latency: a service time drawn at utilization `u` (the
/// share of the node's servers busy, counting the request starting) is
/// multiplied by the curve's value at `u`. GC pressure, lock and cache
/// contention, thrashing: real servers slow down as they fill.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LoadCurve {
    /// `1 + factor x u`.
    Linear {
        /// Extra slowness when saturated: 2 is three times slower at u = 1.
        factor: f64,
    },
    /// `1 + factor x u^exponent` (`load_factor: f` is `Polynomial(factor:
    /// f, exponent: 2)`).
    Polynomial {
        /// Extra slowness when saturated.
        factor: f64,
        /// How late the slow-down comes: the higher, the more it waits for
        /// saturation (default 2).
        #[serde(default = "two")]
        exponent: f64,
    },
    /// `e^(factor x u)`: already `e^(factor/N)` times slower with one of N
    /// servers busy (GC death spirals).
    Exponential {
        /// Growth rate: `e^factor` times slower when saturated.
        factor: f64,
    },
}

fn two() -> f64 {
    2.0
}

/// Largest `factor` of a linear or polynomial curve.
pub const MAX_LOAD_FACTOR: f64 = 1000.0;
/// Largest `factor` of an exponential curve (e^12: about 163,000 times
/// slower when saturated).
pub const MAX_LOAD_GROWTH: f64 = 12.0;
/// Largest exponent of a polynomial curve.
pub const MAX_LOAD_EXPONENT: f64 = 20.0;

impl LoadCurve {
    /// What the older `load_factor: f` means: `1 + f x u^2`.
    pub fn quadratic(factor: f64) -> LoadCurve {
        LoadCurve::Polynomial {
            factor,
            exponent: 2.0,
        }
    }

    /// The multiplier at utilization `u` (0 to 1). Portable: `libm`, and
    /// exact squaring for the quadratic curve.
    #[inline]
    pub fn at(&self, u: f64) -> f64 {
        match *self {
            LoadCurve::Linear { factor } => 1.0 + factor * u,
            LoadCurve::Polynomial { factor, exponent } => {
                if exponent == 2.0 {
                    1.0 + factor * u * u
                } else if exponent == 1.0 {
                    1.0 + factor * u
                } else {
                    1.0 + factor * libm::pow(u, exponent)
                }
            }
            LoadCurve::Exponential { factor } => libm::exp(factor * u),
        }
    }

    /// True when it never changes a service time.
    pub fn is_flat(&self) -> bool {
        match *self {
            LoadCurve::Linear { factor }
            | LoadCurve::Polynomial { factor, .. }
            | LoadCurve::Exponential { factor } => factor == 0.0,
        }
    }

    /// Explains a parameter out of range.
    pub fn check(&self) -> Result<(), String> {
        let bad = |v: f64, lo: f64, hi: f64| !v.is_finite() || v < lo || v > hi;
        match *self {
            LoadCurve::Linear { factor } | LoadCurve::Polynomial { factor, .. }
                if bad(factor, 0.0, MAX_LOAD_FACTOR) =>
            {
                Err(format!(
                    "load curve: `factor` is {factor}; give 0 to {MAX_LOAD_FACTOR} (e.g. 2: three times slower when saturated)"
                ))
            }
            LoadCurve::Polynomial { exponent, .. }
                if bad(exponent, 0.0, MAX_LOAD_EXPONENT) || exponent == 0.0 =>
            {
                Err(format!(
                    "load curve: `exponent` is {exponent}; give more than 0 and at most {MAX_LOAD_EXPONENT} (2: quadratic, 3: cubic)"
                ))
            }
            LoadCurve::Exponential { factor } if bad(factor, 0.0, MAX_LOAD_GROWTH) => Err(format!(
                "load curve: Exponential `factor` is {factor}; give 0 to {MAX_LOAD_GROWTH} (e.g. 4: e^4, about 55 times slower when saturated)"
            )),
            _ => Ok(()),
        }
    }
}

/// The `load` field every serving kind has, described once.
pub const LOAD_FIELD: Field = field(
    "load",
    FieldType::Nested("load curve"),
    "",
    Some("none"),
    "Load-dependent latency: each service time is multiplied by a curve of the utilization u (busy servers / servers, counting the request starting) when it starts: `Linear(factor: 2.0)` is 1 + 2u; `Polynomial(factor: 4.0, exponent: 3.0)` is 1 + 4u^3 (exponent 2 unless given); `Exponential(factor: 4.0)` is e^(4u) (GC pressure). A slow-down (`Slow`) multiplies on top.",
);

/// The older `load_factor` field (App, Database), described once.
pub const LOAD_FACTOR_FIELD: Field = field(
    "load_factor",
    FieldType::Number {
        min: 0.0,
        max: 1000.0,
    },
    "",
    Some("0"),
    "Load-dependent latency (GC pressure, contention): service times are multiplied by 1 + load_factor x utilization^2 (the same as `load: Polynomial(factor: load_factor)`; give one or the other).",
);

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

/// The `min` of a [`FieldType::Number`] whose range is open at 0: any
/// number above 0 (a weight, a limit, a share that must be some).
pub const ABOVE_ZERO: f64 = f64::MIN_POSITIVE;

/// What a field of the file format holds, for the reference and the
/// sandbox's property editor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldType {
    /// The node's id.
    Id,
    /// A whole number within a range.
    Count {
        /// Smallest value.
        min: u64,
        /// Largest value.
        max: u64,
    },
    /// A number within a range.
    Number {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
    },
    /// A share from 0 to 1.
    Ratio,
    /// A duration with a unit: `"250ms"`, `"1m30s"`.
    Duration,
    /// A distribution of times: `Exponential(mean: "10ms")`, ...
    Dist,
    /// `true` or `false`.
    Bool,
    /// One node's id, of one of these kinds (any kind when empty).
    Node(&'static [Kind]),
    /// A list of node ids, of these kinds (any kind when empty).
    Nodes(&'static [Kind]),
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A list of class names.
    Classes,
    /// Something with fields of its own (shown in its own table).
    Nested(&'static str),
}

impl FieldType {
    /// As the reference writes it.
    pub fn describe(&self) -> String {
        fn kinds(k: &[Kind]) -> String {
            if k.is_empty() {
                "any node".into()
            } else {
                k.iter().map(|k| k.name()).collect::<Vec<_>>().join(" or ")
            }
        }
        match *self {
            FieldType::Id => "id (letters, digits, - _ . : /)".into(),
            FieldType::Count { min, max } => format!("whole number, {min} to {max}"),
            FieldType::Number { min, max } if min == ABOVE_ZERO => {
                format!("number, above 0 to {max}")
            }
            FieldType::Number { min, max } => format!("number, {min} to {max}"),
            FieldType::Ratio => "share, 0 to 1".into(),
            FieldType::Duration => "duration (\"250ms\", \"1m30s\")".into(),
            FieldType::Dist => "distribution".into(),
            FieldType::Bool => "true or false".into(),
            FieldType::Node(k) => format!("id of {}", kinds(k)),
            FieldType::Nodes(k) => format!("list of ids of {}", kinds(k)),
            FieldType::Choice(c) => c.join(" | "),
            FieldType::Classes => "list of class names".into(),
            FieldType::Nested(n) if n.starts_with(|c: char| c.is_lowercase()) => n.into(),
            FieldType::Nested(n) => format!("`{n}(...)`"),
        }
    }
}

/// One field of the file format, described once: the reference
/// (`docs/reference.md`, `bottleneck reference`) and the sandbox's property
/// editor read it, and a test checks the descriptions name exactly the
/// fields the format has.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    /// Its name in files.
    pub name: &'static str,
    /// What it holds.
    pub ty: FieldType,
    /// Its unit, if a number has one (`"requests/s"`, `"keys"`).
    pub unit: &'static str,
    /// What it is when left out; `None` when it must be given.
    pub default: Option<&'static str>,
    /// What it means.
    pub about: &'static str,
}

/// A field description (for the `FIELDS` tables).
pub const fn field(
    name: &'static str,
    ty: FieldType,
    unit: &'static str,
    default: Option<&'static str>,
    about: &'static str,
) -> Field {
    Field {
        name,
        ty,
        unit,
        default,
        about,
    }
}
