//! The architecture components' own mechanics.

use crate::common::model;
use bottleneck::report::Report;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};

fn sim(text: &str, seed: u64) -> Simulation {
    Simulation::new(
        &model(text),
        RunConfig {
            seed,
            ..RunConfig::default()
        },
    )
}

/// The books balance at every node and end to end.
fn check_books(r: &Report) {
    let e = &r.end_to_end;
    assert_eq!(
        e.arrivals,
        e.completed + e.dropped + e.in_flight,
        "end to end"
    );
    for (id, n) in &r.nodes.0 {
        assert_eq!(
            n.arrivals,
            n.completed + n.dropped + n.errors + n.in_flight,
            "node {id}"
        );
    }
}

fn backends(policy: &str, health: &str) -> String {
    backends_with(policy, health, "2500us")
}

fn backends_with(policy: &str, health: &str, mean: &str) -> String {
    format!(
        r#"Topology(name: "lb", sources: [Source(id: "u", to: "lb", arrivals: Poisson(rps: 600))],
        nodes: [
            LoadBalancer(id: "lb", policy: {policy}, to: ["a", "b", "c"] {health}),
            Station(id: "a", servers: 1, service: Exponential(mean: "{mean}")),
            Station(id: "b", servers: 1, service: Exponential(mean: "{mean}")),
            Station(id: "c", servers: 1, service: Exponential(mean: "{mean}")),
        ])"#
    )
}

#[test]
fn round_robin_is_even() {
    let mut s = sim(&backends("RoundRobin", ""), 1);
    s.step_until(30 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let sent = &r.nodes["lb"].load_balancer.as_ref().unwrap().sent;
    let (lo, hi) = (sent.iter().min().unwrap(), sent.iter().max().unwrap());
    assert!(hi - lo <= 1, "{sent:?}");
    assert_eq!(r.nodes["lb"].completed, sent.iter().sum::<u64>());
}

#[test]
fn a_dead_backend_gets_traffic_until_health_checks_catch_it() {
    // Checks every 2 s, out after 2 failures: `b` dies at 10 s, fails the
    // probes at 12 s and 14 s, and gets nothing from 14 s on.
    let with = backends(
        "RoundRobin",
        r#", health_check: HealthCheck(every: "2s", unhealthy_after: 2)"#,
    );
    let mut s = sim(&with, 2);
    s.step_until(10 * SEC).unwrap();
    s.apply(Change::Down("b".into())).unwrap();
    s.step_until(30 * SEC).unwrap();
    let b = s.model().node_index("b").unwrap();
    let per_second: Vec<u64> = s.series(b).records().map(|w| w.arrivals).collect();
    assert!(
        per_second[10..14].iter().all(|&n| n > 100),
        "{per_second:?}"
    );
    assert!(per_second[14..].iter().all(|&n| n == 0), "{per_second:?}");
    let r = s.report();
    check_books(&r);
    assert_eq!(
        r.nodes["lb"].load_balancer.as_ref().unwrap().healthy,
        vec![true, false, true]
    );
    // About a third of 4 s x 600 rps failed; nothing after.
    let failed = r.end_to_end.dropped as f64;
    assert!((failed - 800.0).abs() < 120.0, "{failed}");
    s.apply(Change::Up("b".into())).unwrap();
    s.step_until(34 * SEC).unwrap();
    assert!(
        s.report().nodes["lb"]
            .load_balancer
            .as_ref()
            .unwrap()
            .healthy[1]
    );

    // Without health checks the dead backend keeps its share for good.
    let mut s = sim(&backends("RoundRobin", ""), 2);
    s.step_until(10 * SEC).unwrap();
    s.apply(Change::Down("b".into())).unwrap();
    s.step_until(30 * SEC).unwrap();
    let per_second: Vec<u64> = s.series(b).records().map(|w| w.arrivals).collect();
    assert!(per_second[10..].iter().all(|&n| n > 150), "{per_second:?}");
}

#[test]
fn least_connections_sinkholes_into_a_fast_failing_backend() {
    // Each backend is 80% busy at an even share. `c` is dead and fails at
    // once, so it always has the fewest connections: it draws most requests.
    let share_c = |policy: &str| {
        let mut s = sim(&backends_with(policy, "", "4ms"), 3);
        s.apply(Change::Down("c".into())).unwrap();
        s.step_until(60 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let sent = &r.nodes["lb"].load_balancer.as_ref().unwrap().sent;
        (
            sent[2] as f64 / sent.iter().sum::<u64>() as f64,
            r.end_to_end.blocking,
        )
    };
    let (rr, rr_fail) = share_c("RoundRobin");
    let (lc, lc_fail) = share_c("LeastConnections");
    assert!((rr - 1.0 / 3.0).abs() < 0.01, "round robin share {rr}");
    // Half again its fair share, and as many more failed requests.
    assert!(lc > 1.4 / 3.0, "least connections share {lc}");
    assert!(
        lc_fail > 1.4 / 3.0 && rr_fail < 0.35,
        "failures: lc {lc_fail}, rr {rr_fail}"
    );
    // Power of two choices sinkholes too, less.
    let (p2, _) = share_c("PowerOfTwo");
    assert!(p2 > rr && p2 < lc, "power of two {p2}");
}

fn cache_aside(capacity: u64, write_share: f64, single_flight: bool) -> String {
    format!(
        r#"Topology(name: "ca", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 500),
            mix: {{"read": {}, "write": {write_share}}}, keys: Zipf(keys: 5000, s: 0.8))],
        nodes: [
            App(id: "app", workers: 1000, service: Constant("100us"),
                handle: {{"read": [CacheAside(cache: "redis", db: "db")], "write": [Write(db: "db"), Invalidate(cache: "redis")]}}),
            Cache(id: "redis", capacity: {capacity}, service: Constant("50us"), servers: 4, single_flight: {single_flight}),
            Database(id: "db", servers: 64, read: Constant("1ms"), write: Constant("2ms")),
        ])"#,
        1.0 - write_share
    )
}

