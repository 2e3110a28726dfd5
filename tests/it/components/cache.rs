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

// Read-through: the cache on the request path, reading misses itself.

fn read_through(extra: &str, db_read: &str, client: &str, keys: &str) -> String {
    format!(
        r#"Topology(name: "rt", sources: [Source(id: "u", to: "cache", arrivals: Poisson(rps: 500),
            keys: {keys}{client})],
        nodes: [
            Cache(id: "cache", capacity: 500, service: Constant("50us"), servers: 4, backend: "db"{extra}),
            Database(id: "db", servers: 64, read: {db_read}, write: Constant("2ms")),
        ])"#
    )
}

fn cache_of(r: &Report, id: &str) -> bottleneck::kinds::cache::CacheReport {
    r.nodes[id].cache.clone().unwrap()
}

#[test]
fn read_through_hit_ratio_matches_ches_approximation() {
    // As for cache-aside: an LRU under independent references.
    let law = bottleneck::keys::Keys::Zipf { keys: 5000, s: 0.8 };
    let p = law.probabilities();
    let occupancy = |t: f64| p.iter().map(|&pi| 1.0 - (-pi * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1e9);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if occupancy(mid) < 500.0 {
            lo = mid
        } else {
            hi = mid
        }
    }
    let che: f64 = p.iter().map(|&pi| pi * (1.0 - (-pi * lo).exp())).sum();
    let text = read_through("", "Constant(\"1ms\")", "", "Zipf(keys: 5000, s: 0.8)");
    let mut s = Simulation::new(
        &model(&text),
        RunConfig {
            seed: 4,
            warmup: Duration(100 * SEC),
            ..RunConfig::default()
        },
    );
    s.step_until(1100 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let c = cache_of(&r, "cache");
    let hit = c.hit_ratio.unwrap();
    assert!(
        (hit - che).abs() < 0.01,
        "hit ratio {hit:.4} vs Che {che:.4}"
    );
    // Every miss is one fetch, and the database saw exactly the fetches.
    let rt = c.read_through.unwrap();
    assert_eq!(rt.backend, "db");
    assert_eq!(rt.fetches, c.misses);
    assert_eq!(r.nodes["db"].arrivals, rt.fetches);
    assert_eq!(rt.failed + rt.late_fills + rt.refreshes, 0);
    // A miss is answered after the database's 1 ms; a hit after 50 us.
    let e = &r.end_to_end;
    let mean = e.mean_ms.unwrap();
    let expect = 0.05 + (1.0 - hit) * 1.0;
    assert!((mean - expect).abs() < 0.02, "mean {mean} vs {expect}");
}

#[test]
fn read_through_fills_from_late_answers_where_cache_aside_cannot() {
    // Ten keys, a database that takes 3 s, clients that give up after 1 s.
    // Read-through: the first fetch of each key times out for its client,
    // but its answer still fills the key, and from then on reads hit.
    let text = read_through(
        "",
        "Constant(\"3s\")",
        ", client: Client(timeout: \"1s\")",
        "Uniform(keys: 10)",
    );
    let mut s = sim(&text, 9);
    s.step_until(30 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let c = cache_of(&r, "cache");
    let rt = c.read_through.clone().unwrap();
    assert!(rt.late_fills >= 10, "{rt:?}");
    assert!(c.hit_ratio.unwrap() > 0.85, "{c:?}");
    let e = &r.end_to_end;
    assert!(e.good.unwrap() as f64 > 0.85 * e.arrivals as f64, "{e:?}");
    // Cache-aside with an app that stops waiting for the database after
    // 1 s: the late answer is dropped with the call, no key is ever filled,
    // and every read fails.
    let aside = r#"Topology(name: "ca", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 500),
            keys: Uniform(keys: 10))],
        nodes: [
            App(id: "app", workers: 10000, service: Constant("0ms"), calls: CallPolicy(timeout: "1s"),
                handle: {"*": [CacheAside(cache: "cache", db: "db")]}),
            Cache(id: "cache", capacity: 500, service: Constant("50us"), servers: 4),
            Database(id: "db", servers: 100000, read: Constant("3s"), write: Constant("2ms")),
        ])"#;
    let mut s = sim(aside, 9);
    s.step_until(30 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let c = cache_of(&r, "cache");
    assert_eq!(c.keys, 0, "{c:?}");
    assert_eq!(c.hits, 0);
    assert_eq!(r.end_to_end.completed, 0);
}

