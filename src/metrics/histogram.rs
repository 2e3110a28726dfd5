//! A log-linear latency histogram with bounded memory (HDR-style).
//!
//! Values are nanoseconds. Below 128 ns every value has its own bucket;
//! above, each power of two is split into 128 equal buckets, so any recorded
//! value is known to within 1/128 of itself (0.39% at the bucket midpoint)
//! over the whole `u64` range, in 7,424 counters. Recording is a
//! leading-zero count, a shift and an add: no allocation, no floats.

/// Sub-buckets per power of two, as a power of two.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Number of buckets covering all of `u64`.
pub const BUCKETS: usize = (SUB + (64 - SUB_BITS as u64) * SUB) as usize;

/// Counts of values in log-linear buckets, plus exact count, sum, min, max.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
    /// Lowest and highest bucket touched since the last clear (for cheap clears).
    lo: usize,
    hi: usize,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn index(v: u64) -> usize {
    if v < SUB {
        v as usize
    } else {
        let msb = 63 - v.leading_zeros();
        let shift = msb - SUB_BITS;
        let sub = (v >> shift) - SUB;
        (SUB + shift as u64 * SUB + sub) as usize
    }
}

/// The lowest value and the width of bucket `i`.
fn bucket_range(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        (i, 1)
    } else {
        let shift = (i - SUB) / SUB;
        let sub = (i - SUB) % SUB;
        ((SUB + sub) << shift, 1 << shift)
    }
}

impl Histogram {
    /// Empty.
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
            lo: BUCKETS,
            hi: 0,
        }
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        let i = index(v);
        self.counts[i] += 1;
        self.count += 1;
        self.sum += v as u128;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.lo = self.lo.min(i);
        self.hi = self.hi.max(i);
    }

    /// Forgets every value; costs only the range of buckets used.
    pub fn clear(&mut self) {
        if self.lo <= self.hi {
            self.counts[self.lo..=self.hi].fill(0);
        }
        self.count = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
        self.lo = BUCKETS;
        self.hi = 0;
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean, or `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// Exact smallest value.
    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }

    /// Exact largest value.
    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// The value at quantile `q` in [0, 1]: the midpoint of the bucket holding
    /// the `ceil(q * n)`-th smallest value, clamped to the exact min and max
    /// (and exactly the min or max at the first and last rank).
    /// `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        if rank == 1 {
            return Some(self.min as f64);
        }
        if rank == self.count {
            return Some(self.max as f64);
        }
        let mut seen = 0;
        for i in self.lo..=self.hi {
            seen += self.counts[i];
            if seen >= rank {
                let (low, width) = bucket_range(i);
                let mid = low as f64 + (width as f64 - 1.0) / 2.0;
                return Some(mid.clamp(self.min as f64, self.max as f64));
            }
        }
        Some(self.max as f64)
    }

    /// Several quantiles (ascending) in one pass over the buckets.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        let mut out = [None; N];
        if self.count == 0 {
            return out;
        }
        let mut k = 0;
        let mut seen = 0;
        let mut i = self.lo;
        while k < N {
            let rank =
                ((qs[k].clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
            if rank == 1 || rank == self.count {
                out[k] = Some(if rank == 1 { self.min } else { self.max } as f64);
                k += 1;
                continue;
            }
            while seen + self.counts[i] < rank {
                seen += self.counts[i];
                i += 1;
            }
            let (low, width) = bucket_range(i);
            let mid = low as f64 + (width as f64 - 1.0) / 2.0;
            out[k] = Some(mid.clamp(self.min as f64, self.max as f64));
            k += 1;
        }
        out
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        for i in other.lo..=other.hi {
            self.counts[i] += other.counts[i];
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.lo = self.lo.min(other.lo);
        self.hi = self.hi.max(other.hi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_range() {
        assert_eq!(index(0), 0);
        assert_eq!(index(127), 127);
        assert_eq!(index(u64::MAX), BUCKETS - 1);
        let mut expect_low = 0u64;
        for i in 0..BUCKETS {
            let (low, width) = bucket_range(i);
            assert_eq!(low, expect_low, "bucket {i}");
            assert_eq!(index(low), i);
            assert_eq!(index(low + (width - 1)), i);
            expect_low = low.wrapping_add(width);
        }
    }

    #[test]
    fn quantiles_within_resolution() {
        let mut h = Histogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        let many = h.quantiles([0.0, 0.5, 0.9, 0.99, 0.999, 1.0]);
        for (k, q) in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0].into_iter().enumerate() {
            assert_eq!(many[k], h.quantile(q), "q{q}");
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = (q * 100_000.0f64).ceil() * 1000.0;
            let got = h.quantile(q).unwrap();
            assert!(
                (got - exact).abs() / exact < 0.004,
                "q{q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.mean().unwrap(), 50_000_500.0);
        assert_eq!(h.quantile(0.0).unwrap(), 1000.0);
        assert_eq!(h.quantile(1.0).unwrap(), 100_000_000.0);
    }

    #[test]
    fn constant_values_are_exact_and_clear_resets() {
        let mut h = Histogram::new();
        for _ in 0..10 {
            h.record(15_000_000);
        }
        assert_eq!(h.quantile(0.5), Some(15_000_000.0));
        assert_eq!(h.quantile(0.99), Some(15_000_000.0));
        h.clear();
        assert_eq!(h.count(), 0);
        assert_eq!(h.quantile(0.5), None);
        assert!(h.counts.iter().all(|&c| c == 0));
        let mut a = Histogram::new();
        a.record(5);
        let mut b = Histogram::new();
        b.record(500);
        a.merge(&b);
        assert_eq!((a.count(), a.min(), a.max()), (2, Some(5), Some(500)));
    }
}
