//! Service-time distributions: how they are written ([`Dist`]) and how they
//! are sampled ([`Sampler`]).
//!
//! All transcendental functions come from `libm`, so a seed gives the same
//! numbers bit for bit natively and in the browser.

use crate::rng::Stream;
use crate::time::{Duration, SEC};
use serde::{Deserialize, Serialize};

/// The standard normal quantile at 0.99, used to fit [`Dist::FromPercentiles`].
pub const Z99: f64 = 2.326_347_874_040_840_8;

/// A distribution of durations, as written in a topology file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Dist {
    /// Always the same: `Constant("15ms")`.
    Constant(Duration),
    /// Memoryless: `Exponential(mean: "100ms")`.
    Exponential {
        /// Mean duration.
        mean: Duration,
    },
    /// Uniform between two durations: `Uniform(min: "5ms", max: "15ms")`.
    Uniform {
        /// Shortest value.
        min: Duration,
        /// Longest value.
        max: Duration,
    },
    /// Normal, truncated at 0 (negative draws are redrawn):
    /// `Normal(mean: "10ms", std: "2ms")`.
    Normal {
        /// Mean of the untruncated normal.
        mean: Duration,
        /// Standard deviation of the untruncated normal.
        std: Duration,
    },
    /// Lognormal given by the mean and standard deviation of the distribution
    /// itself (not of its logarithm): `LogNormal(mean: "20ms", std: "30ms")`.
    LogNormal {
        /// Mean duration.
        mean: Duration,
        /// Standard deviation.
        std: Duration,
    },
    /// Heavy-tailed: `Pareto(scale: "1ms", shape: 2.5)`; values are at least
    /// `scale`; the mean is finite only for `shape > 1`, the variance only for
    /// `shape > 2`.
    Pareto {
        /// Minimum value.
        scale: Duration,
        /// Tail index; smaller is heavier.
        shape: f64,
    },
    /// A lognormal fitted to the median and 99th percentile that people read
    /// off their dashboards: `FromPercentiles(p50: "4ms", p99: "25ms")`.
    FromPercentiles {
        /// Median.
        p50: Duration,
        /// 99th percentile.
        p99: Duration,
    },
    /// A mixture: each draw comes from one part, chosen with the part's
    /// probability: `Mixture([Part(p: 0.99, of: Constant("10ms")),
    /// Part(p: 0.01, of: Constant("1s"))])` (a 1% slow path).
    Mixture(Vec<Part>),
}

/// One part of a [`Dist::Mixture`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Probability of this part.
    pub p: f64,
    /// Its distribution.
    pub of: Dist,
}

/// A compiled distribution, parameters in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampler {
    /// Always `ns`.
    Constant(f64),
    /// Exponential with this mean.
    Exponential(f64),
    /// `min + width * U`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// `max - min`.
        width: f64,
    },
    /// Normal truncated at 0.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// `exp(mu + sigma * Z)`.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Parts as (cumulative probability, sampler).
    Mixture(Vec<(f64, Sampler)>),
    /// `scale * U^(-1/shape)`.
    Pareto {
        /// Minimum.
        scale: f64,
        /// `-1 / shape`.
        neg_inv_shape: f64,
    },
}

