//! The sandbox's tests (plain Rust, no window).

use super::*;

const WEB: &str = r#"Topology(
    name: "web",
    sources: [Source(id: "users", to: "lb", arrivals: Poisson(rps: 400), mix: {"read": 0.9, "write": 0.1},
                     keys: Zipf(keys: 10_000, s: 1.0))],
    nodes: [
        LoadBalancer(id: "lb", policy: RoundRobin, to: ["app-1"]),
        App(id: "app-1", workers: 64, service: Constant("5ms"),
            handle: {"read": [Read(db: "db")], "write": [Write(db: "db")]}),
        Database(id: "db", servers: 2, read: Exponential(mean: "4ms"), write: Exponential(mean: "8ms")),
    ],
)"#;

fn clock() -> impl FnMut() -> f64 {
    let mut t = 0.0;
    move || {
        t += 0.001;
        t
    }
}

#[test]
fn runs_at_the_requested_speed() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.speed = 10.0;
    let mut c = clock();
    for _ in 0..30 {
        s.advance(1.0 / 60.0, 1.0, &mut c);
    }
    // 30 frames of 1/60 s at 10x: 5 simulated seconds (to the ns rounding).
    assert!(s.now().abs_diff(5 * SEC) < 1_000, "{}", s.now());
    assert!(s.achieved.value > 0.99);
    assert!(s.signals[2].utilization.value > 0.2, "the database works");
}

#[test]
fn the_frame_budget_holds_and_reports_the_shortfall() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.speed = 1e6;
    // A clock that says each chunk took 4 ms: with an 8 ms budget, a
    // frame runs at most a few chunks and the achieved speed drops.
    let mut t = 0.0;
    let mut c = move || {
        t += 0.004;
        t
    };
    let ran = s.advance(1.0 / 60.0, 0.008, &mut c);
    assert!(ran <= 2 * CHUNK as u64, "{ran} events");
    assert!(s.achieved.value < 0.5);
}

#[test]
fn simulated_time_not_reached_in_one_step_is_run_in_the_next() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.speed = 100.0;
    // The first step is cut short after one chunk (as when the
    // interface takes the lock): what it did not run, the next runs.
    let mut cut = || f64::INFINITY;
    s.advance(0.1, 0.0, &mut cut);
    assert!(s.now() < 9 * SEC, "{}", s.now());
    let mut c = clock();
    s.advance(0.1, 1.0, &mut c);
    assert!(s.now().abs_diff(20 * SEC) < 1_000, "{}", s.now());
    // The debt is bounded by MAX_CATCH_UP of wall time.
    s.advance(10.0, 0.0, &mut cut);
    s.advance(0.0, 1.0, &mut c);
    let most = (MAX_CATCH_UP * 100.0 * SEC as f64) as u64;
    assert!(s.now().abs_diff(20 * SEC + most) < 1_000, "{}", s.now());
}

#[test]
fn no_traffic_at_max_speed_returns_at_once() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.set_rps(0.0);
    s.speed = f64::INFINITY;
    let mut c = clock();
    // Drain what was scheduled before the change, then nothing is left.
    for _ in 0..10 {
        s.advance(0.016, 1.0, &mut c);
    }
    let mut calls = 0;
    let mut counting = || {
        calls += 1;
        0.0
    };
    assert_eq!(s.advance(0.016, 1.0, &mut counting), 0);
    assert_eq!(calls, 0, "no busy loop waiting for the budget");
}

#[test]
fn traffic_surges_and_ramps_come_back() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.speed = 100.0;
    s.surge(11.0, Duration(60 * SEC));
    assert!((s.rps() - 4400.0).abs() < 1e-6);
    let mut c = clock();
    while s.now() < 61 * SEC {
        s.advance(0.1, 1.0, &mut c);
    }
    assert!((s.rps() - 400.0).abs() < 1e-6, "back after the surge");
    s.ramp(3.0, Duration(10 * SEC));
    while s.now() < 75 * SEC {
        s.advance(0.1, 1.0, &mut c);
    }
    assert!((s.rps() - 1200.0).abs() < 1e-6);
    assert!(s.set_rps(100.0));
    assert!((s.rps() - 100.0).abs() < 1e-6);
}

#[test]
fn capacity_edits_undo() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.set_capacity(2, 5);
    assert_eq!(s.capacity(2), 5);
    s.set_capacity(1, 3);
    assert_eq!(s.capacity(1), 3, "apps scale by instances");
    s.undo();
    assert_eq!(s.capacity(1), 1);
    s.undo();
    assert_eq!(s.capacity(2), 2);
    s.undo();
    assert_eq!(s.status.as_ref().unwrap().0, "nothing to undo");
}

