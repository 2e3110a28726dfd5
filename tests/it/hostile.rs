//! Hostile input stays bounded: inputs crafted to hang, exhaust memory or
//! panic, from files, flags and share links. Each runs the binary under
//! generous caps on wall time and address space (`common::bottleneck_capped`:
//! a hang or a blow-up fails the test) and asserts the exit code and the
//! message. Large inputs are made here, at test time. Speed is measured in
//! BENCHMARKS.md ("Hostile input"), never asserted.

use crate::common::{Capped, Stdout, bottleneck_capped, bottleneck_capped_in};
use std::fmt::Write as _;
use std::path::PathBuf;

/// A scratch directory for one test, removed when it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d =
            std::env::temp_dir().join(format!("bottleneck-hostile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    /// Writes `text` to `name` in the directory and gives its path.
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Capped {
    bottleneck_capped(args, Stdout::Capture)
}

/// Asserts the exit code and that stderr says each of `says`.
fn expect(c: &Capped, code: i32, says: &[&str]) {
    assert_eq!(
        c.code,
        Some(code),
        "stderr:\n{}",
        &c.stderr[..c.stderr.len().min(4000)]
    );
    for s in says {
        assert!(
            c.stderr.contains(s),
            "stderr should say {s:?}:\n{}",
            &c.stderr[..c.stderr.len().min(4000)]
        );
    }
}

// ---- Generators (bench/gen.py makes the same shapes for benchmarks). ----

/// N nodes in groups of 100: a source, a balancer over 98 app stations,
/// each sending a fifth of its requests to the group's database.
fn nodes(n: usize) -> String {
    let mut s = String::from("Topology(\n    name: \"many nodes\",\n    sources: [\n");
    let groups = (n / 100).max(1);
    for g in 0..groups {
        let _ = writeln!(
            s,
            "        Source(id: \"users-{g}\", to: \"lb-{g}\", arrivals: Poisson(rps: 10.0)),"
        );
    }
    s.push_str("    ],\n    nodes: [\n");
    for g in 0..groups {
        let apps: Vec<String> = (0..98).map(|i| format!("\"app-{g}-{i}\"")).collect();
        let _ = writeln!(
            s,
            "        LoadBalancer(id: \"lb-{g}\", policy: RoundRobin, to: [{}]),",
            apps.join(", ")
        );
        for i in 0..98 {
            let _ = writeln!(
                s,
                "        Station(id: \"app-{g}-{i}\", servers: 4, service: Exponential(mean: \"5ms\"), routes: [Route(to: \"db-{g}\", p: 0.2)]),"
            );
        }
        let _ = writeln!(
            s,
            "        Station(id: \"db-{g}\", servers: 2, service: Exponential(mean: \"2ms\")),"
        );
    }
    s.push_str("    ],\n)\n");
    s
}

/// A balancer listing the same backend until the text is `size` bytes.
fn balancer(size: usize) -> String {
    let head = "Topology(name: \"lb\", sources: [Source(id: \"u\", to: \"lb\", arrivals: Poisson(rps: 1.0))],\nnodes: [Station(id: \"a\", servers: 1, service: Constant(\"1ms\")),\nLoadBalancer(id: \"lb\", to: [";
    let tail = "])])\n";
    let n = (size - head.len() - tail.len()) / 4;
    format!("{head}{}{tail}", "\"a\",".repeat(n))
}

/// N stations, each routing to a target that is not a node.
fn unknown(n: usize) -> String {
    let mut s = String::from(
        "Topology(name: \"unknown\", sources: [Source(id: \"u\", to: \"n0\", arrivals: Poisson(rps: 1.0))], nodes: [\n",
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "Station(id: \"n{i}\", servers: 1, service: Constant(\"1ms\"), routes: [Route(to: \"x{i}\", p: 0.5)]),"
        );
    }
    s.push_str("])\n");
    s
}

/// N regions of one node each, and no links.
fn regions(n: usize) -> String {
    let mut s = String::from(
        "Topology(name: \"regions\", sources: [Source(id: \"u\", to: \"n0\", arrivals: Poisson(rps: 1.0))], nodes: [\n",
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "Station(id: \"n{i}\", servers: 1, service: Constant(\"1ms\")),"
        );
    }
    s.push_str("], regions: [\n");
    for i in 0..n {
        let _ = writeln!(s, "Region(id: \"r{i}\", nodes: [\"n{i}\"]),");
    }
    s.push_str("])\n");
    s
}

/// N empty regions, written tightly (the issue's 28 KB link).
fn empty_regions(n: usize) -> String {
    let r: String = (0..n)
        .map(|i| format!("Region(id:\"r{i}\",nodes:[]),"))
        .collect();
    format!(
        "Topology(name:\"r\",sources:[Source(id:\"u\",to:\"q\",arrivals:Poisson(rps:1.0))],nodes:[Station(id:\"q\",servers:1,service:Constant(\"1ms\"))],regions:[{r}])"
    )
}

