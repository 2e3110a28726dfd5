//! Replica: replication lag and stale reads.

use super::*;

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

/// `text` fails to load with `says` in its error.
#[track_caller]
fn refused(text: &str, says: &str) {
    let e = bottleneck::topology::load_str("t.ron", text)
        .err()
        .unwrap_or_else(|| panic!("accepted: {text}"))
        .to_string();
    assert!(e.contains(says), "{e}");
    assert!(e.contains("hint:") && e.contains("primary `db`"), "{e}");
}

const TIER: &str = r#"Database(id: "db", servers: 8, read: Constant("2ms"), write: Constant("20ms")),
    Replica(id: "r1", primary: "db", servers: 8, read: Constant("2ms"), lag: Constant("10ms")),
    Replica(id: "r2", primary: "db", servers: 8, read: Constant("2ms"), lag: Constant("10ms"))"#;

#[test]
fn writes_never_reach_a_replica() {
    // Audit s7: a read-through cache over a balancer of replicas sent its
    // writes to the replicas, which served them as 2 ms reads; a balancer
    // over the primary and a replica sent half the writes to the replica.
    let mix = r#"mix: {"read": 0.9, "write": 0.1}"#;
    refused(
        &format!(
            r#"Topology(name: "t", sources: [Source(id: "u", to: "c", arrivals: Poisson(rps: 200), {mix}, keys: Zipf(keys: 1000, s: 1.0))],
            nodes: [Cache(id: "c", capacity: 100, service: Constant("0ms"), backend: "lb"),
                    LoadBalancer(id: "lb", to: ["r1", "r2"]), {TIER}])"#
        ),
        "writes (class `write`) reach read replica `r1` from `lb`",
    );
    refused(
        &format!(
            r#"Topology(name: "t", sources: [Source(id: "u", to: "lb", arrivals: Poisson(rps: 200), {mix})],
            nodes: [LoadBalancer(id: "lb", to: ["db", "r1"]), {TIER}])"#
        ),
        "reach read replica `r1`",
    );
    // An app's write through a pooler in front of a replica.
    refused(
        &format!(
            r#"Topology(name: "t", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 20), {mix})],
            nodes: [App(id: "app", workers: 8, service: Constant("1ms"), handle: {{"read": [Read(db: "pgb")], "write": [Write(db: "pgb")]}}),
                    Pooler(id: "pgb", to: "r1", connections: 4), {TIER}])"#
        ),
        "reach read replica `r1` from `pgb`",
    );
    // Reads alone through the same cache and balancer are fine; so are
    // writes that go to the primary.
    for text in [
        format!(
            r#"Topology(name: "t", sources: [Source(id: "u", to: "c", arrivals: Poisson(rps: 200), mix: {{"read": 1.0}})],
            nodes: [Cache(id: "c", capacity: 100, service: Constant("0ms"), backend: "lb"),
                    LoadBalancer(id: "lb", to: ["r1", "r2"]), {TIER}])"#
        ),
        format!(
            r#"Topology(name: "t", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 20), {mix})],
            nodes: [App(id: "app", workers: 8, service: Constant("1ms"), handle: {{"read": [Call(to: "c")], "write": [Write(db: "db")]}}),
                    Cache(id: "c", capacity: 100, service: Constant("0ms"), backend: "lb"),
                    LoadBalancer(id: "lb", to: ["r1", "r2"]), {TIER}])"#
        ),
    ] {
        if let Err(e) = bottleneck::topology::load_str("t.ron", &text) {
            panic!("{e}");
        }
    }
}

#[test]
fn a_pooler_carries_writes_and_cache_aside_reads_to_its_database() {
    // Audit s7 D7: `Write(db: pooler)` was refused while `Read` was
    // accepted. Writes through the pooler are timed as writes at the
    // database (20 ms), reads as reads (2 ms), each holding a connection.
    let text = format!(
        r#"Topology(name: "t", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 50), mix: {{"read": 0.5, "write": 0.5}}, keys: Zipf(keys: 1000, s: 1.0))],
        nodes: [App(id: "app", workers: 64, service: Constant("1ms"), handle: {{"read": [CacheAside(cache: "c", db: "pgb")], "write": [Write(db: "pgb")]}}),
                Cache(id: "c", capacity: 10, service: Constant("0ms")),
                Pooler(id: "pgb", to: "db", connections: 16), {TIER}])"#
    );
    let mut s = sim(&text, 3);
    s.step_until(20 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let db = &r.nodes["db"];
    assert!(r.nodes["pgb"].arrivals > 500, "{:?}", r.nodes["pgb"]);
    assert_eq!(db.arrivals, r.nodes["pgb"].arrivals);
    let classes = &r.classes;
    let w = classes["write"].p50_ms.unwrap();
    assert!((w - 21.0).abs() < 0.5, "{:?}", classes["write"]);
    assert!(
        classes["read"].p99_ms.unwrap() <= 3.0 + 1e-9,
        "{:?}",
        classes["read"]
    );
}