#[test]
fn cache_aside_hit_ratio_matches_ches_approximation() {
    // Read-only, no TTL: the cache is an LRU under the independent reference
    // model, so Che's approximation applies (see cache_store's unit test).
    let law = bottleneck::keys::Keys::Zipf { keys: 5000, s: 0.8 };
    let p = law.probabilities();
    let c = 500.0;
    let occupancy = |t: f64| p.iter().map(|&pi| 1.0 - (-pi * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1e9);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if occupancy(mid) < c {
            lo = mid
        } else {
            hi = mid
        }
    }
    let che: f64 = p.iter().map(|&pi| pi * (1.0 - (-pi * lo).exp())).sum();
    let m = model(&cache_aside(500, 0.0, false));
    let mut s = Simulation::new(
        &m,
        RunConfig {
            seed: 4,
            warmup: Duration(100 * SEC),
            ..RunConfig::default()
        },
    );
    s.step_until(1100 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let cache = r.nodes["redis"].cache.as_ref().unwrap();
    let hit = cache.hit_ratio.unwrap();
    // 500k reads: binomial se 0.0007. A key requested again while its fill is
    // in flight (1.2 ms) misses twice, a small extra; allow 0.01.
    assert!(
        (hit - che).abs() < 0.01,
        "hit ratio {hit:.4} vs Che {che:.4}"
    );
    // Every miss read the database, every hit did not.
    assert_eq!(r.nodes["db"].arrivals, cache.misses);
}

#[test]
fn writes_invalidate_and_lower_the_hit_ratio() {
    let run = |w: f64| {
        let mut s = sim(&cache_aside(500, w, false), 5);
        s.step_until(300 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let (read_only, mixed) = (run(0.0), run(0.2));
    let h0 = read_only.nodes["redis"]
        .cache
        .as_ref()
        .unwrap()
        .hit_ratio
        .unwrap();
    let h1 = mixed.nodes["redis"]
        .cache
        .as_ref()
        .unwrap()
        .hit_ratio
        .unwrap();
    assert!(h1 < h0 - 0.02, "{h0} -> {h1}");
    // Each write is one database write and one cache delete; each read one get.
    let app = &mixed.nodes["app"];
    let db = &mixed.nodes["db"];
    let cache = mixed.nodes["redis"].cache.as_ref().unwrap();
    assert!(
        db.arrivals > cache.misses,
        "{} vs {}",
        db.arrivals,
        cache.misses
    );
    assert!(mixed.nodes["redis"].arrivals >= app.arrivals);
}

#[test]
fn a_stampede_on_a_hot_key_and_single_flight() {
    let text = include_str!("../../topologies/stampede.ron");
    let run = |t: &str| {
        let mut s = sim(t, 6);
        s.step_until(60 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let before = run(text);
    let after = run(&text.replace("single_flight: false", "single_flight: true"));
    let (db0, db1) = (&before.nodes["db"], &after.nodes["db"]);
    // Without coalescing every expiry of the hot key sends a burst of reads.
    assert!(
        db0.arrivals > 4 * db1.arrivals,
        "db reads {} vs {}",
        db0.arrivals,
        db1.arrivals
    );
    assert!(db0.database.as_ref().unwrap().refused > 1000);
    assert_eq!(db1.database.as_ref().unwrap().refused, 0);
    assert!(after.nodes["redis"].cache.as_ref().unwrap().coalesced > 1000);
    assert_eq!(before.nodes["redis"].cache.as_ref().unwrap().coalesced, 0);
    assert!(before.end_to_end.dropped > 1000 && after.end_to_end.dropped == 0);
}

#[test]
fn flushing_the_cache_sends_every_read_to_the_database() {
    let mut s = sim(&cache_aside(2000, 0.0, false), 7);
    s.step_until(60 * SEC).unwrap();
    s.apply(Change::Flush("redis".into())).unwrap();
    s.step_until(70 * SEC).unwrap();
    let db = s.model().node_index("db").unwrap();
    let per_second: Vec<u64> = s.series(db).records().map(|w| w.arrivals).collect();
    let before = per_second[50..60].iter().sum::<u64>() as f64 / 10.0;
    let right_after = per_second[60] as f64;
    assert!(
        right_after > 2.0 * before,
        "{before} -> {right_after}: {per_second:?}"
    );
    assert!(s.apply(Change::Flush("db".into())).is_err());
}

const SLOW_DB: &str = r#"Topology(name: "retries", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 100),
        client: Client(timeout: "50ms", retries: Retries(max: 3, backoff: "10ms", jitter: None)))],
    nodes: [
        App(id: "app", workers: 10000, service: Constant("1ms"), handle: {"*": [Read(db: "db")]}),
        Database(id: "db", servers: 10000, read: Constant("100ms"), write: Constant("100ms")),
    ])"#;

#[test]
fn retries_multiply_load_and_timeouts_abandon_work() {
    // Every attempt takes 101 ms against a 50 ms timeout: each user request
    // makes 4 attempts and fails; the servers do all 4 anyway.
    let mut s = sim(SLOW_DB, 8);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let e = &r.end_to_end;
    assert_eq!(e.completed, 0);
    assert!((e.amplification - 4.0).abs() < 0.01, "{}", e.amplification);
    // Only the attempts of the last 50 ms (about 20) have not timed out yet.
    assert!(
        e.attempts - e.timed_out < 40,
        "{} attempts, {} timed out",
        e.attempts,
        e.timed_out
    );
    assert!(
        r.nodes["db"].completed as f64 > 3.9 * e.arrivals as f64 * 0.95,
        "the database did the abandoned work"
    );
    // With a timeout the work fits in, nothing is retried.
    let mut s = sim(&SLOW_DB.replace("\"50ms\"", "\"500ms\""), 8);
    s.step_until(60 * SEC).unwrap();
    let e = s.report().end_to_end;
    assert_eq!((e.retries, e.timed_out), (0, 0));
    assert_eq!(e.amplification, 1.0);
}

#[test]
fn injected_errors_are_retried() {
    // Half the database's answers fail. With 2 retries a request fails only
    // if all 3 attempts do: 1/8; it makes 1 + 1/2 + 1/4 attempts on average.
    let t = SLOW_DB
        .replace("\"50ms\"", "\"1s\"")
        .replace("read: Constant(\"100ms\")", "read: Constant(\"1ms\")")
        .replace("max: 3", "max: 2")
        .replace("rps: 100", "rps: 1000");
    let mut s = sim(&t, 9);
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 0.5,
    })
    .unwrap();
    s.step_until(100 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let e = &r.end_to_end;
    // 100k requests: se of the failure share is 0.001, of attempts 0.003.
    assert!((e.blocking - 0.125).abs() < 0.005, "{}", e.blocking);
    assert!(
        (e.amplification - 1.75).abs() < 0.015,
        "{}",
        e.amplification
    );
    assert!(r.nodes["db"].errors > 0 && r.nodes["app"].errors > 0);
    assert!(
        s.apply(Change::Errors {
            node: "db".into(),
            rate: 1.5
        })
        .is_err()
    );
}

#[test]
fn the_connection_limit_refuses_and_the_failure_reaches_the_user() {
    let t = r#"Topology(name: "conns", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 400))],
        nodes: [
            App(id: "app", workers: 1000, service: Constant("1ms"), handle: {"*": [Write(db: "db")]}),
            Database(id: "db", servers: 2, max_connections: 10, read: Constant("5ms"), write: Exponential(mean: "5ms")),
        ])"#;
    let mut s = sim(t, 10);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let db = &r.nodes["db"];
    let refused = db.database.as_ref().unwrap().refused;
    assert!(refused > 100, "{refused}");
    assert_eq!(refused, db.dropped);
    assert_eq!(r.nodes["app"].errors, refused);
    assert_eq!(r.end_to_end.dropped, refused);
    assert!(db.database.as_ref().unwrap().mean_connections <= 10.0);
}

