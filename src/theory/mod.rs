//! The theory lens: what queueing theory predicts for each node and for the
//! whole system, beside what the simulation measured, and why the two part
//! when they do.
//!
//! - [`erlang`]: M/M/c (Erlang C) and M/G/c (Allen-Cunneen) for nodes with
//!   an unbounded queue.
//! - [`mmck`]: M/M/c/K for a bounded queue: blocking and the wait of the
//!   admitted.
//! - [`network`]: an open (Jackson-style) network estimate of end-to-end
//!   latency, the nodes' predicted times weighted by their visit ratios
//!   (the report adds round trips between regions and corrects for fan-outs
//!   and publishes: `report::theory_e2e`).
//! - [`service`]: mean and variance of the time a server is held (an app's
//!   own work plus its calls as configured), the slowest of `n` legs, and a
//!   service's tail past a timeout.
//! - [`filter`]: a rate limiter's long-run pass share.
//! - [`mva`]: closed networks (closed-loop users) by exact Mean Value
//!   Analysis, multi-server stations exact; the asymptotic bounds past its
//!   work limit.
//! - [`demand`]: what the configured traffic asks of each node (a
//!   database's reads and writes mixed as the handlers send them) and
//!   closed-loop users' throughput, for the loader's warnings and `graph`.
//!
//! Each node's prediction starts from its *measured* arrival rate and its
//! *configured* service (mean and squared coefficient of variation from
//! [`crate::dist::Sampler`], servers, queue): given the load that reached
//! it, does the node behave like the textbook queue? The report builds
//! [`NodeTheory`] and [`NetworkTheory`] (`report::theory`); the causes of a
//! divergence are read from what the engine counted there.
//!
//! # Tolerances
//!
//! A comparison agrees when the measured value is within its tolerance of
//! the prediction (constants below; docs/theory.md explains them):
//!
//! | compared | agrees when |
//! |---|---|
//! | utilization | within 5 points (`UTILIZATION_ABS`) |
//! | mean wait | within 30% of the prediction, or within 10% of the mean service time, whichever is larger (`WAIT_REL`, `WAIT_FLOOR`) |
//! | mean time at the node | within 15% (`SOJOURN_REL`) |
//! | blocking | within 25% of the prediction or 1 point, whichever is larger (`BLOCKING_REL`, `BLOCKING_ABS`) |
//! | end-to-end mean | within 25% (`END_TO_END_REL`) |
//! | arrival rate | at most 10% above what the configured traffic sends, by the traffic equations (`ARRIVALS_REL`; not judged for caches, whose fills are not in them, nor when a traffic change ran) |
//! | closed-loop users' throughput | within 10% of MVA's `X(N)` (`THROUGHPUT_REL`) |
//! | an app's wait for a fan-out | within 50% of the expected slowest of `n` legs (`FANOUT_REL`): `T x H(n)` for exponential legs, else from the service distribution of legs that hardly wait (`fanout`) |
//! | a cache's hit ratio | within 3 points of the prediction (`HIT_ABS`); LFU's prediction is a bound: at most 3 points above it |
//!
//! Nothing is judged with fewer than `MIN_VISITS` completed visits.

pub mod birth_death;
pub mod cache;
pub mod demand;
pub mod erlang;
pub mod fanout;
pub mod filter;
pub mod load;
pub mod mmck;
pub mod mva;
pub mod network;
pub mod service;

use serde::Serialize;

