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
//!
//! With a `backend`, the cache is read-through (see [`read_through`]): it
//! sits on the request path and fetches misses itself.

pub mod on_path;
pub mod read_through;
pub mod store;

use crate::diag::Diagnostics;
use crate::dist::Dist;
use crate::fmt::fmt_count;
use crate::kind::Eviction;
use crate::kind::{FieldType, field};
use crate::kinds::MemoryCx;
use crate::kinds::{KindModel, KindState};
use crate::model::NodeModel;
use crate::rng::{Purpose, Stream};
use crate::sim::{Fault, ROOT, Simulation, op, outcome};
use crate::time::{Duration, SimTime};
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use store::{Lookup, Store};

/// A key-value cache. Operations are gets, sets and deletes of the
/// request's key, each taking `service` on one of `servers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// Unique id.
    pub id: String,
    /// Keys it can hold.
    pub capacity: u64,
    /// Which key leaves when full (default `Lru`).
    #[serde(default)]
    pub eviction: Eviction,
    /// How long an entry lives; absent: until evicted.
    #[serde(default)]
    pub ttl: Option<Duration>,
    /// Spread TTLs by up to this fraction either way (e.g. 0.1 for +-10%).
    #[serde(default)]
    pub ttl_jitter: Option<f64>,
    /// Parallel servers (default 1, like Redis's single thread).
    #[serde(default)]
    pub servers: Option<u64>,
    /// Time per operation.
    pub service: Dist,
    /// Coalesce concurrent misses of one key into one database read.
    #[serde(default)]
    pub single_flight: bool,
    /// Serve an expired entry for this long after its TTL while one request
    /// refreshes it in the background (stale-while-revalidate).
    #[serde(default)]
    pub stale_while_revalidate: Option<Duration>,
    /// Load-dependent latency: service times multiplied by a curve of the
    /// utilization (absent: none).
    #[serde(default)]
    pub load: Option<crate::kind::LoadCurve>,
    /// Start warm: keys 1 to `warm` (the most popular under `Zipf` and
    /// `Celebrity` keys) are loaded at time 0, each with a full TTL.
    #[serde(default)]
    pub warm: Option<u64>,
    /// Read-through: the node the cache reads a missed key from (a
    /// database, a balancer over replicas, a service); absent: cache-aside
    /// (apps read the database themselves).
    #[serde(default)]
    pub backend: Option<String>,
}

/// A cache, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheModel {
    /// Keys held at most.
    pub capacity: u64,
    /// Eviction policy.
    pub eviction: Eviction,
    /// TTL in ns (`u64::MAX`: none).
    pub ttl: u64,
    /// TTL spread, fraction.
    pub jitter: f64,
    /// Coalesce misses.
    pub single_flight: bool,
    /// Stale-while-revalidate window, ns (0: none).
    pub swr: u64,
    /// Keys loaded at the start (1 to `warm`).
    pub warm: u64,
    /// Read-through backend node (`None`: cache-aside).
    pub backend: Option<u32>,
}

impl Cache {
    /// Checks the cache (capacity, servers, TTL, service).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let c = self;

        nc.count("capacity", c.capacity, 0, 1_000_000_000, ds);
        nc.count("servers", c.servers.unwrap_or(1), 1, MAX_SERVERS, ds);
        nc.load(&c.load, None, ds);
        if let Some(j) = c.ttl_jitter
            && (!j.is_finite() || !(0.0..1.0).contains(&j))
        {
            ds.push(nc.err(format!(
                "`ttl_jitter` is {j}; give a fraction from 0 to below 1, e.g. 0.1"
            )));
        }
        if c.ttl.is_some_and(|t| t.0 == 0) {
            ds.push(
                nc.err("`ttl` is 0: nothing would ever be cached".into())
                    .hint("leave `ttl` out to keep entries until evicted"),
            );
        }
        nc.dist("service", &c.service, ds);
        if let Some(w) = c.warm
            && w > c.capacity
        {
            ds.push(
                nc.err(format!(
                    "`warm` is {w}, more keys than its `capacity` of {}",
                    c.capacity
                ))
                .hint("warm at most `capacity` keys (the most popular are keys 1, 2, ...)"),
            );
        }
        read_through::check(c, nc, ds);
    }

    /// The cache in the model's form.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let mut m = NodeModel::new(
            &self.id,
            KindModel::Cache(CacheModel {
                capacity: self.capacity,
                eviction: self.eviction,
                ttl: self.ttl.map_or(u64::MAX, |t| t.0),
                jitter: self.ttl_jitter.unwrap_or(0.0),
                single_flight: self.single_flight,
                swr: self.stale_while_revalidate.map_or(0, |d| d.0),
                warm: self.warm.unwrap_or(0),
                backend: self.backend.as_deref().map(|b| cx.ix(b)),
            }),
            self.servers.unwrap_or(1),
            None,
            self.service.sampler(),
        );
        m.load = crate::topology::check::load_model(self.load, None);
        if let Some(b) = &self.backend {
            // Every miss reads the backend: at most every request.
            m.flows = vec![crate::model::RouteModel {
                to: cx.ix(b) as usize,
                p: 1.0,
            }];
        }
        m
    }
}

