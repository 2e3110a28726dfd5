//! Determinism: same topology, seed and changes give the same bytes.

use crate::common::model;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::SEC;

fn json(text: &str, seed: u64) -> String {
    let m = model(text);
    let mut sim = Simulation::new(
        &m,
        RunConfig {
            seed,
            warmup: bottleneck::time::Duration(2 * SEC),
            ..RunConfig::default()
        },
    );
    sim.step_until(20 * SEC).unwrap();
    sim.apply(Change::Traffic(1.5)).unwrap();
    sim.step_until(40 * SEC).unwrap();
    let mut r = sim.report();
    r.series = Some(sim.series_report());
    r.to_json()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let t = bottleneck::DEFAULT_TOPOLOGY;
    let a = json(t, 42);
    let b = json(t, 42);
    assert_eq!(a, b);
    let c = json(t, 43);
    assert_ne!(a, c);
    // Also across threads (no hidden global state).
    let d = std::thread::spawn(move || json(bottleneck::DEFAULT_TOPOLOGY, 42))
        .join()
        .unwrap();
    assert_eq!(a, d);
}

#[test]
fn adding_a_node_keeps_the_others_draws() {
    // Common random numbers: `q` sees the same arrivals and service times
    // whether or not a node is added after it.
    let alone = r#"Topology(name: "a", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 50.0))],
        nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "10ms"))])"#;
    let more = r#"Topology(name: "a", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 50.0))],
        nodes: [Station(id: "extra", servers: 3, service: Exponential(mean: "20ms")),
                Station(id: "q", servers: 1, service: Exponential(mean: "10ms"), routes: [Route(to: "extra", p: 0.5)])])"#;
    let run = |t: &str| {
        let mut sim = Simulation::new(
            &model(t),
            RunConfig {
                seed: 9,
                ..RunConfig::default()
            },
        );
        sim.step_until(60 * SEC).unwrap();
        sim.report().nodes["q"].clone()
    };
    let (a, b) = (run(alone), run(more));
    assert_eq!(a.arrivals, b.arrivals);
    assert_eq!(a.completed, b.completed);
    assert_eq!(a.p99_ms, b.p99_ms);
    assert_eq!(a.mean_sojourn_ms, b.mean_sojourn_ms);
}

#[test]
fn json_report_has_the_contract_keys() {
    let text = json(bottleneck::DEFAULT_TOPOLOGY, 1);
    // Nodes appear in topology order.
    assert!(text.find("\"web\": {").unwrap() < text.find("\"db\": {").unwrap());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for k in ["seed", "simulated_s", "events"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    for k in [
        "arrivals",
        "completed",
        "dropped",
        "throughput_rps",
        "mean_ms",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "p999_ms",
    ] {
        assert!(v["end_to_end"].get(k).is_some(), "missing end_to_end.{k}");
    }
    let nodes = v["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), 2);
    for (_, n) in nodes {
        for k in [
            "arrivals",
            "completed",
            "dropped",
            "blocking",
            "utilization",
            "mean_queue_len",
            "mean_wait_ms",
            "mean_sojourn_ms",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "throughput_rps",
        ] {
            assert!(n.get(k).is_some(), "missing node key {k}");
        }
    }
    assert_eq!(v["seed"], 1);
    assert_eq!(v["simulated_s"], 40.0);
}