/// One station at `rps`.
fn station(rps: f64) -> String {
    format!(
        "Topology(name: \"one\", sources: [Source(id: \"u\", to: \"q\", arrivals: Poisson(rps: {rps:?}))],\n  nodes: [Station(id: \"q\", servers: 100000, service: Exponential(mean: \"10us\"))])\n"
    )
}

/// A cache-aside app whose cache could hold a billion keys (the issue's
/// 400-byte file).
const GROWING_CACHE: &str = r#"Topology(name: "grow", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 1000000.0), keys: Uniform(keys: 1000000000))],
  nodes: [App(id: "app", workers: 10000, service: Constant("1us"), handle: {"*": [CacheAside(cache: "c", db: "db")]}),
          Cache(id: "c", capacity: 1000000000, servers: 100, service: Constant("1us")),
          Database(id: "db", servers: 100000, read: Constant("1us"), write: Constant("1us"))])
"#;

/// Closed-loop users who never let time pass.
const SPIN: &str = r#"Topology(name: "spin", sources: [Source(id: "people", to: "q", arrivals: Closed(users: 5, think: Constant("0s")))],
  nodes: [Station(id: "q", servers: 1, service: Constant("0s"))])
"#;

const MM1: &str = "topologies/mm1.ron";

// ---- 1. Loading is linear in the file's size. ----

#[test]
fn a_balancer_listing_one_backend_260k_times() {
    let s = Scratch::new("lb");
    let f = s.file("lb.ron", &balancer(1 << 20));
    let c = run(&["validate", &f]);
    expect(
        &c,
        2,
        &["backends, over the limit of 1000", "lb.ron:3:", "node `lb`"],
    );
    assert!(
        c.stderr.len() < 10_000,
        "one message: {} bytes",
        c.stderr.len()
    );
}

#[test]
fn ten_thousand_unknown_route_targets() {
    let s = Scratch::new("unknown");
    let f = s.file("unknown.ron", &unknown(10_000));
    let c = run(&["validate", &f]);
    expect(
        &c,
        2,
        &[
            "`x0` is not a node",
            "unknown.ron:2:",
            "and 9900 more errors",
            "10000 errors in",
        ],
    );
    // A hundred messages, each with a short hint.
    assert!(c.stderr.len() < 100_000, "{} bytes", c.stderr.len());
}

#[test]
fn ten_thousand_nodes_in_four_megabytes_validate() {
    // Each node padded with a comment, to just under the 4 MiB file limit.
    let text = nodes(10_000).replace("),\n", "), // a comment to make the file bigger ............................................................................................................................................................................................................................\n");
    assert!(
        text.len() > 3_500_000 && text.len() < 4 << 20,
        "{}",
        text.len()
    );
    let s = Scratch::new("nodes");
    let f = s.file("n10k.ron", &text);
    let c = run(&["validate", &f]);
    assert_eq!(c.code, Some(0), "{}", c.stderr);
    assert!(
        c.stdout.contains("100 sources, 10000 nodes"),
        "{}",
        c.stdout
    );
}

#[test]
fn ten_thousand_duplicate_ids() {
    let dups: String = (0..10_000)
        .map(|_| "Station(id: \"dup\", servers: 1, service: Constant(\"1ms\")),\n")
        .collect();
    let text = format!(
        "Topology(name: \"d\", sources: [Source(id: \"u\", to: \"dup\", arrivals: Poisson(rps: 1.0))], nodes: [\n{dups}])"
    );
    let s = Scratch::new("dup");
    let f = s.file("dup.ron", &text);
    let c = run(&["validate", &f]);
    expect(
        &c,
        2,
        &[
            "the id `dup` is used twice",
            "dup.ron:3:",
            "and 9899 more errors",
        ],
    );
}

#[test]
fn a_million_routes_stop_at_the_limit() {
    let routes = "Route(to: \"q\", p: 0.0),".repeat(150_000);
    let text = format!(
        "Topology(name: \"r\", sources: [Source(id: \"u\", to: \"q\", arrivals: Poisson(rps: 1.0))],\n nodes: [Station(id: \"q\", servers: 1, service: Constant(\"1ms\"), routes: [{routes}])])"
    );
    let s = Scratch::new("routes");
    let f = s.file("routes.ron", &text);
    expect(
        &run(&["validate", &f]),
        2,
        &["150000 routes, over the limit of 1000"],
    );
}

