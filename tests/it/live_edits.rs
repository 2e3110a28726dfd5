//! Live edits of sources, request classes and regions, and what a removed
//! node's periodic events do (`bottleneck::live`, `Simulation::restructure`).

use bottleneck::live::restructure;
use bottleneck::model::Model;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::SEC;
use bottleneck::topology::{Topology, load_str};

fn model(text: &str) -> Model {
    load_str("t.ron", text).unwrap().model
}

fn edit(sim: &mut Simulation, t: &Topology, what: &str) -> bottleneck::sim::Remap {
    let r = restructure("t.ron", sim.model(), sim.retirements(), t, what).unwrap();
    sim.restructure(r).unwrap()
}

/// Traffic off, then run until nothing is in flight.
fn drain(sim: &mut Simulation) {
    sim.apply(Change::Traffic(0.0)).unwrap();
    let t = sim.now() + 600 * SEC;
    sim.step_until(t).unwrap();
    assert_eq!(sim.audit().requests, 0);
}

/// The per-class and per-source rows add up to the end-to-end totals.
fn groups_add_up(sim: &Simulation) {
    let e = sim.report().end_to_end;
    assert_eq!(e.arrivals, e.completed + e.dropped, "{e:?}");
    let g = sim.groups();
    for rows in [&g.classes, &g.sources] {
        if rows.is_empty() {
            continue; // one class (or source): the total is its row
        }
        let sum = |f: fn(&bottleneck::metrics::GroupStats) -> u64| rows.iter().map(f).sum::<u64>();
        assert_eq!(sum(|x| x.arrivals), e.arrivals);
        assert_eq!(sum(|x| x.completed), e.completed);
        assert_eq!(sum(|x| x.dropped), e.dropped);
    }
}

const TWO_SOURCES: &str = r#"Topology(
    name: "two sources",
    sources: [
        Source(id: "a", to: "web", arrivals: Poisson(rps: 100)),
        Source(id: "b", to: "web", arrivals: Poisson(rps: 50)),
    ],
    nodes: [
        Station(id: "web", servers: 8, service: Exponential(mean: "10ms")),
    ],
)"#;

/// Arrivals of source `s` in the closed windows starting in `[from, to)`.
fn arrivals_between(sim: &Simulation, s: usize, from: u64, to: u64) -> u64 {
    sim.groups().sources[s]
        .series
        .records()
        .filter(|r| r.start >= from && r.start < to)
        .map(|r| r.arrivals)
        .sum()
}

#[test]
fn a_removed_source_stops_and_a_new_one_starts_at_the_edit() {
    let m = model(TWO_SOURCES);
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(10 * SEC).unwrap();
    let mut t = m.topology.clone();
    let mut c = t.sources[0].clone();
    t.sources.remove(0);
    c.id = "c".into();
    c.arrivals = bottleneck::profile::Arrivals::Poisson { rps: 200.0 };
    t.sources.push(c);
    let remap = edit(&mut sim, &t, "a goes, c comes");
    assert_eq!(remap.sources_removed, vec![0]);
    assert_eq!(remap.sources_added, vec![2]);
    assert_eq!(sim.retired_sources(), &[true, false, false]);
    let ids: Vec<&str> = sim.model().sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["a:removed", "b", "c"]);
    // The clock went on.
    assert_eq!(sim.now(), 10 * SEC);
    let a_before = sim.groups().sources[0].arrivals;
    assert!(a_before > 800, "{a_before}");
    sim.step_until(30 * SEC).unwrap();
    let g = sim.groups();
    assert_eq!(
        g.sources[0].arrivals, a_before,
        "a removed source sends nothing"
    );
    // b goes on; c starts at the edit, at its rate.
    assert_eq!(arrivals_between(&sim, 2, 0, 10 * SEC), 0);
    let c = arrivals_between(&sim, 2, 10 * SEC, 30 * SEC);
    assert!((3_600..4_400).contains(&c), "c sent {c} in 20 s at 200/s");
    let b = arrivals_between(&sim, 1, 10 * SEC, 30 * SEC);
    assert!((800..1_200).contains(&b), "b sent {b} in 20 s at 50/s");
    // The report keeps the removed source's row, under its new name.
    let r = sim.report();
    assert!(r.sources.0.iter().any(|(id, _)| id == "a:removed"));
    drain(&mut sim);
    groups_add_up(&sim);
}

