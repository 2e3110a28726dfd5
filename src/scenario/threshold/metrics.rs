//! The metrics thresholds may name: what each measures, its unit and what
//! it may be about (end to end, a node, a node of some kinds).

use super::Unit;

/// What a metric needs as its argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Arg {
    /// End to end only: `error_rate`, `amplification`.
    None,
    /// End to end without an argument (or `end_to_end`), or one node.
    Either,
    /// A node of one of these kinds (empty: any kind).
    Node(&'static [&'static str]),
    /// A read-through cache: a `Cache` with a `backend`.
    ReadThrough,
}

/// A metric people can put a threshold on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// Its name in thresholds.
    pub name: &'static str,
    /// What it means, for `--help` and error hints.
    pub about: &'static str,
    /// Its unit.
    pub unit: Unit,
    pub(super) arg: Arg,
    /// Counted over the whole run by the component (not per cohort): in a
    /// window it is the difference between the window's end and start.
    pub(super) cumulative: bool,
}

impl Metric {
    /// Where it applies, as the reference says it: `end to end`, `end to
    /// end or a node`, or the kinds of node it names.
    pub fn scope(&self) -> String {
        match self.arg {
            Arg::None => "end to end".into(),
            Arg::Either => "end to end, or one node: `metric(node)`".into(),
            Arg::Node([]) => "a node: `metric(node)`".into(),
            Arg::Node(kinds) => format!("a node: `metric(node)` of kind {}", kinds.join(" or ")),
            Arg::ReadThrough => {
                "a read-through cache: `metric(node)` of a Cache with a `backend`".into()
            }
        }
    }

    /// Why it cannot name node `id` of `kind` (`read_through`: a cache
    /// with a `backend`), as a message and a hint; `None` if it can.
    pub fn refuses(&self, id: &str, kind: &str, read_through: bool) -> Option<(String, String)> {
        let name = self.name;
        match self.arg {
            Arg::ReadThrough if kind != "Cache" => Some((
                format!(
                    "`{name}` applies to a read-through cache; `{id}` is {}",
                    crate::fmt::a(kind)
                ),
                "name a Cache with a `backend`".into(),
            )),
            Arg::ReadThrough if !read_through => Some((
                format!(
                    "`{name}` applies to a read-through cache; `{id}` is a cache-aside Cache (no `backend`)"
                ),
                format!(
                    "give `{id}` a `backend` to read misses from, or judge it by `hit_ratio({id})`"
                ),
            )),
            // A node that only hands requests on, at once, holds none: it
            // has no response time, busy servers or queue to measure (the
            // run's table shows `-` there).
            Arg::Either | Arg::Node([])
                if TIMED.contains(&name)
                    && crate::kind::Kind::from_name(kind).is_some_and(|k| k.routes_only()) =>
            {
                Some((
                    format!(
                        "`{name}({id})` would always be 0: a {kind} hands requests on at once, with no servers or queue of its own"
                    ),
                    format!(
                        "measure what `{id}` sends to, `{name}` end to end, or what it counts (`error_rate({id})`, `throughput({id})`{})",
                        if kind == "RateLimiter" {
                            format!(", `rejected({id})`")
                        } else {
                            String::new()
                        }
                    ),
                ))
            }
            Arg::Node(kinds) if !kinds.is_empty() && !kinds.contains(&kind) => Some((
                format!(
                    "`{name}` is measured on {}, and `{id}` is {}",
                    kinds.join(" or "),
                    crate::fmt::a(kind)
                ),
                format!("name {} node", crate::fmt::a(&kinds.join(" or "))),
            )),
            _ => None,
        }
    }

    /// True if it can name a node of `kind` (as written in files).
    pub fn applies_to(&self, kind: &str) -> bool {
        match self.arg {
            Arg::None => false,
            Arg::Either | Arg::Node([]) => true,
            Arg::Node(kinds) => kinds.contains(&kind),
            Arg::ReadThrough => kind == "Cache",
        }
    }
}

/// Metrics of time spent at a node, or of its servers and queue.
const TIMED: &[&str] = &["p50", "p95", "p99", "p999", "mean", "utilization", "queue"];

const CACHES: &[&str] = &["Cache", "Cdn"];
const DATABASES: &[&str] = &["Database", "Replica"];

