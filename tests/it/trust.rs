//! Answers a person can rely on: nested fan-outs finish, flapping a node
//! leaves nothing stuck, every fault the engine accepts acts (and the ones
//! that would do nothing are refused), the bottleneck is the node whose own
//! capacity limits throughput.

use crate::common::model;
use bottleneck::report::Report;
use bottleneck::sim::{Change, Fault, KINDS, RunConfig, Simulation, effect};
use bottleneck::time::SEC;

fn sim(text: &str, seed: u64) -> Simulation {
    Simulation::new(
        &model(text),
        RunConfig {
            seed,
            ..RunConfig::default()
        },
    )
}

const NESTED: &str = r#"Topology(name: "nested", sources: [Source(id: "u", to: "top", arrivals: Poisson(rps: 100.0))],
 nodes: [
  App(id: "top", workers: 32, service: Constant("1ms"), handle: {"*": [FanOut(to: "mid", count: 2)]}),
  App(id: "mid", workers: 32, service: Constant("1ms"), handle: {"*": [FanOut(to: "leaf", count: 2)]}),
  Station(id: "leaf", servers: 16, service: Exponential(mean: "2ms")),
 ])"#;

#[test]
fn a_fan_out_inside_a_fan_out_answers_its_parent() {
    let mut s = sim(NESTED, 1);
    s.step_until(20 * SEC).unwrap();
    s.apply(Change::Traffic(0.0)).unwrap();
    s.step_until(30 * SEC).unwrap();
    let r = s.report();
    let e = &r.end_to_end;
    assert!(e.arrivals > 1_800, "{e:?}");
    assert_eq!(e.completed, e.arrivals, "every request completes: {e:?}");
    assert_eq!(s.in_flight(), 0);
    // Each request visits mid twice and leaf four times.
    assert_eq!(r.nodes["mid"].completed, 2 * e.completed);
    assert_eq!(r.nodes["leaf"].completed, 4 * e.completed);
    assert_eq!(s.live(0).busy, 0, "top's workers are free");
}

#[test]
fn flapping_the_app_behind_a_fan_out_leaves_nothing_stuck() {
    let text = r#"Topology(name: "flap", sources: [Source(id: "u", to: "top", arrivals: Poisson(rps: 200.0))],
     nodes: [
      App(id: "top", workers: 64, service: Constant("1ms"), handle: {"*": [FanOut(to: "mid", count: 2)]}),
      App(id: "mid", workers: 64, service: Constant("1ms"), handle: {"*": [Call(to: "leaf")]}),
      Station(id: "leaf", servers: 32, service: Exponential(mean: "5ms")),
     ])"#;
    let mut s = sim(text, 3);
    for k in 0..10u64 {
        s.step_until(SEC + k * SEC + 137_000_000).unwrap();
        s.apply(Change::Down("mid".into())).unwrap();
        s.step_until(SEC + k * SEC + 611_000_000).unwrap();
        s.apply(Change::Up("mid".into())).unwrap();
    }
    // Well after the flapping, the system serves at the offered rate.
    s.step_until(30 * SEC).unwrap();
    let before = s.report().end_to_end.completed;
    s.step_until(40 * SEC).unwrap();
    let served = s.report().end_to_end.completed - before;
    assert!(
        (1_800..=2_200).contains(&served),
        "{served} completed in 10 s at 200 rps"
    );
    // Stop the traffic: everything drains, no worker stays taken.
    s.apply(Change::Traffic(0.0)).unwrap();
    s.step_until(60 * SEC).unwrap();
    assert_eq!(s.in_flight(), 0);
    for i in 0..3 {
        assert_eq!(s.live(i).busy, 0, "node {i} holds a server");
    }
}