#[test]
fn a_source_changes_its_rate_in_place_and_a_re_added_id_gets_its_own_stream() {
    let m = model(TWO_SOURCES);
    let run = |readd: bool| {
        let mut sim = Simulation::new(&m, RunConfig::default());
        sim.step_until(5 * SEC).unwrap();
        let mut t = m.topology.clone();
        t.sources[1].arrivals = bottleneck::profile::Arrivals::Poisson { rps: 400.0 };
        let remap = edit(&mut sim, &t, "b x8");
        assert_eq!(remap.sources_updated, vec![1]);
        assert!(remap.sources_added.is_empty() && remap.sources_removed.is_empty());
        if readd {
            // `a` removed, then added again under the same id.
            let mut t2 = t.clone();
            let a = t2.sources.remove(0);
            edit(&mut sim, &t2, "a goes");
            t2.sources.push(a);
            edit(&mut sim, &t2, "a comes back");
        }
        sim.step_until(15 * SEC).unwrap();
        let b = arrivals_between(&sim, 1, 5 * SEC, 15 * SEC);
        assert!((3_600..4_400).contains(&b), "b sent {b} in 10 s at 400/s");
        drain(&mut sim);
        groups_add_up(&sim);
        sim
    };
    let sim = run(true);
    // The new `a` (index 2) does not replay the old one's arrivals.
    let old: Vec<u64> = sim.groups().sources[0]
        .series
        .records()
        .map(|r| r.arrivals)
        .take(5)
        .collect();
    let new: Vec<u64> = sim.groups().sources[2]
        .series
        .records()
        .map(|r| r.arrivals)
        .skip(5)
        .take(5)
        .collect();
    assert_ne!(old, new);
    // Deterministic: the same edits give the same report.
    let a = serde_json::to_string(&run(true).report()).unwrap();
    let b = serde_json::to_string(&sim.report()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn classes_added_live_keep_their_indices_and_their_rows_add_up() {
    let m = model(
        r#"Topology(
    name: "classes",
    sources: [Source(id: "users", to: "web", arrivals: Poisson(rps: 200))],
    nodes: [Station(id: "web", servers: 8, service: Exponential(mean: "10ms"))],
)"#,
    );
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(5 * SEC).unwrap();
    assert!(sim.groups().classes.is_empty(), "one class: no rows");
    let mut t = m.topology.clone();
    t.sources[0].mix = Some([("aaa".to_string(), 0.5), ("request".to_string(), 0.5)].into());
    edit(&mut sim, &t, "a mix");
    // The running class keeps index 0; the new one, sorted before it,
    // comes after.
    assert_eq!(sim.model().classes, ["request", "aaa"]);
    // The first class's row is everything so far.
    let g = sim.groups();
    assert_eq!(g.classes.len(), 2);
    assert_eq!(g.classes[0].arrivals, sim.report().end_to_end.arrivals);
    assert_eq!(g.classes[1].arrivals, 0);
    sim.step_until(10 * SEC).unwrap();
    // The class "request" goes from the mix; it keeps its row.
    t.sources[0].mix = Some([("aaa".to_string(), 0.25), ("bbb".to_string(), 0.75)].into());
    edit(&mut sim, &t, "another mix");
    assert_eq!(sim.model().classes, ["request", "aaa", "bbb"]);
    let (request, aaa0) = (
        sim.groups().classes[0].arrivals,
        sim.groups().classes[1].arrivals,
    );
    sim.step_until(20 * SEC).unwrap();
    let g = sim.groups();
    assert_eq!(g.classes[0].arrivals, request, "nobody sends `request` now");
    // A quarter and three quarters of 2000 requests since.
    let (aaa, bbb) = (g.classes[1].arrivals - aaa0, g.classes[2].arrivals);
    assert!(
        (400..600).contains(&aaa) && (1_350..1_650).contains(&bbb),
        "{aaa} {bbb}"
    );
    drain(&mut sim);
    let e = sim.report().end_to_end;
    let g = sim.groups();
    assert_eq!(
        g.classes.iter().map(|c| c.arrivals).sum::<u64>(),
        e.arrivals
    );
    assert_eq!(
        g.classes.iter().map(|c| c.completed).sum::<u64>(),
        e.completed
    );
}

#[test]
fn a_region_edit_acts_from_the_next_hop() {
    let text = r#"Topology(
    name: "regions",
    sources: [Source(id: "users", to: "web", arrivals: Poisson(rps: 100))],
    nodes: [
        App(id: "web", workers: 16, service: Exponential(mean: "1ms"),
            handle: {"*": [Read(db: "db")]}),
        Database(id: "db", servers: 16, read: Exponential(mean: "1ms"), write: Exponential(mean: "1ms")),
    ],
)"#;
    let m = model(text);
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(10 * SEC).unwrap();
    let p50 = |sim: &Simulation, from: u64| -> f64 {
        let w: Vec<f64> = sim
            .end_to_end_series()
            .records()
            .filter(|r| r.start >= from)
            .filter_map(|r| r.p50_ms)
            .collect();
        w.iter().sum::<f64>() / w.len() as f64
    };
    let before = p50(&sim, 0);
    assert!(before < 10.0, "{before}");
    // The database moves 50 ms away.
    let mut t = m.topology.clone();
    let r: Topology = bottleneck::topology::ron_options()
        .from_str(
            r#"Topology(name: "x", sources: [], nodes: [],
            regions: [Region(id: "east", nodes: ["web"], sources: ["users"]), Region(id: "west", nodes: ["db"])],
            links: [Link(a: "east", b: "west", latency: "50ms")])"#,
        )
        .unwrap();
    t.regions = r.regions;
    t.links = r.links;
    let remap = edit(&mut sim, &t, "db to the west");
    assert!(remap.removed.is_empty() && remap.added.is_empty());
    sim.step_until(20 * SEC).unwrap();
    let after = p50(&sim, 11 * SEC);
    // A call there and its answer back: 100 ms more.
    assert!(
        (before + 95.0..before + 110.0).contains(&after),
        "{before} -> {after}"
    );
    drain(&mut sim);
}

