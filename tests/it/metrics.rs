//! Per-class and per-source metrics, goodput, thresholds on them, `run
//! --scenario`, the series as CSV, and `bottleneck cost`.

use crate::common::{bottleneck, model, text};
use bottleneck::report::{Report, SeriesReport};
use bottleneck::scenario;
use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};

/// An online shop: browsing is fast; 1.5% of requests are orders, which
/// call a payment provider taking 150 ms on average (exponential). Two
/// sources: the web with client timeouts and retries, and a mobile app.
const SHOP: &str = r#"Topology(
    name: "shop",
    sources: [
        Source(id: "web", to: "app", arrivals: Poisson(rps: 300),
               mix: {"browse": 0.985, "order": 0.015},
               client: Client(timeout: "2s", retries: Retries(max: 2, backoff: "10ms"))),
        Source(id: "mobile", to: "app", arrivals: Poisson(rps: 100),
               mix: {"browse": 0.985, "order": 0.015}),
    ],
    nodes: [
        App(id: "app", instances: 1, workers: 64, queue: 200, service: Exponential(mean: "2ms"),
            handle: {"browse": [Call(to: "db")], "order": [Call(to: "db"), Call(to: "payment")]}),
        Station(id: "db", servers: 8, queue: 100, service: Exponential(mean: "5ms")),
        Station(id: "payment", servers: 64, service: Exponential(mean: "150ms")),
    ],
)"#;

fn run(text: &str, seed: u64, secs: u64, warmup: u64, deadline: Option<Duration>) -> Report {
    let m = model(text);
    let mut sim = Simulation::new(
        &m,
        RunConfig {
            seed,
            warmup: Duration(warmup * SEC),
            deadline,
            ..RunConfig::default()
        },
    );
    sim.step_until(secs * SEC).unwrap();
    let mut r = sim.report();
    r.series = Some(sim.series_report());
    r
}

#[test]
fn classes_and_sources_add_up_to_the_total() {
    // Overload the database for a while so that requests are dropped, time
    // out and are retried: every counter has something to count.
    let busy = SHOP.replace("rps: 300", "rps: 1700");
    for seed in 1..=3 {
        let r = run(&busy, seed, 30, 5, None);
        let e = &r.end_to_end;
        assert!(e.dropped > 0 && e.retries > 0, "the run exercises failures");
        for groups in [&r.classes, &r.sources] {
            assert_eq!(groups.0.len(), 2);
            let sum = |f: &dyn Fn(&bottleneck::report::GroupReport) -> u64| {
                groups.0.iter().map(|(_, g)| f(g)).sum::<u64>()
            };
            assert_eq!(sum(&|g| g.arrivals), e.arrivals);
            assert_eq!(sum(&|g| g.completed), e.completed);
            assert_eq!(sum(&|g| g.dropped), e.dropped);
            assert_eq!(sum(&|g| g.in_flight), e.in_flight);
            assert_eq!(Some(sum(&|g| g.good)), e.good);
            for (name, g) in &groups.0 {
                assert_eq!(
                    g.arrivals,
                    g.completed + g.dropped + g.in_flight,
                    "{name}: the books balance"
                );
                assert!(g.good <= g.completed);
            }
        }
        // Window by window, too (every request, warm-up included).
        let s = r.series.as_ref().unwrap();
        for (w, total) in s.end_to_end.iter().enumerate() {
            for named in [&s.classes, &s.sources] {
                let arrivals: u64 = named.iter().map(|(_, x)| x[w].arrivals).sum();
                let completed: u64 = named.iter().map(|(_, x)| x[w].completed).sum();
                let dropped: u64 = named.iter().map(|(_, x)| x[w].dropped).sum();
                let good: u64 = named.iter().map(|(_, x)| x[w].good.unwrap()).sum();
                assert_eq!(
                    (arrivals, completed, dropped, Some(good)),
                    (total.arrivals, total.completed, total.dropped, total.good),
                    "window {w}"
                );
            }
        }
    }
}

#[test]
fn one_class_and_one_source_add_nothing_to_the_report() {
    let r = run(
        r#"Topology(name: "one", sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 100))],
            nodes: [Station(id: "s", servers: 2, service: Exponential(mean: "10ms"))])"#,
        1,
        10,
        1,
        None,
    );
    assert!(r.classes.is_empty() && r.sources.is_empty());
    let json = r.to_json();
    for key in ["\"classes\"", "\"sources\"", "\"good\"", "\"goodput_rps\""] {
        assert!(!json.contains(key), "{key} is not in a one-class report");
    }
    assert!(!r.to_table().contains("goodput"));
}

