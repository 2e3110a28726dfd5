//! The one stable sum behind Erlang B and C, M/M/c/K and the M/G/c/K
//! approximation: a birth-death chain whose unnormalized probabilities are
//! `t(n) = aⁿ / n!` for `n < c` (`n` busy servers) and `κ t(c) rⁿ⁻ᶜ` from
//! `c` on, up to a room of `K` in all (`K >= c`). M/M/c/K has `r = a / c`
//! and `κ = 1`; the M/G/c/K approximation (`mmck::mgck`) another ratio and
//! weight; Erlang B is `K = c`.
//!
//! The terms are built by the recurrence `t(n) = t(n-1) a / n` (then `x r`),
//! never by factorials or powers, and rescaled whenever they grow past
//! `1e200`: no overflow for any `c` up to the topology's million servers or
//! any `K`. When `r <= 1` the sum runs upwards from 0 and stops once the
//! terms above `c` are negligible; when `r > 1` the terms grow towards `K`,
//! so it runs downwards from `K` (terms `1, 1/r, ...`) and stops once they
//! are negligible. Terms that underflow are negligible either way.

/// Terms above this are rescaled.
const BIG: f64 = 1e200;
/// A term this small beside the running sum ends it.
const NEGLIGIBLE: f64 = 1e-18;

/// The chain's normalized summaries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sums {
    /// `p(K)`: the share of time (and, arrivals being Poisson, of
    /// arrivals) that finds the room full.
    pub full: f64,
    /// `P(n >= c)`: all servers busy.
    pub all_busy: f64,
    /// Mean busy servers, `Σ min(n, c) p(n)`.
    pub busy: f64,
    /// Mean number waiting, `Σ (n - c)⁺ p(n)`.
    pub waiting: f64,
}

/// The chain for `c >= 1` servers offered `a > 0` erlangs, ratio `r > 0`
/// above `c` and weight `kappa > 0` from `c` on, room `k` in all (raised to
/// `c`). `k = u64::MAX` with `r < 1` is the unbounded queue.
pub fn sums(c: u32, k: u64, a: f64, r: f64, kappa: f64) -> Sums {
    let cu = u64::from(c.max(1));
    let k = k.max(cu);
    if a.is_nan() || a <= 0.0 {
        return Sums {
            full: if k == 0 { 1.0 } else { 0.0 },
            all_busy: 0.0,
            busy: 0.0,
            waiting: 0.0,
        };
    }
    // t(n) / t(n-1).
    let step = |n: u64| {
        if n < cu {
            a / n as f64
        } else if n == cu {
            a / n as f64 * kappa
        } else {
            r
        }
    };
    let mut acc = Acc {
        cu,
        t: 1.0,
        sum: 0.0,
        busy: 0.0,
        waiting: 0.0,
        above: 0.0,
    };
    let full;
    if r <= 1.0 || k == cu {
        acc.add(0);
        let mut n: u64 = 0;
        let mut cut = false;
        while n < k {
            n += 1;
            acc.t *= step(n);
            if n > cu && acc.t < acc.sum * NEGLIGIBLE {
                cut = true;
                break;
            }
            acc.add(n);
        }
        full = if cut { 0.0 } else { acc.t / acc.sum };
    } else {
        // Downwards from K, t'(K) = 1.
        acc.add(k);
        let mut n = k;
        while n > 0 {
            acc.t /= step(n);
            n -= 1;
            if acc.t < acc.sum * NEGLIGIBLE {
                break;
            }
            acc.add(n);
        }
        full = 1.0 / acc.sum;
    }
    let Acc {
        sum,
        busy,
        waiting,
        above,
        ..
    } = acc;
    Sums {
        full: full.clamp(0.0, 1.0),
        all_busy: (above / sum).clamp(0.0, 1.0),
        busy: (busy / sum).max(0.0),
        waiting: (waiting / sum).max(0.0),
    }
}

/// The running sums, rescaled together when they grow large.
struct Acc {
    cu: u64,
    /// The current term.
    t: f64,
    sum: f64,
    busy: f64,
    waiting: f64,
    /// Of `sum`, the terms with every server busy.
    above: f64,
}

impl Acc {
    /// Adds the current term as state `n`.
    fn add(&mut self, n: u64) {
        let t = self.t;
        self.sum += t;
        self.busy += n.min(self.cu) as f64 * t;
        self.waiting += (n - n.min(self.cu)) as f64 * t;
        if n >= self.cu {
            self.above += t;
        }
        if t > BIG || self.sum > BIG {
            for x in [
                &mut self.t,
                &mut self.sum,
                &mut self.busy,
                &mut self.waiting,
                &mut self.above,
            ] {
                *x /= BIG;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_agree_at_the_switch() {
        // Just below and just above r = 1 the two directions give nearly
        // the same chain.
        let lo = sums(4, 40, 3.99, 0.999_999, 1.0);
        let hi = sums(4, 40, 4.01, 1.000_001, 1.0);
        assert!((lo.full - hi.full).abs() < 1e-3, "{lo:?} {hi:?}");
        assert!((lo.waiting - hi.waiting).abs() < 0.1);
    }

    #[test]
    fn unbounded_geometric_tail() {
        // M/M/1 at rho 0.5, unbounded: P(busy) 0.5, Lq = rho²/(1-rho) = 0.5.
        let s = sums(1, u64::MAX, 0.5, 0.5, 1.0);
        assert!((s.all_busy - 0.5).abs() < 1e-12);
        assert!((s.waiting - 0.5).abs() < 1e-12);
        assert_eq!(s.full, 0.0);
    }
}
