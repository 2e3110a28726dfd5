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

// ---- Weighted task choice and nested task sets (Locust's `@task(weight)`,
// nested `TaskSet`, `interrupt()`), and the per-window session series.

/// A station that never queues for long and never drops.
const ROOMY: &str = r#"Station(id: "web", servers: 256, service: Constant("1ms"))"#;

/// `x` is within `k` binomial standard deviations (and one count) of `n p`.
fn binomial_close(x: u64, n: u64, p: f64, k: f64) -> bool {
    let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
    (x as f64 - mean).abs() <= k * sd + 1.0
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 12,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5e55),
        ..ProptestConfig::default()
    })]

    /// Each step picks a task with probability weight / sum: the classes'
    /// request counts are binomial around those shares (5 sd). The picks
    /// come from each user's own stream, so the run is the same every time.
    #[test]
    fn weighted_picks_follow_the_weights(
        weights in proptest::collection::vec(1u32..10, 2..5),
        users in 5u32..40,
    ) {
        let tasks: Vec<String> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| format!(r#"Task(class: "c{i}", weight: {w})"#))
            .collect();
        let text = shop(
            users,
            r#"Exponential(mean: "50ms")"#,
            &tasks.join(", "),
            ", order: Weighted, interrupt: After(7)",
            ROOMY,
        );
        let (sim, r) = run(&text, 60.0, None);
        let total = r.end_to_end.arrivals;
        prop_assert!(total > 5_000, "{} requests", total);
        let sum: u32 = weights.iter().sum();
        for (i, w) in weights.iter().enumerate() {
            let got = r.classes[&format!("c{i}")].arrivals;
            let p = *w as f64 / sum as f64;
            prop_assert!(binomial_close(got, total, p, 5.0), "class c{i}: {got} of {total}, share {p}");
        }
        // A session is 7 picks: sessions completed x 7 <= requests.
        let st = &r.sessions["u"];
        prop_assert!(st.completed * 7 <= total && total <= (st.started) * 7);
        // Deterministic: the same text gives the same report.
        let (_, again) = run(&text, 60.0, None);
        prop_assert_eq!(r.to_json(), again.to_json());
        let picks = sim.session_stats(0).unwrap().stats.sets[0].tasks;
        prop_assert!(picks <= total && total - picks <= users as u64, "{} picks, {} sent", picks, total);
    }

    /// The interactive response-time law holds for weighted sessions with a
    /// nested set as it does for sequences (see the law's test above).
    #[test]
    fn weighted_sessions_obey_the_response_time_law(
        n in 2u32..30,
        z_ms in 50u64..1_000,
        s_ms in 1u64..20,
    ) {
        let tasks = r#"Task(class: "a", weight: 3), Task(class: "b", repeat: 2),
            Set(weight: 2, order: Weighted, interrupt: Chance(0.4),
                tasks: [Task(class: "a"), Task(class: "b", weight: 4)])"#;
        let text = shop(
            n,
            &format!("Exponential(mean: \"{z_ms}ms\")"),
            tasks,
            ", order: Weighted, interrupt: After(5)",
            &format!(r#"Station(id: "web", servers: 2, service: Exponential(mean: "{s_ms}ms"))"#),
        );
        let (z, s) = (z_ms as f64 / 1e3, s_ms as f64 / 1e3);
        let x_bound = (n as f64 / (z + s)).min(2.0 / s);
        let c = 20_000.0;
        let (_, r) = run(&text, c / x_bound, None);
        let e = &r.end_to_end;
        prop_assert_eq!(e.dropped, 0);
        let rt = e.mean_ms.unwrap() / 1e3;
        let law = n as f64 / (rt + z);
        let tol = 3.0 / (e.completed as f64).sqrt() + 2.0 * n as f64 / e.completed as f64;
        let off = (e.throughput_rps / law - 1.0).abs();
        prop_assert!(off < tol, "X {} vs N/(R+Z) {}, off {:.4} > {:.4}", e.throughput_rps, law, off, tol);
    }
}

#[test]
fn nested_sets_are_entered_and_left_by_their_rule() {
    let users = 30;
    // Weighted session of 12 picks: browse (5), a cart set left after 3
    // of its tasks (2), and a checkout set left by chance 0.25 after each
    // (1), which holds a sequence walked once.
    let tasks = r#"Task(class: "browse", weight: 5),
        Set(weight: 2, order: Weighted, interrupt: After(3),
            tasks: [Task(class: "cart", weight: 2, key: Previous), Task(class: "browse")]),
        Set(weight: 1, order: Weighted, interrupt: Chance(0.25),
            tasks: [Task(class: "order", key: User),
                    Set(tasks: [Task(class: "pay"), Task(class: "confirm", repeat: 2)])])"#;
    let text = shop(
        users,
        r#"Exponential(mean: "20ms")"#,
        tasks,
        ", order: Weighted, interrupt: After(12), on_failure: Continue",
        ROOMY,
    );
    let (sim, r) = run(&text, 120.0, None);
    let st = &r.sessions["u"];
    let sets = &sim.session_stats(0).unwrap().stats.sets;
    assert_eq!(sets.len(), 4, "the session's list and three sets");
    assert_eq!(
        st.sets.iter().map(|s| s.at.as_str()).collect::<Vec<_>>(),
        ["2", "3", "3.2"]
    );
    let inside = users as u64; // at most one visit per user is open at the end
    for (i, s) in sets.iter().enumerate() {
        assert_eq!(s.cut, 0, "set {i}: nothing ends early with Continue");
        assert!(
            s.left <= s.entered && s.entered <= s.left + inside,
            "set {i}: {s:?}"
        );
    }
    // The session's own list: 12 picks a session.
    let root = sets[0];
    assert_eq!(root.entered, st.started);
    assert_eq!(root.left, st.completed);
    assert!(12 * root.left <= root.tasks && root.tasks <= 12 * root.left + 11 * inside);
    // The picks of the session's list follow its weights 5:2:1; every
    // entry of a set is one pick of it.
    let picks = root.tasks;
    assert!(
        binomial_close(sets[1].entered, picks, 2.0 / 8.0, 5.0),
        "{sets:?}"
    );
    assert!(
        binomial_close(sets[2].entered, picks, 1.0 / 8.0, 5.0),
        "{sets:?}"
    );
    // After(3): three tasks a visit, exactly, for every visit left.
    let cart = sets[1];
    assert!(3 * cart.left <= cart.tasks && cart.tasks <= 3 * cart.left + 2 * inside);
    assert_eq!(
        st.sets[0].tasks_per_visit,
        Some(cart.tasks as f64 / cart.left as f64)
    );
    // Chance(0.25): each task of the set is followed by leaving with
    // probability 1/4.
    let checkout = sets[2];
    assert!(checkout.tasks > 2_000, "{checkout:?}");
    assert!(
        binomial_close(checkout.left, checkout.tasks, 0.25, 5.0),
        "{checkout:?}"
    );
    // The inner sequence is walked once a visit (pay, then confirm twice),
    // and is one task of the checkout set.
    let seq = sets[3];
    assert!(2 * seq.left <= seq.tasks && seq.tasks <= 2 * seq.left + inside);
    // Entered at the end of the task before, sent after a think time.
    let pay = r.classes["pay"].arrivals;
    assert!(pay <= seq.entered && seq.entered <= pay + inside);
    let confirms = r.classes["confirm"].arrivals;
    assert!(2 * seq.left <= confirms && confirms <= 2 * seq.entered);
    // The table names the sets.
    assert!(
        r.to_table().contains("set at task 3.2: entered"),
        "{}",
        r.to_table()
    );
    // Conservation as before.
    let run = sim.session_stats(0).unwrap();
    assert_eq!(
        st.started,
        st.completed + st.abandoned + st.with_failures + st.left + run.in_session()
    );
}

#[test]
fn an_abandoned_session_cuts_the_sets_it_is_inside() {
    let tasks = r#"Task(class: "browse"),
        Set(tasks: [Task(class: "cart", repeat: 2), Task(class: "order")])"#;
    let (sim, r) = run(
        &shop(20, r#"Exponential(mean: "100ms")"#, tasks, "", DROPPY),
        200.0,
        None,
    );
    let st = &r.sessions["u"];
    let set = sim.session_stats(0).unwrap().stats.sets[1];
    assert!(st.abandoned > 500 && set.cut > 100, "{st:?} {set:?}");
    assert!(set.entered >= set.left + set.cut && set.entered <= set.left + set.cut + 20);
    // Every request of a begun session was sent, not sent (counted as
    // abandoned), or is still to come: 4 a session, as for a flat list.
    let ended = st.completed + st.abandoned;
    let open = sim.session_stats(0).unwrap().in_session();
    let accounted = r.end_to_end.arrivals + st.tasks_abandoned;
    assert!(accounted >= 4 * ended && accounted <= 4 * (ended + open));
}

#[test]
fn bad_weights_and_sets_are_explained_with_a_place() {
    let app = r#"App(id: "web", workers: 4, service: Constant("1ms"),
                handle: {"browse": [], "cart": [], "order": []})"#;
    let e = errors(&shop(
        5,
        r#"Constant("1s")"#,
        "Task(class: \"browse\", weight: 0),\n Task(class: \"cart\", weight: 2)",
        ", order: Weighted, interrupt: After(3)",
        app,
    ));
    assert!(e.contains("task 1: `weight` is 0"), "{e}");
    assert!(e.contains("bad.ron:3:"), "the class's line: {e}");
    let e = errors(&shop(
        5,
        r#"Constant("1s")"#,
        r#"Task(class: "browse", weight: 2), Task(class: "cart")"#,
        "",
        app,
    ));
    assert!(
        e.contains("task 1 has a `weight`") && e.contains("order: Weighted"),
        "{e}"
    );
    let e = errors(&shop(
        5,
        r#"Constant("1s")"#,
        r#"Task(class: "browse"), Task(class: "cart")"#,
        ", order: Weighted",
        app,
    ));
    assert!(
        e.contains("never interrupted") && e.contains("After(10)"),
        "{e}"
    );
    let e = errors(&shop(
        5,
        r#"Constant("1s")"#,
        r#"Task(class: "browse"), Set(tasks: []),
           Set(order: Weighted, interrupt: Chance(1.5), tasks: [Task(class: "cart")]),
           Set(interrupt: After(0), tasks: [Task(class: "ordr")])"#,
        "",
        app,
    ));
    assert!(e.contains("task 2 is a set with no tasks"), "{e}");
    assert!(e.contains("the set at task 3: `Chance(1.5)`"), "{e}");
    assert!(e.contains("the set at task 4: `After(0)`"), "{e}");
    assert!(
        e.contains("task 4.1 names class `ordr`") && e.contains("did you mean `order`?"),
        "{e}"
    );
    let deep = r#"Set(tasks: [Set(tasks: [Set(tasks: [Set(tasks: [Task(class: "cart")])])])])"#;
    let e = errors(&shop(5, r#"Constant("1s")"#, deep, "", app));
    assert!(
        e.contains("task 1.1.1.1: sets nested 4 deep, over the limit of 3"),
        "{e}"
    );
    // A weighted pick may come first, so `key: Previous` is allowed there.
    let ok = shop(
        5,
        r#"Constant("1s")"#,
        r#"Task(class: "cart", key: Previous), Task(class: "browse"), Task(class: "order")"#,
        ", order: Weighted, interrupt: Chance(0.5)",
        app,
    );
    assert!(topology::load("ok.ron", ok.as_bytes()).is_ok());
}

#[test]
fn session_windows_add_up_and_reach_the_series() {
    let mut s = Simulation::new(
        &model(&shop(
            20,
            r#"Exponential(mean: "100ms")"#,
            THREE_ONE_ONE,
            "",
            DROPPY,
        )),
        RunConfig::default(),
    );
    s.step_until(30 * SEC).unwrap();
    s.apply(Change::Traffic(0.5)).unwrap();
    s.step_until(60 * SEC).unwrap();
    let series = s.series_report();
    let (id, windows) = &series.sessions[0];
    assert_eq!(id, "u");
    assert!(windows.len() >= 59, "{} windows", windows.len());
    let mut prev = 0;
    let (mut started, mut abandoned, mut left) = (0, 0, 0);
    for w in windows {
        assert_eq!(
            w.started + prev,
            w.completed + w.abandoned + w.with_failures + w.left + w.in_progress,
            "window at {}s: {w:?}",
            w.t_s
        );
        assert_eq!(w.p50_ms.is_some(), w.completed > 0);
        prev = w.in_progress;
        started += w.started;
        abandoned += w.abandoned;
        left += w.left;
    }
    // With no warm-up the windows hold every session the report counts
    // (up to the open window).
    let r = s.report();
    let st = &r.sessions["u"];
    assert!(started <= st.started && st.started - started <= 20);
    assert!(abandoned <= st.abandoned && abandoned > 100);
    assert!(
        left > 0 && left <= 10,
        "users left when traffic halved: {left}"
    );
    // In the JSON and the CSV.
    let json = serde_json::to_value(&series).unwrap();
    assert!(
        json["sessions"][0][1][3]["in_progress"].is_u64(),
        "{}",
        json["sessions"]
    );
    let csv = series.to_csv();
    assert_eq!(
        csv.lines().filter(|l| l.starts_with("session,u,")).count(),
        windows.len()
    );
}

#[test]
fn session_thresholds_judge_a_window_by_the_sessions_begun_in_it() {
    use bottleneck::scenario;
    let m = model(&shop(
        20,
        r#"Exponential(mean: "100ms")"#,
        THREE_ONE_ONE,
        "",
        ROOMY,
    ));
    let text = r#"Scenario(name: "w", topology: "w.ron", duration: "30s", warmup: "0s",
        thresholds: ["sessions_completed{source:u} > 0",
                     "sessions_completed{source:u} > 0 during 10s..20s",
                     "session_completion{source:u} > 0.99 during 10s..20s"])"#;
    let s = scenario::parse_str("w.scenario.ron", text).unwrap();
    let o = scenario::run(&s.plan(&m).unwrap(), &m, 1, false);
    let v: Vec<f64> = o.values.iter().map(|v| v.unwrap()).collect();
    // Sessions begin at a steady pace: a third of them in the middle 10 s.
    assert!(v[0] > 1_000.0, "{v:?}");
    assert!((v[1] / v[0] - 1.0 / 3.0).abs() < 0.03, "{v:?}");
    // Every session begun in the window that ended completed: the ones its
    // 20 users were still walking when the run closed are not judged (the
    // run settles requests, not sessions).
    assert_eq!(v[2], 1.0, "{v:?}");
}
