//! Scenarios, thresholds, replications, recording, sweeps and drills: what
//! CI pipelines and learners rely on.

use crate::common::{bottleneck, model, text};
use bottleneck::scenario::{self, drill};
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::SEC;
use bottleneck::topology;
use std::path::Path;

const MM1: &str = r#"Topology(
    name: "M/M/1",
    sources: [Source(id: "users", to: "q", arrivals: Poisson(rps: 50))],
    nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "10ms"))],
)"#;

fn scenario(text: &str) -> scenario::Scenario {
    match scenario::parse_str("test.scenario.ron", text) {
        Ok(s) => s,
        Err(d) => panic!("{d}"),
    }
}

#[test]
fn windows_measure_their_own_stretch_against_theory() {
    // Traffic goes from 50 to 80 rps at 5 minutes: utilization 0.5, then 0.8.
    let m = model(MM1);
    let s = scenario(
        r#"Scenario(name: "step", topology: "mm1.ron", seed: 3, duration: "15m", warmup: "30s",
            timeline: [At("5m", Traffic(1.6))],
            thresholds: [
                "utilization(q) < 0.6 during 30s..5m",
                "utilization(q) > 0.7 during 6m..",
                "mean(q) < 40ms during 30s..5m",
                "mean(q) > 40ms during 6m..",
            ])"#,
    );
    let plan = s.plan(&m).unwrap();
    assert_eq!(plan.windows.len(), 3, "whole run + two windows");
    let o = scenario::run(&plan, &m, s.seed, false);
    assert!(o.error.is_none());
    let v: Vec<f64> = o.values.iter().map(|v| v.unwrap()).collect();
    // rho = lambda x 10 ms; M/M/1 sojourn W = 1 / (mu - lambda).
    assert!((v[0] - 0.5).abs() < 0.03, "rho before: {}", v[0]);
    assert!((v[1] - 0.8).abs() < 0.04, "rho after: {}", v[1]);
    assert!(
        (v[2] - 20.0).abs() < 2.5,
        "W before: {} ms (theory 20)",
        v[2]
    );
    assert!(
        (v[3] - 50.0).abs() < 12.0,
        "W after: {} ms (theory 50)",
        v[3]
    );
    let verdict = scenario::judge(&s, &[o]);
    assert!(verdict.as_expected(), "{verdict:?}");
}

#[test]
fn replications_give_a_confidence_interval_that_covers_theory() {
    let m = model(MM1);
    let s = scenario(
        r#"Scenario(name: "W", topology: "mm1.ron", seed: 11, duration: "10m", warmup: "30s",
            thresholds: ["mean(q) < 25ms"])"#,
    );
    let plan = s.plan(&m).unwrap();
    let outcomes: Vec<_> = (0..8)
        .map(|r| scenario::run(&plan, &m, s.seed + r, false))
        .collect();
    let v = scenario::judge(&s, &outcomes);
    let est = v.rows[0].measured.unwrap();
    assert_eq!(est.n, 8);
    let ci = est.ci95.unwrap();
    // Theory: W = 1 / (100 - 50) = 20 ms.
    assert!(
        (est.mean - 20.0).abs() <= ci,
        "20 ms outside {} ± {ci}",
        est.mean
    );
    assert!(ci < 1.0, "the interval is sharp: ± {ci} ms");
    assert!(v.rows[0].shown.contains('±'));
}

#[test]
fn cumulative_counters_count_only_inside_their_window() {
    // A cache flushed at 2m: its hit ratio over 2m..2m10s is lower than over
    // the whole run, which the component's whole-run counters alone would hide.
    let m = model(
        r#"Topology(name: "c",
            sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 500), keys: Zipf(keys: 10_000, s: 1.0))],
            nodes: [
                App(id: "app", workers: 64, service: Constant("1ms"), handle: {"*": [CacheAside(cache: "cache", db: "db")]}),
                Cache(id: "cache", capacity: 5_000, service: Constant("100us")),
                Database(id: "db", servers: 16, read: Constant("2ms"), write: Constant("2ms")),
            ])"#,
    );
    let s = scenario(
        r#"Scenario(name: "flush", topology: "c.ron", duration: "4m", warmup: "1m",
            timeline: [At("2m", Flush("cache"))],
            thresholds: ["hit_ratio(cache) > 0", "hit_ratio(cache) > 0 during 2m..2m10s"])"#,
    );
    let plan = s.plan(&m).unwrap();
    let o = scenario::run(&plan, &m, 1, false);
    let (whole, after_flush) = (o.values[0].unwrap(), o.values[1].unwrap());
    assert!(whole > 0.7, "whole run: {whole}");
    assert!(
        after_flush < whole - 0.1,
        "just after the flush: {after_flush} vs {whole}"
    );
}

