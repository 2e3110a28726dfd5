//! A bounded queue: M/M/c/K and an M/G/c/K approximation, `c` servers and room for `K` requests in all
//! (in service and waiting, `K >= c`); an arrival that finds `K` there is
//! turned away.
//!
//! The stationary distribution is `p(n) ∝ a^n / n!` for `n <= c` and
//! `p(c) rho^(n-c)` above, `a = lambda E[S]`, `rho = a / c`, summed by the
//! stable recurrence shared with Erlang B ([`super::birth_death`]). For
//! service that is not exponential, [`mgck`] keeps that form with another
//! ratio above `c` (a two-moment approximation).
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

/// M/M/c/K: Poisson arrivals at `lambda` per second, exponential service
/// with mean `mean` seconds, `c >= 1` servers, room for `k` in all (raised
/// to `c` if smaller). `None` when there are no servers.
pub fn mmck(c: u32, k: u64, lambda: f64, mean: f64) -> Option<Bounded> {
    mgck(c, k, lambda, mean, 1.0)
}

/// The ratio `r` between successive states above `c` in the M/G/c/K
/// approximation, for offered load per server `rho` and service `cs²`
/// `scv`: with `m = (1 + cs²) / 2`, `r / (1 - r) = m rho / (1 - rho)` below
/// capacity (so the mean queue of those who wait is Allen-Cunneen's, and an
/// unbounded room gives Allen-Cunneen's M/G/c exactly), mirrored above it
/// (`1 / r(1 / rho)`, the room filling from the top), 1 at `rho = 1`.
/// `r = rho` for exponential service: M/M/c/K.
pub fn ratio(rho: f64, scv: f64) -> f64 {
    let m = (1.0 + scv.max(0.0)) / 2.0;
    let below = |x: f64| m * x / (1.0 - x + m * x);
    if (scv - 1.0).abs() < 1e-12 {
        rho
    } else if rho < 1.0 {
        below(rho)
    } else if rho > 1.0 {
        1.0 / below(1.0 / rho)
    } else {
        1.0
    }
}

/// M/G/c/K, a two-moment approximation. The infinite queue's states are
/// taken as M/M/c's below `c` (`aⁿ/n!`), and from `c` on as M/M/c's mass
/// (Erlang C) spread geometrically with the ratio from the service's `cs²`
/// ([`ratio`]: Allen-Cunneen's mean queue); the bounded queue's states
/// below `K` are proportional to them, and flow conservation (what is
/// admitted is served: `λ (1 - P(K)) E[S] = busy servers`) fixes the
/// blocking, as in the exact M/G/1/K result (Keilson; Tijms's heuristic
/// for several servers): `P(K) = u / (1 + u)`,
/// `u = (1 - ρ) / (1 - r) x t(K) / Σ_{n<K} t(n)`. Exact for exponential
/// service (`scv = 1`, `r = ρ`: M/M/c/K), Allen-Cunneen's M/G/c as the
/// room grows, `1 - 1/ρ` in deep overload. The carried load is
/// `ρ (1 - P(K))`, the wait of the admitted by Little's law. Its tolerance
/// against simulation: `tests/it/theory_mgck.rs` and docs/theory.md.
pub fn mgck(c: u32, k: u64, lambda: f64, mean: f64, scv: f64) -> Option<Bounded> {
    if c == 0 {
        return None;
    }
    let k = k.max(u64::from(c));
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
    let r = ratio(rho, scv);
    let exp = (scv - 1.0).abs() < 1e-12;
    let m = (1.0 + scv.max(0.0)) / 2.0;
    // From c on, the infinite queue's states carry M/M/c's mass (Erlang C)
    // spread geometrically with ratio r: weight (1 - r) / (1 - rho).
    let near_one = (1.0 - r).abs() < 1e-9 || (1.0 - rho).abs() < 1e-9;
    let kappa = if exp {
        1.0
    } else if near_one {
        1.0 / m
    } else {
        (1.0 - r) / (1.0 - rho)
    };
    let s = super::birth_death::sums(c, k, a, r, kappa);
    // Of the states below K, normalized among themselves: t(K) / Σ_{n<K},
    // and the mean number waiting.
    let below = (1.0 - s.full).max(0.0);
    let above_c = (k - u64::from(c)) as f64;
    let (blocking, waiting_below) = if below <= 0.0 {
        (1.0 - 1.0 / rho.max(1.0), above_c)
    } else {
        let tail = s.full / below;
        let factor = 1.0 / kappa;
        let u = factor * tail;
        (
            (u / (1.0 + u)).clamp(0.0, 1.0),
            ((s.waiting - above_c * s.full) / below).max(0.0),
        )
    };
    let queue_len = (1.0 - blocking) * waiting_below + blocking * above_c;
    let admitted = lambda * (1.0 - blocking);
    let wait = if admitted > 0.0 {
        queue_len / admitted
    } else {
        0.0
    };
    Some(Bounded {
        rho,
        blocking,
        utilization: (rho * (1.0 - blocking)).clamp(0.0, 1.0),
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

#[cfg(test)]
mod mgck_tests {
    use super::*;

    #[test]
    fn the_ratio_is_exponential_at_scv_one_and_allen_cunneen_in_the_limit() {
        for rho in [0.2, 0.8, 1.0, 1.3] {
            assert_eq!(ratio(rho, 1.0), rho);
        }
        // Constant service at rho 0.8: the waiting ones' mean queue halves,
        // r / (1 - r) = 0.5 x 4 = 2, r = 2/3 (also M/D/1's exact tail decay).
        assert!((ratio(0.8, 0.0) - 2.0 / 3.0).abs() < 1e-12);
        assert!(ratio(1.5, 0.0) > 1.5 && ratio(1.5, 4.0) < 1.5);
        // A large room: Allen-Cunneen's M/G/c wait.
        for (c, rho, scv) in [(1u32, 0.7, 0.0), (4, 0.8, 0.25), (16, 0.9, 3.0)] {
            let lam = rho * c as f64;
            let open = super::super::erlang::mgc(c, lam, 1.0, scv).unwrap();
            let b = mgck(c, 1_000_000, lam, 1.0, scv).unwrap();
            assert!(
                (b.wait - open.wait).abs() < 1e-6 * open.wait,
                "c {c}: {} vs {}",
                b.wait,
                open.wait
            );
        }
    }

    #[test]
    fn overload_carries_the_capacity() {
        let b = mgck(4, 24, 800.0, 0.01, 0.0).unwrap();
        assert!((b.blocking - 0.5).abs() < 0.01, "{b:?}");
        assert!(b.utilization > 0.99);
    }
}
