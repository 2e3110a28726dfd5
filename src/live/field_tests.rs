//! Live edits of every kind's settings: each applies in place, keeping the
//! node's state (contents, connections, requests in flight), and conserves
//! requests. The proptest in `live.rs` uses [`every_kind`] and [`retune`].

use super::*;
use crate::kinds::KindState;
use crate::sim::{Change, RunConfig, Simulation};
use crate::time::{Duration, MS, SEC};

/// A topology with one node (at least) of every kind, at a modest load.
pub(super) const EVERY_KIND: &str = r#"Topology(
    name: "every kind",
    sources: [
        Source(id: "users", to: "cdn", arrivals: Poisson(rps: 400),
               mix: {"static": 0.3, "read": 0.6, "write": 0.1},
               keys: Zipf(keys: 2000, s: 0.9)),
    ],
    nodes: [
        Cdn(id: "cdn", origin: "limiter", capacity: 500, ttl: "30s", cacheable: ["static"],
            service: Exponential(mean: "1ms")),
        RateLimiter(id: "limiter", to: "lb", limit: 380, per: "1s", burst: 60),
        LoadBalancer(id: "lb", policy: LeastConnections, to: ["app-1", "app-2"]),
        App(id: "app-1", workers: 16, queue: 200, service: Exponential(mean: "2ms"),
            handle: {"static": [Call(to: "photos"), Call(to: "audit")],
                     "read": [CacheAside(cache: "cache", db: "shards"), Read(db: "pgb")],
                     "write": [Write(db: "db"), Invalidate(cache: "cache"), Publish(queue: "jobs")]},
            pool: Pool(to: "pgb", size: 8),
            calls: CallPolicy(timeout: "500ms", retries: Retries(max: 2, backoff: "10ms")),
            autoscale: Autoscale(target: 0.6, min: 1, max: 3, every: "2s", provision: "1s", cooldown: "5s")),
        App(id: "app-2", workers: 16, queue: 200, service: Exponential(mean: "2ms"),
            handle: {"static": [Call(to: "photos")],
                     "read": [CacheAside(cache: "cache", db: "shards"), Read(db: "replica")],
                     "write": [Write(db: "db"), Publish(queue: "jobs")]},
            pool: Pool(to: "db", size: 8)),
        Cache(id: "cache", capacity: 300, ttl: "20s", service: Exponential(mean: "200us"),
              single_flight: true),
        ShardRouter(id: "shards", shards: ["db", "db-2"]),
        Pooler(id: "pgb", to: "db", connections: 20),
        Database(id: "db", servers: 8, max_connections: 60,
                 read: Exponential(mean: "3ms"), write: Exponential(mean: "6ms")),
        Database(id: "db-2", servers: 8, max_connections: 60,
                 read: Exponential(mean: "3ms"), write: Exponential(mean: "6ms")),
        Replica(id: "replica", primary: "db", lag: Exponential(mean: "50ms"), servers: 8,
                max_connections: 60, read: Exponential(mean: "3ms")),
        Queue(id: "jobs", capacity: 1000, workers: 4, service: Exponential(mean: "20ms"),
              visibility_timeout: "1s"),
        ObjectStore(id: "photos", service: Exponential(mean: "20ms"), rate: 100, prefixes: 4),
        Station(id: "audit", servers: 2, service: Exponential(mean: "5ms")),
    ],
)"#;

/// [`EVERY_KIND`], loaded.
pub(super) fn every_kind() -> Model {
    crate::topology::load_str("every-kind", EVERY_KIND)
        .unwrap()
        .model
}

fn ms(n: u32) -> Duration {
    Duration(n as u64 * MS)
}

fn exp(n: u32) -> crate::dist::Dist {
    crate::dist::Dist::Exponential { mean: ms(n) }
}