#[test]
fn component_topologies_are_deterministic_and_replay() {
    let text = include_str!("../../topologies/cache-aside.ron");
    let run = || {
        let mut s = sim(text, 11);
        s.step_until(10 * SEC).unwrap();
        s.apply(Change::Down("app-2".into())).unwrap();
        s.step_until(20 * SEC).unwrap();
        s.apply(Change::Up("app-2".into())).unwrap();
        s.apply(Change::Flush("redis".into())).unwrap();
        s.step_until(30 * SEC).unwrap();
        s
    };
    let (a, b) = (run(), run());
    let (ja, jb) = (a.report().to_json(), b.report().to_json());
    assert_eq!(ja, jb);
    check_books(&a.report());
    let again = Simulation::replay(
        &model(text),
        RunConfig {
            seed: 11,
            ..RunConfig::default()
        },
        a.changes(),
        30 * SEC,
    )
    .unwrap();
    assert_eq!(again.report().to_json(), ja);
}

#[test]
fn a_cdn_serves_hits_at_the_edge_and_fails_over_to_the_origin() {
    let text = include_str!("../../topologies/cdn.ron");
    let mut s = sim(text, 12);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let cdn = &r.nodes["cdn"];
    let c = cdn.cache.as_ref().unwrap();
    // Only misses and uncacheable requests reach the origin.
    let api = r.nodes["app-1"].arrivals + r.nodes["app-2"].arrivals - c.misses;
    assert_eq!(r.nodes["lb"].arrivals, c.misses + api);
    assert!(c.hit_ratio.unwrap() > 0.8, "{:?}", c.hit_ratio);
    assert!((api as f64 / cdn.arrivals as f64 - 0.3).abs() < 0.01);
    // Down: everything goes to the origin and is still answered.
    let before = s.report().nodes["lb"].arrivals;
    s.apply(Change::Down("cdn".into())).unwrap();
    s.step_until(62 * SEC).unwrap();
    let r = s.report();
    let to_origin = r.nodes["lb"].arrivals - before;
    assert!((to_origin as f64 - 10_000.0).abs() < 500.0, "{to_origin}");
    check_books(&r);
}

#[test]
fn the_tail_at_scale_and_hedged_requests() {
    let text = include_str!("../../topologies/tail-at-scale.ron");
    let run = |t: &str| {
        let mut s = sim(t, 13);
        s.step_until(300 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let plain = run(text);
    let e = &plain.end_to_end;
    // A search is slow when any of its 100 leaves is: 1 - 0.99^100 = 63.4%,
    // so the median search is a slow one. Mean: 0.634 x ~1.001 s plus
    // 0.366 x the max of 100 fast leaves (10 ms x H(100) = 52 ms) + 1 ms.
    let p_slow = 1.0 - 0.99f64.powi(100);
    let expect = p_slow * 1.001 + (1.0 - p_slow) * 0.053;
    assert!(e.p50_ms.unwrap() >= 1000.0, "{:?}", e.p50_ms);
    assert!(
        (e.mean_ms.unwrap() / 1e3 - expect).abs() < 0.03,
        "{:?} vs {expect}",
        e.mean_ms
    );
    assert_eq!(
        plain.nodes["leaves"].arrivals,
        100 * plain.nodes["frontend"].arrivals
    );

    let hedged = run(&text.replace("count: 100)", "count: 100, hedge_after: \"40ms\")"));
    let h = &hedged.end_to_end;
    assert!(
        h.p50_ms.unwrap() < 100.0 && h.mean_ms.unwrap() < 100.0,
        "{:?} {:?}",
        h.p50_ms,
        h.mean_ms
    );
    // The price: the copies. About 2.8 legs in 100 are still out at 40 ms.
    let extra = hedged.nodes["leaves"].arrivals as f64
        / (100.0 * hedged.nodes["frontend"].arrivals as f64)
        - 1.0;
    assert!(extra > 0.015 && extra < 0.045, "{extra}");
}

fn replicated(writer_keys: &str, reader_keys: &str, read_step: &str) -> String {
    format!(
        r#"Topology(name: "lag", sources: [
            Source(id: "writers", to: "app", arrivals: Poisson(rps: 100), mix: {{"write": 1.0}}, keys: {writer_keys}),
            Source(id: "readers", to: "app", arrivals: Poisson(rps: 400), mix: {{"read": 1.0}}, keys: {reader_keys}),
        ],
        nodes: [
            App(id: "app", workers: 1000, service: Constant("100us"),
                handle: {{"read": [{read_step}], "write": [Write(db: "db")]}}),
            Replica(id: "replica", primary: "db", lag: Constant("100ms"), servers: 100, read: Constant("1ms")),
            Database(id: "db", servers: 100, read: Constant("1ms"), write: Constant("1ms")),
        ])"#
    )
}

