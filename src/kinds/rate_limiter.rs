//! Rate limiter: passes requests on while under the limit (globally, per
//! client IP, or per account) and refuses the rest at once, with a
//! retry-after hint that well-behaved clients honour.
//!
//! Credential stuffing shows the difference: an attack spread over ten
//! thousand IPs sends each IP's limit only a trickle, so per-IP limiting
//! lets it all through; limited per account, the same attack is refused.

use crate::diag::Diagnostics;
use crate::dist::Sampler;
use crate::fmt::fmt_big;
use crate::fmt::{fmt_count, ratio};
use crate::kind::{Algorithm, LimitBy};
use crate::kind::{FieldType, field};
use crate::kinds::cache::store::KeyMap;
use crate::kinds::{KindModel, KindState};
use crate::kinds::{MAP_KEY_BYTES, MemoryCx};
use crate::model::{NodeModel, RouteModel};
use crate::sim::requests::RATE_LIMITED;
use crate::sim::{Fault, Simulation};
use crate::time::{Duration, SimTime};
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

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
    /// Token bucket size (default: `limit`); `TokenBucket` only (a sliding
    /// window lets `limit` through per `per`).
    #[serde(default)]
    pub burst: Option<f64>,
    /// How it counts (default `TokenBucket`).
    #[serde(default)]
    pub algorithm: Algorithm,
    /// What it counts separately (default `Global`).
    #[serde(default)]
    pub by: LimitBy,
}

/// A rate limiter, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimiterModel {
    /// Where admitted requests go.
    pub to: u32,
    /// Requests per ns.
    pub rate: f64,
    /// Bucket size (token bucket), or the window's limit, `limit` (sliding
    /// window).
    pub burst: f64,
    /// Window length, ns (sliding window).
    pub window: u64,
    /// How it counts.
    pub algorithm: Algorithm,
    /// What it counts separately.
    pub by: LimitBy,
}

impl RateLimiter {
    /// Checks the limiter (target, limit, period, burst).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let l = self;

        nc.on_path(&l.to, "to", ds);
        if l.to == l.id {
            ds.push(
                nc.err("the rate limiter sends to itself".into())
                    .hint("point `to:` at the node it protects"),
            );
        }
        if !l.limit.is_finite() || l.limit <= 0.0 || l.limit > MAX_RPS {
            ds.push(
                nc.err(format!(
                    "`limit` is {}; give a number of requests above 0 and at most {}",
                    crate::fmt::fmt_num(l.limit),
                    crate::fmt::fmt_num(MAX_RPS)
                ))
                .hint(format!(
                    "requests allowed per `per`, above 0 and at most {}; to refuse everything, take the route away instead",
                    crate::fmt::fmt_num(MAX_RPS)
                )),
            );
        }
        if l.per.0 == 0 {
            ds.push(nc.err("`per` is 0".into()).hint("e.g. `per: \"1s\"`"));
        }
        if l.burst.is_some() && l.algorithm == Algorithm::SlidingWindow {
            ds.push(
                nc.err("`burst` is given with `algorithm: SlidingWindow`, which has no bucket".into())
                    .hint("a sliding window lets through `limit` per `per` and no burst: take `burst` away, or use `algorithm: TokenBucket`"),
            );
        }
        if l.burst
            .is_some_and(|b| !b.is_finite() || !(1.0..=MAX_RPS).contains(&b))
        {
            ds.push(
                nc.err(format!(
                    "`burst` is {}; give 1 to {}",
                    crate::fmt::fmt_num(l.burst.unwrap_or(0.0)),
                    crate::fmt::fmt_num(MAX_RPS)
                ))
                .hint("the most requests let through at once; leave it out to use `limit`"),
            );
        }
    }

    /// The limiter in the model's form: it hands what it admits on at once.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let to = cx.ix(&self.to);
        let mut m = NodeModel::new(
            &self.id,
            KindModel::RateLimiter(RateLimiterModel {
                to,
                rate: self.limit / self.per.0 as f64,
                burst: match self.algorithm {
                    // A window lets `limit` through per `per` (`burst` is
                    // refused with it).
                    Algorithm::SlidingWindow => self.limit,
                    Algorithm::TokenBucket => self.burst.unwrap_or(self.limit),
                },
                window: self.per.0,
                algorithm: self.algorithm,
                by: self.by,
            }),
            u32::MAX as u64,
            None,
            Sampler::Constant(0.0),
        );
        m.flows = vec![RouteModel {
            to: to as usize,
            p: 1.0,
        }];
        m.exit = 0.0;
        m
    }
}

/// What each fault does to a rate limiter.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    super::hands_on_effect(fault)
}

