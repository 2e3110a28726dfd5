//! Portable, seeded random streams.
//!
//! Every random decision in the engine draws from a [`Stream`]: xoshiro256++
//! (from `rand_xoshiro`, whose output is specified and stable), seeded from
//! the run's seed, a purpose tag and the owner's id. Streams are keyed by id,
//! not by position, so adding a node to a topology leaves the draws of every
//! other node unchanged (common random numbers: A/B comparisons of two
//! topologies differ only where the topologies differ).
//!
//! Floats are made from the integer output by hand (53 high bits), so the
//! numbers are the same on every target and every `rand` version.

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// What a stream is used for; part of its seed, so that e.g. a node's routing
/// draws do not shift when its service distribution changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Inter-arrival times of a source.
    Arrivals,
    /// Thinning decisions of a source with a time-varying rate.
    Thinning,
    /// Service times of a node.
    Service,
    /// Routing choices of a node.
    Routing,
    /// Injected errors at a node.
    Failure,
    /// TTL jitter of a cache.
    Ttl,
    /// Classes and keys of a source's requests.
    Keys,
    /// Retry backoff jitter of a source's clients.
    Retry,
    /// Replication lag of a replica.
    Lag,
}

impl Purpose {
    fn tag(self) -> u64 {
        match self {
            Purpose::Arrivals => 0x6172_7269_7661_6c73, // "arrivals"
            Purpose::Thinning => 0x7468_696e_6e69_6e67, // "thinning"
            Purpose::Service => 0x7365_7276_6963_6521,  // "service!"
            Purpose::Routing => 0x726f_7574_696e_6721,  // "routing!"
            Purpose::Failure => 0x6661_696c_7572_6521,  // "failure!"
            Purpose::Ttl => 0x7474_6c6a_6974_7472,      // "ttljittr"
            Purpose::Keys => 0x6b65_7973_2121_2121,     // "keys!!!!"
            Purpose::Retry => 0x7265_7472_7921_2121,    // "retry!!!"
            Purpose::Lag => 0x6c61_6721_2121_2121,      // "lag!!!!!"
        }
    }
}

/// FNV-1a over bytes: a portable, fixed hash for ids (std's hashers are
/// neither stable across versions nor meant for this).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64 finaliser: spreads a 64-bit value over all bits.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Start of the exponential ziggurat's tail.
const ZIG_R: f64 = 7.697_117_470_131_05;
/// Area of each of its 256 layers.
const ZIG_V: f64 = 3.949_659_822_581_572e-3;

/// Layer edges `x[i]` (decreasing, `x[256] = 0`) and heights `f[i] = exp(-x[i])`.
struct Ziggurat {
    x: [f64; 257],
    f: [f64; 257],
}

static EXP_ZIGGURAT: std::sync::LazyLock<Ziggurat> = std::sync::LazyLock::new(|| {
    let mut x = [0.0; 257];
    x[0] = ZIG_V / libm::exp(-ZIG_R);
    x[1] = ZIG_R;
    for i in 1..256 {
        let y = libm::exp(-x[i]) + ZIG_V / x[i];
        x[i + 1] = if y < 1.0 { -libm::log(y) } else { 0.0 };
    }
    x[256] = 0.0;
    let mut f = [0.0; 257];
    for i in 0..257 {
        f[i] = libm::exp(-x[i]);
    }
    Ziggurat { x, f }
});

/// Start of the normal ziggurat's tail.
const NORMAL_R: f64 = 3.654_152_885_361_009;
/// Area of each of its 256 layers.
const NORMAL_V: f64 = 4.928_673_233_99e-3;

static NORMAL_ZIGGURAT: std::sync::LazyLock<Ziggurat> = std::sync::LazyLock::new(|| {
    let f = |x: f64| libm::exp(-0.5 * x * x);
    let mut x = [0.0; 257];
    x[0] = NORMAL_V / f(NORMAL_R);
    x[1] = NORMAL_R;
    for i in 1..256 {
        let y = f(x[i]) + NORMAL_V / x[i];
        x[i + 1] = if y < 1.0 {
            libm::sqrt(-2.0 * libm::log(y))
        } else {
            0.0
        };
    }
    x[256] = 0.0;
    let mut fs = [0.0; 257];
    for i in 0..257 {
        fs[i] = f(x[i]);
    }
    Ziggurat { x, f: fs }
});

/// One independent random stream.
#[derive(Clone, Debug)]
pub struct Stream {
    inner: Xoshiro256PlusPlus,
}

