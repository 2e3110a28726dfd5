//! Shard router: each key belongs to one shard, by `hash mod N` or on a
//! consistent-hash ring. Resharding from N to M moves keys; the router
//! measures what share of the key space changed owner.

use crate::rng::{fnv1a, mix64};
use crate::sim::{KindState, Simulation};
use crate::topology::Sharding;

/// Virtual nodes per shard on the ring.
const VNODES: u64 = 100;
/// Keys sampled to measure how many move on a reshard.
const MOVE_SAMPLE: u64 = 100_000;

/// A shard router's run-time state.
#[derive(Clone, Debug)]
pub struct ShardState {
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

impl ShardState {
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
        ShardState {
            shards,
            scheme,
            active,
            ring,
            sent: vec![0; n],
            last_moved: None,
        }
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
    pub(crate) fn shard_forward(&mut self, i: usize, req: u32) {
        let counted = self.counts(self.now);
        let key = self.reqs[req].key;
        let KindState::Shard(s) = &mut self.nodes[i].kind else {
            unreachable!("shard_forward on a shard router")
        };
        let o = s.owner(key, s.active);
        if counted {
            s.sent[o] += 1;
        }
        let target = s.shards[o];
        self.record_visit(i, req, true);
        self.forward(i, target as usize, req);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_mod_moves_most_keys_and_the_ring_moves_few() {
        let ids = ["s1", "s2", "s3", "s4", "s5"];
        let mut m = ShardState::new(vec![0, 1, 2, 3, 4], &ids, Sharding::HashMod, 4);
        let mut c = ShardState::new(vec![0, 1, 2, 3, 4], &ids, Sharding::ConsistentHash, 4);
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