/// Utilization: agrees within this many points (absolute).
pub const UTILIZATION_ABS: f64 = 0.05;
/// Mean wait: agrees within this share of the prediction ...
pub const WAIT_REL: f64 = 0.30;
/// ... or within this share of the mean service time, whichever is larger
/// (waits far shorter than the service are noise).
pub const WAIT_FLOOR: f64 = 0.10;
/// Mean time at the node: agrees within this share.
pub const SOJOURN_REL: f64 = 0.15;
/// Blocking: agrees within this share of the prediction ...
pub const BLOCKING_REL: f64 = 0.25;
/// ... or within this many points, whichever is larger.
pub const BLOCKING_ABS: f64 = 0.01;
/// End-to-end mean latency: agrees within this share.
pub const END_TO_END_REL: f64 = 0.25;
/// Arrivals: diverge when the measured rate exceeds what the configured
/// traffic sends (the traffic equations) by more than this share.
pub const ARRIVALS_REL: f64 = 0.10;
/// Closed-loop users' throughput: agrees within this share of MVA's.
pub const THROUGHPUT_REL: f64 = 0.10;
/// A fan-out's wait for its slowest leg: agrees within this share.
pub const FANOUT_REL: f64 = 0.50;
/// A cache's hit ratio: agrees within this many points (absolute) of the
/// prediction (`theory::cache`; LRU by Che, FIFO, TTL; for LFU, whose
/// prediction is a bound, at most this far above it).
pub const HIT_ABS: f64 = 0.03;
/// Fewest completed visits for a verdict.
pub const MIN_VISITS: u64 = 500;

/// The outcome of comparing a node (or the system) with theory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every comparison is within its tolerance.
    Agrees,
    /// At least one comparison is outside its tolerance (see `off` and
    /// `causes`).
    Diverges,
    /// The measured arrivals exceed the node's capacity and its queue is
    /// unbounded: no steady state, so no number is predicted.
    Unstable,
    /// Too few completed visits to judge (fewer than `MIN_VISITS`).
    TooFewVisits,
    /// The node routes requests or only waits on others: no queue of its
    /// own to predict.
    NotAQueue,
    /// The node queues, but no formula here describes it (see `note`).
    NoModel,
}

impl Verdict {
    /// How the table shows it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Agrees => "ok",
            Verdict::Diverges => "DIVERGES",
            Verdict::Unstable => "unstable",
            Verdict::TooFewVisits => "few",
            Verdict::NotAQueue => "-",
            Verdict::NoModel => "n/a",
        }
    }
}

/// One node's prediction beside its measurement.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct NodeTheory {
    /// The verdict.
    pub verdict: Verdict,
    /// The queueing model applied (`M/M/4`, `M/G/4`, `M/M/4/2004`); absent
    /// when none applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What was compared and with which inputs, or why nothing was.
    pub note: String,
    /// Measured arrival rate, visits per second (retries included).
    pub arrival_rps: f64,
    /// The rate the configured traffic alone sends here (the traffic
    /// equations at the sources' base rates, every cache-aside read counted
    /// as a miss); absent where the sources have no fixed rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configured_rps: Option<f64>,
    /// Mean service time the model uses, ms (an app's: its own work plus
    /// the time its workers were measured to wait on calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_ms: Option<f64>,
    /// Predicted rate passed on, per second: a rate limiter's admitted
    /// requests and a one-prefix object store's served ones
    /// (`min(arrivals, rate)`), a CDN's misses to its origin (at the miss
    /// rate it measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed_rps: Option<f64>,
    /// A cache's predicted hit ratio from its capacity, eviction, TTL and
    /// the sources' key popularity (`theory::cache`), beside the measured
    /// `cache.hit_ratio`; absent where it is not predicted (the note says
    /// why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
    /// Squared coefficient of variation of that service time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scv: Option<f64>,
    /// Offered load per server, `arrival_rps x service / servers` (above 1
    /// with an unbounded queue: unstable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_load: Option<f64>,
    /// Predicted utilization (busy servers / servers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// Predicted mean wait before service, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<f64>,
    /// Predicted mean time at the node (wait + service), ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sojourn_ms: Option<f64>,
    /// Predicted share of arrivals turned away (bounded queues).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocking: Option<f64>,
    /// The comparisons outside their tolerance, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub off: Vec<String>,
    /// Why simulation and theory part, from what the engine counted (when
    /// they diverge or the node is unstable).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// Measured mean wait, ms (copied for the one-line summary).
    #[serde(skip)]
    pub measured_wait_ms: Option<f64>,
    /// An app's own work per visit as predicted (the service drawn, slowed
    /// by its load curve), ms, for the end-to-end estimate.
    #[serde(skip)]
    pub own_ms: Option<f64>,
}

