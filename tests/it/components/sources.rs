//! Sources: closed-loop users.

use super::*;

#[test]
fn closed_loop_users_follow_the_response_time_law() {
    // N users, think Z: throughput X = N / (R + Z) (the interactive
    // response time law, Little's law over the whole loop).
    for users in [20u32, 200] {
        let t = format!(
            r#"Topology(name: "closed", sources: [Source(id: "u", to: "q", arrivals: Closed(users: {users}, think: Exponential(mean: "100ms")))],
            nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "1ms"))])"#
        );
        let config = RunConfig {
            seed: 33,
            warmup: Duration(10 * SEC),
            ..RunConfig::default()
        };
        let mut s = Simulation::new(&model(&t), config);
        s.step_until(210 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let e = &r.end_to_end;
        let law = users as f64 / (e.mean_ms.unwrap() / 1e3 + 0.1);
        assert!(
            (e.throughput_rps - law).abs() < 0.02 * law,
            "{users} users: X {} vs N/(R+Z) {law}",
            e.throughput_rps
        );
        // Never more users in the system than there are.
        assert!(e.mean_in_system <= users as f64);
        if users == 200 {
            // Saturated: throughput pinned at the server's 1000/s, the rest waits.
            assert!(
                e.throughput_rps > 950.0 && e.mean_ms.unwrap() > 50.0,
                "{e:?}"
            );
        }
    }
    // The traffic multiplier scales the number of users.
    let x = |m: f64| {
        let mut s = sim(include_str!("../../../topologies/closed-loop.ron"), 34);
        s.apply(Change::Traffic(m)).unwrap();
        s.step_until(30 * SEC).unwrap();
        s.report().end_to_end.throughput_rps
    };
    let (one, three) = (x(1.0), x(3.0));
    assert!(
        (three / one - 3.0).abs() < 0.3,
        "x3 users: {three} rps against {one}"
    );
}
