//! Figures and verdicts that must be right when the system is in trouble:
//! a failover promotes only a replica that is up, and says so when none
//! is; the overload warning counts what a rate limiter in front lets
//! through.

use crate::common::model;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::SEC;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// One to three replicas, some of them taken down, then the primary:
    /// the replica promoted is up (the one named, when it is up), and when
    /// none is up nothing is promoted, the report says when, and the table
    /// says why.
    #[test]
    fn failover_promotes_only_a_replica_that_is_up(
        replicas in 1usize..=3,
        down_mask in 0u8..8,
        seed in 1u64..1000,
    ) {
        let reps: String = (0..replicas)
            .map(|k| format!(r#"Replica(id: "rep{k}", primary: "db", lag: Constant("50ms"), servers: 8, read: Exponential(mean: "2ms")),"#))
            .collect();
        let text = format!(r#"Topology(name: "fv", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 200), mix: {{"read": 0.5, "write": 0.5}}, keys: Uniform(keys: 1000))],
          nodes: [App(id: "app", workers: 50, service: Constant("1ms"), handle: {{"read": [Read(db: "db")], "write": [Write(db: "db")]}}),
                  Database(id: "db", servers: 8, read: Exponential(mean: "2ms"), write: Exponential(mean: "2ms"), failover: Failover(to: "rep0", after: "2s")),
                  {reps}])"#);
        let mut s = Simulation::new(&model(&text), RunConfig { seed, ..RunConfig::default() });
        let down: Vec<bool> = (0..replicas).map(|k| down_mask & (1 << k) != 0).collect();
        for (k, d) in down.iter().enumerate() {
            if *d {
                s.schedule(3 * SEC, Change::Down(format!("rep{k}"))).unwrap();
            }
        }
        s.schedule(5 * SEC, Change::Down("db".into())).unwrap();
        s.step_until(15 * SEC).unwrap();
        let r = s.report();
        let db = r.nodes.get("db").unwrap().database.clone().unwrap();
        match down.iter().position(|d| !d) {
            Some(first_up) => {
                let want = if down[0] { first_up } else { 0 };
                prop_assert_eq!(db.promoted_to.clone(), Some(format!("rep{want}")));
                prop_assert_eq!(db.failover_missed_s, None);
                // The promoted replica serves the writes from then on.
                let p = r.nodes.get(&format!("rep{want}")).unwrap();
                prop_assert!(p.completed > 1000, "{} completed", p.completed);
            }
            None => {
                prop_assert_eq!(db.promoted_to, None);
                prop_assert_eq!(db.failover_missed_s, Some(7.0));
                let table = r.to_table();
                prop_assert!(table.contains("db: did not fail over at 7.0s: no replica of it was up"), "{}", table);
            }
        }
    }
}

/// The loader's warnings for `text`, rendered.
fn warnings(text: &str) -> String {
    match bottleneck::topology::load_str("t.ron", text) {
        Ok(l) => l.warnings.to_string(),
        Err(d) => panic!("{d}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A node offered more than its capacity at peak is warned about, unless
    /// a global rate limiter in front caps what reaches it below that
    /// capacity; a limit above capacity, or one per account (it caps each
    /// client, not the total), leaves the warning.
    #[test]
    fn the_overload_warning_counts_what_a_limiter_in_front_lets_through(
        over in 1.2f64..5.0,
        limit_share in 0.1f64..3.0,
        servers in 1u32..16,
        per_account in any::<bool>(),
    ) {
        prop_assume!(!(0.85..1.15).contains(&limit_share));
        // Capacity: servers / 10 ms.
        let capacity = servers as f64 * 100.0;
        let rps = capacity * over;
        let limit = capacity * limit_share;
        let by = if per_account { ", by: Account" } else { "" };
        let text = format!(r#"Topology(name: "w", sources: [Source(id: "u", to: "rl", arrivals: Poisson(rps: {rps}), keys: Uniform(keys: 100))],
          nodes: [RateLimiter(id: "rl", to: "lb", limit: {limit}, per: "1s"{by}),
                  LoadBalancer(id: "lb", to: ["app"]),
                  App(id: "app", workers: {servers}, service: Exponential(mean: "10ms"))])"#);
        let w = warnings(&text);
        let warned = w.contains("`app` is overloaded at peak");
        let expect = per_account || limit_share > 1.0;
        prop_assert_eq!(warned, expect, "{}", w);
    }
}
