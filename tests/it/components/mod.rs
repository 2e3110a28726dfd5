//! The architecture components' own mechanics, one file per node kind
//! (and the sources and regions), sharing the helpers here.

use crate::common::model;
use bottleneck::report::Report;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};

mod app;
mod cache;
mod cdn;
mod database;
mod load_balancer;
mod object_store;
mod pooler;
mod queue;
mod rate_limiter;
mod regions;
mod replica;
mod shard_router;
mod sources;

pub(crate) fn sim(text: &str, seed: u64) -> Simulation {
    Simulation::new(
        &model(text),
        RunConfig {
            seed,
            ..RunConfig::default()
        },
    )
}

/// The books balance at every node and end to end.
pub(crate) fn check_books(r: &Report) {
    let e = &r.end_to_end;
    assert_eq!(
        e.arrivals,
        e.completed + e.dropped + e.in_flight,
        "end to end"
    );
    for (id, n) in &r.nodes.0 {
        assert_eq!(
            n.arrivals,
            n.completed + n.dropped + n.errors + n.in_flight,
            "node {id}"
        );
    }
}

#[test]
fn component_topologies_are_deterministic_and_replay() {
    let text = include_str!("../../../topologies/cache-aside.ron");
    let run = || {
        let mut s = sim(text, 11);
        s.step_until(10 * SEC).unwrap();
        s.apply(Change::Down("app-2".into())).unwrap();
        s.step_until(20 * SEC).unwrap();
        s.apply(Change::Up("app-2".into())).unwrap();
        s.apply(Change::Flush("redis".into())).unwrap();
        s.step_until(30 * SEC).unwrap();
        s
    };
    let (a, b) = (run(), run());
    let (ja, jb) = (a.report().to_json(), b.report().to_json());
    assert_eq!(ja, jb);
    check_books(&a.report());
    let again = Simulation::replay(
        &model(text),
        RunConfig {
            seed: 11,
            ..RunConfig::default()
        },
        a.changes(),
        30 * SEC,
    )
    .unwrap();
    assert_eq!(again.report().to_json(), ja);
}
