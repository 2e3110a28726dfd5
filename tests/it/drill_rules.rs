//! What a drill's candidate may change: grading refuses edits to the
//! workload and the physics (`drill::protect`), nodes the cost model does
//! not price, and a broken cost model; a read-through cache counts as the
//! cache drill 3 teaches.

use crate::common::{bottleneck, text};
use bottleneck::scenario::drill::{self, protect};
use bottleneck::topology::{self, Topology};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn stems() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("tests/drills"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".solution.ron"))
        .map(|n| n.replace(".solution.ron", ""))
        .collect();
    v.sort();
    assert_eq!(v.len(), 9);
    v
}

fn drill_of(stem: &str) -> drill::Drill {
    drill::parse_drill(
        "d",
        &read(&root().join(format!("topologies/drills/{stem}.drill.ron"))),
    )
    .unwrap()
}

fn start(stem: &str) -> Topology {
    let d = drill_of(stem);
    topology::parse(
        "s",
        &read(&root().join(format!("topologies/drills/{}", d.start))),
    )
    .unwrap()
}

fn solution(stem: &str) -> Topology {
    topology::parse(
        "sol",
        &read(&root().join(format!("tests/drills/{stem}.solution.ron"))),
    )
    .unwrap()
}

/// The drill's start with `edits` applied, written to a temporary file.
fn submission(stem: &str, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut t = read(&root().join(format!("topologies/drills/{stem}.start.ron")));
    for (from, to) in edits {
        assert!(t.contains(from), "{stem}: `{from}` is not in the start");
        t = t.replace(from, to);
    }
    let dir = std::env::temp_dir().join(format!("bn-drill-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.ron"));
    std::fs::write(&p, t).unwrap();
    p
}

fn drill_cli(stem: &str, mine: &Path, extra: &[&str]) -> std::process::Output {
    let d = root().join(format!("topologies/drills/{stem}.drill.ron"));
    let mut args = vec![
        "drill".to_string(),
        d.display().to_string(),
        "--topology".into(),
        mine.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    bottleneck(&a)
}

/// Refused before any run: exit 2, every `says` in the message, a place in
/// the submission and a hint.
fn refused(stem: &str, name: &str, edits: &[(&str, &str)], says: &[&str]) {
    let mine = submission(stem, name, edits);
    let o = drill_cli(stem, &mine, &[]);
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{stem}/{name}: {err}{}",
        text(&o.stdout)
    );
    assert!(text(&o.stdout).is_empty(), "nothing is graded");
    for s in says {
        assert!(err.contains(s), "{stem}/{name}: `{s}` not in {err}");
    }
    assert!(err.contains(&format!("{name}.ron:")), "a place: {err}");
    assert!(err.contains("= hint:"), "{err}");
}

#[test]
fn every_reference_solution_changes_nothing_the_drill_gives() {
    for stem in stems() {
        let d = drill_of(&stem);
        let v = protect::violations(&d.protect, &start(&stem), &solution(&stem));
        assert!(v.is_empty(), "{stem}: {v:?}");
        // The start is its own submission.
        assert!(protect::violations(&d.protect, &start(&stem), &start(&stem)).is_empty());
    }
}

/// Every bundled solution passes the CLI's grade, protection included.
#[test]
fn every_reference_solution_passes() {
    for stem in stems() {
        let o = drill_cli(
            &stem,
            &root().join(format!("tests/drills/{stem}.solution.ron")),
            &["--json"],
        );
        let g: serde_json::Value = serde_json::from_str(&text(&o.stdout))
            .unwrap_or_else(|e| panic!("{stem}: {e}: {}", text(&o.stderr)));
        assert_eq!(o.status.code(), Some(0), "{stem}: {:#}", g["reasons"]);
        assert_eq!(g["passed"], true, "{stem}");
    }
}