/// Changes a setting of node `k` (modulo the count) that its kind has,
/// chosen and valued by `v`: every kind's own settings, not only servers.
pub(super) fn retune(t: &mut Topology, k: usize, v: u32) -> Option<()> {
    use crate::kind::{Algorithm, Eviction};
    let n = t.nodes.len();
    let names: Vec<String> = t.nodes.iter().map(|x| x.id().to_string()).collect();
    let has = |id: &str| names.iter().any(|x| x == id);
    match &mut t.nodes[k % n] {
        Node::App(a) => match v % 8 {
            0 => a.workers = 1 + (v / 8 % 20) as u64,
            1 => a.pool.as_mut()?.size = 1 + (v / 8 % 12) as u64,
            2 => {
                // Another handler for reads (or back).
                let read = a.handle.get_mut("read")?;
                if read.len() > 1 {
                    read.pop();
                } else if has("replica") {
                    read.push(crate::kinds::app::Step::Read {
                        db: "replica".into(),
                    });
                }
            }
            3 => {
                let c = a.calls.get_or_insert(crate::kinds::app::CallPolicy {
                    timeout: None,
                    retries: None,
                    breaker: None,
                });
                c.timeout = Some(ms(20 + v / 8 % 500));
                c.retries = (v % 16 < 8).then(|| crate::topology::Retries {
                    max: v / 16 % 3,
                    backoff: ms(5 + v % 20),
                    cap: None,
                    jitter: Default::default(),
                    budget: v.is_multiple_of(3).then_some(0.2),
                    limit: None,
                });
            }
            4 => {
                a.autoscale = match a.autoscale.take() {
                    Some(mut s) if v % 16 < 8 => {
                        s.target = 0.3 + (v / 16 % 6) as f64 / 10.0;
                        s.max = 1 + (v / 16 % 4) as u64;
                        s.min = 1;
                        Some(s)
                    }
                    Some(_) => None,
                    None => Some(crate::kinds::app::Autoscale {
                        target: 0.5,
                        min: 1,
                        max: 3,
                        every: Some(Duration(SEC)),
                        provision: Some(Duration(SEC / 2)),
                        cooldown: Some(Duration(2 * SEC)),
                    }),
                }
            }
            5 => a.queue = Some((v / 8 % 300) as u64),
            6 => a.instances = Some(1 + (v / 8 % 3) as u64),
            _ => {
                // The pool moves to another target (or goes, or comes).
                a.pool = match (&a.pool, v / 8 % 3) {
                    (_, 0) => None,
                    (_, 1) if has("db") => Some(crate::kinds::app::Pool {
                        to: "db".into(),
                        size: 4,
                    }),
                    _ if has("pgb") => Some(crate::kinds::app::Pool {
                        to: "pgb".into(),
                        size: 6,
                    }),
                    _ => return None,
                }
            }
        },
        Node::Cache(c) => match v % 4 {
            0 => c.capacity = (v / 4 % 400) as u64,
            1 => c.eviction = [Eviction::Lru, Eviction::Fifo, Eviction::Lfu][v as usize / 4 % 3],
            2 => c.single_flight = !c.single_flight,
            _ => c.ttl = Some(Duration((1 + v as u64 / 4 % 30) * SEC)),
        },
        Node::Database(d) => match v % 3 {
            0 => d.max_connections = Some(1 + (v / 3 % 80) as u64),
            1 => d.servers = 1 + (v / 3 % 12) as u64,
            _ => d.write = exp(1 + v / 3 % 20),
        },
        Node::Replica(r) => match v % 2 {
            0 => r.max_connections = Some(1 + (v / 2 % 80) as u64),
            _ => r.lag = exp(1 + v / 2 % 200),
        },
        Node::Pooler(p) => match v % 2 {
            0 => p.connections = 1 + (v / 2 % 40) as u64,
            _ if has("db-2") => {
                p.to = if p.to == "db" {
                    "db-2".into()
                } else {
                    "db".into()
                }
            }
            _ => return None,
        },
        Node::RateLimiter(l) => match v % 3 {
            0 => l.limit = 50.0 + (v / 3 % 500) as f64,
            // (A burst is a token bucket's: a sliding window refuses one.)
            1 => {
                l.burst = Some(1.0 + (v / 3 % 100) as f64);
                l.algorithm = Algorithm::TokenBucket;
            }
            _ => {
                l.algorithm = match l.algorithm {
                    Algorithm::TokenBucket => Algorithm::SlidingWindow,
                    Algorithm::SlidingWindow => Algorithm::TokenBucket,
                };
                if l.algorithm == Algorithm::SlidingWindow {
                    l.burst = None;
                }
            }
        },
        Node::ShardRouter(s) => match v % 3 {
            0 => s.shards.reverse(),
            1 => s.active = Some(1 + v / 3 % s.shards.len() as u32),
            _ => {
                s.scheme = match s.scheme {
                    crate::kind::Sharding::HashMod => crate::kind::Sharding::ConsistentHash,
                    crate::kind::Sharding::ConsistentHash => crate::kind::Sharding::HashMod,
                }
            }
        },
        Node::ObjectStore(o) => match v % 2 {
            0 => o.rate = Some(10.0 + (v / 2 % 300) as f64),
            _ => o.prefixes = Some(1 + (v / 2 % 16) as u64),
        },
        Node::Cdn(c) => match v % 2 {
            0 => c.capacity = (v / 2 % 800) as u64,
            _ => c.ttl = Some(Duration((1 + v as u64 / 2 % 60) * SEC)),
        },
        Node::Queue(q) => match v % 3 {
            0 => q.workers = 1 + (v / 3 % 8) as u64,
            1 => q.capacity = Some((v / 3 % 1000) as u64),
            _ => q.visibility_timeout = Some(ms(50 + v / 3 % 2000)),
        },
        Node::Station(s) => match v % 2 {
            0 => s.servers = 1 + (v / 2 % 4) as u64,
            _ => s.service = exp(1 + v / 2 % 10),
        },
        Node::LoadBalancer(_) => return None,
    }
    Some(())
}

