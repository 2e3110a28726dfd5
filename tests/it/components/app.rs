//! App: retries, timeouts, budgets, breakers, hedging, load-dependent latency.

use super::*;

/// An app whose every request reads a database slower than the client waits.
const SLOW_DB: &str = r#"Topology(name: "retries", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 100),
        client: Client(timeout: "50ms", retries: Retries(max: 3, backoff: "10ms", jitter: None)))],
    nodes: [
        App(id: "app", workers: 10000, service: Constant("1ms"), handle: {"*": [Read(db: "db")]}),
        Database(id: "db", servers: 10000, read: Constant("100ms"), write: Constant("100ms")),
    ])"#;

#[test]
fn retries_multiply_load_and_timeouts_abandon_work() {
    // Every attempt takes 101 ms against a 50 ms timeout: each user request
    // makes 4 attempts and fails; the servers do all 4 anyway.
    let mut s = sim(SLOW_DB, 8);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let e = &r.end_to_end;
    assert_eq!(e.completed, 0);
    assert!((e.amplification - 4.0).abs() < 0.01, "{}", e.amplification);
    // Only the attempts of the last 50 ms (about 20) have not timed out yet.
    assert!(
        e.attempts - e.timed_out < 40,
        "{} attempts, {} timed out",
        e.attempts,
        e.timed_out
    );
    assert!(
        r.nodes["db"].completed as f64 > 3.9 * e.arrivals as f64 * 0.95,
        "the database did the abandoned work"
    );
    // With a timeout the work fits in, nothing is retried.
    let mut s = sim(&SLOW_DB.replace("\"50ms\"", "\"500ms\""), 8);
    s.step_until(60 * SEC).unwrap();
    let e = s.report().end_to_end;
    assert_eq!((e.retries, e.timed_out), (0, 0));
    assert_eq!(e.amplification, 1.0);
}

#[test]
fn injected_errors_are_retried() {
    // Half the database's answers fail. With 2 retries a request fails only
    // if all 3 attempts do: 1/8; it makes 1 + 1/2 + 1/4 attempts on average.
    let t = SLOW_DB
        .replace("\"50ms\"", "\"1s\"")
        .replace("read: Constant(\"100ms\")", "read: Constant(\"1ms\")")
        .replace("max: 3", "max: 2")
        .replace("rps: 100", "rps: 1000");
    let mut s = sim(&t, 9);
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 0.5,
    })
    .unwrap();
    s.step_until(100 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let e = &r.end_to_end;
    // 100k requests: se of the failure share is 0.001, of attempts 0.003.
    assert!((e.blocking - 0.125).abs() < 0.005, "{}", e.blocking);
    assert!(
        (e.amplification - 1.75).abs() < 0.015,
        "{}",
        e.amplification
    );
    assert!(r.nodes["db"].errors > 0 && r.nodes["app"].errors > 0);
    assert!(
        s.apply(Change::Errors {
            node: "db".into(),
            rate: 1.5
        })
        .is_err()
    );
}

