//! The key store inside a `Cache` node: real keys, a capacity, LRU or FIFO
//! eviction, and TTL expiry (lazy: an expired entry is found and removed on
//! access). Entries live in a slab with an intrusive doubly linked list, and
//! the index is a hash map that is only ever looked up, never iterated, so
//! its order cannot leak into results.

pub use crate::kind::Eviction;
use crate::rng::mix64;
use crate::time::SimTime;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for u64 keys: one SplitMix64 round.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix64(self.0 ^ b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = mix64(n);
    }
}

/// A map keyed by u64 with a fixed hasher.
pub type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    expires: SimTime,
    hits: u32,
    prev: u32,
    next: u32,
}

/// What a look-up found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Present and fresh.
    Hit,
    /// Absent.
    Miss,
    /// Present but past its TTL (now removed).
    Expired,
    /// Past its TTL but within the stale-while-revalidate window: served,
    /// and the caller should refresh it (further reads see a hit meanwhile).
    Stale,
}

/// The store.
#[derive(Clone, Debug)]
pub struct Store {
    capacity: usize,
    eviction: Eviction,
    entries: Vec<Entry>,
    free: Vec<u32>,
    index: KeyMap<u32>,
    /// Most recent (or newest) first.
    head: u32,
    tail: u32,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// Stale-while-revalidate window, ns (0: none).
    pub swr: u64,
    sample: u64,
}

