//! Shard router: each key belongs to one shard, by `hash mod N` or on a
//! consistent-hash ring. Resharding from N to M moves keys; the router
//! measures what share of the key space changed owner.

use crate::diag::Diagnostics;
use crate::dist::Sampler;
use crate::fmt::ratio;
use crate::kind::Sharding;
use crate::kind::{FieldType, field};
use crate::kinds::{KindModel, KindState};
use crate::model::{Model, NodeModel, RouteModel};
use crate::rng::{fnv1a, mix64};
use crate::sim::{Fault, Simulation};
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// A shard router: forwards each request to the shard owning its key. A
/// celebrity key makes its shard hot whatever the scheme.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRouter {
    /// Unique id.
    pub id: String,
    /// The shards, in order.
    pub shards: Vec<String>,
    /// The scheme (default `HashMod`).
    #[serde(default)]
    pub scheme: Sharding,
    /// How many of the shards are in use (default: all); the control API's
    /// `Shards` change reshards.
    #[serde(default)]
    pub active: Option<u32>,
}

/// A shard router, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardRouterModel {
    /// Shard node indices.
    pub shards: Vec<u32>,
    /// How keys map to shards.
    pub scheme: Sharding,
    /// Shards in use at the start.
    pub active: u32,
}

impl ShardRouter {
    /// Checks the router (shards, active).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let r = self;

        if r.shards.is_empty() || r.shards.len() > MAX_ROUTES {
            ds.push(nc.err(format!("{} shards; give 1 to {MAX_ROUTES}", r.shards.len())));
            if r.shards.len() > MAX_ROUTES {
                return;
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for sh in &r.shards {
            nc.on_path(sh, "shards", ds);
            if sh == &r.id {
                ds.push(nc.err("the router lists itself as a shard".into()));
            }
            if !seen.insert(sh) {
                ds.push(nc.err(format!("shard `{sh}` is listed twice")));
            }
        }
        if let Some(a) = r.active
            && (a == 0 || a as usize > r.shards.len())
        {
            ds.push(nc.err(format!(
                "`active` is {a}; give 1 to the number of shards ({})",
                r.shards.len()
            )));
        }
    }

    /// The router in the model's form: it hands each request on at once,
    /// an even share to each active shard for analysis.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let shards: Vec<u32> = self.shards.iter().map(|x| cx.ix(x)).collect();
        let active = self.active.unwrap_or(shards.len() as u32);
        let share = 1.0 / active.max(1) as f64;
        let mut m = NodeModel::new(
            &self.id,
            KindModel::ShardRouter(ShardRouterModel {
                shards: shards.clone(),
                scheme: self.scheme,
                active,
            }),
            u32::MAX as u64,
            None,
            Sampler::Constant(0.0),
        );
        m.flows = shards
            .iter()
            .take(active as usize)
            .map(|&x| RouteModel {
                to: x as usize,
                p: share,
            })
            .collect();
        m.exit = 0.0;
        m
    }
}

/// What each fault does to a shard router.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Shards => Ok("uses the first `count` shards; keys move as the scheme says"),
        other => super::hands_on_effect(other),
    }
}

/// Virtual nodes per shard on the ring.
const VNODES: u64 = 100;
/// Keys sampled to measure how many move on a reshard.
const MOVE_SAMPLE: u64 = 100_000;

/// A shard router's run-time state.
#[derive(Clone, Debug)]
pub struct ShardRouterState {
    /// Shard node indices.
    pub shards: Vec<u32>,
    scheme: Sharding,
    /// Shards in use (the first `active`).
    pub active: usize,
    ring: Vec<(u64, u32)>,
    /// Requests sent to each shard (after the warm-up).
    pub sent: Vec<u64>,
    /// Share of keys that changed shard at the last reshard.
    pub last_moved: Option<f64>,
}

impl ShardRouterState {
    /// The state a router of `model` starts with.
    pub(crate) fn of(model: &Model, m: &ShardRouterModel) -> Self {
        let ids: Vec<&str> = m
            .shards
            .iter()
            .map(|&x| model.nodes[x as usize].id.as_str())
            .collect();
        ShardRouterState::new(m.shards.clone(), &ids, m.scheme, m.active as usize)
    }

    /// A router over `shards`, the first `active` in use; ring points are
    /// named by the shards' ids.
    pub fn new(shards: Vec<u32>, ids: &[&str], scheme: Sharding, active: usize) -> Self {
        let mut ring = Vec::new();
        if scheme == Sharding::ConsistentHash {
            for (s, id) in ids.iter().enumerate() {
                for v in 0..VNODES {
                    ring.push((mix64(fnv1a(id.as_bytes()) ^ mix64(v)), s as u32));
                }
            }
            ring.sort_unstable();
        }
        let n = shards.len();
        ShardRouterState {
            shards,
            scheme,
            active,
            ring,
            sent: vec![0; n],
            last_moved: None,
        }
    }

