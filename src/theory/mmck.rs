//! A bounded queue: M/M/c/K, `c` servers and room for `K` requests in all
//! (in service and waiting, `K >= c`); an arrival that finds `K` there is
//! turned away.
//!
//! The stationary distribution is `p(n) ∝ a^n / n!` for `n <= c` and
//! `p(c) rho^(n-c)` above, `a = lambda E[S]`, `rho = a / c`. It is summed by
//! the recurrence `t(n) = t(n-1) a / min(n, c)`, rescaled whenever a term
//! grows past 1e200, so no factorial or power overflows for any `c` or `K`
//! within the topology's limits; terms that underflow are negligible.
//! Unlike M/M/c it has a steady state at any load: above capacity the
//! queue stays full and the excess is blocked.
//!
//! Blocking `P(K)`; mean number waiting `Lq = sum (n - c) p(n)`; mean wait
//! of admitted requests by Little's law, `Wq = Lq / (lambda (1 - P(K)))`.

/// What a bounded queue predicts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounded {
    /// `lambda E[S] / c` offered (may exceed 1).
    pub rho: f64,
    /// Share of arrivals turned away, `P(K)`.
    pub blocking: f64,
    /// Busy servers / c: the load carried, `rho (1 - P(K))`.
    pub utilization: f64,
    /// Mean number waiting.
    pub queue_len: f64,
    /// Mean wait of admitted requests, seconds.
    pub wait: f64,
    /// Mean time at the node of admitted requests, seconds.
    pub sojourn: f64,
}

/// Terms above this are rescaled.
const BIG: f64 = 1e200;

/// M/M/c/K: Poisson arrivals at `lambda` per second, exponential service
/// with mean `mean` seconds, `c >= 1` servers, room for `k` in all (raised
/// to `c` if smaller). `None` when there are no servers.
pub fn mmck(c: u32, k: u64, lambda: f64, mean: f64) -> Option<Bounded> {
    if c == 0 {
        return None;
    }
    let k = k.max(c as u64);
    let a = lambda.max(0.0) * mean.max(0.0);
    let rho = a / c as f64;
    if a == 0.0 {
        return Some(Bounded {
            rho: 0.0,
            blocking: 0.0,
            utilization: 0.0,
            queue_len: 0.0,
            wait: 0.0,
            sojourn: mean.max(0.0),
        });
    }
    // Sums of t(n), (n - c)+ t(n) and busy servers min(n, c) t(n), and
    // t(K) / sum: the blocking. Below capacity the terms fall as n grows
    // (summed upwards from 0), above it they fall as n shrinks (summed
    // downwards from K); either way the sum stops once terms are negligible.
    let cu = c as u64;
    let (mut sum, mut waiting, mut busy, blocking);
    if rho <= 1.0 {
        let mut t = 1.0f64;
        (sum, waiting, busy) = (1.0f64, 0.0f64, 0.0f64);
        let mut n: u64 = 0;
        let mut cut = false;
        while n < k {
            n += 1;
            let servers = n.min(cu);
            t *= a / servers as f64;
            if rho < 1.0 && n > cu && t < sum * 1e-18 {
                cut = true;
                break;
            }
            sum += t;
            busy += servers as f64 * t;
            waiting += (n - servers) as f64 * t;
            if t > BIG || sum > BIG {
                t /= BIG;
                sum /= BIG;
                busy /= BIG;
                waiting /= BIG;
            }
        }
        blocking = if cut { 0.0 } else { t / sum };
    } else {
        let mut t = 1.0f64;
        let mut n = k;
        (sum, waiting, busy) = (1.0f64, (k - k.min(cu)) as f64, k.min(cu) as f64);
        while n > 0 {
            t *= n.min(cu) as f64 / a;
            n -= 1;
            if t < sum * 1e-18 {
                break;
            }
            let servers = n.min(cu);
            sum += t;
            busy += servers as f64 * t;
            waiting += (n - servers) as f64 * t;
        }
        blocking = 1.0 / sum;
    }
    let blocking = blocking.clamp(0.0, 1.0);
    let queue_len = (waiting / sum).max(0.0);
    let admitted = lambda * (1.0 - blocking);
    let wait = if admitted > 0.0 {
        queue_len / admitted
    } else {
        0.0
    };
    Some(Bounded {
        rho,
        blocking,
        utilization: (busy / sum / c as f64).clamp(0.0, 1.0),
        queue_len,
        wait,
        sojourn: wait + mean.max(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-12)
    }

    #[test]
    fn mm1k_closed_form() {
        // P(K) = (1 - rho) rho^K / (1 - rho^(K+1)).
        for (rho, k) in [(0.5f64, 1u64), (0.5, 5), (0.9, 10), (1.5, 4), (0.99, 50)] {
            let b = mmck(1, k, rho, 1.0).unwrap();
            let p_k = (1.0 - rho) * rho.powi(k as i32) / (1.0 - rho.powi(k as i32 + 1));
            assert!(close(b.blocking, p_k, 1e-9), "rho {rho} K {k}");
            // L = rho/(1-rho) - (K+1) rho^(K+1) / (1 - rho^(K+1)); Lq = L - (1 - p0).
            let l = rho / (1.0 - rho)
                - (k as f64 + 1.0) * rho.powi(k as i32 + 1) / (1.0 - rho.powi(k as i32 + 1));
            let p0 = (1.0 - rho) / (1.0 - rho.powi(k as i32 + 1));
            assert!(close(b.queue_len, l - (1.0 - p0), 1e-9), "rho {rho} K {k}");
            assert!(close(b.utilization, 1.0 - p0, 1e-9));
        }
    }

    #[test]
    fn no_waiting_room_is_erlang_b() {
        for (c, a) in [(1u32, 1.0), (10, 5.0), (30, 20.0), (500, 480.0)] {
            let b = mmck(c, c as u64, a, 1.0).unwrap();
            assert!(close(
                b.blocking,
                super::super::erlang::erlang_b(c, a),
                1e-9
            ));
            assert_eq!(b.queue_len, 0.0);
        }
    }

    #[test]
    fn a_large_room_tends_to_mmc() {
        for (c, rho) in [(1u32, 0.5), (4, 0.8), (64, 0.9)] {
            let lam = rho * c as f64;
            let open = super::super::erlang::mmc(c, lam, 1.0).unwrap();
            let b = mmck(c, 100_000, lam, 1.0).unwrap();
            assert!(b.blocking < 1e-12);
            assert!(
                close(b.wait, open.wait, 1e-6),
                "c {c}: {} vs {}",
                b.wait,
                open.wait
            );
        }
    }

    #[test]
    fn overload_blocks_the_excess() {
        // Twice the capacity with a big room: about half is turned away,
        // every server is busy, the room is full.
        let b = mmck(8, 2008, 1600.0, 0.01).unwrap();
        assert!(close(b.blocking, 0.5, 1e-6));
        assert!(b.utilization > 0.999);
        assert!(b.queue_len > 1990.0);
        // Huge limits stay finite.
        let h = mmck(1_000_000, 100_000_000, 3e6, 1.0).unwrap();
        assert!(h.blocking.is_finite() && h.wait.is_finite());
    }
}