/// A rate limiter's run-time state.
#[derive(Clone, Debug)]
pub struct RateLimiterState {
    /// Where admitted requests go.
    pub to: u32,
    rate: f64,
    burst: f64,
    window: u64,
    algorithm: Algorithm,
    by: LimitBy,
    /// Token buckets: (tokens, last refill).
    buckets: KeyMap<(f64, SimTime)>,
    /// Sliding windows: (window number, previous count, current count).
    windows: KeyMap<(u64, u32, u32)>,
    /// Requests refused (after the warm-up).
    pub rejected: u64,
}

impl RateLimiterState {
    /// The state a limiter starts with.
    pub(crate) fn of(m: &RateLimiterModel) -> Self {
        RateLimiterState::new(m.to, m.rate, m.burst, m.window, m.algorithm, m.by)
    }

    /// A limiter of `rate` per ns with `burst`.
    pub fn new(
        to: u32,
        rate: f64,
        burst: f64,
        window: u64,
        algorithm: Algorithm,
        by: LimitBy,
    ) -> Self {
        RateLimiterState {
            to,
            rate,
            burst,
            window,
            algorithm,
            by,
            buckets: KeyMap::default(),
            windows: KeyMap::default(),
            rejected: 0,
        }
    }

    /// Takes edited settings while running (a live edit). A new rate
    /// refills from now (each bucket is first brought up to date at the old
    /// rate); a smaller burst clamps every bucket's tokens to it (a larger
    /// one lets them fill further); the sliding windows keep their counts.
    /// A new algorithm or a new way of counting (`by`) starts its counters
    /// fresh, as at the start: the old ones count something else. Requests
    /// it passed on are gone from it already: it holds none.
    pub(crate) fn retune(&mut self, m: &RateLimiterModel, now: SimTime) {
        self.to = m.to;
        if m.algorithm != self.algorithm || m.by != self.by {
            self.buckets.clear();
            self.windows.clear();
        }
        let (rate, burst) = (self.rate, m.burst);
        for (tokens, last) in self.buckets.values_mut() {
            // (Each entry on its own: the map's order does not matter.)
            *tokens = (*tokens + now.saturating_sub(*last) as f64 * rate)
                .min(self.burst)
                .min(burst);
            *last = now;
        }
        self.rate = m.rate;
        self.burst = m.burst;
        self.window = m.window;
        self.algorithm = m.algorithm;
        self.by = m.by;
    }

    /// Tokens in `key`'s bucket, as last brought up to date (for tests).
    #[cfg(test)]
    pub(crate) fn tokens(&self, key: u64) -> Option<f64> {
        self.buckets.get(&key).map(|b| b.0)
    }

    /// Admits one request for `key` at `now`, or says how long to wait.
    pub fn admit(&mut self, key: u64, now: SimTime) -> Result<(), u64> {
        match self.algorithm {
            Algorithm::TokenBucket => {
                let (tokens, last) = self.buckets.entry(key).or_insert((self.burst, now));
                *tokens = (*tokens + (now - *last) as f64 * self.rate).min(self.burst);
                *last = now;
                if *tokens >= 1.0 {
                    *tokens -= 1.0;
                    Ok(())
                } else {
                    Err(((1.0 - *tokens) / self.rate).ceil() as u64)
                }
            }
            Algorithm::SlidingWindow => {
                let n = now / self.window;
                let w = self.windows.entry(key).or_insert((n, 0, 0));
                if w.0 != n {
                    *w = (n, if w.0 + 1 == n { w.2 } else { 0 }, 0);
                }
                let elapsed = (now - n * self.window) as f64 / self.window as f64;
                let estimate = w.1 as f64 * (1.0 - elapsed) + w.2 as f64;
                if estimate < self.burst {
                    w.2 += 1;
                    Ok(())
                } else {
                    Err((n + 1) * self.window - now)
                }
            }
        }
    }
}

impl Simulation {
    /// Rate limiter `i` lets `req` through to its target, or refuses it.
    pub(crate) fn rate_limiter_admit(&mut self, i: usize, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::RateLimiter(l) = &mut self.nodes[i].kind else {
            unreachable!("rate_limiter_admit on a rate limiter")
        };
        let key = match l.by {
            LimitBy::Global => 0,
            LimitBy::Ip => r.ip as u64,
            LimitBy::Account => r.key,
        };
        match l.admit(key, now) {
            Ok(()) => {
                let to = l.to;
                self.forward(i, to as usize, req);
            }
            Err(wait) => {
                if counted {
                    l.rejected += 1;
                }
                let q = &mut self.reqs[req];
                q.flags |= RATE_LIMITED;
                q.retry_after = wait;
                self.drop_request(i, req);
            }
        }
    }
}