/// A small system with a node of `kind` on the request path, named `x`.
fn with_kind(kind: &str) -> String {
    let (nodes, to, mix) = match kind {
        "Station" => (
            r#"Station(id: "x", servers: 4, service: Exponential(mean: "5ms"))"#.to_string(),
            "x",
            "",
        ),
        "LoadBalancer" => (
            r#"LoadBalancer(id: "x", to: ["a", "b"]),
               Station(id: "a", servers: 4, service: Exponential(mean: "5ms")),
               Station(id: "b", servers: 4, service: Exponential(mean: "5ms"))"#
                .into(),
            "x",
            "",
        ),
        "App" => (
            r#"App(id: "x", workers: 16, service: Exponential(mean: "3ms"), handle: {"*": [Read(db: "db")]}),
               Database(id: "db", servers: 8, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms"))"#
                .into(),
            "x",
            "",
        ),
        "Cache" => (
            r#"App(id: "app", workers: 64, service: Constant("1ms"), handle: {"*": [CacheAside(cache: "x", db: "db")]}),
               Cache(id: "x", capacity: 1000, ttl: "5s", service: Exponential(mean: "200us")),
               Database(id: "db", servers: 8, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms"))"#
                .into(),
            "app",
            "keys: Zipf(keys: 2000, s: 0.9),",
        ),
        "Cdn" => (
            r#"Cdn(id: "x", origin: "origin", capacity: 1000, ttl: "30s", service: Constant("2ms"), servers: 64),
               Station(id: "origin", servers: 16, service: Exponential(mean: "10ms"))"#
                .into(),
            "x",
            "keys: Zipf(keys: 2000, s: 0.9),",
        ),
        "Database" => (
            r#"App(id: "app", workers: 64, service: Constant("1ms"), handle: {"*": [Read(db: "x")]}),
               Database(id: "x", servers: 8, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms"))"#
                .into(),
            "app",
            "",
        ),
        "Replica" => (
            r#"App(id: "app", workers: 64, service: Constant("1ms"), handle: {"*": [Read(db: "x")]}),
               Replica(id: "x", primary: "db", lag: Constant("100ms"), servers: 8, read: Exponential(mean: "2ms")),
               Database(id: "db", servers: 8, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms"))"#
                .into(),
            "app",
            "",
        ),
        "Pooler" => (
            r#"App(id: "app", workers: 64, service: Constant("1ms"), handle: {"*": [Read(db: "x")]}),
               Pooler(id: "x", to: "db", connections: 4),
               Database(id: "db", servers: 8, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms"))"#
                .into(),
            "app",
            "",
        ),
        "ShardRouter" => (
            r#"App(id: "app", workers: 64, service: Constant("1ms"), handle: {"*": [Read(db: "x")]}),
               ShardRouter(id: "x", shards: ["s1", "s2", "s3"]),
               Database(id: "s1", servers: 4, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms")),
               Database(id: "s2", servers: 4, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms")),
               Database(id: "s3", servers: 4, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms"))"#
                .into(),
            "app",
            "keys: Uniform(keys: 100000),",
        ),
        "Queue" => (
            r#"App(id: "app", workers: 64, service: Constant("1ms"), handle: {"*": [Publish(queue: "x")]}),
               Queue(id: "x", workers: 8, service: Exponential(mean: "5ms"), backoff: "100ms")"#
                .into(),
            "app",
            "",
        ),
        "RateLimiter" => (
            r#"RateLimiter(id: "x", to: "s", limit: 1000, per: "1s"),
               Station(id: "s", servers: 4, service: Exponential(mean: "5ms"))"#
                .into(),
            "x",
            "",
        ),
        "ObjectStore" => (
            r#"ObjectStore(id: "x", service: Exponential(mean: "20ms"), concurrency: 16, rate: 1000)"#
                .into(),
            "x",
            "",
        ),
        other => panic!("no test system for {other}"),
    };
    format!(
        r#"Topology(name: "{kind}", sources: [Source(id: "u", to: "{to}", {mix} arrivals: Poisson(rps: 200.0))], nodes: [{nodes}])"#
    )
}

/// The change for `fault` at node `x`.
fn change(fault: Fault) -> Change {
    let node = "x".to_string();
    match fault {
        Fault::Down => Change::Down(node),
        Fault::Slow => Change::Slow { node, factor: 5.0 },
        Fault::Errors => Change::Errors { node, rate: 0.5 },
        Fault::Servers => Change::Servers { node, servers: 2 },
        Fault::Instances => Change::Instances { node, count: 3 },
        Fault::Flush => Change::Flush(node),
        Fault::Shards => Change::Shards { node, count: 2 },
    }
}

/// Runs 20 s; with `fault`, applies it at 10 s (a flush every second from
/// 10 s, so a cache's hit ratio shows it).
fn run(text: &str, fault: Option<Fault>) -> Result<Report, String> {
    let mut s = sim(text, 5);
    s.step_until(10 * SEC).unwrap();
    if let Some(f) = fault {
        s.apply(change(f)).map_err(|e| e.to_string())?;
        if f == Fault::Flush {
            for k in 1..10 {
                s.step_until((10 + k) * SEC).unwrap();
                s.apply(change(f)).unwrap();
            }
        }
    }
    s.step_until(20 * SEC).unwrap();
    Ok(s.report())
}

/// Does the faulted run differ from the baseline the way `fault` should?
fn acted(fault: Fault, base: &Report, hit: &Report) -> Result<(), String> {
    let (b, h) = (&base.nodes["x"], &hit.nodes["x"]);
    let failures = |r: &Report| {
        let x = &r.nodes["x"];
        r.end_to_end.dropped + x.dropped + x.errors
    };
    let ok = match fault {
        Fault::Down => {
            // Failures, or (a CDN) the origin takes the traffic.
            failures(hit) > failures(base) + 100
                || hit
                    .nodes
                    .get("origin")
                    .is_some_and(|o| o.arrivals > base.nodes["origin"].arrivals + 500)
        }
        Fault::Slow => h.mean_sojourn_ms.unwrap_or(0.0) > 1.8 * b.mean_sojourn_ms.unwrap_or(0.0),
        Fault::Errors => {
            failures(hit) > failures(base) + 100
                || h.queue.as_ref().is_some_and(|q| q.retried > 100)
        }
        Fault::Servers => {
            let r = h.utilization / b.utilization.max(1e-9);
            h.servers != b.servers && !(0.8..=1.25).contains(&r)
        }
        Fault::Instances => {
            h.app.as_ref().is_some_and(|a| a.instances == 3) && h.servers == 3 * b.servers
        }
        Fault::Flush => {
            let (bc, hc) = (b.cache.as_ref().unwrap(), h.cache.as_ref().unwrap());
            hc.misses > bc.misses + 100
        }
        Fault::Shards => h
            .shards
            .as_ref()
            .is_some_and(|s| s.active == 2 && s.last_reshard_moved.is_some_and(|m| m > 0.1)),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "no measurable effect: before {b:?}\nafter {h:?}\ne2e before {:?}\nafter {:?}",
            base.end_to_end, hit.end_to_end
        ))
    }
}

#[test]
fn every_fault_the_engine_accepts_acts_and_the_rest_are_refused() {
    let mut cells = 0;
    for kind in KINDS {
        let text = with_kind(kind);
        let base = run(&text, None).unwrap();
        for fault in Fault::ALL {
            let got = run(&text, Some(fault));
            match (effect(fault, kind), got) {
                (Ok(_), Ok(hit)) => {
                    if let Err(e) = acted(fault, &base, &hit) {
                        panic!("{} on a {kind}: {e}", fault.name());
                    }
                    cells += 1;
                }
                (Err(why), Err(msg)) => {
                    assert!(msg.contains(why), "{} on a {kind}: {msg}", fault.name());
                }
                (Ok(_), Err(msg)) => panic!("{} on a {kind} refused: {msg}", fault.name()),
                (Err(why), Ok(_)) => panic!(
                    "{} on a {kind} accepted, but the table says: {why}",
                    fault.name()
                ),
            }
        }
    }
    assert_eq!(cells, 45, "accepted cells tested");
}

#[test]
fn partitions_between_nodes_that_never_talk_are_refused() {
    let text = with_kind("App");
    let mut s = sim(&text, 1);
    // `x` calls `db`: the cut acts.
    s.apply(Change::Partition {
        a: "db".into(),
        b: "x".into(),
    })
    .unwrap();
    s.step_until(2 * SEC).unwrap();
    assert!(s.report().end_to_end.dropped > 100);
    let text = with_kind("LoadBalancer");
    let mut s = sim(&text, 1);
    let e = s
        .apply(Change::Partition {
            a: "a".into(),
            b: "b".into(),
        })
        .unwrap_err();
    assert!(e.message.contains("no requests go between"), "{e}");
    assert!(e.hint.contains("x"), "{e}");
}

#[test]
fn traffic_scales_closed_loop_users_too() {
    let text = r#"Topology(name: "closed", sources: [Source(id: "u", to: "s", arrivals: Closed(users: 50, think: Exponential(mean: "1s")))],
        nodes: [Station(id: "s", servers: 100, service: Constant("10ms"))])"#;
    let mut s = sim(text, 2);
    s.step_until(30 * SEC).unwrap();
    let a = s.report().end_to_end.completed;
    s.apply(Change::Traffic(2.0)).unwrap();
    s.step_until(60 * SEC).unwrap();
    let b = s.report().end_to_end.completed - a;
    // X = N / (R + Z): 50 / 1.01 s, then 100 / 1.01 s.
    let (x1, x2) = (a as f64 / 30.0, b as f64 / 30.0);
    assert!(
        (x1 - 49.5).abs() < 5.0 && (x2 - 99.0).abs() < 8.0,
        "{x1} then {x2}"
    );
    s.apply(Change::Traffic(0.0)).unwrap();
    s.step_until(90 * SEC).unwrap();
    assert_eq!(s.in_flight(), 0, "every user left");
    s.apply(Change::Traffic(1.0)).unwrap();
    s.step_until(120 * SEC).unwrap();
    let c = s.report().end_to_end.completed;
    s.step_until(150 * SEC).unwrap();
    let x3 = (s.report().end_to_end.completed - c) as f64 / 30.0;
    assert!((x3 - 49.5).abs() < 5.0, "{x3} after coming back");
}

/// Every journey stage, wall and drill start with the node a person would
/// name as its bottleneck: the table in docs/bottlenecks.md (which also says
/// why, and what the tool printed).
fn named() -> Vec<(String, String)> {
    let doc = include_str!("../../docs/bottlenecks.md");
    let rows: Vec<(String, String)> = doc
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
            (cells[1].to_string(), cells[2].to_string())
        })
        .collect();
    assert_eq!(
        rows.len(),
        9 + 16 + 9,
        "the table lists every stage, wall and drill"
    );
    rows
}

/// The report of a scenario's main run (no extra runs for windows).
fn scenario_report(name: &str) -> Report {
    use bottleneck::{scenario, topology};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let path = root.join(format!("{name}.scenario.ron"));
    let s = scenario::parse(name, &std::fs::read(&path).unwrap()).unwrap();
    let t = path.parent().unwrap().join(&s.topology);
    let l = topology::load(name, &std::fs::read(&t).unwrap()).unwrap();
    let mut plan = s.plan(&l.model).unwrap();
    plan.windows.truncate(1);
    plan.thresholds.clear();
    plan.window_of.clear();
    scenario::run(&plan, &l.model, s.seed, false).report
}

#[test]
fn the_named_bottleneck_is_the_node_a_person_would_name() {
    let named = named();
    let half = named.len() / 2;
    let wrong: Vec<String> = std::thread::scope(|scope| {
        let parts: Vec<_> = [&named[..half], &named[half..]]
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|(name, want)| {
                            let r = scenario_report(name);
                            let b = r.bottleneck.as_ref().expect("a bottleneck");
                            (!b.node.starts_with(want.as_str())).then(|| {
                                format!("{name}: named {}, want {want}: {}", b.node, b.reason)
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn callers_that_only_wait_are_not_the_bottleneck() {
    // Apps whose workers wait on a saturated cache (the online shop at 16x):
    // the cache is named, with the chain.
    let text = r#"Topology(name: "shop", sources: [Source(id: "u", to: "app", keys: Zipf(keys: 10000, s: 0.9), arrivals: Poisson(rps: 12000.0))],
        nodes: [
          App(id: "app", workers: 768, queue: 2000, service: Exponential(mean: "2ms"), handle: {"*": [Call(to: "redis")]}),
          Station(id: "redis", servers: 1, service: Exponential(mean: "100us")),
        ])"#;
    let mut s = sim(text, 4);
    s.step_until(20 * SEC).unwrap();
    let r = s.report();
    let b = r.bottleneck.unwrap();
    assert_eq!(b.node, "redis", "{}", b.reason);
    assert_eq!(b.chain, vec!["app".to_string(), "redis".to_string()]);
    assert!(
        b.reason.contains("app waits on it") && b.reason.contains("waiting on redis"),
        "{}",
        b.reason
    );
    assert!(r.nodes["app"].utilization > 0.95);
    assert!(r.nodes["app"].waiting_on_calls > 0.8 * r.nodes["app"].utilization);
    // The timeline names redis too, never the waiting app.
    assert!(
        r.bottleneck_timeline.iter().all(|p| p.node == "redis"),
        "{:?}",
        r.bottleneck_timeline
    );
    // The same app waiting on a slow but idle dependency: its own workers
    // are the limit.
    let slow = text
        .replace(
            "servers: 1, service: Exponential(mean: \"100us\")",
            "servers: 10000, service: Exponential(mean: \"100ms\")",
        )
        .replace("12000.0", "9000.0");
    let mut s = sim(&slow, 4);
    s.step_until(20 * SEC).unwrap();
    let b = s.report().bottleneck.unwrap();
    assert_eq!(b.node, "app", "{}", b.reason);
    assert!(b.reason.contains("waiting on redis"), "{}", b.reason);
}

#[test]
fn an_off_path_queue_is_not_named_while_requests_fail_elsewhere() {
    let text = r#"Topology(name: "mail", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 1000.0))],
        nodes: [
          App(id: "app", workers: 64, service: Exponential(mean: "1ms"), handle: {"*": [Publish(queue: "emails"), Read(db: "db")]}),
          Database(id: "db", servers: 8, max_connections: 16, read: Exponential(mean: "20ms"), write: Exponential(mean: "20ms")),
          Queue(id: "emails", workers: 4, service: Exponential(mean: "3ms")),
        ])"#;
    let mut s = sim(text, 6);
    s.step_until(20 * SEC).unwrap();
    let r = s.report();
    assert!(r.nodes["emails"].utilization > r.nodes["db"].utilization.min(0.5));
    let b = r.bottleneck.unwrap();
    assert_eq!(b.node, "db", "{}", b.reason);
    let f = r.failures.expect("failures are explained");
    assert!(
        f.contains("most began at db") && f.contains("connection limit"),
        "{f}"
    );
}

/// The fault table of docs/faults.md, from the engine's own `effect`.
fn fault_table() -> String {
    let mut out = String::from(
        "# Faults and capacity changes, by node kind\n\n\
         Generated from `bottleneck::sim::effect` by the test\n\
         `trust::the_fault_table_in_the_docs_is_current` (run it with\n\
         `BOTTLENECK_BLESS=1` to rewrite this file). Scenarios (`timeline`), the\n\
         control API and the sandbox accept a change exactly where this table\n\
         gives its effect, and refuse it, with the reason shown here, where it\n\
         does not apply; a scenario is refused when it is loaded, not mid-run.\n\
         The test `trust::every_fault_the_engine_accepts_acts_and_the_rest_are_refused`\n\
         applies every accepted cell and measures its effect.\n\n\
         Besides these: `Up` undoes `Down`; `Slow(factor: 1.0)` and `Errors(rate: 0.0)`\n\
         restore a node; `Partition(a, b)` cuts the network between two nodes that\n\
         exchange requests (routes, backends, shards, origins, calls, published\n\
         messages, pools) and is refused between two that do not; `Heal` restores it;\n\
         `DownRegion`/`UpRegion` take every node of a region down or up; `Traffic(m)`\n\
         multiplies open-loop sources' rates and the number of closed-loop users.\n\n",
    );
    for fault in Fault::ALL {
        out += &format!("## {}\n\n| kind | effect |\n|---|---|\n", fault.name());
        for kind in KINDS {
            let cell = match effect(fault, kind) {
                Ok(e) => e.to_string(),
                Err(why) => format!("refused: {why}"),
            };
            out += &format!("| {kind} | {cell} |\n");
        }
        out += "\n";
    }
    out
}

#[test]
fn the_fault_table_in_the_docs_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/faults.md");
    let want = fault_table();
    if std::env::var_os("BOTTLENECK_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "docs/faults.md is stale: run `BOTTLENECK_BLESS=1 cargo test --test it trust::the_fault_table`"
    );
}

#[test]
fn a_window_judges_its_own_requests_by_their_outcome_however_late() {
    use bottleneck::scenario;
    // Every request takes exactly 2 s; with a 1.5 s client timeout, every
    // one fails, 1.5 s after it arrived.
    let topo = |timeout: &str| {
        format!(
            r#"Topology(name: "slow", sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 100.0) {timeout})],
            nodes: [Station(id: "s", servers: 100000, service: Constant("2s"))])"#
        )
    };
    let judge = |topology: &str, thresholds: &str| {
        let m = model(topology);
        let sc = scenario::parse_str(
            "w.scenario.ron",
            &format!(
                r#"Scenario(name: "w", topology: "t.ron", duration: "20s", warmup: "2s", thresholds: [{thresholds}])"#
            ),
        )
        .unwrap();
        let plan = sc.plan(&m).unwrap();
        scenario::run(&plan, &m, 1, false).values
    };
    // A window ending while its requests are still in service: they count
    // when they complete, 2 s later, and throughput is per second of the
    // window. (Counted at the window's end, it would be 60% of that.)
    let v = judge(
        &topo(""),
        r#""throughput > 1 during 10s..15s", "completed > 1 during 10s..15s", "arrivals > 1 during 10s..15s""#,
    );
    let (tput, done, arrived) = (v[0].unwrap(), v[1].unwrap(), v[2].unwrap());
    assert_eq!(done, arrived, "every request of the window completes");
    assert!((tput - 100.0).abs() < 10.0, "{tput} rps");
    // Requests that fail after the window ends are failures of the window.
    let v = judge(
        &topo(r#", client: Client(timeout: "1500ms")"#),
        r#""error_rate < 0.5 during 10s..11s", "error_rate < 0.5""#,
    );
    assert_eq!(v[0], Some(1.0), "all of the window's requests failed");
    assert_eq!(v[1], Some(1.0));
}

/// Writes `text` to a fresh file in a temporary directory and returns its path.
fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("bn-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const TWO_TIER: &str = r#"Topology(name: "two tiers", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 1000.0))],
 nodes: [
  App(id: "app", workers: 64, service: Exponential(mean: "2ms"), handle: {"*": [Read(db: "db")]}),
  Database(id: "db", servers: 4, read: Exponential(mean: "2ms"), write: Exponential(mean: "4ms")),
 ])"#;

/// The first broken point's value of a `sweep --json`.
fn knee_of(args: &[&str]) -> f64 {
    let out = crate::common::bottleneck(args);
    assert!(out.status.success(), "{}", crate::common::text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = v["points"].as_array().unwrap();
    points
        .iter()
        .find(|p| !p["broken"].as_array().unwrap().is_empty())
        .map_or(f64::INFINITY, |p| p["value"].as_f64().unwrap())
}

#[test]
fn doubling_the_bottleneck_moves_the_knee_and_doubling_another_node_does_not() {
    let sweep = |text: &str, name: &str| {
        let f = temp_file(name, text);
        knee_of(&[
            "sweep",
            &f,
            "--vary",
            "rps",
            "--from",
            "500",
            "--to",
            "6000",
            "--steps",
            "12",
            "--duration",
            "20s",
            "--json",
            "--threshold",
            "p99 < 100ms",
        ])
    };
    let base = sweep(TWO_TIER, "base.ron");
    // The report names the database at the knee.
    let m = model(TWO_TIER);
    let mut s = Simulation::new(&m, RunConfig::default());
    s.apply(Change::Traffic(base / 1000.0)).unwrap();
    s.step_until(20 * SEC).unwrap();
    assert_eq!(s.report().bottleneck.unwrap().node, "db");
    let bigger_db = sweep(&TWO_TIER.replace("servers: 4", "servers: 8"), "db.ron");
    let bigger_app = sweep(&TWO_TIER.replace("workers: 64", "workers: 128"), "app.ron");
    assert!(bigger_db >= 1.5 * base, "db x2: knee {base} -> {bigger_db}");
    assert!(
        (bigger_app - base).abs() <= 500.0 + 1e-9,
        "app x2 (not the bottleneck): knee {base} -> {bigger_app}"
    );
}

#[test]
fn sweeps_refuse_what_would_make_them_lie() {
    use crate::common::{bottleneck, text};
    let f = temp_file("sw.ron", TWO_TIER);
    let g = temp_file("other.ron", &TWO_TIER.replace("servers: 4", "servers: 5"));
    let shard = |file: &str, k: u32, name: &str| {
        let out = bottleneck(&[
            "sweep",
            file,
            "--from",
            "1",
            "--to",
            "3",
            "--steps",
            "4",
            "--duration",
            "10s",
            "--shard",
            &format!("{k}/2"),
            "--json",
        ]);
        assert!(out.status.success());
        temp_file(name, &text(&out.stdout))
    };
    let (a1, a2, b2) = (
        shard(&f, 1, "a1.json"),
        shard(&f, 2, "a2.json"),
        shard(&g, 2, "b2.json"),
    );
    let merged = bottleneck(&["sweep", "--merge", &a1, &a2]);
    assert!(merged.status.success(), "{}", text(&merged.stderr));
    // Another topology's shard.
    let e = bottleneck(&["sweep", "--merge", &a1, &b2]);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        text(&e.stderr).contains("not a shard of the same sweep")
            && text(&e.stderr).contains("topology")
    );
    // A missing shard.
    let e = bottleneck(&["sweep", "--merge", &a1]);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        text(&e.stderr).contains("shards missing: 2/2"),
        "{}",
        text(&e.stderr)
    );
    // A duplicate that disagrees.
    let edited = std::fs::read_to_string(&a2).unwrap().replacen(
        "\"throughput_rps\": ",
        "\"throughput_rps\": 1",
        1,
    );
    let a2x = temp_file("a2x.json", &edited);
    let e = bottleneck(&["sweep", "--merge", &a1, &a2, &a2x]);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        text(&e.stderr).contains("different results"),
        "{}",
        text(&e.stderr)
    );
    // The same duplicate twice is fine.
    assert!(
        bottleneck(&["sweep", "--merge", &a1, &a2, &a2])
            .status
            .success()
    );
    // Ranges that overflow, or go below zero.
    for args in [
        &["sweep", &f, "--log", "--from", "1e-300", "--to", "1e300"][..],
        &["sweep", &f, "--from=-1", "--to", "3"],
        &["sweep", &f, "--from", "1", "--to", "1e9"],
    ] {
        let e = bottleneck(args);
        assert_eq!(e.status.code(), Some(2), "{args:?}: {}", text(&e.stdout));
        assert!(!text(&e.stderr).contains("inf"), "{}", text(&e.stderr));
    }
    // More servers mend things: the answer is where it starts to hold.
    let out = bottleneck(&[
        "sweep",
        &f,
        "--vary",
        "servers:db",
        "--from",
        "1",
        "--to",
        "5",
        "--steps",
        "5",
        "--duration",
        "20s",
        "--threshold",
        "p99 < 100ms",
    ]);
    let t = text(&out.stdout);
    assert!(t.contains("holds from servers:db = "), "{t}");
    assert!(!t.contains("at or below"), "{t}");
}

#[test]
fn small_wrong_results_are_gone() {
    use crate::common::{bottleneck, text};
    use bottleneck::time::Duration;
    // A sign in the middle of a number is not a number.
    for bad in ["+-5ms", "-5ms", "5-ms", "+-0s", "1+2ms"] {
        assert!(Duration::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(Duration::parse("+5ms"), Ok(Duration(5_000_000)));
    let t = r#"Topology(name: "c", sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 1.0))],
        nodes: [Station(id: "s", servers: 1, service: Constant("+-5ms"))])"#;
    assert!(bottleneck::topology::load_str("c.ron", t).is_err());
    // An overload hint never asks for 0 servers (a wrapped cast).
    let t = r#"Topology(name: "o", sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 1000000.0))],
        nodes: [Station(id: "s", servers: 1, service: Pareto(scale: "1s", shape: 1.0001))])"#;
    let w = bottleneck::topology::load_str("o.ron", t)
        .unwrap()
        .warnings
        .to_string();
    assert!(!w.contains("at least 0 servers"), "{w}");
    assert!(w.contains("more than a node may have"), "{w}");
    // A class no handler names is pointed out.
    let t = r#"Topology(name: "m", sources: [Source(id: "u", to: "a", mix: {"browse": 0.9, "order": 0.1}, arrivals: Poisson(rps: 10.0))],
        nodes: [App(id: "a", workers: 4, service: Constant("1ms"), handle: {"browse": [Call(to: "s")]}),
                Station(id: "s", servers: 1, service: Constant("1ms"))])"#;
    let w = bottleneck::topology::load_str("m.ron", t)
        .unwrap()
        .warnings
        .to_string();
    assert!(w.contains("no handler for class `order`"), "{w}");
    // Graph labels say what each kind has.
    let dir = std::env::temp_dir().join(format!("bn-small-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = bottleneck(&["graph", "topologies/journey/06-cdn.ron"]);
    let g = text(&out.stdout);
    assert!(!g.contains("4294967295") && !g.contains("x100000 "), "{g}");
    assert!(g.contains("LoadBalancer · LeastConnections over 3"), "{g}");
    assert!(g.contains("mean read 2ms, write 8ms"), "{g}");
    // Seeds of replications do not wrap past the largest seed.
    let s = dir.join("seed.scenario.ron");
    std::fs::write(
        &s,
        format!(
            r#"Scenario(name: "s", topology: "{}", seed: 18446744073709551615, duration: "10s", thresholds: ["p99 < 1s"])"#,
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/mm1.ron").display()
        ),
    )
    .unwrap();
    let s = s.display().to_string();
    let e = bottleneck(&["check", &s, "--replications", "3"]);
    assert_eq!(e.status.code(), Some(2), "{}", text(&e.stdout));
    assert!(
        text(&e.stderr).contains("would pass the largest seed"),
        "{}",
        text(&e.stderr)
    );
    // JSON says the unit of each measured value.
    let out = bottleneck(&[
        "check",
        "topologies/walls/2a-stampede.scenario.ron",
        "--json",
        "-",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v[0]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["unit"], "ms");
    assert_eq!(rows[1]["unit"], "ratio");
}
