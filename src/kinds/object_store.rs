//! Object store (S3-like): the end of a path that serves objects with a
//! long, variable time to first byte and wide concurrency, and caps the
//! request rate per key prefix. Past `rate` requests a second on one prefix
//! it answers at once with a "slow down" error and a retry-after hint
//! (S3's 503 SlowDown), whatever the rest of the store is doing. Keys
//! spread over `prefixes` prefixes (the request's key modulo the count), so
//! one hot object's prefix is throttled while the store as a whole idles:
//! the reason a CDN in front of an object store is worth having.

use crate::diag::Diagnostics;
use crate::dist::Dist;
use crate::fmt::fmt_big;
use crate::kind::{Algorithm, FieldType, LimitBy, field};
use crate::kinds::rate_limiter::RateLimiterState;
use crate::kinds::{KindModel, KindState, MAP_KEY_BYTES, MemoryCx};
use crate::model::NodeModel;
use crate::sim::requests::RATE_LIMITED;
use crate::sim::{Fault, Simulation};
use crate::time::{SEC, SimTime};
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};

/// Requests served at once when the file does not say.
pub const DEFAULT_CONCURRENCY: u64 = 10_000;
/// Requests a second one prefix serves when the file does not say (S3's
/// documented figure for reads).
pub const DEFAULT_RATE: f64 = 5_500.0;
/// Most prefixes a store may spread its keys over.
pub const MAX_PREFIXES: u64 = 1_000_000;

/// An object store: serves every request itself, up to `rate` requests a
/// second per key prefix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStore {
    /// Unique id.
    pub id: String,
    /// Time to first byte plus transfer, per request.
    pub service: Dist,
    /// Requests served at once (default 10,000); more wait in line.
    #[serde(default)]
    pub concurrency: Option<u64>,
    /// Requests a second one prefix serves before it throttles (default
    /// 5,500).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Key prefixes the objects spread over (default 1).
    #[serde(default)]
    pub prefixes: Option<u64>,
    /// Load-dependent latency: service times multiplied by a curve of the
    /// utilization (absent: none).
    #[serde(default)]
    pub load: Option<crate::kind::LoadCurve>,
}

/// An object store, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectStoreModel {
    /// Requests per ns one prefix serves.
    pub rate: f64,
    /// Key prefixes.
    pub prefixes: u64,
}

impl ObjectStore {
    /// Checks the store (service, concurrency, rate, prefixes).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        if let Err(m) = self.service.check() {
            ds.push(nc.err(m).hint("e.g. `Exponential(mean: \"10ms\")` or `Constant(\"5ms\")`; `bottleneck reference` lists the distributions"));
        }
        if let Some(c) = self.concurrency {
            nc.count("concurrency", c, 1, MAX_SERVERS, ds);
        }
        if let Some(r) = self.rate
            && !(1.0..=MAX_RPS).contains(&r)
        {
            ds.push(
                nc.err(format!(
                    "`rate` is {}; give requests a second, 1 to {}",
                    crate::fmt::fmt_num(r),
                    crate::fmt::fmt_num(MAX_RPS)
                ))
                .hint("S3 serves about 5,500 reads a second per prefix; leave `rate` out for that"),
            );
        }
        if let Some(p) = self.prefixes {
            nc.count("prefixes", p, 1, MAX_PREFIXES, ds);
        }
        nc.load(&self.load, None, ds);
    }

    /// The store in the model's form: a terminal node with `concurrency`
    /// servers and an unbounded line.
    pub(crate) fn compile(&self, _cx: &CompileCx) -> NodeModel {
        let mut m = NodeModel::new(
            &self.id,
            KindModel::ObjectStore(ObjectStoreModel {
                rate: self.rate.unwrap_or(DEFAULT_RATE) / SEC as f64,
                prefixes: self.prefixes.unwrap_or(1),
            }),
            self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            None,
            self.service.sampler(),
        );
        m.exit = 1.0;
        m.load = crate::topology::check::load_model(self.load, None);
        m
    }
}

impl ObjectStoreModel {
    /// One token bucket per prefix that requests reach, for the memory
    /// estimate.
    pub(crate) fn memory(&self, cx: &MemoryCx) -> (String, f64) {
        let k = (self.prefixes as f64).min(cx.key_space).min(cx.reach);
        (
            format!(
                "object store `{}`: up to {} prefix buckets",
                cx.id,
                fmt_big(k)
            ),
            k * MAP_KEY_BYTES,
        )
    }
}

/// What each fault does to an object store.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Servers => Ok("requests served at once (`concurrency`)"),
        other => super::common_effect(other),
    }
}