impl Stream {
    /// The stream of `owner` (a node or source id) for `purpose` under `seed`.
    pub fn new(seed: u64, purpose: Purpose, owner: &str) -> Self {
        let key = mix64(seed ^ mix64(purpose.tag() ^ fnv1a(owner.as_bytes())));
        Stream {
            inner: Xoshiro256PlusPlus::seed_from_u64(key),
        }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform on [0, 1), with 53 random bits.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on (0, 1]: safe to take the logarithm of.
    #[inline]
    pub fn unit_open0(&mut self) -> f64 {
        1.0 - self.unit()
    }

    /// A standard exponential variate (mean 1), by the ziggurat method
    /// (Marsaglia and Tsang, 2000): one random word and a table look-up for
    /// 98.9% of draws, a logarithm only in the rare tail or wedge. Tables are
    /// computed with `libm`, so draws are identical on every target.
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        let t = &*EXP_ZIGGURAT;
        loop {
            let bits = self.next_u64();
            let i = (bits & 0xff) as usize;
            let u = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            let z = u * t.x[i];
            if z < t.x[i + 1] {
                return z;
            }
            if i == 0 {
                // The tail beyond R is again exponential (memorylessness).
                return ZIG_R - libm::log(self.unit_open0());
            }
            let y = t.f[i] + self.unit() * (t.f[i + 1] - t.f[i]);
            if y < libm::exp(-z) {
                return z;
            }
        }
    }

    /// A standard normal variate, by the ziggurat method: one random word
    /// and a table look-up for 98.8% of draws.
    #[inline]
    pub fn std_normal(&mut self) -> f64 {
        let t = &*NORMAL_ZIGGURAT;
        loop {
            let bits = self.next_u64();
            let i = (bits & 0xff) as usize;
            let sign = if bits & 0x100 == 0 { 1.0 } else { -1.0 };
            let u = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            let z = u * t.x[i];
            if z < t.x[i + 1] {
                return sign * z;
            }
            if i == 0 {
                // Marsaglia's tail algorithm beyond R.
                loop {
                    let x = -libm::log(self.unit_open0()) / NORMAL_R;
                    let y = -libm::log(self.unit_open0());
                    if 2.0 * y > x * x {
                        return sign * (NORMAL_R + x);
                    }
                }
            }
            let y = t.f[i] + self.unit() * (t.f[i + 1] - t.f[i]);
            if y < libm::exp(-0.5 * z * z) {
                return sign * z;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the streams: if a dependency update changed them, every saved
    /// report and scenario would silently change. This must never fail.
    #[test]
    fn streams_are_pinned() {
        let mut s = Stream::new(42, Purpose::Service, "db");
        let first: Vec<u64> = (0..3).map(|_| s.next_u64()).collect();
        let mut again = Stream::new(42, Purpose::Service, "db");
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_eq!(first, PINNED.to_vec(), "random streams changed: {first:?}");
    }
    const PINNED: [u64; 3] = [
        16836811633789819739,
        8204800250891045425,
        10433105821130983243,
    ];

    #[test]
    fn streams_differ_by_owner_purpose_and_seed() {
        let a = Stream::new(1, Purpose::Service, "a").next_u64();
        assert_ne!(a, Stream::new(1, Purpose::Service, "b").next_u64());
        assert_ne!(a, Stream::new(1, Purpose::Routing, "a").next_u64());
        assert_ne!(a, Stream::new(2, Purpose::Service, "a").next_u64());
    }

    #[test]
    fn exponential_ziggurat_fits() {
        // Kolmogorov-Smirnov against 1 - exp(-x) on 200k draws: the 0.1%
        // critical value is 1.95/sqrt(n) = 0.0044.
        let mut s = Stream::new(11, Purpose::Service, "zig");
        let n = 200_000;
        let mut xs: Vec<f64> = (0..n).map(|_| s.exp1()).collect();
        xs.sort_by(f64::total_cmp);
        let d = xs
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let cdf = 1.0 - libm::exp(-x);
                (cdf - i as f64 / n as f64)
                    .abs()
                    .max((cdf - (i + 1) as f64 / n as f64).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 0.0044, "KS distance {d}");
        let mean = xs.iter().sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        // The far right (x > 5) appears at its rate.
        let tail = xs.iter().filter(|&&x| x > 5.0).count() as f64 / n as f64;
        assert!((tail - libm::exp(-5.0)).abs() < 0.0006, "{tail}");
    }

    #[test]
    fn normal_ziggurat_fits() {
        let mut s = Stream::new(12, Purpose::Service, "zig");
        let n = 200_000;
        let mut xs: Vec<f64> = (0..n).map(|_| s.std_normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.015,
            "{mean} {var}"
        );
        xs.sort_by(f64::total_cmp);
        let phi = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
        let d = xs
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                (phi(x) - i as f64 / n as f64)
                    .abs()
                    .max((phi(x) - (i + 1) as f64 / n as f64).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 0.0044, "KS distance {d}");
        // Both tails beyond 3 sigma, at their rate (0.27%).
        let tails = xs.iter().filter(|x| x.abs() > 3.0).count() as f64 / n as f64;
        assert!((tails - 0.0027).abs() < 0.0004, "{tails}");
    }

    #[test]
    fn unit_moments() {
        let mut s = Stream::new(7, Purpose::Arrivals, "x");
        let n = 200_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let u = s.unit();
            assert!((0.0..1.0).contains(&u));
            sum += u;
            sq += u * u;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        // Standard error of the mean is 0.289/sqrt(n) = 0.00065: 5 se.
        assert!((mean - 0.5).abs() < 0.0033, "{mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "{var}");
    }
}
