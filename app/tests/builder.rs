//! The builder's edit API (the functions the interface calls), driven
//! headlessly: build the cache-aside stage from a blank canvas, solve the
//! drills from their start files to a passing grade, undo and redo, and
//! replay a building session as `bottleneck check` would.

use bottleneck::kind::{FieldType, Kind};
use bottleneck::time::SEC;
use bottleneck_app::builder::fields::{self, Editor};
use bottleneck_app::builder::{Builder, check};
use bottleneck_app::content::DRILLS;
use bottleneck_app::sandbox::Sandbox;

mod common;
use common::{node, ok, open_stage, run, source};

/// The README's walk-through from where a new user starts: the stage the
/// app opens on, already running. "New blank" leaves nothing of that run
/// behind: the built topology starts a run of its own at 0 s, with no
/// removed nodes in the engine and no edits of the stage on its timeline.
#[test]
fn the_walk_through_works_from_the_running_stage_the_app_opens_on() {
    let (mut s, mut b) = open_stage("cache-aside");
    run(&mut s, 20);
    bottleneck_app::builder::build_cache_aside(&mut s, &mut b).unwrap();
    assert!(s.now() < 20 * SEC, "a new run: {}", s.now());
    let ids: Vec<&str> = s.model.nodes.iter().map(|n| n.id.as_str()).collect();
    assert!(ids.iter().all(|id| !id.contains(":removed")), "{ids:?}");
    assert_eq!(s.model.nodes.len(), b.working.nodes.len(), "{ids:?}");
    assert!(!s.paused);
    run(&mut s, 25);
    let r = s.sim.report();
    assert!(r.end_to_end.completed > 0);
}

/// Undoing "New blank" before anything new loads gives the run back as it
/// was (its clock and its queues), not a new one.
#[test]
fn undoing_new_blank_resumes_the_run_before() {
    let (mut s, mut b) = open_stage("cache-aside");
    let before = b.working.clone();
    run(&mut s, 10);
    let t = s.now();
    ok(b.new_blank(&mut s));
    assert!(b.is_draft() && s.paused);
    ok(b.undo(&mut s));
    assert_eq!(b.working, before);
    assert_eq!(s.now(), t);
    assert!(!s.paused);
    assert!(s.model.nodes.iter().all(|n| !n.id.contains(":removed")));
}

#[test]
fn builds_the_cache_aside_stage_from_a_blank_canvas() {
    let (mut s, mut b) = open_stage("single-server");
    ok(b.new_blank(&mut s));
    assert!(b.is_draft());
    assert!(
        b.problems.iter().any(|p| p.contains("no sources")),
        "{:?}",
        b.problems
    );
    let db = b.place(&mut s, Kind::Database, None).unwrap();
    let lb = b.place(&mut s, Kind::LoadBalancer, None).unwrap();
    let app = b.place(&mut s, Kind::App, None).unwrap();
    let users = b.add_source(&mut s).unwrap();
    ok(b.connect(&mut s, &source(&users), &lb));
    ok(b.set_text(
        &mut s,
        &source(&users),
        "mix",
        r#"{"read": 0.95, "write": 0.05}"#,
    ));
    ok(b.set_text(
        &mut s,
        &source(&users),
        "keys",
        "Zipf(keys: 1_000_000, s: 0.99)",
    ));
    ok(b.set_text(&mut s, &source(&users), "arrivals", "Poisson(rps: 4000)"));
    ok(b.connect(&mut s, &node(&lb), &app));
    ok(b.connect(&mut s, &node(&app), &db));
    assert!(!b.is_draft(), "{:?}", b.problems);
    let app2 = b.duplicate(&mut s, &app).unwrap();
    let app3 = b.duplicate(&mut s, &app).unwrap();
    let cache = b.place(&mut s, Kind::Cache, None).unwrap();
    for a in [&app, &app2, &app3] {
        ok(b.connect(&mut s, &node(a), &cache));
    }
    ok(b.set_text(&mut s, &node(&cache), "servers", "8"));
    assert!(!b.is_draft(), "{:?}", b.problems);
    // The same steps, as the README and `bottleneck-app --build` run them.
    let (mut s2, mut b2) = open_stage("single-server");
    bottleneck_app::builder::build_cache_aside(&mut s2, &mut b2).unwrap();
    assert_eq!(b2.working, b.working);
    // The running simulation is the built topology.
    // (Nodes removed while it ran stay in the engine's model, retired.)
    let kinds: Vec<&str> = s
        .model
        .nodes
        .iter()
        .zip(s.sim.retired())
        .filter(|(_, r)| !**r)
        .map(|(n, _)| n.kind_name())
        .collect();
    for k in ["LoadBalancer", "App", "Cache", "Database"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "App").count(), 3);
    let t = &s.topology;
    let Some(bottleneck::topology::Node::App(a)) = t.nodes.iter().find(|n| n.id() == app2) else {
        panic!()
    };
    assert!(matches!(
        a.handle["read"][0],
        bottleneck::topology::Step::CacheAside { .. }
    ));
    run(&mut s, 20);
    let r = s.sim.report();
    let c = r.nodes[&cache].cache.as_ref().unwrap();
    assert!(c.hit_ratio.unwrap() > 0.5, "hit ratio {:?}", c.hit_ratio);
    assert!(r.end_to_end.blocking < 0.001, "{}", r.end_to_end.blocking);
}