#[test]
fn a_class_threshold_catches_the_slow_class_that_the_end_to_end_p99_hides() {
    let m = model(SHOP);
    let s = scenario::parse_str(
        "shop.scenario.ron",
        r#"Scenario(name: "shop", topology: "shop.ron", seed: 1, duration: "2m", warmup: "10s",
            thresholds: [
                "p99 < 150ms",
                "p99{class:order} < 300ms",
                "p99{class:browse} < 50ms",
                "error_rate{source:mobile} < 0.1%",
                "throughput{class:order} > 4",
            ])"#,
    )
    .unwrap();
    let plan = s.plan(&m).unwrap();
    let outcomes: Vec<_> = (1..=3)
        .map(|seed| scenario::run(&plan, &m, seed, false))
        .collect();
    let v = scenario::judge(&s, &outcomes);
    let passed: Vec<bool> = v.rows.iter().map(|r| r.passed).collect();
    for r in &v.rows {
        eprintln!("{}: {}", r.threshold, r.shown);
    }
    // Orders are 1.5% of requests: the end-to-end p99 sits among the
    // fastest two thirds of them, under the payment's mean; the orders' own
    // p99 is about 150 ms x ln(100) = 690 ms.
    assert_eq!(passed, vec![true, false, true, true, true]);
    let order = outcomes[0].values[1].unwrap();
    assert!(order > 500.0, "the orders' p99 is {order} ms");
}

#[test]
fn class_and_source_tags_are_checked_against_the_topology() {
    let m = model(SHOP);
    let plan_err = |t: &str| {
        let text = format!(
            r#"Scenario(name: "x", topology: "shop.ron", duration: "1m", thresholds: ["{t}"])"#
        );
        let s = scenario::parse_str("x.scenario.ron", &text).unwrap();
        s.plan(&m).unwrap_err().to_string()
    };
    let e = plan_err("p99{class:ordr} < 300ms");
    assert!(e.contains("no class `ordr`"), "{e}");
    assert!(e.contains("did you mean `order`"), "{e}");
    assert!(e.contains("browse, order"), "{e}");
    let e = plan_err("error_rate{source:phone} < 1%");
    assert!(
        e.contains("no source `phone`") && e.contains("web, mobile"),
        "{e}"
    );
    let parse_err = |t: &str| scenario::Threshold::parse(t).unwrap_err().to_string();
    assert!(parse_err("p99(app){class:order} < 1s").contains("end to end, not at a node"));
    assert!(parse_err("retries{class:order} < 5").contains("not kept per class"));
    assert!(parse_err("p99{region:eu} < 1s").contains("unknown tag `region`"));
    assert!(parse_err("p99{class:order < 1s").contains("does not close"));
    assert!(parse_err("p99{class} < 1s").contains("has no `:`"));
    // A topology with one class: its name is the default, and the tag
    // judges the whole traffic.
    let one = model(
        r#"Topology(name: "one", sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 50))],
            nodes: [Station(id: "s", servers: 1, service: Exponential(mean: "10ms"))])"#,
    );
    let s = scenario::parse_str(
        "one.scenario.ron",
        r#"Scenario(name: "one", topology: "one.ron", duration: "1m",
            thresholds: ["p99{class:request} < 1s", "p99{source:u} < 1s", "p99{class:x} < 1s"])"#,
    )
    .unwrap();
    let e = s.plan(&one).unwrap_err().to_string();
    assert!(
        e.contains("no class `x`") && e.contains("mix"),
        "a lone class is named, with how to make more: {e}"
    );
    let s = scenario::parse_str(
        "one.scenario.ron",
        r#"Scenario(name: "one", topology: "one.ron", duration: "1m",
            thresholds: ["p99{class:request} < 1s", "p99 < 1s", "goodput{source:u} > 40"])"#,
    )
    .unwrap();
    let plan = s.plan(&one).unwrap();
    let o = scenario::run(&plan, &one, 1, false);
    assert_eq!(o.values[0], o.values[1], "the one class is the whole");
    assert!(scenario::judge(&s, &[o]).as_expected());
}

