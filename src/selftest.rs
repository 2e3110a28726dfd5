//! A fixed scripted session whose report every front end can produce, so
//! tests compare targets byte for byte: natively, as wasm32-wasip1 under
//! Node, and in the browser (`?selftest` on the web page).

use crate::sim::{Change, RunConfig, Simulation};
use crate::time::{Duration, SEC};

/// The default topology, seed 7, traffic x1.3 at 20 s and the database 1.5x
/// slower at 40 s, for 60 s; the JSON report with its series.
pub fn scripted_report() -> String {
    let loaded = crate::topology::load_str("default.ron", crate::DEFAULT_TOPOLOGY)
        .expect("the bundled default is valid");
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
    report.to_json()
}