    /// Takes edited settings while running (a live edit; it ran `old`,
    /// `model` is the edited model). A router holds no request (it hands
    /// each on at once), so a request already sent to a shard finishes
    /// there, and every key routes by the new shards, scheme and count from
    /// now. The shards in use are the edit's `active` when the edit changes
    /// it or the shards; otherwise the running count (a `Shards` change may
    /// have set it) stays, at most the shards there are. Each shard that
    /// stays keeps its count of requests sent; the share of keys whose
    /// shard (node) changed is the last reshard's.
    pub(crate) fn retune(&mut self, model: &Model, old: &ShardRouterModel, m: &ShardRouterModel) {
        let mut next = ShardRouterState::of(model, m);
        if old.active == m.active && old.shards == m.shards {
            next.active = self.active.min(m.shards.len());
        }
        for (k, node) in next.shards.iter().enumerate() {
            if let Some(j) = self.shards.iter().position(|x| x == node) {
                next.sent[k] = self.sent[j];
            }
        }
        let moved = (1..=MOVE_SAMPLE)
            .filter(|&k| {
                self.shards[self.owner(k, self.active)] != next.shards[next.owner(k, next.active)]
            })
            .count();
        next.last_moved = if moved > 0 {
            Some(moved as f64 / MOVE_SAMPLE as f64)
        } else {
            self.last_moved
        };
        *self = next;
    }

    /// The shard (index into `shards`) owning `key` with `active` shards.
    pub fn owner(&self, key: u64, active: usize) -> usize {
        let h = mix64(key ^ 0x5eed_5ead);
        match self.scheme {
            Sharding::HashMod => (h % active as u64) as usize,
            Sharding::ConsistentHash => {
                let start = self.ring.partition_point(|&(p, _)| p < h);
                (0..self.ring.len())
                    .map(|k| self.ring[(start + k) % self.ring.len()].1 as usize)
                    .find(|&s| s < active)
                    .unwrap_or(0)
            }
        }
    }

    /// Changes the number of shards in use; returns the share of keys moved.
    pub fn reshard(&mut self, active: usize) -> f64 {
        let moved = (1..=MOVE_SAMPLE)
            .filter(|&k| self.owner(k, self.active) != self.owner(k, active))
            .count();
        self.active = active;
        let share = moved as f64 / MOVE_SAMPLE as f64;
        self.last_moved = Some(share);
        share
    }
}

impl Simulation {
    /// Shard router `i` sends `req` to the shard owning its key.
    pub(crate) fn shard_router_forward(&mut self, i: usize, req: u32) {
        let counted = self.counts(self.now);
        let key = self.reqs[req].key;
        let KindState::ShardRouter(s) = &mut self.nodes[i].kind else {
            unreachable!("shard_router_forward on a shard router")
        };
        let o = s.owner(key, s.active);
        if counted {
            s.sent[o] += 1;
        }
        let target = s.shards[o];
        self.forward(i, target as usize, req);
    }
}

/// A shard router's measurements.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ShardRouterReport {
    /// Shard ids, in order.
    pub shards: Vec<String>,
    /// Requests sent to each.
    pub sent: Vec<u64>,
    /// Shards in use at the end.
    pub active: usize,
    /// Share of keys that changed shard at the last reshard.
    pub last_reshard_moved: Option<f64>,
}

impl ShardRouterReport {
    /// The lines the table prints for this router.
    pub fn write_lines(&self, id: &str, out: &mut String) {
        let sh = self;
        let total: u64 = sh.sent.iter().sum();
        let parts: Vec<String> = sh
            .shards
            .iter()
            .zip(&sh.sent)
            .map(|(id, &n)| format!("{id} {:.0}%", ratio(n, total) * 100.0))
            .collect();
        let _ = writeln!(out, "{id}: sent {}", parts.join(", "));
        if let Some(m) = sh.last_reshard_moved {
            let _ = writeln!(
                out,
                "{id}: the last reshard moved {:.1}% of keys",
                m * 100.0
            );
        }
    }
}

