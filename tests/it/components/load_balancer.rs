//! Load balancer: policies, health checks, sinkholing.

use super::*;

fn backends(policy: &str, health: &str) -> String {
    backends_with(policy, health, "2500us")
}

fn backends_with(policy: &str, health: &str, mean: &str) -> String {
    format!(
        r#"Topology(name: "lb", sources: [Source(id: "u", to: "lb", arrivals: Poisson(rps: 600))],
        nodes: [
            LoadBalancer(id: "lb", policy: {policy}, to: ["a", "b", "c"] {health}),
            Station(id: "a", servers: 1, service: Exponential(mean: "{mean}")),
            Station(id: "b", servers: 1, service: Exponential(mean: "{mean}")),
            Station(id: "c", servers: 1, service: Exponential(mean: "{mean}")),
        ])"#
    )
}

#[test]
fn round_robin_is_even() {
    let mut s = sim(&backends("RoundRobin", ""), 1);
    s.step_until(30 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let sent = &r.nodes["lb"].load_balancer.as_ref().unwrap().sent;
    let (lo, hi) = (sent.iter().min().unwrap(), sent.iter().max().unwrap());
    assert!(hi - lo <= 1, "{sent:?}");
    assert_eq!(r.nodes["lb"].completed, sent.iter().sum::<u64>());
}

#[test]
fn a_dead_backend_gets_traffic_until_health_checks_catch_it() {
    // Checks every 2 s, out after 2 failures: `b` dies at 10 s, fails the
    // probes at 12 s and 14 s, and gets nothing from 14 s on.
    let with = backends(
        "RoundRobin",
        r#", health_check: HealthCheck(every: "2s", unhealthy_after: 2)"#,
    );
    let mut s = sim(&with, 2);
    s.step_until(10 * SEC).unwrap();
    s.apply(Change::Down("b".into())).unwrap();
    s.step_until(30 * SEC).unwrap();
    let b = s.model().node_index("b").unwrap();
    let per_second: Vec<u64> = s.series(b).records().map(|w| w.arrivals).collect();
    assert!(
        per_second[10..14].iter().all(|&n| n > 100),
        "{per_second:?}"
    );
    assert!(per_second[14..].iter().all(|&n| n == 0), "{per_second:?}");
    let r = s.report();
    check_books(&r);
    assert_eq!(
        r.nodes["lb"].load_balancer.as_ref().unwrap().healthy,
        vec![true, false, true]
    );
    // About a third of 4 s x 600 rps failed; nothing after.
    let failed = r.end_to_end.dropped as f64;
    assert!((failed - 800.0).abs() < 120.0, "{failed}");
    s.apply(Change::Up("b".into())).unwrap();
    s.step_until(34 * SEC).unwrap();
    assert!(
        s.report().nodes["lb"]
            .load_balancer
            .as_ref()
            .unwrap()
            .healthy[1]
    );

    // Without health checks the dead backend keeps its share for good.
    let mut s = sim(&backends("RoundRobin", ""), 2);
    s.step_until(10 * SEC).unwrap();
    s.apply(Change::Down("b".into())).unwrap();
    s.step_until(30 * SEC).unwrap();
    let per_second: Vec<u64> = s.series(b).records().map(|w| w.arrivals).collect();
    assert!(per_second[10..].iter().all(|&n| n > 150), "{per_second:?}");
}

#[test]
fn least_connections_sinkholes_into_a_fast_failing_backend() {
    // Each backend is 80% busy at an even share. `c` is dead and fails at
    // once, so it always has the fewest connections: it draws most requests.
    let share_c = |policy: &str| {
        let mut s = sim(&backends_with(policy, "", "4ms"), 3);
        s.apply(Change::Down("c".into())).unwrap();
        s.step_until(60 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let sent = &r.nodes["lb"].load_balancer.as_ref().unwrap().sent;
        (
            sent[2] as f64 / sent.iter().sum::<u64>() as f64,
            r.end_to_end.blocking,
        )
    };
    let (rr, rr_fail) = share_c("RoundRobin");
    let (lc, lc_fail) = share_c("LeastConnections");
    assert!((rr - 1.0 / 3.0).abs() < 0.01, "round robin share {rr}");
    // Half again its fair share, and as many more failed requests.
    assert!(lc > 1.4 / 3.0, "least connections share {lc}");
    assert!(
        lc_fail > 1.4 / 3.0 && rr_fail < 0.35,
        "failures: lc {lc_fail}, rr {rr_fail}"
    );
    // Power of two choices sinkholes too, less.
    let (p2, _) = share_c("PowerOfTwo");
    assert!(p2 > rr && p2 < lc, "power of two {p2}");
}