#[test]
fn after_recovery_counts_from_the_last_restoring_change() {
    let m = model(MM1);
    let s = scenario(
        r#"Scenario(name: "r", topology: "mm1.ron", duration: "5m", warmup: "10s",
            timeline: [At("1m", Down("q")), At("2m", Up("q"))],
            thresholds: ["error_rate < 0.001 after recovery within 30s", "error_rate > 0.1"])"#,
    );
    let plan = s.plan(&m).unwrap();
    assert_eq!(plan.recovery, Some(120 * SEC));
    assert!(plan.windows.contains(&(150 * SEC, 300 * SEC)));
    let o = scenario::run(&plan, &m, 1, false);
    assert_eq!(o.values[0], Some(0.0), "no failures once recovered");
    // A minute down out of 4m50s measured: about 20% fail.
    assert!(
        (o.values[1].unwrap() - 0.207).abs() < 0.02,
        "{:?}",
        o.values[1]
    );
}

#[test]
fn expect_fail_makes_a_before_scenario_as_expected_only_for_its_reason() {
    let m = model(MM1);
    let make = |expect: &str| {
        scenario(&format!(
            r#"Scenario(name: "b", topology: "mm1.ron", duration: "2m", warmup: "10s",
                thresholds: ["utilization(q) < 0.3", "p99 < 1s"], expect_fail: [{expect}])"#
        ))
    };
    let s = make(r#""utilization(q) < 0.3""#);
    let o = scenario::run(&s.plan(&m).unwrap(), &m, 1, false);
    assert!(scenario::judge(&s, std::slice::from_ref(&o)).as_expected());
    // Expecting the wrong threshold to fail is not as expected, both ways.
    let s = make(r#""p99 < 1s""#);
    let v = scenario::judge(&s, &[o]);
    assert!(!v.as_expected());
    assert_eq!(v.rows.iter().filter(|r| !r.as_expected()).count(), 2);
}

#[test]
fn ramps_and_spikes_become_engine_changes() {
    let m = model(MM1);
    let s = scenario(
        r#"Scenario(name: "x", topology: "mm1.ron", duration: "10m",
            timeline: [At("1m", Ramp(to: 2.0, over: "10s")), At("5m", Spike(times: 1.5, lasting: "30s")), At("8m", Rps(25))])"#,
    );
    let p = s.plan(&m).unwrap();
    let t: Vec<(u64, f64)> = p
        .steps
        .iter()
        .map(|s| match s.change {
            Change::Traffic(x) => (s.at / SEC, x),
            _ => panic!("{:?}", s.change),
        })
        .collect();
    assert_eq!(t.len(), 10 + 2 + 1);
    assert_eq!(t[0], (61, 1.1));
    assert_eq!(t[9], (70, 2.0));
    assert_eq!(t[10], (300, 3.0));
    assert_eq!(t[11], (330, 2.0));
    assert_eq!(t[12], (480, 0.5), "25 rps of a 50 rps topology");
}

#[test]
fn a_recorded_session_replays_byte_for_byte() {
    let m = model(MM1);
    let config = RunConfig::default();
    let mut live = Simulation::new(&m, config.clone());
    // Changes between events, as a person clicking would make them.
    for (k, change) in [
        Change::Traffic(1.5),
        Change::Slow {
            node: "q".into(),
            factor: 2.0,
        },
        Change::Servers {
            node: "q".into(),
            servers: 2,
        },
    ]
    .into_iter()
    .enumerate()
    {
        for _ in 0..(777 * (k + 1)) {
            live.step_event().unwrap();
        }
        live.apply(change).unwrap();
    }
    live.step_until(300 * SEC).unwrap();
    let text = scenario::record(
        "session",
        "mm1.ron",
        config.seed,
        bottleneck::time::Duration(300 * SEC),
        live.changes(),
    );
    let s = scenario(&text);
    let plan = s.plan(&m).unwrap();
    let o = scenario::run(&plan, &m, s.seed, false);
    assert_eq!(o.report.to_json(), live.report().to_json());
}

