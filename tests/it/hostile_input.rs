//! Hostile input at the command line (session 6): every refusal names what
//! is wrong and how to fix it, and nothing runs that would mean nothing.

use crate::common::{bottleneck, text};

fn write(name: &str, body: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bn-hostile-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn runs_too_short_to_measure_are_refused_with_the_minimum() {
    for d in ["0s", "1ns", "999us"] {
        let o = bottleneck(&["run", "topologies/mm1.ron", "--duration", d]);
        assert_eq!(o.status.code(), Some(2), "{d}: {}", text(&o.stdout));
        let err = text(&o.stderr);
        assert!(
            err.contains("too short") && err.contains("hint"),
            "{d}: {err}"
        );
        assert!(!text(&o.stdout).contains("bottleneck:"), "{d}");
    }
    let o = bottleneck(&[
        "run",
        "topologies/mm1.ron",
        "--duration",
        "2s",
        "--warmup",
        "2s",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("warm-up"));
    let o = bottleneck(&["sweep", "topologies/mm1.ron", "--duration", "0s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("too short"), "{}", text(&o.stderr));
}

#[test]
fn a_count_sweeps_by_whole_numbers_and_says_so() {
    let o = bottleneck(&[
        "sweep",
        "topologies/mm1.ron",
        "--vary",
        "servers:q",
        "--from",
        "1",
        "--to",
        "3",
        "--steps",
        "9",
        "--duration",
        "2s",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let values: Vec<f64> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [1.0, 2.0, 3.0]);
    assert!(
        text(&o.stderr).contains("whole number"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_descending_sweep_is_refused_with_the_swap() {
    let o = bottleneck(&["sweep", "topologies/mm1.ron", "--from", "5", "--to", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("--from 1 --to 5"), "{err}");
}

#[test]
fn merged_shards_print_json_when_asked() {
    let mut files = Vec::new();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let o = bottleneck(&[
            "sweep",
            "topologies/mm1.ron",
            "--from",
            "1",
            "--to",
            "2",
            "--steps",
            "3",
            "--duration",
            "2s",
            "--shard",
            &shard,
            "--json",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        files.push(write(&format!("shard{k}.json"), &text(&o.stdout)));
    }
    let (a, b) = (files[0].to_str().unwrap(), files[1].to_str().unwrap());
    let o = bottleneck(&["sweep", "--merge", a, b, "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("merged JSON");
    assert_eq!(v["points"].as_array().unwrap().len(), 3);
}

#[test]
fn a_knob_capped_elsewhere_is_named_rather_than_repeated() {
    let t = write(
        "capped.ron",
        r#"Topology(name: "pg", sources: [ Source(id: "u", to: "app", arrivals: Poisson(rps: 300)) ],
  nodes: [ App(id: "app", workers: 200, service: Constant("1ms"), handle: {"*": [Read(db: "pgb")]}),
           Pooler(id: "pgb", to: "db", connections: 4),
           Database(id: "db", servers: 32, max_connections: 4, read: Exponential(mean: "10ms"), write: Exponential(mean: "10ms")) ])"#,
    );
    let o = bottleneck(&[
        "sweep",
        t.to_str().unwrap(),
        "--vary",
        "servers:pgb",
        "--from",
        "4",
        "--to",
        "6",
        "--steps",
        "3",
        "--duration",
        "3s",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("from servers:pgb = 4 on, every point measures the same"),
        "{out}"
    );
}

#[test]
fn a_scenario_given_as_a_topology_names_the_command() {
    let o = bottleneck(&["run", "topologies/drills/01-front-page.scenario.ron"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("this is a scenario file"), "{err}");
    assert!(err.contains("bottleneck check"), "{err}");
}