/// The line the table prints for a limiter that refused `rej` of
/// `arrivals` requests.
pub fn write_lines(id: &str, rej: u64, arrivals: u64, out: &mut String) {
    let _ = writeln!(
        out,
        "{id}: refused {} requests ({:.1}%) over the limit",
        fmt_count(rej),
        ratio(rej, arrivals) * 100.0
    );
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "Passes up to `limit` requests per `per` (for each IP, account, or all together) on to `to`, and refuses the rest at once with a retry-after hint that well-behaved clients honour.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "to",
            FieldType::Node(&[]),
            "",
            None,
            "Where admitted requests go.",
        ),
        field(
            "limit",
            FieldType::Number {
                min: crate::kind::ABOVE_ZERO,
                max: MAX_RPS,
            },
            "requests",
            None,
            "Requests allowed per `per`.",
        ),
        field(
            "per",
            FieldType::Duration,
            "",
            None,
            "The period of the limit.",
        ),
        field(
            "burst",
            FieldType::Number {
                min: 1.0,
                max: MAX_RPS,
            },
            "requests",
            Some("limit"),
            "Token bucket size (`TokenBucket` only; refused with `SlidingWindow`, which lets `limit` through per `per`).",
        ),
        field(
            "algorithm",
            FieldType::Choice(&["TokenBucket", "SlidingWindow"]),
            "",
            Some("TokenBucket"),
            "How it counts.",
        ),
        field(
            "by",
            FieldType::Choice(&["Global", "Ip", "Account"]),
            "",
            Some("Global"),
            "What it counts separately (Account: the request's key).",
        ),
    ],
    nested: &[],
    example: "RateLimiter(id: \"limiter\", to: \"auth\", limit: 5, per: \"1m\", by: Account)",
};

impl RateLimiterModel {
    /// The most buckets the limiter keeps over a run, for the memory
    /// estimate.
    pub(crate) fn memory(&self, cx: &MemoryCx) -> (String, f64) {
        let space = match self.by {
            LimitBy::Global => 1.0,
            LimitBy::Ip => cx.ips,
            LimitBy::Account => cx.key_space,
        };
        let k = space.min(cx.reach);
        (
            format!("rate limiter `{}`: up to {} buckets", cx.id, fmt_big(k)),
            k * MAP_KEY_BYTES,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_refills_at_the_rate() {
        // 10 per second, burst 2.
        let mut l = RateLimiterState::new(
            0,
            10.0 / 1e9,
            2.0,
            1_000_000_000,
            Algorithm::TokenBucket,
            LimitBy::Global,
        );
        assert!(l.admit(0, 0).is_ok());
        assert!(l.admit(0, 0).is_ok());
        let wait = l.admit(0, 0).unwrap_err();
        assert_eq!(wait, 100_000_000);
        assert!(l.admit(0, 100_000_000).is_ok());
        assert!(l.admit(7, 0).is_ok(), "another key has its own bucket");
    }

    #[test]
    fn a_live_edit_keeps_tokens_clamped_to_the_new_burst() {
        let mut l = RateLimiterState::new(
            0,
            10.0 / 1e9,
            8.0,
            1_000_000_000,
            Algorithm::TokenBucket,
            LimitBy::Global,
        );
        for _ in 0..3 {
            l.admit(0, 0).unwrap();
        }
        assert_eq!(l.tokens(0), Some(5.0));
        let m = |rate: f64, burst: f64| RateLimiterModel {
            to: 0,
            rate: rate / 1e9,
            burst,
            window: 1_000_000_000,
            algorithm: Algorithm::TokenBucket,
            by: LimitBy::Global,
        };
        // A smaller burst: 5 tokens (plus 0.1 s at the old rate) clamp to 2.
        l.retune(&m(10.0, 2.0), 100_000_000);
        assert_eq!(l.tokens(0), Some(2.0));
        // A larger one: the tokens stay, and fill further at the new rate.
        l.retune(&m(100.0, 20.0), 100_000_000);
        assert_eq!(l.tokens(0), Some(2.0));
        l.admit(0, 200_000_000).unwrap();
        assert!(
            (l.tokens(0).unwrap() - 11.0).abs() < 1e-9,
            "{:?}",
            l.tokens(0)
        );
        // Under the old rate, 10 were refused in between: at the new rate not.
        for _ in 0..11 {
            l.admit(0, 200_000_000).unwrap();
        }
        assert!(l.admit(0, 200_000_000).is_err());
        // A new way of counting starts fresh (full buckets).
        let mut by_ip = m(100.0, 20.0);
        by_ip.by = LimitBy::Ip;
        l.retune(&by_ip, 200_000_000);
        assert_eq!(l.tokens(0), None);
        assert!(l.admit(0, 200_000_000).is_ok());
    }

    #[test]
    fn sliding_window_weighs_the_previous_window() {
        let mut l =
            RateLimiterState::new(0, 0.0, 4.0, 1000, Algorithm::SlidingWindow, LimitBy::Global);
        for t in 0..4 {
            assert!(l.admit(0, t).is_ok());
        }
        assert_eq!(l.admit(0, 10), Err(990));
        // Half-way through the next window, half of the previous 4 still count.
        assert!(l.admit(0, 1500).is_ok());
        assert!(l.admit(0, 1500).is_ok());
        assert!(l.admit(0, 1500).is_err());
    }
}
