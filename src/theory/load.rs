//! Load-dependent latency: a node whose service is drawn at utilization `u`
//! (busy servers / servers, counting the request starting) and multiplied
//! by the curve's `g(u)` is slower the busier it is, and busier the slower
//! it is. Its mean service is the fixed point of that loop.
//!
//! A request that arrives to find `n < c` servers busy starts at once at
//! `u = (n + 1) / c`; one that waits starts when a server frees, all of
//! them busy: `u = 1`. With Poisson arrivals (PASTA) and the M/M/c state
//! probabilities at offered load `a`, the mean multiplier is
//! `E[g] = Σ_{n<c} p(n) g((n+1)/c) + C(c, a) g(1)` (`C` Erlang C), and
//! `a = λ (E[S0] E[g] + calls)`, `S0` the service drawn, `calls` the time a
//! server is also held for (an app's calls, which the curve does not
//! scale). Iterated from `g = 1`: the map is increasing, so the iterates
//! climb to the smallest fixed point, or past capacity, where there is
//! none below `ρ = 1`: unstable (the curve makes the node slower than its
//! arrivals can bear, however it started).

use super::erlang::Unstable;
use crate::kind::LoadCurve;

/// The curve's effect at the fixed point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loaded {
    /// `E[g]`: the mean multiplier of the service drawn.
    pub mean: f64,
    /// `E[g²]`, for the service's second moment.
    pub second: f64,
}

/// Most iterations; the tolerance on `E[g]` is relative `1e-9`.
const ITERATIONS: u32 = 200;

/// `E[g]` and `E[g²]` at the fixed point for `c` servers, arrivals `lambda`
/// a second, the service drawn with mean `own` seconds plus `calls` seconds
/// unscaled. `Err` when no fixed point lies below capacity. With `bounded`
/// (a room that turns the excess away) an overloaded node runs saturated:
/// every start at `u = 1`.
pub fn fixed_point(
    curve: &LoadCurve,
    c: u32,
    lambda: f64,
    own: f64,
    calls: f64,
    bounded: bool,
) -> Result<Loaded, Unstable> {
    let saturated = Loaded {
        mean: curve.at(1.0),
        second: curve.at(1.0).powi(2),
    };
    if c == 0 {
        return Err(Unstable { rho: f64::INFINITY });
    }
    let mut g = Loaded {
        mean: 1.0,
        second: 1.0,
    };
    for _ in 0..ITERATIONS {
        let a = lambda.max(0.0) * (own * g.mean + calls);
        let rho = a / c as f64;
        if rho.is_nan() || rho >= 1.0 {
            return if bounded {
                Ok(saturated)
            } else {
                Err(Unstable { rho })
            };
        }
        let next = at_load(curve, c, a);
        let done = (next.mean - g.mean).abs() <= 1e-9 * g.mean;
        g = next;
        if done {
            return Ok(g);
        }
    }
    Ok(g)
}

/// `E[g]` and `E[g²]` over the utilizations services start at, for `c`
/// servers offered `a < c` erlangs (M/M/c's states).
fn at_load(curve: &LoadCurve, c: u32, a: f64) -> Loaded {
    let wait = super::erlang::erlang_c(c, a).unwrap_or(1.0);
    // p(n) for n < c, normalized to 1 - C: by the recurrence a / n,
    // rescaled at the end.
    let (mut sum, mut g1, mut g2, mut t) = (0.0f64, 0.0f64, 0.0f64, 1.0f64);
    for n in 0..c {
        if n > 0 {
            t *= a / n as f64;
        }
        let g = curve.at((n + 1) as f64 / c as f64);
        sum += t;
        g1 += t * g;
        g2 += t * g * g;
        if t > 1e200 || sum > 1e200 {
            t /= 1e200;
            sum /= 1e200;
            g1 /= 1e200;
            g2 /= 1e200;
        }
    }
    let top = curve.at(1.0);
    let free = 1.0 - wait;
    Loaded {
        mean: free * g1 / sum + wait * top,
        second: free * g2 / sum + wait * top * top,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_always_starts_alone() {
        // c = 1: every start counts itself, u = 1: g(1) at any load.
        let curve = LoadCurve::Linear { factor: 2.0 };
        let g = fixed_point(&curve, 1, 10.0, 0.01, 0.0, false).unwrap();
        assert!((g.mean - 3.0).abs() < 1e-12);
        // 10/s x 30 ms = 0.3: stable; 40/s x 30 ms = 1.2: not.
        assert!(fixed_point(&curve, 1, 40.0, 0.01, 0.0, false).is_err());
        assert_eq!(
            fixed_point(&curve, 1, 40.0, 0.01, 0.0, true).unwrap().mean,
            3.0
        );
    }

    #[test]
    fn a_light_load_barely_slows_and_a_heavy_one_tips_over() {
        // 4 servers, 10 ms, Linear 2: at 150/s the curve's loop has no
        // fixed point below capacity (the audit's case, measured 100% busy).
        let curve = LoadCurve::Linear { factor: 2.0 };
        assert!(fixed_point(&curve, 4, 150.0, 0.01, 0.0, false).is_err());
        let light = fixed_point(&curve, 4, 10.0, 0.01, 0.0, false).unwrap();
        // Mostly alone: u = 1/4, g = 1.5.
        assert!(light.mean > 1.5 && light.mean < 1.6, "{light:?}");
        let flat = LoadCurve::Linear { factor: 0.0 };
        assert_eq!(
            fixed_point(&flat, 4, 100.0, 0.01, 0.0, false).unwrap().mean,
            1.0
        );
    }
}
