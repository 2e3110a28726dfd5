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