#[test]
fn a_shard_router_with_a_quarter_million_shards() {
    let shards = "\"db\",".repeat(250_000);
    let text = format!(
        "Topology(name: \"s\", sources: [Source(id: \"u\", to: \"r\", arrivals: Poisson(rps: 1.0))],\n nodes: [ShardRouter(id: \"r\", shards: [{shards}]), Database(id: \"db\", servers: 1, read: Constant(\"1ms\"), write: Constant(\"1ms\"))])"
    );
    let s = Scratch::new("shards");
    let f = s.file("shards.ron", &text);
    expect(
        &run(&["validate", &f]),
        2,
        &["250000 shards", "hint: give 1 to 1000"],
    );
}

#[test]
fn a_handler_with_a_hundred_thousand_steps() {
    let steps = "Call(to: \"db\"),".repeat(100_000);
    let text = format!(
        "Topology(name: \"s\", sources: [Source(id: \"u\", to: \"app\", arrivals: Poisson(rps: 1.0))],\n nodes: [App(id: \"app\", workers: 1, service: Constant(\"1ms\"), handle: {{\"*\": [{steps}]}}), Station(id: \"db\", servers: 1, service: Constant(\"1ms\"))])"
    );
    let s = Scratch::new("steps");
    let f = s.file("steps.ron", &text);
    expect(
        &run(&["validate", &f]),
        2,
        &["100000 steps for `*`, over the limit of 64"],
    );
}

#[test]
fn fifty_thousand_handlers_for_classes_nobody_sends() {
    let handlers: String = (0..50_000)
        .map(|i| format!("\"c{i}\": [Call(to: \"db\")],"))
        .collect();
    let text = format!(
        "Topology(name: \"s\", sources: [Source(id: \"u\", to: \"app\", arrivals: Poisson(rps: 1.0))],\n nodes: [App(id: \"app\", workers: 1, service: Constant(\"1ms\"), handle: {{{handlers}}}), Station(id: \"db\", servers: 1, service: Constant(\"1ms\"))])"
    );
    let s = Scratch::new("handlers");
    let f = s.file("handlers.ron", &text);
    expect(
        &run(&["validate", &f]),
        2,
        &["matches no source's requests", "and 49900 more errors"],
    );
}

#[test]
fn a_mix_of_a_hundred_thousand_classes() {
    let mix: String = (0..100_000)
        .map(|i| format!("\"c{i}\": 0.00001,"))
        .collect();
    let text = format!(
        "Topology(name: \"s\", sources: [Source(id: \"u\", to: \"q\", arrivals: Poisson(rps: 1.0), mix: {{{mix}}})],\n nodes: [Station(id: \"q\", servers: 1, service: Constant(\"1ms\"))])"
    );
    let s = Scratch::new("mix");
    let f = s.file("mix.ron", &text);
    expect(
        &run(&["validate", &f]),
        2,
        &[
            "100000 classes, over the limit of 256",
            "mix.ron:1:",
            "use a few",
        ],
    );
}

#[test]
fn thousands_of_apps_times_hundreds_of_classes() {
    // Compiled, each app would hold its 64 steps for each of 200 classes:
    // 4,000 apps x 200 x 64 steps.
    let mix: String = (0..200).map(|i| format!("\"c{i}\": 0.005,")).collect();
    let steps = "Call(to: \"db\"),".repeat(64);
    let apps: String = (0..4_000)
        .map(|i| format!("App(id: \"a{i}\", workers: 1, service: Constant(\"1ms\"), handle: {{\"*\": [{steps}]}}),\n"))
        .collect();
    let text = format!(
        "Topology(name: \"s\", sources: [Source(id: \"u\", to: \"a0\", arrivals: Poisson(rps: 1.0), mix: {{{mix}}})],\n nodes: [{apps} Station(id: \"db\", servers: 1, service: Constant(\"1ms\"))])"
    );
    let s = Scratch::new("apps");
    let f = s.file("apps.ron", &text);
    expect(
        &run(&["validate", &f]),
        2,
        &[
            "the apps' handlers come to 51200000 steps",
            "apps.ron:2:",
            "over the limit of 1000000",
            "fewer classes",
        ],
    );
}

#[test]
fn a_megabyte_long_id_is_not_repeated_back() {
    let id = "x".repeat(1 << 20);
    let text = format!(
        "Topology(name: \"s\", sources: [Source(id: \"u\", to: \"{id}\", arrivals: Poisson(rps: 1.0))],\n nodes: [Station(id: \"{id}\", servers: 1, service: Constant(\"1ms\"), routes: [Route(to: \"y{id}\", p: 0.5)])])"
    );
    let s = Scratch::new("longid");
    let f = s.file("longid.ron", &text);
    let c = run(&["validate", &f]);
    expect(
        &c,
        2,
        &["is longer than 64 characters", "(1048576 characters)"],
    );
    assert!(
        c.stderr.len() < 20_000,
        "{} bytes of messages",
        c.stderr.len()
    );
}