impl Dist {
    /// Checks the parameters; the message says what is wrong and how to fix it.
    pub fn check(&self) -> Result<(), String> {
        match *self {
            Dist::Constant(_) | Dist::Exponential { .. } => Ok(()),
            Dist::Uniform { min, max } => {
                if min > max {
                    Err(format!(
                        "Uniform: min ({min}) is larger than max ({max}); swap them"
                    ))
                } else {
                    Ok(())
                }
            }
            Dist::Normal { .. } => Ok(()),
            Dist::LogNormal { mean, .. } => {
                if mean.0 == 0 {
                    Err("LogNormal: mean must be above 0; use Constant(\"0s\") for no work".into())
                } else {
                    Ok(())
                }
            }
            Dist::Pareto { scale, shape } => {
                if !shape.is_finite() || shape <= 0.0 {
                    Err(format!(
                        "Pareto: shape must be a finite number above 0, not {shape}; 1.5 to 3 is typical"
                    ))
                } else if scale.0 == 0 {
                    Err("Pareto: scale must be above 0, e.g. \"1ms\"".into())
                } else {
                    Ok(())
                }
            }
            Dist::Mixture(ref parts) => {
                if parts.is_empty() || parts.len() > 16 {
                    return Err("Mixture: give 1 to 16 parts".into());
                }
                let mut sum = 0.0;
                for part in parts {
                    if !part.p.is_finite() || !(0.0..=1.0).contains(&part.p) {
                        return Err(format!(
                            "Mixture: a part has p = {}; give a probability from 0 to 1",
                            part.p
                        ));
                    }
                    sum += part.p;
                    if matches!(part.of, Dist::Mixture(_)) {
                        return Err(
                            "Mixture: parts cannot be mixtures themselves; list all parts in one"
                                .into(),
                        );
                    }
                    part.of.check()?;
                }
                if (sum - 1.0).abs() > 1e-6 {
                    return Err(format!(
                        "Mixture: the parts' probabilities sum to {sum}, not 1"
                    ));
                }
                Ok(())
            }
            Dist::FromPercentiles { p50, p99 } => {
                if p50.0 == 0 {
                    Err("FromPercentiles: p50 must be above 0".into())
                } else if p99 < p50 {
                    Err(format!(
                        "FromPercentiles: p99 ({p99}) is below p50 ({p50}); p99 must be at least p50"
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Compiles into a [`Sampler`]; call [`Dist::check`] first.
    pub fn sampler(&self) -> Sampler {
        match *self {
            Dist::Constant(d) => Sampler::Constant(d.0 as f64),
            Dist::Exponential { mean } => Sampler::Exponential(mean.0 as f64),
            Dist::Uniform { min, max } => Sampler::Uniform {
                min: min.0 as f64,
                width: max.0.saturating_sub(min.0) as f64,
            },
            Dist::Normal { mean, std } => {
                if std.0 == 0 {
                    Sampler::Constant(mean.0 as f64)
                } else {
                    Sampler::Normal {
                        mean: mean.0 as f64,
                        std: std.0 as f64,
                    }
                }
            }
            Dist::LogNormal { mean, std } => {
                let m = mean.0 as f64;
                let s = std.0 as f64;
                let sigma2 = libm::log1p((s / m) * (s / m));
                Sampler::LogNormal {
                    mu: libm::log(m) - sigma2 / 2.0,
                    sigma: libm::sqrt(sigma2),
                }
            }
            Dist::Pareto { scale, shape } => Sampler::Pareto {
                scale: scale.0 as f64,
                neg_inv_shape: -1.0 / shape,
            },
            Dist::Mixture(ref parts) => {
                let mut cum = 0.0;
                Sampler::Mixture(
                    parts
                        .iter()
                        .map(|part| {
                            cum += part.p;
                            (cum, part.of.sampler())
                        })
                        .collect(),
                )
            }
            Dist::FromPercentiles { p50, p99 } => {
                let mu = libm::log(p50.0 as f64);
                let sigma = (libm::log(p99.0 as f64) - mu) / Z99;
                Sampler::LogNormal { mu, sigma }
            }
        }
    }
}

impl Sampler {
    /// Draws one duration in nanoseconds (rounded, never negative).
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> u64 {
        let x = match *self {
            Sampler::Constant(c) => c,
            Sampler::Exponential(mean) => mean * rng.exp1(),
            Sampler::Uniform { min, width } => min + width * rng.unit(),
            Sampler::Normal { mean, std } => {
                // Redraw negatives (truncation); give up after 64 tries, which
                // only happens when the mean is many deviations below 0.
                let mut v = 0.0;
                for _ in 0..64 {
                    let x = mean + std * rng.std_normal();
                    if x >= 0.0 {
                        v = x;
                        break;
                    }
                }
                v
            }
            Sampler::LogNormal { mu, sigma } => libm::exp(mu + sigma * rng.std_normal()),
            Sampler::Pareto {
                scale,
                neg_inv_shape,
            } => scale * libm::pow(rng.unit_open0(), neg_inv_shape),
            Sampler::Mixture(ref parts) => return sample_mixture(parts, rng),
        };
        // `as` saturates: huge values clamp to u64::MAX, NaN to 0.
        (x + 0.5) as u64
    }

    /// The mean in nanoseconds (infinite for a Pareto with shape <= 1).
    pub fn mean(&self) -> f64 {
        match *self {
            Sampler::Constant(c) => c,
            Sampler::Exponential(m) => m,
            Sampler::Uniform { min, width } => min + width / 2.0,
            // Mean of a normal truncated at 0: mean + std * phi(a) / (1 - Phi(a)).
            Sampler::Normal { mean, std } => {
                truncated_normal(mean, std).map_or(0.0, |(_, phi, tail)| mean + std * phi / tail)
            }
            Sampler::LogNormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Sampler::Mixture(ref parts) => weighted(parts, Sampler::mean),
            Sampler::Pareto {
                scale,
                neg_inv_shape,
            } => {
                let shape = -1.0 / neg_inv_shape;
                if shape <= 1.0 {
                    f64::INFINITY
                } else {
                    scale * shape / (shape - 1.0)
                }
            }
        }
    }

    /// The second moment E[S^2] in ns^2 (for the Pollaczek-Khinchine formula).
    pub fn second_moment(&self) -> f64 {
        match *self {
            Sampler::Constant(c) => c * c,
            Sampler::Exponential(m) => 2.0 * m * m,
            Sampler::Uniform { min, width } => {
                let max = min + width;
                (max * max * max - min * min * min) / (3.0 * width.max(f64::MIN_POSITIVE))
            }
            // Truncated at 0 (negatives redrawn): with l = phi(a) / (1 - Phi(a)),
            // E[X] = mean + std l and Var[X] = std^2 (1 + a l - l^2).
            Sampler::Normal { mean, std } => {
                truncated_normal(mean, std).map_or(0.0, |(a, phi, tail)| {
                    let l = phi / tail;
                    let m = mean + std * l;
                    std * std * (1.0 + a * l - l * l) + m * m
                })
            }
            Sampler::LogNormal { mu, sigma } => libm::exp(2.0 * mu + 2.0 * sigma * sigma),
            Sampler::Mixture(ref parts) => weighted(parts, Sampler::second_moment),
            Sampler::Pareto {
                scale,
                neg_inv_shape,
            } => {
                let shape = -1.0 / neg_inv_shape;
                if shape <= 2.0 {
                    f64::INFINITY
                } else {
                    scale * scale * shape / (shape - 2.0)
                }
            }
        }
    }

    /// The variance in ns^2 (infinite where the second moment is).
    pub fn variance(&self) -> f64 {
        let m = self.mean();
        (self.second_moment() - m * m).max(0.0)
    }

    /// The squared coefficient of variation `Var[S] / E[S]^2` (0 for a
    /// zero mean): 0 for a constant, 1 for an exponential.
    pub fn scv(&self) -> f64 {
        let m = self.mean();
        if m > 0.0 {
            self.variance() / (m * m)
        } else {
            0.0
        }
    }

    /// The mean in seconds.
    pub fn mean_secs(&self) -> f64 {
        self.mean() / SEC as f64
    }
}

/// One draw of a mixture (kept out of line so `Sampler::sample` inlines).
#[inline(never)]
fn sample_mixture(parts: &[(f64, Sampler)], rng: &mut Stream) -> u64 {
    let u = rng.unit();
    let part = parts.iter().find(|(cum, _)| u < *cum).or(parts.last());
    part.map_or(0, |(_, s)| s.sample(rng))
}

/// Sum of `f(part) * p(part)` over a mixture's parts.
/// For a normal truncated at 0 (negatives redrawn): `a = -mean/std`, the
/// standard normal density phi(a) and the mass above 0, 1 - Phi(a); `None`
/// when no mass is left above 0.
fn truncated_normal(mean: f64, std: f64) -> Option<(f64, f64, f64)> {
    let a = -mean / std;
    let phi = libm::exp(-a * a / 2.0) / libm::sqrt(2.0 * core::f64::consts::PI);
    let tail = 0.5 * libm::erfc(a / core::f64::consts::SQRT_2);
    (tail > 0.0).then_some((a, phi, tail))
}

fn weighted(parts: &[(f64, Sampler)], f: fn(&Sampler) -> f64) -> f64 {
    let mut prev = 0.0;
    parts
        .iter()
        .map(|(cum, s)| {
            let p = cum - prev;
            prev = *cum;
            p * f(s)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;
    use crate::time::MS;

    fn moments(d: &Dist, n: usize) -> (f64, f64, Vec<u64>) {
        let s = d.sampler();
        let mut rng = Stream::new(3, Purpose::Service, "t");
        let xs: Vec<u64> = (0..n).map(|_| s.sample(&mut rng)).collect();
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        let mut sorted = xs;
        sorted.sort_unstable();
        (mean, var.sqrt(), sorted)
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    // 200k draws: the standard error of a mean is std/447, so 1.5% is more
    // than 3 standard errors for every distribution below with cv <= 1.5.
    const N: usize = 200_000;

    #[test]
    fn exponential_and_constant() {
        let (m, s, _) = moments(
            &Dist::Exponential {
                mean: Duration(10 * MS),
            },
            N,
        );
        assert!(close(m, 10e6, 0.015) && close(s, 10e6, 0.02), "{m} {s}");
        let (m, s, _) = moments(&Dist::Constant(Duration(15 * MS)), 1000);
        assert_eq!((m, s), (15e6, 0.0));
    }

    #[test]
    fn uniform_normal() {
        let (m, s, v) = moments(
            &Dist::Uniform {
                min: Duration(5 * MS),
                max: Duration(15 * MS),
            },
            N,
        );
        assert!(
            close(m, 10e6, 0.01) && close(s, 10e6 / 12f64.sqrt(), 0.02),
            "{m} {s}"
        );
        assert!(v[0] >= 5 * MS && *v.last().unwrap() <= 15 * MS);
        let d = Dist::Normal {
            mean: Duration(10 * MS),
            std: Duration(2 * MS),
        };
        let (m, s, _) = moments(&d, N);
        assert!(close(m, 10e6, 0.01) && close(s, 2e6, 0.02), "{m} {s}");
        // Truncated: mean 1ms, std 2ms, so many draws would be negative.
        let d = Dist::Normal {
            mean: Duration(MS),
            std: Duration(2 * MS),
        };
        let (m, sd, v) = moments(&d, N);
        let m2 = sd * sd + m * m;
        assert!(
            close(m, d.sampler().mean(), 0.015),
            "{m} vs {}",
            d.sampler().mean()
        );
        // The truncation shows in the second moment too (the untruncated
        // 1 + 4 = 5 ms^2 would be 2x off).
        assert!(
            close(m2, d.sampler().second_moment(), 0.03),
            "{m2} vs {}",
            d.sampler().second_moment()
        );
        assert!(v.iter().all(|&x| x < 100 * MS));
    }

    #[test]
    fn lognormal_matches_its_mean_and_std() {
        let d = Dist::LogNormal {
            mean: Duration(20 * MS),
            std: Duration(30 * MS),
        };
        let (m, _, _) = moments(&d, 1_000_000);
        // cv 1.5, heavy right tail: se of mean ~ 0.15%; allow 1.5%.
        assert!(close(m, 20e6, 0.015), "{m}");
        assert!(close(d.sampler().mean(), 20e6, 1e-9));
        assert!(close(
            d.sampler().second_moment(),
            20e6 * 20e6 + 30e6 * 30e6,
            1e-9
        ));
    }

    #[test]
    fn from_percentiles_hits_p50_and_p99() {
        let d = Dist::FromPercentiles {
            p50: Duration(4 * MS),
            p99: Duration(25 * MS),
        };
        let (_, _, v) = moments(&d, N);
        let p50 = v[N / 2] as f64;
        let p99 = v[N * 99 / 100] as f64;
        assert!(close(p50, 4e6, 0.01), "{p50}");
        assert!(close(p99, 25e6, 0.03), "{p99}");
    }

    #[test]
    fn pareto_minimum_and_mean() {
        let d = Dist::Pareto {
            scale: Duration(MS),
            shape: 3.0,
        };
        let (m, _, v) = moments(&d, N);
        assert!(v[0] >= MS);
        assert!(close(m, 1.5e6, 0.02), "{m}");
        assert!(
            Dist::Pareto {
                scale: Duration(MS),
                shape: 1.0
            }
            .sampler()
            .mean()
            .is_infinite()
        );
    }

    #[test]
    fn mixture_draws_from_its_parts() {
        let d = Dist::Mixture(vec![
            Part {
                p: 0.99,
                of: Dist::Constant(Duration(10 * MS)),
            },
            Part {
                p: 0.01,
                of: Dist::Constant(Duration(1000 * MS)),
            },
        ]);
        d.check().unwrap();
        let (m, _, v) = moments(&d, N);
        let slow = v.iter().filter(|&&x| x == 1000 * MS).count() as f64 / N as f64;
        assert!((slow - 0.01).abs() < 0.0012, "{slow}");
        assert!(
            close(m, d.sampler().mean(), 0.03) && close(d.sampler().mean(), 19.9e6, 1e-9),
            "{m}"
        );
        assert!(Dist::Mixture(vec![]).check().is_err());
        assert!(
            Dist::Mixture(vec![Part {
                p: 0.5,
                of: Dist::Constant(Duration(1))
            }])
            .check()
            .unwrap_err()
            .contains("sum to 0.5")
        );
    }

    #[test]
    fn bad_parameters_are_explained() {
        assert!(
            Dist::Uniform {
                min: Duration(2),
                max: Duration(1)
            }
            .check()
            .unwrap_err()
            .contains("swap")
        );
        assert!(
            Dist::Pareto {
                scale: Duration(1),
                shape: f64::NAN
            }
            .check()
            .is_err()
        );
        assert!(
            Dist::FromPercentiles {
                p50: Duration(5),
                p99: Duration(1)
            }
            .check()
            .is_err()
        );
        assert!(
            Dist::LogNormal {
                mean: Duration(0),
                std: Duration(1)
            }
            .check()
            .is_err()
        );
    }
}