#[test]
fn the_tail_at_scale_and_hedged_requests() {
    let text = include_str!("../../../topologies/tail-at-scale.ron");
    let run = |t: &str| {
        let mut s = sim(t, 13);
        s.step_until(300 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let plain = run(text);
    let e = &plain.end_to_end;
    // A search is slow when any of its 100 leaves is: 1 - 0.99^100 = 63.4%,
    // so the median search is a slow one. Mean: 0.634 x ~1.001 s plus
    // 0.366 x the max of 100 fast leaves (10 ms x H(100) = 52 ms) + 1 ms.
    let p_slow = 1.0 - 0.99f64.powi(100);
    let expect = p_slow * 1.001 + (1.0 - p_slow) * 0.053;
    assert!(e.p50_ms.unwrap() >= 1000.0, "{:?}", e.p50_ms);
    assert!(
        (e.mean_ms.unwrap() / 1e3 - expect).abs() < 0.03,
        "{:?} vs {expect}",
        e.mean_ms
    );
    assert_eq!(
        plain.nodes["leaves"].arrivals,
        100 * plain.nodes["frontend"].arrivals
    );

    let hedged = run(&text.replace("count: 100)", "count: 100, hedge_after: \"40ms\")"));
    let h = &hedged.end_to_end;
    assert!(
        h.p50_ms.unwrap() < 100.0 && h.mean_ms.unwrap() < 100.0,
        "{:?} {:?}",
        h.p50_ms,
        h.mean_ms
    );
    // The price: the copies. About 2.8 legs in 100 are still out at 40 ms.
    let extra = hedged.nodes["leaves"].arrivals as f64
        / (100.0 * hedged.nodes["frontend"].arrivals as f64)
        - 1.0;
    assert!(extra > 0.015 && extra < 0.045, "{extra}");
}

#[test]
fn a_retry_budget_caps_amplification() {
    // Every attempt times out; 3 retries would make 4 attempts each, but a
    // budget of 10% of first attempts allows about 0.1 retries per request.
    let t = SLOW_DB.replace("jitter: None)", "jitter: None, budget: 0.1)");
    let mut s = sim(&t, 15);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let a = r.end_to_end.amplification;
    assert!((a - 1.1).abs() < 0.02, "amplification {a}");
}

#[test]
fn a_circuit_breaker_fails_fast_during_an_outage_and_recovers() {
    let t = r#"Topology(name: "breaker", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 500),
            client: Client(timeout: "1s", retries: Retries(max: 2, backoff: "10ms"),
                           breaker: Breaker(failure_ratio: 0.5, window: "2s", min_requests: 20, open_for: "1s")))],
        nodes: [
            App(id: "app", workers: 1000, service: Constant("1ms"), handle: {"*": [Read(db: "db")]}),
            Database(id: "db", servers: 100, read: Constant("2ms"), write: Constant("2ms")),
        ])"#;
    let mut s = sim(t, 16);
    s.step_until(10 * SEC).unwrap();
    let before = s.report().end_to_end;
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 1.0,
    })
    .unwrap();
    s.step_until(20 * SEC).unwrap();
    let during = s.report().end_to_end;
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 0.0,
    })
    .unwrap();
    s.step_until(30 * SEC).unwrap();
    let after = s.report();
    check_books(&after);
    let after = after.end_to_end;
    let users = (during.arrivals - before.arrivals) as f64;
    let short = (during.short_circuited - before.short_circuited) as f64;
    let sent = (during.attempts - before.attempts) as f64;
    // The window still holds 2 s of successes when the outage starts, so it
    // takes about a second of failures to reach half; from then on it is
    // open, with one probe a second (each failing and re-opening it).
    assert!(short > 0.85 * users, "{short} of {users}");
    assert!(sent < 0.15 * users, "{sent} attempts for {users} requests");
    assert!(
        (9..=11).contains(&s.breaker_trips(0)),
        "{} trips",
        s.breaker_trips(0)
    );
    // Closed again after the first successful probe.
    let ok =
        (after.completed - during.completed) as f64 / (after.arrivals - during.arrivals) as f64;
    assert!(ok > 0.9, "{ok}");
}

#[test]
fn load_dependent_latency_grows_with_utilization() {
    // Constant 10 ms work on 10 workers; with load_factor 2 a request that
    // starts when u of the workers are busy takes 10 ms x (1 + 2u^2).
    let t = |rps: u32, factor: f64| {
        format!(
            r#"Topology(name: "gc", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: {rps}))],
            nodes: [App(id: "app", workers: 10, service: Constant("10ms"), load_factor: {factor})])"#
        )
    };
    let service = |rps: u32, factor: f64| {
        let mut s = sim(&t(rps, factor), 26);
        s.step_until(100 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let n = &r.nodes["app"];
        n.mean_sojourn_ms.unwrap() - n.mean_wait_ms.unwrap()
    };
    assert!((service(100, 0.0) - 10.0).abs() < 1e-6);
    // Nearly idle: hardly slower. Busy: much slower (and busier still).
    let light = service(20, 2.0);
    let heavy = service(600, 2.0);
    // At least 1 of 10 busy (itself): 10 ms x 1.02.
    assert!(light > 10.19 && light < 10.5, "{light}");
    assert!(heavy > 13.0, "{heavy}");
}