/// Solves drill `k` with `steps` and grades the builder's topology.
fn solve(k: usize, steps: impl FnOnce(&mut Sandbox, &mut Builder)) {
    let d = &DRILLS[k];
    let mut s = Sandbox::open("drill start", d.start, 1).unwrap();
    let mut b = Builder::new(&s);
    // As the app does while a drill is open: placed nodes take its physics.
    b.work_on(Some(k));
    steps(&mut s, &mut b);
    assert!(!b.is_draft(), "{:?}", b.problems);
    let g = b.grade(d).unwrap();
    assert!(
        g.passed,
        "drill {}: {:?} ${} of ${} {:?}",
        k + 1,
        g.verdict
            .rows
            .iter()
            .map(|r| (r.threshold.clone(), r.passed, r.shown.clone()))
            .collect::<Vec<_>>(),
        g.monthly,
        g.budget,
        g.reasons
    );
}

#[test]
fn grading_refuses_a_changed_workload_or_physics_in_the_clis_words() {
    let d = &DRILLS[0];
    let mut s = Sandbox::open("drill start", d.start, 1).unwrap();
    let mut t = s.topology.clone();
    let mut b = Builder::new(&s);
    b.work_on(Some(0));
    // Faster physics: the server's work takes what the drill says.
    ok(b.set_text(&mut s, &node("server"), "service", r#"Constant("100us")"#));
    let e = b.grade(d).unwrap_err();
    assert!(
        e.contains("not allowed: you changed the physics: `server`'s service was"),
        "{e}"
    );
    // Less traffic: the workload is given.
    if let bottleneck::profile::Arrivals::Poisson { rps } = &mut t.sources[0].arrivals {
        *rps /= 10.0;
    }
    let e = bottleneck_app::content::grade(d, &t).unwrap_err();
    assert!(e.contains("not allowed: you changed the workload"), "{e}");
    assert!(e.starts_with("Not graded"), "{e}");
}

#[test]
fn drill_1_more_cores() {
    solve(0, |s, b| {
        // A live edit: the clock keeps going.
        run(s, 2);
        let t = s.now();
        ok(b.set_text(s, &node("server"), "servers", "24"));
        assert!(s.now() >= t, "the clock did not restart");
        assert_eq!(s.sim.live(0).servers, 24);
    });
}

#[test]
fn drill_2_a_balancer_and_three_web_servers() {
    solve(1, |s, b| {
        let lb = b.place(s, Kind::LoadBalancer, None).unwrap();
        assert!(
            b.is_draft(),
            "a balancer with no backends does not load yet"
        );
        ok(b.connect(s, &node(&lb), "web"));
        ok(b.connect(s, &source("users"), &lb));
        b.duplicate(s, "web").unwrap();
        b.duplicate(s, "web").unwrap();
        ok(b.set_text(s, &node(&lb), "policy", "RoundRobin"));
        ok(b.set_text(s, &node(&lb), "health_check.every", "1s"));
        for w in ["web", "web-2", "web-3"] {
            ok(b.set_text(s, &node(w), "workers", "24"));
        }
    });
}

#[test]
fn drill_3_a_cache() {
    solve(2, |s, b| {
        let cache = b.place(s, Kind::Cache, None).unwrap();
        for a in ["app-1", "app-2", "app-3"] {
            ok(b.connect(s, &node(a), &cache));
        }
        ok(b.set_text(s, &node(&cache), "capacity", "200_000"));
        ok(b.set_text(s, &node(&cache), "ttl", "10m"));
        ok(b.set_text(s, &node(&cache), "servers", "8"));
        assert_eq!(
            b.value(&node(&cache), "service"),
            serde_json::json!({"Exponential": {"mean": "150us"}}),
            "a cache placed in drill 3 serves at the drill's cache speed"
        );
    });
}

#[test]
fn drill_4_read_your_writes() {
    solve(3, |s, b| {
        for a in ["app-1", "app-2", "app-3"] {
            ok(b.set_text(
                s,
                &node(a),
                "handle",
                r#"{"read": [ReadFresh(replicas: "replicas", primary: "db", within: "1s")], "write": [Write(db: "db")]}"#,
            ));
        }
    });
}

#[test]
fn drill_5_single_flight_and_stale_while_revalidate() {
    solve(4, |s, b| {
        ok(b.set_text(s, &node("redis"), "single_flight", "true"));
        ok(b.set_text(s, &node("redis"), "stale_while_revalidate", "1s"));
    });
}

#[test]
fn drill_6_a_cdn() {
    solve(5, |s, b| {
        let cdn = b.place(s, Kind::Cdn, None).unwrap();
        ok(b.set_text(s, &node(&cdn), "origin", "lb"));
        ok(b.connect(s, &source("users"), &cdn));
        ok(b.set_text(s, &node(&cdn), "cacheable", r#"["static"]"#));
        ok(b.set_text(s, &node(&cdn), "ttl", "1h"));
    });
}

#[test]
fn drill_7_idempotency_keys() {
    solve(6, |s, b| {
        ok(b.set_text(s, &node("ledger"), "idempotency_keys", "true"));
    });
}

#[test]
fn drill_8_a_retry_budget() {
    solve(7, |s, b| {
        let u = source("users");
        ok(b.set_text(s, &u, "client.retries.backoff", "100ms"));
        ok(b.set_text(s, &u, "client.retries.cap", "2s"));
        ok(b.set_text(s, &u, "client.retries.jitter", "Full"));
        ok(b.set_text(s, &u, "client.retries.budget", "0.1"));
        ok(b.set_text(s, &u, "client.breaker.failure_ratio", "0.5"));
        ok(b.set_text(s, &u, "client.breaker.window", "10s"));
        ok(b.set_text(s, &u, "client.breaker.min_requests", "50"));
        ok(b.set_text(s, &u, "client.breaker.open_for", "5s"));
    });
}

#[test]
fn drill_9_a_pooler() {
    solve(8, |s, b| {
        let p = b.place(s, Kind::Pooler, None).unwrap();
        assert_eq!(
            b.value(&node(&p), "to"),
            "db",
            "a pooler's target is picked"
        );
        ok(b.set_text(
            s,
            &node("app"),
            "handle",
            &format!(r#"{{"*": [Read(db: "{p}")]}}"#),
        ));
        ok(b.set_text(s, &node("app"), "pool.to", &p));
    });
}

#[test]
fn undo_and_redo_every_edit() {
    let (mut s, mut b) = open_stage("web-and-database");
    let start = b.working.clone();
    run(&mut s, 3);
    let db = s
        .model
        .nodes
        .iter()
        .find(|n| n.kind_name() == "Database")
        .unwrap()
        .id
        .clone();
    let db_i = s.model.node_index(&db).unwrap();
    let servers = s.sim.live(db_i).servers;
    ok(b.set_text(&mut s, &node(&db), "servers", &(servers + 3).to_string()));
    assert_eq!(s.sim.live(db_i).servers, servers + 3);
    let t = s.now();
    let cache = b.place(&mut s, Kind::Cache, None).unwrap();
    assert_eq!(s.now(), t, "a structural edit keeps the clock");
    let after = b.working.clone();
    ok(b.undo(&mut s));
    assert!(!b.working.nodes.iter().any(|n| n.id() == cache));
    ok(b.undo(&mut s));
    assert_eq!(b.working, start);
    assert!(b.undo(&mut s).is_err());
    ok(b.redo(&mut s));
    ok(b.redo(&mut s));
    assert_eq!(b.working, after);
    assert!(b.redo(&mut s).is_err());
    // Deleting a node removes the connections to it; undo brings both back.
    let app = s
        .model
        .nodes
        .iter()
        .find(|n| n.kind_name() == "App")
        .unwrap()
        .id
        .clone();
    ok(b.delete(&mut s, &node(&db)));
    assert!(b.is_draft() || !fields::edges(&b.working).iter().any(|(_, to)| *to == db));
    ok(b.undo(&mut s));
    assert!(
        fields::edges(&b.working)
            .iter()
            .any(|(f, to)| *f == node(&app) && *to == db)
    );
}

#[test]
fn refusals_use_the_loaders_words() {
    let (mut s, mut b) = open_stage("cache-aside");
    let before = b.working.clone();
    // A database sends nothing on.
    let e = b.connect(&mut s, &node("db"), "app-1").unwrap_err();
    assert!(e.contains("sends nothing on"), "{e}");
    // A property out of range: the loader's message, as the CLI prints it.
    let e = b.set_text(&mut s, &node("db"), "servers", "0").unwrap_err();
    let mut t = before.clone();
    if let Some(bottleneck::topology::Node::Database(d)) =
        t.nodes.iter_mut().find(|n| n.id() == "db")
    {
        d.servers = 0;
    }
    let cli = check(&t).unwrap_err();
    assert_eq!(e, cli.join("\n"));
    assert_eq!(b.working, before, "a refused edit changes nothing");
    assert!(b.field_error.is_some());
    // A pooler in front of an app: the loader says why not.
    let p = b.place(&mut s, Kind::Pooler, None).unwrap();
    let e = b.connect(&mut s, &node(&p), "app-1").unwrap_err();
    assert!(!e.is_empty());
    // A cache needs an app that reads a database.
    let c = b.place(&mut s, Kind::Cache, None).unwrap();
    ok(b.connect(&mut s, &node("app-1"), &c));
    assert!(b.connect(&mut s, &node("app-1"), "lb").is_err(), "no loops");
}

#[test]
fn every_field_of_every_kind_has_an_editor() {
    let (mut s, mut b) = open_stage("cache-aside");
    for kind in Kind::ALL {
        let id = b.place(&mut s, kind, None).unwrap();
        let item = node(&id);
        for f in bottleneck::kinds::doc(kind).fields {
            let e = fields::editor(&b.working, &item, f);
            if let FieldType::Nested(n) = f.ty
                && n.starts_with(char::is_uppercase)
                && n != "Route"
            {
                assert_eq!(e, Editor::Struct(n), "{kind} {}", f.name);
            }
        }
    }
    for f in bottleneck::topology::SOURCE_FIELDS {
        let _ = fields::editor(&b.working, &source("users"), f);
    }
}

#[test]
fn a_building_session_replays_to_the_same_report() {
    let (mut s, mut b) = open_stage("cache-aside");
    run(&mut s, 2);
    let cache = b.place(&mut s, Kind::Cache, None).unwrap();
    for a in ["app-1", "app-2", "app-3"] {
        ok(b.connect(&mut s, &node(a), &cache));
    }
    run(&mut s, 4);
    ok(b.set_text(&mut s, &node("db"), "servers", "40"));
    run(&mut s, 6);
    ok(b.set_text(&mut s, &node("app-2"), "instances", "2"));
    run(&mut s, 8);
    let (scenario, topology) = s.session("built.ron");
    // BOTTLENECK_SESSION_DIR=DIR keeps the files, for `bottleneck check DIR`.
    if let Some(dir) = std::env::var_os("BOTTLENECK_SESSION_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join("built.ron"), &topology).unwrap();
        std::fs::write(dir.join("built.scenario.ron"), &scenario).unwrap();
        std::fs::write(dir.join("app-report.json"), s.sim.report().to_json()).unwrap();
    }
    assert!(
        scenario.contains("Instances"),
        "an app's instances change live: {scenario}"
    );
    let sc = bottleneck::scenario::parse_str("s.ron", &scenario).unwrap();
    let m = bottleneck::topology::load_str("built.ron", &topology)
        .unwrap()
        .model;
    let plan = sc.plan(&m).unwrap();
    let o = bottleneck::scenario::run(&plan, &m, sc.seed, false);
    assert_eq!(o.report.to_json(), s.sim.report().to_json());
}

#[test]
fn capacity_changed_by_other_controls_survives_a_restart() {
    let (mut s, mut b) = open_stage("cache-aside");
    let db = s.model.node_index("db").unwrap();
    s.set_capacity(db, 40);
    let app = s.model.node_index("app-1").unwrap();
    s.set_capacity(app, 3);
    b.sync(&mut s);
    b.place(&mut s, Kind::Cache, None).unwrap();
    let db = s.model.node_index("db").unwrap();
    assert_eq!(s.sim.live(db).servers, 40);
    let app = s.model.node_index("app-1").unwrap();
    assert_eq!(s.sim.live(app).instances, Some(3));
    let (scenario, _) = s.session("t.ron");
    assert!(
        scenario.contains("Restructure(") && scenario.contains("placed Cache"),
        "{scenario}"
    );
}

#[test]
fn sources_mixes_and_regions_edited_live_keep_the_clock_and_replay() {
    let (mut s, mut b) = open_stage("cache-aside");
    run(&mut s, 2);
    let events = s.sim.events();
    // A new source, a changed mix, a region, then the new source removed:
    // each applied live, none restarting the clock.
    b.selected = Some(node("lb"));
    let more = ok(b.add_source(&mut s));
    assert_eq!(s.sim.model().sources.len(), 2, "{:?}", b.problems);
    assert!(s.sim.events() >= events, "the clock did not restart");
    run(&mut s, 4);
    let msg = ok(b.set_text(
        &mut s,
        &source("users"),
        "mix",
        r#"{"read": 0.8, "write": 0.2}"#,
    ));
    assert!(msg.contains("applied live"), "{msg}");
    run(&mut s, 6);
    b.selected = Some(node("db"));
    let region = b.new_region(&mut s).unwrap();
    assert_eq!(s.sim.model().regions, [region]);
    run(&mut s, 8);
    let msg = ok(b.delete(&mut s, &source(&more)));
    assert!(!msg.contains("restart"), "{msg}");
    assert!(s.now() >= 8 * SEC, "the clock went on");
    assert_eq!(s.sim.retired_sources(), [false, true]);
    run(&mut s, 10);
    let (scenario, topology) = s.session("built.ron");
    assert_eq!(scenario.matches("Restructure(").count(), 4, "{scenario}");
    let sc = bottleneck::scenario::parse_str("s.ron", &scenario).unwrap();
    let m = bottleneck::topology::load_str("built.ron", &topology)
        .unwrap()
        .model;
    let plan = sc.plan(&m).unwrap();
    let o = bottleneck::scenario::run(&plan, &m, sc.seed, false);
    assert_eq!(o.report.to_json(), s.sim.report().to_json());
}