/// The retry storm of wall 6: after the slowdown ends, the API stays full
/// of attempts whose clients have given up.
const STORM: &str = r#"Scenario(
    name: "retry storm, judged by goodput",
    topology: "retry-storm.ron",
    duration: "3m",
    warmup: "30s",
    timeline: [At("1m", Slow(node: "api", factor: 2.0)), At("90s", Slow(node: "api", factor: 1.0))],
    thresholds: [
        "goodput > 600 during 30s..1m",
        "throughput(api) > 750 during 2m..",
        "goodput < 10 during 2m..",
        "good_ratio < 1% during 2m..",
    ],
)"#;

#[test]
fn goodput_is_zero_while_throughput_stays_high_in_a_retry_storm() {
    let m = bottleneck::topology::load(
        "retry-storm.ron",
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/topologies/retry-storm.ron"
        ))
        .unwrap(),
    )
    .unwrap()
    .model;
    let s = scenario::parse_str("storm.scenario.ron", STORM).unwrap();
    let plan = s.plan(&m).unwrap();
    let o = scenario::run(&plan, &m, 1, false);
    let v = scenario::judge(&s, std::slice::from_ref(&o));
    for r in &v.rows {
        eprintln!("{}: {}", r.threshold, r.shown);
    }
    assert!(v.rows.iter().all(|r| r.passed), "{:?}", o.values);
    // The clients' timeout is the deadline: before the storm nearly every
    // answer is good.
    let e = &o.report.end_to_end;
    assert!(e.good.is_some() && e.goodput_rps.unwrap() <= e.throughput_rps);
    // The series says it window by window: the server completes ~800 a
    // second while no answer reaches a client in time.
    let r = run_storm_series(&m, &plan);
    let api = &r.nodes[0].1;
    for (w, (node, total)) in api
        .iter()
        .zip(&r.end_to_end)
        .enumerate()
        .take(180)
        .skip(130)
    {
        assert!(node.completed > 700, "window {w}: {}", node.completed);
        assert_eq!(total.good, Some(0), "window {w}");
    }
}

fn run_storm_series(m: &bottleneck::model::Model, plan: &scenario::Plan) -> SeriesReport {
    let mut sim = Simulation::new(m, plan.config.clone());
    let mut player = scenario::Player::new(plan);
    player.step_until(&mut sim, plan.duration).unwrap();
    assert_eq!(player.applied(), 2);
    sim.series_report()
}

#[test]
fn a_deadline_makes_late_successes_not_good() {
    // No client timeout: every success is good, unless the run names a
    // deadline; then the orders (150 ms of payment) mostly are not.
    let r = run(SHOP, 1, 20, 2, None);
    assert_eq!(
        r.sources.get("mobile").map(|g| g.good),
        r.sources.get("mobile").map(|g| g.completed)
    );
    let r = run(SHOP, 1, 20, 2, Some(Duration(100 * bottleneck::time::MS)));
    let order = r.classes.get("order").unwrap();
    let browse = r.classes.get("browse").unwrap();
    assert!(
        (order.good as f64) < 0.6 * order.completed as f64,
        "orders within 100 ms: {} of {}",
        order.good,
        order.completed
    );
    assert!(browse.good as f64 > 0.99 * browse.completed as f64);
    assert!((order.goodput_rps - order.good as f64 / r.measured_s).abs() < 1e-9);
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bn-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn run_with_a_scenario_shows_the_fault_in_its_series() {
    let sc = temp("slow-db.scenario.ron");
    let top = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topologies/journey/05-cache.ron"
    );
    std::fs::write(
        &sc,
        format!(
            r#"Scenario(name: "slow db", topology: "{top}", seed: 3, duration: "20s", warmup: "2s",
                timeline: [At("8s", Slow(node: "db", factor: 10.0)), At("14s", Slow(node: "db", factor: 1.0))],
                thresholds: ["p99 < 1s"])"#
        ),
    )
    .unwrap();
    let sc = sc.to_str().unwrap();
    let faulted = json(&bottleneck(&[
        "run",
        "--scenario",
        sc,
        "--json",
        "--series",
        "--quiet",
    ]));
    let plain = json(&bottleneck(&[
        "run",
        top,
        "--seed",
        "3",
        "--duration",
        "20s",
        "--warmup",
        "2s",
        "--json",
        "--series",
        "--quiet",
    ]));
    assert_eq!(faulted["changes"].as_array().unwrap().len(), 2);
    let e2e = |r: &serde_json::Value, w: usize| r["series"]["end_to_end"][w].clone();
    let p99 = |r: &serde_json::Value, w: usize| e2e(r, w)["p99_ms"].as_f64().unwrap();
    // Before the fault the runs are the same run (same seed, same events).
    for w in 0..8 {
        assert_eq!(e2e(&faulted, w), e2e(&plain, w), "window {w}");
    }
    // During it the database's utilization and the latency rise; after it
    // they come back.
    let db = |r: &serde_json::Value, w: usize| {
        let nodes = r["series"]["nodes"].as_array().unwrap();
        let db = nodes.iter().find(|n| n[0] == "db").unwrap();
        db[1][w]["utilization"].as_f64().unwrap()
    };
    for w in 9..14 {
        assert!(db(&faulted, w) > 0.9, "window {w}: db {}", db(&faulted, w));
        assert!(p99(&faulted, w) > 10.0 * p99(&plain, w), "window {w}");
    }
    for w in 16..20 {
        assert!(
            p99(&faulted, w) < 2.0 * p99(&plain, w),
            "window {w}: recovered"
        );
    }
    // The flags override the scenario's settings.
    let short = json(&bottleneck(&[
        "run",
        "--scenario",
        sc,
        "--duration",
        "5s",
        "--seed",
        "9",
        "--json",
        "--quiet",
    ]));
    assert_eq!(short["seed"], 9);
    assert_eq!(short["simulated_s"], 5.0);
    assert_eq!(short["changes"].as_array().unwrap().len(), 0);
}

