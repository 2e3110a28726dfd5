//! Books that must balance through failures: after a failover, each
//! request is credited to the node that served it (the promoted replica,
//! not the dead primary); the writes lost at failover are writes, not
//! keys; a message published across a partition fails its request, so
//! published = arrived at the queue + failed at the publisher.

use crate::common::model;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{MS, SEC};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Every app request makes one query; after the primary dies and a
    /// replica is promoted, the queries are the replica's: the primary's
    /// and the replica's arrivals add up to the app's queries (before, the
    /// dead primary also counted every query it passed on, done in 0 ns),
    /// and the primary serves nothing after the promotion.
    #[test]
    fn after_a_failover_each_query_is_counted_once_where_it_was_served(
        rps in 50u32..400,
        crash_ms in 1_000u64..4_000,
        after_ms in 100u64..2_000,
        seed in 1u64..1000,
    ) {
        let text = format!(r#"Topology(name: "fo", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: {rps}), mix: {{"read": 0.9, "write": 0.1}})],
          nodes: [App(id: "app", workers: 200, service: Constant("1ms"), handle: {{"read": [Read(db: "db")], "write": [Write(db: "db")]}}),
                  Database(id: "db", servers: 16, read: Exponential(mean: "1ms"), write: Exponential(mean: "2ms"), failover: Failover(to: "r", after: "{after_ms}ms")),
                  Replica(id: "r", primary: "db", lag: Constant("50ms"), servers: 16, read: Exponential(mean: "1ms"))])"#);
        let m = model(&text);
        let mut s = Simulation::new(&m, RunConfig { seed, ..RunConfig::default() });
        s.schedule(crash_ms * MS, Change::Down("db".into())).unwrap();
        let promoted = (crash_ms + after_ms) * MS;
        s.step_until(promoted).unwrap();
        let before = s.report().nodes.get("db").unwrap().arrivals;
        s.step_until(promoted + 3 * SEC).unwrap();
        s.apply(Change::Traffic(0.0)).unwrap();
        s.step_until(promoted + 4 * SEC).unwrap();
        let r = s.report();
        let (app, db, rep) = (
            r.nodes.get("app").unwrap(),
            r.nodes.get("db").unwrap(),
            r.nodes.get("r").unwrap(),
        );
        prop_assert_eq!(db.database.as_ref().unwrap().promoted_to.as_deref(), Some("r"));
        prop_assert_eq!(app.in_flight + db.in_flight + rep.in_flight, 0);
        prop_assert_eq!(db.arrivals + rep.arrivals, app.arrivals, "each query counted once");
        prop_assert_eq!(db.arrivals, before, "the dead primary took no query after the promotion");
        prop_assert!(rep.completed > 0);
        // Its own visits only: a query takes its service time (no 0 ns
        // hand-offs in its percentiles).
        prop_assert!(db.p50_ms.unwrap() > 0.05, "db p50 {:?}", db.p50_ms);
    }

    /// `users` closed-loop users each write one key every 3 ms exactly
    /// (think 1 ms, app 1 ms, write 1 ms), so the writes acknowledged in the
    /// replica's lag before the crash are users x lag / 3 ms (one either
    /// way per user at the window's edges), whether the writes share one
    /// key (no `keys`) or not. (Counting keys, it said 1 with one key.)
    #[test]
    fn the_writes_lost_at_failover_are_counted_one_per_write(
        users in 1u64..12,
        lag_ms in 20u64..200,
        crash_ms in 1_000u64..3_000,
        keyed in any::<bool>(),
    ) {
        let keys = if keyed { r#", keys: Uniform(keys: 1000000)"# } else { "" };
        let text = format!(r#"Topology(name: "lw", sources: [Source(id: "u", to: "app", arrivals: Closed(users: {users}, think: Constant("1ms")), mix: {{"write": 1.0}}{keys})],
          nodes: [App(id: "app", workers: 64, service: Constant("1ms"), handle: {{"write": [Write(db: "db")]}}),
                  Database(id: "db", servers: 64, read: Constant("1ms"), write: Constant("1ms"), failover: Failover(to: "r", after: "1s")),
                  Replica(id: "r", primary: "db", lag: Constant("{lag_ms}ms"), servers: 64, read: Constant("1ms"))])"#);
        let m = model(&text);
        let mut s = Simulation::new(&m, RunConfig { seed: 1, ..RunConfig::default() });
        s.schedule(crash_ms * MS, Change::Down("db".into())).unwrap();
        s.step_until((crash_ms + 2_000) * MS).unwrap();
        let r = s.report();
        let lost = r.nodes.get("db").unwrap().database.as_ref().unwrap().lost_writes as f64;
        let want = users as f64 * lag_ms as f64 / 3.0;
        prop_assert!((lost - want).abs() <= users as f64 + 1.0, "lost {} writes, want {} +- {}", lost, want, users + 1);
    }

    /// Writes that publish a message, with the link from the app to the
    /// queue cut and healed at random: every write that succeeded put its
    /// message on the queue, every one whose message could not cross
    /// failed (counted at the app as cut), and nothing else failed. (Before,
    /// the writes all succeeded and the cut messages were counted nowhere.)
    #[test]
    fn a_message_published_across_a_partition_fails_its_request(
        rps in 50u32..400,
        cuts in prop::collection::vec((0u64..4_000, 10u64..1_500), 1..4),
        seed in 1u64..1000,
    ) {
        let text = format!(r#"Topology(name: "pq", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: {rps}), mix: {{"write": 1.0}})],
          nodes: [App(id: "app", workers: 200, service: Exponential(mean: "1ms"), handle: {{"write": [Write(db: "db"), Publish(queue: "q")]}}),
                  Database(id: "db", servers: 16, read: Constant("1ms"), write: Exponential(mean: "2ms")),
                  Queue(id: "q", workers: 16, service: Exponential(mean: "1ms"))])"#);
        let m = model(&text);
        let mut s = Simulation::new(&m, RunConfig { seed, ..RunConfig::default() });
        let mut timeline: Vec<(u64, bool)> = Vec::new();
        for &(at, len) in &cuts {
            timeline.push((at, true));
            timeline.push((at + len, false));
        }
        timeline.sort();
        let mut cut = false;
        for (at, c) in timeline {
            s.step_until(at * MS).unwrap();
            if c != cut {
                let (a, b) = ("app".to_string(), "q".to_string());
                s.apply(if c { Change::Partition { a, b } } else { Change::Heal { a, b } }).unwrap();
                cut = c;
            }
        }
        if cut {
            s.step_until(5_600 * MS).unwrap();
            s.apply(Change::Heal { a: "app".into(), b: "q".into() }).unwrap();
        }
        s.step_until(6 * SEC).unwrap();
        s.apply(Change::Traffic(0.0)).unwrap();
        s.step_until(8 * SEC).unwrap();
        let r = s.report();
        let e = &r.end_to_end;
        let (app, q) = (r.nodes.get("app").unwrap(), r.nodes.get("q").unwrap());
        prop_assert_eq!(e.in_flight, 0);
        prop_assert_eq!(q.arrivals, e.completed, "a message per write that succeeded");
        prop_assert_eq!(e.dropped, app.partitioned, "each failed write is a message that could not cross");
        prop_assert_eq!(e.arrivals, e.completed + e.dropped);
        prop_assert_eq!(q.completed, q.arrivals);
    }
}