/// Connections a database or replica counts as held by pools and poolers
/// match what those hold: none leaked, none counted twice.
pub(super) fn connections_balance(sim: &Simulation) -> Result<(), String> {
    let n = sim.model().nodes.len();
    let mut held = vec![0u64; n];
    for i in 0..n {
        if sim.retired()[i] {
            continue;
        }
        match &sim.node_state(i).kind {
            KindState::App(a) => {
                if let Some(p) = &a.pool {
                    held[p.target as usize] += p.granted as u64;
                }
            }
            &KindState::Pooler(to) => held[to as usize] += sim.node_state(i).servers as u64,
            _ => {}
        }
    }
    for (i, &h) in held.iter().enumerate() {
        let open = match &sim.node_state(i).kind {
            KindState::Database(d) => d.open as u64,
            KindState::Replica(r) => r.open as u64,
            _ => continue,
        };
        if open != h {
            return Err(format!(
                "`{}` counts {open} pooled connections, pools hold {h}",
                sim.model().nodes[i].id
            ));
        }
    }
    Ok(())
}

fn open(path: &str) -> Model {
    let text = std::fs::read_to_string(path).unwrap();
    crate::topology::load_str(path, &text).unwrap().model
}

fn index(m: &Model, id: &str) -> usize {
    m.nodes.iter().position(|n| n.id == id).unwrap()
}

fn edit(sim: &mut Simulation, t: &Topology) -> crate::sim::Remap {
    let r = restructure("t", sim.model(), sim.retirements(), t, "edit").unwrap();
    assert!(r.retire.is_empty(), "nothing replaced: {:?}", r.retire);
    sim.restructure(r).unwrap()
}

fn drain_and_check(sim: &mut Simulation) {
    sim.apply(Change::Traffic(0.0)).unwrap();
    let t = sim.now() + 600 * SEC;
    sim.step_until(t).unwrap();
    let e = sim.report().end_to_end;
    assert_eq!(e.arrivals, e.completed + e.dropped, "{e:?}");
    let a = sim.audit();
    assert_eq!(a.requests, 0, "{a:?}");
    assert_eq!(a.busy + a.calling + a.pool_in_use + a.balanced, 0, "{a:?}");
    assert_eq!(a.fanouts + a.fills + a.pool_waiters + a.waiting, 0, "{a:?}");
    connections_balance(sim).unwrap();
}

#[test]
fn a_cache_shrunk_live_keeps_its_most_recent_keys_not_a_cold_start() {
    let m = open("topologies/journey/05-cache.ron");
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(60 * SEC).unwrap();
    let c = index(&m, "cache");
    let keys = |sim: &Simulation| match &sim.node_state(c).kind {
        KindState::Cache(c) => (c.store.len(), c.store.evictions, c.hits),
        _ => unreachable!(),
    };
    let (held, evicted, hits) = keys(&sim);
    assert!(held > 100, "{held} keys");
    let mut t = m.topology.clone();
    let Some(Node::Cache(cache)) = t.nodes.iter_mut().find(|n| n.id() == "cache") else {
        unreachable!()
    };
    cache.capacity = 100;
    cache.eviction = crate::kind::Eviction::Fifo;
    let remap = edit(&mut sim, &t);
    assert_eq!(remap.updated, vec![c]);
    let (now_held, now_evicted, now_hits) = keys(&sim);
    assert_eq!(now_held, 100, "shrunk to the new capacity, not emptied");
    assert_eq!(now_evicted - evicted, (held - 100) as u64, "counted");
    assert_eq!(now_hits, hits, "its counters stay");
    sim.step_until(61 * SEC).unwrap();
    assert!(keys(&sim).2 > hits, "still hitting: warm");
    drain_and_check(&mut sim);
}

