//! The loader under arbitrary input: never a panic, always a diagnostic with
//! a place inside the file when it fails.

use bottleneck::topology;
use proptest::prelude::*;

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
            // Whatever loads must also simulate briefly without trouble.
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
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0xf022), ..ProptestConfig::default() })]

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
