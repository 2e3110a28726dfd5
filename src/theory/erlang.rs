//! Many servers, one unbounded queue: M/M/c (Erlang C) and the Allen-Cunneen
//! approximation for M/G/c.
//!
//! Offered load `a = lambda x E[S]` (erlangs), utilization `rho = a / c`.
//! Erlang B is `p(c)` of the birth-death chain `t(n) = aⁿ/n!`, summed by
//! the rescaled recurrence shared with M/M/c/K ([`super::birth_death`]: no
//! factorials, no powers, no overflow up to the topology's limit of a
//! million servers), and Erlang C from it:
//! `C = B / (1 - rho (1 - B))`. With `rho >= 1` the queue grows without
//! bound and there is no steady state: the functions say so
//! ([`Unstable`]) instead of giving a number.
//!
//! - M/M/c mean wait: `Wq = C x E[S] / (c (1 - rho))`.
//! - M/G/c (Allen-Cunneen, Poisson arrivals so `ca² = 1`):
//!   `Wq ≈ Wq(M/M/c) x (1 + cs²) / 2`, `cs²` the service time's squared
//!   coefficient of variation. Exact for `c = 1` (Pollaczek-Khinchine) and for
//!   `cs² = 1`; for several servers its error is typically within 10-20%.

/// There is no steady state: arrivals meet or exceed capacity (`rho >= 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unstable {
    /// The utilization the arrivals would need, `lambda E[S] / c`.
    pub rho: f64,
}

impl std::fmt::Display for Unstable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unstable (ρ ≥ 1): arrivals exceed capacity (offered load {:.2} per server)",
            self.rho
        )
    }
}

/// Erlang B: the probability that `c` servers offered `a` erlangs are all
/// busy when there is no queue (M/M/c/c). 1 for `c = 0`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    if a.is_nan() || a <= 0.0 {
        return if c == 0 { 1.0 } else { 0.0 };
    }
    if c == 0 {
        return 1.0;
    }
    super::birth_death::sums(c, u64::from(c), a, 0.0, 1.0).full
}

/// Erlang C: the probability that an arrival waits, for `c` servers offered
/// `a` erlangs (M/M/c).
pub fn erlang_c(c: u32, a: f64) -> Result<f64, Unstable> {
    let rho = utilization(c, a);
    if rho.is_nan() || rho >= 1.0 {
        return Err(Unstable { rho });
    }
    let b = erlang_b(c, a);
    Ok((b / (1.0 - rho * (1.0 - b))).clamp(0.0, 1.0))
}

/// `a / c` (infinite with no servers and some load).
pub fn utilization(c: u32, a: f64) -> f64 {
    if c == 0 {
        if a > 0.0 { f64::INFINITY } else { 0.0 }
    } else {
        a / c as f64
    }
}

/// What a queue with `c` servers and no bound on waiting predicts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// `lambda E[S] / c`.
    pub rho: f64,
    /// Probability that an arrival waits (Erlang C).
    pub p_wait: f64,
    /// Mean wait before service, seconds.
    pub wait: f64,
    /// Mean time at the node, wait plus service, seconds.
    pub sojourn: f64,
}

/// M/M/c: Poisson arrivals at `lambda` per second, exponential service with
/// mean `mean` seconds, `c` servers.
pub fn mmc(c: u32, lambda: f64, mean: f64) -> Result<Prediction, Unstable> {
    mgc(c, lambda, mean, 1.0)
}

/// M/G/c by Allen-Cunneen: as [`mmc`] with the wait scaled by
/// `(1 + scv) / 2`, `scv` the service time's squared coefficient of
/// variation (`Var[S] / E[S]²`: 0 constant, 1 exponential).
pub fn mgc(c: u32, lambda: f64, mean: f64, scv: f64) -> Result<Prediction, Unstable> {
    let a = lambda.max(0.0) * mean.max(0.0);
    let p_wait = erlang_c(c, a)?;
    let rho = utilization(c, a);
    let wait = if p_wait > 0.0 {
        p_wait * mean / (c as f64 * (1.0 - rho)) * (1.0 + scv.max(0.0)) / 2.0
    } else {
        0.0
    };
    Ok(Prediction {
        rho,
        p_wait,
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
    fn one_server_is_mm1() {
        for rho in [0.1, 0.5, 0.8, 0.95] {
            // E[S] = 1: Wq = rho / (1 - rho), W = 1 / (1 - rho), P(wait) = rho.
            let p = mmc(1, rho, 1.0).unwrap();
            assert!(close(p.p_wait, rho, 1e-12));
            assert!(close(p.wait, rho / (1.0 - rho), 1e-12));
            assert!(close(p.sojourn, 1.0 / (1.0 - rho), 1e-12));
        }
    }

    #[test]
    fn tabulated_values() {
        // Erlang B, from the standard tables.
        assert!(close(erlang_b(1, 1.0), 0.5, 1e-12));
        assert!(close(erlang_b(2, 1.0), 0.2, 1e-12));
        assert!(close(erlang_b(10, 5.0), 0.018_384, 1e-4));
        assert!(close(erlang_b(30, 20.0), 0.008_457_5, 1e-4));
        // Erlang C: 2 servers at 1 erlang: 1/3; 10 servers at 8 erlangs: 0.409.
        assert!(close(erlang_c(2, 1.0).unwrap(), 1.0 / 3.0, 1e-12));
        assert!(close(erlang_c(10, 8.0).unwrap(), 0.409_2, 1e-3));
        // M/M/2 at rho 0.5, E[S] = 1: Wq = 1/3.
        assert!(close(mmc(2, 1.0, 1.0).unwrap().wait, 1.0 / 3.0, 1e-12));
    }

    #[test]
    fn allen_cunneen_with_scv_one_is_erlang_c() {
        for c in [1, 3, 16, 200] {
            let lam = 0.7 * c as f64 / 0.01;
            let a = mmc(c, lam, 0.01).unwrap();
            let b = mgc(c, lam, 0.01, 1.0).unwrap();
            assert_eq!(a, b);
        }
        // M/D/1 is half of M/M/1 (Pollaczek-Khinchine).
        let md1 = mgc(1, 0.5, 1.0, 0.0).unwrap();
        assert!(close(md1.wait, 0.5, 1e-12));
    }

    #[test]
    fn unstable_is_refused_not_a_number() {
        assert_eq!(mmc(4, 400.0, 0.01), Err(Unstable { rho: 1.0 }));
        assert!(mmc(0, 1.0, 0.01).is_err());
        assert!(
            mmc(4, 500.0, 0.01)
                .unwrap_err()
                .to_string()
                .starts_with("unstable (ρ ≥ 1): arrivals exceed capacity")
        );
    }

    #[test]
    fn a_million_servers_do_not_overflow() {
        let c = 1_000_000;
        let p = mmc(c, 0.99 * c as f64, 1.0).unwrap();
        assert!(p.p_wait.is_finite() && (0.0..=1.0).contains(&p.p_wait));
        assert!(p.wait.is_finite() && p.wait >= 0.0);
        assert!(erlang_b(c, 1e9).is_finite());
    }
}
