//! Database: connection limits, failover, idempotency keys.

use super::*;

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
fn retried_writes_double_charge_unless_idempotency_keys_catch_them() {
    let text = include_str!("../../../topologies/double-charge.ron");
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
fn a_dead_primary_fails_over_to_its_replica() {
    let text = include_str!("../../../topologies/read-replicas.ron").replace(
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
