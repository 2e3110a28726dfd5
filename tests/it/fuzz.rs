//! The loader, the scenario parser and the share-link decoder under
//! arbitrary input (proptest, byte-level and structured): never a panic,
//! always a diagnostic with a place inside the file when it fails, at most
//! `MAX_DIAGNOSTICS` messages, and whatever loads is estimated and, when
//! small, simulated briefly.
//!
//! CI runs a few hundred cases of each; `BOTTLENECK_FUZZ_CASES=100000 cargo
//! test --test it fuzz` runs longer (see BENCHMARKS.md, "Hostile input").
//! The seeds are fixed, so a run is repeatable; `BOTTLENECK_FUZZ_SEED=N`
//! explores other inputs.

use bottleneck::diag::{LineIndex, MAX_DIAGNOSTICS, pos_of};
use bottleneck::{budget, scenario, share, topology};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// Cases per property: `BOTTLENECK_FUZZ_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("BOTTLENECK_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Proptest's configuration: `cases`, a fixed seed (or
/// `BOTTLENECK_FUZZ_SEED`), no persistence files.
fn config(default_cases: u32, seed: u64) -> ProptestConfig {
    let seed = std::env::var("BOTTLENECK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(seed);
    ProptestConfig {
        cases: cases(default_cases),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..ProptestConfig::default()
    }
}

const SEEDS: [&str; 5] = [
    bottleneck::DEFAULT_TOPOLOGY,
    include_str!("../../topologies/two-stations.ron"),
    include_str!("../../topologies/daily-cycle.ron"),
    include_str!("../../topologies/cache-aside.ron"),
    include_str!("../../topologies/lb-three-apps.ron"),
];

const TOKENS: [&str; 18] = [
    "CacheAside(cache: \"redis\", db: \"app-1\")",
    "Call(to: \"lb\")",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "Station",
    "Route(to: \"x\", p: 2.0)",
    "-1",
    "1e400",
    "NaN",
    "\"5zs\"",
    "servers",
    "Some(",
    "//",
];

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    match topology::load("fuzz.ron", bytes) {
        Ok(l) => {
            // Whatever loads is estimated; when the estimate is small, it
            // must also simulate briefly without trouble.
            let e = budget::estimate(
                &l.model,
                &budget::Run::plain(bottleneck::time::SEC, bottleneck::time::SEC),
            );
            prop_assert!(e.events >= 0.0 && e.memory > 0.0);
            if e.memory > 256e6 {
                return Ok(());
            }
            let mut sim = bottleneck::sim::Simulation::new(
                &l.model,
                bottleneck::sim::RunConfig {
                    max_events: 20_000,
                    max_in_flight: 20_000,
                    ..Default::default()
                },
            );
            let _ = sim.step_until(bottleneck::time::SEC);
            let _ = sim.report().to_json();
        }
        Err(d) => {
            prop_assert!(!d.items.is_empty());
            prop_assert!(d.items.len() <= MAX_DIAGNOSTICS);
            let lines = String::from_utf8_lossy(bytes).lines().count().max(1);
            for item in &d.items {
                prop_assert!(!item.message.is_empty());
                if let Some(p) = item.pos {
                    prop_assert!(
                        p.line >= 1 && p.line <= lines + 1,
                        "line {} of {}",
                        p.line,
                        lines
                    );
                }
            }
            let _ = d.to_string();
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(400, 0xf022))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&bytes)?;
    }

    #[test]
    fn mutated_valid_files(
        which in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, 0usize..18, any::<u8>()), 1..6),
    ) {
        let mut text = SEEDS[which].as_bytes().to_vec();
        for (at, op, tok, byte) in edits {
            let i = at.index(text.len() + 1);
            match op {
                0 => { text.truncate(i); }
                1 => { text.splice(i..i, TOKENS[tok].bytes()); }
                2 => { if i < text.len() { text.remove(i); } }
                _ => { if i < text.len() { text[i] = byte; } }
            }
        }
        check(&text)?;
    }
}

