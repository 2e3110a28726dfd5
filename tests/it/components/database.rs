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

/// Sends a 50:50 mix of `read` and `write` to a database (read 2 ms, write
/// 20 ms, constant) by way of `front` (`None`: straight from the source).
fn direct(front: Option<&str>, class_write: &str) -> String {
    let (to, node) = match front {
        None => ("db", String::new()),
        Some(n) => ("front", format!("{n},")),
    };
    format!(
        r#"Topology(name: "direct",
        sources: [Source(id: "u", to: "{to}", arrivals: Poisson(rps: 100), mix: {{"read": 0.5, "{class_write}": 0.5}})],
        nodes: [
            {node}
            Database(id: "db", servers: 100, read: Constant("2ms"), write: Constant("20ms")),
        ])"#
    )
}

#[test]
fn a_write_reaching_a_database_directly_takes_the_write_time() {
    // No app step says read or write: the class does (audit s7 B20, where
    // every such write was timed as a 2 ms read). 100 servers for 100 rps
    // of at most 20 ms: no waiting, so each class's time is its service.
    for (front, extra) in [
        (None, 0.0),
        (
            Some(
                r#"Station(id: "front", servers: 100, service: Constant("1ms"), routes: [Route(to: "db", p: 1.0)])"#,
            ),
            1.0,
        ),
        (Some(r#"LoadBalancer(id: "front", to: ["db"])"#), 0.0),
        (
            Some(
                r#"App(id: "front", workers: 100, service: Constant("1ms"), handle: {"*": [Call(to: "db")]})"#,
            ),
            1.0,
        ),
    ] {
        let mut s = sim(&direct(front, "write"), 12);
        s.step_until(30 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let p50 = |c: &str| r.classes[c].p50_ms.unwrap();
        let (read, write) = (p50("read"), p50("write"));
        assert!(
            (read - (2.0 + extra)).abs() < 0.05,
            "{front:?}: read {read}"
        );
        assert!(
            (write - (20.0 + extra)).abs() < 0.05,
            "{front:?}: write {write}"
        );
        // The database's busy servers: 50 rps x 2 ms + 50 rps x 20 ms = 1.1.
        let busy = r.nodes["db"].utilization * 100.0;
        assert!((busy - 1.1).abs() < 0.1, "{front:?}: {busy} busy");
    }
    // A class the apps' handlers only write with is a write, whatever
    // its name.
    let t = r#"Topology(name: "direct",
        sources: [Source(id: "u", to: "lb", arrivals: Poisson(rps: 100), mix: {"browse": 0.5, "order": 0.5})],
        nodes: [
            LoadBalancer(id: "lb", to: ["db"]),
            App(id: "api", workers: 10, service: Constant("1ms"), handle: {"order": [Write(db: "db")], "browse": [Read(db: "db")]}),
            Database(id: "db", servers: 100, read: Constant("2ms"), write: Constant("20ms")),
        ])"#;
    let mut s = sim(t, 13);
    s.step_until(30 * SEC).unwrap();
    let r = s.report();
    assert!((r.classes["order"].p50_ms.unwrap() - 20.0).abs() < 0.05);
    assert!((r.classes["browse"].p50_ms.unwrap() - 2.0).abs() < 0.05);
}

#[test]
fn a_class_a_database_cannot_tell_is_refused_at_load() {
    let Err(d) = bottleneck::topology::load("t.ron", direct(None, "checkout").as_bytes()) else {
        panic!("a class of unknown nature was timed as a read");
    };
    let e = d
        .items
        .iter()
        .find(|e| e.message.contains("`checkout`") && e.message.contains("`db`"))
        .unwrap_or_else(|| panic!("{d}"));
    assert_eq!(e.pos.map(|p| p.line), Some(5), "{d}");
    assert!(
        e.hint
            .as_deref()
            .unwrap_or("")
            .contains("Write(db: \"db\")"),
        "{d}"
    );
    // With the same read and write times there is nothing to tell apart.
    let same = direct(None, "checkout").replace("Constant(\"20ms\")", "Constant(\"2ms\")");
    assert!(bottleneck::topology::load("t.ron", same.as_bytes()).is_ok());
}
