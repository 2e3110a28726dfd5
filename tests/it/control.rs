//! The control API: changes take effect when applied and replay exactly.

use crate::common::model;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};

const TWO: &str = r#"Topology(name: "two", sources: [Source(id: "u", to: "web", arrivals: Poisson(rps: 200.0))],
    nodes: [
        Station(id: "web", servers: 4, queue: 100, service: Exponential(mean: "10ms"), routes: [Route(to: "db", p: 0.5)]),
        Station(id: "db", servers: 1, queue: 50, service: Exponential(mean: "4ms")),
    ])"#;

fn sim(seed: u64) -> Simulation {
    Simulation::new(
        &model(TWO),
        RunConfig {
            seed,
            ..RunConfig::default()
        },
    )
}

#[test]
fn a_session_replays_event_for_event() {
    let mut live = sim(5);
    live.step_until(10 * SEC).unwrap();
    live.apply(Change::Traffic(2.0)).unwrap();
    // Changes between two events, not at a round time.
    for _ in 0..1234 {
        live.step_event().unwrap();
    }
    live.apply(Change::Down("db".into())).unwrap();
    live.step_until(15 * SEC).unwrap();
    live.apply(Change::Up("db".into())).unwrap();
    live.apply(Change::Slow {
        node: "web".into(),
        factor: 3.0,
    })
    .unwrap();
    live.step_until(20 * SEC).unwrap();
    live.apply(Change::Servers {
        node: "web".into(),
        servers: 12,
    })
    .unwrap();
    live.step_until(30 * SEC).unwrap();
    let recorded = live.changes().to_vec();
    assert_eq!(recorded.len(), 5);
    let again = Simulation::replay(
        &model(TWO),
        RunConfig {
            seed: 5,
            ..RunConfig::default()
        },
        &recorded,
        30 * SEC,
    )
    .unwrap();
    assert_eq!(live.report().to_json(), again.report().to_json());
    assert_eq!(live.events(), again.events());
    // The log survives a round trip through RON (scenario files).
    let text = ron::to_string(&recorded).unwrap();
    let back: Vec<bottleneck::sim::AppliedChange> = ron::from_str(&text).unwrap();
    assert_eq!(back, recorded);
}

#[test]
fn a_down_node_drops_everything_until_it_comes_back() {
    let mut s = sim(1);
    s.step_until(5 * SEC).unwrap();
    s.apply(Change::Down("db".into())).unwrap();
    assert!(s.live(1).down);
    assert_eq!(s.live(1).busy, 0);
    let before = s.report().nodes["db"].clone();
    s.step_until(10 * SEC).unwrap();
    let after = s.report().nodes["db"].clone();
    // Every arrival while down is dropped; nothing completes (in-service
    // requests were lost when it went down).
    assert_eq!(after.completed, before.completed);
    assert_eq!(
        after.dropped - before.dropped,
        after.arrivals - before.arrivals + before.in_flight
    );
    assert!(
        after.arrivals - before.arrivals > 400,
        "{}",
        after.arrivals - before.arrivals
    );
    s.apply(Change::Up("db".into())).unwrap();
    s.step_until(15 * SEC).unwrap();
    assert!(s.report().nodes["db"].completed > after.completed + 400);
}

#[test]
fn more_servers_cut_the_wait_and_traffic_scales_arrivals() {
    let mut s = sim(2);
    s.apply(Change::Servers {
        node: "db".into(),
        servers: 4,
    })
    .unwrap();
    s.apply(Change::Traffic(1.5)).unwrap();
    s.step_until(100 * SEC).unwrap();
    let r = s.report();
    // 300 rps for 100 s: 30,000 expected, sd 173.
    let a = r.end_to_end.arrivals as f64;
    assert!((a - 30_000.0).abs() < 870.0, "{a}");
    assert_eq!(r.nodes["db"].servers, 4);
    // db: 150 rps x 4 ms over 4 servers = 0.15 utilization.
    assert!(
        (r.nodes["db"].utilization - 0.15).abs() < 0.01,
        "{}",
        r.nodes["db"].utilization
    );
}

/// M/M/c mean sojourn, seconds.
fn mmc_w(c: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
    let top = a.powi(c as i32) / fact(c) * c as f64 / (c as f64 - a);
    let pw = top / ((0..c).map(|k| a.powi(k as i32) / fact(k)).sum::<f64>() + top);
    pw / (c as f64 * mu - lambda) + 1.0 / mu
}

