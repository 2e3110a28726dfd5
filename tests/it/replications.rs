//! Statistical honesty over replications: run-until-precision
//! (`check --precision`) and warm-up detection (`run --warmup auto`,
//! MSER-5), as JMT offers them.

use crate::common::{bottleneck, text};
use bottleneck::scenario::warmup::{BATCH, Mser, mser5};
use proptest::prelude::*;

const STAGE1: &str = "topologies/journey/01-single-server.scenario.ron";

fn verdict(args: &[&str]) -> serde_json::Value {
    let out = bottleneck(args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    v[0].clone()
}

#[test]
fn precision_adds_replications_until_every_interval_is_narrow_enough() {
    let v = verdict(&["check", STAGE1, "--precision", "5%", "--json", "-"]);
    let p = &v["precision"];
    assert_eq!(p["reached"], true, "{v}");
    assert!(p["widest"][1].as_f64().unwrap() <= 0.05);
    let n = v["seeds"].as_array().unwrap().len();
    assert!(n >= 3, "at least three replications give an interval: {n}");
    // Every measured row's interval is within 5% of its mean.
    for r in v["rows"].as_array().unwrap() {
        let m = &r["measured"];
        if let (Some(mean), Some(ci)) = (m["mean"].as_f64(), m["ci95"].as_f64()) {
            assert!(ci <= 0.05 * mean.abs() + 1e-12, "{r}");
        }
    }
}

#[test]
fn precision_not_reached_stops_at_the_cap_and_says_so() {
    let v = verdict(&[
        "check",
        STAGE1,
        "--precision",
        "0.01%",
        "--max-replications",
        "5",
        "--json",
        "-",
    ]);
    assert_eq!(v["precision"]["reached"], false, "{v}");
    assert_eq!(v["seeds"].as_array().unwrap().len(), 5);
    let out = bottleneck(&[
        "check",
        STAGE1,
        "--precision",
        "0.01%",
        "--max-replications",
        "5",
    ]);
    let t = text(&out.stdout);
    assert!(
        t.contains("precision ± 0.01%: NOT reached after 5 replications"),
        "{t}"
    );
}

#[test]
fn precision_gives_the_same_verdict_whatever_the_parallelism() {
    let a = bottleneck(&[
        "check",
        STAGE1,
        "--precision",
        "2%",
        "--json",
        "-",
        "--jobs",
        "1",
    ]);
    let b = bottleneck(&[
        "check",
        STAGE1,
        "--precision",
        "2%",
        "--json",
        "-",
        "--jobs",
        "2",
    ]);
    assert_eq!(text(&a.stdout), text(&b.stdout));
}

#[test]
fn bad_precision_is_refused_with_a_hint() {
    for bad in ["0", "100%", "abc", "-5%"] {
        let arg = format!("--precision={bad}");
        let out = bottleneck(&["check", STAGE1, &arg]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            text(&out.stderr).contains("e.g. 5%"),
            "{bad}: {}",
            text(&out.stderr)
        );
    }
}

/// `--warmup auto` on runs with no steady state: the audit's three.
#[test]
fn auto_warm_up_refuses_runs_that_are_not_steady() {
    let refused = |args: &[&str], says: &str| {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--warmup", "auto", "--quiet"]);
        let out = bottleneck(&all);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("hint:"), "{err}");
    };
    // Traffic that falls fivefold on purpose (the median hardly moves).
    refused(
        &["topologies/daily-cycle.ron", "--duration", "10m"],
        "source `visitors` has a Diurnal profile",
    );
    // A spike in the scenario's timeline.
    refused(
        &["--scenario", "topologies/sessions/shop.scenario.ron"],
        "changes on purpose",
    );
}

/// A collapse where little completes is not steady, even with no change
/// by design: the backlog grows (the median alone looked steady).
#[test]
fn auto_warm_up_refuses_a_collapse() {
    use bottleneck::scenario::warmup::{Judged, judge};
    // A retry storm's shape without the timeline: 3x overload, clients
    // that time out and retry at once.
    let m = bottleneck::topology::load_str(
        "storm.ron",
        r#"Topology(name: "storm",
        sources: [Source(id: "u", to: "api", arrivals: Poisson(rps: 300),
            client: Client(timeout: "500ms", retries: Retries(max: 3, backoff: "1ms")))],
        nodes: [Station(id: "api", servers: 10, service: Exponential(mean: "100ms"))])"#,
    )
    .unwrap()
    .model;
    let mut s = bottleneck::sim::Simulation::new(
        &m,
        bottleneck::sim::RunConfig {
            window: bottleneck::time::Duration(bottleneck::time::SEC),
            ..Default::default()
        },
    );
    s.step_until(200 * bottleneck::time::SEC).unwrap();
    let j = judge(&s.series_report());
    assert!(!matches!(j, Judged::Truncate { .. }), "{j:?}");
}

#[test]
fn auto_warm_up_finds_a_cold_cache_filling() {
    // A cache-aside stack starts with an empty cache: the median falls
    // while it fills, so MSER-5 drops the first stretch.
    let out = bottleneck(&[
        "run",
        "topologies/cache-aside.ron",
        "--warmup",
        "auto",
        "--duration",
        "300s",
        "--json",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("found by MSER-5"), "{err}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = r["warmup_s"].as_f64().expect("warmup_s in the report");
    assert!((10.0..=150.0).contains(&w), "warm-up {w}s");
}

#[test]
fn auto_warm_up_refuses_what_it_cannot_judge() {
    // Too few windows.
    let out = bottleneck(&[
        "run",
        "topologies/mm1.ron",
        "--warmup",
        "auto",
        "--duration",
        "20s",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("needs at least 50 windows"));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261203),
        ..ProptestConfig::default()
    })]

    /// A transient far larger than the noise is always cut (to within a
    /// batch), and the cut never passes half the output.
    #[test]
    fn mser5_cuts_a_large_transient(
        n in 50usize..400,
        transient in 0usize..20,
        noise in proptest::collection::vec(-1.0f64..1.0, 400),
        level in -1e3f64..1e3,
    ) {
        let obs: Vec<f64> = (0..n)
            .map(|i| level + noise[i] + if i < transient { 1e3 } else { 0.0 })
            .collect();
        match mser5(&obs) {
            Mser::Truncate { observations } => {
                prop_assert_eq!(observations % BATCH, 0);
                prop_assert!(observations <= n / 2);
                prop_assert!(observations + BATCH > transient, "cut {} of a {}-long transient", observations, transient);
            }
            // Pure noise may end at the bound by chance; only a transient
            // must always be cut.
            Mser::NotSteady => prop_assert!(transient == 0, "a transient read as not steady"),
            m => prop_assert!(false, "{:?}", m),
        }
    }

    /// Any output, however hostile, gives an answer and no panic.
    #[test]
    fn mser5_never_panics(obs in proptest::collection::vec(proptest::num::f64::ANY, 0..300)) {
        let _ = mser5(&obs);
    }
}

#[test]
fn precision_caps_are_checked_against_what_was_given() {
    let out = bottleneck(&[
        "check",
        STAGE1,
        "--precision",
        "5%",
        "--max-replications",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("3..=1000"),
        "{}",
        text(&out.stderr)
    );
    let out = bottleneck(&[
        "check",
        STAGE1,
        "--precision",
        "5%",
        "--replications",
        "9",
        "--max-replications",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--replications 9, more than --max-replications 5"),
        "{err}"
    );
}
