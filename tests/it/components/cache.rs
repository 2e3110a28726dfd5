//! Cache: hit ratios against theory, invalidation, stampedes and their fixes, eviction, write-through.

use super::*;

fn cache_aside(capacity: u64, write_share: f64, single_flight: bool) -> String {
    format!(
        r#"Topology(name: "ca", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 500),
            mix: {{"read": {}, "write": {write_share}}}, keys: Zipf(keys: 5000, s: 0.8))],
        nodes: [
            App(id: "app", workers: 1000, service: Constant("100us"),
                handle: {{"read": [CacheAside(cache: "redis", db: "db")], "write": [Write(db: "db"), Invalidate(cache: "redis")]}}),
            Cache(id: "redis", capacity: {capacity}, service: Constant("50us"), servers: 4, single_flight: {single_flight}),
            Database(id: "db", servers: 64, read: Constant("1ms"), write: Constant("2ms")),
        ])"#,
        1.0 - write_share
    )
}

#[test]
fn cache_aside_hit_ratio_matches_ches_approximation() {
    // Read-only, no TTL: the cache is an LRU under the independent reference
    // model, so Che's approximation applies (see cache_store's unit test).
    let law = bottleneck::keys::Keys::Zipf { keys: 5000, s: 0.8 };
    let p = law.probabilities();
    let c = 500.0;
    let occupancy = |t: f64| p.iter().map(|&pi| 1.0 - (-pi * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1e9);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if occupancy(mid) < c {
            lo = mid
        } else {
            hi = mid
        }
    }
    let che: f64 = p.iter().map(|&pi| pi * (1.0 - (-pi * lo).exp())).sum();
    let m = model(&cache_aside(500, 0.0, false));
    let mut s = Simulation::new(
        &m,
        RunConfig {
            seed: 4,
            warmup: Duration(100 * SEC),
            ..RunConfig::default()
        },
    );
    s.step_until(1100 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let cache = r.nodes["redis"].cache.as_ref().unwrap();
    let hit = cache.hit_ratio.unwrap();
    // 500k reads: binomial se 0.0007. A key requested again while its fill is
    // in flight (1.2 ms) misses twice, a small extra; allow 0.01.
    assert!(
        (hit - che).abs() < 0.01,
        "hit ratio {hit:.4} vs Che {che:.4}"
    );
    // Every miss read the database, every hit did not.
    assert_eq!(r.nodes["db"].arrivals, cache.misses);
}

#[test]
fn writes_invalidate_and_lower_the_hit_ratio() {
    let run = |w: f64| {
        let mut s = sim(&cache_aside(500, w, false), 5);
        s.step_until(300 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let (read_only, mixed) = (run(0.0), run(0.2));
    let h0 = read_only.nodes["redis"]
        .cache
        .as_ref()
        .unwrap()
        .hit_ratio
        .unwrap();
    let h1 = mixed.nodes["redis"]
        .cache
        .as_ref()
        .unwrap()
        .hit_ratio
        .unwrap();
    assert!(h1 < h0 - 0.02, "{h0} -> {h1}");
    // Each write is one database write and one cache delete; each read one get.
    let app = &mixed.nodes["app"];
    let db = &mixed.nodes["db"];
    let cache = mixed.nodes["redis"].cache.as_ref().unwrap();
    assert!(
        db.arrivals > cache.misses,
        "{} vs {}",
        db.arrivals,
        cache.misses
    );
    assert!(mixed.nodes["redis"].arrivals >= app.arrivals);
}

#[test]
fn a_stampede_on_a_hot_key_and_single_flight() {
    let text = include_str!("../../../topologies/stampede.ron");
    let run = |t: &str| {
        let mut s = sim(t, 6);
        s.step_until(60 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let before = run(text);
    let after = run(&text.replace("single_flight: false", "single_flight: true"));
    let (db0, db1) = (&before.nodes["db"], &after.nodes["db"]);
    // Without coalescing every expiry of the hot key sends a burst of reads.
    assert!(
        db0.arrivals > 4 * db1.arrivals,
        "db reads {} vs {}",
        db0.arrivals,
        db1.arrivals
    );
    assert!(db0.database.as_ref().unwrap().refused > 1000);
    assert_eq!(db1.database.as_ref().unwrap().refused, 0);
    assert!(after.nodes["redis"].cache.as_ref().unwrap().coalesced > 1000);
    assert_eq!(before.nodes["redis"].cache.as_ref().unwrap().coalesced, 0);
    assert!(before.end_to_end.dropped > 1000 && after.end_to_end.dropped == 0);
}

#[test]
fn flushing_the_cache_sends_every_read_to_the_database() {
    let mut s = sim(&cache_aside(2000, 0.0, false), 7);
    s.step_until(60 * SEC).unwrap();
    s.apply(Change::Flush("redis".into())).unwrap();
    s.step_until(70 * SEC).unwrap();
    let db = s.model().node_index("db").unwrap();
    let per_second: Vec<u64> = s.series(db).records().map(|w| w.arrivals).collect();
    let before = per_second[50..60].iter().sum::<u64>() as f64 / 10.0;
    let right_after = per_second[60] as f64;
    assert!(
        right_after > 2.0 * before,
        "{before} -> {right_after}: {per_second:?}"
    );
    assert!(s.apply(Change::Flush("db".into())).is_err());
}

#[test]
fn stale_while_revalidate_ends_the_stampede() {
    let text = include_str!("../../../topologies/stampede.ron");
    let swr = text.replace(
        "single_flight: false)",
        "single_flight: false, stale_while_revalidate: \"1s\")",
    );
    assert_ne!(swr, text);
    let config = RunConfig {
        seed: 27,
        warmup: Duration(10 * SEC),
        ..RunConfig::default()
    };
    let mut s = Simulation::new(&model(&swr), config);
    s.step_until(70 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let c = r.nodes["redis"].cache.as_ref().unwrap();
    // After the first fill of each key (the warm-up), every expiry is served
    // stale and refreshed once in the background: no reader waits for the
    // database, and the database sees about one read per key per TTL.
    assert!(c.misses <= 10, "{c:?}");
    assert!(c.stale_hits > 1000, "{c:?}");
    let db_reads = r.nodes["db"].arrivals;
    assert!(
        (db_reads as i64 - c.stale_hits as i64 - c.misses as i64).abs() <= 60,
        "{db_reads} vs {c:?}"
    );
    assert_eq!(r.end_to_end.dropped, 0);
    assert!(
        r.end_to_end.p99_ms.unwrap() < 10.0,
        "{:?}",
        r.end_to_end.p99_ms
    );
}

#[test]
fn lfu_eviction_runs_in_a_cache() {
    let t = cache_aside(500, 0.0, false).replace(
        "servers: 4, single_flight",
        "eviction: Lfu, servers: 4, single_flight",
    );
    assert!(t.contains("Lfu"));
    let mut s = sim(&t, 28);
    s.step_until(300 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let lfu = r.nodes["redis"].cache.as_ref().unwrap().hit_ratio.unwrap();
    let mut s = sim(&cache_aside(500, 0.0, false), 28);
    s.step_until(300 * SEC).unwrap();
    let lru = s.report().nodes["redis"]
        .cache
        .as_ref()
        .unwrap()
        .hit_ratio
        .unwrap();
    // Under a stationary Zipf law, frequency is the better predictor.
    assert!(lfu > lru, "LFU {lfu} vs LRU {lru}");
}

#[test]
fn write_through_keeps_written_keys_cached() {
    let through = include_str!("../../../topologies/closed-loop.ron");
    let invalidate = through.replace(
        "[WriteThrough(cache: \"redis\", db: \"db\")]",
        "[Write(db: \"db\"), Invalidate(cache: \"redis\")]",
    );
    assert_ne!(through, invalidate);
    let hit = |t: &str| {
        let mut s = sim(t, 35);
        s.step_until(120 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r.nodes["redis"].cache.as_ref().unwrap().hit_ratio.unwrap()
    };
    let (wt, inv) = (hit(through), hit(&invalidate));
    assert!(wt > inv + 0.02, "write-through {wt} vs invalidate {inv}");
}
