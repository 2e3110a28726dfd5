//! Load balancer: picks a backend per request, tracks connections, and
//! (optionally) health-checks its backends.
//!
//! Without health checks a dead backend keeps getting its share: requests
//! sent to it fail at once. With least-connections that is worse: a backend
//! that fails fast always has the fewest connections, so it attracts most of
//! the traffic (sinkholing). Health checks take a backend out after
//! `unhealthy_after` failed probes in a row and put it back after
//! `healthy_after` passed ones.

use crate::rng::{Stream, fnv1a, mix64};
use crate::topology::Policy;

/// Virtual nodes per backend on the consistent-hash ring.
const VNODES: u32 = 100;

/// A load balancer's run-time state.
#[derive(Clone, Debug)]
pub struct LbState {
    /// Backend node indices.
    pub backends: Vec<u32>,
    /// Picking policy.
    pub policy: Policy,
    /// Requests in progress per backend.
    pub active: Vec<u32>,
    /// Requests sent per backend (after the warm-up).
    pub sent: Vec<u64>,
    /// Whether the balancer considers each backend healthy.
    pub healthy: Vec<bool>,
    fails: Vec<u32>,
    passes: Vec<u32>,
    /// (interval ns, unhealthy after, healthy after).
    pub health: Option<(u64, u32, u32)>,
    next: usize,
    ring: Vec<(u64, u32)>,
    rng: Stream,
    /// For `Nearest`: latency from each client region (the last row: no
    /// region) to each backend.
    pub near: Vec<Vec<u64>>,
}

impl LbState {
    /// For these backends (their ids name the ring's points).
    pub fn new(
        backends: Vec<u32>,
        ids: &[&str],
        policy: Policy,
        health: Option<(u64, u32, u32)>,
        rng: Stream,
    ) -> Self {
        let n = backends.len();
        let mut ring = Vec::new();
        if policy == Policy::ConsistentHash {
            for (b, id) in ids.iter().enumerate() {
                for v in 0..VNODES {
                    ring.push((mix64(fnv1a(id.as_bytes()) ^ mix64(v as u64)), b as u32));
                }
            }
            ring.sort_unstable();
        }
        LbState {
            backends,
            policy,
            active: vec![0; n],
            sent: vec![0; n],
            healthy: vec![true; n],
            fails: vec![0; n],
            passes: vec![0; n],
            health,
            next: 0,
            ring,
            rng,
            near: Vec::new(),
        }
    }

    fn usable(&self, b: usize) -> bool {
        self.healthy[b]
    }

    /// Picks a backend (an index into `backends`) for a request with `key`.
    /// When every backend is marked unhealthy it fails open and uses them all.
    pub fn pick(&mut self, key: u64, client_region: u16) -> usize {
        let n = self.backends.len();
        let any_healthy = self.healthy.iter().any(|&h| h);
        let ok = |s: &Self, b: usize| !any_healthy || s.usable(b);
        match self.policy {
            Policy::RoundRobin => {
                for k in 0..n {
                    let b = (self.next + k) % n;
                    if ok(self, b) {
                        self.next = (b + 1) % n;
                        return b;
                    }
                }
                0
            }
            Policy::LeastConnections => {
                let mut best = None;
                for k in 0..n {
                    let b = (self.next + k) % n;
                    if ok(self, b) && best.is_none_or(|x: usize| self.active[b] < self.active[x]) {
                        best = Some(b);
                    }
                }
                let b = best.unwrap_or(0);
                self.next = (b + 1) % n;
                b
            }
            Policy::Nearest => {
                let row = (client_region as usize).min(self.near.len().saturating_sub(1));
                let dist = |s: &Self, b: usize| s.near.get(row).map_or(0, |r| r[b]);
                let mut best = None;
                for k in 0..n {
                    let b = (self.next + k) % n;
                    if ok(self, b) && best.is_none_or(|x: usize| dist(self, b) < dist(self, x)) {
                        best = Some(b);
                    }
                }
                let b = best.unwrap_or(0);
                self.next = (b + 1) % n;
                b
            }
            Policy::Random => self.random_ok(any_healthy),
            Policy::PowerOfTwo => {
                let a = self.random_ok(any_healthy);
                let b = self.random_ok(any_healthy);
                if self.active[b] < self.active[a] {
                    b
                } else {
                    a
                }
            }
            Policy::ConsistentHash => {
                let h = mix64(key);
                let start = self.ring.partition_point(|&(p, _)| p < h);
                for k in 0..self.ring.len() {
                    let (_, b) = self.ring[(start + k) % self.ring.len()];
                    if ok(self, b as usize) {
                        return b as usize;
                    }
                }
                0
            }
        }
    }

    fn random_ok(&mut self, any_healthy: bool) -> usize {
        let n = self.backends.len();
        let pool = if any_healthy {
            self.healthy.iter().filter(|&&h| h).count()
        } else {
            n
        };
        let mut k = ((self.rng.next_u64() as u128 * pool as u128) >> 64) as usize;
        for b in 0..n {
            if !any_healthy || self.healthy[b] {
                if k == 0 {
                    return b;
                }
                k -= 1;
            }
        }
        0
    }