#[test]
fn stale_reads_appear_only_when_reads_follow_writes_within_the_lag() {
    let run = |t: &str| {
        let mut s = sim(t, 14);
        s.step_until(200 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    // Each of 10 keys is written 10 times a second (Poisson); a read is stale
    // when its key was written in the last 100 ms: 1 - exp(-10 x 0.1).
    let same = run(&replicated(
        "Uniform(keys: 10)",
        "Uniform(keys: 10)",
        "Read(db: \"replica\")",
    ));
    let rep = same.nodes["replica"].replica.as_ref().unwrap();
    let expect = 1.0 - (-1.0f64).exp();
    // 80k reads; reads of one key within 100 ms are correlated, so allow 2%.
    assert!(
        (rep.stale_ratio.unwrap() - expect).abs() < 0.02,
        "{:?} vs {expect}",
        rep.stale_ratio
    );
    assert!((rep.mean_lag_ms.unwrap() - 100.0).abs() < 1e-9);
    // Writes to key 1 only, reads of every key but 1: never stale.
    let apart = run(&replicated(
        "Celebrity(keys: 1000, share: 1.0)",
        "Celebrity(keys: 1000, share: 0.0)",
        "Read(db: \"replica\")",
    ));
    assert_eq!(
        apart.nodes["replica"].replica.as_ref().unwrap().stale_reads,
        0
    );
    assert!(apart.nodes["replica"].replica.as_ref().unwrap().reads > 70_000);
    // Read-your-writes: reads of keys written in the last 200 ms go to the
    // primary, so nothing stale is read, and the primary takes those reads.
    let ryw = run(&replicated(
        "Uniform(keys: 10)",
        "Uniform(keys: 10)",
        "ReadFresh(replicas: \"replica\", primary: \"db\", within: \"200ms\")",
    ));
    let rep = ryw.nodes["replica"].replica.as_ref().unwrap();
    assert_eq!(rep.stale_reads, 0);
    let to_primary = ryw.nodes["db"].arrivals - ryw.nodes["app"].arrivals / 5;
    let share = to_primary as f64 / (to_primary + rep.reads) as f64;
    let expect_fresh = 1.0 - (-2.0f64).exp();
    assert!(
        (share - expect_fresh).abs() < 0.03,
        "{share} vs {expect_fresh}"
    );
}

#[test]
fn a_retry_budget_caps_amplification() {
    // Every attempt times out; 3 retries would make 4 attempts each, but a
    // budget of 10% of first attempts allows about 0.1 retries per request.
    let t = SLOW_DB.replace("jitter: None)", "jitter: None, budget: 0.1)");
    let mut s = sim(&t, 15);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let a = r.end_to_end.amplification;
    assert!((a - 1.1).abs() < 0.02, "amplification {a}");
}

#[test]
fn a_circuit_breaker_fails_fast_during_an_outage_and_recovers() {
    let t = r#"Topology(name: "breaker", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 500),
            client: Client(timeout: "1s", retries: Retries(max: 2, backoff: "10ms"),
                           breaker: Breaker(failure_ratio: 0.5, window: "2s", min_requests: 20, open_for: "1s")))],
        nodes: [
            App(id: "app", workers: 1000, service: Constant("1ms"), handle: {"*": [Read(db: "db")]}),
            Database(id: "db", servers: 100, read: Constant("2ms"), write: Constant("2ms")),
        ])"#;
    let mut s = sim(t, 16);
    s.step_until(10 * SEC).unwrap();
    let before = s.report().end_to_end;
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 1.0,
    })
    .unwrap();
    s.step_until(20 * SEC).unwrap();
    let during = s.report().end_to_end;
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 0.0,
    })
    .unwrap();
    s.step_until(30 * SEC).unwrap();
    let after = s.report();
    check_books(&after);
    let after = after.end_to_end;
    let users = (during.arrivals - before.arrivals) as f64;
    let short = (during.short_circuited - before.short_circuited) as f64;
    let sent = (during.attempts - before.attempts) as f64;
    // The window still holds 2 s of successes when the outage starts, so it
    // takes about a second of failures to reach half; from then on it is
    // open, with one probe a second (each failing and re-opening it).
    assert!(short > 0.85 * users, "{short} of {users}");
    assert!(sent < 0.15 * users, "{sent} attempts for {users} requests");
    assert!(
        (9..=11).contains(&s.breaker_trips(0)),
        "{} trips",
        s.breaker_trips(0)
    );
    // Closed again after the first successful probe.
    let ok =
        (after.completed - during.completed) as f64 / (after.arrivals - during.arrivals) as f64;
    assert!(ok > 0.9, "{ok}");
}