#[test]
fn a_megabyte_of_open_brackets() {
    let text = format!("Topology(name: {}", "[".repeat(1 << 20));
    let s = Scratch::new("deep");
    let f = s.file("deep.ron", &text);
    expect(
        &run(&["validate", &f]),
        2,
        &["nesting deeper than 48 levels", "deep.ron:1:"],
    );
}

#[test]
fn one_long_line_points_at_its_column() {
    // A minified file: the mistake at the end of a 1.5 MB line.
    let text = unknown(10_000)
        .replace('\n', " ")
        .replace("\"x9999\"", "\"zz\"");
    let text = text.replace("Route(to: \"x", "Route(to: \"n");
    let s = Scratch::new("oneline");
    let f = s.file("oneline.ron", &text);
    let c = run(&["validate", &f]);
    expect(&c, 2, &["`zz` is not a node", "oneline.ron:1:"]);
    let widest = c.stderr.lines().map(str::len).max().unwrap_or(0);
    assert!(widest < 400, "a line of {widest} bytes");
    assert!(
        c.stderr.contains("\"zz\""),
        "the line is shown around the column"
    );
}

#[test]
fn a_scenario_naming_unknown_nodes_ten_thousand_times() {
    let items: String = (0..10_000)
        .map(|i| format!("At(\"1s\", Down(\"nope{i}\")),\n"))
        .collect();
    let text = format!(
        "Scenario(name: \"x\", topology: \"{}/topologies/mm1.ron\", duration: \"10s\", timeline: [\n{items}])",
        env!("CARGO_MANIFEST_DIR")
    );
    let s = Scratch::new("timeline");
    let f = s.file("t.scenario.ron", &text);
    expect(
        &run(&["check", &f]),
        2,
        &[
            "`nope0` is not a node",
            "t.scenario.ron:2:",
            "and 9900 more errors",
        ],
    );
}

#[test]
fn a_scenario_with_a_hundred_thousand_thresholds() {
    let thresholds: String = (0..100_000)
        .map(|i| format!("\"p99 < {i}ms\",\n"))
        .collect();
    let text = format!(
        "Scenario(name: \"x\", topology: \"mm1.ron\", duration: \"10s\", thresholds: [\n{thresholds}])"
    );
    let s = Scratch::new("thresholds");
    let f = s.file("t.scenario.ron", &text);
    expect(
        &run(&["check", &f]),
        2,
        &["100000 thresholds, over the limit of 200"],
    );
}

#[test]
fn a_scenario_of_ten_thousand_ramps() {
    let items: String = (0..10_000)
        .map(|i| format!("At(\"{}s\", Ramp(to: 2.0, over: \"10m\")),\n", i % 3600))
        .collect();
    let text = format!(
        "Scenario(name: \"x\", topology: \"{}/topologies/mm1.ron\", duration: \"2h\", timeline: [\n{items}])",
        env!("CARGO_MANIFEST_DIR")
    );
    let s = Scratch::new("ramps");
    let f = s.file("t.scenario.ron", &text);
    expect(
        &run(&["check", &f]),
        2,
        &["more than 100000 changes", "fewer or shorter ramps"],
    );
}

// ---- 2. Every size has a limit, or an estimate before the run. ----

#[test]
fn three_thousand_regions() {
    let s = Scratch::new("regions3k");
    let f = s.file("r.ron", &regions(3_000));
    let c = run(&["validate", &f]);
    expect(
        &c,
        2,
        &["3000 regions", "over the limit of 100 regions", "r.ron:"],
    );
    assert!(c.stderr.len() < 10_000, "{} bytes", c.stderr.len());
}

#[test]
fn twenty_thousand_regions() {
    // Also over the node limit; neither a latency matrix nor half a
    // million errors is built.
    let s = Scratch::new("regions20k");
    let f = s.file("r.ron", &regions(20_000));
    expect(
        &run(&["validate", &f]),
        2,
        &["20000 nodes, over the limit of 10000"],
    );
    let f = s.file("r2.ron", &regions(9_000));
    expect(&run(&["run", &f]), 2, &["9000 regions"]);
}

#[test]
fn a_cache_that_would_hold_a_billion_keys() {
    let s = Scratch::new("cache");
    let f = s.file("grow.ron", GROWING_CACHE);
    assert!(GROWING_CACHE.len() < 600);
    expect(
        &run(&["run", &f]),
        1,
        &[
            "of memory, over the budget of 2.0 GiB",
            "cache `c`",
            "60,000,000 keys",
            "--max-memory",
        ],
    );
    // The same with a budget that fits a short run: it runs.
    let c = run(&[
        "run",
        &f,
        "--duration",
        "100ms",
        "--max-memory",
        "3GiB",
        "-q",
    ]);
    assert_eq!(c.code, Some(0), "{}", c.stderr);
}

