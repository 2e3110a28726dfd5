//! The slowest of a fan-out's `n` parallel legs, from the leg's own
//! distribution where the model knows it.
//!
//! - Exponential legs of mean `T` (the sojourn, waiting included): the
//!   maximum has mean `T H(n)` (exact for exponential legs).
//! - Legs that hardly wait (the predicted wait at most
//!   [`WAIT_NEGLIGIBLE`] of the leg's time) are their service draws: the
//!   maximum of `n` independent draws has mean
//!   `E[max] = ∫ 1 - (1 - P(S > x))^n dx`, integrated numerically from the
//!   service's tail (exact for a constant: the constant), plus the wait and
//!   any round trip each leg pays alike.
//! - Legs that wait in a queue with a service that is not exponential, or
//!   whose time is not one service draw (an app's calls, a cache's
//!   fetches): not modelled.
//!
//! A tail is called heavy ([`heavy_tail`]) only when the measured p99.9 is
//! well above what an exponential of the same mean gives (`ln(1000) ≈ 6.9`
//! means).

use super::service::{exceeds, harmonic};
use crate::dist::Sampler;

/// A leg's predicted wait, as a share of its time, below which the legs
/// count as their service draws.
pub const WAIT_NEGLIGIBLE: f64 = 0.05;

/// The expected slowest of `n` legs, ns, and how it was found.
#[derive(Clone, Debug, PartialEq)]
pub enum Slowest {
    /// The expected maximum, ns, and words for the model ("exponential
    /// legs", "legs drawn from the service distribution").
    Modelled {
        /// Expected maximum of the `n` legs, ns.
        mean: f64,
        /// How it was found.
        how: String,
    },
    /// Why there is no prediction.
    NotModelled(String),
}

/// The expected slowest of `n` legs, each taking `leg` ns on average
/// (round trip, wait and service), of which `wait` ns waiting in the leg
/// node's queue. `service` is the leg's service distribution when the leg
/// node's time is one draw of it (`None`: its time is calls or fetches).
pub fn slowest(n: u32, service: Option<&Sampler>, leg: f64, wait: f64) -> Slowest {
    match service {
        Some(Sampler::Exponential(_)) => Slowest::Modelled {
            mean: leg * harmonic(n),
            how: format!("exponential legs: x H({n}) = {:.2}", harmonic(n)),
        },
        Some(s) if wait <= WAIT_NEGLIGIBLE * leg => match expected_max(s, n) {
            Some(m) => Slowest::Modelled {
                mean: (leg - s.mean()).max(0.0) + m,
                how: match s {
                    Sampler::Constant(_) => "constant legs: the slowest is the constant".to_string(),
                    _ => "legs drawn from the service distribution".to_string(),
                },
            },
            None => Slowest::NotModelled(
                "the leg's service distribution has no tail the lens can integrate".to_string(),
            ),
        },
        Some(_) => Slowest::NotModelled(
            "the legs wait in a queue and their service is not exponential: their slowest is not modelled".to_string(),
        ),
        None => Slowest::NotModelled(
            "a leg's time is more than one service draw (calls or fetches): its slowest is not modelled".to_string(),
        ),
    }
}

/// The standard normal's upper tail `P(Z > z)`.
fn upper(z: f64) -> f64 {
    0.5 * libm::erfc(z / core::f64::consts::SQRT_2)
}

/// `P(S > x)` for every service distribution but none with an infinite
/// mean; `None` where there is no closed form.
pub fn tail(s: &Sampler, x: f64) -> Option<f64> {
    match *s {
        Sampler::Normal { mean, std } => {
            // Truncated at 0: negatives are redrawn.
            let kept = upper(-mean / std);
            Some(if x <= 0.0 || kept <= 0.0 {
                1.0
            } else {
                (upper((x - mean) / std) / kept).min(1.0)
            })
        }
        Sampler::LogNormal { mu, sigma } => Some(if x <= 0.0 {
            1.0
        } else {
            upper((libm::log(x) - mu) / sigma)
        }),
        Sampler::Mixture(ref parts) => {
            let (mut prev, mut p) = (0.0, 0.0);
            for (cum, part) in parts {
                p += (cum - prev) * tail(part, x)?;
                prev = *cum;
            }
            Some(p)
        }
        _ => exceeds(s, x),
    }
}

/// The expected maximum of `n` independent draws of `s`, ns: exact for a
/// constant and an exponential, else `∫ 1 - (1 - P(S > x))^n dx` by
/// Simpson's rule up to where `n P(S > x)` falls below 1e-9. `None` for
/// an infinite mean, no tail in closed form, or a tail that reaches past
/// 10,000 means.
pub fn expected_max(s: &Sampler, n: u32) -> Option<f64> {
    let mean = s.mean();
    if n == 0 || !mean.is_finite() {
        return (n == 0).then_some(0.0);
    }
    match *s {
        Sampler::Constant(c) => return Some(c),
        Sampler::Exponential(m) => return Some(m * harmonic(n)),
        _ => {}
    }
    let k = f64::from(n);
    let mut hi = mean.max(1.0);
    while k * tail(s, hi)? > 1e-9 {
        hi *= 1.5;
        // A tail this long would need finer steps than the rule takes.
        if hi > 1e4 * mean {
            return None;
        }
    }
    let f = |x: f64| -> Option<f64> {
        let p = tail(s, x)?.clamp(0.0, 1.0);
        Some(if p >= 1.0 {
            1.0
        } else {
            -libm::expm1(k * libm::log1p(-p))
        })
    };
    const STEPS: u32 = 4000;
    let h = hi / f64::from(STEPS);
    let mut sum = f(0.0)? + f(hi)?;
    for i in 1..STEPS {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * f(h * f64::from(i))?;
    }
    Some(sum * h / 3.0)
}

/// True when a measured p99.9 is well above what an exponential of the
/// same mean gives (`mean x ln(1000)`, here with half again for noise):
/// a tail worth calling heavy.
pub fn heavy_tail(p999: f64, mean: f64) -> bool {
    mean > 0.0 && p999 > 1.5 * libm::log(1000.0) * mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_cases() {
        assert_eq!(expected_max(&Sampler::Constant(10e6), 20), Some(10e6));
        let e = expected_max(&Sampler::Exponential(10e6), 20).unwrap();
        assert!((e - 10e6 * harmonic(20)).abs() < 1.0);
        // Uniform(0, 1): the maximum of n has mean n / (n + 1).
        let u = Sampler::Uniform {
            min: 0.0,
            width: 1e6,
        };
        let m = expected_max(&u, 9).unwrap();
        assert!((m - 0.9e6).abs() < 1e2, "{m}");
        // A mixture of exponentials: numeric against the exponential's
        // closed form when both parts are the same.
        let mix = Sampler::Mixture(vec![
            (0.5, Sampler::Exponential(5e6)),
            (1.0, Sampler::Exponential(5e6)),
        ]);
        let x = expected_max(&mix, 50).unwrap();
        assert!((x / (5e6 * harmonic(50)) - 1.0).abs() < 1e-3, "{x}");
    }

    #[test]
    fn constant_legs_are_not_exponential() {
        let s = Sampler::Constant(10e6);
        match slowest(20, Some(&s), 10e6, 0.0) {
            Slowest::Modelled { mean, .. } => assert!((mean - 10e6).abs() < 1.0),
            other => panic!("{other:?}"),
        }
        assert!(!heavy_tail(10e6, 10e6));
        assert!(heavy_tail(1000e6, 19.9e6));
    }
}
