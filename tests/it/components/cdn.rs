//! CDN: edge hits and failover to the origin.

use super::*;

#[test]
fn a_cdn_serves_hits_at_the_edge_and_fails_over_to_the_origin() {
    let text = include_str!("../../../topologies/cdn.ron");
    let mut s = sim(text, 12);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let cdn = &r.nodes["cdn"];
    let c = cdn.cache.as_ref().unwrap();
    // Only misses and uncacheable requests reach the origin.
    let api = r.nodes["app-1"].arrivals + r.nodes["app-2"].arrivals - c.misses;
    assert_eq!(r.nodes["lb"].arrivals, c.misses + api);
    assert!(c.hit_ratio.unwrap() > 0.8, "{:?}", c.hit_ratio);
    assert!((api as f64 / cdn.arrivals as f64 - 0.3).abs() < 0.01);
    // Down: everything goes to the origin and is still answered.
    let before = s.report().nodes["lb"].arrivals;
    s.apply(Change::Down("cdn".into())).unwrap();
    s.step_until(62 * SEC).unwrap();
    let r = s.report();
    let to_origin = r.nodes["lb"].arrivals - before;
    assert!((to_origin as f64 - 10_000.0).abs() < 500.0, "{to_origin}");
    check_books(&r);
}