/// A structured topology: up to eight nodes of most kinds, each pointing
/// at later ones (so most files load), with now and then a name that is no
/// node, a number at or past an edge, regions and links, closed-loop users.
fn structured() -> impl Strategy<Value = String> {
    let count = prop_oneof![
        9 => (1u32..200).prop_map(|n| n.to_string()),
        1 => prop_oneof![Just("0"), Just("-1"), Just("1e300"), Just("4294967296"), Just("1000000000")]
            .prop_map(str::to_string),
    ];
    let rate = prop_oneof![
        9 => (1u32..5000).prop_map(|n| format!("{n}.0")),
        1 => prop_oneof![Just("0.0"), Just("-1.0"), Just("1e300"), Just("NaN"), Just("100000000.0")]
            .prop_map(str::to_string),
    ];
    let duration = prop_oneof![
        9 => (1u32..50).prop_map(|n| format!("\"{n}ms\"")),
        1 => prop_oneof![Just("\"0s\""), Just("\"1ns\""), Just("\"300d\""), Just("\"5zs\"")]
            .prop_map(str::to_string),
    ];
    let p = prop_oneof![
        9 => (0u32..10).prop_map(|n| format!("0.{n}")),
        1 => prop_oneof![Just("1.5"), Just("-0.1"), Just("1.0")].prop_map(str::to_string),
    ];
    // A node: its kind, a later node it points at (an offset), and numbers.
    let node = (
        prop_oneof![
            8 => Just(0u8), 3 => Just(1u8), 2 => Just(2u8), 2 => Just(3u8), 2 => Just(4u8),
            2 => Just(5u8), 1 => Just(6u8), 1 => Just(7u8), 1 => Just(8u8)
        ],
        1usize..4,
        count.clone(),
        duration.clone(),
        p,
        rate.clone(),
    );
    let source = (0u8..4, count.clone(), duration.clone(), rate, count);
    (
        prop::collection::vec(source, 1..3),
        prop::collection::vec(node, 1..9),
        prop_oneof![4 => Just(0usize), 1 => 1usize..4],
        any::<bool>(),
        prop_oneof![19 => Just(false), 1 => Just(true)],
    )
        .prop_map(|(sources, nodes, regions, link, typo)| {
            let n = nodes.len();
            // A later node (or, past the end, one that does not exist).
            let after = |i: usize, k: usize| {
                if i + k < n || typo {
                    format!("n{}", i + k)
                } else {
                    format!("n{}", n - 1)
                }
            };
            let mut out: Vec<String> = Vec::new();
            for (i, (kind, k, c, d, p, r)) in nodes.iter().enumerate() {
                let to = after(i, *k);
                let last = i + 1 == n;
                out.push(match kind {
                    _ if last => format!("Station(id: \"n{i}\", servers: {c}, service: Exponential(mean: {d}))"),
                    0 => format!("Station(id: \"n{i}\", servers: {c}, service: Exponential(mean: {d}), routes: [Route(to: \"{to}\", p: {p})])"),
                    1 => format!("LoadBalancer(id: \"n{i}\", to: [\"{to}\"], health_check: HealthCheck(every: {d}, unhealthy_after: 2))"),
                    2 => format!("Cache(id: \"n{i}\", capacity: {c}, service: Constant({d}), ttl: {d})"),
                    3 => format!("Database(id: \"n{i}\", servers: {c}, read: Exponential(mean: {d}), write: Constant({d}))"),
                    4 => format!("RateLimiter(id: \"n{i}\", to: \"{to}\", limit: {r}, per: \"1s\", by: Ip)"),
                    5 => format!("App(id: \"n{i}\", workers: {c}, service: Constant({d}), handle: {{\"*\": [Call(to: \"{to}\"), FanOut(to: \"{to}\", count: 3)]}})"),
                    6 => format!("Queue(id: \"n{i}\", workers: {c}, service: Constant({d}))"),
                    7 => format!("ShardRouter(id: \"n{i}\", shards: [\"{to}\"])"),
                    _ => format!("Replica(id: \"n{i}\", primary: \"{to}\", servers: {c}, read: Constant({d}), lag: Constant({d}))"),
                });
            }
            let srcs: Vec<String> = sources
                .iter()
                .enumerate()
                .map(|(i, (kind, users, think, rps, keys))| match kind {
                    0 | 1 => format!("Source(id: \"s{i}\", to: \"n0\", arrivals: Poisson(rps: {rps}))"),
                    2 => format!("Source(id: \"s{i}\", to: \"n0\", arrivals: Closed(users: {users}, think: Constant({think})), keys: Uniform(keys: {keys}))"),
                    _ => format!("Source(id: \"s{i}\", to: \"n0\", arrivals: Poisson(rps: {rps}), mix: {{\"read\": 0.5, \"write\": 0.5}}, keys: Zipf(keys: {keys}, s: 1.0), client: Client(timeout: {think}, retries: Retries(max: 2, backoff: \"10ms\")))"),
                })
                .collect();
            let regions: Vec<String> = (0..regions)
                .map(|r| {
                    let ns: Vec<String> = (0..n).filter(|i| i % regions == r).map(|i| format!("\"n{i}\"")).collect();
                    format!("Region(id: \"r{r}\", nodes: [{}])", ns.join(", "))
                })
                .collect();
            let links = if link && regions.len() == 2 {
                "Link(a: \"r0\", b: \"r1\", latency: \"40ms\")"
            } else {
                ""
            };
            format!(
                "Topology(\n    name: \"fuzz\",\n    sources: [\n        {}\n    ],\n    nodes: [\n        {}\n    ],\n    regions: [{}],\n    links: [{links}],\n)\n",
                srcs.join(",\n        "),
                out.join(",\n        "),
                regions.join(", ")
            )
        })
}

const SCENARIOS: [&str; 4] = [
    include_str!("../../topologies/walls/2a-stampede.scenario.ron"),
    include_str!("../../topologies/journey/03-load-balancer.scenario.ron"),
    include_str!("../../topologies/walls/6a-retry-storm.scenario.ron"),
    include_str!("../../topologies/drills/01-front-page.scenario.ron"),
];

