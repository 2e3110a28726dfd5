//! Rate profiles: arrivals follow the profile's integral.

use crate::common::model;
use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::SEC;

/// Arrivals per window of `w` seconds over `secs`.
fn arrivals(profile: &str, rps: f64, secs: u64) -> Vec<u64> {
    let m = model(&format!(
        r#"Topology(name: "p", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: {rps}), profile: {profile})],
        nodes: [Station(id: "q", servers: 1000, service: Constant("1us"))])"#
    ));
    let mut s = Simulation::new(
        &m,
        RunConfig {
            seed: 4,
            ..RunConfig::default()
        },
    );
    s.step_until(secs * SEC).unwrap();
    s.series(0).records().map(|w| w.arrivals).collect()
}

/// A Poisson count with mean `mu` is within 5 standard deviations.
fn poisson_ok(n: u64, mu: f64) -> bool {
    (n as f64 - mu).abs() <= 5.0 * mu.sqrt() + 1.0
}

#[test]
fn ramp_goes_linearly_then_holds() {
    let w = arrivals("Ramp(to: 3000.0, over: \"10s\")", 1000.0, 20);
    // Second k of the ramp has 1000 + 200 (k + 0.5) expected.
    for (k, &n) in w.iter().enumerate().take(10) {
        assert!(
            poisson_ok(n, 1000.0 + 200.0 * (k as f64 + 0.5)),
            "second {k}: {n}"
        );
    }
    for &n in &w[10..] {
        assert!(poisson_ok(n, 3000.0), "{n}");
    }
}

#[test]
fn spike_multiplies_for_its_span() {
    let w = arrivals("Spike(at: \"5s\", times: 11.0, for: \"3s\")", 500.0, 12);
    for (k, &n) in w.iter().enumerate() {
        let mu = if (5..8).contains(&k) { 5500.0 } else { 500.0 };
        assert!(poisson_ok(n, mu), "second {k}: {n} vs {mu}");
    }
}

#[test]
fn steps_including_silence() {
    let w = arrivals(
        "Steps([Step(at: \"2s\", rps: 0), Step(at: \"5s\", rps: 2000)])",
        800.0,
        8,
    );
    let expect = [800.0, 800.0, 0.0, 0.0, 0.0, 2000.0, 2000.0, 2000.0];
    for (k, (&n, &mu)) in w.iter().zip(&expect).enumerate() {
        assert!(poisson_ok(n, mu), "second {k}: {n} vs {mu}");
    }
}

#[test]
fn diurnal_follows_the_cosine() {
    // Period 20 s, from 0.2 x 1000 at t = 0 to 1000 at t = 10 s.
    let w = arrivals(
        "Diurnal(peak: 1.0, trough: 0.2, period: \"20s\")",
        1000.0,
        40,
    );
    for (k, &n) in w.iter().enumerate() {
        // Integral of the rate over second k.
        let f = |t: f64| {
            1000.0
                * (0.2 * t
                    + 0.8
                        * 0.5
                        * (t - 20.0 / (2.0 * std::f64::consts::PI)
                            * (2.0 * std::f64::consts::PI * t / 20.0).sin()))
        };
        let mu = f(k as f64 + 1.0) - f(k as f64);
        assert!(poisson_ok(n, mu), "second {k}: {n} vs {mu:.1}");
    }
}

#[test]
fn a_silent_source_schedules_nothing() {
    let w = arrivals("Constant", 0.0, 5);
    assert!(w.iter().all(|&n| n == 0));
}
