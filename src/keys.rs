//! Request classes and keys: what a request is about.
//!
//! A source sends a mix of classes (`{"read": 0.95, "write": 0.05}`) and
//! draws each request's key from a popularity law. Keys drive caches (hits
//! come from popular keys), load balancing by hash, and later shards and
//! idempotency.

use crate::rng::Stream;
use serde::{Deserialize, Serialize};

/// How keys are drawn (keys are numbered from 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Keys {
    /// Every key equally likely: `Uniform(keys: 1_000_000)`.
    Uniform {
        /// Number of keys.
        keys: u64,
    },
    /// Zipf: key `k` has weight `1 / k^s`: `Zipf(keys: 1_000_000, s: 0.99)`.
    Zipf {
        /// Number of keys.
        keys: u64,
        /// Exponent; around 1 for web content.
        s: f64,
    },
    /// One "celebrity" key (key 1) takes `share` of all requests; the rest
    /// are uniform over the other keys: `Celebrity(keys: 10_000, share: 0.3)`.
    Celebrity {
        /// Number of keys.
        keys: u64,
        /// Share of requests for key 1.
        share: f64,
    },
}

impl Keys {
    /// Number of keys.
    pub fn count(&self) -> u64 {
        match *self {
            Keys::Uniform { keys } | Keys::Zipf { keys, .. } | Keys::Celebrity { keys, .. } => keys,
        }
    }

    /// Checks the parameters.
    pub fn check(&self) -> Result<(), String> {
        const MAX: u64 = 1 << 40;
        let n = self.count();
        if n == 0 || n > MAX {
            return Err(format!("`keys` is {n}; give 1 to {MAX}"));
        }
        match *self {
            Keys::Zipf { s, .. } if !s.is_finite() || !(0.0..=10.0).contains(&s) => Err(format!(
                "Zipf: `s` is {s}; give a number from 0 to 10 (about 1 for web content)"
            )),
            Keys::Celebrity { share, .. }
                if !share.is_finite() || !(0.0..=1.0).contains(&share) =>
            {
                Err(format!(
                    "Celebrity: `share` is {share}; give a fraction from 0 to 1"
                ))
            }
            _ => Ok(()),
        }
    }

    /// The probability of every key, in key order (for analysis and tests).
    pub fn probabilities(&self) -> Vec<f64> {
        match *self {
            Keys::Zipf { keys, s } => {
                let w: Vec<f64> = (1..=keys).map(|i| libm::pow(i as f64, -s)).collect();
                let norm: f64 = w.iter().sum();
                w.into_iter().map(|x| x / norm).collect()
            }
            _ => (1..=self.count()).map(|k| self.probability(k)).collect(),
        }
    }

    /// The probability of key `k` (1-based), for analysis and tests.
    pub fn probability(&self, k: u64) -> f64 {
        match *self {
            Keys::Uniform { keys } => 1.0 / keys as f64,
            Keys::Zipf { keys, s } => {
                let norm: f64 = (1..=keys).map(|i| libm::pow(i as f64, -s)).sum();
                libm::pow(k as f64, -s) / norm
            }
            Keys::Celebrity { keys, share } => {
                if keys == 1 {
                    1.0
                } else if k == 1 {
                    share
                } else {
                    (1.0 - share) / (keys - 1) as f64
                }
            }
        }
    }

    /// A sampler.
    pub fn sampler(&self) -> KeySampler {
        match *self {
            Keys::Uniform { keys } => KeySampler::Uniform(keys),
            Keys::Zipf { keys, s } => {
                if s == 0.0 {
                    KeySampler::Uniform(keys)
                } else {
                    KeySampler::Zipf(Zipf::new(keys, s))
                }
            }
            Keys::Celebrity { keys, share } => KeySampler::Celebrity { keys, share },
        }
    }
}

/// Draws keys.
#[derive(Clone, Debug, PartialEq)]
pub enum KeySampler {
    /// Uniform over 1..=n.
    Uniform(u64),
    /// Zipf by rejection-inversion.
    Zipf(Zipf),
    /// Key 1 with probability `share`, else uniform over 2..=keys.
    Celebrity {
        /// Number of keys.
        keys: u64,
        /// Share of key 1.
        share: f64,
    },
}

impl KeySampler {
    /// The popularity law it draws from (for the theory lens).
    pub fn law(&self) -> Keys {
        match self {
            KeySampler::Uniform(n) => Keys::Uniform { keys: *n },
            KeySampler::Zipf(z) => Keys::Zipf { keys: z.n, s: z.s },
            KeySampler::Celebrity { keys, share } => Keys::Celebrity {
                keys: *keys,
                share: *share,
            },
        }
    }

    /// Number of keys it draws from.
    pub fn count(&self) -> u64 {
        match self {
            KeySampler::Uniform(n) => *n,
            KeySampler::Zipf(z) => z.n,
            KeySampler::Celebrity { keys, .. } => *keys,
        }
    }

