//! Edges the session 6 audit found in the command line (session 7): what a
//! command is given is honoured or refused with a reason, files it writes
//! do not overwrite each other, and runs that measure nothing say so.

use crate::common::{bottleneck, text};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bn-edges-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary in `dir`.
fn in_dir(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bottleneck"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn all(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}

const PR: &str = r#"Topology(name: "pr", sources: [ Source(id: "u", to: "s", arrivals: Poisson(rps: 50.0)) ],
  nodes: [ Station(id: "s", servers: 1, service: Exponential(mean: "10ms")) ])"#;

const PR_SCENARIO: &str = r#"Scenario(name: "pr", topology: "pr.ron", duration: "20s", warmup: "2s",
  thresholds: [ "error_rate < 1%", "p99 < 500ms" ])"#;

fn pr_dir(name: &str) -> PathBuf {
    let d = scratch(name);
    std::fs::write(d.join("pr.ron"), PR).unwrap();
    std::fs::write(d.join("pr.scenario.ron"), PR_SCENARIO).unwrap();
    d
}

/// The p50 column of a sweep's first point.
fn first_p50(o: &Output) -> String {
    let out = text(&o.stdout);
    out.lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("{}", all(o)))
        .to_string()
}

#[test]
fn a_scenario_sweep_honours_seed_duration_and_warmup() {
    let d = pr_dir("sweep");
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", "pr.scenario.ron", "--to", "2", "--steps", "2"];
        args.extend_from_slice(extra);
        in_dir(&d, &args)
    };
    let own = sweep(&[]);
    assert_eq!(own.status.code(), Some(0), "{}", all(&own));
    let seeded = sweep(&["--seed", "5"]);
    assert_eq!(seeded.status.code(), Some(0), "{}", all(&seeded));
    assert_ne!(first_p50(&own), first_p50(&seeded), "--seed is ignored");
    // The same seed as a topology sweep of the same length gives the same point.
    let top = in_dir(
        &d,
        &[
            "sweep",
            "pr.ron",
            "--to",
            "2",
            "--steps",
            "2",
            "--seed",
            "5",
            "--duration",
            "20s",
            "--warmup",
            "2s",
        ],
    );
    assert_eq!(first_p50(&top), first_p50(&seeded));
    let err = text(&seeded.stderr);
    assert!(
        err.contains("pr.scenario.ron has seed 1, duration 20s and warm-up 2s")
            && err.contains("this sweep runs seed 5, duration 20s, warm-up 2s"),
        "{err}"
    );
    let short = sweep(&["--duration", "5s"]);
    assert_ne!(first_p50(&own), first_p50(&short), "--duration is ignored");
    assert!(
        text(&short.stderr).contains("duration 5s, warm-up 2s"),
        "{}",
        all(&short)
    );
    // A warm-up the run cannot hold is refused, with the scenario's own values.
    let bad = sweep(&["--warmup", "30s"]);
    assert_eq!(bad.status.code(), Some(2), "{}", all(&bad));
    assert!(
        text(&bad.stderr).contains("duration 20s and warm-up 2s"),
        "{}",
        all(&bad)
    );
}

