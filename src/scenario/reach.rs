//! Where traffic can go in a model: the static half of the check that every
//! accepted fault acts ([`super::effect`]).
//!
//! A request of a class leaves its source for the source's node and goes on
//! through every way the engine can send it: a station's routes, a
//! balancer's backends, a router's shards, a limiter's target, a pooler's
//! database, a CDN's origin, a read-through cache's backend, an app's steps
//! for that class (calls, reads, writes, cache-aside and write-through
//! pairs, fresh reads' replicas and primary, fan-outs, published messages)
//! and a primary's failover replica ([`crate::kinds::KindModel::reaches`]).
//! Classes are followed one by one, so an app's handler for a class nobody
//! sends it reaches nothing. What a request can reach is a superset of
//! what it does reach in a run (a route of probability 0.001 counts): the
//! check refuses only what cannot act.

use crate::kinds::KindModel;
use crate::model::Model;
use std::collections::BTreeSet;

/// Which nodes and which network pairs some source's traffic can reach.
#[derive(Clone, Debug, PartialEq)]
pub struct Reach {
    /// Per node, per class index: a request of that class can arrive there.
    classes: Vec<Vec<bool>>,
    /// Pairs `(from, to)` some reachable traffic travels, or a balancer's
    /// health checks.
    pairs: BTreeSet<(u32, u32)>,
    /// Per node: a balancer's health checks probe it (whatever the
    /// traffic, they see it down or cut off).
    probed: Vec<bool>,
}

impl Reach {
    /// What the sources of `model` can reach.
    pub fn of(model: &Model) -> Reach {
        let on = vec![true; model.sources.len()];
        let stops = vec![false; model.nodes.len()];
        Reach::now(model, &on, &stops, &BTreeSet::new())
    }

    /// What the sources that send (`on`, per source) can reach now, when
    /// requests go no further than the nodes that `stops` (down, or failing
    /// every request) and do not cross a `cut` pair (smaller index first).
    pub fn now(model: &Model, on: &[bool], stops: &[bool], cut: &BTreeSet<(u32, u32)>) -> Reach {
        let k = model.classes.len().max(1);
        let n = model.nodes.len();
        let mut classes = vec![vec![false; k]; n];
        let mut pairs = BTreeSet::new();
        let mut todo: Vec<(usize, usize)> = Vec::new();
        let mut visit = |i: usize, c: usize, todo: &mut Vec<(usize, usize)>| {
            if i < n && c < k && !classes[i][c] {
                classes[i][c] = true;
                todo.push((i, c));
            }
        };
        for (s, _) in model.sources.iter().zip(on).filter(|(_, on)| **on) {
            // The mix is cumulative: a class is sent when its step is positive.
            let mut before = 0.0;
            for &(cum, c) in &s.mix {
                if cum > before {
                    visit(s.to, c as usize, &mut todo);
                }
                before = cum;
            }
        }
        while let Some((i, c)) = todo.pop() {
            if stops.get(i) == Some(&true) {
                continue;
            }
            let node = &model.nodes[i];
            let onward = node
                .routes
                .iter()
                .filter(|r| r.p > 0.0)
                .map(|r| r.to)
                .chain(node.kind.reaches(c));
            for t in onward {
                if cut.contains(&(i.min(t) as u32, i.max(t) as u32)) {
                    continue;
                }
                pairs.insert((i as u32, t as u32));
                visit(t, c, &mut todo);
            }
        }
        // Health checks probe every backend, traffic or not, down or not.
        let mut probed = vec![false; n];
        for (i, node) in model.nodes.iter().enumerate() {
            if let KindModel::LoadBalancer(lb) = &node.kind
                && lb.health.is_some()
            {
                for &b in &lb.backends {
                    if let Some(p) = probed.get_mut(b as usize) {
                        // A cut probe already fails: down or not is moot.
                        *p |= !cut.contains(&((i as u32).min(b), (i as u32).max(b)));
                        pairs.insert((i as u32, b));
                    }
                }
            }
        }
        Reach {
            classes,
            pairs,
            probed,
        }
    }

    /// True when a balancer's health checks probe node `i`: taking it down
    /// or bringing it up changes what the balancer sees.
    pub fn probed(&self, i: usize) -> bool {
        self.probed.get(i).copied().unwrap_or(false)
    }

    /// True when some traffic can arrive at node `i`.
    pub fn node(&self, i: usize) -> bool {
        self.classes.get(i).is_some_and(|c| c.contains(&true))
    }

    /// True when requests of class `c` can arrive at node `i`.
    pub fn class(&self, i: usize, c: usize) -> bool {
        self.classes
            .get(i)
            .and_then(|x| x.get(c))
            .copied()
            .unwrap_or(false)
    }

    /// True when reachable traffic goes between `a` and `b`, either way:
    /// what a partition of the pair can cut.
    pub fn between(&self, a: usize, b: usize) -> bool {
        let (a, b) = (a as u32, b as u32);
        self.pairs.contains(&(a, b)) || self.pairs.contains(&(b, a))
    }

    /// The reachable nodes, in topology order.
    pub fn nodes(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.classes.len()).filter(|&i| self.node(i))
    }

    /// Whether cache or CDN `i` ever gets keys put into it by reachable
    /// traffic, or why not. A cache-aside cache fills from an app's
    /// `CacheAside` or `WriteThrough` steps (gets and invalidations put
    /// nothing in); a read-through cache from its backend; a CDN from its
    /// origin, for cacheable classes.
    pub fn fills(&self, model: &Model, i: usize) -> Result<(), String> {
        let node = &model.nodes[i];
        match &node.kind {
            KindModel::Cache(c) if c.capacity == 0 => {
                Err("it holds no keys: its `capacity` is 0".into())
            }
            KindModel::Cdn(c) if c.capacity == 0 => {
                Err("it holds no objects: its `capacity` is 0".into())
            }
            _ if !self.node(i) => Err("no traffic reaches it, so nothing fills it".into()),
            KindModel::Cache(c) if c.backend.is_some() => Ok(()),
            KindModel::Cache(_) => {
                let filled = model.nodes.iter().enumerate().any(|(j, m)| match &m.kind {
                    KindModel::App(a) => (0..model.classes.len())
                        .any(|cl| self.class(j, cl) && a.fills(cl, i as u32)),
                    _ => false,
                });
                if filled {
                    Ok(())
                } else {
                    Err("nothing fills it: no handler that traffic reaches does `CacheAside` or `WriteThrough` on it (gets and invalidations put no key in)".into())
                }
            }
            KindModel::Cdn(c) => {
                if (0..model.classes.len())
                    .any(|cl| self.class(i, cl) && c.cacheable.get(cl) == Some(&true))
                {
                    Ok(())
                } else {
                    Err("no class that reaches it is cacheable (its `cacheable` list), so it stores nothing".into())
                }
            }
            _ => Err("only a Cache or a Cdn holds keys".into()),
        }
    }
}