const SCENARIO_TOKENS: [&str; 14] = [
    "At(\"1s\", Down(\"db\")),",
    "At(\"1s\", Ramp(to: 3.0, over: \"10m\")),",
    "At(\"99h\", Traffic(1e9)),",
    "Exact(\"1s\", 5, Up(\"nope\")),",
    "\"p99 < 1ms during 1m..\",",
    "\"error_rate(db) < 1% after recovery within 10s\",",
    "window: \"1ns\",",
    "duration: \"0s\",",
    "expect_fail: [\"x\"],",
    "(",
    ")",
    "\"",
    "//",
    "Spike(times: 1e308, lasting: \"100000h\")",
];

/// A scenario's text: parsed, planned against the default topology,
/// estimated and, when small, run briefly.
fn check_scenario(bytes: &[u8]) -> Result<(), TestCaseError> {
    let model = topology::load_str("default.ron", bottleneck::DEFAULT_TOPOLOGY)
        .expect("bundled")
        .model;
    match scenario::parse("fuzz.scenario.ron", bytes) {
        Ok(s) => match s.plan(&model) {
            Ok(mut plan) => {
                let e = budget::estimate_plan(&model, &plan, None, false);
                prop_assert!(e.events >= 0.0);
                if plan.windows.len() <= 3 && e.memory < 256e6 {
                    plan.config.max_events = 20_000;
                    plan.config.max_in_flight = 20_000;
                    let _ = scenario::run(&plan, &model, 1, false);
                }
            }
            Err(d) => {
                prop_assert!(!d.items.is_empty() && d.items.len() <= MAX_DIAGNOSTICS);
                let _ = d.to_string();
            }
        },
        Err(d) => {
            prop_assert!(!d.items.is_empty() && d.items.len() <= MAX_DIAGNOSTICS);
            let lines = String::from_utf8_lossy(bytes).lines().count().max(1);
            for item in &d.items {
                if let Some(p) = item.pos {
                    prop_assert!(p.line >= 1 && p.line <= lines + 1);
                }
            }
            let _ = d.to_string();
        }
    }
    Ok(())
}

/// A fragment: decoded within its limits, and opened without trouble.
fn check_link(fragment: &str) -> Result<(), TestCaseError> {
    if let Some(Ok(text)) = share::decode(fragment) {
        prop_assert!(text.len() <= share::MAX_TEXT);
    }
    match share::open("shared link", fragment) {
        None => prop_assert!(!fragment.starts_with("t=")),
        Some(Ok((text, _))) => prop_assert!(text.len() <= share::MAX_TEXT),
        Some(Err(e)) => prop_assert!(!e.is_empty()),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(300, 0x5ce0))]

    #[test]
    fn structured_topologies(text in structured()) {
        check(text.as_bytes())?;
    }

    #[test]
    fn scenario_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_scenario(&bytes)?;
    }

    #[test]
    fn mutated_scenarios(
        which in 0usize..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, 0usize..14, any::<u8>()), 1..6),
    ) {
        let mut text = SCENARIOS[which]
            .replace("../stampede.ron", "default.ron")
            .into_bytes();
        for (at, op, tok, byte) in edits {
            let i = at.index(text.len() + 1);
            match op {
                0 => { text.truncate(i); }
                1 => { text.splice(i..i, SCENARIO_TOKENS[tok].bytes()); }
                2 => { if i < text.len() { text.remove(i); } }
                _ => { if i < text.len() { text[i] = byte; } }
            }
        }
        check_scenario(&text)?;
    }

    #[test]
    fn link_bytes(body in "[A-Za-z0-9_=-]{0,300}") {
        check_link(&format!("t={body}"))?;
    }

    #[test]
    fn mutated_links(
        which in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, "[A-Za-z0-9_-]"), 1..4),
    ) {
        let mut link: Vec<char> = share::encode(SEEDS[which]).unwrap().chars().collect();
        for (at, op, c) in edits {
            let i = 2 + at.index(link.len() - 1);
            let c = c.chars().next().unwrap();
            match op {
                0 => link.truncate(i),
                1 => { if i < link.len() { link[i] = c; } }
                _ => link.insert(i.min(link.len()), c),
            }
        }
        check_link(&link.iter().collect::<String>())?;
    }

    #[test]
    fn links_to_mutated_topologies(
        which in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..18), 1..4),
    ) {
        let mut text = SEEDS[which].to_string();
        for (at, tok) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text.insert_str(i, TOKENS[tok]);
        }
        if let Ok(link) = share::encode(&text) {
            check_link(&link)?;
        }
    }

    #[test]
    fn line_index_agrees_with_counting(text in "(.|\n){0,200}", at in any::<prop::sample::Index>()) {
        let mut i = at.index(text.len() + 1);
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        let before = &text[..i];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let p = LineIndex::new(&text).pos(i);
        prop_assert_eq!((p.line, p.col), (line, col));
        prop_assert_eq!(pos_of(&text, i), p);
    }
}