#[test]
fn read_through_single_flight_shares_one_fetch_per_expiry() {
    // One hot key, a 1 s TTL, a 100 ms database read: without coalescing,
    // every request in the 100 ms after an expiry reads the database (about
    // 50 per expiry); with it, one does and the rest wait for its answer.
    let text = |sf: bool| {
        read_through(
            &format!(", ttl: \"1s\", single_flight: {sf}"),
            "Constant(\"100ms\")",
            "",
            "Celebrity(keys: 1, share: 1.0)",
        )
    };
    let run = |sf: bool| {
        let mut s = sim(&text(sf), 12);
        s.step_until(60 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let (plain, sf) = (run(false), run(true));
    let (c0, c1) = (cache_of(&plain, "cache"), cache_of(&sf, "cache"));
    let (f0, f1) = (
        c0.read_through.unwrap().fetches,
        c1.read_through.unwrap().fetches,
    );
    // 60 s with a 1.1 s cycle (1 s TTL plus the fill): about 55 fetches.
    assert!((45..=60).contains(&f1), "single-flight fetches {f1}");
    assert!(f0 > 20 * f1, "fetches {f0} vs {f1}");
    assert_eq!(sf.nodes["db"].arrivals, f1);
    assert_eq!(c1.coalesced, c1.misses - f1);
    assert_eq!(c0.coalesced, 0);
    // Everyone is answered either way; coalesced waiters wait less.
    assert_eq!(plain.end_to_end.dropped + sf.end_to_end.dropped, 0);
}

#[test]
fn a_failed_fetch_fails_its_waiters_and_fills_nothing() {
    let text = read_through(
        ", single_flight: true",
        "Constant(\"20ms\")",
        "",
        "Uniform(keys: 5)",
    );
    let mut s = sim(&text, 13);
    s.apply(Change::Errors {
        node: "db".into(),
        rate: 1.0,
    })
    .unwrap();
    s.step_until(10 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let c = cache_of(&r, "cache");
    let rt = c.read_through.clone().unwrap();
    assert_eq!(c.keys, 0);
    // (A fetch or two may still be out at the end.)
    assert!(rt.fetches - rt.failed <= 3, "{rt:?}");
    assert!(c.coalesced > 100, "{c:?}");
    // Every request failed: the fetchers and their waiters.
    assert_eq!(r.end_to_end.completed, 0);
    assert_eq!(
        r.end_to_end.dropped,
        r.end_to_end.arrivals - r.end_to_end.in_flight
    );
}

#[test]
fn a_flush_keeps_fetches_in_flight_and_a_down_cache_comes_back_cold() {
    let text = read_through(
        ", single_flight: true",
        "Constant(\"500ms\")",
        "",
        "Uniform(keys: 50)",
    );
    let mut s = sim(&text, 14);
    s.step_until(10 * SEC).unwrap();
    let held = |s: &Simulation| cache_of(&s.report(), "cache").keys;
    assert_eq!(held(&s), 50);
    s.apply(Change::Flush("cache".into())).unwrap();
    assert_eq!(held(&s), 0);
    s.step_until(12 * SEC).unwrap();
    // Refilled by fetches; nobody failed.
    assert_eq!(held(&s), 50);
    assert_eq!(s.report().end_to_end.dropped, 0);
    s.apply(Change::Down("cache".into())).unwrap();
    s.step_until(13 * SEC).unwrap();
    s.apply(Change::Up("cache".into())).unwrap();
    assert_eq!(held(&s), 0);
    s.step_until(20 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    assert_eq!(cache_of(&r, "cache").keys, 50);
    assert!(r.end_to_end.dropped > 400, "{:?}", r.end_to_end.dropped);
}

#[test]
fn read_through_checks() {
    let err = |t: &str, what: &str| {
        let d = bottleneck::topology::load("rt.ron", t.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("expected an error for {t}"));
        assert!(
            d.items
                .iter()
                .any(|x| x.message.contains(what) && x.hint.is_some()),
            "no {what:?} in {d}"
        );
    };
    let base = read_through("", "Constant(\"1ms\")", "", "Uniform(keys: 5)");
    err(
        &base.replace("backend: \"db\"", "backend: \"cache\""),
        "its own `backend`",
    );
    err(&base.replace("backend: \"db\"", "backend: \"dbb\""), "dbb");
    // An app's CacheAside on a read-through cache would never see a miss.
    let aside = r#"Topology(name: "x", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 5))],
        nodes: [
            App(id: "app", workers: 4, service: Constant("1ms"), handle: {"*": [CacheAside(cache: "c", db: "db")]}),
            Cache(id: "c", capacity: 5, service: Constant("1ms"), backend: "db"),
            Database(id: "db", servers: 4, read: Constant("1ms"), write: Constant("1ms")),
        ])"#;
    err(aside, "read-through cache");
    // A backend that leads back to the cache would nest fetches for ever.
    let looped = r#"Topology(name: "x", sources: [Source(id: "u", to: "c", arrivals: Poisson(rps: 5))],
        nodes: [
            Cache(id: "c", capacity: 5, service: Constant("1ms"), backend: "lb"),
            LoadBalancer(id: "lb", policy: RoundRobin, to: ["c", "db"]),
            Database(id: "db", servers: 4, read: Constant("1ms"), write: Constant("1ms")),
        ])"#;
    err(looped, "calls loop");
    // Called by an app, the cache works as any other call target.
    let called = aside.replace("CacheAside(cache: \"c\", db: \"db\")", "Call(to: \"c\")");
    let l = bottleneck::topology::load("ok.ron", called.as_bytes()).unwrap();
    let mut s = Simulation::new(&l.model, RunConfig::default());
    s.step_until(20 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    // Without keys every request asks for the same one: one miss, then hits.
    let c = cache_of(&r, "c");
    assert_eq!(c.misses, 1);
    assert!(c.hits > 50, "{c:?}");
}

#[test]
fn cache_aside_may_read_replicas_through_a_balancer() {
    // The journey's stage 5 as written: on a miss, read a replica.
    let text = include_str!("../../../topologies/read-replicas.ron").replace(
        "[Read(db: \"replicas\")]",
        "[CacheAside(cache: \"redis\", db: \"replicas\")]",
    )
    .replace(
        "[Write(db: \"db\")]",
        "[Write(db: \"db\"), Invalidate(cache: \"redis\")]",
    )
    .replace(
        "LoadBalancer(id: \"replicas\"",
        "Cache(id: \"redis\", capacity: 500, service: Constant(\"100us\"), servers: 4),\n        LoadBalancer(id: \"replicas\"",
    );
    assert!(text.contains("CacheAside(cache: \"redis\", db: \"replicas\")"));
    let mut s = sim(&text, 15);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let c = cache_of(&r, "redis");
    let replica_reads = r.nodes["replica-1"].arrivals + r.nodes["replica-2"].arrivals;
    // Every miss read a replica (none read the primary, which only writes).
    assert!(c.misses > 1000 && c.hits > c.misses, "{c:?}");
    let db = &r.nodes["db"];
    assert!(
        replica_reads + 50 >= c.misses && replica_reads <= c.misses,
        "{replica_reads} vs {c:?}"
    );
    assert!(
        db.arrivals < r.end_to_end.arrivals / 5,
        "db {}",
        db.arrivals
    );
    // Writes must still reach a primary.
    let wt = text.replace(
        "[Write(db: \"db\"), Invalidate",
        "[WriteThrough(cache: \"redis\", db: \"replicas\"), Invalidate",
    );
    assert!(bottleneck::topology::load("wt.ron", wt.as_bytes()).is_err());
    // The overload warning knows the replicas rely on the cache.
    let hot = text.replace("Poisson(rps: 1000)", "Poisson(rps: 6000)");
    let l = bottleneck::topology::load("hot.ron", hot.as_bytes()).unwrap();
    assert!(
        l.warnings
            .items
            .iter()
            .any(|w| w.message.contains("replica-1") && w.message.contains("relies on the cache")),
        "{}",
        l.warnings
    );
}

#[test]
fn writes_go_through_a_read_through_cache_and_set_their_key() {
    // 10 keys, a cache that holds them all, no TTL: after the first read of
    // each key every read is a hit. Writes (half the traffic) are not
    // looked up: each goes on to the database as a write (20 ms) and sets
    // its key when done (audit s7 B19: they were answered as cached reads
    // and the database saw none).
    let t = |front: &str| {
        format!(
            r#"Topology(name: "rtw",
            sources: [Source(id: "u", to: "{front}", arrivals: Poisson(rps: 100), mix: {{"read": 0.5, "write": 0.5}}, keys: Uniform(keys: 10))],
            nodes: [
                App(id: "app", workers: 100, service: Constant("1ms"), handle: {{"*": [Call(to: "rc")]}}),
                Cache(id: "rc", capacity: 100, servers: 100, service: Constant("100us"), backend: "db"),
                Database(id: "db", servers: 100, read: Constant("2ms"), write: Constant("20ms")),
            ])"#
        )
    };
    for (front, extra) in [("rc", 0.0), ("app", 1.0)] {
        let mut s = sim(&t(front), 33);
        s.step_until(30 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let rt = r.nodes["rc"]
            .cache
            .as_ref()
            .unwrap()
            .read_through
            .clone()
            .unwrap();
        let writes = r.classes["write"].arrivals;
        assert!(writes > 1000, "{rt:?}");
        assert!(rt.writes.abs_diff(writes) <= 2, "{rt:?} of {writes}");
        // The database sees the writes, and no fetch: every key is held.
        assert!(rt.fetches <= 10, "{rt:?}");
        assert!(r.nodes["db"].arrivals.abs_diff(writes) <= 12, "{rt:?}");
        let p50 = |c: &str| r.classes[c].p50_ms.unwrap();
        assert!(
            (p50("write") - (20.1 + extra)).abs() < 0.05,
            "{}",
            p50("write")
        );
        assert!(
            (p50("read") - (0.1 + extra)).abs() < 0.05,
            "{}",
            p50("read")
        );
    }
}