/// An object store's run-time state: a token bucket per prefix.
#[derive(Clone, Debug)]
pub struct ObjectStoreState {
    buckets: RateLimiterState,
    prefixes: u64,
    /// Requests throttled (after the warm-up).
    pub throttled: u64,
}

impl ObjectStoreState {
    /// The state a store starts with: every prefix's bucket full (one
    /// second of its rate).
    pub(crate) fn of(m: &ObjectStoreModel) -> Self {
        let burst = (m.rate * SEC as f64).max(1.0);
        ObjectStoreState {
            buckets: RateLimiterState::new(
                0,
                m.rate,
                burst,
                SEC,
                Algorithm::TokenBucket,
                LimitBy::Account,
            ),
            prefixes: m.prefixes,
            throttled: 0,
        }
    }
}

impl ObjectStoreState {
    /// Takes edited settings while running (a live edit): a new rate per
    /// prefix is a new bucket size too (one second of it; tokens clamped to
    /// it, see [`RateLimiterState::retune`]); a new prefix count spreads
    /// keys over the new prefixes from now, each bucket keeping its tokens.
    /// Requests already admitted finish as they are.
    pub(crate) fn retune(&mut self, m: &ObjectStoreModel, now: SimTime) {
        let limit = crate::kinds::rate_limiter::RateLimiterModel {
            to: 0,
            rate: m.rate,
            burst: (m.rate * SEC as f64).max(1.0),
            window: SEC,
            algorithm: Algorithm::TokenBucket,
            by: LimitBy::Account,
        };
        self.buckets.retune(&limit, now);
        self.prefixes = m.prefixes;
    }
}

impl Simulation {
    /// A request arrives at object store `i`: its prefix has a token (it
    /// queues as at any node: false), or it is throttled at once (true).
    #[inline]
    pub(crate) fn object_store_admit(&mut self, i: usize, req: u32) -> bool {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::ObjectStore(s) = &mut self.nodes[i].kind else {
            return false;
        };
        match s.buckets.admit(r.key % s.prefixes, now) {
            Ok(()) => false,
            Err(wait) => {
                if counted {
                    s.throttled += 1;
                }
                let q = &mut self.reqs[req];
                q.flags |= RATE_LIMITED;
                q.retry_after = wait;
                self.drop_request(i, req);
                true
            }
        }
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "An object store (S3-like) at the end of a path: a long, variable time to first byte, wide concurrency, and a request rate capped per key prefix. Past `rate` requests a second on one prefix it answers at once with a slow-down error and a retry-after hint. Keys spread over `prefixes` prefixes (key modulo count), so a hot object's prefix is throttled while the store idles: put a CDN in front.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "service",
            FieldType::Dist,
            "",
            None,
            "Time to first byte plus transfer, per request.",
        ),
        field(
            "concurrency",
            FieldType::Count {
                min: 1,
                max: 1_000_000,
            },
            "requests",
            Some("10000"),
            "Requests served at once; more wait in line.",
        ),
        field(
            "rate",
            FieldType::Number {
                min: 1.0,
                max: MAX_RPS,
            },
            "requests/s",
            Some("5500"),
            "Requests a second one prefix serves before it throttles.",
        ),
        field(
            "prefixes",
            FieldType::Count {
                min: 1,
                max: 1_000_000,
            },
            "prefixes",
            Some("1"),
            "Key prefixes the objects spread over (the request's key modulo the count).",
        ),
        crate::kind::LOAD_FIELD,
    ],
    nested: &[],
    example: "ObjectStore(id: \"media\", service: LogNormal(mean: \"40ms\", std: \"20ms\"), rate: 5500, prefixes: 4)",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn model(rate: f64, prefixes: u64) -> ObjectStoreModel {
        ObjectStoreModel {
            rate: rate / SEC as f64,
            prefixes,
        }
    }

    #[test]
    fn a_prefix_serves_its_rate_and_no_more() {
        let mut s = ObjectStoreState::of(&model(100.0, 1));
        // One second's burst, then one token every 10 ms.
        let first: usize = (0..150).filter(|_| s.buckets.admit(0, 0).is_ok()).count();
        assert_eq!(first, 100);
        assert!(s.buckets.admit(0, 5_000_000).is_err());
        assert!(s.buckets.admit(0, 10_000_000).is_ok());
    }

    #[test]
    fn prefixes_have_buckets_of_their_own() {
        let mut s = ObjectStoreState::of(&model(10.0, 4));
        for _ in 0..10 {
            assert!(s.buckets.admit(1, 0).is_ok());
        }
        assert!(s.buckets.admit(1, 0).is_err());
        assert!(s.buckets.admit(2, 0).is_ok());
    }
}
