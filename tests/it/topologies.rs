//! Every bundled topology loads without errors and runs.

use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::SEC;
use bottleneck::topology;

#[test]
fn every_bundled_topology_loads_and_runs() {
    let mut files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies"))
        .unwrap()
        .chain(std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/bench")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let l = topology::load(&f.display().to_string(), &bytes).unwrap_or_else(|d| panic!("{d}"));
        let mut sim = Simulation::new(&l.model, RunConfig::default());
        sim.step_until(20 * SEC)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let r = sim.report();
        assert!(
            r.end_to_end.completed > 0,
            "{}: nothing completed",
            f.display()
        );
    }
}

#[test]
fn the_issue_examples_run_as_written() {
    // The two files of the engine issue, verbatim.
    let mm1 = include_str!("../../topologies/mm1.ron");
    let l = topology::load_str("mm1.ron", mm1).unwrap();
    assert_eq!(l.model.nodes[0].servers, 1);
    let two = include_str!("../../topologies/two-stations.ron");
    let l = topology::load_str("two-stations.ron", two).unwrap();
    assert_eq!(l.model.nodes[0].queue, Some(50));
    assert_eq!(l.model.nodes[0].routes[0].p, 0.3);
}

#[test]
fn every_bundled_topology_round_trips_through_to_ron() {
    // The sandbox saves edited topologies with `to_ron`; what it writes must
    // load back to the same topology.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut n = 0;
    for sub in ["", "journey"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            let name = p.to_string_lossy().to_string();
            if !name.ends_with(".ron") || name.ends_with(".scenario.ron") {
                continue;
            }
            let l = bottleneck::topology::load(&name, &std::fs::read(&p).unwrap()).unwrap();
            let text = bottleneck::topology::to_ron(&l.model.topology);
            let again = bottleneck::topology::load_str("again.ron", &text)
                .unwrap_or_else(|d| panic!("{name}:\n{d}\n{text}"));
            assert_eq!(again.model.topology, l.model.topology, "{name}");
            n += 1;
        }
    }
    assert!(n > 25);
}
