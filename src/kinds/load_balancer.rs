//! Load balancer: picks a backend per request, tracks connections, and
//! (optionally) health-checks its backends.
//!
//! Without health checks a dead backend keeps getting its share: requests
//! sent to it fail at once. With least-connections that is worse: a backend
//! that fails fast always has the fewest connections, so it attracts most of
//! the traffic (sinkholing). Health checks take a backend out after
//! `unhealthy_after` failed probes in a row and put it back after
//! `healthy_after` passed ones.

use crate::diag::Diagnostics;
use crate::dist::Sampler;
use crate::fmt::ratio;
use crate::kind::Policy;
use crate::kind::{FieldType, field};
use crate::kinds::MemoryCx;
use crate::kinds::{KindModel, KindState};
use crate::model::{Model, NodeModel, RouteModel};
use crate::rng::{Purpose, Stream, fnv1a, mix64};
use crate::sim::{Fault, Simulation};
use crate::time::Duration;
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Active health checks of a load balancer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// Interval between checks.
    pub every: Duration,
    /// Failed checks in a row before a backend is taken out.
    pub unhealthy_after: u32,
    /// Passed checks in a row before it is put back (default 1).
    #[serde(default)]
    pub healthy_after: Option<u32>,
}

/// A load balancer: forwards each request to one backend (no queue of its
/// own; the backend answers the caller directly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    /// Unique id.
    pub id: String,
    /// Backend node ids.
    pub to: Vec<String>,
    /// How to pick (default `RoundRobin`).
    #[serde(default)]
    pub policy: Policy,
    /// Active health checks; absent: a dead backend keeps getting traffic.
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
}

/// A load balancer's health checks, compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthModel {
    /// Interval between checks, ns.
    pub every: u64,
    /// Failed checks in a row before a backend is taken out.
    pub unhealthy_after: u32,
    /// Passed checks in a row before it is put back.
    pub healthy_after: u32,
}

/// A load balancer, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancerModel {
    /// Backend node indices.
    pub backends: Vec<u32>,
    /// Picking policy.
    pub policy: Policy,
    /// Active health checks.
    pub health: Option<HealthModel>,
}

impl LoadBalancer {
    /// Checks the balancer (backends, health checks).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let lb = self;

        if lb.to.is_empty() {
            ds.push(
                nc.err("the load balancer has no backends".into())
                    .hint("list them: `to: [\"app-1\", \"app-2\"]`"),
            );
        }
        if lb.to.len() > MAX_ROUTES {
            ds.push(
                nc.err(format!(
                    "{} backends, over the limit of {MAX_ROUTES}",
                    lb.to.len()
                ))
                .hint("list each backend once; for more, put balancers in front of groups of them"),
            );
            return;
        }
        let mut seen = std::collections::BTreeSet::new();
        for b in &lb.to {
            nc.on_path(b, "to", ds);
            if b == &lb.id {
                ds.push(nc.err("the load balancer lists itself as a backend".into()));
            }
            if !seen.insert(b) {
                ds.push(
                    nc.err(format!("backend `{b}` is listed twice"))
                        .hint("list each backend once"),
                );
            }
            if let Some(&i) = nc.cx.index.get(b.as_str())
                && matches!(nc.cx.nodes[i], crate::kinds::Node::LoadBalancer(_))
            {
                ds.push(
                    nc.err(format!("backend `{b}` is another load balancer"))
                        .hint("point load balancers at servers"),
                );
            }
        }
        if let Some(h) = &lb.health_check {
            if h.every.0 == 0 {
                ds.push(
                    nc.err("health checks every 0s".into())
                        .hint("e.g. `every: \"5s\"`"),
                );
            }
            if h.unhealthy_after == 0 || h.healthy_after == Some(0) {
                ds.push(
                    nc.err("health-check thresholds must be at least 1".into())
                        .hint("e.g. `healthy_after: 2, unhealthy_after: 3` (checks in a row)"),
                );
            }
            for (name, n) in [
                ("unhealthy_after", Some(h.unhealthy_after)),
                ("healthy_after", h.healthy_after),
            ] {
                if n.is_some_and(|n| u64::from(n) > MAX_CHECKS) {
                    ds.push(
                        nc.err(format!(
                            "health check: `{name}` is {}, over the limit of {MAX_CHECKS}",
                            n.unwrap_or(0)
                        ))
                        .hint("checks in a row; a few are enough, e.g. 3"),
                    );
                }
            }
        }
    }

    /// The balancer in the model's form: it hands each request on at once
    /// (no servers, no queue), an even share to each backend for analysis.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let backends: Vec<u32> = self.to.iter().map(|b| cx.ix(b)).collect();
        let health = self.health_check.as_ref().map(|h| HealthModel {
            every: h.every.0,
            unhealthy_after: h.unhealthy_after,
            healthy_after: h.healthy_after.unwrap_or(1),
        });
        let share = 1.0 / backends.len().max(1) as f64;
        let mut m = NodeModel::new(
            &self.id,
            KindModel::LoadBalancer(LoadBalancerModel {
                backends: backends.clone(),
                policy: self.policy,
                health,
            }),
            u32::MAX as u64,
            None,
            Sampler::Constant(0.0),
        );
        m.flows = backends
            .iter()
            .map(|&b| RouteModel {
                to: b as usize,
                p: share,
            })
            .collect();
        m.exit = 0.0;
        m
    }
}

