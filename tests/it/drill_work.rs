//! A drill's submission does the start's work, at the start's time for it:
//! a start node rewritten as another kind keeps its work's time
//! (`drill::protect`), and no class's work is dropped (`drill::work`: the
//! database still reached, writes still written and not answered from a
//! cache). Generated from every bundled drill and its reference solution.

use bottleneck::kinds::Node;
use bottleneck::scenario::drill::{self, Costs};
use bottleneck::topology::{self, Topology};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

fn read(p: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(p);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const STEMS: [&str; 9] = [
    "01-front-page",
    "02-no-single-point-of-failure",
    "03-reads-outgrow-the-database",
    "04-stale-profiles",
    "05-celebrity-post",
    "06-black-friday",
    "07-charge-once",
    "08-the-slow-minute",
    "09-autoscaling-meets-the-database",
];

fn drill_of(stem: &str) -> drill::Drill {
    drill::parse_drill("d", &read(&format!("topologies/drills/{stem}.drill.ron"))).unwrap()
}

fn start(stem: &str) -> Topology {
    topology::parse("s", &read(&format!("topologies/drills/{stem}.start.ron"))).unwrap()
}

fn solution(stem: &str) -> Topology {
    topology::parse("s", &read(&format!("tests/drills/{stem}.solution.ron"))).unwrap()
}

fn costs() -> Costs {
    drill::parse_costs("costs.ron", drill::DEFAULT_COSTS).unwrap()
}

fn refusals(stem: &str, mine: &Topology) -> Vec<drill::Violation> {
    drill::refusals(&drill_of(stem), &start(stem), mine, &costs())
}

/// The node `id` rewritten as `kind`, with 8 servers and a 100 us time
/// for every piece of its work.
fn as_kind(id: &str, kind: usize) -> Node {
    let text = match kind {
        0 => format!(r#"Station(id: "{id}", servers: 8, service: Constant("100us"))"#),
        1 => format!(r#"App(id: "{id}", workers: 8, service: Constant("100us"), handle: {{}})"#),
        2 => format!(
            r#"Database(id: "{id}", servers: 8, read: Constant("100us"), write: Constant("100us"))"#
        ),
        3 => format!(
            r#"ObjectStore(id: "{id}", service: Constant("100us"), concurrency: 8, rate: 100000)"#
        ),
        _ => format!(r#"Queue(id: "{id}", workers: 8, service: Constant("100us"))"#),
    };
    topology::ron_options().from_str(&text).unwrap()
}

#[test]
fn the_reference_solutions_and_the_starts_do_the_work() {
    for stem in STEMS {
        assert!(refusals(stem, &start(stem)).is_empty(), "{stem}");
        let v = refusals(stem, &solution(stem));
        assert!(v.is_empty(), "{stem}: {v:?}");
    }
}

/// The audit's d2nodb (no database at all) and d6all (a CDN that caches
/// writes): each refused, with the class and what it drops.
#[test]
fn the_audits_dropped_work_is_refused() {
    let mut t = start("02-no-single-point-of-failure");
    t.nodes.retain(|n| n.id() != "db");
    let mut j = serde_json::to_value(&t).unwrap();
    j["nodes"][0]["App"]["handle"] = serde_json::json!({});
    let t: Topology = serde_json::from_value(j).unwrap();
    let v = refusals("02-no-single-point-of-failure", &t);
    assert!(
        v.iter()
            .any(|v| v.message.contains("`read` requests reach the database")),
        "{v:?}"
    );
    assert!(
        v.iter().all(|v| !v.hint.is_empty() && v.id == "web"),
        "{v:?}"
    );

    let mut j = serde_json::to_value(solution("06-black-friday")).unwrap();
    for n in j["nodes"].as_array_mut().unwrap() {
        if let Some(c) = n.get_mut("Cdn") {
            c.as_object_mut().unwrap().remove("cacheable");
        }
    }
    // Left at its default, a CDN caches only the classes that do not
    // write: the writes still reach the database.
    let t: Topology = serde_json::from_value(j).unwrap();
    let v = refusals("06-black-friday", &t);
    assert!(
        !v.iter().any(|v| v
            .message
            .contains("`write` requests write to the database, and a cache on their way")),
        "{v:?}"
    );
}

/// Removes from every app handler the steps `drop` names.
fn drop_steps(v: &mut Value, drop: &[&str]) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Object(h)) = o.get_mut("handle") {
                for steps in h.values_mut() {
                    if let Value::Array(a) = steps {
                        a.retain(|s| {
                            !s.as_object()
                                .is_some_and(|s| s.keys().any(|k| drop.contains(&k.as_str())))
                        });
                    }
                }
            }
            o.values_mut().for_each(|x| drop_steps(x, drop));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| drop_steps(x, drop)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any start node that does work, rewritten (same id, same place) as
    /// another kind that does work at 100 us, is refused: the work takes
    /// the start's time whichever kind does it.
    #[test]
    fn a_start_node_of_another_kind_keeps_its_works_time(
        which in 0usize..9, pick in any::<prop::sample::Index>(), kind in 0usize..5,
    ) {
        let stem = STEMS[which];
        let s = start(stem);
        let workers: Vec<usize> = (0..s.nodes.len())
            .filter(|&i| !drill::protect::work_time(s.nodes[i].kind_of()).is_empty())
            .collect();
        prop_assume!(!workers.is_empty());
        let i = workers[pick.index(workers.len())];
        let mut mine = s.clone();
        mine.nodes[i] = as_kind(s.nodes[i].id(), kind);
        let v = refusals(stem, &mine);
        prop_assert!(!v.is_empty(), "{stem}: `{}` as kind {kind} at 100 us is not refused", s.nodes[i].id());
    }

    /// A reference solution that stops writing (its `Write` and
    /// `WriteThrough` steps gone), or stops reading the database (every
    /// database step gone), is refused for the work it drops.
    #[test]
    fn a_solution_that_drops_database_work_is_refused(which in 0usize..9, all in any::<bool>()) {
        let stem = STEMS[which];
        let mut j = serde_json::to_value(solution(stem)).unwrap();
        let steps: &[&str] = if all {
            &["Read", "Write", "CacheAside", "WriteThrough", "ReadFresh"]
        } else {
            &["Write", "WriteThrough"]
        };
        let before = j.clone();
        drop_steps(&mut j, steps);
        prop_assume!(j != before);
        let mine: Topology = serde_json::from_value(j).unwrap();
        let v = refusals(stem, &mine);
        prop_assert!(
            v.iter().any(|v| v.message.contains("you dropped work the drill gives")),
            "{stem}: {steps:?} dropped and not refused: {v:?}"
        );
    }
}