#[test]
fn apps_time_out_and_retry_their_own_calls() {
    // Every call takes 100 ms against the app's 50 ms timeout: each request
    // makes 3 calls (1 + 2 retries) and fails; the database does them all.
    let mut s = sim(APP_CALLS, 31);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let app = r.nodes["app"].app.as_ref().unwrap();
    let requests = r.nodes["app"].arrivals as f64;
    assert!(
        (r.nodes["db"].arrivals as f64 / requests - 3.0).abs() < 0.02,
        "{} calls for {requests}",
        r.nodes["db"].arrivals
    );
    assert!(
        (app.call_timeouts as f64 / requests - 3.0).abs() < 0.02,
        "{app:?}"
    );
    assert!(
        (app.call_retries as f64 / requests - 2.0).abs() < 0.02,
        "{app:?}"
    );
    assert_eq!(r.end_to_end.completed, 0);
    // A generous timeout: no retries, all good.
    let mut s = sim(&APP_CALLS.replace("\"50ms\"", "\"500ms\""), 31);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    let app = r.nodes["app"].app.as_ref().unwrap();
    assert_eq!((app.call_retries, app.call_timeouts), (0, 0));
    assert!(r.end_to_end.dropped == 0 && r.end_to_end.completed > 5000);
}

#[test]
fn an_app_breaker_stops_calling_a_failing_dependency() {
    let t = APP_CALLS
        .replace("timeout: \"50ms\", ", "")
        .replace("jitter: None)", "jitter: None), breaker: Breaker(failure_ratio: 0.5, window: \"2s\", min_requests: 20, open_for: \"1s\")")
        .replace("Constant(\"100ms\")", "Constant(\"2ms\")");
    let mut s = sim(&t, 32);
    s.step_until(10 * SEC).unwrap();
    let before = s.report();
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 1.0,
    })
    .unwrap();
    s.step_until(20 * SEC).unwrap();
    let during = s.report();
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 0.0,
    })
    .unwrap();
    s.step_until(30 * SEC).unwrap();
    let after = s.report();
    check_books(&after);
    let app = |r: &bottleneck::report::Report| r.nodes["app"].app.clone().unwrap();
    let calls = during.nodes["db"].arrivals - before.nodes["db"].arrivals;
    let users = during.end_to_end.arrivals - before.end_to_end.arrivals;
    let short = app(&during).call_short_circuited - app(&before).call_short_circuited;
    // Open for most of the outage: the database is spared most calls.
    assert!(
        (calls as f64) < 0.4 * users as f64,
        "{calls} calls for {users} requests"
    );
    assert!(short as f64 > 0.6 * users as f64, "{short}");
    assert!(app(&during).breaker_trips >= 5);
    let ok = (after.end_to_end.completed - during.end_to_end.completed) as f64
        / (after.end_to_end.arrivals - during.end_to_end.arrivals) as f64;
    assert!(ok > 0.9, "{ok}");
}

const APP_CALLS: &str = r#"Topology(name: "app calls", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 100))],
    nodes: [
        App(id: "app", workers: 10000, service: Constant("1ms"), handle: {"*": [Read(db: "db")]},
            calls: CallPolicy(timeout: "50ms", retries: Retries(max: 2, backoff: "10ms", jitter: None))),
        Database(id: "db", servers: 10000, read: Constant("100ms"), write: Constant("100ms")),
    ])"#;
