//! Object store: a rate per key prefix, wide concurrency, and a CDN in front.

use super::*;

fn store(rps: u32, keys: &str, store: &str, cdn: bool) -> String {
    let (to, edge) = if cdn {
        (
            "cdn",
            r#"Cdn(id: "cdn", origin: "store", capacity: 10_000, ttl: "1h", cacheable: ["get"], service: Constant("2ms")),"#,
        )
    } else {
        ("store", "")
    };
    format!(
        r#"Topology(name: "objects", sources: [Source(id: "u", to: "{to}", arrivals: Poisson(rps: {rps}), mix: {{"get": 1.0}}, keys: {keys})],
        nodes: [
            {edge}
            ObjectStore(id: "store", service: Exponential(mean: "40ms"), {store}),
        ])"#
    )
}

fn run(text: &str) -> Report {
    let mut s = sim(text, 21);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    r
}

#[test]
fn one_prefix_serves_its_rate_and_throttles_the_rest() {
    let r = run(&store(
        12_000,
        "Uniform(keys: 1_000_000)",
        "rate: 5500",
        false,
    ));
    let n = &r.nodes["store"];
    let secs = r.measured_s;
    let served = n.completed as f64 / secs;
    assert!((served - 5_500.0).abs() < 5_500.0 * 0.02, "{served}/s");
    assert_eq!(n.rejected.unwrap(), n.dropped);
    // Everything it does not throttle it serves at once: wide concurrency,
    // no queue, latency is the service time (an infinite-server queue).
    assert_eq!(n.mean_queue_len, 0.0);
    assert!((n.utilization * 10_000.0 - served * 0.040).abs() < 0.05 * served * 0.040);
}

#[test]
fn prefixes_spread_uniform_keys_and_a_hot_key_still_throttles_its_own() {
    let spread = run(&store(
        12_000,
        "Uniform(keys: 1_000_000)",
        "rate: 5500, prefixes: 4",
        false,
    ));
    assert_eq!(spread.nodes["store"].rejected, Some(0));
    // Half the requests for one key: its prefix gets 6,000 + 6,000/16 a
    // second, 875 over the rate; the other fifteen are far below theirs.
    // The prefix's bucket starts full (one second of its rate), which
    // absorbs the first 5,500 of the excess.
    let hot = run(&store(
        12_000,
        "Celebrity(keys: 1_000_000, share: 0.5)",
        "rate: 5500, prefixes: 16",
        false,
    ));
    let n = &hot.nodes["store"];
    let share = n.rejected.unwrap() as f64 / n.arrivals as f64;
    let secs = hot.measured_s;
    let expected = (875.0 * secs - 5_500.0) / (12_000.0 * secs);
    assert!(
        (share - expected).abs() < 0.004,
        "{share} against {expected}"
    );
}

#[test]
fn a_cdn_in_front_ends_the_throttling() {
    let keys = "Celebrity(keys: 1_000_000, share: 0.5)";
    let bare = run(&store(12_000, keys, "rate: 5500, prefixes: 16", false));
    let fronted = run(&store(12_000, keys, "rate: 5500, prefixes: 16", true));
    assert!(bare.end_to_end.dropped > 10_000);
    assert_eq!(fronted.nodes["store"].rejected, Some(0));
    assert!(fronted.nodes["store"].arrivals < bare.nodes["store"].arrivals / 2);
}

#[test]
fn the_store_is_refused_where_it_makes_no_sense() {
    let bad = store(
        100,
        "Uniform(keys: 10)",
        "rate: 0, prefixes: 0, concurrency: 0",
        false,
    );
    let e = bottleneck::topology::load_str("t.ron", &bad)
        .err()
        .unwrap()
        .to_string();
    for word in ["`rate` is 0", "prefixes", "concurrency"] {
        assert!(e.contains(word), "{word} in {e}");
    }
}
