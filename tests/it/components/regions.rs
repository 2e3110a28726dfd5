//! Regions: latency between them, failover, partitions.

use super::*;

#[test]
fn a_partition_fails_calls_across_it_until_healed() {
    let text = include_str!("../../../topologies/lb-three-apps.ron");
    let mut s = sim(text, 25);
    s.step_until(10 * SEC).unwrap();
    // app-1 loses the database; the balancer loses app-2.
    s.apply(Change::Partition {
        a: "app-1".into(),
        b: "db".into(),
    })
    .unwrap();
    s.apply(Change::Partition {
        a: "lb".into(),
        b: "app-2".into(),
    })
    .unwrap();
    let before = s.report();
    s.step_until(30 * SEC).unwrap();
    let during = s.report();
    check_books(&during);
    let app1 = during.nodes["app-1"].errors - before.nodes["app-1"].errors;
    assert!(
        app1 > 1000,
        "app-1 errors {app1}: {:?}",
        during.nodes["app-1"]
    );
    // Health checks see app-2 as down and take it out (every 5 s, 2 misses).
    let lb = during.nodes["lb"].load_balancer.as_ref().unwrap();
    assert_eq!(lb.healthy, vec![true, false, true]);
    assert_eq!(
        during.nodes["app-2"].arrivals,
        before.nodes["app-2"].arrivals
    );
    s.apply(Change::Heal {
        a: "app-1".into(),
        b: "db".into(),
    })
    .unwrap();
    s.apply(Change::Heal {
        a: "lb".into(),
        b: "app-2".into(),
    })
    .unwrap();
    s.step_until(50 * SEC).unwrap();
    let after = s.report();
    assert_eq!(after.nodes["app-1"].errors, during.nodes["app-1"].errors);
    assert!(after.nodes["app-2"].arrivals > during.nodes["app-2"].arrivals + 1000);
    assert!(
        s.apply(Change::Partition {
            a: "lb".into(),
            b: "nope".into()
        })
        .is_err()
    );
}

#[test]
fn regions_add_latency_and_fail_over() {
    let text = include_str!("../../../topologies/two-regions.ron").replace(
        "Source(id: \"users-us\", to: \"geo\", arrivals: Poisson(rps: 500)),",
        "",
    );
    let text = text.replace(", sources: [\"users-us\"]", "");
    let mut s = sim(&text, 30);
    s.step_until(30 * SEC).unwrap();
    let local = s.report().end_to_end.mean_ms.unwrap();
    s.apply(Change::DownRegion("eu".into())).unwrap();
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    // Users keep being sent to Europe until two probes fail (by 4 s), then
    // to the US. Served from there, each request crosses twice: +80 ms.
    let failed: Vec<u64> = s.end_to_end_series().records().map(|w| w.dropped).collect();
    assert!(failed[31..33].iter().all(|&n| n > 100), "{failed:?}");
    assert!(failed[35..].iter().all(|&n| n == 0), "{failed:?}");
    let windows: Vec<f64> = s
        .end_to_end_series()
        .records()
        .skip(40)
        .filter_map(|w| w.p50_ms)
        .collect();
    let p50_after = windows.iter().sum::<f64>() / windows.len() as f64;
    assert!(
        p50_after > local + 70.0 && p50_after < local + 100.0,
        "{local} -> {p50_after}"
    );
    assert_eq!(
        r.nodes["geo"].load_balancer.as_ref().unwrap().healthy,
        vec![false, true]
    );
    assert!(s.apply(Change::DownRegion("mars".into())).is_err());
}

