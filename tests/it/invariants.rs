//! The engine's invariants on random topologies over every node kind: random
//! valid systems (nested fan-outs, call policies with timeouts, retries,
//! budgets of every form and breakers, jitter of every form, load curves,
//! classes, keys, regions, bursts, read-through caches in front of the apps
//! and on their calls, cache-aside reading replicas, balancers, shard routers
//! and poolers) run under faults (crashes and drains
//! among them) flapping at random times; then the sources stop, every node comes back, and the run
//! drains. Checked: the books balance at every node and end to end, in every
//! window, against the requests the engine actually holds; after the drain
//! nothing is held (no request, worker, connection, pool slot, fan-out slot,
//! fill); utilization stays within [0, 1]; the same seed gives the same
//! bytes; nothing panics.
//!
//! CI runs `BOTTLENECK_INVARIANT_CASES` cases (default 48) from a fixed
//! seed; the soak run is `BOTTLENECK_INVARIANT_CASES=5000 cargo test --release
//! --test it invariants` (a random seed with `BOTTLENECK_INVARIANT_SEED=random`).
//! Failures found are kept in `tests/it/invariants.proptest-regressions` and
//! replayed first.

use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{MS, SEC};
use bottleneck::topology;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestRunner};

/// One app: its steps per class, call policy, pool, autoscaling.
#[derive(Clone, Debug)]
struct AppSpec {
    workers: u32,
    queue: Option<u32>,
    service_us: u32,
    /// Steps per class (index into the classes), or one `*` handler.
    handlers: Vec<Vec<StepSpec>>,
    star: bool,
    timeout_ms: Option<u32>,
    retries: u32,
    budget: Option<f64>,
    breaker: bool,
    pool: Option<u32>,
    autoscale: bool,
    load_factor: Option<f64>,
}

/// A handler step: what it calls, by role.
#[derive(Clone, Debug)]
enum StepSpec {
    /// Call a later app (by offset) or the leaf station.
    Call(u8),
    Read(u8),
    Write,
    /// Cache-aside, its misses reading the database, replicas, a pooler
    /// or a shard router (as `Read`'s targets).
    CacheAside(u8),
    /// Call the read-through cache (the leaves when there is none).
    ReadThrough,
    Invalidate,
    WriteThrough,
    ReadFresh,
    Publish,
    /// Fan out to a later app (by offset) or the leaves; count; hedge.
    FanOut(u8, u8, bool),
}

#[derive(Clone, Debug)]
pub(super) struct Spec {
    apps: Vec<AppSpec>,
    classes: u8,
    keys: u8,
    rps: u32,
    closed_users: Option<u32>,
    client_timeout_ms: Option<u32>,
    client_retries: u32,
    client_budget: bool,
    client_breaker: bool,
    front: u8,
    replicas: u8,
    pooler: bool,
    shards: bool,
    cache_single_flight: bool,
    cache_swr: bool,
    db_max_connections: Option<u32>,
    db_failover: bool,
    queue_visibility_ms: u32,
    station_chain: bool,
    regions: Option<u32>,
    /// Load curve on the stations, cache, queue, replicas and second
    /// database: none, linear, cubic, exponential.
    load: u8,
    /// The clients' retry budget: `budget` as drawn (0, 1), a token
    /// bucket, Finagle.
    client_limit: u8,
    /// The clients' jitter: none, full, equal, decorrelated.
    client_jitter: u8,
    /// The apps' call budgets: `budget` as drawn, a token bucket, Finagle.
    calls_limit: u8,
    /// A burst source: (count, at ms).
    burst: Option<(u32, u32)>,
    /// Faults: (at ms, what, which node, value).
    faults: Vec<(u32, u8, u8, u8)>,
    seed: u64,
    /// A read-through cache `rtc` the apps `Call`: its backend (the
    /// database, the replicas, the shard router, the pooler, the leaves)
    /// and flags (single flight, stale-while-revalidate, warm).
    read_through: Option<(u8, u8)>,
    /// With `front` 4, the read-through cache `rtf` in front of the entry:
    /// its flags.
    front_flags: u8,
}