/// The audit's cheats (d1cheat, d3cheat, decoys): each is refused with what
/// changed, was and is.
#[test]
fn edits_to_the_workload_or_the_physics_are_refused() {
    // d1cheat: the same Station at 100 us.
    refused(
        "01-front-page",
        "fast-station",
        &[
            (
                r#"LogNormal(mean: "12ms", std: "10ms")"#,
                r#"Constant("100us")"#,
            ),
            ("servers: 8", "servers: 1"),
        ],
        &[
            "not allowed: you changed the physics: `server`'s service was LogNormal(mean: \"12ms\", std: \"10ms\"), is Constant(\"100us\")",
            "01-front-page.start.ron",
        ],
    );
    // Less traffic, another mix.
    refused(
        "01-front-page",
        "less-traffic",
        &[("rps: 200", "rps: 50")],
        &[
            "you changed the workload: `sources.users.arrivals` was Poisson(rps: 200), is Poisson(rps: 50)",
        ],
    );
    refused(
        "01-front-page",
        "more-reads",
        &[(r#"{"read": 0.95, "write": 0.05}"#, r#"{"read": 1.0}"#)],
        &["`sources.users.mix` was {\"read\": 0.95, \"write\": 0.05}, is {\"read\": 1}"],
    );
    // The source renamed: one gone, one new.
    refused(
        "01-front-page",
        "renamed-source",
        &[(r#"id: "users""#, r#"id: "bots""#)],
        &["the source `users` is gone", "the source `bots` is new"],
    );
    // The same Station under another name: a new node does the same work.
    refused(
        "01-front-page",
        "renamed-station",
        &[
            (r#"id: "server""#, r#"id: "fast""#),
            (r#"to: "server""#, r#"to: "fast""#),
            (
                r#"LogNormal(mean: "12ms", std: "10ms")"#,
                r#"Constant("1ms")"#,
            ),
        ],
        &[
            "the new Station `fast` has service Constant(\"1ms\"), but the start's Station `server` has LogNormal",
        ],
    );
    // d3cheat: ten keys, a fast app, a fast database write.
    refused(
        "03-reads-outgrow-the-database",
        "ten-keys",
        &[("keys: 1_000_000", "keys: 10")],
        &["`sources.users.keys` was Zipf(keys: 1000000, s: 0.99), is Zipf(keys: 10, s: 0.99)"],
    );
    refused(
        "03-reads-outgrow-the-database",
        "fast-db",
        &[(
            r#"write: Exponential(mean: "8ms")"#,
            r#"write: Exponential(mean: "2ms")"#,
        )],
        &["`db`'s write was Exponential(mean: \"8ms\"), is Exponential(mean: \"2ms\")"],
    );
    // Drill 7: the client's timeout is part of the workload (waiting 10 s
    // never retries a slow charge).
    refused(
        "07-charge-once",
        "timeout-10s",
        &[(r#"timeout: "500ms""#, r#"timeout: "10s""#)],
        &["you changed the workload: `sources."],
    );
}

/// d2os: a kind the drill's cost model does not price is refused; the
/// bundled model prices every kind.
#[test]
fn unpriced_kinds_are_refused_and_the_bundled_model_prices_every_kind() {
    let costs = drill::parse_costs("c", drill::DEFAULT_COSTS).unwrap();
    for k in bottleneck::kind::Kind::ALL {
        assert!(
            costs.prices.contains_key(k.name()),
            "{} has no price",
            k.name()
        );
    }
    let dir = std::env::temp_dir().join(format!("bn-drill-rules-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let c = dir.join("no-cache-price.ron");
    std::fs::write(
        &c,
        drill::DEFAULT_COSTS
            .lines()
            .filter(|l| !l.contains("\"Cache\""))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let sol = root().join("tests/drills/03-reads-outgrow-the-database.solution.ron");
    let o = drill_cli(
        "03-reads-outgrow-the-database",
        &sol,
        &["--costs", &c.display().to_string()],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "not allowed: `cache` is a Cache, and the drill's cost model has no price for it"
        ),
        "{err}"
    );
    assert!(err.contains("solution.ron:18:"), "{err}");
}

/// d3rt: a read-through cache (apps `Call` it, it reads the database) is
/// the cache drill 3 teaches: taking it away fails, so the drill is solved.
#[test]
fn a_read_through_cache_solves_drill_3() {
    let call = r#"handle: {"read": [Read(db: "db")], "write": [Write(db: "db")]}"#;
    let mine = submission(
        "03-reads-outgrow-the-database",
        "read-through",
        &[
            (
                call,
                r#"handle: {"read": [Call(to: "redis")], "write": [Write(db: "db")]}"#,
            ),
            (
                "        Database(id: \"db\"",
                "        Cache(id: \"redis\", capacity: 100_000, servers: 8, service: Exponential(mean: \"150us\"), backend: \"db\"),\n        Database(id: \"db\"",
            ),
        ],
    );
    let o = drill_cli("03-reads-outgrow-the-database", &mine, &["--json"]);
    let g: serde_json::Value = serde_json::from_str(&text(&o.stdout))
        .unwrap_or_else(|e| panic!("{e}: {}", text(&o.stderr)));
    assert_eq!(o.status.code(), Some(0), "{:#}", g["reasons"]);
    let cf = &g["counterfactual"];
    assert_eq!(cf["fails"], true, "{cf:#}");
    assert_eq!(
        cf["changes"][0],
        "`redis`: removed (read-through); what sent to it sends to `db`"
    );
}

/// The cost model refuses what it cannot price right, each with its place.
#[test]
fn a_broken_cost_model_is_refused_with_its_place() {
    let bad = |body: &str, says: &[&str]| {
        let text_ = format!(
            "Costs(\n  currency: \"$\",\n  hours_per_month: 730,\n  prices: {{\n    {body}\n  }},\n)"
        );
        let e = drill::parse_costs("c.ron", &text_).unwrap_err().to_string();
        for s in says {
            assert!(e.contains(s), "`{s}` not in {e}");
        }
    };
    bad(
        r#""Databse": Price(per: Server, hourly: 0.08),"#,
        &[
            "`Databse` is not a kind of node",
            "did you mean `Database`?",
            "c.ron:5:5",
        ],
    );
    bad(
        r#""LoadBalancer": Price(per: HundredThousandKeys, hourly: 0.03),"#,
        &[
            "LoadBalancer is priced `per: HundredThousandKeys`",
            "c.ron:5:5",
            "per Node",
        ],
    );
    bad(
        r#""App": Price(per: Instance, hourly: -0.005),"#,
        &["the price of App is -0.005", "c.ron:5:5"],
    );
    bad(
        r#""Station": Price(per: Server, hourly: 1e308),"#,
        &["the price of Station is 1e308", "0 to 1,000,000"],
    );
    bad(
        r#""Database": Price(per: Server, hourly: 0.08, per_server: 0.01),"#,
        &["Database has a `per_server` price"],
    );
    let c = drill::parse_costs("c", drill::DEFAULT_COSTS).unwrap();
    assert_eq!(c.money(1e20), "$1.000e20", "never saturated");
    assert_eq!(c.money(1234.4), "$1,234");
}

/// A Cache's servers are priced (bundled model: `per_server`), on a line of
/// their own; an App's instances above its autoscaling maximum are refused.
#[test]
fn cache_servers_are_priced_and_instances_stay_within_autoscale() {
    let costs = drill::parse_costs("c", drill::DEFAULT_COSTS).unwrap();
    let m = |servers: u32| {
        topology::load_str(
            "t",
            &format!(
                r#"Topology(name: "t", sources: [Source(id: "u", to: "c", arrivals: Poisson(rps: 10))],
                nodes: [Cache(id: "c", capacity: 100_000, servers: {servers}, service: Constant("100us"), backend: "s"),
                        Station(id: "s", servers: 1, service: Constant("1ms"))])"#
            ),
        )
        .unwrap()
        .model
    };
    let (one, eight) = (costs.report(&m(1)), costs.report(&m(8)));
    let servers = |r: &drill::CostReport| {
        r.lines
            .iter()
            .find(|l| l.node == "c" && l.per == "server")
            .map(|l| (l.units, l.monthly))
    };
    assert_eq!(servers(&one).map(|s| s.0), Some(1.0));
    assert_eq!(servers(&eight).map(|s| s.0), Some(8.0));
    assert!((eight.monthly - one.monthly - 7.0 * 0.01 * 730.0).abs() < 1e-6);
    let e = topology::load_str(
        "asx.ron",
        r#"Topology(name: "asx", sources: [ Source(id: "u", to: "app", arrivals: Poisson(rps: 100.0)) ],
  nodes: [ App(id: "app", instances: 10, workers: 8, service: Constant("1ms"),
            autoscale: Autoscale(target: 0.5, min: 1, max: 3, every: "1s", provision: "1s", cooldown: "1s")) ])"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("`instances` is 10, above the autoscaling maximum of 3"),
        "{e}"
    );
    assert!(e.contains("asx.ron:2:"), "{e}");
}

/// Every number and duration in a JSON value, as paths of object keys and
/// array indices.
fn leaves(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Number(_) => out.push(at.clone()),
        serde_json::Value::String(s) if s.ends_with("ms") || s.ends_with("us") => {
            out.push(at.clone())
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                at.push(k.clone());
                leaves(x, at, out);
                at.pop();
            }
        }
        serde_json::Value::Array(xs) => {
            for (i, x) in xs.iter().enumerate() {
                at.push(i.to_string());
                leaves(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|p| format!("/{p}")).collect()
}

/// A leaf changed to another value of its type.
fn bump(v: &mut serde_json::Value) {
    *v = match &*v {
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(u) => serde_json::json!(u + 1),
            None => serde_json::json!(n.as_f64().unwrap() * 0.5 + 0.125),
        },
        serde_json::Value::String(s) => serde_json::json!(if s == "7ms" { "9ms" } else { "7ms" }),
        x => x.clone(),
    };
}

/// The protected subtrees of a topology's JSON: each source's workload
/// fields and each node's physics fields.
fn protected_leaves(t: &serde_json::Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, s) in t["sources"].as_array().unwrap().iter().enumerate() {
        for f in protect::SOURCE_FIELDS {
            if !s[f].is_null() {
                let mut at = vec!["sources".into(), i.to_string(), f.to_string()];
                leaves(&s[f], &mut at, &mut out);
            }
        }
    }
    for (i, n) in t["nodes"].as_array().unwrap().iter().enumerate() {
        let (kind, body) = n.as_object().unwrap().iter().next().unwrap();
        let k = bottleneck::kind::Kind::from_name(kind).unwrap();
        for f in protect::physics(k) {
            if !body[*f].is_null() {
                let mut at = vec!["nodes".into(), i.to_string(), kind.clone(), f.to_string()];
                leaves(&body[*f], &mut at, &mut out);
            }
        }
    }
    out
}

/// Capacity knobs: the numbers a candidate may change.
fn knobs(t: &serde_json::Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, n) in t["nodes"].as_array().unwrap().iter().enumerate() {
        let (kind, body) = n.as_object().unwrap().iter().next().unwrap();
        for f in [
            "servers",
            "workers",
            "instances",
            "queue",
            "capacity",
            "max_connections",
        ] {
            // An autoscaled app's instances stay within its maximum.
            if (f != "instances" || body["autoscale"].is_null()) && body[f].is_u64() {
                out.push(vec!["nodes".into(), i.to_string(), kind.clone(), f.into()]);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any change to a protected number or duration of any solution is
    /// refused (drill 8 frees its clients' retries and breaker, which are
    /// its fix); a change to a capacity knob is not, and the result loads.
    #[test]
    fn mutations_of_protected_fields_are_refused_and_knobs_are_free(
        which in 0usize..9, pick in any::<prop::sample::Index>(), knob in any::<prop::sample::Index>(), by in 1u64..8,
    ) {
        let stem = &stems()[which];
        let d = drill_of(stem);
        let (s, sol) = (start(stem), solution(stem));
        let json = serde_json::to_value(&sol).unwrap();
        let free = |p: &[String]| {
            d.protect.allow.iter().any(|a| {
                let a: Vec<&str> = a.split('.').collect();
                p.len() >= 4 && a[0] == "sources" && a[1] == p[2] && a.get(2).is_none_or(|x| *x == p[3])
            })
        };
        let all: Vec<Vec<String>> = protected_leaves(&json).into_iter().filter(|p| !free(p)).collect();
        prop_assume!(!all.is_empty());
        let path = &all[pick.index(all.len())];
        let mut mutated = json.clone();
        bump(mutated.pointer_mut(&pointer(path)).unwrap());
        let m: Topology = serde_json::from_value(mutated).unwrap();
        let v = protect::violations(&d.protect, &s, &m);
        prop_assert!(!v.is_empty(), "{stem}: {path:?} changed and not refused");
        prop_assert!(v.iter().all(|v| v.message.starts_with("not allowed: you changed the ")));

        let ks = knobs(&json);
        let path = &ks[knob.index(ks.len())];
        let mut more = json.clone();
        let at = more.pointer_mut(&pointer(path)).unwrap();
        *at = serde_json::json!(at.as_u64().unwrap() + by);
        let m: Topology = serde_json::from_value(more).unwrap();
        let v = protect::violations(&d.protect, &s, &m);
        prop_assert!(v.is_empty(), "{stem}: {path:?} is a knob: {v:?}");
        prop_assert!(topology::load_str("m", &topology::to_ron(&m)).is_ok(), "{stem}: {path:?}");
    }
}