    /// Records one health probe of backend `b`; returns true if its state changed.
    pub fn probe(&mut self, b: usize, up: bool) -> bool {
        let Some((_, unhealthy_after, healthy_after)) = self.health else {
            return false;
        };
        if up {
            self.fails[b] = 0;
            self.passes[b] += 1;
            if !self.healthy[b] && self.passes[b] >= healthy_after {
                self.healthy[b] = true;
                return true;
            }
        } else {
            self.passes[b] = 0;
            self.fails[b] += 1;
            if self.healthy[b] && self.fails[b] >= unhealthy_after {
                self.healthy[b] = false;
                return true;
            }
        }
        false
    }
}

impl crate::sim::Simulation {
    /// Load balancer `i` hands `req` to a backend (its visit takes no time).
    pub(crate) fn lb_forward(&mut self, i: usize, req: u32) {
        let counted = self.counts(self.now);
        let key = self.reqs[req].key;
        let region = self.model.source_region[self.reqs[req].source as usize];
        let crate::sim::KindState::Lb(lb) = &mut self.nodes[i].kind else {
            unreachable!("lb_forward on a load balancer")
        };
        let b = lb.pick(key, region);
        lb.active[b] += 1;
        if counted {
            lb.sent[b] += 1;
        }
        let target = lb.backends[b];
        self.record_visit(i, req, true);
        let prev = self.reqs[req];
        if prev.lb != crate::sim::ROOT {
            self.lb_done(prev.lb as usize, prev.lb_backend as usize);
        }
        let r = &mut self.reqs[req];
        r.lb = i as u32;
        r.lb_backend = b as u16;
        self.forward(i, target as usize, req);
    }

    /// A request that load balancer `i` sent to backend `b` is done there.
    pub(crate) fn lb_done(&mut self, i: usize, b: usize) {
        if let crate::sim::KindState::Lb(lb) = &mut self.nodes[i].kind {
            lb.active[b] -= 1;
        }
    }

    /// Load balancer `i` probes its backends, then schedules the next probe.
    pub(crate) fn on_health(&mut self, i: usize) {
        let crate::sim::KindState::Lb(lb) = &self.nodes[i].kind else {
            return;
        };
        let up: Vec<bool> = lb
            .backends
            .iter()
            .map(|&b| !self.nodes[b as usize].down && !self.partitioned(i, b as usize))
            .collect();
        let crate::sim::KindState::Lb(lb) = &mut self.nodes[i].kind else {
            return;
        };
        for (b, up) in up.into_iter().enumerate() {
            lb.probe(b, up);
        }
        if let Some((every, _, _)) = lb.health {
            let at = self.now.saturating_add(every);
            self.queue
                .push(at, crate::sim::Event::Health { node: i as u32 });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    fn lb(policy: Policy) -> LbState {
        LbState::new(
            vec![10, 11, 12],
            &["a", "b", "c"],
            policy,
            Some((1, 2, 1)),
            Stream::new(1, Purpose::Routing, "lb"),
        )
    }

    #[test]
    fn round_robin_skips_unhealthy() {
        let mut l = lb(Policy::RoundRobin);
        assert_eq!(
            (0..6).map(|_| l.pick(0, 0)).collect::<Vec<_>>(),
            vec![0, 1, 2, 0, 1, 2]
        );
        assert!(!l.probe(1, false));
        assert!(l.probe(1, false));
        assert_eq!(
            (0..4).map(|_| l.pick(0, 0)).collect::<Vec<_>>(),
            vec![0, 2, 0, 2]
        );
        assert!(l.probe(1, true));
        assert!(l.healthy[1]);
    }

    #[test]
    fn least_connections_prefers_the_idle() {
        let mut l = lb(Policy::LeastConnections);
        l.active = vec![5, 0, 3];
        assert_eq!(l.pick(0, 0), 1);
        l.active = vec![2, 2, 2];
        let picks: Vec<_> = (0..3).map(|_| l.pick(0, 0)).collect();
        let mut sorted = picks.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2], "ties rotate: {picks:?}");
    }

    #[test]
    fn consistent_hash_is_stable_and_spreads() {
        let mut l = lb(Policy::ConsistentHash);
        let before: Vec<_> = (0..3000u64).map(|k| l.pick(k, 0)).collect();
        let again: Vec<_> = (0..3000u64).map(|k| l.pick(k, 0)).collect();
        assert_eq!(before, again);
        for b in 0..3 {
            let share = before.iter().filter(|&&x| x == b).count() as f64 / 3000.0;
            assert!((share - 1.0 / 3.0).abs() < 0.08, "backend {b}: {share}");
        }
        // Taking one backend out moves only its keys.
        l.probe(2, false);
        l.probe(2, false);
        let after: Vec<_> = (0..3000u64).map(|k| l.pick(k, 0)).collect();
        for (x, y) in before.iter().zip(&after) {
            if *x != 2 {
                assert_eq!(x, y);
            } else {
                assert_ne!(*y, 2);
            }
        }
    }

    #[test]
    fn random_and_power_of_two_use_only_healthy() {
        for p in [Policy::Random, Policy::PowerOfTwo] {
            let mut l = lb(p);
            l.probe(0, false);
            l.probe(0, false);
            let picks: Vec<_> = (0..300).map(|_| l.pick(0, 0)).collect();
            assert!(picks.iter().all(|&b| b != 0));
            assert!(picks.contains(&1) && picks.contains(&2));
        }
    }
}
