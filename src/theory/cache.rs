//! A cache's hit ratio predicted from its configuration: key popularity
//! (`crate::keys::Keys`), capacity, eviction and TTL, under the
//! independent reference model (each lookup's key drawn afresh from the
//! popularity law, lookups Poisson at `λ` a second, key `i` at `λ pᵢ`).
//!
//! - **LRU** (Che's approximation): the characteristic time `T` solves
//!   `Σ (1 - e^{-pᵢ λ T}) = C`; key `i` hits with `1 - e^{-pᵢ λ T}`.
//! - **FIFO** (and RANDOM; Martina, Garetto, Leonardi 2014, "A unified
//!   approach to the performance analysis of caching systems"): `T` solves
//!   `Σ pᵢλT / (1 + pᵢλT) = C`; key `i` hits with `pᵢλT / (1 + pᵢλT)`.
//! - **LFU** with static popularity: the `C` most popular keys' share. It
//!   is an upper bound (the best any eviction can do under this model): the
//!   engine evicts the least used of 5 sampled entries, as Redis does, and
//!   with little skew it keeps less popular keys (measured up to 7 points
//!   below).
//! - **TTL**, set on a miss and not refreshed by hits: key `i` is held for
//!   `TTL` after each miss, during which its `λ pᵢ TTL` requests on average
//!   hit: `1 - 1 / (1 + λ pᵢ TTL)`.
//!
//! The hit ratio is `Σ pᵢ hᵢ`. A capacity at least the number of keys never
//! evicts (TTL alone decides, or every key hits once loaded); a TTL cache
//! whose expected occupancy `Σ hᵢ` stays below the capacity is TTL-bound;
//! when both bind there is no prediction (the note says so).
//!
//! Up to a million keys are summed one by one; beyond that the first
//! [`EXACT`] keys are, and the Zipf tail is integrated (Simpson's rule in
//! `ln k` on [`NODES`] points), so a law of 2⁴⁰ keys costs the same as one of
//! a million. `T` is found by bisection (about 100 halvings). Nothing here
//! runs per event: the report calls it once per cache.

use crate::keys::Keys;

/// Keys summed one by one before the tail is integrated.
pub const EXACT: u64 = 1_000_000;
/// Quadrature points for the tail (even).
pub const NODES: usize = 4_000;

/// How entries leave for room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Least recently used.
    Lru,
    /// First in, first out, or random replacement.
    Fifo,
    /// Least frequently used (static popularity: the top `C` stay).
    Lfu,
}

/// The popularity law as groups of keys of equal probability:
/// `(how many keys, probability of each)`, the probabilities summing to 1.
pub fn groups(keys: &Keys) -> Vec<(f64, f64)> {
    match *keys {
        Keys::Uniform { keys } => vec![(keys as f64, 1.0 / keys as f64)],
        Keys::Celebrity { keys, share } => {
            if keys <= 1 {
                vec![(1.0, 1.0)]
            } else {
                vec![
                    (1.0, share),
                    ((keys - 1) as f64, (1.0 - share) / (keys - 1) as f64),
                ]
            }
        }
        Keys::Zipf { keys, s } => zipf(keys, s),
    }
}

/// Zipf(n, s): `k^-s`, normalized; exact up to [`EXACT`] keys, then the
/// tail `∫ x^-s dx` over `[EXACT + 1/2, n + 1/2]` by Simpson's rule in
/// `ln x` (each point a group of `x dx` keys).
fn zipf(n: u64, s: f64) -> Vec<(f64, f64)> {
    let exact = n.min(EXACT);
    let mut out: Vec<(f64, f64)> = (1..=exact)
        .map(|k| (1.0, libm::pow(k as f64, -s)))
        .collect();
    if n > exact {
        let (lo, hi) = (libm::log(exact as f64 + 0.5), libm::log(n as f64 + 0.5));
        let h = (hi - lo) / NODES as f64;
        for j in 0..=NODES {
            let simpson = if j == 0 || j == NODES {
                1.0
            } else if j % 2 == 1 {
                4.0
            } else {
                2.0
            };
            let x = libm::exp(lo + h * j as f64);
            out.push((simpson * h / 3.0 * x, libm::pow(x, -s)));
        }
    }
    let norm: f64 = out.iter().map(|(c, w)| c * w).sum();
    for g in &mut out {
        g.1 /= norm;
    }
    out
}

/// What is predicted.
#[derive(Clone, Debug, PartialEq)]
pub struct Predicted {
    /// The hit ratio.
    pub hit_ratio: f64,
    /// How, in words (the formula and what bound it).
    pub how: String,
}

