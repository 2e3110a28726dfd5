//! Cache node: gets, sets and deletes of the request's key against a real
//! key store, with TTLs, and single-flight coalescing of misses.
//!
//! Cache-aside apps do `Get`; on a miss they read the database and `Set`
//! the key without waiting. When a hot key expires under load, every request
//! that misses before the first fill lands reads the database: a stampede.
//! With `single_flight`, the first miss of a key is told "miss" and becomes
//! the leader; later misses of that key wait at the cache (holding no server)
//! until the leader's `Set` arrives and answers them all with a hit, or a
//! `Delete` answers them with a miss.

use super::cache_store::{Eviction, Lookup, Store};
use crate::rng::Stream;
use crate::sim::{KindState, ROOT, Simulation, op, outcome};
use crate::time::SimTime;
use std::collections::BTreeMap;

/// A cache node's run-time state.
#[derive(Clone, Debug)]
pub struct CacheState {
    /// The keys.
    pub store: Store,
    ttl: u64,
    jitter: f64,
    single_flight: bool,
    /// Keys being filled by a leader, with the head of their wait list.
    /// A BTreeMap: a flush walks it, and the walk's order must be fixed.
    pending: BTreeMap<u64, u32>,
    rng: Stream,
    /// Gets that hit (after the warm-up).
    pub hits: u64,
    /// Gets that missed (after the warm-up).
    pub misses: u64,
    /// Misses that waited for another request's fill instead of reading the
    /// database (after the warm-up).
    pub coalesced: u64,
}

impl CacheState {
    /// An empty cache.
    pub fn new(
        capacity: u64,
        eviction: Eviction,
        ttl: u64,
        jitter: f64,
        single_flight: bool,
        rng: Stream,
    ) -> Self {
        CacheState {
            store: Store::new(capacity as usize, eviction),
            ttl,
            jitter,
            single_flight,
            pending: BTreeMap::new(),
            rng,
            hits: 0,
            misses: 0,
            coalesced: 0,
        }
    }

    /// True when misses are coalesced.
    pub fn single_flight(&self) -> bool {
        self.single_flight
    }

    fn expiry(&mut self, now: SimTime) -> SimTime {
        if self.ttl == u64::MAX {
            return u64::MAX;
        }
        let ttl = if self.jitter > 0.0 {
            self.ttl as f64 * (1.0 + self.jitter * (2.0 * self.rng.unit() - 1.0))
        } else {
            self.ttl as f64
        };
        now.saturating_add((ttl + 0.5) as u64)
    }
}

impl Simulation {
    /// The cache at node `i` has served `req`: do its operation and answer.
    pub(crate) fn cache_op(&mut self, i: usize, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = r.visit_arrival >= self.config.warmup.0;
        let KindState::Cache(c) = &mut self.nodes[i].kind else {
            unreachable!("cache_op on a cache")
        };
        let result = match r.op {
            op::SET => {
                let exp = c.expiry(now);
                c.store.put(r.key, exp);
                self.release(i);
                self.wake(i, r.key, outcome::OK);
                outcome::OK
            }
            op::DEL => {
                c.store.remove(r.key);
                self.release(i);
                self.wake(i, r.key, outcome::MISS);
                outcome::OK
            }
            _ => match c.store.get(r.key, now) {
                Lookup::Hit => {
                    if counted {
                        c.hits += 1;
                    }
                    self.release(i);
                    outcome::OK
                }
                Lookup::Miss | Lookup::Expired => {
                    if counted {
                        c.misses += 1;
                    }
                    // Only an app's cache-aside get can lead a fill.
                    if c.single_flight && r.op == op::GET && r.parent != ROOT {
                        if let Some(head) = c.pending.get_mut(&r.key) {
                            self.reqs[req].next_waiter = *head;
                            *head = req;
                            if counted {
                                c.coalesced += 1;
                            }
                            self.release(i);
                            return;
                        }
                        c.pending.insert(r.key, ROOT);
                    }
                    self.release(i);
                    outcome::MISS
                }
            },
        };
        self.record_visit(i, req, true);
        self.finish(req, result);
    }

    /// Answers every request waiting for `key`'s fill with `result`.
    fn wake(&mut self, i: usize, key: u64, result: u8) {
        let KindState::Cache(c) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(mut w) = c.pending.remove(&key) else {
            return;
        };
        while w != ROOT {
            let next = self.reqs[w].next_waiter;
            self.record_visit(i, w, true);
            self.finish(w, result);
            w = next;
        }
    }

    /// Empties the cache at node `i` (a flush); waiters are answered with a
    /// miss when `fail_waiters` is false, or fail (the cache went down).
    pub(crate) fn cache_flush(&mut self, i: usize, fail_waiters: bool) {
        let KindState::Cache(c) = &mut self.nodes[i].kind else {
            return;
        };
        c.store.flush();
        let keys: Vec<u64> = c.pending.keys().copied().collect();
        for k in keys {
            if fail_waiters {
                self.fail_waiters(i, k);
            } else {
                self.wake(i, k, outcome::MISS);
            }
        }
    }

    fn fail_waiters(&mut self, i: usize, key: u64) {
        let KindState::Cache(c) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(mut w) = c.pending.remove(&key) else {
            return;
        };
        while w != ROOT {
            let next = self.reqs[w].next_waiter;
            self.drop_request(i, w);
            w = next;
        }
    }
}
