//! Pooler: autoscaling against database connections.

use super::*;

#[test]
fn autoscaling_exhausts_database_connections_and_a_pooler_fixes_it() {
    let text = include_str!("../../../topologies/pool-exhaustion.ron");
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