/// The hit ratio of a cache of `capacity` keys with `policy`, entries
/// expiring `ttl` seconds after a miss (`None`: never), `lambda` lookups a
/// second drawn from `g` ([`groups`]). `Err` (in words) when both the
/// capacity and the TTL bind.
pub fn hit_ratio(
    g: &[(f64, f64)],
    capacity: u64,
    policy: Policy,
    ttl: Option<f64>,
    lambda: f64,
) -> Result<Predicted, String> {
    let n: f64 = g.iter().map(|x| x.0).sum();
    let cap = capacity as f64;
    let sum = |h: &dyn Fn(f64) -> f64| g.iter().map(|&(c, p)| c * p * h(p)).sum::<f64>();
    let occupancy = |h: &dyn Fn(f64) -> f64| g.iter().map(|&(c, p)| c * h(p)).sum::<f64>();
    if capacity == 0 {
        return Ok(Predicted {
            hit_ratio: 0.0,
            how: "capacity 0: every lookup misses".into(),
        });
    }
    if let Some(ttl) = ttl {
        let h = |p: f64| {
            let x = lambda * p * ttl;
            x / (1.0 + x)
        };
        let held = occupancy(&h);
        if cap >= n || held <= 0.98 * cap {
            return Ok(Predicted {
                hit_ratio: sum(&h),
                how: format!(
                    "TTL set on a miss: key i hits with 1 - 1/(1 + λ pᵢ TTL); {held:.0} keys held on average, within the capacity"
                ),
            });
        }
        return Err(format!(
            "both the capacity ({capacity} keys) and the TTL bind (the TTL alone would hold {held:.0} keys): not predicted"
        ));
    }
    if cap >= n {
        return Ok(Predicted {
            hit_ratio: 1.0,
            how: "room for every key and no TTL: every lookup hits once the key is loaded".into(),
        });
    }
    Ok(match policy {
        Policy::Lfu => {
            // The top C keys: groups come in falling probability.
            let (mut left, mut hit) = (cap, 0.0);
            let mut sorted = g.to_vec();
            sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (c, p) in sorted {
                let take = c.min(left);
                hit += take * p;
                left -= take;
                if left <= 0.0 {
                    break;
                }
            }
            Predicted {
                hit_ratio: hit.min(1.0),
                how: format!(
                    "LFU with static popularity: at most the {capacity} most popular keys' share (a bound: the engine's sampled LFU keeps some less popular ones)"
                ),
            }
        }
        Policy::Lru | Policy::Fifo => {
            let h = |p: f64, t: f64| match policy {
                Policy::Lru => -libm::expm1(-p * t),
                _ => p * t / (1.0 + p * t),
            };
            // Bisection on T (in lookups) for occupancy = C.
            let (mut lo, mut hi) = (0.0f64, 1.0f64);
            while occupancy(&|p| h(p, hi)) < cap && hi < 1e300 {
                hi *= 4.0;
            }
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if occupancy(&|p| h(p, mid)) < cap {
                    lo = mid;
                } else {
                    hi = mid;
                }
                if hi - lo <= 1e-12 * hi {
                    break;
                }
            }
            let t = 0.5 * (lo + hi);
            Predicted {
                hit_ratio: sum(&|p| h(p, t)).clamp(0.0, 1.0),
                how: match policy {
                    Policy::Lru => format!(
                        "LRU by Che's approximation: characteristic time {} lookups, key i hits with 1 - e^(-pᵢ T)",
                        crate::fmt::fmt_count(t as u64)
                    ),
                    _ => format!(
                        "FIFO by Martina-Garetto-Leonardi: characteristic time {} lookups, key i hits with pᵢT/(1 + pᵢT)",
                        crate::fmt::fmt_count(t as u64)
                    ),
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_integral_matches_the_exact_sum() {
        // 3M keys: exact sums against the integrated tail.
        let (n, s) = (3_000_000u64, 0.9);
        let exact: Vec<f64> = {
            let w: Vec<f64> = (1..=n).map(|k| libm::pow(k as f64, -s)).collect();
            let z: f64 = w.iter().sum();
            w.into_iter().map(|x| x / z).collect()
        };
        let g = groups(&Keys::Zipf { keys: n, s });
        assert!(g.len() < EXACT as usize + NODES + 2);
        let keys: f64 = g.iter().map(|x| x.0).sum();
        assert!((keys - n as f64).abs() < 1e-6 * n as f64, "{keys}");
        for cap in [1_000u64, 100_000, 2_000_000] {
            let che = hit_ratio(&g, cap, Policy::Lru, None, 1.0)
                .unwrap()
                .hit_ratio;
            let grouped: Vec<(f64, f64)> = exact.iter().map(|&p| (1.0, p)).collect();
            let truth = hit_ratio(&grouped, cap, Policy::Lru, None, 1.0)
                .unwrap()
                .hit_ratio;
            assert!((che - truth).abs() < 1e-4, "C {cap}: {che} vs {truth}");
        }
    }

    #[test]
    fn closed_forms() {
        // Uniform over 100 keys, room for 10: LFU and FIFO/LRU all 10%.
        let g = groups(&Keys::Uniform { keys: 100 });
        for p in [Policy::Lru, Policy::Fifo, Policy::Lfu] {
            let h = hit_ratio(&g, 10, p, None, 1.0).unwrap().hit_ratio;
            assert!((h - 0.1).abs() < 1e-9, "{p:?} {h}");
        }
        // TTL: 10 keys at 1/s each, TTL 1 s: 1 - 1/2 = 0.5.
        let g = groups(&Keys::Uniform { keys: 10 });
        let h = hit_ratio(&g, 1_000, Policy::Lru, Some(1.0), 10.0).unwrap();
        assert!((h.hit_ratio - 0.5).abs() < 1e-12);
        // Both binding: refused in words.
        assert!(hit_ratio(&g, 2, Policy::Lru, Some(100.0), 10.0).is_err());
        // LRU below FIFO's ... no: FIFO below LRU under skewed popularity.
        let z = groups(&Keys::Zipf {
            keys: 10_000,
            s: 1.0,
        });
        let lru = hit_ratio(&z, 100, Policy::Lru, None, 1.0)
            .unwrap()
            .hit_ratio;
        let fifo = hit_ratio(&z, 100, Policy::Fifo, None, 1.0)
            .unwrap()
            .hit_ratio;
        let lfu = hit_ratio(&z, 100, Policy::Lfu, None, 1.0)
            .unwrap()
            .hit_ratio;
        assert!(fifo < lru && lru < lfu, "{fifo} {lru} {lfu}");
    }
}
