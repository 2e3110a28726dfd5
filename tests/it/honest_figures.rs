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

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    /// Throughput counts the answers given in the measured span, whenever
    /// their request arrived: an M/M/1 fed past its capacity answers at its
    /// service rate (10/s here), not at the share of the measured cohort it
    /// got to, and a stable one at its arrival rate. The figure is the
    /// series' own completions over the measured windows, end to end, for
    /// the node and for the request class.
    #[test]
    fn throughput_counts_answers_in_the_span(rho in 0.3f64..1.6, seed in 1u64..1000) {
        prop_assume!(!(0.85..1.05).contains(&rho));
        let text = format!(r#"Topology(name: "mm1", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: {}), mix: {{"a": 0.3, "b": 0.7}})],
            nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "100ms"))])"#, 10.0 * rho);
        let mut s = Simulation::new(&model(&text), RunConfig {
            seed,
            warmup: bottleneck::time::Duration(50 * SEC),
            ..RunConfig::default()
        });
        s.step_until(250 * SEC).unwrap();
        let r = s.report();
        let want = 10.0 * rho.min(1.0);
        let got = r.end_to_end.throughput_rps;
        // Over 200 s the answers are close to a Poisson count (arrivals
        // when stable, departures at the service rate when saturated): the
        // rate's standard error is sqrt(want / 200). Five of them; the
        // cohort rule's 6.8/s for 10/s is still far outside.
        let tol = 5.0 * (want / 200.0).sqrt();
        prop_assert!((got - want).abs() < tol, "throughput {got} at rho {rho}, want {want} ± {tol}");
        let series = s.series_report();
        let measured = |w: &[bottleneck::report::WindowRecordOut]| -> u64 {
            w.iter().filter(|w| w.t_s >= 50.0 && w.t_s < 250.0).map(|w| w.completed).sum()
        };
        let e2e = measured(&series.end_to_end) as f64 / r.measured_s;
        prop_assert!((e2e - got).abs() < 1e-9, "{e2e} vs {got}");
        let q = measured(&series.nodes[0].1) as f64 / r.measured_s;
        prop_assert!((q - r.nodes.get("q").unwrap().throughput_rps).abs() < 1e-9);
        let classes: f64 = r.classes.0.iter().map(|(_, c)| c.throughput_rps).sum();
        prop_assert_eq!(r.classes.0.len(), 2);
        prop_assert!((classes - got).abs() < 1e-9, "{classes} vs {got}");
    }
}

/// How many of `seeds` runs of an M/M/1 (service rate 10/s) at `rho`, 200 s
/// of one-second windows from empty, `--warmup auto`'s rule refuses as not
/// steady (on the end-to-end median and the backlog per window, as the
/// CLI does).
fn refused(rho: f64, seeds: std::ops::Range<u64>) -> usize {
    use bottleneck::scenario::warmup::{Judged, judge};
    let text = format!(
        r#"Topology(name: "mm1", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: {}))],
        nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "100ms"))])"#,
        10.0 * rho
    );
    let m = model(&text);
    seeds
        .filter(|&seed| {
            let mut s = Simulation::new(
                &m,
                RunConfig {
                    seed,
                    window: bottleneck::time::Duration(SEC),
                    ..RunConfig::default()
                },
            );
            s.step_until(200 * SEC).unwrap();
            !matches!(judge(&s.series_report()), Judged::Truncate { .. })
        })
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// `--warmup auto` refuses a queue that grows for as long as the run
    /// lasts and accepts a stationary one. Measured (module docs of
    /// `scenario::warmup`): 2.5% false refusals at rho 0.9 (none at 0.8),
    /// 88% refused at 1.1, 100% at 1.2. Bounds here, per 20 seeds: at most
    /// 2 refused at rho below 0.9 (P about 1% at 0.9's rate, far less
    /// below), at least 14 at rho 1.1 to 1.2 and 18 from 1.2 up. The cases
    /// are drawn from a fixed seed, so CI sees the same ones every run.
    #[test]
    fn warmup_auto_refuses_a_growing_queue_and_accepts_a_stationary_one(
        rho in 0.5f64..1.5,
        first in 0u64..1_000_000,
    ) {
        prop_assume!(!(0.9..1.1).contains(&rho));
        let n = refused(rho, first..first + 20);
        if rho < 0.9 {
            prop_assert!(n <= 2, "{n} of 20 refused at rho {rho}");
        } else if rho < 1.2 {
            prop_assert!(n >= 14, "{n} of 20 refused at rho {rho}");
        } else {
            prop_assert!(n >= 18, "{n} of 20 refused at rho {rho}");
        }
    }
}

#[test]
fn warmup_auto_refuses_the_audits_overloaded_mm1() {
    // mm1.ron at 12 rps, seed 1 (the CLI's default), 200 s; at 9 rps it is
    // accepted. (At 11 rps this seed is among the 12% the rule still lets
    // through: see the module docs of `scenario::warmup`.)
    assert_eq!(refused(1.2, 1..2), 1);
    assert_eq!(refused(0.9, 1..2), 0);
}

/// The refusal rates the module docs of `scenario::warmup` quote: run with
/// `cargo test --release --test it -- --ignored warmup_refusal_rates --nocapture`.
#[test]
#[ignore]
fn warmup_refusal_rates() {
    for rho in [0.5, 0.8, 0.9, 0.95, 1.1, 1.2] {
        let n = refused(rho, 0..400);
        println!("rho {rho}: {n} of 400 refused ({:.1}%)", n as f64 / 4.0);
    }
}