    /// One key, from 1 to the number of keys.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> u64 {
        match self {
            KeySampler::Uniform(n) => 1 + uniform_below(rng, *n),
            KeySampler::Zipf(z) => z.sample(rng),
            KeySampler::Celebrity { keys, share } => {
                if *keys == 1 || rng.unit() < *share {
                    1
                } else {
                    2 + uniform_below(rng, keys - 1)
                }
            }
        }
    }
}

/// Uniform on 0..n (Lemire's multiply-shift; the bias is below 2^-64 * n).
#[inline]
fn uniform_below(rng: &mut Stream, n: u64) -> u64 {
    ((rng.next_u64() as u128 * n as u128) >> 64) as u64
}

/// Zipf over 1..=n with exponent s > 0, sampled in O(1) by the
/// rejection-inversion method of Hörmann and Derflinger (1996), with `libm`
/// so every target draws the same keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Zipf {
    n: u64,
    s: f64,
    h_x1: f64,
    h_n: f64,
    s_div: f64,
}

fn helper1(x: f64) -> f64 {
    // log1p(x) / x, continuous at 0.
    if x.abs() > 1e-8 {
        libm::log1p(x) / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

fn helper2(x: f64) -> f64 {
    // expm1(x) / x, continuous at 0.
    if x.abs() > 1e-8 {
        libm::expm1(x) / x
    } else {
        1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x))
    }
}

impl Zipf {
    /// For `n` keys and exponent `s > 0`.
    pub fn new(n: u64, s: f64) -> Self {
        let mut z = Zipf {
            n,
            s,
            h_x1: 0.0,
            h_n: 0.0,
            s_div: 0.0,
        };
        z.h_x1 = z.h_integral(1.5) - 1.0;
        z.h_n = z.h_integral(n as f64 + 0.5);
        z.s_div = 2.0 - z.h_integral_inverse(z.h_integral(2.5) - z.h(2.0));
        z
    }

    fn h(&self, x: f64) -> f64 {
        libm::exp(-self.s * libm::log(x))
    }

    fn h_integral(&self, x: f64) -> f64 {
        let lx = libm::log(x);
        helper2((1.0 - self.s) * lx) * lx
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.s)).max(-1.0);
        libm::exp(helper1(t) * x)
    }

    /// One key.
    pub fn sample(&self, rng: &mut Stream) -> u64 {
        loop {
            let u = self.h_n + rng.unit() * (self.h_x1 - self.h_n);
            let x = self.h_integral_inverse(u);
            let k = libm::round(x).clamp(1.0, self.n as f64);
            if k - x <= self.s_div || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    #[test]
    fn zipf_matches_its_probabilities() {
        let law = Keys::Zipf {
            keys: 1000,
            s: 0.99,
        };
        let z = law.sampler();
        let mut rng = Stream::new(1, Purpose::Routing, "zipf");
        let n = 400_000;
        let mut counts = vec![0u64; 1001];
        for _ in 0..n {
            let k = z.sample(&mut rng);
            assert!((1..=1000).contains(&k));
            counts[k as usize] += 1;
        }
        for k in [1u64, 2, 3, 10, 100, 1000] {
            let p = law.probability(k);
            let expect = p * n as f64;
            let sd = (expect * (1.0 - p)).sqrt();
            assert!(
                (counts[k as usize] as f64 - expect).abs() < 5.0 * sd + 2.0,
                "key {k}: {} vs {expect:.0}",
                counts[k as usize]
            );
        }
    }

    #[test]
    fn celebrity_and_uniform() {
        let mut rng = Stream::new(2, Purpose::Routing, "keys");
        let c = Keys::Celebrity {
            keys: 100,
            share: 0.3,
        }
        .sampler();
        let n = 100_000;
        let ones = (0..n).filter(|_| c.sample(&mut rng) == 1).count() as f64 / n as f64;
        assert!((ones - 0.3).abs() < 0.0075, "{ones}");
        let u = Keys::Uniform { keys: 10 }.sampler();
        let mut counts = [0u32; 11];
        for _ in 0..n {
            counts[u.sample(&mut rng) as usize] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!(
            counts[1..]
                .iter()
                .all(|&c| (c as f64 - 10_000.0).abs() < 500.0),
            "{counts:?}"
        );
    }

    #[test]
    fn bad_laws_are_explained() {
        assert!(Keys::Uniform { keys: 0 }.check().is_err());
        assert!(
            Keys::Zipf {
                keys: 10,
                s: f64::NAN
            }
            .check()
            .is_err()
        );
        assert!(
            Keys::Celebrity {
                keys: 10,
                share: 1.5
            }
            .check()
            .is_err()
        );
    }
}