#[test]
fn a_window_of_one_nanosecond() {
    expect(
        &run(&["run", MM1, "--window", "1ns"]),
        2,
        &[
            "--window 1ns makes 60,000,000,000 windows",
            "--window 60us or longer",
        ],
    );
}

#[test]
fn a_series_of_a_million_windows() {
    let c = run(&["run", MM1, "--window", "1us", "--series", "--json"]);
    expect(
        &c,
        2,
        &[
            "over the limit of 100,000 for a printed or drawn series",
            "--window 600us",
        ],
    );
    assert!(c.stdout.is_empty());
    // Unprinted, a shorter window is fine up to the run limit.
    let c = run(&["run", MM1, "--window", "100us", "-q"]);
    assert_eq!(c.code, Some(0), "{}", c.stderr);
}

#[test]
fn a_scenario_window_of_one_nanosecond() {
    let s = Scratch::new("scwindow");
    s.file("mm1.ron", include_str!("../../topologies/mm1.ron"));
    let f = s.file(
        "w.scenario.ron",
        "Scenario(name: \"x\", topology: \"mm1.ron\", duration: \"1h\", window: \"1ns\")",
    );
    expect(
        &run(&["check", &f]),
        2,
        &["the window 1ns is out of range", "w.scenario.ron:1:"],
    );
}

#[test]
fn two_hundred_windows_of_a_day() {
    // Each distinct threshold window is one more run of the scenario (one
    // of them, from the warm-up's end, is the whole run's).
    let thresholds: String = (0..200)
        .map(|i| format!("\"p99 < 1s during {}m..\",\n", i + 1))
        .collect();
    let s = Scratch::new("windows");
    // One run of a day at 100 rps is well within the budget; 200 are not.
    s.file("busy.ron", &station(100.0));
    let f = s.file(
        "w.scenario.ron",
        &format!("Scenario(name: \"x\", topology: \"busy.ron\", duration: \"24h\", thresholds: [\n{thresholds}])"),
    );
    let c = run(&["check", &f]);
    expect(
        &c,
        1,
        &[
            "in 200 runs (one more per measurement window)",
            "--max-events",
        ],
    );
    assert!(
        c.stdout.contains("1 refused (over a budget)"),
        "{}",
        c.stdout
    );
    let one = s.file(
        "one.scenario.ron",
        "Scenario(name: \"x\", topology: \"busy.ron\", duration: \"24h\", thresholds: [\"p99 < 1s during 3h..\"])",
    );
    let c = run(&["check", &one, "--max-events", "1000"]);
    expect(&c, 1, &["in 2 runs", "over the budget of 1,000"]);
}

#[test]
fn health_checks_every_nanosecond() {
    let s = Scratch::new("health");
    let f = s.file(
        "h.ron",
        r#"Topology(name: "h", sources: [Source(id: "u", to: "lb", arrivals: Poisson(rps: 1.0))],
  nodes: [LoadBalancer(id: "lb", to: ["a"], health_check: HealthCheck(every: "1ns", unhealthy_after: 1)),
          Station(id: "a", servers: 1, service: Constant("1ms"))])"#,
    );
    expect(
        &run(&["run", &f]),
        1,
        &["over the budget of 2,000,000,000", "--max-events"],
    );
}

#[test]
fn a_sweep_of_a_big_model_within_a_small_memory_budget() {
    let s = Scratch::new("sweepmem");
    let f = s.file("n2k.ron", &nodes(2_000));
    expect(
        &run(&[
            "sweep",
            &f,
            "--steps",
            "2",
            "--duration",
            "1s",
            "--max-memory",
            "64MiB",
        ]),
        1,
        &[
            "the largest point",
            "2,000 nodes' statistics",
            "--max-memory",
        ],
    );
}

// ---- 3. Every command estimates before it starts, closed loops too. ----