#[test]
fn a_slow_node_takes_longer() {
    // web is M/M/4 at 200 rps with 10 ms service; slowed 1.5x it is M/M/4
    // with 15 ms. Compare the ratio of mean sojourns with theory.
    let run = |factor: f64| {
        let mut s = sim(3);
        s.apply(Change::Slow {
            node: "web".into(),
            factor,
        })
        .unwrap();
        s.step_until(300 * SEC).unwrap();
        s.report().nodes["web"].mean_sojourn_ms.unwrap()
    };
    let (base, slow) = (run(1.0), run(1.5));
    let theory = mmc_w(4, 200.0, 1000.0 / 15.0) / mmc_w(4, 200.0, 100.0);
    assert!(
        (slow / base - theory).abs() < 0.1 * theory,
        "{base} -> {slow}, ratio theory {theory}"
    );
}

#[test]
fn bad_changes_are_refused_with_hints() {
    let mut s = sim(1);
    let e = s.apply(Change::Down("dbb".into())).unwrap_err();
    assert!(e.hint.contains("`db`"), "{e}");
    assert!(s.apply(Change::Traffic(f64::NAN)).is_err());
    assert!(s.apply(Change::Traffic(-1.0)).is_err());
    assert!(
        s.apply(Change::Slow {
            node: "web".into(),
            factor: 0.0
        })
        .is_err()
    );
    assert!(
        s.apply(Change::Servers {
            node: "web".into(),
            servers: 0
        })
        .is_err()
    );
    assert!(s.changes().is_empty());
}

#[test]
fn the_in_flight_budget_stops_a_runaway_queue() {
    let m = model(
        r#"Topology(name: "overload", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 20000))],
        nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "1ms"))])"#,
    );
    let mut s = Simulation::new(
        &m,
        RunConfig {
            max_in_flight: 10_000,
            ..RunConfig::default()
        },
    );
    let e = s.step_until(3600 * SEC).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("more than 10000 requests in flight"), "{msg}");
    assert!(msg.contains("`q`"), "{msg}");
    assert!(msg.contains("hint"), "{msg}");
    // It stopped early (after about 10,000 / 19,000 per second), and stays stopped.
    assert!(s.now() < 2 * SEC);
    assert!(s.step_until(3601 * SEC).is_err());
    assert!(s.report().stopped.is_some());
}

#[test]
fn the_event_budget_stops_a_long_run() {
    let mut s = Simulation::new(
        &model(TWO),
        RunConfig {
            max_events: 5_000,
            ..RunConfig::default()
        },
    );
    let e = s.step_until(3600 * SEC).unwrap_err();
    assert!(e.to_string().contains("budget of 5000 events"), "{e}");
    assert_eq!(s.events(), 5_000);
}

#[test]
fn time_series_windows_add_up() {
    let mut s = Simulation::new(
        &model(TWO),
        RunConfig {
            window: Duration(SEC),
            ..RunConfig::default()
        },
    );
    s.step_until(30 * SEC).unwrap();
    let windows: Vec<_> = s.series(0).records().copied().collect();
    assert_eq!(windows.len(), 30);
    let arrivals: u64 = windows.iter().map(|w| w.arrivals).sum();
    assert_eq!(arrivals, s.report().nodes["web"].arrivals);
    assert!(windows.iter().all(|w| (0.0..=1.0).contains(&w.utilization)));
    let mean_util = windows.iter().map(|w| w.utilization).sum::<f64>() / 30.0;
    assert!((mean_util - s.report().nodes["web"].utilization).abs() < 1e-9);
}

#[test]
fn the_bottleneck_timeline_follows_a_capacity_change() {
    // web (4 servers, 10 ms, 200 rps) is 50% busy and db (1 server, 4 ms,
    // 100 rps) 40%: web is the bottleneck. Slowing db 4x makes it 160%
    // loaded: it saturates and the bottleneck moves there.
    let mut s = sim(7);
    s.step_until(60 * SEC).unwrap();
    s.apply(Change::Slow {
        node: "db".into(),
        factor: 4.0,
    })
    .unwrap();
    s.step_until(120 * SEC).unwrap();
    let t = s.report().bottleneck_timeline;
    let names: Vec<&str> = t.iter().map(|p| p.node.as_str()).collect();
    assert_eq!(names, vec!["web", "db"], "{t:?}");
    assert!((t[0].to_s - 60.0).abs() <= 2.0, "{t:?}");
    assert!(t[1].utilization > 0.6, "{t:?}");
}
