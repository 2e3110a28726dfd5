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