#[test]
fn ten_million_requests_a_second_for_an_hour() {
    let s = Scratch::new("hour");
    s.file("big.ron", &station(10_000_000.0));
    let top = s.path("big.ron");
    let sc = s.file("big.scenario.ron", "Scenario(name: \"big\", topology: \"big.ron\", duration: \"1h\", thresholds: [\"p99 < 1s\"])");
    let says = [
        "needs about 72,000,0",
        "over the budget of 2,000,000,000",
        "--max-events",
    ];
    expect(&run(&["run", &top, "--duration", "1h"]), 1, &says);
    expect(
        &run(&["run", &top, "--duration", "1h"]),
        1,
        &["--> ", "big.ron"],
    );
    // A scenario's run may go on a minute past its end while its requests
    // settle: 61 minutes.
    let check_says = [
        "needs about 73,200,0",
        "over the budget of 2,000,000,000",
        "--max-events",
    ];
    expect(&run(&["check", &sc]), 1, &check_says);
    expect(&run(&["check", &sc]), 1, &["--> ", "big.scenario.ron"]);
    let sweep_says = [
        "at traffic = 2 (the largest point)",
        "needs about 146,400,0",
        "--max-events",
        "sweep to a lower --to",
    ];
    let c = run(&[
        "sweep",
        &top,
        "--duration",
        "1h",
        "--steps",
        "2",
        "--to",
        "2",
    ]);
    expect(&c, 1, &["--> ", "big.ron"]);
    let c = run(&["sweep", &sc, "--steps", "2", "--to", "2"]);
    expect(&c, 1, &["--> ", "big.scenario.ron"]);
    expect(
        &run(&[
            "sweep",
            &top,
            "--duration",
            "1h",
            "--from",
            "1",
            "--to",
            "2",
            "--steps",
            "2",
        ]),
        1,
        &sweep_says,
    );
    expect(
        &run(&["sweep", &sc, "--from", "0.5", "--to", "2", "--steps", "2"]),
        1,
        &sweep_says,
    );
    // A drill graded against that topology.
    s.file(
        "costs.ron",
        include_str!("../../topologies/drills/costs.ron"),
    );
    s.file("d.scenario.ron", "Scenario(name: \"d\", topology: \"big.ron\", duration: \"1h\", thresholds: [\"p99 < 1s\"])");
    let drill = s.file(
        "d.drill.ron",
        r#"Drill(title: "t", level: 1, brief: "b", card: Card(traffic: "t", read_write: "r", latency: "l", availability: "a", survive: "s", budget: 100.0), start: "big.ron", scenario: "d.scenario.ron")"#,
    );
    expect(&run(&["drill", &drill, "--topology", &top]), 1, &check_says);
    // --max-events is the way through, and the engine stops where it says.
    let c = run(&[
        "run",
        &top,
        "--duration",
        "1h",
        "--max-events",
        "100000000000",
        "--max-in-flight",
        "10",
    ]);
    expect(&c, 1, &["more than 10 requests in flight"]);
}

#[test]
fn closed_loop_users_who_never_let_time_pass() {
    let s = Scratch::new("spin");
    let f = s.file("spin.ron", SPIN);
    let says = [
        "think for 0s",
        "without end at t = 0",
        "spin.ron:1:",
        "think time",
    ];
    expect(&run(&["validate", &f]), 2, &says);
    expect(&run(&["run", &f]), 2, &says);
    s.file(
        "s.scenario.ron",
        "Scenario(name: \"s\", topology: \"spin.ron\", duration: \"10s\")",
    );
    expect(&run(&["check", &s.path("s.scenario.ron")]), 2, &says);
    // No think time but real service: bounded by the servers, it runs.
    let f = s.file(
        "busy.ron",
        r#"Topology(name: "busy", sources: [Source(id: "people", to: "q", arrivals: Closed(users: 100000, think: Constant("0s")))],
  nodes: [Station(id: "q", servers: 1, service: Constant("1ms"))])"#,
    );
    let c = run(&["run", &f, "--duration", "10s", "-q"]);
    assert_eq!(c.code, Some(0), "{}", c.stderr);
}

// ---- 4. Files are checked before they are read. ----

#[test]
fn dev_zero_everywhere() {
    let s = Scratch::new("zero");
    expect(
        &run(&["validate", "/dev/zero"]),
        2,
        &["/dev/zero", "it is a device", "give a topology (.ron)"],
    );
    expect(&run(&["run", "/dev/zero"]), 2, &["it is a device"]);
    let sc = s.file(
        "z.scenario.ron",
        "Scenario(name: \"z\", topology: \"/dev/zero\", duration: \"10s\")",
    );
    expect(
        &run(&["check", &sc]),
        2,
        &[
            "cannot read the topology /dev/zero: it is a device",
            "z.scenario.ron:1:",
        ],
    );
    expect(&run(&["check", "/dev/zero"]), 2, &["no scenario files"]);
    expect(
        &run(&["sweep", "--merge", "/dev/zero"]),
        2,
        &["cannot read /dev/zero as a sweep's JSON: it is a device"],
    );
    expect(
        &run(&["drill", "/dev/zero"]),
        2,
        &["it is a device", "give a drill"],
    );
    expect(&run(&["graph", "/dev/zero"]), 2, &["it is a device"]);
}