#[test]
fn the_bottleneck_moves_when_the_database_grows() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.speed = 1_000.0;
    s.set_rps(900.0);
    let mut c = clock();
    while s.now() < 30 * SEC {
        s.advance(0.01, 1.0, &mut c);
    }
    // The app's workers are saturated too, waiting on the database: the
    // bottleneck is the one downstream.
    assert!(s.signals[1].utilization.value > 0.95);
    assert_eq!(s.bottleneck().unwrap().0, 2, "{:?}", s.bottleneck());
    s.set_capacity(2, 16);
    while s.now() < 90 * SEC {
        s.advance(0.01, 1.0, &mut c);
    }
    assert!(s.signals[2].utilization.value < 0.5, "the database cooled");
    assert!(s.e2e.p99_ms.value < 50.0, "p99 {}", s.e2e.p99_ms.value);
}

#[test]
fn a_saved_session_replays_to_the_same_report() {
    let mut s = Sandbox::open("web.ron", WEB, 3).unwrap();
    s.speed = 100.0;
    let mut c = clock();
    for k in 0..40 {
        s.advance(0.05, 1.0, &mut c);
        if k == 10 {
            s.apply(Change::Down("db".into()));
        }
        if k == 20 {
            s.apply(Change::Up("db".into()));
            s.set_capacity(2, 4);
        }
    }
    let (scenario, topology) = s.session("web.ron");
    let sc = bottleneck::scenario::parse_str("s.ron", &scenario).unwrap();
    let m = topology::load_str("web.ron", &topology).unwrap().model;
    let plan = sc.plan(&m).unwrap();
    let o = bottleneck::scenario::run(&plan, &m, sc.seed, false);
    assert_eq!(o.report.to_json(), s.sim.report().to_json());
}

#[test]
fn structural_edits_keep_the_clock_and_the_state() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.speed = 100.0;
    let mut c = clock();
    while s.now() < 10 * SEC {
        s.advance(0.05, 1.0, &mut c);
    }
    let (t0, served) = (s.now(), s.sim.report().nodes.get("db").unwrap().completed);
    let (t, what) = crate::edits::add_app_server(&s.topology, "lb").unwrap();
    s.restructure(t, &what).unwrap();
    assert_eq!(s.now(), t0, "the clock goes on");
    assert!(
        s.sim.report().nodes.get("db").unwrap().completed >= served,
        "the database kept its counts"
    );
    assert_eq!(s.model.nodes.len(), 4);
    while s.now() < 20 * SEC {
        s.advance(0.05, 1.0, &mut c);
    }
    assert!(
        s.sim.live(3).busy > 0 || s.signals[3].arrivals.value > 0.0,
        "the new server takes work"
    );
    s.undo();
    assert!(s.sim.retired()[3], "undo removed it, live");
    assert_eq!(s.topology.nodes.len(), 3);
}

#[test]
fn a_fault_that_would_do_nothing_is_refused_with_the_engines_reason() {
    let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
    s.speed = 100.0;
    let mut c = clock();
    s.advance(0.05, 1.0, &mut c);
    let heal = Change::Heal {
        a: "app-1".into(),
        b: "db".into(),
    };
    let state = s.fault_state();
    let why = s.would_act(&state, &heal).unwrap_err();
    assert!(why.starts_with("would do nothing"), "{why}");
    let changes = s.sim.changes().len();
    assert!(
        !s.apply_fault(heal.clone()),
        "a heal with no cut is refused"
    );
    assert_eq!(s.sim.changes().len(), changes, "and nothing was applied");
    assert!(s.status.as_ref().is_some_and(|(m, bad)| *bad && m == &why));
    // Once cut, the heal acts; a second cut of the same pair would not.
    let cut = Change::Partition {
        a: "app-1".into(),
        b: "db".into(),
    };
    assert!(s.apply_fault(cut.clone()));
    s.advance(0.05, 1.0, &mut c);
    let state = s.fault_state();
    assert!(s.would_act(&state, &cut).is_err(), "already cut");
    assert!(s.would_act(&state, &heal).is_ok());
    assert!(s.apply_fault(heal));
    // `Up` on a node that is up does nothing.
    assert!(
        s.would_act(&s.fault_state(), &Change::Up("db".into()))
            .is_err()
    );
    assert!(s.apply_fault(Change::Down("db".into())));
}
