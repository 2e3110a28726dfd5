//! What a drill teaches, as data the engine can take away again.
//!
//! A drill names the mechanisms it teaches (`teaches: [RetryBudget,
//! Backoff, Breakers]`). Grading runs the learner's topology twice: as
//! written, and with those mechanisms removed from every node and source
//! they could sit on ([`remove`], a pure function of the topology). The
//! second run must fail: otherwise the topology passes, but not because of
//! the fix. A topology that does not use the mechanism is its own
//! counterfactual ([`Removal::changes`] is empty).

use crate::kinds::Node;
use crate::time::{Duration, MS};
use crate::topology::{Jitter, Retries, Step, Topology};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A mechanism a drill teaches, which the engine knows how to remove from
/// any topology.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum Mechanism {
    /// Load balancers' health checks. Removed: a dead backend keeps its share
    /// of the traffic.
    HealthChecks,
    /// A cache in front of the database, in either form: cache-aside in
    /// app handlers (`CacheAside`, `WriteThrough`, `Invalidate`) or a
    /// read-through cache (a `Cache` with a `backend`). Removed: reads go
    /// to the database (`Read`), writes only write, what sent to a
    /// read-through cache sends to its backend, and caches nothing refers
    /// to any more are taken out.
    CacheAside,
    /// CDN edges, and read-through caches that users reach first (an edge
    /// cache in front of the site). Removed: whatever sent to them sends to
    /// their origin (backend).
    Cdn,
    /// Read-your-writes (`ReadFresh`). Removed: every read goes to the
    /// replicas (`Read(db: replicas)`).
    ReadYourWrites,
    /// Caches' single-flight (one refill for concurrent misses of a key).
    SingleFlight,
    /// Caches' stale-while-revalidate.
    StaleWhileRevalidate,
    /// Jitter on caches' TTLs (`ttl_jitter`).
    TtlJitter,
    /// Idempotency keys at databases, deduplication at queues.
    IdempotencyKeys,
    /// Retry budgets (`budget`, `limit`) of clients and of apps' call
    /// policies. Removed: retries are unlimited again (up to their `max`).
    RetryBudget,
    /// Backoff between retries. Removed: retries wait at most 10 ms
    /// ([`IMMEDIATE`]), without jitter or cap: retrying at once.
    Backoff,
    /// Circuit breakers of clients and of apps' call policies.
    Breakers,
    /// Connection poolers. Removed: apps' pools and calls go to the
    /// pooler's database directly.
    Pooler,
}

/// The longest wait before a retry that still counts as retrying at once
/// (the walls' and drill 8's clients wait 10 ms).
pub const IMMEDIATE: Duration = Duration::from_nanos(10 * MS);

impl Mechanism {
    /// Every mechanism.
    pub const ALL: [Mechanism; 12] = [
        Mechanism::HealthChecks,
        Mechanism::CacheAside,
        Mechanism::Cdn,
        Mechanism::ReadYourWrites,
        Mechanism::SingleFlight,
        Mechanism::StaleWhileRevalidate,
        Mechanism::TtlJitter,
        Mechanism::IdempotencyKeys,
        Mechanism::RetryBudget,
        Mechanism::Backoff,
        Mechanism::Breakers,
        Mechanism::Pooler,
    ];

    /// As people say it: "retry budgets".
    pub fn label(self) -> &'static str {
        match self {
            Mechanism::HealthChecks => "health checks",
            Mechanism::CacheAside => "a cache (cache-aside or read-through)",
            Mechanism::Cdn => "a CDN",
            Mechanism::ReadYourWrites => "read-your-writes",
            Mechanism::SingleFlight => "single-flight",
            Mechanism::StaleWhileRevalidate => "stale-while-revalidate",
            Mechanism::TtlJitter => "TTL jitter",
            Mechanism::IdempotencyKeys => "idempotency keys",
            Mechanism::RetryBudget => "a retry budget",
            Mechanism::Backoff => "backoff",
            Mechanism::Breakers => "circuit breakers",
            Mechanism::Pooler => "a connection pooler",
        }
    }
}