#[test]
fn a_named_pipe_does_not_block() {
    let s = Scratch::new("fifo");
    let fifo = s.path("pipe.ron");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|st| st.success()) {
        eprintln!("no mkfifo here; skipped");
        return;
    }
    let says = ["named pipe (FIFO)"];
    expect(&run(&["run", &fifo]), 2, &says);
    expect(&run(&["drill", &fifo]), 2, &says);
    let sc = s.file(
        "p.scenario.ron",
        "Scenario(name: \"p\", topology: \"pipe.ron\", duration: \"10s\")",
    );
    expect(&run(&["check", &sc]), 2, &says);
    let pipe_scenario = s.path("q.scenario.ron");
    std::process::Command::new("mkfifo")
        .arg(&pipe_scenario)
        .status()
        .unwrap();
    expect(&run(&["check", &pipe_scenario]), 2, &says);
    expect(&run(&["sweep", "--merge", &fifo]), 2, &says);
}

#[test]
fn a_password_file_is_not_echoed() {
    let s = Scratch::new("passwd");
    let secret = "root:x:0:0:the secret first line:/root:/bin/bash\nsecond:line\n";
    let p = s.file("passwd", secret);
    let sc = s.file(
        "p.scenario.ron",
        &format!("Scenario(name: \"p\", topology: \"{p}\", duration: \"10s\")"),
    );
    let c = run(&["check", &sc]);
    expect(
        &c,
        2,
        &["is not a RON topology", "starts with `Topology(...)`"],
    );
    assert!(!c.stderr.contains("secret"), "{}", c.stderr);
    let c = run(&["validate", &p]);
    expect(&c, 2, &["is not a RON topology"]);
    assert!(!c.stderr.contains("secret") && !c.stdout.contains("secret"));
    let c = run(&["check", &s.file("n.scenario.ron", secret)]);
    expect(&c, 2, &["is not a RON scenario"]);
    assert!(!c.stderr.contains("secret"));
    // JSON is named as such, still not echoed.
    let j = s.file("t.ron", "{\"secret\": 1}");
    let c = run(&["validate", &j]);
    expect(&c, 2, &["looks like JSON"]);
    assert!(!c.stderr.contains("secret"));
}

#[test]
fn files_past_their_size_limit_and_directories() {
    let s = Scratch::new("big");
    let f = s.file("big.ron", &" ".repeat(5 << 20));
    expect(
        &run(&["validate", &f]),
        2,
        &["the file is 5.0 MiB, over the limit of 4.0 MiB"],
    );
    let j = s.file("big.json", &" ".repeat(65 << 20));
    expect(
        &run(&["sweep", "--merge", &j]),
        2,
        &["over the limit of 64.0 MiB"],
    );
    expect(&run(&["validate", "topologies"]), 2, &["it is a directory"]);
    // A drill whose cost model is a device.
    let d = s.file(
        "d.drill.ron",
        r#"Drill(title: "t", level: 1, brief: "b", card: Card(traffic: "t", read_write: "r", latency: "l", availability: "a", survive: "s", budget: 100.0), start: "x.ron", scenario: "x.scenario.ron", costs: "/dev/zero")"#,
    );
    expect(
        &run(&["drill", &d]),
        2,
        &["/dev/zero", "it is a device", "cost model"],
    );
}

// ---- 5. Output errors end the program, never a panic. ----

