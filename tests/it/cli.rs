//! The `bottleneck` binary as a user (or a CI pipeline) meets it.

use crate::common::{bottleneck, text};

#[test]
fn no_arguments_runs_the_bundled_default() {
    let o = bottleneck(&[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("Web and database"), "{out}");
    assert!(out.contains("END TO END"), "{out}");
    assert!(out.contains("bottleneck: db"), "{out}");
    // `run` without a file is the same.
    let o2 = bottleneck(&["run"]);
    assert_eq!(text(&o2.stdout), out);
}

#[test]
fn run_json_is_the_report_on_stdout() {
    let o = bottleneck(&[
        "run",
        "topologies/mm1.ron",
        "--seed",
        "3",
        "--duration",
        "2m",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["seed"], 3);
    assert_eq!(v["simulated_s"], 120.0);
    assert_eq!(v["warmup_s"], 12.0);
    assert!(v["nodes"]["q"]["utilization"].as_f64().unwrap() > 0.8);
    assert!(v.get("series").is_none());
    // Same seed, same bytes.
    let again = bottleneck(&[
        "run",
        "topologies/mm1.ron",
        "--seed",
        "3",
        "--duration",
        "2m",
        "--json",
    ]);
    assert_eq!(o.stdout, again.stdout);
    let with_series = bottleneck(&[
        "run",
        "topologies/mm1.ron",
        "--duration",
        "10s",
        "--json",
        "--series",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&with_series.stdout).unwrap();
    assert_eq!(v["series"]["nodes"][0][1].as_array().unwrap().len(), 10);
}

#[test]
fn bad_input_exits_2_with_a_place() {
    let dir = std::env::temp_dir().join(format!("bottleneck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.ron");
    std::fs::write(&bad, "Topology(\n  name: \"x\",\n  sources: [Source(id: \"u\", to: \"q\", arrivals: Poisson(rps: 1.0))],\n  nodes: [Station(id: \"q\", servers: 1, servce: Constant(\"1ms\"))],\n)").unwrap();
    let o = bottleneck(&["run", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("bad.ron:4:"), "{err}");
    assert!(err.contains("did you mean `service`?"), "{err}");
    let o = bottleneck(&["validate", bad.to_str().unwrap(), "topologies/mm1.ron"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stdout).contains("ok: topologies/mm1.ron"));
    let o = bottleneck(&["run", "no/such/file.ron"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("cannot read the file"));
    let o = bottleneck(&["run", "--duration", "10"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no unit"), "{}", text(&o.stderr));
    let o = bottleneck(&["run", "--duration", "10s", "--warmup", "20s"]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn runaway_work_exits_1_with_a_reason() {
    // An estimate over the event budget is refused before running.
    let o = bottleneck(&[
        "run",
        "topologies/mm1.ron",
        "--duration",
        "1h",
        "--max-events",
        "1000",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("over the budget of 1,000"),
        "{}",
        text(&o.stderr)
    );
    // A queue that grows without bound hits the in-flight budget.
    let dir = std::env::temp_dir().join(format!("bottleneck-runaway-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("hot.ron");
    std::fs::write(
        &f,
        r#"Topology(name: "hot", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 5000))],
        nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "1ms"))])"#,
    )
    .unwrap();
    let o = bottleneck(&[
        "run",
        f.to_str().unwrap(),
        "--duration",
        "10m",
        "--max-in-flight",
        "50000",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("overloaded"), "{err}");
    assert!(err.contains("more than 50000 requests in flight"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a partial report");
    assert!(v["stopped"].is_string());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn graph_prints_dot_and_mermaid() {
    let o = bottleneck(&["graph", "topologies/two-stations.ron"]);
    assert!(o.status.success());
    let dot = text(&o.stdout);
    assert!(dot.starts_with("digraph \"Two stations\""), "{dot}");
    assert!(dot.contains("node_0 -> node_1 [label=\"0.3\"]"), "{dot}");
    assert!(dot.contains("node_0 -> exit [label=\"0.7\"]"), "{dot}");
    let o = bottleneck(&[
        "graph",
        "topologies/two-stations.ron",
        "--format",
        "mermaid",
    ]);
    let mm = text(&o.stdout);
    assert!(mm.starts_with("flowchart LR"), "{mm}");
    assert!(mm.contains("node_0 -- \"0.3\" --> node_1"), "{mm}");
}

#[test]
fn help_and_version() {
    let o = bottleneck(&["--help"]);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("Exit codes"));
    let o = bottleneck(&["--version"]);
    assert!(text(&o.stdout).starts_with("bottleneck "));
}

/// Flags that would leave part of what was asked for out, silently, are
/// refused with a hint instead.
#[test]
fn run_refuses_what_it_would_silently_leave_out() {
    let refused = |args: &[&str], says: &str| {
        let o = bottleneck(args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(says) && err.contains("hint"),
            "{args:?}: {err}"
        );
    };
    // A window that does not divide the run: the tail would be in no row.
    refused(
        &[
            "run",
            "topologies/mm1.ron",
            "--duration",
            "60s",
            "--window",
            "7s",
            "--json",
            "--series",
        ],
        "does not divide the run",
    );
    refused(
        &[
            "run",
            "topologies/mm1.ron",
            "--duration",
            "1m",
            "--window",
            "2m",
            "--series-csv",
            "-",
        ],
        "does not divide the run",
    );
    // --series belongs to the JSON report.
    refused(&["run", "topologies/mm1.ron", "--series"], "--series adds");
    // A scenario cut short before some of its changes runs, and says so.
    let o = bottleneck(&[
        "run",
        "--scenario",
        "topologies/walls/6a-retry-storm.scenario.ron",
        "--duration",
        "70s",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: --duration 70s ends the scenario before 1 of its changes"),
        "{err}"
    );
    assert!(err.contains("at 90s"), "{err}");
    // Whole windows are fine.
    let o = bottleneck(&[
        "run",
        "topologies/mm1.ron",
        "--duration",
        "60s",
        "--window",
        "6s",
        "--json",
        "--series",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}