/// Every metric, in the order `--help` lists them.
pub const METRICS: &[Metric] = &[
    m("p50", "median response time", Unit::Ms, Arg::Either, false),
    m(
        "p95",
        "95th percentile response time",
        Unit::Ms,
        Arg::Either,
        false,
    ),
    m(
        "p99",
        "99th percentile response time",
        Unit::Ms,
        Arg::Either,
        false,
    ),
    m(
        "p999",
        "99.9th percentile response time",
        Unit::Ms,
        Arg::Either,
        false,
    ),
    m("mean", "mean response time", Unit::Ms, Arg::Either, false),
    m(
        "max",
        "slowest response (end to end)",
        Unit::Ms,
        Arg::None,
        false,
    ),
    m(
        "error_rate",
        "share of requests that failed (dropped, errors, timeouts after retries)",
        Unit::Ratio,
        Arg::Either,
        false,
    ),
    m(
        "throughput",
        "completed requests per second",
        Unit::Rps,
        Arg::Either,
        false,
    ),
    m(
        "completed",
        "requests completed",
        Unit::Count,
        Arg::Either,
        false,
    ),
    m(
        "arrivals",
        "requests that arrived",
        Unit::Count,
        Arg::Either,
        false,
    ),
    m(
        "failed",
        "requests that failed",
        Unit::Count,
        Arg::Either,
        false,
    ),
    m(
        "goodput",
        "requests per second answered successfully within the deadline (the scenario's `deadline`, or the client's timeout; retries count against it)",
        Unit::Rps,
        Arg::None,
        false,
    ),
    m(
        "good_ratio",
        "share of requests answered successfully within the deadline",
        Unit::Ratio,
        Arg::None,
        false,
    ),
    m(
        "amplification",
        "attempts per user request (retries amplify load)",
        Unit::Number,
        Arg::None,
        false,
    ),
    m(
        "retries",
        "client retries sent",
        Unit::Count,
        Arg::None,
        false,
    ),
    m(
        "timeouts",
        "client attempts that timed out",
        Unit::Count,
        Arg::None,
        false,
    ),
    m(
        "utilization",
        "busy servers / servers",
        Unit::Ratio,
        Arg::Node(&[]),
        false,
    ),
    m(
        "queue",
        "mean number waiting",
        Unit::Number,
        Arg::Node(&[]),
        false,
    ),
    m(
        "hit_ratio",
        "cache hits / gets",
        Unit::Ratio,
        Arg::Node(CACHES),
        true,
    ),
    // Read-through caches (`Cache` with a `backend`): the fetch counters
    // of `read_through`, differenced over a threshold's window.
    m(
        "fetches",
        "reads a read-through cache sent its backend for misses",
        Unit::Count,
        Arg::ReadThrough,
        true,
    ),
    m(
        "failed_fetches",
        "a read-through cache's fetches that failed (no key filled)",
        Unit::Count,
        Arg::ReadThrough,
        true,
    ),
    m(
        "late_fills",
        "keys a read-through cache filled from an answer whose requester had given up",
        Unit::Count,
        Arg::ReadThrough,
        true,
    ),
    m(
        "shared_fetches",
        "misses at a read-through cache that waited for another request's fetch (single-flight)",
        Unit::Count,
        Arg::ReadThrough,
        true,
    ),
    m(
        "stale_reads",
        "reads that returned an old value",
        Unit::Count,
        Arg::Node(&["Replica"]),
        true,
    ),
    m(
        "stale_ratio",
        "stale reads / reads",
        Unit::Ratio,
        Arg::Node(&["Replica"]),
        true,
    ),
    m(
        "connections",
        "mean connections in use",
        Unit::Number,
        Arg::Node(DATABASES),
        false,
    ),
    m(
        "refused",
        "queries refused: every connection in use",
        Unit::Count,
        Arg::Node(DATABASES),
        false,
    ),
    m(
        "duplicate_writes",
        "writes applied twice (double charges)",
        Unit::Count,
        Arg::Node(&["Database"]),
        true,
    ),
    m(
        "lost_writes",
        "writes lost at failover",
        Unit::Count,
        Arg::Node(&["Database"]),
        true,
    ),
    m(
        "pool_refused",
        "calls failed because the pool could not open a connection",
        Unit::Count,
        Arg::Node(&["App"]),
        true,
    ),
    m(
        "pool_waits",
        "calls that waited for a pool connection",
        Unit::Count,
        Arg::Node(&["App"]),
        true,
    ),
    m(
        "instances",
        "app instances at the end",
        Unit::Count,
        Arg::Node(&["App"]),
        false,
    ),
    m(
        "rejected",
        "requests refused by a rate limiter (429)",
        Unit::Count,
        Arg::Node(&["RateLimiter"]),
        true,
    ),
    m(
        "dead_lettered",
        "messages that failed every delivery",
        Unit::Count,
        Arg::Node(&["Queue"]),
        true,
    ),
    m(
        "duplicates",
        "messages whose side effect happened twice",
        Unit::Count,
        Arg::Node(&["Queue"]),
        true,
    ),
    // Session sources (closed-loop users walking tasks): see `sessions.rs`.
    m(
        "sessions_completed",
        "sessions whose every request succeeded (session sources; `{source:ID}` for one)",
        Unit::Count,
        Arg::None,
        false,
    ),
    m(
        "sessions_abandoned",
        "sessions given up at a failed request (`on_failure: Abandon`)",
        Unit::Count,
        Arg::None,
        false,
    ),
    m(
        "session_completion",
        "of the sessions that ended (completed, abandoned or with failures; not those still under way or whose user left), the share completed",
        Unit::Ratio,
        Arg::None,
        false,
    ),
    m(
        "session_p50",
        "median duration of a completed session, think times included (`{source:ID}` when there are several)",
        Unit::Ms,
        Arg::None,
        false,
    ),
    m(
        "session_p99",
        "99th percentile duration of a completed session",
        Unit::Ms,
        Arg::None,
        false,
    ),
];

const fn m(
    name: &'static str,
    about: &'static str,
    unit: Unit,
    arg: Arg,
    cumulative: bool,
) -> Metric {
    Metric {
        name,
        about,
        unit,
        arg,
        cumulative,
    }
}

/// The names of every metric, for hints.
pub fn metric_names() -> String {
    METRICS
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}