#[test]
fn single_flight_turned_off_releases_its_waiters_with_a_miss() {
    // A hot key, a slow database: misses wait on one fill.
    let text = r#"Topology(name: "stampede",
        sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 2000), keys: Zipf(keys: 20, s: 1.2))],
        nodes: [
            App(id: "app", workers: 400, service: Constant("1ms"),
                handle: {"*": [CacheAside(cache: "cache", db: "db")]}),
            Cache(id: "cache", capacity: 100, ttl: "200ms", service: Constant("100us"), single_flight: true),
            Database(id: "db", servers: 4, read: Exponential(mean: "40ms"), write: Constant("1ms")),
        ])"#;
    let m = crate::topology::load_str("t", text).unwrap().model;
    let mut sim = Simulation::new(&m, RunConfig::default());
    let c = index(&m, "cache");
    let waiting = |sim: &Simulation| match &sim.node_state(c).kind {
        KindState::Cache(c) => c.pending_fills(),
        _ => unreachable!(),
    };
    let mut at = 0;
    while waiting(&sim) == 0 || sim.audit().requests < 50 {
        at += 7 * MS;
        sim.step_until(at).unwrap();
        assert!(at < 20 * SEC, "no fill was ever pending");
    }
    let coalesced = sim
        .report()
        .nodes
        .get("cache")
        .unwrap()
        .cache
        .clone()
        .unwrap();
    let mut t = m.topology.clone();
    if let Node::Cache(cache) = &mut t.nodes[c] {
        cache.single_flight = false;
    }
    edit(&mut sim, &t);
    assert_eq!(waiting(&sim), 0, "every waiter released at once");
    sim.step_until(at + 2 * SEC).unwrap();
    let after = sim
        .report()
        .nodes
        .get("cache")
        .unwrap()
        .cache
        .clone()
        .unwrap();
    assert_eq!(after.coalesced, coalesced.coalesced, "no more coalescing");
    assert_eq!(waiting(&sim), 0);
    drain_and_check(&mut sim);
}

#[test]
fn a_database_limit_below_its_connections_in_use_lets_them_finish() {
    let m = open("topologies/journey/02-web-and-database.ron");
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(10 * SEC + 1).unwrap();
    let db = index(&m, "db");
    let in_flight: Vec<u32> = sim
        .requests()
        .filter(|r| r.node == db as u32)
        .map(|r| r.serial)
        .collect();
    assert!(!in_flight.is_empty(), "work in flight at the database");
    let refused0 = sim
        .report()
        .nodes
        .get("db")
        .unwrap()
        .database
        .clone()
        .unwrap();
    let completed0 = sim.report().nodes.get("db").unwrap().completed;
    let mut t = m.topology.clone();
    if let Node::Database(d) = &mut t.nodes[db] {
        d.max_connections = Some(1);
    }
    let remap = edit(&mut sim, &t);
    assert_eq!(remap.updated, vec![db]);
    assert!(!sim.retired()[db], "not replaced");
    // The queries in flight are still there, and finish.
    let still = sim
        .requests()
        .filter(|r| r.node == db as u32 && in_flight.contains(&r.serial))
        .count();
    assert_eq!(still, in_flight.len(), "none failed by the edit");
    sim.step_until(sim.now() + 200 * MS).unwrap();
    let r = sim.report();
    let d = r.nodes.get("db").unwrap();
    assert!(d.completed >= completed0 + in_flight.len() as u64);
    assert!(
        !sim.requests()
            .any(|r| r.node == db as u32 && in_flight.contains(&r.serial)),
        "they finished"
    );
    let refused = d.database.clone().unwrap();
    assert!(
        refused.refused > refused0.refused + 100,
        "one connection: most queries refused ({} then {})",
        refused0.refused,
        refused.refused
    );
    // Back up: served at once.
    if let Node::Database(d) = &mut t.nodes[db] {
        d.max_connections = Some(300);
    }
    edit(&mut sim, &t);
    let refused1 = sim
        .report()
        .nodes
        .get("db")
        .unwrap()
        .database
        .clone()
        .unwrap()
        .refused;
    sim.step_until(sim.now() + SEC).unwrap();
    let refused2 = sim
        .report()
        .nodes
        .get("db")
        .unwrap()
        .database
        .clone()
        .unwrap()
        .refused;
    assert!(refused2 - refused1 < 5, "{refused1} then {refused2}");
    drain_and_check(&mut sim);
}