fn step() -> impl Strategy<Value = StepSpec> {
    prop_oneof![
        (0u8..4).prop_map(StepSpec::Call),
        (0u8..5).prop_map(StepSpec::Read),
        Just(StepSpec::Write),
        (0u8..5).prop_map(StepSpec::CacheAside),
        Just(StepSpec::ReadThrough),
        Just(StepSpec::Invalidate),
        Just(StepSpec::WriteThrough),
        Just(StepSpec::ReadFresh),
        Just(StepSpec::Publish),
        (0u8..4, 1u8..4, any::<bool>()).prop_map(|(t, c, h)| StepSpec::FanOut(t, c, h)),
    ]
}

fn app() -> impl Strategy<Value = AppSpec> {
    (
        (1u32..24, prop::option::of(0u32..20), 0u32..3000),
        (
            prop::collection::vec(prop::collection::vec(step(), 0..4), 3),
            any::<bool>(),
        ),
        (
            prop::option::of(5u32..400),
            0u32..3,
            prop::option::of(0.05f64..1.0),
            any::<bool>(),
        ),
        (
            prop::option::of(1u32..8),
            prop::bool::weighted(0.2),
            prop::option::of(0.0f64..3.0),
        ),
    )
        .prop_map(
            |(
                (workers, queue, service_us),
                (handlers, star),
                (timeout_ms, retries, budget, breaker),
                (pool, autoscale, load_factor),
            )| AppSpec {
                workers,
                queue,
                service_us,
                handlers,
                star,
                timeout_ms,
                retries,
                budget,
                breaker,
                pool,
                autoscale,
                load_factor,
            },
        )
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (
            prop::collection::vec(app(), 1..4),
            1u8..4,
            0u8..3,
            10u32..400,
        ),
        (
            prop::option::weighted(0.2, 1u32..40),
            prop::option::of(20u32..600),
            0u32..3,
            any::<bool>(),
            any::<bool>(),
        ),
        (
            0u8..5,
            0u8..3,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            prop::option::of(2u32..40),
            prop::bool::weighted(0.3),
            50u32..2000,
            any::<bool>(),
            prop::option::weighted(0.25, 1u32..30),
        ),
        (
            prop::collection::vec((0u32..8000, 0u8..12, any::<u8>(), 0u8..8), 0..14),
            any::<u64>(),
        ),
        (
            0u8..4,
            0u8..4,
            0u8..4,
            0u8..3,
            prop::option::weighted(0.3, (1u32..300, 0u32..9000)),
        ),
        (prop::option::weighted(0.5, (0u8..5, 0u8..8)), 0u8..8),
    )
        .prop_map(
            |(
                (apps, classes, keys, rps),
                (closed_users, client_timeout_ms, client_retries, client_budget, client_breaker),
                (front, replicas, pooler, shards, cache_single_flight, cache_swr),
                (db_max_connections, db_failover, queue_visibility_ms, station_chain, regions),
                (faults, seed),
                (load, client_limit, client_jitter, calls_limit, burst),
                (read_through, front_flags),
            )| Spec {
                apps,
                classes,
                keys,
                rps,
                closed_users,
                client_timeout_ms,
                client_retries,
                client_budget,
                client_breaker,
                front,
                replicas,
                pooler,
                shards,
                cache_single_flight,
                cache_swr,
                db_max_connections,
                db_failover,
                queue_visibility_ms,
                station_chain,
                regions,
                faults,
                seed,
                load,
                client_limit,
                client_jitter,
                calls_limit,
                burst,
                read_through,
                front_flags,
            },
        )
}

/// The same random systems without what fails a request after it took
/// time somewhere (faults, timeouts, retries, breakers, connection limits,
/// bursts), for `littles`, whose per-node identities are exact on them;
/// and the run's seed.
pub(super) fn calm_spec() -> impl Strategy<Value = (Spec, u64)> {
    spec().prop_map(|mut s| {
        s.faults.clear();
        s.client_timeout_ms = None;
        s.client_retries = 0;
        s.client_breaker = false;
        s.db_max_connections = None;
        s.burst = None;
        for a in &mut s.apps {
            a.timeout_ms = None;
            a.retries = 0;
            a.breaker = false;
        }
        let seed = s.seed;
        (s, seed)
    })
}

