//! Closed queueing networks: `N` users who think for `Z` on average between
//! an answer and their next request, and stations with a demand per user
//! request (`D_k = visits x mean service`, seconds) on `c_k` servers.
//!
//! **Exact Mean Value Analysis** (Reiser and Lavenberg 1980) with
//! multi-server stations by their marginal probabilities (Bolch, Greiner,
//! de Meer and Trivedi, *Queueing Networks and Markov Chains*, 2nd ed.,
//! section 8.2.1): for `n = 1..N`,
//!
//! - residence `R_k(n) = D_k / c_k [1 + Q_k(n-1) + Σ_{j=0}^{c_k-2} (c_k-1-j) p_k(j | n-1)]`,
//! - throughput `X(n) = n / (Z + Σ_k R_k(n))` (the response-time law),
//! - queue `Q_k(n) = X(n) R_k(n)` (Little),
//! - `p_k(j | n) = X(n) D_k / j · p_k(j-1 | n-1)` for `1 ≤ j < c_k`, and
//!   `p_k(0 | n) = 1 - (X(n) D_k + Σ_{j=1}^{c_k-1} (c_k-j) p_k(j | n)) / c_k`.
//!
//! It is exact for product-form networks (exponential service at
//! first-come-first-served stations, any service at delay and
//! processor-sharing ones): one server reduces to the classic recursion
//! `R = D (1 + Q(n-1))`, and `c_k ≥ n` servers to a delay `R = D`. Only the
//! `min(c_k, N)` first marginals are kept, so the work is
//! `N x Σ min(c_k, N)`. Past [`MAX_WORK`] the answer is the **asymptotic
//! bounds** instead (`X ≤ min(N / (Z + D), min_k c_k / D_k)`), flagged
//! `exact: false`, with no queue lengths.
//!
//! Open traffic at the same stations (a mixed network) is taken as leaving
//! `1 - U_open` of each server to the users: their demand there is
//! `D_k / (1 - U_open,k)` ([`inflate`]; exact for one server in a
//! product-form mixed network, Lazowska et al., *Quantitative System
//! Performance*, ch. 7, an approximation for several).

/// Most multiply-adds an exact solution may take (users x servers kept).
pub const MAX_WORK: u64 = 50_000_000;

/// A station of the closed network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Station {
    /// Demand per user request, seconds (visits x mean service).
    pub demand: f64,
    /// Parallel servers (at least 1).
    pub servers: u32,
}

/// The solution at `N` users.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// Throughput, user requests per second.
    pub throughput: f64,
    /// Mean response time per request (the stations' residences summed,
    /// think time excluded), seconds.
    pub response: f64,
    /// Per station: residence per user request (waits and services over
    /// all its visits), seconds. Empty when not exact.
    pub residence: Vec<f64>,
    /// Per station: mean requests there (waiting and in service). Empty
    /// when not exact.
    pub queue: Vec<f64>,
    /// Per station: busy servers over servers, `X D_k / c_k`.
    pub utilization: Vec<f64>,
    /// True for exact MVA; false for the asymptotic bounds (throughput is
    /// then the upper bound and `response` the matching lower bound).
    pub exact: bool,
}