#[test]
fn a_pool_waits_under_a_lower_limit_and_a_higher_one_serves_its_waiters_at_once() {
    let m = open("topologies/drills/09-autoscaling-meets-the-database.start.ron");
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(30 * SEC).unwrap();
    let (app, db) = (index(&m, "app"), index(&m, "db"));
    let pool = |sim: &Simulation| match &sim.node_state(app).kind {
        KindState::App(a) => {
            let p = a.pool.as_ref().unwrap();
            (p.granted, p.in_use, p.waiters.len())
        }
        _ => unreachable!(),
    };
    let (granted, _, _) = pool(&sim);
    assert_eq!(granted, 80, "4 instances x 20");
    // Fewer connections than the pool holds: it keeps them (in use), and
    // asks for no more.
    let mut t = m.topology.clone();
    if let Node::Database(d) = &mut t.nodes[db] {
        d.max_connections = Some(10);
    }
    edit(&mut sim, &t);
    assert_eq!(pool(&sim).0, 80, "connections open stay open");
    connections_balance(&sim).unwrap();
    // The pool grows past the limit: it gets nothing more, so calls wait.
    if let Node::App(a) = &mut t.nodes[app] {
        a.pool.as_mut().unwrap().size = 40;
        a.autoscale = None;
    }
    edit(&mut sim, &t);
    let (g, _, _) = pool(&sim);
    assert!(g <= 80, "no connection over the limit: {g}");
    connections_balance(&sim).unwrap();
    // Raise the limit: the pool opens what it asked for at once.
    if let Node::Database(d) = &mut t.nodes[db] {
        d.max_connections = Some(1000);
    }
    edit(&mut sim, &t);
    let (g, in_use, waiters) = pool(&sim);
    assert_eq!(g, 40 * 4, "opened at once");
    assert!(
        waiters == 0 || in_use == g,
        "waiters served: {in_use} of {g}, {waiters} wait"
    );
    connections_balance(&sim).unwrap();
    drain_and_check(&mut sim);
}

#[test]
fn requests_at_an_app_finish_with_the_handlers_they_arrived_under() {
    let m = open("topologies/journey/02-web-and-database.ron");
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(10 * SEC + 1).unwrap();
    let web = index(&m, "web");
    let there = sim.requests().filter(|r| r.node == web as u32).count();
    assert!(there > 0);
    // Reads now go to a second database.
    let mut t = m.topology.clone();
    let mut db2 = t.nodes.iter().find(|n| n.id() == "db").unwrap().clone();
    *db2.id_mut() = "db2".into();
    t.nodes.push(db2);
    if let Node::App(a) = &mut t.nodes[web] {
        a.handle.insert(
            "read".into(),
            vec![crate::kinds::app::Step::Read { db: "db2".into() }],
        );
    }
    let remap = edit(&mut sim, &t);
    assert_eq!(remap.updated, vec![web]);
    let before = sim.report().nodes.get("db").unwrap().arrivals;
    // The requests that were there still read `db` (or have read it).
    sim.step_until(sim.now() + 100 * MS).unwrap();
    let r = sim.report();
    assert!(
        r.nodes.get("db").unwrap().arrivals > before,
        "old requests read the old db"
    );
    assert!(
        r.nodes.get("db2").unwrap().arrivals > 0,
        "new ones read the new one"
    );
    sim.step_until(sim.now() + 5 * SEC).unwrap();
    // Only writes reach `db` now (5% of requests).
    let after = sim.report().nodes.get("db").unwrap().arrivals;
    let new = sim.report().nodes.get("db2").unwrap().arrivals;
    assert!(
        new > 10 * (after - before) / 2,
        "db {after}-{before}, db2 {new}"
    );
    drain_and_check(&mut sim);
}

#[test]
fn every_kind_takes_a_field_edit_in_place() {
    let m = every_kind();
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(5 * SEC).unwrap();
    let mut t = m.topology.clone();
    for k in 0..t.nodes.len() {
        for v in [3u32, 17, 40] {
            let mut next = t.clone();
            if retune(&mut next, k, v).is_none() {
                continue;
            }
            let r = restructure("t", sim.model(), sim.retirements(), &next, "edit").unwrap();
            assert!(r.retire.is_empty(), "node {k}, {v}: replaced");
            sim.restructure(r).unwrap();
            t = next;
            sim.step_until(sim.now() + 300 * MS).unwrap();
            connections_balance(&sim).unwrap();
        }
    }
    assert!(sim.retired().iter().all(|r| !r));
    drain_and_check(&mut sim);
}