/// What each fault does to a load balancer.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    super::hands_on_effect(fault)
}

/// Virtual nodes per backend on the consistent-hash ring.
const VNODES: u32 = 100;

/// A load balancer's run-time state.
#[derive(Clone, Debug)]
pub struct LoadBalancerState {
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
    /// Active health checks.
    pub health: Option<HealthModel>,
    next: usize,
    ring: Vec<(u64, u32)>,
    rng: Stream,
    /// For `Nearest`: latency from each client region (the last row: no
    /// region) to each backend.
    pub near: Vec<Vec<u64>>,
}

impl LoadBalancerState {
    /// The state balancer `n` of `model` starts with.
    pub(crate) fn of(model: &Model, n: &NodeModel, m: &LoadBalancerModel, seed: u64) -> Self {
        let ids: Vec<&str> = m
            .backends
            .iter()
            .map(|&b| model.nodes[b as usize].id.as_str())
            .collect();
        LoadBalancerState::new(
            m.backends.clone(),
            &ids,
            m.policy,
            m.health,
            Stream::new(seed, Purpose::Routing, &n.id),
        )
    }

    /// For these backends (their ids name the ring's points).
    pub fn new(
        backends: Vec<u32>,
        ids: &[&str],
        policy: Policy,
        health: Option<HealthModel>,
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
        LoadBalancerState {
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
        let Some(HealthModel {
            unhealthy_after,
            healthy_after,
            ..
        }) = self.health
        else {
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

impl Simulation {
    /// Load balancer `i` hands `req` to a backend (its visit takes no time).
    pub(crate) fn load_balancer_forward(&mut self, i: usize, req: u32) {
        let counted = self.counts(self.now);
        let key = self.reqs[req].key;
        let region = self.model.source_region[self.reqs[req].source as usize];
        let KindState::LoadBalancer(lb) = &mut self.nodes[i].kind else {
            unreachable!("load_balancer_forward on a load balancer")
        };
        let b = lb.pick(key, region);
        lb.active[b] += 1;
        if counted {
            lb.sent[b] += 1;
        }
        let target = lb.backends[b];
        let prev = self.reqs[req];
        if prev.lb != crate::sim::ROOT {
            self.load_balancer_done(prev.lb as usize, prev.lb_backend as usize);
        }
        let r = &mut self.reqs[req];
        r.lb = i as u32;
        r.lb_backend = b as u16;
        self.forward(i, target as usize, req);
    }

    /// Balancer `i` learns how far each backend is from each region's
    /// users (for `Nearest`) and starts its health checks.
    pub(crate) fn load_balancer_start(&mut self, i: usize) {
        let m = &self.model;
        let KindState::LoadBalancer(lb) = &mut self.nodes[i].kind else {
            return;
        };
        lb.near = (0..=m.regions.len())
            .map(|r| {
                let r = if r == m.regions.len() {
                    crate::model::NO_REGION
                } else {
                    r as u16
                };
                lb.backends
                    .iter()
                    .map(|&b| m.region_latency(r, m.node_region[b as usize]))
                    .collect()
            })
            .collect();
        if let Some(h) = lb.health {
            self.queue.push(
                self.now.saturating_add(h.every),
                crate::sim::Event::Health { node: i as u32 },
            );
        }
    }

    /// Balancer `i` takes edited settings while the simulation runs
    /// (`Simulation::restructure`): backends it keeps keep their requests in
    /// progress, counts and health; new ones start healthy and idle; a
    /// request in progress at a backend it no longer has is no longer
    /// counted by it. Its health checks go on as they were scheduled.
    pub(crate) fn load_balancer_rewire(&mut self, i: usize, m: &LoadBalancerModel) {
        let KindState::LoadBalancer(old) = &self.nodes[i].kind else {
            return;
        };
        let old = (**old).clone();
        let mut new = LoadBalancerState::of(&self.model, &self.model.nodes[i], m, 0);
        new.rng = old.rng.clone();
        new.next = old.next % new.backends.len().max(1);
        let moved: Vec<Option<usize>> = old
            .backends
            .iter()
            .map(|b| new.backends.iter().position(|x| x == b))
            .collect();
        for (j, k) in moved.iter().enumerate() {
            if let Some(k) = *k {
                new.active[k] = old.active[j];
                new.sent[k] = old.sent[j];
                new.healthy[k] = old.healthy[j];
                new.fails[k] = old.fails[j];
                new.passes[k] = old.passes[j];
            }
        }
        self.reqs.for_each_mut(|r| {
            if r.lb == i as u32 {
                match moved.get(r.lb_backend as usize).copied().flatten() {
                    Some(k) => r.lb_backend = k as u16,
                    None => r.lb = crate::sim::ROOT,
                }
            }
        });
        self.nodes[i].kind = KindState::LoadBalancer(Box::new(new));
        // Distances to the backends, without starting a second round of
        // health checks.
        let health = match &mut self.nodes[i].kind {
            KindState::LoadBalancer(lb) => lb.health.take(),
            _ => None,
        };
        self.load_balancer_start(i);
        if let KindState::LoadBalancer(lb) = &mut self.nodes[i].kind {
            lb.health = health;
        }
    }

    /// A request that load balancer `i` sent to backend `b` is done there.
    pub(crate) fn load_balancer_done(&mut self, i: usize, b: usize) {
        if let KindState::LoadBalancer(lb) = &mut self.nodes[i].kind {
            lb.active[b] -= 1;
        }
    }

    /// Load balancer `i` probes its backends, then schedules the next probe.
    pub(crate) fn on_health(&mut self, i: usize) {
        // A removed balancer's probe fires once more and stops.
        let KindState::LoadBalancer(lb) = &self.nodes[i].kind else {
            return;
        };
        if self.retired[i] {
            return;
        }
        let up: Vec<bool> = lb
            .backends
            .iter()
            .map(|&b| !self.nodes[b as usize].down && !self.partitioned(i, b as usize))
            .collect();
        let KindState::LoadBalancer(lb) = &mut self.nodes[i].kind else {
            return;
        };
        for (b, up) in up.into_iter().enumerate() {
            lb.probe(b, up);
        }
        if let Some(h) = lb.health {
            let at = self.now.saturating_add(h.every);
            self.queue
                .push(at, crate::sim::Event::Health { node: i as u32 });
        }
    }
}

/// A load balancer's measurements, per backend in order.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LoadBalancerReport {
    /// Backend ids.
    pub backends: Vec<String>,
    /// Requests sent to each.
    pub sent: Vec<u64>,
    /// Whether each is considered healthy at the end.
    pub healthy: Vec<bool>,
}

impl LoadBalancerReport {
    /// The line the table prints for this balancer.
    pub fn write_lines(&self, id: &str, out: &mut String) {
        let lb = self;
        let total: u64 = lb.sent.iter().sum();
        let parts: Vec<String> = lb
            .backends
            .iter()
            .zip(&lb.sent)
            .zip(&lb.healthy)
            .map(|((b, &n), &h)| {
                format!(
                    "{b} {:.0}%{}",
                    ratio(n, total) * 100.0,
                    if h { "" } else { " (out: unhealthy)" }
                )
            })
            .collect();
        let _ = writeln!(out, "{id}: sent {}", parts.join(", "));
    }
}

impl LoadBalancerState {
    /// The balancer's report section.
    pub(crate) fn section(&self, model: &Model) -> LoadBalancerReport {
        LoadBalancerReport {
            backends: self
                .backends
                .iter()
                .map(|&b| model.nodes[b as usize].id.clone())
                .collect(),
            sent: self.sent.clone(),
            healthy: self.healthy.clone(),
        }
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "Spreads requests over backends: it hands each on at once (no servers, no queue), and the backend answers the caller. Without health checks a dead backend keeps getting its share; with least-connections it sinkholes traffic.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "to",
            FieldType::Nodes(&[]),
            "",
            None,
            "Backend node ids (not other balancers), each once.",
        ),
        field(
            "policy",
            FieldType::Choice(&[
                "RoundRobin",
                "LeastConnections",
                "Random",
                "PowerOfTwo",
                "ConsistentHash",
                "Nearest",
            ]),
            "",
            Some("RoundRobin"),
            "How to pick: in turn; fewest in progress; at random; the less busy of two random; by key on a hash ring; the healthy backend nearest the users (geo-routing).",
        ),
        field(
            "health_check",
            FieldType::Nested("HealthCheck"),
            "",
            Some("none"),
            "Active health checks; without them a dead backend keeps getting traffic.",
        ),
    ],
    nested: &[(
        "HealthCheck",
        &[
            field(
                "every",
                FieldType::Duration,
                "",
                None,
                "Interval between checks.",
            ),
            field(
                "unhealthy_after",
                FieldType::Count {
                    min: 1,
                    max: MAX_CHECKS,
                },
                "checks",
                None,
                "Failed checks in a row before a backend is taken out.",
            ),
            field(
                "healthy_after",
                FieldType::Count {
                    min: 1,
                    max: MAX_CHECKS,
                },
                "checks",
                Some("1"),
                "Passed checks in a row before it is put back.",
            ),
        ],
    )],
    example: "LoadBalancer(id: \"lb\", to: [\"app-1\", \"app-2\"], policy: LeastConnections, health_check: HealthCheck(every: \"5s\", unhealthy_after: 2))",
};

impl LoadBalancerModel {
    /// Distances to its backends from every region, for the memory
    /// estimate.
    pub(crate) fn memory(&self, cx: &MemoryCx) -> (String, f64) {
        (
            format!("load balancer `{}`", cx.id),
            (cx.regions + 1.0) * self.backends.len() as f64 * 8.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    fn lb(policy: Policy) -> LoadBalancerState {
        LoadBalancerState::new(
            vec![10, 11, 12],
            &["a", "b", "c"],
            policy,
            Some(HealthModel {
                every: 1,
                unhealthy_after: 2,
                healthy_after: 1,
            }),
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