/// What each fault does to a cache.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Down => Ok(
            "gets, sets and deletes fail at once; it comes back empty (cold), and waiters of a fill fail; a read-through cache's fetches in flight are lost",
        ),
        Fault::Errors => Ok(
            "a share `rate` of operations fail (a cache-aside read then goes to the database; a read-through get fails without reading its backend)",
        ),
        Fault::Flush => Ok(
            "every key is gone; cache-aside requests waiting on a fill get a miss; a read-through cache's fetches in flight still fill their keys",
        ),
        other => super::common_effect(other),
    }
}

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
    /// Read-through backend (`None`: cache-aside).
    pub backend: Option<u32>,
    /// Read-through counters (after the warm-up).
    pub fetch: read_through::Counters,
}

impl CacheState {
    /// Takes its edited settings while running (a live edit), keeping its
    /// keys and counters. A new TTL, jitter or stale window applies to
    /// fills from now (each key keeps the expiry it was stored with); a
    /// smaller capacity evicts by the eviction policy until it fits
    /// ([`Store::set_capacity`]); a new policy keeps every key; `warm`
    /// applies only at the start. True when the requests waiting on a
    /// cache-aside fill must be released now (see [`Simulation::cache_retune`]):
    /// single-flight turned off, or the cache became read-through.
    pub(crate) fn retune(&mut self, m: &CacheModel) -> bool {
        let release = self.backend.is_none()
            && (self.single_flight && !m.single_flight || m.backend.is_some());
        self.ttl = m.ttl;
        self.jitter = m.jitter;
        self.single_flight = m.single_flight;
        self.backend = m.backend;
        self.store.swr = m.swr;
        self.store.set_eviction(m.eviction);
        self.store.set_capacity(m.capacity as usize);
        release
    }

    /// The state cache `n` starts with: empty, or warm with keys 1 to
    /// `m.warm` (their TTLs drawn from a stream of their own, so the fills'
    /// draws do not shift).
    pub(crate) fn of(n: &NodeModel, m: &CacheModel, seed: u64) -> Self {
        let mut c = CacheState::new(
            m.capacity,
            m.eviction,
            m.ttl,
            m.jitter,
            m.single_flight,
            m.swr,
            Stream::new(seed, Purpose::Ttl, &n.id),
        );
        c.backend = m.backend;
        if m.warm > 0 {
            let fills = std::mem::replace(
                &mut c.rng,
                Stream::new(seed, Purpose::Ttl, &format!("{}/warm", n.id)),
            );
            // The least popular first: key 1 ends up most recently used.
            for key in (1..=m.warm.min(m.capacity)).rev() {
                let exp = c.expiry(0);
                c.store.put(key, exp);
            }
            c.rng = fills;
        }
        c
    }

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
            backend: None,
            fetch: read_through::Counters::default(),
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

