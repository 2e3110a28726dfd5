//! Counterfactual grading: a drill's topology must pass because of the fix
//! the drill teaches. Without it (the engine's `mechanism::remove`) the
//! same scenario must fail; a topology that passes by brute capacity alone,
//! or with the fix present but idle, is not solved (exit 99).

use crate::common::{bottleneck, text};
use bottleneck::scenario::drill::{self, Mechanism, mechanism};
use bottleneck::scenario::{self};
use bottleneck::topology::{self, Node, Topology};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn drill_file(stem: &str) -> PathBuf {
    root().join(format!("topologies/drills/{stem}.drill.ron"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The drill's start with `edits` (text replacements) applied, written to a
/// temporary file.
fn submission(stem: &str, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut t = read(&root().join(format!("topologies/drills/{stem}.start.ron")));
    for (from, to) in edits {
        assert!(
            t.contains(from),
            "{stem}: `{from}` is not in the start file"
        );
        t = t.replace(from, to);
    }
    let dir = std::env::temp_dir().join(format!("bn-grading-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.ron"));
    std::fs::write(&p, t).unwrap();
    p
}

/// Grades `mine` with the CLI; returns the exit code and the JSON grade.
fn grade_cli(stem: &str, mine: &Path) -> (Option<i32>, serde_json::Value) {
    let d = drill_file(stem);
    let o = bottleneck(&[
        "drill",
        &d.display().to_string(),
        "--topology",
        &mine.display().to_string(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&text(&o.stdout))
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&o.stdout), text(&o.stderr)));
    (o.status.code(), v)
}

/// A topology that meets every requirement without the taught fix: the
/// grade says so, in text and JSON, and exits 99.
fn brute(stem: &str, name: &str, edits: &[(&str, &str)]) -> serde_json::Value {
    let mine = submission(stem, name, edits);
    let (code, g) = grade_cli(stem, &mine);
    assert_eq!(
        g["requirements_met"], true,
        "{stem}/{name}: {:#}",
        g["reasons"]
    );
    assert_eq!(g["passed"], false, "{stem}/{name}");
    assert_eq!(code, Some(99), "{stem}/{name}");
    let reasons = g["reasons"].to_string();
    assert!(
        reasons.contains("passes, but not because of the fix"),
        "{reasons}"
    );
    // The text grade says the same, with both runs when there are two.
    let o = bottleneck(&[
        "drill",
        &drill_file(stem).display().to_string(),
        "--topology",
        &mine.display().to_string(),
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(99));
    assert!(
        out.contains("NOT SOLVED: every requirement is met, but not because of the fix."),
        "{out}"
    );
    g
}

/// The reference solution passes, and its counterfactual fails.
fn solved(stem: &str) {
    let sol = root().join(format!("tests/drills/{stem}.solution.ron"));
    let (code, g) = grade_cli(stem, &sol);
    assert_eq!(code, Some(0), "{stem}: {:#}", g["reasons"]);
    assert_eq!(g["passed"], true);
    let cf = &g["counterfactual"];
    assert_eq!(cf["fails"], true, "{stem}: {cf:#}");
    assert!(!cf["changes"].as_array().unwrap().is_empty());
    assert!(
        cf["verdict"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["passed"] == false),
        "{cf:#}"
    );
}

#[test]
fn the_retry_drill_is_not_solved_by_a_shorter_queue() {
    // The issue's case: `queue: 300` sheds enough load to meet the card
    // while unlimited immediate retries remain.
    let g = brute(
        "08-the-slow-minute",
        "queue-300",
        &[("queue: 20_000", "queue: 300")],
    );
    let cf = &g["counterfactual"];
    assert_eq!(cf["changes"].as_array().unwrap().len(), 0, "{cf:#}");
    assert!(
        cf["verdict"].is_null(),
        "the same topology is not run twice"
    );
    solved("08-the-slow-minute");
}

#[test]
fn the_idempotency_drill_is_not_solved_by_waiting_longer() {
    // A client that waits 10 s never retries a slow charge: no duplicates,
    // and no idempotency keys either. The client is part of the workload,
    // so the grade refuses the edit before running anything
    // (`drill_rules.rs` checks the message); the keys solve it.
    let mine = submission(
        "07-charge-once",
        "timeout-10s",
        &[(r#"timeout: "500ms""#, r#"timeout: "10s""#)],
    );
    let o = bottleneck(&[
        "drill",
        &drill_file("07-charge-once").display().to_string(),
        "--topology",
        &mine.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("you changed the workload"));
    solved("07-charge-once");
}

#[test]
fn the_stampede_drill_is_not_solved_by_a_bigger_database() {
    let bigger = [
        (
            "servers: 4, max_connections: 48",
            "servers: 12, max_connections: 256",
        ),
        ("workers: 256", "workers: 64"),
    ];
    brute("05-celebrity-post", "bigger-db", &bigger);
    // Single-flight switched on as well, but the bigger database carries
    // the stampede anyway: not because of the fix.
    let mut with_sf = bigger.to_vec();
    with_sf.push(("single_flight: false", "single_flight: true"));
    let g = brute("05-celebrity-post", "bigger-db-and-single-flight", &with_sf);
    assert_eq!(g["counterfactual"]["fails"], false);
    solved("05-celebrity-post");
}

/// Every drill but the first names what it teaches, and taking it away
/// from the reference solution gives back the start (nodes and sources):
/// the removal undoes exactly the fix.
#[test]
fn removing_the_taught_fix_from_each_solution_gives_back_the_start() {
    let mut drills: Vec<PathBuf> = std::fs::read_dir(root().join("topologies/drills"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".drill.ron"))
        .collect();
    drills.sort();
    assert_eq!(drills.len(), 9);
    for p in drills {
        let d = drill::parse_drill("d", &read(&p)).unwrap();
        let stem = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".drill.ron", "");
        let start = topology::parse("s", &read(&p.parent().unwrap().join(&d.start))).unwrap();
        let sol = topology::parse(
            "sol",
            &read(&root().join(format!("tests/drills/{stem}.solution.ron"))),
        )
        .unwrap();
        if d.level == 1 {
            assert!(d.teaches.is_empty(), "drill 1 teaches sizing");
            continue;
        }
        assert!(!d.teaches.is_empty(), "{stem} names what it teaches");
        let r = mechanism::remove(&sol, &d.teaches);
        assert!(!r.changes.is_empty(), "{stem}");
        // The start gives nothing to remove.
        assert!(
            mechanism::remove(&start, &d.teaches).changes.is_empty(),
            "{stem}: {:?}",
            mechanism::remove(&start, &d.teaches).changes
        );
        if stem.starts_with("02-") {
            // The solution's three servers stay; only the health check goes.
            let Some(Node::LoadBalancer(lb)) = r.topology.nodes.first() else {
                panic!("{stem}")
            };
            assert!(lb.health_check.is_none());
            continue;
        }
        assert_eq!(r.topology.nodes, start.nodes, "{stem}: {:?}", r.changes);
        assert_eq!(r.topology.sources, start.sources, "{stem}");
    }
}

/// On every bundled topology: removing any mechanism gives a topology that
/// loads, removing it again changes nothing, and a topology that reports
/// no change is returned as it was.
#[test]
fn removal_loads_is_idempotent_and_reports_every_change() {
    let mut files = Vec::new();
    for dir in ["topologies", "topologies/journey", "tests/drills"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let n = p.to_string_lossy().to_string();
            if n.ends_with(".ron") && !n.ends_with(".scenario.ron") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut changed = std::collections::BTreeSet::new();
    for p in &files {
        let t: Topology = topology::parse("t", &read(p)).unwrap();
        for m in Mechanism::ALL {
            let r = mechanism::remove(&t, &[m]);
            assert_eq!(
                r.changes.is_empty(),
                r.topology == t,
                "{}: {m:?}",
                p.display()
            );
            if r.changes.is_empty() {
                continue;
            }
            changed.insert(m);
            topology::load_str("cf", &topology::to_ron(&r.topology))
                .unwrap_or_else(|e| panic!("{} without {m:?}: {e}", p.display()));
            assert!(mechanism::remove(&r.topology, &[m]).changes.is_empty());
        }
    }
    // Every mechanism is exercised by some bundled topology.
    assert_eq!(changed.len(), Mechanism::ALL.len(), "{changed:?}");
}

/// The library's one-call grade (what the app's "Grade my topology" uses)
/// runs the counterfactual itself and agrees with the CLI.
#[test]
fn the_library_grade_runs_the_counterfactual() {
    let stem = "08-the-slow-minute";
    let d = drill::parse_drill("d", &read(&drill_file(stem))).unwrap();
    let s = scenario::parse_str(
        "s",
        &read(&root().join(format!("topologies/drills/{stem}.scenario.ron"))),
    )
    .unwrap();
    let costs = drill::parse_costs("c", drill::DEFAULT_COSTS).unwrap();
    let grade = |file: &Path| {
        let m = topology::load_str("t", &read(file)).unwrap().model;
        let o = scenario::run(&s.plan(&m).unwrap(), &m, s.seed, false);
        drill::grade(&d, &s, &[o], &m, &costs)
    };
    let brute = submission(stem, "lib-queue-300", &[("queue: 20_000", "queue: 300")]);
    let g = grade(&brute);
    assert!(g.requirements_met && !g.passed, "{:?}", g.reasons);
    let g = grade(&root().join(format!("tests/drills/{stem}.solution.ron")));
    assert!(g.passed, "{:?}", g.reasons);
    assert_eq!(g.counterfactual.unwrap().fails, Some(true));
}