/// A balancer with health checks in front of an autoscaled app.
const PERIODIC: &str = r#"Topology(
    name: "periodic",
    sources: [Source(id: "users", to: "lb", arrivals: Poisson(rps: 50))],
    nodes: [
        LoadBalancer(id: "lb", to: ["app"], health_check: HealthCheck(every: "1s", unhealthy_after: 2)),
        App(id: "app", workers: 4, service: Exponential(mean: "5ms"),
            autoscale: Autoscale(target: 0.6, min: 1, max: 4, every: "2s")),
        Station(id: "web", servers: 4, service: Exponential(mean: "5ms")),
    ],
)"#;

#[test]
fn a_removed_node_s_periodic_events_stop() {
    let m = model(PERIODIC);
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(10 * SEC).unwrap();
    drain(&mut sim);
    // Idle: only the health checks (1 s) and the autoscaler (2 s) run.
    let (e0, t0) = (sim.events(), sim.now());
    sim.step_until(t0 + 100 * SEC).unwrap();
    assert_eq!(sim.events() - e0, 150, "100 probes and 50 looks in 100 s");
    let pending = sim.pending_events();
    assert_eq!(pending, 2);
    // The users go to `web`; the balancer and the app are removed.
    let mut t = m.topology.clone();
    t.sources[0].to = "web".into();
    t.nodes.retain(|n| n.id() == "web");
    let remap = edit(&mut sim, &t, "no more lb");
    assert_eq!(remap.removed, vec![0, 1]);
    sim.apply(Change::Traffic(0.0)).unwrap();
    let (e1, t1) = (sim.events(), sim.now());
    sim.step_until(t1 + 100 * SEC).unwrap();
    // Each fires once more, and does not come back.
    assert_eq!(sim.events() - e1, 2);
    assert_eq!(sim.pending_events(), 0);
}

const FIXED: &str = r#"Topology(
    name: "fixed sources",
    sources: [
        Source(id: "users", to: "web", arrivals: Closed(users: 20, think: Exponential(mean: "100ms"))),
        Source(id: "shop", to: "web", arrivals: Closed(users: 10, think: Exponential(mean: "50ms"),
            tasks: [Task(class: "browse", repeat: 2), Task(class: "order")])),
        Source(id: "herd", to: "web", arrivals: Burst(count: 100, at: "20s")),
        Source(id: "early", to: "web", arrivals: Burst(count: 50, at: "1s")),
    ],
    nodes: [
        Station(id: "web", servers: 16, service: Exponential(mean: "5ms")),
    ],
)"#;

/// The arrivals of source `s` in `t`, edited by `f`.
fn with_arrivals(t: &Topology, s: usize, f: impl FnOnce(&mut Arrivals)) -> Topology {
    let mut t = t.clone();
    f(&mut t.sources[s].arrivals);
    t
}

