//! The time a node's server is held, as the first two moments of its
//! distribution, from the configuration: an app's worker is held for its own
//! work plus its handler's sequential calls, so its squared coefficient of
//! variation (`cs²`, which Allen-Cunneen needs) is that of the sum, not the
//! exponential's 1.
//!
//! - Independent parts add: `E[X+Y] = E[X] + E[Y]`, `Var[X+Y] = Var[X] + Var[Y]`.
//! - Alternatives mix (the handlers by their classes' shares of the
//!   traffic, a cache's hit or miss): `E[X] = Σ w E[X_h]`,
//!   `E[X²] = Σ w (Var[X_h] + E[X_h]²)`.
//! - A call's time is the called node's configured service (through
//!   balancers and routers, their routes mixed; an app's own work plus its
//!   calls, to a depth of [`MAX_DEPTH`]); waiting at the called node is
//!   left out of the shape (the report scales the shape to the call time it
//!   measured).
//! - A fan-out of `n` parallel calls waits for the slowest: with legs taken
//!   as exponential of mean `T`, the maximum has mean `T H(n)` and variance
//!   `T² Σ_{k<=n} 1/k²` (exact for exponential legs: the maximum is a sum
//!   of independent exponentials of means `T/n, T/(n-1), ..., T`).
//! - A publish to a queue is fire and forget: it adds nothing.

use crate::dist::Sampler;
use crate::kinds::KindModel;
use crate::model::Model;
use crate::model::StepModel;

/// Deepest chain of app-calls-app followed; deeper: no model.
pub const MAX_DEPTH: u32 = 8;

/// A duration's mean and variance (ns, ns²).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    /// Mean, ns.
    pub mean: f64,
    /// Variance, ns².
    pub var: f64,
}

impl Moments {
    /// Nothing: zero time.
    pub const ZERO: Moments = Moments {
        mean: 0.0,
        var: 0.0,
    };

    /// A distribution's moments.
    pub fn of(s: &Sampler) -> Self {
        Moments {
            mean: s.mean(),
            var: s.variance(),
        }
    }

    /// The sum of two independent durations.
    pub fn plus(self, o: Moments) -> Self {
        Moments {
            mean: self.mean + o.mean,
            var: self.var + o.var,
        }
    }

    /// `Var / mean²` (0 for a zero mean).
    pub fn scv(self) -> f64 {
        if self.mean > 0.0 {
            self.var / (self.mean * self.mean)
        } else {
            0.0
        }
    }

    /// A mixture: one of `parts`, chosen with probability proportional to
    /// its weight (equal weights when they sum to 0). `None` when empty.
    pub fn mix(parts: &[(f64, Moments)]) -> Option<Moments> {
        if parts.is_empty() {
            return None;
        }
        let total: f64 = parts.iter().map(|p| p.0).sum();
        let w = |x: f64| {
            if total > 0.0 {
                x / total
            } else {
                1.0 / parts.len() as f64
            }
        };
        let mean: f64 = parts.iter().map(|(x, m)| w(*x) * m.mean).sum();
        let m2: f64 = parts
            .iter()
            .map(|(x, m)| w(*x) * (m.var + m.mean * m.mean))
            .sum();
        Some(Moments {
            mean,
            var: (m2 - mean * mean).max(0.0),
        })
    }
}

/// The harmonic number `H(n) = 1 + 1/2 + ... + 1/n` (0 for `n = 0`).
pub fn harmonic(n: u32) -> f64 {
    (1..=n).map(|k| 1.0 / k as f64).sum()
}

/// The slowest of `n` independent exponential legs of mean `t`: mean
/// `t H(n)`, variance `t² Σ_{k<=n} 1/k²`.
pub fn max_of_exponentials(n: u32, t: f64) -> Moments {
    Moments {
        mean: t * harmonic(n),
        var: t * t * (1..=n).map(|k| 1.0 / (k as f64 * k as f64)).sum::<f64>(),
    }
}

/// `P(S > x)` for a service distribution, where it has a closed form
/// (constant, exponential, uniform, Pareto, and mixtures of them); `None`
/// otherwise.
pub fn exceeds(s: &Sampler, x: f64) -> Option<f64> {
    Some(match *s {
        Sampler::Constant(c) => {
            if c > x {
                1.0
            } else {
                0.0
            }
        }
        Sampler::Exponential(m) => {
            if m > 0.0 {
                libm::exp(-x / m)
            } else {
                0.0
            }
        }
        Sampler::Uniform { min, width } => {
            if width <= 0.0 {
                if min > x { 1.0 } else { 0.0 }
            } else {
                ((min + width - x) / width).clamp(0.0, 1.0)
            }
        }
        Sampler::Pareto {
            scale,
            neg_inv_shape,
        } => {
            if x <= scale {
                1.0
            } else {
                libm::pow(scale / x, -1.0 / neg_inv_shape)
            }
        }
        Sampler::Mixture(ref parts) => {
            let mut prev = 0.0;
            let mut p = 0.0;
            for (cum, part) in parts {
                p += (cum - prev) * exceeds(part, x)?;
                prev = *cum;
            }
            p
        }
        _ => return None,
    })
}

/// The configured time of app `i`'s calls per visit: the mixture over its
/// handlers (weighted by their classes' shares of the traffic) of the sum
/// of each handler's steps. `hit[j]` is node `j`'s measured hit ratio (a
/// cache's or CDN's; `None`: every read a miss). `None` when app `i` is not
/// an app or a chain is deeper than [`MAX_DEPTH`].
pub fn app_calls(model: &Model, i: usize, hit: &[Option<f64>]) -> Option<Moments> {
    calls(model, i, hit, 0)
}