#[test]
fn run_with_a_bad_scenario_says_where() {
    let sc = temp("bad.scenario.ron");
    std::fs::write(
        &sc,
        r#"Scenario(name: "bad", topology: "nowhere.ron", duration: "10s")"#,
    )
    .unwrap();
    let out = bottleneck(&["run", "--scenario", sc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot read the topology") && err.contains("relative to the scenario"),
        "{err}"
    );
    let out = bottleneck(&["run", "--json", "--series-csv", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("both print on stdout"));
}

#[test]
fn the_series_as_csv_parses_and_matches_the_json() {
    let csv_path = temp("series.csv");
    let csv_arg = csv_path.to_str().unwrap();
    let r = json(&bottleneck(&[
        "run",
        "topologies/journey/05-cache.ron",
        "--duration",
        "12s",
        "--deadline",
        "20ms",
        "--json",
        "--series",
        "--series-csv",
        csv_arg,
        "--quiet",
    ]));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let stdout = bottleneck(&[
        "run",
        "topologies/journey/05-cache.ron",
        "--duration",
        "12s",
        "--deadline",
        "20ms",
        "--series-csv",
        "-",
        "--quiet",
    ]);
    assert_eq!(text(&stdout.stdout), csv, "`-` prints the same CSV alone");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..3], ["scope", "id", "t_s"]);
    let s = &r["series"];
    let mut expected = Vec::new();
    let mut add = |scope: &str, id: &str, ws: &serde_json::Value| {
        for w in ws.as_array().unwrap() {
            expected.push((scope.to_string(), id.to_string(), w.clone()));
        }
    };
    add("end_to_end", "", &s["end_to_end"]);
    for key in ["nodes", "classes", "sources"] {
        let scope = &key[..key.len() - (if key == "classes" { 2 } else { 1 })];
        for pair in s[key].as_array().into_iter().flatten() {
            add(scope, pair[0].as_str().unwrap(), &pair[1]);
        }
    }
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), expected.len());
    assert!(expected.iter().any(|(scope, _, _)| scope == "class"));
    for (row, (scope, id, w)) in rows.iter().zip(&expected) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{row}");
        assert_eq!((cells[0], cells[1]), (scope.as_str(), id.as_str()));
        for (k, name) in header.iter().enumerate().skip(2) {
            let want = &w[*name];
            if want.is_null() {
                assert_eq!(cells[k], "", "{row}: {name}");
            } else {
                let got: f64 = cells[k].parse().unwrap();
                assert_eq!(got, want.as_f64().unwrap(), "{row}: {name}");
            }
        }
    }
}