impl NodeTheory {
    /// A node with nothing to predict.
    pub fn none(verdict: Verdict, note: impl Into<String>, arrival_rps: f64) -> Self {
        NodeTheory {
            verdict,
            model: None,
            note: note.into(),
            arrival_rps,
            configured_rps: None,
            service_ms: None,
            passed_rps: None,
            hit_ratio: None,
            scv: None,
            offered_load: None,
            utilization: None,
            wait_ms: None,
            sojourn_ms: None,
            blocking: None,
            off: Vec::new(),
            causes: Vec::new(),
            measured_wait_ms: None,
            own_ms: None,
        }
    }

    /// One line for front ends ("theory says: ρ 0.62, wait 3.1 ms (M/M/4);
    /// measured 3.4 ms, within tolerance"); `None` for nodes without a
    /// queue of their own.
    pub fn says(&self) -> Option<String> {
        let model = self.model.as_deref().unwrap_or("no model");
        let first_cause = || {
            self.causes
                .first()
                .map(|c| format!("; why: {c}"))
                .unwrap_or_default()
        };
        match self.verdict {
            Verdict::NotAQueue => None,
            Verdict::NoModel => Some(format!("theory says: nothing ({})", self.note)),
            Verdict::Unstable => Some(format!(
                "theory says: unstable (ρ ≥ 1): arrivals exceed capacity (offered load {:.2} per server, {model}){}",
                self.offered_load.unwrap_or(f64::NAN),
                first_cause()
            )),
            _ => {
                let mut s = format!(
                    "theory says: ρ {:.2}, wait {} ({model})",
                    self.utilization.unwrap_or(0.0),
                    crate::fmt::fmt_ms(self.wait_ms)
                );
                if let Some(b) = self.blocking.filter(|b| *b >= 0.0005) {
                    s.push_str(&format!(", {:.1}% blocked", b * 100.0));
                }
                if let Some(h) = self.hit_ratio {
                    s.push_str(&format!(", hit ratio {:.1}%", h * 100.0));
                }
                s.push_str(&format!(
                    "; measured {}",
                    crate::fmt::fmt_ms(self.measured_wait_ms)
                ));
                match self.verdict {
                    Verdict::Agrees => s.push_str(", within tolerance"),
                    Verdict::TooFewVisits => s.push_str(", too few visits to judge"),
                    _ => {
                        s.push_str(", DIVERGES");
                        s.push_str(&first_cause());
                    }
                }
                Some(s)
            }
        }
    }
}

/// The whole system's estimate: the nodes' predicted times weighted by how
/// often a request visits each (see [`network`]).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct NetworkTheory {
    /// The verdict.
    pub verdict: Verdict,
    /// How the estimate was made, or why there is none.
    pub note: String,
    /// Estimated mean end-to-end latency, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_ms: Option<f64>,
    /// Measured mean end-to-end latency, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_mean_ms: Option<f64>,
    /// Closed-loop users only: the throughput exact MVA predicts for them,
    /// requests per second (`theory::mva`; at most this, by the asymptotic
    /// bounds, when there are too many users to solve exactly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput_rps: Option<f64>,
    /// The nodes that diverge or are unstable, by id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diverging: Vec<String>,
}

/// True when `measured` is within `rel` of `predicted` or within `floor`
/// absolute.
pub fn within(measured: f64, predicted: f64, rel: f64, floor: f64) -> bool {
    (measured - predicted).abs() <= (rel * predicted.abs()).max(floor)
}