const CLASSES: [&str; 3] = ["browse", "cart", "order"];

/// The topology a spec describes, as RON text: always valid.
pub(super) fn topology_text(s: &Spec) -> String {
    let n_apps = s.apps.len();
    let load = match s.load {
        1 => ", load: Linear(factor: 2.0)",
        2 => ", load: Polynomial(factor: 4.0, exponent: 3.0)",
        3 => ", load: Exponential(factor: 2.5)",
        _ => "",
    };
    let app_id = |i: usize| format!("a{i}");
    let mut nodes: Vec<String> = Vec::new();
    let classes = &CLASSES[..s.classes as usize];
    // Data tier.
    let max_conn = s
        .db_max_connections
        .map(|m| format!("max_connections: {m}, "))
        .unwrap_or_default();
    let failover = if s.db_failover && s.replicas > 0 {
        r#", failover: Failover(to: "rep0", after: "2s")"#
    } else {
        ""
    };
    nodes.push(format!(
        r#"Database(id: "db", servers: 4, {max_conn}read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms"){failover})"#
    ));
    nodes.push(format!(
        r#"Database(id: "db2", servers: 2, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms"){load})"#
    ));
    for r in 0..s.replicas {
        nodes.push(format!(
            r#"Replica(id: "rep{r}", primary: "db", lag: Exponential(mean: "50ms"), servers: 2, read: Exponential(mean: "2ms"){load})"#
        ));
    }
    let replicas_target = match s.replicas {
        0 => None,
        1 => Some("rep0"),
        _ => {
            nodes.push(
                r#"LoadBalancer(id: "reps", to: ["rep0", "rep1"], policy: LeastConnections)"#
                    .into(),
            );
            Some("reps")
        }
    };
    if s.pooler {
        nodes.push(r#"Pooler(id: "pgb", to: "db", connections: 3)"#.into());
    }
    if s.shards {
        nodes.push(
            r#"ShardRouter(id: "shards", shards: ["db", "db2"], scheme: ConsistentHash)"#.into(),
        );
    }
    let swr = if s.cache_swr {
        r#", stale_while_revalidate: "500ms""#
    } else {
        ""
    };
    nodes.push(format!(
        r#"Cache(id: "cache", capacity: 50, ttl: "1s", service: Exponential(mean: "200us"), single_flight: {}{swr}{load}{})"#,
        s.cache_single_flight,
        if s.load % 2 == 1 { ", warm: 30" } else { "" }
    ));
    nodes.push(format!(
        r#"Queue(id: "q", workers: 2, capacity: 100, service: Exponential(mean: "5ms"), visibility_timeout: "{}ms", max_deliveries: 3, backoff: "200ms"{load})"#,
        s.queue_visibility_ms
    ));
    nodes.push(format!(
        r#"Station(id: "leaf1", servers: 4, queue: 50, service: Exponential(mean: "3ms"){load})"#
    ));
    nodes.push(format!(
        r#"ObjectStore(id: "leaf2", concurrency: 4, rate: 300, prefixes: 2, service: Exponential(mean: "3ms"){load})"#
    ));
    nodes.push(r#"LoadBalancer(id: "leaves", to: ["leaf1", "leaf2"], policy: PowerOfTwo, health_check: HealthCheck(every: "500ms", unhealthy_after: 2))"#.into());
    let reads = ["db", "db2", "pgb", "shards", "reps"];
    let read_target = |k: u8| -> &str {
        let r = reads[k as usize % reads.len()];
        match r {
            "pgb" if !s.pooler => "db",
            "shards" if !s.shards => "db2",
            "reps" => replicas_target.unwrap_or("db"),
            _ => r,
        }
    };
    let write_target = if s.shards { "shards" } else { "db" };
    // A read-through cache: flags bit 0 single flight, bit 1
    // stale-while-revalidate, bit 2 warm.
    let read_through = |id: &str, backend: &str, flags: u8| {
        format!(
            r#"Cache(id: "{id}", capacity: 40, ttl: "800ms", ttl_jitter: 0.2, servers: 2, service: Exponential(mean: "300us"), backend: "{backend}", single_flight: {}{}{}{load})"#,
            flags & 1 != 0,
            if flags & 2 != 0 {
                r#", stale_while_revalidate: "400ms""#
            } else {
                ""
            },
            if flags & 4 != 0 { ", warm: 20" } else { "" },
        )
    };
    if let Some((b, flags)) = s.read_through {
        // A class that writes would write through to the replicas, which
        // is refused (writes go to the primary): then the primary.
        let writes = s
            .apps
            .iter()
            .flat_map(|a| a.handlers.iter().flatten())
            .any(|st| matches!(st, StepSpec::Write | StepSpec::WriteThrough));
        let backend = match b {
            0 => "db",
            1 if writes => "db",
            1 => replicas_target.unwrap_or("db"),
            2 if s.shards => "shards",
            3 if s.pooler => "pgb",
            4 => "leaves",
            _ => "db2",
        };
        nodes.push(read_through("rtc", backend, flags));
    }
    // Apps: app i calls only later apps (no loops).
    for (i, a) in s.apps.iter().enumerate() {
        let later = |k: u8| -> String {
            let rest = n_apps - i - 1;
            if rest == 0 || k == 0 {
                "leaves".into()
            } else {
                app_id(i + 1 + (k as usize - 1) % rest)
            }
        };
        let steps = |steps: &Vec<StepSpec>| -> String {
            steps
                .iter()
                .map(|st| match st {
                    StepSpec::Call(k) => format!(r#"Call(to: "{}")"#, later(*k)),
                    StepSpec::Read(k) => format!(r#"Read(db: "{}")"#, read_target(*k)),
                    StepSpec::Write => format!(r#"Write(db: "{write_target}")"#),
                    StepSpec::CacheAside(k) => {
                        format!(r#"CacheAside(cache: "cache", db: "{}")"#, read_target(*k))
                    }
                    StepSpec::ReadThrough => match s.read_through {
                        Some(_) => r#"Call(to: "rtc")"#.into(),
                        None => r#"Call(to: "leaves")"#.into(),
                    },
                    StepSpec::Invalidate => r#"Invalidate(cache: "cache")"#.into(),
                    StepSpec::WriteThrough => {
                        format!(r#"WriteThrough(cache: "cache", db: "{write_target}")"#)
                    }
                    StepSpec::ReadFresh => match replicas_target {
                        Some(r) => {
                            format!(r#"ReadFresh(replicas: "{r}", primary: "db", within: "200ms")"#)
                        }
                        None => r#"Read(db: "db")"#.into(),
                    },
                    StepSpec::Publish => r#"Publish(queue: "q")"#.into(),
                    StepSpec::FanOut(k, c, h) => format!(
                        r#"FanOut(to: "{}", count: {c}{})"#,
                        later(*k),
                        if *h { r#", hedge_after: "5ms""# } else { "" }
                    ),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let handle = if a.star {
            format!(r#"{{"*": [{}]}}"#, steps(&a.handlers[0]))
        } else {
            let per: Vec<String> = classes
                .iter()
                .enumerate()
                .map(|(c, name)| format!(r#""{name}": [{}]"#, steps(&a.handlers[c])))
                .collect();
            format!("{{{}}}", per.join(", "))
        };
        let mut extra = String::new();
        if let Some(q) = a.queue {
            extra += &format!("queue: {q}, ");
        }
        if let Some(p) = a.pool {
            // Pool connections to the database (or its pooler).
            let to = if s.pooler { "pgb" } else { "db" };
            extra += &format!(r#"pool: Pool(to: "{to}", size: {p}), "#);
        }
        if a.autoscale {
            extra += r#"instances: 2, autoscale: Autoscale(target: 0.5, min: 1, max: 4, every: "1s", provision: "2s", cooldown: "3s"), "#;
        }
        match a.load_factor {
            // The older spelling, or a curve.
            Some(f) if s.load == 0 => extra += &format!("load_factor: {f}, "),
            Some(f) => extra += &format!("load: Exponential(factor: {f}), "),
            None => {}
        }
        if a.timeout_ms.is_some() || a.retries > 0 || a.breaker {
            let mut c = Vec::new();
            if let Some(t) = a.timeout_ms {
                c.push(format!(r#"timeout: "{t}ms""#));
            }
            if a.retries > 0 {
                let budget = match s.calls_limit {
                    1 => ", limit: TokenBucket(capacity: 5.0, cost: 1.0, per_success: 0.5)".into(),
                    2 => ", limit: Finagle(percent: 0.1, min_per_second: 2.0, ttl: \"2s\")".into(),
                    _ => a
                        .budget
                        .map(|b| format!(", budget: {b}"))
                        .unwrap_or_default(),
                };
                c.push(format!(
                    r#"retries: Retries(max: {}, backoff: "10ms", jitter: Full{budget})"#,
                    a.retries
                ));
            }
            if a.breaker {
                c.push(r#"breaker: Breaker(failure_ratio: 0.5, window: "1s", min_requests: 5, open_for: "500ms")"#.into());
            }
            extra += &format!("calls: CallPolicy({}), ", c.join(", "));
        }
        nodes.push(format!(
            r#"App(id: "{}", workers: {}, {extra}service: Exponential(mean: "{}us"), handle: {handle})"#,
            app_id(i),
            a.workers,
            a.service_us.max(1),
        ));
    }
    // The front: straight to the first app, a balancer, a rate limiter, or a CDN.
    let entry = if n_apps >= 2 && s.front >= 1 {
        nodes.push(r#"LoadBalancer(id: "lb", to: ["a0", "a1"], policy: RoundRobin, health_check: HealthCheck(every: "1s", unhealthy_after: 1))"#.into());
        "lb"
    } else {
        "a0"
    };
    let front = match s.front {
        2 => {
            nodes.push(format!(
                r#"RateLimiter(id: "lim", to: "{entry}", limit: 200, per: "1s", by: Ip)"#
            ));
            "lim"
        }
        3 => {
            nodes.push(format!(
                r#"Cdn(id: "cdn", origin: "{entry}", capacity: 20, ttl: "2s", service: Constant("1ms"), servers: 1000)"#
            ));
            "cdn"
        }
        4 => {
            nodes.push(read_through("rtf", entry, s.front_flags));
            "rtf"
        }
        _ => entry,
    };
    if s.station_chain {
        nodes.push(format!(r#"Station(id: "st", servers: 2, queue: 20, service: Exponential(mean: "4ms"), routes: [Route(to: "st2", p: 0.5), Route(to: "st", p: 0.1)]{load})"#));
        nodes.push(format!(
            r#"Station(id: "st2", servers: 1, service: Exponential(mean: "3ms"){load})"#
        ));
    }
    // Sources.
    let mix = if s.classes > 1 {
        let share = 1.0 / s.classes as f64;
        let parts: Vec<String> = classes
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let p = if k + 1 == classes.len() {
                    1.0 - share * (classes.len() - 1) as f64
                } else {
                    share
                };
                format!(r#""{c}": {p}"#)
            })
            .collect();
        format!("mix: {{{}}}, ", parts.join(", "))
    } else {
        format!(r#"mix: {{"{}": 1.0}}, "#, classes[0])
    };
    let keys = match s.keys {
        0 => "",
        1 => "keys: Uniform(keys: 200), ",
        _ => "keys: Zipf(keys: 500, s: 1.0), ",
    };
    let mut client = Vec::new();
    if let Some(t) = s.client_timeout_ms {
        client.push(format!(r#"timeout: "{t}ms""#));
    }
    if s.client_retries > 0 {
        let budget = match s.client_limit {
            0 | 1 if s.client_budget => ", budget: 0.2",
            2 => ", limit: TokenBucket(capacity: 20.0, cost: 2.0, timeout_cost: 4.0)",
            3 => ", limit: Finagle(percent: 0.2)",
            _ => "",
        };
        let jitter = ["None", "Full", "Equal", "Decorrelated"][s.client_jitter as usize % 4];
        client.push(format!(
            r#"retries: Retries(max: {}, backoff: "20ms", cap: "300ms", jitter: {jitter}{budget})"#,
            s.client_retries
        ));
    }
    if s.client_breaker {
        client.push(r#"breaker: Breaker(failure_ratio: 0.5, window: "1s", min_requests: 10, open_for: "1s")"#.into());
    }
    let client = if client.is_empty() {
        String::new()
    } else {
        format!("client: Client({}), ", client.join(", "))
    };
    let arrivals = match s.closed_users {
        Some(u) => format!(r#"Closed(users: {u}, think: Exponential(mean: "100ms"))"#),
        None => format!("Poisson(rps: {})", s.rps),
    };
    let mut sources = vec![format!(
        r#"Source(id: "u", to: "{front}", {mix}{keys}{client}ips: 50, arrivals: {arrivals})"#
    )];
    if let Some((count, at)) = s.burst {
        sources.push(format!(
            r#"Source(id: "w", to: "{front}", {mix}{keys}{client}arrivals: Burst(count: {count}, at: "{at}ms"))"#
        ));
    }
    if s.station_chain {
        sources.push(format!(
            r#"Source(id: "v", to: "st", {mix}arrivals: Poisson(rps: {}))"#,
            s.rps / 4 + 1
        ));
    }
    // Regions: the data tier in one, the rest in the other.
    let regions = match s.regions {
        None => String::new(),
        Some(ms) => {
            let ids: Vec<String> = nodes
                .iter()
                .map(|n| n.split('"').nth(1).unwrap().to_string())
                .collect();
            let (data, rest): (Vec<&String>, Vec<&String>) = ids.iter().partition(|id| {
                ["db", "db2", "rep0", "rep1", "reps", "pgb", "shards"].contains(&id.as_str())
            });
            let list = |v: &[&String]| {
                v.iter()
                    .map(|x| format!("\"{x}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!(
                r#", regions: [Region(id: "r1", nodes: [{}], sources: ["u"]), Region(id: "r2", nodes: [{}])], links: [Link(a: "r1", b: "r2", latency: "{ms}ms")]"#,
                list(&rest),
                list(&data)
            )
        }
    };
    format!(
        r#"Topology(name: "random", sources: [{}], nodes: [{}]{regions})"#,
        sources.join(", "),
        nodes.join(", ")
    )
}

/// The change of fault `what` at the node `which` picks, or `None`.
fn fault(what: u8, node: &str, value: u8, nodes: &[String], regions: bool) -> Change {
    let id = node.to_string();
    match what {
        0 => Change::Down(id),
        1 => Change::Up(id),
        2 => Change::Slow {
            node: id,
            factor: 1.0 + value as f64,
        },
        3 => Change::Slow {
            node: id,
            factor: 1.0,
        },
        4 => Change::Errors {
            node: id,
            rate: value as f64 / 8.0,
        },
        5 => Change::Servers {
            node: id,
            servers: value as u32 + 1,
        },
        6 => Change::Instances {
            node: id,
            count: value as u32 % 3 + 1,
        },
        7 => Change::Flush(id),
        8 => Change::Partition {
            a: id,
            b: nodes[value as usize % nodes.len()].clone(),
        },
        9 if regions => {
            Change::DownRegion(if value.is_multiple_of(2) { "r1" } else { "r2" }.into())
        }
        9 => Change::Shards {
            node: id,
            count: value as u32 % 2 + 1,
        },
        10 => Change::Traffic(0.5 + value as f64 / 2.0),
        _ => Change::Drain(id),
    }
}

/// The requests the engine holds at each node, and the users' requests
/// still open (counted from the slab, not from the counters).
fn held(sim: &Simulation, n: usize) -> (Vec<u64>, u64) {
    let mut at = vec![0u64; n];
    let mut users = 0;
    for r in sim.requests() {
        if (r.node as usize) < n {
            at[r.node as usize] += 1;
        }
        if r.parent == bottleneck::sim::ROOT && r.flags & bottleneck::sim::ABANDONED == 0 {
            users += 1;
        }
    }
    (at, users)
}

/// Runs one spec and checks every invariant; returns the report's JSON.
fn check(spec: &Spec) -> Result<String, TestCaseError> {
    let text = topology_text(spec);
    let loaded = topology::load_str("random.ron", &text).map_err(|d| {
        TestCaseError::fail(format!(
            "the generator made an invalid topology:\n{d}\n{text}"
        ))
    })?;
    let m = &loaded.model;
    let ids: Vec<String> = m.nodes.iter().map(|n| n.id.clone()).collect();
    let n = ids.len();
    let mut sim = Simulation::new(
        m,
        RunConfig {
            seed: spec.seed,
            max_in_flight: 300_000,
            max_events: 60_000_000,
            ..RunConfig::default()
        },
    );
    // Faults at their times; the windows' books checked at every boundary.
    let stop = 8 * SEC;
    let mut faults: Vec<(u64, Change)> = spec
        .faults
        .iter()
        .map(|&(at, what, which, value)| {
            let node = &ids[which as usize % n];
            (
                at as u64 * MS,
                fault(what, node, value, &ids, spec.regions.is_some()),
            )
        })
        .collect();
    faults.sort_by_key(|f| f.0);
    let mut faults = faults.into_iter().peekable();
    let mut before = held(&sim, n);
    let mut boundary = SEC;
    let restore = |sim: &mut Simulation| {
        sim.apply(Change::Traffic(0.0)).unwrap();
        for id in &ids {
            sim.apply(Change::Up(id.clone())).unwrap();
            let _ = sim.apply(Change::Slow {
                node: id.clone(),
                factor: 1.0,
            });
            sim.apply(Change::Errors {
                node: id.clone(),
                rate: 0.0,
            })
            .unwrap();
            for other in &ids {
                sim.apply(Change::Heal {
                    a: id.clone(),
                    b: other.clone(),
                })
                .unwrap();
            }
        }
    };
    let mut stopped = false;
    // Windows checked one by one to 30 s after the stop; then the drain.
    while boundary <= stop + 30 * SEC {
        while let Some((at, change)) = faults.next_if(|f| f.0 < boundary - 1 && f.0 < stop) {
            if let Err(e) = sim.step_until(at) {
                return Ok(format!("stopped: {e}")); // a budget stopped a runaway case
            }
            // Refused changes (a flush of a database) are values, not panics.
            let _ = sim.apply(change);
        }
        if !stopped && boundary > stop {
            if sim.step_until(stop).is_err() {
                return Ok(String::new());
            }
            restore(&mut sim);
            stopped = true;
        }
        if sim.step_until(boundary - 1).is_err() {
            return Ok(String::new());
        }
        let now = held(&sim, n);
        // Books against what is held: at every node, and end to end.
        let r = sim.report();
        for (i, (id, node)) in r.nodes.0.iter().enumerate() {
            let open = node.arrivals - node.completed - node.dropped - node.errors;
            prop_assert_eq!(
                open,
                now.0[i],
                "node {} at {}s: counted open vs held",
                id,
                boundary / SEC
            );
            prop_assert_eq!(node.in_flight, now.0[i]);
            prop_assert!(
                (0.0..=1.0 + 1e-9).contains(&node.utilization),
                "{} utilization {}",
                id,
                node.utilization
            );
            prop_assert!(
                node.waiting_on_calls + node.waiting_on_pool <= node.utilization + 1e-9,
                "{}: waiting exceeds busy",
                id
            );
        }
        let e = &r.end_to_end;
        prop_assert_eq!(
            e.arrivals - e.completed - e.dropped,
            now.1,
            "users at {}s",
            boundary / SEC
        );
        sim.step_until(boundary)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The window that just closed accounts for the change in what is held.
        for (i, id) in ids.iter().enumerate() {
            let w = *sim.series(i).last().unwrap();
            prop_assert_eq!(
                w.arrivals as i64 - w.completed as i64 - w.dropped as i64,
                now.0[i] as i64 - before.0[i] as i64,
                "window ending {}s at {}",
                boundary / SEC,
                id
            );
            prop_assert!((0.0..=1.0 + 1e-9).contains(&w.utilization));
        }
        before = now;
        if stopped && sim.in_flight() == 0 {
            break;
        }
        boundary += SEC;
    }
    // An overloaded system can take long to drain (each abandoned attempt
    // is still served): up to 2 simulated hours, as long as it progresses.
    let mut last = u64::MAX;
    while sim.in_flight() > 0 && sim.now() < stop + 7_200 * SEC {
        let t = sim.now() + 60 * SEC;
        if sim.step_until(t).is_err() {
            return Ok("stopped while draining".into());
        }
        let left = sim.in_flight() as u64;
        if left == last {
            break; // no progress in a minute: something is held for good
        }
        last = left;
    }
    if sim.in_flight() > 0 && last != sim.in_flight() as u64 {
        return Ok("still draining".into());
    }
    // Drained: nothing held.
    let audit = sim.audit();
    prop_assert_eq!(
        audit,
        bottleneck::sim::Audit::default(),
        "held after the drain (t = {}s)\n{}",
        sim.now() / SEC,
        text
    );
    let r = sim.report();
    let fetched = |id: &str| {
        r.nodes
            .get(id)
            .and_then(|n| n.cache.as_ref()?.read_through.as_ref())
            .is_some_and(|t| t.fetches > 0)
    };
    for (k, reached) in [
        fetched("rtc"),
        fetched("rtf"),
        ["reps", "rep0", "shards", "pgb"]
            .iter()
            .any(|t| text.contains(&format!(r#"CacheAside(cache: "cache", db: "{t}")"#))),
    ]
    .into_iter()
    .enumerate()
    {
        if reached {
            REACHED[k].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    if std::env::var_os("BOTTLENECK_INVARIANT_VERBOSE").is_some() {
        eprintln!(
            "{} nodes, {} events, {} requests, {} completed, {} failed, drained at {}s",
            n,
            sim.events(),
            r.end_to_end.arrivals,
            r.end_to_end.completed,
            r.end_to_end.dropped,
            sim.now() / SEC
        );
    }
    Ok(sim.report().to_json())
}

/// Cases that reached, per run: a read-through cache on the apps' calls
/// that fetched, one in front that fetched, a cache-aside step reading
/// something other than the primary.
static REACHED: [std::sync::atomic::AtomicU64; 3] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 3];

fn config() -> Config {
    let cases = std::env::var("BOTTLENECK_INVARIANT_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48);
    let rng_seed = match std::env::var("BOTTLENECK_INVARIANT_SEED").ok().as_deref() {
        Some("random") => RngSeed::Random,
        Some(s) => RngSeed::Fixed(s.parse().unwrap_or(0x1a7a)),
        None => RngSeed::Fixed(0x1a7a),
    };
    Config {
        cases,
        rng_seed,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/invariants.proptest-regressions"
        )))),
        ..Config::default()
    }
}

#[test]
fn random_systems_keep_their_books_leak_nothing_and_repeat_exactly() {
    let mut runner = TestRunner::new(config());
    let result = runner.run(&spec(), |s| {
        let a = check(&s)?;
        // The same seed, the same bytes.
        let b = check(&s)?;
        prop_assert!(a == b, "two runs of the same seed differ");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator reaches what it was extended for.
    let reached = REACHED
        .each_ref()
        .map(|r| r.load(std::sync::atomic::Ordering::Relaxed));
    assert!(reached.iter().all(|&n| n > 0), "{reached:?}");
}
