//! Runs that stop before their end (audit-s7 B6, B14, E5, F3): nothing a
//! stopped run measured is judged or averaged, the header says where it
//! stopped, JUnit counts the cases it writes, a recorded session is not
//! replicated over seeds it does not fit, and the error names the item.

use crate::common::{model, text};
use bottleneck::scenario;
use std::path::{Path, PathBuf};
use std::process::Output;

const PR: &str = r#"Topology(name: "pr", sources: [ Source(id: "u", to: "s", arrivals: Poisson(rps: 50.0)) ],
  nodes: [ Station(id: "s", servers: 1, service: Exponential(mean: "10ms")) ])"#;

/// A recorded change that fits no run: 100 events are run long before 10 s.
const STOPS: &str = r#"Scenario(name: "ex", topology: "pr.ron", duration: "30s", warmup: "2s",
  timeline: [ Exact("10s", 100, Down("s")) ], thresholds: [ "error_rate < 1%" ])"#;

const AT: &str = r#"Scenario(name: "ex", topology: "pr.ron", duration: "30s", warmup: "2s",
  timeline: [ At("10s", Down("s")) ], thresholds: [ "error_rate < 1%" ])"#;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bn-stopped-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("pr.ron"), PR).unwrap();
    std::fs::write(d.join("ex.scenario.ron"), STOPS).unwrap();
    d
}

fn in_dir(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bottleneck"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

#[test]
fn a_run_that_stops_early_judges_nothing_and_says_where_it_stopped() {
    let d = scratch("table");
    let o = in_dir(&d, &["check", "ex.scenario.ron", "--junit", "out.xml"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    // The header gives the span simulated, not the scenario's 30 s.
    assert!(out.contains("stopped at "), "{out}");
    assert!(!out.contains("30s simulated"), "{out}");
    let row = out.lines().find(|l| l.contains("error_rate < 1%")).unwrap();
    assert!(row.contains("not judged"), "{row}");
    assert!(!row.contains("pass"), "{row}");
    // The error names the timeline item.
    assert!(
        out.contains("--> ex.scenario.ron:2:15 (timeline item 1)"),
        "{out}"
    );
    // JUnit: every count is of the test cases written.
    let xml = std::fs::read_to_string(d.join("out.xml")).unwrap();
    let cases = xml.matches("<testcase ").count();
    assert_eq!(cases, 2, "{xml}");
    assert!(
        xml.contains(r#"<testsuite name="ex" tests="2" failures="0" errors="1" skipped="1">"#),
        "{xml}"
    );
    assert!(xml.contains("<skipped "), "{xml}");
    // JSON: not passed, not judged, and where it stopped.
    let j = in_dir(&d, &["check", "ex.scenario.ron", "--json", "-"]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    let row = &v[0]["rows"][0];
    assert_eq!(row["passed"], false);
    assert_eq!(row["not_judged"], true);
    let at = v[0]["stopped"][0]["at_s"].as_f64().unwrap();
    assert!(at > 0.0 && at < 10.0, "{at}");
}

#[test]
fn a_recorded_session_is_not_replicated() {
    let d = scratch("reps");
    for extra in [&["--replications", "3"][..], &["--precision", "5%"][..]] {
        let mut args = vec!["check", "ex.scenario.ron"];
        args.extend_from_slice(extra);
        let o = in_dir(&d, &args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("replays only its own seed (1)"), "{err}");
        assert!(err.contains("--> ex.scenario.ron:2:15"), "{err}");
        assert!(
            err.contains("hint: check it without --replications"),
            "{err}"
        );
        // Nothing was judged: no table row for it.
        assert!(
            !text(&o.stdout).contains("error_rate"),
            "{}",
            text(&o.stdout)
        );
    }
}

/// The mean over replications leaves out the ones that stopped: a faulted
/// run (70% of requests failed) and one that stopped before its fault are
/// not averaged into a figure neither measured.
#[test]
fn stopped_replications_are_left_out_of_the_mean() {
    let m = model(PR);
    let at = scenario::parse_str("at.scenario.ron", AT).unwrap();
    let stops = scenario::parse_str("ex.scenario.ron", STOPS).unwrap();
    let good = scenario::run(&at.plan(&m).unwrap(), &m, 1, false);
    let bad = scenario::run(&stops.plan(&m).unwrap(), &m, 2, false);
    assert!(bad.error.is_some());
    assert!(bad.values.iter().all(Option::is_none), "{:?}", bad.values);
    let measured = good.values[0].unwrap();
    assert!(measured > 0.5, "{measured}");
    let v = scenario::judge(&at, &[good, bad]);
    let row = &v.rows[0];
    assert!(!row.not_judged);
    assert_eq!(row.measured.unwrap().mean, measured);
    assert_eq!(v.stopped.len(), 1);
    assert_eq!(v.stopped[0].seed, 2);
    assert_eq!(v.finished(), 1);
    assert!(!v.as_expected());
}