/// The mechanisms as a list people read: "a retry budget, backoff or
/// circuit breakers".
pub fn labels(ms: &[Mechanism], last: &str) -> String {
    let names: Vec<&str> = ms.iter().map(|m| m.label()).collect();
    match names.len() {
        0 => "nothing".into(),
        1 => names[0].into(),
        n => format!("{} {last} {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// A topology with mechanisms taken away.
#[derive(Clone, Debug, PartialEq)]
pub struct Removal {
    /// The counterfactual topology.
    pub topology: Topology,
    /// What removing changed, one line each (`` `lb`: health check removed``);
    /// empty when the topology did not use the mechanisms.
    pub changes: Vec<String>,
}

/// `t` without every mechanism in `ms`, on every node and source where it
/// can sit. Pure; the node order and everything else are kept.
pub fn remove(t: &Topology, ms: &[Mechanism]) -> Removal {
    let mut top = t.clone();
    let mut changes = Vec::new();
    let ms: BTreeSet<Mechanism> = ms.iter().copied().collect();
    for m in ms {
        remove_one(&mut top, m, &mut changes);
    }
    Removal {
        topology: top,
        changes,
    }
}

fn remove_one(t: &mut Topology, m: Mechanism, changes: &mut Vec<String>) {
    let mut note = |id: &str, what: &str| changes.push(format!("`{id}`: {what}"));
    match m {
        Mechanism::Cdn | Mechanism::Pooler => {
            let gone: Vec<(String, String)> = t
                .nodes
                .iter()
                .filter_map(|n| match (m, n) {
                    (Mechanism::Cdn, Node::Cdn(c)) => Some((c.id.clone(), c.origin.clone())),
                    (Mechanism::Pooler, Node::Pooler(p)) => Some((p.id.clone(), p.to.clone())),
                    _ => None,
                })
                .collect();
            for (id, to) in gone {
                drop_node(t, &id, Some(&to));
                note(&id, &format!("removed; what sent to it sends to `{to}`"));
            }
            if m == Mechanism::Cdn {
                // A read-through cache that users reach first is an edge cache.
                while let Some((id, to)) = {
                    let edge: Vec<String> = t.sources.iter().map(|s| s.to.clone()).collect();
                    read_through(t, |c| edge.contains(&c.id)).into_iter().next()
                } {
                    drop_node(t, &id, Some(&to));
                    note(
                        &id,
                        &format!(
                            "removed (a read-through edge cache); what sent to it sends to `{to}`"
                        ),
                    );
                }
            }
        }
        Mechanism::CacheAside => {
            let mut touched = BTreeSet::new();
            for n in &mut t.nodes {
                let Node::App(a) = n else { continue };
                let mut changed = false;
                for steps in a.handle.values_mut() {
                    let before = steps.len();
                    steps.retain(|s| !matches!(s, Step::Invalidate { .. }));
                    changed |= steps.len() != before;
                    for s in steps.iter_mut() {
                        let plain = match s {
                            Step::CacheAside { cache, db } => {
                                touched.insert(cache.clone());
                                Step::Read { db: db.clone() }
                            }
                            Step::WriteThrough { cache, db } => {
                                touched.insert(cache.clone());
                                Step::Write { db: db.clone() }
                            }
                            _ => continue,
                        };
                        *s = plain;
                        changed = true;
                    }
                }
                if changed {
                    note(&a.id, "reads and writes go to the database, not the cache");
                }
            }
            // Read-through caches: what sent to one sends to its backend.
            // One at a time: a backend may itself be a read-through cache.
            while let Some((id, to)) = read_through(t, |_| true).into_iter().next() {
                drop_node(t, &id, Some(&to));
                note(
                    &id,
                    &format!("removed (read-through); what sent to it sends to `{to}`"),
                );
            }
            // Caches nothing refers to any more go too.
            let used = referenced(t);
            for id in touched {
                let is_cache = t
                    .nodes
                    .iter()
                    .any(|n| n.id() == id && matches!(n, Node::Cache(_)));
                if is_cache && !used.contains(&id) {
                    drop_node(t, &id, None);
                    note(&id, "removed (nothing uses it)");
                }
            }
        }
        Mechanism::ReadYourWrites => {
            for n in &mut t.nodes {
                let Node::App(a) = n else { continue };
                let mut changed = false;
                for s in a.handle.values_mut().flatten() {
                    if let Step::ReadFresh { replicas, .. } = s {
                        *s = Step::Read {
                            db: replicas.clone(),
                        };
                        changed = true;
                    }
                }
                if changed {
                    note(&a.id, "every read goes to the replicas (ReadFresh -> Read)");
                }
            }
        }
        Mechanism::HealthChecks => {
            for n in &mut t.nodes {
                if let Node::LoadBalancer(lb) = n
                    && lb.health_check.take().is_some()
                {
                    note(&lb.id, "health check removed");
                }
            }
        }
        Mechanism::SingleFlight | Mechanism::StaleWhileRevalidate | Mechanism::TtlJitter => {
            for n in &mut t.nodes {
                let Node::Cache(c) = n else { continue };
                let what = match m {
                    Mechanism::SingleFlight => std::mem::take(&mut c.single_flight),
                    Mechanism::StaleWhileRevalidate => c
                        .stale_while_revalidate
                        .take()
                        .is_some_and(|d| d > Duration::ZERO),
                    _ => c.ttl_jitter.take().is_some_and(|j| j > 0.0),
                };
                if what {
                    note(&c.id, &format!("{} off", m.label()));
                }
            }
        }
        Mechanism::IdempotencyKeys => {
            for n in &mut t.nodes {
                let (id, flag, what) = match n {
                    Node::Database(d) => (&d.id, &mut d.idempotency_keys, "idempotency keys off"),
                    Node::Queue(q) => (&q.id, &mut q.idempotent, "deduplication off"),
                    _ => continue,
                };
                if std::mem::take(flag) {
                    note(id, what);
                }
            }
        }
        Mechanism::RetryBudget | Mechanism::Backoff | Mechanism::Breakers => {
            for s in &mut t.sources {
                if let Some(c) = &mut s.client {
                    retry_policy(m, &mut c.retries, &mut c.breaker, &s.id, &mut note);
                }
            }
            for n in &mut t.nodes {
                if let Node::App(a) = n
                    && let Some(c) = &mut a.calls
                {
                    retry_policy(m, &mut c.retries, &mut c.breaker, &a.id, &mut note);
                }
            }
        }
    }
}

/// Removes a retry policy's budget, backoff or breaker.
fn retry_policy<B>(
    m: Mechanism,
    retries: &mut Option<Retries>,
    breaker: &mut Option<B>,
    id: &str,
    note: &mut impl FnMut(&str, &str),
) {
    let removed = match (m, retries) {
        (Mechanism::Breakers, _) => breaker
            .take()
            .is_some()
            .then_some("circuit breaker removed"),
        (Mechanism::RetryBudget, Some(r)) => (r.budget.take().is_some() | r.limit.take().is_some())
            .then_some("retry budget removed: retries are unlimited"),
        (Mechanism::Backoff, Some(r)) => {
            let before = (r.backoff, r.cap, r.jitter);
            r.backoff = r.backoff.min(IMMEDIATE);
            r.cap = None;
            r.jitter = Jitter::None;
            ((r.backoff, r.cap, r.jitter) != before)
                .then_some("retries at once (backoff at most 10ms, no jitter)")
        }
        _ => None,
    };
    if let Some(what) = removed {
        note(id, what);
    }
}

/// The read-through caches (id, backend) that `pick` selects, in node order.
fn read_through(
    t: &Topology,
    pick: impl Fn(&crate::kinds::cache::Cache) -> bool,
) -> Vec<(String, String)> {
    t.nodes
        .iter()
        .filter_map(|n| match n {
            Node::Cache(c) if pick(c) => c.backend.clone().map(|b| (c.id.clone(), b)),
            _ => None,
        })
        .collect()
}

/// Takes node `id` out; what referred to it refers to `to` instead (or,
/// with `to` None, nothing may refer to it).
fn drop_node(t: &mut Topology, id: &str, to: Option<&str>) {
    if let Some(to) = to {
        for s in &mut t.sources {
            if s.to == id {
                s.to = to.to_string();
            }
        }
        for n in &mut t.nodes {
            if n.id() == id {
                continue;
            }
            for r in refs_mut(n) {
                if r == id {
                    *r = to.to_string();
                }
            }
        }
    }
    t.nodes.retain(|n| n.id() != id);
    for r in &mut t.regions {
        r.nodes.retain(|n| n != id);
    }
    t.layout.remove(id);
}

/// Every node id that a source or another node refers to.
fn referenced(t: &Topology) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = t.sources.iter().map(|s| s.to.clone()).collect();
    let mut nodes = t.nodes.clone();
    for n in &mut nodes {
        let own = n.id().to_string();
        out.extend(
            refs_mut(n)
                .into_iter()
                .filter(|r| **r != own)
                .map(|r| r.clone()),
        );
    }
    out
}

/// Every field of a node that names another node.
fn refs_mut(n: &mut Node) -> Vec<&mut String> {
    match n {
        Node::Station(s) => s.routes.iter_mut().map(|r| &mut r.to).collect(),
        Node::LoadBalancer(lb) => lb.to.iter_mut().collect(),
        Node::App(a) => {
            let mut v: Vec<&mut String> = Vec::new();
            for s in a.handle.values_mut().flatten() {
                match s {
                    Step::Call { to } | Step::FanOut { to, .. } => v.push(to),
                    Step::Read { db } | Step::Write { db } => v.push(db),
                    Step::CacheAside { cache, db } | Step::WriteThrough { cache, db } => {
                        v.push(cache);
                        v.push(db);
                    }
                    Step::Invalidate { cache } => v.push(cache),
                    Step::ReadFresh {
                        replicas, primary, ..
                    } => {
                        v.push(replicas);
                        v.push(primary);
                    }
                    Step::Publish { queue } => v.push(queue),
                }
            }
            if let Some(p) = &mut a.pool {
                v.push(&mut p.to);
            }
            v
        }
        Node::Cdn(c) => vec![&mut c.origin],
        Node::Replica(r) => vec![&mut r.primary],
        Node::RateLimiter(r) => vec![&mut r.to],
        Node::ShardRouter(s) => s.shards.iter_mut().collect(),
        Node::Pooler(p) => vec![&mut p.to],
        Node::Database(d) => d.failover.iter_mut().map(|f| &mut f.to).collect(),
        Node::Cache(c) => c.backend.iter_mut().collect(),
        Node::Queue(_) | Node::ObjectStore(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(text: &str) -> Topology {
        crate::topology::parse("t.ron", text).unwrap()
    }

    #[test]
    fn a_pooler_is_bypassed_and_its_references_follow() {
        let t = top(r#"Topology(name: "p",
            sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 10))],
            nodes: [
                App(id: "app", workers: 4, service: Constant("1ms"),
                    handle: {"*": [Read(db: "pgb")]}, pool: Pool(to: "pgb", size: 5)),
                Pooler(id: "pgb", to: "db", connections: 10),
                Database(id: "db", servers: 4, read: Constant("1ms"), write: Constant("1ms")),
            ])"#);
        let r = remove(&t, &[Mechanism::Pooler]);
        assert_eq!(r.changes.len(), 1, "{:?}", r.changes);
        assert_eq!(r.topology.nodes.len(), 2);
        let Node::App(a) = &r.topology.nodes[0] else {
            panic!()
        };
        assert_eq!(a.pool.as_ref().unwrap().to, "db");
        assert_eq!(a.handle["*"], vec![Step::Read { db: "db".into() }]);
        // It loads, and removing again changes nothing.
        crate::topology::load_str("cf.ron", &crate::topology::to_ron(&r.topology)).unwrap();
        assert!(remove(&r.topology, &[Mechanism::Pooler]).changes.is_empty());
    }

    #[test]
    fn cache_aside_becomes_reads_and_the_unused_cache_goes() {
        let t = top(r#"Topology(name: "c",
            sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 10), mix: {"r": 0.9, "w": 0.1})],
            nodes: [
                App(id: "app", workers: 4, service: Constant("1ms"),
                    handle: {"r": [CacheAside(cache: "c", db: "db")], "w": [Write(db: "db"), Invalidate(cache: "c")]}),
                Cache(id: "c", capacity: 100, service: Constant("100us")),
                Database(id: "db", servers: 4, read: Constant("1ms"), write: Constant("1ms")),
            ])"#);
        let r = remove(&t, &[Mechanism::CacheAside]);
        assert!(!r.topology.nodes.iter().any(|n| n.id() == "c"));
        let Node::App(a) = &r.topology.nodes[0] else {
            panic!()
        };
        assert_eq!(a.handle["r"], vec![Step::Read { db: "db".into() }]);
        assert_eq!(a.handle["w"], vec![Step::Write { db: "db".into() }]);
        crate::topology::load_str("cf.ron", &crate::topology::to_ron(&r.topology)).unwrap();
        // Other mechanisms leave it alone.
        let others: Vec<Mechanism> = Mechanism::ALL
            .into_iter()
            .filter(|m| *m != Mechanism::CacheAside)
            .collect();
        let same = remove(&t, &others);
        assert!(same.changes.is_empty(), "{:?}", same.changes);
        assert_eq!(same.topology, t);
    }

    #[test]
    fn retries_become_immediate_and_unlimited() {
        let t = top(r#"Topology(name: "r",
            sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 10),
                client: Client(timeout: "1s", retries: Retries(max: 3, backoff: "100ms", cap: "1s", budget: 0.1),
                               breaker: Breaker(failure_ratio: 0.5, window: "10s", open_for: "5s")))],
            nodes: [Station(id: "s", servers: 1, service: Constant("1ms"))])"#);
        let r = remove(
            &t,
            &[
                Mechanism::RetryBudget,
                Mechanism::Backoff,
                Mechanism::Breakers,
            ],
        );
        let c = r.topology.sources[0].client.as_ref().unwrap();
        let re = c.retries.as_ref().unwrap();
        assert_eq!(re.max, 3, "as many retries as before");
        assert_eq!(
            (re.backoff, re.cap, re.jitter),
            (IMMEDIATE, None, Jitter::None)
        );
        assert_eq!(re.budget, None);
        assert!(c.breaker.is_none());
        assert_eq!(r.changes.len(), 3, "{:?}", r.changes);
        assert_eq!(
            labels(&[Mechanism::RetryBudget, Mechanism::Backoff], "or"),
            "a retry budget or backoff"
        );
    }
}