#[test]
fn a_caller_outside_every_region_pays_the_round_trip() {
    // Users in `eu`, the app in no region (so where its users are), the
    // database in `us`, 40 ms one way; every service 1 ms, constant. A
    // request: app 1 ms + call 40 ms + db 1 ms + answer 40 ms = 82 ms, the
    // same as with the app placed in `eu` (audit s7 B5: the answer back to
    // the app was free, 42 ms).
    let t = |app_region: &str| {
        format!(
            r#"Topology(name: "rg",
            sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 10))],
            nodes: [
                App(id: "app", workers: 64, service: Constant("1ms"), handle: {{"*": [Read(db: "db")]}}),
                Database(id: "db", servers: 16, read: Constant("1ms"), write: Constant("1ms")),
            ],
            regions: [Region(id: "eu", nodes: [{app_region}], sources: ["u"]), Region(id: "us", nodes: ["db"])],
            links: [Link(a: "eu", b: "us", latency: "40ms")])"#
        )
    };
    for app in ["", "\"app\""] {
        let mut s = sim(&t(app), 31);
        s.step_until(20 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let e = &r.end_to_end;
        for v in [e.p50_ms, e.max_ms] {
            assert!((v.unwrap() - 82.0).abs() < 0.5, "app in [{app}]: {e:?}");
        }
    }
}

/// Where a generated node sits: in `r1` (the users' region), in `r2`, or
/// in none (then it calls from its users' region and is reached at once).
fn placed(r: u8) -> Option<&'static str> {
    [Some("r1"), Some("r2"), None][r as usize % 3]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Every way an app waits on another node (a `Call`, a `Read`, a
    /// `FanOut` of any width) pays the link both ways, by one rule: a call
    /// from region A to a node in region B takes latency(A, B) there and
    /// the same back; a node in no region calls from its users' region and
    /// is reached at once. With constant services and no waiting, every
    /// request takes exactly the services plus those round trips (audit s7:
    /// a fan-out's legs crossed the ocean for free).
    #[test]
    fn every_call_path_pays_the_link_both_ways(
        app_at in 0u8..3,
        leaf_at in 0u8..3,
        how in 0u8..3,
        legs in 1u16..6,
        ms in 1u64..60,
    ) {
        let step = match how {
            0 => r#"Call(to: "leaf")"#.to_string(),
            1 => r#"Read(db: "leaf")"#.to_string(),
            _ => format!(r#"FanOut(to: "leaf", count: {legs})"#),
        };
        let leaf = if how == 1 {
            r#"Database(id: "leaf", servers: 64, read: Constant("2ms"), write: Constant("2ms"))"#
        } else {
            r#"Station(id: "leaf", servers: 64, service: Constant("2ms"))"#
        };
        let (app_r, leaf_r) = (placed(app_at), placed(leaf_at));
        let members = |r: &str| {
            [("app", app_r), ("leaf", leaf_r)]
                .iter()
                .filter(|(_, at)| *at == Some(r))
                .map(|(id, _)| format!("\"{id}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let text = format!(
            r#"Topology(name: "rt",
            sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 20))],
            nodes: [
                App(id: "app", workers: 64, service: Constant("1ms"), handle: {{"*": [{step}]}}),
                {leaf},
            ],
            regions: [Region(id: "r1", nodes: [{}], sources: ["u"]), Region(id: "r2", nodes: [{}])],
            links: [Link(a: "r1", b: "r2", latency: "{ms}ms")])"#,
            members("r1"),
            members("r2"),
        );
        // One-way latency from a caller's region to a node's.
        let one_way = |from: &str, to: Option<&str>| match to {
            Some(t) if t != from => ms as f64,
            _ => 0.0,
        };
        let app_from = app_r.unwrap_or("r1");
        let want = 1.0 + 2.0
            + 2.0 * one_way("r1", app_r)
            + 2.0 * one_way(app_from, leaf_r);
        let mut s = sim(&text, 7);
        s.step_until(10 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let e = &r.end_to_end;
        proptest::prop_assert!(e.completed > 100, "{e:?}");
        for v in [e.p50_ms, e.max_ms] {
            proptest::prop_assert!(
                (v.unwrap() - want).abs() < 0.5,
                "{step}, app in {app_r:?}, leaf in {leaf_r:?}, {ms} ms: want {want}, got {e:?}"
            );
        }
    }
}