impl Store {
    /// An empty store for `capacity` entries.
    pub fn new(capacity: usize, eviction: Eviction) -> Self {
        Store {
            capacity,
            eviction,
            entries: Vec::new(),
            free: Vec::new(),
            index: KeyMap::default(),
            head: NIL,
            tail: NIL,
            evictions: 0,
            swr: 0,
            sample: 0,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn unlink(&mut self, i: u32) {
        let Entry { prev, next, .. } = self.entries[i as usize];
        if prev != NIL {
            self.entries[prev as usize].next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        } else {
            self.tail = prev;
        }
    }

    fn push_front(&mut self, i: u32) {
        self.entries[i as usize].prev = NIL;
        self.entries[i as usize].next = self.head;
        if self.head != NIL {
            self.entries[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn remove_slot(&mut self, i: u32) {
        self.unlink(i);
        self.index.remove(&self.entries[i as usize].key);
        self.free.push(i);
    }

    /// Looks `key` up at `now`.
    pub fn get(&mut self, key: u64, now: SimTime) -> Lookup {
        let Some(&i) = self.index.get(&key) else {
            return Lookup::Miss;
        };
        let expires = self.entries[i as usize].expires;
        if expires <= now {
            if now < expires.saturating_add(self.swr) {
                // Serve it stale once and hold off other refreshes for the
                // window (the refresh's set will replace it).
                self.entries[i as usize].expires = now.saturating_add(self.swr);
                return Lookup::Stale;
            }
            self.remove_slot(i);
            return Lookup::Expired;
        }
        let e = &mut self.entries[i as usize];
        e.hits = e.hits.saturating_add(1);
        if self.eviction == Eviction::Lru {
            self.unlink(i);
            self.push_front(i);
        }
        Lookup::Hit
    }

    /// True if `key` is present and fresh, without touching recency.
    pub fn contains(&self, key: u64, now: SimTime) -> bool {
        self.index
            .get(&key)
            .is_some_and(|&i| self.entries[i as usize].expires > now)
    }

    /// Stores `key` until `expires`, evicting if full.
    pub fn put(&mut self, key: u64, expires: SimTime) {
        if self.capacity == 0 {
            return;
        }
        if let Some(&i) = self.index.get(&key) {
            self.entries[i as usize].expires = expires;
            if self.eviction == Eviction::Lru {
                self.unlink(i);
                self.push_front(i);
            }
            return;
        }
        if self.index.len() >= self.capacity {
            let victim = if self.eviction == Eviction::Lfu {
                self.lfu_victim()
            } else {
                self.tail
            };
            self.remove_slot(victim);
            self.evictions += 1;
        }
        let e = Entry {
            key,
            expires,
            hits: 0,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = e;
                i
            }
            None => {
                self.entries.push(e);
                (self.entries.len() - 1) as u32
            }
        };
        self.index.insert(key, i);
        self.push_front(i);
    }

    /// The least used of 5 live entries picked at random (deterministically).
    fn lfu_victim(&mut self) -> u32 {
        let n = self.entries.len() as u64;
        let mut best: Option<u32> = None;
        let mut found = 0;
        for _ in 0..64 {
            self.sample = self.sample.wrapping_add(1);
            let i = (mix64(self.sample) % n) as u32;
            let e = &self.entries[i as usize];
            if self.index.get(&e.key) != Some(&i) {
                continue; // a free slot
            }
            if best.is_none_or(|b| e.hits < self.entries[b as usize].hits) {
                best = Some(i);
            }
            found += 1;
            if found == 5 {
                break;
            }
        }
        best.unwrap_or(self.tail)
    }

    /// Removes `key` (invalidation).
    pub fn remove(&mut self, key: u64) -> bool {
        match self.index.get(&key) {
            Some(&i) => {
                self.remove_slot(i);
                true
            }
            None => false,
        }
    }

    /// Takes a new capacity while running (a live edit): a smaller one
    /// evicts by the store's own policy (LRU the least recent, FIFO the
    /// oldest, LFU the least used of each deterministic sample) until it
    /// fits, counted as evictions; a larger one only leaves room.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.index.len() > capacity {
            let victim = if self.eviction == Eviction::Lfu {
                self.lfu_victim()
            } else {
                self.tail
            };
            self.remove_slot(victim);
            self.evictions += 1;
        }
    }

    /// Takes a new eviction policy while running, keeping every entry: the
    /// entries' order so far (recency or insertion) and their hit counts
    /// are where the new policy starts from.
    pub fn set_eviction(&mut self, eviction: Eviction) {
        self.eviction = eviction;
    }

    /// Keys held, most recent (or newest) first (for tests).
    #[cfg(test)]
    pub fn keys(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.len());
        let mut i = self.head;
        while i != NIL {
            out.push(self.entries[i as usize].key);
            i = self.entries[i as usize].next;
        }
        out
    }

    /// Empties the store (a flush: the cache restarted or was wiped).
    pub fn flush(&mut self) {
        self.entries.clear();
        self.free.clear();
        self.index.clear();
        self.head = NIL;
        self.tail = NIL;
    }
}

/// The most entries a key store of `capacity` holds over a run, for the
/// memory estimate: `what` (`cache`, `CDN`) and `noun` (`keys`, `objects`)
/// name it.
pub(crate) fn memory(
    what: &str,
    noun: &str,
    capacity: u64,
    warm: u64,
    cx: &crate::kinds::MemoryCx,
) -> (String, f64) {
    use crate::fmt::{fmt_big, fmt_count};
    // Keys loaded at the start are held whatever the traffic reaches.
    let k = (capacity as f64)
        .min(cx.key_space)
        .min(cx.reach)
        .max(warm.min(capacity) as f64);
    (
        format!(
            "{what} `{}`: up to {} {noun} (capacity {}, {} keys, {} requests reach it)",
            cx.id,
            fmt_big(k),
            fmt_count(capacity),
            fmt_big(cx.key_space),
            fmt_big(cx.reach)
        ),
        k * crate::kinds::CACHE_KEY_BYTES,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keys;
    use crate::rng::{Purpose, Stream};

    #[test]
    fn lru_evicts_the_least_recent_and_fifo_the_oldest() {
        let mut s = Store::new(2, Eviction::Lru);
        s.put(1, u64::MAX);
        s.put(2, u64::MAX);
        assert_eq!(s.get(1, 0), Lookup::Hit);
        s.put(3, u64::MAX);
        assert_eq!(s.get(2, 0), Lookup::Miss);
        assert_eq!(s.get(1, 0), Lookup::Hit);
        let mut f = Store::new(2, Eviction::Fifo);
        f.put(1, u64::MAX);
        f.put(2, u64::MAX);
        assert_eq!(f.get(1, 0), Lookup::Hit);
        f.put(3, u64::MAX);
        assert_eq!(f.get(1, 0), Lookup::Miss);
        assert_eq!(f.evictions, 1);
    }

    #[test]
    fn lfu_keeps_the_popular_and_swr_serves_stale_once() {
        let mut s = Store::new(100, Eviction::Lfu);
        for k in 0..100 {
            s.put(k, u64::MAX);
        }
        for _ in 0..10 {
            for k in 0..10 {
                assert_eq!(s.get(k, 0), Lookup::Hit);
            }
        }
        // 100 new keys push 100 out: the 10 popular ones survive sampling
        // (each eviction takes the least used of 5).
        for k in 1000..1100 {
            s.put(k, u64::MAX);
        }
        let kept = (0..10).filter(|&k| s.contains(k, 0)).count();
        assert!(kept >= 9, "{kept} of the popular keys kept");

        let mut w = Store::new(10, Eviction::Lru);
        w.swr = 50;
        w.put(1, 100);
        assert_eq!(w.get(1, 120), Lookup::Stale);
        assert_eq!(w.get(1, 121), Lookup::Hit, "one refresh at a time");
        assert_eq!(
            w.get(1, 171),
            Lookup::Stale,
            "the refresh never came: stale again, within the window"
        );
        assert_eq!(w.get(1, 400), Lookup::Expired);
    }

    #[test]
    fn ttl_expires_and_invalidation_and_flush() {
        let mut s = Store::new(10, Eviction::Lru);
        s.put(7, 100);
        assert_eq!(s.get(7, 99), Lookup::Hit);
        assert_eq!(s.get(7, 100), Lookup::Expired);
        assert_eq!(s.get(7, 101), Lookup::Miss);
        s.put(8, 1000);
        assert!(s.remove(8));
        assert!(!s.contains(8, 0));
        s.put(9, 1000);
        s.flush();
        assert!(s.is_empty());
        s.put(9, 1000);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_smaller_capacity_evicts_by_the_policy_and_a_new_policy_keeps_the_keys() {
        // LRU: the least recently used leave first.
        let mut s = Store::new(5, Eviction::Lru);
        for k in 1..=5 {
            s.put(k, u64::MAX);
        }
        assert_eq!(s.get(1, 0), Lookup::Hit);
        assert_eq!(s.get(2, 0), Lookup::Hit);
        s.set_capacity(2);
        assert_eq!(s.keys(), vec![2, 1]);
        assert_eq!(s.evictions, 3);
        // FIFO: the oldest leave first, whatever was read.
        let mut f = Store::new(5, Eviction::Fifo);
        for k in 1..=5 {
            f.put(k, u64::MAX);
        }
        assert_eq!(f.get(1, 0), Lookup::Hit);
        f.set_capacity(3);
        assert_eq!(f.keys(), vec![5, 4, 3]);
        // LFU: the popular survive, and the same edit evicts the same keys.
        let lfu = || {
            let mut l = Store::new(50, Eviction::Lfu);
            for k in 0..50 {
                l.put(k, u64::MAX);
            }
            for _ in 0..5 {
                for k in 0..5 {
                    l.get(k, 0);
                }
            }
            l.set_capacity(10);
            l
        };
        let (a, b) = (lfu(), lfu());
        assert_eq!(a.len(), 10);
        assert_eq!(a.keys(), b.keys(), "deterministic");
        assert!((0..5).filter(|&k| a.contains(k, 0)).count() >= 4);
        // Growing leaves room; a new policy keeps every key.
        let mut g = Store::new(2, Eviction::Lru);
        g.put(1, u64::MAX);
        g.put(2, u64::MAX);
        g.set_capacity(4);
        g.set_eviction(Eviction::Fifo);
        g.put(3, u64::MAX);
        assert_eq!(g.keys(), vec![3, 2, 1]);
        assert_eq!(g.evictions, 0);
        assert_eq!(g.get(1, 0), Lookup::Hit);
        g.put(4, u64::MAX);
        g.put(5, u64::MAX);
        assert!(!g.contains(1, 0), "FIFO now: the oldest left");
        // Capacity 0 empties it.
        g.set_capacity(0);
        assert!(g.is_empty());
    }

    /// Che's approximation for LRU under the independent reference model:
    /// the characteristic time T solves sum_i (1 - exp(-p_i T)) = C, and the
    /// hit ratio is sum_i p_i (1 - exp(-p_i T)). It is known to be accurate
    /// to well under 1% at these sizes.
    #[test]
    fn lru_hit_ratio_under_zipf_matches_che() {
        let (n, c) = (10_000u64, 1_000usize);
        let law = Keys::Zipf { keys: n, s: 0.8 };
        let p = law.probabilities();
        let occupancy = |t: f64| p.iter().map(|&pi| 1.0 - (-pi * t).exp()).sum::<f64>();
        let (mut lo, mut hi) = (0.0, 1e9);
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if occupancy(mid) < c as f64 {
                lo = mid
            } else {
                hi = mid
            }
        }
        let che: f64 = p.iter().map(|&pi| pi * (1.0 - (-pi * lo).exp())).sum();

        let sampler = law.sampler();
        let mut rng = Stream::new(5, Purpose::Routing, "che");
        let mut store = Store::new(c, Eviction::Lru);
        let (warm, measured) = (200_000, 1_000_000);
        let mut hits = 0u64;
        for i in 0..warm + measured {
            let k = sampler.sample(&mut rng);
            if store.get(k, 0) == Lookup::Hit {
                if i >= warm {
                    hits += 1;
                }
            } else {
                store.put(k, u64::MAX);
            }
        }
        let ratio = hits as f64 / measured as f64;
        // Binomial standard error about 0.0005; allow 0.01 for the approximation.
        assert!(
            (ratio - che).abs() < 0.01,
            "simulated {ratio:.4}, Che {che:.4}"
        );
    }
}
