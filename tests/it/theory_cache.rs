//! A cache's predicted hit ratio (`theory::cache`: Che for LRU, FIFO by
//! Martina-Garetto-Leonardi, LFU's top `C`, TTL) against the engine on
//! generated caches. The documented tolerance (docs/theory.md): 3 points;
//! LFU's prediction is a bound (the engine's sampled LFU within 10 points
//! below it).

use crate::common::{model, run};
use bottleneck::theory::{HIT_ABS, Verdict};
use proptest::prelude::*;

fn cache_run(keys: &str, capacity: u64, eviction: &str, ttl: &str, rps: f64) -> (f64, f64, String) {
    let text = format!(
        "Topology(name: \"c\", sources: [Source(id: \"u\", to: \"app\", arrivals: Poisson(rps: {rps}), keys: {keys})], nodes: [
            App(id: \"app\", workers: 512, service: Constant(\"100us\"), handle: {{\"*\": [CacheAside(cache: \"cache\", db: \"db\")]}}),
            Cache(id: \"cache\", capacity: {capacity}, eviction: {eviction}{ttl}, servers: 8, service: Constant(\"50us\")),
            Database(id: \"db\", servers: 64, read: Constant(\"200us\"), write: Constant(\"200us\")),
        ])"
    );
    let r = run(&model(&text), 1, 200.0, 100.0);
    let n = &r.nodes["cache"];
    let t = n.theory.as_ref().unwrap();
    let predicted = t.hit_ratio.unwrap_or_else(|| panic!("{text}: {}", t.note));
    let measured = n.cache.as_ref().unwrap().hit_ratio.unwrap();
    (
        predicted,
        measured,
        format!("{text}\n{:?} {:?}", t.verdict, t.off),
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xcac4e),
        ..ProptestConfig::default()
    })]

    /// Generated (n, s, C, policy): capacity-bound caches.
    #[test]
    fn capacity_bound_caches_hit_as_predicted(
        n in 1_000u64..50_000,
        s in 0.0f64..1.3,
        share in 0.01f64..0.3,
        policy in 0u8..3,
    ) {
        let eviction = ["Lru", "Fifo", "Lfu"][policy as usize];
        let capacity = ((n as f64 * share) as u64).max(10);
        let keys = format!("Zipf(keys: {n}, s: {s})");
        let (p, m, what) = cache_run(&keys, capacity, eviction, "", 2_000.0);
        if policy == 2 {
            // LFU's top C is a bound, the engine's sampled LFU near it.
            prop_assert!(m <= p + 0.01 && m >= p - 0.10, "{p:.4} predicted, {m:.4} measured: {what}");
        } else {
            prop_assert!((p - m).abs() <= HIT_ABS, "{p:.4} predicted, {m:.4} measured: {what}");
        }
    }

    /// Generated (n, s, TTL): TTL-bound caches (room for every key).
    #[test]
    fn ttl_bound_caches_hit_as_predicted(
        n in 100u64..20_000,
        s in 0.0f64..1.2,
        ttl_ms in 50u64..5_000,
    ) {
        let keys = format!("Zipf(keys: {n}, s: {s})");
        let ttl = format!(", ttl: \"{ttl_ms}ms\"");
        let (p, m, what) = cache_run(&keys, n, "Lru", &ttl, 1_000.0);
        prop_assert!((p - m).abs() <= HIT_ABS, "{p:.4} predicted, {m:.4} measured: {what}");
    }
}

/// A million-key law and a law of 2^40 keys both predict without summing
/// key by key at run time (the integral tail), and agree with the engine.
#[test]
fn huge_key_spaces() {
    let (p, m, what) = cache_run("Zipf(keys: 1_000_000, s: 0.9)", 50_000, "Lru", "", 5_000.0);
    assert!((p - m).abs() <= HIT_ABS, "{p} vs {m}: {what}");
    let g = bottleneck::theory::cache::groups(&bottleneck::keys::Keys::Zipf {
        keys: 1 << 40,
        s: 1.0,
    });
    let h = bottleneck::theory::cache::hit_ratio(
        &g,
        1_000_000,
        bottleneck::theory::cache::Policy::Lru,
        None,
        1.0,
    )
    .unwrap()
    .hit_ratio;
    assert!(h > 0.3 && h < 0.8, "{h}");
}

/// A cache whose hit ratio parts from the prediction diverges and says so;
/// one whose keys are invalidated has no prediction, in words.
#[test]
fn what_is_not_predicted_is_said() {
    let text = r#"Topology(name: "c", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 500), mix: {"read": 0.9, "write": 0.1}, keys: Zipf(keys: 10000, s: 1.0))], nodes: [
        App(id: "app", workers: 64, service: Constant("100us"), handle: {"read": [CacheAside(cache: "cache", db: "db")], "write": [Write(db: "db"), Invalidate(cache: "cache")]}),
        Cache(id: "cache", capacity: 1000, service: Constant("50us")),
        Database(id: "db", servers: 16, read: Constant("1ms"), write: Constant("1ms")),
    ])"#;
    let r = run(&model(text), 1, 30.0, 5.0);
    let t = r.nodes["cache"].theory.as_ref().unwrap();
    assert_eq!(t.hit_ratio, None);
    assert!(
        t.note
            .contains("hit ratio not predicted: writes invalidate"),
        "{}",
        t.note
    );
    assert_ne!(t.verdict, Verdict::Diverges);
}