    pub(crate) fn expiry(&mut self, now: SimTime) -> SimTime {
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
        if let Some(backend) = c.backend
            && r.op != op::SET
            && r.op != op::DEL
        {
            if r.op == op::WRITE || (r.op == op::CALL && self.model.class_writes(r.class)) {
                self.read_through_write(i, req, backend);
            } else {
                self.read_through_get(i, req, backend);
            }
            return;
        }
        let read_through = c.backend.is_some();
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
                if !read_through {
                    // (A read-through fetch in flight still answers its waiters.)
                    self.wake(i, r.key, outcome::MISS);
                }
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
                            self.hold(i, req);
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
            && matches!(&self.nodes[i as usize].kind, KindState::Cache(c) if c.backend.is_none())
        {
            self.wake(i as usize, key, outcome::MISS);
        }
    }

    /// Answers every request waiting for `key`'s fill with `result`.
    pub(crate) fn wake(&mut self, i: usize, key: u64, result: u8) {
        let KindState::Cache(c) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(mut w) = c.pending.remove(&key) else {
            return;
        };
        while w != ROOT {
            let next = self.reqs[w].next_waiter;
            self.record_visit(i, w, result != outcome::FAIL);
            self.finish(w, result);
            w = next;
        }
    }

    /// Cache `i` takes its edited settings (a live edit; see
    /// [`CacheState::retune`]). Requests waiting on a cache-aside fill are
    /// answered with a miss (they read the database themselves, as after a
    /// flush) when single-flight is turned off or the cache becomes
    /// read-through: their leader's release would no longer reach them.
    /// Waiters of a read-through fetch stay: its answer wakes them, whatever
    /// the settings are by then.
    pub(crate) fn cache_retune(&mut self, i: usize, m: &CacheModel) {
        let KindState::Cache(c) = &mut self.nodes[i].kind else {
            return;
        };
        if c.retune(m) {
            let keys: Vec<u64> = c.pending.keys().copied().collect();
            for k in keys {
                self.wake(i, k, outcome::MISS);
            }
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
        if c.backend.is_some() && !fail_waiters {
            // Read-through: the fetches in flight still fill and answer.
            return;
        }
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

/// A cache's measurements.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CacheReport {
    /// Gets that found the key.
    pub hits: u64,
    /// Gets that did not.
    pub misses: u64,
    /// `hits / (hits + misses)`.
    pub hit_ratio: Option<f64>,
    /// Misses that waited for another request's fill (single-flight).
    pub coalesced: u64,
    /// Hits served stale while a background refresh ran.
    pub stale_hits: u64,
    /// Keys evicted to make room (whole run).
    pub evictions: u64,
    /// Keys held at the end.
    pub keys: u64,
    /// Requests held at the node without a server, on average over the
    /// measured time: a CDN edge's or a read-through cache's requests
    /// waiting on the origin or backend, single-flight misses waiting on
    /// another request's fill. They are part of the node's
    /// `mean_in_system` (their time is in its sojourn).
    pub mean_held: f64,
    /// A read-through cache's fetches from its backend (absent for a
    /// cache-aside cache or a CDN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_through: Option<read_through::ReadThroughReport>,
}

impl CacheReport {
    pub(crate) fn new(
        hits: u64,
        misses: u64,
        coalesced: u64,
        stale_hits: u64,
        evictions: u64,
        keys: usize,
    ) -> Self {
        CacheReport {
            stale_hits,
            hits,
            misses,
            hit_ratio: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
            coalesced,
            evictions,
            keys: keys as u64,
            mean_held: 0.0,
            read_through: None,
        }
    }
}

impl CacheReport {
    /// The line the table prints for this cache.
    pub fn write_lines(&self, id: &str, out: &mut String) {
        let c = self;
        let _ = write!(
            out,
            "{id}: hit ratio {}, {} hits ({} stale), {} misses, {} coalesced, {} keys held",
            c.hit_ratio
                .map_or("-".into(), |h| format!("{:.1}%", h * 100.0)),
            fmt_count(c.hits),
            fmt_count(c.stale_hits),
            fmt_count(c.misses),
            fmt_count(c.coalesced),
            fmt_count(c.keys)
        );
        // Requests waiting on a fetch (the origin, the backend, another
        // request's fill) are at the node, though they hold no server.
        if c.mean_held >= 0.05 {
            let _ = write!(
                out,
                "; {:.1} requests waiting on a fetch on average",
                c.mean_held
            );
        }
        out.push('\n');
        if let Some(rt) = &c.read_through {
            rt.write_lines(id, out);
        }
    }
}

impl CacheState {
    /// The cache's report section.
    pub(crate) fn section(&self, model: &crate::model::Model) -> CacheReport {
        let mut r = CacheReport::new(
            self.hits,
            self.misses,
            self.coalesced,
            self.stale_hits,
            self.store.evictions,
            self.store.len(),
        );
        r.read_through = self.read_through_section(model);
        r
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "A key-value cache (Redis-like) with real keys: gets, sets and deletes of the request's key, each taking `service` on one of `servers`; LRU, FIFO or LFU eviction; TTLs with jitter; single-flight coalescing of misses; stale-while-revalidate. Apps use it with `CacheAside`, `WriteThrough` and `Invalidate` steps; without a `backend`, nothing else may send it requests (a source, a route, a balancer, a router, a limiter, a CDN's `origin`, an app's `Call` or `FanOut`): it would answer every miss with nothing, so that wiring is refused at load. With a `backend` it is read-through instead: it sits on the request path (sources, balancers and apps' `Call`s send requests to it), reads missed keys from the backend itself and fills them from the answer, late answers included (an answer that comes after the requester gave up still fills the key); writes (a class whose apps' handlers only write, or named `write…`) go through to the backend as writes and set their key when acknowledged.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "capacity",
            FieldType::Count {
                min: 0,
                max: 1_000_000_000,
            },
            "keys",
            None,
            "Keys it can hold.",
        ),
        field(
            "eviction",
            FieldType::Choice(&["Lru", "Fifo", "Lfu"]),
            "",
            Some("Lru"),
            "Which key leaves when full (LFU samples 5 keys, as Redis does).",
        ),
        field(
            "ttl",
            FieldType::Duration,
            "",
            Some("none (until evicted)"),
            "How long an entry lives.",
        ),
        field(
            "ttl_jitter",
            FieldType::Number {
                min: 0.0,
                max: 0.999,
            },
            "",
            Some("0"),
            "Spread TTLs by up to this fraction either way (0.1 for +-10%).",
        ),
        field(
            "servers",
            FieldType::Count {
                min: 1,
                max: 1_000_000,
            },
            "servers",
            Some("1"),
            "Parallel servers (1 is Redis's single thread).",
        ),
        field("service", FieldType::Dist, "", None, "Time per operation."),
        crate::kind::LOAD_FIELD,
        field(
            "single_flight",
            FieldType::Bool,
            "",
            Some("false"),
            "Coalesce concurrent misses of one key into one database read.",
        ),
        field(
            "stale_while_revalidate",
            FieldType::Duration,
            "",
            Some("none"),
            "Serve an expired entry this long after its TTL while one request refreshes it in the background.",
        ),
        field(
            "warm",
            FieldType::Count {
                min: 0,
                max: 1_000_000_000,
            },
            "keys",
            Some("0 (cold)"),
            "Start warm: keys 1 to `warm` (the most popular under Zipf and Celebrity keys) are loaded at time 0, each with a full TTL (so they expire together unless `ttl_jitter` spreads them). At most `capacity`. A cache that goes down comes back cold.",
        ),
        field(
            "backend",
            FieldType::Node(&[]),
            "",
            Some("none (cache-aside)"),
            "Read-through: the node a miss is read from (a database, a balancer over replicas, a service; writes go to it too, so a backend that reaches a replica is refused when a write class reaches the cache). The cache holds no server while the backend works; the answer fills the key even when the requester has given up; with `single_flight` concurrent misses of a key share one read and its outcome (a failure fails them all). Writes go through to it (write-through: the key is set when the backend acknowledges). Apps then `Call` it; `CacheAside` on it is refused.",
        ),
    ],
    nested: &[],
    example: "Cache(id: \"redis\", capacity: 100_000, eviction: Lru, ttl: \"5m\", ttl_jitter: 0.1, servers: 1, service: Exponential(mean: \"100us\"), single_flight: true)",
};

impl CacheModel {
    /// The most keys the cache holds over a run, for the memory estimate.
    pub(crate) fn memory(&self, cx: &MemoryCx) -> (String, f64) {
        crate::kinds::cache::store::memory("cache", "keys", self.capacity, self.warm, cx)
    }
}
