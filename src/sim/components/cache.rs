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
    /// Hits served stale while a refresh ran (after the warm-up).
    pub stale_hits: u64,
}

impl CacheState {
    /// An empty cache.
    pub fn new(
        capacity: u64,
        eviction: Eviction,
        ttl: u64,
        jitter: f64,
        single_flight: bool,
        swr: u64,
        rng: Stream,
    ) -> Self {
        let mut store = Store::new(capacity as usize, eviction);
        store.swr = swr;
        CacheState {
            store,
            ttl,
            jitter,
            single_flight,
            pending: BTreeMap::new(),
            rng,
            hits: 0,
            misses: 0,
            coalesced: 0,
            stale_hits: 0,
        }
    }

    /// Keys whose fill is pending (single-flight).
    pub fn pending_fills(&self) -> usize {
        self.pending.len()
    }

    /// True if misses of a key being filled wait for the fill.
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
        let counted = self.counts(r.visit_arrival);
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
                Lookup::Stale => {
                    if counted {
                        c.hits += 1;
                        c.stale_hits += 1;
                    }
                    self.release(i);
                    // An app's cache-aside refreshes it; anyone else just reads it.
                    if r.op == op::GET && r.parent != ROOT {
                        outcome::STALE
                    } else {
                        outcome::OK
                    }
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

    /// A fill (a set) or its release (a delete) of `key` at node `i` failed
    /// before it reached the cache, or there: the requests waiting on that
    /// fill get a miss (and read the database themselves).
    pub(crate) fn fill_failed(&mut self, i: u32, key: u64) {
        if (i as usize) < self.nodes.len()
            && matches!(self.nodes[i as usize].kind, KindState::Cache(_))
        {
            self.wake(i as usize, key, outcome::MISS);
        }
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
        if let KindState::Cdn(c) = &mut self.nodes[i].kind {
            c.store.flush();
            return;
        }
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

/// A CDN edge's run-time state.
#[derive(Clone, Debug)]
pub struct CdnState {
    /// Objects held at the edge.
    pub store: Store,
    /// Origin node.
    pub origin: u32,
    ttl: u64,
    cacheable: Vec<bool>,
    /// Cacheable requests answered from the edge (after the warm-up).
    pub hits: u64,
    /// Cacheable requests fetched from the origin (after the warm-up).
    pub misses: u64,
    /// Requests sent straight to the origin while the edge was down.
    pub failovers: u64,
}

impl CdnState {
    /// An empty edge.
    pub fn new(origin: u32, capacity: u64, ttl: u64, cacheable: Vec<bool>) -> Self {
        CdnState {
            store: Store::new(capacity as usize, Eviction::Lru),
            origin,
            ttl,
            cacheable,
            hits: 0,
            misses: 0,
            failovers: 0,
        }
    }
}

impl Simulation {
    /// The CDN edge `i` has served `req`: answer from the edge or go to the origin.
    pub(crate) fn cdn_served(&mut self, i: usize, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::Cdn(c) = &mut self.nodes[i].kind else {
            unreachable!("cdn_served on a CDN")
        };
        let origin = c.origin;
        let hit = c.cacheable[r.class as usize] && {
            let found = c.store.get(r.key, now) == Lookup::Hit;
            if counted {
                if found { c.hits += 1 } else { c.misses += 1 }
            }
            found
        };
        // The edge does not hold a server while the origin works.
        self.release(i);
        if hit {
            self.record_visit(i, req, true);
            self.finish(req, outcome::OK);
        } else {
            self.reqs[req].phase = 1;
            self.call(req, origin, op::CALL, false);
        }
    }

    /// The origin answered CDN edge `i` for `req`.
    pub(crate) fn cdn_resume(&mut self, i: usize, req: u32, result: u8) {
        let now = self.now;
        let r = self.reqs[req];
        if result == outcome::OK {
            if let KindState::Cdn(c) = &mut self.nodes[i].kind
                && c.cacheable[r.class as usize]
            {
                let exp = if c.ttl == u64::MAX {
                    u64::MAX
                } else {
                    now.saturating_add(c.ttl)
                };
                c.store.put(r.key, exp);
            }
            self.record_visit(i, req, true);
        } else {
            self.record_visit(i, req, false);
        }
        self.finish(req, result);
    }

    /// Traffic for a CDN edge that is down goes straight to the origin.
    pub(crate) fn cdn_failover(&mut self, i: usize, req: u32) {
        let counted = self.counts(self.reqs[req].visit_arrival);
        let KindState::Cdn(c) = &mut self.nodes[i].kind else {
            return;
        };
        if counted {
            c.failovers += 1;
        }
        let origin = c.origin;
        self.record_visit(i, req, true);
        self.forward(i, origin as usize, req);
    }
}
