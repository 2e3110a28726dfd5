//! Session users (closed-loop users walking tasks, Locust-style): the
//! interactive response-time law, the classes in the tasks' proportions,
//! the failure policies, the traffic multiplier, what a user sees when a
//! file is wrong, and the bundled example.

use crate::common::model;
use bottleneck::report::Report;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};
use bottleneck::topology;
use proptest::prelude::*;

/// A session source of `users` walking `tasks` into one station.
fn shop(users: u32, think: &str, tasks: &str, extra: &str, station: &str) -> String {
    format!(
        r#"Topology(name: "sessions", sources: [
            Source(id: "u", to: "web", arrivals: Closed(users: {users}, think: {think},
                   tasks: [{tasks}]{extra}))],
           nodes: [{station}])"#
    )
}

const THREE_ONE_ONE: &str =
    r#"Task(class: "browse", repeat: 3), Task(class: "cart"), Task(class: "order")"#;

fn run(text: &str, secs: f64, change: Option<(f64, Change)>) -> (Simulation, Report) {
    let mut s = Simulation::new(&model(text), RunConfig::default());
    let end = (secs * 1e9) as u64;
    if let Some((at, c)) = change {
        s.step_until((at * 1e9) as u64).unwrap();
        s.apply(c).unwrap();
    }
    s.step_until(end).unwrap();
    let r = s.report();
    (s, r)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The interactive response-time law, X = N / (R + Z), over random
    /// users, think times, service times and servers, with the measured
    /// mean response time R. It is Little's law on the closed loop, so it
    /// holds up to what the finite run leaves: the realised mean think time
    /// differs from Z by about 1/sqrt(C) (exponential, C requests) and up
    /// to N users are mid-cycle at either end. Tolerance: 3/sqrt(C) + 2N/C
    /// (about 2.3% for C = 20,000).
    #[test]
    fn throughput_obeys_the_response_time_law(
        n in 1u32..40,
        z_ms in 20u64..2_000,
        s_ms in 1u64..50,
        servers in 1u32..4,
    ) {
        let text = shop(
            n,
            &format!("Exponential(mean: \"{z_ms}ms\")"),
            THREE_ONE_ONE,
            "",
            &format!(r#"Station(id: "web", servers: {servers}, service: Exponential(mean: "{s_ms}ms"))"#),
        );
        let (z, s) = (z_ms as f64 / 1e3, s_ms as f64 / 1e3);
        // Long enough for about 20,000 answers at the bound on throughput.
        let x_bound = (n as f64 / (z + s)).min(servers as f64 / s);
        let c = 20_000.0;
        let (_, r) = run(&text, c / x_bound, None);
        let e = &r.end_to_end;
        prop_assert_eq!(e.dropped, 0);
        let rt = e.mean_ms.unwrap() / 1e3;
        let law = n as f64 / (rt + z);
        let tol = 3.0 / (e.completed as f64).sqrt() + 2.0 * n as f64 / e.completed as f64;
        let off = (e.throughput_rps / law - 1.0).abs();
        prop_assert!(
            off < tol,
            "N {} Z {}s S {}s c {}: X {} vs N/(R+Z) {} (R {}s), off {:.4} > {:.4}",
            n, z, s, servers, e.throughput_rps, law, rt, off, tol
        );
    }
}

#[test]
fn classes_follow_the_tasks_and_every_session_is_accounted_for() {
    let n = 25;
    let text = shop(
        n,
        r#"Exponential(mean: "200ms")"#,
        THREE_ONE_ONE,
        "",
        r#"Station(id: "web", servers: 2, service: Exponential(mean: "5ms"))"#,
    );
    let (sim, r) = run(&text, 300.0, None);
    let (b, c, o) = (
        r.classes["browse"].arrivals,
        r.classes["cart"].arrivals,
        r.classes["order"].arrivals,
    );
    // Per user, browse is 3k..3k+3 and cart, order k..k+1 after k sessions.
    assert!(o > 5_000, "{o} orders");
    assert!(
        b >= 3 * o && b - 3 * o <= 3 * n as u64,
        "browse {b}, order {o}"
    );
    assert!(c >= o && c - o <= n as u64, "cart {c}, order {o}");
    let st = &r.sessions["u"];
    // No failures: a session completes exactly when its order is answered.
    assert_eq!(st.completed, r.classes["order"].completed);
    assert_eq!((st.abandoned, st.with_failures, st.left), (0, 0, 0));
    // Conservation: begun = ended + under way, counted independently.
    let run = sim.session_stats(0).unwrap();
    assert_eq!(st.in_progress, run.in_session());
    assert_eq!(
        st.started,
        st.completed + st.abandoned + st.with_failures + st.left + run.in_session()
    );
    assert_eq!(st.users, n as u64);
    // A session is five answers and four think times (mean 0.8 s).
    let mean_s = st.mean_ms.unwrap() / 1e3;
    assert!((0.75..1.0).contains(&mean_s), "mean session {mean_s}s");
    // The table says it.
    assert!(
        r.to_table().contains("sessions `u`: 25 users"),
        "{}",
        r.to_table()
    );
}

/// A station that drops: one server, no queue.
const DROPPY: &str =
    r#"Station(id: "web", servers: 1, queue: 0, service: Exponential(mean: "20ms"))"#;

#[test]
fn a_failure_abandons_the_session_or_not_as_asked() {
    let n = 20;
    let think = r#"Exponential(mean: "100ms")"#;
    let (sim, r) = run(&shop(n, think, THREE_ONE_ONE, "", DROPPY), 200.0, None);
    let st = &r.sessions["u"];
    assert!(r.end_to_end.dropped > 1_000, "{:?}", r.end_to_end);
    assert!(st.abandoned > 500 && st.tasks_abandoned > st.abandoned);
    assert_eq!(st.with_failures, 0);
    // Every request of a begun session was sent, not sent, or is still to come.
    let sent = r.end_to_end.arrivals;
    let ended = st.completed + st.abandoned;
    let open = sim.session_stats(0).unwrap().in_session();
    assert_eq!(st.started, ended + open);
    let accounted = sent + st.tasks_abandoned;
    assert!(
        accounted >= 5 * ended && accounted <= 5 * (ended + open),
        "{sent} sent + {} not sent for {ended} ended and {open} open sessions",
        st.tasks_abandoned
    );
    // Abandoning skews the mix towards browsing.
    assert!(r.classes["browse"].arrivals > 3 * r.classes["order"].arrivals + 3 * n as u64);

    let (_, r) = run(
        &shop(n, think, THREE_ONE_ONE, ", on_failure: Continue", DROPPY),
        200.0,
        None,
    );
    let st = &r.sessions["u"];
    assert_eq!((st.abandoned, st.tasks_abandoned), (0, 0));
    assert!(st.with_failures > 500 && st.completed > 0);
    let (b, o) = (r.classes["browse"].arrivals, r.classes["order"].arrivals);
    assert!(
        b >= 3 * o && b - 3 * o <= 3 * n as u64,
        "browse {b}, order {o}"
    );
}

#[test]
fn once_each_user_walks_one_session_and_leaves() {
    let text = shop(
        50,
        r#"Constant("100ms")"#,
        r#"Task(class: "a", repeat: 2), Task(class: "b", key: User)"#,
        ", sessions: Once",
        r#"Station(id: "web", servers: 64, service: Constant("1ms"))"#,
    );
    let (sim, r) = run(&text, 60.0, None);
    let st = &r.sessions["u"];
    assert_eq!((st.started, st.completed, st.users), (50, 50, 0));
    assert_eq!(r.end_to_end.arrivals, 150);
    assert_eq!(sim.session_stats(0).unwrap().in_session(), 0);
    // Three requests of 1 ms (no queue: a server each) and two think
    // times of 100 ms between them.
    assert!((st.p50_ms.unwrap() - 203.0).abs() < 1.5, "{:?}", st.p50_ms);
}

#[test]
fn the_traffic_multiplier_adds_and_removes_users() {
    let text = shop(
        20,
        r#"Exponential(mean: "100ms")"#,
        THREE_ONE_ONE,
        "",
        r#"Station(id: "web", servers: 8, service: Exponential(mean: "2ms"))"#,
    );
    let mut s = Simulation::new(&model(&text), RunConfig::default());
    s.step_until(30 * SEC).unwrap();
    s.apply(Change::Traffic(0.5)).unwrap();
    s.step_until(60 * SEC).unwrap();
    let half = s.report();
    assert_eq!(half.sessions["u"].users, 10);
    assert!(half.sessions["u"].left > 0 && half.sessions["u"].left <= 10);
    s.apply(Change::Traffic(3.0)).unwrap();
    s.step_until(90 * SEC).unwrap();
    let r = s.report();
    assert_eq!(r.sessions["u"].users, 60);
    // Throughput follows the users: N / (R + Z) with Z = 0.1 s.
    let w = s.series_report();
    let last: u64 = w
        .end_to_end
        .iter()
        .rev()
        .take(10)
        .map(|x| x.completed)
        .sum();
    let x = last as f64 / 10.0;
    assert!(
        (x / (60.0 / 0.102) - 1.0).abs() < 0.1,
        "{x} rps with 60 users"
    );
    // And back down to nothing: everyone leaves at their next turn.
    s.apply(Change::Traffic(0.0)).unwrap();
    s.step_until(100 * SEC).unwrap();
    assert_eq!(s.report().sessions["u"].users, 0);
    assert_eq!(s.in_flight(), 0);
}

fn errors(text: &str) -> String {
    match topology::load("bad.ron", text.as_bytes()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(d) => d.to_string(),
    }
}

#[test]
fn bad_sessions_are_explained_with_a_place() {
    let app = r#"App(id: "web", workers: 4, service: Constant("1ms"),
                handle: {"browse": [], "cart": [], "order": []})"#;
    let e = errors(&shop(
        5,
        r#"Constant("1s")"#,
        r#"Task(class: "browse"), Task(class: "ordr")"#,
        "",
        app,
    ));
    assert!(
        e.contains("task 2 names class `ordr`, which no app handles"),
        "{e}"
    );
    assert!(e.contains("did you mean `order`?"), "{e}");
    assert!(e.contains("bad.ron:3:"), "the class's line: {e}");
    let e = errors(&shop(0, r#"Constant("1s")"#, THREE_ONE_ONE, "", app));
    assert!(e.contains("`users` is 0"), "{e}");
    let e = errors(&shop(
        2_000_000,
        r#"Constant("1s")"#,
        THREE_ONE_ONE,
        "",
        app,
    ));
    assert!(e.contains("`users` is 2000000; give 1 to 1000000"), "{e}");
    let e = errors(&shop(5, r#"Constant("1s")"#, "", "", app));
    assert!(e.contains("`tasks` is empty") && e.contains("hint"), "{e}");
    let e = errors(&shop(
        5,
        r#"Constant("1s")"#,
        r#"Task(class: "cart", key: Previous)"#,
        "",
        app,
    ));
    assert!(e.contains("first request has no previous one"), "{e}");
    let e = errors(&shop(
        5,
        r#"Constant("1s")"#,
        r#"Task(class: "cart", repeat: 0, key: User, keys: Uniform(keys: 10))"#,
        "",
        app,
    ));
    assert!(
        e.contains("`repeat` is 0") && e.contains("both `keys` and `key`"),
        "{e}"
    );
    let e = errors(&shop(
        5,
        r#"Constant("1s")"#,
        r#"Task(clas: "cart")"#,
        "",
        app,
    ));
    assert!(e.contains("class"), "{e}");
    let mixed = shop(5, r#"Constant("1s")"#, THREE_ONE_ONE, "", app)
        .replace("))],", "), mix: {\"browse\": 1.0}, ips: 10)],");
    let e = errors(&mixed);
    assert!(e.contains("no `mix`") && e.contains("no `ips`"), "{e}");
}

#[test]
fn a_million_users_are_estimated_before_they_run() {
    let text = shop(
        1_000_000,
        r#"Exponential(mean: "10s")"#,
        THREE_ONE_ONE,
        "",
        r#"Station(id: "web", servers: 1000, service: Exponential(mean: "5ms"))"#,
    );
    let m = model(&text);
    let run = bottleneck::budget::Run::plain(60 * SEC, SEC);
    let est = bottleneck::budget::estimate(&m, &run);
    let part = est
        .memory_parts
        .iter()
        .find(|p| p.0.contains("session users"))
        .expect("the users' memory is estimated");
    assert!(part.1 >= 32e6, "{part:?}");
    // The response-time law bounds the requests: 1e6 / 10 s for 60 s.
    assert!((est.requests / 6e6 - 1.0).abs() < 0.05, "{}", est.requests);
}

#[test]
fn the_bundled_example_runs_and_keeps_its_promises() {
    let text = std::fs::read_to_string("topologies/shop-sessions.ron").unwrap();
    let mut s = Simulation::new(
        &model(&text),
        RunConfig {
            warmup: Duration(20 * SEC),
            ..RunConfig::default()
        },
    );
    s.step_until(140 * SEC).unwrap();
    let r = s.report();
    let st = &r.sessions["shoppers"];
    assert!(st.completion_ratio > 0.9, "{st:?}");
    let e = &r.end_to_end;
    let law = 300.0 / (e.mean_ms.unwrap() / 1e3 + 1.0);
    assert!(
        (e.throughput_rps / law - 1.0).abs() < 0.03,
        "{} vs {law}",
        e.throughput_rps
    );
    let json = r.to_json();
    assert!(json.contains("\"sessions\": {") && json.contains("\"tasks_abandoned\""));
}