#[test]
fn scenario_mistakes_point_at_their_place() {
    let bad = |t: &str| match scenario::parse_str("s.ron", t) {
        Ok(_) => panic!("accepted: {t}"),
        Err(d) => d.to_string(),
    };
    let e = bad(r#"Scenario(name: "x", topology: "t.ron", duration: "1m",
    thresholds: ["p99 < 200"])"#);
    assert!(
        e.contains("s.ron:2:19") && e.contains("write `200ms`"),
        "{e}"
    );
    let e = bad(r#"Scenario(name: "x", topology: "t.ron", duration: "1m",
    thresholds: ["p99 < 2s"], expect_fail: ["p99 < 3s"])"#);
    assert!(
        e.contains("not one of the thresholds") && e.contains("did you mean"),
        "{e}"
    );
    let e = bad(r#"Scenario(name: "x", topology: "t.ron", duration: "1m", duraton: "2m")"#);
    assert!(e.contains("did you mean `duration`"), "{e}");
    let e = bad(r#"Scenario(name: "x", topology: "t.ron", duration: "1m",
    timeline: [At("2m", Down("q"))])"#);
    assert!(
        e.contains("after the scenario ends") && e.contains("s.ron:2:16"),
        "{e}"
    );
    let e = bad(MM1);
    assert!(e.contains("this is a topology file"), "{e}");
    assert!(e.contains("bottleneck run"), "{e}");
    // Against the model: unknown nodes and kinds.
    let m = model(MM1);
    let s = scenario(
        r#"Scenario(name: "x", topology: "t.ron", duration: "1m",
    timeline: [At("10s", Down("qq"))],
    thresholds: ["hit_ratio(q) > 0.5", "error_rate < 1% after recovery within 10s"])"#,
    );
    let e = s.plan(&m).unwrap_err().to_string();
    assert!(
        e.contains("`qq` is not a node") && e.contains("did you mean `q`?"),
        "{e}"
    );
    assert!(e.contains("`hit_ratio` is measured on Cache or Cdn"), "{e}");
    assert!(e.contains("restores nothing"), "{e}");
}

#[test]
fn every_bundled_scenario_parses_and_plans_against_its_topology() {
    let mut n = 0;
    for dir in [
        "topologies/walls",
        "topologies/journey",
        "topologies/drills",
    ] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if !p.to_string_lossy().ends_with(".scenario.ron") {
                continue;
            }
            let name = p.display().to_string();
            let s = scenario::parse(&name, &std::fs::read(&p).unwrap())
                .unwrap_or_else(|d| panic!("{d}"));
            let t = p.parent().unwrap().join(&s.topology);
            let l = topology::load(&t.display().to_string(), &std::fs::read(&t).unwrap())
                .unwrap_or_else(|d| panic!("{d}"));
            s.plan(&l.model).unwrap_or_else(|d| panic!("{d}"));
            n += 1;
        }
    }
    assert!(n >= 8 * 2 + 9 + 9, "{n} scenarios");
}

#[test]
fn each_drill_fails_from_its_start_and_passes_with_a_reference_solution() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let costs_text = std::fs::read_to_string(root.join("topologies/drills/costs.ron")).unwrap();
    let costs = drill::parse_costs("costs.ron", &costs_text).unwrap();
    let mut drills: Vec<_> = std::fs::read_dir(root.join("topologies/drills"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".drill.ron"))
        .collect();
    drills.sort();
    assert!(drills.len() >= 8);
    let mut levels = Vec::new();
    for p in drills {
        let d = drill::parse_drill("d", &std::fs::read_to_string(&p).unwrap()).unwrap();
        levels.push(d.level);
        let dir = p.parent().unwrap();
        let sc_path = dir.join(&d.scenario);
        let s = scenario::parse_str("s", &std::fs::read_to_string(&sc_path).unwrap()).unwrap();
        let stem = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".drill.ron", "");
        for (file, should_pass) in [
            (dir.join(&d.start), false),
            (root.join(format!("tests/drills/{stem}.solution.ron")), true),
        ] {
            let l = topology::load("t", &std::fs::read(&file).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let plan = s.plan(&l.model).unwrap_or_else(|e| panic!("{e}"));
            let o = scenario::run(&plan, &l.model, s.seed, false);
            let g = drill::grade(&d, &s, &[o], &l.model, &costs);
            assert_eq!(g.passed, should_pass, "{}: {:?}", file.display(), g.reasons);
            if !should_pass {
                assert!(!g.reasons.is_empty());
            }
        }
    }
    // Rising difficulty.
    let mut sorted = levels.clone();
    sorted.sort();
    assert_eq!(levels, sorted);
}