#[test]
fn cost_prices_any_topology() {
    let r = json(&bottleneck(&[
        "cost",
        "topologies/journey/05-cache.ron",
        "--json",
    ]));
    let lines = r["lines"].as_array().unwrap();
    let sum: f64 = lines.iter().map(|l| l["monthly"].as_f64().unwrap()).sum();
    assert!((sum - r["monthly"].as_f64().unwrap()).abs() < 1e-6);
    // The same prices as a drill's grade (the bundled cost model).
    let costs = bottleneck::scenario::drill::parse_costs(
        "costs.ron",
        bottleneck::scenario::drill::DEFAULT_COSTS,
    )
    .unwrap();
    let m = bottleneck::topology::load(
        "05.ron",
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/topologies/journey/05-cache.ron"
        ))
        .unwrap(),
    )
    .unwrap()
    .model;
    let want: f64 = costs.of(&m).iter().map(|l| l.monthly).sum();
    assert!((want - sum).abs() < 1e-6);
    let table = text(&bottleneck(&["cost", "topologies/journey/05-cache.ron"]).stdout);
    assert!(table.contains("total") && table.contains("db"), "{table}");
    // Another cost model, and one that is wrong.
    let cheap = temp("cheap.ron");
    std::fs::write(
        &cheap,
        r#"Costs(currency: "€", hours_per_month: 730, prices: {"Database": Price(per: Node, hourly: 1.0)})"#,
    )
    .unwrap();
    let out = text(
        &bottleneck(&[
            "cost",
            "topologies/journey/05-cache.ron",
            "--costs",
            cheap.to_str().unwrap(),
        ])
        .stdout,
    );
    assert!(out.contains("€730") && out.contains("not priced"), "{out}");
    std::fs::write(
        &cheap,
        r#"Costs(currency: "$", hours_per_month: 9999, prices: {})"#,
    )
    .unwrap();
    let out = bottleneck(&["cost", "--costs", cheap.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("hours_per_month"));
}

#[test]
fn every_replication_must_pass_when_asked() {
    let m = model(
        r#"Topology(name: "mm1", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 70))],
            nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "10ms"))])"#,
    );
    let text = |limit: &str| {
        format!(
            r#"Scenario(name: "mm1", topology: "mm1.ron", duration: "1m", warmup: "5s",
                thresholds: ["mean < {limit}", "mean < 1s"])"#
        )
    };
    let s = scenario::parse_str("mm1.scenario.ron", &text("1s")).unwrap();
    let plan = s.plan(&m).unwrap();
    let outcomes: Vec<_> = (1..=5)
        .map(|seed| scenario::run(&plan, &m, seed, false))
        .collect();
    let values: Vec<f64> = outcomes.iter().map(|o| o.values[0].unwrap()).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let worst = values.iter().cloned().fold(0.0, f64::max);
    assert!(worst > mean * 1.01, "the replications differ: {values:?}");
    // A limit just above the mean: the mean passes, the worst seed does not.
    let limit_us = (mean * 1000.0).ceil() as u64 + 1;
    let limit = format!("{limit_us}us");
    let s = scenario::parse_str("mm1.scenario.ron", &text(&limit)).unwrap();
    let on_mean = scenario::judge(&s, &outcomes);
    assert!(on_mean.rows[0].passed && on_mean.rows[0].replications_passed.is_none());
    let every = scenario::judge_by(&s, &outcomes, scenario::Rule::Every);
    let held = values
        .iter()
        .filter(|&&v| v < limit_us as f64 / 1000.0)
        .count() as u32;
    assert!(!every.rows[0].passed);
    assert_eq!(every.rows[0].replications_passed, Some(held));
    assert!(every.rows[1].passed && every.rows[1].replications_passed == Some(5));
    // The rule's JSON field appears only when the rule is asked for.
    let json = serde_json::to_string(&on_mean).unwrap();
    assert!(!json.contains("replications_passed"));
}

#[test]
fn check_says_in_how_many_replications_a_threshold_held() {
    let out = bottleneck(&[
        "check",
        "topologies/journey/01-single-server.scenario.ron",
        "--replications",
        "2",
        "--every-replication",
    ]);
    let t = text(&out.stdout);
    assert!(t.contains("(held in 2 of 2)"), "{t}");
}