/// Solves the closed network for `users` users thinking `think` seconds.
/// `None` when there is nothing to solve (no users, no demand, or inputs
/// not finite and non-negative).
pub fn solve(users: u64, think: f64, stations: &[Station]) -> Option<Solution> {
    let ok = |x: f64| x.is_finite() && x >= 0.0;
    if users == 0 || !ok(think) || stations.iter().any(|s| !ok(s.demand) || s.servers == 0) {
        return None;
    }
    let total: f64 = stations.iter().map(|s| s.demand).sum();
    if total + think <= 0.0 {
        return None;
    }
    let kept: u64 = stations
        .iter()
        .map(|s| u64::from(s.servers).min(users))
        .sum();
    if users.saturating_mul(kept.max(1)) > MAX_WORK {
        return Some(bounds(users, think, stations));
    }
    let n_st = stations.len();
    let mut q = vec![0.0; n_st];
    let mut r = vec![0.0; n_st];
    // Marginals p_k(j | n-1) for j < min(c_k, N), one vector per station.
    let mut p: Vec<Vec<f64>> = stations
        .iter()
        .map(|s| {
            let c = (u64::from(s.servers).min(users)) as usize;
            let mut v = vec![0.0; c.max(1)];
            v[0] = 1.0;
            v
        })
        .collect();
    let mut x = 0.0;
    for n in 1..=users {
        for (k, s) in stations.iter().enumerate() {
            let c = s.servers as f64;
            let pk = &p[k];
            let extra: f64 = if s.servers > 1 {
                pk.iter()
                    .enumerate()
                    .take((s.servers - 1) as usize)
                    .map(|(j, pj)| (c - 1.0 - j as f64) * pj)
                    .sum()
            } else {
                0.0
            };
            r[k] = s.demand / c * (1.0 + q[k] + extra);
        }
        let resp: f64 = r.iter().sum();
        x = n as f64 / (think + resp);
        for (k, s) in stations.iter().enumerate() {
            q[k] = x * r[k];
            if s.servers > 1 {
                let c = s.servers as f64;
                let a = x * s.demand;
                let pk = &mut p[k];
                let len = pk.len();
                // Downwards so p(j-1 | n-1) is read before it is replaced.
                for j in (1..len).rev() {
                    pk[j] = a / j as f64 * pk[j - 1];
                }
                let busy: f64 = (1..len).map(|j| (c - j as f64) * pk[j]).sum();
                pk[0] = (1.0 - (a + busy) / c).max(0.0);
            }
        }
    }
    let response: f64 = r.iter().sum();
    Some(Solution {
        throughput: x,
        response,
        utilization: stations
            .iter()
            .map(|s| (x * s.demand / s.servers as f64).min(1.0))
            .collect(),
        residence: r,
        queue: q,
        exact: true,
    })
}

/// The asymptotic bounds: throughput at most `N / (Z + D)` and at most the
/// busiest station's `c_k / D_k`; response at least `max(D, N / X - Z)`.
pub fn bounds(users: u64, think: f64, stations: &[Station]) -> Solution {
    let total: f64 = stations.iter().map(|s| s.demand).sum();
    let cap = stations
        .iter()
        .filter(|s| s.demand > 0.0)
        .map(|s| s.servers as f64 / s.demand)
        .fold(f64::INFINITY, f64::min);
    let x = (users as f64 / (think + total)).min(cap);
    Solution {
        throughput: x,
        response: total.max(users as f64 / x - think),
        residence: Vec::new(),
        queue: Vec::new(),
        utilization: stations
            .iter()
            .map(|s| (x * s.demand / s.servers as f64).min(1.0))
            .collect(),
        exact: false,
    }
}