fn limited(rps: u32, limit: &str, client: &str) -> String {
    format!(
        r#"Topology(name: "limit", sources: [Source(id: "u", to: "limiter", arrivals: Poisson(rps: {rps}) {client})],
        nodes: [
            RateLimiter(id: "limiter", to: "app", {limit}),
            Station(id: "app", servers: 1000, service: Constant("1ms")),
        ])"#
    )
}

#[test]
fn a_rate_limiter_admits_up_to_its_rate() {
    for algo in ["TokenBucket", "SlidingWindow"] {
        let t = limited(
            300,
            &format!("limit: 100, per: \"1s\", algorithm: {algo}"),
            "",
        );
        let mut s = sim(&t, 17);
        s.step_until(100 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let admitted = r.nodes["app"].arrivals as f64 / 100.0;
        // The sliding-window counter is an estimate; the bucket is exact
        // (plus its initial burst of 100).
        assert!((admitted - 100.0).abs() < 3.0, "{algo}: {admitted}/s");
        assert_eq!(
            r.nodes["limiter"].rejected.unwrap(),
            r.nodes["limiter"].dropped
        );
    }
}

#[test]
fn credential_stuffing_passes_per_ip_limits_but_not_per_account() {
    let text = include_str!("../../topologies/credential-stuffing.ron");
    let refused = |t: &str| {
        let mut s = sim(t, 18);
        s.step_until(120 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r.nodes["limiter"].rejected.unwrap() as f64 / r.nodes["limiter"].arrivals as f64
    };
    let by_ip = refused(text);
    let by_account = refused(&text.replace("by: Ip)", "by: Account)"));
    assert!(by_ip < 0.05, "per IP refuses {by_ip}");
    // Each of 2,000 accounts passes its burst of 5 plus 5 a minute: about
    // 15 in 2 minutes, 30,000 of the attacker's 180,000; 150,000 of all
    // 216,000 requests are refused.
    assert!(
        (by_account - 150.0 / 216.0).abs() < 0.02,
        "per account refuses {by_account}"
    );
}

#[test]
fn well_behaved_clients_wait_for_retry_after() {
    let run = |respect: bool| {
        let client = format!(
            ", client: Client(retries: Retries(max: 5, backoff: \"1ms\"), respect_retry_after: {respect})"
        );
        let mut s = sim(
            &limited(80, "limit: 100, per: \"1s\", burst: 1", &client),
            19,
        );
        s.step_until(60 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r.end_to_end
    };
    let (polite, rude) = (run(true), run(false));
    // Under the limit on average, but Poisson arrivals bunch: a refused
    // client that retries within a millisecond finds no token again; one
    // that waits for the hint (up to 10 ms) finds one.
    assert!(
        polite.amplification < rude.amplification - 0.3,
        "{} vs {}",
        polite.amplification,
        rude.amplification
    );
    assert!(
        polite.completed > rude.completed,
        "{} vs {}",
        polite.completed,
        rude.completed
    );
}

#[test]
fn a_celebrity_key_makes_its_shard_hot_and_resharding_moves_keys() {
    let text = include_str!("../../topologies/hot-shard.ron");
    let mut s = sim(text, 20);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let sh = r.nodes["shards"].shards.as_ref().unwrap();
    let total: u64 = sh.sent.iter().sum();
    let mut shares: Vec<f64> = sh.sent.iter().map(|&n| n as f64 / total as f64).collect();
    shares.sort_by(f64::total_cmp);
    // The celebrity's shard: 0.30 + 0.70 x (its ring share, about 1/4).
    assert!(shares[3] > 0.40, "{shares:?}");
    assert!(shares[..3].iter().all(|&x| x < 0.25), "{shares:?}");
    // Shrinking from 4 to 3 shards on the ring moves only the removed shard's keys, about a quarter.
    s.apply(Change::Shards {
        node: "shards".into(),
        count: 3,
    })
    .unwrap();
    let moved = s.report().nodes["shards"]
        .shards
        .as_ref()
        .unwrap()
        .last_reshard_moved
        .unwrap();
    assert!((moved - 0.25).abs() < 0.08, "{moved}");
    s.step_until(70 * SEC).unwrap();
    let after = s.report();
    assert_eq!(after.nodes["shards"].shards.as_ref().unwrap().active, 3);
    assert!(
        s.apply(Change::Shards {
            node: "shards".into(),
            count: 9
        })
        .is_err()
    );
    assert!(
        s.apply(Change::Shards {
            node: "app".into(),
            count: 2
        })
        .is_err()
    );
}

#[test]
fn retried_writes_double_charge_unless_idempotency_keys_catch_them() {
    let text = include_str!("../../topologies/double-charge.ron");
    let run = |t: &str| {
        let mut s = sim(t, 21);
        s.step_until(120 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let before = run(text);
    let after = run(&text.replace("idempotency_keys: false", "idempotency_keys: true"));
    let (d0, d1) = (
        before.nodes["ledger"].database.as_ref().unwrap(),
        after.nodes["ledger"].database.as_ref().unwrap(),
    );
    // Every timed-out attempt whose write still lands is a second charge.
    assert!(d0.duplicate_writes > 100, "{}", d0.duplicate_writes);
    assert_eq!(d0.deduplicated_writes, 0);
    assert_eq!(d1.duplicate_writes, 0);
    // The same seed makes the same retries: the repeats are now caught.
    assert_eq!(d1.deduplicated_writes, d0.duplicate_writes);
    assert!(before.end_to_end.timed_out > 0);
}

#[test]
fn a_queue_delivers_at_least_once() {
    let text = include_str!("../../topologies/queue-workers.ron");
    let run = |t: &str| {
        let mut s = sim(t, 22);
        s.step_until(600 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let r = run(text);
    let q = r.nodes["receipts"].queue.as_ref().unwrap();
    // 1% of messages hang for 45 s, past the 30 s visibility timeout: each
    // is delivered again, and both copies finish (a second receipt), unless
    // the copy hangs too.
    let published = r.nodes["checkout"].completed as f64;
    assert!(
        (q.redelivered as f64 / published - 0.01).abs() < 0.003,
        "{} of {published}",
        q.redelivered
    );
    assert!(q.duplicates > 0 && q.duplicates <= q.redelivered, "{q:?}");
    assert_eq!(q.deduplicated, 0);
    // Idempotent workers: the same repeats, skipped.
    let r = run(&text.replace("idempotent: false", "idempotent: true"));
    let qi = r.nodes["receipts"].queue.as_ref().unwrap();
    assert_eq!((qi.duplicates, qi.deduplicated), (0, q.duplicates));

    // Failing deliveries are retried after the backoff, then dead-lettered:
    // 3 deliveries 1 s apart, so messages older than about 2 s are done.
    let t = r#"Topology(name: "dlq", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 20))],
        nodes: [Queue(id: "q", workers: 100, service: Constant("10ms"), max_deliveries: 3, backoff: "1s")])"#;
    let mut s = sim(t, 23);
    s.apply(Change::Errors {
        node: "q".into(),
        rate: 1.0,
    })
    .unwrap();
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let q = r.nodes["q"].queue.as_ref().unwrap();
    assert_eq!(q.processed, 0);
    let published = r.end_to_end.arrivals as f64;
    let expect = published * (60.0 - 2.02) / 60.0;
    assert!(
        (q.dead_lettered as f64 - expect).abs() < 0.02 * published,
        "{q:?} of {published}"
    );
    assert!(
        q.retried >= 2 * q.dead_lettered && q.retried <= 2 * q.dead_lettered + 80,
        "{q:?}"
    );
    assert_eq!(r.end_to_end.dropped, q.dead_lettered);
}

#[test]
fn autoscaling_exhausts_database_connections_and_a_pooler_fixes_it() {
    let text = include_str!("../../topologies/pool-exhaustion.ron");
    let run = |t: &str| {
        let mut s = sim(t, 24);
        s.step_until(720 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let before = run(text);
    let app = before.nodes["app"].app.as_ref().unwrap();
    // Traffic tripled; the autoscaler followed it past 15 instances, whose
    // pools want more than the database's 300 connections.
    assert!(app.instances >= 16 && app.scale_actions >= 5, "{app:?}");
    assert_eq!(app.pool_open, Some(300));
    assert!(app.pool_refused > 1000, "{app:?}");
    assert_eq!(before.end_to_end.dropped, app.pool_refused);
    let fixed = text
        .replace(
            "pool: Pool(to: \"db\", size: 20),",
            "pool: Pool(to: \"pgbouncer\", size: 20),",
        )
        .replace(
            "handle: {\"*\": [Read(db: \"db\")]},",
            "handle: {\"*\": [Read(db: \"pgbouncer\")]},",
        )
        .replace("// Pooler(", "Pooler(");
    let after = run(&fixed);
    let app = after.nodes["app"].app.as_ref().unwrap();
    assert_eq!((app.pool_refused, after.end_to_end.dropped), (0, 0));
    assert_eq!(after.nodes["pgbouncer"].servers, 100);
    assert!(
        after.nodes["db"]
            .database
            .as_ref()
            .unwrap()
            .mean_connections
            <= 100.0
    );
}

#[test]
fn a_partition_fails_calls_across_it_until_healed() {
    let text = include_str!("../../topologies/lb-three-apps.ron");
    let mut s = sim(text, 25);
    s.step_until(10 * SEC).unwrap();
    // app-1 loses the database; the balancer loses app-2.
    s.apply(Change::Partition {
        a: "app-1".into(),
        b: "db".into(),
    })
    .unwrap();
    s.apply(Change::Partition {
        a: "lb".into(),
        b: "app-2".into(),
    })
    .unwrap();
    let before = s.report();
    s.step_until(30 * SEC).unwrap();
    let during = s.report();
    check_books(&during);
    let app1 = during.nodes["app-1"].errors - before.nodes["app-1"].errors;
    assert!(
        app1 > 1000,
        "app-1 errors {app1}: {:?}",
        during.nodes["app-1"]
    );
    // Health checks see app-2 as down and take it out (every 5 s, 2 misses).
    let lb = during.nodes["lb"].load_balancer.as_ref().unwrap();
    assert_eq!(lb.healthy, vec![true, false, true]);
    assert_eq!(
        during.nodes["app-2"].arrivals,
        before.nodes["app-2"].arrivals
    );
    s.apply(Change::Heal {
        a: "app-1".into(),
        b: "db".into(),
    })
    .unwrap();
    s.apply(Change::Heal {
        a: "lb".into(),
        b: "app-2".into(),
    })
    .unwrap();
    s.step_until(50 * SEC).unwrap();
    let after = s.report();
    assert_eq!(after.nodes["app-1"].errors, during.nodes["app-1"].errors);
    assert!(after.nodes["app-2"].arrivals > during.nodes["app-2"].arrivals + 1000);
    assert!(
        s.apply(Change::Partition {
            a: "lb".into(),
            b: "nope".into()
        })
        .is_err()
    );
}

#[test]
fn load_dependent_latency_grows_with_utilization() {
    // Constant 10 ms work on 10 workers; with load_factor 2 a request that
    // starts when u of the workers are busy takes 10 ms x (1 + 2u^2).
    let t = |rps: u32, factor: f64| {
        format!(
            r#"Topology(name: "gc", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: {rps}))],
            nodes: [App(id: "app", workers: 10, service: Constant("10ms"), load_factor: {factor})])"#
        )
    };
    let service = |rps: u32, factor: f64| {
        let mut s = sim(&t(rps, factor), 26);
        s.step_until(100 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let n = &r.nodes["app"];
        n.mean_sojourn_ms.unwrap() - n.mean_wait_ms.unwrap()
    };
    assert!((service(100, 0.0) - 10.0).abs() < 1e-6);
    // Nearly idle: hardly slower. Busy: much slower (and busier still).
    let light = service(20, 2.0);
    let heavy = service(600, 2.0);
    // At least 1 of 10 busy (itself): 10 ms x 1.02.
    assert!(light > 10.19 && light < 10.5, "{light}");
    assert!(heavy > 13.0, "{heavy}");
}

#[test]
fn stale_while_revalidate_ends_the_stampede() {
    let text = include_str!("../../topologies/stampede.ron");
    let swr = text.replace(
        "single_flight: false)",
        "single_flight: false, stale_while_revalidate: \"1s\")",
    );
    assert_ne!(swr, text);
    let config = RunConfig {
        seed: 27,
        warmup: Duration(10 * SEC),
        ..RunConfig::default()
    };
    let mut s = Simulation::new(&model(&swr), config);
    s.step_until(70 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let c = r.nodes["redis"].cache.as_ref().unwrap();
    // After the first fill of each key (the warm-up), every expiry is served
    // stale and refreshed once in the background: no reader waits for the
    // database, and the database sees about one read per key per TTL.
    assert!(c.misses <= 10, "{c:?}");
    assert!(c.stale_hits > 1000, "{c:?}");
    let db_reads = r.nodes["db"].arrivals;
    assert!(
        (db_reads as i64 - c.stale_hits as i64 - c.misses as i64).abs() <= 60,
        "{db_reads} vs {c:?}"
    );
    assert_eq!(r.end_to_end.dropped, 0);
    assert!(
        r.end_to_end.p99_ms.unwrap() < 10.0,
        "{:?}",
        r.end_to_end.p99_ms
    );
}

#[test]
fn lfu_eviction_runs_in_a_cache() {
    let t = cache_aside(500, 0.0, false).replace(
        "servers: 4, single_flight",
        "eviction: Lfu, servers: 4, single_flight",
    );
    assert!(t.contains("Lfu"));
    let mut s = sim(&t, 28);
    s.step_until(300 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let lfu = r.nodes["redis"].cache.as_ref().unwrap().hit_ratio.unwrap();
    let mut s = sim(&cache_aside(500, 0.0, false), 28);
    s.step_until(300 * SEC).unwrap();
    let lru = s.report().nodes["redis"]
        .cache
        .as_ref()
        .unwrap()
        .hit_ratio
        .unwrap();
    // Under a stationary Zipf law, frequency is the better predictor.
    assert!(lfu > lru, "LFU {lfu} vs LRU {lru}");
}

#[test]
fn a_dead_primary_fails_over_to_its_replica() {
    let text = include_str!("../../topologies/read-replicas.ron").replace(
        "write: Exponential(mean: \"6ms\")),",
        "write: Exponential(mean: \"6ms\"), failover: Failover(to: \"replica-1\", after: \"10s\")),",
    );
    assert!(text.contains("Failover"));
    let run = |t: &str| {
        let mut s = sim(t, 29);
        s.step_until(30 * SEC).unwrap();
        s.apply(Change::Down("db".into())).unwrap();
        s.step_until(60 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let db = s.model().node_index("db").unwrap();
        let failed: Vec<u64> = s.end_to_end_series().records().map(|w| w.dropped).collect();
        (r, failed, db)
    };
    let (r, failed, _) = run(&text);
    // Writes fail from the crash until the promotion 10 s later, then work.
    assert!(failed[31..39].iter().all(|&n| n > 50), "{failed:?}");
    assert!(failed[41..].iter().all(|&n| n == 0), "{failed:?}");
    let d = r.nodes["db"].database.as_ref().unwrap();
    assert_eq!(d.promoted_to.as_deref(), Some("replica-1"));
    assert!(d.lost_writes > 0, "{d:?}");
    assert_eq!(
        r.nodes["replica-1"].kind, "Replica",
        "the report keeps the file's kind"
    );
    // Synchronous replication loses nothing.
    let (r, _, _) = run(&text.replace("after: \"10s\")", "after: \"10s\", synchronous: true)"));
    assert_eq!(r.nodes["db"].database.as_ref().unwrap().lost_writes, 0);
}

#[test]
fn regions_add_latency_and_fail_over() {
    let text = include_str!("../../topologies/two-regions.ron").replace(
        "Source(id: \"users-us\", to: \"geo\", arrivals: Poisson(rps: 500)),",
        "",
    );
    let text = text.replace(", sources: [\"users-us\"]", "");
    let mut s = sim(&text, 30);
    s.step_until(30 * SEC).unwrap();
    let local = s.report().end_to_end.mean_ms.unwrap();
    s.apply(Change::DownRegion("eu".into())).unwrap();
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    // Users keep being sent to Europe until two probes fail (by 4 s), then
    // to the US. Served from there, each request crosses twice: +80 ms.
    let failed: Vec<u64> = s.end_to_end_series().records().map(|w| w.dropped).collect();
    assert!(failed[31..33].iter().all(|&n| n > 100), "{failed:?}");
    assert!(failed[35..].iter().all(|&n| n == 0), "{failed:?}");
    let windows: Vec<f64> = s
        .end_to_end_series()
        .records()
        .skip(40)
        .filter_map(|w| w.p50_ms)
        .collect();
    let p50_after = windows.iter().sum::<f64>() / windows.len() as f64;
    assert!(
        p50_after > local + 70.0 && p50_after < local + 100.0,
        "{local} -> {p50_after}"
    );
    assert_eq!(
        r.nodes["geo"].load_balancer.as_ref().unwrap().healthy,
        vec![false, true]
    );
    assert!(s.apply(Change::DownRegion("mars".into())).is_err());
}

const APP_CALLS: &str = r#"Topology(name: "app calls", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 100))],
    nodes: [
        App(id: "app", workers: 10000, service: Constant("1ms"), handle: {"*": [Read(db: "db")]},
            calls: CallPolicy(timeout: "50ms", retries: Retries(max: 2, backoff: "10ms", jitter: None))),
        Database(id: "db", servers: 10000, read: Constant("100ms"), write: Constant("100ms")),
    ])"#;

#[test]
fn apps_time_out_and_retry_their_own_calls() {
    // Every call takes 100 ms against the app's 50 ms timeout: each request
    // makes 3 calls (1 + 2 retries) and fails; the database does them all.
    let mut s = sim(APP_CALLS, 31);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let app = r.nodes["app"].app.as_ref().unwrap();
    let requests = r.nodes["app"].arrivals as f64;
    assert!(
        (r.nodes["db"].arrivals as f64 / requests - 3.0).abs() < 0.02,
        "{} calls for {requests}",
        r.nodes["db"].arrivals
    );
    assert!(
        (app.call_timeouts as f64 / requests - 3.0).abs() < 0.02,
        "{app:?}"
    );
    assert!(
        (app.call_retries as f64 / requests - 2.0).abs() < 0.02,
        "{app:?}"
    );
    assert_eq!(r.end_to_end.completed, 0);
    // A generous timeout: no retries, all good.
    let mut s = sim(&APP_CALLS.replace("\"50ms\"", "\"500ms\""), 31);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    let app = r.nodes["app"].app.as_ref().unwrap();
    assert_eq!((app.call_retries, app.call_timeouts), (0, 0));
    assert!(r.end_to_end.dropped == 0 && r.end_to_end.completed > 5000);
}

#[test]
fn an_app_breaker_stops_calling_a_failing_dependency() {
    let t = APP_CALLS
        .replace("timeout: \"50ms\", ", "")
        .replace("jitter: None)", "jitter: None), breaker: Breaker(failure_ratio: 0.5, window: \"2s\", min_requests: 20, open_for: \"1s\")")
        .replace("Constant(\"100ms\")", "Constant(\"2ms\")");
    let mut s = sim(&t, 32);
    s.step_until(10 * SEC).unwrap();
    let before = s.report();
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 1.0,
    })
    .unwrap();
    s.step_until(20 * SEC).unwrap();
    let during = s.report();
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 0.0,
    })
    .unwrap();
    s.step_until(30 * SEC).unwrap();
    let after = s.report();
    check_books(&after);
    let app = |r: &bottleneck::report::Report| r.nodes["app"].app.clone().unwrap();
    let calls = during.nodes["db"].arrivals - before.nodes["db"].arrivals;
    let users = during.end_to_end.arrivals - before.end_to_end.arrivals;
    let short = app(&during).call_short_circuited - app(&before).call_short_circuited;
    // Open for most of the outage: the database is spared most calls.
    assert!(
        (calls as f64) < 0.4 * users as f64,
        "{calls} calls for {users} requests"
    );
    assert!(short as f64 > 0.6 * users as f64, "{short}");
    assert!(app(&during).breaker_trips >= 5);
    let ok = (after.end_to_end.completed - during.end_to_end.completed) as f64
        / (after.end_to_end.arrivals - during.end_to_end.arrivals) as f64;
    assert!(ok > 0.9, "{ok}");
}

#[test]
fn closed_loop_users_follow_the_response_time_law() {
    // N users, think Z: throughput X = N / (R + Z) (the interactive
    // response time law, Little's law over the whole loop).
    for users in [20u32, 200] {
        let t = format!(
            r#"Topology(name: "closed", sources: [Source(id: "u", to: "q", arrivals: Closed(users: {users}, think: Exponential(mean: "100ms")))],
            nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "1ms"))])"#
        );
        let config = RunConfig {
            seed: 33,
            warmup: Duration(10 * SEC),
            ..RunConfig::default()
        };
        let mut s = Simulation::new(&model(&t), config);
        s.step_until(210 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let e = &r.end_to_end;
        let law = users as f64 / (e.mean_ms.unwrap() / 1e3 + 0.1);
        assert!(
            (e.throughput_rps - law).abs() < 0.02 * law,
            "{users} users: X {} vs N/(R+Z) {law}",
            e.throughput_rps
        );
        // Never more users in the system than there are.
        assert!(e.mean_in_system <= users as f64);
        if users == 200 {
            // Saturated: throughput pinned at the server's 1000/s, the rest waits.
            assert!(
                e.throughput_rps > 950.0 && e.mean_ms.unwrap() > 50.0,
                "{e:?}"
            );
        }
    }
    // The traffic multiplier scales the number of users.
    let x = |m: f64| {
        let mut s = sim(include_str!("../../topologies/closed-loop.ron"), 34);
        s.apply(Change::Traffic(m)).unwrap();
        s.step_until(30 * SEC).unwrap();
        s.report().end_to_end.throughput_rps
    };
    let (one, three) = (x(1.0), x(3.0));
    assert!(
        (three / one - 3.0).abs() < 0.3,
        "x3 users: {three} rps against {one}"
    );
}

#[test]
fn write_through_keeps_written_keys_cached() {
    let through = include_str!("../../topologies/closed-loop.ron");
    let invalidate = through.replace(
        "[WriteThrough(cache: \"redis\", db: \"db\")]",
        "[Write(db: \"db\"), Invalidate(cache: \"redis\")]",
    );
    assert_ne!(through, invalidate);
    let hit = |t: &str| {
        let mut s = sim(t, 35);
        s.step_until(120 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r.nodes["redis"].cache.as_ref().unwrap().hit_ratio.unwrap()
    };
    let (wt, inv) = (hit(through), hit(&invalidate));
    assert!(wt > inv + 0.02, "write-through {wt} vs invalidate {inv}");
}