#[test]
fn a_threshold_window_after_a_shortened_run_is_refused() {
    let d = pr_dir("window");
    std::fs::write(
        d.join("late.scenario.ron"),
        r#"Scenario(name: "late", topology: "pr.ron", duration: "20s", thresholds: [ "p99 < 500ms during 10s.." ])"#,
    )
    .unwrap();
    let o = in_dir(
        &d,
        &[
            "sweep",
            "late.scenario.ron",
            "--to",
            "2",
            "--steps",
            "2",
            "--duration",
            "5s",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(
        all(&o).contains("starts at 10s, when the run (5s) has ended"),
        "{}",
        all(&o)
    );
}

const BURST_LATE: &str = r#"Topology(name: "bu",
  sources: [ Source(id: "u", to: "s", arrivals: Burst(count: 100, at: "2m")) ],
  nodes: [ Station(id: "s", servers: 4, service: Exponential(mean: "10ms")) ])"#;

#[test]
fn bursts_the_run_does_not_measure_are_said_at_the_source() {
    let d = scratch("bursts");
    std::fs::write(d.join("late.ron"), BURST_LATE).unwrap();
    std::fs::write(d.join("early.ron"), BURST_LATE.replace("\"2m\"", "\"3s\"")).unwrap();
    let o = in_dir(&d, &["run", "late.ron", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("warning: the burst at 2m comes at or after the run's end (1m)")
            && err.contains("late.ron:2:25 (source `u`)")
            && err.contains("hint: run longer than 2m (--duration)"),
        "{err}"
    );
    let out = text(&o.stdout);
    assert!(!out.contains("bottleneck:"), "{out}");
    assert!(
        out.contains("nothing measured: no request arrived between 6s and 1m"),
        "{out}"
    );
    let o = in_dir(&d, &["run", "late.ron", "-q", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j["bottleneck"].is_null(), "{}", j["bottleneck"]);
    assert_eq!(j["bottleneck_timeline"], serde_json::json!([]));
    // In the warm-up, with nothing else sending: said, with the warm-up.
    let o = in_dir(&d, &["run", "early.ron", "-q"]);
    let err = text(&o.stderr);
    assert!(
        err.contains("the burst at 3s comes in the warm-up (the first 6s)")
            && err.contains("a warm-up of at most 3s (--warmup)"),
        "{err}"
    );
    // Measured from before it: no warning, and it is counted.
    let o = in_dir(&d, &["run", "early.ron", "-q", "--warmup", "1s"]);
    assert!(!text(&o.stderr).contains("warning"), "{}", all(&o));
    // Counted: `s` queued in the burst (though, over the run, it is not
    // near its capacity).
    assert!(
        text(&o.stdout).contains("the busiest is s: "),
        "{}",
        all(&o)
    );
    // A scenario says it too, naming its own fields.
    std::fs::write(
        d.join("late.scenario.ron"),
        r#"Scenario(name: "l", topology: "late.ron", duration: "1m", thresholds: ["error_rate < 1%"])"#,
    )
    .unwrap();
    let o = in_dir(&d, &["check", "late.scenario.ron"]);
    assert!(
        text(&o.stderr).contains("run longer than 2m (the scenario's `duration`)"),
        "{}",
        all(&o)
    );
    assert!(!text(&o.stdout).contains("bottleneck:"), "{}", all(&o));
}

#[test]
fn a_burst_in_the_warm_up_with_other_traffic_is_not_warned_about() {
    // The retry storm it starts is what the run measures.
    let o = bottleneck(&[
        "run",
        "topologies/metastable-retry.ron",
        "-q",
        "--duration",
        "20s",
    ]);
    assert!(!text(&o.stderr).contains("burst"), "{}", all(&o));
}

#[test]
fn plots_of_scenarios_with_the_same_name_do_not_overwrite_each_other() {
    let d = scratch("plots");
    for sub in ["a", "b"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
        std::fs::write(d.join(sub).join("pr.ron"), PR).unwrap();
        let s = PR_SCENARIO.replace("20s", if sub == "a" { "5s" } else { "6s" });
        std::fs::write(d.join(sub).join("pr.scenario.ron"), s).unwrap();
    }
    let o = in_dir(
        &d,
        &[
            "check",
            "a/pr.scenario.ron",
            "b/pr.scenario.ron",
            "--plot",
            "pl.svg",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("plot of a/pr.scenario.ron: pl-pr.svg")
            && err.contains("plot of b/pr.scenario.ron: pl-pr-2.svg"),
        "{err}"
    );
    let a = std::fs::read_to_string(d.join("pl-pr.svg")).unwrap();
    let b = std::fs::read_to_string(d.join("pl-pr-2.svg")).unwrap();
    assert_ne!(a, b, "the two runs differ in length, so their plots do");
}

#[test]
fn a_lesson_file_runs_from_any_directory() {
    let d = scratch("lesson");
    let lesson = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("topologies/lessons/stage-1-single-server.lesson.ron");
    let o = in_dir(&d, &["lesson", &lesson.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert!(
        text(&o.stdout).contains("stage-1-single-server"),
        "{}",
        all(&o)
    );
    // By name it still needs the lessons' directory, and says so.
    let o = in_dir(&d, &["lesson", "stage-1-single-server"]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(text(&o.stderr).contains("pass --dir"), "{}", all(&o));
}

#[test]
fn an_app_without_a_pool_says_no_pool_and_one_is_singular() {
    let d = scratch("wording");
    std::fs::write(
        d.join("asx.ron"),
        r#"Topology(name: "asx", sources: [ Source(id: "u", to: "app", arrivals: Poisson(rps: 100.0)) ],
  nodes: [ App(id: "app", instances: 3, workers: 8, service: Constant("1ms"),
            autoscale: Autoscale(target: 0.5, min: 1, max: 3, every: "1s", provision: "1s", cooldown: "1s")) ])"#,
    )
    .unwrap();
    let o = in_dir(&d, &["run", "asx.ron", "-q", "--duration", "20s"]);
    let out = text(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.starts_with("app: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        line, "app: 1 instance at the end (1 autoscaling action)",
        "{out}"
    );
}

#[test]
fn class_names_with_control_characters_are_refused_at_the_source() {
    let d = scratch("classes");
    std::fs::write(
        d.join("csvq.ron"),
        "Topology(\n    name: \"csvq\",\n    sources: [ Source(id: \"u\", to: \"s\", arrivals: Poisson(rps: 10), mix: {\"a,b\": 0.5, \"q\\\"x\\ny\": 0.5}) ],\n    nodes: [ Station(id: \"s\", servers: 1, service: Constant(\"1ms\")) ],\n)",
    )
    .unwrap();
    let o = in_dir(&d, &["validate", "csvq.ron"]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains(r#"the class name "q\"x\ny" holds a control character"#)
            && err.contains("csvq.ron:3:")
            && err.contains("hint: name classes with"),
        "{err}"
    );
}

#[test]
fn scenario_times_below_a_millisecond_are_refused_with_the_minimum() {
    let d = pr_dir("tiny");
    for (what, field, says) in [
        ("duration: \"1ns\"", "duration", "use at least 1ms"),
        (
            "duration: \"20s\", window: \"1us\"",
            "window",
            "at least 1ms",
        ),
        (
            "duration: \"20s\", deadline: \"500us\"",
            "deadline",
            "give at least 1ms",
        ),
        (
            "duration: \"20s\", timeline: [At(\"5s\", Spike(times: 2.0, lasting: \"1ns\"))]",
            "Spike",
            "give at least 1ms",
        ),
    ] {
        std::fs::write(
            d.join("t.scenario.ron"),
            format!(r#"Scenario(name: "t", topology: "pr.ron", {what}, thresholds: ["p99 < 1s"])"#),
        )
        .unwrap();
        let o = in_dir(&d, &["check", "t.scenario.ron"]);
        assert_eq!(o.status.code(), Some(2), "{field}: {}", all(&o));
        let err = text(&o.stderr);
        assert!(
            err.contains(says) && err.contains("t.scenario.ron:1:"),
            "{field}: {err}"
        );
    }
}

#[test]
fn graph_shows_regions_and_links() {
    let o = bottleneck(&["graph", "topologies/two-regions.ron"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let dot = text(&o.stdout);
    assert!(
        dot.contains("subgraph cluster_region_0 { label=\"region eu\"")
            && dot.contains("subgraph cluster_region_1 { label=\"region us\"")
            && dot.contains(
                "region_0 -> region_1 [dir=none, style=dashed, constraint=false, label=\"40ms\"];"
            ),
        "{dot}"
    );
    // Each region holds its sources and nodes.
    let eu = dot.lines().find(|l| l.contains("region eu")).unwrap();
    assert_eq!(eu.matches("src_").count(), 1, "{eu}");
    assert_eq!(eu.matches("node_").count(), 2, "{eu}");
    let o = bottleneck(&["graph", "topologies/two-regions.ron", "--format", "mermaid"]);
    let m = text(&o.stdout);
    assert!(
        m.contains("subgraph region_0 [\"region eu\"]")
            && m.contains("region_0 -. \"40ms\" .- region_1"),
        "{m}"
    );
    // Without regions, nothing is added.
    let o = bottleneck(&["graph", "topologies/mm1.ron"]);
    assert!(!text(&o.stdout).contains("region"), "{}", all(&o));
}