#[test]
fn check_exits_99_when_a_threshold_is_not_as_expected_and_writes_junit() {
    let dir = std::env::temp_dir().join(format!("bn-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/mm1.ron"),
        dir.join("mm1.ron"),
    )
    .unwrap();
    let write = |name: &str, thresholds: &str| {
        let p = dir.join(name);
        std::fs::write(
            &p,
            format!(
                r#"Scenario(name: "{name}", topology: "mm1.ron", duration: "1m", thresholds: [{thresholds}])"#
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let good = write("good.scenario.ron", r#""error_rate == 0""#);
    let bad = write("bad.scenario.ron", r#""p99 < 1ms""#);
    let junit = dir.join("out.xml").display().to_string();
    let o = bottleneck(&["check", &good]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = bottleneck(&[
        "check",
        &good,
        &bad,
        "--junit",
        &junit,
        "--replications",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(99), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("p99 < 1ms") && out.contains("FAIL"), "{out}");
    assert!(out.contains("2 scenarios: 1 as expected"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure message=\"threshold failed: measured"),
        "{xml}"
    );
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    // A directory is searched; topologies in it are skipped.
    let o = bottleneck(&["check", &dir.display().to_string(), "--json", "-"]);
    assert_eq!(o.status.code(), Some(99));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    // Bad input: 2.
    let o = bottleneck(&["check", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sweep_finds_the_mm1_knee_where_theory_puts_it() {
    // M/M/1 with 10 ms service: the sojourn p99 is ln(100) / (mu - lambda),
    // under 200 ms while lambda < 100 - 23.0 = 77 rps.
    let file = std::env::temp_dir().join(format!("bn-mm1-{}.ron", std::process::id()));
    std::fs::write(&file, MM1).unwrap();
    let o = bottleneck(&[
        "sweep",
        &file.display().to_string(),
        "--vary",
        "rps",
        "--from",
        "50",
        "--to",
        "100",
        "--steps",
        "6",
        "--threshold",
        "p99 < 200ms",
        "--duration",
        "20m",
    ]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        out.contains("knee: between rps = 70 (holds) and 80"),
        "{out}"
    );
}

#[test]
fn drill_grades_a_solution_and_explains_a_failure() {
    let d = "topologies/drills/01-front-page.drill.ron";
    let o = bottleneck(&[d]);
    assert!(!o.status.success(), "a drill file is not a subcommand");
    let o = bottleneck(&["drill", d]);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("budget         $1,000 a month"));
    let o = bottleneck(&[
        "drill",
        d,
        "--topology",
        "topologies/drills/01-front-page.start.ron",
    ]);
    assert_eq!(o.status.code(), Some(99));
    let out = text(&o.stdout);
    assert!(
        out.contains("FAIL:") && out.contains("`p99 < 200ms` fails"),
        "{out}"
    );
    assert!(out.contains("bottleneck: server"), "{out}");
    let o = bottleneck(&[
        "drill",
        d,
        "--topology",
        "tests/drills/01-front-page.solution.ron",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("PASS"));
}

#[test]
fn drill_hints_are_revealed_one_at_a_time_and_give_nothing_away() {
    let d = "topologies/drills/03-reads-outgrow-the-database.drill.ron";
    let start = "topologies/drills/03-reads-outgrow-the-database.start.ron";
    let o = bottleneck(&["drill", d, "--topology", start]);
    let out = text(&o.stdout);
    assert!(out.contains("hint 1 of "), "{out}");
    assert!(!out.contains("hint 2 of "), "{out}");
    assert!(out.contains("add `--hints 2` to see the next"), "{out}");
    let o = bottleneck(&["drill", d, "--topology", start, "--hints", "2"]);
    let out = text(&o.stdout);
    assert!(out.contains("hint 2 of "), "{out}");
    // Every path a hint names exists.
    for f in std::fs::read_dir("topologies/drills").unwrap() {
        let p = f.unwrap().path();
        let t = std::fs::read_to_string(&p).unwrap();
        for w in t.split(|c: char| c.is_whitespace() || c == '"' || c == '(' || c == ')') {
            let w = w.trim_end_matches(['.', ',']);
            if w.starts_with("topologies/") && w.ends_with(".ron") {
                assert!(
                    std::path::Path::new(w).exists(),
                    "{} names {w}",
                    p.display()
                );
            }
        }
    }
    // A start file does not hold the answer (drill 7's is idempotency keys).
    let seven = std::fs::read_to_string("topologies/drills/07-charge-once.start.ron").unwrap();
    assert!(!seven.contains("idempotency_keys"), "{seven}");
}

#[test]
fn an_exact_item_that_does_not_fit_the_run_is_refused_not_moved() {
    let m = model(MM1);
    let run = |timeline: &str| {
        let s = scenario(&format!(
            r#"Scenario(name: "x", topology: "mm1.ron", duration: "30s", timeline: [{timeline}], thresholds: ["error_rate < 1%"])"#
        ));
        let plan = s.plan(&m).map_err(|d| d.to_string())?;
        let o = scenario::run(&plan, &m, s.seed, false);
        o.error.map_or(Ok(o.report), Err)
    };
    // Far more events than happen by 10 s at 50 rps: stops at 10 s, at once.
    let e = run(r#"Exact("10s", 999999999, Down("q"))"#).unwrap_err();
    assert!(
        e.contains("does not fit") && e.contains("At(\"10s\""),
        "{e}"
    );
    // Far fewer: the count is passed long before 10 s.
    let e = run(r#"Exact("10s", 5, Down("q"))"#).unwrap_err();
    assert!(e.contains("does not fit"), "{e}");
    // Counts that fall as time grows cannot both be right.
    let e = run(r#"Exact("10s", 1000, Down("q")), Exact("5s", 2000, Up("q"))"#).unwrap_err();
    assert!(e.contains("cannot come after fewer events"), "{e}");
}

#[test]
fn sessions_recorded_between_events_and_between_frames_replay_exactly() {
    let m = model(MM1);
    let config = RunConfig::default();
    // Changes made after stepping by events (a person pressing `.`) and
    // after stepping by time (frames), in several interleavings.
    for seed in 1..=6u64 {
        let mut live = Simulation::new(&m, config.clone());
        let mut t = 0;
        for k in 0..4u64 {
            if (seed + k) % 2 == 0 {
                for _ in 0..(97 * seed + 31 * k) {
                    live.step_event().unwrap();
                }
            } else {
                t = live.now().max(t) + (seed * 700 + k * 300) * bottleneck::time::MS;
                live.step_until(t).unwrap();
            }
            let change = match k {
                0 => Change::Traffic(1.0 + seed as f64 / 10.0),
                1 => Change::Slow {
                    node: "q".into(),
                    factor: 1.5,
                },
                2 => Change::Servers {
                    node: "q".into(),
                    servers: 2,
                },
                _ => Change::Traffic(0.8),
            };
            live.apply(change).unwrap();
        }
        live.step_until(60 * SEC).unwrap();
        let text = scenario::record(
            "session",
            "mm1.ron",
            config.seed,
            bottleneck::time::Duration(60 * SEC),
            live.changes(),
        );
        let s = scenario(&text);
        let plan = s.plan(&m).unwrap();
        let o = scenario::run(&plan, &m, s.seed, false);
        assert_eq!(o.error, None, "seed {seed}");
        assert_eq!(
            o.report.to_json(),
            live.report().to_json(),
            "seed {seed}:\n{text}"
        );
    }
}

#[test]
fn junit_and_json_report_the_scenarios_that_could_not_run() {
    let dir = std::env::temp_dir().join(format!("bn-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/mm1.ron"),
        dir.join("mm1.ron"),
    )
    .unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let good = write(
        "a-good.scenario.ron",
        r#"Scenario(name: "good", topology: "mm1.ron", duration: "20s", thresholds: ["error_rate == 0"])"#,
    );
    // A misspelt metric: it does not load.
    let typo = write(
        "b-typo.scenario.ron",
        r#"Scenario(name: "typo", topology: "mm1.ron", duration: "20s", thresholds: ["utilisation(q) < 0.5"])"#,
    );
    // Far past the event budget: refused before it runs.
    let huge = write(
        "c-huge.scenario.ron",
        r#"Scenario(name: "huge", topology: "mm1.ron", duration: "300d", thresholds: ["error_rate == 0"])"#,
    );
    let junit = dir.join("out.xml").display().to_string();
    let json = dir.join("out.json").display().to_string();
    let o = bottleneck(&[
        "check", &good, &typo, &huge, "--junit", &junit, "--json", &json,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("errors=\"2\""), "{xml}");
    assert!(
        xml.contains("b-typo.scenario.ron") && xml.contains("c-huge.scenario.ron"),
        "{xml}"
    );
    assert_eq!(xml.matches("<error message=").count(), 2, "{xml}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let files: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 3, "{v}");
    assert!(files[0].ends_with("a-good.scenario.ron"));
    assert!(files[1].ends_with("b-typo.scenario.ron"));
    assert!(files[2].ends_with("c-huge.scenario.ron"));
    assert!(
        v[1]["errors"][0].as_str().unwrap().contains("utilisation"),
        "{v}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