#[test]
fn a_full_disk_on_stdout() {
    let says = ["cannot write the output: No space left on device"];
    for args in [
        vec!["validate", MM1],
        vec!["graph", MM1],
        vec!["run", MM1, "--duration", "2s"],
        vec!["run", MM1, "--duration", "2s", "--json"],
        vec!["check", "topologies/journey/01-single-server.scenario.ron"],
        vec!["sweep", MM1, "--steps", "2", "--duration", "2s"],
        vec!["drill", "topologies/drills/"],
        vec!["drill", "topologies/drills/01-front-page.drill.ron"],
    ] {
        let c = bottleneck_capped(&args, Stdout::Full);
        expect(&c, 1, &says);
        assert_eq!(
            c.stderr.matches("cannot write").count(),
            1,
            "said once: {}",
            c.stderr
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let s = Scratch::new("pipe");
    let big = s.file("n10k.ron", &nodes(10_000));
    for args in [
        vec!["graph", big.as_str()],
        vec!["validate", MM1, MM1, MM1],
        vec!["run", MM1, "--duration", "2s", "--series", "--json"],
        vec!["check", "topologies/journey/01-single-server.scenario.ron"],
        vec!["sweep", MM1, "--steps", "2", "--duration", "2s"],
        vec!["drill", "topologies/drills/"],
    ] {
        let c = bottleneck_capped(&args, Stdout::Closed);
        assert_eq!(c.code, Some(0), "{args:?}: {}", c.stderr);
        assert!(
            c.stderr.is_empty(),
            "{args:?}: quiet, but said: {}",
            c.stderr
        );
    }
}

#[test]
fn a_closed_stderr() {
    let c = bottleneck_capped_in("exec 2>&-;", &["validate", "/dev/zero"], Stdout::Capture);
    assert_eq!(c.code, Some(2));
    let c = bottleneck_capped_in("exec 2>&-;", &["run", "/nope.ron"], Stdout::Capture);
    assert_eq!(c.code, Some(2));
}

// ---- 6. Loops in the file system. ----

#[test]
fn directories_that_contain_themselves() {
    let s = Scratch::new("loops");
    let dir = s.path("d");
    std::fs::create_dir_all(format!("{dir}/sub")).unwrap();
    std::fs::write(
        format!("{dir}/mm1.ron"),
        include_str!("../../topologies/mm1.ron"),
    )
    .unwrap();
    std::fs::write(
        format!("{dir}/a.scenario.ron"),
        "Scenario(name: \"a\", topology: \"mm1.ron\", duration: \"2s\", thresholds: [\"p99 < 10s\"])",
    )
    .unwrap();
    std::os::unix::fs::symlink(".", format!("{dir}/self")).unwrap();
    std::os::unix::fs::symlink("..", format!("{dir}/sub/up")).unwrap();
    std::os::unix::fs::symlink(
        format!("{dir}/a.scenario.ron"),
        format!("{dir}/sub/b.scenario.ron"),
    )
    .unwrap();
    let c = run(&["check", &dir, &dir, &format!("{dir}/a.scenario.ron")]);
    assert_eq!(c.code, Some(0), "{}", c.stderr);
    assert!(
        c.stdout.contains("1 scenario: 1 as expected"),
        "{}",
        c.stdout
    );
    assert_eq!(c.stdout.matches("a  [pass]").count(), 1, "{}", c.stdout);
}

// ---- 7. Output stays well-formed. ----

#[test]
fn junit_with_control_characters_in_names() {
    let s = Scratch::new("junit");
    s.file("mm1.ron", include_str!("../../topologies/mm1.ron"));
    let f = s.file(
        "c.scenario.ron",
        "Scenario(name: \"bell \\u{7} escape \\u{1b}[31m nul-ish \\u{1} <&>\", topology: \"mm1.ron\", duration: \"2s\", thresholds: [\"p99 < 10s\"])",
    );
    let xml = s.path("out.xml");
    let c = run(&["check", &f, "--junit", &xml]);
    assert_eq!(c.code, Some(0), "{}", c.stderr);
    let out = std::fs::read_to_string(&xml).unwrap();
    assert!(
        out.contains("bell \\u{7} escape \\u{1b}[31m nul-ish \\u{1} &lt;&amp;&gt;"),
        "{out}"
    );
    // XML 1.0 allows no control characters but tab, line feed and return.
    assert!(
        !out.chars()
            .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')),
        "{out:?}"
    );
}

// ---- Share links: the same loader, behind the decoder's own caps. ----

#[test]
fn hostile_share_links_are_refused_with_a_message() {
    use bottleneck::share;
    // 1 MiB of one backend listed over and over, in a small link.
    let link = share::encode(&balancer(share::MAX_TEXT)).unwrap();
    assert!(link.len() < 4_000, "{}", link.len());
    let e = share::open("shared link", &link).unwrap().unwrap_err();
    assert!(e.contains("backends, over the limit of 1000"), "{e}");
    // Eight thousand regions: 64 million latencies, half a million errors.
    let link = share::encode(&empty_regions(8_000)).unwrap();
    assert!(link.len() < share::MAX_FRAGMENT, "{}", link.len());
    let e = share::open("shared link", &link).unwrap().unwrap_err();
    assert!(
        e.contains("8000 regions and 0 links, over the limit of 100 regions"),
        "{e}"
    );
    // A cache that would grow past the sandbox's memory.
    let link = share::encode(GROWING_CACHE).unwrap();
    let e = share::open("shared link", &link).unwrap().unwrap_err();
    assert!(
        e.contains("too big to simulate here") && e.contains("cache `c`"),
        "{e}"
    );
    // Closed-loop users who never let time pass.
    let e = share::open("shared link", &share::encode(SPIN).unwrap())
        .unwrap()
        .unwrap_err();
    assert!(e.contains("without end"), "{e}");
    // Two thousand unknown names.
    let e = share::open("shared link", &share::encode(&unknown(2_000)).unwrap())
        .unwrap()
        .unwrap_err();
    assert!(e.contains("and 1900 more errors"), "{e}");
    // A link that inflates past the limit, and a damaged one.
    let bomb = share::encode(&" ".repeat(4 * share::MAX_TEXT));
    assert!(bomb.is_ok() || bomb.is_err());
    let e = share::decode("t=AAAA").unwrap().unwrap_err();
    assert!(e.contains("damaged"), "{e}");
}
