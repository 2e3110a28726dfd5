//! Runs the bundled default topology through a short scripted session and
//! prints the JSON report. Used to check that the engine gives byte-identical
//! reports on every target (`.ci/cross-target-determinism`, which runs this
//! natively and as wasm32-wasip1 under Node's WASI).

use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};

fn main() {
    let loaded =
        bottleneck::topology::load_str("default.ron", bottleneck::DEFAULT_TOPOLOGY).expect("valid");
    let config = RunConfig {
        seed: 7,
        warmup: Duration(5 * SEC),
        ..RunConfig::default()
    };
    let mut sim = Simulation::new(&loaded.model, config);
    sim.step_until(20 * SEC).expect("within budget");
    sim.apply(Change::Traffic(1.3)).expect("valid change");
    sim.step_until(40 * SEC).expect("within budget");
    sim.apply(Change::Slow {
        node: "db".into(),
        factor: 1.5,
    })
    .expect("valid change");
    sim.step_until(60 * SEC).expect("within budget");
    let mut report = sim.report();
    report.series = Some(sim.series_report());
    println!("{}", report.to_json());
}