use bottleneck::profile::Arrivals;

/// Closed loops (plain and sessions) and bursts take edits in place: the
/// users grow and shrink, a burst not fired is re-timed and re-sized, one
/// fired stays fired; nothing is retired, the books balance, and the same
/// edits at the same instants give the same report.
fn edited_fixed_run() -> (Simulation, String) {
    let m = model(FIXED);
    let mut sim = Simulation::new(&m, RunConfig::default());
    let t0 = m.topology.clone();
    sim.step_until(5 * SEC).unwrap();
    assert_eq!(sim.closed_loop_users(0), Some((20, 0)));
    // More plain users, a slower think; the herd later and bigger; the
    // early burst (fired) edited too.
    let t1 = with_arrivals(&t0, 0, |a| {
        if let Arrivals::Closed { users, .. } = a {
            *users = 60;
        }
    });
    let t1 = with_arrivals(&t1, 2, |a| {
        *a = Arrivals::Burst {
            count: 300,
            at: bottleneck::time::Duration(30 * SEC),
        }
    });
    let t1 = with_arrivals(&t1, 3, |a| {
        *a = Arrivals::Burst {
            count: 5_000,
            at: bottleneck::time::Duration(6 * SEC),
        }
    });
    let remap = edit(&mut sim, &t1, "more users, a later herd");
    assert!(
        remap.sources_removed.is_empty() && remap.sources_added.is_empty(),
        "{remap:?}"
    );
    assert_eq!(
        sim.model().sources.len(),
        4,
        "edited in place, not replaced"
    );
    assert_eq!(sim.closed_loop_users(0), Some((60, 0)));
    sim.step_until(25 * SEC).unwrap();
    // The herd did not fire at 20 s; the early burst's edit changed nothing.
    let r = sim.report();
    assert_eq!(r.sources["herd"].arrivals, 0);
    assert_eq!(r.sources["early"].arrivals, 50, "a fired burst stays fired");
    // Fewer users: the surplus leaves as its requests end, counted.
    let t2 = with_arrivals(&t1, 0, |a| {
        if let Arrivals::Closed { users, .. } = a {
            *users = 5;
        }
    });
    // The sessions: more users, a new task list.
    let t2 = with_arrivals(&t2, 1, |a| {
        if let Arrivals::Closed { users, tasks, .. } = a {
            *users = 25;
            *tasks = Some(vec![bottleneck::sessions::Step::Task(
                bottleneck::sessions::Task {
                    class: "order".into(),
                    repeat: Some(3),
                    weight: None,
                    keys: None,
                    key: None,
                },
            )]);
        }
    });
    let before = sim.report().sessions["shop"].clone();
    edit(&mut sim, &t2, "fewer users, new tasks");
    let after = sim.report().sessions["shop"].clone();
    assert_eq!(
        after.in_progress, 0,
        "the sessions under way ended at the edit"
    );
    assert_eq!(after.left, before.left + before.in_progress);
    sim.step_until(40 * SEC).unwrap();
    let (users, leaving) = sim.closed_loop_users(0).unwrap();
    assert_eq!((users, leaving), (5, 0), "the surplus has left");
    let r = sim.report();
    assert_eq!(
        r.sources["herd"].arrivals, 300,
        "the re-timed herd fired at 30 s"
    );
    assert_eq!(r.sessions["shop"].users, 25);
    let st = &r.sessions["shop"];
    assert_eq!(
        st.started,
        st.completed + st.abandoned + st.with_failures + st.left + st.in_progress
    );
    drain(&mut sim);
    groups_add_up(&sim);
    let json = sim.report().to_json();
    (sim, json)
}

#[test]
fn closed_loops_and_bursts_take_edits_in_place_and_replay_the_same() {
    let (_, a) = edited_fixed_run();
    let (_, b) = edited_fixed_run();
    assert_eq!(a, b);
}

#[test]
fn a_change_of_arrival_kind_still_replaces_the_source() {
    let m = model(FIXED);
    let mut sim = Simulation::new(&m, RunConfig::default());
    sim.step_until(2 * SEC).unwrap();
    let t = with_arrivals(&m.topology, 0, |a| *a = Arrivals::Poisson { rps: 10.0 });
    let remap = edit(&mut sim, &t, "users become open loop");
    assert_eq!(remap.sources_removed, vec![0]);
    drain(&mut sim);
    groups_add_up(&sim);
}
