//! Thresholds on a read-through cache's fetch counters: `fetches`,
//! `failed_fetches`, `late_fills` and `shared_fetches`, windowed like the
//! other per-node counters, and the mistakes people make naming them.

use crate::common::model;
use bottleneck::scenario;

/// Ten keys read through a cache from a database that takes 3 s, by
/// clients that give up after 1 s: the first fetch of each key is answered
/// after its requester left (a late fill), and every read after that hits.
fn topology(single_flight: bool) -> String {
    format!(
        r#"Topology(name: "rt", sources: [Source(id: "u", to: "cache", arrivals: Poisson(rps: 500),
            keys: Uniform(keys: 10), client: Client(timeout: "1s"))],
        nodes: [
            Cache(id: "cache", capacity: 500, service: Constant("50us"), servers: 4, backend: "db",
                  single_flight: {single_flight}),
            Database(id: "db", servers: 100000, read: Constant("3s"), write: Constant("2ms")),
            Cache(id: "aside", capacity: 5, service: Constant("50us")),
        ])"#
    )
}

fn scenario(thresholds: &str, expect_fail: &str) -> scenario::Scenario {
    let text = format!(
        r#"Scenario(name: "rt", topology: "rt.ron", duration: "30s", warmup: "0s",
            thresholds: [{thresholds}], expect_fail: [{expect_fail}])"#
    );
    match scenario::parse_str("rt.scenario.ron", &text) {
        Ok(s) => s,
        Err(d) => panic!("{d}"),
    }
}

#[test]
fn read_through_counters_are_thresholds_windowed_by_difference() {
    // Single flight: one fetch per key, the other misses of the first 3 s
    // share it, and every fetch's requester had given up (1 s < 3 s).
    let m = model(&topology(true));
    let s = scenario(
        r#""fetches(cache) == 10", "late_fills(cache) == 10", "failed_fetches(cache) == 0",
           "shared_fetches(cache) > 1000",
           "fetches(cache) == 0 during 10s..", "late_fills(cache) == 0 during 10s..",
           "shared_fetches(cache) == 0 during 10s..""#,
        "",
    );
    let plan = s.plan(&m).unwrap();
    let o = scenario::run(&plan, &m, 3, false);
    let v: Vec<f64> = o.values.iter().map(|v| v.unwrap()).collect();
    assert_eq!(&v[..3], &[10.0, 10.0, 0.0], "{v:?}");
    // About 500 rps for the 3 s the fetches take, less the 10 fetches.
    assert!((1300.0..1700.0).contains(&v[3]), "{v:?}");
    // The whole run's counts (above) are all before 10 s: the window
    // differences the counters, it does not read their run totals.
    assert_eq!(&v[4..], &[0.0, 0.0, 0.0], "{v:?}");
    let c = o.report.nodes["cache"].cache.clone().unwrap();
    let rt = c.read_through.unwrap();
    assert_eq!(
        (rt.fetches, rt.late_fills, c.coalesced as f64),
        (10, 10, v[3])
    );
    assert!(scenario::judge(&s, std::slice::from_ref(&o)).as_expected());

    // Without single flight every miss of the first 3 s fetches, and a
    // threshold that holds with it fails, as the scenario expects.
    let m = model(&topology(false));
    let s = scenario(
        r#""fetches(cache) < 100", "late_fills(cache) < 100", "shared_fetches(cache) == 0",
           "fetches(cache) == 0 during 10s..""#,
        r#""fetches(cache) < 100", "late_fills(cache) < 100""#,
    );
    let o = scenario::run(&s.plan(&m).unwrap(), &m, 3, false);
    let v: Vec<f64> = o.values.iter().map(|v| v.unwrap()).collect();
    assert!(v[0] > 1000.0 && v[1] > 1000.0, "{v:?}");
    assert_eq!(&v[2..], &[0.0, 0.0], "{v:?}");
    let verdict = scenario::judge(&s, std::slice::from_ref(&o));
    assert!(verdict.as_expected());
    assert_eq!(verdict.rows.iter().filter(|r| r.passed).count(), 2);
}

#[test]
fn read_through_thresholds_name_a_read_through_cache() {
    let m = model(&topology(true));
    let e = scenario(
        r#""late_fills(db) == 0", "fetches(aside) == 0", "shared_fetches(cach) == 0""#,
        "",
    )
    .plan(&m)
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("`late_fills` applies to a read-through cache; `db` is a Database"),
        "{e}"
    );
    assert!(
        e.contains("`fetches` applies to a read-through cache; `aside` is a cache-aside Cache (no `backend`)")
            && e.contains("give `aside` a `backend`"),
        "{e}"
    );
    assert!(
        e.contains("`cach` is not a node") && e.contains("did you mean `cache`?"),
        "{e}"
    );
    // End to end it means nothing.
    let e = scenario::parse_str(
        "x.scenario.ron",
        r#"Scenario(name: "x", topology: "rt.ron", duration: "1m", thresholds: ["late_fills < 3"])"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("`late_fills` is measured per node; which node?"),
        "{e}"
    );
}