impl ShardRouterState {
    /// The router's report section.
    pub(crate) fn section(&self, model: &Model) -> ShardRouterReport {
        ShardRouterReport {
            shards: self
                .shards
                .iter()
                .map(|&x| model.nodes[x as usize].id.clone())
                .collect(),
            sent: self.sent.clone(),
            active: self.active,
            last_reshard_moved: self.last_moved,
        }
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "Sends each request to the shard that owns its key, by `hash(key) mod N` or on a consistent-hash ring; resharding (the `Shards` change) counts the keys that moved. A celebrity key makes its shard hot whatever the scheme.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "shards",
            FieldType::Nodes(&[]),
            "",
            None,
            "The shards, in order.",
        ),
        field(
            "scheme",
            FieldType::Choice(&["HashMod", "ConsistentHash"]),
            "",
            Some("HashMod"),
            "How keys map to shards.",
        ),
        field(
            "active",
            FieldType::Count {
                min: 1,
                max: MAX_ROUTES as u64,
            },
            "shards",
            Some("all"),
            "How many of the shards are in use.",
        ),
    ],
    nested: &[],
    example: "ShardRouter(id: \"shards\", shards: [\"db-1\", \"db-2\", \"db-3\", \"db-4\"], scheme: ConsistentHash)",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_edit_of_the_shards_moves_keys_and_keeps_each_shards_count() {
        let text = |shards: &str, scheme: &str| {
            format!(
                r#"Topology(name: "t",
                sources: [Source(id: "u", to: "r", arrivals: Poisson(rps: 10))],
                nodes: [
                    ShardRouter(id: "r", shards: [{shards}], scheme: {scheme}),
                    Database(id: "a", servers: 1, read: Constant("1ms"), write: Constant("1ms")),
                    Database(id: "b", servers: 1, read: Constant("1ms"), write: Constant("1ms")),
                    Database(id: "c", servers: 1, read: Constant("1ms"), write: Constant("1ms")),
                    Database(id: "d", servers: 1, read: Constant("1ms"), write: Constant("1ms")),
                    Database(id: "e", servers: 1, read: Constant("1ms"), write: Constant("1ms")),
                ])"#
            )
        };
        let model = |t: String| crate::topology::load_str("t", &t).unwrap().model;
        let router = |m: &Model| match &m.nodes[0].kind {
            KindModel::ShardRouter(r) => r.clone(),
            _ => unreachable!(),
        };
        let m4 = model(text(r#""a", "b", "c", "d""#, "ConsistentHash"));
        let mut s = ShardRouterState::of(&m4, &router(&m4));
        s.sent = vec![1, 2, 3, 4];
        // A fifth shard on the ring: about a fifth of the keys move to it.
        let m5 = model(text(r#""a", "b", "c", "d", "e""#, "ConsistentHash"));
        s.retune(&m5, &router(&m4), &router(&m5));
        assert_eq!(s.active, 5);
        let moved = s.last_moved.unwrap();
        assert!((moved - 0.2).abs() < 0.06, "{moved}");
        assert_eq!(s.sent, vec![1, 2, 3, 4, 0], "each shard keeps its count");
        // The same shards in another order route every key as before on
        // the ring (points are named by the shards' ids).
        let r5 = model(text(r#""e", "d", "c", "b", "a""#, "ConsistentHash"));
        s.retune(&r5, &router(&m5), &router(&r5));
        assert_eq!(s.sent, vec![0, 4, 3, 2, 1]);
        assert_eq!(
            s.last_moved,
            Some(moved),
            "no key moved: the last reshard's share stays"
        );
        // Another scheme moves most keys.
        let h5 = model(text(r#""e", "d", "c", "b", "a""#, "HashMod"));
        s.retune(&h5, &router(&r5), &router(&h5));
        assert!(s.last_moved.unwrap() > 0.6, "{:?}", s.last_moved);
    }

    #[test]
    fn hash_mod_moves_most_keys_and_the_ring_moves_few() {
        let ids = ["s1", "s2", "s3", "s4", "s5"];
        let mut m = ShardRouterState::new(vec![0, 1, 2, 3, 4], &ids, Sharding::HashMod, 4);
        let mut c = ShardRouterState::new(vec![0, 1, 2, 3, 4], &ids, Sharding::ConsistentHash, 4);
        // 4 -> 5 shards: mod N keeps a key only if h mod 4 = h mod 5 (1 in 5).
        let moved_mod = m.reshard(5);
        assert!((moved_mod - 0.8).abs() < 0.01, "{moved_mod}");
        // The ring moves only the new shard's share, about 1/5.
        let moved_ring = c.reshard(5);
        assert!((moved_ring - 0.2).abs() < 0.06, "{moved_ring}");
        // Keys spread evenly.
        let mut counts = [0u32; 5];
        for k in 0..50_000 {
            counts[m.owner(k, 5)] += 1;
        }
        assert!(
            counts.iter().all(|&n| (n as f64 - 10_000.0).abs() < 400.0),
            "{counts:?}"
        );
    }
}