fn calls(model: &Model, i: usize, hit: &[Option<f64>], depth: u32) -> Option<Moments> {
    let KindModel::App(app) = &model.nodes[i].kind else {
        return None;
    };
    let shares = crate::topology::check::class_shares(&model.sources, model.classes.len());
    let mut parts = Vec::with_capacity(app.handlers.len());
    for (c, steps) in app.handlers.iter().enumerate() {
        let mut sum = Moments::ZERO;
        for s in steps {
            sum = sum.plus(step(model, s, hit, depth)?);
        }
        parts.push((shares.get(c).copied().unwrap_or(0.0), sum));
    }
    Moments::mix(&parts)
}

fn step(model: &Model, s: &StepModel, hit: &[Option<f64>], depth: u32) -> Option<Moments> {
    let at = |j: u32, write: bool| node(model, j as usize, write, hit, depth + 1);
    Some(match *s {
        StepModel::Call(t) | StepModel::Read(t) | StepModel::Invalidate(t) => at(t, false)?,
        StepModel::Write(t) => at(t, true)?,
        StepModel::CacheAside { cache, db } => {
            let h = hit.get(cache as usize).copied().flatten().unwrap_or(0.0);
            let c = at(cache, false)?;
            Moments::mix(&[(h, c), (1.0 - h, c.plus(at(db, false)?))])?
        }
        StepModel::WriteThrough { cache, db } => at(db, true)?.plus(at(cache, false)?),
        StepModel::ReadFresh { replicas, .. } => at(replicas, false)?,
        StepModel::Publish(_) => Moments::ZERO,
        StepModel::FanOut { to, count, .. } => {
            let leg = at(to, false)?;
            if count <= 1 {
                leg
            } else {
                max_of_exponentials(count as u32, leg.mean)
            }
        }
    })
}

/// The configured time a call to node `j` takes (service only).
fn node(model: &Model, j: usize, write: bool, hit: &[Option<f64>], depth: u32) -> Option<Moments> {
    if depth > MAX_DEPTH {
        return None;
    }
    let m = model.nodes.get(j)?;
    let through = |depth: u32| {
        let parts: Option<Vec<(f64, Moments)>> = m
            .flows
            .iter()
            .map(|f| Some((f.p, node(model, f.to, write, hit, depth)?)))
            .collect();
        Moments::mix(&parts?)
    };
    match &m.kind {
        KindModel::App(_) => Some(Moments::of(&m.service).plus(calls(model, j, hit, depth)?)),
        KindModel::Database(d) if write => Some(Moments::of(&d.write)),
        KindModel::Cdn(c) => {
            let h = hit.get(j).copied().flatten().unwrap_or(0.0);
            let edge = Moments::of(&m.service);
            let origin = node(model, c.origin as usize, write, hit, depth + 1)?;
            Moments::mix(&[(h, edge), (1.0 - h, edge.plus(origin))])
        }
        KindModel::Pooler(_) => through(depth + 1),
        _ if m.kind().routes_only() => through(depth + 1),
        _ => Some(Moments::of(&m.service)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_mixtures() {
        let e = Moments::of(&Sampler::Exponential(10.0));
        assert_eq!(
            e,
            Moments {
                mean: 10.0,
                var: 100.0
            }
        );
        assert!((e.scv() - 1.0).abs() < 1e-12);
        // Constant 10 plus exponential 10: mean 20, variance 100, cs² 1/4.
        let s = Moments::of(&Sampler::Constant(10.0)).plus(e);
        assert!((s.scv() - 0.25).abs() < 1e-12);
        // Half 0, half constant 2: mean 1, E[X²] 2, variance 1.
        let m = Moments::mix(&[
            (1.0, Moments::ZERO),
            (
                1.0,
                Moments {
                    mean: 2.0,
                    var: 0.0,
                },
            ),
        ])
        .unwrap();
        assert_eq!(
            m,
            Moments {
                mean: 1.0,
                var: 1.0
            }
        );
        assert_eq!(Moments::mix(&[]), None);
    }

    #[test]
    fn tails() {
        let e = Sampler::Exponential(10.0);
        assert!((exceeds(&e, 10.0).unwrap() - (-1.0f64).exp()).abs() < 1e-12);
        assert_eq!(exceeds(&Sampler::Constant(5.0), 6.0), Some(0.0));
        let u = Sampler::Uniform {
            min: 0.0,
            width: 10.0,
        };
        assert_eq!(exceeds(&u, 2.5), Some(0.75));
        assert_eq!(
            exceeds(
                &Sampler::LogNormal {
                    mu: 0.0,
                    sigma: 1.0
                },
                1.0
            ),
            None
        );
    }

    #[test]
    fn the_slowest_of_exponentials() {
        // H(4) = 25/12; Σ 1/k² for k <= 4 = 205/144.
        let m = max_of_exponentials(4, 12.0);
        assert!((m.mean - 25.0).abs() < 1e-12);
        assert!((m.var - 144.0 * 205.0 / 144.0).abs() < 1e-9);
        assert!((harmonic(100) - 5.187_377_517_639_621).abs() < 1e-12);
        assert_eq!(harmonic(0), 0.0);
    }
}