/// A closed class's demand at a station that open traffic keeps busy
/// `open_util` of the time: `D / (1 - U_open)`; infinite when the open
/// traffic alone fills it.
pub fn inflate(demand: f64, open_util: f64) -> f64 {
    if open_util >= 1.0 {
        f64::INFINITY
    } else {
        demand / (1.0 - open_util.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(demand: f64, servers: u32) -> Station {
        Station { demand, servers }
    }

    /// The finite-source queue (machine repairman) with `c` repairmen by
    /// its birth-death chain: an independent, exact answer for one station.
    fn repairman(users: u64, think: f64, demand: f64, c: u32) -> (f64, f64) {
        let mut p = vec![1.0f64];
        for n in 1..=users {
            let birth = (users - n + 1) as f64 / think;
            let death = (n.min(u64::from(c))) as f64 / demand;
            p.push(p[(n - 1) as usize] * birth / death);
        }
        let sum: f64 = p.iter().sum();
        let busy: f64 = p
            .iter()
            .enumerate()
            .map(|(n, pn)| (n as u64).min(u64::from(c)) as f64 * pn / sum)
            .sum();
        let in_system: f64 = p
            .iter()
            .enumerate()
            .map(|(n, pn)| n as f64 * pn / sum)
            .sum();
        (busy / demand, in_system)
    }

    #[test]
    fn two_users_one_server_by_hand() {
        // Z = 1, D = 1, N = 2: X(1) = 1/2, Q(1) = 1/2, R(2) = 1.5,
        // X(2) = 2 / 2.5 = 0.8 (the repairman chain: p0 = 1/5, X = 1 - p0).
        let s = solve(2, 1.0, &[st(1.0, 1)]).unwrap();
        assert!((s.throughput - 0.8).abs() < 1e-12, "{s:?}");
        assert!((s.response - 1.5).abs() < 1e-12);
        assert!((s.queue[0] - 1.2).abs() < 1e-12);
    }

    #[test]
    fn central_server_by_hand() {
        // Three single-server stations (0.605 s, 2.1 s, 1.35 s), Z = 15 s,
        // the recursion worked by hand: N = 1: R = 4.055, X = 1/19.055;
        // N = 2: R = 4.4013, X = 0.10309; N = 3: R = 4.7998, X = 0.15152.
        let s = solve(3, 15.0, &[st(0.605, 1), st(2.1, 1), st(1.35, 1)]).unwrap();
        assert!((s.throughput - 0.151_52).abs() < 1e-5, "{s:?}");
        assert!((s.response - 4.7998).abs() < 1e-4, "{s:?}");
        // Symmetric: two equal stations, no think, N = 2: each holds 1.
        let s = solve(2, 0.0, &[st(1.0, 1), st(1.0, 1)]).unwrap();
        assert!((s.queue[0] - 1.0).abs() < 1e-12 && (s.throughput - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn one_station_matches_the_repairman_chain() {
        for &(users, think, demand, c) in &[
            (1u64, 8.0, 2.0, 1u32),
            (5, 8.0, 2.0, 1),
            (10, 0.5, 2.0, 4),
            (40, 3.0, 1.0, 8),
            (200, 50.0, 2.0, 3),
            (7, 1.0, 5.0, 16),
        ] {
            let s = solve(users, think, &[st(demand, c)]).unwrap();
            let (x, l) = repairman(users, think, demand, c);
            assert!(
                (s.throughput - x).abs() < 1e-9 * x.max(1.0),
                "N {users} Z {think} D {demand} c {c}: MVA {} chain {x}",
                s.throughput
            );
            assert!(
                (s.queue[0] - l).abs() < 1e-7 * l.max(1.0),
                "{} {l}",
                s.queue[0]
            );
        }
    }

    #[test]
    fn no_think_saturates_the_servers_exactly() {
        // 10 users, no think, 4 servers of 2 ms: always 4 busy, 6 waiting.
        let s = solve(10, 0.0, &[st(0.002, 4)]).unwrap();
        assert!((s.throughput - 2000.0).abs() < 1e-6, "{s:?}");
        assert!((s.response - 0.005).abs() < 1e-12);
    }

    #[test]
    fn enough_servers_is_a_delay() {
        let s = solve(6, 1.0, &[st(0.5, 6)]).unwrap();
        assert!((s.response - 0.5).abs() < 1e-12);
        assert!((s.throughput - 6.0 / 1.5).abs() < 1e-12);
    }

    #[test]
    fn bounds_hold_and_take_over_past_the_work_limit() {
        let sts = [st(0.002, 1), st(0.001, 2)];
        for n in [1u64, 3, 10, 50] {
            let s = solve(n, 0.01, &sts).unwrap();
            let b = bounds(n, 0.01, &sts);
            assert!(s.throughput <= b.throughput + 1e-9);
            assert!(s.response + 1e-12 >= b.response);
        }
        let big = solve(1_000_000, 0.0, &[st(0.002, 100)]).unwrap();
        assert!(!big.exact);
        assert!((big.throughput - 50_000.0).abs() < 1e-6);
    }

    #[test]
    fn refuses_what_it_cannot_solve() {
        assert!(solve(0, 1.0, &[st(1.0, 1)]).is_none());
        assert!(solve(1, 0.0, &[st(0.0, 1)]).is_none());
        assert!(solve(1, 1.0, &[st(f64::NAN, 1)]).is_none());
        assert!(solve(1, 1.0, &[st(1.0, 0)]).is_none());
    }
}
